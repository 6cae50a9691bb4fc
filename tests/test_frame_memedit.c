/* Edits of memory frames: replaced bytes are reclaimed lazily (once they outgrow the used ones)
 * and at serialisation, so n updates copy O(n) bytes instead of the whole chunk area each time.
 * Checks that, after many updates, inserts and deletes in random order:
 * - every chunk decodes to the model's data at every step;
 * - tersa_schunk_cbytes always equals the serialised (compacted) chunk area;
 * - the serialised frame is byte for byte the frame built by appending the final chunks in
 *   order, and reopens;
 * - the chunk area never holds more than about twice the used bytes (amortised reclaiming). */
#include "frame/tersa_frame_internal.h"
#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_frame.h"

#define NB 8192 /* bytes per chunk */
#define MAXC 64

typedef struct model {
    int n;
    uint32_t seed[MAXC];
} model;

static void gen(uint8_t *p, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 1;
    for (int k = 0; k < NB; k++) {
        s = s * 1103515245u + 12345u;
        p[k] = (uint8_t)(k % 64 < 40 ? seed : s >> 24); /* compressible, size varies */
    }
}

static tersa_cctx *g_cctx;

static uint8_t *chunk_of(uint32_t seed, size_t *len)
{
    uint8_t raw[NB];
    gen(raw, seed);
    size_t cap = tersa_compress_bound(NB);
    uint8_t *c = malloc(cap);
    int64_t n = c ? tersa_compress(g_cctx, raw, NB, c, cap) : -1;
    CHECK(n > 0);
    *len = n > 0 ? (size_t)n : 0;
    return c;
}

static tersa_schunk *new_memory_frame(void)
{
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_MEMORY,
                             .cparams = g_cctx};
    tersa_schunk *s = tersa_schunk_create(&p);
    CHECK(s != NULL);
    return s;
}

static void check_all(tersa_schunk *s, const model *m)
{
    uint8_t want[NB], got[NB];
    CHECK_EQ(tersa_schunk_nchunks(s), m->n);
    for (int i = 0; i < m->n; i++) {
        gen(want, m->seed[i]);
        CHECK_EQ(tersa_schunk_decompress_chunk(s, i, got, sizeof got), NB);
        if (memcmp(want, got, NB) != 0) {
            TH_FAIL_AT("chunk %d differs from the model", i);
            return;
        }
    }
}

/* One random edit; returns false when the edit failed. */
static bool edit(tersa_schunk *s, model *m, uint32_t *rng, uint32_t k)
{
    *rng = *rng * 1664525u + 1013904223u;
    int op = (int)(*rng >> 28) % 4, at = m->n ? (int)((*rng >> 8) % (uint32_t)m->n) : 0;
    size_t len = 0;
    uint8_t *c = chunk_of(k, &len);
    int64_t rc;
    if (m->n < 4 || (op == 0 && m->n < MAXC)) { /* insert */
        rc = tersa_schunk_insert_chunk(s, at, c, len);
        memmove(&m->seed[at + 1], &m->seed[at], (size_t)(m->n - at) * sizeof m->seed[0]);
        m->seed[at] = k;
        m->n++;
    } else if (op == 1 && m->n > 8) { /* delete */
        rc = tersa_schunk_delete_chunk(s, at);
        memmove(&m->seed[at], &m->seed[at + 1], (size_t)(m->n - at - 1) * sizeof m->seed[0]);
        m->n--;
    } else { /* update */
        rc = tersa_schunk_update_chunk(s, at, c, len);
        m->seed[at] = k;
    }
    free(c);
    CHECK(rc >= 0);
    return rc >= 0;
}

static int64_t area_of_rebuilt(const model *m, uint8_t **frame, int64_t *flen)
{
    tersa_schunk *r = new_memory_frame();
    for (int i = 0; r && i < m->n; i++) {
        size_t len = 0;
        uint8_t *c = chunk_of(m->seed[i], &len);
        CHECK_OK(tersa_schunk_append_chunk(r, c, len));
        free(c);
    }
    *flen = r ? tersa_schunk_frame_len(r) : -1;
    *frame = *flen > 0 ? malloc((size_t)*flen) : NULL;
    if (*frame) CHECK_EQ(tersa_schunk_to_buffer(r, *frame, (size_t)*flen), *flen);
    int64_t cb = r ? tersa_schunk_cbytes(r) : -1;
    tersa_schunk_free(r);
    return cb;
}

static void test_random_edits(void)
{
    tersa_schunk *s = new_memory_frame();
    if (!s) return;
    model m = {0};
    uint32_t rng = 7;
    int64_t max_ratio_x100 = 0;
    for (uint32_t k = 1; k <= 1500; k++) {
        if (!edit(s, &m, &rng, k)) break;
        if (k % 97 == 0) check_all(s, &m);
        int64_t live = tersa_schunk_cbytes(s);
        if (live > 0 && s->cbytes * 100 / live > max_ratio_x100) max_ratio_x100 = s->cbytes * 100 / live;
    }
    check_all(s, &m);
    uint8_t *want = NULL;
    int64_t wlen = 0, wcb = area_of_rebuilt(&m, &want, &wlen);
    CHECK_EQ(tersa_schunk_cbytes(s), wcb); /* before serialising */
    int64_t flen = tersa_schunk_frame_len(s);
    CHECK_EQ(flen, wlen);
    uint8_t *got = flen > 0 ? malloc((size_t)flen) : NULL;
    if (got && want && flen == wlen) {
        CHECK_EQ(tersa_schunk_to_buffer(s, got, (size_t)flen), flen);
        CHECK_MEM(got, want, (size_t)flen);
        tersa_schunk *back = tersa_schunk_open_buffer(got, (size_t)flen, 0);
        if (back) check_all(back, &m);
        CHECK(back != NULL);
        tersa_schunk_free(back);
    }
    printf("memory frame, 1500 random edits of %d chunks at most: chunk area at most %.2fx the "
           "used bytes\n", MAXC, (double)max_ratio_x100 / 100);
    CHECK(max_ratio_x100 <= 210); /* reclaimed once unused bytes exceed used ones */
    free(got);
    free(want);
    tersa_schunk_free(s);
}

/* Compaction on demand: tersa_schunk_compact of a memory frame with unused bytes. */
static void test_compact(void)
{
    tersa_schunk *s = new_memory_frame();
    if (!s) return;
    model m = {0};
    for (int i = 0; i < 10; i++) {
        size_t len = 0;
        uint8_t *c = chunk_of((uint32_t)i + 100, &len);
        CHECK_OK(tersa_schunk_append_chunk(s, c, len));
        m.seed[m.n++] = (uint32_t)i + 100;
        free(c);
    }
    size_t len = 0;
    uint8_t *c = chunk_of(999, &len);
    CHECK_OK(tersa_schunk_update_chunk(s, 3, c, len));
    m.seed[3] = 999;
    free(c);
    int64_t live = tersa_schunk_cbytes(s);
    CHECK(s->cbytes > live); /* the old chunk 3 is still there ... */
    CHECK_OK(tersa_schunk_compact(s));
    CHECK_EQ(s->cbytes, live); /* ... until compacted */
    check_all(s, &m);
    tersa_schunk_free(s);
}

int main(void)
{
    g_cctx = tersa_cctx_create();
    tersa_cctx_set(g_cctx, TERSA_P_TYPESIZE, 4);
    tersa_cctx_set(g_cctx, TERSA_P_CODEC, TERSA_CODEC_LZ4);
    test_random_edits();
    test_compact();
    tersa_cctx_free(g_cctx);
    return th_report("frame_memedit");
}

/* Splitting and merging frames by chunk, and compaction.
 *
 * extract: chunks [a, b) of a frame (memory, file or sparse) into a new one of any storage;
 * the compressed bytes of every chunk are the source's, byte for byte; metalayers and
 * vlmetalayers come along. concat: the parts of a split put back together give the source's
 * decoded contents and, for memory frames, the very same frame bytes; a frame concatenated
 * with itself doubles. Frames with different parameters are refused with the difference
 * named. compact: a file frame loses the bytes updates and deletes left, a sparse frame its
 * unused chunk files; contents stay and the schunk keeps working. */
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"
#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_frame.h"

#define CS 12000
#define N 10

static char dir[128];
static const char *kind_name[] = {"memory", "file", "sparse"};

static void rm_rf(const char *path)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", path);
}

static void gen(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed + 1;
    int32_t v = (int32_t)seed;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        v += (int32_t)(th_rand(&s) % 5) - 2;
        memcpy(p + i, &v, 4);
    }
}

static tersa_cctx *make_cctx(int codec)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_TYPESIZE, 4);
    tersa_cctx_set(c, TERSA_P_CODEC, codec);
    return c;
}

static tersa_schunk *create(int storage, const char *tag, tersa_cctx *c)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s-%s", dir, tag, kind_name[storage]);
    tersa_metalayer m = {"shape", "\x01\x02\x03", 3};
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = storage, .path = path,
                             .overwrite = 1, .cparams = c, .nmetalayers = 1, .metalayers = &m};
    tersa_schunk *s = tersa_schunk_create(&p);
    CHECK(s != NULL);
    return s;
}

/* N chunks: chunk 4 special zeros, the last one short. */
static tersa_schunk *source(int storage, tersa_cctx *c)
{
    tersa_schunk *s = create(storage, "src", c);
    uint8_t buf[CS], zero[64];
    int64_t zl = tersa_chunk_make_special(TERSA_SPECIAL_ZEROS, 4, CS, NULL, zero, sizeof zero);
    for (int i = 0; s && i < N; i++) {
        gen(buf, CS, (uint64_t)i);
        if (i == 4) CHECK_OK(tersa_schunk_append_chunk(s, zero, (size_t)zl));
        else CHECK_OK(tersa_schunk_append_buffer(s, buf, i == N - 1 ? CS / 2 : CS));
    }
    if (s) CHECK_OK(tersa_schunk_vlmeta_set(s, "attrs", "{\"units\": \"m\"}", 14, NULL));
    return s;
}

/* Chunk i of a equals chunk j of b: compressed bytes and decoded bytes. */
static void same_chunk(tersa_schunk *a, int64_t i, tersa_schunk *b, int64_t j)
{
    int64_t la = tersa_schunk_get_chunk(a, i, NULL, 0), lb = tersa_schunk_get_chunk(b, j, NULL, 0);
    CHECK_EQ(la, lb);
    if (la <= 0 || la != lb) return;
    uint8_t *ca = malloc((size_t)la), *cb = malloc((size_t)lb), da[CS], db[CS];
    CHECK_EQ(tersa_schunk_get_chunk(a, i, ca, (size_t)la), la);
    CHECK_EQ(tersa_schunk_get_chunk(b, j, cb, (size_t)lb), lb);
    CHECK_MEM(ca, cb, (size_t)la);
    int64_t na = tersa_schunk_decompress_chunk(a, i, da, CS);
    CHECK_EQ(tersa_schunk_decompress_chunk(b, j, db, CS), na);
    if (na > 0) CHECK_MEM(da, db, (size_t)na);
    free(ca);
    free(cb);
}

static void same_metas(tersa_schunk *a, tersa_schunk *b)
{
    const uint8_t *x = NULL, *y = NULL;
    size_t lx = 0, ly = 0;
    char vx[64] = {0}, vy[64] = {0};
    CHECK_EQ(tersa_schunk_meta_get(a, "shape", &x, &lx), 0);
    CHECK_EQ(tersa_schunk_meta_get(b, "shape", &y, &ly), 0);
    CHECK(lx == ly && x && y && memcmp(x, y, lx) == 0);
    CHECK_EQ(tersa_schunk_vlmeta_get(a, "attrs", vx, sizeof vx), 14);
    CHECK_EQ(tersa_schunk_vlmeta_get(b, "attrs", vy, sizeof vy), 14);
    CHECK_STR(vx, vy);
}

static uint8_t *frame_bytes(tersa_schunk *s, int64_t *len)
{
    *len = tersa_schunk_frame_len(s);
    uint8_t *b = malloc(*len > 0 ? (size_t)*len : 1);
    CHECK_EQ(tersa_schunk_to_buffer(s, b, (size_t)*len), *len);
    return b;
}

static tersa_schunk *extract(tersa_schunk *s, int64_t a, int64_t n, int storage, const char *tag)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s-%s", dir, tag, kind_name[storage]);
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = storage, .path = path,
                             .overwrite = 1};
    tersa_schunk *d = tersa_schunk_extract(s, a, n, &p);
    if (!d) TH_FAIL_AT("extract [%" PRId64 ", +%" PRId64 ") to %s: %s", a, n, kind_name[storage],
                       tersa_error_detail());
    return d;
}

/* Split a source of one storage into three parts of three storages; merge them back. */
static void split_merge(int from, int to, tersa_cctx *c)
{
    tersa_schunk *s = source(from, c);
    if (!s) return;
    int64_t cut[4] = {0, 3, 7, N};
    tersa_schunk *part[3];
    for (int k = 0; k < 3; k++) {
        char tag[16];
        snprintf(tag, sizeof tag, "part%d", k);
        part[k] = extract(s, cut[k], cut[k + 1] - cut[k], (to + k) % 3, tag);
        if (!part[k]) return;
        CHECK_EQ(tersa_schunk_nchunks(part[k]), cut[k + 1] - cut[k]);
        for (int64_t i = cut[k]; i < cut[k + 1]; i++) same_chunk(s, i, part[k], i - cut[k]);
        same_metas(s, part[k]);
    }
    CHECK_EQ(tersa_schunk_chunksize(part[0]), CS);
    tersa_schunk *m = extract(part[0], 0, 3, to, "merged");
    for (int k = 1; m && k < 3; k++) CHECK_EQ(tersa_schunk_concat(m, part[k]), cut[k + 1]);
    if (m) {
        for (int64_t i = 0; i < N; i++) same_chunk(s, i, m, i);
        same_metas(s, m);
        CHECK_EQ(tersa_schunk_chunksize(m), CS);
        CHECK_EQ(tersa_schunk_nbytes(m), tersa_schunk_nbytes(s));
        int64_t la = 0, lb = 0;
        uint8_t *fa = frame_bytes(s, &la), *fb = frame_bytes(m, &lb);
        CHECK_EQ(la, lb); /* the same frame, byte for byte */
        if (la == lb) CHECK_MEM(fa, fb, (size_t)la);
        free(fa);
        free(fb);
    }
    tersa_schunk_free(m);
    for (int k = 0; k < 3; k++) tersa_schunk_free(part[k]);
    tersa_schunk_free(s);
}

static void test_self_and_edges(tersa_cctx *c)
{
    tersa_schunk *s = source(TERSA_STORAGE_FILE, c);
    if (!s) return;
    tersa_schunk *e = extract(s, 0, 0, TERSA_STORAGE_MEMORY, "empty");
    CHECK(e && tersa_schunk_nchunks(e) == 0);
    CHECK_EQ(tersa_schunk_concat(e, s), N); /* into an empty frame */
    for (int64_t i = 0; e && i < N; i++) same_chunk(s, i, e, i);
    tersa_schunk_free(e);
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_MEMORY};
    CHECK(tersa_schunk_extract(s, 8, 3, &p) == NULL);
    CHECK_EQ(tersa_error_name(TERSA_ERR_RANGE)[0], 'r');
    CHECK(tersa_schunk_extract(s, -1, 1, &p) == NULL);
    CHECK(tersa_schunk_extract(NULL, 0, 1, &p) == NULL);
    /* Self-concatenation of a frame whose last chunk is short: refused (would turn variable). */
    CHECK_ERR(tersa_schunk_concat(s, s), TERSA_ERR_PARAM);
    CHECK(strstr(tersa_error_detail(), "short") != NULL);
    CHECK_OK(tersa_schunk_delete_chunk(s, N - 1));
    CHECK_EQ(tersa_schunk_concat(s, s), 2 * (N - 1));
    for (int64_t i = 0; i < N - 1; i++) same_chunk(s, i, s, i + N - 1);
    tersa_schunk_free(s);
    char path[256];
    snprintf(path, sizeof path, "%s/src-file", dir);
    s = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK_EQ(tersa_schunk_nchunks(s), 2 * (N - 1));
    CHECK_ERR(tersa_schunk_concat(s, s), TERSA_ERR_STATE);
    CHECK_ERR(tersa_schunk_concat(s, NULL), TERSA_ERR_STATE);
    tersa_schunk_free(s);
}

/* Different parameters are named; chunk sizes must keep a fixed-size frame fixed. */
static void test_mismatch(tersa_cctx *c)
{
    tersa_cctx *z = make_cctx(TERSA_CODEC_ZSTD), *t8 = make_cctx(TERSA_CODEC_LZ4);
    tersa_cctx_set(t8, TERSA_P_TYPESIZE, 8);
    tersa_schunk *a = create(TERSA_STORAGE_MEMORY, "a", c), *b = create(TERSA_STORAGE_MEMORY, "b", z);
    tersa_schunk *t = create(TERSA_STORAGE_MEMORY, "t", t8), *d = create(TERSA_STORAGE_MEMORY, "d", c);
    uint8_t buf[CS];
    gen(buf, CS, 1);
    CHECK_OK(tersa_schunk_append_buffer(a, buf, CS));
    CHECK_OK(tersa_schunk_append_buffer(b, buf, CS));
    CHECK_OK(tersa_schunk_append_buffer(t, buf, CS));
    CHECK_OK(tersa_schunk_append_buffer(d, buf, CS / 2 + 4));
    CHECK_ERR(tersa_schunk_concat(a, b), TERSA_ERR_PARAM);
    CHECK(strstr(tersa_error_detail(), "codec") != NULL);
    CHECK_ERR(tersa_schunk_concat(a, t), TERSA_ERR_PARAM);
    CHECK(strstr(tersa_error_detail(), "typesize") != NULL);
    CHECK_ERR(tersa_schunk_concat(a, d), TERSA_ERR_PARAM);
    CHECK(strstr(tersa_error_detail(), "chunksize") != NULL);
    CHECK_EQ(tersa_schunk_nchunks(a), 1); /* refused before anything changed */
    CHECK_EQ(tersa_schunk_append_buffer(a, buf, CS), 2);
    CHECK_ERR(tersa_schunk_concat(d, a), TERSA_ERR_PARAM); /* d's chunksize is CS / 2 + 4 */
    CHECK_EQ(tersa_schunk_append_buffer(d, buf, CS), 2);   /* a larger chunk: variable-size */
    CHECK_EQ(tersa_schunk_chunksize(d), 0);
    CHECK_EQ(tersa_schunk_concat(d, a), 4); /* a variable-size frame takes any chunk */
    tersa_schunk_free(a);
    tersa_schunk_free(b);
    tersa_schunk_free(t);
    tersa_schunk_free(d);
    tersa_cctx_free(z);
    tersa_cctx_free(t8);
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void test_compact(tersa_cctx *c)
{
    char path[256], orphan[300];
    tersa_schunk *s = source(TERSA_STORAGE_FILE, c);
    tersa_schunk *ref = source(TERSA_STORAGE_MEMORY, c);
    if (!s || !ref) return;
    snprintf(path, sizeof path, "%s/src-file", dir);
    uint8_t buf[CS], chunk[CS + 64];
    for (int k = 0; k < 5; k++) { /* updates and deletes leave unused bytes */
        gen(buf, CS, 100 + (uint64_t)k);
        int64_t cl = tersa_compress(tersa_schunk_cctx(s), buf, CS, chunk, sizeof chunk);
        CHECK_OK(tersa_schunk_update_chunk(s, k, chunk, (size_t)cl));
        CHECK_OK(tersa_schunk_update_chunk(ref, k, chunk, (size_t)cl));
    }
    CHECK_OK(tersa_schunk_delete_chunk(s, 6));
    CHECK_OK(tersa_schunk_delete_chunk(ref, 6));
    int64_t before = file_size(path), lref = 0;
    CHECK_OK(tersa_schunk_compact(s));
    int64_t after = file_size(path);
    uint8_t *fref = frame_bytes(ref, &lref);
    CHECK_EQ(after, lref); /* no unused byte left: the memory frame's size */
    printf("compact: file frame %" PRId64 " -> %" PRId64 " bytes\n", before, after);
    for (int64_t i = 0; i < N - 1; i++) same_chunk(ref, i, s, i);
    CHECK_OK(tersa_schunk_append_buffer(s, buf, CS / 2)); /* still writable, on the new file */
    tersa_schunk_free(s);
    s = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK_EQ(tersa_schunk_nchunks(s), N);
    for (int64_t i = 0; s && i < N - 1; i++) same_chunk(ref, i, s, i);
    tersa_schunk_free(s);
    free(fref);
    tersa_schunk_free(ref);

    /* Sparse: a chunk file no entry uses (as a crash leaves it) is removed. */
    s = source(TERSA_STORAGE_SPARSE, c);
    snprintf(orphan, sizeof orphan, "%s/src-sparse/000000FF.chunk", dir);
    FILE *f = fopen(orphan, "wb");
    fputs("left by a crash", f);
    fclose(f);
    CHECK_OK(tersa_schunk_compact(s));
    CHECK_EQ(access(orphan, F_OK), -1);
    for (int64_t i = 0; s && i < N; i++) {
        uint8_t out[CS];
        CHECK(tersa_schunk_decompress_chunk(s, i, out, CS) > 0);
    }
    tersa_schunk_free(s);
}

int main(void)
{
    snprintf(dir, sizeof dir, "test_frame_split_%d.dir", (int)getpid());
    rm_rf(dir);
    if (mkdir(dir, 0777) != 0) return 1;
    tersa_cctx *c = make_cctx(TERSA_CODEC_LZ4);
    for (int from = 0; from < 3; from++)
        for (int to = 0; to < 3; to++) split_merge(from, to, c);
    test_self_and_edges(c);
    test_mismatch(c);
    test_compact(c);
    tersa_cctx_free(c);
    if (!th_failures) rm_rf(dir);
    return th_report("frame_split");
}

/* Frames tersa writes: memory, file and sparse storage give the same bytes for the same
 * operations; they reopen with the same chunks, metalayers and vlmetalayers; the header layout
 * matches C-Blosc2's byte for byte; random append/insert/update/delete sequences agree with a
 * model; lazy reads of file frames read only the blocks they need; bad calls fail cleanly. */
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"
#include "harness.h"
#include "th_manifest.h"
#include "tersa/tersa.h"
#include "tersa/tersa_frame.h"

static const char *kind_name[] = {"memory", "file", "sparse"};

static void tmp_path(char *out, size_t n, const char *tag, int storage)
{
    snprintf(out, n, "test_frame_write_%d_%s_%s.b2frame", (int)getpid(), tag, kind_name[storage]);
}

static void remove_path(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", path);
}

/* Smooth int32 data with some noise. */
static void gen(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 2654435761u + 1;
    int32_t v = (int32_t)seed;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        v += (int32_t)(th_rand(&s) % 7) - 3;
        memcpy(p + i, &v, 4);
    }
    for (size_t i = n & ~(size_t)3; i < n; i++) p[i] = (uint8_t)th_rand(&s);
}

/* ---- A model of the chunks a schunk should hold --------------------------------------- */

#define MAXCH 1024
typedef struct model {
    int n;
    uint8_t *data[MAXCH];
    int32_t len[MAXCH];
} model;

static void model_free(model *m)
{
    for (int i = 0; i < m->n; i++) free(m->data[i]);
    m->n = 0;
}

/* The decoded contents of a compressed chunk, as a model entry. */
static void model_put(model *m, int at, const uint8_t *chunk, size_t clen, bool insert)
{
    tersa_chunk_info info = {.struct_size = sizeof info};
    tersa_dctx *d = tersa_dctx_create();
    CHECK_OK(tersa_chunk_inspect(chunk, clen, &info));
    uint8_t *out = malloc((size_t)info.nbytes + 1);
    CHECK_EQ(tersa_decompress(d, chunk, clen, out, (size_t)info.nbytes), info.nbytes);
    tersa_dctx_free(d);
    if (insert) {
        memmove(&m->data[at + 1], &m->data[at], (size_t)(m->n - at) * sizeof m->data[0]);
        memmove(&m->len[at + 1], &m->len[at], (size_t)(m->n - at) * sizeof m->len[0]);
        m->n++;
    } else {
        free(m->data[at]);
    }
    m->data[at] = out;
    m->len[at] = info.nbytes;
}

static void model_del(model *m, int at)
{
    free(m->data[at]);
    memmove(&m->data[at], &m->data[at + 1], (size_t)(m->n - at - 1) * sizeof m->data[0]);
    memmove(&m->len[at], &m->len[at + 1], (size_t)(m->n - at - 1) * sizeof m->len[0]);
    m->n--;
}

static int64_t model_nbytes(const model *m)
{
    int64_t t = 0;
    for (int i = 0; i < m->n; i++) t += m->len[i];
    return t;
}

static void verify_chunk(tersa_schunk *s, const model *m, int i)
{
    uint8_t *out = malloc((size_t)m->len[i] + 1);
    int64_t got = tersa_schunk_decompress_chunk(s, i, out, (size_t)m->len[i]);
    CHECK_EQ(got, m->len[i]);
    if (got != m->len[i]) fprintf(stderr, "  chunk %d: %s\n", i, tersa_error_detail());
    else CHECK_MEM(out, m->data[i], (size_t)m->len[i]);
    free(out);
}

/* Whole contents plus a slice across chunk boundaries. */
static void verify(tersa_schunk *s, const model *m, uint64_t *rng)
{
    if (!s) {
        TH_FAIL_AT("verify: no schunk (%s)", tersa_error_detail());
        return;
    }
    CHECK_EQ(tersa_schunk_nchunks(s), m->n);
    CHECK_EQ(tersa_schunk_nbytes(s), model_nbytes(m));
    if (tersa_schunk_nchunks(s) != m->n) return;
    for (int i = 0; i < m->n; i++) verify_chunk(s, m, i);
    int64_t total = model_nbytes(m);
    if (total == 0) return;
    uint8_t *all = malloc((size_t)total), *got = malloc((size_t)total);
    for (int i = 0, pos = 0; i < m->n; pos += m->len[i], i++) memcpy(all + pos, m->data[i], (size_t)m->len[i]);
    int64_t a = (int64_t)(th_rand(rng) % (uint64_t)total);
    int64_t n = (int64_t)(th_rand(rng) % (uint64_t)(total - a + 1));
    CHECK_EQ(tersa_schunk_get_slice(s, a, n, got, (size_t)total), n);
    CHECK_MEM(got, all + a, (size_t)n);
    free(all);
    free(got);
}

/* ---- Helpers -------------------------------------------------------------------------- */

static uint8_t *compress_new(tersa_cctx *c, size_t n, uint64_t seed, size_t *clen)
{
    uint8_t *src = malloc(n + 1), *dst = malloc(tersa_compress_bound(n));
    gen(src, n, seed);
    int64_t r = tersa_compress(c, src, n, dst, tersa_compress_bound(n));
    CHECK(r > 0);
    free(src);
    *clen = r > 0 ? (size_t)r : 0;
    return dst;
}

static uint8_t *special_new(int kind, int32_t typesize, int64_t nbytes, size_t *clen)
{
    uint8_t *dst = malloc(64);
    int64_t r = tersa_chunk_make_special(kind, typesize, nbytes, NULL, dst, 64);
    CHECK(r > 0);
    *clen = r > 0 ? (size_t)r : 0;
    return dst;
}

static tersa_cctx *test_cctx(int codec, int typesize)
{
    tersa_cctx *c = tersa_cctx_create();
    CHECK_OK(tersa_cctx_set(c, TERSA_P_TYPESIZE, typesize));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_CODEC, codec));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_CLEVEL, 5));
    return c;
}

static tersa_schunk *reopen(tersa_schunk *s, int storage, const char *path, unsigned flags)
{
    if (storage != TERSA_STORAGE_MEMORY) {
        tersa_schunk_free(s);
        tersa_schunk *r = tersa_schunk_open_file(path, 0, flags);
        if (!r) fprintf(stderr, "  reopen %s: %s\n", path, tersa_error_detail());
        return r;
    }
    int64_t n = tersa_schunk_frame_len(s);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    CHECK_EQ(tersa_schunk_to_buffer(s, buf, (size_t)n), n);
    tersa_schunk_free(s);
    tersa_schunk *r = tersa_schunk_open_buffer(buf, (size_t)n, 0);
    if (!r) fprintf(stderr, "  reopen buffer: %s\n", tersa_error_detail());
    free(buf);
    return r;
}

static uint8_t *serialise(tersa_schunk *s, int64_t *len)
{
    *len = tersa_schunk_frame_len(s);
    CHECK(*len > 0);
    uint8_t *buf = malloc(*len > 0 ? (size_t)*len : 1);
    CHECK_EQ(tersa_schunk_to_buffer(s, buf, (size_t)*len), *len);
    return buf;
}

/* ---- A: round trips per storage -------------------------------------------------------- */

static const uint8_t meta_b2nd[20] = {0x97, 0, 1, 0x91, 0xd3, 0, 0, 0, 0, 0, 0, 1, 0, 0x91, 0xd2, 0, 0, 1, 0, 0};

static void check_metas(tersa_schunk *s, const char *m2, const char *info)
{
    const uint8_t *c = NULL;
    size_t len = 0;
    char buf[256] = {0};
    if (!s) return;
    CHECK_EQ(tersa_schunk_meta_count(s), 2);
    CHECK_EQ(tersa_schunk_meta_get(s, "b2nd", &c, &len), 0);
    CHECK_EQ(len, sizeof meta_b2nd);
    if (len == sizeof meta_b2nd) CHECK_MEM(c, meta_b2nd, len);
    CHECK_EQ(tersa_schunk_meta_get(s, "m2", &c, &len), 1);
    CHECK_EQ(len, 3);
    if (len == 3) CHECK_MEM(c, m2, 3);
    CHECK_EQ(tersa_schunk_vlmeta_count(s), 1);
    CHECK_STR(tersa_schunk_vlmeta_name(s, 0), "info");
    CHECK_EQ(tersa_schunk_vlmeta_get(s, "info", buf, sizeof buf), (int64_t)strlen(info));
    CHECK_STR(buf, info);
}

static uint8_t *roundtrip(int storage, int64_t *outlen)
{
    char path[256];
    uint64_t rng = 42;
    model m = {0};
    tmp_path(path, sizeof path, "rt", storage);
    remove_path(path);
    tersa_cctx *cp = test_cctx(TERSA_CODEC_LZ4, 4);
    tersa_metalayer metas[2] = {{"b2nd", meta_b2nd, sizeof meta_b2nd}, {"m2", "xyz", 3}};
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = storage, .path = path,
                             .cparams = cp, .nmetalayers = 2, .metalayers = metas};
    tersa_schunk *s = tersa_schunk_create(&p);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "create %s: %s\n", kind_name[storage], tersa_error_detail());
        tersa_cctx_free(cp);
        return NULL;
    }
    for (int i = 0; i < 5; i++) {
        uint8_t buf[40000];
        gen(buf, sizeof buf, (uint64_t)i + 7);
        CHECK_EQ(tersa_schunk_append_buffer(s, buf, sizeof buf), i + 1);
        size_t cl = 0;
        uint8_t *c = compress_new(cp, sizeof buf, (uint64_t)i + 7, &cl);
        model_put(&m, m.n, c, cl, true);
        free(c);
    }
    int kinds[2] = {TERSA_SPECIAL_ZEROS, TERSA_SPECIAL_NAN};
    for (int k = 0; k < 2; k++) {
        size_t cl = 0;
        uint8_t *c = special_new(kinds[k], 4, 40000, &cl);
        CHECK_EQ(tersa_schunk_append_chunk(s, c, cl), m.n + 1);
        model_put(&m, m.n, c, cl, true);
        free(c);
    }
    size_t cl = 0;
    uint8_t *c = compress_new(cp, 12344, 99, &cl);
    CHECK_OK(tersa_schunk_append_chunk(s, c, cl));
    model_put(&m, m.n, c, cl, true);
    free(c);
    verify(s, &m, &rng);

    tersa_schunk_info info = {.struct_size = sizeof info};
    CHECK_OK(tersa_schunk_get_info(s, &info));
    CHECK_EQ(info.chunksize, 40000);
    CHECK_EQ(info.frame_version, 2);
    CHECK_EQ(info.typesize, 4);
    CHECK_EQ(info.codec, TERSA_CODEC_LZ4);
    int64_t stored = 0;
    for (int i = 0; i < m.n; i++) {
        int32_t nb = 0, cb = 0;
        CHECK_OK(tersa_schunk_chunk_sizes(s, i, &nb, &cb));
        if (i != 5 && i != 6) stored += cb; /* the special chunks are offset codes */
    }
    CHECK_EQ(tersa_schunk_cbytes(s), stored);

    const char *info1 = "{\"a\": 1}", *info2 = "{\"peer\": \"tersa\", \"n\": 12345}";
    CHECK_EQ(tersa_schunk_vlmeta_set(s, "info", info1, strlen(info1), NULL), 0);
    CHECK_EQ(tersa_schunk_vlmeta_set(s, "x", "hello", 5, NULL), 1);
    CHECK_EQ(tersa_schunk_vlmeta_set(s, "info", info2, strlen(info2), NULL), 0);
    CHECK_EQ(tersa_schunk_vlmeta_delete(s, "x"), 0);
    CHECK_ERR(tersa_schunk_vlmeta_delete(s, "x"), TERSA_ERR_NOT_FOUND);
    CHECK_EQ(tersa_schunk_meta_update(s, "m2", "ab", 2), 1);
    CHECK_ERR(tersa_schunk_meta_update(s, "m2", "abcd", 4), TERSA_ERR_PARAM);
    CHECK_ERR(tersa_schunk_meta_update(s, "nope", "a", 1), TERSA_ERR_NOT_FOUND);
    check_metas(s, "abz", info2);

    uint8_t *bytes = serialise(s, outlen);
    tersa_schunk *b = tersa_schunk_open_buffer(bytes, (size_t)*outlen, 0);
    verify(b, &m, &rng);
    check_metas(b, "abz", info2);
    tersa_schunk_free(b);

    /* Reopen from storage; read-only refuses changes; then grow it (now variable-size). */
    s = reopen(s, storage, path, TERSA_OPEN_READONLY);
    verify(s, &m, &rng);
    check_metas(s, "abz", info2);
    if (storage != TERSA_STORAGE_MEMORY) {
        uint8_t buf[100] = {0};
        CHECK_ERR(tersa_schunk_append_buffer(s, buf, sizeof buf), TERSA_ERR_STATE);
        CHECK_ERR(tersa_schunk_vlmeta_set(s, "y", "1", 1, NULL), TERSA_ERR_STATE);
    }
    s = reopen(s, storage, path, TERSA_OPEN_WRITE);
    c = compress_new(cp, 40000, 1234, &cl);
    CHECK_EQ(tersa_schunk_append_chunk(s, c, cl), m.n + 1);
    model_put(&m, m.n, c, cl, true);
    free(c);
    CHECK_OK(tersa_schunk_get_info(s, &info));
    CHECK_EQ(info.chunksize, 0);
    CHECK_EQ(info.frame_version, 3);
    verify(s, &m, &rng);
    s = reopen(s, storage, path, TERSA_OPEN_READONLY);
    verify(s, &m, &rng);
    check_metas(s, "abz", info2);
    CHECK_OK(tersa_schunk_get_info(s, &info));
    CHECK_EQ(info.chunksize, 0);

    tersa_schunk_free(s);
    tersa_cctx_free(cp);
    model_free(&m);
    remove_path(path);
    return bytes;
}

static void test_roundtrips(void)
{
    int64_t len[3] = {0};
    uint8_t *bytes[3];
    for (int k = 0; k < 3; k++) bytes[k] = roundtrip(k, &len[k]);
    for (int k = 1; k < 3; k++) { /* same operations, same frame bytes */
        CHECK_EQ(len[k], len[0]);
        if (bytes[k] && bytes[0] && len[k] == len[0]) CHECK_MEM(bytes[k], bytes[0], (size_t)len[0]);
    }
    for (int k = 0; k < 3; k++) free(bytes[k]);
}

/* ---- B: exact bytes of a small frame --------------------------------------------------- */

static void test_exact_layout(void)
{
    static const uint8_t expect_meta[] = {
        0x93, 0xcd, 0x00, 0x0f, 0xde, 0x00, 0x01, 0xa2, 'a', 'b', 0xd2, 0x00, 0x00, 0x00,
        0x69, 0xdc, 0x00, 0x01, 0xc6, 0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03};
    static const uint8_t expect_trailer[] = {
        0x94, 0x01, 0x93, 0xcd, 0x00, 0x06, 0xde, 0x00, 0x00, 0xdc, 0x00, 0x00, 0xce, 0x00,
        0x00, 0x00, 0x23, 0xd8, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t expect_fixed[] = {
        0x9e, 0xa8, 'b', '2', 'f', 'r', 'a', 'm', 'e', 0, 0xd2, 0, 0, 0, 113, 0xcf, 0, 0, 0, 0,
        0, 0, 0, 148, 0xa4, 0x12, 0x00, 0x50, 0x03, 0xd3, 0, 0, 0, 0, 0, 0, 0, 0, 0xd3, 0, 0, 0,
        0, 0, 0, 0, 0, 0xd2, 0, 0, 0, 8, 0xd2, 0, 0, 0, 0, 0xd2, 0xff, 0xff, 0xff, 0xff, 0xd1,
        0, 1, 0xd1, 0, 1, 0xc2, 0xd8, 0x06, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const uint8_t content[3] = {1, 2, 3};
    tersa_metalayer meta = {"ab", content, 3};
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_MEMORY,
                             .nmetalayers = 1, .metalayers = &meta};
    tersa_schunk *s = tersa_schunk_create(&p);
    CHECK(s != NULL);
    if (!s) return;
    int64_t n = 0;
    uint8_t *f = serialise(s, &n);
    CHECK_EQ(n, 148);
    if (n == 148) {
        CHECK_MEM(f, expect_fixed, sizeof expect_fixed);
        CHECK_MEM(f + 87, expect_meta, sizeof expect_meta);
        CHECK_MEM(f + 113, expect_trailer, sizeof expect_trailer);
    }
    tersa_schunk *r = tersa_schunk_open_buffer(f, (size_t)n, 0);
    CHECK(r != NULL);
    CHECK_EQ(tersa_schunk_nchunks(r), 0);
    CHECK_EQ(tersa_schunk_chunksize(r), -1);
    tersa_schunk_free(r);
    free(f);
    tersa_schunk_free(s);
}

/* Rebuild each fixture from its header parameters and chunks: the header must come out as
 * C-Blosc2 wrote it (except frame_len, cbytes, thread counts and the vlmetalayer flag). */
static tersa_cctx *cctx_from_info(const tersa_schunk_info *info)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_TYPESIZE, info->typesize > 255 ? 1 : info->typesize);
    tersa_cctx_set(c, TERSA_P_CLEVEL, info->clevel);
    tersa_cctx_set(c, TERSA_P_CODEC, info->codec);
    tersa_cctx_set(c, TERSA_P_BLOCKSIZE, info->blocksize);
    tersa_cctx_set(c, TERSA_P_SPLITMODE, info->splitmode);
    tersa_cctx_set(c, TERSA_P_USE_DICT, info->use_dict);
    for (int i = 0; i < TERSA_MAX_FILTERS; i++) {
        tersa_cctx_set(c, (tersa_param)(TERSA_P_FILTER0 + i), info->filters[i]);
        tersa_cctx_set(c, (tersa_param)(TERSA_P_FILTER_META0 + i), info->filters_meta[i]);
    }
    return c;
}

static void rebuild_fixture(const char *rel)
{
    char path[1024];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", TERSA_FIXTURES, rel);
    uint8_t *file = th_read_file(path, &len);
    tersa_schunk *s = file ? tersa_schunk_open_buffer(file, len, 0) : NULL;
    CHECK(s != NULL);
    if (!s) {
        free(file);
        return;
    }
    tersa_schunk_info info = {.struct_size = sizeof info};
    CHECK_OK(tersa_schunk_get_info(s, &info));
    tersa_cctx *c = cctx_from_info(&info);
    tersa_metalayer metas[TERSA_MAX_METALAYERS];
    for (int i = 0; i < info.nmetalayers; i++) {
        metas[i].name = tersa_schunk_meta_name(s, i);
        tersa_schunk_meta_get(s, metas[i].name, (const uint8_t **)&metas[i].content, &metas[i].len);
    }
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_MEMORY,
                             .cparams = c, .typesize = info.typesize,
                             .nmetalayers = info.nmetalayers, .metalayers = metas};
    tersa_schunk *d = tersa_schunk_create(&p);
    CHECK(d != NULL);
    for (int64_t i = 0; d && i < info.nchunks; i++) {
        int64_t cb = tersa_schunk_get_chunk(s, i, NULL, 0);
        uint8_t *chunk = malloc(cb > 0 ? (size_t)cb : 1);
        CHECK_EQ(tersa_schunk_get_chunk(s, i, chunk, (size_t)cb), cb);
        CHECK_EQ(tersa_schunk_append_chunk(d, chunk, (size_t)cb), i + 1);
        free(chunk);
    }
    int64_t n = 0;
    uint8_t *mine = d ? serialise(d, &n) : NULL;
    int32_t hl = (int32_t)tersa__ld32be(file + TF_HEADER_LEN);
    CHECK_EQ(n >= hl ? hl : -1, hl);
    for (int32_t k = 0; mine && k < hl && n >= hl; k++) {
        bool skip = (k >= TF_FRAME_LEN && k < TF_FRAME_LEN + 8) ||
                    (k >= TF_CBYTES && k < TF_CBYTES + 8) ||
                    (k >= TF_NTHREADS_C && k <= TF_HAS_VLMETA) ||
                    (k == TF_UDCODEC && file[k] == 0); /* C-Blosc2 2.x left it 0 */
        th_checks++;
        if (!skip && mine[k] != file[k]) {
            TH_FAIL_AT("%s: header byte 0x%02X is %02X, C-Blosc2 wrote %02X", rel, k, mine[k], file[k]);
            break;
        }
    }
    free(mine);
    tersa_schunk_free(d);
    tersa_cctx_free(c);
    tersa_schunk_free(s);
    free(file);
}

static void test_fixture_headers(void)
{
    th_manifest m;
    if (th_manifest_load(TERSA_FIXTURES "/MANIFEST.tsv", &m) != 0) {
        TH_FAIL_AT("no manifest");
        return;
    }
    for (size_t i = 0; i < m.nrows; i++)
        if (strcmp(m.rows[i].kind, "frame") == 0 || strcmp(m.rows[i].kind, "b2nd") == 0)
            rebuild_fixture(m.rows[i].path);
    th_manifest_free(&m);
}

/* ---- D: random edits against the model ------------------------------------------------- */

#define CS 8000

static uint8_t *random_chunk(tersa_cctx *c, uint64_t *rng, size_t *cl, bool full)
{
    uint64_t r = th_rand(rng) % 10;
    int32_t n = full || r < 6 ? CS : (int32_t)(th_rand(rng) % CS) + 1;
    if (r == 7) return special_new(TERSA_SPECIAL_ZEROS, 4, n, cl);
    if (r == 8) return special_new(TERSA_SPECIAL_NAN, 4, n - n % 4 ? n - n % 4 : 4, cl);
    if (r == 9) return special_new(TERSA_SPECIAL_UNINIT, 4, n, cl);
    return compress_new(c, (size_t)n, th_rand(rng), cl);
}

static void random_op(tersa_schunk *s, model *m, tersa_cctx *c, uint64_t *rng)
{
    uint64_t op = th_rand(rng) % 20;
    size_t cl = 0;
    int at = m->n ? (int)(th_rand(rng) % (uint64_t)m->n) : 0;
    if (op < 11 || m->n == 0) {
        uint8_t *ch = random_chunk(c, rng, &cl, op < 8);
        CHECK_EQ(tersa_schunk_append_chunk(s, ch, cl), m->n + 1);
        model_put(m, m->n, ch, cl, true);
        free(ch);
    } else if (op < 14) {
        uint8_t *ch = random_chunk(c, rng, &cl, op < 13);
        CHECK_EQ(tersa_schunk_insert_chunk(s, at, ch, cl), m->n + 1);
        model_put(m, at, ch, cl, true);
        free(ch);
    } else if (op < 17) {
        uint8_t *ch = random_chunk(c, rng, &cl, op < 16);
        CHECK_EQ(tersa_schunk_update_chunk(s, at, ch, cl), m->n);
        model_put(m, at, ch, cl, false);
        free(ch);
    } else {
        CHECK_EQ(tersa_schunk_delete_chunk(s, at), m->n - 1);
        model_del(m, at);
    }
}

static void test_random_edits(int storage)
{
    char path[256];
    uint64_t rng = 1000 + (uint64_t)storage;
    model m = {0};
    tmp_path(path, sizeof path, "edit", storage);
    remove_path(path);
    tersa_cctx *c = test_cctx(TERSA_CODEC_BLOSCLZ, 4);
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = storage, .path = path, .cparams = c};
    tersa_schunk *s = tersa_schunk_create(&p);
    CHECK(s != NULL);
    int failures0 = th_failures;
    for (int step = 1; s && step <= 240 && th_failures == failures0; step++) {
        random_op(s, &m, c, &rng);
        if (m.n > 0) verify_chunk(s, &m, (int)(th_rand(&rng) % (uint64_t)m.n));
        if (step % 40 == 0) {
            verify(s, &m, &rng);
            s = reopen(s, storage, path, TERSA_OPEN_WRITE);
            verify(s, &m, &rng);
        }
    }
    /* Delete everything: an empty frame must still reopen. */
    while (s && m.n > 0) {
        CHECK_EQ(tersa_schunk_delete_chunk(s, 0), m.n - 1);
        model_del(&m, 0);
    }
    s = s ? reopen(s, storage, path, TERSA_OPEN_READONLY) : NULL;
    CHECK(s != NULL);
    CHECK_EQ(tersa_schunk_nchunks(s), 0);
    tersa_schunk_free(s);
    tersa_cctx_free(c);
    model_free(&m);
    remove_path(path);
}

/* ---- E: lazy reads from files ---------------------------------------------------------- */

static void lazy_case(int filter, uint64_t seed)
{
    char path[256];
    const size_t n = 4u << 20;
    tmp_path(path, sizeof path, filter == TERSA_FILTER_DELTA ? "lazyd" : "lazy", TERSA_STORAGE_FILE);
    remove_path(path);
    tersa_cctx *c = test_cctx(TERSA_CODEC_LZ4, 4);
    CHECK_OK(tersa_cctx_set(c, TERSA_P_BLOCKSIZE, 65536));
    if (filter == TERSA_FILTER_DELTA) CHECK_OK(tersa_cctx_set(c, TERSA_P_FILTER4, filter));
    uint8_t *data = malloc(n), *out = malloc(n);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = (uint32_t)(i / 4) * 3 + (uint32_t)(th_rand(&s) & 0xffff);
        memcpy(data + i, &v, 4);
    }
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_FILE, .path = path,
                             .cparams = c};
    tersa_schunk *w = tersa_schunk_create(&p);
    CHECK(w != NULL);
    for (int k = 0; w && k < 2; k++) CHECK_OK(tersa_schunk_append_buffer(w, data, n));
    tersa_schunk_free(w);
    tersa_schunk *r = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK(r != NULL);
    if (r) {
        int64_t start = 300000, nitems = 1000;
        r->io_read = 0;
        CHECK_EQ(tersa_schunk_getitem(r, 1, start, nitems, out, n), nitems * 4);
        CHECK_MEM(out, data + start * 4, (size_t)nitems * 4);
        CHECK(r->io_read > 0 && r->io_read < 3 * 70000); /* bstarts + one or two blocks */
        CHECK(tersa_schunk_cbytes(r) > 4 * 200000);     /* the chunk itself is much larger */
        r->io_read = 0;
        CHECK_EQ(tersa_schunk_get_slice(r, (int64_t)n - 1000, 5000, out, n), 5000);
        CHECK_MEM(out, data + n - 1000, 1000);
        CHECK_MEM(out + 1000, data, 4000);
        CHECK_EQ(tersa_schunk_getitem(r, 0, (int64_t)n / 4 - 10, 10, out, n), 40);
        CHECK_MEM(out, data + n - 40, 40);
        CHECK_ERR(tersa_schunk_getitem(r, 0, (int64_t)n / 4 - 10, 11, out, n), TERSA_ERR_RANGE);
        CHECK_ERR(tersa_schunk_getitem(r, 2, 0, 1, out, n), TERSA_ERR_RANGE);
    }
    tersa_schunk_free(r);
    tersa_cctx_free(c);
    free(data);
    free(out);
    remove_path(path);
}

/* ---- G, H: errors ------------------------------------------------------------------------ */

static void test_errors(void)
{
    char path[256];
    tmp_path(path, sizeof path, "err", TERSA_STORAGE_FILE);
    remove_path(path);
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_FILE, .path = path};
    tersa_schunk *s = tersa_schunk_create(&p);
    CHECK(s != NULL);
    CHECK(tersa_schunk_create(&p) == NULL); /* exists, no overwrite */
    CHECK_STR(tersa_error_name(TERSA_ERR_EXISTS), "exists");
    CHECK(strstr(tersa_error_detail(), path) != NULL);
    for (int i = 0; s && i < 16; i++) {
        char name[8];
        snprintf(name, sizeof name, "v%d", i);
        CHECK_EQ(tersa_schunk_vlmeta_set(s, name, "x", 1, NULL), i);
    }
    CHECK_ERR(tersa_schunk_vlmeta_set(s, "v16", "x", 1, NULL), TERSA_ERR_TOO_LARGE);
    CHECK_ERR(tersa_schunk_vlmeta_set(s, "this-name-is-longer-than-31-bytes", "x", 1, NULL),
              TERSA_ERR_PARAM);
    /* A Blosc1 chunk (16-byte header) is not stored in frames. */
    size_t len = 0;
    uint8_t *old = th_read_file(TERSA_FIXTURES "/blosc-compat/blosc-1.14.0-lz4.cdata", &len);
    CHECK(old != NULL);
    if (old && s) CHECK_ERR(tersa_schunk_append_chunk(s, old, len), TERSA_ERR_UNSUPPORTED);
    free(old);
    uint8_t junk[64] = {0};
    CHECK(tersa_schunk_append_chunk(s, junk, sizeof junk) < 0);
    CHECK_ERR(tersa_schunk_delete_chunk(s, 0), TERSA_ERR_RANGE);
    CHECK_ERR(tersa_schunk_decompress_chunk(s, 0, junk, sizeof junk), TERSA_ERR_RANGE);
    tersa_schunk_free(s);
    s = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK(s != NULL);
    CHECK_EQ(tersa_schunk_vlmeta_count(s), 16);
    tersa_schunk_free(s);
    remove_path(path);

    tersa_metalayer metas[17];
    for (int i = 0; i < 17; i++) metas[i] = (tersa_metalayer){"m", "x", 1};
    tersa_schunk_params q = {.struct_size = sizeof q, .storage = TERSA_STORAGE_MEMORY,
                             .nmetalayers = 17, .metalayers = metas};
    CHECK(tersa_schunk_create(&q) == NULL);
    q.nmetalayers = 2;
    CHECK(tersa_schunk_create(&q) == NULL); /* duplicate names */
    metas[0].name = "";
    q.nmetalayers = 1;
    CHECK(tersa_schunk_create(&q) == NULL);
    CHECK(tersa_schunk_open_buffer(junk, sizeof junk, 0) == NULL);
    CHECK(tersa_schunk_open_file("/nonexistent/frame.b2frame", 0, 0) == NULL);
    CHECK(tersa_schunk_create(NULL) == NULL);
    tersa_schunk_free(NULL);

    /* Corrupt markers name the byte. */
    tersa_schunk_params e = {.struct_size = sizeof e, .storage = TERSA_STORAGE_MEMORY};
    s = tersa_schunk_create(&e);
    int64_t n = 0;
    uint8_t *f = serialise(s, &n);
    f[0x0a] = 0xd3;
    CHECK(tersa_schunk_open_buffer(f, (size_t)n, 0) == NULL);
    CHECK(strstr(tersa_error_detail(), "0x0A") != NULL);
    f[0x0a] = 0xd2;
    CHECK(tersa_schunk_open_buffer(f, (size_t)n - 1, 0) == NULL);
    CHECK(strstr(tersa_error_detail(), "frame_len") != NULL);
    free(f);
    tersa_schunk_free(s);
}

/* A frame typesize above 255: chunks say typesize 1, the frame keeps the true size. */
static void test_big_typesize(void)
{
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_MEMORY,
                             .typesize = 300};
    tersa_schunk *s = tersa_schunk_create(&p);
    CHECK(s != NULL);
    if (!s) return;
    uint8_t buf[3000];
    gen(buf, sizeof buf, 5);
    CHECK_OK(tersa_schunk_append_buffer(s, buf, sizeof buf));
    size_t cl = 0;
    uint8_t *z = special_new(TERSA_SPECIAL_ZEROS, 1, 3000, &cl);
    CHECK_OK(tersa_schunk_append_chunk(s, z, cl));
    free(z);
    s = reopen(s, TERSA_STORAGE_MEMORY, NULL, 0);
    CHECK_EQ(tersa_schunk_typesize(s), 300);
    uint8_t out[3000];
    CHECK_EQ(tersa_schunk_decompress_chunk(s, 0, out, sizeof out), 3000);
    CHECK_MEM(out, buf, sizeof buf);
    CHECK_EQ(tersa_schunk_decompress_chunk(s, 1, out, sizeof out), 3000);
    CHECK_EQ(out[0] | out[2999], 0);
    tersa_schunk_free(s);
}


/* A frame inside a larger file (HDF5 fast paths open it in place), a borrowed buffer that is
 * changed (copied on first write), and a sparse frame missing a chunk file. */
static void test_embedded_and_borrowed(void)
{
    char path[256];
    uint64_t rng = 3;
    model m = {0};
    tersa_cctx *c = test_cctx(TERSA_CODEC_ZSTD, 4);
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_MEMORY, .cparams = c};
    tersa_schunk *s = tersa_schunk_create(&p);
    for (int i = 0; s && i < 3; i++) {
        size_t cl = 0;
        uint8_t *ch = compress_new(c, 5000, (uint64_t)i, &cl);
        CHECK_OK(tersa_schunk_append_chunk(s, ch, cl));
        model_put(&m, m.n, ch, cl, true);
        free(ch);
    }
    int64_t n = 0;
    uint8_t *f = serialise(s, &n);
    tersa_schunk_free(s);

    tmp_path(path, sizeof path, "embed", TERSA_STORAGE_FILE);
    FILE *fp = fopen(path, "wb");
    fwrite("0123456789abcdefXYZ", 1, 19, fp);
    fwrite(f, 1, (size_t)n, fp);
    fwrite("trailing bytes", 1, 14, fp);
    fclose(fp);
    s = tersa_schunk_open_file(path, 19, TERSA_OPEN_READONLY);
    verify(s, &m, &rng);
    tersa_schunk_free(s);
    CHECK(tersa_schunk_open_file(path, 18, TERSA_OPEN_READONLY) == NULL);
    CHECK(tersa_schunk_open_file(path, 19, TERSA_OPEN_WRITE) == NULL);
    remove_path(path);

    uint8_t *copy = malloc((size_t)n);
    memcpy(copy, f, (size_t)n);
    s = tersa_schunk_open_buffer(f, (size_t)n, TERSA_OPEN_BORROW);
    verify(s, &m, &rng);
    size_t cl = 0;
    uint8_t *ch = compress_new(c, 5000, 77, &cl);
    CHECK_OK(tersa_schunk_update_chunk(s, 1, ch, cl));
    model_put(&m, 1, ch, cl, false);
    free(ch);
    CHECK_OK(tersa_schunk_delete_chunk(s, 0));
    model_del(&m, 0);
    verify(s, &m, &rng);
    CHECK_MEM(f, copy, (size_t)n); /* the borrowed buffer is untouched */
    tersa_schunk_free(s);
    free(copy);
    free(f);

    tmp_path(path, sizeof path, "holes", TERSA_STORAGE_SPARSE);
    remove_path(path);
    p.storage = TERSA_STORAGE_SPARSE;
    p.path = path;
    s = tersa_schunk_create(&p);
    for (int i = 0; s && i < 3; i++) {
        uint8_t buf[5000];
        gen(buf, sizeof buf, (uint64_t)i);
        CHECK_OK(tersa_schunk_append_buffer(s, buf, sizeof buf));
    }
    tersa_schunk_free(s);
    char chunk1[300];
    snprintf(chunk1, sizeof chunk1, "%s/00000001.chunk", path);
    CHECK_EQ(unlink(chunk1), 0);
    s = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK(s != NULL);
    uint8_t out[5000];
    CHECK_EQ(tersa_schunk_decompress_chunk(s, 0, out, sizeof out), 5000);
    CHECK_ERR(tersa_schunk_decompress_chunk(s, 1, out, sizeof out), TERSA_ERR_NOT_FOUND);
    CHECK(strstr(tersa_error_detail(), "00000001.chunk") != NULL);
    tersa_schunk_free(s);
    remove_path(path);
    tersa_cctx_free(c);
    model_free(&m);
}

int main(void)
{
    test_exact_layout();
    test_roundtrips();
    test_fixture_headers();
    for (int k = 0; k < 3; k++) test_random_edits(k);
    lazy_case(0, 1);
    lazy_case(TERSA_FILTER_DELTA, 2);
    test_errors();
    test_big_typesize();
    test_embedded_and_borrowed();
    return th_report("frame_write");
}

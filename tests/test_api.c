/* The API surface: error table, parameter table, names, pools, contexts, inspect/validate of
 * hand-built headers, and the blocksize/split rules against the values C-Blosc2 3.3.2 picks. */
#include <stdatomic.h>

#include "harness.h"
#include "tersa/tersa.h"

static void test_errors(void)
{
    CHECK_STR(tersa_error_name(TERSA_ERR_CORRUPT), "corrupt");
    CHECK_STR(tersa_error_name(0), "ok");
    CHECK_STR(tersa_error_name(-9999), "unknown");
    CHECK(strlen(tersa_error_message(TERSA_ERR_NOMEM)) > 0);
    CHECK_STR(tersa_version(), TERSA_VERSION_STRING);
    /* Public error setters (for plugins and libtersa_h5). */
    CHECK_EQ(tersa_error_set(TERSA_ERR_CODEC, "codec %d: bad stream at %s", 200, "block 3"),
             TERSA_ERR_CODEC);
    CHECK_STR(tersa_error_detail(), "codec 200: bad stream at block 3");
    CHECK_EQ(tersa_error_prefix(TERSA_ERR_CODEC, "file %s", "x.h5"), TERSA_ERR_CODEC);
    CHECK_STR(tersa_error_detail(), "file x.h5: codec 200: bad stream at block 3");
    CHECK_EQ(tersa_error_set(TERSA_ERR_IO, NULL), TERSA_ERR_IO); /* NULL clears */
    CHECK_STR(tersa_error_detail(), "");
    CHECK_EQ(tersa_error_prefix(TERSA_ERR_IO, "dataset %s", "/d"), TERSA_ERR_IO);
    CHECK_STR(tersa_error_detail(), "dataset /d: input/output error");
    char big[700];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tersa_error_set(TERSA_ERR_PARAM, "%s", big); /* truncated, not overrun */
    CHECK_EQ(strlen(tersa_error_detail()), 511);
}

typedef struct run_arg {
    atomic_int done[64];
    atomic_int max_worker;
    int fail_at;
} run_arg;

static int count_task(void *arg, int task, int worker)
{
    run_arg *r = arg;
    atomic_fetch_add(&r->done[task], 1);
    int m = atomic_load(&r->max_worker);
    while (worker > m && !atomic_compare_exchange_weak(&r->max_worker, &m, worker)) {}
    return task == r->fail_at ? TERSA_ERR_CODEC : 0;
}

/* tersa_pool_run: every task once, worker indices below max_workers, first error returned. */
static void test_pool_run(void)
{
    tersa_pool *p = tersa_pool_create(4);
    for (int workers = 1; workers <= 6; workers++) {
        run_arg r;
        memset(&r, 0, sizeof r);
        r.fail_at = -1;
        CHECK_OK(tersa_pool_run(workers % 2 ? p : NULL, workers, 64, count_task, &r));
        for (int t = 0; t < 64; t++) CHECK_EQ(atomic_load(&r.done[t]), 1);
        CHECK(atomic_load(&r.max_worker) < workers);
    }
    run_arg r;
    memset(&r, 0, sizeof r);
    r.fail_at = 5;
    CHECK_EQ(tersa_pool_run(p, 4, 64, count_task, &r), TERSA_ERR_CODEC);
    CHECK_EQ(atomic_load(&r.done[5]), 1);
    CHECK_OK(tersa_pool_run(p, 4, 0, count_task, &r));
    CHECK_ERR(tersa_pool_run(p, 4, 8, NULL, &r), TERSA_ERR_PARAM);
    CHECK_ERR(tersa_pool_run(p, 0, 8, count_task, &r), TERSA_ERR_PARAM);
    CHECK_ERR(tersa_pool_run(p, 2, -1, count_task, &r), TERSA_ERR_PARAM);
    tersa_pool_free(p);
}

static void test_params(void)
{
    size_t n;
    const tersa_param_desc *t = tersa_param_table(&n);
    CHECK(n >= TERSA_P_COUNT_ - 1);
    for (size_t i = 0; i < n; i++) {
        CHECK(t[i].min <= t[i].def && t[i].def <= t[i].max);
        CHECK(tersa_param_find(t[i].name) == &t[i]);
        CHECK(tersa_param_get(t[i].id) == &t[i]);
    }
    CHECK(tersa_param_find("nope") == NULL);
    tersa_cctx *c = tersa_cctx_create();
    int64_t v;
    CHECK_OK(tersa_cctx_get(c, TERSA_P_CLEVEL, &v));
    CHECK_EQ(v, 5);
    CHECK_ERR(tersa_cctx_set(c, TERSA_P_CLEVEL, 12), TERSA_ERR_PARAM);
    CHECK(strstr(tersa_error_detail(), "clevel") != NULL);
    CHECK_ERR(tersa_cctx_set(c, TERSA_P_TYPESIZE, 0), TERSA_ERR_PARAM);
    CHECK_ERR(tersa_cctx_set(c, TERSA_P_CODEC, 3), TERSA_ERR_UNKNOWN_CODEC);
    CHECK_ERR(tersa_cctx_set(c, TERSA_P_FILTER2, 7), TERSA_ERR_UNKNOWN_FILTER);
    CHECK_ERR(tersa_cctx_set(c, (tersa_param)999, 1), TERSA_ERR_PARAM);
    CHECK_OK(tersa_cctx_get(c, TERSA_P_CLEVEL, &v));
    CHECK_EQ(v, 5); /* failed sets change nothing */
    tersa_cctx_free(c);
    tersa_dctx *d = tersa_dctx_create();
    CHECK_ERR(tersa_dctx_set(d, TERSA_P_CLEVEL, 3), TERSA_ERR_PARAM); /* not a dctx parameter */
    CHECK_OK(tersa_dctx_set(d, TERSA_P_NTHREADS, 3));
    tersa_dctx_free(d);
    tersa_cctx_free(NULL);
    tersa_dctx_free(NULL);
    tersa_pool_free(NULL);
}

static void test_names(void)
{
    CHECK_EQ(tersa_codec_from_name("zstd"), TERSA_CODEC_ZSTD);
    CHECK_EQ(tersa_codec_from_name("lz4hc"), TERSA_CODEC_LZ4HC);
    CHECK_ERR(tersa_codec_from_name("snappy"), TERSA_ERR_UNKNOWN_CODEC);
    CHECK_EQ(tersa_filter_from_name("bitshuffle"), TERSA_FILTER_BITSHUFFLE);
    CHECK_ERR(tersa_filter_from_name("xor"), TERSA_ERR_UNKNOWN_FILTER);
    CHECK_STR(tersa_codec_name(TERSA_CODEC_ZLIB), "zlib");
    CHECK(tersa_codec_name(3) == NULL);
    CHECK_STR(tersa_filter_name(TERSA_FILTER_DELTA), "delta");
}

static void test_pool(void)
{
    CHECK(tersa_pool_create(0) == NULL);
    CHECK(tersa_pool_create(257) == NULL);
    tersa_pool *p = tersa_pool_create(3);
    CHECK(p != NULL);
    CHECK_EQ(tersa_pool_nthreads(p), 3);
    /* Two contexts share it; both produce the bytes a 1-thread context produces. */
    size_t n = 3u << 20;
    uint8_t *src = malloc(n), *a = malloc(n + 32), *b = malloc(n + 32), *o = malloc(n);
    for (size_t i = 0; i < n; i++) src[i] = (uint8_t)((i * 7) ^ (i >> 9));
    tersa_cctx *c1 = tersa_cctx_create(), *c2 = tersa_cctx_create();
    CHECK_OK(tersa_cctx_set(c1, TERSA_P_TYPESIZE, 4));
    CHECK_OK(tersa_cctx_set(c2, TERSA_P_TYPESIZE, 4));
    CHECK_OK(tersa_cctx_set_pool(c2, p));
    int64_t ca = tersa_compress(c1, src, n, a, n + 32);
    int64_t cb = tersa_compress(c2, src, n, b, n + 32);
    CHECK(ca > 0);
    CHECK_EQ(ca, cb);
    CHECK_MEM(a, b, (size_t)ca);
    tersa_dctx *d = tersa_dctx_create();
    CHECK_OK(tersa_dctx_set_pool(d, p));
    CHECK_EQ(tersa_decompress(d, b, (size_t)cb, o, n), (int64_t)n);
    CHECK_MEM(o, src, n);
    tersa_cctx_free(c1);
    tersa_cctx_free(c2);
    tersa_dctx_free(d);
    tersa_pool_free(p);
    free(src);
    free(a);
    free(b);
    free(o);
}

/* Blocksize/split as C-Blosc2 3.3.2 chooses them (FORMATS.md 2.8, verified values). */
static void expect_blocks(int codec, int clevel, int ts, int32_t want_bs, int want_split)
{
    size_t n = 8u << 20;
    uint8_t *src = malloc(n), *dst = malloc(n + 32);
    for (size_t i = 0; i < n; i++) /* a slow ramp in the first byte of each element */
        src[i] = (i % (size_t)ts) ? 0 : (uint8_t)(i / ((size_t)ts * 64));
    tersa_cctx *c = tersa_cctx_create();
    CHECK_OK(tersa_cctx_set(c, TERSA_P_CODEC, codec));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_CLEVEL, clevel));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_TYPESIZE, ts));
    int64_t r = tersa_compress(c, src, n, dst, n + 32);
    CHECK(r > 0);
    tersa_chunk_info info = {.struct_size = sizeof info};
    CHECK_OK(tersa_chunk_inspect(dst, (size_t)r, &info));
    CHECK_EQ(info.blocksize, want_bs);
    CHECK_EQ(info.split, want_split);
    CHECK_EQ(info.codec, codec);
    tersa_cctx_free(c);
    free(src);
    free(dst);
}

static void test_blocksize_rule(void)
{
    expect_blocks(TERSA_CODEC_BLOSCLZ, 1, 4, 128 * 1024, 1);
    expect_blocks(TERSA_CODEC_LZ4, 5, 4, 256 * 1024, 1);
    expect_blocks(TERSA_CODEC_LZ4, 9, 4, 2 * 1024 * 1024, 1);
    expect_blocks(TERSA_CODEC_LZ4HC, 1, 4, 32 * 1024, 0);
    expect_blocks(TERSA_CODEC_ZLIB, 5, 4, 256 * 1024, 0);
    expect_blocks(TERSA_CODEC_LZ4HC, 9, 4, 1024 * 1024, 0);
    expect_blocks(TERSA_CODEC_ZSTD, 3, 4, 128 * 1024, 1);
    expect_blocks(TERSA_CODEC_ZSTD, 6, 4, 512 * 1024, 0);
    expect_blocks(TERSA_CODEC_BLOSCLZ, 5, 17, 131070, 0);
    expect_blocks(TERSA_CODEC_BLOSCLZ, 5, 8, 512 * 1024, 1);
}

static void test_headers(void)
{
    uint8_t h[40] = {0};
    tersa_chunk_info info = {.struct_size = sizeof info};
    CHECK_ERR(tersa_chunk_inspect(h, 8, &info), TERSA_ERR_TRUNCATED);
    h[0] = 9;
    CHECK_ERR(tersa_chunk_inspect(h, 32, &info), TERSA_ERR_VERSION);
    h[0] = 5;
    h[2] = 0x05;
    h[3] = 0; /* typesize 0 */
    CHECK_ERR(tersa_chunk_inspect(h, 32, &info), TERSA_ERR_CORRUPT);
    h[3] = 4;
    h[4] = 16;  /* nbytes 16 */
    h[8] = 16;  /* blocksize */
    h[12] = 32; /* cbytes */
    h[31] = 0x10; /* zeros */
    CHECK_OK(tersa_chunk_inspect(h, 32, &info));
    CHECK_EQ(info.special, TERSA_SPECIAL_ZEROS);
    CHECK_OK(tersa_chunk_validate(h, 32));
    h[31] = 0x50; /* reserved special code 5 */
    CHECK_ERR(tersa_chunk_validate(h, 32), TERSA_ERR_CORRUPT);
    h[31] = 0x08; /* lazy bit */
    CHECK_ERR(tersa_chunk_validate(h, 32), TERSA_ERR_CORRUPT);
    h[31] = 0x80; /* instrumented */
    CHECK_ERR(tersa_chunk_validate(h, 32), TERSA_ERR_UNSUPPORTED);
    h[31] = 0x10;
    h[30] = 0x02; /* reserved flags2 bit */
    CHECK_ERR(tersa_chunk_validate(h, 32), TERSA_ERR_CORRUPT);
    h[30] = 0;
    h[12] = 40; /* cbytes beyond the buffer */
    CHECK_ERR(tersa_chunk_validate(h, 32), TERSA_ERR_TRUNCATED);
}

int main(void)
{
    test_errors();
    test_params();
    test_names();
    test_pool();
    test_pool_run();
    test_blocksize_rule();
    test_headers();
    return th_report("api");
}

/* Dictionary chunks: compress with TERSA_P_USE_DICT (zstd, lz4, lz4hc), check the header flag
 * and layout, decode whole / getitem / masks, and refuse a corrupted dictionary size. */
#include "harness.h"
#include "tersa/tersa.h"

static void fill_records(uint8_t *p, size_t n)
{
    /* Text-like records: repeated field names with varying numbers, which a dictionary helps. */
    size_t i = 0;
    uint64_t s = 7;
    while (i < n) {
        char rec[96];
        int k = snprintf(rec, sizeof rec, "{\"sensor\":\"det-%02u\",\"value\":%u,\"ok\":true}\n",
                         (unsigned)(th_rand(&s) % 40), (unsigned)(th_rand(&s) % 100000));
        for (int j = 0; j < k && i < n; j++) p[i++] = (uint8_t)rec[j];
    }
}

static void roundtrip(int codec, int nthreads)
{
    size_t n = 1u << 20;
    uint8_t *src = malloc(n), *c = malloc(n + 32), *out = malloc(n), *c0 = malloc(n + 32);
    fill_records(src, n);
    tersa_cctx *x = tersa_cctx_create();
    CHECK_OK(tersa_cctx_set(x, TERSA_P_TYPESIZE, 1));
    CHECK_OK(tersa_cctx_set(x, TERSA_P_CODEC, codec));
    CHECK_OK(tersa_cctx_set(x, TERSA_P_BLOCKSIZE, 4096));
    CHECK_OK(tersa_cctx_set(x, TERSA_P_NTHREADS, nthreads));
    int64_t plain = tersa_compress(x, src, n, c0, n + 32);
    CHECK_OK(tersa_cctx_set(x, TERSA_P_USE_DICT, 1));
    int64_t cs = tersa_compress(x, src, n, c, n + 32);
    CHECK(cs > 0 && plain > 0);
    tersa_chunk_info info = {.struct_size = sizeof info};
    CHECK_OK(tersa_chunk_inspect(c, (size_t)cs, &info));
    CHECK_EQ(info.has_dict, 1);
    CHECK_OK(tersa_chunk_validate(c, (size_t)cs));
    if (codec == TERSA_CODEC_ZSTD) CHECK(cs < plain); /* small blocks gain from a dictionary */
    tersa_dctx *d = tersa_dctx_create();
    CHECK_EQ(tersa_decompress(d, c, (size_t)cs, out, n), (int64_t)n);
    CHECK_MEM(out, src, n);
    memset(out, 0, n);
    CHECK_EQ(tersa_getitem(d, c, (size_t)cs, 100000, 5000, out, n), 5000);
    CHECK_MEM(out, src + 100000, 5000);
    /* A dictionary size beyond the chunk is refused. */
    uint8_t *bad = malloc((size_t)cs);
    memcpy(bad, c, (size_t)cs);
    size_t at = 32 + 4 * (size_t)info.nblocks;
    bad[at + 3] = 0x7f;
    CHECK_ERR(tersa_chunk_validate(bad, (size_t)cs), TERSA_ERR_CORRUPT);
    CHECK_ERR(tersa_decompress(d, bad, (size_t)cs, out, n), TERSA_ERR_CORRUPT);
    free(bad);
    tersa_dctx_free(d);
    tersa_cctx_free(x);
    free(src);
    free(c);
    free(c0);
    free(out);
}

int main(void)
{
    int codecs[] = {TERSA_CODEC_ZSTD, TERSA_CODEC_LZ4, TERSA_CODEC_LZ4HC};
    for (int i = 0; i < 3; i++)
        for (int t = 1; t <= 2; t++) roundtrip(codecs[i], t);
    return th_report("dict");
}

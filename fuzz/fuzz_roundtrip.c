/* libFuzzer target: compress then decompress. The first FZ_PARAMS bytes choose the parameters
 * (codec, pipeline, typesize, clevel, split mode, threads, blocksize, filter meta, flags), the
 * rest is the data. Every combination it builds is valid, so compression must succeed, and
 * decompression, getitem and decompress_blocks must give the input back (trunc-prec: the input
 * with the low mantissa bits cleared, unless the chunk was stored memcpyed). abort() on any
 * difference: this is a fuzzing harness, not library code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tersa/tersa.h"

#define FZ_PARAMS 10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { SH = TERSA_FILTER_SHUFFLE, BS = TERSA_FILTER_BITSHUFFLE, DE = TERSA_FILTER_DELTA,
       TP = TERSA_FILTER_TRUNC_PREC, BD = TERSA_FILTER_BYTEDELTA };

/* Pipelines (slots 0..5); TP needs typesize 4 or 8 and is replaced by 0 otherwise. */
static const uint8_t fz_pipes[16][6] = {
    {0, 0, 0, 0, 0, 0},  {0, 0, 0, 0, 0, SH},  {0, 0, 0, 0, 0, BS}, {0, 0, 0, 0, 0, DE},
    {0, 0, 0, 0, DE, SH}, {DE, 0, 0, 0, 0, BS}, {0, 0, 0, 0, SH, BS}, {0, 0, 0, 0, TP, SH},
    {TP, 0, 0, 0, 0, 0}, {0, 0, 0, 0, SH, BD}, {0, 0, 0, 0, 0, BD},  {SH, 0, 0, 0, 0, 0},
    {0, 0, BS, 0, 0, SH}, {DE, 0, 0, SH, 0, BD}, {0, 0, 0, TP, 0, BS}, {DE, SH, 0, 0, 0, 0},
};
static const int fz_codecs[5] = {TERSA_CODEC_BLOSCLZ, TERSA_CODEC_LZ4, TERSA_CODEC_LZ4HC,
                                 TERSA_CODEC_ZLIB, TERSA_CODEC_ZSTD};

typedef struct fz_cfg {
    int codec, typesize, clevel, split, threads, detect, dict, frame_ts;
    int32_t blocksize;
    uint8_t f[6];
    int meta[6];
} fz_cfg;

static void fz_parse(const uint8_t *p, fz_cfg *c)
{
    c->codec = fz_codecs[p[0] % 5];
    c->typesize = p[2] < 200 ? 1 + p[2] % 20 : 1 + (p[2] * 37) % 255;
    c->clevel = p[3] % 10;
    c->split = 1 + p[4] % 4;
    c->threads = 1 + p[5] % 4;
    c->blocksize = (p[6] & 0x80) ? 0 : 16 + (((p[6] & 0x7F) << 8) | p[7]);
    c->detect = p[9] & 1;
    c->dict = (p[9] & 2) && (c->codec == TERSA_CODEC_ZSTD || c->codec == TERSA_CODEC_LZ4 ||
                             c->codec == TERSA_CODEC_LZ4HC);
    c->frame_ts = 0;
    memcpy(c->f, fz_pipes[p[1] % 16], 6);
    int mant = c->typesize == 4 ? 23 : 52;
    for (int s = 0; s < 6; s++) {
        c->meta[s] = 0;
        if (c->f[s] == TP && c->typesize != 4 && c->typesize != 8) c->f[s] = 0;
        if (c->f[s] == TP) c->meta[s] = (p[8] & 0x80) ? -(1 + p[8] % (mant - 1)) : 1 + p[8] % mant;
        if (c->f[s] == BD) c->meta[s] = (p[8] & 1) ? c->typesize : 0;
        if (c->f[s] == BD && c->meta[s] == 0) c->frame_ts = c->typesize;
        if (c->f[s] == SH && (p[1] & 0x10)) c->meta[s] = 1 + p[8] % 8;
    }
}

static int fz_setup(tersa_cctx *cc, tersa_dctx *dc, const fz_cfg *c)
{
    int rc = 0;
    rc |= tersa_cctx_set(cc, TERSA_P_CODEC, c->codec);
    rc |= tersa_cctx_set(cc, TERSA_P_TYPESIZE, c->typesize);
    rc |= tersa_cctx_set(cc, TERSA_P_CLEVEL, c->clevel);
    rc |= tersa_cctx_set(cc, TERSA_P_SPLITMODE, c->split);
    rc |= tersa_cctx_set(cc, TERSA_P_NTHREADS, c->threads);
    rc |= tersa_cctx_set(cc, TERSA_P_BLOCKSIZE, c->blocksize);
    rc |= tersa_cctx_set(cc, TERSA_P_DETECT_SPECIAL, c->detect);
    rc |= tersa_cctx_set(cc, TERSA_P_USE_DICT, c->dict);
    rc |= tersa_cctx_set(cc, TERSA_P_FRAME_TYPESIZE, c->frame_ts);
    for (int s = 0; s < 6; s++) {
        rc |= tersa_cctx_set(cc, (tersa_param)(TERSA_P_FILTER0 + s), c->f[s]);
        rc |= tersa_cctx_set(cc, (tersa_param)(TERSA_P_FILTER_META0 + s), c->meta[s]);
    }
    rc |= tersa_dctx_set(dc, TERSA_P_NTHREADS, c->threads);
    rc |= tersa_dctx_set(dc, TERSA_P_FRAME_TYPESIZE, c->frame_ts);
    return rc;
}

/* What decompression must return: trunc-prec clears low mantissa bits of whole elements. */
static void fz_expected(const fz_cfg *c, const uint8_t *src, size_t n, int memcpyed,
                        uint8_t *exp)
{
    memcpy(exp, src, n);
    for (int s = 0; s < 6 && !memcpyed; s++) {
        if (c->f[s] != TP) continue;
        int mant = c->typesize == 4 ? 23 : 52;
        int clear = c->meta[s] > 0 ? mant - c->meta[s] : -c->meta[s];
        uint64_t mask = clear > 0 ? ~((UINT64_C(1) << clear) - 1) : ~UINT64_C(0);
        for (size_t i = 0; (i + 1) * (size_t)c->typesize <= n; i++) {
            uint64_t v = 0;
            memcpy(&v, exp + i * (size_t)c->typesize, (size_t)c->typesize);
            v &= mask;
            memcpy(exp + i * (size_t)c->typesize, &v, (size_t)c->typesize);
        }
    }
}

static void fz_check(tersa_dctx *dc, const fz_cfg *c, const uint8_t *src, size_t n,
                     const uint8_t *chunk, size_t cs)
{
    tersa_chunk_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    if (tersa_chunk_inspect(chunk, cs, &in) < 0 || tersa_chunk_validate(chunk, cs) < 0) abort();
    if (in.nbytes != (int64_t)n || in.cbytes != (int64_t)cs) abort();
    uint8_t *exp = malloc(n + 1), *out = malloc(n + 1);
    if (!exp || !out) abort();
    fz_expected(c, src, n, in.memcpyed, exp);
    if (tersa_decompress(dc, chunk, cs, out, n) != (int64_t)n) abort();
    /* A special chunk holds the value detected in the input, or zero runs found after the
     * filters (trunc-prec may have cleared every bit). */
    if (memcmp(out, exp, n) != 0 && in.special) memcpy(exp, src, n);
    if (memcmp(out, exp, n) != 0) abort();
    int64_t total = (int64_t)n / c->typesize;
    if (total > 0) {
        int64_t start = (int64_t)(n * 2654435761u % (uint64_t)total), cnt = total - start;
        if (cnt > 100) cnt = 100;
        int64_t rc = tersa_getitem(dc, chunk, cs, start, cnt, out, n);
        if (rc != cnt * c->typesize || memcmp(out, exp + start * c->typesize, (size_t)rc))
            abort();
    }
    size_t nmask = n + 1;
    uint8_t *mask = malloc(nmask);
    if (!mask) abort();
    memset(mask, 1, nmask);
    memset(out, 0, n);
    if (tersa_decompress_blocks(dc, chunk, cs, mask, nmask, out, n) < 0 || memcmp(out, exp, n))
        abort();
    free(mask);
    free(exp);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < FZ_PARAMS) return 0;
    fz_cfg c;
    fz_parse(data, &c);
    const uint8_t *src = data + FZ_PARAMS;
    size_t n = size - FZ_PARAMS, cap = tersa_compress_bound(n);
    tersa_cctx *cc = tersa_cctx_create();
    tersa_dctx *dc = tersa_dctx_create();
    uint8_t *chunk = malloc(cap);
    if (!cc || !dc || !chunk) abort();
    if (fz_setup(cc, dc, &c) != 0) abort();
    int64_t cs = tersa_compress(cc, src, n, chunk, cap);
    if (cs <= 0 || (size_t)cs > cap) abort();
    fz_check(dc, &c, src, n, chunk, (size_t)cs);
    free(chunk);
    tersa_cctx_free(cc);
    tersa_dctx_free(dc);
    return 0;
}

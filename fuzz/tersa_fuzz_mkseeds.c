/* Writes the generated fuzz seeds: tersa_fuzz_mkseeds <corpus dir> fills <dir>/chunk_decode
 * with small chunks written by tersa and <dir>/roundtrip with parameter+data inputs for
 * fuzz_roundtrip (10 parameter bytes, see fuzz_roundtrip.c, then the data). corpus/README.md
 * lists what each file is. The output is deterministic. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tersa/tersa.h"

typedef struct seed_chunk {
    const char *name;
    int codec, clevel, ts, f0, f5, m5, split, dict;
    int32_t blocksize;
    size_t n;
    int kind; /* 0 ramp int32, 1 smooth bytes, 2 runs */
} seed_chunk;

enum { SH = TERSA_FILTER_SHUFFLE, BS = TERSA_FILTER_BITSHUFFLE, DE = TERSA_FILTER_DELTA,
       BD = TERSA_FILTER_BYTEDELTA };

static const seed_chunk chunks[] = {
    {"blosclz-shuffle-ts4-4blocks", TERSA_CODEC_BLOSCLZ, 5, 4, 0, SH, 0, 3, 0, 1024, 4000, 0},
    {"lz4-bitshuffle-ts8-split", TERSA_CODEC_LZ4, 5, 8, 0, BS, 0, 1, 0, 2048, 6000, 1},
    {"lz4hc-bytedelta-ts4", TERSA_CODEC_LZ4HC, 5, 4, SH, BD, 4, 3, 0, 1024, 3000, 0},
    {"zlib-noshuffle-ts2", TERSA_CODEC_ZLIB, 5, 2, 0, 0, 0, 2, 0, 1000, 3001, 2},
    {"zstd-delta-shuffle-ts8", TERSA_CODEC_ZSTD, 3, 8, DE, SH, 0, 3, 0, 2048, 8000, 0},
    {"zstd-dict-ts4", TERSA_CODEC_ZSTD, 5, 4, 0, SH, 0, 3, 1, 4096, 65536, 1},
    {"lz4-split-ts19-leftover", TERSA_CODEC_LZ4, 5, 19, 0, SH, 0, 1, 0, 19 * 40, 19 * 100 + 7, 2},
    {"memcpyed-clevel0", TERSA_CODEC_LZ4, 0, 4, 0, SH, 0, 3, 0, 0, 200, 0},
    {"empty", TERSA_CODEC_BLOSCLZ, 5, 4, 0, SH, 0, 3, 0, 0, 0, 0},
};

static void gen(int kind, uint8_t *b, size_t n)
{
    uint64_t s = 88172645463325252u;
    for (size_t i = 0; i < n; i++) {
        if (kind == 0) b[i] = (uint8_t)((i / 4) >> (8 * (i % 4)));
        else if (kind == 1) b[i] = (uint8_t)(i / 97 + (i % 8 == 7 ? 0x3F : 0));
        else {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            b[i] = (uint8_t)(i / 50 % 3 == 0 ? 7 : s % 4);
        }
    }
}

static int write_file(const char *dir, const char *sub, const char *name, const char *ext,
                      const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s.%s", dir, sub, name, ext);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "mkseeds: cannot write %s\n", path);
        if (f) fclose(f);
        return 1;
    }
    fclose(f);
    return 0;
}

static int one_chunk(const char *dir, const seed_chunk *s)
{
    size_t cap = tersa_compress_bound(s->n);
    uint8_t *src = malloc(s->n + 1), *dst = malloc(cap);
    tersa_cctx *c = tersa_cctx_create();
    int rc = (!src || !dst || !c) ? -1 : 0;
    gen(s->kind, src, s->n);
    rc |= tersa_cctx_set(c, TERSA_P_CODEC, s->codec) | tersa_cctx_set(c, TERSA_P_CLEVEL, s->clevel);
    rc |= tersa_cctx_set(c, TERSA_P_TYPESIZE, s->ts) | tersa_cctx_set(c, TERSA_P_FILTER0, s->f0);
    rc |= tersa_cctx_set(c, TERSA_P_FILTER5, s->f5) | tersa_cctx_set(c, TERSA_P_FILTER_META5, s->m5);
    rc |= tersa_cctx_set(c, TERSA_P_SPLITMODE, s->split) | tersa_cctx_set(c, TERSA_P_USE_DICT, s->dict);
    rc |= tersa_cctx_set(c, TERSA_P_BLOCKSIZE, s->blocksize);
    int64_t cs = rc ? -1 : tersa_compress(c, src, s->n, dst, cap);
    if (cs < 0) fprintf(stderr, "mkseeds: %s: %s\n", s->name, tersa_error_detail());
    else rc = write_file(dir, "chunk_decode", s->name, "chunk", dst, (size_t)cs);
    tersa_cctx_free(c);
    free(src);
    free(dst);
    return cs < 0 ? 1 : rc;
}

static int specials(const char *dir)
{
    static const char *names[] = {"", "special-zeros", "special-nan", "special-value",
                                  "special-uninit"};
    uint8_t buf[64];
    double v = 3.25;
    int rc = 0;
    for (int kind = 1; kind <= 4; kind++) {
        int64_t cs = tersa_chunk_make_special(kind, 8, 8000, &v, buf, sizeof buf);
        if (cs < 0) return 1;
        rc |= write_file(dir, "chunk_decode", names[kind], "chunk", buf, (size_t)cs);
    }
    return rc;
}

/* fuzz_roundtrip inputs: codec, pipeline, typesize, clevel, split, threads, blocksize (2),
 * filter meta, flags; then data. */
static int roundtrips(const char *dir)
{
    static const struct { const char *name; uint8_t p[10]; size_t n; int kind; } rt[] = {
        {"blosclz-shuffle-ts4", {0, 1, 3, 5, 3, 0, 0x80, 0, 0, 0}, 3000, 0},
        {"lz4-bitshuffle-ts8-bs1000", {1, 2, 7, 5, 0, 1, 0x03, 0xD8, 0, 0}, 4000, 1},
        {"lz4hc-delta-shuffle", {2, 4, 3, 9, 1, 0, 0x01, 0xF0, 0, 0}, 2500, 0},
        {"zlib-none-ts1", {3, 0, 0, 1, 2, 0, 0x80, 0, 0, 0}, 1000, 2},
        {"zstd-trunc-ts4", {4, 7, 3, 3, 3, 1, 0x80, 0, 10, 0}, 4000, 1},
        {"zstd-bytedelta-meta0-ts4", {4, 9, 3, 5, 3, 0, 0x80, 0, 0, 0}, 4000, 0},
        {"lz4-dict-special", {1, 1, 3, 5, 3, 0, 0x00, 0xF0, 0, 3}, 8000, 2},
        {"blosclz-ts19-split", {0, 1, 18, 5, 0, 2, 0x00, 0x90, 0, 0}, 1907, 2},
        {"tiny", {0, 1, 3, 5, 3, 0, 0x80, 0, 0, 0}, 5, 0},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++) {
        uint8_t *b = malloc(10 + rt[i].n);
        if (!b) return 1;
        memcpy(b, rt[i].p, 10);
        gen(rt[i].kind, b + 10, rt[i].n);
        rc |= write_file(dir, "roundtrip", rt[i].name, "bin", b, 10 + rt[i].n);
        free(b);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tersa_fuzz_mkseeds <corpus dir>\n");
        return 2;
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) rc |= one_chunk(argv[1], &chunks[i]);
    rc |= specials(argv[1]);
    rc |= roundtrips(argv[1]);
    return rc ? 1 : 0;
}

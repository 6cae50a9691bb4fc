/* Round-trip matrix of the chunk engine, through the public API only.
 *
 * What one case checks (check_case): compress succeeds and fits tersa_compress_bound;
 * tersa_chunk_validate passes; tersa_chunk_inspect reports the parameters (typesize, nbytes,
 * cbytes, codec, filters and metas, memcpyed, blocksize, split flag by the rule of FORMATS.md
 * 2.8); tersa_decompress returns nbytes and the input (trunc-prec: the input with the low
 * mantissa bits cleared, unless the chunk is memcpyed); a too-small destination fails cleanly;
 * tersa_getitem of random item ranges equals the input, and a range inside one block decodes
 * one block (two with DELTA: block 0 is the reference); tersa_decompress_blocks with a random
 * mask writes exactly the masked blocks (the rest keeps a sentinel) and the dctx counter grows
 * by the number of masked blocks (plus block 0 with DELTA).
 *
 * Pruning of the full product codec x filters x typesize x size x threads x split x clevel:
 *  - small matrix: every codec x every filter set x every typesize {1,2,3,4,7,8,16,19} x the
 *    sizes {0,1,5,31,33,4099, 60013 with a forced small blocksize, 70001 automatic}; clevel,
 *    split mode and thread count are drawn per case from a fixed-seed generator (so each
 *    codec/filter/typesize cell sees a mix of them) and so is the data kind;
 *  - full product split x clevel x threads for every codec, typesize 4 and 19, shuffle,
 *    200003 bytes;
 *  - big chunks (3 MiB + 13) for a dozen codec/filter/typesize cells only, 4 threads;
 *  - determinism (threads 1/2/4, shared pools, concurrent contexts) on ~1 MiB inputs.
 * Special values, parameter errors and user plugins have their own sections.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "harness.h"
#include "tersa/tersa.h"

#define NCODECS 5
static const int codecs[NCODECS] = {TERSA_CODEC_BLOSCLZ, TERSA_CODEC_LZ4, TERSA_CODEC_LZ4HC,
                                    TERSA_CODEC_ZLIB, TERSA_CODEC_ZSTD};
static const int typesizes[] = {1, 2, 3, 4, 7, 8, 16, 19};
#define NTYPESIZES ((int)(sizeof typesizes / sizeof typesizes[0]))
static const int clevels[] = {0, 1, 5, 9};
static const int splits[] = {TERSA_SPLIT_ALWAYS, TERSA_SPLIT_NEVER, TERSA_SPLIT_AUTO,
                             TERSA_SPLIT_FORWARD_COMPAT};
static const int threadcounts[] = {1, 2, 4};

/* A filter pipeline. meta META_TS means "the typesize". */
#define META_TS 1000
typedef struct fset {
    const char *name;
    uint8_t f[6];
    int meta[6];
    int ts48_only;    /* trunc-prec: typesize 4 or 8 only */
    int frame_ts;     /* bytedelta meta 0: pass the typesize as frame typesize */
} fset;

enum { F_ = 0, SH = TERSA_FILTER_SHUFFLE, BS = TERSA_FILTER_BITSHUFFLE, DE = TERSA_FILTER_DELTA,
       TP = TERSA_FILTER_TRUNC_PREC, BD = TERSA_FILTER_BYTEDELTA };

static const fset fsets[] = {
    {"none", {0, 0, 0, 0, 0, 0}, {0}, 0, 0},
    {"shuffle", {0, 0, 0, 0, 0, SH}, {0}, 0, 0},
    {"bitshuffle", {0, 0, 0, 0, 0, BS}, {0}, 0, 0},
    {"delta", {0, 0, 0, 0, 0, DE}, {0}, 0, 0},
    {"delta+shuffle", {0, 0, 0, 0, DE, SH}, {0}, 0, 0},
    {"delta..bitshuffle", {DE, 0, 0, 0, 0, BS}, {0}, 0, 0},
    {"shuffle+bitshuffle", {0, 0, 0, 0, SH, BS}, {0}, 0, 0},
    {"shuffle(meta 2)", {0, 0, 0, 0, 0, SH}, {0, 0, 0, 0, 0, 2}, 0, 0},
    {"trunc(10)+shuffle", {0, 0, 0, 0, TP, SH}, {0, 0, 0, 0, 10, 0}, 1, 0},
    {"trunc(-7)", {TP, 0, 0, 0, 0, 0}, {-7, 0, 0, 0, 0, 0}, 1, 0},
    {"shuffle+bytedelta(0)", {0, 0, 0, 0, SH, BD}, {0}, 0, 1},
    {"shuffle+bytedelta(ts)", {0, 0, 0, 0, SH, BD}, {0, 0, 0, 0, 0, META_TS}, 0, 0},
};
#define NFSETS ((int)(sizeof fsets / sizeof fsets[0]))

typedef struct rt_cfg {
    int codec, clevel, typesize, split, nthreads, datakind;
    int32_t blocksize;
    const fset *fs;
} rt_cfg;

/* Contexts reused across cases (one pair per thread count), which also tests re-setting. */
typedef struct ctxs {
    tersa_cctx *c[3];
    tersa_dctx *d[3];
} ctxs;

static int th_index(int nthreads)
{
    return nthreads == 1 ? 0 : nthreads == 2 ? 1 : 2;
}

/* ---- test data -------------------------------------------------------------------------- */

/* One element of kind k at index i into e (ts bytes). */
static void gen_elem(int kind, int ts, uint64_t i, uint64_t *rng, uint64_t *run, uint8_t *e)
{
    uint64_t v;
    if (kind == 0 && (ts == 4 || ts == 8)) { /* smooth floats */
        double x = 100.0 * sin((double)i * 0.001) + (double)i * 1e-3;
        if (ts == 4) {
            float f = (float)x;
            memcpy(e, &f, 4);
        } else {
            memcpy(e, &x, 8);
        }
        return;
    }
    if (kind == 0) v = (uint64_t)(1000.0 + 500.0 * sin((double)i * 0.01)); /* smooth ints */
    else if (kind == 1) v = i * 3;                                         /* ramp */
    else if (kind == 2) v = th_rand(rng);                                  /* noise */
    else {                                                                 /* runs */
        if ((th_rand(rng) % 97) == 0) *run = th_rand(rng) & 0xFFFF;
        v = *run;
    }
    for (int b = 0; b < ts; b++) e[b] = b < 8 ? (uint8_t)(v >> (8 * b)) : (uint8_t)(b * 7);
}

static void gen_data(int kind, int ts, uint8_t *buf, size_t n, uint64_t seed)
{
    uint64_t rng = seed * 2654435761u + 1, run = 7;
    uint8_t e[256];
    for (size_t i = 0; i * (size_t)ts < n; i++) {
        gen_elem(kind, ts, i, &rng, &run, e);
        size_t k = n - i * (size_t)ts < (size_t)ts ? n - i * (size_t)ts : (size_t)ts;
        memcpy(buf + i * (size_t)ts, e, k);
    }
}

/* Expected trunc-prec output: every whole element has its low mantissa bits cleared. */
static void apply_trunc(int prec, int ts, uint8_t *buf, size_t n)
{
    int mant = ts == 4 ? 23 : 52;
    int clear = prec > 0 ? mant - prec : -prec;
    if (clear <= 0) return;
    uint64_t mask = ~((UINT64_C(1) << clear) - 1);
    for (size_t i = 0; (i + 1) * (size_t)ts <= n; i++) {
        uint64_t v = 0;
        memcpy(&v, buf + i * ts, (size_t)ts); /* little-endian host */
        v &= mask;
        memcpy(buf + i * ts, &v, (size_t)ts);
    }
}

/* ---- contexts --------------------------------------------------------------------------- */

static int fmeta_of(const fset *fs, int slot, int ts)
{
    return fs->meta[slot] == META_TS ? ts : fs->meta[slot];
}

static void set_cctx(tersa_cctx *c, const rt_cfg *cfg)
{
    CHECK_OK(tersa_cctx_set(c, TERSA_P_TYPESIZE, cfg->typesize));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_CLEVEL, cfg->clevel));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_CODEC, cfg->codec));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_BLOCKSIZE, cfg->blocksize));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_SPLITMODE, cfg->split));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_NTHREADS, cfg->nthreads));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_DETECT_SPECIAL, 0));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_FRAME_TYPESIZE, cfg->fs->frame_ts ? cfg->typesize : 0));
    for (int s = 0; s < 6; s++) {
        CHECK_OK(tersa_cctx_set(c, (tersa_param)(TERSA_P_FILTER0 + s), cfg->fs->f[s]));
        CHECK_OK(tersa_cctx_set(c, (tersa_param)(TERSA_P_FILTER_META0 + s),
                                fmeta_of(cfg->fs, s, cfg->typesize)));
    }
}

static void set_dctx(tersa_dctx *d, const rt_cfg *cfg)
{
    CHECK_OK(tersa_dctx_set(d, TERSA_P_NTHREADS, cfg->nthreads));
    CHECK_OK(tersa_dctx_set(d, TERSA_P_FRAME_TYPESIZE, cfg->fs->frame_ts ? cfg->typesize : 0));
}

/* ---- expectations ------------------------------------------------------------------------ */

static int has_filter(const uint8_t *f, int id)
{
    for (int s = 0; s < 6; s++)
        if (f[s] == id) return 1;
    return 0;
}

/* The split rule of FORMATS.md 2.8 as written. */
static int split_rule(const rt_cfg *cfg, int32_t blocksize)
{
    if (cfg->split == TERSA_SPLIT_ALWAYS) return 1;
    if (cfg->split == TERSA_SPLIT_NEVER) return 0;
    int fast = cfg->codec == TERSA_CODEC_BLOSCLZ || cfg->codec == TERSA_CODEC_LZ4 ||
               (cfg->codec == TERSA_CODEC_ZSTD && cfg->clevel <= 5);
    return fast && has_filter(cfg->fs->f, SH) && cfg->typesize <= 16 &&
           blocksize / cfg->typesize >= 32;
}

/* The split flag of a chunk: the rule with the final blocksize, and a split block must hold
 * whole elements (2.7). inspect reports split 0 for memcpyed chunks. */
static int expect_split(const rt_cfg *cfg, int32_t blocksize)
{
    if (cfg->typesize > 1 && blocksize % cfg->typesize != 0) return 0;
    return split_rule(cfg, blocksize);
}

/* Blocksize for a forced cfg->blocksize (FORMATS.md 2.8 steps 1, 2, 5). */
static int32_t expect_blocksize(const rt_cfg *cfg, size_t n)
{
    if (n < (size_t)cfg->typesize) return 1;
    int32_t bs = cfg->blocksize;
    if ((size_t)bs > n) bs = (int32_t)n;
    if (bs > cfg->typesize) bs -= bs % cfg->typesize;
    return bs;
}

/* Automatic blocksize, FORMATS.md 2.8 steps 1 and 3 to 5, written from the text. */
static int32_t expect_auto_blocksize(const rt_cfg *cfg, size_t n)
{
    static const int per_item_k[10] = {0, 32, 32, 32, 64, 64, 64, 128, 256, 512};
    int ts = cfg->typesize, cl = cfg->clevel;
    int hcr = cfg->codec == TERSA_CODEC_LZ4HC || cfg->codec == TERSA_CODEC_ZLIB ||
              cfg->codec == TERSA_CODEC_ZSTD;
    if (n < (size_t)ts) return 1;
    int64_t bs = (int64_t)n;
    if (n >= 32 * 1024) {
        bs = hcr ? 64 * 1024 : 32 * 1024;
        bs = cl == 0 ? bs / 4 : cl == 1 ? bs / 2 : cl == 2 ? bs : cl == 3 ? bs * 2
             : cl <= 5 ? bs * 4 : cl <= 8 ? bs * 8 : hcr ? bs * 16 : bs * 8;
    }
    if (cl > 0 && split_rule(cfg, (int32_t)n)) {
        bs = (int64_t)per_item_k[cl] * 1024 * ts;
        bs = bs < 32 * 1024 ? 32 * 1024 : bs > 4 * 1024 * 1024 ? 4 * 1024 * 1024 : bs;
    }
    if (bs > (int64_t)n) bs = (int64_t)n;
    if (bs > ts) bs -= bs % ts;
    return (int32_t)bs;
}

/* What decompression must give: the input, trunc-prec applied unless the chunk is memcpyed. */
static void expected_output(const rt_cfg *cfg, const uint8_t *src, size_t n, int memcpyed,
                            uint8_t *exp)
{
    memcpy(exp, src, n);
    if (memcpyed) return;
    for (int s = 0; s < 6; s++)
        if (cfg->fs->f[s] == TP) apply_trunc(cfg->fs->meta[s], cfg->typesize, exp, n);
}

static void check_info(const rt_cfg *cfg, size_t n, int64_t csize, const tersa_chunk_info *in)
{
    CHECK_EQ(in->header_len, 32);
    CHECK_EQ(in->typesize, cfg->typesize);
    CHECK_EQ(in->nbytes, (int64_t)n);
    CHECK_EQ(in->cbytes, csize);
    CHECK_EQ(in->codec, cfg->codec);
    CHECK_EQ(in->special, TERSA_SPECIAL_NONE);
    CHECK_EQ(in->vlblocks, 0);
    for (int s = 0; s < 6; s++) {
        CHECK_EQ(in->filters[s], cfg->fs->f[s]);
        CHECK_EQ(in->filters_meta[s], (uint8_t)fmeta_of(cfg->fs, s, cfg->typesize));
    }
    if (cfg->clevel == 0 || n < 32) CHECK_EQ(in->memcpyed, 1);
    if (in->memcpyed) CHECK_EQ(in->cbytes, (int64_t)n + 32);
    if (cfg->blocksize > 0) CHECK_EQ(in->blocksize, expect_blocksize(cfg, n));
    if (cfg->blocksize == 0 && n > 0) CHECK_EQ(in->blocksize, expect_auto_blocksize(cfg, n));
    if (n > 0) CHECK(in->blocksize >= 1);
    CHECK_EQ(in->split, n > 0 && !in->memcpyed && expect_split(cfg, in->blocksize));
}

/* ---- partial decoding checks ------------------------------------------------------------ */

static int64_t blocks_decoded(const tersa_dctx *d)
{
    tersa_dstats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    tersa_dctx_stats(d, &st);
    return st.blocks_decoded;
}

/* Random item ranges, one range inside one block, and out-of-range requests. */
static void check_getitem(tersa_dctx *d, const uint8_t *chunk, int64_t cs, const uint8_t *exp,
                          size_t n, int ts, int32_t bs, int delta, uint64_t *rng)
{
    int64_t total = (int64_t)(n / (size_t)ts);
    uint8_t *out = malloc(n + 1);
    for (int k = 0; k < 3 && total > 0; k++) {
        int64_t start = (int64_t)(th_rand(rng) % (uint64_t)total);
        int64_t cnt = 1 + (int64_t)(th_rand(rng) % (uint64_t)(total - start));
        CHECK_EQ(tersa_getitem(d, chunk, (size_t)cs, start, cnt, out, n), cnt * ts);
        CHECK_MEM(out, exp + start * ts, (size_t)(cnt * ts));
    }
    int64_t per_block = bs >= ts ? bs / ts : 0;
    if (total > 0 && per_block > 0 && bs % ts == 0) {
        int64_t nfull = total / per_block, b = nfull ? (int64_t)(th_rand(rng) % nfull) : 0;
        if (nfull > 0) {
            int64_t start = b * per_block + (int64_t)(th_rand(rng) % (uint64_t)per_block);
            int64_t cnt = 1 + (int64_t)(th_rand(rng) % (uint64_t)(b * per_block + per_block - start));
            int64_t before = blocks_decoded(d);
            CHECK_EQ(tersa_getitem(d, chunk, (size_t)cs, start, cnt, out, n), cnt * ts);
            CHECK_MEM(out, exp + start * ts, (size_t)(cnt * ts));
            int64_t got = blocks_decoded(d) - before;
            if (!(got == 1 || (delta && b > 0 && got == 2)))
                TH_FAIL_AT("getitem inside block %lld decoded %lld blocks", (long long)b,
                           (long long)got);
        }
    }
    CHECK(tersa_getitem(d, chunk, (size_t)cs, total, 1, out, n + 1) < 0);
    CHECK(tersa_getitem(d, chunk, (size_t)cs, -1, 1, out, n + 1) < 0);
    CHECK(tersa_getitem(d, chunk, (size_t)cs, 0, INT64_MAX, out, n + 1) < 0);
    if (total > 1) CHECK_ERR(tersa_getitem(d, chunk, (size_t)cs, 0, 2, out, (size_t)ts), TERSA_ERR_DST_TOO_SMALL);
    free(out);
}

/* decompress_blocks with a random mask: exactly the masked blocks are written. */
static void check_blocks(tersa_dctx *d, const uint8_t *chunk, int64_t cs, const uint8_t *exp,
                         size_t n, int32_t bs, int delta, uint64_t *rng)
{
    if (n == 0) return;
    if ((size_t)bs > n) bs = (int32_t)n;
    size_t nb = (n + (size_t)bs - 1) / (size_t)bs;
    uint8_t *mask = calloc(nb + 1, 1), *out = malloc(n);
    int64_t want = 0;
    for (size_t j = 0; j < nb; j++) {
        mask[j] = (th_rand(rng) % 5) < 2 ? (uint8_t)(1 + th_rand(rng) % 255) : 0;
        want += mask[j] != 0;
    }
    memset(out, 0xA5, n);
    int64_t before = blocks_decoded(d);
    CHECK_EQ(tersa_decompress_blocks(d, chunk, (size_t)cs, mask, nb, out, n), want);
    int64_t got = blocks_decoded(d) - before;
    if (!(got == want || (delta && !mask[0] && want > 0 && got == want + 1)))
        TH_FAIL_AT("decompress_blocks: %lld blocks counted, %lld masked", (long long)got,
                   (long long)want);
    for (size_t j = 0; j < nb; j++) {
        size_t off = j * (size_t)bs, len = n - off < (size_t)bs ? n - off : (size_t)bs;
        if (mask[j]) {
            CHECK_MEM(out + off, exp + off, len);
        } else {
            size_t i = 0;
            while (i < len && out[off + i] == 0xA5) i++;
            if (i < len) TH_FAIL_AT("block %zu not masked but written at +%zu", j, i);
        }
    }
    if (nb > 1) CHECK(tersa_decompress_blocks(d, chunk, (size_t)cs, mask, nb - 1, out, n) < 0);
    CHECK_ERR(tersa_decompress_blocks(d, chunk, (size_t)cs, mask, nb, out, n - 1),
              TERSA_ERR_DST_TOO_SMALL);
    free(mask);
    free(out);
}

/* ---- one case ---------------------------------------------------------------------------- */

static int64_t compress_case(tersa_cctx *c, const uint8_t *src, size_t n, uint8_t **chunk)
{
    size_t cap = tersa_compress_bound(n);
    CHECK_EQ(cap, n + 32);
    *chunk = malloc(cap);
    int64_t cs = tersa_compress(c, src, n, *chunk, cap);
    CHECK_OK(cs);
    CHECK(cs <= (int64_t)cap);
    return cs;
}

static void describe(const rt_cfg *cfg, size_t n)
{
    fprintf(stderr, "  case: codec %d clevel %d filters %s typesize %d n %zu split %d threads %d "
                    "blocksize %d data %d\n",
            cfg->codec, cfg->clevel, cfg->fs->name, cfg->typesize, n, cfg->split, cfg->nthreads,
            (int)cfg->blocksize, cfg->datakind);
}

/* Decode and check a chunk made from src under cfg. */
static void check_chunk(const rt_cfg *cfg, tersa_dctx *d, const uint8_t *src, size_t n,
                        const uint8_t *chunk, int64_t cs, uint64_t *rng)
{
    tersa_chunk_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    CHECK_OK(tersa_chunk_validate(chunk, (size_t)cs));
    CHECK_OK(tersa_chunk_inspect(chunk, (size_t)cs, &in));
    check_info(cfg, n, cs, &in);
    uint8_t *exp = malloc(n + 1), *out = malloc(n + 1);
    expected_output(cfg, src, n, in.memcpyed, exp);
    CHECK_EQ(tersa_decompress(d, chunk, (size_t)cs, out, n), (int64_t)n);
    CHECK_MEM(out, exp, n);
    if (n > 0)
        CHECK_ERR(tersa_decompress(d, chunk, (size_t)cs, out, n - 1), TERSA_ERR_DST_TOO_SMALL);
    int delta = has_filter(cfg->fs->f, DE) && !in.memcpyed;
    check_getitem(d, chunk, cs, exp, n, cfg->typesize, in.blocksize, delta, rng);
    check_blocks(d, chunk, cs, exp, n, in.blocksize, delta, rng);
    free(exp);
    free(out);
}

static void run_case(ctxs *cx, const rt_cfg *cfg, size_t n, uint64_t *rng)
{
    int before = th_failures;
    uint8_t *src = malloc(n + 1), *chunk = NULL;
    gen_data(cfg->datakind, cfg->typesize, src, n, th_rand(rng));
    tersa_cctx *c = cx->c[th_index(cfg->nthreads)];
    tersa_dctx *d = cx->d[th_index(cfg->nthreads)];
    set_cctx(c, cfg);
    set_dctx(d, cfg);
    int64_t cs = compress_case(c, src, n, &chunk);
    if (cs > 0) check_chunk(cfg, d, src, n, chunk, cs, rng);
    if (th_failures != before) describe(cfg, n);
    free(src);
    free(chunk);
}

/* ---- the matrices ------------------------------------------------------------------------ */

static void small_matrix(ctxs *cx)
{
    static const size_t sizes[] = {0, 1, 5, 31, 33, 4099, 60013, 70001};
    uint64_t rng = 0x1234567;
    for (int ci = 0; ci < NCODECS; ci++)
        for (int fi = 0; fi < NFSETS; fi++)
            for (int ti = 0; ti < NTYPESIZES; ti++) {
                rt_cfg cfg = {codecs[ci], 0, typesizes[ti], 0, 1, 0, 0, &fsets[fi]};
                if (cfg.fs->ts48_only && cfg.typesize != 4 && cfg.typesize != 8) continue;
                for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
                    cfg.clevel = clevels[th_rand(&rng) % 4];
                    cfg.split = splits[th_rand(&rng) % 4];
                    cfg.nthreads = threadcounts[th_rand(&rng) % 3];
                    cfg.datakind = (int)(th_rand(&rng) % 4);
                    cfg.blocksize = si == 6 ? 4500 : 0;
                    run_case(cx, &cfg, sizes[si], &rng);
                }
            }
}

static void product_matrix(ctxs *cx)
{
    uint64_t rng = 0x777;
    static const int ts2[] = {4, 19};
    for (int ci = 0; ci < NCODECS; ci++)
        for (int t = 0; t < 2; t++)
            for (int sp = 0; sp < 4; sp++)
                for (int cl = 0; cl < 4; cl++)
                    for (int th = 0; th < 3; th++) {
                        rt_cfg cfg = {codecs[ci], clevels[cl], ts2[t], splits[sp],
                                      threadcounts[th], 0, 0, &fsets[1]};
                        /* zstd/zlib level 9 are slow: once per split mode only. */
                        if (clevels[cl] == 9 && codecs[ci] >= TERSA_CODEC_ZLIB && th != 2)
                            continue;
                        run_case(cx, &cfg, 200003, &rng);
                    }
}

static void big_matrix(ctxs *cx)
{
    static const struct { int codec, clevel, fset, ts; } cells[] = {
        {TERSA_CODEC_BLOSCLZ, 5, 1, 4}, {TERSA_CODEC_BLOSCLZ, 9, 2, 8},
        {TERSA_CODEC_BLOSCLZ, 1, 4, 8}, {TERSA_CODEC_LZ4, 5, 1, 8},
        {TERSA_CODEC_LZ4, 9, 5, 4},     {TERSA_CODEC_LZ4HC, 5, 6, 4},
        {TERSA_CODEC_ZLIB, 5, 1, 19},   {TERSA_CODEC_ZLIB, 1, 0, 1},
        {TERSA_CODEC_ZSTD, 3, 11, 8},   {TERSA_CODEC_ZSTD, 1, 8, 4},
        {TERSA_CODEC_BLOSCLZ, 5, 3, 16}, {TERSA_CODEC_LZ4, 1, 10, 2},
    };
    uint64_t rng = 0x99;
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        rt_cfg cfg = {cells[i].codec, cells[i].clevel, cells[i].ts, splits[i % 4], 4,
                      (int)(i % 4), 0, &fsets[cells[i].fset]};
        run_case(cx, &cfg, 3 * 1024 * 1024 + 13, &rng);
    }
}

/* ---- determinism --------------------------------------------------------------------------- */

typedef struct det_job {
    tersa_pool *pool;
    const rt_cfg *cfg;
    const uint8_t *src, *ref;
    size_t n;
    int64_t refsize;
    int mismatches;
} det_job;

static int64_t compress_with(const rt_cfg *cfg, tersa_pool *pool, const uint8_t *src, size_t n,
                             uint8_t *dst, size_t cap)
{
    tersa_cctx *c = tersa_cctx_create();
    set_cctx(c, cfg);
    if (pool) CHECK_OK(tersa_cctx_set_pool(c, pool));
    int64_t cs = tersa_compress(c, src, n, dst, cap);
    tersa_cctx_free(c);
    return cs;
}

static void *det_thread(void *arg)
{
    det_job *j = arg;
    size_t cap = tersa_compress_bound(j->n);
    uint8_t *dst = malloc(cap);
    for (int r = 0; r < 4; r++) {
        int64_t cs = compress_with(j->cfg, j->pool, j->src, j->n, dst, cap);
        if (cs != j->refsize || memcmp(dst, j->ref, (size_t)cs) != 0) j->mismatches++;
    }
    free(dst);
    return NULL;
}

static void det_concurrent(const rt_cfg *cfg, const uint8_t *src, size_t n, const uint8_t *ref,
                           int64_t refsize)
{
    tersa_pool *pool = tersa_pool_create(3);
    CHECK(pool != NULL);
    CHECK_EQ(tersa_pool_nthreads(pool), 3);
    det_job jobs[2];
    pthread_t tid[2];
    for (int k = 0; k < 2; k++) {
        jobs[k] = (det_job){pool, cfg, src, ref, n, refsize, 0};
        CHECK_EQ(pthread_create(&tid[k], NULL, det_thread, &jobs[k]), 0);
    }
    for (int k = 0; k < 2; k++) {
        pthread_join(tid[k], NULL);
        CHECK_EQ(jobs[k].mismatches, 0);
    }
    tersa_pool_free(pool);
}

static void det_one(const rt_cfg *base, uint64_t seed)
{
    size_t n = 1024 * 1024 + 37, cap = tersa_compress_bound(n);
    uint8_t *src = malloc(n), *ref = malloc(cap), *dst = malloc(cap);
    gen_data(base->datakind, base->typesize, src, n, seed);
    rt_cfg cfg = *base;
    cfg.nthreads = 1;
    int64_t refsize = compress_with(&cfg, NULL, src, n, ref, cap);
    CHECK_OK(refsize);
    for (int t = 2; t <= 4; t += 2) {
        cfg.nthreads = t;
        CHECK_EQ(compress_with(&cfg, NULL, src, n, dst, cap), refsize);
        CHECK_MEM(dst, ref, (size_t)refsize);
    }
    tersa_pool *pool = tersa_pool_create(4);
    CHECK_EQ(compress_with(&cfg, pool, src, n, dst, cap), refsize);
    CHECK_MEM(dst, ref, (size_t)refsize);
    tersa_pool_free(pool);
    det_concurrent(&cfg, src, n, ref, refsize);
    free(src);
    free(ref);
    free(dst);
}

static void determinism(void)
{
    static const struct { int codec, clevel, fset, ts, bs; } cells[] = {
        {TERSA_CODEC_BLOSCLZ, 5, 1, 4, 16384}, {TERSA_CODEC_LZ4, 5, 4, 8, 32768},
        {TERSA_CODEC_LZ4HC, 3, 2, 4, 0},       {TERSA_CODEC_ZLIB, 3, 6, 8, 65536},
        {TERSA_CODEC_ZSTD, 3, 5, 4, 40000},    {TERSA_CODEC_ZSTD, 1, 11, 19, 8192},
    };
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        rt_cfg cfg = {cells[i].codec, cells[i].clevel, cells[i].ts, TERSA_SPLIT_FORWARD_COMPAT,
                      1, (int)(i % 4), cells[i].bs, &fsets[cells[i].fset]};
        det_one(&cfg, i + 1);
    }
}

/* ---- special values ---------------------------------------------------------------------- */

static tersa_chunk_info inspect(const void *chunk, int64_t cs)
{
    tersa_chunk_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    CHECK_OK(tersa_chunk_inspect(chunk, cs > 0 ? (size_t)cs : 0, &in));
    return in;
}

/* Decode a special chunk every way; exp holds what it must give. */
static void check_special_decode(const uint8_t *chunk, int64_t cs, const uint8_t *exp, size_t n,
                                 int ts)
{
    tersa_dctx *d = tersa_dctx_create();
    uint8_t *out = malloc(n);
    uint64_t rng = 5;
    CHECK_OK(tersa_chunk_validate(chunk, (size_t)cs));
    memset(out, 0xFF, n);
    CHECK_EQ(tersa_decompress(d, chunk, (size_t)cs, out, n), (int64_t)n);
    CHECK_MEM(out, exp, n);
    tersa_chunk_info in = inspect(chunk, cs);
    check_getitem(d, chunk, cs, exp, n, ts, in.blocksize, 0, &rng);
    check_blocks(d, chunk, cs, exp, n, in.blocksize, 0, &rng);
    tersa_dctx_free(d);
    free(out);
}

static void special_detected(const uint8_t *src, size_t n, int ts, int detect, int want_kind,
                             int64_t want_cbytes)
{
    tersa_cctx *c = tersa_cctx_create();
    CHECK_OK(tersa_cctx_set(c, TERSA_P_TYPESIZE, ts));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_DETECT_SPECIAL, detect));
    uint8_t *chunk = malloc(tersa_compress_bound(n));
    int64_t cs = tersa_compress(c, src, n, chunk, tersa_compress_bound(n));
    CHECK_OK(cs);
    tersa_chunk_info in = inspect(chunk, cs);
    if (want_kind >= 0) CHECK_EQ(in.special, want_kind);
    if (want_cbytes > 0) CHECK_EQ(cs, want_cbytes);
    CHECK_EQ(in.nbytes, (int64_t)n);
    if (cs > 0) check_special_decode(chunk, cs, src, n, ts);
    tersa_cctx_free(c);
    free(chunk);
}

static void fill_pattern(uint8_t *buf, size_t n, const void *val, int ts)
{
    for (size_t i = 0; i + (size_t)ts <= n; i += (size_t)ts) memcpy(buf + i, val, (size_t)ts);
}

static void special_detection(void)
{
    size_t n = 8 * 40000;
    uint8_t *buf = malloc(n);
    uint32_t nanf_ = 0x7FC00000u;
    uint64_t nan_ = UINT64_C(0x7FF8000000000000);
    double v = 3.25;
    uint8_t rec[19];
    for (int i = 0; i < 19; i++) rec[i] = (uint8_t)(i * 13 + 1);

    memset(buf, 0, n);
    special_detected(buf, n, 4, 1, TERSA_SPECIAL_ZEROS, 32);
    special_detected(buf, n, 8, 0, -1, 0); /* detection off: zeros may still become a
                                              zero-run special chunk (FORMATS 2.7) */
    fill_pattern(buf, n, &nanf_, 4);
    special_detected(buf, n, 4, 1, TERSA_SPECIAL_NAN, 32);
    special_detected(buf, n, 4, 0, TERSA_SPECIAL_NONE, 0);
    fill_pattern(buf, n, &nan_, 8);
    special_detected(buf, n, 8, 1, TERSA_SPECIAL_NAN, 32);
    special_detected(buf, n, 8, 0, TERSA_SPECIAL_NONE, 0);
    fill_pattern(buf, n, &v, 8);
    special_detected(buf, n, 8, 1, TERSA_SPECIAL_VALUE, 40);
    special_detected(buf, n, 8, 0, TERSA_SPECIAL_NONE, 0);
    fill_pattern(buf, 19 * 10000, rec, 19);
    special_detected(buf, 19 * 10000, 19, 1, TERSA_SPECIAL_VALUE, 32 + 19);
    special_detected(buf, 19 * 10000, 19, 0, TERSA_SPECIAL_NONE, 0);
    buf[19 * 5000 + 3] ^= 1; /* one byte off: not special */
    special_detected(buf, 19 * 10000, 19, 1, TERSA_SPECIAL_NONE, 0);
    free(buf);
}

static void special_made(int kind, int ts, size_t n, const void *value, const uint8_t *exp,
                         int64_t want_cbytes)
{
    uint8_t chunk[64 + 256];
    int64_t cs = tersa_chunk_make_special(kind, ts, (int64_t)n, value, chunk, sizeof chunk);
    CHECK_EQ(cs, want_cbytes);
    if (cs <= 0) return;
    tersa_chunk_info in = inspect(chunk, cs);
    CHECK_EQ(in.special, kind);
    CHECK_EQ(in.nbytes, (int64_t)n);
    CHECK_EQ(in.typesize, ts);
    check_special_decode(chunk, cs, exp, n, ts);
    CHECK_ERR(tersa_chunk_make_special(kind, ts, (int64_t)n, value, chunk, (size_t)cs - 1),
              TERSA_ERR_DST_TOO_SMALL);
}

static void special_make(void)
{
    size_t n = 8 * 19 * 1000;
    uint8_t *exp = malloc(n), rec[19];
    uint32_t nanf_ = 0x7FC00000u;
    uint64_t nan_ = UINT64_C(0x7FF8000000000000);
    double v = -1.5e300;
    for (int i = 0; i < 19; i++) rec[i] = (uint8_t)(0xF0 - i);
    memset(exp, 0, n);
    special_made(TERSA_SPECIAL_ZEROS, 4, n, NULL, exp, 32);
    special_made(TERSA_SPECIAL_ZEROS, 4, 1001, NULL, exp, 32);
    special_made(TERSA_SPECIAL_UNINIT, 8, n, NULL, exp, 32);
    fill_pattern(exp, n, &nanf_, 4);
    special_made(TERSA_SPECIAL_NAN, 4, n, NULL, exp, 32);
    fill_pattern(exp, n, &nan_, 8);
    special_made(TERSA_SPECIAL_NAN, 8, n, NULL, exp, 32);
    fill_pattern(exp, n, &v, 8);
    special_made(TERSA_SPECIAL_VALUE, 8, n, &v, exp, 40);
    fill_pattern(exp, n, rec, 19);
    special_made(TERSA_SPECIAL_VALUE, 19, n, rec, exp, 51);
    uint8_t chunk[64];
    /* NaN needs typesize 4 or 8; VALUE needs a value and nbytes a multiple of it; bad kinds. */
    CHECK(tersa_chunk_make_special(TERSA_SPECIAL_NAN, 3, 300, NULL, chunk, sizeof chunk) < 0);
    CHECK(tersa_chunk_make_special(TERSA_SPECIAL_VALUE, 8, 800, NULL, chunk, sizeof chunk) < 0);
    CHECK(tersa_chunk_make_special(TERSA_SPECIAL_VALUE, 8, 801, &v, chunk, sizeof chunk) < 0);
    CHECK(tersa_chunk_make_special(5, 4, 400, NULL, chunk, sizeof chunk) < 0);
    CHECK(tersa_chunk_make_special(TERSA_SPECIAL_NONE, 4, 400, NULL, chunk, sizeof chunk) < 0);
    CHECK(tersa_chunk_make_special(TERSA_SPECIAL_ZEROS, 0, 400, NULL, chunk, sizeof chunk) < 0);
    CHECK(tersa_chunk_make_special(TERSA_SPECIAL_ZEROS, 4, -1, NULL, chunk, sizeof chunk) < 0);
    CHECK(tersa_chunk_make_special(TERSA_SPECIAL_ZEROS, 4, (int64_t)TERSA_MAX_BUFFERSIZE + 1,
                                   NULL, chunk, sizeof chunk) < 0);
    free(exp);
}

/* ---- parameter errors -------------------------------------------------------------------- */

static void check_detail(const char *what)
{
    const char *d = tersa_error_detail();
    if (!d || !d[0]) TH_FAIL_AT("%s: empty error detail", what);
}

/* A bad value must be refused by the setter or by tersa_compress, never crash. */
static void bad_cparam(tersa_param p, int64_t v)
{
    tersa_cctx *c = tersa_cctx_create();
    uint8_t src[4096], dst[4096 + 32];
    gen_data(1, 4, src, sizeof src, 3);
    int rc = tersa_cctx_set(c, p, v);
    if (rc >= 0) {
        int64_t cs = tersa_compress(c, src, sizeof src, dst, sizeof dst);
        if (cs >= 0) TH_FAIL_AT("param %d value %lld accepted by set and compress", (int)p,
                                (long long)v);
        else check_detail("compress");
    } else {
        check_detail("set");
        int64_t got = 0;
        if (p > 0 && p < TERSA_P_COUNT_) {
            CHECK_OK(tersa_cctx_get(c, p, &got));
            CHECK_NE(got, v); /* the old value is kept */
        }
    }
    tersa_cctx_free(c);
}


static void bad_params(void)
{
    bad_cparam(TERSA_P_TYPESIZE, 0);
    bad_cparam(TERSA_P_TYPESIZE, 256);
    bad_cparam(TERSA_P_CLEVEL, 12);
    bad_cparam(TERSA_P_CLEVEL, -1);
    bad_cparam(TERSA_P_CODEC, 3);
    bad_cparam(TERSA_P_CODEC, 99);
    bad_cparam(TERSA_P_CODEC, 160); /* a user id, but no registry */
    bad_cparam(TERSA_P_FILTER2, 7);
    bad_cparam(TERSA_P_FILTER0, 36);
    bad_cparam(TERSA_P_FILTER3, 200);
    bad_cparam(TERSA_P_BLOCKSIZE, -1);
    bad_cparam(TERSA_P_BLOCKSIZE, (int64_t)TERSA_MAX_BLOCKSIZE + 1);
    bad_cparam(TERSA_P_SPLITMODE, 0);
    bad_cparam(TERSA_P_SPLITMODE, 5);
    bad_cparam(TERSA_P_NTHREADS, 0);
    bad_cparam(TERSA_P_FILTER_META1, 256);
    bad_cparam((tersa_param)0, 1);
    bad_cparam(TERSA_P_COUNT_, 1);
    bad_cparam((tersa_param)9999, 1);
    tersa_dctx *d = tersa_dctx_create();
    CHECK(tersa_dctx_set(d, TERSA_P_NTHREADS, 0) < 0);
    check_detail("dctx set");
    CHECK(tersa_dctx_set(d, (tersa_param)9999, 1) < 0);
    tersa_dctx_free(d);
}

/* Pipelines that only compress can refuse: trunc-prec with typesize 2 or prec 0. */
static void bad_pipelines(void)
{
    static const struct { int ts, filter, meta; } bad[] = {
        {2, TERSA_FILTER_TRUNC_PREC, 5}, {4, TERSA_FILTER_TRUNC_PREC, 0},
        {4, TERSA_FILTER_TRUNC_PREC, -23}, {8, TERSA_FILTER_TRUNC_PREC, -60},
    };
    uint8_t src[8000], dst[8100];
    gen_data(0, 4, src, sizeof src, 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tersa_cctx *c = tersa_cctx_create();
        int rc = tersa_cctx_set(c, TERSA_P_TYPESIZE, bad[i].ts);
        rc = rc < 0 ? rc : tersa_cctx_set(c, TERSA_P_FILTER0, bad[i].filter);
        rc = rc < 0 ? rc : tersa_cctx_set(c, TERSA_P_FILTER_META0, bad[i].meta);
        int64_t cs = rc < 0 ? rc : tersa_compress(c, src, sizeof src, dst, sizeof dst);
        if (cs >= 0) TH_FAIL_AT("bad pipeline %zu accepted", i);
        else check_detail("bad pipeline");
        tersa_cctx_free(c);
    }
}

static void dst_too_small(void)
{
    size_t n = 100000;
    uint8_t *src = malloc(n), *dst = malloc(n + 32);
    tersa_cctx *c = tersa_cctx_create();
    CHECK_OK(tersa_cctx_set(c, TERSA_P_TYPESIZE, 4));
    gen_data(1, 4, src, n, 1);
    int64_t cs = tersa_compress(c, src, n, dst, n + 32);
    CHECK_OK(cs);
    static const size_t caps[] = {0, 1, 16, 31, 32};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        CHECK_ERR(tersa_compress(c, src, n, dst, caps[i]), TERSA_ERR_DST_TOO_SMALL);
        check_detail("compress dst");
    }
    if (cs > 0) CHECK_ERR(tersa_compress(c, src, n, dst, (size_t)cs - 1), TERSA_ERR_DST_TOO_SMALL);
    gen_data(2, 4, src, n, 1); /* noise: needs the memcpy size */
    CHECK_ERR(tersa_compress(c, src, n, dst, n + 31), TERSA_ERR_DST_TOO_SMALL);
    CHECK_EQ(tersa_compress(c, src, n, dst, n + 32), (int64_t)n + 32);
    CHECK_ERR(tersa_compress(c, src, 10, dst, 41), TERSA_ERR_DST_TOO_SMALL);
    CHECK_EQ(tersa_compress(c, src, 10, dst, 42), 42);
    /* Beyond the format limit: refused before src is read. */
    int64_t rc = tersa_compress(c, src, (size_t)TERSA_MAX_BUFFERSIZE + 1, dst, n + 32);
    CHECK(rc == TERSA_ERR_TOO_LARGE || rc == TERSA_ERR_PARAM);
    check_detail("too large");
    rc = tersa_compress(c, src, SIZE_MAX, dst, SIZE_MAX);
    CHECK(rc == TERSA_ERR_TOO_LARGE || rc == TERSA_ERR_PARAM);
    check_detail("too large");
    tersa_dctx *d = tersa_dctx_create();
    CHECK_ERR(tersa_decompress(d, dst, 42, src, 0), TERSA_ERR_DST_TOO_SMALL);
    check_detail("decompress dst");
    CHECK_ERR(tersa_decompress(d, dst, 42, src, 9), TERSA_ERR_DST_TOO_SMALL);
    CHECK(tersa_decompress(d, dst, 41, src, 10) < 0); /* chunk truncated */
    check_detail("decompress truncated");
    tersa_dctx_free(d);
    tersa_cctx_free(c);
    free(src);
    free(dst);
}

/* ---- user plugins ------------------------------------------------------------------------ */

typedef struct plug_counts {
    atomic_int enc, dec, fwd, bwd, last_meta;
} plug_counts;

/* A byte run-length codec: (count 1..255, byte) pairs. */
static int32_t rle_encode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t cap,
                          const tersa_plugin_args *a)
{
    plug_counts *pc = a->user;
    atomic_fetch_add(&pc->enc, 1);
    atomic_store(&pc->last_meta, a->meta);
    int32_t o = 0;
    for (int32_t i = 0; i < n;) {
        int32_t r = 1;
        while (i + r < n && r < 255 && src[i + r] == src[i]) r++;
        if (o + 2 > cap) return 0;
        dst[o++] = (uint8_t)r;
        dst[o++] = src[i];
        i += r;
    }
    return o;
}

static int32_t rle_decode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t dstlen,
                          const tersa_plugin_args *a)
{
    plug_counts *pc = a->user;
    atomic_fetch_add(&pc->dec, 1);
    int32_t o = 0;
    if (n % 2) return TERSA_ERR_CORRUPT;
    for (int32_t i = 0; i < n; i += 2) {
        if (src[i] == 0 || src[i] > dstlen - o) return TERSA_ERR_CORRUPT;
        memset(dst + o, src[i + 1], src[i]);
        o += src[i];
    }
    return o == dstlen ? dstlen : TERSA_ERR_CORRUPT;
}

/* Returns one byte short: the engine must notice. */
static int32_t short_decode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t dstlen,
                            const tersa_plugin_args *a)
{
    int32_t rc = rle_decode(src, n, dst, dstlen, a);
    return rc > 0 ? rc - 1 : rc;
}

static int addk_forward(const uint8_t *src, uint8_t *dst, int32_t size, const tersa_plugin_args *a)
{
    plug_counts *pc = a->user;
    atomic_fetch_add(&pc->fwd, 1);
    for (int32_t i = 0; i < size; i++) dst[i] = (uint8_t)(src[i] + a->meta + 1);
    return 0;
}

static int addk_backward(const uint8_t *src, uint8_t *dst, int32_t size, const tersa_plugin_args *a)
{
    plug_counts *pc = a->user;
    atomic_fetch_add(&pc->bwd, 1);
    for (int32_t i = 0; i < size; i++) dst[i] = (uint8_t)(src[i] - a->meta - 1);
    return 0;
}

static tersa_registry *make_registry(plug_counts *pc)
{
    tersa_registry *reg = tersa_registry_create();
    tersa_codec_plugin cp = {sizeof cp, 160, 3, "rle", rle_encode, rle_decode, pc};
    tersa_filter_plugin fp = {sizeof fp, 200, "addk", addk_forward, addk_backward, pc};
    CHECK_OK(tersa_registry_add_codec(reg, &cp));
    CHECK_ERR(tersa_registry_add_codec(reg, &cp), TERSA_ERR_EXISTS);
    check_detail("duplicate codec");
    CHECK_OK(tersa_registry_add_filter(reg, &fp));
    CHECK_ERR(tersa_registry_add_filter(reg, &fp), TERSA_ERR_EXISTS);
    static const uint8_t bad_ids[] = {0, 1, 5, 35, 159};
    for (size_t i = 0; i < sizeof bad_ids; i++) {
        cp.id = bad_ids[i];
        fp.id = bad_ids[i];
        CHECK(tersa_registry_add_codec(reg, &cp) < 0);
        check_detail("bad codec id");
        CHECK(tersa_registry_add_filter(reg, &fp) < 0);
        check_detail("bad filter id");
    }
    cp.id = 161;
    cp.decode = short_decode;
    CHECK_OK(tersa_registry_add_codec(reg, &cp));
    return reg;
}

static int64_t plugin_compress(const tersa_registry *reg, int codec, int filter,
                               const uint8_t *src, size_t n, uint8_t *dst)
{
    tersa_cctx *c = tersa_cctx_create();
    CHECK_OK(tersa_cctx_set_registry(c, reg));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_TYPESIZE, 4));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_NTHREADS, 2));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_CODEC, codec));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_CODEC_META, 7));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_BLOCKSIZE, 16384));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_FILTER0, filter));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_FILTER_META0, 3));
    int64_t cs = tersa_compress(c, src, n, dst, tersa_compress_bound(n));
    CHECK_OK(cs);
    tersa_cctx_free(c);
    return cs;
}

/* Decode with and without the registry; without it the error is want_err (or want_err2). */
static void plugin_decode(const tersa_registry *reg, const uint8_t *chunk, int64_t cs,
                          const uint8_t *src, size_t n, int want_err, int want_err2)
{
    tersa_dctx *d = tersa_dctx_create(), *bare = tersa_dctx_create();
    uint8_t *out = malloc(n);
    uint64_t rng = 11;
    CHECK_OK(tersa_dctx_set_registry(d, reg));
    CHECK_OK(tersa_dctx_set(d, TERSA_P_NTHREADS, 2));
    CHECK_EQ(tersa_decompress(d, chunk, (size_t)cs, out, n), (int64_t)n);
    CHECK_MEM(out, src, n);
    check_getitem(d, chunk, cs, src, n, 4, 16384, 0, &rng);
    check_blocks(d, chunk, cs, src, n, 16384, 0, &rng);
    int64_t rc = tersa_decompress(bare, chunk, (size_t)cs, out, n);
    if (rc != want_err && rc != want_err2) TH_FAIL_AT("no registry: rc %lld", (long long)rc);
    check_detail("no registry");
    rc = tersa_getitem(bare, chunk, (size_t)cs, 0, 1, out, n);
    if (rc != want_err && rc != want_err2) TH_FAIL_AT("no registry getitem: rc %lld", (long long)rc);
    tersa_dctx_free(d);
    tersa_dctx_free(bare);
    free(out);
}

static void plugins(void)
{
    plug_counts pc;
    memset(&pc, 0, sizeof pc);
    tersa_registry *reg = make_registry(&pc);
    size_t n = 100003;
    uint8_t *src = malloc(n), *chunk = malloc(tersa_compress_bound(n)), *out = malloc(n);
    gen_data(3, 4, src, n, 42);
    int64_t cs = plugin_compress(reg, 160, 200, src, n, chunk);
    tersa_chunk_info in = inspect(chunk, cs);
    CHECK_EQ(in.codec, 160);
    CHECK_EQ(in.versionlz, 3);
    CHECK_EQ(in.codec_meta, 7);
    CHECK_EQ(in.filters[0], 200);
    CHECK_EQ(in.filters_meta[0], 3);
    CHECK(atomic_load(&pc.enc) > 0 && atomic_load(&pc.fwd) > 0);
    CHECK_EQ(atomic_load(&pc.last_meta), 7);
    CHECK(cs < (int64_t)n / 4); /* the RLE codec really ran */
    plugin_decode(reg, chunk, cs, src, n, TERSA_ERR_UNKNOWN_CODEC, TERSA_ERR_UNKNOWN_FILTER);
    CHECK(atomic_load(&pc.dec) > 0 && atomic_load(&pc.bwd) > 0);
    cs = plugin_compress(reg, 160, 0, src, n, chunk);
    plugin_decode(reg, chunk, cs, src, n, TERSA_ERR_UNKNOWN_CODEC, TERSA_ERR_UNKNOWN_CODEC);
    cs = plugin_compress(reg, TERSA_CODEC_LZ4, 200, src, n, chunk);
    plugin_decode(reg, chunk, cs, src, n, TERSA_ERR_UNKNOWN_FILTER, TERSA_ERR_UNKNOWN_FILTER);
    cs = plugin_compress(reg, 161, 0, src, n, chunk); /* decoder one byte short */
    tersa_dctx *d = tersa_dctx_create();
    CHECK_OK(tersa_dctx_set_registry(d, reg));
    CHECK(tersa_decompress(d, chunk, (size_t)cs, out, n) < 0);
    check_detail("short plugin decode");
    tersa_dctx_free(d);
    tersa_registry_free(reg);
    free(src);
    free(chunk);
    free(out);
}

/* ---- main -------------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void timed(const char *name, void (*fn)(ctxs *), ctxs *cx)
{
    double t0 = now_s();
    int before = th_failures;
    fn(cx);
    printf("  %-20s %7.2f s%s\n", name, now_s() - t0, th_failures != before ? "  FAILED" : "");
    fflush(stdout);
}

static void run_special(ctxs *cx)
{
    (void)cx;
    special_detection();
    special_make();
}

static void run_errors(ctxs *cx)
{
    (void)cx;
    bad_params();
    bad_pipelines();
    dst_too_small();
}

static void run_plugins(ctxs *cx)
{
    (void)cx;
    plugins();
}

static void run_determinism(ctxs *cx)
{
    (void)cx;
    determinism();
}

int main(void)
{
    ctxs cx;
    for (int i = 0; i < 3; i++) {
        cx.c[i] = tersa_cctx_create();
        cx.d[i] = tersa_dctx_create();
        CHECK(cx.c[i] && cx.d[i]);
    }
    timed("special values", run_special, &cx);
    timed("parameter errors", run_errors, &cx);
    timed("plugins", run_plugins, &cx);
    timed("small matrix", small_matrix, &cx);
    timed("split x clevel x thr", product_matrix, &cx);
    timed("big chunks", big_matrix, &cx);
    timed("determinism", run_determinism, &cx);
    for (int i = 0; i < 3; i++) {
        tersa_cctx_free(cx.c[i]);
        tersa_dctx_free(cx.d[i]);
    }
    return th_report("roundtrip");
}

/* Writes Blosc2 frames with tersa for the independent decoder in ../shared/oracle (h5wasm + the
 * official HDF5 Blosc2 filter, c-blosc2 2.17.1). Not a test by itself: run_oracle_frames.sh
 * wraps each frame into an HDF5 file, decodes it with the oracle and compares digests.
 *
 * Usage: tersa_oracle_frames OUTDIR
 * Writes OUTDIR/<name>.b2frame for every case and OUTDIR/frames.tsv with one line per frame:
 *   file <TAB> dtype <TAB> shape <TAB> sha256 of the logical array bytes <TAB> description
 * Before writing a frame the program decodes it again with tersa and compares it with the
 * source data, so a mismatch reported later is a disagreement between tersa and C-Blosc2.
 *
 * Two kinds of frames (FORMATS.md §5.2): b2nd frames (a 1-D `b2nd` metalayer, several chunks of
 * chunkshape items padded up to a multiple of blockshape, every chunk full-size), which the
 * plugin decodes whole; and plain frames (no metalayer, one chunk), of which it decodes chunk 0.
 * Only what c-blosc2 2.17.1 reads is written: no zlib, no VL-blocks, no variable chunk sizes,
 * DELTA only in slot 0 (FORMATS.md §2.9.3, §6). Exit status 0 when every frame was written. */
#include <stdbool.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle_util.h"
#include "tersa/tersa_frame.h"
#include "th_sha256.h"

enum { SH = TERSA_FILTER_SHUFFLE, BI = TERSA_FILTER_BITSHUFFLE, DE = TERSA_FILTER_DELTA };
enum { LZ = TERSA_CODEC_BLOSCLZ, L4 = TERSA_CODEC_LZ4, HC = TERSA_CODEC_LZ4HC, ZS = TERSA_CODEC_ZSTD };

/* Data patterns. */
enum { P_SMOOTH, P_NOISY, P_RANDOM, P_SPARSE, P_STEPS };

/* How chunk `schunk` of a case is special. ZERO/VALUE: its items are zero / one repeated value
 * and the cctx detects it (DETECT_SPECIAL); *_MADE: built with tersa_cctx_make_special and
 * appended with tersa_schunk_append_chunk. */
enum { S_NONE, S_ZERO, S_ZERO_MADE, S_NAN_MADE, S_VALUE, S_VALUE_MADE };

/* Extra options (bits). */
enum {
    X_THREADS = 1,       /* 4 compression threads */
    X_SPLIT_ALWAYS = 2,
    X_SPLIT_NEVER = 4,
    X_FILE = 8,          /* TERSA_STORAGE_FILE: the frame file is written by tersa in place */
    X_SPARSE = 16,       /* TERSA_STORAGE_SPARSE, then gathered with tersa_schunk_to_buffer */
    X_DICT = 32,         /* TERSA_P_USE_DICT */
    X_VLMETA = 64,       /* a vlmetalayer in the trailer */
    X_META2 = 128,       /* a second header metalayer after b2nd */
};

typedef struct oc_case {
    const char *name;
    const char *dtype;     /* NumPy dtype string; its item size is the typesize */
    int64_t n;             /* array items */
    int32_t chunk, block;  /* items per chunk and per block; chunk 0: plain frame, one chunk of
                              n items (block 0: automatic blocksize) */
    int codec, clevel;
    uint8_t filters[TERSA_MAX_FILTERS];
    int pattern;
    int special, schunk;   /* S_* and the chunk it applies to */
    unsigned extra;        /* X_* */
} oc_case;

#define F(a, b) {a, 0, 0, 0, 0, b}

static const oc_case cases[] = {
    /* b2nd frames: every codec but zlib, shuffle/bitshuffle/delta, typesizes 1..8, clevels. */
    {"b_u1_blosclz5_shuf", "|u1", 100000, 30000, 4096, LZ, 5, F(0, SH), P_SMOOTH, S_NONE, 0, 0},
    {"b_u1_lz4_1_bit", "|u1", 70001, 16384, 2048, L4, 1, F(0, BI), P_NOISY, S_NONE, 0, 0},
    {"b_u1_zstd9_delta", "|u1", 65536, 20000, 5000, ZS, 9, F(DE, 0), P_STEPS, S_NONE, 0, 0},
    {"b_u1_lz4hc9_delta_shuf", "|u1", 50000, 12000, 4000, HC, 9, F(DE, SH), P_SMOOTH, S_NONE, 0, 0},
    {"b_u1_small", "|u1", 1000, 300, 64, LZ, 5, F(0, SH), P_NOISY, S_NONE, 0, 0},
    {"b_u1_zstd5_onechunk", "|u1", 40000, 40000, 8192, ZS, 5, F(0, BI), P_SMOOTH, S_NONE, 0, 0},
    {"b_i2_blosclz1_shuf", "<i2", 50000, 16384, 2048, LZ, 1, F(0, SH), P_SMOOTH, S_NONE, 0, 0},
    {"b_i2_lz4_5_bit", "<i2", 45000, 10000, 1000, L4, 5, F(0, BI), P_NOISY, S_NONE, 0, 0},
    {"b_i2_lz4hc5_delta_shuf", "<i2", 60000, 16000, 4000, HC, 5, F(DE, SH), P_STEPS, S_NONE, 0, 0},
    {"b_i2_zstd1_nofilter", "<i2", 33333, 8192, 1024, ZS, 1, F(0, 0), P_NOISY, S_NONE, 0, 0},
    {"b_i2_lz4_delta_oddblocks", "<i2", 23456, 5000, 1000, L4, 5, F(DE, 0), P_SMOOTH, S_NONE, 0, 0},
    {"b_i2_metas_vlmeta", "<i2", 30000, 8000, 2000, LZ, 5, F(0, SH), P_STEPS, S_NONE, 0,
     X_VLMETA | X_META2},
    {"b_f2_bit", "<f2", 20000, 6000, 1500, ZS, 5, F(0, BI), P_RANDOM, S_NONE, 0, 0},
    {"b_i4_blosclz9_zerochunk", "<i4", 40000, 10000, 2500, LZ, 9, F(0, SH), P_STEPS, S_ZERO, 1, 0},
    {"b_i4_lz4_9_delta_bit", "<i4", 40000, 9000, 1500, L4, 9, F(DE, BI), P_SMOOTH, S_NONE, 0, 0},
    {"b_i4_lz4hc1_random", "<i4", 30000, 8192, 2048, HC, 1, F(0, SH), P_RANDOM, S_NONE, 0, 0},
    {"b_i4_zstd5_padblocks", "<i4", 35000, 10000, 3000, ZS, 5, F(0, SH), P_NOISY, S_NONE, 0, 0},
    {"b_i4_lz4_sparse_storage", "<i4", 25000, 6000, 1000, L4, 5, F(0, SH), P_SPARSE, S_NONE, 0,
     X_SPARSE},
    {"b_i4_store_clevel0", "<i4", 12000, 5000, 1000, LZ, 0, F(0, SH), P_SMOOTH, S_NONE, 0, 0},
    {"b_f4_blosclz5_shuf", "<f4", 60000, 16384, 4096, LZ, 5, F(0, SH), P_SMOOTH, S_NONE, 0, 0},
    {"b_f4_lz4_5_bit_nan", "<f4", 50000, 12000, 3000, L4, 5, F(0, BI), P_NOISY, S_NAN_MADE, 2, 0},
    {"b_f4_lz4hc9_shuf", "<f4", 40000, 10000, 2000, HC, 9, F(0, SH), P_NOISY, S_NONE, 0, 0},
    {"b_f4_zstd9_bit_zeromade", "<f4", 48000, 10000, 2500, ZS, 9, F(0, BI), P_SMOOTH, S_ZERO_MADE,
     3, 0},
    {"b_f4_zstd1_delta_shuf", "<f4", 30000, 7000, 1750, ZS, 1, F(DE, SH), P_SMOOTH, S_NONE, 0, 0},
    {"b_f4_blosclz1_random", "<f4", 20000, 5000, 1250, LZ, 1, F(0, 0), P_RANDOM, S_NONE, 0, 0},
    {"b_f4_zstd5_dict", "<f4", 80000, 16384, 2048, ZS, 5, F(0, SH), P_NOISY, S_NONE, 0, X_DICT},
    {"b_f4_lz4_onelargeblock", "<f4", 30000, 8192, 8192, L4, 5, F(0, SH), P_SMOOTH, S_NONE, 0, 0},
    {"b_u8_blosclz5_shuf", "<u8", 30000, 8192, 1024, LZ, 5, F(0, SH), P_STEPS, S_NONE, 0, 0},
    {"b_u8_lz4_1_delta", "<u8", 25000, 6000, 1500, L4, 1, F(DE, 0), P_SMOOTH, S_NONE, 0, 0},
    {"b_u8_lz4hc5_bit_sparse", "<u8", 24000, 6000, 1000, HC, 5, F(0, BI), P_SPARSE, S_NONE, 0, 0},
    {"b_u8_zstd5_valuechunk", "<u8", 20000, 5000, 1000, ZS, 5, F(0, SH), P_NOISY, S_VALUE, 1, 0},
    {"b_u8_blosclz9_bit_random", "<u8", 20000, 4096, 512, LZ, 9, F(0, BI), P_RANDOM, S_NONE, 0, 0},
    {"b_i8_lz4hc9_big_threads", "<i8", 300000, 131072, 16384, HC, 9, F(0, SH), P_NOISY, S_NONE, 0,
     X_THREADS},
    {"b_f8_blosclz9_threads", "<f8", 40000, 10000, 1000, LZ, 9, F(0, SH), P_SMOOTH, S_NONE, 0,
     X_THREADS},
    {"b_f8_lz4_5_split_always", "<f8", 30000, 8000, 2000, L4, 5, F(0, SH), P_NOISY, S_NONE, 0,
     X_SPLIT_ALWAYS},
    {"b_f8_lz4hc1_bit_split_never", "<f8", 30000, 8000, 2000, HC, 1, F(0, BI), P_SMOOTH, S_NONE,
     0, X_SPLIT_NEVER},
    {"b_f8_zstd9_delta_bit", "<f8", 25000, 6000, 1500, ZS, 9, F(DE, BI), P_SMOOTH, S_NONE, 0, 0},
    {"b_f8_zstd5_nan_file", "<f8", 25000, 6000, 1200, ZS, 5, F(0, SH), P_NOISY, S_NAN_MADE, 1,
     X_FILE},
    {"b_f8_zstd5_lastchunk_value", "<f8", 25000, 6000, 1200, ZS, 5, F(0, SH), P_SMOOTH,
     S_VALUE_MADE, 4, 0},
    {"b_f8_zstd5_midchunk_value", "<f8", 25000, 6000, 1200, ZS, 5, F(0, SH), P_NOISY,
     S_VALUE_MADE, 2, 0},
    {"b_f8_lz4_lastchunk_zero", "<f8", 25000, 6000, 1200, L4, 5, F(0, BI), P_NOISY, S_ZERO_MADE, 4,
     0},
    {"b_S12_blosclz5_shuf", "|S12", 20000, 5000, 700, LZ, 5, F(0, SH), P_STEPS, S_NONE, 0, 0},
    {"b_S3_lz4_bit", "|S3", 20000, 5000, 1024, L4, 5, F(0, BI), P_NOISY, S_NONE, 0, 0},
    /* Plain frames (one chunk; the plugin decodes chunk 0 only): typesizes 1..8 and 16. */
    {"p_u1_blosclz5_shuf", "|u1", 50000, 0, 0, LZ, 5, F(0, SH), P_SMOOTH, S_NONE, 0, 0},
    {"p_i2_lz4_5_bit", "<i2", 30000, 0, 0, L4, 5, F(0, BI), P_NOISY, S_NONE, 0, 0},
    {"p_S3_zstd9_shuf", "|S3", 7001, 0, 0, ZS, 9, F(0, SH), P_STEPS, S_NONE, 0, 0},
    {"p_f4_lz4hc5_delta", "<f4", 20000, 0, 1024, HC, 5, F(DE, SH), P_SMOOTH, S_NONE, 0, 0},
    {"p_S5_blosclz9_shuf", "|S5", 9999, 0, 0, LZ, 9, F(0, SH), P_NOISY, S_NONE, 0, 0},
    {"p_S6_lz4_1_bit", "|S6", 8000, 0, 0, L4, 1, F(0, BI), P_SMOOTH, S_NONE, 0, 0},
    {"p_S7_zstd5_shuf", "|S7", 7777, 0, 0, ZS, 5, F(0, SH), P_RANDOM, S_NONE, 0, 0},
    {"p_f8_zstd5_bit_block4k", "<f8", 12345, 0, 512, ZS, 5, F(0, BI), P_NOISY, S_NONE, 0, 0},
    {"p_i4_zero", "<i4", 10000, 0, 0, LZ, 5, F(0, SH), P_SMOOTH, S_ZERO, 0, 0},
    {"p_c16_lz4_shuf", "<c16", 5000, 0, 0, L4, 5, F(0, SH), P_SMOOTH, S_NONE, 0, 0},
};

#define NCASES (sizeof cases / sizeof cases[0])

/* ---- Data ----------------------------------------------------------------------------- */

static int dtype_size(const char *dtype) { return atoi(dtype + 2); }
static char dtype_kind(const char *dtype) { return dtype[1]; }

/* The value of item i as a double, for the smooth patterns. */
static double pattern_value(int pattern, int64_t i, uint64_t *rng)
{
    double x = (double)i;
    switch (pattern) {
    case P_SMOOTH: return 100.0 * sin(x * 0.001) + x * 0.01;
    case P_NOISY: return 50.0 * cos(x * 0.0007) + (double)(ou_rng_next(rng) % 64) * 0.25;
    case P_SPARSE: return i % 97 == 0 ? x * 0.5 : 0.0;
    default: return (double)(i / 37 % 200) - 60.0; /* P_STEPS */
    }
}

static void store_le(uint8_t *p, uint64_t v, int n)
{
    for (int k = 0; k < n; k++) p[k] = (uint8_t)(v >> (8 * k));
}

/* Half-precision bits of a float (round toward zero; enough for test data). */
static uint16_t to_half(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    int e = (int)((u >> 23) & 0xff) - 127 + 15;
    if (e <= 0) return (uint16_t)sign;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    return (uint16_t)(sign | ((uint32_t)e << 10) | ((u >> 13) & 0x3ffu));
}

static void put_float(uint8_t *p, int ts, double v)
{
    if (ts == 2) {
        store_le(p, to_half((float)v), 2);
    } else if (ts == 4) {
        float f = (float)v;
        memcpy(p, &f, 4);
    } else {
        memcpy(p, &v, 8);
    }
}

/* One item of a non-random pattern, in the dtype's representation. */
static void put_item(uint8_t *p, const char *dtype, double v)
{
    int ts = dtype_size(dtype);
    char kind = dtype_kind(dtype);
    if (kind == 'f') {
        put_float(p, ts, v);
    } else if (kind == 'c') {
        put_float(p, ts / 2, v);
        put_float(p + ts / 2, ts / 2, -0.5 * v);
    } else if (kind == 'S') {
        for (int k = 0; k < ts; k++) p[k] = (uint8_t)('a' + ((int64_t)v + k + 60) % 26);
    } else {
        store_le(p, (uint64_t)(int64_t)llround(v), ts);
    }
}

static void fill_pattern(const oc_case *c, uint8_t *buf)
{
    int ts = dtype_size(c->dtype);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    if (c->pattern == P_RANDOM) {
        for (int64_t i = 0; i < c->n * ts; i++) buf[i] = (uint8_t)(ou_rng_next(&rng) >> 24);
        return;
    }
    for (int64_t i = 0; i < c->n; i++)
        put_item(buf + i * ts, c->dtype, pattern_value(c->pattern, i, &rng));
}

/* The value of a special chunk's items (typesize bytes). */
static void special_item(const oc_case *c, uint8_t *item)
{
    int ts = dtype_size(c->dtype);
    memset(item, 0, (size_t)ts);
    if (c->special == S_NAN_MADE && ts == 4) memcpy(item, "\x00\x00\xc0\x7f", 4);
    if (c->special == S_NAN_MADE && ts == 8) memcpy(item, "\x00\x00\x00\x00\x00\x00\xf8\x7f", 8);
    if (c->special == S_VALUE || c->special == S_VALUE_MADE) put_item(item, c->dtype, 42.0);
}

static int32_t chunk_items(const oc_case *c) { return c->chunk ? c->chunk : (int32_t)c->n; }

/* The logical array: the pattern, with the special chunk's items replaced. */
static void fill_array(const oc_case *c, uint8_t *buf)
{
    int ts = dtype_size(c->dtype);
    uint8_t item[16];
    fill_pattern(c, buf);
    if (c->special == S_NONE) return;
    special_item(c, item);
    int64_t lo = (int64_t)c->schunk * chunk_items(c);
    int64_t hi = lo + chunk_items(c) < c->n ? lo + chunk_items(c) : c->n;
    for (int64_t i = lo; i < hi; i++) memcpy(buf + i * ts, item, (size_t)ts);
}

/* ---- Frames --------------------------------------------------------------------------- */

/* Items in a stored chunk: chunkshape rounded up to a multiple of blockshape (b2nd), or n. */
static int64_t ext_items(const oc_case *c)
{
    if (!c->chunk) return c->n;
    return ((int64_t)c->chunk + c->block - 1) / c->block * c->block;
}

static int64_t nchunks_of(const oc_case *c)
{
    return c->chunk ? (c->n + c->chunk - 1) / c->chunk : 1;
}

static uint8_t *put_be(uint8_t *p, uint64_t v, int n)
{
    for (int k = 0; k < n; k++) p[k] = (uint8_t)(v >> (8 * (n - 1 - k)));
    return p + n;
}

/* The 1-D b2nd metalayer (FORMATS.md §4.1); returns its length. */
static size_t b2nd_meta(const oc_case *c, uint8_t *out)
{
    uint8_t *p = out;
    size_t dlen = strlen(c->dtype);
    *p++ = 0x97; /* fixarray 7 */
    *p++ = 0x00; /* version */
    *p++ = 0x01; /* ndim */
    *p++ = 0x91;
    *p++ = 0xd3;
    p = put_be(p, (uint64_t)c->n, 8);
    *p++ = 0x91;
    *p++ = 0xd2;
    p = put_be(p, (uint64_t)c->chunk, 4);
    *p++ = 0x91;
    *p++ = 0xd2;
    p = put_be(p, (uint64_t)c->block, 4);
    *p++ = 0x00; /* dtype_format: NumPy */
    *p++ = 0xdb;
    p = put_be(p, dlen, 4);
    memcpy(p, c->dtype, dlen);
    return (size_t)(p - out) + dlen;
}

static int set_params(tersa_cctx *cc, const oc_case *c)
{
    int ts = dtype_size(c->dtype);
    int rc = tersa_cctx_set(cc, TERSA_P_TYPESIZE, ts);
    if (!rc) rc = tersa_cctx_set(cc, TERSA_P_CODEC, c->codec);
    if (!rc) rc = tersa_cctx_set(cc, TERSA_P_CLEVEL, c->clevel);
    if (!rc) rc = tersa_cctx_set(cc, TERSA_P_BLOCKSIZE, (int64_t)c->block * ts);
    for (int k = 0; k < TERSA_MAX_FILTERS && !rc; k++)
        rc = tersa_cctx_set(cc, (tersa_param)(TERSA_P_FILTER0 + k), c->filters[k]);
    if (!rc && (c->extra & X_THREADS)) rc = tersa_cctx_set(cc, TERSA_P_NTHREADS, 4);
    if (!rc && (c->extra & X_SPLIT_ALWAYS)) rc = tersa_cctx_set(cc, TERSA_P_SPLITMODE, TERSA_SPLIT_ALWAYS);
    if (!rc && (c->extra & X_SPLIT_NEVER)) rc = tersa_cctx_set(cc, TERSA_P_SPLITMODE, TERSA_SPLIT_NEVER);
    if (!rc && (c->extra & X_DICT)) rc = tersa_cctx_set(cc, TERSA_P_USE_DICT, 1);
    return rc;
}

static int fail(const oc_case *c, const char *what, int64_t rc)
{
    fprintf(stderr, "tersa_oracle_frames: %s: %s: %s (%s)\n", c->name, what,
            tersa_error_name((int)rc), tersa_error_detail());
    return 1;
}

/* Create the empty schunk of a case (storage, metalayers, compression parameters). */
static tersa_schunk *create_schunk(const oc_case *c, const char *outdir, char **path)
{
    uint8_t meta[128];
    static const char note[] = "written by tersa_oracle_frames";
    tersa_metalayer ml[2] = {{"b2nd", meta, 0}, {"tersa-test", note, sizeof note - 1}};
    tersa_schunk_params p;
    tersa_cctx *cc = tersa_cctx_create();
    tersa_schunk *s = NULL;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.cparams = cc;
    p.overwrite = 1;
    ml[0].len = c->chunk ? b2nd_meta(c, meta) : 0;
    p.nmetalayers = c->chunk ? ((c->extra & X_META2) ? 2 : 1) : 0;
    p.metalayers = ml;
    p.storage = (c->extra & X_FILE) ? TERSA_STORAGE_FILE
                : (c->extra & X_SPARSE) ? TERSA_STORAGE_SPARSE : TERSA_STORAGE_MEMORY;
    *path = ou_join(outdir, c->name, (c->extra & X_SPARSE) ? ".sframe" : ".b2frame");
    p.path = *path;
    if (cc && *path && set_params(cc, c) == 0) s = tersa_schunk_create(&p);
    tersa_cctx_free(cc);
    return s;
}

/* The stored bytes of chunk k: its items, then zero padding (a special chunk fills all). */
static void chunk_bytes(const oc_case *c, const uint8_t *array, int64_t k, uint8_t *dst)
{
    int ts = dtype_size(c->dtype);
    int64_t ext = ext_items(c), lo = k * chunk_items(c);
    int64_t cnt = c->n - lo < chunk_items(c) ? c->n - lo : chunk_items(c);
    uint8_t item[16];
    memset(dst, 0, (size_t)(ext * ts));
    if (c->special != S_NONE && k == c->schunk) {
        special_item(c, item);
        for (int64_t i = 0; i < ext; i++) memcpy(dst + i * ts, item, (size_t)ts);
    }
    memcpy(dst, array + lo * ts, (size_t)(cnt * ts));
}

static int append_made(tersa_schunk *s, const oc_case *c, const uint8_t *chunkbuf, size_t nbytes)
{
    static const int kinds[] = {0, 0, TERSA_SPECIAL_ZEROS, TERSA_SPECIAL_NAN, 0, TERSA_SPECIAL_VALUE};
    uint8_t sp[64];
    /* The schunk's cctx carries the array's blocksize (blockshape x itemsize), which C-Blosc2's
     * b2nd reader requires of every chunk, special ones included. */
    int64_t rc = tersa_cctx_make_special(tersa_schunk_cctx(s), kinds[c->special],
                                         (int64_t)nbytes, chunkbuf, sp, sizeof sp);
    if (rc < 0) return fail(c, "tersa_cctx_make_special", rc);
    rc = tersa_schunk_append_chunk(s, sp, (size_t)rc);
    return rc < 0 ? fail(c, "tersa_schunk_append_chunk", rc) : 0;
}

static int append_chunks(tersa_schunk *s, const oc_case *c, const uint8_t *array)
{
    size_t nbytes = (size_t)(ext_items(c) * dtype_size(c->dtype));
    uint8_t *buf = malloc(nbytes);
    int bad = buf ? 0 : fail(c, "malloc", TERSA_ERR_NOMEM);
    for (int64_t k = 0; k < nchunks_of(c) && !bad; k++) {
        chunk_bytes(c, array, k, buf);
        bool made = k == c->schunk && (c->special == S_ZERO_MADE || c->special == S_NAN_MADE ||
                                       c->special == S_VALUE_MADE);
        if (made) {
            bad = append_made(s, c, buf, nbytes);
            continue;
        }
        int64_t rc = tersa_schunk_append_buffer(s, buf, nbytes);
        if (rc < 0) bad = fail(c, "tersa_schunk_append_buffer", rc);
    }
    free(buf);
    return bad;
}

/* Decode every chunk of the frame again with tersa and compare with the source array. */
static int self_check(const oc_case *c, const uint8_t *frame, size_t len, const uint8_t *array)
{
    int ts = dtype_size(c->dtype);
    size_t nbytes = (size_t)(ext_items(c) * ts);
    uint8_t *want = malloc(nbytes), *got = malloc(nbytes);
    tersa_schunk *s = tersa_schunk_open_buffer(frame, len, TERSA_OPEN_READONLY);
    int bad = (want && got && s) ? 0 : fail(c, "self-check: open", TERSA_ERR_NOMEM);
    if (!bad && tersa_schunk_nchunks(s) != nchunks_of(c)) bad = fail(c, "self-check: nchunks", 0);
    for (int64_t k = 0; k < nchunks_of(c) && !bad; k++) {
        int64_t lo = k * chunk_items(c);
        int64_t cnt = c->n - lo < chunk_items(c) ? c->n - lo : chunk_items(c);
        int64_t rc = tersa_schunk_decompress_chunk(s, k, got, nbytes);
        if (rc != (int64_t)nbytes) bad = fail(c, "self-check: decompress", rc);
        chunk_bytes(c, array, k, want);
        if (!bad && memcmp(got, want, (size_t)(cnt * ts)) != 0)
            bad = fail(c, "self-check: tersa decodes different data", 0);
    }
    tersa_schunk_free(s);
    free(want);
    free(got);
    return bad;
}

/* Serialise the schunk, check it with tersa, and write <name>.b2frame (FILE storage: tersa
 * already wrote it in place). */
static int finish_frame(tersa_schunk *s, const oc_case *c, const char *outdir, const uint8_t *array)
{
    int64_t len = tersa_schunk_frame_len(s);
    if (len < 0) return fail(c, "tersa_schunk_frame_len", len);
    uint8_t *frame = malloc((size_t)len);
    if (!frame) return fail(c, "malloc", TERSA_ERR_NOMEM);
    int64_t rc = tersa_schunk_to_buffer(s, frame, (size_t)len);
    int bad = rc != len ? fail(c, "tersa_schunk_to_buffer", rc) : 0;
    if (!bad) bad = self_check(c, frame, (size_t)len, array);
    if (!bad && !(c->extra & X_FILE)) {
        char *path = ou_join(outdir, c->name, ".b2frame");
        bad = path ? ou_write_file("tersa_oracle_frames", path, frame, (size_t)len) : 1;
        free(path);
    }
    free(frame);
    return bad;
}

static void describe(const oc_case *c, char *out, size_t cap)
{
    static const char *specials[] = {"", " zero-chunk", " zero-chunk(made)", " nan-chunk(made)",
                                     " value-chunk", " value-chunk(made)"};
    int n = snprintf(out, cap, "%s %s clevel=%d filters=", c->chunk ? "b2nd" : "plain",
                     tersa_codec_name(c->codec), c->clevel);
    for (int k = 0; k < TERSA_MAX_FILTERS && n > 0 && (size_t)n < cap; k++)
        if (c->filters[k])
            n += snprintf(out + n, cap - (size_t)n, "%s@%d,", tersa_filter_name(c->filters[k]), k);
    if (n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, " chunk=%d block=%d nchunks=%" PRId64 "%s%s%s%s%s%s",
                 c->chunk, c->block, nchunks_of(c), specials[c->special],
                 (c->extra & X_THREADS) ? " threads=4" : "", (c->extra & X_FILE) ? " file" : "",
                 (c->extra & X_SPARSE) ? " sparse" : "", (c->extra & X_DICT) ? " dict" : "",
                 (c->extra & (X_VLMETA | X_META2)) ? " vlmeta+meta2" : "");
}

static int add_vlmeta(tersa_schunk *s, const oc_case *c)
{
    static const char msg[] = "tersa oracle vlmetalayer";
    if (!(c->extra & X_VLMETA)) return 0;
    int rc = tersa_schunk_vlmeta_set(s, "tersa-note", msg, sizeof msg - 1, NULL);
    return rc < 0 ? fail(c, "tersa_schunk_vlmeta_set", rc) : 0;
}

static int write_case(const oc_case *c, const char *outdir, FILE *tsv)
{
    int ts = dtype_size(c->dtype);
    uint8_t *array = malloc((size_t)(c->n * ts));
    char *path = NULL, hex[65], desc[256];
    if (!array) return fail(c, "malloc", TERSA_ERR_NOMEM);
    fill_array(c, array);
    th_sha256_hex(array, (size_t)(c->n * ts), hex);
    tersa_schunk *s = create_schunk(c, outdir, &path);
    int bad = s ? 0 : fail(c, "tersa_schunk_create", -1);
    if (!bad) bad = add_vlmeta(s, c);
    if (!bad) bad = append_chunks(s, c, array);
    if (!bad) bad = finish_frame(s, c, outdir, array);
    tersa_schunk_free(s);
    describe(c, desc, sizeof desc);
    if (!bad)
        fprintf(tsv, "%s.b2frame\t%s\t%" PRId64 "\t%s\t%s\n", c->name, c->dtype, c->n, hex, desc);
    free(path);
    free(array);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    FILE *tsv = ou_open_tsv("tersa_oracle_frames", argv[1]);
    if (!tsv) return 1;
    int bad = 0;
    for (size_t i = 0; i < NCASES; i++) bad += write_case(&cases[i], argv[1], tsv);
    bad += fclose(tsv) != 0;
    printf("tersa_oracle_frames: %zu frames written, %d failed\n", NCASES - (size_t)bad, bad);
    return bad ? 1 : 0;
}

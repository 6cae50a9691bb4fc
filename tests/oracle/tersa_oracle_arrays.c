/* Writes b2nd arrays with tersa's N-dimensional layer for the independent decoder in
 * ../shared/oracle (h5wasm + the official HDF5 Blosc2 filter, c-blosc2 2.17.1). Not a test by
 * itself: run_oracle_frames.sh wraps each frame into an HDF5 dataset of the array's shape,
 * decodes it with the oracle (b2nd_get_slice_cbuffer of the whole array) and compares digests.
 *
 * Usage: tersa_oracle_arrays OUTDIR
 * Writes OUTDIR/<name>.b2frame for every case and OUTDIR/frames.tsv with one line per frame:
 *   file <TAB> dtype <TAB> shape <TAB> sha256 of the logical array bytes <TAB> description
 * The digest is that of a model: the C-order buffer given to tersa, changed the same way the
 * array was (set_slice, resize, append) by plain reference code. Before a frame is written it is
 * opened again with tersa and compared with the model, so a mismatch reported later is a
 * disagreement between tersa and C-Blosc2.
 *
 * Cases: ranks 1 to 4; dtypes |u1 <i2 <i4 <u8 <f4 <f8, a structured dtype and a void one; edge
 * chunks (shape not a multiple of chunkshape) and edge blocks (chunkshape not a multiple of
 * blockshape); every codec but zlib; shuffle, bitshuffle, none, DELTA in slot 0; automatic and
 * explicit shapes; zeros and full arrays (special chunks); strided and whole-chunk set_slice,
 * resize (grow, shrink, both), append; memory, file and sparse storage. Only what c-blosc2
 * 2.17.1 reads: no zlib, ndim <= 8, DELTA only first (FORMATS.md §2.9.3, §6).
 * Exit status 0 when every frame was written. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle_util.h"
#include "tersa/tersa_ndarray.h"
#include "th_sha256.h"

#define PROG "tersa_oracle_arrays"
#define ND 4 /* the highest rank of the cases */

enum { SH = TERSA_FILTER_SHUFFLE, BI = TERSA_FILTER_BITSHUFFLE, DE = TERSA_FILTER_DELTA };
enum {
    LZ = TERSA_CODEC_BLOSCLZ,
    L4 = TERSA_CODEC_LZ4,
    HC = TERSA_CODEC_LZ4HC,
    ZS = TERSA_CODEC_ZSTD,
};
enum { MEM = TERSA_STORAGE_MEMORY, FIL = TERSA_STORAGE_FILE, SPA = TERSA_STORAGE_SPARSE };

/* Data patterns. */
enum { P_SMOOTH, P_NOISY, P_RANDOM, P_STEPS };
/* How the array is created. */
enum { M_BUFFER, M_ZEROS, M_FULL };
/* Extra options (bits). */
enum { X_THREADS = 1 };

/* NumPy dtypes: the string given to HDF5 (and digested), item size, kind ('T': int32 + f8). */
typedef struct oa_type {
    const char *np;
    int size;
    char kind;
} oa_type;

static const oa_type types[] = {
    {"|u1", 1, 'u'}, {"<i2", 2, 'i'}, {"<i4", 4, 'i'},      {"<u8", 8, 'u'},
    {"<f4", 4, 'f'}, {"<f8", 8, 'f'}, {"<i4,<f8", 12, 'T'}, {"|S6", 6, 'S'},
};

#define STRUCT "[('id', '<i4'), ('x', '<f8')]" /* python-blosc2 writes str(dtype) */

/* A strided selection; step 0 means 1; stop all zero: no selection. */
typedef struct oa_slice {
    int64_t start[ND], stop[ND], step[ND];
} oa_slice;

typedef struct oa_case {
    const char *name;
    const char *dtype;      /* NumPy dtype of the HDF5 dataset and of the digest (types[]) */
    const char *meta_dtype; /* dtype string in the b2nd metalayer; NULL: dtype */
    int nd;
    int64_t shape[ND];            /* at creation */
    int32_t chunk[ND], block[ND]; /* chunk[0] / block[0] == 0: automatic */
    int codec, clevel;
    uint8_t filters[TERSA_MAX_FILTERS];
    int pattern;
    int make;                  /* M_*; then, in this order: */
    oa_slice set1;             /* set_slice */
    int64_t resize[ND];        /* resize (all zero: none) */
    int append_axis, append_n; /* append append_n slices along append_axis (0: none) */
    oa_slice set2;             /* set_slice */
    int storage;               /* MEM / FIL / SPA */
    unsigned extra;            /* X_* */
} oa_case;

/* clang-format off */
#define F(a, b) {a, 0, 0, 0, 0, b}

static const oa_case cases[] = {
    /* Rank 1. */
    {.name = "a1_u1_auto_blosclz_shuf", .dtype = "|u1", .nd = 1, .shape = {3000001}, .codec = LZ,
     .clevel = 5, .filters = F(0, SH), .pattern = P_SMOOTH},
    {.name = "a1_i2_lz4_bit_edges_strided", .dtype = "<i2", .nd = 1, .shape = {50001},
     .chunk = {7000}, .block = {3000}, .codec = L4, .clevel = 5, .filters = F(0, BI),
     .pattern = P_NOISY, .set1 = {{1000}, {45000}, {7}}},
    {.name = "a1_f8_zstd_delta_grow", .dtype = "<f8", .nd = 1, .shape = {20000}, .chunk = {6000},
     .block = {1600}, .codec = ZS, .clevel = 5, .filters = F(DE, SH), .pattern = P_SMOOTH,
     .resize = {31234}, .set2 = {{25000}, {31234}, {0}}},
    {.name = "a1_u8_full_lz4hc", .dtype = "<u8", .nd = 1, .shape = {25000}, .chunk = {8000},
     .block = {3000}, .codec = HC, .clevel = 5, .filters = F(0, SH), .make = M_FULL},
    {.name = "a1_f4_zeros_set_blosclz", .dtype = "<f4", .nd = 1, .shape = {30000},
     .chunk = {10000}, .block = {4096}, .codec = LZ, .clevel = 5, .filters = F(0, SH),
     .pattern = P_NOISY, .make = M_ZEROS, .set1 = {{12345}, {17000}, {0}}},
    {.name = "a1_i4_clevel0_shrink", .dtype = "<i4", .nd = 1, .shape = {40000}, .chunk = {9000},
     .block = {2000}, .codec = LZ, .clevel = 0, .filters = F(0, SH), .pattern = P_STEPS,
     .resize = {17777}},
    /* Rank 2. */
    {.name = "a2_u1_auto_zstd9_bit", .dtype = "|u1", .nd = 2, .shape = {517, 389}, .codec = ZS,
     .clevel = 9, .filters = F(0, BI), .pattern = P_SMOOTH},
    {.name = "a2_f4_auto_lz4_shuf", .dtype = "<f4", .nd = 2, .shape = {800, 1000}, .codec = L4,
     .clevel = 5, .filters = F(0, SH), .pattern = P_NOISY},
    {.name = "a2_i2_edges_blosclz_shuf", .dtype = "<i2", .nd = 2, .shape = {300, 201},
     .chunk = {64, 50}, .block = {16, 24}, .codec = LZ, .clevel = 5, .filters = F(0, SH),
     .pattern = P_STEPS},
    {.name = "a2_i4_lz4_nofilter_strided", .dtype = "<i4", .nd = 2, .shape = {250, 333},
     .chunk = {100, 100}, .block = {30, 40}, .codec = L4, .clevel = 1, .filters = F(0, 0),
     .pattern = P_NOISY, .set1 = {{10, 20}, {240, 330}, {3, 7}}},
    {.name = "a2_f4_lz4hc9_delta_aligned", .dtype = "<f4", .nd = 2, .shape = {128, 640},
     .chunk = {32, 128}, .block = {8, 128}, .codec = HC, .clevel = 9, .filters = F(DE, 0),
     .pattern = P_SMOOTH},
    {.name = "a2_f8_zstd_shrink", .dtype = "<f8", .nd = 2, .shape = {400, 300},
     .chunk = {128, 96}, .block = {32, 40}, .codec = ZS, .clevel = 5, .filters = F(0, SH),
     .pattern = P_NOISY, .resize = {333, 250}},
    {.name = "a2_u8_zeros_set_zstd1_bit", .dtype = "<u8", .nd = 2, .shape = {500, 70},
     .chunk = {100, 70}, .block = {30, 35}, .codec = ZS, .clevel = 1, .filters = F(0, BI),
     .pattern = P_SMOOTH, .make = M_ZEROS, .set1 = {{150, 5}, {260, 66}, {0}},
     .set2 = {{0, 0}, {500, 70}, {7, 9}}},
    {.name = "a2_struct_lz4_shuf", .dtype = "<i4,<f8", .meta_dtype = STRUCT, .nd = 2,
     .shape = {123, 77}, .chunk = {50, 30}, .block = {20, 16}, .codec = L4, .clevel = 5,
     .filters = F(0, SH), .pattern = P_SMOOTH},
    {.name = "a2_void6_auto_blosclz9", .dtype = "|S6", .meta_dtype = "|V6", .nd = 2,
     .shape = {99, 101}, .codec = LZ, .clevel = 9, .filters = F(0, 0), .pattern = P_STEPS},
    {.name = "a2_f4_lz4_append_axis0", .dtype = "<f4", .nd = 2, .shape = {100, 64},
     .chunk = {40, 64}, .block = {10, 32}, .codec = L4, .clevel = 5, .filters = F(0, SH),
     .pattern = P_SMOOTH, .append_axis = 0, .append_n = 77},
    {.name = "a2_i4_full_set_zstd", .dtype = "<i4", .nd = 2, .shape = {300, 300},
     .chunk = {128, 128}, .block = {32, 64}, .codec = ZS, .clevel = 5, .filters = F(0, SH),
     .pattern = P_NOISY, .make = M_FULL, .set1 = {{128, 0}, {256, 128}, {0}},
     .set2 = {{250, 250}, {300, 300}, {0}}},
    {.name = "a2_f8_file_set_grow", .dtype = "<f8", .nd = 2, .shape = {200, 150},
     .chunk = {64, 64}, .block = {16, 24}, .codec = LZ, .clevel = 5, .filters = F(0, SH),
     .pattern = P_SMOOTH, .set1 = {{10, 10}, {190, 140}, {2, 3}}, .resize = {230, 170},
     .set2 = {{200, 0}, {230, 170}, {0}}, .storage = FIL},
    {.name = "a2_i2_sparse_strided", .dtype = "<i2", .nd = 2, .shape = {180, 220},
     .chunk = {50, 60}, .block = {20, 25}, .codec = HC, .clevel = 5, .filters = F(0, BI),
     .pattern = P_STEPS, .set1 = {{0, 0}, {180, 220}, {5, 5}}, .storage = SPA},
    {.name = "a2_f8_autochunk_threads", .dtype = "<f8", .nd = 2, .shape = {700, 900},
     .block = {50, 64}, .codec = L4, .clevel = 5, .filters = F(0, SH), .pattern = P_NOISY,
     .extra = X_THREADS},
    /* Rank 3. */
    {.name = "a3_u1_auto_lz4_shuf", .dtype = "|u1", .nd = 3, .shape = {60, 70, 80}, .codec = L4,
     .clevel = 5, .filters = F(0, SH), .pattern = P_SMOOTH},
    {.name = "a3_f8_auto_blosclz_bit", .dtype = "<f8", .nd = 3, .shape = {100, 90, 80},
     .codec = LZ, .clevel = 5, .filters = F(0, BI), .pattern = P_SMOOTH},
    {.name = "a3_i2_edges_zstd_bit", .dtype = "<i2", .nd = 3, .shape = {33, 47, 59},
     .chunk = {16, 20, 25}, .block = {5, 8, 10}, .codec = ZS, .clevel = 5, .filters = F(0, BI),
     .pattern = P_NOISY},
    {.name = "a3_i4_blosclz_delta_strided", .dtype = "<i4", .nd = 3, .shape = {40, 50, 60},
     .chunk = {16, 16, 16}, .block = {8, 8, 8}, .codec = LZ, .clevel = 5, .filters = F(DE, SH),
     .pattern = P_STEPS, .set1 = {{1, 0, 2}, {40, 50, 60}, {3, 2, 5}}},
    {.name = "a3_f4_lz4hc_resize_mixed", .dtype = "<f4", .nd = 3, .shape = {50, 40, 30},
     .chunk = {20, 16, 12}, .block = {7, 5, 5}, .codec = HC, .clevel = 5, .filters = F(0, SH),
     .pattern = P_SMOOTH, .resize = {37, 55, 30}, .set2 = {{0, 40, 0}, {37, 55, 30}, {0}}},
    {.name = "a3_f8_zeros_lz4", .dtype = "<f8", .nd = 3, .shape = {64, 64, 64},
     .chunk = {32, 32, 32}, .block = {16, 16, 16}, .codec = L4, .clevel = 5, .filters = F(0, SH),
     .make = M_ZEROS},
    {.name = "a3_u8_full_auto_zstd_bit", .dtype = "<u8", .nd = 3, .shape = {70, 131, 132},
     .codec = ZS, .clevel = 5, .filters = F(0, BI), .make = M_FULL},
    {.name = "a3_struct_zstd_bit_edges", .dtype = "<i4,<f8", .meta_dtype = STRUCT, .nd = 3,
     .shape = {20, 30, 17}, .chunk = {8, 16, 17}, .block = {4, 5, 6}, .codec = ZS, .clevel = 5,
     .filters = F(0, BI), .pattern = P_NOISY},
    {.name = "a3_f4_file_append_axis1", .dtype = "<f4", .nd = 3, .shape = {20, 30, 40},
     .chunk = {8, 16, 16}, .block = {3, 8, 8}, .codec = L4, .clevel = 5, .filters = F(0, SH),
     .pattern = P_SMOOTH, .append_axis = 1, .append_n = 25, .storage = FIL},
    /* Rank 4. */
    {.name = "a4_u1_edges_blosclz", .dtype = "|u1", .nd = 4, .shape = {9, 10, 11, 12},
     .chunk = {4, 5, 6, 7}, .block = {3, 2, 4, 5}, .codec = LZ, .clevel = 5, .filters = F(0, SH),
     .pattern = P_NOISY},
    {.name = "a4_i2_auto_lz4hc9", .dtype = "<i2", .nd = 4, .shape = {12, 13, 14, 15},
     .codec = HC, .clevel = 9, .filters = F(0, SH), .pattern = P_SMOOTH},
    {.name = "a4_i2_auto_lz4_bit", .dtype = "<i2", .nd = 4, .shape = {60, 31, 32, 33},
     .codec = L4, .clevel = 5, .filters = F(0, BI), .pattern = P_NOISY},
    {.name = "a4_i4_zstd_strided", .dtype = "<i4", .nd = 4, .shape = {16, 17, 18, 19},
     .chunk = {8, 8, 8, 8}, .block = {3, 4, 5, 8}, .codec = ZS, .clevel = 5, .filters = F(0, SH),
     .pattern = P_STEPS, .set1 = {{2, 3, 4, 5}, {15, 16, 17, 18}, {2, 3, 1, 4}}},
    {.name = "a4_f4_lz4_delta_bit_grow", .dtype = "<f4", .nd = 4, .shape = {10, 12, 14, 16},
     .chunk = {5, 6, 7, 8}, .block = {2, 3, 4, 5}, .codec = L4, .clevel = 5, .filters = F(DE, BI),
     .pattern = P_SMOOTH, .resize = {13, 12, 20, 17},
     .set2 = {{10, 0, 0, 0}, {13, 12, 20, 17}, {0}}},
    {.name = "a4_f8_blosclz_bit_random", .dtype = "<f8", .nd = 4, .shape = {7, 8, 9, 10},
     .chunk = {4, 4, 4, 4}, .block = {2, 2, 3, 3}, .codec = LZ, .clevel = 5, .filters = F(0, BI),
     .pattern = P_RANDOM},
    {.name = "a4_u8_sparse_zeros_set", .dtype = "<u8", .nd = 4, .shape = {11, 12, 13, 14},
     .chunk = {6, 6, 6, 6}, .block = {3, 3, 3, 3}, .codec = ZS, .clevel = 5, .filters = F(0, SH),
     .pattern = P_NOISY, .make = M_ZEROS, .set1 = {{1, 2, 3, 4}, {10, 11, 12, 13}, {0}},
     .storage = SPA},
    {.name = "a4_f4_full_shrink_lz4hc", .dtype = "<f4", .nd = 4, .shape = {12, 12, 12, 12},
     .chunk = {5, 5, 5, 5}, .block = {2, 2, 2, 2}, .codec = HC, .clevel = 5, .filters = F(0, SH),
     .make = M_FULL, .resize = {9, 12, 7, 12}},
};

/* clang-format on */

#define NCASES (sizeof cases / sizeof cases[0])

/* ---- Data ----------------------------------------------------------------------------- */

static const oa_type *type_of(const oa_case *c)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].np, c->dtype) == 0)
            return &types[i];
    return NULL;
}

static double pattern_value(int pattern, int64_t i, uint64_t *rng)
{
    double x = (double)i;
    switch (pattern) {
    case P_SMOOTH:
        return 100.0 * sin(x * 0.001) + x * 0.01;
    case P_NOISY:
        return 50.0 * cos(x * 0.0007) + (double)(ou_rng_next(rng) % 64) * 0.25;
    default:
        return (double)(i / 37 % 200) - 60.0; /* P_STEPS */
    }
}

static void store_le(uint8_t *p, uint64_t v, int n)
{
    for (int k = 0; k < n; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

/* One item of value v in the dtype's representation. */
static void put_item(const oa_type *t, uint8_t *p, double v)
{
    if (t->kind == 'f' && t->size == 4) {
        float f = (float)v;
        memcpy(p, &f, 4);
    } else if (t->kind == 'f') {
        memcpy(p, &v, 8);
    } else if (t->kind == 'T') {
        store_le(p, (uint64_t)(int64_t)llround(v * 3.0), 4);
        memcpy(p + 4, &v, 8);
    } else if (t->kind == 'S') {
        for (int k = 0; k < t->size; k++)
            p[k] = (uint8_t)('a' + (llabs(llround(v)) + k) % 26);
    } else {
        store_le(p, (uint64_t)(int64_t)llround(v), t->size);
    }
}

/* n items of a pattern; seed varies the data between the creation and later writes. */
static void gen(const oa_type *t, int pattern, uint64_t seed, int64_t n, uint8_t *buf)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull ^ (seed * 0x100000001b3ull);
    if (pattern == P_RANDOM) {
        for (int64_t i = 0; i < n * t->size; i++)
            buf[i] = (uint8_t)(ou_rng_next(&rng) >> 24);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        put_item(t, buf + i * t->size, pattern_value(pattern, i + (int64_t)seed * 1000, &rng));
}

/* ---- The model: the logical array, changed by plain reference code -------------------- */

typedef struct model {
    int nd;
    int64_t shape[ND];
    size_t isz;
    uint8_t *data;
} model;

static int64_t prod(int nd, const int64_t *v)
{
    int64_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= v[i];
    return n;
}

static bool has_slice(const oa_slice *s)
{
    for (int i = 0; i < ND; i++)
        if (s->stop[i])
            return true;
    return false;
}

/* Items selected per axis (cnt) and in all; steps of 0 read as 1 (into step). */
static int64_t slice_items(int nd, const oa_slice *s, int64_t *cnt, int64_t *step)
{
    int64_t n = 1;
    for (int i = 0; i < nd; i++) {
        step[i] = s->step[i] ? s->step[i] : 1;
        cnt[i] = s->stop[i] > s->start[i] ? (s->stop[i] - s->start[i] - 1) / step[i] + 1 : 0;
        n *= cnt[i];
    }
    return n;
}

static bool next_index(int nd, const int64_t *cnt, int64_t *idx)
{
    for (int i = nd - 1; i >= 0; i--) {
        if (++idx[i] < cnt[i])
            return true;
        idx[i] = 0;
    }
    return false;
}

/* Offset in items of position pos in a C-order array of shape. */
static int64_t offset_of(int nd, const int64_t *shape, const int64_t *pos)
{
    int64_t off = 0;
    for (int i = 0; i < nd; i++)
        off = off * shape[i] + pos[i];
    return off;
}

/* Copy src (packed, C order) into the strided selection s of the model. */
static void model_set(model *m, const oa_slice *s, const uint8_t *src)
{
    int64_t cnt[ND], step[ND], idx[ND] = {0}, pos[ND];
    int64_t n = slice_items(m->nd, s, cnt, step);
    for (int64_t k = 0; k < n; k++) {
        for (int i = 0; i < m->nd; i++)
            pos[i] = s->start[i] + idx[i] * step[i];
        memcpy(m->data + (size_t)offset_of(m->nd, m->shape, pos) * m->isz, src + (size_t)k * m->isz,
               m->isz);
        next_index(m->nd, cnt, idx);
    }
}

/* New shape: items inside both shapes kept, new ones zero. Returns 0 or 1 (no memory). */
static int model_resize(model *m, const int64_t *shape)
{
    int64_t cnt[ND], idx[ND] = {0};
    uint8_t *data = calloc((size_t)prod(m->nd, shape) + 1, m->isz);
    if (!data)
        return 1;
    for (int i = 0; i < m->nd; i++)
        cnt[i] = m->shape[i] < shape[i] ? m->shape[i] : shape[i];
    int64_t n = prod(m->nd, cnt);
    for (int64_t k = 0; k < n; k++) {
        memcpy(data + (size_t)offset_of(m->nd, shape, idx) * m->isz,
               m->data + (size_t)offset_of(m->nd, m->shape, idx) * m->isz, m->isz);
        next_index(m->nd, cnt, idx);
    }
    free(m->data);
    m->data = data;
    memcpy(m->shape, shape, sizeof(int64_t) * (size_t)m->nd);
    return 0;
}

/* ---- Writing the array ---------------------------------------------------------------- */

static int fail(const oa_case *c, const char *what, int64_t rc)
{
    fprintf(stderr, PROG ": %s: %s: %s (%s)\n", c->name, what, tersa_error_name((int)rc),
            tersa_error_detail());
    return 1;
}

static tersa_cctx *make_cparams(const oa_case *c)
{
    tersa_cctx *cc = tersa_cctx_create();
    int rc = cc ? 0 : TERSA_ERR_NOMEM;
    if (!rc)
        rc = tersa_cctx_set(cc, TERSA_P_CODEC, c->codec);
    if (!rc)
        rc = tersa_cctx_set(cc, TERSA_P_CLEVEL, c->clevel);
    for (int k = 0; k < TERSA_MAX_FILTERS && !rc; k++)
        rc = tersa_cctx_set(cc, (tersa_param)(TERSA_P_FILTER0 + k), c->filters[k]);
    if (!rc && (c->extra & X_THREADS))
        rc = tersa_cctx_set(cc, TERSA_P_NTHREADS, 4);
    if (rc) {
        fail(c, "compression parameters", rc);
        tersa_cctx_free(cc);
        return NULL;
    }
    return cc;
}

/* The creation parameters of a case (cc: its compression parameters). */
static tersa_nd_params nd_params(const oa_case *c, const oa_type *t, const char *path,
                                 const tersa_cctx *cc)
{
    tersa_nd_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.ndim = c->nd;
    p.shape = c->shape;
    p.chunkshape = c->chunk[0] ? c->chunk : NULL;
    p.blockshape = c->block[0] ? c->block : NULL;
    p.itemsize = t->size;
    p.dtype = c->meta_dtype ? c->meta_dtype : c->dtype;
    p.cparams = cc;
    p.storage = c->storage;
    p.path = path;
    p.overwrite = 1;
    return p;
}

/* Create the array as the case says, and the model with it. */
static tersa_array *create_array(const oa_case *c, const oa_type *t, const char *path, model *m)
{
    uint8_t value[16];
    tersa_array *a = NULL;
    tersa_cctx *cc = make_cparams(c);
    tersa_nd_params p = nd_params(c, t, path, cc);
    int64_t nitems = prod(c->nd, c->shape);
    m->data = calloc((size_t)nitems + 1, (size_t)t->size);
    if (cc && m->data && c->make == M_BUFFER) {
        gen(t, c->pattern, 1, nitems, m->data);
        a = tersa_array_from_buffer(&p, m->data, (size_t)nitems * (size_t)t->size);
    } else if (cc && m->data && c->make == M_FULL) {
        put_item(t, value, -7.25);
        for (int64_t i = 0; i < nitems; i++)
            memcpy(m->data + i * t->size, value, (size_t)t->size);
        a = tersa_array_full(&p, value);
    } else if (cc && m->data) {
        a = tersa_array_zeros(&p);
    }
    if (!a)
        fail(c, "create the array", m->data ? -1 : TERSA_ERR_NOMEM);
    tersa_cctx_free(cc);
    return a;
}

/* set_slice from generated data, in the array and in the model. */
static int apply_set(const oa_case *c, const oa_type *t, tersa_array *a, model *m,
                     const oa_slice *s, uint64_t seed)
{
    int64_t cnt[ND], step[ND];
    int64_t n = slice_items(c->nd, s, cnt, step);
    uint8_t *src = malloc((size_t)n * m->isz + 1);
    if (!src)
        return fail(c, "malloc", TERSA_ERR_NOMEM);
    gen(t, c->pattern == P_RANDOM ? P_RANDOM : P_NOISY, seed, n, src);
    int64_t rc = tersa_array_set_slice(a, s->start, s->stop, step, src, (size_t)n * m->isz);
    if (rc >= 0)
        model_set(m, s, src);
    free(src);
    return rc < 0 ? fail(c, "tersa_array_set_slice", rc) : 0;
}

static int apply_resize(const oa_case *c, tersa_array *a, model *m)
{
    int rc = tersa_array_resize(a, c->resize);
    if (rc < 0)
        return fail(c, "tersa_array_resize", rc);
    return model_resize(m, c->resize) ? fail(c, "malloc", TERSA_ERR_NOMEM) : 0;
}

/* Append append_n slices along append_axis: in the model, a resize and a set of the new part. */
static int apply_append(const oa_case *c, const oa_type *t, tersa_array *a, model *m)
{
    oa_slice s;
    int64_t shape[ND];
    memset(&s, 0, sizeof s);
    memcpy(shape, m->shape, sizeof shape);
    memcpy(s.stop, m->shape, sizeof shape);
    s.start[c->append_axis] = m->shape[c->append_axis];
    shape[c->append_axis] += c->append_n;
    s.stop[c->append_axis] = shape[c->append_axis];
    int64_t n = prod(c->nd, shape) - prod(c->nd, m->shape);
    uint8_t *src = malloc((size_t)n * m->isz + 1);
    if (!src)
        return fail(c, "malloc", TERSA_ERR_NOMEM);
    gen(t, P_SMOOTH, 4, n, src);
    int rc = tersa_array_append(a, src, (size_t)n * m->isz, c->append_axis);
    int bad = rc < 0 ? fail(c, "tersa_array_append", rc) : 0;
    if (!bad && model_resize(m, shape))
        bad = fail(c, "malloc", TERSA_ERR_NOMEM);
    if (!bad)
        model_set(m, &s, src);
    free(src);
    return bad;
}

/* The changes after creation, in the case's order. */
static int modify(const oa_case *c, const oa_type *t, tersa_array *a, model *m)
{
    int bad = 0;
    if (has_slice(&c->set1))
        bad = apply_set(c, t, a, m, &c->set1, 2);
    if (!bad && prod(c->nd, c->resize) > 0)
        bad = apply_resize(c, a, m);
    if (!bad && c->append_n)
        bad = apply_append(c, t, a, m);
    if (!bad && has_slice(&c->set2))
        bad = apply_set(c, t, a, m, &c->set2, 3);
    return bad;
}

/* ---- Checking and writing the frame --------------------------------------------------- */

/* Open the frame again with tersa: its shape and every item must equal the model. */
static int self_check(const oa_case *c, const uint8_t *frame, size_t len, const model *m)
{
    int64_t shape[TERSA_ND_MAX_DIM];
    size_t nbytes = (size_t)prod(m->nd, m->shape) * m->isz;
    uint8_t *got = malloc(nbytes + 1);
    tersa_array *a = tersa_array_open_buffer(frame, len, TERSA_OPEN_READONLY);
    int bad = (got && a) ? 0 : fail(c, "self-check: open", a ? TERSA_ERR_NOMEM : -1);
    if (!bad && (tersa_array_shape(a, shape) != m->nd ||
                 memcmp(shape, m->shape, sizeof(int64_t) * (size_t)m->nd) != 0))
        bad = fail(c, "self-check: the frame has another shape", 0);
    if (!bad && tersa_array_itemsize(a) != (int32_t)m->isz)
        bad = fail(c, "self-check: the frame has another item size", 0);
    int64_t rc = bad ? 0 : tersa_array_to_buffer(a, got, nbytes);
    if (!bad && rc != (int64_t)nbytes)
        bad = fail(c, "self-check: tersa_array_to_buffer", rc);
    if (!bad && memcmp(got, m->data, nbytes) != 0)
        bad = fail(c, "self-check: tersa decodes different data", 0);
    tersa_array_free(a);
    free(got);
    return bad;
}

/* The frame of an array in memory or in a sparse directory, malloc'ed. */
static uint8_t *gather_frame(const oa_case *c, tersa_array *a, size_t *len)
{
    tersa_schunk *s = tersa_array_schunk(a);
    int64_t n = tersa_schunk_frame_len(s);
    uint8_t *frame = n > 0 ? malloc((size_t)n) : NULL;
    int64_t rc = frame ? tersa_schunk_to_buffer(s, frame, (size_t)n) : n;
    if (!frame || rc != n) {
        fail(c, "tersa_schunk_to_buffer", rc);
        free(frame);
        return NULL;
    }
    *len = (size_t)n;
    return frame;
}

static void fmt_shape(char *out, size_t cap, int nd, const int64_t *v, const char *sep)
{
    size_t p = 0;
    out[0] = 0;
    for (int i = 0; i < nd && p < cap; i++)
        p += (size_t)snprintf(out + p, cap - p, "%s%" PRId64, i ? sep : "", v[i]);
}

static void fmt_shape32(char *out, size_t cap, int nd, const int32_t *v)
{
    int64_t w[TERSA_ND_MAX_DIM];
    for (int i = 0; i < nd; i++)
        w[i] = v[i];
    fmt_shape(out, cap, nd, w, ",");
}

/* What the case exercises, from the array's actual geometry. */
static void describe(const oa_case *c, const tersa_array_info *in, char *out, size_t cap)
{
    static const char *makes[] = {"from_buffer", "zeros", "full"};
    static const char *stores[] = {"", " file", " sparse"};
    char cs[64], bs[64], ops[96];
    bool echunk = false, eblock = false;
    for (int i = 0; i < in->ndim; i++) {
        echunk |= in->shape[i] % in->chunkshape[i] != 0;
        eblock |= in->chunkshape[i] % in->blockshape[i] != 0;
    }
    fmt_shape32(cs, sizeof cs, in->ndim, in->chunkshape);
    fmt_shape32(bs, sizeof bs, in->ndim, in->blockshape);
    snprintf(ops, sizeof ops, "%s%s%s%s%s", makes[c->make], has_slice(&c->set1) ? "+set" : "",
             prod(c->nd, c->resize) > 0 ? "+resize" : "", c->append_n ? "+append" : "",
             has_slice(&c->set2) ? "+set" : "");
    int n = snprintf(out, cap, "nd=%d %s %s clevel=%d filters=", c->nd, ops,
                     tersa_codec_name(c->codec), c->clevel);
    for (int k = 0; k < TERSA_MAX_FILTERS && n > 0 && (size_t)n < cap; k++)
        if (c->filters[k])
            n += snprintf(out + n, cap - (size_t)n, "%s@%d,", tersa_filter_name(c->filters[k]), k);
    if (n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, " chunk=(%s)%s block=(%s)%s%s%s meta=%s%s%s", cs,
                 c->chunk[0] ? "" : "auto", bs, c->block[0] ? "" : "auto",
                 echunk ? " edge-chunks" : "", eblock ? " edge-blocks" : "",
                 in->dtype ? in->dtype : "-", stores[c->storage],
                 (c->extra & X_THREADS) ? " threads=4" : "");
}

/* Take the frame (file storage: the file tersa wrote in place), check it, write it. */
static int finish(const oa_case *c, tersa_array *a, const char *outdir, const model *m, char *desc,
                  size_t cap)
{
    tersa_array_info info;
    size_t len = 0;
    uint8_t *frame = NULL;
    info.struct_size = sizeof info;
    int rc = tersa_array_get_info(a, &info);
    if (rc < 0)
        return fail(c, "tersa_array_get_info", rc);
    describe(c, &info, desc, cap);
    char *path = ou_join(outdir, c->name, ".b2frame");
    if (c->storage != FIL)
        frame = gather_frame(c, a, &len);
    tersa_array_free(a);
    if (path && c->storage == FIL)
        frame = ou_read_file(PROG, path, &len);
    int bad = frame && path ? self_check(c, frame, len, m) : 1;
    if (!bad && c->storage != FIL)
        bad = ou_write_file(PROG, path, frame, len);
    free(frame);
    free(path);
    return bad;
}

static int write_case(const oa_case *c, const char *outdir, FILE *tsv)
{
    const oa_type *t = type_of(c);
    model m = {c->nd, {0}, t ? (size_t)t->size : 0, NULL};
    char hex[65], desc[320], shape[96];
    if (!t)
        return fail(c, "unknown dtype", TERSA_ERR_PARAM);
    memcpy(m.shape, c->shape, sizeof m.shape);
    char *path = ou_join(outdir, c->name, c->storage == SPA ? ".sframe" : ".b2frame");
    tersa_array *a = path ? create_array(c, t, path, &m) : NULL;
    int bad = a ? modify(c, t, a, &m) : 1;
    if (!bad) {
        bad = finish(c, a, outdir, &m, desc, sizeof desc);
        a = NULL;
    }
    tersa_array_free(a);
    if (!bad) {
        th_sha256_hex(m.data, (size_t)prod(m.nd, m.shape) * m.isz, hex);
        fmt_shape(shape, sizeof shape, m.nd, m.shape, ",");
        fprintf(tsv, "%s.b2frame\t%s\t%s\t%s\t%s\n", c->name, c->dtype, shape, hex, desc);
    }
    free(m.data);
    free(path);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    FILE *tsv = ou_open_tsv(PROG, argv[1]);
    if (!tsv)
        return 1;
    int bad = 0;
    for (size_t i = 0; i < NCASES; i++)
        bad += write_case(&cases[i], argv[1], tsv);
    bad += fclose(tsv) != 0;
    printf(PROG ": %zu arrays written, %d failed\n", NCASES - (size_t)bad, bad);
    return bad ? 1 : 0;
}

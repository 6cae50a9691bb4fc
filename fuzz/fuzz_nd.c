/* libFuzzer target for b2nd arrays. The first byte chooses the mode:
 *
 * even: the b2nd metalayer parser. Byte 1 picks an item size and a chunk blocksize; the rest
 *   is a metalayer. tersa_nd_meta_parse must accept or refuse it cleanly; what it accepts must
 *   serialise and parse back to the same fields (ndim <= 15), and, when the array is small, a
 *   memory frame carrying those very bytes as its "b2nd" metalayer, with chunks laid out by an
 *   independent reference of the b2nd layout here, must open as an array whose items (whole,
 *   and a slice) equal the reference's.
 *
 * odd: slicing and editing parameters on a small in-memory array. Bytes give ndim (1..4), an
 *   item size, codec and filter, shape, chunkshape and blockshape; then a sequence of
 *   operations (get_slice, set_slice, resize, insert, delete, append, copy into new shapes)
 *   whose start/stop/step, lengths and shapes come from the bytes, valid or not. Valid
 *   requests must succeed and give exactly what a plain C-order model gives; invalid ones must
 *   fail with the documented error and change nothing.
 *
 * abort() on any difference (a fuzzing harness, not library code). Built with
 * tersa_fuzz_replay.c when libFuzzer is not available (CTest fuzz_replay_nd). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tersa/tersa.h"

#define FZ_MAXD 4
#define FZ_MAX_ITEMS 6000   /* model arrays stay below this many items */
#define FZ_META_ITEMS 4096  /* metalayer mode: arrays read back up to this size */
#define FZ_META_CHUNK 65536 /* ... and chunks up to this many bytes */
#define FZ_MAX_OPS 24
#define FZ_MAX_CHUNKS                                                                              \
    96 /* model arrays stay below this many chunks (memory frames are                              \
          compacted on every chunk update: keep the runs fast) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(c)                                                                                \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

typedef struct fz_in {
    const uint8_t *p;
    size_t n, pos;
} fz_in;

static uint8_t fz_byte(fz_in *in)
{
    return in->pos < in->n ? in->p[in->pos++] : 0;
}

static const int32_t fz_itemsizes[8] = {1, 2, 4, 8, 3, 16, 4, 8};

/* The value of item number i (itemsize bytes). */
static void fz_value(uint64_t i, uint8_t *out, size_t isz)
{
    uint64_t h = (i + 1) * 0x9E3779B97F4A7C15u;
    for (size_t b = 0; b < isz; b++)
        out[b] = (uint8_t)(h >> (8 * (b % 8))) ^ (uint8_t)(b * 29);
}

static void fz_strides(int nd, const int64_t *ext, int64_t *st)
{
    int64_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
        st[i] = s;
        s *= ext[i];
    }
}

static bool fz_next(int nd, const int64_t *cnt, int64_t *idx)
{
    for (int i = nd - 1; i >= 0; i--) {
        if (++idx[i] < cnt[i])
            return true;
        idx[i] = 0;
    }
    return false;
}

/* ---- Metalayer mode ----------------------------------------------------------------- */

typedef struct fz_geo {
    int nd;
    int64_t shape[16], cs[16], bs[16], ext[16], cgrid[16], bgrid[16];
    int64_t nitems, nchunks, chunk_items, block_items;
} fz_geo;

/* The reference geometry (0 placeholders become 1); false when too large to read back. */
static bool fz_geo_init(const tersa_nd_meta *m, size_t isz, fz_geo *g)
{
    g->nd = m->ndim;
    g->nitems = g->nchunks = g->chunk_items = g->block_items = 1;
    for (int i = 0; i < m->ndim; i++) {
        g->shape[i] = m->shape[i];
        g->cs[i] = m->chunkshape[i] > 0 ? m->chunkshape[i] : 1;
        g->bs[i] = m->blockshape[i] > 0 ? m->blockshape[i] : 1;
        g->ext[i] = (g->cs[i] + g->bs[i] - 1) / g->bs[i] * g->bs[i];
        g->cgrid[i] = (g->shape[i] + g->cs[i] - 1) / g->cs[i];
        g->bgrid[i] = g->ext[i] / g->bs[i];
        if (g->shape[i] > FZ_META_ITEMS || g->ext[i] > FZ_META_CHUNK)
            return false;
        g->nitems *= g->shape[i];
        g->nchunks *= g->cgrid[i];
        g->chunk_items *= g->ext[i];
        g->block_items *= g->bs[i];
        if (g->nitems > FZ_META_ITEMS || g->nchunks > FZ_META_ITEMS ||
            g->chunk_items * (int64_t)isz > FZ_META_CHUNK)
            return false;
    }
    if (g->nitems == 0)
        g->nchunks = 0;
    return true;
}

/* Lay out chunk number n: every item inside the array at its b2nd position, padding 0. */
static void fz_layout_chunk(const fz_geo *g, int64_t n, size_t isz, uint8_t *chunk)
{
    int64_t cc[16], cnt[16], idx[16] = {0}, gst[16], bst[16], inb[16];
    memset(chunk, 0, (size_t)g->chunk_items * isz);
    for (int i = g->nd - 1; i >= 0; i--) {
        cc[i] = n % g->cgrid[i];
        n /= g->cgrid[i];
        int64_t o = cc[i] * g->cs[i], e = o + g->cs[i] < g->shape[i] ? o + g->cs[i] : g->shape[i];
        cnt[i] = e - o;
    }
    fz_strides(g->nd, g->shape, gst);
    fz_strides(g->nd, g->bgrid, bst);
    fz_strides(g->nd, g->bs, inb);
    do {
        int64_t glob = 0, blk = 0, off = 0;
        for (int i = 0; i < g->nd; i++) {
            glob += (cc[i] * g->cs[i] + idx[i]) * gst[i];
            blk += idx[i] / g->bs[i] * bst[i];
            off += idx[i] % g->bs[i] * inb[i];
        }
        fz_value((uint64_t)glob, chunk + (size_t)(blk * g->block_items + off) * isz, isz);
    } while (fz_next(g->nd, cnt, idx));
}

/* A memory frame with the fuzzed metalayer bytes and reference chunks. */
static tersa_schunk *fz_meta_frame(const uint8_t *meta, size_t len, const fz_geo *g, size_t isz,
                                   uint8_t sel)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_TYPESIZE, isz);
    int64_t bb = g->block_items * (int64_t)isz;
    tersa_cctx_set(c, TERSA_P_BLOCKSIZE, sel & 0x10 ? 0 : sel & 0x20 ? 64 : bb);
    tersa_metalayer ml = {"b2nd", meta, len};
    tersa_schunk_params p = {.struct_size = sizeof p,
                             .storage = TERSA_STORAGE_MEMORY,
                             .cparams = c,
                             .typesize = (int32_t)isz,
                             .nmetalayers = 1,
                             .metalayers = &ml};
    tersa_schunk *s = tersa_schunk_create(&p);
    tersa_cctx_free(c);
    uint8_t *chunk = malloc((size_t)g->chunk_items * isz + 1);
    for (int64_t n = 0; s && chunk && n < g->nchunks; n++) {
        fz_layout_chunk(g, n, isz, chunk);
        FZ_CHECK(tersa_schunk_append_buffer(s, chunk, (size_t)g->chunk_items * isz) == n + 1);
    }
    free(chunk);
    return s;
}

static void fz_meta_array(const uint8_t *meta, size_t len, const tersa_nd_meta *m, uint8_t sel)
{
    size_t isz = (size_t)fz_itemsizes[sel & 7];
    fz_geo g;
    if (!fz_geo_init(m, isz, &g))
        return;
    tersa_schunk *s = fz_meta_frame(meta, len, &g, isz, sel);
    FZ_CHECK(s != NULL);
    tersa_array *a = tersa_array_from_schunk(s, TERSA_ND_OWN);
    FZ_CHECK(a != NULL);
    size_t n = (size_t)g.nitems * isz;
    uint8_t *got = malloc(n + 1), *want = malloc(n + 1);
    for (int64_t i = 0; i < g.nitems; i++)
        fz_value((uint64_t)i, want + (size_t)i * isz, isz);
    FZ_CHECK(tersa_array_to_buffer(a, got, n) == (int64_t)n);
    FZ_CHECK(memcmp(got, want, n) == 0);
    /* one item near the end, through the block path */
    int64_t start[16], stop[16];
    for (int i = 0; i < g.nd; i++) {
        start[i] = g.shape[i] > 0 ? g.shape[i] - 1 : 0;
        stop[i] = g.shape[i];
    }
    int64_t rc = tersa_array_get_slice(a, start, stop, NULL, got, n);
    FZ_CHECK(rc == (g.nitems ? (int64_t)isz : 0));
    if (g.nitems)
        FZ_CHECK(memcmp(got, want + n - isz, isz) == 0);
    free(got);
    free(want);
    tersa_array_free(a);
}

static void fz_meta_mode(const uint8_t *p, size_t n)
{
    if (n < 1)
        return;
    tersa_nd_meta m = {.struct_size = sizeof m}, m2 = {.struct_size = sizeof m2};
    int64_t used = tersa_nd_meta_parse(p + 1, n - 1, &m);
    if (used < 0)
        return;
    FZ_CHECK(used <= (int64_t)(n - 1) && m.ndim >= 0 && m.ndim <= TERSA_ND_MAX_DIM);
    if (m.ndim <= TERSA_ND_MAX_DIM_WRITE) {
        int64_t len = tersa_nd_meta_serialize(&m, NULL, 0);
        FZ_CHECK(len > 0);
        uint8_t *buf = malloc((size_t)len);
        FZ_CHECK(buf && tersa_nd_meta_serialize(&m, buf, (size_t)len) == len);
        FZ_CHECK(tersa_nd_meta_parse(buf, (size_t)len, &m2) == len);
        FZ_CHECK(m2.ndim == m.ndim && m2.version == m.version);
        for (int i = 0; i < m.ndim; i++)
            FZ_CHECK(m2.shape[i] == m.shape[i] && m2.chunkshape[i] == m.chunkshape[i] &&
                     m2.blockshape[i] == m.blockshape[i]);
        if (m.has_dtype)
            FZ_CHECK(m2.dtype_len == m.dtype_len && !memcmp(m2.dtype, m.dtype, m.dtype_len));
        free(buf);
    }
    fz_meta_array(p + 1, n - 1, &m, p[0]);
}

/* ---- Slicing mode: the model -------------------------------------------------------- */

typedef struct fz_model {
    int nd;
    int64_t shape[FZ_MAXD];
    int64_t cs[FZ_MAXD]; /* the array's chunkshape */
    size_t isz;
    uint8_t *v; /* C order */
    uint64_t counter;
} fz_model;

static int64_t fz_items(int nd, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= shape[i];
    return n;
}

/* A shape the model may take: few items and few chunks of chunkshape cs. */
static bool fz_fits(int nd, const int64_t *shape, const int64_t *cs)
{
    int64_t chunks = 1;
    for (int i = 0; i < nd; i++)
        chunks *= (shape[i] + cs[i] - 1) / cs[i];
    return fz_items(nd, shape) <= FZ_MAX_ITEMS && chunks <= FZ_MAX_CHUNKS;
}

typedef struct fz_sel {
    int64_t start[FZ_MAXD], stop[FZ_MAXD], step[FZ_MAXD], cnt[FZ_MAXD];
    bool valid;
} fz_sel;

/* Start, stop and step from the bytes: in [-1, shape + 1], steps 0..4 (0 and -1 invalid). */
static void fz_read_sel(fz_in *in, const fz_model *m, fz_sel *s)
{
    s->valid = true;
    for (int i = 0; i < m->nd; i++) {
        uint64_t r = (uint64_t)m->shape[i] + 3;
        s->start[i] = (int64_t)(fz_byte(in) % r) - 1;
        s->stop[i] = (int64_t)(fz_byte(in) % r) - 1;
        uint8_t b = fz_byte(in);
        s->step[i] = b & 0x80 ? 1 : b % 5;
        if (s->start[i] < 0 || s->stop[i] < s->start[i] || s->stop[i] > m->shape[i] ||
            s->step[i] < 1)
            s->valid = false;
        else
            s->cnt[i] = (s->stop[i] - s->start[i] + s->step[i] - 1) / s->step[i];
    }
}

/* Copy between the model and a packed slice buffer (to_model: write the model). */
static void fz_model_sel(fz_model *m, const fz_sel *s, uint8_t *buf, bool to_model)
{
    int64_t idx[FZ_MAXD] = {0}, st[FZ_MAXD], k = 0;
    if (fz_items(m->nd, s->cnt) == 0)
        return;
    fz_strides(m->nd, m->shape, st);
    do {
        int64_t off = 0;
        for (int i = 0; i < m->nd; i++)
            off += (s->start[i] + idx[i] * s->step[i]) * st[i];
        uint8_t *mp = m->v + (size_t)off * m->isz, *bp = buf + (size_t)k++ * m->isz;
        memcpy(to_model ? mp : bp, to_model ? bp : mp, m->isz);
    } while (fz_next(m->nd, s->cnt, idx));
}

/* The model with a new shape: items in both keep their values, the rest is zero. When axis is
 * given (>= 0), [at, at + shift) along it is new (insert, shift > 0) or dropped (shift < 0). */
static void fz_model_reshape(fz_model *m, const int64_t *shape, int axis, int64_t at, int64_t shift)
{
    int64_t n = fz_items(m->nd, shape), idx[FZ_MAXD] = {0}, ost[FZ_MAXD], k = 0;
    uint8_t *v = calloc((size_t)n + 1, m->isz);
    fz_strides(m->nd, m->shape, ost);
    for (; n > 0; k++) {
        int64_t off = 0;
        bool in = true;
        for (int i = 0; i < m->nd; i++) {
            int64_t j = idx[i];
            if (i == axis && j >= at)
                j = shift > 0 && j < at + shift ? -1 : j - shift;
            in = in && j >= 0 && j < m->shape[i];
            off += j * ost[i];
        }
        if (in)
            memcpy(v + (size_t)k * m->isz, m->v + (size_t)off * m->isz, m->isz);
        if (!fz_next(m->nd, shape, idx))
            break;
    }
    free(m->v);
    m->v = v;
    memcpy(m->shape, shape, sizeof(int64_t) * (size_t)m->nd);
}

static void fz_fill(fz_model *m, uint8_t *buf, int64_t nitems)
{
    for (int64_t i = 0; i < nitems; i++)
        fz_value(m->counter++ + 1000003, buf + (size_t)i * m->isz, m->isz);
}

static void fz_compare(tersa_array *a, const fz_model *m)
{
    int64_t shape[FZ_MAXD], n = fz_items(m->nd, m->shape);
    FZ_CHECK(tersa_array_shape(a, shape) == m->nd);
    for (int i = 0; i < m->nd; i++)
        FZ_CHECK(shape[i] == m->shape[i]);
    uint8_t *got = malloc((size_t)n * m->isz + 1);
    FZ_CHECK(tersa_array_to_buffer(a, got, (size_t)n * m->isz) == n * (int64_t)m->isz);
    FZ_CHECK(memcmp(got, m->v, (size_t)n * m->isz) == 0);
    free(got);
}

/* ---- Slicing mode: operations ------------------------------------------------------- */

static void fz_op_get(fz_in *in, tersa_array *a, fz_model *m)
{
    fz_sel s;
    fz_read_sel(in, m, &s);
    bool small = fz_byte(in) == 0x5a;
    int64_t need = s.valid ? fz_items(m->nd, s.cnt) * (int64_t)m->isz : 0;
    size_t cap = small && need > 0 ? (size_t)need - 1 : (size_t)need;
    uint8_t *got = malloc((size_t)need + 1), *want = malloc((size_t)need + 1);
    int64_t rc = tersa_array_get_slice(a, s.start, s.stop, s.step, got, cap);
    if (!s.valid)
        FZ_CHECK(rc == TERSA_ERR_RANGE || rc == TERSA_ERR_PARAM);
    else if (small && need > 0)
        FZ_CHECK(rc == TERSA_ERR_DST_TOO_SMALL);
    else {
        FZ_CHECK(rc == need);
        fz_model_sel(m, &s, want, false);
        FZ_CHECK(memcmp(got, want, (size_t)need) == 0);
    }
    free(got);
    free(want);
}

static void fz_op_set(fz_in *in, tersa_array *a, fz_model *m)
{
    fz_sel s;
    fz_read_sel(in, m, &s);
    bool wrong = fz_byte(in) == 0xa5;
    int64_t n = s.valid ? fz_items(m->nd, s.cnt) : 0;
    uint8_t *src = malloc((size_t)n * m->isz + 1);
    fz_fill(m, src, n);
    size_t len = (size_t)n * m->isz + (wrong ? 1 : 0);
    int64_t rc = tersa_array_set_slice(a, s.start, s.stop, s.step, src, len);
    if (!s.valid || wrong)
        FZ_CHECK(rc == TERSA_ERR_RANGE || rc == TERSA_ERR_PARAM);
    else {
        FZ_CHECK(rc >= 0);
        fz_model_sel(m, &s, src, true);
    }
    free(src);
}

static void fz_op_resize(fz_in *in, tersa_array *a, fz_model *m)
{
    int64_t shape[FZ_MAXD];
    for (int i = 0; i < m->nd; i++)
        shape[i] = fz_byte(in) % 13;
    if (!fz_fits(m->nd, shape, m->cs))
        return;
    FZ_CHECK(tersa_array_resize(a, shape) == 0);
    fz_model_reshape(m, shape, -1, 0, 0);
}

/* Rows of the other axes; 0 when one of them is empty (insert is then meaningless). */
static int64_t fz_row(const fz_model *m, int axis)
{
    int64_t r = 1;
    for (int i = 0; i < m->nd; i++)
        if (i != axis)
            r *= m->shape[i];
    return r;
}

static void fz_op_insert(fz_in *in, tersa_array *a, fz_model *m, bool append)
{
    int axis = fz_byte(in) % m->nd;
    int64_t len = m->shape[axis], start = append ? len : fz_byte(in) % (len + 1);
    int64_t n = 1 + fz_byte(in) % 6, row = fz_row(m, axis), shape[FZ_MAXD];
    memcpy(shape, m->shape, sizeof shape);
    shape[axis] += n;
    if (row == 0 || !fz_fits(m->nd, shape, m->cs))
        return;
    uint8_t *src = malloc((size_t)(n * row) * m->isz);
    fz_fill(m, src, n * row);
    size_t srclen = (size_t)(n * row) * m->isz;
    int rc = append ? tersa_array_append(a, src, srclen, axis)
                    : tersa_array_insert(a, src, srclen, axis, start);
    FZ_CHECK(rc == 0);
    fz_model_reshape(m, shape, axis, start, n);
    fz_sel s = {.valid = true};
    for (int i = 0; i < m->nd; i++) {
        s.start[i] = i == axis ? start : 0;
        s.cnt[i] = i == axis ? n : m->shape[i];
        s.step[i] = 1;
    }
    fz_model_sel(m, &s, src, true);
    free(src);
}

static void fz_op_delete(fz_in *in, tersa_array *a, fz_model *m)
{
    int axis = fz_byte(in) % m->nd;
    int64_t len = m->shape[axis];
    int64_t start = (int64_t)(fz_byte(in) % (len + 3)) - 1, n = (int64_t)(fz_byte(in) % 8) - 1;
    int rc = tersa_array_delete(a, axis, start, n);
    if (start < 0 || n < 0 || start + n > len) {
        FZ_CHECK(rc == TERSA_ERR_RANGE);
        return;
    }
    FZ_CHECK(rc == 0);
    int64_t shape[FZ_MAXD];
    memcpy(shape, m->shape, sizeof shape);
    shape[axis] -= n;
    fz_model_reshape(m, shape, axis, start, -n);
}

static tersa_array *fz_op_copy(fz_in *in, tersa_array *a, fz_model *m)
{
    int32_t cs[FZ_MAXD], bs[FZ_MAXD];
    int64_t cs64[FZ_MAXD];
    bool valid = true;
    for (int i = 0; i < m->nd; i++) {
        cs[i] = 1 + fz_byte(in) % 9;
        cs64[i] = cs[i];
        bs[i] = fz_byte(in) % 10; /* 0 or above cs: invalid */
        valid = valid && bs[i] >= 1 && bs[i] <= cs[i];
    }
    if (!fz_fits(m->nd, m->shape, cs64))
        return a;
    tersa_nd_params p = {.struct_size = sizeof p, .chunkshape = cs, .blockshape = bs};
    tersa_array *c = tersa_array_copy(a, &p);
    FZ_CHECK((c != NULL) == valid);
    if (!c)
        return a;
    tersa_array_free(a);
    memcpy(m->cs, cs64, sizeof cs64);
    return c;
}

static tersa_array *fz_make(fz_in *in, fz_model *m)
{
    static const int codecs[4] = {TERSA_CODEC_BLOSCLZ, TERSA_CODEC_LZ4, TERSA_CODEC_ZSTD,
                                  TERSA_CODEC_BLOSCLZ};
    static const int filters[4] = {0, TERSA_FILTER_SHUFFLE, TERSA_FILTER_BITSHUFFLE,
                                   TERSA_FILTER_DELTA};
    int32_t cs[FZ_MAXD], bs[FZ_MAXD];
    m->nd = 1 + fz_byte(in) % FZ_MAXD;
    m->isz = (size_t)fz_itemsizes[fz_byte(in) % 8];
    uint8_t cb = fz_byte(in);
    for (int i = 0; i < m->nd; i++) {
        m->shape[i] = fz_byte(in) % 13;
        cs[i] = 1 + fz_byte(in) % 12;
        bs[i] = 1 + fz_byte(in) % cs[i];
        m->cs[i] = cs[i];
    }
    int64_t n = fz_items(m->nd, m->shape);
    if (!fz_fits(m->nd, m->shape, m->cs))
        return NULL;
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_CODEC, codecs[cb & 3]);
    tersa_cctx_set(c, TERSA_P_FILTER5, filters[(cb >> 2) & 3]);
    tersa_cctx_set(c, TERSA_P_CLEVEL, 1 + (cb >> 4) % 9);
    tersa_nd_params p = {.struct_size = sizeof p,
                         .ndim = m->nd,
                         .shape = m->shape,
                         .chunkshape = cs,
                         .blockshape = bs,
                         .itemsize = (int32_t)m->isz,
                         .cparams = c};
    m->v = malloc((size_t)n * m->isz + 1);
    fz_fill(m, m->v, n);
    tersa_array *a = tersa_array_from_buffer(&p, m->v, (size_t)n * m->isz);
    tersa_cctx_free(c);
    FZ_CHECK(a != NULL);
    return a;
}

static void fz_slice_mode(const uint8_t *p, size_t n)
{
    fz_in in = {p, n, 0};
    fz_model m = {0};
    tersa_array *a = fz_make(&in, &m);
    for (int k = 0; a && k < FZ_MAX_OPS && in.pos < in.n; k++) {
        uint8_t op = fz_byte(&in) % 8;
        if (op == 0 || op == 7)
            fz_op_get(&in, a, &m);
        else if (op == 1)
            fz_op_set(&in, a, &m);
        else if (op == 2)
            fz_op_resize(&in, a, &m);
        else if (op == 3 || op == 4)
            fz_op_insert(&in, a, &m, op == 4);
        else if (op == 5)
            fz_op_delete(&in, a, &m);
        else
            a = fz_op_copy(&in, a, &m);
        if (op != 0 && op != 7)
            fz_compare(a, &m);
    }
    tersa_array_free(a);
    free(m.v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fz_slice_mode(data + 1, size - 1);
    else
        fz_meta_mode(data + 1, size - 1);
    return 0;
}

/* Selections and the block copy engine: items move between a decoded chunk (blocks in C order
 * over the block grid, items in C order inside a block) and a packed C-order slice buffer. */
#include <inttypes.h>

#include "ndarray/tersa_nd_internal.h"

/* ---- Selections --------------------------------------------------------------------- */

int tersa__nd_sel_init(const tersa__nd_geom *g, const int64_t *start, const int64_t *stop,
                       const int64_t *step, tersa__nd_sel *s)
{
    s->nitems = 1;
    for (int i = 0; i < g->ndim; i++) {
        int64_t a = start ? start[i] : 0, b = stop ? stop[i] : g->shape[i];
        int64_t k = step ? step[i] : 1;
        if (a < 0 || b < a || b > g->shape[i])
            return tersa__fail(TERSA_ERR_RANGE,
                               "b2nd slice: axis %d: start %" PRId64 ", stop %" PRId64
                               " not within 0 <= start <= stop <= %" PRId64,
                               i, a, b, g->shape[i]);
        if (k < 1)
            return tersa__fail(TERSA_ERR_PARAM, "b2nd slice: axis %d: step %" PRId64 " < 1", i, k);
        s->start[i] = a;
        s->stop[i] = b;
        s->step[i] = k;
        s->count[i] = b > a ? (b - a - 1) / k + 1 : 0;
        s->nitems *= s->count[i]; /* <= nitems of the array: no overflow */
    }
    return 0;
}

bool tersa__nd_sel_chunk_range(const tersa__nd_geom *g, const tersa__nd_sel *s, int64_t *lo,
                               int64_t *hi)
{
    if (s->nitems == 0)
        return false;
    for (int i = 0; i < g->ndim; i++) {
        int64_t last = s->start[i] + (s->count[i] - 1) * s->step[i];
        lo[i] = s->start[i] / g->cs[i];
        hi[i] = last / g->cs[i];
    }
    return true;
}

/* First selected index >= a on axis i (may be >= stop). */
static int64_t first_at(const tersa__nd_sel *s, int i, int64_t a)
{
    if (a <= s->start[i])
        return s->start[i];
    int64_t d = a - s->start[i];
    return s->start[i] + (d + s->step[i] - 1) / s->step[i] * s->step[i];
}

bool tersa__nd_sel_in_chunk(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *cc,
                            int64_t *first, int64_t *n)
{
    for (int i = 0; i < g->ndim; i++) {
        int64_t o = cc[i] * g->cs[i];
        int64_t e = o + g->cs[i] < g->shape[i] ? o + g->cs[i] : g->shape[i];
        int64_t b = s->stop[i] < e ? s->stop[i] : e;
        int64_t f = first_at(s, i, o);
        if (f >= b)
            return false;
        first[i] = f;
        n[i] = (b - f - 1) / s->step[i] + 1;
    }
    return true;
}

bool tersa__nd_sel_covers_chunk(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *cc)
{
    int64_t f[ND_MAXD], n[ND_MAXD];
    if (!tersa__nd_sel_in_chunk(g, s, cc, f, n))
        return false;
    for (int i = 0; i < g->ndim; i++) {
        int64_t o = cc[i] * g->cs[i];
        int64_t e = o + g->cs[i] < g->shape[i] ? o + g->cs[i] : g->shape[i];
        if (n[i] != e - o)
            return false;
    }
    return true;
}

/* ---- Blocks of a chunk -------------------------------------------------------------- */

/* The part of the selection inside block bc of chunk cc, per axis: first selected index f,
 * count n. False when the block holds none. */
static bool block_part(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *cc,
                       const int64_t *bc, int64_t *f, int64_t *n)
{
    for (int i = 0; i < g->ndim; i++) {
        int64_t o = cc[i] * g->cs[i], g0 = o + bc[i] * g->bs[i];
        int64_t e = g0 + g->bs[i];
        if (e > o + g->cs[i])
            e = o + g->cs[i];
        if (e > s->stop[i])
            e = s->stop[i];
        int64_t a = first_at(s, i, g0);
        if (a >= e)
            return false;
        f[i] = a;
        n[i] = (e - a - 1) / s->step[i] + 1;
    }
    return true;
}

/* Range of blocks [lo, hi] of chunk cc (per axis) that may hold selected items. */
static bool block_range(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *cc,
                        int64_t *lo, int64_t *hi)
{
    int64_t f[ND_MAXD], n[ND_MAXD];
    if (!tersa__nd_sel_in_chunk(g, s, cc, f, n))
        return false;
    for (int i = 0; i < g->ndim; i++) {
        int64_t o = cc[i] * g->cs[i];
        lo[i] = (f[i] - o) / g->bs[i];
        hi[i] = (f[i] + (n[i] - 1) * s->step[i] - o) / g->bs[i];
    }
    return true;
}

bool tersa__nd_next_index(int nd, const int64_t *lo, const int64_t *hi, int64_t *idx)
{
    for (int i = nd - 1; i >= 0; i--) {
        if (++idx[i] <= hi[i])
            return true;
        idx[i] = lo[i];
    }
    return false;
}

static int64_t block_number(const tersa__nd_geom *g, const int64_t *bc)
{
    int64_t b = 0;
    for (int i = 0; i < g->ndim; i++)
        b = b * g->bgrid[i] + bc[i];
    return b;
}

/* True when block bc (selected part f, n) is wholly selected and its items, in block order, are
 * consecutive in the packed slice buffer: the block is then decoded straight into it. */
static bool block_direct(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *n)
{
    int k = 0;
    for (int i = 0; i < g->ndim; i++)
        if (n[i] != g->bs[i] || (g->bs[i] > 1 && s->step[i] != 1))
            return false;
    while (k < g->ndim && g->bs[k] == 1)
        k++;
    for (int i = k + 1; i < g->ndim; i++)
        if (g->bs[i] != s->count[i])
            return false;
    return true;
}

int64_t tersa__nd_block_mask(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *cc,
                             uint8_t *mask, bool direct)
{
    int64_t lo[ND_MAXD], hi[ND_MAXD], bc[ND_MAXD], f[ND_MAXD], n[ND_MAXD], marked = 0;
    memset(mask, 0, (size_t)g->nblocks);
    if (!block_range(g, s, cc, lo, hi))
        return 0;
    memcpy(bc, lo, sizeof(int64_t) * (size_t)g->ndim);
    do {
        if (!block_part(g, s, cc, bc, f, n))
            continue;
        mask[block_number(g, bc)] =
            direct && block_direct(g, s, n) ? ND_BLOCK_DIRECT : ND_BLOCK_COPY;
        marked++;
    } while (tersa__nd_next_index(g->ndim, lo, hi, bc));
    return marked;
}

int64_t tersa__nd_block_dst(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *cc,
                            int64_t b)
{
    int64_t ustr[ND_MAXD], off = 0;
    tersa__nd_strides(g->ndim, s->count, ustr);
    for (int i = g->ndim - 1; i >= 0; i--) {
        int64_t g0 = cc[i] * g->cs[i] + (b % g->bgrid[i]) * g->bs[i];
        b /= g->bgrid[i];
        off += (first_at(s, i, g0) - s->start[i]) / s->step[i] * ustr[i];
    }
    return off;
}

/* ---- Copying ------------------------------------------------------------------------ */

/* Strided item copies; the step is in items on the strided side. */
static void gather(uint8_t *dst, const uint8_t *src, int64_t n, int64_t step, size_t isz)
{
    if (step == 1) {
        memcpy(dst, src, (size_t)n * isz);
        return;
    }
    size_t st = (size_t)step * isz;
    switch (isz) {
    case 1:
        for (int64_t k = 0; k < n; k++)
            dst[k] = src[(size_t)k * st];
        break;
    case 2:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + 2 * k, src + (size_t)k * st, 2);
        break;
    case 4:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + 4 * k, src + (size_t)k * st, 4);
        break;
    case 8:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + 8 * k, src + (size_t)k * st, 8);
        break;
    default:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + (size_t)k * isz, src + (size_t)k * st, isz);
    }
}

static void scatter(uint8_t *dst, const uint8_t *src, int64_t n, int64_t step, size_t isz,
                    bool constant)
{
    size_t st = (size_t)step * isz, sst = constant ? 0 : isz;
    if (step == 1 && !constant) {
        memcpy(dst, src, (size_t)n * isz);
        return;
    }
    switch (isz) {
    case 1:
        for (int64_t k = 0; k < n; k++)
            dst[(size_t)k * st] = src[(size_t)k * sst];
        break;
    case 4:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + (size_t)k * st, src + k * sst, 4);
        break;
    case 8:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + (size_t)k * st, src + k * sst, 8);
        break;
    default:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + (size_t)k * st, src + k * sst, isz);
    }
}

typedef struct copy_plan {
    const tersa__nd_copy *c;
    int64_t ustr[ND_MAXD]; /* user buffer strides (items) */
    int64_t bstr[ND_MAXD]; /* block strides (items) */
} copy_plan;

/* Copy the selected items of one block (f, n: its part of the selection). */
static void copy_block(const copy_plan *p, const int64_t *g0, const int64_t *f, const int64_t *n,
                       uint8_t *blk)
{
    const tersa__nd_copy *c = p->c;
    const tersa__nd_sel *s = c->s;
    int nd = c->g->ndim, last = nd - 1;
    size_t isz = (size_t)c->g->itemsize;
    int64_t k[ND_MAXD] = {0}, zero[ND_MAXD] = {0}, top[ND_MAXD];
    for (int i = 0; i < nd; i++)
        top[i] = i < last ? n[i] - 1 : 0;
    int64_t inner = nd ? n[last] : 1, istep = nd ? s->step[last] : 1;
    do {
        int64_t uo = 0, bo = 0;
        for (int i = 0; i < nd; i++) {
            int64_t idx = f[i] + k[i] * s->step[i];
            uo += (idx - s->start[i]) / s->step[i] * p->ustr[i];
            bo += (idx - g0[i]) * p->bstr[i];
        }
        uint8_t *bp = blk + (size_t)bo * isz;
        if (c->dir == ND_CHUNK_TO_USER)
            gather(c->user + (size_t)uo * isz, bp, inner, istep, isz);
        else if (c->item)
            scatter(bp, c->item, inner, istep, isz, true);
        else
            scatter(bp, c->user + (size_t)uo * isz, inner, istep, isz, false);
    } while (tersa__nd_next_index(nd > 0 ? last : 0, zero, top, k));
}

void tersa__nd_copy_chunk(const tersa__nd_copy *c, const int64_t *cc, uint8_t *chunk)
{
    const tersa__nd_geom *g = c->g;
    copy_plan p;
    p.c = c;
    tersa__nd_strides(g->ndim, c->s->count, p.ustr);
    tersa__nd_strides(g->ndim, g->bs, p.bstr);
    int64_t lo[ND_MAXD], hi[ND_MAXD], bc[ND_MAXD], f[ND_MAXD], n[ND_MAXD], g0[ND_MAXD];
    if (!block_range(g, c->s, cc, lo, hi))
        return;
    memcpy(bc, lo, sizeof(int64_t) * (size_t)g->ndim);
    do {
        if (!block_part(g, c->s, cc, bc, f, n))
            continue;
        if (c->skip && c->skip[block_number(g, bc)] == ND_BLOCK_DIRECT)
            continue;
        for (int i = 0; i < g->ndim; i++)
            g0[i] = cc[i] * g->cs[i] + bc[i] * g->bs[i];
        uint8_t *blk =
            c->fill ? (uint8_t *)c->fill : chunk + (size_t)(block_number(g, bc) * g->block_nbytes);
        copy_block(&p, g0, f, n, blk);
    } while (tersa__nd_next_index(g->ndim, lo, hi, bc));
}

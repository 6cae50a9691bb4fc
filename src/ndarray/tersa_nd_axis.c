/* Inserting and deleting along an axis of a b2nd array. At chunk boundaries whole chunk slabs
 * are inserted or deleted (nothing else is rewritten, as C-Blosc2's b2nd_insert/b2nd_delete
 * do); elsewhere the items after the position are moved chunk by chunk. */
#include <inttypes.h>

#include "frame/tersa_frame_internal.h"
#include "ndarray/tersa_nd_internal.h"

static int check_axis(const tersa_array *a, int axis, const char *fn)
{
    if (!a)
        return tersa__fail(TERSA_ERR_PARAM, "%s: NULL array", fn);
    if (axis < 0 || axis >= a->g.ndim)
        return tersa__fail(TERSA_ERR_PARAM, "%s: axis %d outside 0..%d", fn, axis, a->g.ndim - 1);
    return tersa__schunk_check_writable(a->sc);
}

/* The geometry of a with axis resized to len. */
static int axis_geom(const tersa_array *a, int axis, int64_t len, tersa__nd_geom *g)
{
    int64_t shape[ND_MAXD];
    for (int i = 0; i < a->g.ndim; i++)
        shape[i] = i == axis ? len : a->g.shape[i];
    return tersa__nd_geom_init(g, a->meta.ndim, shape, a->meta.chunkshape, a->meta.blockshape,
                               a->g.itemsize, false);
}

/* ---- Whole chunk slabs -------------------------------------------------------------- */

/* Insert zero chunks at chunk positions [k0, k1) along axis of g (the new geometry). In
 * ascending order each lands on its final number: the old chunks keep their C order. */
static int insert_slab(tersa_array *a, const tersa__nd_geom *g, int axis, int64_t k0, int64_t k1)
{
    uint8_t zero[TERSA_MAX_OVERHEAD + 64];
    int64_t cc[ND_MAXD];
    int64_t len = tersa__nd_special_chunk(g, TERSA_SPECIAL_ZEROS, NULL, zero, sizeof zero);
    TERSA_TRY(len);
    for (int64_t n = 0; n < g->nchunks; n++) {
        tersa__nd_unravel(g->ndim, g->cgrid, n, cc);
        if (cc[axis] < k0 || cc[axis] >= k1)
            continue;
        int64_t rc = tersa_schunk_insert_chunk(a->sc, n, zero, (size_t)len);
        if (rc < 0)
            return (int)rc;
    }
    return 0;
}

/* Delete the chunks at chunk positions [k0, k1) along axis (last first). */
static int delete_slab(tersa_array *a, int axis, int64_t k0, int64_t k1)
{
    const tersa__nd_geom *g = &a->g;
    int64_t cc[ND_MAXD];
    for (int64_t n = g->nchunks - 1; n >= 0; n--) {
        tersa__nd_unravel(g->ndim, g->cgrid, n, cc);
        if (cc[axis] < k0 || cc[axis] >= k1)
            continue;
        int64_t rc = tersa_schunk_delete_chunk(a->sc, n);
        if (rc < 0)
            return (int)rc;
    }
    return 0;
}

/* Change the chunk list (insert: k1 > k0 new positions; delete: the positions go), then
 * publish the new shape. */
static int change_slabs(tersa_array *a, int axis, int64_t newlen, int64_t k0, int64_t k1,
                        bool insert)
{
    tersa__nd_geom g;
    TERSA_TRY(axis_geom(a, axis, newlen, &g));
    int rc = insert ? insert_slab(a, &g, axis, k0, k1) : delete_slab(a, axis, k0, k1);
    if (rc >= 0) {
        a->g = g;
        rc = tersa__nd_update_meta(a);
    }
    int frc = tersa__schunk_flush(a->sc);
    TERSA_TRY(rc);
    return frc;
}

/* ---- Moving items ------------------------------------------------------------------- */

/* Copy the items of one destination box from the same box shifted by `by` along axis. */
static int move_box(tersa_array *a, int axis, int64_t by, int64_t *start, int64_t *stop,
                    uint8_t *buf, size_t cap)
{
    int64_t from[ND_MAXD], to[ND_MAXD];
    memcpy(from, start, sizeof(int64_t) * (size_t)a->g.ndim);
    memcpy(to, stop, sizeof(int64_t) * (size_t)a->g.ndim);
    from[axis] += by;
    to[axis] += by;
    int64_t nb = tersa_array_get_slice(a, from, to, NULL, buf, cap);
    TERSA_TRY(nb);
    int64_t rc = tersa_array_set_slice(a, start, stop, NULL, buf, (size_t)nb);
    return rc < 0 ? (int)rc : 0;
}

/* Every chunk at position k along axis, its box clipped to [lo, hi) on that axis. */
static int move_chunk_row(tersa_array *a, int axis, int64_t k, int64_t lo, int64_t hi, int64_t by,
                          uint8_t *buf, size_t cap)
{
    const tersa__nd_geom *g = &a->g;
    int64_t first[ND_MAXD] = {0}, last[ND_MAXD], cc[ND_MAXD], start[ND_MAXD], stop[ND_MAXD];
    for (int i = 0; i < g->ndim; i++)
        last[i] = g->cgrid[i] - 1;
    first[axis] = last[axis] = k;
    memcpy(cc, first, sizeof(int64_t) * (size_t)g->ndim);
    do {
        tersa__nd_chunk_box(g, cc, start, stop);
        if (start[axis] < lo)
            start[axis] = lo;
        if (stop[axis] > hi)
            stop[axis] = hi;
        TERSA_TRY(move_box(a, axis, by, start, stop, buf, cap));
    } while (tersa__nd_next_index(g->ndim, first, last, cc));
    return 0;
}

/* Move the items at [to + by, to + by + len) along axis to [to, to + len) (the other axes
 * whole), one destination chunk at a time. Destination chunks are visited in descending
 * order when moving up (by < 0) and ascending when moving down, so that no item is
 * overwritten before it has been read. Memory: one chunk's items. */
static int move_items(tersa_array *a, int axis, int64_t to, int64_t len, int64_t by)
{
    const tersa__nd_geom *g = &a->g;
    if (len <= 0 || g->nitems == 0)
        return 0;
    int64_t items = 1, cs = g->cs[axis];
    for (int i = 0; i < g->ndim; i++)
        items *= g->cs[i] < g->shape[i] ? g->cs[i] : g->shape[i];
    size_t cap = (size_t)(items * g->itemsize);
    uint8_t *buf = tersa__malloc(cap ? cap : 1);
    if (!buf)
        return tersa__fail(TERSA_ERR_NOMEM, "b2nd: no memory to move a chunk of items");
    int64_t k0 = to / cs, k1 = (to + len - 1) / cs, rc = 0;
    for (int64_t j = 0; rc >= 0 && j <= k1 - k0; j++) {
        int64_t k = by < 0 ? k1 - j : k0 + j;
        rc = move_chunk_row(a, axis, k, to, to + len, by, buf, cap);
    }
    tersa__free(buf);
    return (int)rc;
}

/* ---- Insert ------------------------------------------------------------------------- */

/* Rows along axis in srclen bytes: *n, or an error when they do not divide exactly. */
static int rows_of(const tersa_array *a, size_t srclen, int axis, int64_t *n)
{
    int64_t row = a->g.itemsize;
    for (int i = 0; i < a->g.ndim; i++)
        if (i != axis)
            row *= a->g.shape[i];
    *n = 0;
    if (srclen == 0)
        return 0;
    if (row == 0 || srclen % (uint64_t)row != 0)
        return tersa__fail(TERSA_ERR_PARAM,
                           "array_insert: %zu bytes are not a whole number of slices of %" PRId64
                           " bytes along axis %d",
                           srclen, row, axis);
    *n = (int64_t)(srclen / (uint64_t)row);
    return 0;
}

/* Write the inserted rows [start, start + n) along axis. */
static int write_rows(tersa_array *a, int axis, int64_t start, int64_t n, const void *src,
                      size_t srclen)
{
    int64_t lo[ND_MAXD] = {0}, hi[ND_MAXD];
    for (int i = 0; i < a->g.ndim; i++)
        hi[i] = a->g.shape[i];
    lo[axis] = start;
    hi[axis] = start + n;
    int64_t rc = tersa_array_set_slice(a, lo, hi, NULL, src, srclen);
    return rc < 0 ? (int)rc : 0;
}

int tersa_array_insert(tersa_array *a, const void *src, size_t srclen, int axis, int64_t start)
{
    int64_t n, shape[ND_MAXD];
    TERSA_TRY(check_axis(a, axis, "array_insert"));
    if (!src && srclen)
        return tersa__fail(TERSA_ERR_PARAM, "array_insert: NULL source");
    int64_t old = a->g.shape[axis], cs = a->g.cs[axis];
    if (start < 0 || start > old)
        return tersa__fail(TERSA_ERR_RANGE,
                           "array_insert: start %" PRId64 " outside 0..%" PRId64 " on axis %d",
                           start, old, axis);
    TERSA_TRY(rows_of(a, srclen, axis, &n));
    if (n == 0)
        return 0;
    if (start == old)
        return tersa_array_append(a, src, srclen, axis);
    if (n > INT64_MAX - old)
        return tersa__fail(TERSA_ERR_TOO_LARGE, "array_insert: shape overflows");
    if (start % cs == 0 && n % cs == 0) {
        TERSA_TRY(change_slabs(a, axis, old + n, start / cs, (start + n) / cs, true));
    } else {
        for (int i = 0; i < a->g.ndim; i++)
            shape[i] = i == axis ? old + n : a->g.shape[i];
        TERSA_TRY(tersa_array_resize(a, shape));
        TERSA_TRY(move_items(a, axis, start + n, old - start, -n));
    }
    return write_rows(a, axis, start, n, src, srclen);
}

/* ---- Delete ------------------------------------------------------------------------- */

int tersa_array_delete(tersa_array *a, int axis, int64_t start, int64_t len)
{
    int64_t shape[ND_MAXD];
    TERSA_TRY(check_axis(a, axis, "array_delete"));
    int64_t old = a->g.shape[axis], cs = a->g.cs[axis];
    if (start < 0 || len < 0 || start > old || len > old - start)
        return tersa__fail(TERSA_ERR_RANGE,
                           "array_delete: [%" PRId64 ", +%" PRId64 ") outside 0..%" PRId64
                           " on axis %d",
                           start, len, old, axis);
    if (len == 0)
        return 0;
    for (int i = 0; i < a->g.ndim; i++)
        shape[i] = i == axis ? old - len : a->g.shape[i];
    if (start + len < old && start % cs == 0 && len % cs == 0)
        return change_slabs(a, axis, old - len, start / cs, (start + len) / cs, false);
    TERSA_TRY(move_items(a, axis, start, old - start - len, len));
    return tersa_array_resize(a, shape);
}

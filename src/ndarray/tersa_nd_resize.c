/* Changing the shape of a b2nd array: resize (grow or shrink any axis) and append. */
#include <inttypes.h>

#include "frame/tersa_frame_internal.h"
#include "ndarray/tersa_nd_internal.h"

static bool inside(int nd, const int64_t *grid, const int64_t *cc)
{
    for (int i = 0; i < nd; i++)
        if (cc[i] >= grid[i])
            return false;
    return true;
}

/* Delete the chunks of the old grid that the new grid lacks (last first). */
static int drop_chunks(tersa_array *a, const tersa__nd_geom *old, const tersa__nd_geom *g)
{
    int64_t cc[ND_MAXD];
    for (int64_t n = old->nchunks - 1; n >= 0; n--) {
        tersa__nd_unravel(old->ndim, old->cgrid, n, cc);
        if (g->nchunks > 0 && inside(g->ndim, g->cgrid, cc))
            continue;
        TERSA_TRY(tersa_schunk_delete_chunk(a->sc, n));
    }
    return 0;
}

/* Insert zero chunks where the new grid has chunks the old one lacks (first first). */
static int add_chunks(tersa_array *a, const tersa__nd_geom *old, const tersa__nd_geom *g)
{
    uint8_t zero[TERSA_MAX_OVERHEAD + 64];
    int64_t cc[ND_MAXD];
    int64_t len = tersa__nd_special_chunk(g, TERSA_SPECIAL_ZEROS, NULL, zero, sizeof zero);
    TERSA_TRY(len);
    for (int64_t n = 0; n < g->nchunks; n++) {
        tersa__nd_unravel(g->ndim, g->cgrid, n, cc);
        if (old->nchunks > 0 && inside(old->ndim, old->cgrid, cc))
            continue;
        TERSA_TRY(tersa_schunk_insert_chunk(a->sc, n, zero, (size_t)len));
    }
    return 0;
}

/* Zero the items of old chunks that the growth of axis k exposes (old padding). */
static int zero_exposed(tersa_array *a, const tersa__nd_geom *old, int k)
{
    const tersa__nd_geom *g = &a->g;
    int64_t start[ND_MAXD] = {0}, stop[ND_MAXD];
    static const uint8_t zeros[8] = {0};
    uint8_t *item = (uint8_t *)zeros;
    if (g->shape[k] <= old->shape[k] || old->nchunks == 0)
        return 0;
    for (int i = 0; i < g->ndim; i++) {
        int64_t edge = old->cgrid[i] * old->cs[i];
        stop[i] = g->shape[i] < edge ? g->shape[i] : edge;
    }
    start[k] = old->shape[k];
    if (start[k] >= stop[k])
        return 0;
    tersa__nd_sel s;
    TERSA_TRY(tersa__nd_sel_init(g, start, stop, NULL, &s));
    if (g->itemsize > (int32_t)sizeof zeros && !(item = tersa__calloc(1, (size_t)g->itemsize)))
        return tersa__fail(TERSA_ERR_NOMEM, "b2nd resize: no memory");
    int64_t rc = tersa__nd_fill_sel(a, &s, item);
    if (item != zeros)
        tersa__free(item);
    return rc < 0 ? (int)rc : 0;
}

int tersa__nd_update_meta(tersa_array *a)
{
    const char *name = a->caterva ? "caterva" : "b2nd";
    const uint8_t *cur = NULL;
    size_t len = 0;
    TERSA_TRY(tersa_schunk_meta_get(a->sc, name, &cur, &len));
    if (len < 4 + 9 * (size_t)a->g.ndim)
        return tersa__fail(TERSA_ERR_CORRUPT, "b2nd resize: metalayer of %zu bytes", len);
    uint8_t *m = tersa__malloc(len);
    if (!m)
        return tersa__fail(TERSA_ERR_NOMEM, "b2nd resize: no memory");
    memcpy(m, cur, len);
    for (int i = 0; i < a->g.ndim; i++) {
        tersa__st64be(m + 4 + 9 * (size_t)i + 1, (uint64_t)a->g.shape[i]);
        a->meta.shape[i] = a->g.shape[i];
    }
    int rc = tersa_schunk_meta_update(a->sc, name, m, len);
    tersa__free(m);
    return rc;
}

int tersa_array_resize(tersa_array *a, const int64_t *new_shape)
{
    if (!a || (!new_shape && a->g.ndim))
        return tersa__fail(TERSA_ERR_PARAM, "array_resize: NULL argument");
    TERSA_TRY(tersa__schunk_check_writable(a->sc));
    tersa__nd_geom g, old = a->g;
    int rc = tersa__nd_geom_init(&g, a->meta.ndim, new_shape, a->meta.chunkshape,
                                 a->meta.blockshape, a->g.itemsize, false);
    if (rc < 0)
        return tersa__fail_prefix(rc, "array_resize");
    TERSA_TRY(drop_chunks(a, &old, &g));
    a->g = g;
    rc = add_chunks(a, &old, &g);
    for (int k = 0; rc >= 0 && k < g.ndim; k++)
        rc = zero_exposed(a, &old, k);
    if (rc >= 0)
        rc = tersa__nd_update_meta(a);
    int frc = tersa__schunk_flush(a->sc);
    TERSA_TRY(rc);
    return frc;
}

int tersa_array_append(tersa_array *a, const void *src, size_t srclen, int axis)
{
    if (!a || axis < 0 || axis >= a->g.ndim || (!src && srclen))
        return tersa__fail(TERSA_ERR_PARAM,
                           "array_append: NULL argument or axis %d outside "
                           "0..%d",
                           axis, a ? a->g.ndim - 1 : -1);
    int64_t row = a->g.itemsize, shape[ND_MAXD], start[ND_MAXD] = {0};
    for (int i = 0; i < a->g.ndim; i++)
        if (i != axis)
            row *= a->g.shape[i];
    if (srclen == 0)
        return 0;
    if (row == 0 || srclen % (uint64_t)row != 0)
        return tersa__fail(TERSA_ERR_PARAM,
                           "array_append: %zu bytes are not a whole number of "
                           "slices of %" PRId64 " bytes along axis %d",
                           srclen, row, axis);
    for (int i = 0; i < a->g.ndim; i++)
        shape[i] = a->g.shape[i];
    start[axis] = shape[axis];
    if (!tersa__add_i64(shape[axis], (int64_t)(srclen / (uint64_t)row), &shape[axis]))
        return tersa__fail(TERSA_ERR_TOO_LARGE, "array_append: shape overflows");
    TERSA_TRY(tersa_array_resize(a, shape));
    int64_t rc = tersa_array_set_slice(a, start, shape, NULL, src, srclen);
    return rc < 0 ? (int)rc : 0;
}

/* Creating b2nd arrays: automatic chunk and block shapes (doc/ndarray.md), the frame with its
 * "b2nd" metalayer, and filling it with special chunks or with data. */
#include <inttypes.h>
#include <stdio.h>

#include "chunk/tersa_chunk_internal.h"
#include "frame/tersa_frame_internal.h"
#include "ndarray/tersa_nd_internal.h"

#define ND_KIB 1024
#define ND_CHUNK_BLOCKS 8 /* automatic chunks hold about this many blocks */

static int64_t cparam(const tersa_cctx *c, tersa_param p, int64_t def)
{
    int64_t v;
    return c && tersa_cctx_get(c, p, &v) == 0 ? v : def;
}

static int32_t params_itemsize(const tersa_nd_params *p)
{
    return p->itemsize ? p->itemsize : (int32_t)cparam(p->cparams, TERSA_P_TYPESIZE, 8);
}

/* Target block bytes: about an L2 cache, larger for high clevels and high-ratio codecs. */
static int64_t block_target(const tersa_cctx *c)
{
    int64_t clevel = cparam(c, TERSA_P_CLEVEL, 5), codec = cparam(c, TERSA_P_CODEC, 0);
    int step = clevel <= 5 ? 0 : clevel <= 8 ? 1 : 2;
    if (codec == TERSA_CODEC_LZ4HC || codec == TERSA_CODEC_ZLIB || codec == TERSA_CODEC_ZSTD)
        step++;
    if (step > 2)
        step = 2;
    return (int64_t)256 * ND_KIB << step;
}

static int64_t axis_len(const tersa_nd_params *p, int i)
{
    return p->shape[i] > 0 ? p->shape[i] : 1;
}

/* Blocks: fill the budget of items from the last axis backwards, within limit[]. */
static void auto_blocks(int nd, const int64_t *limit, int64_t budget, int32_t *bs)
{
    for (int i = nd - 1; i >= 0; i--) {
        int64_t b = limit[i] < budget ? limit[i] : budget;
        bs[i] = (int32_t)(b > 0 ? b : 1);
        budget = budget / bs[i] > 1 ? budget / bs[i] : 1;
    }
}

/* Chunks: whole numbers of blocks, again from the last axis, up to the axis length. */
static void auto_chunks(const tersa_nd_params *p, const int32_t *bs, int64_t budget, int32_t *cs)
{
    for (int i = p->ndim - 1; i >= 0; i--) {
        int64_t len = axis_len(p, i), need = (len + bs[i] - 1) / bs[i];
        int64_t k = need < budget ? need : budget, c = k * bs[i];
        if (c > len && len >= bs[i])
            c = len;
        if (c > INT32_MAX)
            c = (INT32_MAX / bs[i]) * bs[i];
        cs[i] = (int32_t)c;
        budget = budget / k > 1 ? budget / k : 1;
    }
}

int tersa_nd_auto_shapes(const tersa_nd_params *p, int32_t *chunkshape, int32_t *blockshape)
{
    if (!p || p->struct_size < sizeof *p || p->ndim < 0 || p->ndim > TERSA_ND_MAX_DIM_WRITE ||
        (p->ndim > 0 && !p->shape))
        return tersa__fail(TERSA_ERR_PARAM,
                           "b2nd params: NULL, struct_size too small, ndim "
                           "outside 0..%d or no shape",
                           TERSA_ND_MAX_DIM_WRITE);
    int32_t cs[ND_MAXD], bs[ND_MAXD];
    int64_t isz = params_itemsize(p), limit[ND_MAXD];
    if (isz < 1)
        return tersa__fail(TERSA_ERR_PARAM, "b2nd params: itemsize %" PRId64, isz);
    int64_t bt = block_target(p->cparams), items = bt / isz > 1 ? bt / isz : 1;
    for (int i = 0; i < p->ndim; i++) {
        limit[i] = p->chunkshape && p->chunkshape[i] > 0 ? p->chunkshape[i] : axis_len(p, i);
        if (limit[i] > INT32_MAX)
            limit[i] = INT32_MAX;
    }
    if (p->blockshape)
        memcpy(bs, p->blockshape, sizeof(int32_t) * (size_t)p->ndim);
    else
        auto_blocks(p->ndim, limit, items, bs);
    for (int i = 0; i < p->ndim; i++)
        if (bs[i] < 1)
            return tersa__fail(TERSA_ERR_PARAM, "b2nd params: blockshape[%d] = %" PRId32 " < 1", i,
                               bs[i]);
    int64_t bbytes = isz;
    for (int i = 0; i < p->ndim && bbytes < INT64_MAX / INT32_MAX; i++)
        bbytes *= bs[i];
    int64_t cbudget = bt * ND_CHUNK_BLOCKS / bbytes;
    if (p->chunkshape)
        memcpy(cs, p->chunkshape, sizeof(int32_t) * (size_t)p->ndim);
    else
        auto_chunks(p, bs, cbudget > 1 ? cbudget : 1, cs);
    if (chunkshape)
        memcpy(chunkshape, cs, sizeof(int32_t) * (size_t)p->ndim);
    if (blockshape)
        memcpy(blockshape, bs, sizeof(int32_t) * (size_t)p->ndim);
    return 0;
}

int tersa__nd_plan(const tersa_nd_params *p, tersa__nd_geom *g, uint8_t **meta, size_t *mlen)
{
    tersa_nd_meta m;
    char dt[24];
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    TERSA_TRY(tersa_nd_auto_shapes(p, m.chunkshape, m.blockshape));
    if (p->dtype_format < 0 || p->dtype_format > 127)
        return tersa__fail(TERSA_ERR_PARAM, "b2nd params: dtype_format %d outside 0..127",
                           p->dtype_format);
    m.ndim = p->ndim;
    for (int i = 0; i < p->ndim; i++)
        m.shape[i] = p->shape[i];
    TERSA_TRY(tersa__nd_geom_init(g, m.ndim, m.shape, m.chunkshape, m.blockshape,
                                  params_itemsize(p), true));
    snprintf(dt, sizeof dt, "|S%" PRId32, g->itemsize);
    m.dtype = p->dtype ? p->dtype : dt;
    m.dtype_len = strlen(m.dtype);
    m.dtype_format = p->dtype_format;
    int64_t n = tersa_nd_meta_serialize(&m, NULL, 0);
    TERSA_TRY(n);
    *meta = tersa__malloc((size_t)n);
    if (!*meta)
        return tersa__fail(TERSA_ERR_NOMEM, "b2nd: no memory for the metalayer");
    *mlen = (size_t)n;
    return (int)tersa_nd_meta_serialize(&m, *meta, *mlen) < 0 ? TERSA_ERR_INTERNAL : 0;
}

/* A compression context from the user's parameters with the array's typesize and blocksize. */
static tersa_cctx *array_cctx(const tersa_nd_params *p, const tersa__nd_geom *g)
{
    size_t n = 0;
    const tersa_param_desc *tab = tersa_param_table(&n);
    tersa_cctx *c = tersa_cctx_create();
    if (!c) {
        tersa__fail(TERSA_ERR_NOMEM, "b2nd: no memory for a compression context");
        return NULL;
    }
    for (size_t i = 0; p->cparams && i < n; i++) {
        int64_t v;
        if (tab[i].for_cctx && tersa_cctx_get(p->cparams, tab[i].id, &v) == 0)
            tersa_cctx_set(c, tab[i].id, v);
    }
    int32_t isz = g->itemsize;
    if (tersa_cctx_set(c, TERSA_P_TYPESIZE, isz <= TERSA_MAX_TYPESIZE ? isz : 1) < 0 ||
        tersa_cctx_set(c, TERSA_P_BLOCKSIZE, g->block_nbytes) < 0) {
        tersa_cctx_free(c);
        return NULL;
    }
    return c;
}

tersa_schunk *tersa__nd_new_schunk(const tersa_nd_params *p, const tersa__nd_geom *g,
                                   const uint8_t *meta, size_t mlen)
{
    tersa_metalayer ml[TERSA_MAX_METALAYERS];
    if (p->nmetalayers < 0 || p->nmetalayers >= TERSA_MAX_METALAYERS ||
        (p->nmetalayers && !p->metalayers)) {
        tersa__fail(TERSA_ERR_PARAM, "b2nd params: %d extra metalayers (0..%d)", p->nmetalayers,
                    TERSA_MAX_METALAYERS - 1);
        return NULL;
    }
    ml[0] = (tersa_metalayer){"b2nd", meta, mlen};
    for (int i = 0; i < p->nmetalayers; i++)
        ml[i + 1] = p->metalayers[i];
    tersa_cctx *c = array_cctx(p, g);
    if (!c)
        return NULL;
    tersa_schunk_params sp;
    memset(&sp, 0, sizeof sp);
    sp.struct_size = sizeof sp;
    sp.storage = p->storage;
    sp.path = p->path;
    sp.overwrite = p->overwrite;
    sp.cparams = c;
    sp.typesize = g->itemsize;
    sp.nmetalayers = p->nmetalayers + 1;
    sp.metalayers = ml;
    tersa_schunk *sc = tersa_schunk_create(&sp);
    tersa_cctx_free(c);
    return sc;
}

tersa_array *tersa__nd_create(const tersa_nd_params *p)
{
    tersa__nd_geom g;
    uint8_t *meta = NULL;
    size_t mlen = 0;
    if (tersa__nd_plan(p, &g, &meta, &mlen) < 0) {
        tersa__free(meta);
        return NULL;
    }
    tersa_schunk *sc = tersa__nd_new_schunk(p, &g, meta, mlen);
    tersa__free(meta);
    return sc ? tersa__nd_wrap(sc, true, true) : NULL;
}

/* ---- Filling ------------------------------------------------------------------------ */

tersa_array *tersa__nd_finish(tersa_array *a, int rc)
{
    int frc = a ? tersa__schunk_flush(a->sc) : 0;
    if (rc >= 0)
        rc = frc;
    if (rc < 0) {
        tersa_array_free(a);
        return NULL;
    }
    return a;
}

int64_t tersa__nd_special_chunk(const tersa__nd_geom *g, int kind, const void *value, uint8_t *buf,
                                size_t cap)
{
    if (kind == TERSA_SPECIAL_NAN && g->itemsize != 4 && g->itemsize != 8)
        return tersa__fail(TERSA_ERR_PARAM, "NaN fill needs itemsize 4 or 8, not %d", g->itemsize);
    /* Header blocksize = the b2nd block, as C-Blosc2's b2nd_full writes it: C-Blosc2's b2nd
     * readers size their block masks from it. */
    int32_t bs = (int32_t)(g->block_nbytes <= g->chunk_nbytes ? g->block_nbytes : g->chunk_nbytes);
    return tersa__special_write(kind, g->itemsize, (int32_t)g->chunk_nbytes, bs, value, g->itemsize,
                                buf, cap);
}

/* Append nchunks copies of one special chunk. */
static int append_special(tersa_array *a, int kind, const void *value)
{
    uint8_t chunk[TERSA_MAX_OVERHEAD + 256];
    uint8_t *buf = chunk;
    size_t cap = sizeof chunk;
    if (kind == TERSA_SPECIAL_VALUE && (size_t)a->g.itemsize > sizeof chunk - TERSA_MAX_OVERHEAD) {
        cap = TERSA_MAX_OVERHEAD + (size_t)a->g.itemsize;
        if (!(buf = tersa__malloc(cap)))
            return tersa__fail(TERSA_ERR_NOMEM, "b2nd: no memory");
    }
    int64_t len = tersa__nd_special_chunk(&a->g, kind, value, buf, cap);
    for (int64_t i = 0; len >= 0 && i < a->g.nchunks; i++) {
        int64_t rc = tersa__schunk_append(a->sc, buf, (size_t)len, false);
        if (rc < 0)
            len = rc;
    }
    if (buf != chunk)
        tersa__free(buf);
    return len < 0 ? (int)len : 0;
}

tersa_array *tersa_array_zeros(const tersa_nd_params *params)
{
    tersa_array *a = tersa__nd_create(params);
    return a ? tersa__nd_finish(a, append_special(a, TERSA_SPECIAL_ZEROS, NULL)) : NULL;
}

tersa_array *tersa_array_empty(const tersa_nd_params *params)
{
    return tersa_array_zeros(params);
}

tersa_array *tersa_array_full(const tersa_nd_params *params, const void *value)
{
    if (!value) {
        tersa__fail(TERSA_ERR_PARAM, "array_full: NULL value");
        return NULL;
    }
    tersa_array *a = tersa__nd_create(params);
    return a ? tersa__nd_finish(a, append_special(a, TERSA_SPECIAL_VALUE, value)) : NULL;
}

int tersa__nd_append_rows(tersa_array *a, int64_t r0, int64_t r1, const uint8_t *slab)
{
    const tersa__nd_geom *g = &a->g;
    tersa__nd_sel s;
    int64_t lo[ND_MAXD], hi[ND_MAXD], cc[ND_MAXD];
    int64_t start[ND_MAXD] = {0}, stop[ND_MAXD];
    for (int i = 0; i < g->ndim; i++)
        stop[i] = g->shape[i];
    if (g->ndim) {
        start[0] = r0 * g->cs[0];
        stop[0] = r1 * g->cs[0] < g->shape[0] ? r1 * g->cs[0] : g->shape[0];
    }
    TERSA_TRY(tersa__nd_sel_init(g, start, stop, NULL, &s));
    if (!tersa__nd_sel_chunk_range(g, &s, lo, hi))
        return 0;
    TERSA_TRY(tersa__nd_alloc_scratch(a));
    tersa__nd_copy c = {g, &s, ND_USER_TO_CHUNK, (uint8_t *)slab, NULL, NULL, NULL};
    memcpy(cc, lo, sizeof(int64_t) * (size_t)g->ndim);
    do {
        memset(a->scratch, 0, (size_t)g->chunk_nbytes);
        tersa__nd_copy_chunk(&c, cc, a->scratch);
        TERSA_TRY(tersa__nd_store_chunk(a, tersa_schunk_nchunks(a->sc), a->scratch));
    } while (tersa__nd_next_index(g->ndim, lo, hi, cc));
    return 0;
}

tersa_array *tersa_array_from_buffer(const tersa_nd_params *params, const void *src, size_t srclen)
{
    tersa_array *a = tersa__nd_create(params);
    if (!a)
        return NULL;
    int64_t need = a->g.nitems * a->g.itemsize;
    if ((uint64_t)need != srclen || (!src && need))
        return tersa__nd_finish(a, tersa__fail(TERSA_ERR_PARAM,
                                               "array_from_buffer: the array holds %" PRId64
                                               " bytes, the buffer %zu",
                                               need, srclen));
    int64_t rows = a->g.ndim ? a->g.cgrid[0] : 1;
    return tersa__nd_finish(a, tersa__nd_append_rows(a, 0, rows, src));
}

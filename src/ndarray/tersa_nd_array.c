/* b2nd arrays: opening a super-chunk as an array, properties, statistics. */
#include <inttypes.h>
#include <stdio.h>

#include "ndarray/tersa_nd_internal.h"

int tersa__nd_alloc_scratch(tersa_array *a)
{
    if (a->scratch)
        return 0;
    size_t n = (size_t)a->g.chunk_nbytes;
    a->scratch = tersa__malloc_aligned(n ? n : 1);
    a->cbuf = tersa__malloc(tersa_compress_bound(n));
    a->pattern = tersa__malloc((size_t)a->g.block_nbytes ? (size_t)a->g.block_nbytes : 1);
    if (!a->scratch || !a->cbuf || !a->pattern) {
        tersa__free_aligned(a->scratch);
        tersa__free(a->cbuf);
        tersa__free(a->pattern);
        a->scratch = a->cbuf = a->pattern = NULL;
        return tersa__fail(TERSA_ERR_NOMEM, "b2nd: no memory for a chunk of %zu bytes", n);
    }
    return 0;
}

void tersa_array_free(tersa_array *a)
{
    if (!a)
        return;
    if (a->own)
        tersa_schunk_free(a->sc);
    tersa__free(a->dtype_buf);
    tersa__free_aligned(a->scratch);
    tersa__free(a->cbuf);
    tersa__free(a->pattern);
    tersa__free(a->mask);
    tersa__free(a);
}

/* Find and parse the b2nd (or caterva) metalayer into a->meta, copying the dtype. */
static int load_meta(tersa_array *a)
{
    const uint8_t *content = NULL;
    size_t len = 0;
    int rc = tersa_schunk_meta_get(a->sc, "b2nd", &content, &len);
    if (rc == TERSA_ERR_NOT_FOUND) {
        rc = tersa_schunk_meta_get(a->sc, "caterva", &content, &len);
        a->caterva = 1;
    }
    if (rc == TERSA_ERR_NOT_FOUND)
        return tersa__fail(TERSA_ERR_NOT_FOUND, "b2nd: the frame has no 'b2nd' or 'caterva' "
                                                "metalayer");
    TERSA_TRY(rc);
    a->meta.struct_size = sizeof a->meta;
    TERSA_TRY(tersa_nd_meta_parse(content, len, &a->meta));
    if (a->meta.has_dtype) {
        a->dtype_buf = tersa__malloc(a->meta.dtype_len + 1);
        if (!a->dtype_buf)
            return tersa__fail(TERSA_ERR_NOMEM, "b2nd: no memory for the dtype");
        memcpy(a->dtype_buf, a->meta.dtype, a->meta.dtype_len);
        a->dtype_buf[a->meta.dtype_len] = '\0';
    }
    a->meta.dtype = a->dtype_buf;
    return 0;
}

/* The geometry from the metalayer and the frame typesize, checked against the chunks. */
static int load_geometry(tersa_array *a, bool fresh)
{
    int32_t itemsize = tersa_schunk_typesize(a->sc);
    int rc = tersa__nd_geom_init(&a->g, a->meta.ndim, a->meta.shape, a->meta.chunkshape,
                                 a->meta.blockshape, itemsize, false);
    if (rc < 0)
        return tersa__fail_prefix(rc, "b2nd: frame typesize %" PRId32, itemsize);
    int64_t n = tersa_schunk_nchunks(a->sc);
    if (fresh)
        return 0;
    if (n != a->g.nchunks)
        return tersa__fail(TERSA_ERR_CORRUPT,
                           "b2nd: the frame holds %" PRId64 " chunks, the "
                           "shape needs %" PRId64,
                           n, a->g.nchunks);
    int32_t cs = tersa_schunk_chunksize(a->sc);
    if (n > 0 && cs > 0 && cs != a->g.chunk_nbytes)
        return tersa__fail(TERSA_ERR_CORRUPT,
                           "b2nd: frame chunksize %" PRId32 ", the geometry "
                           "needs %" PRId64 " bytes per chunk",
                           cs, a->g.chunk_nbytes);
    return 0;
}

/* Compression parameters every chunk written must have: item typesize and the block size. */
static void set_write_params(tersa_array *a)
{
    tersa_cctx *cctx = tersa_schunk_cctx(a->sc);
    int32_t isz = a->g.itemsize;
    if (!cctx)
        return;
    tersa_cctx_set(cctx, TERSA_P_TYPESIZE, isz <= TERSA_MAX_TYPESIZE ? isz : 1);
    if (a->g.block_nbytes <= TERSA_MAX_BLOCKSIZE)
        tersa_cctx_set(cctx, TERSA_P_BLOCKSIZE, a->g.block_nbytes);
}

tersa_array *tersa__nd_wrap(tersa_schunk *sc, bool own, bool fresh)
{
    tersa_array *a = tersa__calloc(1, sizeof *a);
    if (!a) {
        if (own)
            tersa_schunk_free(sc);
        tersa__fail(TERSA_ERR_NOMEM, "b2nd: no memory for an array");
        return NULL;
    }
    a->sc = sc;
    a->own = own;
    a->stats.struct_size = sizeof a->stats;
    if (load_meta(a) < 0 || load_geometry(a, fresh) < 0) {
        tersa_array_free(a);
        return NULL;
    }
    set_write_params(a);
    return a;
}

tersa_array *tersa_array_from_schunk(tersa_schunk *schunk, unsigned flags)
{
    if (!schunk) {
        tersa__fail(TERSA_ERR_PARAM, "array_from_schunk: NULL schunk");
        return NULL;
    }
    return tersa__nd_wrap(schunk, (flags & TERSA_ND_OWN) != 0, false);
}

tersa_array *tersa_array_open_file(const char *path, int64_t offset, unsigned flags)
{
    tersa_schunk *sc = tersa_schunk_open_file(path, offset, flags);
    return sc ? tersa__nd_wrap(sc, true, false) : NULL;
}

tersa_array *tersa_array_open_buffer(const void *buf, size_t len, unsigned flags)
{
    tersa_schunk *sc = tersa_schunk_open_buffer(buf, len, flags);
    return sc ? tersa__nd_wrap(sc, true, false) : NULL;
}

tersa_schunk *tersa_array_schunk(tersa_array *a)
{
    return a ? a->sc : NULL;
}

/* ---- Properties --------------------------------------------------------------------- */

int tersa_array_get_info(const tersa_array *a, tersa_array_info *info)
{
    if (!a || !info || info->struct_size < sizeof *info)
        return tersa__fail(TERSA_ERR_PARAM,
                           "array_get_info: NULL argument or struct_size too small");
    memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
    info->ndim = a->meta.ndim;
    for (int i = 0; i < a->meta.ndim; i++) {
        info->shape[i] = a->meta.shape[i];
        info->chunkshape[i] = a->meta.chunkshape[i];
        info->blockshape[i] = a->meta.blockshape[i];
        info->extchunkshape[i] = a->g.ext[i];
    }
    info->itemsize = a->g.itemsize;
    info->nitems = a->g.nitems;
    info->nchunks = a->g.nchunks;
    info->chunk_nbytes = a->g.chunk_nbytes;
    info->block_nbytes = a->g.block_nbytes;
    info->dtype = a->dtype_buf;
    info->dtype_format = a->meta.dtype_format;
    info->caterva = a->caterva;
    return 0;
}

int tersa_array_ndim(const tersa_array *a)
{
    return a ? a->g.ndim : tersa__fail(TERSA_ERR_PARAM, "array_ndim: NULL array");
}

int tersa_array_shape(const tersa_array *a, int64_t *shape)
{
    if (!a || (!shape && a->g.ndim))
        return tersa__fail(TERSA_ERR_PARAM, "array_shape: NULL argument");
    for (int i = 0; i < a->g.ndim; i++)
        shape[i] = a->g.shape[i];
    return a->g.ndim;
}

int32_t tersa_array_itemsize(const tersa_array *a)
{
    return a ? a->g.itemsize : tersa__fail(TERSA_ERR_PARAM, "array_itemsize: NULL array");
}

int64_t tersa_array_nitems(const tersa_array *a)
{
    return a ? a->g.nitems : tersa__fail(TERSA_ERR_PARAM, "array_nitems: NULL array");
}

int tersa_array_stats(const tersa_array *a, tersa_nd_stats *stats)
{
    if (!a || !stats || stats->struct_size < sizeof *stats)
        return tersa__fail(TERSA_ERR_PARAM, "array_stats: NULL argument or struct_size too small");
    *stats = a->stats;
    return 0;
}

void tersa_array_reset_stats(tersa_array *a)
{
    if (!a)
        return;
    memset(&a->stats, 0, sizeof a->stats);
    a->stats.struct_size = sizeof a->stats;
}

/* Copying b2nd arrays into other chunk and block shapes, compression parameters or storage:
 * verbatim chunk copies when the layout stays, else streamed one destination chunk at a time
 * (the source region of that chunk is read with the block-level slice reader). */
#include <inttypes.h>
#include <sys/stat.h>

#include "frame/tersa_frame_internal.h"
#include "ndarray/tersa_nd_internal.h"

/* The shapes of the copy: the caller's, or the source's (with 0 placeholders of empty axes
 * turned into 1, which creation needs). */
static void copy_shapes(const tersa_array *a, const tersa_nd_params *in, int32_t *cs, int32_t *bs)
{
    for (int i = 0; i < a->meta.ndim; i++) {
        cs[i] = in->chunkshape ? in->chunkshape[i] : a->meta.chunkshape[i];
        bs[i] = in->blockshape ? in->blockshape[i] : a->meta.blockshape[i];
        if (!in->chunkshape && cs[i] < 1)
            cs[i] = 1;
        if (!in->blockshape && bs[i] < 1)
            bs[i] = 1;
    }
}

static bool same_shapes(const tersa_array *a, const int32_t *cs, const int32_t *bs)
{
    for (int i = 0; i < a->meta.ndim; i++)
        if (cs[i] != a->meta.chunkshape[i] || bs[i] != a->meta.blockshape[i])
            return false;
    return true;
}

/* The source's header metalayers other than its array layer (at most TERSA_MAX_METALAYERS - 1
 * can be there beside it). */
static int source_metalayers(const tersa_array *a, tersa_metalayer *ml)
{
    int n = 0, count = tersa_schunk_meta_count(a->sc);
    for (int i = 0; i < count && n < TERSA_MAX_METALAYERS - 1; i++) {
        const char *name = tersa_schunk_meta_name(a->sc, i);
        const uint8_t *content = NULL;
        size_t len = 0;
        if (!name || !strcmp(name, "b2nd") || !strcmp(name, "caterva"))
            continue;
        TERSA_TRY(tersa_schunk_meta_get(a->sc, name, &content, &len));
        ml[n++] = (tersa_metalayer){name, content, len};
    }
    return n;
}

/* A file or directory copy must not replace the source (overwrite would destroy it). */
static int check_not_source(const tersa_array *a, const tersa_nd_params *p)
{
    const char *src = a->sc->path;
    struct stat s1, s2;
    if (p->storage == TERSA_STORAGE_MEMORY || !src || !p->path)
        return 0;
    if (strcmp(src, p->path) == 0 || (stat(src, &s1) == 0 && stat(p->path, &s2) == 0 &&
                                      s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino))
        return tersa__fail(TERSA_ERR_PARAM, "array_copy: the destination %s is the source",
                           p->path);
    return 0;
}

/* ---- Streaming ---------------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        uint64_t w[8], acc = 0;
        memcpy(w, p + i, sizeof w);
        for (int k = 0; k < 8; k++)
            acc |= w[k];
        if (acc)
            return false;
    }
    for (; i < n; i++)
        if (p[i])
            return false;
    return true;
}

typedef struct copy_job {
    tersa_array *src, *dst;
    uint8_t *region; /* the source items of one destination chunk, C order */
    size_t regioncap;
    uint8_t zero[TERSA_MAX_OVERHEAD + 64]; /* a special zeros chunk of the destination */
    int64_t zerolen;
} copy_job;

/* True when every source chunk the box [start, stop) meets is a special zeros chunk: the
 * region is then known to be zeros without reading it. */
static bool source_zeros(tersa_array *src, const int64_t *start, const int64_t *stop)
{
    tersa__nd_sel s;
    int64_t lo[ND_MAXD], hi[ND_MAXD], cc[ND_MAXD];
    if (tersa__nd_sel_init(&src->g, start, stop, NULL, &s) < 0 ||
        !tersa__nd_sel_chunk_range(&src->g, &s, lo, hi))
        return false;
    memcpy(cc, lo, sizeof(int64_t) * (size_t)src->g.ndim);
    do {
        if (!tersa__nd_chunk_zeros(src, tersa__nd_ravel(src->g.ndim, src->g.cgrid, cc)))
            return false;
    } while (tersa__nd_next_index(src->g.ndim, lo, hi, cc));
    return true;
}

static int store_zeros(copy_job *j, int64_t n)
{
    int64_t rc = tersa__schunk_append(j->dst->sc, j->zero, (size_t)j->zerolen, false);
    if (rc < 0)
        return tersa__fail_prefix((int)rc, "array_copy: storing chunk %" PRId64, n);
    j->dst->stats.chunks_written++;
    return 0;
}

/* Store the region [start, stop) (nb bytes in j->region) as destination chunk n. */
static int store_region(copy_job *j, int64_t n, const int64_t *start, const int64_t *stop,
                        int64_t nb)
{
    tersa_array *d = j->dst;
    if (all_zero(j->region, (size_t)nb))
        return store_zeros(j, n);
    tersa__nd_sel s;
    TERSA_TRY(tersa__nd_sel_init(&d->g, start, stop, NULL, &s));
    int64_t cc[ND_MAXD];
    tersa__nd_unravel(d->g.ndim, d->g.cgrid, n, cc);
    tersa__nd_copy c = {&d->g, &s, ND_USER_TO_CHUNK, j->region, NULL, NULL, NULL};
    memset(d->scratch, 0, (size_t)d->g.chunk_nbytes);
    tersa__nd_copy_chunk(&c, cc, d->scratch);
    return tersa__nd_store_chunk(d, n, d->scratch);
}

/* Every destination chunk in order: read its region of the source, compress, append. */
static int copy_chunks(copy_job *j)
{
    const tersa__nd_geom *g = &j->dst->g;
    int64_t cc[ND_MAXD], start[ND_MAXD], stop[ND_MAXD];
    TERSA_TRY(tersa__nd_alloc_scratch(j->dst));
    j->zerolen = tersa__nd_special_chunk(g, TERSA_SPECIAL_ZEROS, NULL, j->zero, sizeof j->zero);
    TERSA_TRY(j->zerolen);
    for (int64_t n = 0; n < g->nchunks; n++) {
        tersa__nd_unravel(g->ndim, g->cgrid, n, cc);
        tersa__nd_chunk_box(g, cc, start, stop);
        if (source_zeros(j->src, start, stop)) {
            TERSA_TRY(store_zeros(j, n));
            continue;
        }
        int64_t nb = tersa_array_get_slice(j->src, start, stop, NULL, j->region, j->regioncap);
        if (nb < 0)
            return tersa__fail_prefix((int)nb, "array_copy: reading the source of chunk %" PRId64,
                                      n);
        TERSA_TRY(store_region(j, n, start, stop, nb));
    }
    return 0;
}

/* Copy the source's vlmetalayers (decoded, then stored with the default parameters). */
static int copy_vlmeta(tersa_array *src, tersa_array *dst)
{
    int count = tersa_schunk_vlmeta_count(src->sc);
    for (int i = 0; i < count; i++) {
        const char *name = tersa_schunk_vlmeta_name(src->sc, i);
        if (!name)
            return tersa__fail(TERSA_ERR_INTERNAL, "array_copy: vlmetalayer %d has no name", i);
        int64_t len = tersa_schunk_vlmeta_get(src->sc, name, NULL, 0);
        if (len < 0)
            return tersa__fail_prefix((int)len, "array_copy: vlmetalayer %s", name);
        uint8_t *buf = tersa__malloc(len ? (size_t)len : 1);
        if (!buf)
            return tersa__fail(TERSA_ERR_NOMEM, "array_copy: no memory for a vlmetalayer");
        int64_t rc = tersa_schunk_vlmeta_get(src->sc, name, buf, (size_t)len);
        if (rc >= 0)
            rc = tersa_schunk_vlmeta_set(dst->sc, name, buf, (size_t)len, NULL);
        tersa__free(buf);
        TERSA_TRY(rc);
    }
    return 0;
}

static tersa_array *copy_streamed(tersa_array *src, const tersa_nd_params *p)
{
    copy_job j;
    memset(&j, 0, sizeof j);
    j.src = src;
    j.dst = tersa__nd_create(p);
    if (!j.dst)
        return NULL;
    int64_t items = 1;
    for (int i = 0; i < j.dst->g.ndim; i++)
        items *= j.dst->g.cs[i] < j.dst->g.shape[i] ? j.dst->g.cs[i] : j.dst->g.shape[i];
    j.regioncap = (size_t)(items * j.dst->g.itemsize); /* <= chunk_nbytes */
    j.region = tersa__malloc(j.regioncap ? j.regioncap : 1);
    int rc = j.region ? copy_chunks(&j)
                      : tersa__fail(TERSA_ERR_NOMEM, "array_copy: no memory for a chunk");
    tersa__free(j.region);
    if (rc >= 0)
        rc = copy_vlmeta(src, j.dst);
    return tersa__nd_finish(j.dst, rc);
}

/* The chunks copied as they are: tersa_schunk_copy keeps header, metalayers, vlmetalayers. */
static tersa_array *copy_verbatim(tersa_array *src, const tersa_nd_params *p)
{
    tersa_schunk_params sp;
    memset(&sp, 0, sizeof sp);
    sp.struct_size = sizeof sp;
    sp.storage = p->storage;
    sp.path = p->path;
    sp.overwrite = p->overwrite;
    tersa_schunk *sc = tersa_schunk_copy(src->sc, &sp);
    return sc ? tersa__nd_wrap(sc, true, false) : NULL;
}

tersa_array *tersa_array_copy(tersa_array *a, const tersa_nd_params *params)
{
    if (!a || !params || params->struct_size < sizeof *params) {
        tersa__fail(TERSA_ERR_PARAM, "array_copy: NULL argument or struct_size too small");
        return NULL;
    }
    int32_t cs[ND_MAXD], bs[ND_MAXD];
    tersa_metalayer ml[TERSA_MAX_METALAYERS];
    copy_shapes(a, params, cs, bs);
    if (check_not_source(a, params) < 0)
        return NULL;
    if (same_shapes(a, cs, bs) && !params->cparams && params->nmetalayers == 0)
        return copy_verbatim(a, params);
    tersa_nd_params p = *params;
    p.struct_size = sizeof p;
    p.ndim = a->meta.ndim;
    p.shape = a->meta.shape;
    p.chunkshape = cs;
    p.blockshape = bs;
    p.itemsize = a->g.itemsize;
    p.dtype = a->dtype_buf;
    p.dtype_format = a->meta.dtype_format;
    p.cparams = params->cparams ? params->cparams : tersa_schunk_cctx(a->sc);
    if (params->nmetalayers == 0) {
        int n = source_metalayers(a, ml);
        if (n < 0)
            return NULL;
        p.nmetalayers = n;
        p.metalayers = ml;
    }
    return copy_streamed(a, &p);
}

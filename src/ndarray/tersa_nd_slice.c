/* Reading and writing hyperslabs of b2nd arrays. Reads decode only the blocks a slice meets
 * (tersa_decompress_blocks into the array's chunk scratch); special chunks are answered from
 * one block of their value; writes read-modify-write the chunks they touch. */
#include <inttypes.h>

#include "frame/tersa_frame_internal.h"
#include "ndarray/tersa_nd_internal.h"

static int64_t chunk_number(const tersa__nd_geom *g, const int64_t *cc)
{
    return tersa__nd_ravel(g->ndim, g->cgrid, cc);
}

static int grow_mask(tersa_array *a, size_t n)
{
    if (n <= a->maskcap)
        return 0;
    uint8_t *m = tersa__realloc(a->mask, n);
    if (!m)
        return tersa__fail(TERSA_ERR_NOMEM, "b2nd: no memory for a mask of %zu blocks", n);
    a->mask = m;
    a->maskcap = n;
    return 0;
}

/* Chunk n's compressed bytes and header, checked against the geometry. */
static int chunk_load(tersa_array *a, int64_t n, const uint8_t **p, int32_t *cb,
                      tersa_chunk_info *info)
{
    int rc = tersa__schunk_chunk_ref(a->sc, n, p, cb);
    if (rc >= 0) {
        info->struct_size = sizeof *info;
        rc = tersa_chunk_inspect(*p, (size_t)*cb, info);
    }
    if (rc < 0)
        return tersa__fail_prefix(rc, "b2nd chunk %" PRId64, n);
    if (info->nbytes != a->g.chunk_nbytes)
        return tersa__fail(TERSA_ERR_CORRUPT,
                           "b2nd chunk %" PRId64 " holds %" PRId32 " bytes, "
                           "the geometry needs %" PRId64,
                           n, info->nbytes, a->g.chunk_nbytes);
    return 0;
}

/* ---- Special chunks ----------------------------------------------------------------- */

/* Fill a->pattern (one block) with a special chunk's value. Returns 1 when done, 0 when the
 * value's period does not divide the block (the caller then decodes normally). */
static int special_pattern(tersa_array *a, const uint8_t *p, int32_t cb,
                           const tersa_chunk_info *info)
{
    static const uint8_t nan4[4] = {0x00, 0x00, 0xc0, 0x7f};
    static const uint8_t nan8[8] = {0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
    const uint8_t *v = NULL;
    int64_t period = 1, bb = a->g.block_nbytes;
    if (info->special == TERSA_SPECIAL_NAN) {
        period = info->typesize;
        v = period == 4 ? nan4 : period == 8 ? nan8 : NULL;
        if (!v)
            return 0;
    } else if (info->special == TERSA_SPECIAL_VALUE) {
        period = cb - TERSA_MAX_OVERHEAD;
        v = p + TERSA_MAX_OVERHEAD;
        if (period < 1)
            return 0;
    }
    if (bb % period != 0)
        return 0;
    if (!v) {
        memset(a->pattern, 0, (size_t)bb);
        return 1;
    }
    for (int64_t o = 0; o < bb; o += period)
        memcpy(a->pattern + o, v, (size_t)period);
    return 1;
}

bool tersa__nd_chunk_zeros(tersa_array *a, int64_t n)
{
    const uint8_t *p = NULL;
    int32_t cb = 0;
    tersa_chunk_info info;
    if (n < 0 || n >= a->sc->nchunks || a->sc->offsets[n] >= 0)
        return false;
    info.struct_size = sizeof info;
    if (tersa__schunk_chunk_ref(a->sc, n, &p, &cb) < 0 ||
        tersa_chunk_inspect(p, (size_t)cb, &info) < 0)
        return false;
    return (info.special == TERSA_SPECIAL_ZEROS || info.special == TERSA_SPECIAL_UNINIT) &&
           info.nbytes == a->g.chunk_nbytes;
}

/* ---- Reading ------------------------------------------------------------------------ */

/* The mask over the chunk's own blocks (whatever its blocksize) covering the logical blocks
 * marked ND_BLOCK_COPY in a->mask; stored after the logical mask. */
static uint8_t *actual_mask(tersa_array *a, const tersa_chunk_info *info)
{
    int64_t nl = a->g.nblocks, bb = a->g.block_nbytes, bs = info->blocksize;
    uint8_t *lm = a->mask, *am = a->mask + nl;
    memset(am, 0, (size_t)info->nblocks);
    for (int64_t b = 0; b < nl; b++) {
        if (lm[b] != ND_BLOCK_COPY)
            continue;
        int64_t j1 = ((b + 1) * bb - 1) / bs;
        if (j1 >= info->nblocks)
            j1 = info->nblocks - 1;
        for (int64_t j = b * bb / bs; j <= j1; j++)
            am[j] = 1;
    }
    return am;
}

/* A chunk being read: where its bytes are and where the slice goes. p is NULL for a chunk of
 * a contiguous file frame read lazily: only the blocks needed come from disk. */
typedef struct rd {
    tersa_array *a;
    const tersa__nd_sel *s;
    const int64_t *cc;
    int64_t n;
    const uint8_t *p;
    int32_t cb;
    tersa_chunk_info info;
    uint8_t *dst;
} rd;

/* Decode items [i0, i0 + ni) of the chunk (units of its header typesize) into out. */
static int chunk_items(const rd *r, int64_t i0, int64_t ni, uint8_t *out, size_t cap)
{
    tersa_array *a = r->a;
    int64_t rc =
        r->p ? tersa_getitem(tersa_schunk_dctx(a->sc), r->p, (size_t)r->cb, i0, ni, out, cap)
             : tersa_schunk_getitem(a->sc, r->n, i0, ni, out, cap);
    if (rc < 0)
        return tersa__fail_prefix((int)rc, "b2nd chunk %" PRId64, r->n);
    return 0;
}

/* End of the run of blocks marked `kind` starting at b (for DIRECT: also consecutive in the
 * slice buffer, whose item offset at b is off). */
static int64_t run_end(const rd *r, int64_t b, uint8_t kind, int64_t off)
{
    const tersa_array *a = r->a;
    int64_t e = b + 1;
    while (e < a->g.nblocks && a->mask[e] == kind &&
           (kind != ND_BLOCK_DIRECT ||
            tersa__nd_block_dst(&a->g, r->s, r->cc, e) == off + (e - b) * a->g.block_items))
        e++;
    return e;
}

/* Decode runs of consecutive ND_BLOCK_DIRECT blocks straight into the slice buffer. */
static int read_direct(const rd *r)
{
    tersa_array *a = r->a;
    int64_t bb = a->g.block_nbytes, ts = r->info.typesize, isz = a->g.itemsize;
    for (int64_t b = 0; b < a->g.nblocks;) {
        if (a->mask[b] != ND_BLOCK_DIRECT) {
            b++;
            continue;
        }
        int64_t off = tersa__nd_block_dst(&a->g, r->s, r->cc, b);
        int64_t e = run_end(r, b, ND_BLOCK_DIRECT, off);
        TERSA_TRY(chunk_items(r, b * bb / ts, (e - b) * bb / ts, r->dst + off * isz,
                              (size_t)((e - b) * bb)));
        b = e;
    }
    return 0;
}

/* Lazy chunks: decode the runs of ND_BLOCK_COPY blocks into their place in a->scratch. */
static int read_copy_runs(const rd *r)
{
    tersa_array *a = r->a;
    int64_t bb = a->g.block_nbytes, ts = r->info.typesize;
    for (int64_t b = 0; b < a->g.nblocks;) {
        if (a->mask[b] != ND_BLOCK_COPY) {
            b++;
            continue;
        }
        int64_t e = run_end(r, b, ND_BLOCK_COPY, 0);
        TERSA_TRY(chunk_items(r, b * bb / ts, (e - b) * bb / ts, a->scratch + b * bb,
                              (size_t)((e - b) * bb)));
        b = e;
    }
    return 0;
}

/* Decode the remaining blocks into a->scratch and copy their selected items. */
static int read_copied(const rd *r)
{
    tersa_array *a = r->a;
    tersa_dctx *d = tersa_schunk_dctx(a->sc);
    size_t cap = (size_t)a->g.chunk_nbytes;
    int64_t rc;
    if (!r->p) {
        TERSA_TRY(read_copy_runs(r));
        rc = 0;
    } else if (r->info.vlblocks || r->info.blocksize < 1) {
        rc = tersa_decompress(d, r->p, (size_t)r->cb, a->scratch, cap);
    } else {
        uint8_t *m = actual_mask(a, &r->info);
        rc = tersa_decompress_blocks(d, r->p, (size_t)r->cb, m, (size_t)r->info.nblocks, a->scratch,
                                     cap);
    }
    if (rc < 0)
        return tersa__fail_prefix((int)rc, "b2nd chunk %" PRId64, r->n);
    tersa__nd_copy c = {&a->g, r->s, ND_CHUNK_TO_USER, r->dst, NULL, NULL, a->mask};
    tersa__nd_copy_chunk(&c, r->cc, a->scratch);
    return 0;
}

/* Decode what the selection needs of chunk r->n: whole blocks whose items are consecutive in
 * the slice directly into it, the others through the scratch chunk. A lazy chunk whose every
 * block is needed is read whole after all (returns 1 then, before decoding anything). */
static int read_blocks(rd *r)
{
    tersa_array *a = r->a;
    tersa_dstats before, after;
    tersa_dctx *d = tersa_schunk_dctx(a->sc);
    int64_t ts = r->info.typesize, bb = a->g.block_nbytes;
    bool direct = !r->info.vlblocks && ts > 0 && bb % ts == 0;
    before.struct_size = after.struct_size = sizeof before;
    TERSA_TRY(grow_mask(a, (size_t)a->g.nblocks + (size_t)r->info.nblocks));
    int64_t marked = tersa__nd_block_mask(&a->g, r->s, r->cc, a->mask, direct);
    if (!r->p && (marked == a->g.nblocks || !direct))
        return 1;
    bool copy = r->info.vlblocks || r->info.blocksize < 1;
    for (int64_t b = 0; !copy && b < a->g.nblocks; b++)
        copy = a->mask[b] == ND_BLOCK_COPY;
    tersa_dctx_stats(d, &before);
    int rc = direct ? read_direct(r) : 0;
    if (rc >= 0 && copy)
        rc = read_copied(r);
    tersa_dctx_stats(d, &after);
    a->stats.blocks_decoded += after.blocks_decoded - before.blocks_decoded;
    a->stats.chunks_read++;
    return rc;
}

/* Contiguous file frames: read only chunk n's 32-byte header. True when the chunk can be read
 * lazily (a stored, regular chunk of at least ND_LAZY_MIN compressed bytes); false sends the
 * chunk down the whole-chunk path, which also reports any error. */
static bool lazy_header(tersa_array *a, int64_t n, tersa_chunk_info *info)
{
    const tersa_schunk *s = a->sc;
    uint8_t head[TF_CHUNK_HDR];
    if (s->storage != TERSA_STORAGE_FILE || n < 0 || n >= s->nchunks || s->offsets[n] < 0 ||
        s->offsets[n] > s->cbytes - TF_CHUNK_HDR)
        return false;
    if (tersa__io_pread(s->fd, s->foffset + s->header_len + s->offsets[n], head, sizeof head,
                        "frame chunk header") < 0)
        return false;
    info->struct_size = sizeof *info;
    if (tersa_chunk_inspect(head, sizeof head, info) < 0)
        return false;
    return !info->special && !info->vlblocks && info->blocksize > 0 &&
           info->cbytes >= ND_LAZY_MIN && info->cbytes <= s->cbytes - s->offsets[n] &&
           info->nbytes == a->g.chunk_nbytes;
}

static int read_chunk(tersa_array *a, const tersa__nd_sel *s, const int64_t *cc, uint8_t *dst)
{
    rd r = {a, s, cc, chunk_number(&a->g, cc), NULL, 0, {0}, dst};
    TERSA_TRY(tersa__nd_alloc_scratch(a));
    if (lazy_header(a, r.n, &r.info)) {
        int rc = read_blocks(&r);
        if (rc <= 0)
            return rc;
    }
    TERSA_TRY(chunk_load(a, r.n, &r.p, &r.cb, &r.info));
    if (r.info.special && special_pattern(a, r.p, r.cb, &r.info)) {
        tersa__nd_copy c = {&a->g, s, ND_CHUNK_TO_USER, dst, a->pattern, NULL, NULL};
        tersa__nd_copy_chunk(&c, cc, a->scratch);
        a->stats.chunks_special++;
        return 0;
    }
    return read_blocks(&r);
}

int64_t tersa_array_slice_nbytes(const tersa_array *a, const int64_t *start, const int64_t *stop,
                                 const int64_t *step, int64_t *out_shape)
{
    tersa__nd_sel s;
    if (!a)
        return tersa__fail(TERSA_ERR_PARAM, "array_slice_nbytes: NULL array");
    TERSA_TRY(tersa__nd_sel_init(&a->g, start, stop, step, &s));
    for (int i = 0; out_shape && i < a->g.ndim; i++)
        out_shape[i] = s.count[i];
    return s.nitems * a->g.itemsize;
}

int64_t tersa_array_get_slice(tersa_array *a, const int64_t *start, const int64_t *stop,
                              const int64_t *step, void *dst, size_t dstcap)
{
    tersa__nd_sel s;
    int64_t lo[ND_MAXD], hi[ND_MAXD], cc[ND_MAXD], f[ND_MAXD], cnt[ND_MAXD];
    if (!a)
        return tersa__fail(TERSA_ERR_PARAM, "array_get_slice: NULL array");
    TERSA_TRY(tersa__nd_sel_init(&a->g, start, stop, step, &s));
    int64_t nbytes = s.nitems * a->g.itemsize;
    if ((uint64_t)nbytes > dstcap)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL,
                           "array_get_slice: the slice holds %" PRId64 " bytes, the buffer %zu",
                           nbytes, dstcap);
    if (!dst && nbytes)
        return tersa__fail(TERSA_ERR_PARAM, "array_get_slice: NULL buffer");
    if (!tersa__nd_sel_chunk_range(&a->g, &s, lo, hi))
        return 0;
    memcpy(cc, lo, sizeof(int64_t) * (size_t)a->g.ndim);
    do {
        if (tersa__nd_sel_in_chunk(&a->g, &s, cc, f, cnt))
            TERSA_TRY(read_chunk(a, &s, cc, dst));
    } while (tersa__nd_next_index(a->g.ndim, lo, hi, cc));
    return nbytes;
}

int64_t tersa_array_to_buffer(tersa_array *a, void *dst, size_t dstcap)
{
    return tersa_array_get_slice(a, NULL, NULL, NULL, dst, dstcap);
}

/* ---- Writing ------------------------------------------------------------------------ */

int tersa__nd_store_chunk(tersa_array *a, int64_t n, const uint8_t *chunk)
{
    size_t len = (size_t)a->g.chunk_nbytes, cap = tersa_compress_bound(len);
    if (a->g.block_nbytes > TERSA_MAX_BLOCKSIZE)
        return tersa__fail(TERSA_ERR_UNSUPPORTED,
                           "b2nd: blocks of %" PRId64 " bytes cannot be "
                           "written (limit %d)",
                           a->g.block_nbytes, TERSA_MAX_BLOCKSIZE);
    TERSA_TRY(tersa__nd_alloc_scratch(a));
    int64_t cb = tersa_compress(tersa_schunk_cctx(a->sc), chunk, len, a->cbuf, cap);
    if (cb < 0)
        return tersa__fail_prefix((int)cb, "b2nd: compressing chunk %" PRId64, n);
    int64_t rc = n == tersa_schunk_nchunks(a->sc)
                     ? tersa__schunk_append(a->sc, a->cbuf, (size_t)cb, false)
                     : tersa_schunk_update_chunk(a->sc, n, a->cbuf, (size_t)cb);
    if (rc < 0)
        return tersa__fail_prefix((int)rc, "b2nd: storing chunk %" PRId64, n);
    a->stats.chunks_written++;
    return 0;
}

/* Bring chunk n into a->scratch for modification: zeros when the selection covers it. */
static int load_for_update(tersa_array *a, const tersa__nd_sel *s, const int64_t *cc, int64_t n)
{
    const uint8_t *p = NULL;
    int32_t cb = 0;
    tersa_chunk_info info;
    TERSA_TRY(tersa__nd_alloc_scratch(a));
    if (tersa__nd_sel_covers_chunk(&a->g, s, cc)) {
        memset(a->scratch, 0, (size_t)a->g.chunk_nbytes);
        return 0;
    }
    TERSA_TRY(chunk_load(a, n, &p, &cb, &info));
    int64_t rc = tersa_decompress(tersa_schunk_dctx(a->sc), p, (size_t)cb, a->scratch,
                                  (size_t)a->g.chunk_nbytes);
    if (rc < 0)
        return tersa__fail_prefix((int)rc, "b2nd chunk %" PRId64, n);
    if (info.special)
        a->stats.chunks_special++;
    else {
        a->stats.chunks_read++;
        a->stats.blocks_decoded += info.nblocks;
    }
    return 0;
}

/* Write src (or the constant item) over the selection, chunk by chunk. */
static int64_t write_sel(tersa_array *a, const tersa__nd_sel *s, const uint8_t *src,
                         const uint8_t *item)
{
    int64_t lo[ND_MAXD], hi[ND_MAXD], cc[ND_MAXD], f[ND_MAXD], cnt[ND_MAXD], written = 0;
    TERSA_TRY(tersa__schunk_check_writable(a->sc));
    if (!tersa__nd_sel_chunk_range(&a->g, s, lo, hi))
        return 0;
    tersa__nd_copy c = {&a->g, s, ND_USER_TO_CHUNK, (uint8_t *)src, NULL, item, NULL};
    memcpy(cc, lo, sizeof(int64_t) * (size_t)a->g.ndim);
    int rc = 0;
    do {
        if (!tersa__nd_sel_in_chunk(&a->g, s, cc, f, cnt))
            continue;
        int64_t n = chunk_number(&a->g, cc);
        rc = load_for_update(a, s, cc, n);
        if (rc < 0)
            break;
        tersa__nd_copy_chunk(&c, cc, a->scratch);
        rc = tersa__nd_store_chunk(a, n, a->scratch);
        if (rc < 0)
            break;
        written++;
    } while (tersa__nd_next_index(a->g.ndim, lo, hi, cc));
    int frc = tersa__schunk_flush(a->sc); /* keep file frames consistent, also after an error */
    TERSA_TRY(rc);
    TERSA_TRY(frc);
    return written;
}

int64_t tersa_array_set_slice(tersa_array *a, const int64_t *start, const int64_t *stop,
                              const int64_t *step, const void *src, size_t srclen)
{
    tersa__nd_sel s;
    if (!a)
        return tersa__fail(TERSA_ERR_PARAM, "array_set_slice: NULL array");
    TERSA_TRY(tersa__nd_sel_init(&a->g, start, stop, step, &s));
    int64_t nbytes = s.nitems * a->g.itemsize;
    if ((uint64_t)nbytes != srclen)
        return tersa__fail(TERSA_ERR_PARAM,
                           "array_set_slice: the slice holds %" PRId64 " bytes, "
                           "the source %zu",
                           nbytes, srclen);
    if (!src && nbytes)
        return tersa__fail(TERSA_ERR_PARAM, "array_set_slice: NULL source");
    return write_sel(a, &s, src, NULL);
}

int64_t tersa__nd_fill_sel(tersa_array *a, const tersa__nd_sel *s, const uint8_t *item)
{
    return write_sel(a, s, NULL, item);
}

/* One HDF5 chunk = one Blosc2 frame holding one chunk (FORMATS.md 5.2). Opening it from memory
 * or lazily from a file (only the header, the offsets index, the trailer, the chunk header, its
 * block offsets and the needed block streams are read), decoding the part a selection needs,
 * and building frames the way the official filter does. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "h5/tersa_h5_internal.h"

#define H5_GAP 4096 /* byte ranges closer than this are read with one pread */

int tersa__h5_grow(uint8_t **buf, size_t *cap, size_t n)
{
    if (n <= *cap && *buf) return 0;
    uint8_t *p = tersa__realloc(*buf, n ? n : 1);
    if (!p)
        return tersa_error_set(TERSA_ERR_NOMEM, "h5: no memory for %zu bytes of scratch", n);
    *buf = p;
    *cap = n;
    return 0;
}

int tersa__h5_grow_zeroed(uint8_t **buf, size_t *cap, size_t n)
{
    size_t old = *buf ? *cap : 0;
    if (n <= old) return 0;
    TERSA_TRY(tersa__h5_grow(buf, cap, n));
    memset(*buf + old, 0, n - old);
    return 0;
}

int tersa__h5worker_init(tersa__h5worker *w)
{
    memset(w, 0, sizeof *w);
    w->dctx = tersa_dctx_create();
    w->odctx = tersa_dctx_create();
    if (!w->dctx || !w->odctx)
        return tersa_error_set(TERSA_ERR_NOMEM, "h5: no memory for a decompression context");
    return 0;
}

static void tmpl_clear(tersa__h5tmpl *t)
{
    tersa__free(t->head);
    memset(t, 0, sizeof *t);
}

void tersa__h5worker_free(tersa__h5worker *w)
{
    if (!w) return;
    tersa_dctx_free(w->dctx);
    tersa_dctx_free(w->odctx);
    tersa_cctx_free(w->cctx);
    tersa__free(w->scratch);
    tersa__free(w->scratch2);
    tersa__free(w->merge);
    tersa__free(w->mask);
    tersa__free(w->ranges);
    tersa__free(w->stored);
    tersa__free(w->blk);
    tersa__free(w->bout);
    tersa__free(w->lazy);
    tmpl_clear(&w->tmpl);
    memset(w, 0, sizeof *w);
}

/* ---- Sources ---------------------------------------------------------------------------- */

static int pread_all(int fd, int64_t pos, uint8_t *dst, size_t n)
{
    while (n > 0) {
        ssize_t got = pread(fd, dst, n, (off_t)pos);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            return tersa_error_set(TERSA_ERR_IO,
                                   "h5: pread of %zu bytes at file offset %" PRId64 " failed (%s)",
                                   n, pos, got < 0 ? strerror(errno) : "end of file");
        dst += got;
        pos += got;
        n -= (size_t)got;
    }
    return 0;
}

int tersa__h5src_need(tersa__h5src *s, int64_t off, int64_t n)
{
    if (off < 0 || n < 0 || (uint64_t)off + (uint64_t)n > s->len)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame: bytes [%" PRId64 ", +%" PRId64 ") lie "
                               "outside the stored chunk of %zu bytes",
                               off, n, s->len);
    if (s->fd < 0 || n == 0) return 0;
    if (s->nread) *s->nread += n;
    if (s->nloaded < H5_LOADED_MAX) {
        s->loaded[2 * s->nloaded] = off;
        s->loaded[2 * s->nloaded + 1] = n;
    }
    if (s->nloaded <= H5_LOADED_MAX) s->nloaded++;
    return pread_all(s->fd, s->pos + off, s->buf + off, (size_t)n);
}

void tersa__h5src_scrub(tersa__h5src *s)
{
    if (s->nloaded > H5_LOADED_MAX) {
        memset(s->buf, 0, s->len);
        return;
    }
    for (int i = 0; i < s->nloaded; i++)
        memset(s->buf + s->loaded[2 * i], 0, (size_t)s->loaded[2 * i + 1]);
}

/* ---- Opening ---------------------------------------------------------------------------- */

int tersa__h5frame_fixed(const uint8_t *h, size_t len, tersa__h5frame_fixed_t *f)
{
    if (len < 87 || h[0] != 0x9e || h[1] != 0xa8 || memcmp(h + 2, "b2frame", 8) != 0 ||
        h[0x0a] != 0xd2 || h[0x0f] != 0xcf || h[0x26] != 0xd3)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame: no Blosc2 frame header (magic or "
                               "markers wrong, or %zu bytes)",
                               len);
    f->header_len = (int64_t)tersa__ld32be(h + 0x0b);
    uint64_t fl = tersa__ld64be(h + 0x10), cb = tersa__ld64be(h + 0x27);
    if (f->header_len < 87 || fl > len || (uint64_t)f->header_len > fl || cb > fl ||
        (uint64_t)f->header_len + cb + 25 > fl)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame: header_len %" PRId64 ", frame_len %" PRIu64
                               ", cbytes %" PRIu64 " do not fit %zu stored bytes",
                               f->header_len, fl, cb, len);
    f->frame_len = (int64_t)fl;
    f->cbytes = (int64_t)cb;
    return 0;
}

/* Find chunk 0 through the offsets index and inspect its header. */
static int locate_chunk0(tersa__h5worker *w, tersa__h5src *src, tersa__h5frame *f)
{
    uint8_t e8[8];
    int64_t opos = f->header_len + f->cbytes;
    int64_t n = tersa_getitem(w->odctx, src->buf + opos, (size_t)(f->frame_len - opos), 0, 1, e8,
                              sizeof e8);
    if (n != 8)
        return tersa_error_prefix(n < 0 ? (int)n : TERSA_ERR_CORRUPT, "h5 frame offsets");
    int64_t e = (int64_t)tersa__ld64(e8);
    f->ci.struct_size = sizeof f->ci;
    if (e < 0) {
        n = tersa_schunk_get_chunk(f->sc, 0, w->special, sizeof w->special);
        if (n < 0)
            return tersa_error_prefix((int)n, "h5 frame special chunk");
        f->chunk = w->special;
        f->chunk_pos = -1;
        return tersa_chunk_inspect(f->chunk, (size_t)n, &f->ci);
    }
    if (e > f->cbytes - 32)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame: chunk 0 offset %" PRId64 " outside the "
                               "%" PRId64 " chunk bytes",
                               e, f->cbytes);
    f->chunk_pos = f->header_len + e;
    f->chunk = src->buf + f->chunk_pos;
    TERSA_TRY(tersa__h5src_need(src, f->chunk_pos, 32));
    TERSA_TRY(tersa_chunk_inspect(f->chunk, 32, &f->ci));
    if (f->ci.cbytes > f->cbytes - e)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame: chunk 0 (%" PRId32 " bytes at %" PRId64
                               ") runs past the frame's %" PRId64 " chunk bytes",
                               f->ci.cbytes, e, f->cbytes);
    return 0;
}

static int parse_meta(tersa__h5frame *f)
{
    const uint8_t *m = NULL;
    size_t mlen = 0;
    if (tersa_schunk_meta_get(f->sc, "b2nd", &m, &mlen) < 0 &&
        tersa_schunk_meta_get(f->sc, "caterva", &m, &mlen) < 0)
        return 0;
    f->meta.struct_size = sizeof f->meta;
    int64_t rc = tersa_nd_meta_parse(m, mlen, &f->meta);
    if (rc < 0)
        return tersa_error_prefix((int)rc, "h5 frame");
    f->b2nd = true;
    return 0;
}

int tersa__h5frame_open(tersa__h5worker *w, tersa__h5src *src, tersa__h5frame *f)
{
    memset(f, 0, sizeof *f);
    if (src->len < 87)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame: %zu stored bytes, a frame needs 87 or "
                               "more",
                               src->len);
    TERSA_TRY(tersa__h5src_need(src, 0, src->len < H5_PREFIX ? (int64_t)src->len : H5_PREFIX));
    tersa__h5frame_fixed_t hf;
    TERSA_TRY(tersa__h5frame_fixed(src->buf, src->len, &hf));
    f->header_len = hf.header_len;
    f->frame_len = hf.frame_len;
    f->cbytes = hf.cbytes;
    if (f->header_len > H5_PREFIX)
        TERSA_TRY(tersa__h5src_need(src, H5_PREFIX, f->header_len - H5_PREFIX));
    int64_t tail = f->header_len + f->cbytes;
    TERSA_TRY(tersa__h5src_need(src, tail, f->frame_len - tail));
    f->sc = tersa_schunk_open_buffer(src->buf, (size_t)f->frame_len, TERSA_OPEN_BORROW);
    if (!f->sc)
        return tersa_error_prefix(TERSA_ERR_CORRUPT, "h5 frame");
    if (tersa_schunk_nchunks(f->sc) < 1)
        return tersa_error_set(TERSA_ERR_CORRUPT, "h5 frame: the frame holds no chunk");
    f->typesize = tersa_schunk_typesize(f->sc);
    TERSA_TRY(tersa_dctx_set(w->dctx, TERSA_P_FRAME_TYPESIZE, f->typesize));
    TERSA_TRY(locate_chunk0(w, src, f));
    return parse_meta(f);
}

void tersa__h5frame_close(tersa__h5frame *f)
{
    tersa_schunk_free(f->sc);
    f->sc = NULL;
}

/* ---- Lazy block loading ----------------------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Read the collected ranges (pairs of chunk offsets), merged when close. */
static int read_ranges(tersa__h5src *src, const tersa__h5frame *f, int64_t *r, int64_t nr)
{
    qsort(r, (size_t)nr, 2 * sizeof *r, cmp_range);
    for (int64_t i = 0; i < nr;) {
        int64_t a = r[2 * i], z = r[2 * i + 1];
        for (i++; i < nr && r[2 * i] <= z + H5_GAP; i++)
            if (r[2 * i + 1] > z) z = r[2 * i + 1];
        TERSA_TRY(tersa__h5src_need(src, f->chunk_pos + a, z - a));
    }
    return 0;
}

static bool has_delta(const tersa_chunk_info *ci)
{
    for (int k = 0; k < TERSA_MAX_FILTERS; k++)
        if (ci->filters[k] == TERSA_FILTER_DELTA) return true;
    return false;
}

/* Block offsets (and dictionary) of chunk 0; *data is where stream data may start. */
static int read_bstarts(tersa__h5src *src, const tersa__h5frame *f, int64_t *data)
{
    int64_t nb = f->ci.nblocks, cb = f->ci.cbytes, end = 32 + 4 * nb;
    if (end > cb)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame chunk: %" PRId64 " block offsets do not "
                               "fit %" PRId64 " bytes",
                               nb, cb);
    TERSA_TRY(tersa__h5src_need(src, f->chunk_pos + 32, 4 * nb));
    if (f->ci.has_dict) {
        if (end + 4 > cb)
            return tersa_error_set(TERSA_ERR_CORRUPT, "h5 frame chunk: no dictionary");
        TERSA_TRY(tersa__h5src_need(src, f->chunk_pos + end, 4));
        int64_t dsize = tersa__ld32(f->chunk + end);
        if (dsize > TERSA_MAX_DICT_SIZE || end + 4 + dsize > cb)
            return tersa_error_set(TERSA_ERR_CORRUPT,
                                   "h5 frame chunk: dictionary of %" PRId64 " bytes", dsize);
        TERSA_TRY(tersa__h5src_need(src, f->chunk_pos + end + 4, dsize));
        end += 4 + dsize;
    }
    *data = end;
    return 0;
}

/* Stream extents of the masked blocks: from a block's start to the next larger start. */
static int stream_ranges(tersa__h5worker *w, const tersa__h5frame *f, int64_t data,
                         const uint8_t *mask, int64_t *nr)
{
    int64_t nb = f->ci.nblocks, cb = f->ci.cbytes, *sorted = w->ranges + 2 * nb;
    for (int64_t k = 0; k < nb; k++) {
        sorted[k] = tersa__ld32(f->chunk + 32 + 4 * k);
        if (sorted[k] < data || sorted[k] >= cb)
            return tersa_error_set(TERSA_ERR_CORRUPT,
                                   "h5 frame chunk: block %" PRId64 " starts at %" PRId64
                                   ", outside [%" PRId64 ", %" PRId64 ")",
                                   k, sorted[k], data, cb);
    }
    qsort(sorted, (size_t)nb, sizeof *sorted, cmp_range);
    bool delta = has_delta(&f->ci);
    for (int64_t k = 0; k < nb; k++) {
        if (!mask[k] && !(k == 0 && delta)) continue;
        int64_t a = tersa__ld32(f->chunk + 32 + 4 * k), lo = 0, hi = nb;
        while (lo < hi) { /* first start larger than a */
            int64_t mid = lo + (hi - lo) / 2;
            if (sorted[mid] <= a) lo = mid + 1;
            else hi = mid;
        }
        w->ranges[2 * *nr] = a;
        w->ranges[2 * *nr + 1] = lo < nb ? sorted[lo] : cb;
        (*nr)++;
    }
    return 0;
}

/* Read what decoding the masked blocks of chunk 0 needs (lazy sources only). */
static int load_blocks(tersa__h5worker *w, tersa__h5src *src, const tersa__h5frame *f,
                       const uint8_t *mask)
{
    if (src->fd < 0 || f->chunk_pos < 0 || f->ci.special) return 0;
    if (f->ci.vlblocks) return tersa__h5src_need(src, f->chunk_pos, f->ci.cbytes);
    size_t need = (size_t)(3 * f->ci.nblocks + 2) * sizeof(int64_t);
    uint8_t *rb = (uint8_t *)w->ranges;
    TERSA_TRY(tersa__h5_grow(&rb, &w->rcap, need));
    w->ranges = (int64_t *)rb;
    int64_t nr = 0, bs = f->ci.blocksize, nbytes = f->ci.nbytes;
    if (f->ci.memcpyed) {
        for (int64_t k = 0; k < f->ci.nblocks; k++) {
            if (!mask[k]) continue;
            int64_t z = (k + 1) * bs < nbytes ? (k + 1) * bs : nbytes;
            w->ranges[2 * nr] = 32 + k * bs;
            w->ranges[2 * nr++ + 1] = 32 + z;
        }
        return read_ranges(src, f, w->ranges, nr);
    }
    int64_t data = 0;
    TERSA_TRY(read_bstarts(src, f, &data));
    TERSA_TRY(stream_ranges(w, f, data, mask, &nr));
    return read_ranges(src, f, w->ranges, nr);
}

/* ---- Decoding --------------------------------------------------------------------------- */

/* Chunk geometry of a b2nd frame checked against the HDF5 chunk (box dims and item size). */
typedef struct h5geom {
    bool blocked;       /* b2nd block layout that differs from C order */
    bool whole_array;   /* b2nd with several inner chunks: decode through the ndarray layer */
    int64_t bs[H5R];
} h5geom;

/* Blocks (1,...,1,k,full,...,full) with no padding inside the chunk keep C order. */
static bool b2nd_corder(const tersa__h5box *b, const int64_t *bs)
{
    int j = 0;
    while (j < b->rank - 1 && bs[j] == 1) j++;
    for (int i = j + 1; i < b->rank; i++)
        if (bs[i] != b->dims[i]) return false;
    return j == 0 || b->dims[j] % bs[j] == 0;
}

/* A b2nd shape other than the HDF5 chunk's but with as many items (cd_values whose chunk dims
 * differ from the dataset's, which the filter writes from): the filter returns the frame's
 * items in its own C order, and so does the whole-array path. */
static bool same_items_other_shape(const tersa_nd_meta *m, const tersa__h5box *b)
{
    bool same = m->ndim == b->rank;
    int64_t nm = 1, nb = 1;
    for (int i = 0; i < m->ndim; i++) {
        if (!tersa__mul_i64(nm, m->shape[i], &nm)) return false;
        if (i < b->rank && m->shape[i] != b->dims[i]) same = false;
    }
    for (int i = 0; i < b->rank; i++) nb *= b->dims[i]; /* HDF5 chunk: < 2^32 items */
    return !same && nm == nb;
}

static int b2nd_geom(const tersa__h5frame *f, const tersa__h5box *b, h5geom *g)
{
    const tersa_nd_meta *m = &f->meta;
    int64_t ext = b->item, blk = b->item;
    if (f->typesize == b->item && same_items_other_shape(m, b)) {
        g->whole_array = true;
        return 0;
    }
    if (m->ndim != b->rank || f->typesize != b->item)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame: b2nd rank %d / item size %" PRId32
                               " differ from the dataset chunk's %d / %" PRId64,
                               m->ndim, f->typesize, b->rank, b->item);
    for (int i = 0; i < b->rank; i++) {
        if (m->shape[i] != b->dims[i])
            return tersa_error_set(TERSA_ERR_CORRUPT,
                                   "h5 frame: b2nd shape[%d] = %" PRId64 " differs "
                                   "from the chunk dimension %" PRId64,
                                   i, m->shape[i], b->dims[i]);
        if (m->chunkshape[i] != m->shape[i]) g->whole_array = true;
        g->bs[i] = m->blockshape[i];
        if (!tersa__mul_i64(ext, (b->dims[i] + g->bs[i] - 1) / g->bs[i] * g->bs[i], &ext) ||
            !tersa__mul_i64(blk, g->bs[i], &blk))
            return tersa_error_set(TERSA_ERR_CORRUPT, "h5 frame: b2nd block shape overflows");
    }
    if (g->whole_array) return 0;
    if (f->ci.nbytes != ext || (!f->ci.special && f->ci.blocksize != blk))
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame: b2nd chunk holds %" PRId32 " bytes in "
                               "blocks of %" PRId32 ", the metalayer implies %" PRId64
                               " and %" PRId64,
                               f->ci.nbytes, f->ci.blocksize, ext, blk);
    g->blocked = !b2nd_corder(b, g->bs);
    return 0;
}

static int64_t box_bytes(const tersa__h5box *b)
{
    int64_t n = b->item;
    for (int i = 0; i < b->rank; i++) n *= b->dims[i];
    return n;
}

/* Several inner chunks (never written by the filter, but accepted by it): whole array. */
static int read_whole_array(tersa__h5worker *w, tersa__h5src *src, tersa__h5frame *f,
                            const tersa__h5box *b)
{
    TERSA_TRY(tersa__h5src_need(src, 0, f->frame_len));
    int64_t n = box_bytes(b);
    TERSA_TRY(tersa__h5_grow(&w->scratch, &w->scap, (size_t)n));
    tersa_array *a = tersa_array_from_schunk(f->sc, 0);
    if (!a)
        return tersa_error_prefix(TERSA_ERR_CORRUPT, "h5 frame b2nd");
    int64_t rc = tersa_array_to_buffer(a, w->scratch, (size_t)n);
    tersa_array_free(a);
    if (rc < 0)
        return tersa_error_prefix((int)rc, "h5 frame b2nd");
    tersa__h5_corder_copy(b, w->scratch, true);
    return 0;
}

/* Fast path: a contiguous range of a C-order chunk straight into the buffer. */
static int read_direct(tersa__h5worker *w, tersa__h5src *src, tersa__h5frame *f,
                       const tersa__h5box *b, int64_t off, int64_t len, bool *done)
{
    int64_t ts = f->ci.typesize > 0 ? f->ci.typesize : 1;
    *done = false;
    if (off % ts || len % ts || f->ci.vlblocks) return 0;
    int64_t nb = f->ci.nblocks > 0 ? f->ci.nblocks : 1;
    TERSA_TRY(tersa__h5_grow(&w->mask, &w->mcap, (size_t)nb));
    tersa__h5box one = *b; /* the range as a 1-D box of bytes for the mask */
    one.rank = 1;
    one.item = 1;
    one.dims[0] = f->ci.nbytes;
    one.lo[0] = off;
    one.n[0] = len;
    one.step[0] = 1;
    tersa__h5_range_mask(&one, f->ci.blocksize, nb, w->mask);
    w->blocks_total += nb;
    TERSA_TRY(load_blocks(w, src, f, w->mask));
    int64_t n = tersa_getitem(w->dctx, f->chunk, (size_t)f->ci.cbytes, off / ts, len / ts, b->buf,
                              (size_t)len);
    if (n < 0) return (int)n;
    *done = true;
    return 0;
}

/* Decode the masked blocks one at a time into the start of the scratch and copy each out while
 * it is still in cache (a worker thread decoding whole chunks of its own). */
static int blocks_one_by_one(tersa__h5worker *w, tersa__h5frame *f, const tersa__h5box *b,
                             const h5geom *g, int64_t nb)
{
    int64_t ts = f->ci.typesize > 0 ? f->ci.typesize : 1, bsize = f->ci.blocksize;
    if (bsize <= 0 || bsize % ts || f->ci.nbytes % ts)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame: blocksize %" PRId64 " or nbytes %" PRId32
                               " is not a multiple of typesize %" PRId64,
                               bsize, f->ci.nbytes, ts);
    for (int64_t k = 0; k < nb; k++) {
        if (!w->mask[k]) continue;
        int64_t len = f->ci.nbytes - k * bsize < bsize ? f->ci.nbytes - k * bsize : bsize;
        int64_t n = tersa_getitem(w->dctx, f->chunk, (size_t)f->ci.cbytes, k * bsize / ts,
                                  len / ts, w->scratch, w->scap);
        if (n < 0) return (int)n;
        tersa__h5_block_copy_one(b, g->bs, w->scratch, k, true);
    }
    return 0;
}

/* The blocks of one chunk decoded by all workers of the pool, each block into the decoding
 * worker's scratch and copied out from there (blocks cover disjoint parts of the box). */
typedef struct pblocks {
    tersa__h5worker *peers;
    const tersa__h5frame *f;
    const tersa__h5box *b;
    const h5geom *g;
    const int64_t *list; /* block numbers */
    _Atomic int failed;
    char err[H5_ERRLEN];
} pblocks;

static int pblock_task(void *arg, int t, int worker)
{
    pblocks *p = arg;
    tersa__h5worker *w = &p->peers[worker];
    const tersa__h5frame *f = p->f;
    int64_t k = p->list[t], ts = f->ci.typesize, bsize = f->ci.blocksize;
    int64_t len = f->ci.nbytes - k * bsize < bsize ? f->ci.nbytes - k * bsize : bsize;
    int64_t n = tersa__h5_grow(&w->scratch, &w->scap, (size_t)bsize);
    if (n >= 0)
        n = tersa_getitem(w->dctx, f->chunk, (size_t)f->ci.cbytes, k * bsize / ts, len / ts,
                          w->scratch, w->scap);
    if (n < 0) {
        int zero = 0;
        if (atomic_compare_exchange_strong(&p->failed, &zero, 1))
            snprintf(p->err, sizeof p->err, "%s", tersa_error_detail());
        return (int)n;
    }
    tersa__h5_block_copy_one(p->b, p->g->bs, w->scratch, k, true);
    return 0;
}

static int blocks_in_parallel(tersa__h5worker *w, tersa__h5frame *f, const tersa__h5box *b,
                              const h5geom *g, int64_t nb)
{
    int64_t ts = f->ci.typesize > 0 ? f->ci.typesize : 1, n = 0;
    if (f->ci.blocksize <= 0 || f->ci.blocksize % ts || f->ci.nbytes % ts || nb > INT32_MAX)
        return blocks_one_by_one(w, f, b, g, nb); /* which reports the error */
    uint8_t *rb = (uint8_t *)w->ranges;
    TERSA_TRY(tersa__h5_grow(&rb, &w->rcap, (size_t)(3 * nb + 2) * sizeof(int64_t)));
    int64_t *list = w->ranges = (int64_t *)rb;
    for (int64_t k = 0; k < nb; k++)
        if (w->mask[k]) list[n++] = k;
    for (int i = 0; i < w->npeers; i++)
        TERSA_TRY(tersa_dctx_set(w->peers[i].dctx, TERSA_P_FRAME_TYPESIZE, f->typesize));
    pblocks p = {w->peers, f, b, g, list, 0, ""};
    TERSA_TRY(tersa_dctx_set_pool(w->dctx, NULL));
    int rc = tersa_pool_run(w->pool, w->npeers, (int)n, pblock_task, &p);
    int rc2 = tersa_dctx_set_pool(w->dctx, w->pool);
    if (rc < 0)
        return tersa_error_set(rc, "%s", p.err[0] ? p.err : tersa_error_message(rc));
    return rc2;
}

/* Decode the blocks the box needs into the scratch, then copy the box out. */
static int read_blocks(tersa__h5worker *w, tersa__h5src *src, tersa__h5frame *f,
                       const tersa__h5box *b, const h5geom *g)
{
    int64_t nb = f->ci.nblocks > 0 ? f->ci.nblocks : 1;
    TERSA_TRY(tersa__h5_grow(&w->mask, &w->mcap, (size_t)nb));
    TERSA_TRY(tersa__h5_grow(&w->scratch, &w->scap, (size_t)f->ci.nbytes));
    if (f->ci.vlblocks) memset(w->mask, 1, (size_t)nb);
    else if (g->blocked) tersa__h5_block_mask(b, g->bs, w->mask);
    else tersa__h5_range_mask(b, f->ci.blocksize, nb, w->mask);
    w->blocks_total += nb;
    TERSA_TRY(load_blocks(w, src, f, w->mask));
    bool delta = has_delta(&f->ci) && !f->ci.memcpyed;
    if (g->blocked && !delta && !f->ci.special && !f->ci.vlblocks && nb > 1) {
        if (!w->block_threads) return blocks_one_by_one(w, f, b, g, nb);
        return blocks_in_parallel(w, f, b, g, nb);
    }
    int64_t n = tersa_decompress_blocks(w->dctx, f->chunk, (size_t)f->ci.cbytes, w->mask,
                                        (size_t)nb, w->scratch, w->scap);
    if (n < 0) return (int)n;
    if (g->blocked) tersa__h5_blocked_copy(b, g->bs, w->scratch, w->mask, true);
    else tersa__h5_corder_copy(b, w->scratch, true);
    return 0;
}

int tersa__h5frame_read(tersa__h5worker *w, tersa__h5src *src, tersa__h5frame *f,
                        const tersa__h5box *b)
{
    h5geom g;
    memset(&g, 0, sizeof g);
    if (f->b2nd) TERSA_TRY(b2nd_geom(f, b, &g));
    if (g.whole_array) return read_whole_array(w, src, f, b);
    if (!f->b2nd && f->ci.nbytes < box_bytes(b))
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 frame: chunk holds %" PRId32 " bytes, the HDF5 "
                               "chunk needs %" PRId64,
                               f->ci.nbytes, box_bytes(b));
    int64_t off, len;
    bool done = false;
    if (!g.blocked && tersa__h5_box_contiguous(b, &off, &len))
        TERSA_TRY(read_direct(w, src, f, b, off, len, &done));
    return done ? 0 : read_blocks(w, src, f, b, &g);
}

/* ---- Building ------------------------------------------------------------------------- */

/* The worker's compression context set to the filter's parameters. */
static int setup_cctx(tersa__h5worker *w, const tersa__h5cd *cd, int64_t blocksize,
                      tersa_pool *pool)
{
    if (!w->cctx && !(w->cctx = tersa_cctx_create()))
        return tersa_error_set(TERSA_ERR_NOMEM, "h5: no memory for a compression context");
    tersa_cctx *c = w->cctx;
    int64_t ts = cd->typesize <= TERSA_MAX_TYPESIZE ? cd->typesize : 1;
    TERSA_TRY(tersa_cctx_set(c, TERSA_P_TYPESIZE, ts));
    TERSA_TRY(tersa_cctx_set(c, TERSA_P_CLEVEL, cd->clevel));
    TERSA_TRY(tersa_cctx_set(c, TERSA_P_CODEC, cd->codec));
    for (int k = 0; k < TERSA_MAX_FILTERS; k++) {
        TERSA_TRY(tersa_cctx_set(c, (tersa_param)(TERSA_P_FILTER0 + k),
                                 k == TERSA_MAX_FILTERS - 1 ? cd->filter : 0));
        TERSA_TRY(tersa_cctx_set(c, (tersa_param)(TERSA_P_FILTER_META0 + k), 0));
    }
    TERSA_TRY(tersa_cctx_set(c, TERSA_P_BLOCKSIZE, blocksize));
    TERSA_TRY(tersa_cctx_set(c, TERSA_P_DETECT_SPECIAL, 1));
    return tersa_cctx_set_pool(c, pool);
}

/* A memory frame with the given metalayer (or none), one chunk of src, serialised into the
 * output buffer (grown as needed). */
static int frame_from(tersa__h5worker *w, int32_t typesize, const tersa_metalayer *ml,
                      const uint8_t *src, size_t n, tersa_pool *pool, tersa__h5out *o)
{
    tersa_schunk_params sp;
    memset(&sp, 0, sizeof sp);
    sp.struct_size = sizeof sp;
    sp.storage = TERSA_STORAGE_MEMORY;
    sp.cparams = w->cctx;
    sp.typesize = typesize;
    sp.nmetalayers = ml ? 1 : 0;
    sp.metalayers = ml;
    tersa_schunk *sc = tersa_schunk_create(&sp);
    if (!sc)
        return tersa_error_prefix(TERSA_ERR_NOMEM, "h5 frame");
    int64_t rc = tersa_cctx_set_pool(tersa_schunk_cctx(sc), pool);
    if (rc >= 0) rc = tersa_schunk_append_buffer(sc, src, n);
    int64_t len = rc < 0 ? rc : tersa_schunk_frame_len(sc);
    if (len > 0) len = tersa__h5_grow(&o->buf, &o->cap, (size_t)len + 4) < 0 ? TERSA_ERR_NOMEM : len;
    if (len > 0) len = tersa_schunk_to_buffer(sc, o->buf, (size_t)len);
    tersa_schunk_free(sc);
    if (len < 0) return (int)len;
    o->len = (size_t)len;
    return 0;
}

/* ---- Frame templates ------------------------------------------------------------------ */

/* A one-chunk frame is header | chunk | offsets index | trailer, and for chunks of one size and
 * one set of parameters only the header's frame_len and cbytes depend on the chunk (FORMATS.md
 * 3.1-3.3): the index holds offset 0 and the trailer is fixed. The worker keeps the parts
 * around the chunk of a frame built the usual way and then compresses each further chunk
 * straight into its place in the output, saving the frame layer's two copies of every chunk.
 * A template is only used after rebuilding its own frame from it gave identical bytes. */
static bool tmpl_key(const tersa__h5tmpl *t, const tersa__h5cd *cd, size_t n)
{
    return t->state && t->n == n && t->ncd == cd->n && !memcmp(t->cd, cd->v, cd->n * sizeof *cd->v);
}

bool tersa__h5tmpl_usable(const tersa__h5worker *w, const tersa__h5cd *cd, size_t n)
{
    return w->tmpl.state == 1 && tmpl_key(&w->tmpl, cd, n);
}

void tersa__h5tmpl_wrap(const tersa__h5tmpl *t, tersa__h5out *o, size_t cbytes)
{
    memcpy(o->buf, t->head, t->head_len);
    memcpy(o->buf + t->head_len + cbytes, t->head + t->head_len, t->tail_len);
    o->len = t->head_len + cbytes + t->tail_len;
    tersa__st64be(o->buf + 0x10, (uint64_t)o->len); /* frame_len */
    tersa__st64be(o->buf + 0x27, (uint64_t)cbytes); /* cbytes */
}

/* Compress src into a frame from the template. Returns 1 when the chunk came out special (not
 * stored in a frame: build that one the usual way), else 0 or an error. */
static int from_template(tersa__h5worker *w, const tersa__h5tmpl *t, const uint8_t *src,
                         tersa_pool *pool, tersa__h5out *o)
{
    size_t room = tersa_compress_bound(t->n);
    TERSA_TRY(tersa__h5_grow(&o->buf, &o->cap, t->head_len + room + t->tail_len + 4));
    TERSA_TRY(tersa_cctx_set_pool(w->cctx, pool));
    int64_t c = tersa_compress(w->cctx, src, t->n, o->buf + t->head_len, room);
    if (c < 0) return (int)c;
    tersa_chunk_info ci;
    memset(&ci, 0, sizeof ci);
    ci.struct_size = sizeof ci;
    TERSA_TRY(tersa_chunk_inspect(o->buf + t->head_len, (size_t)c, &ci));
    if (ci.special) return 1;
    tersa__h5tmpl_wrap(t, o, (size_t)c);
    return 0;
}

/* Learn a template for (cd, n) from frame o, just built from src the usual way; it is used only
 * when rebuilding o from it gives the same bytes (else the key is remembered as unusable). */
static void tmpl_learn(tersa__h5worker *w, const tersa__h5cd *cd, const uint8_t *src, size_t n,
                       tersa_pool *pool, const tersa__h5out *o)
{
    tersa__h5tmpl *t = &w->tmpl;
    tersa__h5frame_fixed_t hf;
    tmpl_clear(t);
    if (tersa__h5frame_fixed(o->buf, o->len, &hf) < 0 || hf.cbytes <= 0 || cd->n > TERSA_H5_MAX_CD)
        return; /* a special chunk's frame: learn from a later one */
    size_t tail = o->len - (size_t)(hf.header_len + hf.cbytes);
    t->head = tersa__malloc((size_t)hf.header_len + tail);
    if (!t->head) return;
    memcpy(t->head, o->buf, (size_t)hf.header_len);
    memcpy(t->head + hf.header_len, o->buf + hf.header_len + hf.cbytes, tail);
    t->head_len = (size_t)hf.header_len;
    t->tail_len = tail;
    t->n = n;
    t->ncd = cd->n;
    memcpy(t->cd, cd->v, cd->n * sizeof *cd->v);
    tersa__h5out check = {NULL, 0, 0};
    int rc = from_template(w, t, src, pool, &check);
    bool same = rc == 0 && check.len == o->len && !memcmp(check.buf, o->buf, o->len);
    tersa__free(check.buf);
    t->state = same ? 1 : -1;
    if (rc == 1) tmpl_clear(t); /* a stored special chunk (one repeated value): learn later */
}

/* The frame of one chunk: from the worker's template when it fits, else built the usual way
 * (and a template learnt from it). */
static int emit_frame(tersa__h5worker *w, const tersa__h5cd *cd, int32_t typesize,
                      const tersa_metalayer *ml, const uint8_t *src, size_t n, tersa_pool *pool,
                      tersa__h5out *o)
{
    if (tersa__h5tmpl_usable(w, cd, n)) {
        int rc = from_template(w, &w->tmpl, src, pool, o);
        if (rc <= 0) return rc;
    }
    TERSA_TRY(frame_from(w, typesize, ml, src, n, pool, o));
    if (w->templates && !tmpl_key(&w->tmpl, cd, n)) tmpl_learn(w, cd, src, n, pool, o);
    return 0;
}

/* Block-wise compression (tersa_h5_bwise.c) is used once it has rebuilt one frame of this
 * template byte for byte; that check runs on the first frame built the usual way. */
static void bwise_check(tersa__h5worker *w, const tersa__h5box *b, const int64_t *bs,
                        int64_t bbytes, int64_t ext, const tersa__h5out *o)
{
    tersa__h5out check = {NULL, 0, 0};
    int rc = tersa__h5_blockwise(w, b, bs, bbytes, ext, &check);
    bool same = rc == 0 && check.len == o->len && !memcmp(check.buf, o->buf, o->len);
    tersa__free(check.buf);
    if (rc != 1) w->tmpl.bwise = same ? 1 : -1; /* fell back (a miss): check a later chunk */
}

/* The "b2nd" metalayer of one HDF5 chunk: shape = chunkshape = the chunk dims, dtype |V<n>. */
static int64_t b2nd_meta(const tersa__h5cd *cd, const int64_t *bs, uint8_t *meta, size_t cap)
{
    tersa_nd_meta m;
    char dtype[32];
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    m.ndim = cd->rank;
    for (int i = 0; i < cd->rank; i++) {
        m.shape[i] = cd->dims[i];
        m.chunkshape[i] = (int32_t)cd->dims[i];
        m.blockshape[i] = (int32_t)bs[i];
    }
    snprintf(dtype, sizeof dtype, "|V%" PRId32, cd->typesize);
    m.dtype = dtype;
    m.dtype_len = strlen(dtype);
    m.has_dtype = 1;
    return tersa_nd_meta_serialize(&m, meta, cap);
}

/* The chunk src as a box of the whole chunk, its block shape bs[] (block bytes in *bbytes) and
 * the padded size of its block layout (returned). */
static int64_t b2nd_layout(const tersa__h5cd *cd, const uint8_t *src, tersa__h5box *b,
                           int64_t *bs, int64_t *bbytes)
{
    int64_t bsize = cd->blocksize, ext = cd->typesize;
    if (bsize == 0) bsize = tersa__h5_auto_blocksize(cd->chunk_bytes, cd->typesize, cd->clevel,
                                                     cd->codec);
    TERSA_TRY(bsize);
    *bbytes = tersa__h5_block_shape(bsize, cd->typesize, cd->rank, cd->dims, bs);
    memset(b, 0, sizeof *b);
    b->rank = cd->rank;
    b->item = cd->typesize;
    b->buf = (uint8_t *)src;
    for (int i = 0; i < cd->rank; i++) {
        b->dims[i] = b->n[i] = cd->dims[i];
        b->step[i] = 1;
        if (!tersa__mul_i64(ext, (cd->dims[i] + bs[i] - 1) / bs[i] * bs[i], &ext))
            ext = INT64_MAX; /* refused below */
    }
    if (ext > TERSA_MAX_BUFFERSIZE || *bbytes > TERSA_MAX_BLOCKSIZE)
        return tersa_error_set(TERSA_ERR_TOO_LARGE, "h5: padded chunk of %" PRId64 " bytes", ext);
    tersa__h5_cstrides(b->rank, b->dims, b->item, b->bstr);
    return ext;
}

static int build_b2nd(tersa__h5worker *w, const tersa__h5cd *cd, const uint8_t *src,
                      tersa_pool *pool, tersa__h5out *o)
{
    int64_t bs[H5R], bbytes = 0;
    tersa__h5box b;
    int64_t ext = b2nd_layout(cd, src, &b, bs, &bbytes);
    TERSA_TRY(ext);
    bool blocked = ext != box_bytes(&b) || !b2nd_corder(&b, bs);
    TERSA_TRY(setup_cctx(w, cd, bbytes, pool));
    bool bwise = blocked && !pool && tersa__h5tmpl_usable(w, cd, (size_t)ext);
    if (bwise && w->tmpl.bwise == 1) {
        int rc = tersa__h5_blockwise(w, &b, bs, bbytes, ext, o);
        if (rc <= 0) return rc;
    }
    const uint8_t *data = src; /* blocks in C order without padding: the chunk as it is */
    if (blocked) {
        TERSA_TRY(tersa__h5_grow(&w->scratch2, &w->scap2, (size_t)ext));
        if (ext != box_bytes(&b)) memset(w->scratch2, 0, (size_t)ext); /* zeroed padding */
        tersa__h5_blocked_copy(&b, bs, w->scratch2, NULL, false);
        data = w->scratch2;
    }
    uint8_t meta[512];
    int64_t mlen = b2nd_meta(cd, bs, meta, sizeof meta);
    TERSA_TRY(mlen);
    tersa_metalayer ml = {"b2nd", meta, (size_t)mlen};
    TERSA_TRY(emit_frame(w, cd, cd->typesize, &ml, data, (size_t)ext, pool, o));
    if (bwise && w->tmpl.bwise == 0) bwise_check(w, &b, bs, bbytes, ext, o);
    return 0;
}

int tersa__h5frame_build(tersa__h5worker *w, const tersa__h5cd *cd, const uint8_t *src,
                         size_t n, tersa_pool *pool, tersa__h5out *o)
{
    int64_t items = cd->typesize;
    for (int i = 0; i < cd->rank; i++)
        if (!tersa__mul_i64(items, cd->dims[i], &items)) items = -1; /* cannot match n */
    if (n > TERSA_MAX_BUFFERSIZE)
        return tersa_error_set(TERSA_ERR_TOO_LARGE,
                               "h5: chunk of %zu bytes exceeds the Blosc2 "
                               "limit",
                               n);
    if (cd->rank >= 2 && (int64_t)n == items) return build_b2nd(w, cd, src, pool, o);
    TERSA_TRY(setup_cctx(w, cd, cd->blocksize, pool));
    return emit_frame(w, cd, cd->typesize, NULL, src, n, pool, o);
}

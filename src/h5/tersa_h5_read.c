/* Reading hyperslabs: the chunks a selection meets are looked up on the calling thread (the only
 * one that calls HDF5), then decoded in parallel by the workers, each reading its chunk's bytes
 * itself with pread when the file uses the sec2 driver. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "h5/tersa_h5_internal.h"

#define H5_BATCH_PER_WORKER 4

/* ---- Selections ------------------------------------------------------------------------- */

static int axis_params(const tersa_h5dset *d, int i, const int64_t *start, const int64_t *count,
                       const int64_t *step, tersa__h5sel *s)
{
    int64_t st = step ? step[i] : 1, a = start ? start[i] : 0, dim = d->shape[i];
    if (st < 1 || a < 0 || a > dim)
        return tersa_error_set(TERSA_ERR_RANGE,
                               "h5 %s %s: axis %d: start %" PRId64 " / step %" PRId64
                               " outside the extent %" PRId64,
                               d->fname, d->dname, i, a, st, dim);
    int64_t n = count ? count[i] : (a < dim ? (dim - a + st - 1) / st : 0);
    if (n < 0 || (n > 0 && (n - 1 > (dim - 1 - a) / st)))
        return tersa_error_set(TERSA_ERR_RANGE,
                               "h5 %s %s: axis %d: %" PRId64 " indices from %" PRId64 " by %" PRId64
                               " run past the extent %" PRId64,
                               d->fname, d->dname, i, n, a, st, dim);
    s->start[i] = a;
    s->count[i] = n;
    s->step[i] = st;
    return 0;
}

/* The pieces of axis i, one per chunk holding at least one selected index. */
static int axis_segments(const tersa_h5dset *d, int i, tersa__h5sel *s)
{
    int64_t cs = d->chunk[i], a = s->start[i], st = s->step[i], n = s->count[i];
    int64_t last = a + (n - 1) * st, c0 = a / cs, c1 = last / cs;
    s->seg[i] = tersa__malloc((size_t)(c1 - c0 + 1) * sizeof *s->seg[i]);
    if (!s->seg[i])
        return tersa_error_set(TERSA_ERR_NOMEM, "h5: no memory for a selection");
    for (int64_t c = c0; c <= c1; c++) {
        int64_t lo = c * cs, hi = lo + cs, k0 = lo > a ? (lo - a + st - 1) / st : 0;
        int64_t k1 = (hi - 1 - a) / st;
        if (k1 > n - 1) k1 = n - 1;
        if (k0 > k1) continue;
        s->seg[i][s->nseg[i]++] = (tersa__h5seg){c, a + k0 * st - lo, k1 - k0 + 1, k0};
    }
    return 0;
}

int tersa__h5sel_init(const tersa_h5dset *d, const int64_t *start, const int64_t *count,
                      const int64_t *step, tersa__h5sel *s)
{
    memset(s, 0, sizeof *s);
    s->rank = d->rank;
    int64_t items = 1;
    for (int i = 0; i < d->rank; i++) {
        TERSA_TRY(axis_params(d, i, start, count, step, s));
        if (!tersa__mul_i64(items, s->count[i], &items))
            return tersa_error_set(TERSA_ERR_RANGE, "h5: selection size overflows");
    }
    s->nchunks = items > 0 && d->chunked ? 1 : 0;
    for (int i = 0; i < d->rank && s->nchunks > 0; i++) {
        TERSA_TRY(axis_segments(d, i, s));
        s->nchunks *= s->nseg[i];
    }
    return 0;
}

void tersa__h5sel_free(tersa__h5sel *s)
{
    for (int i = 0; i < H5R; i++) tersa__free(s->seg[i]);
    memset(s, 0, sizeof *s);
}

void tersa__h5sel_chunk(const tersa_h5dset *d, const tersa__h5sel *s, int64_t j, uint8_t *ubuf,
                        int64_t *c, tersa__h5box *box)
{
    int64_t ustr[H5R], off = 0;
    tersa__h5_cstrides(s->rank, s->count, d->item, ustr);
    box->rank = s->rank;
    box->item = d->item;
    box->stream = s->stream;
    for (int i = s->rank - 1; i >= 0; i--) {
        const tersa__h5seg *g = &s->seg[i][j % s->nseg[i]];
        j /= s->nseg[i];
        c[i] = g->c;
        box->dims[i] = d->chunk[i];
        box->lo[i] = g->lo;
        box->n[i] = g->n;
        box->step[i] = s->step[i];
        box->bstr[i] = ustr[i];
        off += g->out * ustr[i];
    }
    box->buf = ubuf + off;
}

int64_t tersa_h5_select_nbytes(const tersa_h5dset *d, const int64_t *start, const int64_t *count,
                               const int64_t *step)
{
    tersa__h5sel s;
    if (!d)
        return tersa_error_set(TERSA_ERR_PARAM, "h5_select_nbytes: NULL handle");
    int64_t n = d->item;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < d->rank; i++) {
        TERSA_TRY(axis_params(d, i, start, count, step, &s));
        if (!tersa__mul_i64(n, s.count[i], &n))
            return tersa_error_set(TERSA_ERR_RANGE, "h5: selection size overflows");
    }
    return n;
}

/* ---- One chunk -------------------------------------------------------------------------- */

int64_t tersa__h5_chunk_bytes(const tersa_h5dset *d)
{
    int64_t n = d->item;
    for (int i = 0; i < d->rank; i++) n *= d->chunk[i];
    return n;
}

/* Fletcher32 after Blosc2: check the last 4 bytes (HDF5 also accepts the old byte order). */
static int check_fletcher(const uint8_t *p, size_t len)
{
    if (len < 4)
        return tersa_error_set(TERSA_ERR_CORRUPT, "Fletcher32: chunk of %zu bytes", len);
    uint32_t want = tersa__ld32(p + len - 4), got = tersa__h5_fletcher32(p, len - 4);
    uint32_t swapped = ((got & 0x00ff00ffu) << 8) | ((got >> 8) & 0x00ff00ffu);
    if (want != got && want != swapped)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "Fletcher32 checksum %08" PRIx32 " differs from the "
                               "stored %08" PRIx32,
                               got, want);
    return 0;
}

/* The chunk's bytes: the caller's copy, one whole pread into the worker's buffer, or (a small
 * part of a large chunk) a lazily filled zeroed image (*lazy set: scrub it after use). */
static int open_src(tersa_h5dset *d, tersa__h5worker *w, const tersa__h5ref *ref, uint8_t *raw,
                    bool small, tersa__h5src *src, bool *lazy)
{
    memset(src, 0, sizeof *src);
    src->fd = -1;
    src->len = (size_t)ref->size;
    src->nread = &w->bytes_read;
    *lazy = false;
    if (raw) {
        src->buf = raw;
        w->bytes_read += (int64_t)ref->size;
        return 0;
    }
    src->pos = d->base + (int64_t)ref->addr;
    if (small && ref->size >= H5_LAZY_MIN) {
        TERSA_TRY(tersa__h5_grow_zeroed(&w->lazy, &w->lazycap, src->len));
        src->buf = w->lazy;
        src->fd = d->fd;
        *lazy = true;
        return 0;
    }
    TERSA_TRY(tersa__h5_grow(&w->stored, &w->storedcap, src->len));
    src->buf = w->stored;
    src->fd = d->fd;
    int rc = tersa__h5src_need(src, 0, (int64_t)src->len);
    src->fd = -1;
    return rc;
}

/* Lazy reading pays off when the box is a small part of the chunk. */
static bool small_part(const tersa__h5box *b)
{
    double part = 1.0;
    for (int i = 0; i < b->rank; i++) part *= (double)b->n[i] / (double)b->dims[i];
    return part < 0.25;
}

static int decode_stored(tersa_h5dset *d, tersa__h5worker *w, const tersa__h5ref *ref,
                         tersa__h5src *src, const tersa__h5box *box)
{
    bool skip_fl = d->fletcher && (ref->mask & (1u << (d->findex + 1)));
    if (d->fletcher && !skip_fl) {
        TERSA_TRY(check_fletcher(src->buf, src->len));
        src->len -= 4;
    }
    if (ref->mask & (1u << d->findex)) { /* stored unfiltered (optional filter failed) */
        if ((int64_t)src->len < tersa__h5_chunk_bytes(d))
            return tersa_error_set(TERSA_ERR_CORRUPT,
                                   "unfiltered chunk of %zu bytes, %" PRId64 " expected", src->len,
                                   tersa__h5_chunk_bytes(d));
        tersa__h5_corder_copy(box, src->buf, true);
        return 1;
    }
    tersa__h5frame f;
    int rc = tersa__h5frame_open(w, src, &f);
    if (rc >= 0) rc = tersa__h5frame_read(w, src, &f, box);
    tersa__h5frame_close(&f);
    return rc;
}

int tersa__h5_read_chunk(tersa_h5dset *d, tersa__h5worker *w, const tersa__h5ref *ref,
                         uint8_t *raw, const tersa__h5box *box)
{
    if (ref->state == 2) {
        tersa__h5_fill_box(box, d->fill);
        return 2;
    }
    tersa__h5src src;
    bool lazy;
    int rc = open_src(d, w, ref, raw, !d->fletcher && small_part(box), &src, &lazy);
    if (rc >= 0) rc = decode_stored(d, w, ref, &src, box);
    if (lazy) tersa__h5src_scrub(&src);
    return rc;
}

/* ---- Batches ---------------------------------------------------------------------------- */

typedef struct h5job {
    int64_t c[H5R];
    tersa__h5box box;
    tersa__h5ref ref;
    uint8_t *raw;
    int rc;
    char err[H5_ERRLEN];
} h5job;

typedef struct h5run {
    tersa_h5dset *d;
    h5job *jobs;
} h5run;

static int read_task(void *arg, int t, int worker)
{
    h5run *r = arg;
    h5job *j = &r->jobs[t];
    j->rc = tersa__h5_read_chunk(r->d, &r->d->w[worker], &j->ref, j->raw, &j->box);
    if (j->rc < 0) snprintf(j->err, sizeof j->err, "%s", tersa_error_detail());
    return 0; /* errors are reported per chunk, in order, after the batch */
}

/* Run n jobs: chunks in parallel, or (fewer chunks than workers) blocks in parallel. */
int tersa__h5_run(tersa_h5dset *d, int n, tersa_task_fn fn, void *arg)
{
    bool chunk_par = d->nw > 1 && n >= d->nw;
    d->par_chunks = chunk_par;
    tersa_dctx_set_pool(d->w[0].dctx, chunk_par ? NULL : d->pool);
    d->w[0].block_threads = !chunk_par && d->nw > 1;
    d->w[0].peers = d->w;
    d->w[0].npeers = d->nw;
    d->w[0].pool = d->pool;
    int64_t before[256];
    for (int i = 0; i < d->nw; i++) {
        tersa_dstats s = {sizeof s, 0, 0, 0};
        tersa_dctx_stats(d->w[i].dctx, &s);
        before[i] = s.blocks_decoded;
    }
    int rc = chunk_par ? tersa_pool_run(d->pool, d->nw, n, fn, arg) : 0;
    for (int t = 0; !chunk_par && t < n && rc >= 0; t++) rc = fn(arg, t, 0);
    for (int i = 0; i < d->nw; i++) {
        tersa_dstats s = {sizeof s, 0, 0, 0};
        tersa_dctx_stats(d->w[i].dctx, &s);
        d->st.blocks_decoded += s.blocks_decoded - before[i];
        d->st.bytes_read += d->w[i].bytes_read;
        d->st.blocks_total += d->w[i].blocks_total;
        d->w[i].bytes_read = d->w[i].blocks_total = 0;
    }
    return rc;
}

/* Look up (and without pread, fetch) the chunks of jobs [0, n). */
static int prepare_jobs(tersa_h5dset *d, const tersa__h5sel *s, int64_t first, int n,
                        uint8_t *dst, h5job *jobs)
{
    for (int k = 0; k < n; k++) {
        h5job *j = &jobs[k];
        memset(j, 0, offsetof(h5job, err) + 1);
        tersa__h5sel_chunk(d, s, first + k, dst, j->c, &j->box);
        TERSA_TRY(tersa__h5_lookup(d, j->c, &j->ref));
        if (j->ref.state == 1 && !d->addr_mode)
            TERSA_TRY(tersa__h5_fetch_raw(d, j->c, &j->ref, &j->raw));
    }
    return 0;
}

static int finish_jobs(tersa_h5dset *d, h5job *jobs, int n)
{
    int rc = 0;
    for (int k = 0; k < n; k++) {
        tersa__free(jobs[k].raw);
        jobs[k].raw = NULL;
        if (jobs[k].rc < 0 && rc == 0) rc = tersa__h5_fail_chunk(d, jobs[k].c, jobs[k].rc, jobs[k].err);
        d->st.chunks_read += jobs[k].rc == 0 || jobs[k].rc == 1;
        d->st.chunks_raw += jobs[k].rc == 1;
        d->st.chunks_fill += jobs[k].rc == 2;
    }
    return rc;
}

static int read_chunks(tersa_h5dset *d, const tersa__h5sel *s, uint8_t *dst)
{
    int batch = d->nw * H5_BATCH_PER_WORKER;
    h5job *jobs = tersa__calloc((size_t)batch, sizeof *jobs);
    if (!jobs)
        return tersa_error_set(TERSA_ERR_NOMEM, "h5: no memory for read jobs");
    h5run run = {d, jobs};
    int rc = 0;
    for (int64_t first = 0; first < s->nchunks && rc >= 0; first += batch) {
        int n = s->nchunks - first < batch ? (int)(s->nchunks - first) : batch;
        rc = prepare_jobs(d, s, first, n, dst, jobs);
        if (rc >= 0) rc = tersa__h5_run(d, n, read_task, &run);
        int frc = rc >= 0 ? finish_jobs(d, jobs, n) : 0;
        if (rc < 0)
            for (int k = 0; k < n; k++) {
                tersa__free(jobs[k].raw);
                jobs[k].raw = NULL;
            }
        if (rc >= 0) rc = frc;
    }
    tersa__free(jobs);
    return rc;
}

/* ---- The HDF5 pipeline path ------------------------------------------------------------- */

/* Hyperslab file and memory spaces for a selection (both closed by the caller). */
int tersa__h5_spaces(const tersa_h5dset *d, const tersa__h5sel *s, hid_t *fs, hid_t *ms)
{
    hsize_t a[H5R], n[H5R], st[H5R];
    *fs = H5Dget_space(d->dset);
    for (int i = 0; i < d->rank; i++) {
        a[i] = (hsize_t)s->start[i];
        n[i] = (hsize_t)s->count[i];
        st[i] = (hsize_t)s->step[i];
    }
    *ms = d->rank ? H5Screate_simple(d->rank, n, NULL) : H5Screate(H5S_SCALAR);
    if (*fs < 0 || *ms < 0 ||
        (d->rank && H5Sselect_hyperslab(*fs, H5S_SELECT_SET, a, st, n, NULL) < 0))
        return tersa_error_set(TERSA_ERR_IO, "h5 %s %s: cannot build the dataspaces", d->fname,
                               d->dname);
    return 0;
}

static int read_pipeline(tersa_h5dset *d, const tersa__h5sel *s, void *dst)
{
    hid_t fs = -1, ms = -1;
    if (d->findex >= 0) tersa__h5_ensure_filter();
    int rc = tersa__h5_spaces(d, s, &fs, &ms);
    if (rc >= 0 && H5Dread(d->dset, d->type, ms, fs, H5P_DEFAULT, dst) < 0)
        rc = tersa_error_set(TERSA_ERR_IO, "h5 %s %s: H5Dread failed", d->fname, d->dname);
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    return rc;
}

int64_t tersa_h5_read(tersa_h5dset *d, const int64_t *start, const int64_t *count,
                      const int64_t *step, void *dst, size_t dstcap)
{
    tersa__h5sel s;
    if (!d || !dst)
        return tersa_error_set(TERSA_ERR_PARAM, "h5_read: NULL handle or buffer");
    int64_t nbytes = tersa_h5_select_nbytes(d, start, count, step);
    TERSA_TRY(nbytes);
    if ((uint64_t)nbytes > dstcap)
        return tersa_error_set(TERSA_ERR_DST_TOO_SMALL,
                               "h5_read: %" PRId64 " bytes selected, the "
                               "buffer has %zu",
                               nbytes, dstcap);
    if (nbytes == 0) return 0;
    int rc = tersa__h5sel_init(d, start, count, step, &s);
    s.stream = nbytes >= H5_STREAM_MIN;
    if (rc >= 0 && d->path == TERSA_H5_PATH_DIRECT) {
        if (d->writable) H5Dflush(d->dset); /* chunks HDF5 still caches reach the file */
        rc = tersa__h5_prepare_lookups(d);
        if (rc >= 0) rc = read_chunks(d, &s, dst);
    } else if (rc >= 0) {
        rc = read_pipeline(d, &s, dst);
    }
    tersa__h5sel_free(&s);
    return rc < 0 ? rc : nbytes;
}

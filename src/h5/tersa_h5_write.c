/* Writing Blosc2 datasets with direct chunk I/O: creating the dataset with the cd_values the
 * official set_local stores, writing hyperslabs (chunks a write covers partly are read, merged
 * and rewritten) and appending along axis 0. Chunks are compressed in parallel by the workers;
 * only the calling thread calls HDF5 (lookups, H5Dread_chunk, H5Dwrite_chunk). */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "h5/tersa_h5_internal.h"

#define H5_WBATCH_PER_WORKER 2

void tersa_h5_params_init(tersa_h5_params *p)
{
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->clevel = 5;
    p->filter = TERSA_FILTER_SHUFFLE;
    p->codec = TERSA_CODEC_BLOSCLZ;
    p->type = H5T_NATIVE_UINT8;
    p->lcpl = H5P_DEFAULT;
}

/* ---- Creating --------------------------------------------------------------------------- */

static int check_shapes(const tersa_h5_params *p, hsize_t *dims, hsize_t *maxd, hsize_t *chunk)
{
    if (!p->shape)
        return tersa_error_set(TERSA_ERR_PARAM, "h5 params: no shape");
    for (int i = 0; i < p->rank; i++) {
        int64_t s = p->shape[i], m = p->maxshape ? p->maxshape[i] : s;
        if (s < 0 || (m != -1 && m < s) || p->chunkshape[i] < 1)
            return tersa_error_set(TERSA_ERR_PARAM,
                                   "h5 params: axis %d: shape %" PRId64 ", maxshape %" PRId64
                                   ", chunk %" PRId64 " invalid",
                                   i, s, m, p->chunkshape[i]);
        dims[i] = (hsize_t)s;
        maxd[i] = m == -1 ? H5S_UNLIMITED : (hsize_t)m;
        chunk[i] = (hsize_t)p->chunkshape[i];
    }
    return 0;
}

static hid_t make_dcpl(const tersa_h5_params *p, const hsize_t *chunk)
{
    unsigned cd[TERSA_H5_MAX_CD];
    size_t ncd = 0;
    if (tersa_h5_cd_values(p, cd, &ncd) < 0) return -1;
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl < 0 || H5Pset_chunk(dcpl, p->rank, chunk) < 0 ||
        H5Pset_filter(dcpl, TERSA_H5_FILTER_ID, H5Z_FLAG_OPTIONAL, ncd, cd) < 0 ||
        (p->fletcher32 && H5Pset_fletcher32(dcpl) < 0)) {
        if (dcpl >= 0) H5Pclose(dcpl);
        tersa_error_set(TERSA_ERR_IO, "h5 create: cannot set up the dataset creation properties");
        return -1;
    }
    return dcpl;
}

tersa_h5dset *tersa_h5_create(hid_t loc, const char *name, const tersa_h5_params *p)
{
    hsize_t dims[H5R], maxd[H5R], chunk[H5R];
    unsigned cd[TERSA_H5_MAX_CD];
    size_t ncd;
    if (!name || tersa_h5_cd_values(p, cd, &ncd) < 0 || check_shapes(p, dims, maxd, chunk) < 0) {
        if (!name)
            tersa_error_set(TERSA_ERR_PARAM, "h5 create: NULL name");
        return NULL;
    }
    /* Registered before the pipeline is declared: HDF5 1.10 writes an unreadable filter message
     * when filter 32026 is declared unregistered and registered before the file is closed
     * (which pipeline reads and writes would do). */
    tersa__h5_ensure_filter();
    hid_t dcpl = make_dcpl(p, chunk);
    if (dcpl < 0) return NULL;
    hid_t space = H5Screate_simple(p->rank, dims, maxd);
    hid_t ds = space < 0 ? -1 : H5Dcreate2(loc, name, p->type, space, p->lcpl, dcpl, H5P_DEFAULT);
    tersa_h5dset *d = NULL;
    if (ds < 0)
        tersa_error_set(TERSA_ERR_IO, "h5 create: H5Dcreate2 of %s failed", name);
    else d = tersa_h5_open(ds);
    if (ds >= 0) H5Dclose(ds);
    if (space >= 0) H5Sclose(space);
    H5Pclose(dcpl);
    return d;
}

/* ---- Writing chunks --------------------------------------------------------------------- */

typedef struct wjob {
    int64_t c[H5R];
    tersa__h5box box;
    tersa__h5ref ref;
    bool full;      /* the write covers every element of the chunk inside the extent */
    uint8_t *raw;   /* stored bytes of a partly covered chunk (no pread) */
    int decoded;    /* what reading the old chunk did (0, 1, 2), -1 if not read */
    int rc;
    tersa__h5out out; /* the frame (buffer kept from batch to batch) */
    char err[H5_ERRLEN];
} wjob;

/* One batch being compressed while worker 0 (the calling thread, the only one that calls
 * HDF5) first stores the frames of the batch before it. */
typedef struct wrun {
    tersa_h5dset *d;
    wjob *jobs;
    wjob *prev;     /* the previous batch, not stored yet (nprev jobs) */
    int nprev;
    int store_rc;
} wrun;

/* The whole chunk as a box over a C-order buffer. */
static void whole_box(const tersa_h5dset *d, uint8_t *buf, tersa__h5box *b)
{
    memset(b, 0, sizeof *b);
    b->rank = d->rank;
    b->item = d->item;
    b->buf = buf;
    for (int i = 0; i < d->rank; i++) {
        b->dims[i] = b->n[i] = d->chunk[i];
        b->step[i] = 1;
    }
    tersa__h5_cstrides(b->rank, b->dims, b->item, b->bstr);
}

static bool all_zero(const uint8_t *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

static bool inside_extent(const tersa_h5dset *d, const wjob *j)
{
    for (int i = 0; i < d->rank; i++)
        if ((j->c[i] + 1) * d->chunk[i] > d->shape[i]) return false;
    return true;
}

/* The chunk's new contents: old contents (or fill value) with the written part copied over, in
 * w->merge; or, for a whole chunk that lies contiguously in the source, the source itself. */
static int merge_chunk(tersa_h5dset *d, tersa__h5worker *w, wjob *j, int64_t cb,
                       const uint8_t **data)
{
    tersa__h5box whole;
    int64_t off, len;
    j->decoded = -1;
    bool padless = j->full && inside_extent(d, j);
    if (padless && tersa__h5_box_contiguous(&j->box, &off, &len) && off == 0 && len == cb) {
        *data = j->box.buf;
        return 0;
    }
    TERSA_TRY(tersa__h5_grow(&w->merge, &w->mergecap, (size_t)cb));
    whole_box(d, w->merge, &whole);
    if (!j->full && j->ref.state == 1) {
        j->decoded = tersa__h5_read_chunk(d, w, &j->ref, j->raw, &whole);
        TERSA_TRY(j->decoded);
    } else if (!padless && all_zero(d->fill, d->item)) {
        memset(w->merge, 0, (size_t)cb);
    } else if (!padless) {
        tersa__h5_fill_box(&whole, d->fill);
    }
    tersa__h5_corder_copy(&j->box, w->merge, false);
    *data = w->merge;
    return 0;
}

static int add_fletcher(wjob *j)
{
    tersa__h5out *o = &j->out;
    TERSA_TRY(tersa__h5_grow(&o->buf, &o->cap, o->len + 4));
    tersa__st32(o->buf + o->len, tersa__h5_fletcher32(o->buf, o->len));
    o->len += 4;
    return 0;
}

static int store_batch(tersa_h5dset *d, wjob *jobs, int n);

static int write_task(void *arg, int t, int worker)
{
    wrun *r = arg;
    tersa_h5dset *d = r->d;
    wjob *j = &r->jobs[t];
    if (worker == 0 && r->nprev) { /* the calling thread: store the previous batch first */
        r->store_rc = store_batch(d, r->prev, r->nprev);
        r->nprev = 0;
        if (r->store_rc < 0) return r->store_rc;
    }
    tersa__h5worker *w = &d->w[worker];
    int64_t cb = tersa__h5_chunk_bytes(d);
    const uint8_t *data = NULL;
    j->rc = merge_chunk(d, w, j, cb, &data);
    if (j->rc >= 0)
        j->rc = tersa__h5frame_build(w, &d->cd, data, (size_t)cb,
                                     d->par_chunks ? NULL : d->pool, &j->out);
    if (j->rc >= 0 && d->fletcher) j->rc = add_fletcher(j);
    if (j->rc < 0) snprintf(j->err, sizeof j->err, "%s", tersa_error_detail());
    return 0;
}

static bool covers_chunk(const tersa_h5dset *d, const wjob *j)
{
    for (int i = 0; i < d->rank; i++) {
        int64_t lo = j->c[i] * d->chunk[i], valid = d->shape[i] - lo;
        if (valid > d->chunk[i]) valid = d->chunk[i];
        if (j->box.n[i] != valid) return false;
    }
    return true;
}

static int prepare_wjobs(tersa_h5dset *d, const tersa__h5sel *s, int64_t first, int n,
                         const uint8_t *src, wjob *jobs)
{
    for (int k = 0; k < n; k++) {
        wjob *j = &jobs[k];
        tersa__h5out keep = j->out;
        memset(j, 0, offsetof(wjob, err) + 1);
        j->out = keep;
        j->out.len = 0;
        tersa__h5sel_chunk(d, s, first + k, (uint8_t *)src, j->c, &j->box);
        j->full = covers_chunk(d, j);
        if (j->full) continue;
        TERSA_TRY(tersa__h5_lookup(d, j->c, &j->ref));
        if (j->ref.state == 1 && !d->addr_mode)
            TERSA_TRY(tersa__h5_fetch_raw(d, j->c, &j->ref, &j->raw));
    }
    return 0;
}

static int store_wjob(tersa_h5dset *d, wjob *j)
{
    hsize_t off[H5R];
    for (int i = 0; i < d->rank; i++) off[i] = (hsize_t)(j->c[i] * d->chunk[i]);
    if (H5Dwrite_chunk(d->dset, H5P_DEFAULT, 0, off, j->out.len, j->out.buf) < 0)
        return tersa__h5_fail_chunk(d, j->c, TERSA_ERR_IO, "H5Dwrite_chunk failed");
    tersa__h5_forget(d, j->c);
    d->st.chunks_written++;
    d->st.bytes_written += (int64_t)j->out.len;
    d->st.chunks_read += j->decoded == 0 || j->decoded == 1;
    d->st.chunks_raw += j->decoded == 1;
    d->st.chunks_fill += j->decoded == 2;
    return 0;
}

/* Store a compressed batch's frames in order; the first failed chunk names the error. Frame
 * buffers are kept for the next batch; stored bytes read for merging are released. */
static int store_batch(tersa_h5dset *d, wjob *jobs, int n)
{
    int rc = 0;
    for (int k = 0; k < n; k++) {
        wjob *j = &jobs[k];
        if (rc >= 0 && j->rc < 0) rc = tersa__h5_fail_chunk(d, j->c, j->rc, j->err);
        if (rc >= 0) rc = store_wjob(d, j);
        tersa__free(j->raw);
        j->raw = NULL;
    }
    return rc;
}

static void free_wjobs(wjob *jobs, int n)
{
    for (int k = 0; k < n; k++) {
        tersa__free(jobs[k].raw);
        tersa__free(jobs[k].out.buf);
    }
    tersa__free(jobs);
}

/* Batches of chunks, two job sets in turn: while the workers compress batch k, the calling
 * thread stores batch k - 1 (H5Dwrite_chunk) before it joins them. */
static int write_chunks(tersa_h5dset *d, const tersa__h5sel *s, const uint8_t *src)
{
    int batch = d->nw * H5_WBATCH_PER_WORKER;
    wjob *jobs = tersa__calloc(2 * (size_t)batch, sizeof *jobs);
    if (!jobs)
        return tersa_error_set(TERSA_ERR_NOMEM, "h5: no memory for write jobs");
    wrun run = {d, jobs, NULL, 0, 0};
    int rc = 0, k = 0;
    for (int64_t first = 0; first < s->nchunks && rc >= 0; first += batch, k ^= 1) {
        int n = s->nchunks - first < batch ? (int)(s->nchunks - first) : batch;
        run.jobs = jobs + k * batch;
        rc = prepare_wjobs(d, s, first, n, src, run.jobs);
        if (rc >= 0) rc = tersa__h5_run(d, n, write_task, &run);
        if (rc >= 0 && run.nprev) rc = store_batch(d, run.prev, run.nprev); /* worker 0 idle */
        if (rc >= 0) rc = run.store_rc;
        run.prev = run.jobs;
        run.nprev = n;
    }
    if (rc >= 0 && run.nprev) rc = store_batch(d, run.prev, run.nprev);
    tersa__h5_chunks_added(d);
    free_wjobs(jobs, 2 * batch);
    return rc < 0 ? rc : 0;
}

static int write_pipeline(tersa_h5dset *d, const tersa__h5sel *s, const void *src)
{
    hid_t fs = -1, ms = -1;
    if (d->findex >= 0) tersa__h5_ensure_filter();
    int rc = tersa__h5_spaces(d, s, &fs, &ms);
    if (rc >= 0 && H5Dwrite(d->dset, d->type, ms, fs, H5P_DEFAULT, src) < 0)
        rc = tersa_error_set(TERSA_ERR_IO, "h5 %s %s: H5Dwrite failed", d->fname, d->dname);
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    return rc;
}

int64_t tersa_h5_write(tersa_h5dset *d, const int64_t *start, const int64_t *count,
                       const int64_t *step, const void *src, size_t srclen)
{
    tersa__h5sel s;
    if (!d || (!src && srclen))
        return tersa_error_set(TERSA_ERR_PARAM, "h5_write: NULL argument");
    if (!d->writable)
        return tersa_error_set(TERSA_ERR_STATE, "h5 %s %s: the file is open read-only", d->fname,
                               d->dname);
    int64_t nbytes = tersa_h5_select_nbytes(d, start, count, step);
    TERSA_TRY(nbytes);
    if ((uint64_t)nbytes != srclen)
        return tersa_error_set(TERSA_ERR_PARAM,
                               "h5_write: the selection holds %" PRId64 " bytes, "
                               "the source %zu",
                               nbytes, srclen);
    if (nbytes == 0) return 0;
    int rc = tersa__h5sel_init(d, start, count, step, &s);
    int64_t nchunks = s.nchunks;
    if (rc >= 0 && d->path == TERSA_H5_PATH_DIRECT) rc = tersa__h5_prepare_lookups(d);
    if (rc >= 0 && d->path == TERSA_H5_PATH_DIRECT) rc = write_chunks(d, &s, src);
    else if (rc >= 0) rc = write_pipeline(d, &s, src);
    tersa__h5sel_free(&s);
    return rc < 0 ? rc : nchunks;
}

/* ---- Extents ---------------------------------------------------------------------------- */

int tersa_h5_set_extent(tersa_h5dset *d, const int64_t *shape)
{
    hsize_t dims[H5R];
    if (!d || !shape)
        return tersa_error_set(TERSA_ERR_PARAM, "h5_set_extent: NULL argument");
    for (int i = 0; i < d->rank; i++) {
        if (shape[i] < 0 || (d->maxshape[i] >= 0 && shape[i] > d->maxshape[i]))
            return tersa_error_set(TERSA_ERR_RANGE,
                                   "h5 %s %s: axis %d: extent %" PRId64 " outside "
                                   "0..maxshape",
                                   d->fname, d->dname, i, shape[i]);
        dims[i] = (hsize_t)shape[i];
    }
    if (H5Dset_extent(d->dset, dims) < 0)
        return tersa_error_set(TERSA_ERR_IO, "h5 %s %s: H5Dset_extent failed", d->fname, d->dname);
    return tersa__h5_refresh_extent(d);
}

int64_t tersa_h5_append(tersa_h5dset *d, const void *src, size_t srclen)
{
    int64_t row = d ? d->item : 0, shape[H5R], start[H5R] = {0};
    if (!d || d->rank < 1 || (!src && srclen))
        return tersa_error_set(TERSA_ERR_PARAM, "h5_append: NULL argument or a scalar dataset");
    for (int i = 1; i < d->rank; i++) row *= d->shape[i];
    if (row <= 0 || srclen % (uint64_t)row)
        return tersa_error_set(TERSA_ERR_PARAM,
                               "h5_append: %zu bytes are not whole rows of %" PRId64 " bytes",
                               srclen, row);
    memcpy(shape, d->shape, sizeof(int64_t) * (size_t)d->rank);
    start[0] = shape[0];
    shape[0] += (int64_t)(srclen / (uint64_t)row);
    TERSA_TRY(tersa_h5_set_extent(d, shape));
    int64_t count[H5R];
    memcpy(count, shape, sizeof(int64_t) * (size_t)d->rank);
    count[0] = shape[0] - start[0];
    TERSA_TRY(tersa_h5_write(d, start, count, NULL, src, srclen));
    return d->shape[0];
}

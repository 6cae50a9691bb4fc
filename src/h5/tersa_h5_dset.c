/* The dataset handle: what is read once per open dataset (layout, datatype size, pipeline,
 * cd_values, fill value, file descriptor), threads, statistics, and the chunk lookup cache. */
#include <inttypes.h>
#include <stdio.h>

#include "h5/tersa_h5_internal.h"

#define H5_CD_CAP 48               /* cd_values read from a pipeline */
#define H5_CACHE_MAX (1 << 22)     /* largest chunk grid whose lookups are cached */
#define H5_ADDR_MAX 1024           /* most stored chunks for address lookups (O(n) each) */

/* ---- Names and errors ------------------------------------------------------------------ */

static char *name_of(hid_t id, bool file)
{
    ssize_t n = file ? H5Fget_name(id, NULL, 0) : H5Iget_name(id, NULL, 0);
    char *s = tersa__malloc(n > 0 ? (size_t)n + 1 : 2);
    if (!s) return NULL;
    s[0] = '?';
    s[1] = '\0';
    if (n > 0) {
        if (file) H5Fget_name(id, s, (size_t)n + 1);
        else H5Iget_name(id, s, (size_t)n + 1);
    }
    return s;
}

int tersa__h5_fail_chunk(const tersa_h5dset *d, const int64_t *c, int code, const char *detail)
{
    char where[200] = "";
    size_t k = 0;
    for (int i = 0; c && i < d->rank && k + 24 < sizeof where; i++)
        k += (size_t)snprintf(where + k, sizeof where - k, "%s%" PRId64, i ? ", " : "", c[i]);
    if (c)
        return tersa_error_set(code, "h5 %s %s chunk [%s]: %s", d->fname, d->dname, where,
                               detail && *detail ? detail : tersa_error_message(code));
    return tersa_error_set(code, "h5 %s %s: %s", d->fname, d->dname,
                           detail && *detail ? detail : tersa_error_message(code));
}

/* ---- Opening ---------------------------------------------------------------------------- */

int tersa__h5_refresh_extent(tersa_h5dset *d)
{
    hsize_t dims[H5R], maxd[H5R];
    hid_t space = H5Dget_space(d->dset);
    int r = space < 0 ? -1 : H5Sget_simple_extent_dims(space, dims, maxd);
    if (space >= 0) H5Sclose(space);
    if (r < 0 || r > H5R)
        return tersa_error_set(TERSA_ERR_IO, "h5 %s %s: cannot read the dataspace", d->fname,
                               d->dname);
    d->rank = r;
    for (int i = 0; i < r; i++) {
        d->shape[i] = (int64_t)dims[i];
        d->maxshape[i] = maxd[i] == H5S_UNLIMITED ? -1 : (int64_t)maxd[i];
    }
    tersa__h5_forget(d, NULL);
    d->nstored = -1; /* a smaller extent drops chunks */
    return 0;
}

static int read_type(tersa_h5dset *d)
{
    d->type = H5Dget_type(d->dset);
    if (d->type < 0)
        return tersa_error_set(TERSA_ERR_IO, "h5 %s %s: no datatype", d->fname, d->dname);
    htri_t vs = H5Tis_variable_str(d->type);
    if (H5Tget_class(d->type) == H5T_VLEN || vs != 0 || H5Tdetect_class(d->type, H5T_VLEN) != 0)
        return tersa_error_set(TERSA_ERR_UNSUPPORTED,
                               "h5 %s %s: variable-length datatypes are not "
                               "supported",
                               d->fname, d->dname);
    d->item = (int64_t)H5Tget_size(d->type);
    if (d->item <= 0)
        return tersa_error_set(TERSA_ERR_IO, "h5 %s %s: datatype size 0", d->fname, d->dname);
    return 0;
}

/* The pipeline: where 32026 sits, its cd_values, and a Fletcher32 right after it. */
static int read_filters(tersa_h5dset *d)
{
    d->findex = -1;
    d->nfilters = H5Pget_nfilters(d->dcpl);
    for (int i = 0; i < d->nfilters; i++) {
        unsigned flags = 0, cd[H5_CD_CAP];
        size_t n = H5_CD_CAP;
        H5Z_filter_t id = H5Pget_filter2(d->dcpl, (unsigned)i, &flags, &n, cd, 0, NULL, NULL);
        if (id == TERSA_H5_FILTER_ID && d->findex < 0) {
            d->findex = i;
            TERSA_TRY(tersa__h5cd_parse(cd, n < H5_CD_CAP ? n : H5_CD_CAP, &d->cd));
        } else if (id == H5Z_FILTER_FLETCHER32 && d->findex >= 0 && i == d->findex + 1) {
            d->fletcher = true;
        }
    }
    bool direct = d->chunked && d->findex == 0 &&
                  (d->nfilters == 1 || (d->nfilters == 2 && d->fletcher));
    d->path = direct ? TERSA_H5_PATH_DIRECT : TERSA_H5_PATH_PIPELINE;
    return 0;
}

static int read_layout(tersa_h5dset *d)
{
    hsize_t cdims[H5R];
    d->dcpl = H5Dget_create_plist(d->dset);
    if (d->dcpl < 0)
        return tersa_error_set(TERSA_ERR_IO, "h5 %s %s: no creation property list", d->fname,
                               d->dname);
    d->chunked = H5Pget_layout(d->dcpl) == H5D_CHUNKED;
    if (d->chunked) {
        if (H5Pget_chunk(d->dcpl, H5R, cdims) != d->rank)
            return tersa_error_set(TERSA_ERR_IO,
                                   "h5 %s %s: chunk rank differs from the dataset rank", d->fname,
                                   d->dname);
        for (int i = 0; i < d->rank; i++) d->chunk[i] = (int64_t)cdims[i];
    }
    d->fill = tersa__calloc(1, (size_t)d->item);
    if (!d->fill)
        return tersa_error_set(TERSA_ERR_NOMEM, "h5: no memory for the fill value");
    H5D_fill_value_t st = H5D_FILL_VALUE_UNDEFINED;
    if (H5Pfill_value_defined(d->dcpl, &st) >= 0 && st == H5D_FILL_VALUE_USER_DEFINED &&
        H5Pget_fill_value(d->dcpl, d->type, d->fill) < 0)
        return tersa_error_set(TERSA_ERR_IO, "h5 %s %s: cannot read the fill value", d->fname,
                               d->dname);
    return read_filters(d);
}

/* The sec2 driver's descriptor (pread), the userblock offset, and the access mode. */
static void read_file_access(tersa_h5dset *d)
{
    unsigned intent = 0;
    hsize_t ub = 0;
    d->fd = -1;
    if (H5Fget_intent(d->file, &intent) >= 0) d->writable = (intent & H5F_ACC_RDWR) != 0;
    hid_t fcpl = H5Fget_create_plist(d->file);
    if (fcpl >= 0 && H5Pget_userblock(fcpl, &ub) >= 0) d->base = (int64_t)ub;
    if (fcpl >= 0) H5Pclose(fcpl);
    hid_t fapl = H5Fget_access_plist(d->file);
    if (fapl < 0) return;
    void *handle = NULL;
    if (H5Pget_driver(fapl) == H5FD_SEC2 && H5Fget_vfd_handle(d->file, fapl, &handle) >= 0 &&
        handle)
        d->fd = *(int *)handle;
    H5Pclose(fapl);
}

static int open_parts(tersa_h5dset *d)
{
    d->file = H5Iget_file_id(d->dset);
    d->fname = d->file >= 0 ? name_of(d->file, true) : NULL;
    d->dname = name_of(d->dset, false);
    if (d->file < 0 || !d->fname || !d->dname)
        return tersa_error_set(TERSA_ERR_IO,
                               "h5: cannot get the file or the name of dataset %" PRId64,
                               (int64_t)d->dset);
    TERSA_TRY(tersa__h5_refresh_extent(d));
    TERSA_TRY(read_type(d));
    TERSA_TRY(read_layout(d));
    read_file_access(d);
    d->nthreads = 1;
    return tersa__h5_workers(d);
}

tersa_h5dset *tersa_h5_open(hid_t dset)
{
    if (H5Iget_type(dset) != H5I_DATASET) {
        tersa_error_set(TERSA_ERR_PARAM, "h5_open: id %" PRId64 " is not a dataset", (int64_t)dset);
        return NULL;
    }
    tersa_h5dset *d = tersa__calloc(1, sizeof *d);
    if (!d) {
        tersa_error_set(TERSA_ERR_NOMEM, "h5_open: no memory");
        return NULL;
    }
    d->file = d->type = d->dcpl = -1;
    d->fd = -1;
    d->nstored = -1;
    d->dset = dset;
    H5Iinc_ref(dset);
    d->st.struct_size = sizeof d->st;
    if (open_parts(d) < 0) {
        tersa_h5_close(d);
        return NULL;
    }
    return d;
}

tersa_h5dset *tersa_h5_open_path(const char *file, const char *path, unsigned flags)
{
    if (!file || !path || flags > TERSA_H5_RDWR) {
        tersa_error_set(TERSA_ERR_PARAM, "h5_open_path: NULL file or path, or unknown flags");
        return NULL;
    }
    hid_t f = -1, ds = -1;
    H5E_BEGIN_TRY
    {
        f = H5Fopen(file, flags == TERSA_H5_RDWR ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
        ds = f < 0 ? -1 : H5Dopen2(f, path, H5P_DEFAULT);
    }
    H5E_END_TRY;
    tersa_h5dset *d = NULL;
    if (f < 0)
        tersa_error_set(TERSA_ERR_IO, "h5: cannot open file %s", file);
    else if (ds < 0)
        tersa_error_set(TERSA_ERR_NOT_FOUND, "h5: no dataset %s in %s", path, file);
    else d = tersa_h5_open(ds);
    if (ds >= 0) H5Dclose(ds);
    if (d) d->own_file = true; /* the handle's file id keeps the file open */
    if (f >= 0) H5Fclose(f);
    return d;
}

void tersa_h5_close(tersa_h5dset *d)
{
    if (!d) return;
    for (int i = 0; i < d->nw; i++) tersa__h5worker_free(&d->w[i]);
    tersa__free(d->w);
    tersa_pool_free(d->own_pool);
    tersa__free(d->refs);
    tersa__free(d->fill);
    tersa__free(d->fname);
    tersa__free(d->dname);
    if (d->dcpl >= 0) H5Pclose(d->dcpl);
    if (d->type >= 0) H5Tclose(d->type);
    if (d->dset >= 0) H5Idec_ref(d->dset);
    if (d->file >= 0) H5Fclose(d->file);
    tersa__free(d);
}

hid_t tersa_h5_dataset_id(const tersa_h5dset *d) { return d ? d->dset : -1; }

/* ---- Information ------------------------------------------------------------------------ */

int64_t tersa__h5_grid(const tersa_h5dset *d, int axis)
{
    int64_t cs = d->chunk[axis] > 0 ? d->chunk[axis] : 1;
    return (d->shape[axis] + cs - 1) / cs;
}

int tersa_h5_get_info(const tersa_h5dset *d, tersa_h5_info *info)
{
    if (!d || !info || info->struct_size < sizeof *info)
        return tersa_error_set(TERSA_ERR_PARAM, "h5_get_info: NULL or struct_size too small");
    memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
    info->rank = d->rank;
    info->nchunks = d->chunked ? 1 : 0;
    for (int i = 0; i < d->rank; i++) {
        info->shape[i] = d->shape[i];
        info->maxshape[i] = d->maxshape[i];
        info->chunkshape[i] = d->chunked ? d->chunk[i] : 0;
        if (d->chunked) info->nchunks *= tersa__h5_grid(d, i);
    }
    info->itemsize = d->item;
    info->path = d->path;
    info->blosc2 = d->findex >= 0;
    info->filter_index = d->findex;
    info->fletcher32 = d->fletcher;
    info->nfilters = d->nfilters;
    info->ncd = (int)d->cd.n;
    memcpy(info->cd_values, d->cd.v, d->cd.n * sizeof(unsigned));
    info->pread = d->fd >= 0;
    return 0;
}

int tersa_h5_get_stats(const tersa_h5dset *d, tersa_h5_stats *stats)
{
    if (!d || !stats || stats->struct_size < sizeof *stats)
        return tersa_error_set(TERSA_ERR_PARAM, "h5_get_stats: NULL or struct_size too small");
    *stats = d->st;
    return 0;
}

void tersa_h5_reset_stats(tersa_h5dset *d)
{
    if (!d) return;
    memset(&d->st, 0, sizeof d->st);
    d->st.struct_size = sizeof d->st;
}

/* ---- Threads ---------------------------------------------------------------------------- */

int tersa__h5_workers(tersa_h5dset *d)
{
    int want = d->pool ? tersa_pool_nthreads(d->pool) : 1;
    if (d->nw == want) return 0;
    for (int i = 0; i < d->nw; i++) tersa__h5worker_free(&d->w[i]);
    tersa__free(d->w);
    d->nw = 0;
    d->w = tersa__calloc((size_t)want, sizeof *d->w);
    if (!d->w)
        return tersa_error_set(TERSA_ERR_NOMEM, "h5: no memory for %d workers", want);
    for (; d->nw < want; d->nw++) {
        int rc = tersa__h5worker_init(&d->w[d->nw]);
        if (rc < 0) {
            tersa__h5worker_free(&d->w[d->nw]);
            return rc;
        }
        d->w[d->nw].templates = true;
    }
    return 0;
}

int tersa_h5_set_nthreads(tersa_h5dset *d, int nthreads)
{
    if (!d || nthreads < 1 || nthreads > 256)
        return tersa_error_set(TERSA_ERR_PARAM, "h5_set_nthreads: NULL or nthreads outside 1..256");
    tersa_pool *p = NULL;
    if (nthreads > 1 && !(p = tersa_pool_create(nthreads))) return TERSA_ERR_THREAD;
    tersa_pool_free(d->own_pool);
    d->own_pool = p;
    d->pool = p;
    d->nthreads = nthreads;
    return tersa__h5_workers(d);
}

int tersa_h5_set_pool(tersa_h5dset *d, tersa_pool *pool)
{
    if (!d)
        return tersa_error_set(TERSA_ERR_PARAM, "h5_set_pool: NULL handle");
    if (!pool) return tersa_h5_set_nthreads(d, 1);
    tersa_pool_free(d->own_pool);
    d->own_pool = NULL;
    d->pool = pool;
    d->nthreads = tersa_pool_nthreads(pool);
    return tersa__h5_workers(d);
}

/* ---- Chunk lookups ---------------------------------------------------------------------- */

int64_t tersa__h5_chunk_index(const tersa_h5dset *d, const int64_t *c)
{
    int64_t lin = 0;
    for (int i = 0; i < d->rank; i++) lin = lin * tersa__h5_grid(d, i) + c[i];
    return lin;
}

void tersa__h5_forget(tersa_h5dset *d, const int64_t *c)
{
    if (!d->refs) return;
    if (c) {
        d->refs[tersa__h5_chunk_index(d, c)].state = 0;
        return;
    }
    tersa__free(d->refs);
    d->refs = NULL;
    d->nrefs = 0;
}

static void cache_alloc(tersa_h5dset *d)
{
    int64_t n = 1;
    for (int i = 0; i < d->rank; i++)
        if (!tersa__mul_i64(n, tersa__h5_grid(d, i), &n) || n > H5_CACHE_MAX) return;
    if (n <= 0) return;
    d->refs = tersa__calloc((size_t)n, sizeof *d->refs);
    d->nrefs = d->refs ? n : 0;
}

/* The number of stored chunks, counted once and kept while it can only grow past the limit:
 * HDF5 1.10 counts by visiting every chunk (milliseconds for 10^4 chunks), too slow per read. */
static int count_stored(tersa_h5dset *d)
{
    if (d->nstored >= 0) return 0;
    hsize_t n = 0;
    hid_t space = H5Dget_space(d->dset);
    herr_t rc = space < 0 ? -1 : H5Dget_num_chunks(d->dset, space, &n);
    if (space >= 0) H5Sclose(space);
    if (rc < 0) return tersa__h5_fail_chunk(d, NULL, TERSA_ERR_IO, "H5Dget_num_chunks failed");
    d->nstored = (int64_t)n;
    return 0;
}

void tersa__h5_chunks_added(tersa_h5dset *d)
{
    if (d->nstored <= H5_ADDR_MAX) d->nstored = -1; /* may have crossed the limit: count again */
}

int tersa__h5_prepare_lookups(tersa_h5dset *d)
{
    bool want = false;
    if (d->fd >= 0) {
        TERSA_TRY(count_stored(d));
        want = d->nstored <= H5_ADDR_MAX;
    }
    if (want != d->addr_mode) tersa__h5_forget(d, NULL);
    d->addr_mode = want;
    return 0;
}

static int lookup_addr(tersa_h5dset *d, const int64_t *c, const hsize_t *off, tersa__h5ref *ref)
{
    haddr_t addr = HADDR_UNDEF;
    hsize_t size = 0;
    unsigned mask = 0;
    if (H5Dget_chunk_info_by_coord(d->dset, off, &mask, &addr, &size) < 0)
        return tersa__h5_fail_chunk(d, c, TERSA_ERR_IO, "H5Dget_chunk_info_by_coord failed");
    ref->state = addr == HADDR_UNDEF ? 2 : 1;
    ref->addr = addr;
    ref->size = size;
    ref->mask = mask;
    return 0;
}

static int lookup_size(tersa_h5dset *d, const int64_t *c, const hsize_t *off, tersa__h5ref *ref)
{
    hsize_t size = 0;
    herr_t rc;
    H5E_BEGIN_TRY { rc = H5Dget_chunk_storage_size(d->dset, off, &size); }
    H5E_END_TRY;
    if (rc < 0) return tersa__h5_fail_chunk(d, c, TERSA_ERR_IO, "H5Dget_chunk_storage_size failed");
    ref->state = size ? 1 : 2;
    ref->size = size;
    return 0;
}

int tersa__h5_lookup(tersa_h5dset *d, const int64_t *c, tersa__h5ref *ref)
{
    hsize_t off[H5R];
    if (!d->refs) cache_alloc(d);
    int64_t idx = d->refs ? tersa__h5_chunk_index(d, c) : -1;
    if (d->refs && d->refs[idx].state) {
        *ref = d->refs[idx];
        return 0;
    }
    for (int i = 0; i < d->rank; i++) off[i] = (hsize_t)(c[i] * d->chunk[i]);
    memset(ref, 0, sizeof *ref);
    TERSA_TRY(d->addr_mode ? lookup_addr(d, c, off, ref) : lookup_size(d, c, off, ref));
    if (ref->state == 1 && (ref->size == 0 || ref->size > (uint64_t)INT64_MAX / 2))
        return tersa__h5_fail_chunk(d, c, TERSA_ERR_CORRUPT, "stored chunk size out of range");
    if (d->refs) d->refs[idx] = *ref;
    return 0;
}

int tersa__h5_fetch_raw(tersa_h5dset *d, const int64_t *c, tersa__h5ref *ref, uint8_t **raw)
{
    hsize_t off[H5R];
    uint32_t mask = 0;
    for (int i = 0; i < d->rank; i++) off[i] = (hsize_t)(c[i] * d->chunk[i]);
    uint8_t *p = tersa__malloc((size_t)ref->size);
    if (!p) return tersa__h5_fail_chunk(d, c, TERSA_ERR_NOMEM, "no memory for the stored chunk");
    if (H5Dread_chunk(d->dset, H5P_DEFAULT, off, &mask, p) < 0) {
        tersa__free(p);
        return tersa__h5_fail_chunk(d, c, TERSA_ERR_IO, "H5Dread_chunk failed");
    }
    ref->mask = mask;
    *raw = p;
    return 0;
}

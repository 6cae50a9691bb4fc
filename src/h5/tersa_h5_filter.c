/* Filter 32026 for HDF5's pipeline on tersa's engine: set_local as the official filter stores
 * cd_values (revision 1), compression into a b2nd or plain frame (FORMATS.md 5.2), and
 * decompression of either. Single-threaded per call, like the official filter; HDF5 calls it
 * from the thread doing the I/O. */
#include <inttypes.h>
#include <stdio.h>

#include "h5/tersa_h5_internal.h"

#define H5_SET_LOCAL_CAP 48

static void push_error(const char *what)
{
    H5Epush2(H5E_DEFAULT, __FILE__, "tersa_h5_filter", __LINE__, H5E_ERR_CLS, H5E_PLINE,
             H5E_CALLBACK, "blosc2 filter (tersa): %s: %s", what, tersa_error_detail());
}

/* ---- set_local ------------------------------------------------------------------------- */

/* cd[2], cd[3] and, for chunk ranks 2..8, the compression defaults, rank and dimensions. */
static int local_fill(hid_t dcpl, hid_t type, unsigned *v, size_t *n)
{
    hsize_t chunk[H5S_MAX_RANK];
    int rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk);
    int64_t full = (int64_t)H5Tget_size(type), base = tersa__h5_type_base_size(type);
    if (rank < 0 || full <= 0 || base <= 0 || base > UINT32_MAX)
        return tersa_error_set(TERSA_ERR_PARAM, "set_local: no chunk shape or datatype size");
    uint64_t bytes = (uint64_t)full;
    for (int i = 0; i < rank; i++)
        if (__builtin_mul_overflow(bytes, (uint64_t)chunk[i], &bytes) || bytes > UINT32_MAX)
            return tersa_error_set(TERSA_ERR_TOO_LARGE, "set_local: chunk bytes exceed 2^32");
    v[0] = TERSA_H5_FILTER_REVISION;
    v[2] = (unsigned)base;
    v[3] = (unsigned)bytes;
    if (rank < 2 || rank > TERSA_H5_B2ND_MAX_RANK) return 0;
    if (*n < 5) v[4] = 5;
    if (*n < 6) v[5] = TERSA_FILTER_SHUFFLE;
    if (*n < 7) v[6] = TERSA_CODEC_BLOSCLZ;
    v[7] = (unsigned)rank;
    for (int i = 0; i < rank; i++) v[8 + i] = (unsigned)chunk[i];
    *n = 8 + (size_t)rank;
    return 0;
}

static herr_t set_local(hid_t dcpl, hid_t type, hid_t space)
{
    unsigned flags = 0, v[H5_SET_LOCAL_CAP];
    size_t n = H5_SET_LOCAL_CAP;
    (void)space;
    memset(v, 0, sizeof v);
    if (H5Pget_filter_by_id2(dcpl, TERSA_H5_FILTER_ID, &flags, &n, v, 0, NULL, NULL) < 0)
        return -1;
    if (n > H5_SET_LOCAL_CAP) n = H5_SET_LOCAL_CAP;
    if (n < 4) n = 4; /* the first four values are the filter's own */
    if (local_fill(dcpl, type, v, &n) < 0) {
        push_error("set_local");
        return -1;
    }
    return H5Pmodify_filter(dcpl, TERSA_H5_FILTER_ID, flags, n, v) < 0 ? -1 : 1;
}

/* ---- The filter function --------------------------------------------------------------- */

/* Hand HDF5 a copy of out in its own allocator, replacing *buf. The buffer has at least
 * min_size bytes (zeros after out): HDF5 1.10 copies a whole chunk out of a filter's result
 * even when the filter returned fewer bytes (a hostile or mismatched frame), and must not read
 * past the allocation. */
static size_t give(void *out, size_t len, size_t min_size, size_t *buf_size, void **buf)
{
    size_t size = len > min_size ? len : min_size;
    void *p = H5allocate_memory(size ? size : 1, 0);
    if (!p) {
        tersa_error_set(TERSA_ERR_NOMEM, "no memory for %zu bytes", size);
        return 0;
    }
    memcpy(p, out, len);
    if (size > len) memset((uint8_t *)p + len, 0, size - len);
    H5free_memory(*buf);
    *buf = p;
    *buf_size = size;
    return len;
}

static size_t compress(const tersa__h5cd *cd, size_t nbytes, size_t *buf_size, void **buf)
{
    tersa__h5worker w;
    tersa__h5out out = {NULL, 0, 0};
    size_t ret = 0;
    if (!tersa_codec_name(cd->codec)) {
        tersa_error_set(TERSA_ERR_UNKNOWN_CODEC, "codec %d is not available", cd->codec);
        return 0;
    }
    if (tersa__h5worker_init(&w) >= 0 &&
        tersa__h5frame_build(&w, cd, *buf, nbytes, NULL, &out) >= 0)
        ret = give(out.buf, out.len, 0, buf_size, buf);
    tersa__free(out.buf);
    tersa__h5worker_free(&w);
    return ret;
}

/* The b2nd chunk in C order: rank and shape from the metalayer (checked against cd). */
static int decode_b2nd(tersa__h5worker *w, tersa__h5src *src, tersa__h5frame *f,
                       const tersa__h5cd *cd, uint8_t **out, size_t *len)
{
    tersa__h5box b;
    memset(&b, 0, sizeof b);
    b.rank = f->meta.ndim;
    b.item = f->typesize;
    if (cd->rank && cd->rank != b.rank)
        return tersa_error_set(TERSA_ERR_CORRUPT, "b2nd rank %d differs from the filter's %d",
                               b.rank, cd->rank);
    int64_t n = b.item;
    for (int i = 0; i < b.rank; i++) {
        b.dims[i] = b.n[i] = f->meta.shape[i];
        b.step[i] = 1;
        if ((cd->rank && b.dims[i] != cd->dims[i]) || !tersa__mul_i64(n, b.dims[i], &n))
            return tersa_error_set(TERSA_ERR_CORRUPT,
                                   "b2nd shape[%d] = %" PRId64 " differs from the "
                                   "filter's chunk dimension",
                                   i, b.dims[i]);
    }
    if (n > TERSA_MAX_BUFFERSIZE)
        return tersa_error_set(TERSA_ERR_TOO_LARGE, "b2nd chunk of %" PRId64 " bytes", n);
    tersa__h5_cstrides(b.rank, b.dims, b.item, b.bstr);
    b.buf = *out = tersa__malloc(n ? (size_t)n : 1);
    if (!b.buf)
        return tersa_error_set(TERSA_ERR_NOMEM, "no memory for %" PRId64 " bytes", n);
    *len = (size_t)n;
    return n ? tersa__h5frame_read(w, src, f, &b) : 0;
}

/* A plain frame: chunk 0, sized from its header. */
static int decode_plain(tersa__h5worker *w, tersa__h5frame *f, uint8_t **out, size_t *len)
{
    size_t n = (size_t)f->ci.nbytes;
    *out = tersa__malloc(n ? n : 1);
    if (!*out)
        return tersa_error_set(TERSA_ERR_NOMEM, "no memory for %zu bytes", n);
    *len = n;
    int64_t got = tersa_decompress(w->dctx, f->chunk, (size_t)f->ci.cbytes, *out, n);
    return got < 0 ? (int)got : 0;
}

static size_t decompress(const tersa__h5cd *cd, size_t nbytes, size_t *buf_size, void **buf)
{
    tersa__h5worker w;
    tersa__h5frame f;
    tersa__h5src src;
    uint8_t *out = NULL;
    size_t len = 0, ret = 0;
    memset(&f, 0, sizeof f);
    memset(&src, 0, sizeof src);
    src.buf = *buf;
    src.len = nbytes;
    src.fd = -1;
    int rc = tersa__h5worker_init(&w);
    if (rc >= 0) rc = tersa__h5frame_open(&w, &src, &f);
    if (rc >= 0) rc = f.b2nd ? decode_b2nd(&w, &src, &f, cd, &out, &len)
                             : decode_plain(&w, &f, &out, &len);
    if (rc >= 0) ret = give(out, len, (size_t)cd->chunk_bytes, buf_size, buf);
    tersa__h5frame_close(&f);
    tersa__free(out);
    tersa__h5worker_free(&w);
    return ret;
}

static size_t filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                     size_t *buf_size, void **buf)
{
    tersa__h5cd cd;
    bool reverse = (flags & H5Z_FLAG_REVERSE) != 0;
    if (tersa__h5cd_parse(cd_values, cd_nelmts, &cd) < 0) {
        push_error("cd_values");
        return 0;
    }
    size_t n = reverse ? decompress(&cd, nbytes, buf_size, buf) : compress(&cd, nbytes, buf_size,
                                                                           buf);
    if (n == 0) push_error(reverse ? "decompress" : "compress");
    return n;
}

static const H5Z_class2_t tersa_h5_class = {
    H5Z_CLASS_T_VERS,
    (H5Z_filter_t)TERSA_H5_FILTER_ID,
    1,
    1,
    "blosc2",
    NULL,
    set_local,
    filter,
};

const void *tersa_h5_filter_class(void) { return &tersa_h5_class; }

int tersa_h5_register_filter(void)
{
    if (H5Zregister(&tersa_h5_class) < 0)
        return tersa_error_set(TERSA_ERR_STATE, "h5: H5Zregister of filter 32026 failed");
    return 0;
}

void tersa__h5_ensure_filter(void)
{
    htri_t avail;
    H5E_BEGIN_TRY { avail = H5Zfilter_avail(TERSA_H5_FILTER_ID); }
    H5E_END_TRY;
    if (avail <= 0) tersa_h5_register_filter();
}

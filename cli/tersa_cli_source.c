/* Sources of the `tersa` command: what a PATH[:DATASET] argument is, and its array view.
 *
 * This is the one place that dispatches on the kind of input: a bare chunk, a frame (contiguous
 * file or sparse directory), a b2nd array, a .npy file, an HDF5 dataset (tersa_cli_h5.c) or
 * other bytes. Each becomes an array view (ndim, shape, itemsize, dtype) whose hyperslabs
 * tcli_src_read returns in C order: b2nd arrays through tersa_array_get_slice, HDF5 datasets
 * through the HDF5 layer, and everything else as a flat C-order byte range (frames and chunks
 * as a 1-D array of typesize items, .npy files as their shape). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tersa_cli.h"

const char *tcli_kind_name(tcli_kind k)
{
    static const char *const names[] = {"raw", "chunk", "frame", "b2nd", "npy", "hdf5"};
    return k >= TCLI_K_RAW && k <= TCLI_K_HDF5 ? names[k] : "unknown";
}

int64_t tcli_src_nitems(const tcli_src *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= s->shape[i];
    return n;
}

static char *tcli_strndup(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* PATH, or PATH:DATASET when PATH alone does not exist but a prefix before a ':' does. */
static int tcli_src_split(tcli_src *s, const char *arg)
{
    if (tcli_is_std(arg) || tcli_path_exists(arg)) {
        s->file = tcli_strndup(arg, strlen(arg));
        return s->file ? TCLI_OK : tcli_tersa_error(arg, TERSA_ERR_NOMEM);
    }
    for (const char *c = strchr(arg, ':'); c; c = strchr(c + 1, ':')) {
        char *prefix = tcli_strndup(arg, (size_t)(c - arg));
        if (prefix && tcli_path_exists(prefix) == 1) {
            s->file = prefix;
            s->dataset = tcli_strndup(c + 1, strlen(c + 1));
            return s->dataset ? TCLI_OK : tcli_tersa_error(arg, TERSA_ERR_NOMEM);
        }
        free(prefix);
    }
    fprintf(stderr, "error: %s: %s\n", arg, strerror(ENOENT));
    return TCLI_FAIL;
}

/* ---- recognising a file ---------------------------------------------------------------- */

static int tcli_is_hdf5_sig(const uint8_t *p, size_t n)
{
    return n >= 8 && memcmp(p, "\x89HDF\r\n\x1a\n", 8) == 0;
}

static tcli_kind tcli_sniff(const uint8_t *h, size_t n)
{
    tersa_chunk_info ci = {.struct_size = sizeof ci};
    if (n >= 6 && memcmp(h, "\x93NUMPY", 6) == 0)
        return TCLI_K_NPY;
    if (tcli_is_hdf5_sig(h, n))
        return TCLI_K_HDF5;
    if (n >= 10 && memcmp(h + 2, "b2frame\0", 8) == 0)
        return TCLI_K_FRAME;
    if (n >= 16 && tersa_chunk_inspect(h, n, &ci) == 0)
        return TCLI_K_CHUNK;
    return TCLI_K_RAW;
}

/* The kind of a file on disk: its first bytes, and HDF5 superblocks after a user block. */
static int tcli_sniff_file(tcli_src *s)
{
    uint8_t head[64];
    FILE *f = fopen(s->file, "rb");
    if (!f) {
        fprintf(stderr, "error: %s: %s\n", s->file, strerror(errno));
        return TCLI_FAIL;
    }
    size_t n = fread(head, 1, sizeof head, f);
    s->kind = tcli_sniff(head, n);
    for (long off = 512; s->kind == TCLI_K_RAW && off < s->file_size && off <= 1 << 20; off *= 2)
        if (fseek(f, off, SEEK_SET) == 0 && fread(head, 1, 8, f) == 8 && tcli_is_hdf5_sig(head, 8))
            s->kind = TCLI_K_HDF5;
    fclose(f);
    return TCLI_OK;
}

static int tcli_src_locate(tcli_src *s)
{
    struct stat st;
    if (tcli_is_std(s->file)) {
        if (tcli_read_file("-", &s->mem, &s->memlen) != TCLI_OK)
            return TCLI_FAIL;
        s->file_size = (int64_t)s->memlen;
        s->kind = tcli_sniff(s->mem, s->memlen);
        return TCLI_OK;
    }
    if (stat(s->file, &st) != 0) {
        fprintf(stderr, "error: %s: %s\n", s->file, strerror(errno));
        return TCLI_FAIL;
    }
    if (S_ISDIR(st.st_mode)) {
        s->kind = TCLI_K_FRAME;
        s->sparse = 1;
        s->file_size = -1;
        return TCLI_OK;
    }
    s->file_size = (int64_t)st.st_size;
    return tcli_sniff_file(s);
}

/* ---- opening each kind ----------------------------------------------------------------- */

tersa_schunk *tcli_open_frame(const char *path, int nthreads)
{
    tersa_schunk *sc = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    if (!sc) {
        tcli_detail_error(path);
        return NULL;
    }
    tersa_dctx_set(tersa_schunk_dctx(sc), TERSA_P_NTHREADS, nthreads);
    return sc;
}

/* A 1-D view of nbytes in items of typesize (bytes when typesize does not divide nbytes). */
static void tcli_flat_view(tcli_src *s, int64_t nbytes, int32_t typesize)
{
    s->ndim = 1;
    s->itemsize = typesize > 0 && nbytes % typesize == 0 ? typesize : 1;
    s->shape[0] = nbytes / s->itemsize;
}

static int tcli_has_b2nd_meta(const tersa_schunk *sc)
{
    const uint8_t *c = NULL;
    size_t len = 0;
    return tersa_schunk_meta_get(sc, "b2nd", &c, &len) >= 0 ||
           tersa_schunk_meta_get(sc, "caterva", &c, &len) >= 0;
}

/* A frame with a b2nd metalayer opened as an array; on failure the frame view stays and the
 * reason is printed as a warning. */
static void tcli_try_array(tcli_src *s)
{
    tersa_array *a = s->mem ? tersa_array_open_buffer(s->mem, s->memlen, TERSA_OPEN_BORROW)
                            : tersa_array_open_file(s->file, 0, TERSA_OPEN_READONLY);
    tersa_array_info ai = {.struct_size = sizeof ai};
    if (!a || tersa_array_get_info(a, &ai) < 0) {
        fprintf(stderr, "warning: %s: b2nd metalayer not usable (%s); read as a plain frame\n",
                s->arg, tersa_error_detail());
        s->b2nd_failed = 1;
        tersa_array_free(a);
        return;
    }
    tersa_schunk_free(s->sc);
    s->arr = a;
    s->sc = tersa_array_schunk(a);
    tersa_dctx_set(tersa_schunk_dctx(s->sc), TERSA_P_NTHREADS, s->nthreads);
    s->kind = TCLI_K_B2ND;
    s->ndim = ai.ndim;
    memcpy(s->shape, ai.shape, sizeof ai.shape[0] * (size_t)ai.ndim);
    s->itemsize = ai.itemsize;
    /* A simple dtype whose size contradicts the item size (C-Blosc2 writes "|u1" when it was
     * given none) is dropped; structured ones are kept for the writers. */
    int32_t dsize = ai.dtype ? tcli_dtype_itemsize(ai.dtype) : 0;
    if (ai.dtype && (dsize == 0 || dsize == ai.itemsize))
        s->dtype = tcli_strndup(ai.dtype, strlen(ai.dtype));
}

static int tcli_open_frame_src(tcli_src *s)
{
    if (s->mem) {
        s->sc = tersa_schunk_open_buffer(s->mem, s->memlen, TERSA_OPEN_BORROW);
        if (!s->sc)
            return tcli_detail_error(s->arg);
        tersa_dctx_set(tersa_schunk_dctx(s->sc), TERSA_P_NTHREADS, s->nthreads);
    } else if (!(s->sc = tcli_open_frame(s->file, s->nthreads))) {
        return TCLI_FAIL;
    }
    tcli_flat_view(s, tersa_schunk_nbytes(s->sc), tersa_schunk_typesize(s->sc));
    if (tcli_has_b2nd_meta(s->sc))
        tcli_try_array(s);
    return TCLI_OK;
}

static int tcli_open_chunk_src(tcli_src *s)
{
    tersa_chunk_info ci = {.struct_size = sizeof ci};
    if (!s->mem && tcli_read_file(s->file, &s->mem, &s->memlen) != TCLI_OK)
        return TCLI_FAIL;
    int rc = tersa_chunk_inspect(s->mem, s->memlen, &ci);
    if (rc < 0)
        return tcli_tersa_error(s->arg, rc);
    tcli_flat_view(s, ci.nbytes, ci.typesize);
    return TCLI_OK;
}

/* .npy: the header gives the view; the items are read from the file (or stdin's bytes). */
static int tcli_open_npy_src(tcli_src *s)
{
    uint8_t *head = s->mem;
    size_t n = s->memlen;
    tcli_npy_header h;
    if (!s->mem) {
        if (!(s->fp = fopen(s->file, "rb")) || !(head = malloc((size_t)1 << 20))) {
            fprintf(stderr, "error: %s: %s\n", s->file, s->fp ? "out of memory" : strerror(errno));
            return TCLI_FAIL;
        }
        n = fread(head, 1, (size_t)1 << 20, s->fp);
    }
    int rc = tcli_npy_parse(s->arg, head, n, &h);
    if (head != s->mem)
        free(head);
    if (rc != TCLI_OK)
        return rc;
    s->ndim = h.ndim;
    memcpy(s->shape, h.shape, sizeof h.shape[0] * (size_t)h.ndim);
    s->itemsize = h.itemsize;
    s->data_off = h.data_off;
    s->dtype = tcli_strndup(h.descr, strlen(h.descr));
    int64_t need = tcli_src_nitems(s);
    if (need > (s->file_size - h.data_off) / h.itemsize) {
        fprintf(stderr, "error: %s: .npy data truncated (%lld items of %d bytes announced)\n",
                s->arg, (long long)need, (int)h.itemsize);
        return TCLI_FAIL;
    }
    return TCLI_OK;
}

static int tcli_open_raw_src(tcli_src *s)
{
    if (!s->mem && !(s->fp = fopen(s->file, "rb"))) {
        fprintf(stderr, "error: %s: %s\n", s->file, strerror(errno));
        return TCLI_FAIL;
    }
    tcli_flat_view(s, s->file_size, 1);
    return TCLI_OK;
}

static int tcli_src_open_kind(tcli_src *s)
{
    if (s->dataset && s->kind != TCLI_K_HDF5) {
        fprintf(stderr, "error: %s: not an HDF5 file (':%s' names an HDF5 dataset)\n", s->file,
                s->dataset);
        return TCLI_FAIL;
    }
    switch (s->kind) {
    case TCLI_K_FRAME:
        return tcli_open_frame_src(s);
    case TCLI_K_CHUNK:
        return tcli_open_chunk_src(s);
    case TCLI_K_NPY:
        return tcli_open_npy_src(s);
    case TCLI_K_HDF5:
        return tcli_h5_open(s);
    default:
        return tcli_open_raw_src(s);
    }
}

int tcli_src_open(tcli_src *s, const char *arg, int nthreads)
{
    memset(s, 0, sizeof *s);
    s->arg = arg;
    s->nthreads = nthreads > 0 ? nthreads : 1;
    s->itemsize = 1;
    int rc = tcli_src_split(s, arg);
    if (rc == TCLI_OK)
        rc = tcli_src_locate(s);
    if (rc == TCLI_OK)
        rc = tcli_src_open_kind(s);
    if (rc != TCLI_OK)
        tcli_src_close(s);
    return rc;
}

void tcli_src_close(tcli_src *s)
{
    if (s->h5)
        tcli_h5_close(s);
    if (s->arr)
        tersa_array_free(s->arr);
    else
        tersa_schunk_free(s->sc);
    if (s->fp)
        fclose(s->fp);
    tersa_dctx_free(s->dctx);
    free(s->mem);
    free(s->decoded);
    free(s->file);
    free(s->dataset);
    free(s->dtype);
    memset(s, 0, sizeof *s);
}

/* ---- reading --------------------------------------------------------------------------- */

/* Bytes [off, off + n) of the flat C-order data of a frame, chunk, .npy or raw source. */
static int tcli_flat_read(tcli_src *s, int64_t off, uint8_t *dst, size_t n);

static int tcli_decode_chunk(tcli_src *s)
{
    int64_t nb = tcli_src_nitems(s) * s->itemsize;
    if (s->decoded)
        return TCLI_OK;
    s->dctx = s->dctx ? s->dctx : tersa_dctx_create();
    s->decoded = malloc(nb > 0 ? (size_t)nb : 1);
    int64_t rc = s->dctx && s->decoded ? tersa_dctx_set(s->dctx, TERSA_P_NTHREADS, s->nthreads)
                                       : TERSA_ERR_NOMEM;
    if (rc >= 0)
        rc = tersa_decompress(s->dctx, s->mem, s->memlen, s->decoded, (size_t)nb);
    if (rc >= 0)
        return TCLI_OK;
    free(s->decoded);
    s->decoded = NULL;
    return tcli_tersa_error(s->arg, rc);
}

static int tcli_file_read(tcli_src *s, int64_t off, uint8_t *dst, size_t n)
{
    int64_t pos = s->data_off + off;
    if (s->mem) {
        if (pos < 0 || (uint64_t)pos + n > s->memlen)
            goto short_read;
        memcpy(dst, s->mem + pos, n);
        return TCLI_OK;
    }
    while (n > 0) {
        ssize_t got = pread(fileno(s->fp), dst, n, (off_t)pos);
        if (got <= 0)
            goto short_read;
        dst += got, pos += got, n -= (size_t)got;
    }
    return TCLI_OK;
short_read:
    fprintf(stderr, "error: %s: read failed at byte %lld (file truncated?)\n", s->arg,
            (long long)pos);
    return TCLI_FAIL;
}

static int tcli_flat_read(tcli_src *s, int64_t off, uint8_t *dst, size_t n)
{
    int64_t rc;
    switch (s->kind) {
    case TCLI_K_FRAME:
        rc = tersa_schunk_get_slice(s->sc, off, (int64_t)n, dst, n);
        return rc < 0 ? tcli_tersa_error(s->arg, rc) : TCLI_OK;
    case TCLI_K_CHUNK:
        if (tcli_decode_chunk(s) != TCLI_OK)
            return TCLI_FAIL;
        memcpy(dst, s->decoded + off, n);
        return TCLI_OK;
    default:
        return tcli_file_read(s, off, dst, n);
    }
}

/* count items every step items from byte offset off (a run along the last axis). */
static int tcli_flat_strided(tcli_src *s, int64_t off, int64_t count, int64_t step, uint8_t *dst)
{
    int64_t is = s->itemsize, window = ((int64_t)4 << 20) / (step * is);
    if (step == 1)
        return tcli_flat_read(s, off, dst, (size_t)(count * is));
    if (window < 2) { /* items far apart: one read each */
        for (int64_t k = 0; k < count; k++)
            if (tcli_flat_read(s, off + k * step * is, dst + k * is, (size_t)is) != TCLI_OK)
                return TCLI_FAIL;
        return TCLI_OK;
    }
    uint8_t *tmp = malloc((size_t)(((window - 1) * step + 1) * is));
    if (!tmp)
        return tcli_tersa_error(s->arg, TERSA_ERR_NOMEM);
    int rc = TCLI_OK;
    for (int64_t k = 0; k < count && rc == TCLI_OK; k += window) {
        int64_t w = count - k < window ? count - k : window;
        rc = tcli_flat_read(s, off + k * step * is, tmp, (size_t)(((w - 1) * step + 1) * is));
        for (int64_t j = 0; j < w && rc == TCLI_OK; j++)
            memcpy(dst + (k + j) * is, tmp + j * step * is, (size_t)is);
    }
    free(tmp);
    return rc;
}

/* 1 when the hyperslab is one run of consecutive items in C order. */
static int tcli_contiguous(const tcli_src *s, const int64_t *start, const int64_t *count,
                           const int64_t *step)
{
    int k = s->ndim - 1;
    while (k >= 0 && start[k] == 0 && count[k] == s->shape[k] && (step[k] == 1 || count[k] <= 1))
        k--;
    if (k < 0)
        return 1;
    if (step[k] != 1 && count[k] > 1)
        return 0;
    for (int i = 0; i < k; i++)
        if (count[i] > 1)
            return 0;
    return 1;
}

/* A hyperslab of a flat source: one read when contiguous, else one run per row. */
static int tcli_flat_hyperslab(tcli_src *s, const int64_t *start, const int64_t *count,
                               const int64_t *step, uint8_t *dst)
{
    int nd = s->ndim;
    int64_t stride[TCLI_MAXDIM], idx[TCLI_MAXDIM] = {0}, is = s->itemsize, off = 0;
    if (nd > 0)
        stride[nd - 1] = is;
    for (int i = nd - 2; i >= 0; i--)
        stride[i] = stride[i + 1] * s->shape[i + 1];
    for (int i = 0; i < nd; i++)
        off += start[i] * stride[i];
    if (nd == 0 || tcli_contiguous(s, start, count, step)) {
        int64_t n = is;
        for (int i = 0; i < nd; i++)
            n *= count[i];
        return tcli_flat_read(s, off, dst, (size_t)n);
    }
    int64_t row = count[nd - 1] * is;
    for (;;) {
        int64_t o = start[nd - 1] * stride[nd - 1];
        for (int i = 0; i < nd - 1; i++)
            o += (start[i] + idx[i] * step[i]) * stride[i];
        if (tcli_flat_strided(s, o, count[nd - 1], step[nd - 1], dst) != TCLI_OK)
            return TCLI_FAIL;
        dst += row;
        int i = nd - 2;
        while (i >= 0 && ++idx[i] == count[i])
            idx[i--] = 0;
        if (i < 0)
            return TCLI_OK;
    }
}

int tcli_src_read(tcli_src *s, const int64_t *start, const int64_t *count, const int64_t *step,
                  void *dst, size_t n)
{
    int64_t stop[TCLI_MAXDIM];
    if (n == 0)
        return TCLI_OK;
    if (s->kind == TCLI_K_HDF5)
        return tcli_h5_read(s, start, count, step, dst, n);
    if (s->kind != TCLI_K_B2ND)
        return tcli_flat_hyperslab(s, start, count, step, dst);
    for (int i = 0; i < s->ndim; i++)
        stop[i] = start[i] + (count[i] - 1) * step[i] + 1;
    int64_t rc = tersa_array_get_slice(s->arr, start, stop, step, dst, n);
    return rc < 0 ? tcli_tersa_error(s->arg, rc) : TCLI_OK;
}

/* ---- selections and streaming ----------------------------------------------------------- */

static int tcli_sel_bad(const char *text, int axis, const char *what, long long lo, long long hi)
{
    fprintf(stderr, "error: --slice %s: axis %d: %s (accepted: %lld..%lld)\n", text, axis, what, lo,
            hi);
    return TCLI_USAGE;
}

/* One number of a slice token; *set = 0 when empty. */
static int tcli_sel_num(const char *p, size_t n, int64_t *v, int *set)
{
    char buf[32], *end = NULL;
    *set = n > 0;
    if (!n)
        return 1;
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, p, n);
    buf[n] = '\0';
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    *v = x;
    return !errno && *end == '\0';
}

/* One axis: "", ":", "i", "a:b", "a:b:c". */
static int tcli_sel_axis(tcli_sel *sel, int a, int64_t len, const char *tok, size_t n,
                         const char *text)
{
    const char *c1 = memchr(tok, ':', n),
               *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - tok)) : NULL;
    int64_t v[3] = {0, len, 1};
    int set[3] = {0, 0, 0};
    size_t b0 = c1 ? (size_t)(c1 - tok) : n, e1 = c2 ? (size_t)(c2 - tok) : n;
    if (!tcli_sel_num(tok, b0, &v[0], &set[0]) ||
        (c1 && !tcli_sel_num(c1 + 1, e1 - b0 - 1, &v[1], &set[1])) ||
        (c2 && !tcli_sel_num(c2 + 1, n - e1 - 1, &v[2], &set[2])))
        return tcli_sel_bad(text, a, "not an integer", -len, len);
    if (!c1 && set[0]) { /* a single index drops the axis */
        if (v[0] < -len || v[0] >= len)
            return tcli_sel_bad(text, a, "index out of range", -len, len - 1);
        sel->start[a] = v[0] < 0 ? v[0] + len : v[0];
        sel->count[a] = 1;
        sel->drop[a] = 1;
        return TCLI_OK;
    }
    if (set[2] && v[2] < 1)
        return tcli_sel_bad(text, a, "step must be positive", 1, INT64_MAX);
    for (int k = 0; k < 2; k++) {
        if (!set[k])
            continue;
        if (v[k] < 0)
            v[k] += len;
        v[k] = v[k] < 0 ? 0 : v[k] > len ? len : v[k];
    }
    if (!set[1])
        v[1] = len;
    sel->start[a] = v[0];
    sel->step[a] = v[2];
    sel->count[a] = v[1] > v[0] ? (v[1] - v[0] + v[2] - 1) / v[2] : 0;
    return TCLI_OK;
}

static void tcli_sel_finish(tcli_sel *sel)
{
    sel->out_ndim = 0;
    sel->nitems = 1;
    for (int i = 0; i < sel->ndim; i++) {
        sel->nitems *= sel->count[i];
        if (!sel->drop[i])
            sel->out_shape[sel->out_ndim++] = sel->count[i];
    }
}

/* Split text at commas into token offsets; returns the count or -1 when too many. */
static int tcli_sel_tokens(const char *text, const char **tok, size_t *len, int max)
{
    int n = 0;
    for (const char *p = text;; n++) {
        const char *c = strchr(p, ',');
        if (n == max)
            return -1;
        tok[n] = p;
        len[n] = c ? (size_t)(c - p) : strlen(p);
        if (!c)
            return n + 1;
        p = c + 1;
    }
}

int tcli_sel_parse(tcli_sel *sel, const tcli_src *s, const char *text)
{
    const char *tok[TCLI_MAXDIM + 1];
    size_t len[TCLI_MAXDIM + 1];
    memset(sel, 0, sizeof *sel);
    sel->ndim = s->ndim;
    for (int i = 0; i < s->ndim; i++)
        sel->count[i] = s->shape[i], sel->step[i] = 1;
    int n = text && *text ? tcli_sel_tokens(text, tok, len, TCLI_MAXDIM + 1) : 0, ell = -1;
    for (int t = 0; t < n; t++)
        if (len[t] == 3 && !memcmp(tok[t], "...", 3))
            ell = ell < 0 ? t : -2;
    int named = n - (ell >= 0);
    if (n < 0 || ell == -2 || named > s->ndim) {
        fprintf(stderr, "error: --slice %s: %s (the array has %d axes)\n", text,
                ell == -2 ? "more than one '...'" : "too many axes", s->ndim);
        return TCLI_USAGE;
    }
    for (int t = 0; t < n; t++) {
        if (t == ell)
            continue;
        int a = ell >= 0 && t > ell ? s->ndim - (n - t) : t;
        int rc = tcli_sel_axis(sel, a, s->shape[a], tok[t], len[t], text);
        if (rc != TCLI_OK)
            return rc;
    }
    tcli_sel_finish(sel);
    return TCLI_OK;
}

/* The axis d that pieces run along and the run length: axes after d are read whole. */
static int tcli_pump_plan(const tcli_src *s, const tcli_sel *sel, int64_t *inner, int64_t *run)
{
    int d = sel->ndim - 1;
    *inner = s->itemsize;
    while (d >= 0 && *inner * sel->count[d] <= TCLI_PIECE)
        *inner *= sel->count[d--];
    *run = d >= 0 ? TCLI_PIECE / *inner : 1;
    if (*run < 1)
        *run = 1;
    if (d >= 0 && *run > sel->count[d])
        *run = sel->count[d];
    return d;
}

int tcli_pump(tcli_src *s, const tcli_sel *sel, tcli_piece_fn fn, void *ctx,
              tcli_progress *progress)
{
    int64_t inner = 0, run = 0, idx[TCLI_MAXDIM] = {0}, st[TCLI_MAXDIM], cnt[TCLI_MAXDIM];
    int64_t stp[TCLI_MAXDIM];
    if (sel->nitems == 0)
        return TCLI_OK;
    int d = tcli_pump_plan(s, sel, &inner, &run), rc = TCLI_OK;
    uint8_t *buf = malloc((size_t)(run * inner));
    if (!buf)
        return tcli_tersa_error(s->arg, TERSA_ERR_NOMEM);
    memcpy(st, sel->start, sizeof st);
    memcpy(cnt, sel->count, sizeof cnt);
    memcpy(stp, sel->step, sizeof stp);
    for (int i = 0; i < d; i++)
        cnt[i] = 1;
    for (int more = 1; more && rc == TCLI_OK;) {
        for (int i = 0; i < d; i++)
            st[i] = sel->start[i] + idx[i] * sel->step[i];
        for (int64_t t = 0; rc == TCLI_OK && t < (d >= 0 ? sel->count[d] : 1); t += run) {
            if (d >= 0)
                st[d] = sel->start[d] + t * sel->step[d];
            if (d >= 0)
                cnt[d] = sel->count[d] - t < run ? sel->count[d] - t : run;
            size_t n = (size_t)((d >= 0 ? cnt[d] : 1) * inner);
            rc = tcli_src_read(s, st, cnt, stp, buf, n);
            if (rc == TCLI_OK)
                rc = fn(ctx, buf, n);
            tcli_progress_add(progress, (int64_t)n);
        }
        int i = d - 1;
        while (i >= 0 && ++idx[i] == sel->count[i])
            idx[i--] = 0;
        more = i >= 0;
    }
    free(buf);
    return rc;
}

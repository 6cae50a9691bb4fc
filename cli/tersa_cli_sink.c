/* Sinks of the `tersa` command: where a stream of C-order bytes goes. Raw bytes and .npy files
 * are written as they come; a frame sink cuts the stream into chunks of chunksize bytes and
 * appends them; a b2nd sink collects one chunk row (chunkshape[0] slab) at a time and writes it
 * with tersa_array_set_slice, so only one slab is ever held in memory. Frames and arrays are
 * built in their file directly (kept valid after every chunk); for stdout or a device they are
 * built in memory and written at the end. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tersa_cli.h"

static const char *const tcli_outnames[] = {"raw", "npy", "frame", "b2nd", "chunk", "hdf5"};

const char *tcli_outkind_name(tcli_outkind k)
{
    return k >= TCLI_OUT_RAW && k <= TCLI_OUT_HDF5 ? tcli_outnames[k] : "unknown";
}

int tcli_outkind_parse(const char *name)
{
    for (int k = 0; k <= TCLI_OUT_HDF5; k++)
        if (strcmp(name, tcli_outnames[k]) == 0)
            return k;
    return -1;
}

int tcli_outkind_from_name(const char *path)
{
    if (tcli_has_suffix(path, ".npy"))
        return TCLI_OUT_NPY;
    if (tcli_has_suffix(path, ".b2nd"))
        return TCLI_OUT_B2ND;
    if (tcli_has_suffix(path, ".b2frame") || tcli_has_suffix(path, ".b2"))
        return TCLI_OUT_FRAME;
    if (tcli_has_suffix(path, ".cdata"))
        return TCLI_OUT_CHUNK;
    if (tcli_has_suffix(path, ".h5") || tcli_has_suffix(path, ".hdf5") || strstr(path, ".h5:") ||
        strstr(path, ".hdf5:"))
        return TCLI_OUT_HDF5;
    return -1;
}

/* 1 when the output must be assembled in memory: stdout, or an existing non-regular file. */
static int tcli_out_in_memory(const char *path)
{
    struct stat st;
    if (tcli_is_std(path))
        return 1;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

static int tcli_sink_fopen(tcli_sink *k)
{
    k->fp = k->to_std ? stdout : fopen(k->path, "wb");
    if (!k->fp) {
        fprintf(stderr, "error: %s: %s\n", k->path, strerror(errno));
        return TCLI_FAIL;
    }
    k->file_made = !k->to_std;
    return TCLI_OK;
}

static int tcli_sink_fwrite(tcli_sink *k, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, k->fp) != n) {
        fprintf(stderr, "error: %s: write failed: %s\n", k->path, strerror(errno));
        return TCLI_FAIL;
    }
    return TCLI_OK;
}

/* ---- opening --------------------------------------------------------------------------- */

static int tcli_sink_open_npy(tcli_sink *k, const tcli_out_params *p)
{
    uint8_t *h = NULL;
    size_t hl = 0;
    if (tcli_sink_fopen(k) != TCLI_OK)
        return TCLI_FAIL;
    if (tcli_npy_header_make(p->ndim, p->shape, p->itemsize, p->dtype, &h, &hl) != TCLI_OK)
        return TCLI_FAIL;
    int rc = tcli_sink_fwrite(k, h, hl);
    free(h);
    return rc;
}

static int tcli_sink_open_frame(tcli_sink *k, const tcli_out_params *p)
{
    int64_t ts = 8, cs = p->chunksize > 0 ? p->chunksize : TCLI_DEFAULT_CHUNKSIZE;
    tersa_cctx_get(p->cctx, TERSA_P_TYPESIZE, &ts);
    cs = cs / ts * ts > 0 ? cs / ts * ts : ts;
    tersa_schunk_params sp = {.struct_size = sizeof sp,
                              .storage = TERSA_STORAGE_FILE,
                              .path = k->path,
                              .overwrite = 1,
                              .cparams = p->cctx};
    if (k->in_memory)
        sp.storage = TERSA_STORAGE_MEMORY, sp.path = NULL;
    if (k->in_memory && tcli_sink_fopen(k) != TCLI_OK)
        return TCLI_FAIL;
    k->sc = tersa_schunk_create(&sp);
    if (!k->sc)
        return tcli_detail_error(k->path);
    k->file_made = 1;
    /* One commit at the end (tcli_sink_commit) instead of one per chunk. */
    if (!k->in_memory && tersa_schunk_set_autocommit(k->sc, 0) < 0)
        return tcli_detail_error(k->path);
    k->cap = (size_t)cs;
    k->buf = malloc(k->cap);
    return k->buf ? TCLI_OK : tcli_tersa_error(k->path, TERSA_ERR_NOMEM);
}

/* The slab geometry of a b2nd or HDF5 sink: rows of axis 0, `rows` per slab. */
static int tcli_sink_slabs(tcli_sink *k, const tcli_out_params *p, int64_t rows)
{
    k->ndim = p->ndim;
    memcpy(k->shape, p->shape, sizeof p->shape[0] * (size_t)p->ndim);
    k->row_bytes = p->itemsize;
    for (int i = 1; i < p->ndim; i++)
        k->row_bytes *= p->shape[i];
    k->slab_rows = p->ndim ? rows : 1;
    if (p->ndim && k->slab_rows > p->shape[0])
        k->slab_rows = p->shape[0];
    k->cap = (size_t)(k->slab_rows * k->row_bytes);
    k->buf = malloc(k->cap ? k->cap : 1);
    return k->buf ? TCLI_OK : tcli_tersa_error(k->path, TERSA_ERR_NOMEM);
}

tersa_nd_params tcli_nd_params(const tcli_out_params *p, const char *dst)
{
    tersa_nd_params np = {.struct_size = sizeof np,
                          .ndim = p->ndim,
                          .shape = p->shape,
                          .chunkshape = p->chunks,
                          .blockshape = p->blocks,
                          .itemsize = p->itemsize,
                          .dtype = p->dtype,
                          .cparams = p->cctx,
                          .storage = TERSA_STORAGE_FILE,
                          .path = dst,
                          .overwrite = 1};
    return np;
}

static int tcli_sink_open_b2nd(tcli_sink *k, const tcli_out_params *p)
{
    tersa_nd_params np = tcli_nd_params(p, k->path);
    if (p->ndim > TERSA_ND_MAX_DIM_WRITE) {
        fprintf(stderr, "error: %s: b2nd arrays have at most %d axes (this has %d)\n", k->path,
                TERSA_ND_MAX_DIM_WRITE, p->ndim);
        return TCLI_FAIL;
    }
    if (k->in_memory)
        np.storage = TERSA_STORAGE_MEMORY, np.path = NULL;
    if (k->in_memory && tcli_sink_fopen(k) != TCLI_OK)
        return TCLI_FAIL;
    k->arr = tersa_array_empty(&np);
    if (!k->arr)
        return tcli_detail_error(k->path);
    k->file_made = 1;
    if (!k->in_memory && tersa_schunk_set_autocommit(tersa_array_schunk(k->arr), 0) < 0)
        return tcli_detail_error(k->path);
    tersa_array_info ai = {.struct_size = sizeof ai};
    int rc = tersa_array_get_info(k->arr, &ai);
    if (rc < 0)
        return tcli_tersa_error(k->path, rc);
    return tcli_sink_slabs(k, p, ai.chunkshape[0]);
}

static int tcli_sink_open_chunk(tcli_sink *k, const tcli_out_params *p)
{
    if (tcli_sink_fopen(k) != TCLI_OK)
        return TCLI_FAIL;
    k->cctx = tersa_cctx_create();
    int rc = k->cctx ? 0 : TERSA_ERR_NOMEM;
    for (int i = TERSA_P_TYPESIZE; rc >= 0 && i < TERSA_P_COUNT_; i++) {
        int64_t v = 0;
        if (tersa_cctx_get(p->cctx, (tersa_param)i, &v) == 0)
            rc = tersa_cctx_set(k->cctx, (tersa_param)i, v);
    }
    return rc < 0 ? tcli_tersa_error(k->path, rc) : TCLI_OK;
}

int tcli_sink_open(tcli_sink *k, tcli_outkind kind, const char *path, const tcli_out_params *p)
{
    memset(k, 0, sizeof *k);
    k->kind = kind;
    k->path = path;
    k->to_std = tcli_is_std(path);
    k->in_memory = kind != TCLI_OUT_HDF5 && tcli_out_in_memory(path);
    if (kind != TCLI_OUT_HDF5 && tcli_check_output(path, p->force) != TCLI_OK)
        return TCLI_FAIL;
    int rc;
    switch (kind) {
    case TCLI_OUT_NPY:
        rc = tcli_sink_open_npy(k, p);
        break;
    case TCLI_OUT_FRAME:
        rc = tcli_sink_open_frame(k, p);
        break;
    case TCLI_OUT_B2ND:
        rc = tcli_sink_open_b2nd(k, p);
        break;
    case TCLI_OUT_CHUNK:
        rc = tcli_sink_open_chunk(k, p);
        break;
    case TCLI_OUT_HDF5:
        rc = tcli_h5_sink_open(k, p);
        if (rc == TCLI_OK)
            rc = tcli_sink_slabs(k, p, k->slab_rows);
        break;
    default:
        rc = tcli_sink_fopen(k);
        break;
    }
    if (rc != TCLI_OK)
        tcli_sink_abort(k);
    return rc;
}

/* ---- writing --------------------------------------------------------------------------- */

static int tcli_sink_flush_chunk(tcli_sink *k)
{
    if (k->fill == 0)
        return TCLI_OK;
    int64_t rc = tersa_schunk_append_buffer(k->sc, k->buf, k->fill);
    k->fill = 0;
    return rc < 0 ? tcli_tersa_error(k->path, rc) : TCLI_OK;
}

/* Write the collected rows of a b2nd or HDF5 sink as one slab. */
static int tcli_sink_flush_slab(tcli_sink *k)
{
    int64_t start[TCLI_MAXDIM] = {0}, stop[TCLI_MAXDIM], rc;
    if (k->fill == 0)
        return TCLI_OK;
    memcpy(stop, k->shape, sizeof stop[0] * (size_t)k->ndim);
    int64_t rows = k->row_bytes ? (int64_t)k->fill / k->row_bytes : 1;
    if (k->kind == TCLI_OUT_HDF5) {
        rc = tcli_h5_sink_rows(k, k->rows_done, rows, k->buf, k->fill);
    } else {
        if (k->ndim)
            start[0] = k->rows_done, stop[0] = k->rows_done + rows;
        rc = tersa_array_set_slice(k->arr, start, stop, NULL, k->buf, k->fill);
        rc = rc < 0 ? tcli_tersa_error(k->path, rc) : TCLI_OK;
    }
    k->rows_done += rows;
    k->fill = 0;
    return (int)rc;
}

/* Collect bytes into the buffer, flushing it each time it fills. */
static int tcli_sink_collect(tcli_sink *k, const uint8_t *p, size_t n, int (*flush)(tcli_sink *))
{
    while (n > 0) {
        size_t take = k->cap - k->fill < n ? k->cap - k->fill : n;
        if (k->cap == 0) {
            fprintf(stderr, "error: %s: more data than the output's shape holds\n", k->path);
            return TCLI_FAIL;
        }
        memcpy(k->buf + k->fill, p, take);
        k->fill += take, p += take, n -= take;
        if (k->fill == k->cap && flush(k) != TCLI_OK)
            return TCLI_FAIL;
    }
    return TCLI_OK;
}

/* The chunk sink keeps everything (one chunk holds at most TERSA_MAX_BUFFERSIZE bytes). */
static int tcli_sink_grow(tcli_sink *k, const uint8_t *p, size_t n)
{
    if (n > (size_t)TERSA_MAX_BUFFERSIZE - k->fill) {
        fprintf(stderr, "error: %s: more than %d bytes do not fit in one chunk\n", k->path,
                (int)TERSA_MAX_BUFFERSIZE);
        return TCLI_FAIL;
    }
    if (k->fill + n > k->cap) {
        size_t cap = k->cap ? k->cap : 1 << 20;
        while (cap < k->fill + n)
            cap = cap <= SIZE_MAX / 2 ? cap * 2 : SIZE_MAX;
        uint8_t *nb = realloc(k->buf, cap);
        if (!nb)
            return tcli_tersa_error(k->path, TERSA_ERR_NOMEM);
        k->buf = nb;
        k->cap = cap;
    }
    memcpy(k->buf + k->fill, p, n);
    k->fill += n;
    return TCLI_OK;
}

int tcli_sink_write(tcli_sink *k, const uint8_t *p, size_t n)
{
    k->written += (int64_t)n;
    switch (k->kind) {
    case TCLI_OUT_FRAME:
        return tcli_sink_collect(k, p, n, tcli_sink_flush_chunk);
    case TCLI_OUT_B2ND:
    case TCLI_OUT_HDF5:
        return tcli_sink_collect(k, p, n, tcli_sink_flush_slab);
    case TCLI_OUT_CHUNK:
        return tcli_sink_grow(k, p, n);
    default:
        return tcli_sink_fwrite(k, p, n);
    }
}

int tcli_sink_piece(void *sink, const uint8_t *p, size_t n)
{
    return tcli_sink_write(sink, p, n);
}

/* ---- finishing ------------------------------------------------------------------------- */

/* A frame built in memory: serialise and write it. */
static int tcli_sink_write_frame(tcli_sink *k, tersa_schunk *sc)
{
    int64_t len = tersa_schunk_frame_len(sc);
    uint8_t *b = len > 0 ? malloc((size_t)len) : NULL;
    int64_t rc = b ? tersa_schunk_to_buffer(sc, b, (size_t)len) : TERSA_ERR_NOMEM;
    int st = rc < 0 ? tcli_tersa_error(k->path, rc) : tcli_sink_fwrite(k, b, (size_t)rc);
    free(b);
    return st;
}

/* A frame or array written to a file in one batch: commit it (errors reported here, not
 * lost in tersa_schunk_free). */
static int tcli_sink_commit(tcli_sink *k, tersa_schunk *sc)
{
    if (k->in_memory || !sc)
        return TCLI_OK;
    return tersa_schunk_commit(sc) < 0 ? tcli_detail_error(k->path) : TCLI_OK;
}

static int tcli_sink_compress_chunk(tcli_sink *k)
{
    size_t cap = tersa_compress_bound(k->fill);
    uint8_t *dst = malloc(cap);
    int64_t n = dst ? tersa_compress(k->cctx, k->buf, k->fill, dst, cap) : TERSA_ERR_NOMEM;
    int rc = n < 0 ? tcli_tersa_error(k->path, n) : tcli_sink_fwrite(k, dst, (size_t)n);
    free(dst);
    return rc;
}

static int tcli_sink_close_file(tcli_sink *k)
{
    int bad = k->fp ? (k->to_std ? fflush(k->fp) : fclose(k->fp)) != 0 : 0;
    k->fp = NULL;
    if (bad)
        fprintf(stderr, "error: %s: write failed: %s\n", k->path, strerror(errno));
    return bad ? TCLI_FAIL : TCLI_OK;
}

static void tcli_sink_release(tcli_sink *k)
{
    tersa_array_free(k->arr);
    tersa_schunk_free(k->sc);
    tersa_cctx_free(k->cctx);
    free(k->buf);
    k->arr = NULL, k->sc = NULL, k->cctx = NULL, k->buf = NULL;
}

int tcli_sink_finish(tcli_sink *k)
{
    int rc = TCLI_OK;
    if (k->kind == TCLI_OUT_FRAME) {
        rc = tcli_sink_flush_chunk(k);
        if (rc == TCLI_OK)
            rc = tcli_sink_commit(k, k->sc);
        if (rc == TCLI_OK && k->in_memory)
            rc = tcli_sink_write_frame(k, k->sc);
    } else if (k->kind == TCLI_OUT_B2ND) {
        rc = tcli_sink_flush_slab(k);
        if (rc == TCLI_OK)
            rc = tcli_sink_commit(k, k->arr ? tersa_array_schunk(k->arr) : NULL);
        if (rc == TCLI_OK && k->in_memory)
            rc = tcli_sink_write_frame(k, tersa_array_schunk(k->arr));
    } else if (k->kind == TCLI_OUT_CHUNK) {
        rc = tcli_sink_compress_chunk(k);
    } else if (k->kind == TCLI_OUT_HDF5) {
        rc = tcli_sink_flush_slab(k);
        if (tcli_h5_sink_close(k, 0) != TCLI_OK)
            rc = TCLI_FAIL;
    }
    tcli_sink_release(k);
    if (tcli_sink_close_file(k) != TCLI_OK)
        rc = TCLI_FAIL;
    if (rc != TCLI_OK)
        tcli_sink_abort(k);
    return rc;
}

void tcli_sink_abort(tcli_sink *k)
{
    if (k->kind == TCLI_OUT_HDF5)
        tcli_h5_sink_close(k, 1);
    tcli_sink_release(k);
    if (k->fp && !k->to_std)
        fclose(k->fp);
    k->fp = NULL;
    if (k->file_made && !k->in_memory)
        tcli_remove_output(k->path);
    k->file_made = 0;
}

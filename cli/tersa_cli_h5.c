/* The HDF5 plug of the `tersa` command: PATH.h5:/group/dataset as a source (open, read
 * hyperslabs, info, verify) through the HDF5 layer (tersa/tersa_h5.h, libtersa_h5). Built with
 * that layer when TCLI_HAVE_H5 is defined (cli/CMakeLists.txt does so when the tersa_h5 target
 * exists); otherwise every entry point says that this build has no HDF5 support. This file is
 * the only one that knows about HDF5: the sniffing of the file signature and the PATH:DATASET
 * split live in tersa_cli_source.c, and the rest of the CLI sees an array view. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

#ifdef TCLI_HAVE_H5
#include "tersa/tersa_h5.h"

int tcli_h5_available(void) { return 1; }

/* The NumPy type string of a dataset's file datatype, or NULL when there is no simple one. */
static char *tcli_h5_dtype(hid_t dset)
{
    char buf[32] = "";
    hid_t t = H5Dget_type(dset);
    if (t < 0) return NULL;
    H5T_class_t c = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    char bo = size == 1 ? '|' : H5Tget_order(t) == H5T_ORDER_BE ? '>' : '<';
    if (c == H5T_INTEGER)
        snprintf(buf, sizeof buf, "%c%c%zu", bo, H5Tget_sign(t) == H5T_SGN_NONE ? 'u' : 'i', size);
    else if (c == H5T_FLOAT)
        snprintf(buf, sizeof buf, "%cf%zu", bo, size);
    else if (c == H5T_STRING && H5Tis_variable_str(t) <= 0)
        snprintf(buf, sizeof buf, "|S%zu", size);
    else if (c == H5T_OPAQUE || c == H5T_BITFIELD || c == H5T_COMPOUND || c == H5T_ARRAY ||
             c == H5T_ENUM)
        snprintf(buf, sizeof buf, "|V%zu", size);
    H5Tclose(t);
    if (!*buf) return NULL;
    char *d = malloc(strlen(buf) + 1);
    if (d) strcpy(d, buf);
    return d;
}

int tcli_h5_open(tcli_src *s)
{
    tersa_h5_info hi = {.struct_size = sizeof hi};
    if (s->mem) {
        fprintf(stderr, "error: %s: HDF5 files cannot be read from stdin\n", s->arg);
        return TCLI_FAIL;
    }
    if (!s->dataset || !*s->dataset) {
        fprintf(stderr, "error: %s: an HDF5 file; name a dataset as %s:/group/dataset\n", s->arg,
                s->file);
        return TCLI_FAIL;
    }
    tersa_h5dset *d = tersa_h5_open_path(s->file, s->dataset, TERSA_H5_READONLY);
    if (!d) return tcli_detail_error(s->arg);
    s->h5 = d;
    int rc = tersa_h5_set_nthreads(d, s->nthreads);
    if (rc >= 0) rc = tersa_h5_get_info(d, &hi);
    if (rc < 0) return tcli_tersa_error(s->arg, rc);
    if (hi.itemsize < 1 || hi.itemsize > INT32_MAX || hi.rank > TCLI_MAXDIM)
        return tcli_tersa_error(s->arg, TERSA_ERR_UNSUPPORTED);
    s->ndim = hi.rank;
    memcpy(s->shape, hi.shape, sizeof hi.shape[0] * (size_t)hi.rank);
    s->itemsize = (int32_t)hi.itemsize;
    s->dtype = tcli_h5_dtype(tersa_h5_dataset_id(d));
    return TCLI_OK;
}

void tcli_h5_close(tcli_src *s)
{
    tersa_h5_close(s->h5);
    s->h5 = NULL;
}

int tcli_h5_read(tcli_src *s, const int64_t *start, const int64_t *count, const int64_t *step,
                 void *dst, size_t n)
{
    int64_t rc = tersa_h5_read(s->h5, start, count, step, dst, n);
    return rc < 0 ? tcli_tersa_error(s->arg, rc) : TCLI_OK;
}

/* codec, filters, clevel and the Blosc2 parameters of the cd_values (revision 1 and 2). */
static void tcli_h5_rec_filter(tcli_rec *r, const tersa_h5_info *hi)
{
    const unsigned *cd = hi->cd_values;
    int64_t cdv[TERSA_H5_MAX_CD];
    const char *codec = hi->blosc2 && hi->ncd > 6 ? tersa_codec_name((int)cd[6]) : NULL;
    const char *filt = hi->blosc2 && hi->ncd > 5 ? tersa_filter_name((int)cd[5]) : NULL;
    const char *fl[1] = {filt};
    for (int i = 0; i < hi->ncd && i < TERSA_H5_MAX_CD; i++) cdv[i] = cd[i];
    tcli_rec_str(r, "codec", hi->blosc2 ? (codec ? codec : "unknown") : NULL);
    if (hi->blosc2 && hi->ncd > 4)
        tcli_rec_int(r, "clevel", cd[4]);
    else
        tcli_rec_raw(r, "clevel", "null", "-");
    tcli_rec_strs(r, "filters", fl, filt && cd[5] != 0 ? 1 : 0);
    tcli_rec_int(r, "blosc2_filter", hi->blosc2);
    tcli_rec_int(r, "filter_revision", hi->blosc2 && hi->ncd > 0 ? (long long)cd[0] : -1);
    tcli_rec_ints(r, "cd_values", hi->blosc2 ? cdv : NULL, hi->ncd);
    tcli_rec_int(r, "fletcher32", hi->fletcher32);
    tcli_rec_int(r, "nfilters", hi->nfilters);
    tcli_rec_str(r, "read_path", hi->path == TERSA_H5_PATH_DIRECT ? "direct" : "pipeline");
}

int tcli_h5_info(tcli_src *s, int json)
{
    tersa_h5_info hi = {.struct_size = sizeof hi};
    tcli_rec r;
    int rc = tersa_h5_get_info(s->h5, &hi);
    if (rc < 0) return tcli_tersa_error(s->arg, rc);
    int64_t nbytes = tcli_src_nitems(s) * s->itemsize;
    hsize_t stored = H5Dget_storage_size(tersa_h5_dataset_id(s->h5));
    tcli_rec_begin(&r, stdout, json);
    tcli_rec_str(&r, "file", s->file);
    tcli_rec_str(&r, "kind", "hdf5");
    tcli_rec_str(&r, "dataset", s->dataset);
    tcli_rec_int(&r, "ndim", hi.rank);
    tcli_rec_ints(&r, "shape", hi.shape, hi.rank);
    tcli_rec_ints(&r, "maxshape", hi.maxshape, hi.rank);
    tcli_rec_str(&r, "dtype", s->dtype);
    tcli_rec_ints(&r, "chunkshape", hi.chunkshape[0] ? hi.chunkshape : NULL, hi.rank);
    tcli_rec_ints(&r, "blockshape", NULL, 0);
    tcli_rec_int(&r, "itemsize", hi.itemsize);
    tcli_h5_rec_filter(&r, &hi);
    tcli_rec_int(&r, "nbytes", nbytes);
    tcli_rec_int(&r, "cbytes", (long long)stored);
    tcli_rec_real(&r, "ratio", stored ? (double)nbytes / (double)stored : 0.0);
    tcli_rec_int(&r, "nchunks", hi.nchunks);
    tcli_rec_end(&r);
    return TCLI_OK;
}

/* Read every chunk's region; report each that fails by its chunk coordinates. */
int tcli_h5_verify(tcli_src *s, int verbose)
{
    tersa_h5_info hi = {.struct_size = sizeof hi};
    int64_t cs[TCLI_MAXDIM], idx[TCLI_MAXDIM] = {0}, st[TCLI_MAXDIM], cnt[TCLI_MAXDIM];
    int64_t grid[TCLI_MAXDIM], per = s->itemsize, n = 0, bad = 0;
    int rc = tersa_h5_get_info(s->h5, &hi);
    if (rc < 0) return tcli_tersa_error(s->arg, rc);
    for (int i = 0; i < s->ndim; i++) {
        cs[i] = hi.chunkshape[i] > 0 ? hi.chunkshape[i] : (s->shape[i] ? s->shape[i] : 1);
        grid[i] = s->shape[i] ? (s->shape[i] + cs[i] - 1) / cs[i] : 0;
        per *= cs[i];
        if (!grid[i]) return TCLI_OK;
    }
    uint8_t *buf = malloc((size_t)per);
    if (!buf) return tcli_tersa_error(s->arg, TERSA_ERR_NOMEM);
    for (int more = 1; more; n++) {
        int64_t bytes = s->itemsize;
        for (int i = 0; i < s->ndim; i++) {
            st[i] = idx[i] * cs[i];
            cnt[i] = s->shape[i] - st[i] < cs[i] ? s->shape[i] - st[i] : cs[i];
            bytes *= cnt[i];
        }
        int64_t got = tersa_h5_read(s->h5, st, cnt, NULL, buf, (size_t)bytes);
        if (got < 0) {
            fprintf(stderr, "error: %s: chunk %lld (", s->arg, (long long)n);
            for (int i = 0; i < s->ndim; i++) fprintf(stderr, "%s%lld", i ? ", " : "", (long long)idx[i]);
            fprintf(stderr, "): %s: %s\n", tersa_error_name((int)got), tersa_error_detail());
            bad++;
        }
        int i = s->ndim - 1;
        while (i >= 0 && ++idx[i] == grid[i]) idx[i--] = 0;
        more = i >= 0;
    }
    free(buf);
    if (bad) fprintf(stderr, "%s: %lld of %lld chunks damaged\n", s->arg, (long long)bad, (long long)n);
    else if (verbose) printf("%s: ok (hdf5, %lld chunks)\n", s->arg, (long long)n);
    return bad ? TCLI_FAIL : TCLI_OK;
}

#else /* no HDF5 layer in this build */

int tcli_h5_available(void) { return 0; }

int tcli_h5_open(tcli_src *s)
{
    fprintf(stderr, "error: %s: an HDF5 file; this tersa was built without the HDF5 layer "
                    "(libtersa_h5)\n", s->arg);
    return TCLI_FAIL;
}

void tcli_h5_close(tcli_src *s) { s->h5 = NULL; }

int tcli_h5_read(tcli_src *s, const int64_t *start, const int64_t *count, const int64_t *step,
                 void *dst, size_t n)
{
    return tcli_h5_open(s);
}

int tcli_h5_info(tcli_src *s, int json) { return tcli_h5_open(s); }

int tcli_h5_verify(tcli_src *s, int verbose) { return tcli_h5_open(s); }

#endif

/* The HDF5 plug of the `tersa` command: PATH.h5:/group/dataset as a source (open, read
 * hyperslabs, info, verify) through the HDF5 layer (tersa/tersa_h5.h, libtersa_h5). Built with
 * that layer when TCLI_HAVE_H5 is defined (cli/CMakeLists.txt does so when the tersa_h5 target
 * exists); otherwise every entry point says that this build has no HDF5 support. This file and
 * its siblings tersa_cli_h5ls.c (`tersa ls`) and tersa_cli_h5demo.c (the HDF5 part of
 * `tersa demo`) are the only ones that know about HDF5: the sniffing of the file signature and the PATH:DATASET
 * split live in tersa_cli_source.c, and the rest of the CLI sees an array view. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

#ifdef TCLI_HAVE_H5
#include "tersa/tersa_h5.h"

int tcli_h5_available(void)
{
    return 1;
}

/* The NumPy type string of a dataset's file datatype, or NULL when there is no simple one
 * (declared in tersa_cli.h; also used by `tersa ls`). */
char *tcli_h5_dtype(int64_t dset)
{
    char buf[32] = "";
    hid_t t = H5Dget_type(dset);
    if (t < 0)
        return NULL;
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
    if (!*buf)
        return NULL;
    char *d = malloc(strlen(buf) + 1);
    if (d)
        strcpy(d, buf);
    return d;
}

typedef struct tcli_h5_list {
    int n;
    const char *file;
} tcli_h5_list;

/* H5Lvisit callback: print the links that are datasets. */
static herr_t tcli_h5_visit(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    tcli_h5_list *l = data;
    hid_t d;
    (void)info;
    H5E_BEGIN_TRY
    {
        d = H5Dopen2(g, name, H5P_DEFAULT);
    }
    H5E_END_TRY;
    if (d >= 0) {
        fprintf(stderr, "%s%s:/%s", l->n++ ? ", " : "", l->file, name);
        H5Dclose(d);
    }
    return l->n < 50 ? 0 : 1;
}

/* An HDF5 file named without a dataset: one error line listing its datasets. */
static int tcli_h5_no_dataset(tcli_src *s)
{
    tcli_h5_list l = {0, s->file};
    hid_t f;
    fprintf(stderr, "error: %s: an HDF5 file; name a dataset as FILE.h5:/path (", s->arg);
    H5E_BEGIN_TRY
    {
        f = H5Fopen(s->file, H5F_ACC_RDONLY, H5P_DEFAULT);
    }
    H5E_END_TRY;
    if (f >= 0) {
        H5E_BEGIN_TRY
        {
            H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, tcli_h5_visit, &l);
        }
        H5E_END_TRY;
        H5Fclose(f);
    }
    fprintf(stderr, "%s)\n", l.n ? "" : "no datasets found");
    return TCLI_FAIL;
}

int tcli_h5_open(tcli_src *s)
{
    tersa_h5_info hi = {.struct_size = sizeof hi};
    if (s->mem) {
        fprintf(stderr, "error: %s: HDF5 files cannot be read from stdin\n", s->arg);
        return TCLI_FAIL;
    }
    if (!s->dataset || !*s->dataset)
        return tcli_h5_no_dataset(s);
    tersa_h5dset *d = tersa_h5_open_path(s->file, s->dataset, TERSA_H5_READONLY);
    if (!d)
        return tcli_detail_error(s->arg);
    s->h5 = d;
    int rc = tersa_h5_set_nthreads(d, s->nthreads);
    if (rc >= 0)
        rc = tersa_h5_get_info(d, &hi);
    if (rc < 0)
        return tcli_tersa_error(s->arg, rc);
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
    for (int i = 0; i < hi->ncd && i < TERSA_H5_MAX_CD; i++)
        cdv[i] = cd[i];
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
    if (rc < 0)
        return tcli_tersa_error(s->arg, rc);
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

/* Read the region of the chunk at grid coordinates idx; report it when that fails. */
static int tcli_h5_check_chunk(tcli_src *s, int64_t n, const int64_t *idx, const int64_t *cs,
                               uint8_t *buf)
{
    int64_t st[TCLI_MAXDIM], cnt[TCLI_MAXDIM], bytes = s->itemsize;
    for (int i = 0; i < s->ndim; i++) {
        st[i] = idx[i] * cs[i];
        cnt[i] = s->shape[i] - st[i] < cs[i] ? s->shape[i] - st[i] : cs[i];
        bytes *= cnt[i];
    }
    int64_t got = tersa_h5_read(s->h5, st, cnt, NULL, buf, (size_t)bytes);
    if (got >= 0)
        return 0;
    fprintf(stderr, "error: %s: chunk %lld (", s->arg, (long long)n);
    for (int i = 0; i < s->ndim; i++)
        fprintf(stderr, "%s%lld", i ? ", " : "", (long long)idx[i]);
    fprintf(stderr, "): %s: %s\n", tersa_error_name((int)got), tersa_error_detail());
    return 1;
}

/* Read every chunk's region; report each that fails by its chunk coordinates. */
int tcli_h5_verify(tcli_src *s, int verbose)
{
    tersa_h5_info hi = {.struct_size = sizeof hi};
    int64_t cs[TCLI_MAXDIM], idx[TCLI_MAXDIM] = {0}, grid[TCLI_MAXDIM];
    int64_t per = s->itemsize, n = 0, bad = 0;
    int rc = tersa_h5_get_info(s->h5, &hi);
    if (rc < 0)
        return tcli_tersa_error(s->arg, rc);
    for (int i = 0; i < s->ndim; i++) {
        cs[i] = hi.chunkshape[i] > 0 ? hi.chunkshape[i] : (s->shape[i] ? s->shape[i] : 1);
        grid[i] = s->shape[i] ? (s->shape[i] + cs[i] - 1) / cs[i] : 0;
        per *= cs[i];
        if (!grid[i])
            return TCLI_OK;
    }
    uint8_t *buf = malloc((size_t)per);
    if (!buf)
        return tcli_tersa_error(s->arg, TERSA_ERR_NOMEM);
    for (int more = 1; more; n++) {
        bad += tcli_h5_check_chunk(s, n, idx, cs, buf);
        int i = s->ndim - 1;
        while (i >= 0 && ++idx[i] == grid[i])
            idx[i--] = 0;
        more = i >= 0;
    }
    free(buf);
    if (bad)
        fprintf(stderr, "%s: %lld of %lld chunks damaged\n", s->arg, (long long)bad, (long long)n);
    else if (verbose)
        printf("%s: ok (hdf5, %lld chunks)\n", s->arg, (long long)n);
    return bad ? TCLI_FAIL : TCLI_OK;
}

/* ---- HDF5 output ------------------------------------------------------------------------ */

/* FILE.h5[:DATASET] split into the file (malloc'd) and the dataset (default /data). */
static char *tcli_h5_split(const char *path, const char **name)
{
    const char *c = strstr(path, ".h5:");
    const char *e = c ? c + 3 : (c = strstr(path, ".hdf5:")) ? c + 5 : NULL;
    size_t n = e ? (size_t)(e - path) : strlen(path);
    char *file = malloc(n + 1);
    if (file)
        memcpy(file, path, n), file[n] = '\0';
    *name = e && e[1] ? e + 1 : "/data";
    return file;
}

/* The HDF5 file datatype for a NumPy type string (opaque bytes when there is none). */
static hid_t tcli_h5_type(const char *dtype, int32_t itemsize)
{
    static const hid_t *ints[2][4] = {
        {&H5T_STD_I8LE_g, &H5T_STD_I16LE_g, &H5T_STD_I32LE_g, &H5T_STD_I64LE_g},
        {&H5T_STD_U8LE_g, &H5T_STD_U16LE_g, &H5T_STD_U32LE_g, &H5T_STD_U64LE_g}};
    int ok = dtype && tcli_dtype_itemsize(dtype) == itemsize;
    const char *d = ok && strchr("<>|=", dtype[0]) ? dtype + 1 : dtype;
    char kind = ok ? (*d == '?' ? 'b' : *d) : 'V';
    int lg = itemsize == 1 ? 0 : itemsize == 2 ? 1 : itemsize == 4 ? 2 : itemsize == 8 ? 3 : -1;
    hid_t t = -1;
    (void)H5open(); /* the H5T_*_g globals are set by the library's initialisation */
    if (strchr("iub", kind) && lg >= 0)
        t = H5Tcopy(*ints[kind != 'i'][lg]);
    else if (kind == 'f' && (itemsize == 4 || itemsize == 8))
        t = H5Tcopy(itemsize == 4 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE);
    else if (kind == 'S' && (t = H5Tcopy(H5T_C_S1)) >= 0)
        H5Tset_size(t, (size_t)itemsize);
    if (t >= 0 && strchr("iuf", kind) && dtype[0] == '>')
        H5Tset_order(t, H5T_ORDER_BE);
    return t >= 0 ? t : H5Tcreate(H5T_OPAQUE, (size_t)itemsize);
}

/* The chunk shape: --chunks, or the b2nd automatic one. */
static int tcli_h5_chunks(const tcli_out_params *p, int64_t *cs)
{
    int32_t auto_cs[TCLI_MAXDIM];
    tersa_nd_params np = {.struct_size = sizeof np,
                          .ndim = p->ndim,
                          .shape = p->shape,
                          .chunkshape = p->chunks,
                          .itemsize = p->itemsize,
                          .cparams = p->cctx};
    if (!p->chunks &&
        (p->ndim > TERSA_ND_MAX_DIM_WRITE || tersa_nd_auto_shapes(&np, auto_cs, NULL) < 0))
        for (int i = 0; i < p->ndim; i++)
            auto_cs[i] = i ? (int32_t)p->shape[i] : 1;
    for (int i = 0; i < p->ndim; i++) {
        cs[i] = p->chunks ? p->chunks[i] : auto_cs[i];
        if (cs[i] < 1)
            cs[i] = 1;
    }
    return TCLI_OK;
}

/* Open or create the file; an existing dataset is deleted with force, else refused. */
static int tcli_h5_sink_file(tcli_sink *k, const char *file, const char *name, int force)
{
    hid_t f, d;
    H5E_BEGIN_TRY
    {
        f = tcli_path_exists(file) ? H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT)
                                   : H5Fcreate(file, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
        d = f >= 0 ? H5Dopen2(f, name, H5P_DEFAULT) : -1;
    }
    H5E_END_TRY;
    if (f < 0) {
        fprintf(stderr, "error: %s: cannot open or create the HDF5 file\n", file);
        return TCLI_FAIL;
    }
    k->h5file = f;
    if (d >= 0)
        H5Dclose(d);
    if (d >= 0 && !force) {
        fprintf(stderr, "error: %s: dataset %s already exists (use -f to replace it)\n", file,
                name);
        return TCLI_FAIL;
    }
    if (d >= 0 && H5Ldelete(f, name, H5P_DEFAULT) < 0) {
        fprintf(stderr, "error: %s: cannot replace dataset %s\n", file, name);
        return TCLI_FAIL;
    }
    return TCLI_OK;
}

static void tcli_h5_sink_params(tersa_h5_params *hp, const tcli_out_params *p)
{
    int64_t v = 0;
    tersa_h5_params_init(hp);
    hp->rank = p->ndim;
    hp->shape = p->shape;
    if (tersa_cctx_get(p->cctx, TERSA_P_CLEVEL, &v) == 0)
        hp->clevel = (int)v;
    if (tersa_cctx_get(p->cctx, TERSA_P_FILTER5, &v) == 0)
        hp->filter = (int)v;
    if (tersa_cctx_get(p->cctx, TERSA_P_CODEC, &v) == 0)
        hp->codec = (int)v;
    if (tersa_cctx_get(p->cctx, TERSA_P_BLOCKSIZE, &v) == 0)
        hp->blocksize = (int32_t)v;
}

int tcli_h5_sink_open(tcli_sink *k, const tcli_out_params *p)
{
    const char *name = NULL;
    int64_t cs[TCLI_MAXDIM];
    tersa_h5_params hp;
    char *file = tcli_h5_split(k->path, &name);
    int rc = file ? TCLI_OK : tcli_tersa_error(k->path, TERSA_ERR_NOMEM);
    k->h5name = file ? malloc(strlen(name) + 1) : NULL;
    if (k->h5name)
        strcpy(k->h5name, name);
    if (rc == TCLI_OK && p->ndim < 1)
        rc = tcli_usage_error("convert", "HDF5 datasets need at least one axis");
    k->h5made = file && !tcli_path_exists(file) ? 1 : 0;
    if (rc == TCLI_OK)
        rc = tcli_h5_sink_file(k, file, name, p->force);
    tcli_h5_sink_params(&hp, p);
    hp.chunkshape = cs;
    hp.type = p->h5src ? H5Dget_type(tersa_h5_dataset_id(p->h5src))
                       : tcli_h5_type(p->dtype, p->itemsize);
    hp.lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (hp.lcpl >= 0)
        H5Pset_create_intermediate_group(hp.lcpl, 1);
    if (rc == TCLI_OK)
        rc = tcli_h5_chunks(p, cs);
    if (rc == TCLI_OK && !(k->h5dset = tersa_h5_create(k->h5file, name, &hp)))
        rc = tcli_detail_error(k->path);
    if (k->h5dset)
        k->h5made |= 2;
    if (rc == TCLI_OK)
        tersa_h5_set_nthreads(k->h5dset, tcli_cctx_threads(p->cctx));
    k->slab_rows = cs[0];
    if (hp.type >= 0)
        H5Tclose(hp.type);
    if (hp.lcpl >= 0)
        H5Pclose(hp.lcpl);
    free(file);
    return rc;
}

int tcli_h5_sink_rows(tcli_sink *k, int64_t row0, int64_t rows, const uint8_t *buf, size_t n)
{
    int64_t start[TCLI_MAXDIM] = {0}, count[TCLI_MAXDIM];
    memcpy(count, k->shape, sizeof count[0] * (size_t)k->ndim);
    start[0] = row0;
    count[0] = rows;
    int64_t rc = tersa_h5_write(k->h5dset, start, count, NULL, buf, n);
    return rc < 0 ? tcli_tersa_error(k->path, rc) : TCLI_OK;
}

int tcli_h5_sink_close(tcli_sink *k, int discard)
{
    int rc = TCLI_OK;
    const char *name = NULL;
    tersa_h5_close(k->h5dset);
    k->h5dset = NULL;
    if (k->h5file > 0) {
        if (discard && k->h5made == 2 && k->h5name) {
            H5E_BEGIN_TRY
            {
                H5Ldelete(k->h5file, k->h5name, H5P_DEFAULT);
            }
            H5E_END_TRY;
        }
        if (H5Fclose(k->h5file) < 0) {
            fprintf(stderr, "error: %s: closing the HDF5 file failed\n", k->path);
            rc = TCLI_FAIL;
        }
        k->h5file = 0;
    }
    char *file = discard && (k->h5made & 1) ? tcli_h5_split(k->path, &name) : NULL;
    if (file)
        remove(file);
    free(file);
    k->h5made = 0;
    free(k->h5name);
    k->h5name = NULL;
    return rc;
}

/* ---- tersa convert -r: repack a whole file --------------------------------------------- */

typedef struct tcli_h5_repack_st {
    hid_t src, dst;
    int verbose, failed;
    char **names; /* datasets to convert (malloc'd paths) */
    size_t n, cap;
} tcli_h5_repack_st;

/* Copy one attribute of `loc` to the object id in *data (fixed and variable-length types). */
static herr_t tcli_h5_attr_cb(hid_t loc, const char *name, const H5A_info_t *ai, void *data)
{
    hid_t to = *(hid_t *)data, a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1, sp = a >= 0 ? H5Aget_space(a) : -1, b = -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    size_t sz = t >= 0 ? H5Tget_size(t) : 0;
    void *buf = n >= 0 && sz ? calloc((size_t)n + 1, sz) : NULL;
    int ok = buf && H5Aread(a, t, buf) >= 0;
    (void)ai;
    if (ok && (b = H5Acreate2(to, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0)
        ok = H5Awrite(b, t, buf) >= 0;
    if (ok && (H5Tdetect_class(t, H5T_VLEN) > 0 || H5Tis_variable_str(t) > 0))
        H5Dvlen_reclaim(t, sp, H5P_DEFAULT, buf);
    free(buf);
    if (b >= 0)
        H5Aclose(b);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return 0; /* an attribute that cannot be copied is left out */
}

/* Copy the attributes of object `name` of file s->src to the same object of s->dst. */
static void tcli_h5_copy_attrs(hid_t src, hid_t dst, const char *name)
{
    hid_t a = H5Oopen(src, name, H5P_DEFAULT), b = H5Oopen(dst, name, H5P_DEFAULT);
    if (a >= 0 && b >= 0)
        H5Aiterate2(a, H5_INDEX_NAME, H5_ITER_INC, NULL, tcli_h5_attr_cb, &b);
    if (a >= 0)
        H5Oclose(a);
    if (b >= 0)
        H5Oclose(b);
}

/* 1 when the dataset can go through the convert path: fixed-size items, rank >= 1, items. */
static int tcli_h5_convertible(hid_t d)
{
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : 0;
    H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    int ok = rank >= 1 && rank <= TCLI_MAXDIM && n > 0 && c != H5T_VLEN && c != H5T_REFERENCE &&
             c != H5T_NO_CLASS && H5Tdetect_class(t, H5T_VLEN) == 0 &&
             H5Tis_variable_str(t) <= 0 && H5Tget_size(t) <= INT32_MAX;
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    return ok;
}

static int tcli_h5_remember(tcli_h5_repack_st *st, const char *name)
{
    if (st->n == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 16;
        char **p = realloc(st->names, cap * sizeof *p);
        if (!p)
            return -1;
        st->names = p, st->cap = cap;
    }
    char *c = tcli_concat("/", name);
    if (!c)
        return -1;
    st->names[st->n++] = c;
    return 0;
}

/* A dataset: remembered for conversion, or copied as it is with H5Ocopy. */
static int tcli_h5_repack_dset(tcli_h5_repack_st *st, hid_t d, const char *name)
{
    if (tcli_h5_convertible(d))
        return tcli_h5_remember(st, name);
    if (H5Ocopy(st->src, name, st->dst, name, H5P_DEFAULT, H5P_DEFAULT) < 0)
        return -1;
    if (st->verbose)
        fprintf(stderr, "/%s: copied as it is (variable-length, empty or not chunkable)\n",
                name);
    return 0;
}

/* A soft link is recreated; external and user-defined links are left out. */
static int tcli_h5_repack_link(tcli_h5_repack_st *st, const char *name, const H5L_info_t *li)
{
    char val[4096];
    if (li->type == H5L_TYPE_SOFT && li->u.val_size <= sizeof val &&
        H5Lget_val(st->src, name, val, sizeof val, H5P_DEFAULT) >= 0)
        return H5Lcreate_soft(val, st->dst, name, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
    if (st->verbose)
        fprintf(stderr, "/%s: external link left out\n", name);
    return 0;
}

/* H5Lvisit callback: groups recreated (with their attributes), datasets sorted out, named
 * datatypes copied. */
static herr_t tcli_h5_repack_cb(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    tcli_h5_repack_st *st = data;
    int rc = 0;
    (void)g;
    if (li->type != H5L_TYPE_HARD)
        rc = tcli_h5_repack_link(st, name, li);
    hid_t o = li->type == H5L_TYPE_HARD ? H5Oopen(st->src, name, H5P_DEFAULT) : -1;
    H5I_type_t it = o >= 0 ? H5Iget_type(o) : H5I_BADID;
    if (it == H5I_GROUP) {
        hid_t ng = H5Gcreate2(st->dst, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        rc = ng < 0 ? -1 : H5Gclose(ng) < 0 ? -1 : 0;
        if (rc == 0)
            tcli_h5_copy_attrs(st->src, st->dst, name);
    } else if (it == H5I_DATASET) {
        rc = tcli_h5_repack_dset(st, o, name);
    } else if (it == H5I_DATATYPE) {
        rc = H5Ocopy(st->src, name, st->dst, name, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
    }
    if (o >= 0)
        H5Oclose(o);
    if (rc < 0)
        fprintf(stderr, "error: /%s: cannot copy it to the new file\n", name);
    st->failed |= rc < 0;
    return rc < 0 ? -1 : 0;
}

/* Phase 1: the new file with every group, attribute of groups and uncovertible dataset. */
static int tcli_h5_repack_tree(tcli_h5_repack_st *st, const char *src, const char *dst)
{
    H5E_BEGIN_TRY
    {
        st->src = H5Fopen(src, H5F_ACC_RDONLY, H5P_DEFAULT);
        st->dst = st->src >= 0 ? H5Fcreate(dst, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT) : -1;
        if (st->dst >= 0) {
            tcli_h5_copy_attrs(st->src, st->dst, "/");
            H5Lvisit(st->src, H5_INDEX_NAME, H5_ITER_INC, tcli_h5_repack_cb, st);
        }
    }
    H5E_END_TRY;
    if (st->src < 0)
        fprintf(stderr, "error: %s: cannot open the HDF5 file\n", src);
    else if (st->dst < 0)
        fprintf(stderr, "error: %s: cannot create the HDF5 file\n", dst);
    int rc = st->src < 0 || st->dst < 0 || st->failed ? TCLI_FAIL : TCLI_OK;
    if (st->dst >= 0 && H5Fclose(st->dst) < 0)
        rc = TCLI_FAIL;
    st->dst = -1;
    return rc;
}

/* Phase 2: every remembered dataset through fn, then its attributes. */
static int tcli_h5_repack_data(tcli_h5_repack_st *st, const char *src, const char *dst,
                               tcli_h5_conv_fn fn, void *ctx)
{
    int rc = TCLI_OK;
    for (size_t i = 0; i < st->n && rc == TCLI_OK; i++) {
        char *a = tcli_concat(src, ":"), *b = tcli_concat(dst, ":");
        char *sa = a ? tcli_concat(a, st->names[i]) : NULL;
        char *db = b ? tcli_concat(b, st->names[i]) : NULL;
        rc = sa && db ? fn(ctx, sa, db) : TCLI_FAIL;
        free(a), free(b), free(sa), free(db);
    }
    H5E_BEGIN_TRY
    {
        st->dst = rc == TCLI_OK ? H5Fopen(dst, H5F_ACC_RDWR, H5P_DEFAULT) : -1;
        for (size_t i = 0; st->dst >= 0 && i < st->n; i++)
            tcli_h5_copy_attrs(st->src, st->dst, st->names[i]);
    }
    H5E_END_TRY;
    if (st->dst >= 0 && H5Fclose(st->dst) < 0)
        rc = TCLI_FAIL;
    return rc;
}

int tcli_h5_repack(const char *src, const char *dst, int verbose, tcli_h5_conv_fn fn, void *ctx)
{
    tcli_h5_repack_st st = {.src = -1, .dst = -1, .verbose = verbose};
    int rc = tcli_h5_repack_tree(&st, src, dst);
    if (rc == TCLI_OK)
        rc = tcli_h5_repack_data(&st, src, dst, fn, ctx);
    if (st.src >= 0)
        H5Fclose(st.src);
    for (size_t i = 0; i < st.n; i++)
        free(st.names[i]);
    free(st.names);
    if (rc != TCLI_OK)
        remove(dst);
    return rc;
}

#else /* no HDF5 layer in this build */

int tcli_h5_available(void)
{
    return 0;
}

int tcli_h5_open(tcli_src *s)
{
    fprintf(stderr,
            "error: %s: an HDF5 file; this tersa was built without the HDF5 layer "
            "(libtersa_h5)\n",
            s->arg);
    return TCLI_FAIL;
}

void tcli_h5_close(tcli_src *s)
{
    s->h5 = NULL;
}

int tcli_h5_read(tcli_src *s, const int64_t *start, const int64_t *count, const int64_t *step,
                 void *dst, size_t n)
{
    (void)start, (void)count, (void)step, (void)dst, (void)n;
    return tcli_h5_open(s);
}

int tcli_h5_info(tcli_src *s, int json)
{
    (void)json;
    return tcli_h5_open(s);
}

int tcli_h5_verify(tcli_src *s, int verbose)
{
    (void)verbose;
    return tcli_h5_open(s);
}

int tcli_h5_sink_open(struct tcli_sink *k, const struct tcli_out_params *p)
{
    (void)p;
    fprintf(stderr,
            "error: %s: HDF5 output needs the HDF5 layer (libtersa_h5), not in this "
            "build\n",
            k->path);
    return TCLI_FAIL;
}

int tcli_h5_sink_rows(struct tcli_sink *k, int64_t row0, int64_t rows, const uint8_t *buf,
                      size_t n)
{
    (void)k, (void)row0, (void)rows, (void)buf, (void)n;
    return TCLI_FAIL;
}

int tcli_h5_sink_close(struct tcli_sink *k, int discard)
{
    (void)k, (void)discard;
    return TCLI_OK;
}

int tcli_h5_repack(const char *src, const char *dst, int verbose, tcli_h5_conv_fn fn, void *ctx)
{
    (void)dst, (void)verbose, (void)fn, (void)ctx;
    fprintf(stderr,
            "error: %s: repacking HDF5 files needs the HDF5 layer (libtersa_h5), not in this "
            "build\n",
            src);
    return TCLI_FAIL;
}

#endif

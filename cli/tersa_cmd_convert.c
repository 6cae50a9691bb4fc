/* `tersa convert SRC DST`: between .npy files, b2nd arrays, frames and chunks (and HDF5
 * datasets as sources once the HDF5 layer is built), streamed piece by piece: SRC is read in
 * C-order pieces of at most TCLI_PIECE bytes, DST written one chunk (frame) or one chunk row
 * (b2nd) at a time. A progress bar shows rate and time left on a terminal. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tersa_cli.h"

typedef struct tcli_conv_args {
    const char *to, *chunks, *blocks, *slice, *dtype, *chunksize;
    int force, verbose, quiet, progress, no_progress, repack;
    tersa_cctx *cctx;
    int typesize_given;
} tcli_conv_args;

static void tcli_convert_usage(FILE *f)
{
    fprintf(f, "usage: tersa convert SRC DST [options]\n"
               "       tersa convert -r SRC.h5 DST.h5 [options]\n\n"
               "Convert between .npy files, b2nd arrays (*.b2nd), frames (*.b2frame), bare\n"
               "chunks (*.cdata) and Blosc2 datasets of HDF5 files (FILE.h5:/path; as DST the\n"
               "dataset defaults to /data and intermediate groups are created). The kind of\n"
               "DST comes from its name or --to. Frames and chunks are 1-D arrays of their\n"
               "typesize; an array written to a frame keeps its items in C order. Data are\n"
               "streamed: one piece of SRC and one chunk row of DST in memory at a time.\n"
               "With -r, every group, link and attribute of the HDF5 file SRC is recreated\n"
               "in DST and every dataset (any filter) rewritten as a Blosc2 dataset, one at\n"
               "a time; variable-length, scalar and empty datasets are copied as they are.\n\n"
               "Options:\n"
               "  --to KIND          npy, b2nd, frame, chunk, hdf5 or raw (needed for DST \"-\")\n"
               "  --chunks LIST      b2nd or HDF5 chunk shape, e.g. 64,128 (default automatic)\n"
               "  --blocks LIST      b2nd block shape (default automatic)\n"
               "  --chunksize SIZE   frame chunk bytes (K/M/G suffixes; default 4M)\n"
               "  --slice SPEC       convert a selection (as tersa cat --slice)\n"
               "  --dtype TYPE       the NumPy type recorded in DST when SRC has none\n"
               "  -r, --repack       repack a whole HDF5 file (SRC.h5 DST.h5)\n"
               "  -f, --force        overwrite DST\n"
               "  -v, --verbose      print what was written\n"
               "  -q, --quiet        no progress bar\n"
               "  --progress         a progress bar even when stderr is not a terminal\n"
               "  --no-progress      no progress bar\n"
               "  -h, --help         this help\n\n"
               "The frame typesize defaults to the item size of SRC.\n\n");
    tcli_cparam_help(f);
}

/* A chunk or block shape list with one entry per axis of the output. */
static int tcli_shape_list(const char *opt, const char *text, int ndim, int32_t *out)
{
    int64_t v[TCLI_MAXDIM];
    int n = 0;
    if (!text)
        return TCLI_OK;
    if (tcli_int_list(opt, text, 1, INT32_MAX, v, TCLI_MAXDIM, &n) != TCLI_OK)
        return TCLI_USAGE;
    if (n != ndim) {
        fprintf(stderr, "error: %s %s: %d values given, the output has %d axes\n", opt, text, n,
                ndim);
        return TCLI_USAGE;
    }
    for (int i = 0; i < n; i++)
        out[i] = (int32_t)v[i];
    return TCLI_OK;
}

static int tcli_dst_kind(const char *dst, const tcli_conv_args *a)
{
    int k = a->to ? tcli_outkind_parse(a->to) : tcli_outkind_from_name(dst);
    if (k >= 0)
        return k;
    if (a->to)
        fprintf(stderr, "error: --to %s: unknown kind (npy, b2nd, frame, chunk, hdf5, raw)\n",
                a->to);
    else
        fprintf(stderr,
                "error: %s: cannot tell the output kind from the name (.npy, .b2nd, "
                ".b2frame, .cdata, .h5); use --to KIND\n",
                dst);
    return -1;
}

/* The frame typesize follows the source's item size unless --typesize was given. */
static void tcli_convert_typesize(const tcli_src *s, tcli_conv_args *a)
{
    if (!a->typesize_given && s->itemsize >= 1 && s->itemsize <= TERSA_MAX_TYPESIZE)
        tersa_cctx_set(a->cctx, TERSA_P_TYPESIZE, s->itemsize);
}

static int tcli_progress_mode(const tcli_conv_args *a)
{
    return a->no_progress || a->quiet ? 0 : a->progress ? 1 : -1;
}

static int tcli_convert_pump(tcli_src *s, const tcli_sel *sel, tcli_sink *k,
                             const tcli_conv_args *a)
{
    tcli_progress pg;
    tcli_progress_start(&pg, tcli_progress_mode(a), sel->nitems * s->itemsize, s->arg);
    int rc = tcli_pump(s, sel, tcli_sink_piece, k, &pg);
    tcli_progress_end(&pg);
    if (rc != TCLI_OK) {
        tcli_sink_abort(k);
        return rc;
    }
    return tcli_sink_finish(k);
}


/* Whole .npy file -> b2nd file: tersa_array_load_npy streams it in one pass and writes the
 * frame index once, where the chunk-row writes of the b2nd sink rewrite it after every chunk
 * (time quadratic in the number of chunks). The sink is kept for the progress bar when the
 * array has few chunks. */
static int tcli_npy_direct(const tcli_src *s, const char *dst, const tcli_conv_args *a,
                           const tcli_out_params *p)
{
    struct stat st;
    int32_t cs[TCLI_MAXDIM];
    int64_t nchunks = 1;
    if (s->kind != TCLI_K_NPY || s->mem || a->slice || tcli_is_std(dst) ||
        (stat(dst, &st) == 0 && !S_ISREG(st.st_mode)) || p->ndim > TERSA_ND_MAX_DIM_WRITE)
        return 0;
    int mode = tcli_progress_mode(a);
    if (mode == 0 || (mode < 0 && !isatty(STDERR_FILENO)))
        return 1;
    tersa_nd_params np = tcli_nd_params(p, dst);
    if (tersa_nd_auto_shapes(&np, cs, NULL) < 0)
        return 1;
    for (int i = 0; i < p->ndim; i++)
        nchunks *= cs[i] ? (p->shape[i] + cs[i] - 1) / cs[i] : 0;
    return nchunks > 2048;
}

static int tcli_convert_npy(const tcli_src *s, const char *dst, const tcli_out_params *p)
{
    tersa_nd_params np = tcli_nd_params(p, dst);
    if (tcli_check_output(dst, p->force) != TCLI_OK)
        return TCLI_FAIL;
    tersa_array *arr = tersa_array_load_npy(s->file, &np);
    if (arr) {
        tersa_array_free(arr);
        return TCLI_OK;
    }
    tcli_detail_error(dst);
    tcli_remove_output(dst);
    return TCLI_FAIL;
}

static int tcli_convert_run(tcli_src *s, const char *dst, int kind, tcli_conv_args *a)
{
    tcli_sel sel;
    int32_t chunks[TCLI_MAXDIM], blocks[TCLI_MAXDIM];
    int64_t chunkbytes = 0;
    int rc = tcli_sel_parse(&sel, s, a->slice);
    if (rc == TCLI_OK)
        rc = tcli_shape_list("--chunks", a->chunks, sel.out_ndim, chunks);
    if (rc == TCLI_OK)
        rc = tcli_shape_list("--blocks", a->blocks, sel.out_ndim, blocks);
    if (rc == TCLI_OK && a->chunksize)
        rc = tcli_size_arg("--chunksize", a->chunksize, 1, TERSA_MAX_BUFFERSIZE, &chunkbytes);
    if (rc != TCLI_OK)
        return rc;
    if (tcli_same_file(s->file, dst)) {
        fprintf(stderr, "error: %s: source and destination are the same file\n", dst);
        return TCLI_FAIL;
    }
    tcli_convert_typesize(s, a);
    tcli_out_params p = {.cctx = a->cctx,
                         .chunksize = chunkbytes,
                         .ndim = sel.out_ndim,
                         .shape = sel.out_shape,
                         .itemsize = s->itemsize,
                         .dtype = s->dtype ? s->dtype : a->dtype,
                         .chunks = a->chunks ? chunks : NULL,
                         .blocks = a->blocks ? blocks : NULL,
                         .force = a->force,
                         .h5src = s->kind == TCLI_K_HDF5 && kind == TCLI_OUT_HDF5 ? s->h5 : NULL};
    tcli_sink k;
    if (kind == TCLI_OUT_B2ND && tcli_npy_direct(s, dst, a, &p))
        rc = tcli_convert_npy(s, dst, &p);
    else if (tcli_sink_open(&k, (tcli_outkind)kind, dst, &p) != TCLI_OK)
        return TCLI_FAIL;
    else
        rc = tcli_convert_pump(s, &sel, &k, a);
    if (rc == TCLI_OK && a->verbose)
        fprintf(stderr, "%s: %lld bytes of %s -> %s (%s)\n", s->arg,
                (long long)(sel.nitems * s->itemsize), tcli_kind_name(s->kind), dst,
                tcli_outkind_name((tcli_outkind)kind));
    return rc;
}

static int tcli_convert_main(const char *src, const char *dst, tcli_conv_args *a)
{
    tcli_src s;
    int kind = tcli_dst_kind(dst, a);
    if (kind < 0)
        return TCLI_USAGE;
    if (a->dtype && tcli_dtype_itemsize(a->dtype) < 1) {
        fprintf(stderr, "error: --dtype %s: not a NumPy type string such as <f8, |u1\n", a->dtype);
        return TCLI_USAGE;
    }
    if (tcli_src_open(&s, src, tcli_cctx_threads(a->cctx)) != TCLI_OK)
        return TCLI_FAIL;
    int rc = TCLI_FAIL;
    if (s.kind == TCLI_K_RAW)
        fprintf(stderr,
                "error: %s: not a .npy file, b2nd array, frame, chunk or HDF5 file (use "
                "tersa compress for other files)\n",
                src);
    else if (a->dtype && tcli_dtype_itemsize(a->dtype) != s.itemsize)
        rc = tcli_usage_error("convert", "--dtype: its item size differs from the source's");
    else
        rc = tcli_convert_run(&s, dst, kind, a);
    tcli_src_close(&s);
    return rc;
}

/* One dataset of a repack: the single-dataset path into the new file. */
static int tcli_repack_one(void *ctx, const char *src, const char *dst)
{
    tcli_conv_args *a = ctx;
    int rc = tcli_convert_main(src, dst, a);
    return rc == TCLI_OK ? TCLI_OK : TCLI_FAIL;
}

/* convert -r SRC.h5 DST.h5: the options that shape one array are refused. */
static int tcli_convert_repack(const char *src, const char *dst, tcli_conv_args *a)
{
    if (a->slice || a->chunks || a->blocks || a->dtype || a->chunksize ||
        (a->to && strcmp(a->to, "hdf5")))
        return tcli_usage_error("convert", "-r takes no --slice, --chunks, --blocks, --dtype, "
                                           "--chunksize or --to other than hdf5");
    if (!tcli_has_suffix(dst, ".h5") && !tcli_has_suffix(dst, ".hdf5"))
        return tcli_usage_error("convert", "-r: DST must be named *.h5 or *.hdf5");
    if (tcli_same_file(src, dst)) {
        fprintf(stderr, "error: %s: source and destination are the same file\n", dst);
        return TCLI_FAIL;
    }
    if (!tcli_path_exists(src)) {
        fprintf(stderr, "error: %s: no such file\n", src);
        return TCLI_FAIL;
    }
    if (tcli_check_output(dst, a->force) != TCLI_OK)
        return TCLI_FAIL;
    a->to = "hdf5";
    return tcli_h5_repack(src, dst, a->verbose, tcli_repack_one, a);
}

static int tcli_argv_has(int argc, char **argv, const char *opt)
{
    size_t n = strlen(opt);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], opt, n) && (argv[i][n] == '\0' || argv[i][n] == '='))
            return 1;
    return 0;
}

int tcli_cmd_convert(int argc, char **argv)
{
    tcli_conv_args a = {0};
    const char *pos[2];
    const tcli_opt opts[] = {{"--to", NULL, &a.to, NULL},
                             {"--chunks", NULL, &a.chunks, NULL},
                             {"--blocks", NULL, &a.blocks, NULL},
                             {"--chunksize", NULL, &a.chunksize, NULL},
                             {"--slice", NULL, &a.slice, NULL},
                             {"--dtype", NULL, &a.dtype, NULL},
                             {"--force", "-f", NULL, &a.force},
                             {"--repack", "-r", NULL, &a.repack},
                             {"--verbose", "-v", NULL, &a.verbose},
                             {"--quiet", "-q", NULL, &a.quiet},
                             {"--progress", NULL, NULL, &a.progress},
                             {"--no-progress", NULL, NULL, &a.no_progress},
                             {NULL, NULL, NULL, NULL}};
    if (!(a.cctx = tcli_cctx_new()))
        return TCLI_FAIL;
    int npos = 0, rc = tcli_parse(argc, argv, opts, tcli_cparam_option, a.cctx, pos, 2, &npos);
    if (rc < 0)
        tcli_convert_usage(stdout);
    if (rc == TCLI_OK && npos != 2)
        rc = tcli_usage_error("convert", "need SRC and DST");
    a.typesize_given = tcli_argv_has(argc, argv, "--typesize");
    if (rc == TCLI_OK)
        rc = a.repack ? tcli_convert_repack(pos[0], pos[1], &a)
                      : tcli_convert_main(pos[0], pos[1], &a);
    tersa_cctx_free(a.cctx);
    return rc < 0 ? TCLI_OK : rc;
}

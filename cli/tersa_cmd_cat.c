/* `tersa cat PATH[:DATASET] [--slice SPEC]`: a selection of an array printed as text (as NumPy
 * prints it), or written as raw little-endian C-order bytes (--raw) or as a .npy file. Works on
 * b2nd arrays, HDF5 datasets, .npy files, and frames and chunks seen as 1-D arrays of their
 * typesize. Only the chunks (and, for b2nd, the blocks) the selection meets are decoded. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>

#include "tersa_cli.h"

static void tcli_cat_usage(FILE *f)
{
    fprintf(f, "usage: tersa cat PATH[:DATASET] [--slice SPEC] [-o OUT] [--raw | --npy]\n\n"
               "Print a selection of an array as text (NumPy style), or write its items as\n"
               "raw bytes in C order without padding (--raw) or as a .npy file (--npy, or an\n"
               "OUT ending in .npy). PATH is a b2nd array, an HDF5 dataset (FILE.h5:/group/\n"
               "dataset), a .npy file, or a frame or chunk (a 1-D array of its typesize).\n\n"
               "Options:\n"
               "  --slice SPEC   NumPy basic indexing per axis, comma-separated: start:stop:step,\n"
               "                 an index (drops the axis), ':' (all), '...' (the other axes);\n"
               "                 negative values count from the end; steps >= 1\n"
               "  -o, --output OUT  write to OUT instead of stdout\n"
               "  --raw          raw bytes\n"
               "  --npy          a .npy file\n"
               "  --dtype TYPE   read the items as this NumPy type (text output), e.g. <f4\n"
               "  --full         print every item (text output is summarised above 1000 items)\n"
               "  --threads N    decompression threads\n"
               "  -f, --force    overwrite OUT; write binary data to a terminal\n"
               "  -h, --help     this help\n");
}

typedef struct tcli_cat_args {
    const char *out, *slice, *dtype, *threads;
    int raw, npy, full, force;
} tcli_cat_args;

/* Raw bytes or .npy through a sink. */
static int tcli_cat_binary(tcli_src *s, const tcli_sel *sel, const tcli_cat_args *a)
{
    tcli_out_params p = {.ndim = sel->out_ndim,
                         .shape = sel->out_shape,
                         .itemsize = s->itemsize,
                         .dtype = s->dtype,
                         .force = a->force};
    tcli_sink k;
    const char *out = a->out ? a->out : "-";
    if (tcli_is_std(out) && isatty(STDOUT_FILENO) && !a->force) {
        fprintf(stderr, "error: refusing to write binary data to a terminal (use -o OUT, a "
                        "pipe, or -f)\n");
        return TCLI_FAIL;
    }
    if (tcli_sink_open(&k, a->npy ? TCLI_OUT_NPY : TCLI_OUT_RAW, out, &p) != TCLI_OK)
        return TCLI_FAIL;
    int rc = tcli_pump(s, sel, tcli_sink_piece, &k, NULL);
    if (rc != TCLI_OK) {
        tcli_sink_abort(&k);
        return rc;
    }
    return tcli_sink_finish(&k);
}

static int tcli_cat_text(tcli_src *s, const tcli_sel *sel, const tcli_cat_args *a)
{
    FILE *f = stdout;
    if (a->out && !tcli_is_std(a->out)) {
        if (tcli_check_output(a->out, a->force) != TCLI_OK)
            return TCLI_FAIL;
        if (!(f = fopen(a->out, "w")))
            return tcli_write_file(a->out, NULL, 0);
    }
    int rc = tcli_print_text(f, s, sel, a->dtype, a->full);
    int bad = f == stdout ? fflush(f) != 0 : fclose(f) != 0;
    if (bad && rc == TCLI_OK)
        rc = tcli_write_file(a->out ? a->out : "-", NULL, 0);
    if (rc != TCLI_OK && f != stdout)
        tcli_remove_output(a->out);
    return rc;
}

static int tcli_cat_run(const char *path, tcli_cat_args *a)
{
    int64_t nthreads = 1;
    tcli_src s;
    tcli_sel sel;
    if (tbench_param_arg("--threads", TERSA_P_NTHREADS, a->threads, &nthreads))
        return TCLI_USAGE;
    if (a->dtype && tcli_dtype_itemsize(a->dtype) < 1) {
        fprintf(stderr, "error: --dtype %s: not a NumPy type string such as <f8, |u1, <i4\n",
                a->dtype);
        return TCLI_USAGE;
    }
    if (tcli_src_open(&s, path, (int)nthreads) != TCLI_OK)
        return TCLI_FAIL;
    int rc = tcli_sel_parse(&sel, &s, a->slice);
    if (rc == TCLI_OK && (a->raw || a->npy))
        rc = tcli_cat_binary(&s, &sel, a);
    else if (rc == TCLI_OK)
        rc = tcli_cat_text(&s, &sel, a);
    tcli_src_close(&s);
    return rc;
}

int tcli_cmd_cat(int argc, char **argv)
{
    tcli_cat_args a = {NULL, NULL, NULL, "1", 0, 0, 0, 0};
    const char *pos[1];
    const tcli_opt opts[] = {
        {"--output", "-o", &a.out, NULL},  {"--slice", NULL, &a.slice, NULL},
        {"--dtype", NULL, &a.dtype, NULL}, {"--threads", NULL, &a.threads, NULL},
        {"--raw", NULL, NULL, &a.raw},     {"--npy", NULL, NULL, &a.npy},
        {"--full", NULL, NULL, &a.full},   {"--force", "-f", NULL, &a.force},
        {NULL, NULL, NULL, NULL}};
    int npos = 0, rc = tcli_parse(argc, argv, opts, NULL, NULL, pos, 1, &npos);
    if (rc < 0)
        tcli_cat_usage(stdout);
    if (rc != TCLI_OK)
        return rc < 0 ? TCLI_OK : rc;
    if (npos != 1)
        return tcli_usage_error("cat", "no input (PATH[:DATASET])");
    if (a.raw && a.npy)
        return tcli_usage_error("cat", "--raw and --npy exclude each other");
    if (!a.raw && a.out && tcli_has_suffix(a.out, ".npy"))
        a.npy = 1;
    return tcli_cat_run(pos[0], &a);
}

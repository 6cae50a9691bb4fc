/* `tersa compress` and `tersa decompress`, in the manner of the zstd command: any file (or
 * stdin) to a Blosc2 frame of chunksize chunks (or one bare chunk with --chunk), and a chunk or
 * frame back to its bytes (a frame: every chunk decompressed, concatenated in order). Inputs
 * are streamed: compress holds one chunk at a time, decompress one decoded chunk. The input is
 * kept unless --rm is given; an existing output is replaced only with -f. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tersa_cli.h"

/* Options shared by both commands. */
typedef struct tcli_zargs {
    const char *out, *threads, *chunksize;
    int to_stdout, force, keep, rm, chunk, verbose, quiet, progress, no_progress;
    tersa_cctx *cctx; /* compress only */
    int64_t chunkbytes;
    int nthreads;
} tcli_zargs;

static int tcli_progress_mode(const tcli_zargs *a)
{
    return a->no_progress || a->quiet ? 0 : a->progress ? 1 : -1;
}

/* The output of one input: -o, stdout (-c, or stdin input), or a name derived from the
 * input's. Returns a malloc'd name, "-" (static), or NULL after a usage error. */
static char *tcli_out_name(const char *in, const tcli_zargs *a, int compress, int *usage)
{
    static char dash[] = "-";
    if (a->out)
        return (char *)a->out;
    if (a->to_stdout || tcli_is_std(in))
        return dash;
    if (compress)
        return tcli_concat(in, a->chunk ? ".cdata" : ".b2frame");
    static const char *const sufs[] = {".b2frame", ".cdata", ".b2"};
    for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++)
        if (tcli_has_suffix(in, sufs[i])) {
            char *o = tcli_concat(in, "");
            if (o)
                o[strlen(in) - strlen(sufs[i])] = '\0';
            return o;
        }
    fprintf(stderr,
            "error: %s: cannot derive the output name (no .b2frame or .cdata suffix); "
            "use -o OUT or -c\n",
            in);
    *usage = 1;
    return NULL;
}

static void tcli_free_name(char *name, const tcli_zargs *a)
{
    if (name && name != a->out && !tcli_is_std(name))
        free(name);
}

/* After one input: the -v line ("IN: FROM -> TO bytes (RATIOx) -> OUT") and --rm. */
static int tcli_finish_input(const char *in, const char *out, const tcli_zargs *a, int64_t from,
                             int64_t to, double ratio)
{
    if (a->verbose)
        fprintf(stderr, "%s: %lld -> %lld bytes (ratio %.3f) -> %s\n", in, (long long)from,
                (long long)to, ratio, out);
    if (a->rm && !a->keep && !tcli_is_std(in) && remove(in) != 0) {
        fprintf(stderr, "error: %s: cannot remove: %s\n", in, strerror(errno));
        return TCLI_FAIL;
    }
    return TCLI_OK;
}

static int64_t tcli_file_bytes(const char *path)
{
    struct stat st;
    return !tcli_is_std(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
}

static int64_t tcli_out_bytes(const char *path, int64_t fallback)
{
    int64_t n = tcli_file_bytes(path);
    return n >= 0 ? n : fallback;
}

/* ---- compress -------------------------------------------------------------------------- */

/* Stream in through the sink. */
static int tcli_compress_stream(FILE *f, const char *in, tcli_sink *k, tcli_progress *pg)
{
    size_t cap = (size_t)1 << 20;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return tcli_tersa_error(in, TERSA_ERR_NOMEM);
    int rc = TCLI_OK;
    for (size_t n; rc == TCLI_OK && (n = fread(buf, 1, cap, f)) > 0;) {
        rc = tcli_sink_write(k, buf, n);
        tcli_progress_add(pg, (int64_t)n);
    }
    if (rc == TCLI_OK && ferror(f)) {
        fprintf(stderr, "error: %s: read failed: %s\n", in, strerror(errno));
        rc = TCLI_FAIL;
    }
    free(buf);
    return rc;
}

static int tcli_compress_one(const char *in, const char *out, const tcli_zargs *a)
{
    tcli_out_params p = {.cctx = a->cctx, .chunksize = a->chunkbytes, .force = a->force};
    tcli_progress pg;
    tcli_sink k;
    if (tcli_same_file(in, out)) {
        fprintf(stderr, "error: %s: input and output are the same file\n", in);
        return TCLI_FAIL;
    }
    FILE *f = tcli_is_std(in) ? stdin : fopen(in, "rb");
    if (!f) {
        fprintf(stderr, "error: %s: %s\n", in, strerror(errno));
        return TCLI_FAIL;
    }
    int rc = tcli_sink_open(&k, a->chunk ? TCLI_OUT_CHUNK : TCLI_OUT_FRAME, out, &p);
    if (rc == TCLI_OK) {
        tcli_progress_start(&pg, tcli_progress_mode(a), tcli_file_bytes(in), in);
        rc = tcli_compress_stream(f, in, &k, &pg);
        tcli_progress_end(&pg);
        rc = rc == TCLI_OK ? tcli_sink_finish(&k) : (tcli_sink_abort(&k), rc);
    }
    int64_t nin = k.written, nout = tcli_out_bytes(out, 0);
    if (f != stdin)
        fclose(f);
    if (rc != TCLI_OK)
        return rc;
    return tcli_finish_input(in, out, a, nin, nout, nout > 0 ? (double)nin / (double)nout : 0);
}

static void tcli_compress_usage(FILE *f)
{
    fprintf(f, "usage: tersa compress [FILE ...] [-o OUT] [options]\n\n"
               "Compress each FILE (\"-\" or none: stdin) into a Blosc2 frame FILE.b2frame of\n"
               "chunks of --chunksize bytes, or with --chunk into one bare chunk FILE.cdata (at\n"
               "most 2 GiB). Output from stdin goes to stdout. Frames open in python-blosc2 and\n"
               "C-Blosc2. Quiet unless -v; a progress bar on a terminal.\n\n"
               "Options:\n"
               "  -o, --output OUT   output file (\"-\" = stdout; one input only)\n"
               "  -c, --stdout       write to stdout\n"
               "  -f, --force        overwrite existing outputs; write to a terminal\n"
               "  -k, --keep         keep the input (the default)\n"
               "  --rm               remove the input after success\n"
               "  --chunk            write one bare chunk (*.cdata) instead of a frame\n"
               "  --chunksize SIZE   bytes per frame chunk (K/M/G suffixes; default 4M)\n"
               "  -v, --verbose      print sizes and ratio to stderr\n"
               "  -q, --quiet        no progress bar\n"
               "  --progress         a progress bar even when stderr is not a terminal\n"
               "  --no-progress      no progress bar\n"
               "  -h, --help         this help\n\n");
    tcli_cparam_help(f);
}

/* Options common to compress and decompress, plus the table's parameters for compress. */
static int tcli_zparse(int argc, char **argv, tcli_zargs *a, const char **pos, int *npos,
                       int compress)
{
    const tcli_opt common[] = {{"--output", "-o", &a->out, NULL},
                               {"--stdout", "-c", NULL, &a->to_stdout},
                               {"--force", "-f", NULL, &a->force},
                               {"--keep", "-k", NULL, &a->keep},
                               {"--rm", NULL, NULL, &a->rm},
                               {"--verbose", "-v", NULL, &a->verbose},
                               {"--quiet", "-q", NULL, &a->quiet},
                               {"--progress", NULL, NULL, &a->progress},
                               {"--no-progress", NULL, NULL, &a->no_progress}};
    const tcli_opt cextra[] = {{"--chunk", NULL, NULL, &a->chunk},
                               {"--chunksize", NULL, &a->chunksize, NULL},
                               {NULL, NULL, NULL, NULL}};
    const tcli_opt dextra[] = {{"--threads", NULL, &a->threads, NULL}, {NULL, NULL, NULL, NULL}};
    tcli_opt opts[sizeof common / sizeof common[0] + 3];
    memcpy(opts, common, sizeof common);
    memcpy(opts + sizeof common / sizeof common[0], compress ? cextra : dextra,
           compress ? sizeof cextra : sizeof dextra);
    return tcli_parse(argc, argv, opts, compress ? tcli_cparam_option : NULL, a->cctx, pos, 256,
                      npos);
}

/* Checks after parsing; TCLI_OK or TCLI_USAGE. */
static int tcli_zcheck(const char *cmd, tcli_zargs *a, int npos)
{
    int64_t v = 1;
    if (a->out && npos > 1)
        return tcli_usage_error(cmd, "-o OUT takes one input");
    if (npos == 0 && isatty(STDIN_FILENO))
        return tcli_usage_error(cmd, "no input file, and stdin is a terminal");
    if (a->chunksize &&
        tcli_size_arg("--chunksize", a->chunksize, 1, TERSA_MAX_BUFFERSIZE, &a->chunkbytes))
        return TCLI_USAGE;
    if (a->threads && tbench_param_arg("--threads", TERSA_P_NTHREADS, a->threads, &v))
        return TCLI_USAGE;
    a->nthreads = a->cctx ? tcli_cctx_threads(a->cctx) : (int)v;
    return TCLI_OK;
}

/* Run one()/input, deriving each output name. */
static int tcli_zrun(const char *cmd, int argc, char **argv, tcli_zargs *a, int compress,
                     int (*one)(const char *, const char *, const tcli_zargs *))
{
    const char *pos[256], *stdin_only[1] = {"-"};
    int npos = 0, rc = tcli_zparse(argc, argv, a, pos, &npos, compress), status = TCLI_OK;
    if (rc < 0)
        return -1;
    if (rc == TCLI_OK)
        rc = tcli_zcheck(cmd, a, npos);
    if (rc != TCLI_OK)
        return rc;
    const char **ins = npos ? pos : stdin_only;
    for (int i = 0; i < (npos ? npos : 1); i++) {
        int usage = 0;
        char *out = tcli_out_name(ins[i], a, compress, &usage);
        if (!out)
            return usage ? TCLI_USAGE : TCLI_FAIL;
        if (compress && tcli_is_std(out) && isatty(STDOUT_FILENO) && !a->force) {
            fprintf(stderr, "error: refusing to write compressed data to a terminal (use -o, "
                            "a pipe, or -f)\n");
            rc = TCLI_FAIL;
        } else {
            rc = one(ins[i], out, a);
        }
        tcli_free_name(out, a);
        if (rc != TCLI_OK)
            status = rc;
    }
    return status;
}

int tcli_cmd_compress(int argc, char **argv)
{
    tcli_zargs a = {0};
    a.cctx = tcli_cctx_new();
    if (!a.cctx)
        return TCLI_FAIL;
    int rc = tcli_zrun("compress", argc, argv, &a, 1, tcli_compress_one);
    if (rc < 0)
        tcli_compress_usage(stdout);
    tersa_cctx_free(a.cctx);
    return rc < 0 ? TCLI_OK : rc;
}

/* ---- decompress ------------------------------------------------------------------------ */

static int tcli_decompress_chunk(tcli_src *s, tcli_sink *k)
{
    int64_t n = tcli_src_nitems(s) * s->itemsize;
    int64_t start = 0, one = 1;
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf)
        return tcli_tersa_error(s->arg, TERSA_ERR_NOMEM);
    int rc = tcli_src_read(s, &start, &s->shape[0], &one, buf, (size_t)n);
    if (rc == TCLI_OK)
        rc = tcli_sink_write(k, buf, (size_t)n);
    free(buf);
    return rc;
}

/* Every chunk of a frame in order, one decoded chunk held at a time. */
static int tcli_decompress_frame(tcli_src *s, tcli_sink *k, tcli_progress *pg)
{
    int64_t n = tersa_schunk_nchunks(s->sc);
    size_t cap = 0;
    uint8_t *buf = NULL;
    int rc = TCLI_OK;
    for (int64_t i = 0; i < n && rc == TCLI_OK; i++) {
        int32_t nb = 0;
        int64_t got = tersa_schunk_chunk_sizes(s->sc, i, &nb, NULL);
        if (got >= 0 && (size_t)nb > cap) {
            free(buf);
            cap = (size_t)nb;
            buf = malloc(cap);
            got = buf ? 0 : TERSA_ERR_NOMEM;
        }
        if (got >= 0)
            got = tersa_schunk_decompress_chunk(s->sc, i, buf, cap);
        if (got < 0) {
            char what[600];
            snprintf(what, sizeof what, "%s: chunk %lld", s->arg, (long long)i);
            rc = tcli_tersa_error(what, got);
        } else {
            rc = tcli_sink_write(k, buf, (size_t)got);
            tcli_progress_add(pg, got);
        }
    }
    free(buf);
    return rc;
}

static int tcli_decompress_src(tcli_src *s, tcli_sink *k, const tcli_zargs *a)
{
    tcli_progress pg;
    if (s->kind == TCLI_K_CHUNK)
        return tcli_decompress_chunk(s, k);
    tcli_progress_start(&pg, tcli_progress_mode(a), tersa_schunk_nbytes(s->sc), s->arg);
    int rc = tcli_decompress_frame(s, k, &pg);
    tcli_progress_end(&pg);
    return rc;
}

/* The compressed size of a source: the file, or the frame (sparse directories). */
static int64_t tcli_src_cbytes(tcli_src *s)
{
    tersa_schunk_info fi = {.struct_size = sizeof fi};
    if (s->file_size >= 0)
        return s->file_size;
    return s->sc && tersa_schunk_get_info(s->sc, &fi) == 0 ? fi.cbytes : 0;
}

static int tcli_decompress_one(const char *in, const char *out, const tcli_zargs *a)
{
    tcli_src s;
    tcli_sink k;
    tcli_out_params p = {.force = a->force};
    if (tcli_same_file(in, out)) {
        fprintf(stderr, "error: %s: input and output are the same file\n", in);
        return TCLI_FAIL;
    }
    if (tcli_src_open(&s, in, a->nthreads) != TCLI_OK)
        return TCLI_FAIL;
    int rc = TCLI_FAIL, opened = 0;
    if (s.kind != TCLI_K_CHUNK && s.kind != TCLI_K_FRAME && s.kind != TCLI_K_B2ND)
        fprintf(stderr, "error: %s: not a Blosc2 chunk or frame (%s)\n", in,
                tcli_kind_name(s.kind));
    else if ((rc = tcli_sink_open(&k, TCLI_OUT_RAW, out, &p)) == TCLI_OK)
        opened = 1, rc = tcli_decompress_src(&s, &k, a);
    if (opened)
        rc = rc == TCLI_OK ? tcli_sink_finish(&k) : (tcli_sink_abort(&k), rc);
    int64_t nin = tcli_src_cbytes(&s), nout = opened ? k.written : 0;
    tcli_src_close(&s);
    if (rc != TCLI_OK)
        return rc;
    return tcli_finish_input(in, out, a, nin, nout, nin > 0 ? (double)nout / (double)nin : 0);
}

static void tcli_decompress_usage(FILE *f)
{
    fprintf(f, "usage: tersa decompress [FILE ...] [-o OUT] [options]\n\n"
               "Decompress a Blosc2 chunk (*.cdata, any version the official libraries write)\n"
               "into its bytes, or a frame (*.b2frame, *.b2nd, a sparse frame directory) into\n"
               "all its chunks decompressed and concatenated in order (b2nd arrays: as stored,\n"
               "with edge padding; use tersa cat --raw for the array). The output name drops\n"
               ".b2frame or .cdata; from stdin the output goes to stdout. Exit status 1 names\n"
               "the first chunk that fails to decode.\n\n"
               "Options:\n"
               "  -o, --output OUT   output file (\"-\" = stdout; one input only)\n"
               "  -c, --stdout       write to stdout\n"
               "  -f, --force        overwrite existing outputs\n"
               "  -k, --keep         keep the input (the default)\n"
               "  --rm               remove the input after success\n"
               "  --threads N        decompression threads (default 1)\n"
               "  -v, --verbose      print sizes to stderr\n"
               "  -q, --quiet        no progress bar\n"
               "  --progress         a progress bar even when stderr is not a terminal\n"
               "  --no-progress      no progress bar\n"
               "  -h, --help         this help\n");
}

int tcli_cmd_decompress(int argc, char **argv)
{
    tcli_zargs a = {0};
    int rc = tcli_zrun("decompress", argc, argv, &a, 0, tcli_decompress_one);
    if (rc < 0)
        tcli_decompress_usage(stdout);
    return rc < 0 ? TCLI_OK : rc;
}

/* The `tersa` command: shared declarations of its subcommands and helpers. The CLI uses only
 * the public API (tersa/tersa.h) plus the benchmark core in bench/, which does the same.
 * Exit statuses: 0 success, 1 failure (I/O, corrupt data, failed verification), 2 usage.
 *
 * Structure: a PATH[:DATASET] argument becomes a source (tersa_cli_source.c), which knows what
 * the file is (bare chunk, frame, b2nd array, .npy file, HDF5 dataset, other bytes) and shows it
 * as an array view: ndim, shape, itemsize, dtype. Commands read hyperslabs of that view
 * (tcli_src_read) and stream them, piece by piece in C order (tcli_pump), into a sink
 * (tersa_cli_sink.c): raw bytes, .npy, frame, b2nd array. HDF5 plugs in at one place,
 * tersa_cli_h5.c (built with the HDF5 layer when TCLI_HAVE_H5 is defined). */
#ifndef TERSA_CLI_H
#define TERSA_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tersa/tersa.h"
#include "tersa_bench_core.h"

enum { TCLI_OK = 0, TCLI_FAIL = 1, TCLI_USAGE = 2 };

#define TCLI_MAXDIM 32                   /* HDF5's largest rank; b2nd stops at 16 */
#define TCLI_PIECE ((int64_t)16 << 20)   /* bytes per streamed piece */
#define TCLI_DEFAULT_CHUNKSIZE (4 << 20) /* frame chunks written by compress/convert */

/* Subcommands: argv[0] is the subcommand's name, argv[1..argc) its arguments. */
int tcli_cmd_demo(int argc, char **argv);
int tcli_cmd_compress(int argc, char **argv);
int tcli_cmd_decompress(int argc, char **argv);
int tcli_cmd_info(int argc, char **argv);
int tcli_cmd_cat(int argc, char **argv);
int tcli_cmd_convert(int argc, char **argv);
int tcli_cmd_verify(int argc, char **argv);
int tcli_cmd_bench(int argc, char **argv);
int tcli_cmd_ls(int argc, char **argv);
/* `tersa bench FILE ...` (tersa_cmd_benchfile.c); argv[1] is the file. */
int tcli_bench_file(int argc, char **argv);

/* ---- helpers (tersa_cli_util.c) -------------------------------------------------------- */

/* 1 for "-h" or "--help". */
int tcli_is_help(const char *arg);
/* Read a whole file ("-" = stdin) into a malloc'd buffer. TCLI_OK, or TCLI_FAIL after
 * printing "error: PATH: reason". */
int tcli_read_file(const char *path, uint8_t **buf, size_t *len);
/* Write len bytes to path ("-" = stdout). TCLI_OK or TCLI_FAIL (message printed). */
int tcli_write_file(const char *path, const void *buf, size_t len);
/* Print "error: WHAT: <error name>: <detail>" for a negative tersa code; returns TCLI_FAIL. */
int tcli_tersa_error(const char *what, int64_t rc);
/* Print "error: WHAT: <tersa_error_detail()>" after a constructor returned NULL; returns
 * TCLI_FAIL. */
int tcli_detail_error(const char *what);
/* Print "error: OPTION: missing value" and return TCLI_USAGE. */
int tcli_missing_value(const char *option);
/* Print "error: what" plus a pointer to --help for a subcommand; returns TCLI_USAGE. */
int tcli_usage_error(const char *cmd, const char *what);
/* 1 when path names stdin/stdout ("-"). */
int tcli_is_std(const char *path);
/* 1 when path exists (any kind of file), 2 when it is a directory, 0 when it does not. */
int tcli_path_exists(const char *path);
/* Refuse to replace an existing regular file or directory unless force is set (devices such
 * as /dev/null and stdout are always fine). TCLI_OK or TCLI_FAIL (message printed). */
int tcli_check_output(const char *path, int force);
/* 1 when both paths name the same existing file. */
int tcli_same_file(const char *a, const char *b);
/* Remove a partial output (a file, or a sparse frame directory's files). */
void tcli_remove_output(const char *path);
/* path + suffix, malloc'd (NULL on no memory, message printed). */
char *tcli_concat(const char *path, const char *suffix);
/* 1 when path ends with suffix. */
int tcli_has_suffix(const char *path, const char *suffix);
/* Monotonic seconds. */
double tcli_now(void);

/* Options of a subcommand: a value option sets *val, a flag sets *flag to 1. A table ends
 * with a NULL name. */
typedef struct tcli_opt {
    const char *name, *alias; /* "--output", "-o" (alias may be NULL) */
    const char **val;
    int *flag;
} tcli_opt;
/* Called for an option not in the table: return 1 when consumed (advancing *i past its
 * value), 0 when unknown, -2 after printing an error. */
typedef int (*tcli_other_fn)(void *ctx, int argc, char **argv, int *i);
/* Parse argv[1..argc): options (also "--name=VALUE") and up to maxpos positional arguments
 * ("--" ends the options; "-" alone is positional). Returns TCLI_OK, -1 for -h/--help, or
 * TCLI_USAGE after printing a one-line error (an unknown option is named). */
int tcli_parse(int argc, char **argv, const tcli_opt *opts, tcli_other_fn other, void *ctx,
               const char **pos, int maxpos, int *npos);
/* An integer with an optional K/M/G suffix (powers of 1024) in [lo, hi]; prints a one-line
 * error naming the option and the range and returns TCLI_USAGE when it is not. */
int tcli_size_arg(const char *option, const char *text, int64_t lo, int64_t hi, int64_t *v);
/* A comma-separated list of n integers in [lo, hi] (n = the expected count, or -1 for any;
 * *count receives the number read). TCLI_OK or TCLI_USAGE (message printed). */
int tcli_int_list(const char *option, const char *text, int64_t lo, int64_t hi, int64_t *out,
                  int max, int *count);

/* ---- compression parameters from the library table (tersa_cli_params.c) ---------------- */

/* A tcli_other_fn over a tersa_cctx: --codec, --clevel, --typesize, --threads, --blocksize,
 * --filter (a name, or a comma list filling the last pipeline slots) and --NAME for every
 * compression entry of tersa_param_table. Values are checked against the table's bounds. */
int tcli_cparam_option(void *cctx, int argc, char **argv, int *i);
/* The help lines of those options. */
void tcli_cparam_help(FILE *f);
/* A cctx with the CLI's defaults (the library's, which are C-Blosc2's). */
tersa_cctx *tcli_cctx_new(void);
/* The cctx's TERSA_P_NTHREADS (1 if unreadable). */
int tcli_cctx_threads(const tersa_cctx *cctx);

/* ---- progress bar (tersa_cli_util.c) ---------------------------------------------------- */

typedef struct tcli_progress {
    int on;
    int64_t total, done;
    double t0, last;
    const char *label;
} tcli_progress;

/* mode: 1 always, 0 never, -1 when stderr is a terminal. */
void tcli_progress_start(tcli_progress *p, int mode, int64_t total, const char *label);
void tcli_progress_add(tcli_progress *p, int64_t n);
void tcli_progress_end(tcli_progress *p);

/* ---- sources (tersa_cli_source.c) ------------------------------------------------------ */

typedef enum tcli_kind {
    TCLI_K_RAW = 0, /* bytes of unknown format */
    TCLI_K_CHUNK,   /* a bare Blosc2 chunk (*.cdata) */
    TCLI_K_FRAME,   /* a super-chunk: contiguous frame or sparse directory */
    TCLI_K_B2ND,    /* a frame with a b2nd (or caterva) metalayer */
    TCLI_K_NPY,     /* a NumPy .npy file */
    TCLI_K_HDF5,    /* a dataset of an HDF5 file */
} tcli_kind;

typedef struct tcli_src {
    tcli_kind kind;
    char *file;        /* the file part of PATH[:DATASET] (malloc'd) */
    char *dataset;     /* the dataset part, or NULL (malloc'd) */
    const char *arg;   /* the argument as given */
    int sparse;        /* a sparse frame directory */
    int b2nd_failed;   /* a frame whose b2nd metalayer could not be used */
    int64_t file_size; /* bytes of the file (-1 for a directory or stdin before reading) */
    uint8_t *mem;      /* stdin and chunk files: the bytes */
    size_t memlen;
    uint8_t *decoded; /* chunk view: the decoded chunk (made on first read) */
    FILE *fp;         /* npy files */
    int64_t data_off; /* npy: where the items begin */
    tersa_schunk *sc; /* frames; for b2nd owned by arr */
    tersa_array *arr;
    tersa_dctx *dctx; /* chunk files */
    void *h5;         /* the HDF5 layer's handle (tersa_cli_h5.c) */
    int nthreads;
    /* The array view that cat, convert and bench read. */
    int ndim;
    int64_t shape[TCLI_MAXDIM];
    int32_t itemsize;
    char *dtype; /* NumPy type string, or NULL when unknown (malloc'd) */
} tcli_src;

/* Open a source: PATH, PATH:DATASET (HDF5) or "-" (stdin). TCLI_OK, or TCLI_FAIL after
 * printing "error: PATH: ...". nthreads: decompression threads. */
int tcli_src_open(tcli_src *s, const char *arg, int nthreads);
void tcli_src_close(tcli_src *s);
const char *tcli_kind_name(tcli_kind k);
/* prod(shape) (1 for ndim 0). */
int64_t tcli_src_nitems(const tcli_src *s);
/* Read the hyperslab start/count/step (per axis of the view) into dst, packed, C order;
 * n must be prod(count) * itemsize. TCLI_OK or TCLI_FAIL (message printed). */
int tcli_src_read(tcli_src *s, const int64_t *start, const int64_t *count, const int64_t *step,
                  void *dst, size_t n);
/* A sparse or contiguous frame at path opened read-only: NULL on error (printed). */
tersa_schunk *tcli_open_frame(const char *path, int nthreads);

/* A selection of the view: per axis start, count, step; `drop` marks axes given as a single
 * index (left out of the output's shape, as NumPy does). */
typedef struct tcli_sel {
    int ndim;
    int64_t start[TCLI_MAXDIM], count[TCLI_MAXDIM], step[TCLI_MAXDIM];
    unsigned char drop[TCLI_MAXDIM];
    int out_ndim;
    int64_t out_shape[TCLI_MAXDIM];
    int64_t nitems;
} tcli_sel;

/* Parse "0:10,:,5" (NumPy basic indexing: start:stop:step, negative indices from the end,
 * "..." for the axes not named, steps >= 1) against the view; text NULL selects everything.
 * TCLI_OK or TCLI_USAGE (one line naming --slice and the accepted range). */
int tcli_sel_parse(tcli_sel *sel, const tcli_src *s, const char *text);

/* Called with consecutive pieces of the selection in C order. Returns TCLI_OK to go on. */
typedef int (*tcli_piece_fn)(void *ctx, const uint8_t *p, size_t n);
/* Read the selection piece by piece (at most about TCLI_PIECE bytes each) and hand the pieces
 * to fn; progress may be NULL. */
int tcli_pump(tcli_src *s, const tcli_sel *sel, tcli_piece_fn fn, void *ctx,
              tcli_progress *progress);

/* ---- the HDF5 plug (tersa_cli_h5.c) ------------------------------------------------------ */

/* 1 when this build reads HDF5 files. */
int tcli_h5_available(void);
/* Open s->file:s->dataset, fill the view. TCLI_OK or TCLI_FAIL (message printed). */
int tcli_h5_open(tcli_src *s);
void tcli_h5_close(tcli_src *s);
int tcli_h5_read(tcli_src *s, const int64_t *start, const int64_t *count, const int64_t *step,
                 void *dst, size_t n);
/* info and verify for an HDF5 dataset (same conventions as the commands). */
int tcli_h5_info(tcli_src *s, int json);
int tcli_h5_verify(tcli_src *s, int verbose);
/* The NumPy type string of an HDF5 dataset's file datatype (hid_t dset), or NULL (malloc'd). */
char *tcli_h5_dtype(int64_t dset);
/* `tersa ls`: print the tree of FILE.h5[:/GROUP] (tersa_cli_h5ls.c); recursive: the whole
 * subtree, else the group's direct members. TCLI_OK or TCLI_FAIL (message printed). */
int tcli_h5_ls(const char *arg, int recursive, int json);

/* The HDF5 part of `tersa demo` (tersa_cli_h5demo.c). */
typedef struct tcli_h5demo_opts {
    int quick;
    int threads;
    const char *output; /* keep the file here (NULL: a temporary directory) */
    int force;
} tcli_h5demo_opts;
/* Write, read back, verify and time; prints its table. TCLI_OK, TCLI_FAIL (verification or
 * I/O failed, printed), or TCLI_USAGE. Without the HDF5 layer: prints that and returns
 * TCLI_OK. */
int tcli_h5_demo(const tcli_h5demo_opts *o);

struct tcli_sink;
struct tcli_out_params;
/* An HDF5 output FILE.h5[:DATASET] (default dataset /data): creates the file or opens it for
 * writing, creates the Blosc2 dataset (intermediate groups too; an existing dataset is replaced
 * with force), and sets k->slab_rows to its chunk rows. TCLI_OK or TCLI_FAIL (printed). */
int tcli_h5_sink_open(struct tcli_sink *k, const struct tcli_out_params *p);
/* Write rows [row0, row0 + rows) of axis 0 (rows of the output's other axes, C order). */
int tcli_h5_sink_rows(struct tcli_sink *k, int64_t row0, int64_t rows, const uint8_t *buf,
                      size_t n);
/* `tersa convert -r`: a new HDF5 file dst with every group, link and attribute of src; every
 * dataset with fixed-size items goes through fn(ctx, "SRC:/path", "DST:/path"), the others
 * (variable-length, empty, scalar) are copied as they are with H5Ocopy (said with verbose).
 * TCLI_OK, or TCLI_FAIL (printed; dst removed). */
typedef int (*tcli_h5_conv_fn)(void *ctx, const char *src, const char *dst);
int tcli_h5_repack(const char *src, const char *dst, int verbose, tcli_h5_conv_fn fn, void *ctx);
/* Close the dataset and file; with discard, remove what was created. */
int tcli_h5_sink_close(struct tcli_sink *k, int discard);

/* ---- sinks (tersa_cli_sink.c) ---------------------------------------------------------- */

typedef enum tcli_outkind {
    TCLI_OUT_RAW = 0, /* bytes as they come */
    TCLI_OUT_NPY,     /* a .npy file of the view's dtype and the selection's shape */
    TCLI_OUT_FRAME,   /* a contiguous frame of TCLI_DEFAULT_CHUNKSIZE (or chunksize) chunks */
    TCLI_OUT_B2ND,    /* a b2nd array */
    TCLI_OUT_CHUNK,   /* one bare chunk (at most 2 GiB) */
    TCLI_OUT_HDF5,    /* a Blosc2 dataset of an HDF5 file (tersa_cli_h5.c) */
} tcli_outkind;

typedef struct tcli_out_params {
    const tersa_cctx *cctx; /* compression parameters (frame, b2nd, chunk) */
    int64_t chunksize;      /* frame: bytes per chunk (0 = default) */
    int ndim;               /* npy, b2nd: the shape of what is written */
    const int64_t *shape;
    int32_t itemsize;
    const char *dtype;     /* NULL: |V<itemsize> (npy) or |S<itemsize> (b2nd) */
    const int32_t *chunks; /* b2nd: chunkshape / blockshape, NULL = automatic */
    const int32_t *blocks;
    int force; /* replace an existing output */
    void *h5src; /* HDF5 to HDF5: the source's layer handle, whose datatype DST keeps */
} tcli_out_params;

typedef struct tcli_sink {
    int64_t h5file; /* HDF5: the file's hid_t; h5dset: the layer's handle */
    void *h5dset;
    char *h5name; /* HDF5: the dataset path (malloc'd) */
    int h5made;   /* HDF5: 1 the file was created, 2 the dataset was */
    tcli_outkind kind;
    const char *path; /* "-" = stdout */
    FILE *fp;
    int to_std, file_made, in_memory;
    tersa_schunk *sc;
    tersa_array *arr;
    tersa_cctx *cctx; /* chunk sink */
    uint8_t *buf;     /* pending bytes: a frame chunk, a b2nd slab, the chunk sink */
    size_t fill, cap;
    int ndim;
    int64_t shape[TCLI_MAXDIM];
    int64_t row_bytes, slab_rows, rows_done;
    int64_t written; /* bytes accepted */
} tcli_sink;

/* The output kind a path's name asks for (.npy, .b2nd, .b2frame/.b2, .cdata, .h5/.hdf5 with
 * an optional :DATASET), or -1. */
int tcli_outkind_from_name(const char *path);
const char *tcli_outkind_name(tcli_outkind k);
/* A kind name as the --to option spells it, or -1. */
int tcli_outkind_parse(const char *name);
/* The b2nd array parameters of an output written to the file dst (overwritten). */
tersa_nd_params tcli_nd_params(const tcli_out_params *p, const char *dst);
/* Create the output. TCLI_OK or TCLI_FAIL (printed). */
int tcli_sink_open(tcli_sink *k, tcli_outkind kind, const char *path, const tcli_out_params *p);
int tcli_sink_write(tcli_sink *k, const uint8_t *p, size_t n);
/* A tcli_piece_fn writing to a sink. */
int tcli_sink_piece(void *sink, const uint8_t *p, size_t n);
/* Complete the output and close it. TCLI_OK or TCLI_FAIL (printed). */
int tcli_sink_finish(tcli_sink *k);
/* Close and remove a partial output. */
void tcli_sink_abort(tcli_sink *k);

/* ---- .npy and dtypes (tersa_cli_npy.c) ------------------------------------------------- */

typedef struct tcli_npy_header {
    char descr[256];
    int ndim;
    int64_t shape[TCLI_MAXDIM];
    int32_t itemsize;
    int64_t data_off;
} tcli_npy_header;

/* Parse a .npy preamble and header from the first len bytes of a file (at least the whole
 * header). TCLI_OK or TCLI_FAIL (message naming path printed). */
int tcli_npy_parse(const char *path, const uint8_t *buf, size_t len, tcli_npy_header *h);
/* Build the preamble + header for shape/dtype into a malloc'd buffer. */
int tcli_npy_header_make(int ndim, const int64_t *shape, int32_t itemsize, const char *dtype,
                         uint8_t **out, size_t *len);
/* Item size of a simple NumPy type string ("<f8" -> 8), or 0. */
int32_t tcli_dtype_itemsize(const char *dtype);

/* ---- text output (tersa_cli_text.c) ---------------------------------------------------- */

/* Print a selection as NumPy prints arrays (summarised with "..." above 1000 items unless
 * full is set). dtype NULL: unsigned integers for item sizes 1/2/4/8, hex bytes otherwise. */
int tcli_print_text(FILE *f, tcli_src *s, const tcli_sel *sel, const char *dtype, int full);

/* ---- JSON and key/value records (tersa_cmd_info.c) -------------------------------------- */

/* A JSON string literal. (tersa_cli_util.c) */
void tcli_json_str(FILE *f, const char *s);

/* One record of fields: a JSON object, or "key   value" lines. Keys keep their order. */
typedef struct tcli_rec {
    FILE *f;
    int json, n;
} tcli_rec;

void tcli_rec_begin(tcli_rec *r, FILE *f, int json);
/* A string (NULL: JSON null, text "-"). */
void tcli_rec_str(tcli_rec *r, const char *key, const char *v);
void tcli_rec_int(tcli_rec *r, const char *key, long long v);
/* A number printed with %.4g-like precision (ratios). */
void tcli_rec_real(tcli_rec *r, const char *key, double v);
/* A list of integers ([a, b] in JSON, "(a, b)" as text); v NULL: null. */
void tcli_rec_ints(tcli_rec *r, const char *key, const int64_t *v, int n);
/* A list of strings. */
void tcli_rec_strs(tcli_rec *r, const char *key, const char *const *v, int n);
/* Preformatted values: json as it goes in the JSON document, text for the text form. */
void tcli_rec_raw(tcli_rec *r, const char *key, const char *json, const char *text);
void tcli_rec_end(tcli_rec *r);

#endif

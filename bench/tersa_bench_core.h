/* The engine benchmark shared by bench/bench_chunk.c (tersa_bench_chunk) and the CLI
 * (`tersa bench`, `tersa demo`). Public API only.
 *
 * Method: each dataset is generated in memory (reproducible, fixed seeds) and cut into chunks
 * (4 MiB by default). For every cell of the matrix dataset x codec x filter x threads, one
 * compression and one decompression context are created and reused for all chunks; one
 * untimed warm-up pass, then N timed passes over all chunks, median. Every decompression pass
 * is checked byte for byte against the source. A memcpy of the same chunks between
 * pre-faulted buffers, timed the same way in the same run, is the baseline.
 * GB/s = 10^9 bytes of uncompressed data per second; ratio = uncompressed bytes / compressed
 * bytes including headers. */
#ifndef TERSA_BENCH_CORE_H
#define TERSA_BENCH_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tersa/tersa.h"

#define TBENCH_MAX_LIST 16
#define TBENCH_MIB ((size_t)1 << 20)

/* Output formats. */
enum { TBENCH_TABLE = 0, TBENCH_CSV = 1, TBENCH_JSON = 2 };

/* Exit statuses shared by the benchmark and the CLI. */
enum { TBENCH_EXIT_OK = 0, TBENCH_EXIT_FAIL = 1, TBENCH_EXIT_USAGE = 2 };

/* The generated datasets (bit i of tbench_opts.datasets selects dataset i). */
enum {
    TBENCH_DS_F64_LINSPACE,
    TBENCH_DS_I32_RAMP,
    TBENCH_DS_F32_NOISY,
    TBENCH_DS_F32_SPARSE,
    TBENCH_DS_U8_IMAGE,
    TBENCH_DS_U16_DETECTOR,
    TBENCH_DS_COUNT_
};

typedef struct tbench_dataset {
    const char *name; /* "f64_linspace" */
    int typesize;
    const char *desc; /* the generating formula */
    /* Fill nbytes (a multiple of typesize) of dst. */
    void (*gen)(void *dst, size_t nbytes);
} tbench_dataset;

typedef struct tbench_opts {
    size_t dataset_bytes; /* per dataset */
    size_t chunk_bytes;
    int runs;             /* timed passes */
    int max_seconds;      /* runs drop to 3 when the warm-up pass took longer (0 = never) */
    int clevel;
    int codecs[TBENCH_MAX_LIST], ncodecs;
    int filters[TBENCH_MAX_LIST], nfilters; /* placed in pipeline slot 5 */
    int threads[TBENCH_MAX_LIST], nthreads;
    unsigned datasets; /* mask of TBENCH_DS_* bits */
    int format;        /* TBENCH_TABLE / CSV / JSON */
    const char *tool;  /* name printed in headers and JSON */
} tbench_opts;

/* The dataset table (TBENCH_DS_COUNT_ entries, static storage). */
/* Monotonic clock in seconds; median of n values (sorts v in place). Shared by every bench. */
double tbench_now(void);
double tbench_median(double *v, int n);

const tbench_dataset *tbench_datasets(void);
/* Index of a dataset by name, or -1. */
int tbench_dataset_find(const char *name);

/* Defaults: all datasets, 64 MiB each, 4 MiB chunks, 5 runs, clevel 5, every built-in codec,
 * shuffle and bitshuffle, threads 1 and 2, table output. */
void tbench_defaults(tbench_opts *o, const char *tool);

/* Parse the benchmark options argv[0..argc) (argv[0] is the first option, not the program).
 * Returns TBENCH_EXIT_OK, -1 when -h/--help was given (the caller prints tbench_usage), or
 * TBENCH_EXIT_USAGE after printing a one-line error to stderr. */
int tbench_parse(int argc, char **argv, tbench_opts *o);
/* The option list, for --help. */
void tbench_usage(FILE *f, const char *usage_line);

/* Run the matrix, printing rows as they finish. Returns TBENCH_EXIT_OK when every round trip
 * verified, TBENCH_EXIT_FAIL otherwise (errors on stderr). */
int tbench_run(const tbench_opts *o, FILE *out);

/* Option value helpers, shared with the CLI. Each prints "error: OPTION VALUE: what was wrong"
 * (one line) to stderr and returns TBENCH_EXIT_USAGE on a bad value, TBENCH_EXIT_OK otherwise. */
/* An integer validated against the bounds of `param` in the public parameter table. */
int tbench_param_arg(const char *option, tersa_param param, const char *text, int64_t *value);
/* A codec or filter name (or number) validated by the library's name tables. */
int tbench_codec_arg(const char *option, const char *text, int *codec);
int tbench_filter_arg(const char *option, const char *text, int *filter);
/* A plain integer in [lo, hi]. */
int tbench_int_arg(const char *option, const char *text, int64_t lo, int64_t hi, int64_t *value);
/* Print "error: OPTION: unknown option" (one line) and return TBENCH_EXIT_USAGE. */
int tbench_unknown_option(const char *option);

#endif

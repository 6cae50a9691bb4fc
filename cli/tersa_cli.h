/* The `tersa` command: shared declarations of its subcommands and helpers. The CLI uses only
 * the public API (tersa/tersa.h) plus the benchmark core in bench/, which does the same.
 * Exit statuses: 0 success, 1 failure (I/O, corrupt data, failed verification), 2 usage. */
#ifndef TERSA_CLI_H
#define TERSA_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tersa/tersa.h"
#include "tersa_bench_core.h"

enum { TCLI_OK = 0, TCLI_FAIL = 1, TCLI_USAGE = 2 };

/* Subcommands: argv[0] is the subcommand's name, argv[1..argc) its arguments. */
int tcli_cmd_demo(int argc, char **argv);
int tcli_cmd_compress(int argc, char **argv);
int tcli_cmd_decompress(int argc, char **argv);
int tcli_cmd_info(int argc, char **argv);
int tcli_cmd_bench(int argc, char **argv);

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
/* Print "error: OPTION: missing value" and return TCLI_USAGE. */
int tcli_missing_value(const char *option);
/* Print "error: what" plus a pointer to --help for a subcommand; returns TCLI_USAGE. */
int tcli_usage_error(const char *cmd, const char *what);

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
 * ("--" ends the options). Returns TCLI_OK, -1 for -h/--help, or TCLI_USAGE after printing a
 * one-line error (an unknown option is named). */
int tcli_parse(int argc, char **argv, const tcli_opt *opts, tcli_other_fn other, void *ctx,
               const char **pos, int maxpos, int *npos);

/* A contiguous frame: the msgpack header holds "b2frame\0" at bytes 2..9. */
int tcli_is_frame(const uint8_t *buf, size_t len);

/* ---- frames (tersa_cmd_frame.c; not supported yet) ------------------------------------- */

/* Decompress every chunk of a frame in order into out_path. */
int tcli_frame_decompress(const char *in_path, const uint8_t *buf, size_t len,
                          const char *out_path, int nthreads);
/* Print a frame's header and chunk list. */
int tcli_frame_info(const char *in_path, const uint8_t *buf, size_t len, int json);

#endif

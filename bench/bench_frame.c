/* tersa_bench_frame: super-chunks on disk. Public API only.
 *
 *   tersa_bench_frame [--size MIB] [--chunk MIB | --chunk-kib KIB] [--runs N] [--dataset NAME]
 *                     [--codec NAME] [--clevel N] [--blocksize BYTES] [--threads N] [--dir PATH]
 *                     [--durable] [--csv]
 *
 * Appends --size MiB (default 1024) of a generated dataset in --chunk MiB chunks (default 4)
 * to a contiguous frame file and reads it back, against, in the same run: compressing the
 * same chunks in memory alone; compressing each chunk and write()-ing it to a plain file (the
 * frame's work without the frame: the difference is the cost of the frame and its crash-safe
 * commits); the same appends as one batch (autocommit off, one tersa_schunk_commit at the
 * end: the index is written once instead of after every chunk, which is what matters with many
 * small chunks, e.g. --chunk-kib 4); writing the compressed chunks with write(); and writing
 * and reading the raw
 * bytes with plain write()/read(). Then, on the frame just
 * written (256 chunks by default), the time of a small getitem (16 items at random places)
 * against decompressing a whole chunk from the file. Targets: appending costs at most 10%
 * more than compressing alone; a small getitem is at least 20x faster than a whole chunk.
 *
 * Method: the data (up to 16 distinct chunks, cycled) is generated before any timing; every
 * pass is timed with a monotonic clock, the median of --runs passes is printed; GB/s counts
 * 10^9 uncompressed bytes per second. Files live in --dir (default: the current folder) and
 * are in the page cache when read back (warm reads); writes are not synced unless --durable
 * (then the frame syncs every append and the plain writers every chunk), but each writing
 * pass is followed by an untimed fdatasync so that it does not slow down the next one. The
 * first pass verifies every chunk read back and every getitem. Exit status: 0 when all
 * verified, 1 on a failure, 2 on a usage error. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tersa/tersa.h"
#include "tersa_bench_core.h"


#define MAX_RUNS 15
#define POOL 16

typedef struct bopts {
    int64_t size_mib, chunk_mib, chunk_kib, runs, clevel, blocksize, threads;
    int codec, dataset;
    const char *dir;
    bool durable, csv;
} bopts;

typedef struct bench {
    bopts o;
    size_t chunk, nchunks, npool;
    uint8_t *pool;      /* npool chunks of data */
    uint8_t **comp;     /* npool compressed chunks */
    size_t *clen;
    uint8_t *out;       /* one chunk */
    char frame[1024], plain[1024], packed[1024];
    tersa_cctx *cctx;
    tersa_dctx *dctx;
    int failures;
} bench;

static const uint8_t *chunk_data(const bench *b, size_t k) { return b->pool + (k % b->npool) * b->chunk; }

static void fail(bench *b, const char *what)
{
    fprintf(stderr, "tersa_bench_frame: %s: %s\n", what, tersa_error_detail());
    b->failures++;
}

/* Untimed, after each writing pass: write the file's dirty pages back, so that the next pass
 * does not pay for this one's writeback. */
static void settle(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd >= 0 && fdatasync(fd) != 0) fprintf(stderr, "tersa_bench_frame: fdatasync %s failed\n", path);
    if (fd >= 0) close(fd);
}

/* ---- The timed passes (each returns seconds) ------------------------------------------- */

static double pass_compress(bench *b)
{
    size_t cap = tersa_compress_bound(b->chunk);
    uint8_t *dst = malloc(cap);
    double t0 = tbench_now();
    for (size_t k = 0; k < b->nchunks; k++)
        if (tersa_compress(b->cctx, chunk_data(b, k), b->chunk, dst, cap) < 0) fail(b, "compress");
    double t = tbench_now() - t0;
    free(dst);
    return t;
}

static double pass_decompress(bench *b)
{
    double t0 = tbench_now();
    for (size_t k = 0; k < b->nchunks; k++) {
        size_t i = k % b->npool;
        if (tersa_decompress(b->dctx, b->comp[i], b->clen[i], b->out, b->chunk) != (int64_t)b->chunk)
            fail(b, "decompress");
    }
    return tbench_now() - t0;
}

static double pass_append(bench *b, bool batch)
{
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_FILE,
                             .path = b->frame, .overwrite = 1, .cparams = b->cctx};
    unlink(b->frame); /* dropping the last pass's file is not part of the timing */
    double t0 = tbench_now();
    tersa_schunk *s = tersa_schunk_create(&p);
    if (!s) {
        fail(b, "create");
        return 0;
    }
    tersa_schunk_set_durable(s, b->o.durable);
    if (batch) tersa_schunk_set_autocommit(s, 0);
    for (size_t k = 0; k < b->nchunks; k++)
        if (tersa_schunk_append_buffer(s, chunk_data(b, k), b->chunk) < 0) fail(b, "append");
    if (batch && tersa_schunk_commit(s) < 0) fail(b, "commit");
    tersa_schunk_free(s);
    return tbench_now() - t0;
}

static double pass_read_frame(bench *b, bool verify)
{
    double t0 = tbench_now();
    tersa_schunk *s = tersa_schunk_open_file(b->frame, 0, TERSA_OPEN_READONLY);
    if (!s) {
        fail(b, "open");
        return 0;
    }
    for (size_t k = 0; k < b->nchunks; k++) {
        if (tersa_schunk_decompress_chunk(s, (int64_t)k, b->out, b->chunk) != (int64_t)b->chunk)
            fail(b, "read chunk");
        else if (verify && memcmp(b->out, chunk_data(b, k), b->chunk) != 0)
            fail(b, "chunk read back differs");
    }
    tersa_schunk_free(s);
    return tbench_now() - t0;
}

/* The frame's work without the frame: compress each chunk and write() it to a plain file. */
static double pass_compress_write(bench *b)
{
    size_t cap = tersa_compress_bound(b->chunk);
    uint8_t *dst = malloc(cap);
    unlink(b->packed);
    double t0 = tbench_now();
    int fd = open(b->packed, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    bool ok = fd >= 0 && dst;
    for (size_t k = 0; ok && k < b->nchunks; k++) {
        int64_t n = tersa_compress(b->cctx, chunk_data(b, k), b->chunk, dst, cap);
        ok = n > 0 && write(fd, dst, (size_t)n) == (ssize_t)n;
        if (ok && b->o.durable) ok = fdatasync(fd) == 0;
    }
    if (fd >= 0) close(fd);
    if (!ok) fail(b, "compress and write");
    double t = tbench_now() - t0;
    free(dst);
    return t;
}

/* Plain files: the raw chunks, or the compressed chunks back to back. */
static double pass_write_plain(bench *b, bool compressed)
{
    unlink(compressed ? b->packed : b->plain);
    double t0 = tbench_now();
    int fd = open(compressed ? b->packed : b->plain, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    bool ok = fd >= 0;
    for (size_t k = 0; ok && k < b->nchunks; k++) {
        size_t i = k % b->npool, n = compressed ? b->clen[i] : b->chunk;
        ok = write(fd, compressed ? b->comp[i] : chunk_data(b, k), n) == (ssize_t)n;
        if (ok && b->o.durable) ok = fdatasync(fd) == 0;
    }
    if (fd >= 0) close(fd);
    if (!ok) fail(b, "plain write");
    return tbench_now() - t0;
}

static double pass_read_plain(bench *b, bool verify)
{
    double t0 = tbench_now();
    int fd = open(b->plain, O_RDONLY);
    bool ok = fd >= 0;
    for (size_t k = 0; ok && k < b->nchunks; k++) {
        ok = read(fd, b->out, b->chunk) == (ssize_t)b->chunk;
        if (ok && verify && memcmp(b->out, chunk_data(b, k), b->chunk) != 0) ok = false;
    }
    if (fd >= 0) close(fd);
    if (!ok) fail(b, "plain read");
    return tbench_now() - t0;
}

/* ---- Small getitem against a whole chunk ----------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* Mean seconds of one getitem of 16 items, and of one whole-chunk decompression. */
static void pass_getitem(bench *b, bool verify, double *t_item, double *t_chunk)
{
    tersa_schunk *s = tersa_schunk_open_file(b->frame, 0, TERSA_OPEN_READONLY);
    int ts = tbench_datasets()[b->o.dataset].typesize, n = 16, reps = 2000, creps = 64;
    uint8_t item[16 * 8];
    uint64_t r = 0x9E3779B97F4A7C15ull;
    if (!s) {
        fail(b, "open");
        return;
    }
    double t0 = tbench_now();
    for (int i = 0; i < reps; i++) {
        size_t k = rnd(&r) % b->nchunks, at = rnd(&r) % (b->chunk / (size_t)ts - (size_t)n);
        if (tersa_schunk_getitem(s, (int64_t)k, (int64_t)at, n, item, sizeof item) != n * ts)
            fail(b, "getitem");
        else if (verify && memcmp(item, chunk_data(b, k) + at * (size_t)ts, (size_t)(n * ts)) != 0)
            fail(b, "getitem result differs");
    }
    *t_item = (tbench_now() - t0) / reps;
    t0 = tbench_now();
    for (int i = 0; i < creps; i++)
        if (tersa_schunk_decompress_chunk(s, (int64_t)(rnd(&r) % b->nchunks), b->out, b->chunk) < 0)
            fail(b, "decompress chunk");
    *t_chunk = (tbench_now() - t0) / creps;
    tersa_schunk_free(s);
}

/* ---- Options, setup, report ------------------------------------------------------------ */

static int parse(int argc, char **argv, bopts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = TBENCH_EXIT_OK;
        if (strcmp(a, "--durable") == 0) { o->durable = true; continue; }
        if (strcmp(a, "--csv") == 0) { o->csv = true; continue; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return -1;
        if (!val) return tbench_unknown_option(a);
        i++;
        if (strcmp(a, "--size") == 0) rc = tbench_int_arg(a, val, 1, 1 << 20, &o->size_mib);
        else if (strcmp(a, "--chunk") == 0) rc = tbench_int_arg(a, val, 1, 256, &o->chunk_mib);
        else if (strcmp(a, "--chunk-kib") == 0) rc = tbench_int_arg(a, val, 1, 262144, &o->chunk_kib);
        else if (strcmp(a, "--runs") == 0) rc = tbench_int_arg(a, val, 1, MAX_RUNS, &o->runs);
        else if (strcmp(a, "--clevel") == 0) rc = tbench_param_arg(a, TERSA_P_CLEVEL, val, &o->clevel);
        else if (strcmp(a, "--blocksize") == 0) rc = tbench_param_arg(a, TERSA_P_BLOCKSIZE, val, &o->blocksize);
        else if (strcmp(a, "--threads") == 0) rc = tbench_param_arg(a, TERSA_P_NTHREADS, val, &o->threads);
        else if (strcmp(a, "--codec") == 0) rc = tbench_codec_arg(a, val, &o->codec);
        else if (strcmp(a, "--dir") == 0) o->dir = val;
        else if (strcmp(a, "--dataset") == 0) {
            o->dataset = tbench_dataset_find(val);
            if (o->dataset < 0) {
                fprintf(stderr, "error: --dataset %s: unknown dataset\n", val);
                return TBENCH_EXIT_USAGE;
            }
        } else return tbench_unknown_option(a);
        if (rc != TBENCH_EXIT_OK) return rc;
    }
    if (o->chunk_mib > o->size_mib) o->chunk_mib = o->size_mib;
    if (o->chunk_kib > o->size_mib * 1024) o->chunk_kib = o->size_mib * 1024;
    return TBENCH_EXIT_OK;
}

static int setup(bench *b)
{
    const tbench_dataset *ds = &tbench_datasets()[b->o.dataset];
    b->chunk = b->o.chunk_kib ? (size_t)b->o.chunk_kib << 10 : (size_t)b->o.chunk_mib << 20;
    b->nchunks = ((size_t)b->o.size_mib << 20) / b->chunk;
    b->npool = b->nchunks < POOL ? b->nchunks : POOL;
    b->pool = malloc(b->npool * b->chunk);
    b->comp = calloc(b->npool, sizeof *b->comp);
    b->clen = calloc(b->npool, sizeof *b->clen);
    b->out = malloc(b->chunk);
    b->cctx = tersa_cctx_create();
    b->dctx = tersa_dctx_create();
    if (!b->pool || !b->comp || !b->clen || !b->out || !b->cctx || !b->dctx) return -1;
    ds->gen(b->pool, b->npool * b->chunk);
    tersa_cctx_set(b->cctx, TERSA_P_TYPESIZE, ds->typesize);
    tersa_cctx_set(b->cctx, TERSA_P_CODEC, b->o.codec);
    tersa_cctx_set(b->cctx, TERSA_P_CLEVEL, b->o.clevel);
    tersa_cctx_set(b->cctx, TERSA_P_BLOCKSIZE, b->o.blocksize);
    tersa_cctx_set(b->cctx, TERSA_P_NTHREADS, b->o.threads);
    tersa_cctx_set(b->cctx, TERSA_P_FILTER5, TERSA_FILTER_SHUFFLE);
    tersa_dctx_set(b->dctx, TERSA_P_NTHREADS, b->o.threads);
    size_t cap = tersa_compress_bound(b->chunk);
    for (size_t i = 0; i < b->npool; i++) {
        b->comp[i] = malloc(cap);
        int64_t n = b->comp[i] ? tersa_compress(b->cctx, b->pool + i * b->chunk, b->chunk, b->comp[i], cap) : -1;
        if (n < 0) return -1;
        b->clen[i] = (size_t)n;
    }
    memset(b->out, 1, b->chunk); /* pre-faulted */
    snprintf(b->frame, sizeof b->frame, "%s/tersa_bench_frame.b2frame", b->o.dir);
    snprintf(b->plain, sizeof b->plain, "%s/tersa_bench_frame.raw", b->o.dir);
    snprintf(b->packed, sizeof b->packed, "%s/tersa_bench_frame.packed", b->o.dir);
    return 0;
}

static void row(const bench *b, const char *name, double secs, double base, const char *vs)
{
    double bytes = (double)b->nchunks * (double)b->chunk, gbs = secs > 0 ? bytes / secs / 1e9 : 0;
    double pct = base > 0 ? 100 * (secs / base - 1) : 0;
    if (b->o.csv) printf("%s,%.3f,%.4f,%.1f\n", name, gbs, secs, pct);
    else if (base > 0) printf("  %-38s %7.2f GB/s %8.3f s  %+6.1f%% time vs %s\n", name, gbs, secs, pct, vs);
    else printf("  %-38s %7.2f GB/s %8.3f s\n", name, gbs, secs);
}

static void run(bench *b)
{
    enum { COMP, CW, APP, BATCH, PACK, RAWW, DEC, READ, RAWR, NT };
    static const char *names[NT] = {"compress only (memory)", "compress + write() each chunk",
                                    "append to file frame", "append, one batch (autocommit off)",
                                    "write() compressed chunks",
                                    "write() raw bytes", "decompress only (memory)",
                                    "read file frame (read + decompress)", "read() raw bytes"};
    double t[NT][MAX_RUNS], ti[MAX_RUNS], tc[MAX_RUNS];
    int n = (int)b->o.runs;
    for (int r = 0; r < n; r++) {
        t[COMP][r] = pass_compress(b);
        for (int k = 0; k < 2; k++) { /* the order alternates between runs */
            if ((k + r) % 2 == 0) t[CW][r] = pass_compress_write(b), settle(b->packed);
            else t[APP][r] = pass_append(b, false), settle(b->frame);
        }
        t[BATCH][r] = pass_append(b, true);
        settle(b->frame);
        t[PACK][r] = pass_write_plain(b, true);
        settle(b->packed);
        t[RAWW][r] = pass_write_plain(b, false);
        settle(b->plain);
        t[DEC][r] = pass_decompress(b);
        t[READ][r] = pass_read_frame(b, r == 0);
        t[RAWR][r] = pass_read_plain(b, r == 0);
        pass_getitem(b, r == 0, &ti[r], &tc[r]);
    }
    double m[NT];
    for (int k = 0; k < NT; k++) m[k] = tbench_median(t[k], n);
    for (int k = 0; k < NT; k++) {
        row(b, names[k], m[k], k == APP || k == CW || k == BATCH ? m[COMP] : k == READ ? m[DEC] : 0,
            k == READ ? "decompress only" : "compress only");
        if (k == APP) row(b, "  (append, the frame's own cost)", m[APP], m[CW], "compress + write()");
    }
    double mi = tbench_median(ti, n), mc = tbench_median(tc, n);
    if (b->o.csv) printf("getitem16_us,%.2f,chunk_us,%.1f,ratio,%.1f\n", mi * 1e6, mc * 1e6, mc / mi);
    else printf("  getitem of 16 items, %zu-chunk frame  %8.1f us   whole chunk %8.1f us   %.0fx faster\n"
                "  targets: append <= +10%% vs compress only (%s); getitem >= 20x (%s)\n",
                b->nchunks, mi * 1e6, mc * 1e6, mc / mi, m[APP] <= 1.10 * m[COMP] ? "met" : "NOT met",
                mc >= 20 * mi ? "met" : "NOT met");
}

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    b.o = (bopts){1024, 4, 0, 3, 5, 0, 1, TERSA_CODEC_LZ4, TBENCH_DS_U16_DETECTOR, ".", false, false};
    int rc = parse(argc, argv, &b.o);
    if (rc < 0) {
        printf("usage: tersa_bench_frame [--size MIB] [--chunk MIB | --chunk-kib KIB] [--runs N]\n"
               "       [--dataset NAME] [--codec NAME] [--clevel N] [--blocksize BYTES]\n"
               "       [--threads N] [--dir PATH] [--durable] [--csv]\n");
        return TBENCH_EXIT_OK;
    }
    if (rc != TBENCH_EXIT_OK) return rc;
    if (setup(&b) < 0) {
        fail(&b, "setup (out of memory or compression failed)");
        return TBENCH_EXIT_FAIL;
    }
    const tbench_dataset *ds = &tbench_datasets()[b.o.dataset];
    if (b.o.csv) printf("operation,gbps,seconds,pct_vs_base\n");
    else printf("tersa_bench_frame: %.0f MiB of %s in %zu chunks of %zu KiB, %s clevel %" PRId64
                ", shuffle, blocksize %" PRId64 " (0 auto), %" PRId64 " thread(s), %s, median of %" PRId64
                " runs, ratio %.2f\n", (double)(b.nchunks * b.chunk) / 1048576.0, ds->name, b.nchunks,
                b.chunk >> 10,
                tersa_codec_name(b.o.codec), b.o.clevel, b.o.blocksize, b.o.threads,
                b.o.durable ? "durable" : "page cache", b.o.runs,
                (double)b.chunk / (double)b.clen[0]);
    run(&b);
    unlink(b.frame);
    unlink(b.plain);
    unlink(b.packed);
    for (size_t i = 0; i < b.npool; i++) free(b.comp[i]);
    free(b.comp);
    free(b.clen);
    free(b.pool);
    free(b.out);
    tersa_cctx_free(b.cctx);
    tersa_dctx_free(b.dctx);
    return b.failures ? TBENCH_EXIT_FAIL : TBENCH_EXIT_OK;
}

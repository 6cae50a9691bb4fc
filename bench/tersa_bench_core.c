/* The engine benchmark: timing, verification and output (method in tersa_bench_core.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tersa/tersa.h"
#include "tersa_bench_core.h"

#define TB_MAX_RUNS 64

/* One dataset in memory: source, a pre-faulted destination, one compressed slot per chunk. */
typedef struct tb_work {
    uint8_t *src, *dst, *comp;
    int64_t *csize;
    size_t nbytes, chunk, cap, nchunks;
    char err[512]; /* first error of the current cell */
} tb_work;

/* One measured cell (or the memcpy baseline: codec < 0). */
typedef struct tb_cell {
    const char *dataset;
    int typesize, codec, filter, clevel, nthreads, runs;
    int32_t blocksize;
    double ratio, comp_gbs, decomp_gbs, memcpy_gbs;
    int ok;
} tb_cell;

typedef struct tb_out {
    FILE *f;
    int format, rows;
} tb_out;

/* A timed pass over all chunks: returns a result to compare between passes, or -1 with
 * w->err set. */
typedef int64_t (*tb_pass_fn)(void *ctx, tb_work *w);

double tbench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int tb_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tbench_median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, tb_cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static size_t tb_len(const tb_work *w, size_t i)
{
    size_t off = i * w->chunk;
    return w->nbytes - off < w->chunk ? w->nbytes - off : w->chunk;
}

static int64_t tb_fail(tb_work *w, const char *what, size_t chunk, int64_t rc)
{
    snprintf(w->err, sizeof w->err, "%s chunk %zu: %s (%s)", what, chunk,
             tersa_error_name((int)rc), tersa_error_detail());
    return -1;
}

static int64_t tb_pass_compress(void *ctx, tb_work *w)
{
    int64_t total = 0;
    for (size_t i = 0; i < w->nchunks; i++) {
        int64_t rc = tersa_compress(ctx, w->src + i * w->chunk, tb_len(w, i),
                                    w->comp + i * w->cap, w->cap);
        if (rc <= 0) return tb_fail(w, "compress", i, rc);
        w->csize[i] = rc;
        total += rc;
    }
    return total;
}

static int64_t tb_pass_decompress(void *ctx, tb_work *w)
{
    for (size_t i = 0; i < w->nchunks; i++) {
        int64_t rc = tersa_decompress(ctx, w->comp + i * w->cap, (size_t)w->csize[i],
                                      w->dst + i * w->chunk, tb_len(w, i));
        if (rc < 0) return tb_fail(w, "decompress", i, rc);
        if ((size_t)rc != tb_len(w, i)) {
            snprintf(w->err, sizeof w->err, "decompress chunk %zu: returned %lld, want %zu", i,
                     (long long)rc, tb_len(w, i));
            return -1;
        }
    }
    return (int64_t)w->nbytes;
}

static int64_t tb_pass_memcpy(void *ctx, tb_work *w)
{
    (void)ctx;
    for (size_t i = 0; i < w->nchunks; i++)
        memcpy(w->dst + i * w->chunk, w->src + i * w->chunk, tb_len(w, i));
    return (int64_t)w->nbytes;
}

/* Reports the first differing byte of dst against src; 0 when equal. */
static int tb_verify(tb_work *w)
{
    if (memcmp(w->dst, w->src, w->nbytes) == 0) return 0;
    size_t i = 0;
    while (w->dst[i] == w->src[i]) i++;
    snprintf(w->err, sizeof w->err, "round trip differs at byte %zu (chunk %zu): %02x != %02x",
             i, i / w->chunk, w->dst[i], w->src[i]);
    return -1;
}

/* runs passes of fn; *median receives the median seconds. With check set, dst is poisoned
 * before and verified after every pass (outside the timed region). Every pass must give the
 * same result. Returns that result or -1 (w->err set). */
static int64_t tb_timed(tb_pass_fn fn, void *ctx, tb_work *w, int runs, int check,
                        double *median)
{
    double t[TB_MAX_RUNS];
    int64_t first = 0;
    for (int r = 0; r < runs; r++) {
        if (check) memset(w->dst, 0xA5, w->nbytes);
        double t0 = tbench_now();
        int64_t rc = fn(ctx, w);
        t[r] = tbench_now() - t0;
        if (rc < 0 || (check && tb_verify(w) != 0)) return -1;
        if (r > 0 && rc != first) {
            snprintf(w->err, sizeof w->err, "pass %d gave %lld, pass 0 gave %lld (output not "
                     "deterministic)", r, (long long)rc, (long long)first);
            return -1;
        }
        first = rc;
    }
    *median = tbench_median(t, runs);
    return first;
}

static void tb_work_free(tb_work *w)
{
    free(w->src);
    free(w->dst);
    free(w->comp);
    free(w->csize);
    memset(w, 0, sizeof *w);
}

/* Allocate and pre-fault the buffers for nbytes of data in chunks of chunk bytes. */
static int tb_work_alloc(tb_work *w, size_t nbytes, size_t chunk)
{
    memset(w, 0, sizeof *w);
    w->nbytes = nbytes;
    w->chunk = chunk < nbytes ? chunk : nbytes;
    w->nchunks = (nbytes + w->chunk - 1) / w->chunk;
    w->cap = tersa_compress_bound(w->chunk);
    w->src = malloc(nbytes);
    w->dst = malloc(nbytes);
    w->comp = w->nchunks <= SIZE_MAX / w->cap ? malloc(w->nchunks * w->cap) : NULL;
    w->csize = calloc(w->nchunks, sizeof *w->csize);
    if (!w->src || !w->dst || !w->comp || !w->csize) {
        tb_work_free(w);
        return -1;
    }
    memset(w->dst, 0, nbytes);
    memset(w->comp, 0, w->nchunks * w->cap);
    return 0;
}

/* ---- output ---------------------------------------------------------------------------- */

static void tb_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static const char *tb_codec_label(const tb_cell *c)
{
    const char *n = c->codec < 0 ? "memcpy" : tersa_codec_name(c->codec);
    return n ? n : "?";
}

static const char *tb_filter_label(const tb_cell *c)
{
    const char *n = c->codec < 0 ? "-" : tersa_filter_name(c->filter);
    return n ? n : "?";
}

static double tb_rel(double v, double base) { return base > 0 ? v / base : 0.0; }

static void tb_print_begin(tb_out *po, const tbench_opts *o)
{
    FILE *f = po->f;
    if (po->format == TBENCH_CSV) {
        fprintf(f, "dataset,typesize,codec,filter,clevel,threads,blocksize,runs,ratio,"
                   "comp_gbs,comp_x_memcpy,decomp_gbs,decomp_x_memcpy,verified\n");
    } else if (po->format == TBENCH_JSON) {
        fprintf(f, "{\"tool\": ");
        tb_json_str(f, o->tool);
        fprintf(f, ", \"version\": \"%s\", \"dataset_bytes\": %zu, \"chunk_bytes\": %zu, "
                   "\"runs\": %d, \"unit\": \"GB/s = 1e9 uncompressed bytes per second\", "
                   "\"rows\": [",
                tersa_version(), o->dataset_bytes, o->chunk_bytes, o->runs);
    } else {
        fprintf(f, "%s (tersa %s): %.1f MiB per dataset, %zu KiB chunks, median of %d runs\n"
                   "GB/s = 1e9 bytes of uncompressed data per second; x mc = ratio to memcpy of "
                   "the same chunks\n\n",
                o->tool, tersa_version(), (double)o->dataset_bytes / TBENCH_MIB,
                o->chunk_bytes / 1024, o->runs);
        fprintf(f, "%-13s %-8s %-10s %2s %3s %6s %9s %9s %5s %9s %5s  %s\n", "dataset", "codec",
                "filter", "cl", "thr", "block", "ratio", "comp GB/s", "x mc", "dec GB/s", "x mc",
                "check");
    }
}

static void tb_print_table_row(FILE *f, const tb_cell *c)
{
    char cl[8] = "-", block[16] = "-";
    if (c->codec >= 0) snprintf(cl, sizeof cl, "%d", c->clevel);
    if (c->blocksize > 0 && c->blocksize % 1024 == 0)
        snprintf(block, sizeof block, "%dK", (int)(c->blocksize / 1024));
    else if (c->blocksize > 0)
        snprintf(block, sizeof block, "%d", (int)c->blocksize);
    if (!c->ok) {
        fprintf(f, "%-13s %-8s %-10s %2s %3d %6s %9s %9s %5s %9s %5s  FAILED\n", c->dataset,
                tb_codec_label(c), tb_filter_label(c), cl, c->nthreads, "-", "-", "-", "-", "-",
                "-");
        return;
    }
    fprintf(f, "%-13s %-8s %-10s %2s %3d %6s %9.2f %9.3f %5.2f %9.3f %5.2f  %s\n", c->dataset,
            tb_codec_label(c), tb_filter_label(c), cl, c->nthreads, block, c->ratio, c->comp_gbs,
            tb_rel(c->comp_gbs, c->memcpy_gbs), c->decomp_gbs,
            tb_rel(c->decomp_gbs, c->memcpy_gbs), c->codec < 0 ? "" : "ok");
}

static void tb_print_json_row(FILE *f, const tb_cell *c, int first)
{
    fprintf(f, "%s\n  {\"dataset\": ", first ? "" : ",");
    tb_json_str(f, c->dataset);
    fprintf(f, ", \"typesize\": %d, \"codec\": ", c->typesize);
    tb_json_str(f, tb_codec_label(c));
    fprintf(f, ", \"filter\": ");
    tb_json_str(f, tb_filter_label(c));
    fprintf(f, ", \"clevel\": %d, \"threads\": %d, \"blocksize\": %d, \"runs\": %d, "
               "\"ratio\": %.4f, \"comp_gbs\": %.4f, \"comp_x_memcpy\": %.4f, "
               "\"decomp_gbs\": %.4f, \"decomp_x_memcpy\": %.4f, \"verified\": %s}",
            c->codec < 0 ? 0 : c->clevel, c->nthreads, (int)c->blocksize, c->runs, c->ratio,
            c->comp_gbs, tb_rel(c->comp_gbs, c->memcpy_gbs), c->decomp_gbs,
            tb_rel(c->decomp_gbs, c->memcpy_gbs), c->ok ? "true" : "false");
}

static void tb_print_row(tb_out *po, const tb_cell *c)
{
    FILE *f = po->f;
    if (po->format == TBENCH_CSV)
        fprintf(f, "%s,%d,%s,%s,%d,%d,%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%d\n", c->dataset,
                c->typesize, tb_codec_label(c), tb_filter_label(c), c->codec < 0 ? 0 : c->clevel,
                c->nthreads, (int)c->blocksize, c->runs, c->ratio, c->comp_gbs,
                tb_rel(c->comp_gbs, c->memcpy_gbs), c->decomp_gbs,
                tb_rel(c->decomp_gbs, c->memcpy_gbs), c->ok);
    else if (po->format == TBENCH_JSON)
        tb_print_json_row(f, c, po->rows == 0);
    else
        tb_print_table_row(f, c);
    po->rows++;
    fflush(f);
}

static void tb_print_end(tb_out *po, int cells, int failed)
{
    if (po->format == TBENCH_JSON)
        fprintf(po->f, "\n], \"cells\": %d, \"failed\": %d}\n", cells, failed);
    else if (po->format == TBENCH_TABLE && failed)
        fprintf(po->f, "\n%d of %d round trips FAILED\n", failed, cells);
    else if (po->format == TBENCH_TABLE)
        fprintf(po->f, "\nall %d round trips verified byte for byte\n", cells);
}

/* ---- cells ----------------------------------------------------------------------------- */

static int tb_setup_cctx(tersa_cctx *cc, const tb_cell *c)
{
    int rc = tersa_cctx_set(cc, TERSA_P_TYPESIZE, c->typesize);
    if (rc == 0) rc = tersa_cctx_set(cc, TERSA_P_CODEC, c->codec);
    if (rc == 0) rc = tersa_cctx_set(cc, TERSA_P_CLEVEL, c->clevel);
    if (rc == 0) rc = tersa_cctx_set(cc, TERSA_P_NTHREADS, c->nthreads);
    for (int s = 0; s < TERSA_MAX_FILTERS - 1 && rc == 0; s++)
        rc = tersa_cctx_set(cc, (tersa_param)(TERSA_P_FILTER0 + s), TERSA_FILTER_NONE);
    if (rc == 0) rc = tersa_cctx_set(cc, TERSA_P_FILTER5, c->filter);
    return rc;
}

/* Warm-up, timed compression passes, timed decompression passes. */
static int tb_measure(tersa_cctx *cc, tersa_dctx *dc, tb_work *w, tb_cell *c, int runs,
                      int max_seconds)
{
    double tc = 0, td = 0, twarm = tbench_now();
    int64_t total = tb_timed(tb_pass_compress, cc, w, 1, 0, &tc);
    if (total < 0 || tb_timed(tb_pass_decompress, dc, w, 1, 1, &td) < 0) return -1;
    twarm = tbench_now() - twarm;
    c->runs = max_seconds > 0 && runs > 3 && twarm > max_seconds ? 3 : runs;
    int64_t again = tb_timed(tb_pass_compress, cc, w, c->runs, 0, &tc);
    if (again < 0) return -1;
    if (again != total) {
        snprintf(w->err, sizeof w->err, "compressed size %lld differs from the warm-up's %lld",
                 (long long)again, (long long)total);
        return -1;
    }
    if (tb_timed(tb_pass_decompress, dc, w, c->runs, 1, &td) < 0) return -1;
    tersa_chunk_info info = {.struct_size = sizeof info};
    if (tersa_chunk_inspect(w->comp, (size_t)w->csize[0], &info) == 0)
        c->blocksize = info.blocksize;
    c->ratio = (double)w->nbytes / (double)total;
    c->comp_gbs = (double)w->nbytes / tc * 1e-9;
    c->decomp_gbs = (double)w->nbytes / td * 1e-9;
    return 0;
}

/* One cell. Returns 0 or -1 (w->err set). */
static int tb_cell_run(tb_work *w, tb_cell *c, int runs, int max_seconds)
{
    tersa_cctx *cc = tersa_cctx_create();
    tersa_dctx *dc = tersa_dctx_create();
    int rc = -1;
    w->err[0] = '\0';
    if (!cc || !dc) {
        snprintf(w->err, sizeof w->err, "cannot create contexts: %s", tersa_error_detail());
    } else if (tb_setup_cctx(cc, c) < 0 || tersa_dctx_set(dc, TERSA_P_NTHREADS, c->nthreads) < 0) {
        snprintf(w->err, sizeof w->err, "parameters: %s", tersa_error_detail());
    } else {
        rc = tb_measure(cc, dc, w, c, runs, max_seconds);
    }
    tersa_cctx_free(cc);
    tersa_dctx_free(dc);
    return rc;
}

static double tb_memcpy_row(tb_out *po, tb_work *w, const tbench_dataset *ds, int runs)
{
    tb_cell c = {.dataset = ds->name, .typesize = ds->typesize, .codec = -1, .nthreads = 1,
                 .runs = runs, .ratio = 1.0, .ok = 1};
    double t = 0;
    tb_timed(tb_pass_memcpy, NULL, w, 1, 1, &t);
    if (tb_timed(tb_pass_memcpy, NULL, w, runs, 1, &t) < 0) return 0; /* cannot differ */
    c.comp_gbs = c.decomp_gbs = c.memcpy_gbs = (double)w->nbytes / t * 1e-9;
    tb_print_row(po, &c);
    return c.memcpy_gbs;
}

/* Measure and print one cell; returns 1 if it failed. */
static int tb_report_cell(const tbench_opts *o, tb_out *po, tb_work *w, tb_cell *c)
{
    int failed = tb_cell_run(w, c, o->runs, o->max_seconds) != 0;
    if (failed) {
        c->ok = 0;
        fprintf(stderr, "error: %s %s %s clevel %d threads %d: %s\n", c->dataset,
                tb_codec_label(c), tb_filter_label(c), c->clevel, c->nthreads, w->err);
    }
    tb_print_row(po, c);
    return failed;
}

/* All cells of one dataset; adds to *cells and returns the number that failed. */
static int tb_run_dataset(const tbench_opts *o, tb_out *po, const tbench_dataset *ds, int *cells)
{
    tb_work w;
    size_t nbytes = o->dataset_bytes / 8 * 8, chunk = o->chunk_bytes / 8 * 8;
    if (tb_work_alloc(&w, nbytes ? nbytes : 8, chunk ? chunk : 8) != 0) {
        fprintf(stderr, "error: %s: cannot allocate %zu bytes of buffers\n", ds->name, 3 * nbytes);
        return 1;
    }
    ds->gen(w.src, w.nbytes);
    double mc = tb_memcpy_row(po, &w, ds, o->runs);
    int failed = 0;
    for (int a = 0; a < o->ncodecs; a++)
        for (int b = 0; b < o->nfilters; b++)
            for (int t = 0; t < o->nthreads; t++, (*cells)++) {
                tb_cell c = {.dataset = ds->name, .typesize = ds->typesize,
                             .codec = o->codecs[a], .filter = o->filters[b],
                             .clevel = o->clevel, .nthreads = o->threads[t], .runs = o->runs,
                             .memcpy_gbs = mc, .ok = 1};
                failed += tb_report_cell(o, po, &w, &c);
            }
    tb_work_free(&w);
    return failed;
}

int tbench_run(const tbench_opts *o, FILE *out)
{
    tb_out po = {out, o->format, 0};
    int failed = 0, cells = 0;
    tb_print_begin(&po, o);
    for (int d = 0; d < TBENCH_DS_COUNT_; d++)
        if (o->datasets & (1u << d))
            failed += tb_run_dataset(o, &po, &tbench_datasets()[d], &cells);
    tb_print_end(&po, cells, failed);
    return failed ? TBENCH_EXIT_FAIL : TBENCH_EXIT_OK;
}

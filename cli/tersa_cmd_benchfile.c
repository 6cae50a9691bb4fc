/* `tersa bench FILE`: the benchmark matrix (codec x filter x threads, from the same options as
 * the generated-data benchmark) on the user's own data. FILE is any source the CLI reads: a
 * .npy file, b2nd array, frame or HDF5 dataset gives its decoded items and item size; any
 * other file its bytes (--typesize, default 8). At most --size MiB (default 64) are used, cut
 * into --chunk KiB chunks. As in bench/: one warm-up pass, the median of N timed passes, every
 * decompression verified byte for byte, a memcpy of the same chunks as the baseline. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

#define TCLI_BENCH_STOP 3 /* a tcli_piece_fn result: buffer full, stop reading */

typedef struct tcli_bdata {
    uint8_t *src, *dst, *comp;
    int64_t *csize;
    size_t nbytes, chunk, cap, nchunks, fill;
    int typesize;
} tcli_bdata;

typedef struct tcli_bres {
    double ratio, comp_gbs, dec_gbs;
    int ok;
} tcli_bres;

static int tcli_bench_fill(void *ctx, const uint8_t *p, size_t n)
{
    tcli_bdata *b = ctx;
    size_t take = b->nbytes - b->fill < n ? b->nbytes - b->fill : n;
    memcpy(b->src + b->fill, p, take);
    b->fill += take;
    return b->fill == b->nbytes ? TCLI_BENCH_STOP : TCLI_OK;
}

static int tcli_bench_load(tcli_src *s, const tbench_opts *o, tcli_bdata *b)
{
    tcli_sel sel;
    int64_t total = tcli_src_nitems(s) * s->itemsize;
    b->nbytes = (size_t)(total < (int64_t)o->dataset_bytes ? total : (int64_t)o->dataset_bytes);
    b->nbytes -= b->nbytes % (size_t)b->typesize;
    b->chunk = o->chunk_bytes - o->chunk_bytes % (size_t)b->typesize;
    if (b->chunk == 0)
        b->chunk = (size_t)b->typesize;
    if (b->nbytes == 0) {
        fprintf(stderr, "error: %s: no data to benchmark\n", s->arg);
        return TCLI_FAIL;
    }
    b->nchunks = (b->nbytes + b->chunk - 1) / b->chunk;
    b->cap = tersa_compress_bound(b->chunk);
    b->src = malloc(b->nbytes);
    b->dst = malloc(b->nbytes);
    b->comp = malloc(b->nchunks * b->cap);
    b->csize = calloc(b->nchunks, sizeof *b->csize);
    if (!b->src || !b->dst || !b->comp || !b->csize)
        return tcli_tersa_error(s->arg, TERSA_ERR_NOMEM);
    tcli_sel_parse(&sel, s, NULL);
    int rc = tcli_pump(s, &sel, tcli_bench_fill, b, NULL);
    return rc == TCLI_BENCH_STOP ? TCLI_OK : rc;
}

static size_t tcli_blen(const tcli_bdata *b, size_t i)
{
    size_t off = i * b->chunk;
    return b->nbytes - off < b->chunk ? b->nbytes - off : b->chunk;
}

static int64_t tcli_bench_comp(tersa_cctx *c, tcli_bdata *b)
{
    int64_t total = 0;
    for (size_t i = 0; i < b->nchunks; i++) {
        int64_t rc =
            tersa_compress(c, b->src + i * b->chunk, tcli_blen(b, i), b->comp + i * b->cap, b->cap);
        if (rc < 0) {
            tcli_tersa_error("compress", rc);
            return -1;
        }
        b->csize[i] = rc;
        total += rc;
    }
    return total;
}

static int tcli_bench_dec(tersa_dctx *d, tcli_bdata *b)
{
    memset(b->dst, 0xA5, b->nbytes);
    for (size_t i = 0; i < b->nchunks; i++) {
        int64_t rc = tersa_decompress(d, b->comp + i * b->cap, (size_t)b->csize[i],
                                      b->dst + i * b->chunk, tcli_blen(b, i));
        if (rc < 0)
            return tcli_tersa_error("decompress", rc);
    }
    return TCLI_OK;
}

static int tcli_cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;
    return (a > c) - (a < c);
}

/* Median seconds of runs passes (compress when d is NULL, else decompress + verify). */
static double tcli_bench_time(tersa_cctx *c, tersa_dctx *d, tcli_bdata *b, int runs, int *ok)
{
    double t[64];
    for (int r = 0; r < runs && *ok; r++) {
        double t0 = tcli_now();
        int bad = d ? tcli_bench_dec(d, b) != TCLI_OK : tcli_bench_comp(c, b) < 0;
        t[r] = tcli_now() - t0;
        if (bad || (d && memcmp(b->src, b->dst, b->nbytes) != 0))
            *ok = 0;
    }
    qsort(t, (size_t)runs, sizeof t[0], tcli_cmp_d);
    return runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
}

static void tcli_bench_cell(tcli_bdata *b, const tbench_opts *o, int codec, int filter,
                            int nthreads, tcli_bres *res)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_dctx *d = tersa_dctx_create();
    int rc = c && d ? 0 : TERSA_ERR_NOMEM;
    const int64_t set[][2] = {{TERSA_P_TYPESIZE, b->typesize},
                              {TERSA_P_CODEC, codec},
                              {TERSA_P_CLEVEL, o->clevel},
                              {TERSA_P_NTHREADS, nthreads},
                              {TERSA_P_FILTER0, 0},
                              {TERSA_P_FILTER1, 0},
                              {TERSA_P_FILTER2, 0},
                              {TERSA_P_FILTER3, 0},
                              {TERSA_P_FILTER4, 0},
                              {TERSA_P_FILTER5, filter}};
    for (size_t i = 0; rc >= 0 && i < sizeof set / sizeof set[0]; i++)
        rc = tersa_cctx_set(c, (tersa_param)set[i][0], set[i][1]);
    if (rc >= 0)
        rc = tersa_dctx_set(d, TERSA_P_NTHREADS, nthreads);
    res->ok = rc >= 0;
    if (rc < 0)
        tcli_tersa_error("bench", rc);
    int64_t total = res->ok ? tcli_bench_comp(c, b) : -1;
    res->ok = total > 0;
    if (res->ok)
        tcli_bench_time(NULL, d, b, 1, &res->ok); /* warm-up, verified */
    double tc = res->ok ? tcli_bench_time(c, NULL, b, o->runs, &res->ok) : 0;
    double td = res->ok ? tcli_bench_time(c, d, b, o->runs, &res->ok) : 0;
    res->ratio = total > 0 ? (double)b->nbytes / (double)total : 0;
    res->comp_gbs = tc > 0 ? (double)b->nbytes / tc * 1e-9 : 0;
    res->dec_gbs = td > 0 ? (double)b->nbytes / td * 1e-9 : 0;
    tersa_cctx_free(c);
    tersa_dctx_free(d);
}

static void tcli_bench_row(const tbench_opts *o, const char *codec, const char *filter, int thr,
                           const tcli_bres *r, double mc, int first)
{
    double xc = mc > 0 ? r->comp_gbs / mc : 0, xd = mc > 0 ? r->dec_gbs / mc : 0;
    if (o->format == TBENCH_CSV)
        printf("%s,%s,%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%d\n", codec, filter, o->clevel, thr, r->ratio,
               r->comp_gbs, xc, r->dec_gbs, xd, r->ok);
    else if (o->format == TBENCH_JSON)
        printf("%s\n  {\"codec\": \"%s\", \"filter\": \"%s\", \"clevel\": %d, \"threads\": %d, "
               "\"ratio\": %.4f, \"comp_gbs\": %.4f, \"comp_x_memcpy\": %.4f, \"decomp_gbs\": "
               "%.4f, \"decomp_x_memcpy\": %.4f, \"verified\": %s}",
               first ? "" : ",", codec, filter, o->clevel, thr, r->ratio, r->comp_gbs, xc,
               r->dec_gbs, xd, r->ok ? "true" : "false");
    else
        printf("%-8s %-10s %2d %3d %9.3f %9.3f %5.2f %9.3f %5.2f  %s\n", codec, filter, o->clevel,
               thr, r->ratio, r->comp_gbs, xc, r->dec_gbs, xd, r->ok ? "ok" : "FAILED");
    fflush(stdout);
}

static double tcli_bench_memcpy(tcli_bdata *b, int runs)
{
    double t[64];
    for (int r = 0; r < runs; r++) {
        double t0 = tcli_now();
        for (size_t i = 0; i < b->nchunks; i++)
            memcpy(b->dst + i * b->chunk, b->src + i * b->chunk, tcli_blen(b, i));
        t[r] = tcli_now() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], tcli_cmp_d);
    return t[runs / 2] > 0 ? (double)b->nbytes / t[runs / 2] * 1e-9 : 0;
}

static void tcli_bench_header(const tbench_opts *o, const tcli_src *s, const tcli_bdata *b,
                              double mc)
{
    if (o->format == TBENCH_CSV) {
        printf("codec,filter,clevel,threads,ratio,comp_gbs,comp_x_memcpy,decomp_gbs,"
               "decomp_x_memcpy,verified\n");
    } else if (o->format == TBENCH_JSON) {
        printf("{\"tool\": \"tersa bench\", \"version\": \"%s\", \"file\": ", tersa_version());
        tcli_json_str(stdout, s->arg);
        printf(", \"kind\": \"%s\", \"bytes\": %zu, \"typesize\": %d, \"chunk_bytes\": %zu, "
               "\"runs\": %d, \"memcpy_gbs\": %.4f, \"rows\": [",
               tcli_kind_name(s->kind), b->nbytes, b->typesize, b->chunk, o->runs, mc);
    } else {
        printf("tersa bench %s (%s): %zu bytes, typesize %d, %zu KiB chunks, median of %d runs\n"
               "memcpy %.3f GB/s; x mc = ratio to memcpy of the same chunks\n\n"
               "%-8s %-10s %2s %3s %9s %9s %5s %9s %5s  %s\n",
               s->arg, tcli_kind_name(s->kind), b->nbytes, b->typesize, b->chunk / 1024, o->runs,
               mc, "codec", "filter", "cl", "thr", "ratio", "comp GB/s", "x mc", "dec GB/s", "x mc",
               "check");
    }
}

static int tcli_bench_matrix(const tbench_opts *o, const tcli_src *s, tcli_bdata *b)
{
    double mc = tcli_bench_memcpy(b, o->runs);
    int failed = 0, cells = 0;
    tcli_bench_header(o, s, b, mc);
    for (int x = 0; x < o->ncodecs; x++)
        for (int y = 0; y < o->nfilters; y++)
            for (int z = 0; z < o->nthreads; z++, cells++) {
                tcli_bres r;
                const char *cn = tersa_codec_name(o->codecs[x]),
                           *fn = tersa_filter_name(o->filters[y]);
                tcli_bench_cell(b, o, o->codecs[x], o->filters[y], o->threads[z], &r);
                tcli_bench_row(o, cn ? cn : "?", fn ? fn : "?", o->threads[z], &r, mc, cells == 0);
                failed += !r.ok;
            }
    if (o->format == TBENCH_JSON)
        printf("\n], \"cells\": %d, \"failed\": %d}\n", cells, failed);
    if (o->format == TBENCH_TABLE && failed)
        printf("\n%d of %d round trips FAILED\n", failed, cells);
    else if (o->format == TBENCH_TABLE)
        printf("\nall %d round trips verified byte for byte\n", cells);
    return failed ? TCLI_FAIL : TCLI_OK;
}

/* Take --typesize N out of argv (the rest goes to tbench_parse). */
static int tcli_bench_typesize(int *argc, char **argv, int64_t *ts)
{
    int w = 0;
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--typesize", 10) != 0 || (a[10] && a[10] != '=')) {
            argv[w++] = argv[i];
            continue;
        }
        const char *v = a[10] ? a + 11 : i + 1 < *argc ? argv[++i] : NULL;
        if (!v)
            return tcli_missing_value("--typesize");
        if (tbench_param_arg("--typesize", TERSA_P_TYPESIZE, v, ts))
            return TCLI_USAGE;
    }
    *argc = w;
    return TCLI_OK;
}

int tcli_bench_file(int argc, char **argv)
{
    tbench_opts o;
    tcli_src s;
    tcli_bdata b = {0};
    int64_t ts = 0;
    int n = argc - 2;
    char **rest = argv + 2;
    tbench_defaults(&o, "tersa bench");
    if (tcli_bench_typesize(&n, rest, &ts) != TCLI_OK)
        return TCLI_USAGE;
    int rc = tbench_parse(n, rest, &o);
    if (rc != TBENCH_EXIT_OK)
        return rc < 0 ? TCLI_OK : rc;
    if (tcli_src_open(&s, argv[1], 1) != TCLI_OK)
        return TCLI_FAIL;
    b.typesize = ts ? (int)ts
                 : s.kind != TCLI_K_RAW && s.itemsize <= TERSA_MAX_TYPESIZE
                     ? (int)s.itemsize
                     : (int)tersa_param_get(TERSA_P_TYPESIZE)->def;
    rc = tcli_bench_load(&s, &o, &b);
    if (rc == TCLI_OK)
        rc = tcli_bench_matrix(&o, &s, &b);
    tcli_src_close(&s);
    free(b.src);
    free(b.dst);
    free(b.comp);
    free(b.csize);
    return rc;
}

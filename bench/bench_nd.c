/* tersa_bench_nd: reading regions of a b2nd array on disk. Public API only.
 *
 *   tersa_bench_nd [--size MIB] [--runs N] [--dir PATH] [--keep] [--csv]
 *
 * Writes a 3-D float32 array of --size MiB (default 1024; a multiple of 16) to a contiguous
 * frame file in 16 MiB chunks of (64, 256, 256) items and 256 KiB blocks of (16, 64, 64)
 * items (64 blocks per chunk), streamed one chunk at a time. The data is a smooth field plus
 * small noise: v(i,j,k) = sin(0.02 i) cos(0.015 j) + 0.5 sin(0.01 k + 0.003 i) + noise in
 * [-2^-10, 2^-10) (a hash of the item index), compressed with blosclz clevel 5 and shuffle.
 * The file is then reopened read-only and these selections are read:
 *   block   one block-sized region aligned with a block, in the middle of the array;
 *   plane0  one 2-D plane per axis through the middle (i, j and k fixed in turn);
 *   plane1
 *   plane2
 *   whole   the whole array.
 * Each is read with tersa_array_get_slice (only the blocks the selection meets are decoded;
 * from a contiguous file only their bytes are read) and, as the baseline a plain chunked
 * reader has, by decompressing every chunk the selection touches whole
 * (tersa_schunk_decompress_chunk) and copying the selected items out of it. Printed: the
 * median time of --runs passes of each (default 5), the blocks each decoded, and the speedup.
 * Targets: the block read at least 20x faster than its baseline; planes in proportion to the
 * blocks they touch. Every result is verified: tersa's bytes against the baseline's, and a
 * sample of items against the formula. The file is in the page cache when read (warm reads).
 * Exit status: 0 when every read verified, 1 on a failure, 2 on a usage error. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tersa/tersa.h"
#include "tersa_bench_core.h"

#define MAX_RUNS 64
#define NSEL 5

static const int64_t CS[3] = {64, 256, 256}, BS[3] = {16, 64, 64};

typedef struct bopts {
    int64_t size_mib, runs;
    const char *dir;
    bool keep, csv;
} bopts;

typedef struct sel {
    const char *name;
    int64_t lo[3], hi[3];
} sel;

typedef struct bench {
    bopts o;
    int64_t shape[3];
    char path[1024];
    tersa_array *a;
    uint8_t *chunk;     /* one decoded chunk (baseline) */
    uint8_t *out, *ref; /* results: tersa's and the baseline's */
    size_t outcap;
    int failures;
} bench;

static void fail(bench *b, const char *what)
{
    fprintf(stderr, "tersa_bench_nd: %s: %s\n", what, tersa_error_detail());
    b->failures++;
}

/* ---- The data ------------------------------------------------------------------------ */

static float noise(uint64_t n)
{
    uint64_t h = (n + 1) * 0x9E3779B97F4A7C15u;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9u;
    h ^= h >> 32;
    return ((float)(h & 0xffff) - 32768.0f) * (1.0f / 33554432.0f); /* [-2^-10, 2^-10) */
}

/* Fill the C-order box [lo, hi) (separable tables keep this fast). */
static void fill_box(const bench *b, const int64_t *lo, const int64_t *hi, float *dst)
{
    int64_t n1 = hi[1] - lo[1], n2 = hi[2] - lo[2];
    double *cj = malloc(sizeof(double) * (size_t)n1), *sk = malloc(sizeof(double) * (size_t)n2);
    size_t n = 0;
    for (int64_t j = 0; j < n1; j++)
        cj[j] = cos(0.015 * (double)(lo[1] + j));
    for (int64_t i = lo[0]; i < hi[0]; i++) {
        double si = sin(0.02 * (double)i);
        for (int64_t k = 0; k < n2; k++)
            sk[k] = 0.5 * sin(0.01 * (double)(lo[2] + k) + 0.003 * (double)i);
        for (int64_t j = lo[1]; j < hi[1]; j++) {
            uint64_t base = (uint64_t)((i * b->shape[1] + j) * b->shape[2]);
            for (int64_t k = lo[2]; k < hi[2]; k++)
                dst[n++] = (float)(si * cj[j - lo[1]] + sk[k - lo[2]]) + noise(base + (uint64_t)k);
        }
    }
    free(cj);
    free(sk);
}

/* The array: zeros in a file, then every chunk written whole (nothing read back). */
static int write_array(bench *b)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_CODEC, TERSA_CODEC_BLOSCLZ);
    tersa_cctx_set(c, TERSA_P_CLEVEL, 5);
    tersa_cctx_set(c, TERSA_P_FILTER5, TERSA_FILTER_SHUFFLE);
    int32_t cs[3] = {(int32_t)CS[0], (int32_t)CS[1], (int32_t)CS[2]};
    int32_t bs[3] = {(int32_t)BS[0], (int32_t)BS[1], (int32_t)BS[2]};
    tersa_nd_params p = {.struct_size = sizeof p,
                         .ndim = 3,
                         .shape = b->shape,
                         .chunkshape = cs,
                         .blockshape = bs,
                         .itemsize = 4,
                         .dtype = "<f4",
                         .cparams = c,
                         .storage = TERSA_STORAGE_FILE,
                         .path = b->path,
                         .overwrite = 1};
    double t0 = tbench_now();
    tersa_array *a = tersa_array_zeros(&p);
    tersa_cctx_free(c);
    if (!a) {
        fail(b, "create");
        return -1;
    }
    size_t cb = (size_t)(CS[0] * CS[1] * CS[2] * 4);
    float *buf = malloc(cb);
    for (int64_t i = 0; i < b->shape[0]; i += CS[0])
        for (int64_t j = 0; j < b->shape[1]; j += CS[1])
            for (int64_t k = 0; k < b->shape[2]; k += CS[2]) {
                int64_t lo[3] = {i, j, k}, hi[3] = {i + CS[0], j + CS[1], k + CS[2]};
                fill_box(b, lo, hi, buf);
                if (tersa_array_set_slice(a, lo, hi, NULL, buf, cb) != 1)
                    fail(b, "write a chunk");
            }
    double t = tbench_now() - t0;
    free(buf);
    tersa_schunk_info info = {.struct_size = sizeof info};
    tersa_schunk_get_info(tersa_array_schunk(a), &info);
    tersa_array_free(a);
    fprintf(b->o.csv ? stderr : stdout,
            "array (%" PRId64 ", %" PRId64 ", %" PRId64 ") float32, %" PRId64 " MiB in %" PRId64
            " chunks of 16 MiB, blocks of 256 KiB; file %.1f MiB (ratio %.2f); written in %.1f s "
            "(%.2f GB/s, data generation included)\n",
            b->shape[0], b->shape[1], b->shape[2], info.nbytes >> 20, info.nchunks,
            (double)info.frame_len / 1048576.0, (double)info.nbytes / (double)info.frame_len, t,
            (double)info.nbytes / t * 1e-9);
    return b->failures ? -1 : 0;
}

/* The value at (i, j, k), computed exactly as fill_box does. */
static float value(const bench *b, int64_t i, int64_t j, int64_t k)
{
    int64_t lo[3] = {i, j, k}, hi[3] = {i + 1, j + 1, k + 1};
    float v;
    fill_box(b, lo, hi, &v);
    return v;
}

/* ---- The baseline: whole chunks ------------------------------------------------------ */

/* Copy the items of decoded chunk cc inside s (step 1) to the packed output. */
static void copy_from_chunk(const bench *b, const sel *s, const int64_t *cc, uint8_t *dst)
{
    int64_t lo[3], hi[3], n[3], bgrid[3];
    for (int d = 0; d < 3; d++) {
        int64_t c0 = cc[d] * CS[d];
        lo[d] = s->lo[d] > c0 ? s->lo[d] : c0;
        hi[d] = s->hi[d] < c0 + CS[d] ? s->hi[d] : c0 + CS[d];
        n[d] = s->hi[d] - s->lo[d];
        bgrid[d] = CS[d] / BS[d];
    }
    int64_t bitems = BS[0] * BS[1] * BS[2];
    for (int64_t i = lo[0]; i < hi[0]; i++)
        for (int64_t j = lo[1]; j < hi[1]; j++)
            for (int64_t k = lo[2]; k < hi[2];) { /* one run per block along k */
                int64_t li = i - cc[0] * CS[0], lj = j - cc[1] * CS[1], lk = k - cc[2] * CS[2];
                int64_t blk = ((li / BS[0]) * bgrid[1] + lj / BS[1]) * bgrid[2] + lk / BS[2];
                int64_t in = ((li % BS[0]) * BS[1] + lj % BS[1]) * BS[2] + lk % BS[2];
                int64_t run = BS[2] - lk % BS[2];
                if (run > hi[2] - k)
                    run = hi[2] - k;
                int64_t o = ((i - s->lo[0]) * n[1] + (j - s->lo[1])) * n[2] + (k - s->lo[2]);
                memcpy(dst + o * 4, b->chunk + (blk * bitems + in) * 4, (size_t)run * 4);
                k += run;
            }
}

/* Decompress every chunk s touches whole, then copy. Returns the blocks decoded. */
static int64_t read_baseline(bench *b, const sel *s, uint8_t *dst)
{
    tersa_schunk *sc = tersa_array_schunk(b->a);
    int64_t grid[3], clo[3], chi[3], cc[3], blocks = 0;
    size_t cn = (size_t)(CS[0] * CS[1] * CS[2] * 4);
    for (int d = 0; d < 3; d++) {
        grid[d] = b->shape[d] / CS[d];
        clo[d] = s->lo[d] / CS[d];
        chi[d] = (s->hi[d] - 1) / CS[d];
    }
    for (cc[0] = clo[0]; cc[0] <= chi[0]; cc[0]++)
        for (cc[1] = clo[1]; cc[1] <= chi[1]; cc[1]++)
            for (cc[2] = clo[2]; cc[2] <= chi[2]; cc[2]++) {
                int64_t n = (cc[0] * grid[1] + cc[1]) * grid[2] + cc[2];
                if (tersa_schunk_decompress_chunk(sc, n, b->chunk, cn) != (int64_t)cn)
                    fail(b, "baseline chunk");
                copy_from_chunk(b, s, cc, dst);
                blocks += (int64_t)cn / (BS[0] * BS[1] * BS[2] * 4);
            }
    return blocks;
}

/* ---- The selections ------------------------------------------------------------------ */

static void make_sels(const bench *b, sel *s)
{
    const int64_t *n = b->shape;
    /* a block-aligned block in the middle: chunk (mid), block (1, 2, 1) inside it */
    int64_t c[3] = {n[0] / 2 / CS[0] * CS[0], n[1] / 2 / CS[1] * CS[1], n[2] / 2 / CS[2] * CS[2]};
    s[0] = (sel){"block",
                 {c[0] + BS[0], c[1] + 2 * BS[1], c[2] + BS[2]},
                 {c[0] + 2 * BS[0], c[1] + 3 * BS[1], c[2] + 2 * BS[2]}};
    s[1] = (sel){"plane0", {n[0] / 2 + 3, 0, 0}, {n[0] / 2 + 4, n[1], n[2]}};
    s[2] = (sel){"plane1", {0, n[1] / 2 + 5, 0}, {n[0], n[1] / 2 + 6, n[2]}};
    s[3] = (sel){"plane2", {0, 0, n[2] / 2 + 7}, {n[0], n[1], n[2] / 2 + 8}};
    s[4] = (sel){"whole", {0, 0, 0}, {n[0], n[1], n[2]}};
}

static int64_t sel_items(const sel *s)
{
    return (s->hi[0] - s->lo[0]) * (s->hi[1] - s->lo[1]) * (s->hi[2] - s->lo[2]);
}

/* Check the result against the formula on a sample (every item of small results). */
static void verify_values(bench *b, const sel *s, const float *v)
{
    int64_t n[3] = {s->hi[0] - s->lo[0], s->hi[1] - s->lo[1], s->hi[2] - s->lo[2]};
    int64_t total = n[0] * n[1] * n[2], stride = total > 100000 ? total / 100000 : 1;
    for (int64_t q = 0; q < total; q += stride) {
        int64_t i = q / (n[1] * n[2]), j = q / n[2] % n[1], k = q % n[2];
        float want = value(b, s->lo[0] + i, s->lo[1] + j, s->lo[2] + k);
        if (v[q] != want) {
            fprintf(stderr, "tersa_bench_nd: %s: item %" PRId64 " is %g, the formula says %g\n",
                    s->name, q, (double)v[q], (double)want);
            b->failures++;
            return;
        }
    }
}

typedef struct result {
    double t_tersa, t_base;
    int64_t blocks, chunks, base_blocks;
} result;

static void run_sel(bench *b, const sel *s, result *r)
{
    double tt[MAX_RUNS], tb[MAX_RUNS];
    size_t nb = (size_t)sel_items(s) * 4;
    tersa_nd_stats st = {.struct_size = sizeof st};
    for (int k = 0; k < b->o.runs; k++) {
        tersa_array_reset_stats(b->a);
        double t0 = tbench_now();
        if (tersa_array_get_slice(b->a, s->lo, s->hi, NULL, b->out, b->outcap) != (int64_t)nb)
            fail(b, s->name);
        tt[k] = tbench_now() - t0;
        t0 = tbench_now();
        r->base_blocks = read_baseline(b, s, b->ref);
        tb[k] = tbench_now() - t0;
        if (k == 0) {
            if (memcmp(b->out, b->ref, nb) != 0) {
                fprintf(stderr, "tersa_bench_nd: %s: tersa and the baseline differ\n", s->name);
                b->failures++;
            }
            verify_values(b, s, (const float *)b->out);
        }
    }
    tersa_array_stats(b->a, &st);
    r->blocks = st.blocks_decoded;
    r->chunks = st.chunks_read;
    r->t_tersa = tbench_median(tt, (int)b->o.runs);
    r->t_base = tbench_median(tb, (int)b->o.runs);
}

static void print_row(const bench *b, const sel *s, const result *r, int64_t chunk_blocks)
{
    char shape[64];
    snprintf(shape, sizeof shape, "(%" PRId64 ",%" PRId64 ",%" PRId64 ")", s->hi[0] - s->lo[0],
             s->hi[1] - s->lo[1], s->hi[2] - s->lo[2]);
    double mib = (double)sel_items(s) * 4 / 1048576.0, speed = r->t_base / r->t_tersa;
    double frac = (double)r->blocks / (double)(r->chunks * chunk_blocks);
    if (b->o.csv) {
        printf("%s,%s,%.3f,%.4f,%" PRId64 ",%" PRId64 ",%.4f,%" PRId64 ",%.2f\n", s->name, shape,
               mib, r->t_tersa * 1e3, r->blocks, r->chunks, r->t_base * 1e3, r->base_blocks, speed);
        return;
    }
    printf("%-7s %-17s %9.2f %10.3f %8" PRId64 " %7" PRId64 " %5.1f%% %12.3f %8" PRId64 " %8.1fx\n",
           s->name, shape, mib, r->t_tersa * 1e3, r->blocks, r->chunks, 100 * frac, r->t_base * 1e3,
           r->base_blocks, speed);
}

static void run_all(bench *b)
{
    sel s[NSEL];
    result r[NSEL];
    int64_t chunk_blocks = (CS[0] / BS[0]) * (CS[1] / BS[1]) * (CS[2] / BS[2]);
    make_sels(b, s);
    if (b->o.csv)
        printf("selection,shape,mib,tersa_ms,blocks,chunks,baseline_ms,baseline_blocks,speedup\n");
    else
        printf("\n%-7s %-17s %9s %10s %8s %7s %6s %12s %8s %9s\n", "select", "shape", "MiB",
               "tersa ms", "blocks", "chunks", "of ch.", "whole-ch ms", "blocks", "speedup");
    for (int k = 0; k < NSEL; k++) {
        run_sel(b, &s[k], &r[k]);
        print_row(b, &s[k], &r[k], chunk_blocks);
        fflush(stdout);
    }
    if (!b->o.csv) {
        double sp = r[0].t_base / r[0].t_tersa;
        printf("\nmedian of %" PRId64 " runs; file in the page cache. block read: %.1fx the "
               "whole-chunk baseline (target >= 20x): %s\n",
               b->o.runs, sp, sp >= 20 ? "met" : "NOT met");
        for (int k = 1; k < 4; k++)
            printf("%s: decodes %.1f%% of the baseline's blocks, takes %.1f%% of its time\n",
                   s[k].name, 100.0 * (double)r[k].blocks / (double)r[k].base_blocks,
                   100.0 * r[k].t_tersa / r[k].t_base);
    }
}

/* ---- Options and main ---------------------------------------------------------------- */

static int parse(int argc, char **argv, bopts *o)
{
    *o = (bopts){.size_mib = 1024, .runs = 5, .dir = "."};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = TBENCH_EXIT_OK;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return -1;
        else if (!strcmp(a, "--keep"))
            o->keep = true;
        else if (!strcmp(a, "--csv"))
            o->csv = true;
        else if (v && !strcmp(a, "--size") && ++i)
            rc = tbench_int_arg(a, v, 16, 1 << 20, &o->size_mib);
        else if (v && !strcmp(a, "--runs") && ++i)
            rc = tbench_int_arg(a, v, 1, MAX_RUNS, &o->runs);
        else if (v && !strcmp(a, "--dir") && ++i)
            o->dir = v;
        else
            return tbench_unknown_option(a);
        if (rc != TBENCH_EXIT_OK)
            return rc;
    }
    if (o->size_mib % 16) {
        fprintf(stderr, "error: --size %" PRId64 ": must be a multiple of 16\n", o->size_mib);
        return TBENCH_EXIT_USAGE;
    }
    return TBENCH_EXIT_OK;
}

/* Chunk grid for size/16 chunks: near-cubic, doubling the smallest axis first. */
static void make_shape(bench *b)
{
    int64_t g[3] = {1, 1, 1}, left = b->o.size_mib / 16;
    while (left % 2 == 0 && left > 1) {
        int d = g[0] * CS[0] <= g[1] * CS[1] && g[0] * CS[0] <= g[2] * CS[2] ? 0
                : g[1] * CS[1] <= g[2] * CS[2]                               ? 1
                                                                             : 2;
        g[d] *= 2;
        left /= 2;
    }
    g[0] *= left;
    for (int d = 0; d < 3; d++)
        b->shape[d] = g[d] * CS[d];
}

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    int rc = parse(argc, argv, &b.o);
    if (rc < 0) {
        printf("usage: tersa_bench_nd [--size MIB] [--runs N] [--dir PATH] [--keep] [--csv]\n");
        return TBENCH_EXIT_OK;
    }
    if (rc != TBENCH_EXIT_OK)
        return rc;
    make_shape(&b);
    snprintf(b.path, sizeof b.path, "%s/tersa_bench_nd_%d.b2nd", b.o.dir, (int)getpid());
    b.outcap = (size_t)(b.shape[0] * b.shape[1] * b.shape[2] * 4);
    b.out = malloc(b.outcap);
    b.ref = malloc(b.outcap);
    b.chunk = malloc((size_t)(CS[0] * CS[1] * CS[2] * 4));
    if (!b.out || !b.ref || !b.chunk) {
        fprintf(stderr, "tersa_bench_nd: no memory for %zu-byte buffers\n", b.outcap);
        return TBENCH_EXIT_FAIL;
    }
    if (write_array(&b) == 0) {
        b.a = tersa_array_open_file(b.path, 0, TERSA_OPEN_READONLY);
        if (b.a)
            run_all(&b);
        else
            fail(&b, "open");
        tersa_array_free(b.a);
    }
    if (!b.o.keep)
        unlink(b.path);
    free(b.out);
    free(b.ref);
    free(b.chunk);
    return b.failures ? TBENCH_EXIT_FAIL : TBENCH_EXIT_OK;
}

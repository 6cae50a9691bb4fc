/* tersa_bench_h5: Blosc2 datasets in HDF5 through tersa's direct chunk I/O against HDF5's filter
 * pipeline, gzip and no compression. Public API only.
 *
 *   tersa_bench_h5 [--size MIB] [--chunk Z[,Y,X]] [--runs N] [--ops N] [--threads LIST]
 *                  [--dir PATH] [--csv]
 *
 * Data: a (Z, 1024, 1024) float32 stack of detector-like frames, Z = --size / 4 (default
 * 1024 MiB = 256 frames): a smooth beam and ring background of 20..500 counts per pixel with
 * Poisson-like noise, rounded to whole counts, a slow drift from frame to frame and a few hot
 * pixels. Generated once, before any timing, from a fixed seed.
 *
 * Variants, each writing and reading the whole stack (chunks --chunk, default one frame):
 *   direct T    tersa_h5_write / tersa_h5_read with T threads (--threads, default 1,2,4):
 *               chunks compressed or decoded in parallel, stored and read with direct chunk I/O;
 *   pipeline    H5Dwrite / H5Dread through HDF5's filter pipeline, filter 32026 with the same
 *               cd_values (lz4, clevel 5, shuffle), running tersa's filter registered in this
 *               process (tersa_h5_register_filter; one thread, as HDF5 calls any filter);
 *   gzip 1      H5Pset_deflate(1) through the pipeline;
 *   none        chunked, no filter.
 * Then, on each variant's file, with the dataset open: one frame x[z], one region of one Blosc2
 * block (block shape from the stored frames' b2nd metalayer) and one line along the first axis
 * x[:, i, j], at --ops random places each (fewer when a variant's ops exceed 8 s), reported as
 * the median time of one read. HDF5's chunk cache keeps its default (1 MiB), which holds no
 * whole 4 MiB chunk, so the pipeline decodes every chunk a selection meets at every read.
 *
 * Method: every write goes to a fresh file (unlinked first) in a new temporary folder under
 * --dir (default $TMPDIR or /tmp), timed from H5Fcreate to H5Fclose, not synced; every read is
 * timed from H5Fopen to H5Fclose on the file just written, so all reads are warm (page cache;
 * nothing is dropped). Runs are interleaved over the variants so that drift on a shared machine
 * hits all alike; the median of --runs (default 3) is printed. GB/s = 10^9 uncompressed bytes
 * per second of wall time. Whole-stack rows also give the process's CPU seconds over the same
 * span (all threads together): the work done, which on a busy shared machine is steadier than
 * wall time, and which shows what threads cost. Every read, whole or partial, is compared with the source. Exit status: 0 when
 * all verified, 1 on a failure, 2 on a usage error. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tersa/tersa.h"
#include "tersa/tersa_h5.h"

#define MAX_RUNS 15
#define MAX_OPS 100
#define MAX_THREADS 8
#define MAX_VARIANTS (MAX_THREADS + 3)
#define NY 1024
#define NX 1024
#define OPS_SECONDS 8.0

enum { V_DIRECT, V_PIPELINE, V_GZIP, V_NONE };
enum { S_FRAME, S_BLOCK, S_LINE, S_COUNT };

static const char *const sel_names[S_COUNT] = {"frame", "block", "line"};

typedef struct bopts {
    int64_t size_mib, runs, ops;
    int64_t chunk[3];
    int threads[MAX_THREADS], nthreads;
    const char *dir;
    bool csv;
} bopts;

typedef struct variant {
    int kind, threads;
    char name[32], path[1100];
    double wt[MAX_RUNS], rt[MAX_RUNS], wc[MAX_RUNS], rc[MAX_RUNS]; /* wall, CPU seconds */
    double write_s, read_s, write_cpu, read_cpu;
    int64_t file_bytes;
    double sel_s[S_COUNT];
    int sel_n[S_COUNT];
} variant;

typedef struct bench {
    bopts o;
    int64_t shape[3], bs[3]; /* bs: Blosc2 block shape */
    size_t nbytes;
    float *src, *out;
    char tmp[1024];
    variant v[MAX_VARIANTS];
    int nv;
    int failures;
} bench;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU seconds of the process (all threads). */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[MAX_OPS > MAX_RUNS ? MAX_OPS : MAX_RUNS];
    memcpy(s, v, (size_t)n * sizeof *v);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* ---- Data ------------------------------------------------------------------------------ */

/* Mean counts of pixel (y, x): a Gaussian beam and a diffraction ring on a flat floor. */
static float background(int y, int x)
{
    double dy = y - NY * 0.47, dx = x - NX * 0.53, r = sqrt(dy * dy + dx * dx);
    double ring = 140.0 * exp(-(r - 300.0) * (r - 300.0) / 200.0);
    return (float)(20.0 + 480.0 * exp(-r * r / (2.0 * 60.0 * 60.0)) + ring);
}

/* Frame z: counts ~ mean + sqrt(mean) * (about normal noise), whole numbers, >= 0. */
static void make_frame(float *f, const float *bg, int64_t z)
{
    uint64_t s = 0x5eed0000u + (uint64_t)z;
    float drift = 1.0f + 0.002f * (float)(z % 50);
    for (int64_t k = 0; k < (int64_t)NY * NX; k++) {
        uint64_t r = rng_next(&s);
        float g = ((float)(r & 0xffff) + (float)((r >> 16) & 0xffff) + (float)((r >> 32) & 0xffff) +
                   (float)(r >> 48) - 131070.0f) * (1.0f / 37837.0f); /* sum of 4 uniforms */
        float m = bg[k] * drift, v = floorf(m + sqrtf(m) * g + 0.5f);
        f[k] = v < 0 ? 0 : v;
    }
    uint64_t h = 0x40001u + (uint64_t)z;
    for (int i = 0; i < 16; i++) f[rng_next(&h) % ((uint64_t)NY * NX)] = 65535.0f; /* hot */
}

static int make_data(bench *b)
{
    float *bg = malloc(sizeof(float) * NY * NX);
    b->src = malloc(b->nbytes);
    b->out = malloc(b->nbytes);
    if (!bg || !b->src || !b->out) {
        free(bg);
        fprintf(stderr, "error: no memory for 2 x %zu bytes\n", b->nbytes);
        return 1;
    }
    for (int y = 0; y < NY; y++)
        for (int x = 0; x < NX; x++) bg[y * NX + x] = background(y, x);
    for (int64_t z = 0; z < b->shape[0]; z++) make_frame(b->src + z * NY * NX, bg, z);
    memset(b->out, 0, b->nbytes); /* pre-faulted */
    free(bg);
    return 0;
}

/* ---- Files and datasets ---------------------------------------------------------------- */

static void params_of(const bench *b, tersa_h5_params *p)
{
    tersa_h5_params_init(p);
    p->rank = 3;
    p->shape = b->shape;
    p->chunkshape = b->o.chunk;
    p->type = H5T_IEEE_F32LE;
    p->codec = TERSA_CODEC_LZ4;
    p->clevel = 5;
    p->filter = TERSA_FILTER_SHUFFLE;
}

/* The creation properties of a pipeline variant: the same Blosc2 cd_values as tersa_h5_create
 * stores, deflate 1, or none. */
static hid_t make_dcpl(const bench *b, int kind)
{
    hsize_t chunk[3] = {(hsize_t)b->o.chunk[0], (hsize_t)b->o.chunk[1], (hsize_t)b->o.chunk[2]};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int rc = H5Pset_chunk(dcpl, 3, chunk);
    if (kind == V_PIPELINE) {
        tersa_h5_params p;
        unsigned cd[TERSA_H5_MAX_CD];
        size_t ncd = 0;
        params_of(b, &p);
        if (tersa_h5_cd_values(&p, cd, &ncd) < 0) rc = -1;
        else rc |= H5Pset_filter(dcpl, TERSA_H5_FILTER_ID, H5Z_FLAG_OPTIONAL, ncd, cd);
    } else if (kind == V_GZIP) {
        rc |= H5Pset_deflate(dcpl, 1);
    }
    if (rc < 0) {
        H5Pclose(dcpl);
        return -1;
    }
    return dcpl;
}

static int write_direct(bench *b, const variant *v, hid_t f)
{
    tersa_h5_params p;
    params_of(b, &p);
    tersa_h5dset *d = tersa_h5_create(f, "data", &p);
    int rc = d ? tersa_h5_set_nthreads(d, v->threads) : -1;
    if (rc >= 0) rc = tersa_h5_write(d, NULL, NULL, NULL, b->src, b->nbytes) < 0 ? -1 : 0;
    if (rc < 0) fprintf(stderr, "error: %s write: %s\n", v->name, tersa_error_detail());
    tersa_h5_close(d);
    return rc;
}

static int write_pipeline(bench *b, const variant *v, hid_t f)
{
    hsize_t dims[3] = {(hsize_t)b->shape[0], (hsize_t)b->shape[1], (hsize_t)b->shape[2]};
    hid_t dcpl = make_dcpl(b, v->kind), space = H5Screate_simple(3, dims, NULL);
    hid_t ds = dcpl < 0 ? -1 : H5Dcreate2(f, "data", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl,
                                          H5P_DEFAULT);
    int rc = ds < 0 ? -1 : H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, b->src);
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Sclose(space);
    if (rc < 0) fprintf(stderr, "error: %s write failed\n", v->name);
    return rc < 0 ? -1 : 0;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Write the whole stack to a fresh file; returns seconds (H5Fcreate .. H5Fclose) or -1, and
 * the CPU seconds in *cpu. */
static double write_variant(bench *b, variant *v, double *cpu)
{
    unlink(v->path);
    double c0 = cpu_now(), t0 = now();
    hid_t f = H5Fcreate(v->path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int rc = f < 0 ? -1 : v->kind == V_DIRECT ? write_direct(b, v, f) : write_pipeline(b, v, f);
    if (f >= 0 && H5Fclose(f) < 0) rc = -1;
    double t = now() - t0;
    *cpu = cpu_now() - c0;
    v->file_bytes = file_size(v->path);
    return rc < 0 ? -1 : t;
}

static bool check(bench *b, const variant *v, const char *what, bool ok)
{
    if (!ok) {
        fprintf(stderr, "error: %s %s: WRONG DATA or read failure\n", v->name, what);
        b->failures++;
    }
    return ok;
}

/* Read the whole stack (H5Fopen .. H5Fclose) into b->out; verified; returns seconds or -1, and
 * the CPU seconds in *cpu. */
static double read_variant(bench *b, variant *v, double *cpu)
{
    memset(b->out, 0, b->nbytes); /* a read that does nothing cannot pass */
    double c0 = cpu_now(), t0 = now();
    hid_t f = H5Fopen(v->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = f < 0 ? -1 : H5Dopen2(f, "data", H5P_DEFAULT);
    int rc = ds < 0 ? -1 : 0;
    if (rc >= 0 && v->kind == V_DIRECT) {
        tersa_h5dset *d = tersa_h5_open(ds);
        rc = d ? tersa_h5_set_nthreads(d, v->threads) : -1;
        if (rc >= 0) rc = tersa_h5_read(d, NULL, NULL, NULL, b->out, b->nbytes) < 0 ? -1 : 0;
        if (rc < 0) fprintf(stderr, "error: %s read: %s\n", v->name, tersa_error_detail());
        tersa_h5_close(d);
    } else if (rc >= 0) {
        rc = H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, b->out) < 0 ? -1 : 0;
    }
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
    double t = now() - t0;
    *cpu = cpu_now() - c0;
    bool ok = check(b, v, "whole read", rc >= 0 && memcmp(b->out, b->src, b->nbytes) == 0);
    return ok ? t : -1;
}

/* ---- Small selections ------------------------------------------------------------------ */

typedef struct sel {
    int64_t start[3], count[3];
} sel;

/* The k-th selection of a kind (the same places for every variant). */
static sel pick(const bench *b, int kind, int k)
{
    uint64_t s = 0xa11ce000u + (uint64_t)kind * 1000 + (uint64_t)k;
    sel q = {{0, 0, 0}, {1, 1, 1}};
    int64_t z = (int64_t)(rng_next(&s) % (uint64_t)b->shape[0]);
    if (kind == S_FRAME) {
        q.start[0] = z;
        q.count[1] = b->shape[1];
        q.count[2] = b->shape[2];
    } else if (kind == S_LINE) {
        q.start[1] = (int64_t)(rng_next(&s) % (uint64_t)b->shape[1]);
        q.start[2] = (int64_t)(rng_next(&s) % (uint64_t)b->shape[2]);
        q.count[0] = b->shape[0];
    } else { /* one whole block of one chunk (clipped at the edges of chunk and extent) */
        for (int i = 0; i < 3; i++) {
            int64_t c = (i ? (int64_t)(rng_next(&s) % (uint64_t)b->shape[i]) : z) / b->o.chunk[i];
            int64_t nblk = (b->o.chunk[i] + b->bs[i] - 1) / b->bs[i];
            int64_t lo = c * b->o.chunk[i] + (int64_t)(rng_next(&s) % (uint64_t)nblk) * b->bs[i];
            int64_t hi = lo + b->bs[i], chi = (c + 1) * b->o.chunk[i];
            if (hi > chi) hi = chi;
            if (hi > b->shape[i]) hi = b->shape[i];
            if (lo >= hi) lo = hi - 1;
            q.start[i] = lo;
            q.count[i] = hi - lo;
        }
    }
    return q;
}

static bool verify_sel(const bench *b, const sel *q, const float *got)
{
    for (int64_t z = 0; z < q->count[0]; z++)
        for (int64_t y = 0; y < q->count[1]; y++) {
            const float *want = b->src + ((q->start[0] + z) * NY + q->start[1] + y) * NX +
                                q->start[2];
            if (memcmp(got, want, (size_t)q->count[2] * sizeof *got) != 0) return false;
            got += q->count[2];
        }
    return true;
}

static int read_sel_pipeline(hid_t ds, const sel *q, float *dst)
{
    hsize_t st[3], n[3];
    for (int i = 0; i < 3; i++) {
        st[i] = (hsize_t)q->start[i];
        n[i] = (hsize_t)q->count[i];
    }
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(3, n, NULL);
    int rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, n, NULL);
    if (rc >= 0) rc = H5Dread(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, dst);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? -1 : 0;
}

/* Time --ops reads of one kind on an open dataset (d: tersa handle, or NULL for H5Dread). */
static void time_kind(bench *b, variant *v, hid_t ds, tersa_h5dset *d, int kind)
{
    double t[MAX_OPS], spent = 0;
    int n = 0;
    for (int k = 0; k < b->o.ops && (k < 3 || spent < OPS_SECONDS); k++) {
        sel q = pick(b, kind, k);
        size_t bytes = sizeof(float) * (size_t)(q.count[0] * q.count[1] * q.count[2]);
        memset(b->out, 0, bytes);
        double t0 = now();
        int rc = d ? (tersa_h5_read(d, q.start, q.count, NULL, b->out, b->nbytes) < 0 ? -1 : 0)
                   : read_sel_pipeline(ds, &q, b->out);
        t[n] = now() - t0;
        spent += t[n++];
        if (!check(b, v, sel_names[kind], rc >= 0 && verify_sel(b, &q, b->out))) break;
    }
    v->sel_s[kind] = median(t, n);
    v->sel_n[kind] = n;
}

static void time_selections(bench *b, variant *v)
{
    hid_t f = H5Fopen(v->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = f < 0 ? -1 : H5Dopen2(f, "data", H5P_DEFAULT);
    tersa_h5dset *d = NULL;
    if (ds >= 0 && v->kind == V_DIRECT && (d = tersa_h5_open(ds)))
        tersa_h5_set_nthreads(d, v->threads);
    if (ds < 0 || (v->kind == V_DIRECT && !d)) {
        check(b, v, "open for selections", false);
    } else {
        for (int k = 0; k < S_COUNT; k++) time_kind(b, v, ds, d, k);
    }
    tersa_h5_close(d);
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
}

/* The block shape of the stored frames (b2nd metalayer of chunk 0 of a Blosc2 file). */
static void find_block_shape(bench *b, const char *path)
{
    memcpy(b->bs, b->o.chunk, sizeof b->bs);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = f < 0 ? -1 : H5Dopen2(f, "data", H5P_DEFAULT);
    hsize_t off[3] = {0, 0, 0}, size = 0;
    uint32_t mask = 0;
    uint8_t *raw = NULL;
    if (ds >= 0 && H5Dget_chunk_storage_size(ds, off, &size) >= 0 && size > 0 &&
        (raw = malloc(size)) && H5Dread_chunk(ds, H5P_DEFAULT, off, &mask, raw) >= 0) {
        tersa_schunk *sc = tersa_schunk_open_buffer(raw, size, TERSA_OPEN_BORROW);
        const uint8_t *m = NULL;
        size_t mlen = 0;
        tersa_nd_meta meta;
        memset(&meta, 0, sizeof meta);
        meta.struct_size = sizeof meta;
        if (sc && tersa_schunk_meta_get(sc, "b2nd", &m, &mlen) >= 0 &&
            tersa_nd_meta_parse(m, mlen, &meta) >= 0 && meta.ndim == 3)
            for (int i = 0; i < 3; i++) b->bs[i] = meta.blockshape[i];
        tersa_schunk_free(sc);
    }
    free(raw);
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
}

/* ---- Running --------------------------------------------------------------------------- */

static void add_variant(bench *b, int kind, int threads, const char *name)
{
    variant *v = &b->v[b->nv++];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->threads = threads;
    snprintf(v->name, sizeof v->name, "%s", name);
    snprintf(v->path, sizeof v->path, "%s/v%d.h5", b->tmp, b->nv);
}

static void setup_variants(bench *b)
{
    char name[32];
    for (int i = 0; i < b->o.nthreads; i++) {
        snprintf(name, sizeof name, "direct %d thread%s", b->o.threads[i],
                 b->o.threads[i] > 1 ? "s" : "");
        add_variant(b, V_DIRECT, b->o.threads[i], name);
    }
    add_variant(b, V_PIPELINE, 1, "pipeline blosc2");
    add_variant(b, V_GZIP, 1, "pipeline gzip 1");
    add_variant(b, V_NONE, 1, "uncompressed");
}

static int run_all(bench *b)
{
    for (int r = 0; r < b->o.runs; r++) /* interleaved, so that drift hits every variant */
        for (int k = 0; k < b->nv; k++) {
            variant *v = &b->v[k];
            v->wt[r] = write_variant(b, v, &v->wc[r]);
            if (v->wt[r] < 0) return 1;
            v->rt[r] = read_variant(b, v, &v->rc[r]);
            if (v->rt[r] < 0) return 1;
        }
    for (int k = 0; k < b->nv; k++) {
        b->v[k].write_s = median(b->v[k].wt, (int)b->o.runs);
        b->v[k].read_s = median(b->v[k].rt, (int)b->o.runs);
        b->v[k].write_cpu = median(b->v[k].wc, (int)b->o.runs);
        b->v[k].read_cpu = median(b->v[k].rc, (int)b->o.runs);
    }
    find_block_shape(b, b->v[0].path);
    for (int k = 0; k < b->nv; k++) time_selections(b, &b->v[k]);
    return b->failures ? 1 : 0;
}

/* ---- Reporting ------------------------------------------------------------------------- */

static double gbps(double bytes, double s) { return s > 0 ? bytes / s / 1e9 : 0; }

static const variant *find_kind(const bench *b, int kind)
{
    for (int k = 0; k < b->nv; k++)
        if (b->v[k].kind == kind) return &b->v[k];
    return NULL;
}

/* The direct variant the targets are stated for: 2 threads, else the most threads. */
static const variant *target_direct(const bench *b)
{
    const variant *best = &b->v[0];
    for (int k = 0; k < b->nv; k++) {
        if (b->v[k].kind == V_DIRECT && b->v[k].threads == 2) return &b->v[k];
        if (b->v[k].kind == V_DIRECT && b->v[k].threads > best->threads) best = &b->v[k];
    }
    return best;
}

static int64_t sel_bytes(const bench *b, int kind)
{
    sel q = pick(b, kind, 0);
    return (int64_t)sizeof(float) * q.count[0] * q.count[1] * q.count[2];
}

static void print_header(const bench *b)
{
    double load[1] = {0};
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    if (getloadavg(load, 1) < 1) load[0] = -1;
    printf("tersa_bench_h5: (%" PRId64 ", %d, %d) float32 = %.0f MiB of detector-like frames, "
           "chunks (%" PRId64 ", %" PRId64 ", %" PRId64 ") = %.2f MiB\n", b->shape[0], NY, NX,
           (double)b->nbytes / 1048576.0, b->o.chunk[0], b->o.chunk[1], b->o.chunk[2],
           4.0 * (double)(b->o.chunk[0] * b->o.chunk[1] * b->o.chunk[2]) / 1048576.0);
    printf("blosc2: lz4 clevel 5 shuffle, blocks (%" PRId64 ", %" PRId64 ", %" PRId64 "); "
           "median of %" PRId64 " runs; warm page cache, writes not synced\n", b->bs[0], b->bs[1],
           b->bs[2], b->o.runs);
    printf("HDF5 %u.%u.%u, default chunk cache; %ld cores online, load average %.2f at the end; "
           "files in %s\n\n", maj, min, rel, sysconf(_SC_NPROCESSORS_ONLN), load[0], b->tmp);
}

/* One whole-stack table: wall and CPU seconds, GB/s, speed-ups over pipeline and gzip. */
static void print_whole_op(const bench *b, bool wr)
{
    const variant *p = find_kind(b, V_PIPELINE), *g = find_kind(b, V_GZIP);
    double pw = wr ? p->write_s : p->read_s, gw = wr ? g->write_s : g->read_s;
    printf("%-22s  wall s    GB/s   cpu s  x pipe  x gzip%s\n", wr ? "whole stack: write" :
           "whole stack: read", wr ? "   file MiB   ratio" : "");
    for (int k = 0; k < b->nv; k++) {
        const variant *v = &b->v[k];
        double t = wr ? v->write_s : v->read_s, c = wr ? v->write_cpu : v->read_cpu;
        printf("%-22s %7.3f %7.3f %7.3f %7.2f %7.2f", v->name, t, gbps((double)b->nbytes, t), c,
               pw / t, gw / t);
        if (wr)
            printf(" %10.1f %7.2f", (double)v->file_bytes / 1048576.0,
                   (double)b->nbytes / (double)v->file_bytes);
        printf("\n");
    }
}

static void print_whole(const bench *b)
{
    print_whole_op(b, true);
    printf("\n");
    print_whole_op(b, false);
}

static void print_selections(const bench *b)
{
    const variant *p = find_kind(b, V_PIPELINE);
    printf("\nsmall reads, median ms of one read on an open dataset (reads), x pipe\n");
    printf("%-20s", "variant");
    for (int s = 0; s < S_COUNT; s++)
        printf("  %5s %8.1f KiB", sel_names[s], (double)sel_bytes(b, s) / 1024.0);
    printf("\n");
    for (int k = 0; k < b->nv; k++) {
        const variant *v = &b->v[k];
        printf("%-20s", v->name);
        for (int s = 0; s < S_COUNT; s++)
            printf(" %8.3f (%2d) %6.1fx", v->sel_s[s] * 1e3, v->sel_n[s], p->sel_s[s] / v->sel_s[s]);
        printf("\n");
    }
}

static void print_scaling(const bench *b)
{
    const variant *one = &b->v[0];
    printf("\nthread scaling (direct)  write GB/s   x%-2d   read GB/s   x%-2d   line ms   x%-2d\n",
           one->threads, one->threads, one->threads);
    for (int k = 0; k < b->nv; k++) {
        const variant *v = &b->v[k];
        if (v->kind != V_DIRECT) continue;
        printf("%-24s %10.3f %6.2f %10.3f %6.2f %9.3f %6.2f\n", v->name,
               gbps((double)b->nbytes, v->write_s), one->write_s / v->write_s,
               gbps((double)b->nbytes, v->read_s), one->read_s / v->read_s, v->sel_s[S_LINE] * 1e3,
               one->sel_s[S_LINE] / v->sel_s[S_LINE]);
    }
}

static void print_target(const char *what, double got, double want)
{
    printf("  %-44s %8.2fx  (target >= %4.1fx)  %s\n", what, got, want,
           got >= want ? "met" : "MISSED");
}

/* The same comparison in CPU seconds (work done, summed over threads). */
static void print_cpu_ratio(const char *what, double got)
{
    printf("  %-44s %8.2fx  (CPU seconds, all threads)\n", what, got);
}

static void print_targets(const bench *b)
{
    const variant *d = target_direct(b), *p = find_kind(b, V_PIPELINE), *g = find_kind(b, V_GZIP);
    printf("\ntargets, %s:\n", d->name);
    print_target("write vs pipeline (same blosc2 parameters)", p->write_s / d->write_s, 1.5);
    print_target("read vs pipeline (same blosc2 parameters)", p->read_s / d->read_s, 2.5);
    print_target("write vs gzip 1", g->write_s / d->write_s, 15);
    print_target("read vs gzip 1", g->read_s / d->read_s, 15);
    print_cpu_ratio("  work: write vs pipeline", p->write_cpu / d->write_cpu);
    print_cpu_ratio("  work: read vs pipeline", p->read_cpu / d->read_cpu);
    print_cpu_ratio("  work: write vs gzip 1", g->write_cpu / d->write_cpu);
    print_cpu_ratio("  work: read vs gzip 1", g->read_cpu / d->read_cpu);
    print_target("one block-sized region vs pipeline", p->sel_s[S_BLOCK] / d->sel_s[S_BLOCK], 10);
    print_target("one line x[:, i, j] vs pipeline", p->sel_s[S_LINE] / d->sel_s[S_LINE], 10);
    printf("  (one frame vs pipeline: %.2fx; not a small selection)\n",
           p->sel_s[S_FRAME] / d->sel_s[S_FRAME]);
}

static void print_csv(const bench *b)
{
    printf("variant,threads,op,seconds,gbps,cpu_seconds,file_bytes,ratio,reads\n");
    for (int k = 0; k < b->nv; k++) {
        const variant *v = &b->v[k];
        double ratio = (double)b->nbytes / (double)v->file_bytes, n = (double)b->nbytes;
        printf("%s,%d,write,%.6f,%.4f,%.6f,%" PRId64 ",%.4f,%" PRId64 "\n", v->name, v->threads,
               v->write_s, gbps(n, v->write_s), v->write_cpu, v->file_bytes, ratio, b->o.runs);
        printf("%s,%d,read,%.6f,%.4f,%.6f,%" PRId64 ",%.4f,%" PRId64 "\n", v->name, v->threads,
               v->read_s, gbps(n, v->read_s), v->read_cpu, v->file_bytes, ratio, b->o.runs);
        for (int s = 0; s < S_COUNT; s++)
            printf("%s,%d,%s,%.6f,%.4f,,%" PRId64 ",%.4f,%d\n", v->name, v->threads, sel_names[s],
                   v->sel_s[s], gbps((double)sel_bytes(b, s), v->sel_s[s]), v->file_bytes, ratio,
                   v->sel_n[s]);
    }
}

/* ---- Options --------------------------------------------------------------------------- */

static int int_arg(const char *opt, const char *text, int64_t lo, int64_t hi, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || !*text || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "error: %s %s: must be an integer in %lld..%lld\n", opt,
                text ? text : "(missing)", (long long)lo, (long long)hi);
        return 2;
    }
    *out = v;
    return 0;
}

/* A comma-separated list of up to max integers in lo..hi. */
static int list_arg(const char *opt, const char *text, int64_t lo, int64_t hi, int64_t *out,
                    int max, int *n)
{
    char buf[128], *save = NULL;
    if (!text || strlen(text) >= sizeof buf) return int_arg(opt, NULL, lo, hi, out);
    snprintf(buf, sizeof buf, "%s", text);
    *n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == max) {
            fprintf(stderr, "error: %s %s: at most %d values\n", opt, text, max);
            return 2;
        }
        if (int_arg(opt, t, lo, hi, &out[(*n)++])) return 2;
    }
    return *n ? 0 : int_arg(opt, NULL, lo, hi, out);
}

static int chunk_arg(bopts *o, const char *text)
{
    int64_t v[3];
    int n = 0;
    if (list_arg("--chunk", text, 1, 1024, v, 3, &n)) return 2;
    o->chunk[0] = v[0];
    if (n == 3) {
        o->chunk[1] = v[1];
        o->chunk[2] = v[2];
    } else if (n != 1) {
        fprintf(stderr, "error: --chunk %s: give Z or Z,Y,X\n", text);
        return 2;
    }
    return 0;
}

static int threads_arg(bopts *o, const char *text)
{
    int64_t v[MAX_THREADS];
    if (list_arg("--threads", text, 1, 64, v, MAX_THREADS, &o->nthreads)) return 2;
    for (int i = 0; i < o->nthreads; i++) o->threads[i] = (int)v[i];
    return 0;
}

static int parse_one(bopts *o, const char *a, const char *val, int *used)
{
    *used = 1;
    if (!strcmp(a, "--size")) return int_arg(a, val, 4, 65536, &o->size_mib);
    if (!strcmp(a, "--runs")) return int_arg(a, val, 1, MAX_RUNS, &o->runs);
    if (!strcmp(a, "--ops")) return int_arg(a, val, 1, MAX_OPS, &o->ops);
    if (!strcmp(a, "--chunk")) return chunk_arg(o, val);
    if (!strcmp(a, "--threads")) return threads_arg(o, val);
    if (!strcmp(a, "--dir")) {
        if (!val) fprintf(stderr, "error: --dir: a folder is needed\n");
        o->dir = val;
        return val ? 0 : 2;
    }
    *used = 0;
    if (!strcmp(a, "--csv")) {
        o->csv = true;
        return 0;
    }
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) return -1;
    fprintf(stderr, "error: %s: unknown option\n", a);
    return 2;
}

static int parse(int argc, char **argv, bopts *o)
{
    const char *tmp = getenv("TMPDIR");
    *o = (bopts){.size_mib = 1024, .runs = 3, .ops = 15, .chunk = {1, NY, NX},
                 .threads = {1, 2, 4}, .nthreads = 3, .dir = tmp && *tmp ? tmp : "/tmp"};
    for (int i = 1; i < argc; i++) {
        int used = 0, rc = parse_one(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL, &used);
        if (rc) return rc;
        i += used;
    }
    if (o->size_mib % 4) {
        fprintf(stderr, "error: --size %" PRId64 ": must be a multiple of 4 (MiB per frame)\n",
                o->size_mib);
        return 2;
    }
    return 0;
}

static void cleanup(bench *b)
{
    for (int k = 0; k < b->nv; k++) unlink(b->v[k].path);
    if (b->tmp[0]) rmdir(b->tmp);
    free(b->src);
    free(b->out);
}

int main(int argc, char **argv)
{
    static bench b;
    int rc = parse(argc, argv, &b.o);
    if (rc) {
        if (rc < 0)
            printf("usage: tersa_bench_h5 [--size MIB] [--chunk Z[,Y,X]] [--runs N] [--ops N]\n"
                   "                      [--threads LIST] [--dir PATH] [--csv]\n"
                   "defaults: --size 1024 --chunk 1,1024,1024 --runs 3 --ops 15 --threads 1,2,4\n");
        return rc < 0 ? 0 : 2;
    }
    b.shape[0] = b.o.size_mib / 4;
    b.shape[1] = NY;
    b.shape[2] = NX;
    b.nbytes = (size_t)b.o.size_mib << 20;
    snprintf(b.tmp, sizeof b.tmp, "%s/tersa_bench_h5.XXXXXX", b.o.dir);
    if (!mkdtemp(b.tmp)) {
        fprintf(stderr, "error: cannot make a folder in %s: %s\n", b.o.dir, strerror(errno));
        return 1;
    }
    if (tersa_h5_register_filter() < 0 || make_data(&b)) {
        cleanup(&b);
        return 1;
    }
    setup_variants(&b);
    rc = run_all(&b);
    if (rc == 0 && b.o.csv) print_csv(&b);
    if (rc == 0 && !b.o.csv) {
        print_header(&b);
        print_whole(&b);
        print_selections(&b);
        print_scaling(&b);
        print_targets(&b);
    }
    cleanup(&b);
    return rc;
}

/* HDF5 layer benchmark (BASELINES.md 6d setup): a (NZ, 512, 512) float32 dataset in (4, 512, 512)
 * chunks, lz4 clevel 5 + shuffle, written and read through HDF5's filter pipeline (tersa's filter
 * registered in-process, single-threaded, as any plugin) and through tersa's direct chunk I/O
 * with 1 and 2 threads; then small windows read both ways. Every read is compared with the
 * source. Prints the median of REPS runs per row and the ratio to the pipeline in the same run.
 * Usage: tersa_h5_bench DIR [NZ=64] [REPS=5] */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "th_h5.h"

#define NY 512
#define NX 512

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static void make_data(float *v, int nz)
{
    uint64_t rng = 12345;
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < NY; y++)
            for (int x = 0; x < NX; x++) {
                double u = ((double)(th_rand(&rng) % 1000001) / 1e6 - 0.5) * 1.7; /* ~N(0,0.5) */
                double val = 100.0 * sin(x / 50.0) * cos(y / 40.0) + 0.1 * z + u;
                v[((size_t)z * NY + y) * NX + x] = (float)(floor(val * 16.0) / 16.0);
            }
}

static tersa_h5dset *create(hid_t f, int nz)
{
    int64_t shape[3] = {nz, NY, NX}, chunk[3] = {4, NY, NX};
    tersa_h5_params p;
    tersa_h5_params_init(&p);
    p.rank = 3;
    p.shape = shape;
    p.chunkshape = chunk;
    p.type = H5T_IEEE_F32LE;
    p.codec = TERSA_CODEC_LZ4;
    return tersa_h5_create(f, "data", &p);
}

/* mode 0: H5Dwrite through the pipeline; 1, 2: tersa direct with that many threads. */
static double write_file(const char *path, int mode, const float *v, int nz)
{
    double t0 = now();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    tersa_h5dset *d = create(f, nz);
    size_t n = (size_t)nz * NY * NX * 4;
    int rc = !d;
    if (d && mode == 0)
        rc = H5Dwrite(tersa_h5_dataset_id(d), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0;
    else if (d) {
        tersa_h5_set_nthreads(d, mode);
        rc = tersa_h5_write(d, NULL, NULL, NULL, v, n) < 0;
    }
    tersa_h5_close(d);
    H5Fclose(f);
    if (rc) fprintf(stderr, "write failed: %s\n", tersa_error_detail());
    return now() - t0;
}

static double read_file(const char *path, int mode, float *out, const float *v, int nz)
{
    size_t n = (size_t)nz * NY * NX * 4;
    memset(out, 0, n); /* pre-faulted, and a failed read cannot pass the check */
    double t0 = now();
    tersa_h5dset *d = tersa_h5_open_path(path, "/data", TERSA_H5_READONLY);
    int rc = !d;
    if (d && mode == 0)
        rc = H5Dread(tersa_h5_dataset_id(d), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0;
    else if (d) {
        tersa_h5_set_nthreads(d, mode);
        rc = tersa_h5_read(d, NULL, NULL, NULL, out, n) < 0;
    }
    tersa_h5_close(d);
    double t = now() - t0;
    if (rc || memcmp(out, v, n) != 0) fprintf(stderr, "read mode %d: WRONG DATA\n", mode);
    return t;
}

/* 200 windows of 16 x 16 items at random places: tersa decodes one block each, the pipeline a
 * whole 4 MiB chunk (it does not fit HDF5's default 1 MiB chunk cache). */
static double read_windows(const char *path, int mode, const float *v, int nz)
{
    static float w[16 * 16], want[16 * 16];
    tersa_h5dset *d = tersa_h5_open_path(path, "/data", TERSA_H5_READONLY);
    hid_t ds = tersa_h5_dataset_id(d), fs = H5Dget_space(ds);
    hsize_t hc[3] = {1, 16, 16};
    hid_t ms = H5Screate_simple(3, hc, NULL);
    uint64_t rng = 77;
    int bad = 0;
    int64_t shape[3] = {nz, NY, NX}, step[3] = {1, 1, 1}, count[3] = {1, 16, 16};
    double t0 = now();
    for (int k = 0; k < 200; k++) {
        int64_t s[3] = {(int64_t)(th_rand(&rng) % (uint64_t)nz), (int64_t)(th_rand(&rng) % 496),
                        (int64_t)(th_rand(&rng) % 496)};
        if (mode == 0) {
            hsize_t hs[3] = {(hsize_t)s[0], (hsize_t)s[1], (hsize_t)s[2]};
            H5Sselect_hyperslab(fs, H5S_SELECT_SET, hs, NULL, hc, NULL);
            bad |= H5Dread(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, w) < 0;
        } else {
            bad |= tersa_h5_read(d, s, count, step, w, sizeof w) < 0;
        }
        th_h5_ref_slab((const uint8_t *)v, 3, shape, 4, s, count, step, (uint8_t *)want);
        bad |= memcmp(w, want, sizeof w) != 0;
    }
    double t = now() - t0;
    if (bad) fprintf(stderr, "windows mode %d: WRONG DATA\n", mode);
    H5Sclose(ms);
    H5Sclose(fs);
    tersa_h5_close(d);
    return t;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [NZ=64] [REPS=5]\n", argv[0]);
        return 2;
    }
    int nz = argc > 2 ? atoi(argv[2]) : 64, reps = argc > 3 ? atoi(argv[3]) : 5;
    if (nz < 4 || nz % 4 || reps < 1 || reps > 50) return 2;
    tersa_h5_register_filter();
    size_t n = (size_t)nz * NY * NX * 4;
    float *v = malloc(n), *out = malloc(n);
    make_data(v, nz);
    char path[3][1024];
    double wt[3][50], rt[3][50], win[3][50];
    for (int m = 0; m < 3; m++) snprintf(path[m], sizeof path[m], "%s/bench_%d.h5", argv[1], m);
    for (int r = 0; r < reps; r++) /* interleaved, so that drift hits every mode alike */
        for (int m = 0; m < 3; m++) {
            wt[m][r] = write_file(path[m], m, v, nz);
            rt[m][r] = read_file(path[m], m, out, v, nz);
            win[m][r] = read_windows(path[m], m ? 1 : 0, v, nz);
        }
    const char *names[3] = {"HDF5 pipeline + tersa filter (1 thread)", "tersa direct, 1 thread",
                            "tersa direct, 2 threads"};
    double mb = (double)n / (1 << 20), w0 = median(wt[0], reps), r0 = median(rt[0], reps);
    double x0 = median(win[0], reps);
    printf("(%d, 512, 512) f4 = %.0f MiB, chunks (4, 512, 512), lz4 5 shuffle, median of %d\n",
           nz, mb, reps);
    printf("%-42s %9s %8s %9s %8s %12s\n", "path", "write s", "x pipe", "read s", "x pipe",
           "200 win s");
    for (int m = 0; m < 3; m++) {
        double w = median(wt[m], reps), rd = median(rt[m], reps), x = median(win[m], reps);
        printf("%-42s %9.3f %8.2f %9.3f %8.2f %12.4f\n", names[m], w, w0 / w, rd, r0 / rd, x);
    }
    printf("windows: pipeline %.4f s vs tersa %.4f s (x%.1f)\n", x0, median(win[1], reps),
           x0 / median(win[1], reps));
    free(v);
    free(out);
    return 0;
}

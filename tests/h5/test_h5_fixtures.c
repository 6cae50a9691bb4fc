/* HDF5 fixtures written by h5py with the official Blosc2 filter (fixtures/official-h5, rows of
 * MANIFEST.tsv): whole datasets read to the manifest digests through both I/O paths (pread on
 * the sec2 descriptor, H5Dread_chunk under the core driver) and 1 or 2 threads; random
 * hyperslabs compared with the same slab cut from the whole read; partial reads decode only the
 * blocks they need and read only part of large stored chunks. */
#include <stdlib.h>

#include "th_h5.h"
#include "th_manifest.h"

#define NSLABS 60

/* Open with the sec2 driver (pread path) or the core driver (H5Dread_chunk path). */
static tersa_h5dset *open_fixture(const char *file, const char *dset, int core, hid_t *fid)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (core) H5Pset_fapl_core(fapl, 1 << 20, 0);
    *fid = H5Fopen(file, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (*fid < 0) return NULL;
    hid_t ds = H5Dopen2(*fid, dset, H5P_DEFAULT);
    tersa_h5dset *d = ds < 0 ? NULL : tersa_h5_open(ds);
    if (ds >= 0) H5Dclose(ds);
    return d;
}

static void check_slabs(tersa_h5dset *d, const tersa_h5_info *in, const uint8_t *whole,
                        uint64_t seed)
{
    int64_t start[TH_H5_MAXR], count[TH_H5_MAXR], step[TH_H5_MAXR];
    size_t cap = (size_t)(in->itemsize);
    for (int i = 0; i < in->rank; i++) cap *= (size_t)in->shape[i];
    uint8_t *got = malloc(cap), *want = malloc(cap);
    for (int k = 0; k < NSLABS; k++) {
        th_h5_rand_slab(&seed, in->rank, in->shape, k % 3 == 0 ? 1 : 7, start, count, step);
        size_t n = th_h5_ref_slab(whole, in->rank, in->shape, (size_t)in->itemsize, start, count,
                                  step, want);
        CHECK_EQ(tersa_h5_read(d, start, count, step, got, cap), (int64_t)n);
        CHECK_MEM(got, want, n);
    }
    free(got);
    free(want);
}

static void check_dataset(const char *file, const th_manifest_row *row, int core, int threads)
{
    hid_t fid;
    tersa_h5dset *d = open_fixture(file, row->dataset, core, &fid);
    CHECK(d != NULL);
    if (!d) {
        fprintf(stderr, "%s %s: %s\n", file, row->dataset, tersa_error_detail());
        return;
    }
    TH_H5_INIT(tersa_h5_info, in);
    CHECK_OK(tersa_h5_get_info(d, &in));
    CHECK_EQ(in.path, TERSA_H5_PATH_DIRECT);
    CHECK_EQ(in.pread, !core);
    CHECK_EQ(in.itemsize, row->typesize);
    CHECK_OK(tersa_h5_set_nthreads(d, threads));
    int64_t n = tersa_h5_select_nbytes(d, NULL, NULL, NULL);
    uint8_t *whole = malloc((size_t)n);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, whole, (size_t)n), n);
    if (!th_h5_digest_is(whole, (size_t)n, row->sha256_array_c_order))
        TH_FAIL_AT("%s %s (core %d, %d threads): wrong digest", file, row->dataset, core, threads);
    TH_H5_INIT(tersa_h5_stats, st);
    tersa_h5_get_stats(d, &st);
    CHECK_EQ(st.chunks_read + st.chunks_fill, in.nchunks);
    CHECK(st.blocks_decoded <= st.blocks_total);
    check_slabs(d, &in, whole, 0x9e3779b97f4a7c15ULL + (uint64_t)threads);
    free(whole);
    tersa_h5_close(d);
    H5Fclose(fid);
}

/* lin_f64_1d: a few items of one chunk (stored 68 KiB, read lazily) touch one chunk only. */
static void check_partial(const char *dir)
{
    char file[1024];
    snprintf(file, sizeof file, "%s/lin_f64_1d.h5", dir);
    tersa_h5dset *d = tersa_h5_open_path(file, "/lin", TERSA_H5_READONLY);
    CHECK(d != NULL);
    if (!d) return;
    static double v[10], whole[200000];
    int64_t start = 70000, count = 10;
    CHECK_EQ(tersa_h5_read(d, &start, &count, NULL, v, sizeof v), (int64_t)sizeof v);
    TH_H5_INIT(tersa_h5_stats, st);
    tersa_h5_get_stats(d, &st);
    CHECK_EQ(st.chunks_read, 1);
    CHECK_EQ(st.blocks_decoded, 1);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, whole, sizeof whole), (int64_t)sizeof whole);
    CHECK_MEM(v, whole + start, sizeof v);
    tersa_h5_close(d);
}

int main(void)
{
    th_manifest m;
    char file[1024];
    if (th_manifest_load(TERSA_FIXTURES "/MANIFEST.tsv", &m) != 0) return 1;
    int nrows = 0;
    for (size_t i = 0; i < m.nrows; i++) {
        const th_manifest_row *row = &m.rows[i];
        if (strcmp(row->kind, "hdf5") != 0) continue;
        snprintf(file, sizeof file, "%s/%s", TERSA_FIXTURES, row->path);
        for (int core = 0; core < 2; core++)
            for (int t = 1; t <= 2; t++) check_dataset(file, row, core, t);
        nrows++;
    }
    CHECK(nrows >= 7);
    printf("%d HDF5 fixture datasets\n", nrows);
    check_partial(TERSA_FIXTURES "/official-h5");
    th_manifest_free(&m);
    return th_report("h5_fixtures");
}

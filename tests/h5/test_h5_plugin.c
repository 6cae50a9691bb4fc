/* The filter plugin (plugin/, loaded from its build folder with H5PLprepend, never registered
 * in-process here): it reads the official fixtures to their digests; files tersa writes with
 * direct chunk I/O read back through it; files it writes through H5Dwrite read back with tersa;
 * Fletcher32 after Blosc2 checks both ways; chunks stored unfiltered (filter mask bit) read
 * right; a corrupted chunk fails with file, dataset and chunk coordinates in the detail while
 * the other chunks stay readable. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "th_h5.h"
#include "tersa/tersa_ndarray.h"
#include "th_manifest.h"

static hid_t new_file(const char *name, char *path, size_t cap)
{
    return H5Fcreate(th_h5_tmp(path, cap, name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}

static tersa_h5dset *create(hid_t f, const char *name, int rank, const int64_t *shape,
                            const int64_t *chunk, hid_t type, int fletcher)
{
    tersa_h5_params p;
    tersa_h5_params_init(&p);
    p.rank = rank;
    p.shape = shape;
    p.chunkshape = chunk;
    p.type = type;
    p.codec = TERSA_CODEC_ZSTD;
    p.clevel = 3;
    p.fletcher32 = fletcher;
    tersa_h5dset *d = tersa_h5_create(f, name, &p);
    if (!d) TH_FAIL_AT("create %s: %s", name, tersa_error_detail());
    return d;
}

/* The plugin decodes every official fixture. */
static void check_fixtures(void)
{
    th_manifest m;
    char file[1024];
    if (th_manifest_load(TERSA_FIXTURES "/MANIFEST.tsv", &m) != 0) return;
    for (size_t i = 0; i < m.nrows; i++) {
        const th_manifest_row *row = &m.rows[i];
        if (strcmp(row->kind, "hdf5") != 0) continue;
        snprintf(file, sizeof file, "%s/%s", TERSA_FIXTURES, row->path);
        size_t n = 0;
        uint8_t *buf = th_h5_pipeline_read(file, row->dataset, &n);
        CHECK(buf != NULL);
        if (buf && !th_h5_digest_is(buf, n, row->sha256_array_c_order))
            TH_FAIL_AT("plugin read of %s %s", row->path, row->dataset);
        free(buf);
    }
    th_manifest_free(&m);
}

/* tersa direct write -> plugin read, for rank 1, 2 (b2nd), 3 and with Fletcher32. */
static void check_direct_to_plugin(void)
{
    char path[1024];
    hid_t f = new_file("direct.h5", path, sizeof path);
    int64_t s1[1] = {100000}, c1[1] = {30000}, s2[2] = {300, 250}, c2[2] = {128, 96};
    int64_t s3[3] = {5, 64, 80}, c3[3] = {2, 64, 32};
    struct { const char *name; int rank; const int64_t *s, *c; int fl; } cs[] = {
        {"r1", 1, s1, c1, 0}, {"r2", 2, s2, c2, 0}, {"r3", 3, s3, c3, 0}, {"fl", 2, s2, c2, 1}};
    size_t n[4];
    uint8_t *src[4];
    for (int k = 0; k < 4; k++) {
        tersa_h5dset *d = create(f, cs[k].name, cs[k].rank, cs[k].s, cs[k].c, H5T_IEEE_F64LE,
                                 cs[k].fl);
        n[k] = 8;
        for (int i = 0; i < cs[k].rank; i++) n[k] *= (size_t)cs[k].s[i];
        src[k] = malloc(n[k]);
        th_h5_fill(src[k], n[k] / 8, 8, (uint64_t)k + 1);
        CHECK_OK(tersa_h5_set_nthreads(d, 2));
        CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, src[k], n[k]));
        tersa_h5_close(d);
    }
    H5Fclose(f);
    for (int k = 0; k < 4; k++) {
        size_t got_n = 0;
        char dname[16];
        snprintf(dname, sizeof dname, "/%s", cs[k].name);
        uint8_t *got = th_h5_pipeline_read(path, dname, &got_n);
        CHECK(got != NULL);
        CHECK_EQ(got_n, n[k]);
        if (got) CHECK_MEM(got, src[k], n[k]);
        free(got);
        free(src[k]);
    }
}

/* Plugin write (H5Dwrite with the filter as h5py sets it) -> tersa read. */
static void check_plugin_to_direct(int fletcher)
{
    char path[1024];
    hid_t f = new_file("plugin.h5", path, sizeof path);
    hsize_t dims[2] = {200, 150}, chunk[2] = {64, 64};
    unsigned cd[7] = {0, 0, 0, 0, 5, 1, TERSA_CODEC_LZ4};
    hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_filter(dcpl, TERSA_H5_FILTER_ID, H5Z_FLAG_OPTIONAL, 7, cd);
    if (fletcher) H5Pset_fletcher32(dcpl);
    hid_t ds = H5Dcreate2(f, "p", H5T_STD_I64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    static int64_t v[200 * 150], got[200 * 150];
    for (int i = 0; i < 200 * 150; i++) v[i] = (int64_t)i * i;
    CHECK(H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Fclose(f);
    tersa_h5dset *d = tersa_h5_open_path(path, "/p", TERSA_H5_READONLY);
    CHECK(d != NULL);
    if (!d) return;
    TH_H5_INIT(tersa_h5_info, in);
    tersa_h5_get_info(d, &in);
    unsigned want[10] = {1, 0, 8, 32768, 5, 1, TERSA_CODEC_LZ4, 2, 64, 64};
    CHECK_EQ(in.ncd, 10);
    CHECK_MEM(in.cd_values, want, sizeof want);
    CHECK_EQ(in.path, TERSA_H5_PATH_DIRECT);
    CHECK_EQ(in.fletcher32, fletcher);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, got, sizeof got), (int64_t)sizeof got);
    CHECK_MEM(got, v, sizeof v);
    TH_H5_INIT(tersa_h5_stats, st);
    tersa_h5_get_stats(d, &st);
    CHECK_EQ(st.chunks_read, 12);
    CHECK_EQ(st.chunks_raw, 0);
    tersa_h5_close(d);
}

/* A chunk stored unfiltered (filter mask bit 0 set), as HDF5 does when the optional filter
 * fails: tersa and the pipeline both read it. */
static void check_raw_chunk(void)
{
    char path[1024];
    hid_t f = new_file("raw.h5", path, sizeof path);
    int64_t s[2] = {40, 30}, c[2] = {20, 30};
    tersa_h5dset *d = create(f, "m", 2, s, c, H5T_STD_I32LE, 0);
    static int32_t v[40 * 30], got[40 * 30];
    for (int i = 0; i < 1200; i++) v[i] = i - 600;
    CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, v, sizeof v));
    hsize_t off[2] = {20, 0};
    CHECK(H5Dwrite_chunk(tersa_h5_dataset_id(d), H5P_DEFAULT, 1, off, 600 * 4, v + 600) >= 0);
    tersa_h5_reset_stats(d);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, got, sizeof got), (int64_t)sizeof got);
    CHECK_MEM(got, v, sizeof v);
    TH_H5_INIT(tersa_h5_stats, st);
    tersa_h5_get_stats(d, &st);
    CHECK_EQ(st.chunks_raw, 1);
    memset(got, 0, sizeof got);
    CHECK(H5Dread(tersa_h5_dataset_id(d), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
    CHECK_MEM(got, v, sizeof v);
    tersa_h5_close(d);
    H5Fclose(f);
}

/* Overwrite n bytes at offset `at` of a stored chunk in the file. */
static void corrupt(const char *path, const char *dset, const hsize_t *off, int64_t at, int n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, dset, H5P_DEFAULT);
    haddr_t addr = 0;
    hsize_t size = 0;
    unsigned mask = 0;
    CHECK(H5Dget_chunk_info_by_coord(ds, off, &mask, &addr, &size) >= 0);
    H5Dclose(ds);
    H5Fclose(f);
    uint8_t junk[64];
    memset(junk, 0xa5, sizeof junk);
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, junk, (size_t)n, (off_t)(addr + (haddr_t)at)) == n);
    close(fd);
}

static void check_corrupt(void)
{
    char path[1024];
    hid_t f = new_file("corrupt.h5", path, sizeof path);
    int64_t s[2] = {64, 64}, c[2] = {32, 32};
    tersa_h5dset *d = create(f, "dset", 2, s, c, H5T_IEEE_F32LE, 0);
    tersa_h5dset *g = create(f, "fl", 2, s, c, H5T_IEEE_F32LE, 1);
    static float v[64 * 64], got[64 * 64];
    th_h5_fill((uint8_t *)v, 64 * 64, 4, 77);
    CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, v, sizeof v));
    CHECK_OK(tersa_h5_write(g, NULL, NULL, NULL, v, sizeof v));
    tersa_h5_close(d);
    tersa_h5_close(g);
    H5Fclose(f);
    hsize_t bad[2] = {32, 0};
    corrupt(path, "/dset", bad, 0, 16); /* frame header */
    corrupt(path, "/fl", bad, 300, 8);  /* inside the frame: the checksum catches it */
    const char *names[2] = {"/dset", "/fl"};
    for (int k = 0; k < 2; k++) {
        d = tersa_h5_open_path(path, names[k], TERSA_H5_READONLY);
        CHECK_ERR(tersa_h5_read(d, NULL, NULL, NULL, got, sizeof got), TERSA_ERR_CORRUPT);
        const char *det = tersa_error_detail();
        printf("corrupted chunk: %s\n", det);
        CHECK(strstr(det, "corrupt.h5") && strstr(det, names[k]) && strstr(det, "chunk [1, 0]"));
        int64_t start[2] = {0, 0}, count[2] = {32, 64}, one[2] = {32, 32}, at[2] = {32, 32};
        CHECK_EQ(tersa_h5_read(d, start, count, NULL, got, sizeof got), 32 * 64 * 4);
        CHECK_MEM(got, v, 32 * 64 * 4);
        CHECK_EQ(tersa_h5_read(d, at, one, NULL, got, sizeof got), 32 * 32 * 4);
        tersa_h5_close(d);
    }
}

/* A b2nd frame with several inner chunks (never written by the filter, accepted by it): tersa
 * decodes it through the ndarray layer, the plugin as C-Blosc2 does. */
static void check_inner_chunks(void)
{
    char path[1024];
    hid_t f = new_file("inner.h5", path, sizeof path);
    int64_t s[2] = {64, 48}, c[2] = {64, 48};
    tersa_h5dset *d = create(f, "m", 2, s, c, H5T_IEEE_F32LE, 0);
    static float v[64 * 48], got[64 * 48];
    for (int i = 0; i < 64 * 48; i++) v[i] = (float)i * 0.25f;
    int32_t cs[2] = {32, 20}, bs[2] = {16, 8};
    tersa_nd_params np;
    memset(&np, 0, sizeof np);
    np.struct_size = sizeof np;
    np.ndim = 2;
    np.shape = s;
    np.chunkshape = cs;
    np.blockshape = bs;
    np.itemsize = 4;
    np.dtype = "|V4";
    tersa_array *a = tersa_array_from_buffer(&np, v, sizeof v);
    CHECK(a != NULL);
    if (!a) return;
    int64_t len = tersa_schunk_frame_len(tersa_array_schunk(a));
    uint8_t *frame = malloc((size_t)len);
    CHECK_EQ(tersa_schunk_to_buffer(tersa_array_schunk(a), frame, (size_t)len), len);
    hsize_t off[2] = {0, 0};
    CHECK(H5Dwrite_chunk(tersa_h5_dataset_id(d), H5P_DEFAULT, 0, off, (size_t)len, frame) >= 0);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, got, sizeof got), (int64_t)sizeof got);
    CHECK_MEM(got, v, sizeof v);
    int64_t start[2] = {5, 7}, count[2] = {20, 9}, step[2] = {3, 4};
    static float want[20 * 9];
    th_h5_ref_slab((uint8_t *)v, 2, s, 4, start, count, step, (uint8_t *)want);
    CHECK_EQ(tersa_h5_read(d, start, count, step, got, sizeof got), (int64_t)sizeof want);
    CHECK_MEM(got, want, sizeof want);
    memset(got, 0, sizeof got);
    CHECK(H5Dread(tersa_h5_dataset_id(d), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
    CHECK_MEM(got, v, sizeof v);
    free(frame);
    tersa_array_free(a);
    tersa_h5_close(d);
    H5Fclose(f);
}

int main(void)
{
    CHECK(H5PLprepend(TERSA_H5_PLUGIN_DIR) >= 0);
    CHECK(H5Zfilter_avail(TERSA_H5_FILTER_ID) > 0);
    check_fixtures();
    check_direct_to_plugin();
    check_plugin_to_direct(0);
    check_plugin_to_direct(1);
    check_raw_chunk();
    check_inner_chunks();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the corrupted chunk makes HDF5 complain */
    check_corrupt();
    return th_report("h5_plugin");
}

/* The HDF5 layer's API edges: bad arguments and ranges, read-only handles, variable-length types,
 * scalar and contiguous datasets (read through H5Dread), empty selections, extents, and a
 * pipeline with Fletcher32 *before* Blosc2 (the filter falls back to plain frames; tersa reads
 * such datasets through the pipeline). */
#include <stdlib.h>

#include "h5/tersa_h5_internal.h"
#include "th_h5.h"

static hid_t new_file(const char *name, char *path, size_t cap)
{
    return H5Fcreate(th_h5_tmp(path, cap, name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}

static void check_params(hid_t f)
{
    tersa_h5_params p;
    unsigned cd[TERSA_H5_MAX_CD];
    size_t ncd;
    int64_t shape[2] = {10, 10}, chunk[2] = {4, 0};
    tersa_h5_params_init(&p);
    CHECK_ERR(tersa_h5_cd_values(&p, cd, &ncd), TERSA_ERR_PARAM); /* rank 0, no chunkshape */
    p.rank = 2;
    p.shape = shape;
    p.chunkshape = chunk;
    CHECK_ERR(tersa_h5_cd_values(&p, cd, &ncd), TERSA_ERR_PARAM); /* chunk dimension 0 */
    chunk[1] = 4;
    p.clevel = 10;
    CHECK_ERR(tersa_h5_cd_values(&p, cd, &ncd), TERSA_ERR_PARAM);
    p.clevel = 5;
    CHECK_OK(tersa_h5_cd_values(&p, cd, &ncd));
    CHECK_EQ(ncd, 10);
    CHECK(tersa_h5_create(f, NULL, &p) == NULL);
    int64_t maxshape[2] = {5, 10}; /* below shape */
    p.maxshape = maxshape;
    CHECK(tersa_h5_create(f, "bad", &p) == NULL);
    CHECK(tersa_h5_open(f) == NULL); /* a file id is not a dataset */
    CHECK(tersa_h5_open_path("/nonexistent/x.h5", "/d", 0) == NULL);
    CHECK(strstr(tersa_error_detail(), "x.h5") != NULL);
    tersa_h5_close(NULL);
}

static void check_ranges(hid_t f)
{
    int64_t shape[2] = {10, 12}, chunk[2] = {4, 5};
    tersa_h5_params p;
    th_h5_params(&p, 2, shape, chunk, H5T_STD_I32LE);
    tersa_h5dset *d = tersa_h5_create(f, "r", &p);
    CHECK(d != NULL);
    if (!d) return;
    int32_t buf[200];
    int64_t start[2] = {0, 0}, count[2] = {11, 1}, step[2] = {1, 1};
    CHECK_ERR(tersa_h5_read(d, start, count, step, buf, sizeof buf), TERSA_ERR_RANGE);
    count[0] = 5;
    step[0] = 3; /* indices 0, 3, 6, 9, 12: past the end */
    CHECK_ERR(tersa_h5_read(d, start, count, step, buf, sizeof buf), TERSA_ERR_RANGE);
    step[0] = 0;
    CHECK_ERR(tersa_h5_read(d, start, count, step, buf, sizeof buf), TERSA_ERR_RANGE);
    step[0] = 2;
    CHECK_EQ(tersa_h5_read(d, start, count, step, buf, sizeof buf), 20);
    for (int i = 0; i < 5; i++) CHECK_EQ(buf[i], 0); /* never written: fill value */
    CHECK_ERR(tersa_h5_read(d, start, count, step, buf, 19), TERSA_ERR_DST_TOO_SMALL);
    count[0] = 0; /* empty selection */
    CHECK_EQ(tersa_h5_read(d, start, count, step, buf, 0), 0);
    CHECK_EQ(tersa_h5_write(d, start, count, step, buf, 0), 0);
    CHECK_ERR(tersa_h5_write(d, NULL, NULL, NULL, buf, 7), TERSA_ERR_PARAM);
    int64_t bigger[2] = {20, 12};
    CHECK_ERR(tersa_h5_set_extent(d, bigger), TERSA_ERR_RANGE); /* fixed maxshape */
    CHECK_ERR(tersa_h5_set_nthreads(d, 0), TERSA_ERR_PARAM);
    TH_H5_INIT(tersa_h5_info, in);
    CHECK_OK(tersa_h5_get_info(d, &in));
    CHECK_EQ(in.nchunks, 3 * 3);
    in.struct_size = 8;
    CHECK_ERR(tersa_h5_get_info(d, &in), TERSA_ERR_PARAM);
    tersa_h5_close(d);
}

static void check_readonly(const char *path)
{
    tersa_h5dset *d = tersa_h5_open_path(path, "/r", TERSA_H5_READONLY);
    CHECK(d != NULL);
    int32_t v[120] = {0};
    CHECK_ERR(tersa_h5_write(d, NULL, NULL, NULL, v, sizeof v), TERSA_ERR_STATE);
    tersa_h5_close(d);
}

static void check_vlen_scalar_contiguous(hid_t f)
{
    hid_t vs = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(vs, H5T_VARIABLE);
    hid_t ds = H5Dcreate2(f, "vstr", vs, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(tersa_h5_open(ds) == NULL);
    CHECK(strstr(tersa_error_detail(), "variable-length") != NULL);
    H5Dclose(ds);
    H5Tclose(vs);
    double pi = 3.25, got = 0;
    ds = H5Dcreate2(f, "scalar", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &pi);
    tersa_h5dset *d = tersa_h5_open(ds);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, &got, sizeof got), 8);
    CHECK(got == pi);
    tersa_h5_close(d);
    H5Dclose(ds);
    H5Sclose(sp);
    hsize_t dims[1] = {1000};
    sp = H5Screate_simple(1, dims, NULL);
    ds = H5Dcreate2(f, "contig", H5T_STD_U16LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    static uint16_t v[1000], part[100];
    for (int i = 0; i < 1000; i++) v[i] = (uint16_t)(i * 3);
    d = tersa_h5_open(ds);
    H5Dclose(ds); /* the handle keeps its own reference */
    CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, v, sizeof v));
    int64_t start = 7, count = 100, step = 9;
    CHECK_EQ(tersa_h5_read(d, &start, &count, &step, part, sizeof part), 200);
    for (int i = 0; i < 100; i++) CHECK_EQ(part[i], v[7 + 9 * i]);
    tersa_h5_close(d);
    H5Sclose(sp);
}

/* Fletcher32 before Blosc2: the filter sees chunk + 4 bytes and writes plain frames. */
static void check_fletcher_first(hid_t f)
{
    hsize_t dims[2] = {200, 160}, chunk[2] = {64, 64};
    unsigned cd[7] = {0, 0, 0, 0, 5, 1, TERSA_CODEC_LZ4};
    hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_fletcher32(dcpl);
    H5Pset_filter(dcpl, TERSA_H5_FILTER_ID, H5Z_FLAG_OPTIONAL, 7, cd);
    hid_t ds = H5Dcreate2(f, "fl_first", H5T_STD_I64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    static int64_t v[200 * 160], got[200 * 160];
    for (int i = 0; i < 200 * 160; i++) v[i] = (int64_t)i * 1000003;
    CHECK(H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    static uint8_t raw[70000];
    hsize_t off[2] = {0, 0};
    uint32_t mask = 9;
    CHECK(H5Dread_chunk(ds, H5P_DEFAULT, off, &mask, raw) >= 0);
    CHECK_EQ(mask, 0);
    uint32_t hl = tersa__ld32be(raw + 0x0b);
    CHECK_EQ(hl, 87 + 10); /* no metalayer: a plain frame */
    CHECK_EQ(tersa__ld32(raw + hl + 4), 64 * 64 * 8 + 4);
    tersa_h5dset *d = tersa_h5_open(ds);
    TH_H5_INIT(tersa_h5_info, in);
    tersa_h5_get_info(d, &in);
    CHECK_EQ(in.path, TERSA_H5_PATH_PIPELINE);
    CHECK_EQ(in.filter_index, 1);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, got, sizeof got), (int64_t)sizeof got);
    CHECK_MEM(got, v, sizeof v);
    tersa_h5_close(d);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
}

/* HDF5's own Fletcher32 on a dataset without Blosc2 agrees with ours. */
static void check_fletcher_value(hid_t f)
{
    hsize_t dims[1] = {1001}, chunk[1] = {1001};
    hid_t sp = H5Screate_simple(1, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    H5Pset_fletcher32(dcpl);
    hid_t ds = H5Dcreate2(f, "fl_only", H5T_STD_U8LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    static uint8_t v[1001], raw[1005];
    uint64_t rng = 1;
    for (int i = 0; i < 1001; i++) v[i] = (uint8_t)th_rand(&rng); /* odd length on purpose */
    H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    hsize_t off[1] = {0};
    uint32_t mask = 0;
    CHECK(H5Dread_chunk(ds, H5P_DEFAULT, off, &mask, raw) >= 0);
    CHECK_EQ(tersa__ld32(raw + 1001), tersa__h5_fletcher32(v, 1001));
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
}

/* HDF5 1.10 sizes a dataset's filter message at creation, with the filter's name only if the
 * filter is registered then, and writes the name of whatever is registered at close: a filter
 * registered in between (tersa registers its own lazily) made the file unreadable. Runs
 * first, while filter 32026 is not registered in this process. */
static void check_late_registration(void)
{
    char path[1024];
    CHECK(H5Zfilter_avail(TERSA_H5_FILTER_ID) <= 0);
    hid_t f = new_file("late.h5", path, sizeof path);
    int64_t shape[2] = {64, 48}, chunk[2] = {16, 48};
    tersa_h5_params p;
    th_h5_params(&p, 2, shape, chunk, H5T_STD_I32LE);
    static int32_t v[64 * 48], back[64 * 48];
    for (int i = 0; i < 64 * 48; i++) v[i] = i * 7;
    tersa_h5dset *d = tersa_h5_create(f, "late", &p);
    CHECK(d != NULL);
    CHECK_OK(d ? tersa_h5_write(d, NULL, NULL, NULL, v, sizeof v) : -1);
    tersa_h5_close(d);
    CHECK_OK(tersa_h5_register_filter()); /* again: a no-op or a re-registration */
    H5Fclose(f);
    d = tersa_h5_open_path(path, "/late", TERSA_H5_READONLY);
    CHECK(d != NULL);
    CHECK_EQ(d ? tersa_h5_read(d, NULL, NULL, NULL, back, sizeof back) : -1, (int64_t)sizeof back);
    CHECK_MEM(back, v, sizeof v);
    tersa_h5_close(d);
}

int main(void)
{
    char path[1024];
    check_late_registration();
    CHECK_OK(tersa_h5_register_filter());
    hid_t f = new_file("api.h5", path, sizeof path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* expected failures below */
    check_params(f);
    check_ranges(f);
    check_vlen_scalar_contiguous(f);
    check_fletcher_first(f);
    check_fletcher_value(f);
    H5Fclose(f);
    check_readonly(path);
    return th_report("h5_api");
}

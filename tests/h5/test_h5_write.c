/* Direct writes: datasets tersa creates carry the cd_values the official set_local stores and
 * b2nd metalayers identical to the official filter's; every rank/type combination round-trips
 * through tersa's reader and through HDF5's pipeline with tersa's filter; hyperslab writes with
 * steps merge partial chunks (also with a user fill value); appends grow axis 0; output does not
 * depend on the thread count; userblock files and non-Blosc2 datasets work. */
#include <stdlib.h>

#include "h5/tersa_h5_internal.h"
#include "th_h5.h"

typedef struct wcase {
    const char *name;
    int rank;
    int64_t shape[9], chunk[9];
    int codec, filter, clevel;
    int32_t blocksize;
} wcase;

static hid_t new_file(const char *name)
{
    char path[1024];
    return H5Fcreate(th_h5_tmp(path, sizeof path, name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}

static size_t nitems_of(int rank, const int64_t *shape)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)shape[i];
    return n;
}

static tersa_h5dset *create(hid_t f, const wcase *c, hid_t type, const int64_t *maxshape)
{
    tersa_h5_params p;
    tersa_h5_params_init(&p);
    p.rank = c->rank;
    p.shape = c->shape;
    p.maxshape = maxshape;
    p.chunkshape = c->chunk;
    p.type = type;
    p.codec = c->codec;
    p.filter = c->filter;
    p.clevel = c->clevel;
    p.blocksize = c->blocksize;
    tersa_h5dset *d = tersa_h5_create(f, c->name, &p);
    if (!d) TH_FAIL_AT("create %s: %s", c->name, tersa_error_detail());
    return d;
}

/* Stored cd_values of a dataset. */
static size_t stored_cd(hid_t ds, unsigned *cd)
{
    hid_t dcpl = H5Dget_create_plist(ds);
    size_t n = 20;
    unsigned flags;
    H5Pget_filter_by_id2(dcpl, TERSA_H5_FILTER_ID, &flags, &n, cd, 0, NULL, NULL);
    CHECK_EQ(flags & H5Z_FLAG_OPTIONAL, H5Z_FLAG_OPTIONAL);
    H5Pclose(dcpl);
    return n;
}

/* Write the whole array, read it back with tersa and with the pipeline (tersa's filter). */
static void roundtrip(hid_t f, const wcase *c, hid_t type, const unsigned *want_cd, size_t nwant)
{
    tersa_h5dset *d = create(f, c, type, NULL);
    if (!d) return;
    size_t isz = H5Tget_size(type), n = nitems_of(c->rank, c->shape) * isz;
    uint8_t *src = malloc(n), *got = malloc(n);
    th_h5_fill(src, n / isz, isz, 42);
    CHECK_OK(tersa_h5_set_nthreads(d, 2));
    CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, src, n));
    memset(got, 0xee, n);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, got, n), (int64_t)n);
    CHECK_MEM(got, src, n);
    unsigned cd[20];
    size_t ncd = stored_cd(tersa_h5_dataset_id(d), cd);
    if (want_cd) {
        CHECK_EQ(ncd, nwant);
        CHECK_MEM(cd, want_cd, nwant * sizeof *cd);
    }
    memset(got, 0xee, n);
    CHECK(H5Dread(tersa_h5_dataset_id(d), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
    CHECK_MEM(got, src, n);
    tersa_h5_close(d);
    free(src);
    free(got);
}

static hid_t compound19(void)
{
    hid_t s6 = H5Tcopy(H5T_C_S1);
    H5Tset_size(s6, 6);
    hid_t t = H5Tcreate(H5T_COMPOUND, 19);
    H5Tinsert(t, "id", 0, H5T_STD_I32LE);
    H5Tinsert(t, "x", 4, H5T_IEEE_F64LE);
    H5Tinsert(t, "flag", 12, H5T_STD_U8LE);
    H5Tinsert(t, "name", 13, s6);
    H5Tclose(s6);
    return t;
}

static void check_types(void)
{
    hid_t f = new_file("types.h5");
    wcase a = {"arange", 2, {512, 384}, {128, 128}, TERSA_CODEC_LZ4, 2, 5, 0};
    unsigned cd_a[] = {1, 0, 4, 65536, 5, 2, 1, 2, 128, 128};
    roundtrip(f, &a, H5T_STD_I32LE, cd_a, 10);
    wcase b = {"bytes1d", 1, {35149}, {8192}, TERSA_CODEC_LZ4, 0, 5, 0};
    unsigned cd_b[] = {1, 0, 1, 8192, 5, 0, 1};
    roundtrip(f, &b, H5T_STD_U8LE, cd_b, 7);
    wcase s = {"stack", 3, {8, 256, 256}, {1, 256, 256}, TERSA_CODEC_ZSTD, 1, 5, 0};
    roundtrip(f, &s, H5T_STD_U16LE, NULL, 0);
    wcase e = {"edge", 2, {300, 250}, {128, 96}, TERSA_CODEC_LZ4HC, 1, 9, 0};
    roundtrip(f, &e, H5T_IEEE_F32LE, NULL, 0);
    wcase r = {"records", 1, {20000}, {4096}, TERSA_CODEC_ZSTD, 1, 3, 0};
    hid_t t19 = compound19();
    unsigned cd_r[] = {1, 0, 19, 77824, 3, 1, 5};
    roundtrip(f, &r, t19, cd_r, 7);
    H5Tclose(t19);
    wcase str = {"strings", 2, {40, 33}, {16, 16}, TERSA_CODEC_BLOSCLZ, 1, 5, 0};
    hid_t s6 = H5Tcopy(H5T_C_S1);
    H5Tset_size(s6, 6);
    roundtrip(f, &str, s6, NULL, 0);
    H5Tclose(s6);
    hsize_t three = 3; /* an array type: cd[2] is the base size, so the plain path */
    hid_t arr = H5Tarray_create2(H5T_IEEE_F32LE, 1, &three);
    wcase ar = {"arr", 2, {50, 40}, {16, 16}, TERSA_CODEC_LZ4, 1, 5, 0};
    unsigned cd_ar[] = {1, 0, 4, 3072, 5, 1, 1, 2, 16, 16};
    roundtrip(f, &ar, arr, cd_ar, 10);
    H5Tclose(arr);
    wcase r9 = {"rank9", 9, {3, 2, 2, 3, 2, 2, 3, 2, 5}, {2, 2, 1, 2, 2, 1, 2, 2, 4},
                TERSA_CODEC_ZSTD, 1, 5, 0};
    unsigned cd_r9[] = {1, 0, 8, 2048, 5, 1, 5};
    roundtrip(f, &r9, H5T_IEEE_F64LE, cd_r9, 7);
    hid_t big = H5Tcreate(H5T_OPAQUE, 300); /* typesize above 255 */
    H5Tset_tag(big, "blob");
    wcase bg = {"big", 2, {20, 9}, {8, 4}, TERSA_CODEC_BLOSCLZ, 1, 5, 0};
    roundtrip(f, &bg, big, NULL, 0);
    H5Tclose(big);
    wcase sin4 = {"sin4d", 4, {6, 10, 20, 30}, {3, 5, 10, 30}, TERSA_CODEC_ZSTD, 1, 5, 8192};
    roundtrip(f, &sin4, H5T_IEEE_F64LE, NULL, 0);
    H5Fclose(f);
}

/* The official block shapes (BASELINES 4): explicit 8192 on (3,5,10,30) f8 -> (3,5,8,8); 4 MiB
 * (4,512,512) f4 chunks -> (4,128,128) for lz4 and blosclz 5, (4,64,128) for zstd 1. */
static void check_block_rule(void)
{
    int64_t bs[4], d4[4] = {3, 5, 10, 30}, d3[3] = {4, 512, 512};
    CHECK_EQ(tersa__h5_block_shape(8192, 8, 4, d4, bs), 3 * 5 * 8 * 8 * 8);
    CHECK(bs[0] == 3 && bs[1] == 5 && bs[2] == 8 && bs[3] == 8);
    int codecs[3] = {TERSA_CODEC_LZ4, TERSA_CODEC_BLOSCLZ, TERSA_CODEC_ZSTD};
    int levels[3] = {5, 5, 1};
    int64_t want1[3] = {128, 128, 64};
    for (int k = 0; k < 3; k++) {
        int64_t b = tersa__h5_auto_blocksize(4 << 20, 4, levels[k], codecs[k]);
        tersa__h5_block_shape(b, 4, 3, d3, bs);
        CHECK(bs[0] == 4 && bs[1] == want1[k] && bs[2] == 128);
    }
}

/* Our frame's header metalayers and geometry equal the official filter's (fixture chunk 0). */
static void check_same_frame_header(void)
{
    hid_t f = new_file("official_like.h5");
    wcase a = {"arange", 2, {512, 384}, {128, 128}, TERSA_CODEC_LZ4, 2, 5, 0};
    tersa_h5dset *d = create(f, &a, H5T_STD_I32LE, NULL);
    int32_t *v = malloc(512 * 384 * 4);
    for (int i = 0; i < 512 * 384; i++) v[i] = i;
    CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, v, 512 * 384 * 4));
    static uint8_t ours[1 << 17], theirs[1 << 17];
    hsize_t off[2] = {0, 0};
    uint32_t mask = 1;
    CHECK(H5Dread_chunk(tersa_h5_dataset_id(d), H5P_DEFAULT, off, &mask, ours) >= 0);
    CHECK_EQ(mask, 0);
    hid_t g = H5Fopen(TERSA_FIXTURES "/official-h5/arange_i32_2d.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t gd = H5Dopen2(g, "/arange", H5P_DEFAULT);
    CHECK(H5Dread_chunk(gd, H5P_DEFAULT, off, &mask, theirs) >= 0);
    uint32_t hl = tersa__ld32be(ours + 0x0b);
    CHECK_EQ(hl, tersa__ld32be(theirs + 0x0b));
    CHECK_MEM(ours + 0x57, theirs + 0x57, hl - 0x57); /* metalayer section, b2nd bytes */
    CHECK_MEM(ours + 0x2f, theirs + 0x2f, 0x3e - 0x2f); /* typesize, blocksize, chunksize */
    CHECK_MEM(ours + 0x41, theirs + 0x41, 0x57 - 0x41); /* filters and codec (not threads) */
    uint64_t len = tersa__ld64be(ours + 0x10);
    ours[0x40] = theirs[0x40]; /* compression threads: C-Blosc2's b2nd writes 0, we write 1 */
    printf("arange chunk 0: frame of %llu bytes, %s the official filter's\n",
           (unsigned long long)len,
           len == tersa__ld64be(theirs + 0x10) && memcmp(ours, theirs, len) == 0
               ? "byte-identical to" : "differs from");
    H5Dclose(gd);
    H5Fclose(g);
    free(v);
    tersa_h5_close(d);
    H5Fclose(f);
}

/* Random hyperslab writes (steps, partial chunks, edge chunks) against a model. */
static void check_slab_writes(hid_t f, const char *name, hid_t dcpl_fill, int32_t fill)
{
    wcase c = {name, 2, {100, 70}, {16, 32}, TERSA_CODEC_LZ4, 1, 5, 0};
    tersa_h5dset *d = NULL;
    if (dcpl_fill < 0) {
        d = create(f, &c, H5T_STD_I32LE, NULL);
    } else {
        hsize_t dims[2] = {100, 70};
        hid_t sp = H5Screate_simple(2, dims, NULL);
        hid_t ds = H5Dcreate2(f, name, H5T_STD_I32LE, sp, H5P_DEFAULT, dcpl_fill, H5P_DEFAULT);
        d = tersa_h5_open(ds);
        H5Dclose(ds);
        H5Sclose(sp);
    }
    if (!d) return;
    static int32_t model[100 * 70], got[100 * 70], part[100 * 70];
    for (int i = 0; i < 100 * 70; i++) model[i] = fill;
    uint64_t rng = 7;
    int64_t start[2], count[2], step[2];
    for (int k = 0; k < 40; k++) {
        th_h5_rand_slab(&rng, 2, c.shape, k % 2 ? 3 : 1, start, count, step);
        for (int64_t i = 0; i < count[0] * count[1]; i++) part[i] = (int32_t)(k * 100000 + i);
        size_t n = (size_t)(count[0] * count[1]) * 4;
        CHECK_OK(tersa_h5_write(d, start, count, step, part, n));
        th_h5_ref_scatter((uint8_t *)model, 2, c.shape, 4, start, count, step, (uint8_t *)part);
        if (k % 8 == 7) {
            CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, got, sizeof got), (int64_t)sizeof got);
            CHECK_MEM(got, model, sizeof model);
        }
    }
    CHECK(H5Dread(tersa_h5_dataset_id(d), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
    CHECK_MEM(got, model, sizeof model);
    tersa_h5_close(d);
}

static void check_appends(hid_t f)
{
    wcase c = {"log", 2, {0, 10}, {7, 10}, TERSA_CODEC_ZSTD, 1, 5, 0};
    int64_t maxshape[2] = {-1, 10};
    tersa_h5dset *d = create(f, &c, H5T_STD_I16LE, maxshape);
    if (!d) return;
    static int16_t model[1000 * 10], got[1000 * 10];
    int64_t rows = 0, adds[6] = {5, 13, 1, 7, 30, 2};
    for (int k = 0; k < 6; k++) {
        for (int64_t i = rows * 10; i < (rows + adds[k]) * 10; i++) model[i] = (int16_t)(i * 7);
        CHECK_EQ(tersa_h5_append(d, model + rows * 10, (size_t)adds[k] * 20), rows + adds[k]);
        rows += adds[k];
    }
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, got, sizeof got), rows * 20);
    CHECK_MEM(got, model, (size_t)rows * 20);
    CHECK_ERR(tersa_h5_append(d, model, 7), TERSA_ERR_PARAM);
    tersa_h5_close(d);
}

/* Stored chunk bytes do not depend on the thread count. */
static void check_threads(hid_t f)
{
    wcase c1 = {"t1", 3, {6, 300, 200}, {2, 150, 100}, TERSA_CODEC_ZSTD, 2, 3, 0};
    wcase c2 = c1;
    c2.name = "t2";
    size_t n = 6 * 300 * 200 * 4;
    uint8_t *src = malloc(n), *a = malloc(n + 64), *b = malloc(n + 64);
    th_h5_fill(src, n / 4, 4, 9);
    tersa_h5dset *d1 = create(f, &c1, H5T_IEEE_F32LE, NULL), *d2 = create(f, &c2, H5T_IEEE_F32LE, NULL);
    CHECK_OK(tersa_h5_set_nthreads(d2, 2));
    CHECK_OK(tersa_h5_write(d1, NULL, NULL, NULL, src, n));
    CHECK_OK(tersa_h5_write(d2, NULL, NULL, NULL, src, n));
    for (hsize_t i = 0; i < 3; i++)
        for (hsize_t j = 0; j < 2; j++) {
            hsize_t off[3] = {2 * i, 150 * j, 100};
            hsize_t s1 = 0, s2 = 0;
            uint32_t m1 = 9, m2 = 9;
            H5Dget_chunk_storage_size(tersa_h5_dataset_id(d1), off, &s1);
            H5Dget_chunk_storage_size(tersa_h5_dataset_id(d2), off, &s2);
            CHECK_EQ(s1, s2);
            H5Dread_chunk(tersa_h5_dataset_id(d1), H5P_DEFAULT, off, &m1, a);
            H5Dread_chunk(tersa_h5_dataset_id(d2), H5P_DEFAULT, off, &m2, b);
            CHECK_MEM(a, b, s1);
        }
    tersa_h5_close(d1);
    tersa_h5_close(d2);
    free(src);
    free(a);
    free(b);
}

static void check_userblock(void)
{
    char path[1024];
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_userblock(fcpl, 1024);
    hid_t f = H5Fcreate(th_h5_tmp(path, sizeof path, "userblock.h5"), H5F_ACC_TRUNC, fcpl,
                        H5P_DEFAULT);
    H5Pclose(fcpl);
    wcase c = {"u", 1, {300000}, {100000}, TERSA_CODEC_LZ4, 1, 5, 0};
    tersa_h5dset *d = create(f, &c, H5T_STD_U32LE, NULL);
    static uint32_t v[300000], got[300000];
    th_h5_fill((uint8_t *)v, 300000, 4, 3);
    CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, v, sizeof v));
    tersa_h5_close(d);
    H5Fclose(f);
    d = tersa_h5_open_path(path, "/u", TERSA_H5_READONLY);
    TH_H5_INIT(tersa_h5_info, in);
    tersa_h5_get_info(d, &in);
    CHECK_EQ(in.pread, 1);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, got, sizeof got), (int64_t)sizeof got);
    CHECK_MEM(got, v, sizeof v);
    tersa_h5_close(d);
}

/* A gzip dataset goes through H5Dread/H5Dwrite. */
static void check_pipeline_dataset(hid_t f)
{
    hsize_t dims[2] = {40, 50}, chunk[2] = {10, 10};
    hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_deflate(dcpl, 1);
    hid_t ds = H5Dcreate2(f, "gz", H5T_STD_I64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    tersa_h5dset *d = tersa_h5_open(ds);
    TH_H5_INIT(tersa_h5_info, in);
    tersa_h5_get_info(d, &in);
    CHECK_EQ(in.path, TERSA_H5_PATH_PIPELINE);
    CHECK_EQ(in.blosc2, 0);
    static int64_t v[2000], got[2000], part[6];
    for (int i = 0; i < 2000; i++) v[i] = i * 11;
    CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, v, sizeof v));
    int64_t start[2] = {3, 4}, count[2] = {2, 3}, step[2] = {5, 7};
    CHECK_EQ(tersa_h5_read(d, start, count, step, part, sizeof part), (int64_t)sizeof part);
    th_h5_ref_slab((uint8_t *)v, 2, (int64_t[]){40, 50}, 8, start, count, step, (uint8_t *)got);
    CHECK_MEM(part, got, sizeof part);
    tersa_h5_close(d);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Pclose(dcpl);
}

static void check_fill_value(hid_t f)
{
    tersa_h5_params p;
    tersa_h5_params_init(&p);
    int64_t chunk[2] = {16, 32};
    unsigned cd[TERSA_H5_MAX_CD];
    size_t ncd;
    hsize_t hchunk[2] = {16, 32};
    p.rank = 2;
    p.chunkshape = chunk;
    p.type = H5T_STD_I32LE;
    p.codec = TERSA_CODEC_LZ4;
    CHECK_OK(tersa_h5_cd_values(&p, cd, &ncd));
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int32_t fill = -5;
    H5Pset_chunk(dcpl, 2, hchunk);
    H5Pset_filter(dcpl, TERSA_H5_FILTER_ID, H5Z_FLAG_OPTIONAL, ncd, cd);
    H5Pset_fill_value(dcpl, H5T_NATIVE_INT32, &fill);
    check_slab_writes(f, "filled", dcpl, fill);
    H5Pclose(dcpl);
}

int main(void)
{
    CHECK_OK(tersa_h5_register_filter()); /* the pipeline reads here use tersa's filter */
    check_block_rule();
    check_types();
    check_same_frame_header();
    hid_t f = new_file("writes.h5");
    check_slab_writes(f, "slabs", -1, 0);
    check_fill_value(f);
    check_appends(f);
    check_threads(f);
    check_pipeline_dataset(f);
    H5Fclose(f);
    check_userblock();
    return th_report("h5_write");
}

/* `tersa convert` and `tersa cat` driven as real processes: .npy -> b2nd -> .npy digests with
 * codec, clevel, filter, chunk and block options; slices read with --raw and --npy checked
 * against slices computed here; NumPy-style text output; frames to and from arrays; a
 * conversion larger than one streamed piece; the progress bar only when asked (stderr is no
 * terminal here); refusals of files that are not arrays. */
#include "tersa/tersa.h"
#include "th_cli.h"

static char npy[96], nd[96], out[96], frame[96];

static int64_t nitems_of(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

/* The data bytes of a .npy file (malloc'd; *n receives their count). */
static unsigned char *npy_data(const char *path, size_t *n)
{
    size_t len = 0;
    unsigned char *b = th_read_file(path, &len);
    size_t off = b ? th_npy_data_offset(b, len) : 0;
    if (!b || off == 0 || off > len) {
        free(b);
        *n = 0;
        return NULL;
    }
    memmove(b, b + off, len - off);
    *n = len - off;
    return b;
}

static int file_equals(const char *path, const void *data, size_t n);

/* The file holds exactly the text s. */
static int file_is(const char *path, const char *s)
{
    return file_equals(path, s, strlen(s));
}

static int file_equals(const char *path, const void *data, size_t n)
{
    size_t len = 0;
    unsigned char *b = th_read_file(path, &len);
    int same = b && len == n && memcmp(b, data, n) == 0;
    if (b && !same)
        fprintf(stderr, "  %s: %zu bytes, want %zu\n", path, len, n);
    free(b);
    return same;
}

static int same_files(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    unsigned char *x = th_read_file(a, &la), *y = th_read_file(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

/* int16 array of shape (5, 33, 17): a pattern with some runs. */
static int16_t *make_i16(const int64_t *shape)
{
    int64_t n = nitems_of(3, shape);
    int16_t *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; v && i < n; i++)
        v[i] = (int16_t)((i / 7) * 37 % 30000 - 15000);
    return v;
}

/* The slice [1:4, ::3, -5:] of the (5, 33, 17) array, computed here. */
static size_t slice_ref(const int16_t *v, int16_t *dst)
{
    size_t k = 0;
    for (int a = 1; a < 4; a++)
        for (int b = 0; b < 33; b += 3)
            for (int c = 12; c < 17; c++)
                dst[k++] = v[(a * 33 + b) * 17 + c];
    return k;
}

static void check_npy_b2nd_npy(void)
{
    const int64_t shape[3] = {5, 33, 17};
    int16_t *v = make_i16(shape), ref[5 * 33 * 17];
    size_t nb = sizeof(int16_t) * 5 * 33 * 17, n = 0;
    CHECK_EQ(th_write_npy(npy, "<i2", 3, shape, v, nb), 0);
    EXPECT_RUN(0, "convert", npy, nd, "--codec", "zstd", "--clevel", "5", "--filter", "bitshuffle",
               "--chunks", "2,16,8", "--blocks", "1,8,8");
    CHECK_EQ(th_file_size(th_cli_err), 0); /* quiet, no progress bar off a terminal */
    /* The library's one-pass .npy import and the CLI's chunk-row writer (used for the progress
     * bar) write the same bytes. */
    EXPECT_RUN(0, "convert", npy, out, "--to", "b2nd", "--codec", "zstd", "--clevel", "5",
               "--filter", "bitshuffle", "--chunks", "2,16,8", "--blocks", "1,8,8", "--progress");
    CHECK(th_file_has(th_cli_err, "100%"));
    CHECK(same_files(nd, out));
    remove(out);
    EXPECT_RUN(0, "info", nd, "--json");
    static const char *keys[] = {"\"shape\": [5, 33, 17]",        "\"chunkshape\": [2, 16, 8]",
                                 "\"blockshape\": [1, 8, 8]",     "\"dtype\": \"<i2\"",
                                 "\"codec\": \"zstd\"",           "\"clevel\": 5",
                                 "\"filters\": [\"bitshuffle\"]", "\"nchunks\": 27"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK(th_file_has(th_cli_out, keys[i]));
    EXPECT_RUN(0, "convert", nd, out, "--to", "npy");
    unsigned char *back = npy_data(out, &n);
    CHECK(back && n == nb && memcmp(back, v, nb) == 0);
    CHECK(th_file_has(out, "'shape': (5, 33, 17)"));
    free(back);
    EXPECT_RUN(1, "convert", nd, out, "--to", "npy"); /* exists */
    EXPECT_RUN(0, "cat", nd, "--raw", "-o", out, "-f");
    CHECK(file_equals(out, v, nb));
    size_t k = slice_ref(v, ref);
    EXPECT_RUN(0, "cat", nd, "--raw", "--slice", "1:4,::3,-5:", "-o", out, "-f");
    CHECK(file_equals(out, ref, k * sizeof ref[0]));
    EXPECT_RUN(0, "cat", npy, "--raw", "--slice", "1:4,::3,-5:", "-o", out, "-f"); /* .npy */
    CHECK(file_equals(out, ref, k * sizeof ref[0]));
    remove(out);
    EXPECT_RUN(0, "cat", nd, "--slice", "...,2", "-o", out); /* an index drops the axis */
    remove(out);
    char o2[120];
    snprintf(o2, sizeof o2, "%s.npy", out);
    EXPECT_RUN(0, "cat", nd, "--slice", "3", "-o", o2);
    CHECK(th_file_has(o2, "'shape': (33, 17)"));
    back = npy_data(o2, &n);
    CHECK(back && n == 33 * 17 * 2 && memcmp(back, v + 3 * 33 * 17, n) == 0);
    free(back);
    remove(o2);
    free(v);
}

/* Text output as NumPy prints it. */
static void check_text(void)
{
    int32_t a[2000];
    double f[3] = {0.5, 1.25, -2.0};
    const int64_t s34[2] = {3, 4}, s3[1] = {3}, s2000[1] = {2000};
    for (int i = 0; i < 2000; i++)
        a[i] = i;
    CHECK_EQ(th_write_npy(npy, "<i4", 2, s34, a, 48), 0);
    EXPECT_RUN(0, "cat", npy);
    CHECK(file_is(th_cli_out, "[[ 0  1  2  3]\n [ 4  5  6  7]\n [ 8  9 10 11]]\n"));
    EXPECT_RUN(0, "cat", npy, "--slice", "1,1:");
    CHECK(file_is(th_cli_out, "[5 6 7]\n"));
    EXPECT_RUN(0, "cat", npy, "--slice", "-1,-1");
    CHECK(file_is(th_cli_out, "11\n"));
    CHECK_EQ(th_write_npy(npy, "<f8", 1, s3, f, sizeof f), 0);
    EXPECT_RUN(0, "cat", npy);
    CHECK(file_is(th_cli_out, "[ 0.5   1.25 -2.  ]\n"));
    CHECK_EQ(th_write_npy(npy, "<i4", 1, s2000, a, sizeof a), 0);
    EXPECT_RUN(0, "convert", npy, nd, "-f", "--chunks", "300");
    EXPECT_RUN(0, "cat", nd);
    CHECK(file_is(th_cli_out, "[   0    1    2 ... 1997 1998 1999]\n"));
    EXPECT_RUN(0, "cat", nd, "--full", "--slice", "0:40");
    CHECK(th_file_has(th_cli_out, "[ 0  1  2  3  4  5"));
    CHECK_EQ(th_file_lines(th_cli_out), 2); /* wrapped at 75 columns */
}

/* Arrays to frames and back: a frame is a 1-D array of its typesize. */
static void check_frames(void)
{
    const int64_t shape[3] = {5, 33, 17};
    int16_t *v = make_i16(shape);
    size_t nb = sizeof(int16_t) * 5 * 33 * 17, n = 0;
    CHECK_EQ(th_write_npy(npy, "<i2", 3, shape, v, nb), 0);
    EXPECT_RUN(0, "convert", npy, frame, "-f", "--codec", "lz4", "--chunksize", "1000");
    EXPECT_RUN(0, "info", frame, "--json");
    CHECK(th_file_has(th_cli_out, "\"typesize\": 2"));
    CHECK(th_file_has(th_cli_out, "\"nchunks\": 6"));
    EXPECT_RUN(0, "decompress", frame, "-o", out, "-f");
    CHECK(file_equals(out, v, nb));
    EXPECT_RUN(0, "convert", frame, out, "--to", "npy", "-f", "--dtype", "<i2");
    CHECK(th_file_has(out, "'descr': '<i2'"));
    CHECK(th_file_has(out, "'shape': (2805,)"));
    unsigned char *back = npy_data(out, &n);
    CHECK(back && n == nb && memcmp(back, v, nb) == 0);
    free(back);
    EXPECT_RUN(0, "convert", frame, nd, "-f", "--chunks", "1000", "--dtype", "<i2");
    EXPECT_RUN(0, "cat", nd, "--raw", "-o", out, "-f");
    CHECK(file_equals(out, v, nb));
    EXPECT_RUN(0, "cat", frame, "--dtype", "<i2", "--slice", "0:3");
    CHECK(file_is(th_cli_out, "[-15000 -15000 -15000]\n"));
    /* To stdout. */
    EXPECT_RUN(0, "convert", nd, "-", "--to", "npy");
    CHECK(th_file_has(th_cli_out, "'shape': (2805,)"));
    CHECK_EQ(th_file_size(th_cli_out), 128 + (long)nb);
    free(v);
}

/* More than one streamed piece (16 MiB) and many chunk rows; the progress bar. */
static void check_large(void)
{
    const int64_t shape[2] = {2500, 2000};
    size_t n = 2500 * 2000, got = 0;
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        v[i] = (float)((i % 2000) * 0.5 + (i / 2000) % 13);
    CHECK_EQ(th_write_npy(npy, "<f4", 2, shape, v, v ? n * sizeof *v : 0), 0);
    EXPECT_RUN(0, "convert", npy, nd, "-f", "--progress", "--codec", "lz4");
    CHECK(th_file_has(th_cli_err, "MB/s"));
    CHECK(th_file_has(th_cli_err, "100%"));
    EXPECT_RUN(0, "convert", nd, out, "--to", "npy", "-f", "--no-progress");
    CHECK_EQ(th_file_size(th_cli_err), 0);
    unsigned char *back = npy_data(out, &got);
    CHECK(back && v && got == n * sizeof *v && memcmp(back, v, got) == 0);
    free(back);
    EXPECT_RUN(0, "verify", nd);
    EXPECT_RUN(0, "cat", nd, "--raw", "--slice", "2499,1999", "-o", out, "-f");
    CHECK(v && file_equals(out, &v[n - 1], sizeof *v));
    free(v);
}

static void check_refusals(void)
{
    const int64_t s[1] = {4};
    CHECK_EQ(th_write_bytes(out, "plain bytes, not an array", 25), 0);
    EXPECT_RUN(1, "convert", out, nd, "-f");
    CHECK(th_file_has(th_cli_err, "tersa compress"));
    CHECK_EQ(th_write_npy(npy, "<f8", 1, s, "0123456789abcdef", 16), 0); /* 2 of 4 items */
    EXPECT_RUN(1, "convert", npy, nd, "-f");
    CHECK(th_file_has(th_cli_err, "truncated"));
    CHECK_EQ(th_write_npy(npy, "<f8", 1, s, "0123456789abcdef0123456789abcdef", 32), 0);
    size_t len = 0;
    unsigned char *b = th_read_file(npy, &len); /* False -> "True " (same length) */
    unsigned char *f = NULL;
    for (size_t i = 10; b && !f && i + 5 <= len; i++)
        if (!memcmp(b + i, "False", 5))
            f = b + i;
    CHECK(f != NULL);
    if (f)
        memcpy(f, "True ", 5);
    CHECK_EQ(b ? th_write_bytes(npy, b, len) : -1, 0);
    free(b);
    EXPECT_RUN(1, "cat", npy);
    CHECK(th_file_has(th_cli_err, "Fortran"));
    CHECK_EQ(th_write_npy(npy, "<f8", 1, s, "0123456789abcdef0123456789abcdef", 32), 0);
    EXPECT_RUN(2, "convert", npy, nd, "--chunks", "1,2", "-f");
    CHECK(th_file_has(th_cli_err, "1 axes"));
    EXPECT_RUN(1, "cat", TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd:/x");
    CHECK(th_file_has(th_cli_err, "HDF5"));
}

/* HDF5 output and input, when this build has the HDF5 layer; otherwise a clear refusal. */
static void check_hdf5(void)
{
    const int64_t shape[3] = {5, 33, 17};
    int16_t *v = make_i16(shape);
    size_t nb = sizeof(int16_t) * 5 * 33 * 17, n = 0;
    char h5[120], ds[140];
    const char *probe[] = {"info", TERSA_FIXTURES "/official-h5/lin_f64_1d.h5:/lin", NULL};
    int have = th_cli_run(probe) == 0;
    th_cli_name(h5, sizeof h5, "h5");
    snprintf(ds, sizeof ds, "%s:/grp/arr", h5);
    CHECK_EQ(th_write_npy(npy, "<i2", 3, shape, v, nb), 0);
    remove(h5);
    if (!have) {
        EXPECT_RUN(1, "convert", npy, ds);
        CHECK(th_file_has(th_cli_err, "HDF5"));
        CHECK_EQ(th_file_size(h5), -1);
        free(v);
        return;
    }
    EXPECT_RUN(0, "convert", npy, ds, "--codec", "zstd", "--filter", "bitshuffle", "--chunks",
               "2,33,17");
    EXPECT_RUN(0, "info", ds, "--json");
    static const char *keys[] = {"\"kind\": \"hdf5\"",          "\"shape\": [5, 33, 17]",
                                 "\"chunkshape\": [2, 33, 17]", "\"dtype\": \"<i2\"",
                                 "\"codec\": \"zstd\"",         "\"filters\": [\"bitshuffle\"]"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK(th_file_has(th_cli_out, keys[i]));
    EXPECT_RUN(0, "cat", ds, "--raw", "-o", out, "-f");
    CHECK(file_equals(out, v, nb));
    EXPECT_RUN(1, "convert", npy, ds);      /* the dataset exists */
    EXPECT_RUN(0, "convert", nd, h5, "-f"); /* a second dataset, /data, in the same file */
    EXPECT_RUN(0, "verify", ds);
    EXPECT_RUN(1, "verify", h5); /* no dataset named: an error listing them */
    CHECK(th_file_has(th_cli_err, ":/grp/arr"));
    EXPECT_RUN(0, "convert", ds, out, "--to", "npy", "-f");
    unsigned char *back = npy_data(out, &n);
    CHECK(back && n == nb && memcmp(back, v, nb) == 0);
    free(back);
    remove(h5);
    free(v);
}

int main(int argc, char **argv)
{
    if (th_cli_setup(argc, argv, "test_cli_convert"))
        return 1;
    th_cli_name(npy, sizeof npy, "npy");
    th_cli_name(nd, sizeof nd, "b2nd");
    th_cli_name(out, sizeof out, "res");
    th_cli_name(frame, sizeof frame, "b2frame");
    check_npy_b2nd_npy();
    check_text();
    check_frames();
    check_large();
    check_refusals();
    check_hdf5();
    remove(npy);
    remove(nd);
    remove(out);
    remove(frame);
    th_cli_cleanup();
    return th_report("cli_convert");
}

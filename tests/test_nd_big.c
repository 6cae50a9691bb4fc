/* b2nd arrays larger than memory. The test limits its own address space (RLIMIT_AS, ND_LIMIT)
 * and then, in a contiguous file frame, writes a float32 array 8 times that size chunk by
 * chunk (compressible data: runs along the last axis), reads planes along every axis, strided
 * boxes and single items back (values checked against the formula), copies it into other
 * chunk and block shapes (tersa_array_copy, streamed), compares the two slab by slab, inserts
 * and deletes a chunk-aligned slab of rows; a 16 GiB zeros array in a sparse directory gets a
 * few boxes written and is re-chunked and sliced. Under AddressSanitizer (which reserves
 * terabytes of address space) the limit is not set and the arrays are smaller, but the same
 * code runs. */
#include <stdbool.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"
#include "tersa/tersa.h"

#if defined(__SANITIZE_ADDRESS__)
#define ND_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ND_SANITIZED 1
#endif
#endif
#ifndef ND_SANITIZED
#define ND_SANITIZED 0
#endif

#define MIB ((int64_t)1 << 20)
#define ND_LIMIT (128 * MIB)
/* The array: (ROWS, 1024, 512) float32; 1 GiB (8 x ND_LIMIT) normally. */
#define ROWS (ND_SANITIZED ? 128 : 512)
#define CS0 16 /* chunk rows */
#define NJ 1024
#define NK 512

static void remove_path(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

static long vm_kib(const char *field)
{
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0)
            v = strtol(line + n, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* Limit the address space; check that a large allocation now fails. */
static void limit_memory(void)
{
    if (ND_SANITIZED) {
        printf("sanitizer build: RLIMIT_AS not set, arrays of %d rows\n", ROWS);
        return;
    }
    struct rlimit rl;
    CHECK_EQ(getrlimit(RLIMIT_AS, &rl), 0);
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)ND_LIMIT) {
        rl.rlim_cur = (rlim_t)ND_LIMIT;
        CHECK_EQ(setrlimit(RLIMIT_AS, &rl), 0);
    }
    void *p = malloc((size_t)ND_LIMIT);
    CHECK(p == NULL);
    free(p);
    printf("RLIMIT_AS %lld MiB (VmSize now %ld KiB)\n", (long long)(ND_LIMIT / MIB),
           vm_kib("VmSize:"));
}

/* The value at (i, j, k): exact in float32, runs of 64 equal values along k. */
static float val(int64_t i, int64_t j, int64_t k)
{
    return (float)(i * 1024 + j) + 0.25f * (float)(k >> 6);
}

static tersa_nd_params params(int nd, const int64_t *shape, const int32_t *cs, const int32_t *bs,
                              int storage, const char *path)
{
    tersa_nd_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.ndim = nd;
    p.shape = shape;
    p.chunkshape = cs;
    p.blockshape = bs;
    p.itemsize = 4;
    p.dtype = "<f4";
    p.storage = storage;
    p.path = path;
    p.overwrite = 1;
    return p;
}

/* Fill box [lo, hi) with val() in C order. */
static void fill_box(float *buf, const int64_t *lo, const int64_t *hi)
{
    size_t n = 0;
    for (int64_t i = lo[0]; i < hi[0]; i++)
        for (int64_t j = lo[1]; j < hi[1]; j++)
            for (int64_t k = lo[2]; k < hi[2]; k++)
                buf[n++] = val(i, j, k);
}

/* A zeros array in a file, then every chunk written (whole chunks: nothing read back). */
static tersa_array *write_big(const char *path, float *buf)
{
    int64_t shape[3] = {ROWS, NJ, NK};
    int32_t cs[3] = {CS0, 64, 512}, bs[3] = {8, 16, 128}; /* 2 MiB chunks, 64 KiB blocks */
    tersa_nd_params p = params(3, shape, cs, bs, TERSA_STORAGE_FILE, path);
    tersa_array *a = tersa_array_zeros(&p);
    CHECK(a != NULL);
    if (!a) {
        fprintf(stderr, "  zeros: %s\n", tersa_error_detail());
        return NULL;
    }
    tersa_nd_stats st = {.struct_size = sizeof st};
    for (int64_t i = 0; i < ROWS; i += cs[0])
        for (int64_t j = 0; j < NJ; j += cs[1]) {
            int64_t lo[3] = {i, j, 0}, hi[3] = {i + cs[0], j + cs[1], NK};
            fill_box(buf, lo, hi);
            CHECK_EQ(tersa_array_set_slice(a, lo, hi, NULL, buf, (size_t)cs[0] * cs[1] * NK * 4),
                     1);
        }
    CHECK_OK(tersa_array_stats(a, &st));
    CHECK_EQ(st.chunks_read, 0);
    CHECK_EQ(st.chunks_written, (int64_t)ROWS / CS0 * NJ / 64);
    return a;
}

/* Slice [lo, hi) step must equal val() everywhere (shift: rows inserted before row `at`). */
static void check_slice(tersa_array *a, const int64_t *lo, const int64_t *hi, const int64_t *step,
                        float *buf, size_t cap, const char *what)
{
    int64_t shape[3];
    int64_t nb = tersa_array_slice_nbytes(a, lo, hi, step, shape);
    CHECK_EQ(tersa_array_get_slice(a, lo, hi, step, buf, cap), nb);
    int64_t bad = 0, n = 0;
    for (int64_t x = 0; x < shape[0]; x++)
        for (int64_t y = 0; y < shape[1]; y++)
            for (int64_t z = 0; z < shape[2]; z++, n++) {
                int64_t i = lo[0] + x * (step ? step[0] : 1);
                int64_t j = lo[1] + y * (step ? step[1] : 1);
                int64_t k = lo[2] + z * (step ? step[2] : 1);
                bad += buf[n] != val(i, j, k);
            }
    th_checks++;
    if (bad)
        TH_FAIL_AT("%s: %lld of %lld values wrong", what, (long long)bad, (long long)n);
}

static void check_reads(tersa_array *a, float *buf, size_t cap)
{
    check_slice(a, (int64_t[]){ROWS / 2 + 3, 0, 0}, (int64_t[]){ROWS / 2 + 4, NJ, NK}, NULL, buf,
                cap, "plane axis 0");
    check_slice(a, (int64_t[]){0, 517, 0}, (int64_t[]){ROWS, 518, NK}, NULL, buf, cap,
                "plane axis 1");
    check_slice(a, (int64_t[]){0, 0, 301}, (int64_t[]){ROWS, NJ, 302}, NULL, buf, cap,
                "plane axis 2");
    check_slice(a, (int64_t[]){5, 60, 30}, (int64_t[]){ROWS - 1, NJ - 3, NK},
                (int64_t[]){37, 41, 29}, buf, cap, "strided box");
    check_slice(a, (int64_t[]){ROWS - 1, NJ - 1, NK - 1}, (int64_t[]){ROWS, NJ, NK}, NULL, buf, cap,
                "last item");
    check_slice(a, (int64_t[]){30, 62, 100}, (int64_t[]){35, 67, 400}, NULL, buf, cap,
                "box across chunks");
}

/* Two arrays of the same shape hold the same items (compared in slabs of 4 rows). */
static void check_same(tersa_array *a, tersa_array *b, float *buf, float *buf2, size_t cap)
{
    int64_t differ = 0;
    for (int64_t i = 0; i < ROWS; i += 4) {
        int64_t lo[3] = {i, 0, 0}, hi[3] = {i + 4, NJ, NK};
        CHECK_EQ(tersa_array_get_slice(a, lo, hi, NULL, buf, cap), 4 * NJ * NK * 4);
        CHECK_EQ(tersa_array_get_slice(b, lo, hi, NULL, buf2, cap), 4 * NJ * NK * 4);
        differ += memcmp(buf, buf2, 4 * NJ * NK * 4) != 0;
    }
    CHECK_EQ(differ, 0);
}

static void test_file_array(float *buf, float *buf2, size_t cap)
{
    char path[128], path2[128];
    snprintf(path, sizeof path, "test_nd_big_%d.b2nd", (int)getpid());
    snprintf(path2, sizeof path2, "test_nd_big_%d_copy.b2nd", (int)getpid());
    tersa_array_free(write_big(path, buf));
    tersa_array *a = tersa_array_open_file(path, 0, TERSA_OPEN_WRITE);
    CHECK(a != NULL);
    if (!a)
        return;
    printf("array (%d, %d, %d) float32: %lld MiB, frame %lld MiB\n", ROWS, NJ, NK,
           (long long)(tersa_array_nitems(a) * 4 / MIB),
           (long long)(tersa_schunk_frame_len(tersa_array_schunk(a)) / MIB));
    check_reads(a, buf, cap);
    /* a streamed copy into other shapes */
    int64_t shape[3] = {ROWS, NJ, NK};
    tersa_nd_params p = params(3, shape, (int32_t[]){64, 128, 128}, (int32_t[]){16, 32, 64},
                               TERSA_STORAGE_FILE, path2);
    tersa_array *c = tersa_array_copy(a, &p);
    CHECK(c != NULL);
    if (c) {
        check_reads(c, buf, cap);
        check_same(a, c, buf, buf2, cap);
    }
    tersa_array_free(c);
    remove_path(path2);
    /* a chunk-aligned insert of CS0 rows before row 64, and its delete */
    tersa_nd_stats st = {.struct_size = sizeof st};
    memset(buf, 0x41, (size_t)CS0 * NJ * NK * 4);
    tersa_array_reset_stats(a);
    CHECK_OK(tersa_array_insert(a, buf, (size_t)CS0 * NJ * NK * 4, 0, 64));
    CHECK_OK(tersa_array_stats(a, &st));
    CHECK_EQ(st.chunks_read, 0);
    CHECK_EQ(st.chunks_written, NJ / 64);
    int64_t lo[3] = {63, 5, 0}, hi[3] = {65 + CS0, 6, NK};
    CHECK_EQ(tersa_array_get_slice(a, lo, hi, NULL, buf, cap), (CS0 + 2) * NK * 4);
    CHECK(buf[0] == val(63, 5, 0) && buf[NK] != val(64, 5, 0));
    CHECK(buf[(CS0 + 1) * NK + 7] == val(64, 5, 7));
    CHECK_OK(tersa_array_delete(a, 0, 64, CS0));
    check_slice(a, (int64_t[]){60, 0, 0}, (int64_t[]){70, NJ, 3}, NULL, buf, cap, "after delete");
    check_slice(a, (int64_t[]){0, 0, 0}, (int64_t[]){ROWS, NJ, NK}, (int64_t[]){7, 13, 101}, buf,
                cap, "strided after delete");
    tersa_array_free(a);
    remove_path(path);
}

/* 16 GiB of zeros in a sparse directory: a few boxes written, re-chunked, sliced. */
static void test_sparse_zeros(float *buf, size_t cap)
{
    char path[128], path2[128];
    snprintf(path, sizeof path, "test_nd_big_%d_sparse.b2nd", (int)getpid());
    snprintf(path2, sizeof path2, "test_nd_big_%d_sparse2.b2nd", (int)getpid());
    int64_t n = ND_SANITIZED ? 16384 : 65536, shape[2] = {n, n};
    tersa_nd_params p = params(2, shape, (int32_t[]){1024, 1024}, (int32_t[]){128, 1024},
                               TERSA_STORAGE_SPARSE, path);
    tersa_array *a = tersa_array_zeros(&p);
    CHECK(a != NULL);
    if (!a)
        return;
    int64_t boxes[3][2][2] = {{{0, 0}, {3, 5}},
                              {{n / 2 - 7, n / 3}, {n / 2 + 9, n / 3 + 2000}},
                              {{n - 1, n - 4}, {n, n}}};
    for (int b = 0; b < 3; b++) {
        int64_t cnt = (boxes[b][1][0] - boxes[b][0][0]) * (boxes[b][1][1] - boxes[b][0][1]);
        for (int64_t k = 0; k < cnt; k++)
            buf[k] = (float)(b * 100000 + k + 1);
        CHECK_OK(tersa_array_set_slice(a, boxes[b][0], boxes[b][1], NULL, buf, (size_t)cnt * 4));
    }
    tersa_nd_params q = params(2, shape, (int32_t[]){2048, 512}, (int32_t[]){256, 512},
                               TERSA_STORAGE_SPARSE, path2);
    tersa_array *c = tersa_array_copy(a, &q);
    CHECK(c != NULL);
    for (int w = 0; c && w < 2; w++) {
        tersa_array *x = w ? c : a;
        /* the middle box with a border of zeros */
        int64_t lo[2] = {n / 2 - 8, n / 3 - 1}, hi[2] = {n / 2 + 10, n / 3 + 2001};
        CHECK_EQ(tersa_array_get_slice(x, lo, hi, NULL, buf, cap), 18 * 2002 * 4);
        int64_t bad = 0, k = 0;
        for (int64_t i = 0; i < 18; i++)
            for (int64_t j = 0; j < 2002; j++) {
                bool in = i >= 1 && i < 17 && j >= 1 && j < 2001;
                float want = in ? (float)(100000 + (i - 1) * 2000 + (j - 1) + 1) : 0.0f;
                bad += buf[k++] != want;
            }
        CHECK_EQ(bad, 0);
        float corner[4];
        CHECK_EQ(tersa_array_get_slice(x, (int64_t[]){n - 1, n - 4}, (int64_t[]){n, n}, NULL,
                                       corner, sizeof corner),
                 16);
        CHECK(corner[0] == 200001.0f && corner[3] == 200004.0f);
        /* a strided read across the whole array: zeros except where it meets box 0 */
        CHECK_EQ(tersa_array_get_slice(x, NULL, NULL, (int64_t[]){n / 64, n / 64}, buf, cap),
                 64 * 64 * 4);
        CHECK(buf[0] == 1.0f && buf[1] == 0.0f && buf[64] == 0.0f);
    }
    tersa_array_free(c);
    tersa_array_free(a);
    remove_path(path);
    remove_path(path2);
}

int main(void)
{
    limit_memory();
    size_t cap = (size_t)CS0 * NJ * NK * 4; /* 32 MiB: one chunk row of the file array */
    float *buf = malloc(cap), *buf2 = malloc((size_t)4 * NJ * NK * 4);
    CHECK(buf != NULL && buf2 != NULL);
    if (buf && buf2) {
        test_file_array(buf, buf2, cap);
        test_sparse_zeros(buf, cap);
    }
    free(buf);
    free(buf2);
    printf("VmPeak %ld KiB\n", vm_kib("VmPeak:"));
    return th_report("nd_big");
}

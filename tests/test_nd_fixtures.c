/* The b2nd arrays written by the official C-Blosc2 open with the manifest's shape, chunkshape,
 * blockshape and dtype; the whole array matches sha256_array_c_order; random slices (with
 * steps) match the reference slicer applied to the whole array; slices decode only the blocks
 * they meet (counted by the array stats and by the schunk's dctx). */
#include <math.h>

#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_ndarray.h"
#include "th_manifest.h"
#include "th_nd.h"
#include "th_sha256.h"

static const char *const fixtures[] = {
    "blosc-frames/example_day_month_temp.b2nd",
    "blosc-frames/example_item_prices.b2nd",
    "official-b2/b2nd_f32_2d_blosclz.b2nd",
};

static void check_info(tersa_array *a, const th_manifest_row *r)
{
    tersa_array_info info;
    char buf[256];
    info.struct_size = sizeof info;
    CHECK_OK(tersa_array_get_info(a, &info));
    th_nd_fmt64(buf, sizeof buf, info.ndim, info.shape);
    CHECK_STR(buf, r->shape);
    th_nd_fmt32(buf, sizeof buf, info.ndim, info.chunkshape);
    CHECK_STR(buf, r->chunkshape);
    th_nd_fmt32(buf, sizeof buf, info.ndim, info.blockshape);
    CHECK_STR(buf, r->blockshape);
    CHECK_STR(info.dtype, r->dtype);
    CHECK_EQ(info.itemsize, r->typesize);
    CHECK_EQ(info.caterva, 0);
    CHECK_EQ(info.nchunks * info.chunk_nbytes, r->nbytes);
    CHECK_EQ(tersa_array_nitems(a) * info.itemsize, tersa_array_slice_nbytes(a, 0, 0, 0, 0));
}

static uint8_t *read_all(tersa_array *a, size_t *n)
{
    int64_t nb = tersa_array_slice_nbytes(a, NULL, NULL, NULL, NULL);
    uint8_t *full = malloc(nb > 0 ? (size_t)nb : 1);
    CHECK_EQ(tersa_array_to_buffer(a, full, (size_t)nb), nb);
    *n = (size_t)nb;
    return full;
}

static void check_digest(const uint8_t *full, size_t n, const th_manifest_row *r)
{
    char hex[65];
    th_sha256_hex(full, n, hex);
    th_checks++;
    if (strcmp(hex, r->sha256_array_c_order) != 0)
        TH_FAIL_AT("%s: array sha256 %s, manifest says %s", r->path, hex, r->sha256_array_c_order);
}

/* Random slices and steps against the reference slicer over the whole array. */
static void check_slices(tersa_array *a, const uint8_t *full, uint64_t seed)
{
    int nd = tersa_array_ndim(a);
    int64_t shape[16], start[16], stop[16], step[16];
    size_t isz = (size_t)tersa_array_itemsize(a);
    tersa_array_shape(a, shape);
    size_t cap = (size_t)tersa_array_nitems(a) * isz;
    uint8_t *got = malloc(cap), *want = malloc(cap);
    for (int k = 0; k < 200; k++) {
        th_nd_rand_slice(&seed, nd, shape, k < 100 ? 1 : 7, start, stop, step);
        size_t n = th_nd_ref_slice(full, nd, shape, isz, start, stop, step, want);
        int64_t rc = tersa_array_get_slice(a, start, stop, step, got, cap);
        CHECK_EQ(rc, (int64_t)n);
        CHECK_MEM(got, want, n);
    }
    free(got);
    free(want);
}

/* Blocks decoded for one slice, from the array stats and from the schunk dctx. */
static int64_t blocks_for(tersa_array *a, const int64_t *start, const int64_t *stop)
{
    tersa_nd_stats st;
    tersa_dstats ds;
    uint8_t buf[4096];
    st.struct_size = sizeof st;
    ds.struct_size = sizeof ds;
    tersa_array_reset_stats(a);
    tersa_dctx_reset_stats(tersa_schunk_dctx(tersa_array_schunk(a)));
    CHECK_OK(tersa_array_get_slice(a, start, stop, NULL, buf, sizeof buf));
    CHECK_OK(tersa_array_stats(a, &st));
    tersa_dctx_stats(tersa_schunk_dctx(tersa_array_schunk(a)), &ds);
    CHECK_EQ(st.blocks_decoded, ds.blocks_decoded);
    return st.blocks_decoded;
}

static void check_block_counts(tersa_array *a, const char *path)
{
    if (strstr(path, "item_prices")) { /* chunk (8,10,50), block (4,5,10) */
        CHECK_EQ(blocks_for(a, (int64_t[]){5, 7, 33}, (int64_t[]){6, 8, 34}), 1);
        CHECK_EQ(blocks_for(a, (int64_t[]){0, 0, 0}, (int64_t[]){4, 5, 10}), 1);
        CHECK_EQ(blocks_for(a, (int64_t[]){0, 0, 0}, (int64_t[]){4, 5, 11}), 2);
        CHECK_EQ(blocks_for(a, (int64_t[]){3, 4, 9}, (int64_t[]){5, 6, 11}), 8);
        CHECK_EQ(blocks_for(a, (int64_t[]){8, 20, 200}, (int64_t[]){9, 21, 250}), 5);
        /* spanning two chunks along the last axis: one block in each */
        CHECK_EQ(blocks_for(a, (int64_t[]){0, 0, 49}, (int64_t[]){1, 1, 51}), 2);
    } else if (strstr(path, "f32_2d")) { /* chunk (40,50), block (15,20): ext (45,60) */
        CHECK_EQ(blocks_for(a, (int64_t[]){99, 119}, (int64_t[]){100, 120}), 1);
        CHECK_EQ(blocks_for(a, (int64_t[]){0, 0}, (int64_t[]){15, 20}), 1);
        CHECK_EQ(blocks_for(a, (int64_t[]){14, 19}, (int64_t[]){16, 21}), 4);
        CHECK_EQ(blocks_for(a, (int64_t[]){30, 0}, (int64_t[]){40, 1}), 1);
    } else {
        CHECK_EQ(blocks_for(a, (int64_t[]){399, 2}, (int64_t[]){400, 3}), 1);
    }
}

static void check_values_f32(const uint8_t *full)
{
    for (int i = 0; i < 100; i += 7)
        for (int j = 0; j < 120; j += 11) {
            float want = (float)(i * 0.5 + j * 0.01), got;
            memcpy(&got, full + 4 * (size_t)(i * 120 + j), 4);
            CHECK(got == want);
        }
}

static void check_fixture(const th_manifest *m, const char *path)
{
    const th_manifest_row *r = th_manifest_find(m, path, NULL);
    char full_path[1024];
    CHECK(r != NULL);
    if (!r)
        return;
    snprintf(full_path, sizeof full_path, "%s/%s", TERSA_FIXTURES, path);
    for (int how = 0; how < 2; how++) {
        tersa_array *a = NULL;
        size_t flen = 0;
        uint8_t *file = how ? th_read_file(full_path, &flen) : NULL;
        a = how ? tersa_array_open_buffer(file, flen, TERSA_OPEN_BORROW)
                : tersa_array_open_file(full_path, 0, TERSA_OPEN_READONLY);
        CHECK(a != NULL);
        if (!a) {
            fprintf(stderr, "  %s: %s\n", path, tersa_error_detail());
            free(file);
            continue;
        }
        check_info(a, r);
        size_t n = 0;
        uint8_t *full = read_all(a, &n);
        check_digest(full, n, r);
        if (strstr(path, "f32_2d"))
            check_values_f32(full);
        check_slices(a, full, 0x9e3779b97f4a7c15ull + (uint64_t)how);
        check_block_counts(a, path);
        free(full);
        tersa_array_free(a);
        free(file);
    }
}

/* Offset of the b2nd metalayer content inside a frame image. */
static size_t meta_offset(const uint8_t *frame, size_t len)
{
    tersa_schunk *s = tersa_schunk_open_buffer(frame, len, TERSA_OPEN_BORROW);
    const uint8_t *c = NULL;
    size_t mlen = 0, off = 0;
    if (s && tersa_schunk_meta_get(s, "b2nd", &c, &mlen) >= 0)
        for (off = 0; off + mlen <= len && memcmp(frame + off, c, mlen) != 0; off++) {
        }
    tersa_schunk_free(s);
    return off;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* A frame whose metalayer disagrees with its chunks is refused; random changes to the
 * metalayer never crash a reader (open, whole reads, slices). */
static void check_bad_meta(void)
{
    size_t len = 0;
    uint8_t *file = th_read_file(TERSA_FIXTURES "/blosc-frames/example_item_prices.b2nd", &len);
    CHECK(file != NULL);
    if (!file)
        return;
    size_t m = meta_offset(file, len); /* (12,25,250) (8,10,50) (4,5,10) */
    uint8_t *f = malloc(len), *out = malloc(1 << 20);
    CHECK(m > 0 && m < len);
    memcpy(f, file, len);
    put_be(f + m + 5, 17, 8); /* 3 x 3 x 5 chunks, the frame holds 30 */
    CHECK(tersa_array_open_buffer(f, len, TERSA_OPEN_BORROW) == NULL);
    CHECK(strstr(tersa_error_detail(), "chunks") != NULL);
    memcpy(f, file, len);
    put_be(f + m + 4 + 27 + 1 + 10 + 1, 60, 4); /* chunkshape[2] 60: other chunk bytes */
    CHECK(tersa_array_open_buffer(f, len, TERSA_OPEN_BORROW) == NULL);
    CHECK(strstr(tersa_error_detail(), "chunksize") != NULL);
    memcpy(f, file, len);
    put_be(f + m + 4 + 27 + 16 + 1 + 10 + 1, 25, 4); /* blockshape[2] 25: same chunk bytes */
    tersa_array *a = tersa_array_open_buffer(f, len, TERSA_OPEN_BORROW);
    CHECK(a != NULL);
    if (a)
        CHECK_EQ(tersa_array_to_buffer(a, out, 1 << 20), 12 * 25 * 250 * 4);
    tersa_array_free(a);
    uint64_t rng = 7;
    for (int k = 0; k < 300; k++) {
        memcpy(f, file, len);
        for (int j = 0; j < 2; j++)
            f[m + th_rand(&rng) % 72] = (uint8_t)th_rand(&rng);
        a = tersa_array_open_buffer(f, len, TERSA_OPEN_BORROW);
        if (!a)
            continue;
        int64_t shape[16], start[16], stop[16], step[16];
        int nd = tersa_array_shape(a, shape);
        int64_t nb = tersa_array_slice_nbytes(a, NULL, NULL, NULL, NULL);
        if (nb >= 0 && nb <= (1 << 20))
            (void)tersa_array_to_buffer(a, out, 1 << 20);
        for (int t = 0; t < 5; t++) {
            th_nd_rand_slice(&rng, nd, shape, 3, start, stop, step);
            (void)tersa_array_get_slice(a, start, stop, step, out, 1 << 20);
        }
        tersa_array_free(a);
    }
    free(f);
    free(out);
    free(file);
}

int main(void)
{
    check_bad_meta();
    th_manifest m;
    if (th_manifest_load(TERSA_FIXTURES "/MANIFEST.tsv", &m) != 0)
        return 1;
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
        check_fixture(&m, fixtures[i]);
    th_manifest_free(&m);
    return th_report("nd_fixtures");
}

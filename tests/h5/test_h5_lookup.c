/* Chunk lookups: a dataset read with addresses and pread while it holds at most 1024 stored
 * chunks switches to H5Dread_chunk when appends through the same handle take it past that
 * (the count of stored chunks is cached per handle and refreshed after the handle's writes and
 * extent changes); reads are right in both modes, before and after, and through a new handle;
 * shrinking the extent counts again. */
#include <stdlib.h>

#include "h5/tersa_h5_internal.h"
#include "th_h5.h"

enum { ROW = 64, FIRST = 1000, MORE = 100 };

static void check_rows(tersa_h5dset *d, const int32_t *model, int64_t rows)
{
    static int32_t got[(FIRST + 2 * MORE) * ROW];
    uint64_t rng = 3;
    for (int r = 0; r < 20; r++) { /* a few items of random rows */
        int64_t start[2] = {(int64_t)(th_rand(&rng) % (uint64_t)rows), 5}, count[2] = {1, 7};
        CHECK_EQ(tersa_h5_read(d, start, count, NULL, got, sizeof got), 28);
        CHECK_MEM(got, model + start[0] * ROW + 5, 28);
    }
    int64_t start[2] = {0, 3}, count[2] = {rows, 1}; /* a column across every chunk */
    CHECK_EQ(tersa_h5_read(d, start, count, NULL, got, sizeof got), rows * 4);
    for (int64_t i = 0; i < rows; i++) CHECK_EQ(got[i], model[i * ROW + 3]);
}

int main(void)
{
    static int32_t model[(FIRST + 2 * MORE) * ROW];
    for (int i = 0; i < (FIRST + 2 * MORE) * ROW; i++) model[i] = i * 7 + (i % 13);
    char path[1024];
    hid_t f = H5Fcreate(th_h5_tmp(path, sizeof path, "lookup.h5"), H5F_ACC_TRUNC, H5P_DEFAULT,
                        H5P_DEFAULT);
    int64_t shape[2] = {0, ROW}, maxshape[2] = {-1, ROW}, chunk[2] = {1, ROW};
    tersa_h5_params p;
    th_h5_params(&p, 2, shape, chunk, H5T_STD_I32LE);
    p.maxshape = maxshape;
    p.codec = TERSA_CODEC_LZ4;
    tersa_h5dset *d = tersa_h5_create(f, "rows", &p);
    CHECK(d != NULL);
    CHECK_OK(tersa_h5_set_nthreads(d, 2));
    CHECK_EQ(tersa_h5_append(d, model, sizeof(int32_t) * FIRST * ROW), FIRST);
    check_rows(d, model, FIRST);
    CHECK(d->addr_mode);
    CHECK_EQ(d->nstored, FIRST);
    CHECK_EQ(tersa_h5_append(d, model + FIRST * ROW, sizeof(int32_t) * MORE * ROW), FIRST + MORE);
    check_rows(d, model, FIRST + MORE);
    CHECK(!d->addr_mode);
    CHECK_EQ(d->nstored, FIRST + MORE);
    CHECK_EQ(tersa_h5_append(d, model + (FIRST + MORE) * ROW, sizeof(int32_t) * MORE * ROW),
             FIRST + 2 * MORE);
    check_rows(d, model, FIRST + 2 * MORE); /* past the limit: not counted again */
    CHECK_EQ(d->nstored, FIRST + MORE);
    int64_t small[2] = {FIRST - 10, ROW};
    CHECK_OK(tersa_h5_set_extent(d, small));
    check_rows(d, model, FIRST - 10);
    CHECK(d->addr_mode);
    CHECK_EQ(d->nstored, FIRST - 10);
    tersa_h5_close(d);
    H5Fclose(f);
    d = tersa_h5_open_path(path, "/rows", TERSA_H5_READONLY);
    CHECK(d != NULL);
    check_rows(d, model, FIRST - 10);
    tersa_h5_close(d);
    return th_report("h5_lookup");
}

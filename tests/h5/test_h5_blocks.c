/* Partial reads decode only the blocks they need and read only part of large stored chunks:
 * b2nd chunks with N-d blocks (element, row, column, strided selections; counts checked against
 * a brute-force count over the block grid), b2nd chunks whose blocks keep C order, and plain
 * rank-1 frames. Values are checked against the source every time. */
#include <stdlib.h>

#include "h5/tersa_h5_internal.h"
#include "th_h5.h"

static hid_t new_file(const char *name)
{
    char path[1024];
    return H5Fcreate(th_h5_tmp(path, sizeof path, name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}

/* Blocks of a (single-chunk) b2nd grid that contain at least one selected index, by brute force. */
static int64_t count_blocks(int rank, const int64_t *dims, const int64_t *bs, const int64_t *start,
                            const int64_t *count, const int64_t *step)
{
    int64_t total = 1, hit = 0, nb[8];
    for (int i = 0; i < rank; i++) total *= nb[i] = (dims[i] + bs[i] - 1) / bs[i];
    for (int64_t b = 0; b < total; b++) {
        int64_t r = b, ok = 1;
        for (int i = rank - 1; i >= 0; i--) {
            int64_t j = r % nb[i], any = 0;
            r /= nb[i];
            for (int64_t k = 0; k < count[i] && !any; k++) {
                int64_t x = start[i] + k * step[i];
                any = x >= j * bs[i] && x < (j + 1) * bs[i];
            }
            ok &= any;
        }
        hit += ok;
    }
    return hit;
}

typedef struct probe {
    int64_t start[2], count[2], step[2];
} probe;

static void run_probes(tersa_h5dset *d, const float *src, const int64_t *shape, const int64_t *bs,
                       const probe *pr, int npr, int64_t stored)
{
    static float got[256 * 1024], want[256 * 1024];
    for (int k = 0; k < npr; k++) {
        tersa_h5_reset_stats(d);
        size_t n = th_h5_ref_slab((const uint8_t *)src, 2, shape, 4, pr[k].start, pr[k].count,
                                  pr[k].step, (uint8_t *)want);
        CHECK_EQ(tersa_h5_read(d, pr[k].start, pr[k].count, pr[k].step, got, sizeof got),
                 (int64_t)n);
        CHECK_MEM(got, want, n);
        TH_H5_INIT(tersa_h5_stats, st);
        tersa_h5_get_stats(d, &st);
        int64_t want_blocks = count_blocks(2, shape, bs, pr[k].start, pr[k].count, pr[k].step);
        CHECK_EQ(st.blocks_decoded, want_blocks);
        printf("  slab start (%lld,%lld) count (%lld,%lld) step (%lld,%lld): %lld of %lld blocks, "
               "%lld of %lld stored bytes read\n",
               (long long)pr[k].start[0], (long long)pr[k].start[1], (long long)pr[k].count[0],
               (long long)pr[k].count[1], (long long)pr[k].step[0], (long long)pr[k].step[1],
               (long long)st.blocks_decoded, (long long)st.blocks_total, (long long)st.bytes_read,
               (long long)stored);
        if (want_blocks * 4 < st.blocks_total) CHECK(st.bytes_read * 2 < stored);
    }
}

static tersa_h5dset *make(hid_t f, const char *name, int rank, const int64_t *shape,
                          const int64_t *chunk, hid_t type, int32_t blocksize, const void *src,
                          size_t n)
{
    tersa_h5_params p;
    tersa_h5_params_init(&p);
    p.rank = rank;
    p.shape = shape;
    p.chunkshape = chunk;
    p.type = type;
    p.codec = TERSA_CODEC_LZ4;
    p.blocksize = blocksize;
    tersa_h5dset *d = tersa_h5_create(f, name, &p);
    CHECK(d != NULL);
    if (d) CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, src, n));
    return d;
}

static int64_t stored_size(tersa_h5dset *d)
{
    hsize_t off[2] = {0, 0}, size = 0;
    H5Dget_chunk_storage_size(tersa_h5_dataset_id(d), off, &size);
    return (int64_t)size;
}

/* One 1 MiB chunk (256, 1024) f4 in blocks of 16 KiB: N-d blocks. */
static void check_nd_blocks(hid_t f)
{
    static float src[256 * 1024];
    uint64_t rng = 5;
    for (int i = 0; i < 256 * 1024; i++) src[i] = (float)(th_rand(&rng) % 100000) / 7.0f;
    int64_t shape[2] = {256, 1024}, bs[2];
    tersa__h5_block_shape(16384, 4, 2, shape, bs);
    printf("b2nd chunk (256, 1024) f4, blocksize 16384: blockshape (%lld, %lld)\n",
           (long long)bs[0], (long long)bs[1]);
    CHECK(bs[1] < 1024); /* N-d blocks: not C order */
    tersa_h5dset *d = make(f, "nd", 2, shape, shape, H5T_IEEE_F32LE, 16384, src, sizeof src);
    if (!d) return;
    probe pr[] = {
        {{100, 500}, {1, 1}, {1, 1}},    /* one element */
        {{100, 0}, {1, 1024}, {1, 1}},   /* one row */
        {{0, 500}, {256, 1}, {1, 1}},    /* one column */
        {{3, 7}, {4, 9}, {64, 100}},     /* a sparse strided grid */
        {{0, 0}, {256, 1024}, {1, 1}},   /* everything */
    };
    run_probes(d, src, shape, bs, pr, 5, stored_size(d));
    tersa_h5_close(d);
}

/* (16384, 8) f4 chunk with 4 KiB blocks: blockshape (128, 8), whole rows, so C order: ranges
 * of rows decode straight into the caller's buffer. */
static void check_corder_blocks(hid_t f)
{
    static float src[16384 * 8];
    uint64_t rng = 11;
    for (int i = 0; i < 16384 * 8; i++) src[i] = (float)(th_rand(&rng) % 100000) / 3.0f;
    int64_t shape[2] = {16384, 8}, bs[2];
    tersa__h5_block_shape(4096, 4, 2, shape, bs);
    printf("b2nd chunk (16384, 8) f4, blocksize 4096: blockshape (%lld, %lld)\n",
           (long long)bs[0], (long long)bs[1]);
    CHECK(bs[0] == 128 && bs[1] == 8);
    tersa_h5dset *d = make(f, "rows", 2, shape, shape, H5T_IEEE_F32LE, 4096, src, sizeof src);
    if (!d) return;
    probe pr[] = {
        {{1000, 0}, {300, 8}, {1, 1}}, /* whole rows: contiguous, decoded in place */
        {{10, 1}, {1, 3}, {1, 1}},
        {{0, 5}, {100, 2}, {160, 2}},
    };
    run_probes(d, src, shape, bs, pr, 3, stored_size(d));
    tersa_h5_close(d);
}

/* Plain rank-1 frame, 1 MiB chunk with 8 KiB blocks. */
static void check_plain_blocks(hid_t f)
{
    static uint32_t src[1 << 18];
    uint64_t rng = 3;
    for (int i = 0; i < (1 << 18); i++) src[i] = (uint32_t)th_rand(&rng);
    int64_t shape = 1 << 18, start = 12345, count = 10, step = 1;
    tersa_h5dset *d = make(f, "plain", 1, &shape, &shape, H5T_STD_U32LE, 8192, src, sizeof src);
    if (!d) return;
    uint32_t got[10];
    CHECK_EQ(tersa_h5_read(d, &start, &count, &step, got, sizeof got), (int64_t)sizeof got);
    CHECK_MEM(got, src + start, sizeof got);
    TH_H5_INIT(tersa_h5_stats, st);
    tersa_h5_get_stats(d, &st);
    CHECK_EQ(st.blocks_decoded, 1);
    CHECK_EQ(st.blocks_total, (1 << 20) / 8192);
    CHECK(st.bytes_read < 4 * 8192 + 4096);
    printf("plain (262144,) u4, 8 KiB blocks: 10 items: %lld of %lld blocks, %lld bytes read\n",
           (long long)st.blocks_decoded, (long long)st.blocks_total, (long long)st.bytes_read);
    tersa_h5_close(d);
}

/* Random hyperslabs of multi-block chunks for each filter (delta needs block 0 too), codec and
 * I/O path (pread of parts, H5Dread_chunk of wholes), compared with the source. */
static void check_filters(void)
{
    char path[1024];
    hid_t f = H5Fcreate(th_h5_tmp(path, sizeof path, "filters.h5"), H5F_ACC_TRUNC, H5P_DEFAULT,
                        H5P_DEFAULT);
    static int32_t src[3 * 200 * 300], got[3 * 200 * 300], want[3 * 200 * 300];
    uint64_t rng = 21;
    for (int i = 0; i < 3 * 200 * 300; i++) src[i] = i / 3 + (int32_t)(th_rand(&rng) % 5000);
    int64_t shape[3] = {3, 200, 300}, chunk[3] = {3, 128, 256};
    int filters[4] = {0, 1, 2, 3}, codecs[4] = {TERSA_CODEC_BLOSCLZ, TERSA_CODEC_LZ4,
                                                  TERSA_CODEC_ZSTD, TERSA_CODEC_LZ4HC};
    for (int k = 0; k < 4; k++) {
        tersa_h5_params p;
        tersa_h5_params_init(&p);
        char name[16];
        snprintf(name, sizeof name, "f%d", k);
        p.rank = 3;
        p.shape = shape;
        p.chunkshape = chunk;
        p.type = H5T_STD_I32LE;
        p.filter = filters[k];
        p.codec = codecs[k];
        p.blocksize = 8192;
        tersa_h5dset *d = tersa_h5_create(f, name, &p);
        CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, src, sizeof src));
        tersa_h5_close(d);
    }
    H5Fclose(f);
    for (int core = 0; core < 2; core++)
        for (int k = 0; k < 4; k++) {
            hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
            if (core) H5Pset_fapl_core(fapl, 1 << 20, 0);
            hid_t g = H5Fopen(path, H5F_ACC_RDONLY, fapl), ds;
            char name[16];
            snprintf(name, sizeof name, "/f%d", k);
            ds = H5Dopen2(g, name, H5P_DEFAULT);
            tersa_h5dset *d = tersa_h5_open(ds);
            tersa_h5_set_nthreads(d, 1 + (k & 1));
            int64_t start[3], count[3], step[3];
            for (int r = 0; r < 40; r++) {
                th_h5_rand_slab(&rng, 3, shape, r % 2 ? 1 : 9, start, count, step);
                size_t n = th_h5_ref_slab((uint8_t *)src, 3, shape, 4, start, count, step,
                                          (uint8_t *)want);
                CHECK_EQ(tersa_h5_read(d, start, count, step, got, sizeof got), (int64_t)n);
                CHECK_MEM(got, want, n);
            }
            TH_H5_INIT(tersa_h5_stats, st);
            tersa_h5_get_stats(d, &st);
            CHECK(st.blocks_decoded < st.blocks_total);
            tersa_h5_close(d);
            H5Dclose(ds);
            H5Fclose(g);
            H5Pclose(fapl);
        }
}

int main(void)
{
    hid_t f = new_file("blocks.h5");
    check_filters();
    check_nd_blocks(f);
    check_corder_blocks(f);
    check_plain_blocks(f);
    H5Fclose(f);
    return th_report("h5_blocks");
}

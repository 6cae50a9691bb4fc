/* Slices of b2nd arrays in contiguous file frames read only the blocks they need from disk
 * (chunks of 64 KiB or more compressed): random slices with steps against the reference
 * slicer, for several codecs and filters (DELTA needs block 0 too), with the bytes read from
 * the file counted (the schunk's io_read) and the blocks decoded equal to the in-memory
 * array's; after set_slice updates and a reopen. */
#include <stdbool.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"
#include "harness.h"
#include "tersa/tersa.h"
#include "th_nd.h"

#define N0 64
#define N1 96
#define N2 80

static void remove_path(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

/* Noise with a slow trend: compresses little, so chunks stay above 64 KiB. */
static void gen(uint8_t *p, size_t n)
{
    uint64_t s = 77;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        float v = (float)(i / 4 % 1000) * 0.01f + (float)(th_rand(&s) % 100000) * 1e-3f;
        memcpy(p + i, &v, 4);
    }
}

static tersa_array *make(int storage, const char *path, const uint8_t *data, int codec, int filter)
{
    static const int64_t shape[3] = {N0, N1, N2};
    static const int32_t cs[3] = {32, 48, 40}, bs[3] = {8, 16, 20};
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_CODEC, codec);
    tersa_cctx_set(c, TERSA_P_FILTER5, filter);
    tersa_nd_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.ndim = 3;
    p.shape = shape;
    p.chunkshape = cs;
    p.blockshape = bs;
    p.itemsize = 4;
    p.dtype = "<f4";
    p.cparams = c;
    p.storage = storage;
    p.path = path;
    p.overwrite = 1;
    tersa_array *a = tersa_array_from_buffer(&p, data, (size_t)N0 * N1 * N2 * 4);
    tersa_cctx_free(c);
    CHECK(a != NULL);
    return a;
}

static int64_t read_counted(tersa_array *a, const int64_t *lo, const int64_t *hi,
                            const int64_t *step, uint8_t *out, size_t cap, int64_t *blocks)
{
    tersa_nd_stats st = {.struct_size = sizeof st};
    tersa_array_reset_stats(a);
    int64_t rc = tersa_array_get_slice(a, lo, hi, step, out, cap);
    tersa_array_stats(a, &st);
    *blocks = st.blocks_decoded;
    return rc;
}

/* Random slices: the file array and the memory array give the reference's bytes, decoding
 * the same number of blocks. */
static void compare(tersa_array *f, tersa_array *m, const uint8_t *data, uint64_t seed,
                    bool skip_counts)
{
    static const int64_t shape[3] = {N0, N1, N2};
    size_t cap = (size_t)N0 * N1 * N2 * 4;
    uint8_t *want = malloc(cap), *got = malloc(cap);
    for (int k = 0; k < 120; k++) {
        int64_t lo[3], hi[3], step[3], bf = 0, bm = 0;
        th_nd_rand_slice(&seed, 3, shape, k % 3 ? 1 : 4, lo, hi, step);
        size_t n = th_nd_ref_slice(data, 3, shape, 4, lo, hi, step, want);
        CHECK_EQ(read_counted(f, lo, hi, step, got, cap, &bf), (int64_t)n);
        CHECK_MEM(got, want, n);
        CHECK_EQ(read_counted(m, lo, hi, step, got, cap, &bm), (int64_t)n);
        CHECK_MEM(got, want, n);
        if (!skip_counts) /* DELTA decodes block 0 again for every run not starting there */
            CHECK_EQ(bf, bm);
    }
    free(want);
    free(got);
}

/* One item reads a block, not the chunk. */
static void check_io(tersa_array *f, bool delta)
{
    tersa_schunk *s = tersa_array_schunk(f);
    float v;
    int64_t blocks = 0;
    s->io_read = 0;
    CHECK_EQ(read_counted(f, (int64_t[]){40, 70, 50}, (int64_t[]){41, 71, 51}, NULL, (uint8_t *)&v,
                          4, &blocks),
             4);
    CHECK_EQ(blocks, delta ? 2 : 1);
    CHECK(s->io_read > 0 && s->io_read < (delta ? 3 : 2) * 8 * 16 * 20 * 4 + 4096);
    /* a plane along axis 1 through one block row: a quarter of each chunk's blocks */
    int64_t plane_blocks = 0;
    uint8_t *buf = malloc((size_t)N0 * N2 * 4);
    s->io_read = 0;
    CHECK_EQ(read_counted(f, (int64_t[]){0, 50, 0}, (int64_t[]){N0, 51, N2}, NULL, buf,
                          (size_t)N0 * N2 * 4, &plane_blocks),
             N0 * N2 * 4);
    /* 4 chunks x 8 blocks (in 4 runs each; under DELTA the 3 runs after the first decode
     * block 0 again) */
    CHECK_EQ(plane_blocks, 2 * 2 * (4 * 2) + (delta ? 4 * 3 : 0));
    int64_t chunk_cb = 0;
    tersa_schunk_info info = {.struct_size = sizeof info};
    CHECK_OK(tersa_schunk_get_info(s, &info));
    chunk_cb = info.cbytes / info.nchunks;
    CHECK(s->io_read < 4 * chunk_cb * 2 / 3);
    free(buf);
}

static void test_codec(int codec, int filter, const uint8_t *data)
{
    char path[128];
    snprintf(path, sizeof path, "test_nd_lazy_%d_%d_%d.b2nd", (int)getpid(), codec, filter);
    tersa_array *f = make(TERSA_STORAGE_FILE, path, data, codec, filter);
    tersa_array *m = make(TERSA_STORAGE_MEMORY, NULL, data, codec, filter);
    if (!f || !m) {
        tersa_array_free(f);
        tersa_array_free(m);
        return;
    }
    tersa_schunk_info info = {.struct_size = sizeof info};
    CHECK_OK(tersa_schunk_get_info(tersa_array_schunk(f), &info));
    CHECK(info.cbytes / info.nchunks >= 64 * 1024); /* the lazy path applies */
    compare(f, m, data, 5 + (uint64_t)codec, filter == TERSA_FILTER_DELTA);
    check_io(f, filter == TERSA_FILTER_DELTA);
    tersa_array_free(f);
    tersa_array_free(m);
    remove_path(path);
}

/* Updates through set_slice, then reads from the reopened file. */
static void test_update(uint8_t *data)
{
    char path[128];
    static const int64_t shape[3] = {N0, N1, N2};
    snprintf(path, sizeof path, "test_nd_lazy_%d_upd.b2nd", (int)getpid());
    tersa_array *f = make(TERSA_STORAGE_FILE, path, data, TERSA_CODEC_LZ4, TERSA_FILTER_SHUFFLE);
    if (!f)
        return;
    uint64_t seed = 3;
    uint8_t *src = malloc((size_t)N0 * N1 * N2 * 4);
    for (int k = 0; k < 6; k++) {
        int64_t lo[3], hi[3], step[3] = {1, 1, 1};
        th_nd_rand_slice(&seed, 3, shape, 1, lo, hi, step);
        int64_t nb = tersa_array_slice_nbytes(f, lo, hi, NULL, NULL);
        for (int64_t i = 0; i < nb; i++)
            src[i] = (uint8_t)(th_rand(&seed));
        CHECK_OK(tersa_array_set_slice(f, lo, hi, NULL, src, (size_t)nb));
        /* the model: write the same bytes into data */
        int64_t n = 0;
        for (int64_t i = lo[0]; i < hi[0]; i++)
            for (int64_t j = lo[1]; j < hi[1]; j++) {
                int64_t cnt = hi[2] - lo[2];
                memcpy(data + ((i * N1 + j) * N2 + lo[2]) * 4, src + n * 4, (size_t)cnt * 4);
                n += cnt;
            }
    }
    free(src);
    tersa_array_free(f);
    f = tersa_array_open_file(path, 0, TERSA_OPEN_READONLY);
    tersa_array *m = make(TERSA_STORAGE_MEMORY, NULL, data, TERSA_CODEC_LZ4, TERSA_FILTER_SHUFFLE);
    CHECK(f != NULL);
    if (f && m)
        compare(f, m, data, 11, false);
    tersa_array_free(f);
    tersa_array_free(m);
    remove_path(path);
}

/* Chunks whose own blocksize is not the b2nd block (as another writer may leave them): the
 * memory array's chunks recompressed with 4 KiB blocks into a file frame with the same
 * metalayer. The lazy reader maps the b2nd blocks onto the chunk's blocks. */
static void test_foreign_blocks(const uint8_t *data)
{
    char path[128];
    snprintf(path, sizeof path, "test_nd_lazy_%d_foreign.b2nd", (int)getpid());
    tersa_array *m = make(TERSA_STORAGE_MEMORY, NULL, data, TERSA_CODEC_LZ4, TERSA_FILTER_SHUFFLE);
    if (!m)
        return;
    tersa_schunk *ms = tersa_array_schunk(m);
    const uint8_t *meta = NULL;
    size_t mlen = 0;
    CHECK_OK(tersa_schunk_meta_get(ms, "b2nd", &meta, &mlen));
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_TYPESIZE, 4);
    tersa_cctx_set(c, TERSA_P_CODEC, TERSA_CODEC_LZ4);
    tersa_cctx_set(c, TERSA_P_BLOCKSIZE, 4096);
    tersa_metalayer ml = {"b2nd", meta, mlen};
    tersa_schunk_params sp = {.struct_size = sizeof sp,
                              .storage = TERSA_STORAGE_FILE,
                              .path = path,
                              .overwrite = 1,
                              .cparams = c,
                              .typesize = 4,
                              .nmetalayers = 1,
                              .metalayers = &ml};
    tersa_schunk *fs = tersa_schunk_create(&sp);
    tersa_cctx_free(c);
    CHECK(fs != NULL);
    int32_t nb = tersa_schunk_chunksize(ms);
    uint8_t *chunk = malloc((size_t)nb);
    for (int64_t i = 0; fs && i < tersa_schunk_nchunks(ms); i++) {
        CHECK_EQ(tersa_schunk_decompress_chunk(ms, i, chunk, (size_t)nb), nb);
        CHECK_EQ(tersa_schunk_append_buffer(fs, chunk, (size_t)nb), i + 1);
    }
    free(chunk);
    tersa_schunk_free(fs);
    tersa_array *f = tersa_array_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK(f != NULL);
    if (f) {
        tersa_schunk *s = tersa_array_schunk(f);
        compare(f, m, data, 17, true); /* block counts differ: the chunks' blocks are smaller */
        float v;
        s->io_read = 0;
        CHECK_EQ(
            tersa_array_get_slice(f, (int64_t[]){40, 70, 50}, (int64_t[]){41, 71, 51}, NULL, &v, 4),
            4);
        CHECK(s->io_read > 0 && s->io_read < 64 * 1024);
    }
    tersa_array_free(f);
    tersa_array_free(m);
    remove_path(path);
}

int main(void)
{
    size_t n = (size_t)N0 * N1 * N2 * 4;
    uint8_t *data = malloc(n);
    gen(data, n);
    test_codec(TERSA_CODEC_BLOSCLZ, TERSA_FILTER_SHUFFLE, data);
    test_codec(TERSA_CODEC_LZ4, TERSA_FILTER_BITSHUFFLE, data);
    test_codec(TERSA_CODEC_ZSTD, TERSA_FILTER_DELTA, data);
    test_codec(TERSA_CODEC_LZ4, 0, data);
    test_update(data);
    test_foreign_blocks(data);
    free(data);
    return th_report("nd_lazy");
}

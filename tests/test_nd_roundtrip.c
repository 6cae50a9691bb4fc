/* b2nd arrays tersa creates: ranks 0..4, item sizes 1..300, every codec but zlib, edge chunks
 * and edge blocks. Each array reads back whole and by random (strided) slices; every chunk is
 * compared with a chunk laid out by an independent, naive implementation of the b2nd layout
 * (blocks in C order, items in C order inside blocks, zero padding) and has the block size
 * prod(blockshape) * itemsize; the frame reopens from its serialised bytes. Also: automatic
 * shapes, zeros/full arrays answered without decoding, block counts, and clear errors. */
#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_ndarray.h"
#include "th_nd.h"

typedef struct geo {
    int nd;
    int64_t shape[4];
    int32_t cs[4], bs[4];
} geo;

static const geo geos[] = {
    {1, {1000}, {300}, {70}},
    {2, {37, 53}, {16, 20}, {5, 7}},
    {3, {9, 10, 11}, {4, 5, 6}, {3, 2, 4}},
    {4, {5, 6, 7, 8}, {3, 4, 5, 6}, {2, 3, 2, 4}},
    {2, {40, 30}, {20, 30}, {20, 30}}, /* blocks = chunks, no padding */
    {2, {3, 1}, {8, 8}, {8, 8}},       /* one chunk larger than the array */
};

static void gen(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed | 1;
    uint8_t v = (uint8_t)seed;
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 0)
            v = (uint8_t)(v + th_rand(&s) % 3);
        p[i] = (uint8_t)(v ^ (i % 5));
    }
}

static tersa_nd_params params_for(const geo *g, int32_t isz, tersa_cctx *c)
{
    tersa_nd_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.ndim = g->nd;
    p.shape = g->shape;
    p.chunkshape = g->cs;
    p.blockshape = g->bs;
    p.itemsize = isz;
    p.cparams = c;
    p.storage = TERSA_STORAGE_MEMORY;
    return p;
}

/* The expected bytes of chunk n, built item by item from the C-order source. */
static void naive_chunk(const geo *g, size_t isz, const uint8_t *src, int64_t n, uint8_t *out)
{
    int64_t cgrid[4], ext[4], bgrid[4], cc[4], astr[4], s = 1, bitems = 1, nblocks = 1;
    for (int i = g->nd - 1; i >= 0; i--) {
        cgrid[i] = (g->shape[i] + g->cs[i] - 1) / g->cs[i];
        ext[i] = (g->cs[i] + g->bs[i] - 1) / g->bs[i] * g->bs[i];
        bgrid[i] = ext[i] / g->bs[i];
        astr[i] = s;
        s *= g->shape[i];
        bitems *= g->bs[i];
        nblocks *= bgrid[i];
    }
    for (int i = g->nd - 1; i >= 0; i--) {
        cc[i] = n % cgrid[i];
        n /= cgrid[i];
    }
    for (int64_t b = 0; b < nblocks; b++)
        for (int64_t k = 0; k < bitems; k++) {
            int64_t bb = b, kk = k, off = 0;
            int inside = 1;
            for (int i = g->nd - 1; i >= 0; i--) {
                int64_t local = (bb % bgrid[i]) * g->bs[i] + kk % g->bs[i];
                int64_t glob = cc[i] * g->cs[i] + local;
                bb /= bgrid[i];
                kk /= g->bs[i];
                if (local >= g->cs[i] || glob >= g->shape[i])
                    inside = 0;
                off += glob * astr[i];
            }
            uint8_t *o = out + (size_t)(b * bitems + k) * isz;
            if (inside)
                memcpy(o, src + (size_t)off * isz, isz);
            else
                memset(o, 0, isz);
        }
}

static void check_chunks(tersa_array *a, const geo *g, size_t isz, const uint8_t *src)
{
    tersa_array_info info;
    info.struct_size = sizeof info;
    CHECK_OK(tersa_array_get_info(a, &info));
    tersa_schunk *sc = tersa_array_schunk(a);
    size_t cn = (size_t)info.chunk_nbytes;
    uint8_t *want = malloc(cn), *got = malloc(cn), *comp = malloc(cn + 64);
    CHECK_EQ(tersa_schunk_nchunks(sc), info.nchunks);
    for (int64_t n = 0; n < info.nchunks; n++) {
        naive_chunk(g, isz, src, n, want);
        CHECK_EQ(tersa_schunk_decompress_chunk(sc, n, got, cn), (int64_t)cn);
        CHECK_MEM(got, want, cn);
        int64_t cl = tersa_schunk_get_chunk(sc, n, comp, cn + 64);
        tersa_chunk_info ci;
        ci.struct_size = sizeof ci;
        CHECK_OK(tersa_chunk_inspect(comp, (size_t)cl, &ci));
        if (!ci.special)
            CHECK_EQ(ci.blocksize, info.block_nbytes);
        CHECK_EQ(ci.typesize, isz <= 255 ? (int)isz : 1);
    }
    free(want);
    free(got);
    free(comp);
}

static void check_slices(tersa_array *a, const geo *g, size_t isz, const uint8_t *src,
                         uint64_t seed, int nslices)
{
    size_t total = (size_t)tersa_array_nitems(a) * isz;
    uint8_t *got = malloc(total + 1), *want = malloc(total + 1);
    int64_t start[4], stop[4], step[4];
    CHECK_EQ(tersa_array_to_buffer(a, got, total), (int64_t)total);
    CHECK_MEM(got, src, total);
    for (int k = 0; k < nslices; k++) {
        th_nd_rand_slice(&seed, g->nd, g->shape, k % 2 ? 4 : 1, start, stop, step);
        size_t n = th_nd_ref_slice(src, g->nd, g->shape, isz, start, stop, step, want);
        CHECK_EQ(tersa_array_get_slice(a, start, stop, step, got, total), (int64_t)n);
        CHECK_MEM(got, want, n);
    }
    free(got);
    free(want);
}

/* Serialise the frame, reopen it as an array, compare everything again. */
static void check_reopen(tersa_array *a, const geo *g, size_t isz, const uint8_t *src)
{
    tersa_schunk *sc = tersa_array_schunk(a);
    int64_t flen = tersa_schunk_frame_len(sc);
    uint8_t *frame = malloc((size_t)flen);
    CHECK_EQ(tersa_schunk_to_buffer(sc, frame, (size_t)flen), flen);
    tersa_array *b = tersa_array_open_buffer(frame, (size_t)flen, TERSA_OPEN_READONLY);
    CHECK(b != NULL);
    if (b) {
        CHECK_EQ(tersa_array_ndim(b), g->nd);
        check_slices(b, g, isz, src, 77, 5);
        tersa_array_free(b);
    }
    free(frame);
}

/* Filter pipelines: slots 4 and 5. */
static const int pipes[][2] = {
    {TERSA_FILTER_NONE, TERSA_FILTER_SHUFFLE},      {TERSA_FILTER_NONE, TERSA_FILTER_BITSHUFFLE},
    {TERSA_FILTER_NONE, TERSA_FILTER_NONE},         {TERSA_FILTER_DELTA, TERSA_FILTER_SHUFFLE},
    {TERSA_FILTER_SHUFFLE, TERSA_FILTER_BYTEDELTA},
};
#define NPIPES (sizeof pipes / sizeof pipes[0])

static void roundtrip(const geo *g, int32_t isz, int codec, int pipe, uint64_t seed)
{
    int64_t nitems = 1;
    for (int i = 0; i < g->nd; i++)
        nitems *= g->shape[i];
    size_t n = (size_t)nitems * (size_t)isz;
    uint8_t *src = malloc(n);
    gen(src, n, seed);
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_CODEC, codec);
    tersa_cctx_set(c, TERSA_P_CLEVEL, 1 + (int)(seed % 9));
    tersa_cctx_set(c, TERSA_P_FILTER4, pipes[pipe][0]);
    tersa_cctx_set(c, TERSA_P_FILTER5, pipes[pipe][1]);
    tersa_nd_params p = params_for(g, isz, c);
    tersa_array *a = tersa_array_from_buffer(&p, src, n);
    CHECK(a != NULL);
    if (!a) {
        fprintf(stderr, "  nd %d isz %d codec %d pipe %d: %s\n", g->nd, isz, codec, pipe,
                tersa_error_detail());
    } else {
        check_chunks(a, g, (size_t)isz, src);
        check_slices(a, g, (size_t)isz, src, seed, 30);
        if (seed % 5 == 0)
            check_reopen(a, g, (size_t)isz, src);
    }
    tersa_array_free(a);
    tersa_cctx_free(c);
    free(src);
}

static void test_matrix(void)
{
    static const int32_t sizes[] = {1, 2, 4, 8, 3, 16, 300};
    static const int codecs[] = {TERSA_CODEC_BLOSCLZ, TERSA_CODEC_LZ4, TERSA_CODEC_LZ4HC,
                                 TERSA_CODEC_ZSTD};
    uint64_t seed = 1;
    for (size_t gi = 0; gi < sizeof geos / sizeof geos[0]; gi++)
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++, seed++)
                roundtrip(&geos[gi], sizes[si], codecs[ci], (int)(seed % NPIPES), seed);
}

/* ---- Automatic shapes --------------------------------------------------------------- */

static void test_auto(void)
{
    int64_t shape[3] = {1000, 1000, 7};
    int32_t cs[3], bs[3];
    tersa_nd_params p = params_for(&geos[0], 8, NULL);
    p.ndim = 2;
    p.shape = shape;
    p.chunkshape = p.blockshape = NULL;
    CHECK_OK(tersa_nd_auto_shapes(&p, cs, bs));
    CHECK_EQ(bs[1], 1000); /* the last axis first */
    CHECK_EQ((int64_t)bs[0] * bs[1] * 8 <= 256 * 1024, 1);
    CHECK_EQ((int64_t)bs[0] * bs[1] * 8 > 128 * 1024, 1);
    CHECK_EQ(cs[1], 1000);
    CHECK_EQ(cs[0] % bs[0], 0);
    CHECK((int64_t)cs[0] * cs[1] * 8 <= 8 << 20);
    p.ndim = 3;
    CHECK_OK(tersa_nd_auto_shapes(&p, cs, bs));
    for (int i = 0; i < 3; i++)
        CHECK(bs[i] >= 1 && bs[i] <= cs[i] && cs[i] <= shape[i]);
    /* a small array: one chunk, one block */
    int64_t small[2] = {10, 20};
    p.ndim = 2;
    p.shape = small;
    CHECK_OK(tersa_nd_auto_shapes(&p, cs, bs));
    CHECK(cs[0] == 10 && cs[1] == 20 && bs[0] == 10 && bs[1] == 20);
    /* a given chunkshape bounds the automatic blocks */
    int32_t given[2] = {4, 6};
    p.chunkshape = given;
    CHECK_OK(tersa_nd_auto_shapes(&p, cs, bs));
    CHECK(cs[0] == 4 && cs[1] == 6 && bs[0] <= 4 && bs[1] == 6);
    /* an automatic array reads back */
    int64_t sh2[2] = {300, 500};
    geo g = {2, {300, 500}, {0, 0}, {0, 0}};
    size_t n = 300 * 500 * 8;
    uint8_t *src = malloc(n);
    gen(src, n, 99);
    p = params_for(&g, 8, NULL);
    p.shape = sh2;
    p.chunkshape = p.blockshape = NULL;
    tersa_array *a = tersa_array_from_buffer(&p, src, n);
    CHECK(a != NULL);
    if (a)
        check_slices(a, &g, 8, src, 5, 10);
    tersa_array_free(a);
    free(src);
}

/* ---- Special arrays, rank 0, empty arrays ------------------------------------------- */

static void check_constant(tersa_array *a, const uint8_t *item, size_t isz)
{
    int64_t n = tersa_array_nitems(a);
    uint8_t *buf = malloc((size_t)n * isz + 1);
    tersa_nd_stats st;
    st.struct_size = sizeof st;
    tersa_array_reset_stats(a);
    CHECK_EQ(tersa_array_to_buffer(a, buf, (size_t)n * isz), n * (int64_t)isz);
    for (int64_t k = 0; k < n; k++)
        CHECK_MEM(buf + k * (int64_t)isz, item, isz);
    CHECK_OK(tersa_array_stats(a, &st));
    CHECK_EQ(st.blocks_decoded, 0);
    CHECK_EQ(st.chunks_read, 0);
    CHECK_EQ(st.chunks_special, tersa_schunk_nchunks(tersa_array_schunk(a)));
    /* special chunks carry the b2nd block size too (C-Blosc2's b2nd readers need it) */
    tersa_schunk *sc = tersa_array_schunk(a);
    for (int64_t c = 0; c < tersa_schunk_nchunks(sc); c++) {
        uint8_t chunk[TERSA_MAX_OVERHEAD + 300];
        tersa_chunk_info ci;
        ci.struct_size = sizeof ci;
        int64_t cl = tersa_schunk_get_chunk(sc, c, chunk, sizeof chunk);
        CHECK_OK(tersa_chunk_inspect(chunk, (size_t)cl, &ci));
        CHECK_EQ(ci.special != 0, 1);
        CHECK_EQ(ci.blocksize, 3 * 2 * 4 * (int64_t)isz); /* blockshape (3, 2, 4) */
    }
    free(buf);
}

static void test_special(void)
{
    const geo *g = &geos[2];
    tersa_nd_params p = params_for(g, 8, NULL);
    uint8_t zero[300] = {0}, val[300];
    double v = -1.5;
    memcpy(val, &v, 8);
    tersa_array *a = tersa_array_zeros(&p);
    CHECK(a != NULL);
    if (a)
        check_constant(a, zero, 8);
    tersa_array_free(a);
    a = tersa_array_empty(&p);
    CHECK(a != NULL);
    if (a)
        check_constant(a, zero, 8);
    tersa_array_free(a);
    a = tersa_array_full(&p, val);
    CHECK(a != NULL);
    if (a)
        check_constant(a, val, 8);
    tersa_array_free(a);
    for (int i = 0; i < 300; i++)
        val[i] = (uint8_t)(i * 7);
    p.itemsize = 300;
    a = tersa_array_full(&p, val);
    CHECK(a != NULL);
    if (a)
        check_constant(a, val, 300);
    tersa_array_free(a);
    CHECK(tersa_array_full(&p, NULL) == NULL);
}

static void test_rank0_and_empty(void)
{
    tersa_nd_params p = params_for(&geos[0], 4, NULL);
    p.ndim = 0;
    uint32_t v = 0xdeadbeef, got = 0;
    tersa_array *a = tersa_array_from_buffer(&p, &v, 4);
    CHECK(a != NULL);
    if (a) {
        CHECK_EQ(tersa_array_nitems(a), 1);
        CHECK_EQ(tersa_schunk_nchunks(tersa_array_schunk(a)), 1);
        CHECK_EQ(tersa_array_get_slice(a, NULL, NULL, NULL, &got, 4), 4);
        CHECK_EQ(got, 0xdeadbeef);
    }
    tersa_array_free(a);
    int64_t shape[2] = {0, 7};
    int32_t cs[2] = {4, 4}, bs[2] = {2, 2};
    p.ndim = 2;
    p.shape = shape;
    p.chunkshape = cs;
    p.blockshape = bs;
    a = tersa_array_from_buffer(&p, NULL, 0);
    CHECK(a != NULL);
    if (a) {
        CHECK_EQ(tersa_array_nitems(a), 0);
        CHECK_EQ(tersa_schunk_nchunks(tersa_array_schunk(a)), 0);
        CHECK_EQ(tersa_array_to_buffer(a, NULL, 0), 0);
        int64_t flen = tersa_schunk_frame_len(tersa_array_schunk(a));
        uint8_t *frame = malloc((size_t)flen);
        CHECK_EQ(tersa_schunk_to_buffer(tersa_array_schunk(a), frame, (size_t)flen), flen);
        tersa_array *b = tersa_array_open_buffer(frame, (size_t)flen, 0);
        CHECK(b != NULL);
        if (b)
            CHECK_EQ(tersa_array_nitems(b), 0);
        tersa_array_free(b);
        free(frame);
    }
    tersa_array_free(a);
}

/* ---- Block counts on a created array ------------------------------------------------ */

static void test_block_counts(void)
{
    const geo *g = &geos[3]; /* (5,6,7,8) chunk (3,4,5,6) block (2,3,2,4) */
    size_t n = 5 * 6 * 7 * 8 * 4;
    uint8_t *src = malloc(n), out[4096];
    gen(src, n, 3);
    tersa_nd_params p = params_for(g, 4, NULL);
    tersa_array *a = tersa_array_from_buffer(&p, src, n);
    CHECK(a != NULL);
    if (a) {
        tersa_nd_stats st;
        st.struct_size = sizeof st;
        for (int k = 0; k < 20; k++) {
            int64_t start[4] = {k % 5, k % 6, k % 7, k % 8};
            int64_t stop[4] = {start[0] + 1, start[1] + 1, start[2] + 1, start[3] + 1};
            tersa_array_reset_stats(a);
            CHECK_EQ(tersa_array_get_slice(a, start, stop, NULL, out, sizeof out), 4);
            CHECK_OK(tersa_array_stats(a, &st));
            CHECK_EQ(st.blocks_decoded, 1);
            CHECK_EQ(st.chunks_read, 1);
        }
        /* a whole chunk: (2,2,3,2) = 24 blocks of its ext grid */
        tersa_array_reset_stats(a);
        CHECK_OK(tersa_array_get_slice(a, (int64_t[]){0, 0, 0, 0}, (int64_t[]){3, 4, 5, 6}, NULL,
                                       out, sizeof out));
        CHECK_OK(tersa_array_stats(a, &st));
        CHECK_EQ(st.blocks_decoded, 24);
        /* step 4 along the last axis within one chunk row of blocks: blocks 0 and 1 of 2 */
        tersa_array_reset_stats(a);
        CHECK_OK(tersa_array_get_slice(a, (int64_t[]){0, 0, 0, 0}, (int64_t[]){1, 1, 1, 6},
                                       (int64_t[]){1, 1, 1, 4}, out, sizeof out));
        CHECK_OK(tersa_array_stats(a, &st));
        CHECK_EQ(st.blocks_decoded, 2);
    }
    tersa_array_free(a);
    free(src);
}

/* ---- Errors ------------------------------------------------------------------------- */

static void test_create_errors(void)
{
    int64_t shape[2] = {10, 10};
    int32_t cs[2] = {5, 5}, bs[2] = {2, 2};
    tersa_nd_params p = params_for(&geos[1], 4, NULL);
    p.shape = shape;
    p.chunkshape = cs;
    p.blockshape = bs;
    shape[0] = -1;
    CHECK(tersa_array_zeros(&p) == NULL);
    CHECK_EQ(strstr(tersa_error_detail(), "shape[0]") != NULL, 1);
    shape[0] = 10;
    bs[1] = 6; /* block larger than chunk */
    CHECK(tersa_array_zeros(&p) == NULL);
    CHECK(strstr(tersa_error_detail(), "blockshape[1]") != NULL);
    bs[1] = 0;
    CHECK(tersa_array_zeros(&p) == NULL);
    bs[1] = 2;
    cs[0] = 0;
    CHECK(tersa_array_zeros(&p) == NULL);
    cs[0] = 5;
    int32_t huge[2] = {70000, 70000}; /* 4.9e9 items: more than a chunk can hold */
    int64_t hshape[2] = {70000, 70000};
    p.shape = hshape;
    p.chunkshape = huge;
    p.blockshape = bs;
    CHECK(tersa_array_zeros(&p) == NULL);
    int64_t ov[2] = {INT64_MAX / 2, 4}; /* nitems overflows */
    p.shape = ov;
    p.chunkshape = cs;
    CHECK(tersa_array_zeros(&p) == NULL);
    p.shape = shape;
    p.ndim = 16;
    CHECK(tersa_array_zeros(&p) == NULL);
    p.ndim = 2;
    p.itemsize = -3;
    CHECK(tersa_array_zeros(&p) == NULL);
    p.itemsize = 4;
    p.struct_size = 4;
    CHECK(tersa_array_zeros(&p) == NULL);
    p.struct_size = sizeof p;
    uint8_t buf[400] = {0};
    CHECK(tersa_array_from_buffer(&p, buf, 399) == NULL); /* 10*10*4 = 400 */
    tersa_array *a = tersa_array_from_buffer(&p, buf, 400);
    CHECK(a != NULL);
    tersa_array_free(a);
}

static void test_slice_errors(void)
{
    const geo *g = &geos[1];
    tersa_nd_params p = params_for(g, 2, NULL);
    tersa_array *a = tersa_array_zeros(&p);
    CHECK(a != NULL);
    if (!a)
        return;
    uint8_t buf[8192];
    int64_t start[2] = {0, 0}, stop[2] = {37, 54}, step[2] = {1, 0};
    CHECK_ERR(tersa_array_get_slice(a, start, stop, NULL, buf, sizeof buf), TERSA_ERR_RANGE);
    CHECK(strstr(tersa_error_detail(), "axis 1") != NULL);
    stop[1] = 53;
    start[0] = 5;
    stop[0] = 4; /* stop < start */
    CHECK_ERR(tersa_array_get_slice(a, start, stop, NULL, buf, sizeof buf), TERSA_ERR_RANGE);
    start[0] = -1;
    CHECK_ERR(tersa_array_get_slice(a, start, stop, NULL, buf, sizeof buf), TERSA_ERR_RANGE);
    start[0] = 0;
    stop[0] = 37;
    CHECK_ERR(tersa_array_get_slice(a, start, stop, step, buf, sizeof buf), TERSA_ERR_PARAM);
    CHECK_ERR(tersa_array_get_slice(a, start, stop, NULL, buf, 37 * 53 * 2 - 1),
              TERSA_ERR_DST_TOO_SMALL);
    CHECK_EQ(tersa_array_get_slice(a, start, stop, NULL, buf, 37 * 53 * 2), 37 * 53 * 2);
    CHECK_ERR(tersa_array_get_slice(a, start, stop, NULL, NULL, 37 * 53 * 2), TERSA_ERR_PARAM);
    CHECK_ERR(tersa_array_get_slice(NULL, start, stop, NULL, buf, sizeof buf), TERSA_ERR_PARAM);
    start[0] = stop[0] = 3; /* an empty slice */
    CHECK_EQ(tersa_array_get_slice(a, start, stop, NULL, NULL, 0), 0);
    CHECK_ERR(tersa_array_set_slice(a, NULL, NULL, NULL, buf, 10), TERSA_ERR_PARAM);
    tersa_array_free(a);
    CHECK(tersa_array_from_schunk(NULL, 0) == NULL);
    tersa_schunk_params sp;
    memset(&sp, 0, sizeof sp);
    sp.struct_size = sizeof sp;
    tersa_schunk *plain = tersa_schunk_create(&sp); /* a frame without a b2nd metalayer */
    CHECK(tersa_array_from_schunk(plain, 0) == NULL);
    CHECK(strstr(tersa_error_detail(), "metalayer") != NULL);
    CHECK(tersa_array_from_schunk(plain, TERSA_ND_OWN) == NULL); /* frees it */
}

int main(void)
{
    test_matrix();
    test_auto();
    test_special();
    test_rank0_and_empty();
    test_block_counts();
    test_create_errors();
    test_slice_errors();
    return th_report("nd_roundtrip");
}

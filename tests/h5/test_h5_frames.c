/* The frames tersa's direct writes store equal, byte for byte, the frames HDF5's pipeline stores
 * through tersa's filter (which builds each one the plain way: a super-chunk serialised). The
 * direct path takes shortcuts once a dataset's first frames are built (a frame template,
 * block-wise compression of chunks whose b2nd block layout differs from C order, the next
 * batch compressed while the previous one is stored); this test feeds it chunks that make
 * each shortcut fall back: special chunks (zeros, NaN, one repeated value), chunks whose blocks
 * are partly special, incompressible chunks, padded edge blocks, several codecs and filters,
 * 1 and 3 threads, and writes split over several calls. Reads within one chunk (blocks decoded
 * on all threads) are checked on the same datasets. */
#include <math.h>
#include <stdlib.h>

#include "th_h5.h"

typedef struct fcase {
    const char *name;
    int rank;
    int64_t shape[3], chunk[3];
    hid_t type;
    int codec, filter, clevel;
    int32_t blocksize;
} fcase;

enum { KINDS = 9 };

/* Item k of chunk kind `kind` (isz bytes, written at p). */
static void put_item(uint8_t *p, size_t isz, int kind, size_t k, uint64_t *rng)
{
    uint64_t r = th_rand(rng), v = 0;
    switch (kind) {
    case 0: v = k * 3 + (r & 3); break;                   /* smooth */
    case 1: v = r; break;                                 /* incompressible */
    case 2: v = 0; break;                                 /* zeros */
    case 3: v = 0x3fc00000u; break;                       /* one value (1.5f) */
    case 4: v = (k / 700) % 2 ? r : 0; break;             /* zero runs between noise */
    case 5: v = (k & ~(size_t)7) + (r & 0xff); break;     /* noisy low byte */
    case 6: v = 0x7fc00000u; break;                       /* NaN (f32) */
    case 7: v = k == 5 ? 1 : 0; break;                    /* zeros but one */
    default: v = (k / 64) % 2 ? 0x41200000u : 0; break;   /* blocks of two values */
    }
    for (size_t b = 0; b < isz; b++) p[b] = (uint8_t)(v >> (8 * (b % 8)));
}

/* The source: items of chunk c (by its first axis index) are of kind c % KINDS. */
static uint8_t *make_source(const fcase *c, size_t isz, size_t *n)
{
    size_t items = 1, row = 1;
    for (int i = 0; i < c->rank; i++) items *= (size_t)c->shape[i];
    for (int i = 1; i < c->rank; i++) row *= (size_t)c->shape[i];
    uint8_t *p = malloc(items * isz);
    uint64_t rng = 99;
    for (size_t k = 0; k < items; k++) {
        int kind = (int)(((k / row) / (size_t)c->chunk[0]) % KINDS);
        if (c->rank == 1) kind = (int)((k / (size_t)c->chunk[0]) % KINDS);
        put_item(p + k * isz, isz, kind, k, &rng);
    }
    *n = items * isz;
    return p;
}

static tersa_h5dset *create(hid_t f, const fcase *c, const char *name)
{
    tersa_h5_params p;
    tersa_h5_params_init(&p);
    p.rank = c->rank;
    p.shape = c->shape;
    p.chunkshape = c->chunk;
    p.type = c->type;
    p.codec = c->codec;
    p.filter = c->filter;
    p.clevel = c->clevel;
    p.blocksize = c->blocksize;
    tersa_h5dset *d = tersa_h5_create(f, name, &p);
    if (!d) TH_FAIL_AT("create %s: %s", name, tersa_error_detail());
    return d;
}

/* The same dataset written through H5Dwrite (the pipeline, tersa's filter). */
static hid_t pipeline_copy(hid_t f, tersa_h5dset *d, const char *name, const void *src)
{
    hid_t ds = tersa_h5_dataset_id(d), dcpl = H5Dget_create_plist(ds), sp = H5Dget_space(ds);
    hid_t ty = H5Dget_type(ds);
    hid_t p = H5Dcreate2(f, name, ty, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(p >= 0 && H5Dwrite(p, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, src) >= 0);
    H5Tclose(ty);
    H5Sclose(sp);
    H5Pclose(dcpl);
    return p;
}

/* Every stored chunk of a and b holds the same bytes. */
static void same_chunks(const fcase *c, hid_t a, hid_t b)
{
    int64_t g[3] = {1, 1, 1}, total = 1;
    for (int i = 0; i < c->rank; i++) {
        g[i] = (c->shape[i] + c->chunk[i] - 1) / c->chunk[i];
        total *= g[i];
    }
    uint8_t *x = NULL, *y = NULL;
    int bad = 0;
    for (int64_t k = 0; k < total; k++) {
        hsize_t off[3] = {0, 0, 0}, sa = 0, sb = 0;
        for (int i = c->rank - 1, r = (int)k; i >= 0; i--) {
            off[i] = (hsize_t)((r % g[i]) * c->chunk[i]);
            r /= (int)g[i];
        }
        uint32_t ma = 7, mb = 7;
        H5Dget_chunk_storage_size(a, off, &sa);
        H5Dget_chunk_storage_size(b, off, &sb);
        x = realloc(x, sa + 1);
        y = realloc(y, sb + 1);
        bool ok = sa == sb && sa > 0 && H5Dread_chunk(a, H5P_DEFAULT, off, &ma, x) >= 0 &&
                  H5Dread_chunk(b, H5P_DEFAULT, off, &mb, y) >= 0 && ma == 0 && mb == 0 &&
                  memcmp(x, y, sa) == 0;
        if (!ok && bad++ < 3)
            TH_FAIL_AT("%s: chunk %lld differs (%llu vs %llu bytes)", c->name, (long long)k,
                       (unsigned long long)sa, (unsigned long long)sb);
    }
    CHECK_EQ(bad, 0);
    free(x);
    free(y);
}

/* Reads within one chunk (whole chunks, and boxes over several blocks) decode their blocks on
 * all the handle's threads; compare with the source. */
static void check_chunk_reads(tersa_h5dset *d, const fcase *c, const uint8_t *src, size_t isz)
{
    static uint8_t got[1 << 20], want[1 << 20];
    uint64_t rng = 5;
    for (int r = 0; r < 12; r++) {
        int64_t start[3] = {0, 0, 0}, count[3] = {1, 1, 1}, step[3] = {1, 1, 1};
        for (int i = 0; i < c->rank; i++) {
            int64_t nc = (c->shape[i] + c->chunk[i] - 1) / c->chunk[i];
            int64_t lo = (int64_t)(th_rand(&rng) % (uint64_t)nc) * c->chunk[i];
            int64_t room = c->shape[i] - lo < c->chunk[i] ? c->shape[i] - lo : c->chunk[i];
            start[i] = lo + (r % 2 ? (int64_t)(th_rand(&rng) % (uint64_t)room) / 2 : 0);
            count[i] = r % 2 ? 1 + (lo + room - start[i] - 1) / 2 : room;
        }
        size_t n = th_h5_ref_slab(src, c->rank, c->shape, isz, start, count, step, want);
        if (n > sizeof got) continue;
        CHECK_EQ(tersa_h5_read(d, start, count, NULL, got, sizeof got), (int64_t)n);
        CHECK_MEM(got, want, n);
    }
}

/* Write c directly with nthreads (in two calls along axis 0), compare with the pipeline. */
static void check_case(hid_t f, const fcase *c, int nthreads)
{
    char dn[64], pn[64];
    snprintf(dn, sizeof dn, "%s_t%d", c->name, nthreads);
    snprintf(pn, sizeof pn, "%s_t%d_pipe", c->name, nthreads);
    size_t isz = H5Tget_size(c->type), n = 0;
    uint8_t *src = make_source(c, isz, &n), *got = malloc(n);
    tersa_h5dset *d = create(f, c, dn);
    CHECK_OK(tersa_h5_set_nthreads(d, nthreads));
    int64_t start[3] = {0, 0, 0}, count[3];
    memcpy(count, c->shape, sizeof count);
    count[0] = c->shape[0] / 2;
    size_t half = n / (size_t)c->shape[0] * (size_t)count[0];
    CHECK(tersa_h5_write(d, start, count, NULL, src, half) >= 0);
    start[0] = count[0];
    count[0] = c->shape[0] - count[0];
    CHECK(tersa_h5_write(d, start, count, NULL, src + half, n - half) >= 0);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, got, n), (int64_t)n);
    CHECK_MEM(got, src, n);
    check_chunk_reads(d, c, src, isz);
    hid_t p = pipeline_copy(f, d, pn, src);
    same_chunks(c, tersa_h5_dataset_id(d), p);
    H5Dclose(p);
    tersa_h5_close(d);
    free(src);
    free(got);
}

int main(void)
{
    const fcase cases[] = {
        /* (1, 128, 192) f32 chunks: automatic blocks, block layout differs from C order */
        {"frames_f32", 3, {40, 128, 192}, {1, 128, 192}, H5T_IEEE_F32LE, TERSA_CODEC_LZ4,
         TERSA_FILTER_SHUFFLE, 5, 0},
        /* small blocks with padding at the chunk edges */
        {"padded_i16", 2, {330, 200}, {30, 50}, H5T_STD_I16LE, TERSA_CODEC_BLOSCLZ,
         TERSA_FILTER_BITSHUFFLE, 5, 1000},
        {"zstd_f64", 3, {27, 40, 33}, {3, 40, 33}, H5T_IEEE_F64LE, TERSA_CODEC_ZSTD,
         TERSA_FILTER_SHUFFLE, 1, 2048},
        {"nofilter_u32", 2, {200, 300}, {20, 300}, H5T_STD_U32LE, TERSA_CODEC_LZ4, 0, 9, 4096},
        /* rank 1: plain frames */
        {"plain_u8", 1, {100000, 0, 0}, {7000, 0, 0}, H5T_STD_U8LE, TERSA_CODEC_LZ4,
         TERSA_FILTER_SHUFFLE, 5, 0},
    };
    CHECK_OK(tersa_h5_register_filter());
    char path[1024];
    hid_t f = H5Fcreate(th_h5_tmp(path, sizeof path, "frames.h5"), H5F_ACC_TRUNC, H5P_DEFAULT,
                        H5P_DEFAULT);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_case(f, &cases[i], 1);
        check_case(f, &cases[i], 3);
    }
    H5Fclose(f);
    return th_report("h5_frames");
}

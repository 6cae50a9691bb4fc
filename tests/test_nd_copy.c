/* Copying b2nd arrays (tersa_array_copy): every storage to every storage, new chunk and block
 * shapes (smaller, larger, unaligned with the source's, edge blocks), other compression
 * parameters, verbatim copies, zero chunks stored as special chunks, metalayers and
 * vlmetalayers kept, the official fixture arrays re-chunked (sha256 of the C-order array equal
 * to the manifest's), errors. The memory bound of a copy is checked by test_nd_big. */
#include <stdbool.h>
#include <unistd.h>

#include "harness.h"
#include "tersa/tersa.h"
#include "th_manifest.h"
#include "th_nd.h"
#include "th_sha256.h"

static const char *kind_name[] = {"memory", "file", "sparse"};

static void tmp_path(char *out, size_t n, const char *tag, int storage)
{
    snprintf(out, n, "test_nd_copy_%d_%s_%s.b2nd", (int)getpid(), tag, kind_name[storage]);
}

static void remove_path(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
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
    p.dtype = "<i4";
    p.storage = storage;
    p.path = path;
    p.overwrite = 1;
    return p;
}

/* sha256 of the whole array in C order ("" on failure). */
static void digest(tersa_array *a, char hex[65])
{
    int64_t nb = tersa_array_slice_nbytes(a, NULL, NULL, NULL, NULL);
    uint8_t *buf = malloc(nb > 0 ? (size_t)nb : 1);
    hex[0] = '\0';
    if (buf && tersa_array_to_buffer(a, buf, (size_t)nb) == nb)
        th_sha256_hex(buf, (size_t)nb, hex);
    free(buf);
}

static void check_shapes(tersa_array *a, const int32_t *cs, const int32_t *bs)
{
    tersa_array_info info;
    info.struct_size = sizeof info;
    CHECK_OK(tersa_array_get_info(a, &info));
    for (int i = 0; i < info.ndim; i++) {
        CHECK_EQ(info.chunkshape[i], cs[i]);
        CHECK_EQ(info.blockshape[i], bs[i]);
    }
}

/* A 3-D int32 source: a ramp with noise, and one region of zeros covering whole chunks. */
static tersa_array *make_source(int storage, const char *path)
{
    static const int64_t shape[3] = {23, 31, 19};
    static const int32_t cs[3] = {8, 10, 7}, bs[3] = {3, 4, 5};
    size_t n = 23 * 31 * 19;
    int32_t *v = malloc(n * 4);
    uint64_t seed = 99;
    for (size_t i = 0; i < n; i++)
        v[i] = (int32_t)(i * 3 + th_rand(&seed) % 5);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 31; j++)
            for (int k = 0; k < 19; k++)
                v[(i * 31 + j) * 19 + k] = 0;
    tersa_nd_params p = params(3, shape, cs, bs, storage, path);
    tersa_array *a = tersa_array_from_buffer(&p, v, n * 4);
    free(v);
    CHECK(a != NULL);
    if (a) {
        tersa_schunk *sc = tersa_array_schunk(a);
        CHECK_OK(tersa_schunk_vlmeta_set(sc, "note", "copied", 6, NULL));
    }
    return a;
}

/* The copy's chunks that hold only zeros are special chunks (stored as offset codes). */
static void check_zero_chunks(tersa_array *c)
{
    tersa_schunk *sc = tersa_array_schunk(c);
    tersa_array_info info;
    info.struct_size = sizeof info;
    CHECK_OK(tersa_array_get_info(c, &info));
    uint8_t *chunk = malloc((size_t)tersa_compress_bound((size_t)info.chunk_nbytes));
    int64_t len =
        tersa_schunk_get_chunk(sc, 0, chunk, tersa_compress_bound((size_t)info.chunk_nbytes));
    tersa_chunk_info ci;
    ci.struct_size = sizeof ci;
    CHECK_OK(len);
    if (len > 0) {
        CHECK_OK(tersa_chunk_inspect(chunk, (size_t)len, &ci));
        CHECK_EQ(ci.special, TERSA_SPECIAL_ZEROS);
        CHECK_EQ(ci.blocksize, info.block_nbytes);
    }
    free(chunk);
}

static void check_copy(tersa_array *src, const char *want, const tersa_nd_params *p,
                       const int32_t *cs, const int32_t *bs, bool zeros, const char *what)
{
    char hex[65];
    tersa_array *c = tersa_array_copy(src, p);
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s: %s\n", what, tersa_error_detail());
        return;
    }
    digest(c, hex);
    CHECK_STR(hex, want);
    check_shapes(c, cs, bs);
    tersa_array_info info;
    info.struct_size = sizeof info;
    CHECK_OK(tersa_array_get_info(c, &info));
    CHECK_STR(info.dtype, "<i4");
    CHECK_EQ(tersa_schunk_vlmeta_get(tersa_array_schunk(c), "note", NULL, 0), 6);
    if (zeros)
        check_zero_chunks(c);
    tersa_array_free(c);
    if (p->storage != TERSA_STORAGE_MEMORY) { /* reopen from disk */
        c = tersa_array_open_file(p->path, 0, TERSA_OPEN_READONLY);
        CHECK(c != NULL);
        if (c) {
            digest(c, hex);
            CHECK_STR(hex, want);
        }
        tersa_array_free(c);
        remove_path(p->path);
    }
}

/* Every storage into every storage, with several new layouts. */
static void test_matrix(void)
{
    static const int32_t layouts[][2][3] = {
        {{8, 10, 7}, {3, 4, 5}},      /* the same shapes: verbatim */
        {{16, 10, 7}, {3, 4, 5}},     /* chunks merged along axis 0 */
        {{5, 6, 19}, {5, 3, 19}},     /* unaligned with the source's chunks */
        {{23, 31, 19}, {23, 31, 19}}, /* one chunk, one block */
        {{1, 1, 1}, {1, 1, 1}},       /* one item per chunk */
        {{9, 32, 4}, {4, 7, 3}},      /* chunks larger than the array on axis 1, edge blocks */
    };
    for (int ss = 0; ss < 3; ss++) {
        char spath[256], dpath[256], want[65];
        tmp_path(spath, sizeof spath, "src", ss);
        tersa_array *src = make_source(ss, spath);
        if (!src)
            continue;
        digest(src, want);
        for (int ds = 0; ds < 3; ds++)
            for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
                if (l == 4 && ds == TERSA_STORAGE_SPARSE)
                    continue; /* 13,547 chunk files: slow and pointless */
                tmp_path(dpath, sizeof dpath, "dst", ds);
                int64_t shape[3] = {23, 31, 19};
                tersa_nd_params p = params(3, shape, layouts[l][0], layouts[l][1], ds, dpath);
                check_copy(src, want, &p, layouts[l][0], layouts[l][1], l != 0 && l != 3,
                           kind_name[ds]);
            }
        tersa_array_free(src);
        if (ss != TERSA_STORAGE_MEMORY)
            remove_path(spath);
    }
}

/* NULL shapes keep the source's; other cparams recompress; metalayers follow. */
static void test_params(void)
{
    char want[65], hex[65];
    tersa_array *src = make_source(TERSA_STORAGE_MEMORY, NULL);
    if (!src)
        return;
    digest(src, want);
    tersa_nd_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    tersa_cctx *z = tersa_cctx_create();
    tersa_cctx_set(z, TERSA_P_CODEC, TERSA_CODEC_ZSTD);
    tersa_cctx_set(z, TERSA_P_CLEVEL, 3);
    p.cparams = z;
    tersa_array *c = tersa_array_copy(src, &p);
    CHECK(c != NULL);
    if (c) {
        digest(c, hex);
        CHECK_STR(hex, want);
        check_shapes(c, (int32_t[]){8, 10, 7}, (int32_t[]){3, 4, 5});
        CHECK_EQ(tersa_schunk_codec(tersa_array_schunk(c)), TERSA_CODEC_ZSTD);
        /* a copy of the copy with the source's parameters again, and a metalayer */
        tersa_nd_params q;
        memset(&q, 0, sizeof q);
        q.struct_size = sizeof q;
        tersa_metalayer ml = {"extra", "abc", 3};
        q.nmetalayers = 1;
        q.metalayers = &ml;
        tersa_array *d = tersa_array_copy(c, &q);
        CHECK(d != NULL);
        if (d) {
            const uint8_t *content = NULL;
            size_t len = 0;
            CHECK_OK(tersa_schunk_meta_get(tersa_array_schunk(d), "extra", &content, &len));
            CHECK_EQ(len, 3);
            digest(d, hex);
            CHECK_STR(hex, want);
            CHECK_EQ(tersa_schunk_codec(tersa_array_schunk(d)), TERSA_CODEC_ZSTD);
            /* metalayers are carried to a further re-chunked copy */
            tersa_nd_params r = q;
            r.nmetalayers = 0;
            r.chunkshape = (int32_t[]){4, 4, 4};
            r.blockshape = (int32_t[]){2, 2, 2};
            tersa_array *e = tersa_array_copy(d, &r);
            CHECK(e != NULL);
            if (e) {
                CHECK_OK(tersa_schunk_meta_get(tersa_array_schunk(e), "extra", &content, &len));
                digest(e, hex);
                CHECK_STR(hex, want);
            }
            tersa_array_free(e);
        }
        tersa_array_free(d);
    }
    tersa_array_free(c);
    tersa_cctx_free(z);
    tersa_array_free(src);
}

/* Edge cases: ndim 0, an empty axis, a read-only source, bad parameters. */
static void test_edges(void)
{
    char path[256], hex[65], want[65];
    int32_t one = 7;
    tersa_nd_params p = params(0, NULL, NULL, NULL, TERSA_STORAGE_MEMORY, NULL);
    tersa_array *a = tersa_array_full(&p, &one), *c;
    CHECK(a != NULL);
    c = a ? tersa_array_copy(a, &(tersa_nd_params){.struct_size = sizeof p}) : NULL;
    CHECK(c != NULL);
    int32_t got = 0;
    if (c)
        CHECK_EQ(tersa_array_to_buffer(c, &got, 4), 4);
    CHECK_EQ(got, 7);
    tersa_array_free(c);
    tersa_array_free(a);

    int64_t shape0[2] = {0, 5};
    p = params(2, shape0, (int32_t[]){2, 2}, (int32_t[]){1, 2}, TERSA_STORAGE_MEMORY, NULL);
    a = tersa_array_zeros(&p);
    c = a ? tersa_array_copy(a, &(tersa_nd_params){.struct_size = sizeof p,
                                                   .chunkshape = (int32_t[]){3, 3},
                                                   .blockshape = (int32_t[]){1, 1}})
          : NULL;
    CHECK(c != NULL);
    CHECK_EQ(tersa_array_nitems(c), 0);
    tersa_array_free(c);
    tersa_array_free(a);

    /* read-only file source; the destination may not be the source */
    tmp_path(path, sizeof path, "ro", TERSA_STORAGE_FILE);
    tersa_array_free(make_source(TERSA_STORAGE_FILE, path));
    a = tersa_array_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK(a != NULL);
    if (a) {
        digest(a, want);
        tersa_nd_params q =
            params(3, NULL, (int32_t[]){4, 8, 8}, (int32_t[]){2, 8, 8}, TERSA_STORAGE_MEMORY, NULL);
        c = tersa_array_copy(a, &q);
        CHECK(c != NULL);
        digest(c, hex);
        CHECK_STR(hex, want);
        tersa_array_free(c);
        q.storage = TERSA_STORAGE_FILE;
        q.path = path;
        CHECK(tersa_array_copy(a, &q) == NULL);
        CHECK(strstr(tersa_error_detail(), "is the source") != NULL);
        q.storage = TERSA_STORAGE_MEMORY;
        q.blockshape = (int32_t[]){5, 8, 8}; /* block above chunk */
        CHECK(tersa_array_copy(a, &q) == NULL);
        q.blockshape = (int32_t[]){0, 8, 8};
        CHECK(tersa_array_copy(a, &q) == NULL);
        q.struct_size = 8;
        CHECK(tersa_array_copy(a, &q) == NULL);
        CHECK(tersa_array_copy(NULL, &p) == NULL);
        CHECK(tersa_array_copy(a, NULL) == NULL);
    }
    tersa_array_free(a);
    /* the source file was not touched */
    a = tersa_array_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK(a != NULL);
    if (a) {
        digest(a, hex);
        CHECK_STR(hex, want);
    }
    tersa_array_free(a);
    remove_path(path);
}

/* Special zero chunks of one array, counted by decoding each chunk's header. */
static int64_t count_zero_chunks(tersa_array *a)
{
    tersa_schunk *sc = tersa_array_schunk(a);
    int64_t n = 0;
    for (int64_t i = 0; i < tersa_schunk_nchunks(sc); i++) {
        uint8_t chunk[64];
        tersa_chunk_info ci = {.struct_size = sizeof ci};
        int64_t len = tersa_schunk_get_chunk(sc, i, chunk, sizeof chunk);
        n += len > 0 && tersa_chunk_inspect(chunk, (size_t)len, &ci) == 0 &&
             ci.special == TERSA_SPECIAL_ZEROS;
    }
    return n;
}

/* A zeros source: the copy's chunks are special zero chunks, written without reading the
 * source; after one item is set, only the chunks holding it are real ones. */
static void test_zeros_source(void)
{
    int64_t shape[3] = {40, 50, 30};
    tersa_nd_params p =
        params(3, shape, (int32_t[]){10, 10, 10}, (int32_t[]){5, 5, 5}, TERSA_STORAGE_MEMORY, NULL);
    tersa_nd_params q =
        params(3, NULL, (int32_t[]){7, 20, 30}, (int32_t[]){7, 5, 6}, TERSA_STORAGE_MEMORY, NULL);
    tersa_nd_stats st = {.struct_size = sizeof st};
    tersa_array *a = tersa_array_zeros(&p);
    CHECK(a != NULL);
    if (!a)
        return;
    tersa_array_reset_stats(a);
    tersa_array *c = tersa_array_copy(a, &q);
    CHECK(c != NULL);
    CHECK_OK(tersa_array_stats(a, &st));
    CHECK_EQ(st.chunks_read + st.chunks_special, 0);
    CHECK_EQ(count_zero_chunks(c), 6 * 3);
    tersa_array_free(c);
    int32_t one = 1;
    CHECK_OK(
        tersa_array_set_slice(a, (int64_t[]){13, 21, 4}, (int64_t[]){14, 22, 5}, NULL, &one, 4));
    c = tersa_array_copy(a, &q);
    CHECK(c != NULL);
    if (c) {
        CHECK_EQ(count_zero_chunks(c), 6 * 3 - 1);
        int32_t got = 0;
        CHECK_OK(tersa_array_get_slice(c, (int64_t[]){13, 21, 4}, (int64_t[]){14, 22, 5}, NULL,
                                       &got, 4));
        CHECK_EQ(got, 1);
    }
    tersa_array_free(c);
    tersa_array_free(a);
}

/* The official fixture arrays re-chunked into each storage: the C-order digest must stay the
 * manifest's. */
static void test_fixtures(void)
{
    static const char *const fixtures[] = {
        "blosc-frames/example_day_month_temp.b2nd",
        "blosc-frames/example_item_prices.b2nd",
        "official-b2/b2nd_f32_2d_blosclz.b2nd",
    };
    th_manifest m;
    if (th_manifest_load(TERSA_FIXTURES "/MANIFEST.tsv", &m) != 0) {
        TH_FAIL_AT("cannot load the fixture manifest");
        return;
    }
    for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
        const th_manifest_row *r = th_manifest_find(&m, fixtures[f], NULL);
        char full[1024], path[256], hex[65];
        CHECK(r != NULL);
        if (!r)
            continue;
        snprintf(full, sizeof full, "%s/%s", TERSA_FIXTURES, fixtures[f]);
        tersa_array *a = tersa_array_open_file(full, 0, TERSA_OPEN_READONLY);
        CHECK(a != NULL);
        for (int ds = 0; a && ds < 3; ds++) {
            int nd = tersa_array_ndim(a);
            int32_t cs[3] = {7, 3, 9}, bs[3] = {2, 2, 4};
            tmp_path(path, sizeof path, "fx", ds);
            tersa_nd_params p = params(nd, NULL, cs, bs, ds, path);
            tersa_array *c = tersa_array_copy(a, &p);
            CHECK(c != NULL);
            if (c) {
                digest(c, hex);
                CHECK_STR(hex, r->sha256_array_c_order);
                tersa_array_info info;
                info.struct_size = sizeof info;
                CHECK_OK(tersa_array_get_info(c, &info));
                CHECK_STR(info.dtype, r->dtype);
            }
            tersa_array_free(c);
            if (ds != TERSA_STORAGE_MEMORY)
                remove_path(path);
        }
        tersa_array_free(a);
    }
    th_manifest_free(&m);
}

int main(void)
{
    test_matrix();
    test_params();
    test_edges();
    test_zeros_source();
    test_fixtures();
    return th_report("nd_copy");
}

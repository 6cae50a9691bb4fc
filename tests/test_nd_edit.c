/* Changing b2nd arrays: set_slice (strided, partial and whole chunks) against a model buffer,
 * in memory, in a contiguous file and in a sparse directory, with reopening; resize (grow,
 * shrink, shrink-then-grow exposes zeros); append along each axis; .npy export (header bytes,
 * data) and import, and bad .npy files. */
#include <stdbool.h>
#include <unistd.h>

#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_ndarray.h"
#include "th_nd.h"

static const char *kind_name[] = {"memory", "file", "sparse"};

static void tmp_path(char *out, size_t n, const char *tag, int storage)
{
    snprintf(out, n, "test_nd_edit_%d_%s_%s.b2nd", (int)getpid(), tag, kind_name[storage]);
}

static void remove_path(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

static void gen(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(th_rand(&s) % 7 + i / 64);
}

/* A model: the C-order array the b2nd array must equal. */
typedef struct model {
    int nd;
    int64_t shape[4];
    size_t isz;
    uint8_t *data;
} model;

static int64_t model_items(const model *m)
{
    int64_t n = 1;
    for (int i = 0; i < m->nd; i++)
        n *= m->shape[i];
    return n;
}

static void check_equal(tersa_array *a, const model *m, const char *what)
{
    size_t n = (size_t)model_items(m) * m->isz;
    uint8_t *got = malloc(n + 1);
    int64_t shape[16];
    CHECK_EQ(tersa_array_shape(a, shape), m->nd);
    for (int i = 0; i < m->nd; i++)
        CHECK_EQ(shape[i], m->shape[i]);
    CHECK_EQ(tersa_array_to_buffer(a, got, n), (int64_t)n);
    th_checks++;
    if (memcmp(got, m->data, n) != 0)
        TH_FAIL_AT("%s: array differs from the model", what);
    free(got);
}

/* Write a strided slice into the array and into the model. */
static void model_set(model *m, const int64_t *start, const int64_t *stop, const int64_t *step,
                      const uint8_t *src)
{
    int64_t idx[4] = {0}, cnt[4], n = 1, str[4], s = 1;
    for (int i = m->nd - 1; i >= 0; i--) {
        str[i] = s;
        s *= m->shape[i];
    }
    for (int i = 0; i < m->nd; i++) {
        cnt[i] = stop[i] > start[i] ? (stop[i] - start[i] - 1) / step[i] + 1 : 0;
        n *= cnt[i];
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t off = 0;
        for (int i = 0; i < m->nd; i++)
            off += (start[i] + idx[i] * step[i]) * str[i];
        memcpy(m->data + (size_t)off * m->isz, src + (size_t)k * m->isz, m->isz);
        for (int i = m->nd - 1; i >= 0; i--) {
            if (++idx[i] < cnt[i])
                break;
            idx[i] = 0;
        }
    }
}

static tersa_nd_params base_params(int nd, const int64_t *shape, const int32_t *cs,
                                   const int32_t *bs, int32_t isz, int storage, const char *path)
{
    tersa_nd_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.ndim = nd;
    p.shape = shape;
    p.chunkshape = cs;
    p.blockshape = bs;
    p.itemsize = isz;
    p.dtype = "<i4";
    p.storage = storage;
    p.path = path;
    p.overwrite = 1;
    return p;
}

/* Close and reopen (memory arrays: serialise the frame and open the bytes). */
static tersa_array *reopen(tersa_array *a, int storage, const char *path)
{
    if (storage == TERSA_STORAGE_MEMORY) {
        tersa_schunk *sc = tersa_array_schunk(a);
        int64_t flen = tersa_schunk_frame_len(sc);
        uint8_t *frame = malloc((size_t)flen);
        CHECK_EQ(tersa_schunk_to_buffer(sc, frame, (size_t)flen), flen);
        tersa_array_free(a);
        a = tersa_array_open_buffer(frame, (size_t)flen, 0);
        free(frame);
    } else {
        tersa_array_free(a);
        a = tersa_array_open_file(path, 0, TERSA_OPEN_WRITE);
    }
    CHECK(a != NULL);
    if (!a) fprintf(stderr, "  reopen %s: %s\n", path, tersa_error_detail());
    return a;
}

/* ---- set_slice ---------------------------------------------------------------------- */

static void test_set_slice(int storage)
{
    char path[256];
    int64_t shape[3] = {13, 17, 9};
    int32_t cs[3] = {5, 6, 4}, bs[3] = {2, 4, 3};
    model m = {3, {13, 17, 9}, 4, NULL};
    size_t n = 13 * 17 * 9 * 4;
    m.data = calloc(1, n);
    tmp_path(path, sizeof path, "set", storage);
    tersa_nd_params p = base_params(3, shape, cs, bs, 4, storage, path);
    tersa_array *a = tersa_array_zeros(&p);
    CHECK(a != NULL);
    uint64_t seed = 42 + (uint64_t)storage;
    uint8_t *src = malloc(n);
    for (int k = 0; a && k < 40; k++) {
        int64_t start[3], stop[3], step[3];
        th_nd_rand_slice(&seed, 3, shape, k % 3 ? 1 : 3, start, stop, step);
        if (k == 0) { /* whole array */
            memset(start, 0, sizeof start);
            memcpy(stop, shape, sizeof stop);
            step[0] = step[1] = step[2] = 1;
        }
        int64_t nb = tersa_array_slice_nbytes(a, start, stop, step, NULL);
        gen(src, (size_t)nb, seed);
        CHECK_OK(tersa_array_set_slice(a, start, stop, step, src, (size_t)nb));
        model_set(&m, start, stop, step, src);
        if (k % 10 == 9)
            a = reopen(a, storage, path);
    }
    if (a)
        check_equal(a, &m, kind_name[storage]);
    /* whole-chunk writes rebuild without reading */
    if (a) {
        tersa_nd_stats st;
        st.struct_size = sizeof st;
        tersa_array_reset_stats(a);
        int64_t s0[3] = {0, 0, 0}, s1[3] = {5, 6, 4};
        gen(src, 5 * 6 * 4 * 4, 7);
        CHECK_EQ(tersa_array_set_slice(a, s0, s1, NULL, src, 5 * 6 * 4 * 4), 1);
        model_set(&m, s0, s1, (int64_t[]){1, 1, 1}, src);
        CHECK_OK(tersa_array_stats(a, &st));
        CHECK_EQ(st.chunks_read, 0);
        CHECK_EQ(st.chunks_written, 1);
        a = reopen(a, storage, path);
        if (a)
            check_equal(a, &m, "after a whole-chunk write");
    }
    tersa_array_free(a);
    free(src);
    free(m.data);
    if (storage != TERSA_STORAGE_MEMORY)
        remove_path(path);
}

/* A read-only array refuses writes. */
static void test_readonly(void)
{
    char path[256];
    int64_t shape[1] = {100};
    int32_t cs[1] = {30}, bs[1] = {10};
    tmp_path(path, sizeof path, "ro", TERSA_STORAGE_FILE);
    tersa_nd_params p = base_params(1, shape, cs, bs, 4, TERSA_STORAGE_FILE, path);
    tersa_array_free(tersa_array_zeros(&p));
    tersa_array *a = tersa_array_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK(a != NULL);
    uint8_t buf[400] = {0};
    if (a) {
        CHECK_ERR(tersa_array_set_slice(a, NULL, NULL, NULL, buf, 400), TERSA_ERR_STATE);
        CHECK_ERR(tersa_array_resize(a, (int64_t[]){200}), TERSA_ERR_STATE);
    }
    tersa_array_free(a);
    remove_path(path);
}

/* ---- resize and append -------------------------------------------------------------- */

/* Resize the model: keep the common part, zero the rest. */
static void model_resize(model *m, const int64_t *ns)
{
    model nm = *m;
    memcpy(nm.shape, ns, sizeof(int64_t) * (size_t)m->nd);
    nm.data = calloc(1, (size_t)model_items(&nm) * m->isz + 1);
    int64_t start[4] = {0}, stop[4], step[4] = {1, 1, 1, 1};
    for (int i = 0; i < m->nd; i++)
        stop[i] = ns[i] < m->shape[i] ? ns[i] : m->shape[i];
    uint8_t *part = malloc((size_t)model_items(m) * m->isz + 1);
    th_nd_ref_slice(m->data, m->nd, m->shape, m->isz, start, stop, step, part);
    model_set(&nm, start, stop, step, part);
    free(part);
    free(m->data);
    *m = nm;
}

static void test_resize(int storage)
{
    char path[256];
    int64_t shape[2] = {11, 14};
    int32_t cs[2] = {4, 5}, bs[2] = {3, 2};
    model m = {2, {11, 14}, 4, NULL};
    size_t n = 11 * 14 * 4;
    m.data = malloc(n);
    gen(m.data, n, 5);
    tmp_path(path, sizeof path, "resize", storage);
    tersa_nd_params p = base_params(2, shape, cs, bs, 4, storage, path);
    tersa_array *a = tersa_array_from_buffer(&p, m.data, n);
    CHECK(a != NULL);
    static const int64_t steps[][2] = {{15, 14}, {15, 22}, {9, 22}, {9, 7},  {2, 3},
                                       {13, 19}, {0, 19},  {6, 6},  {6, 40}, {40, 6}};
    for (size_t k = 0; a && k < sizeof steps / sizeof steps[0]; k++) {
        int rc = tersa_array_resize(a, steps[k]);
        CHECK_OK(rc);
        if (rc < 0)
            fprintf(stderr, "  resize %zu: %s\n", k, tersa_error_detail());
        model_resize(&m, steps[k]);
        if (k % 3 == 2)
            a = reopen(a, storage, path);
        if (a)
            check_equal(a, &m, "resize");
    }
    /* append along each axis */
    for (int axis = 0; a && axis < 2; axis++) {
        int64_t other = m.shape[1 - axis], rows = 7;
        size_t len = (size_t)(other * rows) * 4;
        uint8_t *src = malloc(len);
        gen(src, len, (uint64_t)axis + 9);
        CHECK_OK(tersa_array_append(a, src, len, axis));
        int64_t ns[2] = {m.shape[0], m.shape[1]}, start[2] = {0, 0};
        start[axis] = ns[axis];
        ns[axis] += rows;
        model_resize(&m, ns);
        model_set(&m, start, ns, (int64_t[]){1, 1}, src);
        check_equal(a, &m, "append");
        CHECK_ERR(tersa_array_append(a, src, len - 4, axis), TERSA_ERR_PARAM);
        free(src);
    }
    if (a) {
        CHECK_ERR(tersa_array_append(a, m.data, 4, 2), TERSA_ERR_PARAM);
        a = reopen(a, storage, path);
        if (a)
            check_equal(a, &m, "append reopened");
    }
    tersa_array_free(a);
    free(m.data);
    if (storage != TERSA_STORAGE_MEMORY)
        remove_path(path);
}

/* ---- .npy --------------------------------------------------------------------------- */

static void test_npy(void)
{
    char path[256], npy[300];
    int64_t shape[3] = {6, 7, 5};
    int32_t cs[3] = {4, 3, 5}, bs[3] = {2, 2, 2};
    size_t n = 6 * 7 * 5 * 4;
    uint8_t *src = malloc(n);
    gen(src, n, 11);
    tmp_path(path, sizeof path, "npy", TERSA_STORAGE_MEMORY);
    snprintf(npy, sizeof npy, "%s.npy", path);
    tersa_nd_params p = base_params(3, shape, cs, bs, 4, TERSA_STORAGE_MEMORY, NULL);
    tersa_array *a = tersa_array_from_buffer(&p, src, n);
    CHECK(a != NULL);
    if (a)
        CHECK_OK(tersa_array_save_npy(a, npy));
    size_t flen = 0;
    uint8_t *file = th_read_file(npy, &flen);
    CHECK(file != NULL);
    if (file) {
        static const char hdr[] = "{'descr': '<i4', 'fortran_order': False, 'shape': (6, 7, 5), }";
        CHECK_EQ(flen, 128 + n);
        CHECK_MEM(file, "\x93NUMPY\x01\x00\x76\x00", 10);
        CHECK_MEM(file + 10, hdr, sizeof hdr - 1);
        CHECK_EQ(file[127], '\n');
        CHECK_MEM(file + 128, src, n);
    }
    /* import with other chunks; 1-D and 0-D shapes */
    int32_t cs2[3] = {5, 7, 2};
    tersa_nd_params q = base_params(3, NULL, cs2, NULL, 0, TERSA_STORAGE_MEMORY, NULL);
    tersa_array *b = tersa_array_load_npy(npy, &q);
    CHECK(b != NULL);
    if (b) {
        model m = {3, {6, 7, 5}, 4, src};
        check_equal(b, &m, "load_npy");
        tersa_array_info info;
        info.struct_size = sizeof info;
        CHECK_OK(tersa_array_get_info(b, &info));
        CHECK_STR(info.dtype, "<i4");
        CHECK_EQ(info.chunkshape[1], 7);
    }
    tersa_array_free(b);
    tersa_array_free(a);
    /* bad files */
    if (file) {
        FILE *f = fopen(npy, "wb");
        memcpy(file + 10 + 34, "True ", 5); /* fortran_order */
        fwrite(file, 1, flen, f);
        fclose(f);
        CHECK(tersa_array_load_npy(npy, &q) == NULL);
        CHECK_EQ(strstr(tersa_error_detail(), "Fortran") != NULL, 1);
        memcpy(file + 10 + 34, "False", 5);
        f = fopen(npy, "wb");
        fwrite(file, 1, flen - 1, f); /* one byte short */
        fclose(f);
        CHECK(tersa_array_load_npy(npy, &q) == NULL);
        f = fopen(npy, "wb");
        fwrite(file, 1, 60, f); /* header cut */
        fclose(f);
        CHECK(tersa_array_load_npy(npy, &q) == NULL);
        memcpy(file + 10 + 11, "<O8", 3); /* objects */
        f = fopen(npy, "wb");
        fwrite(file, 1, flen, f);
        fclose(f);
        CHECK(tersa_array_load_npy(npy, &q) == NULL);
    }
    CHECK(tersa_array_load_npy("/nonexistent/x.npy", &q) == NULL);
    free(file);
    free(src);
    remove_path(npy);
}

/* A rank-1 and a rank-0 array through .npy. */
static void test_npy_small(void)
{
    char npy[256];
    snprintf(npy, sizeof npy, "test_nd_edit_%d_small.npy", (int)getpid());
    for (int nd = 0; nd <= 1; nd++) {
        int64_t shape[1] = {1000};
        double v[1000];
        for (int i = 0; i < 1000; i++)
            v[i] = i * 0.25;
        tersa_nd_params p = base_params(nd, shape, NULL, NULL, 8, TERSA_STORAGE_MEMORY, NULL);
        p.dtype = "<f8";
        tersa_array *a = tersa_array_from_buffer(&p, v, nd ? sizeof v : 8);
        CHECK(a != NULL);
        if (!a)
            continue;
        CHECK_OK(tersa_array_save_npy(a, npy));
        tersa_nd_params q = base_params(0, NULL, NULL, NULL, 0, TERSA_STORAGE_MEMORY, NULL);
        tersa_array *b = tersa_array_load_npy(npy, &q);
        CHECK(b != NULL);
        if (b) {
            model m = {nd, {1000}, 8, (uint8_t *)v};
            check_equal(b, &m, "npy small");
        }
        size_t flen = 0;
        uint8_t *file = th_read_file(npy, &flen);
        if (file)
            CHECK(strstr((char *)file + 10, nd ? "(1000,)" : "()") != NULL);
        free(file);
        tersa_array_free(a);
        tersa_array_free(b);
    }
    remove_path(npy);
}

/* Random changes to a .npy header: loading fails cleanly or gives a consistent array. */
static void test_npy_mutations(void)
{
    char npy[300];
    int64_t shape[2] = {20, 30};
    uint8_t src[20 * 30 * 2];
    gen(src, sizeof src, 3);
    snprintf(npy, sizeof npy, "test_nd_edit_%d_mut.npy", (int)getpid());
    tersa_nd_params p = base_params(2, shape, NULL, NULL, 2, TERSA_STORAGE_MEMORY, NULL);
    p.dtype = "<u2";
    tersa_array *a = tersa_array_from_buffer(&p, src, sizeof src);
    CHECK(a != NULL);
    if (a)
        CHECK_OK(tersa_array_save_npy(a, npy));
    tersa_array_free(a);
    size_t flen = 0;
    uint8_t *file = th_read_file(npy, &flen), *m = malloc(flen + 1);
    uint64_t rng = 99;
    tersa_nd_params q = base_params(0, NULL, NULL, NULL, 0, TERSA_STORAGE_MEMORY, NULL);
    for (int k = 0; file && k < 300; k++) {
        memcpy(m, file, flen);
        m[th_rand(&rng) % 128] = (uint8_t)th_rand(&rng);
        FILE *f = fopen(npy, "wb");
        fwrite(m, 1, flen, f);
        fclose(f);
        tersa_array *b = tersa_array_load_npy(npy, &q);
        if (b)
            CHECK(tersa_array_nitems(b) * tersa_array_itemsize(b) <= (int64_t)flen);
        tersa_array_free(b);
    }
    free(file);
    free(m);
    remove_path(npy);
}

/* Writing into an array C-Blosc2 wrote: the new chunks keep its layout and block size. */
static void test_write_fixture(void)
{
    size_t len = 0;
    uint8_t *file = th_read_file(TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd", &len);
    CHECK(file != NULL);
    if (!file)
        return;
    tersa_array *a = tersa_array_open_buffer(file, len, 0); /* memory: writable */
    CHECK(a != NULL);
    if (a) {
        model m = {2, {100, 120}, 4, malloc(100 * 120 * 4)};
        CHECK_EQ(tersa_array_to_buffer(a, m.data, 100 * 120 * 4), 100 * 120 * 4);
        uint8_t src[60 * 70 * 4];
        gen(src, sizeof src, 8);
        int64_t start[2] = {33, 41}, stop[2] = {93, 111}, step[2] = {1, 1};
        CHECK_EQ(tersa_array_set_slice(a, start, stop, step, src, sizeof src), 9);
        model_set(&m, start, stop, step, src);
        check_equal(a, &m, "fixture after set_slice");
        tersa_schunk *sc = tersa_array_schunk(a);
        for (int64_t n = 0; n < tersa_schunk_nchunks(sc); n++) {
            uint8_t head[32];
            tersa_chunk_info ci;
            ci.struct_size = sizeof ci;
            CHECK_EQ(tersa_schunk_get_chunk(sc, n, NULL, 0) >= 32, 1);
            uint8_t *c = malloc(20000);
            int64_t cl = tersa_schunk_get_chunk(sc, n, c, 20000);
            memcpy(head, c, 32);
            CHECK_OK(tersa_chunk_inspect(head, 32, &ci));
            CHECK_EQ(ci.blocksize, 15 * 20 * 4);
            CHECK_EQ(ci.typesize, 4);
            CHECK_EQ(ci.filters[5], TERSA_FILTER_BITSHUFFLE);
            CHECK(cl > 0);
            free(c);
        }
        free(m.data);
    }
    tersa_array_free(a);
    free(file);
}

int main(void)
{
    test_npy_mutations();
    test_write_fixture();
    for (int s = 0; s < 3; s++)
        test_set_slice(s);
    test_readonly();
    for (int s = 0; s < 3; s++)
        test_resize(s);
    test_npy();
    test_npy_small();
    return th_report("nd_edit");
}

/* Inserting and deleting along an axis (tersa_array_insert / tersa_array_delete) against a
 * model C-order buffer: chunk-aligned positions (whole chunks inserted or deleted, nothing
 * else read or written: checked with the array stats), appends and end deletes, unaligned
 * positions (items moved), in memory, file and sparse storage with reopening; errors. */
#include <stdbool.h>
#include <unistd.h>

#include "harness.h"
#include "tersa/tersa.h"
#include "th_nd.h"

static const char *kind_name[] = {"memory", "file", "sparse"};

static void remove_path(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

/* The model: a C-order int32 array of up to 3 axes. */
typedef struct model {
    int nd;
    int64_t shape[3];
    int32_t *v;
} model;

static int64_t items(const model *m)
{
    int64_t n = 1;
    for (int i = 0; i < m->nd; i++)
        n *= m->shape[i];
    return n;
}

/* outer = product of axes before axis, inner = product after (items). */
static void split_at(const model *m, int axis, int64_t *outer, int64_t *inner)
{
    *outer = *inner = 1;
    for (int i = 0; i < m->nd; i++) {
        if (i < axis)
            *outer *= m->shape[i];
        if (i > axis)
            *inner *= m->shape[i];
    }
}

/* Insert n rows (src: C order, the model's shape with axis = n) before start. */
static void model_insert(model *m, int axis, int64_t start, int64_t n, const int32_t *src)
{
    int64_t outer, inner, old = m->shape[axis];
    split_at(m, axis, &outer, &inner);
    int32_t *v = malloc((size_t)(outer * (old + n) * inner) * 4 + 4);
    for (int64_t o = 0; o < outer; o++) {
        int32_t *d = v + o * (old + n) * inner;
        const int32_t *s = m->v + o * old * inner;
        memcpy(d, s, (size_t)(start * inner) * 4);
        memcpy(d + start * inner, src + o * n * inner, (size_t)(n * inner) * 4);
        memcpy(d + (start + n) * inner, s + start * inner, (size_t)((old - start) * inner) * 4);
    }
    free(m->v);
    m->v = v;
    m->shape[axis] = old + n;
}

static void model_delete(model *m, int axis, int64_t start, int64_t len)
{
    int64_t outer, inner, old = m->shape[axis];
    split_at(m, axis, &outer, &inner);
    int32_t *v = malloc((size_t)(outer * (old - len) * inner) * 4 + 4);
    for (int64_t o = 0; o < outer; o++) {
        int32_t *d = v + o * (old - len) * inner;
        const int32_t *s = m->v + o * old * inner;
        memcpy(d, s, (size_t)(start * inner) * 4);
        memcpy(d + start * inner, s + (start + len) * inner,
               (size_t)((old - start - len) * inner) * 4);
    }
    free(m->v);
    m->v = v;
    m->shape[axis] = old - len;
}

static void check_equal(tersa_array *a, const model *m, const char *what)
{
    int64_t shape[3], n = items(m);
    CHECK_EQ(tersa_array_shape(a, shape), m->nd);
    for (int i = 0; i < m->nd; i++)
        CHECK_EQ(shape[i], m->shape[i]);
    int32_t *got = malloc((size_t)n * 4 + 4);
    CHECK_EQ(tersa_array_to_buffer(a, got, (size_t)n * 4), n * 4);
    th_checks++;
    if (memcmp(got, m->v, (size_t)n * 4) != 0)
        TH_FAIL_AT("%s: the array differs from the model", what);
    free(got);
}

static tersa_array *reopen(tersa_array *a, int storage, const char *path)
{
    if (storage == TERSA_STORAGE_MEMORY)
        return a;
    tersa_array_free(a);
    a = tersa_array_open_file(path, 0, TERSA_OPEN_WRITE);
    CHECK(a != NULL);
    return a;
}

static tersa_array *make(int storage, const char *path, model *m)
{
    static const int32_t cs[3] = {4, 5, 3}, bs[3] = {2, 3, 2};
    tersa_nd_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.ndim = 3;
    p.shape = m->shape;
    p.chunkshape = cs;
    p.blockshape = bs;
    p.itemsize = 4;
    p.dtype = "<i4";
    p.storage = storage;
    p.path = path;
    p.overwrite = 1;
    int64_t n = items(m);
    m->v = malloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++)
        m->v[i] = (int32_t)(i + 1);
    return tersa_array_from_buffer(&p, m->v, (size_t)n * 4);
}

static int32_t counter = 1000000;

static void do_insert(tersa_array *a, model *m, int axis, int64_t start, int64_t n)
{
    int64_t outer, inner;
    split_at(m, axis, &outer, &inner);
    size_t cnt = (size_t)(outer * n * inner);
    int32_t *src = malloc(cnt * 4 + 4);
    for (size_t i = 0; i < cnt; i++)
        src[i] = counter++;
    int rc = tersa_array_insert(a, src, cnt * 4, axis, start);
    CHECK_OK(rc);
    if (rc < 0)
        fprintf(stderr, "  insert axis %d at %lld (+%lld): %s\n", axis, (long long)start,
                (long long)n, tersa_error_detail());
    else
        model_insert(m, axis, start, n, src);
    free(src);
}

static void do_delete(tersa_array *a, model *m, int axis, int64_t start, int64_t len)
{
    int rc = tersa_array_delete(a, axis, start, len);
    CHECK_OK(rc);
    if (rc < 0)
        fprintf(stderr, "  delete axis %d at %lld (-%lld): %s\n", axis, (long long)start,
                (long long)len, tersa_error_detail());
    else
        model_delete(m, axis, start, len);
}

/* Aligned operations touch only the new chunks: no chunk is read. */
static void test_aligned(int storage)
{
    char path[256];
    snprintf(path, sizeof path, "test_nd_axis_%d_al_%s.b2nd", (int)getpid(), kind_name[storage]);
    model m = {3, {10, 11, 7}, NULL};
    tersa_array *a = make(storage, path, &m);
    CHECK(a != NULL);
    if (!a)
        return;
    tersa_nd_stats st;
    st.struct_size = sizeof st;
    tersa_array_reset_stats(a);
    do_insert(a, &m, 0, 4, 8); /* 2 chunk rows of 2 x 3 chunks */
    CHECK_OK(tersa_array_stats(a, &st));
    CHECK_EQ(st.chunks_read, 0);
    CHECK_EQ(st.chunks_written, 2 * 3 * 3);
    check_equal(a, &m, "aligned insert axis 0");
    tersa_array_reset_stats(a);
    do_insert(a, &m, 1, 0, 5);
    CHECK_OK(tersa_array_stats(a, &st));
    CHECK_EQ(st.chunks_read, 0);
    a = reopen(a, storage, path);
    if (!a)
        return;
    check_equal(a, &m, "aligned insert axis 1");
    tersa_array_reset_stats(a);
    int64_t nch = tersa_schunk_nchunks(tersa_array_schunk(a));
    do_delete(a, &m, 2, 3, 3);
    CHECK_OK(tersa_array_stats(a, &st));
    CHECK_EQ(st.chunks_read + st.chunks_written, 0);
    CHECK_EQ(tersa_schunk_nchunks(tersa_array_schunk(a)), nch / 3 * 2);
    check_equal(a, &m, "aligned delete axis 2");
    do_delete(a, &m, 0, 0, 12);
    check_equal(a, &m, "aligned delete axis 0");
    do_insert(a, &m, 2, 4, 2);  /* append (start == shape) */
    do_delete(a, &m, 1, 13, 3); /* end delete */
    a = reopen(a, storage, path);
    if (a)
        check_equal(a, &m, "append and end delete");
    tersa_array_free(a);
    free(m.v);
    if (storage != TERSA_STORAGE_MEMORY)
        remove_path(path);
}

/* Random positions and lengths, aligned or not, along every axis. */
static void test_random(int storage)
{
    char path[256];
    snprintf(path, sizeof path, "test_nd_axis_%d_rnd_%s.b2nd", (int)getpid(), kind_name[storage]);
    model m = {3, {9, 12, 8}, NULL};
    tersa_array *a = make(storage, path, &m);
    CHECK(a != NULL);
    uint64_t seed = 1234 + (uint64_t)storage;
    for (int k = 0; a && k < 30; k++) {
        int axis = (int)(th_rand(&seed) % 3);
        int64_t len = m.shape[axis];
        if (k % 2 == 0 || len < 2) {
            int64_t start = (int64_t)(th_rand(&seed) % (uint64_t)(len + 1));
            int64_t n = 1 + (int64_t)(th_rand(&seed) % 6);
            if (len + n <= 20)
                do_insert(a, &m, axis, start, n);
        } else {
            int64_t start = (int64_t)(th_rand(&seed) % (uint64_t)len);
            int64_t n = 1 + (int64_t)(th_rand(&seed) % (uint64_t)(len - start));
            if (n > 5)
                n = 5;
            if (len - n >= 2)
                do_delete(a, &m, axis, start, n);
        }
        check_equal(a, &m, kind_name[storage]);
        if (k % 10 == 9)
            a = reopen(a, storage, path);
    }
    tersa_array_free(a);
    free(m.v);
    if (storage != TERSA_STORAGE_MEMORY)
        remove_path(path);
}

static void test_errors(void)
{
    model m = {3, {6, 5, 4}, NULL};
    tersa_array *a = make(TERSA_STORAGE_MEMORY, NULL, &m);
    int32_t buf[64] = {0};
    CHECK(a != NULL);
    if (a) {
        CHECK_ERR(tersa_array_insert(a, buf, 20 * 4, 3, 0), TERSA_ERR_PARAM);
        CHECK_ERR(tersa_array_insert(a, buf, 20 * 4, -1, 0), TERSA_ERR_PARAM);
        CHECK_ERR(tersa_array_insert(a, buf, 20 * 4, 0, 7), TERSA_ERR_RANGE);
        CHECK_ERR(tersa_array_insert(a, buf, 20 * 4, 0, -1), TERSA_ERR_RANGE);
        CHECK_ERR(tersa_array_insert(a, buf, 21 * 4, 0, 0), TERSA_ERR_PARAM);
        CHECK_ERR(tersa_array_insert(a, NULL, 20 * 4, 0, 0), TERSA_ERR_PARAM);
        CHECK_OK(tersa_array_insert(a, buf, 0, 0, 3));
        CHECK_ERR(tersa_array_delete(a, 0, 3, 4), TERSA_ERR_RANGE);
        CHECK_ERR(tersa_array_delete(a, 0, -1, 1), TERSA_ERR_RANGE);
        CHECK_ERR(tersa_array_delete(a, 0, 1, -1), TERSA_ERR_RANGE);
        CHECK_ERR(tersa_array_delete(a, 3, 0, 1), TERSA_ERR_PARAM);
        CHECK_ERR(tersa_array_delete(NULL, 0, 0, 1), TERSA_ERR_PARAM);
        CHECK_OK(tersa_array_delete(a, 0, 6, 0));
        check_equal(a, &m, "unchanged after errors");
        do_delete(a, &m, 0, 0, 6); /* everything */
        check_equal(a, &m, "emptied");
        do_insert(a, &m, 0, 0, 3);
        check_equal(a, &m, "refilled");
    }
    tersa_array_free(a);
    free(m.v);
    /* a read-only array */
    char path[256];
    snprintf(path, sizeof path, "test_nd_axis_%d_ro.b2nd", (int)getpid());
    m = (model){3, {6, 5, 4}, NULL};
    tersa_array_free(make(TERSA_STORAGE_FILE, path, &m));
    free(m.v);
    a = tersa_array_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK(a != NULL);
    if (a) {
        CHECK_ERR(tersa_array_insert(a, buf, 20 * 4, 0, 0), TERSA_ERR_STATE);
        CHECK_ERR(tersa_array_delete(a, 0, 0, 1), TERSA_ERR_STATE);
    }
    tersa_array_free(a);
    remove_path(path);
}

int main(void)
{
    for (int s = 0; s < 3; s++) {
        test_aligned(s);
        test_random(s);
    }
    test_errors();
    return th_report("nd_axis");
}

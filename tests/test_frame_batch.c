/* Batches of changes (tersa_schunk_set_autocommit(s, 0) + tersa_schunk_commit):
 * - file frames end up byte for byte as if every append had been committed, with O(n) bytes
 *   written instead of the O(n^2) of rewriting the index at every append (counted through the
 *   I/O hook); sparse frames gather to the same frame;
 * - until the commit, another reader (and the file after a crash: test_frame_crash) sees the
 *   last commit, while the schunk itself sees every change;
 * - frame_len/to_buffer commit first, free commits, turning autocommit on commits, memory
 *   frames ignore the setting, a failed change makes commit refuse (TERSA_ERR_STATE) and
 *   leaves the last commit on disk; NULL arguments. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"
#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_frame.h"

#define NAPP 2000
#define CHUNK 4096

static char dir[128];

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') {
                snprintf(p, sizeof p, "%s/%s", path, e->d_name);
                unlink(p);
            }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Chunk i's data: compressible, different for every i. */
static void gen(uint8_t *p, int i)
{
    for (int k = 0; k < CHUNK; k++) p[k] = (uint8_t)((k / 16) * (i + 1) + (k % 7 == 0 ? i : 0));
}

static tersa_schunk *create(int storage, const char *path)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_TYPESIZE, 4);
    tersa_cctx_set(c, TERSA_P_CODEC, TERSA_CODEC_LZ4);
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = storage, .path = path,
                             .overwrite = 1, .cparams = c};
    if (path) rm_rf(path);
    tersa_schunk *s = tersa_schunk_create(&p);
    tersa_cctx_free(c);
    CHECK(s != NULL);
    return s;
}

static int64_t count_bytes(void *ctx, int op, int64_t pos, int64_t len)
{
    (void)pos;
    if (op == TF_IO_WRITE) *(int64_t *)ctx += len;
    return 0;
}

static void append_range(tersa_schunk *s, int from, int to)
{
    uint8_t buf[CHUNK];
    for (int i = from; i < to; i++) {
        gen(buf, i);
        if (tersa_schunk_append_buffer(s, buf, sizeof buf) != i + 1) {
            TH_FAIL_AT("append %d: %s", i, tersa_error_detail());
            return;
        }
    }
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(*n ? *n : 1);
    if (p && fread(p, 1, *n, f) != *n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

static void check_chunk(tersa_schunk *s, int i)
{
    uint8_t want[CHUNK], got[CHUNK];
    gen(want, i);
    CHECK_EQ(tersa_schunk_decompress_chunk(s, i, got, sizeof got), CHUNK);
    CHECK_MEM(got, want, CHUNK);
}

/* The frame another reader finds on disk: its number of chunks (-1: does not open). */
static int64_t committed_chunks(const char *path)
{
    tersa_schunk *r = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    int64_t n = r ? tersa_schunk_nchunks(r) : -1;
    if (r && n > 0) check_chunk(r, (int)n - 1);
    tersa_schunk_free(r);
    return n;
}

/* One file frame appended chunk by chunk (autocommit) and one in a batch committed at 700,
 * 1500 and the end: identical files, far fewer bytes written, readers see commits only. */
static void test_file_identical(void)
{
    char a[256], b[256];
    path_of(a, sizeof a, "auto.b2frame");
    path_of(b, sizeof b, "batch.b2frame");
    int64_t wrote_a = 0, wrote_b = 0;
    tersa_schunk *sa = create(TERSA_STORAGE_FILE, a), *sb = create(TERSA_STORAGE_FILE, b);
    if (!sa || !sb) return;
    tersa__schunk_set_io_hook(sa, count_bytes, &wrote_a);
    tersa__schunk_set_io_hook(sb, count_bytes, &wrote_b);
    append_range(sa, 0, NAPP);
    CHECK_OK(tersa_schunk_set_autocommit(sb, 0));
    append_range(sb, 0, 700);
    CHECK_EQ(committed_chunks(b), 0);
    CHECK_OK(tersa_schunk_commit(sb));
    CHECK_EQ(committed_chunks(b), 700);
    append_range(sb, 700, 1500);
    CHECK_EQ(committed_chunks(b), 700); /* the batch is invisible on disk ... */
    CHECK_EQ(tersa_schunk_nchunks(sb), 1500); /* ... but not to the schunk */
    check_chunk(sb, 1499);
    check_chunk(sb, 3);
    CHECK_OK(tersa_schunk_commit(sb));
    CHECK_OK(tersa_schunk_commit(sb)); /* nothing pending: no-op */
    append_range(sb, 1500, NAPP);
    CHECK_OK(tersa_schunk_commit(sb));
    CHECK_EQ(committed_chunks(b), NAPP);
    tersa_schunk_free(sa);
    tersa_schunk_free(sb);
    size_t na = 0, nb = 0;
    uint8_t *fa = read_file(a, &na), *fb = read_file(b, &nb);
    CHECK(fa && fb);
    CHECK_EQ(na, nb);
    if (fa && fb && na == nb) CHECK_MEM(fa, fb, na);
    /* Bytes written beyond the frame itself: index copies, indexes and trailers. */
    int64_t over_a = wrote_a - (int64_t)na, over_b = wrote_b - (int64_t)nb;
    printf("file, %d appends of %d bytes: frame %zu bytes; written beyond it: %lld bytes when "
           "committing every append, %lld in 3 batches\n", NAPP, CHUNK, na, (long long)over_a,
           (long long)over_b);
    CHECK(over_b >= 0 && over_b < (int64_t)nb / 20); /* O(n): a few index copies */
    CHECK(over_a > 20 * over_b); /* O(n^2): the whole index after every append */
    free(fa);
    free(fb);
}

/* Sparse frames: the index is renamed in at the commit; both gather to the same frame. */
static void test_sparse(void)
{
    char a[256], b[256];
    path_of(a, sizeof a, "auto.sparse");
    path_of(b, sizeof b, "batch.sparse");
    tersa_schunk *sa = create(TERSA_STORAGE_SPARSE, a), *sb = create(TERSA_STORAGE_SPARSE, b);
    if (!sa || !sb) return;
    append_range(sa, 0, 300);
    CHECK_OK(tersa_schunk_set_autocommit(sb, 0));
    append_range(sb, 0, 200);
    CHECK_EQ(committed_chunks(b), 0);
    CHECK_OK(tersa_schunk_commit(sb));
    append_range(sb, 200, 300);
    CHECK_EQ(committed_chunks(b), 200);
    CHECK_OK(tersa_schunk_set_autocommit(sb, 1)); /* commits */
    CHECK_EQ(committed_chunks(b), 300);
    int64_t la = tersa_schunk_frame_len(sa), lb = tersa_schunk_frame_len(sb);
    CHECK(la > 0);
    CHECK_EQ(la, lb);
    uint8_t *fa = malloc((size_t)la), *fb = malloc((size_t)la);
    CHECK_EQ(tersa_schunk_to_buffer(sa, fa, (size_t)la), la);
    CHECK_EQ(tersa_schunk_to_buffer(sb, fb, (size_t)la), la);
    CHECK_MEM(fa, fb, (size_t)la);
    free(fa);
    free(fb);
    tersa_schunk_free(sa);
    tersa_schunk_free(sb);
}

/* frame_len and to_buffer, free, compact: each commits what is pending. */
static void test_implicit_commits(void)
{
    char p[256];
    path_of(p, sizeof p, "implicit.b2frame");
    tersa_schunk *s = create(TERSA_STORAGE_FILE, p);
    if (!s) return;
    CHECK_OK(tersa_schunk_set_autocommit(s, 0));
    append_range(s, 0, 3);
    CHECK_EQ(committed_chunks(p), 0);
    int64_t n = tersa_schunk_frame_len(s);
    CHECK(n > 0);
    CHECK_EQ(committed_chunks(p), 3);
    append_range(s, 3, 5);
    uint8_t *buf = malloc((size_t)n * 2);
    int64_t got = tersa_schunk_to_buffer(s, buf, (size_t)n * 2);
    CHECK(got > n);
    CHECK_EQ(committed_chunks(p), 5);
    tersa_schunk *m = tersa_schunk_open_buffer(buf, (size_t)got, 0);
    CHECK_EQ(m ? tersa_schunk_nchunks(m) : -1, 5);
    tersa_schunk_free(m);
    free(buf);
    append_range(s, 5, 8);
    CHECK_OK(tersa_schunk_compact(s));
    CHECK_EQ(committed_chunks(p), 8);
    append_range(s, 8, 11);
    tersa_schunk_free(s); /* commits */
    CHECK_EQ(committed_chunks(p), 11);
    s = tersa_schunk_open_file(p, 0, TERSA_OPEN_WRITE);
    for (int i = 0; s && i < 11; i++) check_chunk(s, i);
    tersa_schunk_free(s);
}

static int64_t fail_writes(void *ctx, int op, int64_t pos, int64_t len)
{
    (void)pos;
    (void)len;
    return op == TF_IO_WRITE && --*(int *)ctx < 0 ? -1 : 0;
}

/* A change that fails inside a batch: nothing pending reaches the disk. */
static void test_failure(void)
{
    char p[256];
    path_of(p, sizeof p, "fail.b2frame");
    tersa_schunk *s = create(TERSA_STORAGE_FILE, p);
    if (!s) return;
    append_range(s, 0, 4);
    CHECK_OK(tersa_schunk_set_autocommit(s, 0));
    append_range(s, 4, 9);
    int left = 0;
    tersa__schunk_set_io_hook(s, fail_writes, &left);
    uint8_t buf[CHUNK];
    gen(buf, 9);
    CHECK(tersa_schunk_append_buffer(s, buf, sizeof buf) < 0);
    CHECK_ERR(tersa_schunk_commit(s), TERSA_ERR_STATE);
    CHECK_ERR(tersa_schunk_append_buffer(s, buf, sizeof buf), TERSA_ERR_STATE);
    tersa_schunk_free(s); /* does not commit a broken schunk */
    CHECK_EQ(committed_chunks(p), 4);
}

static void test_memory_and_params(void)
{
    tersa_schunk *s = create(TERSA_STORAGE_MEMORY, NULL);
    if (!s) return;
    CHECK_OK(tersa_schunk_set_autocommit(s, 0));
    append_range(s, 0, 10);
    CHECK_EQ(tersa_schunk_nchunks(s), 10);
    check_chunk(s, 9);
    CHECK_OK(tersa_schunk_commit(s));
    CHECK(tersa_schunk_frame_len(s) > 0);
    tersa_schunk_free(s);
    CHECK_ERR(tersa_schunk_commit(NULL), TERSA_ERR_PARAM);
    CHECK_ERR(tersa_schunk_set_autocommit(NULL, 0), TERSA_ERR_PARAM);
}

int main(void)
{
    snprintf(dir, sizeof dir, "test_frame_batch_%d.dir", (int)getpid());
    if (mkdir(dir, 0777) != 0) return 1;
    test_file_identical();
    test_sparse();
    test_implicit_commits();
    test_failure();
    test_memory_and_params();
    const char *names[] = {"auto.b2frame", "batch.b2frame", "auto.sparse", "batch.sparse",
                           "implicit.b2frame", "fail.b2frame"};
    char p[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        path_of(p, sizeof p, names[i]);
        rm_rf(p);
    }
    rmdir(dir);
    return th_report("frame_batch");
}

/* Allocation-failure injection for the frame layer: this program supplies its own tersa__malloc
 * & co., so allocation k fails, for k = 1, 2, ... until a scenario runs without reaching k.
 * Every failure must surface as an error (NULL or a negative code), never a crash or a leak
 * (run under ASan), and the file left behind must open with every chunk readable or be
 * refused. Scenarios: reading, writing (create, append, vlmetalayers, insert, update,
 * delete), splitting and merging (extract, concat, compact). */
#include <stdbool.h>
#include <unistd.h>

#include "common/tersa_internal.h"
#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_frame.h"

static long alloc_count, fail_at;

static bool should_fail(void) { return ++alloc_count == fail_at; }

void *tersa__malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }
void *tersa__calloc(size_t n, size_t s) { return should_fail() ? NULL : calloc(n ? n : 1, s ? s : 1); }
void *tersa__realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }
void tersa__free(void *p) { free(p); }
void *tersa__malloc_aligned(size_t n)
{
    void *p = NULL;
    if (should_fail()) return NULL;
    return posix_memalign(&p, 64, (n + 63) & ~(size_t)63) ? NULL : p;
}
void tersa__free_aligned(void *p) { free(p); }

static uint8_t *fixture;
static size_t fixture_len;
static char dir[128], file[128];

/* Read a fixture frame: open, decode, metalayers, copy to sparse and gather. */
static bool scenario_read(void)
{
    bool ok = false;
    uint8_t *out = NULL, *frame = NULL;
    tersa_schunk *sp = NULL, *s = tersa_schunk_open_buffer(fixture, fixture_len, 0);
    if (!s) return false;
    int64_t n = tersa_schunk_nchunks(s);
    out = malloc(400000);
    for (int64_t i = 0; i < n; i++)
        if (tersa_schunk_decompress_chunk(s, i, out, 400000) < 0) goto done;
    if (tersa_schunk_vlmeta_get(s, "info", out, 400000) < 0) goto done;
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_SPARSE,
                             .path = dir, .overwrite = 1};
    sp = tersa_schunk_copy(s, &p);
    if (!sp) goto done;
    int64_t len = tersa_schunk_frame_len(sp);
    if (len < 0) goto done;
    frame = malloc((size_t)len);
    if (tersa_schunk_to_buffer(sp, frame, (size_t)len) != len) goto done;
    ok = true;
done:
    tersa_schunk_free(sp);
    tersa_schunk_free(s);
    free(out);
    free(frame);
    return ok;
}

/* Write a file frame: create, append, vlmetalayers, insert/update/delete, reopen. */
static bool scenario_write(void)
{
    bool ok = false;
    uint8_t buf[20000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7 / 100);
    const uint8_t meta[3] = {1, 2, 3};
    tersa_metalayer m = {"m", meta, 3};
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_FILE, .path = file,
                             .overwrite = 1, .nmetalayers = 1, .metalayers = &m};
    tersa_schunk *s = tersa_schunk_create(&p);
    if (!s) return false;
    for (int i = 0; i < 4; i++)
        if (tersa_schunk_append_buffer(s, buf, sizeof buf - (i == 3 ? 100 : 0)) < 0) goto done;
    if (tersa_schunk_vlmeta_set(s, "a", "hello", 5, NULL) < 0) goto done;
    if (tersa_schunk_vlmeta_set(s, "a", "hello!", 6, NULL) < 0) goto done;
    int64_t cb = tersa_schunk_get_chunk(s, 0, buf, sizeof buf);
    if (cb < 0) goto done;
    uint8_t *chunk = malloc((size_t)cb);
    memcpy(chunk, buf, (size_t)cb);
    bool edits = tersa_schunk_insert_chunk(s, 1, chunk, (size_t)cb) >= 0 &&
                 tersa_schunk_update_chunk(s, 2, chunk, (size_t)cb) >= 0 &&
                 tersa_schunk_delete_chunk(s, 0) >= 0;
    free(chunk);
    if (!edits) goto done;
    tersa_schunk_free(s);
    s = tersa_schunk_open_file(file, 0, TERSA_OPEN_READONLY);
    if (!s) return false;
    ok = tersa_schunk_nchunks(s) == 4 && tersa_schunk_decompress_chunk(s, 3, buf, sizeof buf) > 0;
done:
    tersa_schunk_free(s);
    return ok;
}

/* Split, merge and compact: extract to a file frame, concatenate into it, compact it. */
static bool scenario_split(void)
{
    bool ok = false;
    tersa_schunk *s = tersa_schunk_open_buffer(fixture, fixture_len, 0), *d = NULL;
    if (!s) return false;
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_FILE, .path = file,
                             .overwrite = 1};
    d = tersa_schunk_extract(s, 0, tersa_schunk_nchunks(s) / 2, &p);
    if (!d) goto done;
    if (tersa_schunk_concat(d, s) < 0 || tersa_schunk_delete_chunk(d, 0) < 0) goto done;
    if (tersa_schunk_compact(d) < 0) goto done;
    ok = tersa_schunk_nchunks(d) == tersa_schunk_nchunks(s) + tersa_schunk_nchunks(s) / 2 - 1;
done:
    tersa_schunk_free(d);
    tersa_schunk_free(s);
    return ok;
}

/* After a failure, a frame file left behind opens with every chunk readable, or is refused. */
static void check_left_behind(void)
{
    long saved = fail_at;
    fail_at = 0;
    tersa_schunk *s = tersa_schunk_open_file(file, 0, TERSA_OPEN_READONLY);
    uint8_t *out = malloc(1 << 20);
    for (int64_t i = 0; s && i < tersa_schunk_nchunks(s); i++)
        CHECK(tersa_schunk_decompress_chunk(s, i, out, 1 << 20) > 0);
    free(out);
    tersa_schunk_free(s);
    fail_at = saved;
}

static void run(const char *name, bool (*scenario)(void))
{
    long k;
    for (k = 1; k < 100000; k++) {
        alloc_count = 0;
        fail_at = k;
        unlink(file);
        bool ok = scenario();
        if (alloc_count < k) { /* nothing failed: the scenario must have succeeded */
            CHECK(ok);
            break;
        }
        if (!ok) check_left_behind();
    }
    fail_at = 0;
    printf("%s: %ld allocation points\n", name, k - 1);
    CHECK(k > 5 && k < 100000);
}

int main(void)
{
    fixture = th_read_file(TERSA_FIXTURES "/official-b2/schunk_f64_zstd.b2frame", &fixture_len);
    CHECK(fixture != NULL);
    if (!fixture) return th_report("frame_alloc");
    snprintf(dir, sizeof dir, "test_frame_alloc_%d.sparse", (int)getpid());
    snprintf(file, sizeof file, "test_frame_alloc_%d.b2frame", (int)getpid());
    run("read", scenario_read);
    run("write", scenario_write);
    run("split", scenario_split);
    free(fixture);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, file);
    CHECK_EQ(system(cmd), 0);
    return th_report("frame_alloc");
}

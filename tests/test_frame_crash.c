/* Crash safety of file and sparse frames (doc/frames.md, "Crash safety").
 *
 * A. Every stopping point: each kind of change (append, insert, update, delete, vlmetalayer
 *    and metalayer changes, concatenation, compaction, a batch of appends, changes of empty
 *    frames) is run again and again on a copy of a base frame, with the I/O hook stopping it
 *    at its 1st, 2nd, ... write-side system call, before the call or halfway through a write;
 *    also appends, deletes, vlmetalayer and chunk updates of frames C-Blosc2 wrote.
 *    The frame must then reopen holding exactly the state before the change or after it, and
 *    the stopped schunk must refuse further changes.
 * B. Real kills: a child process opens a file frame and changes it in a loop (appends,
 *    updates, deletes, inserts, metalayer and vlmetalayer updates, compactions), reporting
 *    each change through a pipe before starting it and once it returned. The parent SIGKILLs
 *    it after a random delay, reopens the frame and checks that it holds every acknowledged
 *    change, and the one under way either fully or not at all; 200 kills on a file frame,
 *    40 on a sparse frame, 10 with durable writes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"
#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_frame.h"

#define CS 16000 /* nbytes of a regular chunk */

static char dir[128];

/* Remove a file, or a folder of files (sparse frames have no subfolders). */
static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[600];
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        rm_rf(p);
    }
    if (d) closedir(d);
    if (d ? rmdir(path) != 0 : unlink(path) != 0 && errno != ENOENT)
        fprintf(stderr, "cannot remove %s\n", path);
}

static void copy_file(const char *from, const char *to)
{
    size_t len = 0;
    uint8_t *b = th_read_file(from, &len);
    FILE *f = fopen(to, "wb");
    if (!b || !f || fwrite(b, 1, len, f) != len) fprintf(stderr, "cannot copy %s\n", from);
    if (f) fclose(f);
    free(b);
}

/* Copy a file frame, or a sparse frame's folder. */
static void copy_tree(const char *from, const char *to)
{
    rm_rf(to);
    DIR *d = opendir(from);
    if (!d) {
        copy_file(from, to);
        return;
    }
    struct dirent *e;
    if (mkdir(to, 0777) != 0) fprintf(stderr, "cannot create %s\n", to);
    while ((e = readdir(d)) != NULL) {
        char a[600], b[600];
        if (e->d_name[0] == '.') continue;
        snprintf(a, sizeof a, "%s/%s", from, e->d_name);
        snprintf(b, sizeof b, "%s/%s", to, e->d_name);
        copy_file(a, b);
    }
    closedir(d);
}

/* ---- Content: everything a frame holds, from seeds --------------------------------------- */

static void gen(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
    int32_t v = (int32_t)seed;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        v += (int32_t)(th_rand(&s) % 9) - 4;
        memcpy(p + i, &v, 4);
    }
    for (size_t i = n & ~(size_t)3; i < n; i++) p[i] = (uint8_t)th_rand(&s);
}

static tersa_cctx *make_cctx(void)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_TYPESIZE, 4);
    tersa_cctx_set(c, TERSA_P_CODEC, TERSA_CODEC_LZ4);
    tersa_cctx_set(c, TERSA_P_CLEVEL, 5);
    return c;
}

/* A compressed chunk: kind 0 data from seed, kind 1 special zeros. */
static uint8_t *make_chunk(tersa_cctx *c, int kind, int32_t nbytes, uint64_t seed, size_t *len)
{
    size_t cap = tersa_compress_bound((size_t)nbytes);
    uint8_t *dst = malloc(cap), *src = malloc((size_t)nbytes);
    int64_t r = kind ? tersa_chunk_make_special(TERSA_SPECIAL_ZEROS, 4, nbytes, NULL, dst, cap)
                     : (gen(src, (size_t)nbytes, seed), tersa_compress(c, src, (size_t)nbytes, dst, cap));
    free(src);
    *len = r > 0 ? (size_t)r : 0;
    return dst;
}

/* FNV-1a over everything a reader sees. */
typedef struct hasher {
    uint64_t h;
} hasher;

static void hmix(hasher *x, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) x->h = (x->h ^ b[i]) * 1099511628211ull;
}

static void hmix64(hasher *x, int64_t v) { hmix(x, &v, sizeof v); }

/* The state of a frame as a digest (0 when it cannot be read completely). */
static uint64_t digest_schunk(tersa_schunk *s)
{
    hasher x = {14695981039346656037ull};
    int64_t n = tersa_schunk_nchunks(s);
    hmix64(&x, n);
    for (int64_t i = 0; i < n; i++) {
        int32_t nb = 0;
        if (tersa_schunk_chunk_sizes(s, i, &nb, NULL) < 0) return 0;
        uint8_t *out = malloc((size_t)nb + 1);
        int64_t got = tersa_schunk_decompress_chunk(s, i, out, (size_t)nb);
        if (got == nb) {
            hmix64(&x, nb);
            hmix(&x, out, (size_t)nb);
        }
        free(out);
        if (got != nb) return 0;
    }
    for (int i = 0; i < tersa_schunk_meta_count(s); i++) {
        const uint8_t *c = NULL;
        size_t len = 0;
        const char *name = tersa_schunk_meta_name(s, i);
        tersa_schunk_meta_get(s, name, &c, &len);
        hmix(&x, name, strlen(name) + 1);
        hmix(&x, c, len);
    }
    for (int i = 0; i < tersa_schunk_vlmeta_count(s); i++) {
        const char *name = tersa_schunk_vlmeta_name(s, i);
        int64_t len = tersa_schunk_vlmeta_get(s, name, NULL, 0);
        if (len < 0) return 0;
        uint8_t *v = malloc((size_t)len + 1);
        int64_t got = tersa_schunk_vlmeta_get(s, name, v, (size_t)len);
        hmix(&x, name, strlen(name) + 1);
        hmix(&x, v, (size_t)len);
        free(v);
        if (got != len) return 0;
    }
    return x.h | 1;
}

/* Open read-only, check the frame serialises and reopens from memory, return its digest. */
static uint64_t digest_path(const char *path)
{
    tersa_schunk *s = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    if (!s) {
        fprintf(stderr, "  %s does not open: %s\n", path, tersa_error_detail());
        return 0;
    }
    uint64_t d = digest_schunk(s);
    int64_t len = tersa_schunk_frame_len(s);
    uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
    tersa_schunk *m = tersa_schunk_to_buffer(s, buf, (size_t)len) == len
                          ? tersa_schunk_open_buffer(buf, (size_t)len, 0) : NULL;
    if (!m || digest_schunk(m) != d) {
        fprintf(stderr, "  %s: the frame does not reopen from memory: %s\n", path,
                tersa_error_detail());
        d = 0;
    }
    tersa_schunk_free(m);
    free(buf);
    tersa_schunk_free(s);
    return d;
}

/* ---- A. Stopping at every write -------------------------------------------------------- */

typedef struct stop_ctx {
    long count, stop_at;
    bool partial;
} stop_ctx;

/* Writes at position 0 are the commit point (the header, at most 4 KiB inside the first page:
 * a killed process completes such a write or never starts it) and are never torn here. */
static int64_t stop_hook(void *ctx, int op, int64_t pos, int64_t len)
{
    stop_ctx *c = ctx;
    if (++c->count != c->stop_at) return 0;
    return c->partial && op == TF_IO_WRITE && pos > 0 && len > 1 ? len / 2 : -1;
}

typedef int64_t (*change_fn)(tersa_schunk *s);

static tersa_cctx *g_cctx;

static int64_t append_one(tersa_schunk *s, int kind, int32_t nbytes, uint64_t seed)
{
    size_t len = 0;
    uint8_t *c = make_chunk(g_cctx, kind, nbytes, seed, &len);
    int64_t rc = tersa_schunk_append_chunk(s, c, len);
    free(c);
    return rc;
}

static int64_t ch_append(tersa_schunk *s) { return append_one(s, 0, CS, 101); }
static int64_t ch_append_zero(tersa_schunk *s) { return append_one(s, 1, CS, 0); }
static int64_t ch_append_big(tersa_schunk *s)
{
    uint8_t *buf = malloc(1 << 20);
    gen(buf, 1 << 20, 102);
    int64_t rc = tersa_schunk_append_buffer(s, buf, 1 << 20); /* makes the frame variable */
    free(buf);
    return rc;
}
static int64_t ch_append_short(tersa_schunk *s) { return append_one(s, 0, 999, 103); }
static int64_t ch_insert(tersa_schunk *s)
{
    size_t len = 0;
    uint8_t *c = make_chunk(g_cctx, 0, CS, 104, &len);
    int64_t rc = tersa_schunk_insert_chunk(s, 1, c, len);
    free(c);
    return rc;
}
static int64_t ch_update(tersa_schunk *s)
{
    size_t len = 0;
    uint8_t *c = make_chunk(g_cctx, 0, CS, 105, &len);
    int64_t rc = tersa_schunk_update_chunk(s, 2, c, len);
    free(c);
    return rc;
}
static int64_t ch_update_zero(tersa_schunk *s)
{
    size_t len = 0;
    uint8_t *c = make_chunk(g_cctx, 1, CS, 0, &len);
    int64_t rc = tersa_schunk_update_chunk(s, 0, c, len);
    free(c);
    return rc;
}
static int64_t ch_delete(tersa_schunk *s) { return tersa_schunk_delete_chunk(s, 0); }
static int64_t ch_vlmeta_new(tersa_schunk *s) { return tersa_schunk_vlmeta_set(s, "w", "new value", 9, NULL); }
static int64_t ch_vlmeta_replace(tersa_schunk *s)
{
    char big[3000];
    gen((uint8_t *)big, sizeof big, 106);
    return tersa_schunk_vlmeta_set(s, "v", big, sizeof big, NULL);
}
static int64_t ch_vlmeta_delete(tersa_schunk *s) { return tersa_schunk_vlmeta_delete(s, "v"); }
static int64_t ch_meta(tersa_schunk *s) { return tersa_schunk_meta_update(s, "m", "ABCDEFGH", 8); }
static int64_t ch_concat(tersa_schunk *s)
{
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_MEMORY,
                             .cparams = g_cctx};
    tersa_schunk *src = tersa_schunk_create(&p);
    for (int i = 0; i < 3; i++) append_one(src, i == 1, CS, 107 + (uint64_t)i);
    int64_t rc = tersa_schunk_concat(s, src);
    tersa_schunk_free(src);
    return rc;
}
static int64_t ch_compact(tersa_schunk *s) { return tersa_schunk_compact(s); }
/* A copy of the frame's own chunk 0 (whatever its parameters), appended / over chunk 1. */
static int64_t fixture_chunk(tersa_schunk *s, int64_t at)
{
    int64_t len = tersa_schunk_get_chunk(s, 0, NULL, 0);
    uint8_t *c = malloc(len > 0 ? (size_t)len : 1);
    int64_t rc = tersa_schunk_get_chunk(s, 0, c, (size_t)len);
    if (rc >= 0) rc = at < 0 ? tersa_schunk_append_chunk(s, c, (size_t)len)
                            : tersa_schunk_update_chunk(s, at, c, (size_t)len);
    free(c);
    return rc;
}
static int64_t ch_append_fixture(tersa_schunk *s) { return fixture_chunk(s, -1); }
static int64_t ch_update_fixture(tersa_schunk *s) { return fixture_chunk(s, 1); }
/* The b2nd layer's way: several appends, one commit. */
static int64_t ch_batch(tersa_schunk *s)
{
    int64_t rc = 0;
    for (int i = 0; i < 3 && rc >= 0; i++) {
        size_t len = 0;
        uint8_t *c = make_chunk(g_cctx, 0, CS, 110 + (uint64_t)i, &len);
        rc = tersa__schunk_append(s, c, len, false);
        free(c);
    }
    return rc < 0 ? rc : tersa__schunk_flush(s);
}

/* The public batch: autocommit off, many kinds of change, one commit (or none: free commits). */
static int64_t batch_changes(tersa_schunk *s)
{
    int64_t rc = tersa_schunk_set_autocommit(s, 0);
    for (int i = 0; i < 4 && rc >= 0; i++) rc = append_one(s, i == 2, CS, 120 + (uint64_t)i);
    if (rc >= 0) rc = ch_update(s);
    if (rc >= 0) rc = ch_insert(s);
    if (rc >= 0) rc = ch_delete(s);
    if (rc >= 0) rc = ch_vlmeta_new(s);
    if (rc >= 0) rc = ch_meta(s);
    return rc;
}
static int64_t ch_public_batch(tersa_schunk *s)
{
    int64_t rc = batch_changes(s);
    return rc < 0 ? rc : tersa_schunk_commit(s);
}
static int64_t ch_batch_free_commits(tersa_schunk *s) { return batch_changes(s); }
static int64_t ch_batch_then_autocommit(tersa_schunk *s)
{
    int64_t rc = batch_changes(s);
    return rc < 0 ? rc : tersa_schunk_set_autocommit(s, 1);
}

/* Base frames: "main" has 6 chunks (one special), a metalayer, a vlmetalayer and unused bytes
 * from an update; "one" has one chunk; "empty" none. */
static void make_base(const char *path, int storage, int nchunks)
{
    tersa_metalayer m = {"m", "abcdefgh", 8};
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = storage, .path = path,
                             .overwrite = 1, .cparams = g_cctx, .nmetalayers = 1, .metalayers = &m};
    rm_rf(path);
    tersa_schunk *s = tersa_schunk_create(&p);
    CHECK(s != NULL);
    for (int i = 0; s && i < nchunks; i++) CHECK_OK(append_one(s, i == 3, CS, (uint64_t)i + 1));
    if (s && nchunks > 2) {
        size_t len = 0;
        uint8_t *c = make_chunk(g_cctx, 0, CS, 50, &len);
        CHECK_OK(tersa_schunk_update_chunk(s, 1, c, len));
        free(c);
        CHECK_OK(tersa_schunk_vlmeta_set(s, "v", "value", 5, NULL));
    }
    tersa_schunk_free(s);
}

static long g_stops;

/* Run change on copies of base, stopped at each write-side call in turn. */
static void stop_everywhere(const char *name, const char *base, change_fn change, bool durable)
{
    char work[256], after_path[256];
    snprintf(work, sizeof work, "%s/work", dir);
    snprintf(after_path, sizeof after_path, "%s/after", dir);
    uint64_t before = digest_path(base);
    copy_tree(base, after_path);
    tersa_schunk *s = tersa_schunk_open_file(after_path, 0, TERSA_OPEN_WRITE);
    CHECK(s != NULL);
    CHECK_OK(s ? change(s) : -1);
    tersa_schunk_free(s);
    uint64_t after = digest_path(after_path);
    CHECK(before != 0 && after != 0);
    for (int partial = 0; partial < 2; partial++) {
        for (long k = 1; k < 1000; k++) {
            stop_ctx c = {0, k, partial != 0};
            copy_tree(base, work);
            s = tersa_schunk_open_file(work, 0, TERSA_OPEN_WRITE);
            if (!s) break;
            tersa_schunk_set_durable(s, durable);
            tersa__schunk_set_io_hook(s, stop_hook, &c);
            int64_t rc = change(s);
            if (rc < 0 && change != ch_compact) /* a failed compaction leaves the frame as it was */
                CHECK_ERR(tersa_schunk_vlmeta_set(s, "z", "1", 1, NULL), TERSA_ERR_STATE);
            tersa_schunk_free(s);
            uint64_t got = digest_path(work);
            th_checks++;
            if (got != before && got != after)
                TH_FAIL_AT("%s: stopped at call %ld (%s): the frame is neither the state before "
                           "nor after", name, k, partial ? "half a write" : "before the call");
            g_stops++;
            if (c.count < k) { /* ran to the end without being stopped */
                CHECK(rc >= 0);
                CHECK_EQ(got, after);
                break;
            }
        }
    }
}

static void test_stop_points(int storage)
{
    static const struct {
        const char *name, *base;
        change_fn fn;
    } cases[] = {
        {"append", "main", ch_append},          {"append special", "main", ch_append_zero},
        {"append 1 MiB", "main", ch_append_big}, {"append short", "main", ch_append_short},
        {"insert", "main", ch_insert},           {"update", "main", ch_update},
        {"update to special", "main", ch_update_zero}, {"delete", "main", ch_delete},
        {"delete last", "one", ch_delete},
        {"vlmeta add", "main", ch_vlmeta_new},   {"vlmeta replace", "main", ch_vlmeta_replace},
        {"vlmeta delete", "main", ch_vlmeta_delete}, {"meta", "main", ch_meta},
        {"concat", "main", ch_concat},           {"compact", "main", ch_compact},
        {"batch", "main", ch_batch},             {"first append", "empty", ch_append},
        {"public batch", "main", ch_public_batch}, {"public batch on empty", "empty",
        ch_public_batch}, {"batch, free commits", "main", ch_batch_free_commits},
        {"batch, autocommit on", "one", ch_batch_then_autocommit},
        {"vlmeta on empty", "empty", ch_vlmeta_new}, {"concat into empty", "empty", ch_concat},
    };
    char base[3][256];
    const char *tags[3] = {"main", "one", "empty"};
    int counts[3] = {6, 1, 0};
    for (int b = 0; b < 3; b++) {
        snprintf(base[b], sizeof base[b], "%s/base-%s", dir, tags[b]);
        make_base(base[b], storage, counts[b]);
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int b = strcmp(cases[i].base, "main") == 0 ? 0 : strcmp(cases[i].base, "one") == 0 ? 1 : 2;
        stop_everywhere(cases[i].name, base[b], cases[i].fn, false);
    }
    if (storage == TERSA_STORAGE_FILE) { /* frames C-Blosc2 wrote */
        char fx[256];
        snprintf(fx, sizeof fx, "%s/base-official", dir);
        copy_tree(TERSA_FIXTURES "/official-b2/schunk_f64_zstd.b2frame", fx);
        stop_everywhere("C-Blosc2 frame: append", fx, ch_append_fixture, false);
        stop_everywhere("C-Blosc2 frame: delete", fx, ch_delete, false);
        stop_everywhere("C-Blosc2 frame: vlmeta", fx, ch_vlmeta_new, false);
        snprintf(fx, sizeof fx, "%s/base-b2nd", dir);
        copy_tree(TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd", fx);
        stop_everywhere("C-Blosc2 b2nd: update", fx, ch_update_fixture, false);
    }
    stop_everywhere("append (durable)", base[0], ch_append, true);
    stop_everywhere("delete (durable)", base[0], ch_delete, true);
    stop_everywhere("delete last (durable)", base[1], ch_delete, true);
    stop_everywhere("compact (durable)", base[0], ch_compact, true);
}

/* ---- B. Killing a writer process -------------------------------------------------------- */

enum { OP_APPEND, OP_APPEND_ZERO, OP_APPEND_ODD, OP_INSERT, OP_UPDATE, OP_DELETE, OP_VLMETA,
       OP_META, OP_COMPACT };

typedef struct oprec {
    int32_t phase; /* 0 begin, 1 done */
    int32_t op, index, nbytes;
    uint64_t seed;
} oprec;

#define MAXN 64
typedef struct model {
    int n;
    int32_t kind[MAXN], nbytes[MAXN];
    uint64_t seed[MAXN];
    uint64_t meta_seed, vl_seed;
} model;

static void meta_bytes(uint64_t seed, uint8_t out[8])
{
    gen(out, 8, seed);
}

static size_t vl_len(uint64_t seed) { return 5 + (size_t)(seed % 300); }

static uint64_t digest_model(const model *m)
{
    hasher x = {14695981039346656037ull};
    hmix64(&x, m->n);
    for (int i = 0; i < m->n; i++) {
        uint8_t *buf = calloc((size_t)m->nbytes[i], 1);
        if (!m->kind[i]) gen(buf, (size_t)m->nbytes[i], m->seed[i]);
        hmix64(&x, m->nbytes[i]);
        hmix(&x, buf, (size_t)m->nbytes[i]);
        free(buf);
    }
    uint8_t meta[8];
    meta_bytes(m->meta_seed, meta);
    hmix(&x, "m", 2);
    hmix(&x, meta, 8);
    if (m->vl_seed) {
        size_t n = vl_len(m->vl_seed);
        uint8_t *v = malloc(n);
        gen(v, n, m->vl_seed);
        hmix(&x, "v", 2);
        hmix(&x, v, n);
        free(v);
    }
    return x.h | 1;
}

static void model_apply(model *m, const oprec *r)
{
    int at = r->index;
    switch (r->op) {
    case OP_APPEND:
    case OP_APPEND_ZERO:
    case OP_APPEND_ODD:
    case OP_INSERT:
        if (r->op != OP_INSERT) at = m->n;
        memmove(&m->kind[at + 1], &m->kind[at], (size_t)(m->n - at) * sizeof m->kind[0]);
        memmove(&m->nbytes[at + 1], &m->nbytes[at], (size_t)(m->n - at) * sizeof m->nbytes[0]);
        memmove(&m->seed[at + 1], &m->seed[at], (size_t)(m->n - at) * sizeof m->seed[0]);
        m->n++;
        /* fall through */
    case OP_UPDATE:
        m->kind[at] = r->op == OP_APPEND_ZERO;
        m->nbytes[at] = r->nbytes;
        m->seed[at] = r->seed;
        break;
    case OP_DELETE:
        memmove(&m->kind[at], &m->kind[at + 1], (size_t)(m->n - at - 1) * sizeof m->kind[0]);
        memmove(&m->nbytes[at], &m->nbytes[at + 1], (size_t)(m->n - at - 1) * sizeof m->nbytes[0]);
        memmove(&m->seed[at], &m->seed[at + 1], (size_t)(m->n - at - 1) * sizeof m->seed[0]);
        m->n--;
        break;
    case OP_VLMETA: m->vl_seed = r->seed; break;
    case OP_META: m->meta_seed = r->seed; break;
    default: break;
    }
}

/* Pick a change for a frame of n chunks. */
static oprec choose(int n, uint64_t *rng)
{
    oprec r = {0, OP_APPEND, 0, CS, th_rand(rng) | 1};
    uint64_t p = th_rand(rng) % 100;
    r.index = n > 0 ? (int)(th_rand(rng) % (uint64_t)n) : 0;
    if (n >= MAXN - 4 || (n > 24 && p < 40)) r.op = OP_DELETE;
    else if (n < 4 || p < 40) r.op = p % 5 == 0 ? OP_APPEND_ZERO : p % 7 == 0 ? OP_APPEND_ODD : OP_APPEND;
    else if (p < 55) r.op = OP_UPDATE;
    else if (p < 70) r.op = OP_DELETE;
    else if (p < 80) r.op = OP_INSERT;
    else if (p < 88) r.op = OP_VLMETA;
    else if (p < 96) r.op = OP_META;
    else r.op = OP_COMPACT;
    if (r.op == OP_APPEND_ODD) r.nbytes = 1 + (int32_t)(th_rand(rng) % CS);
    return r;
}

static int64_t do_op(tersa_schunk *s, const oprec *r)
{
    size_t len = 0;
    uint8_t *c = NULL, meta[8];
    int64_t rc = 0;
    int kind = r->op == OP_APPEND_ZERO;
    if (r->op <= OP_UPDATE) c = make_chunk(g_cctx, kind, r->nbytes, r->seed, &len);
    switch (r->op) {
    case OP_INSERT: rc = tersa_schunk_insert_chunk(s, r->index, c, len); break;
    case OP_UPDATE: rc = tersa_schunk_update_chunk(s, r->index, c, len); break;
    case OP_DELETE: rc = tersa_schunk_delete_chunk(s, r->index); break;
    case OP_VLMETA: {
        size_t n = vl_len(r->seed);
        uint8_t *v = malloc(n);
        gen(v, n, r->seed);
        rc = tersa_schunk_vlmeta_set(s, "v", v, n, NULL);
        free(v);
        break;
    }
    case OP_META:
        meta_bytes(r->seed, meta);
        rc = tersa_schunk_meta_update(s, "m", meta, 8);
        break;
    case OP_COMPACT: rc = tersa_schunk_compact(s); break;
    default: rc = tersa_schunk_append_chunk(s, c, len); break;
    }
    free(c);
    return rc;
}

static void send_rec(int fd, const oprec *r)
{
    ssize_t w = write(fd, r, sizeof *r);
    if (w != (ssize_t)sizeof *r) _exit(12);
}

/* The writer: never returns. */
static void child_loop(const char *path, int fd, uint64_t seed, bool durable)
{
    tersa_schunk *s = tersa_schunk_open_file(path, 0, TERSA_OPEN_WRITE);
    if (!s) {
        fprintf(stderr, "child: %s does not open: %s\n", path, tersa_error_detail());
        _exit(10);
    }
    tersa_schunk_set_durable(s, durable);
    uint64_t rng = seed;
    for (;;) {
        oprec r = choose((int)tersa_schunk_nchunks(s), &rng);
        send_rec(fd, &r);
        if (do_op(s, &r) < 0) {
            fprintf(stderr, "child: op %d failed: %s\n", r.op, tersa_error_detail());
            _exit(11);
        }
        r.phase = 1;
        send_rec(fd, &r);
    }
}

typedef struct kill_stats {
    long rounds, acked, midway, committed;
} kill_stats;

/* One round: fork, wait, kill, replay the pipe into the model, check the frame. */
static bool kill_round(const char *path, model *m, uint64_t *rng, bool durable, kill_stats *st)
{
    int fds[2];
    if (pipe(fds) != 0) return false;
    uint64_t seed = th_rand(rng);
    useconds_t delay = (useconds_t)(th_rand(rng) % (durable ? 300000 : 15000));
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_loop(path, fds[1], seed, durable);
    }
    close(fds[1]);
    usleep(delay);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    oprec r, pending;
    bool open_op = false;
    while (read(fds[0], &r, sizeof r) == (ssize_t)sizeof r) {
        if (r.phase == 0) pending = r, open_op = true;
        else model_apply(m, &r), open_op = false, st->acked++;
    }
    close(fds[0]);
    st->rounds++;
    if (WIFEXITED(status)) {
        TH_FAIL_AT("writer exited by itself with status %d", WEXITSTATUS(status));
        return false;
    }
    uint64_t got = digest_path(path), before = digest_model(m);
    if (got == before) return true;
    if (open_op) {
        model after = *m;
        model_apply(&after, &pending);
        if (got == digest_model(&after)) {
            *m = after;
            st->midway++;
            st->committed++;
            return true;
        }
    }
    TH_FAIL_AT("after a kill the frame holds neither the acknowledged state nor the change under "
               "way (op %d)", open_op ? pending.op : -1);
    return false;
}

static void test_kills(int storage, int rounds, bool durable)
{
    char path[256];
    snprintf(path, sizeof path, "%s/killed-%d-%d", dir, storage, durable);
    tersa_metalayer meta;
    uint8_t mb[8];
    model m;
    memset(&m, 0, sizeof m);
    m.meta_seed = 1;
    meta_bytes(1, mb);
    meta = (tersa_metalayer){"m", mb, 8};
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = storage, .path = path,
                             .overwrite = 1, .cparams = g_cctx, .nmetalayers = 1, .metalayers = &meta};
    rm_rf(path);
    tersa_schunk *s = tersa_schunk_create(&p);
    CHECK(s != NULL);
    tersa_schunk_free(s);
    kill_stats st = {0};
    uint64_t rng = 0x5eed + (uint64_t)storage * 17 + durable;
    for (int i = 0; i < rounds; i++)
        if (!kill_round(path, &m, &rng, durable, &st)) break;
    printf("kills (%s%s): %ld rounds, %ld changes acknowledged, %ld kills during a change "
           "that had committed, %d chunks at the end\n",
           storage == TERSA_STORAGE_FILE ? "file" : "sparse", durable ? ", durable" : "",
           st.rounds, st.acked, st.committed, m.n);
    CHECK(st.acked > rounds); /* the kills did not all land before the first change */
}

int main(void)
{
    snprintf(dir, sizeof dir, "test_frame_crash_%d.dir", (int)getpid());
    rm_rf(dir);
    if (mkdir(dir, 0777) != 0) return 1;
    g_cctx = make_cctx();
    time_t t0 = time(NULL);
    test_stop_points(TERSA_STORAGE_FILE);
    test_stop_points(TERSA_STORAGE_SPARSE);
    printf("stop points: %ld runs stopped at a write, each reopened as before or after\n", g_stops);
    test_kills(TERSA_STORAGE_FILE, 200, false);
    test_kills(TERSA_STORAGE_SPARSE, 40, false);
    test_kills(TERSA_STORAGE_FILE, 10, true);
    printf("time: %lds\n", (long)(time(NULL) - t0));
    tersa_cctx_free(g_cctx);
    if (!th_failures) rm_rf(dir);
    return th_report("frame_crash");
}

/* Mutation test of the chunk decoder: every fixture chunk of blosc-compat/ (MANIFEST.tsv kind
 * "chunk") and a set of chunks tersa writes (every codec and filter, special, memcpyed, empty,
 * dictionary, small and multi-block) are damaged in many ways, and every mutant goes through
 * tersa_chunk_inspect, tersa_chunk_validate, tersa_decompress, tersa_getitem and
 * tersa_decompress_blocks. Each call must return an error or succeed; never crash, hang or touch
 * memory out of bounds (run it under ASan: every buffer is allocated at its exact size).
 * Consistency checks on mutants that decode: decompress succeeds only if validate and inspect
 * do, and getitem / decompress_blocks give the same bytes as decompress.
 *
 * Mutations per chunk: each of the first 64 bytes xor'ed with 4 masks; interesting int32 values
 * written over the header sizes and the first block offsets; random single-byte and int32
 * writes anywhere; truncation to every length up to 100 and to spread lengths beyond. Budgets
 * are lower for the large (4 MB decoded) fixtures and under sanitizers; counts are printed.
 */
#include <time.h>

#include "harness.h"
#include "tersa/tersa.h"

#if defined(__SANITIZE_ADDRESS__)
#define TM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TM_SANITIZED 1
#endif
#endif
#ifndef TM_SANITIZED
#define TM_SANITIZED 0
#endif

#define TM_CAP (8 * 1024 * 1024) /* largest decode buffer */

typedef struct tm_chunk {
    char name[96];
    uint8_t *data;
    size_t len;
    int large; /* decodes to megabytes: smaller mutation budget */
} tm_chunk;

typedef struct tm_set {
    tm_chunk c[96];
    int n;
} tm_set;

typedef struct tm_run {
    tersa_dctx *d1, *d2;
    uint8_t *ones;    /* TM_CAP mask bytes, all set */
    uint8_t *pattern; /* TM_CAP + 1024 random 0/1 mask bytes */
    uint64_t rng;
    long mutants, decoded, rejected;
} tm_run;

static void add_chunk(tm_set *s, const char *name, const uint8_t *data, size_t len)
{
    if (s->n >= (int)(sizeof s->c / sizeof s->c[0])) return;
    tm_chunk *c = &s->c[s->n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->data = malloc(len ? len : 1);
    memcpy(c->data, data, len);
    c->len = len;
    tersa_chunk_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    c->large = tersa_chunk_inspect(data, len, &in) == 0 && in.nbytes > 1024 * 1024;
}

/* ---- the corpus -------------------------------------------------------------------------- */

/* Fixture chunks: MANIFEST.tsv rows whose kind column is "chunk". */
static void load_fixtures(tm_set *s)
{
    FILE *f = fopen(TERSA_FIXTURES "/MANIFEST.tsv", "r");
    char line[4096];
    int found = 0;
    if (!f) {
        TH_FAIL_AT("cannot open %s/MANIFEST.tsv", TERSA_FIXTURES);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t'), *tab2 = tab ? strchr(tab + 1, '\t') : NULL;
        if (!tab2) continue;
        *tab = *tab2 = '\0';
        if (strcmp(tab + 1, "chunk") != 0) continue;
        char path[4352];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", TERSA_FIXTURES, line);
        uint8_t *data = th_read_file(path, &len);
        CHECK(data != NULL);
        if (!data) continue;
        add_chunk(s, line, data, len);
        found++;
        free(data);
    }
    fclose(f);
    CHECK_EQ(found, 27);
}

typedef struct tm_cfg {
    const char *name;
    int codec, clevel, ts, f0, m0, f5, split, nthreads, dict;
    int32_t blocksize;
    size_t n;
    int kind; /* data: 0 smooth, 1 ramp, 2 noise, 3 runs */
} tm_cfg;

static void gen_data(int kind, uint8_t *buf, size_t n, uint64_t seed)
{
    uint64_t rng = seed | 1, run = 3;
    for (size_t i = 0; i < n; i++) {
        if (kind == 0) buf[i] = (uint8_t)((i & 3) == 3 ? 0x40 : (i / 64) * 3 + (i & 3));
        else if (kind == 1) buf[i] = (uint8_t)(i / 4 >> (8 * (i & 3)));
        else if (kind == 2) buf[i] = (uint8_t)th_rand(&rng);
        else {
            if (th_rand(&rng) % 300 == 0) run = th_rand(&rng);
            buf[i] = (uint8_t)run;
        }
    }
}

static void set_params(tersa_cctx *c, const tm_cfg *g)
{
    CHECK_OK(tersa_cctx_set(c, TERSA_P_CODEC, g->codec));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_CLEVEL, g->clevel));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_TYPESIZE, g->ts));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_FILTER0, g->f0));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_FILTER_META0, g->m0));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_FILTER5, g->f5));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_SPLITMODE, g->split ? g->split : TERSA_SPLIT_AUTO));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_NTHREADS, g->nthreads ? g->nthreads : 1));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_USE_DICT, g->dict));
    CHECK_OK(tersa_cctx_set(c, TERSA_P_BLOCKSIZE, g->blocksize));
}

static void make_one(tm_set *s, const tm_cfg *g)
{
    tersa_cctx *c = tersa_cctx_create();
    size_t cap = tersa_compress_bound(g->n);
    uint8_t *src = malloc(g->n + 1), *dst = malloc(cap);
    set_params(c, g);
    gen_data(g->kind, src, g->n, g->n + (size_t)g->codec);
    int64_t cs = tersa_compress(c, src, g->n, dst, cap);
    CHECK_OK(cs);
    if (cs > 0) add_chunk(s, g->name, dst, (size_t)cs);
    tersa_cctx_free(c);
    free(src);
    free(dst);
}

enum { SH = TERSA_FILTER_SHUFFLE, BS = TERSA_FILTER_BITSHUFFLE, DE = TERSA_FILTER_DELTA,
       TP = TERSA_FILTER_TRUNC_PREC, BD = TERSA_FILTER_BYTEDELTA };

static const tm_cfg own_cfgs[] = {
    {"own blosclz shuffle", TERSA_CODEC_BLOSCLZ, 5, 4, 0, 0, SH, 0, 1, 0, 8192, 50000, 0},
    {"own lz4 shuffle split", TERSA_CODEC_LZ4, 5, 4, 0, 0, SH, 1, 2, 0, 8192, 50001, 1},
    {"own lz4hc bitshuffle", TERSA_CODEC_LZ4HC, 5, 8, 0, 0, BS, 0, 1, 0, 8192, 50003, 0},
    {"own zlib delta+shuffle", TERSA_CODEC_ZLIB, 5, 4, DE, 0, SH, 0, 1, 0, 8192, 50000, 1},
    {"own zstd delta", TERSA_CODEC_ZSTD, 3, 8, DE, 0, 0, 0, 1, 0, 8192, 50000, 0},
    {"own zstd bitshuffle split", TERSA_CODEC_ZSTD, 5, 2, 0, 0, BS, 1, 1, 0, 4096, 30000, 3},
    {"own blosclz none ts1", TERSA_CODEC_BLOSCLZ, 9, 1, 0, 0, 0, 0, 1, 0, 0, 40000, 3},
    {"own lz4 trunc", TERSA_CODEC_LZ4, 5, 4, TP, 10, SH, 0, 1, 0, 8192, 40000, 0},
    {"own zstd bytedelta", TERSA_CODEC_ZSTD, 5, 4, SH, 0, BD, 0, 1, 0, 8192, 40000, 1},
    {"own lz4 ts19 split", TERSA_CODEC_LZ4, 5, 19, 0, 0, SH, 1, 1, 0, 19 * 400, 19 * 1000 + 5, 1},
    {"own blosclz noise raw streams", TERSA_CODEC_BLOSCLZ, 5, 4, 0, 0, SH, 1, 1, 0, 4096, 20000, 2},
    {"own memcpyed clevel0", TERSA_CODEC_LZ4, 0, 4, 0, 0, SH, 0, 1, 0, 1024, 5000, 1},
    {"own memcpyed small", TERSA_CODEC_ZSTD, 5, 4, 0, 0, SH, 0, 1, 0, 0, 20, 1},
    {"own single block", TERSA_CODEC_LZ4, 5, 4, 0, 0, SH, 0, 1, 0, 0, 200, 1},
    {"own empty", TERSA_CODEC_BLOSCLZ, 5, 4, 0, 0, SH, 0, 1, 0, 0, 0, 0},
    {"own zstd dict", TERSA_CODEC_ZSTD, 5, 4, 0, 0, SH, 0, 1, 1, 16384, 300000, 0},
    {"own lz4 dict", TERSA_CODEC_LZ4, 5, 4, 0, 0, SH, 0, 1, 1, 16384, 300000, 3},
    {"own zlib runs 4 threads", TERSA_CODEC_ZLIB, 1, 8, 0, 0, SH, 0, 4, 0, 2048, 64000, 3},
};

static void make_specials(tm_set *s)
{
    uint8_t buf[64 + 32];
    double v = 3.25;
    uint8_t rec[19] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
    struct { const char *name; int kind, ts; int64_t n; const void *val; } sp[] = {
        {"own special zeros", TERSA_SPECIAL_ZEROS, 4, 40000, NULL},
        {"own special nan", TERSA_SPECIAL_NAN, 8, 40000, NULL},
        {"own special value", TERSA_SPECIAL_VALUE, 8, 40000, &v},
        {"own special value19", TERSA_SPECIAL_VALUE, 19, 19 * 2000, rec},
        {"own special uninit", TERSA_SPECIAL_UNINIT, 4, 40000, NULL},
    };
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        int64_t cs = tersa_chunk_make_special(sp[i].kind, sp[i].ts, sp[i].n, sp[i].val, buf,
                                              sizeof buf);
        CHECK_OK(cs);
        if (cs > 0) add_chunk(s, sp[i].name, buf, (size_t)cs);
    }
}

/* ---- probing one mutant ------------------------------------------------------------------- */

static size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* getitem of a random range; compare with the full decode when there is one. */
static void probe_getitem(tm_run *r, tersa_dctx *d, const uint8_t *m, size_t len,
                          const tersa_chunk_info *in, const uint8_t *full)
{
    int64_t total = in->typesize > 0 ? in->nbytes / in->typesize : 0;
    int64_t start = total > 0 ? (int64_t)(th_rand(&r->rng) % (uint64_t)total) : 0;
    int64_t cnt = 1 + (int64_t)(th_rand(&r->rng) % 64);
    size_t cap = (size_t)cnt * (size_t)(in->typesize > 0 ? in->typesize : 1);
    uint8_t *out = malloc(cap);
    int64_t g = tersa_getitem(d, m, len, start, cnt, out, cap);
    if (g >= 0) {
        CHECK(g <= (int64_t)cap);
        if (full && start + cnt <= total) CHECK_MEM(out, full + start * in->typesize, (size_t)g);
    }
    free(out);
}

static void probe_blocks(tm_run *r, tersa_dctx *d, const uint8_t *m, size_t len,
                         const tersa_chunk_info *in, const uint8_t *full)
{
    size_t n = (size_t)in->nbytes;
    uint8_t *out = malloc(n ? n : 1);
    int all = th_rand(&r->rng) & 1;
    const uint8_t *mask = all ? r->ones : r->pattern + th_rand(&r->rng) % 1024;
    int64_t b = tersa_decompress_blocks(d, m, len, mask, TM_CAP, out, n);
    if (b >= 0 && full && all) CHECK_MEM(out, full, n);
    free(out);
}

/* With TM_SAVE=<file> in the environment every mutant is written there before it is probed,
 * so after a crash the file holds the reproducer. */
static void save_mutant(const uint8_t *m, size_t len)
{
    const char *path = getenv("TM_SAVE");
    FILE *f = path ? fopen(path, "wb") : NULL;
    if (!f) return;
    if (fwrite(m, 1, len, f) != len) fprintf(stderr, "TM_SAVE: short write\n");
    fclose(f);
}

static void probe(tm_run *r, const uint8_t *m, size_t len)
{
    save_mutant(m, len);
    tersa_chunk_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    tersa_dctx *d = (r->mutants & 1) ? r->d2 : r->d1;
    int irc = tersa_chunk_inspect(m, len, &in);
    int vrc = tersa_chunk_validate(m, len);
    size_t cap = irc >= 0 && in.nbytes >= 0 ? min_sz((size_t)in.nbytes, TM_CAP) : 4096;
    uint8_t *out = malloc(cap ? cap : 1);
    int64_t rc = tersa_decompress(d, m, len, out, cap);
    r->mutants++;
    if (rc >= 0) {
        r->decoded++;
        CHECK(rc <= (int64_t)cap);
        if (irc < 0 || vrc < 0)
            TH_FAIL_AT("decompress accepted a chunk inspect (%d) or validate (%d) refused", irc,
                       vrc);
    } else {
        r->rejected++;
        if (!tersa_error_detail()[0]) TH_FAIL_AT("decompress failed with no detail");
    }
    const uint8_t *full = rc >= 0 && rc == in.nbytes ? out : NULL;
    if (irc >= 0) probe_getitem(r, d, m, len, &in, full);
    else CHECK(tersa_getitem(d, m, len, 0, 1, out, cap) < 0);
    if (irc >= 0 && in.nbytes >= 0 && in.nbytes <= TM_CAP) probe_blocks(r, d, m, len, &in, full);
    free(out);
}

/* Probe a copy of c with len bytes, one byte possibly changed (pos < len). */
static void probe_copy(tm_run *r, const tm_chunk *c, size_t len, size_t pos, int mode,
                       uint32_t val)
{
    uint8_t *m = malloc(len ? len : 1);
    memcpy(m, c->data, min_sz(len, c->len));
    if (mode == 1 && pos < len) m[pos] ^= (uint8_t)val;
    if (mode == 2 && pos < len) m[pos] = (uint8_t)val;
    if (mode == 3 && pos + 4 <= len) memcpy(m + pos, &val, 4); /* little-endian host */
    probe(r, m, len);
    free(m);
}

/* ---- mutation strategies ------------------------------------------------------------------ */

/* Budget levels: 0 full, 1 large chunk, 2 large chunk under a sanitizer. */
static int budget(const tm_chunk *c)
{
    return c->large ? 1 + TM_SANITIZED : 0;
}

static void mutate_head(tm_run *r, const tm_chunk *c)
{
    static const uint8_t masks[] = {0x01, 0x10, 0x80, 0xFF};
    size_t n = min_sz(64, c->len), step = budget(c) == 0 ? 1 : budget(c) == 1 ? 2 : 4;
    for (size_t pos = 0; pos < n; pos++)
        for (size_t k = 0; k < sizeof masks; k++)
            if ((pos + k) % step == 0) probe_copy(r, c, c->len, pos, 1, masks[k]);
}

/* Interesting int32 values over nbytes, blocksize, cbytes and the first block offsets. */
static void mutate_fields(tm_run *r, const tm_chunk *c)
{
    uint32_t vals[] = {0, 1, 15, 16, 31, 32, 33, 0x7FFFFFFF, 0x7FFFFFDF, 0x80000000u, 0xFFFFFFFF,
                       (uint32_t)c->len, (uint32_t)c->len - 1, (uint32_t)c->len + 1, 4096, 3};
    static const size_t offs[] = {4, 8, 12, 32, 36, 40, 44};
    for (size_t o = 0; o < sizeof offs / sizeof offs[0]; o++)
        for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
            if (budget(c) > 0 && o >= 3 && (k & 1)) continue;
            if (budget(c) > 1 && o >= 4) continue;
            probe_copy(r, c, c->len, offs[o], 3, vals[k]);
        }
}

static void mutate_random(tm_run *r, const tm_chunk *c, int count)
{
    for (int i = 0; i < count && c->len > 0; i++) {
        size_t pos = th_rand(&r->rng) % c->len;
        uint32_t v = (uint32_t)th_rand(&r->rng);
        int mode = (i % 4 == 3) ? 3 : 2;
        if (mode == 3 && (v & 1)) v = (uint32_t)(th_rand(&r->rng) % (c->len + 64));
        probe_copy(r, c, c->len, pos, mode, v);
    }
}

static void mutate_truncate(tm_run *r, const tm_chunk *c, int spread)
{
    size_t step = budget(c) > 1 ? 3 : 1;
    for (size_t len = 0; len < min_sz(100, c->len); len += step) probe_copy(r, c, len, 0, 0, 0);
    for (int i = 0; i < spread && c->len > 100; i++)
        probe_copy(r, c, 100 + th_rand(&r->rng) % (c->len - 100), 0, 0, 0);
    for (size_t k = 1; k <= 8 && k <= c->len; k++) probe_copy(r, c, c->len - k, 0, 0, 0);
    probe_copy(r, c, c->len, 0, 0, 0);
}

static void mutate_chunk(tm_run *r, const tm_chunk *c)
{
    static const int nrandom[3] = {250, 60, 20}, nspread[3] = {40, 10, 5};
    mutate_head(r, c);
    mutate_fields(r, c);
    mutate_random(r, c, nrandom[budget(c)]);
    mutate_truncate(r, c, nspread[budget(c)]);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
    static tm_set set;
    tm_run r = {tersa_dctx_create(), tersa_dctx_create(), malloc(TM_CAP), malloc(TM_CAP + 1024),
                0x5eed, 0, 0, 0};
    CHECK_OK(tersa_dctx_set(r.d2, TERSA_P_NTHREADS, 2));
    memset(r.ones, 1, TM_CAP);
    for (size_t i = 0; i < TM_CAP + 1024; i++) r.pattern[i] = (uint8_t)(th_rand(&r.rng) & 1);
    load_fixtures(&set);
    for (size_t i = 0; i < sizeof own_cfgs / sizeof own_cfgs[0]; i++) make_one(&set, &own_cfgs[i]);
    make_specials(&set);
    double t0 = now_s();
    for (int i = 0; i < set.n; i++) {
        long before = r.mutants;
        int fails = th_failures;
        double t1 = now_s();
        mutate_chunk(&r, &set.c[i]);
        if (th_failures != fails) fprintf(stderr, "  ^ in chunk %s\n", set.c[i].name);
        if (getenv("TM_VERBOSE"))
            printf("  %-50s %6zu bytes %5ld mutants %6.2f s\n", set.c[i].name, set.c[i].len,
                   r.mutants - before, now_s() - t1);
        free(set.c[i].data);
    }
    printf("mutation: %d chunks, %ld mutants (%ld decoded, %ld rejected) in %.1f s\n", set.n,
           r.mutants, r.decoded, r.rejected, now_s() - t0);
    tersa_dctx_free(r.d1);
    tersa_dctx_free(r.d2);
    free(r.ones);
    free(r.pattern);
    return th_report("mutation");
}

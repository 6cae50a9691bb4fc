/* Codec layer: the const table, round trips of every codec over clevels, sizes and data kinds
 * (with and without dictionaries), hostile streams for every decoder, and BloscLZ specifics:
 * hand-built streams for each grammar feature and a walker that checks our encoder's output
 * follows the rules the official decoder relies on. */
#include <stdbool.h>

#include "codecs/tersa_codec.h"
#include "common/tersa_internal.h"
#include "harness.h"

enum { GUARD = 64, CANARY = 0xA5 };

/* ---- test data ------------------------------------------------------------------------ */

enum { KIND_ZEROS, KIND_RANDOM, KIND_TEXT, KIND_SMOOTH, KIND_RUNS, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = {"zeros", "random", "text", "smooth", "runs"};

static void fill_text(uint8_t *p, size_t n, uint64_t *s)
{
    static const char *const words[] = {"blosc", "chunk", "frame", "the", "of", "shuffle",
                                        "compress", "a", "stream", "block", "tersa", "data"};
    size_t i = 0;
    while (i < n) {
        const char *w = words[th_rand(s) % (sizeof words / sizeof words[0])];
        for (size_t k = 0; w[k] && i < n; k++) p[i++] = (uint8_t)w[k];
        if (i < n) p[i++] = (th_rand(s) % 9 == 0) ? '.' : ' ';
    }
}

/* Slowly varying float64 values with a little noise, byte-shuffled with typesize 8. */
static void fill_smooth(uint8_t *p, size_t n, uint64_t *s)
{
    size_t ne = n / 8;
    for (size_t i = 0; i < ne; i++) {
        double v = 100.0 + (double)i * 0.001 + (double)(th_rand(s) % 16) * 1e-9;
        uint8_t b[8];
        memcpy(b, &v, 8);
        for (size_t j = 0; j < 8; j++) p[j * ne + i] = b[j];
    }
    for (size_t i = ne * 8; i < n; i++) p[i] = (uint8_t)i;
}

static void fill_runs(uint8_t *p, size_t n, uint64_t *s)
{
    size_t i = 0;
    while (i < n) {
        size_t len = 1 + th_rand(s) % 300;
        uint8_t v = (uint8_t)th_rand(s);
        for (size_t k = 0; k < len && i < n; k++) p[i++] = v;
    }
}

static void fill_kind(int kind, uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    switch (kind) {
    case KIND_ZEROS: memset(p, 0, n); break;
    case KIND_RANDOM:
        for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(th_rand(&s) >> 29);
        break;
    case KIND_TEXT: fill_text(p, n, &s); break;
    case KIND_SMOOTH: fill_smooth(p, n, &s); break;
    default: fill_runs(p, n, &s); break;
    }
}

static bool guard_intact(const uint8_t *p)
{
    for (int i = 0; i < GUARD; i++)
        if (p[i] != CANARY) return false;
    return true;
}

/* ---- the table ------------------------------------------------------------------------- */

static void test_table(void)
{
    static const struct {
        int compcode, format;
        const char *name;
    } want[] = {{0, 0, "blosclz"}, {1, 1, "lz4"}, {2, 1, "lz4hc"}, {4, 3, "zlib"}, {5, 4, "zstd"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const tersa__codec *c = tersa__codec_builtin(want[i].compcode);
        CHECK(c != NULL);
        if (!c) continue;
        CHECK_EQ(c->compcode, want[i].compcode);
        CHECK_EQ(c->format, want[i].format);
        CHECK_STR(c->name, want[i].name);
        CHECK(c->encode != NULL && c->decode != NULL);
    }
    CHECK(tersa__codec_builtin(3) == NULL);
    CHECK(tersa__codec_builtin(6) == NULL);
    CHECK(tersa__codec_builtin(-1) == NULL);
    CHECK(tersa__codec_builtin(32) == NULL);
    CHECK(tersa__codec_by_format(0) == tersa__codec_builtin(0));
    CHECK(tersa__codec_by_format(1) == tersa__codec_builtin(1));
    CHECK(tersa__codec_by_format(3) == tersa__codec_builtin(4));
    CHECK(tersa__codec_by_format(4) == tersa__codec_builtin(5));
    CHECK(tersa__codec_by_format(2) == NULL); /* snappy */
    for (int f = 5; f < 8; f++) CHECK(tersa__codec_by_format(f) == NULL);

    tersa__codec_state st;
    memset(&st, 0, sizeof st);
    tersa__codec_state_free(&st); /* nothing created: fine */
    tersa__codec_state_free(NULL);
}

/* ---- BloscLZ grammar walker ------------------------------------------------------------- */

static long walk_far_matches; /* far matches seen by blosclz_walk, to know they were tested */

/* Checks an encoder stream against the rules the official decoder relies on; returns NULL or
 * what is wrong. Also returns the decoded length through *outlen. */
static const char *blosclz_walk(const uint8_t *s, int32_t n, int64_t *outlen)
{
    int64_t out = 0;
    int32_t i = 0;
    bool last_literal = false;
    if (n < 2) return "stream shorter than one literal token";
    if ((s[0] >> 5) != 1) return "first byte does not carry the 001 marker";
    unsigned ctrl = s[i++] & 31u;
    for (;;) {
        if (ctrl < 32) {
            if (i + (int32_t)ctrl + 1 > n) return "literal run past the end";
            i += (int32_t)ctrl + 1;
            out += ctrl + 1;
            last_literal = true;
        } else {
            int64_t len = (ctrl >> 5) + 2, dist = (int64_t)(ctrl & 31u) << 8;
            if (len == 9) {
                unsigned c;
                do {
                    if (i >= n) return "extension past the end";
                    c = s[i++];
                    len += c;
                } while (c == 255);
            }
            if (i >= n) return "distance byte past the end";
            dist += s[i++] + 1;
            bool far = dist == 8192;
            if (far) {
                if (i + 2 > n) return "far distance past the end";
                dist = 8192 + ((int64_t)s[i] << 8) + s[i + 1];
                i += 2;
                if (len < 8) return "far match shorter than 8";
                walk_far_matches++;
            }
            if (dist > 73725) return "distance above 73725";
            if (dist > out) return "distance beyond the bytes produced";
            out += len;
            last_literal = false;
        }
        if (i >= n) break;
        ctrl = s[i++];
    }
    if (!last_literal) return "stream does not end with a literal run";
    *outlen = out;
    return NULL;
}

/* ---- round trips ------------------------------------------------------------------------ */

typedef struct rt_bufs {
    uint8_t *src, *enc, *dec;
    size_t max;
} rt_bufs;

/* Encode src[0..n) with cap = n, check the result's contract and the guard, decode and compare.
 * Returns the encoded size (0 if stored raw). */
static int32_t round_trip(const tersa__codec *c, const tersa__codec_args *a, rt_bufs *b, int32_t n,
                          const char *what)
{
    memset(b->enc, CANARY, (size_t)n + GUARD);
    int32_t r = c->encode(b->src, n, b->enc, n, a);
    if (r < 0 || r >= n || !guard_intact(b->enc + n)) {
        TH_FAIL_AT("%s: encode returned %d for %d bytes (%s)", what, r, n, tersa_error_detail());
        return 0;
    }
    th_checks++;
    if (r == 0) return 0;
    if (c->compcode == 0) {
        int64_t out = 0;
        const char *bad = blosclz_walk(b->enc, r, &out);
        if (bad) TH_FAIL_AT("%s: blosclz output breaks the rules: %s", what, bad);
        CHECK_EQ(out, n);
    }
    memset(b->dec, CANARY, (size_t)n + GUARD);
    int32_t d = c->decode(b->enc, r, b->dec, n, a);
    if (d != n || memcmp(b->dec, b->src, (size_t)n) != 0 || !guard_intact(b->dec + n))
        TH_FAIL_AT("%s: decode returned %d, want %d (%s)", what, d, n, tersa_error_detail());
    th_checks++;
    return r;
}

static const int32_t rt_sizes[] = {1, 2, 15, 16, 17, 100, 4096, 65536 + 7, 1 << 20};
#define N_SIZES (sizeof rt_sizes / sizeof rt_sizes[0])

static void test_round_trips(rt_bufs *b, tersa__codec_state *st)
{
    static const int codes[] = {0, 1, 2, 4, 5};
    for (size_t ci = 0; ci < 5; ci++) {
        const tersa__codec *c = tersa__codec_builtin(codes[ci]);
        for (int kind = 0; kind < KIND_COUNT; kind++) {
            for (size_t si = 0; si < N_SIZES; si++) {
                const int32_t n = rt_sizes[si];
                fill_kind(kind, b->src, (size_t)n, (uint64_t)(si * 7 + (size_t)kind));
                for (int clevel = 1; clevel <= 9; clevel++) {
                    /* the slow codecs' levels on the big buffers add little: sample them */
                    if (codes[ci] >= 2 && n > 65536 && clevel % 4 != 1) continue;
                    if (codes[ci] >= 4 && n == (1 << 20) && clevel == 9) continue;
                    tersa__codec_args a = {clevel, 0, NULL, 0, 8, st};
                    char what[96];
                    snprintf(what, sizeof what, "%s clevel %d %s n=%d", c->name, clevel,
                             kind_names[kind], n);
                    int32_t r = round_trip(c, &a, b, n, what);
                    /* compressible kinds must compress once they are large enough */
                    if (n >= 4096 && kind != KIND_RANDOM && kind != KIND_SMOOTH && r == 0)
                        TH_FAIL_AT("%s: did not compress", what);
                }
            }
        }
    }
}

/* Dictionaries for lz4, lz4hc and zstd: the data shares much with the dictionary. */
static void test_dictionaries(rt_bufs *b, tersa__codec_state *st)
{
    static const int codes[] = {1, 2, 5};
    static const int32_t dsizes[] = {1, 300, 4096, 32768};
    static const int32_t sizes[] = {17, 4096, 65536 + 7};
    uint8_t *dict = malloc(32768);
    fill_kind(KIND_TEXT, dict, 32768, 99);
    for (size_t ci = 0; ci < 3; ci++) {
        const tersa__codec *c = tersa__codec_builtin(codes[ci]);
        for (size_t di = 0; di < 4; di++) {
            for (size_t si = 0; si < 3; si++) {
                const int32_t n = sizes[si];
                fill_kind(KIND_TEXT, b->src, (size_t)n, 99); /* starts like the dictionary */
                for (int clevel = 1; clevel <= 9; clevel += 2) {
                    tersa__codec_args a = {clevel, 0, dict + 32768 - dsizes[di], dsizes[di], 1,
                                           st};
                    char what[96];
                    snprintf(what, sizeof what, "%s dict %d clevel %d n=%d", c->name,
                             dsizes[di], clevel, n);
                    round_trip(c, &a, b, n, what);
                }
            }
        }
    }
    /* With a useful dictionary a small stream compresses much better. */
    for (size_t ci = 0; ci < 3; ci++) {
        const tersa__codec *c = tersa__codec_builtin(codes[ci]);
        memcpy(b->src, dict + 1000, 2000);
        tersa__codec_args plain = {5, 0, NULL, 0, 1, st};
        tersa__codec_args with = {5, 0, dict, 32768, 1, st};
        int32_t r0 = round_trip(c, &plain, b, 2000, "no dict");
        int32_t r1 = round_trip(c, &with, b, 2000, "dict");
        CHECK(r1 > 0 && (r0 == 0 || r1 < r0 / 4));
    }
    free(dict);
}

/* zstd caches digested dictionaries: a new dictionary at the same address must be noticed. */
static void test_zstd_dict_cache(rt_bufs *b, tersa__codec_state *st)
{
    const tersa__codec *z = tersa__codec_builtin(5);
    uint8_t *dict = malloc(8192);
    for (int round = 0; round < 3; round++) {
        fill_kind(round == 1 ? KIND_RUNS : KIND_TEXT, dict, 8192, (uint64_t)round + 5);
        memcpy(b->src, dict + 100, 3000);
        for (int clevel = 1; clevel <= 3; clevel++) {
            tersa__codec_args a = {clevel, 0, dict, 8192, 1, st};
            int32_t r = round_trip(z, &a, b, 3000, "zstd dict cache");
            CHECK(r > 0 && r < 300); /* the dictionary in use is the current one */
        }
    }
    free(dict);
}

/* ---- hostile streams ---------------------------------------------------------------------- */

/* Decode must fail (negative) or give exactly outlen bytes, never touch the guard. */
static void decode_hostile(const tersa__codec *c, const tersa__codec_args *a, const uint8_t *s,
                           int32_t n, uint8_t *dec, int32_t outlen, bool must_fail,
                           const char *what)
{
    memset(dec, CANARY, (size_t)outlen + GUARD);
    int32_t d = c->decode(s, n, dec, outlen, a);
    th_checks++;
    if (!guard_intact(dec + outlen)) TH_FAIL_AT("%s: wrote past outlen %d", what, outlen);
    if (must_fail && d >= 0)
        TH_FAIL_AT("%s: decode returned %d, want an error", what, d);
    else if (d >= 0 && d != outlen)
        TH_FAIL_AT("%s: decode returned %d for outlen %d", what, d, outlen);
    if (d < 0 && tersa_error_detail()[0] == '\0') TH_FAIL_AT("%s: error without detail", what);
}

static void test_hostile(rt_bufs *b, tersa__codec_state *st)
{
    static const int codes[] = {0, 1, 2, 4, 5};
    uint64_t s = 12345;
    for (size_t ci = 0; ci < 5; ci++) {
        const tersa__codec *c = tersa__codec_builtin(codes[ci]);
        tersa__codec_args a = {5, 0, NULL, 0, 8, st};
        const int32_t n = 5000;
        fill_kind(KIND_TEXT, b->src, (size_t)n, 3);
        int32_t r = c->encode(b->src, n, b->enc, n, &a);
        CHECK(r > 0);
        if (r <= 0) continue;
        char what[64];
        snprintf(what, sizeof what, "%s truncated", c->name);
        for (int32_t len = 0; len < r; len += (len < 64 ? 1 : 7))
            decode_hostile(c, &a, b->enc, len, b->dec, n, true, what);
        snprintf(what, sizeof what, "%s wrong outlen", c->name);
        decode_hostile(c, &a, b->enc, r, b->dec, n - 1, true, what);
        decode_hostile(c, &a, b->enc, r, b->dec, n + 1, true, what);
        decode_hostile(c, &a, b->enc, r, b->dec, 0, true, what);
        snprintf(what, sizeof what, "%s bit flips", c->name);
        uint8_t *mut = malloc((size_t)r);
        for (int k = 0; k < 400; k++) {
            memcpy(mut, b->enc, (size_t)r);
            for (int f = 0; f < 1 + k % 4; f++) {
                uint64_t at = th_rand(&s) % (uint64_t)r;
                mut[at] ^= (uint8_t)(1u << (th_rand(&s) % 8));
            }
            decode_hostile(c, &a, mut, r, b->dec, n, false, what);
        }
        free(mut);
        snprintf(what, sizeof what, "%s random bytes", c->name);
        for (int k = 0; k < 300; k++) {
            int32_t len = 1 + (int32_t)(th_rand(&s) % 600);
            for (int32_t i = 0; i < len; i++) b->enc[i] = (uint8_t)th_rand(&s);
            if (k % 3 == 0) b->enc[0] &= 0x1F; /* make blosclz start with a plausible literal */
            decode_hostile(c, &a, b->enc, len, b->dec, (int32_t)(th_rand(&s) % 3000), false,
                           what);
        }
    }
}

/* ---- BloscLZ hand-built streams ------------------------------------------------------------ */

static int32_t blz_dec(const uint8_t *s, int32_t n, uint8_t *out, int32_t outlen)
{
    return tersa__blosclz_decode(s, n, out, outlen);
}

static void test_blosclz_grammar(void)
{
    uint8_t out[16384 + GUARD];
    { /* a literal run; the top bits of the first byte are ignored */
        static const uint8_t s[] = {0xE4, 'a', 'b', 'c', 'd', 'e'};
        CHECK_EQ(blz_dec(s, 6, out, 5), 5);
        CHECK_MEM(out, "abcde", 5);
    }
    { /* overlapping match with distance 1 (length 3), then a literal */
        static const uint8_t s[] = {0x00, 'x', 0x20, 0x00, 0x00, 'y'};
        CHECK_EQ(blz_dec(s, 6, out, 5), 5);
        CHECK_MEM(out, "xxxxy", 5);
    }
    { /* distance 2, length 8 (N = 6): "ab" repeated */
        static const uint8_t s[] = {0x01, 'a', 'b', 0xC0, 0x01, 0x00, '!'};
        CHECK_EQ(blz_dec(s, 7, out, 11), 11);
        CHECK_MEM(out, "ababababab!", 11);
    }
    { /* N = 7 with extension bytes FF 05: length 9 + 255 + 5 = 269 */
        static const uint8_t s[] = {0x00, 'a', 0xE0, 0xFF, 0x05, 0x00, 0x00, 'b'};
        uint8_t want[271];
        memset(want, 'a', 270);
        want[270] = 'b';
        CHECK_EQ(blz_dec(s, 8, out, 271), 271);
        CHECK_MEM(out, want, 271);
    }
    { /* N = 7 with a single extension byte 0: length 9 */
        static const uint8_t s[] = {0x00, 'q', 0xE0, 0x00, 0x00, 0x00, 'r'};
        CHECK_EQ(blz_dec(s, 7, out, 11), 11);
        CHECK_MEM(out, "qqqqqqqqqqr", 11);
    }
    /* Rejections. */
    { /* a match that ends the input */
        static const uint8_t s[] = {0x00, 'a', 0x20, 0x00};
        CHECK_ERR(blz_dec(s, 4, out, 4), TERSA_ERR_CORRUPT);
    }
    { /* a match cut off before its distance byte */
        static const uint8_t s[] = {0x00, 'a', 0x20};
        CHECK_ERR(blz_dec(s, 3, out, 4), TERSA_ERR_CORRUPT);
    }
    { /* distance beyond the bytes produced */
        static const uint8_t s[] = {0x00, 'a', 0x20, 0x01, 0x00, 'b'};
        CHECK_ERR(blz_dec(s, 6, out, 5), TERSA_ERR_CORRUPT);
    }
    { /* literal run past the stream end */
        static const uint8_t s[] = {0x05, 'a', 'b'};
        CHECK_ERR(blz_dec(s, 3, out, 6), TERSA_ERR_CORRUPT);
    }
    { /* output larger or smaller than expected */
        static const uint8_t s[] = {0x00, 'x', 0x20, 0x00, 0x00, 'y'};
        CHECK_ERR(blz_dec(s, 6, out, 4), TERSA_ERR_CORRUPT);
        CHECK_ERR(blz_dec(s, 6, out, 6), TERSA_ERR_CORRUPT);
        CHECK_ERR(blz_dec(s, 6, out, 1), TERSA_ERR_CORRUPT);
    }
    { /* extension bytes that never end, and ones that run past the output */
        uint8_t s[300];
        s[0] = 0x00;
        s[1] = 'a';
        s[2] = 0xE0;
        memset(s + 3, 0xFF, sizeof s - 3);
        CHECK_ERR(blz_dec(s, (int32_t)sizeof s, out, 16384), TERSA_ERR_CORRUPT);
    }
    CHECK_ERR(blz_dec(out, 0, out, 0), TERSA_ERR_CORRUPT);
}

/* Far matches: 9000 literal bytes, then a far match of distance 8200 and the largest near
 * distance 8191, each followed by a literal. */
static void test_blosclz_far(void)
{
    enum { LIT = 9000 };
    uint8_t *s = malloc(LIT + LIT / 32 + 64), *out = malloc(LIT + 64 + GUARD),
            *want = malloc(LIT + 64);
    uint64_t seed = 77;
    int32_t n = 0, w = 0;
    for (int32_t i = 0; i < LIT; i += 32) {
        s[n++] = 31;
        for (int k = 0; k < 32; k++) s[n++] = want[w++] = (uint8_t)th_rand(&seed);
    }
    /* far: N = 3 (length 5 as the grammar allows), H = 31, D = 255, P Q = 0x0008 */
    s[n++] = (3 << 5) | 31;
    s[n++] = 0xFF;
    s[n++] = 0x00;
    s[n++] = 0x08;
    for (int k = 0; k < 5; k++, w++) want[w] = want[w - 8200];
    /* near at the largest distance: H = 31, D = 254 -> 8191; N = 7, extension 3 -> 12 */
    s[n++] = (7 << 5) | 31;
    s[n++] = 3;
    s[n++] = 254;
    for (int k = 0; k < 12; k++, w++) want[w] = want[w - 8191];
    /* far with extension: N = 7, ext 0 -> 9, distance 8192 + 0x0123 */
    s[n++] = (7 << 5) | 31;
    s[n++] = 0;
    s[n++] = 0xFF;
    s[n++] = 0x01;
    s[n++] = 0x23;
    for (int k = 0; k < 9; k++, w++) want[w] = want[w - (8192 + 0x123)];
    s[n++] = 0x00;
    s[n++] = want[w++] = 'z';
    memset(out, CANARY, (size_t)w + GUARD);
    CHECK_EQ(tersa__blosclz_decode(s, n, out, w), w);
    CHECK_MEM(out, want, w);
    CHECK(guard_intact(out + w));
    /* the same far match when only 8200 - 1 bytes exist must be rejected */
    int32_t m = 0;
    uint8_t t[16];
    t[m++] = 0x00;
    t[m++] = 'a';
    t[m++] = (3 << 5) | 31;
    t[m++] = 0xFF;
    t[m++] = 0x00;
    t[m++] = 0x08;
    t[m++] = 0x00;
    t[m++] = 'b';
    CHECK_ERR(tersa__blosclz_decode(t, m, out, 7), TERSA_ERR_CORRUPT);
    t[m - 4] = 0xFF; /* far marker with P Q missing */
    CHECK_ERR(tersa__blosclz_decode(t, 5, out, 7), TERSA_ERR_CORRUPT);
    free(s);
    free(out);
    free(want);
}

/* Our encoder's streams: data that makes far matches likely, every clevel; the walker checks
 * the rules, and encoding is deterministic whatever the state saw before. */
static void test_blosclz_encoder(rt_bufs *b, tersa__codec_state *st)
{
    const int32_t n = 200000;
    uint64_t s = 4242;
    /* 12000 random bytes repeated with small edits: matches at distances 12000 and 24000 */
    for (int32_t i = 0; i < 12000; i++) b->src[i] = (uint8_t)th_rand(&s);
    for (int32_t i = 12000; i < n; i++)
        b->src[i] = (th_rand(&s) % 50 == 0) ? (uint8_t)th_rand(&s) : b->src[i - 12000];
    int64_t out = 0;
    uint8_t *first = malloc((size_t)n);
    for (int clevel = 1; clevel <= 9; clevel++) {
        int32_t r = tersa__blosclz_encode(b->src, n, b->enc, n, clevel, st);
        /* the low clevels' probes see a random start and may give up: that is allowed */
        if (clevel >= 3) CHECK(r > 0);
        if (r <= 0) continue;
        const char *bad = blosclz_walk(b->enc, r, &out);
        if (bad) TH_FAIL_AT("clevel %d: %s", clevel, bad);
        CHECK_EQ(out, n);
        CHECK_EQ(tersa__blosclz_decode(b->enc, r, b->dec, n), n);
        CHECK_MEM(b->dec, b->src, n);
        memcpy(first, b->enc, (size_t)r);
        /* other inputs in between, then the same input: the same bytes */
        fill_kind(KIND_TEXT, b->dec, 70000, 1);
        CHECK(tersa__blosclz_encode(b->dec, 70000, b->enc, 70000, clevel, st) > 0);
        CHECK_EQ(tersa__blosclz_encode(b->src, n, b->enc, n, clevel, st), r);
        CHECK_MEM(b->enc, first, r);
    }
    CHECK(walk_far_matches > 0);
    /* enough calls to wrap the table's position base: output stays the same */
    int32_t r0 = tersa__blosclz_encode(b->src, 4096, first, 4096, 5, st);
    for (int i = 0; i < 60000; i++) tersa__blosclz_encode(b->src + i % 1000, 64, b->enc, 64, 5, st);
    CHECK_EQ(tersa__blosclz_encode(b->src, 4096, b->enc, 4096, 5, st), r0);
    CHECK_MEM(b->enc, first, r0);
    free(first);
    /* limits: tiny inputs, a cap that is too small, bad arguments */
    fill_kind(KIND_ZEROS, b->src, 100000, 0);
    CHECK_EQ(tersa__blosclz_encode(b->src, 15, b->enc, 15, 5, st), 0);
    int32_t full = tersa__blosclz_encode(b->src, 100000, b->enc, 100000, 5, st);
    CHECK(full > 0);
    memset(b->enc, CANARY, (size_t)full + GUARD);
    CHECK_EQ(tersa__blosclz_encode(b->src, 100000, b->enc, full - 1, 5, st), 0);
    CHECK(guard_intact(b->enc + full - 1));
    CHECK_EQ(tersa__blosclz_encode(b->src, 100000, b->enc, full, 5, st), full);
    CHECK_ERR(tersa__blosclz_encode(b->src, -1, b->enc, 10, 5, st), TERSA_ERR_PARAM);
    CHECK_ERR(tersa__blosclz_encode(b->src, 100, b->enc, 100, 5, NULL), TERSA_ERR_PARAM);
}

/* Every codec honours caps smaller than the input. */
static void test_small_caps(rt_bufs *b, tersa__codec_state *st)
{
    static const int codes[] = {0, 1, 2, 4, 5};
    const int32_t n = 20000;
    fill_kind(KIND_TEXT, b->src, (size_t)n, 8);
    for (size_t ci = 0; ci < 5; ci++) {
        const tersa__codec *c = tersa__codec_builtin(codes[ci]);
        tersa__codec_args a = {5, 0, NULL, 0, 1, st};
        int32_t full = c->encode(b->src, n, b->enc, n, &a);
        CHECK(full > 0);
        static const int32_t caps[] = {0, 1, 10, 100};
        for (size_t k = 0; k < 5; k++) {
            int32_t cap = k < 4 ? caps[k] : full - 1;
            memset(b->enc, CANARY, (size_t)cap + GUARD);
            int32_t r = c->encode(b->src, n, b->enc, cap, &a);
            if (r != 0) TH_FAIL_AT("%s: cap %d gave %d", c->name, cap, r);
            th_checks++;
            if (!guard_intact(b->enc + cap)) TH_FAIL_AT("%s: wrote past cap %d", c->name, cap);
        }
    }
}

int main(void)
{
    rt_bufs b;
    b.max = (1 << 20) + 4096;
    b.src = malloc(b.max);
    b.enc = malloc(b.max + GUARD);
    b.dec = malloc(b.max + GUARD);
    tersa__codec_state st;
    memset(&st, 0, sizeof st);

    test_table();
    test_blosclz_grammar();
    test_blosclz_far();
    test_blosclz_encoder(&b, &st);
    test_round_trips(&b, &st);
    test_dictionaries(&b, &st);
    test_zstd_dict_cache(&b, &st);
    test_hostile(&b, &st);
    test_small_caps(&b, &st);

    tersa__codec_state_free(&st);
    tersa__codec_state_free(&st); /* idempotent */
    free(b.src);
    free(b.enc);
    free(b.dec);
    return th_report("codecs");
}

/* Filter primitives: every shuffle implementation against the generic one and against a
 * bit-by-bit reading of FORMATS 2.9.1/2.9.2, the C-Blosc2 shuffle fixtures, delta, trunc-prec,
 * bytedelta (35 and the buggy 34 decode). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tersa_internal.h"
#include "filters/tersa_filters.h"
#include "harness.h"

static const int32_t TYPESIZES[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
                                    15, 16, 17, 18, 19, 20, 24, 32, 64, 255};
static const int32_t SIZES[] = {0, 1, 7, 8, 63, 64, 65, 1000, 4096 + 3, (1 << 20) + 5};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
enum { GUARD = 64, NAIVE_MAX = 4099 };

typedef void (*xform)(const uint8_t *, uint8_t *, int32_t, int32_t);

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(th_rand(&s) >> 24);
}

/* ---- independent reference: the formulas of FORMATS 2.9.1 / 2.9.2, bit by bit ---------- */

static void naive_shuffle(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    int32_t m = size / t;
    for (int32_t i = 0; i < m; i++)
        for (int32_t j = 0; j < t; j++) dst[(size_t)j * m + i] = src[(size_t)i * t + j];
    memcpy(dst + (size_t)m * t, src + (size_t)m * t, (size_t)(size - m * t));
}

static void naive_bitshuffle(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    int32_t m = size / t, g = m - m % 8, r = g / 8;
    memset(dst, 0, (size_t)g * t);
    for (int32_t i = 0; i < g; i++)
        for (int32_t j = 0; j < t; j++)
            for (int b = 0; b < 8; b++) {
                int bit = (src[(size_t)i * t + j] >> b) & 1;
                dst[(size_t)(8 * j + b) * r + i / 8] |= (uint8_t)(bit << (i % 8));
            }
    memcpy(dst + (size_t)g * t, src + (size_t)g * t, (size_t)(size - g * t));
}

/* ---- (a) every implementation equals the generic one ---------------------------------- */

/* Run f on src into a guarded buffer; the GUARD bytes after `size` must stay untouched. */
static void run_guarded(xform f, const uint8_t *src, uint8_t *out, int32_t size, int32_t t)
{
    memset(out, 0xA5, (size_t)size + GUARD);
    f(src, out, size, t);
    for (int k = 0; k < GUARD; k++) {
        if (out[size + k] != 0xA5) {
            CHECK_EQ(out[size + k], 0xA5);
            break;
        }
    }
}

typedef struct bufs {
    uint8_t *src, *ref, *out, *back;
} bufs;

static xform pick(const tersa__shuffle_impl *im, int which)
{
    switch (which) {
    case 0: return im->shuffle;
    case 1: return im->unshuffle;
    case 2: return im->bitshuffle;
    default: return im->bitunshuffle;
    }
}

static void check_one_impl(const tersa__shuffle_impl *im, bufs *b, int32_t size, int32_t t)
{
    const tersa__shuffle_impl *gen = &tersa__shuffle_impls(NULL)[0];
    static const char *what[] = {"shuffle", "unshuffle", "bitshuffle", "bitunshuffle"};
    for (int which = 0; which < 4; which++) {
        run_guarded(pick(gen, which), b->src, b->ref, size, t);
        run_guarded(pick(im, which), b->src, b->out, size, t);
        int before = th_failures;
        CHECK_MEM(b->out, b->ref, size);
        if (th_failures != before)
            fprintf(stderr, "  impl %s %s size %d typesize %d\n", im->name, what[which],
                    (int)size, (int)t);
    }
    /* round trips */
    im->shuffle(b->src, b->out, size, t);
    run_guarded(im->unshuffle, b->out, b->back, size, t);
    CHECK_MEM(b->back, b->src, size);
    im->bitshuffle(b->src, b->out, size, t);
    run_guarded(im->bitunshuffle, b->out, b->back, size, t);
    CHECK_MEM(b->back, b->src, size);
}

static void check_against_naive(bufs *b, int32_t size, int32_t t)
{
    const tersa__shuffle_impl *gen = &tersa__shuffle_impls(NULL)[0];
    naive_shuffle(b->src, b->ref, size, t);
    gen->shuffle(b->src, b->out, size, t);
    CHECK_MEM(b->out, b->ref, size);
    naive_bitshuffle(b->src, b->ref, size, t);
    gen->bitshuffle(b->src, b->out, size, t);
    CHECK_MEM(b->out, b->ref, size);
}

static void test_impls_agree(void)
{
    int n = 0;
    const tersa__shuffle_impl *impls = tersa__shuffle_impls(&n);
    unsigned have = tersa__cpu_features();
    CHECK(n >= 1);
    CHECK_STR(impls[0].name, "generic");
    CHECK_EQ(impls[0].cpu_need, 0);
    size_t cap = (size_t)SIZES[COUNT(SIZES) - 1] + GUARD + 8;
    uint8_t *mem = malloc(cap);
    bufs b = {NULL, malloc(cap), malloc(cap), malloc(cap)};
    int ran = 0;
    for (int ts = 0; ts < COUNT(TYPESIZES); ts++) {
        for (int sz = 0; sz < COUNT(SIZES); sz++) {
            int32_t t = TYPESIZES[ts], size = SIZES[sz];
            /* odd source alignment on alternate runs */
            b.src = mem + ((ts + sz) % 2 ? 3 : 0);
            fill_random(b.src, (size_t)size, (uint64_t)(t * 1000 + sz));
            if (size <= NAIVE_MAX) check_against_naive(&b, size, t);
            for (int i = 0; i < n; i++) {
                if ((impls[i].cpu_need & have) != impls[i].cpu_need) continue;
                check_one_impl(&impls[i], &b, size, t);
                ran++;
            }
        }
    }
    printf("filters: %d implementation(s) compiled in, %d run per case (cpu features %#x)\n", n,
           ran / (COUNT(TYPESIZES) * COUNT(SIZES)), have);
    free(mem);
    free(b.ref);
    free(b.out);
    free(b.back);
}

/* Element size < 1 is not a transform: every implementation copies. */
static void test_degenerate(void)
{
    int n = 0;
    const tersa__shuffle_impl *impls = tersa__shuffle_impls(&n);
    uint8_t src[100], out[100];
    fill_random(src, sizeof src, 5);
    for (int i = 0; i < n; i++) {
        if ((impls[i].cpu_need & tersa__cpu_features()) != impls[i].cpu_need) continue;
        for (int which = 0; which < 4; which++) {
            for (int32_t t = -1; t <= 0; t++) {
                memset(out, 0, sizeof out);
                pick(&impls[i], which)(src, out, 100, t);
                CHECK_MEM(out, src, 100);
            }
            pick(&impls[i], which)(src, out, 0, 4); /* size 0 touches nothing */
        }
    }
}

static void test_best_and_legacy(void)
{
    int n = 0;
    const tersa__shuffle_impl *impls = tersa__shuffle_impls(&n);
    const tersa__shuffle_impl *best = tersa__shuffle_best();
    CHECK(best >= impls && best < impls + n);
    CHECK((best->cpu_need & tersa__cpu_features()) == best->cpu_need);
    CHECK(tersa__shuffle_best() == best);
    printf("filters: best implementation is %s\n", best->name);

    /* Legacy rule: m % 8 == 0 -> the current rule, tail included; otherwise a plain copy. */
    uint8_t src[300], out[300], ref[300];
    fill_random(src, sizeof src, 77);
    static const int32_t cases[][2] = {{64 * 4 + 3, 4}, {64 * 4, 4}, {60 * 4 + 1, 4},
                                       {3, 4},          {80 * 3, 3}, {7, 1},
                                       {16, 1},         {0, 4}};
    for (int c = 0; c < COUNT(cases); c++) {
        int32_t size = cases[c][0], t = cases[c][1];
        memset(out, 0xEE, sizeof out);
        tersa__bitunshuffle_legacy(src, out, size, t);
        if ((size / t) % 8 == 0) {
            impls[0].bitunshuffle(src, ref, size, t);
            CHECK_MEM(out, ref, size);
        } else {
            CHECK_MEM(out, src, size);
        }
        CHECK_EQ(out[size], 0xEE);
    }
}

/* ---- (b) C-Blosc2 fixtures -------------------------------------------------------------- */

static void test_fixture(const char *name, int bit)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/blosc-compat/%s", TERSA_FIXTURES, name);
    size_t len = 0;
    uint8_t *fix = th_read_file(path, &len);
    if (!fix) {
        TH_FAIL_AT("fixture missing: %s", path);
        return;
    }
    CHECK_EQ(len, 4000000);
    if (len != 4000000) {
        free(fix);
        return;
    }
    uint8_t *want = malloc(len), *out = malloc(len);
    for (uint32_t i = 0; i < 1000000; i++) tersa__st32(want + 4 * (size_t)i, i);
    int n = 0;
    const tersa__shuffle_impl *impls = tersa__shuffle_impls(&n);
    for (int i = 0; i < n; i++) {
        if ((impls[i].cpu_need & tersa__cpu_features()) != impls[i].cpu_need) continue;
        memset(out, 0, len);
        (bit ? impls[i].bitunshuffle : impls[i].unshuffle)(fix, out, (int32_t)len, 4);
        CHECK_MEM(out, want, len);
        (bit ? impls[i].bitshuffle : impls[i].shuffle)(want, out, (int32_t)len, 4);
        CHECK_MEM(out, fix, len);
    }
    if (bit) {
        tersa__bitunshuffle_legacy(fix, out, (int32_t)len, 4); /* m % 8 == 0: same bytes */
        CHECK_MEM(out, want, len);
    }
    free(fix);
    free(want);
    free(out);
}

/* ---- (c) delta ---------------------------------------------------------------------------- */

static int32_t delta_word(int32_t t)
{
    if (t == 1 || t == 2 || t == 4 || t == 8) return t;
    return t % 8 == 0 ? 8 : 1;
}

/* Word-level reading of FORMATS 2.9.3 for the encoder. */
static void naive_delta(const uint8_t *ref, int block0, const uint8_t *src, uint8_t *dst,
                        int32_t size, int32_t t)
{
    int32_t w = delta_word(t), nw = size / w;
    memcpy(dst, src, (size_t)size);
    for (int32_t i = 0; i < nw; i++) {
        if (block0 && i == 0) continue;
        const uint8_t *other = block0 ? src + (size_t)(i - 1) * w : ref + (size_t)i * w;
        for (int32_t k = 0; k < w; k++) dst[(size_t)i * w + k] ^= other[k];
    }
}

static void test_delta_hand(void)
{
    /* typesize 2: words 0x0201, 0x0403 and a 1-byte tail */
    const uint8_t src[5] = {1, 2, 3, 4, 5}, ref[5] = {9, 9, 9, 9, 9};
    uint8_t out[5], back[5];
    tersa__delta_encode(ref, 1, src, out, 5, 2);
    const uint8_t want0[5] = {1, 2, 3 ^ 1, 4 ^ 2, 5};
    CHECK_MEM(out, want0, 5);
    tersa__delta_decode(ref, 1, out, back, 5, 2);
    CHECK_MEM(back, src, 5);
    tersa__delta_encode(ref, 0, src, out, 5, 2);
    const uint8_t want1[5] = {0x01 ^ 0x09, 0x02 ^ 0x09, 0x03 ^ 0x09, 0x04 ^ 0x09, 5};
    CHECK_MEM(out, want1, 5);
    tersa__delta_decode(ref, 0, out, back, 5, 2);
    CHECK_MEM(back, src, 5);
}

static void test_delta(void)
{
    static const int32_t ts[] = {1, 2, 3, 4, 8, 12, 16, 24};
    static const int32_t sizes[] = {0, 1, 7, 8, 9, 15, 63, 64, 65, 1001, 4099, 65536 + 13};
    int32_t cap = 65536 + 13;
    uint8_t *ref = malloc((size_t)cap), *src = malloc((size_t)cap), *enc = malloc((size_t)cap);
    uint8_t *want = malloc((size_t)cap), *dec = malloc((size_t)cap);
    test_delta_hand();
    for (int a = 0; a < COUNT(ts); a++) {
        for (int s = 0; s < COUNT(sizes); s++) {
            int32_t t = ts[a], size = sizes[s];
            fill_random(ref, (size_t)cap, (uint64_t)(a * 31 + s));
            for (int block0 = 1; block0 >= 0; block0--) {
                /* block k >= 1: similar to the reference so the XOR has structure */
                memcpy(src, ref, (size_t)size);
                if (!block0)
                    for (int32_t i = 0; i < size; i += 5) src[i] ^= (uint8_t)i;
                naive_delta(ref, block0, src, want, size, t);
                tersa__delta_encode(ref, block0, src, enc, size, t);
                CHECK_MEM(enc, want, size);
                tersa__delta_decode(ref, block0, enc, dec, size, t);
                CHECK_MEM(dec, src, size);
            }
        }
    }
    free(ref);
    free(src);
    free(enc);
    free(want);
    free(dec);
}

/* ---- (d) trunc-prec ------------------------------------------------------------------------ */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static void test_truncprec(void)
{
    uint8_t src[4 * 5 + 3], out[sizeof src];
    static const float vals[5] = {3.14159265f, -1.0e-3f, 12345.678f, 0.1f, -7.5e20f};
    for (int i = 0; i < 5; i++) tersa__st32(src + 4 * i, f32_bits(vals[i]));
    src[20] = 0xAB, src[21] = 0xCD, src[22] = 0xEF;
    static const struct {
        int8_t p;
        int zeroed;
    } c32[] = {{10, 13}, {1, 22}, {23, 0}, {-5, 5}, {-22, 22}, {-1, 1}};
    for (int c = 0; c < COUNT(c32); c++) {
        CHECK_OK(tersa__truncprec(c32[c].p, 4, src, out, (int32_t)sizeof src));
        uint32_t mask = ~((UINT32_C(1) << c32[c].zeroed) - 1);
        for (int i = 0; i < 5; i++) CHECK_EQ(tersa__ld32(out + 4 * i), f32_bits(vals[i]) & mask);
        CHECK_MEM(out + 20, src + 20, 3);
    }
    /* float64 */
    uint8_t s64[8 * 3 + 1], o64[sizeof s64];
    static const double d[3] = {2.718281828459045, -6.02214076e23, 1.0 / 3.0};
    for (int i = 0; i < 3; i++) tersa__st64(s64 + 8 * i, f64_bits(d[i]));
    s64[24] = 0x5A;
    static const struct {
        int8_t p;
        int zeroed;
    } c64[] = {{20, 32}, {52, 0}, {1, 51}, {-40, 40}, {-51, 51}};
    for (int c = 0; c < COUNT(c64); c++) {
        CHECK_OK(tersa__truncprec(c64[c].p, 8, s64, o64, (int32_t)sizeof s64));
        uint64_t mask = ~((UINT64_C(1) << c64[c].zeroed) - 1);
        for (int i = 0; i < 3; i++) CHECK_EQ(tersa__ld64(o64 + 8 * i), f64_bits(d[i]) & mask);
        CHECK_EQ(o64[24], 0x5A);
    }
    /* the value stays close: 10 kept bits of pi */
    CHECK_OK(tersa__truncprec(10, 4, src, out, 4));
    float pi10;
    uint32_t u = tersa__ld32(out);
    memcpy(&pi10, &u, 4);
    CHECK(pi10 <= vals[0] && vals[0] - pi10 < 0.004f);
    /* errors */
    CHECK_ERR(tersa__truncprec(0, 4, src, out, 4), TERSA_ERR_PARAM);
    CHECK_ERR(tersa__truncprec(0, 8, s64, o64, 8), TERSA_ERR_PARAM);
    CHECK_ERR(tersa__truncprec(24, 4, src, out, 4), TERSA_ERR_PARAM);
    CHECK_ERR(tersa__truncprec(-23, 4, src, out, 4), TERSA_ERR_PARAM);
    CHECK_ERR(tersa__truncprec(53, 8, s64, o64, 8), TERSA_ERR_PARAM);
    CHECK_ERR(tersa__truncprec(-52, 8, s64, o64, 8), TERSA_ERR_PARAM);
    CHECK_ERR(tersa__truncprec(10, 2, src, out, 4), TERSA_ERR_PARAM);
    CHECK(strstr(tersa_error_detail(), "typesize") != NULL);
    CHECK_ERR(tersa__truncprec(10, 1, src, out, 4), TERSA_ERR_PARAM);
    CHECK_ERR(tersa__truncprec(10, 16, src, out, 4), TERSA_ERR_PARAM);
    CHECK_ERR(tersa__truncprec(10, 4, src, out, -1), TERSA_ERR_PARAM);
    CHECK_OK(tersa__truncprec(10, 4, src, out, 0));
}

/* ---- (e) bytedelta --------------------------------------------------------------------------- */

/* What the id-34 writer produced: the running value restarts at 0 at 16 * floor(n / 16). */
static void buggy_encode(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    int32_t n = size / t, restart = n - n % 16;
    for (int32_t s = 0; s < t; s++) {
        uint8_t prev = 0;
        for (int32_t i = 0; i < n; i++) {
            if (i == restart) prev = 0;
            dst[s * n + i] = (uint8_t)(src[s * n + i] - prev);
            prev = src[s * n + i];
        }
    }
    memcpy(dst + n * t, src + n * t, (size_t)(size - n * t));
}

static void test_bytedelta_hand(void)
{
    /* t = 2, n = 3: streams {10, 12, 15} and {1, 5, 4}, tail {7} */
    const uint8_t src[7] = {10, 12, 15, 1, 5, 4, 7};
    const uint8_t want[7] = {10, 2, 3, 1, 4, 255, 7};
    uint8_t out[7], back[7];
    tersa__bytedelta_encode(src, out, 7, 2);
    CHECK_MEM(out, want, 7);
    tersa__bytedelta_decode(out, back, 7, 2, 0);
    CHECK_MEM(back, src, 7);
    tersa__bytedelta_decode(out, back, 7, 2, 1); /* n < 16: no difference */
    CHECK_MEM(back, src, 7);

    /* id 34, t = 1, n = 20: constant 5s were written as 5, 0 x 15, then 5, 0, 0, 0 */
    uint8_t enc34[20] = {5}, dec[20], fives[20];
    enc34[16] = 5;
    memset(fives, 5, sizeof fives);
    tersa__bytedelta_decode(enc34, dec, 20, 1, 1);
    CHECK_MEM(dec, fives, 20);
    tersa__bytedelta_decode(enc34, dec, 20, 1, 0); /* the fixed rule keeps summing */
    CHECK_MEM(dec, fives, 16);
    CHECK_EQ(dec[16], 10);
    CHECK_EQ(dec[19], 10);
}

static void test_bytedelta(void)
{
    static const int32_t ts[] = {1, 2, 3, 4, 7, 8, 16, 33};
    static const int32_t sizes[] = {0, 1, 5, 15, 16, 17, 31, 32, 33, 100, 1000, 4099, 70001};
    uint8_t *src = malloc(70001), *enc = malloc(70001), *dec = malloc(70001);
    uint8_t *enc34 = malloc(70001);
    test_bytedelta_hand();
    for (int a = 0; a < COUNT(ts); a++) {
        for (int s = 0; s < COUNT(sizes); s++) {
            int32_t t = ts[a], size = sizes[s];
            uint64_t st = (uint64_t)(a * 100 + s + 1);
            uint8_t v = 0;
            for (int32_t i = 0; i < size; i++) src[i] = v = (uint8_t)(v + (th_rand(&st) % 5));
            tersa__bytedelta_encode(src, enc, size, t);
            tersa__bytedelta_decode(enc, dec, size, t, 0);
            CHECK_MEM(dec, src, size);
            buggy_encode(src, enc34, size, t);
            tersa__bytedelta_decode(enc34, dec, size, t, 1);
            CHECK_MEM(dec, src, size);
            /* 34 and 35 streams agree up to the restart point */
            int32_t n = t ? size / t : 0;
            if (n % 16 == 0 || n < 16) CHECK_MEM(enc34, enc, size);
        }
    }
    free(src);
    free(enc);
    free(dec);
    free(enc34);
}

int main(void)
{
    test_impls_agree();
    test_degenerate();
    test_best_and_legacy();
    test_fixture("shuffle-2.20.0.cdata", 0);
    test_fixture("bitshuffle-2.20.0.cdata", 1);
    test_delta();
    test_truncprec();
    test_bytedelta();
    return th_report("filters");
}

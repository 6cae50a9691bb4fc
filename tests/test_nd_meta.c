/* The b2nd metalayer: parsing the bytes C-Blosc2 writes (fixtures, the FORMATS.md example, the
 * old caterva layout, ndim 16), serialising byte-identically, and rejecting every truncation,
 * bad marker, bad value and overflowing product with a clear error; random mutations never
 * crash. */
#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_ndarray.h"

/* FORMATS.md §4.1: ndim 2, (128,128) everywhere, dtype "|V4". */
static const uint8_t example[] = {0x97, 0x00, 0x02, 0x92, 0xd3, 0,    0,    0,    0,   0, 0,
                                  0,    0x80, 0xd3, 0,    0,    0,    0,    0,    0,   0, 0x80,
                                  0x92, 0xd2, 0,    0,    0,    0x80, 0xd2, 0,    0,   0, 0x80,
                                  0x92, 0xd2, 0,    0,    0,    0x80, 0xd2, 0,    0,   0, 0x80,
                                  0x00, 0xdb, 0x00, 0x00, 0x00, 0x03, 0x7c, 0x56, 0x34};

static tersa_nd_meta new_meta(void)
{
    tersa_nd_meta m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    return m;
}

static void test_example(void)
{
    tersa_nd_meta m = new_meta();
    uint8_t out[128];
    CHECK_EQ(tersa_nd_meta_parse(example, sizeof example, &m), (int64_t)sizeof example);
    CHECK_EQ(m.ndim, 2);
    CHECK_EQ(m.version, 0);
    CHECK_EQ(m.shape[0], 128);
    CHECK_EQ(m.chunkshape[1], 128);
    CHECK_EQ(m.blockshape[1], 128);
    CHECK_EQ(m.has_dtype, 1);
    CHECK_EQ(m.dtype_len, 3);
    CHECK_MEM(m.dtype, "|V4", 3);
    CHECK_EQ(tersa_nd_meta_serialize(&m, NULL, 0), (int64_t)sizeof example);
    CHECK_EQ(tersa_nd_meta_serialize(&m, out, sizeof out), (int64_t)sizeof example);
    CHECK_MEM(out, example, sizeof example);
    CHECK_ERR(tersa_nd_meta_serialize(&m, out, sizeof example - 1), TERSA_ERR_DST_TOO_SMALL);
    m.dtype = NULL; /* C-Blosc2 writes "|u1" for a NULL dtype */
    CHECK_EQ(tersa_nd_meta_serialize(&m, out, sizeof out), (int64_t)sizeof example);
    CHECK_MEM(out + sizeof example - 3, "|u1", 3);
}

/* The metalayers of the fixture arrays re-serialise to the same bytes. */
static void test_fixture_bytes(void)
{
    static const char *const files[] = {"blosc-frames/example_item_prices.b2nd",
                                        "official-b2/b2nd_f32_2d_blosclz.b2nd"};
    for (int k = 0; k < 2; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", TERSA_FIXTURES, files[k]);
        tersa_schunk *s = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
        CHECK(s != NULL);
        if (!s)
            continue;
        const uint8_t *c = NULL;
        size_t len = 0;
        uint8_t out[512];
        tersa_nd_meta m = new_meta();
        CHECK_OK(tersa_schunk_meta_get(s, "b2nd", &c, &len));
        CHECK_EQ(tersa_nd_meta_parse(c, len, &m), (int64_t)len);
        CHECK_EQ(tersa_nd_meta_serialize(&m, out, sizeof out), (int64_t)len);
        CHECK_MEM(out, c, len);
        tersa_schunk_free(s);
    }
}

/* A caterva metalayer ends after blockshape: no dtype. */
static void test_caterva(void)
{
    uint8_t b[64];
    tersa_nd_meta m = new_meta();
    memcpy(b, example, 44);
    b[0] = 0x95;
    CHECK_EQ(tersa_nd_meta_parse(b, 44, &m), 44);
    CHECK_EQ(m.has_dtype, 0);
    CHECK(m.dtype == NULL);
    CHECK_EQ(m.shape[1], 128);
}

/* ndim 16: C-Blosc2 writes the markers as 0x90 + 16 = 0xA0. We read it, never write it. */
static void test_ndim16(void)
{
    tersa_nd_meta m = new_meta();
    uint8_t buf[512], *p = buf;
    *p++ = 0x97;
    *p++ = 0;
    *p++ = 16;
    for (int part = 0; part < 3; part++) {
        *p++ = 0xa0;
        for (int i = 0; i < 16; i++) {
            *p++ = part ? 0xd2 : 0xd3;
            memset(p, 0, part ? 3 : 7);
            p += part ? 3 : 7;
            *p++ = 2;
        }
    }
    *p++ = 0;
    *p++ = 0xdb;
    memcpy(p, "\0\0\0\3<i1", 7);
    p += 7;
    CHECK_EQ(tersa_nd_meta_parse(buf, (size_t)(p - buf), &m), p - buf);
    CHECK_EQ(m.ndim, 16);
    CHECK_EQ(m.shape[15], 2);
    CHECK_ERR(tersa_nd_meta_serialize(&m, NULL, 0), TERSA_ERR_PARAM);
    buf[2] = 17;
    CHECK_ERR(tersa_nd_meta_parse(buf, (size_t)(p - buf), &m), TERSA_ERR_UNSUPPORTED);
}

/* Every prefix is rejected except the one ending after blockshape (caterva layout). */
static void test_truncations(void)
{
    for (size_t n = 0; n < sizeof example; n++) {
        tersa_nd_meta m = new_meta();
        int64_t rc = tersa_nd_meta_parse(example, n, &m);
        if (n == 44) {
            CHECK_EQ(rc, 44);
        } else {
            th_checks++;
            if (rc != TERSA_ERR_TRUNCATED)
                TH_FAIL_AT("prefix of %zu bytes: rc %lld (%s)", n, (long long)rc,
                           tersa_error_detail());
        }
    }
}

static int64_t parse_patched(size_t off, const uint8_t *bytes, size_t n)
{
    uint8_t b[sizeof example];
    tersa_nd_meta m = new_meta();
    memcpy(b, example, sizeof b);
    memcpy(b + off, bytes, n);
    return tersa_nd_meta_parse(b, sizeof b, &m);
}

static void test_bad_values(void)
{
    static const uint8_t neg64[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t big64[8] = {0x40, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t zero32[4] = {0}, neg32[4] = {0xff, 0xff, 0xff, 0xfe};
    static const uint8_t big32[4] = {0x7f, 0xff, 0xff, 0xff};
    CHECK_ERR(parse_patched(0, (const uint8_t[]){0x94}, 1), TERSA_ERR_CORRUPT); /* array of 4 */
    CHECK_ERR(parse_patched(0, (const uint8_t[]){0xc0}, 1), TERSA_ERR_CORRUPT);
    CHECK_ERR(parse_patched(1, (const uint8_t[]){0xcc}, 1), TERSA_ERR_CORRUPT);  /* version */
    CHECK_ERR(parse_patched(3, (const uint8_t[]){0x93}, 1), TERSA_ERR_CORRUPT);  /* marker */
    CHECK_ERR(parse_patched(4, (const uint8_t[]){0xd2}, 1), TERSA_ERR_CORRUPT);  /* not int64 */
    CHECK_ERR(parse_patched(23, (const uint8_t[]){0xd3}, 1), TERSA_ERR_CORRUPT); /* not int32 */
    CHECK_ERR(parse_patched(44, (const uint8_t[]){0x80}, 1), TERSA_ERR_CORRUPT); /* format */
    CHECK_ERR(parse_patched(45, (const uint8_t[]){0xd9}, 1), TERSA_ERR_CORRUPT); /* not str32 */
    CHECK_ERR(parse_patched(46, (const uint8_t[]){0x80}, 1), TERSA_ERR_CORRUPT); /* len < 0 */
    CHECK_ERR(parse_patched(46, (const uint8_t[]){0, 0, 0, 4}, 4), TERSA_ERR_TRUNCATED);
    CHECK_ERR(parse_patched(5, neg64, 8), TERSA_ERR_CORRUPT);   /* shape < 0 */
    CHECK_ERR(parse_patched(24, zero32, 4), TERSA_ERR_CORRUPT); /* chunkshape 0 */
    CHECK_ERR(parse_patched(24, neg32, 4), TERSA_ERR_CORRUPT);  /* chunkshape < 0 */
    CHECK_ERR(parse_patched(35, zero32, 4), TERSA_ERR_CORRUPT); /* blockshape 0 */
    CHECK_ERR(parse_patched(5, big64, 8), TERSA_ERR_CORRUPT);   /* 2^62 x 128 */
    CHECK_ERR(parse_patched(24, big32, 4), TERSA_ERR_CORRUPT);  /* chunk > 2^31 items */
    /* an axis of length 0 may carry chunkshape = blockshape = 0 (C-Blosc2 placeholders) */
    uint8_t b[sizeof example];
    tersa_nd_meta m = new_meta();
    memcpy(b, example, sizeof b);
    memset(b + 5, 0, 8);
    memset(b + 24, 0, 4);
    memset(b + 35, 0, 4);
    CHECK_EQ(tersa_nd_meta_parse(b, sizeof b, &m), (int64_t)sizeof b);
    CHECK_EQ(m.chunkshape[0], 0);
    memcpy(b + 24, (const uint8_t[]){0, 0, 0, 1}, 4); /* blockshape 0 with chunkshape 1 */
    CHECK_ERR(tersa_nd_meta_parse(b, sizeof b, &m), TERSA_ERR_CORRUPT);
    CHECK_ERR(tersa_nd_meta_parse(NULL, 4, &m), TERSA_ERR_PARAM);
    m.struct_size = 8;
    CHECK_ERR(tersa_nd_meta_parse(example, sizeof example, &m), TERSA_ERR_PARAM);
}

/* Random byte changes: never a crash, and a success re-serialises to what it consumed. */
static void test_mutations(void)
{
    uint64_t rng = 12345;
    for (int k = 0; k < 20000; k++) {
        uint8_t b[sizeof example], out[sizeof example + 64];
        tersa_nd_meta m = new_meta();
        memcpy(b, example, sizeof b);
        int nflip = 1 + (int)(th_rand(&rng) % 3);
        for (int f = 0; f < nflip; f++)
            b[th_rand(&rng) % sizeof b] = (uint8_t)th_rand(&rng);
        size_t len = sizeof b - (size_t)(th_rand(&rng) % 4);
        int64_t rc = tersa_nd_meta_parse(b, len, &m);
        if (rc < 0)
            continue;
        CHECK(rc <= (int64_t)len);
        if (m.has_dtype && b[0] == 0x97 && rc == (int64_t)len) {
            CHECK_EQ(tersa_nd_meta_serialize(&m, out, sizeof out), rc);
            CHECK_MEM(out, b, (size_t)rc);
        }
    }
}

int main(void)
{
    test_example();
    test_fixture_bytes();
    test_caterva();
    test_ndim16();
    test_truncations();
    test_bad_values();
    test_mutations();
    return th_report("nd_meta");
}

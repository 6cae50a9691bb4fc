/* The msgpack subset used by frames and the b2nd metalayer: every encoding round-trips, fixed
 * forms produce the exact bytes frames use, and every truncation or wrong marker is a clean
 * error (never a read past the end). */
#include <stdbool.h>

#include "frame/tersa_msgpack.h"
#include "harness.h"
#include "tersa/tersa.h"

static void test_ints(void)
{
    static const int64_t vals[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL,
                                   4294967296LL, INT64_MAX, -1, -32, -33, -128, -129, -32768,
                                   -32769, INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MIN};
    static const size_t sizes[] = {1, 1, 1, 2, 2, 3, 3, 5, 5, 9, 9, 1, 1, 2, 2, 3, 3, 5, 5, 9, 9};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        tersa__buf b;
        tersa__mp_reader r;
        int64_t v = 0;
        tersa__buf_init(&b);
        tersa__mp_w_int(&b, vals[i]);
        CHECK_EQ(b.len, sizes[i]);
        tersa__mp_reader_init(&r, b.p, b.len, "test");
        CHECK_OK(tersa__mp_read_int(&r, &v, "int"));
        CHECK_EQ(v, vals[i]);
        CHECK_EQ(r.cur.left, 0);
        for (size_t cut = 0; cut < b.len; cut++) { /* every truncation */
            tersa__mp_reader_init(&r, b.p, cut, "test");
            CHECK_ERR(tersa__mp_read_int(&r, &v, "int"), TERSA_ERR_TRUNCATED);
        }
        tersa__buf_free(&b);
    }
    uint8_t big[9] = {0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0}; /* uint64 above INT64_MAX */
    tersa__mp_reader r;
    int64_t v;
    tersa__mp_reader_init(&r, big, sizeof big, "test");
    CHECK_ERR(tersa__mp_read_int(&r, &v, "int"), TERSA_ERR_RANGE);
    uint8_t str[2] = {0xa1, 'x'};
    tersa__mp_reader_init(&r, str, sizeof str, "test");
    CHECK_ERR(tersa__mp_read_int(&r, &v, "my field"), TERSA_ERR_CORRUPT);
    CHECK(strstr(tersa_error_detail(), "my field") != NULL);
}

/* The fixed-width forms frames use, byte for byte. */
static void test_fixed(void)
{
    static const uint8_t want[] = {0xd1, 0xff, 0xfe, 0xd2, 0x00, 0x00, 0x00, 0x57, 0xd3, 0,
                                   0, 0, 0, 0, 0, 0x01, 0x00, 0xcd, 0x00, 0x11, 0xce, 0, 0, 0,
                                   0x23, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x94, 0xc3, 0xc2, 0xdc,
                                   0x00, 0x02, 0xde, 0x00, 0x01, 0xc6, 0, 0, 0, 2, 'h', 'i',
                                   0xdb, 0, 0, 0, 3, '|', 'u', '1', 0xd8, 0x06};
    tersa__buf b;
    uint8_t ext[16] = {0};
    tersa__buf_init(&b);
    tersa__mp_w_i16(&b, -2);
    tersa__mp_w_i32(&b, 87);
    tersa__mp_w_i64(&b, 256);
    tersa__mp_w_u16(&b, 17);
    tersa__mp_w_u32(&b, 35);
    tersa__mp_w_u64(&b, 148);
    tersa__mp_w_bool(&b, true);
    tersa__mp_w_bool(&b, false);
    tersa__mp_w_array16(&b, 2);
    tersa__mp_w_map16(&b, 1);
    tersa__mp_w_bin32(&b, "hi", 2);
    tersa__mp_w_str32(&b, "|u1", 3);
    tersa__mp_w_fixext16(&b, 6, ext);
    CHECK_OK(tersa__buf_status(&b));
    CHECK_EQ(b.len, sizeof want + 16);
    CHECK_MEM(b.p, want, sizeof want);

    tersa__mp_reader r;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint16_t u16;
    uint32_t u32, n;
    uint64_t u64;
    bool t, f;
    const uint8_t *s;
    int8_t type;
    tersa__mp_reader_init(&r, b.p, b.len, "test");
    CHECK_OK(tersa__mp_read_i16(&r, &i16, "a"));
    CHECK_OK(tersa__mp_read_i32(&r, &i32, "b"));
    CHECK_OK(tersa__mp_read_i64(&r, &i64, "c"));
    CHECK_OK(tersa__mp_read_u16(&r, &u16, "d"));
    CHECK_OK(tersa__mp_read_u32(&r, &u32, "e"));
    CHECK_OK(tersa__mp_read_u64(&r, &u64, "f"));
    CHECK_EQ(i16, -2);
    CHECK_EQ(i32, 87);
    CHECK_EQ(i64, 256);
    CHECK_EQ(u16, 17);
    CHECK_EQ(u32, 35);
    CHECK_EQ(u64, 148);
    CHECK_OK(tersa__mp_read_bool(&r, &t, "g"));
    CHECK_OK(tersa__mp_read_bool(&r, &f, "h"));
    CHECK(t && !f);
    CHECK_OK(tersa__mp_read_array(&r, &n, "i"));
    CHECK_EQ(n, 2);
    CHECK_OK(tersa__mp_read_map(&r, &n, "j"));
    CHECK_EQ(n, 1);
    CHECK_OK(tersa__mp_read_bin(&r, &s, &n, "k"));
    CHECK_EQ(n, 2);
    CHECK_MEM(s, "hi", 2);
    CHECK_OK(tersa__mp_read_str(&r, &s, &n, "l"));
    CHECK_EQ(n, 3);
    CHECK_MEM(s, "|u1", 3);
    CHECK_OK(tersa__mp_read_ext(&r, &type, &s, &n, "m"));
    CHECK_EQ(type, 6);
    CHECK_EQ(n, 16);
    CHECK_EQ(r.cur.left, 0);
    /* A fixed-width reader refuses another width of the same type. */
    tersa__mp_reader_init(&r, b.p + 3, 5, "test");
    CHECK_ERR(tersa__mp_read_i64(&r, &i64, "c"), TERSA_ERR_CORRUPT);
    tersa__buf_free(&b);
}

/* Shortest forms of containers and strings at every size boundary, then skip them all. */
static void test_containers(void)
{
    static const uint32_t lens[] = {0, 15, 16, 31, 32, 255, 256, 65535, 65536};
    tersa__buf b;
    tersa__buf_init(&b);
    char *text = calloc(1, 70000);
    memset(text, 'a', 69999);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        tersa__mp_w_str(&b, text, lens[i]);
        tersa__mp_w_array(&b, lens[i] > 100 ? 2 : lens[i]);
        for (uint32_t k = 0; k < (lens[i] > 100 ? 2 : lens[i]); k++) tersa__mp_w_int(&b, k);
        tersa__mp_w_map(&b, 1);
        tersa__mp_w_str(&b, "k", 1);
        tersa__mp_w_int(&b, -5);
    }
    CHECK_OK(tersa__buf_status(&b));
    tersa__mp_reader r;
    tersa__mp_reader_init(&r, b.p, b.len, "test");
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        const uint8_t *s;
        uint32_t n;
        CHECK_OK(tersa__mp_read_str(&r, &s, &n, "str"));
        CHECK_EQ(n, lens[i]);
        CHECK_OK(tersa__mp_skip(&r, "array"));
        CHECK_OK(tersa__mp_skip(&r, "map"));
    }
    CHECK_EQ(r.cur.left, 0);
    for (size_t cut = 0; cut < b.len; cut += 97) { /* skipping truncated data fails cleanly */
        tersa__mp_reader_init(&r, b.p, cut, "test");
        int rc = 0;
        while (rc == 0 && r.cur.left > 0) rc = tersa__mp_skip(&r, "value");
        CHECK(rc == 0 || rc == TERSA_ERR_TRUNCATED);
    }
    free(text);
    tersa__buf_free(&b);
}

static void test_hostile(void)
{
    uint8_t deep[100];
    memset(deep, 0x91, sizeof deep); /* arrays nested 100 deep */
    tersa__mp_reader r;
    tersa__mp_reader_init(&r, deep, sizeof deep, "test");
    CHECK_ERR(tersa__mp_skip(&r, "deep"), TERSA_ERR_CORRUPT);
    uint8_t bad = 0xc1; /* the one unused marker */
    tersa__mp_reader_init(&r, &bad, 1, "test");
    CHECK_ERR(tersa__mp_skip(&r, "bad"), TERSA_ERR_CORRUPT);
    uint8_t huge[5] = {0xc6, 0xff, 0xff, 0xff, 0xff}; /* bin32 of 4 GiB in 5 bytes */
    const uint8_t *s;
    uint32_t n;
    tersa__mp_reader_init(&r, huge, sizeof huge, "test");
    CHECK_ERR(tersa__mp_read_bin(&r, &s, &n, "bin"), TERSA_ERR_TRUNCATED);
    uint8_t map[5] = {0xdf, 0xff, 0xff, 0xff, 0xff}; /* map32 of 4G pairs, no data */
    tersa__mp_reader_init(&r, map, sizeof map, "test");
    CHECK_ERR(tersa__mp_skip(&r, "map"), TERSA_ERR_TRUNCATED);
    /* Random bytes: skip must end with success or an error, never run past the buffer. */
    uint64_t seed = 9;
    for (int t = 0; t < 20000; t++) {
        uint8_t buf[24];
        for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)th_rand(&seed);
        tersa__mp_reader_init(&r, buf, 1 + th_rand(&seed) % sizeof buf, "test");
        int rc = 0;
        while (rc == 0 && r.cur.left > 0) rc = tersa__mp_skip(&r, "random");
        CHECK(rc <= 0);
    }
    tersa__mp_reader_init(&r, deep, 10, "test");
    CHECK_OK(tersa__mp_seek(&r, 10, "end"));
    CHECK_ERR(tersa__mp_seek(&r, 11, "past"), TERSA_ERR_CORRUPT);
}

int main(void)
{
    test_ints();
    test_fixed();
    test_containers();
    test_hostile();
    return th_report("msgpack");
}

/* The msgpack subset: bounded reader and growable writer (see tersa_msgpack.h). */
#include "frame/tersa_msgpack.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- Reader --------------------------------------------------------------------------- */

void tersa__mp_reader_init(tersa__mp_reader *r, const uint8_t *buf, size_t len, const char *where)
{
    r->cur.p = buf;
    r->cur.left = len;
    r->base = buf;
    r->where = where ? where : "msgpack";
}

size_t tersa__mp_pos(const tersa__mp_reader *r) { return (size_t)(r->cur.p - r->base); }

static int mp_truncated(const tersa__mp_reader *r, size_t need, const char *what)
{
    return tersa__fail(TERSA_ERR_TRUNCATED,
                       "%s: %s at offset %zu needs %zu bytes, only %zu left", r->where, what,
                       tersa__mp_pos(r), need, r->cur.left);
}

static int mp_bad_marker(const tersa__mp_reader *r, uint8_t m, const char *expect,
                         const char *what)
{
    return tersa__fail(TERSA_ERR_CORRUPT, "%s: %s at offset %zu: expected %s, found marker %02X",
                       r->where, what, tersa__mp_pos(r), expect, m);
}

int tersa__mp_seek(tersa__mp_reader *r, size_t pos, const char *what)
{
    size_t total = tersa__mp_pos(r) + r->cur.left;
    if (pos > total)
        return tersa__fail(TERSA_ERR_CORRUPT, "%s: %s: offset %zu is past the end (%zu bytes)",
                           r->where, what, pos, total);
    r->cur.p = r->base + pos;
    r->cur.left = total - pos;
    return 0;
}

int tersa__mp_take(tersa__mp_reader *r, size_t n, const uint8_t **out, const char *what)
{
    if (!tersa__cur_take(&r->cur, n, out)) return mp_truncated(r, n, what);
    return 0;
}

int tersa__mp_peek(const tersa__mp_reader *r, const char *what)
{
    if (r->cur.left < 1) return mp_truncated(r, 1, what);
    return r->cur.p[0];
}

/* Read a big-endian unsigned value of 1, 2, 4 or 8 bytes. */
static int mp_be(tersa__mp_reader *r, size_t width, uint64_t *v, const char *what)
{
    const uint8_t *p = NULL;
    TERSA_TRY(tersa__mp_take(r, width, &p, what));
    switch (width) {
    case 1: *v = p[0]; break;
    case 2: *v = tersa__ld16be(p); break;
    case 4: *v = tersa__ld32be(p); break;
    default: *v = tersa__ld64be(p); break;
    }
    return 0;
}

int tersa__mp_expect(tersa__mp_reader *r, uint8_t marker, const char *what)
{
    int m = tersa__mp_peek(r, what);
    if (m < 0) return m;
    if (m != marker) {
        char exp[8];
        snprintf(exp, sizeof exp, "%02X", marker);
        return mp_bad_marker(r, (uint8_t)m, exp, what);
    }
    r->cur.p++;
    r->cur.left--;
    return 0;
}

/* Shared by arrays and maps: fix range [fix, fix+15], then 16- and 32-bit forms. */
static int mp_container(tersa__mp_reader *r, uint8_t fix, uint8_t m16, uint32_t *n,
                        const char *kind, const char *what)
{
    int m = tersa__mp_peek(r, what);
    uint64_t v;
    if (m < 0) return m;
    if (m >= fix && m <= fix + 15) {
        r->cur.p++;
        r->cur.left--;
        *n = (uint32_t)(m - fix);
        return 0;
    }
    if (m != m16 && m != m16 + 1) return mp_bad_marker(r, (uint8_t)m, kind, what);
    r->cur.p++;
    r->cur.left--;
    TERSA_TRY(mp_be(r, m == m16 ? 2 : 4, &v, what));
    *n = (uint32_t)v;
    return 0;
}

int tersa__mp_read_array(tersa__mp_reader *r, uint32_t *n, const char *what)
{
    return mp_container(r, 0x90, TERSA_MP_ARRAY16, n, "an array", what);
}

int tersa__mp_read_map(tersa__mp_reader *r, uint32_t *n, const char *what)
{
    return mp_container(r, 0x80, TERSA_MP_MAP16, n, "a map", what);
}

/* Length-prefixed payload: 8/16/32-bit length then the bytes. */
static int mp_payload(tersa__mp_reader *r, size_t lenw, const uint8_t **s, uint32_t *n,
                      const char *what)
{
    uint64_t len;
    TERSA_TRY(mp_be(r, lenw, &len, what));
    TERSA_TRY(tersa__mp_take(r, (size_t)len, s, what));
    *n = (uint32_t)len;
    return 0;
}

int tersa__mp_read_str(tersa__mp_reader *r, const uint8_t **s, uint32_t *n, const char *what)
{
    int m = tersa__mp_peek(r, what);
    if (m < 0) return m;
    if (m >= 0xa0 && m <= 0xbf) {
        r->cur.p++;
        r->cur.left--;
        *n = (uint32_t)(m & 0x1f);
        return tersa__mp_take(r, *n, s, what);
    }
    if (m < TERSA_MP_STR8 || m > TERSA_MP_STR32) return mp_bad_marker(r, (uint8_t)m, "a string", what);
    r->cur.p++;
    r->cur.left--;
    return mp_payload(r, (size_t)1 << (m - TERSA_MP_STR8), s, n, what);
}

int tersa__mp_read_bin(tersa__mp_reader *r, const uint8_t **s, uint32_t *n, const char *what)
{
    int m = tersa__mp_peek(r, what);
    if (m < 0) return m;
    if (m < TERSA_MP_BIN8 || m > TERSA_MP_BIN32) return mp_bad_marker(r, (uint8_t)m, "bin", what);
    r->cur.p++;
    r->cur.left--;
    return mp_payload(r, (size_t)1 << (m - TERSA_MP_BIN8), s, n, what);
}

int tersa__mp_read_int(tersa__mp_reader *r, int64_t *v, const char *what)
{
    int m = tersa__mp_peek(r, what);
    uint64_t u;
    if (m < 0) return m;
    if (m <= 0x7f || m >= 0xe0) {
        r->cur.p++;
        r->cur.left--;
        *v = (int8_t)m;
        return 0;
    }
    if (m < TERSA_MP_UINT8 || m > TERSA_MP_INT64) return mp_bad_marker(r, (uint8_t)m, "an integer", what);
    r->cur.p++;
    r->cur.left--;
    size_t width = (size_t)1 << ((m - TERSA_MP_UINT8) & 3);
    TERSA_TRY(mp_be(r, width, &u, what));
    if (m <= TERSA_MP_UINT64) {
        if (u > (uint64_t)INT64_MAX)
            return tersa__fail(TERSA_ERR_RANGE, "%s: %s: uint64 %llu does not fit int64",
                               r->where, what, (unsigned long long)u);
        *v = (int64_t)u;
        return 0;
    }
    switch (width) { /* sign-extend */
    case 1: *v = (int8_t)u; break;
    case 2: *v = (int16_t)u; break;
    case 4: *v = (int32_t)u; break;
    default: *v = (int64_t)u; break;
    }
    return 0;
}

int tersa__mp_read_bool(tersa__mp_reader *r, bool *v, const char *what)
{
    int m = tersa__mp_peek(r, what);
    if (m < 0) return m;
    if (m != TERSA_MP_TRUE && m != TERSA_MP_FALSE) return mp_bad_marker(r, (uint8_t)m, "a bool", what);
    r->cur.p++;
    r->cur.left--;
    *v = m == TERSA_MP_TRUE;
    return 0;
}

int tersa__mp_read_ext(tersa__mp_reader *r, int8_t *type, const uint8_t **data, uint32_t *n,
                       const char *what)
{
    int m = tersa__mp_peek(r, what);
    const uint8_t *t = NULL;
    uint64_t len;
    if (m < 0) return m;
    if (m >= TERSA_MP_FIXEXT1 && m <= TERSA_MP_FIXEXT16) {
        r->cur.p++;
        r->cur.left--;
        len = (uint64_t)1 << (m - TERSA_MP_FIXEXT1);
    } else if (m >= TERSA_MP_EXT8 && m <= TERSA_MP_EXT32) {
        r->cur.p++;
        r->cur.left--;
        TERSA_TRY(mp_be(r, (size_t)1 << (m - TERSA_MP_EXT8), &len, what));
    } else {
        return mp_bad_marker(r, (uint8_t)m, "an ext", what);
    }
    TERSA_TRY(tersa__mp_take(r, 1, &t, what));
    *type = (int8_t)t[0];
    TERSA_TRY(tersa__mp_take(r, (size_t)len, data, what));
    *n = (uint32_t)len;
    return 0;
}

/* Fixed-width forms: exactly this marker, then width bytes. */
static int mp_fixed(tersa__mp_reader *r, uint8_t marker, size_t width, uint64_t *v,
                    const char *what)
{
    TERSA_TRY(tersa__mp_expect(r, marker, what));
    return mp_be(r, width, v, what);
}

int tersa__mp_read_i16(tersa__mp_reader *r, int16_t *v, const char *what)
{
    uint64_t u;
    TERSA_TRY(mp_fixed(r, TERSA_MP_INT16, 2, &u, what));
    *v = (int16_t)u;
    return 0;
}

int tersa__mp_read_i32(tersa__mp_reader *r, int32_t *v, const char *what)
{
    uint64_t u;
    TERSA_TRY(mp_fixed(r, TERSA_MP_INT32, 4, &u, what));
    *v = (int32_t)u;
    return 0;
}

int tersa__mp_read_i64(tersa__mp_reader *r, int64_t *v, const char *what)
{
    uint64_t u;
    TERSA_TRY(mp_fixed(r, TERSA_MP_INT64, 8, &u, what));
    *v = (int64_t)u;
    return 0;
}

int tersa__mp_read_u16(tersa__mp_reader *r, uint16_t *v, const char *what)
{
    uint64_t u;
    TERSA_TRY(mp_fixed(r, TERSA_MP_UINT16, 2, &u, what));
    *v = (uint16_t)u;
    return 0;
}

int tersa__mp_read_u32(tersa__mp_reader *r, uint32_t *v, const char *what)
{
    uint64_t u;
    TERSA_TRY(mp_fixed(r, TERSA_MP_UINT32, 4, &u, what));
    *v = (uint32_t)u;
    return 0;
}

int tersa__mp_read_u64(tersa__mp_reader *r, uint64_t *v, const char *what)
{
    return mp_fixed(r, TERSA_MP_UINT64, 8, v, what);
}

/* Bytes of payload after the marker for scalar markers; -1 for containers/variable forms. */
static int mp_scalar_width(int m)
{
    if (m <= 0x7f || m >= 0xe0 || m == TERSA_MP_NIL || m == TERSA_MP_FALSE || m == TERSA_MP_TRUE)
        return 0;
    if (m == TERSA_MP_FLOAT32) return 4;
    if (m == TERSA_MP_FLOAT64) return 8;
    if (m >= TERSA_MP_UINT8 && m <= TERSA_MP_INT64) return 1 << ((m - TERSA_MP_UINT8) & 3);
    return -1;
}

static int mp_skip_depth(tersa__mp_reader *r, int depth, const char *what)
{
    const uint8_t *s;
    uint32_t n;
    int8_t t;
    int m = tersa__mp_peek(r, what);
    if (m < 0) return m;
    if (depth > 32)
        return tersa__fail(TERSA_ERR_CORRUPT, "%s: %s: nesting deeper than 32 at offset %zu",
                           r->where, what, tersa__mp_pos(r));
    int w = mp_scalar_width(m);
    if (w >= 0) {
        r->cur.p++;
        r->cur.left--;
        return tersa__mp_take(r, (size_t)w, &s, what);
    }
    if ((m >= 0xa0 && m <= 0xbf) || (m >= TERSA_MP_STR8 && m <= TERSA_MP_STR32))
        return tersa__mp_read_str(r, &s, &n, what);
    if (m >= TERSA_MP_BIN8 && m <= TERSA_MP_BIN32) return tersa__mp_read_bin(r, &s, &n, what);
    if ((m >= TERSA_MP_EXT8 && m <= TERSA_MP_EXT32) ||
        (m >= TERSA_MP_FIXEXT1 && m <= TERSA_MP_FIXEXT16))
        return tersa__mp_read_ext(r, &t, &s, &n, what);
    bool is_map = (m >= 0x80 && m <= 0x8f) || m == TERSA_MP_MAP16 || m == TERSA_MP_MAP32;
    if (is_map) TERSA_TRY(tersa__mp_read_map(r, &n, what));
    else if ((m >= 0x90 && m <= 0x9f) || m == TERSA_MP_ARRAY16 || m == TERSA_MP_ARRAY32)
        TERSA_TRY(tersa__mp_read_array(r, &n, what));
    else
        return mp_bad_marker(r, (uint8_t)m, "a msgpack value", what); /* 0xc1 */
    uint64_t items = (uint64_t)n * (is_map ? 2 : 1);
    for (uint64_t i = 0; i < items; i++) TERSA_TRY(mp_skip_depth(r, depth + 1, what));
    return 0;
}

int tersa__mp_skip(tersa__mp_reader *r, const char *what) { return mp_skip_depth(r, 0, what); }

/* ---- Writer --------------------------------------------------------------------------- */

void tersa__buf_init(tersa__buf *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}

void tersa__buf_free(tersa__buf *b)
{
    tersa__free(b->p);
    tersa__buf_init(b);
}

int tersa__buf_status(const tersa__buf *b) { return b->err; }

uint8_t *tersa__buf_grow(tersa__buf *b, size_t n)
{
    if (b->err) return NULL;
    if (n > SIZE_MAX / 2 - b->len) {
        b->err = tersa__fail(TERSA_ERR_TOO_LARGE, "msgpack writer: buffer size overflow");
        return NULL;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = tersa__realloc(b->p, cap);
        if (!p) {
            b->err = tersa__fail(TERSA_ERR_NOMEM, "msgpack writer: cannot grow to %zu bytes", cap);
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    uint8_t *out = b->p + b->len;
    b->len += n;
    return out;
}

void tersa__buf_put(tersa__buf *b, const void *data, size_t n)
{
    uint8_t *p = tersa__buf_grow(b, n);
    if (p && n) memcpy(p, data, n);
}

void tersa__buf_u8(tersa__buf *b, uint8_t v) { tersa__buf_put(b, &v, 1); }

/* Marker then a big-endian value of width bytes. */
static void mp_w_be(tersa__buf *b, uint8_t marker, size_t width, uint64_t v)
{
    uint8_t *p = tersa__buf_grow(b, 1 + width);
    if (!p) return;
    p[0] = marker;
    switch (width) {
    case 1: p[1] = (uint8_t)v; break;
    case 2: tersa__st16be(p + 1, (uint16_t)v); break;
    case 4: tersa__st32be(p + 1, (uint32_t)v); break;
    default: tersa__st64be(p + 1, v); break;
    }
}

void tersa__mp_w_i16(tersa__buf *b, int16_t v) { mp_w_be(b, TERSA_MP_INT16, 2, (uint16_t)v); }
void tersa__mp_w_i32(tersa__buf *b, int32_t v) { mp_w_be(b, TERSA_MP_INT32, 4, (uint32_t)v); }
void tersa__mp_w_i64(tersa__buf *b, int64_t v) { mp_w_be(b, TERSA_MP_INT64, 8, (uint64_t)v); }
void tersa__mp_w_u16(tersa__buf *b, uint16_t v) { mp_w_be(b, TERSA_MP_UINT16, 2, v); }
void tersa__mp_w_u32(tersa__buf *b, uint32_t v) { mp_w_be(b, TERSA_MP_UINT32, 4, v); }
void tersa__mp_w_u64(tersa__buf *b, uint64_t v) { mp_w_be(b, TERSA_MP_UINT64, 8, v); }
void tersa__mp_w_bool(tersa__buf *b, bool v) { tersa__buf_u8(b, v ? TERSA_MP_TRUE : TERSA_MP_FALSE); }

void tersa__mp_w_int(tersa__buf *b, int64_t v)
{
    if (v >= -32 && v <= 127) tersa__buf_u8(b, (uint8_t)(int8_t)v);
    else if (v >= 0 && v <= UINT8_MAX) mp_w_be(b, TERSA_MP_UINT8, 1, (uint64_t)v);
    else if (v >= 0 && v <= UINT16_MAX) mp_w_be(b, TERSA_MP_UINT16, 2, (uint64_t)v);
    else if (v >= 0 && v <= UINT32_MAX) mp_w_be(b, TERSA_MP_UINT32, 4, (uint64_t)v);
    else if (v >= 0) mp_w_be(b, TERSA_MP_UINT64, 8, (uint64_t)v);
    else if (v >= INT8_MIN) mp_w_be(b, TERSA_MP_INT8, 1, (uint8_t)(int8_t)v);
    else if (v >= INT16_MIN) mp_w_be(b, TERSA_MP_INT16, 2, (uint16_t)(int16_t)v);
    else if (v >= INT32_MIN) mp_w_be(b, TERSA_MP_INT32, 4, (uint32_t)(int32_t)v);
    else mp_w_be(b, TERSA_MP_INT64, 8, (uint64_t)v);
}

static void mp_w_container(tersa__buf *b, uint8_t fix, uint8_t m16, uint32_t n)
{
    if (n <= 15) tersa__buf_u8(b, (uint8_t)(fix + n));
    else if (n <= UINT16_MAX) mp_w_be(b, m16, 2, n);
    else mp_w_be(b, (uint8_t)(m16 + 1), 4, n);
}

void tersa__mp_w_array(tersa__buf *b, uint32_t n) { mp_w_container(b, 0x90, TERSA_MP_ARRAY16, n); }
void tersa__mp_w_map(tersa__buf *b, uint32_t n) { mp_w_container(b, 0x80, TERSA_MP_MAP16, n); }
void tersa__mp_w_array16(tersa__buf *b, uint16_t n) { mp_w_be(b, TERSA_MP_ARRAY16, 2, n); }
void tersa__mp_w_map16(tersa__buf *b, uint16_t n) { mp_w_be(b, TERSA_MP_MAP16, 2, n); }

void tersa__mp_w_str(tersa__buf *b, const void *s, uint32_t n)
{
    if (n <= 31) tersa__buf_u8(b, (uint8_t)(0xa0 + n));
    else if (n <= UINT8_MAX) mp_w_be(b, TERSA_MP_STR8, 1, n);
    else if (n <= UINT16_MAX) mp_w_be(b, TERSA_MP_STR16, 2, n);
    else mp_w_be(b, TERSA_MP_STR32, 4, n);
    tersa__buf_put(b, s, n);
}

void tersa__mp_w_str32(tersa__buf *b, const void *s, uint32_t n)
{
    mp_w_be(b, TERSA_MP_STR32, 4, n);
    tersa__buf_put(b, s, n);
}

void tersa__mp_w_bin32(tersa__buf *b, const void *data, uint32_t n)
{
    mp_w_be(b, TERSA_MP_BIN32, 4, n);
    tersa__buf_put(b, data, n);
}

void tersa__mp_w_fixext16(tersa__buf *b, int8_t type, const uint8_t data[16])
{
    tersa__buf_u8(b, TERSA_MP_FIXEXT16);
    tersa__buf_u8(b, (uint8_t)type);
    tersa__buf_put(b, data, 16);
}

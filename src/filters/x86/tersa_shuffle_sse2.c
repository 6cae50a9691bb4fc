/* SSE2 byte shuffle and bitshuffle. Output is byte-identical to tersa_shuffle_generic.c, which
 * also finishes the elements left over after the last whole group of 16.
 *
 * The one building block is an interleave round on n registers: out[2i], out[2i+1] = unpacklo,
 * unpackhi of in[i] and in[i + n/2]. Number every byte by (register index, lane) read as one
 * binary string; a round rotates that string left by one bit. Loading 16 elements of t bytes
 * (t = 2, 4, 8, 16) into t registers numbers byte j of element e as (e, j); four rounds rotate it
 * to (j, e): register j holds byte j of the 16 elements. log2(t) rounds undo that. Sixteen
 * registers loaded at a stride of t bytes and rotated four times are a 16x16 byte transpose,
 * which serves every other element size, sixteen bytes of each element at a time.
 *
 * Bitshuffle works on those byte rows: movemask pulls one bit-plane of 16 bytes out at once
 * (forward), and 8x8 bit transposes on 64-bit lanes rebuild the bytes (backward). */
#include <emmintrin.h>
#include <string.h>

#include "common/tersa_internal.h"
#include "filters/tersa_shuffle_internal.h"

#ifdef TERSA_HAVE_X86_SHUFFLE

typedef __m128i vec;
enum { GROUP = 16 }; /* elements per step: one register of each byte row */

#define LOADU(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define STOREU(p, x) _mm_storeu_si128((__m128i *)(void *)(p), (x))

/* One interleave round on n (2..16, a power of two) registers. */
TERSA_ALWAYS_INLINE void interleave(vec *v, const int n)
{
    vec o[16];
    for (int i = 0; i < n / 2; i++) {
        o[2 * i] = _mm_unpacklo_epi8(v[i], v[i + n / 2]);
        o[2 * i + 1] = _mm_unpackhi_epi8(v[i], v[i + n / 2]);
    }
    for (int i = 0; i < n; i++) v[i] = o[i];
}

TERSA_ALWAYS_INLINE int log2_small(const int t) { return t == 2 ? 1 : t == 4 ? 2 : t == 8 ? 3 : 4; }

/* 16 contiguous elements of t bytes (t = 2, 4, 8, 16) -> v[j] = byte j of each element. */
TERSA_ALWAYS_INLINE void rows_from_elems(const uint8_t *s, vec *v, const int t)
{
    for (int r = 0; r < t; r++) v[r] = LOADU(s + 16 * r);
    for (int k = 0; k < 4; k++) interleave(v, t);
}

/* The inverse: v[j] = byte j of 16 elements -> the 16*t bytes of the elements, stored at d. */
TERSA_ALWAYS_INLINE void elems_from_rows(uint8_t *d, vec *v, const int t)
{
    for (int k = 0; k < log2_small(t); k++) interleave(v, t);
    for (int r = 0; r < t; r++) STOREU(d + 16 * r, v[r]);
}

/* 16x16 byte transpose: s points at byte c of element 0; element k starts at s + k*t.
 * Afterwards v[r] holds byte c + r of the 16 elements. */
TERSA_ALWAYS_INLINE void rows_from_column(const uint8_t *s, int32_t t, vec *v)
{
    for (int k = 0; k < 16; k++) v[k] = LOADU(s + (size_t)k * t);
    for (int k = 0; k < 4; k++) interleave(v, 16);
}

/* The inverse: v[r] = byte c + r of 16 elements -> 16 bytes stored at d + k*t for element k.
 * Stores run in element order, so with t < 16 each one's spill past its element is overwritten
 * by the next (the caller keeps the spill of the last one inside the buffer, and rewrites it). */
TERSA_ALWAYS_INLINE void column_from_rows(uint8_t *d, int32_t t, vec *v)
{
    for (int k = 0; k < 4; k++) interleave(v, 16);
    for (int k = 0; k < 16; k++) STOREU(d + (size_t)k * t, v[k]);
}

/* Start of the 16-byte column that holds byte c (the last one may overlap its neighbour) and
 * how many rows it contributes; general element sizes only. */
static int32_t column_start(int32_t c, int32_t t) { return c + 16 <= t ? c : t >= 16 ? t - 16 : 0; }
static int32_t column_rows(int32_t cc, int32_t t) { return t - cc < 16 ? t - cc : 16; }

/* How many of the first m elements the column code may do: whole groups whose 16-byte accesses
 * stay inside `size` bytes (only a limit when t < 16, where they reach past the element). */
static int32_t cols_end(int32_t m, int32_t t, int32_t size)
{
    int32_t end = m - m % GROUP;
    if (t >= 16) return end;
    int64_t last = ((int64_t)size - 16) / t - (GROUP - 1); /* last allowed group start */
    if (size < 16 || last < 0) return 0;
    int64_t fit = (last / GROUP + 1) * GROUP;
    return fit < end ? (int32_t)fit : end;
}

/* ---- byte shuffle --------------------------------------------------------------------- */

TERSA_ALWAYS_INLINE int32_t shuffle_pow2(const uint8_t *src, uint8_t *dst, int32_t m,
                                         const int t)
{
    int32_t i = 0;
    for (; i + GROUP <= m; i += GROUP) {
        vec v[16];
        rows_from_elems(src + (size_t)i * t, v, t);
        for (int j = 0; j < t; j++) STOREU(dst + (size_t)j * m + i, v[j]);
    }
    return i;
}

TERSA_ALWAYS_INLINE int32_t unshuffle_pow2(const uint8_t *src, uint8_t *dst, int32_t m,
                                           const int t)
{
    int32_t i = 0;
    for (; i + GROUP <= m; i += GROUP) {
        vec v[16];
        for (int j = 0; j < t; j++) v[j] = LOADU(src + (size_t)j * m + i);
        elems_from_rows(dst + (size_t)i * t, v, t);
    }
    return i;
}

static int32_t shuffle_cols(const uint8_t *src, uint8_t *dst, int32_t size, int32_t m, int32_t t)
{
    int32_t i = 0, end = cols_end(m, t, size);
    for (; i < end; i += GROUP) {
        for (int32_t c = 0; c < t; c += 16) {
            int32_t cc = column_start(c, t), nr = column_rows(cc, t);
            vec v[16];
            rows_from_column(src + (size_t)i * t + cc, t, v);
            for (int32_t r = 0; r < nr; r++) STOREU(dst + (size_t)(cc + r) * m + i, v[r]);
        }
    }
    return i;
}

static int32_t unshuffle_cols(const uint8_t *src, uint8_t *dst, int32_t size, int32_t m,
                              int32_t t)
{
    int32_t i = 0, end = cols_end(m, t, size);
    for (; i < end; i += GROUP) {
        for (int32_t c = 0; c < t; c += 16) {
            int32_t cc = column_start(c, t), nr = column_rows(cc, t);
            vec v[16];
            for (int32_t r = 0; r < 16; r++)
                v[r] = r < nr ? LOADU(src + (size_t)(cc + r) * m + i) : _mm_setzero_si128();
            column_from_rows(dst + (size_t)i * t + cc, t, v);
        }
    }
    return i;
}

void tersa__shuffle_sse2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    int32_t m = (size > 0 && t > 1) ? size / t : 0, i = 0;
    switch (t) {
    case 2: i = shuffle_pow2(src, dst, m, 2); break;
    case 4: i = shuffle_pow2(src, dst, m, 4); break;
    case 8: i = shuffle_pow2(src, dst, m, 8); break;
    case 16: i = shuffle_pow2(src, dst, m, 16); break;
    default: i = t > 2 ? shuffle_cols(src, dst, size, m, t) : 0; break;
    }
    tersa__shuffle_rest(src, dst, size, t, i);
}

void tersa__unshuffle_sse2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    int32_t m = (size > 0 && t > 1) ? size / t : 0, i = 0;
    switch (t) {
    case 2: i = unshuffle_pow2(src, dst, m, 2); break;
    case 4: i = unshuffle_pow2(src, dst, m, 4); break;
    case 8: i = unshuffle_pow2(src, dst, m, 8); break;
    case 16: i = unshuffle_pow2(src, dst, m, 16); break;
    default: i = t > 2 ? unshuffle_cols(src, dst, size, m, t) : 0; break;
    }
    tersa__unshuffle_rest(src, dst, size, t, i);
}

/* ---- bitshuffle ----------------------------------------------------------------------- */

/* Forward: x = byte j of 16 elements; d = bit-row 8j at the group's offset, r = row length.
 * Each movemask takes one bit-plane (bit 7 first); adding x to itself moves the next one up. */
TERSA_ALWAYS_INLINE void put_bitrows(uint8_t *d, size_t r, vec x)
{
    for (int b = 7; b >= 0; b--) {
        uint16_t bits = (uint16_t)_mm_movemask_epi8(x);
        memcpy(d + (size_t)b * r, &bits, 2);
        x = _mm_add_epi8(x, x);
    }
}

/* 8x8 bit transpose of each 64-bit lane (see tersa__bit_transpose8). */
TERSA_ALWAYS_INLINE vec transpose_bits(vec x)
{
    vec s;
    s = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 7)), _mm_set1_epi64x(0x00AA00AA00AA00AA));
    x = _mm_xor_si128(x, _mm_xor_si128(s, _mm_slli_epi64(s, 7)));
    s = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 14)), _mm_set1_epi64x(0x0000CCCC0000CCCC));
    x = _mm_xor_si128(x, _mm_xor_si128(s, _mm_slli_epi64(s, 14)));
    s = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 28)), _mm_set1_epi64x(0x00000000F0F0F0F0));
    x = _mm_xor_si128(x, _mm_xor_si128(s, _mm_slli_epi64(s, 28)));
    return x;
}

/* Backward: byte j of 16 elements from bit-rows 8j..8j+7 (two bytes each at s, stride r). */
TERSA_ALWAYS_INLINE vec get_bitrows(const uint8_t *s, size_t r)
{
    uint16_t w[8];
    for (int b = 0; b < 8; b++) memcpy(&w[b], s + (size_t)b * r, 2);
    /* word b = row b, built in registers (a vector reload of w stalls on store forwarding) */
    vec x = _mm_cvtsi32_si128(w[0]);
    x = _mm_insert_epi16(x, w[1], 1);
    x = _mm_insert_epi16(x, w[2], 2);
    x = _mm_insert_epi16(x, w[3], 3);
    x = _mm_insert_epi16(x, w[4], 4);
    x = _mm_insert_epi16(x, w[5], 5);
    x = _mm_insert_epi16(x, w[6], 6);
    x = _mm_insert_epi16(x, w[7], 7);
    /* byte 2b + h = byte h of row b; regroup to 8h + b so each 64-bit lane is one 8x8 block */
    x = _mm_packus_epi16(_mm_and_si128(x, _mm_set1_epi16(0xff)), _mm_srli_epi16(x, 8));
    return transpose_bits(x);
}

/* One group of 16 elements from element i. d is the group's byte in bit-row 0 (in memory or in
 * the tile), rows `stride` apart. tc is t when t is 1, 2, 4, 8 or 16 (a constant after
 * inlining), else 0 for the column code. */
TERSA_ALWAYS_INLINE void bitshuffle_group(const uint8_t *src, uint8_t *d, size_t stride,
                                          int32_t i, int32_t t, const int tc)
{
    vec v[16];
    if (tc == 1) {
        put_bitrows(d, stride, LOADU(src + i));
    } else if (tc) {
        rows_from_elems(src + (size_t)i * tc, v, tc);
        for (int j = 0; j < tc; j++) put_bitrows(d + 8 * j * stride, stride, v[j]);
    } else {
        for (int32_t c = 0; c < t; c += 16) {
            int32_t cc = column_start(c, t), nr = column_rows(cc, t);
            rows_from_column(src + (size_t)i * t + cc, t, v);
            for (int32_t k = 0; k < nr; k++)
                put_bitrows(d + 8 * (size_t)(cc + k) * stride, stride, v[k]);
        }
    }
}

TERSA_ALWAYS_INLINE void bitunshuffle_group(const uint8_t *s, size_t stride, uint8_t *dst,
                                            int32_t i, int32_t t, const int tc)
{
    vec v[16];
    if (tc == 1) {
        STOREU(dst + i, get_bitrows(s, stride));
    } else if (tc) {
        for (int j = 0; j < tc; j++) v[j] = get_bitrows(s + 8 * j * stride, stride);
        elems_from_rows(dst + (size_t)i * tc, v, tc);
    } else {
        for (int32_t c = 0; c < t; c += 16) {
            int32_t cc = column_start(c, t), nr = column_rows(cc, t);
            for (int32_t k = 0; k < 16; k++)
                v[k] = k < nr ? get_bitrows(s + 8 * (size_t)(cc + k) * stride, stride)
                              : _mm_setzero_si128();
            column_from_rows(dst + (size_t)i * t + cc, t, v);
        }
    }
}

/* Elements [0, end) (a multiple of GROUP, <= g), through the tile when the rows are long. */
TERSA_ALWAYS_INLINE void bitshuffle_run(const uint8_t *src, uint8_t *dst, int32_t g,
                                        int32_t end, int32_t t, const int tc)
{
    size_t r = (size_t)g / 8;
    int32_t w = tersa__bittile_width(t, GROUP / 8);
    if (w == 0 || (size_t)w >= r) {
        for (int32_t i = 0; i < end; i += GROUP) bitshuffle_group(src, dst + i / 8, r, i, t, tc);
        return;
    }
    uint8_t tile[TERSA_BITTILE_BYTES];
    for (int32_t e0 = 0; e0 < end; e0 += 8 * w) {
        int32_t e1 = end - e0 < 8 * w ? end : e0 + 8 * w;
        for (int32_t i = e0; i < e1; i += GROUP)
            bitshuffle_group(src, tile + (i - e0) / 8, (size_t)w, i, t, tc);
        tersa__copy_rows(tile, (size_t)w, dst + e0 / 8, r, 8 * t, (e1 - e0) / 8);
    }
}

TERSA_ALWAYS_INLINE void bitunshuffle_run(const uint8_t *src, uint8_t *dst, int32_t g,
                                          int32_t end, int32_t t, const int tc)
{
    size_t r = (size_t)g / 8;
    int32_t w = tersa__bittile_width(t, GROUP / 8);
    if (w == 0 || (size_t)w >= r) {
        for (int32_t i = 0; i < end; i += GROUP) bitunshuffle_group(src + i / 8, r, dst, i, t, tc);
        return;
    }
    uint8_t tile[TERSA_BITTILE_BYTES];
    for (int32_t e0 = 0; e0 < end; e0 += 8 * w) {
        int32_t e1 = end - e0 < 8 * w ? end : e0 + 8 * w;
        tersa__copy_rows(src + e0 / 8, r, tile, (size_t)w, 8 * t, (e1 - e0) / 8);
        for (int32_t i = e0; i < e1; i += GROUP)
            bitunshuffle_group(tile + (i - e0) / 8, (size_t)w, dst, i, t, tc);
    }
}

void tersa__bitshuffle_sse2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    int32_t m = (size > 0 && t > 0) ? size / t : 0, g = m - m % 8, end = g - g % GROUP;
    switch (t) {
    case 1: bitshuffle_run(src, dst, g, end, 1, 1); break;
    case 2: bitshuffle_run(src, dst, g, end, 2, 2); break;
    case 4: bitshuffle_run(src, dst, g, end, 4, 4); break;
    case 8: bitshuffle_run(src, dst, g, end, 8, 8); break;
    case 16: bitshuffle_run(src, dst, g, end, 16, 16); break;
    default:
        end = t > 2 ? cols_end(g, t, size) : 0;
        bitshuffle_run(src, dst, g, end, t, 0);
        break;
    }
    tersa__bitshuffle_rest(src, dst, size, t, end);
}

void tersa__bitunshuffle_sse2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    int32_t m = (size > 0 && t > 0) ? size / t : 0, g = m - m % 8, end = g - g % GROUP;
    switch (t) {
    case 1: bitunshuffle_run(src, dst, g, end, 1, 1); break;
    case 2: bitunshuffle_run(src, dst, g, end, 2, 2); break;
    case 4: bitunshuffle_run(src, dst, g, end, 4, 4); break;
    case 8: bitunshuffle_run(src, dst, g, end, 8, 8); break;
    case 16: bitunshuffle_run(src, dst, g, end, 16, 16); break;
    default:
        end = t > 2 ? cols_end(g, t, size) : 0;
        bitunshuffle_run(src, dst, g, end, t, 0);
        break;
    }
    tersa__bitunshuffle_rest(src, dst, size, t, end);
}

#endif

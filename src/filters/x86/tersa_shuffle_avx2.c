/* AVX2 byte shuffle and bitshuffle: the SSE2 scheme (see tersa_shuffle_sse2.c) on 32 elements
 * per step. AVX2 unpacks work inside each 128-bit lane, so each register carries two
 * independent 16-element problems: the low lane elements i..i+15, the high lane i+16..i+31.
 * On the element side loads go lane by lane (insert) and stores pair lanes up first (lane
 * swaps), while a byte row of 32 elements is one contiguous 32-byte access. Backward bitshuffle
 * with t <= 8 takes 256 elements at a time, which lets unpacks (instead of inserts) build the
 * 8x8 bit blocks. Output is byte-identical to the generic code, which finishes whatever is left
 * after the last whole group of 32. */
#include <immintrin.h>
#include <string.h>

#include "common/tersa_internal.h"
#include "filters/tersa_shuffle_internal.h"

#ifdef TERSA_HAVE_X86_SHUFFLE

typedef __m256i vec;
enum { GROUP = 32, WIDE = 256 }; /* elements per step; WIDE: wide backward bitshuffle */

#define LOADU(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define STOREU(p, x) _mm256_storeu_si256((__m256i *)(void *)(p), (x))
#define LOADU128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define STOREU128(p, x) _mm_storeu_si128((__m128i *)(void *)(p), (x))

/* Two 16-byte loads into the low and high lanes. */
TERSA_ALWAYS_INLINE vec load2(const uint8_t *lo, const uint8_t *hi)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(LOADU128(lo)), LOADU128(hi), 1);
}

TERSA_ALWAYS_INLINE void store_lo(uint8_t *p, vec x) { STOREU128(p, _mm256_castsi256_si128(x)); }
TERSA_ALWAYS_INLINE void store_hi(uint8_t *p, vec x)
{
    STOREU128(p, _mm256_extracti128_si256(x, 1));
}

/* One interleave round on n registers (rotates the in-lane address left by one bit). */
TERSA_ALWAYS_INLINE void interleave(vec *v, const int n)
{
    vec o[16];
    for (int i = 0; i < n / 2; i++) {
        o[2 * i] = _mm256_unpacklo_epi8(v[i], v[i + n / 2]);
        o[2 * i + 1] = _mm256_unpackhi_epi8(v[i], v[i + n / 2]);
    }
    for (int i = 0; i < n; i++) v[i] = o[i];
}

TERSA_ALWAYS_INLINE int log2_small(const int t) { return t == 2 ? 1 : t == 4 ? 2 : t == 8 ? 3 : 4; }

/* 32 contiguous elements of t bytes (t = 2, 4, 8, 16) -> v[j] = byte j of each element. */
TERSA_ALWAYS_INLINE void rows_from_elems(const uint8_t *s, vec *v, const int t)
{
    for (int r = 0; r < t; r++) v[r] = load2(s + 16 * r, s + 16 * t + 16 * r);
    for (int k = 0; k < 4; k++) interleave(v, t);
}

/* The inverse: log2(t) rounds leave v[r] = bytes 16r.. of elements i..i+15 (low lane) and
 * i+16..i+31 (high lane); lane swaps pair them up for full-width stores. */
TERSA_ALWAYS_INLINE void elems_from_rows(uint8_t *d, vec *v, const int t)
{
    for (int k = 0; k < log2_small(t); k++) interleave(v, t);
    for (int r = 0; r < t; r += 2) {
        STOREU(d + 16 * r, _mm256_permute2x128_si256(v[r], v[r + 1], 0x20));
        STOREU(d + 16 * t + 16 * r, _mm256_permute2x128_si256(v[r], v[r + 1], 0x31));
    }
}

/* 16x16 byte transposes at a stride of t: s points at byte c of element 0. Afterwards v[r]
 * holds byte c + r of the 32 elements. */
TERSA_ALWAYS_INLINE void rows_from_column(const uint8_t *s, int32_t t, vec *v)
{
    for (int k = 0; k < 16; k++) v[k] = load2(s + (size_t)k * t, s + (size_t)(k + 16) * t);
    for (int k = 0; k < 4; k++) interleave(v, 16);
}

/* The inverse. All low-lane elements are stored before the high-lane ones so that, with t < 16,
 * every spill past an element is overwritten by a later store (see the SSE2 file). */
TERSA_ALWAYS_INLINE void column_from_rows(uint8_t *d, int32_t t, vec *v)
{
    for (int k = 0; k < 4; k++) interleave(v, 16);
    for (int k = 0; k < 16; k++) store_lo(d + (size_t)k * t, v[k]);
    for (int k = 0; k < 16; k++) store_hi(d + (size_t)(k + 16) * t, v[k]);
}

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
                v[r] = r < nr ? LOADU(src + (size_t)(cc + r) * m + i) : _mm256_setzero_si256();
            column_from_rows(dst + (size_t)i * t + cc, t, v);
        }
    }
    return i;
}

void tersa__shuffle_avx2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
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

void tersa__unshuffle_avx2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
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

/* Forward: x = byte j of 32 elements; 4 bytes to each of bit-rows 8j..8j+7 (d, stride r). */
TERSA_ALWAYS_INLINE void put_bitrows(uint8_t *d, size_t r, vec x)
{
    for (int b = 7; b >= 0; b--) {
        uint32_t bits = (uint32_t)_mm256_movemask_epi8(x);
        memcpy(d + (size_t)b * r, &bits, 4);
        x = _mm256_add_epi8(x, x);
    }
}

/* 8x8 bit transpose of each 64-bit lane (see tersa__bit_transpose8). */
TERSA_ALWAYS_INLINE vec transpose_bits(vec x)
{
    vec s;
    s = _mm256_and_si256(_mm256_xor_si256(x, _mm256_srli_epi64(x, 7)),
                         _mm256_set1_epi64x(0x00AA00AA00AA00AA));
    x = _mm256_xor_si256(x, _mm256_xor_si256(s, _mm256_slli_epi64(s, 7)));
    s = _mm256_and_si256(_mm256_xor_si256(x, _mm256_srli_epi64(x, 14)),
                         _mm256_set1_epi64x(0x0000CCCC0000CCCC));
    x = _mm256_xor_si256(x, _mm256_xor_si256(s, _mm256_slli_epi64(s, 14)));
    s = _mm256_and_si256(_mm256_xor_si256(x, _mm256_srli_epi64(x, 28)),
                         _mm256_set1_epi64x(0x00000000F0F0F0F0));
    x = _mm256_xor_si256(x, _mm256_xor_si256(s, _mm256_slli_epi64(s, 28)));
    return x;
}

/* Backward: byte j of 32 elements from bit-rows 8j..8j+7 (four bytes each at s, stride r). */
TERSA_ALWAYS_INLINE vec get_bitrows(const uint8_t *s, size_t r)
{
    uint32_t w[8];
    for (int b = 0; b < 8; b++) memcpy(&w[b], s + (size_t)b * r, 4);
    /* dword b = row b (built in registers; a vector reload of w stalls on store forwarding) */
    __m128i lo = _mm_cvtsi32_si128((int)w[0]), hi = _mm_cvtsi32_si128((int)w[4]);
    lo = _mm_insert_epi32(lo, (int)w[1], 1);
    hi = _mm_insert_epi32(hi, (int)w[5], 1);
    lo = _mm_insert_epi32(lo, (int)w[2], 2);
    hi = _mm_insert_epi32(hi, (int)w[6], 2);
    lo = _mm_insert_epi32(lo, (int)w[3], 3);
    hi = _mm_insert_epi32(hi, (int)w[7], 3);
    vec x = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    /* regroup so that 64-bit lane q holds byte q of rows 0..7 */
    x = _mm256_shuffle_epi8(x, _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7,
                                                11, 15, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14,
                                                3, 7, 11, 15));
    x = _mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return transpose_bits(x);
}

/* Backward, 256 elements at once (t <= 8): 32 bytes of each of bit-rows 8j..8j+7 (at s, rows
 * `stride` apart). Three rounds take each row's byte p next to the other rows' byte p, so that
 * every 64-bit lane is one 8x8 block; after the bit transpose v[k] holds byte j of elements
 * 16k..16k+15 (low lane) and 128+16k..128+16k+15 (high lane). */
TERSA_ALWAYS_INLINE void get_bitrows_wide(const uint8_t *s, size_t stride, vec *v)
{
    for (int b = 0; b < 8; b++) v[b] = LOADU(s + (size_t)b * stride);
    for (int k = 0; k < 3; k++) interleave(v, 8);
    for (int k = 0; k < 8; k++) v[k] = transpose_bits(v[k]);
}

TERSA_ALWAYS_INLINE void bitunshuffle_wide(const uint8_t *s, size_t stride, uint8_t *dst,
                                           int32_t i, const int t)
{
    vec rows[8][8]; /* rows[k][j] */
    for (int j = 0; j < t; j++) {
        vec v[8];
        get_bitrows_wide(s + 8 * (size_t)j * stride, stride, v);
        for (int k = 0; k < 8; k++) rows[k][j] = v[k];
    }
    for (int k = 0; k < 8; k++) {
        uint8_t *lo = dst + (size_t)(i + 16 * k) * t, *hi = lo + (size_t)128 * t;
        for (int r = 0; r < log2_small(t) && t > 1; r++) interleave(rows[k], t);
        for (int r = 0; r < t; r++) {
            store_lo(lo + 16 * r, rows[k][r]);
            store_hi(hi + 16 * r, rows[k][r]);
        }
    }
}

/* One group of 32 elements from element i. d is the group's byte in bit-row 0 (in memory or in
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
                              : _mm256_setzero_si256();
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

/* Elements [i0, i1) from bit-rows whose byte i0/8 is at s, rows `stride` apart. */
TERSA_ALWAYS_INLINE void bitunshuffle_span(const uint8_t *s, size_t stride, uint8_t *dst,
                                           int32_t i0, int32_t i1, int32_t t, const int tc)
{
    int32_t i = i0;
    if (tc >= 1 && tc <= 8)
        for (; i + WIDE <= i1; i += WIDE) bitunshuffle_wide(s + (i - i0) / 8, stride, dst, i, tc);
    for (; i < i1; i += GROUP) bitunshuffle_group(s + (i - i0) / 8, stride, dst, i, t, tc);
}

TERSA_ALWAYS_INLINE void bitunshuffle_run(const uint8_t *src, uint8_t *dst, int32_t g,
                                          int32_t end, int32_t t, const int tc)
{
    size_t r = (size_t)g / 8;
    int32_t w = tersa__bittile_width(t, GROUP / 8);
    if (w == 0 || (size_t)w >= r) {
        bitunshuffle_span(src, r, dst, 0, end, t, tc);
        return;
    }
    uint8_t tile[TERSA_BITTILE_BYTES];
    for (int32_t e0 = 0; e0 < end; e0 += 8 * w) {
        int32_t e1 = end - e0 < 8 * w ? end : e0 + 8 * w;
        tersa__copy_rows(src + e0 / 8, r, tile, (size_t)w, 8 * t, (e1 - e0) / 8);
        bitunshuffle_span(tile, (size_t)w, dst, e0, e1, t, tc);
    }
}

void tersa__bitshuffle_avx2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
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

void tersa__bitunshuffle_avx2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
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

/* The x86 byte shuffle and bitshuffle, written once over a vector type and included by
 * tersa_shuffle_sse2.c (__m128i) and tersa_shuffle_avx2.c (__m256i). Output is byte-identical
 * to tersa_shuffle_generic.c, which also finishes the elements left over after the last whole
 * group.
 *
 * The one building block is an interleave round on n registers: out[2i], out[2i+1] = unpacklo,
 * unpackhi of in[i] and in[i + n/2]. Unpacks work inside each 128-bit lane, so every lane holds
 * its own 16-element problem and a group is 16 elements per lane. Number every byte of a lane
 * by (register index, byte) read as one binary string; a round rotates that string left by one
 * bit. Loading 16 elements of t bytes (t = 2, 4, 8, 16) into t registers numbers byte j of
 * element e as (e, j); four rounds rotate it to (j, e): register j holds byte j of the 16
 * elements. log2(t) rounds undo that. Sixteen registers loaded at a stride of t bytes and
 * rotated four times are a 16x16 byte transpose, which serves every other element size,
 * sixteen bytes of each element at a time.
 *
 * Bitshuffle works on those byte rows: movemask pulls one bit-plane of a register out at once
 * (forward), and 8x8 bit transposes on 64-bit lanes rebuild the bytes (backward).
 *
 * The including file first defines
 *   vec           the register type
 *   GROUP         elements per step, 16 per 128-bit lane of vec (an enum constant)
 *   VEC_OP(op)    the intrinsic `op` for vec: VEC_OP(unpacklo_epi8) is _mm_unpacklo_epi8 ...
 *   VEC_SI(op)    the same for the _si128/_si256 ones: VEC_SI(loadu), and, xor, setzero ...
 *   TMPL_NAME(f)  the external name of transform f (shuffle, unshuffle, bitshuffle,
 *                 bitunshuffle)
 *   TMPL_WIDE     optional: elements per step of a wide backward bitshuffle for t <= 8
 * and after the #include it defines the lane-specific pieces declared below (and, with
 * TMPL_WIDE, bitunshuffle_wide). Meant to be included once per file, so no include guard. */
#include <string.h>

#include "common/tersa_internal.h"
#include "filters/tersa_shuffle_internal.h"

#ifndef TMPL_NAME
#error "define the template parameters before including tersa_shuffle_x86_tmpl.h"
#endif

enum { LANES = GROUP / 16 };

#define LOADU(p) VEC_SI(loadu)((const vec *)(const void *)(p))
#define STOREU(p, x) VEC_SI(storeu)((vec *)(void *)(p), (x))

/* ---- defined by the including file ---------------------------------------------------- */

/* 16 bytes into each lane, lane l from p + l * hi. */
TERSA_ALWAYS_INLINE vec load_lanes(const uint8_t *p, size_t hi);
/* Lane l (a constant) of x to the 16 bytes at p. */
TERSA_ALWAYS_INLINE void store_lane(uint8_t *p, vec x, const int l);
/* After the log2(t) backward rounds v[r] holds, in lane l, bytes 16r..16r+15 of the lane's 16
 * elements; store the group's GROUP * t element bytes at d. */
TERSA_ALWAYS_INLINE void store_elems(uint8_t *d, const vec *v, const int t);
/* Backward bitshuffle: byte j of GROUP elements from bit-rows 8j..8j+7 (GROUP / 8 bytes of
 * each at s, rows r bytes apart). */
TERSA_ALWAYS_INLINE vec get_bitrows(const uint8_t *s, size_t r);
#ifdef TMPL_WIDE
/* TMPL_WIDE elements from element i, t <= 8 (a constant); s, stride as for get_bitrows. */
TERSA_ALWAYS_INLINE void bitunshuffle_wide(const uint8_t *s, size_t stride, uint8_t *dst,
                                           int32_t i, const int t);
#endif

/* ---- building blocks ------------------------------------------------------------------ */

/* One interleave round on n (2..16, a power of two) registers. */
TERSA_ALWAYS_INLINE void interleave(vec *v, const int n)
{
    vec o[16];
    for (int i = 0; i < n / 2; i++) {
        o[2 * i] = VEC_OP(unpacklo_epi8)(v[i], v[i + n / 2]);
        o[2 * i + 1] = VEC_OP(unpackhi_epi8)(v[i], v[i + n / 2]);
    }
    for (int i = 0; i < n; i++) v[i] = o[i];
}

TERSA_ALWAYS_INLINE int log2_small(const int t) { return t == 2 ? 1 : t == 4 ? 2 : t == 8 ? 3 : 4; }

/* GROUP contiguous elements of t bytes (t = 2, 4, 8, 16) -> v[j] = byte j of each element. */
TERSA_ALWAYS_INLINE void rows_from_elems(const uint8_t *s, vec *v, const int t)
{
    for (int r = 0; r < t; r++) v[r] = load_lanes(s + 16 * r, (size_t)16 * t);
    for (int k = 0; k < 4; k++) interleave(v, t);
}

/* The inverse: v[j] = byte j of GROUP elements -> the GROUP * t bytes of the elements at d. */
TERSA_ALWAYS_INLINE void elems_from_rows(uint8_t *d, vec *v, const int t)
{
    for (int k = 0; k < log2_small(t); k++) interleave(v, t);
    store_elems(d, v, t);
}

/* 16x16 byte transposes: s points at byte c of element 0; element k starts at s + k*t.
 * Afterwards v[r] holds byte c + r of the GROUP elements. */
TERSA_ALWAYS_INLINE void rows_from_column(const uint8_t *s, int32_t t, vec *v)
{
    for (int k = 0; k < 16; k++) v[k] = load_lanes(s + (size_t)k * t, (size_t)16 * t);
    for (int k = 0; k < 4; k++) interleave(v, 16);
}

/* The inverse: v[r] = byte c + r of GROUP elements -> 16 bytes stored at d + k*t for element
 * k. Stores run in element order, so with t < 16 each one's spill past its element is
 * overwritten by a later one (the caller keeps the spill of the last one inside the buffer,
 * and rewrites it). */
TERSA_ALWAYS_INLINE void column_from_rows(uint8_t *d, int32_t t, vec *v)
{
    for (int k = 0; k < 4; k++) interleave(v, 16);
    for (int l = 0; l < LANES; l++)
        for (int k = 0; k < 16; k++) store_lane(d + (size_t)(k + 16 * l) * t, v[k], l);
}

/* 8x8 bit transpose of each 64-bit lane (see tersa__bit_transpose8). */
TERSA_ALWAYS_INLINE vec transpose_bits(vec x)
{
    vec s;
    s = VEC_SI(and)(VEC_SI(xor)(x, VEC_OP(srli_epi64)(x, 7)),
                    VEC_OP(set1_epi64x)(0x00AA00AA00AA00AA));
    x = VEC_SI(xor)(x, VEC_SI(xor)(s, VEC_OP(slli_epi64)(s, 7)));
    s = VEC_SI(and)(VEC_SI(xor)(x, VEC_OP(srli_epi64)(x, 14)),
                    VEC_OP(set1_epi64x)(0x0000CCCC0000CCCC));
    x = VEC_SI(xor)(x, VEC_SI(xor)(s, VEC_OP(slli_epi64)(s, 14)));
    s = VEC_SI(and)(VEC_SI(xor)(x, VEC_OP(srli_epi64)(x, 28)),
                    VEC_OP(set1_epi64x)(0x00000000F0F0F0F0));
    x = VEC_SI(xor)(x, VEC_SI(xor)(s, VEC_OP(slli_epi64)(s, 28)));
    return x;
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

/* ---- byte shuffle (back = 0) and unshuffle (back = 1) --------------------------------- */

/* Whole groups for t = 2, 4, 8, 16 (a constant); returns the elements done. */
TERSA_ALWAYS_INLINE int32_t bytes_pow2(const uint8_t *src, uint8_t *dst, int32_t m, const int t,
                                       const int back)
{
    int32_t i = 0;
    for (; i + GROUP <= m; i += GROUP) {
        vec v[16];
        if (back) {
            for (int j = 0; j < t; j++) v[j] = LOADU(src + (size_t)j * m + i);
            elems_from_rows(dst + (size_t)i * t, v, t);
        } else {
            rows_from_elems(src + (size_t)i * t, v, t);
            for (int j = 0; j < t; j++) STOREU(dst + (size_t)j * m + i, v[j]);
        }
    }
    return i;
}

/* Whole groups for any other t > 2, 16 bytes of each element at a time. */
TERSA_ALWAYS_INLINE int32_t bytes_cols(const uint8_t *src, uint8_t *dst, int32_t size,
                                       int32_t m, int32_t t, const int back)
{
    int32_t i = 0, end = cols_end(m, t, size);
    for (; i < end; i += GROUP) {
        for (int32_t c = 0; c < t; c += 16) {
            int32_t cc = column_start(c, t), nr = column_rows(cc, t);
            vec v[16];
            if (back) {
                for (int32_t r = 0; r < 16; r++)
                    v[r] = r < nr ? LOADU(src + (size_t)(cc + r) * m + i) : VEC_SI(setzero)();
                column_from_rows(dst + (size_t)i * t + cc, t, v);
            } else {
                rows_from_column(src + (size_t)i * t + cc, t, v);
                for (int32_t r = 0; r < nr; r++) STOREU(dst + (size_t)(cc + r) * m + i, v[r]);
            }
        }
    }
    return i;
}

TERSA_ALWAYS_INLINE int32_t bytes_groups(const uint8_t *src, uint8_t *dst, int32_t size,
                                         int32_t t, const int back)
{
    int32_t m = (size > 0 && t > 1) ? size / t : 0;
    switch (t) {
    case 2: return bytes_pow2(src, dst, m, 2, back);
    case 4: return bytes_pow2(src, dst, m, 4, back);
    case 8: return bytes_pow2(src, dst, m, 8, back);
    case 16: return bytes_pow2(src, dst, m, 16, back);
    default: return t > 2 ? bytes_cols(src, dst, size, m, t, back) : 0;
    }
}

void TMPL_NAME(shuffle)(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    tersa__shuffle_rest(src, dst, size, t, bytes_groups(src, dst, size, t, 0));
}

void TMPL_NAME(unshuffle)(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    tersa__unshuffle_rest(src, dst, size, t, bytes_groups(src, dst, size, t, 1));
}

/* ---- bitshuffle ----------------------------------------------------------------------- */

/* Forward: x = byte j of GROUP elements; d = bit-row 8j at the group's offset, r = row length.
 * Each movemask takes one bit-plane (bit 7 first), GROUP / 8 bytes of it; adding x to itself
 * moves the next one up. */
TERSA_ALWAYS_INLINE void put_bitrows(uint8_t *d, size_t r, vec x)
{
    for (int b = 7; b >= 0; b--) {
        uint32_t bits = (uint32_t)VEC_OP(movemask_epi8)(x);
        memcpy(d + (size_t)b * r, &bits, GROUP / 8); /* x86 is little-endian */
        x = VEC_OP(add_epi8)(x, x);
    }
}

/* One group of GROUP elements from element i. d is the group's byte in bit-row 0 (in memory or
 * in the tile), rows `stride` apart. tc is t when t is 1, 2, 4, 8 or 16 (a constant after
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
                              : VEC_SI(setzero)();
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
#ifdef TMPL_WIDE
    if (tc >= 1 && tc <= 8)
        for (; i + TMPL_WIDE <= i1; i += TMPL_WIDE)
            bitunshuffle_wide(s + (i - i0) / 8, stride, dst, i, tc);
#endif
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

/* Bitshuffle (back = 0) or bitunshuffle (back = 1) of elements [0, end) with t and tc as for
 * bitshuffle_group. */
TERSA_ALWAYS_INLINE void bits_run(const uint8_t *src, uint8_t *dst, int32_t g, int32_t end,
                                  int32_t t, const int tc, const int back)
{
    if (back)
        bitunshuffle_run(src, dst, g, end, t, tc);
    else
        bitshuffle_run(src, dst, g, end, t, tc);
}

/* The whole groups of a bit transpose; returns the elements done. */
TERSA_ALWAYS_INLINE int32_t bits_groups(const uint8_t *src, uint8_t *dst, int32_t size,
                                        int32_t t, const int back)
{
    int32_t m = (size > 0 && t > 0) ? size / t : 0, g = m - m % 8, end = g - g % GROUP;
    switch (t) {
    case 1: bits_run(src, dst, g, end, 1, 1, back); break;
    case 2: bits_run(src, dst, g, end, 2, 2, back); break;
    case 4: bits_run(src, dst, g, end, 4, 4, back); break;
    case 8: bits_run(src, dst, g, end, 8, 8, back); break;
    case 16: bits_run(src, dst, g, end, 16, 16, back); break;
    default:
        end = t > 2 ? cols_end(g, t, size) : 0;
        bits_run(src, dst, g, end, t, 0, back);
        break;
    }
    return end;
}

void TMPL_NAME(bitshuffle)(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    tersa__bitshuffle_rest(src, dst, size, t, bits_groups(src, dst, size, t, 0));
}

void TMPL_NAME(bitunshuffle)(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    tersa__bitunshuffle_rest(src, dst, size, t, bits_groups(src, dst, size, t, 1));
}

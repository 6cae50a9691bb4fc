/* Portable byte shuffle and bitshuffle (FORMATS 2.9.1, 2.9.2). The reference every SIMD variant
 * is tested against, and the finisher for the elements a SIMD loop leaves over. */
#include <string.h>

#include "common/tersa_internal.h"
#include "filters/tersa_shuffle_internal.h"

/* Copy bytes [from, size) unchanged. */
static void copy_from(const uint8_t *src, uint8_t *dst, int64_t from, int32_t size)
{
    if (from < size) memcpy(dst + from, src + from, (size_t)(size - from));
}

/* ---- byte shuffle --------------------------------------------------------------------- */

/* The t streams of one buffer never overlap, but for 8+ of them GCC will not emit its run-time
 * overlap checks and leaves the loop scalar; say so. */
#if defined(__clang__)
#define NO_LOOP_DEPS _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define NO_LOOP_DEPS _Pragma("GCC ivdep")
#else
#define NO_LOOP_DEPS
#endif

/* Byte j of element i lies at e = i*t + j on the element side and at s = j*m + i on the stream
 * side; shuffle (back = 0) copies the first to the second, unshuffle (back = 1) the reverse. */
TERSA_ALWAYS_INLINE void move_byte(const uint8_t *restrict src, uint8_t *restrict dst, size_t e,
                                   size_t s, const int back)
{
    if (back)
        dst[e] = src[s];
    else
        dst[s] = src[e];
}

/* Element size known at compile time: one element (t contiguous bytes) at a time. */
TERSA_ALWAYS_INLINE void bytes_fixed(const uint8_t *restrict src, uint8_t *restrict dst,
                                     int32_t m, int32_t from, const int32_t t, const int back)
{
    NO_LOOP_DEPS
    for (int32_t i = from; i < m; i++)
        for (int32_t j = 0; j < t; j++)
            move_byte(src, dst, (size_t)i * t + j, (size_t)j * m + i, back);
}

/* Any element size: one stream at a time (contiguous on one side, strided on the other). */
TERSA_ALWAYS_INLINE void bytes_any(const uint8_t *restrict src, uint8_t *restrict dst, int32_t m,
                                   int32_t from, int32_t t, const int back)
{
    for (int32_t j = 0; j < t; j++)
        for (int32_t i = from; i < m; i++)
            move_byte(src, dst, (size_t)i * t + j, (size_t)j * m + i, back);
}

/* tersa__shuffle_rest (back = 0) and tersa__unshuffle_rest (back = 1). */
TERSA_ALWAYS_INLINE void bytes_rest(const uint8_t *restrict src, uint8_t *restrict dst,
                                    int32_t size, int32_t t, int32_t from, const int back)
{
    if (size <= 0) return;
    if (t <= 1) {
        copy_from(src, dst, from, size);
        return;
    }
    int32_t m = size / t;
    switch (t) {
    case 2: bytes_fixed(src, dst, m, from, 2, back); break;
    case 4: bytes_fixed(src, dst, m, from, 4, back); break;
    case 8: bytes_fixed(src, dst, m, from, 8, back); break;
    case 16: bytes_fixed(src, dst, m, from, 16, back); break;
    default: bytes_any(src, dst, m, from, t, back); break;
    }
    copy_from(src, dst, (int64_t)m * t, size);
}

void tersa__shuffle_rest(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t, int32_t from)
{
    bytes_rest(src, dst, size, t, from, 0);
}

void tersa__unshuffle_rest(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t,
                           int32_t from)
{
    bytes_rest(src, dst, size, t, from, 1);
}

void tersa__shuffle_generic(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    tersa__shuffle_rest(src, dst, size, t, 0);
}

void tersa__unshuffle_generic(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    tersa__unshuffle_rest(src, dst, size, t, 0);
}

/* ---- bitshuffle ----------------------------------------------------------------------- */

/* Byte 0 of eight elements of size t, element e in byte e of the result. */
TERSA_ALWAYS_INLINE uint64_t gather8(const uint8_t *s, const int32_t t)
{
    if (t == 1) return tersa__ld64(s);
    uint64_t x = 0;
    for (int e = 0; e < 8; e++) x |= (uint64_t)s[(size_t)e * t] << (8 * e);
    return x;
}

TERSA_ALWAYS_INLINE void scatter8(uint8_t *d, uint64_t x, const int32_t t)
{
    if (t == 1) {
        tersa__st64(d, x);
        return;
    }
    for (int e = 0; e < 8; e++) d[(size_t)e * t] = (uint8_t)(x >> (8 * e));
}

/* Groups of eight elements k0..k0+n-1 of the bit matrix. d is byte k0 of bit-row 0, rows
 * `stride` bytes apart. Each 8x8 block is (byte j of elements 8k..8k+7) <-> (byte k of bit-rows
 * 8j..8j+7). */
TERSA_ALWAYS_INLINE void bitshuffle_groups(const uint8_t *restrict src, uint8_t *restrict d,
                                           int32_t k0, int32_t n, size_t stride, const int32_t t)
{
    for (int32_t k = 0; k < n; k++) {
        const uint8_t *s = src + (size_t)(k0 + k) * 8 * t;
        for (int32_t j = 0; j < t; j++) {
            uint64_t x = tersa__bit_transpose8(gather8(s + j, t));
            uint8_t *o = d + (size_t)8 * j * stride + k;
            for (int b = 0; b < 8; b++) o[b * stride] = (uint8_t)(x >> (8 * b));
        }
    }
}

/* The inverse; s is byte k0 of bit-row 0, rows `stride` bytes apart. */
TERSA_ALWAYS_INLINE void bitunshuffle_groups(const uint8_t *restrict s, uint8_t *restrict dst,
                                             int32_t k0, int32_t n, size_t stride,
                                             const int32_t t)
{
    for (int32_t k = 0; k < n; k++) {
        uint8_t *d = dst + (size_t)(k0 + k) * 8 * t;
        for (int32_t j = 0; j < t; j++) {
            const uint8_t *p = s + (size_t)8 * j * stride + k;
            uint64_t x = 0;
            for (int b = 0; b < 8; b++) x |= (uint64_t)p[b * stride] << (8 * b);
            scatter8(d + j, tersa__bit_transpose8(x), t);
        }
    }
}

/* Groups [k0, nk) (nk = g / 8 = the bit-row length), through the tile when rows are long. */
TERSA_ALWAYS_INLINE void bitshuffle_tiled(const uint8_t *src, uint8_t *dst, int32_t k0,
                                          int32_t nk, const int32_t t)
{
    int32_t w = tersa__bittile_width(t, 1);
    if (w == 0 || nk - k0 <= w) {
        bitshuffle_groups(src, dst + k0, k0, nk - k0, (size_t)nk, t);
        return;
    }
    uint8_t tile[TERSA_BITTILE_BYTES];
    for (; k0 < nk; k0 += w) {
        int32_t n = nk - k0 < w ? nk - k0 : w;
        bitshuffle_groups(src, tile, k0, n, (size_t)w, t);
        tersa__copy_rows(tile, (size_t)w, dst + k0, (size_t)nk, 8 * t, n);
    }
}

TERSA_ALWAYS_INLINE void bitunshuffle_tiled(const uint8_t *src, uint8_t *dst, int32_t k0,
                                            int32_t nk, const int32_t t)
{
    int32_t w = tersa__bittile_width(t, 1);
    if (w == 0 || nk - k0 <= w) {
        bitunshuffle_groups(src + k0, dst, k0, nk - k0, (size_t)nk, t);
        return;
    }
    uint8_t tile[TERSA_BITTILE_BYTES];
    for (; k0 < nk; k0 += w) {
        int32_t n = nk - k0 < w ? nk - k0 : w;
        tersa__copy_rows(src + k0, (size_t)nk, tile, (size_t)w, 8 * t, n);
        bitunshuffle_groups(tile, dst, k0, n, (size_t)w, t);
    }
}

/* Rows far apart in memory alias in the caches, and stores retire in order, so a miss on each
 * row would stall the copy in turn: prefetch a few rows ahead so the misses overlap. */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p, rw) __builtin_prefetch((p), (rw), 3)
#else
#define PREFETCH(p, rw) ((void)(p))
#endif

void tersa__copy_rows(const uint8_t *src, size_t src_stride, uint8_t *dst, size_t dst_stride,
                      int32_t rows, int32_t n)
{
    enum { AHEAD = 4 };
    for (int32_t i = 0; i < rows; i++) {
        if (i + AHEAD < rows) {
            PREFETCH(src + (size_t)(i + AHEAD) * src_stride, 0);
            PREFETCH(dst + (size_t)(i + AHEAD) * dst_stride, 1);
        }
        memcpy(dst + (size_t)i * dst_stride, src + (size_t)i * src_stride, (size_t)n);
    }
}

/* Groups [k0, nk) of a bitshuffle (back = 0) or bitunshuffle (back = 1). */
TERSA_ALWAYS_INLINE void bits_tiled(const uint8_t *src, uint8_t *dst, int32_t k0, int32_t nk,
                                    const int32_t t, const int back)
{
    if (back)
        bitunshuffle_tiled(src, dst, k0, nk, t);
    else
        bitshuffle_tiled(src, dst, k0, nk, t);
}

/* tersa__bitshuffle_rest (back = 0) and tersa__bitunshuffle_rest (back = 1). */
TERSA_ALWAYS_INLINE void bits_rest(const uint8_t *restrict src, uint8_t *restrict dst,
                                   int32_t size, int32_t t, int32_t from, const int back)
{
    if (size <= 0) return;
    if (t < 1) {
        copy_from(src, dst, 0, size);
        return;
    }
    int32_t m = size / t, g = m - m % 8;
    switch (t) {
    case 1: bits_tiled(src, dst, from / 8, g / 8, 1, back); break;
    case 2: bits_tiled(src, dst, from / 8, g / 8, 2, back); break;
    case 4: bits_tiled(src, dst, from / 8, g / 8, 4, back); break;
    case 8: bits_tiled(src, dst, from / 8, g / 8, 8, back); break;
    default: bits_tiled(src, dst, from / 8, g / 8, t, back); break;
    }
    copy_from(src, dst, (int64_t)g * t, size);
}

void tersa__bitshuffle_rest(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t,
                            int32_t from)
{
    bits_rest(src, dst, size, t, from, 0);
}

void tersa__bitunshuffle_rest(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t,
                              int32_t from)
{
    bits_rest(src, dst, size, t, from, 1);
}

void tersa__bitshuffle_generic(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    tersa__bitshuffle_rest(src, dst, size, t, 0);
}

void tersa__bitunshuffle_generic(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    tersa__bitunshuffle_rest(src, dst, size, t, 0);
}

/* Pieces shared by the shuffle implementations (generic, SSE2, AVX2) and their dispatch table.
 * Not part of the filter interface (that is tersa_filters.h). */
#ifndef TERSA_SHUFFLE_INTERNAL_H
#define TERSA_SHUFFLE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "filters/tersa_filters.h"

#if defined(__GNUC__) || defined(__clang__)
#define TERSA_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define TERSA_ALWAYS_INLINE static inline
#endif

#if defined(__x86_64__) || defined(__i386__)
#define TERSA_HAVE_X86_SHUFFLE 1
#endif

/* Transpose the 8x8 bit matrix held in x, byte e being row e and bit b column b: afterwards
 * bit b of byte e is the old bit e of byte b. An involution. */
static inline uint64_t tersa__bit_transpose8(uint64_t x)
{
    uint64_t s;
    s = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
    x ^= s ^ (s << 7);
    s = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
    x ^= s ^ (s << 14);
    s = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
    x ^= s ^ (s << 28);
    return x;
}

/* Bitshuffle writes (and bitunshuffle reads) 8t bit-rows at once, a few bytes to each, and the
 * rows lie size/t bytes apart: in a large block they all map to the same cache sets and every
 * access misses. So the implementations go through a stack tile holding `width` bytes of each
 * row, copied to or from memory a row at a time. The width is the largest power of two <= 64
 * (a cache line) that keeps the tile within TERSA_BITTILE_BYTES and is at least `unit`, the
 * bytes per row of one step; 0 when even that does not fit (then no tile is used). */
enum { TERSA_BITTILE_BYTES = 4096 };

static inline int32_t tersa__bittile_width(int32_t t, int32_t unit)
{
    int32_t w = 64;
    while (w >= unit && (int64_t)8 * t * w > TERSA_BITTILE_BYTES) w /= 2;
    return w >= unit ? w : 0;
}

/* Copy n bytes of each of `rows` rows from one row-strided layout to another (tile traffic). */
void tersa__copy_rows(const uint8_t *src, size_t src_stride, uint8_t *dst, size_t dst_stride,
                      int32_t rows, int32_t n);

/* The SIMD variants do whole groups of elements and leave the rest to these. Each finishes a
 * transform whose elements [0, from) are already done: elements [from, m) (byte shuffle) or
 * [from, g) with `from` a multiple of 8 (bitshuffle, g = m - m % 8), then copies the bytes after
 * the transformed ones. */
void tersa__shuffle_rest(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t, int32_t from);
void tersa__unshuffle_rest(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t,
                           int32_t from);
void tersa__bitshuffle_rest(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t,
                            int32_t from);
void tersa__bitunshuffle_rest(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t,
                              int32_t from);

/* The implementations (same contracts as the tersa__shuffle_impl members). */
void tersa__shuffle_generic(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__unshuffle_generic(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__bitshuffle_generic(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__bitunshuffle_generic(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);

#ifdef TERSA_HAVE_X86_SHUFFLE
void tersa__shuffle_sse2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__unshuffle_sse2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__bitshuffle_sse2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__bitunshuffle_sse2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__shuffle_avx2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__unshuffle_avx2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__bitshuffle_avx2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__bitunshuffle_avx2(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
#endif

#endif

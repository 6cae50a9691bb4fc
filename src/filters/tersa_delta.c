/* Delta (XOR) filter, FORMATS 2.9.3. Words of w bytes, w from the typesize; XOR works byte by
 * byte, so "word i ^= word i-1" is "byte i ^= byte i-w". Only the first floor(size/w) words
 * are filtered; the size % w tail is copied unchanged (C-Blosc2 leaves it unwritten). */
#include <string.h>

#include "common/tersa_internal.h"
#include "filters/tersa_filters.h"

static int32_t word_size(int32_t typesize)
{
    if (typesize == 1 || typesize == 2 || typesize == 4 || typesize == 8) return typesize;
    return (typesize > 0 && typesize % 8 == 0) ? 8 : 1;
}

/* dst[i] = a[i] ^ b[i] for i < n. */
static void xor_bytes(const uint8_t *restrict a, const uint8_t *restrict b,
                      uint8_t *restrict dst, int32_t n)
{
    for (int32_t i = 0; i < n; i++) dst[i] = a[i] ^ b[i];
}

/* Block 0 forward: the first w bytes unchanged, then byte i ^= byte i-w of the input. */
static void xor_prev(const uint8_t *restrict src, uint8_t *restrict dst, int32_t n, int32_t w)
{
    if (n <= 0) return;
    memcpy(dst, src, (size_t)(n < w ? n : w));
    for (int32_t i = w; i < n; i++) dst[i] = src[i] ^ src[i - w];
}

/* Broadcast the last w bytes of a little-endian word to all of its 8 bytes. */
static uint64_t last_word(uint64_t x, int32_t w)
{
    switch (w) {
    case 1: return (x >> 56) * 0x0101010101010101ull;
    case 2: return (x >> 48) * 0x0001000100010001ull;
    case 4: return (x >> 32) * 0x0000000100000001ull;
    default: return x;
    }
}

/* Block 0 backward, a running XOR at distance w: dst[i] = src[i] ^ dst[i-w]. Eight bytes at a
 * time: XOR-prefix within the word, then XOR in the previous word's last w bytes. */
static void unxor_prev(const uint8_t *restrict src, uint8_t *restrict dst, int32_t n, int32_t w)
{
    uint64_t carry = 0;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x = tersa__ld64(src + i);
        if (w == 1) x ^= x << 8;
        if (w <= 2) x ^= x << 16;
        if (w <= 4) x ^= x << 32;
        x ^= carry;
        tersa__st64(dst + i, x);
        carry = last_word(x, w);
    }
    for (; i < n; i++) dst[i] = src[i] ^ (i >= w ? dst[i - w] : 0);
}

/* Encode (decode = 0) or decode (decode = 1). Only block 0 differs between the two: every
 * other block XORs with the reference block either way. */
static void delta_apply(const uint8_t *ref, int block0, const uint8_t *src, uint8_t *dst,
                        int32_t size, int32_t typesize, int decode)
{
    if (size <= 0) return;
    int32_t w = word_size(typesize), n = size - size % w;
    if (!block0)
        xor_bytes(src, ref, dst, n);
    else if (decode)
        unxor_prev(src, dst, n, w);
    else
        xor_prev(src, dst, n, w);
    memcpy(dst + n, src + n, (size_t)(size - n));
}

void tersa__delta_encode(const uint8_t *ref, int block0, const uint8_t *src, uint8_t *dst,
                         int32_t size, int32_t typesize)
{
    delta_apply(ref, block0, src, dst, size, typesize, 0);
}

void tersa__delta_decode(const uint8_t *ref, int block0, const uint8_t *src, uint8_t *dst,
                         int32_t size, int32_t typesize)
{
    delta_apply(ref, block0, src, dst, size, typesize, 1);
}

/* AVX2 byte shuffle and bitshuffle: tersa_shuffle_x86_tmpl.h (which explains the scheme) on two
 * 128-bit lanes, 32 elements per step. Each register carries two independent 16-element
 * problems: the low lane elements i..i+15, the high lane i+16..i+31. On the element side loads
 * go lane by lane (insert) and stores pair lanes up first (lane swaps), while a byte row of 32
 * elements is one contiguous 32-byte access. Backward bitshuffle with t <= 8 takes 256 elements
 * at a time, which lets unpacks (instead of inserts) build the 8x8 bit blocks. Defines
 * tersa__shuffle_avx2, tersa__unshuffle_avx2, tersa__bitshuffle_avx2 and
 * tersa__bitunshuffle_avx2. */
#include <immintrin.h>

#include "filters/tersa_shuffle_internal.h"

#ifdef TERSA_HAVE_X86_SHUFFLE

typedef __m256i vec;
enum { GROUP = 32 };
#define VEC_OP(op) _mm256_##op
#define VEC_SI(op) _mm256_##op##_si256
#define TMPL_NAME(f) tersa__##f##_avx2
#define TMPL_WIDE 256

#include "filters/x86/tersa_shuffle_x86_tmpl.h"

#define LOADU128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define STOREU128(p, x) _mm_storeu_si128((__m128i *)(void *)(p), (x))

TERSA_ALWAYS_INLINE vec load_lanes(const uint8_t *p, size_t hi)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(LOADU128(p)), LOADU128(p + hi), 1);
}

TERSA_ALWAYS_INLINE void store_lane(uint8_t *p, vec x, const int l)
{
    if (l == 0)
        STOREU128(p, _mm256_castsi256_si128(x));
    else
        STOREU128(p, _mm256_extracti128_si256(x, 1));
}

/* Lane swaps pair up registers r and r + 1 into 32 contiguous bytes of each lane's elements. */
TERSA_ALWAYS_INLINE void store_elems(uint8_t *d, const vec *v, const int t)
{
    for (int r = 0; r < t; r += 2) {
        STOREU(d + 16 * r, _mm256_permute2x128_si256(v[r], v[r + 1], 0x20));
        STOREU(d + 16 * t + 16 * r, _mm256_permute2x128_si256(v[r], v[r + 1], 0x31));
    }
}

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
            store_lane(lo + 16 * r, rows[k][r], 0);
            store_lane(hi + 16 * r, rows[k][r], 1);
        }
    }
}

#endif

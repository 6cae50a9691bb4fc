/* SSE2 byte shuffle and bitshuffle: tersa_shuffle_x86_tmpl.h (which explains the scheme) on one
 * 128-bit lane, 16 elements per step. Defines tersa__shuffle_sse2, tersa__unshuffle_sse2,
 * tersa__bitshuffle_sse2 and tersa__bitunshuffle_sse2. */
#include <emmintrin.h>

#include "filters/tersa_shuffle_internal.h"

#ifdef TERSA_HAVE_X86_SHUFFLE

typedef __m128i vec;
enum { GROUP = 16 };
#define VEC_OP(op) _mm_##op
#define VEC_SI(op) _mm_##op##_si128
#define TMPL_NAME(f) tersa__##f##_sse2

#include "filters/x86/tersa_shuffle_x86_tmpl.h"

TERSA_ALWAYS_INLINE vec load_lanes(const uint8_t *p, size_t hi)
{
    (void)hi;
    return LOADU(p);
}

TERSA_ALWAYS_INLINE void store_lane(uint8_t *p, vec x, const int l)
{
    (void)l;
    STOREU(p, x);
}

TERSA_ALWAYS_INLINE void store_elems(uint8_t *d, const vec *v, const int t)
{
    for (int r = 0; r < t; r++) STOREU(d + 16 * r, v[r]);
}

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

#endif

/* Trunc-prec (lossy, forward only), FORMATS 2.9.4: zero low mantissa bits of little-endian
 * float32/float64 words. The size % typesize tail is copied unchanged. */
#include <string.h>

#include "common/tersa_internal.h"
#include "filters/tersa_filters.h"

/* Number of low bits to clear (p > 0 keeps p mantissa bits, p < 0 clears -p), or an error:
 * the sign and exponent must survive, so at least one mantissa bit is kept. */
static int zeroed_bits(int8_t prec, int32_t typesize)
{
    int mant = typesize == 4 ? 23 : typesize == 8 ? 52 : 0;
    if (mant == 0)
        return tersa__fail(TERSA_ERR_PARAM, "trunc-prec: typesize %d (only 4 and 8 are supported)",
                           (int)typesize);
    int p = prec;
    if (p > mant || -p > mant)
        return tersa__fail(TERSA_ERR_PARAM, "trunc-prec: %d bits exceeds the %d mantissa bits",
                           p, mant);
    int zeroed = p > 0 ? mant - p : -p;
    if (p == 0 || zeroed >= mant)
        return tersa__fail(TERSA_ERR_PARAM,
                           "trunc-prec: precision %d would clear all %d mantissa bits", p, mant);
    return zeroed;
}

static void mask32(const uint8_t *restrict src, uint8_t *restrict dst, int32_t n, uint32_t mask)
{
    for (int32_t i = 0; i < n; i++)
        tersa__st32(dst + (size_t)i * 4, tersa__ld32(src + (size_t)i * 4) & mask);
}

static void mask64(const uint8_t *restrict src, uint8_t *restrict dst, int32_t n, uint64_t mask)
{
    for (int32_t i = 0; i < n; i++)
        tersa__st64(dst + (size_t)i * 8, tersa__ld64(src + (size_t)i * 8) & mask);
}

int tersa__truncprec(int8_t prec, int32_t typesize, const uint8_t *src, uint8_t *dst,
                     int32_t size)
{
    int zeroed = zeroed_bits(prec, typesize);
    if (zeroed < 0) return zeroed;
    if (size < 0) return tersa__fail(TERSA_ERR_PARAM, "trunc-prec: negative size %d", (int)size);
    if (size == 0) return 0;
    int32_t n = size / typesize;
    if (typesize == 4) {
        mask32(src, dst, n, ~((UINT32_C(1) << zeroed) - 1));
    } else {
        mask64(src, dst, n, ~((UINT64_C(1) << zeroed) - 1));
    }
    size_t done = (size_t)n * (size_t)typesize;
    memcpy(dst + done, src + done, (size_t)size - done);
    return 0;
}

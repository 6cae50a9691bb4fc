/* BloscLZ decoder, written for tersa from the stream grammar in FORMATS.md 2.11.
 *
 * Every token is checked before it is copied: literal runs against both ends, match distances
 * against the bytes produced so far, match lengths against the output size, and a match must be
 * followed by another token. Copies take fixed-size vector moves while both buffers have room
 * for them and fall back to exact copies near the ends.
 */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "codecs/tersa_codec.h"
#include "common/tersa_internal.h"

enum {
    BLZ_RUN_MAX = 32,    /* bytes per literal token */
    BLZ_FAR_MARK = 8192, /* the near form with H = 31, D = 255 announces a far distance */
};

/* Fixed-size moves. Written with SSE2 where available: plain memcpy loops get turned back into
 * byte loops with run-time overlap checks by the compiler, which is several times slower. */
static inline void blz_move16(uint8_t *d, const uint8_t *s)
{
#if defined(__SSE2__)
    _mm_storeu_si128((__m128i *)(void *)d, _mm_loadu_si128((const __m128i *)(const void *)s));
#else
    memcpy(d, s, 16);
#endif
}

static inline void blz_move8(uint8_t *d, const uint8_t *s)
{
#if defined(__SSE2__)
    _mm_storel_epi64((__m128i *)(void *)d, _mm_loadl_epi64((const __m128i *)(const void *)s));
#else
    memcpy(d, s, 8);
#endif
}

/* Copy len bytes from op - dist to op, dist >= 1, where the caller knows that oend - op >=
 * len + 16 (so whole 8- and 16-byte moves may run past the end of the match). Loads from
 * bytes stored a moment earlier stall when they straddle two stores, so short distances
 * replicate a 16-byte pattern instead of reading the output back. */
static inline uint8_t *blz_copy_match_fast(uint8_t *op, size_t dist, size_t len)
{
    uint8_t *const mend = op + len;
    const uint8_t *ref = op - dist;
    if (dist >= 32) {
        if (len >= 64) {
            if (dist >= len) { /* long and not overlapping: libc's wide moves */
                memcpy(op, ref, len);
                return mend;
            }
            /* one unaligned move, then aligned stores (a store across two cache lines costs
             * twice); the bytes in between are already in place */
            blz_move16(op, ref);
            const size_t skip = 16 - ((uintptr_t)op & 15u);
            op += skip;
            ref += skip;
        }
        do {
            blz_move16(op, ref);
            op += 16;
            ref += 16;
        } while (op < mend);
        return mend;
    }
    if (dist >= 16) {
        do {
            blz_move8(op, ref);
            op += 8;
            ref += 8;
        } while (op < mend);
        return mend;
    }
    if (dist == 1) { /* a run; libc's memset uses the widest stores */
        memset(op, ref[0], len);
        return mend;
    }
    uint8_t pat[16]; /* 16 bytes of the period-dist pattern; each store advances a period */
    memcpy(pat, ref, 16); /* in bounds (room >= len + 16); bytes from dist on are redone */
    for (size_t i = dist; i < 16; i++) pat[i] = pat[i - dist];
    const size_t step = dist > 8 ? dist : 16 - 16 % dist;
    do {
        blz_move16(op, pat);
        op += step;
    } while (op < mend);
    return mend;
}

static inline uint8_t *blz_copy_match_exact(uint8_t *op, size_t dist, size_t len)
{
    const uint8_t *ref = op - dist;
    for (size_t i = 0; i < len; i++) op[i] = ref[i];
    return op + len;
}

/* The hot loop; over 100 lines because splitting it costs speed. */
int32_t tersa__blosclz_decode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t outlen)
{
    if (n <= 0 || !src) return tersa__fail(TERSA_ERR_CORRUPT, "blosclz: empty stream");
    if (outlen < 0 || (outlen > 0 && !dst))
        return tersa__fail(TERSA_ERR_PARAM, "blosclz: invalid output buffer");
    const uint8_t *ip = src;
    const uint8_t *const iend = src + n;
    uint8_t *op = dst;
    uint8_t *const oend = dst + outlen;
    unsigned ctrl = *ip++ & 31u; /* the first token is always a literal run */

    for (;;) {
        if (ctrl < 32) {
            const size_t run = ctrl + 1;
            if (TERSA_LIKELY(iend - ip >= BLZ_RUN_MAX && oend - op >= BLZ_RUN_MAX)) {
                blz_move16(op, ip);
                blz_move16(op + 16, ip + 16);
            } else {
                if (run > (size_t)(iend - ip))
                    return tersa__fail(TERSA_ERR_CORRUPT,
                                       "blosclz: literal run of %zu bytes at offset %td runs "
                                       "past the stream end (%d bytes)",
                                       run, ip - src - 1, n);
                if (run > (size_t)(oend - op))
                    return tersa__fail(TERSA_ERR_CORRUPT,
                                       "blosclz: literal run at offset %td writes past the "
                                       "expected %d bytes",
                                       ip - src - 1, outlen);
                memcpy(op, ip, run);
            }
            op += run;
            ip += run;
            if (ip >= iend) break;
            ctrl = *ip++;
            continue;
        }

        /* A match: length from the top 3 bits (and extension bytes), distance from the low 5
         * bits and the next byte (and a 16-bit far distance). */
        const uint8_t *const tok = ip - 1;
        size_t len = (ctrl >> 5) + 2;
        size_t dist = (size_t)(ctrl & 31u) << 8;
        if (len == 9) {
            unsigned c;
            do {
                if (TERSA_UNLIKELY(ip >= iend)) goto truncated;
                c = *ip++;
                len += c;
                if (TERSA_UNLIKELY(len > (size_t)(oend - op))) goto too_long;
            } while (c == 255);
        }
        if (TERSA_UNLIKELY(iend - ip < 2)) goto truncated; /* D and a following token */
        dist += (size_t)*ip++ + 1;
        if (TERSA_UNLIKELY(dist == BLZ_FAR_MARK)) {
            if (iend - ip < 3) goto truncated; /* P, Q and a following token */
            dist += ((size_t)ip[0] << 8) | ip[1];
            ip += 2;
        }
        if (TERSA_UNLIKELY(dist > (size_t)(op - dst)))
            return tersa__fail(TERSA_ERR_CORRUPT,
                               "blosclz: match at offset %td reaches %zu bytes back but only "
                               "%td bytes were produced",
                               tok - src, dist, op - dst);
        if (TERSA_UNLIKELY(len > (size_t)(oend - op))) goto too_long;
        if (TERSA_LIKELY((size_t)(oend - op) - len >= 16)) {
            op = blz_copy_match_fast(op, dist, len);
        } else { /* near the end: all but the last 16 bytes fast, then exactly */
            if (len > 16) {
                op = blz_copy_match_fast(op, dist, len - 16);
                len = 16;
            }
            op = blz_copy_match_exact(op, dist, len);
        }
        ctrl = *ip++;
        continue;

    truncated:
        return tersa__fail(TERSA_ERR_CORRUPT,
                           "blosclz: match at offset %td is cut off or ends the stream "
                           "(%d bytes)",
                           tok - src, n);
    too_long:
        return tersa__fail(TERSA_ERR_CORRUPT,
                           "blosclz: match at offset %td writes past the expected %d bytes",
                           tok - src, outlen);
    }
    if (op != oend)
        return tersa__fail(TERSA_ERR_CORRUPT,
                           "blosclz: stream decodes to %td bytes, expected %d", op - dst,
                           outlen);
    return outlen;
}

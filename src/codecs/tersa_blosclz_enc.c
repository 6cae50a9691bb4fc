/* BloscLZ encoder, written for tersa from the stream grammar in FORMATS.md 2.11.
 *
 * A greedy LZ77 pass with one hash slot per 4-byte sequence plus the last match distance:
 *   - a candidate counts only if its first min_len + 1 bytes match (one 8-byte compare), so
 *     matches too short to emit cost no more than a miss;
 *   - the hash table lives in the codec state and is never cleared between calls: slots hold
 *     `position + base`, and `base` moves past every earlier pass by more than the largest
 *     distance, so a stale slot always looks too far away and is ignored;
 *   - every position tries the hash candidate and the previous match distance (periodic data,
 *     such as shuffled numbers, repeats distances) and keeps the longer match;
 *   - misses step further the more of them there were since the last match (clevel sets how
 *     fast); matches extend 16 bytes at a time and also backwards into the pending literals;
 *   - an inline probe over the first part of the input gives up on data that compresses worse
 *     than a clevel-dependent ratio; a borderline verdict is checked again on the tail, since
 *     the start of a buffer can be unrepresentative. The engine stores given-up streams raw.
 *
 * Output rules the official decoder relies on: the stream begins and ends with a literal run,
 * literal runs hold at most 32 bytes, the far form is used only for distances >= 8192 and only
 * with lengths >= 8, and no distance exceeds 73725.
 */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "codecs/tersa_codec.h"
#include "common/tersa_internal.h"

enum {
    BLZ_MAX_RUN = 32,      /* bytes per literal token */
    BLZ_NEAR_MAX = 8191,   /* largest distance of the two-byte form */
    BLZ_FAR_MAX = 73725,   /* largest distance emitted (the grammar allows 73727) */
    BLZ_FAR_MIN_LEN = 8,   /* shortest far match emitted */
    BLZ_HASH_LOG_MAX = 15, /* the table is sized for the largest clevel */
    BLZ_MIN_INPUT = 16,    /* smaller inputs are never worth it */
    BLZ_TAIL = 12,         /* no match search in the last bytes */
    BLZ_CHECK_STEP = 8192, /* after the probe: how often to check the output still fits */
    BLZ_PROBE_MIN = 256,   /* shorter probes say nothing */
};

typedef struct blz_table {
    uint32_t base; /* slot values below base belong to earlier calls */
    uint32_t slot[1u << BLZ_HASH_LOG_MAX];
} blz_table;

typedef struct blz_level {
    uint8_t hash_log;
    uint8_t skip_log;       /* a miss advances 1 + (misses since the last match >> skip_log) */
    uint8_t min_len;        /* shortest near match emitted */
    uint8_t probe_div;      /* probe the first n / probe_div bytes ... */
    uint16_t probe_max;     /* ... but at most this many */
    uint16_t min_ratio_100; /* give up when the probe compresses worse than this / 100 */
} blz_level;

/* Tuned on shuffled float64/float32/int32 data (smooth, noisy, random), 64 KiB streams. */
static const blz_level blz_levels[10] = {
    {12, 5, 5, 8, 4096, 200},  /* 0: unused (clevel 0 never reaches a codec) */
    {12, 5, 5, 8, 4096, 200},  /* 1 */
    {13, 5, 5, 4, 8192, 150},  /* 2 */
    {14, 6, 5, 4, 16384, 120}, /* 3 */
    {14, 6, 5, 2, 16384, 120}, /* 4 */
    {14, 6, 5, 2, 16384, 120}, /* 5 */
    {14, 7, 5, 2, 16384, 120}, /* 6 */
    {15, 7, 4, 1, 16384, 115}, /* 7 */
    {15, 8, 4, 1, 16384, 110}, /* 8 */
    {15, 8, 4, 1, 16384, 105}, /* 9 */
};

static inline uint32_t blz_ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t blz_ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Mask selecting the first k bytes (k < 8) of a value loaded with blz_ld64. */
static inline uint64_t blz_first_bytes(size_t k)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return ~(~0ull >> (8 * k));
#else
    return ~(~0ull << (8 * k));
#endif
}

static inline uint32_t blz_hash(uint32_t seq, unsigned shift)
{
    return (seq * 2654435761u) >> shift;
}

/* Number of equal bytes at p and q, stopping at end (p < end). q may overlap p. */
static inline size_t blz_count(const uint8_t *p, const uint8_t *q, const uint8_t *end)
{
    const uint8_t *const start = p;
#if defined(__SSE2__)
    while (p + 16 <= end) {
        const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)q);
        const unsigned ne = ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) & 0xFFFFu;
        if (ne) return (size_t)(p - start) + (unsigned)__builtin_ctz(ne);
        p += 16;
        q += 16;
    }
#endif
    while (p + 8 <= end) {
        uint64_t x = blz_ld64(p) ^ blz_ld64(q);
        if (x) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            return (size_t)(p - start) + ((unsigned)__builtin_clzll(x) >> 3);
#else
            return (size_t)(p - start) + ((unsigned)__builtin_ctzll(x) >> 3);
#endif
        }
        p += 8;
        q += 8;
    }
    while (p < end && *p == *q) {
        p++;
        q++;
    }
    return (size_t)(p - start);
}

/* Literal tokens for lit bytes at p (the caller checked the output room for them). */
static inline uint8_t *blz_put_literals(uint8_t *op, const uint8_t *p, size_t lit,
                                        const uint8_t *src_end, const uint8_t *oend)
{
    while (lit > BLZ_MAX_RUN) {
        *op++ = BLZ_MAX_RUN - 1;
        memcpy(op, p, BLZ_MAX_RUN);
        op += BLZ_MAX_RUN;
        p += BLZ_MAX_RUN;
        lit -= BLZ_MAX_RUN;
    }
    if (lit == 0) return op;
    *op++ = (uint8_t)(lit - 1);
    if (src_end - p >= BLZ_MAX_RUN && oend - op >= BLZ_MAX_RUN)
        memcpy(op, p, BLZ_MAX_RUN); /* fixed size: two vector moves */
    else
        memcpy(op, p, lit);
    return op + lit;
}

/* One match token; len >= 3, 1 <= dist <= BLZ_FAR_MAX, far matches have len >= 8. */
static inline uint8_t *blz_put_match(uint8_t *op, size_t len, uint32_t dist)
{
    const int far = dist > BLZ_NEAR_MAX;
    const uint32_t code = far ? 31u : (dist - 1) >> 8;
    if (len < 9) {
        *op++ = (uint8_t)(((len - 2) << 5) | code);
    } else {
        *op++ = (uint8_t)((7u << 5) | code);
        for (len -= 9; len >= 255; len -= 255) *op++ = 255;
        *op++ = (uint8_t)len;
    }
    if (!far) {
        *op++ = (uint8_t)((dist - 1) & 255u);
        return op;
    }
    dist -= BLZ_NEAR_MAX + 1;
    op[0] = 255;
    op[1] = (uint8_t)(dist >> 8);
    op[2] = (uint8_t)(dist & 255u);
    return op + 3;
}

enum { BLZ_GO_ON = 0, BLZ_NO_FIT = 1, BLZ_POOR = 2, BLZ_HOPELESS = 3 };

/* Checkpoint verdict at ip: BLZ_NO_FIT when the output can no longer fit in olim; when
 * ratio_100 > 0, BLZ_POOR if the ratio so far (pending literals included) is below
 * ratio_100 / 100, BLZ_HOPELESS if nothing was gained at all (not worth a second look). */
static int blz_checkpoint(const uint8_t *src, const uint8_t *ip, const uint8_t *anchor,
                          const uint8_t *dst, const uint8_t *op, int32_t olim, unsigned ratio_100)
{
    size_t lit = (size_t)(ip - anchor);
    uint64_t est = (uint64_t)(op - dst) + lit + (lit >> 5) + 1;
    uint64_t in_100 = (uint64_t)(ip - src) * 100u;
    if (est >= (uint64_t)olim) return BLZ_NO_FIT;
    if (in_100 >= est * ratio_100) return BLZ_GO_ON;
    return in_100 < est * 100u ? BLZ_HOPELESS : BLZ_POOR;
}

static void blz_insert(uint32_t *slot, uint32_t base, const uint8_t *src, const uint8_t *p,
                       unsigned shift)
{
    slot[blz_hash(blz_ld32(p), shift)] = (uint32_t)(p - src) + base;
}

/* Where the probe ends (ratio_100 > 0) or the first fit check happens. */
static const uint8_t *blz_first_check(const uint8_t *src, int32_t n, const blz_level *lv,
                                      unsigned *ratio_100)
{
    size_t probe_len = (size_t)n / lv->probe_div;
    if (probe_len > lv->probe_max) probe_len = lv->probe_max;
    if (*ratio_100 == 0 || probe_len < BLZ_PROBE_MIN) { /* no probe: only fit checks */
        *ratio_100 = 0;
        probe_len = BLZ_CHECK_STEP;
    }
    return src + probe_len;
}

enum { BLZ_PROBE_FAILED = -1 };

/* The match-finding loop (hot; over 20 lines on purpose). Returns the stream size, 0 when it
 * does not fit in olim bytes, or BLZ_PROBE_FAILED when ratio_100 > 0 and the first part of
 * the input compresses worse than ratio_100 / 100. n >= BLZ_MIN_INPUT. */
static int32_t blz_compress(const uint8_t *src, int32_t n, uint8_t *dst, int32_t olim,
                            const blz_level *lv, uint32_t *slot, uint32_t base,
                            unsigned ratio_100)
{
    const unsigned shift = 32u - lv->hash_log;
    const unsigned skip_log = lv->skip_log;
    const size_t min_len = lv->min_len;
    const uint8_t *const src_end = src + n;
    const uint8_t *const search_end = src_end - BLZ_TAIL;
    const uint8_t *const match_end = src_end - 1; /* keep one byte for the closing literal */
    uint8_t *op = dst;
    uint8_t *const oend = dst + olim;
    const uint8_t *anchor = src;
    const uint8_t *ip = src + 1; /* the stream must begin with a literal */
    const uint8_t *check = blz_first_check(src, n, lv, &ratio_100);
    if (check > search_end) check = search_end; /* misses test only check: keep it in range */
    uint32_t rep = 1;  /* distance of the last match, tried first at every position */
    size_t misses = 0; /* since the last match */
    /* a candidate must match min_len + 1 bytes (one is left for the next search) */
    const uint64_t need = blz_first_bytes(min_len + 1);

    while (ip < search_end) {
        const uint64_t seq = blz_ld64(ip);
        const uint32_t pos = (uint32_t)(ip - src);
        const uint32_t h = blz_hash((uint32_t)seq, shift);
        uint32_t dist = pos + base - slot[h];
        slot[h] = pos + base;
        /* Stale or too distant slots fall back to rep without a branch: a branch on slot
         * validity mispredicts constantly while the table fills up. */
        dist = dist - 1u < (uint32_t)BLZ_FAR_MAX ? dist : rep;
        const int hit_slot = ((blz_ld64(ip - dist) ^ seq) & need) == 0;
        const int hit_rep = ((blz_ld64(ip - rep) ^ seq) & need) == 0;
        if (TERSA_LIKELY(!(hit_slot | hit_rep))) {
            ip += 1 + (misses++ >> skip_log); /* keeps the shift off the ip dependency chain */
            if (TERSA_LIKELY(ip < check)) continue;
            if (ip >= search_end) break;
            const int verdict = blz_checkpoint(src, ip, anchor, dst, op, olim, ratio_100);
            if (verdict != BLZ_GO_ON) return verdict == BLZ_POOR ? BLZ_PROBE_FAILED : 0;
            ratio_100 = 0;
            check = ip + BLZ_CHECK_STEP < search_end ? ip + BLZ_CHECK_STEP : search_end;
            continue;
        }
        if (!hit_slot) dist = rep;
        size_t len = blz_count(ip, ip - dist, match_end);
        if (hit_slot & hit_rep && dist != rep) { /* both: keep the longer, rep on ties */
            const size_t len_rep = blz_count(ip, ip - rep, match_end);
            if (len_rep >= len) {
                len = len_rep;
                dist = rep;
            }
        }
        const uint8_t *ref = ip - dist;
        const uint8_t *low = anchor + (anchor == src);
        size_t back = 0;
        while (ip - back > low && ref - back > src && ip[-1 - (ptrdiff_t)back] ==
                                                         ref[-1 - (ptrdiff_t)back])
            back++;
        /* Leave the last matching byte to start the next search: on shuffled numeric data
         * that byte often begins the next repeat, and measured ratios are clearly better. */
        len += back - 1;
        if (len < min_len || (dist > BLZ_NEAR_MAX && len < BLZ_FAR_MIN_LEN)) {
            ip++;
            continue;
        }
        ip -= back;
        const size_t lit = (size_t)(ip - anchor);
        if ((size_t)(oend - op) < lit + (lit >> 5) + 6 + len / 255) return 0;
        op = blz_put_literals(op, anchor, lit, src_end, oend);
        op = blz_put_match(op, len, dist);
        rep = dist;
        misses = 0;
        ip += len;
        anchor = ip;
        if (ip < search_end) blz_insert(slot, base, src, ip - 2, shift);
    }
    const size_t lit = (size_t)(src_end - anchor);
    if ((size_t)(oend - op) < lit + (lit >> 5) + 1) return 0;
    op = blz_put_literals(op, anchor, lit, src_end, oend);
    dst[0] |= 0x20; /* C-Blosc2 marks the first token with 001 in the top bits */
    return (int32_t)(op - dst);
}

/* The state's table, allocated on first use. */
static blz_table *blz_table_get(tersa__codec_state *st)
{
    blz_table *t = st->blosclz_hash;
    if (t) return t;
    t = tersa__malloc(sizeof *t);
    if (!t) return NULL;
    memset(t->slot, 0, sizeof t->slot);
    t->base = BLZ_FAR_MAX + 2;
    st->blosclz_hash = t;
    return t;
}

/* One pass over n bytes with the table; afterwards every slot it wrote is stale. The table is
 * cleared only when base would wrap (every ~60000 passes over 64 KiB). */
static int32_t blz_pass(const uint8_t *src, int32_t n, uint8_t *dst, int32_t olim,
                        const blz_level *lv, blz_table *t, unsigned ratio_100)
{
    const uint64_t span = (uint64_t)n + BLZ_FAR_MAX + 2;
    if ((uint64_t)t->base + span > UINT32_MAX) {
        memset(t->slot, 0, sizeof t->slot);
        t->base = BLZ_FAR_MAX + 2;
    }
    int32_t r = blz_compress(src, n, dst, olim, lv, t->slot, t->base, ratio_100);
    t->base += (uint32_t)span;
    return r;
}

/* The probe at the start failed; the start of a buffer can be unrepresentative (linspace data
 * near zero, headers), so compress the tail window too, into dst as scratch, and only give up
 * if that also misses the ratio. Returns 1 when the whole input is worth a try. */
static int blz_tail_probe(const uint8_t *src, int32_t n, uint8_t *dst, int32_t olim,
                          const blz_level *lv, blz_table *t)
{
    int32_t w = n / lv->probe_div;
    if (w > lv->probe_max) w = lv->probe_max;
    int64_t lim = (int64_t)w * 100 / lv->min_ratio_100;
    if (lim > olim) lim = olim;
    if (w < BLZ_MIN_INPUT || lim < 2) return 0;
    return blz_pass(src + (n - w), w, dst, (int32_t)lim, lv, t, 0) > 0;
}

int32_t tersa__blosclz_encode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t cap, int clevel,
                              tersa__codec_state *st)
{
    if (!st || n < 0 || cap < 0 || (n > 0 && !src) || (cap > 0 && !dst))
        return tersa__fail(TERSA_ERR_PARAM, "blosclz: invalid encode arguments");
    if (clevel < 1) clevel = 1;
    if (clevel > 9) clevel = 9;
    if (n < BLZ_MIN_INPUT || cap < 2) return 0;
    blz_table *t = blz_table_get(st);
    if (!t) return tersa__fail(TERSA_ERR_NOMEM, "blosclz: cannot allocate the hash table");
    const blz_level *lv = &blz_levels[clevel];
    const int32_t olim = cap < n - 1 ? cap : n - 1; /* the output must be smaller than n */
    int32_t r = blz_pass(src, n, dst, olim, lv, t, lv->min_ratio_100);
    if (r != BLZ_PROBE_FAILED) return r;
    if (!blz_tail_probe(src, n, dst, olim, lv, t)) return 0;
    return blz_pass(src, n, dst, olim, lv, t, 0);
}

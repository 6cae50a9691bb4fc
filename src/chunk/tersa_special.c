/* Special-value chunks: detection on compression, writing, and decoding (FORMATS 2.12). */
#include "chunk/tersa_chunk_internal.h"

static const uint8_t nan32[4] = {0x00, 0x00, 0xC0, 0x7F};
static const uint8_t nan64[8] = {0, 0, 0, 0, 0, 0, 0xF8, 0x7F};

/* True when every typesize-wide element equals the first one (memcmp against itself shifted
 * by one element; stops at the first difference, so it costs nothing on ordinary data). */
static bool periodic(const uint8_t *src, int32_t n, int typesize)
{
    if (n <= typesize) return true;
    return memcmp(src, src + typesize, (size_t)(n - typesize)) == 0;
}

static bool all_zero(const uint8_t *p, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

int tersa__special_detect(const uint8_t *src, int32_t n, int typesize)
{
    if (n <= 0 || n % typesize != 0 || n < 2 * typesize) return TERSA_SPECIAL_NONE;
    int32_t mid = (n / typesize / 2) * typesize;
    if (src[0] != src[n - typesize] || src[0] != src[mid]) return TERSA_SPECIAL_NONE;
    if (!periodic(src, n, typesize)) return TERSA_SPECIAL_NONE;
    if (all_zero(src, typesize)) return TERSA_SPECIAL_ZEROS;
    if (typesize == 4 && memcmp(src, nan32, 4) == 0) return TERSA_SPECIAL_NAN;
    if (typesize == 8 && memcmp(src, nan64, 8) == 0) return TERSA_SPECIAL_NAN;
    return TERSA_SPECIAL_VALUE;
}

int64_t tersa__special_write(int kind, int32_t typesize, int32_t nbytes, int32_t blocksize,
                             const void *value, int32_t valuesize, uint8_t *dst, size_t dstcap)
{
    int32_t cbytes = 32 + (kind == TERSA_SPECIAL_VALUE ? valuesize : 0);
    if (dstcap < (size_t)cbytes)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL, "special chunk needs %d bytes, have %zu",
                           cbytes, dstcap);
    memset(dst, 0, 32);
    dst[0] = 5;
    dst[1] = 1;
    dst[2] = TERSA_F_EXTENDED;
    dst[3] = (uint8_t)(typesize > 255 ? 1 : typesize);
    tersa__st32(dst + 4, (uint32_t)nbytes);
    tersa__st32(dst + 8, (uint32_t)blocksize);
    tersa__st32(dst + 12, (uint32_t)cbytes);
    dst[31] = (uint8_t)(kind << 4);
    if (kind == TERSA_SPECIAL_VALUE) memcpy(dst + 32, value, (size_t)valuesize);
    return cbytes;
}

static void fill_pattern(uint8_t *dst, int64_t off, int64_t len, const uint8_t *pat, int32_t plen)
{
    int64_t phase = off % plen;
    int64_t i = 0;
    while (i < len && phase != 0) {
        dst[i++] = pat[phase];
        phase = (phase + 1) % plen;
    }
    /* Now aligned on the pattern: copy one period, then double what is written. */
    int64_t start = i;
    for (; i < len && i - start < plen; i++) dst[i] = pat[i - start];
    while (i < len) {
        int64_t done = i - start;
        int64_t n = done < len - i ? done : len - i;
        memcpy(dst + i, dst + start, (size_t)n);
        i += n;
    }
}

int tersa__special_fill(const tersa__hdr *h, const uint8_t *src, int64_t off, int64_t len,
                        uint8_t *dst)
{
    switch (h->special) {
    case TERSA_SPECIAL_ZEROS:
    case TERSA_SPECIAL_UNINIT: memset(dst, 0, (size_t)len); return 0;
    case TERSA_SPECIAL_NAN:
        if (h->typesize == 4) fill_pattern(dst, off, len, nan32, 4);
        else if (h->typesize == 8) fill_pattern(dst, off, len, nan64, 8);
        else
            return tersa__fail(TERSA_ERR_CORRUPT, "chunk: NaN chunk with typesize %d (needs 4 "
                               "or 8)", h->typesize);
        return 0;
    case TERSA_SPECIAL_VALUE: {
        int32_t vs = h->cbytes - 32;
        if (vs <= 0 || h->nbytes % vs != 0)
            return tersa__fail(TERSA_ERR_CORRUPT, "chunk: repeated-value size %d does not divide "
                               "nbytes %d", vs, h->nbytes);
        fill_pattern(dst, off, len, src + 32, vs);
        return 0;
    }
    default: return tersa__fail(TERSA_ERR_INTERNAL, "chunk: not a special chunk");
    }
}

static int check_special_args(int kind, int32_t typesize, int64_t nbytes, const void *value,
                              const void *dst)
{
    if (kind < TERSA_SPECIAL_ZEROS || kind > TERSA_SPECIAL_UNINIT)
        return tersa__fail(TERSA_ERR_PARAM, "special kind %d (1 zeros, 2 NaN, 3 value, 4 uninit)",
                           kind);
    if (typesize < 1 || nbytes < 0 || nbytes > TERSA_MAX_BUFFERSIZE || !dst)
        return tersa__fail(TERSA_ERR_PARAM, "special chunk: typesize %d, nbytes %lld", typesize,
                           (long long)nbytes);
    if (kind == TERSA_SPECIAL_NAN && typesize != 4 && typesize != 8)
        return tersa__fail(TERSA_ERR_PARAM, "NaN chunk needs typesize 4 or 8, not %d", typesize);
    if (kind == TERSA_SPECIAL_VALUE && (!value || nbytes % typesize != 0 || typesize > 65536))
        return tersa__fail(TERSA_ERR_PARAM, "value chunk: nbytes %lld not a multiple of "
                           "typesize %d, or no value", (long long)nbytes, typesize);
    return 0;
}

int64_t tersa_chunk_make_special(int kind, int32_t typesize, int64_t nbytes, const void *value,
                                 void *dst, size_t dstcap)
{
    TERSA_TRY(check_special_args(kind, typesize, nbytes, value, dst));
    uint8_t f[TERSA_MAX_FILTERS] = {0, 0, 0, 0, 0, TERSA_FILTER_SHUFFLE};
    int32_t bs = tersa__auto_blocksize(TERSA_CODEC_BLOSCLZ, 5, typesize > 255 ? 1 : typesize,
                                       (int32_t)nbytes, 0, f, TERSA_SPLIT_FORWARD_COMPAT);
    return tersa__special_write(kind, typesize, (int32_t)nbytes, bs, value, typesize,
                                (uint8_t *)dst, dstcap);
}

int64_t tersa_cctx_make_special(const tersa_cctx *x, int kind, int64_t nbytes, const void *value,
                                void *dst, size_t dstcap)
{
    if (!x) return tersa__fail(TERSA_ERR_PARAM, "make_special: cctx is NULL");
    const int64_t *p = x->c.params;
    int32_t ts = (int32_t)p[TERSA_P_TYPESIZE];
    TERSA_TRY(check_special_args(kind, ts, nbytes, value, dst));
    uint8_t f[TERSA_MAX_FILTERS];
    for (int i = 0; i < TERSA_MAX_FILTERS; i++) f[i] = (uint8_t)p[TERSA_P_FILTER0 + i];
    int32_t bs = tersa__auto_blocksize((int)p[TERSA_P_CODEC], (int)p[TERSA_P_CLEVEL], ts,
                                       (int32_t)nbytes, (int32_t)p[TERSA_P_BLOCKSIZE], f,
                                       (int)p[TERSA_P_SPLITMODE]);
    return tersa__special_write(kind, ts, (int32_t)nbytes, bs, value, ts, (uint8_t *)dst, dstcap);
}

/* Full structural validation of a chunk: sizes, block offsets, dictionary, stream bounds. */
#include "chunk/tersa_chunk_internal.h"

#define VFAIL(code, ...) tersa__fail(code, "chunk: " __VA_ARGS__)

static int check_dict(const tersa__hdr *h, const uint8_t *src, tersa__layout *lay)
{
    int64_t at = lay->data_start;
    if (at + 4 > h->cbytes)
        return VFAIL(TERSA_ERR_CORRUPT, "dictionary size at %lld runs past cbytes %d",
                     (long long)at, h->cbytes);
    int32_t n = tersa__ld32s(src + at);
    if (n <= 0 || n > TERSA_MAX_DICT_SIZE || at + 4 + n > h->cbytes)
        return VFAIL(TERSA_ERR_CORRUPT, "dictionary size %d invalid (cbytes %d)", n, h->cbytes);
    lay->dict = src + at + 4;
    lay->dict_size = n;
    lay->data_start = (int32_t)(at + 4 + n);
    return 0;
}

static int check_special(const tersa__hdr *h)
{
    if (h->special == TERSA_SPECIAL_NAN && h->typesize != 4 && h->typesize != 8)
        return VFAIL(TERSA_ERR_CORRUPT, "NaN chunk with typesize %d (needs 4 or 8)", h->typesize);
    if (h->special != TERSA_SPECIAL_VALUE) return 0;
    int32_t vs = h->cbytes - h->header_len;
    if (vs <= 0 || h->nbytes % vs != 0)
        return VFAIL(TERSA_ERR_CORRUPT, "repeated value of %d bytes does not divide nbytes %d",
                     vs, h->nbytes);
    return 0;
}

static int check_stream(const tersa__hdr *h, const uint8_t *src, int64_t *pos, int32_t j, int s)
{
    int64_t p = *pos;
    if (p + 4 > h->cbytes)
        return VFAIL(TERSA_ERR_CORRUPT, "block %d stream %d size prefix at %lld runs past cbytes "
                     "%d", j, s, (long long)p, h->cbytes);
    int32_t c = tersa__ld32s(src + p);
    p += 4;
    if (c < 0) {
        if (c < -255 || p + 1 > h->cbytes || !(src[p] & 1))
            return VFAIL(TERSA_ERR_CORRUPT, "block %d stream %d: bad run code %d", j, s, c);
        p += 1;
    } else if (c > h->cbytes - p) {
        return VFAIL(TERSA_ERR_CORRUPT, "block %d stream %d size %d runs past the chunk end "
                     "(%lld bytes left)", j, s, c, (long long)(h->cbytes - p));
    } else {
        p += c;
    }
    *pos = p;
    return 0;
}

int tersa__check_block(const tersa__hdr *h, const uint8_t *src, const tersa__layout *lay,
                       int32_t j)
{
    int32_t bstart = tersa__ld32s(src + h->header_len + 4 * (int64_t)j);
    if (bstart < lay->data_start || bstart >= h->cbytes)
        return VFAIL(TERSA_ERR_CORRUPT, "block %d starts at %d, outside [%d, %d)", j, bstart,
                     lay->data_start, h->cbytes);
    if (h->vlblocks) return 0; /* extents checked with the VL geometry */
    bool last_short = j == h->nblocks - 1 && h->leftover;
    int nstreams = (h->split && !last_short) ? h->typesize : 1;
    int64_t pos = bstart;
    for (int s = 0; s < nstreams; s++) TERSA_TRY(check_stream(h, src, &pos, j, s));
    return 0;
}

int tersa__chunk_check(const tersa__hdr *h, const uint8_t *src, size_t srcsize,
                       tersa__layout *lay, bool walk)
{
    memset(lay, 0, sizeof *lay);
    if ((size_t)h->cbytes > srcsize)
        return VFAIL(TERSA_ERR_TRUNCATED, "cbytes %d but only %zu bytes given", h->cbytes,
                     srcsize);
    lay->data_start = h->header_len;
    if (h->special) return check_special(h);
    if (h->memcpyed || h->nbytes == 0) return 0;
    int64_t table_end = h->header_len + 4 * (int64_t)h->nblocks;
    if (table_end > h->cbytes)
        return VFAIL(TERSA_ERR_CORRUPT, "%d block offsets need %lld bytes, cbytes is %d",
                     h->nblocks, (long long)table_end, h->cbytes);
    lay->data_start = (int32_t)table_end;
    if (h->has_dict) TERSA_TRY(check_dict(h, src, lay));
    if (!walk) return 0;
    if (h->vlblocks) return tersa__vl_geometry(h, src, lay, NULL, NULL, NULL);
    for (int32_t j = 0; j < h->nblocks; j++) TERSA_TRY(tersa__check_block(h, src, lay, j));
    return 0;
}

int tersa_chunk_validate(const void *src, size_t srcsize)
{
    tersa__hdr h;
    tersa__layout lay;
    TERSA_TRY(tersa__hdr_parse(src, srcsize, &h));
    TERSA_TRY(tersa__chunk_check(&h, src, srcsize, &lay, true));
    if (!h.special && !h.memcpyed && h.nbytes > 0 && h.format == 2)
        return VFAIL(TERSA_ERR_UNSUPPORTED, "snappy-compressed chunk (Blosc1 only)");
    return 0;
}

int tersa__vl_geometry(const tersa__hdr *h, const uint8_t *src, const tersa__layout *lay,
                       int64_t *off, int32_t *len, int32_t *end)
{
    int64_t total = 0;
    for (int32_t j = 0; j < h->nblocks; j++) {
        int32_t b = tersa__ld32s(src + h->header_len + 4 * (int64_t)j);
        int32_t e = j + 1 < h->nblocks ? tersa__ld32s(src + h->header_len + 4 * (int64_t)(j + 1))
                                       : h->cbytes;
        if (b < lay->data_start || e > h->cbytes || e - (int64_t)b < 5)
            return VFAIL(TERSA_ERR_CORRUPT, "VL block %d extent [%d, %d) invalid", j, b, e);
        int32_t n = tersa__ld32s(src + b);
        if (n <= 0 || n > h->nbytes - total)
            return VFAIL(TERSA_ERR_CORRUPT, "VL block %d size %d invalid", j, n);
        if (off) {
            off[j] = total;
            len[j] = n;
            end[j] = e;
        }
        total += n;
    }
    if (total != h->nbytes)
        return VFAIL(TERSA_ERR_CORRUPT, "VL block sizes add up to %lld, nbytes is %d",
                     (long long)total, h->nbytes);
    return 0;
}

/* Chunk header: parse and check (every version 2..6), and the public inspect call. */
#include "chunk/tersa_chunk_internal.h"

#define HDR_FAIL(code, ...) tersa__fail(code, "chunk header: " __VA_ARGS__)

static int resolve_codec(tersa__hdr *h)
{
    switch (h->format) {
    case 0: h->compcode = TERSA_CODEC_BLOSCLZ; return 0;
    case 1:
        h->compcode = (h->header_len == 32 && h->udcodec == TERSA_CODEC_LZ4HC) ? TERSA_CODEC_LZ4HC
                                                                               : TERSA_CODEC_LZ4;
        return 0;
    case 2: h->compcode = 3; return 0; /* snappy: reported, refused at decode time */
    case 3: h->compcode = TERSA_CODEC_ZLIB; return 0;
    case 4: h->compcode = TERSA_CODEC_ZSTD; return 0;
    case TERSA_FORMAT_USER:
        if (h->header_len != 32)
            return HDR_FAIL(TERSA_ERR_CORRUPT, "user codec format needs the extended header");
        h->compcode = h->udcodec;
        return 0;
    default: return HDR_FAIL(TERSA_ERR_CORRUPT, "codec format code %d is not defined", h->format);
    }
}

static void legacy_filters(tersa__hdr *h)
{
    memset(h->filters, 0, sizeof h->filters);
    memset(h->filters_meta, 0, sizeof h->filters_meta);
    if (h->flags & TERSA_F_SHUFFLE) h->filters[5] = TERSA_FILTER_SHUFFLE;
    if (h->flags & TERSA_F_BITSHUFFLE) h->filters[5] = TERSA_FILTER_BITSHUFFLE;
    if (h->flags & TERSA_F_DELTA) h->filters[4] = TERSA_FILTER_DELTA;
}

static int parse_extended(const uint8_t *src, tersa__hdr *h)
{
    memcpy(h->filters, src + 16, TERSA_MAX_FILTERS);
    memcpy(h->filters_meta, src + 24, TERSA_MAX_FILTERS);
    h->udcodec = src[22];
    h->codec_meta = src[23];
    h->b2flags2 = src[30];
    h->b2flags = src[31];
    if (h->version == 3) h->filters[5] = h->filters_meta[5] = 0;
    if (h->b2flags & TERSA_B2_LAZY)
        return HDR_FAIL(TERSA_ERR_CORRUPT, "lazy-chunk bit set in a stored chunk");
    if (h->b2flags & TERSA_B2_INSTRUMENTED)
        return HDR_FAIL(TERSA_ERR_UNSUPPORTED, "instrumented chunk (timing records, no data)");
    if (h->b2flags2 & ~1u)
        return HDR_FAIL(TERSA_ERR_CORRUPT, "reserved flags2 bits 0x%02x set", h->b2flags2);
    h->special = (h->b2flags >> 4) & 7;
    if (h->special > TERSA_SPECIAL_UNINIT)
        return HDR_FAIL(TERSA_ERR_CORRUPT, "special-value code %d is reserved", h->special);
    h->has_dict = (h->b2flags & TERSA_B2_DICT) != 0;
    h->vlblocks = (h->b2flags2 & 1) != 0;
    return 0;
}

static int check_blocks(tersa__hdr *h)
{
    h->nblocks = 0;
    h->leftover = 0;
    if (h->nbytes == 0) return 0;
    if (h->special) { /* no streams: blocks only give getitem/mask a geometry */
        if (h->blocksize <= 0 || h->blocksize > h->nbytes) h->blocksize = h->nbytes;
        h->nblocks = h->nbytes / h->blocksize + (h->nbytes % h->blocksize != 0);
        h->leftover = h->nbytes % h->blocksize;
        return 0;
    }
    if (h->vlblocks) {
        if (h->blocksize <= 0 || h->blocksize > h->nbytes)
            return HDR_FAIL(TERSA_ERR_CORRUPT, "VL-block count %d invalid for nbytes %d",
                            h->blocksize, h->nbytes);
        h->nblocks = h->blocksize;
        return 0;
    }
    if (h->blocksize <= 0)
        return HDR_FAIL(TERSA_ERR_CORRUPT, "blocksize %d for nbytes %d", h->blocksize, h->nbytes);
    if (h->blocksize > h->nbytes) h->blocksize = h->nbytes;
    h->nblocks = h->nbytes / h->blocksize + (h->nbytes % h->blocksize != 0);
    h->leftover = h->nbytes % h->blocksize;
    if (h->split && h->typesize > 1 && !h->memcpyed && h->blocksize % h->typesize != 0 &&
        h->nblocks > (h->leftover ? 1 : 0))
        return HDR_FAIL(TERSA_ERR_CORRUPT, "split blocks of %d bytes are not a multiple of "
                        "typesize %d", h->blocksize, h->typesize);
    return 0;
}

static int check_sizes(tersa__hdr *h)
{
    if (h->nbytes < 0 || h->nbytes > TERSA_MAX_BUFFERSIZE)
        return HDR_FAIL(TERSA_ERR_CORRUPT, "nbytes %d out of range", h->nbytes);
    if (h->cbytes < h->header_len)
        return HDR_FAIL(TERSA_ERR_CORRUPT, "cbytes %d smaller than the %d-byte header", h->cbytes,
                        h->header_len);
    if (h->memcpyed && !h->special && h->cbytes != (int64_t)h->nbytes + h->header_len)
        return HDR_FAIL(TERSA_ERR_CORRUPT, "memcpyed chunk: cbytes %d != nbytes %d + header %d",
                        h->cbytes, h->nbytes, h->header_len);
    if (h->vlblocks && h->memcpyed)
        return HDR_FAIL(TERSA_ERR_CORRUPT, "VL-block chunk marked memcpyed");
    return 0;
}

int tersa__hdr_parse(const uint8_t *src, size_t srcsize, tersa__hdr *h)
{
    memset(h, 0, sizeof *h);
    if (!src) return HDR_FAIL(TERSA_ERR_PARAM, "NULL source");
    if (srcsize < 16) return HDR_FAIL(TERSA_ERR_TRUNCATED, "need 16 bytes, have %zu", srcsize);
    h->version = src[0];
    h->versionlz = src[1];
    h->flags = src[2];
    h->typesize = src[3];
    h->nbytes = tersa__ld32s(src + 4);
    h->blocksize = tersa__ld32s(src + 8);
    h->cbytes = tersa__ld32s(src + 12);
    if (h->version < 2 || h->version > 6)
        return HDR_FAIL(TERSA_ERR_VERSION, "format version %d (supported: 2 to 6)", h->version);
    if (h->typesize == 0) return HDR_FAIL(TERSA_ERR_CORRUPT, "typesize 0");
    h->header_len = ((h->flags & TERSA_F_EXTENDED) == TERSA_F_EXTENDED) ? 32 : 16;
    h->format = h->flags >> 5;
    h->memcpyed = (h->flags & TERSA_F_MEMCPYED) != 0;
    h->split = (h->flags & TERSA_F_NOSPLIT) == 0;
    if (h->header_len == 32) {
        if (h->version == 2)
            return HDR_FAIL(TERSA_ERR_CORRUPT, "version 2 chunk claims an extended header");
        if (srcsize < 32)
            return HDR_FAIL(TERSA_ERR_TRUNCATED, "need 32 bytes, have %zu", srcsize);
        TERSA_TRY(parse_extended(src, h));
    } else {
        legacy_filters(h);
    }
    if (h->special) h->vlblocks = false; /* no blocks to describe */
    if (h->vlblocks) h->split = false;
    TERSA_TRY(resolve_codec(h));
    TERSA_TRY(check_sizes(h));
    return check_blocks(h);
}

int tersa_chunk_inspect(const void *src, size_t srcsize, tersa_chunk_info *info)
{
    tersa__hdr h;
    if (!info || info->struct_size < sizeof *info)
        return tersa__fail(TERSA_ERR_PARAM, "inspect: info NULL or struct_size too small");
    TERSA_TRY(tersa__hdr_parse(src, srcsize, &h));
    size_t sz = info->struct_size;
    memset(info, 0, sizeof *info);
    info->struct_size = sz;
    info->version = h.version;
    info->versionlz = h.versionlz;
    info->flags = h.flags;
    info->header_len = h.header_len;
    info->typesize = h.typesize;
    info->nbytes = h.nbytes;
    info->blocksize = h.blocksize;
    info->cbytes = h.cbytes;
    info->nblocks = h.nblocks;
    info->codec = h.compcode;
    info->format_code = h.format;
    info->codec_meta = h.codec_meta;
    memcpy(info->filters, h.filters, TERSA_MAX_FILTERS);
    memcpy(info->filters_meta, h.filters_meta, TERSA_MAX_FILTERS);
    info->split = h.split && !h.memcpyed && !h.special;
    info->memcpyed = h.memcpyed && !h.special;
    info->special = h.special;
    info->has_dict = h.has_dict;
    info->vlblocks = h.vlblocks;
    info->blosc2_flags = h.b2flags;
    info->blosc2_flags2 = h.b2flags2;
    return 0;
}

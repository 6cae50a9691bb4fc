/* The automatic blocksize and the split rule, following C-Blosc2 3.3.2 (doc/blocksize.md). */
#include "chunk/tersa_chunk_internal.h"

static bool is_hcr(int codec)
{
    return codec == TERSA_CODEC_LZ4HC || codec == TERSA_CODEC_ZLIB || codec == TERSA_CODEC_ZSTD;
}

static bool has_filter(const uint8_t *filters, int id)
{
    for (int i = 0; i < TERSA_MAX_FILTERS; i++)
        if (filters[i] == id) return true;
    return false;
}

bool tersa__split_rule(int splitmode, int codec, int clevel, int typesize, int32_t blocksize,
                       const uint8_t *filters)
{
    if (splitmode == TERSA_SPLIT_ALWAYS) return true;
    if (splitmode == TERSA_SPLIT_NEVER) return false;
    bool fast = codec == TERSA_CODEC_BLOSCLZ || codec == TERSA_CODEC_LZ4 ||
                (codec == TERSA_CODEC_ZSTD && clevel <= 5);
    return fast && has_filter(filters, TERSA_FILTER_SHUFFLE) && typesize <= 16 &&
           blocksize / typesize >= 32;
}

static int32_t scale_by_clevel(int32_t bs, int clevel, bool hcr)
{
    switch (clevel) {
    case 0: return bs / 4;
    case 1: return bs / 2;
    case 2: return bs;
    case 3: return bs * 2;
    case 4:
    case 5: return bs * 4;
    case 9: return hcr ? bs * 16 : bs * 8;
    default: return bs * 8; /* 6..8 */
    }
}

static int32_t split_blocksize(int clevel, int typesize)
{
    static const int32_t per_item[10] = {0, 32768, 32768, 32768, 65536, 65536, 65536,
                                         131072, 262144, 524288};
    int64_t bs = (int64_t)per_item[clevel] * typesize;
    if (bs < 32 * 1024) bs = 32 * 1024;
    if (bs > 4 * 1024 * 1024) bs = 4 * 1024 * 1024;
    return (int32_t)bs;
}

int32_t tersa__auto_blocksize(int codec, int clevel, int typesize, int32_t nbytes,
                              int32_t user_blocksize, const uint8_t *filters, int splitmode)
{
    if (nbytes < typesize) return 1;
    int32_t bs = nbytes;
    if (user_blocksize > 0) {
        bs = user_blocksize;
    } else {
        if (nbytes >= 32 * 1024) {
            bs = is_hcr(codec) ? 64 * 1024 : 32 * 1024;
            bs = scale_by_clevel(bs, clevel, is_hcr(codec));
        }
        if (clevel > 0 && tersa__split_rule(splitmode, codec, clevel, typesize, nbytes, filters))
            bs = split_blocksize(clevel, typesize);
    }
    if (bs > nbytes) bs = nbytes;
    if (bs > typesize) bs -= bs % typesize;
    return bs;
}

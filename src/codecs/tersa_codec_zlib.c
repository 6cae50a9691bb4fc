/* zlib adapter: one zlib stream (RFC 1950: 78 xx header, DEFLATE data, Adler-32) per stream,
 * through libdeflate (FORMATS.md 2.10). The compressor for the current level and the
 * decompressor are kept in the codec state.
 */
#include <libdeflate.h>

#include "codecs/tersa_codec.h"
#include "common/tersa_internal.h"

static struct libdeflate_compressor *zlib_compressor(tersa__codec_state *st, int level)
{
    if (st->deflate_c && st->deflate_level == level) return st->deflate_c;
    libdeflate_free_compressor(st->deflate_c);
    st->deflate_c = libdeflate_alloc_compressor(level);
    st->deflate_level = st->deflate_c ? level : 0;
    return st->deflate_c;
}

static int32_t zlib_encode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t cap,
                           const tersa__codec_args *a)
{
    struct libdeflate_compressor *c = zlib_compressor(a->state, a->clevel);
    if (!c) return tersa__fail(TERSA_ERR_NOMEM, "zlib: cannot allocate a level %d compressor",
                               a->clevel);
    if (n <= 0 || cap <= 0) return 0;
    size_t r = libdeflate_zlib_compress(c, src, (size_t)n, dst, (size_t)cap);
    return (r > 0 && r < (size_t)n) ? (int32_t)r : 0;
}

static int32_t zlib_decode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t outlen,
                           const tersa__codec_args *a)
{
    tersa__codec_state *st = a->state;
    if (n <= 0 || outlen < 0) return tersa__fail(TERSA_ERR_CORRUPT, "zlib: empty stream");
    if (!st->deflate_d && !(st->deflate_d = libdeflate_alloc_decompressor()))
        return tersa__fail(TERSA_ERR_NOMEM, "zlib: cannot allocate a decompressor");
    size_t in_used = 0, out_used = 0;
    enum libdeflate_result r = libdeflate_zlib_decompress_ex(
        st->deflate_d, src, (size_t)n, dst, (size_t)outlen, &in_used, &out_used);
    if (r != LIBDEFLATE_SUCCESS)
        return tersa__fail(TERSA_ERR_CORRUPT, "zlib: malformed stream of %d bytes (%s)", n,
                           r == LIBDEFLATE_INSUFFICIENT_SPACE ? "decodes to more than expected"
                                                              : "bad data");
    if (out_used != (size_t)outlen)
        return tersa__fail(TERSA_ERR_CORRUPT, "zlib: stream decodes to %zu bytes, expected %d",
                           out_used, outlen);
    if (in_used != (size_t)n)
        return tersa__fail(TERSA_ERR_CORRUPT, "zlib: %zu stray bytes after the zlib stream",
                           (size_t)n - in_used);
    return outlen;
}

/* Releases the compressor and decompressor; called by tersa__codec_state_free. */
void tersa__zlib_state_free(tersa__codec_state *st)
{
    libdeflate_free_compressor(st->deflate_c);
    libdeflate_free_decompressor(st->deflate_d);
    st->deflate_c = st->deflate_d = NULL;
    st->deflate_level = 0;
}

const tersa__codec tersa__codec_zlib = {4, 3, "zlib", zlib_encode, zlib_decode};

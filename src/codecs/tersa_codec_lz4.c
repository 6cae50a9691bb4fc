/* LZ4 and LZ4HC adapters: one raw LZ4 block per stream (FORMATS.md 2.10).
 *
 * lz4 maps clevel to acceleration 10 - clevel, lz4hc to HC level clevel. With a dictionary the
 * dictionary is loaded as the block's prefix before every stream, so each stream depends on the
 * dictionary only (C-Blosc2 >= 3.0 writes and reads them this way). Compression states are
 * allocated once per codec state and reused.
 */
#include <lz4.h>
#include <lz4hc.h>

#include "codecs/tersa_codec.h"
#include "common/tersa_internal.h"

static int lz4_has_dict(const tersa__codec_args *a) { return a->dict && a->dict_size > 0; }

/* Compressed size r from liblz4: 0 when it failed or did not shrink the stream. */
static int32_t lz4_result(int r, int32_t n) { return (r > 0 && r < n) ? r : 0; }

static void *lz4_state_get(void **slot, int size, const char *what)
{
    if (!*slot) {
        *slot = tersa__malloc((size_t)size);
        if (!*slot) tersa__fail(TERSA_ERR_NOMEM, "%s: cannot allocate the compression state", what);
    }
    return *slot;
}

static int32_t lz4_encode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t cap,
                          const tersa__codec_args *a)
{
    void *mem = lz4_state_get(&a->state->lz4_state, LZ4_sizeofState(), "lz4");
    if (!mem) return TERSA_ERR_NOMEM;
    const int accel = 10 - a->clevel;
    if (n <= 0 || cap <= 0) return 0;
    if (!lz4_has_dict(a))
        return lz4_result(LZ4_compress_fast_extState(mem, (const char *)src, (char *)dst, n, cap,
                                                     accel),
                          n);
    LZ4_stream_t *s = LZ4_initStream(mem, (size_t)LZ4_sizeofState());
    if (!s) return tersa__fail(TERSA_ERR_INTERNAL, "lz4: misaligned stream state");
    LZ4_loadDict(s, (const char *)a->dict, a->dict_size);
    return lz4_result(
        LZ4_compress_fast_continue(s, (const char *)src, (char *)dst, n, cap, accel), n);
}

static int32_t lz4hc_encode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t cap,
                            const tersa__codec_args *a)
{
    void *mem = lz4_state_get(&a->state->lz4hc_state, LZ4_sizeofStateHC(), "lz4hc");
    if (!mem) return TERSA_ERR_NOMEM;
    if (n <= 0 || cap <= 0) return 0;
    if (!lz4_has_dict(a))
        return lz4_result(LZ4_compress_HC_extStateHC(mem, (const char *)src, (char *)dst, n, cap,
                                                     a->clevel),
                          n);
    LZ4_streamHC_t *s = LZ4_initStreamHC(mem, (size_t)LZ4_sizeofStateHC());
    if (!s) return tersa__fail(TERSA_ERR_INTERNAL, "lz4hc: misaligned stream state");
    LZ4_resetStreamHC_fast(s, a->clevel);
    LZ4_loadDictHC(s, (const char *)a->dict, a->dict_size);
    return lz4_result(LZ4_compress_HC_continue(s, (const char *)src, (char *)dst, n, cap), n);
}

static int32_t lz4_decode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t outlen,
                          const tersa__codec_args *a)
{
    if (n <= 0 || outlen < 0) return tersa__fail(TERSA_ERR_CORRUPT, "lz4: empty stream");
    int r;
    if (lz4_has_dict(a))
        r = LZ4_decompress_safe_usingDict((const char *)src, (char *)dst, n, outlen,
                                          (const char *)a->dict, a->dict_size);
    else
        r = LZ4_decompress_safe((const char *)src, (char *)dst, n, outlen);
    if (r < 0)
        return tersa__fail(TERSA_ERR_CORRUPT, "lz4: malformed block of %d bytes (error %d)", n,
                           r);
    if (r != outlen)
        return tersa__fail(TERSA_ERR_CORRUPT, "lz4: block decodes to %d bytes, expected %d", r,
                           outlen);
    return outlen;
}

const tersa__codec tersa__codec_lz4 = {1, 1, "lz4", lz4_encode, lz4_decode};
const tersa__codec tersa__codec_lz4hc = {2, 1, "lz4hc", lz4hc_encode, lz4_decode};

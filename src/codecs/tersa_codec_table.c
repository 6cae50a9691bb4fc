/* The built-in codecs as a const table, looked up by compcode or by chunk format code, and
 * the release of the per-worker codec state. */
#include <stddef.h>

#include "codecs/tersa_codec.h"
#include "common/tersa_internal.h"

static int32_t blosclz_encode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t cap,
                              const tersa__codec_args *a)
{
    return tersa__blosclz_encode(src, n, dst, cap, a->clevel, a->state);
}

static int32_t blosclz_decode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t outlen,
                              const tersa__codec_args *a)
{
    (void)a;
    return tersa__blosclz_decode(src, n, dst, outlen);
}

static const tersa__codec tersa_codec_blosclz = {0, 0, "blosclz", blosclz_encode,
                                                 blosclz_decode};

/* Ordered by compcode; the first entry with a given format code is the one that decodes it. */
static const tersa__codec *const tersa_codecs[] = {
    &tersa_codec_blosclz, &tersa__codec_lz4,  &tersa__codec_lz4hc,
    &tersa__codec_zlib,   &tersa__codec_zstd,
};

#define TERSA_NCODECS (sizeof tersa_codecs / sizeof tersa_codecs[0])

const tersa__codec *tersa__codec_builtin(int compcode)
{
    for (size_t i = 0; i < TERSA_NCODECS; i++)
        if (tersa_codecs[i]->compcode == compcode) return tersa_codecs[i];
    return NULL;
}

const tersa__codec *tersa__codec_by_format(int format)
{
    for (size_t i = 0; i < TERSA_NCODECS; i++)
        if (tersa_codecs[i]->format == format) return tersa_codecs[i];
    return NULL;
}

void tersa__codec_state_free(tersa__codec_state *st)
{
    if (!st) return;
    tersa__zstd_state_free(st);
    tersa__zlib_state_free(st);
    tersa__free(st->lz4_state);
    tersa__free(st->lz4hc_state);
    tersa__free(st->blosclz_hash);
    st->lz4_state = st->lz4hc_state = st->blosclz_hash = NULL;
}

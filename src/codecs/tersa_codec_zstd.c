/* Zstandard adapter: one complete zstd frame per stream (FORMATS.md 2.10).
 *
 * clevel 1..8 maps to zstd level 2 * clevel - 1, clevel 9 to ZSTD_maxCLevel(). Contexts are
 * created on first use and kept in the codec state. Digested dictionaries (ZSTD_CDict for a
 * level, ZSTD_DDict) are cached with a copy of the dictionary bytes: a different dictionary,
 * even one placed at the same address as the previous one, is always noticed and rebuilt.
 */
#include <zstd.h>
#include <zstd_errors.h>

#include "codecs/tersa_codec.h"
#include "common/tersa_internal.h"

/* What st->zstd_cdict and st->zstd_ddict point to. */
typedef struct zstd_dict_cache {
    void *digested; /* ZSTD_CDict * or ZSTD_DDict * */
    int32_t size;
    uint8_t bytes[]; /* the dictionary it was built from */
} zstd_dict_cache;

static int zstd_level(int clevel) { return clevel < 9 ? 2 * clevel - 1 : ZSTD_maxCLevel(); }

static int zstd_has_dict(const tersa__codec_args *a) { return a->dict && a->dict_size > 0; }

static int zstd_cache_matches(const zstd_dict_cache *c, const tersa__codec_args *a)
{
    return c && c->size == a->dict_size && memcmp(c->bytes, a->dict, (size_t)a->dict_size) == 0;
}

static void zstd_cache_free(void **slot, int is_cdict)
{
    zstd_dict_cache *c = *slot;
    if (!c) return;
    if (is_cdict)
        ZSTD_freeCDict(c->digested);
    else
        ZSTD_freeDDict(c->digested);
    tersa__free(c);
    *slot = NULL;
}

/* A cache entry holding a copy of the caller's dictionary (digested still NULL). */
static zstd_dict_cache *zstd_cache_new(const tersa__codec_args *a)
{
    zstd_dict_cache *c = tersa__malloc(sizeof *c + (size_t)a->dict_size);
    if (!c) return NULL;
    c->digested = NULL;
    c->size = a->dict_size;
    memcpy(c->bytes, a->dict, (size_t)a->dict_size);
    return c;
}

/* The digested compression dictionary for (a->dict, level) in *out, built on a cache miss.
 * Returns 0 or a negative error (detail set). */
static int zstd_get_cdict(tersa__codec_state *st, const tersa__codec_args *a, int level,
                          const ZSTD_CDict **out)
{
    if (st->zstd_cdict_level == level && zstd_cache_matches(st->zstd_cdict, a)) {
        st->zstd_cdict_src = a->dict;
        *out = ((zstd_dict_cache *)st->zstd_cdict)->digested;
        return 0;
    }
    zstd_cache_free(&st->zstd_cdict, 1);
    st->zstd_cdict_src = NULL;
    zstd_dict_cache *c = zstd_cache_new(a);
    if (!c) return tersa__fail(TERSA_ERR_NOMEM, "zstd: cannot copy the dictionary");
    c->digested = ZSTD_createCDict(c->bytes, (size_t)c->size, level);
    if (!c->digested) {
        tersa__free(c);
        return tersa__fail(TERSA_ERR_CODEC, "zstd: cannot digest a %d-byte dictionary",
                           a->dict_size);
    }
    st->zstd_cdict = c;
    st->zstd_cdict_src = a->dict;
    st->zstd_cdict_level = level;
    *out = c->digested;
    return 0;
}

/* The digested decompression dictionary for a->dict in *out; 0 or a negative error. */
static int zstd_get_ddict(tersa__codec_state *st, const tersa__codec_args *a,
                          const ZSTD_DDict **out)
{
    if (zstd_cache_matches(st->zstd_ddict, a)) {
        st->zstd_ddict_src = a->dict;
        *out = ((zstd_dict_cache *)st->zstd_ddict)->digested;
        return 0;
    }
    zstd_cache_free(&st->zstd_ddict, 0);
    st->zstd_ddict_src = NULL;
    zstd_dict_cache *c = zstd_cache_new(a);
    if (!c) return tersa__fail(TERSA_ERR_NOMEM, "zstd: cannot copy the dictionary");
    c->digested = ZSTD_createDDict(c->bytes, (size_t)c->size);
    if (!c->digested) {
        tersa__free(c);
        return tersa__fail(TERSA_ERR_CORRUPT, "zstd: cannot digest a %d-byte dictionary",
                           a->dict_size);
    }
    st->zstd_ddict = c;
    st->zstd_ddict_src = a->dict;
    *out = c->digested;
    return 0;
}

static int32_t zstd_encode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t cap,
                           const tersa__codec_args *a)
{
    tersa__codec_state *st = a->state;
    const int level = zstd_level(a->clevel);
    if (!st->zstd_cctx && !(st->zstd_cctx = ZSTD_createCCtx()))
        return tersa__fail(TERSA_ERR_NOMEM, "zstd: cannot create a compression context");
    if (n <= 0 || cap <= 0) return 0;
    size_t r;
    if (zstd_has_dict(a)) {
        const ZSTD_CDict *cd = NULL;
        TERSA_TRY(zstd_get_cdict(st, a, level, &cd));
        r = ZSTD_compress_usingCDict(st->zstd_cctx, dst, (size_t)cap, src, (size_t)n, cd);
    } else {
        r = ZSTD_compressCCtx(st->zstd_cctx, dst, (size_t)cap, src, (size_t)n, level);
    }
    if (ZSTD_isError(r)) {
        if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall) return 0;
        return tersa__fail(TERSA_ERR_CODEC, "zstd: compression failed: %s", ZSTD_getErrorName(r));
    }
    return r < (size_t)n ? (int32_t)r : 0;
}

/* The stream must be exactly one frame whose declared size (if any) is outlen. */
static int zstd_check_frame(const uint8_t *src, int32_t n, int32_t outlen)
{
    size_t fsize = ZSTD_findFrameCompressedSize(src, (size_t)n);
    if (ZSTD_isError(fsize))
        return tersa__fail(TERSA_ERR_CORRUPT, "zstd: not a zstd frame (%s)",
                           ZSTD_getErrorName(fsize));
    if (fsize != (size_t)n)
        return tersa__fail(TERSA_ERR_CORRUPT, "zstd: frame of %zu bytes in a stream of %d",
                           fsize, n);
    unsigned long long csize = ZSTD_getFrameContentSize(src, (size_t)n);
    if (csize != ZSTD_CONTENTSIZE_UNKNOWN && csize != (unsigned long long)outlen)
        return tersa__fail(TERSA_ERR_CORRUPT, "zstd: frame declares %llu bytes, expected %d",
                           csize, outlen);
    return 0;
}

static int32_t zstd_decode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t outlen,
                           const tersa__codec_args *a)
{
    tersa__codec_state *st = a->state;
    if (n <= 0 || outlen < 0) return tersa__fail(TERSA_ERR_CORRUPT, "zstd: empty stream");
    TERSA_TRY(zstd_check_frame(src, n, outlen));
    if (!st->zstd_dctx && !(st->zstd_dctx = ZSTD_createDCtx()))
        return tersa__fail(TERSA_ERR_NOMEM, "zstd: cannot create a decompression context");
    size_t r;
    if (zstd_has_dict(a)) {
        const ZSTD_DDict *dd = NULL;
        TERSA_TRY(zstd_get_ddict(st, a, &dd));
        r = ZSTD_decompress_usingDDict(st->zstd_dctx, dst, (size_t)outlen, src, (size_t)n, dd);
    } else {
        r = ZSTD_decompressDCtx(st->zstd_dctx, dst, (size_t)outlen, src, (size_t)n);
    }
    if (ZSTD_isError(r))
        return tersa__fail(TERSA_ERR_CORRUPT, "zstd: %s", ZSTD_getErrorName(r));
    if (r != (size_t)outlen)
        return tersa__fail(TERSA_ERR_CORRUPT, "zstd: frame decodes to %zu bytes, expected %d", r,
                           outlen);
    return outlen;
}

/* Releases the contexts and cached dictionaries; called by tersa__codec_state_free. */
void tersa__zstd_state_free(tersa__codec_state *st)
{
    ZSTD_freeCCtx(st->zstd_cctx);
    ZSTD_freeDCtx(st->zstd_dctx);
    zstd_cache_free(&st->zstd_cdict, 1);
    zstd_cache_free(&st->zstd_ddict, 0);
    st->zstd_cctx = st->zstd_dctx = NULL;
    st->zstd_cdict_src = st->zstd_ddict_src = NULL;
    st->zstd_cdict_level = 0;
}

const tersa__codec tersa__codec_zstd = {5, 4, "zstd", zstd_encode, zstd_decode};

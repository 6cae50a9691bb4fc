/* Dictionary training for chunks compressed with TERSA_P_USE_DICT (zstd: ZDICT training on the
 * filtered blocks; lz4/lz4hc: raw sample bytes used as the prefix dictionary). */
#include <zdict.h>

#include "chunk/tersa_chunk_internal.h"

#define SAMPLE_PIECE 4096

/* Cut n filtered bytes into sample pieces; returns the number of pieces written to sizes. */
static int cut_pieces(int32_t n, size_t *sizes, int max)
{
    int k = 0;
    for (int32_t done = 0; done < n && k < max; k++) {
        int32_t take = n - done < SAMPLE_PIECE ? n - done : SAMPLE_PIECE;
        sizes[k] = (size_t)take;
        done += take;
    }
    return k;
}

int32_t tersa__dict_train(int codec, const uint8_t *samples, int32_t n, uint8_t *dict,
                          int32_t cap)
{
    if (n <= 0 || cap <= 0) return 0;
    if (codec == TERSA_CODEC_LZ4 || codec == TERSA_CODEC_LZ4HC) {
        int32_t take = n < cap ? n : cap;
        memcpy(dict, samples + (n - take), (size_t)take);
        return take;
    }
    if (codec != TERSA_CODEC_ZSTD) return 0;
    int max = n / SAMPLE_PIECE + 1;
    size_t *sizes = tersa__malloc((size_t)max * sizeof *sizes);
    if (!sizes) return tersa__fail(TERSA_ERR_NOMEM, "dictionary: sample table");
    int k = cut_pieces(n, sizes, max);
    size_t r = ZDICT_trainFromBuffer(dict, (size_t)cap, samples, sizes, (unsigned)k);
    tersa__free(sizes);
    return ZDICT_isError(r) ? 0 : (int32_t)r; /* too few samples: no dictionary */
}

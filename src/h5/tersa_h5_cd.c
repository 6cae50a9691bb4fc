/* Filter 32026 parameters (FORMATS.md 5.1): parsing stored cd_values, computing the values the
 * official set_local stores, the b2nd block shape rule, the automatic block size, and HDF5's
 * Fletcher32 checksum. */
#include <inttypes.h>
#include <stdio.h>

#include "h5/tersa_h5_internal.h"

#define H5_DEF_CLEVEL 5
#define H5_DEF_FILTER TERSA_FILTER_SHUFFLE
#define H5_DEF_CODEC TERSA_CODEC_BLOSCLZ

int tersa__h5cd_parse(const unsigned *v, size_t n, tersa__h5cd *cd)
{
    memset(cd, 0, sizeof *cd);
    if (n < 4)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 filter 32026: %zu cd_values, at least 4 needed", n);
    cd->n = n < TERSA_H5_MAX_CD ? n : TERSA_H5_MAX_CD;
    memcpy(cd->v, v, cd->n * sizeof *v);
    if (v[1] > TERSA_MAX_BLOCKSIZE || v[2] == 0 || v[2] > (unsigned)INT32_MAX ||
        v[3] > (unsigned)INT32_MAX)
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 filter 32026: cd_values blocksize %u, "
                               "typesize %u, chunk bytes %u out of range",
                               v[1], v[2], v[3]);
    cd->blocksize = (int32_t)v[1];
    cd->typesize = (int32_t)v[2];
    cd->chunk_bytes = v[3];
    cd->clevel = n > 4 ? (int)v[4] : H5_DEF_CLEVEL;
    cd->filter = n > 5 ? (int)v[5] : H5_DEF_FILTER;
    cd->codec = n > 6 ? (int)v[6] : H5_DEF_CODEC;
    if (n < 8) return 0;
    /* A rank outside 2..8 (revision 2 writes 1; larger ranks are not b2nd here) is kept only
     * as "no rank": decoding looks at the frame itself. */
    if (v[7] < 1 || v[7] > TERSA_H5_B2ND_MAX_RANK) return 0;
    if (n < 8 + (size_t)v[7])
        return tersa_error_set(TERSA_ERR_CORRUPT,
                               "h5 filter 32026: rank %u but only %zu chunk "
                               "dimensions in cd_values",
                               v[7], n - 8);
    cd->rank = (int)v[7];
    for (int i = 0; i < cd->rank; i++) {
        if (v[8 + i] == 0)
            return tersa_error_set(TERSA_ERR_CORRUPT, "h5 filter 32026: chunk dimension %d is 0",
                                   i);
        cd->dims[i] = v[8 + i];
    }
    return 0;
}

/* One pass of the growing rule over the axes, last to first. */
static void grow_blocks(int rank, const int64_t *dims, int64_t *bs, int64_t *cur, int64_t want)
{
    for (int i = rank - 1; i >= 0; i--) {
        if (bs[i] * 2 <= dims[i]) {
            if (*cur * 2 <= want) {
                *cur *= 2;
                bs[i] *= 2;
            }
        } else if (bs[i] < dims[i]) {
            int64_t whole = *cur / bs[i] * dims[i];
            if (whole <= want) {
                *cur = whole;
                bs[i] = dims[i];
            }
        }
    }
}

int64_t tersa__h5_block_shape(int64_t blocksize, int64_t typesize, int rank, const int64_t *dims,
                              int64_t *bs)
{
    int64_t want = typesize > 0 ? blocksize / typesize : 0, cur = 1;
    for (int i = 0; i < rank; i++) {
        bs[i] = dims[i] == 1 ? 1 : 2;
        cur *= bs[i];
    }
    while (cur < want) {
        int64_t prev = cur;
        grow_blocks(rank, dims, bs, &cur, want);
        if (cur == prev) break;
    }
    return cur * typesize;
}

int64_t tersa__h5_auto_blocksize(int64_t chunk_bytes, int64_t typesize, int clevel, int codec)
{
    uint8_t chunk[TERSA_MAX_OVERHEAD];
    if (chunk_bytes < 0 || chunk_bytes > TERSA_MAX_BUFFERSIZE)
        return tersa_error_set(TERSA_ERR_TOO_LARGE,
                               "h5: chunk of %" PRId64 " bytes exceeds the "
                               "Blosc2 limit",
                               chunk_bytes);
    tersa_cctx *c = tersa_cctx_create();
    if (!c)
        return tersa_error_set(TERSA_ERR_NOMEM, "h5: no memory for a compression context");
    int64_t rc = tersa_cctx_set(c, TERSA_P_TYPESIZE, typesize <= TERSA_MAX_TYPESIZE ? typesize : 1);
    if (rc >= 0) rc = tersa_cctx_set(c, TERSA_P_CLEVEL, clevel);
    if (rc >= 0) rc = tersa_cctx_set(c, TERSA_P_CODEC, codec);
    if (rc >= 0) rc = tersa_cctx_set(c, TERSA_P_FILTER5, TERSA_FILTER_SHUFFLE);
    if (rc >= 0)
        rc = tersa_cctx_make_special(c, TERSA_SPECIAL_ZEROS, chunk_bytes, NULL, chunk, sizeof chunk);
    tersa_cctx_free(c);
    return rc < 0 ? rc : (int64_t)tersa__ld32(chunk + 8);
}

/* HDF5's Fletcher32: 16-bit words taken most significant byte first (a trailing odd byte is the
 * high byte of a last word), both sums folded modulo 65535 in the one's-complement way. */
uint32_t tersa__h5_fletcher32(const uint8_t *p, size_t n)
{
    uint32_t a = 0, b = 0;
    size_t words = n / 2;
    while (words > 0) {
        size_t run = words < 360 ? words : 360; /* keeps both sums below 2^32 */
        words -= run;
        for (size_t k = 0; k < run; k++, p += 2) {
            a += ((uint32_t)p[0] << 8) | p[1];
            b += a;
        }
        a = (a & 0xffff) + (a >> 16);
        b = (b & 0xffff) + (b >> 16);
    }
    if (n & 1) {
        a += (uint32_t)p[0] << 8;
        b += a;
        a = (a & 0xffff) + (a >> 16);
        b = (b & 0xffff) + (b >> 16);
    }
    a = (a & 0xffff) + (a >> 16);
    b = (b & 0xffff) + (b >> 16);
    return (b << 16) | a;
}

/* ---- cd_values for new datasets ------------------------------------------------------- */

int64_t tersa__h5_type_base_size(hid_t type)
{
    if (H5Tget_class(type) != H5T_ARRAY) return (int64_t)H5Tget_size(type);
    hid_t super = H5Tget_super(type);
    if (super < 0) return -1;
    int64_t n = (int64_t)H5Tget_size(super);
    H5Tclose(super);
    return n;
}

/* Values set_local computes from the type and the chunk shape into cd[0..3] and cd[7..]. */
static int local_values(hid_t type, int rank, const int64_t *chunk, unsigned *cd, size_t *n)
{
    int64_t full = (int64_t)H5Tget_size(type), base = tersa__h5_type_base_size(type);
    if (full <= 0 || base <= 0 || base > UINT32_MAX)
        return tersa_error_set(TERSA_ERR_PARAM, "h5 params: datatype without a usable size");
    int64_t bytes = full;
    for (int i = 0; i < rank; i++)
        if (chunk[i] < 1 || chunk[i] > UINT32_MAX || !tersa__mul_i64(bytes, chunk[i], &bytes) ||
            bytes > UINT32_MAX)
            return tersa_error_set(TERSA_ERR_PARAM,
                                   "h5 params: chunk dimension %d (%" PRId64
                                   ") out of range, or chunk bytes above 2^32",
                                   i, chunk[i]);
    cd[0] = TERSA_H5_FILTER_REVISION;
    cd[2] = (unsigned)base;
    cd[3] = (unsigned)bytes;
    *n = 7;
    if (rank >= 2 && rank <= TERSA_H5_B2ND_MAX_RANK) {
        cd[7] = (unsigned)rank;
        for (int i = 0; i < rank; i++) cd[8 + i] = (unsigned)chunk[i];
        *n = 8 + (size_t)rank;
    }
    return 0;
}

int tersa_h5_cd_values(const tersa_h5_params *p, unsigned cd[TERSA_H5_MAX_CD], size_t *ncd)
{
    if (!p || !cd || !ncd || p->struct_size < sizeof *p || p->rank < 1 ||
        p->rank > TERSA_H5_MAX_RANK || !p->chunkshape)
        return tersa_error_set(TERSA_ERR_PARAM, "h5 params: NULL, struct_size too small, rank "
                                                "outside 1..32 or no chunkshape");
    if (p->clevel < 0 || p->clevel > 9 || p->filter < 0 || p->filter > 255 || p->codec < 0 ||
        p->codec > 255 || p->blocksize < 0 || p->blocksize > TERSA_MAX_BLOCKSIZE)
        return tersa_error_set(TERSA_ERR_PARAM,
                               "h5 params: clevel %d, filter %d, codec %d or "
                               "blocksize %" PRId32 " out of range",
                               p->clevel, p->filter, p->codec, p->blocksize);
    memset(cd, 0, TERSA_H5_MAX_CD * sizeof *cd);
    cd[1] = (unsigned)p->blocksize;
    cd[4] = (unsigned)p->clevel;
    cd[5] = (unsigned)p->filter;
    cd[6] = (unsigned)p->codec;
    return local_values(p->type, p->rank, p->chunkshape, cd, ncd);
}

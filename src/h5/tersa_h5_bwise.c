/* Block-wise compression of b2nd chunks whose block layout differs from C order: instead of
 * copying the whole chunk into block layout and compressing that (two passes over the chunk
 * through memory), each block is gathered into a small buffer that stays in cache and is
 * compressed as a one-block chunk, and its streams are moved into the chunk being assembled.
 *
 * The result equals compressing the block layout in one call (FORMATS.md 2.6-2.7): a block's
 * streams depend only on its bytes and the parameters, except that a stream is encoded with a
 * room of min(space left - 4, stream bytes). Both ways agree when, in both, every stream has at
 * least its own size plus 4 bytes of space left, which is checked for every stream; otherwise,
 * and when the chunk may be a special one (every block special with the same value), the
 * chunk is left to the usual path. Only split blocks (one stream per byte of the type: shuffle
 * with a fast codec) can pass: a block of one stream always has 8 bytes less room in a
 * one-block call. Delta (which reads block 0 from other blocks) and dictionaries never get
 * here (see usable()). */
#include <inttypes.h>

#include "h5/tersa_h5_internal.h"

#define H5_BWISE_MAX_MISS 4 /* fallbacks in a row before block-wise compression is turned off */

typedef struct bwjob {
    tersa__h5worker *w;
    const tersa__h5box *b;
    const int64_t *bs;
    int64_t bbytes, ext, nblocks;
    uint8_t *chunk;     /* where the chunk is assembled (room for ext + 32 bytes) */
    int64_t pos;        /* next stream byte of the chunk */
    uint8_t first_special[TERSA_MAX_OVERHEAD + 256];
    int64_t first_special_len;
    int64_t nspecial_same;
    tersa_chunk_info ci; /* of the last regular one-block chunk */
} bwjob;

/* Parameters block-wise compression supports: no delta filter, no dictionary. */
static bool usable(tersa_cctx *c)
{
    int64_t v = 0;
    for (int k = 0; k < TERSA_MAX_FILTERS; k++)
        if (tersa_cctx_get(c, (tersa_param)(TERSA_P_FILTER0 + k), &v) < 0 ||
            v == TERSA_FILTER_DELTA)
            return false;
    return tersa_cctx_get(c, TERSA_P_USE_DICT, &v) >= 0 && v == 0 &&
           tersa_cctx_get(c, TERSA_P_CLEVEL, &v) >= 0 && v > 0;
}

/* Whether block k reaches past the chunk dims (its padding must be zero). */
static bool block_padded(const tersa__h5box *b, const int64_t *bs, int64_t k)
{
    for (int i = b->rank - 1; i >= 0; i--) {
        int64_t nb = (b->dims[i] + bs[i] - 1) / bs[i], j = k % nb;
        k /= nb;
        if ((j + 1) * bs[i] > b->dims[i]) return true;
    }
    return false;
}

/* Compress block k on its own into w->bout; *c receives the one-block chunk's size. */
static int compress_one(bwjob *j, int64_t k, int64_t *c)
{
    tersa__h5worker *w = j->w;
    if (block_padded(j->b, j->bs, k)) memset(w->blk, 0, (size_t)j->bbytes);
    tersa__h5_block_copy_one(j->b, j->bs, w->blk, k, false);
    *c = tersa_compress(w->cctx, w->blk, (size_t)j->bbytes, w->bout, w->boutcap);
    if (*c < 0) return (int)*c;
    memset(&j->ci, 0, sizeof j->ci);
    j->ci.struct_size = sizeof j->ci;
    return tersa_chunk_inspect(w->bout, (size_t)*c, &j->ci);
}

/* A special one-block chunk: remember whether all so far are the same; then compress the block
 * again without special detection to get its streams. */
static int redo_special(bwjob *j, int64_t k, int64_t *c)
{
    if (k == 0 && *c <= (int64_t)sizeof j->first_special) {
        memcpy(j->first_special, j->w->bout, (size_t)*c);
        j->first_special_len = *c;
    }
    if (j->nspecial_same == k && *c == j->first_special_len &&
        !memcmp(j->first_special, j->w->bout, (size_t)*c))
        j->nspecial_same++;
    TERSA_TRY(tersa_cctx_set(j->w->cctx, TERSA_P_DETECT_SPECIAL, 0));
    int rc = compress_one(j, k, c);
    int rc2 = tersa_cctx_set(j->w->cctx, TERSA_P_DETECT_SPECIAL, 1);
    return rc < 0 ? rc : rc2;
}

/* Check the streams of the one-block chunk (c bytes in w->bout) against the room rule for both
 * ways of compressing, and append them to the chunk. Returns 0, 1 (fall back), 2 (fall back,
 * and block-wise compression can never work with these parameters) or an error. */
static int place_streams(bwjob *j, int64_t k, int64_t c)
{
    const tersa_chunk_info *ci = &j->ci;
    if (ci->special || ci->memcpyed || ci->has_dict || ci->vlblocks || ci->nblocks != 1 ||
        ci->blocksize != j->bbytes || ci->nbytes != j->bbytes || ci->header_len != 32 ||
        tersa__ld32(j->w->bout + 32) != 36)
        return 1;
    if (!ci->split) return 2; /* one stream: its room is always smaller in the one-block call */
    int64_t nstreams = ci->typesize, n = j->bbytes / nstreams, q = 0;
    const uint8_t *p = j->w->bout + 36;
    for (int64_t s = 0; s < nstreams; s++) {
        /* room of the one-block call: limit bbytes + 32 from byte 36; of the whole chunk:
         * limit ext + 32 from byte j->pos */
        if (j->bbytes - 4 - q - 4 < n || j->ext + 32 - (j->pos + q) - 4 < n || 36 + q + 4 > c)
            return 1;
        int32_t cs = (int32_t)tersa__ld32(p + q);
        q += cs == 0 ? 4 : cs < 0 ? 5 : 4 + (int64_t)cs;
        if (36 + q > c) return 1;
    }
    if (36 + q != c) return 1;
    tersa__st32(j->chunk + 32 + 4 * k, (uint32_t)j->pos);
    memcpy(j->chunk + j->pos, p, (size_t)q);
    j->pos += q;
    return 0;
}

static int assemble(bwjob *j)
{
    tersa__h5worker *w = j->w;
    uint8_t header[32];
    bool have_header = false;
    j->pos = 32 + 4 * j->nblocks;
    for (int64_t k = 0; k < j->nblocks; k++) {
        int64_t c = 0;
        TERSA_TRY(compress_one(j, k, &c));
        if (j->ci.special) TERSA_TRY(redo_special(j, k, &c));
        int rc = place_streams(j, k, c);
        if (rc) return rc;
        if (!have_header) memcpy(header, w->bout, 32);
        have_header = true;
    }
    if (j->nspecial_same == j->nblocks) return 1; /* the whole chunk may be special */
    memcpy(j->chunk, header, 32);
    tersa__st32(j->chunk + 4, (uint32_t)j->ext);  /* nbytes */
    tersa__st32(j->chunk + 12, (uint32_t)j->pos); /* cbytes */
    return 0;
}

static int grow_buffers(tersa__h5worker *w, int64_t bbytes, const tersa__h5tmpl *t, int64_t ext,
                        tersa__h5out *o)
{
    TERSA_TRY(tersa__h5_grow(&w->blk, &w->blkcap, (size_t)bbytes));
    TERSA_TRY(tersa__h5_grow(&w->bout, &w->boutcap, tersa_compress_bound((size_t)bbytes)));
    return tersa__h5_grow(&o->buf, &o->cap, t->head_len + (size_t)ext + 32 + t->tail_len + 4);
}

int tersa__h5_blockwise(tersa__h5worker *w, const tersa__h5box *b, const int64_t *bs,
                        int64_t bbytes, int64_t ext, tersa__h5out *o)
{
    const tersa__h5tmpl *t = &w->tmpl;
    int64_t nblocks = bbytes > 0 ? ext / bbytes : 0;
    if (nblocks < 2 || nblocks * bbytes != ext || !usable(w->cctx) || t->state != 1 ||
        ext + 32 > TERSA_MAX_BUFFERSIZE)
        return 1;
    TERSA_TRY(grow_buffers(w, bbytes, t, ext, o));
    bwjob j;
    memset(&j, 0, sizeof j);
    j.w = w;
    j.b = b;
    j.bs = bs;
    j.bbytes = bbytes;
    j.ext = ext;
    j.nblocks = nblocks;
    j.chunk = o->buf + t->head_len;
    int rc = assemble(&j);
    if (rc < 0) return rc;
    if (rc == 0) tersa__h5tmpl_wrap(t, o, (size_t)j.pos);
    w->tmpl.bwise_miss = rc ? w->tmpl.bwise_miss + 1 : 0;
    if (rc == 2 || w->tmpl.bwise_miss >= H5_BWISE_MAX_MISS) w->tmpl.bwise = -1;
    return rc ? 1 : 0;
}

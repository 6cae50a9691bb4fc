/* Partial reads: items of one chunk and byte slices across chunks. For contiguous frame files
 * only the chunk header, the block offsets of the blocks a range touches (and the next one's),
 * the dictionary and those blocks' streams are read from disk (FORMATS.md §2.14); the chunk is
 * rebuilt in a zero-filled buffer of its full size, whose other bytes the decoder never
 * visits (tersa_getitem checks only the blocks it decodes). */
#include <inttypes.h>
#include <stdio.h>

#include "frame/tersa_frame_internal.h"

/* Chunks smaller than this are read whole: a few preads cost more than the bytes saved. */
#define TF_LAZY_MIN (64 * 1024)

typedef struct lazy_job {
    tersa_schunk *s;
    int64_t pos;          /* file position of the chunk */
    tersa_chunk_info info;
    uint8_t *buf;         /* s->lazybuf: zero but for the header and the parts read */
    uint32_t data_start;  /* where block data may begin (after offsets and dictionary) */
    uint32_t (*spans)[2]; /* the ranges read, zeroed again afterwards */
    int nspans, spancap;
} lazy_job;

static int lazy_read(lazy_job *j, uint32_t from, uint32_t to)
{
    if (to <= from) return 0;
    if (j->nspans == j->spancap) {
        int cap = j->spancap ? 2 * j->spancap : 16;
        uint32_t (*p)[2] = tersa__realloc(j->spans, (size_t)cap * sizeof *p);
        if (!p) return tersa__fail(TERSA_ERR_NOMEM, "frame chunk: no memory");
        j->spans = p;
        j->spancap = cap;
    }
    j->spans[j->nspans][0] = from;
    j->spans[j->nspans++][1] = to;
    j->s->io_read += to - from;
    return tersa__io_pread(j->s->fd, j->pos + from, j->buf + from, to - from, "frame chunk block");
}

/* The schunk's zero-filled buffer for lazy reads (kept: zeroing megabytes for each small
 * read would cost more than the read), at least n bytes. */
static uint8_t *lazy_buffer(tersa_schunk *s, size_t n)
{
    if (n > s->lazycap) {
        tersa__free(s->lazybuf);
        s->lazybuf = tersa__calloc(n, 1);
        s->lazycap = s->lazybuf ? n : 0;
    }
    return s->lazybuf;
}

/* Zero what a job read, so the buffer is all zeros for the next one. */
static void lazy_clear(lazy_job *j)
{
    memset(j->buf, 0, TF_CHUNK_HDR);
    for (int i = 0; i < j->nspans; i++) memset(j->buf + j->spans[i][0], 0, j->spans[i][1] - j->spans[i][0]);
    tersa__free(j->spans);
}

/* The dictionary, if any; the block offsets are read per block. */
static int lazy_prologue(lazy_job *j)
{
    uint32_t nb = (uint32_t)j->info.nblocks, cb = (uint32_t)j->info.cbytes;
    uint64_t end = TF_CHUNK_HDR + (uint64_t)nb * 4;
    if (end > cb) return tersa__fail(TERSA_ERR_CORRUPT, "frame chunk: %u block offsets do not fit "
                                     "%u bytes", nb, cb);
    if (j->info.has_dict) {
        if (end + 4 > cb) return tersa__fail(TERSA_ERR_CORRUPT, "frame chunk: dictionary size "
                                             "lies past the chunk end");
        TERSA_TRY(lazy_read(j, (uint32_t)end, (uint32_t)end + 4));
        uint32_t dsize = tersa__ld32(j->buf + end);
        if (dsize > TERSA_MAX_DICT_SIZE || end + 4 + dsize > cb)
            return tersa__fail(TERSA_ERR_CORRUPT, "frame chunk: dictionary of %u bytes", dsize);
        TERSA_TRY(lazy_read(j, (uint32_t)end + 4, (uint32_t)(end + 4 + dsize)));
        end += 4 + dsize;
    }
    j->data_start = (uint32_t)end;
    return 0;
}

/* Block offsets k0..k1 (clamped to the block count), in one read. */
static int read_bstarts(lazy_job *j, int32_t k0, int32_t k1)
{
    if (k1 >= j->info.nblocks) k1 = j->info.nblocks - 1;
    return lazy_read(j, TF_CHUNK_HDR + 4 * (uint32_t)k0, TF_CHUNK_HDR + 4 * (uint32_t)(k1 + 1));
}

static uint32_t bstart(const lazy_job *j, int32_t k)
{
    return tersa__ld32(j->buf + TF_CHUNK_HDR + 4 * (size_t)k);
}

/* Read more of the chunk so that bytes up to `upto` are present. */
static int extend(lazy_job *j, uint32_t *have, uint64_t upto)
{
    uint32_t cb = (uint32_t)j->info.cbytes, to = upto < cb ? (uint32_t)upto : cb;
    if (to <= *have) return 0;
    TERSA_TRY(lazy_read(j, *have, to));
    *have = to;
    return 0;
}

static bool has_delta(const tersa_chunk_info *info)
{
    for (int k = 0; k < TERSA_MAX_FILTERS; k++)
        if (info->filters[k] == TERSA_FILTER_DELTA) return true;
    return false;
}

/* The streams of block k. When the next block starts after this one (chunks are written in
 * block order), one read up to there (at most the largest size a block can have); else, and
 * when the stream sizes ask for more, one read per stream (its bytes and the next size). */
static int lazy_block(lazy_job *j, int32_t k)
{
    const tersa_chunk_info *in = &j->info;
    uint32_t cb = (uint32_t)in->cbytes, start = bstart(j, k);
    if (start < j->data_start || start >= cb)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame chunk: block %d starts at %u, outside [%u, "
                           "%u)", k, start, j->data_start, cb);
    int32_t bs = in->blocksize > 0 ? in->blocksize : 1, leftover = in->nbytes % bs;
    bool short_last = k == in->nblocks - 1 && leftover;
    int nstreams = in->split && !short_last ? in->typesize : 1;
    uint64_t most = (uint64_t)start + (short_last ? leftover : bs) + 4 * (uint64_t)nstreams;
    uint64_t next = k + 1 < in->nblocks ? bstart(j, k + 1) : cb;
    uint32_t have = start;
    TERSA_TRY(extend(j, &have, next > start ? (next < most ? next : most) : (uint64_t)start + 4));
    uint64_t p = start;
    for (int n = 0; n < nstreams && p + 4 <= cb; n++) {
        TERSA_TRY(extend(j, &have, p + 4));
        int32_t c = tersa__ld32s(j->buf + p);
        p += 4 + (c < 0 ? 1 : (uint64_t)c);
        TERSA_TRY(extend(j, &have, p + (n + 1 < nstreams ? 4 : 0)));
    }
    return 0;
}

/* Fill j->buf with what bytes [a, b) of the decoded chunk need. */
static int lazy_fill(lazy_job *j, int64_t a, int64_t b)
{
    if (j->info.memcpyed) return lazy_read(j, (uint32_t)(TF_CHUNK_HDR + a), (uint32_t)(TF_CHUNK_HDR + b));
    TERSA_TRY(lazy_prologue(j));
    int32_t bs = j->info.blocksize > 0 ? j->info.blocksize : 1;
    int32_t first = (int32_t)(a / bs), last = (int32_t)((b - 1) / bs);
    if (last >= j->info.nblocks) last = j->info.nblocks - 1;
    bool delta = first > 0 && has_delta(&j->info);
    if (delta && first > 2) TERSA_TRY(read_bstarts(j, 0, 1));
    TERSA_TRY(read_bstarts(j, delta && first <= 2 ? 0 : first, last + 1));
    if (delta) TERSA_TRY(lazy_block(j, 0));
    for (int32_t k = first; k <= last; k++) TERSA_TRY(lazy_block(j, k));
    return 0;
}

static int64_t lazy_getitem(tersa_schunk *s, int64_t i, int64_t start, int64_t nitems, void *dst,
                            size_t dstcap, bool *done)
{
    lazy_job j;
    memset(&j, 0, sizeof j);
    j.s = s;
    j.pos = s->foffset + s->header_len + s->offsets[i];
    j.info.struct_size = sizeof j.info;
    uint8_t head[TF_CHUNK_HDR];
    TERSA_TRY(tersa__io_pread(s->fd, j.pos, head, TF_CHUNK_HDR, "frame chunk header"));
    s->io_read += TF_CHUNK_HDR;
    int rc = tersa_chunk_inspect(head, TF_CHUNK_HDR, &j.info);
    if (rc < 0) return tersa__fail_prefix(rc, "frame chunk %" PRId64, i);
    int64_t ts = j.info.typesize, a = start * ts, b = (start + nitems) * ts;
    *done = false;
    if (j.info.special || j.info.vlblocks || j.info.cbytes < TF_LAZY_MIN || nitems <= 0 ||
        start < 0 || start > j.info.nbytes || nitems > j.info.nbytes || b > j.info.nbytes ||
        j.info.cbytes > s->cbytes - s->offsets[i])
        return 0; /* the whole-chunk path reports errors and handles the rest */
    j.buf = lazy_buffer(s, (size_t)j.info.cbytes);
    if (!j.buf) rc = tersa__fail(TERSA_ERR_NOMEM, "frame chunk: no memory");
    if (rc >= 0) {
        memcpy(j.buf, head, TF_CHUNK_HDR);
        rc = lazy_fill(&j, a, b);
    }
    int64_t n = rc < 0 ? rc : tersa_getitem(s->dctx, j.buf, (size_t)j.info.cbytes, start, nitems,
                                            dst, dstcap);
    if (j.buf) lazy_clear(&j);
    *done = true;
    if (n < 0) return tersa__fail_prefix((int)n, "frame chunk %" PRId64, i);
    return n;
}

int64_t tersa_schunk_getitem(tersa_schunk *s, int64_t nchunk, int64_t start, int64_t nitems,
                             void *dst, size_t dstcap)
{
    const uint8_t *p = NULL;
    int32_t cb = 0;
    bool done = false;
    if (!s) return tersa__fail(TERSA_ERR_PARAM, "schunk_getitem: NULL schunk");
    if (nchunk >= 0 && nchunk < s->nchunks && s->storage == TERSA_STORAGE_FILE &&
        s->offsets[nchunk] >= 0 && s->offsets[nchunk] <= s->cbytes - TF_CHUNK_HDR) {
        int64_t n = lazy_getitem(s, nchunk, start, nitems, dst, dstcap, &done);
        if (done || n < 0) return n;
    }
    TERSA_TRY(tersa__schunk_chunk_ref(s, nchunk, &p, &cb));
    int64_t n = tersa_getitem(s->dctx, p, (size_t)cb, start, nitems, dst, dstcap);
    if (n < 0) return tersa__fail_prefix((int)n, "frame chunk %" PRId64, nchunk);
    return n;
}

/* ---- Slices across chunks ------------------------------------------------------------- */

/* Decoded size of chunk i, reading at most its 32-byte header. */
static int chunk_nbytes(tersa_schunk *s, int64_t i, int32_t *nbytes)
{
    if (s->chunksize > 0 && s->offsets[i] >= 0) {
        int64_t last = s->nbytes - (s->nchunks - 1) * (int64_t)s->chunksize;
        if (i < s->nchunks - 1 || last == s->chunksize) {
            *nbytes = s->chunksize;
            return 0;
        }
    }
    if (s->offsets[i] < 0) return tersa__schunk_special_nbytes(s, i, nbytes);
    if (s->storage == TERSA_STORAGE_FILE && s->offsets[i] <= s->cbytes - TF_CHUNK_HDR) {
        uint8_t head[TF_CHUNK_HDR];
        tersa_chunk_info info;
        info.struct_size = sizeof info;
        TERSA_TRY(tersa__io_pread(s->fd, s->foffset + s->header_len + s->offsets[i], head,
                                  TF_CHUNK_HDR, "frame chunk header"));
        TERSA_TRY(tersa_chunk_inspect(head, TF_CHUNK_HDR, &info));
        *nbytes = info.nbytes;
        return 0;
    }
    return tersa_schunk_chunk_sizes(s, i, nbytes, NULL);
}

/* Copy bytes [a, b) of chunk i (nb bytes decoded) to dst. */
static int slice_part(tersa_schunk *s, int64_t i, int32_t nb, int64_t a, int64_t b, uint8_t *dst)
{
    if (a == 0 && b == nb) {
        int64_t n = tersa_schunk_decompress_chunk(s, i, dst, (size_t)nb);
        return n < 0 ? (int)n : 0;
    }
    uint8_t *tmp = tersa__malloc((size_t)nb);
    if (!tmp) return tersa__fail(TERSA_ERR_NOMEM, "schunk_get_slice: no memory");
    int64_t n = tersa_schunk_decompress_chunk(s, i, tmp, (size_t)nb);
    if (n == nb) memcpy(dst, tmp + a, (size_t)(b - a));
    tersa__free(tmp);
    if (n >= 0 && n != nb)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame chunk %" PRId64 ": decoded %" PRId64
                           " bytes, header says %" PRId32, i, n, nb);
    return n < 0 ? (int)n : 0;
}

int64_t tersa_schunk_get_slice(tersa_schunk *s, int64_t start, int64_t n, void *dst, size_t dstcap)
{
    if (!s || (!dst && n)) return tersa__fail(TERSA_ERR_PARAM, "schunk_get_slice: NULL argument");
    if (start < 0 || n < 0 || start > s->nbytes || n > s->nbytes - start)
        return tersa__fail(TERSA_ERR_RANGE, "schunk_get_slice: bytes [%" PRId64 ", +%" PRId64
                           ") outside %" PRId64, start, n, s->nbytes);
    if ((uint64_t)n > dstcap)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL, "schunk_get_slice: %" PRId64
                           " bytes, buffer %zu", n, dstcap);
    int64_t pos = 0, end = start + n, i = 0;
    if (s->chunksize > 0) i = start / s->chunksize, pos = i * s->chunksize;
    for (; i < s->nchunks && pos < end; i++) {
        int32_t nb = 0;
        TERSA_TRY(chunk_nbytes(s, i, &nb));
        int64_t a = start > pos ? start - pos : 0, b = end - pos < nb ? end - pos : nb;
        if (b > a) TERSA_TRY(slice_part(s, i, nb, a, b, (uint8_t *)dst + (pos + a - start)));
        pos += nb;
    }
    if (pos < end)
        return tersa__fail(TERSA_ERR_CORRUPT, "schunk_get_slice: chunks hold %" PRId64
                           " bytes, header says %" PRId64, pos, s->nbytes);
    return n;
}

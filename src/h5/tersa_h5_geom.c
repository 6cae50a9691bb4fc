/* Chunk geometry: strided N-d copies between the caller's buffer and a chunk held in C order or
 * in b2nd block layout (FORMATS.md 4.2), and which blocks a selection needs. */
#include "h5/tersa_h5_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define H5_STREAM_RUN 256 /* shortest contiguous run written with non-temporal stores */
#endif

/* Merge neighbouring axes that are contiguous in both layouts and drop axes of length 1, so
 * the inner loop runs as long as possible. Returns the new rank (0: a single item). */
static int collapse(int rank, const int64_t *n, const int64_t *s, const int64_t *d, int64_t *N,
                    int64_t *S, int64_t *D)
{
    int r = 0;
    for (int i = 0; i < rank; i++) {
        if (n[i] == 1) continue;
        if (r > 0 && S[r - 1] == s[i] * n[i] && D[r - 1] == d[i] * n[i]) {
            N[r - 1] *= n[i];
            S[r - 1] = s[i];
            D[r - 1] = d[i];
            continue;
        }
        N[r] = n[i];
        S[r] = s[i];
        D[r] = d[i];
        r++;
    }
    return r;
}

#if defined(__SSE2__)
/* memcpy with non-temporal stores for the aligned middle: the destination (a large read's
 * buffer) is not read again soon, so it is written without first being fetched into the
 * caches, which on memory-bound machines makes the final copy of a read about 1.5x faster. */
static void stream_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t head = (size_t)(-(uintptr_t)dst & 15);
    if (n < H5_STREAM_RUN) {
        memcpy(dst, src, n);
        return;
    }
    memcpy(dst, src, head);
    dst += head;
    src += head;
    n -= head;
    for (; n >= 64; n -= 64, dst += 64, src += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)src);
        __m128i b = _mm_loadu_si128((const __m128i *)(src + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + 32));
        __m128i e = _mm_loadu_si128((const __m128i *)(src + 48));
        _mm_stream_si128((__m128i *)dst, a);
        _mm_stream_si128((__m128i *)(dst + 16), b);
        _mm_stream_si128((__m128i *)(dst + 32), c);
        _mm_stream_si128((__m128i *)(dst + 48), e);
    }
    memcpy(dst, src, n);
}
#endif

/* The innermost run: n items from src (stride ss) to dst (stride ds). */
static void copy_run(int64_t n, int64_t item, const uint8_t *src, int64_t ss, uint8_t *dst,
                     int64_t ds, bool nt)
{
    if (ss == item && ds == item) {
#if defined(__SSE2__)
        if (nt) {
            stream_copy(dst, src, (size_t)(n * item));
            return;
        }
#endif
        memcpy(dst, src, (size_t)(n * item));
        return;
    }
    switch (item) {
    case 1:
        for (int64_t k = 0; k < n; k++) dst[k * ds] = src[k * ss];
        break;
    case 2:
        for (int64_t k = 0; k < n; k++) memcpy(dst + k * ds, src + k * ss, 2);
        break;
    case 4:
        for (int64_t k = 0; k < n; k++) memcpy(dst + k * ds, src + k * ss, 4);
        break;
    case 8:
        for (int64_t k = 0; k < n; k++) memcpy(dst + k * ds, src + k * ss, 8);
        break;
    default:
        for (int64_t k = 0; k < n; k++) memcpy(dst + k * ds, src + k * ss, (size_t)item);
    }
}

/* The N-d copy; nt: contiguous runs with non-temporal stores (fenced at the end). */
static void copy_nd(int rank, const int64_t *n, int64_t item, const uint8_t *src,
                    const int64_t *sstr, uint8_t *dst, const int64_t *dstr, bool nt)
{
    int64_t N[H5R], S[H5R], D[H5R], k[H5R];
    for (int i = 0; i < rank; i++)
        if (n[i] <= 0) return;
    int r = collapse(rank, n, sstr, dstr, N, S, D);
    if (r == 0) {
        memcpy(dst, src, (size_t)item);
        return;
    }
    memset(k, 0, sizeof(int64_t) * (size_t)r);
    for (;;) {
        copy_run(N[r - 1], item, src, S[r - 1], dst, D[r - 1], nt);
        int i = r - 2;
        for (; i >= 0; i--) { /* odometer over the outer axes */
            src += S[i];
            dst += D[i];
            if (++k[i] < N[i]) break;
            src -= S[i] * N[i];
            dst -= D[i] * N[i];
            k[i] = 0;
        }
        if (i < 0) break;
    }
#if defined(__SSE2__)
    if (nt) _mm_sfence(); /* the streamed stores are visible before the caller goes on */
#endif
}

void tersa__h5_copy(int rank, const int64_t *n, int64_t item, const uint8_t *src,
                    const int64_t *sstr, uint8_t *dst, const int64_t *dstr)
{
    copy_nd(rank, n, item, src, sstr, dst, dstr, false);
}

void tersa__h5_cstrides(int rank, const int64_t *dims, int64_t item, int64_t *str)
{
    int64_t s = item;
    for (int i = rank - 1; i >= 0; i--) {
        str[i] = s;
        s *= dims[i];
    }
}

void tersa__h5_fill_box(const tersa__h5box *b, const uint8_t *value)
{
    int64_t zero[H5R] = {0};
    tersa__h5_copy(b->rank, b->n, b->item, value, zero, b->buf, b->bstr);
}

void tersa__h5_corder_copy(const tersa__h5box *b, uint8_t *chunk, bool to_box)
{
    int64_t cs[H5R], ss[H5R], off = 0;
    tersa__h5_cstrides(b->rank, b->dims, b->item, cs);
    for (int i = 0; i < b->rank; i++) {
        off += b->lo[i] * cs[i];
        ss[i] = cs[i] * b->step[i];
    }
    if (to_box)
        copy_nd(b->rank, b->n, b->item, chunk + off, ss, b->buf, b->bstr, b->stream);
    else
        tersa__h5_copy(b->rank, b->n, b->item, b->buf, b->bstr, chunk + off, ss);
}

/* The selected indices k in [*kf, *kl] of axis i that fall in [a, z); false when none. */
static bool axis_part(const tersa__h5box *b, int i, int64_t a, int64_t z, int64_t *kf, int64_t *kl)
{
    int64_t lo = b->lo[i], st = b->step[i], f = 0;
    if (a > lo) f = (a - lo + st - 1) / st;
    if (z <= lo) return false;
    int64_t l = (z - 1 - lo) / st;
    if (l > b->n[i] - 1) l = b->n[i] - 1;
    *kf = f;
    *kl = l;
    return f <= l;
}

/* Block-grid geometry of a b2nd chunk. */
typedef struct bgrid {
    int64_t nb[H5R];   /* blocks per axis */
    int64_t jlo[H5R], jhi[H5R]; /* blocks the selection's bounding box meets */
    int64_t bstr[H5R]; /* C-order strides inside a block */
    int64_t bbytes;
} bgrid;

static void bgrid_init(const tersa__h5box *b, const int64_t *bs, bgrid *g)
{
    tersa__h5_cstrides(b->rank, bs, b->item, g->bstr);
    g->bbytes = b->item;
    for (int i = 0; i < b->rank; i++) {
        g->nb[i] = (b->dims[i] + bs[i] - 1) / bs[i];
        g->jlo[i] = b->lo[i] / bs[i];
        g->jhi[i] = (b->lo[i] + (b->n[i] - 1) * b->step[i]) / bs[i];
        g->bbytes *= bs[i];
    }
}

/* Advance the block odometer j over [jlo, jhi]; false when done. */
static bool next_block(int rank, const bgrid *g, int64_t *j)
{
    for (int i = rank - 1; i >= 0; i--) {
        if (++j[i] <= g->jhi[i]) return true;
        j[i] = g->jlo[i];
    }
    return false;
}

static int64_t block_linear(int rank, const bgrid *g, const int64_t *j)
{
    int64_t lin = 0;
    for (int i = 0; i < rank; i++) lin = lin * g->nb[i] + j[i];
    return lin;
}

/* Copy the part of the selection inside block j, whose bytes are at blk (false if it has
 * none). */
static bool block_part(const tersa__h5box *b, const int64_t *bs, const bgrid *g, const int64_t *j,
                       uint8_t *blk, bool to_box)
{
    int64_t n[H5R], ss[H5R], boff = 0, uoff = 0;
    for (int i = 0; i < b->rank; i++) {
        int64_t kf, kl, a = j[i] * bs[i];
        if (!axis_part(b, i, a, a + bs[i], &kf, &kl)) return false;
        n[i] = kl - kf + 1;
        boff += (b->lo[i] + kf * b->step[i] - a) * g->bstr[i];
        uoff += kf * b->bstr[i];
        ss[i] = g->bstr[i] * b->step[i];
    }
    if (to_box)
        copy_nd(b->rank, n, b->item, blk + boff, ss, b->buf + uoff, b->bstr, b->stream);
    else
        tersa__h5_copy(b->rank, n, b->item, b->buf + uoff, b->bstr, blk + boff, ss);
    return true;
}

void tersa__h5_blocked_copy(const tersa__h5box *b, const int64_t *bs, uint8_t *blocked,
                            const uint8_t *mask, bool to_box)
{
    bgrid g;
    int64_t j[H5R];
    for (int i = 0; i < b->rank; i++)
        if (b->n[i] <= 0) return;
    bgrid_init(b, bs, &g);
    memcpy(j, g.jlo, sizeof(int64_t) * (size_t)b->rank);
    do {
        int64_t lin = block_linear(b->rank, &g, j);
        if (!mask || mask[lin]) block_part(b, bs, &g, j, blocked + lin * g.bbytes, to_box);
    } while (next_block(b->rank, &g, j));
}

void tersa__h5_block_copy_one(const tersa__h5box *b, const int64_t *bs, uint8_t *block,
                              int64_t k, bool to_box)
{
    bgrid g;
    int64_t j[H5R];
    bgrid_init(b, bs, &g);
    for (int i = b->rank - 1; i >= 0; i--) {
        j[i] = k % g.nb[i];
        k /= g.nb[i];
    }
    block_part(b, bs, &g, j, block, to_box);
}

int64_t tersa__h5_block_mask(const tersa__h5box *b, const int64_t *bs, uint8_t *mask)
{
    bgrid g;
    int64_t j[H5R], total = 1, count = 0;
    bgrid_init(b, bs, &g);
    for (int i = 0; i < b->rank; i++) total *= g.nb[i];
    memset(mask, 0, (size_t)total);
    for (int i = 0; i < b->rank; i++)
        if (b->n[i] <= 0) return 0;
    memcpy(j, g.jlo, sizeof(int64_t) * (size_t)b->rank);
    do {
        bool meets = true;
        for (int i = 0; i < b->rank && meets; i++) {
            int64_t kf, kl, a = j[i] * bs[i];
            meets = axis_part(b, i, a, a + bs[i], &kf, &kl);
        }
        if (meets) {
            mask[block_linear(b->rank, &g, j)] = 1;
            count++;
        }
    } while (next_block(b->rank, &g, j));
    return count;
}

static int64_t mark_range(uint8_t *mask, int64_t blocksize, int64_t nblocks, int64_t off,
                          int64_t len)
{
    int64_t first = off / blocksize, last = (off + len - 1) / blocksize, count = 0;
    if (last >= nblocks) last = nblocks - 1;
    for (int64_t k = first; k <= last; k++) {
        count += !mask[k];
        mask[k] = 1;
    }
    return count;
}

int64_t tersa__h5_range_mask(const tersa__h5box *b, int64_t blocksize, int64_t nblocks,
                             uint8_t *mask)
{
    int64_t cs[H5R], k[H5R] = {0}, count = 0, r = b->rank;
    memset(mask, 0, (size_t)nblocks);
    if (blocksize <= 0 || nblocks <= 0) return 0;
    for (int i = 0; i < r; i++)
        if (b->n[i] <= 0) return 0;
    tersa__h5_cstrides(b->rank, b->dims, b->item, cs);
    /* Runs along the last axis: one run when its step is 1, else one per item. */
    int64_t last = r - 1, run = b->step[last] == 1 ? b->n[last] * b->item : b->item;
    int64_t per = b->step[last] == 1 ? 1 : b->n[last];
    for (;;) {
        int64_t off = 0;
        for (int i = 0; i < r - 1; i++) off += (b->lo[i] + k[i] * b->step[i]) * cs[i];
        for (int64_t q = 0; q < per; q++) {
            int64_t o = off + (b->lo[last] + q * b->step[last]) * cs[last];
            count += mark_range(mask, blocksize, nblocks, o, run);
        }
        int i = (int)r - 2;
        for (; i >= 0; i--) {
            if (++k[i] < b->n[i]) break;
            k[i] = 0;
        }
        if (i < 0) return count;
    }
}

bool tersa__h5_box_contiguous(const tersa__h5box *b, int64_t *off, int64_t *len)
{
    int64_t cs[H5R], expect = b->item;
    int k = b->rank - 1;
    while (k > 0 && b->lo[k] == 0 && b->n[k] == b->dims[k]) k--; /* full trailing axes */
    for (int i = 0; i < k; i++)
        if (b->n[i] != 1) return false;
    for (int i = b->rank - 1; i >= k; i--) {
        if (b->n[i] > 1 && (b->step[i] != 1 || b->bstr[i] != expect)) return false;
        expect *= b->n[i];
    }
    tersa__h5_cstrides(b->rank, b->dims, b->item, cs);
    *off = 0;
    for (int i = 0; i < b->rank; i++) *off += b->lo[i] * cs[i];
    *len = expect;
    return true;
}

/* Chunk decompression: whole chunks, item ranges and block masks, decoding only the blocks
 * asked for, in parallel. Nothing is allocated once the context has warmed up. */
#include <stdatomic.h>

#include "chunk/tersa_chunk_internal.h"
#include "filters/tersa_filters.h"

typedef struct djob {
    tersa_dctx *x;
    tersa__hdr h;
    tersa__layout lay;
    const uint8_t *src;
    const tersa__codec *builtin;
    const tersa_codec_plugin *plugin;
    const tersa_filter_plugin *fplugins[TERSA_MAX_FILTERS];
    int32_t bytedelta_ts;
    bool has_delta;
    const uint8_t *ref; /* block 0 decoded, for DELTA */
    tersa__dtask *tasks;
    int ntasks;
} djob;

#define DFAIL(code, ...) tersa__fail(code, "chunk: " __VA_ARGS__)

static int64_t block_off(const djob *jb, int32_t j)
{
    return jb->h.vlblocks ? jb->x->vl_off[j] : (int64_t)j * jb->h.blocksize;
}

static int32_t block_len(const djob *jb, int32_t j)
{
    return jb->h.vlblocks ? jb->x->vl_len[j] : tersa__hdr_bsize(&jb->h, j);
}

static int decode_codec(const djob *jb, tersa__worker *w, const uint8_t *p, int32_t n,
                        uint8_t *out, int32_t ne, int32_t j)
{
    int32_t r;
    if (jb->builtin) {
        tersa__codec_args a = {5, jb->h.codec_meta, jb->lay.dict, jb->lay.dict_size,
                               jb->h.typesize, &w->codec};
        r = jb->builtin->decode(p, n, out, ne, &a);
    } else {
        tersa_plugin_args a = {sizeof a, 5, jb->h.codec_meta, jb->h.typesize, jb->h.blocksize, j,
                               jb->plugin->user};
        r = jb->plugin->decode(p, n, out, ne, &a);
    }
    if (r == ne) return 0;
    if (r < 0) return tersa__fail_prefix(TERSA_ERR_CORRUPT, "chunk: block %d", j);
    return DFAIL(TERSA_ERR_CORRUPT, "block %d: codec produced %d bytes, expected %d", j, r, ne);
}

static int decode_vl_stream(const djob *jb, tersa__worker *w, int32_t j, uint8_t *out)
{
    int32_t b = tersa__ld32s(jb->src + jb->h.header_len + 4 * (int64_t)j);
    int32_t n = jb->x->vl_end[j] - b - 4;
    int32_t len = jb->x->vl_len[j];
    atomic_fetch_add_explicit(&jb->x->streams_decoded, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&jb->x->bytes_read, n + 4, memory_order_relaxed);
    if (n == len) {
        memcpy(out, jb->src + b + 4, (size_t)n);
        return 0;
    }
    return decode_codec(jb, w, jb->src + b + 4, n, out, len, j);
}

/* One stream at *pos: returns 0 and advances *pos, or an error. */
static int decode_stream(const djob *jb, tersa__worker *w, int64_t *pos, uint8_t *out,
                         int32_t ne, int32_t j)
{
    const uint8_t *src = jb->src;
    int64_t p = *pos, cb = jb->h.cbytes;
    if (p + 4 > cb) return DFAIL(TERSA_ERR_CORRUPT, "block %d: stream prefix past the end", j);
    int32_t c = tersa__ld32s(src + p);
    p += 4;
    if (c == 0) {
        memset(out, 0, (size_t)ne);
    } else if (c < 0) {
        if (c < -255 || p + 1 > cb || !(src[p] & 1))
            return DFAIL(TERSA_ERR_CORRUPT, "block %d: bad run code %d", j, c);
        memset(out, (uint8_t)(-c), (size_t)ne);
        p += 1;
    } else if (c > cb - p) {
        return DFAIL(TERSA_ERR_CORRUPT, "block %d stream size %d runs past the chunk end", j, c);
    } else if (c == ne) {
        memcpy(out, src + p, (size_t)ne);
        p += c;
    } else {
        TERSA_TRY(decode_codec(jb, w, src + p, c, out, ne, j));
        p += c;
    }
    atomic_fetch_add_explicit(&jb->x->streams_decoded, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&jb->x->bytes_read, p - *pos, memory_order_relaxed);
    *pos = p;
    return 0;
}

static int decode_streams(const djob *jb, tersa__worker *w, int32_t j, int32_t bsize,
                          uint8_t *out)
{
    if (jb->h.vlblocks) return decode_vl_stream(jb, w, j, out);
    int32_t b = tersa__ld32s(jb->src + jb->h.header_len + 4 * (int64_t)j);
    if (b < jb->lay.data_start || b >= jb->h.cbytes)
        return DFAIL(TERSA_ERR_CORRUPT, "block %d starts at %d, outside [%d, %d)", j, b,
                     jb->lay.data_start, jb->h.cbytes);
    bool last_short = j == jb->h.nblocks - 1 && jb->h.leftover;
    int nstreams = (jb->h.split && !last_short) ? jb->h.typesize : 1;
    int32_t ne = bsize / nstreams;
    int64_t pos = b;
    for (int s = 0; s < nstreams; s++)
        TERSA_TRY(decode_stream(jb, w, &pos, out + (int64_t)s * ne, ne, j));
    return 0;
}

static bool filter_active(const djob *jb, int slot)
{
    uint8_t f = jb->h.filters[slot], m = jb->h.filters_meta[slot];
    if (f == TERSA_FILTER_NONE || f == TERSA_FILTER_TRUNC_PREC) return false;
    if (f == TERSA_FILTER_SHUFFLE) return (m ? m : jb->h.typesize) > 1;
    return true;
}

static int backward_one(const djob *jb, int slot, int32_t j, const uint8_t *cur, uint8_t *out,
                        int32_t bsize)
{
    int t = jb->h.typesize;
    uint8_t m = jb->h.filters_meta[slot];
    switch (jb->h.filters[slot]) {
    case TERSA_FILTER_SHUFFLE:
        tersa__shuffle_best()->unshuffle(cur, out, bsize, m ? m : t);
        return 0;
    case TERSA_FILTER_BITSHUFFLE:
        if (jb->h.version == 2) tersa__bitunshuffle_legacy(cur, out, bsize, t);
        else tersa__shuffle_best()->bitunshuffle(cur, out, bsize, t);
        return 0;
    case TERSA_FILTER_DELTA: tersa__delta_decode(jb->ref, j == 0, cur, out, bsize, t); return 0;
    case TERSA_FILTER_BYTEDELTA_BUGGY:
    case TERSA_FILTER_BYTEDELTA:
        tersa__bytedelta_decode(cur, out, bsize, m ? m : jb->bytedelta_ts,
                                jb->h.filters[slot] == TERSA_FILTER_BYTEDELTA_BUGGY);
        return 0;
    default: {
        const tersa_filter_plugin *f = jb->fplugins[slot];
        tersa_plugin_args a = {sizeof a, 5, m, t, jb->h.blocksize, j, f->user};
        int rc = f->backward(cur, out, bsize, &a);
        if (rc < 0)
            return DFAIL(TERSA_ERR_FILTER, "block %d: user filter %d failed (rc %d)", j,
                         jb->h.filters[slot], rc);
        return 0;
    }
    }
}

/* Decode all of block j into final (bsize bytes). */
static int decode_block(const djob *jb, tersa__worker *w, int32_t j, uint8_t *final)
{
    int32_t bsize = block_len(jb, j);
    int active[TERSA_MAX_FILTERS], nact = 0;
    for (int slot = TERSA_MAX_FILTERS - 1; slot >= 0; slot--)
        if (filter_active(jb, slot)) active[nact++] = slot;
    if (nact == 0) return decode_streams(jb, w, j, bsize, final);
    uint8_t *cur = w->tmp[0];
    TERSA_TRY(decode_streams(jb, w, j, bsize, cur));
    for (int i = 0; i < nact; i++) {
        uint8_t *out = (i == nact - 1) ? final : (cur == w->tmp[0] ? w->tmp[1] : w->tmp[0]);
        TERSA_TRY(backward_one(jb, active[i], j, cur, out, bsize));
        cur = out;
    }
    return 0;
}

static int run_task(const djob *jb, tersa__worker *w, const tersa__dtask *t)
{
    const tersa__hdr *h = &jb->h;
    int64_t at = block_off(jb, t->block) + t->boff;
    atomic_fetch_add_explicit(&jb->x->blocks_decoded, 1, memory_order_relaxed);
    if (h->special) return tersa__special_fill(h, jb->src, at, t->len, t->out);
    if (h->memcpyed) {
        memcpy(t->out, jb->src + h->header_len + at, (size_t)t->len);
        return 0;
    }
    if (t->boff == 0 && t->len == block_len(jb, t->block))
        return decode_block(jb, w, t->block, t->out);
    TERSA_TRY(decode_block(jb, w, t->block, w->tmp[2]));
    memcpy(t->out, w->tmp[2] + t->boff, (size_t)t->len);
    return 0;
}

static int task_fn(void *arg, int i, int worker)
{
    djob *jb = arg;
    return run_task(jb, &jb->x->c.workers[worker], &jb->tasks[i]);
}

/* ---- job setup ---- */

static int setup_filters(djob *jb)
{
    for (int i = 0; i < TERSA_MAX_FILTERS; i++) {
        uint8_t f = jb->h.filters[i];
        jb->fplugins[i] = NULL;
        if (f == TERSA_FILTER_DELTA) jb->has_delta = true;
        if (f <= TERSA_FILTER_TRUNC_PREC || f == TERSA_FILTER_BYTEDELTA ||
            f == TERSA_FILTER_BYTEDELTA_BUGGY)
            continue;
        jb->fplugins[i] = tersa__registry_filter(jb->x->c.registry, f);
        if (!jb->fplugins[i])
            return DFAIL(TERSA_ERR_UNKNOWN_FILTER, "filter id %d in slot %d is not supported "
                         "(not built in, not in the context's registry)", f, i);
    }
    return 0;
}

static int setup_codec(djob *jb)
{
    if (jb->h.format == TERSA_FORMAT_USER) {
        jb->builtin = tersa__codec_builtin(jb->h.udcodec);
        if (jb->builtin) return 0;
        jb->plugin = tersa__registry_codec(jb->x->c.registry, jb->h.udcodec);
        if (!jb->plugin)
            return DFAIL(TERSA_ERR_UNKNOWN_CODEC, "codec id %d is not supported (not built in, "
                         "not in the context's registry)", jb->h.udcodec);
        return 0;
    }
    jb->builtin = tersa__codec_by_format(jb->h.format);
    if (!jb->builtin)
        return DFAIL(TERSA_ERR_UNKNOWN_CODEC, "codec format %d is not supported%s", jb->h.format,
                     jb->h.format == 2 ? " (snappy, Blosc1 only)" : "");
    return 0;
}

static int grow_vl(tersa_dctx *x, int32_t n)
{
    if (n <= x->vl_cap) return 0;
    tersa__free(x->vl_off);
    tersa__free(x->vl_len);
    tersa__free(x->vl_end);
    x->vl_off = tersa__malloc((size_t)n * sizeof *x->vl_off);
    x->vl_len = tersa__malloc((size_t)n * sizeof *x->vl_len);
    x->vl_end = tersa__malloc((size_t)n * sizeof *x->vl_end);
    x->vl_cap = (x->vl_off && x->vl_len && x->vl_end) ? n : 0;
    return x->vl_cap ? 0 : tersa__fail(TERSA_ERR_NOMEM, "chunk: VL-block tables");
}

static int32_t max_block_len(const djob *jb)
{
    if (!jb->h.vlblocks) return jb->h.blocksize;
    int32_t m = 0;
    for (int32_t j = 0; j < jb->h.nblocks; j++)
        if (jb->x->vl_len[j] > m) m = jb->x->vl_len[j];
    return m;
}

static int djob_setup(tersa_dctx *x, const void *src, size_t srcsize, djob *jb, bool walk)
{
    memset(jb, 0, sizeof *jb);
    jb->x = x;
    jb->src = src;
    TERSA_TRY(tersa__hdr_parse(src, srcsize, &jb->h));
    TERSA_TRY(tersa__chunk_check(&jb->h, src, srcsize, &jb->lay, walk && !jb->h.vlblocks));
    int64_t fts = x->c.params[TERSA_P_FRAME_TYPESIZE];
    jb->bytedelta_ts = fts ? (int32_t)fts : jb->h.typesize;
    if (jb->h.special || jb->h.memcpyed || jb->h.nbytes == 0) return 0;
    TERSA_TRY(setup_filters(jb));
    TERSA_TRY(setup_codec(jb));
    if (jb->h.vlblocks) {
        TERSA_TRY(grow_vl(x, jb->h.nblocks));
        TERSA_TRY(tersa__vl_geometry(&jb->h, src, &jb->lay, x->vl_off, x->vl_len, x->vl_end));
    }
    return 0;
}

static int grow_tasks(tersa_dctx *x, int32_t n)
{
    if (n <= x->tasks_cap) return 0;
    tersa__free(x->tasks);
    x->tasks = tersa__malloc((size_t)n * sizeof *x->tasks);
    x->tasks_cap = x->tasks ? n : 0;
    return x->tasks ? 0 : tersa__fail(TERSA_ERR_NOMEM, "chunk: task table of %d", n);
}

/* Decode block 0 into the context's reference buffer (DELTA needs it for other blocks). */
static int make_ref(djob *jb, tersa__worker *w)
{
    tersa__ctx *c = &jb->x->c;
    int32_t n = block_len(jb, 0);
    if (c->ref_size < n) {
        tersa__free_aligned(c->ref);
        c->ref = tersa__malloc_aligned((size_t)n);
        c->ref_size = c->ref ? n : 0;
        if (!c->ref) return tersa__fail(TERSA_ERR_NOMEM, "chunk: delta reference of %d bytes", n);
    }
    tersa__dtask t = {0, 0, n, c->ref};
    TERSA_TRY(run_task(jb, w, &t));
    jb->ref = c->ref;
    return 0;
}

/* With DELTA, blocks >= 1 need block 0 decoded first: straight into the output when a task
 * wants all of it, else into the reference buffer (serving a partial block-0 task from there).
 * Tasks are in block order, so block 0 can only be the first. Returns how many tasks it did. */
static int delta_prologue(djob *jb, tersa__worker *w0)
{
    const tersa__dtask *t0 = &jb->tasks[0];
    if (jb->tasks[jb->ntasks - 1].block == 0) return 0; /* block 0 alone needs no reference */
    if (t0->block == 0 && t0->boff == 0 && t0->len == block_len(jb, 0)) {
        TERSA_TRY(run_task(jb, w0, t0));
        jb->ref = t0->out;
        return 1;
    }
    TERSA_TRY(make_ref(jb, w0));
    if (t0->block != 0) return 0;
    memcpy(t0->out, jb->ref + t0->boff, (size_t)t0->len);
    return 1;
}

/* Execute jb->tasks on the pool. */
static int run_tasks(djob *jb)
{
    int nworkers;
    int32_t scratch = max_block_len(jb);
    TERSA_TRY(tersa__ctx_prepare(&jb->x->c, scratch > 0 ? scratch : 1, &nworkers));
    int first = 0;
    if (jb->has_delta && !jb->h.special && !jb->h.memcpyed && jb->ntasks > 0) {
        first = delta_prologue(jb, &jb->x->c.workers[0]);
        if (first < 0) return first;
    }
    jb->tasks += first;
    jb->ntasks -= first;
    int rc = tersa__pool_run(jb->x->c.pool, nworkers, jb->ntasks, task_fn, jb);
    jb->tasks -= first;
    jb->ntasks += first;
    return rc;
}

/* Tasks covering bytes [off, off + len) of the chunk, written to dst[0..len). */
static int plan_range(djob *jb, int64_t off, int64_t len, uint8_t *dst)
{
    int32_t j = 0, n = 0;
    if (!jb->h.vlblocks && jb->h.blocksize > 0) j = (int32_t)(off / jb->h.blocksize);
    TERSA_TRY(grow_tasks(jb->x, jb->h.nblocks > 0 ? jb->h.nblocks : 1));
    for (; j < jb->h.nblocks && len > 0; j++) {
        int64_t bo = block_off(jb, j), bl = block_len(jb, j);
        if (bo + bl <= off) continue;
        int64_t a = off > bo ? off - bo : 0;
        int64_t take = bl - a < len ? bl - a : len;
        jb->x->tasks[n++] = (tersa__dtask){j, (int32_t)a, (int32_t)take, dst};
        dst += take;
        off += take;
        len -= take;
    }
    jb->tasks = jb->x->tasks;
    jb->ntasks = n;
    return 0;
}

static int64_t decode_range(djob *jb, int64_t off, int64_t len, uint8_t *dst)
{
    if (len == 0) return 0;
    TERSA_TRY(plan_range(jb, off, len, dst));
    TERSA_TRY(run_tasks(jb));
    return len;
}

int64_t tersa_decompress(tersa_dctx *x, const void *src, size_t srcsize, void *dst,
                         size_t dstcap)
{
    djob jb;
    if (!x || !dst) return tersa__fail(TERSA_ERR_PARAM, "decompress: NULL context or buffer");
    TERSA_TRY(djob_setup(x, src, srcsize, &jb, true));
    if (dstcap < (size_t)jb.h.nbytes)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL, "decompress: chunk holds %d bytes, "
                           "destination has %zu", jb.h.nbytes, dstcap);
    return decode_range(&jb, 0, jb.h.nbytes, dst);
}

int64_t tersa_getitem(tersa_dctx *x, const void *src, size_t srcsize, int64_t start,
                      int64_t nitems, void *dst, size_t dstcap)
{
    djob jb;
    if (!x || (!dst && nitems)) return tersa__fail(TERSA_ERR_PARAM, "getitem: NULL argument");
    TERSA_TRY(djob_setup(x, src, srcsize, &jb, false));
    int64_t ts = jb.h.typesize, off, len, end;
    if (start < 0 || nitems < 0 || !tersa__mul_i64(start, ts, &off) ||
        !tersa__mul_i64(nitems, ts, &len) || !tersa__add_i64(off, len, &end) ||
        end > jb.h.nbytes)
        return tersa__fail(TERSA_ERR_RANGE, "getitem: items [%lld, +%lld) of %lld bytes each "
                           "outside a chunk of %d bytes", (long long)start, (long long)nitems,
                           (long long)ts, jb.h.nbytes);
    if ((int64_t)dstcap < len)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL, "getitem: %lld bytes requested, destination "
                           "has %zu", (long long)len, dstcap);
    return decode_range(&jb, off, len, dst);
}

int64_t tersa_decompress_blocks(tersa_dctx *x, const void *src, size_t srcsize,
                                const uint8_t *mask, size_t nmask, void *dst, size_t dstcap)
{
    djob jb;
    if (!x || !mask || !dst) return tersa__fail(TERSA_ERR_PARAM, "decompress_blocks: NULL argument");
    TERSA_TRY(djob_setup(x, src, srcsize, &jb, false));
    if (nmask < (size_t)jb.h.nblocks)
        return tersa__fail(TERSA_ERR_PARAM, "decompress_blocks: mask has %zu entries, chunk has "
                           "%d blocks", nmask, jb.h.nblocks);
    if (dstcap < (size_t)jb.h.nbytes)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL, "decompress_blocks: chunk holds %d bytes, "
                           "destination has %zu", jb.h.nbytes, dstcap);
    TERSA_TRY(grow_tasks(x, jb.h.nblocks > 0 ? jb.h.nblocks : 1));
    int n = 0;
    for (int32_t j = 0; j < jb.h.nblocks; j++)
        if (mask[j])
            x->tasks[n++] = (tersa__dtask){j, 0, block_len(&jb, j),
                                           (uint8_t *)dst + block_off(&jb, j)};
    jb.tasks = x->tasks;
    jb.ntasks = n;
    TERSA_TRY(run_tasks(&jb));
    return n;
}

/* Chunk compression: blocks through the filter pipeline and the codec, in parallel, with
 * deterministic output (blocks are always laid out in order). */
#include "chunk/tersa_chunk_internal.h"
#include "filters/tersa_filters.h"

typedef struct cjob {
    tersa_cctx *x;
    const uint8_t *src;
    int32_t nbytes, blocksize, nblocks, leftover;
    int typesize;        /* header typesize */
    int clevel, codec;
    uint8_t codec_meta;
    bool split;
    uint8_t filters[TERSA_MAX_FILTERS], fmeta[TERSA_MAX_FILTERS];
    const tersa__codec *builtin;
    const tersa_codec_plugin *plugin;
    const tersa_filter_plugin *fplugins[TERSA_MAX_FILTERS];
    int32_t bytedelta_ts;
    const uint8_t *dict;  /* trained dictionary, or NULL */
    int32_t dict_size;
    int32_t block_cap;   /* capacity of one block's output slot (threaded mode) */
} cjob;

static int32_t block_size_of(const cjob *j, int32_t b)
{
    return (b == j->nblocks - 1 && j->leftover) ? j->leftover : j->blocksize;
}

static int forward_one(const cjob *jb, int slot, int32_t b, const uint8_t *cur, uint8_t *out,
                       int32_t bsize)
{
    int t = jb->typesize;
    uint8_t meta = jb->fmeta[slot];
    switch (jb->filters[slot]) {
    case TERSA_FILTER_SHUFFLE:
        tersa__shuffle_best()->shuffle(cur, out, bsize, meta ? meta : t);
        return 0;
    case TERSA_FILTER_BITSHUFFLE: tersa__shuffle_best()->bitshuffle(cur, out, bsize, t); return 0;
    case TERSA_FILTER_DELTA:
        tersa__delta_encode(b == 0 ? cur : jb->src, b == 0, cur, out, bsize, t);
        return 0;
    case TERSA_FILTER_TRUNC_PREC: return tersa__truncprec((int8_t)meta, t, cur, out, bsize);
    case TERSA_FILTER_BYTEDELTA:
        tersa__bytedelta_encode(cur, out, bsize, meta ? meta : jb->bytedelta_ts);
        return 0;
    default: {
        const tersa_filter_plugin *f = jb->fplugins[slot];
        tersa_plugin_args a = {sizeof a, jb->clevel, meta, t, jb->blocksize, b, f->user};
        int rc = f->forward(cur, out, bsize, &a);
        if (rc < 0)
            return tersa__fail(TERSA_ERR_FILTER, "user filter %d failed on block %d (rc %d)",
                               jb->filters[slot], b, rc);
        return 0;
    }
    }
}

/* Run the forward filters of block b; returns the filtered bytes (src itself when no filter
 * changes anything). */
static const uint8_t *forward_filters(const cjob *jb, tersa__worker *w, int32_t b,
                                      int32_t bsize, int *rc)
{
    const uint8_t *cur = jb->src + (int64_t)b * jb->blocksize;
    int k = 0;
    *rc = 0;
    for (int slot = 0; slot < TERSA_MAX_FILTERS; slot++) {
        uint8_t f = jb->filters[slot];
        if (f == 0) continue;
        if (f == TERSA_FILTER_SHUFFLE && (jb->fmeta[slot] ? jb->fmeta[slot] : jb->typesize) <= 1)
            continue;
        uint8_t *out = w->tmp[k];
        *rc = forward_one(jb, slot, b, cur, out, bsize);
        if (*rc < 0) return NULL;
        cur = out;
        k ^= 1;
    }
    return cur;
}

static int32_t encode_stream(const cjob *jb, tersa__worker *w, const uint8_t *s, int32_t n,
                             uint8_t *out, int32_t cap)
{
    if (jb->builtin) {
        tersa__codec_args a = {jb->clevel, jb->codec_meta, jb->dict, jb->dict_size, jb->typesize,
                               &w->codec};
        return jb->builtin->encode(s, n, out, cap, &a);
    }
    tersa_plugin_args a = {sizeof a, jb->clevel, jb->codec_meta, jb->typesize, jb->blocksize,
                           0, jb->plugin->user};
    int32_t r = jb->plugin->encode(s, n, out, cap, &a);
    if (r < 0) return tersa__fail(TERSA_ERR_CODEC, "user codec %d failed (rc %d)", jb->codec, r);
    return r > cap ? 0 : r;
}

static bool is_run(const uint8_t *s, int32_t n)
{
    return n > 0 && s[0] == s[n - 1] && memcmp(s, s + 1, (size_t)n - 1) == 0;
}

/* One stream: run code, codec output, or raw. Returns bytes written, 0 if it does not fit. */
static int32_t put_stream(const cjob *jb, tersa__worker *w, const uint8_t *s, int32_t n,
                          uint8_t *out, int32_t cap)
{
    if (cap < 4) return 0;
    if (is_run(s, n)) {
        if (s[0] == 0) {
            tersa__st32(out, 0);
            return 4;
        }
        if (cap < 5) return 0;
        tersa__st32(out, (uint32_t)(-(int32_t)s[0]));
        out[4] = 1;
        return 5;
    }
    int32_t room = cap - 4 < n ? cap - 4 : n;
    int32_t c = room > 0 ? encode_stream(jb, w, s, n, out + 4, room) : 0;
    if (c < 0) return c;
    if (c == 0 || c >= n) {
        if (cap - 4 < n) return 0;
        memcpy(out + 4, s, (size_t)n);
        c = n;
    }
    tersa__st32(out, (uint32_t)c);
    return 4 + c;
}

/* Compress block b into out (cap bytes). Returns its size, 0 if it does not fit, or < 0. */
static int32_t compress_block(const cjob *jb, tersa__worker *w, int32_t b, uint8_t *out,
                              int64_t cap)
{
    int32_t bsize = block_size_of(jb, b);
    int rc;
    const uint8_t *f = forward_filters(jb, w, b, bsize, &rc);
    if (!f) return rc;
    int nstreams = (jb->split && !(b == jb->nblocks - 1 && jb->leftover)) ? jb->typesize : 1;
    int32_t ne = bsize / nstreams;
    int64_t pos = 0;
    for (int s = 0; s < nstreams; s++) {
        int32_t c32 = cap - pos > INT32_MAX ? INT32_MAX : (int32_t)(cap - pos);
        int32_t r = put_stream(jb, w, f + (int64_t)s * ne, ne, out + pos, c32);
        if (r <= 0) return r;
        pos += r;
    }
    return (int32_t)pos;
}

static int block_task(void *arg, int b, int worker)
{
    cjob *jb = arg;
    tersa_cctx *x = jb->x;
    uint8_t *slot = x->blocks_out + (size_t)b * (size_t)jb->block_cap;
    int32_t r = compress_block(jb, &x->c.workers[worker], b, slot, jb->block_cap);
    if (r < 0) return r;
    x->block_csize[b] = r; /* 0: did not fit (cannot happen with block_cap) */
    return 0;
}

static void write_header(const cjob *jb, uint8_t *dst, int32_t cbytes, bool memcpyed)
{
    bool user = jb->codec >= TERSA_CODEC_USER_FIRST;
    const tersa__codec *c = jb->builtin;
    uint8_t flags = TERSA_F_EXTENDED;
    if (memcpyed) flags |= TERSA_F_MEMCPYED;
    if (!jb->split) flags |= TERSA_F_NOSPLIT;
    for (int i = 0; i < TERSA_MAX_FILTERS; i++)
        if (jb->filters[i] == TERSA_FILTER_DELTA) flags |= TERSA_F_DELTA;
    flags |= (uint8_t)((user ? TERSA_FORMAT_USER : c->format) << 5);
    memset(dst, 0, 32);
    dst[0] = 5;
    dst[1] = user ? jb->plugin->version : 1;
    dst[2] = flags;
    dst[3] = (uint8_t)jb->typesize;
    tersa__st32(dst + 4, (uint32_t)jb->nbytes);
    tersa__st32(dst + 8, (uint32_t)jb->blocksize);
    tersa__st32(dst + 12, (uint32_t)cbytes);
    memcpy(dst + 16, jb->filters, TERSA_MAX_FILTERS);
    dst[22] = (uint8_t)jb->codec;
    dst[23] = jb->codec_meta;
    memcpy(dst + 24, jb->fmeta, TERSA_MAX_FILTERS);
    if (jb->dict && !memcpyed) dst[31] |= TERSA_B2_DICT;
}

static int64_t write_memcpy(const cjob *jb, uint8_t *dst, size_t dstcap)
{
    int64_t total = (int64_t)jb->nbytes + 32;
    if ((int64_t)dstcap < total)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL, "compress: chunk needs up to %lld bytes, "
                           "destination has %zu", (long long)total, dstcap);
    write_header(jb, dst, (int32_t)total, true);
    if (jb->nbytes) memcpy(dst + 32, jb->src, (size_t)jb->nbytes);
    return total;
}

static int cjob_setup(tersa_cctx *x, const uint8_t *src, int32_t n, cjob *jb);

static int64_t data_start(const cjob *jb)
{
    return 32 + 4 * (int64_t)jb->nblocks + (jb->dict ? 4 + jb->dict_size : 0);
}

static int64_t compress_direct(cjob *jb, uint8_t *dst, int64_t limit)
{
    int64_t pos = data_start(jb);
    tersa__worker *w = &jb->x->c.workers[0];
    for (int32_t b = 0; b < jb->nblocks; b++) {
        if (pos >= limit) return 0;
        tersa__st32(dst + 32 + 4 * b, (uint32_t)pos);
        int32_t r = compress_block(jb, w, b, dst + pos, limit - pos);
        if (r <= 0) return r;
        pos += r;
    }
    return pos;
}

static int64_t compress_threaded(cjob *jb, uint8_t *dst, int64_t limit, int nworkers)
{
    tersa_cctx *x = jb->x;
    TERSA_TRY(tersa__pool_run(x->c.pool, nworkers, jb->nblocks, block_task, jb));
    int64_t pos = data_start(jb);
    for (int32_t b = 0; b < jb->nblocks; b++) {
        int32_t r = x->block_csize[b];
        if (r <= 0 || pos + r > limit) return 0;
        tersa__st32(dst + 32 + 4 * b, (uint32_t)pos);
        memcpy(dst + pos, x->blocks_out + (size_t)b * (size_t)jb->block_cap, (size_t)r);
        pos += r;
    }
    return pos;
}

static int prepare_threaded(cjob *jb)
{
    tersa_cctx *x = jb->x;
    jb->block_cap = jb->blocksize + 4 * jb->typesize + 16;
    size_t need = (size_t)jb->nblocks * (size_t)jb->block_cap;
    if (need > x->blocks_out_size) {
        tersa__free(x->blocks_out);
        x->blocks_out = tersa__malloc(need);
        x->blocks_out_size = x->blocks_out ? need : 0;
        if (!x->blocks_out) return tersa__fail(TERSA_ERR_NOMEM, "compress: %zu scratch bytes", need);
    }
    if (jb->nblocks > x->block_csize_n) {
        tersa__free(x->block_csize);
        x->block_csize = tersa__malloc((size_t)jb->nblocks * sizeof(int32_t));
        x->block_csize_n = x->block_csize ? jb->nblocks : 0;
        if (!x->block_csize) return tersa__fail(TERSA_ERR_NOMEM, "compress: block table");
    }
    return 0;
}

/* Filter the first blocks into the sample buffer and train a dictionary from them. */
static int build_dict(cjob *jb)
{
    tersa_cctx *x = jb->x;
    bool lz4 = jb->codec == TERSA_CODEC_LZ4 || jb->codec == TERSA_CODEC_LZ4HC;
    if (!lz4 && jb->codec != TERSA_CODEC_ZSTD) return 0;
    int32_t want = jb->nbytes < 4 * 1024 * 1024 ? jb->nbytes : 4 * 1024 * 1024;
    if (want > x->samples_cap) {
        tersa__free(x->samples);
        x->samples = tersa__malloc((size_t)want);
        x->samples_cap = x->samples ? want : 0;
        if (!x->samples) return tersa__fail(TERSA_ERR_NOMEM, "dictionary: %d sample bytes", want);
    }
    int32_t n = 0;
    for (int32_t b = 0; b < jb->nblocks && n < want; b++) {
        int32_t bsize = block_size_of(jb, b);
        int rc;
        const uint8_t *f = forward_filters(jb, &x->c.workers[0], b, bsize, &rc);
        if (!f) return rc;
        int32_t take = want - n < bsize ? want - n : bsize;
        memcpy(x->samples + n, f, (size_t)take);
        n += take;
    }
    int32_t cap = jb->nbytes / 256; /* the dictionary is stored in the chunk: keep it small */
    if (cap > 16 * 1024) cap = 16 * 1024;
    int32_t r = cap >= 256 ? tersa__dict_train(jb->codec, x->samples, n, x->dict, cap) : 0;
    if (r < 0) return r;
    jb->dict = r > 0 ? x->dict : NULL;
    jb->dict_size = r;
    return 0;
}

static int64_t compress_blocks(cjob *jb, uint8_t *dst, size_t dstcap)
{
    int64_t limit = (int64_t)jb->nbytes + 32;
    if ((int64_t)dstcap < limit) limit = (int64_t)dstcap;
    int nworkers;
    TERSA_TRY(tersa__ctx_prepare(&jb->x->c, jb->blocksize, &nworkers));
    if (jb->x->c.params[TERSA_P_USE_DICT]) TERSA_TRY(build_dict(jb));
    if (data_start(jb) >= limit) return 0;
    if (jb->dict) {
        tersa__st32(dst + 32 + 4 * (int64_t)jb->nblocks, (uint32_t)jb->dict_size);
        memcpy(dst + 36 + 4 * (int64_t)jb->nblocks, jb->dict, (size_t)jb->dict_size);
    }
    if (nworkers <= 1 || jb->nblocks <= 1) return compress_direct(jb, dst, limit);
    TERSA_TRY(prepare_threaded(jb));
    return compress_threaded(jb, dst, limit, nworkers);
}

static int64_t compress_chunk(cjob *jb, uint8_t *dst, size_t dstcap)
{
    const tersa__ctx *c = &jb->x->c;
    if (c->params[TERSA_P_DETECT_SPECIAL]) {
        int kind = tersa__special_detect(jb->src, jb->nbytes, jb->typesize);
        if (kind != TERSA_SPECIAL_NONE)
            return tersa__special_write(kind, jb->typesize, jb->nbytes, jb->blocksize, jb->src,
                                        jb->typesize, dst, dstcap);
    }
    if (jb->clevel == 0 || jb->nbytes < 32) return write_memcpy(jb, dst, dstcap);
    int64_t r = compress_blocks(jb, dst, dstcap);
    if (r < 0) return r;
    if (r == 0) return write_memcpy(jb, dst, dstcap);
    write_header(jb, dst, (int32_t)r, false);
    return r;
}

size_t tersa_compress_bound(size_t srcsize) { return srcsize + TERSA_MAX_OVERHEAD; }

int64_t tersa_compress(tersa_cctx *x, const void *src, size_t srcsize, void *dst, size_t dstcap)
{
    if (!x || (!src && srcsize) || !dst)
        return tersa__fail(TERSA_ERR_PARAM, "compress: NULL context or buffer");
    if (srcsize > (size_t)TERSA_MAX_BUFFERSIZE)
        return tersa__fail(TERSA_ERR_TOO_LARGE, "compress: %zu bytes exceed the chunk limit %d",
                           srcsize, TERSA_MAX_BUFFERSIZE);
    if (dstcap < 32)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL, "compress: destination of %zu bytes cannot "
                           "hold a 32-byte header", dstcap);
    cjob jb;
    TERSA_TRY(cjob_setup(x, src, (int32_t)srcsize, &jb));
    return compress_chunk(&jb, dst, dstcap);
}

static int setup_plugins(tersa_cctx *x, cjob *jb)
{
    const tersa__ctx *c = &x->c;
    for (int i = 0; i < TERSA_MAX_FILTERS; i++) {
        jb->fplugins[i] = NULL;
        if (jb->filters[i] < TERSA_FILTER_USER_FIRST) continue;
        jb->fplugins[i] = tersa__registry_filter(c->registry, jb->filters[i]);
        if (!jb->fplugins[i])
            return tersa__fail(TERSA_ERR_UNKNOWN_FILTER, "compress: filter %d (slot %d) is not "
                               "in the context's registry", jb->filters[i], i);
    }
    jb->builtin = tersa__codec_builtin(jb->codec);
    jb->plugin = NULL;
    if (!jb->builtin) {
        jb->plugin = tersa__registry_codec(c->registry, jb->codec);
        if (!jb->plugin)
            return tersa__fail(TERSA_ERR_UNKNOWN_CODEC, "compress: codec %d is not built in nor "
                               "in the context's registry", jb->codec);
    }
    return 0;
}

static int cjob_setup(tersa_cctx *x, const uint8_t *src, int32_t n, cjob *jb)
{
    const int64_t *p = x->c.params;
    memset(jb, 0, sizeof *jb);
    jb->x = x;
    jb->src = src;
    jb->nbytes = n;
    jb->typesize = (int)p[TERSA_P_TYPESIZE];
    jb->clevel = (int)p[TERSA_P_CLEVEL];
    jb->codec = (int)p[TERSA_P_CODEC];
    jb->codec_meta = (uint8_t)p[TERSA_P_CODEC_META];
    for (int i = 0; i < TERSA_MAX_FILTERS; i++) {
        jb->filters[i] = (uint8_t)p[TERSA_P_FILTER0 + i];
        jb->fmeta[i] = (uint8_t)p[TERSA_P_FILTER_META0 + i];
    }
    jb->bytedelta_ts = p[TERSA_P_FRAME_TYPESIZE] ? (int32_t)p[TERSA_P_FRAME_TYPESIZE] : jb->typesize;
    TERSA_TRY(setup_plugins(x, jb));
    int split_mode = (int)p[TERSA_P_SPLITMODE];
    jb->blocksize = tersa__auto_blocksize(jb->codec, jb->clevel, jb->typesize, n,
                                          (int32_t)p[TERSA_P_BLOCKSIZE], jb->filters, split_mode);
    if (n == 0) jb->blocksize = 0;
    jb->split = n > 0 && tersa__split_rule(split_mode, jb->codec, jb->clevel, jb->typesize,
                                           jb->blocksize, jb->filters);
    /* A split block must hold whole elements (FORMATS 2.7). */
    if (jb->split && jb->typesize > 1 && jb->blocksize % jb->typesize != 0) jb->split = false;
    jb->nblocks = n > 0 ? n / jb->blocksize + (n % jb->blocksize != 0) : 0;
    jb->leftover = n > 0 ? n % jb->blocksize : 0;
    return 0;
}

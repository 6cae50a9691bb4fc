/* Compression and decompression contexts: parameters, pools and per-worker scratch. */
#include <stdatomic.h>

#include "chunk/tersa_chunk_internal.h"

static bool codec_settable(int64_t v)
{
    return (v >= 0 && v <= 2) || v == TERSA_CODEC_ZLIB || v == TERSA_CODEC_ZSTD ||
           (v >= TERSA_CODEC_USER_FIRST && v <= 255);
}

static bool filter_settable(int64_t v)
{
    return (v >= 0 && v <= 4) || v == TERSA_FILTER_BYTEDELTA ||
           (v >= TERSA_FILTER_USER_FIRST && v <= 255);
}

static int check_value(const tersa_param_desc *d, int64_t v)
{
    if (v < d->min || v > d->max)
        return tersa__fail(TERSA_ERR_PARAM, "%s = %lld outside %lld..%lld", d->name, (long long)v,
                           (long long)d->min, (long long)d->max);
    if (d->id == TERSA_P_CODEC && !codec_settable(v))
        return tersa__fail(TERSA_ERR_UNKNOWN_CODEC,
                           "codec = %lld: not a codec (0 blosclz, 1 lz4, 2 lz4hc, 4 zlib, "
                           "5 zstd, 160..255 user)",
                           (long long)v);
    if (d->id >= TERSA_P_FILTER0 && d->id <= TERSA_P_FILTER5 && !filter_settable(v))
        return tersa__fail(TERSA_ERR_UNKNOWN_FILTER,
                           "%s = %lld: not a filter (0 none, 1 shuffle, 2 bitshuffle, 3 delta, "
                           "4 trunc-prec, 35 bytedelta, 160..255 user)",
                           d->name, (long long)v);
    return 0;
}

int tersa__ctx_set(tersa__ctx *c, tersa_param p, int64_t v, int for_cctx)
{
    const tersa_param_desc *d = tersa_param_get(p);
    if (!d) return tersa__fail(TERSA_ERR_PARAM, "unknown parameter id %d", (int)p);
    if (for_cctx ? !d->for_cctx : !d->for_dctx)
        return tersa__fail(TERSA_ERR_PARAM, "parameter %s does not apply to a %s context",
                           d->name, for_cctx ? "compression" : "decompression");
    TERSA_TRY(check_value(d, v));
    c->params[p] = v;
    return 0;
}

int tersa__ctx_init(tersa__ctx *c, int for_cctx)
{
    size_t n;
    const tersa_param_desc *t = tersa_param_table(&n);
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < n; i++) c->params[t[i].id] = t[i].def;
    (void)for_cctx;
    return 0;
}

static void free_workers(tersa__ctx *c)
{
    for (int i = 0; i < c->nworkers; i++) {
        for (int k = 0; k < 3; k++) tersa__free_aligned(c->workers[i].tmp[k]);
        tersa__codec_state_free(&c->workers[i].codec);
    }
    tersa__free(c->workers);
    c->workers = NULL;
    c->nworkers = 0;
}

void tersa__ctx_release(tersa__ctx *c)
{
    free_workers(c);
    tersa_pool_free(c->own_pool);
    tersa__free_aligned(c->ref);
    c->own_pool = NULL;
}

static int ensure_pool(tersa__ctx *c)
{
    int want = (int)c->params[TERSA_P_NTHREADS];
    if (c->pool && c->pool != c->own_pool) return 0; /* shared pool */
    if (want <= 1) {
        c->pool = NULL;
        return 0;
    }
    if (c->own_pool && c->own_pool_threads == want) {
        c->pool = c->own_pool;
        return 0;
    }
    tersa_pool_free(c->own_pool);
    c->own_pool = tersa_pool_create(want);
    c->own_pool_threads = c->own_pool ? want : 0;
    c->pool = c->own_pool;
    return c->own_pool ? 0 : TERSA_ERR_THREAD;
}

static int grow_workers(tersa__ctx *c, int n, int32_t tmp_size)
{
    if (n > c->nworkers) {
        tersa__worker *w = tersa__realloc(c->workers, (size_t)n * sizeof *w);
        if (!w) return tersa__fail(TERSA_ERR_NOMEM, "context: cannot allocate %d workers", n);
        memset(w + c->nworkers, 0, (size_t)(n - c->nworkers) * sizeof *w);
        c->workers = w;
        c->nworkers = n;
    }
    for (int i = 0; i < n; i++) {
        tersa__worker *w = &c->workers[i];
        if (w->tmp_size >= tmp_size) continue;
        for (int k = 0; k < 3; k++) {
            tersa__free_aligned(w->tmp[k]);
            w->tmp[k] = tersa__malloc_aligned((size_t)tmp_size);
            if (!w->tmp[k]) {
                w->tmp_size = 0;
                return tersa__fail(TERSA_ERR_NOMEM, "context: cannot allocate %d scratch bytes",
                                   tmp_size);
            }
        }
        w->tmp_size = tmp_size;
    }
    return 0;
}

int tersa__ctx_prepare(tersa__ctx *c, int32_t tmp_size, int *nworkers)
{
    TERSA_TRY(ensure_pool(c));
    int n = tersa_pool_nthreads(c->pool);
    TERSA_TRY(grow_workers(c, n, tmp_size));
    *nworkers = n;
    return 0;
}

/* ---- public constructors and setters ---- */

tersa_cctx *tersa_cctx_create(void)
{
    tersa_cctx *x = tersa__calloc(1, sizeof *x);
    if (!x) return NULL;
    tersa__ctx_init(&x->c, 1);
    return x;
}

void tersa_cctx_free(tersa_cctx *x)
{
    if (!x) return;
    tersa__ctx_release(&x->c);
    tersa__free(x->blocks_out);
    tersa__free(x->block_csize);
    tersa__free(x->samples);
    tersa__free(x);
}

int tersa_cctx_set(tersa_cctx *x, tersa_param p, int64_t v)
{
    if (!x) return tersa__fail(TERSA_ERR_PARAM, "cctx is NULL");
    return tersa__ctx_set(&x->c, p, v, 1);
}

static int ctx_get(const tersa__ctx *c, tersa_param p, int64_t *v)
{
    if (!tersa_param_get(p) || !v)
        return tersa__fail(TERSA_ERR_PARAM, "unknown parameter id %d", (int)p);
    *v = c->params[p];
    return 0;
}

int tersa_cctx_get(const tersa_cctx *x, tersa_param p, int64_t *v)
{
    if (!x) return tersa__fail(TERSA_ERR_PARAM, "cctx is NULL");
    return ctx_get(&x->c, p, v);
}

int tersa_cctx_set_pool(tersa_cctx *x, tersa_pool *pool)
{
    if (!x) return tersa__fail(TERSA_ERR_PARAM, "cctx is NULL");
    x->c.pool = pool;
    return 0;
}

int tersa_cctx_set_registry(tersa_cctx *x, const tersa_registry *reg)
{
    if (!x) return tersa__fail(TERSA_ERR_PARAM, "cctx is NULL");
    x->c.registry = reg;
    return 0;
}

tersa_dctx *tersa_dctx_create(void)
{
    tersa_dctx *x = tersa__calloc(1, sizeof *x);
    if (!x) return NULL;
    tersa__ctx_init(&x->c, 0);
    return x;
}

void tersa_dctx_free(tersa_dctx *x)
{
    if (!x) return;
    tersa__ctx_release(&x->c);
    tersa__free(x->tasks);
    tersa__free(x->vl_off);
    tersa__free(x->vl_len);
    tersa__free(x->vl_end);
    tersa__free(x);
}

int tersa_dctx_set(tersa_dctx *x, tersa_param p, int64_t v)
{
    if (!x) return tersa__fail(TERSA_ERR_PARAM, "dctx is NULL");
    return tersa__ctx_set(&x->c, p, v, 0);
}

int tersa_dctx_get(const tersa_dctx *x, tersa_param p, int64_t *v)
{
    if (!x) return tersa__fail(TERSA_ERR_PARAM, "dctx is NULL");
    return ctx_get(&x->c, p, v);
}

int tersa_dctx_set_pool(tersa_dctx *x, tersa_pool *pool)
{
    if (!x) return tersa__fail(TERSA_ERR_PARAM, "dctx is NULL");
    x->c.pool = pool;
    return 0;
}

int tersa_dctx_set_registry(tersa_dctx *x, const tersa_registry *reg)
{
    if (!x) return tersa__fail(TERSA_ERR_PARAM, "dctx is NULL");
    x->c.registry = reg;
    return 0;
}

void tersa_dctx_stats(const tersa_dctx *x, tersa_dstats *s)
{
    if (!x || !s) return;
    s->blocks_decoded = atomic_load(&((tersa_dctx *)x)->blocks_decoded);
    s->streams_decoded = atomic_load(&((tersa_dctx *)x)->streams_decoded);
    s->bytes_read = atomic_load(&((tersa_dctx *)x)->bytes_read);
}

void tersa_dctx_reset_stats(tersa_dctx *x)
{
    if (!x) return;
    atomic_store(&x->blocks_decoded, 0);
    atomic_store(&x->streams_decoded, 0);
    atomic_store(&x->bytes_read, 0);
}

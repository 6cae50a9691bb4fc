/* The b2nd metalayer (FORMATS.md §4.1) and the array geometry derived from it (§4.2). */
#include <inttypes.h>

#include "ndarray/tersa_nd_internal.h"

/* ---- Geometry ----------------------------------------------------------------------- */

void tersa__nd_strides(int ndim, const int64_t *extent, int64_t *strides)
{
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= extent[i];
    }
}

void tersa__nd_unravel(int ndim, const int64_t *grid, int64_t n, int64_t *cc)
{
    for (int i = ndim - 1; i >= 0; i--) {
        cc[i] = n % grid[i];
        n /= grid[i];
    }
}

int64_t tersa__nd_ravel(int ndim, const int64_t *grid, const int64_t *cc)
{
    int64_t n = 0;
    for (int i = 0; i < ndim; i++)
        n = n * grid[i] + cc[i];
    return n;
}

void tersa__nd_chunk_box(const tersa__nd_geom *g, const int64_t *cc, int64_t *start, int64_t *stop)
{
    for (int i = 0; i < g->ndim; i++) {
        start[i] = cc[i] * g->cs[i];
        stop[i] = start[i] + g->cs[i] < g->shape[i] ? start[i] + g->cs[i] : g->shape[i];
    }
}

/* Check one axis and store its chunk and block lengths (placeholders of 0 become 1). */
static int geom_axis(tersa__nd_geom *g, int i, int64_t shape, int64_t cs, int64_t bs, bool strict)
{
    if (shape < 0)
        return tersa__fail(TERSA_ERR_PARAM, "b2nd: shape[%d] = %" PRId64 " is negative", i, shape);
    if (cs < 0 || bs < 0)
        return tersa__fail(TERSA_ERR_PARAM,
                           "b2nd: chunkshape[%d] = %" PRId64 " or blockshape[%d]"
                           " = %" PRId64 " is negative",
                           i, cs, i, bs);
    if (cs == 0 || bs == 0) {
        /* C-Blosc2 writes chunkshape = blockshape = 0 for an axis of length 0. */
        if (strict || shape != 0 || (bs == 0 && cs != 0))
            return tersa__fail(TERSA_ERR_PARAM,
                               "b2nd: chunkshape[%d] = %" PRId64 " and blockshape"
                               "[%d] = %" PRId64 " must be >= 1",
                               i, cs, i, bs);
        cs = bs = 1;
    }
    if (strict && bs > cs)
        return tersa__fail(TERSA_ERR_PARAM,
                           "b2nd: blockshape[%d] = %" PRId64 " exceeds "
                           "chunkshape[%d] = %" PRId64,
                           i, bs, i, cs);
    g->shape[i] = shape;
    g->cs[i] = cs;
    g->bs[i] = bs;
    g->ext[i] = (cs + bs - 1) / bs * bs; /* both < 2^31: no overflow */
    g->cgrid[i] = shape / cs + (shape % cs != 0);
    g->bgrid[i] = g->ext[i] / bs;
    return 0;
}

/* Multiply the running products by axis i; fail on overflow. */
static int geom_products(tersa__nd_geom *g, int i)
{
    if (!tersa__mul_i64(g->nitems, g->shape[i], &g->nitems) ||
        !tersa__mul_i64(g->nchunks, g->cgrid[i], &g->nchunks) ||
        !tersa__mul_i64(g->chunk_items, g->ext[i], &g->chunk_items) ||
        !tersa__mul_i64(g->block_items, g->bs[i], &g->block_items) ||
        !tersa__mul_i64(g->nblocks, g->bgrid[i], &g->nblocks) || g->chunk_items > INT32_MAX ||
        g->nchunks > INT64_MAX / 8)
        return tersa__fail(TERSA_ERR_TOO_LARGE,
                           "b2nd: the shape, chunkshape or blockshape "
                           "product overflows at axis %d",
                           i);
    return 0;
}

int tersa__nd_geom_init(tersa__nd_geom *g, int ndim, const int64_t *shape, const int32_t *cs,
                        const int32_t *bs, int64_t itemsize, bool strict)
{
    memset(g, 0, sizeof *g);
    int maxd = strict ? TERSA_ND_MAX_DIM_WRITE : TERSA_ND_MAX_DIM;
    if (ndim < 0 || ndim > maxd)
        return tersa__fail(TERSA_ERR_PARAM, "b2nd: ndim %d outside 0..%d", ndim, maxd);
    if (itemsize < 1 || itemsize > INT32_MAX)
        return tersa__fail(TERSA_ERR_PARAM, "b2nd: itemsize %" PRId64 " outside 1..2^31-1",
                           itemsize);
    g->ndim = ndim;
    g->itemsize = (int32_t)itemsize;
    g->nitems = g->nchunks = g->chunk_items = g->block_items = g->nblocks = 1;
    for (int i = 0; i < ndim; i++) {
        TERSA_TRY(geom_axis(g, i, shape[i], cs[i], bs[i], strict));
        TERSA_TRY(geom_products(g, i));
    }
    int64_t total;
    if (!tersa__mul_i64(g->chunk_items, itemsize, &g->chunk_nbytes) ||
        g->chunk_nbytes > ND_MAX_CHUNK_NBYTES || !tersa__mul_i64(g->nitems, itemsize, &total))
        return tersa__fail(TERSA_ERR_TOO_LARGE,
                           "b2nd: a padded chunk of %" PRId64 " items of %" PRId64
                           " bytes exceeds the chunk limit of %" PRId64 " bytes",
                           g->chunk_items, itemsize, ND_MAX_CHUNK_NBYTES);
    g->block_nbytes = g->block_items * itemsize;
    if (strict && g->block_nbytes > TERSA_MAX_BLOCKSIZE)
        return tersa__fail(TERSA_ERR_TOO_LARGE, "b2nd: a block of %" PRId64 " bytes exceeds %d",
                           g->block_nbytes, TERSA_MAX_BLOCKSIZE);
    if (g->nitems == 0)
        g->nchunks = 0;
    return 0;
}

/* ---- Parsing ------------------------------------------------------------------------ */

typedef struct mcur {
    const uint8_t *base;
    size_t len, pos;
} mcur;

static int need(const mcur *c, size_t n, const char *what)
{
    if (c->len - c->pos < n)
        return tersa__fail(TERSA_ERR_TRUNCATED,
                           "b2nd metalayer: %s at offset %zu needs %zu "
                           "bytes, %zu left",
                           what, c->pos, n, c->len - c->pos);
    return 0;
}

/* A positive fixint (0..127). */
static int read_fixint(mcur *c, int *v, const char *what)
{
    TERSA_TRY(need(c, 1, what));
    uint8_t b = c->base[c->pos];
    if (b > 0x7f)
        return tersa__fail(TERSA_ERR_CORRUPT,
                           "b2nd metalayer: %s at offset %zu: marker 0x%02x "
                           "is not a positive fixint",
                           what, c->pos, b);
    c->pos++;
    *v = b;
    return 0;
}

static int read_marker(mcur *c, uint8_t want, const char *what)
{
    TERSA_TRY(need(c, 1, what));
    uint8_t b = c->base[c->pos];
    if (b != want)
        return tersa__fail(TERSA_ERR_CORRUPT,
                           "b2nd metalayer: %s at offset %zu: marker 0x%02x, "
                           "expected 0x%02x",
                           what, c->pos, b, want);
    c->pos++;
    return 0;
}

/* nd fixed-width big-endian integers (width 4 or 8), each behind its marker. */
static int read_ints(mcur *c, int nd, int width, int64_t *out, const char *what)
{
    TERSA_TRY(read_marker(c, (uint8_t)(0x90 + nd), what));
    for (int i = 0; i < nd; i++) {
        TERSA_TRY(read_marker(c, width == 8 ? 0xd3 : 0xd2, what));
        TERSA_TRY(need(c, (size_t)width, what));
        const uint8_t *p = c->base + c->pos;
        out[i] = width == 8 ? (int64_t)tersa__ld64be(p) : (int64_t)(int32_t)tersa__ld32be(p);
        c->pos += (size_t)width;
    }
    return 0;
}

static int read_head(mcur *c, tersa_nd_meta *m)
{
    TERSA_TRY(need(c, 1, "array marker"));
    uint8_t b = c->base[c->pos];
    if (b < 0x95 || b > 0x9f)
        return tersa__fail(TERSA_ERR_CORRUPT,
                           "b2nd metalayer: first byte 0x%02x is not a "
                           "fixarray of 5..15 entries",
                           b);
    c->pos++;
    TERSA_TRY(read_fixint(c, &m->version, "version"));
    TERSA_TRY(read_fixint(c, &m->ndim, "ndim"));
    if (m->ndim > TERSA_ND_MAX_DIM)
        return tersa__fail(TERSA_ERR_UNSUPPORTED, "b2nd metalayer: ndim %d exceeds %d", m->ndim,
                           TERSA_ND_MAX_DIM);
    return 0;
}

static int read_shapes(mcur *c, tersa_nd_meta *m)
{
    int64_t v[3][ND_MAXD];
    TERSA_TRY(read_ints(c, m->ndim, 8, v[0], "shape"));
    TERSA_TRY(read_ints(c, m->ndim, 4, v[1], "chunkshape"));
    TERSA_TRY(read_ints(c, m->ndim, 4, v[2], "blockshape"));
    for (int i = 0; i < m->ndim; i++) {
        m->shape[i] = v[0][i];
        m->chunkshape[i] = (int32_t)v[1][i];
        m->blockshape[i] = (int32_t)v[2][i];
    }
    return 0;
}

static int read_dtype(mcur *c, tersa_nd_meta *m)
{
    m->has_dtype = 0;
    m->dtype = NULL;
    m->dtype_len = 0;
    m->dtype_format = 0;
    if (c->pos == c->len)
        return 0; /* old caterva layout: no dtype */
    TERSA_TRY(read_fixint(c, &m->dtype_format, "dtype_format"));
    TERSA_TRY(read_marker(c, 0xdb, "dtype string"));
    TERSA_TRY(need(c, 4, "dtype length"));
    uint32_t n = tersa__ld32be(c->base + c->pos);
    c->pos += 4;
    if (n > INT32_MAX)
        return tersa__fail(TERSA_ERR_CORRUPT, "b2nd metalayer: dtype length %u is negative", n);
    TERSA_TRY(need(c, n, "dtype"));
    m->dtype = (const char *)c->base + c->pos;
    m->dtype_len = n;
    m->has_dtype = 1;
    c->pos += n;
    return 0;
}

int64_t tersa_nd_meta_parse(const void *buf, size_t len, tersa_nd_meta *meta)
{
    if (!buf || !meta || meta->struct_size < sizeof *meta)
        return tersa__fail(TERSA_ERR_PARAM,
                           "nd_meta_parse: NULL argument or struct_size too small");
    mcur c = {(const uint8_t *)buf, len, 0};
    tersa_nd_meta m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    TERSA_TRY(read_head(&c, &m));
    TERSA_TRY(read_shapes(&c, &m));
    TERSA_TRY(read_dtype(&c, &m));
    tersa__nd_geom g;
    int rc = tersa__nd_geom_init(&g, m.ndim, m.shape, m.chunkshape, m.blockshape, 1, false);
    if (rc < 0)
        return tersa__fail_prefix(TERSA_ERR_CORRUPT, "b2nd metalayer");
    *meta = m;
    return (int64_t)c.pos;
}

/* ---- Serialising -------------------------------------------------------------------- */

static uint8_t *put_ints(uint8_t *p, int nd, int width, const int64_t *v64, const int32_t *v32)
{
    *p++ = (uint8_t)(0x90 + nd);
    for (int i = 0; i < nd; i++) {
        *p++ = width == 8 ? 0xd3 : 0xd2;
        if (width == 8)
            tersa__st64be(p, (uint64_t)v64[i]);
        else
            tersa__st32be(p, (uint32_t)v32[i]);
        p += width;
    }
    return p;
}

int64_t tersa_nd_meta_serialize(const tersa_nd_meta *m, void *dst, size_t dstcap)
{
    if (!m || m->struct_size < sizeof *m)
        return tersa__fail(TERSA_ERR_PARAM,
                           "nd_meta_serialize: NULL meta or struct_size too small");
    if (m->ndim < 0 || m->ndim > TERSA_ND_MAX_DIM_WRITE || m->version < 0 || m->version > 127 ||
        m->dtype_format < 0 || m->dtype_format > 127)
        return tersa__fail(TERSA_ERR_PARAM,
                           "nd_meta_serialize: ndim %d (0..%d), version %d or "
                           "dtype_format %d (0..127) out of range",
                           m->ndim, TERSA_ND_MAX_DIM_WRITE, m->version, m->dtype_format);
    const char *dt = m->dtype ? m->dtype : "|u1";
    size_t dl = m->dtype ? m->dtype_len : 3;
    if (dl > (size_t)INT32_MAX - 512)
        return tersa__fail(TERSA_ERR_TOO_LARGE, "nd_meta_serialize: dtype of %zu bytes", dl);
    size_t n = 12 + 19 * (size_t)m->ndim + dl;
    if (!dst)
        return (int64_t)n;
    if (dstcap < n)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL,
                           "nd_meta_serialize: needs %zu bytes, buffer "
                           "has %zu",
                           n, dstcap);
    uint8_t *p = dst;
    *p++ = 0x97;
    *p++ = (uint8_t)m->version;
    *p++ = (uint8_t)m->ndim;
    p = put_ints(p, m->ndim, 8, m->shape, NULL);
    p = put_ints(p, m->ndim, 4, NULL, m->chunkshape);
    p = put_ints(p, m->ndim, 4, NULL, m->blockshape);
    *p++ = (uint8_t)m->dtype_format;
    *p++ = 0xdb;
    tersa__st32be(p, (uint32_t)dl);
    p += 4;
    if (dl)
        memcpy(p, dt, dl);
    return (int64_t)n;
}

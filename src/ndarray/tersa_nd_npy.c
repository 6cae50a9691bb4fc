/* NumPy .npy import and export, streamed: export reads the array in C-order pieces of at most
 * ND_NPY_PIECE bytes; import appends one chunk row (chunkshape[0] slab) at a time. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ndarray/tersa_nd_internal.h"

#define ND_NPY_PIECE ((int64_t)32 << 20)
#define ND_NPY_MAX_HEADER (1 << 20)
static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* ---- dtype strings ------------------------------------------------------------------ */

/* Item size of a simple NumPy type string ("<f8", "|S6", "<U10", "<M8[ns]", "|b1"); 0 when
 * not understood. */
static int64_t dtype_itemsize(const char *d, size_t n)
{
    size_t i = 0;
    if (i < n && strchr("<>|=", d[i]))
        i++;
    if (i >= n)
        return 0;
    char kind = d[i++];
    if (!strchr("biufcSUVamM?", kind))
        return 0;
    int64_t v = 0;
    size_t digits = 0;
    for (; i < n && d[i] >= '0' && d[i] <= '9' && v < INT32_MAX; i++, digits++)
        v = v * 10 + (d[i] - '0');
    if (i < n && d[i] == '[') {
        while (i < n && d[i] != ']')
            i++;
        i++;
    }
    if (i != n || v > INT32_MAX || (!digits && kind != '?'))
        return 0;
    if (kind == '?')
        return digits ? v : 1;
    return kind == 'U' ? v * 4 : v;
}

/* True when d can be written inside single quotes. */
static bool quotable(const char *d)
{
    for (; *d; d++)
        if (*d < 0x20 || *d > 0x7e || *d == '\'' || *d == '\\')
            return false;
    return true;
}

/* ---- Export ------------------------------------------------------------------------- */

/* The header dict, padded with spaces and ended by '\n' so that the data starts at a multiple
 * of 64 (format 1.0 preamble of 10 bytes, or 2.0 with 12 when the header exceeds 65535). */
static int npy_header(const tersa_array *a, char **out, size_t *len, size_t *prelen)
{
    char shape[ND_MAXD * 24 + 8], descr[64];
    const char *d = a->dtype_buf;
    size_t pos = (size_t)snprintf(shape, sizeof shape, "(");
    for (int i = 0; i < a->g.ndim; i++)
        pos += (size_t)snprintf(shape + pos, sizeof shape - pos, "%s%" PRId64, i ? ", " : "",
                                a->g.shape[i]);
    snprintf(shape + pos, sizeof shape - pos, a->g.ndim == 1 ? ",)" : ")");
    bool bare = false;
    if (!d || !*d) {
        snprintf(descr, sizeof descr, "'|V%" PRId32 "'", a->g.itemsize);
        d = descr;
        bare = true;
    } else if (d[0] == '[') {
        bare = true; /* a structured dtype as python-blosc2 writes it: a list literal */
    } else if (!quotable(d)) {
        return tersa__fail(TERSA_ERR_UNSUPPORTED, "save_npy: dtype '%s' cannot be written", d);
    }
    size_t cap = strlen(d) + sizeof shape + 128;
    char *h = tersa__malloc(cap + 64);
    if (!h)
        return tersa__fail(TERSA_ERR_NOMEM, "save_npy: no memory for the header");
    int n = snprintf(h, cap, "{'descr': %s%s%s, 'fortran_order': False, 'shape': %s, }",
                     bare ? "" : "'", d, bare ? "" : "'", shape);
    size_t pre = 10, total = (pre + (size_t)n + 1 + 63) / 64 * 64;
    if (total - pre > 65535) {
        pre = 12;
        total = (pre + (size_t)n + 1 + 63) / 64 * 64;
    }
    memset(h + n, ' ', total - pre - (size_t)n);
    h[total - pre - 1] = '\n';
    *out = h;
    *len = total - pre;
    *prelen = pre;
    return 0;
}

static int write_all(FILE *f, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, f) != n)
        return tersa__fail(TERSA_ERR_IO, "save_npy: write of %zu bytes failed", n);
    return 0;
}

static int write_preamble(FILE *f, const char *h, size_t hl, size_t prelen)
{
    uint8_t pre[12];
    memcpy(pre, npy_magic, 6);
    pre[6] = prelen == 12 ? 2 : 1;
    pre[7] = 0;
    if (prelen == 12)
        tersa__st32(pre + 8, (uint32_t)hl);
    else
        tersa__st16(pre + 8, (uint16_t)hl);
    TERSA_TRY(write_all(f, pre, prelen));
    return write_all(f, h, hl);
}

/* Read and write pieces along axis d (axes after d whole); one index at a time before d. */
static int write_pieces(tersa_array *a, FILE *f, int d, int64_t run, uint8_t *buf, size_t cap)
{
    const tersa__nd_geom *g = &a->g;
    int64_t lo[ND_MAXD] = {0}, hi[ND_MAXD], idx[ND_MAXD] = {0}, start[ND_MAXD], stop[ND_MAXD];
    for (int i = 0; i < d; i++)
        hi[i] = g->shape[i] - 1;
    int rc = 0;
    do {
        for (int i = 0; i < g->ndim; i++) {
            start[i] = i < d ? idx[i] : 0;
            stop[i] = i < d ? idx[i] + 1 : g->shape[i];
        }
        for (int64_t t = 0; rc >= 0 && t < g->shape[d]; t += run) {
            start[d] = t;
            stop[d] = t + run < g->shape[d] ? t + run : g->shape[d];
            int64_t got = tersa_array_get_slice(a, start, stop, NULL, buf, cap);
            rc = got < 0 ? (int)got : write_all(f, buf, (size_t)got);
        }
    } while (rc >= 0 && tersa__nd_next_index(d, lo, hi, idx));
    return rc;
}

/* Stream the data in C order, in pieces of at most ND_NPY_PIECE bytes where possible. */
static int write_data(tersa_array *a, FILE *f)
{
    const tersa__nd_geom *g = &a->g;
    int d = g->ndim - 1;
    int64_t inner = g->itemsize;
    if (g->nitems == 0)
        return 0;
    while (d >= 0 && inner * g->shape[d] <= ND_NPY_PIECE)
        inner *= g->shape[d--];
    int64_t run = d >= 0 ? ND_NPY_PIECE / inner : 1;
    if (run < 1)
        run = 1;
    if (d >= 0 && run > g->shape[d])
        run = g->shape[d];
    size_t cap = (size_t)(run * inner);
    uint8_t *buf = tersa__malloc(cap);
    if (!buf)
        return tersa__fail(TERSA_ERR_NOMEM, "save_npy: no memory for %zu bytes", cap);
    int rc;
    if (d < 0) {
        int64_t got = tersa_array_get_slice(a, NULL, NULL, NULL, buf, cap);
        rc = got < 0 ? (int)got : write_all(f, buf, (size_t)got);
    } else {
        rc = write_pieces(a, f, d, run, buf, cap);
    }
    tersa__free(buf);
    return rc;
}

int tersa_array_save_npy(tersa_array *a, const char *path)
{
    if (!a || !path)
        return tersa__fail(TERSA_ERR_PARAM, "save_npy: NULL argument");
    char *h = NULL;
    size_t hl = 0, prelen = 10;
    TERSA_TRY(npy_header(a, &h, &hl, &prelen));
    FILE *f = fopen(path, "wb");
    if (!f) {
        tersa__free(h);
        return tersa__fail(TERSA_ERR_IO, "save_npy: cannot create '%s'", path);
    }
    int rc = write_preamble(f, h, hl, prelen);
    tersa__free(h);
    if (rc >= 0)
        rc = write_data(a, f);
    if (fclose(f) != 0 && rc >= 0)
        rc = tersa__fail(TERSA_ERR_IO, "save_npy: closing '%s'", path);
    return rc;
}

/* ---- Header parsing ----------------------------------------------------------------- */

typedef struct npy_hdr {
    char descr[256];
    int fortran, have_descr, have_order, have_shape;
    int ndim;
    int64_t shape[ND_MAXD];
} npy_hdr;

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A quoted string into out (cap bytes). Returns the position after it or NULL. */
static const char *parse_str(const char *p, const char *e, char *out, size_t cap)
{
    if (p >= e || (*p != '\'' && *p != '"'))
        return NULL;
    char q = *p++;
    size_t n = 0;
    for (; p < e && *p != q; p++) {
        if (*p == '\\' || n + 1 >= cap)
            return NULL;
        out[n++] = *p;
    }
    out[n] = '\0';
    return p < e ? p + 1 : NULL;
}

static const char *parse_shape(const char *p, const char *e, npy_hdr *h)
{
    if (p >= e || *p++ != '(')
        return NULL;
    for (h->ndim = 0;;) {
        p = skip_ws(p, e);
        if (p < e && *p == ')')
            return p + 1;
        int64_t v = 0;
        const char *d0 = p;
        for (; p < e && *p >= '0' && *p <= '9'; p++) {
            if (v > (INT64_MAX - 9) / 10)
                return NULL;
            v = v * 10 + (*p - '0');
        }
        if (p == d0 || h->ndim >= TERSA_ND_MAX_DIM_WRITE)
            return NULL;
        h->shape[h->ndim++] = v;
        p = skip_ws(p, e);
        if (p < e && *p == ',')
            p++;
        else if (p >= e || *p != ')')
            return NULL;
    }
}

static const char *parse_value(const char *p, const char *e, const char *key, npy_hdr *h)
{
    if (!strcmp(key, "descr")) {
        h->have_descr = 1;
        return parse_str(p, e, h->descr, sizeof h->descr);
    }
    if (!strcmp(key, "shape")) {
        h->have_shape = 1;
        return parse_shape(p, e, h);
    }
    if (strcmp(key, "fortran_order"))
        return NULL;
    h->have_order = 1;
    if (e - p >= 4 && !memcmp(p, "True", 4)) {
        h->fortran = 1;
        return p + 4;
    }
    return e - p >= 5 && !memcmp(p, "False", 5) ? p + 5 : NULL;
}

static int parse_header(const char *p, size_t len, npy_hdr *h)
{
    const char *e = p + len;
    char key[32];
    memset(h, 0, sizeof *h);
    p = skip_ws(p, e);
    if (p >= e || *p++ != '{')
        goto bad;
    for (;;) {
        p = skip_ws(p, e);
        if (p < e && *p == '}')
            break;
        if (!(p = parse_str(p, e, key, sizeof key)))
            goto bad;
        p = skip_ws(p, e);
        if (p >= e || *p++ != ':')
            goto bad;
        if (!(p = parse_value(skip_ws(p, e), e, key, h)))
            goto bad;
        p = skip_ws(p, e);
        if (p < e && *p == ',')
            p++;
        else if (p >= e || *p != '}')
            goto bad;
    }
    if (h->have_descr && h->have_order && h->have_shape)
        return 0;
bad:
    return tersa__fail(TERSA_ERR_UNSUPPORTED,
                       "load_npy: header dict not understood (needs "
                       "'descr' as a type string, 'fortran_order', 'shape')");
}

/* Read magic, version and the header dict. */
static int read_header(FILE *f, npy_hdr *h)
{
    uint8_t pre[12];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, npy_magic, 6))
        return tersa__fail(TERSA_ERR_CORRUPT, "load_npy: not a .npy file (magic)");
    if (pre[6] < 1 || pre[6] > 3)
        return tersa__fail(TERSA_ERR_VERSION, "load_npy: format version %d.%d", pre[6], pre[7]);
    uint32_t hl = tersa__ld16(pre + 8);
    if (pre[6] >= 2) {
        if (fread(pre + 10, 1, 2, f) != 2)
            return tersa__fail(TERSA_ERR_TRUNCATED, "load_npy: header");
        hl = tersa__ld32(pre + 8);
    }
    if (hl > ND_NPY_MAX_HEADER)
        return tersa__fail(TERSA_ERR_UNSUPPORTED, "load_npy: header of %u bytes", hl);
    char *t = tersa__malloc(hl ? hl : 1);
    if (!t)
        return tersa__fail(TERSA_ERR_NOMEM, "load_npy: no memory");
    int rc = fread(t, 1, hl, f) == hl ? parse_header(t, hl, h)
                                      : tersa__fail(TERSA_ERR_TRUNCATED, "load_npy: header");
    tersa__free(t);
    return rc;
}

/* ---- Import ------------------------------------------------------------------------- */

static int read_rows(tersa_array *a, FILE *f)
{
    const tersa__nd_geom *g = &a->g;
    int64_t rows = g->ndim ? g->cgrid[0] : 1, rowitems = g->nitems;
    if (g->nitems == 0)
        return 0;
    if (g->ndim && g->cs[0] < g->shape[0])
        rowitems = g->nitems / g->shape[0] * g->cs[0];
    size_t cap = (size_t)(rowitems * g->itemsize);
    uint8_t *slab = tersa__malloc(cap);
    if (!slab)
        return tersa__fail(TERSA_ERR_NOMEM, "load_npy: no memory for a %zu-byte slab", cap);
    int rc = 0;
    for (int64_t r = 0; rc >= 0 && r < rows; r++) {
        int64_t n0 = g->ndim ? g->cs[0] : 1;
        if (g->ndim && (r + 1) * g->cs[0] > g->shape[0])
            n0 = g->shape[0] - r * g->cs[0];
        size_t want = (size_t)(n0 * (g->ndim ? g->nitems / g->shape[0] : 1) * g->itemsize);
        rc = fread(slab, 1, want, f) == want
                 ? tersa__nd_append_rows(a, r, r + 1, slab)
                 : tersa__fail(TERSA_ERR_TRUNCATED, "load_npy: data ends early");
    }
    tersa__free(slab);
    return rc;
}

static tersa_array *load(FILE *f, const tersa_nd_params *params)
{
    npy_hdr h;
    if (read_header(f, &h) < 0)
        return NULL;
    int64_t isz = dtype_itemsize(h.descr, strlen(h.descr));
    if (h.fortran || isz < 1) {
        tersa__fail(TERSA_ERR_UNSUPPORTED, "load_npy: %s",
                    h.fortran ? "Fortran order" : "dtype not a simple type string");
        return NULL;
    }
    tersa_nd_params p = *params;
    p.ndim = h.ndim;
    p.shape = h.shape;
    p.itemsize = (int32_t)isz;
    p.dtype = h.descr;
    if (params->ndim != h.ndim)
        p.chunkshape = p.blockshape = NULL;
    tersa__nd_geom g;
    uint8_t *meta = NULL;
    size_t mlen = 0;
    tersa_schunk *sc =
        tersa__nd_plan(&p, &g, &meta, &mlen) < 0 ? NULL : tersa__nd_new_schunk(&p, &g, meta, mlen);
    tersa__free(meta);
    tersa_array *a = sc ? tersa__nd_wrap(sc, true, true) : NULL;
    return a ? tersa__nd_finish(a, read_rows(a, f)) : NULL;
}

tersa_array *tersa_array_load_npy(const char *path, const tersa_nd_params *params)
{
    if (!path || !params || params->struct_size < sizeof *params) {
        tersa__fail(TERSA_ERR_PARAM, "load_npy: NULL argument or struct_size too small");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        tersa__fail(TERSA_ERR_IO, "load_npy: cannot open '%s'", path);
        return NULL;
    }
    tersa_array *a = load(f, params);
    fclose(f);
    return a;
}

/* Text output of `tersa cat`: a selection printed the way NumPy prints arrays. Nested
 * brackets, one common width per array, blank lines between planes, lines wrapped at 75
 * columns, and above 1000 items only the first and last 3 entries of each long axis with
 * "..." between them (only those entries are read). Floats follow NumPy's default: at most 8
 * fractional digits, the shortest that shows the value, decimals aligned, scientific notation
 * when the magnitudes call for it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

#define TCLI_EDGE 3
#define TCLI_THRESHOLD 1000
#define TCLI_LINEWIDTH 75

typedef struct tcli_dt {
    char order, kind;
    int size;
} tcli_dt;

/* The grid actually printed: per axis n entries, "..." before entry gap (or -1). */
typedef struct tcli_grid {
    int ndim;
    int64_t n[TCLI_MAXDIM], gap[TCLI_MAXDIM];
    char **str; /* formatted entries, C order */
    int width;  /* common width */
    int64_t nitems;
} tcli_grid;

typedef struct tcli_out {
    FILE *f;
    int col;
} tcli_out;

/* ---- dtypes ---------------------------------------------------------------------------- */

/* The dtype to print with: d when its item size matches, else (d NULL, or a dtype whose size
 * does not match the data, as C-Blosc2's "|u1" default can be) unsigned integers of item
 * sizes 1/2/4/8 and raw bytes otherwise. Returns -1 when d does not match. */
static int tcli_dt_parse(const char *d, int32_t itemsize, tcli_dt *dt)
{
    dt->order = '<';
    dt->kind = 'V';
    dt->size = itemsize;
    if (!d || tcli_dtype_itemsize(d) != itemsize) {
        if (itemsize == 1 || itemsize == 2 || itemsize == 4 || itemsize == 8)
            dt->kind = 'u';
        return d ? -1 : 0;
    }
    if (strchr("<>|=", *d))
        dt->order = *d++;
    if (dt->order == '=' || dt->order == '|')
        dt->order = '<';
    dt->kind = *d == '?' ? 'b' : *d;
    int ok = (strchr("iu", dt->kind) &&
              (itemsize == 1 || itemsize == 2 || itemsize == 4 || itemsize == 8)) ||
             (dt->kind == 'f' && (itemsize == 2 || itemsize == 4 || itemsize == 8)) ||
             (dt->kind == 'c' && (itemsize == 8 || itemsize == 16)) ||
             (dt->kind == 'b' && itemsize == 1) || strchr("SU", dt->kind) ||
             (strchr("mM", dt->kind) && itemsize == 8);
    if (!ok)
        dt->kind = 'V';
    return 0;
}

/* Load an unsigned integer of n bytes in the dtype's byte order. */
static uint64_t tcli_load(const uint8_t *p, int n, char order)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[order == '>' ? n - 1 - i : i] << (8 * i);
    return v;
}

static double tcli_half(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return h & 0x8000 ? -v : v;
}

static double tcli_float(const uint8_t *p, int size, char order)
{
    uint64_t bits = tcli_load(p, size, order);
    if (size == 2)
        return tcli_half((uint16_t)bits);
    if (size == 4) {
        uint32_t b = (uint32_t)bits;
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

/* ---- formatting one entry -------------------------------------------------------------- */

static char *tcli_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* b'...' of n bytes with trailing NULs dropped (also used for void items, kept whole). */
static char *tcli_bytes_repr(const uint8_t *p, int n, int strip)
{
    while (strip && n > 0 && p[n - 1] == 0)
        n--;
    char *s = malloc((size_t)n * 4 + 4), *w = s;
    if (!s)
        return NULL;
    *w++ = 'b', *w++ = '\'';
    for (int i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'' && p[i] != '\\')
            *w++ = (char)p[i];
        else
            w += sprintf(w, "\\x%02x", p[i]);
    }
    *w++ = '\'', *w = '\0';
    return s;
}

/* 'text' of a UCS-4 string, as UTF-8 (non-printable code points escaped). */
static char *tcli_ucs4_repr(const uint8_t *p, int n, char order)
{
    int len = n / 4;
    while (len > 0 && tcli_load(p + 4 * (len - 1), 4, order) == 0)
        len--;
    char *s = malloc((size_t)len * 10 + 3), *w = s;
    if (!s)
        return NULL;
    *w++ = '\'';
    for (int i = 0; i < len; i++) {
        uint32_t c = (uint32_t)tcli_load(p + 4 * i, 4, order);
        if (c >= 0x20 && c < 0x7f && c != '\'')
            *w++ = (char)c;
        else if (c >= 0xa0 && c < 0x800)
            *w++ = (char)(0xc0 | c >> 6), *w++ = (char)(0x80 | (c & 63));
        else if (c >= 0x800 && c < 0x10000 && (c < 0xd800 || c > 0xdfff))
            *w++ = (char)(0xe0 | c >> 12), *w++ = (char)(0x80 | ((c >> 6) & 63)),
            *w++ = (char)(0x80 | (c & 63));
        else
            w += sprintf(w, "\\U%08x", c);
    }
    *w++ = '\'', *w = '\0';
    return s;
}

static char *tcli_int_repr(const uint8_t *p, const tcli_dt *dt)
{
    char t[32];
    uint64_t v = tcli_load(p, dt->size, dt->order);
    if (dt->kind == 'b')
        return tcli_dup(v ? "True" : "False");
    if (dt->kind == 'u') {
        snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    } else {
        int shift = 64 - 8 * dt->size;
        int64_t sv = shift ? (int64_t)(v << shift) >> shift : (int64_t)v;
        snprintf(t, sizeof t, "%lld", (long long)sv);
    }
    return tcli_dup(t);
}

/* ---- floats ---------------------------------------------------------------------------- */

typedef struct tcli_fstyle {
    int sci;  /* scientific notation */
    int frac; /* fractional digits shown (fixed) or mantissa digits (sci) */
    int size; /* 2, 4 or 8: the precision values must round-trip in */
} tcli_fstyle;

/* 1 when text parses back to v in the item's precision. */
static int tcli_roundtrips(const char *text, double v, int size)
{
    double x = strtod(text, NULL);
    return size == 8 ? x == v : (float)x == (float)v;
}

/* Fractional digits NumPy shows for v: the fewest (<= 8) that give v back, else the digits
 * of the value rounded to 8, trailing zeros dropped. */
static int tcli_frac_digits(double v, int sci, int size)
{
    char t[400];
    for (int p = 0; p <= 8; p++) {
        snprintf(t, sizeof t, sci ? "%.*e" : "%.*f", p, v);
        if (tcli_roundtrips(t, v, size))
            return p;
    }
    char *dot = strchr(t, '.'), *end = sci ? strchr(t, 'e') : t + strlen(t);
    if (!dot || !end)
        return 0;
    while (end > dot + 1 && end[-1] == '0')
        end--;
    return (int)(end - dot - 1);
}

static void tcli_fstyle_add(tcli_fstyle *st, double v)
{
    if (isfinite(v)) {
        int d = tcli_frac_digits(v, st->sci, st->size);
        if (d > st->frac)
            st->frac = d;
    }
}

/* Scientific notation when the finite non-zero magnitudes span 1e-4 .. 1e8 or a ratio > 1e3. */
static int tcli_want_sci(const double *v, int64_t n)
{
    double lo = INFINITY, hi = 0;
    for (int64_t i = 0; i < n; i++) {
        double a = fabs(v[i]);
        if (!isfinite(a) || a == 0)
            continue;
        lo = a < lo ? a : lo;
        hi = a > hi ? a : hi;
    }
    return hi >= 1e8 || (hi > 0 && (lo < 1e-4 || hi / lo > 1e3));
}

static char *tcli_float_repr(double v, const tcli_fstyle *st)
{
    char t[400];
    if (isnan(v))
        return tcli_dup("nan");
    if (isinf(v))
        return tcli_dup(v < 0 ? "-inf" : "inf");
    if (st->sci) {
        snprintf(t, sizeof t, "%.*e", st->frac, v);
        if (st->frac == 0) { /* "1e+10" -> "1.e+10" */
            char *e = strchr(t, 'e');
            memmove(e + 1, e, strlen(e) + 1);
            *e = '.';
        }
        return tcli_dup(t);
    }
    int d = tcli_frac_digits(v, 0, st->size);
    snprintf(t, sizeof t, "%.*f", d, v);
    size_t n = strlen(t);
    if (d == 0)
        t[n++] = '.';
    for (; d < st->frac; d++)
        t[n++] = ' '; /* decimals aligned: pad after the digits */
    t[n] = '\0';
    return tcli_dup(t);
}

/* ---- the grid -------------------------------------------------------------------------- */

/* Per axis: all entries, or 2 x TCLI_EDGE with a gap when summarising. */
static void tcli_grid_plan(tcli_grid *g, const tcli_sel *sel, int summarise)
{
    g->ndim = sel->ndim;
    g->nitems = 1;
    for (int i = 0; i < sel->ndim; i++) {
        int cut = summarise && sel->count[i] > 2 * TCLI_EDGE;
        g->n[i] = cut ? 2 * TCLI_EDGE : sel->count[i];
        g->gap[i] = cut ? TCLI_EDGE : -1;
        g->nitems *= g->n[i];
    }
}

/* Read the grid's items: 2^k hyperslabs for k cut axes, each scattered into place. */
static int tcli_grid_read(tcli_src *s, const tcli_sel *sel, const tcli_grid *g, uint8_t *dst)
{
    int cut[TCLI_MAXDIM], k = 0, is = s->itemsize;
    for (int i = 0; i < g->ndim; i++)
        if (g->gap[i] >= 0)
            cut[k++] = i;
    if (k == 0)
        return tcli_src_read(s, sel->start, sel->count, sel->step, dst, (size_t)(g->nitems * is));
    int64_t part = g->nitems >> k, st[TCLI_MAXDIM], cnt[TCLI_MAXDIM];
    uint8_t *tmp = malloc((size_t)(part * is));
    int rc = tmp ? TCLI_OK : tcli_tersa_error(s->arg, TERSA_ERR_NOMEM);
    for (int64_t mask = 0; rc == TCLI_OK && mask < ((int64_t)1 << k); mask++) {
        memcpy(st, sel->start, sizeof st);
        memcpy(cnt, g->n, sizeof cnt);
        for (int j = 0; j < k; j++) {
            cnt[cut[j]] = TCLI_EDGE;
            if (mask >> j & 1)
                st[cut[j]] += (sel->count[cut[j]] - TCLI_EDGE) * sel->step[cut[j]];
        }
        rc = tcli_src_read(s, st, cnt, sel->step, tmp, (size_t)(part * is));
        for (int64_t t = 0; rc == TCLI_OK && t < part; t++) { /* scatter item t */
            int64_t rem = t, pos = 0, mul = 1;
            for (int i = g->ndim - 1; i >= 0; i--) {
                int64_t c = rem % cnt[i], off = 0;
                rem /= cnt[i];
                for (int j = 0; j < k; j++)
                    if (cut[j] == i && (mask >> j & 1))
                        off = TCLI_EDGE;
                pos += (c + off) * mul;
                mul *= g->n[i];
            }
            memcpy(dst + pos * is, tmp + t * is, (size_t)is);
        }
    }
    free(tmp);
    return rc;
}

static int tcli_grid_floats(tcli_grid *g, const uint8_t *data, const tcli_dt *dt)
{
    int complex = dt->kind == 'c', part = complex ? dt->size / 2 : dt->size;
    int64_t nv = g->nitems * (complex ? 2 : 1);
    double *v = malloc((size_t)(nv ? nv : 1) * sizeof *v);
    if (!v)
        return -1;
    for (int64_t i = 0; i < nv; i++)
        v[i] = tcli_float(data + i * part, part, dt->order);
    tcli_fstyle st = {tcli_want_sci(v, nv), 0, part};
    for (int64_t i = 0; i < nv; i++)
        tcli_fstyle_add(&st, v[i]);
    for (int64_t i = 0; i < g->nitems; i++) {
        char *re = tcli_float_repr(v[complex ? 2 * i : i], &st);
        if (complex && re) {
            char *im = tcli_float_repr(fabs(v[2 * i + 1]), &st), *both = malloc(strlen(re) + 40);
            if (both && im)
                sprintf(both, "%s%c%sj", re, signbit(v[2 * i + 1]) ? '-' : '+', im);
            free(re);
            free(im);
            re = both;
        }
        g->str[i] = re;
    }
    free(v);
    return 0;
}

static int tcli_grid_format(tcli_grid *g, const uint8_t *data, const tcli_dt *dt)
{
    tcli_dt ints = {dt->order, strchr("mM", dt->kind) ? 'i' : dt->kind, dt->size};
    g->str = calloc((size_t)(g->nitems ? g->nitems : 1), sizeof *g->str);
    if (!g->str)
        return -1;
    if ((dt->kind == 'f' || dt->kind == 'c') && tcli_grid_floats(g, data, dt) < 0)
        return -1;
    for (int64_t i = 0; i < g->nitems; i++) {
        const uint8_t *p = data + i * dt->size;
        if (dt->kind == 'f' || dt->kind == 'c')
            continue;
        if (strchr("iubmM", dt->kind))
            g->str[i] = tcli_int_repr(p, &ints);
        else if (dt->kind == 'U')
            g->str[i] = tcli_ucs4_repr(p, dt->size, dt->order);
        else
            g->str[i] = tcli_bytes_repr(p, dt->size, dt->kind == 'S');
    }
    for (int64_t i = 0; i < g->nitems; i++) {
        if (!g->str[i])
            return -1;
        int w = (int)strlen(g->str[i]);
        if (w > g->width)
            g->width = w;
    }
    return 0;
}

/* ---- printing -------------------------------------------------------------------------- */

static void tcli_put(tcli_out *o, const char *s)
{
    fputs(s, o->f);
    const char *nl = strrchr(s, '\n');
    o->col = nl ? (int)strlen(nl + 1) : o->col + (int)strlen(s);
}

static void tcli_newline(tcli_out *o, int lines, int indent)
{
    for (int i = 0; i < lines; i++)
        fputc('\n', o->f);
    for (int i = 0; i < indent; i++)
        fputc(' ', o->f);
    o->col = indent;
}

/* An entry right-aligned to the common width, wrapped at the line width. */
static void tcli_put_entry(tcli_out *o, const char *s, int width, int first, int depth)
{
    int w = (int)strlen(s) > width ? (int)strlen(s) : width;
    if (!first && o->col + 1 + w + 1 > TCLI_LINEWIDTH)
        tcli_newline(o, 1, depth + 1);
    else if (!first)
        tcli_put(o, " ");
    fprintf(o->f, "%*s", width, s);
    o->col += w;
}

/* Print the sub-array at grid axis `axis` starting at entry `base` (axes in `ax`, the
 * non-dropped ones; depth = position in ax). */
static void tcli_print_rec(tcli_out *o, const tcli_grid *g, const int *ax, int nax, int depth,
                           int64_t base, const int64_t *stride)
{
    int a = ax[depth];
    tcli_put(o, "[");
    for (int64_t i = 0; i < g->n[a]; i++) {
        int64_t off = base + i * stride[a];
        int gap = i == g->gap[a];
        if (depth == nax - 1) {
            if (gap)
                tcli_put_entry(o, "...", 0, i == 0, depth);
            tcli_put_entry(o, g->str[off], g->width, i == 0 && !gap, depth);
            continue;
        }
        if (i > 0)
            tcli_newline(o, nax - depth - 1, depth + 1);
        if (gap) {
            tcli_put(o, "...");
            tcli_newline(o, nax - depth - 1, depth + 1);
        }
        tcli_print_rec(o, g, ax, nax, depth + 1, off, stride);
    }
    tcli_put(o, "]");
}

static void tcli_grid_print(FILE *f, const tcli_grid *g, const tcli_sel *sel)
{
    int ax[TCLI_MAXDIM], nax = 0;
    int64_t stride[TCLI_MAXDIM], acc = 1;
    tcli_out o = {f, 0};
    for (int i = g->ndim - 1; i >= 0; i--) {
        stride[i] = acc;
        acc *= g->n[i];
    }
    for (int i = 0; i < g->ndim; i++)
        if (!sel->drop[i])
            ax[nax++] = i;
    if (nax == 0)
        tcli_put(&o, g->str[0]);
    else if (sel->nitems == 0)
        tcli_put(&o, "[]");
    else
        tcli_print_rec(&o, g, ax, nax, 0, 0, stride);
    fputc('\n', f);
}

int tcli_print_text(FILE *f, tcli_src *s, const tcli_sel *sel, const char *dtype, int full)
{
    tcli_dt dt;
    tcli_grid g = {0};
    if (tcli_dt_parse(dtype ? dtype : s->dtype, s->itemsize, &dt) < 0 && dtype) {
        fprintf(stderr, "error: --dtype %s: its item size %d differs from the data's %d\n", dtype,
                (int)tcli_dtype_itemsize(dtype), (int)s->itemsize);
        return TCLI_USAGE;
    }
    tcli_grid_plan(&g, sel, !full && sel->nitems > TCLI_THRESHOLD);
    uint8_t *data = malloc((size_t)(g.nitems ? g.nitems : 1) * (size_t)s->itemsize);
    int rc = data ? TCLI_OK : tcli_tersa_error(s->arg, TERSA_ERR_NOMEM);
    if (rc == TCLI_OK && g.nitems > 0)
        rc = tcli_grid_read(s, sel, &g, data);
    if (rc == TCLI_OK && tcli_grid_format(&g, data, &dt) < 0)
        rc = tcli_tersa_error(s->arg, TERSA_ERR_NOMEM);
    if (rc == TCLI_OK)
        tcli_grid_print(f, &g, sel);
    for (int64_t i = 0; g.str && i < g.nitems; i++)
        free(g.str[i]);
    free(g.str);
    free(data);
    return rc;
}

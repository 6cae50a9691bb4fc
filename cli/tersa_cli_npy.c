/* NumPy .npy headers for the `tersa` command: reading a file's header (any source may be a
 * .npy file) and writing one in front of a streamed selection (cat -o X.npy, convert). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

static const char tcli_npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

int32_t tcli_dtype_itemsize(const char *d)
{
    size_t i = 0, n = d ? strlen(d) : 0;
    if (i < n && strchr("<>|=", d[i]))
        i++;
    if (i >= n || !strchr("biufcSUVmM?", d[i]))
        return 0;
    char kind = d[i++];
    int64_t v = 0;
    size_t digits = 0;
    for (; i < n && d[i] >= '0' && d[i] <= '9' && v <= INT32_MAX; i++, digits++)
        v = v * 10 + (d[i] - '0');
    if (i < n && d[i] == '[' && d[n - 1] == ']')
        i = n; /* datetime units: "<M8[ns]" */
    if (i != n || v > INT32_MAX / 4)
        return 0;
    if (kind == '?')
        return 1;
    if (!digits)
        return 0;
    return (int32_t)(kind == 'U' ? v * 4 : v);
}

/* ---- reading --------------------------------------------------------------------------- */

typedef struct tcli_npy_cur {
    const char *p, *e;
} tcli_npy_cur;

static void tcli_npy_ws(tcli_npy_cur *c)
{
    while (c->p < c->e && strchr(" \t\r\n", *c->p))
        c->p++;
}

static int tcli_npy_char(tcli_npy_cur *c, char ch)
{
    tcli_npy_ws(c);
    if (c->p >= c->e || *c->p != ch)
        return 0;
    c->p++;
    return 1;
}

/* A quoted string (no escapes) into out. */
static int tcli_npy_str(tcli_npy_cur *c, char *out, size_t cap)
{
    tcli_npy_ws(c);
    if (c->p >= c->e || (*c->p != '\'' && *c->p != '"'))
        return 0;
    char q = *c->p++;
    size_t n = 0;
    for (; c->p < c->e && *c->p != q; c->p++) {
        if (*c->p == '\\' || n + 1 >= cap)
            return 0;
        out[n++] = *c->p;
    }
    out[n] = '\0';
    return c->p < c->e ? (c->p++, 1) : 0;
}

static int tcli_npy_shape(tcli_npy_cur *c, tcli_npy_header *h)
{
    if (!tcli_npy_char(c, '('))
        return 0;
    for (h->ndim = 0;;) {
        if (tcli_npy_char(c, ')'))
            return 1;
        tcli_npy_ws(c);
        int64_t v = 0;
        const char *d0 = c->p;
        for (; c->p < c->e && *c->p >= '0' && *c->p <= '9'; c->p++) {
            if (v > (INT64_MAX - 9) / 10)
                return 0;
            v = v * 10 + (*c->p - '0');
        }
        if (c->p == d0 || h->ndim >= TCLI_MAXDIM)
            return 0;
        h->shape[h->ndim++] = v;
        if (!tcli_npy_char(c, ',') && !(c->p < c->e && *c->p == ')'))
            return 0;
    }
}

/* One "'key': value" entry; *seen gets a bit per key. fortran_order True is refused later. */
static int tcli_npy_entry(tcli_npy_cur *c, tcli_npy_header *h, int *seen, int *fortran)
{
    char key[32];
    if (!tcli_npy_str(c, key, sizeof key) || !tcli_npy_char(c, ':'))
        return 0;
    tcli_npy_ws(c);
    if (!strcmp(key, "descr")) {
        *seen |= 1;
        return tcli_npy_str(c, h->descr, sizeof h->descr);
    }
    if (!strcmp(key, "shape")) {
        *seen |= 2;
        return tcli_npy_shape(c, h);
    }
    if (strcmp(key, "fortran_order") != 0)
        return 0;
    *seen |= 4;
    size_t left = (size_t)(c->e - c->p);
    *fortran = left >= 4 && !memcmp(c->p, "True", 4);
    if (!*fortran && !(left >= 5 && !memcmp(c->p, "False", 5)))
        return 0;
    c->p += *fortran ? 4 : 5;
    return 1;
}

static int tcli_npy_dict(const char *path, const char *p, size_t len, tcli_npy_header *h)
{
    tcli_npy_cur c = {p, p + len};
    int seen = 0, fortran = 0, ok = tcli_npy_char(&c, '{');
    while (ok && !tcli_npy_char(&c, '}')) {
        ok = tcli_npy_entry(&c, h, &seen, &fortran);
        if (ok && !tcli_npy_char(&c, ',') && !(c.p < c.e && *c.p == '}'))
            ok = 0;
    }
    if (!ok || seen != 7) {
        fprintf(stderr,
                "error: %s: .npy header not understood (needs 'descr' as a type "
                "string, 'fortran_order' and 'shape')\n",
                path);
        return TCLI_FAIL;
    }
    if (fortran) {
        fprintf(stderr, "error: %s: Fortran-order .npy files are not supported\n", path);
        return TCLI_FAIL;
    }
    h->itemsize = tcli_dtype_itemsize(h->descr);
    if (h->itemsize < 1) {
        fprintf(stderr, "error: %s: .npy dtype '%s' is not a simple type\n", path, h->descr);
        return TCLI_FAIL;
    }
    return TCLI_OK;
}

int tcli_npy_parse(const char *path, const uint8_t *buf, size_t len, tcli_npy_header *h)
{
    memset(h, 0, sizeof *h);
    if (len < 10 || memcmp(buf, tcli_npy_magic, 6) != 0 || buf[6] < 1 || buf[6] > 3) {
        fprintf(stderr, "error: %s: not a .npy file of format 1 to 3\n", path);
        return TCLI_FAIL;
    }
    size_t pre = buf[6] == 1 ? 10 : 12;
    uint64_t hl = buf[8] | (uint64_t)buf[9] << 8;
    if (pre == 12 && len >= 12)
        hl |= (uint64_t)buf[10] << 16 | (uint64_t)buf[11] << 24;
    if (len < pre || hl > len - pre) {
        fprintf(stderr, "error: %s: .npy header truncated\n", path);
        return TCLI_FAIL;
    }
    h->data_off = (int64_t)(pre + hl);
    return tcli_npy_dict(path, (const char *)buf + pre, (size_t)hl, h);
}

/* ---- writing --------------------------------------------------------------------------- */

/* The dict text: descr quoted unless it is a list literal (structured dtypes). */
static char *tcli_npy_dict_text(int ndim, const int64_t *shape, int32_t itemsize, const char *dtype,
                                int *len)
{
    char vd[24];
    if (!dtype || !*dtype)
        snprintf(vd, sizeof vd, "|V%d", (int)itemsize);
    const char *d = dtype && *dtype ? dtype : vd;
    int bare = d[0] == '[';
    size_t cap = strlen(d) + 80 + (size_t)ndim * 22;
    char *t = malloc(cap + 64);
    if (!t)
        return NULL;
    int n = snprintf(t, cap, "{'descr': %s%s%s, 'fortran_order': False, 'shape': (",
                     bare ? "" : "'", d, bare ? "" : "'");
    for (int i = 0; i < ndim; i++)
        n += snprintf(t + n, cap - (size_t)n, "%s%" PRId64, i ? ", " : "", shape[i]);
    n += snprintf(t + n, cap - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    *len = n;
    return t;
}

int tcli_npy_header_make(int ndim, const int64_t *shape, int32_t itemsize, const char *dtype,
                         uint8_t **out, size_t *len)
{
    int n = 0;
    char *dict = tcli_npy_dict_text(ndim, shape, itemsize, dtype, &n);
    if (!dict)
        return tcli_tersa_error("npy header", TERSA_ERR_NOMEM);
    size_t pre = 10, total = (pre + (size_t)n + 1 + 63) / 64 * 64;
    if (total - pre > 65535) {
        pre = 12;
        total = (pre + (size_t)n + 1 + 63) / 64 * 64;
    }
    uint8_t *h = malloc(total);
    if (!h) {
        free(dict);
        return tcli_tersa_error("npy header", TERSA_ERR_NOMEM);
    }
    size_t hl = total - pre;
    memcpy(h, tcli_npy_magic, 6);
    h[6] = pre == 10 ? 1 : 2;
    h[7] = 0;
    for (size_t b = 0; b < pre - 8; b++)
        h[8 + b] = (uint8_t)(hl >> (8 * b));
    memcpy(h + pre, dict, (size_t)n);
    memset(h + pre + n, ' ', hl - (size_t)n);
    h[total - 1] = '\n';
    free(dict);
    *out = h;
    *len = total;
    return TCLI_OK;
}

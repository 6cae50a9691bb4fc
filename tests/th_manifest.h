/* Reader of the fixture catalogue, fixtures/MANIFEST.tsv: tab-separated, one header row naming
 * the columns, one row per file (per dataset for HDF5 files). A field may be quoted ("...")
 * with "" standing for one quote. Columns are found by name, so their order may change.
 *
 *   th_manifest m;
 *   if (th_manifest_load(TERSA_FIXTURES "/MANIFEST.tsv", &m) != 0) ...;
 *   for (size_t i = 0; i < m.nrows; i++) use m.rows[i].path, .kind, .sha256_decoded ...;
 *   th_manifest_free(&m);
 *
 * Every string field points into storage owned by the manifest (never NULL; "" for a missing
 * column). "-" means "not applicable" in the file; th_mf_absent() tests for it. */
#ifndef TH_MANIFEST_H
#define TH_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct th_manifest_row {
    const char *path, *kind, *file_sha256, *codec, *clevel, *filters, *nchunks;
    const char *shape, *chunkshape, *blockshape, *dtype, *dataset;
    const char *sha256_decoded, *sha256_array_c_order, *origin, *description;
    int64_t nbytes; /* -1 when "-" */
    int typesize;   /* -1 when "-" */
} th_manifest_row;

typedef struct th_manifest {
    th_manifest_row *rows;
    size_t nrows;
    char *text; /* the file, unquoted in place; rows point into it */
} th_manifest;

/* 1 when a field is "not applicable" ("-" or empty). */
static inline int th_mf_absent(const char *s) { return !s || !*s || strcmp(s, "-") == 0; }

/* Column name -> offset of its string pointer in th_manifest_row. */
static const struct th_mf_col {
    const char *name;
    size_t off;
} th_mf_cols[] = {
#define TH_MF_COL(f) {#f, offsetof(th_manifest_row, f)}
    TH_MF_COL(path),          TH_MF_COL(kind),       TH_MF_COL(file_sha256),
    TH_MF_COL(codec),         TH_MF_COL(clevel),     TH_MF_COL(filters),
    TH_MF_COL(nchunks),       TH_MF_COL(shape),      TH_MF_COL(chunkshape),
    TH_MF_COL(blockshape),    TH_MF_COL(dtype),      TH_MF_COL(dataset),
    TH_MF_COL(sha256_decoded), TH_MF_COL(sha256_array_c_order), TH_MF_COL(origin),
    TH_MF_COL(description),
#undef TH_MF_COL
};
#define TH_MF_MAXCOLS 64

/* Parse one field starting at *pos, unquoting in place; NUL-terminates it and returns its
 * start. *end receives the separator that ended it ('\t', '\n' or '\0'). */
static inline char *th_mf_field(char **pos, char *end)
{
    char *r = *pos, *w = *pos, *start = *pos;
    if (*r == '"') {
        for (r++; *r; r++) {
            if (*r == '"' && r[1] == '"') {
                *w++ = '"';
                r++;
            } else if (*r == '"') {
                r++;
                break;
            } else {
                *w++ = *r;
            }
        }
    }
    while (*r && *r != '\t' && *r != '\n') *w++ = *r++;
    if (w > start && w[-1] == '\r') w--;
    *end = *r;
    *pos = *r ? r + 1 : r;
    *w = '\0'; /* may overwrite the separator at r when nothing was unquoted */
    return start;
}

/* Parse one line into at most TH_MF_MAXCOLS fields; returns the count. */
static inline int th_mf_line(char **pos, char *fields[TH_MF_MAXCOLS])
{
    int n = 0;
    char sep = '\t';
    while (sep == '\t') {
        char *f = th_mf_field(pos, &sep);
        if (n < TH_MF_MAXCOLS) fields[n++] = f;
    }
    return n;
}

static inline int64_t th_mf_int(const char *s)
{
    if (th_mf_absent(s)) return -1;
    char *e;
    long long v = strtoll(s, &e, 10);
    return *e ? -1 : (int64_t)v;
}

/* Fill a row from its fields using the header's column names. */
static inline void th_mf_fill(th_manifest_row *row, char **hdr, int nhdr, char **f, int nf)
{
    static const char empty[] = "";
    for (size_t c = 0; c < sizeof th_mf_cols / sizeof th_mf_cols[0]; c++)
        *(const char **)((char *)row + th_mf_cols[c].off) = empty;
    row->nbytes = -1;
    row->typesize = -1;
    for (int i = 0; i < nhdr && i < nf; i++) {
        for (size_t c = 0; c < sizeof th_mf_cols / sizeof th_mf_cols[0]; c++)
            if (strcmp(hdr[i], th_mf_cols[c].name) == 0)
                *(const char **)((char *)row + th_mf_cols[c].off) = f[i];
        if (strcmp(hdr[i], "nbytes") == 0) row->nbytes = th_mf_int(f[i]);
        if (strcmp(hdr[i], "typesize") == 0) row->typesize = (int)th_mf_int(f[i]);
    }
}

static inline void th_manifest_free(th_manifest *m)
{
    free(m->rows);
    free(m->text);
    m->rows = NULL;
    m->text = NULL;
    m->nrows = 0;
}

/* Read a whole file, NUL-terminated; NULL on failure. */
static inline char *th_mf_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text && fread(text, 1, (size_t)n, fp) != (size_t)n) {
        free(text);
        text = NULL;
    }
    fclose(fp);
    if (text) text[n] = '\0';
    *len = text ? (size_t)n : 0;
    return text;
}

/* Load and parse the manifest; 0 on success, -1 (message on stderr) on failure. */
static inline int th_manifest_load(const char *path, th_manifest *m)
{
    size_t len = 0, maxrows = 1;
    memset(m, 0, sizeof *m);
    m->text = th_mf_slurp(path, &len);
    for (size_t i = 0; i < len; i++) maxrows += m->text[i] == '\n';
    m->rows = m->text ? calloc(maxrows, sizeof *m->rows) : NULL;
    if (!m->rows) {
        fprintf(stderr, "manifest: cannot read %s\n", path);
        th_manifest_free(m);
        return -1;
    }
    char *pos = m->text, *hdr[TH_MF_MAXCOLS], *f[TH_MF_MAXCOLS];
    int nhdr = th_mf_line(&pos, hdr);
    while (*pos && m->nrows < maxrows) {
        int nf = th_mf_line(&pos, f);
        if (nf == 1 && !*f[0]) continue; /* blank line */
        th_mf_fill(&m->rows[m->nrows++], hdr, nhdr, f, nf);
    }
    return 0;
}

/* The row for a path (and dataset, when not NULL); NULL if none. */
static inline const th_manifest_row *th_manifest_find(const th_manifest *m, const char *path,
                                                      const char *dataset)
{
    for (size_t i = 0; i < m->nrows; i++)
        if (strcmp(m->rows[i].path, path) == 0 &&
            (!dataset || strcmp(m->rows[i].dataset, dataset) == 0))
            return &m->rows[i];
    return NULL;
}

#endif

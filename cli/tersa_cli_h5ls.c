/* `tersa ls FILE.h5[:/GROUP] [-r] [--json]`: the tree of an HDF5 file with plain HDF5 calls
 * (H5Literate over the links of a group, H5Oopen to learn what each names). For a dataset:
 * shape, dtype, layout and chunk shape, the filter pipeline (names and cd_values; for Blosc2,
 * filter 32026, the codec, clevel and shuffle filter they encode), the logical size, the
 * storage size (H5Dget_storage_size) and their ratio. Groups are listed; with -r they are
 * entered (each object once, so hard-link cycles end); soft and external links are shown and
 * not followed. Built with the HDF5 layer only (TCLI_HAVE_H5). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

#ifdef TCLI_HAVE_H5
#include "tersa/tersa_h5.h"

#define TCLI_LS_MAXDEPTH 64

/* An object's identity within its file, to enter each group once. */
typedef struct tcli_ls_key {
    unsigned char b[16];
} tcli_ls_key;

typedef struct tcli_ls {
    const char *file;
    int recursive, json, count, failed, depth;
    tcli_ls_key *seen;
    int nseen, capseen;
} tcli_ls;

static int tcli_ls_object_key(hid_t obj, tcli_ls_key *k)
{
    memset(k, 0, sizeof *k);
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t oi;
    if (H5Oget_info3(obj, &oi, H5O_INFO_BASIC) < 0)
        return -1;
    memcpy(k->b, &oi.token, sizeof oi.token < sizeof k->b ? sizeof oi.token : sizeof k->b);
#else
    H5O_info_t oi;
    if (H5Oget_info2(obj, &oi, H5O_INFO_BASIC) < 0)
        return -1;
    memcpy(k->b, &oi.addr, sizeof oi.addr);
#endif
    return 0;
}

/* 1 when the group was listed already (else remember it); -1 on no memory. */
static int tcli_ls_seen(tcli_ls *l, hid_t group)
{
    tcli_ls_key k;
    if (tcli_ls_object_key(group, &k) < 0)
        return 0;
    for (int i = 0; i < l->nseen; i++)
        if (!memcmp(l->seen[i].b, k.b, sizeof k.b))
            return 1;
    if (l->nseen == l->capseen) {
        int cap = l->capseen ? 2 * l->capseen : 16;
        tcli_ls_key *n = realloc(l->seen, sizeof *n * (size_t)cap);
        if (!n)
            return -1;
        l->seen = n;
        l->capseen = cap;
    }
    l->seen[l->nseen++] = k;
    return 0;
}

/* ---- one record per object -------------------------------------------------------------- */

static void tcli_ls_begin(tcli_ls *l, const char *path, const char *type)
{
    if (l->json) {
        fprintf(stdout, "%s\n    {\"path\": ", l->count ? "," : "");
        tcli_json_str(stdout, path);
        fprintf(stdout, ", \"type\": \"%s\"", type);
    } else {
        printf("%-24s %s", path, type);
    }
    l->count++;
}

static void tcli_ls_end(const tcli_ls *l)
{
    fputs(l->json ? "}" : "\n", stdout);
}

static void tcli_ls_dims(const tcli_ls *l, const char *key, const hsize_t *v, int n)
{
    if (l->json) {
        printf(", \"%s\": [", key);
        for (int i = 0; i < n; i++)
            printf("%s%llu", i ? ", " : "", (unsigned long long)v[i]);
        printf("]");
        return;
    }
    printf(" %s(", *key == 's' ? "" : "chunks=");
    for (int i = 0; i < n; i++)
        printf("%s%llu", i ? ", " : "", (unsigned long long)v[i]);
    printf("%s)", n == 1 ? "," : "");
}

/* The name of a filter id (HDF5's predefined ones and the registered ones seen in the wild). */
static const char *tcli_ls_filter_name(H5Z_filter_t id, const char *stored)
{
    static const struct {
        int id;
        const char *name;
    } known[] = {{1, "deflate"},   {2, "shuffle"},  {3, "fletcher32"}, {4, "szip"},
                 {5, "nbit"},      {6, "scaleoffset"}, {307, "bzip2"}, {32000, "lzf"},
                 {32001, "blosc"}, {32004, "lz4"},  {32008, "bitshuffle"}, {32015, "zstd"},
                 {TERSA_H5_FILTER_ID, "blosc2"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].id == (int)id)
            return known[i].name;
    return stored && *stored ? stored : "unknown";
}

/* codec, clevel and shuffle filter of Blosc2's cd_values (cd[4], cd[5], cd[6]). */
static void tcli_ls_blosc2(const tcli_ls *l, const unsigned *cd, size_t ncd)
{
    const char *codec = ncd > 6 ? tersa_codec_name((int)cd[6]) : NULL;
    const char *filt = ncd > 5 ? tersa_filter_name((int)cd[5]) : NULL;
    codec = codec ? codec : "unknown";
    filt = filt ? filt : ncd > 5 && cd[5] == 0 ? "noshuffle" : "unknown";
    if (l->json) {
        printf(", \"codec\": \"%s\", \"clevel\": ", codec);
        if (ncd > 4)
            printf("%u", cd[4]);
        else
            printf("null");
        printf(", \"filter\": \"%s\"", filt);
    } else if (ncd > 4) {
        printf("%s clevel=%u %s ", codec, cd[4], filt);
    }
}

static void tcli_ls_filter(const tcli_ls *l, hid_t dcpl, int i)
{
    unsigned flags = 0, cd[64];
    size_t ncd = 64;
    char name[64] = "";
    H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, NULL);
    const char *nm = tcli_ls_filter_name(id, name);
    ncd = ncd < 64 ? ncd : 64;
    if (l->json)
        printf("%s{\"id\": %d, \"name\": \"%s\"", i ? ", " : "", (int)id, nm);
    else
        printf("%s%s(", i ? "," : " filters=", nm);
    if (id == TERSA_H5_FILTER_ID)
        tcli_ls_blosc2(l, cd, ncd);
    printf(l->json ? ", \"cd_values\": [" : ncd ? "cd=" : "");
    for (size_t j = 0; j < ncd; j++)
        printf("%s%u", j ? (l->json ? ", " : ":") : "", cd[j]);
    printf(l->json ? "]}" : ")");
}

static void tcli_ls_filters(const tcli_ls *l, hid_t dcpl)
{
    int n = H5Pget_nfilters(dcpl);
    if (l->json)
        printf(", \"filters\": [");
    else if (n <= 0)
        printf(" filters=none");
    for (int i = 0; i < n; i++)
        tcli_ls_filter(l, dcpl, i);
    if (l->json)
        printf("]");
}

static void tcli_ls_layout(const tcli_ls *l, hid_t dcpl)
{
    H5D_layout_t lay = H5Pget_layout(dcpl);
    hsize_t cs[H5S_MAX_RANK];
    int n = lay == H5D_CHUNKED ? H5Pget_chunk(dcpl, H5S_MAX_RANK, cs) : -1;
    const char *name = lay == H5D_CHUNKED      ? "chunked"
                       : lay == H5D_CONTIGUOUS ? "contiguous"
                       : lay == H5D_COMPACT    ? "compact"
                                               : "other";
    if (l->json)
        printf(", \"layout\": \"%s\"", name);
    if (n >= 0)
        tcli_ls_dims(l, "chunks", cs, n);
    else if (l->json)
        printf(", \"chunks\": null");
    else
        printf(" %s", name);
}

/* Logical bytes, stored bytes, ratio. */
static void tcli_ls_sizes(const tcli_ls *l, hid_t d, hid_t space)
{
    hid_t t = H5Dget_type(d);
    size_t item = t >= 0 ? H5Tget_size(t) : 0;
    hssize_t n = H5Sget_simple_extent_npoints(space);
    unsigned long long nbytes = n > 0 ? (unsigned long long)n * item : 0;
    unsigned long long stored = (unsigned long long)H5Dget_storage_size(d);
    double ratio = stored ? (double)nbytes / (double)stored : 0.0;
    if (t >= 0)
        H5Tclose(t);
    if (l->json) {
        printf(", \"nbytes\": %llu, \"storage_size\": %llu, \"ratio\": ", nbytes, stored);
        if (stored)
            printf("%.4g", ratio);
        else
            printf("null");
    } else if (stored) {
        printf(" size=%llu stored=%llu ratio=%.3gx", nbytes, stored, ratio);
    } else {
        printf(" size=%llu stored=0", nbytes);
    }
}

static void tcli_ls_dataset(tcli_ls *l, hid_t d, const char *path)
{
    hsize_t dims[H5S_MAX_RANK];
    hid_t space = H5Dget_space(d), dcpl = H5Dget_create_plist(d);
    int rank = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
    char *dtype = tcli_h5_dtype(d);
    tcli_ls_begin(l, path, "dataset");
    tcli_ls_dims(l, "shape", dims, rank > 0 ? rank : 0);
    if (l->json) {
        printf(", \"dtype\": ");
        tcli_json_str(stdout, dtype ? dtype : "unknown");
    } else {
        printf(" %s", dtype ? dtype : "unknown");
    }
    if (dcpl >= 0) {
        tcli_ls_layout(l, dcpl);
        tcli_ls_filters(l, dcpl);
        H5Pclose(dcpl);
    }
    if (space >= 0) {
        tcli_ls_sizes(l, d, space);
        H5Sclose(space);
    }
    tcli_ls_end(l);
    free(dtype);
}

/* ---- walking the tree --------------------------------------------------------------------- */

static int tcli_ls_group(tcli_ls *l, hid_t g, const char *prefix);

static char *tcli_ls_join(const char *prefix, const char *name)
{
    size_t a = strlen(prefix), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p)
        snprintf(p, a + b + 2, "%s%s%s", prefix, a && prefix[a - 1] == '/' ? "" : "/", name);
    return p;
}

static void tcli_ls_link(tcli_ls *l, hid_t g, const char *name, const char *path, int type)
{
    char target[1024] = "";
    H5E_BEGIN_TRY
    {
        if (type == H5L_TYPE_SOFT)
            H5Lget_val(g, name, target, sizeof target - 1, H5P_DEFAULT);
    }
    H5E_END_TRY;
    tcli_ls_begin(l, path, type == H5L_TYPE_SOFT ? "soft-link" : "external-link");
    if (type == H5L_TYPE_SOFT && l->json) {
        printf(", \"target\": ");
        tcli_json_str(stdout, target);
    } else if (type == H5L_TYPE_SOFT) {
        printf(" -> %s", target);
    }
    tcli_ls_end(l);
}

static void tcli_ls_object(tcli_ls *l, hid_t obj, const char *path)
{
    H5I_type_t t = H5Iget_type(obj);
    if (t == H5I_DATASET) {
        tcli_ls_dataset(l, obj, path);
    } else if (t == H5I_GROUP) {
        tcli_ls_begin(l, path, "group");
        tcli_ls_end(l);
        if (l->recursive && l->depth < TCLI_LS_MAXDEPTH && tcli_ls_seen(l, obj) == 0) {
            l->depth++;
            tcli_ls_group(l, obj, path);
            l->depth--;
        }
    } else {
        tcli_ls_begin(l, path, t == H5I_DATATYPE ? "datatype" : "other");
        tcli_ls_end(l);
    }
}

/* H5Literate callback: one link of a group. */
static herr_t tcli_ls_visit(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    void **ctx = data;
    tcli_ls *l = ctx[0];
    char *path = tcli_ls_join(ctx[1], name);
    hid_t obj = -1;
    if (!path)
        return -1;
    if (info->type == H5L_TYPE_HARD) {
        H5E_BEGIN_TRY
        {
            obj = H5Oopen(g, name, H5P_DEFAULT);
        }
        H5E_END_TRY;
        if (obj >= 0)
            tcli_ls_object(l, obj, path);
        else
            l->failed++, fprintf(stderr, "error: %s:%s: cannot open the object\n", l->file, path);
        if (obj >= 0)
            H5Oclose(obj);
    } else {
        tcli_ls_link(l, g, name, path, info->type);
    }
    free(path);
    return 0;
}

static int tcli_ls_group(tcli_ls *l, hid_t g, const char *prefix)
{
    void *ctx[2] = {l, (void *)prefix};
    herr_t rc;
    H5E_BEGIN_TRY
    {
        rc = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, tcli_ls_visit, ctx);
    }
    H5E_END_TRY;
    if (rc < 0) {
        fprintf(stderr, "error: %s:%s: cannot list the group\n", l->file, prefix);
        l->failed++;
    }
    return rc < 0 ? -1 : 0;
}

/* ---- the command -------------------------------------------------------------------------- */

/* FILE.h5[:/GROUP] split at the last ":/" (the file part malloc'd; the group "/" by default). */
static char *tcli_ls_split(const char *arg, const char **group)
{
    const char *c = NULL;
    for (const char *p = strstr(arg, ":/"); p; p = strstr(p + 1, ":/"))
        c = p;
    size_t n = c ? (size_t)(c - arg) : strlen(arg);
    char *file = malloc(n + 1);
    if (file)
        memcpy(file, arg, n), file[n] = '\0';
    *group = c ? c + 1 : "/";
    return file;
}

static int tcli_ls_file(tcli_ls *l, hid_t f, const char *group)
{
    hid_t g;
    H5E_BEGIN_TRY
    {
        g = H5Oopen(f, group, H5P_DEFAULT);
    }
    H5E_END_TRY;
    if (g < 0) {
        fprintf(stderr, "error: %s:%s: no such group or dataset\n", l->file, group);
        return TCLI_FAIL;
    }
    if (l->json) {
        printf("{\"file\": ");
        tcli_json_str(stdout, l->file);
        printf(", \"group\": ");
        tcli_json_str(stdout, group);
        printf(", \"recursive\": %s, \"objects\": [", l->recursive ? "true" : "false");
    }
    if (H5Iget_type(g) == H5I_GROUP) {
        tcli_ls_seen(l, g);
        tcli_ls_group(l, g, group);
    } else {
        tcli_ls_object(l, g, group);
    }
    H5Oclose(g);
    if (l->json)
        printf("%s], \"count\": %d}\n", l->count ? "\n  " : "", l->count);
    return l->failed ? TCLI_FAIL : TCLI_OK;
}

int tcli_h5_ls(const char *arg, int recursive, int json)
{
    const char *group = "/";
    char *file = tcli_ls_split(arg, &group);
    hid_t f = -1;
    if (file && tcli_path_exists(file) != 1 && tcli_path_exists(arg) == 1) {
        free(file); /* the whole argument names a file (a ":/" in its name) */
        file = strdup(arg);
        group = "/";
    }
    if (!file)
        return tcli_tersa_error(arg, TERSA_ERR_NOMEM);
    tcli_ls l = {.file = file, .recursive = recursive, .json = json};
    H5E_BEGIN_TRY
    {
        f = tcli_path_exists(file) == 1 ? H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
    }
    H5E_END_TRY;
    int rc = TCLI_FAIL;
    if (f < 0)
        fprintf(stderr, "error: %s: %s\n", file,
                tcli_path_exists(file) == 1 ? "not an HDF5 file" : "no such file");
    else
        rc = tcli_ls_file(&l, f, group);
    if (f >= 0)
        H5Fclose(f);
    free(l.seen);
    free(file);
    return rc;
}

#else /* no HDF5 layer in this build */

int tcli_h5_ls(const char *arg, int recursive, int json)
{
    (void)recursive;
    (void)json;
    fprintf(stderr,
            "error: %s: tersa ls needs the HDF5 layer (libtersa_h5), not in this build\n", arg);
    return TCLI_FAIL;
}

#endif

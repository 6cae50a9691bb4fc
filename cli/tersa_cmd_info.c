/* `tersa info PATH[:DATASET] ... [--json]`: what a chunk file, frame, b2nd array, .npy file or
 * HDF5 dataset holds. The JSON document is stable: every kind has the keys kind, shape, dtype,
 * chunkshape, blockshape, codec, clevel, filters, nbytes, cbytes (null where the container has
 * no such notion), plus the kind's own fields. */
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

/* ---- records --------------------------------------------------------------------------- */

void tcli_rec_begin(tcli_rec *r, FILE *f, int json)
{
    r->f = f;
    r->json = json;
    r->n = 0;
    if (json)
        fputc('{', f);
}

static void tcli_rec_key(tcli_rec *r, const char *key)
{
    if (r->json)
        fprintf(r->f, "%s\n  \"%s\": ", r->n ? "," : "", key);
    else
        fprintf(r->f, "%-17s ", key);
    r->n++;
}

void tcli_rec_raw(tcli_rec *r, const char *key, const char *json, const char *text)
{
    tcli_rec_key(r, key);
    fputs(r->json ? json : text, r->f);
    if (!r->json)
        fputc('\n', r->f);
}

void tcli_rec_str(tcli_rec *r, const char *key, const char *v)
{
    if (!r->json || !v) {
        tcli_rec_raw(r, key, "null", v && *v ? v : "-");
        return;
    }
    tcli_rec_key(r, key);
    tcli_json_str(r->f, v);
}

void tcli_rec_int(tcli_rec *r, const char *key, long long v)
{
    char t[32];
    snprintf(t, sizeof t, "%lld", v);
    tcli_rec_raw(r, key, t, t);
}

void tcli_rec_real(tcli_rec *r, const char *key, double v)
{
    char t[32];
    snprintf(t, sizeof t, "%.4f", v);
    tcli_rec_raw(r, key, t, t);
}

void tcli_rec_ints(tcli_rec *r, const char *key, const int64_t *v, int n)
{
    if (!v) {
        tcli_rec_raw(r, key, "null", "-");
        return;
    }
    tcli_rec_key(r, key);
    fputc(r->json ? '[' : '(', r->f);
    for (int i = 0; i < n; i++)
        fprintf(r->f, "%s%lld", i ? ", " : "", (long long)v[i]);
    if (!r->json && n == 1)
        fputc(',', r->f);
    fputs(r->json ? "]" : ")\n", r->f);
}

void tcli_rec_strs(tcli_rec *r, const char *key, const char *const *v, int n)
{
    tcli_rec_key(r, key);
    if (r->json)
        fputc('[', r->f);
    for (int i = 0; i < n; i++) {
        fputs(i ? ", " : "", r->f);
        if (r->json)
            tcli_json_str(r->f, v[i]);
        else
            fputs(v[i], r->f);
    }
    fputs(r->json ? "]" : n ? "\n" : "-\n", r->f);
}

void tcli_rec_end(tcli_rec *r)
{
    if (r->json)
        fprintf(r->f, "\n}");
}

/* ---- shared fields --------------------------------------------------------------------- */

static const char *tcli_special_name(int s)
{
    static const char *const names[] = {"none", "zeros", "nan", "value", "uninit"};
    return s >= 0 && s <= TERSA_SPECIAL_UNINIT ? names[s] : "unknown";
}

static const char *tcli_codec_label(int codec, char *buf, size_t cap)
{
    const char *n = tersa_codec_name(codec);
    if (n)
        return n;
    snprintf(buf, cap, "codec-%d", codec);
    return buf;
}

/* codec, filters (the non-empty slots in pipeline order), filter ids and metas. */
static void tcli_rec_pipeline(tcli_rec *r, int codec, const uint8_t *filters, const uint8_t *metas)
{
    char cbuf[16], fbuf[TERSA_MAX_FILTERS][16];
    const char *names[TERSA_MAX_FILTERS];
    int64_t ids[TERSA_MAX_FILTERS], mv[TERSA_MAX_FILTERS];
    int n = 0;
    for (int i = 0; i < TERSA_MAX_FILTERS; i++) {
        ids[i] = filters[i];
        mv[i] = metas[i];
        if (filters[i] == TERSA_FILTER_NONE)
            continue;
        const char *nm = tersa_filter_name(filters[i]);
        if (!nm)
            snprintf(fbuf[n], sizeof fbuf[n], "filter-%d", filters[i]);
        names[n] = nm ? nm : fbuf[n];
        n++;
    }
    tcli_rec_str(r, "codec", tcli_codec_label(codec, cbuf, sizeof cbuf));
    tcli_rec_int(r, "codec_id", codec);
    tcli_rec_strs(r, "filters", names, n);
    tcli_rec_ints(r, "filter_ids", ids, TERSA_MAX_FILTERS);
    tcli_rec_ints(r, "filters_meta", mv, TERSA_MAX_FILTERS);
}

static void tcli_rec_sizes(tcli_rec *r, int64_t nbytes, int64_t cbytes)
{
    tcli_rec_int(r, "nbytes", nbytes);
    tcli_rec_int(r, "cbytes", cbytes);
    tcli_rec_real(r, "ratio", cbytes > 0 ? (double)nbytes / (double)cbytes : 0.0);
}

/* The array keys that containers without a shape leave null. */
static void tcli_rec_no_shape(tcli_rec *r)
{
    tcli_rec_ints(r, "shape", NULL, 0);
    tcli_rec_str(r, "dtype", NULL);
    tcli_rec_ints(r, "chunkshape", NULL, 0);
    tcli_rec_ints(r, "blockshape", NULL, 0);
}

/* ---- bare chunks ----------------------------------------------------------------------- */

static void tcli_info_chunk_fields(tcli_rec *r, const tersa_chunk_info *c)
{
    tcli_rec_int(r, "version", c->version);
    tcli_rec_int(r, "versionlz", c->versionlz);
    tcli_rec_int(r, "typesize", c->typesize);
    tcli_rec_int(r, "blocksize", c->blocksize);
    tcli_rec_int(r, "nblocks", c->nblocks);
    tcli_rec_pipeline(r, c->codec, c->filters, c->filters_meta);
    tcli_rec_raw(r, "clevel", "null", "- (not stored in chunks)");
    tcli_rec_int(r, "codec_meta", c->codec_meta);
    tcli_rec_sizes(r, c->nbytes, c->cbytes);
    tcli_rec_int(r, "flags", c->flags);
    tcli_rec_int(r, "header_len", c->header_len);
    tcli_rec_int(r, "format_code", c->format_code);
    tcli_rec_int(r, "split", c->split);
    tcli_rec_int(r, "memcpyed", c->memcpyed);
    tcli_rec_str(r, "special", tcli_special_name(c->special));
    tcli_rec_int(r, "has_dict", c->has_dict);
    tcli_rec_int(r, "vlblocks", c->vlblocks);
    tcli_rec_int(r, "blosc2_flags", c->blosc2_flags);
    tcli_rec_int(r, "blosc2_flags2", c->blosc2_flags2);
}

static int tcli_info_chunk(tcli_src *s, tcli_rec *r)
{
    tersa_chunk_info c = {.struct_size = sizeof c};
    int rc = tersa_chunk_inspect(s->mem, s->memlen, &c);
    if (rc < 0)
        return tcli_tersa_error(s->arg, rc);
    int vrc = tersa_chunk_validate(s->mem, s->memlen);
    char detail[512];
    snprintf(detail, sizeof detail, "%s", vrc < 0 ? tersa_error_detail() : "");
    tcli_rec_begin(r, stdout, r->json);
    tcli_rec_str(r, "file", s->arg);
    tcli_rec_str(r, "kind", "chunk");
    tcli_rec_int(r, "file_size", (long long)s->memlen);
    tcli_rec_no_shape(r);
    tcli_info_chunk_fields(r, &c);
    tcli_rec_raw(r, "valid", vrc == 0 ? "true" : "false", vrc == 0 ? "true" : "false");
    tcli_rec_str(r, "validation_error", vrc == 0 ? NULL : tersa_error_name(vrc));
    tcli_rec_str(r, "validation_detail", vrc == 0 ? NULL : detail);
    tcli_rec_end(r);
    return vrc < 0 ? TCLI_FAIL : TCLI_OK;
}

/* ---- frames and b2nd arrays ------------------------------------------------------------ */

/* Count special chunks by kind (index 0: regular chunks); chunks that cannot be read count
 * in *bad. Only chunks small enough to be special are read. */
static void tcli_count_specials(tersa_schunk *sc, int64_t n, int64_t counts[5], int64_t *bad)
{
    uint8_t small[TERSA_MAX_OVERHEAD + TERSA_MAX_TYPESIZE + 1];
    for (int64_t i = 0; i < n; i++) {
        int32_t nb = 0, cb = 0;
        tersa_chunk_info ci = {.struct_size = sizeof ci};
        if (tersa_schunk_chunk_sizes(sc, i, &nb, &cb) < 0) {
            (*bad)++;
        } else if ((size_t)cb > sizeof small) {
            counts[0]++;
        } else if (tersa_schunk_get_chunk(sc, i, small, sizeof small) < 0 ||
                   tersa_chunk_inspect(small, (size_t)cb, &ci) < 0) {
            (*bad)++;
        } else {
            counts[ci.special >= 0 && ci.special <= 4 ? ci.special : 0]++;
        }
    }
}

static void tcli_rec_specials(tcli_rec *r, tersa_schunk *sc, int64_t n)
{
    int64_t c[5] = {0}, bad = 0;
    char json[160], text[160];
    tcli_count_specials(sc, n, c, &bad);
    snprintf(json, sizeof json,
             "{\"zeros\": %lld, \"nan\": %lld, \"value\": %lld, "
             "\"uninit\": %lld}",
             (long long)c[1], (long long)c[2], (long long)c[3], (long long)c[4]);
    snprintf(text, sizeof text, "%lld (zeros %lld, nan %lld, value %lld, uninit %lld)",
             (long long)(c[1] + c[2] + c[3] + c[4]), (long long)c[1], (long long)c[2],
             (long long)c[3], (long long)c[4]);
    tcli_rec_raw(r, "special_chunks", json, text);
    if (bad)
        tcli_rec_int(r, "unreadable_chunks", bad);
}

/* A name fit for JSON and terminals: quotes, backslashes and control bytes become '?'. */
static void tcli_safe_name(char *dst, size_t cap, const char *name)
{
    size_t n = 0;
    for (; name && name[n] && n + 1 < cap; n++) {
        unsigned char c = (unsigned char)name[n];
        dst[n] = c < 0x20 || c == '"' || c == '\\' || c >= 0x7f ? '?' : (char)c;
    }
    dst[n] = '\0';
}

/* metalayers / vlmetalayers: [{"name": ..., "size": ...}] or "name (N bytes), ...". */
static void tcli_rec_metas(tcli_rec *r, tersa_schunk *sc, int vl)
{
    int n = vl ? tersa_schunk_vlmeta_count(sc) : tersa_schunk_meta_count(sc);
    size_t jl = 0, tl = 0, cap = 64 + (size_t)(n > 0 ? n : 0) * 96;
    char *json = malloc(cap), *text = malloc(cap);
    if (!json || !text)
        goto out;
    jl += (size_t)snprintf(json, cap, "[");
    text[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *name = vl ? tersa_schunk_vlmeta_name(sc, i) : tersa_schunk_meta_name(sc, i);
        const uint8_t *c = NULL;
        size_t len = 0;
        int64_t size = vl ? tersa_schunk_vlmeta_get(sc, name, NULL, 0)
                          : (tersa_schunk_meta_get(sc, name, &c, &len) < 0 ? -1 : (int64_t)len);
        char safe[TERSA_METALAYER_NAME_MAX + 1];
        tcli_safe_name(safe, sizeof safe, name);
        jl += (size_t)snprintf(json + jl, cap - jl, "%s{\"name\": \"%s\", \"size\": %lld}",
                               i ? ", " : "", safe, (long long)size);
        tl += (size_t)snprintf(text + tl, cap - tl, "%s%s (%lld bytes)", i ? ", " : "", safe,
                               (long long)size);
    }
    snprintf(json + jl, cap - jl, "]");
    tcli_rec_raw(r, vl ? "vlmetalayers" : "metalayers", json, n ? text : "-");
out:
    free(json);
    free(text);
}

static void tcli_rec_array(tcli_rec *r, tcli_src *s)
{
    tersa_array_info ai = {.struct_size = sizeof ai};
    int64_t cs[TERSA_ND_MAX_DIM], bs[TERSA_ND_MAX_DIM];
    tersa_array_get_info(s->arr, &ai);
    for (int i = 0; i < ai.ndim; i++)
        cs[i] = ai.chunkshape[i], bs[i] = ai.blockshape[i];
    tcli_rec_int(r, "ndim", ai.ndim);
    tcli_rec_ints(r, "shape", ai.shape, ai.ndim);
    tcli_rec_str(r, "dtype", ai.dtype);
    tcli_rec_ints(r, "chunkshape", cs, ai.ndim);
    tcli_rec_ints(r, "blockshape", bs, ai.ndim);
    tcli_rec_int(r, "itemsize", ai.itemsize);
    tcli_rec_int(r, "nitems", ai.nitems);
    tcli_rec_str(r, "metalayer", ai.caterva ? "caterva" : "b2nd");
}

static const char *tcli_storage_name(const tcli_src *s, int storage)
{
    if (s->mem)
        return "memory";
    return storage == TERSA_STORAGE_SPARSE ? "sparse" : "file";
}

static int tcli_info_frame(tcli_src *s, tcli_rec *r)
{
    tersa_schunk_info fi = {.struct_size = sizeof fi};
    int rc = tersa_schunk_get_info(s->sc, &fi);
    if (rc < 0)
        return tcli_tersa_error(s->arg, rc);
    tcli_rec_begin(r, stdout, r->json);
    tcli_rec_str(r, "file", s->arg);
    tcli_rec_str(r, "kind", tcli_kind_name(s->kind));
    tcli_rec_str(r, "storage", tcli_storage_name(s, fi.storage));
    tcli_rec_int(r, "frame_version", fi.frame_version);
    if (s->arr)
        tcli_rec_array(r, s);
    else
        tcli_rec_no_shape(r);
    tcli_rec_int(r, "typesize", fi.typesize);
    tcli_rec_int(r, "chunksize", fi.chunksize);
    tcli_rec_int(r, "blocksize", fi.blocksize);
    tcli_rec_pipeline(r, fi.codec, fi.filters, fi.filters_meta);
    tcli_rec_int(r, "clevel", fi.clevel);
    tcli_rec_int(r, "codec_meta", fi.codec_meta);
    tcli_rec_int(r, "splitmode", fi.splitmode);
    tcli_rec_int(r, "use_dict", fi.use_dict);
    tcli_rec_int(r, "vlblocks", fi.vlblocks);
    tcli_rec_sizes(r, fi.nbytes, fi.cbytes);
    tcli_rec_int(r, "frame_len", fi.frame_len);
    tcli_rec_int(r, "nchunks", fi.nchunks);
    tcli_rec_specials(r, s->sc, fi.nchunks);
    tcli_rec_metas(r, s->sc, 0);
    tcli_rec_metas(r, s->sc, 1);
    tcli_rec_end(r);
    return TCLI_OK;
}

/* ---- .npy files ------------------------------------------------------------------------ */

static int tcli_info_npy(tcli_src *s, tcli_rec *r)
{
    int64_t n = tcli_src_nitems(s) * s->itemsize;
    tcli_rec_begin(r, stdout, r->json);
    tcli_rec_str(r, "file", s->arg);
    tcli_rec_str(r, "kind", "npy");
    tcli_rec_int(r, "ndim", s->ndim);
    tcli_rec_ints(r, "shape", s->shape, s->ndim);
    tcli_rec_str(r, "dtype", s->dtype);
    tcli_rec_ints(r, "chunkshape", NULL, 0);
    tcli_rec_ints(r, "blockshape", NULL, 0);
    tcli_rec_int(r, "itemsize", s->itemsize);
    tcli_rec_str(r, "codec", NULL);
    tcli_rec_raw(r, "clevel", "null", "-");
    tcli_rec_strs(r, "filters", NULL, 0);
    tcli_rec_sizes(r, n, s->file_size);
    tcli_rec_int(r, "header_len", s->data_off);
    tcli_rec_end(r);
    return TCLI_OK;
}

/* ---- the command ----------------------------------------------------------------------- */

static void tcli_info_usage(FILE *f)
{
    fprintf(f, "usage: tersa info PATH[:DATASET] ... [--json]\n\n"
               "Describe a Blosc2 chunk (*.cdata), frame (*.b2frame, contiguous or a sparse\n"
               "directory), b2nd array (*.b2nd), .npy file, or HDF5 dataset (FILE.h5:/path):\n"
               "shape, dtype, chunk and block shapes, codec, filters, clevel, sizes, ratio,\n"
               "number of chunks, special chunks, metalayers. A chunk is also validated\n"
               "(exit status 1 when it is invalid). PATH \"-\" reads stdin.\n\n"
               "Options:\n"
               "  --json       a JSON object (an array of them for several paths); the keys\n"
               "               kind, shape, dtype, chunkshape, blockshape, codec, clevel,\n"
               "               filters, nbytes, cbytes are always present (null where the\n"
               "               container has no such notion)\n"
               "  -h, --help   this help\n");
}

static int tcli_info_one(const char *path, int json, int *printed)
{
    tcli_src s;
    tcli_rec r = {stdout, json, 0};
    if (tcli_src_open(&s, path, 1) != TCLI_OK)
        return TCLI_FAIL;
    int rc = TCLI_FAIL;
    if (s.kind == TCLI_K_RAW)
        fprintf(stderr, "error: %s: not a Blosc2 chunk, frame, b2nd array, .npy or HDF5 file\n",
                path);
    else if ((*printed)++)
        fputs(json ? ",\n" : "\n", stdout);
    switch (s.kind) {
    case TCLI_K_CHUNK:
        rc = tcli_info_chunk(&s, &r);
        break;
    case TCLI_K_FRAME:
    case TCLI_K_B2ND:
        rc = tcli_info_frame(&s, &r);
        break;
    case TCLI_K_NPY:
        rc = tcli_info_npy(&s, &r);
        break;
    case TCLI_K_HDF5:
        rc = tcli_h5_info(&s, json);
        break;
    default:
        break;
    }
    tcli_src_close(&s);
    return rc;
}

int tcli_cmd_info(int argc, char **argv)
{
    int json = 0, npos = 0, status = TCLI_OK, printed = 0;
    const char *pos[64];
    const tcli_opt opts[] = {{"--json", NULL, NULL, &json}, {NULL, NULL, NULL, NULL}};
    int rc = tcli_parse(argc, argv, opts, NULL, NULL, pos, 64, &npos);
    if (rc < 0)
        tcli_info_usage(stdout);
    if (rc != TCLI_OK)
        return rc < 0 ? TCLI_OK : rc;
    if (npos < 1)
        return tcli_usage_error("info", "no input file");
    if (json && npos > 1)
        fputs("[", stdout);
    for (int i = 0; i < npos; i++) {
        rc = tcli_info_one(pos[i], json, &printed);
        if (rc != TCLI_OK)
            status = rc;
    }
    if (json && npos == 1 && !printed)
        fputs("null", stdout);
    if (json)
        fputs(npos > 1 ? "]\n" : "\n", stdout);
    return status;
}

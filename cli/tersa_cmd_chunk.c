/* `tersa compress`, `tersa decompress` and `tersa info` for bare Blosc2 chunks (*.cdata).
 * Frames are recognised by their magic and handed to tersa_cmd_frame.c. */
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

/* ---- decompress ------------------------------------------------------------------------ */

static void tcli_decompress_usage(FILE *f)
{
    fprintf(f, "usage: tersa decompress FILE -o OUT [--threads N]\n\n"
               "Decompress a Blosc2 chunk (*.cdata, any version the official libraries write)\n"
               "and write its bytes to OUT (\"-\" = stdout). The chunk is validated first.\n"
               "Contiguous frames (*.b2frame) are recognised but not supported yet.\n\n"
               "Options:\n"
               "  -o, --output OUT   output file (required)\n"
               "  --threads N        decompression threads (default 1)\n"
               "  -h, --help         this help\n");
}

static int tcli_chunk_decompress(const char *in, const uint8_t *buf, size_t len,
                                 const char *out, int nthreads)
{
    tersa_chunk_info info = {.struct_size = sizeof info};
    int rc = tersa_chunk_inspect(buf, len, &info);
    if (rc < 0) return tcli_tersa_error(in, rc);
    uint8_t *dst = malloc(info.nbytes > 0 ? (size_t)info.nbytes : 1);
    tersa_dctx *dctx = tersa_dctx_create();
    int64_t n = TERSA_ERR_NOMEM;
    if (dst && dctx) {
        n = tersa_dctx_set(dctx, TERSA_P_NTHREADS, nthreads);
        if (n >= 0) n = tersa_decompress(dctx, buf, len, dst, (size_t)info.nbytes);
    }
    int status = n < 0 ? tcli_tersa_error(in, n) : tcli_write_file(out, dst, (size_t)n);
    tersa_dctx_free(dctx);
    free(dst);
    return status;
}

int tcli_cmd_decompress(int argc, char **argv)
{
    const char *out = NULL, *threads = "1", *pos[1];
    const tcli_opt opts[] = {{"--output", "-o", &out, NULL},
                             {"--threads", NULL, &threads, NULL},
                             {NULL, NULL, NULL, NULL}};
    int npos = 0, rc = tcli_parse(argc, argv, opts, NULL, NULL, pos, 1, &npos);
    int64_t nthreads = 1;
    if (rc < 0) tcli_decompress_usage(stdout);
    if (rc != TCLI_OK) return rc < 0 ? TCLI_OK : rc;
    if (npos != 1) return tcli_usage_error("decompress", "no input file");
    if (!out) return tcli_usage_error("decompress", "no output file (-o OUT)");
    if (tbench_param_arg("--threads", TERSA_P_NTHREADS, threads, &nthreads)) return TCLI_USAGE;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (tcli_read_file(pos[0], &buf, &len) != TCLI_OK) return TCLI_FAIL;
    if (tcli_is_frame(buf, len))
        rc = tcli_frame_decompress(pos[0], buf, len, out, (int)nthreads);
    else
        rc = tcli_chunk_decompress(pos[0], buf, len, out, (int)nthreads);
    free(buf);
    return rc;
}

/* ---- compress -------------------------------------------------------------------------- */

static void tcli_compress_usage(FILE *f)
{
    size_t n = 0;
    const tersa_param_desc *t = tersa_param_table(&n);
    fprintf(f, "usage: tersa compress FILE -o OUT [--PARAMETER VALUE ...]\n\n"
               "Compress a whole file (at most %d bytes) into one Blosc2 chunk.\n\n"
               "Options:\n"
               "  -o, --output OUT   output file (required; \"-\" = stdout)\n"
               "  --codec NAME       codec (blosclz, lz4, lz4hc, zstd, zlib or a number)\n"
               "  --filter NAME      filter in pipeline slot 5 (shuffle, bitshuffle, ...)\n"
               "  --threads N        compression threads\n"
               "  -h, --help         this help\n\n"
               "Engine parameters (--NAME VALUE; codec and filter slots also take names):\n",
            (int)TERSA_MAX_BUFFERSIZE);
    for (size_t i = 0; t && i < n; i++)
        if (t[i].for_cctx)
            fprintf(f, "  --%-16s %lld..%lld, default %lld: %s\n", t[i].name,
                    (long long)t[i].min, (long long)t[i].max, (long long)t[i].def,
                    t[i].help ? t[i].help : "");
}

static int tcli_is_filter_param(tersa_param id)
{
    return id >= TERSA_P_FILTER0 && id <= TERSA_P_FILTER5;
}

/* The parameter an option names: an alias, or a compression entry of the table. */
static const tersa_param_desc *tcli_option_param(const char *opt, size_t len)
{
    static const struct {
        const char *name;
        tersa_param id;
    } alias[] = {{"--codec", TERSA_P_CODEC},       {"--clevel", TERSA_P_CLEVEL},
                 {"--typesize", TERSA_P_TYPESIZE}, {"--threads", TERSA_P_NTHREADS},
                 {"--filter", TERSA_P_FILTER5},    {"--blocksize", TERSA_P_BLOCKSIZE}};
    char name[64];
    for (size_t k = 0; k < sizeof alias / sizeof alias[0]; k++)
        if (strlen(alias[k].name) == len && !strncmp(opt, alias[k].name, len))
            return tersa_param_get(alias[k].id);
    if (len < 3 || len - 2 >= sizeof name || strncmp(opt, "--", 2) != 0) return NULL;
    memcpy(name, opt + 2, len - 2);
    name[len - 2] = '\0';
    const tersa_param_desc *d = tersa_param_find(name);
    return d && d->for_cctx ? d : NULL;
}

/* The value of a parameter option: codec and filter slots also take names. */
static int tcli_param_value(const char *opt, const tersa_param_desc *d, const char *val,
                            int64_t *v)
{
    int id = 0, rc;
    if (d->id == TERSA_P_CODEC)
        rc = tbench_codec_arg(opt, val, &id);
    else if (tcli_is_filter_param(d->id))
        rc = tbench_filter_arg(opt, val, &id);
    else
        return tbench_param_arg(opt, d->id, val, v);
    *v = id;
    return rc;
}

/* Convert and set one parameter option on the cctx (the tcli_other_fn of compress). */
static int tcli_compress_param(void *ctx, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *eq = strchr(a, '='), *val = eq ? eq + 1 : NULL;
    const tersa_param_desc *d = tcli_option_param(a, eq ? (size_t)(eq - a) : strlen(a));
    int64_t v = 0;
    if (!d) return 0;
    if (!val && *i + 1 >= argc) {
        tcli_missing_value(a);
        return -2;
    }
    if (!val) val = argv[++*i];
    if (tcli_param_value(a, d, val, &v) != TBENCH_EXIT_OK) return -2;
    int rc = tersa_cctx_set(ctx, d->id, v);
    if (rc < 0) {
        tcli_tersa_error(a, rc);
        return -2;
    }
    return 1;
}

static int tcli_chunk_compress(tersa_cctx *cctx, const char *in, const char *out)
{
    uint8_t *buf = NULL, *dst = NULL;
    size_t len = 0;
    if (tcli_read_file(in, &buf, &len) != TCLI_OK) return TCLI_FAIL;
    int64_t n = TERSA_ERR_TOO_LARGE;
    if (len <= TERSA_MAX_BUFFERSIZE) {
        dst = malloc(tersa_compress_bound(len));
        n = dst ? tersa_compress(cctx, buf, len, dst, tersa_compress_bound(len)) : TERSA_ERR_NOMEM;
    } else {
        fprintf(stderr, "error: %s: %zu bytes do not fit in one chunk\n", in, len);
    }
    int status = n < 0 ? tcli_tersa_error(in, n) : tcli_write_file(out, dst, (size_t)n);
    free(buf);
    free(dst);
    return status;
}

int tcli_cmd_compress(int argc, char **argv)
{
    const char *out = NULL, *pos[1];
    const tcli_opt opts[] = {{"--output", "-o", &out, NULL}, {NULL, NULL, NULL, NULL}};
    tersa_cctx *cctx = tersa_cctx_create();
    if (!cctx) return tcli_tersa_error("compress", TERSA_ERR_NOMEM);
    int npos = 0, rc = tcli_parse(argc, argv, opts, tcli_compress_param, cctx, pos, 1, &npos);
    if (rc < 0) tcli_compress_usage(stdout);
    if (rc == TCLI_OK && npos != 1) rc = tcli_usage_error("compress", "no input file");
    if (rc == TCLI_OK && !out) rc = tcli_usage_error("compress", "no output file (-o OUT)");
    if (rc == TCLI_OK) rc = tcli_chunk_compress(cctx, pos[0], out);
    tersa_cctx_free(cctx);
    return rc < 0 ? TCLI_OK : rc;
}

/* ---- info ------------------------------------------------------------------------------ */

static void tcli_info_usage(FILE *f)
{
    fprintf(f, "usage: tersa info FILE [--json]\n\n"
               "Print every header field of a Blosc2 chunk and whether the whole chunk is valid\n"
               "(header, sizes, block offsets, stream bounds; nothing is decoded).\n"
               "Exit status 1 when the chunk is invalid.\n\n"
               "Options:\n"
               "  --json       JSON output\n"
               "  -h, --help   this help\n");
}

/* One output field: a number, a string, or raw JSON text (arrays, booleans). */
typedef struct tcli_kv {
    const char *key;
    long long num;
    const char *str;
    int raw;
} tcli_kv;

static void tcli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void tcli_print_kv(const tcli_kv *kv, size_t n, int json)
{
    if (json) fputc('{', stdout);
    for (size_t i = 0; i < n; i++) {
        if (json) {
            printf("%s\n  \"%s\": ", i ? "," : "", kv[i].key);
            if (kv[i].str && !kv[i].raw)
                tcli_json_str(stdout, kv[i].str);
            else if (kv[i].str)
                fputs(kv[i].str, stdout);
            else
                printf("%lld", kv[i].num);
        } else if (kv[i].str) {
            printf("%-17s %s\n", kv[i].key, *kv[i].str ? kv[i].str : "-");
        } else {
            printf("%-17s %lld\n", kv[i].key, kv[i].num);
        }
    }
    if (json) printf("\n}\n");
}

/* "[a, b, ...]" of six bytes, as numbers or (names) as JSON strings. */
static void tcli_list6(char *out, size_t cap, const uint8_t v[TERSA_MAX_FILTERS], int names)
{
    size_t len = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < TERSA_MAX_FILTERS && len < cap; i++) {
        const char *n = tersa_filter_name(v[i]), *sep = i ? ", " : "";
        if (names)
            len += (size_t)snprintf(out + len, cap - len, "%s\"%s\"", sep, n ? n : "unknown");
        else
            len += (size_t)snprintf(out + len, cap - len, "%s%d", sep, v[i]);
    }
    if (len < cap) snprintf(out + len, cap - len, "]");
}

static const char *tcli_special_name(int s)
{
    static const char *const names[] = {"none", "zeros", "nan", "value", "uninit"};
    return s >= 0 && s <= TERSA_SPECIAL_UNINIT ? names[s] : "unknown";
}

/* Print the fields of a chunk whose header parsed; vrc/vdetail: the validation result. */
static void tcli_info_print(const char *path, size_t len, const tersa_chunk_info *c, int vrc,
                            const char *vdetail, int json)
{
    char filters[64], fnames[160], fmeta[64], ratio[32];
    const char *codec = tersa_codec_name(c->codec);
    tcli_list6(filters, sizeof filters, c->filters, 0);
    tcli_list6(fnames, sizeof fnames, c->filters, 1);
    tcli_list6(fmeta, sizeof fmeta, c->filters_meta, 0);
    snprintf(ratio, sizeof ratio, "%.3f", c->cbytes > 0 ? (double)c->nbytes / c->cbytes : 0.0);
    const tcli_kv kv[] = {
        {"file", 0, path, 0}, {"file_size", (long long)len, NULL, 0},
        {"version", c->version, NULL, 0}, {"versionlz", c->versionlz, NULL, 0},
        {"flags", c->flags, NULL, 0}, {"header_len", c->header_len, NULL, 0},
        {"typesize", c->typesize, NULL, 0}, {"nbytes", c->nbytes, NULL, 0},
        {"blocksize", c->blocksize, NULL, 0}, {"cbytes", c->cbytes, NULL, 0},
        {"nblocks", c->nblocks, NULL, 0}, {"ratio", 0, ratio, 1},
        {"codec", c->codec, NULL, 0}, {"codec_name", 0, codec ? codec : "unknown", 0},
        {"codec_meta", c->codec_meta, NULL, 0}, {"format_code", c->format_code, NULL, 0},
        {"filters", 0, filters, 1}, {"filter_names", 0, fnames, 1},
        {"filters_meta", 0, fmeta, 1}, {"split", c->split, NULL, 0},
        {"memcpyed", c->memcpyed, NULL, 0}, {"special", c->special, NULL, 0},
        {"special_name", 0, tcli_special_name(c->special), 0},
        {"has_dict", c->has_dict, NULL, 0}, {"vlblocks", c->vlblocks, NULL, 0},
        {"blosc2_flags", c->blosc2_flags, NULL, 0}, {"blosc2_flags2", c->blosc2_flags2, NULL, 0},
        {"valid", 0, vrc == 0 ? "true" : "false", 1},
        {"validation_error", 0, vrc == 0 ? "" : tersa_error_name(vrc), 0},
        {"validation_detail", 0, vdetail, 0},
    };
    tcli_print_kv(kv, sizeof kv / sizeof kv[0], json);
}

static int tcli_chunk_info(const char *path, const uint8_t *buf, size_t len, int json)
{
    tersa_chunk_info info = {.struct_size = sizeof info};
    int rc = tersa_chunk_inspect(buf, len, &info);
    if (rc < 0) return tcli_tersa_error(path, rc);
    char detail[512];
    int vrc = tersa_chunk_validate(buf, len);
    snprintf(detail, sizeof detail, "%s", vrc < 0 ? tersa_error_detail() : "");
    tcli_info_print(path, len, &info, vrc, detail, json);
    return vrc < 0 ? TCLI_FAIL : TCLI_OK;
}

int tcli_cmd_info(int argc, char **argv)
{
    int json = 0, npos = 0;
    const char *pos[1];
    const tcli_opt opts[] = {{"--json", NULL, NULL, &json}, {NULL, NULL, NULL, NULL}};
    int rc = tcli_parse(argc, argv, opts, NULL, NULL, pos, 1, &npos);
    if (rc < 0) tcli_info_usage(stdout);
    if (rc != TCLI_OK) return rc < 0 ? TCLI_OK : rc;
    if (npos != 1) return tcli_usage_error("info", "no input file");
    uint8_t *buf = NULL;
    size_t len = 0;
    if (tcli_read_file(pos[0], &buf, &len) != TCLI_OK) return TCLI_FAIL;
    rc = tcli_is_frame(buf, len) ? tcli_frame_info(pos[0], buf, len, json)
                                 : tcli_chunk_info(pos[0], buf, len, json);
    free(buf);
    return rc;
}

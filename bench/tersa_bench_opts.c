/* Options of the engine benchmark, and value helpers shared with the CLI. Values that are
 * engine parameters are checked against the library's public parameter table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tersa/tersa.h"
#include "tersa_bench_core.h"

/* Parse state: the options, plus what --quick may not override. */
typedef struct tb_parse {
    tbench_opts *o;
    int quick, size_set, runs_set;
} tb_parse;

typedef struct tb_option {
    const char *name; /* "--size" */
    const char *arg;  /* metavariable, NULL for a flag */
    const char *help;
    int (*set)(tb_parse *p, const char *opt, const char *val);
} tb_option;

int tbench_unknown_option(const char *option)
{
    fprintf(stderr, "error: %s: unknown option (see --help)\n", option);
    return TBENCH_EXIT_USAGE;
}

int tbench_int_arg(const char *option, const char *text, int64_t lo, int64_t hi, int64_t *value)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "error: %s %s: must be an integer in %lld..%lld\n", option, text,
                (long long)lo, (long long)hi);
        return TBENCH_EXIT_USAGE;
    }
    *value = v;
    return TBENCH_EXIT_OK;
}

int tbench_param_arg(const char *option, tersa_param param, const char *text, int64_t *value)
{
    const tersa_param_desc *d = tersa_param_get(param);
    if (!d) {
        fprintf(stderr, "error: %s: parameter %d is not in the library's table\n", option,
                (int)param);
        return TBENCH_EXIT_USAGE;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < d->min || v > d->max) {
        fprintf(stderr, "error: %s %s: %s must be an integer in %lld..%lld (%s)\n", option, text,
                d->name, (long long)d->min, (long long)d->max, d->help ? d->help : "");
        return TBENCH_EXIT_USAGE;
    }
    *value = v;
    return TBENCH_EXIT_OK;
}

/* Known names from a name function over ids 0..255, comma-separated, into buf. */
static const char *tb_known(const char *(*name)(int), char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int id = 0; id < 256; id++) {
        const char *n = name(id);
        if (n && len + strlen(n) + 3 < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", n);
    }
    return buf;
}

/* A name through from_name, or a number that name() knows. */
static int tb_named_arg(const char *option, const char *text, const char *what,
                        int (*from_name)(const char *), const char *(*name)(int), int *id)
{
    int v = from_name(text);
    char *end = NULL;
    long n = strtol(text, &end, 10);
    if (v < 0 && *text && !*end && n >= 0 && n < 256 && name((int)n)) v = (int)n;
    if (v < 0) {
        char known[512];
        fprintf(stderr, "error: %s %s: unknown %s (known: %s)\n", option, text, what,
                tb_known(name, known, sizeof known));
        return TBENCH_EXIT_USAGE;
    }
    *id = v;
    return TBENCH_EXIT_OK;
}

int tbench_codec_arg(const char *option, const char *text, int *codec)
{
    return tb_named_arg(option, text, "codec", tersa_codec_from_name, tersa_codec_name, codec);
}

int tbench_filter_arg(const char *option, const char *text, int *filter)
{
    return tb_named_arg(option, text, "filter", tersa_filter_from_name, tersa_filter_name,
                        filter);
}

/* ---- list options ---------------------------------------------------------------------- */

/* Split a comma-separated list and call one(item) for each; fills out[] (*n entries). */
static int tb_list(const char *opt, const char *val, int *out, int *n,
                   int (*one)(const char *opt, const char *item, int *v))
{
    char buf[512];
    if (strlen(val) >= sizeof buf || !*val) {
        fprintf(stderr, "error: %s: list empty or too long\n", opt);
        return TBENCH_EXIT_USAGE;
    }
    strcpy(buf, val);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n >= TBENCH_MAX_LIST) {
            fprintf(stderr, "error: %s: at most %d entries\n", opt, TBENCH_MAX_LIST);
            return TBENCH_EXIT_USAGE;
        }
        int rc = one(opt, tok, &out[*n]);
        if (rc != TBENCH_EXIT_OK) return rc;
        (*n)++;
    }
    if (*n == 0) fprintf(stderr, "error: %s: empty list\n", opt);
    return *n ? TBENCH_EXIT_OK : TBENCH_EXIT_USAGE;
}

static int tb_one_threads(const char *opt, const char *item, int *v)
{
    int64_t x = 0;
    int rc = tbench_param_arg(opt, TERSA_P_NTHREADS, item, &x);
    *v = (int)x;
    return rc;
}

static int tb_one_dataset(const char *opt, const char *item, int *v)
{
    *v = tbench_dataset_find(item);
    if (*v >= 0) return TBENCH_EXIT_OK;
    fprintf(stderr, "error: %s %s: unknown dataset (known:", opt, item);
    for (int i = 0; i < TBENCH_DS_COUNT_; i++)
        fprintf(stderr, "%s %s", i ? "," : "", tbench_datasets()[i].name);
    fprintf(stderr, ")\n");
    return TBENCH_EXIT_USAGE;
}

/* ---- the option table ------------------------------------------------------------------ */

static int tb_set_size(tb_parse *p, const char *opt, const char *val)
{
    int64_t v = 0;
    int rc = tbench_int_arg(opt, val, 1, 16384, &v);
    p->o->dataset_bytes = (size_t)v * TBENCH_MIB;
    p->size_set = 1;
    return rc;
}

static int tb_set_chunk(tb_parse *p, const char *opt, const char *val)
{
    int64_t v = 0;
    int rc = tbench_int_arg(opt, val, 1, 1024 * 1024, &v);
    p->o->chunk_bytes = (size_t)v * 1024;
    return rc;
}

static int tb_set_runs(tb_parse *p, const char *opt, const char *val)
{
    int64_t v = 0;
    int rc = tbench_int_arg(opt, val, 1, 64, &v);
    p->o->runs = (int)v;
    p->runs_set = 1;
    return rc;
}

static int tb_set_max_seconds(tb_parse *p, const char *opt, const char *val)
{
    int64_t v = 0;
    int rc = tbench_int_arg(opt, val, 0, 86400, &v);
    p->o->max_seconds = (int)v;
    return rc;
}

static int tb_set_clevel(tb_parse *p, const char *opt, const char *val)
{
    int64_t v = 0;
    int rc = tbench_param_arg(opt, TERSA_P_CLEVEL, val, &v);
    p->o->clevel = (int)v;
    return rc;
}

static int tb_set_codecs(tb_parse *p, const char *opt, const char *val)
{
    return tb_list(opt, val, p->o->codecs, &p->o->ncodecs, tbench_codec_arg);
}

static int tb_set_filters(tb_parse *p, const char *opt, const char *val)
{
    return tb_list(opt, val, p->o->filters, &p->o->nfilters, tbench_filter_arg);
}

static int tb_set_threads(tb_parse *p, const char *opt, const char *val)
{
    return tb_list(opt, val, p->o->threads, &p->o->nthreads, tb_one_threads);
}

static int tb_set_datasets(tb_parse *p, const char *opt, const char *val)
{
    int ids[TBENCH_MAX_LIST], n = 0;
    int rc = tb_list(opt, val, ids, &n, tb_one_dataset);
    p->o->datasets = 0;
    for (int i = 0; i < n; i++) p->o->datasets |= 1u << ids[i];
    return rc;
}

static int tb_set_csv(tb_parse *p, const char *opt, const char *val)
{
    p->o->format = TBENCH_CSV;
    return TBENCH_EXIT_OK;
}

static int tb_set_json(tb_parse *p, const char *opt, const char *val)
{
    p->o->format = TBENCH_JSON;
    return TBENCH_EXIT_OK;
}

static int tb_set_quick(tb_parse *p, const char *opt, const char *val)
{
    p->quick = 1;
    return TBENCH_EXIT_OK;
}

static const tb_option tb_options[] = {
    {"--size", "MIB", "MiB of data per dataset (default 64)", tb_set_size},
    {"--chunk", "KIB", "chunk size in KiB (default 4096)", tb_set_chunk},
    {"--runs", "N", "timed passes per cell, median reported (default 5)", tb_set_runs},
    {"--max-seconds", "S", "use 3 passes when the warm-up took longer than S (default 3; 0 "
                           "= never)", tb_set_max_seconds},
    {"--clevel", "N", "compression level (default 5)", tb_set_clevel},
    {"--codecs", "LIST", "codecs (default blosclz,lz4,lz4hc,zstd,zlib)", tb_set_codecs},
    {"--filters", "LIST", "filters in pipeline slot 5 (default shuffle,bitshuffle)",
     tb_set_filters},
    {"--threads", "LIST", "thread counts (default 1,2)", tb_set_threads},
    {"--datasets", "LIST", "datasets (default all; see below)", tb_set_datasets},
    {"--quick", NULL, "8 MiB per dataset, 2 runs (unless --size/--runs given)", tb_set_quick},
    {"--csv", NULL, "CSV output", tb_set_csv},
    {"--json", NULL, "JSON output", tb_set_json},
};
#define TB_NOPTIONS (sizeof tb_options / sizeof tb_options[0])

void tbench_usage(FILE *f, const char *usage_line)
{
    fprintf(f, "%s\n\nBenchmark the chunk engine on generated datasets: every codec x filter x "
               "threads cell\nis timed (median of N passes after a warm-up), verified byte for "
               "byte, and compared\nwith memcpy of the same chunks.\n\nOptions:\n",
            usage_line);
    for (size_t i = 0; i < TB_NOPTIONS; i++) {
        char left[40];
        snprintf(left, sizeof left, "%s%s%s", tb_options[i].name, tb_options[i].arg ? " " : "",
                 tb_options[i].arg ? tb_options[i].arg : "");
        fprintf(f, "  %-20s %s\n", left, tb_options[i].help);
    }
    fprintf(f, "  %-20s %s\n\nDatasets:\n", "-h, --help", "this help");
    for (int i = 0; i < TBENCH_DS_COUNT_; i++)
        fprintf(f, "  %-14s %s\n", tbench_datasets()[i].name, tbench_datasets()[i].desc);
    fprintf(f, "\nLists are comma-separated. GB/s = 1e9 bytes of uncompressed data per second.\n");
}

void tbench_defaults(tbench_opts *o, const char *tool)
{
    static const int codecs[] = {TERSA_CODEC_BLOSCLZ, TERSA_CODEC_LZ4, TERSA_CODEC_LZ4HC,
                                 TERSA_CODEC_ZSTD, TERSA_CODEC_ZLIB};
    memset(o, 0, sizeof *o);
    o->dataset_bytes = 64 * TBENCH_MIB;
    o->chunk_bytes = 4 * TBENCH_MIB;
    o->runs = 5;
    o->max_seconds = 3;
    o->clevel = 5;
    o->ncodecs = (int)(sizeof codecs / sizeof codecs[0]);
    memcpy(o->codecs, codecs, sizeof codecs);
    o->filters[0] = TERSA_FILTER_SHUFFLE;
    o->filters[1] = TERSA_FILTER_BITSHUFFLE;
    o->nfilters = 2;
    o->threads[0] = 1;
    o->threads[1] = 2;
    o->nthreads = 2;
    o->datasets = (1u << TBENCH_DS_COUNT_) - 1;
    o->format = TBENCH_TABLE;
    o->tool = tool;
}

/* One argument at argv[*i] (and its value); advances *i. */
static int tb_parse_one(tb_parse *p, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (size_t k = 0; k < TB_NOPTIONS; k++) {
        const tb_option *t = &tb_options[k];
        if (strlen(t->name) != len || strncmp(arg, t->name, len) != 0) continue;
        if (!t->arg && eq) break; /* a flag given a value */
        if (!t->arg) return t->set(p, t->name, NULL);
        if (eq) return t->set(p, t->name, eq + 1);
        if (*i + 1 >= argc) {
            fprintf(stderr, "error: %s: missing value %s\n", t->name, t->arg);
            return TBENCH_EXIT_USAGE;
        }
        return t->set(p, t->name, argv[++*i]);
    }
    return tbench_unknown_option(arg);
}

int tbench_parse(int argc, char **argv, tbench_opts *o)
{
    tb_parse p = {o, 0, 0, 0};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return -1;
        int rc = tb_parse_one(&p, argc, argv, &i);
        if (rc != TBENCH_EXIT_OK) return rc;
    }
    if (p.quick && !p.size_set) o->dataset_bytes = 8 * TBENCH_MIB;
    if (p.quick && !p.runs_set) o->runs = 2;
    return TBENCH_EXIT_OK;
}

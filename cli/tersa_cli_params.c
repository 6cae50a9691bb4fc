/* Compression options of the `tersa` command, all read from the library's parameter table
 * (tersa_param_table / tersa_param_find): names, bounds, defaults and help text come from
 * there; the CLI adds a few short aliases (--codec, --filter, --threads) and accepts codec and
 * filter names where the table has ids. */
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

/* Short spellings of table entries. */
static const struct {
    const char *name;
    tersa_param id;
} tcli_aliases[] = {{"--codec", TERSA_P_CODEC},       {"--clevel", TERSA_P_CLEVEL},
                    {"--typesize", TERSA_P_TYPESIZE}, {"--threads", TERSA_P_NTHREADS},
                    {"--filter", TERSA_P_FILTER5},    {"--blocksize", TERSA_P_BLOCKSIZE}};
#define TCLI_NALIASES (sizeof tcli_aliases / sizeof tcli_aliases[0])

static int tcli_is_filter_param(tersa_param id)
{
    return id >= TERSA_P_FILTER0 && id <= TERSA_P_FILTER5;
}

/* The parameter an option names: an alias, or "--" + a compression entry of the table. */
static const tersa_param_desc *tcli_option_param(const char *opt, size_t len)
{
    char name[64];
    for (size_t k = 0; k < TCLI_NALIASES; k++)
        if (strlen(tcli_aliases[k].name) == len && !strncmp(opt, tcli_aliases[k].name, len))
            return tersa_param_get(tcli_aliases[k].id);
    if (len < 3 || len - 2 >= sizeof name || strncmp(opt, "--", 2) != 0)
        return NULL;
    memcpy(name, opt + 2, len - 2);
    name[len - 2] = '\0';
    const tersa_param_desc *d = tersa_param_find(name);
    return d && d->for_cctx ? d : NULL;
}

/* --filter LIST: the names fill the last slots of the pipeline, earlier slots are cleared
 * ("delta,shuffle" puts delta in slot 4 and shuffle in slot 5). */
static int tcli_filter_list(tersa_cctx *cctx, const char *opt, const char *val)
{
    char buf[256], *save = NULL;
    int ids[TERSA_MAX_FILTERS], n = 0;
    if (strlen(val) >= sizeof buf) {
        fprintf(stderr, "error: %s: list too long\n", opt);
        return TCLI_USAGE;
    }
    strcpy(buf, val);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == TERSA_MAX_FILTERS) {
            fprintf(stderr, "error: %s %s: at most %d filters\n", opt, val, TERSA_MAX_FILTERS);
            return TCLI_USAGE;
        }
        if (tbench_filter_arg(opt, t, &ids[n]) != TBENCH_EXIT_OK)
            return TCLI_USAGE;
        n++;
    }
    if (n == 0)
        return tbench_filter_arg(opt, val, &ids[0]);
    for (int s = 0; s < TERSA_MAX_FILTERS; s++) {
        int v = s < TERSA_MAX_FILTERS - n ? TERSA_FILTER_NONE : ids[s - (TERSA_MAX_FILTERS - n)];
        int rc = tersa_cctx_set(cctx, (tersa_param)(TERSA_P_FILTER0 + s), v);
        if (rc < 0) {
            tcli_tersa_error(opt, rc);
            return TCLI_USAGE;
        }
    }
    return TCLI_OK;
}

/* The value of one parameter option, checked against the table. */
static int tcli_param_value(const char *opt, const tersa_param_desc *d, const char *val, int64_t *v)
{
    int id = 0, rc;
    if (d->id == TERSA_P_CODEC)
        rc = tbench_codec_arg(opt, val, &id);
    else if (tcli_is_filter_param(d->id))
        rc = tbench_filter_arg(opt, val, &id);
    else if (d->id == TERSA_P_BLOCKSIZE)
        return tcli_size_arg(opt, val, d->min, d->max, v);
    else
        return tbench_param_arg(opt, d->id, val, v);
    *v = id;
    return rc;
}

int tcli_cparam_option(void *ctx, int argc, char **argv, int *i)
{
    tersa_cctx *cctx = ctx;
    const char *a = argv[*i], *eq = strchr(a, '='), *val = eq ? eq + 1 : NULL;
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    const tersa_param_desc *d = tcli_option_param(a, len);
    int64_t v = 0;
    if (!d)
        return 0;
    if (!val && *i + 1 >= argc) {
        tcli_missing_value(a);
        return -2;
    }
    if (!val)
        val = argv[++*i];
    if (len == 8 && !strncmp(a, "--filter", 8) && strchr(val, ','))
        return tcli_filter_list(cctx, "--filter", val) == TCLI_OK ? 1 : -2;
    if (tcli_param_value(a, d, val, &v) != TCLI_OK)
        return -2;
    int rc = tersa_cctx_set(cctx, d->id, v);
    if (rc < 0) {
        tcli_tersa_error(a, rc);
        return -2;
    }
    return 1;
}

void tcli_cparam_help(FILE *f)
{
    size_t n = 0;
    const tersa_param_desc *t = tersa_param_table(&n);
    fprintf(f, "Compression parameters (bounds and defaults from the library's parameter table):\n"
               "  --codec NAME       a name (blosclz, lz4, lz4hc, zlib, zstd) or a number\n"
               "  --filter LIST      shuffle, bitshuffle, delta, trunc-prec, bytedelta, none; a\n"
               "                     list such as delta,shuffle fills the last pipeline slots\n"
               "  --threads N        the same as --nthreads\n"
               "  --blocksize SIZE   K/M suffixes allowed\n");
    for (size_t i = 0; t && i < n; i++)
        if (t[i].for_cctx)
            fprintf(f, "  --%-16s %lld..%lld, default %lld: %s\n", t[i].name, (long long)t[i].min,
                    (long long)t[i].max, (long long)t[i].def, t[i].help ? t[i].help : "");
}

tersa_cctx *tcli_cctx_new(void)
{
    tersa_cctx *c = tersa_cctx_create();
    if (!c)
        tcli_tersa_error("compression context", TERSA_ERR_NOMEM);
    return c;
}

int tcli_cctx_threads(const tersa_cctx *cctx)
{
    int64_t v = 1;
    if (!cctx || tersa_cctx_get(cctx, TERSA_P_NTHREADS, &v) < 0 || v < 1)
        v = 1;
    return (int)v;
}

/* Helpers of the `tersa` command: files, error messages, format detection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

int tcli_is_help(const char *arg) { return !strcmp(arg, "-h") || !strcmp(arg, "--help"); }

int tcli_tersa_error(const char *what, int64_t rc)
{
    const char *detail = tersa_error_detail();
    fprintf(stderr, "error: %s: %s%s%s\n", what, tersa_error_message((int)rc),
            *detail ? ": " : "", detail);
    return TCLI_FAIL;
}

int tcli_missing_value(const char *option)
{
    fprintf(stderr, "error: %s: missing value\n", option);
    return TCLI_USAGE;
}

int tcli_usage_error(const char *cmd, const char *what)
{
    fprintf(stderr, "error: %s (see tersa %s --help)\n", what, cmd);
    return TCLI_USAGE;
}

/* Read the rest of a stream into a growing buffer. */
static int tcli_slurp(FILE *f, uint8_t **buf, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap) break;
        uint8_t *nb = cap <= SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
        if (!nb) free(b);
        b = nb;
        cap *= 2;
    }
    if (!b || ferror(f)) {
        free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

int tcli_read_file(const char *path, uint8_t **buf, size_t *len)
{
    int is_std = strcmp(path, "-") == 0;
    FILE *f = is_std ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
        return TCLI_FAIL;
    }
    int rc = tcli_slurp(f, buf, len);
    if (rc != 0) fprintf(stderr, "error: %s: read failed or out of memory\n", path);
    if (!is_std) fclose(f);
    return rc ? TCLI_FAIL : TCLI_OK;
}

int tcli_write_file(const char *path, const void *buf, size_t len)
{
    int is_std = strcmp(path, "-") == 0;
    FILE *f = is_std ? stdout : fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
        return TCLI_FAIL;
    }
    int bad = len && fwrite(buf, 1, len, f) != len;
    bad |= is_std ? fflush(f) != 0 : fclose(f) != 0;
    if (bad) fprintf(stderr, "error: %s: write failed: %s\n", path, strerror(errno));
    return bad ? TCLI_FAIL : TCLI_OK;
}

int tcli_is_frame(const uint8_t *buf, size_t len)
{
    return len >= 10 && memcmp(buf + 2, "b2frame\0", 8) == 0;
}

/* The value of option o at argv[*i] ("--name VALUE" or "--name=VALUE"); advances *i.
 * Returns 1 when matched, 0 when argv[*i] is another option, TCLI_USAGE-negated (-2) when the
 * value is missing. */
static int tcli_match(const tcli_opt *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    int hit = (strlen(o->name) == len && !strncmp(a, o->name, len)) ||
              (o->alias && strlen(o->alias) == len && !strncmp(a, o->alias, len));
    if (!hit) return 0;
    if (o->flag) {
        if (eq) return 0; /* flags take no value: reported as unknown */
        *o->flag = 1;
        return 1;
    }
    if (eq) {
        *o->val = eq + 1;
    } else if (*i + 1 < argc) {
        *o->val = argv[++*i];
    } else {
        tcli_missing_value(o->name);
        return -2;
    }
    return 1;
}

int tcli_parse(int argc, char **argv, const tcli_opt *opts, tcli_other_fn other, void *ctx,
               const char **pos, int maxpos, int *npos)
{
    int dashdash = 0;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && a[0] == '-' && a[1]) {
            if (tcli_is_help(a)) return -1;
            if (!strcmp(a, "--")) {
                dashdash = 1;
                continue;
            }
            int m = 0;
            for (const tcli_opt *o = opts; o && o->name && !m; o++) m = tcli_match(o, argc, argv, &i);
            if (m == 0 && other) m = other(ctx, argc, argv, &i);
            if (m < 0) return TCLI_USAGE;
            if (m == 0) return tbench_unknown_option(a);
            continue;
        }
        if (*npos >= maxpos) return tcli_usage_error(argv[0], "too many arguments");
        pos[(*npos)++] = a;
    }
    return TCLI_OK;
}

/* Helpers of the `tersa` command: files, error messages, option values, the progress bar. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tersa_cli.h"

int tcli_is_help(const char *arg)
{
    return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

int tcli_tersa_error(const char *what, int64_t rc)
{
    const char *detail = tersa_error_detail();
    fprintf(stderr, "error: %s: %s%s%s\n", what, tersa_error_message((int)rc), *detail ? ": " : "",
            detail);
    return TCLI_FAIL;
}

int tcli_detail_error(const char *what)
{
    const char *d = tersa_error_detail();
    fprintf(stderr, "error: %s: %s\n", what, *d ? d : "failed");
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
        if (n < cap)
            break;
        uint8_t *nb = cap <= SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
        if (!nb)
            free(b);
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
    if (rc != 0)
        fprintf(stderr, "error: %s: read failed or out of memory\n", path);
    if (!is_std)
        fclose(f);
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
    if (bad)
        fprintf(stderr, "error: %s: write failed: %s\n", path, strerror(errno));
    return bad ? TCLI_FAIL : TCLI_OK;
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
    if (!hit)
        return 0;
    if (o->flag) {
        if (eq)
            return 0; /* flags take no value: reported as unknown */
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
            if (tcli_is_help(a))
                return -1;
            if (!strcmp(a, "--")) {
                dashdash = 1;
                continue;
            }
            int m = 0;
            for (const tcli_opt *o = opts; o && o->name && !m; o++)
                m = tcli_match(o, argc, argv, &i);
            if (m == 0 && other)
                m = other(ctx, argc, argv, &i);
            if (m < 0)
                return TCLI_USAGE;
            if (m == 0)
                return tbench_unknown_option(a);
            continue;
        }
        if (*npos >= maxpos)
            return tcli_usage_error(argv[0], "too many arguments");
        pos[(*npos)++] = a;
    }
    return TCLI_OK;
}

int tcli_is_std(const char *path)
{
    return strcmp(path, "-") == 0;
}

int tcli_path_exists(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    return S_ISDIR(st.st_mode) ? 2 : 1;
}

int tcli_check_output(const char *path, int force)
{
    struct stat st;
    if (tcli_is_std(path) || force || stat(path, &st) != 0)
        return TCLI_OK;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return TCLI_OK; /* /dev/null, a fifo */
    fprintf(stderr, "error: %s: already exists (use -f to overwrite)\n", path);
    return TCLI_FAIL;
}

int tcli_same_file(const char *a, const char *b)
{
    struct stat x, y;
    if (tcli_is_std(a) || tcli_is_std(b) || stat(a, &x) != 0 || stat(b, &y) != 0)
        return 0;
    return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

void tcli_remove_output(const char *path)
{
    struct stat st;
    if (!tcli_is_std(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode))
        remove(path);
}

char *tcli_concat(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);
    char *s = malloc(a + b + 1);
    if (!s) {
        fprintf(stderr, "error: out of memory\n");
        return NULL;
    }
    memcpy(s, path, a);
    memcpy(s + a, suffix, b + 1);
    return s;
}

int tcli_has_suffix(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);
    return a > b && strcmp(path + a - b, suffix) == 0;
}

double tcli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tcli_json_str(FILE *f, const char *s)
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

/* ---- option values --------------------------------------------------------------------- */

/* The multiplier of a size suffix (K, M, G, optionally followed by "iB" or "B"), or 0. */
static int64_t tcli_suffix(const char *s)
{
    static const char *const units[] = {"", "K", "M", "G"};
    static const char *const tails[] = {"", "B", "iB"};
    for (int u = 0; u < 4; u++)
        for (int t = 0; t < 3; t++) {
            char want[8];
            if (u == 0 && t == 2)
                continue;
            snprintf(want, sizeof want, "%s%s", units[u], tails[t]);
            if (strcasecmp(s, want) == 0)
                return (int64_t)1 << (10 * u);
        }
    return 0;
}

int tcli_size_arg(const char *option, const char *text, int64_t lo, int64_t hi, int64_t *v)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    int64_t mul = end != text ? tcli_suffix(end) : 0;
    if (!*text || errno || mul == 0 || n < 0 || n > hi / mul || n * mul < lo) {
        fprintf(stderr, "error: %s %s: must be a size in %lld..%lld (K/M/G suffixes allowed)\n",
                option, text, (long long)lo, (long long)hi);
        return TCLI_USAGE;
    }
    *v = n * mul;
    return TCLI_OK;
}

int tcli_int_list(const char *option, const char *text, int64_t lo, int64_t hi, int64_t *out,
                  int max, int *count)
{
    const char *p = text;
    *count = 0;
    while (*p) {
        char *end = NULL;
        errno = 0;
        long long n = strtoll(p, &end, 10);
        if (end == p || errno || n < lo || n > hi || *count >= max || (*end && *end != ',')) {
            fprintf(stderr,
                    "error: %s %s: must be up to %d comma-separated integers in "
                    "%lld..%lld\n",
                    option, text, max, (long long)lo, (long long)hi);
            return TCLI_USAGE;
        }
        out[(*count)++] = n;
        p = *end ? end + 1 : end;
    }
    if (*count == 0) {
        fprintf(stderr, "error: %s: empty list\n", option);
        return TCLI_USAGE;
    }
    return TCLI_OK;
}

/* ---- progress -------------------------------------------------------------------------- */

void tcli_progress_start(tcli_progress *p, int mode, int64_t total, const char *label)
{
    memset(p, 0, sizeof *p);
    p->on = mode > 0 || (mode < 0 && isatty(STDERR_FILENO));
    p->total = total;
    p->label = label;
    p->t0 = p->last = tcli_now();
}

static void tcli_progress_draw(tcli_progress *p, double now)
{
    double dt = now - p->t0, rate = dt > 0 ? (double)p->done / dt : 0;
    double frac = p->total > 0 ? (double)p->done / (double)p->total : 1.0;
    char bar[31];
    int fill = (int)(frac * 30 + 0.5);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    long left = rate > 0 ? (long)((double)(p->total - p->done) / rate + 0.5) : 0;
    fprintf(stderr, "\r%s [%s] %3d%% %8.1f MB/s  %ld:%02ld left ", p->label ? p->label : "", bar,
            (int)(frac * 100), rate / 1e6, left / 60, left % 60);
    fflush(stderr);
}

void tcli_progress_add(tcli_progress *p, int64_t n)
{
    if (!p)
        return;
    p->done += n;
    double now = tcli_now();
    if (!p->on || now - p->last < 0.2)
        return;
    p->last = now;
    tcli_progress_draw(p, now);
}

void tcli_progress_end(tcli_progress *p)
{
    if (!p || !p->on)
        return;
    tcli_progress_draw(p, tcli_now());
    fputc('\n', stderr);
}

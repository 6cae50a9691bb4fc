/* The manual page doc/tersa.1 is kept in step with `--help`: every command listed by
 * `tersa --help` has a section, and every option that `tersa COMMAND --help` lists appears in
 * that command's section (or, for compression parameters, in COMPRESSION PARAMETERS). */
#include <ctype.h>

#include "th_cli.h"

/* The man page with font escapes removed and "\-" turned into "-" (malloc'd). */
static char *load_man(void)
{
    size_t len = 0, w = 0;
    char *b = (char *)th_read_file(TERSA_SOURCE_DIR "/doc/tersa.1", &len);
    for (size_t r = 0; b && r < len; r++) {
        if (b[r] == '\\' && r + 1 < len && b[r + 1] == '-') {
            b[w++] = '-';
            r++;
        } else if (b[r] == '\\' && r + 2 < len && b[r + 1] == 'f') {
            r += 2; /* \fB, \fI, \fR */
        } else {
            b[w++] = b[r];
        }
    }
    if (b)
        b[w] = '\0';
    return b;
}

/* The text from the line starting with `head` to the next .SS or .SH line (malloc'd). */
static char *section(const char *man, const char *head)
{
    const char *p = strstr(man, head), *e = NULL;
    if (!p)
        return NULL;
    for (const char *q = strchr(p, '\n'); q && !e; q = strchr(q + 1, '\n'))
        if (!strncmp(q + 1, ".SS", 3) || !strncmp(q + 1, ".SH", 3))
            e = q;
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char *s = malloc(n + 1);
    if (s)
        memcpy(s, p, n), s[n] = '\0';
    return s;
}

static int is_opt_char(char c)
{
    return islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-';
}

/* 1 when text holds token not followed by another option character. */
static int has_word(const char *text, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = text ? strstr(text, token) : NULL; p; p = strstr(p + 1, token))
        if (!is_opt_char(p[n]) && (p == text || !is_opt_char(p[-1])))
            return 1;
    return 0;
}

/* Options named in a help text: --long-names and -x short names after a separator. */
static int help_options(const char *h, char opts[][40], int max)
{
    int n = 0;
    for (size_t i = 0; h[i] && n < max; i++) {
        int after = i == 0 || strchr(" ,[(|/\n", h[i - 1]) != NULL;
        size_t len = 0;
        if (!after || h[i] != '-')
            continue;
        if (h[i + 1] == '-' && islower((unsigned char)h[i + 2]))
            for (len = 2; is_opt_char(h[i + len]) && len < 39; len++) {
            }
        else if (isalpha((unsigned char)h[i + 1]) && !isalnum((unsigned char)h[i + 2]) &&
                 h[i + 2] != '-')
            len = 2;
        while (len > 2 && h[i + len - 1] == '-')
            len--;
        if (len < 2)
            continue;
        memcpy(opts[n], h + i, len);
        opts[n++][len] = '\0';
    }
    return n;
}

static int list_commands(char names[][32], int max)
{
    const char *args[] = {"--help", NULL};
    size_t len = 0;
    int n = 0;
    if (th_cli_run(args) != 0)
        return 0;
    char *b = (char *)th_read_file(th_cli_out, &len), *p = b ? strstr(b, "Commands:\n") : NULL;
    for (p = p ? strchr(p, '\n') + 1 : NULL; p && p[0] == ' ' && p[1] == ' ' && n < max;) {
        sscanf(p, " %31s", names[n++]);
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    free(b);
    return n;
}

static void check_command(const char *man, const char *params, const char *cmd)
{
    char head[64], opts[128][40];
    size_t len = 0;
    snprintf(head, sizeof head, ".SS \"tersa %s", cmd);
    char *sec = section(man, head);
    if (!sec)
        TH_FAIL_AT("doc/tersa.1 has no section for '%s'", cmd);
    const char *args[] = {cmd, "--help", NULL};
    CHECK_EQ(th_cli_run(args), 0);
    char *help = (char *)th_read_file(th_cli_out, &len);
    if (help)
        help[len ? len - 1 : 0] = '\0';
    int n = help ? help_options(help, opts, 128) : 0;
    CHECK(n > 1);
    for (int i = 0; i < n && sec; i++) {
        th_checks++;
        if (!has_word(sec, opts[i]) && !has_word(params, opts[i]))
            TH_FAIL_AT("doc/tersa.1: option %s of 'tersa %s --help' is not documented", opts[i],
                       cmd);
    }
    free(help);
    free(sec);
}

int main(int argc, char **argv)
{
    char names[16][32];
    if (th_cli_setup(argc, argv, "test_cli_man"))
        return 1;
    char *man = load_man();
    CHECK(man != NULL);
    if (!man)
        return th_report("cli_man");
    char *params = section(man, ".SH COMPRESSION PARAMETERS");
    CHECK(params != NULL);
    int n = list_commands(names, 16);
    CHECK(n >= 8);
    for (int i = 0; i < n; i++)
        check_command(man, params ? params : "", names[i]);
    CHECK(has_word(man, "--version"));
    CHECK(has_word(man, "--help"));
    free(params);
    free(man);
    th_cli_cleanup();
    return th_report("cli_man");
}

/* Driving the real `tersa` binary from the CLI tests (tests/test_cli*.c): run it with
 * arguments, stdin from a file, stdout and stderr captured in files; pipe one run into
 * another; small file helpers (search, digest, .npy writer). Include it before anything else.
 *
 * Where the binary is: argv[1] of the test when given, else "../tersa". CTest runs each test
 * in <build>/tests and cli/CMakeLists.txt puts the executable in the build root. Scratch files
 * are named after the test and its process id, in the current directory. */
#ifndef TH_CLI_H
#define TH_CLI_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "th_sha256.h"

extern char **environ;

static const char *th_cli_path = "../tersa";
static char th_cli_out[64], th_cli_err[64], th_cli_tmp[48];

/* Set up the binary path and the scratch names; returns 0, or 1 when the binary is missing. */
static inline int th_cli_setup(int argc, char **argv, const char *name)
{
    if (argc > 1)
        th_cli_path = argv[1];
    if (access(th_cli_path, X_OK) != 0) {
        fprintf(stderr,
                "%s: %s is not an executable (run from <build>/tests or pass the path "
                "of tersa)\n",
                name, th_cli_path);
        return 1;
    }
    long pid = (long)getpid();
    snprintf(th_cli_out, sizeof th_cli_out, "%s_%ld.out", name, pid);
    snprintf(th_cli_err, sizeof th_cli_err, "%s_%ld.err", name, pid);
    snprintf(th_cli_tmp, sizeof th_cli_tmp, "%s_%ld", name, pid);
    return 0;
}

static inline void th_cli_cleanup(void)
{
    remove(th_cli_out);
    remove(th_cli_err);
}

/* A scratch name: <test>_<pid>.<suffix> (static buffer per call site: copy if kept). */
static inline void th_cli_name(char *buf, size_t cap, const char *suffix)
{
    snprintf(buf, cap, "%s.%s", th_cli_tmp, suffix);
}

/* Spawn the CLI with args (NULL-terminated, without argv[0]); fd 0/1/2 from the given fds
 * (-1: /dev/null for stdin, the capture files for stdout and stderr). Returns the pid or -1. */
static inline pid_t th_cli_spawn(const char *const *args, int in_fd, int out_fd,
                                 const char *in_path)
{
    const char *argv[48] = {th_cli_path};
    int n = 1;
    for (; args[n - 1] && n < 47; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, in_path ? in_path : "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, th_cli_out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, th_cli_err, O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, th_cli_path, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

static inline int th_cli_wait(pid_t pid)
{
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run with stdin from in_path (NULL: /dev/null). Returns the exit status or -1. */
static inline int th_cli_run_in(const char *const *args, const char *in_path)
{
    remove(th_cli_err);
    return th_cli_wait(th_cli_spawn(args, -1, -1, in_path));
}

static inline int th_cli_run(const char *const *args)
{
    return th_cli_run_in(args, NULL);
}

/* a | b with a's stdin from in_path and b's stdout into out_path; *sa, *sb: exit statuses. */
static inline void th_cli_pipe(const char *const *a, const char *const *b, const char *in_path,
                               const char *out_path, int *sa, int *sb)
{
    int fds[2], out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    remove(th_cli_err);
    *sa = *sb = -1;
    if (out < 0 || pipe(fds) != 0) {
        if (out >= 0)
            close(out);
        return;
    }
    pid_t pa = th_cli_spawn(a, -1, fds[1], in_path);
    close(fds[1]);
    pid_t pb = th_cli_spawn(b, fds[0], out, NULL);
    close(fds[0]);
    close(out);
    *sa = th_cli_wait(pa);
    *sb = th_cli_wait(pb);
}

/* Run and check the exit status; on a mismatch print the command and its stderr. */
#define EXPECT_RUN(status, ...)                                                                    \
    do {                                                                                           \
        const char *args_[] = {__VA_ARGS__, NULL};                                                 \
        int st_ = th_cli_run(args_);                                                               \
        CHECK_EQ(st_, status);                                                                     \
        if (st_ != (status))                                                                       \
            th_cli_explain(args_);                                                                 \
    } while (0)

static inline void th_cli_explain(const char *const *args)
{
    size_t len = 0;
    unsigned char *e = th_read_file(th_cli_err, &len);
    fprintf(stderr, "  (tersa");
    for (int i = 0; args[i]; i++)
        fprintf(stderr, " %s", args[i]);
    fprintf(stderr, ")\n  stderr: %.*s\n", (int)(len < 600 ? len : 600), e ? (char *)e : "");
    free(e);
}

/* 1 when the file contains s. */
static inline int th_file_has(const char *path, const char *s)
{
    size_t len = 0, n = strlen(s);
    unsigned char *b = th_read_file(path, &len);
    int found = 0;
    for (size_t i = 0; b && i + n <= len && !found; i++)
        found = memcmp(b + i, s, n) == 0;
    free(b);
    return found;
}

static inline int th_file_lines(const char *path)
{
    size_t len = 0;
    unsigned char *b = th_read_file(path, &len);
    int n = 0;
    for (size_t i = 0; b && i < len; i++)
        n += b[i] == '\n';
    free(b);
    return n;
}

static inline long th_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* SHA-256 of a file as hex ("" when it cannot be read). */
static inline void th_file_sha256(const char *path, char hex[65])
{
    size_t len = 0;
    unsigned char *b = th_read_file(path, &len);
    if (!b) {
        hex[0] = '\0';
        return;
    }
    th_sha256_hex(b, len, hex);
    free(b);
}

static inline int th_write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && (n == 0 || fwrite(p, 1, n, f) == n);
    if (f)
        ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}

/* A .npy file (format 1.0, C order) of n data bytes. */
static inline int th_write_npy(const char *path, const char *descr, int ndim, const int64_t *shape,
                               const void *data, size_t n)
{
    char dict[512];
    int len =
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < ndim; i++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%s%lld", i ? ", " : "",
                        (long long)shape[i]);
    len += snprintf(dict + len, sizeof dict - (size_t)len, "%s), }", ndim == 1 ? "," : "");
    size_t total = (10 + (size_t)len + 1 + 63) / 64 * 64, hl = total - 10;
    unsigned char *buf = malloc(total + n);
    if (!buf)
        return -1;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hl & 255);
    buf[9] = (unsigned char)(hl >> 8);
    memcpy(buf + 10, dict, (size_t)len);
    memset(buf + 10 + len, ' ', hl - (size_t)len);
    buf[total - 1] = '\n';
    if (n)
        memcpy(buf + total, data, n);
    int rc = th_write_bytes(path, buf, total + n);
    free(buf);
    return rc;
}

/* The data part of a .npy file written by th_write_npy or tersa (its header length). */
static inline size_t th_npy_data_offset(const unsigned char *b, size_t len)
{
    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return 0;
    if (b[6] == 1)
        return 10 + (size_t)(b[8] | b[9] << 8);
    return len >= 12 ? 12 + (size_t)(b[8] | b[9] << 8 | b[10] << 16 | (size_t)b[11] << 24) : 0;
}

#endif

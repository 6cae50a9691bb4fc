/* The tiny test harness: asserts that print both sides, a failure counter, helpers for files
 * and digests. One header, included by every tests/test_*.c. */
#ifndef TERSA_HARNESS_H
#define TERSA_HARNESS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int th_failures = 0;
static int th_checks = 0;

#define TH_FAIL_AT(...)                                                                        \
    do {                                                                                       \
        th_failures++;                                                                         \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                        \
        fprintf(stderr, __VA_ARGS__);                                                          \
        fputc('\n', stderr);                                                                   \
    } while (0)

/* Compare two integers; print both on failure. */
#define CHECK_EQ(a, b)                                                                         \
    do {                                                                                       \
        long long th_a_ = (long long)(a), th_b_ = (long long)(b);                              \
        th_checks++;                                                                           \
        if (th_a_ != th_b_) TH_FAIL_AT("CHECK_EQ(%s, %s): %lld != %lld", #a, #b, th_a_, th_b_); \
    } while (0)
#define CHECK_NE(a, b)                                                                         \
    do {                                                                                       \
        long long th_a_ = (long long)(a), th_b_ = (long long)(b);                              \
        th_checks++;                                                                           \
        if (th_a_ == th_b_) TH_FAIL_AT("CHECK_NE(%s, %s): both %lld", #a, #b, th_a_);           \
    } while (0)
#define CHECK(cond)                                                                            \
    do {                                                                                       \
        th_checks++;                                                                           \
        if (!(cond)) TH_FAIL_AT("CHECK(%s) failed", #cond);                                    \
    } while (0)
#define CHECK_STR(a, b)                                                                        \
    do {                                                                                       \
        const char *th_a_ = (a), *th_b_ = (b);                                                 \
        th_checks++;                                                                           \
        if (!th_a_ || !th_b_ || strcmp(th_a_, th_b_) != 0)                                     \
            TH_FAIL_AT("CHECK_STR(%s, %s): \"%s\" != \"%s\"", #a, #b, th_a_ ? th_a_ : "(null)", \
                       th_b_ ? th_b_ : "(null)");                                              \
    } while (0)
/* Compare n bytes; print the first differing offset. */
#define CHECK_MEM(a, b, n)                                                                     \
    do {                                                                                       \
        const unsigned char *th_a_ = (const unsigned char *)(a);                               \
        const unsigned char *th_b_ = (const unsigned char *)(b);                               \
        size_t th_n_ = (size_t)(n), th_i_;                                                     \
        th_checks++;                                                                           \
        for (th_i_ = 0; th_i_ < th_n_ && th_a_[th_i_] == th_b_[th_i_]; th_i_++) {              \
        }                                                                                      \
        if (th_i_ < th_n_)                                                                     \
            TH_FAIL_AT("CHECK_MEM(%s, %s, %zu): differ at %zu: %02x != %02x", #a, #b, th_n_,    \
                       th_i_, th_a_[th_i_], th_b_[th_i_]);                                     \
    } while (0)
/* A tersa call must succeed (rc >= 0); print the error detail otherwise. */
#define CHECK_OK(expr)                                                                         \
    do {                                                                                       \
        long long th_rc_ = (long long)(expr);                                                  \
        th_checks++;                                                                           \
        if (th_rc_ < 0)                                                                        \
            TH_FAIL_AT("CHECK_OK(%s): rc %lld (%s)", #expr, th_rc_, tersa_error_detail());     \
    } while (0)
/* A tersa call must fail with the given code. */
#define CHECK_ERR(expr, code)                                                                  \
    do {                                                                                       \
        long long th_rc_ = (long long)(expr);                                                  \
        th_checks++;                                                                           \
        if (th_rc_ != (long long)(code))                                                       \
            TH_FAIL_AT("CHECK_ERR(%s): rc %lld, want %lld", #expr, th_rc_, (long long)(code)); \
    } while (0)

static inline int th_report(const char *name)
{
    if (th_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, th_failures, th_checks);
        return 1;
    }
    printf("%s: %d checks passed\n", name, th_checks);
    return 0;
}

/* Read a whole file; returns a malloc'd buffer (caller frees, NUL-terminated after *len bytes)
 * or NULL. */
static inline unsigned char *th_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n > 0 ? n : 0] = '\0';
    fclose(f);
    *len = (size_t)(n > 0 ? n : 0);
    return buf;
}

/* Deterministic pseudo-random generator for test data. */
static inline uint64_t th_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#endif

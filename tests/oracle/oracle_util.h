/* Small helpers shared by the oracle writers (tersa_oracle_frames.c, tersa_oracle_arrays.c):
 * a reproducible random generator, path joining, whole-file I/O and the output folder with its
 * frames.tsv. Each writer prints its own name in messages (`prog`). */
#ifndef ORACLE_UTIL_H
#define ORACLE_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* xorshift64: reproducible test data; *s must not be 0. */
static inline uint64_t ou_rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* "dir/name<ext>", malloc'ed (NULL without memory). */
static inline char *ou_join(const char *dir, const char *name, const char *ext)
{
    size_t n = strlen(dir) + strlen(name) + strlen(ext) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", dir, name, ext);
    return p;
}

/* Write n bytes to path; 0 or 1 (message printed). */
static inline int ou_write_file(const char *prog, const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(p, 1, n, f) != n;
    if (f && fclose(f) != 0)
        bad = 1;
    if (bad)
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
    return bad;
}

/* The whole file, malloc'ed, its length in *len; NULL on failure (message printed). */
static inline uint8_t *ou_read_file(const char *prog, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        p = malloc(n > 0 ? (size_t)n : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    if (f)
        fclose(f);
    if (!p)
        fprintf(stderr, "%s: cannot read %s: %s\n", prog, path, strerror(errno));
    *len = p ? (size_t)n : 0;
    return p;
}

/* Create OUTDIR if needed and open OUTDIR/frames.tsv for writing; NULL on failure. */
static inline FILE *ou_open_tsv(const char *prog, const char *outdir)
{
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", prog, outdir, strerror(errno));
        return NULL;
    }
    char *path = ou_join(outdir, "frames", ".tsv");
    FILE *tsv = path ? fopen(path, "w") : NULL;
    if (!tsv)
        fprintf(stderr, "%s: cannot write frames.tsv in %s\n", prog, outdir);
    free(path);
    return tsv;
}

#endif

/* Helpers for the HDF5 layer tests: a plain reference hyperslab extractor over C-order buffers
 * (one item at a time), random hyperslabs, digests, HDF5 error silencing and scratch paths. */
#ifndef TH_H5_H
#define TH_H5_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "th_sha256.h"
#include "tersa/tersa_h5.h"

#define TH_H5_MAXR 32

/* A tersa struct with struct_size set and everything else zero. */
#define TH_H5_INIT(type, var)                                                                  \
    type var;                                                                                  \
    memset(&var, 0, sizeof var);                                                               \
    var.struct_size = sizeof var

/* Walk hyperslab (start, count, step) of a C-order array arr, item k of the packed buffer
 * packed going to (gather) or coming from (scatter) its place in arr. Returns packed bytes. */
static inline size_t th_h5_ref_walk(uint8_t *arr, int rank, const int64_t *shape, size_t isz,
                                    const int64_t *start, const int64_t *count,
                                    const int64_t *step, uint8_t *packed, int gather)
{
    int64_t idx[TH_H5_MAXR] = {0}, str[TH_H5_MAXR], n = 1, s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        str[i] = s;
        s *= shape[i];
        n *= count[i];
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t off = 0;
        for (int i = 0; i < rank; i++) off += (start[i] + idx[i] * step[i]) * str[i];
        uint8_t *a = arr + (size_t)off * isz, *q = packed + (size_t)k * isz;
        if (gather) memcpy(q, a, isz);
        else memcpy(a, q, isz);
        for (int i = rank - 1; i >= 0; i--) {
            if (++idx[i] < count[i]) break;
            idx[i] = 0;
        }
    }
    return (size_t)n * isz;
}

/* Copy hyperslab (start, count, step) of a C-order array into dst, packed; returns bytes. */
static inline size_t th_h5_ref_slab(const uint8_t *src, int rank, const int64_t *shape,
                                    size_t isz, const int64_t *start, const int64_t *count,
                                    const int64_t *step, uint8_t *dst)
{
    return th_h5_ref_walk((uint8_t *)src, rank, shape, isz, start, count, step, dst, 1);
}

/* The inverse: scatter a packed hyperslab src into a C-order array. */
static inline void th_h5_ref_scatter(uint8_t *arr, int rank, const int64_t *shape, size_t isz,
                                     const int64_t *start, const int64_t *count,
                                     const int64_t *step, const uint8_t *src)
{
    th_h5_ref_walk(arr, rank, shape, isz, start, count, step, (uint8_t *)src, 0);
}

/* Smooth, compressible test data: item k holds k * 3 + small noise in its low bytes. */
static inline void th_h5_fill(uint8_t *p, size_t nitems, size_t isz, uint64_t seed)
{
    for (size_t k = 0; k < nitems; k++) {
        uint64_t v = k * 3 + (th_rand(&seed) & 3);
        for (size_t b = 0; b < isz; b++) p[k * isz + b] = b < 8 ? (uint8_t)(v >> (8 * b)) : (uint8_t)b;
    }
}

/* Read a whole dataset through HDF5's pipeline (H5Dread, file datatype); malloc'd bytes. */
static inline uint8_t *th_h5_pipeline_read(const char *file, const char *dset, size_t *n)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f < 0 ? -1 : H5Dopen2(f, dset, H5P_DEFAULT);
    hid_t t = d < 0 ? -1 : H5Dget_type(d), s = d < 0 ? -1 : H5Dget_space(d);
    uint8_t *buf = NULL;
    if (t >= 0 && s >= 0) {
        *n = (size_t)H5Sget_simple_extent_npoints(s) * H5Tget_size(t);
        buf = malloc(*n ? *n : 1);
        if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            free(buf);
            buf = NULL;
        }
    }
    if (t >= 0) H5Tclose(t);
    if (s >= 0) H5Sclose(s);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    return buf;
}

/* A random non-empty hyperslab of shape (every axis > 0), steps 1..maxstep. */
static inline void th_h5_rand_slab(uint64_t *rng, int rank, const int64_t *shape, int maxstep,
                                   int64_t *start, int64_t *count, int64_t *step)
{
    for (int i = 0; i < rank; i++) {
        start[i] = (int64_t)(th_rand(rng) % (uint64_t)shape[i]);
        step[i] = 1 + (int64_t)(th_rand(rng) % (uint64_t)maxstep);
        int64_t most = (shape[i] - 1 - start[i]) / step[i] + 1;
        count[i] = 1 + (int64_t)(th_rand(rng) % (uint64_t)most);
    }
}

static inline int th_h5_digest_is(const void *p, size_t n, const char *want)
{
    char hex[65];
    th_sha256_hex(p, n, hex);
    if (strcmp(hex, want) != 0) {
        fprintf(stderr, "digest %s, want %s\n", hex, want);
        return 0;
    }
    return 1;
}

/* Parse "(a, b, c)" or "(a,)" into v; returns the count. */
static inline int th_h5_parse_tuple(const char *s, int64_t *v)
{
    int n = 0;
    while (*s && n < TH_H5_MAXR) {
        while (*s && (*s < '0' || *s > '9')) s++;
        if (!*s) break;
        v[n++] = strtoll(s, (char **)&s, 10);
    }
    return n;
}

/* A scratch file path under TERSA_H5_TMP. */
static inline const char *th_h5_tmp(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", TERSA_H5_TMP, name);
    return buf;
}

/* Parameters of a dataset of the given rank, shape, chunk shape and HDF5 type (everything else
 * the library's default). The arrays must outlive the use of p. */
static inline void th_h5_params(tersa_h5_params *p, int rank, const int64_t *shape,
                                const int64_t *chunkshape, hid_t type)
{
    tersa_h5_params_init(p);
    p->rank = rank;
    p->shape = shape;
    p->chunkshape = chunkshape;
    p->type = type;
}

#endif

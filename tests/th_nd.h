/* Helpers for the b2nd array tests: a plain reference slicer over C-order buffers, shape
 * formatting as MANIFEST.tsv writes it, and a small random slice generator. */
#ifndef TH_ND_H
#define TH_ND_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* Copy the strided slice [start, stop) step of a C-order array (shape, isz bytes per item)
 * into dst, packed; returns the bytes written. The obvious way: one item at a time. */
static inline size_t th_nd_ref_slice(const uint8_t *src, int nd, const int64_t *shape, size_t isz,
                                     const int64_t *start, const int64_t *stop, const int64_t *step,
                                     uint8_t *dst)
{
    int64_t idx[16], cnt[16], strides[16], n = 1;
    for (int i = 0; i < nd; i++) {
        cnt[i] = stop[i] > start[i] ? (stop[i] - start[i] - 1) / step[i] + 1 : 0;
        n *= cnt[i];
        idx[i] = 0;
    }
    int64_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i];
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t off = 0;
        for (int i = 0; i < nd; i++)
            off += (start[i] + idx[i] * step[i]) * strides[i];
        memcpy(dst + (size_t)k * isz, src + (size_t)off * isz, isz);
        for (int i = nd - 1; i >= 0; i--) {
            if (++idx[i] < cnt[i])
                break;
            idx[i] = 0;
        }
    }
    return (size_t)n * isz;
}

/* "(a,b,c)" as MANIFEST.tsv spells b2nd shapes. */
static inline void th_nd_fmt64(char *out, size_t cap, int nd, const int64_t *v)
{
    size_t p = (size_t)snprintf(out, cap, "(");
    for (int i = 0; i < nd && p < cap; i++)
        p += (size_t)snprintf(out + p, cap - p, "%s%lld", i ? "," : "", (long long)v[i]);
    if (p < cap)
        snprintf(out + p, cap - p, ")");
}
static inline void th_nd_fmt32(char *out, size_t cap, int nd, const int32_t *v)
{
    int64_t w[16];
    for (int i = 0; i < nd; i++)
        w[i] = v[i];
    th_nd_fmt64(out, cap, nd, w);
}

/* A random slice of shape: start < stop where possible, steps 1..maxstep. */
static inline void th_nd_rand_slice(uint64_t *rng, int nd, const int64_t *shape, int maxstep,
                                    int64_t *start, int64_t *stop, int64_t *step)
{
    for (int i = 0; i < nd; i++) {
        int64_t n = shape[i];
        if (n == 0) {
            start[i] = stop[i] = 0;
        } else {
            int64_t a = (int64_t)(th_rand(rng) % (uint64_t)n);
            int64_t b = a + 1 + (int64_t)(th_rand(rng) % (uint64_t)(n - a));
            start[i] = a;
            stop[i] = b;
        }
        step[i] = maxstep > 1 ? 1 + (int64_t)(th_rand(rng) % (uint64_t)maxstep) : 1;
    }
}

#endif

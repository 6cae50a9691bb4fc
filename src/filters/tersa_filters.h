/* Internal filter primitives: byte shuffle, bitshuffle, delta, trunc-prec, bytedelta.
 * All functions take distinct src/dst buffers of `size` bytes. Thread-safe (no state). */
#ifndef TERSA_FILTERS_H
#define TERSA_FILTERS_H

#include <stdint.h>

/* One implementation set of the SIMD-able transforms. */
typedef struct tersa__shuffle_impl {
    const char *name; /* "generic", "sse2", "avx2" */
    unsigned cpu_need; /* TERSA_CPU_* bits it requires */
    /* Byte shuffle with element size t (FORMATS 2.9.1): tail of size % t copied. */
    void (*shuffle)(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
    void (*unshuffle)(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
    /* Bitshuffle, C-Blosc2 rule (FORMATS 2.9.2): first m - m%8 elements transposed, rest
     * copied. */
    void (*bitshuffle)(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
    void (*bitunshuffle)(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
} tersa__shuffle_impl;

/* Every implementation compiled in (generic first); *count gets the number. Tests run each one
 * whose cpu_need is met by tersa__cpu_features(). */
const tersa__shuffle_impl *tersa__shuffle_impls(int *count);
/* The best implementation for this CPU, chosen once and cached (thread-safe). */
const tersa__shuffle_impl *tersa__shuffle_best(void);

/* Legacy (chunk version 2, Blosc1) bitunshuffle rule: if m % 8 == 0 unshuffle all m elements
 * and copy the size % t tail; otherwise (or size < t) the block is copied unchanged. */
void tersa__bitunshuffle_legacy(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);

/* Delta (XOR) filter, FORMATS 2.9.3. `ref` is the chunk's original first block (for the
 * encoder: the unfiltered bytes [0, blocksize) of the chunk; for the decoder: block 0 fully
 * decoded). block0 is true for the first block of the chunk. Word size from typesize. */
void tersa__delta_encode(const uint8_t *ref, int block0, const uint8_t *src, uint8_t *dst,
                         int32_t size, int32_t typesize);
void tersa__delta_decode(const uint8_t *ref, int block0, const uint8_t *src, uint8_t *dst,
                         int32_t size, int32_t typesize);

/* Trunc-prec (lossy, forward only): typesize 4 or 8, prec != 0 (FORMATS 2.9.4). Returns 0 or
 * TERSA_ERR_PARAM with a detail. */
int tersa__truncprec(int8_t prec, int32_t typesize, const uint8_t *src, uint8_t *dst,
                     int32_t size);

/* Bytedelta (id 35) with element size t: forward and backward. buggy = id 34 decode rule. */
void tersa__bytedelta_encode(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t);
void tersa__bytedelta_decode(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t,
                             int buggy);

#endif

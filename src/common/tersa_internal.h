/* Internal helpers shared by every layer: error recording, little-endian access, checked size
 * arithmetic, the bounded cursor. Not installed. */
#ifndef TERSA_INTERNAL_H
#define TERSA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tersa/tersa_common.h"

#if defined(__GNUC__) || defined(__clang__)
#define TERSA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define TERSA_LIKELY(x) __builtin_expect(!!(x), 1)
#define TERSA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define TERSA_PRINTF(a, b)
#define TERSA_LIKELY(x) (x)
#define TERSA_UNLIKELY(x) (x)
#endif

/* Record a detail message for the calling thread and return code (so callers can write
 * `return tersa__fail(TERSA_ERR_CORRUPT, "chunk: ...", ...)`). */
int tersa__fail(int code, const char *fmt, ...) TERSA_PRINTF(2, 3);
/* Prefix the current detail with "context: " (used while an error propagates up). */
int tersa__fail_prefix(int code, const char *fmt, ...) TERSA_PRINTF(2, 3);
void tersa__clear_error(void);

/* Propagate a negative code. */
#define TERSA_TRY(expr)                                                                        \
    do {                                                                                       \
        int64_t tersa_try_rc_ = (expr);                                                        \
        if (tersa_try_rc_ < 0) return (int)tersa_try_rc_;                                     \
    } while (0)

static inline uint16_t tersa__ld16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t tersa__ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline int32_t tersa__ld32s(const uint8_t *p) { return (int32_t)tersa__ld32(p); }
static inline uint64_t tersa__ld64(const uint8_t *p)
{
    return (uint64_t)tersa__ld32(p) | ((uint64_t)tersa__ld32(p + 4) << 32);
}
static inline void tersa__st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void tersa__st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void tersa__st64(uint8_t *p, uint64_t v)
{
    tersa__st32(p, (uint32_t)v);
    tersa__st32(p + 4, (uint32_t)(v >> 32));
}
/* Big-endian (msgpack). */
static inline uint16_t tersa__ld16be(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t tersa__ld32be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t tersa__ld64be(const uint8_t *p)
{
    return ((uint64_t)tersa__ld32be(p) << 32) | tersa__ld32be(p + 4);
}
static inline void tersa__st16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void tersa__st32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void tersa__st64be(uint8_t *p, uint64_t v)
{
    tersa__st32be(p, (uint32_t)(v >> 32));
    tersa__st32be(p + 4, (uint32_t)v);
}

/* Overflow-checked arithmetic on sizes: return false on overflow. */
static inline bool tersa__add_i64(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}
static inline bool tersa__mul_i64(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}
static inline bool tersa__mul_size(size_t a, size_t b, size_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}

/* A bounded reader: every read checks the remaining length. */
typedef struct tersa__cursor {
    const uint8_t *p;
    size_t left;
} tersa__cursor;

static inline bool tersa__cur_take(tersa__cursor *c, size_t n, const uint8_t **out)
{
    if (c->left < n) return false;
    *out = c->p;
    c->p += n;
    c->left -= n;
    return true;
}

/* Allocation wrappers (one place to hook allocation-failure injection). */
void *tersa__malloc(size_t n);
void *tersa__calloc(size_t n, size_t size);
void *tersa__realloc(void *p, size_t n);
void tersa__free(void *p);
/* 64-byte aligned allocation for SIMD scratch; free with tersa__free_aligned. */
void *tersa__malloc_aligned(size_t n);
void tersa__free_aligned(void *p);

/* CPU features, detected once (thread-safe) and cached. */
enum { TERSA_CPU_SSE2 = 1, TERSA_CPU_AVX2 = 2 };
unsigned tersa__cpu_features(void);

#endif

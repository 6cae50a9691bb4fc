/* Bytedelta, FORMATS 2.9.5: the block is t streams of floor(size/t) bytes; each stream is
 * replaced by its byte differences (mod 256, the byte before the first counting as 0). The
 * size % t tail is copied unchanged.
 *
 * Id 34 (the first release) was written by a loop that went 16 bytes at a time and then
 * finished the stream one byte at a time, and the byte-at-a-time part started again from 0
 * instead of from the last byte it had seen. So in each stream of n >= 16 bytes, the bytes from
 * 16 * floor(n / 16) on are differences against a restarted running value; the decoder must
 * restart there too. (With n < 16 or n a multiple of 16 there is no difference from id 35.) */
#include <string.h>

#include "common/tersa_internal.h"
#include "filters/tersa_filters.h"

static void diff_stream(const uint8_t *restrict in, uint8_t *restrict out, int32_t n)
{
    if (n <= 0) return;
    out[0] = in[0];
    for (int32_t i = 1; i < n; i++) out[i] = (uint8_t)(in[i] - in[i - 1]);
}

/* Running sum of in[from..n) starting at 0, into out. */
static void sum_stream(const uint8_t *restrict in, uint8_t *restrict out, int32_t from,
                       int32_t n)
{
    uint8_t acc = 0;
    for (int32_t i = from; i < n; i++) {
        acc = (uint8_t)(acc + in[i]);
        out[i] = acc;
    }
}

void tersa__bytedelta_encode(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    if (size <= 0) return;
    if (t < 1) t = 1;
    int32_t n = size / t;
    for (int32_t s = 0; s < t; s++) diff_stream(src + (size_t)s * n, dst + (size_t)s * n, n);
    size_t done = (size_t)n * (size_t)t;
    memcpy(dst + done, src + done, (size_t)size - done);
}

void tersa__bytedelta_decode(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t,
                             int buggy)
{
    if (size <= 0) return;
    if (t < 1) t = 1;
    int32_t n = size / t, restart = buggy ? n - n % 16 : n;
    for (int32_t s = 0; s < t; s++) {
        const uint8_t *in = src + (size_t)s * n;
        uint8_t *out = dst + (size_t)s * n;
        sum_stream(in, out, 0, restart);
        sum_stream(in, out, restart, n);
    }
    size_t done = (size_t)n * (size_t)t;
    memcpy(dst + done, src + done, (size_t)size - done);
}

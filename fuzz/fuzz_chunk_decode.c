/* libFuzzer target: the input is a chunk. Runs tersa_chunk_inspect, tersa_chunk_validate,
 * tersa_decompress, tersa_getitem and tersa_decompress_blocks on it (output capped at 16 MiB)
 * and aborts when the decoders disagree: decompress must not accept a chunk that inspect or
 * validate refuse, and getitem / decompress_blocks must give the bytes decompress gave.
 * Memory errors are for the sanitizers to catch. Built with tersa_fuzz_replay.c when libFuzzer
 * is not available. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tersa/tersa.h"

#define FZ_CAP (16 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fz_hash(const uint8_t *data, size_t size)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < size && i < 256; i++) h = (h ^ data[i]) * 1099511628211u;
    return h ^ size;
}

/* A range of items chosen from the hash; compared with the full decode when there is one. */
static void fz_getitem(tersa_dctx *d, const uint8_t *data, size_t size,
                       const tersa_chunk_info *in, const uint8_t *full, uint64_t h)
{
    int64_t ts = in->typesize > 0 ? in->typesize : 1, total = in->nbytes / ts;
    int64_t start = total > 0 ? (int64_t)(h % (uint64_t)total) : 0;
    int64_t cnt = 1 + (int64_t)((h >> 32) % 300);
    uint8_t *out = malloc((size_t)(cnt * ts));
    if (!out) return;
    int64_t rc = tersa_getitem(d, data, size, start, cnt, out, (size_t)(cnt * ts));
    if (rc > cnt * ts) abort();
    if (rc >= 0 && full && start + cnt <= total && memcmp(out, full + start * ts, (size_t)rc))
        abort();
    free(out);
}

/* Every block (compared with the full decode), then every other block. */
static void fz_blocks(tersa_dctx *d, const uint8_t *data, size_t size,
                      const tersa_chunk_info *in, const uint8_t *full)
{
    size_t n = (size_t)in->nbytes;
    size_t nmask = n / (size_t)(in->blocksize > 0 ? in->blocksize : 1) + 2;
    if (in->nblocks > 0 && (size_t)in->nblocks >= nmask) nmask = (size_t)in->nblocks + 1;
    uint8_t *out = malloc(n ? n : 1), *mask = malloc(nmask);
    if (!out || !mask) goto done;
    memset(mask, 1, nmask);
    int64_t rc = tersa_decompress_blocks(d, data, size, mask, nmask, out, n);
    if (rc >= 0 && full && memcmp(out, full, n) != 0) abort();
    for (size_t i = 0; i < nmask; i++) mask[i] = (uint8_t)(i & 1);
    (void)tersa_decompress_blocks(d, data, size, mask, nmask, out, n);
done:
    free(out);
    free(mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tersa_chunk_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    int irc = tersa_chunk_inspect(data, size, &in);
    int vrc = tersa_chunk_validate(data, size);
    uint64_t h = fz_hash(data, size);
    tersa_dctx *d = tersa_dctx_create();
    if (!d) return 0;
    if (h % 5 == 0) (void)tersa_dctx_set(d, TERSA_P_NTHREADS, 2);
    int ok = irc >= 0 && in.nbytes >= 0;
    size_t cap = ok ? (in.nbytes < FZ_CAP ? (size_t)in.nbytes : FZ_CAP) : 64;
    uint8_t *out = malloc(cap ? cap : 1);
    int64_t rc = out ? tersa_decompress(d, data, size, out, cap) : -1;
    if (rc >= 0 && (irc < 0 || vrc < 0 || rc > (int64_t)cap)) abort();
    const uint8_t *full = rc >= 0 && ok && rc == in.nbytes ? out : NULL;
    if (ok) fz_getitem(d, data, size, &in, full, h);
    if (ok && in.nbytes <= FZ_CAP) fz_blocks(d, data, size, &in, full);
    free(out);
    tersa_dctx_free(d);
    return 0;
}

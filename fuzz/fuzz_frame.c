/* libFuzzer target: the input is a contiguous frame. Opens it from memory (copied and
 * borrowed) and, on Linux, as a file (memfd), then walks everything a reader can reach:
 * every chunk's sizes and bytes, whole decodes, a getitem and a slice (compared with the whole
 * decode; the file's lazy getitem reads only parts of a chunk and must agree), metalayers and
 * vlmetalayers. A frame that opened must serialise (to_buffer) into one that opens again
 * with the same decoded contents; extract, concat and an append on a memory copy must fail
 * cleanly or keep the contents. Aborts when two readings disagree; memory errors are for the
 * sanitizers. Built with tersa_fuzz_replay.c when libFuzzer is not available. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "tersa/tersa.h"

#define FZ_MAX_CHUNKS 64           /* chunks decoded per frame */
#define FZ_MAX_NBYTES (4 << 20)    /* largest chunk decoded */
#define FZ_MAX_INDEX (1 << 20)     /* offsets entries a frame may claim before it is skipped */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fz_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211u;
    return h ^ n;
}

/* The decoded contents of the first chunks, as one digest (0: a chunk did not decode). */
static uint64_t fz_digest(tersa_schunk *s)
{
    uint64_t h = (uint64_t)tersa_schunk_nchunks(s);
    for (int64_t i = 0; i < tersa_schunk_nchunks(s) && i < FZ_MAX_CHUNKS; i++) {
        int32_t nb = 0;
        if (tersa_schunk_chunk_sizes(s, i, &nb, NULL) < 0 || nb < 0 || nb > FZ_MAX_NBYTES) return 0;
        uint8_t *out = malloc((size_t)nb + 1);
        int64_t rc = out ? tersa_schunk_decompress_chunk(s, i, out, (size_t)nb) : -1;
        h = h * 31 + (rc == nb ? fz_hash(out, (size_t)nb) : 0);
        free(out);
        if (rc != nb) return 0;
    }
    return h | 1;
}

/* getitem over a range picked from the seed, compared with the whole decode of the chunk. */
static void fz_items(tersa_schunk *s, int64_t i, const uint8_t *full, int32_t nb, uint64_t seed)
{
    int32_t ts = tersa_schunk_typesize(s);
    tersa_chunk_info in = {.struct_size = sizeof in};
    int64_t cl = tersa_schunk_get_chunk(s, i, NULL, 0);
    if (cl < 32 || cl > FZ_MAX_NBYTES + 64) return;
    uint8_t *c = malloc((size_t)cl);
    if (c && tersa_schunk_get_chunk(s, i, c, (size_t)cl) == cl && tersa_chunk_inspect(c, (size_t)cl, &in) == 0)
        ts = in.typesize > 0 ? in.typesize : 1;
    free(c);
    int64_t total = nb / ts, start = total ? (int64_t)(seed % (uint64_t)total) : 0;
    int64_t n = 1 + (int64_t)((seed >> 32) % 2000);
    if (start + n > total) n = total - start;
    if (n <= 0) return;
    uint8_t *out = malloc((size_t)(n * ts));
    if (!out) return;
    int64_t rc = tersa_schunk_getitem(s, i, start, n, out, (size_t)(n * ts));
    if (rc >= 0 && (rc != n * ts || (full && memcmp(out, full + start * ts, (size_t)rc) != 0)))
        abort();
    free(out);
}

/* Every reader path on the first chunks. */
static void fz_chunks(tersa_schunk *s, uint64_t seed)
{
    int64_t n = tersa_schunk_nchunks(s);
    for (int64_t i = 0; i < n && i < FZ_MAX_CHUNKS; i++) {
        int32_t nb = 0, cb = 0;
        if (tersa_schunk_chunk_sizes(s, i, &nb, &cb) < 0 || nb < 0 || nb > FZ_MAX_NBYTES) continue;
        uint8_t *full = malloc((size_t)nb + 1);
        int64_t rc = full ? tersa_schunk_decompress_chunk(s, i, full, (size_t)nb) : -1;
        fz_items(s, i, rc == nb ? full : NULL, nb, seed + (uint64_t)i);
        free(full);
    }
    int64_t total = tersa_schunk_nbytes(s);
    if (total > 0 && total <= FZ_MAX_NBYTES) {
        uint8_t *all = malloc((size_t)total);
        if (all) (void)tersa_schunk_get_slice(s, total / 3, total - total / 3, all, (size_t)total);
        free(all);
    }
}

static void fz_metas(tersa_schunk *s)
{
    for (int i = 0; i < tersa_schunk_meta_count(s); i++) {
        const uint8_t *c = NULL;
        size_t len = 0;
        if (tersa_schunk_meta_get(s, tersa_schunk_meta_name(s, i), &c, &len) < 0) abort();
    }
    for (int i = 0; i < tersa_schunk_vlmeta_count(s); i++) {
        const char *name = tersa_schunk_vlmeta_name(s, i);
        int64_t len = tersa_schunk_vlmeta_get(s, name, NULL, 0);
        if (len < 0 || len > FZ_MAX_NBYTES) continue;
        uint8_t *v = malloc((size_t)len + 1);
        if (v && tersa_schunk_vlmeta_get(s, name, v, (size_t)len) > len) abort();
        free(v);
    }
}

/* Serialise, reopen, compare; then change a memory copy. */
static void fz_rewrite(tersa_schunk *s, uint64_t digest)
{
    int64_t len = tersa_schunk_frame_len(s);
    if (len <= 0 || len > 64 << 20) return;
    uint8_t *buf = malloc((size_t)len);
    if (!buf || tersa_schunk_to_buffer(s, buf, (size_t)len) != len) {
        free(buf);
        return;
    }
    tersa_schunk *m = tersa_schunk_open_buffer(buf, (size_t)len, 0);
    if (!m) abort(); /* what we wrote from a frame we accepted must open */
    if (digest && fz_digest(m) != digest) abort();
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_MEMORY};
    int64_t n = tersa_schunk_nchunks(m);
    tersa_schunk *half = n <= FZ_MAX_CHUNKS ? tersa_schunk_extract(m, n / 2, n - n / 2, &p) : NULL;
    if (half) (void)tersa_schunk_concat(m, half);
    if (half && n > 0) {
        int64_t cl = tersa_schunk_get_chunk(half, 0, NULL, 0);
        uint8_t *c = cl > 0 ? malloc((size_t)cl) : NULL;
        if (c && tersa_schunk_get_chunk(half, 0, c, (size_t)cl) == cl)
            (void)tersa_schunk_append_chunk(half, c, (size_t)cl);
        free(c);
        (void)fz_digest(half);
    }
    tersa_schunk_free(half);
    tersa_schunk_free(m);
    free(buf);
}

#if defined(__linux__)
/* The frame as a file: lazy getitem and file reads must agree with the memory reading. */
static void fz_file(const uint8_t *data, size_t size, uint64_t digest, uint64_t seed)
{
    char path[64];
    int fd = memfd_create("fuzz_frame", MFD_CLOEXEC);
    if (fd < 0) return;
    if (write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        tersa_schunk *f = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
        if (digest && (!f || fz_digest(f) != digest)) abort(); /* as it read from memory */
        if (f) fz_chunks(f, seed);
        tersa_schunk_free(f);
    }
    close(fd);
}
#endif

static uint64_t fz_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* Skip frames that claim more offsets entries than a fuzz run should allocate: nbytes over
 * chunksize, or the decoded size of the offsets chunk at header_len + cbytes. */
static int fz_too_big(const uint8_t *d, size_t size)
{
    if (size < 0x57) return 0;
    uint64_t nbytes = fz_be(d + 0x1e, 8), cbytes = fz_be(d + 0x27, 8), hl = fz_be(d + 0x0b, 4);
    int32_t cs = (int32_t)fz_be(d + 0x3a, 4);
    if (cs > 0 && nbytes / (uint64_t)cs > FZ_MAX_INDEX) return 1;
    if (cbytes > size || hl + cbytes + 8 > size) return 0;
    const uint8_t *o = d + hl + cbytes;
    uint32_t onb = o[4] | (uint32_t)o[5] << 8 | (uint32_t)o[6] << 16 | (uint32_t)o[7] << 24;
    return onb / 8 > FZ_MAX_INDEX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz_too_big(data, size)) return 0;
    uint64_t seed = fz_hash(data, size < 256 ? size : 256);
    tersa_schunk *s = tersa_schunk_open_buffer(data, size, 0);
    tersa_schunk *b = tersa_schunk_open_buffer(data, size, TERSA_OPEN_BORROW);
    if ((s == NULL) != (b == NULL)) abort();
    uint64_t digest = 0;
    if (s) {
        digest = fz_digest(s);
        if (fz_digest(b) != digest) abort();
        fz_chunks(s, seed);
        fz_metas(s);
        fz_rewrite(s, digest);
    }
#if defined(__linux__)
    fz_file(data, size, digest, seed);
#endif
    tersa_schunk_free(b);
    tersa_schunk_free(s);
    return 0;
}

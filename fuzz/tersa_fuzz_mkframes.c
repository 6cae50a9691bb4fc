/* Writes the generated seeds of fuzz/corpus/frame/ (see the README there), deterministically:
 *
 *     build/fuzz/tersa_fuzz_mkframes fuzz/corpus/frame
 *
 * Each seed is a contiguous frame made by tersa's frame API; the parameters and data of each
 * are in the table below. Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"
#include "tersa/tersa.h"

static const char *outdir;
static int failures;

/* Ramp of int32 with a little noise (xorshift from seed). */
static void gen(uint8_t *p, size_t n, uint64_t seed, unsigned noise)
{
    uint64_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        uint32_t v = (uint32_t)(i / 4) + (uint32_t)(s & noise);
        memcpy(p + i, &v, 4);
    }
    for (size_t i = n & ~(size_t)3; i < n; i++) p[i] = (uint8_t)i;
}

static tersa_cctx *cctx(int codec, int clevel, int typesize, int filter5, int filter4)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_CODEC, codec);
    tersa_cctx_set(c, TERSA_P_CLEVEL, clevel);
    tersa_cctx_set(c, TERSA_P_TYPESIZE, typesize);
    tersa_cctx_set(c, TERSA_P_FILTER5, filter5);
    tersa_cctx_set(c, TERSA_P_FILTER4, filter4);
    return c;
}

static tersa_schunk *new_frame(tersa_cctx *c, int storage, const char *path, int32_t typesize)
{
    static const uint8_t b2nd[] = {0x97, 0, 1, 0x91, 0xd3, 0, 0, 0, 0, 0, 0, 0x10, 0, 0x91, 0xd2,
                                   0, 0, 4, 0, 0x91, 0xd2, 0, 0, 1, 0, 0};
    tersa_metalayer m = {"b2nd", b2nd, sizeof b2nd};
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = storage, .path = path,
                             .overwrite = 1, .cparams = c, .typesize = typesize,
                             .nmetalayers = 1, .metalayers = &m};
    return tersa_schunk_create(&p);
}

static void append(tersa_schunk *s, size_t n, uint64_t seed, unsigned noise)
{
    uint8_t *buf = malloc(n);
    gen(buf, n, seed, noise);
    if (tersa_schunk_append_buffer(s, buf, n) < 0) failures++;
    free(buf);
}

static void append_special(tersa_schunk *s, int kind, int32_t typesize, int64_t n)
{
    uint8_t c[64];
    int64_t len = tersa_chunk_make_special(kind, typesize, n, NULL, c, sizeof c);
    if (len < 0 || tersa_schunk_append_chunk(s, c, (size_t)len) < 0) failures++;
}

/* Write the schunk's contiguous frame to outdir/name and free it. */
static void save(tersa_schunk *s, const char *name)
{
    char path[1024];
    int64_t len = s ? tersa_schunk_frame_len(s) : -1;
    uint8_t *buf = len > 0 ? malloc((size_t)len) : NULL;
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    FILE *f = fopen(path, "wb");
    if (!buf || !f || tersa_schunk_to_buffer(s, buf, (size_t)len) != len ||
        fwrite(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "mkframes: %s failed: %s\n", name, tersa_error_detail());
        failures++;
    }
    if (f) fclose(f);
    free(buf);
    tersa_schunk_free(s);
}

static int64_t stop_after_two(void *ctx, int op, int64_t pos, int64_t len)
{
    long *n = ctx;
    (void)op, (void)pos, (void)len;
    return ++*n > 2 ? -1 : 0;
}

/* A file frame with unused bytes from updates and deletes, and one stopped halfway through an
 * append (the committed index moved beyond the chunks). */
static void file_frames(void)
{
    char path[1024];
    tersa_cctx *c = cctx(TERSA_CODEC_LZ4, 5, 4, TERSA_FILTER_SHUFFLE, 0);
    snprintf(path, sizeof path, "%s/.mkframes.tmp", outdir);
    tersa_schunk *s = new_frame(c, TERSA_STORAGE_FILE, path, 0);
    for (int i = 0; i < 4; i++) append(s, 3000, (uint64_t)i, 0xff);
    uint8_t chunk[4000];
    int64_t cl = tersa_schunk_get_chunk(s, 3, chunk, sizeof chunk);
    if (cl < 0 || tersa_schunk_update_chunk(s, 0, chunk, (size_t)cl) < 0 ||
        tersa_schunk_delete_chunk(s, 1) < 0)
        failures++;
    save(s, "file-updated-deleted.b2frame");
    s = tersa_schunk_open_file(path, 0, TERSA_OPEN_WRITE);
    long n = 0;
    tersa__schunk_set_io_hook(s, stop_after_two, &n);
    uint8_t buf[3000];
    gen(buf, sizeof buf, 9, 0xff);
    if (!s || tersa_schunk_append_buffer(s, buf, sizeof buf) >= 0) failures++;
    tersa_schunk_free(s);
    save(tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY), "file-index-moved.b2frame");
    unlink(path);
    tersa_cctx_free(c);
}

/* Frames of regular, special and no chunks. */
static void plain_frames(void)
{
    tersa_cctx *c = cctx(TERSA_CODEC_LZ4, 5, 4, TERSA_FILTER_SHUFFLE, 0);
    tersa_schunk *s = new_frame(c, TERSA_STORAGE_MEMORY, NULL, 0);
    for (int i = 0; i < 3; i++) append(s, 4000, (uint64_t)i, 0xff);
    tersa_schunk_vlmeta_set(s, "attrs", "{\"a\": 1}", 8, NULL);
    save(s, "lz4-shuffle-3chunks.b2frame");
    tersa_cctx_free(c);

    c = cctx(TERSA_CODEC_BLOSCLZ, 5, 4, TERSA_FILTER_SHUFFLE, 0);
    s = new_frame(c, TERSA_STORAGE_MEMORY, NULL, 0);
    append(s, 3000, 1, 0xff);
    append_special(s, TERSA_SPECIAL_ZEROS, 4, 3000);
    append_special(s, TERSA_SPECIAL_NAN, 4, 3000);
    append(s, 5000, 2, 0xff); /* larger: the frame turns variable-size */
    save(s, "blosclz-variable-specials.b2frame");
    s = new_frame(c, TERSA_STORAGE_MEMORY, NULL, 0);
    append_special(s, TERSA_SPECIAL_ZEROS, 4, 2000);
    append_special(s, TERSA_SPECIAL_UNINIT, 4, 2000);
    append_special(s, TERSA_SPECIAL_NAN, 4, 1000);
    save(s, "specials-only.b2frame");
    s = new_frame(c, TERSA_STORAGE_MEMORY, NULL, 0);
    tersa_schunk_vlmeta_set(s, "empty", "nothing here", 12, NULL);
    save(s, "empty-with-vlmeta.b2frame");
    tersa_cctx_free(c);
}

/* Frames exercising filters, dictionaries, memcpyed chunks, big typesizes, lazy reads. */
static void feature_frames(void)
{
    tersa_cctx *c = cctx(TERSA_CODEC_ZSTD, 3, 8, TERSA_FILTER_BITSHUFFLE, TERSA_FILTER_DELTA);
    tersa_schunk *s;
    tersa_cctx_set(c, TERSA_P_BLOCKSIZE, 4096);
    s = new_frame(c, TERSA_STORAGE_MEMORY, NULL, 0);
    for (int i = 0; i < 2; i++) append(s, 16000, (uint64_t)i + 3, 0xf);
    save(s, "zstd-delta-bitshuffle-ts8.b2frame");
    tersa_cctx_set(c, TERSA_P_USE_DICT, 1);
    tersa_cctx_set(c, TERSA_P_FILTER4, 0);
    s = new_frame(c, TERSA_STORAGE_MEMORY, NULL, 0);
    for (int i = 0; i < 2; i++) append(s, 32768, (uint64_t)i + 5, 0xff);
    save(s, "zstd-dict.b2frame");
    tersa_cctx_free(c);

    c = cctx(TERSA_CODEC_LZ4, 0, 4, 0, 0);
    s = new_frame(c, TERSA_STORAGE_MEMORY, NULL, 0);
    append(s, 777, 7, 0xff);
    save(s, "memcpyed.b2frame");
    tersa_cctx_free(c);

    c = cctx(TERSA_CODEC_LZ4, 5, 19, TERSA_FILTER_SHUFFLE, 0);
    tersa_cctx_set(c, TERSA_P_SPLITMODE, TERSA_SPLIT_ALWAYS);
    s = new_frame(c, TERSA_STORAGE_MEMORY, NULL, 300); /* frame typesize 300, chunks 19 */
    append(s, 1907, 8, 0xff);
    append(s, 1900, 9, 0xff);
    save(s, "typesize300-split19.b2frame");
    tersa_cctx_free(c);

    c = cctx(TERSA_CODEC_LZ4, 5, 4, TERSA_FILTER_SHUFFLE, 0);
    tersa_cctx_set(c, TERSA_P_BLOCKSIZE, 8192);
    s = new_frame(c, TERSA_STORAGE_MEMORY, NULL, 0);
    append(s, 256 << 10, 10, 0x3f); /* over 64 KiB stored: read lazily from files */
    save(s, "lz4-256k-lazy.b2frame");
    tersa_cctx_free(c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tersa_fuzz_mkframes OUTDIR\n");
        return 2;
    }
    outdir = argv[1];
    plain_frames();
    feature_frames();
    file_frames();
    return failures ? 1 : 0;
}

/* Internal codec interface: one adapter per Blosc2 codec behind a const table.
 *
 * Every adapter compresses or decompresses one *stream* (a block or a split part of a block).
 * Library states (zstd contexts, libdeflate compressors, lz4 states) live in a per-worker
 * tersa__codec_state that the chunk engine owns; adapters create them lazily on first use and
 * tersa__codec_state_free releases them, so steady-state calls allocate nothing.
 */
#ifndef TERSA_CODEC_H
#define TERSA_CODEC_H

#include <stdint.h>

typedef struct tersa__codec_state {
    void *zstd_cctx;
    void *zstd_dctx;
    void *zstd_cdict; /* ZSTD_CDict built for (dict, level); owned */
    const void *zstd_cdict_src;
    int zstd_cdict_level;
    void *zstd_ddict;
    const void *zstd_ddict_src;
    void *deflate_c;  /* struct libdeflate_compressor * */
    int deflate_level;
    void *deflate_d;  /* struct libdeflate_decompressor * */
    void *lz4_state;  /* LZ4_stream_t-sized buffer for LZ4_compress_fast_extState */
    void *lz4hc_state;
    void *blosclz_hash; /* hash table for the blosclz encoder */
} tersa__codec_state;

typedef struct tersa__codec_args {
    int clevel;            /* 1..9 (0 never reaches a codec) */
    uint8_t meta;          /* compcode_meta */
    const uint8_t *dict;   /* optional dictionary (NULL if none) */
    int32_t dict_size;
    int32_t typesize;
    tersa__codec_state *state; /* never NULL */
} tersa__codec_args;

typedef struct tersa__codec {
    uint8_t compcode;      /* API/frame numbering */
    uint8_t format;        /* chunk flags bits 5-7 */
    const char *name;
    /* Returns compressed size (> 0), 0 when the output does not fit in cap or the data does
     * not compress, or a negative tersa error (detail set). */
    int32_t (*encode)(const uint8_t *src, int32_t n, uint8_t *dst, int32_t cap,
                      const tersa__codec_args *a);
    /* Decodes exactly outlen bytes; returns outlen or a negative error (TERSA_ERR_CORRUPT with
     * a detail) if the stream is malformed or yields another size. Never writes beyond outlen,
     * never reads beyond n. */
    int32_t (*decode)(const uint8_t *src, int32_t n, uint8_t *dst, int32_t outlen,
                      const tersa__codec_args *a);
} tersa__codec;

/* Built-in codec by compcode (0,1,2,4,5), or NULL. */
const tersa__codec *tersa__codec_builtin(int compcode);
/* Built-in codec by chunk format code (0 blosclz, 1 lz4, 3 zlib, 4 zstd), or NULL (2 = snappy
 * is not supported). For format 1 this returns lz4 (lz4hc streams decode identically). */
const tersa__codec *tersa__codec_by_format(int format);
void tersa__codec_state_free(tersa__codec_state *st);

/* The adapters behind the table (one per file) and their state release. zstd_cdict/zstd_ddict
 * in the state point to private wrappers of tersa_codec_zstd.c: touch them nowhere else. */
extern const tersa__codec tersa__codec_lz4;
extern const tersa__codec tersa__codec_lz4hc;
extern const tersa__codec tersa__codec_zlib;
extern const tersa__codec tersa__codec_zstd;
void tersa__zstd_state_free(tersa__codec_state *st);
void tersa__zlib_state_free(tersa__codec_state *st);

/* BloscLZ, ours (format in FORMATS.md 2.11). Exposed for tests and fuzzing. */
int32_t tersa__blosclz_encode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t cap, int clevel,
                              tersa__codec_state *st);
int32_t tersa__blosclz_decode(const uint8_t *src, int32_t n, uint8_t *dst, int32_t outlen);

#endif

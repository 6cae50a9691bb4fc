/* tersa chunk engine: compress and decompress Blosc2 chunks (byte-compatible with C-Blosc2),
 * partial decoding, inspection, validation, thread pools and plugin registries.
 *
 * Ownership: every *_create returns an object the caller frees with the matching *_free;
 * *_free(NULL) is a no-op. Buffers passed in are borrowed for the duration of the call only,
 * except where a function says it keeps a reference (pools, registries, dictionaries).
 * Thread-safety: a context (tersa_cctx, tersa_dctx) is used by one thread at a time; distinct
 * contexts may run concurrently, also when they share one tersa_pool or one tersa_registry
 * (a registry must not be modified while a context that references it runs).
 */
#ifndef TERSA_CHUNK_H
#define TERSA_CHUNK_H

#include "tersa_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Format constants ---------------------------------------------------------------- */

#define TERSA_MAX_FILTERS 6
#define TERSA_MAX_OVERHEAD 32                          /* extended header size */
#define TERSA_MAX_BUFFERSIZE (INT32_MAX - TERSA_MAX_OVERHEAD) /* largest nbytes of a chunk */
#define TERSA_MAX_TYPESIZE 255
#define TERSA_MAX_BLOCKSIZE 536866816
#define TERSA_MAX_DICT_SIZE (128 * 1024)

/* Codec ids: Blosc2 "compcode" numbering (frames, HDF5 cd_values[6]). */
enum {
    TERSA_CODEC_BLOSCLZ = 0,
    TERSA_CODEC_LZ4 = 1,
    TERSA_CODEC_LZ4HC = 2,
    TERSA_CODEC_ZLIB = 4,
    TERSA_CODEC_ZSTD = 5,
    TERSA_CODEC_USER_FIRST = 160, /* user plugin codecs: 160..255 */
};

/* Filter ids (pipeline slot values). */
enum {
    TERSA_FILTER_NONE = 0,
    TERSA_FILTER_SHUFFLE = 1,
    TERSA_FILTER_BITSHUFFLE = 2,
    TERSA_FILTER_DELTA = 3,
    TERSA_FILTER_TRUNC_PREC = 4,
    TERSA_FILTER_BYTEDELTA_BUGGY = 34, /* decode only */
    TERSA_FILTER_BYTEDELTA = 35,
    TERSA_FILTER_USER_FIRST = 160, /* user plugin filters: 160..255 */
};

/* Split modes (same numbers as C-Blosc2). */
enum {
    TERSA_SPLIT_ALWAYS = 1,
    TERSA_SPLIT_NEVER = 2,
    TERSA_SPLIT_AUTO = 3,
    TERSA_SPLIT_FORWARD_COMPAT = 4,
};

/* Special-value chunk kinds (header blosc2_flags bits 4-6). */
enum {
    TERSA_SPECIAL_NONE = 0,
    TERSA_SPECIAL_ZEROS = 1,
    TERSA_SPECIAL_NAN = 2,
    TERSA_SPECIAL_VALUE = 3,
    TERSA_SPECIAL_UNINIT = 4,
};

/* ---- The parameter table -------------------------------------------------------------- */

/* Every tunable of the engine. The table (tersa_param_table) gives name, bounds, default and
 * help; setters validate against it, and the CLI and the HDF5 layer read it. */
typedef enum tersa_param {
    TERSA_P_TYPESIZE = 1,   /* element size in bytes, 1..255 */
    TERSA_P_CLEVEL,         /* 0 (store) .. 9 */
    TERSA_P_CODEC,          /* codec id (TERSA_CODEC_*, or a registered user codec) */
    TERSA_P_CODEC_META,     /* byte handed to the codec (plugin codecs) */
    TERSA_P_BLOCKSIZE,      /* bytes per block; 0 = automatic (doc/blocksize.md) */
    TERSA_P_SPLITMODE,      /* TERSA_SPLIT_* */
    TERSA_P_NTHREADS,       /* threads used when the context owns its pool */
    TERSA_P_FILTER0,        /* pipeline slots 0..5 (forward order), TERSA_FILTER_* */
    TERSA_P_FILTER1,
    TERSA_P_FILTER2,
    TERSA_P_FILTER3,
    TERSA_P_FILTER4,
    TERSA_P_FILTER5,
    TERSA_P_FILTER_META0,   /* meta byte of each slot */
    TERSA_P_FILTER_META1,
    TERSA_P_FILTER_META2,
    TERSA_P_FILTER_META3,
    TERSA_P_FILTER_META4,
    TERSA_P_FILTER_META5,
    TERSA_P_DETECT_SPECIAL, /* 1: emit zeros/NaN/repeated-value chunks automatically */
    TERSA_P_USE_DICT,       /* 1: train and store a dictionary (zstd, lz4, lz4hc) */
    TERSA_P_FRAME_TYPESIZE, /* typesize of the enclosing container (bytedelta meta 0); 0 = unknown */
    TERSA_P_COUNT_          /* not a parameter */
} tersa_param;

typedef struct tersa_param_desc {
    tersa_param id;
    const char *name; /* lowercase, as the CLI spells it ("clevel") */
    int64_t min, max, def;
    int for_cctx, for_dctx; /* where the parameter applies */
    const char *help;
} tersa_param_desc;

/* The whole table; *count receives its length. Static storage. */
TERSA_API const tersa_param_desc *tersa_param_table(size_t *count);
/* One entry by id or by name; NULL if none. */
TERSA_API const tersa_param_desc *tersa_param_get(tersa_param id);
TERSA_API const tersa_param_desc *tersa_param_find(const char *name);

/* Names of codecs and filters ("lz4", "bitshuffle"); NULL for an unknown id. Static storage. */
TERSA_API const char *tersa_codec_name(int codec);
TERSA_API const char *tersa_filter_name(int filter);
/* Reverse lookups; return the id, or TERSA_ERR_UNKNOWN_CODEC / TERSA_ERR_UNKNOWN_FILTER. */
TERSA_API int tersa_codec_from_name(const char *name);
TERSA_API int tersa_filter_from_name(const char *name);

/* ---- Thread pools --------------------------------------------------------------------- */

typedef struct tersa_pool tersa_pool;

/* A pool running up to nthreads tasks at once (nthreads - 1 worker threads plus the calling
 * thread). nthreads 1..256. Returns NULL on error (detail set). A pool may be shared by any
 * number of contexts; when it is busy with another context's work, a context runs its work on
 * its own thread instead of waiting. Free it only after every context using it is freed. */
TERSA_API tersa_pool *tersa_pool_create(int nthreads);
TERSA_API void tersa_pool_free(tersa_pool *pool);
TERSA_API int tersa_pool_nthreads(const tersa_pool *pool);

/* A task of tersa_pool_run: task in [0, ntasks), worker in [0, max_workers) (one worker runs
 * one task at a time, so per-worker scratch indexed by worker needs no lock). Returns 0 or a
 * negative error code. */
typedef int (*tersa_task_fn)(void *arg, int task, int worker);

/* Run ntasks tasks on up to max_workers threads of pool, the calling thread included, and
 * return when all have finished: 0, or the first negative code a task returned (tasks not yet
 * started then are skipped). A NULL pool or max_workers 1 runs every task on the calling
 * thread; so does a pool busy with another caller's work (no waiting, no deadlock when tasks
 * call tersa_pool_run themselves). Safe from any thread. */
TERSA_API int tersa_pool_run(tersa_pool *pool, int max_workers, int ntasks, tersa_task_fn fn,
                             void *arg);

/* ---- Plugin registries ---------------------------------------------------------------- */

/* Arguments handed to plugin callbacks. */
typedef struct tersa_plugin_args {
    size_t struct_size;
    int clevel;         /* 1..9 */
    uint8_t meta;       /* codec meta or filter slot meta */
    int32_t typesize;   /* chunk typesize */
    int32_t blocksize;  /* chunk blocksize */
    int32_t block_index;/* block being processed */
    void *user;         /* the plugin's user pointer */
} tersa_plugin_args;

typedef struct tersa_codec_plugin {
    size_t struct_size; /* sizeof(tersa_codec_plugin) */
    uint8_t id;         /* 160..255 */
    uint8_t version;    /* written in the chunk's versionlz byte */
    const char *name;   /* borrowed: must outlive the registry */
    /* Compress n bytes; return the compressed size (> 0), 0 if the output would not fit in
     * dstcap (the stream is then stored raw), or a negative tersa error. Must be thread-safe. */
    int32_t (*encode)(const uint8_t *src, int32_t n, uint8_t *dst, int32_t dstcap,
                      const tersa_plugin_args *args);
    /* Decompress into exactly dstlen bytes; return dstlen, or a negative error. */
    int32_t (*decode)(const uint8_t *src, int32_t n, uint8_t *dst, int32_t dstlen,
                      const tersa_plugin_args *args);
    void *user;
} tersa_codec_plugin;

typedef struct tersa_filter_plugin {
    size_t struct_size; /* sizeof(tersa_filter_plugin) */
    uint8_t id;         /* 160..255 */
    const char *name;
    /* Transform size bytes from src to dst (distinct buffers); return 0 or a negative error. */
    int (*forward)(const uint8_t *src, uint8_t *dst, int32_t size, const tersa_plugin_args *args);
    int (*backward)(const uint8_t *src, uint8_t *dst, int32_t size, const tersa_plugin_args *args);
    void *user;
} tersa_filter_plugin;

typedef struct tersa_registry tersa_registry;

/* An empty registry of user codecs and filters; contexts that reference it see its plugins
 * beside the built-ins. Adding an id twice is TERSA_ERR_EXISTS. */
TERSA_API tersa_registry *tersa_registry_create(void);
TERSA_API void tersa_registry_free(tersa_registry *reg);
TERSA_API int tersa_registry_add_codec(tersa_registry *reg, const tersa_codec_plugin *codec);
TERSA_API int tersa_registry_add_filter(tersa_registry *reg, const tersa_filter_plugin *filter);

/* ---- Compression ---------------------------------------------------------------------- */

typedef struct tersa_cctx tersa_cctx;

/* A compression context with default parameters (typesize 8, clevel 5, blosclz, SHUFFLE in
 * slot 5, automatic blocksize, FORWARD_COMPAT split, 1 thread). NULL on allocation failure. */
TERSA_API tersa_cctx *tersa_cctx_create(void);
TERSA_API void tersa_cctx_free(tersa_cctx *cctx);
/* Set or get a parameter; out-of-range values give TERSA_ERR_PARAM naming the parameter. */
TERSA_API int tersa_cctx_set(tersa_cctx *cctx, tersa_param param, int64_t value);
TERSA_API int tersa_cctx_get(const tersa_cctx *cctx, tersa_param param, int64_t *value);
/* Share a pool (not owned; NULL returns to an own pool of TERSA_P_NTHREADS threads). */
TERSA_API int tersa_cctx_set_pool(tersa_cctx *cctx, tersa_pool *pool);
/* Use a registry for user codecs/filters (not owned; NULL = built-ins only). */
TERSA_API int tersa_cctx_set_registry(tersa_cctx *cctx, const tersa_registry *reg);

/* Upper bound of a chunk's size for srcsize input bytes: srcsize + 32. */
TERSA_API size_t tersa_compress_bound(size_t srcsize);

/* Compress srcsize bytes (<= TERSA_MAX_BUFFERSIZE) into one chunk in dst. Returns the chunk
 * size (> 0) or a negative error; TERSA_ERR_DST_TOO_SMALL when the chunk does not fit in
 * dstcap (dstcap >= tersa_compress_bound(srcsize) always fits). Output bytes do not depend on
 * the number of threads. */
TERSA_API int64_t tersa_compress(tersa_cctx *cctx, const void *src, size_t srcsize, void *dst,
                                 size_t dstcap);

/* Write a special-value chunk of nbytes (kind TERSA_SPECIAL_*). value (typesize bytes) is read
 * for TERSA_SPECIAL_VALUE only. The header's blocksize is the automatic one for blosclz, clevel
 * 5, shuffle; containers that fix the blocksize (b2nd arrays, frames) should use
 * tersa_cctx_make_special instead. Returns the chunk size or a negative error. */
TERSA_API int64_t tersa_chunk_make_special(int kind, int32_t typesize, int64_t nbytes,
                                           const void *value, void *dst, size_t dstcap);

/* The same, with the typesize of cctx and the blocksize tersa_compress would write for nbytes
 * with cctx's parameters (TERSA_P_BLOCKSIZE if set, else the automatic rule), so that readers
 * that expect a container's block geometry (C-Blosc2's b2nd) accept the chunk. */
TERSA_API int64_t tersa_cctx_make_special(const tersa_cctx *cctx, int kind, int64_t nbytes,
                                          const void *value, void *dst, size_t dstcap);

/* ---- Decompression -------------------------------------------------------------------- */

typedef struct tersa_dctx tersa_dctx;

typedef struct tersa_dstats {
    size_t struct_size;
    int64_t blocks_decoded;  /* blocks whose streams were decoded (special/memcpy count too) */
    int64_t streams_decoded; /* codec streams decoded */
    int64_t bytes_read;      /* compressed stream bytes touched */
} tersa_dstats;

TERSA_API tersa_dctx *tersa_dctx_create(void);
TERSA_API void tersa_dctx_free(tersa_dctx *dctx);
TERSA_API int tersa_dctx_set(tersa_dctx *dctx, tersa_param param, int64_t value);
TERSA_API int tersa_dctx_get(const tersa_dctx *dctx, tersa_param param, int64_t *value);
TERSA_API int tersa_dctx_set_pool(tersa_dctx *dctx, tersa_pool *pool);
TERSA_API int tersa_dctx_set_registry(tersa_dctx *dctx, const tersa_registry *reg);
/* Cumulative counters since creation or the last reset. */
TERSA_API void tersa_dctx_stats(const tersa_dctx *dctx, tersa_dstats *stats);
TERSA_API void tersa_dctx_reset_stats(tersa_dctx *dctx);

/* Decompress a whole chunk (any version the official libraries write) into dst. Returns nbytes
 * or a negative error. The chunk is validated before anything is decoded. Allocates nothing
 * after the context's first use with a given blocksize. */
TERSA_API int64_t tersa_decompress(tersa_dctx *dctx, const void *src, size_t srcsize, void *dst,
                                   size_t dstcap);

/* Decode items [start, start + nitems) (units of the header typesize) into dst, decoding only
 * the blocks they touch. Returns the bytes written or a negative error. */
TERSA_API int64_t tersa_getitem(tersa_dctx *dctx, const void *src, size_t srcsize, int64_t start,
                                int64_t nitems, void *dst, size_t dstcap);

/* Decode the blocks whose mask byte is non-zero (mask has nmask >= nblocks entries) into their
 * places in dst, a buffer of the whole chunk's nbytes; other bytes of dst are left untouched.
 * Returns the number of blocks decoded or a negative error. */
TERSA_API int64_t tersa_decompress_blocks(tersa_dctx *dctx, const void *src, size_t srcsize,
                                          const uint8_t *mask, size_t nmask, void *dst,
                                          size_t dstcap);

/* ---- Inspection and validation -------------------------------------------------------- */

typedef struct tersa_chunk_info {
    size_t struct_size;
    int version;        /* header byte 0 (2..6) */
    int versionlz;
    int flags;          /* header byte 2 */
    int header_len;     /* 16 or 32 */
    int typesize;
    int32_t nbytes, blocksize, cbytes;
    int32_t nblocks;    /* for VL-block chunks: the number of blocks */
    int codec;          /* compcode (0,1,2,4,5, plugin id); lz4 vs lz4hc only known in v3+ */
    int format_code;    /* flags bits 5-7 */
    int codec_meta;
    uint8_t filters[TERSA_MAX_FILTERS];
    uint8_t filters_meta[TERSA_MAX_FILTERS];
    int split;          /* 1 if regular blocks are split into typesize streams */
    int memcpyed;
    int special;        /* TERSA_SPECIAL_* */
    int has_dict;
    int vlblocks;
    int blosc2_flags, blosc2_flags2;
} tersa_chunk_info;

/* Parse and check the header only (needs the first 16 or 32 bytes; srcsize may be shorter than
 * cbytes). info->struct_size must be set by the caller. */
TERSA_API int tersa_chunk_inspect(const void *src, size_t srcsize, tersa_chunk_info *info);

/* Validate a whole chunk without decoding: header, sizes, block offsets, dictionary and every
 * stream's bounds. Returns 0 or a negative error with a detail naming what was wrong. */
TERSA_API int tersa_chunk_validate(const void *src, size_t srcsize);

#ifdef __cplusplus
}
#endif
#endif

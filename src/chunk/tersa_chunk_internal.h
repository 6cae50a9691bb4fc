/* Internal structures of the chunk engine: parsed headers, contexts, per-worker scratch. */
#ifndef TERSA_CHUNK_INTERNAL_H
#define TERSA_CHUNK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "codecs/tersa_codec.h"
#include "common/tersa_internal.h"
#include "common/tersa_pool.h"
#include "tersa/tersa_chunk.h"

/* Header flag bits (byte 2). */
#define TERSA_F_SHUFFLE 0x01
#define TERSA_F_MEMCPYED 0x02
#define TERSA_F_BITSHUFFLE 0x04
#define TERSA_F_DELTA 0x08
#define TERSA_F_NOSPLIT 0x10
#define TERSA_F_EXTENDED (TERSA_F_SHUFFLE | TERSA_F_BITSHUFFLE)
/* blosc2_flags (byte 0x1F). */
#define TERSA_B2_DICT 0x01
#define TERSA_B2_BIGENDIAN 0x02
#define TERSA_B2_LAZY 0x08
#define TERSA_B2_INSTRUMENTED 0x80
#define TERSA_FORMAT_USER 6

/* A parsed, checked chunk header. */
typedef struct tersa__hdr {
    uint8_t version, versionlz, flags;
    int typesize;
    int32_t nbytes, blocksize, cbytes;
    int header_len;
    uint8_t filters[TERSA_MAX_FILTERS], filters_meta[TERSA_MAX_FILTERS];
    uint8_t udcodec, codec_meta, b2flags, b2flags2;
    int format;     /* flags bits 5-7 */
    int compcode;   /* resolved codec id */
    int special;
    bool memcpyed, split, has_dict, vlblocks;
    int32_t nblocks;
    int32_t leftover; /* bytes of the last block if short, else 0 */
} tersa__hdr;

/* Parse and check a header; srcsize may be shorter than cbytes (only the header is read).
 * Detail messages start with "chunk header: ". */
int tersa__hdr_parse(const uint8_t *src, size_t srcsize, tersa__hdr *h);
/* Size of block j. */
static inline int32_t tersa__hdr_bsize(const tersa__hdr *h, int32_t j)
{
    return (j == h->nblocks - 1 && h->leftover) ? h->leftover : h->blocksize;
}

/* Per-worker scratch: two block-sized buffers and codec library states. */
typedef struct tersa__worker {
    uint8_t *tmp[3];
    int32_t tmp_size;
    tersa__codec_state codec;
} tersa__worker;

typedef struct tersa__registry_entry tersa__registry_entry;

/* Shared by cctx and dctx: parameters, pool, scratch. */
typedef struct tersa__ctx {
    int64_t params[TERSA_P_COUNT_];
    tersa_pool *pool;       /* the pool in use */
    tersa_pool *own_pool;   /* created for NTHREADS > 1 when none is shared */
    int own_pool_threads;
    const tersa_registry *registry;
    tersa__worker *workers;
    int nworkers;
    uint8_t *ref;           /* block 0 reference buffer (delta) */
    int32_t ref_size;
} tersa__ctx;

struct tersa_cctx {
    tersa__ctx c;
    uint8_t *samples;       /* dictionary training: filtered sample bytes */
    int32_t samples_cap;
    uint8_t dict[TERSA_MAX_DICT_SIZE];
    uint8_t *blocks_out;    /* per-block compressed output when running threaded */
    size_t blocks_out_size;
    int32_t *block_csize;
    int32_t block_csize_n;
};

/* One piece of decoding work: bytes [boff, boff + len) of block `block` go to out. */
typedef struct tersa__dtask {
    int32_t block;
    int32_t boff, len;
    uint8_t *out;
} tersa__dtask;

struct tersa_dctx {
    tersa__ctx c;
    _Atomic int64_t blocks_decoded, streams_decoded, bytes_read;
    tersa__dtask *tasks;
    int32_t tasks_cap;
    int64_t *vl_off;  /* VL-block chunks: uncompressed offset of each block */
    int32_t *vl_len;  /* and its uncompressed length */
    int32_t *vl_end;  /* end of its compressed extent */
    int32_t vl_cap;
};

/* Where a checked chunk's parts are (tersa_validate.c). */
typedef struct tersa__layout {
    int32_t data_start;     /* first byte after bstarts and the dictionary */
    const uint8_t *dict;
    int32_t dict_size;
} tersa__layout;

/* Check everything but stream contents: cbytes within srcsize, bstarts table, dictionary, and
 * when walk is true every stream's size prefix and bounds. */
int tersa__chunk_check(const tersa__hdr *h, const uint8_t *src, size_t srcsize,
                       tersa__layout *lay, bool walk);
/* VL-block chunks: check extents and sizes; fill the arrays when non-NULL. */
int tersa__vl_geometry(const tersa__hdr *h, const uint8_t *src, const tersa__layout *lay,
                       int64_t *off, int32_t *len, int32_t *end);
/* Walk block j's streams and check their bounds (regular chunks). */
int tersa__check_block(const tersa__hdr *h, const uint8_t *src, const tersa__layout *lay,
                       int32_t j);

/* Context helpers (tersa_params.c / tersa_ctx.c). */
int tersa__ctx_init(tersa__ctx *c, int for_cctx);
void tersa__ctx_release(tersa__ctx *c);
int tersa__ctx_set(tersa__ctx *c, tersa_param p, int64_t v, int for_cctx);
/* Make sure the pool and nworkers workers with tmp buffers of at least size bytes exist. */
int tersa__ctx_prepare(tersa__ctx *c, int32_t tmp_size, int *nworkers);

/* Plugin lookup (tersa_registry.c). NULL when absent. */
const tersa_codec_plugin *tersa__registry_codec(const tersa_registry *r, int id);
const tersa_filter_plugin *tersa__registry_filter(const tersa_registry *r, int id);

/* Blocksize and split rules (tersa_blocksize.c). */
int32_t tersa__auto_blocksize(int codec, int clevel, int typesize, int32_t nbytes,
                              int32_t user_blocksize, const uint8_t *filters, int splitmode);
bool tersa__split_rule(int splitmode, int codec, int clevel, int typesize, int32_t blocksize,
                       const uint8_t *filters);

/* Train a dictionary of at most cap bytes from n sample bytes (tersa_dict.c). Returns its size,
 * 0 when none could be built, or a negative error. */
int32_t tersa__dict_train(int codec, const uint8_t *samples, int32_t n, uint8_t *dict,
                          int32_t cap);

/* Special-value chunks (tersa_special.c). */
int tersa__special_detect(const uint8_t *src, int32_t n, int typesize);
int64_t tersa__special_write(int kind, int32_t typesize, int32_t nbytes, int32_t blocksize,
                             const void *value, int32_t valuesize, uint8_t *dst, size_t dstcap);
/* Write bytes [off, off + len) of a special chunk's decoded content to dst. src holds the
 * whole chunk (cbytes bytes, checked by the caller). */
int tersa__special_fill(const tersa__hdr *h, const uint8_t *src, int64_t off, int64_t len,
                        uint8_t *dst);

#endif

/* HDF5 layer internals: filter parameters, chunk geometry, frame views, the dataset object.
 * Not installed. Only the thread that owns a dataset calls HDF5; workers touch memory and
 * file descriptors only. */
#ifndef TERSA_H5_INTERNAL_H
#define TERSA_H5_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/tersa_internal.h"
#include "tersa/tersa_chunk.h"
#include "tersa/tersa_frame.h"
#include "tersa/tersa_h5.h"
#include "tersa/tersa_ndarray.h"

#define H5R TERSA_H5_MAX_RANK
#define H5_ERRLEN 400        /* error detail captured from a worker thread */
#define H5_LAZY_MIN 65536    /* stored chunks smaller than this are read whole */
#define H5_PREFIX 512        /* first read of a lazily read frame */
#define H5_STREAM_MIN (32 << 20) /* reads this large write the caller's buffer with
                                    non-temporal stores */

/* ---- tersa_h5_cd.c: cd_values, block shapes, Fletcher32 ------------------------------- */

/* The meaning of one dataset's cd_values (FORMATS.md 5.1). */
typedef struct tersa__h5cd {
    unsigned v[TERSA_H5_MAX_CD];
    size_t n;
    int32_t blocksize;   /* cd[1] */
    int32_t typesize;    /* cd[2] */
    int64_t chunk_bytes; /* cd[3] */
    int clevel, filter, codec;
    int rank;            /* cd[7], 0 when absent */
    int64_t dims[TERSA_H5_B2ND_MAX_RANK];
} tersa__h5cd;

/* Parse n stored values (n < 4 is an error; missing compression values take the defaults). */
int tersa__h5cd_parse(const unsigned *v, size_t n, tersa__h5cd *cd);
/* The block shape rule of the official filter (compute_b2nd_block_shape): returns the block's
 * byte size and fills bs[rank]. */
int64_t tersa__h5_block_shape(int64_t blocksize, int64_t typesize, int rank, const int64_t *dims,
                              int64_t *bs);
/* The blocksize C-Blosc2 picks automatically for chunk_bytes with these parameters and SHUFFLE
 * (what compute_blosc2_blocksize asks the library). */
int64_t tersa__h5_auto_blocksize(int64_t chunk_bytes, int64_t typesize, int clevel, int codec);
/* Element size of a datatype, or of its base type for H5T_ARRAY (cd_values[2]); -1 on error. */
int64_t tersa__h5_type_base_size(hid_t type);
/* HDF5's Fletcher32 of n bytes. */
uint32_t tersa__h5_fletcher32(const uint8_t *p, size_t n);

/* ---- tersa_h5_geom.c: boxes and copies ------------------------------------------------ */

/* A selection inside one chunk of dims[], and where its elements go (or come from). Element k
 * (k_i < n_i) is chunk element lo + k * step and buffer element buf + sum(k_i * bstr_i). */
typedef struct tersa__h5box {
    int rank;
    int64_t item;
    int64_t dims[H5R];
    int64_t lo[H5R], n[H5R], step[H5R];
    uint8_t *buf;
    int64_t bstr[H5R];
    bool stream;   /* the buffer is large and not re-read soon: copies into it use
                      non-temporal stores */
} tersa__h5box;

/* Copy an n[] box of items between two strided layouts (strides in bytes). */
void tersa__h5_copy(int rank, const int64_t *n, int64_t item, const uint8_t *src,
                    const int64_t *sstr, uint8_t *dst, const int64_t *dstr);
/* C-order byte strides of dims[rank] for items of item bytes. */
void tersa__h5_cstrides(int rank, const int64_t *dims, int64_t item, int64_t *str);
/* Fill the box's buffer places with one item value (fill value). */
void tersa__h5_fill_box(const tersa__h5box *b, const uint8_t *value);
/* Copy between a C-order chunk buffer and the box's buffer (to_box: chunk -> buffer). */
void tersa__h5_corder_copy(const tersa__h5box *b, uint8_t *chunk, bool to_box);
/* Copy between a b2nd block-layout buffer (blocks bs[] over ext = dims rounded up) and the
 * box's buffer, visiting only blocks whose mask byte is set (mask NULL: every block). */
void tersa__h5_blocked_copy(const tersa__h5box *b, const int64_t *bs, uint8_t *blocked,
                            const uint8_t *mask, bool to_box);
/* The same for block number k only (C order over the block grid), whose bytes are at block
 * (bs[] items, in C order). */
void tersa__h5_block_copy_one(const tersa__h5box *b, const int64_t *bs, uint8_t *block,
                              int64_t k, bool to_box);
/* Mark the blocks of a b2nd layout that the box meets; returns how many. */
int64_t tersa__h5_block_mask(const tersa__h5box *b, const int64_t *bs, uint8_t *mask);
/* Mark the blocks of blocksize bytes of a C-order chunk that the box meets; returns how many. */
int64_t tersa__h5_range_mask(const tersa__h5box *b, int64_t blocksize, int64_t nblocks,
                             uint8_t *mask);
/* If the box is one contiguous byte range of the C-order chunk that also lands contiguously in
 * the buffer, set *off and *len (bytes) and return true. */
bool tersa__h5_box_contiguous(const tersa__h5box *b, int64_t *off, int64_t *len);

/* ---- tersa_h5_frame.c: frames in HDF5 chunks ------------------------------------------ */

/* The parts of a one-chunk frame around the chunk, for chunks of n bytes compressed with cd
 * (tersa_h5_frame.c). head holds head_len header bytes, then tail_len trailing bytes. */
typedef struct tersa__h5tmpl {
    uint8_t *head;
    size_t head_len, tail_len, n;
    unsigned cd[TERSA_H5_MAX_CD];
    size_t ncd;
    int8_t state;  /* 0 none, 1 usable, -1 learnt but unusable for this key */
    int8_t bwise;  /* block-wise compression: 0 unchecked, 1 checked, -1 off */
    int8_t bwise_miss; /* block-wise fallbacks in a row */
} tersa__h5tmpl;

/* A growing output buffer: len bytes used of cap. */
typedef struct tersa__h5out {
    uint8_t *buf;
    size_t cap, len;
} tersa__h5out;

/* Per-worker state (one per pool worker). */
typedef struct tersa__h5worker {
    tersa_dctx *dctx;
    tersa_dctx *odctx;    /* frame offsets index (kept out of dctx's block counts) */
    tersa_cctx *cctx;
    uint8_t *scratch;     /* decoded chunk (block layout) */
    uint8_t *scratch2;    /* block layout being built for compression */
    uint8_t *merge;       /* C-order chunk being written */
    uint8_t *mask;        /* block mask */
    int64_t *ranges;      /* byte ranges to read (pairs) */
    uint8_t *stored;      /* a stored chunk read whole */
    uint8_t *blk, *bout;  /* block-wise compression: one block, and it compressed */
    uint8_t *lazy;        /* image of a lazily read stored chunk: all zero between uses */
    size_t scap, scap2, mergecap, mcap, rcap, storedcap, blkcap, boutcap, lazycap;
    bool block_threads;   /* decode a chunk's blocks on the pool (else one block at a time) */
    struct tersa__h5worker *peers; /* with block_threads: all workers of the pool, */
    int npeers;                    /* npeers of them, worker 0 first */
    tersa_pool *pool;              /* and the pool */
    tersa__h5tmpl tmpl;   /* frame template of the last chunks built */
    bool templates;       /* learn templates (workers that build many frames) */
    uint8_t special[64];
    int64_t bytes_read;
    int64_t blocks_total;
} tersa__h5worker;

int tersa__h5worker_init(tersa__h5worker *w);
void tersa__h5worker_free(tersa__h5worker *w);
/* Grow *buf to hold n bytes. */
int tersa__h5_grow(uint8_t **buf, size_t *cap, size_t n);
/* The same for a buffer kept all zero: new bytes are zeroed. */
int tersa__h5_grow_zeroed(uint8_t **buf, size_t *cap, size_t n);

#define H5_LOADED_MAX 24 /* loaded ranges a lazy source remembers (more: scrub it whole) */

/* Where a stored chunk's bytes come from: memory (whole), or a file read on demand (lazy: buf is
 * a zero-filled image of len bytes, filled as parts are needed; the parts read are remembered
 * so that tersa__h5src_scrub can zero them again, which keeps bytes of one chunk from showing
 * through where a damaged frame makes the decoder look at parts never read). */
typedef struct tersa__h5src {
    uint8_t *buf;
    size_t len;
    int fd;        /* >= 0: lazy */
    int64_t pos;   /* file position of byte 0 */
    int64_t *nread;
    int64_t loaded[2 * H5_LOADED_MAX]; /* lazy: (offset, length) of the parts read */
    int nloaded;   /* H5_LOADED_MAX + 1: too many, scrub all */
} tersa__h5src;

int tersa__h5src_need(tersa__h5src *s, int64_t off, int64_t n);
/* Zero again what a lazy source read into its buffer. */
void tersa__h5src_scrub(tersa__h5src *s);

/* An opened frame (one HDF5 chunk). */
typedef struct tersa__h5frame {
    tersa_schunk *sc;      /* borrows src->buf */
    int64_t header_len, cbytes, frame_len;
    const uint8_t *chunk;  /* chunk 0 */
    int64_t chunk_pos;     /* its offset in the frame, -1 for a rebuilt special chunk */
    tersa_chunk_info ci;
    int32_t typesize;      /* frame typesize */
    bool b2nd;
    tersa_nd_meta meta;
} tersa__h5frame;

/* The fixed frame header fields this layer checks before the frame parser sees the header. */
typedef struct tersa__h5frame_fixed_t {
    int64_t header_len, cbytes, frame_len;
} tersa__h5frame_fixed_t;

/* Check the magic, markers and sizes of the first 87 bytes of a frame of len bytes. */
int tersa__h5frame_fixed(const uint8_t *h, size_t len, tersa__h5frame_fixed_t *f);

/* Open the frame in src (validating header, trailer, offsets; locating chunk 0; parsing a
 * b2nd/caterva metalayer). */
int tersa__h5frame_open(tersa__h5worker *w, tersa__h5src *src, tersa__h5frame *f);
void tersa__h5frame_close(tersa__h5frame *f);
/* Decode the part of chunk 0 the box selects (box dims = the HDF5 chunk dims, item = the
 * dataset item size) into the box's buffer, decoding only the blocks it needs. */
int tersa__h5frame_read(tersa__h5worker *w, tersa__h5src *src, tersa__h5frame *f,
                        const tersa__h5box *box);
/* Compress one chunk (n bytes) as the filter would with cd: a b2nd frame when cd has a rank
 * and n = typesize * prod(dims), else a plain frame, into o (o->buf grown with tersa__realloc,
 * owned by the caller; o->len set; 4 spare bytes for a checksum). pool may be NULL. */
int tersa__h5frame_build(tersa__h5worker *w, const tersa__h5cd *cd, const uint8_t *src,
                         size_t n, tersa_pool *pool, tersa__h5out *o);

/* Frame templates: whether the worker's template fits chunks of n bytes compressed with cd, and
 * wrapping a chunk compressed at o->buf + head_len into its frame (o->len set). */
bool tersa__h5tmpl_usable(const tersa__h5worker *w, const tersa__h5cd *cd, size_t n);
void tersa__h5tmpl_wrap(const tersa__h5tmpl *t, tersa__h5out *o, size_t cbytes);

/* ---- tersa_h5_bwise.c: block-wise compression ----------------------------------------- */

/* Compress the chunk box b holds in C order (the whole chunk) into a b2nd frame of ext bytes in
 * blocks bs[] of bbytes each, from the worker's template (usable) with w->cctx set up for the
 * chunk and no pool: each block is gathered into a small buffer and compressed on its own, and
 * its streams are placed where compressing the whole block layout puts them, so the layout
 * copy of the chunk is never made. Returns 0, 1 when this chunk must be built the usual way
 * (special, or a stream whose compression could depend on the room left), or an error. */
int tersa__h5_blockwise(tersa__h5worker *w, const tersa__h5box *b, const int64_t *bs,
                        int64_t bbytes, int64_t ext, tersa__h5out *o);

/* ---- tersa_h5_dset.c: the dataset object ---------------------------------------------- */

typedef struct tersa__h5ref {
    uint64_t addr, size;
    unsigned mask;
    int8_t state; /* 0 unknown, 1 stored, 2 not allocated */
} tersa__h5ref;

struct tersa_h5dset {
    hid_t dset, file, type, dcpl;
    bool own_file;        /* opened by tersa_h5_open_path */
    char *fname, *dname;
    int rank;
    int64_t shape[H5R], maxshape[H5R], chunk[H5R];
    int64_t item;
    bool chunked;
    int path;             /* TERSA_H5_PATH_* */
    int findex;           /* position of 32026 in the pipeline, -1 if absent */
    int nfilters;
    bool fletcher;        /* Fletcher32 right after 32026 */
    tersa__h5cd cd;
    uint8_t *fill;        /* item bytes */
    int fd;               /* >= 0: sec2 file descriptor for pread */
    bool addr_mode;       /* chunk addresses are looked up (pread); else H5Dread_chunk */
    int64_t nstored;      /* stored chunks (H5Dget_num_chunks), -1 = not counted */
    int64_t base;         /* userblock size: file offset of HDF5 address 0 */
    bool writable;
    tersa_pool *pool, *own_pool;
    int nthreads;
    tersa__h5worker *w;   /* nthreads workers */
    int nw;
    bool par_chunks;      /* the current run spreads chunks over the workers */
    tersa__h5ref *refs;   /* cached chunk lookups by linear chunk index, or NULL */
    int64_t nrefs;
    tersa_h5_stats st;
};

/* Linear index of chunk coordinates c[] in the grid over the current extent. */
int64_t tersa__h5_chunk_index(const tersa_h5dset *d, const int64_t *c);
/* Decide, before a read or write, how chunks are located: with addresses (pread by workers)
 * when the file uses the sec2 driver and the dataset holds few enough stored chunks, since HDF5
 * 1.10's H5Dget_chunk_info_by_coord scans every chunk of the dataset; else by H5Dread_chunk,
 * whose B-tree lookup costs O(log n). The count is cached (see tersa__h5_chunks_added). */
int tersa__h5_prepare_lookups(tersa_h5dset *d);
/* After the handle stored chunks: the count of stored chunks may have changed. */
void tersa__h5_chunks_added(tersa_h5dset *d);
/* Look up a chunk (cached): *ref receives size and, in address mode, address and filter mask
 * (else the mask comes with tersa__h5_fetch_raw). */
int tersa__h5_lookup(tersa_h5dset *d, const int64_t *c, tersa__h5ref *ref);
/* Forget cached lookups (all when c is NULL). */
void tersa__h5_forget(tersa_h5dset *d, const int64_t *c);
/* Workers for the current thread count. */
int tersa__h5_workers(tersa_h5dset *d);
/* Record an error naming file, dataset and chunk c (NULL: no chunk). */
int tersa__h5_fail_chunk(const tersa_h5dset *d, const int64_t *c, int code, const char *detail);
/* Re-read the extent (after a change). */
int tersa__h5_refresh_extent(tersa_h5dset *d);
/* Number of chunks per axis over the extent. */
int64_t tersa__h5_grid(const tersa_h5dset *d, int axis);

/* ---- tersa_h5_filter.c ---------------------------------------------------------------- */

/* Make filter 32026 usable by H5Dread/H5Dwrite: a plugin HDF5 can load, else tersa's own. */
void tersa__h5_ensure_filter(void);

/* ---- tersa_h5_read.c ------------------------------------------------------------------ */

/* Per-axis pieces of a hyperslab: chunk index, first local index, count, first output index. */
typedef struct tersa__h5seg {
    int64_t c, lo, n, out;
} tersa__h5seg;

typedef struct tersa__h5sel {
    int rank;
    int64_t start[H5R], count[H5R], step[H5R];
    tersa__h5seg *seg[H5R]; /* per axis, nseg[i] pieces */
    int64_t nseg[H5R];
    int64_t nchunks;        /* product of nseg */
    bool stream;            /* boxes copy into the buffer with non-temporal stores */
} tersa__h5sel;

int tersa__h5sel_init(const tersa_h5dset *d, const int64_t *start, const int64_t *count,
                      const int64_t *step, tersa__h5sel *s);
void tersa__h5sel_free(tersa__h5sel *s);
/* Chunk coordinates and box of the j-th chunk (0 <= j < nchunks) of a selection; buf/bstr of
 * the box describe the packed C-order user buffer ubuf. */
void tersa__h5sel_chunk(const tersa_h5dset *d, const tersa__h5sel *s, int64_t j, uint8_t *ubuf,
                        int64_t *c, tersa__h5box *box);

/* Decode the box of stored chunk c (ref from a lookup; raw = its bytes when already read by
 * the caller, else NULL) with worker w. Error detail is left in err. */
int tersa__h5_read_chunk(tersa_h5dset *d, tersa__h5worker *w, const tersa__h5ref *ref,
                         uint8_t *raw, const tersa__h5box *box);
/* Read a chunk's stored bytes with H5Dread_chunk (main thread; sets ref->mask). *raw is
 * malloc'd. */
int tersa__h5_fetch_raw(tersa_h5dset *d, const int64_t *c, tersa__h5ref *ref, uint8_t **raw);
/* Run n tasks on the workers: chunks in parallel when there are enough of them, else one after
 * the other with block-level threads (d->par_chunks says which); gathers worker statistics. */
int tersa__h5_run(tersa_h5dset *d, int n, tersa_task_fn fn, void *arg);
/* File and memory dataspaces of a selection for H5Dread/H5Dwrite (caller closes both). */
int tersa__h5_spaces(const tersa_h5dset *d, const tersa__h5sel *s, hid_t *fs, hid_t *ms);
/* Bytes of one whole chunk (item size times the chunk dims). */
int64_t tersa__h5_chunk_bytes(const tersa_h5dset *d);

#endif

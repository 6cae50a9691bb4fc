/* b2nd array internals: the geometry, the array object, the block copy engine. Not installed. */
#ifndef TERSA_ND_INTERNAL_H
#define TERSA_ND_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/tersa_internal.h"
#include "tersa/tersa_ndarray.h"

#define ND_MAXD TERSA_ND_MAX_DIM
/* Largest padded chunk, as C-Blosc2 allows (a chunk's nbytes). */
#define ND_MAX_CHUNK_NBYTES ((int64_t)TERSA_MAX_BUFFERSIZE)
/* Chunks of contiguous file frames from this compressed size on are read block by block
 * (tersa_schunk_getitem's lazy reads start at 64 KiB too). */
#define ND_LAZY_MIN (64 * 1024)

/* Everything derived from (shape, chunkshape, blockshape, itemsize). Axes of length 0 whose
 * chunkshape/blockshape were stored as 0 use 1 here (the array has no chunks then). */
typedef struct tersa__nd_geom {
    int ndim;
    int32_t itemsize;
    int64_t shape[ND_MAXD];
    int64_t cs[ND_MAXD];    /* chunkshape */
    int64_t bs[ND_MAXD];    /* blockshape */
    int64_t ext[ND_MAXD];   /* chunkshape rounded up to a multiple of blockshape */
    int64_t cgrid[ND_MAXD]; /* chunks per axis: ceil(shape / chunkshape) */
    int64_t bgrid[ND_MAXD]; /* blocks per axis inside a chunk: ext / blockshape */
    int64_t nitems, nchunks;
    int64_t chunk_items, block_items, nblocks;
    int64_t chunk_nbytes, block_nbytes;
} tersa__nd_geom;

/* A strided selection: indices start, start + step, ... below stop on every axis. */
typedef struct tersa__nd_sel {
    int64_t start[ND_MAXD], stop[ND_MAXD], step[ND_MAXD];
    int64_t count[ND_MAXD]; /* selected indices per axis */
    int64_t nitems;
} tersa__nd_sel;

struct tersa_array {
    tersa_schunk *sc;
    bool own;
    tersa_nd_meta meta; /* dtype points at dtype_buf */
    char *dtype_buf;    /* NUL-terminated copy, or NULL */
    int caterva;
    tersa__nd_geom g;
    uint8_t *scratch; /* one decoded chunk (chunk_nbytes) */
    uint8_t *pattern; /* one block of a special chunk's value (block_nbytes) */
    uint8_t *mask;    /* per actual chunk block */
    size_t maskcap;
    uint8_t *cbuf; /* one compressed chunk (chunk_nbytes + 32) */
    tersa_nd_stats stats;
};

/* ---- tersa_nd_meta.c ---------------------------------------------------------------- */
/* Compute the geometry; strict (creation) additionally demands 1 <= blockshape <= chunkshape
 * and ndim <= 15. Fails on overflow or a chunk above TERSA_MAX_BUFFERSIZE bytes. */
int tersa__nd_geom_init(tersa__nd_geom *g, int ndim, const int64_t *shape, const int32_t *cs,
                        const int32_t *bs, int64_t itemsize, bool strict);
/* C-order strides (in items) of a box of the given extents. */
void tersa__nd_strides(int ndim, const int64_t *extent, int64_t *strides);
/* Coordinates of chunk number n in a chunk grid (C order), and back. */
void tersa__nd_unravel(int ndim, const int64_t *grid, int64_t n, int64_t *cc);
int64_t tersa__nd_ravel(int ndim, const int64_t *grid, const int64_t *cc);
/* The box of chunk cc inside the array: [start, stop) per axis. */
void tersa__nd_chunk_box(const tersa__nd_geom *g, const int64_t *cc, int64_t *start, int64_t *stop);

/* ---- tersa_nd_array.c --------------------------------------------------------------- */
/* Allocate the scratch buffers for a's geometry. */
int tersa__nd_alloc_scratch(tersa_array *a);
/* Wrap a schunk whose "b2nd" metalayer is already written; frees it on failure when own.
 * fresh: a schunk being filled by a creator (its chunks are not checked). */
tersa_array *tersa__nd_wrap(tersa_schunk *sc, bool own, bool fresh);

/* ---- tersa_nd_copy.c: moving items between a chunk buffer and a packed slice -------- */
/* Advance an odometer over the box [lo, hi] (inclusive, nd axes); false when done (at once
 * for nd 0). */
bool tersa__nd_next_index(int nd, const int64_t *lo, const int64_t *hi, int64_t *idx);
/* Build a selection from user start/stop/step (NULL = defaults); checks bounds. */
int tersa__nd_sel_init(const tersa__nd_geom *g, const int64_t *start, const int64_t *stop,
                       const int64_t *step, tersa__nd_sel *s);
/* Range of chunk indices along each axis the selection meets: [lo, hi]. Returns false when
 * the selection is empty. */
bool tersa__nd_sel_chunk_range(const tersa__nd_geom *g, const tersa__nd_sel *s, int64_t *lo,
                               int64_t *hi);
/* Per-axis part of the selection inside chunk cc: first selected index (absolute), number
 * selected. Returns false when the chunk holds no selected item. */
bool tersa__nd_sel_in_chunk(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *cc,
                            int64_t *first, int64_t *n);
/* True when the selection covers every item of chunk cc that lies inside the array. */
bool tersa__nd_sel_covers_chunk(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *cc);
/* Mark (in mask, one byte per logical block of the chunk) the blocks of chunk cc holding
 * selected items: ND_BLOCK_COPY, or with direct set ND_BLOCK_DIRECT for a block wholly
 * selected whose items are consecutive in the packed slice. Returns the number marked. */
enum { ND_BLOCK_NONE = 0, ND_BLOCK_COPY = 1, ND_BLOCK_DIRECT = 2 };
int64_t tersa__nd_block_mask(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *cc,
                             uint8_t *mask, bool direct);
/* Item offset in the packed slice of the first selected item of block b of chunk cc. */
int64_t tersa__nd_block_dst(const tersa__nd_geom *g, const tersa__nd_sel *s, const int64_t *cc,
                            int64_t b);

/* Direction and source of a copy. */
enum { ND_CHUNK_TO_USER = 0, ND_USER_TO_CHUNK = 1 };
typedef struct tersa__nd_copy {
    const tersa__nd_geom *g;
    const tersa__nd_sel *s;
    int dir;
    uint8_t *user;       /* packed slice buffer (C order over s->count) */
    const uint8_t *fill; /* ND_CHUNK_TO_USER: if set, every block reads this block instead
                            of chunk + b * block_nbytes (special chunks) */
    const uint8_t *item; /* ND_USER_TO_CHUNK: if set, every item is this value (user unused) */
    const uint8_t *skip; /* if set, blocks marked ND_BLOCK_DIRECT here are left alone */
} tersa__nd_copy;
/* Copy the selected items of chunk cc between the chunk buffer and the user buffer. */
void tersa__nd_copy_chunk(const tersa__nd_copy *c, const int64_t *cc, uint8_t *chunk);

/* ---- tersa_nd_slice.c -------------------------------------------------------------- */
/* True when chunk n is stored as a special zeros (or uninitialised) offset code: known
 * without reading any chunk bytes. */
bool tersa__nd_chunk_zeros(tersa_array *a, int64_t n);
/* Write a constant item over a selection (resize zeroing); same rules as set_slice. */
int64_t tersa__nd_fill_sel(tersa_array *a, const tersa__nd_sel *s, const uint8_t *item);
/* Compress the chunk buffer a->scratch and store it as chunk n (update, or append when
 * n == nchunks). */
int tersa__nd_store_chunk(tersa_array *a, int64_t n, const uint8_t *chunk);

/* ---- tersa_nd_resize.c ------------------------------------------------------------ */
/* Rewrite the shape entries of the metalayer from a->g.shape, in place (same length). */
int tersa__nd_update_meta(tersa_array *a);

/* ---- tersa_nd_create.c ------------------------------------------------------------- */
/* Check params and compute the geometry and the b2nd metalayer bytes (*meta malloc'd). */
int tersa__nd_plan(const tersa_nd_params *p, tersa__nd_geom *g, uint8_t **meta, size_t *mlen);
/* Plan, create the frame and wrap it as a new array without chunks yet (fill it, then
 * tersa__nd_finish). */
tersa_array *tersa__nd_create(const tersa_nd_params *p);
/* Create the empty schunk of a plan (no chunks yet). */
tersa_schunk *tersa__nd_new_schunk(const tersa_nd_params *p, const tersa__nd_geom *g,
                                   const uint8_t *meta, size_t mlen);
/* A special chunk (TERSA_SPECIAL_*) of one padded chunk, its header blocksize set to the b2nd
 * block size. Returns its length. */
int64_t tersa__nd_special_chunk(const tersa__nd_geom *g, int kind, const void *value, uint8_t *buf,
                                size_t cap);
/* Flush a new array's frame; on failure (rc < 0 or the flush failing) free it, return NULL. */
tersa_array *tersa__nd_finish(tersa_array *a, int rc);
/* Copy the user's C-order slab (whole chunk rows: chunk index range [r0, r1) on axis 0,
 * covering shape[1..] fully) into chunks and append them. slab holds rows
 * [r0 * cs0, min(r1 * cs0, shape0)). */
int tersa__nd_append_rows(tersa_array *a, int64_t r0, int64_t r1, const uint8_t *slab);

#endif

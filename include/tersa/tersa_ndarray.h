/* tersa N-dimensional arrays: the b2nd layout of C-Blosc2 (byte-compatible).
 *
 * A b2nd array is a super-chunk (tersa_schunk) whose header carries a "b2nd" metalayer (or the
 * older "caterva" one) holding ndim, shape, chunkshape, blockshape and a dtype string. The array
 * is cut into chunks of chunkshape items (numbered in C order over the chunk grid), each chunk
 * into blocks of blockshape items (C order inside the chunk), and the items of a block are in C
 * order. Every chunk holds prod(extchunkshape) items, where extchunkshape is chunkshape rounded
 * up to a multiple of blockshape; items outside the array (edge chunks) are padding, written as
 * zeros and ignored on reading. See doc/ndarray.md.
 *
 * Slices read only the chunks they meet, and within each chunk only the blocks they meet.
 *
 * Ownership: tersa_array_* constructors return an object freed with tersa_array_free
 * (free(NULL) is a no-op). An array made with tersa_array_from_schunk borrows the schunk unless
 * TERSA_ND_OWN is given. Buffers passed in are borrowed for the duration of the call.
 * Thread-safety: one tersa_array (and its schunk) is used by one thread at a time; it owns
 * scratch buffers. Distinct arrays may be used concurrently.
 * Errors: negative tersa codes (NULL for constructors); tersa_error_detail() says what was wrong.
 */
#ifndef TERSA_NDARRAY_H
#define TERSA_NDARRAY_H

#include "tersa_frame.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERSA_ND_MAX_DIM 16       /* read limit (C-Blosc2 >= 2.21.3); tersa writes <= 15 */
#define TERSA_ND_MAX_DIM_WRITE 15 /* ndim 16 has no valid msgpack fixarray marker */
#define TERSA_ND_META_VERSION 0   /* metalayer format version written */

/* ---- The metalayer ------------------------------------------------------------------- */

/* The decoded "b2nd" metalayer. */
typedef struct tersa_nd_meta {
    size_t struct_size; /* sizeof(tersa_nd_meta) */
    int version;        /* metalayer format version (0..127) */
    int ndim;           /* 0..TERSA_ND_MAX_DIM */
    int64_t shape[TERSA_ND_MAX_DIM];
    int32_t chunkshape[TERSA_ND_MAX_DIM];
    int32_t blockshape[TERSA_ND_MAX_DIM];
    int has_dtype;     /* 0: an old ("caterva") metalayer ending after blockshape */
    int dtype_format;  /* 0 = NumPy dtype string (0..127) */
    const char *dtype; /* dtype bytes; NOT NUL-terminated after parsing (points into the
                          parsed buffer); for serialising: dtype_len bytes, or NULL */
    size_t dtype_len;
} tersa_nd_meta;

/* Parse a b2nd (or caterva) metalayer of len bytes. Checks every length, marker and value:
 * ndim 0..16 (16 only with the 0xA0 marker C-Blosc2 writes), shape >= 0, chunkshape and
 * blockshape >= 1 (or both 0 on an axis of length 0, as C-Blosc2 allows), products without
 * overflow. meta->struct_size must be set. Returns the bytes consumed or a negative error
 * (TERSA_ERR_CORRUPT / TERSA_ERR_TRUNCATED with the offset in the detail). */
TERSA_API int64_t tersa_nd_meta_parse(const void *buf, size_t len, tersa_nd_meta *meta);

/* Serialise meta exactly as C-Blosc2 does (fixarray 7, version, ndim, int64 shape, int32
 * chunkshape and blockshape, dtype_format, str32 dtype; a NULL dtype writes "|u1"). ndim must be
 * <= 15. Returns the length; with dst NULL only the length; TERSA_ERR_DST_TOO_SMALL if it does
 * not fit in dstcap. */
TERSA_API int64_t tersa_nd_meta_serialize(const tersa_nd_meta *meta, void *dst, size_t dstcap);

/* ---- Arrays -------------------------------------------------------------------------- */

typedef struct tersa_array tersa_array;

/* Flags of tersa_array_from_schunk. */
enum {
    TERSA_ND_OWN = 0x100, /* the array frees the schunk in tersa_array_free (also on failure) */
};

/* An array over a super-chunk that has a "b2nd" or "caterva" metalayer. The item size is the
 * frame typesize. The number of chunks and their sizes must match the geometry. The schunk's
 * cctx gets typesize = itemsize (1 above 255) and blocksize = prod(blockshape) * itemsize, so
 * that chunks written later keep the b2nd layout. Returns NULL on error (detail set). */
TERSA_API tersa_array *tersa_array_from_schunk(tersa_schunk *schunk, unsigned flags);

/* Open a .b2nd file (contiguous frame at byte offset, or sparse directory) or an in-memory
 * frame; flags are the TERSA_OPEN_* flags of tersa_schunk_open_file/_buffer. The array owns
 * its schunk. Returns NULL on error. */
TERSA_API tersa_array *tersa_array_open_file(const char *path, int64_t offset, unsigned flags);
TERSA_API tersa_array *tersa_array_open_buffer(const void *buf, size_t len, unsigned flags);

TERSA_API void tersa_array_free(tersa_array *array);

/* The underlying super-chunk (owned by the array or borrowed by it). Use it for to_buffer,
 * vlmetalayers, threads (tersa_schunk_dctx / tersa_schunk_cctx). Do not add, insert or delete
 * chunks through it. */
TERSA_API tersa_schunk *tersa_array_schunk(tersa_array *array);

typedef struct tersa_array_info {
    size_t struct_size; /* sizeof(tersa_array_info), set by the caller */
    int ndim;
    int64_t shape[TERSA_ND_MAX_DIM];
    int32_t chunkshape[TERSA_ND_MAX_DIM];
    int32_t blockshape[TERSA_ND_MAX_DIM];
    int64_t extchunkshape[TERSA_ND_MAX_DIM]; /* chunkshape rounded up to blockshape */
    int32_t itemsize;                        /* bytes per item (the frame typesize) */
    int64_t nitems;                          /* prod(shape) */
    int64_t nchunks;                         /* chunks in the grid */
    int64_t chunk_nbytes;                    /* bytes of every (padded) chunk */
    int64_t block_nbytes;                    /* prod(blockshape) * itemsize */
    const char *dtype;                       /* NUL-terminated, owned by the array; NULL when the
                                                metalayer has none */
    int dtype_format;
    int caterva; /* 1: the metalayer is named "caterva" */
} tersa_array_info;

/* Fill *info (info->struct_size must be set). Returns 0 or an error. */
TERSA_API int tersa_array_get_info(const tersa_array *array, tersa_array_info *info);
/* Shortcuts: ndim, shape (ndim values into shape), itemsize, nitems; negative on error. */
TERSA_API int tersa_array_ndim(const tersa_array *array);
TERSA_API int tersa_array_shape(const tersa_array *array, int64_t *shape);
TERSA_API int32_t tersa_array_itemsize(const tersa_array *array);
TERSA_API int64_t tersa_array_nitems(const tersa_array *array);

/* Counters of the work done by slice reads and writes since creation or the last reset. */
typedef struct tersa_nd_stats {
    size_t struct_size;     /* sizeof(tersa_nd_stats), set by the caller */
    int64_t chunks_read;    /* chunks decoded (wholly or partly) for reading or updating */
    int64_t chunks_special; /* special (zeros, NaN, value, uninit) chunks answered arithmetically */
    int64_t blocks_decoded; /* blocks the chunk engine decoded */
    int64_t chunks_written; /* chunks compressed and stored */
} tersa_nd_stats;

TERSA_API int tersa_array_stats(const tersa_array *array, tersa_nd_stats *stats);
TERSA_API void tersa_array_reset_stats(tersa_array *array);

/* ---- Slices -------------------------------------------------------------------------- */

/* A slice selects, on every axis i, the indices start[i], start[i] + step[i], ... below
 * stop[i], with 0 <= start[i] <= stop[i] <= shape[i] and step[i] >= 1. start NULL means all
 * zeros, stop NULL the shape, step NULL all ones (for ndim 0 all may be NULL). The slice's
 * shape is ceil((stop - start) / step) per axis; its items are exchanged with the caller in C
 * order, packed. */

/* Shape of a slice (ndim values into out_shape, which may be NULL). Returns its byte size, or
 * TERSA_ERR_RANGE / TERSA_ERR_PARAM naming the axis. */
TERSA_API int64_t tersa_array_slice_nbytes(const tersa_array *array, const int64_t *start,
                                           const int64_t *stop, const int64_t *step,
                                           int64_t *out_shape);

/* Read a slice into dst. Only the chunks the slice meets are read, and in each only the blocks
 * it meets are decoded; special chunks are answered without decoding. Returns the bytes
 * written, TERSA_ERR_DST_TOO_SMALL if dstcap is below the slice size. */
TERSA_API int64_t tersa_array_get_slice(tersa_array *array, const int64_t *start,
                                        const int64_t *stop, const int64_t *step, void *dst,
                                        size_t dstcap);

/* The whole array in C order (no padding). Returns the bytes written. */
TERSA_API int64_t tersa_array_to_buffer(tersa_array *array, void *dst, size_t dstcap);

/* Write a slice from src (srclen must equal the slice size). Chunks the slice covers entirely
 * are rebuilt (padding zeroed); others are read, modified and recompressed with the schunk's
 * cctx. The schunk must be writable (memory, or opened with TERSA_OPEN_WRITE). Returns the
 * number of chunks written or an error. */
TERSA_API int64_t tersa_array_set_slice(tersa_array *array, const int64_t *start,
                                        const int64_t *stop, const int64_t *step, const void *src,
                                        size_t srclen);

/* ---- Creating arrays ----------------------------------------------------------------- */

typedef struct tersa_nd_params {
    size_t struct_size;        /* sizeof(tersa_nd_params) */
    int ndim;                  /* 0..15 */
    const int64_t *shape;      /* ndim values >= 0 */
    const int32_t *chunkshape; /* NULL: automatic (doc/ndarray.md) */
    const int32_t *blockshape; /* NULL: automatic; each 1..chunkshape */
    int32_t itemsize;          /* bytes per item; 0 = the cparams' typesize */
    const char *dtype;         /* NUL-terminated NumPy dtype string; NULL = "|S<itemsize>"
                                  (what C-Blosc2 writes for a missing dtype) */
    int dtype_format;          /* 0 = NumPy */
    const tersa_cctx *cparams; /* codec, clevel, filters, threads (copied; NULL = defaults);
                                  typesize and blocksize are set from itemsize/blockshape */
    int storage;               /* TERSA_STORAGE_MEMORY / _FILE / _SPARSE */
    const char *path;          /* file or directory for FILE / SPARSE */
    int overwrite;             /* 1: replace an existing file or directory's frame */
    int nmetalayers;           /* extra header metalayers (0..15), beside "b2nd" */
    const tersa_metalayer *metalayers;
} tersa_nd_params;

/* Compute the automatic chunkshape and blockshape the creators would use (either output may be
 * NULL; a non-NULL params->chunkshape / blockshape is kept). Returns 0 or an error. */
TERSA_API int tersa_nd_auto_shapes(const tersa_nd_params *params, int32_t *chunkshape,
                                   int32_t *blockshape);

/* An array of zeros (every chunk a special zeros chunk, stored as a frame offset code). */
TERSA_API tersa_array *tersa_array_zeros(const tersa_nd_params *params);
/* Same as zeros: C-Blosc2's b2nd_empty writes zeros too. */
TERSA_API tersa_array *tersa_array_empty(const tersa_nd_params *params);
/* Every item equal to value (itemsize bytes): repeated-value special chunks. */
TERSA_API tersa_array *tersa_array_full(const tersa_nd_params *params, const void *value);
/* From a C-order buffer of prod(shape) * itemsize bytes (srclen must equal it). */
TERSA_API tersa_array *tersa_array_from_buffer(const tersa_nd_params *params, const void *src,
                                               size_t srclen);

/* ---- Changing the shape -------------------------------------------------------------- */

/* Change the shape (same ndim; chunkshape and blockshape stay). Items inside both shapes keep
 * their values; new items are zero. Chunks leaving the grid are deleted, new chunks are zero
 * chunks, and edge chunks that grow are rewritten with their new part zeroed. The metalayer is
 * updated in place. Returns 0 or an error. */
TERSA_API int tersa_array_resize(tersa_array *array, const int64_t *new_shape);

/* Append a C-order buffer along axis: its shape is the array's shape with axis replaced by
 * srclen / (itemsize * prod(other axes)), which must divide exactly. Returns 0 or an error. */
TERSA_API int tersa_array_append(tersa_array *array, const void *src, size_t srclen, int axis);


/* ---- Copying ------------------------------------------------------------------------- */

/* Copy an array into a new one, possibly with other chunk and block shapes, other compression
 * parameters or another storage. From params are used:
 *   chunkshape, blockshape: the new shapes (NULL: the source's; the creation rules apply:
 *       1 <= blockshape <= chunkshape, blocks of at most TERSA_MAX_BLOCKSIZE bytes);
 *   cparams: codec, clevel, filters, threads (NULL: the source's);
 *   storage, path, overwrite: where the copy lives (a file or directory other than the
 *       source's);
 *   nmetalayers, metalayers: extra header metalayers (0: the source's, beside "b2nd").
 * ndim, shape, itemsize, dtype and dtype_format are the source's (the params' are ignored).
 * The source's vlmetalayers are copied. When the shapes stay and cparams and metalayers are
 * not given, the compressed chunks are copied as they are. Otherwise the copy is streamed one
 * destination chunk at a time: it reads the source region of that chunk (decoding only the
 * source blocks it meets) and compresses it; memory use is a few chunks of either array, never
 * the whole array. Destination chunks that hold only zeros are stored as special zero chunks.
 * The source is only read (it may be read-only). Returns the new array (freed with
 * tersa_array_free) or NULL on error (a partly written file or directory is left). */
TERSA_API tersa_array *tersa_array_copy(tersa_array *array, const tersa_nd_params *params);

/* ---- Inserting and deleting along an axis -------------------------------------------- */

/* Insert a C-order buffer along axis before index start (0 <= start <= shape[axis]): the
 * buffer's shape is the array's with axis replaced by n = srclen / (itemsize * prod(other
 * axes)), which must divide exactly; items at start and beyond move up by n.
 * When start and n are multiples of chunkshape[axis] (or start == shape[axis]: an append),
 * whole chunks are inserted and only the new ones are written, as C-Blosc2's b2nd_insert
 * does; C-Blosc2 refuses other positions. tersa also accepts them: the items after start
 * are then moved up chunk by chunk (read and recompressed; memory use is one chunk). The
 * array must be writable. Returns 0 or an error. */
TERSA_API int tersa_array_insert(tersa_array *array, const void *src, size_t srclen, int axis,
                                 int64_t start);

/* Delete the len indices [start, start + len) along axis (0 <= start, start + len <=
 * shape[axis]); the items after them move down. At the end of the axis this is a resize;
 * with start and len multiples of chunkshape[axis] whole chunks are deleted without
 * rewriting any (C-Blosc2's b2nd_delete accepts only these two cases); otherwise the items
 * after the range are moved down chunk by chunk (read and recompressed), then the axis
 * shrinks. Returns 0 or an error. */
TERSA_API int tersa_array_delete(tersa_array *array, int axis, int64_t start, int64_t len);


/* ---- NumPy .npy files ---------------------------------------------------------------- */

/* Write the array as a .npy file (format 1.0, or 2.0 for a long header), streamed one chunk
 * row (chunkshape[0] slab) at a time. The dtype must be a NumPy type string ('<f8', '|u1', ...);
 * arrays without one are written as '|V<itemsize>'. Returns 0 or an error. */
TERSA_API int tersa_array_save_npy(tersa_array *array, const char *path);

/* Read a C-order .npy file (format 1.x/2.x/3.x, simple dtype strings) into a new array created
 * with params (its ndim, shape, itemsize and dtype are taken from the file; chunkshape and
 * blockshape are used when given and fit, else automatic), streamed one slab at a time.
 * Returns NULL on error (TERSA_ERR_UNSUPPORTED for Fortran order or structured dtypes). */
TERSA_API tersa_array *tersa_array_load_npy(const char *path, const tersa_nd_params *params);

#ifdef __cplusplus
}
#endif
#endif

/* New public b2nd array functions, waiting to be moved into include/tersa/tersa_ndarray.h (the
 * ndarray layer's owner may not edit public headers). The definitions are exported with
 * TERSA_API like the rest of the array API; until the move, programs that call them include
 * this file (tests and fuzz targets have src/ on their include path). Paste everything between
 * the markers into tersa_ndarray.h, after tersa_array_append, and make this file include
 * tersa_ndarray.h only. */
#ifndef TERSA_ND_NEWAPI_H
#define TERSA_ND_NEWAPI_H

#include "tersa/tersa_ndarray.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- BEGIN: for tersa_ndarray.h ------------------------------------------------------- */

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

/* ---- END: for tersa_ndarray.h --------------------------------------------------------- */

#ifdef __cplusplus
}
#endif
#endif

/* New public frame functions, waiting to be moved into include/tersa/tersa_frame.h (the frame
 * layer's owner may not edit public headers). The definitions are exported with TERSA_API like
 * the rest of the frame API; until the move, programs that call them include this file (tests
 * and fuzz targets have src/ on their include path). Paste everything between the markers into
 * tersa_frame.h, after tersa_schunk_copy, and make this file include tersa_frame.h only. */
#ifndef TERSA_FRAME_NEWAPI_H
#define TERSA_FRAME_NEWAPI_H

#include "tersa/tersa_frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- BEGIN: for tersa_frame.h --------------------------------------------------------- */

/* ---- Crash safety --------------------------------------------------------------------- */

/* File and sparse frames are changed so that a crash of the process at any moment leaves
 * the frame as the last change that returned success left it, or (for the change under way)
 * as that change leaves it; never a frame that fails to open or loses a chunk (doc/frames.md
 * describes the protocol). A change that returns an error may or may not be on disk; the
 * schunk then refuses further changes (TERSA_ERR_STATE) and must be reopened.
 *
 * With durable set, every change is also synced to stable storage (fdatasync of the data,
 * then of the header; fsync of the folder after a rename) before it returns, so that it
 * survives a power failure. Off by default. Returns 0, or TERSA_ERR_PARAM on NULL. */
TERSA_API int tersa_schunk_set_durable(tersa_schunk *schunk, int durable);

/* Reclaim space: a file frame is rewritten without the bytes that updates and deletes left
 * unused (into "<path>.tersa-compact", then renamed over the frame: crash-safe); a sparse
 * frame loses chunk files that no index entry uses (left by a crash); a memory frame is
 * already compact. Chunks are copied, not recompressed. The schunk stays open on the new
 * file. Returns 0 or a negative error (the frame is then unchanged). */
TERSA_API int tersa_schunk_compact(tersa_schunk *schunk);

/* ---- Splitting and merging by chunk --------------------------------------------------- */

/* A new super-chunk holding chunks [first, first + count) of schunk, copied without
 * recompression, with schunk's parameters, metalayers and vlmetalayers (params->storage,
 * path and overwrite are used; as for tersa_schunk_copy). Returns NULL on error (an empty
 * range gives an empty super-chunk; a range outside 0..nchunks gives TERSA_ERR_RANGE). */
TERSA_API tersa_schunk *tersa_schunk_extract(tersa_schunk *schunk, int64_t first, int64_t count,
                                             const tersa_schunk_params *params);

/* Append every chunk of src to dst (writable), copying the compressed bytes verbatim. The two
 * must have the same typesize, blocksize, codec, codec meta, clevel, filter pipeline, split
 * mode, dictionary flag and block kind (regular / VL-blocks), else TERSA_ERR_PARAM naming the
 * first difference. A fixed-size dst stays fixed-size: src must then have dst's chunksize (or
 * dst be empty), and dst must not end with a short chunk, else TERSA_ERR_PARAM. Metalayers and
 * vlmetalayers of src are not copied. For file and sparse dst the whole concatenation is one
 * change (all or nothing after a crash). src may be dst (doubles it). Returns the new number
 * of chunks of dst. */
TERSA_API int64_t tersa_schunk_concat(tersa_schunk *dst, tersa_schunk *src);

/* ---- END: for tersa_frame.h ----------------------------------------------------------- */

#ifdef __cplusplus
}
#endif
#endif

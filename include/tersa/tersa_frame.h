/* tersa frame layer: super-chunks stored as Blosc2 frames (byte-compatible with C-Blosc2).
 *
 * A super-chunk (tersa_schunk) is an ordered list of Blosc2 chunks plus metalayers, kept in one
 * of three storages:
 *   - memory: a contiguous frame ("cframe") held in memory; tersa_schunk_to_buffer serialises it;
 *   - file:   a contiguous frame in a file, kept valid on disk after every change;
 *   - sparse: a directory holding chunks.b2frame (header, offsets index, trailer) and one
 *             %08X.chunk file per stored chunk ("sframe").
 *
 * Metalayers are named byte strings fixed at creation (header; updatable in place, never
 * resized). Variable-length metalayers (vlmetalayers, in the trailer) can be added, replaced
 * and deleted at any time; their values are stored as Blosc2 chunks and returned decoded.
 *
 * Ownership: tersa_schunk_* constructors return an object freed with tersa_schunk_free
 * (free(NULL) is a no-op). Input buffers are copied unless a function says otherwise.
 * Thread-safety: one tersa_schunk is used by one thread at a time (it owns scratch buffers and
 * its compression/decompression contexts); distinct schunks may be used concurrently.
 * Errors: negative tersa codes; tersa_error_detail() names the field and the byte offset.
 */
#ifndef TERSA_FRAME_H
#define TERSA_FRAME_H

#include "tersa_chunk.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERSA_MAX_METALAYERS 16       /* header metalayers, and vlmetalayers written */
#define TERSA_METALAYER_NAME_MAX 31   /* bytes in a (vl)metalayer name */

/* Storage kinds. */
enum {
    TERSA_STORAGE_MEMORY = 0,
    TERSA_STORAGE_FILE = 1,
    TERSA_STORAGE_SPARSE = 2,
};

/* Flags for the open functions. */
enum {
    TERSA_OPEN_READONLY = 0, /* default: the frame is never modified */
    TERSA_OPEN_WRITE = 1,    /* file/sparse: allow appends and other changes (file offset 0) */
    TERSA_OPEN_BORROW = 2,   /* open_buffer: keep a reference to the caller's buffer instead of
                                copying it; the buffer must outlive the schunk and stay
                                unchanged. A borrowed schunk copies the frame on its first
                                change. */
};

typedef struct tersa_schunk tersa_schunk;

/* ---- Opening existing frames ---------------------------------------------------------- */

/* Open a contiguous frame held in memory; len must equal the frame's frame_len exactly.
 * The bytes are copied (or borrowed with TERSA_OPEN_BORROW). A memory schunk is always
 * writable. Returns NULL on error (detail set). */
TERSA_API tersa_schunk *tersa_schunk_open_buffer(const void *buf, size_t len, unsigned flags);

/* Open a contiguous frame file (starting at byte `offset`; the frame may be followed by other
 * data), or a sparse frame directory (offset must be 0). Only the header, the offsets index
 * and the trailer are read; chunks are read when asked for. TERSA_OPEN_WRITE allows changes
 * (contiguous files only at offset 0). Returns NULL on error (detail set). */
TERSA_API tersa_schunk *tersa_schunk_open_file(const char *path, int64_t offset, unsigned flags);

TERSA_API void tersa_schunk_free(tersa_schunk *schunk);

/* ---- Properties ----------------------------------------------------------------------- */

typedef struct tersa_schunk_info {
    size_t struct_size;   /* set by the caller: sizeof(tersa_schunk_info) */
    int storage;          /* TERSA_STORAGE_* */
    int frame_version;    /* general_flags bits 0-3 (1..3) */
    int64_t nchunks;
    int64_t nbytes;       /* uncompressed bytes of all chunks */
    int64_t cbytes;       /* stored chunk bytes (special zero/NaN/uninit chunks count 0) */
    int64_t frame_len;    /* file: the frame's length on disk; sparse: the index file's;
                             memory: as last computed (tersa_schunk_frame_len is current) */
    int32_t typesize;     /* frame typesize (may exceed 255) */
    int32_t blocksize;    /* frame default blocksize (0 = automatic) */
    int32_t chunksize;    /* nbytes of every chunk but a shorter last one; 0 = variable,
                             -1 = no chunk yet */
    int codec;            /* compcode (TERSA_CODEC_* or a plugin id) */
    int codec_meta;
    int clevel;
    int splitmode;        /* TERSA_SPLIT_* */
    int use_dict;
    uint8_t filters[TERSA_MAX_FILTERS];
    uint8_t filters_meta[TERSA_MAX_FILTERS];
    int nmetalayers, nvlmetalayers;
    int vlblocks;         /* the frame holds VL-block chunks */
} tersa_schunk_info;

/* Fill *info (info->struct_size must be set). Returns 0 or a negative error. */
TERSA_API int tersa_schunk_get_info(const tersa_schunk *schunk, tersa_schunk_info *info);

/* Shortcuts; they return -1 (TERSA_ERR_PARAM) on a NULL schunk. */
TERSA_API int64_t tersa_schunk_nchunks(const tersa_schunk *schunk);
TERSA_API int64_t tersa_schunk_nbytes(const tersa_schunk *schunk);
TERSA_API int64_t tersa_schunk_cbytes(const tersa_schunk *schunk);
TERSA_API int32_t tersa_schunk_typesize(const tersa_schunk *schunk);
TERSA_API int32_t tersa_schunk_chunksize(const tersa_schunk *schunk);
TERSA_API int tersa_schunk_codec(const tersa_schunk *schunk);
TERSA_API int tersa_schunk_clevel(const tersa_schunk *schunk);
/* Copy the frame's filter pipeline (6 slots each; either pointer may be NULL). */
TERSA_API int tersa_schunk_filters(const tersa_schunk *schunk, uint8_t filters[TERSA_MAX_FILTERS],
                                   uint8_t filters_meta[TERSA_MAX_FILTERS]);

/* The contexts the schunk owns (never NULL for a valid schunk; owned by the schunk). Use them
 * to set threads, a pool or a registry. The dctx has TERSA_P_FRAME_TYPESIZE set to the frame
 * typesize; the cctx holds the creation parameters and is used by append_buffer. */
TERSA_API tersa_dctx *tersa_schunk_dctx(tersa_schunk *schunk);
TERSA_API tersa_cctx *tersa_schunk_cctx(tersa_schunk *schunk);

/* ---- Reading chunks ------------------------------------------------------------------- */

/* Sizes of chunk nchunk: *nbytes decoded, *cbytes compressed (either may be NULL). Special
 * chunks stored as offset codes report the size of the rebuilt 32-byte chunk. */
TERSA_API int tersa_schunk_chunk_sizes(tersa_schunk *schunk, int64_t nchunk, int32_t *nbytes,
                                       int32_t *cbytes);

/* Copy the compressed bytes of chunk nchunk into dst (special chunks are rebuilt). Returns the
 * chunk size; with dst NULL only returns the size; TERSA_ERR_DST_TOO_SMALL if it does not fit. */
TERSA_API int64_t tersa_schunk_get_chunk(tersa_schunk *schunk, int64_t nchunk, void *dst,
                                         size_t dstcap);

/* Decompress chunk nchunk into dst with the schunk's dctx. Returns its nbytes or an error. */
TERSA_API int64_t tersa_schunk_decompress_chunk(tersa_schunk *schunk, int64_t nchunk, void *dst,
                                                size_t dstcap);

/* Decode items [start, start + nitems) of chunk nchunk (units of the chunk's header typesize)
 * into dst, decoding only the blocks the range touches. For contiguous frame files, chunks of
 * 64 KiB or more are read lazily: only the chunk header, its block offsets (and dictionary)
 * and the streams of those blocks (plus block 0 under DELTA) come from disk. Returns the bytes
 * written or an error. */
TERSA_API int64_t tersa_schunk_getitem(tersa_schunk *schunk, int64_t nchunk, int64_t start,
                                       int64_t nitems, void *dst, size_t dstcap);

/* Decode bytes [start, start + n) of the concatenation of all chunks into dst. */
TERSA_API int64_t tersa_schunk_get_slice(tersa_schunk *schunk, int64_t start, int64_t n,
                                         void *dst, size_t dstcap);

/* ---- Metalayers ----------------------------------------------------------------------- */

/* Number of metalayers, and the name of metalayer i (owned by the schunk). */
TERSA_API int tersa_schunk_meta_count(const tersa_schunk *schunk);
TERSA_API const char *tersa_schunk_meta_name(const tersa_schunk *schunk, int i);
/* Find metalayer `name`: *content (owned by the schunk, valid until the next change or free)
 * and *len. Returns its index or TERSA_ERR_NOT_FOUND. */
TERSA_API int tersa_schunk_meta_get(const tersa_schunk *schunk, const char *name,
                                    const uint8_t **content, size_t *len);
/* Overwrite the first len bytes of metalayer `name` in place (len must not exceed its current
 * size; the size never changes). Writes the header through for file/sparse storage. */
TERSA_API int tersa_schunk_meta_update(tersa_schunk *schunk, const char *name,
                                       const void *content, size_t len);

/* Number of vlmetalayers, and the name of vlmetalayer i (owned by the schunk). */
TERSA_API int tersa_schunk_vlmeta_count(const tersa_schunk *schunk);
TERSA_API const char *tersa_schunk_vlmeta_name(const tersa_schunk *schunk, int i);
/* Decode vlmetalayer `name` into dst. Returns its decoded length (with dst NULL: only the
 * length), TERSA_ERR_NOT_FOUND, or TERSA_ERR_DST_TOO_SMALL. */
TERSA_API int64_t tersa_schunk_vlmeta_get(tersa_schunk *schunk, const char *name, void *dst,
                                          size_t dstcap);
/* Add or replace vlmetalayer `name` (compressed with cctx, or with default parameters when
 * cctx is NULL: typesize 8, blosclz, clevel 5, shuffle, as C-Blosc2 does). Adding more than
 * TERSA_MAX_METALAYERS gives TERSA_ERR_TOO_LARGE. Returns its index. */
TERSA_API int tersa_schunk_vlmeta_set(tersa_schunk *schunk, const char *name,
                                      const void *content, size_t len, tersa_cctx *cctx);
/* Delete vlmetalayer `name`. Returns 0 or TERSA_ERR_NOT_FOUND. */
TERSA_API int tersa_schunk_vlmeta_delete(tersa_schunk *schunk, const char *name);

/* ---- Creating frames ------------------------------------------------------------------ */

typedef struct tersa_metalayer {
    const char *name;    /* 1..31 bytes, unique */
    const void *content;
    size_t len;          /* < 2^31 */
} tersa_metalayer;

typedef struct tersa_schunk_params {
    size_t struct_size;           /* sizeof(tersa_schunk_params) */
    int storage;                  /* TERSA_STORAGE_* */
    const char *path;             /* file (FILE) or directory (SPARSE); ignored for MEMORY */
    int overwrite;                /* 1: replace an existing file/directory's frame files */
    const tersa_cctx *cparams;    /* compression parameters, copied (NULL = defaults) */
    int32_t typesize;             /* frame typesize; 0 = the cctx's TERSA_P_TYPESIZE. Larger
                                     than 255 is allowed (chunks then say typesize 1) */
    int nmetalayers;              /* 0..16 */
    const tersa_metalayer *metalayers;
} tersa_schunk_params;

/* Create an empty super-chunk. Returns NULL on error (detail set). For FILE storage the file is
 * created (TERSA_ERR_EXISTS if it exists and overwrite is 0); for SPARSE the directory is
 * created if needed (TERSA_ERR_EXISTS if it holds a chunks.b2frame and overwrite is 0). */
TERSA_API tersa_schunk *tersa_schunk_create(const tersa_schunk_params *params);

/* Compress n bytes (<= TERSA_MAX_BUFFERSIZE) as one chunk with the schunk's cctx and append
 * it. Returns the new number of chunks. */
TERSA_API int64_t tersa_schunk_append_buffer(tersa_schunk *schunk, const void *src, size_t n);

/* Append an already-compressed chunk (validated, copied). Special zero/NaN/uninit chunks are
 * stored as offset codes, as C-Blosc2 does. Returns the new number of chunks.
 * Chunk sizes follow C-Blosc2: the first chunk fixes chunksize; a later larger chunk, or any
 * chunk after a shorter one, makes the frame variable-size (chunksize 0, frame version 3). */
TERSA_API int64_t tersa_schunk_append_chunk(tersa_schunk *schunk, const void *chunk, size_t len);

/* Changing existing chunks. Memory frames serialise compact, in chunk order (tersa_schunk_cbytes
 * reports that size at any time); in between, replaced bytes are reclaimed once they outgrow
 * the used ones, so n updates cost O(n) copying; file frames append
 * new payloads at the end of the chunk area and leave replaced or deleted ones as unused bytes
 * (counted in cbytes; tersa_schunk_compact reclaims them); sparse frames write new chunk files
 * and replace the index by rename. Every change to a file or sparse frame is crash-safe
 * (doc/frames.md, and tersa_schunk_set_durable below). The
 * chunk-size rules of append apply (a chunk of another size not at the end makes the frame
 * variable-size). */
/* Insert a compressed chunk before position nchunk (0..nchunks). Returns the new count. */
TERSA_API int64_t tersa_schunk_insert_chunk(tersa_schunk *schunk, int64_t nchunk,
                                            const void *chunk, size_t len);
/* Replace chunk nchunk by a compressed chunk. Returns the number of chunks. */
TERSA_API int64_t tersa_schunk_update_chunk(tersa_schunk *schunk, int64_t nchunk,
                                            const void *chunk, size_t len);
/* Delete chunk nchunk. Returns the new number of chunks. */
TERSA_API int64_t tersa_schunk_delete_chunk(tersa_schunk *schunk, int64_t nchunk);

/* Length of the contiguous frame tersa_schunk_to_buffer writes. */
TERSA_API int64_t tersa_schunk_frame_len(tersa_schunk *schunk);

/* Serialise as a contiguous in-memory frame (any storage; sparse frames are gathered) into
 * dst; writes exactly tersa_schunk_frame_len() bytes and returns that count, or an error. */
TERSA_API int64_t tersa_schunk_to_buffer(tersa_schunk *schunk, void *dst, size_t dstcap);

/* Copy to a new super-chunk in another storage (params->storage, path, overwrite are used;
 * its cparams, typesize and metalayers are ignored: the source's header, metalayers and
 * vlmetalayers are kept). Chunks are copied without recompression, in order (a file frame's
 * unused bytes left by updates and deletes are dropped). The destination must differ from the
 * source's path. Returns the new schunk or NULL. */
TERSA_API tersa_schunk *tersa_schunk_copy(tersa_schunk *schunk,
                                          const tersa_schunk_params *params);


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

/* Batches. With autocommit off (autocommit 0), changes to a file or sparse frame are written
 * (chunk bytes at their final places, sparse chunk files) but not committed: the header on
 * disk keeps pointing at the last committed index, so other readers, and the file after a
 * crash, see the frame as the last commit left it; this schunk sees every change at once.
 * tersa_schunk_commit then writes the offsets index, trailer and header once for the whole
 * batch, with the same protocol as a single change. Many small appends thus cost O(n) bytes of
 * index writes instead of O(n^2), and the file ends up byte for byte as if each append had been
 * committed. tersa_schunk_frame_len, tersa_schunk_to_buffer and tersa_schunk_compact commit
 * first; tersa_schunk_free commits what is pending (call tersa_schunk_commit before it to
 * see an error). Turning autocommit back on commits. Memory frames ignore the setting.
 * Returns 0 or a negative error (TERSA_ERR_STATE after a failed change: nothing pending was
 * committed, reopen the frame). */
TERSA_API int tersa_schunk_set_autocommit(tersa_schunk *schunk, int autocommit);
TERSA_API int tersa_schunk_commit(tersa_schunk *schunk);

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


#ifdef __cplusplus
}
#endif
#endif

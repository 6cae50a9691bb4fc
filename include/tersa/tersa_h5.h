/* tersa HDF5 layer (libtersa_h5): Blosc2 datasets in HDF5 files (filter 32026), read and written
 * with direct chunk I/O on tersa's engine, and the filter itself for HDF5's pipeline.
 *
 * A Blosc2 dataset is a chunked dataset whose filter pipeline holds filter 32026 (optionally
 * followed by Fletcher32). Every stored HDF5 chunk is one Blosc2 frame holding one chunk: a b2nd
 * array of the chunk's shape for chunk rank 2..8 under filter revision 1, else a plain frame
 * holding the chunk bytes in C order (doc: FORMATS.md section 5). Files written here open in
 * h5py + hdf5plugin, PyTables and h5dump with the filter plugin, and the other way round.
 *
 * Reading: tersa_h5_read copies any hyperslab (start/count/step per axis) into a caller buffer.
 * For each chunk the selection meets it looks the chunk up by coordinates (cached per open
 * dataset), reads only the frame header, the chunk's block offsets and the block streams the
 * selection needs (pread on the file for the sec2 driver; H5Dread_chunk of the whole chunk for
 * other drivers and for datasets of more than 1024 stored chunks), and decodes only those
 * blocks, chunks in parallel on the dataset's thread pool. Datasets without the
 * Blosc2 filter, or with filters tersa does not apply itself, are read with H5Dread.
 * Elements are exchanged as raw bytes of the dataset's file datatype (no conversion), C order.
 *
 * Writing: tersa_h5_create makes a chunked dataset declaring filter 32026 with exactly the
 * cd_values the official filter's set_local stores; tersa_h5_write / tersa_h5_append compress
 * each chunk as a frame (chunks in parallel) and store it with H5Dwrite_chunk (filter mask 0).
 * Chunks a write covers partly are read, merged and rewritten.
 *
 * Chunk lookups (H5Dget_chunk_info_by_coord: address, size, filter mask) are cached per handle
 * for chunk grids up to 4 Mi chunks; the handle's own writes and extent changes update the
 * cache, but chunks rewritten through other handles or processes while it is open are not seen:
 * reopen the handle after such changes.
 *
 * Ownership: tersa_h5_open / _open_path / _create return a handle freed with tersa_h5_close
 * (close(NULL) is a no-op); the handle holds its own references to the HDF5 objects it uses.
 * Thread-safety: the HDF5 library (serial build) is not thread-safe: call the functions of this
 * header from one thread at a time per process, except tersa_h5_filter_class and
 * tersa_h5_cd_values, which touch no HDF5 state. tersa uses worker threads only for decoding
 * and compressing, never for HDF5 calls.
 * Errors: negative tersa codes (NULL for constructors); tersa_error_detail() names the file,
 * the dataset and, for chunk errors, the chunk coordinates.
 */
#ifndef TERSA_H5_H
#define TERSA_H5_H

#include <hdf5.h>

#include "tersa_chunk.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERSA_H5_FILTER_ID 32026     /* the registered HDF5 filter id of Blosc2 */
#define TERSA_H5_FILTER_REVISION 1   /* cd_values[0] written (PyTables, hdf5plugin) */
#define TERSA_H5_MAX_RANK 32         /* H5S_MAX_RANK */
#define TERSA_H5_B2ND_MAX_RANK 8     /* largest chunk rank stored as b2nd (revision 1) */
#define TERSA_H5_MAX_CD (8 + TERSA_H5_B2ND_MAX_RANK) /* cd_values the filter stores at most */

typedef struct tersa_h5dset tersa_h5dset;

/* ---- Opening ------------------------------------------------------------------------- */

enum {
    TERSA_H5_READONLY = 0, /* tersa_h5_open_path: open the file read-only */
    TERSA_H5_RDWR = 1,     /* tersa_h5_open_path: open the file for writing */
};

/* A handle on an open dataset (any chunked or non-chunked dataset with a fixed-size datatype;
 * variable-length types give TERSA_ERR_UNSUPPORTED). The dataset id stays the caller's; the
 * handle takes its own reference (H5Iinc_ref), so the caller may close its id at any time.
 * Reads the layout, datatype size, filter pipeline, cd_values and fill value once. Returns
 * NULL on error (detail set). */
TERSA_API tersa_h5dset *tersa_h5_open(hid_t dset);

/* Open dataset `path` of file `file` (flags TERSA_H5_READONLY or TERSA_H5_RDWR). */
TERSA_API tersa_h5dset *tersa_h5_open_path(const char *file, const char *path, unsigned flags);

/* Release the handle (and the file, for a handle from tersa_h5_open_path). */
TERSA_API void tersa_h5_close(tersa_h5dset *d);

/* The dataset id the handle uses (owned by the handle; valid until tersa_h5_close). */
TERSA_API hid_t tersa_h5_dataset_id(const tersa_h5dset *d);

/* How tersa reads the dataset. */
enum {
    TERSA_H5_PATH_DIRECT = 1,   /* Blosc2 chunks decoded by tersa (direct chunk I/O) */
    TERSA_H5_PATH_PIPELINE = 2, /* read through H5Dread (other filters or layouts) */
};

typedef struct tersa_h5_info {
    size_t struct_size;                    /* sizeof(tersa_h5_info), set by the caller */
    int rank;                              /* 0..32 */
    int64_t shape[TERSA_H5_MAX_RANK];      /* current extent */
    int64_t maxshape[TERSA_H5_MAX_RANK];   /* -1 = unlimited */
    int64_t chunkshape[TERSA_H5_MAX_RANK]; /* 0 when not chunked */
    int64_t itemsize;                      /* bytes per element (file datatype) */
    int64_t nchunks;                       /* chunks in the grid over the current extent */
    int path;                              /* TERSA_H5_PATH_* */
    int blosc2;                            /* 1: the pipeline holds filter 32026 */
    int filter_index;                      /* its position in the pipeline (mask bit) */
    int fletcher32;                        /* 1: Fletcher32 follows Blosc2 */
    int nfilters;                          /* filters in the pipeline */
    unsigned cd_values[TERSA_H5_MAX_CD];   /* the stored cd_values of filter 32026 */
    int ncd;
    int pread;                             /* 1: chunk bytes can be read with pread (sec2
                                              driver); used while the dataset holds at most
                                              1024 stored chunks, because HDF5 1.10 finds a
                                              chunk's address by scanning all chunks */
} tersa_h5_info;

/* Fill *info (info->struct_size must be set). Returns 0 or an error. */
TERSA_API int tersa_h5_get_info(const tersa_h5dset *d, tersa_h5_info *info);

/* Threads for decoding and compressing: an own pool of nthreads (1..256; default 1), or a
 * shared pool (not owned; must outlive the handle; NULL returns to an own pool). */
TERSA_API int tersa_h5_set_nthreads(tersa_h5dset *d, int nthreads);
TERSA_API int tersa_h5_set_pool(tersa_h5dset *d, tersa_pool *pool);

/* Counters since open or the last reset. */
typedef struct tersa_h5_stats {
    size_t struct_size;     /* sizeof(tersa_h5_stats), set by the caller */
    int64_t chunks_read;    /* stored chunks a read (or a partial write) decoded */
    int64_t chunks_fill;    /* chunks never written, answered with the fill value */
    int64_t chunks_raw;     /* chunks stored unfiltered (filter mask bit set) */
    int64_t blocks_decoded; /* Blosc2 blocks the engine decoded */
    int64_t blocks_total;   /* blocks in the chunks read (what whole-chunk decoding costs) */
    int64_t bytes_read;     /* stored chunk bytes read from the file */
    int64_t chunks_written; /* frames stored with H5Dwrite_chunk */
    int64_t bytes_written;  /* their bytes */
} tersa_h5_stats;

TERSA_API int tersa_h5_get_stats(const tersa_h5dset *d, tersa_h5_stats *stats);
TERSA_API void tersa_h5_reset_stats(tersa_h5dset *d);

/* ---- Reading ------------------------------------------------------------------------- */

/* A hyperslab selects, on every axis i, count[i] indices start[i], start[i] + step[i], ...
 * (all below shape[i]). start NULL = zeros, step NULL = ones, count NULL = as many as fit from
 * start with step (the whole extent when start and step are NULL too). Elements are exchanged
 * packed in C order over count[]. */

/* Bytes of a hyperslab (prod(count) * itemsize), or TERSA_ERR_RANGE / _PARAM naming the axis. */
TERSA_API int64_t tersa_h5_select_nbytes(const tersa_h5dset *d, const int64_t *start,
                                         const int64_t *count, const int64_t *step);

/* Read a hyperslab into dst. Chunks never written read as the fill value. Returns the bytes
 * written, TERSA_ERR_DST_TOO_SMALL when dstcap is below the hyperslab's size. A chunk that
 * fails to decode fails the call with a detail naming file, dataset and chunk; other chunks
 * remain readable by later calls. Datasets read through H5Dread whose pipeline holds 32026 get
 * tersa's filter registered (tersa_h5_register_filter) when HDF5 finds no plugin for it. */
TERSA_API int64_t tersa_h5_read(tersa_h5dset *d, const int64_t *start, const int64_t *count,
                                const int64_t *step, void *dst, size_t dstcap);

/* ---- Writing ------------------------------------------------------------------------- */

typedef struct tersa_h5_params {
    size_t struct_size;       /* sizeof(tersa_h5_params) */
    int rank;                 /* 1..32 (b2nd frames for 2..8) */
    const int64_t *shape;     /* current extent */
    const int64_t *maxshape;  /* NULL = shape (fixed); -1 entries = unlimited */
    const int64_t *chunkshape;/* required; each >= 1 */
    hid_t type;               /* file datatype, fixed size (numeric, compound, fixed string,
                                 array); copied */
    int clevel;               /* cd_values[4], 0..9 (default 5) */
    int filter;               /* cd_values[5]: 0 none, 1 shuffle (default), 2 bitshuffle, ... */
    int codec;                /* cd_values[6]: TERSA_CODEC_* (default blosclz) */
    int32_t blocksize;        /* cd_values[1]: block bytes, 0 = automatic (default) */
    int fletcher32;           /* 1: Fletcher32 after Blosc2 in the pipeline */
    hid_t lcpl;               /* link creation property list, or H5P_DEFAULT */
} tersa_h5_params;

/* Defaults: the values noted above, type H5T_NATIVE_UINT8, lcpl H5P_DEFAULT, no shapes. */
TERSA_API void tersa_h5_params_init(tersa_h5_params *p);

/* The cd_values the official set_local stores for these parameters (revision 1: 7 values, plus
 * rank and chunk dims when 2 <= rank <= 8). *ncd receives the count (<= TERSA_H5_MAX_CD).
 * Returns 0 or an error. */
TERSA_API int tersa_h5_cd_values(const tersa_h5_params *p, unsigned cd[TERSA_H5_MAX_CD],
                                 size_t *ncd);

/* Create dataset `name` under loc (a file or group id) and return a handle for it. The filter
 * is declared optional, as h5py and PyTables do. Returns NULL on error. */
TERSA_API tersa_h5dset *tersa_h5_create(hid_t loc, const char *name, const tersa_h5_params *p);

/* Write a hyperslab from src (srclen must equal its size) into a Blosc2 dataset, compressing
 * every chunk it touches with the dataset's cd_values. Returns the number of chunks written. */
TERSA_API int64_t tersa_h5_write(tersa_h5dset *d, const int64_t *start, const int64_t *count,
                                 const int64_t *step, const void *src, size_t srclen);

/* Grow axis 0 by srclen / (itemsize * prod(shape[1..])) rows (must divide exactly; within
 * maxshape) and write them. Returns the new extent of axis 0. */
TERSA_API int64_t tersa_h5_append(tersa_h5dset *d, const void *src, size_t srclen);

/* Change the extent (H5Dset_extent; within maxshape). Returns 0 or an error. */
TERSA_API int tersa_h5_set_extent(tersa_h5dset *d, const int64_t *shape);

/* ---- The filter ---------------------------------------------------------------------- */

/* The H5Z_class2_t of filter 32026 on tersa's engine (static storage): set_local as the
 * official filter (revision 1), compression to a b2nd or plain frame, decompression of both.
 * This is what the plugin in plugin/ hands to HDF5. */
TERSA_API const void *tersa_h5_filter_class(void);

/* Register that class with the HDF5 library of this process (H5Zregister), so that H5Dread and
 * H5Dwrite use it without HDF5_PLUGIN_PATH. Returns 0 or TERSA_ERR_STATE. */
TERSA_API int tersa_h5_register_filter(void);

#ifdef __cplusplus
}
#endif
#endif

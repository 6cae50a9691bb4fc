/* Frame layer internals: the super-chunk object, header/trailer byte offsets, and the
 * functions shared by the frame source files. Not installed. */
#ifndef TERSA_FRAME_INTERNAL_H
#define TERSA_FRAME_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/tersa_internal.h"
#include "frame/tersa_msgpack.h"
#include "tersa/tersa_frame.h"

/* Fixed byte offsets in the frame header (FORMATS.md §3.1). */
enum {
    TF_MAGIC = 0x02,
    TF_HEADER_LEN = 0x0B,
    TF_FRAME_LEN = 0x10,
    TF_FLAGS_STR = 0x18,
    TF_GENERAL_FLAGS = 0x19,
    TF_FRAME_TYPE = 0x1A,
    TF_CODEC_FLAGS = 0x1B,
    TF_OTHER_FLAGS = 0x1C,
    TF_NBYTES = 0x1E,
    TF_CBYTES = 0x27,
    TF_TYPESIZE = 0x30,
    TF_BLOCKSIZE = 0x35,
    TF_CHUNKSIZE = 0x3A,
    TF_NTHREADS_C = 0x3F,
    TF_NTHREADS_D = 0x42,
    TF_HAS_VLMETA = 0x44,
    TF_FILTERS_EXT = 0x45,
    TF_NFILTERS = 0x46,
    TF_FILTERS = 0x47,
    TF_UDCODEC = 0x4D,
    TF_CODEC_META = 0x4E,
    TF_FILTERS_META = 0x4F,
    TF_OTHER_FLAGS2 = 0x55,
    TF_HEADER_MIN = 0x57, /* 87: also where the metalayer section starts */
};

#define TF_TRAILER_MIN 25       /* C-Blosc2's minimum trailer_len */
#define TF_TRAILER_TAIL 23      /* CE len32 D8 type 16 bytes: the trailer's fixed end */
#define TF_MAX_VLMETA_READ 8192 /* C-Blosc2 reads up to this many vlmetalayers */
#define TF_GF_VARIABLE 0x40     /* general_flags bit 6: variable chunk sizes */
#define TF_GF_VLBLOCKS 0x80     /* general_flags bit 7: VL-block chunks */
#define TF_CHUNK_HDR 32         /* extended chunk header */
#define TF_OFFSETS_BLOCKSIZE 16384

/* Test hook for the write side (tersa__schunk_set_io_hook): called before every write-side
 * system call on a schunk's files with the operation, the file position and the length.
 * Returns 0 to go on, < 0 to fail the call without doing it, > 0 (TF_IO_WRITE only) to write
 * only that many bytes and then fail. Tests use it to stop a change between two writes. */
enum { TF_IO_WRITE = 1, TF_IO_SYNC, TF_IO_TRUNCATE, TF_IO_RENAME, TF_IO_UNLINK, TF_IO_CREATE };
typedef int64_t (*tersa__io_hook_fn)(void *ctx, int op, int64_t pos, int64_t len);

/* One (vl)metalayer. For header metalayers, pos is the absolute offset of its bin32 marker in
 * the header image (content at pos + 5), so updates patch the header in place. */
typedef struct tersa__meta {
    char name[TERSA_METALAYER_NAME_MAX + 1];
    uint8_t *content; /* owned; vlmetalayers hold the compressed chunk */
    int32_t len;
    int32_t pos;
} tersa__meta;

struct tersa_schunk {
    int storage;        /* TERSA_STORAGE_* */
    bool writable;
    bool dirty;         /* changed since opened: general_flags are recomputed on write */
    char *path;         /* file, or sparse directory */
    int fd;             /* file: the frame file; sparse: chunks.b2frame; -1 for memory */
    int64_t foffset;    /* where the frame starts in the file */

    uint8_t *hdr;       /* header image (header_len bytes), fields kept in sync */
    int32_t header_len;
    int64_t frame_len;  /* as stored (file/sparse) or as last serialised */
    int64_t nbytes, cbytes;
    int32_t typesize, blocksize, chunksize;
    uint32_t trailer_len;

    int nmeta;
    tersa__meta meta[TERSA_MAX_METALAYERS];
    int nvlmeta, vlcap;
    tersa__meta *vlmeta;

    int64_t nchunks, offcap;
    int64_t next_id;    /* sparse: the next chunk file number */
    int64_t *offsets;   /* decoded offsets index */
    tersa__buf offchunk;/* compressed offsets index, valid when offchunk_ok */
    bool offchunk_ok;

    uint8_t *data;      /* memory storage: the chunk area (cbytes bytes), owned */
    size_t datacap;
    const uint8_t *view;/* memory storage: the chunk area being read (data or borrowed) */
    int64_t mem_dead;   /* memory storage: bytes of the area no entry uses (in cbytes) */
    bool mem_loose;     /* memory storage: area not compact in chunk order since a change */

    tersa_cctx *cctx, *offcctx;
    tersa_dctx *dctx;
    uint8_t *scratch;   /* chunk read buffer for file/sparse storage */
    size_t scratchcap;
    uint8_t special[64];/* a rebuilt special chunk */
    int64_t io_read;    /* bytes of chunk data read from files (for tests of lazy reads) */
    uint8_t *cbuf;      /* append_buffer: compressed-chunk scratch */
    size_t cbufcap;
    uint8_t *lazybuf;   /* lazy getitem: a chunk-sized buffer, all zeros between reads */
    size_t lazycap;

    /* The crash-safe change protocol (tersa_frame_tx.c, doc/frames.md). */
    bool durable;       /* fdatasync around every commit */
    bool fresh;         /* being built by a constructor: written in place, no protocol */
    bool broken;        /* a change failed midway: further changes are refused */
    bool batch;         /* autocommit off: changes wait for tersa_schunk_commit */
    bool pending;       /* batch: changes written but not committed */
    bool idx_dirty;     /* offsets, sizes or trailer changed since the last commit */
    bool hdr_dirty;     /* header metalayer bytes changed since the last commit */
    bool tx_relocated;  /* file: the committed index has been copied to tx_q */
    int tx_oldfd;       /* file, empty committed frame: the live file while a temp is built */
    int64_t tx_q;       /* file: where the copy of the committed index lies */
    int64_t tx_end;     /* file: end of everything written since the last commit */
    int64_t tx_hint;    /* file: room to leave for this change when relocating the index */
    tersa__buf live;    /* file: the committed offsets chunk and trailer, as on disk */
    uint8_t live_fixed[TF_HEADER_MIN]; /* file: the committed fixed header */
    int64_t live_flen, live_cb;        /* file: committed frame_len and cbytes */
    int64_t *unlink_ids;/* sparse: chunk files to remove once the change is committed */
    int nunlink, unlinkcap;
    tersa__io_hook_fn hook; /* tests: called before every write-side system call */
    void *hook_ctx;
};

/* ---- tersa_frame_io.c: POSIX file access ---------------------------------------------- */
int tersa__io_pread(int fd, int64_t pos, void *dst, size_t n, const char *what);
int tersa__io_pwrite(int fd, int64_t pos, const void *src, size_t n, const char *what);
int tersa__io_file_size(int fd, int64_t *size);
int tersa__io_truncate(int fd, int64_t size);
/* Path of "dir/name" (malloc'd) and of chunk file number id ("dir/%08X.chunk"). */
char *tersa__io_join(const char *dir, const char *name);
char *tersa__io_chunk_path(const char *dir, int64_t id);
/* Read a whole sparse chunk file into *buf (grown as needed); *len receives its size. */
int tersa__io_read_chunk_file(const char *path, uint8_t **buf, size_t *cap, size_t *len);
int tersa__io_write_file(const char *path, const void *src, size_t n, bool sync);
/* fdatasync a file; fsync the folder holding path. */
int tersa__io_sync(int fd, const char *what);
int tersa__io_sync_dir(const char *path);
int tersa__io_is_dir(const char *path);

/* ---- tersa_frame_tx.c: the crash-safe change protocol (doc/frames.md) ---------------- */
/* Install a test hook (NULL removes it). */
void tersa__schunk_set_io_hook(tersa_schunk *s, tersa__io_hook_fn fn, void *ctx);
/* The current change may write about this many bytes after the chunk area (new chunks, the
 * offsets index, the trailer): room left when the committed index is moved. */
void tersa__tx_hint(tersa_schunk *s, int64_t bytes);
/* File storage: write n chunk bytes at chunk-area offset off (moving the committed index out
 * of the way first, or starting a temporary file when the committed frame is empty). */
int tersa__tx_write_chunk(tersa_schunk *s, int64_t off, const void *p, size_t n);
/* Write a whole new file (a sparse chunk file), through the hook, synced when durable. */
int tersa__tx_write_file(tersa_schunk *s, const char *path, const void *p, size_t n);
/* rename, and fsync of path's folder when durable, through the hook. */
int tersa__tx_rename(tersa_schunk *s, const char *from, const char *to);
/* Sparse storage: remove chunk file id after the next commit. */
int tersa__tx_defer_unlink(tersa_schunk *s, int64_t id);
/* Record the committed state of a file frame just opened for writing. */
int tersa__tx_capture_live(tersa_schunk *s);
/* A change failed after it began: refuse further changes (the files keep the last commit),
 * drop a temporary file. Returns rc. */
int tersa__tx_fail(tersa_schunk *s, int rc);
/* At free: drop an uncommitted temporary file and the protocol's buffers. */
void tersa__tx_release(tersa_schunk *s);

/* ---- tersa_frame_header.c: header and trailer parse/emit ------------------------------ */
/* Validate the fixed 87-byte part of a header image (frame_type must equal want_type). */
int tersa__frame_check_fixed(const uint8_t *h, size_t n, int want_type);
/* Parse fixed fields and metalayers of a complete header image into s (takes no ownership). */
int tersa__frame_parse_header(tersa_schunk *s, const uint8_t *h, int32_t header_len);
/* Parse a trailer (len bytes at frame offset T) into s->vlmeta. */
int tersa__frame_parse_trailer(tersa_schunk *s, const uint8_t *t, uint32_t len);
/* Check the fixed 23-byte end of a trailer; *trailer_len receives the trailer length. */
int tersa__frame_parse_tail(const uint8_t tail[TF_TRAILER_TAIL], int64_t frame_len,
                            int32_t header_len, uint32_t *trailer_len);
/* Build a new header image for s (from its cctx, metalayers, typesize) into s->hdr. */
int tersa__frame_build_header(tersa_schunk *s, int frame_type);
/* general_flags as C-Blosc2 computes them from the current state (version, variable, VL). */
uint8_t tersa__frame_general_flags(const tersa_schunk *s);
/* Refresh the mutable fields of s->hdr from s (lengths, sizes, flags). */
void tersa__frame_sync_header(tersa_schunk *s);
/* Serialise the trailer of s into b. */
int tersa__frame_build_trailer(tersa_schunk *s, tersa__buf *b);
void tersa__meta_clear(tersa__meta *m);

/* ---- tersa_schunk.c: shared helpers --------------------------------------------------- */
tersa_schunk *tersa__schunk_alloc(void);
/* nchunks from nbytes/chunksize (or from the offsets chunk nbytes when variable). */
int tersa__schunk_count_chunks(tersa_schunk *s, int32_t off_nbytes);
/* Decode an offsets chunk of off_cbytes bytes into s->offsets (s->nchunks entries). */
int tersa__schunk_load_offsets(tersa_schunk *s, const uint8_t *chunk, size_t len);
/* Point *p at chunk i's compressed bytes (memory, scratch, or a rebuilt special chunk). */
int tersa__schunk_chunk_ref(tersa_schunk *s, int64_t i, const uint8_t **p, int32_t *cbytes);
/* nbytes of chunk i (special codes: chunksize or the short last size). */
int tersa__schunk_special_nbytes(const tersa_schunk *s, int64_t i, int32_t *nbytes);
int tersa__schunk_make_contexts(tersa_schunk *s, const tersa_cctx *tmpl);
int tersa__schunk_reserve_offsets(tersa_schunk *s, int64_t n);

/* ---- tersa_frame_open.c --------------------------------------------------------------- */
int tersa__frame_read_index(tersa_schunk *s, const uint8_t *frame, int64_t len);

/* ---- tersa_schunk_write.c ------------------------------------------------------------- */
/* Bytes a change adding payload chunk bytes and nnew offsets entries may write after the
 * chunk area (chunks, offsets index, trailer): a tx hint. */
int64_t tersa__schunk_change_room(const tersa_schunk *s, int64_t payload, int64_t nnew);
/* Compress the offsets index into s->offchunk (if not valid) and compute s->frame_len. */
int tersa__schunk_prepare_offsets(tersa_schunk *s);
/* Commit the current change of a file/sparse frame (tersa_frame_tx.c): afterwards the files
 * hold it, and a crash at any moment before leaves the previous commit. No-op for memory. */
/* End of a change: commit it, or with autocommit off mark it pending. */
int tersa__schunk_flush(tersa_schunk *s);
/* Memory storage: rewrite the chunk area compact and in chunk order if a change left it
 * otherwise (before serialising). */
int tersa__schunk_settle_memory(tersa_schunk *s);
/* Commit whatever is pending now (also with autocommit off). */
int tersa__schunk_commit(tersa_schunk *s);
/* Make the schunk's memory chunk area owned and writable (copies a borrowed view). */
int tersa__schunk_own_data(tersa_schunk *s, size_t extra);
/* Validate a chunk given to append/insert/update; *info receives its header. */
int tersa__schunk_check_chunk(tersa_schunk *s, const void *chunk, size_t len,
                              tersa_chunk_info *info);
/* Store a chunk's payload (not special codes) and return its offsets entry. */
int tersa__schunk_store_payload(tersa_schunk *s, const uint8_t *chunk, int32_t cbytes,
                                int64_t *entry);
/* The offsets entry coding a special chunk (TERSA_SPECIAL_*), or 0 when it must be stored. */
int64_t tersa__schunk_special_code(const tersa_schunk *s, int special);
/* Store every special offset code as a real chunk (before a frame turns variable-size). */
int tersa__schunk_materialise_specials(tersa_schunk *s);
int tersa__schunk_check_writable(const tersa_schunk *s);
/* Append a compressed chunk; flush = false leaves file/sparse index writes to a later flush. */
int64_t tersa__schunk_append(tersa_schunk *s, const void *chunk, size_t len, bool flush);
int tersa__schunk_check_params(const tersa_schunk_params *p);
/* Create the file or sparse directory of a new schunk (nothing for memory). */
int tersa__schunk_create_storage(tersa_schunk *s, const tersa_schunk_params *p);
/* Switch to variable chunk sizes (materialising special codes first). */
int tersa__schunk_make_variable(tersa_schunk *s);

#endif

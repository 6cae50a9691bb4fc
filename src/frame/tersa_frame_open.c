/* Opening frames: contiguous frames in memory or in a file, sparse frame directories. Reads and
 * validates the header, the trailer and the offsets index (FORMATS.md §3.2, §3.6). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"

/* Where the frame bytes come from while opening: a memory buffer or s->fd. */
typedef struct frame_src {
    const uint8_t *mem;
    int64_t avail; /* bytes available from the frame start */
} frame_src;

static int src_read(tersa_schunk *s, const frame_src *src, int64_t pos, size_t n, uint8_t *dst,
                    const char *what)
{
    if (pos < 0 || (uint64_t)pos + n > (uint64_t)src->avail)
        return tersa__fail(TERSA_ERR_TRUNCATED, "frame: %s (%zu bytes at %" PRId64
                           ") lies past the end of the data (%" PRId64 " bytes)", what, n, pos,
                           src->avail);
    if (src->mem) {
        memcpy(dst, src->mem + pos, n);
        return 0;
    }
    return tersa__io_pread(s->fd, s->foffset + pos, dst, n, what);
}

/* Read n bytes at pos into a new buffer. */
static int src_alloc_read(tersa_schunk *s, const frame_src *src, int64_t pos, size_t n,
                          uint8_t **out, const char *what)
{
    uint8_t *p = tersa__malloc(n ? n : 1);
    if (!p) return tersa__fail(TERSA_ERR_NOMEM, "frame: no memory for the %s (%zu bytes)", what, n);
    int rc = src_read(s, src, pos, n, p, what);
    if (rc < 0) {
        tersa__free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static int read_header(tersa_schunk *s, const frame_src *src, int want_type, bool exact)
{
    uint8_t fixed[TF_HEADER_MIN];
    if (src->avail < TF_HEADER_MIN)
        return tersa__fail(TERSA_ERR_TRUNCATED, "frame: %" PRId64 " bytes, a frame header needs 87",
                           src->avail);
    TERSA_TRY(src_read(s, src, 0, TF_HEADER_MIN, fixed, "frame header"));
    TERSA_TRY(tersa__frame_check_fixed(fixed, TF_HEADER_MIN, want_type));
    int32_t header_len = (int32_t)tersa__ld32be(fixed + TF_HEADER_LEN);
    uint64_t frame_len = tersa__ld64be(fixed + TF_FRAME_LEN);
    if (exact && frame_len != (uint64_t)src->avail)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header byte 0x10: frame_len %" PRIu64
                           " differs from the buffer length %" PRId64, frame_len, src->avail);
    if (frame_len > (uint64_t)src->avail)
        return tersa__fail(TERSA_ERR_TRUNCATED, "frame header byte 0x10: frame_len %" PRIu64
                           " exceeds the %" PRId64 " bytes available", frame_len, src->avail);
    if ((uint64_t)header_len > frame_len)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header byte 0x0B: header_len %" PRId32
                           " exceeds frame_len %" PRIu64, header_len, frame_len);
    TERSA_TRY(src_alloc_read(s, src, 0, (size_t)header_len, &s->hdr, "frame header"));
    return tersa__frame_parse_header(s, s->hdr, header_len);
}

static int read_trailer(tersa_schunk *s, const frame_src *src)
{
    uint8_t tail[TF_TRAILER_TAIL];
    uint8_t *t = NULL;
    if (s->frame_len - s->header_len < TF_TRAILER_MIN)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame: frame_len %" PRId64 " leaves %" PRId64
                           " bytes after the header, a trailer needs 25", s->frame_len,
                           s->frame_len - s->header_len);
    TERSA_TRY(src_read(s, src, s->frame_len - TF_TRAILER_TAIL, TF_TRAILER_TAIL, tail,
                       "frame trailer"));
    TERSA_TRY(tersa__frame_parse_tail(tail, s->frame_len, s->header_len, &s->trailer_len));
    TERSA_TRY(src_alloc_read(s, src, s->frame_len - s->trailer_len, s->trailer_len, &t,
                             "frame trailer"));
    int rc = tersa__frame_parse_trailer(s, t, s->trailer_len);
    tersa__free(t);
    return rc;
}

int tersa__schunk_count_chunks(tersa_schunk *s, int32_t off_nbytes)
{
    int64_t n;
    if (s->chunksize > 0) {
        n = s->nbytes / s->chunksize + (s->nbytes % s->chunksize != 0);
    } else {
        if (off_nbytes % 8 != 0)
            return tersa__fail(TERSA_ERR_CORRUPT, "frame offsets chunk: nbytes %" PRId32
                               " is not a multiple of 8", off_nbytes);
        n = off_nbytes / 8;
    }
    if (n > TERSA_MAX_BUFFERSIZE / 8)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header: %" PRId64 " chunks do not fit one "
                           "offsets chunk", n);
    if ((int64_t)off_nbytes != n * 8)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame offsets chunk: nbytes %" PRId32
                           " does not hold the %" PRId64 " entries the header implies (nbytes %"
                           PRId64 ", chunksize %" PRId32 ")", off_nbytes, n, s->nbytes,
                           s->chunksize);
    s->nchunks = n;
    return 0;
}

/* Check every offsets entry against the chunk area (or the sparse file-number range). */
static int check_offsets(const tersa_schunk *s)
{
    for (int64_t i = 0; i < s->nchunks; i++) {
        int64_t e = s->offsets[i];
        if (e < 0) {
            uint64_t u = (uint64_t)e;
            int code = (int)((u >> 56) & 0x7f);
            if ((u & 0x00ffffffffffffffULL) || (code != 1 && code != 2 && code != 4))
                return tersa__fail(TERSA_ERR_CORRUPT, "frame offsets entry %" PRId64 ": %016"
                                   PRIX64 " is not a special code (0x80 | 1, 2 or 4 in byte 7)",
                                   i, u);
        } else if (s->storage == TERSA_STORAGE_SPARSE ? e > (int64_t)UINT32_MAX
                                                      : e > s->cbytes - TF_CHUNK_HDR) {
            return tersa__fail(TERSA_ERR_CORRUPT, "frame offsets entry %" PRId64 ": %" PRId64
                               " is out of range (cbytes %" PRId64 ")", i, e, s->cbytes);
        }
    }
    return 0;
}

int tersa__schunk_load_offsets(tersa_schunk *s, const uint8_t *chunk, size_t len)
{
    TERSA_TRY(tersa__schunk_reserve_offsets(s, s->nchunks));
    int64_t want = s->nchunks * 8;
    int64_t n = tersa_decompress(s->dctx, chunk, len, s->offsets, (size_t)want);
    if (n < 0) return tersa__fail_prefix((int)n, "frame offsets chunk");
    if (n != want)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame offsets chunk: decoded %" PRId64
                           " bytes, expected %" PRId64, n, want);
    for (int64_t i = 0; i < s->nchunks; i++) { /* stored little-endian */
        s->offsets[i] = (int64_t)tersa__ld64((const uint8_t *)&s->offsets[i]);
        if (s->offsets[i] >= s->next_id) s->next_id = s->offsets[i] + 1;
    }
    return check_offsets(s);
}

/* Locate, read and decode the offsets index that lies between the chunks and the trailer. */
static int read_offsets(tersa_schunk *s, const frame_src *src)
{
    tersa_chunk_info info;
    uint8_t head[TF_CHUNK_HDR], *chunk = NULL;
    int64_t tpos = s->frame_len - s->trailer_len;
    int64_t opos = s->header_len;
    if (s->storage != TERSA_STORAGE_SPARSE && !tersa__add_i64(opos, s->cbytes, &opos))
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header: cbytes %" PRId64 " overflows", s->cbytes);
    if (s->nbytes == 0) {
        s->nchunks = 0;
        s->offchunk_ok = true;
        return opos <= tpos ? 0 : tersa__fail(TERSA_ERR_CORRUPT, "frame: header_len + cbytes (%"
                                              PRId64 ") runs into the trailer at %" PRId64, opos, tpos);
    }
    if (opos > tpos - TF_CHUNK_HDR)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame: the offsets chunk at header_len + cbytes = %"
                           PRId64 " does not fit before the trailer at %" PRId64, opos, tpos);
    TERSA_TRY(src_read(s, src, opos, TF_CHUNK_HDR, head, "offsets chunk header"));
    info.struct_size = sizeof info;
    int rc = tersa_chunk_inspect(head, TF_CHUNK_HDR, &info);
    if (rc < 0) return tersa__fail_prefix(rc, "frame offsets chunk at %" PRId64, opos);
    if (info.cbytes < TF_CHUNK_HDR || info.cbytes > tpos - opos)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame offsets chunk at %" PRId64 ": cbytes %" PRId32
                           " runs past the trailer at %" PRId64, opos, info.cbytes, tpos);
    TERSA_TRY(tersa__schunk_count_chunks(s, info.nbytes));
    TERSA_TRY(src_alloc_read(s, src, opos, (size_t)info.cbytes, &chunk, "offsets chunk"));
    rc = tersa__schunk_load_offsets(s, chunk, (size_t)info.cbytes);
    if (rc == 0) { /* kept, so that an unchanged frame serialises to the same bytes */
        tersa__buf_put(&s->offchunk, chunk, (size_t)info.cbytes);
        rc = tersa__buf_status(&s->offchunk);
        s->offchunk_ok = rc == 0;
    }
    tersa__free(chunk);
    return rc;
}

/* Everything but the chunk data: header, trailer, offsets. */
static int read_index(tersa_schunk *s, const frame_src *src, int want_type, bool exact)
{
    TERSA_TRY(read_header(s, src, want_type, exact));
    TERSA_TRY(tersa_dctx_set(s->dctx, TERSA_P_FRAME_TYPESIZE, s->typesize));
    TERSA_TRY(read_trailer(s, src));
    return read_offsets(s, src);
}

/* The compression context of an opened frame: its header's defaults. */
static int contexts_from_header(tersa_schunk *s)
{
    const uint8_t *h = s->hdr;
    TERSA_TRY(tersa__schunk_make_contexts(s, NULL));
    tersa_cctx_set(s->cctx, TERSA_P_TYPESIZE, s->typesize > 255 ? 1 : s->typesize);
    tersa_cctx_set(s->cctx, TERSA_P_CLEVEL, h[TF_CODEC_FLAGS] >> 4);
    tersa_cctx_set(s->cctx, TERSA_P_CODEC, tersa_schunk_codec(s));
    tersa_cctx_set(s->cctx, TERSA_P_CODEC_META, h[TF_CODEC_META]);
    tersa_cctx_set(s->cctx, TERSA_P_BLOCKSIZE, s->blocksize);
    tersa_cctx_set(s->cctx, TERSA_P_SPLITMODE, (h[TF_OTHER_FLAGS] & 3) + 1);
    tersa_cctx_set(s->cctx, TERSA_P_USE_DICT, h[TF_OTHER_FLAGS2] & 1);
    tersa_cctx_set(s->cctx, TERSA_P_FRAME_TYPESIZE, s->typesize);
    for (int i = 0; i < TERSA_MAX_FILTERS; i++) {
        int on = i < h[TF_NFILTERS];
        tersa_cctx_set(s->cctx, (tersa_param)(TERSA_P_FILTER0 + i), on ? h[TF_FILTERS + i] : 0);
        tersa_cctx_set(s->cctx, (tersa_param)(TERSA_P_FILTER_META0 + i),
                       on ? h[TF_FILTERS_META + i] : 0);
    }
    tersa__clear_error(); /* unknown codecs/filters just keep the defaults */
    return 0;
}

static int open_memory(tersa_schunk *s, const void *buf, size_t len, unsigned flags)
{
    frame_src src = {buf, (int64_t)len};
    if (!buf || len > (size_t)INT64_MAX)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_open_buffer: NULL buffer or bad length");
    s->storage = TERSA_STORAGE_MEMORY;
    s->writable = true;
    TERSA_TRY(read_index(s, &src, 0, true));
    TERSA_TRY(contexts_from_header(s));
    s->view = (const uint8_t *)buf + s->header_len;
    if (flags & TERSA_OPEN_BORROW) return 0;
    return tersa__schunk_own_data(s, 0);
}

tersa_schunk *tersa_schunk_open_buffer(const void *buf, size_t len, unsigned flags)
{
    tersa_schunk *s = tersa__schunk_alloc();
    if (!s) return NULL;
    int rc = open_memory(s, buf, len, flags);
    if (rc < 0) {
        tersa_schunk_free(s);
        return NULL;
    }
    return s;
}

static int open_fd(tersa_schunk *s, const char *path, bool write)
{
    s->fd = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (s->fd < 0)
        return tersa__fail(errno == ENOENT ? TERSA_ERR_NOT_FOUND : TERSA_ERR_IO,
                           "frame: cannot open %s: %s", path, strerror(errno));
    return 0;
}

static int open_path(tersa_schunk *s, const char *path, int64_t offset, unsigned flags)
{
    int64_t size = 0;
    bool write = (flags & TERSA_OPEN_WRITE) != 0;
    int isdir = tersa__io_is_dir(path);
    TERSA_TRY(isdir);
    s->storage = isdir ? TERSA_STORAGE_SPARSE : TERSA_STORAGE_FILE;
    if (offset < 0 || (offset > 0 && (isdir || write)))
        return tersa__fail(TERSA_ERR_PARAM, "schunk_open_file: offset %" PRId64 " not allowed here",
                           offset);
    s->path = tersa__malloc(strlen(path) + 1);
    if (!s->path) return tersa__fail(TERSA_ERR_NOMEM, "frame: no memory");
    strcpy(s->path, path);
    char *index = isdir ? tersa__io_join(path, "chunks.b2frame") : NULL;
    if (isdir && !index) return TERSA_ERR_NOMEM;
    int rc = open_fd(s, isdir ? index : path, write);
    tersa__free(index);
    TERSA_TRY(rc);
    TERSA_TRY(tersa__io_file_size(s->fd, &size));
    s->foffset = offset;
    s->writable = write;
    frame_src src = {NULL, size > offset ? size - offset : 0};
    TERSA_TRY(read_index(s, &src, isdir ? 1 : 0, false));
    if (write) TERSA_TRY(tersa__tx_capture_live(s));
    return contexts_from_header(s);
}

tersa_schunk *tersa_schunk_open_file(const char *path, int64_t offset, unsigned flags)
{
    if (!path) {
        tersa__fail(TERSA_ERR_PARAM, "schunk_open_file: NULL path");
        return NULL;
    }
    tersa_schunk *s = tersa__schunk_alloc();
    if (!s) return NULL;
    int rc = open_path(s, path, offset, flags);
    if (rc < 0) {
        tersa_schunk_free(s);
        return NULL;
    }
    return s;
}

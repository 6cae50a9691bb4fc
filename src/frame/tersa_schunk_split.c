/* Copying, splitting and merging super-chunks by chunk, without recompressing, and reclaiming
 * the space updates and deletes leave in file frames. */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"

static int copy_meta_array(tersa__meta *dst, const tersa__meta *src, int n)
{
    for (int i = 0; i < n; i++) {
        dst[i] = src[i];
        dst[i].content = tersa__malloc(src[i].len ? (size_t)src[i].len : 1);
        if (!dst[i].content) return tersa__fail(TERSA_ERR_NOMEM, "schunk_copy: no memory");
        memcpy(dst[i].content, src[i].content, (size_t)src[i].len);
    }
    return 0;
}

/* Everything but the chunks: header image, metalayers, vlmetalayers, contexts. */
static int copy_shell(tersa_schunk *d, const tersa_schunk *s, const tersa_schunk_params *p)
{
    d->storage = p->storage;
    d->writable = true;
    d->dirty = true;
    TERSA_TRY(tersa__schunk_make_contexts(d, s->cctx));
    TERSA_TRY(tersa_dctx_set(d->dctx, TERSA_P_FRAME_TYPESIZE, s->typesize));
    d->typesize = s->typesize;
    d->blocksize = s->blocksize;
    d->chunksize = s->chunksize == 0 ? 0 : -1;
    d->hdr = tersa__malloc((size_t)s->header_len);
    if (!d->hdr) return tersa__fail(TERSA_ERR_NOMEM, "schunk_copy: no memory");
    memcpy(d->hdr, s->hdr, (size_t)s->header_len);
    d->header_len = s->header_len;
    d->hdr[TF_FRAME_TYPE] = p->storage == TERSA_STORAGE_SPARSE ? 1 : 0;
    d->hdr[TF_GENERAL_FLAGS] &= (uint8_t)~TF_GF_VLBLOCKS;
    TERSA_TRY(copy_meta_array(d->meta, s->meta, s->nmeta));
    d->nmeta = s->nmeta;
    if (s->nvlmeta) {
        d->vlmeta = tersa__calloc((size_t)s->nvlmeta, sizeof *d->vlmeta);
        if (!d->vlmeta) return tersa__fail(TERSA_ERR_NOMEM, "schunk_copy: no memory");
        d->vlcap = s->nvlmeta;
        TERSA_TRY(copy_meta_array(d->vlmeta, s->vlmeta, s->nvlmeta));
        d->nvlmeta = s->nvlmeta;
    }
    return tersa__schunk_create_storage(d, p);
}

/* Append chunks [first, end) of s to d without committing. s may be d: each chunk is copied
 * out first, since s's scratch buffer (or memory area) changes under the append. */
static int copy_chunks(tersa_schunk *d, tersa_schunk *s, int64_t first, int64_t end)
{
    uint8_t *tmp = NULL;
    size_t cap = 0;
    int rc = 0;
    for (int64_t i = first; i < end && rc >= 0; i++) {
        const uint8_t *c = NULL;
        int32_t cb = 0;
        rc = tersa__schunk_chunk_ref(s, i, &c, &cb);
        if (rc >= 0 && (size_t)cb > cap) {
            uint8_t *q = tersa__realloc(tmp, (size_t)cb);
            rc = q ? 0 : tersa__fail(TERSA_ERR_NOMEM, "schunk: no memory for a chunk copy");
            if (q) tmp = q, cap = (size_t)cb;
        }
        if (rc >= 0) memcpy(tmp, c, (size_t)cb);
        if (rc >= 0) rc = (int)tersa__schunk_append(d, tmp, (size_t)cb, false);
        if (rc < 0) rc = tersa__fail_prefix(rc, "chunk %" PRId64, i);
    }
    tersa__free(tmp);
    return rc < 0 ? rc : 0;
}

static int copy_into(tersa_schunk *d, tersa_schunk *s, const tersa_schunk_params *p,
                     int64_t first, int64_t end)
{
    TERSA_TRY(tersa__schunk_check_params(p));
    if (p->storage != TERSA_STORAGE_MEMORY && s->path && strcmp(p->path, s->path) == 0)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_copy: destination %s is the source", p->path);
    TERSA_TRY(copy_shell(d, s, p));
    TERSA_TRY(tersa__schunk_flush(d));
    TERSA_TRY(copy_chunks(d, s, first, end));
    return tersa__schunk_flush(d);
}

static tersa_schunk *copy_range(tersa_schunk *s, int64_t first, int64_t end,
                                const tersa_schunk_params *params)
{
    tersa_schunk *d = tersa__schunk_alloc();
    if (!d) return NULL;
    d->fresh = true; /* a new frame: written in place, nothing to protect yet */
    if (copy_into(d, s, params, first, end) < 0) {
        tersa_schunk_free(d);
        return NULL;
    }
    d->fresh = false;
    return d;
}

tersa_schunk *tersa_schunk_copy(tersa_schunk *s, const tersa_schunk_params *params)
{
    if (!s) {
        tersa__fail(TERSA_ERR_PARAM, "schunk_copy: NULL schunk");
        return NULL;
    }
    return copy_range(s, 0, s->nchunks, params);
}

tersa_schunk *tersa_schunk_extract(tersa_schunk *s, int64_t first, int64_t count,
                                   const tersa_schunk_params *params)
{
    if (!s) {
        tersa__fail(TERSA_ERR_PARAM, "schunk_extract: NULL schunk");
        return NULL;
    }
    if (first < 0 || count < 0 || first > s->nchunks || count > s->nchunks - first) {
        tersa__fail(TERSA_ERR_RANGE, "schunk_extract: chunks [%" PRId64 ", +%" PRId64
                    ") outside 0..%" PRId64, first, count, s->nchunks);
        return NULL;
    }
    return copy_range(s, first, first + count, params);
}

/* ---- Concatenation -------------------------------------------------------------------- */

/* The header fields both frames of a concatenation must share. */
static const struct {
    uint8_t off, len;
    const char *name;
} tf_shared[] = {
    {TF_TYPESIZE, 4, "typesize"},          {TF_BLOCKSIZE, 4, "blocksize"},
    {TF_CODEC_FLAGS, 1, "codec or clevel"}, {TF_OTHER_FLAGS, 1, "split mode"},
    {TF_NFILTERS, 7, "filter pipeline"},    {TF_UDCODEC, 1, "codec"},
    {TF_CODEC_META, 1, "codec meta"},       {TF_FILTERS_META, 6, "filter meta"},
    {TF_OTHER_FLAGS2, 1, "dictionary flag"},
};

static int check_same_params(const tersa_schunk *d, const tersa_schunk *s)
{
    for (size_t i = 0; i < sizeof tf_shared / sizeof tf_shared[0]; i++) {
        const uint8_t *a = d->hdr + tf_shared[i].off, *b = s->hdr + tf_shared[i].off;
        if (memcmp(a, b, tf_shared[i].len) != 0)
            return tersa__fail(TERSA_ERR_PARAM, "schunk_concat: the frames differ in %s (header "
                               "byte 0x%02X: %02X vs %02X)", tf_shared[i].name, tf_shared[i].off,
                               a[0], b[0]);
    }
    bool vd = (d->hdr[TF_GENERAL_FLAGS] & TF_GF_VLBLOCKS) != 0;
    bool vs = (s->hdr[TF_GENERAL_FLAGS] & TF_GF_VLBLOCKS) != 0;
    if (d->nchunks > 0 && s->nchunks > 0 && vd != vs)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_concat: one frame holds VL-block chunks, "
                           "the other regular chunks");
    return 0;
}

/* A fixed-size destination must stay fixed-size. */
static int check_sizes(const tersa_schunk *d, const tersa_schunk *s)
{
    if (d->chunksize <= 0 || d->nchunks == 0 || s->nchunks == 0) return 0;
    if (d->nbytes % d->chunksize != 0)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_concat: the destination ends with a short "
                           "chunk; appending would make it variable-size");
    if (s->chunksize != d->chunksize)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_concat: chunksize %" PRId32 " vs %" PRId32
                           " (0: variable); the result would be variable-size", d->chunksize,
                           s->chunksize);
    return 0;
}

int64_t tersa_schunk_concat(tersa_schunk *d, tersa_schunk *s)
{
    TERSA_TRY(tersa__schunk_check_writable(d));
    if (!s) return tersa__fail(TERSA_ERR_PARAM, "schunk_concat: NULL source");
    TERSA_TRY(check_same_params(d, s));
    TERSA_TRY(check_sizes(d, s));
    int64_t n = s->nchunks;
    if (n == 0) return d->nchunks;
    TERSA_TRY(tersa__schunk_reserve_offsets(d, d->nchunks + n));
    tersa__tx_hint(d, tersa__schunk_change_room(d, s->cbytes + n * TF_CHUNK_HDR, n));
    int rc = copy_chunks(d, s, 0, n);
    if (rc < 0) return tersa__tx_fail(d, tersa__fail_prefix(rc, "schunk_concat"));
    TERSA_TRY(tersa__schunk_flush(d));
    return d->nchunks;
}

/* ---- Compaction ----------------------------------------------------------------------- */

#define TF_SWAP(a, b, T)                                                                     \
    do {                                                                                     \
        T tf_tmp_ = (a);                                                                     \
        (a) = (b);                                                                           \
        (b) = tf_tmp_;                                                                       \
    } while (0)

/* s takes over d's file and index (same chunks, same header); d gets s's old ones. */
static void take_storage(tersa_schunk *s, tersa_schunk *d)
{
    uint8_t fixed[TF_HEADER_MIN];
    TF_SWAP(s->fd, d->fd, int);
    TF_SWAP(s->hdr, d->hdr, uint8_t *);
    TF_SWAP(s->cbytes, d->cbytes, int64_t);
    TF_SWAP(s->frame_len, d->frame_len, int64_t);
    TF_SWAP(s->trailer_len, d->trailer_len, uint32_t);
    TF_SWAP(s->offsets, d->offsets, int64_t *);
    TF_SWAP(s->offcap, d->offcap, int64_t);
    TF_SWAP(s->offchunk, d->offchunk, tersa__buf);
    TF_SWAP(s->offchunk_ok, d->offchunk_ok, bool);
    TF_SWAP(s->live, d->live, tersa__buf);
    TF_SWAP(s->live_flen, d->live_flen, int64_t);
    TF_SWAP(s->live_cb, d->live_cb, int64_t);
    memcpy(fixed, s->live_fixed, sizeof fixed);
    memcpy(s->live_fixed, d->live_fixed, sizeof fixed);
    memcpy(d->live_fixed, fixed, sizeof fixed);
}

static char *with_suffix(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);
    char *p = tersa__malloc(a + b + 1);
    if (!p) {
        tersa__fail(TERSA_ERR_NOMEM, "frame: no memory for a path");
        return NULL;
    }
    memcpy(p, path, a);
    memcpy(p + a, suffix, b + 1);
    return p;
}

/* A file frame: copy into "<path>.tersa-compact", sync it, rename it over the frame. */
static int compact_file(tersa_schunk *s)
{
    char *tmp = with_suffix(s->path, ".tersa-compact");
    char *stale = with_suffix(s->path, ".tersa-tmp");
    if (!tmp || !stale) {
        tersa__free(tmp);
        tersa__free(stale);
        return TERSA_ERR_NOMEM;
    }
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_FILE,
                             .path = tmp, .overwrite = 1};
    tersa_schunk *d = copy_range(s, 0, s->nchunks, &p);
    int rc = d ? 0 : tersa__fail_prefix(TERSA_ERR_IO, "schunk_compact");
    if (rc == 0 && s->durable) rc = tersa__io_sync(d->fd, tmp);
    if (rc == 0) rc = tersa__tx_rename(s, tmp, s->path);
    if (rc == 0) {
        take_storage(s, d);
        unlink(stale); /* a temporary file a crash may have left */
    } else {
        unlink(tmp);
    }
    tersa_schunk_free(d);
    tersa__free(tmp);
    tersa__free(stale);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The chunk file number of a %08X.chunk name, or -1. */
static int64_t chunk_file_id(const char *name)
{
    if (strlen(name) != 14 || strcmp(name + 8, ".chunk") != 0 ||
        strspn(name, "0123456789ABCDEF") != 8)
        return -1;
    return (int64_t)strtoll(name, NULL, 16);
}

/* A sparse frame: remove chunk files no index entry uses (a crash can leave some). */
static int compact_sparse(tersa_schunk *s)
{
    int64_t *ids = tersa__malloc(((size_t)s->nchunks + 1) * sizeof *ids), n = 0;
    if (!ids) return tersa__fail(TERSA_ERR_NOMEM, "schunk_compact: no memory");
    for (int64_t i = 0; i < s->nchunks; i++)
        if (s->offsets[i] >= 0) ids[n++] = s->offsets[i];
    qsort(ids, (size_t)n, sizeof *ids, cmp_i64);
    DIR *dir = opendir(s->path);
    struct dirent *e;
    if (!dir) {
        tersa__free(ids);
        return tersa__fail(TERSA_ERR_IO, "schunk_compact: cannot list %s", s->path);
    }
    while ((e = readdir(dir)) != NULL) {
        int64_t id = chunk_file_id(e->d_name);
        bool stale = strcmp(e->d_name, "chunks.b2frame.tersa-tmp") == 0;
        if (!stale && (id < 0 || bsearch(&id, ids, (size_t)n, sizeof *ids, cmp_i64))) continue;
        char *path = tersa__io_join(s->path, e->d_name);
        if (path) unlink(path);
        tersa__free(path);
    }
    closedir(dir);
    tersa__free(ids);
    return 0;
}

int tersa_schunk_compact(tersa_schunk *s)
{
    TERSA_TRY(tersa__schunk_check_writable(s));
    TERSA_TRY(tersa__schunk_commit(s));
    if (s->storage == TERSA_STORAGE_FILE) return compact_file(s);
    if (s->storage == TERSA_STORAGE_SPARSE) return compact_sparse(s);
    return tersa__schunk_settle_memory(s);
}

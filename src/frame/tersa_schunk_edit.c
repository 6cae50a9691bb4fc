/* Changing existing chunks (insert, update, delete) and copying a super-chunk to another
 * storage without recompressing. Chunk-size rules follow C-Blosc2's schunk.c: a chunk that
 * breaks "all chunks equal but a shorter last one" turns the frame variable-size. */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"

/* Rewrite a memory frame's chunk area in chunk order, dropping bytes no entry uses. */
static int compact_memory(tersa_schunk *s)
{
    tersa__buf b;
    tersa__buf_init(&b);
    for (int64_t i = 0; i < s->nchunks; i++) {
        const uint8_t *p = NULL;
        int32_t cb = 0;
        if (s->offsets[i] < 0) continue;
        int rc = tersa__schunk_chunk_ref(s, i, &p, &cb);
        if (rc < 0) {
            tersa__buf_free(&b);
            return rc;
        }
        s->offsets[i] = (int64_t)b.len;
        tersa__buf_put(&b, p, (size_t)cb);
    }
    if (b.err) return b.err;
    tersa__free(s->data);
    s->data = b.p;
    s->view = b.p;
    s->datacap = b.cap;
    s->cbytes = (int64_t)b.len;
    return 0;
}

/* Old sizes of chunk i: decoded and stored (stored is 0 for special codes). */
static int old_sizes(tersa_schunk *s, int64_t i, int32_t *nbytes, int32_t *stored)
{
    int32_t cb = 0;
    TERSA_TRY(tersa_schunk_chunk_sizes(s, i, nbytes, &cb));
    *stored = s->offsets[i] < 0 ? 0 : cb;
    return 0;
}

static int check_position(int64_t i, int64_t max)
{
    if (i < 0 || i > max)
        return tersa__fail(TERSA_ERR_RANGE, "schunk: position %" PRId64 " is outside 0..%" PRId64,
                           i, max);
    return 0;
}

/* Store chunk (payload or special code) and return its offsets entry. */
static int place_chunk(tersa_schunk *s, const void *chunk, const tersa_chunk_info *info,
                       int64_t *entry)
{
    *entry = tersa__schunk_special_code(s, info->special);
    if (*entry != 0) return 0;
    return tersa__schunk_store_payload(s, chunk, info->cbytes, entry);
}

/* After a change: compact memory storage, write through file/sparse storage. */
static int64_t finish_change(tersa_schunk *s)
{
    s->dirty = true;
    s->offchunk_ok = false;
    if (s->storage == TERSA_STORAGE_MEMORY) TERSA_TRY(compact_memory(s));
    TERSA_TRY(tersa__schunk_flush(s));
    return s->nchunks;
}

int64_t tersa_schunk_insert_chunk(tersa_schunk *s, int64_t nchunk, const void *chunk, size_t len)
{
    tersa_chunk_info info;
    int64_t entry = 0;
    memset(&info, 0, sizeof info);
    TERSA_TRY(tersa__schunk_check_writable(s));
    TERSA_TRY(check_position(nchunk, s->nchunks));
    if (nchunk == s->nchunks) return tersa_schunk_append_chunk(s, chunk, len);
    TERSA_TRY(tersa__schunk_check_chunk(s, chunk, len, &info));
    TERSA_TRY(tersa__schunk_reserve_offsets(s, s->nchunks + 1));
    if (s->chunksize > 0) {
        int64_t last = s->nbytes - (s->nchunks - 1) * (int64_t)s->chunksize;
        if (last < s->chunksize || info.nbytes != s->chunksize)
            TERSA_TRY(tersa__schunk_make_variable(s));
    }
    TERSA_TRY(place_chunk(s, chunk, &info, &entry));
    memmove(&s->offsets[nchunk + 1], &s->offsets[nchunk],
            (size_t)(s->nchunks - nchunk) * sizeof *s->offsets);
    s->offsets[nchunk] = entry;
    s->nchunks++;
    s->nbytes += info.nbytes;
    return finish_change(s);
}

/* Sparse update: overwrite the chunk's own file (C-Blosc2 reuses the file number). */
static int sparse_replace(tersa_schunk *s, int64_t i, const void *chunk,
                          const tersa_chunk_info *info, int64_t *entry)
{
    int64_t id = s->offsets[i];
    if (id < 0 || tersa__schunk_special_code(s, info->special) != 0)
        return place_chunk(s, chunk, info, entry);
    char *path = tersa__io_chunk_path(s->path, id);
    if (!path) return TERSA_ERR_NOMEM;
    int rc = tersa__io_write_file(path, chunk, (size_t)info->cbytes);
    tersa__free(path);
    TERSA_TRY(rc);
    s->cbytes += info->cbytes;
    *entry = id;
    return 0;
}

static void remove_sparse_file(tersa_schunk *s, int64_t id)
{
    char *path = tersa__io_chunk_path(s->path, id);
    if (path) unlink(path);
    tersa__free(path);
}

int64_t tersa_schunk_update_chunk(tersa_schunk *s, int64_t nchunk, const void *chunk, size_t len)
{
    tersa_chunk_info info;
    int32_t old_nbytes = 0, old_stored = 0;
    int64_t entry = 0;
    memset(&info, 0, sizeof info);
    TERSA_TRY(tersa__schunk_check_writable(s));
    TERSA_TRY(check_position(nchunk, s->nchunks - 1));
    TERSA_TRY(tersa__schunk_check_chunk(s, chunk, len, &info));
    TERSA_TRY(old_sizes(s, nchunk, &old_nbytes, &old_stored));
    bool last = nchunk == s->nchunks - 1;
    if (s->chunksize > 0 && (info.nbytes > s->chunksize || (!last && info.nbytes != s->chunksize)))
        TERSA_TRY(tersa__schunk_make_variable(s));
    int64_t old = s->offsets[nchunk];
    if (s->storage == TERSA_STORAGE_SPARSE) {
        TERSA_TRY(sparse_replace(s, nchunk, chunk, &info, &entry));
        if (old >= 0 && entry != old) remove_sparse_file(s, old);
        s->cbytes -= old_stored;
    } else {
        TERSA_TRY(place_chunk(s, chunk, &info, &entry));
    }
    s->offsets[nchunk] = entry;
    s->nbytes += info.nbytes - old_nbytes;
    return finish_change(s);
}

int64_t tersa_schunk_delete_chunk(tersa_schunk *s, int64_t nchunk)
{
    int32_t old_nbytes = 0, old_stored = 0;
    TERSA_TRY(tersa__schunk_check_writable(s));
    TERSA_TRY(check_position(nchunk, s->nchunks - 1));
    TERSA_TRY(old_sizes(s, nchunk, &old_nbytes, &old_stored));
    int64_t old = s->offsets[nchunk];
    if (s->storage == TERSA_STORAGE_SPARSE && old >= 0) {
        remove_sparse_file(s, old);
        s->cbytes -= old_stored;
    }
    memmove(&s->offsets[nchunk], &s->offsets[nchunk + 1],
            (size_t)(s->nchunks - nchunk - 1) * sizeof *s->offsets);
    s->nchunks--;
    s->nbytes -= old_nbytes;
    return finish_change(s);
}

/* ---- Copy ----------------------------------------------------------------------------- */

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

static int copy_into(tersa_schunk *d, tersa_schunk *s, const tersa_schunk_params *p)
{
    TERSA_TRY(tersa__schunk_check_params(p));
    if (p->storage != TERSA_STORAGE_MEMORY && s->path && strcmp(p->path, s->path) == 0)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_copy: destination %s is the source", p->path);
    TERSA_TRY(copy_shell(d, s, p));
    TERSA_TRY(tersa__schunk_flush(d));
    uint8_t *tmp = NULL;
    size_t cap = 0;
    int rc = 0;
    for (int64_t i = 0; i < s->nchunks && rc >= 0; i++) {
        const uint8_t *c = NULL;
        int32_t cb = 0;
        rc = tersa__schunk_chunk_ref(s, i, &c, &cb);
        if (rc >= 0 && (size_t)cb > cap) { /* the source's scratch is reused by the next read */
            uint8_t *q = tersa__realloc(tmp, (size_t)cb);
            rc = q ? 0 : tersa__fail(TERSA_ERR_NOMEM, "schunk_copy: no memory");
            if (q) tmp = q, cap = (size_t)cb;
        }
        if (rc >= 0) memcpy(tmp, c, (size_t)cb);
        if (rc >= 0) rc = (int)tersa__schunk_append(d, tmp, (size_t)cb, false);
    }
    tersa__free(tmp);
    TERSA_TRY(rc);
    return tersa__schunk_flush(d);
}

tersa_schunk *tersa_schunk_copy(tersa_schunk *s, const tersa_schunk_params *params)
{
    if (!s) {
        tersa__fail(TERSA_ERR_PARAM, "schunk_copy: NULL schunk");
        return NULL;
    }
    tersa_schunk *d = tersa__schunk_alloc();
    if (!d) return NULL;
    if (copy_into(d, s, params) < 0) {
        tersa_schunk_free(d);
        return NULL;
    }
    return d;
}

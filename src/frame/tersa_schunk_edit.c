/* Changing existing chunks (insert, update, delete). Chunk-size rules follow C-Blosc2's
 * schunk.c: a chunk that breaks "all chunks equal but a shorter last one" turns the frame
 * variable-size. A failure after a change began leaves the schunk broken (tersa__tx_fail). */
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
    s->mem_dead = 0;
    s->mem_loose = false;
    s->offchunk_ok = false;
    return 0;
}

int tersa__schunk_settle_memory(tersa_schunk *s)
{
    if (s->storage != TERSA_STORAGE_MEMORY || !s->mem_loose) return 0;
    return compact_memory(s);
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

/* After a change: commit file/sparse storage. Memory storage is compacted when serialised,
 * or here once unused bytes outgrow the used ones (so n updates copy O(n) chunk bytes, not
 * the whole area every time). */
static int64_t finish_change(tersa_schunk *s)
{
    s->dirty = true;
    s->idx_dirty = true;
    s->offchunk_ok = false;
    if (s->storage == TERSA_STORAGE_MEMORY) {
        s->mem_loose = true;
        int rc = s->mem_dead > s->cbytes - s->mem_dead ? compact_memory(s) : 0;
        if (rc < 0) return tersa__tx_fail(s, rc);
    }
    TERSA_TRY(tersa__schunk_flush(s));
    return s->nchunks;
}

/* Insert an admitted chunk; a failure leaves the schunk broken. */
static int insert_admitted(tersa_schunk *s, int64_t nchunk, const void *chunk,
                           const tersa_chunk_info *info)
{
    int64_t entry = 0;
    if (s->chunksize > 0) {
        int64_t last = s->nbytes - (s->nchunks - 1) * (int64_t)s->chunksize;
        if (last < s->chunksize || info->nbytes != s->chunksize)
            TERSA_TRY(tersa__schunk_make_variable(s));
    }
    TERSA_TRY(place_chunk(s, chunk, info, &entry));
    memmove(&s->offsets[nchunk + 1], &s->offsets[nchunk],
            (size_t)(s->nchunks - nchunk) * sizeof *s->offsets);
    s->offsets[nchunk] = entry;
    s->nchunks++;
    s->nbytes += info->nbytes;
    return 0;
}

int64_t tersa_schunk_insert_chunk(tersa_schunk *s, int64_t nchunk, const void *chunk, size_t len)
{
    tersa_chunk_info info;
    memset(&info, 0, sizeof info);
    TERSA_TRY(tersa__schunk_check_writable(s));
    TERSA_TRY(check_position(nchunk, s->nchunks));
    if (nchunk == s->nchunks) return tersa_schunk_append_chunk(s, chunk, len);
    TERSA_TRY(tersa__schunk_check_chunk(s, chunk, len, &info));
    TERSA_TRY(tersa__schunk_reserve_offsets(s, s->nchunks + 1));
    tersa__tx_hint(s, tersa__schunk_change_room(s, info.cbytes, 1));
    int rc = insert_admitted(s, nchunk, chunk, &info);
    if (rc < 0) return tersa__tx_fail(s, rc);
    return finish_change(s);
}

/* Replace chunk nchunk by an admitted chunk. Sparse frames get a new chunk file and lose the
 * old one after the commit (C-Blosc2 rewrites the file in place, which a crash can tear). */
static int update_admitted(tersa_schunk *s, int64_t nchunk, const void *chunk,
                           const tersa_chunk_info *info, int32_t old_nbytes, int32_t old_stored)
{
    int64_t entry = 0;
    bool last = nchunk == s->nchunks - 1;
    if (s->chunksize > 0 &&
        (info->nbytes > s->chunksize || (!last && info->nbytes != s->chunksize)))
        TERSA_TRY(tersa__schunk_make_variable(s));
    int64_t old = s->offsets[nchunk]; /* after make_variable: a special code is now stored */
    TERSA_TRY(place_chunk(s, chunk, info, &entry));
    if (s->storage == TERSA_STORAGE_SPARSE && old >= 0) {
        TERSA_TRY(tersa__tx_defer_unlink(s, old));
        s->cbytes -= old_stored ? old_stored : TF_CHUNK_HDR; /* 0: a materialised code */
    }
    if (s->storage == TERSA_STORAGE_MEMORY && old >= 0)
        s->mem_dead += old_stored ? old_stored : TF_CHUNK_HDR;
    s->offsets[nchunk] = entry;
    s->nbytes += info->nbytes - old_nbytes;
    return 0;
}

int64_t tersa_schunk_update_chunk(tersa_schunk *s, int64_t nchunk, const void *chunk, size_t len)
{
    tersa_chunk_info info;
    int32_t old_nbytes = 0, old_stored = 0;
    memset(&info, 0, sizeof info);
    TERSA_TRY(tersa__schunk_check_writable(s));
    TERSA_TRY(check_position(nchunk, s->nchunks - 1));
    TERSA_TRY(tersa__schunk_check_chunk(s, chunk, len, &info));
    TERSA_TRY(old_sizes(s, nchunk, &old_nbytes, &old_stored));
    tersa__tx_hint(s, tersa__schunk_change_room(s, info.cbytes, 0));
    int rc = update_admitted(s, nchunk, chunk, &info, old_nbytes, old_stored);
    if (rc < 0) return tersa__tx_fail(s, rc);
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
        TERSA_TRY(tersa__tx_defer_unlink(s, old));
        s->cbytes -= old_stored;
    }
    if (s->storage == TERSA_STORAGE_MEMORY && old >= 0) s->mem_dead += old_stored;
    memmove(&s->offsets[nchunk], &s->offsets[nchunk + 1],
            (size_t)(s->nchunks - nchunk - 1) * sizeof *s->offsets);
    s->nchunks--;
    s->nbytes -= old_nbytes;
    tersa__tx_hint(s, tersa__schunk_change_room(s, 0, 0));
    return finish_change(s);
}

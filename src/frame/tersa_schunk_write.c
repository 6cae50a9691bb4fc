/* Creating and growing frames: create, append, metalayer updates, vlmetalayers, and
 * serialising to a buffer. File and sparse storage are written through the crash-safe change
 * protocol of tersa_frame_tx.c; the bytes of a frame are those C-Blosc2 writes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"

int tersa__schunk_check_writable(const tersa_schunk *s)
{
    if (!s) return tersa__fail(TERSA_ERR_PARAM, "schunk: NULL schunk");
    if (!s->writable)
        return tersa__fail(TERSA_ERR_STATE, "schunk: opened read-only (use TERSA_OPEN_WRITE)");
    if (s->broken)
        return tersa__fail(TERSA_ERR_STATE, "schunk: an earlier change failed midway; reopen the "
                           "frame (the file holds the last committed state)");
    return 0;
}

int tersa__schunk_own_data(tersa_schunk *s, size_t extra)
{
    size_t need = (size_t)s->cbytes + extra;
    if (s->data && s->view == s->data && need <= s->datacap) return 0;
    size_t cap = s->datacap > need ? s->datacap : need;
    if (s->view == s->data && cap < s->datacap * 2) cap = s->datacap * 2;
    uint8_t *p = tersa__malloc(cap ? cap : 1);
    if (!p) return tersa__fail(TERSA_ERR_NOMEM, "schunk: no memory for %zu bytes of chunks", cap);
    if (s->cbytes && s->view) memcpy(p, s->view, (size_t)s->cbytes);
    tersa__free(s->data);
    s->data = p;
    s->view = p;
    s->datacap = cap;
    return 0;
}

/* ---- Offsets index, trailer, flushing ------------------------------------------------- */

static int offsets_cctx(tersa_schunk *s)
{
    if (s->offcctx) return 0;
    s->offcctx = tersa_cctx_create();
    if (!s->offcctx) return tersa__fail(TERSA_ERR_NOMEM, "frame: cannot create a context");
    TERSA_TRY(tersa_cctx_set(s->offcctx, TERSA_P_TYPESIZE, 8));
    TERSA_TRY(tersa_cctx_set(s->offcctx, TERSA_P_CODEC, TERSA_CODEC_BLOSCLZ));
    TERSA_TRY(tersa_cctx_set(s->offcctx, TERSA_P_CLEVEL, 5));
    TERSA_TRY(tersa_cctx_set(s->offcctx, TERSA_P_SPLITMODE, TERSA_SPLIT_NEVER));
    TERSA_TRY(tersa_cctx_set(s->offcctx, TERSA_P_BLOCKSIZE, TF_OFFSETS_BLOCKSIZE));
    TERSA_TRY(tersa_cctx_set(s->offcctx, TERSA_P_DETECT_SPECIAL, 0));
    return 0;
}

/* Trailer length without building it. */
static int64_t trailer_size(const tersa_schunk *s)
{
    int64_t n = 2 + 1 + 3 + 3 + 3 + TF_TRAILER_TAIL;
    for (int i = 0; i < s->nvlmeta; i++)
        n += 1 + (int64_t)strlen(s->vlmeta[i].name) + 5 + 5 + s->vlmeta[i].len;
    return n;
}

int64_t tersa__schunk_change_room(const tersa_schunk *s, int64_t payload, int64_t nnew)
{
    size_t idx = tersa_compress_bound((size_t)(s->nchunks + nnew) * 8);
    return payload + (int64_t)idx + trailer_size(s);
}

int tersa__schunk_prepare_offsets(tersa_schunk *s)
{
    if (!s->offchunk_ok) {
        size_t n = (size_t)s->nchunks * 8;
        s->offchunk.len = 0;
        s->offchunk.err = 0;
        if (n > 0) {
            TERSA_TRY(offsets_cctx(s));
            uint8_t *le = tersa__malloc(n), *dst = tersa__buf_grow(&s->offchunk, tersa_compress_bound(n));
            if (!le || !dst) {
                tersa__free(le);
                return tersa__fail(TERSA_ERR_NOMEM, "frame: no memory for the offsets index");
            }
            for (int64_t i = 0; i < s->nchunks; i++) tersa__st64(le + i * 8, (uint64_t)s->offsets[i]);
            int64_t cb = tersa_compress(s->offcctx, le, n, dst, tersa_compress_bound(n));
            tersa__free(le);
            if (cb < 0) return tersa__fail_prefix((int)cb, "frame offsets index");
            s->offchunk.len = (size_t)cb;
        }
        s->offchunk_ok = true;
    }
    int64_t area = s->storage == TERSA_STORAGE_SPARSE ? 0 : s->cbytes;
    s->trailer_len = (uint32_t)trailer_size(s);
    s->frame_len = s->header_len + area + (int64_t)s->offchunk.len + s->trailer_len;
    return 0;
}

/* ---- Chunk admission and storage ------------------------------------------------------ */

/* validate = false: the chunk was just made by tersa_compress (the header is still checked). */
static int check_chunk(tersa_schunk *s, const void *chunk, size_t len, tersa_chunk_info *out,
                       bool validate)
{
    tersa_chunk_info info;
    if (!chunk) return tersa__fail(TERSA_ERR_PARAM, "schunk: NULL chunk");
    int rc = validate ? tersa_chunk_validate(chunk, len) : 0;
    if (rc < 0) return tersa__fail_prefix(rc, "schunk: chunk to store");
    info.struct_size = sizeof info;
    TERSA_TRY(tersa_chunk_inspect(chunk, len, &info));

    if (info.header_len != TF_CHUNK_HDR)
        return tersa__fail(TERSA_ERR_UNSUPPORTED, "schunk: frames store only chunks with the "
                           "32-byte extended header (this one has %d)", info.header_len);
    if (info.nbytes == 0)
        return tersa__fail(TERSA_ERR_PARAM, "schunk: an empty chunk cannot be stored (frame "
                           "readers count 0 chunks when nbytes is 0)");
    bool vl = (s->hdr[TF_GENERAL_FLAGS] & TF_GF_VLBLOCKS) != 0;
    if (s->nchunks > 0 && vl != (info.vlblocks != 0))
        return tersa__fail(TERSA_ERR_PARAM, "schunk: frames cannot mix VL-block and regular chunks");
    *out = info;
    return 0;
}

int tersa__schunk_check_chunk(tersa_schunk *s, const void *chunk, size_t len,
                              tersa_chunk_info *out)
{
    return check_chunk(s, chunk, len, out, true);
}

int tersa__schunk_store_payload(tersa_schunk *s, const uint8_t *chunk, int32_t cbytes,
                                int64_t *entry)
{
    if (s->storage == TERSA_STORAGE_MEMORY) {
        TERSA_TRY(tersa__schunk_own_data(s, (size_t)cbytes));
        memcpy(s->data + s->cbytes, chunk, (size_t)cbytes);
        *entry = s->cbytes;
    } else if (s->storage == TERSA_STORAGE_FILE) {
        TERSA_TRY(tersa__tx_write_chunk(s, s->cbytes, chunk, (size_t)cbytes));
        *entry = s->cbytes;
    } else { /* always a new file: the committed index never points at a file being written */
        char *path = tersa__io_chunk_path(s->path, s->next_id);
        if (!path) return TERSA_ERR_NOMEM;
        int rc = tersa__tx_write_file(s, path, chunk, (size_t)cbytes);
        tersa__free(path);
        TERSA_TRY(rc);
        *entry = s->next_id++;
    }
    s->cbytes += cbytes;
    s->idx_dirty = true;
    return 0;
}

/* Store every special offset code as a real 32-byte chunk (before a frame turns variable-size,
 * where codes would lose their size). */
int tersa__schunk_materialise_specials(tersa_schunk *s)
{
    int64_t n = 0;
    for (int64_t i = 0; i < s->nchunks; i++) n += s->offsets[i] < 0;
    tersa__tx_hint(s, s->tx_hint + n * TF_CHUNK_HDR); /* before the first write of the change */
    for (int64_t i = 0; i < s->nchunks; i++) {
        const uint8_t *p = NULL;
        int32_t cb = 0;
        if (s->offsets[i] >= 0) continue;
        TERSA_TRY(tersa__schunk_chunk_ref(s, i, &p, &cb));
        TERSA_TRY(tersa__schunk_store_payload(s, p, cb, &s->offsets[i]));
    }
    s->offchunk_ok = false;
    return 0;
}

int tersa__schunk_make_variable(tersa_schunk *s)
{
    if (s->chunksize == 0) return 0;
    TERSA_TRY(tersa__schunk_materialise_specials(s));
    s->chunksize = 0;
    return 0;
}

/* C-Blosc2's chunksize rule for an appended chunk of nbytes. */
static int note_append_size(tersa_schunk *s, int32_t nbytes)
{
    if (s->nchunks == 0) {
        if (s->chunksize != 0) s->chunksize = nbytes;
        return 0;
    }
    if (s->chunksize <= 0) return tersa__schunk_make_variable(s);
    int64_t last = s->nbytes - (s->nchunks - 1) * (int64_t)s->chunksize;
    if (last < s->chunksize || nbytes > s->chunksize) return tersa__schunk_make_variable(s);
    return 0;
}

/* The offsets entry coding a special chunk, or 0 when it must be stored. */
int64_t tersa__schunk_special_code(const tersa_schunk *s, int special)
{
    bool code = s->chunksize > 0 && (special == TERSA_SPECIAL_ZEROS ||
                                     special == TERSA_SPECIAL_NAN || special == TERSA_SPECIAL_UNINIT);
    return code ? (int64_t)(((uint64_t)0x80 | (uint64_t)special) << 56) : 0;
}

/* Store an admitted chunk at the end; any failure here leaves the schunk broken. */
static int append_store(tersa_schunk *s, const void *chunk, const tersa_chunk_info *info)
{
    int64_t entry = 0;
    s->dirty = true;
    s->idx_dirty = true;
    TERSA_TRY(note_append_size(s, info->nbytes));
    if (s->nchunks == 0 && info->vlblocks) s->hdr[TF_GENERAL_FLAGS] |= TF_GF_VLBLOCKS;
    entry = tersa__schunk_special_code(s, info->special);
    if (entry == 0) TERSA_TRY(tersa__schunk_store_payload(s, chunk, info->cbytes, &entry));
    s->offsets[s->nchunks++] = entry;
    s->nbytes += info->nbytes;
    s->offchunk_ok = false;
    return 0;
}

static int64_t append_admitted(tersa_schunk *s, const void *chunk, const tersa_chunk_info *info,
                               bool flush)
{
    TERSA_TRY(tersa__schunk_reserve_offsets(s, s->nchunks + 1));
    tersa__tx_hint(s, tersa__schunk_change_room(s, info->cbytes, 1));
    int rc = append_store(s, chunk, info);
    if (rc < 0) return tersa__tx_fail(s, rc);
    if (flush) TERSA_TRY(tersa__schunk_flush(s));
    return s->nchunks;
}

int64_t tersa__schunk_append(tersa_schunk *s, const void *chunk, size_t len, bool flush)
{
    tersa_chunk_info info;
    memset(&info, 0, sizeof info);
    TERSA_TRY(tersa__schunk_check_writable(s));
    TERSA_TRY(tersa__schunk_check_chunk(s, chunk, len, &info));
    return append_admitted(s, chunk, &info, flush);
}

int64_t tersa_schunk_append_chunk(tersa_schunk *s, const void *chunk, size_t len)
{
    return tersa__schunk_append(s, chunk, len, true);
}

int64_t tersa_schunk_append_buffer(tersa_schunk *s, const void *src, size_t n)
{
    tersa_chunk_info info;
    TERSA_TRY(tersa__schunk_check_writable(s));
    if (!src && n) return tersa__fail(TERSA_ERR_PARAM, "schunk_append_buffer: NULL source");
    if (n > TERSA_MAX_BUFFERSIZE)
        return tersa__fail(TERSA_ERR_TOO_LARGE, "schunk_append_buffer: %zu bytes exceed one chunk", n);
    size_t cap = tersa_compress_bound(n);
    if (cap > s->cbufcap) { /* kept: appending many chunks allocates once */
        tersa__free(s->cbuf);
        s->cbuf = tersa__malloc(cap);
        s->cbufcap = s->cbuf ? cap : 0;
        if (!s->cbuf) return tersa__fail(TERSA_ERR_NOMEM, "schunk_append_buffer: no memory");
    }
    int64_t rc = tersa_compress(s->cctx, src, n, s->cbuf, cap);
    if (rc < 0) return rc;
    memset(&info, 0, sizeof info);
    TERSA_TRY(check_chunk(s, s->cbuf, (size_t)rc, &info, false));
    return append_admitted(s, s->cbuf, &info, true);
}

/* ---- Metalayers ----------------------------------------------------------------------- */

int tersa_schunk_meta_update(tersa_schunk *s, const char *name, const void *content, size_t len)
{
    const uint8_t *cur = NULL;
    size_t curlen = 0;
    TERSA_TRY(tersa__schunk_check_writable(s));
    int i = tersa_schunk_meta_get(s, name, &cur, &curlen);
    if (i < 0) return i;
    if (len > curlen || (!content && len))
        return tersa__fail(TERSA_ERR_PARAM, "schunk_meta_update: '%s' holds %zu bytes, cannot "
                           "write %zu (metalayers never change size)", name, curlen, len);
    tersa__meta *m = &s->meta[i];
    if (len) memcpy(m->content, content, len);
    if (len) memcpy(s->hdr + m->pos + 5, content, len);
    s->hdr_dirty = true;
    TERSA_TRY(tersa__schunk_flush(s));
    return i;
}

static int compress_vlmeta(tersa_cctx *cctx, const void *content, size_t len, tersa__meta *m)
{
    tersa_cctx *own = NULL;
    if (!cctx) {
        own = cctx = tersa_cctx_create();
        if (!own) return tersa__fail(TERSA_ERR_NOMEM, "vlmetalayer: cannot create a context");
    }
    size_t cap = tersa_compress_bound(len);
    uint8_t *p = tersa__malloc(cap);
    int64_t cb = p ? tersa_compress(cctx, content, len, p, cap)
                   : tersa__fail(TERSA_ERR_NOMEM, "vlmetalayer: no memory");
    tersa_cctx_free(own);
    if (cb < 0) {
        tersa__free(p);
        return (int)cb;
    }
    tersa__free(m->content);
    m->content = p;
    m->len = (int32_t)cb;
    return 0;
}

static int check_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > TERSA_METALAYER_NAME_MAX)
        return tersa__fail(TERSA_ERR_PARAM, "metalayer names have 1 to 31 bytes ('%s')",
                           name ? name : "(null)");
    return 0;
}

static int vlmeta_slot(tersa_schunk *s, const char *name)
{
    for (int i = 0; i < s->nvlmeta; i++)
        if (strcmp(s->vlmeta[i].name, name) == 0) return i;
    if (s->nvlmeta >= TERSA_MAX_METALAYERS)
        return tersa__fail(TERSA_ERR_TOO_LARGE, "vlmetalayer '%s': already 16 vlmetalayers", name);
    if (s->nvlmeta >= s->vlcap) {
        int cap = s->vlcap ? s->vlcap * 2 : 4;
        tersa__meta *p = tersa__realloc(s->vlmeta, (size_t)cap * sizeof *p);
        if (!p) return tersa__fail(TERSA_ERR_NOMEM, "vlmetalayer: no memory");
        memset(p + s->vlcap, 0, (size_t)(cap - s->vlcap) * sizeof *p);
        s->vlmeta = p;
        s->vlcap = cap;
    }
    tersa__meta *m = &s->vlmeta[s->nvlmeta];
    tersa__meta_clear(m);
    strcpy(m->name, name);
    return s->nvlmeta;
}

int tersa_schunk_vlmeta_set(tersa_schunk *s, const char *name, const void *content, size_t len,
                            tersa_cctx *cctx)
{
    tersa__meta tmp;
    TERSA_TRY(tersa__schunk_check_writable(s));
    TERSA_TRY(check_name(name));
    if ((!content && len) || len > TERSA_MAX_BUFFERSIZE)
        return tersa__fail(TERSA_ERR_PARAM, "vlmetalayer '%s': bad content or length", name);
    memset(&tmp, 0, sizeof tmp);
    TERSA_TRY(compress_vlmeta(cctx, content, len, &tmp));
    int i = vlmeta_slot(s, name);
    if (i < 0) {
        tersa__free(tmp.content);
        return i;
    }
    tersa__free(s->vlmeta[i].content);
    s->vlmeta[i].content = tmp.content;
    s->vlmeta[i].len = tmp.len;
    if (i == s->nvlmeta) s->nvlmeta++;
    s->dirty = true;
    s->idx_dirty = true;
    tersa__tx_hint(s, tersa__schunk_change_room(s, 0, 0));
    TERSA_TRY(tersa__schunk_flush(s));
    return i;
}

int tersa_schunk_vlmeta_delete(tersa_schunk *s, const char *name)
{
    TERSA_TRY(tersa__schunk_check_writable(s));
    for (int i = 0; name && i < s->nvlmeta; i++) {
        if (strcmp(s->vlmeta[i].name, name) != 0) continue;
        tersa__meta gone = s->vlmeta[i];
        memmove(&s->vlmeta[i], &s->vlmeta[i + 1], (size_t)(s->nvlmeta - i - 1) * sizeof gone);
        s->vlmeta[--s->nvlmeta] = gone;
        tersa__meta_clear(&s->vlmeta[s->nvlmeta]);
        s->dirty = true;
        s->idx_dirty = true;
        tersa__tx_hint(s, tersa__schunk_change_room(s, 0, 0));
        return tersa__schunk_flush(s);
    }
    return tersa__fail(TERSA_ERR_NOT_FOUND, "schunk: no vlmetalayer named '%s'",
                       name ? name : "(null)");
}

/* ---- Creation ------------------------------------------------------------------------- */

int tersa__schunk_check_params(const tersa_schunk_params *p)
{
    if (!p || p->struct_size < sizeof *p)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_create: NULL params or struct_size too small");
    if (p->storage < TERSA_STORAGE_MEMORY || p->storage > TERSA_STORAGE_SPARSE)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_create: unknown storage %d", p->storage);
    if (p->storage != TERSA_STORAGE_MEMORY && !p->path)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_create: file and sparse storage need a path");
    if (p->typesize < 0)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_create: negative typesize");
    if (p->nmetalayers < 0 || p->nmetalayers > TERSA_MAX_METALAYERS ||
        (p->nmetalayers && !p->metalayers))
        return tersa__fail(TERSA_ERR_PARAM, "schunk_create: %d metalayers (0 to 16)", p->nmetalayers);
    for (int i = 0; i < p->nmetalayers; i++) {
        const tersa_metalayer *m = &p->metalayers[i];
        TERSA_TRY(check_name(m->name));
        if (m->len > INT32_MAX || (m->len && !m->content))
            return tersa__fail(TERSA_ERR_PARAM, "metalayer '%s': bad content", m->name);
        for (int j = 0; j < i; j++)
            if (strcmp(p->metalayers[j].name, m->name) == 0)
                return tersa__fail(TERSA_ERR_EXISTS, "metalayer '%s' given twice", m->name);
    }
    return 0;
}

static int copy_metalayers(tersa_schunk *s, const tersa_schunk_params *p)
{
    for (int i = 0; i < p->nmetalayers; i++) {
        tersa__meta *m = &s->meta[i];
        strcpy(m->name, p->metalayers[i].name);
        m->content = tersa__malloc(p->metalayers[i].len ? p->metalayers[i].len : 1);
        if (!m->content) return tersa__fail(TERSA_ERR_NOMEM, "metalayer: no memory");
        if (p->metalayers[i].len) memcpy(m->content, p->metalayers[i].content, p->metalayers[i].len);
        m->len = (int32_t)p->metalayers[i].len;
        s->nmeta = i + 1;
    }
    return 0;
}

/* Remove chunks.b2frame and every %08X.chunk file of a sparse directory. */
static int clear_sparse_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) return tersa__fail(TERSA_ERR_IO, "sparse frame: cannot list %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        bool chunkfile = n == 14 && strcmp(e->d_name + 8, ".chunk") == 0 &&
                         strspn(e->d_name, "0123456789ABCDEF") == 8;
        if (!chunkfile && strcmp(e->d_name, "chunks.b2frame") != 0) continue;
        char *path = tersa__io_join(dir, e->d_name);
        if (path) unlink(path);
        tersa__free(path);
    }
    closedir(d);
    return 0;
}

int tersa__schunk_create_storage(tersa_schunk *s, const tersa_schunk_params *p)
{
    int excl = p->overwrite ? O_TRUNC : O_EXCL;
    const char *file = p->path;
    char *index = NULL;
    if (p->storage == TERSA_STORAGE_MEMORY) return 0;
    s->path = tersa__malloc(strlen(p->path) + 1);
    if (!s->path) return tersa__fail(TERSA_ERR_NOMEM, "schunk_create: no memory");
    strcpy(s->path, p->path);
    if (p->storage == TERSA_STORAGE_SPARSE) {
        if (mkdir(p->path, 0777) != 0 && errno != EEXIST)
            return tersa__fail(TERSA_ERR_IO, "sparse frame: cannot create %s: %s", p->path,
                               strerror(errno));
        if (p->overwrite) TERSA_TRY(clear_sparse_dir(p->path));
        file = index = tersa__io_join(p->path, "chunks.b2frame");
        if (!index) return TERSA_ERR_NOMEM;
    }
    s->fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | excl, 0644);
    int err = errno;
    tersa__free(index);
    if (s->fd < 0)
        return tersa__fail(err == EEXIST ? TERSA_ERR_EXISTS : TERSA_ERR_IO,
                           "schunk_create: cannot create %s: %s", p->path, strerror(err));
    return 0;
}

static int create_into(tersa_schunk *s, const tersa_schunk_params *p)
{
    int64_t ts = 0;
    TERSA_TRY(tersa__schunk_check_params(p));
    s->storage = p->storage;
    s->writable = true;
    s->dirty = true;
    TERSA_TRY(tersa__schunk_make_contexts(s, p->cparams));
    TERSA_TRY(tersa_cctx_get(s->cctx, TERSA_P_TYPESIZE, &ts));
    s->typesize = p->typesize ? p->typesize : (int32_t)ts;
    if (p->typesize) TERSA_TRY(tersa_cctx_set(s->cctx, TERSA_P_TYPESIZE, p->typesize > 255 ? 1 : p->typesize));
    TERSA_TRY(tersa_cctx_set(s->cctx, TERSA_P_FRAME_TYPESIZE, s->typesize));
    TERSA_TRY(tersa_dctx_set(s->dctx, TERSA_P_FRAME_TYPESIZE, s->typesize));
    TERSA_TRY(tersa_cctx_get(s->cctx, TERSA_P_BLOCKSIZE, &ts));
    s->blocksize = (int32_t)ts;
    s->chunksize = -1;
    TERSA_TRY(copy_metalayers(s, p));
    TERSA_TRY(tersa__frame_build_header(s, p->storage == TERSA_STORAGE_SPARSE ? 1 : 0));
    TERSA_TRY(tersa__schunk_create_storage(s, p));
    return tersa__schunk_flush(s);
}

tersa_schunk *tersa_schunk_create(const tersa_schunk_params *params)
{
    tersa_schunk *s = tersa__schunk_alloc();
    if (!s) return NULL;
    s->fresh = true; /* nothing to protect until the constructor returns */
    if (create_into(s, params) < 0) {
        tersa_schunk_free(s);
        return NULL;
    }
    s->fresh = false;
    return s;
}

/* ---- Serialisation -------------------------------------------------------------------- */

static int64_t memory_to_buffer(tersa_schunk *s, uint8_t *dst)
{
    tersa__buf t;
    int64_t pos = 0;
    memcpy(dst, s->hdr, (size_t)s->header_len);
    pos += s->header_len;
    if (s->cbytes) memcpy(dst + pos, s->view, (size_t)s->cbytes);
    pos += s->cbytes;
    if (s->offchunk.len) memcpy(dst + pos, s->offchunk.p, s->offchunk.len);
    pos += (int64_t)s->offchunk.len;
    tersa__buf_init(&t);
    int rc = tersa__frame_build_trailer(s, &t);
    if (rc == 0) memcpy(dst + pos, t.p, t.len);
    pos += (int64_t)t.len;
    tersa__buf_free(&t);
    TERSA_TRY(rc);
    return pos;
}

static tersa_schunk *gather_sparse(tersa_schunk *s)
{
    tersa_schunk_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.storage = TERSA_STORAGE_MEMORY;
    return tersa_schunk_copy(s, &p);
}

int64_t tersa_schunk_frame_len(tersa_schunk *s)
{
    if (!s) return tersa__fail(TERSA_ERR_PARAM, "schunk: NULL schunk");
    if (s->pending) TERSA_TRY(tersa__schunk_commit(s)); /* the frame on disk is measured/read */
    if (s->storage == TERSA_STORAGE_FILE) return s->frame_len;
    if (s->storage == TERSA_STORAGE_SPARSE) {
        tersa_schunk *m = gather_sparse(s);
        if (!m) return tersa__fail_prefix(TERSA_ERR_IO, "schunk_frame_len");
        int64_t n = tersa_schunk_frame_len(m);
        tersa_schunk_free(m);
        return n;
    }
    TERSA_TRY(tersa__schunk_settle_memory(s));
    TERSA_TRY(tersa__schunk_prepare_offsets(s));
    return s->frame_len;
}

int64_t tersa_schunk_to_buffer(tersa_schunk *s, void *dst, size_t dstcap)
{
    int64_t n = tersa_schunk_frame_len(s);
    if (n < 0) return n;
    if (!dst || dstcap < (size_t)n)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL, "schunk_to_buffer: frame has %" PRId64
                           " bytes, buffer %zu", n, dst ? dstcap : 0);
    if (s->storage == TERSA_STORAGE_FILE) {
        TERSA_TRY(tersa__io_pread(s->fd, s->foffset, dst, (size_t)n, "frame"));
        return n;
    }
    if (s->storage == TERSA_STORAGE_SPARSE) {
        tersa_schunk *m = gather_sparse(s);
        if (!m) return tersa__fail_prefix(TERSA_ERR_IO, "schunk_to_buffer");
        n = tersa_schunk_to_buffer(m, dst, dstcap);
        tersa_schunk_free(m);
        return n;
    }
    TERSA_TRY(tersa__schunk_prepare_offsets(s));
    tersa__frame_sync_header(s);
    return memory_to_buffer(s, dst);
}

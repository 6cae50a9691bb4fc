/* The super-chunk object: lifetime, properties, chunk access and metalayer lookup. */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "chunk/tersa_chunk_internal.h"
#include "frame/tersa_frame_internal.h"

tersa_schunk *tersa__schunk_alloc(void)
{
    tersa_schunk *s = tersa__calloc(1, sizeof *s);
    if (!s) {
        tersa__fail(TERSA_ERR_NOMEM, "schunk: cannot allocate");
        return NULL;
    }
    s->fd = -1;
    s->tx_oldfd = -1;
    s->chunksize = -1;
    tersa__buf_init(&s->offchunk);
    s->dctx = tersa_dctx_create();
    if (!s->dctx) {
        tersa__free(s);
        tersa__fail(TERSA_ERR_NOMEM, "schunk: cannot create a decompression context");
        return NULL;
    }
    return s;
}

void tersa_schunk_free(tersa_schunk *s)
{
    if (!s) return;
    tersa__tx_release(s);
    if (s->fd >= 0) close(s->fd);
    for (int i = 0; i < s->nmeta; i++) tersa__meta_clear(&s->meta[i]);
    for (int i = 0; i < s->vlcap; i++) tersa__meta_clear(&s->vlmeta[i]);
    tersa__free(s->vlmeta);
    tersa__free(s->hdr);
    tersa__free(s->path);
    tersa__free(s->offsets);
    tersa__buf_free(&s->offchunk);
    tersa__free(s->data);
    tersa__free(s->scratch);
    tersa__free(s->cbuf);
    tersa__free(s->lazybuf);
    tersa_cctx_free(s->cctx);
    tersa_cctx_free(s->offcctx);
    tersa_dctx_free(s->dctx);
    tersa__free(s);
}

/* Copy every compression parameter of tmpl (or the defaults) into a new owned cctx. */
int tersa__schunk_make_contexts(tersa_schunk *s, const tersa_cctx *tmpl)
{
    size_t n = 0;
    const tersa_param_desc *tab = tersa_param_table(&n);
    s->cctx = tersa_cctx_create();
    if (!s->cctx) return tersa__fail(TERSA_ERR_NOMEM, "schunk: cannot create a compression context");
    for (size_t i = 0; tmpl && i < n; i++) {
        int64_t v;
        if (!tab[i].for_cctx || tersa_cctx_get(tmpl, tab[i].id, &v) < 0) continue;
        TERSA_TRY(tersa_cctx_set(s->cctx, tab[i].id, v));
    }
    return 0;
}

int tersa__schunk_reserve_offsets(tersa_schunk *s, int64_t n)
{
    if (n <= s->offcap) return 0;
    int64_t cap = s->offcap ? s->offcap : 64;
    while (cap < n) cap *= 2;
    size_t bytes;
    if (!tersa__mul_size((size_t)cap, sizeof(int64_t), &bytes))
        return tersa__fail(TERSA_ERR_TOO_LARGE, "schunk: %" PRId64 " chunks", n);
    int64_t *p = tersa__realloc(s->offsets, bytes);
    if (!p) return tersa__fail(TERSA_ERR_NOMEM, "schunk: no memory for %" PRId64 " offsets", n);
    s->offsets = p;
    s->offcap = cap;
    return 0;
}

/* ---- Properties ----------------------------------------------------------------------- */

static int hdr_byte(const tersa_schunk *s, int off) { return s->hdr ? s->hdr[off] : 0; }

int tersa_schunk_get_info(const tersa_schunk *s, tersa_schunk_info *info)
{
    if (!s || !info || info->struct_size < sizeof *info)
        return tersa__fail(TERSA_ERR_PARAM, "schunk_get_info: NULL argument or struct_size too small");
    memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
    info->storage = s->storage;
    uint8_t gf = s->dirty ? tersa__frame_general_flags(s) : (uint8_t)hdr_byte(s, TF_GENERAL_FLAGS);
    info->frame_version = gf & 0x0f;
    info->nchunks = s->nchunks;
    info->nbytes = s->nbytes;
    info->cbytes = s->cbytes - s->mem_dead;
    info->frame_len = s->frame_len;
    info->typesize = s->typesize;
    info->blocksize = s->blocksize;
    info->chunksize = s->chunksize;
    info->codec = tersa_schunk_codec(s);
    info->codec_meta = hdr_byte(s, TF_CODEC_META);
    info->clevel = tersa_schunk_clevel(s);
    info->splitmode = (hdr_byte(s, TF_OTHER_FLAGS) & 3) + 1;
    info->use_dict = hdr_byte(s, TF_OTHER_FLAGS2) & 1;
    tersa_schunk_filters(s, info->filters, info->filters_meta);
    info->nmetalayers = s->nmeta;
    info->nvlmetalayers = s->nvlmeta;
    info->vlblocks = (gf & TF_GF_VLBLOCKS) != 0;
    return 0;
}

#define TF_NULL_GUARD(s)                                                                       \
    do {                                                                                       \
        if (!(s)) return tersa__fail(TERSA_ERR_PARAM, "schunk: NULL schunk");                  \
    } while (0)

int64_t tersa_schunk_nchunks(const tersa_schunk *s) { TF_NULL_GUARD(s); return s->nchunks; }
int64_t tersa_schunk_nbytes(const tersa_schunk *s) { TF_NULL_GUARD(s); return s->nbytes; }
int64_t tersa_schunk_cbytes(const tersa_schunk *s)
{
    TF_NULL_GUARD(s);
    return s->cbytes - s->mem_dead; /* memory frames: as serialised (compacted) */
}
int32_t tersa_schunk_typesize(const tersa_schunk *s) { TF_NULL_GUARD(s); return s->typesize; }
int32_t tersa_schunk_chunksize(const tersa_schunk *s) { TF_NULL_GUARD(s); return s->chunksize; }

int tersa_schunk_codec(const tersa_schunk *s)
{
    TF_NULL_GUARD(s);
    int code = hdr_byte(s, TF_CODEC_FLAGS) & 0x0f;
    return code == 6 ? hdr_byte(s, TF_UDCODEC) : code;
}

int tersa_schunk_clevel(const tersa_schunk *s)
{
    TF_NULL_GUARD(s);
    return hdr_byte(s, TF_CODEC_FLAGS) >> 4;
}

int tersa_schunk_filters(const tersa_schunk *s, uint8_t filters[TERSA_MAX_FILTERS],
                         uint8_t filters_meta[TERSA_MAX_FILTERS])
{
    TF_NULL_GUARD(s);
    int n = hdr_byte(s, TF_NFILTERS);
    for (int i = 0; i < TERSA_MAX_FILTERS; i++) {
        if (filters) filters[i] = i < n ? s->hdr[TF_FILTERS + i] : 0;
        if (filters_meta) filters_meta[i] = i < n ? s->hdr[TF_FILTERS_META + i] : 0;
    }
    return 0;
}

tersa_dctx *tersa_schunk_dctx(tersa_schunk *s) { return s ? s->dctx : NULL; }
tersa_cctx *tersa_schunk_cctx(tersa_schunk *s) { return s ? s->cctx : NULL; }

/* ---- Chunk access --------------------------------------------------------------------- */

static int check_index(const tersa_schunk *s, int64_t i)
{
    if (!s) return tersa__fail(TERSA_ERR_PARAM, "schunk: NULL schunk");
    if (i < 0 || i >= s->nchunks)
        return tersa__fail(TERSA_ERR_RANGE, "schunk: chunk %" PRId64 " does not exist (%" PRId64
                           " chunks)", i, s->nchunks);
    return 0;
}

int tersa__schunk_special_nbytes(const tersa_schunk *s, int64_t i, int32_t *nbytes)
{
    if (s->chunksize <= 0)
        return tersa__fail(TERSA_ERR_UNSUPPORTED, "frame: chunk %" PRId64 " is a special-value "
                           "offset code in a variable-size frame; its size is unknown", i);
    int64_t last = s->nbytes % s->chunksize;
    *nbytes = (i == s->nchunks - 1 && last) ? (int32_t)last : s->chunksize;
    return 0;
}

/* Rebuild the special chunk an offsets entry codes. */
static int special_chunk(tersa_schunk *s, int64_t i, const uint8_t **p, int32_t *cbytes)
{
    uint64_t e = (uint64_t)s->offsets[i];
    int code = (int)((e >> 56) & 0x7f);
    int32_t nbytes = 0;
    if ((e & 0x00ffffffffffffffULL) != 0 || (code != 1 && code != 2 && code != 4))
        return tersa__fail(TERSA_ERR_CORRUPT, "frame offsets entry %" PRId64 ": %016" PRIX64
                           " is not a special code (0x80 | 1, 2 or 4 in byte 7)", i, e);
    TERSA_TRY(tersa__schunk_special_nbytes(s, i, &nbytes));
    int kind = code == 1 ? TERSA_SPECIAL_ZEROS : code == 2 ? TERSA_SPECIAL_NAN : TERSA_SPECIAL_UNINIT;
    int32_t ts = s->typesize > 255 ? 1 : s->typesize;
    /* The frame's blocksize, as C-Blosc2 rebuilds it (b2nd readers check the block count). */
    int32_t bs = s->blocksize > 0 && s->blocksize <= nbytes ? s->blocksize : nbytes;
    int64_t n = tersa__special_write(kind, ts, nbytes, bs, NULL, 0, s->special, sizeof s->special);
    if (n < 0) return tersa__fail_prefix((int)n, "frame chunk %" PRId64, i);
    *p = s->special;
    *cbytes = (int32_t)n;
    return 0;
}

/* Check a stored chunk's header and extent: entry is its offset in the chunk area. */
static int check_stored(int64_t i, const uint8_t *p, size_t avail,
                        int32_t *cbytes)
{
    tersa_chunk_info info;
    info.struct_size = sizeof info;
    int rc = tersa_chunk_inspect(p, avail < TF_CHUNK_HDR ? avail : TF_CHUNK_HDR, &info);
    if (rc < 0) return tersa__fail_prefix(rc, "frame chunk %" PRId64, i);
    if (info.cbytes < TF_CHUNK_HDR || (size_t)info.cbytes > avail)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame chunk %" PRId64 ": cbytes %" PRId32
                           " is below 32 or runs past the stored data (%zu bytes left)", i,
                           info.cbytes, avail);
    *cbytes = info.cbytes;
    return 0;
}

static int grow_scratch(tersa_schunk *s, size_t n)
{
    if (n <= s->scratchcap) return 0;
    uint8_t *p = tersa__realloc(s->scratch, n);
    if (!p) return tersa__fail(TERSA_ERR_NOMEM, "frame: no memory for a %zu-byte chunk", n);
    s->scratch = p;
    s->scratchcap = n;
    return 0;
}

static int file_chunk(tersa_schunk *s, int64_t i, int64_t off, const uint8_t **p, int32_t *cbytes)
{
    int64_t pos = s->foffset + s->header_len + off;
    size_t avail = (size_t)(s->cbytes - off);
    TERSA_TRY(grow_scratch(s, TF_CHUNK_HDR));
    TERSA_TRY(tersa__io_pread(s->fd, pos, s->scratch, TF_CHUNK_HDR, "frame chunk header"));
    TERSA_TRY(check_stored(i, s->scratch, avail, cbytes));
    TERSA_TRY(grow_scratch(s, (size_t)*cbytes));
    TERSA_TRY(tersa__io_pread(s->fd, pos + TF_CHUNK_HDR, s->scratch + TF_CHUNK_HDR,
                              (size_t)*cbytes - TF_CHUNK_HDR, "frame chunk"));
    s->io_read += *cbytes;
    *p = s->scratch;
    return 0;
}

static int sparse_chunk(tersa_schunk *s, int64_t i, int64_t id, const uint8_t **p,
                        int32_t *cbytes)
{
    size_t len = 0;
    char *path = tersa__io_chunk_path(s->path, id);
    if (!path) return TERSA_ERR_NOMEM;
    int rc = tersa__io_read_chunk_file(path, &s->scratch, &s->scratchcap, &len);
    tersa__free(path);
    TERSA_TRY(rc);
    TERSA_TRY(check_stored(i, s->scratch, len, cbytes));
    *p = s->scratch;
    return 0;
}

int tersa__schunk_chunk_ref(tersa_schunk *s, int64_t i, const uint8_t **p, int32_t *cbytes)
{
    TERSA_TRY(check_index(s, i));
    int64_t off = s->offsets[i];
    if (off < 0) return special_chunk(s, i, p, cbytes);
    if (s->storage == TERSA_STORAGE_SPARSE) return sparse_chunk(s, i, off, p, cbytes);
    if (off > s->cbytes - TF_CHUNK_HDR)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame offsets entry %" PRId64 ": offset %" PRId64
                           " leaves no room for a chunk in %" PRId64 " bytes", i, off, s->cbytes);
    if (s->storage == TERSA_STORAGE_FILE) return file_chunk(s, i, off, p, cbytes);
    TERSA_TRY(check_stored(i, s->view + off, (size_t)(s->cbytes - off), cbytes));
    *p = s->view + off;
    return 0;
}

int tersa_schunk_chunk_sizes(tersa_schunk *s, int64_t nchunk, int32_t *nbytes, int32_t *cbytes)
{
    const uint8_t *p = NULL;
    int32_t cb = 0;
    tersa_chunk_info info;
    TERSA_TRY(tersa__schunk_chunk_ref(s, nchunk, &p, &cb));
    info.struct_size = sizeof info;
    TERSA_TRY(tersa_chunk_inspect(p, (size_t)cb, &info));
    if (nbytes) *nbytes = info.nbytes;
    if (cbytes) *cbytes = cb;
    return 0;
}

int64_t tersa_schunk_get_chunk(tersa_schunk *s, int64_t nchunk, void *dst, size_t dstcap)
{
    const uint8_t *p = NULL;
    int32_t cb = 0;
    TERSA_TRY(tersa__schunk_chunk_ref(s, nchunk, &p, &cb));
    if (!dst) return cb;
    if (dstcap < (size_t)cb)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL, "schunk_get_chunk: chunk %" PRId64
                           " has %" PRId32 " bytes, buffer %zu", nchunk, cb, dstcap);
    memcpy(dst, p, (size_t)cb);
    return cb;
}

int64_t tersa_schunk_decompress_chunk(tersa_schunk *s, int64_t nchunk, void *dst, size_t dstcap)
{
    const uint8_t *p = NULL;
    int32_t cb = 0;
    TERSA_TRY(tersa__schunk_chunk_ref(s, nchunk, &p, &cb));
    int64_t n = tersa_decompress(s->dctx, p, (size_t)cb, dst, dstcap);
    if (n < 0) return tersa__fail_prefix((int)n, "frame chunk %" PRId64, nchunk);
    return n;
}

/* ---- Metalayers ----------------------------------------------------------------------- */

static int find_meta(const tersa__meta *m, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(m[i].name, name) == 0) return i;
    return tersa__fail(TERSA_ERR_NOT_FOUND, "schunk: no metalayer named '%s'", name ? name : "(null)");
}

int tersa_schunk_meta_count(const tersa_schunk *s) { TF_NULL_GUARD(s); return s->nmeta; }
int tersa_schunk_vlmeta_count(const tersa_schunk *s) { TF_NULL_GUARD(s); return s->nvlmeta; }

const char *tersa_schunk_meta_name(const tersa_schunk *s, int i)
{
    return s && i >= 0 && i < s->nmeta ? s->meta[i].name : NULL;
}

const char *tersa_schunk_vlmeta_name(const tersa_schunk *s, int i)
{
    return s && i >= 0 && i < s->nvlmeta ? s->vlmeta[i].name : NULL;
}

int tersa_schunk_meta_get(const tersa_schunk *s, const char *name, const uint8_t **content,
                          size_t *len)
{
    TF_NULL_GUARD(s);
    int i = find_meta(s->meta, s->nmeta, name);
    if (i < 0) return i;
    if (content) *content = s->meta[i].content;
    if (len) *len = (size_t)s->meta[i].len;
    return i;
}

int64_t tersa_schunk_vlmeta_get(tersa_schunk *s, const char *name, void *dst, size_t dstcap)
{
    TF_NULL_GUARD(s);
    int i = find_meta(s->vlmeta, s->nvlmeta, name);
    if (i < 0) return i;
    const tersa__meta *m = &s->vlmeta[i];
    tersa_chunk_info info;
    info.struct_size = sizeof info;
    int rc = tersa_chunk_inspect(m->content, (size_t)m->len, &info);
    if (rc < 0) return tersa__fail_prefix(rc, "vlmetalayer '%s'", name);
    if (info.cbytes != m->len)
        return tersa__fail(TERSA_ERR_CORRUPT, "vlmetalayer '%s': chunk cbytes %" PRId32
                           " differs from the stored length %" PRId32, name, info.cbytes, m->len);
    if (!dst) return info.nbytes;
    if (dstcap < (size_t)info.nbytes)
        return tersa__fail(TERSA_ERR_DST_TOO_SMALL, "vlmetalayer '%s': %" PRId32
                           " bytes, buffer %zu", name, info.nbytes, dstcap);
    int64_t n = tersa_decompress(s->dctx, m->content, (size_t)m->len, dst, dstcap);
    if (n < 0) return tersa__fail_prefix((int)n, "vlmetalayer '%s'", name);
    return n;
}

/* Frame header and trailer: validation, parsing and emission of the exact byte layout C-Blosc2
 * writes (FORMATS.md §3.1, §3.3). */
#include <inttypes.h>
#include <stdio.h>

#include "frame/tersa_frame_internal.h"

static const uint8_t tf_magic[8] = {'b', '2', 'f', 'r', 'a', 'm', 'e', 0};

/* The msgpack markers every header has at fixed offsets. */
static const struct {
    uint8_t off, marker;
    const char *field;
} tf_markers[] = {
    {0x00, 0x9e, "fixarray 14"},       {0x01, 0xa8, "fixstr 8 (magic)"},
    {0x0a, 0xd2, "int32 header_len"},  {0x0f, 0xcf, "uint64 frame_len"},
    {0x18, 0xa4, "fixstr 4 (flags)"},  {0x1d, 0xd3, "int64 nbytes"},
    {0x26, 0xd3, "int64 cbytes"},      {0x2f, 0xd2, "int32 typesize"},
    {0x34, 0xd2, "int32 blocksize"},   {0x39, 0xd2, "int32 chunksize"},
    {0x3e, 0xd1, "int16 compression threads"}, {0x41, 0xd1, "int16 decompression threads"},
    {0x45, 0xd8, "fixext 16 (filter pipeline)"},
};

static int check_markers(const uint8_t *h)
{
    for (size_t i = 0; i < sizeof tf_markers / sizeof tf_markers[0]; i++) {
        if (h[tf_markers[i].off] != tf_markers[i].marker)
            return tersa__fail(TERSA_ERR_CORRUPT,
                               "frame header byte 0x%02X: expected marker %02X (%s), found %02X",
                               tf_markers[i].off, tf_markers[i].marker, tf_markers[i].field,
                               h[tf_markers[i].off]);
    }
    if (memcmp(h + TF_MAGIC, tf_magic, sizeof tf_magic) != 0)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header bytes 0x02-0x09: magic is not b2frame\\0");
    if (h[TF_HAS_VLMETA] != TERSA_MP_TRUE && h[TF_HAS_VLMETA] != TERSA_MP_FALSE)
        return tersa__fail(TERSA_ERR_CORRUPT,
                           "frame header byte 0x44: expected bool marker C2/C3 (has vlmetalayers), "
                           "found %02X", h[TF_HAS_VLMETA]);
    return 0;
}

int tersa__frame_check_fixed(const uint8_t *h, size_t n, int want_type)
{
    if (n < TF_HEADER_MIN)
        return tersa__fail(TERSA_ERR_TRUNCATED, "frame: %zu bytes, a frame header needs 87", n);
    TERSA_TRY(check_markers(h));
    int32_t header_len = (int32_t)tersa__ld32be(h + TF_HEADER_LEN);
    if (header_len < TF_HEADER_MIN)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header byte 0x0B: header_len %" PRId32
                           " is below the minimum 87", header_len);
    uint8_t gf = h[TF_GENERAL_FLAGS];
    if ((gf & 0x0f) < 1 || (gf & 0x0f) > 3)
        return tersa__fail(TERSA_ERR_VERSION, "frame header byte 0x19: frame format version %d "
                           "(supported: 1 to 3)", gf & 0x0f);
    if (((gf >> 4) & 3) != 1)
        return tersa__fail(TERSA_ERR_UNSUPPORTED, "frame header byte 0x19: offset width code %d "
                           "(only 1 = 64-bit exists)", (gf >> 4) & 3);
    if (h[TF_FRAME_TYPE] != want_type)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header byte 0x1A: frame_type %d, expected %d "
                           "(%s)", h[TF_FRAME_TYPE], want_type,
                           want_type ? "sparse index" : "contiguous");
    if (h[TF_NFILTERS] > TERSA_MAX_FILTERS)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header byte 0x46: %d filters (at most 6)",
                           h[TF_NFILTERS]);
    return 0;
}

/* The scalar fields after the fixed checks. */
static int parse_sizes(tersa_schunk *s, const uint8_t *h)
{
    uint64_t flen = tersa__ld64be(h + TF_FRAME_LEN);
    s->nbytes = (int64_t)tersa__ld64be(h + TF_NBYTES);
    s->cbytes = (int64_t)tersa__ld64be(h + TF_CBYTES);
    s->typesize = (int32_t)tersa__ld32be(h + TF_TYPESIZE);
    s->blocksize = (int32_t)tersa__ld32be(h + TF_BLOCKSIZE);
    s->chunksize = (int32_t)tersa__ld32be(h + TF_CHUNKSIZE);
    if (flen > (uint64_t)INT64_MAX)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header byte 0x10: frame_len %" PRIu64
                           " is too large", flen);
    s->frame_len = (int64_t)flen;
    if (s->frame_len < s->header_len)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header: frame_len %" PRId64
                           " is smaller than header_len %" PRId32, s->frame_len, s->header_len);
    if (s->nbytes < 0 || s->cbytes < 0)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header bytes 0x1E/0x27: negative nbytes %"
                           PRId64 " or cbytes %" PRId64, s->nbytes, s->cbytes);
    if (s->typesize <= 0)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header byte 0x30: typesize %" PRId32
                           " must be positive", s->typesize);
    if (s->blocksize < 0)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header byte 0x35: negative blocksize %" PRId32,
                           s->blocksize);
    if (s->nbytes > 0 && s->chunksize < 0)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame header byte 0x3A: chunksize %" PRId32
                           " with %" PRId64 " bytes of data", s->chunksize, s->nbytes);
    return 0;
}

void tersa__meta_clear(tersa__meta *m)
{
    tersa__free(m->content);
    memset(m, 0, sizeof *m);
}

/* Read one index entry "fixstr name, int offset" of a (vl)metalayer map. */
static int read_meta_entry(tersa__mp_reader *r, tersa__meta *m, int64_t *offset)
{
    const uint8_t *name = NULL;
    uint32_t n = 0;
    TERSA_TRY(tersa__mp_read_str(r, &name, &n, "metalayer name"));
    if (n == 0 || n > TERSA_METALAYER_NAME_MAX)
        return tersa__fail(TERSA_ERR_CORRUPT, "%s: metalayer name at offset %zu has %" PRIu32
                           " bytes (1 to 31 allowed)", r->where, tersa__mp_pos(r) - n, n);
    memcpy(m->name, name, n);
    m->name[n] = '\0';
    return tersa__mp_read_int(r, offset, "metalayer offset");
}

/* Fetch the bin32 value a metalayer offset points at, inside buf[0..len). */
static int read_meta_value(const char *where, const uint8_t *buf, size_t len, int64_t off,
                           tersa__meta *m)
{
    if (off < 0 || (uint64_t)off + 5 > len || buf[off] != TERSA_MP_BIN32)
        return tersa__fail(TERSA_ERR_CORRUPT, "%s: metalayer '%s' offset %" PRId64
                           " does not point at a bin32 (C6) value inside %zu bytes", where, m->name,
                           off, len);
    uint32_t n = tersa__ld32be(buf + off + 1);
    if (n > INT32_MAX || (uint64_t)off + 5 + n > len)
        return tersa__fail(TERSA_ERR_CORRUPT, "%s: metalayer '%s' at offset %" PRId64 ": %" PRIu32
                           " content bytes run past the end (%zu)", where, m->name, off, n, len);
    m->content = tersa__malloc(n ? n : 1);
    if (!m->content) return tersa__fail(TERSA_ERR_NOMEM, "%s: no memory for metalayer", where);
    memcpy(m->content, buf + off + 5, n);
    m->len = (int32_t)n;
    m->pos = (int32_t)off;
    return 0;
}

/* The "93 | size | map{name: offset} | array of bin32" section shared by header and trailer.
 * Offsets are relative to base (the header start, or the trailer start). */
static int parse_meta_section(tersa__mp_reader *r, const uint8_t *base, size_t len, int max,
                              tersa__meta **out, int *count, int *cap)
{
    uint32_t n3 = 0, nmeta = 0;
    int64_t idx_size = 0;
    TERSA_TRY(tersa__mp_read_array(r, &n3, "metalayer section"));
    if (n3 != 3)
        return tersa__fail(TERSA_ERR_CORRUPT, "%s: metalayer section is an array of %" PRIu32
                           ", expected 3", r->where, n3);
    TERSA_TRY(tersa__mp_read_int(r, &idx_size, "metalayer index size"));
    TERSA_TRY(tersa__mp_read_map(r, &nmeta, "metalayer map"));
    if (nmeta > (uint32_t)max)
        return tersa__fail(TERSA_ERR_CORRUPT, "%s: %" PRIu32 " metalayers (at most %d)", r->where,
                           nmeta, max);
    if (cap && (int)nmeta > *cap) {
        tersa__meta *p = tersa__calloc(nmeta, sizeof *p);
        if (!p) return tersa__fail(TERSA_ERR_NOMEM, "%s: no memory for metalayers", r->where);
        tersa__free(*out);
        *out = p;
        *cap = (int)nmeta;
    }
    for (uint32_t i = 0; i < nmeta; i++) {
        int64_t off = 0;
        tersa__meta *m = &(*out)[i];
        TERSA_TRY(read_meta_entry(r, m, &off));
        TERSA_TRY(read_meta_value(r->where, base, len, off, m));
        *count = (int)i + 1;
    }
    return 0;
}

int tersa__frame_parse_header(tersa_schunk *s, const uint8_t *h, int32_t header_len)
{
    tersa__meta *metas = s->meta;
    tersa__mp_reader r;
    s->header_len = header_len;
    TERSA_TRY(parse_sizes(s, h));
    if (header_len == TF_HEADER_MIN) return 0; /* no metalayer section (tolerated) */
    tersa__mp_reader_init(&r, h, (size_t)header_len, "frame header");
    TERSA_TRY(tersa__mp_seek(&r, TF_HEADER_MIN, "metalayers"));
    return parse_meta_section(&r, h, (size_t)header_len, TERSA_MAX_METALAYERS, &metas, &s->nmeta,
                              NULL);
}

int tersa__frame_parse_tail(const uint8_t tail[TF_TRAILER_TAIL], int64_t frame_len,
                            int32_t header_len, uint32_t *trailer_len)
{
    if (tail[0] != TERSA_MP_UINT32)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame trailer byte frame_len-23 (%" PRId64
                           "): expected marker CE (uint32 trailer_len), found %02X",
                           frame_len - TF_TRAILER_TAIL, tail[0]);
    if (tail[5] != TERSA_MP_FIXEXT16)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame trailer byte frame_len-18 (%" PRId64
                           "): expected marker D8 (fingerprint), found %02X",
                           frame_len - 18, tail[5]);
    uint32_t tl = tersa__ld32be(tail + 1);
    if (tl < TF_TRAILER_MIN || (int64_t)tl > frame_len - header_len)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame trailer: trailer_len %" PRIu32
                           " is outside [25, frame_len - header_len = %" PRId64 "]", tl,
                           frame_len - header_len);
    *trailer_len = tl;
    return 0;
}

int tersa__frame_parse_trailer(tersa_schunk *s, const uint8_t *t, uint32_t len)
{
    tersa__mp_reader r;
    uint32_t n = 0;
    int64_t version = 0;
    tersa__mp_reader_init(&r, t, len, "frame trailer");
    TERSA_TRY(tersa__mp_read_array(&r, &n, "trailer"));
    if (n != 4)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame trailer: array of %" PRIu32
                           " elements, expected 4", n);
    TERSA_TRY(tersa__mp_read_int(&r, &version, "trailer version"));
    if (version < 0 || version > 1)
        return tersa__fail(TERSA_ERR_VERSION, "frame trailer: version %" PRId64
                           " (supported: 0 and 1)", version);
    return parse_meta_section(&r, t, len, TF_MAX_VLMETA_READ, &s->vlmeta, &s->nvlmeta,
                              &s->vlcap);
}

/* ---- Emission ------------------------------------------------------------------------- */

static int64_t cget(const tersa_cctx *c, tersa_param p)
{
    int64_t v = 0;
    tersa_cctx_get(c, p, &v);
    return v;
}

/* general_flags as C-Blosc2 computes them (new_header_frame). */
uint8_t tersa__frame_general_flags(const tersa_schunk *s)
{
    bool vl = s->hdr && (s->hdr[TF_GENERAL_FLAGS] & TF_GF_VLBLOCKS);
    uint8_t gf = (uint8_t)((s->chunksize == 0 || vl) ? 3 : 2);
    gf |= 0x10;
    if (s->chunksize == 0) gf |= TF_GF_VARIABLE;
    if (vl) gf |= TF_GF_VLBLOCKS;
    return gf;
}

/* The fixed 87 bytes of a new header. */
static void emit_fixed(tersa_schunk *s, tersa__buf *b, int frame_type)
{
    const tersa_cctx *c = s->cctx;
    int codec = (int)cget(c, TERSA_P_CODEC);
    uint8_t ext[16] = {0};
    tersa__buf_u8(b, 0x9e);
    tersa__buf_u8(b, 0xa8);
    tersa__buf_put(b, tf_magic, 8);
    tersa__mp_w_i32(b, 0); /* header_len, patched */
    tersa__mp_w_u64(b, 0); /* frame_len, patched */
    tersa__buf_u8(b, 0xa4);
    tersa__buf_u8(b, 0x12); /* general flags, patched */
    tersa__buf_u8(b, (uint8_t)frame_type);
    tersa__buf_u8(b, (uint8_t)((codec < 6 ? codec : 6) | (cget(c, TERSA_P_CLEVEL) << 4)));
    tersa__buf_u8(b, (uint8_t)(cget(c, TERSA_P_SPLITMODE) - 1));
    tersa__mp_w_i64(b, 0);
    tersa__mp_w_i64(b, 0);
    tersa__mp_w_i32(b, s->typesize);
    tersa__mp_w_i32(b, (int32_t)cget(c, TERSA_P_BLOCKSIZE));
    tersa__mp_w_i32(b, -1);
    tersa__mp_w_i16(b, (int16_t)cget(c, TERSA_P_NTHREADS));
    int64_t dthreads = 1;
    tersa_dctx_get(s->dctx, TERSA_P_NTHREADS, &dthreads);
    tersa__mp_w_i16(b, (int16_t)dthreads);
    tersa__mp_w_bool(b, false);
    for (int i = 0; i < TERSA_MAX_FILTERS; i++) {
        ext[i] = (uint8_t)cget(c, (tersa_param)(TERSA_P_FILTER0 + i));
        ext[8 + i] = (uint8_t)cget(c, (tersa_param)(TERSA_P_FILTER_META0 + i));
    }
    ext[6] = (uint8_t)codec;
    ext[7] = (uint8_t)cget(c, TERSA_P_CODEC_META);
    ext[14] = cget(c, TERSA_P_USE_DICT) ? 1 : 0;
    tersa__mp_w_fixext16(b, TERSA_MAX_FILTERS, ext);
}

/* "93 CD size DE n {name D2 offset}* DC n {C6 len content}*"; offsets relative to base_pos
 * (header: 0; trailer: the trailer start, i.e. the buffer start); size_from: where the
 * index size is measured from (header: the 93 marker; trailer: the CD marker). */
static void emit_meta_section(tersa__buf *b, tersa__meta *m, int n, size_t size_from_rel)
{
    size_t start = b->len;
    tersa__buf_u8(b, 0x93);
    tersa__mp_w_u16(b, 0);
    tersa__mp_w_map16(b, (uint16_t)n);
    size_t *fix = tersa__calloc((size_t)n + 1, sizeof *fix);
    if (!fix) {
        b->err = b->err ? b->err : tersa__fail(TERSA_ERR_NOMEM, "frame: no memory");
        return;
    }
    for (int i = 0; i < n; i++) {
        tersa__mp_w_str(b, m[i].name, (uint32_t)strlen(m[i].name));
        fix[i] = b->len + 1;
        tersa__mp_w_i32(b, 0);
    }
    if (!b->err) tersa__st16be(b->p + start + 2, (uint16_t)(b->len - start - size_from_rel));
    tersa__mp_w_array16(b, (uint16_t)n);
    for (int i = 0; i < n; i++) {
        if (!b->err) tersa__st32be(b->p + fix[i], (uint32_t)b->len);
        m[i].pos = (int32_t)b->len;
        tersa__mp_w_bin32(b, m[i].content, (uint32_t)m[i].len);
    }
    tersa__free(fix);
}

int tersa__frame_build_header(tersa_schunk *s, int frame_type)
{
    tersa__buf b;
    tersa__buf_init(&b);
    emit_fixed(s, &b, frame_type);
    emit_meta_section(&b, s->meta, s->nmeta, 0);
    if (b.err || b.len > INT32_MAX) {
        int err = b.err;
        size_t len = b.len;
        tersa__buf_free(&b);
        return err ? err : tersa__fail(TERSA_ERR_TOO_LARGE, "frame: header of %zu bytes", len);
    }
    tersa__free(s->hdr);
    s->hdr = b.p;
    s->header_len = (int32_t)b.len;
    tersa__st32be(s->hdr + TF_HEADER_LEN, (uint32_t)s->header_len);
    return 0;
}

void tersa__frame_sync_header(tersa_schunk *s)
{
    uint8_t *h = s->hdr;
    if (s->dirty) h[TF_GENERAL_FLAGS] = tersa__frame_general_flags(s);
    tersa__st64be(h + TF_FRAME_LEN, (uint64_t)s->frame_len);
    tersa__st64be(h + TF_NBYTES, (uint64_t)s->nbytes);
    tersa__st64be(h + TF_CBYTES, (uint64_t)s->cbytes);
    tersa__st32be(h + TF_CHUNKSIZE, (uint32_t)s->chunksize);
    h[TF_HAS_VLMETA] = s->nvlmeta > 0 ? TERSA_MP_TRUE : TERSA_MP_FALSE;
}

int tersa__frame_build_trailer(tersa_schunk *s, tersa__buf *b)
{
    static const uint8_t zeros[16] = {0};
    tersa__buf t; /* offsets inside the trailer are relative to its start */
    if (s->nvlmeta > TERSA_MAX_METALAYERS)
        return tersa__fail(TERSA_ERR_TOO_LARGE, "frame: %d vlmetalayers (C-Blosc2 writes at most "
                           "16)", s->nvlmeta);
    tersa__buf_init(&t);
    tersa__buf_u8(&t, 0x94);
    tersa__buf_u8(&t, 0x01); /* trailer version */
    emit_meta_section(&t, s->vlmeta, s->nvlmeta, 1);
    tersa__mp_w_u32(&t, (uint32_t)(t.len + TF_TRAILER_TAIL));
    tersa__mp_w_fixext16(&t, 0, zeros);
    if (t.err == 0) tersa__buf_put(b, t.p, t.len);
    else b->err = b->err ? b->err : t.err;
    tersa__buf_free(&t);
    return tersa__buf_status(b);
}

/* Hostile chunk bytes in HDF5 files. For several Blosc2 datasets (plain and b2nd frames, blosclz,
 * lz4, zstd, shuffle, bitshuffle, delta, Fletcher32, a compound type, chunks read lazily and
 * memcpyed chunks) one stored chunk, the victim, is replaced with H5Dwrite_chunk by mutants of
 * its bytes: bit flips (anywhere, in the frame header, in the trailer), little- and big-endian
 * overwrites with edge values (header fields, block offsets), byte runs, truncations and
 * extensions. After each, tersa's direct path reads the whole dataset, boxes inside the victim
 * and strided selections across it (1 or 2 threads), and HDF5's pipeline reads the same through
 * tersa's filter. Every call must return; a direct-path error names file, dataset and victim
 * chunk; a pipeline error carries the filter's message; with Fletcher32 a success returns the
 * right data; elements outside the victim are always right, and selections of the other chunks
 * always succeed. The campaign runs on the sec2 driver (pread, partial reads) and the core
 * driver (H5Dread_chunk). Last, datasets whose filter 32026 has hostile cd_values are read and
 * written by tersa and by HDF5 through the filter. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

#include "h5/tersa_h5_internal.h" /* tersa__h5_fletcher32 */
#include "th_h5.h"

#define MUT_SEED 0x7e25a2026ull
#define MUT_SEC2 330    /* mutants per dataset on the sec2 driver */
#define MUT_CORE 110    /* and on the core driver */
#define MUT_EXTRA 512   /* bytes a mutant may grow by */
#define MUT_CANARY 64   /* guard bytes after every read buffer */
#define MUT_HEAD 200    /* frame header, metalayers, first chunk header */
#define MUT_TAIL 96     /* offsets index and trailer */
#define MUT_FILTER_MSG "blosc2 filter (tersa): "

enum { T_I32, T_F32, T_U16, T_I64, T_CMP, T_U32, T_U8 };
enum { D_SMOOTH, D_NOISY16, D_RANDOM, D_HALF };

typedef struct mspec {
    const char *name;
    int rank;
    int64_t shape[3], chunk[3];
    int type, codec, filter, clevel, blocksize, fletcher, data;
} mspec;

/* The datasets under mutation. Chunks hold 5..16 blocks; the victim is chunk (1, 0, ...). */
static const mspec mspecs[] = {
    {"/i32", 1, {20480}, {4096}, T_I32, TERSA_CODEC_BLOSCLZ, 1, 5, 1024, 0, D_SMOOTH},
    {"/f32", 3, {8, 40, 48}, {2, 20, 24}, T_F32, TERSA_CODEC_LZ4, 1, 5, 256, 0, D_SMOOTH},
    {"/u16", 2, {96, 100}, {32, 64}, T_U16, TERSA_CODEC_ZSTD, 2, 3, 512, 0, D_SMOOTH},
    {"/fl", 2, {64, 64}, {32, 32}, T_I64, TERSA_CODEC_ZSTD, 1, 3, 1024, 1, D_SMOOTH},
    {"/cmp", 1, {2400}, {600}, T_CMP, TERSA_CODEC_LZ4, 1, 5, 900, 0, D_SMOOTH},
    {"/lazy", 2, {192, 1024}, {64, 1024}, T_U32, TERSA_CODEC_LZ4, 1, 1, 16384, 0, D_NOISY16},
    {"/delta", 1, {98304}, {32768}, T_U32, TERSA_CODEC_LZ4, 3, 5, 8192, 0, D_HALF},
    {"/memcpy", 1, {245760}, {81920}, T_U8, TERSA_CODEC_BLOSCLZ, 0, 5, 8192, 0, D_RANDOM},
    {"/flz", 2, {96, 48}, {32, 48}, T_F32, TERSA_CODEC_LZ4, 2, 5, 768, 1, D_SMOOTH},
};
#define NSETS (sizeof mspecs / sizeof mspecs[0])

typedef struct mset {
    const mspec *sp;
    int rank;
    int64_t item;
    uint8_t *src; /* the data, C order */
    uint8_t *inv; /* per element: 1 inside the victim chunk */
    size_t nbytes;
    hid_t dset;
    hsize_t off[3]; /* the victim's first element */
    uint8_t *orig;  /* its stored bytes */
    size_t olen;
    char where[48]; /* "chunk [1, 0]" as error details name it */
} mset;

typedef struct tally {
    long tried, rejected;               /* mutants, and those H5Dwrite_chunk refused */
    long errors, same, differ;          /* direct-path reads touching the victim */
    long h5_errors, h5_same, h5_differ; /* pipeline reads touching the victim */
    long others;                        /* reads of other chunks (all must succeed) */
} tally;

typedef struct ctx {
    const char *fname; /* file name the error details must hold */
    int threads;       /* 1 or 2, alternating */
    bool exact;        /* the mutant fails Fletcher32: any successful read must be right */
    bool forged;       /* the mutant's Fletcher32 was recomputed: the filter sees it */
    tally t;
} ctx;

/* ---- Types and data --------------------------------------------------------------------- */

static hid_t make_type(int kind)
{
    switch (kind) {
    case T_I32: return H5Tcopy(H5T_STD_I32LE);
    case T_F32: return H5Tcopy(H5T_IEEE_F32LE);
    case T_U16: return H5Tcopy(H5T_STD_U16LE);
    case T_I64: return H5Tcopy(H5T_STD_I64LE);
    case T_U32: return H5Tcopy(H5T_STD_U32LE);
    case T_U8: return H5Tcopy(H5T_STD_U8LE);
    default: break;
    }
    hid_t s3 = H5Tcopy(H5T_C_S1), t = H5Tcreate(H5T_COMPOUND, 15);
    H5Tset_size(s3, 3);
    H5Tinsert(t, "a", 0, H5T_STD_I32LE);
    H5Tinsert(t, "b", 4, H5T_IEEE_F64LE);
    H5Tinsert(t, "s", 12, s3);
    H5Tclose(s3);
    return t;
}

static void fill_data(const mspec *sp, uint8_t *p, size_t nitems, size_t isz, uint64_t seed)
{
    if (sp->data == D_RANDOM) {
        for (size_t k = 0; k < nitems * isz; k++) p[k] = (uint8_t)(th_rand(&seed) >> 24);
    } else if (sp->data == D_NOISY16 || sp->data == D_HALF) {
        for (size_t k = 0; k < nitems; k++) {
            uint32_t v = (uint32_t)(th_rand(&seed) & (sp->data == D_HALF ? 0xffffffffu : 0xffff));
            if (sp->data == D_HALF && (k / 8) % 2) v = 0;
            memcpy(p + k * isz, &v, 4);
        }
    } else if (sp->type == T_F32) {
        for (size_t k = 0; k < nitems; k++) {
            float v = (float)(k % 1000) * 0.5f + (float)(th_rand(&seed) & 3);
            memcpy(p + k * isz, &v, 4);
        }
    } else {
        th_h5_fill(p, nitems, isz, seed);
    }
}

/* Mark the elements of the victim chunk. */
static void mark_victim(mset *m)
{
    const mspec *sp = m->sp;
    int64_t start[3], count[3], one[3] = {1, 1, 1};
    for (int i = 0; i < m->rank; i++) {
        start[i] = (int64_t)m->off[i];
        count[i] = sp->shape[i] - start[i] < sp->chunk[i] ? sp->shape[i] - start[i] : sp->chunk[i];
    }
    int64_t n = 1;
    for (int i = 0; i < m->rank; i++) n *= count[i];
    uint8_t *ones = malloc((size_t)n);
    memset(ones, 1, (size_t)n);
    th_h5_ref_scatter(m->inv, m->rank, sp->shape, 1, start, count, one, ones);
    free(ones);
}

static tersa_h5dset *create_set(hid_t f, const mspec *sp)
{
    tersa_h5_params p;
    tersa_h5_params_init(&p);
    p.rank = sp->rank;
    p.shape = sp->shape;
    p.chunkshape = sp->chunk;
    p.type = make_type(sp->type);
    p.codec = sp->codec;
    p.filter = sp->filter;
    p.clevel = sp->clevel;
    p.blocksize = sp->blocksize;
    p.fletcher32 = sp->fletcher;
    tersa_h5dset *d = tersa_h5_create(f, sp->name, &p);
    if (!d) TH_FAIL_AT("create %s: %s", sp->name, tersa_error_detail());
    H5Tclose(p.type);
    return d;
}

/* Create, write and reopen one dataset; keep its data. */
static int mset_init(hid_t f, const mspec *sp, mset *m, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->sp = sp;
    m->rank = sp->rank;
    size_t nitems = 1;
    for (int i = 0; i < sp->rank; i++) nitems *= (size_t)sp->shape[i];
    hid_t t = make_type(sp->type);
    m->item = (int64_t)H5Tget_size(t);
    H5Tclose(t);
    m->nbytes = nitems * (size_t)m->item;
    m->src = malloc(m->nbytes);
    m->inv = calloc(1, nitems);
    fill_data(sp, m->src, nitems, (size_t)m->item, seed);
    m->off[0] = (hsize_t)sp->chunk[0];
    mark_victim(m);
    size_t k = (size_t)snprintf(m->where, sizeof m->where, "chunk [1");
    for (int i = 1; i < m->rank; i++)
        k += (size_t)snprintf(m->where + k, sizeof m->where - k, ", 0");
    snprintf(m->where + k, sizeof m->where - k, "]");
    tersa_h5dset *d = create_set(f, sp);
    if (!d) return -1;
    CHECK_OK(tersa_h5_set_nthreads(d, 2));
    CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, m->src, m->nbytes));
    tersa_h5_close(d);
    m->dset = H5Dopen2(f, sp->name, H5P_DEFAULT);
    return m->dset < 0 ? -1 : 0;
}

/* Read the victim's stored bytes. */
static int mset_load_victim(mset *m)
{
    hsize_t size = 0;
    uint32_t mask = 0;
    if (H5Dget_chunk_storage_size(m->dset, m->off, &size) < 0 || size == 0) return -1;
    free(m->orig);
    m->orig = malloc((size_t)size);
    m->olen = (size_t)size;
    if (H5Dread_chunk(m->dset, H5P_DEFAULT, m->off, &mask, m->orig) < 0 || mask != 0) return -1;
    return 0;
}

static void mset_free(mset *m)
{
    if (m->dset >= 0) H5Dclose(m->dset);
    free(m->src);
    free(m->inv);
    free(m->orig);
    memset(m, 0, sizeof *m);
}

/* ---- Mutants ---------------------------------------------------------------------------- */

/* An edge value for a 32-bit field of a stored chunk of n bytes. */
static uint32_t edge32(uint64_t *rng, size_t n)
{
    uint32_t v[] = {0,          1,          2,          4,          16,         32,
                    87,         0xff,       0xffff,     0x10000,    0x7fffffff, 0x80000000u,
                    0xffffffffu, 0xfffffff0u, 0x7ffffff0, (uint32_t)n - 1, (uint32_t)n,
                    (uint32_t)n + 1, (uint32_t)n * 2, (uint32_t)th_rand(rng)};
    return v[th_rand(rng) % (sizeof v / sizeof v[0])];
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

/* Where the first chunk of the frame begins (the header length), or 0 when not plausible. */
static size_t chunk_start(const uint8_t *p, size_t n)
{
    if (n < 0x0f) return 0;
    size_t hl = ((size_t)p[0x0b] << 24) | ((size_t)p[0x0c] << 16) | ((size_t)p[0x0d] << 8) |
                p[0x0e];
    return hl < n ? hl : 0;
}

/* A position in one of the regions that matter: anywhere, the header, the first chunk's header
 * and block offsets, the trailer. */
static size_t pick_pos(uint64_t *rng, const uint8_t *p, size_t n, int region)
{
    size_t lo = 0, hi = n, hl = chunk_start(p, n);
    if (region == 1) hi = n < MUT_HEAD ? n : MUT_HEAD;
    if (region == 2 && hl) {
        lo = hl;
        hi = hl + 32 + 4 * 32 < n ? hl + 32 + 4 * 32 : n;
    }
    if (region == 3 && n > MUT_TAIL) lo = n - MUT_TAIL;
    return lo + (size_t)(th_rand(rng) % (hi - lo));
}

static void flip_bits(uint64_t *rng, uint8_t *p, size_t n, int region, int count)
{
    for (int k = 0; k < count; k++)
        p[pick_pos(rng, p, n, region)] ^= (uint8_t)(1u << (th_rand(rng) & 7));
}

/* An edge value written little-endian (block offsets, chunk header) or big-endian (frame
 * header fields), aligned to 4 bytes from the region's start or not. */
static void overwrite(uint64_t *rng, uint8_t *p, size_t n, int region, bool aligned, bool be)
{
    if (n < 8) return;
    size_t pos = pick_pos(rng, p, n, region), base = region == 2 ? chunk_start(p, n) : 0;
    if (aligned) pos = base + (pos - base) / 4 * 4;
    int bytes = be && (th_rand(rng) & 1) ? 8 : 4;
    if (pos + (size_t)bytes > n) pos = n - (size_t)bytes;
    uint64_t v = edge32(rng, n);
    if (bytes == 8) v = (th_rand(rng) & 1) ? v : (v << 32 | v);
    if (be) put_be(p + pos, v, bytes);
    else for (int i = 0; i < bytes; i++) p[pos + i] = (uint8_t)(v >> (8 * i));
}

static size_t truncate_len(uint64_t *rng, size_t n)
{
    uint64_t r = th_rand(rng) % 4;
    if (r == 0) return (size_t)(th_rand(rng) % 33);
    if (r == 1 && n > 8) return n - 1 - (size_t)(th_rand(rng) % 8);
    return (size_t)(th_rand(rng) % n);
}

/* Fill a mutant of orig (n bytes) into out (n + MUT_EXTRA bytes); returns its length. */
static size_t mutate(uint64_t *rng, const uint8_t *orig, size_t n, uint8_t *out)
{
    memcpy(out, orig, n);
    int region = (int)(th_rand(rng) % 4);
    switch (th_rand(rng) % 11) {
    case 0: flip_bits(rng, out, n, 0, 1); return n;
    case 1: flip_bits(rng, out, n, 1, 1 + (int)(th_rand(rng) % 4)); return n;
    case 2: flip_bits(rng, out, n, region, 1 + (int)(th_rand(rng) % 3)); return n;
    case 3: overwrite(rng, out, n, region, true, false); return n;
    case 4: overwrite(rng, out, n, region, false, false); return n;
    case 5: overwrite(rng, out, n, 2, true, false); return n;
    case 6: overwrite(rng, out, n, 1, false, true); return n;
    case 7: return truncate_len(rng, n);
    case 8: {
        size_t add = 1 + (size_t)(th_rand(rng) % MUT_EXTRA);
        for (size_t k = 0; k < add; k++) out[n + k] = (uint8_t)th_rand(rng);
        if (th_rand(rng) & 1) flip_bits(rng, out, n, 1, 1);
        return n + add;
    }
    case 9: {
        size_t pos = pick_pos(rng, out, n, region), len = 1 + (size_t)(th_rand(rng) % 16);
        memset(out + pos, (th_rand(rng) & 1) ? 0xff : 0, pos + len < n ? len : n - pos);
        return n;
    }
    default:
        overwrite(rng, out, n, 1, true, true);
        overwrite(rng, out, n, 2, true, false);
        return n;
    }
}

/* ---- Selections ------------------------------------------------------------------------- */

typedef struct sel {
    int64_t start[3], count[3], step[3];
} sel;

static sel sel_box(const mset *m, const int64_t *start, const int64_t *count)
{
    sel s;
    for (int i = 0; i < 3; i++) {
        s.start[i] = i < m->rank ? start[i] : 0;
        s.count[i] = i < m->rank ? count[i] : 1;
        s.step[i] = 1;
    }
    return s;
}

static size_t sel_items(const mset *m, const sel *s)
{
    size_t n = 1;
    for (int i = 0; i < m->rank; i++) n *= (size_t)s->count[i];
    return n;
}

/* Selections that touch the victim: all, a small box in it (read lazily when large), the
 * whole victim, a strided box inside it, a strided selection across the dataset. */
static int victim_sels(const mset *m, sel *out)
{
    const int64_t *sh = m->sp->shape, *c = m->sp->chunk;
    int64_t zero[3] = {0, 0, 0}, a[3], n[3], w[3];
    for (int i = 0; i < m->rank; i++) {
        int64_t end = (int64_t)m->off[i] + c[i] < sh[i] ? (int64_t)m->off[i] + c[i] : sh[i];
        w[i] = end - (int64_t)m->off[i];
        a[i] = (int64_t)m->off[i] + w[i] / 4;
        n[i] = w[i] / 5 > 0 ? w[i] / 5 : 1;
    }
    out[0] = sel_box(m, zero, sh);
    out[1] = sel_box(m, a, n);
    for (int i = 0; i < m->rank; i++) a[i] = (int64_t)m->off[i];
    out[2] = sel_box(m, a, w);
    out[3] = out[2];
    for (int i = 0; i < m->rank; i++) {
        out[3].start[i] += w[i] > 2 ? 1 : 0;
        out[3].step[i] = i == m->rank - 1 ? 3 : 2;
        out[3].count[i] = (w[i] - (out[3].start[i] - a[i]) - 1) / out[3].step[i] + 1;
    }
    out[4] = out[0];
    for (int i = 0; i < m->rank; i++) {
        out[4].step[i] = i == 0 ? 3 : 2;
        out[4].count[i] = (sh[i] - 1) / out[4].step[i] + 1;
    }
    return 5;
}

/* Selections of other chunks only: rows before the victim, rows after it, and the victim's
 * rows in the chunk columns right of it. */
static int other_sels(const mset *m, sel *out)
{
    const int64_t *sh = m->sp->shape, *c = m->sp->chunk;
    int64_t a[3] = {0, 0, 0}, n[3];
    int k = 0;
    for (int i = 0; i < m->rank; i++) n[i] = sh[i];
    n[0] = (int64_t)m->off[0];
    out[k++] = sel_box(m, a, n);
    a[0] = (int64_t)m->off[0] + c[0];
    if (a[0] < sh[0]) {
        n[0] = sh[0] - a[0];
        out[k++] = sel_box(m, a, n);
    }
    if (m->rank >= 2 && sh[1] > c[1]) {
        a[0] = (int64_t)m->off[0];
        n[0] = c[0] < sh[0] - a[0] ? c[0] : sh[0] - a[0];
        a[1] = c[1];
        n[1] = sh[1] - c[1];
        out[k++] = sel_box(m, a, n);
    }
    return k;
}

/* ---- Checking reads --------------------------------------------------------------------- */

/* A read buffer of n bytes followed by guard bytes. */
static uint8_t *guarded(size_t n)
{
    uint8_t *p = malloc(n + MUT_CANARY);
    memset(p, 0xee, n);
    memset(p + n, 0xa5, MUT_CANARY);
    return p;
}

static bool guard_intact(const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < MUT_CANARY; k++)
        if (p[n + k] != 0xa5) return false;
    return true;
}

/* What a selection must read, and which of its elements lie in the victim. */
static void expected(const mset *m, const sel *s, uint8_t *want, uint8_t *in_victim)
{
    th_h5_ref_slab(m->src, m->rank, m->sp->shape, (size_t)m->item, s->start, s->count, s->step,
                   want);
    th_h5_ref_slab(m->inv, m->rank, m->sp->shape, 1, s->start, s->count, s->step, in_victim);
}

/* Compare a successful read: returns 1 when all equal; fails when an element outside the
 * victim differs (or any element, with exact set). */
static int compare(const mset *m, const sel *s, const uint8_t *got, bool exact, const char *what)
{
    size_t n = sel_items(m, s), isz = (size_t)m->item;
    uint8_t *want = malloc(n * isz), *iv = malloc(n);
    expected(m, s, want, iv);
    int same = 1;
    for (size_t k = 0; k < n; k++) {
        if (!memcmp(got + k * isz, want + k * isz, isz)) continue;
        same = 0;
        if (exact || !iv[k]) {
            TH_FAIL_AT("%s %s: element %zu %s differs", what, m->sp->name, k,
                       iv[k] ? "(in the victim, Fletcher32 on)" : "(outside the victim)");
            break;
        }
    }
    free(want);
    free(iv);
    return same;
}

static void check_detail(const ctx *c, const mset *m, long long rc)
{
    const char *det = tersa_error_detail();
    if (!det || !*det || !strstr(det, c->fname) || !strstr(det, m->sp->name) ||
        !strstr(det, m->where))
        TH_FAIL_AT("read of %s: rc %lld, detail \"%s\" lacks file, dataset or %s", m->sp->name,
                   rc, det ? det : "(null)", m->where);
}

/* One direct-path read of a selection touching the victim. */
static void direct_victim(ctx *c, const mset *m, tersa_h5dset *d, const sel *s)
{
    size_t n = sel_items(m, s) * (size_t)m->item;
    uint8_t *got = guarded(n);
    int64_t rc = tersa_h5_read(d, s->start, s->count, s->step, got, n);
    th_checks++;
    if (!guard_intact(got, n)) TH_FAIL_AT("read of %s wrote past its buffer", m->sp->name);
    if (rc < 0) {
        c->t.errors++;
        check_detail(c, m, rc);
    } else if (rc != (int64_t)n) {
        TH_FAIL_AT("read of %s returned %lld, want %zu", m->sp->name, (long long)rc, n);
    } else if (compare(m, s, got, c->exact, "direct read")) {
        c->t.same++;
    } else {
        c->t.differ++;
    }
    free(got);
}

/* A selection of other chunks only: must read right. */
static void direct_other(ctx *c, const mset *m, tersa_h5dset *d, const sel *s)
{
    size_t n = sel_items(m, s) * (size_t)m->item;
    uint8_t *got = guarded(n);
    int64_t rc = tersa_h5_read(d, s->start, s->count, s->step, got, n);
    if (rc != (int64_t)n)
        TH_FAIL_AT("read of other chunks of %s: rc %lld (%s)", m->sp->name, (long long)rc,
                   rc < 0 ? tersa_error_detail() : "short");
    else compare(m, s, got, true, "other chunks");
    CHECK(guard_intact(got, n));
    c->t.others++;
    free(got);
}

/* Whether HDF5's error stack holds the filter's message with a detail after it. */
static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *arg)
{
    (void)n;
    const char *p = e->desc ? strstr(e->desc, MUT_FILTER_MSG) : NULL;
    if (p && strlen(p) > strlen(MUT_FILTER_MSG) + 12) *(int *)arg = 1;
    return 0;
}

static int stack_has_filter_msg(void)
{
    int found = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &found);
    return found;
}

/* H5Dread of a selection (file datatype, packed); returns HDF5's status and, on failure,
 * whether the error stack held the filter's message (looked at before any other HDF5 call
 * clears the stack). */
static herr_t pipe_read(hid_t dset, int rank, const sel *s, void *buf, int *filter_msg)
{
    hsize_t a[3], n[3], st[3];
    for (int i = 0; i < rank; i++) {
        a[i] = (hsize_t)s->start[i];
        n[i] = (hsize_t)s->count[i];
        st[i] = (hsize_t)s->step[i];
    }
    hid_t fs = H5Dget_space(dset), ms = H5Screate_simple(rank, n, NULL), t = H5Dget_type(dset);
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, a, st, n, NULL);
    if (rc >= 0) rc = H5Dread(dset, t, ms, fs, H5P_DEFAULT, buf);
    *filter_msg = rc < 0 && stack_has_filter_msg();
    H5Tclose(t);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}

static void pipe_victim(ctx *c, const mset *m, const sel *s)
{
    size_t n = sel_items(m, s) * (size_t)m->item;
    uint8_t *got = guarded(n);
    int msg = 0;
    herr_t rc = pipe_read(m->dset, m->rank, s, got, &msg);
    th_checks++;
    if (!guard_intact(got, n)) TH_FAIL_AT("H5Dread of %s wrote past its buffer", m->sp->name);
    if (rc < 0) {
        c->t.h5_errors++;
        if ((!m->sp->fletcher || c->forged) && !msg)
            TH_FAIL_AT("H5Dread of %s failed without the filter's message", m->sp->name);
    } else if (compare(m, s, got, c->exact, "H5Dread")) {
        c->t.h5_same++;
    } else {
        c->t.h5_differ++;
    }
    free(got);
}

static void pipe_other(ctx *c, const mset *m, const sel *s)
{
    size_t n = sel_items(m, s) * (size_t)m->item;
    uint8_t *got = guarded(n);
    int msg = 0;
    if (pipe_read(m->dset, m->rank, s, got, &msg) < 0)
        TH_FAIL_AT("H5Dread of other chunks of %s", m->sp->name);
    else compare(m, s, got, true, "H5Dread other chunks");
    c->t.others++;
    free(got);
}

/* All reads after one mutant of len bytes (the handle is opened anew: it caches chunk
 * lookups). HDF5 1.10's Fletcher32 filter reads before its buffer for chunks under 4 bytes
 * (nbytes - 4 wraps around): no pipeline reads of those. */
static void probe(ctx *c, const mset *m, size_t len)
{
    sel v[5], o[3];
    int nv = victim_sels(m, v), no = other_sels(m, o);
    tersa_h5dset *d = tersa_h5_open(m->dset);
    if (!d) {
        TH_FAIL_AT("open %s: %s", m->sp->name, tersa_error_detail());
        return;
    }
    CHECK_OK(tersa_h5_set_nthreads(d, c->threads));
    c->threads = 3 - c->threads;
    for (int k = 0; k < nv; k++) direct_victim(c, m, d, &v[k]);
    for (int k = 0; k < no; k++) direct_other(c, m, d, &o[k]);
    tersa_h5_close(d);
    if (m->sp->fletcher && len < 4) return;
    pipe_victim(c, m, &v[0]);
    pipe_victim(c, m, &v[1]);
    pipe_victim(c, m, &v[4]);
    pipe_other(c, m, &o[0]);
}

/* The victim back as it was: every read right again. */
static void restore(const mset *m)
{
    CHECK(H5Dwrite_chunk(m->dset, H5P_DEFAULT, 0, m->off, m->olen, m->orig) >= 0);
    tersa_h5dset *d = tersa_h5_open(m->dset);
    uint8_t *got = malloc(m->nbytes);
    CHECK_EQ(tersa_h5_read(d, NULL, NULL, NULL, got, m->nbytes), (int64_t)m->nbytes);
    CHECK_MEM(got, m->src, m->nbytes);
    memset(got, 0, m->nbytes);
    hid_t t = H5Dget_type(m->dset);
    CHECK(H5Dread(m->dset, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
    CHECK_MEM(got, m->src, m->nbytes);
    H5Tclose(t);
    free(got);
    tersa_h5_close(d);
}

/* A mutant of the frame inside a chunk stored with Fletcher32, with the checksum recomputed:
 * tersa's decoding behind the checksum sees hostile bytes too. */
static size_t forge(uint64_t *rng, const mset *m, uint8_t *buf)
{
    size_t len = mutate(rng, m->orig, m->olen - 4, buf);
    uint32_t sum = tersa__h5_fletcher32(buf, len);
    memcpy(buf + len, &sum, 4);
    return len + 4;
}

/* nmut mutants of the victim of m (with Fletcher32: every other one forged). */
static void campaign(ctx *c, mset *m, int nmut, uint64_t seed)
{
    uint8_t *buf = malloc(m->olen + MUT_EXTRA);
    for (int k = 0; k < nmut; k++) {
        c->forged = m->sp->fletcher && (k & 1);
        c->exact = m->sp->fletcher && !c->forged;
        size_t len = c->forged ? forge(&seed, m, buf) : mutate(&seed, m->orig, m->olen, buf);
        c->t.tried++;
        if (H5Dwrite_chunk(m->dset, H5P_DEFAULT, 0, m->off, len, buf) < 0) {
            c->t.rejected++;
            continue;
        }
        probe(c, m, len);
    }
    free(buf);
    restore(m);
}

static void print_tally(const char *what, const tally *t)
{
    printf("%-28s mutants %ld (HDF5 refused %ld); direct reads: %ld errors, %ld right, %ld "
           "different; H5Dread: %ld errors, %ld right, %ld different; other-chunk reads %ld\n",
           what, t->tried, t->rejected, t->errors, t->same, t->differ, t->h5_errors, t->h5_same,
           t->h5_differ, t->others);
}

static void add_tally(tally *sum, const tally *t)
{
    sum->tried += t->tried;
    sum->rejected += t->rejected;
    sum->errors += t->errors;
    sum->same += t->same;
    sum->differ += t->differ;
    sum->h5_errors += t->h5_errors;
    sum->h5_same += t->h5_same;
    sum->h5_differ += t->h5_differ;
    sum->others += t->others;
}

/* One pass over all datasets of an open file. */
static void pass(const char *label, mset *ms, int nmut, uint64_t seed, tally *sum)
{
    for (size_t i = 0; i < NSETS; i++) {
        ctx c = {"mutation.h5", 1 + (int)(i & 1), false, false, {0}};
        char what[64];
        if (ms[i].dset < 0 || mset_load_victim(&ms[i]) < 0) {
            TH_FAIL_AT("%s: no victim chunk", mspecs[i].name);
            continue;
        }
        campaign(&c, &ms[i], nmut, seed ^ (0x9e3779b97f4a7c15ull * (i + 1)));
        snprintf(what, sizeof what, "%s %s (%zu B)", label, mspecs[i].name, ms[i].olen);
        print_tally(what, &c.t);
        add_tally(sum, &c.t);
    }
}

/* ---- The mutation campaigns ------------------------------------------------------------- */

static hid_t open_core(const char *path)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 20, 0); /* in memory, never written back */
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    return f;
}

static hid_t create_mutation_file(char *path, size_t cap, mset *ms)
{
    hid_t f = H5Fcreate(th_h5_tmp(path, cap, "mutation.h5"), H5F_ACC_TRUNC, H5P_DEFAULT,
                        H5P_DEFAULT);
    CHECK(f >= 0);
    for (size_t i = 0; i < NSETS; i++)
        if (mset_init(f, &mspecs[i], &ms[i], MUT_SEED + i) < 0) ms[i].dset = -1;
    return f;
}

/* The victims of the large datasets are read in part (pread of the needed ranges only) when a
 * small box of them is selected; the others are read whole. */
static void check_victims(mset *ms)
{
    for (size_t i = 0; i < NSETS; i++) {
        if (ms[i].dset < 0 || mset_load_victim(&ms[i]) < 0) continue;
        bool large = ms[i].olen >= 65536;
        CHECK_EQ(large, !strcmp(mspecs[i].name, "/lazy") || !strcmp(mspecs[i].name, "/delta") ||
                            !strcmp(mspecs[i].name, "/memcpy"));
        sel v[5];
        victim_sels(&ms[i], v);
        size_t n = sel_items(&ms[i], &v[1]) * (size_t)ms[i].item;
        uint8_t *got = malloc(n);
        tersa_h5dset *d = tersa_h5_open(ms[i].dset);
        CHECK_EQ(tersa_h5_read(d, v[1].start, v[1].count, v[1].step, got, n), (int64_t)n);
        compare(&ms[i], &v[1], got, true, "small box");
        TH_H5_INIT(tersa_h5_stats, st);
        CHECK_OK(tersa_h5_get_stats(d, &st));
        if (large) CHECK(st.bytes_read < (int64_t)ms[i].olen / 2);
        else CHECK_EQ(st.bytes_read, (int64_t)ms[i].olen);
        tersa_h5_close(d);
        free(got);
    }
}

static void mutation_campaigns(hid_t f, const char *path, mset *ms, tally *sum)
{
    check_victims(ms);
    pass("sec2", ms, MUT_SEC2, MUT_SEED, sum);
    for (size_t i = 0; i < NSETS; i++)
        if (ms[i].dset >= 0) H5Dclose(ms[i].dset);
    H5Fclose(f);
    f = open_core(path);
    CHECK(f >= 0);
    for (size_t i = 0; i < NSETS; i++)
        ms[i].dset = f < 0 ? -1 : H5Dopen2(f, mspecs[i].name, H5P_DEFAULT);
    pass("core", ms, MUT_CORE, MUT_SEED * 3, sum);
    for (size_t i = 0; i < NSETS; i++) mset_free(&ms[i]);
    if (f >= 0) H5Fclose(f);
}

/* ---- Hostile cd_values ------------------------------------------------------------------ */

/* Datasets of 64 x 48 float32 in chunks of 32 x 48 (rank 2), or the same bytes as 3072 in
 * chunks of 1536 (rank 1), whose filter 32026 carries the cd_values below, holding frames
 * copied from good datasets: FR_B2ND (b2nd 32 x 48), FR_PLAIN (plain frame, 1536 items),
 * FR_SHORT (plain frame of 1024 items). A frame whose shape fits the dataset must read right
 * whenever a read succeeds. */
enum { FR_B2ND, FR_PLAIN, FR_SHORT, FR_N };

typedef struct hcase {
    const char *name;
    int rank1;
    int frame;
    size_t n;
    unsigned v[20];
} hcase;

#define HC_OK 1, 0, 4, 6144, 5, 1, TERSA_CODEC_LZ4
static const hcase hcases[] = {
    {"no_values", 0, FR_B2ND, 0, {0}},
    {"two_values", 0, FR_B2ND, 2, {1, 0}},
    {"three_values", 1, FR_PLAIN, 3, {1, 0, 4}},
    {"four_values", 1, FR_PLAIN, 4, {1, 0, 4, 6144}},
    {"typesize0", 0, FR_B2ND, 10, {1, 0, 0, 6144, 5, 1, 1, 2, 32, 48}},
    {"typesize300", 0, FR_B2ND, 10, {1, 0, 300, 6144, 5, 1, 1, 2, 32, 48}},
    {"typesize_huge", 1, FR_PLAIN, 7, {1, 0, 0xffffffffu, 6144, 5, 1, 1}},
    {"typesize7", 1, FR_PLAIN, 7, {1, 0, 7, 6144, 5, 1, 1}},
    {"chunkbytes_wrong", 0, FR_B2ND, 10, {1, 0, 4, 12345, 5, 1, 1, 2, 32, 48}},
    {"chunkbytes_huge", 1, FR_PLAIN, 7, {1, 0, 4, 0xffffffffu, 5, 1, 1}},
    {"chunkbytes0", 1, FR_PLAIN, 7, {1, 0, 4, 0, 5, 1, 1}},
    {"blocksize_huge", 0, FR_B2ND, 10, {1, 0x7fffffff, 4, 6144, 5, 1, 1, 2, 32, 48}},
    {"blocksize_max", 1, FR_PLAIN, 7, {1, TERSA_MAX_BLOCKSIZE, 4, 6144, 5, 1, 1}},
    {"blocksize1", 0, FR_B2ND, 10, {1, 1, 4, 6144, 5, 1, 1, 2, 32, 48}},
    {"blocksize3", 1, FR_PLAIN, 7, {1, 3, 4, 6144, 5, 1, 1}},
    {"rank9_no_dims", 0, FR_B2ND, 8, {HC_OK, 9}},
    {"rank0", 0, FR_B2ND, 8, {HC_OK, 0}},
    {"rank3_two_dims", 0, FR_B2ND, 10, {HC_OK, 3, 32, 48}},
    {"rank2_no_dims", 0, FR_B2ND, 8, {HC_OK, 2}},
    {"dims_swapped", 0, FR_B2ND, 10, {HC_OK, 2, 48, 32}},
    {"dims_zero", 0, FR_B2ND, 10, {HC_OK, 2, 32, 0}},
    {"dims_huge", 0, FR_B2ND, 10, {HC_OK, 2, 0xffffffffu, 0xffffffffu}},
    {"rank1_in_cd", 0, FR_B2ND, 9, {HC_OK, 1, 1536}},
    {"rank2_on_1d", 1, FR_PLAIN, 10, {HC_OK, 2, 32, 48}},
    {"rank8_dims", 0, FR_B2ND, 16, {HC_OK, 8, 1, 1, 1, 1, 1, 1, 32, 48}},
    {"twenty_values", 0, FR_B2ND, 20, {HC_OK, 2, 32, 48, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}},
    {"codec_unknown", 0, FR_B2ND, 10, {1, 0, 4, 6144, 99, 99, 200, 2, 32, 48}},
    {"codec_user", 1, FR_PLAIN, 7, {1, 0, 4, 6144, 5, 1, TERSA_CODEC_USER_FIRST}},
    {"filter_unknown", 1, FR_PLAIN, 7, {1, 0, 4, 6144, 5, 250, 1}},
    {"revision_huge", 0, FR_B2ND, 10, {0xffffffffu, 0, 4, 6144, 5, 1, 1, 2, 32, 48}},
    {"b2nd_in_1d", 1, FR_B2ND, 7, {HC_OK}},
    {"plain_in_2d", 0, FR_PLAIN, 10, {HC_OK, 2, 32, 48}},
    {"short_in_1d", 1, FR_SHORT, 7, {HC_OK}},
    {"short_in_2d", 0, FR_SHORT, 10, {HC_OK, 2, 32, 48}},
};
#define NHCASES (sizeof hcases / sizeof hcases[0])

typedef struct hfile {
    float src[64 * 48];
    uint8_t *fr[FR_N][2]; /* frames for chunks 0 and 1 */
    size_t frlen[FR_N][2];
    long refused, open_errors, read_errors, read_ok, h5_errors, h5_ok, write_errors, write_ok;
} hfile;

static bool fits(const hcase *h)
{
    return (h->rank1 && h->frame == FR_PLAIN) || (!h->rank1 && h->frame == FR_B2ND);
}

/* A good dataset of one frame kind; its two stored chunks become the frames. */
static void good_frames(hid_t f, hfile *hf, int kind)
{
    int64_t s2[2] = {64, 48}, c2[2] = {32, 48}, s1[1] = {3072}, c1[1] = {1536}, cs[1] = {1024};
    static const char *names[FR_N] = {"/good_b2nd", "/good_plain", "/good_short"};
    tersa_h5_params p;
    tersa_h5_params_init(&p);
    p.rank = kind == FR_B2ND ? 2 : 1;
    p.shape = kind == FR_B2ND ? s2 : s1;
    p.chunkshape = kind == FR_B2ND ? c2 : kind == FR_PLAIN ? c1 : cs;
    p.type = H5T_IEEE_F32LE;
    p.codec = TERSA_CODEC_LZ4;
    p.blocksize = 1024;
    tersa_h5dset *d = tersa_h5_create(f, names[kind], &p);
    CHECK(d != NULL);
    if (!d) return;
    CHECK_OK(tersa_h5_write(d, NULL, NULL, NULL, hf->src, sizeof hf->src));
    for (int k = 0; k < 2; k++) {
        hsize_t off[2] = {(hsize_t)(k * p.chunkshape[0]), 0}, size = 0;
        uint32_t mask = 0;
        CHECK(H5Dget_chunk_storage_size(tersa_h5_dataset_id(d), off, &size) >= 0 && size > 0);
        hf->fr[kind][k] = malloc((size_t)size);
        hf->frlen[kind][k] = (size_t)size;
        CHECK(H5Dread_chunk(tersa_h5_dataset_id(d), H5P_DEFAULT, off, &mask, hf->fr[kind][k]) >= 0);
    }
    tersa_h5_close(d);
}

/* Create the hostile dataset (while the placeholder class stands for filter 32026, so that no
 * set_local rewrites its cd_values) and store two frames in it. Returns 0, or -1 when HDF5
 * refuses. */
static int create_hostile(hid_t f, const hfile *hf, const hcase *h)
{
    hsize_t d2[2] = {64, 48}, c2[2] = {32, 48}, d1[1] = {3072}, c1[1] = {1536};
    hid_t sp = H5Screate_simple(h->rank1 ? 1 : 2, h->rank1 ? d1 : d2, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, h->rank1 ? 1 : 2, h->rank1 ? c1 : c2);
    herr_t rc = H5Pset_filter(dcpl, TERSA_H5_FILTER_ID, H5Z_FLAG_OPTIONAL, h->n, h->v);
    hid_t ds = rc < 0 ? -1
                      : H5Dcreate2(f, h->name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    if (ds < 0) return -1;
    for (int k = 0; k < 2; k++) {
        hsize_t off[2] = {(hsize_t)(k * (h->rank1 ? 1536 : 32)), 0};
        const uint8_t *fr = hf->fr[h->frame][k];
        CHECK(H5Dwrite_chunk(ds, H5P_DEFAULT, 0, off, hf->frlen[h->frame][k], fr) >= 0);
    }
    H5Dclose(ds);
    return 0;
}

/* tersa's direct path on a hostile dataset: an error with a detail, or the right data. */
static void hostile_read(hfile *hf, const hcase *h, hid_t ds, const char *when)
{
    static float got[64 * 48];
    tersa_h5dset *d = tersa_h5_open(ds);
    if (!d) {
        hf->open_errors++;
        CHECK(*tersa_error_detail() != '\0');
        return;
    }
    int64_t a2[2] = {40, 8}, n2[2] = {10, 20}, a1[1] = {2000}, n1[1] = {300};
    for (int k = 0; k < 2; k++) {
        CHECK_OK(tersa_h5_set_nthreads(d, 1 + k));
        int64_t rc = k ? tersa_h5_read(d, h->rank1 ? a1 : a2, h->rank1 ? n1 : n2, NULL, got,
                                       sizeof got)
                       : tersa_h5_read(d, NULL, NULL, NULL, got, sizeof got);
        if (rc < 0) {
            hf->read_errors++;
            const char *det = tersa_error_detail();
            if (!*det || !strstr(det, h->name))
                TH_FAIL_AT("%s %s: detail \"%s\" does not name the dataset", when, h->name, det);
        } else {
            hf->read_ok++;
            if (fits(h) && !k && memcmp(got, hf->src, sizeof got))
                TH_FAIL_AT("%s %s: read succeeded with wrong data", when, h->name);
        }
    }
    tersa_h5_close(d);
}

/* HDF5's pipeline with tersa's filter and the hostile cd_values. */
static void hostile_pipe_read(hfile *hf, const hcase *h, hid_t ds, const char *when)
{
    static float got[64 * 48];
    if (H5Dread(ds, H5T_IEEE_F32LE, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) < 0) {
        hf->h5_errors++;
        return;
    }
    hf->h5_ok++;
    if (fits(h) && memcmp(got, hf->src, sizeof got))
        TH_FAIL_AT("%s %s: H5Dread succeeded with wrong data", when, h->name);
}

/* Writing with the hostile cd_values: tersa's direct path, then HDF5's pipeline (the
 * optional filter may fail: HDF5 then stores the chunk unfiltered). What a write stored must
 * read back right. */
static void hostile_writes(hfile *hf, const hcase *h, hid_t ds)
{
    static float got[64 * 48];
    tersa_h5dset *d = tersa_h5_open(ds);
    if (d) {
        int64_t rc = tersa_h5_write(d, NULL, NULL, NULL, hf->src, sizeof hf->src);
        if (rc < 0) {
            hf->write_errors++;
            CHECK(*tersa_error_detail() != '\0');
        } else {
            hf->write_ok++;
            tersa_h5_close(d);
            d = tersa_h5_open(ds);
            int64_t n = d ? tersa_h5_read(d, NULL, NULL, NULL, got, sizeof got) : -1;
            if (n != (int64_t)sizeof got)
                TH_FAIL_AT("%s: tersa_h5_write succeeded, reading back gives %lld (%s)", h->name,
                           (long long)n, tersa_error_detail());
            else if (memcmp(got, hf->src, sizeof got))
                TH_FAIL_AT("%s: tersa_h5_write succeeded, reading back gives wrong data", h->name);
            hostile_pipe_read(hf, h, ds, "after tersa_h5_write");
        }
        tersa_h5_close(d);
    }
    if (H5Dwrite(ds, H5T_IEEE_F32LE, H5S_ALL, H5S_ALL, H5P_DEFAULT, hf->src) < 0) {
        hf->write_errors++;
        return;
    }
    hf->write_ok++;
    hostile_read(hf, h, ds, "after H5Dwrite");
    hostile_pipe_read(hf, h, ds, "after H5Dwrite");
}

static void hostile_check(hfile *hf, hid_t f, const hcase *h)
{
    hid_t ds = H5Dopen2(f, h->name, H5P_DEFAULT);
    CHECK(ds >= 0);
    if (ds < 0) return;
    hostile_read(hf, h, ds, "stored frame");
    hostile_pipe_read(hf, h, ds, "stored frame");
    hostile_writes(hf, h, ds);
    H5Dclose(ds);
}

static hid_t hostile_create(hfile *hf, char *path, size_t cap)
{
    hid_t f = H5Fcreate(th_h5_tmp(path, cap, "mutation_cd.h5"), H5F_ACC_TRUNC, H5P_DEFAULT,
                        H5P_DEFAULT);
    CHECK(f >= 0);
    for (int i = 0; i < 64 * 48; i++) hf->src[i] = (float)(i % 700) * 0.25f;
    for (int k = 0; k < FR_N; k++) good_frames(f, hf, k);
    for (size_t i = 0; i < NHCASES; i++)
        if (create_hostile(f, hf, &hcases[i]) < 0) hf->refused++;
    return f;
}

static void hostile_run(hfile *hf, hid_t f)
{
    for (size_t i = 0; i < NHCASES; i++) {
        htri_t there = H5Lexists(f, hcases[i].name, H5P_DEFAULT);
        if (there > 0) hostile_check(hf, f, &hcases[i]);
    }
    printf("hostile cd_values: %zu cases (HDF5 refused %ld); tersa_h5_open errors %ld; reads: "
           "%ld errors, %ld ok; H5Dread: %ld errors, %ld ok; writes: %ld errors, %ld ok\n",
           NHCASES, hf->refused, hf->open_errors, hf->read_errors, hf->read_ok, hf->h5_errors,
           hf->h5_ok, hf->write_errors, hf->write_ok);
    for (int k = 0; k < FR_N; k++)
        for (int j = 0; j < 2; j++) free(hf->fr[k][j]);
}

/* A stand-in for filter 32026 while the files are created: HDF5 1.10 sizes a pipeline message
 * when the dataset is created, with the filter's name only if a class is registered then, but
 * encodes the name of whatever class is registered when it flushes the object header: a class
 * registered in between makes the message outgrow its room and the file unreadable. This class
 * has the name and no set_local (which would rewrite the hostile cd_values); tersa's filter
 * replaces it before anything is read. */
static size_t placeholder_fn(unsigned flags, size_t ncd, const unsigned cd[], size_t nbytes,
                             size_t *buf_size, void **buf)
{
    (void)flags, (void)ncd, (void)cd, (void)nbytes, (void)buf_size, (void)buf;
    return 0;
}

static const H5Z_class2_t placeholder = {
    H5Z_CLASS_T_VERS, (H5Z_filter_t)TERSA_H5_FILTER_ID, 1, 1, "blosc2", NULL, NULL,
    placeholder_fn};

int main(void)
{
    char path[1024], cdpath[1024];
    static mset ms[NSETS];
    static hfile hf;
    tally sum = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* hostile chunks make HDF5 complain */
    CHECK(H5Zregister(&placeholder) >= 0);
    hid_t fcd = hostile_create(&hf, cdpath, sizeof cdpath);
    hid_t f = create_mutation_file(path, sizeof path, ms);
    CHECK_OK(tersa_h5_register_filter());
    hostile_run(&hf, fcd);
    H5Fclose(fcd);
    mutation_campaigns(f, path, ms, &sum);
    print_tally("all", &sum);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("h5_mutation: %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) +
                                        (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    return th_report("h5_mutation");
}

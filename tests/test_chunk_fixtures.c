/* Every chunk fixture written by the official Blosc libraries (Blosc 1.3 to C-Blosc2 3.0)
 * decodes to the SHA-256 in the manifest: whole, with 1/2/4 threads, through getitem in pieces,
 * and through block masks. */
#include <stdbool.h>

#include "harness.h"
#include "th_manifest.h"
#include "th_sha256.h"
#include "tersa/tersa.h"

static void check_digest(const char *what, const uint8_t *buf, size_t n, const char *want)
{
    char hex[65];
    th_sha256_hex(buf, n, hex);
    th_checks++;
    if (strcmp(hex, want) != 0) TH_FAIL_AT("%s: sha256 %s, manifest says %s", what, hex, want);
}

static void decode_whole(const th_manifest_row *r, const uint8_t *c, size_t clen, int nthreads)
{
    tersa_dctx *d = tersa_dctx_create();
    CHECK_OK(tersa_dctx_set(d, TERSA_P_NTHREADS, nthreads));
    uint8_t *out = malloc((size_t)r->nbytes);
    CHECK_EQ(tersa_decompress(d, c, clen, out, (size_t)r->nbytes), r->nbytes);
    check_digest(r->path, out, (size_t)r->nbytes, r->sha256_decoded);
    free(out);
    tersa_dctx_free(d);
}

/* Reassemble the chunk from getitem calls of odd sizes; compare with the digest. */
static void decode_pieces(const th_manifest_row *r, const uint8_t *c, size_t clen)
{
    tersa_chunk_info info = {.struct_size = sizeof info};
    CHECK_OK(tersa_chunk_inspect(c, clen, &info));
    int64_t ts = info.typesize, nitems = r->nbytes / ts, step = 77777;
    uint8_t *out = calloc(1, (size_t)r->nbytes);
    tersa_dctx *d = tersa_dctx_create();
    for (int64_t i = 0; i < nitems; i += step) {
        int64_t n = nitems - i < step ? nitems - i : step;
        CHECK_EQ(tersa_getitem(d, c, clen, i, n, out + i * ts, (size_t)(n * ts)), n * ts);
    }
    int64_t tail = r->nbytes - nitems * ts; /* bytes after the last whole item */
    if (tail) {
        uint8_t *full = malloc((size_t)r->nbytes);
        CHECK_EQ(tersa_decompress(d, c, clen, full, (size_t)r->nbytes), r->nbytes);
        memcpy(out + nitems * ts, full + nitems * ts, (size_t)tail);
        free(full);
    }
    check_digest(r->path, out, (size_t)r->nbytes, r->sha256_decoded);
    free(out);
    tersa_dctx_free(d);
}

/* Decode odd blocks, then even blocks, through masks; count the blocks decoded. */
static void decode_masks(const th_manifest_row *r, const uint8_t *c, size_t clen)
{
    tersa_chunk_info info = {.struct_size = sizeof info};
    CHECK_OK(tersa_chunk_inspect(c, clen, &info));
    int32_t nb = info.nblocks;
    uint8_t *mask = calloc((size_t)nb + 1, 1), *out = calloc(1, (size_t)r->nbytes);
    tersa_dctx *d = tersa_dctx_create();
    for (int parity = 1; parity >= 0; parity--) {
        int want = 0;
        for (int32_t j = 0; j < nb; j++) want += (mask[j] = (uint8_t)((j & 1) == parity));
        tersa_dctx_reset_stats(d);
        CHECK_EQ(tersa_decompress_blocks(d, c, clen, mask, (size_t)nb, out, (size_t)r->nbytes),
                 want);
        tersa_dstats st = {.struct_size = sizeof st};
        tersa_dctx_stats(d, &st);
        bool delta = false;
        for (int i = 0; i < TERSA_MAX_FILTERS; i++) delta |= info.filters[i] == TERSA_FILTER_DELTA;
        if (!delta) CHECK_EQ(st.blocks_decoded, want);
    }
    check_digest(r->path, out, (size_t)r->nbytes, r->sha256_decoded);
    free(mask);
    free(out);
    tersa_dctx_free(d);
}

static void check_chunk(const th_manifest_row *r)
{
    char path[1024];
    size_t clen;
    snprintf(path, sizeof path, "%s/%s", TERSA_FIXTURES, r->path);
    uint8_t *c = th_read_file(path, &clen);
    if (!c) {
        TH_FAIL_AT("cannot read fixture %s", path);
        return;
    }
    CHECK_OK(tersa_chunk_validate(c, clen));
    for (int t = 1; t <= 4; t *= 2) decode_whole(r, c, clen, t);
    decode_pieces(r, c, clen);
    decode_masks(r, c, clen);
    free(c);
}

int main(void)
{
    th_manifest m;
    char mpath[1024];
    snprintf(mpath, sizeof mpath, "%s/MANIFEST.tsv", TERSA_FIXTURES);
    if (th_manifest_load(mpath, &m) != 0) {
        TH_FAIL_AT("fixtures missing: %s", mpath);
        return th_report("chunk_fixtures");
    }
    int n = 0;
    for (size_t i = 0; i < m.nrows; i++) {
        if (strcmp(m.rows[i].kind, "chunk") != 0) continue;
        int before = th_failures;
        check_chunk(&m.rows[i]);
        if (th_failures != before) fprintf(stderr, "  ^ in fixture %s\n", m.rows[i].path);
        n++;
    }
    CHECK_EQ(n, 27); /* every chunk of the corpus was visited */
    th_manifest_free(&m);
    return th_report("chunk_fixtures");
}

/* Every frame and b2nd fixture written by the official C-Blosc2 opens from memory (copied and
 * borrowed), from its file, and after conversion to a sparse directory; all chunks decoded and
 * concatenated match the manifest's sha256_decoded; nchunks, typesize and metalayers match. */
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "th_manifest.h"
#include "th_sha256.h"
#include "tersa/tersa.h"
#include "tersa/tersa_frame.h"

static void digest_hex(const uint8_t d[32], char out[65])
{
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Decode every chunk, hash the concatenation; also sum nbytes. */
static void check_chunks(tersa_schunk *s, const th_manifest_row *r, const char *how)
{
    th_sha256 h;
    uint8_t d[32];
    char hex[65];
    int64_t total = 0, n = tersa_schunk_nchunks(s);
    th_sha256_init(&h);
    for (int64_t i = 0; i < n; i++) {
        int32_t nb = 0, cb = 0;
        CHECK_OK(tersa_schunk_chunk_sizes(s, i, &nb, &cb));
        uint8_t *out = malloc(nb > 0 ? (size_t)nb : 1);
        int64_t got = tersa_schunk_decompress_chunk(s, i, out, (size_t)nb);
        CHECK_EQ(got, nb);
        if (got < 0) fprintf(stderr, "  %s %s chunk %lld: %s\n", r->path, how, (long long)i,
                             tersa_error_detail());
        if (got > 0) th_sha256_update(&h, out, (size_t)got);
        total += nb;
        free(out);
    }
    th_sha256_final(&h, d);
    digest_hex(d, hex);
    CHECK_EQ(total, r->nbytes);
    CHECK_EQ(tersa_schunk_nbytes(s), r->nbytes);
    th_checks++;
    if (strcmp(hex, r->sha256_decoded) != 0)
        TH_FAIL_AT("%s (%s): sha256 %s, manifest says %s", r->path, how, hex, r->sha256_decoded);
}

static void check_meta(tersa_schunk *s, const th_manifest_row *r)
{
    const uint8_t *c = NULL;
    size_t len = 0;
    if (strcmp(r->kind, "b2nd") == 0) {
        CHECK(tersa_schunk_meta_get(s, "b2nd", &c, &len) >= 0);
        CHECK(len > 10 && c && c[0] == 0x97); /* fixarray 7 */
    }
    if (strstr(r->path, "schunk_f64_zstd")) {
        static const uint8_t peer[4] = {0x93, 0x01, 0x02, 0x03};
        CHECK_EQ(tersa_schunk_meta_get(s, "peer", &c, &len), 0);
        CHECK_EQ(len, 4);
        if (len == 4) CHECK_MEM(c, peer, 4);
        int64_t n = tersa_schunk_vlmeta_get(s, "info", NULL, 0);
        CHECK(n > 2);
        char *txt = calloc(1, n > 0 ? (size_t)n + 1 : 1);
        CHECK_EQ(tersa_schunk_vlmeta_get(s, "info", txt, (size_t)n), n);
        CHECK(txt[0] == '{' && strstr(txt, "\"peer\"") != NULL);
        free(txt);
        CHECK_ERR(tersa_schunk_vlmeta_get(s, "nope", NULL, 0), TERSA_ERR_NOT_FOUND);
    }
}

static void check_props(tersa_schunk *s, const th_manifest_row *r, const char *how)
{
    if (!s) {
        TH_FAIL_AT("%s (%s): open failed: %s", r->path, how, tersa_error_detail());
        return;
    }
    CHECK_EQ(tersa_schunk_nchunks(s), atoll(r->nchunks));
    CHECK_EQ(tersa_schunk_typesize(s), r->typesize);
    check_chunks(s, r, how);
    check_meta(s, r);
}

/* Copy to a sparse directory, reopen it, check again, and gather it back to a buffer. */
static void check_sparse(tersa_schunk *s, const th_manifest_row *r, const uint8_t *file,
                         size_t flen)
{
    char dir[256];
    snprintf(dir, sizeof dir, "test_frame_fixtures_sparse_%d.b2frame", (int)getpid());
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_SPARSE,
                             .path = dir, .overwrite = 1};
    tersa_schunk *sp = tersa_schunk_copy(s, &p);
    CHECK(sp != NULL);
    if (!sp) {
        fprintf(stderr, "  copy to sparse: %s\n", tersa_error_detail());
        return;
    }
    tersa_schunk_free(sp);
    sp = tersa_schunk_open_file(dir, 0, TERSA_OPEN_READONLY);
    check_props(sp, r, "sparse");
    if (sp) { /* gathering back gives a contiguous frame that opens and decodes the same */
        int64_t n = tersa_schunk_frame_len(sp);
        CHECK(n > 0);
        uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
        CHECK_EQ(tersa_schunk_to_buffer(sp, buf, (size_t)n), n);
        tersa_schunk *back = tersa_schunk_open_buffer(buf, (size_t)n, 0);
        check_props(back, r, "sparse->buffer");
        tersa_schunk_free(back);
        free(buf);
    }
    tersa_schunk_free(sp);
    (void)file;
    (void)flen;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ(system(cmd), 0);
}

static void check_one(const th_manifest_row *r)
{
    char path[1024];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", TERSA_FIXTURES, r->path);
    uint8_t *file = th_read_file(path, &len);
    CHECK(file != NULL);
    if (!file) return;
    tersa_schunk *s = tersa_schunk_open_buffer(file, len, 0);
    check_props(s, r, "buffer");
    if (s) { /* an unchanged frame serialises to its own bytes */
        int64_t n = tersa_schunk_frame_len(s);
        CHECK_EQ(n, (int64_t)len);
        uint8_t *again = malloc(len);
        CHECK_EQ(tersa_schunk_to_buffer(s, again, len), (int64_t)len);
        CHECK_MEM(again, file, len);
        free(again);
        check_sparse(s, r, file, len);
    }
    tersa_schunk_free(s);
    s = tersa_schunk_open_buffer(file, len, TERSA_OPEN_BORROW);
    check_props(s, r, "borrowed");
    tersa_schunk_free(s);
    s = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    check_props(s, r, "file");
    tersa_schunk_free(s);
    free(file);
}

int main(void)
{
    th_manifest m;
    int seen = 0;
    if (th_manifest_load(TERSA_FIXTURES "/MANIFEST.tsv", &m) != 0) return 1;
    for (size_t i = 0; i < m.nrows; i++) {
        const th_manifest_row *r = &m.rows[i];
        if (strcmp(r->kind, "frame") != 0 && strcmp(r->kind, "b2nd") != 0) continue;
        check_one(r);
        seen++;
    }
    CHECK(seen >= 13);
    th_manifest_free(&m);
    return th_report("frame_fixtures");
}

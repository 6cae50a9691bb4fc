/* Hostile frames: every frame fixture with flipped header, metalayer, offsets-index, trailer
 * and chunk bytes, and truncated at many lengths (with frame_len patched to match), opened from
 * memory and some from files. Each must fail with a negative code or open and then decode or
 * fail chunk by chunk; never crash, hang or read out of bounds (run under ASan). */
#include <stdbool.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"
#include "harness.h"
#include "th_manifest.h"
#include "tersa/tersa.h"
#include "tersa/tersa_frame.h"

static int64_t opened, failed;

/* Use everything a reader can reach. */
static void exercise(tersa_schunk *s)
{
    int64_t n = tersa_schunk_nchunks(s);
    uint8_t item[64];
    for (int64_t i = 0; i < n && i < 3; i++) {
        int64_t k = i < 2 ? i : n - 1; /* the first two and the last */
        int32_t nb = 0, cb = 0;
        if (tersa_schunk_chunk_sizes(s, k, &nb, &cb) < 0 || nb <= 0 || nb > (64 << 20)) continue;
        uint8_t *out = malloc((size_t)nb);
        tersa_schunk_decompress_chunk(s, k, out, (size_t)nb);
        tersa_schunk_getitem(s, k, 0, 1, item, sizeof item);
        free(out);
    }
    for (int i = 0; i < tersa_schunk_vlmeta_count(s); i++) {
        const char *name = tersa_schunk_vlmeta_name(s, i);
        int64_t len = tersa_schunk_vlmeta_get(s, name, NULL, 0);
        if (len < 0 || len > (16 << 20)) continue;
        uint8_t *v = malloc((size_t)len + 1);
        tersa_schunk_vlmeta_get(s, name, v, (size_t)len);
        free(v);
    }
    for (int i = 0; i < tersa_schunk_meta_count(s); i++) {
        const uint8_t *c = NULL;
        size_t len = 0;
        CHECK(tersa_schunk_meta_get(s, tersa_schunk_meta_name(s, i), &c, &len) >= 0);
    }
    int64_t total = tersa_schunk_nbytes(s);
    if (total > 300000) total = 300000;
    if (total > 0) {
        uint8_t *all = malloc((size_t)total);
        tersa_schunk_get_slice(s, 0, total, all, (size_t)total);
        free(all);
    }
    int64_t flen = tersa_schunk_frame_len(s);
    if (flen > 0 && flen < (64 << 20)) {
        uint8_t *buf = malloc((size_t)flen);
        int64_t w = tersa_schunk_to_buffer(s, buf, (size_t)flen);
        if (w > 0) { /* what we serialise from a frame we accepted must open again */
            tersa_schunk *again = tersa_schunk_open_buffer(buf, (size_t)w, 0);
            CHECK(again != NULL);
            if (!again) fprintf(stderr, "  re-open of re-serialised frame: %s\n", tersa_error_detail());
            tersa_schunk_free(again);
        }
        free(buf);
    }
}

static void try_buffer(const uint8_t *buf, size_t len)
{
    tersa_schunk *s = tersa_schunk_open_buffer(buf, len, TERSA_OPEN_BORROW);
    th_checks++;
    if (!s) {
        failed++;
        if (tersa_error_detail()[0] == '\0') TH_FAIL_AT("open failed without a detail message");
        return;
    }
    opened++;
    exercise(s);
    tersa_schunk_free(s);
}

static void try_file(const uint8_t *buf, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "test_frame_mutation_%d.b2frame", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(buf, 1, len, f);
    fclose(f);
    tersa_schunk *s = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    th_checks++;
    if (s) {
        exercise(s);
        tersa_schunk_free(s);
    }
    unlink(path);
}

/* Flip one byte (xor) at pos; try it; restore. */
static void flip(uint8_t *buf, size_t len, size_t pos, uint8_t x, bool file)
{
    if (pos >= len) return;
    buf[pos] ^= x;
    try_buffer(buf, len);
    if (file) try_file(buf, len);
    buf[pos] ^= x;
}

static void truncations(uint8_t *buf, size_t len, int32_t hl)
{
    size_t cuts[] = {0, 1, 10, 86, 87, 88, 100, (size_t)hl - 1, (size_t)hl, (size_t)hl + 1,
                     (size_t)hl + 31, (size_t)hl + 32, len / 2, len - 36, len - 35, len - 25,
                     len - 24, len - 23, len - 22, len - 1};
    uint8_t saved[8];
    memcpy(saved, buf + TF_FRAME_LEN, 8);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        size_t n = cuts[i];
        if (n > len) continue;
        try_buffer(buf, n); /* frame_len mismatch */
        if (n >= TF_FRAME_LEN + 8) { /* consistent frame_len: parsing goes further */
            tersa__st64be(buf + TF_FRAME_LEN, n);
            try_buffer(buf, n);
            memcpy(buf + TF_FRAME_LEN, saved, 8);
        }
    }
}

static void mutate_fixture(const char *rel)
{
    char path[1024];
    size_t len = 0;
    uint64_t rng = 77;
    snprintf(path, sizeof path, "%s/%s", TERSA_FIXTURES, rel);
    uint8_t *buf = th_read_file(path, &len);
    CHECK(buf != NULL && len > 200);
    if (!buf || len <= 200) return;
    int32_t hl = (int32_t)tersa__ld32be(buf + TF_HEADER_LEN);
    int64_t cbytes = (int64_t)tersa__ld64be(buf + TF_CBYTES);
    uint32_t tl = tersa__ld32be(buf + len - TF_TRAILER_TAIL + 1);
    size_t tpos = len - tl, opos = (size_t)hl + (size_t)cbytes;
    for (size_t p = 0; p < (size_t)hl && p < 400; p++) { /* header and metalayers */
        flip(buf, len, p, 0xff, p % 16 == 0);
        flip(buf, len, p, 0x01, false);
        if (p < TF_HEADER_MIN) flip(buf, len, p, 0x80, false); /* the fixed fields */
    }
    for (size_t p = opos; p < tpos && p < opos + 200; p++) flip(buf, len, p, 0xff, p % 8 == 0);
    for (size_t p = opos; p < tpos && p < opos + 64; p++) flip(buf, len, p, 0x01, false);
    for (size_t p = tpos; p < len; p++) flip(buf, len, p, 0xff, p % 16 == 0);
    for (size_t p = tpos; p < len && p < tpos + 64; p++) flip(buf, len, p, 0x01, false);
    for (int k = 0; k < 150 && cbytes > 0; k++) { /* chunk bodies, headers first */
        size_t p = (size_t)hl + (k < 40 ? (size_t)k : (size_t)(th_rand(&rng) % (uint64_t)cbytes));
        flip(buf, len, p, (uint8_t)(th_rand(&rng) | 1), k % 25 == 0);
    }
    truncations(buf, len, hl);
    free(buf);
}

int main(void)
{
    th_manifest m;
    if (th_manifest_load(TERSA_FIXTURES "/MANIFEST.tsv", &m) != 0) return 1;
    for (size_t i = 0; i < m.nrows; i++)
        if (strcmp(m.rows[i].kind, "frame") == 0 || strcmp(m.rows[i].kind, "b2nd") == 0)
            mutate_fixture(m.rows[i].path);
    th_manifest_free(&m);
    printf("frame_mutation: %lld mutants opened, %lld refused\n", (long long)opened, (long long)failed);
    CHECK(opened > 0 && failed > 0);
    return th_report("frame_mutation");
}

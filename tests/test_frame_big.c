/* Frames beyond 4 GiB: 64-bit offsets, sizes and positions, cheaply.
 *
 * A file frame gets 5 GiB of unused bytes in its chunk area (what a long life of updates
 * leaves; written as a hole of a sparse file, so the disk holds a few MiB), then 1100 special
 * zero chunks of 4 MiB (no bytes stored; nbytes passes 4 GiB) and real chunks stored beyond
 * 5 GiB. Reopened, every chunk reads back: lazy getitem and whole-chunk reads at file
 * positions above 4 GiB, slices at logical offsets above 4 GiB. Compaction then drops the
 * unused 5 GiB. */
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"
#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_frame.h"

#define CHUNK (4 << 20)
#define GAP ((int64_t)5 << 30)
#define NZERO 1100

static void gen(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        uint32_t v = (uint32_t)(i / 4) + (uint32_t)(th_rand(&s) & 0xff);
        memcpy(p + i, &v, 4);
    }
}

static tersa_schunk *build(const char *path, uint8_t *data)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_TYPESIZE, 4);
    tersa_cctx_set(c, TERSA_P_CODEC, TERSA_CODEC_LZ4);
    tersa_cctx_set(c, TERSA_P_BLOCKSIZE, 65536);
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_FILE, .path = path,
                             .overwrite = 1, .cparams = c};
    tersa_schunk *s = tersa_schunk_create(&p);
    tersa_cctx_free(c);
    CHECK(s != NULL);
    if (!s) return NULL;
    gen(data, CHUNK, 0);
    CHECK_EQ(tersa_schunk_append_buffer(s, data, CHUNK), 1);
    /* Unused bytes, as updates leave them: the committed index now lies inside them. */
    s->cbytes += GAP;
    s->idx_dirty = true;
    CHECK_OK(tersa__schunk_flush(s));
    uint8_t zero[64];
    int64_t zl = tersa_chunk_make_special(TERSA_SPECIAL_ZEROS, 4, CHUNK, NULL, zero, sizeof zero);
    for (int i = 0; i < NZERO; i++) CHECK_EQ(tersa_schunk_append_chunk(s, zero, (size_t)zl), i + 2);
    for (int i = 1; i <= 3; i++) {
        gen(data + (size_t)i * CHUNK, CHUNK, (uint64_t)i);
        CHECK_EQ(tersa_schunk_append_buffer(s, data + (size_t)i * CHUNK, CHUNK), NZERO + 1 + i);
    }
    return s;
}

static void check_contents(tersa_schunk *r, const uint8_t *data)
{
    int64_t n = NZERO + 4, last = n - 1;
    uint8_t *out = malloc(CHUNK);
    CHECK_EQ(tersa_schunk_nchunks(r), n);
    CHECK_EQ(tersa_schunk_nbytes(r), n * CHUNK);
    CHECK(tersa_schunk_nbytes(r) > ((int64_t)1 << 32));
    for (int64_t i = 0; i < n; i += (i < 2 || i >= NZERO ? 1 : 97)) {
        const uint8_t *want = i == 0 ? data : i > NZERO ? data + (size_t)(i - NZERO) * CHUNK : NULL;
        CHECK_EQ(tersa_schunk_decompress_chunk(r, i, out, CHUNK), CHUNK);
        if (want) CHECK_MEM(out, want, CHUNK);
        else CHECK(out[0] == 0 && out[CHUNK - 1] == 0 && out[CHUNK / 2] == 0);
    }
    /* A lazy getitem at a file position above 4 GiB. */
    r->io_read = 0;
    CHECK_EQ(tersa_schunk_getitem(r, last, 700000, 50, out, CHUNK), 200);
    CHECK_MEM(out, data + 3 * (size_t)CHUNK + 2800000, 200);
    CHECK(r->io_read > 0 && r->io_read < 70000);
    /* A slice across the last zero chunk and the first real one beyond it (logical > 4 GiB). */
    int64_t at = (int64_t)(NZERO + 1) * CHUNK - 1000;
    CHECK_EQ(tersa_schunk_get_slice(r, at, 3000, out, CHUNK), 3000);
    for (int k = 0; k < 1000; k++) CHECK_EQ(out[k], 0);
    CHECK_MEM(out + 1000, data + CHUNK, 2000);
    free(out);
}

int main(void)
{
    char path[128];
    snprintf(path, sizeof path, "test_frame_big_%d.b2frame", (int)getpid());
    uint8_t *data = malloc((size_t)4 * CHUNK);
    tersa_schunk *s = build(path, data);
    tersa_schunk_free(s);

    struct stat st;
    CHECK_EQ(stat(path, &st), 0);
    CHECK(st.st_size > GAP);
    printf("frame: %lld bytes long, %lld bytes on disk\n", (long long)st.st_size,
           (long long)st.st_blocks * 512);
    CHECK((int64_t)st.st_blocks * 512 < ((int64_t)64 << 20)); /* a sparse file */

    tersa_schunk *r = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK(r != NULL);
    if (r) {
        CHECK(tersa_schunk_cbytes(r) > GAP);
        check_contents(r, data);
    }
    tersa_schunk_free(r);

    /* Writable again: one more change far out, then compaction drops the gap. */
    r = tersa_schunk_open_file(path, 0, TERSA_OPEN_WRITE);
    CHECK(r != NULL);
    if (r) {
        CHECK_OK(tersa_schunk_vlmeta_set(r, "note", "beyond 4 GiB", 12, NULL));
        CHECK_OK(tersa_schunk_compact(r));
        CHECK(tersa_schunk_cbytes(r) < 4 * CHUNK);
        check_contents(r, data);
    }
    tersa_schunk_free(r);
    CHECK_EQ(stat(path, &st), 0);
    CHECK(st.st_size < 4 * CHUNK);
    r = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    if (r) check_contents(r, data);
    CHECK(r && tersa_schunk_vlmeta_get(r, "note", NULL, 0) == 12);
    tersa_schunk_free(r);
    unlink(path);
    free(data);
    return th_report("frame_big");
}

/* `tersa verify` (and what decompress and cat do with damaged data), driven as real processes:
 * a frame with bytes flipped in the bodies of two chunks is reported chunk by chunk with exit
 * status 1; intact frames, arrays and chunks pass silently; truncated frames fail; a sparse
 * frame directory (written here with the library) is read, described, verified, and its
 * damaged chunk file found. */
#include "tersa/tersa.h"
#include "th_cli.h"

static char src[96], frame[96], bad[96], res[96], dir[96];

static void write_ramp(const char *path, size_t n)
{
    int32_t *v = malloc(n * sizeof *v);
    uint64_t s = 7;
    for (size_t i = 0; v && i < n; i++)
        v[i] = (int32_t)(i * 5 + th_rand(&s) % 16);
    CHECK_EQ(th_write_bytes(path, v, v ? n * sizeof *v : 0), 0);
    free(v);
}

/* Offset of chunk i's bytes inside the frame file (found through the library). */
static long chunk_offset(const unsigned char *f, size_t len, int64_t i)
{
    tersa_schunk *sc = tersa_schunk_open_buffer(f, len, TERSA_OPEN_BORROW);
    int64_t n = sc ? tersa_schunk_get_chunk(sc, i, NULL, 0) : -1;
    unsigned char *c = n > 0 ? malloc((size_t)n) : NULL;
    long off = -1;
    if (c && tersa_schunk_get_chunk(sc, i, c, (size_t)n) == n)
        for (size_t p = 0; p + (size_t)n <= len && off < 0; p++)
            if (memcmp(f + p, c, (size_t)n) == 0)
                off = (long)p;
    free(c);
    tersa_schunk_free(sc);
    return off;
}

/* Flip 8 bytes of chunk i's body (its first block offsets, right after the 32-byte header). */
static void flip_chunk(unsigned char *f, size_t len, int64_t i)
{
    long off = chunk_offset(f, len, i);
    CHECK(off > 0);
    for (long k = off + 32; off > 0 && k < off + 40; k++)
        f[k] ^= 0xFF;
}

static void check_damaged_frame(void)
{
    size_t len = 0;
    write_ramp(src, 200000); /* 800 KB in 64 KiB chunks: 13 chunks */
    EXPECT_RUN(0, "compress", src, "-o", frame, "--codec", "lz4", "--typesize", "4", "--chunksize",
               "64K");
    EXPECT_RUN(0, "verify", frame);
    CHECK_EQ(th_file_size(th_cli_out) + th_file_size(th_cli_err), 0); /* silent */
    EXPECT_RUN(0, "verify", "-v", frame);
    CHECK(th_file_has(th_cli_out, "ok (frame, 13 chunks, 800000 bytes"));
    unsigned char *f = th_read_file(frame, &len);
    CHECK(f != NULL);
    if (!f)
        return;
    flip_chunk(f, len, 2);
    flip_chunk(f, len, 9);
    CHECK_EQ(th_write_bytes(bad, f, len), 0);
    EXPECT_RUN(1, "verify", bad);
    CHECK(th_file_has(th_cli_err, "chunk 2:"));
    CHECK(th_file_has(th_cli_err, "chunk 9:"));
    CHECK(th_file_has(th_cli_err, "2 of 13 chunks damaged"));
    CHECK_EQ(th_file_lines(th_cli_err), 3);
    EXPECT_RUN(1, "verify", frame, bad, "-v"); /* every path checked */
    CHECK(th_file_has(th_cli_out, "ok (frame"));
    CHECK(th_file_has(th_cli_err, "chunk 9:"));
    EXPECT_RUN(1, "decompress", bad, "-o", res);
    CHECK(th_file_has(th_cli_err, "chunk 2"));
    CHECK_EQ(th_file_size(res), -1); /* the partial output is removed */
    EXPECT_RUN(1, "cat", bad, "--raw", "-o", res, "--slice", "40000:40010");
    CHECK(th_file_has(th_cli_err, "chunk 2"));
    EXPECT_RUN(0, "cat", bad, "--raw", "-o", res, "--slice", "0:10"); /* chunk 0 is intact */
    CHECK_EQ(th_file_size(res), 40);
    remove(res);
    CHECK_EQ(th_write_bytes(bad, f, len / 2), 0); /* truncated: the index is gone */
    EXPECT_RUN(1, "verify", bad);
    CHECK_EQ(th_file_lines(th_cli_err), 1);
    free(f);
}

static void check_damaged_array(void)
{
    size_t len = 0;
    unsigned char *f = th_read_file(TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd", &len);
    CHECK(f != NULL);
    if (!f)
        return;
    EXPECT_RUN(0, "verify", "-v", TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd",
               TERSA_FIXTURES "/official-b2/schunk_f64_zstd.b2frame",
               TERSA_FIXTURES "/blosc-compat/blosc-1.3.0-blosclz.cdata");
    CHECK_EQ(th_file_lines(th_cli_out), 3);
    flip_chunk(f, len, 4);
    CHECK_EQ(th_write_bytes(bad, f, len), 0);
    EXPECT_RUN(1, "verify", bad);
    CHECK(th_file_has(th_cli_err, "chunk 4:"));
    EXPECT_RUN(1, "cat", bad, "--raw", "-o", res);
    CHECK_EQ(th_file_size(res), -1);
    EXPECT_RUN(0, "cat", bad, "--raw", "-o", res, "--slice", "0:40,0:50"); /* chunk 0 */
    CHECK_EQ(th_file_size(res), 40 * 50 * 4);
    remove(res);
    free(f);
}

/* A sparse frame directory, written with the library. */
static int make_sparse(const int32_t *v, size_t n)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_TYPESIZE, 4);
    tersa_schunk_params p = {.struct_size = sizeof p,
                             .storage = TERSA_STORAGE_SPARSE,
                             .path = dir,
                             .overwrite = 1,
                             .cparams = c};
    tersa_schunk *sc = tersa_schunk_create(&p);
    int ok = sc != NULL;
    for (size_t i = 0; ok && i < 3; i++)
        ok = tersa_schunk_append_buffer(sc, v + i * n / 3, n / 3 * 4) > 0;
    tersa_schunk_free(sc);
    tersa_cctx_free(c);
    return ok ? 0 : -1;
}

static void remove_sparse(void)
{
    char p[160];
    for (int i = 0; i < 8; i++) {
        snprintf(p, sizeof p, "%s/%08X.chunk", dir, i);
        remove(p);
    }
    snprintf(p, sizeof p, "%s/chunks.b2frame", dir);
    remove(p);
    rmdir(dir);
}

static void check_sparse(void)
{
    enum { N = 30000 };
    int32_t *v = malloc(N * sizeof *v);
    char chunk1[160];
    for (int i = 0; v && i < N; i++)
        v[i] = i * 3;
    CHECK_EQ(v ? make_sparse(v, N) : -1, 0);
    EXPECT_RUN(0, "info", dir, "--json");
    CHECK(th_file_has(th_cli_out, "\"storage\": \"sparse\""));
    CHECK(th_file_has(th_cli_out, "\"nchunks\": 3"));
    EXPECT_RUN(0, "decompress", dir, "-o", res);
    size_t len = 0;
    unsigned char *b = th_read_file(res, &len);
    CHECK(b && v && len == N * sizeof *v && memcmp(b, v, len) == 0);
    free(b);
    remove(res);
    EXPECT_RUN(0, "verify", dir);
    snprintf(chunk1, sizeof chunk1, "%s/00000001.chunk", dir);
    b = th_read_file(chunk1, &len);
    CHECK(b && len > 40);
    for (size_t k = 32; b && k < 40 && k < len; k++)
        b[k] ^= 0xFF;
    CHECK_EQ(b ? th_write_bytes(chunk1, b, len) : -1, 0);
    free(b);
    EXPECT_RUN(1, "verify", dir);
    CHECK(th_file_has(th_cli_err, "chunk 1:"));
    CHECK(th_file_has(th_cli_err, "1 of 3 chunks damaged"));
    remove_sparse();
    free(v);
}

int main(int argc, char **argv)
{
    if (th_cli_setup(argc, argv, "test_cli_verify"))
        return 1;
    th_cli_name(src, sizeof src, "src");
    th_cli_name(frame, sizeof frame, "b2frame");
    th_cli_name(bad, sizeof bad, "bad");
    th_cli_name(res, sizeof res, "res");
    th_cli_name(dir, sizeof dir, "sparse");
    check_damaged_frame();
    check_damaged_array();
    check_sparse();
    remove(src);
    remove(frame);
    remove(bad);
    th_cli_cleanup();
    return th_report("cli_verify");
}

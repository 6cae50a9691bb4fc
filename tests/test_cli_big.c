/* `tersa convert` on inputs larger than the memory the CLI may use, and `convert -r`.
 * Big: a ~600 MiB .npy of int64 i (written here in 1 MiB pieces) becomes a b2nd array while the
 * child runs under RLIMIT_AS = 256 MiB (not set in sanitizer builds, whose shadow memory needs
 * more address space), then a few slices read back with `cat --raw --slice` are checked.
 * Repack: an HDF5 file with a gzip dataset and a contiguous one in nested groups (made with
 * h5import when it is installed) plus Blosc2 datasets written by `tersa convert` is repacked with
 * -r; every dataset reads back with the same digest and `ls -r` shows only Blosc2 filters. */
#include <sys/resource.h>

#include "th_cli.h"

#define FIX TERSA_FIXTURES "/official-h5/"
#define BIG_ITEMS ((int64_t)75 << 20) /* 600 MiB of int64 */

#if defined(__SANITIZE_ADDRESS__)
#define TH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define TH_SANITIZED 1
#endif
#endif
#ifndef TH_SANITIZED
#define TH_SANITIZED 0
#endif

/* Run the CLI in a child whose address space is limited to limit bytes (0: no limit). */
static int run_limited(const char *const *args, rlim_t limit)
{
    const char *argv[16] = {th_cli_path};
    int n = 1;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    remove(th_cli_err);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {limit, limit};
        int out = open(th_cli_out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(th_cli_err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        if (limit && setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(126);
        execv(th_cli_path, (char *const *)argv);
        _exit(127);
    }
    return th_cli_wait(pid);
}

/* The .npy of int64 0, 1, ..., BIG_ITEMS - 1, written piece by piece. */
static int write_big_npy(const char *path)
{
    const int64_t shape[1] = {BIG_ITEMS};
    enum { PIECE = 1 << 17 };
    int64_t *v = malloc(PIECE * sizeof *v);
    int rc = v ? th_write_npy(path, "<i8", 1, shape, NULL, 0) : -1;
    FILE *f = rc == 0 ? fopen(path, "ab") : NULL;
    for (int64_t i = 0; f && i < BIG_ITEMS; i += PIECE) {
        for (int64_t j = 0; j < PIECE; j++)
            v[j] = i + j;
        if (fwrite(v, sizeof *v, PIECE, f) != PIECE)
            rc = -1;
    }
    if (!f || fclose(f) != 0)
        rc = -1;
    free(v);
    return rc;
}

/* `cat --raw --slice a:b` of the array holds a, a + 1, ..., b - 1. */
static int slice_is_arange(const char *arr, int64_t a, int64_t b)
{
    char spec[64], out[96];
    th_cli_name(out, sizeof out, "slice");
    snprintf(spec, sizeof spec, "%lld:%lld", (long long)a, (long long)b);
    const char *args[] = {"cat", arr, "--raw", "--slice", spec, "-o", out, "-f", NULL};
    size_t len = 0;
    int ok = th_cli_run(args) == 0;
    unsigned char *d = ok ? th_read_file(out, &len) : NULL;
    ok = d && len == (size_t)(b - a) * 8;
    for (int64_t i = 0; ok && i < b - a; i++) {
        int64_t x;
        memcpy(&x, d + i * 8, 8);
        ok = x == a + i;
    }
    free(d);
    remove(out);
    return ok;
}

static void check_big(void)
{
    char npy[96], nd[96];
    th_cli_name(npy, sizeof npy, "big.npy");
    th_cli_name(nd, sizeof nd, "big.b2nd");
    CHECK_EQ(write_big_npy(npy), 0);
    CHECK_EQ(th_file_size(npy), (long)(BIG_ITEMS * 8 + 128));
    const char *conv[] = {"convert", npy, nd, "--codec", "lz4", "-f", NULL};
    int st = run_limited(conv, TH_SANITIZED ? 0 : (rlim_t)256 << 20);
    CHECK_EQ(st, 0);
    if (st != 0)
        th_cli_explain(conv);
    remove(npy); /* the disk space back before reading */
    CHECK(th_file_size(nd) > 0 && th_file_size(nd) < (long)(BIG_ITEMS * 8 / 4));
    CHECK(slice_is_arange(nd, 0, 5));
    CHECK(slice_is_arange(nd, 40000000, 40000333));
    CHECK(slice_is_arange(nd, BIG_ITEMS - 7, BIG_ITEMS));
    remove(nd);
}

/* ---- repack ---------------------------------------------------------------------------- */

/* gzip (chunked) and contiguous int32 datasets in nested groups, made with h5import. */
static int make_h5import_file(const char *h5)
{
    char txt[96], gz[96], pl[96];
    th_cli_name(txt, sizeof txt, "in.txt");
    th_cli_name(gz, sizeof gz, "gz.conf");
    th_cli_name(pl, sizeof pl, "pl.conf");
    FILE *f = fopen(txt, "w");
    for (int i = 0; f && i < 600; i++)
        fprintf(f, "%d\n", (i * 7) % 113 - 50);
    int ok = f && fclose(f) == 0;
    const char *cg = "PATH g1/g2/gz\nINPUT-CLASS TEXTIN\nRANK 2\nDIMENSION-SIZES 20 30\n"
                     "OUTPUT-CLASS IN\nOUTPUT-SIZE 32\nCHUNKED-DIMENSION-SIZES 7 8\n"
                     "COMPRESSION-TYPE GZIP\nCOMPRESSION-PARAM 6\n";
    const char *cp = "PATH g1/plain\nINPUT-CLASS TEXTIN\nRANK 1\nDIMENSION-SIZES 600\n"
                     "OUTPUT-CLASS IN\nOUTPUT-SIZE 32\n";
    ok = ok && th_write_bytes(gz, cg, strlen(cg)) == 0 && th_write_bytes(pl, cp, strlen(cp)) == 0;
    const char *argv[] = {"h5import", txt, "-c", gz, txt, "-c", pl, "-o", h5, NULL};
    pid_t pid = -1;
    if (ok && posix_spawnp(&pid, "h5import", NULL, NULL, (char *const *)argv, environ) != 0)
        pid = -1;
    ok = ok && th_cli_wait(pid) == 0;
    remove(txt), remove(gz), remove(pl);
    return ok;
}

/* The digest of `cat --raw FILE:DSET`; 0 when the command failed. */
static int raw_digest(const char *file, const char *dset, char hex[65])
{
    char arg[200], out[96];
    th_cli_name(out, sizeof out, "raw");
    snprintf(arg, sizeof arg, "%s:%s", file, dset);
    const char *args[] = {"cat", "--raw", arg, "-o", out, "-f", NULL};
    int ok = th_cli_run(args) == 0;
    if (ok)
        th_file_sha256(out, hex);
    remove(out);
    return ok;
}

static void check_same_dataset(const char *a, const char *b, const char *dset)
{
    char ha[65] = "", hb[65] = "";
    CHECK(raw_digest(a, dset, ha));
    CHECK(raw_digest(b, dset, hb));
    CHECK(strcmp(ha, hb) == 0);
    if (strcmp(ha, hb) != 0)
        fprintf(stderr, "  %s differs after the repack\n", dset);
}

static void check_repack(void)
{
    char src[96], dst[96], npy[96], a1[140], a2[140];
    const int64_t shape[2] = {40, 50};
    double v[2000];
    for (int i = 0; i < 2000; i++)
        v[i] = i * 0.25;
    th_cli_name(src, sizeof src, "src.h5");
    th_cli_name(dst, sizeof dst, "dst.h5");
    th_cli_name(npy, sizeof npy, "v.npy");
    int imported = make_h5import_file(src);
    if (!imported)
        fprintf(stderr, "test_cli_big: h5import not usable; repack without gzip datasets\n");
    CHECK_EQ(th_write_npy(npy, "<f8", 2, shape, v, sizeof v), 0);
    snprintf(a1, sizeof a1, "%s:/g1/b2/zstd", src);
    snprintf(a2, sizeof a2, "%s:/top", src);
    EXPECT_RUN(0, "convert", npy, a1, "--codec", "zstd", "--clevel", "9", "--chunks", "8,10");
    EXPECT_RUN(0, "convert", npy, a2, "--codec", "lz4", "--filter", "none");
    EXPECT_RUN(0, "convert", "-r", "-v", src, dst, "--codec", "blosclz", "--clevel", "7");
    static const char *const dsets[] = {"/g1/b2/zstd", "/top", "/g1/g2/gz", "/g1/plain"};
    for (int i = 0; i < (imported ? 4 : 2); i++)
        check_same_dataset(src, dst, dsets[i]);
    EXPECT_RUN(0, "ls", "-r", dst);
    CHECK(th_file_has(th_cli_out, "/g1/b2"));
    CHECK(th_file_has(th_cli_out, "blosclz clevel=7"));
    CHECK(!th_file_has(th_cli_out, "deflate"));
    CHECK(!th_file_has(th_cli_out, "filters=none"));
    CHECK(!imported || th_file_has(th_cli_out, "/g1/g2/gz"));
    EXPECT_RUN(1, "convert", "-r", src, dst); /* exists */
    EXPECT_RUN(2, "convert", "-r", src, dst, "-f", "--slice", "0:3");
    EXPECT_RUN(2, "convert", "-r", src, npy, "-f"); /* DST not *.h5 */
    EXPECT_RUN(0, "convert", "-r", FIX "compound_rec_1d.h5", dst, "-f");
    check_same_dataset(FIX "compound_rec_1d.h5", dst, "/records");
    remove(src), remove(dst), remove(npy);
}

int main(int argc, char **argv)
{
    if (th_cli_setup(argc, argv, "test_cli_big"))
        return 1;
    check_big();
    const char *probe[] = {"ls", FIX "lin_f64_1d.h5", NULL};
    if (th_cli_run(probe) == 0)
        check_repack();
    else
        fprintf(stderr, "test_cli_big: no HDF5 layer in this build; repack not tested\n");
    th_cli_cleanup();
    return th_report("cli_big");
}

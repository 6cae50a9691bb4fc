/* The `tersa` command, driven as a real process: help and exit statuses, option errors (exit 2,
 * one line naming the option), every fixture of the manifest decoded through the CLI contract
 * (chunks and frames with `decompress`, b2nd arrays and HDF5 datasets with `cat --raw`), info
 * and its JSON keys, compress/decompress round trips through files and pipes, zstd-like
 * output naming and overwrite rules, the demo and the benchmarks in their quick forms.
 * Conversions are in test_cli_convert.c, verify in test_cli_verify.c, the man page in
 * test_cli_man.c. */
#include "tersa/tersa.h"
#include "th_cli.h"
#include "th_manifest.h"

/* The command names listed by `tersa --help` (lines after "Commands:"). */
static int list_commands(char names[][32], int max)
{
    const char *args[] = {"--help", NULL};
    size_t len = 0;
    int n = 0;
    if (th_cli_run(args) != 0)
        return 0;
    char *b = (char *)th_read_file(th_cli_out, &len), *p = b ? strstr(b, "Commands:\n") : NULL;
    for (p = p ? strchr(p, '\n') + 1 : NULL; p && p[0] == ' ' && p[1] == ' ' && n < max;) {
        sscanf(p, " %31s", names[n++]);
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    free(b);
    return n;
}

static void check_help(void)
{
    char names[16][32];
    int n = list_commands(names, 16);
    CHECK_EQ(n, 9);
    for (int i = 0; i < n; i++) {
        char want[600];
        snprintf(want, sizeof want, "usage: tersa %s", names[i]);
        EXPECT_RUN(0, names[i], "--help");
        CHECK(th_file_has(th_cli_out, want));
        EXPECT_RUN(0, "help", names[i]);
        CHECK(th_file_has(th_cli_out, want));
    }
    EXPECT_RUN(0, "--version");
    CHECK(th_file_has(th_cli_out, tersa_version()));
}

/* A usage error: exit 2, one line on stderr that names `what`. */
#define EXPECT_USAGE(what, ...)                                                                    \
    do {                                                                                           \
        EXPECT_RUN(2, __VA_ARGS__);                                                                \
        CHECK(th_file_has(th_cli_err, what));                                                      \
        CHECK_EQ(th_file_lines(th_cli_err), 1);                                                    \
    } while (0)

static void check_usage_errors(void)
{
    const char *none[] = {NULL};
    CHECK_EQ(th_cli_run(none), 2);
    EXPECT_USAGE("frobnicate", "frobnicate");
    EXPECT_USAGE("--frobnicate", "--frobnicate");
    EXPECT_USAGE("--bogus-option", "decompress", "--bogus-option", "x.cdata", "-o", "y");
    EXPECT_USAGE("--json", "info", "--json=yes", "x.cdata");
    EXPECT_USAGE("-o", "decompress", "x.cdata", "-o");
    EXPECT_USAGE("--threads", "decompress", "x.cdata", "--threads", "0");
    EXPECT_USAGE("--threads", "demo", "--threads", "0");
    EXPECT_USAGE("0..9", "compress", "x", "-o", "y", "--clevel", "10");
    EXPECT_USAGE("nosuch", "compress", "x", "-o", "y", "--codec", "nosuch");
    EXPECT_USAGE("--typesize", "compress", "x", "-o", "y", "--typesize", "0");
    EXPECT_USAGE("--filter", "compress", "x", "-o", "y", "--filter", "nosuch");
    EXPECT_USAGE("--filter", "compress", "x", "-o", "y", "--filter", "delta,nosuch");
    EXPECT_USAGE("--blocksize", "compress", "x", "-o", "y", "--blocksize", "1G");
    EXPECT_USAGE("--chunksize", "compress", "x", "-o", "y", "--chunksize", "0");
    EXPECT_USAGE("--splitmode", "compress", "x", "--splitmode=9");
    EXPECT_USAGE("-o", "compress", "a", "b", "-o", "y");
    EXPECT_USAGE("--slice", "cat", TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd",
                 "--slice", "0:5,200");
    EXPECT_USAGE("--slice", "cat", TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd",
                 "--slice", "::-1");
    EXPECT_USAGE("--slice", "cat", TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd",
                 "--slice", "1,2,3");
    EXPECT_USAGE("--dtype", "cat", TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd",
                 "--dtype", "<f8");
    EXPECT_USAGE("--dtype", "cat", "x", "--dtype", "float");
    EXPECT_USAGE("cat", "cat", "a", "b");
    EXPECT_USAGE("--codec", "convert", "a.npy", "b.b2nd", "--codec", "lz5");
    EXPECT_USAGE("--to", "convert", "a.npy", "-", "--to", "hdf4");
    EXPECT_USAGE("--to", "convert", "a.npy", "b.unknown");
    EXPECT_USAGE("verify", "verify");
    EXPECT_USAGE("info", "info");
    EXPECT_RUN(2, "bench", "--codecs", "lz4,nosuch");
    EXPECT_RUN(2, "bench", "--runs", "0");
    EXPECT_RUN(2, "bench", "--threads", "1,0");
    EXPECT_RUN(2, "bench", "--datasets", "nosuch");
    EXPECT_USAGE("--nosuch", "bench", "--nosuch");
    EXPECT_USAGE("--typesize", "bench", "x", "--typesize", "300");
}

/* One fixture row through the CLI contract; 1 when it decoded to the manifest digest. */
static int decode_row(const th_manifest_row *r, const char *tmp, int h5)
{
    char in[600], hex[65];
    const char *want = r->sha256_decoded;
    snprintf(in, sizeof in, "%s/%s", TERSA_FIXTURES, r->path);
    remove(tmp);
    if (!strcmp(r->kind, "chunk") || !strcmp(r->kind, "frame") || !strcmp(r->kind, "sframe")) {
        const char *args[] = {"decompress", in, "-o", tmp, NULL};
        if (th_cli_run(args) != 0)
            return th_cli_explain(args), 0;
    } else {
        if (!strcmp(r->kind, "hdf5"))
            strncat(in, ":", sizeof in - strlen(in) - 1);
        if (!strcmp(r->kind, "hdf5"))
            strncat(in, r->dataset, sizeof in - strlen(in) - 1);
        const char *args[] = {"cat", in, "--raw", "-o", tmp, NULL};
        int st = th_cli_run(args);
        if (!h5 && !strcmp(r->kind, "hdf5"))
            return st == 1 && th_file_has(th_cli_err, "HDF5");
        if (st != 0)
            return th_cli_explain(args), 0;
        want = r->sha256_array_c_order;
    }
    th_file_sha256(tmp, hex);
    if (strcmp(hex, want) != 0)
        TH_FAIL_AT("%s %s: digest differs", r->path, r->dataset);
    return strcmp(hex, want) == 0;
}

/* b2nd arrays also decompress to their stored chunks (with padding). */
static void check_b2nd_decompress(const th_manifest_row *r, const char *tmp)
{
    char in[600], hex[65];
    snprintf(in, sizeof in, "%s/%s", TERSA_FIXTURES, r->path);
    EXPECT_RUN(0, "decompress", in, "-o", tmp, "-f");
    th_file_sha256(tmp, hex);
    CHECK_STR(hex, r->sha256_decoded);
}

static void check_fixtures(const th_manifest *m, const char *tmp)
{
    char h5file[600];
    snprintf(h5file, sizeof h5file, "%s/official-h5/lin_f64_1d.h5:/lin", TERSA_FIXTURES);
    const char *probe[] = {"info", h5file, NULL};
    int h5 = th_cli_run(probe) == 0, total = 0, ok = 0;
    for (size_t i = 0; i < m->nrows; i++) {
        const th_manifest_row *r = &m->rows[i];
        if (!strncmp(r->kind, "raw-", 4))
            continue;
        total++;
        ok += decode_row(r, tmp, h5);
        if (!strcmp(r->kind, "b2nd"))
            check_b2nd_decompress(r, tmp);
    }
    printf("cli fixtures: %d/%d decoded exactly (HDF5 %s)\n", ok, total,
           h5 ? "read" : "not in this build: refusal checked");
    CHECK_EQ(ok, total);
    CHECK(total >= 40);
    remove(tmp);
}

static void check_info(const char *tmp)
{
    const char *chunk = TERSA_FIXTURES "/blosc-compat/blosc-zstd-3.0.0.cdata";
    EXPECT_RUN(0, "info", chunk);
    CHECK(th_file_has(th_cli_out, "4000000"));
    CHECK(th_file_has(th_cli_out, "zstd"));
    EXPECT_RUN(0, "info", chunk, "--json");
    static const char *keys[] = {
        "\"kind\": \"chunk\"", "\"shape\": null",  "\"dtype\": null",
        "\"codec\": \"zstd\"", "\"clevel\": null", "\"filters\": [\"shuffle\"]",
        "\"nbytes\": 4000000", "\"cbytes\": ",     "\"valid\": true"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK(th_file_has(th_cli_out, keys[i]));
    /* A truncated chunk: the header parses, validation fails, exit 1. */
    size_t len = 0;
    unsigned char *b = th_read_file(chunk, &len);
    CHECK(b != NULL && len > 200);
    CHECK_EQ(th_write_bytes(tmp, b, 200), 0);
    free(b);
    EXPECT_RUN(1, "info", tmp, "--json");
    CHECK(th_file_has(th_cli_out, "\"valid\": false"));
    EXPECT_RUN(1, "decompress", tmp, "-o", "/dev/null");
    remove(tmp);
    EXPECT_RUN(1, "info", "no-such-file.cdata");
    CHECK(th_file_has(th_cli_err, "no-such-file.cdata"));
}

static void check_info_containers(void)
{
    EXPECT_RUN(0, "info", "--json", TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd");
    static const char *nd[] = {"\"kind\": \"b2nd\"",
                               "\"shape\": [100, 120]",
                               "\"dtype\": \"<f4\"",
                               "\"chunkshape\": [40, 50]",
                               "\"blockshape\": [15, 20]",
                               "\"codec\": \"blosclz\"",
                               "\"clevel\": 9",
                               "\"filters\": [\"bitshuffle\"]",
                               "\"nbytes\": ",
                               "\"cbytes\": ",
                               "\"nchunks\": 9",
                               "\"metalayers\": [{\"name\": \"b2nd\""};
    for (size_t i = 0; i < sizeof nd / sizeof nd[0]; i++)
        CHECK(th_file_has(th_cli_out, nd[i]));
    EXPECT_RUN(0, "info", "--json", TERSA_FIXTURES "/official-b2/schunk_f64_zstd.b2frame");
    static const char *fr[] = {"\"kind\": \"frame\"",
                               "\"shape\": null",
                               "\"codec\": \"zstd\"",
                               "\"nchunks\": 5",
                               "\"special_chunks\": {\"zeros\": 1",
                               "\"vlmetalayers\": [{\"name\": \"info\""};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++)
        CHECK(th_file_has(th_cli_out, fr[i]));
    /* Several paths: a JSON array. */
    EXPECT_RUN(0, "info", "--json", TERSA_FIXTURES "/blosc-frames/frame_simple-lz4.b2frame",
               TERSA_FIXTURES "/blosc-compat/blosc-lz4-3.0.0.cdata");
    size_t len = 0;
    unsigned char *b = th_read_file(th_cli_out, &len);
    CHECK(b && len > 2 && b[0] == '[' && b[len - 2] == ']');
    free(b);
}

/* n int32 of a noisy ramp. */
static void write_ramp(const char *path, size_t n)
{
    int32_t *v = malloc(n * sizeof *v);
    uint64_t s = 42;
    for (size_t i = 0; v && i < n; i++)
        v[i] = (int32_t)(i * 3 + th_rand(&s) % 4);
    CHECK_EQ(th_write_bytes(path, v, v ? n * sizeof *v : 0), 0);
    free(v);
}

static int same_files(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    unsigned char *x = th_read_file(a, &la), *y = th_read_file(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static void check_roundtrip_files(const char *tmp)
{
    char src[128], frame[128], chunk[128];
    snprintf(src, sizeof src, "%s.src", tmp);
    snprintf(frame, sizeof frame, "%s.src.b2frame", tmp);
    snprintf(chunk, sizeof chunk, "%s.cdata", tmp);
    write_ramp(src, 600001); /* 2.4 MB: several 256 KiB chunks, a short last one */
    EXPECT_RUN(0, "compress", src, "--codec", "zstd", "--clevel", "3", "--typesize=4", "--filter",
               "bitshuffle", "--threads", "2", "--chunksize", "256K");
    CHECK_EQ(th_file_size(th_cli_err), 0); /* quiet */
    EXPECT_RUN(0, "info", frame, "--json");
    CHECK(th_file_has(th_cli_out, "\"filters\": [\"bitshuffle\"]"));
    CHECK(th_file_has(th_cli_out, "\"nchunks\": 10"));
    CHECK(th_file_has(th_cli_out, "\"chunksize\": 262144"));
    EXPECT_RUN(1, "compress", src, "--chunksize", "256K"); /* exists, no -f */
    CHECK(th_file_has(th_cli_err, "-f"));
    EXPECT_RUN(0, "decompress", frame, "-o", tmp, "--threads", "2");
    CHECK(same_files(src, tmp));
    remove(tmp);
    EXPECT_RUN(0, "compress", src, "--chunk", "-o", chunk, "--codec", "lz4", "--typesize", "4");
    EXPECT_RUN(0, "info", chunk);
    CHECK(th_file_has(th_cli_out, "lz4"));
    EXPECT_RUN(0, "decompress", chunk, "-o", tmp);
    CHECK(same_files(src, tmp));
    remove(tmp);
    remove(chunk);
    remove(frame);
    remove(src);
}

/* Default names (FILE.b2frame and back), --rm, -k, -v. */
static void check_naming(const char *tmp)
{
    char src[128], frame[128];
    snprintf(src, sizeof src, "%s.nm", tmp);
    snprintf(frame, sizeof frame, "%s.nm.b2frame", tmp);
    write_ramp(src, 1000);
    EXPECT_RUN(0, "compress", src, "--rm", "-v");
    CHECK(th_file_has(th_cli_err, "ratio"));
    CHECK_EQ(th_file_size(src), -1);
    EXPECT_RUN(0, "decompress", frame, "-k");
    CHECK_EQ(th_file_size(src), 4000);
    CHECK_EQ(th_file_size(frame) > 0, 1);
    EXPECT_RUN(1, "decompress", frame); /* the output exists */
    EXPECT_RUN(0, "decompress", frame, "-f", "--rm");
    CHECK_EQ(th_file_size(frame), -1);
    EXPECT_RUN(2, "decompress", src); /* no suffix to drop */
    CHECK(th_file_has(th_cli_err, "-o"));
    EXPECT_RUN(1, "compress", src, "-o", src, "-f"); /* same file */
    CHECK_EQ(th_file_size(src), 4000);
    remove(src);
}

/* compress | decompress through pipes, and stdin/stdout with "-". */
static void check_pipes(const char *tmp)
{
    char src[128], out[128];
    int sa = 0, sb = 0;
    snprintf(src, sizeof src, "%s.pipe", tmp);
    snprintf(out, sizeof out, "%s.pipe.out", tmp);
    write_ramp(src, 1500000); /* 6 MB: two 4 MiB frame chunks */
    const char *comp[] = {"compress", "--typesize", "4", "--codec", "lz4", NULL};
    const char *dec[] = {"decompress", "-", "--threads", "2", NULL};
    th_cli_pipe(comp, dec, src, out, &sa, &sb);
    CHECK_EQ(sa, 0);
    CHECK_EQ(sb, 0);
    CHECK(same_files(src, out));
    const char *comp2[] = {"compress", "-", "-c", "--chunk", NULL};
    const char *info[] = {"info", "-", NULL};
    th_cli_pipe(comp2, info, src, out, &sa, &sb);
    CHECK_EQ(sa, 0);
    CHECK_EQ(sb, 0);
    CHECK(th_file_has(out, "chunk"));
    const char *comp3[] = {"compress", "-c", src, NULL};
    const char *cat[] = {"cat", "-", "--raw", "--slice", "4:12", NULL};
    th_cli_pipe(comp3, cat, NULL, out, &sa, &sb);
    CHECK_EQ(sa, 0);
    CHECK_EQ(sb, 0);
    CHECK_EQ(th_file_size(out), 64); /* items of the frame's typesize 8 */
    remove(src);
    remove(out);
}

static void check_demo_and_bench(const char *tmp)
{
    char src[128];
    EXPECT_RUN(0, "demo", "--quick");
    CHECK(th_file_has(th_cli_out, "memcpy"));
    CHECK(th_file_has(th_cli_out, "verified"));
    CHECK(th_file_has(th_cli_out, "equal the generated data") ||
          th_file_has(th_cli_out, "HDF5 part skipped"));
    EXPECT_RUN(0, "bench", "--quick", "--size", "1", "--runs", "1", "--codecs", "lz4,zstd",
               "--filters", "shuffle", "--threads", "1", "--datasets", "f32_noisy", "--json");
    CHECK(th_file_has(th_cli_out, "\"failed\": 0"));
    snprintf(src, sizeof src, "%s.bench", tmp);
    write_ramp(src, 300000);
    EXPECT_RUN(0, "bench", src, "--typesize", "4", "--runs", "1", "--codecs", "lz4,zstd",
               "--filters", "shuffle,bitshuffle", "--threads", "1,2", "--chunk", "256", "--json");
    CHECK(th_file_has(th_cli_out, "\"cells\": 8"));
    CHECK(th_file_has(th_cli_out, "\"failed\": 0"));
    CHECK(th_file_has(th_cli_out, "\"typesize\": 4"));
    EXPECT_RUN(0, "bench", TERSA_FIXTURES "/official-b2/b2nd_f32_2d_blosclz.b2nd", "--runs", "1",
               "--codecs", "blosclz", "--filters", "shuffle", "--threads", "1");
    CHECK(th_file_has(th_cli_out, "typesize 4"));
    CHECK(th_file_has(th_cli_out, "48000 bytes"));
    remove(src);
}

int main(int argc, char **argv)
{
    if (th_cli_setup(argc, argv, "test_cli"))
        return 1;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.tmp", th_cli_tmp);
    th_manifest m;
    CHECK_EQ(th_manifest_load(TERSA_FIXTURES "/MANIFEST.tsv", &m), 0);
    check_help();
    check_usage_errors();
    check_fixtures(&m, tmp);
    check_info(tmp);
    check_info_containers();
    check_roundtrip_files(tmp);
    check_naming(tmp);
    check_pipes(tmp);
    check_demo_and_bench(tmp);
    th_manifest_free(&m);
    th_cli_cleanup();
    return th_report("cli");
}

/* `tersa ls` on the official HDF5 fixtures and on a file the demo writes (-o): the text lines
 * (shape, dtype, chunks, Blosc2 codec/clevel/filter and cd_values, ratio), -r against the
 * root's direct members, FILE:/GROUP, --json checked by a small JSON validator and by counting
 * its objects; errors (missing file, not HDF5, usage). Then `demo --quick`: exit 0, the HDF5
 * verification line, the kept file and the overwrite rule of -o. Without the HDF5 layer: the
 * clean refusals of ls and the demo's note. */
#include "th_cli.h"

#define FIX TERSA_FIXTURES "/official-h5/"

/* ---- a minimal JSON validator (structure only) ---------------------------------------------- */

static const char *js_value(const char *p, int depth);

static const char *js_ws(const char *p)
{
    while (p && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

static const char *js_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (; *p && *p != '"'; p++)
        if (*p == '\\' && !*++p)
            return NULL;
        else if ((unsigned char)*p < 0x20)
            return NULL;
    return *p == '"' ? p + 1 : NULL;
}

static const char *js_number(const char *p)
{
    char *end = NULL;
    if (!strchr("-0123456789", *p))
        return NULL;
    strtod(p, &end);
    return end && end != p ? end : NULL;
}

/* Members of an object ('}') or items of an array (']'). */
static const char *js_items(const char *p, char close, int depth)
{
    p = js_ws(p + 1);
    if (p && *p == close)
        return p + 1;
    while (p) {
        if (close == '}') {
            p = js_ws(js_string(js_ws(p)));
            if (!p || *p++ != ':')
                return NULL;
        }
        p = js_ws(js_value(p, depth + 1));
        if (!p || *p == close)
            return p ? p + 1 : NULL;
        if (*p++ != ',')
            return NULL;
    }
    return NULL;
}

static const char *js_value(const char *p, int depth)
{
    p = js_ws(p);
    if (!p || depth > 64)
        return NULL;
    if (*p == '{' || *p == '[')
        return js_items(p, *p == '{' ? '}' : ']', depth);
    if (*p == '"')
        return js_string(p);
    for (const char *const *w = (const char *const[]){"true", "false", "null", NULL}; *w; w++)
        if (!strncmp(p, *w, strlen(*w)))
            return p + strlen(*w);
    return js_number(p);
}

/* The captured stdout as a NUL-terminated string (malloc'd; NULL when unreadable). */
static char *out_text(void)
{
    size_t len = 0;
    unsigned char *b = th_read_file(th_cli_out, &len);
    char *s = b ? realloc(b, len + 1) : NULL;
    if (!s)
        free(b);
    else
        s[len] = '\0';
    return s;
}

/* 1 when the output file is exactly one JSON object (plus white space). */
static int out_is_json(void)
{
    char *b = out_text();
    const char *e = b && b[0] == '{' ? js_ws(js_value(b, 0)) : NULL;
    int ok = e && *e == '\0';
    free(b);
    return ok;
}

/* Occurrences of s in the output. */
static int out_count(const char *s)
{
    char *b = out_text();
    int n = 0;
    for (const char *p = b ? strstr(b, s) : NULL; p; p = strstr(p + 1, s))
        n++;
    free(b);
    return n;
}

/* The JSON's "count" agrees with its objects. */
static void check_json_count(int want)
{
    char c[32];
    CHECK(out_is_json());
    CHECK_EQ(out_count("\"path\": "), want);
    snprintf(c, sizeof c, "\"count\": %d}", want);
    CHECK(th_file_has(th_cli_out, c));
}

/* ---- the fixtures ------------------------------------------------------------------------ */

static void check_fixture_lines(void)
{
    EXPECT_RUN(0, "ls", FIX "lin_f64_1d.h5");
    CHECK(th_file_has(th_cli_out, "/lin "));
    CHECK(th_file_has(th_cli_out, "dataset (200000,) <f8 chunks=(65536,)"));
    CHECK(th_file_has(th_cli_out, "blosc2(blosclz clevel=5 shuffle cd=1:0:8:524288:5:1:0)"));
    CHECK(th_file_has(th_cli_out, "size=1600000 stored="));
    CHECK(th_file_has(th_cli_out, "ratio="));
    CHECK_EQ(th_file_lines(th_cli_out), 1);
    EXPECT_RUN(0, "ls", FIX "noisy_u16_3d.h5");
    CHECK(th_file_has(th_cli_out, "/images "));
    CHECK(th_file_has(th_cli_out, "group"));
    CHECK(!th_file_has(th_cli_out, "/images/stack"));
    EXPECT_RUN(0, "ls", "-r", FIX "noisy_u16_3d.h5");
    CHECK_EQ(th_file_lines(th_cli_out), 2);
    CHECK(th_file_has(th_cli_out, "/images/stack"));
    CHECK(th_file_has(th_cli_out, "dataset (8, 256, 256) <u2 chunks=(1, 256, 256)"));
    CHECK(th_file_has(th_cli_out, "zstd clevel=5 shuffle cd=1:0:2:131072:5:1:5:3:1:256:256"));
    EXPECT_RUN(0, "ls", FIX "noisy_u16_3d.h5:/images");
    CHECK(th_file_has(th_cli_out, "/images/stack"));
    EXPECT_RUN(0, "ls", "--recursive", FIX "arange_i32_2d.h5");
    CHECK(th_file_has(th_cli_out, "<i4 chunks=(128, 128)"));
    CHECK(th_file_has(th_cli_out, "lz4 clevel=5 bitshuffle"));
    EXPECT_RUN(0, "ls", FIX "compound_rec_1d.h5");
    CHECK(th_file_has(th_cli_out, "|V19"));
}

static void check_fixture_json(void)
{
    static const char *const files[] = {"arange_i32_2d.h5", "compound_rec_1d.h5",
                                        "edge_f32_2d.h5",   "lin_f64_1d.h5",
                                        "noisy_u16_3d.h5",  "u8_image_2d.h5",
                                        "zeros_f64_2d.h5"};
    static const int objects[] = {1, 1, 1, 1, 2, 2, 2};
    for (int i = 0; i < 7; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s%s", FIX, files[i]);
        EXPECT_RUN(0, "ls", "-r", "--json", path);
        check_json_count(objects[i]);
        CHECK(th_file_has(th_cli_out, "\"id\": 32026, \"name\": \"blosc2\""));
        CHECK(th_file_has(th_cli_out, "\"cd_values\": [1, "));
        CHECK(th_file_has(th_cli_out, "\"ratio\": "));
        CHECK(th_file_has(th_cli_out, "\"recursive\": true"));
    }
    EXPECT_RUN(0, "ls", "--json", FIX "noisy_u16_3d.h5");
    check_json_count(1);
    CHECK(th_file_has(th_cli_out, "\"type\": \"group\""));
    EXPECT_RUN(0, "ls", "--json", "-r", FIX "noisy_u16_3d.h5");
    CHECK(th_file_has(th_cli_out, "\"shape\": [8, 256, 256], \"dtype\": \"<u2\""));
    CHECK(th_file_has(th_cli_out, "\"layout\": \"chunked\", \"chunks\": [1, 256, 256]"));
    CHECK(th_file_has(th_cli_out, "\"codec\": \"zstd\", \"clevel\": 5, \"filter\": \"shuffle\""));
    CHECK(th_file_has(th_cli_out, "\"nbytes\": 1048576, \"storage_size\": "));
}

static void check_errors(void)
{
    EXPECT_RUN(1, "ls", "no_such_file.h5");
    CHECK(th_file_has(th_cli_err, "no such file"));
    CHECK_EQ(th_file_lines(th_cli_err), 1);
    EXPECT_RUN(1, "ls", TERSA_SOURCE_DIR "/doc/tersa.1");
    CHECK(th_file_has(th_cli_err, "not an HDF5 file"));
    EXPECT_RUN(1, "ls", FIX "noisy_u16_3d.h5:/nosuch");
    CHECK(th_file_has(th_cli_err, "/nosuch"));
    EXPECT_RUN(2, "ls");
    EXPECT_RUN(2, "ls", "a.h5", "b.h5");
    EXPECT_RUN(2, "ls", "--bogus", FIX "lin_f64_1d.h5");
    CHECK(th_file_has(th_cli_err, "--bogus"));
}

/* ---- a file of our own: the demo's, kept with -o ------------------------------------------ */

static void check_demo_file(void)
{
    char h5[96];
    th_cli_name(h5, sizeof h5, "h5");
    remove(h5);
    EXPECT_RUN(0, "demo", "--quick", "--threads", "1", "-o", h5);
    CHECK(th_file_has(th_cli_out, "verified: all"));
    CHECK(th_file_has(th_cli_out, "equal the generated data"));
    CHECK(th_file_has(th_cli_out, "all 40 round trips verified"));
    CHECK(th_file_size(h5) > 0);
    EXPECT_RUN(1, "demo", "--quick", "-o", h5); /* exists: refused without -f */
    EXPECT_RUN(0, "demo", "--quick", "-o", h5, "-f");
    EXPECT_RUN(0, "ls", h5);
    CHECK_EQ(th_file_lines(th_cli_out), 2);
    CHECK(th_file_has(th_cli_out, "/direct "));
    CHECK(th_file_has(th_cli_out, "/pipeline "));
    EXPECT_RUN(0, "ls", "-r", h5);
    CHECK_EQ(th_file_lines(th_cli_out), 6);
    CHECK(th_file_has(th_cli_out, "/direct/stack"));
    CHECK(th_file_has(th_cli_out, "/pipeline/field"));
    CHECK(th_file_has(th_cli_out, "dataset (8, 64, 64) <u2 chunks=(1, 64, 64)"));
    CHECK(th_file_has(th_cli_out, "dataset (8, 64, 64) <f4 chunks=(4, 32, 32)"));
    CHECK(th_file_has(th_cli_out, "zstd clevel=1 bitshuffle"));
    CHECK(th_file_has(th_cli_out, "lz4 clevel=5 shuffle"));
    EXPECT_RUN(0, "ls", "-r", "--json", h5);
    check_json_count(6);
    EXPECT_RUN(1, "cat", "--raw", h5, "-o", "/dev/null"); /* no dataset named: they are listed */
    CHECK(th_file_has(th_cli_err, ":/direct/stack"));
    remove(h5);
}

static void check_without_h5(void)
{
    EXPECT_RUN(1, "ls", FIX "lin_f64_1d.h5");
    CHECK(th_file_has(th_cli_err, "HDF5 layer"));
    CHECK_EQ(th_file_lines(th_cli_err), 1);
    EXPECT_RUN(0, "demo", "--quick");
    CHECK(th_file_has(th_cli_out, "HDF5 part skipped"));
    CHECK(th_file_has(th_cli_out, "all 40 round trips verified"));
}

int main(int argc, char **argv)
{
    if (th_cli_setup(argc, argv, "test_cli_ls"))
        return 1;
    const char *probe[] = {"ls", FIX "lin_f64_1d.h5", NULL};
    int h5 = th_cli_run(probe) == 0;
    EXPECT_RUN(0, "ls", "--help");
    CHECK(th_file_has(th_cli_out, "usage: tersa ls"));
    if (h5) {
        check_fixture_lines();
        check_fixture_json();
        check_errors();
        check_demo_file();
    } else {
        check_without_h5();
    }
    th_cli_cleanup();
    return th_report("cli_ls");
}

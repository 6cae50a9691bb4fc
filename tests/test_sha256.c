/* The test helpers th_sha256.h and th_manifest.h: SHA-256 against the FIPS 180-4 / NIST
 * example vectors, streaming in odd pieces, and every fixture file against its manifest
 * digest (file_sha256), which also proves the manifest parser reads every row. */
#include "harness.h"
#include "th_manifest.h"
#include "th_sha256.h"
#include "tersa/tersa.h"

static void check_vectors(void)
{
    char hex[65];
    th_sha256_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    th_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    th_sha256_hex(two, strlen(two), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    size_t n = 1000000;
    char *a = malloc(n);
    CHECK(a != NULL);
    if (!a) return;
    memset(a, 'a', n);
    th_sha256_hex(a, n, hex);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

/* Feeding the same bytes in pieces of every length 1..130 gives the one-shot digest. */
static void check_streaming(void)
{
    unsigned char data[1000];
    uint64_t seed = 0x1234567;
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)th_rand(&seed);
    char want[65];
    th_sha256_hex(data, sizeof data, want);
    for (size_t step = 1; step <= 130; step++) {
        th_sha256 s;
        uint8_t d[32];
        char got[65];
        th_sha256_init(&s);
        for (size_t off = 0; off < sizeof data; off += step)
            th_sha256_update(&s, data + off, off + step <= sizeof data ? step : sizeof data - off);
        th_sha256_final(&s, d);
        for (int i = 0; i < 32; i++) snprintf(got + 2 * i, 3, "%02x", d[i]);
        CHECK_STR(got, want);
    }
}

static void check_manifest_fields(const th_manifest *m)
{
    CHECK(m->nrows >= 50);
    const th_manifest_row *r = th_manifest_find(m, "blosc-compat/blosc-1.11.1-blosclz.cdata", NULL);
    CHECK(r != NULL);
    if (r) {
        CHECK_STR(r->kind, "chunk");
        CHECK_EQ(r->nbytes, 4000000);
        CHECK_EQ(r->typesize, 4);
        CHECK_STR(r->sha256_decoded,
                  "02e21fa3c89fa7d7b61826918a8bd35d3127827b4ef3f3ee47ade5e64e3c2a80");
        CHECK(th_mf_absent(r->shape));
    }
    /* The quoted compound dtype with doubled quotes. */
    r = th_manifest_find(m, "official-h5/compound_rec_1d.h5", "/records");
    CHECK(r != NULL);
    if (r) {
        CHECK_STR(r->dtype,
                  "[[\"id\", \"<i4\"], [\"x\", \"<f8\"], [\"flag\", \"|u1\"], [\"name\", \"|S6\"]]");
        CHECK_EQ(r->typesize, 19);
        CHECK_EQ(r->nbytes, -1);
        CHECK_STR(r->shape, "(20000,)");
        CHECK_STR(r->chunkshape, "(4096,)");
    }
    r = th_manifest_find(m, "official-h5/zeros_f64_2d.h5", "/zeros1d");
    CHECK(r != NULL && strcmp(r->dataset, "/zeros1d") == 0);
}

static void check_fixture_files(const th_manifest *m)
{
    for (size_t i = 0; i < m->nrows; i++) {
        const th_manifest_row *r = &m->rows[i];
        char path[1024], hex[65];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", TERSA_FIXTURES, r->path);
        unsigned char *buf = th_read_file(path, &len);
        CHECK(buf != NULL);
        if (!buf) {
            fprintf(stderr, "cannot read fixture %s\n", path);
            continue;
        }
        th_sha256_hex(buf, len, hex);
        CHECK_EQ(strlen(r->file_sha256), 64);
        if (strcmp(hex, r->file_sha256) != 0)
            TH_FAIL_AT("%s: sha256 %s, manifest says %s", r->path, hex, r->file_sha256);
        free(buf);
    }
}

int main(void)
{
    check_vectors();
    check_streaming();
    th_manifest m;
    CHECK_EQ(th_manifest_load(TERSA_FIXTURES "/MANIFEST.tsv", &m), 0);
    check_manifest_fields(&m);
    check_fixture_files(&m);
    th_manifest_free(&m);
    return th_report("sha256");
}

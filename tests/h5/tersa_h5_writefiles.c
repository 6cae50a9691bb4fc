/* Writes HDF5 files with tersa's direct chunk writer for the interoperability checks
 * (run_h5_interop.sh): h5py through the plugin, and the independent oracle (h5wasm with the
 * official filter, c-blosc2 2.17.1: no zlib). Usage: tersa_h5_writefiles OUTDIR. Writes
 * OUTDIR/tersa_written.h5 and OUTDIR/expected.tsv (file, dataset, sha256 of the dataset's bytes
 * in C order, description). */
#include <stdlib.h>

#include "th_h5.h"

typedef struct spec {
    const char *name, *desc;
    int rank;
    int64_t shape[4], chunk[4];
    int codec, filter, clevel;
    int32_t blocksize;
    int fletcher;
} spec;

static FILE *tsv;
static const char *fname;

static void expect(const char *dset, const void *p, size_t n, const char *desc)
{
    char hex[65];
    th_sha256_hex(p, n, hex);
    fprintf(tsv, "%s\t/%s\t%s\t%s\n", fname, dset, hex, desc);
}

static tersa_h5dset *make(hid_t f, const spec *s, hid_t type, const int64_t *maxshape)
{
    tersa_h5_params p;
    tersa_h5_params_init(&p);
    p.rank = s->rank;
    p.shape = s->shape;
    p.maxshape = maxshape;
    p.chunkshape = s->chunk;
    p.type = type;
    p.codec = s->codec;
    p.filter = s->filter;
    p.clevel = s->clevel;
    p.blocksize = s->blocksize;
    p.fletcher32 = s->fletcher;
    tersa_h5dset *d = tersa_h5_create(f, s->name, &p);
    if (!d) fprintf(stderr, "create %s: %s\n", s->name, tersa_error_detail());
    else tersa_h5_set_nthreads(d, 2);
    return d;
}

static int write_whole(hid_t f, const spec *s, hid_t type)
{
    tersa_h5dset *d = make(f, s, type, NULL);
    if (!d) return 1;
    size_t isz = H5Tget_size(type), n = isz;
    for (int i = 0; i < s->rank; i++) n *= (size_t)s->shape[i];
    uint8_t *v = malloc(n);
    th_h5_fill(v, n / isz, isz, (uint64_t)s->rank * 31 + (uint64_t)s->codec);
    int rc = tersa_h5_write(d, NULL, NULL, NULL, v, n) < 0;
    if (rc) fprintf(stderr, "write %s: %s\n", s->name, tersa_error_detail());
    expect(s->name, v, n, s->desc);
    free(v);
    tersa_h5_close(d);
    return rc;
}

static hid_t compound19(void)
{
    hid_t s6 = H5Tcopy(H5T_C_S1), t = H5Tcreate(H5T_COMPOUND, 19);
    H5Tset_size(s6, 6);
    H5Tinsert(t, "id", 0, H5T_STD_I32LE);
    H5Tinsert(t, "x", 4, H5T_IEEE_F64LE);
    H5Tinsert(t, "flag", 12, H5T_STD_U8LE);
    H5Tinsert(t, "name", 13, s6);
    H5Tclose(s6);
    return t;
}

/* Appends along axis 0 and strided partial writes (fill value elsewhere). */
static int write_edits(hid_t f)
{
    spec a = {"appended", "i16 (N,10) chunks (7,10), 6 appends", 2, {0, 10}, {7, 10}, 5, 1, 5, 0, 0};
    int64_t maxshape[2] = {-1, 10};
    tersa_h5dset *d = make(f, &a, H5T_STD_I16LE, maxshape);
    static int16_t rows[60 * 10];
    int64_t total = 0, adds[6] = {5, 13, 1, 7, 30, 2};
    int rc = !d;
    for (int k = 0; d && k < 6; k++) {
        for (int64_t i = total * 10; i < (total + adds[k]) * 10; i++) rows[i] = (int16_t)(i * 7 - 900);
        rc |= tersa_h5_append(d, rows + total * 10, (size_t)adds[k] * 20) < 0;
        total += adds[k];
    }
    expect("appended", rows, (size_t)total * 20, a.desc);
    tersa_h5_close(d);
    spec p = {"partial", "f4 (90,70) chunks (16,32), strided partial writes", 2, {90, 70},
              {16, 32}, 1, 2, 5, 0, 0};
    d = make(f, &p, H5T_IEEE_F32LE, NULL);
    static float model[90 * 70], part[90 * 70];
    uint64_t rng = 99;
    int64_t start[2], count[2], step[2];
    for (int k = 0; d && k < 12; k++) {
        th_h5_rand_slab(&rng, 2, p.shape, 4, start, count, step);
        for (int64_t i = 0; i < count[0] * count[1]; i++) part[i] = (float)(k * 1000 + i) * 0.5f;
        rc |= tersa_h5_write(d, start, count, step, part, (size_t)(count[0] * count[1]) * 4) < 0;
        th_h5_ref_scatter((uint8_t *)model, 2, p.shape, 4, start, count, step, (uint8_t *)part);
    }
    expect("partial", model, sizeof model, p.desc);
    tersa_h5_close(d);
    return rc;
}

int main(int argc, char **argv)
{
    char path[2048];
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    snprintf(path, sizeof path, "%s/expected.tsv", argv[1]);
    tsv = fopen(path, "w");
    fname = "tersa_written.h5";
    snprintf(path, sizeof path, "%s/%s", argv[1], fname);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (!tsv || f < 0) return 1;
    spec specs[] = {
        {"lin", "f8 (200000,) chunks 65536, blosclz 5 shuffle (plain frames)", 1, {200000},
         {65536}, 0, 1, 5, 0, 0},
        {"arange", "i4 (512,384) chunks (128,128), lz4 5 bitshuffle (b2nd)", 2, {512, 384},
         {128, 128}, 1, 2, 5, 0, 0},
        {"stack", "u2 (8,256,256) chunks (1,256,256), zstd 5 shuffle", 3, {8, 256, 256},
         {1, 256, 256}, 5, 1, 5, 0, 0},
        {"edge", "f4 (300,250) chunks (128,96), lz4hc 9 shuffle, edge chunks", 2, {300, 250},
         {128, 96}, 2, 1, 9, 0, 0},
        {"sin4d", "f8 (6,10,20,30) chunks (3,5,10,30), zstd 5, blocksize 8192", 4,
         {6, 10, 20, 30}, {3, 5, 10, 30}, 5, 1, 5, 8192, 0},
        {"blocks", "f4 (512,1024) chunks (256,1024), lz4 shuffle, 16 KiB blocks", 2, {512, 1024},
         {256, 1024}, 1, 1, 5, 16384, 0},
        {"bytes", "u1 (35149,) chunks 8192, lz4 no shuffle", 1, {35149}, {8192}, 1, 0, 5, 0, 0},
        {"fletcher", "i8 (200,160) chunks (64,64), lz4, Fletcher32 after Blosc2", 2, {200, 160},
         {64, 64}, 1, 1, 5, 0, 1},
    };
    hid_t types[] = {H5T_IEEE_F64LE, H5T_STD_I32LE, H5T_STD_U16LE, H5T_IEEE_F32LE,
                     H5T_IEEE_F64LE, H5T_IEEE_F32LE, H5T_STD_U8LE, H5T_STD_I64LE};
    int rc = 0;
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) rc |= write_whole(f, &specs[k], types[k]);
    spec rec = {"records", "compound {i4,f8,u1,S6} packed 19 bytes (20000,), zstd 3", 1, {20000},
                {4096}, 5, 1, 3, 0, 0};
    hid_t t19 = compound19();
    rc |= write_whole(f, &rec, t19);
    H5Tclose(t19);
    rc |= write_edits(f);
    H5Fclose(f);
    fclose(tsv);
    return rc;
}

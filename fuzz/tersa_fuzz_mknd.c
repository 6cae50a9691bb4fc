/* Writes the seed corpus of fuzz_nd (fuzz/corpus/nd/, see fuzz/corpus/README.md):
 *   tersa_fuzz_mknd DIR
 * Metalayer seeds (first byte even): a selector byte (item size, chunk blocksize), then a
 * metalayer serialised by tersa_nd_meta_serialize or built by hand. Slicing seeds (first byte
 * odd): the array parameters and an operation list, written out byte by byte (see fz_make and
 * fz_slice_mode in fuzz_nd.c), and a few pseudo-random byte strings. Deterministic. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tersa/tersa.h"

static int write_seed(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "tersa_fuzz_mknd: cannot write %s\n", path);
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

/* Mode byte 0, selector, then the serialised metalayer; cut drops that many bytes at the end
 * (a caterva layout without dtype). */
static int meta_seed(const char *dir, const char *name, uint8_t sel, int nd, const int64_t *shape,
                     const int32_t *cs, const int32_t *bs, const char *dtype, size_t cut,
                     size_t extra)
{
    uint8_t buf[512];
    tersa_nd_meta m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    m.ndim = nd;
    for (int i = 0; i < nd; i++) {
        m.shape[i] = shape[i];
        m.chunkshape[i] = cs[i];
        m.blockshape[i] = bs[i];
    }
    m.dtype = dtype;
    m.dtype_len = strlen(dtype);
    buf[0] = 0;
    buf[1] = sel;
    int64_t n = tersa_nd_meta_serialize(&m, buf + 2, sizeof buf - 2 - extra);
    if (n < 0 || (size_t)n < cut) {
        fprintf(stderr, "tersa_fuzz_mknd: %s: %s\n", name, tersa_error_detail());
        return 1;
    }
    for (size_t i = 0; i < extra; i++)
        buf[2 + n + i] = (uint8_t)(0xc0 + i);
    return write_seed(dir, name, buf, (size_t)n - cut + extra + 2);
}

/* ndim 16 with the 0xA0 markers C-Blosc2 writes: every axis (2), chunk 1, block 1. */
static int meta16_seed(const char *dir)
{
    uint8_t buf[512];
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = 0x97;
    buf[n++] = 0;
    buf[n++] = 16;
    for (int part = 0; part < 3; part++) {
        buf[n++] = 0xa0;
        for (int i = 0; i < 16; i++) {
            int w = part == 0 ? 8 : 4;
            buf[n++] = part == 0 ? 0xd3 : 0xd2;
            memset(buf + n, 0, (size_t)w);
            buf[n + (size_t)w - 1] = part == 0 && i < 3 ? 2 : 1;
            n += (size_t)w;
        }
    }
    const char dt[] = "|u1";
    buf[n++] = 0;
    buf[n++] = 0xdb;
    buf[n++] = 0, buf[n++] = 0, buf[n++] = 0, buf[n++] = 3;
    memcpy(buf + n, dt, 3);
    n += 3;
    return write_seed(dir, "meta-ndim16.bin", buf, n);
}

static int meta_seeds(const char *dir)
{
    int rc = 0;
    rc |= meta_seed(dir, "meta-2d-f32.bin", 2, 2, (int64_t[]){10, 12}, (int32_t[]){4, 5},
                    (int32_t[]){2, 3}, "<f4", 0, 0);
    rc |= meta_seed(dir, "meta-3d-edges-u1.bin", 0, 3, (int64_t[]){7, 5, 9}, (int32_t[]){3, 5, 4},
                    (int32_t[]){2, 2, 3}, "|u1", 0, 0);
    rc |= meta_seed(dir, "meta-4d-ts16-autobs.bin", 0x15, 4, (int64_t[]){3, 4, 5, 6},
                    (int32_t[]){2, 3, 5, 4}, (int32_t[]){1, 2, 2, 4}, "|V16", 0, 0);
    rc |= meta_seed(dir, "meta-ndim0.bin", 3, 0, NULL, NULL, NULL, "<f8", 0, 0);
    rc |= meta_seed(dir, "meta-empty-axis-placeholders.bin", 2, 2, (int64_t[]){0, 5},
                    (int32_t[]){0, 3}, (int32_t[]){0, 2}, "<i4", 0, 0);
    rc |= meta_seed(dir, "meta-caterva-nodtype.bin", 1, 2, (int64_t[]){6, 6}, (int32_t[]){4, 4},
                    (int32_t[]){2, 2}, "<i2", 1 + 1 + 4 + 3, 0);
    rc |= meta_seed(dir, "meta-block-above-chunk.bin", 4, 2, (int64_t[]){9, 7}, (int32_t[]){4, 3},
                    (int32_t[]){5, 4}, "|S3", 0, 0);
    rc |= meta_seed(dir, "meta-blocksize64-trailing.bin", 0x22, 3, (int64_t[]){5, 6, 7},
                    (int32_t[]){5, 6, 7}, (int32_t[]){5, 3, 7}, "<f4", 0, 5);
    rc |= meta16_seed(dir);
    return rc;
}

/* Slicing seeds: mode 1, ndim-1, itemsize index, codec byte, (shape, chunk, block) per axis,
 * then operations (see fuzz_nd.c: op = byte % 8; 0/7 get, 1 set, 2 resize, 3 insert,
 * 4 append, 5 delete, 6 copy). */
static int slice_seeds(const char *dir)
{
    /* (12,11,9) float32 lz4+shuffle, chunks (5,6,5), blocks (3,4,2): gets, one invalid */
    static const uint8_t get3d[] = {
        1,    2, 2, 0x15, 12,   4, 2, 11, 5, 3, 9,    4, 1, 0, 1, 13, 0x80, 1, 12, 2, 3, 10, 0x80,
        0x5a, 7, 4, 5,    0x80, 3, 9, 3,  1, 2, 0x80, 0, 0, 3, 2, 1,  0,    0, 1,  0, 0, 1,  0,
    };
    /* (10,12) int64 zstd+bitshuffle: set, insert, delete, resize, append, copy, get */
    static const uint8_t edit2d[] = {
        1, 1, 3, 0x2a, 10, 3, 2, 12, 4, 3, 1, 3, 8, 0x80, 2, 11, 2, 0, 3, 0,  4,    3, 5,  1,    3,
        3, 3, 1, 0,    5,  2, 7, 9,  4, 0, 0, 2, 6, 4,    2, 5,  3, 0, 1, 13, 0x80, 1, 13, 0x80, 0,
    };
    /* (8,6,4,5) uint8 blosclz+delta, chunks (2,3,2,5): chunk-aligned inserts and deletes,
     * copies (one with an invalid blockshape) */
    static const uint8_t aligned4d[] = {
        1, 3, 0, 0x0c, 8, 1, 0, 6, 2, 1, 4, 1, 0, 5, 4, 3, 3, 0, 2, 1, 5, 1, 4,
        4, 6, 1, 1,    2, 2, 3, 1, 4, 4, 5, 0, 1, 3, 6, 0, 0, 1, 1, 1, 1, 1, 1,
    };
    int rc = 0;
    rc |= write_seed(dir, "slice-3d-gets.bin", get3d, sizeof get3d);
    rc |= write_seed(dir, "slice-2d-edits.bin", edit2d, sizeof edit2d);
    rc |= write_seed(dir, "slice-4d-aligned.bin", aligned4d, sizeof aligned4d);
    uint64_t s = 0x2545F4914F6CDD1Du;
    for (int k = 0; k < 6; k++) {
        uint8_t buf[96];
        char name[64];
        for (size_t i = 0; i < sizeof buf; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            buf[i] = (uint8_t)s;
        }
        buf[0] |= 1;
        snprintf(name, sizeof name, "slice-random-%d.bin", k);
        rc |= write_seed(dir, name, buf, sizeof buf);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tersa_fuzz_mknd DIR\n");
        return 2;
    }
    return meta_seeds(argv[1]) | slice_seeds(argv[1]);
}

/* The HDF5 part of `tersa demo`: two generated datasets (a noisy uint16 detector image stack
 * and a smooth float32 simulation field) written into one HDF5 file with Blosc2 twice: through
 * the direct path (tersa_h5_create + tersa_h5_write: chunks compressed by tersa's engine on the
 * thread pool and stored with H5Dwrite_chunk) and through HDF5's filter pipeline (tersa's filter
 * registered in this process with tersa_h5_register_filter, H5Dcreate + H5Dwrite). Slices are
 * then read both ways (a frame, a small region, a line along the first axis, everything; the
 * pipeline's chunk cache off so that every read decodes), each compared with the generated
 * data; each path also reads the dataset the other one wrote, in full. Prints sizes, times and
 * speedups (direct over pipeline). Built with the HDF5 layer only (TCLI_HAVE_H5). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tersa_cli.h"

#ifdef TCLI_HAVE_H5
#include "tersa/tersa_h5.h"

typedef struct tcli_dds {
    const char *name, *desc, *dtype;
    int64_t dims[3], chunks[3];
    hid_t ftype, mtype;
    int codec, clevel, filter;
    size_t item, nbytes;
    uint8_t *data;
    int64_t stored[2];  /* direct, pipeline */
    double wtime[2];    /* seconds to write */
} tcli_dds;

typedef struct tcli_demo5 {
    const tcli_h5demo_opts *o;
    char path[4200], dir[4096];
    hid_t file;
    tcli_dds ds[2];
    int reads, bad;
} tcli_demo5;

/* ---- generated data ------------------------------------------------------------------------ */

static uint32_t tcli_demo_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Frames of a detector: smooth illumination with a few bright spots that drift, plus shot
 * noise (about 5 bits), clipped to 12 bits. */
static void tcli_demo_gen_stack(tcli_dds *d)
{
    uint16_t *v = (uint16_t *)d->data;
    int64_t f = d->dims[0], h = d->dims[1], w = d->dims[2];
    uint32_t s = 2463534242u;
    for (int64_t k = 0; k < f; k++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                double dx = (double)(x - w / 2 - k) / (double)w, dy = (double)(y - h / 3) / (double)h;
                double base = 600.0 + 300.0 * cos(6.0 * dx) * cos(4.0 * dy);
                double spot = 2500.0 * exp(-(dx * dx + dy * dy) * 400.0);
                int n = (int)(tcli_demo_rand(&s) & 31) - 16;
                int val = (int)(base + spot) + n;
                *v++ = (uint16_t)(val < 0 ? 0 : val > 4095 ? 4095 : val);
            }
}

/* A smooth field: separable waves that evolve along the first axis (tables per axis). */
static int tcli_demo_gen_field(tcli_dds *d)
{
    int64_t nz = d->dims[0], ny = d->dims[1], nx = d->dims[2];
    float *v = (float *)d->data, *tx = malloc(sizeof *tx * (size_t)(2 * nx));
    if (!tx)
        return -1;
    for (int64_t x = 0; x < nx; x++) {
        tx[x] = (float)sin(0.031 * (double)x);
        tx[nx + x] = (float)cos(0.017 * (double)x);
    }
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++) {
            float a = (float)(1.5 * cos(0.023 * (double)y + 0.05 * (double)z));
            float b = (float)(0.5 * sin(0.041 * (double)y) * exp(-0.01 * (double)z));
            for (int64_t x = 0; x < nx; x++)
                *v++ = 280.0f + a * tx[x] + b * tx[nx + x];
        }
    free(tx);
    return 0;
}

static void tcli_demo_shapes(tcli_demo5 *m)
{
    int q = m->o->quick;
    tcli_dds *s = &m->ds[0], *f = &m->ds[1];
    int64_t sd[3] = {q ? 8 : 128, q ? 64 : 512, q ? 64 : 512}, fd[3] = {q ? 8 : 64, q ? 64 : 512,
                                                                      q ? 64 : 512};
    int64_t fc[3] = {q ? 4 : 16, q ? 32 : 128, q ? 32 : 128};
    *s = (tcli_dds){.name = "stack", .desc = "noisy detector image stack", .dtype = "uint16",
                    .ftype = H5T_STD_U16LE, .mtype = H5T_NATIVE_UINT16,
                    .codec = TERSA_CODEC_ZSTD, .clevel = 1, .filter = TERSA_FILTER_BITSHUFFLE,
                    .item = 2};
    *f = (tcli_dds){.name = "field", .desc = "smooth simulation field", .dtype = "float32",
                    .ftype = H5T_IEEE_F32LE, .mtype = H5T_NATIVE_FLOAT,
                    .codec = TERSA_CODEC_LZ4, .clevel = 5, .filter = TERSA_FILTER_SHUFFLE,
                    .item = 4};
    memcpy(s->dims, sd, sizeof sd);
    memcpy(f->dims, fd, sizeof fd);
    memcpy(f->chunks, fc, sizeof fc);
    s->chunks[0] = 1, s->chunks[1] = sd[1], s->chunks[2] = sd[2]; /* one frame per chunk */
}

static int tcli_demo_generate(tcli_demo5 *m)
{
    (void)H5open(); /* the H5T_* globals used below */
    tcli_demo_shapes(m);
    for (int i = 0; i < 2; i++) {
        tcli_dds *d = &m->ds[i];
        d->nbytes = (size_t)(d->dims[0] * d->dims[1] * d->dims[2]) * d->item;
        d->data = malloc(d->nbytes);
        if (!d->data)
            return tcli_tersa_error("demo", TERSA_ERR_NOMEM);
    }
    tcli_demo_gen_stack(&m->ds[0]);
    return tcli_demo_gen_field(&m->ds[1]) < 0 ? tcli_tersa_error("demo", TERSA_ERR_NOMEM) : 0;
}

/* ---- writing both ways ----------------------------------------------------------------------- */

static void tcli_demo_params(const tcli_dds *d, tersa_h5_params *hp)
{
    tersa_h5_params_init(hp);
    hp->rank = 3;
    hp->shape = d->dims;
    hp->chunkshape = d->chunks;
    hp->type = d->ftype;
    hp->codec = d->codec;
    hp->clevel = d->clevel;
    hp->filter = d->filter;
}

static int tcli_demo_write_direct(tcli_demo5 *m, tcli_dds *d, hid_t lcpl)
{
    tersa_h5_params hp;
    char name[64];
    snprintf(name, sizeof name, "/direct/%s", d->name);
    tcli_demo_params(d, &hp);
    hp.lcpl = lcpl;
    double t0 = tcli_now();
    tersa_h5dset *h = tersa_h5_create(m->file, name, &hp);
    if (!h)
        return tcli_detail_error(name);
    int64_t rc = tersa_h5_set_nthreads(h, m->o->threads);
    if (rc >= 0)
        rc = tersa_h5_write(h, NULL, NULL, NULL, d->data, d->nbytes);
    d->stored[0] = (int64_t)H5Dget_storage_size(tersa_h5_dataset_id(h));
    tersa_h5_close(h);
    H5Fflush(m->file, H5F_SCOPE_LOCAL);
    d->wtime[0] = tcli_now() - t0;
    return rc < 0 ? tcli_tersa_error(name, rc) : TCLI_OK;
}

static int tcli_demo_write_pipeline(tcli_demo5 *m, tcli_dds *d, hid_t lcpl)
{
    tersa_h5_params hp;
    unsigned cd[TERSA_H5_MAX_CD];
    size_t ncd = 0;
    hsize_t dims[3], cs[3];
    char name[64];
    snprintf(name, sizeof name, "/pipeline/%s", d->name);
    tcli_demo_params(d, &hp);
    for (int i = 0; i < 3; i++)
        dims[i] = (hsize_t)d->dims[i], cs[i] = (hsize_t)d->chunks[i];
    if (tersa_h5_cd_values(&hp, cd, &ncd) < 0)
        return tcli_detail_error(name);
    double t0 = tcli_now();
    hid_t space = H5Screate_simple(3, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    herr_t rc = H5Pset_chunk(dcpl, 3, cs);
    if (rc >= 0)
        rc = H5Pset_filter(dcpl, TERSA_H5_FILTER_ID, H5Z_FLAG_OPTIONAL, ncd, cd);
    hid_t ds = rc >= 0 ? H5Dcreate2(m->file, name, d->ftype, space, lcpl, dcpl, H5P_DEFAULT) : -1;
    rc = ds >= 0 ? H5Dwrite(ds, d->mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, d->data) : -1;
    if (ds >= 0)
        H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fflush(m->file, H5F_SCOPE_LOCAL);
    d->wtime[1] = tcli_now() - t0;
    if (rc < 0) {
        fprintf(stderr, "error: %s:%s: writing through the HDF5 filter pipeline failed\n",
                m->path, name);
        return TCLI_FAIL;
    }
    return TCLI_OK;
}

static int64_t tcli_demo_storage(hid_t f, const char *name)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    int64_t n = d >= 0 ? (int64_t)H5Dget_storage_size(d) : 0;
    if (d >= 0)
        H5Dclose(d);
    return n;
}

static int tcli_demo_write(tcli_demo5 *m)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    int rc = TCLI_OK;
    H5Pset_create_intermediate_group(lcpl, 1);
    for (int i = 0; i < 2 && rc == TCLI_OK; i++) {
        char name[64];
        rc = tcli_demo_write_direct(m, &m->ds[i], lcpl);
        if (rc == TCLI_OK)
            rc = tcli_demo_write_pipeline(m, &m->ds[i], lcpl);
        snprintf(name, sizeof name, "/pipeline/%s", m->ds[i].name);
        m->ds[i].stored[1] = tcli_demo_storage(m->file, name);
    }
    H5Pclose(lcpl);
    return rc;
}

/* ---- reading both ways ------------------------------------------------------------------------ */

typedef struct tcli_dslice {
    const char *label;
    int64_t start[3], count[3];
} tcli_dslice;

/* The generated values of a slice (C order), for the comparison. */
static void tcli_demo_expect(const tcli_dds *d, const tcli_dslice *s, uint8_t *out)
{
    size_t row = (size_t)s->count[2] * d->item;
    for (int64_t z = 0; z < s->count[0]; z++)
        for (int64_t y = 0; y < s->count[1]; y++) {
            int64_t at = ((s->start[0] + z) * d->dims[1] + s->start[1] + y) * d->dims[2] +
                         s->start[2];
            memcpy(out, d->data + (size_t)at * d->item, row);
            out += row;
        }
}

static int tcli_demo_read_direct(tersa_h5dset *h, const tcli_dslice *s, uint8_t *dst, size_t n)
{
    return tersa_h5_read(h, s->start, s->count, NULL, dst, n) == (int64_t)n ? 0 : -1;
}

static int tcli_demo_read_pipeline(hid_t ds, const tcli_dds *d, const tcli_dslice *s,
                                   uint8_t *dst)
{
    hsize_t st[3], cnt[3];
    for (int i = 0; i < 3; i++)
        st[i] = (hsize_t)s->start[i], cnt[i] = (hsize_t)s->count[i];
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(3, cnt, NULL);
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    if (rc >= 0)
        rc = H5Dread(ds, d->mtype, ms, fs, H5P_DEFAULT, dst);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? -1 : 0;
}

static int tcli_demo_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct tcli_dreaders {
    tersa_h5dset *direct;
    hid_t pipe;
} tcli_dreaders;

/* Median seconds of reps reads one way (way 0 direct, 1 pipeline); each read is verified. */
static double tcli_demo_time(tcli_demo5 *m, const tcli_dds *d, const tcli_dreaders *r, int way,
                             const tcli_dslice *s, uint8_t *buf, const uint8_t *want, size_t n)
{
    double t[7];
    int reps = m->o->quick || n > ((size_t)8 << 20) ? 1 : 7;
    for (int i = 0; i < reps; i++) {
        memset(buf, 0xA5, n);
        double t0 = tcli_now();
        int rc = way ? tcli_demo_read_pipeline(r->pipe, d, s, buf)
                     : tcli_demo_read_direct(r->direct, s, buf, n);
        t[i] = tcli_now() - t0;
        m->reads++;
        if (rc < 0 || memcmp(buf, want, n)) {
            m->bad++;
            fprintf(stderr, "error: demo: %s %s read %s: %s\n", d->name, s->label,
                    way ? "through the pipeline" : "direct",
                    rc < 0 ? "failed" : "differs from the generated data");
        }
    }
    qsort(t, (size_t)reps, sizeof t[0], tcli_demo_cmp_double);
    return t[reps / 2];
}

static void tcli_demo_slices(const tcli_dds *d, tcli_dslice s[4])
{
    int64_t f = d->dims[0], h = d->dims[1], w = d->dims[2];
    int64_t rz = f < 4 ? f : 4, ry = h < 32 ? h : 32, rx = w < 32 ? w : 32;
    s[0] = (tcli_dslice){"frame", {f / 2, 0, 0}, {1, h, w}};
    s[1] = (tcli_dslice){"region", {(f - rz) / 2, h / 2 - ry / 2, w / 3}, {rz, ry, rx}};
    s[2] = (tcli_dslice){"line axis 0", {0, h / 3, w / 3}, {f, 1, 1}};
    s[3] = (tcli_dslice){"everything", {0, 0, 0}, {f, h, w}};
}

static void tcli_demo_row(const tcli_dds *d, const tcli_dslice *s, size_t n, const double t[2])
{
    char label[64], size[32];
    snprintf(label, sizeof label, "%s %s", d->name, s->label);
    if (n < 1024)
        snprintf(size, sizeof size, "%zu B", n);
    else if (n < ((size_t)1 << 20))
        snprintf(size, sizeof size, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(size, sizeof size, "%.1f MiB", (double)n / 1048576.0);
    printf("  %-20s %11s %12.3f %12.3f %8.1fx\n", label, size, t[0] * 1e3,
           t[1] * 1e3, t[0] > 0 ? t[1] / t[0] : 0.0);
}

static int tcli_demo_open_readers(tcli_demo5 *m, const tcli_dds *d, tcli_dreaders *r, int cross)
{
    char dn[64], pn[64];
    snprintf(dn, sizeof dn, "/%s/%s", cross ? "pipeline" : "direct", d->name);
    snprintf(pn, sizeof pn, "/%s/%s", cross ? "direct" : "pipeline", d->name);
    hid_t did = H5Dopen2(m->file, dn, H5P_DEFAULT), dapl = H5Pcreate(H5P_DATASET_ACCESS);
    H5Pset_chunk_cache(dapl, 0, 0, 1.0); /* every pipeline read decodes its chunks */
    r->direct = did >= 0 ? tersa_h5_open(did) : NULL;
    r->pipe = H5Dopen2(m->file, pn, dapl);
    if (did >= 0)
        H5Dclose(did);
    H5Pclose(dapl);
    if (r->direct)
        tersa_h5_set_nthreads(r->direct, m->o->threads);
    if (r->direct && r->pipe >= 0)
        return TCLI_OK;
    fprintf(stderr, "error: %s: cannot open the %s datasets again\n", m->path, d->name);
    return TCLI_FAIL;
}

static void tcli_demo_close_readers(tcli_dreaders *r)
{
    tersa_h5_close(r->direct);
    if (r->pipe >= 0)
        H5Dclose(r->pipe);
}

/* The timed slices of one dataset; then, untimed, each path reads what the other wrote. */
static int tcli_demo_read(tcli_demo5 *m, const tcli_dds *d, uint8_t *buf, uint8_t *want)
{
    tcli_dslice s[4];
    tcli_dreaders r;
    tcli_demo_slices(d, s);
    for (int cross = 0; cross < 2; cross++) {
        if (tcli_demo_open_readers(m, d, &r, cross) != TCLI_OK)
            return TCLI_FAIL;
        for (int i = cross ? 3 : 0; i < 4; i++) {
            size_t n = (size_t)(s[i].count[0] * s[i].count[1] * s[i].count[2]) * d->item;
            double t[2];
            tcli_demo_expect(d, &s[i], want);
            t[0] = tcli_demo_time(m, d, &r, 0, &s[i], buf, want, n);
            t[1] = tcli_demo_time(m, d, &r, 1, &s[i], buf, want, n);
            if (!cross)
                tcli_demo_row(d, &s[i], n, t);
        }
        tcli_demo_close_readers(&r);
    }
    return TCLI_OK;
}

/* ---- the report ---------------------------------------------------------------------------- */

static void tcli_demo_intro5(const tcli_demo5 *m)
{
    printf("HDF5 with Blosc2 (filter %d): direct chunk I/O on tersa's engine (%d threads) vs\n"
           "HDF5's filter pipeline with tersa's filter registered in-process (1 thread)\n",
           TERSA_H5_FILTER_ID, m->o->threads);
    for (int i = 0; i < 2; i++) {
        const tcli_dds *d = &m->ds[i];
        printf("  %-6s %s, %s (%lld, %lld, %lld), chunks (%lld, %lld, %lld), %s clevel %d %s\n",
               d->name, d->desc, d->dtype, (long long)d->dims[0], (long long)d->dims[1],
               (long long)d->dims[2], (long long)d->chunks[0], (long long)d->chunks[1],
               (long long)d->chunks[2], tersa_codec_name(d->codec), d->clevel,
               tersa_filter_name(d->filter));
    }
    printf("\n  %-8s %10s %11s %8s %10s %11s %9s\n", "write", "MiB", "stored MiB", "ratio",
           "direct s", "pipeline s", "speedup");
    for (int i = 0; i < 2; i++) {
        const tcli_dds *d = &m->ds[i];
        double mib = (double)d->nbytes / 1048576.0;
        printf("  %-8s %10.2f %11.2f %7.2fx %10.3f %11.3f %8.1fx\n", d->name, mib,
               (double)d->stored[0] / 1048576.0,
               d->stored[0] ? (double)d->nbytes / (double)d->stored[0] : 0.0, d->wtime[0],
               d->wtime[1], d->wtime[0] > 0 ? d->wtime[1] / d->wtime[0] : 0.0);
    }
    printf("\n  %-20s %11s %12s %12s %9s\n", "read", "bytes", "direct ms", "pipeline ms",
           "speedup");
}

/* Where the file goes: -o (refusing to overwrite without -f) or a fresh temporary directory. */
static int tcli_demo_place(tcli_demo5 *m)
{
    const char *tmp = getenv("TMPDIR");
    if (m->o->output) {
        snprintf(m->path, sizeof m->path, "%s", m->o->output);
        if (tcli_check_output(m->path, m->o->force) != TCLI_OK)
            return TCLI_FAIL;
        remove(m->path);
        return TCLI_OK;
    }
    snprintf(m->dir, sizeof m->dir, "%s/tersa-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(m->dir)) {
        fprintf(stderr, "error: %s: cannot create a temporary directory\n", m->dir);
        m->dir[0] = '\0';
        return TCLI_FAIL;
    }
    snprintf(m->path, sizeof m->path, "%s/demo.h5", m->dir);
    return TCLI_OK;
}

static int tcli_demo_run5(tcli_demo5 *m)
{
    int rc = tcli_demo_generate(m);
    if (rc == TCLI_OK && tersa_h5_register_filter() < 0)
        rc = tcli_detail_error("demo: registering the Blosc2 filter");
    if (rc == TCLI_OK && tcli_demo_place(m) != TCLI_OK)
        return TCLI_FAIL;
    m->file = rc == TCLI_OK ? H5Fcreate(m->path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (rc == TCLI_OK && m->file < 0) {
        fprintf(stderr, "error: %s: cannot create the HDF5 file\n", m->path);
        rc = TCLI_FAIL;
    }
    if (rc == TCLI_OK)
        rc = tcli_demo_write(m);
    if (rc == TCLI_OK)
        tcli_demo_intro5(m);
    size_t big = m->ds[0].nbytes > m->ds[1].nbytes ? m->ds[0].nbytes : m->ds[1].nbytes;
    uint8_t *buf = rc == TCLI_OK ? malloc(big) : NULL, *want = buf ? malloc(big) : NULL;
    if (rc == TCLI_OK && !want)
        rc = tcli_tersa_error("demo", TERSA_ERR_NOMEM);
    for (int i = 0; i < 2 && rc == TCLI_OK; i++)
        rc = tcli_demo_read(m, &m->ds[i], buf, want);
    free(buf);
    free(want);
    return rc;
}

int tcli_h5_demo(const tcli_h5demo_opts *o)
{
    tcli_demo5 *m = calloc(1, sizeof *m);
    if (!m)
        return tcli_tersa_error("demo", TERSA_ERR_NOMEM);
    m->o = o;
    m->file = -1;
    int rc = tcli_demo_run5(m);
    if (m->file >= 0 && H5Fclose(m->file) < 0 && rc == TCLI_OK)
        rc = tcli_tersa_error(m->path, TERSA_ERR_IO);
    if (rc == TCLI_OK && m->bad)
        rc = TCLI_FAIL;
    if (rc == TCLI_OK)
        printf("\nverified: all %d HDF5 reads (direct and pipeline, and each path on the other's "
               "dataset) equal the generated data\n%s %s\n\n",
               m->reads, o->output ? "kept" : "wrote (and removed)", m->path);
    else if (m->bad)
        fprintf(stderr, "error: demo: %d of %d HDF5 reads failed verification\n", m->bad,
                m->reads);
    if (m->dir[0]) {
        remove(m->path);
        rmdir(m->dir);
    }
    free(m->ds[0].data);
    free(m->ds[1].data);
    free(m);
    return rc;
}

#else /* no HDF5 layer in this build */

int tcli_h5_demo(const tcli_h5demo_opts *o)
{
    (void)o;
    printf("HDF5 part skipped: this tersa was built without the HDF5 layer (libtersa_h5);\n"
           "showing the chunk engine only.\n\n");
    return TCLI_OK;
}

#endif

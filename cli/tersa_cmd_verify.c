/* `tersa verify PATH ...`: decode every chunk (and every vlmetalayer) of a chunk file, frame or
 * b2nd array, or every chunk of an HDF5 dataset, and report each damaged one by its index and
 * what was wrong. Exit status 1 when anything is damaged. Blosc2 chunks carry no checksums, so
 * damage is found where it breaks the structure or a codec stream; bytes changed inside a
 * stream that still decodes cannot be seen. */
#include <stdlib.h>
#include <string.h>

#include "tersa_cli.h"

typedef struct tcli_vstat {
    int64_t chunks, damaged, nbytes;
} tcli_vstat;

static void tcli_damage(tcli_vstat *v, const char *path, const char *what, int64_t rc)
{
    const char *d = tersa_error_detail();
    fprintf(stderr, "error: %s: %s: %s%s%s\n", path, what, tersa_error_name((int)rc),
            *d ? ": " : "", d);
    v->damaged++;
}

static void tcli_verify_chunk_file(tcli_src *s, tcli_vstat *v)
{
    tersa_chunk_info ci = {.struct_size = sizeof ci};
    int64_t rc = tersa_chunk_inspect(s->mem, s->memlen, &ci);
    uint8_t *buf = NULL;
    tersa_dctx *d = tersa_dctx_create();
    if (rc >= 0)
        rc = tersa_chunk_validate(s->mem, s->memlen);
    if (rc >= 0)
        rc = (buf = malloc(ci.nbytes > 0 ? (size_t)ci.nbytes : 1)) && d ? 0 : TERSA_ERR_NOMEM;
    if (rc >= 0)
        rc = tersa_dctx_set(d, TERSA_P_NTHREADS, s->nthreads);
    if (rc >= 0)
        rc = tersa_decompress(d, s->mem, s->memlen, buf, (size_t)ci.nbytes);
    v->chunks = 1;
    if (rc < 0)
        tcli_damage(v, s->arg, "chunk 0", rc);
    else
        v->nbytes = rc;
    tersa_dctx_free(d);
    free(buf);
}

/* Decode chunk i into *buf (grown as needed); returns the decoded size or an error. *want
 * receives the size the chunk's header announces. */
static int64_t tcli_verify_one(tersa_schunk *sc, int64_t i, uint8_t **buf, size_t *cap,
                               int32_t *want)
{
    int32_t nb = 0;
    int64_t rc = tersa_schunk_chunk_sizes(sc, i, &nb, NULL);
    if (rc < 0)
        return rc;
    if ((size_t)nb > *cap) {
        uint8_t *b = realloc(*buf, (size_t)nb);
        if (!b)
            return TERSA_ERR_NOMEM;
        *buf = b;
        *cap = (size_t)nb;
    }
    *want = nb;
    return tersa_schunk_decompress_chunk(sc, i, *buf, *cap);
}

static void tcli_verify_vlmeta(tcli_src *s, tcli_vstat *v)
{
    int n = tersa_schunk_vlmeta_count(s->sc);
    for (int i = 0; i < n; i++) {
        const char *name = tersa_schunk_vlmeta_name(s->sc, i);
        int64_t len = name ? tersa_schunk_vlmeta_get(s->sc, name, NULL, 0) : TERSA_ERR_NOT_FOUND;
        uint8_t *b = len >= 0 ? malloc(len > 0 ? (size_t)len : 1) : NULL;
        if (len >= 0)
            len = b ? tersa_schunk_vlmeta_get(s->sc, name, b, (size_t)len) : TERSA_ERR_NOMEM;
        if (len < 0) {
            char what[80];
            snprintf(what, sizeof what, "vlmetalayer %d ('%.31s')", i, name ? name : "?");
            tcli_damage(v, s->arg, what, len);
        }
        free(b);
    }
}

static void tcli_verify_frame(tcli_src *s, tcli_vstat *v)
{
    int64_t n = tersa_schunk_nchunks(s->sc);
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t want = -1;
        int64_t rc = tcli_verify_one(s->sc, i, &buf, &cap, &want);
        char what[48];
        snprintf(what, sizeof what, "chunk %lld", (long long)i);
        if (rc < 0) {
            tcli_damage(v, s->arg, what, rc);
        } else if (rc != want) {
            fprintf(stderr, "error: %s: %s: decoded %lld bytes, its header says %d\n", s->arg, what,
                    (long long)rc, (int)want);
            v->damaged++;
        } else {
            v->nbytes += rc;
        }
    }
    free(buf);
    v->chunks = n;
    tcli_verify_vlmeta(s, v);
    if (s->b2nd_failed) {
        fprintf(stderr,
                "error: %s: b2nd metalayer: does not describe the frame (see the "
                "warning above)\n",
                s->arg);
        v->damaged++;
    }
}

static int tcli_verify_path(const char *path, int nthreads, int verbose)
{
    tcli_src s;
    tcli_vstat v = {0, 0, 0};
    if (tcli_src_open(&s, path, nthreads) != TCLI_OK)
        return TCLI_FAIL;
    int rc = TCLI_OK;
    switch (s.kind) {
    case TCLI_K_CHUNK:
        tcli_verify_chunk_file(&s, &v);
        break;
    case TCLI_K_FRAME:
    case TCLI_K_B2ND:
        tcli_verify_frame(&s, &v);
        break;
    case TCLI_K_HDF5:
        rc = tcli_h5_verify(&s, verbose);
        break;
    case TCLI_K_NPY:
        v.nbytes = tcli_src_nitems(&s) * s.itemsize;
        break; /* checked at open */
    default:
        fprintf(stderr, "error: %s: not a Blosc2 chunk, frame, b2nd array, .npy or HDF5 file\n",
                path);
        rc = TCLI_FAIL;
    }
    if (s.kind != TCLI_K_HDF5 && rc == TCLI_OK && v.damaged) {
        fprintf(stderr, "%s: %lld of %lld chunks damaged\n", path, (long long)v.damaged,
                (long long)v.chunks);
        rc = TCLI_FAIL;
    } else if (s.kind != TCLI_K_HDF5 && rc == TCLI_OK && verbose) {
        printf("%s: ok (%s, %lld chunks, %lld bytes decoded)\n", path, tcli_kind_name(s.kind),
               (long long)v.chunks, (long long)v.nbytes);
    }
    tcli_src_close(&s);
    return rc;
}

static void tcli_verify_usage(FILE *f)
{
    fprintf(f, "usage: tersa verify PATH[:DATASET] ... [-v] [--threads N]\n\n"
               "Decode every chunk of each chunk file, frame, b2nd array or HDF5 dataset (and\n"
               "every vlmetalayer of a frame), and report each damaged chunk by its index and\n"
               "what was wrong. Silent when everything decodes; exit status 1 when anything is\n"
               "damaged. (Blosc2 has no checksums: changed bytes inside a stream that still\n"
               "decodes cannot be detected.)\n\n"
               "Options:\n"
               "  -v, --verbose  print a summary line for each intact PATH\n"
               "  --threads N    decompression threads (default 1)\n"
               "  -h, --help     this help\n");
}

int tcli_cmd_verify(int argc, char **argv)
{
    int verbose = 0, npos = 0, status = TCLI_OK;
    const char *threads = "1", *pos[256];
    int64_t nthreads = 1;
    const tcli_opt opts[] = {{"--verbose", "-v", NULL, &verbose},
                             {"--threads", NULL, &threads, NULL},
                             {NULL, NULL, NULL, NULL}};
    int rc = tcli_parse(argc, argv, opts, NULL, NULL, pos, 256, &npos);
    if (rc < 0)
        tcli_verify_usage(stdout);
    if (rc != TCLI_OK)
        return rc < 0 ? TCLI_OK : rc;
    if (npos < 1)
        return tcli_usage_error("verify", "no input file");
    if (tbench_param_arg("--threads", TERSA_P_NTHREADS, threads, &nthreads))
        return TCLI_USAGE;
    for (int i = 0; i < npos; i++)
        if (tcli_verify_path(pos[i], (int)nthreads, verbose) != TCLI_OK)
            status = TCLI_FAIL;
    return status;
}

/* Allocation-failure injection: this program supplies its own tersa__malloc & co. (the library's
 * single allocation point, src/common/tersa_alloc.c), so the static library links against them.
 * Allocation k fails, for k = 1, 2, ... until a whole scenario runs without reaching k: every
 * failure must surface as an error (NULL or TERSA_ERR_NOMEM), never a crash or a leak (ASan). */
#include <stdbool.h>

#include "common/tersa_internal.h"
#include "harness.h"
#include "tersa/tersa.h"

static long alloc_count, fail_at;

static bool should_fail(void) { return ++alloc_count == fail_at; }

void *tersa__malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }
void *tersa__calloc(size_t n, size_t s) { return should_fail() ? NULL : calloc(n ? n : 1, s ? s : 1); }
void *tersa__realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }
void tersa__free(void *p) { free(p); }
void *tersa__malloc_aligned(size_t n)
{
    void *p = NULL;
    if (should_fail()) return NULL;
    return posix_memalign(&p, 64, (n + 63) & ~(size_t)63) ? NULL : p;
}
void tersa__free_aligned(void *p) { free(p); }

/* One scenario; returns true when every step succeeded. */
static bool scenario(const uint8_t *src, size_t n, uint8_t *chunk, uint8_t *out, int codec,
                     int dict, int threads)
{
    bool ok = false;
    tersa_cctx *c = tersa_cctx_create();
    tersa_dctx *d = tersa_dctx_create();
    if (!c || !d) goto done;
    tersa_cctx_set(c, TERSA_P_TYPESIZE, 4);
    tersa_cctx_set(c, TERSA_P_CODEC, codec);
    tersa_cctx_set(c, TERSA_P_USE_DICT, dict);
    tersa_cctx_set(c, TERSA_P_FILTER4, TERSA_FILTER_DELTA);
    tersa_cctx_set(c, TERSA_P_NTHREADS, threads);
    tersa_dctx_set(d, TERSA_P_NTHREADS, threads);
    int64_t cs = tersa_compress(c, src, n, chunk, n + 32);
    if (cs < 0) {
        CHECK(cs == TERSA_ERR_NOMEM || cs == TERSA_ERR_THREAD); /* pool start failures */
        goto done;
    }
    int64_t r = tersa_decompress(d, chunk, (size_t)cs, out, n);
    if (r < 0) goto done;
    CHECK_EQ(r, (int64_t)n);
    CHECK_MEM(out, src, n);
    r = tersa_getitem(d, chunk, (size_t)cs, 70000, 1000, out, n);
    if (r < 0) goto done;
    CHECK_MEM(out, src + 280000, 4000);
    ok = true;
done:
    tersa_cctx_free(c);
    tersa_dctx_free(d);
    return ok;
}

int main(void)
{
    size_t n = 1u << 20;
    uint8_t *src = malloc(n), *chunk = malloc(n + 32), *out = malloc(n);
    for (size_t i = 0; i < n / 4; i++) {
        uint32_t v = (uint32_t)(i * 3 + (i % 7));
        memcpy(src + 4 * i, &v, 4);
    }
    int codecs[] = {TERSA_CODEC_BLOSCLZ, TERSA_CODEC_ZSTD, TERSA_CODEC_LZ4HC};
    for (int ci = 0; ci < 3; ci++)
        for (int threads = 1; threads <= 2; threads++) {
            long k;
            for (k = 1; k < 10000; k++) {
                alloc_count = 0;
                fail_at = k;
                if (scenario(src, n, chunk, out, codecs[ci], ci == 1, threads) &&
                    alloc_count < k)
                    break; /* ran to the end without reaching the failure */
            }
            CHECK(k > 3 && k < 10000); /* several allocation points were exercised */
        }
    fail_at = 0;
    free(src);
    free(chunk);
    free(out);
    return th_report("alloc_fail");
}

/* Lazy reads of on-disk frames: a small getitem on a large chunk reads a few kilobytes.
 *
 * A file frame holds 4 MiB chunks with 8 KiB (and 16 KiB) blocks. Reading 100 items anywhere
 * (first block, middle, last block, across a block boundary) must give the bytes a full
 * decode gives while reading from the file only the chunk header, two block offsets and the
 * block's streams: counted by the schunk (io_read) and, independently, by the kernel
 * (/proc/self/io rchar, where available). Also: DELTA (block 0 is needed too), split blocks
 * (one stream per byte of the type), a chunk compressed with threads, and a chunk whose
 * blocks are stored in reverse order (block offsets not increasing). */
#include <stdbool.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"
#include "harness.h"
#include "tersa/tersa.h"
#include "tersa/tersa_frame.h"

#define CHUNK (4u << 20)

static char path[128];

/* rchar of this process (bytes read by read-like system calls), or -1. */
static int64_t kernel_rchar(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    int64_t v = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "rchar:", 6) == 0) v = strtoll(line + 6, NULL, 10);
    if (f) fclose(f);
    return v;
}

/* A ramp of int32 with 6 bits of noise: compresses about 3:1 with LZ4. */
static void gen(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        uint32_t v = (uint32_t)(i / 4) * 3 + (uint32_t)(th_rand(&s) & 0x3f);
        memcpy(p + i, &v, 4);
    }
}

static tersa_cctx *cctx(int32_t blocksize, int filter, int typesize, int split, int threads)
{
    tersa_cctx *c = tersa_cctx_create();
    tersa_cctx_set(c, TERSA_P_TYPESIZE, typesize);
    tersa_cctx_set(c, TERSA_P_CODEC, TERSA_CODEC_LZ4);
    tersa_cctx_set(c, TERSA_P_CLEVEL, 5);
    tersa_cctx_set(c, TERSA_P_BLOCKSIZE, blocksize);
    tersa_cctx_set(c, TERSA_P_SPLITMODE, split);
    tersa_cctx_set(c, TERSA_P_NTHREADS, threads);
    if (filter) tersa_cctx_set(c, TERSA_P_FILTER4, filter);
    return c;
}

/* The same chunk with its blocks' data stored in reverse order (block offsets decreasing). */
static uint8_t *reverse_blocks(const uint8_t *chunk, size_t len)
{
    tersa_chunk_info in = {.struct_size = sizeof in};
    if (tersa_chunk_inspect(chunk, len, &in) < 0 || in.memcpyed || in.special) return NULL;
    int32_t nb = in.nblocks;
    uint32_t data = 32 + 4 * (uint32_t)nb, *start = malloc((size_t)nb * 4), *end = malloc((size_t)nb * 4);
    for (int32_t k = 0; k < nb; k++) start[k] = tersa__ld32(chunk + 32 + 4 * k);
    for (int32_t k = 0; k < nb; k++) end[k] = k + 1 < nb ? start[k + 1] : (uint32_t)in.cbytes;
    uint8_t *out = malloc(len);
    memcpy(out, chunk, data);
    uint32_t pos = data;
    for (int32_t k = nb - 1; k >= 0; k--) {
        memcpy(out + pos, chunk + start[k], end[k] - start[k]);
        tersa__st32(out + 32 + 4 * k, pos);
        pos += end[k] - start[k];
    }
    free(start);
    free(end);
    return out;
}

typedef struct lazy_case {
    const char *name;
    int32_t blocksize;
    int filter, typesize, split, threads;
    bool reversed;
} lazy_case;

static int64_t g_worst, g_single_max;

/* The most a read of items [item, item + n) may take: the chunk header, the block offsets of
 * the blocks touched and of the next ones, and the largest size those blocks can have. */
static int64_t read_limit(const lazy_case *lc, int64_t item, int64_t n)
{
    int64_t ts = lc->typesize, bs = lc->blocksize;
    int64_t blocks = (item + n - 1) * ts / bs - item * ts / bs + 1;
    if (lc->filter == TERSA_FILTER_DELTA && item * ts >= bs) blocks++;
    return 32 + blocks * (8 + bs + 4 * ts);
}

static void one_read(tersa_schunk *r, const lazy_case *lc, const uint8_t *data, int64_t item,
                     uint8_t *out)
{
    int64_t ts = lc->typesize, n = 100;
    if (item + n > CHUNK / ts) item = CHUNK / ts - n;
    int64_t limit = read_limit(lc, item, n);
    int64_t k0 = kernel_rchar();
    r->io_read = 0;
    CHECK_EQ(tersa_schunk_getitem(r, 1, item, n, out, CHUNK), n * ts);
    int64_t k1 = kernel_rchar();
    CHECK_MEM(out, data + item * ts, (size_t)(n * ts));
    th_checks++;
    if (r->io_read <= 0 || r->io_read > limit)
        TH_FAIL_AT("%s: items %" PRId64 "..+100 read %" PRId64 " bytes (limit %" PRId64 ")",
                   lc->name, item, r->io_read, limit);
    /* The kernel agrees (rchar also counts the read of /proc/self/io itself). */
    if (k0 >= 0 && k1 >= 0) CHECK(k1 - k0 <= limit + 1024);
    if (item * ts % lc->blocksize + n * ts <= lc->blocksize) g_single_max =
        r->io_read > g_single_max ? r->io_read : g_single_max;
    if (r->io_read > g_worst) g_worst = r->io_read;
}

static void run_case(const lazy_case *lc)
{
    uint8_t *data = malloc(CHUNK), *out = malloc(CHUNK);
    gen(data, CHUNK, 7);
    tersa_cctx *c = cctx(lc->blocksize, lc->filter, lc->typesize, lc->split, lc->threads);
    tersa_schunk_params p = {.struct_size = sizeof p, .storage = TERSA_STORAGE_FILE, .path = path,
                             .overwrite = 1, .cparams = c};
    tersa_schunk *w = tersa_schunk_create(&p);
    uint8_t *chunk = malloc(tersa_compress_bound(CHUNK));
    int64_t cl = tersa_compress(c, data, CHUNK, chunk, tersa_compress_bound(CHUNK));
    CHECK(cl > 0);
    uint8_t *stored = lc->reversed ? reverse_blocks(chunk, (size_t)cl) : chunk;
    CHECK(stored != NULL);
    for (int k = 0; w && stored && k < 3; k++) CHECK_OK(tersa_schunk_append_chunk(w, stored, (size_t)cl));
    tersa_schunk_free(w);
    tersa_schunk *r = tersa_schunk_open_file(path, 0, TERSA_OPEN_READONLY);
    CHECK(r != NULL);
    int64_t ts = lc->typesize, per_block = lc->blocksize / ts;
    int64_t items[] = {0, 5, per_block - 50, 100000 / ts * 4 + 3, CHUNK / ts / 2, CHUNK / ts - 100};
    for (size_t i = 0; r && i < sizeof items / sizeof items[0]; i++) one_read(r, lc, data, items[i], out);
    if (r) { /* the whole chunk, for scale */
        r->io_read = 0;
        CHECK_EQ(tersa_schunk_decompress_chunk(r, 1, out, CHUNK), CHUNK);
        CHECK_MEM(out, data, CHUNK);
        printf("%-26s chunk %7" PRId64 " bytes on disk; 100 items in one block: read at most "
               "%5" PRId64 " bytes (across two blocks %5" PRId64 "; whole chunk %7" PRId64 ")\n",
               lc->name, cl, g_single_max, g_worst, r->io_read);
    }
    g_worst = g_single_max = 0;
    tersa_schunk_free(r);
    if (stored != chunk) free(stored);
    free(chunk);
    tersa_cctx_free(c);
    free(data);
    free(out);
}

int main(void)
{
    snprintf(path, sizeof path, "test_frame_lazy_%d.b2frame", (int)getpid());
    const lazy_case cases[] = {
        {"8 KiB blocks", 8192, 0, 4, TERSA_SPLIT_NEVER, 1, false},
        {"16 KiB blocks", 16384, 0, 4, TERSA_SPLIT_NEVER, 1, false},
        {"8 KiB blocks, split", 8192, 0, 4, TERSA_SPLIT_ALWAYS, 1, false},
        {"8 KiB blocks, delta", 8192, TERSA_FILTER_DELTA, 4, TERSA_SPLIT_NEVER, 1, false},
        {"8 KiB blocks, 2 threads", 8192, 0, 4, TERSA_SPLIT_NEVER, 2, false},
        {"8 KiB blocks, reversed", 8192, 0, 4, TERSA_SPLIT_NEVER, 1, true},
        {"16 KiB blocks, typesize 8", 16384, 0, 8, TERSA_SPLIT_ALWAYS, 1, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    unlink(path);
    return th_report("frame_lazy");
}

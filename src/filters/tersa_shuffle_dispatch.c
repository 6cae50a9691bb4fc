/* The table of shuffle implementations, the one chosen for this CPU, and the legacy (chunk
 * version 2) bitunshuffle rule. */
#include <stdatomic.h>
#include <string.h>

#include "common/tersa_internal.h"
#include "filters/tersa_shuffle_internal.h"

/* Generic first; later entries are preferred when the CPU has what they need. */
static const tersa__shuffle_impl impls[] = {
    {"generic", 0, tersa__shuffle_generic, tersa__unshuffle_generic, tersa__bitshuffle_generic,
     tersa__bitunshuffle_generic},
#ifdef TERSA_HAVE_X86_SHUFFLE
    {"sse2", TERSA_CPU_SSE2, tersa__shuffle_sse2, tersa__unshuffle_sse2, tersa__bitshuffle_sse2,
     tersa__bitunshuffle_sse2},
    {"avx2", TERSA_CPU_AVX2, tersa__shuffle_avx2, tersa__unshuffle_avx2, tersa__bitshuffle_avx2,
     tersa__bitunshuffle_avx2},
#endif
};

enum { N_IMPLS = (int)(sizeof impls / sizeof impls[0]) };

const tersa__shuffle_impl *tersa__shuffle_impls(int *count)
{
    if (count) *count = N_IMPLS;
    return impls;
}

static const tersa__shuffle_impl *choose(void)
{
    unsigned have = tersa__cpu_features();
    const tersa__shuffle_impl *best = &impls[0];
    for (int i = 1; i < N_IMPLS; i++)
        if ((impls[i].cpu_need & have) == impls[i].cpu_need) best = &impls[i];
    return best;
}

/* Racing first calls all compute the same pointer, and publishing it is one atomic store, so
 * there is nothing to lock. */
static _Atomic(const tersa__shuffle_impl *) chosen;

const tersa__shuffle_impl *tersa__shuffle_best(void)
{
    const tersa__shuffle_impl *p = atomic_load_explicit(&chosen, memory_order_acquire);
    if (TERSA_LIKELY(p != NULL)) return p;
    p = choose();
    atomic_store_explicit(&chosen, p, memory_order_release);
    return p;
}

void tersa__bitunshuffle_legacy(const uint8_t *src, uint8_t *dst, int32_t size, int32_t t)
{
    if (size <= 0) return;
    if (t < 1 || (size / t) % 8 != 0) {
        memcpy(dst, src, (size_t)size);
        return;
    }
    /* m is a multiple of 8, so the current rule transposes all m elements and copies the
     * size % t tail, which is exactly the Blosc1 behaviour. size < t (m = 0) copies it all. */
    tersa__shuffle_best()->bitunshuffle(src, dst, size, t);
}

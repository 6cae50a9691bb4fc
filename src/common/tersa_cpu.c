/* CPU feature detection, done once and published atomically. */
#include <stdatomic.h>

#include "common/tersa_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned detect(void)
{
    unsigned a, b, c, d, feat = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (d & bit_SSE2) feat |= TERSA_CPU_SSE2;
    int osxsave = (c & bit_OSXSAVE) != 0;
    if (osxsave && __get_cpuid_max(0, NULL) >= 7) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        (void)hi;
        if ((lo & 6) == 6) { /* XMM and YMM state enabled by the OS */
            __cpuid_count(7, 0, a, b, c, d);
            if (b & bit_AVX2) feat |= TERSA_CPU_AVX2;
        }
    }
    return feat;
}
#else
static unsigned detect(void) { return 0; }
#endif

/* Bit 31 marks "detected"; racing first calls compute the same value, so a plain atomic store
 * is enough. */
static _Atomic unsigned cpu_word;

unsigned tersa__cpu_features(void)
{
    unsigned w = atomic_load_explicit(&cpu_word, memory_order_acquire);
    if (w & 0x80000000u) return w & 0x7fffffffu;
    w = detect();
    atomic_store_explicit(&cpu_word, w | 0x80000000u, memory_order_release);
    return w;
}

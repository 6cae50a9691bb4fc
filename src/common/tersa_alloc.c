/* Allocation wrappers: the single place where tersa allocates heap memory. */
#include <stdlib.h>

#include "common/tersa_internal.h"

void *tersa__malloc(size_t n) { return malloc(n ? n : 1); }
void *tersa__calloc(size_t n, size_t size) { return calloc(n ? n : 1, size ? size : 1); }
void *tersa__realloc(void *p, size_t n) { return realloc(p, n ? n : 1); }
void tersa__free(void *p) { free(p); }

void *tersa__malloc_aligned(size_t n)
{
    void *p = NULL;
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n) return NULL;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0) return NULL;
    return p;
}

void tersa__free_aligned(void *p) { free(p); }

/* SPDX-License-Identifier: Apache-2.0 */
/* lake_alloc.c - the allocator hook, its C-library default, and a failing
 * allocator for the out-of-memory sweeps in the tests. */
#include "fmacros.h"

#include <stdlib.h>
#include <string.h>

#include "lake_common.h"

static void *std_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size ? size : 1);
}

static void *std_realloc(void *ctx, void *ptr, size_t old_size, size_t size)
{
    (void)ctx;
    (void)old_size;
    return realloc(ptr, size ? size : 1);
}

static void std_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static const lake_allocator std_allocator = {std_malloc, std_realloc,
                                             std_free, NULL};

const lake_allocator *lake_default_allocator(void)
{
    return &std_allocator;
}

void *lake_malloc(const lake_allocator *a, size_t size)
{
    a = lake_alloc_or_default(a);
    return a->malloc(a->ctx, size);
}

void *lake_calloc(const lake_allocator *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = lake_malloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *lake_realloc(const lake_allocator *a,
                   void *ptr,
                   size_t old_size,
                   size_t new_size)
{
    a = lake_alloc_or_default(a);
    if (!ptr)
        return a->malloc(a->ctx, new_size);
    return a->realloc(a->ctx, ptr, old_size, new_size);
}

void lake_free(const lake_allocator *a, void *ptr)
{
    if (!ptr)
        return;
    a = lake_alloc_or_default(a);
    a->free(a->ctx, ptr);
}

char *lake_strndup(const lake_allocator *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = lake_malloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *lake_strdup(const lake_allocator *a, const char *s)
{
    return lake_strndup(a, s, strlen(s));
}

/* ---- failing allocator ---- */

static bool fa_should_fail(lake_failing_alloc *fa)
{
    const int64_t i = fa->n_calls++;
    if (fa->fail_at < 0)
        return false;
    if (i == fa->fail_at || (fa->fail_all_after && i > fa->fail_at)) {
        fa->n_failed++;
        return true;
    }
    return false;
}

static void *fa_malloc(void *ctx, size_t size)
{
    lake_failing_alloc *fa = ctx;
    if (fa_should_fail(fa))
        return NULL;
    void *p = malloc(size ? size : 1);
    if (p)
        fa->n_live++;
    return p;
}

static void *fa_realloc(void *ctx, void *ptr, size_t old_size, size_t size)
{
    lake_failing_alloc *fa = ctx;
    (void)old_size;
    if (fa_should_fail(fa))
        return NULL;
    return realloc(ptr, size ? size : 1);
}

static void fa_free(void *ctx, void *ptr)
{
    lake_failing_alloc *fa = ctx;
    if (!ptr)
        return;
    fa->n_live--;
    free(ptr);
}

void lake_failing_alloc_init(lake_failing_alloc *fa, int64_t fail_at)
{
    memset(fa, 0, sizeof(*fa));
    fa->base.malloc = fa_malloc;
    fa->base.realloc = fa_realloc;
    fa->base.free = fa_free;
    fa->base.ctx = fa;
    fa->fail_at = fail_at;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* lake_buf.c - growable byte buffer with a hard cap (curl dynbuf). */
#include "fmacros.h"

#include <stdio.h>
#include <string.h>

#include "lake_common.h"
#include "lake_internal.h"

void lake_buf_init(lake_buf *b, const lake_allocator *alloc, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SIZE_MAX / 2;
    b->alloc = alloc;
}

void lake_buf_reset(lake_buf *b)
{
    lake_free(b->alloc, b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

lake_status lake_buf_reserve(lake_buf *b, size_t extra)
{
    if (extra > b->max - b->len)
        return LAKE_ETOOBIG;
    const size_t need = b->len + extra;
    if (need <= b->cap)
        return LAKE_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 4 ? need : cap * 2;
    char *p = lake_realloc(b->alloc, b->data, b->cap, cap);
    if (!p)
        return LAKE_ENOMEM;
    b->data = p;
    b->cap = cap;
    return LAKE_OK;
}

lake_status lake_buf_append(lake_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return LAKE_OK;
    LAKE_TRY(lake_buf_reserve(b, n));
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return LAKE_OK;
}

lake_status lake_buf_append_byte(lake_buf *b, uint8_t c)
{
    if (b->len < b->cap && b->len < b->max) {
        b->data[b->len++] = (char)c;
        return LAKE_OK;
    }
    return lake_buf_append(b, &c, 1);
}

lake_status lake_buf_append_str(lake_buf *b, const char *s)
{
    return lake_buf_append(b, s, strlen(s));
}

lake_status lake_buf_printf(lake_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return LAKE_EINVAL;
    LAKE_TRY(lake_buf_reserve(b, (size_t)n + 1));
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return LAKE_OK;
}

char *lake_buf_take(lake_buf *b, size_t *out_len, size_t *out_cap)
{
    char *p = b->data;
    if (out_len)
        *out_len = b->len;
    if (out_cap)
        *out_cap = b->cap;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* lake_common.h - internal helpers every stage uses: allocation, errors,
 * growable buffers, small utilities. Include after system headers and
 * before lake_internal.h. */
#ifndef LAKE_COMMON_H
#define LAKE_COMMON_H
#include "fmacros.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lake.h"

#define LAKE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LAKE_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define LAKE_MAX(a, b)    ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define LAKE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define LAKE_LIKELY(x)    __builtin_expect(!!(x), 1)
#define LAKE_UNLIKELY(x)  __builtin_expect(!!(x), 0)
/* Start loading the cache line at @p p (a macro: GCC drops a call to a
 * function whose only effect is a prefetch). */
#define LAKE_PREFETCH(p)  __builtin_prefetch(p)
#else
#define LAKE_PRINTF(f, a)
#define LAKE_LIKELY(x)   (x)
#define LAKE_UNLIKELY(x) (x)
#define LAKE_PREFETCH(p) ((void)(p))
#endif

/* Propagate a failing status. Use only where nothing needs releasing. */
#define LAKE_TRY(expr)                                                        \
    do {                                                                      \
        const lake_status lake_try_rc_ = (expr);                              \
        if (lake_try_rc_ != LAKE_OK)                                          \
            return lake_try_rc_;                                              \
    } while (0)

/* ---- allocation ---- */

/* The allocator used when an options struct gives NULL. */
const lake_allocator *lake_default_allocator(void);

/* Return @p a, or the default allocator when it is NULL. */
static inline const lake_allocator *lake_alloc_or_default(
    const lake_allocator *a)
{
    return a ? a : lake_default_allocator();
}

void *lake_malloc(const lake_allocator *a, size_t size);
void *lake_calloc(const lake_allocator *a, size_t n, size_t size);
void *lake_realloc(const lake_allocator *a,
                   void *ptr,
                   size_t old_size,
                   size_t new_size);
void lake_free(const lake_allocator *a, void *ptr);
/* Copy @p n bytes into a new NUL-terminated string; NULL on OOM. */
char *lake_strndup(const lake_allocator *a, const char *s, size_t n);
char *lake_strdup(const lake_allocator *a, const char *s);

/* A test allocator that fails the Nth allocation (0-based) and counts
 * live blocks so that leaks can be asserted. fail_at < 0 never fails. */
typedef struct lake_failing_alloc {
    lake_allocator base; /* pass &fa.base as the allocator */
    int64_t fail_at;     /* index of the allocation to fail, or -1 */
    int64_t n_calls;     /* allocations attempted so far */
    int64_t n_live;      /* blocks not yet freed */
    int64_t n_failed;    /* allocations refused */
    bool fail_all_after; /* fail every allocation from fail_at on */
} lake_failing_alloc;
void lake_failing_alloc_init(lake_failing_alloc *fa, int64_t fail_at);

/* ---- errors ---- */

/* Fill @p err (may be NULL) and return @p code. The message follows the
 * "<stage>: <what failed>: <detail>" convention, without newline. */
lake_status lake_error_set(lake_error *err,
                           lake_status code,
                           const char *fmt,
                           ...) LAKE_PRINTF(3, 4);
lake_status lake_error_setv(lake_error *err,
                            lake_status code,
                            const char *fmt,
                            va_list ap);
/* lake_error_set() with ": <strerror(errnum)>" appended. */
lake_status lake_error_errno(lake_error *err,
                             int errnum,
                             const char *fmt,
                             ...) LAKE_PRINTF(3, 4);
/* Reset @p err to LAKE_OK with an empty message. */
void lake_error_clear(lake_error *err);
/* The usual out-of-memory error. */
lake_status lake_error_oom(lake_error *err, const char *stage);

/* ---- growable byte buffer with a hard cap ---- */

typedef struct lake_buf {
    char *data;    /* NULL until the first append */
    size_t len;    /* bytes used */
    size_t cap;    /* bytes allocated */
    size_t max;    /* hard cap on len; 0 means SIZE_MAX / 2 */
    const lake_allocator *alloc;
} lake_buf;

/* Initialise an empty buffer; cannot fail. @p alloc may be NULL. */
void lake_buf_init(lake_buf *b, const lake_allocator *alloc, size_t max);
/* Release the memory; the buffer is empty and usable again. */
void lake_buf_reset(lake_buf *b);
/* Ensure room for @p extra more bytes. LAKE_ENOMEM or LAKE_ETOOBIG. */
LAKE_NODISCARD lake_status lake_buf_reserve(lake_buf *b, size_t extra);
LAKE_NODISCARD lake_status lake_buf_append(lake_buf *b,
                                           const void *p,
                                           size_t n);
LAKE_NODISCARD lake_status lake_buf_append_byte(lake_buf *b, uint8_t c);
LAKE_NODISCARD lake_status lake_buf_append_str(lake_buf *b, const char *s);
LAKE_NODISCARD lake_status lake_buf_printf(lake_buf *b, const char *fmt, ...)
    LAKE_PRINTF(2, 3);
/* Hand the bytes to the caller (who frees them with the buffer's
 * allocator and @p out_cap) and reset the buffer. */
char *lake_buf_take(lake_buf *b, size_t *out_len, size_t *out_cap);

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at @p s (@p n > 0 bytes left), or 0
 * with *bad set to the length of the maximal invalid subpart (>= 1). */
size_t lake_utf8_seq(const uint8_t *s, size_t n, size_t *bad);

/* Append @p n bytes, each maximal invalid UTF-8 subpart replaced by
 * U+FFFD. LAKE_ENOMEM or LAKE_ETOOBIG from the buffer. */
LAKE_NODISCARD lake_status lake_buf_append_utf8_repaired(lake_buf *b,
                                                         const char *s,
                                                         size_t n);

/* ---- small utilities ---- */

/* Little-endian stores. */
static inline void lake_store_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Monotonic clock in nanoseconds. */
int64_t lake_now_ns(void);

/* Number of online CPUs, at least 1. */
int lake_cpu_count(void);

#endif /* LAKE_COMMON_H */

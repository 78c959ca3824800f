/* SPDX-License-Identifier: Apache-2.0 */
/* parquet_encode.c - the RLE/bit-packing hybrid and the dictionary hash
 * table behind Parquet's dictionary encoding. */
#include "fmacros.h"

#include <string.h>

#include "lake_common.h"
#include "parquet/parquet_encode.h"
#include "parquet/thrift_compact.h"
#include "lake_internal.h"

/* ---- RLE / bit-packing hybrid ---- */

/* The hybrid is generated for two element types from one body. A run of 8
 * or more equal values becomes an RLE run; everything else is bit-packed
 * in groups of 8, and a bit-packed run ends at the first group boundary
 * where an RLE run of 8 begins. The run is measured before it is written,
 * so its header is exact. */
#define LAKE_RLE_ENCODE_BODY(T)                                               \
    const size_t value_bytes = ((size_t)bit_width + 7) / 8;                   \
    size_t i = 0;                                                             \
    while (i < n) {                                                           \
        const T v = values[i];                                                \
        size_t r = 1;                                                         \
        while (i + r < n && values[i + r] == v)                               \
            r++;                                                              \
        uint8_t tmp[16];                                                      \
        if (r >= 8) {                                                         \
            size_t k = lake_varint_encode((uint64_t)r << 1, tmp);             \
            for (size_t b = 0; b < value_bytes; b++)                          \
                tmp[k++] = (uint8_t)((uint32_t)v >> (8 * b));                 \
            LAKE_TRY(lake_buf_append(out, tmp, k));                           \
            i += r;                                                           \
            continue;                                                         \
        }                                                                     \
        size_t j = i;                                                         \
        for (;;) {                                                            \
            j += 8;                                                           \
            if (j >= n)                                                       \
                break;                                                        \
            size_t q = 1;                                                     \
            while (q < 8 && j + q < n && values[j + q] == values[j])          \
                q++;                                                          \
            if (q >= 8)                                                       \
                break;                                                        \
        }                                                                     \
        const size_t n_groups = (j - i) / 8;                                  \
        const size_t k = lake_varint_encode((uint64_t)n_groups << 1 | 1, tmp); \
        LAKE_TRY(lake_buf_reserve(out, k + n_groups * (size_t)bit_width));    \
        memcpy(out->data + out->len, tmp, k);                                 \
        uint8_t *dst = (uint8_t *)out->data + out->len + k;                   \
        uint64_t acc = 0;                                                     \
        int n_bits = 0;                                                       \
        for (size_t x = i; x < j; x++) {                                      \
            const uint64_t val = x < n ? (uint64_t)values[x] : 0;             \
            acc |= val << n_bits;                                             \
            n_bits += bit_width;                                              \
            while (n_bits >= 8) {                                             \
                *dst++ = (uint8_t)acc;                                        \
                acc >>= 8;                                                    \
                n_bits -= 8;                                                  \
            }                                                                 \
        }                                                                     \
        out->len += k + n_groups * (size_t)bit_width;                         \
        i = j;                                                                \
    }                                                                         \
    return LAKE_OK

lake_status lake_rle_encode_u32(const uint32_t *values,
                                size_t n,
                                int bit_width,
                                lake_buf *out)
{
    LAKE_RLE_ENCODE_BODY(uint32_t);
}

lake_status lake_rle_encode_u8(const uint8_t *values,
                               size_t n,
                               int bit_width,
                               lake_buf *out)
{
    LAKE_RLE_ENCODE_BODY(uint8_t);
}

/* ---- hashing ---- */

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Fixed-size loads only: a tail of 4..7 bytes is two overlapping 4-byte
 * loads, a shorter one three single bytes (the wyhash trick). */
uint64_t lake_pq_hash_bytes(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xbf58476d1ce4e5b9ULL);
    while (n >= 8) {
        h = (h ^ load64(s)) * 0x94d049bb133111ebULL;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t k;
    if (n >= 4)
        k = load32(s) | load32(s + n - 4) << 32;
    else if (n > 0)
        k = (uint64_t)s[0] << 16 | (uint64_t)s[n >> 1] << 8 | s[n - 1];
    else
        k = 0;
    h = (h ^ k ^ ((uint64_t)n << 59)) * 0x94d049bb133111ebULL;
    return lake_pq_fmix64(h);
}

static inline uint64_t hash_key(uint64_t key)
{
    return lake_pq_hash_fixed(key);
}

void lake_pq_dict_init(lake_pq_dict *d, const lake_allocator *alloc, int width)
{
    memset(d, 0, sizeof(*d));
    d->alloc = alloc;
    d->width = width;
    d->ascending = width != 0;
    lake_buf_init(&d->plain, alloc, 0);
}

void lake_pq_dict_clear(lake_pq_dict *d)
{
    d->n = 0;
    d->plain.len = 0;
    /* An ascending dictionary has not touched its (zeroed) table. */
    if (d->slots && !d->ascending)
        memset(d->slots, 0, d->n_slots * 2 * sizeof(*d->slots));
    d->ascending = d->width != 0;
}

void lake_pq_dict_free(lake_pq_dict *d)
{
    lake_free(d->alloc, d->slots);
    lake_buf_reset(&d->plain);
    d->slots = NULL;
    d->n_slots = 0;
    d->n = 0;
}

/* memcmp(a, b, n) == 0 without a call for the short strings that
 * dictionaries hold (overlapping fixed-size loads, as in the hash). */
static inline bool bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n >= 8) {
        if (n > 16)
            return memcmp(a, b, n) == 0;
        return load64(a) == load64(b) &&
               load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4)
        return load32(a) == load32(b) &&
               load32(a + n - 4) == load32(b + n - 4);
    return n == 0 ||
           (a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1]);
}

/* Whether slot @p pos of @p slots holds an entry. Its words: [2 * pos] is
 * the value's bits (fixed width) or hash << 32 | (index + 1) (strings);
 * [2 * pos + 1] is index + 1 (fixed width) or offset << 32 | length
 * (strings). */
static inline bool slot_used(const lake_pq_dict *d,
                             const uint64_t *slots,
                             size_t pos)
{
    return slots[2 * pos + (d->width ? 1 : 0)] != 0;
}

/* Double the table (or make the first one) and re-place every entry. */
static lake_status grow_slots(lake_pq_dict *d)
{
    const size_t n_new = d->n_slots ? d->n_slots * 2 : 32;
    uint64_t *slots = lake_calloc(d->alloc, n_new * 2, sizeof(*slots));
    if (!slots)
        return LAKE_ENOMEM;
    const size_t mask = n_new - 1;
    for (size_t i = 0; i < d->n_slots; i++) {
        if (!slot_used(d, d->slots, i))
            continue;
        const uint64_t w0 = d->slots[2 * i], w1 = d->slots[2 * i + 1];
        size_t pos =
            (size_t)(d->width ? hash_key(w0) : w0 >> 32) & mask;
        while (slot_used(d, slots, pos))
            pos = (pos + 1) & mask;
        slots[2 * pos] = w0;
        slots[2 * pos + 1] = w1;
    }
    lake_free(d->alloc, d->slots);
    d->slots = slots;
    d->n_slots = n_new;
    return LAKE_OK;
}

/* The bits of the fixed-width value at @p p, zero-extended. */
static inline uint64_t fixed_key(const lake_pq_dict *d, const void *p)
{
    return d->width == 8 ? load64(p) : load32(p);
}

/* Append new fixed-width value @p p (bits @p key) as entry n, or refuse
 * with LAKE_ETOOBIG / LAKE_ENOMEM and change nothing. */
static lake_status append_fixed(lake_pq_dict *d,
                                const void *p,
                                size_t max_bytes)
{
    const size_t width = (size_t)d->width;
    if (d->plain.len + width > max_bytes || d->n == UINT32_MAX - 1)
        return LAKE_ETOOBIG;
    LAKE_TRY(lake_buf_reserve(&d->plain, width));
    memcpy(d->plain.data + d->plain.len, p, width);
    d->plain.len += width;
    return LAKE_OK;
}

/* Leave ascending mode: place the entries so far in a table big enough
 * for one more (the table of an earlier chunk is reused: it is zeroed). */
static lake_status leave_ascending(lake_pq_dict *d)
{
    size_t n_new = d->n_slots ? d->n_slots : 32;
    while ((size_t)d->n * 2 >= n_new)
        n_new *= 2;
    if (n_new != d->n_slots) {
        uint64_t *slots = lake_calloc(d->alloc, n_new * 2, sizeof(*slots));
        if (!slots)
            return LAKE_ENOMEM;
        lake_free(d->alloc, d->slots);
        d->slots = slots;
        d->n_slots = n_new;
    }
    const size_t mask = d->n_slots - 1;
    const uint8_t *plain = (const uint8_t *)d->plain.data;
    for (uint32_t i = 0; i < d->n; i++) {
        const uint64_t key = fixed_key(d, plain + (size_t)i * d->width);
        size_t pos = (size_t)hash_key(key) & mask;
        while (d->slots[2 * pos + 1])
            pos = (pos + 1) & mask;
        d->slots[2 * pos] = key;
        d->slots[2 * pos + 1] = (uint64_t)i + 1;
    }
    d->ascending = false;
    return LAKE_OK;
}

/* lake_pq_dict_put() for 4- and 8-byte values, once the table is in use:
 * find @p key (the bits of @p p) or insert it. */
static lake_status put_fixed(lake_pq_dict *d,
                             const void *p,
                             uint64_t key,
                             size_t max_bytes,
                             uint32_t *idx)
{
    if ((size_t)d->n * 2 >= d->n_slots)
        LAKE_TRY(grow_slots(d));
    const size_t mask = d->n_slots - 1;
    size_t pos = (size_t)hash_key(key) & mask;
    for (;;) {
        const uint64_t v = d->slots[2 * pos + 1];
        if (!v)
            break;
        if (d->slots[2 * pos] == key) {
            *idx = (uint32_t)v - 1;
            return LAKE_OK;
        }
        pos = (pos + 1) & mask;
    }
    LAKE_TRY(append_fixed(d, p, max_bytes));
    d->slots[2 * pos] = key;
    d->slots[2 * pos + 1] = (uint64_t)d->n + 1;
    *idx = d->n++;
    return LAKE_OK;
}

lake_status lake_pq_dict_put(lake_pq_dict *d,
                             const void *p,
                             size_t len,
                             size_t max_bytes,
                             uint32_t *idx)
{
    if (d->width) {
        const uint64_t key = fixed_key(d, p);
        if (d->n > 0 && key == d->last) {
            *idx = d->last_idx;
            return LAKE_OK;
        }
        if (d->ascending) {
            if (d->n == 0 || key > d->last) {
                LAKE_TRY(append_fixed(d, p, max_bytes));
                *idx = d->n++;
                d->last = key;
                d->last_idx = *idx;
                return LAKE_OK;
            }
            LAKE_TRY(leave_ascending(d));
        }
        LAKE_TRY(put_fixed(d, p, key, max_bytes, idx));
        d->last = key;
        d->last_idx = *idx;
        return LAKE_OK;
    }
    if ((size_t)d->n * 2 >= d->n_slots)
        LAKE_TRY(grow_slots(d));
    /* Strings: the slot holds hash, index, offset and length, so a probe
     * reads one cache line and then the entry's bytes only on a match. */
    const uint64_t tag = lake_pq_hash_bytes(p, len) >> 32;
    const size_t mask = d->n_slots - 1;
    size_t pos = (size_t)tag & mask;
    for (;;) {
        const uint64_t w0 = d->slots[2 * pos];
        if (!w0)
            break;
        const uint64_t w1 = d->slots[2 * pos + 1];
        if ((w0 >> 32) == tag && (uint32_t)w1 == len &&
            bytes_equal((const uint8_t *)d->plain.data + (w1 >> 32) + 4, p,
                        len)) {
            *idx = (uint32_t)w0 - 1;
            return LAKE_OK;
        }
        pos = (pos + 1) & mask;
    }
    const size_t add = len + 4;
    if (d->plain.len + add > max_bytes || d->n == UINT32_MAX - 1 ||
        len > INT32_MAX || d->plain.len + add > UINT32_MAX)
        return LAKE_ETOOBIG;
    LAKE_TRY(lake_buf_reserve(&d->plain, add));
    const uint64_t offset = d->plain.len;
    uint8_t *dst = (uint8_t *)d->plain.data + offset;
    lake_store_u32le(dst, (uint32_t)len);
    if (len)
        memcpy(dst + 4, p, len);
    d->plain.len += add;
    d->slots[2 * pos] = tag << 32 | ((uint64_t)d->n + 1);
    d->slots[2 * pos + 1] = offset << 32 | (uint64_t)len;
    *idx = d->n++;
    return LAKE_OK;
}

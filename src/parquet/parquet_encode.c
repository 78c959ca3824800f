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

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

uint64_t lake_pq_hash_bytes(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xbf58476d1ce4e5b9ULL);
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, s, 8);
        h = (h ^ k) * 0x94d049bb133111ebULL;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t k = 0;
        memcpy(&k, s, n);
        h = (h ^ k) * 0x94d049bb133111ebULL;
    }
    return fmix64(h);
}

/* ---- dictionary ---- */

void lake_pq_dict_init(lake_pq_dict *d, const lake_allocator *alloc, int width)
{
    memset(d, 0, sizeof(*d));
    d->alloc = alloc;
    d->width = width;
    lake_buf_init(&d->plain, alloc, 0);
}

void lake_pq_dict_clear(lake_pq_dict *d)
{
    d->n = 0;
    d->plain.len = 0;
    if (d->slots)
        memset(d->slots, 0, d->n_slots * sizeof(*d->slots));
}

void lake_pq_dict_free(lake_pq_dict *d)
{
    lake_free(d->alloc, d->slots);
    lake_free(d->alloc, d->offsets);
    lake_buf_reset(&d->plain);
    d->slots = NULL;
    d->offsets = NULL;
    d->n_slots = d->offsets_cap = 0;
    d->n = 0;
}

static bool entry_equals(const lake_pq_dict *d,
                         uint32_t idx,
                         const void *p,
                         size_t len)
{
    if (d->width) {
        return memcmp(d->plain.data + (size_t)idx * (size_t)d->width, p,
                      len) == 0;
    }
    const uint8_t *e = (const uint8_t *)d->plain.data + d->offsets[idx];
    const uint32_t elen = (uint32_t)e[0] | (uint32_t)e[1] << 8 |
                          (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
    return elen == len && memcmp(e + 4, p, len) == 0;
}

/* Double the table (or make the first one) and re-place every entry. */
static lake_status grow_slots(lake_pq_dict *d)
{
    const size_t n_new = d->n_slots ? d->n_slots * 2 : 256;
    uint64_t *slots = lake_calloc(d->alloc, n_new, sizeof(*slots));
    if (!slots)
        return LAKE_ENOMEM;
    const size_t mask = n_new - 1;
    for (size_t i = 0; i < d->n_slots; i++) {
        const uint64_t s = d->slots[i];
        if (!s)
            continue;
        size_t pos = (size_t)(s >> 32) & mask;
        while (slots[pos])
            pos = (pos + 1) & mask;
        slots[pos] = s;
    }
    lake_free(d->alloc, d->slots);
    d->slots = slots;
    d->n_slots = n_new;
    return LAKE_OK;
}

lake_status lake_pq_dict_put(lake_pq_dict *d,
                             const void *p,
                             size_t len,
                             size_t max_bytes,
                             uint32_t *idx)
{
    if ((size_t)d->n * 2 >= d->n_slots)
        LAKE_TRY(grow_slots(d));
    const uint64_t h = lake_pq_hash_bytes(p, len);
    const uint64_t tag = h >> 32;
    const size_t mask = d->n_slots - 1;
    size_t pos = (size_t)tag & mask;
    for (;;) {
        const uint64_t s = d->slots[pos];
        if (!s)
            break;
        if ((s >> 32) == tag && entry_equals(d, (uint32_t)s - 1, p, len)) {
            *idx = (uint32_t)s - 1;
            return LAKE_OK;
        }
        pos = (pos + 1) & mask;
    }
    const size_t add = d->width ? len : len + 4;
    if (d->plain.len + add > max_bytes || d->n == UINT32_MAX - 1 ||
        len > INT32_MAX)
        return LAKE_ETOOBIG;
    if (!d->width && d->n == d->offsets_cap) {
        const size_t cap = d->offsets_cap ? d->offsets_cap * 2 : 256;
        uint32_t *o = lake_realloc(d->alloc, d->offsets,
                                   d->offsets_cap * sizeof(*o),
                                   cap * sizeof(*o));
        if (!o)
            return LAKE_ENOMEM;
        d->offsets = o;
        d->offsets_cap = cap;
    }
    if (d->plain.len + add > UINT32_MAX)
        return LAKE_ETOOBIG;
    LAKE_TRY(lake_buf_reserve(&d->plain, add));
    uint8_t *dst = (uint8_t *)d->plain.data + d->plain.len;
    if (!d->width) {
        d->offsets[d->n] = (uint32_t)d->plain.len;
        lake_store_u32le(dst, (uint32_t)len);
        dst += 4;
    }
    if (len)
        memcpy(dst, p, len);
    d->plain.len += add;
    d->slots[pos] = tag << 32 | ((uint64_t)d->n + 1);
    *idx = d->n++;
    return LAKE_OK;
}

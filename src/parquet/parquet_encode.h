/* SPDX-License-Identifier: Apache-2.0 */
/* parquet_encode.h - Parquet value encodings the writer uses: the
 * RLE/bit-packing hybrid (definition levels and dictionary indices) and a
 * dictionary of PLAIN-encoded values behind an open-addressing hash table. */
#ifndef LAKE_PARQUET_ENCODE_H
#define LAKE_PARQUET_ENCODE_H
#include "lake_common.h"

#include <string.h>

/* Bits needed to store values 0..max_value (0 for 0). */
static inline int lake_pq_bit_width(uint32_t max_value)
{
    int w = 0;
    while (w < 32 && (max_value >> w) != 0)
        w++;
    return w;
}

/* Append the RLE/bit-packed hybrid encoding (without length prefix) of
 * @p n values at @p bit_width (0..32) to @p out. Every value must fit in
 * @p bit_width bits. A final bit-packed group is padded with zeros, as the
 * format allows. LAKE_ENOMEM or LAKE_ETOOBIG from the buffer. */
LAKE_NODISCARD lake_status lake_rle_encode_u32(const uint32_t *values,
                                               size_t n,
                                               int bit_width,
                                               lake_buf *out);
LAKE_NODISCARD lake_status lake_rle_encode_u8(const uint8_t *values,
                                              size_t n,
                                              int bit_width,
                                              lake_buf *out);

/* A dictionary of distinct values of one column chunk. `plain` holds the
 * values PLAIN-encoded in insertion order: it is the dictionary page body.
 * `width` is 4 or 8 for fixed-width values (compared bit for bit, so NaN
 * payloads and -0.0 stay distinct) and 0 for byte arrays.
 * Fixed-width values that arrive in ascending order of their bits (sorted
 * timestamps) need no hash table: a value is either the last one or new.
 * The table is built from `plain` at the first value that breaks the
 * order, so indices are the same either way. */
typedef struct lake_pq_dict {
    const lake_allocator *alloc;
    int width;          /* bytes per value, or 0 for BYTE_ARRAY */
    uint32_t n;         /* distinct values */
    uint64_t *slots;    /* 2 words a slot: fixed width {bits, index + 1};
                           strings {hash << 32 | (index + 1),
                           offset in plain << 32 | length}; 0 is empty */
    size_t n_slots;     /* a power of two, or 0 before the first insert */
    bool ascending;     /* fixed width: no table in use yet, the values
                           in `plain` rise strictly, `last` is the top */
    uint64_t last;      /* fixed width, n > 0: bits of the value put last
                           (runs of one value skip the table) */
    uint32_t last_idx;  /* and its index */
    lake_buf plain;     /* the PLAIN dictionary page body */
} lake_pq_dict;

void lake_pq_dict_init(lake_pq_dict *d, const lake_allocator *alloc, int width);
/* Forget the entries but keep the memory for the next chunk. */
void lake_pq_dict_clear(lake_pq_dict *d);
void lake_pq_dict_free(lake_pq_dict *d);

/* Find @p len bytes at @p p (exactly `width` bytes for fixed-width
 * dictionaries) and set @p idx to its index, inserting it when new.
 * An insertion that would make `plain` longer than @p max_bytes is refused
 * with LAKE_ETOOBIG and changes nothing; LAKE_ENOMEM likewise. */
LAKE_NODISCARD lake_status lake_pq_dict_put(lake_pq_dict *d,
                                            const void *p,
                                            size_t len,
                                            size_t max_bytes,
                                            uint32_t *idx);

/* Hash of a byte run, also used for fixed-width values. */
uint64_t lake_pq_hash_bytes(const void *p, size_t n);

/* murmur3's 64-bit finalizer. */
static inline uint64_t lake_pq_fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/* The hash of a fixed-width value, given as its zero-extended bits. */
static inline uint64_t lake_pq_hash_fixed(uint64_t key)
{
    return lake_pq_fmix64(key ^ 0x9E3779B97F4A7C15ULL);
}

/* The table slot that a lookup of the fixed-width value at @p p reads
 * first, or NULL while the dictionary has no table in use. The writer
 * prefetches it some values ahead of the lookup: a big dictionary's
 * probes are cache misses, and the writer knows the values to come. */
static inline const void *lake_pq_dict_slot_of(const lake_pq_dict *d,
                                               const void *p)
{
    if (d->ascending || d->n_slots == 0)
        return NULL;
    uint64_t key = 0;
    if (d->width == 8) {
        memcpy(&key, p, 8);
    } else {
        uint32_t k32;
        memcpy(&k32, p, 4);
        key = k32;
    }
    const size_t pos = (size_t)lake_pq_hash_fixed(key) & (d->n_slots - 1);
    return d->slots + 2 * pos;
}
#endif

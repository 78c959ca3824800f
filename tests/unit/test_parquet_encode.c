/* SPDX-License-Identifier: Apache-2.0 */
/* test_parquet_encode.c - the RLE/bit-packing hybrid (byte-exact vectors
 * from parquet-format's Encodings.md and round trips at every bit width
 * through a decoder written here) and the dictionary hash table. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "parquet/parquet_encode.h"

#define EXPECT_BYTES(buf, ...)                                                \
    do {                                                                      \
        const uint8_t want_[] = {__VA_ARGS__};                                \
        assert_int_equal((buf)->len, sizeof(want_));                          \
        assert_memory_equal((buf)->data, want_, sizeof(want_));               \
    } while (0)

/* ---- a reference decoder, written from the format description ---- */

static uint64_t read_varint(const uint8_t *p, size_t n, size_t *i)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        assert_true(*i < n);
        const uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    fail_msg("varint too long");
    return 0;
}

/* Decode all runs of @p n bytes; return the number of values decoded
 * (bit-packed runs give multiples of 8). Padding may appear only in the
 * last run, and the encoder pads with zeros. */
static size_t rle_decode(const uint8_t *p,
                         size_t n,
                         int width,
                         uint32_t *out,
                         size_t cap)
{
    size_t i = 0, k = 0;
    const size_t vbytes = ((size_t)width + 7) / 8;
    while (i < n) {
        const uint64_t h = read_varint(p, n, &i);
        if (!(h & 1)) {
            const size_t count = (size_t)(h >> 1);
            assert_true(count > 0);
            uint32_t v = 0;
            for (size_t b = 0; b < vbytes; b++)
                v |= (uint32_t)p[i++] << (8 * b);
            assert_true(k + count <= cap);
            for (size_t c = 0; c < count; c++)
                out[k++] = v;
        } else {
            const size_t groups = (size_t)(h >> 1);
            assert_true(groups > 0);
            uint64_t acc = 0;
            int bits = 0;
            for (size_t x = 0; x < groups * 8; x++) {
                while (bits < width) {
                    assert_true(i < n);
                    acc |= (uint64_t)p[i++] << bits;
                    bits += 8;
                }
                const uint64_t mask =
                    width == 64 ? UINT64_MAX : ((uint64_t)1 << width) - 1;
                assert_true(k < cap);
                out[k++] = (uint32_t)(acc & mask);
                acc >>= width;
                bits -= width;
            }
        }
    }
    assert_int_equal(i, n);
    return k;
}

/* ---- byte-exact vectors ---- */

static void test_parquet_encode__bitpacked_spec_example(void **state)
{
    (void)state;
    /* Encodings.md: 0..7 at bit width 3 pack to 10001000 11000110
     * 11111010; one group gives the header (1 << 1) | 1. */
    const uint32_t v[] = {0, 1, 2, 3, 4, 5, 6, 7};
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    assert_int_equal(lake_rle_encode_u32(v, 8, 3, &b), LAKE_OK);
    EXPECT_BYTES(&b, 0x03, 0x88, 0xc6, 0xfa);
    lake_buf_reset(&b);
}

static void test_parquet_encode__rle_run_vectors(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    uint32_t v[300];
    for (size_t i = 0; i < 100; i++)
        v[i] = 5;
    /* 100 copies of 5 at width 3: header 200 = 0xc8 0x01, one byte. */
    assert_int_equal(lake_rle_encode_u32(v, 100, 3, &b), LAKE_OK);
    EXPECT_BYTES(&b, 0xc8, 0x01, 0x05);
    b.len = 0;
    /* Width 0: ten zeros are a run with no value bytes. */
    memset(v, 0, sizeof(v));
    assert_int_equal(lake_rle_encode_u32(v, 10, 0, &b), LAKE_OK);
    EXPECT_BYTES(&b, 0x14);
    b.len = 0;
    /* Width 9: the run value takes two little-endian bytes. */
    for (size_t i = 0; i < 8; i++)
        v[i] = 300;
    assert_int_equal(lake_rle_encode_u32(v, 8, 9, &b), LAKE_OK);
    EXPECT_BYTES(&b, 0x10, 0x2c, 0x01);
    b.len = 0;
    /* A run then a short tail, bit-packed and zero-padded. */
    const uint32_t mixed[] = {1, 1, 1, 1, 1, 1, 1, 1, 2, 3};
    assert_int_equal(lake_rle_encode_u32(mixed, 10, 2, &b), LAKE_OK);
    EXPECT_BYTES(&b, 0x10, 0x01, 0x03, 0x0e, 0x00);
    b.len = 0;
    /* Definition levels: 1 0 1 0 ... bit-packed at width 1. */
    const uint8_t levels[] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1,
                              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(lake_rle_encode_u8(levels, 23, 1, &b), LAKE_OK);
    EXPECT_BYTES(&b, 0x03, 0x55, 0x1e, 0x01);
    b.len = 0;
    /* Width 32: the run value takes four bytes. */
    for (size_t i = 0; i < 9; i++)
        v[i] = 0xdeadbeef;
    assert_int_equal(lake_rle_encode_u32(v, 9, 32, &b), LAKE_OK);
    EXPECT_BYTES(&b, 0x12, 0xef, 0xbe, 0xad, 0xde);
    lake_buf_reset(&b);
}

/* ---- round trips at every width ---- */

static uint64_t rng = 88172645463325252ULL;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void round_trip(const uint32_t *v, size_t n, int width)
{
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    assert_int_equal(lake_rle_encode_u32(v, n, width, &b), LAKE_OK);
    uint32_t *back = calloc(n + 8, sizeof(*back));
    const size_t k = rle_decode((const uint8_t *)b.data, b.len, width, back,
                                n + 8);
    assert_true(k >= n && k < n + 8);
    assert_memory_equal(back, v, n * sizeof(*v));
    for (size_t i = n; i < k; i++)
        assert_int_equal(back[i], 0);
    /* The u8 flavour gives the same bytes for small widths. */
    if (width <= 8) {
        uint8_t *v8 = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            v8[i] = (uint8_t)v[i];
        lake_buf b8;
        lake_buf_init(&b8, NULL, 0);
        assert_int_equal(lake_rle_encode_u8(v8, n, width, &b8), LAKE_OK);
        assert_int_equal(b8.len, b.len);
        assert_memory_equal(b8.data, b.data, b.len);
        lake_buf_reset(&b8);
        free(v8);
    }
    free(back);
    lake_buf_reset(&b);
}

static void test_parquet_encode__round_trip_every_width(void **state)
{
    (void)state;
    enum { N = 3001 };
    uint32_t *v = malloc(N * sizeof(*v));
    for (int width = 0; width <= 32; width++) {
        const uint32_t mask =
            width == 32 ? UINT32_MAX : (uint32_t)((1ULL << width) - 1);
        for (int pattern = 0; pattern < 5; pattern++) {
            for (size_t i = 0; i < N; i++) {
                uint32_t x = next_rand();
                switch (pattern) {
                case 0: /* random */
                    break;
                case 1: /* long runs */
                    x = (uint32_t)(i / 37) * 2654435761u;
                    break;
                case 2: /* runs of 7 and 8, around the RLE threshold */
                    x = (uint32_t)(i / (i % 2 ? 7 : 8));
                    break;
                case 3: /* mostly one value, a few others */
                    x = next_rand() % 13 == 0 ? x : mask;
                    break;
                default: /* the extremes */
                    x = i % 3 ? mask : 0;
                    break;
                }
                v[i] = x & mask;
            }
            for (size_t n = 0; n <= 20; n++)
                round_trip(v, n, width);
            round_trip(v, N, width);
        }
    }
    free(v);
}

static void test_parquet_encode__bit_width(void **state)
{
    (void)state;
    assert_int_equal(lake_pq_bit_width(0), 0);
    assert_int_equal(lake_pq_bit_width(1), 1);
    assert_int_equal(lake_pq_bit_width(2), 2);
    assert_int_equal(lake_pq_bit_width(255), 8);
    assert_int_equal(lake_pq_bit_width(256), 9);
    assert_int_equal(lake_pq_bit_width(UINT32_MAX), 32);
}

static void test_parquet_encode__rle_oom(void **state)
{
    (void)state;
    const uint32_t v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9};
    for (int64_t fail_at = 0;; fail_at++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, fail_at);
        lake_buf b;
        lake_buf_init(&b, &fa.base, 0);
        const lake_status rc = lake_rle_encode_u32(v, 16, 4, &b);
        lake_buf_reset(&b);
        assert_int_equal(fa.n_live, 0);
        if (fa.n_failed == 0) {
            assert_int_equal(rc, LAKE_OK);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
    }
    /* A capped buffer reports LAKE_ETOOBIG from both run kinds. */
    lake_buf b;
    lake_buf_init(&b, NULL, 2);
    assert_int_equal(lake_rle_encode_u32(v, 8, 4, &b), LAKE_ETOOBIG);
    b.len = 0;
    assert_int_equal(lake_rle_encode_u32(v + 8, 8, 32, &b), LAKE_ETOOBIG);
    lake_buf_reset(&b);
}

/* ---- dictionary ---- */

static void test_parquet_encode__dict_strings(void **state)
{
    (void)state;
    lake_pq_dict d;
    lake_pq_dict_init(&d, NULL, 0);
    uint32_t idx;
    assert_int_equal(lake_pq_dict_put(&d, "paid", 4, SIZE_MAX, &idx),
                     LAKE_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(lake_pq_dict_put(&d, "", 0, SIZE_MAX, &idx), LAKE_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(lake_pq_dict_put(&d, "free", 4, SIZE_MAX, &idx),
                     LAKE_OK);
    assert_int_equal(idx, 2);
    assert_int_equal(lake_pq_dict_put(&d, "paid", 4, SIZE_MAX, &idx),
                     LAKE_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(lake_pq_dict_put(&d, "pai", 3, SIZE_MAX, &idx),
                     LAKE_OK);
    assert_int_equal(idx, 3);
    assert_int_equal(d.n, 4);
    /* The PLAIN dictionary page body. */
    EXPECT_BYTES(&d.plain, 4, 0, 0, 0, 'p', 'a', 'i', 'd', 0, 0, 0, 0, 4, 0,
                 0, 0, 'f', 'r', 'e', 'e', 3, 0, 0, 0, 'p', 'a', 'i');
    /* Growing the table keeps every entry findable. */
    char key[32];
    for (uint32_t i = 0; i < 5000; i++) {
        const int n = snprintf(key, sizeof(key), "key-%u", i);
        assert_int_equal(
            lake_pq_dict_put(&d, key, (size_t)n, SIZE_MAX, &idx), LAKE_OK);
        assert_int_equal(idx, 4 + i);
    }
    for (uint32_t i = 0; i < 5000; i += 7) {
        const int n = snprintf(key, sizeof(key), "key-%u", i);
        assert_int_equal(
            lake_pq_dict_put(&d, key, (size_t)n, SIZE_MAX, &idx), LAKE_OK);
        assert_int_equal(idx, 4 + i);
    }
    lake_pq_dict_clear(&d);
    assert_int_equal(d.n, 0);
    assert_int_equal(lake_pq_dict_put(&d, "key-9", 5, SIZE_MAX, &idx),
                     LAKE_OK);
    assert_int_equal(idx, 0);
    lake_pq_dict_free(&d);
}

static void test_parquet_encode__dict_tells_every_byte_apart(void **state)
{
    (void)state;
    /* For every length 0..40, strings that differ in exactly one byte
     * position are distinct entries, and each is found again. */
    lake_pq_dict d;
    lake_pq_dict_init(&d, NULL, 0);
    char base[41], s[41];
    memset(base, 'a', sizeof(base));
    uint32_t expect = 0, idx;
    for (size_t len = 0; len <= 40; len++) {
        assert_int_equal(lake_pq_dict_put(&d, base, len, SIZE_MAX, &idx),
                         LAKE_OK);
        assert_int_equal(idx, expect++);
        for (size_t pos = 0; pos < len; pos++) {
            memcpy(s, base, len);
            s[pos] = 'b';
            assert_int_equal(lake_pq_dict_put(&d, s, len, SIZE_MAX, &idx),
                             LAKE_OK);
            assert_int_equal(idx, expect++);
        }
    }
    expect = 0;
    for (size_t len = 0; len <= 40; len++) {
        assert_int_equal(lake_pq_dict_put(&d, base, len, SIZE_MAX, &idx),
                         LAKE_OK);
        assert_int_equal(idx, expect++);
        for (size_t pos = 0; pos < len; pos++) {
            memcpy(s, base, len);
            s[pos] = 'b';
            assert_int_equal(lake_pq_dict_put(&d, s, len, SIZE_MAX, &idx),
                             LAKE_OK);
            assert_int_equal(idx, expect++);
        }
    }
    assert_int_equal(d.n, expect);
    lake_pq_dict_free(&d);
}

static void test_parquet_encode__dict_fixed_width_is_bitwise(void **state)
{
    (void)state;
    lake_pq_dict d;
    lake_pq_dict_init(&d, NULL, 8);
    const double v[] = {0.0, -0.0, NAN, -NAN, 1.5, 0.0, NAN};
    const uint32_t want[] = {0, 1, 2, 3, 4, 0, 2};
    for (size_t i = 0; i < LAKE_ARRAY_LEN(v); i++) {
        uint32_t idx;
        assert_int_equal(lake_pq_dict_put(&d, &v[i], 8, SIZE_MAX, &idx),
                         LAKE_OK);
        assert_int_equal(idx, want[i]);
    }
    assert_int_equal(d.plain.len, 5 * 8);
    assert_memory_equal(d.plain.data + 8, &v[1], 8);
    lake_pq_dict_free(&d);

    lake_pq_dict_init(&d, NULL, 4);
    const int32_t x[] = {INT32_MIN, INT32_MAX, INT32_MIN};
    uint32_t idx = 9;
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(lake_pq_dict_put(&d, &x[i], 4, SIZE_MAX, &idx),
                         LAKE_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(d.n, 2);
    lake_pq_dict_free(&d);
}

static void test_parquet_encode__dict_limit_refuses_and_keeps(void **state)
{
    (void)state;
    lake_pq_dict d;
    lake_pq_dict_init(&d, NULL, 0);
    uint32_t idx;
    /* 4 + 3 bytes fit in 10; the next entry would need 4 + 2 more. */
    assert_int_equal(lake_pq_dict_put(&d, "abc", 3, 10, &idx), LAKE_OK);
    assert_int_equal(lake_pq_dict_put(&d, "de", 2, 10, &idx), LAKE_ETOOBIG);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.plain.len, 7);
    /* Known values are still found at the limit. */
    assert_int_equal(lake_pq_dict_put(&d, "abc", 3, 10, &idx), LAKE_OK);
    assert_int_equal(idx, 0);
    lake_pq_dict_free(&d);
}

static void test_parquet_encode__dict_oom(void **state)
{
    (void)state;
    for (int64_t fail_at = 0;; fail_at++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, fail_at);
        lake_pq_dict d;
        lake_pq_dict_init(&d, &fa.base, 0);
        lake_status rc = LAKE_OK;
        char key[16];
        for (int i = 0; i < 600 && rc == LAKE_OK; i++) {
            uint32_t idx;
            const int n = snprintf(key, sizeof(key), "v%d", i % 500);
            rc = lake_pq_dict_put(&d, key, (size_t)n, SIZE_MAX, &idx);
        }
        lake_pq_dict_free(&d);
        assert_int_equal(fa.n_live, 0);
        if (fa.n_failed == 0) {
            assert_int_equal(rc, LAKE_OK);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
    }
}

static void test_parquet_encode__hash_spreads(void **state)
{
    (void)state;
    /* Equal bytes hash equal; lengths and tails matter. */
    assert_true(lake_pq_hash_bytes("abcdefghij", 10) ==
                lake_pq_hash_bytes("abcdefghij", 10));
    assert_true(lake_pq_hash_bytes("abcdefghij", 10) !=
                lake_pq_hash_bytes("abcdefghik", 10));
    assert_true(lake_pq_hash_bytes("", 0) != lake_pq_hash_bytes("\0", 1));
    assert_true(lake_pq_hash_bytes("\0\0\0\0\0\0\0\0", 8) !=
                lake_pq_hash_bytes("\0\0\0\0\0\0\0", 7));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parquet_encode__bitpacked_spec_example),
        cmocka_unit_test(test_parquet_encode__rle_run_vectors),
        cmocka_unit_test(test_parquet_encode__round_trip_every_width),
        cmocka_unit_test(test_parquet_encode__bit_width),
        cmocka_unit_test(test_parquet_encode__rle_oom),
        cmocka_unit_test(test_parquet_encode__dict_strings),
        cmocka_unit_test(test_parquet_encode__dict_tells_every_byte_apart),
        cmocka_unit_test(test_parquet_encode__dict_fixed_width_is_bitwise),
        cmocka_unit_test(test_parquet_encode__dict_limit_refuses_and_keeps),
        cmocka_unit_test(test_parquet_encode__dict_oom),
        cmocka_unit_test(test_parquet_encode__hash_spreads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

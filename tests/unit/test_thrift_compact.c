/* SPDX-License-Identifier: Apache-2.0 */
/* test_thrift_compact.c - the Thrift compact encoder against hand-computed
 * bytes: varints, zig-zag, field headers (short and long form), booleans,
 * lists, nested structs and Parquet's SchemaElement. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lake_common.h"
#include "parquet/parquet_format.h"
#include "parquet/thrift_compact.h"

#define EXPECT_BYTES(buf, ...)                                                \
    do {                                                                      \
        const uint8_t want_[] = {__VA_ARGS__};                                \
        assert_int_equal((buf)->len, sizeof(want_));                          \
        assert_memory_equal((buf)->data, want_, sizeof(want_));               \
    } while (0)

static void test_thrift_compact__varint_vectors(void **state)
{
    (void)state;
    static const struct {
        uint64_t v;
        size_t n;
        uint8_t bytes[10];
    } cases[] = {
        {0, 1, {0x00}},
        {1, 1, {0x01}},
        {127, 1, {0x7f}},
        {128, 2, {0x80, 0x01}},
        {300, 2, {0xac, 0x02}},
        {16384, 3, {0x80, 0x80, 0x01}},
        {UINT32_MAX, 5, {0xff, 0xff, 0xff, 0xff, 0x0f}},
        {UINT64_MAX,
         10,
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
    };
    for (size_t i = 0; i < LAKE_ARRAY_LEN(cases); i++) {
        uint8_t out[10];
        assert_int_equal(lake_varint_encode(cases[i].v, out), cases[i].n);
        assert_memory_equal(out, cases[i].bytes, cases[i].n);
    }
}

static void test_thrift_compact__zigzag_vectors(void **state)
{
    (void)state;
    assert_int_equal(lake_zigzag64(0), 0);
    assert_int_equal(lake_zigzag64(-1), 1);
    assert_int_equal(lake_zigzag64(1), 2);
    assert_int_equal(lake_zigzag64(-2), 3);
    assert_int_equal(lake_zigzag64(2147483647), 4294967294ULL);
    assert_int_equal(lake_zigzag64(-2147483648LL), 4294967295ULL);
    assert_true(lake_zigzag64(INT64_MAX) == UINT64_MAX - 1);
    assert_true(lake_zigzag64(INT64_MIN) == UINT64_MAX);
}

static void test_thrift_compact__fields_short_and_long_form(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    lake_tc_writer tc;
    lake_tc_init(&tc, &b);
    lake_tc_struct_begin(&tc);
    lake_tc_field_i32(&tc, 1, 5);       /* delta 1: 0x15, zz(5) = 10 */
    lake_tc_field_i64(&tc, 16, -1);     /* delta 15: 0xf6, zz(-1) = 1 */
    lake_tc_field_i32(&tc, 40, 0);      /* delta 24: long form 0x05, zz(40) */
    lake_tc_field_i32(&tc, 3, 64);      /* backwards: long form, zz(3) = 6 */
    lake_tc_field_i32(&tc, 300, -300);  /* id 300: zz = 600 = 0xd8 0x04 */
    lake_tc_struct_end(&tc);
    assert_int_equal(lake_tc_status(&tc), LAKE_OK);
    EXPECT_BYTES(&b, 0x15, 0x0a, 0xf6, 0x01, 0x05, 0x50, 0x00, 0x05, 0x06,
                 0x80, 0x01, 0x05, 0xd8, 0x04, 0xd7, 0x04, 0x00);
    lake_buf_reset(&b);
}

static void test_thrift_compact__bools_and_binary(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    lake_tc_writer tc;
    lake_tc_init(&tc, &b);
    lake_tc_struct_begin(&tc);
    lake_tc_field_bool(&tc, 1, true);       /* 0x11 */
    lake_tc_field_bool(&tc, 2, false);      /* 0x12 */
    lake_tc_field_bool(&tc, 20, true);      /* long form: 0x01, zz(20) */
    lake_tc_field_binary(&tc, 24, "ab", 2); /* delta 4: 0x48 0x02 a b */
    lake_tc_field_string(&tc, 25, "");      /* 0x18 0x00 */
    lake_tc_struct_end(&tc);
    EXPECT_BYTES(&b, 0x11, 0x12, 0x01, 0x28, 0x48, 0x02, 'a', 'b', 0x18,
                 0x00, 0x00);
    lake_buf_reset(&b);
}

static void test_thrift_compact__lists_and_nesting(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    lake_tc_writer tc;
    lake_tc_init(&tc, &b);
    lake_tc_struct_begin(&tc);
    lake_tc_field_list(&tc, 1, LAKE_TC_I32, 3); /* 0x19, 0x35 */
    lake_tc_i32(&tc, 1);
    lake_tc_i32(&tc, -1);
    lake_tc_i32(&tc, 64);
    lake_tc_field_list(&tc, 2, LAKE_TC_STRUCT, 15); /* 0x19, 0xfc 0x0f */
    for (int i = 0; i < 15; i++) {
        lake_tc_struct_begin(&tc); /* elements start from field id 0 */
        if (i == 0)
            lake_tc_field_i32(&tc, 2, 1); /* 0x25 0x02 */
        lake_tc_struct_end(&tc);
    }
    lake_tc_field_struct(&tc, 3); /* 0x1c: delta from 2 survives */
    lake_tc_field_i64(&tc, 1, 2); /* 0x16 0x04 */
    lake_tc_struct_end(&tc);
    lake_tc_field_i32(&tc, 4, 0); /* 0x15 0x00: outer ids resume */
    lake_tc_struct_end(&tc);
    assert_int_equal(lake_tc_status(&tc), LAKE_OK);
    EXPECT_BYTES(&b, 0x19, 0x35, 0x02, 0x01, 0x80, 0x01, 0x19, 0xfc, 0x0f,
                 0x25, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x16, 0x04,
                 0x00, 0x15, 0x00, 0x00);
    lake_buf_reset(&b);
}

static void test_thrift_compact__schema_element_string(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    lake_tc_writer tc;
    lake_tc_init(&tc, &b);
    lake_pq_write_schema_element(&tc, "a", LAKE_PQ_STRING, true);
    /* type BYTE_ARRAY(6), OPTIONAL(1), name "a", UTF8(0),
     * logicalType { STRING {} } */
    EXPECT_BYTES(&b, 0x15, 0x0c, 0x25, 0x02, 0x18, 0x01, 'a', 0x25, 0x00,
                 0x4c, 0x1c, 0x00, 0x00, 0x00);
    lake_buf_reset(&b);
}

static void test_thrift_compact__schema_element_timestamp(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    lake_tc_writer tc;
    lake_tc_init(&tc, &b);
    lake_pq_write_schema_element(&tc, "ts", LAKE_PQ_TIMESTAMP_US, false);
    /* INT64(2), REQUIRED(0), "ts", TIMESTAMP_MICROS(10), logicalType {
     * TIMESTAMP(8) { isAdjustedToUTC = true, unit { MICROS(2) {} } } } */
    EXPECT_BYTES(&b, 0x15, 0x04, 0x25, 0x00, 0x18, 0x02, 't', 's', 0x25,
                 0x14, 0x4c, 0x8c, 0x11, 0x1c, 0x2c, 0x00, 0x00, 0x00, 0x00,
                 0x00);
    lake_buf_reset(&b);
}

static void test_thrift_compact__schema_element_plain_types(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    lake_tc_writer tc;
    lake_tc_init(&tc, &b);
    lake_pq_write_schema_element(&tc, "i", LAKE_PQ_INT32, false);
    lake_pq_write_schema_element(&tc, "d", LAKE_PQ_DOUBLE, true);
    lake_pq_write_schema_element(&tc, "l", LAKE_PQ_INT64, true);
    EXPECT_BYTES(&b, 0x15, 0x02, 0x25, 0x00, 0x18, 0x01, 'i', 0x00, /* */
                 0x15, 0x0a, 0x25, 0x02, 0x18, 0x01, 'd', 0x00,      /* */
                 0x15, 0x04, 0x25, 0x02, 0x18, 0x01, 'l', 0x00);
    lake_buf_reset(&b);
}

static void test_thrift_compact__errors_are_sticky(void **state)
{
    (void)state;
    lake_failing_alloc fa;
    lake_failing_alloc_init(&fa, 0);
    lake_buf b;
    lake_buf_init(&b, &fa.base, 0);
    lake_tc_writer tc;
    lake_tc_init(&tc, &b);
    lake_tc_struct_begin(&tc);
    lake_tc_field_i32(&tc, 1, 1);
    assert_int_equal(lake_tc_status(&tc), LAKE_ENOMEM);
    lake_tc_field_string(&tc, 2, "later calls do nothing");
    lake_tc_struct_end(&tc);
    assert_int_equal(lake_tc_status(&tc), LAKE_ENOMEM);
    assert_int_equal(b.len, 0);
    lake_buf_reset(&b);
    assert_int_equal(fa.n_live, 0);

    /* Nesting deeper than the stack is a programming error, reported. */
    lake_buf_init(&b, NULL, 0);
    lake_tc_init(&tc, &b);
    for (int i = 0; i < LAKE_TC_MAX_DEPTH + 2; i++)
        lake_tc_struct_begin(&tc);
    assert_int_equal(lake_tc_status(&tc), LAKE_EINVAL);
    lake_buf_reset(&b);

    /* A capped buffer reports LAKE_ETOOBIG. */
    lake_buf_init(&b, NULL, 3);
    lake_tc_init(&tc, &b);
    lake_tc_field_string(&tc, 1, "abc");
    assert_int_equal(lake_tc_status(&tc), LAKE_ETOOBIG);
    lake_buf_reset(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_compact__varint_vectors),
        cmocka_unit_test(test_thrift_compact__zigzag_vectors),
        cmocka_unit_test(test_thrift_compact__fields_short_and_long_form),
        cmocka_unit_test(test_thrift_compact__bools_and_binary),
        cmocka_unit_test(test_thrift_compact__lists_and_nesting),
        cmocka_unit_test(test_thrift_compact__schema_element_string),
        cmocka_unit_test(test_thrift_compact__schema_element_timestamp),
        cmocka_unit_test(test_thrift_compact__schema_element_plain_types),
        cmocka_unit_test(test_thrift_compact__errors_are_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* test_model_partition.c - Hive partition folder names: Spark's escapes,
 * the default partition, our rules for NUL, "." and "..", long values;
 * the public lake_hive_partition_name() over them. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "model/model.h"

static lake_strview sv(const char *s)
{
    return (lake_strview){s, strlen(s)};
}

/* The name for (column, value) as a NUL-terminated string in @p buf. */
static const char *name_of(lake_buf *buf,
                           const char *column,
                           lake_strview value,
                           bool present)
{
    buf->len = 0;
    assert_int_equal(lake_partition_name(column, value, present, buf),
                     LAKE_OK);
    assert_int_equal(lake_buf_append_byte(buf, 0), LAKE_OK);
    buf->len--;
    return buf->data;
}

static void expect_name(const char *column,
                        lake_strview value,
                        const char *expected)
{
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    assert_string_equal(name_of(&b, column, value, true), expected);
    lake_buf_reset(&b);
}

static void test_model_partition__plain_values(void **state)
{
    (void)state;
    expect_name("year", sv("2018"), "year=2018");
    expect_name("artist_id", sv("ARJIE2Y1187B994AB7"),
                "artist_id=ARJIE2Y1187B994AB7");
    expect_name("x", sv("a b-c_d.e~f!g}h<i>j|k"), "x=a b-c_d.e~f!g}h<i>j|k");
    /* UTF-8 passes through untouched. */
    expect_name("x", sv("Beyonc\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x8e\xb5"),
                "x=Beyonc\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x8e\xb5");
}

static void test_model_partition__null_and_empty_are_default(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    assert_string_equal(name_of(&b, "year", (lake_strview){NULL, 0}, false),
                        "year=__HIVE_DEFAULT_PARTITION__");
    assert_string_equal(name_of(&b, "year", sv(""), true),
                        "year=__HIVE_DEFAULT_PARTITION__");
    /* Absent wins over a non-empty view. */
    assert_string_equal(name_of(&b, "year", sv("1998"), false),
                        "year=__HIVE_DEFAULT_PARTITION__");
    lake_buf_reset(&b);
}

/* Every byte: exactly Spark's set plus NUL is escaped, as %XX upper hex. */
static void test_model_partition__every_byte(void **state)
{
    (void)state;
    const char *spark_set = "\"#%'*/:=?\\{[]^";
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    for (int c = 0; c < 256; c++) {
        const char v[1] = {(char)c};
        name_of(&b, "c", (lake_strview){v, 1}, true);
        const bool esc = c < 0x20 || c == 0x7F ||
                         (c != 0 && strchr(spark_set, c) != NULL);
        char expected[8];
        if (esc)
            snprintf(expected, sizeof(expected), "c=%%%02X", c);
        else if (c == '.')
            snprintf(expected, sizeof(expected), "c=%%2E");
        else
            snprintf(expected, sizeof(expected), "c=%c", c);
        if (c == 0 || c >= 0x80) {
            /* strcmp cannot see NUL or compare raw high bytes via %c. */
            assert_int_equal(b.len, esc ? 5 : 3);
            if (esc)
                assert_memory_equal(b.data, "c=%00", 5);
            else
                assert_int_equal((uint8_t)b.data[2], c);
        } else {
            assert_string_equal(b.data, expected);
        }
    }
    lake_buf_reset(&b);
    expect_name("x", sv("\x01\x1f\x7f"), "x=%01%1F%7F");
    expect_name("x", (lake_strview){"a\0b", 3}, "x=a%00b");
}

static void test_model_partition__dots_and_hostile_values(void **state)
{
    (void)state;
    expect_name("x", sv("."), "x=%2E");
    expect_name("x", sv(".."), "x=%2E%2E");
    expect_name("x", sv("..."), "x=...");
    expect_name("x", sv(".a"), "x=.a");
    expect_name("x", sv("../../etc"), "x=..%2F..%2Fetc");
    expect_name("x", sv("a/b"), "x=a%2Fb");
    expect_name("x", sv("%2F"), "x=%252F");
    expect_name("x", sv("a=b"), "x=a%3Db");
    expect_name("x", sv("C:\\Windows"), "x=C%3A%5CWindows");
    /* The literal text must not read back as NULL. */
    expect_name("x", sv("__HIVE_DEFAULT_PARTITION__"),
                "x=%5F_HIVE_DEFAULT_PARTITION__");
    expect_name("x", sv("__HIVE_DEFAULT_PARTITION__x"),
                "x=__HIVE_DEFAULT_PARTITION__x");
    expect_name("__HIVE_DEFAULT_PARTITION__", sv("v"),
                "__HIVE_DEFAULT_PARTITION__=v");
    /* The column is escaped the same way. */
    expect_name("a/b=c", sv("v"), "a%2Fb%3Dc=v");
    expect_name("..", sv("v"), "%2E%2E=v");
}

static bool has_slash_or_nul(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '/' || p[i] == '\0')
            return true;
    return false;
}

/* Valid UTF-8 ends on a character boundary. */
static bool utf8_complete(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const uint8_t c = (uint8_t)p[i];
        const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (i + len > n)
            return false;
        i += len;
    }
    return true;
}

/* Long values: at most 255 bytes, cut on a boundary, distinct. */
static void test_model_partition__long_values(void **state)
{
    (void)state;
    const char *units[] = {"a", "/", "\xc3\xa9", "\xe6\x97\xa5",
                           "\xf0\x9f\x8e\xb5", "%", "\x80"};
    lake_buf b, prev;
    lake_buf_init(&b, NULL, 0);
    lake_buf_init(&prev, NULL, 0);
    char value[2048];
    for (size_t u = 0; u < LAKE_ARRAY_LEN(units); u++) {
        for (size_t reps = 1; reps * 4 < sizeof(value) - 8; reps += 7) {
            size_t n = 0;
            for (size_t r = 0; r < reps; r++) {
                memcpy(value + n, units[u], strlen(units[u]));
                n += strlen(units[u]);
            }
            const lake_strview v = {value, n};
            name_of(&b, "artist_id", v, true);
            assert_true(b.len <= 255);
            assert_false(has_slash_or_nul(b.data, b.len));
            const char *val = b.data + strlen("artist_id=");
            const size_t val_len = b.len - strlen("artist_id=");
            if (val_len > 200) {
                /* "<prefix>~<16 hex>" */
                assert_int_equal(val[val_len - 17], '~');
                if (u != 6) /* "\x80" repeated is not UTF-8 */
                    assert_true(utf8_complete(val, val_len - 17));
                assert_true(val_len - 17 >= 197 && val_len - 17 <= 200);
            }
            /* Distinct from the value seven repetitions shorter. */
            if (prev.len)
                assert_false(prev.len == b.len &&
                             memcmp(prev.data, b.data, b.len) == 0);
            prev.len = 0;
            assert_int_equal(lake_buf_append(&prev, b.data, b.len), LAKE_OK);
        }
        prev.len = 0;
    }
    /* Values differing only past the cut are still distinct. */
    memset(value, 'z', 600);
    name_of(&b, "x", (lake_strview){value, 600}, true);
    prev.len = 0;
    assert_int_equal(lake_buf_append(&prev, b.data, b.len), LAKE_OK);
    value[599] = 'y';
    name_of(&b, "x", (lake_strview){value, 600}, true);
    assert_int_equal(b.len, prev.len);
    assert_memory_not_equal(b.data, prev.data, b.len);
    /* 200 escaped bytes are kept whole, 201 are cut. */
    name_of(&b, "x", (lake_strview){value, 200}, true);
    assert_int_equal(b.len, 2 + 200);
    name_of(&b, "x", (lake_strview){value, 201}, true);
    assert_int_equal(b.len, 2 + 200 + 17);
    lake_buf_reset(&b);
    lake_buf_reset(&prev);
}

static int hex_digit(char c)
{
    return c <= '9' ? c - '0' : c - 'A' + 10;
}

/* Random values: the name is a single safe path component, short values
 * unescape back to themselves (as Spark's unescapePathName does), and
 * distinct values give distinct names. */
static void test_model_partition__random_values(void **state)
{
    (void)state;
    enum { N = 3000 };
    static char names[N][256];
    static size_t name_lens[N];
    static char values[N][600];
    static size_t value_lens[N];
    uint64_t rng = 0x9e3779b97f4a7c15u;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    for (int k = 0; k < N; k++) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        size_t len = (size_t)(rng >> 33) % (k % 10 == 0 ? 600 : 40);
        /* Mostly bytes from a small alphabet, so that collisions of
         * prefixes are likely; sometimes any byte. */
        for (size_t i = 0; i < len; i++) {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            const uint8_t r = (uint8_t)(rng >> 56);
            values[k][i] = (char)(k % 3 == 0 ? r : "a/.%\xc3\xa9=~"[r % 8]);
        }
        if (k % 7 == 0 && len > 0) /* long runs of one value */
            memset(values[k], values[k][0], len);
        value_lens[k] = len;
        const lake_strview v = {values[k], len};
        name_of(&b, "c", v, true);
        assert_true(b.len <= 255);
        assert_false(has_slash_or_nul(b.data, b.len));
        assert_memory_equal(b.data, "c=", 2);
        const char *e = b.data + 2;
        const size_t e_len = b.len - 2;
        assert_false(e_len == 1 && e[0] == '.');
        assert_false(e_len == 2 && e[0] == '.' && e[1] == '.');
        memcpy(names[k], b.data, b.len);
        name_lens[k] = b.len;
        if (len == 0 || e_len > 200)
            continue;
        char back[600];
        size_t n = 0;
        for (size_t i = 0; i < e_len; i++) {
            if (e[i] == '%') {
                assert_true(i + 2 < e_len);
                back[n++] = (char)(hex_digit(e[i + 1]) << 4 |
                                   hex_digit(e[i + 2]));
                i += 2;
            } else {
                back[n++] = e[i];
            }
        }
        assert_int_equal(n, len);
        assert_memory_equal(back, values[k], len);
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            const bool same_value = value_lens[i] == value_lens[j] &&
                                    memcmp(values[i], values[j],
                                           value_lens[i]) == 0;
            const bool same_name = name_lens[i] == name_lens[j] &&
                                   memcmp(names[i], names[j],
                                          name_lens[i]) == 0;
            assert_true(same_value == same_name);
        }
    lake_buf_reset(&b);
}

static void test_model_partition__bad_column(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    assert_int_equal(lake_partition_name(NULL, sv("v"), true, &b),
                     LAKE_EINVAL);
    assert_int_equal(lake_partition_name("", sv("v"), true, &b), LAKE_EINVAL);
    char col[64];
    memset(col, 'c', sizeof(col) - 1);
    col[sizeof(col) - 1] = '\0';
    assert_int_equal(lake_partition_name(col, sv("v"), true, &b),
                     LAKE_EINVAL);
    assert_int_equal(b.len, 0);
    lake_buf_reset(&b);
}

/* Appends after existing bytes; a failure leaves them as they were. */
static void test_model_partition__appends_and_rolls_back(void **state)
{
    (void)state;
    lake_buf b;
    lake_buf_init(&b, NULL, 16);
    assert_int_equal(lake_buf_append(&b, "songs/", 6), LAKE_OK);
    assert_int_equal(lake_partition_name("year", sv("1998"), true, &b),
                     LAKE_OK);
    assert_int_equal(b.len, 15);
    assert_memory_equal(b.data, "songs/year=1998", 15);
    assert_int_equal(lake_partition_name("month", sv("11"), true, &b),
                     LAKE_ETOOBIG);
    assert_int_equal(b.len, 15);
    lake_buf_reset(&b);
}

static void test_model_partition__oom_sweep(void **state)
{
    (void)state;
    char value[500];
    memset(value, '/', sizeof(value));
    for (int64_t n = 0;; n++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        lake_buf b;
        lake_buf_init(&b, &fa.base, 0);
        const lake_status rc = lake_partition_name(
            "artist_id", (lake_strview){value, sizeof(value)}, true, &b);
        if (rc == LAKE_OK) {
            assert_int_equal(fa.n_failed, 0);
            assert_true(b.len <= 255);
            lake_buf_reset(&b);
            assert_int_equal(fa.n_live, 0);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
        assert_int_equal(b.len, 0);
        lake_buf_reset(&b);
        assert_int_equal(fa.n_live, 0);
    }
}

/* ---- lake_hive_partition_name(), the public wrapper ---- */

/* The public name of (column, value) equals the internal one. */
static void expect_same_as_internal(const char *column,
                                    const char *value,
                                    size_t value_len,
                                    int present)
{
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    const char *want = name_of(&b, column, (lake_strview){value, value_len},
                               present != 0);
    char out[LAKE_HIVE_PARTITION_NAME_MAX + 1];
    size_t len = 999;
    lake_error err;
    assert_int_equal(lake_hive_partition_name(column, value, value_len,
                                              present, out, sizeof(out),
                                              &len, &err),
                     LAKE_OK);
    assert_int_equal(len, b.len);
    assert_memory_equal(out, want, b.len + 1); /* the NUL too */
    lake_buf_reset(&b);
}

static void test_model_partition__public_names(void **state)
{
    (void)state;
    char out[LAKE_HIVE_PARTITION_NAME_MAX + 1];
    size_t len = 0;
    assert_int_equal(lake_hive_partition_name("year", "1998", 4, 1, out,
                                              sizeof(out), &len, NULL),
                     LAKE_OK);
    assert_string_equal(out, "year=1998");
    assert_int_equal(len, 9);
    /* An embedded NUL counts through value_len; out_len may be NULL. */
    assert_int_equal(lake_hive_partition_name("x", "a\0b", 3, 1, out,
                                              sizeof(out), NULL, NULL),
                     LAKE_OK);
    assert_string_equal(out, "x=a%00b");
    assert_int_equal(lake_hive_partition_name("artist_id",
                                              "__HIVE_DEFAULT_PARTITION__",
                                              26, 1, out, sizeof(out), &len,
                                              NULL),
                     LAKE_OK);
    assert_string_equal(out, "artist_id=%5F_HIVE_DEFAULT_PARTITION__");
    assert_int_equal(len, strlen(out));
    assert_int_equal(lake_hive_partition_name("a/b", "..", 2, 1, out,
                                              sizeof(out), &len, NULL),
                     LAKE_OK);
    assert_string_equal(out, "a%2Fb=%2E%2E");

    char value[600];
    memset(value, '/', sizeof(value));
    expect_same_as_internal("x", "x/y=z%", 6, 1);
    expect_same_as_internal("artist_id", value, sizeof(value), 1);
    expect_same_as_internal("artist_id", value, 200 / 3, 1);
    expect_same_as_internal("c", "\xc3\xa9\xe6\x97\xa5", 5, 1);
    expect_same_as_internal("c", "\x80\xff\x01", 3, 1);
}

/* No value (NULL or present 0) and "" are __HIVE_DEFAULT_PARTITION__. */
static void test_model_partition__public_absent(void **state)
{
    (void)state;
    char out[LAKE_HIVE_PARTITION_NAME_MAX + 1];
    size_t len = 0;
    const char *want = "year=__HIVE_DEFAULT_PARTITION__";
    assert_int_equal(lake_hive_partition_name("year", NULL, 0, 0, out,
                                              sizeof(out), &len, NULL),
                     LAKE_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    /* present 0 wins over a value; a NULL value's length is then ignored */
    assert_int_equal(lake_hive_partition_name("year", "1998", 4, 0, out,
                                              sizeof(out), &len, NULL),
                     LAKE_OK);
    assert_string_equal(out, want);
    assert_int_equal(lake_hive_partition_name("year", NULL, 7, 0, out,
                                              sizeof(out), &len, NULL),
                     LAKE_OK);
    assert_string_equal(out, want);
    /* present with no bytes: "" */
    assert_int_equal(lake_hive_partition_name("year", NULL, 0, 1, out,
                                              sizeof(out), &len, NULL),
                     LAKE_OK);
    assert_string_equal(out, want);
    assert_int_equal(lake_hive_partition_name("year", "", 0, 1, out,
                                              sizeof(out), &len, NULL),
                     LAKE_OK);
    assert_string_equal(out, want);
    assert_int_equal(lake_hive_partition_name("year", "1998", 0, 1, out,
                                              sizeof(out), &len, NULL),
                     LAKE_OK);
    assert_string_equal(out, want);
}

/* The longest name, 255 bytes, fits in 256; a smaller buffer is
 * LAKE_ETOOBIG with the length needed and "" in it (untouched when its
 * capacity is 0). */
static void test_model_partition__public_buffer_too_small(void **state)
{
    (void)state;
    char column[38];
    memset(column, 'c', 37);
    column[37] = '\0';
    char value[600];
    memset(value, 'z', sizeof(value));
    char out[LAKE_HIVE_PARTITION_NAME_MAX + 2];
    size_t len = 0;
    assert_int_equal(lake_hive_partition_name(column, value, sizeof(value), 1,
                                              out, 256, &len, NULL),
                     LAKE_OK);
    assert_int_equal(len, LAKE_HIVE_PARTITION_NAME_MAX);
    assert_int_equal(strlen(out), LAKE_HIVE_PARTITION_NAME_MAX);
    expect_same_as_internal(column, value, sizeof(value), 1);

    lake_error err;
    memset(out, 'Q', sizeof(out));
    assert_int_equal(lake_hive_partition_name(column, value, sizeof(value), 1,
                                              out, 255, &len, &err),
                     LAKE_ETOOBIG);
    assert_int_equal(len, 255);
    assert_int_equal(out[0], '\0');
    assert_int_equal(out[1], 'Q');
    assert_int_equal(err.code, LAKE_ETOOBIG);
    assert_string_equal(err.message,
                        "model: partition name: 256 bytes do not fit in 255");

    /* "year=1998" needs 10 bytes */
    memset(out, 'Q', sizeof(out));
    assert_int_equal(lake_hive_partition_name("year", "1998", 4, 1, out, 9,
                                              &len, NULL),
                     LAKE_ETOOBIG);
    assert_int_equal(len, 9);
    assert_int_equal(out[0], '\0');
    assert_int_equal(out[1], 'Q');
    assert_int_equal(lake_hive_partition_name("year", "1998", 4, 1, out, 10,
                                              &len, NULL),
                     LAKE_OK);
    assert_string_equal(out, "year=1998");
    assert_int_equal(lake_hive_partition_name("year", "1998", 4, 1, out, 1,
                                              &len, NULL),
                     LAKE_ETOOBIG);
    assert_int_equal(out[0], '\0');
    memset(out, 'Q', sizeof(out));
    assert_int_equal(lake_hive_partition_name("year", "1998", 4, 1, out, 0,
                                              NULL, NULL),
                     LAKE_ETOOBIG);
    assert_int_equal(out[0], 'Q');
}

static void expect_einval(const char *column,
                          const char *value,
                          size_t value_len,
                          int present,
                          char *out,
                          const char *message)
{
    lake_error err;
    size_t len = 999;
    if (out)
        memset(out, 'Q', 4);
    assert_int_equal(lake_hive_partition_name(column, value, value_len,
                                              present, out, 4, &len, &err),
                     LAKE_EINVAL);
    assert_int_equal(len, 0);
    assert_int_equal(err.code, LAKE_EINVAL);
    assert_int_equal(err.offset, -1);
    assert_string_equal(err.message, message);
    if (out) {
        assert_int_equal(out[0], '\0');
        assert_int_equal(out[1], 'Q');
    }
    /* err and out_len may be NULL */
    assert_int_equal(lake_hive_partition_name(column, value, value_len,
                                              present, out, 4, NULL, NULL),
                     LAKE_EINVAL);
}

static void test_model_partition__public_bad_arguments(void **state)
{
    (void)state;
    char out[LAKE_HIVE_PARTITION_NAME_MAX + 1];
    const char *bad_column = "model: partition name: column is NULL, empty "
                             "or escapes to over 37 bytes";
    expect_einval("year", "1998", 4, 1, NULL,
                  "model: partition name: no output buffer");
    expect_einval(NULL, "1998", 4, 1, out, bad_column);
    expect_einval("", "1998", 4, 1, out, bad_column);
    expect_einval("year", NULL, 4, 1, out,
                  "model: partition name: NULL value of 4 bytes");
    /* A column escapes to 37 bytes at most: 12 '/' are 36, 13 are 39. */
    expect_einval("/////////////", "v", 1, 1, out, bad_column);
    char column[39];
    memset(column, 'c', 38);
    column[38] = '\0';
    expect_einval(column, "v", 1, 1, out, bad_column);
    size_t len = 0;
    assert_int_equal(lake_hive_partition_name("////////////", "v", 1, 1, out,
                                              sizeof(out), &len, NULL),
                     LAKE_OK);
    assert_int_equal(len, 36 + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_partition__plain_values),
        cmocka_unit_test(test_model_partition__null_and_empty_are_default),
        cmocka_unit_test(test_model_partition__every_byte),
        cmocka_unit_test(test_model_partition__dots_and_hostile_values),
        cmocka_unit_test(test_model_partition__long_values),
        cmocka_unit_test(test_model_partition__random_values),
        cmocka_unit_test(test_model_partition__bad_column),
        cmocka_unit_test(test_model_partition__appends_and_rolls_back),
        cmocka_unit_test(test_model_partition__oom_sweep),
        cmocka_unit_test(test_model_partition__public_names),
        cmocka_unit_test(test_model_partition__public_absent),
        cmocka_unit_test(test_model_partition__public_buffer_too_small),
        cmocka_unit_test(test_model_partition__public_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

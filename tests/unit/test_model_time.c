/* SPDX-License-Identifier: Apache-2.0 */
/* test_model_time.c - UTC time parts against glibc's gmtime_r and
 * strftime("%V %u") over two centuries, and at the edges of the range. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lake_common.h"
#include "model/model.h"

#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY  INT64_C(86400000)
/* 1900-01-01T00:00:00Z and 3000-01-01T00:00:00Z in epoch ms. */
#define TS_1900 INT64_C(-2208988800000)
#define TS_2101 INT64_C(4133980800000)
#define TS_3000 INT64_C(32503680000000)

static lake_time_parts parts(int64_t ts_ms)
{
    lake_time_parts p;
    memset(&p, 0x5a, sizeof(p));
    lake_time_parts_of(ts_ms, &p);
    return p;
}

/* Compare with the C library; report the instant on a mismatch. */
static void check_against_libc(int64_t ts_ms)
{
    const int64_t secs = ts_ms >= 0 ? ts_ms / 1000 : -((999 - ts_ms) / 1000);
    const time_t t = (time_t)secs;
    struct tm tm;
    assert_non_null(gmtime_r(&t, &tm));
    char buf[32];
    assert_true(strftime(buf, sizeof(buf), "%V %u", &tm) > 0);
    int iso_week = 0, iso_wd = 0;
    assert_int_equal(sscanf(buf, "%d %d", &iso_week, &iso_wd), 2);

    const lake_time_parts p = parts(ts_ms);
    if (p.year != tm.tm_year + 1900 || p.month != tm.tm_mon + 1 ||
        p.day != tm.tm_mday || p.hour != tm.tm_hour || p.week != iso_week ||
        p.weekday != iso_wd % 7 + 1)
        fail_msg("ts %lld: got %d-%d-%d h%d w%d wd%d, libc %d-%d-%d h%d "
                 "w%d u%d",
                 (long long)ts_ms, p.year, p.month, p.day, p.hour, p.week,
                 p.weekday, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, iso_week, iso_wd);
}

/* Every hour from 1900 to 2100, at a minute and millisecond that vary. */
static void test_model_time__every_hour_1900_2100(void **state)
{
    (void)state;
    int64_t n = 0;
    for (int64_t ts = TS_1900; ts < TS_2101; ts += MS_PER_HOUR, n++)
        check_against_libc(ts + (n * 7919) % MS_PER_HOUR);
    assert_true(n > 1700000);
}

/* The first and last millisecond of every day from 1900 to 3000. */
static void test_model_time__day_edges_1900_3000(void **state)
{
    (void)state;
    for (int64_t ts = TS_1900; ts < TS_3000; ts += MS_PER_DAY) {
        check_against_libc(ts);
        check_against_libc(ts + MS_PER_DAY - 1);
    }
}

static void expect(int64_t ts_ms,
                   int year,
                   int month,
                   int day,
                   int hour,
                   int week,
                   int weekday)
{
    const lake_time_parts p = parts(ts_ms);
    assert_int_equal(p.year, year);
    assert_int_equal(p.month, month);
    assert_int_equal(p.day, day);
    assert_int_equal(p.hour, hour);
    assert_int_equal(p.week, week);
    assert_int_equal(p.weekday, weekday);
}

/* Hand-checked instants (weekday: 1 = Sunday). */
static void test_model_time__known_instants(void **state)
{
    (void)state;
    /* 2018-11-21T21:56:47.796Z, a Wednesday of ISO week 47. */
    expect(INT64_C(1542837407796), 2018, 11, 21, 21, 47, 4);
    /* The epoch: Thursday 1970-01-01, ISO week 1. */
    expect(0, 1970, 1, 1, 0, 1, 5);
    /* One ms before: Wednesday 1969-12-31 23:59:59.999, week 1 of 1970. */
    expect(-1, 1969, 12, 31, 23, 1, 4);
    /* Floor division: -86400000 is 1969-12-31T00:00 exactly. */
    expect(-MS_PER_DAY, 1969, 12, 31, 0, 1, 4);
    expect(-MS_PER_DAY - 1, 1969, 12, 30, 23, 1, 3);
    /* 1900-01-01 was a Monday, week 1; 1900 is not a leap year. */
    expect(TS_1900, 1900, 1, 1, 0, 1, 2);
    expect(INT64_C(-2203891200000), 1900, 3, 1, 0, 9, 5); /* after Feb 28 */
    /* 2000 is a leap year: 2000-02-29 exists (Tuesday, week 9). */
    expect(INT64_C(951782400000), 2000, 2, 29, 0, 9, 3);
    /* 2008-12-29 (Monday) is in week 1 of 2009. */
    expect(INT64_C(1230508800000), 2008, 12, 29, 0, 1, 2);
    /* 2010-01-03 (Sunday) is in week 53 of 2009. */
    expect(INT64_C(1262476800000), 2010, 1, 3, 0, 53, 1);
    /* 2021-01-01 (Friday) is in week 53 of 2020; 2022-01-01 in week 52. */
    expect(INT64_C(1609459200000), 2021, 1, 1, 0, 53, 6);
    expect(INT64_C(1640995200000), 2022, 1, 1, 0, 52, 7);
    /* The last millisecond the SPEC accepts: 2999-12-31T23:59:59.999,
     * a Tuesday in week 1 of 3000. */
    expect(TS_3000 - 1, 2999, 12, 31, 23, 1, 3);
    expect(TS_3000, 3000, 1, 1, 0, 1, 4);
}

/* Out of the SPEC's range the function still answers without UB. */
static void test_model_time__whole_int64_range(void **state)
{
    (void)state;
    const int64_t edges[] = {INT64_MIN, INT64_MIN + 1, -(INT64_C(1) << 52),
                             INT64_MAX - 1, INT64_MAX};
    for (size_t i = 0; i < LAKE_ARRAY_LEN(edges); i++) {
        const lake_time_parts p = parts(edges[i]);
        assert_in_range(p.month, 1, 12);
        assert_in_range(p.day, 1, 31);
        assert_in_range(p.hour, 0, 23);
        assert_in_range(p.week, 1, 53);
        assert_in_range(p.weekday, 1, 7);
    }
    /* 292278994-08-17T07:12:55.807Z */
    expect(INT64_MAX, 292278994, 8, 17, 7, 33, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_time__every_hour_1900_2100),
        cmocka_unit_test(test_model_time__day_edges_1900_3000),
        cmocka_unit_test(test_model_time__known_instants),
        cmocka_unit_test(test_model_time__whole_int64_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

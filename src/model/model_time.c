/* SPDX-License-Identifier: Apache-2.0 */
/* model_time.c - UTC calendar parts of an epoch-millisecond instant, by
 * integer arithmetic only (no gmtime: independent of TZ and locale). */
#include "fmacros.h"

#include "lake_common.h"
#include "model/model.h"
#include "lake_internal.h"

#define MS_PER_DAY  INT64_C(86400000)
#define MS_PER_HOUR INT64_C(3600000)

static int64_t floor_div(int64_t a, int64_t b)
{
    const int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t days_in_year(int64_t y)
{
    return is_leap(y) ? 366 : 365;
}

/* Days before the first of each month in a common year. */
static const int16_t days_before_month[12] = {0,   31,  59,  90,  120, 151,
                                              181, 212, 243, 273, 304, 334};

/* Howard Hinnant's civil_from_days: proleptic Gregorian date of day
 * @p z counted from 1970-01-01. Exact for |z| < 2^62. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = floor_div(z, 146097);
    const int64_t doe = z - era * 146097;                     /* [0, 146096] */
    const int64_t yoe =
        (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
    const int64_t mp = (5 * doy + 2) / 153;                      /* [0, 11] */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void lake_time_parts_of(int64_t ts_ms, lake_time_parts *out)
{
    /* Not ts_ms - days * MS_PER_DAY: that overflows near INT64_MIN. */
    int64_t days = ts_ms / MS_PER_DAY;
    int64_t ms_of_day = ts_ms % MS_PER_DAY;
    if (ms_of_day < 0) {
        ms_of_day += MS_PER_DAY;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);

    /* 1970-01-01 was a Thursday: ISO weekday 4, Spark dayofweek 5. */
    const int64_t iso_wd = floor_mod(days + 3, 7) + 1; /* Mon=1..Sun=7 */
    const int64_t doy = days_before_month[m - 1] + (d - 1) +
                        (m > 2 && is_leap(y)); /* 0-based */

    /* The ISO week belongs to the year holding its Thursday. */
    int64_t thu = doy + 4 - iso_wd;
    if (thu < 0)
        thu += days_in_year(y - 1);
    else if (thu >= days_in_year(y))
        thu -= days_in_year(y);

    out->hour = (int32_t)(ms_of_day / MS_PER_HOUR);
    out->day = (int32_t)d;
    out->week = (int32_t)(thu / 7 + 1);
    out->month = (int32_t)m;
    out->year = (int32_t)y;
    out->weekday = (int32_t)(iso_wd % 7 + 1); /* Sun=1..Sat=7 */
}

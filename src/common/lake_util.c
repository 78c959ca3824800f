/* SPDX-License-Identifier: Apache-2.0 */
/* lake_util.c - clocks and machine facts. */
#include "fmacros.h"

#include <time.h>
#include <unistd.h>

#include "lake_common.h"
#include "lake_internal.h"

int64_t lake_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int lake_cpu_count(void)
{
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* model_dump.c - prints the model stage's answers for values read from
 * stdin, one per line, for python/tests/test_model_vectors.py:
 *
 *   model_dump time   TS_MS lines -> "ts year month day hour week weekday"
 *   model_dump part   hex of COLUMN, space, hex of VALUE ("-" for absent)
 *                     -> hex of the partition folder name
 *   model_dump id     "user session item ts" -> songplay_id */
#include "fmacros.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "model/model.h"

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode hex at @p s (up to a space or end) into @p out; return length. */
static size_t unhex(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    while (s[0] && s[0] != ' ' && s[1] && n < cap) {
        const int hi = hex_value(s[0]), lo = hex_value(s[1]);
        if (hi < 0 || lo < 0)
            break;
        out[n++] = (char)(hi << 4 | lo);
        s += 2;
    }
    return n;
}

static int dump_part(const char *line, lake_buf *b)
{
    char column[256], value[4096];
    const size_t col_len = unhex(line, column, sizeof(column) - 1);
    column[col_len] = '\0';
    const char *sp = strchr(line, ' ');
    if (!sp)
        return 1;
    const bool present = sp[1] != '-';
    const size_t len = present ? unhex(sp + 1, value, sizeof(value)) : 0;
    b->len = 0;
    if (lake_partition_name(column, (lake_strview){value, len}, present, b) !=
        LAKE_OK)
        return 1;
    for (size_t i = 0; i < b->len; i++)
        printf("%02x", (unsigned)(uint8_t)b->data[i]);
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    char line[16384];
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(argv[1], "time") == 0) {
            const int64_t ts = strtoll(line, NULL, 10);
            lake_time_parts p;
            lake_time_parts_of(ts, &p);
            printf("%" PRId64 " %d %d %d %d %d %d\n", ts, p.year, p.month,
                   p.day, p.hour, p.week, p.weekday);
        } else if (strcmp(argv[1], "id") == 0) {
            long long u, s, i, t;
            if (sscanf(line, "%lld %lld %lld %lld", &u, &s, &i, &t) != 4)
                rc = 1;
            else
                printf("%" PRId64 "\n", lake_songplay_id(u, s, i, t));
        } else if (strcmp(argv[1], "part") == 0) {
            rc = dump_part(line, &b);
        } else {
            rc = 2;
        }
    }
    lake_buf_reset(&b);
    return rc;
}

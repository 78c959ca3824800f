/* SPDX-License-Identifier: Apache-2.0 */
/* bench_model.c - nanoseconds per call of the model stage's hot rules:
 * songplay ids, time parts, partition names and song matches on a 100k-song
 * index. Usage: bench_model [iterations] */
#include "fmacros.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lake_common.h"
#include "model/model.h"

#define N_SONGS 100000
#define N_QUERIES 65536 /* distinct lookups (a power of two) */

static volatile int64_t sink;

/* CPU time of this thread: the machine is shared, and wall time would
 * count the time other processes hold our core. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double ns_per(int64_t t0, int64_t n)
{
    return (double)(cpu_ns() - t0) / (double)n;
}

int main(int argc, char **argv)
{
    const int64_t n = argc > 1 ? strtoll(argv[1], NULL, 10) : 2000000;
    if (n <= 0)
        return 2;

    int64_t t0 = cpu_ns();
    int64_t acc = 0;
    for (int64_t i = 0; i < n; i++)
        acc += lake_songplay_id(15 + (i & 1023), 818 + (i >> 10), i & 127,
                                INT64_C(1542837407796) + i);
    printf("songplay_id      %8.1f ns\n", ns_per(t0, n));

    t0 = cpu_ns();
    for (int64_t i = 0; i < n; i++) {
        lake_time_parts p;
        lake_time_parts_of(INT64_C(1542837407796) + i * INT64_C(997331), &p);
        acc += p.week + p.weekday + p.day;
    }
    printf("time_parts_of    %8.1f ns\n", ns_per(t0, n));

    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    char value[32];
    t0 = cpu_ns();
    for (int64_t i = 0; i < n / 4; i++) {
        const int len = snprintf(value, sizeof(value), "AR%016llx",
                                 (unsigned long long)i);
        b.len = 0;
        if (lake_partition_name("artist_id",
                                (lake_strview){value, (size_t)len}, true,
                                &b) != LAKE_OK)
            return 1;
        acc += (int64_t)b.len;
    }
    printf("partition_name   %8.1f ns (with snprintf of the value)\n",
           ns_per(t0, n / 4));
    lake_buf_reset(&b);

    lake_song_index *idx = NULL;
    lake_error err;
    if (lake_song_index_new(NULL, &idx, &err) != LAKE_OK)
        return 1;
    static char titles[N_SONGS][24], artists[N_SONGS][24], ids[N_SONGS][20];
    t0 = cpu_ns();
    for (int i = 0; i < N_SONGS; i++) {
        snprintf(titles[i], sizeof(titles[i]), "Song title %d", i);
        snprintf(artists[i], sizeof(artists[i]), "Artist %d", i / 3);
        snprintf(ids[i], sizeof(ids[i]), "SO%016d", i);
        const lake_strview t = {titles[i], strlen(titles[i])};
        const lake_strview a = {artists[i], strlen(artists[i])};
        const lake_strview s = {ids[i], strlen(ids[i])};
        if (lake_song_index_add(idx, t, a, 180.0 + i % 97, s, a, &err) !=
            LAKE_OK)
            return 1;
    }
    printf("song_index_add   %8.1f ns (100k songs, with snprintf)\n",
           ns_per(t0, N_SONGS));

    /* Queries live in one buffer, as a parsed batch of events does. */
    static char qbuf[N_QUERIES * 48];
    static lake_strview keys_t[N_QUERIES], keys_a[N_QUERIES];
    static double lens[N_QUERIES];
    size_t qpos = 0;
    for (int k = 0; k < N_QUERIES; k++) {
        const int i = (int)(((unsigned)k * 2654435761u) % N_SONGS);
        const size_t lt = strlen(titles[i]), la = strlen(artists[i]);
        memcpy(qbuf + qpos, titles[i], lt);
        keys_t[k] = (lake_strview){qbuf + qpos, lt};
        memcpy(qbuf + qpos + lt, artists[i], la);
        keys_a[k] = (lake_strview){qbuf + qpos + lt, la};
        qpos += lt + la;
        lens[k] = 180.0 + i % 97;
    }
    const int hot_sets[] = {16, 1024, N_QUERIES};
    for (size_t h = 0; h < LAKE_ARRAY_LEN(hot_sets); h++) {
        const int64_t mask = hot_sets[h] - 1;
        lake_strview sid, aid;
        t0 = cpu_ns();
        for (int64_t i = 0; i < n; i++) {
            const int64_t k = i & mask;
            acc += lake_song_index_match(idx, keys_t[k], keys_a[k], lens[k],
                                         &sid, &aid);
        }
        printf("match hit  %6d distinct %8.1f ns\n", hot_sets[h],
               ns_per(t0, n));
        t0 = cpu_ns();
        for (int64_t i = 0; i < n; i++) {
            const int64_t k = i & mask;
            acc += lake_song_index_match(idx, keys_t[k],
                                         keys_a[(k + 1) & mask], lens[k],
                                         &sid, &aid);
        }
        printf("match miss %6d distinct %8.1f ns\n", hot_sets[h],
               ns_per(t0, n));
    }
    lake_song_index_free(idx);
    sink = acc;
    return 0;
}

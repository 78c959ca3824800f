/* SPDX-License-Identifier: Apache-2.0 */
/* bench_parse.c - the parse-only floor: list and read every input file
 * below a folder (or one file) into memory, then time the record reader
 * over them on one thread, and print one JSON line.
 *
 *   bench_parse [--kind songs|events] [--repeat N] PATH
 *
 * kind defaults to songs when PATH contains "song", else events. The
 * timed region is the record reader only (files are already in memory);
 * MB/s is decimal megabytes of file bytes (decompressed) per second,
 * best of N passes, with the median given too. */
#include "fmacros.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "lake_internal.h"

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int fail(const char *what, const lake_error *err)
{
    fprintf(stderr, "bench_parse: %s: %s\n", what, err->message);
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *kind_arg = NULL;
    long repeat = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc)
            kind_arg = argv[++i];
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = strtol(argv[++i], NULL, 10);
        else
            path = argv[i];
    }
    if (!path || repeat < 1 || repeat > 1000) {
        fprintf(stderr, "usage: bench_parse [--kind songs|events] "
                        "[--repeat N] PATH\n");
        return 2;
    }
    lake_rec_kind kind = strstr(path, "song") ? LAKE_REC_SONG : LAKE_REC_EVENT;
    if (kind_arg)
        kind = strcmp(kind_arg, "songs") == 0 ? LAKE_REC_SONG : LAKE_REC_EVENT;

    lake_error err;
    lake_file_list list = {0};
    struct stat st;
    const bool single = stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
    size_t n_files = 1;
    if (!single) {
        if (lake_list_files(path, NULL, &list, &err) != LAKE_OK)
            return fail("list", &err);
        n_files = list.n_files;
    }
    lake_file_data *files = calloc(n_files ? n_files : 1, sizeof(*files));
    if (!files)
        return 1;
    size_t total = 0;
    const int64_t t_read0 = lake_now_ns();
    for (size_t i = 0; i < n_files; i++) {
        char full[8192];
        if (single)
            snprintf(full, sizeof(full), "%s", path);
        else
            snprintf(full, sizeof(full), "%s/%s", path,
                     list.files[i].rel_path);
        if (lake_read_file(full, 0, &files[i], &err) != LAKE_OK)
            return fail("read", &err);
        total += files[i].len;
    }
    const double read_s = (double)(lake_now_ns() - t_read0) / 1e9;

    lake_record_reader *r = NULL;
    if (lake_record_reader_new(NULL, &r, &err) != LAKE_OK)
        return fail("reader", &err);
    double *secs = calloc((size_t)repeat, sizeof(double));
    if (!secs)
        return 1;
    int64_t records = 0, rejects = 0;
    double checksum = 0;
    for (long pass = 0; pass < repeat; pass++) {
        records = rejects = 0;
        const int64_t t0 = lake_now_ns();
        for (size_t i = 0; i < n_files; i++) {
            lake_record_reader_reset(r, kind, files[i].data, files[i].len);
            for (;;) {
                lake_song_rec song;
                lake_event_rec ev;
                lake_reject rej;
                lake_next nx;
                void *out = kind == LAKE_REC_SONG ? (void *)&song : (void *)&ev;
                if (lake_record_reader_next(r, out, &rej, &nx, &err) !=
                    LAKE_OK)
                    return fail("next", &err);
                if (nx == LAKE_NEXT_END)
                    break;
                if (nx == LAKE_NEXT_REJECT) {
                    rejects++;
                    continue;
                }
                records++;
                checksum += kind == LAKE_REC_SONG ? song.duration
                                                  : (double)ev.ts;
            }
        }
        secs[pass] = (double)(lake_now_ns() - t0) / 1e9;
    }
    qsort(secs, (size_t)repeat, sizeof(double), cmp_double);
    const double best = secs[0], median = secs[repeat / 2];
    printf("{\"path\": \"%s\", \"kind\": \"%s\", \"files\": %zu, "
           "\"bytes\": %zu, \"records\": %lld, \"rejects\": %lld, "
           "\"passes\": %ld, \"seconds\": %.6f, \"median_seconds\": %.6f, "
           "\"mb_per_s\": %.1f, \"median_mb_per_s\": %.1f, "
           "\"read_seconds\": %.6f, \"checksum\": %.17g}\n",
           path, kind == LAKE_REC_SONG ? "songs" : "events", n_files, total,
           (long long)records, (long long)rejects, repeat, best, median,
           best > 0 ? (double)total / best / 1e6 : 0.0,
           median > 0 ? (double)total / median / 1e6 : 0.0, read_s, checksum);
    lake_record_reader_free(r);
    for (size_t i = 0; i < n_files; i++)
        lake_file_data_free(&files[i]);
    free(files);
    free(secs);
    lake_file_list_free(&list);
    return 0;
}

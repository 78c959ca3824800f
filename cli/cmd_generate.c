/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_generate.c - `sparkify generate`: write eventsim-faithful Sparkify
 * input data (song files and daily event logs) at any scale. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lake.h"

int sparkify_cmd_generate(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sparkify generate [options] OUT\n"
            "\n"
            "Write Sparkify input data shaped like the course data: "
            "OUT/song_data/A/B/C/TR….json\n"
            "(one song a file) and OUT/log_data/YYYY/MM/YYYY-MM-DD-events."
            "json (one file a\n"
            "UTC day, JSON Lines), plus OUT/_manifest.json with exact "
            "counts of what was\n"
            "written and injected. The same options always give the same "
            "bytes, whatever\n"
            "--threads is. OUT must not hold song_data/ or log_data/ yet.\n"
            "\n"
            "options:\n"
            "  --users N         users (default 100)\n"
            "  --days N          days of logs (default 30)\n"
            "  --start DATE      first day, YYYY-MM-DD (default 2018-11-01)\n"
            "  --catalog N       songs users play (default 10000)\n"
            "  --song-files N    song files to write (default: as many as "
            "--match-rate\n"
            "                    needs; more adds songs nobody plays)\n"
            "  --artists N       every song by one of N artists (at most "
            "catalog + song\n"
            "                    files), years near each artist's career "
            "(default: about\n"
            "                    one artist per song)\n"
            "  --match-rate R    share of plays whose song has a song file, "
            "0 to 1\n"
            "                    (default 0.05, like the real data)\n"
            "  --seed S          random seed (default 42)\n"
            "  --threads N       worker threads (default: all cores)\n"
            "  --gzip            write .json.gz files\n"
            "  --dirty RATE      give this share of events and song files a "
            "fault\n"
            "                    (malformed, truncated, wrong types, missing "
            "fields,\n"
            "                    duplicates, ...); _manifest.json counts "
            "them per\n"
            "                    quarantine reason\n"
            "  --quiet           no summary\n"
            "  --help            this text\n"
            "\n"
            "exit status: 0 done, 1 failed, 2 bad command line\n");
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    const long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (s[0] == '-')
        return -1;
    const unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_rate(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    const double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v <= 1))
        return -1;
    *out = v;
    return 0;
}

static void summary(const lake_generate_report *r, const char *out)
{
    const double mb = (double)r->bytes / 1e6;
    printf("%-24s %14s\n", "wrote", out);
    printf("%-24s %14lld\n", "song files", (long long)r->song_files);
    printf("%-24s %14lld\n", "songs", (long long)r->songs);
    printf("%-24s %14lld\n", "log files", (long long)r->log_files);
    printf("%-24s %14lld\n", "events", (long long)r->events);
    printf("%-24s %14lld\n", "sessions", (long long)r->sessions);
    printf("%-24s %14lld\n", "users", (long long)r->users);
    printf("%-24s %14lld\n", "songplays", (long long)r->songplays);
    printf("%-24s %14lld", "matched songplays", (long long)r->matched_plays);
    if (r->songplays)
        printf(" (%.1f %%)",
               100.0 * (double)r->matched_plays / (double)r->songplays);
    printf("\n");
    printf("%-24s %14lld\n", "faults", (long long)r->faults);
    for (int i = 0; i < LAKE_GEN_N_REASONS; i++)
        if (r->reason_counts[i])
            printf("  %-22s %14lld\n", lake_generate_reason(i),
                   (long long)r->reason_counts[i]);
    printf("%-24s %14lld\n", "duplicate events", (long long)r->duplicates);
    printf("%-24s %14.1f\n", "MB", mb);
    printf("%-24s %14.3f\n", "seconds", r->elapsed_s);
    printf("%-24s %14.1f\n", "MB/s", r->elapsed_s > 0 ? mb / r->elapsed_s : 0);
}

static void on_progress(void *ctx, int32_t done, int32_t n_days, int64_t bytes)
{
    (void)ctx;
    fprintf(stderr, "\r\033[Kday %d/%d  %.1f MB", (int)done, (int)n_days,
            (double)bytes / 1e6);
    if (done == n_days)
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

int sparkify_cmd_generate(int argc, char **argv)
{
    lake_generate_opts o = {0};
    int quiet = 0;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t n = 0;
        int bad = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return SPARKIFY_EXIT_OK;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
            continue;
        } else if (!strcmp(a, "--gzip")) {
            o.gzip = 1;
            continue;
        } else if (a[0] == '-' && a[1] == '-') {
            if (!v) {
                fprintf(stderr, "sparkify generate: %s needs a value\n", a);
                return SPARKIFY_EXIT_USAGE;
            }
            i++;
            if (!strcmp(a, "--users")) {
                bad = parse_i64(v, 1, 10000000, &n);
                o.n_users = n;
            } else if (!strcmp(a, "--days")) {
                bad = parse_i64(v, 1, 36600, &n);
                o.n_days = (int32_t)n;
            } else if (!strcmp(a, "--start")) {
                o.start_date = v;
            } else if (!strcmp(a, "--catalog")) {
                bad = parse_i64(v, 1, 10000000, &n);
                o.catalog_songs = n;
            } else if (!strcmp(a, "--song-files")) {
                bad = parse_i64(v, 1, 10000000, &n);
                o.song_files = n;
            } else if (!strcmp(a, "--artists")) {
                bad = parse_i64(v, 1, 20000000, &n); /* the library checks
                                                        the upper bound */
                o.n_artists = n;
            } else if (!strcmp(a, "--match-rate")) {
                bad = parse_rate(v, &o.match_rate);
                if (!bad && o.match_rate == 0)
                    o.match_rate = -1; /* the API's "none" */
            } else if (!strcmp(a, "--seed")) {
                bad = parse_u64(v, &o.seed);
            } else if (!strcmp(a, "--threads")) {
                bad = parse_i64(v, 0, 256, &n);
                o.threads = (int)n;
            } else if (!strcmp(a, "--dirty")) {
                bad = parse_rate(v, &o.dirty_rate);
            } else {
                fprintf(stderr, "sparkify generate: unknown option %s\n", a);
                usage(stderr);
                return SPARKIFY_EXIT_USAGE;
            }
            if (bad) {
                fprintf(stderr, "sparkify generate: bad value for %s: '%s'\n",
                        a, v);
                return SPARKIFY_EXIT_USAGE;
            }
        } else if (!out) {
            out = a;
        } else {
            fprintf(stderr, "sparkify generate: unexpected argument '%s'\n", a);
            usage(stderr);
            return SPARKIFY_EXIT_USAGE;
        }
    }
    if (!out) {
        fprintf(stderr, "sparkify generate: no output folder given\n");
        usage(stderr);
        return SPARKIFY_EXIT_USAGE;
    }
    o.out_dir = out;
    if (!quiet && isatty(STDERR_FILENO))
        o.progress = on_progress;
    lake_generate_report r;
    lake_error err;
    const lake_status rc = lake_generate(&o, &r, &err);
    if (rc == LAKE_EINVAL) {
        fprintf(stderr, "sparkify %s\n", err.message);
        return SPARKIFY_EXIT_USAGE;
    }
    if (rc != LAKE_OK) {
        fprintf(stderr, "sparkify %s (%s)\n", err.message, lake_status_str(rc));
        return SPARKIFY_EXIT_FAILURE;
    }
    if (!quiet)
        summary(&r, out);
    return SPARKIFY_EXIT_OK;
}

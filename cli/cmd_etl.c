/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_etl.c - `sparkify etl`: raw JSON to the star schema lake, with a
 * live progress line on a terminal and a summary table at the end. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lake.h"

int sparkify_cmd_etl(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sparkify etl [options] INPUT LAKE\n"
            "       sparkify etl [options] --songs ROOT --logs ROOT LAKE\n"
            "\n"
            "Read song metadata and event logs (JSON, JSON Lines, .gz) and "
            "write the star\n"
            "schema (songs, artists, users, time, songplays) as partitioned "
            "Parquet into LAKE.\n"
            "INPUT holds song_data/ and log_data/. Each table is published "
            "atomically;\n"
            "rejected records go to LAKE/_quarantine/, the run report to\n"
            "LAKE/_sparkify_report.json.\n"
            "\n"
            "options:\n"
            "  --songs ROOT         folder of song files\n"
            "  --logs ROOT          folder of event log files\n"
            "  --threads N          worker threads (default: all cores)\n"
            "  --compression C      snappy (default), zstd or none\n"
            "  --fail-on-bad        exit 3 when any record was quarantined "
            "(the lake is\n"
            "                       still published)\n"
            "  --quiet              no progress line, no summary\n"
            "  --help               this text\n"
            "\n"
            "S3 (INPUT, ROOT or LAKE may be s3://bucket/prefix):\n"
            "  --endpoint URL       S3-compatible endpoint (default: "
            "AWS_ENDPOINT_URL,\n"
            "                       else AWS S3 of the region)\n"
            "  --region NAME        default: AWS_REGION, the profile's, "
            "else us-east-1\n"
            "  --config FILE        credentials from a dl.cfg-style file "
            "([AWS]\n"
            "                       AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
            "; default: the\n"
            "                       environment, then AWS_PROFILE in "
            "~/.aws/credentials\n"
            "  --anonymous          unsigned requests (public buckets)\n"
            "  Secrets are never accepted as arguments.\n"
            "\n"
            "exit status:\n"
            "  0  the lake was published\n"
            "  1  the run failed; the previous lake is unchanged\n"
            "  2  bad command line\n"
            "  3  --fail-on-bad and records were quarantined (the lake was "
            "published)\n");
}

typedef struct progress_state {
    int64_t last_ns;
    int shown;
} progress_state;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_progress(void *ctx, const lake_etl_progress *p)
{
    progress_state *st = ctx;
    const int64_t t = now_ns();
    if (st->shown && t - st->last_ns < 100000000) /* <= 10 updates/s */
        return;
    st->last_ns = t;
    st->shown = 1;
    const double mb = (double)p->bytes_read / 1e6;
    const double rate = p->elapsed_s > 0 ? mb / p->elapsed_s : 0;
    fprintf(stderr,
            "\r\033[K%-7s files %lld/%lld  %.1f/%.1f MB  %.1f MB/s  %.1f s",
            p->phase, (long long)p->files_done, (long long)p->files_total, mb,
            (double)p->bytes_total / 1e6, rate, p->elapsed_s);
    fflush(stderr);
}

static void summary(const lake_etl_report *r)
{
    const double mb = (double)r->bytes_read / 1e6;
    printf("%-28s %14s\n", "table", "rows");
    for (int t = 0; t < LAKE_ETL_N_TABLES; t++)
        printf("%-28s %14lld\n", lake_etl_table_name((lake_etl_table)t),
               (long long)r->rows[t]);
    printf("%-28s %14lld\n", "matched plays", (long long)r->matched_plays);
    printf("%-28s %14lld\n", "quarantined", (long long)r->quarantined);
    for (size_t i = 0; i < r->n_reasons; i++)
        printf("  %-26s %14lld\n", r->reasons[i].reason,
               (long long)r->reasons[i].count);
    printf("%-28s %14lld\n", "input files",
           (long long)(r->song_files + r->log_files));
    printf("%-28s %14.1f\n", "input MB", mb);
    printf("%-28s %14.3f\n", "seconds", r->seconds);
    for (int p = 0; p < LAKE_ETL_N_PHASES; p++)
        printf("  %-26s %14.3f\n", lake_etl_phase_name((lake_etl_phase)p),
               r->phase_seconds[p]);
    printf("%-28s %14.1f\n", "MB/s", r->seconds > 0 ? mb / r->seconds : 0);
}

static int parse_threads(const char *s, int *out)
{
    char *end = NULL;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 256)
        return -1;
    *out = (int)v;
    return 0;
}

int sparkify_cmd_etl(int argc, char **argv)
{
    lake_etl_opts opts;
    memset(&opts, 0, sizeof(opts));
    lake_s3_opts s3;
    memset(&s3, 0, sizeof(s3));
    opts.s3 = &s3;
    const char *pos[2] = {NULL, NULL};
    int n_pos = 0;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return SPARKIFY_EXIT_OK;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (!strcmp(a, "--fail-on-bad")) {
            opts.fail_on_bad = 1;
        } else if (!strcmp(a, "--songs") || !strcmp(a, "--logs") ||
                   !strcmp(a, "--threads") || !strcmp(a, "--compression") ||
                   !strcmp(a, "--endpoint") || !strcmp(a, "--region") ||
                   !strcmp(a, "--config")) {
            if (!val) {
                fprintf(stderr, "sparkify etl: %s needs a value\n", a);
                return SPARKIFY_EXIT_USAGE;
            }
            i++;
            if (!strcmp(a, "--songs")) {
                opts.song_root = val;
            } else if (!strcmp(a, "--logs")) {
                opts.log_root = val;
            } else if (!strcmp(a, "--endpoint")) {
                s3.endpoint = val;
            } else if (!strcmp(a, "--region")) {
                s3.region = val;
            } else if (!strcmp(a, "--config")) {
                s3.config_file = val;
            } else if (!strcmp(a, "--threads")) {
                if (parse_threads(val, &opts.threads) != 0) {
                    fprintf(stderr,
                            "sparkify etl: --threads: not a number 0..256: "
                            "%s\n",
                            val);
                    return SPARKIFY_EXIT_USAGE;
                }
            } else if (!strcmp(val, "snappy")) {
                opts.codec = LAKE_CODEC_SNAPPY;
            } else if (!strcmp(val, "zstd")) {
                opts.codec = LAKE_CODEC_ZSTD;
            } else if (!strcmp(val, "none")) {
                opts.codec = LAKE_CODEC_NONE;
            } else {
                fprintf(stderr,
                        "sparkify etl: --compression: snappy, zstd or none, "
                        "not %s\n",
                        val);
                return SPARKIFY_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--anonymous")) {
            s3.anonymous = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "sparkify etl: unknown option %s\n", a);
            usage(stderr);
            return SPARKIFY_EXIT_USAGE;
        } else if (n_pos < 2) {
            pos[n_pos++] = a;
        } else {
            fprintf(stderr, "sparkify etl: too many arguments\n");
            usage(stderr);
            return SPARKIFY_EXIT_USAGE;
        }
    }
    char song_root[PATH_MAX], log_root[PATH_MAX];
    const int explicit_roots = opts.song_root || opts.log_root;
    if (explicit_roots) {
        if (!opts.song_root || !opts.log_root || n_pos != 1) {
            fprintf(stderr,
                    "sparkify etl: --songs ROOT --logs ROOT LAKE go "
                    "together\n");
            usage(stderr);
            return SPARKIFY_EXIT_USAGE;
        }
        opts.lake = pos[0];
    } else {
        if (n_pos != 2) {
            usage(stderr);
            return SPARKIFY_EXIT_USAGE;
        }
        size_t n = strlen(pos[0]);
        while (n > 1 && pos[0][n - 1] == '/')
            n--;
        if (snprintf(song_root, sizeof(song_root), "%.*s/song_data", (int)n,
                     pos[0]) >= (int)sizeof(song_root) ||
            snprintf(log_root, sizeof(log_root), "%.*s/log_data", (int)n,
                     pos[0]) >= (int)sizeof(log_root)) {
            fprintf(stderr, "sparkify etl: INPUT path too long\n");
            return SPARKIFY_EXIT_USAGE;
        }
        opts.song_root = song_root;
        opts.log_root = log_root;
        opts.lake = pos[1];
    }
    progress_state st = {0, 0};
    if (!quiet && isatty(STDERR_FILENO)) {
        opts.progress = on_progress;
        opts.progress_ctx = &st;
    }
    lake_etl_report report;
    lake_error err;
    const lake_status rc = lake_etl_run(&opts, &report, &err);
    if (st.shown)
        fprintf(stderr, "\r\033[K");
    if (rc != LAKE_OK && rc != LAKE_EBADDATA) {
        fprintf(stderr, "sparkify etl: %s\n", err.message);
        return SPARKIFY_EXIT_FAILURE;
    }
    if (!quiet)
        summary(&report);
    if (rc == LAKE_EBADDATA) {
        fprintf(stderr, "sparkify etl: %s\n", err.message);
        return SPARKIFY_EXIT_BADDATA;
    }
    return SPARKIFY_EXIT_OK;
}

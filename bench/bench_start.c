/* SPDX-License-Identifier: Apache-2.0 */
/* bench_start.c - process start to exit of the CLI on empty input (issue
 * #3: <= 5 ms), beside the floor of starting any process at all.
 *
 *   bench_start SPARKIFY SCRATCH [REPS]
 *
 * Times, REPS times each and interleaved: /bin/true, `SPARKIFY --version`
 * and `SPARKIFY etl --quiet SCRATCH/in SCRATCH/lake` on empty song_data/
 * and log_data/ roots into a fresh lake (the previous one is removed
 * outside the timed region). Prints one JSON object with the median and
 * minimum of each, in milliseconds. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fmacros.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_REPS 1000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Wall time of one run of argv with stdout/stderr to /dev/null, or -1. */
static double run_ms(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    const double t0 = now_ms();
    const int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0) {
        fprintf(stderr, "bench_start: spawn %s: %s\n", argv[0], strerror(e));
        return -1;
    }
    int status = 0;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    const double t = now_ms() - t0;
    if (w < 0) {
        fprintf(stderr, "bench_start: wait for %s: %s\n", argv[0],
                strerror(errno));
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_start: %s failed (status %d)\n", argv[0],
                status);
        return -1;
    }
    return t;
}

static int rm_entry(const char *path, const struct stat *st, int type,
                    struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void print_stat(const char *name, double *v, int n, const char *sep)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    printf("\"%s\":{\"median_ms\":%.3f,\"min_ms\":%.3f}%s", name, median,
           v[0], sep);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_start SPARKIFY SCRATCH [REPS]\n");
        return 2;
    }
    const int reps = argc > 3 ? atoi(argv[3]) : 50;
    if (reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "bench_start: REPS must be 1..%d\n", MAX_REPS);
        return 2;
    }
    char in[4096], songs[4200], logs[4200], lake[4096];
    snprintf(in, sizeof(in), "%s/in", argv[2]);
    snprintf(songs, sizeof(songs), "%s/song_data", in);
    snprintf(logs, sizeof(logs), "%s/log_data", in);
    snprintf(lake, sizeof(lake), "%s/lake", argv[2]);
    if ((mkdir(argv[2], 0777) != 0 && errno != EEXIST) ||
        (mkdir(in, 0777) != 0 && errno != EEXIST) ||
        (mkdir(songs, 0777) != 0 && errno != EEXIST) ||
        (mkdir(logs, 0777) != 0 && errno != EEXIST)) {
        fprintf(stderr, "bench_start: mkdir under %s: %s\n", argv[2],
                strerror(errno));
        return 1;
    }
    char arg_true[] = "/bin/true", arg_version[] = "--version",
         arg_etl[] = "etl", arg_quiet[] = "--quiet";
    char *true_argv[] = {arg_true, NULL};
    char *version_argv[] = {argv[1], arg_version, NULL};
    char *etl_argv[] = {argv[1], arg_etl, arg_quiet, in, lake, NULL};
    static double t_true[MAX_REPS], t_version[MAX_REPS], t_etl[MAX_REPS];
    for (int i = 0; i < reps; i++) {
        if (nftw(lake, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
            errno != ENOENT) {
            fprintf(stderr, "bench_start: cannot remove %s: %s\n", lake,
                    strerror(errno));
            return 1;
        }
        if ((t_true[i] = run_ms(true_argv)) < 0 ||
            (t_version[i] = run_ms(version_argv)) < 0 ||
            (t_etl[i] = run_ms(etl_argv)) < 0)
            return 1;
    }
    nftw(lake, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("{\"reps\":%d,", reps);
    print_stat("true", t_true, reps, ",");
    print_stat("version", t_version, reps, ",");
    print_stat("etl_empty", t_etl, reps, "}\n");
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* floor_io.c - the I/O floors of the benchmarks: walk and read every input
 * file once, or re-create the file and folder tree of an existing lake with
 * files of the same sizes. Nothing faster can do the ETL's I/O.
 *
 *   floor_io read DIR          prints {"files":..,"bytes":..,"seconds":..}
 *   floor_io create LAKE DST   same shape; DST must not exist */
#include "fmacros.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];
static int64_t n_files, n_bytes;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_file(const char *path)
{
    const int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        n_bytes += n;
    close(fd);
    n_files++;
    return n < 0 ? -1 : 0;
}

static int write_file(const char *path, off_t size)
{
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        return -1;
    off_t left = size;
    while (left > 0) {
        const size_t k = left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf);
        const ssize_t w = write(fd, buf, k);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        left -= w;
    }
    n_files++;
    n_bytes += size;
    return close(fd);
}

/* Walk @p src; with @p dst, mirror folders and files of equal size. */
static int walk(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    if (!d)
        return -1;
    if (dst && mkdir(dst, 0777) != 0 && errno != EEXIST) {
        closedir(d);
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[4096], q[4096];
        snprintf(p, sizeof(p), "%s/%s", src, e->d_name);
        if (dst)
            snprintf(q, sizeof(q), "%s/%s", dst, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) {
            rc = -1;
            break;
        }
        if (S_ISDIR(st.st_mode))
            rc = walk(p, dst ? q : NULL);
        else if (dst)
            rc = write_file(q, st.st_size);
        else
            rc = read_file(p);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    const int create = argc == 4 && !strcmp(argv[1], "create");
    if (!create && !(argc == 3 && !strcmp(argv[1], "read"))) {
        fprintf(stderr, "usage: floor_io read DIR | floor_io create LAKE DST\n");
        return 2;
    }
    memset(buf, 'x', sizeof(buf));
    const double t0 = now_s();
    if (walk(argv[2], create ? argv[3] : NULL) != 0) {
        fprintf(stderr, "floor_io: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    printf("{\"files\": %lld, \"bytes\": %lld, \"seconds\": %.6f}\n",
           (long long)n_files, (long long)n_bytes, now_s() - t0);
    return 0;
}

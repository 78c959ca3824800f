/* SPDX-License-Identifier: Apache-2.0 */
/* floor_codec.c - the codec floor of the benchmarks: the bare snappy and
 * zstd (level 1) compressors over a lake's page bytes, with nothing else.
 * The ETL compresses every data page it writes; it cannot spend less.
 *
 *   floor_codec LAKE    prints {"files":..,"bytes":..,"snappy_s":..,
 *                                "zstd_s":..,"snappy_bytes":..,
 *                                "zstd_bytes":..}
 *
 * LAKE should be written with --compression none, so that its .parquet
 * files are (nearly all) uncompressed page bytes. They are read into
 * memory first, then compressed in 128 KiB blocks (the size of a typical
 * data page of the ETL's files: 20,000 values at most) on one thread;
 * the seconds are CPU time of that thread, best of three. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fmacros.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <snappy-c.h>
#include <zstd.h>

#define BLOCK ((size_t)128 << 10)

static char *data;
static size_t len, cap;
static int64_t n_files;

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int add_file(const char *path, const struct stat *st, int type,
                    struct FTW *ftw)
{
    (void)ftw;
    const size_t n = strlen(path);
    if (type != FTW_F || n < 8 || strcmp(path + n - 8, ".parquet") != 0)
        return 0;
    const size_t size = (size_t)st->st_size;
    if (len + size > cap) {
        size_t c = cap ? cap : (size_t)1 << 24;
        while (c < len + size)
            c *= 2;
        char *p = realloc(data, c);
        if (!p) {
            fprintf(stderr, "floor_codec: out of memory\n");
            return 1;
        }
        data = p;
        cap = c;
    }
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "floor_codec: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t got = 0;
    while (got < size) {
        const ssize_t r = read(fd, data + len + got, size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    len += got;
    n_files++;
    return 0;
}

/* Seconds of CPU to compress everything with one codec; *out_bytes: the
 * compressed size. */
static double run_codec(int zstd, char *dst, size_t dst_cap,
                        ZSTD_CCtx *cctx, size_t *out_bytes)
{
    const double t0 = cpu_s();
    size_t total = 0;
    for (size_t off = 0; off < len; off += BLOCK) {
        const size_t n = len - off < BLOCK ? len - off : BLOCK;
        if (zstd) {
            const size_t r = ZSTD_compressCCtx(cctx, dst, dst_cap, data + off,
                                               n, 1);
            total += ZSTD_isError(r) ? 0 : r;
        } else {
            size_t out = dst_cap;
            if (snappy_compress(data + off, n, dst, &out) == SNAPPY_OK)
                total += out;
        }
    }
    *out_bytes = total;
    return cpu_s() - t0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: floor_codec LAKE\n");
        return 2;
    }
    if (nftw(argv[1], add_file, 32, FTW_PHYS) != 0) {
        fprintf(stderr, "floor_codec: cannot read %s\n", argv[1]);
        return 1;
    }
    const size_t dst_cap = snappy_max_compressed_length(BLOCK) >
                                   ZSTD_compressBound(BLOCK)
                               ? snappy_max_compressed_length(BLOCK)
                               : ZSTD_compressBound(BLOCK);
    char *dst = malloc(dst_cap);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    if (!dst || !cctx) {
        fprintf(stderr, "floor_codec: out of memory\n");
        return 1;
    }
    double best[2] = {1e30, 1e30};
    size_t bytes[2] = {0, 0};
    for (int rep = 0; rep < 3; rep++) {
        for (int z = 0; z < 2; z++) {
            const double t = run_codec(z, dst, dst_cap, cctx, &bytes[z]);
            if (t < best[z])
                best[z] = t;
        }
    }
    printf("{\"files\":%lld,\"bytes\":%zu,\"snappy_s\":%.6f,\"zstd_s\":%.6f,"
           "\"snappy_bytes\":%zu,\"zstd_bytes\":%zu}\n",
           (long long)n_files, len, best[0], best[1], bytes[0], bytes[1]);
    ZSTD_freeCCtx(cctx);
    free(dst);
    free(data);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* bench_parquet.c - times the Parquet writer (encode + dictionary +
 * statistics + compress + framing, into memory) on Sparkify-shaped
 * columns against the bare codec compressing the same values PLAIN, and
 * writes the table to files for bench/parquet_size_vs_pyarrow.py.
 *
 *   bench_parquet [ROWS] [REPEATS] [OUT_DIR]
 *
 * "MB/s" is the PLAIN size of the values (strings: 4-byte length + bytes;
 * int64: 8 bytes) over the wall time; the raw codec compresses those PLAIN
 * bytes in 1 MiB blocks. Medians of REPEATS runs, interleaved. */
#include "fmacros.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zstd.h>

#include <time.h>

#include "lake_common.h"

#define N_COLS 7

static uint64_t rng = 0x853c49e6748fea9bULL;

/* CPU time of this thread: steadier than wall time on a shared machine. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

/* A Zipf-like pick in [0, n): popular items come up far more often. */
static size_t pick(size_t n)
{
    const double u = (double)(rnd() >> 11) / 9007199254740992.0;
    return (size_t)((double)n * u * u * u);
}

static const char *const browsers[][2] = {
    {"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Chrome/",
     " Safari/537.36"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.77.4 "
     "(KHTML, like Gecko) Version/",
     " Safari/537.77.4"},
    {"Mozilla/5.0 (Windows NT 6.3; WOW64; rv:31.0) Gecko/20100101 Firefox/",
     ""},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Ubuntu Chromium/",
     " Chrome/36.0.1985.125 Safari/537.36"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) "
     "AppleWebKit/537.51.2 (KHTML, like Gecko) Version/",
     " Mobile/11D257 Safari/9537.53"},
};
static const char *const cities[] = {
    "San Francisco-Oakland-Hayward", "New York-Newark-Jersey City",
    "Los Angeles-Long Beach-Anaheim", "Chicago-Naperville-Elgin",
    "Atlanta-Sandy Springs-Roswell", "Lansing-East Lansing",
    "Houston-The Woodlands-Sugar Land", "Portland-South Portland",
    "Miami-Fort Lauderdale-West Palm Beach", "Tampa-St. Petersburg",
    "Detroit-Warren-Dearborn", "Red Bluff", "Janesville-Beloit",
    "Phoenix-Mesa-Scottsdale", "Birmingham-Hoover", "Waterloo-Cedar Falls"};
static const char *const states[] = {"CA", "NY-NJ-PA", "CA", "IL-IN-WI", "GA",
                                     "MI", "TX", "ME", "FL", "FL", "MI",
                                     "CA", "WI", "AZ", "AL", "IA"};
static const char *const words[] = {
    "Love", "Night", "Heart", "Fire", "Dream", "Rain", "City", "Girl",
    "Time", "Blue", "Song", "Road", "Home", "Light", "Dance", "Sun",
    "Moon", "Star", "Baby", "World", "Never", "Again", "Forever", "Wild",
    "Young", "Gold", "River", "Summer", "Ghost", "Angel", "Storm", "Sky",
    "Revelry", "Yellow", "Undo", "Canada", "Secrets", "Radioactive"};

typedef struct column {
    const char *name;
    lake_pq_type type;
    int nullable;
    lake_strview *sv;  /* strings */
    int64_t *i64;      /* ints and timestamps */
    uint8_t *valid;
    size_t plain_bytes; /* PLAIN size of the non-null values */
} column;

/* Pools of distinct strings the rows draw from. */
static char **make_pool(size_t n, int kind)
{
    char **pool = malloc(n * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        char tmp[256];
        if (kind == 0) { /* user agents */
            snprintf(tmp, sizeof(tmp), "%s%d.0.%d.%d%s", browsers[i % 5][0],
                     30 + (int)(rnd() % 10), 1000 + (int)(rnd() % 999),
                     (int)(rnd() % 200), browsers[i % 5][1]);
        } else if (kind == 1) { /* locations */
            const size_t c = rnd() % LAKE_ARRAY_LEN(cities);
            snprintf(tmp, sizeof(tmp), "%s%s, %s", cities[c],
                     i < LAKE_ARRAY_LEN(cities) ? "" : " Metro",
                     states[c]);
            if (i >= LAKE_ARRAY_LEN(cities))
                snprintf(tmp + strlen(tmp), sizeof(tmp) - strlen(tmp),
                         " %zu", i);
        } else { /* song titles */
            const size_t nw = 1 + rnd() % 4;
            size_t len = 0;
            for (size_t k = 0; k < nw; k++)
                len += (size_t)snprintf(tmp + len, sizeof(tmp) - len, "%s%s",
                                        k ? " " : "",
                                        words[rnd() % LAKE_ARRAY_LEN(words)]);
            if (i % 3 == 0)
                snprintf(tmp + len, sizeof(tmp) - len, " (%s Mix)",
                         words[rnd() % LAKE_ARRAY_LEN(words)]);
        }
        pool[i] = malloc(strlen(tmp) + 1);
        memcpy(pool[i], tmp, strlen(tmp) + 1);
    }
    return pool;
}

static void make_table(column *cols, size_t n)
{
    static const char *const levels[] = {"free", "paid"};
    char **ua = make_pool(60, 0);
    char **loc = make_pool(400, 1);
    char **title = make_pool(80000, 2);
    const column proto[N_COLS] = {
        {"user_agent", LAKE_PQ_STRING, 1, 0, 0, 0, 0},
        {"location", LAKE_PQ_STRING, 1, 0, 0, 0, 0},
        {"song", LAKE_PQ_STRING, 0, 0, 0, 0, 0},
        {"level", LAKE_PQ_STRING, 0, 0, 0, 0, 0},
        {"start_time", LAKE_PQ_TIMESTAMP_US, 0, 0, 0, 0, 0},
        {"user_id", LAKE_PQ_INT64, 0, 0, 0, 0, 0},
        {"session_id", LAKE_PQ_INT64, 0, 0, 0, 0, 0},
    };
    for (size_t j = 0; j < N_COLS; j++) {
        cols[j] = proto[j];
        if (cols[j].type == LAKE_PQ_STRING)
            cols[j].sv = calloc(n, sizeof(lake_strview));
        else
            cols[j].i64 = calloc(n, sizeof(int64_t));
        cols[j].valid = malloc(n);
    }
    int64_t ts = 1541030400000000LL; /* 2018-11-01 */
    for (size_t i = 0; i < n; i++) {
        const size_t user = pick(1000);
        const char *s[4] = {ua[user % 60], loc[user % 400],
                            title[pick(80000)], levels[user % 7 == 0]};
        for (size_t j = 0; j < 4; j++) {
            cols[j].sv[i] = (lake_strview){s[j], strlen(s[j])};
            cols[j].valid[i] = user != 0; /* logged-out rows: NULL */
        }
        ts += (int64_t)(rnd() % 4000000);
        cols[4].i64[i] = ts;
        cols[5].i64[i] = (int64_t)user + 1;
        cols[6].i64[i] = (int64_t)(i / 20) + (int64_t)(user * 131);
        for (size_t j = 4; j < N_COLS; j++)
            cols[j].valid[i] = 1;
    }
    for (size_t j = 0; j < N_COLS; j++)
        for (size_t i = 0; i < n; i++)
            if (cols[j].valid[i])
                cols[j].plain_bytes +=
                    cols[j].sv ? 4 + cols[j].sv[i].len : 8;
    /* The ETL hands over strings that lie in its input buffers in row
     * order, as Arrow does: copy each column's strings into one arena so
     * that the writer does not pay a cache miss per value that no real
     * input would cost. */
    for (size_t j = 0; j < N_COLS; j++) {
        if (!cols[j].sv)
            continue;
        size_t total = 1;
        for (size_t i = 0; i < n; i++)
            total += cols[j].sv[i].len;
        char *arena = malloc(total);
        char *p = arena;
        for (size_t i = 0; i < n; i++) {
            memcpy(p, cols[j].sv[i].ptr, cols[j].sv[i].len);
            cols[j].sv[i].ptr = p;
            p += cols[j].sv[i].len;
        }
    }
}

/* Write @p cols (or one of them, @p only >= 0) with @p codec into memory
 * (or @p path) and return the seconds taken. */
static double write_table(const column *cols,
                          size_t n,
                          int only,
                          lake_codec codec,
                          const char *path,
                          size_t *out_bytes,
                          char **copy)
{
    lake_pq_column_def defs[N_COLS];
    lake_pq_column_data data[N_COLS];
    size_t k = 0;
    for (size_t j = 0; j < N_COLS; j++) {
        if (only >= 0 && (size_t)only != j)
            continue;
        defs[k] = (lake_pq_column_def){cols[j].name, cols[j].type,
                                       cols[j].nullable};
        data[k].values =
            cols[j].sv ? (const void *)cols[j].sv : (const void *)cols[j].i64;
        data[k].valid = cols[j].nullable ? cols[j].valid : NULL;
        k++;
    }
    lake_error err;
    lake_output *out = NULL;
    const lake_output_opts oo = {.no_fsync = 1};
    lake_status rc = path ? lake_output_open_file(path, &oo, &out, &err)
                          : lake_output_open_memory("bench", NULL, &out, &err);
    lake_pq_writer *w = NULL;
    lake_pq_writer_opts o = {0};
    o.codec = codec;
    const int64_t t0 = cpu_ns();
    if (rc == LAKE_OK)
        rc = lake_pq_writer_new(out, defs, k, &o, &w, &err);
    /* batches of 64k rows, as the ETL hands them over */
    for (size_t done = 0; rc == LAKE_OK && done < n; done += 65536) {
        const size_t b = LAKE_MIN((size_t)65536, n - done);
        lake_pq_column_data slice[N_COLS];
        for (size_t j = 0; j < k; j++) {
            const size_t wb = defs[j].type == LAKE_PQ_STRING
                                  ? sizeof(lake_strview)
                                  : sizeof(int64_t);
            slice[j].values = (const char *)data[j].values + done * wb;
            slice[j].valid = data[j].valid ? data[j].valid + done : NULL;
        }
        rc = lake_pq_writer_write(w, slice, (int64_t)b, &err);
    }
    if (rc == LAKE_OK)
        rc = lake_pq_writer_close(w, &err);
    const double secs = (double)(cpu_ns() - t0) / 1e9;
    if (rc == LAKE_OK && path)
        rc = lake_output_commit(out, &err);
    if (rc != LAKE_OK) {
        fprintf(stderr, "bench_parquet: %s\n", err.message);
        exit(1);
    }
    *out_bytes = (size_t)lake_output_size(out);
    if (copy) {
        size_t len;
        const void *bytes = lake_output_memory_bytes(out, &len);
        *copy = malloc(len + 1);
        memcpy(*copy, bytes, len);
    }
    lake_pq_writer_free(w);
    lake_output_free(out);
    return secs;
}

/* The PLAIN bytes of the selected columns, as one buffer. */
static char *plain_bytes(const column *cols, size_t n, int only, size_t *len)
{
    size_t total = 0;
    for (size_t j = 0; j < N_COLS; j++)
        if (only < 0 || (size_t)only == j)
            total += cols[j].plain_bytes;
    char *buf = malloc(total + 1);
    char *p = buf;
    for (size_t j = 0; j < N_COLS; j++) {
        if (only >= 0 && (size_t)only != j)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (!cols[j].valid[i])
                continue;
            if (cols[j].sv) {
                lake_store_u32le((uint8_t *)p, (uint32_t)cols[j].sv[i].len);
                memcpy(p + 4, cols[j].sv[i].ptr, cols[j].sv[i].len);
                p += 4 + cols[j].sv[i].len;
            } else {
                memcpy(p, &cols[j].i64[i], 8);
                p += 8;
            }
        }
    }
    *len = total;
    return buf;
}

/* Compress @p len bytes in @p block byte blocks with the bare codec. */
static double raw_codec(const char *src,
                        size_t len,
                        size_t block,
                        lake_codec codec,
                        size_t *out_bytes)
{
    const size_t cap = LAKE_MAX(snappy_max_compressed_length(block),
                                ZSTD_compressBound(block));
    char *dst = malloc(cap);
    ZSTD_CCtx *z = ZSTD_createCCtx();
    size_t total = 0;
    const int64_t t0 = cpu_ns();
    for (size_t off = 0; off < len; off += block) {
        const size_t n = LAKE_MIN(block, len - off);
        size_t c = cap;
        if (codec == LAKE_CODEC_SNAPPY)
            snappy_compress(src + off, n, dst, &c);
        else
            c = ZSTD_compressCCtx(z, dst, cap, src + off, n, 1);
        total += c;
    }
    const double secs = (double)(cpu_ns() - t0) / 1e9;
    ZSTD_freeCCtx(z);
    free(dst);
    *out_bytes = total;
    return secs;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

/* Many one-row files, as the songs table partitioned by (year, artist_id)
 * makes: microseconds per file, writer only (memory outputs), with a new
 * writer per file or one writer reopened on each file. */
static double tiny_files(const column *cols,
                         lake_codec codec,
                         int n_files,
                         bool reopen)
{
    lake_pq_column_def defs[N_COLS];
    for (size_t j = 0; j < N_COLS; j++)
        defs[j] = (lake_pq_column_def){cols[j].name, cols[j].type,
                                       cols[j].nullable};
    lake_pq_writer_opts o = {0};
    o.codec = codec;
    lake_pq_writer *w = NULL;
    lake_error err;
    lake_status rc = LAKE_OK;
    const int64_t t0 = cpu_ns();
    for (int f = 0; f < n_files && rc == LAKE_OK; f++) {
        lake_pq_column_data data[N_COLS];
        for (size_t j = 0; j < N_COLS; j++) {
            data[j].values = cols[j].sv ? (const void *)(cols[j].sv + f)
                                        : (const void *)(cols[j].i64 + f);
            data[j].valid = cols[j].nullable ? cols[j].valid + f : NULL;
        }
        lake_output *out = NULL;
        rc = lake_output_open_memory("tiny", NULL, &out, &err);
        if (rc == LAKE_OK && w && reopen) {
            rc = lake_pq_writer_reopen(w, out, &err);
        } else if (rc == LAKE_OK) {
            lake_pq_writer_free(w);
            w = NULL;
            rc = lake_pq_writer_new(out, defs, N_COLS, &o, &w, &err);
        }
        if (rc == LAKE_OK)
            rc = lake_pq_writer_write(w, data, 1, &err);
        if (rc == LAKE_OK)
            rc = lake_pq_writer_close(w, &err);
        lake_output_free(out);
    }
    const double us = (double)(cpu_ns() - t0) / 1e3 / n_files;
    lake_pq_writer_free(w);
    if (rc != LAKE_OK) {
        fprintf(stderr, "bench_parquet: %s\n", err.message);
        exit(1);
    }
    return us;
}

int main(int argc, char **argv)
{
    const size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    const int reps = argc > 2 ? atoi(argv[2]) : 5;
    const char *dir = argc > 3 ? argv[3] : NULL;
    column cols[N_COLS];
    make_table(cols, n);
    static const lake_codec codecs[] = {LAKE_CODEC_SNAPPY, LAKE_CODEC_ZSTD};
    static const char *const codec_names[] = {"snappy", "zstd"};
    printf("rows %zu, median of %d runs, CPU time; MB/s of PLAIN value bytes "
           "and of uncompressed page bytes\n",
           n, reps);
    printf("%-11s %-6s %8s %8s | %7s %7s %5s | %7s %7s %5s | %7s\n",
           "column", "codec", "plainMB", "pagesMB", "writer", "rawcod",
           "ratio", "writer", "rawcod", "ratio", "fileMB");
    for (int only = 0; only <= N_COLS; only++) {
        const int sel = only == N_COLS ? -1 : only;
        size_t plen, pages_len;
        char *plain = plain_bytes(cols, n, sel, &plen);
        char *pages = NULL;
        write_table(cols, n, sel, LAKE_CODEC_NONE, NULL, &pages_len, &pages);
        for (size_t c = 0; c < 2; c++) {
            double tw[32], tr[32], tp[32];
            size_t wbytes = 0, rbytes = 0;
            const int r_max = reps < 32 ? reps : 32;
            for (int r = 0; r < r_max; r++) {
                tw[r] = write_table(cols, n, sel, codecs[c], NULL, &wbytes,
                                    NULL);
                tr[r] = raw_codec(plain, plen, (size_t)1 << 20, codecs[c],
                                  &rbytes);
                tp[r] = raw_codec(pages, pages_len, (size_t)128 << 10,
                                  codecs[c], &rbytes);
            }
            const double w = median(tw, r_max), rp = median(tr, r_max),
                         rg = median(tp, r_max);
            printf("%-11s %-6s %8.1f %8.1f | %7.0f %7.0f %4.0f%% | %7.0f "
                   "%7.0f %4.0f%% | %7.2f\n",
                   sel < 0 ? "TABLE" : cols[sel].name, codec_names[c],
                   (double)plen / 1e6, (double)pages_len / 1e6,
                   (double)plen / 1e6 / w, (double)plen / 1e6 / rp,
                   100.0 * rp / w, (double)pages_len / 1e6 / w,
                   (double)pages_len / 1e6 / rg, 100.0 * rg / w,
                   (double)wbytes / 1e6);
        }
        free(plain);
        free(pages);
    }
    const int n_files = (int)LAKE_MIN(n, (size_t)20000);
    for (size_t c = 0; c < 2; c++) {
        double tn[32], tr[32];
        const int r_max = reps < 32 ? reps : 32;
        for (int r = 0; r < r_max; r++) {
            tn[r] = tiny_files(cols, codecs[c], n_files, false);
            tr[r] = tiny_files(cols, codecs[c], n_files, true);
        }
        printf("one-row files, %d columns, %s: %.1f us per file with a new "
               "writer, %.1f us reopened\n",
               N_COLS, codec_names[c], median(tn, r_max), median(tr, r_max));
    }
    if (dir) {
        for (size_t c = 0; c < 2; c++) {
            char path[1024];
            size_t bytes;
            snprintf(path, sizeof(path), "%s/bench_%s.parquet", dir,
                     codec_names[c]);
            write_table(cols, n, -1, codecs[c], path, &bytes, NULL);
            printf("wrote %s (%zu bytes)\n", path, bytes);
        }
    }
    return 0;
}

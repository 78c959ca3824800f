/* SPDX-License-Identifier: Apache-2.0 */
/* pq_random.c - writes random Parquet tables from a seed, each with a JSON
 * file of the exact values, for python/tests/test_parquet_interop.py.
 *
 *   pq_random OUT_DIR FIRST_SEED COUNT
 *
 * writes OUT_DIR/t<seed>.parquet and OUT_DIR/t<seed>.json for each seed.
 * Seeds 0..5 are fixed shapes (a string over 1 MiB, 0 rows, 1 row, many
 * row groups, every type's extremes, dictionary fallback); the rest are
 * random. In the JSON, strings are hex of their bytes, doubles are hex of
 * their IEEE bits, integers are numbers, NULL is null. */
#include "fmacros.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake.h"

#define MAX_COLS 8

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

typedef struct column {
    lake_pq_column_def def;
    char name[32];
    void *values;
    uint8_t *valid;
    char **strs; /* owned string bytes */
} column;

static const char *const utf8_pieces[] = {
    "a", "Z", " ", "é", "ß", "日本", "語", "🎵", "Ω", "\"", "\\", "/", "ü",
    "Beyoncé", "Motörhead", "\t", "0", "—", "中文", "𝄞"};

/* A valid UTF-8 string of about @p target bytes. */
static char *make_string(size_t target, size_t *len)
{
    char *s = malloc(target + 16);
    size_t n = 0;
    while (n < target) {
        const char *p = utf8_pieces[rnd_below(sizeof(utf8_pieces) / sizeof(utf8_pieces[0]))];
        const size_t k = strlen(p);
        if (n + k > target + 8)
            break;
        memcpy(s + n, p, k);
        n += k;
    }
    *len = n;
    return s;
}

enum { NULLS_NONE, NULLS_ALL, NULLS_SOME, NULLS_ALTERNATE, NULLS_FEW };

static void fill_valid(column *c, int64_t n, int mode)
{
    if (mode == NULLS_NONE && rnd_below(2)) {
        c->valid = NULL; /* no validity array at all */
        return;
    }
    c->valid = malloc((size_t)n + 1);
    for (int64_t i = 0; i < n; i++) {
        switch (mode) {
        case NULLS_ALL:
            c->valid[i] = 0;
            break;
        case NULLS_SOME:
            c->valid[i] = rnd_below(2) != 0;
            break;
        case NULLS_ALTERNATE:
            c->valid[i] = (uint8_t)(i & 1);
            break;
        case NULLS_FEW:
            c->valid[i] = rnd_below(100) != 0;
            break;
        default:
            c->valid[i] = (uint8_t)(1 + rnd_below(200)); /* any non-zero */
            break;
        }
    }
}

static const int64_t i64_extremes[] = {INT64_MIN, INT64_MAX, 0, -1, 1,
                                       INT64_MIN + 1, INT64_MAX - 1};
static const int32_t i32_extremes[] = {INT32_MIN, INT32_MAX, 0, -1, 1};

static double special_double(void)
{
    static const double v[] = {0.0, -0.0, INFINITY, -INFINITY, DBL_MAX,
                               -DBL_MAX, DBL_MIN, 4.9e-324, 1.0, -1.5};
    const uint64_t k = rnd_below(12);
    if (k == 10)
        return NAN;
    if (k == 11)
        return -NAN;
    return v[k];
}

/* Values of column @p c, @p n rows. @p style: 0 random, 1 low
 * cardinality, 2 extremes, 3 unique. */
static void fill_values(column *c, int64_t n, int style)
{
    const size_t rows = (size_t)n + 1;
    switch (c->def.type) {
    case LAKE_PQ_STRING: {
        lake_strview *sv = calloc(rows, sizeof(*sv));
        c->strs = calloc(rows, sizeof(char *));
        for (int64_t i = 0; i < n; i++) {
            size_t len;
            if (style == 1) {
                /* a pool of 5 values, including the empty string */
                static const char *const pool[] = {"", "free", "paid",
                                                   "Mozilla/5.0 (X11)",
                                                   "Zürich, CH"};
                const char *p = pool[rnd_below(5)];
                len = strlen(p);
                c->strs[i] = malloc(len + 1);
                memcpy(c->strs[i], p, len + 1);
            } else if (style == 3) {
                c->strs[i] = malloc(32);
                len = (size_t)snprintf(c->strs[i], 32, "u%016" PRIx64 "é",
                                       rnd());
            } else {
                c->strs[i] = make_string(rnd_below(4) ? rnd_below(20)
                                                      : rnd_below(300),
                                         &len);
            }
            sv[i].ptr = c->strs[i];
            sv[i].len = len;
        }
        c->values = sv;
        break;
    }
    case LAKE_PQ_INT32: {
        int32_t *v = calloc(rows, sizeof(*v));
        for (int64_t i = 0; i < n; i++)
            v[i] = style == 1   ? (int32_t)rnd_below(7) - 3
                   : style == 2 ? i32_extremes[rnd_below(5)]
                                : (int32_t)(uint32_t)rnd();
        c->values = v;
        break;
    }
    case LAKE_PQ_INT64: {
        int64_t *v = calloc(rows, sizeof(*v));
        for (int64_t i = 0; i < n; i++)
            v[i] = style == 1   ? (int64_t)rnd_below(100) * 1000003
                   : style == 2 ? i64_extremes[rnd_below(7)]
                                : (int64_t)rnd();
        c->values = v;
        break;
    }
    case LAKE_PQ_TIMESTAMP_US: {
        /* 1900-01-01 .. 2100-01-01 in microseconds, and the epoch. */
        const int64_t lo = -2208988800LL * 1000000, span = 6311433600LL;
        int64_t *v = calloc(rows, sizeof(*v));
        for (int64_t i = 0; i < n; i++)
            v[i] = style == 1   ? 1541105830796000LL + (int64_t)rnd_below(4)
                   : style == 2 ? (rnd_below(2) ? 0 : lo)
                                : lo + (int64_t)rnd_below((uint64_t)span) *
                                           1000000 +
                                      (int64_t)rnd_below(1000000);
        c->values = v;
        break;
    }
    case LAKE_PQ_DOUBLE: {
        double *v = calloc(rows, sizeof(*v));
        for (int64_t i = 0; i < n; i++)
            v[i] = style == 1 ? (double)rnd_below(5) / 4
                   : style == 2
                       ? special_double()
                       : ((double)(int64_t)rnd() / 1e6);
        c->values = v;
        break;
    }
    }
}

static const char *type_name(lake_pq_type t)
{
    switch (t) {
    case LAKE_PQ_STRING:
        return "string";
    case LAKE_PQ_INT32:
        return "int32";
    case LAKE_PQ_INT64:
        return "int64";
    case LAKE_PQ_DOUBLE:
        return "double";
    case LAKE_PQ_TIMESTAMP_US:
        return "timestamp";
    }
    return "?";
}

static const char *codec_name(lake_codec c)
{
    return c == LAKE_CODEC_ZSTD ? "zstd" : c == LAKE_CODEC_NONE ? "none"
                                                                : "snappy";
}

static void write_json(const char *path,
                       const column *cols,
                       size_t n_cols,
                       int64_t n,
                       const lake_pq_writer_opts *o)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fprintf(f,
            "{\"rows\": %" PRId64 ", \"codec\": \"%s\", "
            "\"row_group_bytes\": %zu, \"page_bytes\": %zu, "
            "\"no_dictionary\": %d, \"columns\": [",
            n, codec_name(o->codec), o->row_group_bytes, o->page_bytes,
            o->no_dictionary);
    for (size_t j = 0; j < n_cols; j++) {
        const column *c = &cols[j];
        fprintf(f, "%s\n{\"name\": \"%s\", \"type\": \"%s\", "
                   "\"nullable\": %s, \"values\": [",
                j ? "," : "", c->name, type_name(c->def.type),
                c->def.nullable ? "true" : "false");
        for (int64_t i = 0; i < n; i++) {
            if (i)
                fputc(',', f);
            if (c->valid && !c->valid[i]) {
                fputs("null", f);
                continue;
            }
            switch (c->def.type) {
            case LAKE_PQ_STRING: {
                const lake_strview *sv = (const lake_strview *)c->values + i;
                fputc('"', f);
                for (size_t k = 0; k < sv->len; k++)
                    fprintf(f, "%02x", (unsigned char)sv->ptr[k]);
                fputc('"', f);
                break;
            }
            case LAKE_PQ_INT32:
                fprintf(f, "%" PRId32, ((const int32_t *)c->values)[i]);
                break;
            case LAKE_PQ_INT64:
            case LAKE_PQ_TIMESTAMP_US:
                fprintf(f, "%" PRId64, ((const int64_t *)c->values)[i]);
                break;
            case LAKE_PQ_DOUBLE: {
                uint64_t bits;
                memcpy(&bits, (const double *)c->values + i, 8);
                fprintf(f, "\"%016" PRIx64 "\"", bits);
                break;
            }
            }
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
    fclose(f);
}

static void die(const char *what, const lake_error *err)
{
    fprintf(stderr, "pq_random: %s: %s\n", what, err->message);
    exit(1);
}

static void make_table(const char *dir, uint64_t seed)
{
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
    column cols[MAX_COLS];
    memset(cols, 0, sizeof(cols));
    lake_pq_writer_opts o = {0};
    o.codec = (lake_codec)(seed % 3);
    size_t n_cols = 1 + rnd_below(MAX_COLS - 2);
    int64_t n;
    const uint64_t k = rnd_below(10);
    n = k < 2 ? (int64_t)rnd_below(5) : k < 8 ? (int64_t)rnd_below(3000)
                                              : (int64_t)rnd_below(30000);
    static const size_t rg_sizes[] = {0, 1, 2000, 60000};
    static const size_t page_sizes[] = {0, 1, 300, 8192};
    static const size_t dict_sizes[] = {0, 16, 2000};
    o.row_group_bytes = rg_sizes[rnd_below(4)];
    o.page_bytes = page_sizes[rnd_below(4)];
    o.dict_max_bytes = dict_sizes[rnd_below(3)];
    o.no_dictionary = rnd_below(4) == 0;
    int styles[MAX_COLS], nulls[MAX_COLS];
    for (size_t j = 0; j < n_cols; j++) {
        cols[j].def.type = (lake_pq_type)rnd_below(5);
        cols[j].def.nullable = (int)rnd_below(2);
        styles[j] = (int)rnd_below(4);
        nulls[j] = cols[j].def.nullable ? (int)rnd_below(5) : NULLS_NONE;
    }
    switch (seed) {
    case 0: /* a string over 1 MiB among short ones */
        n_cols = 2;
        n = 3;
        cols[0].def = (lake_pq_column_def){NULL, LAKE_PQ_STRING, 1};
        cols[1].def = (lake_pq_column_def){NULL, LAKE_PQ_INT64, 0};
        styles[0] = styles[1] = 0;
        nulls[0] = nulls[1] = NULLS_NONE;
        break;
    case 1: /* no rows */
        n = 0;
        break;
    case 2: /* one row */
        n = 1;
        break;
    case 3: /* many row groups and pages */
        n = 5000;
        o.row_group_bytes = 3000;
        o.page_bytes = 200;
        break;
    case 4: /* every type, extremes, every null pattern */
        n_cols = 5;
        n = 400;
        for (size_t j = 0; j < 5; j++) {
            cols[j].def.type = (lake_pq_type)j;
            cols[j].def.nullable = 1;
            styles[j] = 2;
            nulls[j] = (int)j;
        }
        break;
    case 5: /* dictionary that overflows into PLAIN */
        n_cols = 2;
        n = 20000;
        cols[0].def = (lake_pq_column_def){NULL, LAKE_PQ_STRING, 1};
        cols[1].def = (lake_pq_column_def){NULL, LAKE_PQ_INT64, 0};
        styles[0] = 3;
        styles[1] = 3;
        nulls[0] = NULLS_FEW;
        nulls[1] = NULLS_NONE;
        o.dict_max_bytes = 5000;
        o.no_dictionary = 0;
        o.row_group_bytes = 0;
        break;
    default:
        break;
    }
    lake_pq_column_def defs[MAX_COLS];
    for (size_t j = 0; j < n_cols; j++) {
        column *c = &cols[j];
        snprintf(c->name, sizeof(c->name), "c%zu_%s", j,
                 type_name(c->def.type));
        c->def.name = c->name;
        fill_values(c, n, styles[j]);
        fill_valid(c, n, nulls[j]);
        defs[j] = c->def;
    }
    if (seed == 0) {
        lake_strview *sv = cols[0].values;
        free(cols[0].strs[1]);
        cols[0].strs[1] = make_string((1 << 20) + 4321, &sv[1].len);
        sv[1].ptr = cols[0].strs[1];
    }
    const char *keys[] = {"sparkify.table"};
    const char *vals[] = {"random"};
    o.n_kv = 1;
    o.kv_keys = keys;
    o.kv_values = vals;

    char path[1024], tmp[1100];
    snprintf(path, sizeof(path), "%s/t%" PRIu64 ".parquet", dir, seed);
    lake_error err;
    lake_output *out = NULL;
    const lake_output_opts oo = {.no_fsync = 1};
    if (lake_output_open_file(path, &oo, &out, &err) != LAKE_OK)
        die("open", &err);
    lake_pq_writer *w = NULL;
    if (lake_pq_writer_new(out, defs, n_cols, &o, &w, &err) != LAKE_OK)
        die("new", &err);
    int64_t done = 0;
    while (done < n) {
        const int64_t b = 1 + (int64_t)rnd_below((uint64_t)(n - done));
        lake_pq_column_data data[MAX_COLS];
        for (size_t j = 0; j < n_cols; j++) {
            const size_t w_bytes = cols[j].def.type == LAKE_PQ_STRING
                                       ? sizeof(lake_strview)
                                   : cols[j].def.type == LAKE_PQ_INT32 ? 4
                                                                       : 8;
            data[j].values = (const char *)cols[j].values +
                             (size_t)done * w_bytes;
            data[j].valid = cols[j].valid ? cols[j].valid + done : NULL;
        }
        if (lake_pq_writer_write(w, data, b, &err) != LAKE_OK)
            die("write", &err);
        done += b;
    }
    if (lake_pq_writer_close(w, &err) != LAKE_OK)
        die("close", &err);
    if (lake_output_commit(out, &err) != LAKE_OK)
        die("commit", &err);
    lake_pq_writer_free(w);
    lake_output_free(out);
    snprintf(tmp, sizeof(tmp), "%s/t%" PRIu64 ".json", dir, seed);
    write_json(tmp, cols, n_cols, n, &o);
    for (size_t j = 0; j < n_cols; j++) {
        if (cols[j].strs)
            for (int64_t i = 0; i < n; i++)
                free(cols[j].strs[i]);
        free(cols[j].strs);
        free(cols[j].values);
        free(cols[j].valid);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pq_random OUT_DIR FIRST_SEED COUNT\n");
        return 2;
    }
    const uint64_t first = strtoull(argv[2], NULL, 10);
    const uint64_t count = strtoull(argv[3], NULL, 10);
    for (uint64_t s = first; s < first + count; s++)
        make_table(argv[1], s);
    return 0;
}

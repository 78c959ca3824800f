/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_parquet_writer.c - drives the Parquet writer with a schema, options,
 * batches and values taken from the fuzz input, into a memory output, and
 * aborts when a file lacks its frame or an allocation failure leaks.
 *
 * Input layout: [n_cols][codec][flags][page][group][fail_at] then one
 * (type, nullable) byte per column, then rows: per column a validity byte
 * and the value (strings: a length byte and that many bytes); a row that
 * runs out of input ends the table. Batch sizes come from the flags. */
#include "fmacros.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"

#define MAX_COLS 6
#define MAX_ROWS 4096

typedef struct input {
    const uint8_t *p;
    size_t n, i;
} input;

static bool take(input *in, void *out, size_t n)
{
    if (in->n - in->i < n)
        return false;
    memcpy(out, in->p + in->i, n);
    in->i += n;
    return true;
}

static uint8_t take_byte(input *in)
{
    uint8_t b = 0;
    take(in, &b, 1);
    return b;
}

/* ---- a Thrift compact skipper: the footer must parse to its length ---- */

typedef struct tc_in {
    const uint8_t *p;
    size_t n, i;
    bool bad;
} tc_in;

static uint64_t tc_varint(tc_in *r)
{
    uint64_t v = 0;
    for (int s = 0; s < 64 && r->i < r->n; s += 7) {
        const uint8_t b = r->p[r->i++];
        v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static int64_t tc_zz(tc_in *r)
{
    const uint64_t v = tc_varint(r);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void tc_skip(tc_in *r, int type, int depth);

static void tc_skip_struct(tc_in *r, int depth, int16_t want, int64_t *out)
{
    int16_t last = 0;
    while (!r->bad && r->i < r->n) {
        const uint8_t h = r->p[r->i++];
        if (h == 0)
            return;
        last = (h >> 4) ? (int16_t)(last + (h >> 4)) : (int16_t)tc_zz(r);
        if (want && last == want && (h & 0x0f) == 6) {
            *out = tc_zz(r);
            continue;
        }
        tc_skip(r, h & 0x0f, depth + 1);
    }
    r->bad = true;
}

static void tc_skip(tc_in *r, int type, int depth)
{
    if (depth > 32) {
        r->bad = true;
        return;
    }
    switch (type) {
    case 1:
    case 2:
        return;
    case 4:
    case 5:
    case 6:
        tc_varint(r);
        return;
    case 8: {
        const uint64_t n = tc_varint(r);
        if (n > r->n - r->i)
            r->bad = true;
        else
            r->i += (size_t)n;
        return;
    }
    case 9: {
        if (r->i >= r->n) {
            r->bad = true;
            return;
        }
        const uint8_t h = r->p[r->i++];
        uint64_t n = h >> 4;
        if (n == 15)
            n = tc_varint(r);
        for (uint64_t k = 0; k < n && !r->bad; k++)
            tc_skip(r, h & 0x0f, depth + 1);
        return;
    }
    case 12:
        tc_skip_struct(r, depth, 0, NULL);
        return;
    default:
        r->bad = true;
    }
}

typedef struct table {
    size_t n_cols;
    lake_pq_column_def defs[MAX_COLS];
    char names[MAX_COLS][8];
    void *values[MAX_COLS];
    uint8_t *valid[MAX_COLS];
    int64_t n_rows;
} table;

static void parse_rows(input *in, table *t)
{
    for (size_t j = 0; j < t->n_cols; j++) {
        const size_t w = t->defs[j].type == LAKE_PQ_STRING
                             ? sizeof(lake_strview)
                         : t->defs[j].type == LAKE_PQ_INT32 ? 4
                                                            : 8;
        t->values[j] = calloc(MAX_ROWS, w);
        t->valid[j] = calloc(MAX_ROWS, 1);
    }
    for (t->n_rows = 0; t->n_rows < MAX_ROWS; t->n_rows++) {
        const int64_t r = t->n_rows;
        for (size_t j = 0; j < t->n_cols; j++) {
            uint8_t v;
            if (!take(in, &v, 1))
                return;
            /* a required column never gets a NULL from the fuzzer, except
             * when the byte asks for it (a tested error path) */
            t->valid[j][r] = t->defs[j].nullable ? (v & 1) : v != 0xff;
            switch (t->defs[j].type) {
            case LAKE_PQ_STRING: {
                const size_t len = take_byte(in);
                lake_strview *sv = (lake_strview *)t->values[j] + r;
                const size_t avail = in->n - in->i;
                sv->len = len < avail ? len : avail;
                sv->ptr = (const char *)in->p + in->i;
                in->i += sv->len;
                break;
            }
            case LAKE_PQ_INT32:
                take(in, (int32_t *)t->values[j] + r, 4);
                break;
            case LAKE_PQ_DOUBLE:
                take(in, (double *)t->values[j] + r, 8);
                break;
            case LAKE_PQ_INT64:
            case LAKE_PQ_TIMESTAMP_US:
                take(in, (int64_t *)t->values[j] + r, 8);
                break;
            }
        }
    }
}

/* Write @p t; @p fa may be NULL. Return the status; abort on a broken
 * file. */
static lake_status write_table(const table *t,
                               const lake_pq_writer_opts *base,
                               uint8_t flags,
                               lake_failing_alloc *fa)
{
    lake_pq_writer_opts o = *base;
    o.alloc = fa ? &fa->base : NULL;
    const lake_output_opts oo = {.alloc = o.alloc, .no_fsync = 1};
    lake_output *out = NULL;
    lake_pq_writer *w = NULL;
    lake_error err;
    lake_status rc = lake_output_open_memory("fuzz.parquet", &oo, &out, &err);
    if (rc == LAKE_OK)
        rc = lake_pq_writer_new(out, t->defs, t->n_cols, &o, &w, &err);
    int64_t done = 0;
    const int64_t batch = 1 + (flags >> 4) * 37;
    while (rc == LAKE_OK && done < t->n_rows) {
        const int64_t n =
            done + batch <= t->n_rows ? batch : t->n_rows - done;
        lake_pq_column_data cols[MAX_COLS];
        for (size_t j = 0; j < t->n_cols; j++) {
            const size_t wb = t->defs[j].type == LAKE_PQ_STRING
                                  ? sizeof(lake_strview)
                              : t->defs[j].type == LAKE_PQ_INT32 ? 4
                                                                 : 8;
            cols[j].values = (const char *)t->values[j] + (size_t)done * wb;
            cols[j].valid = (flags & 8) && !t->defs[j].nullable
                                ? NULL
                                : t->valid[j] + done;
        }
        rc = lake_pq_writer_write(w, cols, n, &err);
        done += n;
    }
    if (rc == LAKE_OK)
        rc = lake_pq_writer_close(w, &err);
    if (rc == LAKE_OK) {
        size_t len;
        const uint8_t *p = lake_output_memory_bytes(out, &len);
        if (len < 12 || memcmp(p, "PAR1", 4) != 0 ||
            memcmp(p + len - 4, "PAR1", 4) != 0)
            abort();
        const uint32_t flen = (uint32_t)p[len - 8] |
                              (uint32_t)p[len - 7] << 8 |
                              (uint32_t)p[len - 6] << 16 |
                              (uint32_t)p[len - 5] << 24;
        if ((size_t)flen + 12 > len)
            abort();
        /* FileMetaData parses to exactly its length; num_rows agrees */
        tc_in r = {p + len - 8 - flen, flen, 0, false};
        int64_t num_rows = -1;
        tc_skip_struct(&r, 0, 3, &num_rows);
        if (r.bad || r.i != flen || num_rows != t->n_rows)
            abort();
        if (lake_pq_writer_rows(w) != t->n_rows)
            abort();
    } else if (err.message[0] == '\0') {
        abort(); /* every failure explains itself */
    }
    lake_pq_writer_free(w);
    lake_output_free(out);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = {data, size, 0};
    uint8_t hdr[6] = {0};
    if (!take(&in, hdr, sizeof(hdr)))
        return 0;
    table t;
    memset(&t, 0, sizeof(t));
    t.n_cols = 1 + hdr[0] % MAX_COLS;
    lake_pq_writer_opts o = {0};
    o.codec = (lake_codec)(hdr[1] % 3);
    o.zstd_level = hdr[1] >> 6;
    o.no_dictionary = hdr[2] & 1;
    o.dict_max_bytes = (hdr[2] & 2) ? 1 + hdr[5] : 0;
    o.page_bytes = hdr[3] ? (size_t)hdr[3] * 16 : 0;
    o.row_group_bytes = hdr[4] ? (size_t)hdr[4] * 64 : 0;
    for (size_t j = 0; j < t.n_cols; j++) {
        const uint8_t b = take_byte(&in);
        t.defs[j].type = (lake_pq_type)(b % 5);
        t.defs[j].nullable = (b >> 3) & 1;
        t.names[j][0] = 'c';
        t.names[j][1] = (char)('0' + j);
        t.defs[j].name = t.names[j];
    }
    parse_rows(&in, &t);
    const lake_status rc = write_table(&t, &o, hdr[2], NULL);
    if (rc != LAKE_OK && rc != LAKE_EINVAL)
        abort(); /* only a NULL in a required column may fail */
    if (hdr[2] & 4) {
        /* the same table with one allocation failing: a clean ENOMEM */
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, hdr[5]);
        const lake_status frc = write_table(&t, &o, hdr[2], &fa);
        if (fa.n_live != 0)
            abort();
        if (fa.n_failed && frc != LAKE_ENOMEM)
            abort();
        if (!fa.n_failed && frc != rc)
            abort();
    }
    for (size_t j = 0; j < t.n_cols; j++) {
        free(t.values[j]);
        free(t.valid[j]);
    }
    return 0;
}

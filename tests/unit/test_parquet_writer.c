/* SPDX-License-Identifier: Apache-2.0 */
/* test_parquet_writer.c - the Parquet writer: file layout read back with a
 * small Thrift compact reader written here (magic, footer length, pages,
 * chunk sizes), statistics, dictionary fallback, every error path, and an
 * allocation-failure sweep over new/write/close. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "lake_output_impl.h"
#include "parquet/parquet_format.h"

/* ---- a small Thrift compact reader ---- */

typedef struct rd {
    const uint8_t *p;
    size_t n, i;
} rd;

static uint64_t rd_varint(rd *r)
{
    uint64_t v = 0;
    for (int s = 0; s < 64; s += 7) {
        assert_true(r->i < r->n);
        const uint8_t b = r->p[r->i++];
        v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80))
            return v;
    }
    fail_msg("bad varint");
    return 0;
}

static int64_t rd_zz(rd *r)
{
    const uint64_t v = rd_varint(r);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void rd_skip(rd *r, int type);

/* Read a list header: element type and count. */
static size_t rd_list(rd *r, int *elem)
{
    assert_true(r->i < r->n);
    const uint8_t h = r->p[r->i++];
    *elem = h & 0x0f;
    size_t n = h >> 4;
    if (n == 15)
        n = (size_t)rd_varint(r);
    return n;
}

static void rd_skip_struct(rd *r)
{
    int16_t last = 0;
    for (;;) {
        assert_true(r->i < r->n);
        const uint8_t h = r->p[r->i++];
        if (h == 0)
            return;
        const int type = h & 0x0f;
        last = (h >> 4) ? (int16_t)(last + (h >> 4)) : (int16_t)rd_zz(r);
        rd_skip(r, type);
    }
}

static void rd_skip(rd *r, int type)
{
    switch (type) {
    case LAKE_TC_TRUE:
    case LAKE_TC_FALSE:
        break;
    case LAKE_TC_BYTE:
        r->i++;
        break;
    case LAKE_TC_I16:
    case LAKE_TC_I32:
    case LAKE_TC_I64:
        rd_varint(r);
        break;
    case LAKE_TC_DOUBLE:
        r->i += 8;
        break;
    case LAKE_TC_BINARY: {
        const uint64_t n = rd_varint(r);
        r->i += (size_t)n;
        break;
    }
    case LAKE_TC_LIST:
    case LAKE_TC_SET: {
        int elem;
        const size_t n = rd_list(r, &elem);
        for (size_t k = 0; k < n; k++)
            rd_skip(r, elem);
        break;
    }
    case LAKE_TC_STRUCT:
        rd_skip_struct(r);
        break;
    default:
        fail_msg("unexpected type %d", type);
    }
    assert_true(r->i <= r->n);
}

/* Position @p r at field @p id of the struct starting at @p r's position
 * and return its type, or -1 (position undefined) when absent. A boolean
 * field returns LAKE_TC_TRUE or LAKE_TC_FALSE. */
static int rd_field(rd *r, int16_t id)
{
    int16_t last = 0;
    for (;;) {
        assert_true(r->i < r->n);
        const uint8_t h = r->p[r->i++];
        if (h == 0)
            return -1;
        const int type = h & 0x0f;
        last = (h >> 4) ? (int16_t)(last + (h >> 4)) : (int16_t)rd_zz(r);
        if (last == id)
            return type;
        rd_skip(r, type);
    }
}

/* The value of integer field @p id of the struct at @p start, or
 * @p missing. */
static int64_t rd_int(const rd *at, int16_t id, int64_t missing)
{
    rd r = *at;
    const int t = rd_field(&r, id);
    if (t < 0)
        return missing;
    assert_true(t == LAKE_TC_I16 || t == LAKE_TC_I32 || t == LAKE_TC_I64);
    return rd_zz(&r);
}

/* A reader at the struct value of field @p id (which must exist). */
static rd rd_struct(const rd *at, int16_t id)
{
    rd r = *at;
    assert_int_equal(rd_field(&r, id), LAKE_TC_STRUCT);
    return r;
}

static bool rd_has(const rd *at, int16_t id)
{
    rd r = *at;
    return rd_field(&r, id) >= 0;
}

/* The bytes of binary field @p id; NULL when absent. */
static const uint8_t *rd_bin(const rd *at, int16_t id, size_t *len)
{
    rd r = *at;
    if (rd_field(&r, id) != LAKE_TC_BINARY)
        return NULL;
    *len = (size_t)rd_varint(&r);
    return r.p + r.i;
}

/* ---- helpers ---- */

typedef struct parsed {
    const uint8_t *file;
    size_t size;
    rd fmd;          /* at FileMetaData */
    size_t n_rg;
    rd rg[64];       /* at each RowGroup */
} parsed;

/* Check magic and footer length, and index the row groups. */
static void parse_file(const void *bytes, size_t size, parsed *out)
{
    assert_true(size >= 12);
    const uint8_t *p = bytes;
    assert_memory_equal(p, "PAR1", 4);
    assert_memory_equal(p + size - 4, "PAR1", 4);
    const uint32_t flen = (uint32_t)p[size - 8] | (uint32_t)p[size - 7] << 8 |
                          (uint32_t)p[size - 6] << 16 |
                          (uint32_t)p[size - 5] << 24;
    assert_true(flen + 12 <= size);
    out->file = p;
    out->size = size;
    out->fmd = (rd){p, size - 8, size - 8 - flen};
    /* The footer parses to exactly its length. */
    rd whole = out->fmd;
    rd_skip_struct(&whole);
    assert_int_equal(whole.i, size - 8);
    rd r = out->fmd;
    assert_int_equal(rd_field(&r, LAKE_PQ_FMD_ROW_GROUPS), LAKE_TC_LIST);
    int elem;
    out->n_rg = rd_list(&r, &elem);
    assert_true(out->n_rg <= 64);
    for (size_t i = 0; i < out->n_rg; i++) {
        out->rg[i] = r;
        rd_skip_struct(&r);
    }
}

/* Reader at ColumnMetaData of column @p j of row group @p g. */
static rd column_meta(const parsed *f, size_t g, size_t j)
{
    rd r = f->rg[g];
    assert_int_equal(rd_field(&r, LAKE_PQ_RG_COLUMNS), LAKE_TC_LIST);
    int elem;
    const size_t n = rd_list(&r, &elem);
    assert_true(j < n);
    for (size_t k = 0; k < j; k++)
        rd_skip_struct(&r);
    return rd_struct(&r, LAKE_PQ_CC_META_DATA);
}

/* Encodings of a ColumnMetaData as a bit set. */
static unsigned column_encodings(const rd *cmd)
{
    rd r = *cmd;
    assert_int_equal(rd_field(&r, LAKE_PQ_CMD_ENCODINGS), LAKE_TC_LIST);
    int elem;
    const size_t n = rd_list(&r, &elem);
    unsigned set = 0;
    for (size_t k = 0; k < n; k++)
        set |= 1u << rd_zz(&r);
    return set;
}

typedef struct page_walk {
    int n_dict, n_data, n_data_dict, n_data_plain;
    int64_t values;
} page_walk;

/* Walk the pages of a column chunk from its first page, checking that
 * they tile the chunk exactly and that a dictionary page comes first. */
static page_walk walk_pages(const parsed *f, const rd *cmd)
{
    page_walk pw = {0};
    const int64_t dict_off = rd_int(cmd, LAKE_PQ_CMD_DICT_PAGE_OFFSET, -1);
    const int64_t data_off = rd_int(cmd, LAKE_PQ_CMD_DATA_PAGE_OFFSET, -1);
    const int64_t size = rd_int(cmd, LAKE_PQ_CMD_COMPRESSED, -1);
    const int64_t start = dict_off >= 0 ? dict_off : data_off;
    assert_true(start >= 4 && size > 0);
    int64_t pos = start;
    while (pos < start + size) {
        rd h = {f->file, f->size, (size_t)pos};
        const int64_t type = rd_int(&h, LAKE_PQ_PH_TYPE, -1);
        const int64_t csize = rd_int(&h, LAKE_PQ_PH_COMPRESSED, -1);
        rd end = h;
        rd_skip_struct(&end);
        if (type == LAKE_PQ_PAGE_DICTIONARY) {
            assert_int_equal(pos, start);
            assert_int_equal(pw.n_data, 0);
            pw.n_dict++;
        } else {
            assert_int_equal(type, LAKE_PQ_PAGE_DATA);
            if (pw.n_data == 0)
                assert_int_equal(pos, data_off);
            const rd dph = rd_struct(&h, LAKE_PQ_PH_DATA_HEADER);
            pw.values += rd_int(&dph, LAKE_PQ_DPH_NUM_VALUES, -1);
            const int64_t enc = rd_int(&dph, LAKE_PQ_DPH_ENCODING, -1);
            if (enc == LAKE_PQ_ENC_RLE_DICTIONARY)
                pw.n_data_dict++;
            else
                pw.n_data_plain++;
            pw.n_data++;
            assert_true(rd_has(&dph, LAKE_PQ_DPH_STATISTICS));
        }
        pos = (int64_t)end.i + csize;
    }
    assert_int_equal(pos, start + size);
    return pw;
}

typedef struct memfile {
    lake_output *out;
    lake_pq_writer *w;
    const uint8_t *bytes;
    size_t size;
} memfile;

static void open_mem(memfile *m,
                     const lake_pq_column_def *defs,
                     size_t n,
                     const lake_pq_writer_opts *o)
{
    lake_error err;
    memset(m, 0, sizeof(*m));
    assert_int_equal(lake_output_open_memory("mem.parquet", NULL, &m->out,
                                             &err),
                     LAKE_OK);
    assert_int_equal(lake_pq_writer_new(m->out, defs, n, o, &m->w, &err),
                     LAKE_OK);
}

static void close_mem(memfile *m)
{
    lake_error err;
    const lake_status rc = lake_pq_writer_close(m->w, &err);
    if (rc != LAKE_OK)
        fail_msg("%s", err.message);
    m->bytes = lake_output_memory_bytes(m->out, &m->size);
}

static void free_mem(memfile *m)
{
    lake_pq_writer_free(m->w);
    lake_output_free(m->out);
}

/* ---- layout ---- */

static void test_parquet_writer__empty_file_layout(void **state)
{
    (void)state;
    const lake_pq_column_def defs[] = {{"a", LAKE_PQ_STRING, 1}};
    memfile m;
    open_mem(&m, defs, 1, NULL);
    close_mem(&m);
    assert_int_equal(lake_pq_writer_rows(m.w), 0);
    parsed f;
    parse_file(m.bytes, m.size, &f);
    assert_int_equal(f.n_rg, 0);
    assert_int_equal(rd_int(&f.fmd, LAKE_PQ_FMD_NUM_ROWS, -1), 0);
    assert_int_equal(rd_int(&f.fmd, LAKE_PQ_FMD_VERSION, -1), 2);
    size_t len;
    const uint8_t *cb = rd_bin(&f.fmd, LAKE_PQ_FMD_CREATED_BY, &len);
    assert_non_null(cb);
    static const char want[] =
        "sparkify version " LAKE_VERSION_STRING " (build liblake)";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(cb, want, len);
    free_mem(&m);
}

static void test_parquet_writer__pages_and_footer_layout(void **state)
{
    (void)state;
    enum { N = 5000 };
    const lake_pq_column_def defs[] = {
        {"level", LAKE_PQ_STRING, 1},
        {"id", LAKE_PQ_INT64, 0},
        {"ts", LAKE_PQ_TIMESTAMP_US, 0},
    };
    static lake_strview s[N];
    static int64_t id[N], ts[N];
    static uint8_t valid[N];
    for (int i = 0; i < N; i++) {
        s[i] = (lake_strview){i % 3 ? "paid" : "free", 4};
        valid[i] = i % 10 != 0;
        id[i] = i;
        ts[i] = 1541105830796000LL + i;
    }
    lake_pq_writer_opts o = {0};
    o.page_bytes = 1000;
    o.row_group_bytes = 30000;
    o.codec = LAKE_CODEC_ZSTD;
    memfile m;
    open_mem(&m, defs, 3, &o);
    const lake_pq_column_data cols[] = {{s, valid}, {id, NULL}, {ts, NULL}};
    lake_error err;
    assert_int_equal(lake_pq_writer_write(m.w, cols, N, &err), LAKE_OK);
    close_mem(&m);
    assert_int_equal(lake_pq_writer_rows(m.w), N);
    parsed f;
    parse_file(m.bytes, m.size, &f);
    assert_int_equal(rd_int(&f.fmd, LAKE_PQ_FMD_NUM_ROWS, -1), N);
    assert_true(f.n_rg > 1);
    int64_t rows = 0, prev_end = 4;
    for (size_t g = 0; g < f.n_rg; g++) {
        const int64_t rg_rows = rd_int(&f.rg[g], LAKE_PQ_RG_NUM_ROWS, -1);
        assert_true(rg_rows > 0);
        assert_int_equal(rd_int(&f.rg[g], LAKE_PQ_RG_ORDINAL, -1),
                         (int64_t)g);
        int64_t compressed = 0;
        for (size_t j = 0; j < 3; j++) {
            const rd cmd = column_meta(&f, g, j);
            assert_int_equal(rd_int(&cmd, LAKE_PQ_CMD_NUM_VALUES, -1),
                             rg_rows);
            assert_int_equal(rd_int(&cmd, LAKE_PQ_CMD_CODEC, -1),
                             LAKE_PQ_CODEC_ZSTD);
            const page_walk pw = walk_pages(&f, &cmd);
            assert_int_equal(pw.values, rg_rows);
            const int64_t start =
                rd_has(&cmd, LAKE_PQ_CMD_DICT_PAGE_OFFSET)
                    ? rd_int(&cmd, LAKE_PQ_CMD_DICT_PAGE_OFFSET, -1)
                    : rd_int(&cmd, LAKE_PQ_CMD_DATA_PAGE_OFFSET, -1);
            assert_int_equal(start, prev_end); /* chunks are contiguous */
            prev_end = start + rd_int(&cmd, LAKE_PQ_CMD_COMPRESSED, -1);
            compressed += rd_int(&cmd, LAKE_PQ_CMD_COMPRESSED, -1);
            const unsigned enc = column_encodings(&cmd);
            if (j == 0) {
                /* strings: dictionary with levels */
                assert_int_equal(pw.n_dict, 1);
                assert_int_equal(pw.n_data_plain, 0);
                assert_int_equal(enc, 1u << LAKE_PQ_ENC_PLAIN |
                                          1u << LAKE_PQ_ENC_RLE |
                                          1u << LAKE_PQ_ENC_RLE_DICTIONARY);
            }
            assert_true(pw.n_data >= 1);
        }
        assert_int_equal(rd_int(&f.rg[g], LAKE_PQ_RG_TOTAL_COMPRESSED, -1),
                         compressed);
        rows += rg_rows;
    }
    assert_int_equal(rows, N);
    /* The footer starts where the last chunk ends. */
    assert_int_equal((size_t)prev_end, f.fmd.i);
    /* Several pages per chunk in the first group (page_bytes = 1000). */
    const rd cmd = column_meta(&f, 0, 1);
    assert_true(walk_pages(&f, &cmd).n_data > 1);
    free_mem(&m);
}

static void test_parquet_writer__schema_and_kv_in_footer(void **state)
{
    (void)state;
    const lake_pq_column_def defs[] = {{"x", LAKE_PQ_INT32, 0},
                                       {"é", LAKE_PQ_DOUBLE, 1}};
    const char *keys[] = {"k1", "k2"};
    const char *vals[] = {"v1", NULL};
    lake_pq_writer_opts o = {0};
    o.n_kv = 2;
    o.kv_keys = keys;
    o.kv_values = vals;
    o.codec = LAKE_CODEC_NONE;
    memfile m;
    open_mem(&m, defs, 2, &o);
    close_mem(&m);
    parsed f;
    parse_file(m.bytes, m.size, &f);
    rd r = f.fmd;
    assert_int_equal(rd_field(&r, LAKE_PQ_FMD_SCHEMA), LAKE_TC_LIST);
    int elem;
    assert_int_equal(rd_list(&r, &elem), 3);
    assert_int_equal(rd_int(&r, LAKE_PQ_SE_NUM_CHILDREN, -1), 2);
    rd_skip_struct(&r);
    size_t len;
    const uint8_t *name = rd_bin(&r, LAKE_PQ_SE_NAME, &len);
    assert_int_equal(len, 1);
    assert_memory_equal(name, "x", 1);
    assert_int_equal(rd_int(&r, LAKE_PQ_SE_TYPE, -1), LAKE_PQ_T_INT32);
    assert_int_equal(rd_int(&r, LAKE_PQ_SE_REPETITION, -1), LAKE_PQ_REQUIRED);
    rd_skip_struct(&r);
    assert_int_equal(rd_int(&r, LAKE_PQ_SE_TYPE, -1), LAKE_PQ_T_DOUBLE);
    assert_int_equal(rd_int(&r, LAKE_PQ_SE_REPETITION, -1), LAKE_PQ_OPTIONAL);
    /* key-value metadata: the writer's two pairs, then the user's */
    r = f.fmd;
    assert_int_equal(rd_field(&r, LAKE_PQ_FMD_KV), LAKE_TC_LIST);
    assert_int_equal(rd_list(&r, &elem), 4);
    const char *want[4][2] = {{"writer.name", "sparkify liblake"},
                              {"writer.version", LAKE_VERSION_STRING},
                              {"k1", "v1"},
                              {"k2", NULL}};
    for (int i = 0; i < 4; i++) {
        const uint8_t *k = rd_bin(&r, LAKE_PQ_KV_KEY, &len);
        assert_int_equal(len, strlen(want[i][0]));
        assert_memory_equal(k, want[i][0], len);
        const uint8_t *v = rd_bin(&r, LAKE_PQ_KV_VALUE, &len);
        if (want[i][1]) {
            assert_non_null(v);
            assert_memory_equal(v, want[i][1], len);
        } else {
            assert_null(v);
        }
        rd_skip_struct(&r);
    }
    /* column_orders: one TypeDefinedOrder per column */
    r = f.fmd;
    assert_int_equal(rd_field(&r, LAKE_PQ_FMD_COLUMN_ORDERS), LAKE_TC_LIST);
    assert_int_equal(rd_list(&r, &elem), 2);
    assert_int_equal(elem, LAKE_TC_STRUCT);
    assert_true(rd_has(&r, 1));
    free_mem(&m);
}

/* ---- whole files against hand-computed bytes ---- */

/* The footer tail every file here shares: key-value metadata, created_by
 * and one TypeDefinedOrder column order. The version is LAKE_VERSION_STRING
 * (checked below): update these bytes with it. */
#define KV_AND_TAIL                                                           \
    0x19, 0x2c,                                /* 5: list of 2 KeyValue */    \
        0x18, 0x0b, 'w', 'r', 'i', 't', 'e', 'r', '.', 'n', 'a', 'm', 'e',    \
        0x18, 0x10, 's', 'p', 'a', 'r', 'k', 'i', 'f', 'y', ' ', 'l', 'i',    \
        'b', 'l', 'a', 'k', 'e', 0x00,                                        \
        0x18, 0x0e, 'w', 'r', 'i', 't', 'e', 'r', '.', 'v', 'e', 'r', 's',    \
        'i', 'o', 'n', 0x18, 0x05, '0', '.', '4', '.', '0', 0x00,             \
    0x18, 0x26, 's', 'p', 'a', 'r', 'k', 'i', 'f', 'y', ' ', 'v', 'e', 'r',   \
        's', 'i', 'o', 'n', ' ', '0', '.', '4', '.', '0', ' ', '(', 'b', 'u', \
        'i', 'l', 'd', ' ', 'l', 'i', 'b', 'l', 'a', 'k', 'e', ')', /* 6 */   \
    0x19, 0x1c, 0x1c, 0x00, 0x00,          /* 7: [ColumnOrder{TYPE_ORDER}] */ \
    0x00

#define SCHEMA_ONE_INT32_A                                                    \
    0x19, 0x2c,                                   /* 2: list of 2 elements */ \
        0x48, 0x06, 's', 'c', 'h', 'e', 'm', 'a', 0x15, 0x02, 0x00,           \
        0x15, 0x02, 0x25, 0x00, 0x18, 0x01, 'a', 0x00

static void expect_file(const memfile *m, const uint8_t *footer, size_t n)
{
    assert_string_equal(LAKE_VERSION_STRING, "0.4.0"); /* KV_AND_TAIL's */
    assert_true(m->size >= n + 12);
    assert_memory_equal(m->bytes + m->size - 8 - n, footer, n);
    const uint8_t *len = m->bytes + m->size - 8;
    assert_int_equal(len[0] | len[1] << 8 | len[2] << 16 | len[3] << 24, n);
    assert_memory_equal(m->bytes + m->size - 4, "PAR1", 4);
}

static void test_parquet_writer__known_bytes_empty_file(void **state)
{
    (void)state;
    const lake_pq_column_def defs[] = {{"a", LAKE_PQ_INT32, 0}};
    lake_pq_writer_opts o = {0};
    o.codec = LAKE_CODEC_NONE;
    memfile m;
    open_mem(&m, defs, 1, &o);
    close_mem(&m);
    static const uint8_t footer[] = {
        0x15, 0x04,          /* 1: version 2 */
        SCHEMA_ONE_INT32_A,  /* 2: schema */
        0x16, 0x00,          /* 3: num_rows 0 */
        0x19, 0x0c,          /* 4: no row groups */
        KV_AND_TAIL};
    assert_int_equal(m.size, 4 + sizeof(footer) + 8);
    assert_memory_equal(m.bytes, "PAR1", 4);
    expect_file(&m, footer, sizeof(footer));
    free_mem(&m);
}

static void test_parquet_writer__known_bytes_one_int32_row(void **state)
{
    (void)state;
    const lake_pq_column_def defs[] = {{"a", LAKE_PQ_INT32, 0}};
    lake_pq_writer_opts o = {0};
    o.codec = LAKE_CODEC_NONE;
    o.no_dictionary = 1;
    memfile m;
    open_mem(&m, defs, 1, &o);
    const int32_t v[] = {7};
    const lake_pq_column_data cols[] = {{v, NULL}};
    lake_error err;
    assert_int_equal(lake_pq_writer_write(m.w, cols, 1, &err), LAKE_OK);
    close_mem(&m);
#define STATS_7                                                               \
    0x36, 0x00,                           /* 3: null_count 0 */               \
        0x28, 0x04, 0x07, 0x00, 0x00, 0x00, /* 5: max_value 7 */              \
        0x18, 0x04, 0x07, 0x00, 0x00, 0x00, /* 6: min_value 7 */              \
        0x11, 0x11, 0x00                  /* 7, 8: exact; stop */
    static const uint8_t page[] = {
        'P', 'A', 'R', '1',
        0x15, 0x00,       /* PageHeader 1: DATA_PAGE */
        0x15, 0x08,       /* 2: uncompressed_page_size 4 */
        0x15, 0x08,       /* 3: compressed_page_size 4 */
        0x2c,             /* 5: DataPageHeader */
        0x15, 0x02,       /*   1: num_values 1 */
        0x15, 0x00,       /*   2: PLAIN */
        0x15, 0x06,       /*   3: definition levels RLE */
        0x15, 0x06,       /*   4: repetition levels RLE */
        0x1c, STATS_7,    /*   5: Statistics */
        0x00, 0x00,       /* stop DataPageHeader, PageHeader */
        0x07, 0x00, 0x00, 0x00}; /* the value, PLAIN */
    assert_memory_equal(m.bytes, page, sizeof(page));
    /* 35 header bytes + 4 value bytes = 39 (zig-zag 0x4e) */
    static const uint8_t footer[] = {
        0x15, 0x04, SCHEMA_ONE_INT32_A,
        0x16, 0x02,                 /* 3: num_rows 1 */
        0x19, 0x1c,                 /* 4: one RowGroup */
          0x19, 0x1c,               /*   1: one ColumnChunk */
            0x26, 0x08,             /*     2: file_offset 4 */
            0x1c,                   /*     3: ColumnMetaData */
              0x15, 0x02,           /*       1: INT32 */
              0x19, 0x15, 0x00,     /*       2: encodings [PLAIN] */
              0x19, 0x18, 0x01, 'a', /*      3: path ["a"] */
              0x15, 0x00,           /*       4: UNCOMPRESSED */
              0x16, 0x02,           /*       5: num_values 1 */
              0x16, 0x4e,           /*       6: total_uncompressed 39 */
              0x16, 0x4e,           /*       7: total_compressed 39 */
              0x26, 0x08,           /*       9: data_page_offset 4 */
              0x3c, STATS_7,        /*      12: statistics */
              0x19, 0x1c,           /*      13: one PageEncodingStats */
                0x15, 0x00, 0x15, 0x00, 0x15, 0x02, 0x00,
              0x00,                 /*       stop ColumnMetaData */
            0x00,                   /*     stop ColumnChunk */
          0x16, 0x4e,               /*   2: total_byte_size 39 */
          0x16, 0x02,               /*   3: num_rows 1 */
          0x26, 0x08,               /*   5: file_offset 4 */
          0x16, 0x4e,               /*   6: total_compressed_size 39 */
          0x14, 0x00,               /*   7: ordinal 0 (i16) */
          0x00,                     /*   stop RowGroup */
        KV_AND_TAIL};
#undef STATS_7
    assert_int_equal(m.size, sizeof(page) + sizeof(footer) + 8);
    expect_file(&m, footer, sizeof(footer));
    free_mem(&m);
}

static void test_parquet_writer__known_bytes_dictionary_pages(void **state)
{
    (void)state;
    const lake_pq_column_def defs[] = {{"s", LAKE_PQ_STRING, 1}};
    lake_pq_writer_opts o = {0};
    o.codec = LAKE_CODEC_NONE;
    memfile m;
    open_mem(&m, defs, 1, &o);
    const lake_strview v[] = {{"x", 1}, {NULL, 0}};
    const uint8_t valid[] = {1, 0};
    const lake_pq_column_data cols[] = {{v, valid}};
    lake_error err;
    assert_int_equal(lake_pq_writer_write(m.w, cols, 2, &err), LAKE_OK);
    close_mem(&m);
    static const uint8_t pages[] = {
        'P', 'A', 'R', '1',
        /* dictionary page: header, then PLAIN ["x"] */
        0x15, 0x04,                   /* 1: DICTIONARY_PAGE */
        0x15, 0x0a, 0x15, 0x0a,       /* 2, 3: 5 bytes */
        0x4c,                         /* 7: DictionaryPageHeader */
        0x15, 0x02, 0x15, 0x00, 0x00, /*   1 entry, PLAIN */
        0x00,
        0x01, 0x00, 0x00, 0x00, 'x',
        /* data page: levels 1 0 (4-byte length, one bit-packed group),
         * bit width 1, index 0 bit-packed */
        0x15, 0x00, 0x15, 0x12, 0x15, 0x12, /* DATA_PAGE, 9, 9 bytes */
        0x2c,
        0x15, 0x04,                   /*   2 values */
        0x15, 0x10,                   /*   RLE_DICTIONARY */
        0x15, 0x06, 0x15, 0x06,       /*   RLE levels */
        0x1c, 0x36, 0x02,             /*   null_count 1 */
        0x28, 0x01, 'x', 0x18, 0x01, 'x', 0x11, 0x11, 0x00,
        0x00, 0x00,
        0x02, 0x00, 0x00, 0x00, 0x03, 0x01, /* levels */
        0x01, 0x03, 0x00};                  /* width 1, index 0 */
    assert_memory_equal(m.bytes, pages, sizeof(pages));
    parsed f;
    parse_file(m.bytes, m.size, &f);
    const rd cmd = column_meta(&f, 0, 0);
    assert_int_equal(rd_int(&cmd, LAKE_PQ_CMD_DICT_PAGE_OFFSET, -1), 4);
    assert_int_equal(rd_int(&cmd, LAKE_PQ_CMD_DATA_PAGE_OFFSET, -1), 4 + 18);
    assert_int_equal(rd_int(&cmd, LAKE_PQ_CMD_COMPRESSED, -1),
                     sizeof(pages) - 4);
    assert_int_equal(f.fmd.i, sizeof(pages)); /* the footer follows */
    free_mem(&m);
}

/* ---- statistics ---- */

static rd chunk_stats(const parsed *f, size_t g, size_t j)
{
    const rd cmd = column_meta(f, g, j);
    return rd_struct(&cmd, LAKE_PQ_CMD_STATISTICS);
}

static void expect_stat(const rd *st, int16_t id, const void *v, size_t n)
{
    size_t len;
    const uint8_t *p = rd_bin(st, id, &len);
    assert_non_null(p);
    assert_int_equal(len, n);
    assert_memory_equal(p, v, n);
}

static void test_parquet_writer__statistics(void **state)
{
    (void)state;
    const lake_pq_column_def defs[] = {
        {"i", LAKE_PQ_INT32, 1},   {"d", LAKE_PQ_DOUBLE, 1},
        {"s", LAKE_PQ_STRING, 1},  {"nan", LAKE_PQ_DOUBLE, 1},
        {"l", LAKE_PQ_INT64, 0},   {"big", LAKE_PQ_STRING, 0},
        {"z", LAKE_PQ_DOUBLE, 0},
    };
    const int32_t i32[] = {5, -3, 7, 0};
    const double d[] = {0.0, NAN, -0.0, 2.5};
    const lake_strview s[] = {{"\xc3\xa9", 2}, {"z", 1}, {"", 0}, {"a", 1}};
    const double nan[] = {NAN, NAN, -NAN, NAN};
    const int64_t l[] = {INT64_MAX, INT64_MIN, 0, 1};
    static char huge[5000];
    memset(huge, 'x', sizeof(huge));
    const lake_strview big[] = {{"a", 1}, {huge, sizeof(huge)}, {"b", 1},
                                {"c", 1}};
    const double z[] = {0.0, 0.0, 1.0, -1.0};
    const uint8_t valid[] = {1, 1, 1, 0};
    const lake_pq_column_data cols[] = {{i32, valid}, {d, valid},
                                        {s, valid},   {nan, NULL},
                                        {l, NULL},    {big, NULL},
                                        {z, NULL}};
    memfile m;
    open_mem(&m, defs, LAKE_ARRAY_LEN(defs), NULL);
    lake_error err;
    assert_int_equal(lake_pq_writer_write(m.w, cols, 4, &err), LAKE_OK);
    close_mem(&m);
    parsed f;
    parse_file(m.bytes, m.size, &f);

    rd st = chunk_stats(&f, 0, 0);
    const int32_t imin = -3, imax = 7;
    expect_stat(&st, LAKE_PQ_STATS_MIN_VALUE, &imin, 4);
    expect_stat(&st, LAKE_PQ_STATS_MAX_VALUE, &imax, 4);
    assert_int_equal(rd_int(&st, LAKE_PQ_STATS_NULL_COUNT, -1), 1);
    rd r = st;
    assert_int_equal(rd_field(&r, LAKE_PQ_STATS_IS_MIN_EXACT), LAKE_TC_TRUE);
    r = st;
    assert_int_equal(rd_field(&r, LAKE_PQ_STATS_IS_MAX_EXACT), LAKE_TC_TRUE);
    assert_false(rd_has(&st, 1)); /* no deprecated max */
    assert_false(rd_has(&st, 2)); /* no deprecated min */

    /* doubles: NaN ignored, a zero minimum is -0.0, a zero maximum +0.0 */
    st = chunk_stats(&f, 0, 1);
    const double dmin = -0.0, dmax = 0.0;
    expect_stat(&st, LAKE_PQ_STATS_MIN_VALUE, &dmin, 8);
    expect_stat(&st, LAKE_PQ_STATS_MAX_VALUE, &dmax, 8);

    /* strings compare as unsigned bytes: "" < "z" < "\xc3\xa9" */
    st = chunk_stats(&f, 0, 2);
    expect_stat(&st, LAKE_PQ_STATS_MIN_VALUE, "", 0);
    expect_stat(&st, LAKE_PQ_STATS_MAX_VALUE, "\xc3\xa9", 2);

    /* all NaN: no bounds at all, but a null count */
    st = chunk_stats(&f, 0, 3);
    assert_false(rd_has(&st, LAKE_PQ_STATS_MIN_VALUE));
    assert_false(rd_has(&st, LAKE_PQ_STATS_MAX_VALUE));
    assert_int_equal(rd_int(&st, LAKE_PQ_STATS_NULL_COUNT, -1), 0);

    st = chunk_stats(&f, 0, 4);
    const int64_t lmin = INT64_MIN, lmax = INT64_MAX;
    expect_stat(&st, LAKE_PQ_STATS_MIN_VALUE, &lmin, 8);
    expect_stat(&st, LAKE_PQ_STATS_MAX_VALUE, &lmax, 8);

    /* a bound over 4 KiB is left out, never truncated */
    st = chunk_stats(&f, 0, 5);
    assert_false(rd_has(&st, LAKE_PQ_STATS_MIN_VALUE));
    assert_false(rd_has(&st, LAKE_PQ_STATS_MAX_VALUE));

    st = chunk_stats(&f, 0, 6);
    const double zmin = -1.0, zmax = 1.0;
    expect_stat(&st, LAKE_PQ_STATS_MIN_VALUE, &zmin, 8);
    expect_stat(&st, LAKE_PQ_STATS_MAX_VALUE, &zmax, 8);
    free_mem(&m);
}

/* ---- dictionary decisions ---- */

static void test_parquet_writer__dictionary_fallback(void **state)
{
    (void)state;
    enum { N = 3000 };
    const lake_pq_column_def defs[] = {{"s", LAKE_PQ_STRING, 0},
                                       {"low", LAKE_PQ_INT32, 0}};
    static char text[N][16];
    static lake_strview s[N];
    static int32_t low[N];
    for (int i = 0; i < N; i++) {
        const int n = snprintf(text[i], sizeof(text[i]), "value-%d", i);
        s[i] = (lake_strview){text[i], (size_t)n};
        low[i] = i % 4;
    }
    lake_pq_writer_opts o = {0};
    o.dict_max_bytes = 2000;
    o.page_bytes = 4096;
    memfile m;
    open_mem(&m, defs, 2, &o);
    const lake_pq_column_data cols[] = {{s, NULL}, {low, NULL}};
    lake_error err;
    assert_int_equal(lake_pq_writer_write(m.w, cols, N, &err), LAKE_OK);
    close_mem(&m);
    parsed f;
    parse_file(m.bytes, m.size, &f);
    assert_int_equal(f.n_rg, 1);
    rd cmd = column_meta(&f, 0, 0);
    page_walk pw = walk_pages(&f, &cmd);
    assert_int_equal(pw.n_dict, 1);
    assert_true(pw.n_data_dict >= 1);
    assert_true(pw.n_data_plain >= 1);
    assert_int_equal(pw.values, N);
    assert_int_equal(column_encodings(&cmd),
                     1u << LAKE_PQ_ENC_PLAIN |
                         1u << LAKE_PQ_ENC_RLE_DICTIONARY);
    /* encoding_stats: dictionary page, dictionary and PLAIN data pages */
    rd r = cmd;
    assert_int_equal(rd_field(&r, LAKE_PQ_CMD_ENCODING_STATS), LAKE_TC_LIST);
    int elem;
    assert_int_equal(rd_list(&r, &elem), 3);
    /* the low-cardinality column stays dictionary-encoded */
    cmd = column_meta(&f, 0, 1);
    pw = walk_pages(&f, &cmd);
    assert_int_equal(pw.n_dict, 1);
    assert_int_equal(pw.n_data_plain, 0);
    free_mem(&m);

    /* no_dictionary: PLAIN only */
    o.no_dictionary = 1;
    open_mem(&m, defs, 2, &o);
    assert_int_equal(lake_pq_writer_write(m.w, cols, N, &err), LAKE_OK);
    close_mem(&m);
    parse_file(m.bytes, m.size, &f);
    cmd = column_meta(&f, 0, 1);
    pw = walk_pages(&f, &cmd);
    assert_int_equal(pw.n_dict, 0);
    assert_int_equal(pw.n_data_dict, 0);
    assert_false(rd_has(&cmd, LAKE_PQ_CMD_DICT_PAGE_OFFSET));
    assert_int_equal(column_encodings(&cmd), 1u << LAKE_PQ_ENC_PLAIN);
    free_mem(&m);
}

static void test_parquet_writer__high_cardinality_leaves_dictionary(
    void **state)
{
    (void)state;
    enum { N = 40000 };
    const lake_pq_column_def defs[] = {{"id", LAKE_PQ_INT64, 0}};
    int64_t *id = malloc(N * sizeof(*id));
    for (int i = 0; i < N; i++)
        id[i] = (int64_t)i * 7919;
    memfile m;
    open_mem(&m, defs, 1, NULL);
    const lake_pq_column_data cols[] = {{id, NULL}};
    lake_error err;
    assert_int_equal(lake_pq_writer_write(m.w, cols, N, &err), LAKE_OK);
    close_mem(&m);
    parsed f;
    parse_file(m.bytes, m.size, &f);
    const rd cmd = column_meta(&f, 0, 0);
    const page_walk pw = walk_pages(&f, &cmd);
    /* The dictionary was dropped after 16384 distinct values. */
    assert_int_equal(pw.n_dict, 1);
    assert_true(pw.n_data_plain >= 1);
    assert_int_equal(pw.values, N);
    free(id);
    free_mem(&m);
}

/* ---- errors ---- */

static void test_parquet_writer__new_rejects_bad_arguments(void **state)
{
    (void)state;
    lake_output *out;
    lake_error err;
    assert_int_equal(lake_output_open_memory("bad.parquet", NULL, &out, &err),
                     LAKE_OK);
    lake_pq_writer *w = (lake_pq_writer *)&err; /* must be reset to NULL */
    const lake_pq_column_def ok[] = {{"a", LAKE_PQ_INT32, 0}};
    assert_int_equal(lake_pq_writer_new(NULL, ok, 1, NULL, &w, &err),
                     LAKE_EINVAL);
    assert_null(w);
    assert_int_equal(lake_pq_writer_new(out, ok, 1, NULL, NULL, &err),
                     LAKE_EINVAL);
    assert_int_equal(lake_pq_writer_new(out, NULL, 1, NULL, &w, &err),
                     LAKE_EINVAL);
    assert_int_equal(lake_pq_writer_new(out, ok, 0, NULL, &w, &err),
                     LAKE_EINVAL);
    assert_string_equal(err.message, "parquet: bad.parquet: no columns");
    const lake_pq_column_def unnamed[] = {{"", LAKE_PQ_INT32, 0}};
    assert_int_equal(lake_pq_writer_new(out, unnamed, 1, NULL, &w, &err),
                     LAKE_EINVAL);
    const lake_pq_column_def null_name[] = {{NULL, LAKE_PQ_INT32, 0}};
    assert_int_equal(lake_pq_writer_new(out, null_name, 1, NULL, &w, &err),
                     LAKE_EINVAL);
    assert_string_equal(err.message,
                        "parquet: bad.parquet: column 0 has no name");
    const lake_pq_column_def dup[] = {{"a", LAKE_PQ_INT32, 0},
                                      {"a", LAKE_PQ_STRING, 1}};
    assert_int_equal(lake_pq_writer_new(out, dup, 2, NULL, &w, &err),
                     LAKE_EINVAL);
    assert_string_equal(err.message,
                        "parquet: bad.parquet: duplicate column \"a\"");
    const lake_pq_column_def bad_type[] = {{"a", (lake_pq_type)9, 0}};
    assert_int_equal(lake_pq_writer_new(out, bad_type, 1, NULL, &w, &err),
                     LAKE_EINVAL);
    lake_pq_writer_opts o = {0};
    o.codec = (lake_codec)7;
    assert_int_equal(lake_pq_writer_new(out, ok, 1, &o, &w, &err),
                     LAKE_EINVAL);
    assert_string_equal(err.message, "parquet: bad.parquet: unknown codec 7");
    o.codec = LAKE_CODEC_ZSTD;
    o.zstd_level = 99;
    assert_int_equal(lake_pq_writer_new(out, ok, 1, &o, &w, &err),
                     LAKE_EINVAL);
    o.zstd_level = -1;
    assert_int_equal(lake_pq_writer_new(out, ok, 1, &o, &w, &err),
                     LAKE_EINVAL);
    o.zstd_level = 0;
    const char *keys[] = {NULL};
    const char *vals[] = {"v"};
    o.n_kv = 1;
    o.kv_keys = keys;
    o.kv_values = vals;
    assert_int_equal(lake_pq_writer_new(out, ok, 1, &o, &w, &err),
                     LAKE_EINVAL);
    o.kv_keys = NULL;
    assert_int_equal(lake_pq_writer_new(out, ok, 1, &o, &w, &err),
                     LAKE_EINVAL);
    assert_null(w);
    assert_int_equal(lake_output_size(out), 0);
    lake_output_free(out);
}

static void test_parquet_writer__null_in_required_column(void **state)
{
    (void)state;
    const lake_pq_column_def defs[] = {{"ok", LAKE_PQ_INT32, 1},
                                       {"song_id", LAKE_PQ_STRING, 0}};
    memfile m;
    open_mem(&m, defs, 2, NULL);
    const int32_t v[] = {1, 2, 3};
    const lake_strview s[] = {{"a", 1}, {"b", 1}, {"c", 1}};
    const uint8_t valid[] = {1, 1, 0};
    const lake_pq_column_data cols[] = {{v, NULL}, {s, valid}};
    lake_error err;
    assert_int_equal(lake_pq_writer_write(m.w, cols, 3, &err), LAKE_EINVAL);
    assert_string_equal(err.message,
                        "parquet: mem.parquet: column \"song_id\": NULL at "
                        "row 2 of the batch in a required column");
    /* the writer refuses everything afterwards */
    const lake_pq_column_data good[] = {{v, NULL}, {s, NULL}};
    assert_int_equal(lake_pq_writer_write(m.w, good, 1, &err), LAKE_EINVAL);
    assert_string_equal(err.message,
                        "parquet: mem.parquet: write after a failure");
    assert_int_equal(lake_pq_writer_close(m.w, &err), LAKE_EINVAL);
    assert_string_equal(err.message,
                        "parquet: mem.parquet: close after a failure");
    free_mem(&m);
}

static void test_parquet_writer__write_rejects_bad_batches(void **state)
{
    (void)state;
    const lake_pq_column_def defs[] = {{"a", LAKE_PQ_INT64, 0}};
    const int64_t v[] = {1};
    const lake_pq_column_data cols[] = {{v, NULL}};
    const lake_pq_column_data no_values[] = {{NULL, NULL}};
    lake_error err;
    memfile m;

    open_mem(&m, defs, 1, NULL);
    assert_int_equal(lake_pq_writer_write(m.w, cols, 0, &err), LAKE_OK);
    assert_int_equal(lake_pq_writer_write(m.w, NULL, 0, &err), LAKE_OK);
    assert_int_equal(lake_pq_writer_write(m.w, cols, -1, &err), LAKE_EINVAL);
    assert_string_equal(err.message,
                        "parquet: mem.parquet: negative row count -1");
    free_mem(&m);

    open_mem(&m, defs, 1, NULL);
    assert_int_equal(lake_pq_writer_write(m.w, NULL, 1, &err), LAKE_EINVAL);
    free_mem(&m);

    open_mem(&m, defs, 1, NULL);
    assert_int_equal(lake_pq_writer_write(m.w, no_values, 1, &err),
                     LAKE_EINVAL);
    assert_string_equal(err.message,
                        "parquet: mem.parquet: column \"a\": no values");
    free_mem(&m);

    /* a value over 2 GiB is refused before it is read */
    const lake_pq_column_def sdefs[] = {{"s", LAKE_PQ_STRING, 1}};
    const lake_strview huge[] = {{"x", (size_t)INT32_MAX + 1}};
    const lake_pq_column_data hcols[] = {{huge, NULL}};
    open_mem(&m, sdefs, 1, NULL);
    assert_int_equal(lake_pq_writer_write(m.w, hcols, 1, &err),
                     LAKE_ETOOBIG);
    free_mem(&m);

    /* after close */
    open_mem(&m, defs, 1, NULL);
    assert_int_equal(lake_pq_writer_write(m.w, cols, 1, &err), LAKE_OK);
    close_mem(&m);
    assert_int_equal(lake_pq_writer_write(m.w, cols, 1, &err), LAKE_EINVAL);
    assert_string_equal(err.message,
                        "parquet: mem.parquet: write after close");
    assert_int_equal(lake_pq_writer_close(m.w, &err), LAKE_EINVAL);
    assert_string_equal(err.message, "parquet: mem.parquet: closed twice");
    assert_int_equal(lake_pq_writer_rows(m.w), 1);
    free_mem(&m);
    lake_pq_writer_free(NULL);
}

/* An output whose writes fail after @p budget bytes. */
typedef struct broken_output {
    lake_output base;
    int64_t budget;
} broken_output;

static lake_status broken_write(lake_output *o,
                                const void *bytes,
                                size_t n,
                                lake_error *err)
{
    (void)bytes;
    broken_output *b = (broken_output *)o;
    if ((int64_t)n > b->budget)
        return lake_error_set(err, LAKE_EIO,
                              "storage: write %s: No space left on device",
                              o->name);
    b->budget -= (int64_t)n;
    return LAKE_OK;
}

static lake_status broken_commit(lake_output *o, lake_error *err)
{
    (void)o;
    (void)err;
    return LAKE_OK;
}

static void broken_destroy(lake_output *o)
{
    (void)o;
}

static const lake_output_vtable broken_vt = {broken_write, broken_commit,
                                             broken_destroy};

static void test_parquet_writer__output_failure_stops_the_writer(
    void **state)
{
    (void)state;
    const lake_pq_column_def defs[] = {{"a", LAKE_PQ_INT64, 0}};
    int64_t v[2000];
    for (int i = 0; i < 2000; i++)
        v[i] = i;
    const lake_pq_column_data cols[] = {{v, NULL}};
    /* fail at the magic, in the first and in a later row group, and (no
     * rows) in the footer */
    const int64_t budgets[] = {0, 10, 5000, 4};
    const int64_t rows[] = {2000, 2000, 2000, 0};
    for (size_t k = 0; k < LAKE_ARRAY_LEN(budgets); k++) {
        broken_output b = {{&broken_vt, NULL, "full.parquet", 0, false,
                            false},
                           budgets[k]};
        lake_pq_writer_opts o = {0};
        o.row_group_bytes = 4000;
        o.no_dictionary = 1;
        lake_pq_writer *w = NULL;
        lake_error err;
        assert_int_equal(lake_pq_writer_new(&b.base, defs, 1, &o, &w, &err),
                         LAKE_OK);
        lake_status rc = lake_pq_writer_write(w, cols, rows[k], &err);
        if (rc == LAKE_OK)
            rc = lake_pq_writer_close(w, &err);
        assert_int_equal(rc, LAKE_EIO);
        assert_string_equal(err.message, "storage: write full.parquet: No "
                                         "space left on device");
        assert_int_equal(lake_pq_writer_write(w, cols, 1, &err), LAKE_EINVAL);
        assert_int_equal(lake_pq_writer_close(w, &err), LAKE_EINVAL);
        lake_pq_writer_free(w);
    }
}

static void test_parquet_writer__row_group_limit(void **state)
{
    (void)state;
    /* Row-group ordinals are i16: the 32768th group is refused. */
    const lake_pq_column_def defs[] = {{"a", LAKE_PQ_INT32, 0}};
    enum { N = 64 * 32768 };
    int32_t *v = calloc(N, sizeof(*v));
    const lake_pq_column_data cols[] = {{v, NULL}};
    lake_pq_writer_opts o = {0};
    o.row_group_bytes = 1;
    o.codec = LAKE_CODEC_NONE;
    memfile m;
    open_mem(&m, defs, 1, &o);
    lake_error err;
    assert_int_equal(lake_pq_writer_write(m.w, cols, N, &err), LAKE_ETOOBIG);
    assert_string_equal(err.message,
                        "parquet: mem.parquet: more than 32767 row groups");
    free(v);
    free_mem(&m);
}

/* ---- allocation failures ---- */

static lake_status write_sample(lake_codec codec,
                                const lake_allocator *a,
                                lake_error *err,
                                lake_output **outp,
                                lake_pq_writer **wp)
{
    enum { N = 700 };
    static lake_strview s[N];
    static char text[N][12];
    static int64_t ts[N];
    static double d[N];
    static uint8_t valid[N];
    for (int i = 0; i < N; i++) {
        const int n = snprintf(text[i], sizeof(text[i]), "s%d", i % 150);
        s[i] = (lake_strview){text[i], (size_t)n};
        ts[i] = i * 1000;
        d[i] = i % 7 ? i / 3.0 : NAN;
        valid[i] = i % 5 != 1;
    }
    const lake_pq_column_def defs[] = {{"s", LAKE_PQ_STRING, 1},
                                       {"ts", LAKE_PQ_TIMESTAMP_US, 0},
                                       {"d", LAKE_PQ_DOUBLE, 1}};
    const lake_pq_column_data cols[] = {{s, valid}, {ts, NULL}, {d, valid}};
    const char *keys[] = {"k"};
    const char *vals[] = {"v"};
    const lake_output_opts oo = {.alloc = a, .no_fsync = 1};
    lake_pq_writer_opts o = {0};
    o.alloc = a;
    o.codec = codec;
    o.row_group_bytes = 6000;
    o.page_bytes = 700;
    o.dict_max_bytes = 600;
    o.n_kv = 1;
    o.kv_keys = keys;
    o.kv_values = vals;
    LAKE_TRY(lake_output_open_memory("oom.parquet", &oo, outp, err));
    LAKE_TRY(lake_pq_writer_new(*outp, defs, 3, &o, wp, err));
    LAKE_TRY(lake_pq_writer_write(*wp, cols, N / 2, err));
    lake_pq_column_data rest[3];
    rest[0] = (lake_pq_column_data){s + N / 2, valid + N / 2};
    rest[1] = (lake_pq_column_data){ts + N / 2, NULL};
    rest[2] = (lake_pq_column_data){d + N / 2, valid + N / 2};
    LAKE_TRY(lake_pq_writer_write(*wp, rest, N - N / 2, err));
    return lake_pq_writer_close(*wp, err);
}

static void test_parquet_writer__oom_sweep(void **state)
{
    (void)state;
    const lake_codec codecs[] = {LAKE_CODEC_SNAPPY, LAKE_CODEC_ZSTD,
                                 LAKE_CODEC_NONE};
    for (size_t c = 0; c < LAKE_ARRAY_LEN(codecs); c++) {
        /* the bytes of a run without failures, to compare against */
        lake_output *ref_out = NULL;
        lake_pq_writer *ref_w = NULL;
        lake_error err;
        assert_int_equal(write_sample(codecs[c], NULL, &err, &ref_out,
                                      &ref_w),
                         LAKE_OK);
        size_t ref_len;
        const void *ref = lake_output_memory_bytes(ref_out, &ref_len);
        int64_t runs = 0;
        for (int64_t fail_at = 0;; fail_at++) {
            lake_failing_alloc fa;
            lake_failing_alloc_init(&fa, fail_at);
            lake_output *out = NULL;
            lake_pq_writer *w = NULL;
            const lake_status rc =
                write_sample(codecs[c], &fa.base, &err, &out, &w);
            if (fa.n_failed == 0) {
                assert_int_equal(rc, LAKE_OK);
                size_t len;
                const void *bytes = lake_output_memory_bytes(out, &len);
                assert_int_equal(len, ref_len);
                assert_memory_equal(bytes, ref, len);
            } else {
                if (rc != LAKE_ENOMEM)
                    fail_msg("allocation %lld: %s (%s)", (long long)fail_at,
                             lake_status_str(rc), err.message);
                assert_non_null(strstr(err.message, "out of memory"));
            }
            lake_pq_writer_free(w);
            lake_output_free(out);
            assert_int_equal(fa.n_live, 0);
            runs++;
            if (fa.n_failed == 0)
                break;
        }
        assert_true(runs > 20);
        lake_pq_writer_free(ref_w);
        lake_output_free(ref_out);
    }
}

/* ---- memory stays bounded by a row group ---- */

/* An allocator that tracks live and peak bytes (with a size header). */
typedef struct peak_alloc {
    lake_allocator base;
    size_t live, peak;
} peak_alloc;

static void *peak_malloc(void *ctx, size_t n)
{
    peak_alloc *pa = ctx;
    size_t *p = malloc(n + 16);
    if (!p)
        return NULL;
    p[0] = n;
    pa->live += n;
    pa->peak = LAKE_MAX(pa->peak, pa->live);
    return (char *)p + 16;
}

static void peak_free(void *ctx, void *ptr)
{
    peak_alloc *pa = ctx;
    if (!ptr)
        return;
    size_t *p = (size_t *)(void *)((char *)ptr - 16);
    pa->live -= p[0];
    free(p);
}

static void *peak_realloc(void *ctx, void *ptr, size_t old, size_t n)
{
    (void)old;
    void *q = peak_malloc(ctx, n);
    if (q && ptr) {
        const size_t *p = (const size_t *)(void *)((char *)ptr - 16);
        memcpy(q, ptr, LAKE_MIN(p[0], n));
        peak_free(ctx, ptr);
    }
    return q;
}

/* Peak bytes the writer holds while writing @p rows rows. */
static size_t peak_for_rows(int64_t rows)
{
    peak_alloc pa = {{peak_malloc, peak_realloc, peak_free, NULL}, 0, 0};
    pa.base.ctx = &pa;
    enum { BATCH = 1000 };
    static lake_strview s[BATCH];
    static char text[BATCH][24];
    static int64_t v[BATCH];
    const lake_pq_column_def defs[] = {{"s", LAKE_PQ_STRING, 1},
                                       {"v", LAKE_PQ_INT64, 0}};
    lake_pq_writer_opts o = {0};
    o.alloc = &pa.base;
    o.row_group_bytes = 256 << 10;
    o.codec = LAKE_CODEC_ZSTD;
    broken_output sink = {{&broken_vt, NULL, "sink.parquet", 0, false,
                           false},
                          INT64_MAX};
    lake_pq_writer *w = NULL;
    lake_error err;
    assert_int_equal(lake_pq_writer_new(&sink.base, defs, 2, &o, &w, &err),
                     LAKE_OK);
    for (int64_t done = 0; done < rows; done += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            const int n = snprintf(text[i], sizeof(text[i]), "v%lld",
                                   (long long)(done + i));
            s[i] = (lake_strview){text[i], (size_t)n};
            v[i] = done + i;
        }
        const lake_pq_column_data cols[] = {{s, NULL}, {v, NULL}};
        assert_int_equal(lake_pq_writer_write(w, cols, BATCH, &err), LAKE_OK);
    }
    assert_int_equal(lake_pq_writer_close(w, &err), LAKE_OK);
    lake_pq_writer_free(w);
    assert_int_equal(pa.live, 0);
    return pa.peak;
}

static void test_parquet_writer__memory_bounded_by_a_row_group(void **state)
{
    (void)state;
    /* 50k rows make ~4 row groups of 256 KiB, 400k rows ~30: the peak
     * must not grow with the file (only the footer's row-group list
     * does, by ~100 bytes a group). */
    const size_t small = peak_for_rows(50000);
    const size_t large = peak_for_rows(400000);
    assert_true(large < small + small / 4);
    assert_true(large < 4u << 20);
}

/* ---- reopen ---- */

/* Write rows [from, from + n) of a 3-column sample with @p w into @p out. */
static void write_rows(lake_pq_writer *w, int from, int n)
{
    static lake_strview s[64];
    static char text[64][8];
    static int64_t v[64];
    static uint8_t valid[64];
    for (int i = 0; i < 64; i++) {
        const int k = snprintf(text[i], sizeof(text[i]), "t%d", i % 9);
        s[i] = (lake_strview){text[i], (size_t)k};
        v[i] = i * 3;
        valid[i] = i % 4 != 0;
    }
    const lake_pq_column_data cols[] = {{s + from, valid + from},
                                        {v + from, NULL}};
    lake_error err;
    assert_int_equal(lake_pq_writer_write(w, cols, n, &err), LAKE_OK);
}

static void test_parquet_writer__reopen_gives_the_same_bytes(void **state)
{
    (void)state;
    const lake_pq_column_def defs[] = {{"s", LAKE_PQ_STRING, 1},
                                       {"v", LAKE_PQ_INT64, 0}};
    lake_pq_writer_opts o = {0};
    o.codec = LAKE_CODEC_ZSTD;
    o.page_bytes = 64;
    /* the reference: a fresh writer for rows 20..60 */
    memfile ref;
    open_mem(&ref, defs, 2, &o);
    write_rows(ref.w, 20, 40);
    close_mem(&ref);
    /* a writer that wrote another file, then one it abandoned */
    memfile m;
    open_mem(&m, defs, 2, &o);
    write_rows(m.w, 0, 64);
    close_mem(&m);
    lake_error err;
    lake_output *second = NULL, *third = NULL;
    assert_int_equal(lake_output_open_memory("b.parquet", NULL, &second,
                                             &err),
                     LAKE_OK);
    assert_int_equal(lake_pq_writer_reopen(m.w, second, &err), LAKE_OK);
    assert_int_equal(lake_pq_writer_rows(m.w), 0);
    write_rows(m.w, 0, 10); /* abandoned mid-file */
    assert_int_equal(lake_output_open_memory("c.parquet", NULL, &third,
                                             &err),
                     LAKE_OK);
    assert_int_equal(lake_pq_writer_reopen(m.w, third, &err), LAKE_OK);
    write_rows(m.w, 20, 40);
    assert_int_equal(lake_pq_writer_close(m.w, &err), LAKE_OK);
    size_t len;
    const void *bytes = lake_output_memory_bytes(third, &len);
    assert_int_equal(len, ref.size);
    assert_memory_equal(bytes, ref.bytes, len);
    /* after a failure, too; messages name the new output */
    const lake_pq_column_data bad[] = {{NULL, NULL}, {NULL, NULL}};
    assert_int_equal(lake_pq_writer_write(m.w, bad, 1, &err), LAKE_EINVAL);
    assert_int_equal(lake_pq_writer_reopen(m.w, NULL, &err), LAKE_EINVAL);
    assert_string_equal(err.message,
                        "parquet: c.parquet: reopen without an output");
    assert_int_equal(lake_pq_writer_reopen(m.w, second, &err), LAKE_OK);
    lake_output_free(third);
    lake_output *fourth = NULL;
    assert_int_equal(lake_output_open_memory("d.parquet", NULL, &fourth,
                                             &err),
                     LAKE_OK);
    assert_int_equal(lake_pq_writer_reopen(m.w, fourth, &err), LAKE_OK);
    write_rows(m.w, 20, 40);
    assert_int_equal(lake_pq_writer_close(m.w, &err), LAKE_OK);
    bytes = lake_output_memory_bytes(fourth, &len);
    assert_int_equal(len, ref.size);
    assert_memory_equal(bytes, ref.bytes, len);
    lake_output_free(second);
    lake_output_free(fourth);
    free_mem(&m);
    free_mem(&ref);
}

/* Rows that point at the same bytes (values the caller interned, which
 * the writer remembers by pointer within a call) give the file that a
 * copy per row gives: also when the caller changes those bytes between
 * calls, and when row groups end and the dictionary overflows inside a
 * call. */
static void test_parquet_writer__shared_string_pointers(void **state)
{
    (void)state;
    enum { N = 3000, W = 16 };
    const lake_pq_column_def defs[] = {{"s", LAKE_PQ_STRING, 1}};
    lake_pq_writer_opts o = {0};
    o.codec = LAKE_CODEC_NONE;
    o.row_group_bytes = 1024;
    o.dict_max_bytes = 256;
    char pool[8][W];
    for (int k = 0; k < 8; k++)
        snprintf(pool[k], W, "value-%.*s", k, "abcdefgh");
    char *copies = malloc((size_t)N * W);
    lake_strview *shared = malloc(N * sizeof(*shared));
    lake_strview *copied = malloc(N * sizeof(*copied));
    uint8_t *valid = malloc(N);
    assert_non_null(copies);
    assert_non_null(shared);
    assert_non_null(copied);
    assert_non_null(valid);
    memfile a, b;
    open_mem(&a, defs, 1, &o);
    open_mem(&b, defs, 1, &o);
    lake_error err;
    for (int call = 0; call < 2; call++) {
        for (int i = 0; i < N; i++) {
            char *c = copies + (size_t)i * W;
            const int k = (i * 7 + call) % 9;
            valid[i] = k != 8;
            if (i % 50 == 0) /* unique values fill the dictionary */
                snprintf(c, W, "u%d-%05d", call, i);
            else
                memcpy(c, pool[k % 8], W);
            copied[i] = (lake_strview){c, strlen(c)};
            shared[i] = i % 50 == 0 ? copied[i]
                                    : (lake_strview){pool[k % 8],
                                                     strlen(pool[k % 8])};
        }
        const lake_pq_column_data ca[] = {{shared, valid}};
        const lake_pq_column_data cb[] = {{copied, valid}};
        assert_int_equal(lake_pq_writer_write(a.w, ca, N, &err), LAKE_OK);
        assert_int_equal(lake_pq_writer_write(b.w, cb, N, &err), LAKE_OK);
        for (int k = 0; k < 8; k++)
            pool[k][0] = 'V'; /* same pointers, other bytes */
    }
    close_mem(&a);
    close_mem(&b);
    parsed f;
    parse_file(a.bytes, a.size, &f);
    assert_true(f.n_rg > 2);
    assert_int_equal(a.size, b.size);
    assert_memory_equal(a.bytes, b.bytes, a.size);
    free_mem(&a);
    free_mem(&b);
    free(copies);
    free(shared);
    free(copied);
    free(valid);
}

/* ---- the memory output the tests rely on ---- */

static void test_parquet_writer__memory_output(void **state)
{
    (void)state;
    lake_output *m = NULL;
    lake_error err;
    assert_int_equal(lake_output_open_memory(NULL, NULL, &m, &err), LAKE_OK);
    assert_string_equal(lake_output_name(m), "memory");
    size_t len = 99;
    assert_null(lake_output_memory_bytes(m, &len)); /* nothing yet */
    assert_int_equal(len, 0);
    assert_int_equal(lake_output_write(m, "abc", 3, &err), LAKE_OK);
    assert_int_equal(lake_output_write(m, "de", 2, &err), LAKE_OK);
    const char *p = lake_output_memory_bytes(m, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "abcde", 5);
    assert_int_equal(lake_output_commit(m, &err), LAKE_OK);
    assert_int_equal(lake_output_write(m, "x", 1, &err), LAKE_EINVAL);
    assert_int_equal(lake_output_size(m), 5);
    lake_output_free(m);

    /* other outputs have no bytes to show */
    broken_output b = {{&broken_vt, NULL, "other", 0, false, false}, 0};
    len = 7;
    assert_null(lake_output_memory_bytes(&b.base, &len));
    assert_int_equal(len, 0);

    /* allocation failures: opening and writing */
    for (int64_t fail_at = 0; fail_at < 3; fail_at++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, fail_at);
        const lake_output_opts o = {.alloc = &fa.base, .no_fsync = 1};
        lake_output *out = NULL;
        lake_status rc = lake_output_open_memory("oom", &o, &out, &err);
        if (rc == LAKE_OK) {
            rc = lake_output_write(out, "abc", 3, &err);
            if (rc != LAKE_OK)
                assert_string_equal(err.message,
                                    "storage: write oom: out of memory");
        }
        assert_int_equal(rc, LAKE_ENOMEM);
        lake_output_free(out);
        assert_int_equal(fa.n_live, 0);
    }
}

/* ---- a file on disk ---- */

static void test_parquet_writer__file_output_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/lake-pq-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/t/part-0.parquet", dir);
    lake_output *out = NULL;
    lake_error err;
    const lake_output_opts oo = {.no_fsync = 1};
    assert_int_equal(lake_output_open_file(path, &oo, &out, &err), LAKE_OK);
    const lake_pq_column_def defs[] = {{"a", LAKE_PQ_INT32, 0}};
    lake_pq_writer *w = NULL;
    assert_int_equal(lake_pq_writer_new(out, defs, 1, NULL, &w, &err),
                     LAKE_OK);
    const int32_t v[] = {1, 2, 3};
    const lake_pq_column_data cols[] = {{v, NULL}};
    assert_int_equal(lake_pq_writer_write(w, cols, 3, &err), LAKE_OK);
    assert_int_equal(lake_pq_writer_close(w, &err), LAKE_OK);
    assert_int_equal(lake_output_commit(out, &err), LAKE_OK);
    const int64_t size = lake_output_size(out);
    lake_pq_writer_free(w);
    lake_output_free(out);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc((size_t)size);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    assert_int_equal(fgetc(f), EOF);
    fclose(f);
    parsed p;
    parse_file(buf, (size_t)size, &p);
    assert_int_equal(p.n_rg, 1);
    free(buf);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parquet_writer__empty_file_layout),
        cmocka_unit_test(test_parquet_writer__pages_and_footer_layout),
        cmocka_unit_test(test_parquet_writer__schema_and_kv_in_footer),
        cmocka_unit_test(test_parquet_writer__known_bytes_empty_file),
        cmocka_unit_test(test_parquet_writer__known_bytes_one_int32_row),
        cmocka_unit_test(test_parquet_writer__known_bytes_dictionary_pages),
        cmocka_unit_test(test_parquet_writer__statistics),
        cmocka_unit_test(test_parquet_writer__dictionary_fallback),
        cmocka_unit_test(
            test_parquet_writer__high_cardinality_leaves_dictionary),
        cmocka_unit_test(test_parquet_writer__new_rejects_bad_arguments),
        cmocka_unit_test(test_parquet_writer__null_in_required_column),
        cmocka_unit_test(test_parquet_writer__write_rejects_bad_batches),
        cmocka_unit_test(
            test_parquet_writer__output_failure_stops_the_writer),
        cmocka_unit_test(test_parquet_writer__row_group_limit),
        cmocka_unit_test(test_parquet_writer__oom_sweep),
        cmocka_unit_test(test_parquet_writer__memory_bounded_by_a_row_group),
        cmocka_unit_test(test_parquet_writer__reopen_gives_the_same_bytes),
        cmocka_unit_test(test_parquet_writer__shared_string_pointers),
        cmocka_unit_test(test_parquet_writer__memory_output),
        cmocka_unit_test(test_parquet_writer__file_output_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

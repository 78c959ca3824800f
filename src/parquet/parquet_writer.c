/* SPDX-License-Identifier: Apache-2.0 */
/* parquet_writer.c - a streaming writer of flat Parquet files: values are
 * encoded into pages as they arrive, pages of the current row group are
 * kept compressed in memory, and each full row group goes to the output
 * with its dictionary page first; the footer is written on close. */
#include "fmacros.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <snappy-c.h>
/* For ZSTD_createCCtx_advanced, so that zstd allocates through our
 * allocator; libzstd.so exports it. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "lake_common.h"
#include "parquet/parquet_encode.h"
#include "parquet/parquet_format.h"
#include "parquet/thrift_compact.h"
#include "lake_internal.h"

#define DEFAULT_ROW_GROUP_BYTES ((size_t)128 << 20)
#define DEFAULT_PAGE_BYTES      ((size_t)1 << 20)
#define DEFAULT_DICT_MAX_BYTES  ((size_t)1 << 20)
/* Values per data page at most, whatever their size (Arrow's and
 * parquet-mr's default row limit): level and index arrays stay small, page
 * statistics stay fine-grained, and zstd's parameters for inputs under
 * 256 KiB compress PLAIN timestamps 20 % better than 1 MiB pages do. */
#define PAGE_MAX_VALUES 20000
/* Rows encoded between two row-group size checks at most. */
#define SLICE_MAX_ROWS 4096
/* The dictionary is dropped for the rest of the chunk when, at a size of
 * DICT_UNIQUE_CHECK entries or any power of two above, over 99.5 % of the
 * values so far were distinct (unique ids, timestamps), or when at
 * DICT_RATIO_CHECK_MIN entries or above over 90 % were: such columns skip
 * the hash table, whose cache misses dominate the cost of a large
 * dictionary, and lose almost nothing in size. */
#define DICT_UNIQUE_CHECK    1024
#define DICT_RATIO_CHECK_MIN 16384
/* Rows ahead of the current one whose dictionary slot is prefetched. */
#define PREFETCH_ROWS 64
/* Slots of a string column's memo (a power of two). */
#define MEMO_SLOTS 1024

typedef union pq_scalar {
    int64_t i;
    double d;
} pq_scalar;

/* Statistics of a page or a column chunk. */
typedef struct pq_stats {
    int64_t null_count;
    bool has_minmax;    /* a non-null, non-NaN value was seen */
    pq_scalar min, max; /* numeric types */
    lake_buf smin, smax; /* BYTE_ARRAY: owned copies */
} pq_stats;

/* A string column's memo of one write call: the dictionary index of the
 * value at (ptr, len). Callers often pass many rows that point at the
 * same bytes (values interned by the caller); the bytes at a pointer
 * cannot change during a call, so a hit needs no hash of the bytes and
 * no probe of the dictionary. Entries of another call (`gen`) are
 * stale. */
typedef struct pq_memo {
    const char *ptr;
    uint32_t len;
    uint32_t idx;
    uint32_t gen;
} pq_memo;

/* Where the last flushed chunk of a column went, for the footer. */
typedef struct pq_chunk_meta {
    int64_t start;          /* file offset of the chunk's first page */
    int64_t data_offset;    /* first data page */
    int64_t dict_offset;    /* dictionary page, or -1 */
    int64_t compressed;     /* bytes in the file */
    int64_t uncompressed;   /* bytes before compression, headers included */
    int64_t num_values;     /* values including NULLs */
    int32_t n_dict_pages;   /* RLE_DICTIONARY data pages */
    int32_t n_plain_pages;  /* PLAIN data pages */
} pq_chunk_meta;

typedef struct pq_col {
    char *name;
    lake_pq_type type;
    bool nullable;
    int width;              /* bytes of a fixed-width value, 0 for strings */
    /* the page being built */
    uint8_t *levels;        /* definition levels, `cap` of them */
    uint32_t *idx;          /* dictionary indices, `cap` of them */
    size_t cap;             /* values room in levels and idx */
    size_t page_n_values;   /* values including NULLs */
    size_t page_n_idx;      /* dictionary indices */
    lake_buf plain;         /* PLAIN values */
    pq_stats page_stats;
    /* the chunk of the current row group */
    pq_stats chunk_stats;
    lake_pq_dict dict;
    uint32_t *seen;         /* strings: page_no when entry i was last seen */
    size_t seen_cap;        /* entries in `seen` */
    uint32_t page_no;       /* pages flushed so far, + 1 */
    pq_memo *memo;          /* strings in dictionary mode: MEMO_SLOTS */
    bool dict_mode;         /* values go through the dictionary */
    bool dict_leave;        /* leave the dictionary at the next value */
    int dict_bits;          /* bit width of the current indices */
    int64_t chunk_nonnull;  /* non-null values seen in the chunk */
    int64_t chunk_values;   /* values including NULLs */
    lake_buf pages;         /* finished data pages: header + body */
    int64_t pages_uncompressed; /* their size before compression */
    int32_t n_dict_pages, n_plain_pages;
    pq_chunk_meta meta;
} pq_col;

struct lake_pq_writer {
    const lake_allocator *alloc;
    lake_output *out;
    const char *name;       /* the output's name, for messages */
    lake_codec codec;
    int zstd_level;
    size_t row_group_bytes, page_bytes, dict_max_bytes;
    bool no_dictionary;
    size_t n_kv;
    char **kv;              /* 2 * n_kv strings: key, value (or NULL) */
    size_t n_cols;
    pq_col *cols;
    ZSTD_CCtx *zctx;
    lake_buf body;          /* page body before compression */
    lake_buf cbuf;          /* compressed page body */
    lake_buf hdr;           /* page header */
    lake_buf dpage;         /* a framed dictionary page */
    lake_buf rg_meta;       /* serialized RowGroup structs */
    int64_t n_row_groups;
    int64_t rows;           /* rows accepted */
    int64_t rg_rows;        /* rows in the current row group */
    int64_t offset;         /* bytes written to the output */
    uint32_t memo_gen;      /* the memos' current generation, from 1 */
    bool failed, closed;
};

/* ---- errors ---- */

static lake_status fail(lake_pq_writer *w,
                        lake_error *err,
                        lake_status code,
                        const char *fmt,
                        ...) LAKE_PRINTF(4, 5);

/* Report "parquet: <output>: <detail>" and refuse further writes. */
static lake_status fail(lake_pq_writer *w,
                        lake_error *err,
                        lake_status code,
                        const char *fmt,
                        ...)
{
    char detail[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    w->failed = true;
    return lake_error_set(err, code, "parquet: %s: %s", w->name, detail);
}

/* Turn a bare status from a buffer or encoder into a message. */
static lake_status fail_status(lake_pq_writer *w,
                               lake_error *err,
                               lake_status rc,
                               const char *what)
{
    if (rc == LAKE_ENOMEM)
        return fail(w, err, rc, "%s: out of memory", what);
    if (rc == LAKE_ETOOBIG)
        return fail(w, err, rc, "%s: size limit exceeded", what);
    return fail(w, err, rc, "%s: %s", what, lake_status_str(rc));
}

/* ---- statistics ---- */

static void stats_init(pq_stats *s, const lake_allocator *a)
{
    memset(s, 0, sizeof(*s));
    lake_buf_init(&s->smin, a, 0);
    lake_buf_init(&s->smax, a, 0);
}

static void stats_clear(pq_stats *s)
{
    s->null_count = 0;
    s->has_minmax = false;
    s->smin.len = s->smax.len = 0;
}

static void stats_free(pq_stats *s)
{
    lake_buf_reset(&s->smin);
    lake_buf_reset(&s->smax);
}

/* Unsigned byte-wise order of Parquet's BYTE_ARRAY. */
static int cmp_bytes(const void *a, size_t na, const void *b, size_t nb)
{
    const size_t n = LAKE_MIN(na, nb);
    const int c = n ? memcmp(a, b, n) : 0; /* an empty buffer may be NULL */
    if (c)
        return c;
    return na < nb ? -1 : na > nb;
}

static lake_status set_buf(lake_buf *b, const void *p, size_t n)
{
    b->len = 0;
    return lake_buf_append(b, p, n);
}

static lake_status stats_add_bytes(pq_stats *s, const void *p, size_t n)
{
    if (!s->has_minmax) {
        LAKE_TRY(set_buf(&s->smin, p, n));
        LAKE_TRY(set_buf(&s->smax, p, n));
        s->has_minmax = true;
        return LAKE_OK;
    }
    if (cmp_bytes(p, n, s->smin.data, s->smin.len) < 0)
        LAKE_TRY(set_buf(&s->smin, p, n));
    else if (cmp_bytes(p, n, s->smax.data, s->smax.len) > 0)
        LAKE_TRY(set_buf(&s->smax, p, n));
    return LAKE_OK;
}

static inline void stats_add_int(pq_stats *s, int64_t v)
{
    if (LAKE_UNLIKELY(!s->has_minmax)) {
        s->min.i = s->max.i = v;
        s->has_minmax = true;
    } else if (v < s->min.i) {
        s->min.i = v;
    } else if (v > s->max.i) {
        s->max.i = v;
    }
}

/* NaN takes no part in min/max (parquet-format, "NaN" in the ordering
 * rules); -0.0 and +0.0 are settled when written. */
static inline void stats_add_double(pq_stats *s, double v)
{
    if (isnan(v))
        return;
    if (LAKE_UNLIKELY(!s->has_minmax)) {
        s->min.d = s->max.d = v;
        s->has_minmax = true;
    } else if (v < s->min.d) {
        s->min.d = v;
    } else if (v > s->max.d) {
        s->max.d = v;
    }
}

/* Fold page statistics into the chunk's. */
static lake_status stats_merge(pq_stats *dst,
                               const pq_stats *src,
                               lake_pq_type type)
{
    dst->null_count += src->null_count;
    if (!src->has_minmax)
        return LAKE_OK;
    if (type == LAKE_PQ_STRING) {
        if (!dst->has_minmax) {
            LAKE_TRY(set_buf(&dst->smin, src->smin.data, src->smin.len));
            LAKE_TRY(set_buf(&dst->smax, src->smax.data, src->smax.len));
            dst->has_minmax = true;
            return LAKE_OK;
        }
        if (cmp_bytes(src->smin.data, src->smin.len, dst->smin.data,
                      dst->smin.len) < 0)
            LAKE_TRY(set_buf(&dst->smin, src->smin.data, src->smin.len));
        if (cmp_bytes(src->smax.data, src->smax.len, dst->smax.data,
                      dst->smax.len) > 0)
            LAKE_TRY(set_buf(&dst->smax, src->smax.data, src->smax.len));
        return LAKE_OK;
    }
    if (type == LAKE_PQ_DOUBLE) {
        if (!dst->has_minmax || src->min.d < dst->min.d)
            dst->min.d = src->min.d;
        if (!dst->has_minmax || src->max.d > dst->max.d)
            dst->max.d = src->max.d;
    } else {
        if (!dst->has_minmax || src->min.i < dst->min.i)
            dst->min.i = src->min.i;
        if (!dst->has_minmax || src->max.i > dst->max.i)
            dst->max.i = src->max.i;
    }
    dst->has_minmax = true;
    return LAKE_OK;
}

/* Serialize a Statistics struct as field @p id of the current struct. */
static void write_stats(lake_tc_writer *tc,
                        int16_t id,
                        const pq_stats *s,
                        lake_pq_type type)
{
    lake_tc_field_struct(tc, id);
    lake_tc_field_i64(tc, LAKE_PQ_STATS_NULL_COUNT, s->null_count);
    if (s->has_minmax) {
        uint8_t min[8], max[8];
        const void *pmin = min, *pmax = max;
        size_t n = 8;
        switch (type) {
        case LAKE_PQ_STRING:
            pmin = s->smin.data;
            pmax = s->smax.data;
            break;
        case LAKE_PQ_INT32: {
            const int32_t a = (int32_t)s->min.i, b = (int32_t)s->max.i;
            memcpy(min, &a, 4);
            memcpy(max, &b, 4);
            n = 4;
            break;
        }
        case LAKE_PQ_DOUBLE: {
            /* A zero minimum is written as -0.0 and a zero maximum as
             * +0.0, so that both zeros lie inside the bounds. */
            const double a = s->min.d == 0.0 ? -0.0 : s->min.d;
            const double b = s->max.d == 0.0 ? 0.0 : s->max.d;
            memcpy(min, &a, 8);
            memcpy(max, &b, 8);
            break;
        }
        case LAKE_PQ_INT64:
        case LAKE_PQ_TIMESTAMP_US:
            memcpy(min, &s->min.i, 8);
            memcpy(max, &s->max.i, 8);
            break;
        }
        const bool small = type != LAKE_PQ_STRING ||
                           (s->smin.len <= LAKE_PQ_STATS_MAX_BYTES &&
                            s->smax.len <= LAKE_PQ_STATS_MAX_BYTES);
        if (small) {
            const size_t nmin = type == LAKE_PQ_STRING ? s->smin.len : n;
            const size_t nmax = type == LAKE_PQ_STRING ? s->smax.len : n;
            lake_tc_field_binary(tc, LAKE_PQ_STATS_MAX_VALUE, pmax, nmax);
            lake_tc_field_binary(tc, LAKE_PQ_STATS_MIN_VALUE, pmin, nmin);
            lake_tc_field_bool(tc, LAKE_PQ_STATS_IS_MAX_EXACT, true);
            lake_tc_field_bool(tc, LAKE_PQ_STATS_IS_MIN_EXACT, true);
        }
    }
    lake_tc_struct_end(tc);
}

/* ---- pages ---- */

/* Compress @p n bytes at @p src with the writer's codec; @p out and
 * @p out_len receive the result (possibly @p src itself). */
static lake_status compress(lake_pq_writer *w,
                            const char *src,
                            size_t n,
                            const char **out,
                            size_t *out_len,
                            lake_error *err)
{
    lake_status rc;
    w->cbuf.len = 0;
    switch (w->codec) {
    case LAKE_CODEC_NONE:
        *out = src;
        *out_len = n;
        return LAKE_OK;
    case LAKE_CODEC_SNAPPY: {
        size_t cap = snappy_max_compressed_length(n);
        rc = lake_buf_reserve(&w->cbuf, cap);
        if (rc != LAKE_OK)
            return fail_status(w, err, rc, "compress page");
        if (snappy_compress(src, n, w->cbuf.data, &cap) != SNAPPY_OK)
            return fail(w, err, LAKE_EINVAL, "snappy failed on %zu bytes",
                        n);
        *out = w->cbuf.data;
        *out_len = cap;
        return LAKE_OK;
    }
    case LAKE_CODEC_ZSTD: {
        const size_t cap = ZSTD_compressBound(n);
        rc = lake_buf_reserve(&w->cbuf, cap);
        if (rc != LAKE_OK)
            return fail_status(w, err, rc, "compress page");
        const size_t r = ZSTD_compressCCtx(w->zctx, w->cbuf.data, cap, src,
                                           n, w->zstd_level);
        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation)
                return fail(w, err, LAKE_ENOMEM,
                            "compress page: out of memory (zstd)");
            return fail(w, err, LAKE_EINVAL, "zstd failed on %zu bytes: %s",
                        n, ZSTD_getErrorName(r));
        }
        *out = w->cbuf.data;
        *out_len = r;
        return LAKE_OK;
    }
    }
    return fail(w, err, LAKE_EINVAL, "unknown codec %d", (int)w->codec);
}

/* Compress the page body (@p body_len bytes at @p body), frame it with a
 * PageHeader of @p page_type for @p c, and append both to @p dst. */
static lake_status emit_page(lake_pq_writer *w,
                             pq_col *c,
                             int page_type,
                             const char *body,
                             size_t body_len,
                             lake_buf *dst,
                             int64_t *uncompressed,
                             lake_error *err)
{
    const char *cdata = NULL;
    size_t clen = 0;
    if (body_len > INT32_MAX)
        return fail(w, err, LAKE_ETOOBIG,
                    "column \"%s\": page of %zu bytes is over 2 GiB",
                    c->name, body_len);
    LAKE_TRY(compress(w, body, body_len, &cdata, &clen, err));
    if (clen > INT32_MAX)
        return fail(w, err, LAKE_ETOOBIG,
                    "column \"%s\": compressed page is over 2 GiB", c->name);
    lake_tc_writer tc;
    w->hdr.len = 0;
    lake_tc_init(&tc, &w->hdr);
    lake_tc_struct_begin(&tc);
    lake_tc_field_i32(&tc, LAKE_PQ_PH_TYPE, page_type);
    lake_tc_field_i32(&tc, LAKE_PQ_PH_UNCOMPRESSED, (int32_t)body_len);
    lake_tc_field_i32(&tc, LAKE_PQ_PH_COMPRESSED, (int32_t)clen);
    if (page_type == LAKE_PQ_PAGE_DICTIONARY) {
        lake_tc_field_struct(&tc, LAKE_PQ_PH_DICT_HEADER);
        lake_tc_field_i32(&tc, LAKE_PQ_DICTH_NUM_VALUES, (int32_t)c->dict.n);
        lake_tc_field_i32(&tc, LAKE_PQ_DICTH_ENCODING, LAKE_PQ_ENC_PLAIN);
        lake_tc_struct_end(&tc);
    } else {
        const bool dict = c->page_n_idx > 0;
        lake_tc_field_struct(&tc, LAKE_PQ_PH_DATA_HEADER);
        lake_tc_field_i32(&tc, LAKE_PQ_DPH_NUM_VALUES,
                          (int32_t)c->page_n_values);
        lake_tc_field_i32(&tc, LAKE_PQ_DPH_ENCODING,
                          dict ? LAKE_PQ_ENC_RLE_DICTIONARY
                               : LAKE_PQ_ENC_PLAIN);
        lake_tc_field_i32(&tc, LAKE_PQ_DPH_DEF_ENCODING, LAKE_PQ_ENC_RLE);
        lake_tc_field_i32(&tc, LAKE_PQ_DPH_REP_ENCODING, LAKE_PQ_ENC_RLE);
        write_stats(&tc, LAKE_PQ_DPH_STATISTICS, &c->page_stats, c->type);
        lake_tc_struct_end(&tc);
    }
    lake_tc_struct_end(&tc);
    lake_status rc = lake_tc_status(&tc);
    if (rc == LAKE_OK)
        rc = lake_buf_reserve(dst, w->hdr.len + clen);
    if (rc != LAKE_OK)
        return fail_status(w, err, rc, "page header");
    memcpy(dst->data + dst->len, w->hdr.data, w->hdr.len);
    memcpy(dst->data + dst->len + w->hdr.len, cdata, clen);
    dst->len += w->hdr.len + clen;
    *uncompressed += (int64_t)(w->hdr.len + body_len);
    return LAKE_OK;
}

/* Encode the pending values of @p c as one data page (v1) of the chunk.
 * A page with dictionary indices is RLE_DICTIONARY, any other PLAIN. */
static lake_status flush_page(lake_pq_writer *w, pq_col *c, lake_error *err)
{
    if (c->page_n_values == 0)
        return LAKE_OK;
    lake_status rc = LAKE_OK;
    const bool dict = c->page_n_idx > 0;
    w->body.len = 0;
    if (c->nullable) {
        rc = lake_buf_append(&w->body, "\0\0\0\0", 4);
        if (rc == LAKE_OK)
            rc = lake_rle_encode_u8(c->levels, c->page_n_values, 1,
                                    &w->body);
        if (rc == LAKE_OK)
            lake_store_u32le((uint8_t *)w->body.data,
                             (uint32_t)(w->body.len - 4));
    }
    if (rc == LAKE_OK && dict) {
        const int bits = LAKE_MAX(1, lake_pq_bit_width(c->dict.n - 1));
        rc = lake_buf_append_byte(&w->body, (uint8_t)bits);
        if (rc == LAKE_OK)
            rc = lake_rle_encode_u32(c->idx, c->page_n_idx, bits, &w->body);
    } else if (rc == LAKE_OK && c->nullable) {
        rc = lake_buf_append(&w->body, c->plain.data, c->plain.len);
    }
    if (rc != LAKE_OK)
        return fail_status(w, err, rc, "encode page");
    /* A PLAIN page without levels is the value buffer itself. */
    const bool bare = !dict && !c->nullable;
    const char *body = bare ? c->plain.data : w->body.data;
    const size_t body_len = bare ? c->plain.len : w->body.len;
    LAKE_TRY(emit_page(w, c, LAKE_PQ_PAGE_DATA, body, body_len, &c->pages,
                       &c->pages_uncompressed, err));
    if (dict)
        c->n_dict_pages++;
    else
        c->n_plain_pages++;
    rc = stats_merge(&c->chunk_stats, &c->page_stats, c->type);
    if (rc != LAKE_OK)
        return fail_status(w, err, rc, "statistics");
    stats_clear(&c->page_stats);
    c->chunk_values += (int64_t)c->page_n_values;
    c->page_n_values = c->page_n_idx = 0;
    c->page_no++;
    c->plain.len = 0;
    return LAKE_OK;
}

/* Bytes the pending page would take, roughly, before compression. */
static size_t page_estimate(const pq_col *c)
{
    size_t n = c->plain.len + c->page_n_values / 8;
    if (c->page_n_idx)
        n += c->page_n_idx * (size_t)c->dict_bits / 8;
    return n;
}

static size_t row_group_estimate(const lake_pq_writer *w)
{
    size_t n = 0;
    for (size_t j = 0; j < w->n_cols; j++) {
        const pq_col *c = &w->cols[j];
        n += (size_t)c->pages_uncompressed + page_estimate(c) +
             c->dict.plain.len;
    }
    return n;
}

/* ---- output ---- */

static lake_status out_write(lake_pq_writer *w,
                             const void *p,
                             size_t n,
                             lake_error *err)
{
    const lake_status rc = lake_output_write(w->out, p, n, err);
    if (rc != LAKE_OK) {
        w->failed = true;
        return rc;
    }
    w->offset += (int64_t)n;
    return LAKE_OK;
}

static void write_column_chunk(const lake_pq_writer *w,
                               lake_tc_writer *tc,
                               const pq_col *c)
{
    const pq_chunk_meta *m = &c->meta;
    lake_tc_struct_begin(tc);
    lake_tc_field_i64(tc, LAKE_PQ_CC_FILE_OFFSET, m->start);
    lake_tc_field_struct(tc, LAKE_PQ_CC_META_DATA);
    lake_tc_field_i32(tc, LAKE_PQ_CMD_TYPE, lake_pq_physical_type(c->type));
    /* PLAIN for the dictionary page or PLAIN data pages, RLE for the
     * definition levels, RLE_DICTIONARY for dictionary-encoded pages. */
    int32_t uniq[3];
    size_t n_uniq = 0;
    if (m->dict_offset >= 0 || m->n_plain_pages > 0)
        uniq[n_uniq++] = LAKE_PQ_ENC_PLAIN;
    if (c->nullable)
        uniq[n_uniq++] = LAKE_PQ_ENC_RLE;
    if (m->n_dict_pages > 0)
        uniq[n_uniq++] = LAKE_PQ_ENC_RLE_DICTIONARY;
    lake_tc_field_list(tc, LAKE_PQ_CMD_ENCODINGS, LAKE_TC_I32, n_uniq);
    for (size_t i = 0; i < n_uniq; i++)
        lake_tc_i32(tc, uniq[i]);
    lake_tc_field_list(tc, LAKE_PQ_CMD_PATH, LAKE_TC_BINARY, 1);
    lake_tc_binary(tc, c->name, strlen(c->name));
    lake_tc_field_i32(tc, LAKE_PQ_CMD_CODEC, lake_pq_codec_id(w->codec));
    lake_tc_field_i64(tc, LAKE_PQ_CMD_NUM_VALUES, m->num_values);
    lake_tc_field_i64(tc, LAKE_PQ_CMD_UNCOMPRESSED, m->uncompressed);
    lake_tc_field_i64(tc, LAKE_PQ_CMD_COMPRESSED, m->compressed);
    lake_tc_field_i64(tc, LAKE_PQ_CMD_DATA_PAGE_OFFSET, m->data_offset);
    if (m->dict_offset >= 0)
        lake_tc_field_i64(tc, LAKE_PQ_CMD_DICT_PAGE_OFFSET, m->dict_offset);
    write_stats(tc, LAKE_PQ_CMD_STATISTICS, &c->chunk_stats, c->type);
    const size_t n_es = (m->dict_offset >= 0) + (m->n_dict_pages > 0) +
                        (m->n_plain_pages > 0);
    lake_tc_field_list(tc, LAKE_PQ_CMD_ENCODING_STATS, LAKE_TC_STRUCT, n_es);
    const struct {
        bool present;
        int page, enc;
        int32_t count;
    } es[3] = {
        {m->dict_offset >= 0, LAKE_PQ_PAGE_DICTIONARY, LAKE_PQ_ENC_PLAIN, 1},
        {m->n_dict_pages > 0, LAKE_PQ_PAGE_DATA, LAKE_PQ_ENC_RLE_DICTIONARY,
         m->n_dict_pages},
        {m->n_plain_pages > 0, LAKE_PQ_PAGE_DATA, LAKE_PQ_ENC_PLAIN,
         m->n_plain_pages},
    };
    for (size_t i = 0; i < 3; i++) {
        if (!es[i].present)
            continue;
        lake_tc_struct_begin(tc);
        lake_tc_field_i32(tc, LAKE_PQ_PES_PAGE_TYPE, es[i].page);
        lake_tc_field_i32(tc, LAKE_PQ_PES_ENCODING, es[i].enc);
        lake_tc_field_i32(tc, LAKE_PQ_PES_COUNT, es[i].count);
        lake_tc_struct_end(tc);
    }
    lake_tc_struct_end(tc); /* ColumnMetaData */
    lake_tc_struct_end(tc); /* ColumnChunk */
}

/* Make every memo entry stale: at each write call (the caller may change
 * its bytes between calls) and whenever the dictionaries are emptied. */
static void memo_forget(lake_pq_writer *w)
{
    if (++w->memo_gen != 0)
        return;
    for (size_t j = 0; j < w->n_cols; j++)
        if (w->cols[j].memo)
            memset(w->cols[j].memo, 0, MEMO_SLOTS * sizeof(pq_memo));
    w->memo_gen = 1;
}

static inline pq_memo *memo_slot(pq_col *c, const char *p, size_t n)
{
    const uint64_t h = ((uint64_t)(uintptr_t)p ^ (uint64_t)n) *
                       0x9E3779B97F4A7C15ULL;
    return &c->memo[h >> 54]; /* 64 - log2(MEMO_SLOTS) */
}

/* Empty the chunk of @p c (and its pending page) for the next row group
 * or file, keeping the memory. */
static void reset_chunk(const lake_pq_writer *w, pq_col *c)
{
    stats_clear(&c->page_stats);
    stats_clear(&c->chunk_stats);
    lake_pq_dict_clear(&c->dict);
    c->dict_mode = !w->no_dictionary;
    c->dict_leave = false;
    c->dict_bits = 0;
    c->page_n_values = c->page_n_idx = 0;
    c->plain.len = 0;
    c->page_no++; /* forget which entries the last page saw */
    c->chunk_nonnull = c->chunk_values = 0;
    c->pages.len = 0;
    c->pages_uncompressed = 0;
    c->n_dict_pages = c->n_plain_pages = 0;
}

static lake_status write_magic_once(lake_pq_writer *w, lake_error *err)
{
    if (w->offset == 0)
        return out_write(w, LAKE_PQ_MAGIC, 4, err);
    return LAKE_OK;
}

/* Write the current row group: per column its dictionary page (when the
 * chunk has one) and its data pages, then record the RowGroup for the
 * footer and reset the chunks for the next group. */
static lake_status flush_row_group(lake_pq_writer *w, lake_error *err)
{
    if (w->rg_rows == 0)
        return LAKE_OK;
    if (w->n_row_groups >= INT16_MAX)
        return fail(w, err, LAKE_ETOOBIG, "more than %d row groups",
                    INT16_MAX);
    LAKE_TRY(write_magic_once(w, err));
    int64_t total_uncompressed = 0, total_compressed = 0;
    const int64_t rg_start = w->offset;
    for (size_t j = 0; j < w->n_cols; j++) {
        pq_col *c = &w->cols[j];
        LAKE_TRY(flush_page(w, c, err));
        pq_chunk_meta *m = &c->meta;
        m->start = w->offset;
        m->dict_offset = -1;
        int64_t uncompressed = c->pages_uncompressed;
        if (c->dict.n > 0 && c->n_dict_pages > 0) {
            w->dpage.len = 0;
            LAKE_TRY(emit_page(w, c, LAKE_PQ_PAGE_DICTIONARY,
                               c->dict.plain.data, c->dict.plain.len,
                               &w->dpage, &uncompressed, err));
            LAKE_TRY(out_write(w, w->dpage.data, w->dpage.len, err));
            m->dict_offset = m->start;
        }
        m->data_offset = w->offset;
        LAKE_TRY(out_write(w, c->pages.data, c->pages.len, err));
        m->compressed = w->offset - m->start;
        m->uncompressed = uncompressed;
        m->num_values = c->chunk_values;
        m->n_dict_pages = c->n_dict_pages;
        m->n_plain_pages = c->n_plain_pages;
        total_uncompressed += uncompressed;
        total_compressed += m->compressed;
    }
    lake_tc_writer tc;
    lake_tc_init(&tc, &w->rg_meta);
    lake_tc_struct_begin(&tc);
    lake_tc_field_list(&tc, LAKE_PQ_RG_COLUMNS, LAKE_TC_STRUCT, w->n_cols);
    for (size_t j = 0; j < w->n_cols; j++)
        write_column_chunk(w, &tc, &w->cols[j]);
    lake_tc_field_i64(&tc, LAKE_PQ_RG_TOTAL_BYTE_SIZE, total_uncompressed);
    lake_tc_field_i64(&tc, LAKE_PQ_RG_NUM_ROWS, w->rg_rows);
    lake_tc_field_i64(&tc, LAKE_PQ_RG_FILE_OFFSET, rg_start);
    lake_tc_field_i64(&tc, LAKE_PQ_RG_TOTAL_COMPRESSED, total_compressed);
    lake_tc_field(&tc, LAKE_PQ_RG_ORDINAL, LAKE_TC_I16);
    lake_tc_varint(&tc, lake_zigzag64(w->n_row_groups));
    lake_tc_struct_end(&tc);
    if (lake_tc_status(&tc) != LAKE_OK)
        return fail_status(w, err, lake_tc_status(&tc), "row group footer");
    w->n_row_groups++;
    w->rg_rows = 0;
    for (size_t j = 0; j < w->n_cols; j++)
        reset_chunk(w, &w->cols[j]);
    memo_forget(w);
    return LAKE_OK;
}

/* ---- encoding values ---- */

/* Leave dictionary encoding for the rest of the chunk: the pending
 * indices become a page of their own first. */
static lake_status leave_dictionary(lake_pq_writer *w,
                                    pq_col *c,
                                    lake_error *err)
{
    LAKE_TRY(flush_page(w, c, err));
    c->dict_mode = false;
    c->dict_leave = false;
    return LAKE_OK;
}

/* Put one non-null value in the pending page: through the dictionary
 * while the chunk uses one, else PLAIN. A dictionary that is full leaves
 * first, so the value opens a PLAIN page; one that turns out to hold
 * nearly all distinct values is left at the next value. The caller
 * records the level and statistics afterwards. */
static lake_status put_value(lake_pq_writer *w,
                             pq_col *c,
                             const void *p,
                             size_t n,
                             lake_error *err)
{
    c->chunk_nonnull++;
    if (c->dict_mode) {
        uint32_t idx;
        const uint32_t before = c->dict.n;
        const lake_status rc =
            lake_pq_dict_put(&c->dict, p, n, w->dict_max_bytes, &idx);
        if (rc == LAKE_OK) {
            c->idx[c->page_n_idx++] = idx;
            if (c->dict.n == before)
                return LAKE_OK;
            c->dict_bits = lake_pq_bit_width(c->dict.n);
            const uint32_t d = c->dict.n;
            if (d >= DICT_UNIQUE_CHECK && (d & (d - 1)) == 0) {
                const int64_t seen = c->chunk_nonnull;
                if ((int64_t)d * 1000 > seen * 995 ||
                    (d >= DICT_RATIO_CHECK_MIN && (int64_t)d * 10 > seen * 9))
                    c->dict_leave = true;
            }
            return LAKE_OK;
        }
        if (rc != LAKE_ETOOBIG)
            return fail_status(w, err, rc, "dictionary");
        LAKE_TRY(leave_dictionary(w, c, err));
    }
    lake_status rc;
    if (LAKE_LIKELY(c->plain.cap - c->plain.len >= n + 4)) {
        uint8_t *dst = (uint8_t *)c->plain.data + c->plain.len;
        if (c->width == 8) {
            memcpy(dst, p, 8);
        } else if (c->width == 4) {
            memcpy(dst, p, 4);
        } else {
            lake_store_u32le(dst, (uint32_t)n);
            if (n)
                memcpy(dst + 4, p, n);
            n += 4;
        }
        c->plain.len += n;
        return LAKE_OK;
    }
    if (c->width) {
        rc = lake_buf_append(&c->plain, p, n);
    } else {
        rc = lake_buf_reserve(&c->plain, n + 4);
        if (rc == LAKE_OK) {
            uint8_t *dst = (uint8_t *)c->plain.data + c->plain.len;
            lake_store_u32le(dst, (uint32_t)n);
            if (n)
                memcpy(dst + 4, p, n);
            c->plain.len += n + 4;
        }
    }
    if (rc != LAKE_OK)
        return fail_status(w, err, rc, "encode value");
    return LAKE_OK;
}

/* Make room in the level and index arrays for @p rows more values of the
 * pending page (a page holds PAGE_MAX_VALUES at most). They grow on demand
 * so that a small file costs little memory. */
static lake_status reserve_values(lake_pq_writer *w,
                                  pq_col *c,
                                  int64_t rows,
                                  lake_error *err)
{
    const size_t need =
        LAKE_MIN(c->page_n_values + (size_t)rows, (size_t)PAGE_MAX_VALUES);
    if (need <= c->cap)
        return LAKE_OK;
    const size_t cap = LAKE_MIN(LAKE_MAX(need, 2 * c->cap), PAGE_MAX_VALUES);
    if (c->nullable) {
        uint8_t *p = lake_realloc(w->alloc, c->levels, c->cap, cap);
        if (!p)
            return fail_status(w, err, LAKE_ENOMEM, "page levels");
        c->levels = p;
    }
    if (!w->no_dictionary) {
        uint32_t *p = lake_realloc(w->alloc, c->idx, c->cap * sizeof(*p),
                                   cap * sizeof(*p));
        if (!p)
            return fail_status(w, err, LAKE_ENOMEM, "page indices");
        c->idx = p;
    }
    c->cap = cap;
    return LAKE_OK;
}

/* Whether dictionary entry @p idx of a string column already counted in
 * the pending page's statistics; marks it counted. Comparing a string
 * against the bounds once per page instead of once per value keeps
 * low-cardinality columns cheap. */
static lake_status seen_in_page(lake_pq_writer *w,
                                pq_col *c,
                                uint32_t idx,
                                bool *seen,
                                lake_error *err)
{
    if (idx >= c->seen_cap) {
        const size_t cap = LAKE_MAX((size_t)idx + 1, 2 * c->seen_cap);
        uint32_t *p = lake_realloc(w->alloc, c->seen,
                                   c->seen_cap * sizeof(*p),
                                   cap * sizeof(*p));
        if (!p)
            return fail_status(w, err, LAKE_ENOMEM, "statistics");
        memset(p + c->seen_cap, 0, (cap - c->seen_cap) * sizeof(*p));
        c->seen = p;
        c->seen_cap = cap;
    }
    *seen = c->seen[idx] == c->page_no;
    c->seen[idx] = c->page_no;
    return LAKE_OK;
}

/* Encode rows [begin, end) of one column. */
static lake_status encode_column(lake_pq_writer *w,
                                 pq_col *c,
                                 const lake_pq_column_data *cd,
                                 int64_t begin,
                                 int64_t end,
                                 lake_error *err)
{
    LAKE_TRY(reserve_values(w, c, end - begin, err));
    if (c->type == LAKE_PQ_STRING && c->dict_mode && !c->memo) {
        c->memo = lake_calloc(w->alloc, MEMO_SLOTS, sizeof(*c->memo));
        if (!c->memo)
            return fail_status(w, err, LAKE_ENOMEM, "string memo");
    }
    const bool prefetch = c->width != 0 && c->dict_mode;
    for (int64_t r = begin; r < end; r++) {
        /* A NULL row's value slot may be uninitialised: not read. */
        if (prefetch && r + PREFETCH_ROWS < end &&
            (!cd->valid || cd->valid[r + PREFETCH_ROWS])) {
            const void *slot = lake_pq_dict_slot_of(
                &c->dict, (const char *)cd->values +
                              (size_t)(r + PREFETCH_ROWS) * c->width);
            if (slot)
                LAKE_PREFETCH(slot);
        }
        if (LAKE_UNLIKELY(c->dict_leave))
            LAKE_TRY(leave_dictionary(w, c, err));
        if (c->page_n_values >= PAGE_MAX_VALUES ||
            page_estimate(c) >= w->page_bytes)
            LAKE_TRY(flush_page(w, c, err));
        const bool valid = !cd->valid || cd->valid[r];
        if (!valid) {
            if (!c->nullable)
                return fail(w, err, LAKE_EINVAL,
                            "column \"%s\": NULL at row %lld of the batch "
                            "in a required column",
                            c->name, (long long)r);
            c->levels[c->page_n_values++] = 0;
            c->page_stats.null_count++;
            continue;
        }
        lake_status rc = LAKE_OK;
        switch (c->type) {
        case LAKE_PQ_STRING: {
            const lake_strview *sv = (const lake_strview *)cd->values + r;
            if (sv->len > INT32_MAX)
                return fail(w, err, LAKE_ETOOBIG,
                            "column \"%s\": value at row %lld of the batch "
                            "is %zu bytes (over 2 GiB)",
                            c->name, (long long)r, sv->len);
            const char *p = sv->len ? sv->ptr : "";
            pq_memo *m = c->dict_mode ? memo_slot(c, p, sv->len) : NULL;
            bool seen = false;
            if (m && m->gen == w->memo_gen && m->ptr == p &&
                m->len == sv->len) {
                /* what put_value() does for a value in the dictionary */
                c->chunk_nonnull++;
                c->idx[c->page_n_idx++] = m->idx;
                LAKE_TRY(seen_in_page(w, c, m->idx, &seen, err));
            } else {
                const size_t before = c->page_n_idx;
                LAKE_TRY(put_value(w, c, p, sv->len, err));
                if (c->page_n_idx > before) {
                    LAKE_TRY(seen_in_page(w, c, c->idx[before], &seen, err));
                    if (m) {
                        m->ptr = p;
                        m->len = (uint32_t)sv->len;
                        m->idx = c->idx[before];
                        m->gen = w->memo_gen;
                    }
                }
            }
            if (!seen)
                rc = stats_add_bytes(&c->page_stats, p, sv->len);
            break;
        }
        case LAKE_PQ_INT32: {
            const int32_t *v = (const int32_t *)cd->values + r;
            LAKE_TRY(put_value(w, c, v, 4, err));
            stats_add_int(&c->page_stats, *v);
            break;
        }
        case LAKE_PQ_DOUBLE: {
            const double *v = (const double *)cd->values + r;
            LAKE_TRY(put_value(w, c, v, 8, err));
            stats_add_double(&c->page_stats, *v);
            break;
        }
        case LAKE_PQ_INT64:
        case LAKE_PQ_TIMESTAMP_US:
        default: {
            const int64_t *v = (const int64_t *)cd->values + r;
            LAKE_TRY(put_value(w, c, v, 8, err));
            stats_add_int(&c->page_stats, *v);
            break;
        }
        }
        if (rc != LAKE_OK)
            return fail_status(w, err, rc, "statistics");
        if (c->nullable)
            c->levels[c->page_n_values] = 1;
        c->page_n_values++;
    }
    return LAKE_OK;
}

/* Rows to encode before the next row-group size check: about what fits in
 * the rest of the group at the group's bytes per row so far. */
static int64_t slice_rows(const lake_pq_writer *w, int64_t left)
{
    int64_t n = 64;
    if (w->rg_rows > 0) {
        const size_t est = row_group_estimate(w);
        const size_t per_row = LAKE_MAX(est / (size_t)w->rg_rows, 1);
        const size_t room =
            est < w->row_group_bytes ? w->row_group_bytes - est : 0;
        n = (int64_t)LAKE_MIN(room / per_row + 1, SLICE_MAX_ROWS);
    }
    return LAKE_MIN(n, left);
}

/* ---- public API ---- */

static void *zstd_alloc(void *opaque, size_t size)
{
    return lake_malloc(opaque, size);
}

static void zstd_free(void *opaque, void *p)
{
    lake_free(opaque, p);
}

static bool valid_type(lake_pq_type t)
{
    return t == LAKE_PQ_STRING || t == LAKE_PQ_INT32 || t == LAKE_PQ_INT64 ||
           t == LAKE_PQ_DOUBLE || t == LAKE_PQ_TIMESTAMP_US;
}

lake_status lake_pq_writer_new(lake_output *out,
                               const lake_pq_column_def *columns,
                               size_t n_columns,
                               const lake_pq_writer_opts *opts,
                               lake_pq_writer **wp,
                               lake_error *err)
{
    static const lake_pq_writer_opts defaults = {0};
    if (!wp)
        return lake_error_set(err, LAKE_EINVAL, "parquet: no writer pointer");
    *wp = NULL;
    if (!opts)
        opts = &defaults;
    if (!out)
        return lake_error_set(err, LAKE_EINVAL, "parquet: no output");
    const char *name = lake_output_name(out);
    if (!columns || n_columns == 0)
        return lake_error_set(err, LAKE_EINVAL, "parquet: %s: no columns",
                              name);
    if (n_columns > INT32_MAX / 2)
        return lake_error_set(err, LAKE_EINVAL,
                              "parquet: %s: too many columns", name);
    for (size_t j = 0; j < n_columns; j++) {
        const lake_pq_column_def *d = &columns[j];
        if (!d->name || !d->name[0])
            return lake_error_set(err, LAKE_EINVAL,
                                  "parquet: %s: column %zu has no name",
                                  name, j);
        if (!valid_type(d->type))
            return lake_error_set(err, LAKE_EINVAL,
                                  "parquet: %s: column \"%s\": unknown "
                                  "type %d",
                                  name, d->name, (int)d->type);
        for (size_t k = 0; k < j; k++)
            if (strcmp(columns[k].name, d->name) == 0)
                return lake_error_set(err, LAKE_EINVAL,
                                      "parquet: %s: duplicate column "
                                      "\"%s\"",
                                      name, d->name);
    }
    if (opts->codec != LAKE_CODEC_SNAPPY && opts->codec != LAKE_CODEC_ZSTD &&
        opts->codec != LAKE_CODEC_NONE)
        return lake_error_set(err, LAKE_EINVAL,
                              "parquet: %s: unknown codec %d", name,
                              (int)opts->codec);
    if (opts->zstd_level < 0 || opts->zstd_level > ZSTD_maxCLevel())
        return lake_error_set(err, LAKE_EINVAL,
                              "parquet: %s: zstd level %d out of 1..%d",
                              name, opts->zstd_level, ZSTD_maxCLevel());
    for (size_t i = 0; i < opts->n_kv; i++)
        if (!opts->kv_keys || !opts->kv_values || !opts->kv_keys[i])
            return lake_error_set(err, LAKE_EINVAL,
                                  "parquet: %s: key-value pair %zu has no "
                                  "key",
                                  name, i);

    const lake_allocator *a = opts->alloc;
    lake_pq_writer *w = lake_calloc(a, 1, sizeof(*w));
    if (!w)
        return lake_error_set(err, LAKE_ENOMEM,
                              "parquet: %s: out of memory", name);
    w->alloc = a;
    w->out = out;
    w->name = name;
    w->codec = opts->codec;
    w->zstd_level = opts->zstd_level ? opts->zstd_level : 1;
    w->row_group_bytes =
        opts->row_group_bytes ? opts->row_group_bytes : DEFAULT_ROW_GROUP_BYTES;
    w->page_bytes = opts->page_bytes ? opts->page_bytes : DEFAULT_PAGE_BYTES;
    w->dict_max_bytes =
        opts->dict_max_bytes ? opts->dict_max_bytes : DEFAULT_DICT_MAX_BYTES;
    w->no_dictionary = opts->no_dictionary != 0;
    lake_buf_init(&w->body, a, 0);
    lake_buf_init(&w->cbuf, a, 0);
    lake_buf_init(&w->hdr, a, 0);
    lake_buf_init(&w->dpage, a, 0);
    lake_buf_init(&w->rg_meta, a, 0);
    /* From here on lake_pq_writer_free() can release a partial writer. */
    w->n_cols = n_columns;
    w->cols = lake_calloc(a, n_columns, sizeof(*w->cols));
    if (!w->cols) {
        w->n_cols = 0;
        goto oom;
    }
    for (size_t j = 0; j < n_columns; j++) {
        pq_col *c = &w->cols[j];
        c->type = columns[j].type;
        c->nullable = columns[j].nullable != 0;
        c->width = c->type == LAKE_PQ_STRING ? 0
                   : c->type == LAKE_PQ_INT32 ? 4
                                              : 8;
        c->dict_mode = !w->no_dictionary;
        lake_buf_init(&c->plain, a, 0);
        lake_buf_init(&c->pages, a, 0);
        stats_init(&c->page_stats, a);
        stats_init(&c->chunk_stats, a);
        lake_pq_dict_init(&c->dict, a, c->width);
        c->name = lake_strdup(a, columns[j].name);
        if (!c->name)
            goto oom;
        c->page_no = 1;
    }
    if (opts->n_kv) {
        w->kv = lake_calloc(a, 2 * opts->n_kv, sizeof(char *));
        if (!w->kv)
            goto oom;
        w->n_kv = opts->n_kv;
        for (size_t i = 0; i < opts->n_kv; i++) {
            w->kv[2 * i] = lake_strdup(a, opts->kv_keys[i]);
            if (!w->kv[2 * i])
                goto oom;
            if (opts->kv_values[i]) {
                w->kv[2 * i + 1] = lake_strdup(a, opts->kv_values[i]);
                if (!w->kv[2 * i + 1])
                    goto oom;
            }
        }
    }
    if (w->codec == LAKE_CODEC_ZSTD) {
        const ZSTD_customMem mem = {zstd_alloc, zstd_free,
                                    (void *)(uintptr_t)a};
        w->zctx = ZSTD_createCCtx_advanced(mem);
        if (!w->zctx)
            goto oom;
    }
    *wp = w;
    return LAKE_OK;
oom:
    lake_pq_writer_free(w);
    return lake_error_set(err, LAKE_ENOMEM, "parquet: %s: out of memory",
                          name);
}

lake_status lake_pq_writer_write(lake_pq_writer *w,
                                 const lake_pq_column_data *columns,
                                 int64_t n_rows,
                                 lake_error *err)
{
    if (w->failed)
        return lake_error_set(err, LAKE_EINVAL,
                              "parquet: %s: write after a failure", w->name);
    if (w->closed)
        return lake_error_set(err, LAKE_EINVAL,
                              "parquet: %s: write after close", w->name);
    if (n_rows < 0)
        return fail(w, err, LAKE_EINVAL, "negative row count %lld",
                    (long long)n_rows);
    if (n_rows == 0)
        return LAKE_OK;
    if (!columns)
        return fail(w, err, LAKE_EINVAL, "no column data");
    for (size_t j = 0; j < w->n_cols; j++)
        if (!columns[j].values)
            return fail(w, err, LAKE_EINVAL, "column \"%s\": no values",
                        w->cols[j].name);
    memo_forget(w);
    int64_t done = 0;
    while (done < n_rows) {
        const int64_t n = slice_rows(w, n_rows - done);
        for (size_t j = 0; j < w->n_cols; j++) {
            const lake_pq_column_data *cd = &columns[j];
            LAKE_TRY(encode_column(w, &w->cols[j], cd, done, done + n, err));
        }
        done += n;
        w->rows += n;
        w->rg_rows += n;
        if (row_group_estimate(w) >= w->row_group_bytes)
            LAKE_TRY(flush_row_group(w, err));
    }
    return LAKE_OK;
}

/* Write FileMetaData, its length and the closing magic. */
static lake_status write_footer(lake_pq_writer *w, lake_error *err)
{
    lake_buf f;
    lake_buf_init(&f, w->alloc, 0);
    lake_tc_writer tc;
    lake_tc_init(&tc, &f);
    lake_tc_struct_begin(&tc);
    lake_tc_field_i32(&tc, LAKE_PQ_FMD_VERSION, 2);
    lake_tc_field_list(&tc, LAKE_PQ_FMD_SCHEMA, LAKE_TC_STRUCT,
                       w->n_cols + 1);
    lake_tc_struct_begin(&tc);
    lake_tc_field_string(&tc, LAKE_PQ_SE_NAME, "schema");
    lake_tc_field_i32(&tc, LAKE_PQ_SE_NUM_CHILDREN, (int32_t)w->n_cols);
    lake_tc_struct_end(&tc);
    for (size_t j = 0; j < w->n_cols; j++)
        lake_pq_write_schema_element(&tc, w->cols[j].name, w->cols[j].type,
                                     w->cols[j].nullable);
    lake_tc_field_i64(&tc, LAKE_PQ_FMD_NUM_ROWS, w->rows);
    lake_tc_field_list(&tc, LAKE_PQ_FMD_ROW_GROUPS, LAKE_TC_STRUCT,
                       (size_t)w->n_row_groups);
    if (lake_tc_status(&tc) == LAKE_OK && w->rg_meta.len)
        tc.status = lake_buf_append(&f, w->rg_meta.data, w->rg_meta.len);
    lake_tc_field_list(&tc, LAKE_PQ_FMD_KV, LAKE_TC_STRUCT, w->n_kv + 2);
    const char *const mine[4] = {"writer.name", "sparkify liblake",
                                 "writer.version", LAKE_VERSION_STRING};
    for (size_t i = 0; i < 2 + w->n_kv; i++) {
        const char *k = i < 2 ? mine[2 * i] : w->kv[2 * (i - 2)];
        const char *v = i < 2 ? mine[2 * i + 1] : w->kv[2 * (i - 2) + 1];
        lake_tc_struct_begin(&tc);
        lake_tc_field_string(&tc, LAKE_PQ_KV_KEY, k);
        if (v)
            lake_tc_field_string(&tc, LAKE_PQ_KV_VALUE, v);
        lake_tc_struct_end(&tc);
    }
    lake_tc_field_string(&tc, LAKE_PQ_FMD_CREATED_BY, LAKE_PQ_CREATED_BY);
    lake_tc_field_list(&tc, LAKE_PQ_FMD_COLUMN_ORDERS, LAKE_TC_STRUCT,
                       w->n_cols);
    for (size_t j = 0; j < w->n_cols; j++) {
        lake_tc_struct_begin(&tc);            /* ColumnOrder (a union) */
        lake_tc_field_struct(&tc, 1);         /* TYPE_ORDER */
        lake_tc_struct_end(&tc);              /* TypeDefinedOrder {} */
        lake_tc_struct_end(&tc);
    }
    lake_tc_struct_end(&tc);
    lake_status rc = lake_tc_status(&tc);
    if (rc == LAKE_OK && f.len > UINT32_MAX)
        rc = LAKE_ETOOBIG;
    if (rc == LAKE_OK) {
        uint8_t tail[8];
        lake_store_u32le(tail, (uint32_t)f.len);
        memcpy(tail + 4, LAKE_PQ_MAGIC, 4);
        rc = lake_buf_append(&f, tail, 8);
    }
    if (rc != LAKE_OK) {
        lake_buf_reset(&f);
        return fail_status(w, err, rc, "footer");
    }
    rc = out_write(w, f.data, f.len, err);
    lake_buf_reset(&f);
    return rc;
}

lake_status lake_pq_writer_close(lake_pq_writer *w, lake_error *err)
{
    if (w->failed)
        return lake_error_set(err, LAKE_EINVAL,
                              "parquet: %s: close after a failure", w->name);
    if (w->closed)
        return lake_error_set(err, LAKE_EINVAL,
                              "parquet: %s: closed twice", w->name);
    LAKE_TRY(flush_row_group(w, err));
    LAKE_TRY(write_magic_once(w, err));
    LAKE_TRY(write_footer(w, err));
    w->closed = true;
    return LAKE_OK;
}

lake_status lake_pq_writer_reopen(lake_pq_writer *w,
                                  lake_output *out,
                                  lake_error *err)
{
    if (!out)
        return lake_error_set(err, LAKE_EINVAL,
                              "parquet: %s: reopen without an output",
                              w->name);
    w->out = out;
    w->name = lake_output_name(out);
    w->rows = w->rg_rows = w->n_row_groups = w->offset = 0;
    w->rg_meta.len = 0;
    w->failed = w->closed = false;
    for (size_t j = 0; j < w->n_cols; j++)
        reset_chunk(w, &w->cols[j]);
    memo_forget(w);
    return LAKE_OK;
}

int64_t lake_pq_writer_rows(const lake_pq_writer *w)
{
    return w->rows;
}

void lake_pq_writer_free(lake_pq_writer *w)
{
    if (!w)
        return;
    const lake_allocator *a = w->alloc;
    for (size_t j = 0; j < w->n_cols; j++) {
        pq_col *c = &w->cols[j];
        lake_free(a, c->name);
        lake_free(a, c->levels);
        lake_free(a, c->idx);
        lake_free(a, c->seen);
        lake_free(a, c->memo);
        lake_buf_reset(&c->plain);
        lake_buf_reset(&c->pages);
        stats_free(&c->page_stats);
        stats_free(&c->chunk_stats);
        lake_pq_dict_free(&c->dict);
    }
    lake_free(a, w->cols);
    for (size_t i = 0; i < 2 * w->n_kv; i++)
        lake_free(a, w->kv[i]);
    lake_free(a, w->kv);
    ZSTD_freeCCtx(w->zctx);
    lake_buf_reset(&w->body);
    lake_buf_reset(&w->cbuf);
    lake_buf_reset(&w->hdr);
    lake_buf_reset(&w->dpage);
    lake_buf_reset(&w->rg_meta);
    lake_free(a, w);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* thrift_compact.c - the Thrift compact protocol encoder behind the
 * Parquet footer and page headers (see thrift_compact.h for why it is
 * hand-written). */
#include "fmacros.h"

#include <string.h>

#include "lake_common.h"
#include "parquet/thrift_compact.h"
#include "lake_internal.h"

void lake_tc_init(lake_tc_writer *w, lake_buf *buf)
{
    w->buf = buf;
    w->status = LAKE_OK;
    w->depth = 0;
    w->last_id[0] = 0;
}

size_t lake_varint_encode(uint64_t v, uint8_t *out)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static void put(lake_tc_writer *w, const void *p, size_t n)
{
    if (w->status == LAKE_OK)
        w->status = lake_buf_append(w->buf, p, n);
}

static void put_byte(lake_tc_writer *w, uint8_t b)
{
    lake_buf *buf = w->buf;
    if (LAKE_LIKELY(w->status == LAKE_OK && buf->len < buf->cap &&
                    buf->len < buf->max))
        buf->data[buf->len++] = (char)b;
    else
        put(w, &b, 1);
}

void lake_tc_varint(lake_tc_writer *w, uint64_t v)
{
    lake_buf *buf = w->buf;
    if (LAKE_LIKELY(w->status == LAKE_OK && buf->cap - buf->len >= 10 &&
                    buf->max - buf->len >= 10)) {
        buf->len += lake_varint_encode(v, (uint8_t *)buf->data + buf->len);
        return;
    }
    uint8_t tmp[10];
    put(w, tmp, lake_varint_encode(v, tmp));
}

void lake_tc_field(lake_tc_writer *w, int16_t id, uint8_t type)
{
    const int delta = id - w->last_id[w->depth];
    if (delta > 0 && delta <= 15) {
        put_byte(w, (uint8_t)(delta << 4 | type));
    } else {
        put_byte(w, type);
        lake_tc_varint(w, lake_zigzag64(id));
    }
    w->last_id[w->depth] = id;
}

void lake_tc_field_bool(lake_tc_writer *w, int16_t id, bool v)
{
    lake_tc_field(w, id, v ? LAKE_TC_TRUE : LAKE_TC_FALSE);
}

void lake_tc_i32(lake_tc_writer *w, int32_t v)
{
    lake_tc_varint(w, lake_zigzag64(v));
}

void lake_tc_i64(lake_tc_writer *w, int64_t v)
{
    lake_tc_varint(w, lake_zigzag64(v));
}

void lake_tc_binary(lake_tc_writer *w, const void *p, size_t n)
{
    lake_tc_varint(w, n);
    put(w, p, n);
}

void lake_tc_field_i32(lake_tc_writer *w, int16_t id, int32_t v)
{
    lake_tc_field(w, id, LAKE_TC_I32);
    lake_tc_i32(w, v);
}

void lake_tc_field_i64(lake_tc_writer *w, int16_t id, int64_t v)
{
    lake_tc_field(w, id, LAKE_TC_I64);
    lake_tc_i64(w, v);
}

void lake_tc_field_binary(lake_tc_writer *w,
                          int16_t id,
                          const void *p,
                          size_t n)
{
    lake_tc_field(w, id, LAKE_TC_BINARY);
    lake_tc_binary(w, p, n);
}

void lake_tc_field_string(lake_tc_writer *w, int16_t id, const char *s)
{
    lake_tc_field_binary(w, id, s, strlen(s));
}

void lake_tc_struct_begin(lake_tc_writer *w)
{
    if (w->depth + 1 >= LAKE_TC_MAX_DEPTH) {
        if (w->status == LAKE_OK)
            w->status = LAKE_EINVAL; /* a programming error; never data */
        return;
    }
    w->last_id[++w->depth] = 0;
}

void lake_tc_field_struct(lake_tc_writer *w, int16_t id)
{
    lake_tc_field(w, id, LAKE_TC_STRUCT);
    lake_tc_struct_begin(w);
}

void lake_tc_struct_end(lake_tc_writer *w)
{
    put_byte(w, LAKE_TC_STOP);
    if (w->depth > 0)
        w->depth--;
}

void lake_tc_list_header(lake_tc_writer *w, uint8_t elem_type, size_t n)
{
    if (n < 15) {
        put_byte(w, (uint8_t)(n << 4 | elem_type));
    } else {
        put_byte(w, (uint8_t)(0xF0 | elem_type));
        lake_tc_varint(w, n);
    }
}

void lake_tc_field_list(lake_tc_writer *w,
                        int16_t id,
                        uint8_t elem_type,
                        size_t n)
{
    lake_tc_field(w, id, LAKE_TC_LIST);
    lake_tc_list_header(w, elem_type, n);
}

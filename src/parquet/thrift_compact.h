/* SPDX-License-Identifier: Apache-2.0 */
/* thrift_compact.h - a writer of the Thrift compact protocol, just the
 * parts that Parquet's footer and page headers need. It is hand-written
 * because Debian packages no C library for Parquet or for Thrift's compact
 * protocol (the Thrift C library is GLib-based and binary-protocol first);
 * the encoding is small and fully specified by Thrift's
 * doc/specs/thrift-compact-protocol.md. */
#ifndef LAKE_THRIFT_COMPACT_H
#define LAKE_THRIFT_COMPACT_H
#include "lake_common.h"

/* Compact protocol type nibbles. */
enum {
    LAKE_TC_STOP = 0,
    LAKE_TC_TRUE = 1,
    LAKE_TC_FALSE = 2,
    LAKE_TC_BYTE = 3,
    LAKE_TC_I16 = 4,
    LAKE_TC_I32 = 5,
    LAKE_TC_I64 = 6,
    LAKE_TC_DOUBLE = 7,
    LAKE_TC_BINARY = 8,
    LAKE_TC_LIST = 9,
    LAKE_TC_SET = 10,
    LAKE_TC_MAP = 11,
    LAKE_TC_STRUCT = 12
};

#define LAKE_TC_MAX_DEPTH 16

/* Appends encoded bytes to @p buf. Errors are sticky: after the first
 * failed append every call is a no-op and lake_tc_status() reports the
 * failure, so callers check once at the end. */
typedef struct lake_tc_writer {
    lake_buf *buf;
    lake_status status;                 /* first failure, or LAKE_OK */
    int depth;                          /* open nested structs */
    int16_t last_id[LAKE_TC_MAX_DEPTH]; /* last field id per struct level */
} lake_tc_writer;

void lake_tc_init(lake_tc_writer *w, lake_buf *buf);
static inline lake_status lake_tc_status(const lake_tc_writer *w)
{
    return w->status;
}

/* Raw pieces, also used by the Parquet encoders. */
static inline uint64_t lake_zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
/* Write @p v as an unsigned LEB128 varint into @p out (10 bytes room);
 * return the number of bytes. */
size_t lake_varint_encode(uint64_t v, uint8_t *out);
void lake_tc_varint(lake_tc_writer *w, uint64_t v);

/* A field header for field @p id of compact type @p type, in the current
 * struct. Booleans use lake_tc_field_bool instead. */
void lake_tc_field(lake_tc_writer *w, int16_t id, uint8_t type);
void lake_tc_field_bool(lake_tc_writer *w, int16_t id, bool v);
void lake_tc_field_i32(lake_tc_writer *w, int16_t id, int32_t v);
void lake_tc_field_i64(lake_tc_writer *w, int16_t id, int64_t v);
void lake_tc_field_binary(lake_tc_writer *w,
                          int16_t id,
                          const void *p,
                          size_t n);
void lake_tc_field_string(lake_tc_writer *w, int16_t id, const char *s);
/* Open a struct-valued field; close it with lake_tc_struct_end. */
void lake_tc_field_struct(lake_tc_writer *w, int16_t id);
/* A list field header of @p n elements of compact type @p elem_type. */
void lake_tc_field_list(lake_tc_writer *w,
                        int16_t id,
                        uint8_t elem_type,
                        size_t n);
/* A list header without a field (for nested lists, or a top-level one). */
void lake_tc_list_header(lake_tc_writer *w, uint8_t elem_type, size_t n);

/* Begin a struct that is a list element or the top-level value. */
void lake_tc_struct_begin(lake_tc_writer *w);
/* Write STOP and return to the enclosing struct. */
void lake_tc_struct_end(lake_tc_writer *w);

/* Values without a field header (list elements). */
void lake_tc_i32(lake_tc_writer *w, int32_t v);
void lake_tc_i64(lake_tc_writer *w, int64_t v);
void lake_tc_binary(lake_tc_writer *w, const void *p, size_t n);
#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* ingest_json.h - the two JSON engines behind the record reader: the
 * simdjson shim (fast path, one document per line) and our own RFC 8259
 * scanner (finds a value's extent, validates it, walks an object's
 * members). Both report an object's members as lake_jval. Internal to
 * src/ingest; compiles as C and C++. */
#ifndef LAKE_INGEST_JSON_H
#define LAKE_INGEST_JSON_H
#include "lake_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting of arrays and objects accepted (simdjson's default). */
#define LAKE_JSON_MAX_DEPTH 1024

typedef enum lake_jkind {
    LAKE_JV_NULL = 0,
    LAKE_JV_BOOL = 1,
    LAKE_JV_STRING = 2,
    LAKE_JV_NUMBER = 3,
    LAKE_JV_OBJECT = 4,
    LAKE_JV_ARRAY = 5
} lake_jkind;

/* What is known of a number. */
typedef enum lake_jnum {
    LAKE_JN_LITERAL = 0, /* only `s` (the literal text) is known */
    LAKE_JN_INT64 = 1,   /* integer literal that fits int64: `i64` */
    LAKE_JN_UINT64 = 2,  /* integer literal in (INT64_MAX, UINT64_MAX]: `d` */
    LAKE_JN_DOUBLE = 3   /* fraction or exponent: `d`, correctly rounded */
} lake_jnum;

/* One member value of the record's top-level object. */
typedef struct lake_jval {
    lake_jkind kind;
    lake_jnum num;  /* for LAKE_JV_NUMBER */
    lake_strview s; /* STRING: unescaped UTF-8; NUMBER: literal or {0} */
    int64_t i64;
    double d;
} lake_jval;

/* Called for each member of the top-level object, in order, with its
 * key (unescaped). Returns the slot to fill with the member's value, or
 * NULL when the member is not wanted (its value is still validated). */
typedef lake_jval *(*lake_jmember_fn)(void *ctx,
                                      const char *key,
                                      size_t key_len);

/* ---- simdjson shim (simdjson_shim.cpp) ---- */

typedef struct lake_sj lake_sj;

typedef enum lake_sj_result {
    LAKE_SJ_OK = 0,     /* valid JSON, members reported (if an object) */
    LAKE_SJ_NOT_OBJECT = 1, /* valid JSON, not an object */
    LAKE_SJ_FAIL = 2,   /* anything else: let the scanner decide */
    LAKE_SJ_NOMEM = 3   /* simdjson could not allocate */
} lake_sj_result;

/* The shim object lives in memory from @p alloc; simdjson's own buffers
 * (tape, string buffer) are allocated by simdjson with new(nothrow). */
LAKE_NODISCARD lake_status lake_sj_new(const lake_allocator *alloc,
                                       lake_sj **out,
                                       lake_error *err);
void lake_sj_free(lake_sj *sj);

/* Parse [p, p + n) as exactly one JSON document (p + n + 64 bytes must be
 * readable) and report the members of a top-level object to @p fn. The
 * views passed stay valid until the next parse. */
lake_sj_result lake_sj_parse_object(lake_sj *sj,
                                    const char *p,
                                    size_t n,
                                    lake_jmember_fn fn,
                                    void *ctx);

/* Nearest double of a valid JSON number literal. Returns false when the
 * value overflows to infinity (underflow gives a signed zero). */
bool lake_json_number_to_double(const char *lit, size_t n, double *out);

/* ---- our scanner (json_scan.c) ---- */

/* Validate one JSON value starting at @p p (its first byte, not
 * whitespace) and ending before @p end, per RFC 8259 and the depth limit.
 * A top-level number, true, false or null must be followed by whitespace,
 * one of {}[],:" or the end. On success returns true and sets *value_end
 * to just past the value; on failure returns false and sets *value_end to
 * where the scan stopped (on the line of the error, at or before it). */
bool lake_json_scan(const char *p, const char *end, const char **value_end);

/* Report the members of the valid object text [p, end) (as validated by
 * lake_json_scan) to @p fn. Escaped strings are unescaped into @p scratch,
 * which must hold at least end - p bytes. */
void lake_json_walk_object(const char *p,
                           const char *end,
                           char *scratch,
                           lake_jmember_fn fn,
                           void *ctx);

/* Tests: with @p on false, every record takes the scanner's path, so the
 * two engines can be checked against each other. */
struct lake_record_reader;
void lake_record_reader_set_fast_path(struct lake_record_reader *r, bool on);

#ifdef __cplusplus
}
#endif
#endif

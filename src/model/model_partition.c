/* SPDX-License-Identifier: Apache-2.0 */
/* model_partition.c - Hive partition folder names, escaped as Spark's
 * ExternalCatalogUtils.escapePathName does, plus our rules for NUL, "."
 * and "..", the literal text __HIVE_DEFAULT_PARTITION__, and overlong
 * values; lake_hive_partition_name() gives them to callers outside the
 * library (the Spark task-side writer, python/sparkify_spark/_native.py). */
#include "fmacros.h"

#include <string.h>

#include "lake_common.h"
#include "model/model.h"
#include "model/model_sha256.h"
#include "lake_internal.h"

#define HIVE_DEFAULT "__HIVE_DEFAULT_PARTITION__"
#define HIVE_DEFAULT_LITERAL "%5F_HIVE_DEFAULT_PARTITION__"
#define MAX_VALUE_BYTES 200 /* escaped values longer than this are cut */
#define HASH_HEX_DIGITS 16
/* A folder name is at most NAME_MAX (255) bytes. A cut value takes at
 * most MAX_VALUE_BYTES + 1 + HASH_HEX_DIGITS bytes, "=" one more. */
#define MAX_COLUMN_BYTES                                                      \
    (LAKE_HIVE_PARTITION_NAME_MAX - 1 - MAX_VALUE_BYTES - 1 - HASH_HEX_DIGITS)
_Static_assert(MAX_COLUMN_BYTES == 37, "lake.h documents 37 bytes");

static const char hex_upper[] = "0123456789ABCDEF";

/* Spark's set (0x01-0x1F, "#%'*\/:=?\\ 0x7F {[]^) plus NUL, as a bitmap
 * of the bytes below 128: bit c of word c / 64. */
static const uint64_t escape_bits[2] = {UINT64_C(0xa40084acffffffff),
                                        UINT64_C(0x8800000078000000)};

static bool needs_escape(uint8_t c)
{
    return c < 128 && (escape_bits[c >> 6] >> (c & 63)) & 1;
}

static size_t escaped_len(uint8_t c)
{
    return needs_escape(c) ? 3 : 1;
}

/* Append the escaped form of bytes [0, n) of @p s, @p need bytes long. */
static lake_status append_escaped(lake_buf *out,
                                  const char *s,
                                  size_t n,
                                  size_t need)
{
    LAKE_TRY(lake_buf_reserve(out, need));
    char *p = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        const uint8_t c = (uint8_t)s[i];
        if (needs_escape(c)) {
            *p++ = '%';
            *p++ = hex_upper[c >> 4];
            *p++ = hex_upper[c & 0xF];
        } else {
            *p++ = (char)c;
        }
    }
    out->len += need;
    return LAKE_OK;
}

/* Append @p s escaped; "." and ".." become %2E and %2E%2E, and an escaped
 * form longer than MAX_VALUE_BYTES is cut at a character boundary and
 * suffixed with "~" and the first 16 hex digits of SHA-256(@p s). */
static lake_status append_component(lake_buf *out, const char *s, size_t n)
{
    if ((n == 1 || n == 2) && memcmp(s, "..", n) == 0)
        return lake_buf_append(out, n == 1 ? "%2E" : "%2E%2E", 3 * n);

    /* Find the longest prefix [0, cut) whose escaped form fits and which
     * ends before a UTF-8 lead byte (or ASCII). Invalid UTF-8 may have
     * long runs of continuation bytes: after 3 of them any cut will do. */
    size_t total = 0, cut = 0, cut_total = 0, run = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t c = (uint8_t)s[i];
        const bool cont = (c & 0xC0) == 0x80;
        run = cont ? run + 1 : 0;
        if ((!cont || run > 3) && total <= MAX_VALUE_BYTES) {
            cut = i;
            cut_total = total;
        }
        total += escaped_len(c);
    }
    if (total <= MAX_VALUE_BYTES)
        return append_escaped(out, s, n, total);

    uint8_t md[LAKE_SHA256_BYTES];
    lake_model_sha256(s, n, md);
    char suffix[1 + HASH_HEX_DIGITS];
    suffix[0] = '~';
    for (int i = 0; i < HASH_HEX_DIGITS / 2; i++) {
        suffix[1 + 2 * i] = "0123456789abcdef"[md[i] >> 4];
        suffix[2 + 2 * i] = "0123456789abcdef"[md[i] & 0xF];
    }
    LAKE_TRY(append_escaped(out, s, cut, cut_total));
    return lake_buf_append(out, suffix, sizeof(suffix));
}

/* The text __HIVE_DEFAULT_PARTITION__ itself would read back as NULL;
 * readers compare the name before unescaping, so %5F keeps it a string. */
static bool is_hive_default(lake_strview v)
{
    return v.len == sizeof(HIVE_DEFAULT) - 1 &&
           memcmp(v.ptr, HIVE_DEFAULT, v.len) == 0;
}

lake_status lake_partition_name(const char *column,
                                lake_strview value,
                                bool present,
                                lake_buf *out)
{
    if (!column || !*column)
        return LAKE_EINVAL;
    const size_t old_len = out->len;
    lake_status rc = append_component(out, column, strlen(column));
    if (rc == LAKE_OK && out->len - old_len > MAX_COLUMN_BYTES)
        rc = LAKE_EINVAL;
    if (rc == LAKE_OK)
        rc = lake_buf_append_byte(out, '=');
    if (rc == LAKE_OK) {
        if (!present || value.len == 0)
            rc = lake_buf_append(out, HIVE_DEFAULT, sizeof(HIVE_DEFAULT) - 1);
        else if (is_hive_default(value))
            rc = lake_buf_append(out, HIVE_DEFAULT_LITERAL,
                                 sizeof(HIVE_DEFAULT_LITERAL) - 1);
        else
            rc = append_component(out, value.ptr, value.len);
    }
    if (rc != LAKE_OK)
        out->len = old_len;
    return rc;
}

lake_status lake_hive_partition_name(const char *column,
                                     const char *value,
                                     size_t value_len,
                                     int present,
                                     char *out,
                                     size_t out_cap,
                                     size_t *out_len,
                                     lake_error *err)
{
    if (out_len)
        *out_len = 0;
    if (!out)
        return lake_error_set(err, LAKE_EINVAL,
                              "model: partition name: no output buffer");
    if (out_cap > 0)
        out[0] = '\0';
    if (present && !value && value_len > 0)
        return lake_error_set(err, LAKE_EINVAL,
                              "model: partition name: NULL value of %zu "
                              "bytes",
                              value_len);
    /* A buffer that can hold every name: max below cap, so appends fail
     * with LAKE_ETOOBIG before they would ever reallocate it. */
    char name[LAKE_HIVE_PARTITION_NAME_MAX + 1];
    lake_buf b = {.data = name,
                  .len = 0,
                  .cap = sizeof(name),
                  .max = LAKE_HIVE_PARTITION_NAME_MAX,
                  .alloc = NULL};
    const lake_status rc = lake_partition_name(
        column, (lake_strview){value, value_len}, present != 0, &b);
    if (rc != LAKE_OK) /* a bad column: every name fits in b */
        return lake_error_set(err, rc,
                              "model: partition name: column is NULL, empty "
                              "or escapes to over %d bytes",
                              MAX_COLUMN_BYTES);
    if (out_len)
        *out_len = b.len;
    if (b.len >= out_cap)
        return lake_error_set(err, LAKE_ETOOBIG,
                              "model: partition name: %zu bytes do not fit "
                              "in %zu",
                              b.len + 1, out_cap);
    memcpy(out, name, b.len);
    out[b.len] = '\0';
    return LAKE_OK;
}

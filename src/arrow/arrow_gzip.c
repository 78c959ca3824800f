/* SPDX-License-Identifier: Apache-2.0 */
/* arrow_gzip.c - gunzip a file held in memory with the rules of
 * lake_read_file() (multi-member; truncation and trailing bytes are
 * errors), for files whose bytes come from Spark rather than a path. */
#include "fmacros.h"

#include <string.h>
#include <zlib.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "arrow/arrow_export.h"
#include "lake_internal.h"

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    return lake_calloc(opaque, items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    lake_free(opaque, p);
}

/* Grow @p out to hold @p need bytes plus the padding. */
static lake_status grow(lake_file_data *out, size_t need, const char *name,
                        lake_error *err)
{
    if (need > SIZE_MAX - LAKE_READ_PADDING)
        return lake_error_set(err, LAKE_ETOOBIG, "arrow: gunzip %s: too big",
                              name);
    need += LAKE_READ_PADDING;
    if (out->cap >= need)
        return LAKE_OK;
    char *p = lake_realloc(out->alloc, out->data, out->cap, need);
    if (!p)
        return lake_error_oom(err, "arrow");
    out->data = p;
    out->cap = need;
    return LAKE_OK;
}

lake_status lake_arrow_gunzip(const void *data,
                              size_t len,
                              const char *name,
                              size_t max_bytes,
                              lake_file_data *out,
                              lake_error *err)
{
    lake_status rc = LAKE_OK;
    out->alloc = lake_alloc_or_default(out->alloc);
    out->len = 0;
    if (len == 0)
        return lake_error_set(err, LAKE_EPARSE,
                              "arrow: gunzip %s: empty file, not gzip", name);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    zs.opaque = (voidpf)(uintptr_t)out->alloc;
    const int zrc = inflateInit2(&zs, 15 + 16);
    if (zrc != Z_OK)
        return zrc == Z_MEM_ERROR
                   ? lake_error_oom(err, "arrow")
                   : lake_error_set(err, LAKE_EPARSE,
                                    "arrow: gunzip %s: init", name);
    size_t guess = len < SIZE_MAX / 4 ? len * 4 : len;
    if (guess < 65536)
        guess = 65536;
    if (guess > max_bytes)
        guess = max_bytes;
    rc = grow(out, guess, name, err);
    if (rc != LAKE_OK)
        goto cleanup;
    const unsigned char *in = data;
    size_t in_left = len;
    bool member_done = false;
    for (;;) {
        if (zs.avail_in == 0) {
            if (in_left == 0) {
                if (!member_done)
                    rc = lake_error_set(err, LAKE_EPARSE,
                                        "arrow: gunzip %s: truncated gzip "
                                        "data at byte %zu",
                                        name, len);
                goto cleanup;
            }
            const size_t n = in_left < (1u << 30) ? in_left : (1u << 30);
            zs.next_in = (Bytef *)(uintptr_t)in;
            zs.avail_in = (uInt)n;
            in += n;
            in_left -= n;
        }
        if (member_done) {
            if (inflateReset(&zs) != Z_OK) {
                rc = lake_error_set(err, LAKE_EPARSE,
                                    "arrow: gunzip %s: reset", name);
                goto cleanup;
            }
            member_done = false;
        }
        if (out->len >= max_bytes ||
            out->len == out->cap - LAKE_READ_PADDING) {
            if (out->len >= max_bytes) {
                rc = lake_error_set(err, LAKE_ETOOBIG,
                                    "arrow: gunzip %s: over %zu bytes", name,
                                    max_bytes);
                goto cleanup;
            }
            const size_t want =
                out->len < max_bytes / 2 ? out->len * 2 : max_bytes;
            rc = grow(out, want, name, err);
            if (rc != LAKE_OK)
                goto cleanup;
        }
        size_t room = out->cap - LAKE_READ_PADDING - out->len;
        if (room > max_bytes - out->len)
            room = max_bytes - out->len;
        if (room > (1u << 30))
            room = 1u << 30;
        zs.next_out = (Bytef *)out->data + out->len;
        zs.avail_out = (uInt)room;
        const int r = inflate(&zs, Z_NO_FLUSH);
        out->len += room - zs.avail_out;
        if (r == Z_STREAM_END) {
            member_done = true;
        } else if (r == Z_MEM_ERROR) {
            rc = lake_error_oom(err, "arrow");
            goto cleanup;
        } else if (r == Z_BUF_ERROR) {
            if (zs.avail_in != 0 && zs.avail_out != 0)
                goto corrupt;
        } else if (r != Z_OK) {
            goto corrupt;
        }
    }
corrupt:
    rc = lake_error_set(err, LAKE_EPARSE,
                        "arrow: gunzip %s: corrupt gzip data at byte %zu: %s",
                        name, (size_t)zs.total_in,
                        zs.msg ? zs.msg : "bad data");
cleanup:
    inflateEnd(&zs);
    if (rc == LAKE_OK)
        memset(out->data + out->len, 0, LAKE_READ_PADDING);
    else
        out->len = 0;
    return rc;
}

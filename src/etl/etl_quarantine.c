/* SPDX-License-Identifier: Apache-2.0 */
/* etl_quarantine.c - rejected records as JSON Lines ({"source", "line",
 * "reason", "raw"}), collected per worker on disk by input file and
 * written to _quarantine/ in input order. */
#include "fmacros.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "etl/etl_internal.h"
#include "lake_internal.h"

#define QBUF_FLUSH_BYTES (4 * 1024 * 1024)

lake_status etl_json_escape(lake_buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    LAKE_TRY(lake_buf_reserve(b, n + 16));
    while (i < n) {
        /* Copy the run of bytes that need nothing. */
        size_t j = i;
        while (j < n && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' &&
               s[j] != '\\')
            j++;
        if (j > i) {
            LAKE_TRY(lake_buf_append(b, s + i, j - i));
            i = j;
            if (i == n)
                break;
        }
        const uint8_t ch = s[i];
        if (ch >= 0x80) {
            size_t bad = 0;
            const size_t len = lake_utf8_seq(s + i, n - i, &bad);
            if (len) {
                LAKE_TRY(lake_buf_append(b, s + i, len));
                i += len;
            } else {
                LAKE_TRY(lake_buf_append(b, "\xEF\xBF\xBD", 3));
                i += bad;
            }
            continue;
        }
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t k = 2;
        switch (ch) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            k = 6;
        }
        LAKE_TRY(lake_buf_append(b, esc, k));
        i++;
    }
    return LAKE_OK;
}

static lake_status count_reason(etl_worker *w, const char *reason)
{
    w->quarantined++;
    for (size_t i = 0; i < w->n_reasons; i++) {
        if (!strcmp(w->reasons[i].reason, reason)) {
            w->reasons[i].count++;
            return LAKE_OK;
        }
    }
    const char *name = reason;
    if (w->n_reasons == LAKE_ETL_MAX_REASONS - 1) {
        name = "other";
        for (size_t i = 0; i < w->n_reasons; i++) {
            if (!strcmp(w->reasons[i].reason, name)) {
                w->reasons[i].count++;
                return LAKE_OK;
            }
        }
    }
    lake_etl_reason_count *r = &w->reasons[w->n_reasons++];
    snprintf(r->reason, sizeof(r->reason), "%s", name);
    r->count = 1;
    return LAKE_OK;
}

lake_status etl_quarantine_reason(etl_worker *w,
                                  const char *source,
                                  int64_t line,
                                  const char *reason,
                                  lake_strview raw,
                                  lake_error *err)
{
    lake_buf *b = &w->qbuf;
    lake_status rc = lake_buf_append_str(b, "{\"source\":\"");
    if (rc == LAKE_OK)
        rc = etl_json_escape(b, source, strlen(source));
    if (rc == LAKE_OK)
        rc = lake_buf_printf(b, "\",\"line\":%lld,\"reason\":\"",
                             (long long)line);
    if (rc == LAKE_OK)
        rc = etl_json_escape(b, reason, strlen(reason));
    if (rc == LAKE_OK)
        rc = lake_buf_append_str(b, "\",\"raw\":\"");
    if (rc == LAKE_OK)
        rc = etl_json_escape(b, raw.ptr, raw.len);
    if (rc == LAKE_OK)
        rc = lake_buf_append(b, "\"}\n", 3);
    if (rc != LAKE_OK)
        return lake_error_set(err, rc, "etl: quarantine %s line %lld: %s",
                              source, (long long)line,
                              rc == LAKE_ENOMEM ? "out of memory"
                                                : "record too big");
    LAKE_TRY(count_reason(w, reason));
    /* A file full of bad records must not fill memory. */
    if (b->len >= QBUF_FLUSH_BYTES)
        return etl_quarantine_flush(w, w->qkey, err);
    return LAKE_OK;
}

lake_status etl_quarantine_add(etl_worker *w,
                               const char *source,
                               const lake_reject *rej,
                               lake_error *err)
{
    return etl_quarantine_reason(w, source, rej->line, rej->reason, rej->raw,
                                 err);
}

lake_status etl_quarantine_flush(etl_worker *w,
                                 uint32_t file_idx,
                                 lake_error *err)
{
    if (w->qbuf.len == 0)
        return LAKE_OK;
    etl_ctx *c = w->ctx;
    if (w->qfd < 0) {
        char name[64];
        snprintf(name, sizeof(name), "quarantine-%d.tmp", w->id);
        LAKE_TRY(c->store->ops->scratch(c->store, name, &w->qfd, err));
    }
    etl_extent *e = etl_vec_push(&w->qext);
    if (!e)
        return lake_error_oom(err, "etl");
    e->key = file_idx;
    e->seq = w->qext.n; /* later pieces of the same file sort later */
    e->off = w->qoff;
    e->len = w->qbuf.len;
    e->worker = w->id;
    e->mem = NULL;
    size_t done = 0;
    while (done < w->qbuf.len) {
        const ssize_t k = pwrite(w->qfd, w->qbuf.data + done,
                                 w->qbuf.len - done,
                                 (off_t)(w->qoff + (int64_t)done));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return lake_error_errno(err, errno, "etl: write quarantine spill");
        }
        done += (size_t)k;
    }
    w->qoff += (int64_t)w->qbuf.len;
    w->qbuf.len = 0;
    if (w->qbuf.cap > QBUF_FLUSH_BYTES)
        lake_buf_reset(&w->qbuf);
    return LAKE_OK;
}

static int cmp_extent(const void *pa, const void *pb)
{
    const etl_extent *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

static int cmp_reason(const void *pa, const void *pb)
{
    const lake_etl_reason_count *a = pa, *b = pb;
    return strcmp(a->reason, b->reason);
}

static void merge_reasons(etl_ctx *c, lake_etl_report *r)
{
    r->n_reasons = 0;
    r->quarantined = 0;
    for (int t = 0; t < c->n_threads; t++) {
        const etl_worker *w = &c->workers[t];
        r->quarantined += w->quarantined;
        for (size_t i = 0; i < w->n_reasons; i++) {
            const lake_etl_reason_count *src = &w->reasons[i];
            size_t j = 0;
            while (j < r->n_reasons && strcmp(r->reasons[j].reason,
                                              src->reason) != 0)
                j++;
            if (j == LAKE_ETL_MAX_REASONS) {
                j = LAKE_ETL_MAX_REASONS - 1; /* fold into the last */
            } else if (j == r->n_reasons) {
                r->n_reasons++;
                r->reasons[j].count = 0;
                snprintf(r->reasons[j].reason, sizeof(r->reasons[j].reason),
                         "%s", src->reason);
            }
            r->reasons[j].count += src->count;
        }
    }
    qsort(r->reasons, r->n_reasons, sizeof(r->reasons[0]), cmp_reason);
}

lake_status etl_quarantine_write(etl_ctx *c,
                                 lake_etl_report *report,
                                 lake_error *err)
{
    lake_status rc = LAKE_OK;
    etl_vec all;
    lake_output *out = NULL;
    char *buf = NULL;
    size_t buf_cap = 0;
    etl_vec_init(&all, c->alloc, sizeof(etl_extent));
    merge_reasons(c, report);
    size_t total = 0;
    for (int t = 0; t < c->n_threads; t++)
        total += c->workers[t].qext.n;
    if (etl_vec_reserve(&all, total) != LAKE_OK) {
        rc = lake_error_oom(err, "etl");
        goto cleanup;
    }
    for (int t = 0; t < c->n_threads; t++) {
        const etl_vec *v = &c->workers[t].qext;
        if (v->n)
            memcpy(all.data + all.n * all.item, v->data, v->n * v->item);
        all.n += v->n;
    }
    if (all.n > 0) {
        qsort(all.data, all.n, all.item, cmp_extent);
        rc = c->store->ops->create(c->store, "_quarantine/part-00000.jsonl",
                                   &out, err);
        if (rc != LAKE_OK)
            goto cleanup;
        for (size_t i = 0; i < all.n; i++) {
            const etl_extent *e = &ETL_VEC_AT(&all, etl_extent, i);
            if (e->len > buf_cap) {
                lake_free(c->alloc, buf);
                buf_cap = e->len;
                buf = lake_malloc(c->alloc, buf_cap);
                if (!buf) {
                    rc = lake_error_oom(err, "etl");
                    goto cleanup;
                }
            }
            const int fd = c->workers[e->worker].qfd;
            size_t done = 0;
            while (done < e->len) {
                const ssize_t k = pread(fd, buf + done, e->len - done,
                                        (off_t)(e->off + (int64_t)done));
                if (k <= 0) {
                    if (k < 0 && errno == EINTR)
                        continue;
                    rc = lake_error_errno(err, k < 0 ? errno : EIO,
                                          "etl: read quarantine spill");
                    goto cleanup;
                }
                done += (size_t)k;
            }
            rc = lake_output_write(out, buf, e->len, err);
            if (rc != LAKE_OK)
                goto cleanup;
        }
        rc = lake_output_commit(out, err);
        if (rc != LAKE_OK)
            goto cleanup;
    }
    lake_output_free(out);
    out = NULL;
    rc = c->store->ops->create(c->store, "_quarantine/_SUCCESS", &out, err);
    if (rc == LAKE_OK)
        rc = lake_output_commit(out, err);
cleanup:
    lake_output_free(out);
    lake_free(c->alloc, buf);
    etl_vec_free(&all);
    return rc;
}

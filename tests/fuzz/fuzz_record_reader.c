/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_record_reader.c - the record reader on arbitrary bytes. The first
 * byte picks the record kind (bit 0); the rest is a file. Checks: no crash,
 * line numbers never decrease, raw text lies inside the buffer, every
 * record is consumed (progress), and the simdjson fast path and our
 * scanner give the same outcomes, reasons, lines, raw text and values. */
#include "fmacros.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "ingest/ingest_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_record_reader: %s\n", what);
        abort();
    }
}

static void put_text(lake_buf *b, const lake_text *t)
{
    if (!t->present) {
        check(lake_buf_append(b, "~|", 2) == LAKE_OK, "oom");
        return;
    }
    check(lake_buf_append(b, t->v.ptr, t->v.len) == LAKE_OK, "oom");
    check(lake_buf_append_byte(b, '|') == LAKE_OK, "oom");
}

/* Render every outcome of @p buf (n bytes, padded) into @p out. */
static void render(lake_rec_kind kind,
                   const char *buf,
                   size_t n,
                   bool fast,
                   lake_buf *out)
{
    lake_record_reader *r = NULL;
    lake_error err;
    check(lake_record_reader_new(NULL, &r, &err) == LAKE_OK, "new");
    lake_record_reader_set_fast_path(r, fast);
    lake_record_reader_reset(r, kind, buf, n);
    int64_t last_line = 1;
    for (size_t guard = 0;; guard++) {
        check(guard <= n + 1, "no progress");
        lake_song_rec s;
        lake_event_rec e;
        lake_reject rej;
        lake_next nx;
        check(lake_record_reader_next(
                  r, kind == LAKE_REC_SONG ? (void *)&s : (void *)&e, &rej,
                  &nx, &err) == LAKE_OK,
              "next failed");
        if (nx == LAKE_NEXT_END)
            break;
        if (nx == LAKE_NEXT_REJECT) {
            check(rej.line >= last_line, "line went back");
            last_line = rej.line;
            check(rej.raw.ptr >= buf && rej.raw.ptr + rej.raw.len <= buf + n,
                  "raw outside the buffer");
            check(lake_buf_printf(out, "J%lld %s %zu %zu\n",
                                  (long long)rej.line, rej.reason,
                                  (size_t)(rej.raw.ptr - buf),
                                  rej.raw.len) == LAKE_OK,
                  "oom");
            continue;
        }
        if (kind == LAKE_REC_SONG) {
            check(s.song_id.present && s.song_id.v.len > 0, "song_id");
            check(lake_buf_printf(out, "S%.17g %lld %d%.17g %d%.17g|",
                                  s.duration, (long long)s.year,
                                  s.has_latitude, s.artist_latitude,
                                  s.has_longitude,
                                  s.artist_longitude) == LAKE_OK,
                  "oom");
            put_text(out, &s.song_id);
            put_text(out, &s.title);
            put_text(out, &s.artist_id);
            put_text(out, &s.artist_name);
            put_text(out, &s.artist_location);
        } else {
            check(e.ts >= -2208988800000LL && e.ts < 32503680000000LL, "ts");
            check(lake_buf_printf(out, "E%lld %lld %lld %d%lld %d%.17g|",
                                  (long long)e.ts, (long long)e.session_id,
                                  (long long)e.item_in_session, e.has_user,
                                  (long long)e.user_id, e.has_length,
                                  e.length) == LAKE_OK,
                  "oom");
            put_text(out, &e.page);
            put_text(out, &e.level);
            put_text(out, &e.first_name);
            put_text(out, &e.last_name);
            put_text(out, &e.gender);
            put_text(out, &e.location);
            put_text(out, &e.user_agent);
            put_text(out, &e.song);
            put_text(out, &e.artist);
        }
        check(lake_buf_append_byte(out, '\n') == LAKE_OK, "oom");
    }
    lake_record_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const lake_rec_kind kind = (data[0] & 1) ? LAKE_REC_SONG : LAKE_REC_EVENT;
    const size_t n = size - 1;
    char *buf = calloc(1, n + LAKE_READ_PADDING);
    check(buf != NULL, "oom");
    if (n)
        memcpy(buf, data + 1, n);
    lake_buf fast, slow;
    lake_buf_init(&fast, NULL, 0);
    lake_buf_init(&slow, NULL, 0);
    render(kind, buf, n, true, &fast);
    render(kind, buf, n, false, &slow);
    if (fast.len != slow.len ||
        (fast.len && memcmp(fast.data, slow.data, fast.len) != 0)) {
        fprintf(stderr, "fast:\n%.*s\nscanner:\n%.*s\n", (int)fast.len,
                fast.data ? fast.data : "", (int)slow.len,
                slow.data ? slow.data : "");
        check(false, "the two engines disagree");
    }
    lake_buf_reset(&fast);
    lake_buf_reset(&slow);
    free(buf);
    return 0;
}

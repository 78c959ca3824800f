/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_arrow_export.c - the Arrow C stream of an event file on arbitrary
 * bytes, in each row mode. The first byte picks the batch size (1 + its
 * low 4 bits rows, or the default when bit 4 is set); the rest is the
 * file. Checks against the every-row stream (LAKE_ARROW_ROWS_ALL):
 * - ROWS_PLAYS gives exactly its NextSong records, in order;
 * - ROWS_USERS its rejects in order, then of each user_id the record
 *   latest by (ts, session_id, item_in_session, rec), in rec order;
 * - a split read of the same bytes (lake_arrow_read_file_split over a
 *   temporary file) gives the ROWS_PLAYS rows, then the ROWS_USERS rows;
 * every row equal, column by column, to its ROWS_ALL row. No crash, no
 * leak (the sanitizers). */
#include "fmacros.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lake_common.h"
#include "arrow/arrow_export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_arrow_export: %s\n", what);
        abort();
    }
}

/* One stream's rows: each rendered (every column: validity and bytes),
 * with the fields the checks need. */
typedef struct row {
    char *text;
    size_t len;
    int64_t rec, user_id, ts, session_id, item;
    bool reject, play;
} row;

typedef struct rows {
    row *v;
    size_t n, cap;
} rows;

static void rows_free(rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].text);
    free(r->v);
    memset(r, 0, sizeof(*r));
}

static size_t col_of(const char *name)
{
    for (size_t i = 0; i < lake_arrow_n_columns(LAKE_ARROW_EVENTS); i++)
        if (!strcmp(lake_arrow_column_name(LAKE_ARROW_EVENTS, i), name))
            return i;
    check(false, "no such column");
    return 0;
}

static bool valid(const struct ArrowArray *c, int64_t r)
{
    const uint8_t *v = c->buffers[0];
    return v == NULL || (v[r >> 3] >> (r & 7)) & 1;
}

static int64_t i64(const struct ArrowArray *a, size_t col, int64_t r)
{
    const struct ArrowArray *c = a->children[col];
    return valid(c, r) ? ((const int64_t *)c->buffers[1])[r] : INT64_MIN;
}

static bool str_is(const struct ArrowArray *a, size_t col, int64_t r,
                   const char *want)
{
    const struct ArrowArray *c = a->children[col];
    if (!valid(c, r))
        return false;
    const int32_t *off = c->buffers[1];
    const size_t n = (size_t)(off[r + 1] - off[r]);
    return n == strlen(want) &&
           memcmp((const char *)c->buffers[2] + off[r], want, n) == 0;
}

/* Every row of @p s (all event columns) into @p out; the stream's
 * get_next status (0 at the end). */
static int drain(struct ArrowArrayStream *s, rows *out)
{
    struct ArrowSchema sc;
    if (s->get_schema(s, &sc) != 0)
        return -1;
    check(sc.n_children == (int64_t)lake_arrow_n_columns(LAKE_ARROW_EVENTS),
          "columns");
    const size_t c_rec = col_of("rec"), c_user = col_of("user_id"),
                 c_ts = col_of("ts"), c_sid = col_of("session_id"),
                 c_item = col_of("item_in_session"), c_page = col_of("page"),
                 c_reason = col_of("reason");
    int rc;
    for (;;) {
        struct ArrowArray a;
        rc = s->get_next(s, &a);
        if (rc != 0 || !a.release)
            break;
        for (int64_t r = 0; r < a.length; r++) {
            lake_buf b;
            lake_buf_init(&b, NULL, 0);
            for (int64_t k = 0; k < a.n_children; k++) {
                const struct ArrowArray *c = a.children[k];
                const char *f = sc.children[k]->format;
                const bool ok = valid(c, r);
                check(lake_buf_append_byte(&b, ok) == LAKE_OK, "oom");
                if (!ok)
                    continue;
                if (!strcmp(f, "u")) {
                    const int32_t *off = c->buffers[1];
                    const int32_t n = off[r + 1] - off[r];
                    check(n >= 0, "offsets");
                    check(lake_buf_append(&b, &n, sizeof(n)) == LAKE_OK &&
                              lake_buf_append(&b,
                                              (const char *)c->buffers[2] +
                                                  off[r],
                                              (size_t)n) == LAKE_OK,
                          "oom");
                } else {
                    const size_t w = !strcmp(f, "i") ? 4 : 8;
                    check(lake_buf_append(&b,
                                          (const char *)c->buffers[1] +
                                              (size_t)r * w,
                                          w) == LAKE_OK,
                          "oom");
                }
            }
            if (out->n == out->cap) {
                out->cap = out->cap ? 2 * out->cap : 16;
                out->v = realloc(out->v, out->cap * sizeof(*out->v));
                check(out->v != NULL, "oom");
            }
            row *x = &out->v[out->n++];
            x->len = b.len;
            x->text = lake_buf_take(&b, NULL, NULL);
            x->rec = i64(&a, c_rec, r);
            x->user_id = i64(&a, c_user, r);
            x->ts = i64(&a, c_ts, r);
            x->session_id = i64(&a, c_sid, r);
            x->item = i64(&a, c_item, r);
            x->reject = valid(a.children[c_reason], r);
            x->play = !x->reject && str_is(&a, c_page, r, "NextSong");
        }
        a.release(&a);
    }
    sc.release(&sc);
    return rc;
}

static bool same(const row *a, const row *b)
{
    return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

/* The ROWS_ALL rows @p all that mode @p m gives, in its order, into
 * @p want (pointers into @p all). */
static size_t expected(const rows *all, lake_arrow_rows m, const row **want)
{
    size_t n = 0;
    if (m == LAKE_ARROW_ROWS_PLAYS) {
        for (size_t i = 0; i < all->n; i++)
            if (all->v[i].play)
                want[n++] = &all->v[i];
        return n;
    }
    for (size_t i = 0; i < all->n; i++)
        if (all->v[i].reject)
            want[n++] = &all->v[i];
    /* each record whose user has no later (ts, session_id, item) record
     * (ties: the later one in input order wins), in rec order */
    for (size_t i = 0; i < all->n; i++) {
        const row *x = &all->v[i];
        if (x->reject)
            continue;
        bool latest = true;
        for (size_t j = 0; j < all->n && latest; j++) {
            const row *y = &all->v[j];
            if (j == i || y->reject || y->user_id != x->user_id)
                continue;
            /* an equal key: the one later in input wins */
            latest = y->ts != x->ts ? y->ts < x->ts
                     : y->session_id != x->session_id
                         ? y->session_id < x->session_id
                     : y->item != x->item ? y->item < x->item
                                          : j < i;
        }
        if (latest)
            want[n++] = x;
    }
    return n;
}

static void compare(const rows *got, const rows *all, lake_arrow_rows m)
{
    const row **want = malloc((all->n + 1) * sizeof(*want));
    check(want != NULL, "oom");
    const size_t n = expected(all, m, want);
    check(got->n == n, m == LAKE_ARROW_ROWS_PLAYS ? "plays: count"
                                                  : "users: count");
    for (size_t i = 0; i < n; i++)
        check(same(&got->v[i], want[i]),
              m == LAKE_ARROW_ROWS_PLAYS ? "plays: a row" : "users: a row");
    free(want);
}

static bool read_mode(const uint8_t *d, size_t n, lake_arrow_rows m,
                      int64_t batch_rows, rows *out)
{
    lake_arrow_opts o = {0};
    o.rows = m;
    o.batch_rows = batch_rows;
    struct ArrowArrayStream s;
    lake_error err;
    if (lake_arrow_read_records(LAKE_ARROW_EVENTS, d, n, "f.json", &o, &s,
                                &err) != LAKE_OK)
        return false;
    const int rc = drain(&s, out);
    s.release(&s);
    return rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const int64_t batch_rows = (data[0] & 0x10) ? 0 : 1 + (data[0] & 0xf);
    const uint8_t *d = data + 1;
    const size_t n = size - 1;
    rows all = {0}, plays = {0}, users = {0};
    if (!read_mode(d, n, LAKE_ARROW_ROWS_ALL, batch_rows, &all)) {
        rows_free(&all); /* corrupt input the reader refuses as a whole */
        return 0;
    }
    check(read_mode(d, n, LAKE_ARROW_ROWS_PLAYS, batch_rows, &plays),
          "plays failed where all rows did not");
    check(read_mode(d, n, LAKE_ARROW_ROWS_USERS, batch_rows, &users),
          "users failed where all rows did not");
    compare(&plays, &all, LAKE_ARROW_ROWS_PLAYS);
    compare(&users, &all, LAKE_ARROW_ROWS_USERS);
    rows_free(&plays);
    rows_free(&users);

    /* the split read of the same bytes */
    char path[] = "/tmp/fuzz_arrow_XXXXXX";
    const int fd = mkstemp(path);
    check(fd >= 0, "temporary file");
    check(n == 0 || write(fd, d, n) == (ssize_t)n, "write");
    close(fd);
    lake_arrow_opts o = {0};
    o.rows = LAKE_ARROW_ROWS_PLAYS;
    o.batch_rows = batch_rows;
    struct ArrowArrayStream ps, us;
    lake_error err;
    check(lake_arrow_read_file_split(path, "f.json", &o, 0, &ps, &us, &err) ==
              LAKE_OK,
          "split");
    unlink(path);
    check(drain(&ps, &plays) == 0 && drain(&us, &users) == 0,
          "split: a stream failed");
    ps.release(&ps);
    us.release(&us);
    compare(&plays, &all, LAKE_ARROW_ROWS_PLAYS);
    compare(&users, &all, LAKE_ARROW_ROWS_USERS);
    rows_free(&plays);
    rows_free(&users);
    rows_free(&all);
    return 0;
}

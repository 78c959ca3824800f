/* SPDX-License-Identifier: Apache-2.0 */
/* test_arrow_export.c - the Arrow C stream of records: schema, children,
 * validity, offsets, values, rejects, gzip, batching, release callbacks
 * and an out-of-memory sweep. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "lake_common.h"
#include "arrow/arrow_export.h"

static const char songs_text[] =
    "{\"song_id\":\"S1\",\"artist_id\":\"A1\",\"title\":\"T\","
    "\"artist_name\":\"N\",\"duration\":1.5,\"year\":0,"
    "\"artist_location\":\"\",\"artist_latitude\":1.25}\n"
    "{bad\n"
    "[1]\n"
    "{\"song_id\":\"S2\",\"artist_id\":\"A2\",\"title\":\"\","
    "\"artist_name\":112,\"duration\":2,\"year\":1999,"
    "\"artist_location\":\"Paris\"}\n"
    "\"\xff\xc3\"\n";

static const char events_text[] =
    "{\"ts\":1542837407796,\"page\":\"NextSong\",\"sessionId\":818,"
    "\"itemInSession\":5,\"userId\":\"15\",\"level\":\"paid\","
    "\"firstName\":\"\",\"song\":\"So\",\"artist\":\"Ar\",\"length\":3.5}\n"
    "{\"ts\":1542837407796,\"page\":\"Home\",\"sessionId\":1,"
    "\"itemInSession\":0,\"userId\":\"\"}\n"
    "{\"ts\":1542837407797,\"page\":\"Home\",\"sessionId\":2,"
    "\"itemInSession\":1,\"userId\":7,\"gender\":\"F\"}\n"
    "{\"ts\":1,\"page\":\"NextSong\",\"sessionId\":2,\"itemInSession\":1,"
    "\"song\":\"x\",\"artist\":\"y\"}\n";

/* ---- helpers ---- */

static struct ArrowArray *child(struct ArrowArray *a, size_t i)
{
    assert_true((int64_t)i < a->n_children);
    return a->children[i];
}

static bool is_valid(const struct ArrowArray *c, int64_t row)
{
    const uint8_t *v = c->buffers[0];
    return v == NULL || (v[row >> 3] >> (row & 7)) & 1;
}

static int64_t i64_at(struct ArrowArray *a, size_t col, int64_t row)
{
    const struct ArrowArray *c = child(a, col);
    assert_true(is_valid(c, row));
    return ((const int64_t *)c->buffers[1])[row];
}

static int32_t i32_at(struct ArrowArray *a, size_t col, int64_t row)
{
    const struct ArrowArray *c = child(a, col);
    assert_true(is_valid(c, row));
    return ((const int32_t *)c->buffers[1])[row];
}

static double f64_at(struct ArrowArray *a, size_t col, int64_t row)
{
    const struct ArrowArray *c = child(a, col);
    assert_true(is_valid(c, row));
    return ((const double *)c->buffers[1])[row];
}

static bool null_at(struct ArrowArray *a, size_t col, int64_t row)
{
    return !is_valid(child(a, col), row);
}

/* Assert that string @p col of @p row is @p want (NULL: a NULL value). */
static void assert_str(struct ArrowArray *a,
                       size_t col,
                       int64_t row,
                       const char *want)
{
    const struct ArrowArray *c = child(a, col);
    assert_int_equal(c->n_buffers, 3);
    const int32_t *off = c->buffers[1];
    if (!want) {
        assert_false(is_valid(c, row));
        assert_int_equal(off[row], off[row + 1]);
        return;
    }
    assert_true(is_valid(c, row));
    const size_t n = (size_t)(off[row + 1] - off[row]);
    assert_int_equal(n, strlen(want));
    assert_memory_equal((const char *)c->buffers[2] + off[row], want, n);
}

static size_t col_of(lake_arrow_kind kind, const char *name)
{
    for (size_t i = 0; i < lake_arrow_n_columns(kind); i++)
        if (!strcmp(lake_arrow_column_name(kind, i), name))
            return i;
    fail_msg("no column %s", name);
    return 0;
}

/* lake_arrow_opts.columns for the @p n columns @p names of @p kind. */
static uint64_t mask_of(lake_arrow_kind kind, const char *const *names,
                        size_t n)
{
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++)
        m |= (uint64_t)1 << col_of(kind, names[i]);
    return m;
}

static struct ArrowArrayStream open_text(lake_arrow_kind kind,
                                         const char *text,
                                         const char *source,
                                         const lake_arrow_opts *opts)
{
    struct ArrowArrayStream s;
    lake_error err;
    assert_int_equal(lake_arrow_read_records(kind, text, strlen(text), source,
                                             opts, &s, &err),
                     LAKE_OK);
    assert_non_null(s.release);
    return s;
}

/* ---- tests ---- */

static void test_arrow__schema(void **state)
{
    (void)state;
    struct ArrowArrayStream s =
        open_text(LAKE_ARROW_EVENTS, events_text, "e.json", NULL);
    struct ArrowSchema sc;
    assert_int_equal(s.get_schema(&s, &sc), 0);
    assert_string_equal(sc.format, "+s");
    assert_int_equal(sc.n_children, 27);
    assert_int_equal(lake_arrow_n_columns(LAKE_ARROW_EVENTS), 27);
    assert_string_equal(sc.children[0]->name, "source");
    assert_string_equal(sc.children[0]->format, "u");
    const size_t st = col_of(LAKE_ARROW_EVENTS, "start_time");
    assert_string_equal(sc.children[st]->format, "tsu:UTC");
    assert_string_equal(
        sc.children[col_of(LAKE_ARROW_EVENTS, "songplay_id")]->format, "l");
    assert_string_equal(sc.children[col_of(LAKE_ARROW_EVENTS, "hour")]->format,
                        "i");
    assert_string_equal(
        sc.children[col_of(LAKE_ARROW_EVENTS, "length")]->format, "g");
    for (int64_t i = 0; i < sc.n_children; i++) {
        assert_int_equal(sc.children[i]->flags, ARROW_FLAG_NULLABLE);
        assert_int_equal(sc.children[i]->n_children, 0);
        assert_non_null(sc.children[i]->release);
    }
    sc.release(&sc);
    assert_null(sc.release);
    s.release(&s);
    assert_null(s.release);
    assert_null(lake_arrow_column_name(LAKE_ARROW_SONGS, 14));
    assert_string_equal(lake_arrow_column_name(LAKE_ARROW_SONGS, 13), "raw");
}

/* A source name that is not UTF-8 (a file name is bytes) reaches the
 * utf8 `source` column repaired, one U+FFFD per maximal invalid subpart,
 * as the native engine's _quarantine/ writes it; ".gz" still counts. */
static void test_arrow__source_not_utf8(void **state)
{
    (void)state;
    struct ArrowArrayStream s = open_text(
        LAKE_ARROW_SONGS, "{\"song_id\": \"S1\", \"title\": \"t\", "
                          "\"artist_id\": \"A\", \"artist_name\": \"n\", "
                          "\"duration\": 1}\n{bad\n",
        "in/x\xFF\xC3y\xE2\x82.json", NULL);
    struct ArrowArray a;
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_int_equal(a.length, 2);
    const char *want = "in/x\xEF\xBF\xBD\xEF\xBF\xBDy\xEF\xBF\xBD.json";
    assert_str(&a, 0, 0, want);
    assert_str(&a, 0, 1, want); /* the reject row too */
    a.release(&a);
    s.release(&s);

    /* a .gz name after an invalid byte is still gunzipped: a bad gzip
     * stream fails as gzip, naming the repaired source */
    struct ArrowArrayStream g;
    lake_error err;
    assert_int_not_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, "nope", 4,
                                                 "b\xFF.json.gz", NULL, &g,
                                                 &err),
                         LAKE_OK);
    assert_non_null(strstr(err.message, "b\xEF\xBF\xBD.json.gz"));
}

static void test_arrow__songs_and_rejects(void **state)
{
    (void)state;
    struct ArrowArrayStream s =
        open_text(LAKE_ARROW_SONGS, songs_text, "in/s.json", NULL);
    struct ArrowArray a;
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_non_null(a.release);
    assert_int_equal(a.length, 5);
    assert_int_equal(a.n_children, 14);
    assert_int_equal(a.n_buffers, 1);
    assert_null(a.buffers[0]);
    const lake_arrow_kind k = LAKE_ARROW_SONGS;
    for (int64_t r = 0; r < 5; r++) {
        assert_str(&a, 0, r, "in/s.json");
        assert_int_equal(i64_at(&a, 1, r), r);
    }
    /* record 0 */
    assert_str(&a, col_of(k, "song_id"), 0, "S1");
    assert_str(&a, col_of(k, "artist_location"), 0, NULL); /* "" */
    assert_true(null_at(&a, col_of(k, "year"), 0));         /* 0 */
    assert_true(f64_at(&a, col_of(k, "duration"), 0) == 1.5);
    assert_true(f64_at(&a, col_of(k, "artist_latitude"), 0) == 1.25);
    assert_true(null_at(&a, col_of(k, "artist_longitude"), 0));
    assert_true(null_at(&a, col_of(k, "reason"), 0));
    /* rejects */
    assert_str(&a, col_of(k, "reason"), 1, "invalid_json");
    assert_int_equal(i64_at(&a, col_of(k, "line"), 1), 2);
    assert_str(&a, col_of(k, "raw"), 1, "{bad");
    assert_str(&a, col_of(k, "song_id"), 1, NULL);
    assert_true(null_at(&a, col_of(k, "duration"), 1));
    assert_str(&a, col_of(k, "reason"), 2, "not_an_object");
    assert_int_equal(i64_at(&a, col_of(k, "line"), 2), 3);
    /* record 3: "" title kept, a number as text */
    assert_str(&a, col_of(k, "title"), 3, "");
    assert_str(&a, col_of(k, "artist_name"), 3, "112");
    assert_int_equal(i32_at(&a, col_of(k, "year"), 3), 1999);
    assert_str(&a, col_of(k, "artist_location"), 3, "Paris");
    /* invalid UTF-8 in raw: one U+FFFD per maximal invalid subpart */
    assert_str(&a, col_of(k, "reason"), 4, "invalid_json");
    assert_str(&a, col_of(k, "raw"), 4, "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    /* null counts agree with the bitmaps */
    for (int64_t c = 0; c < a.n_children; c++) {
        int64_t nulls = 0;
        for (int64_t r = 0; r < a.length; r++)
            nulls += !is_valid(a.children[c], r);
        assert_int_equal(nulls, a.children[c]->null_count);
        assert_int_equal(a.children[c]->length, 5);
        assert_int_equal(a.children[c]->offset, 0);
        if (nulls == 0)
            assert_null(a.children[c]->buffers[0]);
    }
    /* offsets start at 0 and never decrease */
    const struct ArrowArray *raw = child(&a, col_of(k, "raw"));
    const int32_t *off = raw->buffers[1];
    assert_int_equal(off[0], 0);
    for (int r = 0; r < 5; r++)
        assert_true(off[r] <= off[r + 1]);
    struct ArrowArray end;
    assert_int_equal(s.get_next(&s, &end), 0);
    assert_null(end.release);
    /* the batch outlives the stream */
    s.release(&s);
    assert_str(&a, col_of(k, "song_id"), 0, "S1");
    a.release(&a);
    assert_null(a.release);
}

static void test_arrow__events(void **state)
{
    (void)state;
    struct ArrowArrayStream s =
        open_text(LAKE_ARROW_EVENTS, events_text, "e.json", NULL);
    struct ArrowArray a;
    assert_int_equal(s.get_next(&s, &a), 0);
    const lake_arrow_kind k = LAKE_ARROW_EVENTS;
    /* the logged-out Home event is left out; the NextSong without a user
     * is a reject */
    assert_int_equal(a.length, 3);
    assert_int_equal(i64_at(&a, col_of(k, "rec"), 0), 0);
    assert_int_equal(i64_at(&a, col_of(k, "rec"), 1), 2);
    assert_int_equal(i64_at(&a, col_of(k, "rec"), 2), 3);
    assert_int_equal(i64_at(&a, col_of(k, "songplay_id"), 0),
                     345691552365851248LL);
    assert_int_equal(i64_at(&a, col_of(k, "user_id"), 0), 15);
    assert_int_equal(i64_at(&a, col_of(k, "ts"), 0), 1542837407796LL);
    assert_int_equal(i64_at(&a, col_of(k, "start_time"), 0),
                     1542837407796000LL);
    /* 2018-11-21 21:56:47 UTC, a Wednesday, ISO week 47 */
    assert_int_equal(i32_at(&a, col_of(k, "hour"), 0), 21);
    assert_int_equal(i32_at(&a, col_of(k, "day"), 0), 21);
    assert_int_equal(i32_at(&a, col_of(k, "week"), 0), 47);
    assert_int_equal(i32_at(&a, col_of(k, "month"), 0), 11);
    assert_int_equal(i32_at(&a, col_of(k, "year"), 0), 2018);
    assert_int_equal(i32_at(&a, col_of(k, "weekday"), 0), 4);
    assert_str(&a, col_of(k, "level"), 0, "paid");
    assert_str(&a, col_of(k, "first_name"), 0, NULL); /* "" */
    assert_str(&a, col_of(k, "last_name"), 0, NULL);  /* missing */
    assert_str(&a, col_of(k, "song"), 0, "So");
    assert_true(f64_at(&a, col_of(k, "length"), 0) == 3.5);
    /* a Home event with a user: no songplay columns */
    assert_int_equal(i64_at(&a, col_of(k, "user_id"), 1), 7);
    assert_str(&a, col_of(k, "page"), 1, "Home");
    assert_str(&a, col_of(k, "gender"), 1, "F");
    assert_true(null_at(&a, col_of(k, "songplay_id"), 1));
    assert_true(null_at(&a, col_of(k, "weekday"), 1));
    assert_true(null_at(&a, col_of(k, "length"), 1));
    assert_str(&a, col_of(k, "reason"), 2, "missing_field:userId");
    assert_int_equal(i64_at(&a, col_of(k, "line"), 2), 4);
    a.release(&a);
    s.release(&s);
}

/* opts->columns keeps some columns (in the kind's order) and opts->rows
 * only the plays; the others are neither built nor in the schema. */
static void test_arrow__columns_and_plays(void **state)
{
    (void)state;
    const lake_arrow_kind k = LAKE_ARROW_EVENTS;
    const char *keep[] = {"rec", "user_id", "songplay_id", "hour"};
    lake_arrow_opts opts = {0};
    opts.columns = mask_of(k, keep, 4);
    opts.rows = LAKE_ARROW_ROWS_PLAYS;
    struct ArrowArrayStream s = open_text(k, events_text, "e.json", &opts);
    struct ArrowSchema sc;
    assert_int_equal(s.get_schema(&s, &sc), 0);
    assert_int_equal(sc.n_children, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(sc.children[i]->name, keep[i]);
    assert_string_equal(sc.children[3]->format, "i");
    sc.release(&sc);
    struct ArrowArray a;
    assert_int_equal(s.get_next(&s, &a), 0);
    /* only the NextSong with a user: the Home events and the reject are
     * left out */
    assert_int_equal(a.length, 1);
    assert_int_equal(a.n_children, 4);
    assert_int_equal(i64_at(&a, 0, 0), 0);
    assert_int_equal(i64_at(&a, 1, 0), 15);
    assert_int_equal(i64_at(&a, 2, 0), 345691552365851248LL);
    assert_int_equal(i32_at(&a, 3, 0), 21);
    a.release(&a);
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_null(a.release);
    s.release(&s);

    /* every row, one column: `rec` keeps counting every record */
    opts.columns = (uint64_t)1 << col_of(k, "reason") |
                   (uint64_t)1 << col_of(k, "rec");
    opts.rows = LAKE_ARROW_ROWS_ALL;
    s = open_text(k, events_text, "e.json", &opts);
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_int_equal(a.length, 3);
    assert_int_equal(a.n_children, 2);
    assert_int_equal(i64_at(&a, 0, 2), 3);
    assert_str(&a, 1, 0, NULL);
    assert_str(&a, 1, 2, "missing_field:userId");
    a.release(&a);
    s.release(&s);

    /* songs: a projection, no plays */
    opts.columns = (uint64_t)1 << col_of(LAKE_ARROW_SONGS, "title");
    s = open_text(LAKE_ARROW_SONGS, songs_text, "s.json", &opts);
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_int_equal(a.n_children, 1);
    assert_str(&a, 0, 0, "T");
    a.release(&a);
    s.release(&s);

    /* bits past the kind's columns, rows of no meaning for the kind */
    lake_error err;
    opts.columns = (uint64_t)1 << lake_arrow_n_columns(k);
    assert_int_equal(lake_arrow_read_records(k, "", 0, "x", &opts, &s, &err),
                     LAKE_EINVAL);
    assert_null(s.release);
    opts.columns = (uint64_t)1 << lake_arrow_n_columns(LAKE_ARROW_SONGS);
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, "", 0, "x",
                                             &opts, &s, &err),
                     LAKE_EINVAL);
    opts.columns = 0;
    opts.rows = LAKE_ARROW_ROWS_PLAYS;
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, "", 0, "x",
                                             &opts, &s, &err),
                     LAKE_EINVAL);
    opts.rows = (lake_arrow_rows)5;
    assert_int_equal(lake_arrow_read_records(k, "", 0, "x", &opts, &s, &err),
                     LAKE_EINVAL);
    assert_non_null(strstr(err.message, "rows 5"));
}

/* Whether row @p ra of @p a and row @p rb of @p b (batches of one kind's
 * columns, schema @p sc) hold the same values. */
static void assert_same_row(const struct ArrowSchema *sc,
                            struct ArrowArray *a,
                            int64_t ra,
                            struct ArrowArray *b,
                            int64_t rb)
{
    for (int64_t i = 0; i < sc->n_children; i++) {
        const struct ArrowArray *x = child(a, (size_t)i);
        const struct ArrowArray *y = child(b, (size_t)i);
        assert_int_equal(is_valid(x, ra), is_valid(y, rb));
        if (!is_valid(x, ra))
            continue;
        const char *f = sc->children[i]->format;
        if (!strcmp(f, "u")) {
            const int32_t *ox = x->buffers[1], *oy = y->buffers[1];
            assert_int_equal(ox[ra + 1] - ox[ra], oy[rb + 1] - oy[rb]);
            assert_memory_equal((const char *)x->buffers[2] + ox[ra],
                                (const char *)y->buffers[2] + oy[rb],
                                (size_t)(ox[ra + 1] - ox[ra]));
        } else {
            const size_t w = !strcmp(f, "i") ? 4 : 8;
            assert_memory_equal((const char *)x->buffers[1] + ra * (int64_t)w,
                                (const char *)y->buffers[1] + rb * (int64_t)w,
                                w);
        }
    }
}

static const char users_text[] =
    /* 0: user 5's first */
    "{\"ts\":1542837407000,\"page\":\"Home\",\"sessionId\":1,"
    "\"itemInSession\":0,\"userId\":\"5\",\"firstName\":\"A\"}\n"
    /* 1: user 6, then 5 ties with it and is later in input: 5 wins */
    "{\"ts\":1542837408000,\"page\":\"NextSong\",\"sessionId\":1,"
    "\"itemInSession\":0,\"userId\":6,\"firstName\":\"B\",\"song\":\"s\","
    "\"artist\":\"a\",\"length\":2.5,\"level\":\"free\"}\n"
    "{bad\n" /* 2 */
    /* 3: user 5's latest: a play, an escaped name, a user agent */
    "{\"ts\":1542837409000,\"page\":\"NextSong\",\"sessionId\":2,"
    "\"itemInSession\":1,\"userId\":\"5\",\"firstName\":\"A\\u00e9\","
    "\"level\":\"paid\",\"song\":\"t\",\"artist\":\"b\",\"length\":1,"
    "\"userAgent\":\"ua\",\"location\":\"L\",\"gender\":\"F\"}\n"
    /* 4: earlier than 3 by ts: not user 5's latest */
    "{\"ts\":1542837408500,\"page\":\"Home\",\"sessionId\":9,"
    "\"itemInSession\":9,\"userId\":\"5\",\"firstName\":\"X\"}\n"
    /* 5: the same (ts, sessionId, itemInSession) as 1: the later wins */
    "{\"ts\":1542837408000,\"page\":\"Logout\",\"sessionId\":1,"
    "\"itemInSession\":0,\"userId\":6,\"firstName\":\"C\"}\n"
    /* 6: no user: no table */
    "{\"ts\":1542837409999,\"page\":\"Home\",\"sessionId\":1,"
    "\"itemInSession\":0,\"userId\":\"\"}\n"
    /* 7: same ts as 3's user 5 but a smaller sessionId: not latest */
    "{\"ts\":1542837409000,\"page\":\"Home\",\"sessionId\":1,"
    "\"itemInSession\":7,\"userId\":\"5\",\"firstName\":\"Y\"}\n"
    /* 8: user 7, once */
    "{\"ts\":1542837400000,\"page\":\"Home\",\"sessionId\":3,"
    "\"itemInSession\":0,\"userId\":7}\n";

/* LAKE_ARROW_ROWS_USERS: the rejects, then each user's latest record
 * (ts, sessionId, itemInSession, then input order) in input order, each
 * row equal to its ROWS_ALL row, however the rows are batched and
 * whichever columns are built. */
static void test_arrow__users_rows(void **state)
{
    (void)state;
    const lake_arrow_kind k = LAKE_ARROW_EVENTS;
    lake_arrow_opts opts = {0};
    struct ArrowArrayStream all = open_text(k, users_text, "u.json", &opts);
    struct ArrowArray full;
    assert_int_equal(all.get_next(&all, &full), 0);
    assert_int_equal(full.length, 8); /* 8 records and rejects with a user */
    struct ArrowSchema sc;
    assert_int_equal(all.get_schema(&all, &sc), 0);
    const size_t c_rec = col_of(k, "rec");
    const int64_t want[] = {2, 3, 5, 8};
    for (int64_t batch_rows = 1; batch_rows <= 3; batch_rows++) {
        opts.batch_rows = batch_rows;
        opts.rows = LAKE_ARROW_ROWS_USERS;
        struct ArrowArrayStream s = open_text(k, users_text, "u.json", &opts);
        int64_t n = 0;
        for (;;) {
            struct ArrowArray a;
            assert_int_equal(s.get_next(&s, &a), 0);
            if (!a.release)
                break;
            assert_true(a.length <= batch_rows);
            for (int64_t r = 0; r < a.length; r++, n++) {
                assert_true(n < 4);
                const int64_t rec = i64_at(&a, c_rec, r);
                assert_int_equal(rec, want[n]);
                int64_t fr = 0;
                while (i64_at(&full, c_rec, fr) != rec)
                    fr++;
                assert_same_row(&sc, &a, r, &full, fr);
            }
            a.release(&a);
        }
        assert_int_equal(n, 4);
        s.release(&s);
    }
    assert_str(&full, col_of(k, "first_name"), 3, "A\xc3\xa9");
    sc.release(&sc);
    full.release(&full);
    all.release(&all);

    /* a projection: the page decides the plays' columns even when it is
     * not built */
    const char *keep[] = {"rec", "user_id", "first_name", "hour"};
    opts = (lake_arrow_opts){0};
    opts.columns = mask_of(k, keep, 4);
    opts.rows = LAKE_ARROW_ROWS_USERS;
    struct ArrowArrayStream s = open_text(k, users_text, "u.json", &opts);
    struct ArrowArray a;
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_int_equal(a.length, 4);
    assert_int_equal(a.n_children, 4);
    assert_int_equal(i64_at(&a, 1, 1), 5);
    assert_str(&a, 2, 1, "A\xc3\xa9");
    assert_int_equal(i32_at(&a, 3, 1), 21);
    assert_true(null_at(&a, 3, 2)); /* user 6's latest is a Logout */
    assert_str(&a, 2, 2, "C");
    assert_str(&a, 2, 3, NULL);
    a.release(&a);
    s.release(&s);

    /* songs have no users */
    lake_error err;
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, "", 0, "x",
                                             &opts, &s, &err),
                     LAKE_EINVAL);
}

/* An allocator that counts the bytes it has out and their peak. */
typedef struct counting_alloc {
    lake_allocator base;
    size_t live, peak;
} counting_alloc;

#define CA_HEADER 16 /* keeps the blocks 16-byte aligned */

static void *ca_realloc(void *ctx, void *ptr, size_t old_size, size_t size)
{
    (void)old_size;
    counting_alloc *c = ctx;
    size_t had = 0;
    char *h = NULL;
    if (ptr) {
        h = (char *)ptr - CA_HEADER;
        memcpy(&had, h, sizeof(had));
    }
    char *q = realloc(h, size + CA_HEADER);
    if (!q)
        return NULL;
    memcpy(q, &size, sizeof(size));
    c->live = c->live - had + size;
    if (c->live > c->peak)
        c->peak = c->live;
    return q + CA_HEADER;
}

static void *ca_malloc(void *ctx, size_t size)
{
    return ca_realloc(ctx, NULL, 0, size);
}

static void ca_free(void *ctx, void *ptr)
{
    if (!ptr)
        return;
    counting_alloc *c = ctx;
    char *h = (char *)ptr - CA_HEADER;
    size_t had;
    memcpy(&had, h, sizeof(had));
    c->live -= had;
    free(h);
}

/* Three users taking turns, thousands of records with long names: the
 * superseded copies are dropped on the way (memory stays that of the
 * latest texts, not of every record's) and each latest one is handed out
 * intact. */
static void test_arrow__users_rows_compacted(void **state)
{
    (void)state;
    const int n = 6000, users = 3;
    const size_t name_len = 1000;
    lake_buf text;
    lake_buf_init(&text, NULL, 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(
            lake_buf_printf(&text,
                            "{\"ts\":%lld,\"page\":\"Home\",\"sessionId\":1,"
                            "\"itemInSession\":%d,\"userId\":%d,"
                            "\"firstName\":\"",
                            1542837400000LL + i, i, i % users),
            LAKE_OK);
        for (size_t j = 0; j < name_len; j++) {
            const int c = 'a' + (i + (int)j) % 26;
            assert_int_equal(lake_buf_append_byte(&text, (uint8_t)c),
                             LAKE_OK);
        }
        assert_int_equal(lake_buf_append_str(&text, "\"}\n"), LAKE_OK);
    }
    counting_alloc ca = {{ca_malloc, ca_realloc, ca_free, NULL}, 0, 0};
    ca.base.ctx = &ca;
    lake_arrow_opts opts = {0};
    opts.alloc = &ca.base;
    opts.rows = LAKE_ARROW_ROWS_USERS;
    opts.columns = (uint64_t)1 << col_of(LAKE_ARROW_EVENTS, "rec") |
                   (uint64_t)1 << col_of(LAKE_ARROW_EVENTS, "first_name");
    struct ArrowArrayStream s;
    lake_error err;
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_EVENTS, text.data,
                                             text.len, "big.json", &opts, &s,
                                             &err),
                     LAKE_OK);
    struct ArrowArray a;
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_int_equal(a.length, users);
    char want[1001];
    for (int u = 0; u < users; u++) {
        const int last = n - users + u; /* the user's last record */
        assert_int_equal(i64_at(&a, 0, u), last);
        for (size_t j = 0; j < name_len; j++)
            want[j] = (char)('a' + (last + (int)j) % 26);
        want[name_len] = 0;
        assert_str(&a, 1, u, want);
    }
    /* 6 MB of names went by: besides the input's copy, a few MB at most
     * (no compaction: the arena would hold them all) */
    assert_true(ca.peak < text.len + ((size_t)3 << 20));
    a.release(&a);
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_null(a.release);
    s.release(&s);
    assert_int_equal(ca.live, 0);
    lake_buf_reset(&text);
}

/* Thousands of users (the user map grows several times), each with its
 * latest record first in the input for every other user: all there, each
 * the latest by ts. */
static void test_arrow__users_rows_many(void **state)
{
    (void)state;
    const int users = 5000;
    lake_buf text;
    lake_buf_init(&text, NULL, 0);
    for (int u = 0; u < users; u++)
        for (int k = 0; k < 2; k++) {
            const int e = u % 2 ? 1 - k : k; /* odd users: latest first */
            assert_int_equal(
                lake_buf_printf(&text,
                                "{\"ts\":%lld,\"page\":\"Home\","
                                "\"sessionId\":1,\"itemInSession\":0,"
                                "\"userId\":%d,\"firstName\":\"u%de%d\","
                                "\"lastName\":\"\"}\n",
                                1542837400000LL + 10 * u + e, u, u, e),
                LAKE_OK);
        }
    lake_arrow_opts opts = {0};
    opts.rows = LAKE_ARROW_ROWS_USERS;
    opts.batch_rows = 1000;
    struct ArrowArrayStream s;
    lake_error err;
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_EVENTS, text.data,
                                             text.len, "many.json", &opts,
                                             &s, &err),
                     LAKE_OK);
    const size_t c_user = col_of(LAKE_ARROW_EVENTS, "user_id");
    const size_t c_first = col_of(LAKE_ARROW_EVENTS, "first_name");
    const size_t c_last = col_of(LAKE_ARROW_EVENTS, "last_name");
    char *seen = calloc((size_t)users, 1);
    assert_non_null(seen);
    int64_t rows = 0, prev_rec = -1;
    for (;;) {
        struct ArrowArray a;
        assert_int_equal(s.get_next(&s, &a), 0);
        if (!a.release)
            break;
        for (int64_t r = 0; r < a.length; r++, rows++) {
            const int64_t u = i64_at(&a, c_user, r);
            assert_true(u >= 0 && u < users && !seen[u]);
            seen[u] = 1;
            char want[32];
            snprintf(want, sizeof(want), "u%de1", (int)u);
            assert_str(&a, c_first, r, want);
            assert_str(&a, c_last, r, NULL); /* "" is NULL */
            const int64_t rec = i64_at(&a, col_of(LAKE_ARROW_EVENTS, "rec"),
                                       r);
            assert_true(rec > prev_rec); /* in input order */
            prev_rec = rec;
        }
        a.release(&a);
    }
    assert_int_equal(rows, users);
    free(seen);
    s.release(&s);
    lake_buf_reset(&text);
}

/* Every batch of @p s into @p out (at most @p cap); the number of them. */
static size_t drain(struct ArrowArrayStream *s, struct ArrowArray *out,
                    size_t cap)
{
    size_t n = 0;
    for (;;) {
        assert_true(n < cap);
        assert_int_equal(s->get_next(s, &out[n]), 0);
        if (!out[n].release)
            return n;
        n++;
    }
}

/* Batches @p a (@p na) and @p b (@p nb) hold the same rows, however cut. */
static void assert_same_rows(const struct ArrowSchema *sc,
                             struct ArrowArray *a, size_t na,
                             struct ArrowArray *b, size_t nb)
{
    size_t i = 0, j = 0;
    int64_t r = 0, q = 0;
    for (;;) {
        while (i < na && r == a[i].length) {
            i++;
            r = 0;
        }
        while (j < nb && q == b[j].length) {
            j++;
            q = 0;
        }
        if (i == na || j == nb)
            break;
        assert_same_row(sc, &a[i], r++, &b[j], q++);
    }
    assert_true(i == na && j == nb);
}

static void release_all(struct ArrowArray *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i].release(&a[i]);
}

/* lake_arrow_read_file_split: one parse, the plays of ROWS_PLAYS and the
 * users of ROWS_USERS, each with its own columns; the users only after
 * the plays; both streams released in either order. */
static void test_arrow__split(void **state)
{
    (void)state;
    const lake_arrow_kind k = LAKE_ARROW_EVENTS;
    char path[] = "/tmp/test_arrow_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    const size_t len = strlen(users_text);
    assert_int_equal(write(fd, users_text, len), (ssize_t)len);
    close(fd);
    lake_arrow_opts opts = {0};
    opts.rows = LAKE_ARROW_ROWS_PLAYS;
    opts.batch_rows = 2;
    const char *play_cols[] = {"rec", "ts", "songplay_id", "hour", "song"};
    opts.columns = mask_of(k, play_cols, 5);
    const char *user_cols[] = {"source", "rec", "user_id", "first_name",
                               "level", "line", "reason", "raw"};
    const uint64_t ucols = mask_of(k, user_cols, 8);
    lake_arrow_opts uopts = opts;
    uopts.rows = LAKE_ARROW_ROWS_USERS;
    uopts.columns = ucols;

    for (int order = 0; order < 2; order++) {
        struct ArrowArrayStream plays, users, ref;
        lake_error err;
        assert_int_equal(lake_arrow_read_file_split(path, "root/u", &opts,
                                                    ucols, &plays, &users,
                                                    &err),
                         LAKE_OK);
        struct ArrowArray a[16], b[16];
        assert_int_equal(users.get_next(&users, &a[0]), EINVAL);
        assert_null(a[0].release);
        assert_non_null(strstr(users.get_last_error(&users),
                               "before the end of its plays"));
        struct ArrowSchema sc;
        assert_int_equal(plays.get_schema(&plays, &sc), 0);
        assert_int_equal(sc.n_children, 5);
        size_t na = drain(&plays, a, 16);
        ref = open_text(k, users_text, "root/u", &opts);
        size_t nb = drain(&ref, b, 16);
        assert_true(na > 0);
        assert_same_rows(&sc, a, na, b, nb);
        release_all(a, na);
        release_all(b, nb);
        ref.release(&ref);
        sc.release(&sc);
        if (order == 1)
            plays.release(&plays); /* the users stream lives on */
        assert_int_equal(users.get_schema(&users, &sc), 0);
        assert_int_equal(sc.n_children, 8);
        assert_string_equal(sc.children[4]->name, "first_name");
        na = drain(&users, a, 16);
        ref = open_text(k, users_text, "root/u", &uopts);
        nb = drain(&ref, b, 16);
        assert_int_equal(na, 2); /* 4 rows: a reject and 3 users */
        assert_same_rows(&sc, a, na, b, nb);
        assert_str(&a[0], 6, 0, "invalid_json");
        release_all(a, na);
        release_all(b, nb);
        ref.release(&ref);
        sc.release(&sc);
        users.release(&users);
        if (order == 0)
            plays.release(&plays);
    }

    /* argument errors: the streams stay unset */
    struct ArrowArrayStream plays, users;
    lake_error err;
    lake_arrow_opts bad = opts;
    bad.rows = LAKE_ARROW_ROWS_ALL;
    assert_int_equal(lake_arrow_read_file_split(path, NULL, &bad, 0, &plays,
                                                &users, &err),
                     LAKE_EINVAL);
    assert_null(plays.release);
    assert_null(users.release);
    assert_int_equal(lake_arrow_read_file_split(path, NULL, NULL, 0, &plays,
                                                &users, &err),
                     LAKE_EINVAL);
    assert_int_equal(lake_arrow_read_file_split(path, NULL, &opts, 0, &plays,
                                                &plays, &err),
                     LAKE_EINVAL);
    assert_null(plays.release);
    assert_int_equal(
        lake_arrow_read_file_split(path, NULL, &opts,
                                   (uint64_t)1 << lake_arrow_n_columns(k),
                                   &plays, &users, &err),
        LAKE_EINVAL);
    assert_non_null(strstr(err.message, "past the"));
    unlink(path);
    assert_int_equal(lake_arrow_read_file_split(path, NULL, &opts, 0, &plays,
                                                &users, &err),
                     LAKE_EIO);
    assert_null(plays.release);
    assert_null(users.release);
    assert_non_null(strstr(err.message, path));
}

static void test_arrow__batches_and_moved_children(void **state)
{
    (void)state;
    lake_arrow_opts opts = {0};
    opts.batch_rows = 2;
    struct ArrowArrayStream s =
        open_text(LAKE_ARROW_SONGS, songs_text, "s.json", &opts);
    struct ArrowArray b[3];
    int64_t total = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s.get_next(&s, &b[i]), 0);
        assert_non_null(b[i].release);
        assert_int_equal(i64_at(&b[i], 1, 0), total); /* rec continues */
        total += b[i].length;
    }
    assert_int_equal(total, 5);
    struct ArrowArray end;
    assert_int_equal(s.get_next(&s, &end), 0);
    assert_null(end.release);
    s.release(&s);
    /* a consumer moves a child out, releases the parent, then the child */
    struct ArrowArray moved = *b[0].children[2];
    b[0].children[2]->release = NULL;
    b[0].release(&b[0]);
    assert_str(&(struct ArrowArray){.n_children = 1,
                                    .children = (struct ArrowArray *[]){
                                        &moved}},
               0, 0, "S1");
    moved.release(&moved);
    assert_null(moved.release);
    b[1].release(&b[1]);
    b[2].release(&b[2]);
}

/* gzip of @p text as @p members members back to back. */
static unsigned char *gzip_of(const char *text, int members, size_t *out_len)
{
    const size_t n = strlen(text);
    size_t cap = (n + 64) * 2 * (size_t)members + 64, len = 0;
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    const size_t part = (n + (size_t)members - 1) / (size_t)members;
    for (int m = 0; m < members; m++) {
        const size_t from = part * (size_t)m;
        const size_t k = from >= n ? 0 : LAKE_MIN(part, n - from);
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8,
                                      Z_DEFAULT_STRATEGY),
                         Z_OK);
        zs.next_in = (Bytef *)(uintptr_t)(text + from);
        zs.avail_in = (uInt)k;
        zs.next_out = out + len;
        zs.avail_out = (uInt)(cap - len);
        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
        len += zs.total_out;
        deflateEnd(&zs);
    }
    *out_len = len;
    return out;
}

static void test_arrow__gzip(void **state)
{
    (void)state;
    size_t n;
    unsigned char *gz = gzip_of(songs_text, 3, &n);
    struct ArrowArrayStream s;
    lake_error err;
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, gz, n,
                                             "a/s.json.gz", NULL, &s, &err),
                     LAKE_OK);
    struct ArrowArray a;
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_int_equal(a.length, 5);
    assert_str(&a, col_of(LAKE_ARROW_SONGS, "song_id"), 3, "S2");
    a.release(&a);
    s.release(&s);
    /* truncated */
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, gz, n - 3,
                                             "a/s.json.gz", NULL, &s, &err),
                     LAKE_EPARSE);
    assert_null(s.release);
    assert_non_null(strstr(err.message, "a/s.json.gz"));
    /* trailing garbage after a member */
    unsigned char *bad = malloc(n + 4);
    memcpy(bad, gz, n);
    memcpy(bad + n, "junk", 4);
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, bad, n + 4,
                                             "s.gz", NULL, &s, &err),
                     LAKE_EPARSE);
    /* gzip = -1: the bytes are taken as they are (and are bad JSON) */
    lake_arrow_opts opts = {0};
    opts.gzip = -1;
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, gz, n,
                                             "s.json.gz", &opts, &s, &err),
                     LAKE_OK);
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_str(&a, col_of(LAKE_ARROW_SONGS, "reason"), 0, "invalid_json");
    a.release(&a);
    s.release(&s);
    /* max_bytes bounds the decompressed size */
    opts.gzip = 0;
    opts.max_bytes = 16;
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, gz, n,
                                             "s.json.gz", &opts, &s, &err),
                     LAKE_ETOOBIG);
    free(bad);
    free(gz);
}

static void test_arrow__file_and_errors(void **state)
{
    (void)state;
    char path[] = "/tmp/test_arrow_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    const size_t n = strlen(events_text);
    assert_int_equal(write(fd, events_text, n), (ssize_t)n);
    close(fd);
    struct ArrowArrayStream s;
    lake_error err;
    assert_int_equal(lake_arrow_read_file(LAKE_ARROW_EVENTS, path, "root/e",
                                          NULL, &s, &err),
                     LAKE_OK);
    struct ArrowArray a;
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_int_equal(a.length, 3);
    assert_str(&a, 0, 0, "root/e");
    a.release(&a);
    s.release(&s);
    unlink(path);
    assert_int_equal(lake_arrow_read_file(LAKE_ARROW_EVENTS, path, NULL, NULL,
                                          &s, &err),
                     LAKE_EIO);
    assert_null(s.release);
    assert_non_null(strstr(err.message, path));
    /* argument errors */
    assert_int_equal(lake_arrow_read_records((lake_arrow_kind)7, "", 0, "x",
                                             NULL, &s, &err),
                     LAKE_EINVAL);
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, NULL, 3, "x",
                                             NULL, &s, &err),
                     LAKE_EINVAL);
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, "", 0, NULL,
                                             NULL, &s, &err),
                     LAKE_EINVAL);
    lake_arrow_opts opts = {0};
    opts.batch_rows = -1;
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, "", 0, "x",
                                             &opts, &s, &err),
                     LAKE_EINVAL);
    /* an empty file: a schema and no batch */
    assert_int_equal(lake_arrow_read_records(LAKE_ARROW_SONGS, NULL, 0, "x",
                                             NULL, &s, &err),
                     LAKE_OK);
    assert_int_equal(s.get_next(&s, &a), 0);
    assert_null(a.release);
    s.release(&s);
}

/* Run everything once under a failing allocator; return the status seen
 * (LAKE_OK when all of it succeeded). */
static lake_status run_all(lake_failing_alloc *fa,
                           const void *gz,
                           size_t n,
                           const char *events_path)
{
    lake_arrow_opts opts = {0};
    opts.alloc = &fa->base;
    opts.batch_rows = 2;
    struct ArrowArrayStream s;
    lake_error err;
    lake_status rc = lake_arrow_read_records(
        LAKE_ARROW_EVENTS, events_text, strlen(events_text), "e.json", &opts,
        &s, &err);
    if (rc != LAKE_OK) {
        assert_null(s.release);
        return rc;
    }
    struct ArrowArray kept[4];
    int n_kept = 0;
    struct ArrowSchema sc;
    if (s.get_schema(&s, &sc) != 0) {
        rc = LAKE_ENOMEM;
        assert_non_null(s.get_last_error(&s));
    } else {
        sc.release(&sc);
    }
    while (rc == LAKE_OK) {
        struct ArrowArray a;
        const int e = s.get_next(&s, &a);
        if (e != 0) {
            assert_int_equal(e, ENOMEM);
            assert_null(a.release);
            assert_non_null(s.get_last_error(&s));
            assert_int_equal(s.get_next(&s, &a), ENOMEM); /* sticky */
            rc = LAKE_ENOMEM;
            break;
        }
        if (!a.release)
            break;
        assert_true(n_kept < 4);
        kept[n_kept++] = a;
    }
    s.release(&s);
    for (int i = 0; i < n_kept; i++)
        kept[i].release(&kept[i]);
    if (rc != LAKE_OK)
        return rc;
    rc = lake_arrow_read_records(LAKE_ARROW_SONGS, gz, n, "s.json.gz", &opts,
                                 &s, &err);
    if (rc != LAKE_OK)
        return rc;
    struct ArrowArray a;
    int e = s.get_next(&s, &a);
    if (e == 0 && a.release)
        a.release(&a);
    s.release(&s);
    if (e != 0)
        return LAKE_ENOMEM;
    /* a projection of the plays */
    opts.columns = 0x3;
    opts.rows = LAKE_ARROW_ROWS_PLAYS;
    rc = lake_arrow_read_records(LAKE_ARROW_EVENTS, events_text,
                                 strlen(events_text), "e.json", &opts, &s,
                                 &err);
    if (rc != LAKE_OK)
        return rc;
    e = s.get_next(&s, &a);
    if (e == 0 && a.release)
        a.release(&a);
    s.release(&s);
    if (e != 0)
        return LAKE_ENOMEM;
    /* each user's latest record, a row a batch */
    opts.columns = 0;
    opts.batch_rows = 1;
    opts.rows = LAKE_ARROW_ROWS_USERS;
    rc = lake_arrow_read_records(LAKE_ARROW_EVENTS, events_text,
                                 strlen(events_text), "e.json", &opts, &s,
                                 &err);
    if (rc != LAKE_OK)
        return rc;
    for (;;) {
        e = s.get_next(&s, &a);
        if (e != 0 || !a.release)
            break;
        a.release(&a);
    }
    s.release(&s);
    if (e != 0)
        return LAKE_ENOMEM;
    /* a split read: the plays, then the users (rejects kept meanwhile) */
    struct ArrowArrayStream u;
    opts.rows = LAKE_ARROW_ROWS_PLAYS;
    rc = lake_arrow_read_file_split(events_path, NULL, &opts, 0, &s, &u,
                                    &err);
    if (rc != LAKE_OK)
        return rc;
    struct ArrowArrayStream *both[2] = {&s, &u};
    for (int i = 0; i < 2 && e == 0; i++)
        for (;;) {
            e = both[i]->get_next(both[i], &a);
            if (e != 0 || !a.release)
                break;
            a.release(&a);
        }
    if (e != 0) { /* one state: the failure is both streams' */
        assert_int_equal(u.get_next(&u, &a), e);
        assert_int_equal(s.get_next(&s, &a), e);
        assert_null(a.release);
    }
    u.release(&u);
    s.release(&s);
    return e == 0 ? LAKE_OK : LAKE_ENOMEM;
}

static void test_arrow__oom_sweep(void **state)
{
    (void)state;
    size_t n;
    unsigned char *gz = gzip_of(songs_text, 2, &n);
    char path[] = "/tmp/test_arrow_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    const size_t len = strlen(users_text);
    assert_int_equal(write(fd, users_text, len), (ssize_t)len);
    close(fd);
    bool done = false;
    for (int64_t i = 0; i < 2000 && !done; i++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, i);
        const lake_status rc = run_all(&fa, gz, n, path);
        assert_int_equal(fa.n_live, 0);
        if (fa.n_failed == 0) {
            assert_int_equal(rc, LAKE_OK);
            done = true;
        } else {
            assert_int_equal(rc, LAKE_ENOMEM);
        }
    }
    assert_true(done);
    unlink(path);
    free(gz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arrow__schema),
        cmocka_unit_test(test_arrow__songs_and_rejects),
        cmocka_unit_test(test_arrow__source_not_utf8),
        cmocka_unit_test(test_arrow__events),
        cmocka_unit_test(test_arrow__columns_and_plays),
        cmocka_unit_test(test_arrow__users_rows),
        cmocka_unit_test(test_arrow__users_rows_compacted),
        cmocka_unit_test(test_arrow__users_rows_many),
        cmocka_unit_test(test_arrow__split),
        cmocka_unit_test(test_arrow__batches_and_moved_children),
        cmocka_unit_test(test_arrow__gzip),
        cmocka_unit_test(test_arrow__file_and_errors),
        cmocka_unit_test(test_arrow__oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* test_ingest_records.c - the record reader: splitting files into records,
 * quarantine reasons and raw text, every field rule, both engines (the
 * simdjson fast path and our scanner) giving the same answers, OOM, and
 * the real course data when present. */
#include "fmacros.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "ingest/ingest_json.h"

/* ---- helpers: run a text through the reader, render the outcome ---- */

static void put_text(lake_buf *b, const char *name, const lake_text *t)
{
    if (!t->present) {
        assert_int_equal(lake_buf_printf(b, " %s=~", name), LAKE_OK);
        return;
    }
    assert_int_equal(lake_buf_printf(b, " %s=", name), LAKE_OK);
    assert_int_equal(lake_buf_append(b, t->v.ptr, t->v.len), LAKE_OK);
}

static void put_song(lake_buf *b, const lake_song_rec *s)
{
    assert_int_equal(lake_buf_append_str(b, "SONG"), LAKE_OK);
    put_text(b, "song_id", &s->song_id);
    put_text(b, "title", &s->title);
    put_text(b, "artist_id", &s->artist_id);
    put_text(b, "artist_name", &s->artist_name);
    put_text(b, "artist_location", &s->artist_location);
    assert_int_equal(lake_buf_printf(b, " duration=%.17g year=%lld",
                                     s->duration, (long long)s->year),
                     LAKE_OK);
    if (s->has_latitude)
        assert_int_equal(lake_buf_printf(b, " lat=%.17g", s->artist_latitude),
                         LAKE_OK);
    if (s->has_longitude)
        assert_int_equal(
            lake_buf_printf(b, " lon=%.17g", s->artist_longitude), LAKE_OK);
}

static void put_event(lake_buf *b, const lake_event_rec *e)
{
    assert_int_equal(lake_buf_printf(b, "EVENT ts=%lld sess=%lld item=%lld",
                                     (long long)e->ts,
                                     (long long)e->session_id,
                                     (long long)e->item_in_session),
                     LAKE_OK);
    if (e->has_user)
        assert_int_equal(lake_buf_printf(b, " user=%lld",
                                         (long long)e->user_id),
                         LAKE_OK);
    else
        assert_int_equal(lake_buf_append_str(b, " user=~"), LAKE_OK);
    put_text(b, "page", &e->page);
    put_text(b, "level", &e->level);
    put_text(b, "first", &e->first_name);
    put_text(b, "last", &e->last_name);
    put_text(b, "gender", &e->gender);
    put_text(b, "location", &e->location);
    put_text(b, "ua", &e->user_agent);
    put_text(b, "song", &e->song);
    put_text(b, "artist", &e->artist);
    if (e->has_length)
        assert_int_equal(lake_buf_printf(b, " length=%.17g", e->length),
                         LAKE_OK);
}

/* Run @p text (length @p n) through a reader; render every outcome, one
 * per line: "REJECT <line> <reason> <raw>" or the record. */
static char *render_n(lake_rec_kind kind, const char *text, size_t n,
                      bool fast)
{
    char *data = calloc(1, n + LAKE_READ_PADDING);
    assert_non_null(data);
    memcpy(data, text, n);
    lake_record_reader *r = NULL;
    lake_error err;
    assert_int_equal(lake_record_reader_new(NULL, &r, &err), LAKE_OK);
    lake_record_reader_set_fast_path(r, fast);
    lake_record_reader_reset(r, kind, data, n);
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    int64_t last_line = 0;
    for (int guard = 0; guard < 10000000; guard++) {
        lake_song_rec s;
        lake_event_rec e;
        lake_reject rej;
        lake_next nx;
        memset(&rej, 0, sizeof(rej));
        assert_int_equal(lake_record_reader_next(
                             r, kind == LAKE_REC_SONG ? (void *)&s : (void *)&e,
                             &rej, &nx, &err),
                         LAKE_OK);
        if (nx == LAKE_NEXT_END)
            break;
        if (nx == LAKE_NEXT_REJECT) {
            assert_true(rej.line >= last_line);
            last_line = rej.line;
            assert_true(rej.raw.ptr >= data && rej.raw.ptr + rej.raw.len <=
                                                   data + n);
            assert_int_equal(lake_buf_printf(&b, "REJECT %lld %s ",
                                             (long long)rej.line, rej.reason),
                             LAKE_OK);
            assert_int_equal(lake_buf_append(&b, rej.raw.ptr, rej.raw.len),
                             LAKE_OK);
        } else if (kind == LAKE_REC_SONG) {
            put_song(&b, &s);
        } else {
            put_event(&b, &e);
        }
        assert_int_equal(lake_buf_append_byte(&b, '\n'), LAKE_OK);
    }
    assert_int_equal(lake_buf_append_byte(&b, '\0'), LAKE_OK);
    lake_record_reader_free(r);
    free(data);
    return b.data;
}

/* Render with both engines; they must agree. Returns a static copy. */
static const char *render_kind(lake_rec_kind kind, const char *text, size_t n)
{
    static char out[8192];
    char *fast = render_n(kind, text, n, true);
    char *slow = render_n(kind, text, n, false);
    assert_string_equal(fast, slow);
    snprintf(out, sizeof(out), "%s", fast);
    free(fast);
    free(slow);
    return out;
}

static const char *ev(const char *text)
{
    return render_kind(LAKE_REC_EVENT, text, strlen(text));
}

static const char *song(const char *text)
{
    return render_kind(LAKE_REC_SONG, text, strlen(text));
}

/* A valid event with @p extra fields appended (they override earlier
 * ones: the last duplicate wins). */
static const char *ev_with(const char *extra)
{
    static char text[2048];
    snprintf(text, sizeof(text),
             "{\"ts\":1541121934796,\"page\":\"NextSong\",\"sessionId\":7,"
             "\"itemInSession\":2,\"userId\":\"15\",\"song\":\"S\","
             "\"artist\":\"A\"%s%s}",
             extra[0] ? "," : "", extra);
    return ev(text);
}

static const char *song_with(const char *extra)
{
    static char text[2048];
    snprintf(text, sizeof(text),
             "{\"song_id\":\"SO1\",\"title\":\"T\",\"artist_id\":\"AR1\","
             "\"artist_name\":\"N\",\"duration\":1.5,\"year\":2001%s%s}",
             extra[0] ? "," : "", extra);
    return song(text);
}

/* The reason of a single-reject outcome, or "OK". */
static const char *reason_of(const char *out)
{
    static char reason[128];
    if (strncmp(out, "REJECT ", 7) != 0)
        return "OK";
    const char *p = strchr(out + 7, ' ');
    assert_non_null(p);
    const char *q = strchr(p + 1, ' ');
    assert_non_null(q);
    snprintf(reason, sizeof(reason), "%.*s", (int)(q - p - 1), p + 1);
    return reason;
}

#define EV_BASE                                                               \
    " sess=7 item=2 user=15 page=NextSong level=~ first=~ last=~ gender=~ "   \
    "location=~ ua=~ song=S artist=A"

/* ---- splitting ---- */

static void test_ingest_records__jsonl_lines_and_end(void **state)
{
    (void)state;
    const char *o = ev("{\"ts\":1,\"page\":\"Home\",\"sessionId\":1,"
                       "\"itemInSession\":0}\n"
                       "{\"ts\":2,\"page\":\"Home\",\"sessionId\":1,"
                       "\"itemInSession\":1}");
    assert_string_equal(
        o, "EVENT ts=1 sess=1 item=0 user=~ page=Home level=~ first=~ last=~ "
           "gender=~ location=~ ua=~ song=~ artist=~\n"
           "EVENT ts=2 sess=1 item=1 user=~ page=Home level=~ first=~ last=~ "
           "gender=~ location=~ ua=~ song=~ artist=~\n");
    assert_string_equal(ev(""), "");
    assert_string_equal(ev("\n\n  \t\r\n"), "");
}

static void test_ingest_records__crlf_bom_blank_lines(void **state)
{
    (void)state;
    const char *o = song("\xEF\xBB\xBF{\"a\":1}\r\n\r\n\n[1]\r\nxx\r\n");
    assert_string_equal(o, "REJECT 1 missing_field:song_id {\"a\":1}\n"
                           "REJECT 4 not_an_object [1]\n"
                           "REJECT 5 invalid_json xx\n");
    /* A BOM anywhere else is not whitespace. */
    assert_string_equal(song("{}\n\xEF\xBB\xBF{}"),
                        "REJECT 1 missing_field:song_id {}\n"
                        "REJECT 2 invalid_json \xEF\xBB\xBF{}\n");
}

static void test_ingest_records__pretty_printed_and_several_per_line(
    void **state)
{
    (void)state;
    const char *o = song("{\n  \"x\": [1,\n 2],\n  \"y\": {}\n}\n"
                         "{\"z\":1}{\"w\":2} \"s\" 12 true\n"
                         "  {\"v\":\n3}");
    assert_string_equal(
        o, "REJECT 1 missing_field:song_id {\n  \"x\": [1,\n 2],\n  \"y\": "
           "{}\n}\n"
           "REJECT 6 missing_field:song_id {\"z\":1}\n"
           "REJECT 6 missing_field:song_id {\"w\":2}\n"
           "REJECT 6 not_an_object \"s\"\n"
           "REJECT 6 not_an_object 12\n"
           "REJECT 6 not_an_object true\n"
           "REJECT 7 missing_field:song_id {\"v\":\n3}\n");
}

static void test_ingest_records__garbage_then_good(void **state)
{
    (void)state;
    const char *good = "{\"ts\":1,\"page\":\"P\",\"sessionId\":1,"
                       "\"itemInSession\":0}";
    char text[512];
    snprintf(text, sizeof(text), "garbage {\n%s\n{\"a\":1} xyz\n%s", good,
             good);
    const char *rec = "EVENT ts=1 sess=1 item=0 user=~ page=P level=~ "
                      "first=~ last=~ gender=~ location=~ ua=~ song=~ "
                      "artist=~\n";
    char want[1024];
    snprintf(want, sizeof(want),
             "REJECT 1 invalid_json garbage {\n%s"
             "REJECT 3 missing_field:ts {\"a\":1}\n"
             "REJECT 3 invalid_json xyz\n%s",
             rec, rec);
    assert_string_equal(ev(text), want);
}

static void test_ingest_records__unterminated_and_truncated(void **state)
{
    (void)state;
    assert_string_equal(song("{\"a\":\"abc\n{\"b\":1}\n"),
                        "REJECT 1 invalid_json {\"a\":\"abc\n"
                        "REJECT 2 missing_field:song_id {\"b\":1}\n");
    /* A truncated last line, no newline at the end. */
    assert_string_equal(song("{\"b\":1}\n{\"a\":[1,2"),
                        "REJECT 1 missing_field:song_id {\"b\":1}\n"
                        "REJECT 2 invalid_json {\"a\":[1,2\n");
    /* An object left open swallows nothing valid: its first line is the
     * reject and the next lines are read again. */
    assert_string_equal(song("{\"a\":\n{\"b\":1}\n"),
                        "REJECT 1 invalid_json {\"a\":\n"
                        "REJECT 2 missing_field:song_id {\"b\":1}\n");
    /* A malformed multi-line record: its lines are read again as records
     * (a string followed by ':' is a complete value, then garbage). */
    assert_string_equal(song("{\n\"a\":1,\n}\n"),
                        "REJECT 1 invalid_json {\n"
                        "REJECT 2 not_an_object \"a\"\n"
                        "REJECT 2 invalid_json :1,\n"
                        "REJECT 3 invalid_json }\n");
    /* Raw strips one trailing CR only for invalid_json. */
    assert_string_equal(song("x\r\r\n"), "REJECT 1 invalid_json x\r\n");
    assert_string_equal(song("123abc 4"), "REJECT 1 invalid_json 123abc 4\n");
    assert_string_equal(song("nul"), "REJECT 1 invalid_json nul\n");
    assert_string_equal(song("\"\\"), "REJECT 1 invalid_json \"\\\n");
    assert_string_equal(song("-"), "REJECT 1 invalid_json -\n");
    assert_string_equal(song("{\"a\":1}}"),
                        "REJECT 1 missing_field:song_id {\"a\":1}\n"
                        "REJECT 1 invalid_json }\n");
}

static void test_ingest_records__unclosed_containers_stay_linear(void **state)
{
    (void)state;
    /* A record cut after ":" swallows the next pretty-printed record; its
     * scan fails within 32 lines, so the next record is still exact. */
    assert_string_equal(song("{\"a\":\n{\n\"x\": 1\n}\n"),
                        "REJECT 1 invalid_json {\"a\":\n"
                        "REJECT 2 missing_field:song_id {\n\"x\": 1\n}\n");
    /* Swallowing more than 32 lines: records starting before the failure
     * point are single-line only. */
    lake_buf b;
    lake_buf_init(&b, NULL, 0);
    assert_int_equal(lake_buf_append_str(&b, "{\"a\":\n{\n"), LAKE_OK);
    for (int i = 0; i < 40; i++)
        assert_int_equal(lake_buf_printf(&b, "\"k%d\": 1,\n", i), LAKE_OK);
    assert_int_equal(lake_buf_append_str(&b, "\"z\": 1\n}\n{\"b\":1}"),
                     LAKE_OK);
    const char *o = render_kind(LAKE_REC_SONG, b.data, b.len);
    assert_int_equal(strncmp(o, "REJECT 1 invalid_json {\"a\":\n"
                                "REJECT 2 invalid_json {\n"
                                "REJECT 3 not_an_object \"k0\"\n",
                             70),
                     0);
    assert_non_null(strstr(o, "REJECT 44 invalid_json }\n"
                              "REJECT 45 missing_field:song_id {\"b\":1}\n"));
    lake_buf_reset(&b);
    /* Lines that each open an array never closed: linear, not 1024 lines
     * scanned per line (was 36 s for 4 MB). */
    for (int i = 0; i < 100000; i++)
        assert_int_equal(lake_buf_append_str(&b, "[\n1,\n"), LAKE_OK);
    const int64_t t0 = lake_now_ns();
    char *fast = render_n(LAKE_REC_SONG, b.data, b.len, true);
    const double secs = (double)(lake_now_ns() - t0) / 1e9;
    assert_true(secs < 5.0);
    assert_int_equal(strncmp(fast, "REJECT 1 invalid_json [\n"
                                   "REJECT 2 not_an_object 1\n"
                                   "REJECT 2 invalid_json ,\n",
                             60),
                     0);
    free(fast);
    lake_buf_reset(&b);
}

static void test_ingest_records__embedded_nul_and_bad_utf8(void **state)
{
    (void)state;
    const char text[] = "{\"a\":1}\n\0\n{\"a\":\"\xff\"}\n{}\n"
                        "{\"a\":\"\x01\"}\n{\"a\":\"\xed\xa0\x80\"}";
    const char *o = render_kind(LAKE_REC_SONG, text, sizeof(text) - 1);
    /* The NUL line's raw is one NUL byte, which ends the C string. */
    assert_string_equal(o, "REJECT 1 missing_field:song_id {\"a\":1}\n"
                           "REJECT 2 invalid_json ");
    o = render_kind(LAKE_REC_SONG, text + 10, sizeof(text) - 11);
    assert_string_equal(o, "REJECT 1 invalid_json {\"a\":\"\xff\"}\n"
                           "REJECT 2 missing_field:song_id {}\n"
                           "REJECT 3 invalid_json {\"a\":\"\x01\"}\n"
                           "REJECT 4 invalid_json "
                           "{\"a\":\"\xed\xa0\x80\"}\n");
}

static void test_ingest_records__deep_nesting(void **state)
{
    (void)state;
    for (int depth = 1023; depth <= 1026; depth++) {
        /* {"a": + depth-1 arrays */
        size_t n = 0;
        char *t = calloc(1, 8192);
        assert_non_null(t);
        n += (size_t)snprintf(t, 8192, "{\"a\":");
        for (int i = 1; i < depth; i++)
            t[n++] = '[';
        for (int i = 1; i < depth; i++)
            t[n++] = ']';
        t[n++] = '}';
        const char *o = render_kind(LAKE_REC_SONG, t, n);
        if (depth <= 1024)
            assert_string_equal(reason_of(o), "missing_field:song_id");
        else
            assert_string_equal(reason_of(o), "invalid_json");
        free(t);
    }
}

/* ---- song fields ---- */

static void test_ingest_records__song_good(void **state)
{
    (void)state;
    assert_string_equal(song_with(""),
                        "SONG song_id=SO1 title=T artist_id=AR1 "
                        "artist_name=N artist_location=~ duration=1.5 "
                        "year=2001\n");
    assert_string_equal(
        song_with("\"artist_location\":\"Here\",\"artist_latitude\":-1.25,"
                  "\"artist_longitude\":3"),
        "SONG song_id=SO1 title=T artist_id=AR1 artist_name=N "
        "artist_location=Here duration=1.5 year=2001 lat=-1.25 lon=3\n");
    /* Numbers as text keep their literal; nulls are missing. */
    assert_string_equal(
        song_with("\"artist_name\":112,\"artist_location\":1.50,"
                  "\"artist_latitude\":null,\"title\":-0.0e+1"),
        "SONG song_id=SO1 title=-0.0e+1 artist_id=AR1 artist_name=112 "
        "artist_location=1.50 duration=1.5 year=2001\n");
    /* Unknown fields ignored; duplicates: last wins; keys unescaped. */
    assert_string_equal(
        song_with("\"extra\":{\"song_id\":1},\"tit\\u006ce\":\"U\","
                  "\"Title\":5,\"title\":\"V\\n\\u00e9\\ud83d\\ude00\""),
        "SONG song_id=SO1 title=V\n\xC3\xA9\xF0\x9F\x98\x80 artist_id=AR1 "
        "artist_name=N artist_location=~ duration=1.5 year=2001\n");
    assert_string_equal(song_with("\"year\":0,\"duration\":-0"),
                        "SONG song_id=SO1 title=T artist_id=AR1 "
                        "artist_name=N artist_location=~ duration=-0 "
                        "year=0\n");
    assert_string_equal(song_with("\"duration\":1e-400,\"year\":-5"),
                        "SONG song_id=SO1 title=T artist_id=AR1 "
                        "artist_name=N artist_location=~ duration=0 "
                        "year=-5\n");
    assert_string_equal(
        song_with("\"duration\":123456789012345678901234567890,"
                  "\"artist_latitude\":18446744073709551615,"
                  "\"artist_longitude\":0.1"),
        "SONG song_id=SO1 title=T artist_id=AR1 artist_name=N "
        "artist_location=~ duration=1.2345678901234568e+29 year=2001 "
        "lat=1.8446744073709552e+19 lon=0.10000000000000001\n");
    /* An empty title is fine: only song_id and artist_id are non-empty. */
    assert_string_equal(reason_of(song_with("\"title\":\"\"")), "OK");
}

static void test_ingest_records__song_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *extra, *reason;
    } cases[] = {
        {"\"song_id\":null", "missing_field:song_id"},
        {"\"song_id\":\"\"", "missing_field:song_id"},
        {"\"song_id\":true", "wrong_type:song_id"},
        {"\"artist_id\":\"\"", "missing_field:artist_id"},
        {"\"artist_id\":[]", "wrong_type:artist_id"},
        {"\"title\":null", "missing_field:title"},
        {"\"title\":{}", "wrong_type:title"},
        {"\"artist_name\":null", "missing_field:artist_name"},
        {"\"artist_name\":false", "wrong_type:artist_name"},
        {"\"duration\":null", "missing_field:duration"},
        {"\"duration\":\"1.5\"", "wrong_type:duration"},
        {"\"duration\":1e400", "out_of_range:duration"},
        {"\"duration\":-1E+309", "out_of_range:duration"},
        {"\"year\":null", "missing_field:year"},
        {"\"year\":2001.0", "wrong_type:year"},
        {"\"year\":2e3", "wrong_type:year"},
        {"\"year\":\"2001\"", "wrong_type:year"},
        {"\"year\":9223372036854775808", "out_of_range:year"},
        {"\"year\":-9223372036854775809", "out_of_range:year"},
        {"\"year\":99999999999999999999999", "out_of_range:year"},
        {"\"year\":2147483648", "out_of_range:year"},
        {"\"artist_location\":[1]", "wrong_type:artist_location"},
        {"\"artist_latitude\":\"1\"", "wrong_type:artist_latitude"},
        {"\"artist_longitude\":1e999", "out_of_range:artist_longitude"},
        /* Several broken: the first in table order wins. */
        {"\"artist_longitude\":true,\"song_id\":1.5e999999,\"title\":null",
         "missing_field:title"},
        {"\"year\":1.5,\"duration\":\"x\"", "wrong_type:duration"},
    };
    for (size_t i = 0; i < LAKE_ARRAY_LEN(cases); i++) {
        const char *o = song_with(cases[i].extra);
        if (strcmp(reason_of(o), cases[i].reason) != 0)
            fail_msg("case %zu %s: got %s", i, cases[i].extra, o);
    }
    /* Raw is the whole record text; line its first line. */
    assert_string_equal(song("\n  {\"song_id\":\"\",\n\"x\":1}  \n"),
                        "REJECT 2 missing_field:song_id "
                        "{\"song_id\":\"\",\n\"x\":1}\n");
    assert_string_equal(song("\n  {\"song_id\":\"\"}  \r\n"),
                        "REJECT 2 missing_field:song_id {\"song_id\":\"\"}\n");
}

/* ---- event fields ---- */

static void test_ingest_records__event_good(void **state)
{
    (void)state;
    assert_string_equal(ev_with(""), "EVENT ts=1541121934796" EV_BASE "\n");
    assert_string_equal(ev_with("\"userId\":15"),
                        "EVENT ts=1541121934796" EV_BASE "\n");
    assert_string_equal(ev_with("\"userId\":\"0015\",\"length\":0"),
                        "EVENT ts=1541121934796" EV_BASE " length=0\n");
    assert_string_equal(
        ev_with("\"userId\":\"9223372036854775807\",\"length\":-0,"
                "\"level\":\"paid\",\"firstName\":\"A\",\"lastName\":"
                "\"B\",\"gender\":\"F\",\"location\":\"L\","
                "\"userAgent\":\"U\",\"registration\":1540919166796.0,"
                "\"status\":200"),
        "EVENT ts=1541121934796 sess=7 item=2 user=9223372036854775807 "
        "page=NextSong level=paid first=A last=B gender=F location=L ua=U "
        "song=S artist=A length=-0\n");
    assert_string_equal(ev_with("\"userId\":0,\"level\":1"),
                        "EVENT ts=1541121934796 sess=7 item=2 user=0 "
                        "page=NextSong level=1 first=~ last=~ gender=~ "
                        "location=~ ua=~ song=S artist=A\n");
    /* Not NextSong: no user, no song needed. */
    assert_string_equal(
        ev("{\"ts\":-2208988800000,\"page\":\"Home\",\"sessionId\":-1,"
           "\"itemInSession\":0,\"userId\":\"\",\"song\":null}"),
        "EVENT ts=-2208988800000 sess=-1 item=0 user=~ page=Home level=~ "
        "first=~ last=~ gender=~ location=~ ua=~ song=~ artist=~\n");
    assert_string_equal(
        reason_of(ev_with("\"ts\":32503679999999,\"userId\":null,"
                          "\"page\":\"Home\"")),
        "OK");
}

static void test_ingest_records__event_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *extra, *reason;
    } cases[] = {
        {"\"ts\":null", "missing_field:ts"},
        {"\"ts\":\"1\"", "wrong_type:ts"},
        {"\"ts\":1.5", "wrong_type:ts"},
        {"\"ts\":1e3", "wrong_type:ts"},
        {"\"ts\":-2208988800001", "out_of_range:ts"},
        {"\"ts\":32503680000000", "out_of_range:ts"},
        {"\"ts\":18446744073709551615", "out_of_range:ts"},
        {"\"page\":null", "missing_field:page"},
        {"\"page\":[]", "wrong_type:page"},
        {"\"sessionId\":null", "missing_field:sessionId"},
        {"\"sessionId\":\"7\"", "wrong_type:sessionId"},
        {"\"sessionId\":7.0", "wrong_type:sessionId"},
        {"\"itemInSession\":null", "missing_field:itemInSession"},
        {"\"itemInSession\":99999999999999999999", "out_of_range:itemInSession"},
        {"\"userId\":\"12a\"", "wrong_type:userId"},
        {"\"userId\":\" 1\"", "wrong_type:userId"},
        {"\"userId\":\"-1\"", "wrong_type:userId"},
        {"\"userId\":-1", "wrong_type:userId"},
        {"\"userId\":-0", "wrong_type:userId"},
        {"\"userId\":1.0", "wrong_type:userId"},
        {"\"userId\":1e2", "wrong_type:userId"},
        {"\"userId\":true", "wrong_type:userId"},
        {"\"userId\":\"9223372036854775808\"", "out_of_range:userId"},
        {"\"userId\":9223372036854775808", "out_of_range:userId"},
        {"\"userId\":123456789012345678901234", "out_of_range:userId"},
        {"\"userId\":\"\"", "missing_field:userId"},
        {"\"userId\":null", "missing_field:userId"},
        {"\"level\":{}", "wrong_type:level"},
        {"\"firstName\":false", "wrong_type:firstName"},
        {"\"lastName\":[]", "wrong_type:lastName"},
        {"\"gender\":true", "wrong_type:gender"},
        {"\"location\":{}", "wrong_type:location"},
        {"\"userAgent\":[]", "wrong_type:userAgent"},
        {"\"song\":null", "missing_field:song"},
        {"\"artist\":null", "missing_field:artist"},
        {"\"song\":true", "wrong_type:song"},
        {"\"length\":\"1\"", "wrong_type:length"},
        {"\"length\":1e400", "out_of_range:length"},
        /* Order: table order, the user rule last. */
        {"\"userId\":\"\",\"song\":null", "missing_field:song"},
        {"\"length\":true,\"userId\":\"x\"", "wrong_type:userId"},
        {"\"page\":null,\"ts\":1e3", "wrong_type:ts"},
        /* Names are case-sensitive. */
        {"\"TS\":1,\"ts\":null", "missing_field:ts"},
    };
    for (size_t i = 0; i < LAKE_ARRAY_LEN(cases); i++) {
        const char *o = ev_with(cases[i].extra);
        if (strcmp(reason_of(o), cases[i].reason) != 0)
            fail_msg("case %zu %s: got %s", i, cases[i].extra, o);
    }
    /* Not NextSong: a wrong song type is still wrong. */
    assert_string_equal(
        reason_of(ev("{\"ts\":1,\"page\":\"Home\",\"sessionId\":1,"
                     "\"itemInSession\":0,\"song\":1,\"artist\":[]}")),
        "wrong_type:artist");
}

/* ---- engines, OOM, real data ---- */

static void test_ingest_records__scanner_agrees_on_numbers(void **state)
{
    (void)state;
    /* Doubles: the scanner (from_chars) and simdjson must round alike. */
    static const char *const nums[] = {
        "0.1", "1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308",
        "123.456e-7", "9007199254740993", "-9007199254740993.0",
        "0.30000000000000004", "1e22", "1E23", "5e-324", "2.5e-324",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9999999"};
    for (size_t i = 0; i < LAKE_ARRAY_LEN(nums); i++) {
        char extra[512];
        snprintf(extra, sizeof(extra), "\"length\":%s", nums[i]);
        (void)ev_with(extra); /* asserts fast == slow */
    }
}

static void test_ingest_records__reader_oom(void **state)
{
    (void)state;
    for (int64_t n = 0;; n++) {
        lake_failing_alloc fa;
        lake_failing_alloc_init(&fa, n);
        lake_record_reader *r = NULL;
        lake_error err;
        const lake_status rc = lake_record_reader_new(&fa.base, &r, &err);
        if (rc == LAKE_OK) {
            assert_true(n >= 2);
            lake_record_reader_free(r);
            assert_int_equal(fa.n_live, 0);
            break;
        }
        assert_int_equal(rc, LAKE_ENOMEM);
        assert_null(r);
        assert_int_equal(fa.n_live, 0);
    }
    /* A fresh reader, or one reset on no bytes, is at its end. */
    {
        lake_record_reader *r0 = NULL;
        lake_error e0;
        assert_int_equal(lake_record_reader_new(NULL, &r0, &e0), LAKE_OK);
        lake_event_rec ev0;
        lake_reject rj0;
        lake_next nx0 = LAKE_NEXT_RECORD;
        assert_int_equal(lake_record_reader_next(r0, &ev0, &rj0, &nx0, &e0),
                         LAKE_OK);
        assert_int_equal(nx0, LAKE_NEXT_END);
        lake_record_reader_reset(r0, LAKE_REC_SONG, NULL, 0);
        nx0 = LAKE_NEXT_RECORD;
        assert_int_equal(lake_record_reader_next(r0, &ev0, &rj0, &nx0, &e0),
                         LAKE_OK);
        assert_int_equal(nx0, LAKE_NEXT_END);
        lake_record_reader_free(r0);
        lake_record_reader_free(NULL);
    }
    /* The scanner's scratch buffer: ENOMEM from next, then a retry works
     * at the same place. */
    lake_failing_alloc fa;
    lake_failing_alloc_init(&fa, -1);
    lake_record_reader *r = NULL;
    lake_error err;
    assert_int_equal(lake_record_reader_new(&fa.base, &r, &err), LAKE_OK);
    static const char text[] = "{\"song_id\":\"a\\n\"} {}\n";
    char buf[sizeof(text) + LAKE_READ_PADDING] = {0};
    memcpy(buf, text, sizeof(text) - 1);
    lake_record_reader_reset(r, LAKE_REC_SONG, buf, sizeof(text) - 1);
    fa.fail_at = fa.n_calls;
    lake_song_rec s;
    lake_reject rej;
    lake_next nx;
    assert_int_equal(lake_record_reader_next(r, &s, &rej, &nx, &err),
                     LAKE_ENOMEM);
    assert_non_null(strstr(err.message, "ingest"));
    fa.fail_at = -1;
    assert_int_equal(lake_record_reader_next(r, &s, &rej, &nx, &err),
                     LAKE_OK);
    assert_int_equal(nx, LAKE_NEXT_REJECT);
    assert_string_equal(rej.reason, "missing_field:artist_id");
    assert_int_equal(rej.raw.len, 17);
    lake_record_reader_free(r);
    assert_int_equal(fa.n_live, 0);
}

/* Read every file below @p root of @p kind; count outcomes. */
static void read_tree(const char *root, lake_rec_kind kind, int64_t *n_rec,
                      int64_t *n_rej, lake_buf *names)
{
    lake_file_list list;
    lake_error err;
    assert_int_equal(lake_list_files(root, NULL, &list, &err), LAKE_OK);
    lake_record_reader *r = NULL;
    assert_int_equal(lake_record_reader_new(NULL, &r, &err), LAKE_OK);
    lake_file_data fd = {0};
    for (size_t i = 0; i < list.n_files; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", root, list.files[i].rel_path);
        assert_int_equal(lake_read_file(path, 0, &fd, &err), LAKE_OK);
        lake_record_reader_reset(r, kind, fd.data, fd.len);
        for (;;) {
            lake_song_rec s;
            lake_event_rec e;
            lake_reject rej;
            lake_next nx;
            assert_int_equal(lake_record_reader_next(
                                 r, kind == LAKE_REC_SONG ? (void *)&s
                                                          : (void *)&e,
                                 &rej, &nx, &err),
                             LAKE_OK);
            if (nx == LAKE_NEXT_END)
                break;
            if (nx == LAKE_NEXT_REJECT) {
                fprintf(stderr, "reject %s:%lld %s\n", path,
                        (long long)rej.line, rej.reason);
                (*n_rej)++;
                continue;
            }
            (*n_rec)++;
            if (names && kind == LAKE_REC_SONG) {
                /* Collect artist names that came from JSON numbers. */
                const lake_text *t = &s.artist_name;
                if (t->v.len > 0 && t->v.len < 8 &&
                    strspn(t->v.ptr, "0123456789") >= t->v.len) {
                    assert_int_equal(lake_buf_append(names, t->v.ptr,
                                                     t->v.len),
                                     LAKE_OK);
                    assert_int_equal(lake_buf_append_byte(names, ' '),
                                     LAKE_OK);
                }
            }
        }
    }
    lake_file_data_free(&fd);
    lake_record_reader_free(r);
    lake_file_list_free(&list);
}

static void test_ingest_records__real_data(void **state)
{
    (void)state;
    const char *shared = getenv("LAKE_SHARED_DATA");
    char root[4096];
    if (!shared) {
        skip();
        return;
    }
    snprintf(root, sizeof(root), "%s/sparkify-sample/log_data", shared);
    FILE *probe = fopen(root, "r");
    if (!probe) {
        skip();
        return;
    }
    fclose(probe);
    int64_t rec = 0, rej = 0;
    read_tree(root, LAKE_REC_EVENT, &rec, &rej, NULL);
    assert_int_equal(rec, 8056);
    assert_int_equal(rej, 0);
    rec = rej = 0;
    snprintf(root, sizeof(root), "%s/sparkify-sample/song_data", shared);
    read_tree(root, LAKE_REC_SONG, &rec, &rej, NULL);
    assert_int_equal(rec, 71);
    assert_int_equal(rej, 0);
    rec = rej = 0;
    lake_buf names;
    lake_buf_init(&names, NULL, 0);
    snprintf(root, sizeof(root), "%s/sparkify-songs-large/song_data",
             shared);
    read_tree(root, LAKE_REC_SONG, &rec, &rej, &names);
    assert_int_equal(rec, 1944);
    assert_int_equal(rej, 0);
    assert_int_equal(lake_buf_append_byte(&names, '\0'), LAKE_OK);
    assert_non_null(strstr(names.data, "112 "));
    assert_non_null(strstr(names.data, "2562 "));
    lake_buf_reset(&names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_records__jsonl_lines_and_end),
        cmocka_unit_test(test_ingest_records__crlf_bom_blank_lines),
        cmocka_unit_test(
            test_ingest_records__pretty_printed_and_several_per_line),
        cmocka_unit_test(test_ingest_records__garbage_then_good),
        cmocka_unit_test(test_ingest_records__unterminated_and_truncated),
        cmocka_unit_test(
            test_ingest_records__unclosed_containers_stay_linear),
        cmocka_unit_test(test_ingest_records__embedded_nul_and_bad_utf8),
        cmocka_unit_test(test_ingest_records__deep_nesting),
        cmocka_unit_test(test_ingest_records__song_good),
        cmocka_unit_test(test_ingest_records__song_rejects),
        cmocka_unit_test(test_ingest_records__event_good),
        cmocka_unit_test(test_ingest_records__event_rejects),
        cmocka_unit_test(test_ingest_records__scanner_agrees_on_numbers),
        cmocka_unit_test(test_ingest_records__reader_oom),
        cmocka_unit_test(test_ingest_records__real_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

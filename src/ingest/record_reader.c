/* SPDX-License-Identifier: Apache-2.0 */
/* record_reader.c - split a file's bytes into JSON records and type their
 * fields into lake_song_rec / lake_event_rec, or quarantine them.
 *
 * Engine, chosen by measurement over the 30 sample log files (3.76 MB,
 * 8,056 events of ~466 B, one per line), one core. Wall clock on the
 * shared, loaded 2-core machine (best of 10-20 passes; only ratios taken
 * at the same moment count) and callgrind instructions per pass (stable):
 *   validate only, per line:  simdjson 3.0.1 DOM 0.68-0.99 GB/s, ~39 M
 *                             instructions; yajl 2.1 callbacks 0.28 GB/s
 *                             (simdjson 0.68-0.74 at that moment), ~121 M;
 *                             json_scan.c ~46 M (a SWAR string loop made
 *                             it 72 M: Sparkify strings are short);
 *   validate + extract:       json_scan.c scan + walk ~76 M;
 *   this reader, parse + type (bench_parse): 51.5 M instructions per pass
 *   (13.7 per byte, 67 % of them in simdjson's stages 1 and 2), 0.61-0.75
 *   GB/s on the sample, 0.64-0.66 GB/s on a 75 MB events file, 0.59 GB/s
 *   from .gz (inflate in lake_read_file runs at ~0.36 GB/s).
 * simdjson DOM is 2.5-3x yajl and 1.2x our own scanner, validates fully
 * (UTF-8, escapes, lone surrogates, control characters, numbers, depth)
 * and is fuzzed upstream, so it takes the hot path. Its on-demand API is
 * faster (1.2-1.9 GB/s) but does not validate values it skips, so it is
 * not used.
 * Fast path: the current line (memchr for '\n'), trimmed, that starts with
 * '{' and ends with '}' is parsed by simdjson as one document. When that
 * fails for any reason (several values on the line, a pretty-printed
 * record, a number simdjson cannot hold: > 2^64 integers and 1e400 are
 * valid JSON but simdjson errors on them; malformed text), our own scanner
 * (json_scan.c) is the reference: it finds the extent of the value that
 * starts at the current byte and validates it fully; if valid, the
 * object's members are walked from the source text. So a record is
 * accepted exactly when a valid JSON value starts at its first byte. The
 * fast path also hands over to the scanner when a value needs its literal
 * text (a number in a text field, a 0 that may be "-0"), which simdjson's
 * DOM does not keep. Tests and the fuzz target run both engines over the
 * same bytes and require identical outcomes.
 * No allocation per record: simdjson's buffers and our scratch buffer grow
 * geometrically and are reused. simdjson allocates its own buffers with
 * new(nothrow); a failure there is LAKE_ENOMEM like ours.
 *
 * Rules decided here (SPEC is silent; proposed for SPEC):
 * - Whitespace between records is JSON whitespace (space, tab, CR, LF).
 *   A UTF-8 BOM is skipped only at the very start of the buffer.
 * - invalid_json: raw is the record's first line, from its first byte to
 *   the end of the line without the '\n' and without one trailing '\r';
 *   reading resumes at the next line. Other reasons: raw is the whole
 *   record text, from its first to its last byte.
 * - After a valid value, anything else on the same line is the next record
 *   (`{"a":1} xyz` gives a record and an invalid_json "xyz"). A top-level
 *   number, true, false or null must be followed by whitespace, one of
 *   {}[],:" or the end, else it is invalid_json (`123abc` is one bad
 *   token, not 123 then abc).
 * - Nesting deeper than 1024 arrays/objects is invalid_json.
 * - Cost: a record that opens a container and never closes it is scanned
 *   until the scanner fails, possibly many lines on; done from every line
 *   that would cost O(bytes x lines) (a 4 MB file of "[\n1,\n" lines took
 *   36 s). So when a scan fails more than 32 lines after its record's
 *   first line, records that start before the failure point are tried as
 *   single-line values only (a multi-line value there is invalid_json).
 *   Every line is then scanned at most ~35 times: linear. Exactness is
 *   lost only for a multi-line record that a broken record before it
 *   swallowed whole (a record cut right after "[" or ":"); JSON Lines and
 *   broken records shorter than 32 lines are not affected.
 * - line is the 1-based line of the record's first byte.
 * - Text fields: a string (unescaped), or a number kept as its literal
 *   text. Required song_id and artist_id that are absent, null or "" are
 *   missing_field:<name>. Other required fields only need to be present
 *   ("" is a valid title or page).
 * - Integer fields: an integer literal (no fraction, no exponent) that
 *   fits int64, else wrong_type:<name> for a fraction/exponent or another
 *   JSON type, out_of_range:<name> for a too-big integer literal. year
 *   must also fit int32 (the songs column is int32): out_of_range:year.
 * - Number fields: any JSON number, nearest double; a literal beyond the
 *   double range (1e400) is out_of_range:<name>; underflow gives (signed)
 *   zero; "-0" gives -0.0.
 * - userId: null, missing or "" is logged out; a string of ASCII digits
 *   (leading zeros allowed) or a non-negative integer literal without '-'
 *   that fits int64 is the user id; digits that overflow int64 are
 *   out_of_range:userId; anything else (other strings, negative numbers,
 *   fractions, other types) is wrong_type:userId.
 * - When a record breaks several rules, the first in this order is
 *   reported: songs: song_id, artist_id, title, artist_name, duration,
 *   year, artist_location, artist_latitude, artist_longitude; events: ts,
 *   page, sessionId, itemInSession, userId, level, firstName, lastName,
 *   gender, location, userAgent, song, artist, length, then a NextSong
 *   without a user (missing_field:userId). Within one field: missing,
 *   then wrong_type, then out_of_range.
 * - ts is within [1900-01-01, 3000-01-01) UTC in epoch ms, that is
 *   [-2208988800000, 32503680000000), else out_of_range:ts. */
#include "fmacros.h"

#include <stdio.h>
#include <string.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "ingest/ingest_json.h"
#include "lake_internal.h"

#define LONG_FAIL_LINES 32
#define TS_MIN_MS (-2208988800000LL)
#define TS_END_MS 32503680000000LL

enum song_field {
    SF_SONG_ID,
    SF_ARTIST_ID,
    SF_TITLE,
    SF_ARTIST_NAME,
    SF_DURATION,
    SF_YEAR,
    SF_ARTIST_LOCATION,
    SF_ARTIST_LATITUDE,
    SF_ARTIST_LONGITUDE,
    SF_COUNT
};

enum event_field {
    EF_TS,
    EF_PAGE,
    EF_SESSION_ID,
    EF_ITEM_IN_SESSION,
    EF_USER_ID,
    EF_LEVEL,
    EF_FIRST_NAME,
    EF_LAST_NAME,
    EF_GENDER,
    EF_LOCATION,
    EF_USER_AGENT,
    EF_SONG,
    EF_ARTIST,
    EF_LENGTH,
    EF_COUNT
};

#define MAX_FIELDS 16

struct lake_record_reader {
    const lake_allocator *alloc;
    lake_sj *sj;
    lake_rec_kind kind;
    const char *data, *pos, *end;
    int64_t line;
    char *scratch;
    size_t scratch_cap;
    uint32_t seen;
    const char *single_line_until; /* see "Cost" above */
    bool no_fast_path; /* tests: the scanner decides every record */
    lake_jval slots[MAX_FIELDS];
};

/* ---- field-name dispatch ---- */

#define KEY_IS(k, n, lit) ((n) == sizeof(lit) - 1 && memcmp(k, lit, n) == 0)

static int song_field_of(const char *k, size_t n)
{
    switch (n) {
    case 4:
        return KEY_IS(k, n, "year") ? SF_YEAR : -1;
    case 5:
        return KEY_IS(k, n, "title") ? SF_TITLE : -1;
    case 7:
        return KEY_IS(k, n, "song_id") ? SF_SONG_ID : -1;
    case 8:
        return KEY_IS(k, n, "duration") ? SF_DURATION : -1;
    case 9:
        return KEY_IS(k, n, "artist_id") ? SF_ARTIST_ID : -1;
    case 11:
        return KEY_IS(k, n, "artist_name") ? SF_ARTIST_NAME : -1;
    case 15:
        if (KEY_IS(k, n, "artist_location"))
            return SF_ARTIST_LOCATION;
        return KEY_IS(k, n, "artist_latitude") ? SF_ARTIST_LATITUDE : -1;
    case 16:
        return KEY_IS(k, n, "artist_longitude") ? SF_ARTIST_LONGITUDE : -1;
    default:
        return -1;
    }
}

static int event_field_of(const char *k, size_t n)
{
    switch (n) {
    case 2:
        return KEY_IS(k, n, "ts") ? EF_TS : -1;
    case 4:
        if (KEY_IS(k, n, "page"))
            return EF_PAGE;
        return KEY_IS(k, n, "song") ? EF_SONG : -1;
    case 5:
        return KEY_IS(k, n, "level") ? EF_LEVEL : -1;
    case 6:
        switch (k[0]) {
        case 'u':
            return KEY_IS(k, n, "userId") ? EF_USER_ID : -1;
        case 'g':
            return KEY_IS(k, n, "gender") ? EF_GENDER : -1;
        case 'a':
            return KEY_IS(k, n, "artist") ? EF_ARTIST : -1;
        case 'l':
            return KEY_IS(k, n, "length") ? EF_LENGTH : -1;
        default:
            return -1;
        }
    case 8:
        if (KEY_IS(k, n, "lastName"))
            return EF_LAST_NAME;
        return KEY_IS(k, n, "location") ? EF_LOCATION : -1;
    case 9:
        switch (k[0]) {
        case 's':
            return KEY_IS(k, n, "sessionId") ? EF_SESSION_ID : -1;
        case 'f':
            return KEY_IS(k, n, "firstName") ? EF_FIRST_NAME : -1;
        case 'u':
            return KEY_IS(k, n, "userAgent") ? EF_USER_AGENT : -1;
        default:
            return -1;
        }
    case 13:
        return KEY_IS(k, n, "itemInSession") ? EF_ITEM_IN_SESSION : -1;
    default:
        return -1;
    }
}

static lake_jval *on_song_member(void *ctx, const char *key, size_t key_len)
{
    lake_record_reader *r = ctx;
    const int f = song_field_of(key, key_len);
    if (f < 0)
        return NULL;
    r->seen |= 1u << f; /* a duplicated key: the last one wins */
    return &r->slots[f];
}

static lake_jval *on_event_member(void *ctx, const char *key, size_t key_len)
{
    lake_record_reader *r = ctx;
    const int f = event_field_of(key, key_len);
    if (f < 0)
        return NULL;
    r->seen |= 1u << f; /* a duplicated key: the last one wins */
    return &r->slots[f];
}

/* ---- typing ---- */

typedef enum tres {
    T_OK = 0,
    T_ABSENT = 1,   /* missing or null */
    T_WRONG = 2,    /* wrong_type */
    T_RANGE = 3,    /* out_of_range */
    T_NEED_LIT = 4  /* the fast path lacks a number's literal: redo slow */
} tres;

static const lake_jval *slot(const lake_record_reader *r, int f)
{
    if (!(r->seen & (1u << f)) || r->slots[f].kind == LAKE_JV_NULL)
        return NULL;
    return &r->slots[f];
}

static tres get_text(const lake_record_reader *r, int f, lake_text *out)
{
    const lake_jval *v = slot(r, f);
    out->present = false;
    out->v.ptr = "";
    out->v.len = 0;
    if (!v)
        return T_ABSENT;
    if (v->kind == LAKE_JV_STRING || v->kind == LAKE_JV_NUMBER) {
        if (!v->s.ptr)
            return T_NEED_LIT;
        out->v = v->s;
        out->present = true;
        return T_OK;
    }
    return T_WRONG;
}

/* Parse the digits [p, p + n) (non-empty, all digits) into int64. */
static tres parse_digits(const char *p, size_t n, bool neg, int64_t *out)
{
    uint64_t u = 0;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        const unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (u > (lim - d) / 10)
            return T_RANGE;
        u = u * 10 + d;
    }
    if (neg)
        *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    else
        *out = (int64_t)u;
    return T_OK;
}

/* An integer literal: -?digits, no fraction, no exponent. */
static tres int_of_literal(lake_strview s, int64_t *out)
{
    const bool neg = s.len > 0 && s.ptr[0] == '-';
    const char *p = s.ptr + neg;
    const size_t n = s.len - neg;
    if (memchr(p, '.', n) || memchr(p, 'e', n) || memchr(p, 'E', n))
        return T_WRONG;
    return parse_digits(p, n, neg, out);
}

static tres get_int(const lake_record_reader *r, int f, int64_t *out)
{
    const lake_jval *v = slot(r, f);
    if (!v)
        return T_ABSENT;
    if (v->kind != LAKE_JV_NUMBER)
        return T_WRONG;
    switch (v->num) {
    case LAKE_JN_INT64:
        *out = v->i64;
        return T_OK;
    case LAKE_JN_UINT64:
        return T_RANGE;
    case LAKE_JN_DOUBLE:
        return T_WRONG;
    case LAKE_JN_LITERAL:
        break;
    }
    return int_of_literal(v->s, out);
}

static tres get_num(const lake_record_reader *r,
                    int f,
                    double *out,
                    bool *has)
{
    const lake_jval *v = slot(r, f);
    *has = false;
    *out = 0;
    if (!v)
        return T_ABSENT;
    if (v->kind != LAKE_JV_NUMBER)
        return T_WRONG;
    switch (v->num) {
    case LAKE_JN_INT64:
        if (v->i64 == 0)
            return T_NEED_LIT; /* "-0" must give -0.0 */
        *out = v->d;
        break;
    case LAKE_JN_UINT64:
    case LAKE_JN_DOUBLE:
        *out = v->d;
        break;
    case LAKE_JN_LITERAL:
        if (!lake_json_number_to_double(v->s.ptr, v->s.len, out))
            return T_RANGE;
        break;
    }
    *has = true;
    return T_OK;
}

static tres get_user(const lake_record_reader *r,
                     int f,
                     int64_t *out,
                     bool *has)
{
    const lake_jval *v = slot(r, f);
    *has = false;
    *out = 0;
    if (!v)
        return T_OK;
    if (v->kind == LAKE_JV_NUMBER && v->num != LAKE_JN_LITERAL) {
        if (v->num == LAKE_JN_UINT64)
            return T_RANGE;
        if (v->num == LAKE_JN_DOUBLE || v->i64 < 0)
            return T_WRONG;
        if (v->i64 == 0)
            return T_NEED_LIT; /* "0" or "-0"? */
        *out = v->i64;
        *has = true;
        return T_OK;
    }
    if (v->kind != LAKE_JV_STRING && v->kind != LAKE_JV_NUMBER)
        return T_WRONG;
    if (v->kind == LAKE_JV_STRING && v->s.len == 0)
        return T_OK; /* logged out */
    for (size_t i = 0; i < v->s.len; i++)
        if (v->s.ptr[i] < '0' || v->s.ptr[i] > '9')
            return T_WRONG;
    const tres t = parse_digits(v->s.ptr, v->s.len, false, out);
    *has = t == T_OK;
    return t;
}

typedef struct verdict {
    tres t;
    const char *what; /* "missing_field" etc. */
    const char *name;
} verdict;

/* Record the first failure into @p v; returns true when @p t failed. */
static bool fail(verdict *v, tres t, bool required, const char *name)
{
    if (t == T_OK || (t == T_ABSENT && !required))
        return false;
    v->t = t;
    v->name = name;
    switch (t) {
    case T_ABSENT:
        v->what = "missing_field";
        break;
    case T_WRONG:
        v->what = "wrong_type";
        break;
    case T_RANGE:
        v->what = "out_of_range";
        break;
    default:
        v->what = NULL;
        break;
    }
    return true;
}

#define CHECK(expr, required, name)                                           \
    do {                                                                      \
        if (fail(&vd, (expr), (required), (name)))                            \
            return vd;                                                        \
    } while (0)

static verdict type_song(const lake_record_reader *r, lake_song_rec *s)
{
    verdict vd = {T_OK, NULL, NULL};
    tres t = get_text(r, SF_SONG_ID, &s->song_id);
    if (t == T_OK && s->song_id.v.len == 0)
        t = T_ABSENT;
    CHECK(t, true, "song_id");
    t = get_text(r, SF_ARTIST_ID, &s->artist_id);
    if (t == T_OK && s->artist_id.v.len == 0)
        t = T_ABSENT;
    CHECK(t, true, "artist_id");
    CHECK(get_text(r, SF_TITLE, &s->title), true, "title");
    CHECK(get_text(r, SF_ARTIST_NAME, &s->artist_name), true, "artist_name");
    bool has;
    CHECK(get_num(r, SF_DURATION, &s->duration, &has), true, "duration");
    t = get_int(r, SF_YEAR, &s->year);
    if (t == T_OK && (s->year < INT32_MIN || s->year > INT32_MAX))
        t = T_RANGE;
    CHECK(t, true, "year");
    CHECK(get_text(r, SF_ARTIST_LOCATION, &s->artist_location), false,
          "artist_location");
    CHECK(get_num(r, SF_ARTIST_LATITUDE, &s->artist_latitude,
                  &s->has_latitude),
          false, "artist_latitude");
    CHECK(get_num(r, SF_ARTIST_LONGITUDE, &s->artist_longitude,
                  &s->has_longitude),
          false, "artist_longitude");
    return vd;
}

static verdict type_event(const lake_record_reader *r, lake_event_rec *e)
{
    verdict vd = {T_OK, NULL, NULL};
    tres t = get_int(r, EF_TS, &e->ts);
    if (t == T_OK && (e->ts < TS_MIN_MS || e->ts >= TS_END_MS))
        t = T_RANGE;
    CHECK(t, true, "ts");
    CHECK(get_text(r, EF_PAGE, &e->page), true, "page");
    CHECK(get_int(r, EF_SESSION_ID, &e->session_id), true, "sessionId");
    CHECK(get_int(r, EF_ITEM_IN_SESSION, &e->item_in_session), true,
          "itemInSession");
    CHECK(get_user(r, EF_USER_ID, &e->user_id, &e->has_user), false,
          "userId");
    CHECK(get_text(r, EF_LEVEL, &e->level), false, "level");
    CHECK(get_text(r, EF_FIRST_NAME, &e->first_name), false, "firstName");
    CHECK(get_text(r, EF_LAST_NAME, &e->last_name), false, "lastName");
    CHECK(get_text(r, EF_GENDER, &e->gender), false, "gender");
    CHECK(get_text(r, EF_LOCATION, &e->location), false, "location");
    CHECK(get_text(r, EF_USER_AGENT, &e->user_agent), false, "userAgent");
    const bool next_song =
        e->page.v.len == 8 && memcmp(e->page.v.ptr, "NextSong", 8) == 0;
    CHECK(get_text(r, EF_SONG, &e->song), next_song, "song");
    CHECK(get_text(r, EF_ARTIST, &e->artist), next_song, "artist");
    CHECK(get_num(r, EF_LENGTH, &e->length, &e->has_length), false,
          "length");
    if (next_song && !e->has_user)
        CHECK(T_ABSENT, true, "userId");
    return vd;
}

static verdict type_record(const lake_record_reader *r, void *out)
{
    if (r->kind == LAKE_REC_SONG)
        return type_song(r, out);
    return type_event(r, out);
}

/* ---- the reader ---- */

lake_status lake_record_reader_new(const lake_allocator *alloc,
                                   lake_record_reader **out,
                                   lake_error *err)
{
    *out = NULL;
    alloc = lake_alloc_or_default(alloc);
    lake_record_reader *r = lake_calloc(alloc, 1, sizeof(*r));
    if (!r)
        return lake_error_oom(err, "ingest");
    r->alloc = alloc;
    const lake_status rc = lake_sj_new(alloc, &r->sj, err);
    if (rc != LAKE_OK) {
        lake_free(alloc, r);
        return rc;
    }
    lake_record_reader_reset(r, LAKE_REC_EVENT, "", 0);
    *out = r;
    return LAKE_OK;
}

void lake_record_reader_free(lake_record_reader *r)
{
    if (!r)
        return;
    lake_sj_free(r->sj);
    lake_free(r->alloc, r->scratch);
    lake_free(r->alloc, r);
}

void lake_record_reader_set_fast_path(lake_record_reader *r, bool on)
{
    r->no_fast_path = !on;
}

void lake_record_reader_reset(lake_record_reader *r,
                              lake_rec_kind kind,
                              const char *data,
                              size_t len)
{
    if (!data) {
        data = "";
        len = 0;
    }
    r->kind = kind;
    r->data = data;
    r->pos = data;
    r->end = data + len;
    r->single_line_until = data;
    r->line = 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        r->pos += 3;
}

static void set_reject(lake_reject *rej,
                       int64_t line,
                       const char *what,
                       const char *name,
                       const char *raw,
                       size_t raw_len)
{
    rej->line = line;
    if (name)
        snprintf(rej->reason, sizeof(rej->reason), "%s:%s", what, name);
    else
        snprintf(rej->reason, sizeof(rej->reason), "%s", what);
    rej->raw.ptr = raw;
    rej->raw.len = raw_len;
}

/* Whether [p, end) holds more than LONG_FAIL_LINES newlines. */
static bool spans_lines(const char *p, const char *end)
{
    for (int n = 0; n <= LONG_FAIL_LINES; n++) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        if (!q)
            return false;
        p = q + 1;
    }
    return true;
}

static int64_t count_newlines(const char *p, const char *end)
{
    int64_t n = 0;
    for (;;) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        if (!q)
            return n;
        n++;
        p = q + 1;
    }
}

/* Report the typing verdict for the record [p, q) at @p line. */
static lake_next finish(const verdict *vd,
                        int64_t line,
                        const char *p,
                        const char *q,
                        lake_reject *reject)
{
    if (vd->t == T_OK)
        return LAKE_NEXT_RECORD;
    set_reject(reject, line, vd->what, vd->name, p, (size_t)(q - p));
    return LAKE_NEXT_REJECT;
}

lake_status lake_record_reader_next(lake_record_reader *r,
                                    void *out,
                                    lake_reject *reject,
                                    lake_next *next,
                                    lake_error *err)
{
    const char *p = r->pos;
    const char *const end = r->end;
    for (;;) {
        if (p >= end) {
            r->pos = p;
            *next = LAKE_NEXT_END;
            return LAKE_OK;
        }
        const char c = *p;
        if (c == '\n') {
            r->line++;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            break;
        }
        p++;
    }
    r->pos = p;
    const int64_t line = r->line;
    const lake_jmember_fn fn =
        r->kind == LAKE_REC_SONG ? on_song_member : on_event_member;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *const line_end = nl ? nl : end;

    /* Fast path: the line holds exactly one object. */
    const char *te = line_end;
    while (te > p && (te[-1] == ' ' || te[-1] == '\t' || te[-1] == '\r'))
        te--;
    if (!r->no_fast_path && *p == '{' && te[-1] == '}') {
        r->seen = 0;
        const lake_sj_result sr =
            lake_sj_parse_object(r->sj, p, (size_t)(te - p), fn, r);
        if (sr == LAKE_SJ_NOMEM)
            return lake_error_set(err, LAKE_ENOMEM,
                                  "ingest: parse line %lld: out of memory "
                                  "in simdjson",
                                  (long long)line);
        if (sr == LAKE_SJ_OK) {
            const verdict vd = type_record(r, out);
            if (vd.t != T_NEED_LIT) {
                r->pos = line_end;
                *next = finish(&vd, line, p, te, reject);
                return LAKE_OK;
            }
        }
    }

    /* Slow path: our scanner decides. Inside the span of a long failed
     * multi-line scan, only single-line values are tried (linear time). */
    const char *vend = NULL;
    const bool multi = p >= r->single_line_until;
    if (!lake_json_scan(p, multi ? end : line_end, &vend)) {
        if (multi && vend > line_end && spans_lines(line_end, vend))
            r->single_line_until = vend;
        const char *raw_end = line_end;
        if (raw_end > p && raw_end[-1] == '\r')
            raw_end--;
        set_reject(reject, line, "invalid_json", NULL, p,
                   (size_t)(raw_end - p));
        if (nl) {
            r->pos = nl + 1;
            r->line++;
        } else {
            r->pos = end;
        }
        *next = LAKE_NEXT_REJECT;
        return LAKE_OK;
    }
    if (*p != '{') {
        set_reject(reject, line, "not_an_object", NULL, p,
                   (size_t)(vend - p));
        *next = LAKE_NEXT_REJECT;
    } else {
        const size_t need = (size_t)(vend - p);
        if (need > r->scratch_cap) {
            size_t cap = r->scratch_cap ? r->scratch_cap : 4096;
            while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
            char *s = lake_malloc(r->alloc, cap);
            if (!s)
                return lake_error_oom(err, "ingest");
            lake_free(r->alloc, r->scratch);
            r->scratch = s;
            r->scratch_cap = cap;
        }
        r->seen = 0;
        lake_json_walk_object(p, vend, r->scratch, fn, r);
        const verdict vd = type_record(r, out);
        *next = finish(&vd, line, p, vend, reject);
    }
    r->line += count_newlines(p, vend);
    r->pos = vend;
    return LAKE_OK;
}

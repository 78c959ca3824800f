/* SPDX-License-Identifier: Apache-2.0 */
/* gen_format.c - the generator's JSON writers: event lines and song files
 * byte for byte in the course data's spelling, and the faults that spoil
 * them, each to exactly one quarantine reason. */
#include "fmacros.h"

#include <string.h>

#include "lake_common.h"
#include "generate.h"
#include "lake_internal.h"

static const char hexl[] = "0123456789abcdef";

/* Reasons in the order of lake_generate_report.reason_counts. */
static const char *const reasons[LAKE_GEN_N_REASONS] = {
    "invalid_json",         "not_an_object",
    "missing_field:ts",     "missing_field:sessionId",
    "missing_field:page",   "missing_field:song",
    "missing_field:userId", "wrong_type:ts",
    "wrong_type:sessionId", "wrong_type:itemInSession",
    "wrong_type:page",      "wrong_type:length",
    "out_of_range:ts",      "missing_field:song_id",
    "wrong_type:duration",  "wrong_type:year",
};

const char *lake_generate_reason(int i)
{
    if (i < 0 || i >= LAKE_GEN_N_REASONS)
        return NULL;
    return reasons[i];
}

int lake_gen_fault_reason(int fault)
{
    switch (fault) {
    case LAKE_GEN_F_TRUNCATED:
    case LAKE_GEN_F_SYNTAX:
    case LAKE_GEN_F_LATIN1:
        return 0;
    case LAKE_GEN_F_ARRAY:
        return 1;
    case LAKE_GEN_F_NO_TS:
        return 2;
    case LAKE_GEN_F_NO_SESSION:
        return 3;
    case LAKE_GEN_F_NO_PAGE:
        return 4;
    case LAKE_GEN_F_NO_SONG:
        return 5;
    case LAKE_GEN_F_NO_USER:
        return 6;
    case LAKE_GEN_F_TS_STRING:
        return 7;
    case LAKE_GEN_F_SESSION_FLOAT:
        return 8;
    case LAKE_GEN_F_ITEM_STRING:
        return 9;
    case LAKE_GEN_F_PAGE_BOOL:
        return 10;
    case LAKE_GEN_F_LENGTH_STRING:
        return 11;
    case LAKE_GEN_F_TS_RANGE:
        return 12;
    default:
        return -1;
    }
}

int lake_gen_song_fault_reason(int fault)
{
    switch (fault) {
    case LAKE_GEN_SF_TRUNCATED:
        return 0;
    case LAKE_GEN_SF_ARRAY:
        return 1;
    case LAKE_GEN_SF_NO_SONG_ID:
        return 13;
    case LAKE_GEN_SF_DUR_STRING:
        return 14;
    case LAKE_GEN_SF_YEAR_FLOAT:
        return 15;
    default:
        return -1;
    }
}

/* ---- strings ---- */

static void put_u00(char *p, unsigned c)
{
    p[0] = '\\';
    p[1] = 'u';
    p[2] = '0';
    p[3] = '0';
    p[4] = hexl[(c >> 4) & 15];
    p[5] = hexl[c & 15];
}

lake_status lake_gen_json_log_str(lake_buf *b, const char *s, size_t n)
{
    LAKE_TRY(lake_buf_reserve(b, 12 * n + 2));
    char *p = b->data + b->len;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        const unsigned c = (unsigned char)s[i];
        if (c >= 0x80) {
            /* Each byte read as Latin-1 and re-encoded, twice. */
            put_u00(p, c < 0xC0 ? 0xC2 : 0xC3);
            put_u00(p + 6, c < 0xC0 ? c : c - 0x40);
            p += 12;
        } else if (c == '"' || c == '\\' || c == '/') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            put_u00(p, c);
            p += 6;
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    b->len = (size_t)(p - b->data);
    return LAKE_OK;
}

static void put_u(char **pp, unsigned cp)
{
    char *p = *pp;
    p[0] = '\\';
    p[1] = 'u';
    p[2] = hexl[(cp >> 12) & 15];
    p[3] = hexl[(cp >> 8) & 15];
    p[4] = hexl[(cp >> 4) & 15];
    p[5] = hexl[cp & 15];
    *pp = p + 6;
}

lake_status lake_gen_json_song_str(lake_buf *b, const char *s, size_t n)
{
    LAKE_TRY(lake_buf_reserve(b, 12 * n + 2));
    char *p = b->data + b->len;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];
        if (c >= 0x80) {
            /* Decode one UTF-8 sequence (our word lists are valid). */
            int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
            unsigned cp = c & (0x3Fu >> extra);
            while (extra-- > 0 && i + 1 < n)
                cp = (cp << 6) | ((unsigned char)s[++i] & 0x3Fu);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                put_u(&p, 0xD800 + (cp >> 10));
                put_u(&p, 0xDC00 + (cp & 0x3FF));
            } else {
                put_u(&p, cp);
            }
        } else if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else if (c < 0x20) {
            put_u(&p, c);
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    b->len = (size_t)(p - b->data);
    return LAKE_OK;
}

/* Decimal digits of @p v at @p p; returns the count. */
static size_t put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

static size_t put_i64(char *p, int64_t v)
{
    if (v < 0) {
        p[0] = '-';
        return 1 + put_u64(p + 1, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, (uint64_t)v);
}

lake_status lake_gen_fixed5(lake_buf *b, int64_t v)
{
    LAKE_TRY(lake_buf_reserve(b, 32));
    char *p = b->data + b->len;
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    p += put_u64(p, (uint64_t)(v / 100000));
    *p++ = '.';
    int64_t frac = v % 100000;
    int digits = 5;
    while (digits > 1 && frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    for (int i = digits - 1; i >= 0; i--) {
        p[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    p += digits;
    b->len = (size_t)(p - b->data);
    return LAKE_OK;
}

/* ---- event lines ---- */

#define PUT(lit)                                                               \
    do {                                                                       \
        memcpy(p, lit, sizeof(lit) - 1);                                       \
        p += sizeof(lit) - 1;                                                  \
    } while (0)
#define PUTN(src, len)                                                         \
    do {                                                                       \
        memcpy(p, src, len);                                                   \
        p += len;                                                              \
    } while (0)

static const char lo_frag0[] =
    "\"firstName\":null,\"gender\":null,\"itemInSession\":";
static const char lo_frag1[] = ",\"lastName\":null,\"length\":";
static const char lo_frag2[] = "\"location\":null,\"method\":\"";
static const char lo_frag3[] = "\"registration\":null,\"sessionId\":";
static const char lo_frag4[] = "\"userAgent\":null,\"userId\":\"\"}";

lake_status lake_gen_format_event(lake_buf *b,
                                  const lake_gen_world *w,
                                  const lake_gen_user *users,
                                  const char *user_frags,
                                  const lake_gen_event *ev)
{
    const lake_gen_catalog *c = w->catalog;
    const int fault = ev->fault;
    const bool song = ev->page == LAKE_GEN_NEXTSONG;
    const lake_gen_song *s = song ? &c->songs[ev->song] : NULL;
    const lake_gen_user *user = &users[ev->user];
    const bool in = ev->logged_in && fault != LAKE_GEN_F_NO_USER;
    const char *f[5];
    size_t fl[5];
    if (in) {
        const char *q = user_frags + user->frag_off;
        for (int i = 0; i < 5; i++) {
            f[i] = q;
            fl[i] = user->frag_len[i];
            q += fl[i];
        }
    } else {
        f[0] = lo_frag0, fl[0] = sizeof(lo_frag0) - 1;
        f[1] = lo_frag1, fl[1] = sizeof(lo_frag1) - 1;
        f[2] = lo_frag2, fl[2] = sizeof(lo_frag2) - 1;
        f[3] = lo_frag3, fl[3] = sizeof(lo_frag3) - 1;
        f[4] = lo_frag4, fl[4] = sizeof(lo_frag4) - 1;
    }
    size_t need = 320 + fl[0] + fl[1] + fl[2] + fl[3] + fl[4];
    if (s)
        need +=
            (size_t)s->log_artist_len + s->log_length_len + s->log_title_len;
    LAKE_TRY(lake_buf_reserve(b, need));
    const size_t start = b->len;
    char *p = b->data + b->len;
    const char *sf = s ? c->text.data + s->log_off : NULL;
    const lake_gen_page_info *pg = &lake_gen_pages[ev->page];

    if (fault == LAKE_GEN_F_ARRAY)
        *p++ = '[';
    PUT("{\"artist\":");
    if (s)
        PUTN(sf, s->log_artist_len);
    else
        PUT("null");
    if (fault == LAKE_GEN_F_SYNTAX)
        PUT(" \"auth\":");
    else
        PUT(",\"auth\":");
    if (in)
        PUT("\"Logged In\",");
    else
        PUT("\"Logged Out\",");
    PUTN(f[0], fl[0]);
    if (fault == LAKE_GEN_F_ITEM_STRING)
        *p++ = '"';
    p += put_i64(p, ev->item);
    if (fault == LAKE_GEN_F_ITEM_STRING)
        *p++ = '"';
    if (fault == LAKE_GEN_F_LATIN1) {
        /* ,"lastName":"  then a raw Latin-1 byte: not UTF-8. */
        PUTN(f[1], 13);
        *p++ = (char)0xE9;
        PUTN(f[1] + 13, fl[1] - 13);
    } else {
        PUTN(f[1], fl[1]);
    }
    if (s) {
        if (fault == LAKE_GEN_F_LENGTH_STRING)
            *p++ = '"';
        PUTN(sf + s->log_artist_len, s->log_length_len);
        if (fault == LAKE_GEN_F_LENGTH_STRING)
            *p++ = '"';
    } else {
        PUT("null");
    }
    if (ev->level)
        PUT(",\"level\":\"paid\",");
    else
        PUT(",\"level\":\"free\",");
    PUTN(f[2], fl[2]);
    PUTN(pg->method, 3);
    PUT("\",");
    if (fault != LAKE_GEN_F_NO_PAGE) {
        PUT("\"page\":");
        if (fault == LAKE_GEN_F_PAGE_BOOL) {
            PUT("true");
        } else {
            *p++ = '"';
            PUTN(pg->name, strlen(pg->name));
            *p++ = '"';
        }
        *p++ = ',';
    }
    PUTN(f[3], fl[3]);
    if (fault == LAKE_GEN_F_NO_SESSION) {
        PUT("null");
    } else {
        p += put_i64(p, ev->session);
        if (fault == LAKE_GEN_F_SESSION_FLOAT)
            PUT(".0");
    }
    PUT(",\"song\":");
    if (s && fault != LAKE_GEN_F_NO_SONG)
        PUTN(sf + s->log_artist_len + s->log_length_len, s->log_title_len);
    else
        PUT("null");
    PUT(",\"status\":");
    p += put_i64(p, pg->status);
    if (fault != LAKE_GEN_F_NO_TS) {
        PUT(",\"ts\":");
        if (fault == LAKE_GEN_F_TS_STRING)
            *p++ = '"';
        p += put_i64(p, fault == LAKE_GEN_F_TS_RANGE ? ev->ts * 1000 : ev->ts);
        if (fault == LAKE_GEN_F_TS_STRING)
            *p++ = '"';
    }
    *p++ = ',';
    PUTN(f[4], fl[4]);
    if (fault == LAKE_GEN_F_ARRAY)
        *p++ = ']';
    b->len = (size_t)(p - b->data);
    if (fault == LAKE_GEN_F_TRUNCATED) {
        /* Cut anywhere before the closing brace: never valid JSON. */
        const size_t len = b->len - start;
        const uint64_t h =
            lake_gen_mix64((uint64_t)ev->ts ^ ((uint64_t)ev->session << 20) ^
                           (uint64_t)ev->item);
        b->len = start + 1 + (size_t)(h % (len - 2));
    }
    return LAKE_OK;
}

/* ---- song files ---- */

static lake_status song_object(lake_buf *b,
                               const lake_gen_catalog *c,
                               uint32_t si,
                               int fault,
                               bool pretty)
{
    const lake_gen_song *s = &c->songs[si];
    const lake_gen_artist *a = &c->artists[s->artist];
    const char *sep = pretty ? ",\n    " : ", ";
    char id[19];
    LAKE_TRY(lake_buf_append_str(b, pretty ? "{\n    " : "{"));
    LAKE_TRY(lake_buf_append_str(b, "\"num_songs\": 1"));
    LAKE_TRY(lake_buf_append_str(b, sep));
    lake_gen_artist_id(a->id, id);
    LAKE_TRY(lake_buf_printf(b, "\"artist_id\": \"%s\"%s", id, sep));
    LAKE_TRY(lake_buf_append_str(b, "\"artist_latitude\": "));
    if (a->has_coords)
        LAKE_TRY(lake_gen_fixed5(b, a->lat_e5));
    else
        LAKE_TRY(lake_buf_append_str(b, "null"));
    LAKE_TRY(lake_buf_append_str(b, sep));
    LAKE_TRY(lake_buf_append_str(b, "\"artist_longitude\": "));
    if (a->has_coords)
        LAKE_TRY(lake_gen_fixed5(b, a->lon_e5));
    else
        LAKE_TRY(lake_buf_append_str(b, "null"));
    LAKE_TRY(lake_buf_append_str(b, sep));
    LAKE_TRY(lake_buf_append_str(b, "\"artist_location\": "));
    LAKE_TRY(lake_gen_json_song_str(b, c->text.data + a->loc_off, a->loc_len));
    LAKE_TRY(lake_buf_append_str(b, sep));
    LAKE_TRY(lake_buf_append_str(b, "\"artist_name\": "));
    LAKE_TRY(
        lake_gen_json_song_str(b, c->text.data + a->name_off, a->name_len));
    LAKE_TRY(lake_buf_append_str(b, sep));
    if (fault == LAKE_GEN_SF_NO_SONG_ID) {
        LAKE_TRY(lake_buf_printf(b, "\"song_id\": null%s", sep));
    } else {
        lake_gen_song_id(s->id, id);
        LAKE_TRY(lake_buf_printf(b, "\"song_id\": \"%s\"%s", id, sep));
    }
    LAKE_TRY(lake_buf_append_str(b, "\"title\": "));
    LAKE_TRY(
        lake_gen_json_song_str(b, c->text.data + s->title_off, s->title_len));
    LAKE_TRY(lake_buf_append_str(b, sep));
    LAKE_TRY(lake_buf_append_str(b, "\"duration\": "));
    if (fault == LAKE_GEN_SF_DUR_STRING)
        LAKE_TRY(lake_buf_append_byte(b, '"'));
    LAKE_TRY(lake_gen_fixed5(b, s->dur_e5));
    if (fault == LAKE_GEN_SF_DUR_STRING)
        LAKE_TRY(lake_buf_append_byte(b, '"'));
    LAKE_TRY(lake_buf_append_str(b, sep));
    if (fault == LAKE_GEN_SF_YEAR_FLOAT)
        LAKE_TRY(lake_buf_printf(b, "\"year\": %u.5",
                                 (unsigned)s->year + (s->year ? 0 : 1999)));
    else
        LAKE_TRY(lake_buf_printf(b, "\"year\": %u", (unsigned)s->year));
    return lake_buf_append_str(b, pretty ? "\n}" : "}");
}

lake_status lake_gen_format_song(lake_buf *b,
                                 const lake_gen_catalog *c,
                                 uint32_t s,
                                 int fault,
                                 uint32_t s2)
{
    if (fault == LAKE_GEN_SF_PRETTY_PAIR) {
        LAKE_TRY(song_object(b, c, s, 0, true));
        LAKE_TRY(lake_buf_append_byte(b, '\n'));
        return song_object(b, c, s2, 0, true);
    }
    if (fault == LAKE_GEN_SF_ARRAY)
        LAKE_TRY(lake_buf_append_byte(b, '['));
    const size_t start = b->len;
    LAKE_TRY(song_object(b, c, s, fault, false));
    if (fault == LAKE_GEN_SF_ARRAY)
        LAKE_TRY(lake_buf_append_byte(b, ']'));
    if (fault == LAKE_GEN_SF_TRUNCATED)
        b->len = start + (b->len - start) / 2;
    return LAKE_OK;
}

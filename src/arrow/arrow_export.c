/* SPDX-License-Identifier: Apache-2.0 */
/* arrow_export.c - the ingest record reader behind an Arrow C stream: one
 * input file's records and rejects as Arrow record batches, built column
 * by column and handed over without copies (pyarrow, Spark mapInArrow).
 *
 * Memory: every batch owns its buffers (one private block per column, so
 * that a consumer may move a child out and release it alone); the stream
 * owns a padded copy of the input and the reader. Both release through
 * the allocator given in the options. */
#include "fmacros.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_common.h"
#include "ingest/ingest.h"
#include "model/model.h"
#include "arrow/arrow_export.h"
#include "lake_internal.h"

#define DEFAULT_MAX_BYTES ((size_t)4 << 30)

/* ---- column layouts ---- */

typedef enum col_type {
    COL_UTF8, /* "u": validity, int32 offsets, data */
    COL_I64,  /* "l" */
    COL_I32,  /* "i" */
    COL_F64,  /* "g" */
    COL_TS_US /* "tsu:UTC": int64 microseconds */
} col_type;

typedef struct col_def {
    const char *name;
    col_type type;
} col_def;

enum song_col {
    SC_SOURCE,
    SC_REC,
    SC_SONG_ID,
    SC_TITLE,
    SC_ARTIST_ID,
    SC_ARTIST_NAME,
    SC_ARTIST_LOCATION,
    SC_DURATION,
    SC_YEAR,
    SC_LATITUDE,
    SC_LONGITUDE,
    SC_LINE,
    SC_REASON,
    SC_RAW,
    SC_COUNT
};

static const col_def song_cols[SC_COUNT] = {
    {"source", COL_UTF8},          {"rec", COL_I64},
    {"song_id", COL_UTF8},         {"title", COL_UTF8},
    {"artist_id", COL_UTF8},       {"artist_name", COL_UTF8},
    {"artist_location", COL_UTF8}, {"duration", COL_F64},
    {"year", COL_I32},             {"artist_latitude", COL_F64},
    {"artist_longitude", COL_F64}, {"line", COL_I64},
    {"reason", COL_UTF8},          {"raw", COL_UTF8},
};

enum event_col {
    EC_SOURCE,
    EC_REC,
    EC_TS,
    EC_START_TIME,
    EC_SESSION_ID,
    EC_ITEM,
    EC_USER_ID,
    EC_PAGE,
    EC_LEVEL,
    EC_FIRST_NAME,
    EC_LAST_NAME,
    EC_GENDER,
    EC_LOCATION,
    EC_USER_AGENT,
    EC_SONG,
    EC_ARTIST,
    EC_LENGTH,
    EC_SONGPLAY_ID,
    EC_HOUR,
    EC_DAY,
    EC_WEEK,
    EC_MONTH,
    EC_YEAR,
    EC_WEEKDAY,
    EC_LINE,
    EC_REASON,
    EC_RAW,
    EC_COUNT
};

static const col_def event_cols[EC_COUNT] = {
    {"source", COL_UTF8},       {"rec", COL_I64},
    {"ts", COL_I64},            {"start_time", COL_TS_US},
    {"session_id", COL_I64},    {"item_in_session", COL_I64},
    {"user_id", COL_I64},       {"page", COL_UTF8},
    {"level", COL_UTF8},        {"first_name", COL_UTF8},
    {"last_name", COL_UTF8},    {"gender", COL_UTF8},
    {"location", COL_UTF8},     {"user_agent", COL_UTF8},
    {"song", COL_UTF8},         {"artist", COL_UTF8},
    {"length", COL_F64},        {"songplay_id", COL_I64},
    {"hour", COL_I32},          {"day", COL_I32},
    {"week", COL_I32},          {"month", COL_I32},
    {"year", COL_I32},          {"weekday", COL_I32},
    {"line", COL_I64},          {"reason", COL_UTF8},
    {"raw", COL_UTF8},
};

_Static_assert(SC_COUNT <= LAKE_ARROW_MAX_COLUMNS &&
                   EC_COUNT <= LAKE_ARROW_MAX_COLUMNS &&
                   LAKE_ARROW_MAX_COLUMNS < 64,
               "a column's bit in lake_arrow_opts.columns, its builder");

static const col_def *cols_of(lake_arrow_kind kind, size_t *n)
{
    if (kind == LAKE_ARROW_SONGS) {
        *n = SC_COUNT;
        return song_cols;
    }
    *n = EC_COUNT;
    return event_cols;
}

size_t lake_arrow_n_columns(lake_arrow_kind kind)
{
    size_t n;
    (void)cols_of(kind, &n);
    return n;
}

const char *lake_arrow_column_name(lake_arrow_kind kind, size_t i)
{
    size_t n;
    const col_def *c = cols_of(kind, &n);
    return i < n ? c[i].name : NULL;
}

static const char *format_of(col_type t)
{
    switch (t) {
    case COL_UTF8:
        return "u";
    case COL_I64:
        return "l";
    case COL_I32:
        return "i";
    case COL_F64:
        return "g";
    case COL_TS_US:
        return "tsu:UTC";
    }
    return "n";
}

static size_t width_of(col_type t)
{
    return t == COL_I32 ? 4 : 8;
}

/* ---- schema ---- */

typedef struct schema_priv {
    const lake_allocator *alloc;
    struct ArrowSchema *kids;  /* n_children of them */
    struct ArrowSchema **ptrs; /* pointers to kids */
} schema_priv;

static void release_child_schema(struct ArrowSchema *s)
{
    s->release = NULL; /* names and formats are static */
}

static void release_schema(struct ArrowSchema *s)
{
    if (!s->release)
        return;
    schema_priv *p = s->private_data;
    for (int64_t i = 0; i < s->n_children; i++)
        if (p->kids[i].release)
            p->kids[i].release(&p->kids[i]);
    lake_free(p->alloc, p->kids);
    lake_free(p->alloc, p->ptrs);
    lake_free(p->alloc, p);
    s->release = NULL;
}

/* The schema of the columns @p cols (@p n of them). */
static lake_status make_schema(const lake_allocator *alloc,
                               const col_def *const *cols,
                               size_t n,
                               struct ArrowSchema *out)
{
    schema_priv *p = lake_calloc(alloc, 1, sizeof(*p));
    if (!p)
        return LAKE_ENOMEM;
    p->alloc = alloc;
    p->kids = lake_calloc(alloc, n, sizeof(*p->kids));
    p->ptrs = lake_calloc(alloc, n, sizeof(*p->ptrs));
    if (!p->kids || !p->ptrs) {
        lake_free(alloc, p->kids);
        lake_free(alloc, p->ptrs);
        lake_free(alloc, p);
        return LAKE_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct ArrowSchema *k = &p->kids[i];
        k->format = format_of(cols[i]->type);
        k->name = cols[i]->name;
        k->flags = ARROW_FLAG_NULLABLE;
        k->release = release_child_schema;
        p->ptrs[i] = k;
    }
    memset(out, 0, sizeof(*out));
    out->format = "+s";
    out->name = "";
    out->n_children = (int64_t)n;
    out->children = p->ptrs;
    out->release = release_schema;
    out->private_data = p;
    return LAKE_OK;
}

/* ---- column builders ---- */

typedef struct col_builder {
    lake_buf valid;  /* validity bitmap, 1 bit a row */
    lake_buf values; /* fixed-width values, or int32 offsets for utf8 */
    lake_buf data;   /* utf8 bytes */
    int64_t n_null;
} col_builder;

/* Rows are put column by column in the kind's order (the logical
 * columns); the builder keeps only the columns asked for (opts->columns),
 * in the same order (the physical columns): a put to a column left out
 * does nothing. */
typedef struct batch_builder {
    const lake_allocator *alloc;
    size_t n_logical;
    int8_t slot[LAKE_ARROW_MAX_COLUMNS]; /* logical -> physical, or -1 */
    const col_def *cols[LAKE_ARROW_MAX_COLUMNS]; /* physical */
    size_t n_cols;                               /* physical */
    int64_t n_rows; /* rows finished */
    col_builder c[LAKE_ARROW_MAX_COLUMNS];
} batch_builder;

/* @p columns: 0 for all, else a bit per logical column (checked). */
static void bb_init(batch_builder *bb,
                    const lake_allocator *alloc,
                    lake_arrow_kind kind,
                    uint64_t columns)
{
    bb->alloc = alloc;
    const col_def *cols = cols_of(kind, &bb->n_logical);
    bb->n_cols = 0;
    bb->n_rows = 0;
    for (size_t i = 0; i < bb->n_logical; i++) {
        if (columns && !(columns & ((uint64_t)1 << i))) {
            bb->slot[i] = -1;
            continue;
        }
        bb->slot[i] = (int8_t)bb->n_cols;
        bb->cols[bb->n_cols++] = &cols[i];
    }
    for (size_t i = 0; i < bb->n_cols; i++) {
        lake_buf_init(&bb->c[i].valid, alloc, 0);
        lake_buf_init(&bb->c[i].values, alloc, 0);
        lake_buf_init(&bb->c[i].data, alloc, INT32_MAX);
        bb->c[i].n_null = 0;
    }
}

static void bb_reset(batch_builder *bb)
{
    for (size_t i = 0; i < bb->n_cols; i++) {
        lake_buf_reset(&bb->c[i].valid);
        lake_buf_reset(&bb->c[i].values);
        lake_buf_reset(&bb->c[i].data);
        bb->c[i].n_null = 0;
    }
    bb->n_rows = 0;
}

/* Open a value of a utf8 column: its offsets start with a 0. */
static lake_status begin_str(col_builder *c)
{
    static const int32_t zero = 0;
    if (c->values.len == 0)
        return lake_buf_append(&c->values, &zero, sizeof(zero));
    return LAKE_OK;
}

/* Set the validity bit of the current row of column @p c. */
static lake_status put_valid(batch_builder *bb, col_builder *c, bool valid)
{
    const int64_t row = bb->n_rows;
    if ((row & 7) == 0)
        LAKE_TRY(lake_buf_append_byte(&c->valid, 0));
    if (valid)
        c->valid.data[row >> 3] |= (char)(1u << (row & 7));
    else
        c->n_null++;
    return LAKE_OK;
}

/* Whether logical column @p col is built. */
static bool wants(const batch_builder *bb, size_t col)
{
    return bb->slot[col] >= 0;
}

static lake_status put_fixed(batch_builder *bb,
                             size_t col,
                             const void *v,
                             bool valid)
{
    const int slot = bb->slot[col];
    if (slot < 0)
        return LAKE_OK;
    col_builder *c = &bb->c[slot];
    static const uint8_t zero[8] = {0};
    LAKE_TRY(put_valid(bb, c, valid));
    return lake_buf_append(&c->values, valid ? v : zero,
                           width_of(bb->cols[slot]->type));
}

static lake_status put_i64(batch_builder *bb, size_t col, int64_t v)
{
    return put_fixed(bb, col, &v, true);
}

static lake_status put_i32(batch_builder *bb, size_t col, int32_t v)
{
    return put_fixed(bb, col, &v, true);
}

static lake_status put_f64(batch_builder *bb, size_t col, double v)
{
    return put_fixed(bb, col, &v, true);
}

/* Close the current string of a utf8 column (its bytes are appended). */
static lake_status end_str(col_builder *c)
{
    const int32_t end = (int32_t)c->data.len;
    return lake_buf_append(&c->values, &end, sizeof(end));
}

static lake_status put_null(batch_builder *bb, size_t col)
{
    const int slot = bb->slot[col];
    if (slot < 0)
        return LAKE_OK;
    col_builder *c = &bb->c[slot];
    if (bb->cols[slot]->type != COL_UTF8)
        return put_fixed(bb, col, NULL, false);
    LAKE_TRY(begin_str(c));
    LAKE_TRY(put_valid(bb, c, false));
    return end_str(c);
}

static lake_status put_str(batch_builder *bb,
                           size_t col,
                           const char *p,
                           size_t n)
{
    const int slot = bb->slot[col];
    if (slot < 0)
        return LAKE_OK;
    col_builder *c = &bb->c[slot];
    LAKE_TRY(begin_str(c));
    LAKE_TRY(put_valid(bb, c, true));
    LAKE_TRY(lake_buf_append(&c->data, p, n));
    return end_str(c);
}

/* A text field: absent is NULL; with @p empty_null, "" is NULL too. */
static lake_status put_text(batch_builder *bb,
                            size_t col,
                            const lake_text *t,
                            bool empty_null)
{
    if (!t->present || (empty_null && t->v.len == 0))
        return put_null(bb, col);
    return put_str(bb, col, t->v.ptr, t->v.len);
}

/* A string whose invalid UTF-8 becomes U+FFFD. */
static lake_status put_str_repaired(batch_builder *bb,
                                    size_t col,
                                    const char *str,
                                    size_t n)
{
    const int slot = bb->slot[col];
    if (slot < 0)
        return LAKE_OK;
    col_builder *c = &bb->c[slot];
    LAKE_TRY(begin_str(c));
    LAKE_TRY(put_valid(bb, c, true));
    LAKE_TRY(lake_buf_append_utf8_repaired(&c->data, str, n));
    return end_str(c);
}

/* Bytes of string data in the biggest column of the batch. */
static size_t bb_max_data(const batch_builder *bb)
{
    size_t m = 0;
    for (size_t i = 0; i < bb->n_cols; i++)
        m = LAKE_MAX(m, bb->c[i].data.len);
    return m;
}

/* ---- batches ---- */

typedef struct child_priv {
    const lake_allocator *alloc;
    const void *buffers[3];
    void *owned[3];
} child_priv;

typedef struct batch_priv {
    const lake_allocator *alloc;
    struct ArrowArray kids[LAKE_ARROW_MAX_COLUMNS];
    struct ArrowArray *ptrs[LAKE_ARROW_MAX_COLUMNS];
    const void *buffers[1];
} batch_priv;

static void release_child(struct ArrowArray *a)
{
    if (!a->release)
        return;
    child_priv *p = a->private_data;
    for (int i = 0; i < 3; i++)
        lake_free(p->alloc, p->owned[i]);
    lake_free(p->alloc, p);
    a->release = NULL;
}

static void release_batch(struct ArrowArray *a)
{
    if (!a->release)
        return;
    batch_priv *p = a->private_data;
    for (int64_t i = 0; i < a->n_children; i++)
        if (p->kids[i].release)
            p->kids[i].release(&p->kids[i]);
    lake_free(p->alloc, p);
    a->release = NULL;
}

/* Move column @p col's buffers into the child array @p a, whose private
 * block @p p the caller allocated (zeroed). Cannot fail. */
static void finish_child(batch_builder *bb,
                         size_t col,
                         child_priv *p,
                         struct ArrowArray *a)
{
    col_builder *c = &bb->c[col];
    size_t len, cap;
    p->alloc = bb->alloc;
    if (c->n_null > 0) {
        p->owned[0] = lake_buf_take(&c->valid, &len, &cap);
        p->buffers[0] = p->owned[0];
    } else {
        lake_buf_reset(&c->valid);
    }
    p->owned[1] = lake_buf_take(&c->values, &len, &cap);
    p->buffers[1] = p->owned[1];
    memset(a, 0, sizeof(*a));
    a->length = bb->n_rows;
    a->null_count = c->n_null;
    a->n_buffers = 2;
    if (bb->cols[col]->type == COL_UTF8) {
        p->owned[2] = lake_buf_take(&c->data, &len, &cap);
        /* An all-empty column still gets a non-NULL data buffer. */
        p->buffers[2] = p->owned[2] ? p->owned[2] : (const void *)"";
        a->n_buffers = 3;
    }
    a->buffers = p->buffers;
    a->release = release_child;
    a->private_data = p;
    c->n_null = 0;
}

/* Hand the rows built so far (at least one) to @p out and empty the
 * builder. On failure nothing is handed over. */
static lake_status bb_finish(batch_builder *bb, struct ArrowArray *out)
{
    assert(bb->n_rows > 0);
    batch_priv *p = lake_calloc(bb->alloc, 1, sizeof(*p));
    if (!p)
        return LAKE_ENOMEM;
    p->alloc = bb->alloc;
    /* Allocate every block first, so that a failure takes nothing. */
    child_priv *blocks[LAKE_ARROW_MAX_COLUMNS] = {0};
    for (size_t i = 0; i < bb->n_cols; i++) {
        blocks[i] = lake_calloc(bb->alloc, 1, sizeof(child_priv));
        if (!blocks[i]) {
            for (size_t j = 0; j < i; j++)
                lake_free(bb->alloc, blocks[j]);
            lake_free(bb->alloc, p);
            return LAKE_ENOMEM;
        }
    }
    for (size_t i = 0; i < bb->n_cols; i++) {
        finish_child(bb, i, blocks[i], &p->kids[i]);
        p->ptrs[i] = &p->kids[i];
    }
    memset(out, 0, sizeof(*out));
    out->length = bb->n_rows;
    out->n_buffers = 1;
    out->buffers = p->buffers;
    out->n_children = (int64_t)bb->n_cols;
    out->children = p->ptrs;
    out->release = release_batch;
    out->private_data = p;
    bb->n_rows = 0;
    return LAKE_OK;
}

/* ---- rows ---- */

/* Append a reject row: source, rec, line, reason, raw; NULL elsewhere. */
static lake_status put_reject(batch_builder *bb,
                              const char *source,
                              size_t source_len,
                              int64_t rec,
                              const lake_reject *rej)
{
    const size_t n = bb->n_logical;
    for (size_t i = 0; i < n; i++) {
        lake_status rc;
        if (!wants(bb, i))
            continue;
        if (i == 0)
            rc = put_str(bb, i, source, source_len);
        else if (i == 1)
            rc = put_i64(bb, i, rec);
        else if (i == n - 3)
            rc = put_i64(bb, i, rej->line);
        else if (i == n - 2)
            rc = put_str(bb, i, rej->reason, strlen(rej->reason));
        else if (i == n - 1)
            rc = put_str_repaired(bb, i, rej->raw.ptr, rej->raw.len);
        else
            rc = put_null(bb, i);
        LAKE_TRY(rc);
    }
    bb->n_rows++;
    return LAKE_OK;
}

static lake_status put_song(batch_builder *bb,
                            const char *source,
                            size_t source_len,
                            int64_t rec,
                            const lake_song_rec *s)
{
    LAKE_TRY(put_str(bb, SC_SOURCE, source, source_len));
    LAKE_TRY(put_i64(bb, SC_REC, rec));
    LAKE_TRY(put_text(bb, SC_SONG_ID, &s->song_id, false));
    LAKE_TRY(put_text(bb, SC_TITLE, &s->title, false));
    LAKE_TRY(put_text(bb, SC_ARTIST_ID, &s->artist_id, false));
    LAKE_TRY(put_text(bb, SC_ARTIST_NAME, &s->artist_name, false));
    LAKE_TRY(put_text(bb, SC_ARTIST_LOCATION, &s->artist_location, true));
    LAKE_TRY(put_f64(bb, SC_DURATION, s->duration));
    /* The reader keeps year within int32 (out_of_range:year). */
    if (s->year == 0)
        LAKE_TRY(put_null(bb, SC_YEAR));
    else
        LAKE_TRY(put_i32(bb, SC_YEAR, (int32_t)s->year));
    if (s->has_latitude)
        LAKE_TRY(put_f64(bb, SC_LATITUDE, s->artist_latitude));
    else
        LAKE_TRY(put_null(bb, SC_LATITUDE));
    if (s->has_longitude)
        LAKE_TRY(put_f64(bb, SC_LONGITUDE, s->artist_longitude));
    else
        LAKE_TRY(put_null(bb, SC_LONGITUDE));
    LAKE_TRY(put_null(bb, SC_LINE));
    LAKE_TRY(put_null(bb, SC_REASON));
    LAKE_TRY(put_null(bb, SC_RAW));
    bb->n_rows++;
    return LAKE_OK;
}

static bool is_next_song(const lake_text *page)
{
    return page->present && page->v.len == 8 &&
           memcmp(page->v.ptr, "NextSong", 8) == 0;
}

/* Append an event row; the caller keeps only events with a user. */
static lake_status put_event(batch_builder *bb,
                             const char *source,
                             size_t source_len,
                             int64_t rec,
                             const lake_event_rec *e)
{
    assert(e->has_user);
    LAKE_TRY(put_str(bb, EC_SOURCE, source, source_len));
    LAKE_TRY(put_i64(bb, EC_REC, rec));
    LAKE_TRY(put_i64(bb, EC_TS, e->ts));
    /* ts lies in [1900, 3000): ts * 1000 cannot overflow. */
    LAKE_TRY(put_fixed(bb, EC_START_TIME, &(int64_t){e->ts * 1000}, true));
    LAKE_TRY(put_i64(bb, EC_SESSION_ID, e->session_id));
    LAKE_TRY(put_i64(bb, EC_ITEM, e->item_in_session));
    LAKE_TRY(put_i64(bb, EC_USER_ID, e->user_id));
    LAKE_TRY(put_text(bb, EC_PAGE, &e->page, false));
    LAKE_TRY(put_text(bb, EC_LEVEL, &e->level, true));
    LAKE_TRY(put_text(bb, EC_FIRST_NAME, &e->first_name, true));
    LAKE_TRY(put_text(bb, EC_LAST_NAME, &e->last_name, true));
    LAKE_TRY(put_text(bb, EC_GENDER, &e->gender, true));
    LAKE_TRY(put_text(bb, EC_LOCATION, &e->location, true));
    LAKE_TRY(put_text(bb, EC_USER_AGENT, &e->user_agent, true));
    LAKE_TRY(put_text(bb, EC_SONG, &e->song, false));
    LAKE_TRY(put_text(bb, EC_ARTIST, &e->artist, false));
    if (e->has_length)
        LAKE_TRY(put_f64(bb, EC_LENGTH, e->length));
    else
        LAKE_TRY(put_null(bb, EC_LENGTH));
    if (is_next_song(&e->page)) {
        lake_time_parts tp = {0};
        if (wants(bb, EC_SONGPLAY_ID))
            LAKE_TRY(put_i64(bb, EC_SONGPLAY_ID,
                             lake_songplay_id(e->user_id, e->session_id,
                                              e->item_in_session, e->ts)));
        for (size_t i = EC_HOUR; i <= EC_WEEKDAY; i++)
            if (wants(bb, i)) {
                lake_time_parts_of(e->ts, &tp);
                break;
            }
        LAKE_TRY(put_i32(bb, EC_HOUR, tp.hour));
        LAKE_TRY(put_i32(bb, EC_DAY, tp.day));
        LAKE_TRY(put_i32(bb, EC_WEEK, tp.week));
        LAKE_TRY(put_i32(bb, EC_MONTH, tp.month));
        LAKE_TRY(put_i32(bb, EC_YEAR, tp.year));
        LAKE_TRY(put_i32(bb, EC_WEEKDAY, tp.weekday));
    } else {
        for (size_t i = EC_SONGPLAY_ID; i <= EC_WEEKDAY; i++)
            LAKE_TRY(put_null(bb, i));
    }
    LAKE_TRY(put_null(bb, EC_LINE));
    LAKE_TRY(put_null(bb, EC_REASON));
    LAKE_TRY(put_null(bb, EC_RAW));
    bb->n_rows++;
    return LAKE_OK;
}

/* ---- LAKE_ARROW_ROWS_USERS: each user's latest record ---- */

/* The text fields of an event, in the order of their columns (EC_PAGE ..
 * EC_ARTIST). */
#define USER_TEXTS 9
static const size_t event_text_off[USER_TEXTS] = {
    offsetof(lake_event_rec, page),       offsetof(lake_event_rec, level),
    offsetof(lake_event_rec, first_name), offsetof(lake_event_rec, last_name),
    offsetof(lake_event_rec, gender),     offsetof(lake_event_rec, location),
    offsetof(lake_event_rec, user_agent), offsetof(lake_event_rec, song),
    offsetof(lake_event_rec, artist),
};
_Static_assert(EC_ARTIST - EC_PAGE + 1 == USER_TEXTS,
               "event_text_off follows the text columns");

static lake_text *event_text(lake_event_rec *e, size_t i)
{
    return (lake_text *)(void *)((char *)e + event_text_off[i]);
}

/* A user's latest record so far: its keys and numbers, and its texts
 * (the columns built, and the page) copied into the arena. */
typedef struct user_latest {
    int64_t user_id, ts, session_id, item, rec;
    double length;
    bool has_length;
    uint16_t present; /* bit i: text i is present */
    uint32_t len[USER_TEXTS];
    size_t off[USER_TEXTS]; /* in users_state.arena */
} user_latest;

typedef struct users_state {
    lake_buf entries; /* user_latest, in order of first appearance */
    uint32_t *slots;  /* open addressing: entry index + 1, 0 = empty */
    size_t n_slots;   /* a power of two, or 0 */
    lake_buf arena;   /* text bytes; superseded copies until compacted */
    size_t live;      /* arena bytes of the entries' current texts */
    size_t emitted;   /* entries handed out (after sorting them by rec) */
    bool sorted;
} users_state;

static size_t users_count(const users_state *u)
{
    return u->entries.len / sizeof(user_latest);
}

static user_latest *users_at(const users_state *u, size_t i)
{
    return (user_latest *)(void *)u->entries.data + i;
}

static void users_free(users_state *u, const lake_allocator *alloc)
{
    lake_buf_reset(&u->entries);
    lake_buf_reset(&u->arena);
    lake_free(alloc, u->slots);
    memset(u, 0, sizeof(*u));
}

static size_t users_slot(const users_state *u, int64_t user_id)
{
    uint64_t h = (uint64_t)user_id * UINT64_C(0x9E3779B97F4A7C15);
    h ^= h >> 29;
    size_t i = (size_t)h & (u->n_slots - 1);
    while (u->slots[i] &&
           users_at(u, u->slots[i] - 1)->user_id != user_id)
        i = (i + 1) & (u->n_slots - 1);
    return i;
}

/* Double the slots (or make the first 1,024) and place every entry. */
static lake_status users_grow(users_state *u, const lake_allocator *alloc)
{
    const size_t n = u->n_slots ? u->n_slots * 2 : 1024;
    if (n > UINT32_MAX) /* 2^31 users of one file: memory ran out first */
        return LAKE_ENOMEM;
    uint32_t *s = lake_calloc(alloc, n, sizeof(*s));
    if (!s)
        return LAKE_ENOMEM;
    lake_free(alloc, u->slots);
    u->slots = s;
    u->n_slots = n;
    for (size_t i = 0; i < users_count(u); i++)
        u->slots[users_slot(u, users_at(u, i)->user_id)] = (uint32_t)i + 1;
    return LAKE_OK;
}

/* Copy the arena's live texts into a new one: the superseded copies go. */
static lake_status users_compact(users_state *u, const lake_allocator *alloc)
{
    lake_buf fresh;
    lake_buf_init(&fresh, alloc, 0);
    LAKE_TRY(lake_buf_reserve(&fresh, u->live));
    for (size_t i = 0; i < users_count(u); i++) {
        user_latest *e = users_at(u, i);
        for (size_t t = 0; t < USER_TEXTS; t++) {
            if (!(e->present & (1u << t)) || e->len[t] == 0)
                continue; /* an empty text has no bytes to move */
            const size_t off = fresh.len;
            memcpy(fresh.data + off, u->arena.data + e->off[t], e->len[t]);
            fresh.len += e->len[t];
            e->off[t] = off;
        }
    }
    lake_buf_reset(&u->arena);
    u->arena = fresh;
    return LAKE_OK;
}

/* Keep @p ev (record @p rec of the file) if it is its user's latest so
 * far: records come in rec order, so an equal (ts, session_id,
 * item_in_session) goes to the later one. Texts are copied only for the
 * columns built (@p bb), and the page (it decides the NextSong columns). */
static lake_status users_note(users_state *u,
                              const batch_builder *bb,
                              const lake_allocator *alloc,
                              int64_t rec,
                              lake_event_rec *ev)
{
    if (users_count(u) + 1 > u->n_slots / 2)
        LAKE_TRY(users_grow(u, alloc));
    const size_t slot = users_slot(u, ev->user_id);
    user_latest *e;
    if (u->slots[slot]) {
        e = users_at(u, u->slots[slot] - 1);
        if (ev->ts != e->ts ? ev->ts < e->ts
            : ev->session_id != e->session_id
                ? ev->session_id < e->session_id
                : ev->item_in_session < e->item)
            return LAKE_OK; /* an earlier one */
        for (size_t t = 0; t < USER_TEXTS; t++)
            if (e->present & (1u << t))
                u->live -= e->len[t];
    } else {
        if (lake_buf_reserve(&u->entries, sizeof(*e)) != LAKE_OK)
            return LAKE_ENOMEM;
        e = users_at(u, users_count(u));
        u->entries.len += sizeof(*e);
        memset(e, 0, sizeof(*e));
        e->user_id = ev->user_id;
        u->slots[slot] = (uint32_t)users_count(u);
    }
    e->ts = ev->ts;
    e->session_id = ev->session_id;
    e->item = ev->item_in_session;
    e->rec = rec;
    e->has_length = ev->has_length;
    e->length = ev->length;
    e->present = 0;
    for (size_t t = 0; t < USER_TEXTS; t++) {
        const lake_text *x = event_text(ev, t);
        if (!x->present || (t > 0 && !wants(bb, EC_PAGE + t)))
            continue;
        if (x->v.len > UINT32_MAX)
            return LAKE_ETOOBIG;
        e->present |= (uint16_t)(1u << t);
        e->len[t] = (uint32_t)x->v.len;
        e->off[t] = u->arena.len;
        if (x->v.len == 0)
            continue;
        LAKE_TRY(lake_buf_append(&u->arena, x->v.ptr, x->v.len));
        u->live += x->v.len;
    }
    /* Superseded copies never take more than half the arena (plus 1 MiB):
     * memory stays that of the users' latest texts. */
    if (u->arena.len > 2 * u->live + ((size_t)1 << 20))
        LAKE_TRY(users_compact(u, alloc));
    return LAKE_OK;
}

static int cmp_user_rec(const void *pa, const void *pb)
{
    const user_latest *a = pa, *b = pb;
    return (a->rec > b->rec) - (a->rec < b->rec);
}

/* ---- the stream ---- */

typedef struct stream_priv {
    const lake_allocator *alloc;
    lake_arrow_kind kind;
    lake_file_data input; /* padded copy of the file's bytes */
    char *source;      /* valid UTF-8, NUL-terminated */
    size_t source_len;
    lake_record_reader *reader;
    int64_t batch_rows;
    lake_arrow_rows rows;
    int64_t next_rec; /* index of the next record or reject */
    bool done;
    int failed; /* errno code of a failure; every later call repeats it */
    batch_builder bb;
    users_state users; /* LAKE_ARROW_ROWS_USERS, or the split's users */
    /* lake_arrow_read_file_split: the users stream's builder and the
     * rejects kept for it (kept_reject records, their raw text apart) */
    bool split;
    int refs; /* streams not yet released */
    batch_builder ubb;
    lake_buf kept;
    lake_buf kept_raw;
    size_t kept_emitted;
    char last_error[256];
} stream_priv;

static int errno_of(lake_status s)
{
    switch (s) {
    case LAKE_OK:
        return 0;
    case LAKE_ENOMEM:
        return ENOMEM;
    case LAKE_ETOOBIG:
        return EOVERFLOW;
    case LAKE_EINVAL:
        return EINVAL;
    default:
        return EIO;
    }
}

static int stream_fail(stream_priv *p, lake_status rc, const lake_error *e)
{
    if (e && e->code == rc && e->message[0])
        snprintf(p->last_error, sizeof(p->last_error), "%s", e->message);
    else
        snprintf(p->last_error, sizeof(p->last_error),
                 "arrow: batch of %s: %s", p->source,
                 rc == LAKE_ENOMEM    ? "out of memory"
                 : rc == LAKE_ETOOBIG ? "a value is over 2 GiB"
                                      : lake_status_str(rc));
    p->failed = errno_of(rc);
    return p->failed;
}

static int stream_get_schema(struct ArrowArrayStream *s,
                             struct ArrowSchema *out)
{
    stream_priv *p = s->private_data;
    const lake_status rc =
        make_schema(p->alloc, p->bb.cols, p->bb.n_cols, out);
    if (rc != LAKE_OK) {
        snprintf(p->last_error, sizeof(p->last_error),
                 "arrow: schema: out of memory");
        return ENOMEM;
    }
    return 0;
}

/* After the file's last record: its users' latest records, in rec order,
 * into @p bb, as many as fit the batch (the rest in the next ones). */
static lake_status users_emit(stream_priv *p, batch_builder *bb)
{
    users_state *u = &p->users;
    if (!u->sorted) {
        if (users_count(u) > 1)
            qsort(u->entries.data, users_count(u), sizeof(user_latest),
                  cmp_user_rec);
        u->sorted = true;
    }
    while (u->emitted < users_count(u) && bb->n_rows < p->batch_rows &&
           bb_max_data(bb) < LAKE_ARROW_BATCH_BYTES) {
        const user_latest *e = users_at(u, u->emitted);
        lake_event_rec ev;
        memset(&ev, 0, sizeof(ev));
        ev.ts = e->ts;
        ev.session_id = e->session_id;
        ev.item_in_session = e->item;
        ev.has_user = true;
        ev.user_id = e->user_id;
        ev.has_length = e->has_length;
        ev.length = e->length;
        for (size_t t = 0; t < USER_TEXTS; t++) {
            if (!(e->present & (1u << t)))
                continue;
            lake_text *x = event_text(&ev, t);
            x->present = true;
            x->v.ptr = e->len[t] ? u->arena.data + e->off[t] : "";
            x->v.len = e->len[t];
        }
        LAKE_TRY(put_event(bb, p->source, p->source_len, e->rec, &ev));
        u->emitted++;
    }
    return LAKE_OK;
}

/* A reject kept for the users stream of a split read. */
typedef struct kept_reject {
    int64_t rec, line;
    char reason[64];
    size_t raw_off, raw_len; /* in stream_priv.kept_raw */
} kept_reject;

static lake_status keep_reject(stream_priv *p,
                               int64_t rec,
                               const lake_reject *rej)
{
    kept_reject k;
    memset(&k, 0, sizeof(k));
    k.rec = rec;
    k.line = rej->line;
    memcpy(k.reason, rej->reason, sizeof(k.reason));
    k.raw_off = p->kept_raw.len;
    k.raw_len = rej->raw.len;
    LAKE_TRY(lake_buf_append(&p->kept_raw, rej->raw.ptr, rej->raw.len));
    return lake_buf_append(&p->kept, &k, sizeof(k));
}

/* The kept rejects into the users stream's batch, then the users. */
static lake_status split_emit(stream_priv *p)
{
    const size_t n = p->kept.len / sizeof(kept_reject);
    while (p->kept_emitted < n && p->ubb.n_rows < p->batch_rows &&
           bb_max_data(&p->ubb) < LAKE_ARROW_BATCH_BYTES) {
        kept_reject k;
        memcpy(&k, p->kept.data + p->kept_emitted * sizeof(k), sizeof(k));
        lake_reject rej;
        memset(&rej, 0, sizeof(rej));
        rej.line = k.line;
        memcpy(rej.reason, k.reason, sizeof(rej.reason));
        rej.raw.ptr = k.raw_len ? p->kept_raw.data + k.raw_off : "";
        rej.raw.len = k.raw_len;
        LAKE_TRY(put_reject(&p->ubb, p->source, p->source_len, k.rec, &rej));
        p->kept_emitted++;
    }
    return users_emit(p, &p->ubb);
}

static int stream_get_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    stream_priv *p = s->private_data;
    out->release = NULL;
    if (p->failed)
        return p->failed;
    lake_error e;
    lake_error_clear(&e);
    union {
        lake_song_rec song;
        lake_event_rec event;
    } rec;
    lake_reject rej;
    lake_status rc = LAKE_OK;
    while (!p->done && p->bb.n_rows < p->batch_rows &&
           bb_max_data(&p->bb) < LAKE_ARROW_BATCH_BYTES) {
        lake_next next;
        rc = lake_record_reader_next(p->reader, &rec, &rej, &next, &e);
        if (rc != LAKE_OK)
            return stream_fail(p, rc, &e);
        if (next == LAKE_NEXT_END) {
            p->done = true;
            if (p->split) {
                /* the users stream needs neither: its texts and rejects
                 * are copies */
                lake_record_reader_free(p->reader);
                p->reader = NULL;
                lake_file_data_free(&p->input);
            }
            break;
        }
        const int64_t idx = p->next_rec++;
        const bool plays = p->rows == LAKE_ARROW_ROWS_PLAYS;
        if (next == LAKE_NEXT_REJECT) {
            if (p->split)
                rc = keep_reject(p, idx, &rej);
            else if (!plays)
                rc = put_reject(&p->bb, p->source, p->source_len, idx, &rej);
        } else if (p->kind == LAKE_ARROW_SONGS) {
            rc = put_song(&p->bb, p->source, p->source_len, idx, &rec.song);
        } else if (!rec.event.has_user) {
            /* feeds no table */
        } else if (p->rows == LAKE_ARROW_ROWS_USERS) {
            rc = users_note(&p->users, &p->bb, p->alloc, idx, &rec.event);
        } else {
            if (p->split)
                rc = users_note(&p->users, &p->ubb, p->alloc, idx,
                                &rec.event);
            if (rc == LAKE_OK && (!plays || is_next_song(&rec.event.page)))
                rc = put_event(&p->bb, p->source, p->source_len, idx,
                               &rec.event);
        }
        if (rc != LAKE_OK)
            return stream_fail(p, rc, NULL);
    }
    if (p->done && p->rows == LAKE_ARROW_ROWS_USERS) {
        rc = users_emit(p, &p->bb);
        if (rc != LAKE_OK)
            return stream_fail(p, rc, NULL);
    }
    if (p->bb.n_rows == 0)
        return 0; /* the end */
    rc = bb_finish(&p->bb, out);
    if (rc != LAKE_OK)
        return stream_fail(p, rc, NULL);
    return 0;
}

static const char *stream_last_error(struct ArrowArrayStream *s)
{
    stream_priv *p = s->private_data;
    return p->last_error[0] ? p->last_error : NULL;
}

static int users_get_schema(struct ArrowArrayStream *s,
                            struct ArrowSchema *out)
{
    stream_priv *p = s->private_data;
    if (make_schema(p->alloc, p->ubb.cols, p->ubb.n_cols, out) != LAKE_OK) {
        snprintf(p->last_error, sizeof(p->last_error),
                 "arrow: schema: out of memory");
        return ENOMEM;
    }
    return 0;
}

/* The users stream of a split read: its rows exist once the plays stream
 * has reached the file's end. */
static int users_get_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    stream_priv *p = s->private_data;
    out->release = NULL;
    if (p->failed)
        return p->failed;
    if (!p->done) {
        snprintf(p->last_error, sizeof(p->last_error),
                 "arrow: the users of %s asked for before the end of its "
                 "plays", p->source);
        return EINVAL;
    }
    lake_status rc = split_emit(p);
    if (rc == LAKE_OK && p->ubb.n_rows == 0)
        return 0; /* the end */
    if (rc == LAKE_OK)
        rc = bb_finish(&p->ubb, out);
    if (rc != LAKE_OK)
        return stream_fail(p, rc, NULL);
    return 0;
}

static void stream_release(struct ArrowArrayStream *s)
{
    if (!s->release)
        return;
    stream_priv *p = s->private_data;
    s->release = NULL;
    if (--p->refs > 0)
        return; /* the other stream of a split read still uses it */
    bb_reset(&p->bb);
    bb_reset(&p->ubb);
    lake_buf_reset(&p->kept);
    lake_buf_reset(&p->kept_raw);
    users_free(&p->users, p->alloc);
    lake_record_reader_free(p->reader);
    lake_file_data_free(&p->input);
    lake_free(p->alloc, p->source);
    lake_free(p->alloc, p);
}

/* Validate the arguments and create the stream's state, without input. */
static lake_status stream_new(lake_arrow_kind kind,
                              const char *source,
                              const lake_arrow_opts *opts,
                              stream_priv **out,
                              lake_error *err)
{
    const lake_allocator *alloc =
        lake_alloc_or_default(opts ? opts->alloc : NULL);
    if (kind != LAKE_ARROW_SONGS && kind != LAKE_ARROW_EVENTS)
        return lake_error_set(err, LAKE_EINVAL, "arrow: unknown kind %d",
                              (int)kind);
    if (opts && opts->batch_rows < 0)
        return lake_error_set(err, LAKE_EINVAL,
                              "arrow: batch_rows %lld is negative",
                              (long long)opts->batch_rows);
    const size_t n_cols = lake_arrow_n_columns(kind);
    const uint64_t columns = opts ? opts->columns : 0;
    if (columns >> n_cols)
        return lake_error_set(err, LAKE_EINVAL,
                              "arrow: column bits 0x%llx past the %zu "
                              "columns", (unsigned long long)columns,
                              n_cols);
    const lake_arrow_rows rows = opts ? opts->rows : LAKE_ARROW_ROWS_ALL;
    if (rows != LAKE_ARROW_ROWS_ALL &&
        ((rows != LAKE_ARROW_ROWS_PLAYS && rows != LAKE_ARROW_ROWS_USERS) ||
         kind != LAKE_ARROW_EVENTS))
        return lake_error_set(err, LAKE_EINVAL,
                              "arrow: rows %d not for this kind", (int)rows);
    stream_priv *p = lake_calloc(alloc, 1, sizeof(*p));
    if (!p)
        return lake_error_oom(err, "arrow");
    p->alloc = alloc;
    p->kind = kind;
    p->input.alloc = alloc;
    p->batch_rows = opts && opts->batch_rows ? opts->batch_rows
                                             : LAKE_ARROW_BATCH_ROWS;
    p->rows = rows;
    bb_init(&p->bb, alloc, kind, columns);
    lake_buf_init(&p->users.entries, alloc, 0);
    lake_buf_init(&p->users.arena, alloc, 0);
    lake_buf_init(&p->kept, alloc, 0);
    lake_buf_init(&p->kept_raw, alloc, 0);
    p->refs = 1;
    /* The `source` column is utf8: a file name that is not valid UTF-8
     * gets U+FFFD for each maximal invalid subpart, as the native
     * engine's _quarantine/ writes it (".gz" at the end is kept). */
    lake_buf name;
    lake_buf_init(&name, alloc, 0);
    if (lake_buf_append_utf8_repaired(&name, source, strlen(source)) !=
            LAKE_OK ||
        lake_buf_append_byte(&name, '\0') != LAKE_OK) {
        lake_buf_reset(&name);
        lake_free(alloc, p);
        return lake_error_oom(err, "arrow");
    }
    p->source_len = name.len - 1;
    p->source = lake_buf_take(&name, NULL, NULL);
    *out = p;
    return LAKE_OK;
}

static void stream_abandon(stream_priv *p)
{
    struct ArrowArrayStream tmp = {.release = stream_release,
                                   .private_data = p};
    stream_release(&tmp);
}

/* Hand @p p to @p out as a stream with these callbacks. */
static void stream_export(stream_priv *p,
                          struct ArrowArrayStream *out,
                          int (*get_schema)(struct ArrowArrayStream *,
                                            struct ArrowSchema *),
                          int (*get_next)(struct ArrowArrayStream *,
                                          struct ArrowArray *))
{
    memset(out, 0, sizeof(*out));
    out->get_schema = get_schema;
    out->get_next = get_next;
    out->get_last_error = stream_last_error;
    out->release = stream_release;
    out->private_data = p;
}

/* Start reading @p p's input and hand the stream to @p out; on failure
 * release @p p. */
static lake_status stream_start(stream_priv *p,
                                struct ArrowArrayStream *out,
                                lake_error *err)
{
    const lake_status rc = lake_record_reader_new(p->alloc, &p->reader, err);
    if (rc != LAKE_OK) {
        stream_abandon(p);
        return rc;
    }
    lake_record_reader_reset(p->reader,
                             p->kind == LAKE_ARROW_SONGS ? LAKE_REC_SONG
                                                         : LAKE_REC_EVENT,
                             p->input.data, p->input.len);
    stream_export(p, out, stream_get_schema, stream_get_next);
    return LAKE_OK;
}

static bool ends_with_gz(const char *s, size_t n)
{
    return n >= 3 && memcmp(s + n - 3, ".gz", 3) == 0;
}

lake_status lake_arrow_read_records(lake_arrow_kind kind,
                                    const void *data,
                                    size_t len,
                                    const char *source,
                                    const lake_arrow_opts *opts,
                                    struct ArrowArrayStream *out,
                                    lake_error *err)
{
    if (!out || !source || (!data && len > 0))
        return lake_error_set(err, LAKE_EINVAL,
                              "arrow: read records: NULL argument");
    out->release = NULL;
    const size_t max_bytes =
        opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;
    stream_priv *p = NULL;
    LAKE_TRY(stream_new(kind, source, opts, &p, err));
    const int gz = opts ? opts->gzip : 0;
    lake_status rc;
    if (gz > 0 || (gz == 0 && ends_with_gz(p->source, p->source_len))) {
        rc = lake_gunzip_bytes(data, len, p->source, max_bytes, &p->input,
                               err);
    } else if (len > max_bytes) {
        rc = lake_error_set(err, LAKE_ETOOBIG,
                            "arrow: read %s: over %zu bytes", p->source,
                            max_bytes);
    } else {
        rc = lake_file_data_set(&p->input, data, len, err);
    }
    if (rc != LAKE_OK) {
        stream_abandon(p);
        return rc;
    }
    return stream_start(p, out, err);
}

/* stream_new() for the local file @p path, its bytes read (as the native
 * engine reads them: gzip by name); nothing is left on failure. */
static lake_status file_stream_new(lake_arrow_kind kind,
                                   const char *path,
                                   const char *source,
                                   const lake_arrow_opts *opts,
                                   stream_priv **out,
                                   lake_error *err)
{
    stream_priv *p = NULL;
    LAKE_TRY(stream_new(kind, source ? source : path, opts, &p, err));
    const lake_status rc = lake_read_file(
        path, opts && opts->max_bytes ? opts->max_bytes : 0, &p->input, err);
    if (rc != LAKE_OK) {
        stream_abandon(p);
        return rc;
    }
    *out = p;
    return LAKE_OK;
}

lake_status lake_arrow_read_file(lake_arrow_kind kind,
                                 const char *path,
                                 const char *source,
                                 const lake_arrow_opts *opts,
                                 struct ArrowArrayStream *out,
                                 lake_error *err)
{
    if (!out || !path)
        return lake_error_set(err, LAKE_EINVAL,
                              "arrow: read file: NULL argument");
    out->release = NULL;
    stream_priv *p = NULL;
    LAKE_TRY(file_stream_new(kind, path, source, opts, &p, err));
    return stream_start(p, out, err);
}

lake_status lake_arrow_read_file_split(const char *path,
                                       const char *source,
                                       const lake_arrow_opts *opts,
                                       uint64_t user_columns,
                                       struct ArrowArrayStream *plays,
                                       struct ArrowArrayStream *users,
                                       lake_error *err)
{
    if (!plays || !users || !path || plays == users)
        return lake_error_set(err, LAKE_EINVAL,
                              "arrow: read file split: NULL or one stream "
                              "for both");
    plays->release = NULL;
    users->release = NULL;
    if (!opts || opts->rows != LAKE_ARROW_ROWS_PLAYS)
        return lake_error_set(err, LAKE_EINVAL,
                              "arrow: a split read gives the plays "
                              "(rows = LAKE_ARROW_ROWS_PLAYS)");
    if (user_columns >> EC_COUNT)
        return lake_error_set(err, LAKE_EINVAL,
                              "arrow: user column bits 0x%llx past the %d "
                              "columns", (unsigned long long)user_columns,
                              (int)EC_COUNT);
    stream_priv *p = NULL;
    LAKE_TRY(file_stream_new(LAKE_ARROW_EVENTS, path, source, opts, &p, err));
    p->split = true;
    bb_init(&p->ubb, p->alloc, LAKE_ARROW_EVENTS, user_columns);
    LAKE_TRY(stream_start(p, plays, err)); /* it releases p on failure */
    p->refs = 2;
    stream_export(p, users, users_get_schema, users_get_next);
    return LAKE_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* generate.h - internals of the generator stage: a counter-keyed RNG, the
 * word lists, the song catalogue, the user/session simulation and the
 * JSON writers, so that the unit tests can check each on its own. */
#ifndef LAKE_GENERATE_H
#define LAKE_GENERATE_H
#include "lake_common.h"

/* ---- RNG: splitmix64 streams keyed by (seed, a, b, c) ---- */

typedef struct lake_gen_rng {
    uint64_t s;
} lake_gen_rng;

static inline uint64_t lake_gen_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A stream that depends only on its key, never on a thread. */
static inline void lake_gen_rng_seed(lake_gen_rng *r,
                                     uint64_t seed,
                                     uint64_t a,
                                     uint64_t b,
                                     uint64_t c)
{
    r->s = lake_gen_mix64(
        seed ^ lake_gen_mix64(a ^ lake_gen_mix64(b ^ lake_gen_mix64(c))));
}

static inline uint64_t lake_gen_next(lake_gen_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    uint64_t z = r->s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double lake_gen_unif(lake_gen_rng *r)
{
    return (double)(lake_gen_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t lake_gen_below(lake_gen_rng *r, uint32_t n)
{
    return (uint32_t)(((lake_gen_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Standard normal (Box-Muller, one value per call). */
double lake_gen_normal(lake_gen_rng *r);

/* ---- word lists (gen_words.c) ---- */

typedef struct lake_gen_words {
    const char *const *w;
    uint32_t n;
} lake_gen_words;

extern const lake_gen_words lake_gen_first_f, lake_gen_first_m, lake_gen_last,
    lake_gen_cities, lake_gen_states, lake_gen_agents, lake_gen_title_words,
    lake_gen_title_accented, lake_gen_title_suffix, lake_gen_artist_words,
    lake_gen_artist_accented, lake_gen_countries;

/* ---- pages ---- */

typedef enum lake_gen_page {
    LAKE_GEN_NEXTSONG = 0,
    LAKE_GEN_HOME,
    LAKE_GEN_LOGIN,
    LAKE_GEN_LOGOUT,
    LAKE_GEN_SETTINGS,
    LAKE_GEN_SAVE_SETTINGS,
    LAKE_GEN_HELP,
    LAKE_GEN_ABOUT,
    LAKE_GEN_ADD_PLAYLIST,
    LAKE_GEN_THUMBS_UP,
    LAKE_GEN_THUMBS_DOWN,
    LAKE_GEN_ADD_FRIEND,
    LAKE_GEN_ROLL_ADVERT,
    LAKE_GEN_UPGRADE,
    LAKE_GEN_SUBMIT_UPGRADE,
    LAKE_GEN_DOWNGRADE,
    LAKE_GEN_SUBMIT_DOWNGRADE,
    LAKE_GEN_ERROR,
    LAKE_GEN_N_PAGES
} lake_gen_page;

typedef struct lake_gen_page_info {
    const char *name;
    const char *method; /* "GET" or "PUT" */
    int status;         /* 200, 307 or 404 */
} lake_gen_page_info;

extern const lake_gen_page_info lake_gen_pages[LAKE_GEN_N_PAGES];

/* ---- faults: each maps to exactly one SPEC quarantine reason ---- */

typedef enum lake_gen_fault {
    LAKE_GEN_CLEAN = 0,
    LAKE_GEN_F_TRUNCATED,     /* invalid_json */
    LAKE_GEN_F_SYNTAX,        /* invalid_json */
    LAKE_GEN_F_LATIN1,        /* invalid_json (not UTF-8) */
    LAKE_GEN_F_ARRAY,         /* not_an_object */
    LAKE_GEN_F_TS_STRING,     /* wrong_type:ts */
    LAKE_GEN_F_SESSION_FLOAT, /* wrong_type:sessionId */
    LAKE_GEN_F_ITEM_STRING,   /* wrong_type:itemInSession */
    LAKE_GEN_F_PAGE_BOOL,     /* wrong_type:page */
    LAKE_GEN_F_LENGTH_STRING, /* wrong_type:length (NextSong only) */
    LAKE_GEN_F_NO_TS,         /* missing_field:ts */
    LAKE_GEN_F_NO_SESSION,    /* missing_field:sessionId */
    LAKE_GEN_F_NO_PAGE,       /* missing_field:page */
    LAKE_GEN_F_NO_SONG,       /* missing_field:song (NextSong only) */
    LAKE_GEN_F_NO_USER,       /* missing_field:userId (NextSong only) */
    LAKE_GEN_F_TS_RANGE,      /* out_of_range:ts (microseconds) */
    LAKE_GEN_N_FAULTS,
    LAKE_GEN_DUP = 100,     /* valid; an exact copy goes to the next
                               day's file */
    LAKE_GEN_DUP_COPY = 101 /* that copy */
} lake_gen_fault;

/* Faults of song files, each one file. */
typedef enum lake_gen_song_fault {
    LAKE_GEN_SF_CLEAN = 0,
    LAKE_GEN_SF_TRUNCATED,   /* invalid_json */
    LAKE_GEN_SF_ARRAY,       /* not_an_object */
    LAKE_GEN_SF_NO_SONG_ID,  /* missing_field:song_id */
    LAKE_GEN_SF_DUR_STRING,  /* wrong_type:duration */
    LAKE_GEN_SF_YEAR_FLOAT,  /* wrong_type:year */
    LAKE_GEN_SF_PRETTY_PAIR, /* valid: two pretty-printed songs */
    LAKE_GEN_N_SONG_FAULTS
} lake_gen_song_fault;

/* Index into lake_generate_report.reason_counts of a fault's reason, or
 * -1 for a valid record. */
int lake_gen_fault_reason(int fault);
int lake_gen_song_fault_reason(int fault);

/* ---- the catalogue ---- */

typedef struct lake_gen_artist {
    uint32_t name_off, name_len; /* raw UTF-8 in the text blob */
    uint32_t loc_off, loc_len;   /* "" in a realistic share */
    int32_t lat_e5, lon_e5;      /* degrees * 1e5 */
    bool has_coords;
    uint16_t career; /* the year its songs centre on (n_artists given) */
    uint64_t id;     /* AR id bits */
} lake_gen_artist;

typedef struct lake_gen_song {
    uint32_t artist; /* index into artists */
    uint32_t title_off, title_len;
    uint32_t log_off; /* log fragments: artist JSON, length
                         text, title JSON, back to back */
    uint16_t log_artist_len, log_length_len, log_title_len;
    uint16_t year;   /* 0: unknown */
    uint32_t dur_e5; /* duration in 1e-5 s */
    bool written;    /* has a song file */
    bool ascii;      /* title and artist ASCII: a log line
                        keeps them unmangled */
    uint64_t id;     /* SO/TR id bits */
} lake_gen_song;

typedef struct lake_gen_catalog {
    const lake_allocator *alloc;
    lake_gen_artist *artists;
    uint32_t n_artists;
    bool careers; /* song years cluster on their artist's career */
    lake_gen_song *songs; /* n_played songs users play, then extras */
    uint32_t n_played;
    uint32_t n_songs;
    double *cdf;     /* n_played play probabilities, cumulative */
    double *alias_p; /* Vose alias table over the n_played songs */
    uint32_t *alias_i;
    lake_buf text;      /* names, titles, log fragments */
    uint32_t n_written; /* songs with a song file */
    uint32_t spare;     /* first of n_spare songs for faulty files */
    uint32_t n_spare;
    double written_mass; /* share of plays that hit a written ASCII song:
                            the plays an ETL matches */
} lake_gen_catalog;

/* Build the catalogue: @p n_played songs with Zipf-like popularity, songs
 * with files chosen so that about @p match_rate of plays hit one, then
 * songs nobody plays until @p song_files files are written (0: none
 * added), then @p n_spare songs for faulty song files. @p n_artists 0:
 * one artist per two played songs and one per other song; else every
 * song is by one of @p n_artists artists (a skewed draw) and its year, when
 * known, is near its artist's career year. LAKE_ENOMEM only. */
LAKE_NODISCARD lake_status lake_gen_catalog_build(lake_gen_catalog *c,
                                                  const lake_allocator *a,
                                                  uint64_t seed,
                                                  uint32_t n_played,
                                                  double match_rate,
                                                  int64_t song_files,
                                                  uint32_t n_spare,
                                                  uint32_t n_artists,
                                                  lake_error *err);
void lake_gen_catalog_free(lake_gen_catalog *c);

/* A song index drawn by popularity. */
uint32_t lake_gen_pick_song(const lake_gen_catalog *c, lake_gen_rng *r);

/* ---- users ---- */

typedef struct lake_gen_user {
    uint32_t frag_off; /* pre-rendered JSON fragments, see
                          gen_format.c */
    uint16_t frag_len[5];
    uint8_t level; /* 0 free, 1 paid: current */
    bool logged_in;
    bool active;             /* logged at least one event */
    double sessions_per_day; /* mean on a weekday */
    int64_t busy_until_ms;   /* no session starts before this */
    int64_t n_sessions;      /* sessions so far: next sessionId */
} lake_gen_user;

/* ---- events ---- */

typedef struct lake_gen_event {
    int64_t ts;        /* epoch ms */
    int64_t session;   /* sessionId */
    int32_t item;      /* itemInSession */
    uint32_t user;     /* user index */
    uint32_t song;     /* catalogue index (NextSong) */
    uint8_t page;      /* lake_gen_page */
    uint8_t level;     /* 0 free, 1 paid */
    uint8_t logged_in; /* 0: auth "Logged Out", userId "" */
    uint8_t fault;     /* lake_gen_fault */
} lake_gen_event;

/* (ts, sessionId, itemInSession) order. */
static inline int lake_gen_event_cmp(const lake_gen_event *a,
                                     const lake_gen_event *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    if (a->session != b->session)
        return a->session < b->session ? -1 : 1;
    if (a->item != b->item)
        return a->item < b->item ? -1 : 1;
    return 0;
}

typedef struct lake_gen_events {
    lake_gen_event *v;
    size_t n, cap;
    const lake_allocator *alloc;
} lake_gen_events;

LAKE_NODISCARD lake_status lake_gen_events_push(lake_gen_events *e,
                                                const lake_gen_event *ev);
void lake_gen_events_free(lake_gen_events *e);

/* Parameters of the whole simulation. */
typedef struct lake_gen_world {
    uint64_t seed;
    uint32_t n_users;
    int64_t start_ms;  /* first day, 00:00 UTC */
    int32_t ms_offset; /* every ts ends in these milliseconds */
    double dirty_rate;
    const lake_gen_catalog *catalog;
} lake_gen_world;

/* Initialise user @p u's fixed attributes and state and render its JSON
 * fragments into @p frags. LAKE_ENOMEM only. */
LAKE_NODISCARD lake_status lake_gen_user_init(const lake_gen_world *w,
                                              uint32_t u,
                                              lake_gen_user *user,
                                              lake_buf *frags);

/* Simulate user @p u's sessions that start on day @p day (0-based),
 * appending events in (ts, sessionId, itemInSession) order to @p out;
 * events may run past the day's end. Faults are drawn from their own
 * stream, so the clean events do not depend on dirty_rate. */
LAKE_NODISCARD lake_status lake_gen_user_day(const lake_gen_world *w,
                                             uint32_t u,
                                             int32_t day,
                                             lake_gen_user *user,
                                             lake_gen_events *out);

/* Sort @p n events by lake_gen_event_cmp using @p tmp (n slots). */
void lake_gen_sort(lake_gen_event *v, lake_gen_event *tmp, size_t n);

/* ---- JSON writers (gen_format.c) ---- */

/* Append @p s as a JSON string the way the event logs spell it: '/' as
 * "\/", non-ASCII double-encoded ("ö" -> "\u00c3\u0083\u00c2\u00b6"). */
LAKE_NODISCARD lake_status lake_gen_json_log_str(lake_buf *b,
                                                 const char *s,
                                                 size_t n);
/* Append @p s as a JSON string the way the song files spell it (Python
 * json.dumps: non-ASCII as \uXXXX). */
LAKE_NODISCARD lake_status lake_gen_json_song_str(lake_buf *b,
                                                  const char *s,
                                                  size_t n);
/* Append @p v / 1e5 as Python repr would print it ("153.3383", "40.0"). */
LAKE_NODISCARD lake_status lake_gen_fixed5(lake_buf *b, int64_t v);

/* Append one event line (no newline) for @p ev, with its fault. */
LAKE_NODISCARD lake_status lake_gen_format_event(lake_buf *b,
                                                 const lake_gen_world *w,
                                                 const lake_gen_user *users,
                                                 const char *user_frags,
                                                 const lake_gen_event *ev);

/* Append the song file of song @p s: one object in the course's key order
 * with ", " separators, no newline; spoiled by @p fault. A
 * LAKE_GEN_SF_PRETTY_PAIR file holds songs @p s and @p s2. */
LAKE_NODISCARD lake_status lake_gen_format_song(lake_buf *b,
                                                const lake_gen_catalog *c,
                                                uint32_t s,
                                                int fault,
                                                uint32_t s2);

/* "TR" + 16 characters of @p id, and the SO and AR forms. @p out holds
 * 19 bytes. */
void lake_gen_track_id(uint64_t id, char out[19]);
void lake_gen_song_id(uint64_t id, char out[19]);
void lake_gen_artist_id(uint64_t id, char out[19]);

/* Days since 1970-01-01 of a civil date, and back. */
int64_t lake_gen_days_from_civil(int64_t y, unsigned m, unsigned d);
void lake_gen_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
#endif

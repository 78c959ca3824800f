/* SPDX-License-Identifier: Apache-2.0 */
/* etl_spill.h - the binary form of a spilled NextSong play and the key
 * of the bucket it goes to. A record is an etl_play_hdr followed by the
 * bytes of its strings (level, location, user_agent), padded to 8 bytes;
 * they repeat a lot, so they are usually ids into the spilling worker's
 * dictionary instead, which halves the spill. The song match is made when
 * the play is spilled, so song and artist are not spilled at all. It is
 * read back only by the same process. */
#ifndef LAKE_ETL_SPILL_H
#define LAKE_ETL_SPILL_H
#include "lake_common.h"

#include "etl/etl_internal.h"

enum {
    ETL_PLAY_STR_LEVEL = 0,
    ETL_PLAY_STR_LOCATION = 1,
    ETL_PLAY_STR_USER_AGENT = 2,
    ETL_PLAY_N_STR = 3
};

#define ETL_PLAY_DICT0      2u /* << i: len[i] is an id in the spilling
                                  worker's dictionary, no bytes inline */
#define ETL_PLAY_WORKER_SHIFT 16 /* flags >> this: the spilling worker */
/* Strings below this index may go through the dictionary. */
#define ETL_PLAY_N_DICT 3
/* Bytes of level, location and user agent a worker keeps as ids; beyond,
 * new values are spilled inline. */
#define ETL_PLAY_DICT_MAX_BYTES (16u * 1024 * 1024)

typedef struct etl_play_hdr {
    int64_t ts, user_id, session_id, item;
    /* the play's song match, or NULL: a row of the song index, which
     * outlives the spill (only this process reads the spill back) */
    const lake_song_row *song;
    uint64_t rec_idx;
    uint32_t file_idx;
    uint32_t flags;
    uint32_t len[ETL_PLAY_N_STR];
    uint32_t size; /* of the whole record, padded */
} etl_play_hdr;

/* A loaded play's sort key and where its record lies. */
typedef struct play_ref {
    int64_t ts, user_id, session_id, item;
    uint64_t rec_idx;
    uint32_t file_idx;
    uint32_t off; /* of the record in the bucket's bytes, / 8 */
} play_ref;

#define ETL_MS_PER_DAY ((int64_t)86400000)

/* The first millisecond of the UTC day of @p ts_ms (floor division: ts
 * is validated to lie in years 1900-2999, so nothing overflows). The
 * (year, month) and the time table's day, week and weekday are those of
 * the day: callers work them out once a day. */
static inline int64_t etl_day_start_ms(int64_t ts_ms)
{
    const int64_t r = ts_ms % ETL_MS_PER_DAY;
    return ts_ms - (r < 0 ? r + ETL_MS_PER_DAY : r);
}

/* Write a worker's buffered plays to its spill file. */
LAKE_NODISCARD lake_status etl_spill_flush(etl_worker *w, lake_error *err);
#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* model.h - the model stage: the pure rules of the star schema in
 * ../shared/SPEC.md "Tables" (songplay ids, UTC time parts, the song
 * match, Hive partition names). No I/O here. */
#ifndef LAKE_MODEL_H
#define LAKE_MODEL_H
#include "lake_common.h"

/* songplay_id: the first 8 bytes, big-endian, of SHA-256 over the ASCII
 * text "user_id|session_id|item_in_session|ts" (decimal integers), with
 * the top bit cleared. "15|818|5|1542837407796" -> 345691552365851248.
 * Never fails, never allocates, thread-safe. */
int64_t lake_songplay_id(int64_t user_id,
                         int64_t session_id,
                         int64_t item_in_session,
                         int64_t ts_ms);

/* The time table's columns for an epoch-millisecond instant, in UTC. */
typedef struct lake_time_parts {
    int32_t hour;    /* 0-23 */
    int32_t day;     /* day of month, 1-31 */
    int32_t week;    /* ISO-8601 week number, 1-53 (Spark weekofyear) */
    int32_t month;   /* 1-12 */
    int32_t year;    /* calendar year */
    int32_t weekday; /* Spark dayofweek: 1 = Sunday ... 7 = Saturday */
} lake_time_parts;

/* Break @p ts_ms down (any int64 from year 1900 to 3000; floor division
 * for instants before 1970). Proleptic Gregorian, integer arithmetic only
 * (no TZ or locale); defined, without overflow, for every int64. */
void lake_time_parts_of(int64_t ts_ms, lake_time_parts *out);

/* Append the Hive partition folder name "<column>=<escaped value>" to
 * @p out, escaping @p value as Spark does (%XX for 0x01-0x1F, "#%'*\/:=?\\
 * 0x7F {[]^); an absent (NULL ptr) or empty value gives
 * __HIVE_DEFAULT_PARTITION__. Rules of our own, beyond Spark: NUL is
 * escaped as %00; a value whose escaped form is longer than 200 bytes is
 * cut at a UTF-8 boundary and suffixed with "~" and 16 hex digits of its
 * SHA-256, so that no name exceeds 255 bytes; "." and ".." cannot occur
 * (they would need no escape, so they are escaped as %2E / %2E%2E). The
 * result never contains '/' and never names a path outside its table.
 * Details: the hash suffix is lowercase hex of SHA-256 over the raw value
 * bytes; the literal value __HIVE_DEFAULT_PARTITION__ is written as
 * %5F_HIVE_DEFAULT_PARTITION__ so that it does not read back as NULL.
 * @return LAKE_OK; LAKE_EINVAL for a NULL or empty @p column or one whose
 * escaped form exceeds 37 bytes (the name must fit 255); LAKE_ENOMEM or
 * LAKE_ETOOBIG from @p out, which is left as it was on any failure.
 * lake_hive_partition_name() (lake.h) wraps it for the Spark writer. */
LAKE_NODISCARD lake_status lake_partition_name(const char *column,
                                               lake_strview value,
                                               bool present,
                                               lake_buf *out);

/* The song match index over the songs table (SPEC "Song match"). */
typedef struct lake_song_index lake_song_index;

LAKE_NODISCARD lake_status lake_song_index_new(const lake_allocator *alloc,
                                               lake_song_index **out,
                                               lake_error *err);
void lake_song_index_free(lake_song_index *idx);

/* Add one row of the songs table (after last-wins de-duplication). The
 * index copies the bytes into an arena of its own. On failure
 * (LAKE_ENOMEM, or LAKE_ETOOBIG for absurd lengths) the index is as before
 * the call. */
LAKE_NODISCARD lake_status lake_song_index_add(lake_song_index *idx,
                                               lake_strview title,
                                               lake_strview artist_name,
                                               double duration,
                                               lake_strview song_id,
                                               lake_strview artist_id,
                                               lake_error *err);

/* Find the match of a play: title == song and artist_name == artist
 * (exact bytes) and |duration - length| <= 0.001; among several the
 * smallest difference wins, then the smallest song_id (unsigned byte
 * order). Returns false when nothing matches; the views returned are
 * borrowed from the index. Thread-safe for concurrent lookups once no
 * more rows are added. */
bool lake_song_index_match(const lake_song_index *idx,
                           lake_strview song,
                           lake_strview artist,
                           double length,
                           lake_strview *song_id,
                           lake_strview *artist_id);

/* lake_song_index_match() for a caller that keeps the match for later:
 * the winning row (borrowed from the index), or NULL. */
typedef struct lake_song_row lake_song_row;
const lake_song_row *lake_song_index_find(const lake_song_index *idx,
                                          lake_strview song,
                                          lake_strview artist,
                                          double length);
/* The ids of @p row, borrowed from the index. */
void lake_song_row_ids(const lake_song_row *row,
                       lake_strview *song_id,
                       lake_strview *artist_id);

/* Number of rows added. */
size_t lake_song_index_size(const lake_song_index *idx);
#endif

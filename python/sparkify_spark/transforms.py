# SPDX-License-Identifier: Apache-2.0
"""Pure functions from parsed rows to the star schema (SPEC.md "Tables").

No I/O and no session here: every function takes DataFrames and returns
DataFrames. The parsed rows come from the C record reader (one row per
record or reject, see lake_arrow_read_records in lake.h), so typing,
validation, empty-string-to-NULL, songplay ids and time parts are already
the native engine's; what is left is what needs the whole data set:
de-duplication in input order, the song match and the time table.

Input order is the pair (source, rec): `source` is the file's path under
one root (so byte order of `source` is byte order of the relative path) and
`rec` the record's index in its file. "Last wins" is `max` of a struct that
starts with the ordering key, "first wins" is `min`: one aggregation, no
window, no sort."""
from __future__ import annotations

from typing import Dict

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (DoubleType, IntegerType, LongType, StringType,
                               StructField, StructType, TimestampType)

MATCH_TOLERANCE = 0.001


def _schema(*cols: tuple[str, object]) -> StructType:
    return StructType([StructField(n, t, True) for n, t in cols])


_REJECT_COLS = (("line", LongType()), ("reason", StringType()),
                ("raw", StringType()))

# The batches of lake_arrow_read_records, column for column (the types
# must match exactly for mapInArrow: utf8, int64, int32, double,
# timestamp[us, tz=UTC]).
SONG_ROWS = _schema(
    ("source", StringType()), ("rec", LongType()),
    ("song_id", StringType()), ("title", StringType()),
    ("artist_id", StringType()), ("artist_name", StringType()),
    ("artist_location", StringType()), ("duration", DoubleType()),
    ("year", IntegerType()), ("artist_latitude", DoubleType()),
    ("artist_longitude", DoubleType()), *_REJECT_COLS)

EVENT_ROWS = _schema(
    ("source", StringType()), ("rec", LongType()), ("ts", LongType()),
    ("start_time", TimestampType()), ("session_id", LongType()),
    ("item_in_session", LongType()), ("user_id", LongType()),
    ("page", StringType()), ("level", StringType()),
    ("first_name", StringType()), ("last_name", StringType()),
    ("gender", StringType()), ("location", StringType()),
    ("user_agent", StringType()), ("song", StringType()),
    ("artist", StringType()), ("length", DoubleType()),
    ("songplay_id", LongType()), ("hour", IntegerType()),
    ("day", IntegerType()), ("week", IntegerType()),
    ("month", IntegerType()), ("year", IntegerType()),
    ("weekday", IntegerType()), *_REJECT_COLS)

# Partition columns of each table (folders, not file columns).
PARTITIONS: Dict[str, list[str]] = {
    "songs": ["year", "artist_id"],
    "artists": [],
    "users": [],
    "time": ["year", "month"],
    "songplays": ["year", "month"],
}

TABLES = ("songs", "artists", "users", "time", "songplays")


def records(parsed: DataFrame) -> DataFrame:
    """The rows that are records (not rejects)."""
    return parsed.where(F.col("reason").isNull())


def rejects(parsed: DataFrame) -> DataFrame:
    """The rejected rows as quarantine entries, with their order key."""
    return (parsed.where(F.col("reason").isNotNull())
            .select("source", "line", "reason", "raw", "rec"))


def quarantine(song_rows: DataFrame, event_rows: DataFrame) -> DataFrame:
    """Every rejected record: {source, line, reason, raw}, one partition in
    input order (song files first, then log files, as the native engine
    writes them)."""
    both = (rejects(song_rows).withColumn("_kind", F.lit(0))
            .unionByName(rejects(event_rows).withColumn("_kind", F.lit(1))))
    return (both.repartition(1)
            .sortWithinPartitions("_kind", "source", "rec")
            .select("source", "line", "reason", "raw"))


def _pick(agg: str, key: list[str], fields: list[str]) -> Column:
    """min/max of a struct that orders by @key and carries @fields."""
    fn = F.min if agg == "min" else F.max
    return fn(F.struct(*[F.col(c) for c in key + fields])).alias("_r")


def song_rows_last(songs: DataFrame) -> DataFrame:
    """The last record per song_id in input order, with the artist_name
    the song match compares (the songs table and the match dimension)."""
    fields = ["title", "artist_id", "artist_name", "year", "duration"]
    return (songs.groupBy("song_id")
            .agg(_pick("max", ["source", "rec"], fields))
            .select("song_id", *[F.col("_r." + c).alias(c) for c in fields]))


def songs_table(last_songs: DataFrame) -> DataFrame:
    """songs: song_id, title, artist_id, year (NULL when 0), duration."""
    return last_songs.select("song_id", "title", "artist_id", "year",
                             "duration")


def artists_table(songs: DataFrame) -> DataFrame:
    """artists: from the last song record in input order per artist_id."""
    fields = ["artist_name", "artist_location", "artist_latitude",
              "artist_longitude"]
    return (songs.groupBy("artist_id")
            .agg(_pick("max", ["source", "rec"], fields))
            .select("artist_id",
                    F.col("_r.artist_name").alias("name"),
                    F.col("_r.artist_location").alias("location"),
                    F.col("_r.artist_latitude").alias("latitude"),
                    F.col("_r.artist_longitude").alias("longitude")))


def users_table(events: DataFrame) -> DataFrame:
    """users: values of each user's latest event by (ts, sessionId,
    itemInSession), a tie going to the later one in input order. The
    parsed events hold only events with a user."""
    fields = ["first_name", "last_name", "gender", "level"]
    key = ["ts", "session_id", "item_in_session", "source", "rec"]
    return (events.groupBy("user_id")
            .agg(_pick("max", key, fields))
            .select("user_id", *[F.col("_r." + c).alias(c) for c in fields]))


def songplays_table(events: DataFrame, last_songs: DataFrame) -> DataFrame:
    """songplays: one row per NextSong identity (user_id, session_id,
    item_in_session, ts), the first in input order, matched against the
    songs table (broadcast): equal title/artist_name bytes and
    |duration - length| <= 0.001, the smallest difference then the
    smallest song_id winning.

    The match is joined before the de-duplication, so that one
    aggregation does both: min of (source, rec, diff, song_id, ...) picks
    the first event of the identity and, among its candidate songs, the
    best one. An unmatched event has exactly one row (diff NULL)."""
    plays = events.where(F.col("page") == "NextSong")
    dim = F.broadcast(last_songs.select(
        F.col("title").alias("_title"),
        F.col("artist_name").alias("_artist_name"),
        F.col("duration").alias("_duration"),
        F.col("song_id").alias("_song_id"),
        F.col("artist_id").alias("_artist_id")))
    diff = F.abs(F.col("_duration") - F.col("length"))
    cond = ((F.col("song") == F.col("_title")) &
            (F.col("artist") == F.col("_artist_name")) &
            (F.abs(F.col("_duration") - F.col("length")) <= MATCH_TOLERANCE))
    joined = (plays.join(dim, cond, "left")
              .withColumn("_diff", diff))
    fields = ["_diff", "_song_id", "_artist_id", "songplay_id",
              "start_time", "level", "location", "user_agent", "year",
              "month", "hour", "day", "week", "weekday"]
    ident = ["user_id", "session_id", "item_in_session", "ts"]
    first = (joined.groupBy(*ident)
             .agg(_pick("min", ["source", "rec"], fields)))
    return first.select(
        F.col("_r.songplay_id").alias("songplay_id"),
        F.col("_r.start_time").alias("start_time"),
        "user_id",
        F.col("_r.level").alias("level"),
        F.col("_r._song_id").alias("song_id"),
        F.col("_r._artist_id").alias("artist_id"),
        "session_id",
        F.col("_r.location").alias("location"),
        F.col("_r.user_agent").alias("user_agent"),
        F.col("_r.year").alias("year"),
        F.col("_r.month").alias("month"),
        # time parts ride along for the time table
        F.col("_r.hour").alias("_hour"),
        F.col("_r.day").alias("_day"),
        F.col("_r.week").alias("_week"),
        F.col("_r.weekday").alias("_weekday"))


def songplays_columns(plays: DataFrame) -> DataFrame:
    """The songplays table proper (without the time parts)."""
    return plays.select("songplay_id", "start_time", "user_id", "level",
                        "song_id", "artist_id", "session_id", "location",
                        "user_agent", "year", "month")


def time_table(plays: DataFrame) -> DataFrame:
    """time: distinct start_time among songplays with its UTC parts
    (computed in C with the model's rules: ISO week, 1 = Sunday)."""
    return (plays.select("start_time", F.col("_hour").alias("hour"),
                         F.col("_day").alias("day"),
                         F.col("_week").alias("week"), "month", "year",
                         F.col("_weekday").alias("weekday"))
            .dropDuplicates(["start_time"]))


def star_schema(song_rows: DataFrame,
                event_rows: DataFrame) -> Dict[str, DataFrame]:
    """Every table and the quarantine from the parsed rows of both kinds.
    `songplays` keeps the time parts in `_`-columns; pass it through
    songplays_columns() to write it."""
    songs = records(song_rows)
    events = records(event_rows)
    last = song_rows_last(songs)
    plays = songplays_table(events, last)
    return {
        "songs": songs_table(last),
        "artists": artists_table(songs),
        "users": users_table(events),
        "songplays": plays,
        "time": time_table(plays),
        "_quarantine": quarantine(song_rows, event_rows),
    }

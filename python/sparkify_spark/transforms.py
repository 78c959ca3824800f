# SPDX-License-Identifier: Apache-2.0
"""Pure functions from parsed rows to the star schema (SPEC.md "Tables").

No I/O and no session here: every function takes DataFrames and returns
DataFrames. The parsed rows come from the C record reader (one row per
record or reject, see lake_arrow_read_records in lake.h), so typing,
validation, empty-string-to-NULL, songplay ids and time parts are already
the native engine's; what is left is what needs the whole data set:
de-duplication in input order, the song match and the time table. Here
are the dimensions' aggregations and the partitioning of the plays; the
plays' own de-duplication, song match and time table run in the tasks on
Arrow data (taskside.songplays), over the partitions plays_by_day makes.

Input order is the pair (source, rec): `source` is the file's path under
one root (so byte order of `source` is byte order of the relative path) and
`rec` the record's index in its file. "Last wins" is `max` of a struct that
starts with the ordering key: one aggregation, no window, no sort."""
from __future__ import annotations

from typing import Dict, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (BinaryType, BooleanType, DoubleType,
                               IntegerType, LongType, StringType,
                               StructField, StructType, TimestampType)

from . import taskside


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



def _subset(schema: StructType, names: Sequence[str]) -> StructType:
    return StructType([schema[n] for n in names])


# The rows taskside.py's functions give (the same types, fewer columns).
SMALL_ROWS = _subset(EVENT_ROWS, taskside.SMALL_COLS)
# taskside.play_blobs: an hour's plays of one task as one Arrow IPC stream.
PLAY_BLOBS = _schema(*[(k, IntegerType()) for k in taskside.BLOB_KEY],
                     ("blob", BinaryType()))
# taskside.songplays: the songplays table, the time parts, and `_new_ts`.
SONGPLAY_ROWS = _schema(
    ("songplay_id", LongType()), ("start_time", TimestampType()),
    ("user_id", LongType()), ("level", StringType()),
    ("song_id", StringType()), ("artist_id", StringType()),
    ("session_id", LongType()), ("location", StringType()),
    ("user_agent", StringType()), ("year", IntegerType()),
    ("month", IntegerType()), ("hour", IntegerType()),
    ("day", IntegerType()), ("week", IntegerType()),
    ("weekday", IntegerType()), ("_new_ts", BooleanType()))

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
    """The rejected rows as quarantine entries, with their order key
    (taskside.REJECT_COLS)."""
    return (parsed.where(F.col("reason").isNotNull())
            .select(*taskside.REJECT_COLS))


def quarantine(song_rejects: DataFrame, event_rejects: DataFrame
               ) -> DataFrame:
    """Every rejected record (rejects() of each kind): {source, line,
    reason, raw}, one partition in input order (song files first, then
    log files, as the native engine writes them)."""
    both = (song_rejects.withColumn("_kind", F.lit(0))
            .unionByName(event_rejects.withColumn("_kind", F.lit(1))))
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


def plays(events: DataFrame) -> DataFrame:
    """The NextSong records of cached event rows, taskside.PLAY_COLS, as
    PLAY_BLOBS (the readers of large logs get them from C:
    taskside.ordered_play_blobs)."""
    return (records(events).where(F.col("page") == "NextSong")
            .select(*taskside.PLAY_COLS)
            .mapInArrow(taskside.play_blobs, PLAY_BLOBS))


def plays_by_day(blobs: DataFrame, n: int) -> DataFrame:
    """The plays (PLAY_BLOBS) in @n partitions by day (UTC), each sorted
    by hour: what taskside.hour_plays reads. An identity includes ts, so
    its events meet in one partition and one hour, as do the plays of one
    start_time (the time table); a task's plays of one month are
    contiguous (one file per task and month folder). By day rather than
    by month: a few months over the cores would leave some idle (L1's
    three months on two cores: one task did two of them). Spark moves and
    sorts blobs (a few thousand rows on L1), not plays: the plays never
    become Spark rows."""
    return (blobs.repartition(max(n, 1), *taskside.DAY_KEY)
            .sortWithinPartitions(*taskside.BLOB_KEY))


def songplays_columns(rows: DataFrame) -> DataFrame:
    """The songplays table from SONGPLAY_ROWS."""
    return rows.select(*taskside.SONGPLAY_COLS)


def time_table(rows: DataFrame) -> DataFrame:
    """The time table from SONGPLAY_ROWS: the first row of each
    start_time (the time parts are the C reader's: ISO week, 1 = Sunday)."""
    return rows.where(F.col("_new_ts")).select(*taskside.TIME_COLS)


def star_schema(song_rows: DataFrame, users_from: DataFrame,
                event_rejects: DataFrame) -> Dict[str, DataFrame]:
    """The tables that Spark's aggregations make, and the quarantine:
    songs, artists, users (from @users_from: event records, or each
    task's latest per user) and _quarantine (@event_rejects: rejects()
    of the logs), plus `_last_songs`, the songs the plays are matched
    against (songplays and time come from taskside.songplays)."""
    songs = records(song_rows)
    last = song_rows_last(songs)
    return {
        "songs": songs_table(last),
        "artists": artists_table(songs),
        "users": users_table(users_from),
        "_quarantine": quarantine(rejects(song_rows), event_rejects),
        "_last_songs": last,
    }

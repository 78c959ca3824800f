# SPDX-License-Identifier: Apache-2.0
"""The classic course-style etl.py, kept as the benchmark baseline: Spark's
JSON reader with an explicit schema, the usual transforms (dropDuplicates,
Python UDFs for the timestamp, a join on title/artist/length) and
partitioned Parquet writes. It does NOT follow SPEC.md (no quarantine, no
input-order rules, an approximate match); it is here to measure against.

    python -m sparkify_spark.classic_etl INPUT LAKE [--master URL]"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from typing import Dict, Optional, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (DoubleType, IntegerType, LongType, StringType,
                               StructField, StructType, TimestampType)

SONG_SCHEMA = StructType([
    StructField("num_songs", IntegerType()),
    StructField("artist_id", StringType()),
    StructField("artist_latitude", DoubleType()),
    StructField("artist_longitude", DoubleType()),
    StructField("artist_location", StringType()),
    StructField("artist_name", StringType()),
    StructField("song_id", StringType()),
    StructField("title", StringType()),
    StructField("duration", DoubleType()),
    StructField("year", IntegerType()),
])

LOG_SCHEMA = StructType([
    StructField("artist", StringType()),
    StructField("auth", StringType()),
    StructField("firstName", StringType()),
    StructField("gender", StringType()),
    StructField("itemInSession", LongType()),
    StructField("lastName", StringType()),
    StructField("length", DoubleType()),
    StructField("level", StringType()),
    StructField("location", StringType()),
    StructField("method", StringType()),
    StructField("page", StringType()),
    StructField("registration", DoubleType()),
    StructField("sessionId", LongType()),
    StructField("song", StringType()),
    StructField("status", LongType()),
    StructField("ts", LongType()),
    StructField("userAgent", StringType()),
    StructField("userId", StringType()),
])


def process_song_data(spark: SparkSession, song_data: str,
                      output: str) -> DataFrame:
    df = (spark.read.schema(SONG_SCHEMA)
          .option("recursiveFileLookup", "true").json(song_data))
    songs_table = (df.select("song_id", "title", "artist_id", "year",
                             "duration").dropDuplicates(["song_id"]))
    songs_table.write.mode("overwrite").partitionBy("year", "artist_id") \
        .parquet(output + "/songs")
    artists_table = (df.selectExpr("artist_id", "artist_name as name",
                                   "artist_location as location",
                                   "artist_latitude as latitude",
                                   "artist_longitude as longitude")
                     .dropDuplicates(["artist_id"]))
    artists_table.write.mode("overwrite").parquet(output + "/artists")
    return df


@F.udf(TimestampType())
def get_datetime(ts: Optional[int]) -> Optional[datetime]:
    """The course's timestamp UDF (ms since the epoch to a timestamp)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts / 1000.0, tz=timezone.utc)


def process_log_data(spark: SparkSession, log_data: str, song_df: DataFrame,
                     output: str) -> None:
    df = (spark.read.schema(LOG_SCHEMA)
          .option("recursiveFileLookup", "true").json(log_data))
    df = df.filter(df.page == "NextSong")
    users_table = (df.selectExpr("cast(userId as long) as user_id",
                                 "firstName as first_name",
                                 "lastName as last_name", "gender", "level")
                   .dropDuplicates(["user_id"]))
    users_table.write.mode("overwrite").parquet(output + "/users")
    df = df.withColumn("start_time", get_datetime(df.ts))
    time_table = (df.select("start_time").dropDuplicates()
                  .withColumn("hour", F.hour("start_time"))
                  .withColumn("day", F.dayofmonth("start_time"))
                  .withColumn("week", F.weekofyear("start_time"))
                  .withColumn("month", F.month("start_time"))
                  .withColumn("year", F.year("start_time"))
                  .withColumn("weekday", F.dayofweek("start_time")))
    time_table.write.mode("overwrite").partitionBy("year", "month") \
        .parquet(output + "/time")
    cond = [df.song == song_df.title, df.artist == song_df.artist_name,
            df.length == song_df.duration]
    songplays_table = (df.join(song_df, cond, "left")
                       .select(F.monotonically_increasing_id()
                               .alias("songplay_id"),
                               "start_time",
                               F.col("userId").cast("long").alias("user_id"),
                               "level", "song_id", "artist_id",
                               F.col("sessionId").alias("session_id"),
                               "location",
                               F.col("userAgent").alias("user_agent"),
                               F.year("start_time").alias("year"),
                               F.month("start_time").alias("month")))
    songplays_table.write.mode("overwrite").partitionBy("year", "month") \
        .parquet(output + "/songplays")


def run(spark: SparkSession, song_data: str, log_data: str,
        output: str) -> Dict[str, float]:
    t0 = time.perf_counter()
    song_df = process_song_data(spark, song_data, output)
    process_log_data(spark, log_data, song_df, output)
    return {"total": time.perf_counter() - t0}


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="sparkify_spark.classic_etl")
    p.add_argument("input")
    p.add_argument("lake")
    p.add_argument("--master")
    p.add_argument("--conf", action="append", default=[], metavar="K=V",
                   help="extra Spark setting (repeatable)")
    a = p.parse_args(argv)
    from .job import build_session
    extra = dict(kv.partition("=")[::2] for kv in a.conf)
    spark = build_session(a.master, "sparkify-classic", extra)
    try:
        base = a.input.rstrip("/")
        t = run(spark, base + "/song_data", base + "/log_data", a.lake)
    finally:
        spark.stop()
    print(f"classic_etl: total {t['total']:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

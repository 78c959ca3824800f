# SPDX-License-Identifier: Apache-2.0
"""The star schema in Polars with explicit schemas: a peer for the benchmarks.

usage: polars_etl.py INPUT LAKE [--compression snappy|zstd]

What it cannot express of SPEC.md: per-record quarantine (a malformed file
is skipped whole, since scan_ndjson has no per-line recovery with line
numbers), pretty-printed multi-object song files (read as one document), and
Spark-style partition escaping (Polars writes Hive folders its own way).
Input order is (file path, row index), as SPEC says.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import polars as pl

SONG_SCHEMA = {
    "song_id": pl.Utf8, "title": pl.Utf8, "artist_id": pl.Utf8,
    "artist_name": pl.Utf8, "artist_location": pl.Utf8,
    "artist_latitude": pl.Float64, "artist_longitude": pl.Float64,
    "duration": pl.Float64, "year": pl.Int64,
}
EVENT_SCHEMA = {
    "ts": pl.Int64, "page": pl.Utf8, "sessionId": pl.Int64,
    "itemInSession": pl.Int64, "userId": pl.Utf8, "level": pl.Utf8,
    "firstName": pl.Utf8, "lastName": pl.Utf8, "gender": pl.Utf8,
    "location": pl.Utf8, "userAgent": pl.Utf8, "song": pl.Utf8,
    "artist": pl.Utf8, "length": pl.Float64,
}


def files(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*.json")
                  if not any(part[0] in "._" for part in p.relative_to(root).parts))


def read(paths: list[str], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    frames = []
    for i, p in enumerate(paths):
        try:
            df = pl.read_ndjson(p, schema=schema, ignore_errors=True)
        except Exception:  # a malformed file: skipped whole (see docstring)
            continue
        frames.append(df.with_columns(pl.lit(i).alias("_file"),
                                      pl.int_range(pl.len()).alias("_row")))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def nullif_empty(c: str) -> pl.Expr:
    return pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)


def songplay_id(s: str) -> int:
    return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big") & (2**63 - 1)


def run(inp: Path, lake: Path, codec: str) -> dict[str, int]:
    raw = read(files(inp / "song_data"), SONG_SCHEMA).filter(
        pl.col("song_id").is_not_null() & (pl.col("song_id") != "")
        & pl.col("artist_id").is_not_null() & (pl.col("artist_id") != "")
        & pl.col("title").is_not_null() & pl.col("artist_name").is_not_null()
        & pl.col("duration").is_not_null() & pl.col("year").is_not_null())
    raw = raw.sort(["_file", "_row"])
    songs = raw.unique("song_id", keep="last", maintain_order=True)
    artists = raw.unique("artist_id", keep="last", maintain_order=True).select(
        "artist_id", pl.col("artist_name").alias("name"),
        pl.col("artist_location").alias("location"),
        pl.col("artist_latitude").alias("latitude"),
        pl.col("artist_longitude").alias("longitude")).with_columns(nullif_empty("location"))
    ev = read(files(inp / "log_data"), EVENT_SCHEMA).filter(
        pl.col("ts").is_not_null() & pl.col("page").is_not_null()
        & pl.col("sessionId").is_not_null() & pl.col("itemInSession").is_not_null())
    ev = ev.filter(pl.col("userId").is_not_null() & (pl.col("userId") != "")).with_columns(
        pl.col("userId").cast(pl.Int64).alias("user_id"))
    users = (ev.sort(["ts", "sessionId", "itemInSession", "_file", "_row"])
             .unique("user_id", keep="last", maintain_order=True)
             .select("user_id", pl.col("firstName").alias("first_name"),
                     pl.col("lastName").alias("last_name"), "gender", "level")
             .with_columns([nullif_empty(c) for c in ("first_name", "last_name", "gender", "level")]))
    plays = (ev.filter(pl.col("page") == "NextSong").sort(["_file", "_row"])
             .unique(["user_id", "sessionId", "itemInSession", "ts"], keep="first",
                     maintain_order=True))
    cand = plays.join(songs.select("title", "artist_name", "duration", "song_id", "artist_id"),
                      left_on=["song", "artist"], right_on=["title", "artist_name"])
    cand = cand.with_columns((pl.col("duration") - pl.col("length")).abs().alias("_d")).filter(
        pl.col("_d") <= 0.001).sort(["_d", "song_id"]).unique(
        ["user_id", "sessionId", "itemInSession", "ts"], keep="first")
    plays = plays.join(cand.select("user_id", "sessionId", "itemInSession", "ts", "song_id",
                                   "artist_id"),
                       on=["user_id", "sessionId", "itemInSession", "ts"], how="left")
    key = pl.format("{}|{}|{}|{}", "user_id", "sessionId", "itemInSession", "ts")
    start = pl.from_epoch("ts", time_unit="ms").dt.replace_time_zone("UTC").dt.cast_time_unit("us")
    songplays = plays.select(
        key.map_elements(songplay_id, return_dtype=pl.Int64).alias("songplay_id"),
        start.alias("start_time"), "user_id", "level", "song_id", "artist_id",
        pl.col("sessionId").alias("session_id"), "location",
        pl.col("userAgent").alias("user_agent")).with_columns(
        [nullif_empty(c) for c in ("level", "location", "user_agent")]).with_columns(
        pl.col("start_time").dt.year().cast(pl.Int32).alias("year"),
        pl.col("start_time").dt.month().cast(pl.Int32).alias("month"))
    st = pl.col("start_time")
    tm = songplays.select("start_time").unique().select(
        "start_time", st.dt.hour().cast(pl.Int32).alias("hour"),
        st.dt.day().cast(pl.Int32).alias("day"), st.dt.week().cast(pl.Int32).alias("week"),
        st.dt.month().cast(pl.Int32).alias("month"), st.dt.year().cast(pl.Int32).alias("year"),
        (st.dt.weekday() % 7 + 1).cast(pl.Int32).alias("weekday"))
    lake.mkdir(parents=True, exist_ok=True)
    songs_out = songs.select("song_id", "title", "artist_id",
                             pl.when(pl.col("year") == 0).then(None).otherwise(
                                 pl.col("year")).cast(pl.Int32).alias("year"), "duration")
    songs_out.write_parquet(lake / "songs", compression=codec, partition_by=["year", "artist_id"])
    artists.write_parquet(lake / "artists.parquet", compression=codec)
    users.write_parquet(lake / "users.parquet", compression=codec)
    tm.write_parquet(lake / "time", compression=codec, partition_by=["year", "month"])
    songplays.write_parquet(lake / "songplays", compression=codec, partition_by=["year", "month"])
    return {"songs": songs.height, "artists": artists.height, "users": users.height,
            "time": tm.height, "songplays": songplays.height,
            "matched": songplays.filter(pl.col("song_id").is_not_null()).height}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    ap.add_argument("lake", type=Path)
    ap.add_argument("--compression", default="snappy")
    a = ap.parse_args()
    t0 = time.perf_counter()
    counts = run(a.input, a.lake, a.compression)
    json.dump(dict(counts, seconds=round(time.perf_counter() - t0, 3)), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

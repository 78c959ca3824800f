# SPDX-License-Identifier: Apache-2.0
"""Shared helpers of the Spark tests: one local[2] session per pytest
session, the standalone cluster, and lake comparison with pyarrow."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pyarrow as pa
import pyarrow.dataset as ds

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from sparkify_spark import job  # noqa: E402

# SPEC column types of each table, partition columns last.
TABLE_SCHEMAS: Dict[str, pa.Schema] = {
    "songs": pa.schema([("song_id", pa.string()), ("title", pa.string()),
                        ("duration", pa.float64()), ("year", pa.int32()),
                        ("artist_id", pa.string())]),
    "artists": pa.schema([("artist_id", pa.string()), ("name", pa.string()),
                          ("location", pa.string()),
                          ("latitude", pa.float64()),
                          ("longitude", pa.float64())]),
    "users": pa.schema([("user_id", pa.int64()), ("first_name", pa.string()),
                        ("last_name", pa.string()), ("gender", pa.string()),
                        ("level", pa.string())]),
    "time": pa.schema([("start_time", pa.timestamp("us", tz="UTC")),
                       ("hour", pa.int32()), ("day", pa.int32()),
                       ("week", pa.int32()), ("weekday", pa.int32()),
                       ("year", pa.int32()), ("month", pa.int32())]),
    "songplays": pa.schema([("songplay_id", pa.int64()),
                            ("start_time", pa.timestamp("us", tz="UTC")),
                            ("user_id", pa.int64()), ("level", pa.string()),
                            ("song_id", pa.string()),
                            ("artist_id", pa.string()),
                            ("session_id", pa.int64()),
                            ("location", pa.string()),
                            ("user_agent", pa.string()),
                            ("year", pa.int32()), ("month", pa.int32())]),
}
PARTITION_COLS = {"songs": ["year", "artist_id"], "time": ["year", "month"],
                  "songplays": ["year", "month"], "artists": [], "users": []}

_session: Any = None


def session() -> Any:
    """The local[2] session shared by every test of the pytest run (or the
    session another test module already started: getOrCreate)."""
    global _session
    # Another module of the run may have stopped the shared session.
    if _session is not None and _session.sparkContext._jsc is None:
        _session = None
    if _session is None:
        _session = job.build_session("local[2]", "sparkify-tests",
                                     {"spark.sql.shuffle.partitions": "4"})
        _session.sparkContext.setLogLevel("ERROR")
    return _session


def stop_session() -> None:
    global _session
    if _session is not None:
        _session.stop()
        _session = None


def read_table(lake: Path, table: str) -> pa.Table:
    """One table of a lake with its partition columns, in SPEC types,
    sorted by every column."""
    schema = TABLE_SCHEMAS[table]
    parts = PARTITION_COLS[table]
    partitioning = ds.HivePartitioning(
        pa.schema([schema.field(c) for c in parts]),
        segment_encoding="uri") if parts else None
    d = ds.dataset(str(lake / table), format="parquet",
                   partitioning=partitioning)
    t = d.to_table(columns=schema.names).cast(schema)
    return t.sort_by([(c, "ascending") for c in schema.names])


def table_diff(a: pa.Table, b: pa.Table, limit: int = 5) -> str:
    """A short description of the rows that differ."""
    ra, rb = a.to_pylist(), b.to_pylist()
    sa = {json.dumps(r, sort_keys=True, default=str) for r in ra}
    sb = {json.dumps(r, sort_keys=True, default=str) for r in rb}
    only_a = sorted(sa - sb)[:limit]
    only_b = sorted(sb - sa)[:limit]
    return (f"rows {len(ra)} vs {len(rb)}; only in first: {only_a}; "
            f"only in second: {only_b}")


def read_quarantine(lake: Path) -> List[Tuple[str, int, str, str]]:
    """Every quarantine entry of a lake, sorted."""
    out: List[Tuple[str, int, str, str]] = []
    qdir = lake / "_quarantine"
    if not qdir.exists():
        return out
    for f in sorted(qdir.iterdir()):
        if f.name.startswith((".", "_")) or not f.is_file():
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                out.append((r["source"], r["line"], r["reason"], r["raw"]))
    return sorted(out)


def assert_lakes_equal(native: Path, spark: Path,
                       source_map: Optional[Tuple[str, str]] = None
                       ) -> Dict[str, int]:
    """Every table row for row and the quarantine; returns row counts.
    @source_map (old, new) rewrites the prefix of the native quarantine's
    sources (a local copy of an s3a:// input)."""
    counts: Dict[str, int] = {}
    for table in TABLE_SCHEMAS:
        a, b = read_table(native, table), read_table(spark, table)
        assert a.equals(b), f"{table}: {table_diff(a, b)}"
        counts[table] = a.num_rows
    qa, qb = read_quarantine(native), read_quarantine(spark)
    if source_map:
        old, new = source_map
        qa = sorted((new + src[len(old):] if src.startswith(old) else src,
                     line, reason, raw) for src, line, reason, raw in qa)
    assert qa == qb, f"quarantine differs: {sorted(set(qa) ^ set(qb))[:5]}"
    counts["quarantined"] = len(qa)
    return counts


def native_etl(sparkify: Path, song_root: str, log_root: str,
               lake: Path) -> None:
    """The native engine on the same roots."""
    r = subprocess.run([str(sparkify), "etl", "--quiet", "--songs", song_root,
                        "--logs", log_root, str(lake)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr


def cluster_script() -> Path:
    return ROOT / "scripts" / "spark-env.sh"


def start_cluster(state: Path) -> Optional[str]:
    """Start the 1+2 standalone cluster; its master URL."""
    env = dict(os.environ, SPARKIFY_SPARK_DIR=str(state))
    r = subprocess.run([str(cluster_script()), "start"], env=env,
                       capture_output=True, text=True, check=False,
                       timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"cluster start failed: {r.stderr}")
    for line in r.stdout.splitlines():
        if line.startswith("SPARK_MASTER_URL="):
            return line.split("=", 1)[1]
    return None


def stop_cluster(state: Path) -> None:
    env = dict(os.environ, SPARKIFY_SPARK_DIR=str(state))
    subprocess.run([str(cluster_script()), "stop"], env=env, check=False,
                   timeout=120)


# ---- a hand-made input with duplicates, ties and every reject ----

def song(song_id: str, title: str, artist_id: str, artist_name: object,
         duration: float, year: int = 0, **extra: object) -> dict:
    d = {"song_id": song_id, "title": title, "artist_id": artist_id,
         "artist_name": artist_name, "duration": duration, "year": year}
    d.update(extra)
    return d


def event(ts: int, user: object, session: int, item: int, page: str = "NextSong",
          **extra: object) -> dict:
    d = {"ts": ts, "userId": user, "sessionId": session,
         "itemInSession": item, "page": page}
    d.update(extra)
    return d


def jl(*objs: object) -> bytes:
    return "\n".join(json.dumps(o, ensure_ascii=False) for o in objs).encode()


T = 1542837407796  # 2018-11-21 21:56:47.796 UTC


def make_fixture(root: Path) -> None:
    """Duplicates, ties and every kind of reject, across partitions."""
    s = root / "song_data"
    (s / "A").mkdir(parents=True)
    (s / "B" / "C").mkdir(parents=True)
    (s / "_hidden").mkdir()
    (s / "A" / "a1.json").write_bytes(jl(
        song("S1", "Hello", "AR1", "Band", 200.0, 2000,
             artist_location="", artist_latitude=None)))
    # pretty-printed, two objects; S1 again (last wins), AR1 again
    (s / "A" / "a2.json").write_bytes(
        json.dumps(song("S2", "World", "AR1", "Band", 100.0, 0,
                        artist_location="NYC", artist_latitude=40.7,
                        artist_longitude=-74.0), indent=2).encode() +
        json.dumps(song("S1", "Hello v2", "AR2", "Other", 200.0004, 2001),
                   indent=1).encode())
    (s / "A" / "b.json.gz").write_bytes(gzip.compress(jl(
        song("S3", "Hello", "AR3", "Band", 200.0002, 1999,
             artist_location="Paris/Texas"),
        song("S9", "Hello", "AR9", "Band", 200.0002, 1999)) +
        b"\n{broken\n"))
    (s / "B" / "C" / "c.jsonl").write_bytes(
        b"\xef\xbb\xbf" + jl(
            song("S5", "Same", "AR5", "112", 50.0, 1980),
            song("S4", "Same", "AR4", 112, 50.0, 1980,
                 artist_location=1234),
            [1, 2],
            song("", "x", "AR6", "y", 1.0),
            song("S6", "x", "AR6", "y", "long"),
            song("S7", "x", "AR7", "y", 1.0, 2 ** 40)) +
        b"\n{\"song_id\": \"bad \xff\xfe utf8\n")
    (s / "_hidden" / "h.json").write_bytes(jl(song("SH", "h", "AH", "h", 1.0)))
    (s / "A" / ".dot.json").write_bytes(jl(song("SD", "d", "AD", "d", 1.0)))
    (s / "A" / "notes.txt").write_bytes(b"not input")

    lg = root / "log_data"
    (lg / "2018" / "11").mkdir(parents=True)
    (lg / "2018" / "12").mkdir(parents=True)
    (lg / "2018" / "11" / "e1.json").write_bytes(jl(
        event(T, "10", 1, 0, song="Hello", artist="Band", length=200.0,
              level="free", firstName="Ann", lastName="Lee", gender="F",
              location="X, Y", userAgent="UA"),
        # the same identity again: first wins
        event(T, 10, 1, 0, song="Hello", artist="Band", length=200.0,
              level="paid", firstName="Dup"),
        event(T + 1000, "10", 1, 1, page="Home", level="paid",
              firstName="", lastName="Lee", gender=""),
        event(T + 2000, "", 2, 0, page="Home"),
        event(T + 3000, "11", 3, 0, song="Same", artist="112",
              length=50.0005),
        event(T + 4000, "11", 3, 1, song="Hello", artist="Band"),
        event(T + 5000, "12", 4, 0, song="World", artist="Band",
              length=100.0011),
        event(T + 5000, "12", 4, 0, page="Logout", level="paid"),
        event(32503680000000, "13", 5, 0),
        event(T, "x1", 5, 0, page="Home"),
        event(T, None, 6, 0, song="a", artist="b"),
        {"ts": T, "page": "NextSong", "sessionId": 7, "userId": "14"},
        "just a string"))
    (lg / "2018" / "12" / "e2.json.gz").write_bytes(gzip.compress(jl(
        event(1543622400000, "11", 9, 2, song="World", artist="Band",
              length=100.0, level="paid", firstName="Bo"),
        event(1543622400000, "11", 9, 1, song="World", artist="Band",
              length=99.9995, level="free", firstName="Al"),
        event(1543622400001, 15, 9, 3, song="Hello v2", artist="Other",
              length=200.0))))

# SPDX-License-Identifier: Apache-2.0
"""`sparkify etl` end to end: the CLI on tests/data/etl fixtures, the lake
read back by pyarrow, DuckDB, Polars and Spark with identical rows and the
SPEC types; every table rule checked on values; the reference figures of
../shared/data; exit codes; SIGKILL at many points never breaks the lake."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SHARED_DATA

FIXTURES = ROOT / "tests" / "data" / "etl"
TABLES = ("songs", "artists", "users", "time", "songplays")
KEYS = {"songs": ["song_id"], "artists": ["artist_id"], "users": ["user_id"],
        "time": ["start_time"],
        "songplays": ["songplay_id"]}
T = 1541105830796  # 2018-11-01T20:57:10.796Z, the fixture's base ts


def run_etl(exe: Path, *args: str, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), "etl", *args], capture_output=True,
                          text=True, check=False, timeout=timeout)


def read_table(lake: Path, table: str) -> pa.Table:
    ds = pads.dataset(lake / table, format="parquet", partitioning="hive")
    return ds.to_table()


def rows(lake: Path, table: str) -> list[dict[str, Any]]:
    t = read_table(lake, table)
    return sorted(t.to_pylist(), key=lambda r: tuple(r[k] for k in KEYS[table]))


def by(lake: Path, table: str) -> dict[Any, dict[str, Any]]:
    k = KEYS[table][0]
    return {r[k]: r for r in rows(lake, table)}


def songplay_id(user: int, session: int, item: int, ts: int) -> int:
    h = hashlib.sha256(f"{user}|{session}|{item}|{ts}".encode()).digest()
    return int.from_bytes(h[:8], "big") & ((1 << 63) - 1)


def utc(ts_ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
        milliseconds=ts_ms)


@pytest.fixture(scope="module")
def lake(sparkify: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("etl") / "lake"
    r = run_etl(sparkify, str(FIXTURES / "basic"), str(out), "--threads", "2")
    assert r.returncode == 0, r.stderr
    return out


# ---- the CLI ----

def test_cli_help_lists_exit_codes(sparkify: Path) -> None:
    r = run_etl(sparkify, "--help")
    assert r.returncode == 0
    for text in ("--songs ROOT", "--threads N", "--compression", "--fail-on-bad",
                 "--quiet", "0  the lake", "1  the run failed", "2  bad command",
                 "3  --fail-on-bad"):
        assert text in r.stdout


@pytest.mark.parametrize("args", [[], ["only-one"], ["a", "b", "c"],
                                  ["--threads", "x", "a", "b"],
                                  ["--compression", "lz4", "a", "b"],
                                  ["--songs", "s", "lake"], ["--bogus", "a", "b"],
                                  ["--threads"]])
def test_cli_usage_errors(sparkify: Path, args: list[str]) -> None:
    r = run_etl(sparkify, *args)
    assert r.returncode == 2
    assert r.stderr


def test_cli_summary_and_report(sparkify: Path, tmp_path: Path) -> None:
    r = run_etl(sparkify, str(FIXTURES / "basic"), str(tmp_path / "l"))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # not a terminal: no progress line
    for line in ("songs", "artists", "users", "time", "songplays", "matched plays",
                 "quarantined", "invalid_json", "input MB", "seconds", "MB/s"):
        assert line in r.stdout
    rep = json.loads((tmp_path / "l" / "_sparkify_report.json").read_text())
    assert rep["rows"] == {"songs": 17, "artists": 13, "users": 6, "time": 5,
                           "songplays": 6}
    assert rep["matched_plays"] == 2
    assert rep["quarantined"] == 6
    assert rep["quarantined_by_reason"]["missing_field:userId"] == 1
    # The phases up to the report's writing; seconds is their sum.
    assert list(rep["phase_seconds"]) == ["fetch", "list", "songs", "logs",
                                          "write", "quarantine"]
    assert sum(rep["phase_seconds"].values()) == pytest.approx(rep["seconds"], abs=1e-5)
    for phase in ("fetch", "list", "logs", "write", "publish", "cleanup"):
        assert f"  {phase} " in r.stdout
    q = run_etl(sparkify, str(FIXTURES / "basic"), str(tmp_path / "q"), "--quiet")
    assert q.returncode == 0 and q.stdout == ""


def test_cli_explicit_roots_and_failure(sparkify: Path, tmp_path: Path) -> None:
    small = FIXTURES / "small"
    out = tmp_path / "l"
    r = run_etl(sparkify, "--songs", str(small / "song_data"), "--logs",
                str(small / "log_data"), str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    r = run_etl(sparkify, "--songs", str(small / "song_data"), "--logs",
                str(tmp_path / "missing"), str(out))
    assert r.returncode == 1
    assert "missing" in r.stderr and r.stderr.startswith("sparkify etl: ")
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_cli_fail_on_bad(sparkify: Path, tmp_path: Path) -> None:
    r = run_etl(sparkify, str(FIXTURES / "basic"), str(tmp_path / "l"),
                "--fail-on-bad")
    assert r.returncode == 3
    assert "quarantined" in r.stderr
    assert (tmp_path / "l" / "songplays" / "_SUCCESS").exists()
    r = run_etl(sparkify, str(FIXTURES / "small"), str(tmp_path / "m"),
                "--fail-on-bad", "--quiet")
    assert r.returncode == 0


@pytest.mark.parametrize("codec", ["snappy", "zstd", "none"])
def test_cli_compression(sparkify: Path, tmp_path: Path, codec: str) -> None:
    r = run_etl(sparkify, str(FIXTURES / "basic"), str(tmp_path / "l"),
                "--compression", codec, "--quiet")
    assert r.returncode == 0, r.stderr
    f = next((tmp_path / "l" / "songplays").rglob("*.parquet"))
    md = pq.ParquetFile(f).metadata
    assert md.row_group(0).column(0).compression == {
        "snappy": "SNAPPY", "zstd": "ZSTD", "none": "UNCOMPRESSED"}[codec]


# ---- SPEC rules, on values ----

def test_songs_last_record_wins(lake: Path) -> None:
    s = by(lake, "songs")
    assert len(s) == 17
    assert s["S1"]["title"] == "T1b" and s["S1"]["year"] == 2001
    assert s["S1"]["duration"] == 201.0 and s["S1"]["artist_id"] == "AR1"
    assert s["S2"]["year"] is None  # 0 is unknown: NULL
    assert s["S3"]["title"] == "Bom"  # BOM skipped
    assert s["S4"]["title"] == "Gz"  # gzip read
    assert "SKIP" not in s  # ./_ files and other extensions skipped
    # hostile artist ids come back exactly through the folder names
    assert s["SH0"]["artist_id"] == "../x"
    assert s["SH1"]["artist_id"] == "a/b"
    assert s["SH2"]["artist_id"] == "."
    assert s["SH3"]["artist_id"] == ".."
    assert s["SH4"]["artist_id"] == "x\x00y"
    assert s["SH5"]["artist_id"] == "%2E"
    assert s["SH6"]["artist_id"] == "k=v"
    assert s["SH8"]["artist_id"] == "\u00e9t\u00e9"


def test_artists_from_last_song_record(lake: Path) -> None:
    a = by(lake, "artists")
    assert len(a) == 13
    assert a["AR1"] == {"artist_id": "AR1", "name": "Art One B", "location": "Lyon",
                        "latitude": 45.75, "longitude": 4.85}
    # AR2: the last record with AR2 is S0 (location "" -> NULL, no lat/lon);
    # the name was the JSON number 112, kept as text
    assert a["AR2"] == {"artist_id": "AR2", "name": "112", "location": None,
                        "latitude": None, "longitude": None}


def test_users_latest_event(lake: Path) -> None:
    u = by(lake, "users")
    assert sorted(u) == [10, 11, 12, 13, 14, 15]
    assert u[10]["first_name"] == "Bob"  # a later Home event counts
    # equal (ts, sessionId, itemInSession): the later one in input order
    assert u[11]["gender"] == "M" and u[11]["level"] is None
    # the rejected event (out-of-range ts) does not count; level "free" is
    # from the latest valid event
    assert u[12]["level"] == "free"


def test_songplays_dedupe_match_and_nulls(lake: Path) -> None:
    p = rows(lake, "songplays")
    assert len(p) == 6
    key = {(r["user_id"], r["session_id"], r["start_time"]): r for r in p}
    first = key[(10, 1, utc(T))]
    assert first["level"] == "free"  # the first in input order, not "paid"
    assert first["song_id"] == "S0" and first["artist_id"] == "AR2"
    assert first["songplay_id"] == songplay_id(10, 1, 0, T)
    assert first["location"] == "Paris" and first["user_agent"] == "Mozilla"
    tie = key[(12, 3, utc(T + 2000))]
    assert tie["song_id"] == "S8" and tie["artist_id"] == "AR3"
    assert tie["level"] is None and tie["location"] is None
    assert tie["user_agent"] is None
    nolen = key[(12, 3, utc(T + 4000))]
    assert nolen["song_id"] is None and nolen["artist_id"] is None
    for r in p:
        assert r["year"] == r["start_time"].year
        assert r["month"] == r["start_time"].month
    assert sum(r["song_id"] is not None for r in p) == 2
    assert {r["songplay_id"] for r in p} == {
        songplay_id(10, 1, 0, T), songplay_id(12, 3, 0, T + 2000),
        songplay_id(12, 3, 1, T + 4000), songplay_id(13, 9, 0, 1543622400000),
        songplay_id(14, 5, 0, -2592000000), songplay_id(15, 6, 0, -2592000000)}


def test_time_parts(lake: Path) -> None:
    t = rows(lake, "time")
    assert len(t) == 5
    for r in t:
        s: dt.datetime = r["start_time"]
        assert s.tzinfo is not None
        assert r["hour"] == s.hour and r["day"] == s.day
        assert r["week"] == s.isocalendar()[1]
        assert r["month"] == s.month and r["year"] == s.year
        assert r["weekday"] == s.isoweekday() % 7 + 1
    assert min(r["start_time"] for r in t) == utc(-2592000000)


def test_file_schemas_and_layout(lake: Path) -> None:
    want = {
        "songs": [("song_id", pa.string()), ("title", pa.string()),
                  ("duration", pa.float64())],
        "artists": [("artist_id", pa.string()), ("name", pa.string()),
                    ("location", pa.string()), ("latitude", pa.float64()),
                    ("longitude", pa.float64())],
        "users": [("user_id", pa.int64()), ("first_name", pa.string()),
                  ("last_name", pa.string()), ("gender", pa.string()),
                  ("level", pa.string())],
        "time": [("start_time", pa.timestamp("us", tz="UTC")), ("hour", pa.int32()),
                 ("day", pa.int32()), ("week", pa.int32()), ("weekday", pa.int32())],
        "songplays": [("songplay_id", pa.int64()),
                      ("start_time", pa.timestamp("us", tz="UTC")),
                      ("user_id", pa.int64()), ("level", pa.string()),
                      ("song_id", pa.string()), ("artist_id", pa.string()),
                      ("session_id", pa.int64()), ("location", pa.string()),
                      ("user_agent", pa.string())],
    }
    for table, cols in want.items():
        assert (lake / table / "_SUCCESS").exists()
        files = sorted((lake / table).rglob("*.parquet"))
        assert files
        for f in files:
            assert f.name.startswith("part-") and f.name.endswith(".parquet")
            s = pq.read_schema(f)
            assert [(x.name, x.type) for x in s] == cols, (table, f)
    ts = pq.ParquetFile(next((lake / "time").rglob("*.parquet"))).schema_arrow
    assert ts.field("start_time").type == pa.timestamp("us", tz="UTC")
    # quarantine lines are JSON with the four keys
    q = (lake / "_quarantine" / "part-00000.jsonl").read_text("utf-8").splitlines()
    recs = [json.loads(x) for x in q]
    assert [set(r) for r in recs] == [{"source", "line", "reason", "raw"}] * 6
    assert recs[0]["raw"].startswith('{"song_id": "X1", "title": "\ufffd\ufffd')


def test_rows_sorted_within_files(lake: Path) -> None:
    for f in (lake / "songplays").rglob("*.parquet"):
        t = pq.read_table(f)
        keys = list(zip(t["start_time"].to_pylist(), t["user_id"].to_pylist()))
        assert keys == sorted(keys)
    u = pq.read_table(lake / "users" / "part-00000.parquet")["user_id"].to_pylist()
    assert u == sorted(u)


def test_threads_give_identical_bytes(sparkify: Path, tmp_path: Path) -> None:
    def tree(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and p.name != "_sparkify_report.json"}
    trees = []
    for n in ("1", "2", "4"):
        out = tmp_path / f"t{n}"
        r = run_etl(sparkify, str(FIXTURES / "basic"), str(out), "--threads", n,
                    "--quiet")
        assert r.returncode == 0, r.stderr
        trees.append(tree(out))
    assert trees[0] == trees[1] == trees[2]


# ---- other readers ----

def canon(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None) if v.tzinfo is None else \
            v.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return v


def canon_rows(rs: list[dict[str, Any]], table: str) -> list[tuple[Any, ...]]:
    names = sorted(rs[0]) if rs else []
    out = [tuple(canon(r[k]) for k in names) for r in rs]
    return sorted(out, key=repr)


def test_duckdb_and_polars_read_identical_rows(lake: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    pl = pytest.importorskip("polars")
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for table in TABLES:
        ref = canon_rows(rows(lake, table), table)
        glob = str(lake / table / "**" / "*.parquet")
        dd = con.sql(
            f"SELECT * FROM read_parquet('{glob}', hive_partitioning=true)"
        ).to_arrow_table().to_pylist()
        assert canon_rows(dd, table) == ref, table
        pdf = pl.read_parquet(glob, hive_partitioning=True)
        assert canon_rows(pdf.to_dicts(), table) == ref, table


def test_spark_reads_identical_rows(lake: Path, spark_session: Any) -> None:
    for table in TABLES:
        ref = canon_rows(rows(lake, table), table)
        df = spark_session.read.parquet(str(lake / table))
        sp = [r.asDict() for r in df.collect()]
        assert canon_rows(sp, table) == ref, table
    types = dict(spark_session.read.parquet(str(lake / "songplays")).dtypes)
    assert types["start_time"] == "timestamp" and types["songplay_id"] == "bigint"
    assert types["user_id"] == "bigint" and types["session_id"] == "bigint"
    t = dict(spark_session.read.parquet(str(lake / "time")).dtypes)
    assert t["hour"] == "int" and t["weekday"] == "int"


# ---- the course data ----

SAMPLE = SHARED_DATA / "sparkify-sample"
LARGE = SHARED_DATA / "sparkify-songs-large"


@pytest.mark.skipif(not SAMPLE.exists(), reason="shared data absent")
@pytest.mark.parametrize("songs,expect", [
    (SAMPLE / "song_data", {"songs": 71, "artists": 69, "users": 97, "time": 6813,
                            "songplays": 6820, "matched": 1}),
    (LARGE / "song_data", {"songs": 1943, "artists": 1809, "users": 97,
                           "time": 6813, "songplays": 6820, "matched": 39}),
])
def test_reference_figures(sparkify: Path, tmp_path: Path, songs: Path,
                           expect: dict[str, int]) -> None:
    if not songs.exists():
        pytest.skip("shared data absent")
    out = tmp_path / "lake"
    r = run_etl(sparkify, "--songs", str(songs), "--logs",
                str(SAMPLE / "log_data"), str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "_sparkify_report.json").read_text())
    got = dict(rep["rows"])
    got["matched"] = rep["matched_plays"]
    assert got == expect
    assert rep["quarantined"] == 0
    assert not (out / "_quarantine" / "part-00000.jsonl").exists()
    for table in TABLES:
        assert read_table(out, table).num_rows == expect[table]
    plays = read_table(out, "songplays")
    assert plays.filter(pa.compute.is_valid(plays["song_id"])).num_rows == \
        expect["matched"]


# ---- SIGKILL at any moment ----

def write_kill_input(root: Path, n_songs: int = 200, n_days: int = 10,
                     per_day: int = 8000) -> None:
    rnd = random.Random(7)
    for i in range(n_songs):
        d = root / "song_data" / chr(65 + i % 26) / chr(65 + i // 26 % 26)
        d.mkdir(parents=True, exist_ok=True)
        (d / f"TR{i:06d}.json").write_text(json.dumps({
            "song_id": f"SO{i:06d}", "title": f"Song {i}", "artist_id": f"AR{i % 97:04d}",
            "artist_name": f"Artist {i % 97}", "duration": 100.0 + i, "year": 1990 + i % 20,
            "artist_location": "", "artist_latitude": None, "artist_longitude": None}))
    logs = root / "log_data"
    logs.mkdir(parents=True)
    base = 1541030400000
    for day in range(n_days):
        lines = []
        for k in range(per_day):
            i = rnd.randrange(n_songs)
            lines.append(json.dumps({
                "artist": f"Artist {i % 97}", "auth": "Logged In", "firstName": "A",
                "gender": "F", "itemInSession": k % 50, "lastName": "B",
                "length": 100.0 + i, "level": "free", "location": "X",
                "method": "PUT", "page": "NextSong", "registration": 1.0,
                "sessionId": k // 50 + day * 1000, "song": f"Song {i}", "status": 200,
                "ts": base + day * 86400000 + k * 9000,
                "userAgent": "Mozilla/5.0", "userId": str(k % 500 + 1)}))
        (logs / f"2018-11-{day + 1:02d}-events.json").write_text("\n".join(lines))


def lake_state(out: Path) -> dict[str, int]:
    """Row counts of the tables present; each must be complete."""
    got: dict[str, int] = {}
    for table in TABLES:
        d = out / table
        if not d.exists():
            continue
        assert (d / "_SUCCESS").exists(), table
        got[table] = read_table(out, table).num_rows
    return got


def test_sigkill_never_breaks_the_lake(sparkify: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write_kill_input(src)
    out = tmp_path / "lake"
    t0 = time.monotonic()
    r = run_etl(sparkify, str(src), str(out), "--quiet")
    full = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    want = lake_state(out)
    assert set(want) == set(TABLES) and want["songplays"] > 50000
    kills = 20
    hit = 0
    for i in range(kills):
        delay = full * (i + 0.5) / kills * 1.3
        p = subprocess.Popen([str(sparkify), "etl", str(src), str(out), "--quiet"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        hit += any(x.startswith(".sparkify-staging-") for x in os.listdir(out))
        # every table present is complete and has the previous run's rows
        assert lake_state(out) == want, f"kill {i} after {delay:.3f}s"
        rep = json.loads((out / "_sparkify_report.json").read_text())
        assert rep["rows"]["songplays"] == want["songplays"]
        if i % 5 == 4:
            r = run_etl(sparkify, str(src), str(out), "--quiet")
            assert r.returncode == 0, r.stderr
            assert lake_state(out) == want
            assert not [x for x in os.listdir(out) if x.startswith(".sparkify")]
    assert hit >= kills // 4  # kills landed inside runs, not only after

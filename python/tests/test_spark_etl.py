# SPDX-License-Identifier: Apache-2.0
"""sparkify on Spark (local[2], one session for the run) gives the native
engine's lake row for row: hand-made fixtures with duplicates and every
quarantine case, generated dirty data (plain and gzip), the course data
when present; the C schema is the Spark schema; the Parquet types are
SPEC's."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Iterator, List

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql.pandas.types import to_arrow_schema

import spark_session as ss
from sparkify_spark import _native, job, transforms

SHARED_DATA = ss.ROOT.parent / "shared" / "data"



@pytest.fixture(scope="module")
def spark() -> object:
    return ss.session()


@pytest.fixture(params=["cached", "readers", "split"])
def log_path(request: pytest.FixtureRequest,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every way the job reads local logs: parsed once and cached, or
    (REPARSE_MIN_BYTES and more) two readers that keep in the task what
    their table needs (taskside.py), or one split reader whose users and
    rejects wait in the staging for their tables (job.SideRows: the tasks
    write this lake). Each run is checked to have taken its path."""
    monkeypatch.setattr(job, "REPARSE_MIN_BYTES",
                        1 << 40 if request.param == "cached" else 0)
    monkeypatch.setattr(job, "SPLIT_READ", request.param == "split")
    made: List[object] = []
    init = job.SideRows.__init__

    def counted(self: object, *a: object) -> None:
        made.append(self)
        init(self, *a)  # type: ignore[arg-type]
    monkeypatch.setattr(job.SideRows, "__init__", counted)
    yield str(request.param)
    assert bool(made) == (request.param == "split")


def run_both(spark: object, sparkify: Path, song_root: str, log_root: str,
             tmp: Path) -> dict:
    native, sp = tmp / "native", tmp / "spark"
    ss.native_etl(sparkify, song_root, log_root, native)
    job.run(spark, song_root, log_root, str(sp))  # type: ignore[arg-type]
    return ss.assert_lakes_equal(native, sp)


def test_schema_matches_c(spark: object) -> None:
    for kind, schema in ((_native.SONGS, transforms.SONG_ROWS),
                         (_native.EVENTS, transforms.EVENT_ROWS)):
        c = _native.read_records(kind, b"", "x.json").schema
        want = to_arrow_schema(schema, timezone="UTC")
        assert c.equals(want), f"{c} != {want}"


def test_native_reader_errors() -> None:
    with pytest.raises(_native.LakeError) as e:
        _native.read_records(_native.SONGS, b"\x1f\x8b\x08", "x.json.gz")
    assert "x.json.gz" in str(e.value)
    with pytest.raises(_native.LakeError):
        _native.read_file(_native.SONGS, "/nonexistent/x.json")


def test_fixture_equals_native(spark: object, sparkify: Path,
                               tmp_path: Path, log_path: str) -> None:
    ss.make_fixture(tmp_path / "in")
    counts = run_both(spark, sparkify, str(tmp_path / "in" / "song_data"),
                      str(tmp_path / "in" / "log_data"), tmp_path)
    assert counts["quarantined"] >= 10
    sp = tmp_path / "spark"
    songs = ss.read_table(sp, "songs").to_pylist()
    ids = [r["song_id"] for r in songs]
    assert "SH" not in ids and "SD" not in ids  # hidden files skipped
    s1 = next(r for r in songs if r["song_id"] == "S1")
    assert s1["title"] == "Hello v2" and s1["year"] == 2001  # last wins
    plays = {(r["user_id"], r["session_id"]): r
             for r in ss.read_table(sp, "songplays").to_pylist()}
    assert plays[(10, 1)]["level"] == "free"         # first wins
    assert plays[(10, 1)]["song_id"] == "S3"         # S9 ties: smaller id
    assert plays[(11, 3)]["song_id"] == "S4"         # "112" == 112
    assert plays[(12, 4)]["song_id"] is None         # 0.0011 > 0.001
    users = {r["user_id"]: r for r in ss.read_table(sp, "users").to_pylist()}
    assert users[10]["first_name"] is None           # "" -> NULL
    assert users[10]["level"] == "paid"
    assert users[11]["first_name"] == "Bo"           # later item wins
    q = ss.read_quarantine(sp)
    reasons = {r[2] for r in q}
    assert {"invalid_json", "not_an_object", "missing_field:song_id",
            "wrong_type:duration", "out_of_range:year", "out_of_range:ts",
            "wrong_type:userId", "missing_field:userId"} <= reasons
    assert any("\ufffd" in r[3] for r in q)
    assert all(r[0].startswith(str(tmp_path / "in")) for r in q)
    check_parquet_types(sp)


def check_parquet_types(sp: Path) -> None:
    """SPEC's Parquet types and layout in a lake Spark wrote."""
    f = next((sp / "songplays").rglob("*.parquet"))
    schema = pq.read_schema(f)
    assert schema.field("start_time").type == pa.timestamp("us", tz="UTC")
    assert schema.field("songplay_id").type == pa.int64()
    assert "year" not in schema.names  # a folder, not a column
    t = next((sp / "time").rglob("*.parquet"))
    ts = pq.read_schema(t)
    for c in ("hour", "day", "week", "weekday"):
        assert ts.field(c).type == pa.int32()
    assert (sp / "songs" / "year=__HIVE_DEFAULT_PARTITION__").is_dir()
    assert any(p.name.startswith("artist_id=") for p in
               (sp / "songs" / "year=1999").iterdir())
    for table in transforms.TABLES:
        assert (sp / table / "_SUCCESS").exists()


def test_generated_equals_native(spark: object, sparkify: Path,
                                 tmp_path: Path, log_path: str) -> None:
    """Generated dirty gzip data (the fixture and the course data cover
    plain files)."""
    gen = tmp_path / "gen"
    subprocess.run([str(sparkify), "generate", "--quiet", "--gzip",
                    "--users", "40", "--days", "4", "--catalog", "1500",
                    "--song-files", "400", "--dirty", "0.05", "--seed", "7",
                    str(gen)], check=True)
    manifest = json.loads((gen / "_manifest.json").read_text())
    counts = run_both(spark, sparkify, str(gen / "song_data"),
                      str(gen / "log_data"), tmp_path)
    assert counts["quarantined"] == manifest["quarantined"]
    assert counts["songplays"] == manifest["expected_songplays"]


def test_logs_out_of_time_order_equal_native(spark: object, sparkify: Path,
                                            tmp_path: Path,
                                            log_path: str) -> None:
    """Log lines in no time order (the plays' blobs are then sorted by
    hour in the task, taskside._blobs), duplicated events in other files
    included: the same lake as the native engine's."""
    import random
    gen = tmp_path / "gen"
    subprocess.run([str(sparkify), "generate", "--quiet",
                    "--users", "30", "--days", "3", "--catalog", "800",
                    "--song-files", "200", "--dirty", "0.02", "--seed", "11",
                    str(gen)], check=True)
    rnd = random.Random(5)
    logs = sorted((gen / "log_data").rglob("*.json"))
    assert logs
    for f in logs:
        lines = f.read_bytes().splitlines(keepends=True)
        rnd.shuffle(lines)
        f.write_bytes(b"".join(x if x.endswith(b"\n") else x + b"\n"
                               for x in lines))
    # a copy of a day's lines in another file: identities met twice
    extra = logs[0].with_name("zz-copy.json")
    extra.write_bytes(logs[0].read_bytes())
    counts = run_both(spark, sparkify, str(gen / "song_data"),
                      str(gen / "log_data"), tmp_path)
    assert counts["songplays"] > 100


@pytest.mark.parametrize("songs", ["sparkify-sample", "sparkify-songs-large"])
def test_course_data_equals_native(spark: object, sparkify: Path,
                                   tmp_path: Path, songs: str,
                                   log_path: str) -> None:
    sample = SHARED_DATA / "sparkify-sample"
    if not (SHARED_DATA / songs).is_dir() or not sample.is_dir():
        pytest.skip("shared/data is absent")
    counts = run_both(spark, sparkify, str(SHARED_DATA / songs / "song_data"),
                      str(sample / "log_data"), tmp_path)
    want = {"sparkify-sample": (71, 69, 97, 6813, 6820, 1),
            "sparkify-songs-large": (1943, 1809, 97, 6813, 6820, 39)}[songs]
    plays = ss.read_table(tmp_path / "spark", "songplays")
    matched = plays.num_rows - plays.column("song_id").null_count
    assert (counts["songs"], counts["artists"], counts["users"],
            counts["time"], counts["songplays"], matched) == want
    assert counts["quarantined"] == 0


def test_split_read_fails_cleanly(spark: object, sparkify: Path,
                                  tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The plays job of a split read failing before its readers ran (here:
    the songs to match): the users and quarantine jobs, which wait for the
    side rows, are cancelled instead of waiting forever; the run raises
    the cause and leaves the previous lake as it was."""
    monkeypatch.setattr(job, "REPARSE_MIN_BYTES", 0)
    monkeypatch.setattr(job, "SPLIT_READ", True)
    ss.make_fixture(tmp_path / "in")
    songs, logs = (str(tmp_path / "in" / d) for d in ("song_data", "log_data"))
    lake = tmp_path / "lake"
    job.run(spark, songs, logs, str(lake))  # type: ignore[arg-type]
    before = sorted(str(p.relative_to(lake)) for p in lake.rglob("*"))

    def boom(*_: object) -> None:
        raise RuntimeError("no songs today")
    monkeypatch.setattr(job, "songs_dim", boom)
    t = time.monotonic()
    with pytest.raises(RuntimeError, match="no songs today"):
        job.run(spark, songs, logs, str(lake))  # type: ignore[arg-type]
    assert time.monotonic() - t < 60
    assert sorted(str(p.relative_to(lake)) for p in lake.rglob("*")) == before


def test_side_rows_never_wait_forever(spark: object, tmp_path: Path) -> None:
    """The users and quarantine jobs' wait for the split read's side files
    ends: Cancelled once a job failed, an error naming the folder when the
    plays job ended without writing them all, the rows once all are there."""
    import threading
    from sparkify_spark import taskside, taskwrite
    ss.make_fixture(tmp_path / "in")
    logs = job.LocalInputs(
        spark, str(tmp_path / "in" / "log_data"),  # type: ignore[arg-type]
        "shown")
    stage = tmp_path / "stage"
    (stage / job.SIDE_DIR).mkdir(parents=True)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(taskwrite.Cancelled):
        job.SideRows(spark,  # type: ignore[arg-type]
                     logs).rows(str(stage), cancel)
    side = job.SideRows(spark, logs)  # type: ignore[arg-type]
    side.plays_ended.set()
    with pytest.raises(RuntimeError, match="ended without"):
        side.rows(str(stage), threading.Event())
    schema = _native.read_records(_native.EVENTS, b"", "-",
                                  columns=taskside.SMALL_COLS).schema
    for i in range(len(logs.parts)):
        taskside.write_side(str(stage / job.SIDE_DIR), i, schema, [])
    rows = side.rows(str(stage), threading.Event())
    assert rows.count() == 0
    side.close()


def test_workers_freeze_their_modules(spark: object) -> None:
    """A Python worker that imports the package moves what it holds out of
    the cyclic collector's reach (sparkify_spark/__init__.py); the driver,
    which is no Spark worker, does not."""
    import gc

    def frozen(batches):  # type: ignore[no-untyped-def]
        import gc as worker_gc

        import sparkify_spark  # noqa: F401
        for b in batches:
            yield pa.record_batch(
                [pa.array([worker_gc.get_freeze_count()] * b.num_rows)],
                names=["n"])
    rows = spark.range(2).mapInArrow(  # type: ignore[attr-defined]
        frozen, "n long").collect()
    assert all(r["n"] > 10_000 for r in rows), rows
    assert gc.get_freeze_count() == 0

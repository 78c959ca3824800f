# SPDX-License-Identifier: Apache-2.0
"""How the job finds and reads its inputs (job.read_parsed): local roots on
local[...] are listed by liblake on the driver (_native.list_files, the
native engine's lister) and read by path in C; anything else goes through
binaryFile. Checked: which roots take which way; the native listing is
the one used, and gives the native engine's lake row for row on a tree
with hidden files and folders, '_' folders, .gz files, nested folders,
symlinks (to a file, to a folder, a loop, a dangling one) and a name that
is not UTF-8; binaryFile on the same tree (without the links it cannot
follow) gives the same lake; an empty root; a missing root is a clear
error; the packing of files into partitions."""
from __future__ import annotations

import gzip
import os
import re
from pathlib import Path
from typing import Any, List

import pyarrow.parquet as pq
import pytest

import spark_session as ss
from sparkify_spark import _native, job, transforms


@pytest.fixture(scope="module")
def spark() -> object:
    return ss.session()


def make_tree(root: Path, links: bool) -> None:
    """Songs and logs with every listing rule; @links adds a symlink
    loop, a dangling link and a file name that is not UTF-8 (which the
    native lister handles and Hadoop's does not)."""
    s = root / "song_data"
    for d in ("A/B/C", "A/B/D", "_tmp", ".git", "A/_skip", "A/.h", "E/F"):
        (s / d).mkdir(parents=True)
    (s / "A" / "B" / "C" / "s1.json").write_bytes(ss.jl(
        ss.song("S1", "Hello", "AR1", "Band", 200.0, 2000)))
    (s / "A" / "B" / "D" / "s2.jsonl").write_bytes(ss.jl(
        ss.song("S2", "World", "AR2", "Other", 100.0, 1999),
        ss.song("S3", "Again", "AR1", "Band", 50.0)) + b"\n{broken\n")
    (s / "A" / "s4.json.gz").write_bytes(gzip.compress(ss.jl(
        ss.song("S4", "Zip", "AR4", "Zed", 10.0, 2001), [1, 2])))
    (s / "E" / "F" / "s5.jsonl.gz").write_bytes(gzip.compress(ss.jl(
        ss.song("", "x", "AR5", "y", 1.0))))
    for hidden in ("_tmp/h1.json", ".git/h2.json", "A/_skip/h3.json",
                   "A/.h/h4.json", "A/.h5.json", "A/_h6.json"):
        (s / hidden).write_bytes(ss.jl(ss.song("SH", "h", "AH", "h", 1.0)))
    (s / "A" / "notes.txt").write_bytes(b"{}")
    (s / "A" / "upper.JSON").write_bytes(b"{}")
    # a link to a file and one to a folder: listed under their names
    (s / "flink.json").symlink_to(s / "A" / "B" / "C" / "s1.json")
    (s / "dlink").symlink_to(s / "A" / "B" / "D")
    if links:
        (s / "A" / "B" / "loop").symlink_to(s / "A")
        (s / "gone.json").symlink_to(root / "nowhere.json")
        with open(os.fsencode(s / "A") + b"/bad\xff\xfename.json", "wb") as f:
            f.write(ss.jl(ss.song("S6", "Odd", "AR6", "Odd", 3.0)) +
                    b"\n{bad\n")
    lg = root / "log_data"
    (lg / "2018" / "11").mkdir(parents=True)
    (lg / "_old").mkdir()
    (lg / "2018" / "11" / "e1.json").write_bytes(ss.jl(
        ss.event(ss.T, "10", 1, 0, song="Hello", artist="Band",
                 length=200.0, level="free", firstName="Ann"),
        ss.event(ss.T + 1000, "11", 2, 0, song="Zip", artist="Zed",
                 length=10.0),
        "just a string"))
    (lg / "2018" / "11" / "e2.json.gz").write_bytes(gzip.compress(ss.jl(
        ss.event(ss.T + 2000, "12", 3, 0, song="World", artist="Other",
                 length=100.0),
        ss.event(ss.T + 3000, "x", 3, 1, page="Home"))))
    (lg / "_old" / "e0.json").write_bytes(ss.jl(
        ss.event(ss.T, "99", 9, 0, song="Hello", artist="Band")))


def spy_listing(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Record the roots _native.list_files lists; make binaryFile's
    parse function fail, so that a run that uses it cannot pass."""
    listed: List[str] = []
    real = _native.list_files

    def spy(root: Any) -> Any:
        listed.append(os.fsdecode(root))
        return real(root)

    def no_binary_file(*args: Any) -> Any:
        raise AssertionError("binaryFile used for a local root")
    monkeypatch.setattr(job._native, "list_files", spy)
    monkeypatch.setattr(job, "parse_files", no_binary_file)
    return listed


def test_which_roots_are_listed_natively(spark: object,
                                         tmp_path: Path) -> None:
    lp = job.local_input_path
    assert lp("file:/in", "local[2]", False) == "/in"
    assert lp("file:///in", "local", False) == "/in"
    assert lp("s3a://b/in", "local[2]", True) is None
    assert lp("hdfs://nn/in", "yarn", True) is None
    assert lp("file://host/in", "local[2]", False) is None
    assert lp("/in", "local[2]", False) is None  # qualify it first
    # a cluster sees the driver's disk only when the user says so
    assert lp("file:/in", "spark://h:7077", False) is None
    assert lp("file:/in", "spark://h:7077", True) == "/in"
    # in the session: local[2]; a plain path is used as given, made
    # absolute; remote stores are binaryFile's without asking Hadoop
    s: Any = spark
    root = str(tmp_path / "in")
    assert job.local_inputs(s, root) == root
    assert job.local_inputs(s, "file:" + root) == root
    assert job.local_inputs(s, "rel/in") == os.path.join(os.getcwd(),
                                                         "rel/in")
    assert job.local_inputs(s, "s3a://bucket/in") is None  # binaryFile
    assert job.local_inputs(s, "hdfs://nn:8020/in") is None


def test_local_listing_equals_native(spark: object, sparkify: Path,
                                     tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path / "in", links=True)
    listed = spy_listing(monkeypatch)
    songs, logs = str(tmp_path / "in" / "song_data"), \
        str(tmp_path / "in" / "log_data")
    ss.native_etl(sparkify, songs, logs, tmp_path / "native")
    job.run(spark, songs, logs, str(tmp_path / "spark"))  # type: ignore
    assert listed == [songs, logs]
    counts = ss.assert_lakes_equal(tmp_path / "native", tmp_path / "spark")
    ids = sorted(r["song_id"] for r in
                 ss.read_table(tmp_path / "spark", "songs").to_pylist())
    assert ids == ["S1", "S2", "S3", "S4", "S6"]  # no SH: hidden skipped
    assert counts["users"] == 3 and counts["songplays"] == 3
    sources = {q[0] for q in ss.read_quarantine(tmp_path / "spark")}
    assert songs + "/A/bad\ufffd\ufffdname.json" in sources
    assert songs + "/dlink/s2.jsonl" in sources  # via the folder link
    assert logs + "/2018/11/e1.json" in sources
    # the files the lister gives, in byte order, links followed once
    rel = [r for r, _ in _native.list_files(songs)]
    assert rel == [b"A/B/C/s1.json", b"A/B/D/s2.jsonl",
                   b"A/bad\xff\xfename.json", b"A/s4.json.gz",
                   b"E/F/s5.jsonl.gz", b"dlink/s2.jsonl", b"flink.json"]


def test_binary_file_equals_native(spark: object, sparkify: Path,
                                   tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """binaryFile (remote stores, clusters) forced on a local tree gives
    the same lake as the native listing and the native engine."""
    make_tree(tmp_path / "in", links=False)
    songs, logs = str(tmp_path / "in" / "song_data"), \
        str(tmp_path / "in" / "log_data")
    ss.native_etl(sparkify, songs, logs, tmp_path / "native")
    monkeypatch.setattr(job, "local_inputs", lambda *a: None)

    def no_native_listing(root: Any) -> Any:
        raise AssertionError("native listing used")
    monkeypatch.setattr(job._native, "list_files", no_native_listing)
    job.run(spark, songs, logs, str(tmp_path / "spark"))  # type: ignore
    ss.assert_lakes_equal(tmp_path / "native", tmp_path / "spark")


def test_binary_file_listing_knows_the_bytes(
        spark: object, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """binaryFile's listing gives the logs' size (what the plays' shuffle
    is sized by) without a job: the sum of the input files' sizes."""
    make_tree(tmp_path / "in", links=False)
    root = tmp_path / "in" / "log_data"
    monkeypatch.setattr(job, "local_inputs", lambda *a: None)
    _, inputs, n = job.read_parsed(spark, str(root),  # type: ignore
                                   _native.EVENTS)
    assert inputs is None
    want = sum(f.stat().st_size for f in root.rglob("*")
               if f.is_file() and re.search(r"\.jsonl?(\.gz)?$", f.name)
               and not any(p.startswith(("_", "."))
                           for p in f.relative_to(root).parts))
    assert want > 0 and n == want  # Spark skips "_"/"." names too
    monkeypatch.undo()
    _, local, m = job.read_parsed(spark, str(root),  # type: ignore
                                  _native.EVENTS)
    assert local is not None and m == local.bytes


def test_empty_root_equals_native(spark: object, sparkify: Path,
                                  tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    songs, logs = tmp_path / "in" / "song_data", tmp_path / "in" / "log_data"
    (songs / "_hidden").mkdir(parents=True)
    (songs / "_hidden" / "s.json").write_bytes(
        ss.jl(ss.song("S1", "t", "A", "n", 1.0)))
    logs.mkdir()
    (logs / "e.json").write_bytes(ss.jl(
        ss.event(ss.T, "1", 1, 0, song="t", artist="n", length=1.0)))
    listed = spy_listing(monkeypatch)
    ss.native_etl(sparkify, str(songs), str(logs), tmp_path / "native")
    job.run(spark, str(songs), str(logs),  # type: ignore[arg-type]
            str(tmp_path / "spark"))
    assert listed == [str(songs), str(logs)]
    native, sp = tmp_path / "native", tmp_path / "spark"
    for table in ss.TABLE_SCHEMAS:
        assert n_rows(sp, table) == n_rows(native, table), table
        if n_rows(native, table):  # an empty one may have no file to read
            assert ss.read_table(sp, table).equals(
                ss.read_table(native, table)), table
    assert ss.read_quarantine(sp) == ss.read_quarantine(native)
    assert n_rows(sp, "songs") == 0 and n_rows(sp, "songplays") == 1


def n_rows(lake: Path, table: str) -> int:
    return sum(pq.read_metadata(f).num_rows
               for f in (lake / table).rglob("*.parquet"))


def test_missing_root_is_a_clear_error(spark: object, tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    missing = str(tmp_path / "no" / "songs")
    with pytest.raises(_native.LakeError) as e:
        job.run(spark, missing, str(tmp_path / "logs"),  # type: ignore
                str(tmp_path / "lake"))
    assert e.value.code == 5  # LAKE_EIO
    assert missing in str(e.value) and "No such file" in str(e.value)
    assert not (tmp_path / "lake").exists()
    (tmp_path / "file.json").write_bytes(b"{}")
    with pytest.raises(_native.LakeError, match="not a folder"):
        _native.list_files(tmp_path / "file.json")  # type: ignore[arg-type]


def test_pack_files() -> None:
    """Spark's packing: the split is the total cost over the cores
    (between open cost and max bytes), biggest first, next fit."""
    files = [(b"a", 10), (b"b", 50), (b"c", 30), (b"d", 30), (b"e", 0)]
    # total cost 120 + 5 * 10 = 170; split 85 over 2 cores
    assert job.pack_files(files, 2, 10, 1000) == [
        [(b"b", 50)], [(b"c", 30), (b"d", 30)], [(b"a", 10), (b"e", 0)]]
    # the split never goes over max bytes, nor under the open cost
    assert [len(p) for p in job.pack_files(files, 1, 10, 40)] == [1, 1, 1, 2]
    assert len(job.pack_files(files, 100, 60, 1000)) == 5
    assert job.pack_files([], 2, 10, 1000) == []
    # the same list in any order packs the same
    assert job.pack_files(files[::-1], 2, 10, 1000) == \
        job.pack_files(files, 2, 10, 1000)


def test_one_task_per_pack(spark: object) -> None:
    """part_ids puts row i alone in partition i: task i reads pack i."""
    ids: Any = job.part_ids(spark, 5)  # type: ignore[arg-type]
    assert ids.rdd.glom().map(lambda r: [x.id for x in r]).collect() == \
        [[0], [1], [2], [3], [4]]
    empty: Any = job.part_ids(spark, 0)  # type: ignore[arg-type]
    assert empty.count() == 0


@pytest.mark.parametrize("min_bytes,split,cached", [
    (0, False, [transforms.SMALL_ROWS]), (0, True, [transforms.SMALL_ROWS]),
    (1 << 40, True, [transforms.EVENT_ROWS])])
def test_logs_cached_only_when_small(spark: object, sparkify: Path,
                                     tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch,
                                     min_bytes: int, split: bool,
                                     cached: List[Any]) -> None:
    """Local logs of REPARSE_MIN_BYTES or more are not cached: a split
    reader parses them once and leaves users and rejects in the staging
    (job.SideRows), or each of two readers parses them again in C; either
    way only the small rows of users and the quarantine are cached.
    Smaller logs are cached whole. All give the native engine's lake."""
    make_tree(tmp_path / "in", links=False)
    songs, logs = str(tmp_path / "in" / "song_data"), \
        str(tmp_path / "in" / "log_data")
    ss.native_etl(sparkify, songs, logs, tmp_path / "native")
    monkeypatch.setattr(job, "REPARSE_MIN_BYTES", min_bytes)
    monkeypatch.setattr(job, "SPLIT_READ", split)
    persisted: List[Any] = []
    cls = type(spark.range(1))  # type: ignore  # pyspark 4: classic DataFrame
    real = cls.persist

    def persist(self: Any, *args: Any, **kw: Any) -> Any:
        persisted.append(self.schema.names)
        return real(self, *args, **kw)
    monkeypatch.setattr(cls, "persist", persist)
    job.run(spark, songs, logs, str(tmp_path / "spark"))  # type: ignore
    assert persisted == [transforms.SONG_ROWS.names] + [c.names
                                                        for c in cached]
    ss.assert_lakes_equal(tmp_path / "native", tmp_path / "spark")

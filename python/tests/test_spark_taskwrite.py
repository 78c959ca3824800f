# SPDX-License-Identifier: Apache-2.0
"""Task-side writes of local lakes (sparkify_spark/taskwrite.py): folder
names are the native engine's (Spark's escaping), a failing task leaves
the previous lake as it was and no staging behind, a rerun replaces every
table, a dead run's staging is removed and a live one's kept, an empty
unpartitioned table still has its schema, the Parquet schema is the
native engine's, a failed publish without RENAME_EXCHANGE puts the old
tables back, NULL and "" make one partition file, a task whose staging
is gone fails instead of recreating it, which lakes the tasks write. Rows
equal to the native engine's are checked by test_spark_etl.py, which
writes local lakes."""
from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from typing import Any, Dict, List

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

import spark_session as ss
from sparkify_spark import _native, job, taskwrite, transforms


@pytest.fixture(scope="module")
def spark() -> object:
    return ss.session()


def tree(root: Path) -> Dict[str, bytes]:
    """Every file below @root with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def folders(root: Path) -> List[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_dir())


def test_partition_names() -> None:
    """The task-side writer names folders with liblake, through
    _native.partition_name (lake_hive_partition_name)."""
    pn = _native.partition_name
    assert pn("year", 1998) == "year=1998"
    assert pn("year", None) == "year=__HIVE_DEFAULT_PARTITION__"
    assert pn("artist_id", "") == "artist_id=__HIVE_DEFAULT_PARTITION__"
    assert pn("artist_id", "__HIVE_DEFAULT_PARTITION__") == \
        "artist_id=%5F_HIVE_DEFAULT_PARTITION__"
    assert pn("a", "x/y=z%") == "a=x%2Fy%3Dz%25"
    assert pn("a", "\"#'*:?\\{[]^\x7f\x01\x1f") == \
        "a=%22%23%27%2A%3A%3F%5C%7B%5B%5D%5E%7F%01%1F"
    assert pn("a", "é ü-_.~!") == "a=é ü-_.~!"   # not escaped, as Spark
    assert pn("a", "..") == "a=%2E%2E"
    long = pn("a", "é" * 150)
    assert len(long.encode()) <= 255 and "~" in long
    # the binding: bytes that are not UTF-8 round-trip (surrogateescape),
    # NUL counts by length, 1 / True / "1" are cached apart
    assert pn("a", "x\udcff") == "a=x\udcff"
    assert pn("a", "a\0b") == "a=a%00b"
    assert (pn("b", 1), pn("b", True), pn("b", "1")) == ("b=1", "b=True",
                                                          "b=1")
    for column in ("", "c" * 38):
        with pytest.raises(_native.LakeError) as e:
            pn(column, "v")
        assert e.value.code == 1  # LAKE_EINVAL
        assert "column is NULL, empty or escapes to over 37 bytes" in \
            str(e.value)
    with pytest.raises(ValueError):
        pn("a\0b", "v")


def test_folder_names_equal_native(spark: object, sparkify: Path,
                                   tmp_path: Path) -> None:
    """Values to escape, NULL, the literal default, an overlong id: the
    task-side writer names every folder as the native engine does."""
    s = tmp_path / "in" / "song_data"
    s.mkdir(parents=True)
    ids = ["AR/1=x%", "ARé", "__HIVE_DEFAULT_PARTITION__", "AR" + "z" * 300,
           "AR:[2]^", ".", "AR\"q'*?"]
    (s / "a.json").write_bytes(ss.jl(*[
        ss.song(f"S{i}", "t", a, "n", 1.0, 1990 + i % 2)
        for i, a in enumerate(ids)], ss.song("S99", "t", "AR9", "n", 1.0)))
    lg = tmp_path / "in" / "log_data"
    lg.mkdir()
    (lg / "e.json").write_bytes(ss.jl(ss.event(ss.T, "1", 1, 0, song="t",
                                               artist="n", length=1.0)))
    native, sp = tmp_path / "native", tmp_path / "spark"
    ss.native_etl(sparkify, str(s), str(lg), native)
    job.run(spark, str(s), str(lg), str(sp))  # type: ignore[arg-type]
    for table in ("songs", "songplays", "time"):
        assert folders(sp / table) == folders(native / table), table
    ss.assert_lakes_equal(native, sp)


def lake_of(spark: object, tmp_path: Path) -> Path:
    ss.make_fixture(tmp_path / "in")
    lake = tmp_path / "lake"
    job.run(spark, str(tmp_path / "in" / "song_data"),  # type: ignore
            str(tmp_path / "in" / "log_data"), str(lake))
    return lake


def test_failing_task_keeps_previous_lake(spark: object,
                                          tmp_path: Path) -> None:
    lake = lake_of(spark, tmp_path)
    before = tree(lake)
    assert not list(lake.rglob("*.crc"))  # our writer, not Spark's
    good = spark.range(50).select(  # type: ignore[attr-defined]
        F.col("id").alias("user_id"), F.lit("x").alias("first_name"))
    bad = spark.range(50).select(  # type: ignore[attr-defined]
        F.col("id").alias("year"),
        F.when(F.col("id") == 42, F.raise_error(F.lit("boom")))
        .otherwise(F.lit(1)).alias("month"))
    with pytest.raises(Exception, match="boom"):
        taskwrite.write_tables(str(lake), [
            taskwrite.TableJob("users", good),
            taskwrite.TableJob("time", bad, ["year"])])
    assert tree(lake) == before
    assert not (lake / taskwrite.STAGING).exists()


def test_rerun_replaces_tables(spark: object, tmp_path: Path) -> None:
    lake = lake_of(spark, tmp_path)
    first = {t: ss.read_table(lake, t) for t in ss.TABLE_SCHEMAS}
    old_files = set(tree(lake))
    job.run(spark, str(tmp_path / "in" / "song_data"),  # type: ignore
            str(tmp_path / "in" / "log_data"), str(lake))
    for t, rows in first.items():
        assert ss.read_table(lake, t).equals(rows), t
        assert (lake / t / "_SUCCESS").exists()
    # every data file is new: the old tables went, not merged
    data = {f for f in tree(lake) if f.endswith((".parquet", ".json"))}
    assert not data & old_files
    assert not (lake / taskwrite.STAGING).exists()


def test_dead_staging_removed_live_kept(spark: object, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    stage = lake / taskwrite.STAGING
    (stage / "dead" / "songs").mkdir(parents=True)
    (stage / "dead" / "songs" / "part-0.parquet").write_bytes(b"x")
    (stage / "dead.lock").touch()  # an older version's lock file
    (stage / "live" / "songs").mkdir(parents=True)
    fd = os.open(stage / "live", os.O_RDONLY | os.O_DIRECTORY)
    try:
        # Held on another open file description: as another process would.
        fcntl.flock(fd, fcntl.LOCK_EX)
        ss.make_fixture(tmp_path / "in")
        job.run(spark, str(tmp_path / "in" / "song_data"),  # type: ignore
                str(tmp_path / "in" / "log_data"), str(lake))
        assert not (stage / "dead").exists()
        assert not (stage / "dead.lock").exists()
        assert (stage / "live" / "songs").is_dir()
    finally:
        os.close(fd)
    assert (lake / "songs" / "_SUCCESS").exists()


def test_empty_unpartitioned_table_has_schema(spark: object,
                                              tmp_path: Path) -> None:
    df = spark.createDataFrame([], transforms.SONG_ROWS)  # type: ignore
    df = df.select("artist_id", F.col("artist_name").alias("name"))
    lake = tmp_path / "lake"
    taskwrite.write_tables(str(lake), [taskwrite.TableJob("artists", df)])
    files = list((lake / "artists").glob("*.parquet"))
    assert len(files) == 1
    t = pq.read_table(files[0])
    assert t.num_rows == 0 and t.schema.names == ["artist_id", "name"]
    assert (lake / "artists" / "_SUCCESS").exists()


def write_parquet(path: Path, rows: int) -> int:
    pq.write_table(pa.table({"a": list(range(rows))}), path)
    return path.stat().st_size


def manifest(paths: List[Any], rows: List[int], sizes: List[int]) -> Any:
    n = len(paths)
    return pa.table({"path": paths, "rows": rows, "bytes": sizes,
                     "task": [0] * n, "attempt": [7] * n,
                     "table": ["t"] * n},
                    schema=taskwrite.MANIFEST_ARROW)


def test_manifest_mismatch_is_refused(tmp_path: Path) -> None:
    st = tmp_path / "t"
    st.mkdir()
    size = write_parquet(st / "f.parquet", 4)
    cases = [
        manifest(["f.parquet", None], [3, 4], [size, 0]),    # rows given
        manifest(["f.parquet", None], [4, 4], [size + 1, 0]),  # size
        manifest(["f.parquet", "f.parquet", None], [2, 2, 4],
                 [size, size, 0]),                            # twice
    ]
    for m in cases:
        with pytest.raises(taskwrite.PublishError):
            taskwrite.check_manifest("t", str(st), m)
    # the footer holds 4 rows: a task's report of 5 is refused
    with pytest.raises(taskwrite.PublishError, match="holds 4 rows"):
        taskwrite.check_manifest(
            "t", str(st), manifest(["f.parquet", None], [5, 5], [size, 0]))
    # files (and folders) not in the manifest are removed, whatever the
    # attempt ids
    (st / "other-attempt.parquet").write_bytes(b"zz")
    (st / "y=1").mkdir()
    (st / "y=1" / "stray.parquet").write_bytes(b"zz")
    taskwrite.check_manifest(
        "t", str(st), manifest(["f.parquet", None], [4, 4], [size, 0]))
    assert sorted(os.listdir(st)) == ["f.parquet"]


@pytest.mark.parametrize("how", ["fails", "interrupted after",
                                 "exchange fails"])
def test_fallback_publish_puts_old_tables_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """No RENAME_EXCHANGE (two renames): the second rename of the second
    table fails, or an interrupt lands right after it; or, with the
    exchange, the second table's exchange fails: both old tables are back
    in the lake, the new ones in the staging."""
    lake, staged = tmp_path / "lake", tmp_path / "lake" / "_staging" / "r"
    for t in ("a", "b"):
        (lake / t).mkdir(parents=True)
        (lake / t / "old.parquet").write_bytes(b"old " + t.encode())
        (staged / t).mkdir(parents=True)
        (staged / t / "new.parquet").write_bytes(b"new " + t.encode())
    before = {k: v for k, v in tree(lake).items() if k.startswith(("a", "b"))}
    real_exchange, real = taskwrite.exchange, os.rename
    if how == "exchange fails":
        def exchange(a: str, b: str) -> bool:
            if b == str(lake / "b"):
                raise OSError(errno.EIO, "injected", a, None, b)
            return real_exchange(a, b)
        monkeypatch.setattr(taskwrite, "exchange", exchange)
    else:
        monkeypatch.setattr(taskwrite, "exchange", lambda a, b: False)

    def rename(src: Any, dst: Any) -> None:
        if (str(src), str(dst)) == (str(staged / "b"), str(lake / "b")):
            if how == "fails":
                raise OSError(errno.EIO, "injected", str(src))
            real(src, dst)
            raise KeyboardInterrupt
        real(src, dst)
    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(KeyboardInterrupt if how == "interrupted after"
                       else OSError):
        taskwrite.publish(str(lake), str(staged), ["a", "b"])
    monkeypatch.undo()
    after = {k: v for k, v in tree(lake).items() if k.startswith(("a", "b"))}
    assert after == before
    assert (staged / "b" / "new.parquet").exists()
    assert not (staged / "a.old").exists() and not (staged / "b.old").exists()


def test_exchange_error_names_both_paths(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    try:
        taskwrite.exchange(str(a), str(b))
    except OSError as e:
        assert e.errno == errno.ENOENT
        assert (e.filename, e.filename2) == (str(a), str(b))
    else:
        pytest.fail("no error for missing paths")


def test_sync_calls(tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        taskwrite.syncfs(fd)
    finally:
        os.close(fd)
    taskwrite.fsync_dir(str(tmp_path))
    with pytest.raises(OSError):
        taskwrite.syncfs(-1)


def test_null_and_empty_make_one_file(tmp_path: Path) -> None:
    st = tmp_path / "t"
    st.mkdir()
    schema = pa.schema([("id", pa.int64()), ("artist_id", pa.string())])
    batch = pa.record_batch([pa.array([1, 2, 3]),
                             pa.array([None, "", "x"])], schema=schema)
    fn = taskwrite.file_writer(str(st), ["artist_id"], schema, "run")
    m = pa.Table.from_batches(list(fn(iter([batch]))))
    files = [p for p in m.column("path").to_pylist() if p]
    assert len(files) == 2
    default = list((st / "artist_id=__HIVE_DEFAULT_PARTITION__").iterdir())
    assert len(default) == 1 and pq.read_table(default[0]).num_rows == 2
    # every column OPTIONAL, as Spark writes, though "id" came required
    schema_req = pa.schema([pa.field("id", pa.int64(), nullable=False)])
    fn = taskwrite.file_writer(str(st), [], schema_req, "run2")
    m = pa.Table.from_batches(list(fn(iter([pa.record_batch(
        [pa.array([1])], schema=schema_req)]))))
    f = st / m.column("path")[0].as_py()
    assert pq.ParquetFile(f).schema.column(0).max_definition_level == 1


def test_task_without_staging_fails(tmp_path: Path) -> None:
    """A task that outlives its run (the staging removed) fails instead
    of building the staging anew."""
    st = tmp_path / "_staging" / "r" / "t"
    schema = pa.schema([("id", pa.int64()), ("y", pa.int32())])
    batch = pa.record_batch([pa.array([1]), pa.array([1], pa.int32())],
                            schema=schema)
    for parts in ([], ["y"]):
        fn = taskwrite.file_writer(str(st), parts, schema, "r")
        with pytest.raises(FileNotFoundError):
            list(fn(iter([batch])))
        fn = taskwrite.json_writer(str(st), "r")
        with pytest.raises(FileNotFoundError):
            list(fn(iter([batch])))
    assert not (tmp_path / "_staging").exists()


def test_parquet_schema_equals_spark_writer_and_native(
        spark: object, sparkify: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The Parquet schema of the task-written files is Spark's writer's
    (every column OPTIONAL); names, physical and logical types are also
    the native engine's, which marks never-NULL columns REQUIRED."""
    lake = lake_of(spark, tmp_path)
    native, by_spark = tmp_path / "native", tmp_path / "by-spark"
    ss.native_etl(sparkify, str(tmp_path / "in" / "song_data"),
                  str(tmp_path / "in" / "log_data"), native)
    monkeypatch.setattr(job, "task_writes", lambda s, lake: None)
    job.run(spark, str(tmp_path / "in" / "song_data"),  # type: ignore
            str(tmp_path / "in" / "log_data"), str(by_spark))
    assert list(by_spark.rglob("*.crc"))  # Spark's writer wrote this one

    def columns(table_dir: Path) -> List[tuple]:
        f = next(p for p in sorted(table_dir.rglob("*.parquet"))
                 if pq.read_metadata(p).num_rows)
        s = pq.ParquetFile(f).schema
        return [(c.path, c.physical_type, str(c.logical_type),
                 c.converted_type, c.max_definition_level,
                 c.max_repetition_level) for c in
                (s.column(i) for i in range(len(s)))]

    def types(cols: List[tuple]) -> List[tuple]:
        return [c[:4] for c in cols]
    for table in ("songplays", "songs", "artists", "users", "time"):
        ours = columns(lake / table)
        assert ours == columns(by_spark / table), table
        assert types(ours) == types(columns(native / table)), table
        assert all(c[4] == 1 for c in ours), table  # OPTIONAL


def test_which_lakes_the_tasks_write() -> None:
    tw = job.task_write_path
    assert tw("file:/lake", "local[2]", False, False) == "/lake"
    assert tw("file:///lake", "local", False, False) == "/lake"
    # a plain path is the cluster's default file system (HDFS on YARN)
    assert tw("/lake", "local[2]", False, False) is None
    assert tw("hdfs://nn/lake", "yarn", True, False) is None
    assert tw("file://host/lake", "local[2]", False, False) is None
    # local disk on a cluster only when asked for (a shared folder)
    assert tw("file:/lake", "spark://h:7077", False, False) is None
    assert tw("file:/lake", "spark://h:7077", True, False) == "/lake"
    assert tw("file:/lake", "local[2]", False, True) is None  # speculation


def test_user_settings_are_kept(tmp_path: Path) -> None:
    (tmp_path / "spark-defaults.conf").write_text(
        "# comment\n"
        "spark.driver.extraJavaOptions   -XX:+UseG1GC -Dx=1\n"
        "spark.sql.adaptive.enabled=true\n")
    conf = job.conf_files(str(tmp_path), "--conf spark.sql.shuffle."
                          "partitions=64 --driver-java-options '-Da=b' "
                          "pyspark-shell")
    assert conf["spark.sql.adaptive.enabled"] == "true"
    assert conf["spark.sql.shuffle.partitions"] == "64"
    assert conf["spark.driver.extraJavaOptions"] == "-Da=b"  # CLI wins
    conf = job.conf_files(str(tmp_path), "")
    assert conf["spark.driver.extraJavaOptions"] == "-XX:+UseG1GC -Dx=1"
    d = job.session_defaults(conf)
    assert "spark.driver.extraJavaOptions" not in d
    assert "spark.sql.adaptive.enabled" not in d
    assert d["spark.sql.codegen.wholeStage"] == "false"

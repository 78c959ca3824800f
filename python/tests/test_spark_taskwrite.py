# SPDX-License-Identifier: Apache-2.0
"""Task-side writes of local lakes (sparkify_spark/taskwrite.py): folder
names are the native engine's (Spark's escaping), a failing task leaves
the previous lake as it was and no staging behind, a rerun replaces every
table, a dead run's staging is removed and a live one's kept, an empty
unpartitioned table still has its schema. Rows equal to the native
engine's are checked by test_spark_etl.py, which writes local lakes."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Dict, List

import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

import spark_session as ss
from sparkify_spark import job, taskwrite, transforms


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
    pn = taskwrite.partition_name
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
    (stage / "dead.lock").touch()
    (stage / "live" / "songs").mkdir(parents=True)
    fd = os.open(stage / "live.lock", os.O_CREAT | os.O_RDWR)
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


def test_manifest_mismatch_is_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    st = tmp_path / "t"
    st.mkdir()
    (st / "f.parquet").write_bytes(b"1234")
    m = pa.table({"path": ["f.parquet", None], "rows": [3, 4],
                  "bytes": [4, 0], "task": [0, 0], "attempt": [0, 0]},
                 schema=taskwrite.MANIFEST_ARROW)
    with pytest.raises(taskwrite.PublishError):
        taskwrite.check_manifest("t", str(st), m)
    # a retried task: files of other attempts are removed
    (st / "old-attempt.parquet").write_bytes(b"zz")
    m = pa.table({"path": ["f.parquet", None], "rows": [4, 4],
                  "bytes": [4, 0], "task": [0, 0], "attempt": [1, 1]},
                 schema=taskwrite.MANIFEST_ARROW)
    taskwrite.check_manifest("t", str(st), m)
    assert sorted(os.listdir(st)) == ["f.parquet"]


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

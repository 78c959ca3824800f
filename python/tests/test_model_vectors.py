# SPDX-License-Identifier: Apache-2.0
"""The model stage against Spark itself: time parts (weekofyear, dayofweek,
...) for a few hundred instants, and partition folder names that Spark's
writer makes for hostile values. One local[1] session (~10 s)."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import subprocess
from pathlib import Path

import pytest

pyspark = pytest.importorskip("pyspark")
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402


@pytest.fixture(scope="module")
def model_dump(build_dir: Path) -> Path:
    exe = build_dir / "model_dump"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run `make` first")
    return exe


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory):
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    s = (SparkSession.builder.master("local[1]")
         .appName("test_model_vectors")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1")
         .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
         .config("spark.sql.sources.partitionColumnTypeInference.enabled",
                 "false")
         .getOrCreate())
    yield s
    s.stop()


def dump(exe: Path, mode: str, lines: list[str]) -> list[str]:
    r = subprocess.run([str(exe), mode], input="\n".join(lines) + "\n",
                       capture_output=True, text=True, check=True)
    return r.stdout.splitlines()


def ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0,
       milli: int = 0) -> int:
    t = dt.datetime(y, mo, d, h, mi, s, milli * 1000, tzinfo=dt.timezone.utc)
    return int(t.timestamp()) * 1000 + milli


def instants() -> list[int]:
    out = [0, -1, 1, -86_400_000, ms(1900, 1, 1), ms(1900, 2, 28, 23, 59),
           ms(1900, 3, 1), ms(2000, 2, 29, 12), ms(2999, 12, 31, 23, 59, 59,
                                                   999),
           1_542_837_407_796]
    # ISO-week edges: Dec 28-31 and Jan 1-4 of many years.
    for y in list(range(1900, 1912)) + list(range(1996, 2030)) + [2100, 2400,
                                                                 2999]:
        for d in (28, 29, 30, 31):
            out.append(ms(y, 12, d, 23, 59, 59, 999))
        for d in (1, 2, 3, 4):
            out.append(ms(y + 1 if y < 2999 else y, 1, d))
    rng = random.Random(20181121)
    lo, hi = ms(1900, 1, 1), ms(3000, 1, 1) - 1
    out += [rng.randint(lo, hi) for _ in range(150)]
    return out


def test_time_parts_match_spark(spark, model_dump: Path) -> None:
    ts = instants()
    ours = {}
    for line in dump(model_dump, "time", [str(t) for t in ts]):
        t, *parts = (int(x) for x in line.split())
        ours[t] = tuple(parts)
    df = spark.createDataFrame([(t,) for t in ts], "ts long")
    st = F.timestamp_millis("ts")
    rows = df.select("ts", F.year(st), F.month(st), F.dayofmonth(st),
                     F.hour(st), F.weekofyear(st), F.dayofweek(st)).collect()
    assert len(rows) == len(ts)
    bad = [(r[0], tuple(r[1:]), ours[r[0]]) for r in rows
           if tuple(r[1:]) != ours[r[0]]]
    assert not bad, bad[:10]


def partition_values() -> list[str | None]:
    vals: list[str | None] = [chr(c) for c in range(1, 128) if chr(c) != "."]
    # "" also gives __HIVE_DEFAULT_PARTITION__ (unit-tested), but beside
    # None it would make Spark's writer open that folder twice.
    vals += [None, "a/b", "../../etc", "%2F", "a=b", "C:\\x", "Beyoncé",
             "日本", "x y", "...", "~", "__HIVE_DEFAULT_PARTITION__x"]
    return vals


def test_partition_names_match_spark(spark, model_dump: Path,
                                     tmp_path: Path) -> None:
    vals = partition_values()
    lines = [
        "63 " + ("-" if v is None else v.encode().hex()) for v in vals
    ]
    ours = {bytes.fromhex(h).decode() for h in dump(model_dump, "part",
                                                    lines)}
    out = tmp_path / "t"
    df = spark.createDataFrame([(i, v) for i, v in enumerate(vals)],
                               "i int, c string")
    df.repartition(1).write.partitionBy("c").parquet(str(out))
    theirs = {p.name for p in out.iterdir() if p.is_dir()}
    assert ours == theirs, (sorted(ours - theirs), sorted(theirs - ours))
    # Spark reads every folder back to its value.
    back = {r["i"]: r["c"] for r in spark.read.parquet(str(out)).collect()}
    for i, v in enumerate(vals):
        assert back[i] == v, (i, v, back[i])


def test_songplay_id_matches_hashlib(model_dump: Path) -> None:
    rng = random.Random(7)
    rows = [(15, 818, 5, 1_542_837_407_796)]
    rows += [tuple(rng.randint(-2**63, 2**63 - 1) for _ in range(4))
             for _ in range(100)]
    got = dump(model_dump, "id", [" ".join(map(str, r)) for r in rows])
    for r, g in zip(rows, got):
        text = "|".join(map(str, r)).encode()
        want = int.from_bytes(hashlib.sha256(text).digest()[:8], "big")
        assert int(g) == want & (2**63 - 1), r
    assert int(got[0]) == 345691552365851248


def test_spark_reads_our_own_rules(spark, model_dump: Path,
                                   tmp_path: Path) -> None:
    """Where we escape beyond Spark ("." "..", NUL, the literal default
    name, long values), Spark still reads each folder back: to the value,
    or for a long one to its shortened name."""
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    long_value = "é" * 150 + "/" * 10
    vals = [".", "..", "a\x00b", "__HIVE_DEFAULT_PARTITION__", long_value]
    names = [bytes.fromhex(h).decode() for h in dump(
        model_dump, "part", ["63 " + v.encode().hex() for v in vals])]
    assert len(set(names)) == len(vals)
    root = tmp_path / "t"
    for i, name in enumerate(names):
        assert len(name.encode()) <= 255 and "/" not in name
        (root / name).mkdir(parents=True)
        pq.write_table(pa.table({"i": [i]}), root / name / "part-0.parquet")
    back = {r["i"]: r["c"] for r in spark.read.parquet(str(root)).collect()}
    for i, v in enumerate(vals[:-1]):
        assert back[i] == v, (i, v, back[i])
    digest = hashlib.sha256(long_value.encode()).hexdigest()
    want = "é" * 100 + "~" + digest[:16]
    assert back[len(vals) - 1] == want

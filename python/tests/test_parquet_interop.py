# SPDX-License-Identifier: Apache-2.0
"""The Parquet writer against independent readers.

tests/tools/pq_random.c writes random tables (every type, NULL pattern,
codec, dictionary and PLAIN, tiny row groups and pages, extremes) with the
exact values beside them in JSON; pyarrow, DuckDB, Polars and Spark must
read back exactly those values and types, and the footer statistics must
match values recomputed from the data.
"""
from __future__ import annotations

import json
import math
import re
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

N_TABLES = 48
SPARK_SEEDS = (0, 1, 3, 4, 5)  # big string, no rows, many groups, extremes, fallback
STATS_MAX_BYTES = 4096
# The library's version, as include/lake.h spells it (created_by holds it).
VERSION = re.search(r'#define LAKE_VERSION_STRING "([^"]+)"',
                    (Path(__file__).resolve().parents[2] / "include" / "lake.h")
                    .read_text()).group(1)  # type: ignore[union-attr]

Norm = Any  # a normalized value: bytes, int, ("f", bits) / "nan", or None


class Table:
    def __init__(self, parquet: Path, spec: dict[str, Any]) -> None:
        self.path = parquet
        self.rows: int = spec["rows"]
        self.codec: str = spec["codec"]
        self.columns: list[dict[str, Any]] = spec["columns"]
        self._expected: dict[int, list[Norm]] = {}

    def expected(self, j: int) -> list[Norm]:
        if j not in self._expected:
            col = self.columns[j]
            self._expected[j] = [_norm_expected(col["type"], v) for v in col["values"]]
        return self._expected[j]


def _norm_double(x: float) -> Norm:
    if math.isnan(x):
        return "nan"
    return ("f", struct.unpack("<Q", struct.pack("<d", x))[0])


def _norm_expected(kind: str, v: Any) -> Norm:
    if v is None:
        return None
    if kind == "string":
        return bytes.fromhex(v)
    if kind == "double":
        return _norm_double(struct.unpack("<d", bytes.fromhex(v)[::-1])[0])
    return int(v)


def _norm_got(kind: str, v: Any) -> Norm:
    if v is None:
        return None
    if kind == "string":
        assert isinstance(v, str)
        return v.encode("utf-8")
    if kind == "double":
        return _norm_double(float(v))
    assert isinstance(v, int) and not isinstance(v, bool)
    return v


@pytest.fixture(scope="session")
def tables(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Table]:
    exe = build_dir / "pq_random"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run `make` first")
    out = tmp_path_factory.mktemp("pq_random")
    subprocess.run([str(exe), str(out), "0", str(N_TABLES)], check=True)
    result = []
    for seed in range(N_TABLES):
        spec = json.loads((out / f"t{seed}.json").read_text())
        result.append(Table(out / f"t{seed}.parquet", spec))
    return result


def _check_column(t: Table, j: int, got: list[Norm], reader: str) -> None:
    want = t.expected(j)
    name = t.columns[j]["name"]
    assert len(got) == len(want), f"{reader} {t.path.name} {name}: row count"
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"{reader} {t.path.name} {name} row {i}: {g!r} != {w!r}"


ARROW_TYPES = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "double": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def test_pyarrow_reads_exact_values(tables: list[Table]) -> None:
    for t in tables:
        table = pq.read_table(t.path)
        assert table.num_rows == t.rows
        for j, col in enumerate(t.columns):
            field = table.schema.field(j)
            assert field.name == col["name"]
            assert field.type == ARROW_TYPES[col["type"]], t.path.name
            assert field.nullable == col["nullable"]
            arr = table.column(j)
            if col["type"] == "timestamp":
                arr = arr.cast(pa.int64())
            got = [_norm_got(col["type"], v) for v in arr.to_pylist()]
            _check_column(t, j, got, "pyarrow")


DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "double": "DOUBLE",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
}


def test_duckdb_reads_exact_values(tables: list[Table]) -> None:
    con = duckdb.connect()
    for t in tables:
        rel = con.sql(f"SELECT * FROM read_parquet('{t.path}')")
        assert [str(x) for x in rel.types] == [
            DUCKDB_TYPES[c["type"]] for c in t.columns
        ], t.path.name
        exprs = [
            f'epoch_us("{c["name"]}")' if c["type"] == "timestamp" else f'"{c["name"]}"'
            for c in t.columns
        ]
        rows = con.sql(
            f"SELECT {', '.join(exprs)} FROM read_parquet('{t.path}')"
        ).fetchall()
        assert len(rows) == t.rows
        for j, col in enumerate(t.columns):
            got = [_norm_got(col["type"], r[j]) for r in rows]
            _check_column(t, j, got, "duckdb")


POLARS_TYPES = {
    "string": pl.String,
    "int32": pl.Int32,
    "int64": pl.Int64,
    "double": pl.Float64,
    "timestamp": pl.Datetime("us", "UTC"),
}


def test_polars_reads_exact_values(tables: list[Table]) -> None:
    for t in tables:
        df = pl.read_parquet(t.path)
        assert df.height == t.rows
        for j, col in enumerate(t.columns):
            s = df.get_column(col["name"])
            assert s.dtype == POLARS_TYPES[col["type"]], t.path.name
            if col["type"] == "timestamp":
                s = s.cast(pl.Int64)
            got = [_norm_got(col["type"], v) for v in s.to_list()]
            _check_column(t, j, got, "polars")


def _expected_stats(
    kind: str, values: list[Norm]
) -> tuple[int, Optional[tuple[Any, Any]]]:
    nulls = sum(v is None for v in values)
    present = [v for v in values if v is not None and v != "nan"]
    if not present:
        return nulls, None
    if kind == "double":
        fl = [struct.unpack("<d", struct.pack("<Q", v[1]))[0] for v in present]
        lo, hi = min(fl), max(fl)
        # Zeros: the minimum is written as -0.0 and the maximum as +0.0.
        return nulls, (-0.0 if lo == 0 else lo, 0.0 if hi == 0 else hi)
    lo, hi = min(present), max(present)
    if kind == "string" and max(len(lo), len(hi)) > STATS_MAX_BYTES:
        return nulls, None
    return nulls, (lo, hi)


def test_footer_statistics_match_the_data(tables: list[Table]) -> None:
    for t in tables:
        md = pq.ParquetFile(t.path).metadata
        assert md.created_by == f"sparkify version {VERSION} (build liblake)"
        kv = md.metadata or {}
        assert kv[b"writer.name"] == b"sparkify liblake"
        assert kv[b"writer.version"] == VERSION.encode()
        assert kv[b"sparkify.table"] == b"random"
        assert md.num_rows == t.rows
        start = 0
        for i in range(md.num_row_groups):
            rg = md.row_group(i)
            assert rg.num_rows > 0
            for j, col in enumerate(t.columns):
                cc = rg.column(j)
                assert cc.compression == t.codec.upper().replace(
                    "NONE", "UNCOMPRESSED"
                )
                st = cc.statistics
                assert st is not None and st.has_null_count
                part = t.expected(j)[start : start + rg.num_rows]
                nulls, minmax = _expected_stats(col["type"], part)
                where = f"{t.path.name} rg {i} {col['name']}"
                assert st.null_count == nulls, where
                assert st.has_min_max == (minmax is not None), where
                if minmax is None:
                    continue
                lo, hi = st.min_raw, st.max_raw
                if col["type"] == "double":
                    assert struct.pack("<d", lo) == struct.pack("<d", minmax[0]), where
                    assert struct.pack("<d", hi) == struct.pack("<d", minmax[1]), where
                else:
                    assert (lo, hi) == minmax, where
            start += rg.num_rows
        assert start == t.rows


def test_shapes_cover_what_they_claim(tables: list[Table]) -> None:
    """The fixed seeds really make what the interop tests rely on."""
    md = {t.path.name: pq.ParquetFile(t.path).metadata for t in tables}
    assert md["t1.parquet"].num_rows == 0
    assert md["t2.parquet"].num_rows == 1
    assert md["t3.parquet"].num_row_groups > 5
    big = max(len(v) for v in tables[0].expected(0) if v is not None)
    assert big > 1 << 20
    fallback = md["t5.parquet"].row_group(0).column(0)
    assert fallback.has_dictionary_page
    assert set(fallback.encodings) >= {"PLAIN", "RLE", "RLE_DICTIONARY"}
    codecs = {t.codec for t in tables}
    assert codecs == {"snappy", "zstd", "none"}
    dict_chunks = plain_chunks = 0
    for m in md.values():
        for i in range(m.num_row_groups):
            for j in range(m.num_columns):
                if m.row_group(i).column(j).has_dictionary_page:
                    dict_chunks += 1
                else:
                    plain_chunks += 1
    assert dict_chunks > 10 and plain_chunks > 10


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pyspark_sql = pytest.importorskip("pyspark.sql")
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("sparkify-parquet-interop")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    # Not stopped here: getOrCreate() shares one session with any other
    # test module of the run, and the JVM ends with the interpreter.
    yield session


SPARK_TYPES = {
    "string": "StringType()",
    "int32": "IntegerType()",
    "int64": "LongType()",
    "double": "DoubleType()",
    "timestamp": "TimestampType()",
}


def test_spark_reads_exact_values(tables: list[Table], spark: Any) -> None:
    for seed in SPARK_SEEDS:
        t = tables[seed]
        df = spark.read.parquet(str(t.path))
        assert [str(f.dataType) for f in df.schema.fields] == [
            SPARK_TYPES[c["type"]] for c in t.columns
        ]
        exprs = [
            f"unix_micros(`{c['name']}`)" if c["type"] == "timestamp" else f"`{c['name']}`"
            for c in t.columns
        ]
        rows = df.selectExpr(*exprs).collect()
        assert len(rows) == t.rows
        for j, col in enumerate(t.columns):
            got = [_norm_got(col["type"], r[j]) for r in rows]
            _check_column(t, j, got, "spark")


def test_spark_splits_by_row_group_offsets(tables: list[Table], spark: Any) -> None:
    """With tiny splits Spark assigns each row group to the split holding
    its midpoint (RowGroup.file_offset, total_compressed_size): a wrong
    offset loses or duplicates rows."""
    t = tables[3]  # many row groups
    assert pq.ParquetFile(t.path).metadata.num_row_groups > 5
    spark.conf.set("spark.sql.files.maxPartitionBytes", "2048")
    spark.conf.set("spark.sql.files.openCostInBytes", "0")
    try:
        df = spark.read.parquet(str(t.path))
        assert df.rdd.getNumPartitions() > 3
        exprs = [
            f"unix_micros(`{c['name']}`)" if c["type"] == "timestamp" else f"`{c['name']}`"
            for c in t.columns
        ]
        rows = df.selectExpr(*exprs).collect()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.unset("spark.sql.files.openCostInBytes")
    assert len(rows) == t.rows
    for j, col in enumerate(t.columns):
        got = [_norm_got(col["type"], r[j]) for r in rows]
        _check_column(t, j, got, "spark (split)")


# Predicates that readers answer with the footer and page statistics and the
# dictionary (row-group pruning): a wrong bound drops rows (NOTES.md §5).
FILTER_SEEDS = (3, 4, 5, 6, 7, 8)


def _probes(t: Table, j: int, bounds_only: bool = False) -> list[tuple[str, Any, int]]:
    """(operator, value, expected count) triples for column j: = at the
    minimum, maximum and a middle value, and >= and <= at each; with
    bounds_only, = and <= at the minimum and = and >= at the maximum."""
    kind = t.columns[j]["type"]
    vals = [v for v in t.expected(j) if v is not None and v != "nan"]
    if not vals:
        return []
    if kind == "double":
        fl = [struct.unpack("<d", struct.pack("<Q", v[1]))[0] for v in vals]
        picks = {min(fl), max(fl), fl[len(fl) // 2]}
        if 0.0 in fl:
            picks.add(0.0)
        # Equality only: NaN ordering differs between engines.
        return [("=", x, sum(1 for y in fl if y == x)) for x in sorted(picks)]
    ordered = sorted(vals)
    lo, hi = ordered[0], ordered[-1]
    if bounds_only:
        return [
            ("=", lo, vals.count(lo)),
            ("<=", lo, vals.count(lo)),
            ("=", hi, vals.count(hi)),
            (">=", hi, vals.count(hi)),
        ]
    picks = {lo, hi, ordered[len(ordered) // 2]}
    out: list[tuple[str, Any, int]] = []
    for x in sorted(picks):
        out.append(("=", x, sum(1 for y in vals if y == x)))
        out.append((">=", x, sum(1 for y in vals if y >= x)))
        out.append(("<=", x, sum(1 for y in vals if y <= x)))
    return out


def _sql_literal(kind: str, x: Any) -> str:
    if kind == "string":
        return "'" + x.decode("utf-8").replace("'", "''") + "'"
    if kind == "timestamp":
        return f"make_timestamp({x}::BIGINT)::TIMESTAMPTZ"
    if kind == "double":
        return f"'{float(x)!r}'::DOUBLE"  # 'inf', '-0.0' parse as text
    return str(x)


def test_duckdb_filters_agree_with_the_data(tables: list[Table]) -> None:
    con = duckdb.connect()
    con.sql("SET TimeZone = 'UTC'")
    for seed in FILTER_SEEDS:
        t = tables[seed]
        for j, col in enumerate(t.columns):
            for op, x, want in _probes(t, j):
                lit = _sql_literal(col["type"], x)
                got = con.sql(
                    f"SELECT count(*) FROM read_parquet('{t.path}') "
                    f'WHERE "{col["name"]}" {op} {lit}'
                ).fetchall()
                assert got[0][0] == want, (
                    f"{t.path.name} {col['name']} {op} {lit}"
                )


def test_spark_filters_agree_with_the_data(tables: list[Table], spark: Any) -> None:
    # One UNION ALL query per file: each branch is its own filtered scan
    # (with Parquet pushdown), and one Spark job answers them all.
    for seed in (4,):  # every type and its extremes; a Spark job is slow
        t = tables[seed]
        view = f"pq_filter_{seed}"
        spark.read.parquet(str(t.path)).createOrReplaceTempView(view)
        branches, wants = [], []
        for j, col in enumerate(t.columns):
            for op, x, want in _probes(t, j, bounds_only=True):
                if col["type"] == "string":
                    text = x.decode("utf-8").replace("\\", "\\\\").replace("'", "\\'")
                    lit = f"'{text}'"
                elif col["type"] == "timestamp":
                    lit = f"timestamp_micros({x})"
                elif col["type"] == "double":
                    lit = f"CAST('{float(x)!r}' AS DOUBLE)"
                else:
                    lit = f"{x}L" if col["type"] == "int64" else str(x)
                branches.append(
                    f"SELECT {len(wants)} AS probe, count(*) AS n FROM {view} "
                    f"WHERE `{col['name']}` {op} {lit}"
                )
                wants.append((f"{col['name']} {op} {lit}", want))
        rows = spark.sql(" UNION ALL ".join(branches)).collect()
        got = {r["probe"]: r["n"] for r in rows}
        for k, (what, want) in enumerate(wants):
            assert got[k] == want, f"{t.path.name} {what}"

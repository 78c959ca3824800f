# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: where the built CLI and library are."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def build_dir() -> Path:
    return Path(os.environ.get("SPARKIFY_BUILD", ROOT / "build"))


@pytest.fixture(scope="session")
def sparkify(build_dir: Path) -> Path:
    exe = build_dir / "sparkify"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run `make` first")
    return exe


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local Spark session for the whole run (UTC everywhere)."""
    pyspark_sql = pytest.importorskip("pyspark.sql")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    s = (pyspark_sql.SparkSession.builder.master("local[1]")
         .appName("sparkify-tests")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1")
         .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
         .getOrCreate())
    yield s
    s.stop()

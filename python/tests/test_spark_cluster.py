# SPDX-License-Identifier: Apache-2.0
"""The job on a standalone cluster (1 master + 2 workers of 1 core, on
127.0.0.1, started by scripts/spark-env.sh), submitted the documented way:
spark-submit --files liblake.so --py-files sparkify_spark.zip job.py. The
executors find the library through SparkFiles and the package through the
zip; the lake equals the native engine's."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import spark_session as ss
from sparkify_spark import job


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    state = tmp_path_factory.mktemp("spark-cluster")
    env = dict(os.environ, SPARKIFY_SPARK_DIR=str(state),
               SPARK_MASTER_PORT=str(free_port()),
               SPARK_MASTER_WEBUI_PORT=str(free_port()))
    script = str(ss.cluster_script())
    r = subprocess.run([script, "start"], env=env, capture_output=True,
                       text=True, check=False, timeout=300)
    try:
        if r.returncode != 0:
            pytest.fail(f"cluster did not start: {r.stderr}")
        url = r.stdout.strip().rsplit("=", 1)[-1]
        yield {"url": url, "state": state, "env": env}
    finally:
        subprocess.run([script, "stop"], env=env, check=False, timeout=120)


def test_cluster_spark_submit_equals_native(cluster: dict, sparkify: Path,
                                            build_dir: Path,
                                            tmp_path: Path) -> None:
    ss.make_fixture(tmp_path / "in")
    zip_path = job.package_zip(tmp_path / job.ZIP_NAME)
    lake = tmp_path / "spark"
    venv_python = sys.executable
    env = dict(os.environ, PYSPARK_PYTHON=venv_python,
               SPARK_LOCAL_IP="127.0.0.1")
    # Neither the package nor the library may come from the checkout on
    # the executors: no PYTHONPATH, no LAKE_LIB.
    env.pop("PYTHONPATH", None)
    env.pop("LAKE_LIB", None)
    cmd = [str(Path(venv_python).parent / "spark-submit"),
           "--master", cluster["url"],
           "--conf", "spark.driver.host=127.0.0.1",
           "--conf", "spark.executor.memory=1g",
           "--conf", f"spark.pyspark.python={venv_python}",
           "--files", str(build_dir / "liblake.so"),
           "--py-files", str(zip_path),
           str(ss.ROOT / "python" / "sparkify_spark" / "job.py"),
           "--songs", str(tmp_path / "in" / "song_data"),
           "--logs", str(tmp_path / "in" / "log_data"), str(lake)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       check=False, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    native = tmp_path / "native"
    ss.native_etl(sparkify, str(tmp_path / "in" / "song_data"),
                  str(tmp_path / "in" / "log_data"), native)
    counts = ss.assert_lakes_equal(native, lake)
    assert counts["songplays"] > 0 and counts["quarantined"] > 0
    # the work ran on the workers' executors
    work = list((cluster["state"] / "work").rglob("stderr"))
    assert work, "no executor ran on the workers"

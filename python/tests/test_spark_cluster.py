# SPDX-License-Identifier: Apache-2.0
"""The job on a standalone cluster (1 master + 2 workers of 1 core, on
127.0.0.1, started by scripts/spark-env.sh), submitted the documented way
(spark-submit --files liblake.so --py-files sparkify_spark.zip job.py),
reading and writing s3a:// on the S3 test server (s3proxy, SigV4 verified,
scripts/s3-server.sh) through the S3A magic committer.

Checked: the executors get the library and the package only from
--files/--py-files; the lake equals the native engine's row for row, and
the quarantine too; every table's _SUCCESS is the magic committer's JSON
manifest; no multipart upload and no __magic folder is left behind. One
spark-submit covers cluster and S3 (local paths run on local[2] in
test_spark_etl.py); without the S3 server or the S3A jars it runs on local
paths and says so."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest

import spark_session as ss
from sparkify_spark import job, transforms

BUCKET = "sparkify-spark"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def have_s3a_jars() -> bool:
    import pyspark
    jars = Path(pyspark.__file__).parent / "jars"
    return any(jars.glob("hadoop-aws-*.jar")) and \
        any(jars.glob("spark-hadoop-cloud_*.jar"))


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
        yield {"url": url, "state": state}
    finally:
        subprocess.run([script, "stop"], env=env, check=False, timeout=120)


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Optional[dict]]:
    script = ss.ROOT / "scripts" / "s3-server.sh"
    if not script.exists() or not have_s3a_jars():
        yield None
        return
    d = tmp_path_factory.mktemp("s3a")
    port = free_port()
    key, secret = "SPARKIFY" + secrets.token_hex(6).upper(), \
        secrets.token_hex(20)
    env = dict(os.environ, S3_SERVER_ACCESS_KEY=key,
               S3_SERVER_SECRET_KEY=secret, AWS_ACCESS_KEY_ID=key,
               AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1",
               AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    r = subprocess.run([str(script), "start", str(port), str(d)], env=env,
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.fail(f"s3 server did not start: {r.stderr}")
    try:
        yield {"endpoint": f"http://127.0.0.1:{port}", "env": env}
    finally:
        subprocess.run([str(script), "stop", str(port), str(d)], env=env,
                       check=False)


def s3_tool(build_dir: Path, env: dict, *args: str) -> bytes:
    r = subprocess.run([str(build_dir / "s3_tool"), *args], env=env,
                       capture_output=True, check=False)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


def upload(build_dir: Path, env: dict, local: Path, prefix: str) -> None:
    s3_tool(build_dir, env, "mb", BUCKET)
    for f in sorted(local.rglob("*")):
        if f.is_file():
            key = prefix + f.relative_to(local).as_posix()
            s3_tool(build_dir, env, "put", BUCKET, key, str(f))


def download(build_dir: Path, env: dict, prefix: str, out: Path) -> list:
    listing = s3_tool(build_dir, env, "ls", BUCKET, prefix).decode()
    keys = [ln.split("\t", 1)[1] for ln in listing.splitlines() if ln]
    # Skip folder markers ("a/", or an empty "a" beside "a/...").
    files = [k for k in keys if not k.endswith("/") and
             not any(o.startswith(k + "/") for o in keys)]
    for key in files:
        dst = out / key[len(prefix):]
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(s3_tool(build_dir, env, "get", BUCKET, key))
    return keys


def test_cluster_spark_submit_equals_native(cluster: dict,
                                            s3: Optional[dict],
                                            sparkify: Path, build_dir: Path,
                                            tmp_path: Path) -> None:
    local_in = tmp_path / "in"
    ss.make_fixture(local_in)
    zip_path = job.package_zip(tmp_path / job.ZIP_NAME)
    venv_python = sys.executable
    env = dict(s3["env"] if s3 else os.environ, PYSPARK_PYTHON=venv_python,
               SPARK_LOCAL_IP="127.0.0.1")
    # Neither the package nor the library may come from the checkout on
    # the executors: no PYTHONPATH, no LAKE_LIB.
    env.pop("PYTHONPATH", None)
    env.pop("LAKE_LIB", None)
    if s3:
        upload(build_dir, env, local_in, "in/")
        args = ["--s3-endpoint", s3["endpoint"], f"s3a://{BUCKET}/in",
                f"s3a://{BUCKET}/lake"]
    else:
        print("S3 server or S3A jars missing: cluster run on local paths")
        args = [str(local_in), str(tmp_path / "lake")]
    cmd = [str(Path(venv_python).parent / "spark-submit"),
           "--master", cluster["url"],
           "--conf", "spark.driver.host=127.0.0.1",
           "--conf", "spark.executor.memory=1g",
           "--conf", f"spark.pyspark.python={venv_python}",
           "--files", str(build_dir / "liblake.so"),
           "--py-files", str(zip_path),
           str(ss.ROOT / "python" / "sparkify_spark" / "job.py"), *args]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       check=False, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    # the tasks ran in executors on the workers
    assert list((cluster["state"] / "work").rglob("stderr"))

    native = tmp_path / "native"
    ss.native_etl(sparkify, str(local_in / "song_data"),
                  str(local_in / "log_data"), native)
    if not s3:
        counts = ss.assert_lakes_equal(native, tmp_path / "lake")
        assert counts["songplays"] > 0 and counts["quarantined"] > 0
        return

    assert env["AWS_SECRET_ACCESS_KEY"] not in r.stderr + r.stdout
    lake = tmp_path / "lake"
    keys = download(build_dir, env, "lake/", lake)
    assert not any("__magic" in k for k in keys), keys
    counts = ss.assert_lakes_equal(
        native, lake, source_map=(str(local_in), f"s3a://{BUCKET}/in"))
    assert counts["songplays"] > 0 and counts["quarantined"] > 0
    for table in transforms.TABLES:
        manifest = json.loads((lake / table / "_SUCCESS").read_text())
        assert manifest["committer"] == "magic", manifest
        assert manifest["filenames"], manifest
    assert s3_tool(build_dir, env, "uploads", BUCKET).strip() == b""


def test_cluster_split_read_equals_native(cluster: dict, sparkify: Path,
                                          build_dir: Path,
                                          tmp_path: Path) -> None:
    """Local logs read once (job.SideRows) on the 2-worker cluster: inputs
    and lake on a disk every executor sees (the opt-ins), the logs counted
    as large (spark.sparkify.reparseMinBytes=0). The side files come from
    executor processes, the driver waits for them: the lake equals the
    native one."""
    local_in = tmp_path / "in"
    ss.make_fixture(local_in)
    zip_path = job.package_zip(tmp_path / job.ZIP_NAME)
    venv_python = sys.executable
    env = dict(os.environ, PYSPARK_PYTHON=venv_python,
               SPARK_LOCAL_IP="127.0.0.1")
    env.pop("PYTHONPATH", None)
    env.pop("LAKE_LIB", None)
    lake = tmp_path / "lake"
    cmd = [str(Path(venv_python).parent / "spark-submit"),
           "--master", cluster["url"],
           "--conf", "spark.driver.host=127.0.0.1",
           "--conf", "spark.executor.memory=1g",
           "--conf", f"spark.pyspark.python={venv_python}",
           "--conf", f"{job.LOCAL_INPUTS_CONF}=true",
           "--conf", f"{job.TASK_WRITE_CONF}=true",
           "--conf", f"{job.REPARSE_CONF}=0",
           "--files", str(build_dir / "liblake.so"),
           "--py-files", str(zip_path),
           str(ss.ROOT / "python" / "sparkify_spark" / "job.py"),
           str(local_in), str(lake)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       check=False, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    # spark-submit passes the driver's stderr on to its stdout
    assert "sparkify_spark: logs read split;" in r.stdout + r.stderr
    native = tmp_path / "native"
    ss.native_etl(sparkify, str(local_in / "song_data"),
                  str(local_in / "log_data"), native)
    counts = ss.assert_lakes_equal(native, lake)
    assert counts["songplays"] > 0 and counts["quarantined"] > 0
    assert not (lake / "_staging").exists() or \
        not any((lake / "_staging").iterdir())

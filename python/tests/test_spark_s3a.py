# SPDX-License-Identifier: Apache-2.0
"""The job reading and writing s3a:// against the S3 test server (s3proxy,
SigV4 verified, scripts/s3-server.sh) on 127.0.0.1: the lake equals the
native engine's, every table's _SUCCESS is the S3A magic committer's JSON
manifest, and no multipart upload is left behind."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import spark_session as ss
from sparkify_spark import transforms

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
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    script = ss.ROOT / "scripts" / "s3-server.sh"
    if not script.exists():
        pytest.skip("scripts/s3-server.sh is absent")
    if not have_s3a_jars():
        pytest.skip("S3A jars missing: run scripts/spark-env.sh jars")
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


def s3_tool(build_dir: Path, env: dict, *args: str) -> str:
    r = subprocess.run([str(build_dir / "s3_tool"), *args], env=env,
                       capture_output=True, check=False)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode("utf-8", errors="replace")


def test_s3a_magic_committer_equals_native(s3: dict, sparkify: Path,
                                           build_dir: Path,
                                           tmp_path: Path) -> None:
    env = s3["env"]
    local_in = tmp_path / "in"
    ss.make_fixture(local_in)
    s3_tool(build_dir, env, "mb", BUCKET)
    for f in sorted(local_in.rglob("*")):
        if f.is_file():
            key = "in/" + f.relative_to(local_in).as_posix()
            s3_tool(build_dir, env, "put", BUCKET, key, str(f))
    run_env = dict(env, PYTHONPATH=str(ss.ROOT / "python"),
                   PYSPARK_PYTHON=sys.executable)
    r = subprocess.run(
        [sys.executable, "-m", "sparkify_spark.job", "--master", "local[2]",
         "--s3-endpoint", s3["endpoint"], f"s3a://{BUCKET}/in",
         f"s3a://{BUCKET}/lake"],
        env=run_env, capture_output=True, text=True, check=False,
        timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    assert env["AWS_SECRET_ACCESS_KEY"] not in r.stderr + r.stdout

    # Download the lake and compare with the native engine's.
    lake = tmp_path / "spark"
    listing = s3_tool(build_dir, env, "ls", BUCKET, "lake/")
    keys = [line.split("\t", 1)[1] for line in listing.splitlines() if line]
    assert keys
    # Skip folder markers ("a/" or an empty "a" beside "a/...").
    files = [k for k in keys if not k.endswith("/") and
             not any(o.startswith(k + "/") for o in keys)]
    for key in files:
        out = lake / key[len("lake/"):]
        out.parent.mkdir(parents=True, exist_ok=True)
        got = subprocess.run([str(build_dir / "s3_tool"), "get", BUCKET, key],
                             env=env, capture_output=True, check=True)
        out.write_bytes(got.stdout)
    assert not any("__magic" in k for k in keys)
    native = tmp_path / "native"
    ss.native_etl(sparkify, str(local_in / "song_data"),
                  str(local_in / "log_data"), native)
    counts = ss.assert_lakes_equal(
        native, lake, source_map=(str(local_in), f"s3a://{BUCKET}/in"))
    assert counts["songplays"] > 0 and counts["quarantined"] > 0

    for table in transforms.TABLES:
        manifest = json.loads((lake / table / "_SUCCESS").read_text())
        assert manifest["committer"] == "magic", manifest
        assert manifest["filenames"], manifest
    assert s3_tool(build_dir, env, "uploads", BUCKET).strip() == ""

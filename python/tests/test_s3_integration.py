# SPDX-License-Identifier: Apache-2.0
"""The S3 client against a real S3-compatible server (s3proxy, SigV4
verified) on 127.0.0.1, started for the session, directly and through a
fault-injecting proxy. Every run of the client is checked for the canary
secrets: they must never appear in anything it prints."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from s3_fault_proxy import FaultProxy, Rule

ROOT = Path(__file__).resolve().parents[2]
SECRET = "CANARY-secret-" + secrets.token_hex(12)
TOKEN = "CANARY-token-" + secrets.token_hex(12)
KEY_ID = "CANARYKEY" + secrets.token_hex(4).upper()
OUTPUTS: list[str] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    dir: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    d = tmp_path_factory.mktemp("s3server")
    port = free_port()
    env = dict(os.environ, S3_SERVER_ACCESS_KEY=KEY_ID,
               S3_SERVER_SECRET_KEY=SECRET)
    script = str(ROOT / "scripts" / "s3-server.sh")
    r = subprocess.run([script, "start", str(port), str(d)], env=env,
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.fail(f"s3 server did not start: {r.stderr}")
    try:
        yield Server(port, d)
    finally:
        subprocess.run([script, "stop", str(port), str(d)], check=False)


@pytest.fixture(scope="session")
def proxy(s3_server: Server) -> Iterator[FaultProxy]:
    p = FaultProxy(upstream_port=s3_server.port).start()
    yield p
    p.stop()


@pytest.fixture()
def faults(proxy: FaultProxy) -> Iterator[FaultProxy]:
    proxy.reset()
    yield proxy
    proxy.reset()


@pytest.fixture(scope="session")
def tool(build_dir: Path) -> Path:
    exe = build_dir / "s3_tool"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run `make` first")
    return exe


def run(tool: Path, endpoint: str, *args: str, ok: bool = True,
        secret: str = SECRET, **env: str) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID=KEY_ID,
             AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1",
             HOME=str(ROOT / "nonexistent-home"), S3_TOOL_RETRY_BASE_MS="20")
    e.update(env)
    r = subprocess.run([str(tool), *args], env=e, capture_output=True,
                       text=True, errors="replace", check=False,
                       timeout=120)
    OUTPUTS.extend([r.stdout, r.stderr])
    if ok and r.returncode != 0:
        pytest.fail(f"s3_tool {' '.join(args)} failed: {r.stderr}")
    if not ok:
        assert r.returncode == 1, r.stderr
    return r


@pytest.fixture(scope="session")
def bucket(tool: Path, s3_server: Server) -> str:
    run(tool, s3_server.endpoint, "mb", "lake")
    return "lake"


def uploads(tool: Path, s3: Server, bucket: str) -> list[str]:
    out = run(tool, s3.endpoint, "uploads", bucket).stdout
    return [line for line in out.splitlines() if line]


# ---- against the server directly ----


def test_s3_signature_is_verified(tool: Path, s3_server: Server,
                                  bucket: str) -> None:
    r = run(tool, s3_server.endpoint, "ls", bucket, "", ok=False,
            secret="wrong-secret")
    assert "HTTP 403 SignatureDoesNotMatch" in r.stderr
    assert f"s3://{bucket}" in r.stderr
    assert "request id" in r.stderr


def test_s3_credentials_from_dl_cfg(tool: Path, s3_server: Server,
                                    bucket: str, tmp_path: Path) -> None:
    cfg = tmp_path / "dl.cfg"
    cfg.write_text(f"[AWS]\nAWS_ACCESS_KEY_ID = '{KEY_ID}'\n"
                   f"AWS_SECRET_ACCESS_KEY = '{SECRET}'\n")
    run(tool, s3_server.endpoint, "ls", bucket, "", secret="wrong-secret",
        S3_TOOL_CONFIG_FILE=str(cfg))


def test_s3_session_token_is_sent(tool: Path, s3_server: Server,
                                  bucket: str) -> None:
    # s3proxy implements no STS: it refuses the x-amz-security-token header
    # we sign and send (the signer's handling of it is unit-tested against
    # AWS's vector). 501 is final: one attempt, and no token in the output.
    r = run(tool, s3_server.endpoint, "ls", bucket, "", ok=False,
            AWS_SESSION_TOKEN=TOKEN)
    assert "HTTP 501 NotImplemented" in r.stderr
    assert "attempts" not in r.stderr


def test_s3_list_pagination_and_odd_keys(tool: Path, s3_server: Server,
                                         bucket: str, tmp_path: Path) -> None:
    keys = ["odd/a b.json", "odd/ü/é.json", "odd/x+y.json", "odd/p%20q.json",
            "odd/amp&lt;.json", "odd/tilde~=?*.json", "odd/日本/曲.json",
            "odd/'quote\".json", "odd/plain.json",
            # a key after a common prefix (Contents and CommonPrefixes come
            # as two sorted runs: each must be deduplicated on its own)
            "odd/b/c.json", "odd/zzz.json"]
    for i, k in enumerate(keys):
        f = tmp_path / f"{i}.txt"
        f.write_text(k)
        run(tool, s3_server.endpoint, "put", bucket, k, str(f))
    for page in ("2", "3", "1000"):
        out = run(tool, s3_server.endpoint, "ls", bucket, "odd/", page).stdout
        listed = [line.split("\t", 1)[1] for line in out.splitlines()]
        assert listed == sorted(keys, key=lambda s: s.encode())
    for k in keys:
        got = run(tool, s3_server.endpoint, "get", bucket, k).stdout
        assert got == k
    # A prefix with special characters is encoded in the query.
    out = run(tool, s3_server.endpoint, "ls", bucket, "odd/x+").stdout
    assert out.split("\t")[1].strip() == "odd/x+y.json"


def fnv1a(data: bytes) -> int:
    h = 1469598103934665603
    for b in data:
        h = ((h ^ b) * 1099511628211) & (2**64 - 1)
    return h


def test_s3_get_many_2000(tool: Path, s3_server: Server, bucket: str) -> None:
    n, size = 2000, 300
    run(tool, s3_server.endpoint, "putmany", bucket, "many/", str(n),
        str(size))
    out = run(tool, s3_server.endpoint, "getall", bucket, "many/").stdout
    fields = out.split()
    stats = dict(zip(fields[::2], fields[1::2]))
    assert stats["objects"] == str(n)
    assert stats["bytes"] == str(n * size)
    assert stats["padding"] == "ok"
    body = bytes(ord("a") + i % 26 for i in range(size - 1)) + b"\n"
    want = (fnv1a(body) * (n * (n + 1) // 2)) & (2**64 - 1)
    assert int(stats["checksum"], 16) == want


def test_s3_put_get_delete(tool: Path, s3_server: Server, bucket: str,
                           tmp_path: Path) -> None:
    f = tmp_path / "x.json"
    f.write_bytes(b'{"a": 1}\n')
    run(tool, s3_server.endpoint, "put", bucket, "del/x.json", str(f))
    run(tool, s3_server.endpoint, "put", bucket, "del/y z.json", str(f))
    assert run(tool, s3_server.endpoint, "get", bucket,
               "del/x.json").stdout == '{"a": 1}\n'
    run(tool, s3_server.endpoint, "rm", bucket, "del/x.json", "del/y z.json",
        "del/never-existed")
    assert run(tool, s3_server.endpoint, "ls", bucket, "del/").stdout == ""


def test_s3_missing_key_is_a_clear_error(tool: Path, s3_server: Server,
                                         bucket: str) -> None:
    r = run(tool, s3_server.endpoint, "get", bucket, "no/such key", ok=False)
    assert "LAKE_EREMOTE" in r.stderr
    assert f"GET s3://{bucket}/no/such key: HTTP 404 NoSuchKey" in r.stderr
    assert "request id " in r.stderr
    r = run(tool, s3_server.endpoint, "ls", "no-such-bucket", "", ok=False)
    assert "HTTP 404 NoSuchBucket" in r.stderr


def test_s3_multipart_roundtrip(tool: Path, s3_server: Server, bucket: str,
                                tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(12 * 1024 * 1024 + 123))
    run(tool, s3_server.endpoint, "write", bucket, "mp/big.bin", str(f),
        str(5 * 1024 * 1024))
    got = subprocess.run([str(tool), "get", bucket, "mp/big.bin"],
                         env=dict(os.environ,
                                  AWS_ENDPOINT_URL=s3_server.endpoint,
                                  AWS_ACCESS_KEY_ID=KEY_ID,
                                  AWS_SECRET_ACCESS_KEY=SECRET),
                         capture_output=True, check=True).stdout
    assert got == f.read_bytes()
    assert uploads(tool, s3_server, bucket) == []
    # Small objects through the same output are one PUT.
    small = tmp_path / "small.bin"
    small.write_bytes(b"tiny")
    run(tool, s3_server.endpoint, "write", bucket, "mp/small.bin",
        str(small), str(5 * 1024 * 1024))
    assert run(tool, s3_server.endpoint, "get", bucket,
               "mp/small.bin").stdout == "tiny"


def test_s3_free_without_commit_aborts(tool: Path, s3_server: Server,
                                       bucket: str, tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(11 * 1024 * 1024))
    run(tool, s3_server.endpoint, "write", bucket, "mp/aborted.bin", str(f),
        str(5 * 1024 * 1024), "abort")
    assert uploads(tool, s3_server, bucket) == []
    assert run(tool, s3_server.endpoint, "ls", bucket,
               "mp/aborted").stdout == ""


# ---- through the fault proxy ----


def via(p: FaultProxy) -> str:
    return f"http://127.0.0.1:{p.port}"


@pytest.fixture(scope="session")
def seeded(tool: Path, s3_server: Server, bucket: str,
           tmp_path_factory: pytest.TempPathFactory) -> str:
    f = tmp_path_factory.mktemp("seed") / "obj.json"
    f.write_text('{"song": "x"}\n' * 1000)
    run(tool, s3_server.endpoint, "put", bucket, "f/obj.json", str(f))
    run(tool, s3_server.endpoint, "putmany", bucket, "f/many/", "40", "100")
    return f.read_text()


@pytest.mark.parametrize("fault", ["500", "503", "reset", "truncate"])
def test_s3_get_retries_transient_faults(tool: Path, faults: FaultProxy,
                                         bucket: str, seeded: str,
                                         fault: str) -> None:
    faults.add(Rule(fault, path=r"/lake/f/obj\.json$", method="GET", times=2))
    r = run(tool, via(faults), "get", bucket, "f/obj.json")
    assert r.stdout == seeded
    assert faults.count("GET", r"/lake/f/obj\.json$") == 3


def test_s3_stall_times_out_and_retries(tool: Path, faults: FaultProxy,
                                        bucket: str, seeded: str) -> None:
    faults.add(Rule("stall", path=r"/lake/f/obj\.json$", stall_s=4.0))
    r = run(tool, via(faults), "get", bucket, "f/obj.json",
            S3_TOOL_TIMEOUT_MS="1000")
    assert r.stdout == seeded
    assert faults.count("GET", r"/lake/f/obj\.json$") == 2


def test_s3_list_and_get_many_survive_faults(tool: Path, faults: FaultProxy,
                                             bucket: str,
                                             seeded: str) -> None:
    faults.add(Rule("503", path=r"list-type=2", times=1))
    faults.add(Rule("500", path=r"/lake/f/many/", method="GET", times=5))
    faults.add(Rule("reset", path=r"/lake/f/many/", method="GET", times=3,
                    skip=10))
    out = run(tool, via(faults), "getall", bucket, "f/many/").stdout
    assert out.startswith("objects 40 bytes 4000 ")


def test_s3_persistent_503_gives_up(tool: Path, faults: FaultProxy,
                                    bucket: str, seeded: str) -> None:
    faults.add(Rule("503", path=r"/lake/f/obj\.json$", times=-1))
    r = run(tool, via(faults), "get", bucket, "f/obj.json", ok=False,
            S3_TOOL_RETRIES="2")
    assert ("s3: GET s3://lake/f/obj.json: HTTP 503 SlowDown: Please reduce "
            "your request rate. (request id FAULT503) after 3 attempts"
            in r.stderr)
    assert faults.count("GET", r"/lake/f/obj\.json$") == 3


def test_s3_403_is_not_retried(tool: Path, faults: FaultProxy, bucket: str,
                               seeded: str) -> None:
    faults.add(Rule("403", path=r"/lake/f/obj\.json$", times=-1))
    r = run(tool, via(faults), "get", bucket, "f/obj.json", ok=False)
    assert "HTTP 403 AccessDenied: Access Denied (request id FAULT403)" \
        in r.stderr
    assert "attempts" not in r.stderr
    assert faults.count("GET", r"/lake/f/obj\.json$") == 1


def test_s3_failed_part_aborts_upload(tool: Path, faults: FaultProxy,
                                      s3_server: Server, bucket: str,
                                      tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(11 * 1024 * 1024))
    faults.add(Rule("500", path=r"partNumber=2", method="PUT", times=-1))
    r = run(tool, via(faults), "write", bucket, "mp/failed.bin", str(f),
            str(5 * 1024 * 1024), ok=False, S3_TOOL_RETRIES="1")
    assert "HTTP 500 InternalError" in r.stderr
    assert "s3://lake/mp/failed.bin" in r.stderr
    assert faults.count("DELETE", r"uploadId=") == 1
    assert uploads(tool, s3_server, bucket) == []
    assert run(tool, s3_server.endpoint, "ls", bucket,
               "mp/failed").stdout == ""


def test_s3_complete_200_with_error_is_retried(tool: Path,
                                               faults: FaultProxy,
                                               s3_server: Server, bucket: str,
                                               tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(11 * 1024 * 1024))
    faults.add(Rule("error200", path=r"\?uploadId=", method="POST", times=1))
    run(tool, via(faults), "write", bucket, "mp/retried.bin", str(f),
        str(5 * 1024 * 1024))
    assert faults.count("POST", r"\?uploadId=") == 2
    assert uploads(tool, s3_server, bucket) == []
    out = run(tool, s3_server.endpoint, "ls", bucket, "mp/retried").stdout
    assert out.startswith(f"{11 * 1024 * 1024}\t")


def test_s3_complete_error_body_fails_and_aborts(tool: Path,
                                                 faults: FaultProxy,
                                                 s3_server: Server,
                                                 bucket: str,
                                                 tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(11 * 1024 * 1024))
    faults.add(Rule("error200", path=r"\?uploadId=", method="POST",
                    times=-1))
    r = run(tool, via(faults), "write", bucket, "mp/never.bin", str(f),
            str(5 * 1024 * 1024), ok=False, S3_TOOL_RETRIES="1")
    assert "HTTP 200 InternalError" in r.stderr
    assert uploads(tool, s3_server, bucket) == []
    assert run(tool, s3_server.endpoint, "ls", bucket,
               "mp/never").stdout == ""


# ---- the ETL from S3 to S3 ----

SAMPLE = ROOT.parent / "shared" / "data" / "sparkify-sample"


def lake_keys(tool: Path, s3: Server, bucket: str, prefix: str) -> list[str]:
    out = run(tool, s3.endpoint, "ls", bucket, prefix).stdout
    return [line.split("\t", 1)[1] for line in out.splitlines()]


def etl(sparkify: Path, endpoint: str, *args: str, ok: bool = True,
        dlcfg: Path | None = None) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID=KEY_ID,
             AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="us-east-1",
             HOME=str(ROOT / "nonexistent-home"))
    if dlcfg is not None:  # the course's dl.cfg and options, no environment
        del e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], e["AWS_ENDPOINT_URL"]
        args = ("--config", str(dlcfg), "--endpoint", endpoint, *args)
    r = subprocess.run([str(sparkify), "etl", *args], env=e,
                       capture_output=True, text=True, check=False,
                       timeout=300)
    OUTPUTS.extend([r.stdout, r.stderr])
    assert (r.returncode == 0) == ok, r.stderr
    return r


@pytest.mark.skipif(not SAMPLE.exists(), reason="shared sample data missing")
def test_s3_etl_s3_to_s3(tool: Path, sparkify: Path, s3_server: Server,
                         bucket: str, tmp_path: Path) -> None:
    files = [p for p in SAMPLE.rglob("*") if p.is_file()]
    for p in files:
        run(tool, s3_server.endpoint, "put", bucket,
            f"in/{p.relative_to(SAMPLE)}", str(p))
    local = tmp_path / "lake"
    etl(sparkify, s3_server.endpoint, str(SAMPLE), str(local))
    etl(sparkify, s3_server.endpoint, f"s3://{bucket}/in/",
        f"s3://{bucket}/out/")
    first = lake_keys(tool, s3_server, bucket, "out/")
    want = sorted(str(p.relative_to(local)) for p in local.rglob("*")
                  if p.is_file())
    # Same files as the local lake, data files named with the run id.
    assert len(first) == len(want)
    assert all(k.endswith("/_SUCCESS") or "-20" in k for k in first
               if k != "out/_sparkify_report.json")
    report = json.loads(run(tool, s3_server.endpoint, "get", bucket,
                            "out/_sparkify_report.json").stdout)
    local_report = json.loads((local / "_sparkify_report.json").read_text())
    for k in ("rows", "matched_plays", "quarantined", "song_files",
              "log_files"):
        assert report[k] == local_report[k]
    # A second run (credentials from a dl.cfg this time) replaces the first
    # one's files, and leaves no upload.
    dlcfg = tmp_path / "dl.cfg"
    dlcfg.write_text(f"[AWS]\nAWS_ACCESS_KEY_ID={KEY_ID}\n"
                     f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    etl(sparkify, s3_server.endpoint, f"s3://{bucket}/in/",
        f"s3://{bucket}/out/", dlcfg=dlcfg)
    second = lake_keys(tool, s3_server, bucket, "out/")
    assert len(second) == len(first)
    data1 = {k for k in first if not k.endswith("_SUCCESS")}
    data2 = {k for k in second if not k.endswith("_SUCCESS")}
    assert not (data1 - {"out/_sparkify_report.json"}) & data2
    assert uploads(tool, s3_server, bucket) == []


@pytest.mark.skipif(not SAMPLE.exists(), reason="shared sample data missing")
def test_s3_etl_failed_run_leaves_previous_lake(tool: Path, sparkify: Path,
                                                s3_server: Server,
                                                faults: FaultProxy,
                                                bucket: str) -> None:
    before = lake_keys(tool, s3_server, bucket, "out/")
    assert before, "runs after test_s3_etl_s3_to_s3"
    faults.add(Rule("500", path=r"/lake/out/songplays/", method="PUT",
                    times=-1))
    r = etl(sparkify, via(faults), f"s3://{bucket}/in/",
            f"s3://{bucket}/out/", ok=False)
    assert "HTTP 500 InternalError" in r.stderr
    assert "s3://lake/out/songplays/" in r.stderr
    # Nothing was published: the previous lake is intact, and the failed
    # run's own files are gone.
    assert lake_keys(tool, s3_server, bucket, "out/") == before
    assert uploads(tool, s3_server, bucket) == []


# ---- last: nothing the client printed holds a secret ----


def test_s3_zz_no_secret_in_any_output() -> None:
    assert len(OUTPUTS) > 40
    for text in OUTPUTS:
        assert SECRET not in text
        assert TOKEN not in text
        assert "CANARY-" not in text

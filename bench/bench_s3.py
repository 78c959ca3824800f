#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/bench_s3.py - the S3 client against the loopback test server
(s3proxy 4.0.0, filesystem back end): small-object GETs per second on a
2,000-object prefix, and a 15,000-object song_data-shaped prefix listed and
read end to end (list + GET every object). Runs are interleaved over the
connection counts and repeated; medians are printed as a Markdown table.

    .venv/bin/python bench/bench_s3.py [--reps 3] [--conns 8,16,32]
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "build" / "s3_tool"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tool(env: dict[str, str], *args: str) -> str:
    r = subprocess.run([str(TOOL), *args], env=env, capture_output=True,
                       text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"s3_tool {' '.join(args)}: {r.stderr}")
    return r.stdout


def getall(env: dict[str, str], prefix: str, conns: int) -> dict[str, str]:
    out = tool(dict(env, S3_TOOL_CONNS=str(conns)), "getall", "bench",
               prefix)
    f = out.split()
    return dict(zip(f[::2], f[1::2]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--conns", default="8,16,32")
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--songs", type=int, default=15000)
    a = ap.parse_args()
    conns = [int(x) for x in a.conns.split(",")]
    key, secret = "BENCHKEY", secrets.token_hex(16)
    port = free_port()
    d = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    global TOOL  # a private copy: others may relink build/ meanwhile
    shutil.copy2(TOOL, d / "s3_tool")
    TOOL = d / "s3_tool"
    senv = dict(os.environ, S3_SERVER_ACCESS_KEY=key,
                S3_SERVER_SECRET_KEY=secret)
    script = str(ROOT / "scripts" / "s3-server.sh")
    subprocess.run([script, "start", str(port), str(d)], env=senv, check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
               AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    try:
        tool(env, "mb", "bench")
        t = time.monotonic()
        tool(env, "putmany", "bench", "small/", str(a.small), "300")
        tool(env, "putmany", "bench", "song_data/", str(a.songs), "280")
        put_s = time.monotonic() - t
        print(f"put {a.small + a.songs} objects in {put_s:.1f} s "
              f"({(a.small + a.songs) / put_s:.0f}/s, 16 connections)")
        res: dict[tuple[str, int], list[dict[str, str]]] = {}
        getall(env, "small/", conns[0])  # warm the server's JIT
        for _ in range(a.reps):
            for c in conns:
                for prefix in ("small/", "song_data/"):
                    res.setdefault((prefix, c), []).append(
                        getall(env, prefix, c))
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}\n")
        print("| prefix | objects | connections | list s | GET s | "
              "list + GET s | GETs/s |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for (prefix, c), runs in res.items():
            def med(k: str) -> float:
                return statistics.median(float(r[k]) for r in runs)
            print(f"| {prefix} | {runs[0]['objects']} | {c} | "
                  f"{med('list_s'):.2f} | {med('get_s'):.2f} | "
                  f"{med('total_s'):.2f} | {med('objects_per_s'):.0f} |")
    finally:
        subprocess.run([script, "stop", str(port), str(d)], check=False)
        subprocess.run(["rm", "-rf", str(d)], check=False)


if __name__ == "__main__":
    main()

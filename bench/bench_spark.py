# SPDX-License-Identifier: Apache-2.0
"""bench_spark.py - sparkify on Spark (liblake in the executors) against
the classic Spark etl.py and against the native engine, on the same
generated data, in the same run, interleaved and repeated.

    PYTHONPATH=python .venv/bin/python bench/bench_spark.py [--reps 3]
        [--users 100 --days 30 --catalog 20000 --song-files 14896]

Each run is a fresh process writing into a fresh folder (old trees are
deleted outside the timed region). Spark runs on local[2] (the machine has
2 cores); the native engine uses 2 threads. Reported: wall time of the whole
process (JVM start included) and, for the Spark jobs, the job time inside
the session; medians and ratios."""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


# Spark's own defaults for what job.BASE_CONF changes (and main's 8
# shuffle partitions): the classic peer runs both ways, the better counts.
SPARK_DEFAULTS = ["spark.sql.adaptive.enabled=true",
                  "spark.sql.codegen.wholeStage=true",
                  "spark.sql.files.openCostInBytes=4194304",
                  "spark.sql.shuffle.partitions=8",
                  "spark.driver.extraJavaOptions=-XX:+UseG1GC"]


def run(cmd: List[str], env: Dict[str, str],
        cap: float = 0) -> Tuple[float, str]:
    t = time.perf_counter()
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           check=False, timeout=cap or None)
    except subprocess.TimeoutExpired:
        return float("inf"), "(stopped at the cap)"
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return wall, r.stderr


def job_seconds(stderr: str) -> float:
    m = re.search(r"total ([0-9.]+)s", stderr)
    return float(m.group(1)) if m else float("nan")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--catalog", type=int, default=20000)
    p.add_argument("--song-files", type=int, default=14896)
    p.add_argument("--work", default=None, help="scratch folder")
    p.add_argument("--data", default=None, help="an existing INPUT folder "
                   "(song_data/, log_data/) instead of generated data")
    p.add_argument("--cap", type=float, default=0,
                   help="stop a run after this many seconds (inf)")
    p.add_argument("--baseline-python", default=None, metavar="DIR",
                   help="also run sparkify_spark from DIR (e.g. main's "
                   "python/ folder) as spark+liblake-baseline")
    p.add_argument("--classic-defaults", action="store_true",
                   help="also run the classic job with Spark's defaults "
                   "instead of job.BASE_CONF's settings")
    p.add_argument("--no-classic", action="store_true")
    p.add_argument("--warm", action="store_true",
                   help="also time both Spark jobs inside one warm session")
    a = p.parse_args()
    build = Path(os.environ.get("SPARKIFY_BUILD", ROOT / "build"))
    work = Path(a.work or tempfile.mkdtemp(prefix="bench-spark-"))
    data = Path(a.data) if a.data else work / "data"
    if not data.exists():
        subprocess.run([str(build / "sparkify"), "generate", "--quiet",
                        "--users", str(a.users), "--days", str(a.days),
                        "--catalog", str(a.catalog), "--song-files",
                        str(a.song_files), str(data)], check=True)
    mf = data / "_manifest.json"
    manifest = json.loads(mf.read_text()) if mf.exists() else {}
    in_bytes = sum(f.stat().st_size for f in data.rglob("*.json"))
    n_files = sum(1 for _ in data.rglob("*.json"))
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"),
               PYSPARK_PYTHON=PY, SPARK_LOCAL_IP="127.0.0.1")
    engines = {
        "native": [str(build / "sparkify"), "etl", "--quiet", "--threads",
                   "2", str(data)],
        "spark+liblake": [PY, "-m", "sparkify_spark.job", "--master",
                          "local[2]", str(data)],
        "classic": [PY, "-m", "sparkify_spark.classic_etl", "--master",
                    "local[2]", str(data)],
    }
    envs = {k: env for k in engines}
    if a.baseline_python:
        engines["spark+liblake-baseline"] = engines["spark+liblake"]
        envs["spark+liblake-baseline"] = dict(env,
                                              PYTHONPATH=a.baseline_python)
    if a.classic_defaults:
        engines["classic-spark-defaults"] = engines["classic"] + [
            x for kv in SPARK_DEFAULTS for x in ("--conf", kv)]
    if a.no_classic:
        del engines["classic"]
    if a.warm:
        return warm(a, data, work, build)
    wall: Dict[str, List[float]] = {k: [] for k in engines}
    inner: Dict[str, List[float]] = {k: [] for k in engines}
    for rep in range(a.reps):
        for name, cmd in engines.items():
            out = work / f"lake-{name}-{rep}"
            for old in work.glob(f"lake-{name}-*"):
                shutil.rmtree(old, ignore_errors=True)
            w, err = run(cmd + [str(out)], envs.get(name, env), a.cap)
            wall[name].append(w)
            inner[name].append(job_seconds(err) if name != "native" else w)
            steps = [ln for ln in err.splitlines()
                     if ln.startswith("sparkify_spark:")]
            print(f"rep {rep} {name}: wall {w:.2f}s job "
                  f"{inner[name][-1]:.2f}s {' '.join(steps)}",
                  file=sys.stderr, flush=True)
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_in = {k: statistics.median(v) for k, v in inner.items()}
    print(f"input: {n_files} files, {in_bytes / 1e6:.1f} MB, "
          f"{manifest.get('songs')} songs, {manifest.get('events')} events; "
          f"{a.reps} interleaved runs, medians")
    print()
    print("| engine | wall s | job s (in session) | wall vs native |")
    print("| --- | --- | --- | --- |")
    for k in engines:
        print(f"| {k} | {med[k]:.2f} | {med_in[k]:.2f} | "
              f"{med[k] / med['native']:.1f}x |")
    print()
    for peer in ("classic", "classic-spark-defaults",
                 "spark+liblake-baseline"):
        if peer in engines:
            print(f"spark+liblake vs {peer}: "
                  f"{med[peer] / med['spark+liblake']:.1f}x faster (wall), "
                  f"{med_in[peer] / med_in['spark+liblake']:.1f}x (job)")
    print(f"spark+liblake overhead vs native: "
          f"{(med['spark+liblake'] / med['native'] - 1) * 100:.0f} % (wall), "
          f"{(med_in['spark+liblake'] / med['native'] - 1) * 100:.0f} % (job)")
    return 0


def warm(a: argparse.Namespace, data: Path, work: Path, build: Path) -> int:
    """Both Spark jobs in one local[2] session, after one warm-up run
    each: what the jobs cost without JVM start and JIT warm-up."""
    sys.path.insert(0, str(ROOT / "python"))
    from sparkify_spark import classic_etl, job
    spark = job.build_session("local[2]", "bench-spark-warm")
    spark.sparkContext.setLogLevel("ERROR")
    songs, logs = str(data / "song_data"), str(data / "log_data")
    runs = {"spark+liblake": lambda out: job.run(spark, songs, logs, out),
            "classic": lambda out: classic_etl.run(spark, songs, logs, out)}
    times: Dict[str, List[float]] = {k: [] for k in runs}
    for rep in range(a.reps + 1):
        for name, fn in runs.items():
            out = work / f"warm-{name}-{rep}"
            for old in work.glob(f"warm-{name}-*"):
                shutil.rmtree(old, ignore_errors=True)
            t = time.perf_counter()
            fn(str(out))
            dt = time.perf_counter() - t
            print(f"warm rep {rep} {name}: {dt:.2f}s", file=sys.stderr)
            if rep > 0:
                times[name].append(dt)
    t = time.perf_counter()
    subprocess.run([str(build / "sparkify"), "etl", "--quiet", "--threads",
                    "2", str(data), str(work / "warm-native")], check=True)
    native = time.perf_counter() - t
    med = {k: statistics.median(v) for k, v in times.items()}
    print("| engine (warm session) | job s |")
    print("| --- | --- |")
    print(f"| native (process) | {native:.2f} |")
    for k, v in med.items():
        print(f"| {k} | {v:.2f} |")
    print(f"spark+liblake vs classic: "
          f"{med['classic'] / med['spark+liblake']:.1f}x")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

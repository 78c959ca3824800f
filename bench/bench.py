# SPDX-License-Identifier: Apache-2.0
"""Benchmarks against the peers, side by side, in one run (bench/run).

Datasets are made with `sparkify generate`:
  D1  S3-shaped: ~15,000 one-record song files in 3-level folders + 30 daily logs
  D2  bulk: >= 1 GB of event logs + >= 100,000 songs by ~4,500 artists
      (`--artists`: ~22 songs an artist as in the MSD, years near each
      artist's career, so ~34,000 (year, artist_id) song folders, not ~98,000)
  D3  scaling: D2's log volume at x1/4, x1/2, x1, x2
Engines run interleaved, each repetition in a fresh output folder (old trees
are deleted outside the timed region); medians and minimums are reported with
each peer's ratio to sparkify, peak RSS, output bytes and row counts (to show
equal work). Floors measured in the same run: walking and reading the inputs,
a parse-only pass, raw codec speed over page bytes, creating the output tree.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("SPARKIFY_BUILD", ROOT / "build"))
PY = sys.executable
SWEPT = ("sparkify-1t", "sparkify-2t", "duckdb")  # engines of the D3 sweep
TIMED_OUT = -1000  # status of a run stopped at the time cap


@dataclasses.dataclass
class Dataset:
    name: str
    path: Path
    gen_args: list[str]
    log_bytes: int = 0
    song_files: int = 0
    input_bytes: int = 0


@dataclasses.dataclass
class Run:
    dataset: str
    engine: str
    rep: int
    seconds: float
    peak_rss_mb: float
    output_bytes: int
    counts: dict[str, int]
    ok: bool
    note: str = ""


def remove_tree(path: Path) -> None:
    """rm -rf: faster than shutil.rmtree on the 100,000-file lakes, which
    the full run removes a dozen times (outside any timing)."""
    subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], check=False)


def remove_trees(root: Path, jobs: int = 4) -> None:
    """rm -rf of @p root, its entries removed by @p jobs processes at once.
    This disk removes ~3,300 inodes/s with one rm (each freed block is
    discarded, ext4 mounted with `discard`) and ~10,800/s with four
    (measured: 40,000 inodes in 12 s, 80,000 in 7.4 s). A full run keeps
    every lake until its end (see measure()), several hundred thousand
    inodes."""
    if not root.exists():
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(remove_tree, sorted(root.iterdir())))
    remove_tree(root)
    if root.exists():
        print(f"bench: warning: could not remove all of {root}", file=sys.stderr)


def du(path: Path) -> tuple[int, int]:
    """(files, bytes) below @p path."""
    n = b = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            n += 1
            b += os.path.getsize(os.path.join(dirpath, f))
    return n, b


PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _tree_rss_kb(root: int) -> int:
    """Resident KiB of the descendants of @p root (not root itself: GNU
    time), summed, from /proc. Shared pages count once per process."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                st = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(d)
        children.setdefault(int(st[1]), []).append(pid)  # st[1]: ppid
        rss[pid] = int(st[21]) * PAGE_KB  # st[21]: resident pages
    total, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def timed(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 3600,
          tree_rss: bool = False) -> tuple[float, float, str, int]:
    """Run @p cmd under GNU time; (seconds, peak RSS MiB, stdout, status).
    The peak is GNU time's (the largest single process), or with @p
    tree_rss the larger of that and the sum over the process tree sampled
    every 50 ms (the Spark engines: Python driver + JVM + Python workers).
    After @p timeout seconds the whole process group is killed and the
    status is TIMED_OUT; it is killed too when this function is
    interrupted."""
    t0 = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-f", "maxrss_kb=%M", *cmd], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    peak_kb = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_kb
        while not stop.wait(0.05):
            peak_kb = max(peak_kb, _tree_rss_kb(p.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    if tree_rss:
        sampler.start()
    rc = TIMED_OUT
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate(timeout=60)
    except BaseException:  # Ctrl-C: the engine is in its own session
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise
    finally:
        stop.set()
        if tree_rss:
            sampler.join()
    secs = time.perf_counter() - t0
    rss = peak_kb / 1024 if peak_kb else float("nan")
    lines = err.strip().splitlines()
    if lines and lines[-1].startswith("maxrss_kb="):
        rss = max(rss if rss == rss else 0.0, int(lines[-1].split("=", 1)[1]) / 1024)
    if rc == TIMED_OUT:
        sys.stderr.write(f"bench: {' '.join(cmd)} stopped after {timeout:.0f} s\n")
    elif rc != 0:
        sys.stderr.write(f"bench: {' '.join(cmd)} failed ({rc}):\n{err[-2000:]}\n")
    return secs, rss, out, rc


def sparkify_counts(lake: Path) -> dict[str, int]:
    rep = lake / "_sparkify_report.json"
    if not rep.exists():
        return {}
    d = json.loads(rep.read_text())
    rows = d.get("rows", d)
    out = {k: int(rows[k]) for k in ("songs", "artists", "users", "time", "songplays")
           if k in rows}
    for k in ("matched", "matched_plays"):
        if k in d:
            out["matched"] = int(d[k])
        elif k in rows:
            out["matched"] = int(rows[k])
    q = d.get("quarantined", d.get("quarantine"))
    if isinstance(q, dict):
        out["quarantined"] = int(q.get("total", sum(v for v in q.values()
                                                      if isinstance(v, int))))
    elif isinstance(q, int):
        out["quarantined"] = q
    return out


def parquet_counts(lake: Path) -> dict[str, int]:
    """Rows per table read back from a lake's Parquet files (for engines
    that print no counts), outside the timed region."""
    import pyarrow.dataset as pads
    out: dict[str, int] = {}
    for t in ("songs", "artists", "users", "time", "songplays"):
        d = lake / t
        if d.is_dir():
            out[t] = pads.dataset(str(d), format="parquet", partitioning="hive",
                                  exclude_invalid_files=True).count_rows()
    sp = lake / "songplays"
    if sp.is_dir():
        ds = pads.dataset(str(sp), format="parquet", partitioning="hive",
                          exclude_invalid_files=True)
        out["matched"] = ds.count_rows(filter=pads.field("song_id").is_valid())
    return out


def json_counts(stdout: str) -> dict[str, int]:
    for line in reversed(stdout.strip().splitlines()):
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue
        return {k: int(v) for k, v in d.items() if k != "seconds" and isinstance(v, int)}
    return {}


Engine = Callable[[Dataset, Path], list[str]]


def engines(available: set[str]) -> dict[str, tuple[Engine, Callable[[str, Path], dict[str, int]]]]:
    spk = str(BUILD / "sparkify")
    e: dict[str, tuple[Engine, Callable[[str, Path], dict[str, int]]]] = {
        "sparkify-1t": (lambda d, o: [spk, "etl", str(d.path), str(o), "--threads", "1",
                                      "--quiet"], lambda s, o: sparkify_counts(o)),
        "sparkify-2t": (lambda d, o: [spk, "etl", str(d.path), str(o), "--threads", "2",
                                      "--quiet"], lambda s, o: sparkify_counts(o)),
        "duckdb": (lambda d, o: [PY, str(ROOT / "bench/peers/duckdb_etl.py"), str(d.path),
                                 str(o), "--threads", "2"], lambda s, o: json_counts(s)),
        "polars": (lambda d, o: [PY, str(ROOT / "bench/peers/polars_etl.py"), str(d.path),
                                 str(o)], lambda s, o: json_counts(s)),
    }
    spark_pkg = ROOT / "python" / "sparkify_spark"
    if (spark_pkg / "classic_etl.py").exists():
        e["pyspark-classic"] = (
            lambda d, o: [PY, "-m", "sparkify_spark.classic_etl", str(d.path), str(o),
                          "--master", "local[2]"], lambda s, o: parquet_counts(o))
    if (spark_pkg / "job.py").exists():
        e["sparkify-spark"] = (
            lambda d, o: [PY, "-m", "sparkify_spark.job", str(d.path), str(o),
                          "--master", "local[2]"], lambda s, o: parquet_counts(o))
    return {k: v for k, v in e.items() if not available or k in available}


def generate(ds: Dataset) -> None:
    stamp = ds.path / ".bench-args"
    want = json.dumps(ds.gen_args)
    if not (stamp.exists() and stamp.read_text() == want):
        remove_tree(ds.path)
        subprocess.run([str(BUILD / "sparkify"), "generate", str(ds.path), *ds.gen_args,
                        "--quiet"], check=True)
        stamp.write_text(want)
    ds.song_files, _ = du(ds.path / "song_data")
    _, ds.log_bytes = du(ds.path / "log_data")
    _, ds.input_bytes = du(ds.path)


def floors(ds: Dataset, lake: Path, scratch: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    r = subprocess.run([str(BUILD / "floor_io"), "read", str(ds.path)], capture_output=True,
                       text=True, check=True)
    out["walk_read_s"] = json.loads(r.stdout)["seconds"]
    parse = BUILD / "bench_parse"
    if parse.exists():
        total = 0.0
        for kind, sub in (("songs", "song_data"), ("events", "log_data")):
            r = subprocess.run([str(parse), "--kind", kind, "--repeat", "3",
                                str(ds.path / sub)], capture_output=True, text=True,
                               check=False)
            try:
                total += float(json.loads(r.stdout.strip().splitlines()[-1])["seconds"])
            except (ValueError, KeyError, IndexError, json.JSONDecodeError):
                total = float("nan")
        # A parse-only pass reads the files and runs the record reader over
        # them, with no tables, no sort and no output.
        out["read_parse_s"] = out["walk_read_s"] + total
    # Trees made here stay until the end of the run (see measure()).
    if lake.exists():
        dst = scratch / f"{ds.name}-floor-create"
        remove_tree(dst)
        r = subprocess.run([str(BUILD / "floor_io"), "create", str(lake), str(dst)],
                           capture_output=True, text=True, check=True)
        out["create_output_s"] = json.loads(r.stdout)["seconds"]
    codec = BUILD / "floor_codec"
    if codec.exists():
        # The same lake with uncompressed pages (made outside any timing),
        # then the bare codecs over its bytes.
        plain = scratch / f"{ds.name}-floor-plain"
        remove_tree(plain)
        subprocess.run([str(BUILD / "sparkify"), "etl", str(ds.path), str(plain),
                        "--compression", "none", "--quiet"], check=True)
        r = subprocess.run([str(codec), str(plain)], capture_output=True, text=True,
                           check=True)
        c = json.loads(r.stdout)
        out["raw_snappy_s"] = c["snappy_s"]
        out["raw_zstd_s"] = c["zstd_s"]
    return out


JVM = ("pyspark-classic", "sparkify-spark")


def start_to_exit(scratch: Path) -> list[str]:
    """Process start to exit on empty input, beside /bin/true (bench_start.c)."""
    scratch.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([str(BUILD / "bench_start"), str(BUILD / "sparkify"),
                        str(scratch / "start"), "100"], capture_output=True, text=True,
                       check=False)
    if r.returncode != 0:
        return [f"Process start to exit: bench_start failed: {r.stderr.strip()}", ""]
    t = json.loads(r.stdout)
    rows = [("/bin/true (spawn floor)", t["true"]), ("sparkify --version", t["version"]),
            ("sparkify etl, empty input, fresh lake", t["etl_empty"])]
    return (["### Process start to exit (100 runs each, interleaved)", "",
             "| command | median ms | min ms |", "| --- | ---: | ---: |"]
            + [f"| {n} | {v['median_ms']:.2f} | {v['min_ms']:.2f} |" for n, v in rows] + [""])


def measure(ds: Dataset, names: list[str], reps: int, jvm_reps: int, scratch: Path,
            table: dict[str, tuple[Engine, Callable[[str, Path], dict[str, int]]]],
            cap: float, capped: set[str], with_floors: bool = True
            ) -> tuple[list[Run], dict[str, float]]:
    """Run @p names interleaved, @p reps times (the JVM engines @p
    jvm_reps). A run longer than @p cap seconds is stopped and recorded as
    not finished; that engine then skips the dataset's later repetitions,
    and its name goes into @p capped (the D3 sweep skips bigger scales)."""
    runs: list[Run] = []
    for rep in range(reps):
        for name in names:  # interleaved: every engine once per repetition
            if (name in JVM and rep >= jvm_reps) or name in capped:
                continue
            out = scratch / f"{ds.name}-{name}-{rep}"
            remove_tree(out)  # outside the timed region
            cmd, counter = table[name][0](ds, out), table[name][1]
            env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
            os.sync()  # the previous run's dirty pages are not this run's cost
            secs, rss, stdout, rc = timed(cmd, env, timeout=cap, tree_rss=name in JVM)
            _, nbytes = du(out) if out.exists() else (0, 0)
            note = f"stopped at the {cap:.0f} s cap" if rc == TIMED_OUT else ""
            runs.append(Run(ds.name, name, rep, secs, rss, nbytes,
                            counter(stdout, out) if rc == 0 else {}, rc == 0, note))
            if rc == TIMED_OUT:
                capped.add(name)
            print(f"  {ds.name:8} {name:16} rep {rep}: {secs:8.3f} s"
                  f"{'' if rc == 0 else '  ' + (note or 'FAILED')}", flush=True)
    # The lakes are removed only at the end of the whole run: creating files
    # within ~30 s of removing a large tree is several times slower on ext4
    # (its recently_deleted scan, NOTES.md 4), which made the first run of
    # each dataset up to 3x slower than the next ones when they were removed
    # here. The disk holds them all (a few GB).
    fl = floors(ds, scratch / f"{ds.name}-sparkify-2t-{reps - 1}", scratch) \
        if with_floors else {}
    return runs, fl


def summarize(ds: Dataset, runs: list[Run], fl: dict[str, float]) -> list[str]:
    by: dict[str, list[Run]] = {}
    for r in runs:
        if r.dataset == ds.name:
            by.setdefault(r.engine, []).append(r)
    ref_ok = [r.seconds for r in by.get("sparkify-2t", []) if r.ok]
    ref = statistics.median(ref_ok) if ref_ok else None
    mb = ds.input_bytes / 1e6
    lines = [f"### {ds.name}: {ds.song_files:,} song files, {ds.log_bytes / 1e6:,.1f} MB of "
             f"logs, {mb:,.1f} MB in all",
             "",
             "| engine | median s | min s | input MB/s | peak RSS MiB | output MB | "
             "time / sparkify-2t | songs | artists | users | time | songplays | matched |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
             "---: | ---: |"]
    for name, rs in by.items():
        ok = [r for r in rs if r.ok]
        stopped = [r for r in rs if r.note]
        if not ok and stopped:
            t = min(r.seconds for r in stopped)
            ratio = f"> {t / ref:.1f}x" if ref else "-"
            lines.append(f"| {name} | > {t:.0f} (not finished) | | < {mb / t:,.1f} | | | "
                         f"{ratio} | | | | | | |")
            continue
        if not ok:
            lines.append(f"| {name} | failed | | | | | | | | | | | |")
            continue
        med = statistics.median(r.seconds for r in ok)
        mn = min(r.seconds for r in ok)
        if stopped:  # finished some repetitions, not all
            name = f"{name} ({len(stopped)} of {len(rs)} runs stopped at the cap)"
        rss = max(r.peak_rss_mb for r in ok)
        c = ok[0].counts
        ratio = f"{med / ref:.2f}x" if ref else "-"
        rss_s = f"{rss:,.0f}" if rss == rss else "n/a"
        lines.append(f"| {name} | {med:.3f} | {mn:.3f} | {mb / med:,.0f} | {rss_s} | "
                     f"{ok[0].output_bytes / 1e6:,.1f} | {ratio} | "
                     + " | ".join(f"{c.get(k, '-'):,}" if isinstance(c.get(k), int) else "-"
                                  for k in ("songs", "artists", "users", "time", "songplays",
                                            "matched")) + " |")
    if fl:
        lines += ["", "Floors in the same run: " + ", ".join(
            f"{k.removesuffix('_s')} {v:.3f} s" for k, v in fl.items())]
        if ref:
            floor = fl.get("walk_read_s", 0) + fl.get("create_output_s", 0)
            if floor:
                lines.append(f"sparkify-2t / (walk+read + create output) = {ref / floor:.2f}x")
            if "raw_snappy_s" in fl:
                lines.append(f"raw snappy over the lake's page bytes = "
                             f"{fl['raw_snappy_s'] / ref:.1%} of sparkify-2t's time")
        t1_ok = [r.seconds for r in by.get("sparkify-1t", []) if r.ok]
        t1 = statistics.median(t1_ok) if t1_ok else None
        if "read_parse_s" in fl and t1:
            lines.append(f"sparkify-1t / parse-only pass (read + parse, 1 thread) = "
                         f"{t1 / fl['read_parse_s']:.2f}x")
        if t1 and ref:
            lines.append(f"2-thread speed-up = {t1 / ref:.2f}x")
    return lines + [""]


def svg_plot(points: dict[str, list[tuple[float, float]]], path: Path) -> None:
    """A small line chart of seconds against log MB, one line per engine."""
    w, h, m = 640, 400, 60
    xs = [x for pts in points.values() for x, _ in pts] or [1]
    ys = [y for pts in points.values() for _, y in pts] or [1]
    xmax, ymax = max(xs) * 1.05, max(ys) * 1.1
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]

    def px(x: float) -> float:
        return m + (w - 2 * m) * x / xmax

    def py(y: float) -> float:
        return h - m - (h - 2 * m) * y / ymax

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<line x1="{m}" y1="{h - m}" x2="{w - m}" y2="{h - m}" stroke="black"/>',
             f'<line x1="{m}" y1="{m}" x2="{m}" y2="{h - m}" stroke="black"/>',
             f'<text x="{w / 2}" y="{h - 15}" text-anchor="middle">event logs (MB)</text>',
             f'<text x="15" y="{h / 2}" transform="rotate(-90 15 {h / 2})" '
             f'text-anchor="middle">wall time (s)</text>']
    for i in range(5):
        xv, yv = xmax * i / 4, ymax * i / 4
        parts.append(f'<text x="{px(xv)}" y="{h - m + 15}" text-anchor="middle">{xv:,.0f}</text>')
        parts.append(f'<text x="{m - 5}" y="{py(yv) + 4}" text-anchor="end">{yv:,.1f}</text>')
    for i, (name, pts) in enumerate(sorted(points.items())):
        c = colors[i % len(colors)]
        pts = sorted(pts)
        d = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        parts.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="2"/>')
        for x, y in pts:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>')
        parts.append(f'<text x="{w - m + 5 - 120}" y="{m + 15 * i}" fill="{c}">{name}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts))


def machine() -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    for mod in ("duckdb", "polars", "pyspark"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            pass
    spk = subprocess.run([str(BUILD / "sparkify"), "--version"], capture_output=True,
                         text=True, check=False).stdout.strip()
    return [f"Machine: {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, "
            f"{platform.platform()}; {spk}; " + ", ".join(versions) + "."]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small data, 1 repetition")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--jvm-reps", type=int, default=3,
                    help="repetitions of the Spark engines, at most --reps (one "
                         "stopped at the cap skips the dataset's other repetitions)")
    ap.add_argument("--engines", default="", help="comma-separated subset")
    ap.add_argument("--datasets", default="",
                    help="comma-separated subset of D1,D2,D3; L1 (log-heavy: D2's users, "
                         "days and catalog, so its log volume, with 2,000 song files and "
                         "the generator's default artists) runs only when named")
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "results" / "data")
    ap.add_argument("--sweep-reps", type=int, default=3,
                    help="repetitions at the D3 scales other than x1 (D2); at most --reps")
    ap.add_argument("--cap", type=float, default=None,
                    help="seconds after which a run is stopped and reported as not "
                         "finished (default 90, --quick 150)")
    a = ap.parse_args()
    reps = a.reps or (1 if a.quick else 3)
    cap = a.cap or (150.0 if a.quick else 90.0)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = ROOT / "bench" / "results" / stamp
    scratch = out_dir / "scratch"
    scratch.mkdir(parents=True)
    table = engines(set(filter(None, a.engines.split(","))))
    jvm_note: list[str] = []
    if any(k in table for k in JVM):
        # Both Spark engines start their driver JVM with the class archive
        # (job.BASE_CONF, python/sparkify_spark/cds.py): made once, before
        # any timed run, so that no run pays for making it.
        sys.path.insert(0, str(ROOT / "python"))
        from sparkify_spark import cds
        os.environ.setdefault("SPARKIFY_BUILD", str(BUILD))
        try:
            cds.make()
        except RuntimeError as e:  # a speed-up for both: run without it
            print(f"bench: {e}; the Spark engines start without it",
                  file=sys.stderr)
        jvm_note = ["Spark engines: driver JVM class archive "
                    + ("used by both" if cds.java_option() else "not used")
                    + " (python/sparkify_spark/cds.py)."]
    # Generator scale: ~1.6 KB of logs per user-day at the default mix, so
    # D2 (12,000 users x 60 days) is about 1.1 GB of logs.
    if a.quick:
        d1 = ["--users", "100", "--days", "30", "--catalog", "8000", "--song-files", "1500"]
        d2_users, d2_days, d2_catalog, d2_songs = 400, 30, 20000, 1000
        scales = [0.5, 1.0]
    else:
        d1 = ["--users", "100", "--days", "30", "--catalog", "60000", "--song-files", "15000"]
        d2_users, d2_days, d2_catalog, d2_songs = 12000, 60, 400000, 100000
        scales = [0.25, 0.5, 1.0, 2.0]
    datasets = [Dataset("D1", a.data / ("q-D1" if a.quick else "D1"), d1 + ["--seed", "1"])]
    for s in scales:
        name = "D2" if s == 1.0 else f"D3x{s:g}"
        datasets.append(Dataset(name, a.data / (("q-" if a.quick else "") + name),
                                ["--users", str(d2_users), "--days", str(int(d2_days * s)),
                                 "--catalog", str(d2_catalog), "--song-files", str(d2_songs),
                                 "--artists", str(d2_songs // 22), "--seed", "2"]))
    want = set(filter(None, a.datasets.split(",")))
    if "L1" in want:
        # Log-heavy: D2's users, days and catalog (so its log volume; the
        # artists are the generator's default, not D2's --artists, as in
        # the by-hand runs of BENCHMARKS.md) with few song files, so that
        # the times are
        # the logs' (parse, events, songplays and time) rather than the
        # creation of ~34,000 song partitions: issue #3's ratios (1 thread
        # against a parse-only pass, 2-thread speed-up, DuckDB's
        # throughput on >= 1 GB of logs). Not in the default run.
        l1_songs = 200 if a.quick else 2000
        datasets.append(Dataset("L1", a.data / (("q-" if a.quick else "") + "L1"),
                                ["--users", str(d2_users), "--days", str(d2_days),
                                 "--catalog", str(d2_catalog), "--song-files",
                                 str(l1_songs), "--seed", "2"]))
    if want:
        datasets = [d for d in datasets
                    if d.name in want or ("D3" in want and d.name.startswith("D3"))
                    or ("D3" in want and d.name == "D2")]
    report = ["## ETL against the peers", "", f"Command: `bench/run {' '.join(sys.argv[1:])}`"
              f" ({reps} repetitions interleaved, the D3 scales {min(reps, a.sweep_reps)},"
              f" the Spark engines {min(reps, a.jvm_reps)}"
              f"{' and on D2 only' if a.quick else ''}; runs stopped after {cap:.0f} s;"
              f" {stamp}).",
              ""] + machine() + jvm_note + [""] + start_to_exit(scratch)
    all_runs: list[Run] = []
    capped: set[str] = set()
    scaling: dict[str, list[tuple[float, float]]] = {}
    rss_scaling: dict[str, list[tuple[float, float]]] = {}
    for ds in datasets:
        print(f"== {ds.name}: generating {' '.join(ds.gen_args)}", flush=True)
        generate(ds)
        names = list(table)
        if ds.name.startswith("D3"):
            # The scaling sweep is for sparkify and the fastest peer; the
            # slower peers run on D1 and D2 only, to fit the time budget.
            names = [n for n in names if n in SWEPT]
        if a.quick and ds.name != "D2":
            names = [n for n in names if n not in JVM]  # minutes each
        # An engine stopped at the cap is not run on the bigger datasets
        # (D1 has the fewest files, then D3 smallest first, D2 is its x1).
        # L1 (log-heavy, run last) is not bigger than D2 in files: it
        # starts afresh, and engines stopped there stay out of D1-D3.
        ds_capped = set() if ds.name == "L1" else capped
        skipped = [n for n in names if n in ds_capped]
        subprocess.run([str(BUILD / "floor_io"), "read", str(ds.path)],  # warm the cache
                       capture_output=True, check=True)
        # Floors on D1 and D2; the D3 scales are for the scaling curve.
        ds_reps = min(reps, a.sweep_reps) if ds.name.startswith("D3") else reps
        runs, fl = measure(ds, names, ds_reps, a.jvm_reps, scratch, table, cap, ds_capped,
                           with_floors=not ds.name.startswith("D3"))
        all_runs += runs
        report += summarize(ds, runs, fl)
        if skipped:
            report[-1:-1] = [f"Not run here (stopped at the {cap:.0f} s cap on a smaller "
                             f"dataset): {', '.join(skipped)}"]
        (out_dir / "report.md").write_text("\n".join(report) + "\n")  # so far
        if ds.name == "D2" or ds.name.startswith("D3"):
            for n in names:
                ok = [r for r in runs if r.engine == n and r.ok]
                if ok and n in SWEPT:
                    scaling.setdefault(n, []).append(
                        (ds.log_bytes / 1e6, statistics.median(r.seconds for r in ok)))
                    rss_scaling.setdefault(n, []).append(
                        (ds.log_bytes / 1e6, max(r.peak_rss_mb for r in ok)))
    if scaling:
        svg_plot(scaling, out_dir / "scaling.svg")
        report += ["### Scaling (median seconds by log volume)", "",
                   "| engine | " + " | ".join(f"{x:,.0f} MB" for x, _ in
                                             sorted(next(iter(scaling.values())))) + " |",
                   "| --- |" + " ---: |" * len(next(iter(scaling.values())))]
        for n, pts in scaling.items():
            report.append(f"| {n} | " + " | ".join(f"{y:.2f}" for _, y in sorted(pts)) + " |")
        report += ["", "Peak RSS (MiB) by log volume:", "",
                   "| engine | " + " | ".join(f"{x:,.0f} MB" for x, _ in
                                             sorted(next(iter(rss_scaling.values())))) + " |",
                   "| --- |" + " ---: |" * len(next(iter(rss_scaling.values())))]
        for n, pts in rss_scaling.items():
            report.append(f"| {n} | " + " | ".join(f"{y:,.0f}" for _, y in sorted(pts)) + " |")
        report += ["", "![scaling](bench-scaling.svg)", ""]
    (out_dir / "results.json").write_text(json.dumps([dataclasses.asdict(r) for r in all_runs],
                                                     indent=1))
    (out_dir / "report.md").write_text("\n".join(report) + "\n")
    t_rm = time.perf_counter()
    remove_trees(scratch)
    print(f"bench: scratch removed in {time.perf_counter() - t_rm:.0f} s", flush=True)
    print("\n".join(report))
    print(f"\nbench: results in {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

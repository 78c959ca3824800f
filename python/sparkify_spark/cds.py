# SPDX-License-Identifier: Apache-2.0
"""Class data sharing for the driver JVM that pyspark starts: the classes
a Spark job loads (Spark, Hadoop, Arrow, Catalyst: about 20,000) mapped
from an archive made once (JDK 13+ dynamic AppCDS,
-XX:ArchiveClassesAtExit / -XX:SharedArchiveFile) instead of read from
the jars, parsed and verified at every start.

    python -m sparkify_spark.cds           make the archive (once)
    python -m sparkify_spark.cds --path    print where it is or would be

On L1 (1.07 GB of logs, local[2]) the session started in 1.9 s instead
of 3.8 s and the job ran in 10.4 s instead of 12.0 s (docs/SPARK.md,
"Fixed costs"). job.build_session adds the option to the driver's JVM
options it sets by default (BASE_CONF; the classic peer's session too)
when the archive exists; SPARKIFY_CDS=0 turns it off.

An archive is valid for one JVM binary and one class path: its name is a
hash of the java binary (path, size, mtime), the pyspark version, and the
path of pyspark/jars and the names in it (scripts/spark-env.sh links the
S3A jars there): another venv makes another archive.
Anything else that changes the class path (spark.driver.extraClassPath)
makes the JVM print a warning and start without it. The archive is made
by a training run (this module's `_train`, a small ETL with both
engines) in a child process, written under a temporary name and renamed
when the JVM has exited, so a reader never maps a partial file. It lives
in the user's cache (SPARKIFY_CACHE, else $XDG_CACHE_HOME/sparkify or
~/.cache/sparkify), a folder only its owner can write: the JVM runs what
the archive holds."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

ENV_SWITCH = "SPARKIFY_CDS"  # "0": never use or make an archive
_DUMP_ENV = "_SPARKIFY_CDS_DUMP"  # set in the training child only


def cache_dir() -> Path:
    """The user's sparkify cache (as scripts/install-deps.sh names it)."""
    env = os.environ.get("SPARKIFY_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return Path(xdg) / "sparkify"


def java_binary() -> Optional[str]:
    """The java that pyspark's spark-class runs: $JAVA_HOME/bin/java,
    else the first on PATH; resolved, or None."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.isfile(java):
        return None
    return os.path.realpath(java)


def archive_path() -> Optional[Path]:
    """Where the archive of this JVM and class path is (or would be), or
    None when there is no java or no pyspark."""
    java = java_binary()
    try:
        import pyspark
    except ImportError:
        return None
    if java is None:
        return None
    st = os.stat(java)
    jars = Path(pyspark.__file__).parent / "jars"
    try:
        names = sorted(os.listdir(jars))
    except OSError:
        names = []
    key = json.dumps([java, st.st_size, st.st_mtime_ns, pyspark.__version__,
                      str(jars), names])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / f"spark-driver-{digest}.jsa"


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip() != "0"


def java_option() -> str:
    """The driver JVM option for the archive: dumping it in the training
    child, using it when it exists, else ""."""
    dump = os.environ.get(_DUMP_ENV)
    if dump:
        return f"-XX:ArchiveClassesAtExit={dump}"
    if not enabled():
        return ""
    path = archive_path()
    if path is None or not path.is_file():
        return ""
    return f"-XX:SharedArchiveFile={path}"


def make(force: bool = False, quiet: bool = False) -> Optional[Path]:
    """Make the archive unless it exists (or @force); returns its path,
    None when it cannot be made here (no java, no pyspark, switched off).
    Raises RuntimeError when the training run fails."""
    path = archive_path()
    if path is None or not enabled():
        return None
    if path.is_file() and not force:
        return path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    env = dict(os.environ, **{_DUMP_ENV: str(tmp)})
    pkg_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"]
                                    if env.get("PYTHONPATH") else "")
    try:
        r = subprocess.run([sys.executable, "-m", "sparkify_spark.cds",
                            "--train"], env=env, capture_output=True,
                           text=True, check=False)
        if r.returncode != 0 or not tmp.is_file() or \
                tmp.stat().st_size == 0:
            raise RuntimeError("sparkify: making the class archive failed "
                               f"(exit {r.returncode}): {r.stderr[-2000:]}")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    if not quiet:
        print(f"sparkify: class archive {path} "
              f"({path.stat().st_size >> 20} MiB)", file=sys.stderr)
    return path


# A few records of each kind: enough for every stage of both engines.
_SONG = {"song_id": "S{i}", "title": "T{i}", "artist_id": "A{a}",
         "artist_name": "N{a}", "artist_location": "L", "duration": 200.5,
         "year": 2000, "artist_latitude": None, "artist_longitude": None,
         "num_songs": 1}
_EVENT = {"artist": "N{a}", "auth": "Logged In", "firstName": "F",
          "gender": "M", "itemInSession": "{i}", "lastName": "L",
          "length": 200.5, "level": "free", "location": "X",
          "method": "PUT", "page": "NextSong", "registration": 1.5e12,
          "sessionId": 1, "song": "T{i}", "status": 200,
          "ts": "{ts}", "userAgent": "UA", "userId": "{u}"}


def _fixture(root: Path) -> None:
    for i in range(20):
        d = root / "song_data" / "A" / "B" / "C"
        d.mkdir(parents=True, exist_ok=True)
        rec = {k: (v.format(i=i, a=i % 5) if isinstance(v, str) else v)
               for k, v in _SONG.items()}
        (d / f"TR{i:03d}.json").write_text(json.dumps(rec))
    logs = root / "log_data" / "2018" / "11"
    logs.mkdir(parents=True)
    lines = []
    for i in range(200):
        rec = {k: (v.format(i=i % 20, a=i % 5, u=i % 7,
                            ts=1541105830796 + i * 60_000)
                   if isinstance(v, str) else v) for k, v in _EVENT.items()}
        for k in ("itemInSession", "ts"):
            rec[k] = int(rec[k])
        lines.append(json.dumps(rec))
    lines.append("{broken")
    (logs / "2018-11-01-events.json").write_text("\n".join(lines) + "\n")


def _train() -> int:
    """In the child: run both engines on a small fixture, then stop the
    JVM and wait for it (it writes the archive as it exits)."""
    from pyspark import SparkContext

    from sparkify_spark import classic_etl, job
    with tempfile.TemporaryDirectory(prefix="sparkify-cds-") as tmp:
        base = Path(tmp)
        _fixture(base / "in")
        spark = job.build_session("local[2]", "sparkify-cds")
        spark.sparkContext.setLogLevel("ERROR")
        songs, logs = str(base / "in" / "song_data"), \
            str(base / "in" / "log_data")
        job.run(spark, songs, logs, str(base / "lake"))
        classic_etl.run(spark, songs, logs, str(base / "classic"))
        spark.stop()
        gateway = SparkContext._gateway
        proc = getattr(gateway, "proc", None)
        if gateway is not None:
            gateway.shutdown()
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()  # the JVM exits on EOF of its stdin
            proc.wait(timeout=300)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(
        prog="sparkify_spark.cds",
        description="make the driver JVM's class archive (AppCDS)")
    p.add_argument("--path", action="store_true",
                   help="print the archive's path and exit")
    p.add_argument("--force", action="store_true", help="make it again")
    p.add_argument("--train", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.train:
        return _train()
    if a.path:
        print(archive_path() or "")
        return 0
    made = make(force=a.force)
    if made is None:
        print("sparkify: no class archive (no java or pyspark, or "
              f"{ENV_SWITCH}=0)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

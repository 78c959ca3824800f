# SPDX-License-Identifier: Apache-2.0
"""Class data sharing for the driver JVM that pyspark starts: the classes
a Spark job loads (Spark, Hadoop, Arrow, Catalyst: about 20,000) mapped
from an archive made once (JDK 13+ dynamic AppCDS,
-XX:ArchiveClassesAtExit / -XX:SharedArchiveFile) instead of read from
the jars, parsed and verified at every start.

    python -m sparkify_spark.cds           make the archive (once)
    python -m sparkify_spark.cds --path    print where it is or would be

On L1 (1.07 GB of logs, local[2]) the session started in 1.9–2.0 s
instead of 3.5–3.8 s and the whole run took 12.7–13.0 s instead of 15.9
(docs/SPARK.md, "Fixed costs"). job.build_session adds the option to the
driver's JVM options it sets by default (BASE_CONF; the classic peer's
session too) when a usable archive exists; SPARKIFY_CDS=0 turns it off.

An archive is valid for one JVM binary and one class path: its name is a
hash of the java binary (path, size, mtime), the pyspark version, and the
path of the jars folder spark-submit uses ($SPARK_HOME/jars or pyspark's)
and the names in it (scripts/spark-env.sh links the S3A jars there):
another venv or Spark makes another archive. Anything else that changes
the class path (spark.driver.extraClassPath) makes the JVM print a
warning and start without it.

Making it (make): one maker at a time (a lock file next to it; what a
killed maker left is removed); a training run (`_train`: a small ETL with
both engines, the user's driver options kept) in a child process dumps
the classes under a temporary name as its JVM exits; the dump is checked
by a JVM that must map it (-Xshare:on, the training class path), then
renamed into place read-only: a reader never maps a partial or unusable
file. It lives in the user's cache (SPARKIFY_CACHE, else
$XDG_CACHE_HOME/sparkify or ~/.cache/sparkify). The JVM runs what the
archive holds, so an archive, or a folder, that another user could write
(or a symlink) is neither used nor made. Making one prunes the cache to
the KEEP most recent archives (another JVM, Spark or venv; ~180 MB
each), skipping any whose maker is at work."""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

ENV_SWITCH = "SPARKIFY_CDS"  # "0": never use or make an archive
KEEP = 3  # archives left in the cache after making one (prune)
_NAME = re.compile(r"spark-driver-[0-9a-f]{16}\.jsa")
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


def spark_jars() -> Optional[Path]:
    """The jars folder spark-submit puts on the driver's class path:
    $SPARK_HOME/jars, else pyspark's own (pyspark.find_spark_home)."""
    try:
        from pyspark.find_spark_home import _find_spark_home
        home = _find_spark_home()
    except (ImportError, SystemExit):
        return None
    return Path(home) / "jars"


def archive_path() -> Optional[Path]:
    """Where the archive of this JVM and class path is (or would be), or
    None when there is no java or no pyspark."""
    java = java_binary()
    jars = spark_jars()
    if java is None or jars is None:
        return None
    import pyspark
    st = os.stat(java)
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


def _owned(path: Path, kind: int) -> bool:
    """@path is of @kind (stat.S_IFREG or S_IFDIR), not a symlink, owned
    by this user and writable by nobody else: what the JVM may map."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_IFMT(st.st_mode) == kind and st.st_uid == os.geteuid() \
        and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def usable(path: Path) -> bool:
    """The archive @path may be given to the JVM: it and its folder are
    this user's and nobody else can write them (another user could
    otherwise plant classes: the digest in the name is no secret)."""
    return _owned(path.parent, stat.S_IFDIR) and _owned(path, stat.S_IFREG)


def java_option() -> str:
    """The driver JVM option for the archive when there is a usable one,
    else ""."""
    if not enabled():
        return ""
    path = archive_path()
    if path is None or not usable(path):
        return ""
    return f"-XX:SharedArchiveFile={path}"


def _java_starts(java: str, archive: Path, classpath: str) -> bool:
    """A JVM that must map @archive (-Xshare:on) starts with @classpath."""
    r = subprocess.run([java, "-Xshare:on", f"-XX:SharedArchiveFile={archive}",
                        "-cp", classpath, "-version"], capture_output=True,
                       check=False)
    return r.returncode == 0


def make(force: bool = False, quiet: bool = False) -> Optional[Path]:
    """Make the archive unless it exists (or @force); returns its path,
    None when it cannot be made here (no java, no pyspark, switched off,
    a cache folder someone else may write). Raises RuntimeError when the
    training run fails or its archive does not map. One maker at a time
    (a lock next to the archive); what a killed maker left is removed."""
    path = archive_path()
    java = java_binary()
    if path is None or java is None or not enabled():
        return None
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not _owned(path.parent, stat.S_IFDIR):
        print(f"sparkify: no class archive: {path.parent} is not this "
              "user's alone", file=sys.stderr)
        return None
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed
        if usable(path) and not force:
            return path  # made meanwhile, or before
        for stale in path.parent.glob(path.name + ".*.tmp*"):
            stale.unlink()  # a killed maker's (we hold the lock)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        cp_file = tmp.with_name(tmp.name + ".cp")
        env = dict(os.environ, **{_DUMP_ENV: str(tmp)})
        pkg_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"]
                                        if env.get("PYTHONPATH") else "")
        try:
            r = subprocess.run([sys.executable, "-m", "sparkify_spark.cds",
                                "--train"], env=env, capture_output=True,
                               text=True, check=False)
            if r.returncode != 0 or not tmp.is_file() or \
                    not cp_file.is_file():
                raise RuntimeError(
                    "sparkify: making the class archive failed (exit "
                    f"{r.returncode}): {r.stderr[-2000:]}")
            if not _java_starts(java, tmp, cp_file.read_text()):
                raise RuntimeError("sparkify: the class archive made does "
                                   "not map (java -Xshare:on refused it)")
            os.chmod(tmp, 0o444)
            os.replace(tmp, path)
        finally:
            for f in (tmp, cp_file):
                if f.exists():
                    f.unlink()
    removed = prune(path)
    if not quiet:
        print(f"sparkify: class archive {path} "
              f"({path.stat().st_size >> 20} MiB)"
              + (f"; {len(removed)} old one(s) removed" if removed else ""),
              file=sys.stderr)
    return path


def prune(current: Path, keep: int = KEEP) -> list:
    """Remove the archives in @current's folder beyond the @keep most
    recently made (@current always stays), with their lock files; only
    this user's regular files named as archive_path() names them, and
    only those whose lock no maker holds (taken without waiting, held
    while they go). A JVM that maps one keeps its pages. Returns the paths
    removed."""
    folder = current.parent
    if not _owned(folder, stat.S_IFDIR):
        return []
    found = []
    for f in folder.iterdir():
        if _NAME.fullmatch(f.name) and f != current and \
                _owned(f, stat.S_IFREG):
            found.append((f.lstat().st_mtime_ns, f))
    found.sort(reverse=True)
    removed = []
    for _, f in found[max(keep - 1, 0):]:
        lock_path = f.with_name(f.name + ".lock")
        try:
            with open(lock_path, "a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # being made again: leave it
                f.unlink()
                lock_path.unlink()
        except OSError:
            continue
        removed.append(f)
    return removed


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
            rec[k] = int(str(rec[k]))
        lines.append(json.dumps(rec))
    lines.append("{broken")
    (logs / "2018-11-01-events.json").write_text("\n".join(lines) + "\n")


def _train() -> int:
    """In the child: run both engines on a small fixture with the JVM
    told to dump its classes at exit (appended to the driver's options,
    ours or the user's), write its class path next to the dump, then stop
    the JVM and wait for it (it writes the archive as it exits)."""
    from pyspark import SparkContext

    from sparkify_spark import classic_etl, job
    dump = os.environ[_DUMP_ENV]
    key = "spark.driver.extraJavaOptions"
    base = job.preset_conf().get(key, job.BASE_CONF[key])
    extra = {key: f"{base} -XX:ArchiveClassesAtExit={dump}"}
    with tempfile.TemporaryDirectory(prefix="sparkify-cds-") as tmp:
        root = Path(tmp)
        _fixture(root / "in")
        spark = job.build_session("local[2]", "sparkify-cds", extra)
        spark.sparkContext.setLogLevel("ERROR")
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        Path(dump + ".cp").write_text(
            str(jvm.java.lang.System.getProperty("java.class.path")))
        songs, logs = str(root / "in" / "song_data"), \
            str(root / "in" / "log_data")
        job.run(spark, songs, logs, str(root / "lake"))
        classic_etl.run(spark, songs, logs, str(root / "classic"))
        spark.stop()
        gateway = SparkContext._gateway
        proc = getattr(gateway, "proc", None)
        if gateway is not None:
            gateway.shutdown()
        if proc is None:
            return 1  # cannot wait for the dump
        if proc.stdin is not None:
            proc.stdin.close()  # the JVM exits on EOF of its stdin
        return 0 if proc.wait(timeout=300) == 0 else 1


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

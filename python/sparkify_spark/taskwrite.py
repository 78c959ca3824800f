# SPDX-License-Identifier: Apache-2.0
"""Task-side writes for local lakes: each Spark task writes its own
Parquet files (pyarrow) into a staging folder inside the lake and reports
them in a manifest; the driver checks the manifests and publishes every
table at once (docs/SPARK.md, "Load").

Why: Spark's partitioned writer costs ~15-30 ms per output file (a
committer round per file, a new ParquetWriter per folder) and the songs
table has about one folder per song. pyarrow writes a small file in
~0.4 ms. The de-duplication and joins stay in Spark (transforms.py); only
the last step, rows to files, moves into the tasks.

Layout during a run:

    LAKE/_staging/<run>.lock     flock held by the driver while it runs
    LAKE/_staging/<run>/<table>/<partition folders>/part-....parquet

A table is published by exchanging LAKE/<table> with the staged folder
(renameat2(RENAME_EXCHANGE): readers see the old table or the new one,
never a mix); the old one ends up in the staging folder, which is removed
at the end. A run that died leaves its staging behind with its lock free:
the next run removes it."""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import time
import uuid
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import pyarrow as pa

from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import (IntegerType, LongType, StringType, StructField,
                               StructType)

STAGING = "_staging"
HIVE_DEFAULT = "__HIVE_DEFAULT_PARTITION__"

# One row per file a task wrote, plus one summary row per task (path
# NULL, rows = the rows the task received): the driver checks that the
# files hold every row the tasks were given.
MANIFEST = StructType([
    StructField("path", StringType(), True),      # relative to the table
    StructField("rows", LongType(), False),
    StructField("bytes", LongType(), False),
    StructField("task", IntegerType(), False),
    StructField("attempt", IntegerType(), False),
])
MANIFEST_ARROW = pa.schema([("path", pa.string()), ("rows", pa.int64()),
                            ("bytes", pa.int64()), ("task", pa.int32()),
                            ("attempt", pa.int32())])


class PublishError(RuntimeError):
    """The staged output is not what the tasks reported; nothing was
    published."""


# ---- partition folder names -------------------------------------------

# Spark's ExternalCatalogUtils.escapePathName set (0x01-0x1F, "#%'*/:=?\
# DEL {[]^) plus NUL, the native engine's one addition (lake_partition_name
# in src/model/model_partition.c).
_ESCAPE = frozenset(list(range(0x00, 0x20)) +
                    [ord(c) for c in "\"#%'*/:=?\\{[]^"] + [0x7F])
_NEEDS_ESCAPE = re.compile(r"[\x00-\x1f\"#%'*/:=?\\\x7f{\[\]^]")
_MAX_VALUE_BYTES = 200  # lake_partition_name cuts longer escaped values


def _escape_bytes(b: bytes) -> str:
    out = b"".join(b"%%%02X" % c if c in _ESCAPE else bytes((c,)) for c in b)
    return out.decode("utf-8", "surrogateescape")


def _component(s: str) -> str:
    """One escaped name (column or value), as lake_partition_name makes
    it: Spark's escaping; "." and ".." as %2E; an escaped form over 200
    bytes cut at a character boundary plus "~" and 16 hex digits of the
    value's SHA-256 (Spark would fail on a name over 255 bytes)."""
    if s in (".", ".."):
        return "%2E" * len(s)
    b = s.encode("utf-8", "surrogateescape")
    if len(b) <= _MAX_VALUE_BYTES and not _NEEDS_ESCAPE.search(s):
        return s  # the common case: nothing to escape, short enough
    total = cut = run = 0
    for i, c in enumerate(b):
        cont = (c & 0xC0) == 0x80
        run = run + 1 if cont else 0
        if (not cont or run > 3) and total <= _MAX_VALUE_BYTES:
            cut = i
        total += 3 if c in _ESCAPE else 1
    if total <= _MAX_VALUE_BYTES:
        return _escape_bytes(b)
    return _escape_bytes(b[:cut]) + "~" + hashlib.sha256(b).hexdigest()[:16]


def partition_name(column: str, value: object) -> str:
    """`column=value` as Spark names the folder (NULL and "" are
    __HIVE_DEFAULT_PARTITION__; the text __HIVE_DEFAULT_PARTITION__ itself
    becomes %5F_HIVE_DEFAULT_PARTITION__ so it does not read back as NULL,
    as the native engine does)."""
    if value is None or value == "":
        v = HIVE_DEFAULT
    elif value == HIVE_DEFAULT:
        v = "%5F" + HIVE_DEFAULT[1:]
    else:
        v = _component(str(value))
    return f"{_component(column)}={v}"


# ---- inside the executors ---------------------------------------------

def _runs(table: pa.Table, keys: Sequence[str]) -> List[Tuple[int, int]]:
    """(offset, length) of the runs of equal keys in @table, which is
    sorted by @keys (NULL equal to NULL)."""
    import pyarrow.compute as pc
    n = table.num_rows
    if n == 0:
        return []
    change = None
    for k in keys:
        col = table.column(k)
        a, b = col.slice(1), col.slice(0, n - 1)
        same = pc.or_kleene(pc.fill_null(pc.equal(a, b), False),
                            pc.and_(pc.is_null(a), pc.is_null(b)))
        diff = pc.invert(same)
        change = diff if change is None else pc.or_(change, diff)
    starts = [0] + [i + 1 for i in
                    pc.indices_nonzero(change).to_pylist()]  # type: ignore
    ends = starts[1:] + [n]
    return [(s, e - s) for s, e in zip(starts, ends)]


def file_writer(stage_table: str, partitions: Sequence[str], schema: pa.Schema,
                run_id: str) -> Callable[[Iterator[pa.RecordBatch]],
                                         Iterator[pa.RecordBatch]]:
    """The mapInArrow function of one table: every row of the task into
    Parquet files below @stage_table, one per partition value (the rows
    arrive repartitioned by @partitions, so a value has one task); yields
    MANIFEST rows."""
    parts = list(partitions)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq
        from pyspark import TaskContext
        ctx = TaskContext.get()
        task = ctx.partitionId() if ctx else 0
        attempt = ctx.attemptNumber() if ctx else 0
        data = pa.Table.from_batches(list(batches), schema=schema)
        # A unique name per attempt: a retried task never overwrites the
        # file of an attempt that may still be running.
        fname = f"part-{task:05d}-{run_id}-{attempt}.snappy.parquet"
        paths: List[Optional[str]] = []
        rows: List[int] = []
        sizes: List[int] = []

        def write(t: pa.Table, rel: str) -> None:
            dest = os.path.join(stage_table, rel)
            pq.write_table(t, dest, compression="snappy", store_schema=False)
            paths.append(rel)
            rows.append(t.num_rows)
            sizes.append(os.stat(dest).st_size)

        if data.num_rows and not parts:
            write(data, fname)
        elif data.num_rows:
            data = data.sort_by([(k, "ascending") for k in parts])
            body = data.drop_columns(parts)
            cols = [data.column(k) for k in parts]
            for off, n in _runs(data, parts):
                folder = "/".join(partition_name(k, c[off].as_py())
                                  for k, c in zip(parts, cols))
                os.makedirs(os.path.join(stage_table, folder), exist_ok=True)
                write(body.slice(off, n), f"{folder}/{fname}")
        paths.append(None)  # the task's summary row
        rows.append(data.num_rows)
        sizes.append(0)
        k = len(paths)
        yield pa.RecordBatch.from_arrays(
            [pa.array(paths, pa.string()), pa.array(rows, pa.int64()),
             pa.array(sizes, pa.int64()), pa.array([task] * k, pa.int32()),
             pa.array([attempt] * k, pa.int32())], schema=MANIFEST_ARROW)
    return run


def json_writer(stage_table: str, run_id: str
                ) -> Callable[[Iterator[pa.RecordBatch]],
                              Iterator[pa.RecordBatch]]:
    """The mapInArrow function of the quarantine: rows as JSON Lines, in
    the order they arrive (one sorted partition), one file per task."""
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext
        ctx = TaskContext.get()
        task = ctx.partitionId() if ctx else 0
        attempt = ctx.attemptNumber() if ctx else 0
        rel = f"part-{task:05d}-{run_id}-{attempt}.json"
        dest = os.path.join(stage_table, rel)
        n = 0
        f = None
        try:
            for b in batches:
                if b.num_rows and f is None:
                    f = open(dest, "w", encoding="utf-8")
                for r in b.to_pylist():
                    # NULLs stay (Spark's ignoreNullFields=false).
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
                n += b.num_rows
        finally:
            if f is not None:
                f.close()
        paths: List[Optional[str]] = [None]
        rows, sizes = [n], [0]
        if n:
            paths.insert(0, rel)
            rows.insert(0, n)
            sizes.insert(0, os.stat(dest).st_size)
        k = len(paths)
        yield pa.RecordBatch.from_arrays(
            [pa.array(paths, pa.string()), pa.array(rows, pa.int64()),
             pa.array(sizes, pa.int64()), pa.array([task] * k, pa.int32()),
             pa.array([attempt] * k, pa.int32())], schema=MANIFEST_ARROW)
    return run


# ---- on the driver ----------------------------------------------------

@dataclass
class TableJob:
    """One table to write: its rows, partition columns, format."""
    name: str
    df: DataFrame
    partitions: List[str] = field(default_factory=list)
    json: bool = False  # JSON Lines (the quarantine) instead of Parquet


def local_path(uri: str) -> Optional[str]:
    """The local path of a qualified file: URI (file:/a, file:///a);
    None for anything else: another scheme (s3a://, hdfs://), file://host/
    and a plain path, which means the cluster's default file system (HDFS
    on YARN/EMR): qualify it first (job.qualified)."""
    if not uri.startswith("file:"):
        return None
    rest = uri[len("file:"):]
    if rest.startswith("//"):
        rest = rest[2:]
        if not rest.startswith("/"):  # file://host/... is not local
            return None
    return rest if rest.startswith("/") else None


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _libc() -> Optional[ctypes.CDLL]:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                           use_errno=True)
    except OSError:
        return None


def exchange(a: str, b: str) -> bool:
    """Swap @a and @b atomically (renameat2 RENAME_EXCHANGE); False when
    the system cannot (then the caller falls back to two renames)."""
    libc = _libc()
    fn = getattr(libc, "renameat2", None) if libc else None
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b),
            _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), a)


class Staging:
    """A run's private staging folder inside the lake, locked with flock
    for the driver's lifetime (a dead run's lock is free)."""

    def __init__(self, lake: str) -> None:
        self.lake = os.path.abspath(lake)
        self.root = os.path.join(self.lake, STAGING)
        os.makedirs(self.root, exist_ok=True)
        self.clean_dead()
        self.run_id = (f"{socket.gethostname()}-{os.getpid()}-"
                       f"{time.time_ns()}-{uuid.uuid4().hex[:8]}")
        self.dir = os.path.join(self.root, self.run_id)
        self._lock_fd = os.open(self.dir + ".lock",
                                os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o644)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        os.mkdir(self.dir)

    def clean_dead(self) -> None:
        """Remove the staging of runs that died (their lock is free)."""
        for name in os.listdir(self.root):
            if name.endswith(".lock"):
                continue
            lock = os.path.join(self.root, name + ".lock")
            fd = os.open(lock, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # a live run
            try:
                shutil.rmtree(os.path.join(self.root, name), True)
                os.unlink(lock)
            finally:
                os.close(fd)
        for name in os.listdir(self.root):  # locks without a folder
            if name.endswith(".lock") and \
                    not os.path.exists(os.path.join(self.root, name[:-5])):
                fd = os.open(os.path.join(self.root, name), os.O_RDWR)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    os.unlink(os.path.join(self.root, name))
                except BlockingIOError:
                    pass
                finally:
                    os.close(fd)

    def close(self) -> None:
        """Remove the staging (and the tables it replaced)."""
        shutil.rmtree(self.dir, True)
        try:
            os.unlink(self.dir + ".lock")
        except FileNotFoundError:
            pass
        os.close(self._lock_fd)
        try:
            os.rmdir(self.root)  # empty unless another run is staging
        except OSError:
            pass


def _run_job(job: TableJob, stage_table: str, run_id: str) -> pa.Table:
    """One Spark job (in the job group @run_id, which a failing table
    cancels): the table's rows into staged files; the manifest."""
    df = job.df
    if job.json:
        fn = json_writer(stage_table, run_id)
    else:
        schema = to_arrow_schema(df.schema, timezone="UTC")
        if job.partitions:
            n = df.sparkSession.sparkContext.defaultParallelism
            # One task per partition value, the values spread over the
            # cores (AQE would coalesce the songs to one task).
            df = df.repartition(max(n, 1), *job.partitions)
        fn = file_writer(stage_table, job.partitions, schema, run_id)
    sc = df.sparkSession.sparkContext
    sc.setJobGroup(run_id, f"sparkify: write {job.name}",
                   interruptOnCancel=True)
    return df.mapInArrow(fn, MANIFEST).toArrow()


def check_manifest(name: str, stage_table: str, m: pa.Table) -> None:
    """The staged files of @name are those of the manifest and hold every
    row the tasks received; files of failed attempts are removed."""
    rows = m.to_pydict()
    files = [(p, r, b) for p, r, b in zip(rows["path"], rows["rows"],
                                          rows["bytes"]) if p is not None]
    given = sum(r for p, r in zip(rows["path"], rows["rows"]) if p is None)
    written = sum(r for _, r, _ in files)
    if written != given:
        raise PublishError(f"{name}: {written} rows written, {given} given")
    for p, _, b in files:
        st = os.stat(os.path.join(stage_table, p))
        if st.st_size != b:
            raise PublishError(f"{name}: {p} is {st.st_size} bytes, "
                               f"{b} reported")
    if any(a > 0 for a in rows["attempt"]):
        # A task was retried: the failed attempts' files are not ours.
        keep = {p for p, _, _ in files}
        for d, _, names in os.walk(stage_table):
            for f in names:
                rel = os.path.relpath(os.path.join(d, f), stage_table)
                if rel not in keep:
                    os.unlink(os.path.join(d, f))


def _write_empty(stage_table: str, job: TableJob) -> None:
    """An unpartitioned table without rows still gets one file with its
    schema (as Spark writes), so that readers find its columns."""
    import pyarrow.parquet as pq
    schema = to_arrow_schema(job.df.schema, timezone="UTC")
    pq.write_table(schema.empty_table(),
                   os.path.join(stage_table, "part-00000.snappy.parquet"),
                   compression="snappy", store_schema=False)


def publish(lake: str, staged: str, names: Sequence[str]) -> None:
    """Put each staged table in place: exchanged with the existing one
    (which lands in @staged), or renamed when new. On a failure the tables
    already published are put back."""
    done: List[Tuple[str, bool]] = []
    try:
        for name in names:
            src, dst = os.path.join(staged, name), os.path.join(lake, name)
            if os.path.lexists(dst):
                if not exchange(src, dst):
                    # No RENAME_EXCHANGE here: a short moment without it.
                    os.rename(dst, src + ".old")
                    os.rename(src, dst)
                    os.rename(src + ".old", src)
                done.append((name, True))
            else:
                os.rename(src, dst)
                done.append((name, False))
    except BaseException:
        for name, swapped in reversed(done):
            src, dst = os.path.join(staged, name), os.path.join(lake, name)
            try:
                if swapped and not exchange(src, dst):
                    os.rename(dst, src + ".new")
                    os.rename(src, dst)
                elif not swapped:
                    os.rename(dst, src)
            except OSError:
                pass  # best effort; the error below is the one to report
        raise


def write_tables(lake: str, jobs: Sequence[TableJob],
                 timings: Optional[Dict[str, float]] = None) -> None:
    """Write every table of @jobs as concurrent Spark jobs (one driver
    thread each) into a staging folder of @lake, check the manifests, then
    publish all tables; the staging is removed in every case."""
    os.makedirs(lake, exist_ok=True)
    stage = Staging(lake)
    t0 = time.perf_counter()
    try:
        for j in jobs:
            os.mkdir(os.path.join(stage.dir, j.name))

        def one(j: TableJob) -> Tuple[str, pa.Table, float]:
            m = _run_job(j, os.path.join(stage.dir, j.name), stage.run_id)
            return j.name, m, time.perf_counter() - t0

        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = [pool.submit(one, j) for j in jobs]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f.exception() for f in done
                      if f.exception() is not None]
            if failed:
                # Stop the other tables' jobs: nothing will be published.
                # The first failure is the one to report, not the
                # cancellations it causes.
                jobs[0].df.sparkSession.sparkContext.cancelJobGroup(
                    stage.run_id)
                wait(futures)
                raise failed[0]
            results = [f.result() for f in futures]
        for j, (name, m, dt) in zip(jobs, results):
            st = os.path.join(stage.dir, name)
            check_manifest(name, st, m)
            if not j.json and not j.partitions and \
                    all(p is None for p in m.column("path").to_pylist()):
                _write_empty(st, j)
            # _SUCCESS last, inside the staged table: it appears with it.
            open(os.path.join(st, "_SUCCESS"), "wb").close()
            if timings is not None:
                timings[name] = dt
        t = time.perf_counter()
        publish(stage.lake, stage.dir, [j.name for j in jobs])
        if timings is not None:
            timings["publish"] = time.perf_counter() - t
    finally:
        stage.close()

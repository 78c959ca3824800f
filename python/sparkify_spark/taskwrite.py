# SPDX-License-Identifier: Apache-2.0
"""Task-side writes for local lakes: each Spark task writes its own
Parquet files (pyarrow) into a staging folder inside the lake and reports
them in a manifest; the driver checks the manifests, makes the staging
durable (syncfs) and publishes the tables one after the other
(docs/SPARK.md, "Load").

Why: Spark's partitioned writer costs ~15-30 ms per output file (a
committer round per file, a new ParquetWriter per folder) and the songs
table has about one folder per song. pyarrow writes a small file in
~0.4 ms. The de-duplication and joins stay in Spark (transforms.py); only
the last step, rows to files, moves into the tasks.

Layout during a run:

    LAKE/_staging/<run>/            flock held by the driver while it runs
    LAKE/_staging/<run>/<table>/<partition folders>/part-....parquet

A table is published by exchanging LAKE/<table> with the staged folder
(renameat2(RENAME_EXCHANGE): a reader of that table sees the old one or
the new one, never a mix). Tables are published one by one, as the native
engine does: while a run publishes, a reader of several tables may see
some new and some old. Without RENAME_EXCHANGE the old table is first
renamed aside: for that moment the table is missing. The old tables end
up in the staging folder, which is removed at the end. A run that died
leaves its staging behind with its lock free: the next run removes it."""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import json
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from concurrent.futures import (FIRST_EXCEPTION, Future, ThreadPoolExecutor,
                                wait)
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Set, Tuple)

import pyarrow as pa

from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import (IntegerType, LongType, StringType, StructField,
                               StructType)

from . import taskside, transforms

STAGING = "_staging"
CANCEL_WAIT_S = 10.0  # longest wait for cancelled tasks before cleanup

log = logging.getLogger("sparkify_spark.taskwrite")

# One row per file a task wrote, plus one summary row per task and table
# (path NULL, rows = the rows the task had for the table). `attempt` is
# the task attempt id (TaskContext.taskAttemptId(): unique in the
# application, unlike attemptNumber(), which restarts at 0 when a stage
# is retried).
MANIFEST = StructType([
    StructField("path", StringType(), True),      # relative to the table
    StructField("rows", LongType(), False),
    StructField("bytes", LongType(), False),
    StructField("task", IntegerType(), False),
    StructField("attempt", LongType(), False),
    StructField("table", StringType(), False),
])
MANIFEST_ARROW = pa.schema([("path", pa.string()), ("rows", pa.int64()),
                            ("bytes", pa.int64()), ("task", pa.int32()),
                            ("attempt", pa.int64()), ("table", pa.string())])
MapFn = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]
# TableJob.later: (staging folder, cancel) -> the table's rows
Later = Callable[[str, threading.Event], DataFrame]


class PublishError(RuntimeError):
    """The staged output is not what the tasks reported; nothing was
    published."""


class RollbackError(RuntimeError):
    """A publish failed and putting the old tables back failed too."""


class Cancelled(RuntimeError):
    """A table job not started because another table failed."""


# ---- inside the executors ---------------------------------------------

def writable_schema(schema: pa.Schema) -> pa.Schema:
    """@schema with every field nullable: Spark's writer makes every
    Parquet column OPTIONAL, whatever the DataFrame's nullability."""
    return pa.schema([f.with_nullable(True) for f in schema])


def _null_empty(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """"" as NULL in the string columns @keys: both are named
    __HIVE_DEFAULT_PARTITION__, so they must make one run (one file)."""
    import pyarrow.compute as pc
    for k in keys:
        col = table.column(k)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, col.type), col)
            table = table.set_column(table.schema.get_field_index(k), k, col)
    return table


def _mkdirs_below(base: str, rel: str, made: Set[str]) -> None:
    """The folders of @rel below @base, which must exist: a task that
    outlives its run (cancelled, the staging removed) fails here instead
    of building the staging anew."""
    path = base
    for part in rel.split("/"):
        path = os.path.join(path, part)
        if path in made:
            continue
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
        made.add(path)


def _attempt() -> Tuple[int, int]:
    """(partition id, task attempt id) of the running task."""
    from pyspark import TaskContext
    ctx = TaskContext.get()
    return (ctx.partitionId(), ctx.taskAttemptId()) if ctx else (0, 0)


def _manifest(paths: List[Optional[str]], rows: List[int], sizes: List[int],
              task: int, attempt: int, table: str) -> pa.RecordBatch:
    k = len(paths)
    return pa.RecordBatch.from_arrays(
        [pa.array(paths, pa.string()), pa.array(rows, pa.int64()),
         pa.array(sizes, pa.int64()), pa.array([task] * k, pa.int32()),
         pa.array([attempt] * k, pa.int64()),
         pa.array([table] * k, pa.string())], schema=MANIFEST_ARROW)


def file_writer(stage_table: str, partitions: Sequence[str], schema: pa.Schema,
                run_id: str) -> Callable[[Iterator[pa.RecordBatch]],
                                         Iterator[pa.RecordBatch]]:
    """The mapInArrow function of one table: every row of the task into
    Parquet files below @stage_table, one per partition value (the rows
    arrive repartitioned by @partitions, so a value has one task), in
    folders named by liblake as the native engine names them; yields
    MANIFEST rows. @schema is the table's Arrow schema as Spark gives it."""
    parts = list(partitions)
    target = writable_schema(schema)
    table = os.path.basename(stage_table)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq
        from sparkify_spark import _native as native  # on the executor
        from sparkify_spark import taskside
        task, attempt = _attempt()
        got = list(batches)
        data = (pa.Table.from_batches(got) if got
                else schema.empty_table()).cast(target)
        # Unique in the application: a retried task (even of a retried
        # stage) never overwrites the file of an attempt still running.
        fname = f"part-{task:05d}-{run_id}-{attempt}.snappy.parquet"
        paths: List[Optional[str]] = []
        rows: List[int] = []
        sizes: List[int] = []
        made: Set[str] = set()

        def write(t: pa.Table, rel: str) -> None:
            # pyarrow does not create missing folders: a zombie task
            # fails here once the staging is gone.
            dest = os.path.join(stage_table, rel)
            pq.write_table(t, dest, compression="snappy", store_schema=False)
            paths.append(rel)
            rows.append(t.num_rows)
            sizes.append(os.stat(dest).st_size)

        if data.num_rows and not parts:
            write(data, fname)
        elif data.num_rows:
            data = _null_empty(data, parts)
            data = data.sort_by([(k, "ascending") for k in parts])
            body = data.drop_columns(parts)
            cols = [data.column(k) for k in parts]
            for off, n in taskside.runs(data, parts):
                folder = "/".join(native.partition_name(k, c[off].as_py())
                                  for k, c in zip(parts, cols))
                _mkdirs_below(stage_table, folder, made)
                write(body.slice(off, n), f"{folder}/{fname}")
        paths.append(None)  # the task's summary row
        rows.append(data.num_rows)
        sizes.append(0)
        yield _manifest(paths, rows, sizes, task, attempt, table)
    return run


def json_writer(stage_table: str, run_id: str
                ) -> Callable[[Iterator[pa.RecordBatch]],
                              Iterator[pa.RecordBatch]]:
    """The mapInArrow function of the quarantine: rows as JSON Lines, in
    the order they arrive (one sorted partition), one file per task."""
    table = os.path.basename(stage_table)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        task, attempt = _attempt()
        rel = f"part-{task:05d}-{run_id}-{attempt}.json"
        dest = os.path.join(stage_table, rel)
        n = 0
        f = None
        try:
            for b in batches:
                if b.num_rows and f is None:
                    # "x": never follows a removed staging (no folder) nor
                    # overwrites a file.
                    f = open(dest, "x", encoding="utf-8")
                for r in b.to_pylist():
                    # NULLs stay (Spark's ignoreNullFields=false); compact
                    # as Spark and the native engine write it.
                    f.write(json.dumps(r, ensure_ascii=False,
                                       separators=(",", ":")) + "\n")
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
        yield _manifest(paths, rows, sizes, task, attempt, table)
    return run


PLAY_PARTITIONS = ("year", "month")


def _play_file_schema(cols: Sequence[str]) -> pa.Schema:
    """The file schema of @cols of transforms.SONGPLAY_ROWS without the
    partition columns, every column OPTIONAL (Spark's writer's schema, as
    file_writer writes)."""
    return writable_schema(to_arrow_schema(StructType(
        [transforms.SONGPLAY_ROWS[c] for c in cols
         if c not in PLAY_PARTITIONS]), timezone="UTC"))


# The files of the two tables taskside.songplays makes.
PLAY_FILES: Dict[str, pa.Schema] = {
    "songplays": _play_file_schema(taskside.SONGPLAY_COLS),
    "time": _play_file_schema(taskside.TIME_COLS),
}


def plays_writer(stage_dir: str, run_id: str, dim: Any) -> MapFn:
    """The mapInArrow function of the plays (transforms.plays_by_day:
    blobs partitioned by day, sorted by hour): taskside.hour_plays, then
    taskside.songplays against @dim (a Broadcast of taskside.songs_dim),
    written as the songplays and time tables below @stage_dir/<table>,
    one file per
    (year, month) folder and task; yields MANIFEST rows of both tables.
    The months arrive one after the other, so one file of each table is
    open at a time."""
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
        from sparkify_spark import _native as native  # on the executor
        from sparkify_spark import taskside
        task, attempt = _attempt()
        fname = f"part-{task:05d}-{run_id}-{attempt}.snappy.parquet"
        made: Set[str] = set()
        done: Dict[str, Tuple[List[Optional[str]], List[int], List[int]]] = {
            t: ([], [], []) for t in PLAY_FILES}
        # table -> (rel path, writer, rows written)
        cur: Dict[str, Tuple[str, Any, int]] = {}
        closed: Set[str] = set()  # "table/rel" of the files written
        made_rows = {t: 0 for t in PLAY_FILES}  # rows the pass gave
        received = [0]  # plays the task was given

        def counted(bs: Iterator[pa.Table]) -> Iterator[pa.Table]:
            for b in bs:
                received[0] += b.num_rows
                yield b

        def close(table: str) -> None:
            rel, w, n = cur.pop(table)
            closed.add(f"{table}/{rel}")
            w.close()
            paths, rows, sizes = done[table]
            paths.append(rel)
            rows.append(n)
            sizes.append(os.stat(os.path.join(stage_dir, table, rel)).st_size)

        def put(table: str, folder: str, body: pa.Table) -> None:
            if not body.num_rows:
                return
            rel = f"{folder}/{fname}"
            if table in cur and cur[table][0] != rel:
                close(table)
            if table not in cur:
                if f"{table}/{rel}" in closed:  # would overwrite it
                    raise RuntimeError(f"sparkify: {table}/{folder} met "
                                       "twice in one task")
                base = os.path.join(stage_dir, table)
                _mkdirs_below(base, folder, made)
                w = pq.ParquetWriter(os.path.join(base, rel),
                                     PLAY_FILES[table], compression="snappy",
                                     store_schema=False)
                cur[table] = (rel, w, 0)
            rel, w, n = cur[table]
            w.write_table(body.cast(PLAY_FILES[table]))
            cur[table] = (rel, w, n + body.num_rows)

        try:
            for t in taskside.songplays(
                    counted(taskside.hour_plays(batches)), dim.value):
                made_rows["songplays"] += t.num_rows
                made_rows["time"] += pc.sum(t.column("_new_ts")).as_py() or 0
                for off, n in taskside.runs(t, PLAY_PARTITIONS):
                    part = t.slice(off, n)
                    folder = "/".join(
                        native.partition_name(k, part.column(k)[0].as_py())
                        for k in PLAY_PARTITIONS)
                    put("songplays", folder,
                        part.select(PLAY_FILES["songplays"].names))
                    put("time", folder,
                        part.filter(part.column("_new_ts"))
                        .select(PLAY_FILES["time"].names))
            for table in list(cur):
                close(table)
        finally:
            for _, w, _ in cur.values():  # an error: the files stay
                try:                      # unreported (check_manifest
                    w.close()             # deletes them)
                except Exception as e:  # keep the first error
                    log.warning("sparkify: closing a plays file: %s", e)
        # What the pass gave, against what it was given: no more plays
        # than received, no more start times than plays. (The written
        # rows are checked against these by check_manifest, and each
        # file's footer against its report.)
        if not received[0] >= made_rows["songplays"] >= made_rows["time"]:
            raise RuntimeError(f"sparkify: {received[0]} plays gave "
                               f"{made_rows['songplays']} songplays and "
                               f"{made_rows['time']} start times")
        for table, (paths, rows, sizes) in done.items():
            paths.append(None)  # the task's summary row
            rows.append(made_rows[table])
            sizes.append(0)
            yield _manifest(paths, rows, sizes, task, attempt, table)
    return run


# ---- on the driver ----------------------------------------------------

@dataclass
class TableJob:
    """One table to write: its rows, partition columns, format. Or, with
    @prepare, a job of its own: prepare(stage folder, run id), called in
    the job's thread, gives the rows and their mapInArrow function, which
    writes the tables @outputs (each below stage folder/<table>) and
    yields their MANIFEST rows; @df then gives only the session. With
    @later, the rows are later(staging folder, cancel), called in the
    job's thread (it may wait for rows another job makes, and raises
    Cancelled once cancel is set); @df then has their schema. @finished,
    when given, is set once the job has ended, however it ended."""
    name: str
    df: DataFrame
    partitions: List[str] = field(default_factory=list)
    json: bool = False  # JSON Lines (the quarantine) instead of Parquet
    prepare: Optional[Callable[[str, str], Tuple[DataFrame, MapFn]]] = None
    outputs: Tuple[str, ...] = ()
    later: Optional[Later] = None
    finished: Optional[threading.Event] = None  # set when the job ends

    @property
    def tables(self) -> Tuple[str, ...]:
        return self.outputs or (self.name,)


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
# renameat2 errors that mean "no RENAME_EXCHANGE here": an old kernel or
# libc (ENOSYS), a file system without it (EINVAL), a seccomp filter that
# refuses the unknown call (EPERM).
_NO_EXCHANGE = (errno.ENOSYS, errno.EINVAL, errno.EPERM)


@functools.lru_cache(maxsize=None)
def _libc_fn(name: str) -> Optional[Any]:
    """libc's @name with its C types set, looked up once; None when this
    libc lacks it."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                           use_errno=True)
    except OSError:
        return None
    fn = getattr(libc, name, None)
    if fn is None:
        return None
    fn.restype = ctypes.c_int
    if name == "renameat2":
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                       ctypes.c_char_p, ctypes.c_uint]
    else:  # syncfs
        fn.argtypes = [ctypes.c_int]
    return fn


def exchange(a: str, b: str) -> bool:
    """Swap @a and @b atomically (renameat2 RENAME_EXCHANGE); False when
    the system cannot (then the caller falls back to two renames)."""
    fn = _libc_fn("renameat2")
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b),
          _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), a, None, b)


def syncfs(fd: int) -> None:
    """syncfs(2) on the file system of @fd: the staged files on disk with
    one call, as the native engine does (an fsync per file costs more);
    fsync of @fd when the libc has no syncfs."""
    fn = _libc_fn("syncfs")
    if fn is None:
        os.fsync(fd)
        return
    if fn(fd) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), "syncfs")


def fsync_dir(path: str) -> None:
    """The renames in folder @path made durable."""
    fd = _open_dir(path)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno != errno.EINVAL:  # a file system that cannot
            raise
    finally:
        os.close(fd)


def _open_dir(path: str) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def _lock_nb(fd: int) -> bool:
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


class Staging:
    """A run's private staging folder inside the lake, locked with flock
    on the folder itself for the driver's lifetime (a dead run's lock is
    free; there is no lock file to create or unlink)."""

    def __init__(self, lake: str) -> None:
        self.lake = os.path.abspath(lake)
        self.root = os.path.join(self.lake, STAGING)
        self.keep = False  # close() leaves the folder (see rescue)
        for _ in range(100):
            self.run_id = (f"{socket.gethostname()}-{os.getpid()}-"
                           f"{time.time_ns()}-{uuid.uuid4().hex[:8]}")
            self.dir = os.path.join(self.root, self.run_id)
            fd = self._make_locked()
            if fd >= 0:
                self.fd = fd
                break
        else:
            raise RuntimeError(f"cannot create a staging folder in "
                               f"{self.root}")
        try:
            self.clean_dead()
        except BaseException:
            self.close()
            raise

    def _make_locked(self) -> int:
        """mkdir self.dir and flock it; -1 when a concurrent run removed
        it (or _staging) meanwhile."""
        import fcntl
        try:
            # Another run's close may rmdir an empty _staging between the
            # two calls, or a cleaner take our new folder for a dead run's
            # before we lock it: then we try again.
            os.makedirs(self.root, exist_ok=True)
            os.mkdir(self.dir)
            fd = _open_dir(self.dir)
        except FileNotFoundError:
            return -1
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.stat(self.dir).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        return -1

    def clean_dead(self) -> None:
        """Remove the staging of runs that died (their lock is free)."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return
        for name in names:
            path = os.path.join(self.root, name)
            if path == self.dir:
                continue
            try:
                fd = _open_dir(path)
            except FileNotFoundError:
                continue  # removed meanwhile
            except NotADirectoryError:
                # A lock file of an older version, or a stray file.
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                except FileNotFoundError:
                    continue
                try:
                    if _lock_nb(fd):
                        _remove(path)
                finally:
                    os.close(fd)
                continue
            try:
                if _lock_nb(fd):  # else a live run
                    shutil.rmtree(path, True)
            finally:
                os.close(fd)

    def rescue(self) -> str:
        """Keep the staging: move it out of _staging, where the next run
        would remove it once our lock is free; its path."""
        self.keep = True
        path = os.path.join(self.lake, f"_failed-{self.run_id}")
        try:
            os.rename(self.dir, path)
        except OSError:
            return self.dir
        return path

    def close(self) -> None:
        """Remove the staging (and the tables it replaced) unless kept;
        release the lock."""
        try:
            if not self.keep:
                _rmtree(self.dir)
                try:
                    # Only when empty; a run creating its folder right
                    # now retries (_make_locked).
                    os.rmdir(self.root)
                except OSError:
                    pass
        finally:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _rmtree(path: str) -> None:
    """rmtree, again when a task still writing refilled a folder."""
    for _ in range(3):
        shutil.rmtree(path, True)
        if not os.path.lexists(path):
            return
        time.sleep(0.1)


def _run_job(job: TableJob, stage_table: str, run_id: str,
             cancel: threading.Event) -> pa.Table:
    """One Spark job (in the job group @run_id, which a failing table
    cancels): the table's rows into staged files; the manifest. Not
    started once @cancel is set (cancelJobGroup stops only running
    jobs)."""
    try:
        return _run_job_once(job, stage_table, run_id, cancel)
    finally:
        if job.finished is not None:
            job.finished.set()


def _run_job_once(job: TableJob, stage_table: str, run_id: str,
                  cancel: threading.Event) -> pa.Table:
    df = job.df
    sc = df.sparkSession.sparkContext
    sc.setJobGroup(run_id, f"sparkify: write {job.name}",
                   interruptOnCancel=True)
    if cancel.is_set():
        raise Cancelled(job.name)
    if job.later is not None:
        df = job.later(os.path.dirname(stage_table), cancel)
        if cancel.is_set():
            raise Cancelled(job.name)
    if job.prepare is not None:
        # Its Spark jobs (the songs to match) are in the group too.
        df, fn = job.prepare(os.path.dirname(stage_table), run_id)
        if cancel.is_set():
            raise Cancelled(job.name)
    elif job.json:
        fn = json_writer(stage_table, run_id)
    else:
        schema = to_arrow_schema(df.schema, timezone="UTC")
        if job.partitions:
            n = df.sparkSession.sparkContext.defaultParallelism
            # One task per partition value, the values spread over the
            # cores (AQE would coalesce the songs to one task).
            df = df.repartition(max(n, 1), *job.partitions)
        fn = file_writer(stage_table, job.partitions, schema, run_id)
    return df.mapInArrow(fn, MANIFEST).toArrow()


def _file_facts(path: str) -> Tuple[int, int]:
    """(bytes, rows) of a staged file, read back: the rows are the
    Parquet footer's count or the lines of a JSON Lines file."""
    if path.endswith(".json"):
        with open(path, "rb") as f:
            rows = sum(chunk.count(b"\n")
                       for chunk in iter(lambda: f.read(1 << 20), b""))
            return f.tell(), rows
    import pyarrow.parquet as pq
    with pa.OSFile(path) as f:  # ~80 us a file; a path costs ~25% more
        return f.size(), int(pq.read_metadata(f).num_rows)


def check_manifest(name: str, stage_table: str, m: pa.Table) -> None:
    """The staged files of @name are exactly those of the manifest, each
    of the reported size and holding the rows its task reported (read
    back from the files), and together every row the tasks received.
    Files not in the manifest (failed attempts') are deleted."""
    rows = m.to_pydict()
    files = [(p, r, b) for p, r, b in zip(rows["path"], rows["rows"],
                                          rows["bytes"]) if p is not None]
    keep = {p for p, _, _ in files}
    if len(keep) != len(files):
        raise PublishError(f"{name}: a file is reported twice")
    given = sum(r for p, r in zip(rows["path"], rows["rows"]) if p is None)
    written = sum(r for _, r, _ in files)
    if written != given:
        raise PublishError(f"{name}: {written} rows written, {given} given")
    emptied: Set[str] = set()
    for d, subdirs, names in os.walk(stage_table, topdown=False):
        prefix = os.path.relpath(d, stage_table) + "/" \
            if d != stage_table else ""
        left = sum(1 for s in subdirs if os.path.join(d, s) not in emptied)
        for f in names:
            if prefix + f in keep:
                left += 1
            else:
                os.unlink(os.path.join(d, f))
        if d != stage_table and not left:
            os.rmdir(d)  # a folder only a failed attempt wrote to
            emptied.add(d)
    # Serial: threads were 3x slower (the per-file work is Python's).
    for p, r, b in files:
        size, n = _file_facts(os.path.join(stage_table, p))
        if size != b:
            raise PublishError(f"{name}: {p} is {size} bytes, {b} reported")
        if n != r:
            raise PublishError(f"{name}: {p} holds {n} rows, {r} reported")


def _write_empty(stage_table: str, job: TableJob) -> None:
    """An unpartitioned table without rows still gets one file with its
    schema (as Spark writes), so that readers find its columns."""
    import pyarrow.parquet as pq
    schema = writable_schema(to_arrow_schema(job.df.schema, timezone="UTC"))
    pq.write_table(schema.empty_table(),
                   os.path.join(stage_table, "part-00000.snappy.parquet"),
                   compression="snappy", store_schema=False)


@dataclass
class _Step:
    """A table being published: the inode of its new (staged) folder. The
    rollback finds where the old and the new one are from it, so that it
    undoes exactly the renames that happened, even when an interrupt
    landed between a rename and any record of it."""
    name: str
    new: Tuple[int, int]  # (st_dev, st_ino)


def _ident(path: str) -> Optional[Tuple[int, int]]:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _publish_one(lake: str, staged: str, name: str) -> None:
    src, dst = os.path.join(staged, name), os.path.join(lake, name)
    if not os.path.lexists(dst):
        os.rename(src, dst)
    elif not exchange(src, dst):
        # No RENAME_EXCHANGE here: the table is missing for a moment; the
        # old one ends where an exchange would have put it.
        os.rename(dst, src + ".old")
        os.rename(src, dst)
        os.rename(src + ".old", src)


def _undo(lake: str, staged: str, step: _Step) -> None:
    """Put the old table of @step back in the lake, the new one in the
    staging, from wherever they are."""
    src, dst = os.path.join(staged, step.name), os.path.join(lake, step.name)
    old_aside = src + ".old"
    if _ident(dst) == step.new:  # the new table is in place: out with it
        if os.path.lexists(src):  # the old one is there (exchanged)
            if exchange(src, dst):
                return
            os.rename(dst, src + ".new")
        else:
            os.rename(dst, src)
    if not os.path.lexists(dst):  # the old one is not back yet
        if os.path.lexists(old_aside):
            os.rename(old_aside, dst)
        elif os.path.lexists(src) and _ident(src) != step.new:
            os.rename(src, dst)


def publish(lake: str, staged: str, names: Sequence[str]) -> None:
    """Put each staged table in place: exchanged with the existing one
    (which lands in @staged), or renamed when new. On a failure (or an
    interrupt) the tables already published are put back, newest first,
    and the error is raised; if that fails too an old table may still be
    in @staged: RollbackError, and the caller must keep @staged."""
    steps: List[_Step] = []
    try:
        for name in names:
            new = _ident(os.path.join(staged, name))
            assert new is not None, name
            steps.append(_Step(name, new))  # before the first rename
            _publish_one(lake, staged, name)
    except BaseException as e:
        lost = []
        for step in reversed(steps):
            try:
                _undo(lake, staged, step)
            except OSError as u:
                lost.append(f"{step.name} ({u})")
        try:
            fsync_dir(lake)
        except OSError:
            pass
        if lost:
            raise RollbackError(
                f"publish failed ({e!r}) and could not put back "
                f"{', '.join(lost)}") from e
        raise


def _wait_idle(sc: Any, group: str, timeout: float) -> bool:
    """Wait (at most @timeout s) until no job of @group runs a task, so
    that cancelled tasks are done before their staging is removed;
    whether it got there."""
    st = sc.statusTracker()
    end = time.monotonic() + timeout
    while True:
        busy = False
        for jid in st.getJobIdsForGroup(group):
            info = st.getJobInfo(jid)
            if info is None:
                continue
            if info.status == "RUNNING":
                busy = True
            for sid in info.stageIds:
                s = st.getStageInfo(sid)
                if s is not None and s.numActiveTasks > 0:
                    busy = True
        if not busy:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.05)


def _run_all(jobs: Sequence[TableJob], stage: Staging, t0: float
             ) -> List[Tuple[str, pa.Table, float]]:
    """Every job as a concurrent Spark job, one driver thread each; the
    manifests in job order. On a failure, or any exception or interrupt
    while waiting, the job group is cancelled and the first failure in
    table order is raised (the others are logged)."""
    from pyspark import inheritable_thread_target
    if not jobs:
        return []
    sc = jobs[0].df.sparkSession.sparkContext
    cancel = threading.Event()

    def one(j: TableJob) -> Tuple[str, pa.Table, float]:
        m = _run_job(j, os.path.join(stage.dir, j.tables[0]), stage.run_id,
                     cancel)
        return j.name, m, time.perf_counter() - t0

    # The threads start with the caller's local properties and job tags
    # (scheduler pool, a job group set around this call); wrapped once per
    # job: each wrapper holds its own copy of the properties, which the
    # thread then changes (setJobGroup).
    session = jobs[0].df.sparkSession
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures: List[Future] = [
            pool.submit(inheritable_thread_target(session)(one), j)
            for j in jobs]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:
            cancel.set()
            sc.cancelJobGroup(stage.run_id)
            raise
        # Failures seen before we cancel are the causes; later ones are
        # mostly the cancellations they cause.
        first = [f for f in futures if f in done and f.exception()]
        if not first:
            return [f.result() for f in futures]
        cancel.set()
        sc.cancelJobGroup(stage.run_id)
        wait(futures)
    for j, f in zip(jobs, futures):
        e = f.exception()
        if f is not first[0] and e is not None and \
                not isinstance(e, Cancelled):
            log.warning("sparkify: table %s also failed: %s", j.name, e)
    raise first[0].exception()  # type: ignore[misc]


def write_tables(lake: str, jobs: Sequence[TableJob],
                 timings: Optional[Dict[str, float]] = None) -> None:
    """Write every table of @jobs as concurrent Spark jobs (one driver
    thread each) into a staging folder of @lake, check the manifests, sync
    the staging, then publish the tables one by one; the staging is
    removed in every case (a failed rollback moves it aside). The tasks
    name partition folders with liblake (_native.partition_name): it must
    be where _native looks for it on the executors (job.ship_code)."""
    os.makedirs(lake, exist_ok=True)
    stage = Staging(lake)
    t0 = time.perf_counter()
    names = [t for j in jobs for t in j.tables]
    try:
        for t in names:
            os.mkdir(os.path.join(stage.dir, t))
        try:
            results = _run_all(jobs, stage, t0)
        except BaseException:
            # Cancelled tasks may still be writing: let them end before
            # the staging goes (they fail, not rebuild it, if they don't).
            sc = jobs[0].df.sparkSession.sparkContext if jobs else None
            try:
                if sc and not _wait_idle(sc, stage.run_id, CANCEL_WAIT_S):
                    log.warning("sparkify: tasks of %s still running after "
                                "%.0f s", stage.run_id, CANCEL_WAIT_S)
            except Exception as e:  # e.g. a stopped context: keep the cause
                log.warning("sparkify: cannot wait for the tasks: %s", e)
            raise
        import pyarrow.compute as pc
        for j, (_, m, dt) in zip(jobs, results):
            for name in j.tables:
                st = os.path.join(stage.dir, name)
                mt = m.filter(pc.equal(m.column("table"), name))
                check_manifest(name, st, mt)
                if not j.json and not j.partitions and j.prepare is None \
                        and all(p is None
                                for p in mt.column("path").to_pylist()):
                    _write_empty(st, j)
                # _SUCCESS last, inside the staged table: it appears with it.
                open(os.path.join(st, "_SUCCESS"), "wb").close()
                if timings is not None:
                    timings[name] = dt
        t = time.perf_counter()
        syncfs(stage.fd)  # the files on disk before any table points at them
        try:
            publish(stage.lake, stage.dir, names)
        except RollbackError as err:
            # An old table is still in the staging: keep it for a person.
            raise RollbackError(f"{err}; the old tables are in "
                                f"{stage.rescue()}") from err
        fsync_dir(stage.lake)  # the renames durable
        if timings is not None:
            timings["publish"] = time.perf_counter() - t
    finally:
        stage.close()

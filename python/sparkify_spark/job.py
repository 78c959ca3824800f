# SPDX-License-Identifier: Apache-2.0
"""sparkify on Spark: extract with the C record reader inside the executors
(mapInArrow over local paths listed by liblake, or over the files' bytes
from binaryFile for remote stores), transform with transforms.py, load as
partitioned Parquet (S3A magic committer on s3a://).

    python -m sparkify_spark.job INPUT LAKE [--master URL]
    python -m sparkify_spark.job --songs ROOT --logs ROOT LAKE
    spark-submit --files build/liblake.so --py-files sparkify_spark.zip \\
        python/sparkify_spark/job.py INPUT LAKE

INPUT holds song_data/ and log_data/; roots and LAKE may be local paths or
s3a:// URIs. See docs/SPARK.md."""
from __future__ import annotations

import argparse
import atexit
import os
import re
import shlex
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping,
                    Optional, Sequence, Tuple)

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

if __package__ in (None, ""):  # run as a file by spark-submit
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sparkify_spark import (_native, cds, taskside,  # noqa: E402
                                taskwrite, transforms)
else:
    from . import _native, cds, taskside, taskwrite, transforms

PKG_DIR = Path(__file__).resolve().parent
INPUT_GLOB = "*.{json,jsonl,json.gz,jsonl.gz}"
ZIP_NAME = "sparkify_spark.zip"
MapFn = taskwrite.MapFn
Post = Optional[Callable[[Iterable[pa.RecordBatch]],
                         Iterator[pa.RecordBatch]]]
MIN_BATCH_ROWS = 8192  # rows gathered before a batch goes to the JVM

ARROW_JAVA_OPTS = ("-Darrow.enable_unsafe_memory_access=true "
                   "-Darrow.enable_null_check_for_get=false")

# Session settings every run needs (SPEC types, loopback, small shuffles).
BASE_CONF: Dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "snappy",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Small inputs, few cores: Spark's fixed costs are what counts
    # (docs/SPARK.md, "Fixed costs"). These apply to the classic peer too
    # (classic_etl.py builds its session here).
    # AQE runs every query stage as a Spark job of its own (~25 jobs a
    # run instead of 6); without it the shuffles get one partition per
    # core (build_session), which is what AQE coalesced them to anyway.
    "spark.sql.adaptive.enabled": "false",
    # Whole-stage code generation compiles Java for every plan (Janino),
    # which a cold JVM pays for seconds; the rows here are few.
    "spark.sql.codegen.wholeStage": "false",
    # The default 4 MB "cost" of opening a file made 32 tasks for 1,000
    # one-song files (a Python round trip each); 64 KB packs them by size.
    "spark.sql.files.openCostInBytes": "65536",
    # C1 only and the serial collector: a JVM that lives a minute and
    # runs little Java code warms up faster (the driver; in local mode
    # the executors too). Arrow's Java library checks the bounds of every
    # access to an Arrow buffer unless told not to: ~16% of the JVM
    # samples on L1 (JFR), where every play crosses Arrow twice (out of
    # the reader's mapInArrow, into the plays'); the executors' CPU time
    # went from 22.8 to 18.5 s without the checks.
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 "
                                     "-XX:+UseSerialGC " + ARROW_JAVA_OPTS,
    "spark.executor.extraJavaOptions": ARROW_JAVA_OPTS,
    "spark.sql.sources.partitionOverwriteMode": "static",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "10000",
    # Int.MaxValue turns the bytes limit off; any other value makes Spark
    # measure the batch being built after every row it adds for Python
    # (ArrowWriter.sizeInBytes over every column): on L1 that was ~45% of
    # the JVM time of the reduce stage (JFR), 14 s -> 8 s. The rows limit
    # above still bounds a batch.
    "spark.sql.execution.arrow.maxBytesPerBatch": "2147483647",
    "spark.python.worker.reuse": "true",
    # The plays' shuffle moves LZ4 Arrow blobs: Spark's LZ4 on top made
    # them 9% smaller (156 against 170 MB on L1) for ~0.3 s of the map
    # side's JVM CPU and ~0.1 s of the reduce side's (event logs, two
    # pairs). The classic peer shuffles JSON rows: 83.2 s with, 84.2 s
    # without on L1, no difference. The other shuffles are small.
    "spark.shuffle.compress": "false",
}

MAGIC_CONF: Dict[str, str] = {
    "spark.hadoop.fs.s3a.committer.name": "magic",
    "spark.hadoop.fs.s3a.committer.magic.enabled": "true",
    "spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a":
        "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory",
    "spark.sql.sources.commitProtocolClass":
        "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
    "spark.sql.parquet.output.committer.class":
        "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter",
}


def s3a_conf(endpoint: Optional[str]) -> Dict[str, str]:
    """S3A settings: the magic committer always; a local endpoint (path
    style, plain HTTP, keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)
    when @endpoint is given."""
    conf = dict(MAGIC_CONF)
    if endpoint:
        conf.update({
            "spark.hadoop.fs.s3a.endpoint": endpoint,
            "spark.hadoop.fs.s3a.endpoint.region":
                os.environ.get("AWS_REGION", "us-east-1"),
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled":
                "true" if endpoint.startswith("https:") else "false",
            "spark.hadoop.fs.s3a.aws.credentials.provider":
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "spark.hadoop.fs.s3a.access.key":
                os.environ.get("AWS_ACCESS_KEY_ID", ""),
            "spark.hadoop.fs.s3a.secret.key":
                os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
            "spark.hadoop.fs.s3a.change.detection.mode": "none",
            "spark.hadoop.fs.s3a.multipart.purge": "false",
        })
    return conf


def conf_files(conf_dir: Optional[str], submit_args: str) -> Dict[str, str]:
    """The settings the spark-submit that pyspark starts will read:
    @conf_dir/spark-defaults.conf and PYSPARK_SUBMIT_ARGS (@submit_args:
    --conf K=V, --driver-java-options)."""
    conf: Dict[str, str] = {}
    lines: List[str] = []
    if conf_dir:
        try:
            with open(os.path.join(conf_dir, "spark-defaults.conf"),
                      encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError:
            pass
    for line in map(str.strip, lines):
        if line and not line.startswith("#"):
            # Java properties: key, then blanks, "=" or ":".
            kv = re.split(r"\s*[=:]\s*|\s+", line, maxsplit=1)
            conf[kv[0]] = kv[1] if len(kv) > 1 else ""
    args = shlex.split(submit_args)
    for i, a in enumerate(args[:-1]):
        if a == "--conf":
            k, _, v = args[i + 1].partition("=")
            conf[k] = v
        elif a == "--driver-java-options":
            conf["spark.driver.extraJavaOptions"] = args[i + 1]
    return conf


def preset_conf() -> Dict[str, str]:
    """The settings given outside this program (spark-submit's --conf and
    --driver-java-options, spark-defaults.conf). Under spark-submit they
    are in the driver JVM, which is already running; else they are what
    the spark-submit that pyspark starts will read."""
    from pyspark import SparkConf, SparkContext
    if SparkContext._gateway is not None or \
            "PYSPARK_GATEWAY_PORT" in os.environ:
        SparkContext._ensure_initialized()
        return dict(SparkConf().getAll())
    conf_dir = os.environ.get("SPARK_CONF_DIR")
    if not conf_dir:
        from pyspark.find_spark_home import _find_spark_home
        try:
            conf_dir = os.path.join(_find_spark_home(), "conf")
        except SystemExit:  # no Spark home: pyspark will say so
            conf_dir = None
    return conf_files(conf_dir, os.environ.get("PYSPARK_SUBMIT_ARGS", ""))


def session_defaults(preset: Mapping[str, str]) -> Dict[str, str]:
    """BASE_CONF without the settings the user gave (@preset): ours are
    defaults, not overrides. The driver's JVM options map the class
    archive when there is one (cds.py)."""
    conf = {k: v for k, v in BASE_CONF.items() if k not in preset}
    key = "spark.driver.extraJavaOptions"
    if key in conf:
        opt = cds.java_option()
        if opt:
            conf[key] += " " + opt
    return conf


def build_session(master: Optional[str] = None,
                  app_name: str = "sparkify",
                  extra: Optional[Dict[str, str]] = None) -> SparkSession:
    """A session with BASE_CONF where the user did not set a value
    (spark-submit, spark-defaults.conf), then @extra. The Python workers
    use this interpreter unless PYSPARK_PYTHON says otherwise."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    b = SparkSession.builder.appName(app_name)
    if master:
        b = b.master(master)
    for k, v in {**session_defaults(preset_conf()), **(extra or {})}.items():
        b = b.config(k, v)
    spark = b.getOrCreate()
    if not spark.sparkContext.getConf().contains(
            "spark.sql.shuffle.partitions"):
        # One shuffle partition per core (AQE is off: nothing coalesces).
        n = spark.sparkContext.defaultParallelism
        spark.conf.set("spark.sql.shuffle.partitions", str(max(n, 1)))
    return spark


# The BASE_CONF settings that can change in a running session: run() sets
# them, so that a session made elsewhere (a notebook, a test) still gives
# SPEC's types.
RUNTIME_CONF = ("spark.sql.session.timeZone",
                "spark.sql.parquet.outputTimestampType",
                "spark.sql.parquet.compression.codec",
                "spark.sql.sources.partitionOverwriteMode",
                "spark.sql.execution.arrow.maxRecordsPerBatch",
                "spark.sql.execution.arrow.maxBytesPerBatch")


def ship_code(spark: SparkSession, lib: Optional[str] = None) -> None:
    """Make liblake.so and this package available to the executors
    (what `spark-submit --files --py-files` does), once per context."""
    sc = spark.sparkContext
    if getattr(sc, "_sparkify_shipped", False):
        return
    shipped = {f.rstrip("/").rsplit("/", 1)[-1] for f in sc.listFiles}
    if not any(n.startswith(_native.LIB_NAME) for n in shipped):
        sc.addFile(lib or _native.library_path())
    if ZIP_NAME not in shipped:  # not given with --py-files
        tmp = tempfile.mkdtemp(prefix="sparkify-")
        atexit.register(shutil.rmtree, tmp, True)
        zpath = package_zip(Path(tmp) / ZIP_NAME)
        sc.addPyFile(str(zpath))
    sc._sparkify_shipped = True  # type: ignore[attr-defined]


def package_zip(path: Path) -> Path:
    """This package as a zip for --py-files / addPyFile."""
    with zipfile.ZipFile(path, "w") as z:
        for f in sorted(PKG_DIR.glob("*.py")):
            z.write(f, f"sparkify_spark/{f.name}")
    return path


def qualified(spark: SparkSession, path: str) -> str:
    """@path as Hadoop qualifies it (file:/abs/..., s3a://b/k), without a
    trailing slash: the prefix of binaryFile's `path` column."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    p = jvm.org.apache.hadoop.fs.Path(path)
    fs = p.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return str(fs.makeQualified(p).toString()).rstrip("/")


def _hidden(rel: str) -> bool:
    return any(part.startswith((".", "_")) for part in rel.split("/"))


def _dir_prefix(root: str) -> str:
    """@root with one trailing '/', as the native engine joins a root and
    a relative path (etl_join_path): "/" stays "/"."""
    shown = root.rstrip("/") or "/"
    return shown if shown.endswith("/") else shown + "/"


def parse_files(kind: int, root_uri: str, display_root: str) -> MapFn:
    """The mapInArrow function of binaryFile's rows: (path, content) in,
    the C reader's record batches out. `source` is display_root + '/' +
    the path relative to the root, as the native engine names files in
    _quarantine/."""
    prefix = root_uri + "/"
    shown = _dir_prefix(display_root)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from sparkify_spark import _native as native  # on the executor

        def readers() -> Iterator[pa.RecordBatchReader]:
            for batch in batches:
                paths = batch.column(0)
                contents = batch.column(1)
                for i in range(batch.num_rows):
                    path = str(paths[i].as_py())
                    rel = path[len(prefix):] if path.startswith(prefix) \
                        else path
                    if _hidden(rel):
                        continue
                    buf = contents[i].as_buffer()
                    data = buf if buf is not None else b""
                    yield native.read_records(kind, data, shown + rel)
        return _gather(readers())
    return run


def read_files(kind: int, path: str, display_root: str,
               parts: Sequence[Sequence[FileEntry]],
               post: Post = None,
               ordinals: Optional[Sequence[Sequence[int]]] = None,
               columns: Optional[Sequence[str]] = None,
               rows: int = _native.ROWS_ALL) -> MapFn:
    """The mapInArrow function of local inputs: partition indexes into
    @parts in (part_ids), the C reader's record batches out, through
    @post when given (a taskside function). With @ordinals (each file's
    place in the sorted listing, partition by partition) every batch
    gets `_order` = ordinal * 2^32 + rec: the input order in one int64,
    which the plays carry instead of the `source` string. @columns and
    @rows go to the C reader (_native.read_file). C opens
    @path + '/' + rel itself (lake_arrow_read_file), so the bytes never
    pass through the JVM; `source` is display_root + '/' + rel, exactly as
    parse_files names it, with invalid UTF-8 as U+FFFD (one per maximal
    subpart, as the native engine's _quarantine/ writes it and as an Arrow
    utf8 column must be). The file names travel in this function, one
    NUL-joined blob per partition (a name holds no NUL), so that a task
    copies the others' names but builds objects only for its own: PySpark
    broadcasts a function over 1 MB."""
    base = os.fsencode(_dir_prefix(path))
    shown = os.fsencode(_dir_prefix(display_root))
    blobs = [b"\0".join(rel for rel, _ in p) for p in parts]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from sparkify_spark import _native as native  # on the executor
        from sparkify_spark import taskside as ts

        def readers() -> Iterator[Iterable[pa.RecordBatch]]:
            for batch in batches:
                for i in batch.column(0).to_pylist():
                    for j, rel in enumerate(blobs[i].split(b"\0")):
                        r = native.read_file(
                            kind, base + rel,
                            (shown + rel).decode("utf-8", "replace"),
                            columns=columns, rows=rows)
                        yield r if ordinals is None else \
                            ts.with_order(r, ordinals[i][j])
        out = _gather(readers())
        return post(out) if post is not None else out
    return run


def read_split_files(path: str, display_root: str,
                     parts: Sequence[Sequence[FileEntry]],
                     ordinals: Sequence[Sequence[int]],
                     side_dir: str) -> MapFn:
    """The mapInArrow function of a split read of local logs (SideRows):
    like read_files for the plays (ROWS_PLAYS, PLAY_READ, `_order`, then
    taskside.ordered_play_blobs), each file parsed once
    (_native.read_file_split): after a file's plays, its users' latest
    records and its rejects (SMALL_COLS) are read: the rejects go to the
    partition's side file in @side_dir at once (taskside.SideFile), the
    users (reduced on the way, taskside.LatestUsers) once the partition's
    files are read: memory grows with the users, not with the rejects."""
    base = os.fsencode(_dir_prefix(path))
    shown = os.fsencode(_dir_prefix(display_root))
    blobs = [b"\0".join(rel for rel, _ in p) for p in parts]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from sparkify_spark import _native as native  # on the executor
        from sparkify_spark import taskside as ts

        def part(i: int) -> Iterator[Iterable[pa.RecordBatch]]:
            if not parts[i]:  # none are made, but its file must be there
                ts.write_side(side_dir, i, native.read_records(
                    native.EVENTS, b"", "-", columns=ts.SMALL_COLS).schema,
                    [])
                return
            side: Optional[Any] = None  # ts.SideFile
            users = ts.LatestUsers()
            try:
                for j, rel in enumerate(blobs[i].split(b"\0")):
                    plays, latest = native.read_file_split(
                        base + rel, (shown + rel).decode("utf-8", "replace"),
                        columns=ts.PLAY_READ, user_columns=ts.SMALL_COLS)
                    if side is None:
                        side = ts.SideFile(side_dir, i, latest.schema)
                    yield ts.with_order(plays, ordinals[i][j])
                    # _gather has read the plays to their end. The rejects
                    # go to the file now, the users when the part is read.
                    for b in latest:
                        side.write([users.add(b)])
                    del plays, latest  # the file's C state goes now
                assert side is not None
                side.write(users.rows())
                side.commit()
            except BaseException:
                if side is not None:
                    side.abort()
                raise

        def readers() -> Iterator[Iterable[pa.RecordBatch]]:
            for batch in batches:
                for i in batch.column(0).to_pylist():
                    yield from part(i)
        return ts.ordered_play_blobs(_gather(readers()))
    return run


def _gather(readers: Iterable[Iterable[pa.RecordBatch]]
            ) -> Iterator[pa.RecordBatch]:
    """The readers' batches, gathered up to MIN_BATCH_ROWS rows: small
    files (one song each) would make one tiny batch each, and a batch
    costs ~1 ms."""
    pending: list[pa.RecordBatch] = []
    n_pending = 0
    for reader in readers:
        for rb in reader:
            pending.append(rb)
            n_pending += rb.num_rows
            if n_pending >= MIN_BATCH_ROWS:
                yield _concat(pending)
                pending, n_pending = [], 0
    if pending:
        yield _concat(pending)


def _concat(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    return batches[0] if len(batches) == 1 else pa.concat_batches(batches)


LOCAL_INPUTS_CONF = "spark.sparkify.localInputs"

# Local logs of at least this many bytes are not cached: a split reader
# (SideRows) parses them in C from the page cache, or, when Spark writes
# the lake, each of two readers (the plays; users and quarantine). On
# 1.07 GB of logs (L1) building Spark's columnar cache of the 27-column
# parsed rows was most of the executors' time: 94-99 s a run without the
# cache against 122-124 s with it. Small logs are cached:
# on D1 (4 MB) the extra stages of re-reading cost more (29.5 s median
# without, 26.4 s with). Remote logs are always cached (one fetch). The
# bound lies between those two measured sizes; it is not tuned.
REPARSE_MIN_BYTES = 256 << 20
# The same bound for one run (bytes; e.g. 0 to read small local logs the
# way large ones are read).
REPARSE_CONF = "spark.sparkify.reparseMinBytes"

FileEntry = Tuple[bytes, int]  # (path relative to the root, size on disk)


def _remote(path: str) -> bool:
    """@path has a scheme other than file: (s3a://, hdfs://): Hadoop's."""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path)) and \
        not path.startswith("file:")


def _conf_true(spark: SparkSession, key: str) -> bool:
    return spark.conf.get(key, "false").strip().lower() == "true"


def _tasks_see_driver_disk(master: str, opt_in: bool) -> bool:
    """Whether the tasks see the driver's local paths: a local[...] master
    (one process), or the user says so (@opt_in)."""
    return master == "local" or master.startswith("local[") or opt_in


def local_input_path(uri: str, master: str, opt_in: bool) -> Optional[str]:
    """The local path of the input root @uri (qualified: file:/...,
    s3a://...) when the driver lists it with liblake and the tasks open its
    files by path (LocalInputs), else None (binaryFile). Only a file: root
    on a local[...] master, where driver and tasks share the disk, or with
    @opt_in (spark.sparkify.localInputs=true: the roots are at the same
    path on the driver and on every executor, e.g. a shared mount or
    workers on the driver's host). s3a://, hdfs:// and file://host/ are
    for Hadoop to read: liblake cannot, so binaryFile lists them and ships
    the bytes. A separate opt-in from taskWrite: a lake on a shared mount
    says nothing about where the inputs are."""
    path = taskwrite.local_path(uri)
    if path is None or not _tasks_see_driver_disk(master, opt_in):
        return None
    return path


def local_inputs(spark: SparkSession, root: str) -> Optional[str]:
    """local_input_path for @root in @spark's settings: the path the
    driver lists and the tasks open, or None. A plain path is qualified
    first (on YARN/EMR it means HDFS, not the local disk); when it is
    local it is used as given, made absolute, as the native engine opens
    it (Hadoop would normalise "..")."""
    if _remote(root):
        return None  # s3a://, hdfs://: no need to ask Hadoop
    path = local_input_path(qualified(spark, root), spark.sparkContext.master,
                            _conf_true(spark, LOCAL_INPUTS_CONF))
    if path is None or root.startswith("file:"):
        return path
    return os.path.join(os.getcwd(), root)  # an absolute root stays


def pack_files(files: Sequence[FileEntry], n_cores: int, open_cost: int,
               max_bytes: int) -> List[List[FileEntry]]:
    """@files in partitions as Spark packs a file source's files
    (FilePartition.getFilePartitions, which binaryFile used here): every
    file costs its size plus @open_cost; the split size is the total
    cost over @n_cores, kept between @open_cost and @max_bytes; biggest
    files first, a partition closes when the next file would overflow
    it. Deterministic (ties by path): a rerun makes the same tasks."""
    total = sum(size + open_cost for _, size in files)
    split = min(max_bytes, max(open_cost, total // max(n_cores, 1)))
    parts: List[List[FileEntry]] = []
    cur: List[FileEntry] = []
    cur_bytes = 0
    for f in sorted(files, key=lambda f: (-f[1], f[0])):
        if cur and cur_bytes + f[1] > split:
            parts.append(cur)
            cur, cur_bytes = [], 0
        cur.append(f)
        cur_bytes += f[1] + open_cost
    if cur:
        parts.append(cur)
    return parts


class LocalInputs:
    """A local root @path listed once by liblake on the driver
    (_native.list_files, the native engine's own lister: no second copy
    of SPEC's rules in Python, none of Hadoop's serial listing), packed
    into partitions (pack_files, with the session's spark.sql.files.*
    sizes); each read() is a DataFrame whose tasks read their
    partition's files in C (read_files). A missing root is a LakeError
    naming it."""

    def __init__(self, spark: SparkSession, path: str,
                 display_root: str) -> None:
        self.spark, self.path, self.display_root = spark, path, display_root
        files = _native.list_files(path)  # sorted: the input order
        sql_conf = spark._jsparkSession.sessionState().conf()  # type: ignore
        self.parts = pack_files(files, spark.sparkContext.defaultParallelism,
                                int(sql_conf.filesOpenCostInBytes()),
                                int(sql_conf.filesMaxPartitionBytes()))
        place = {rel: i for i, (rel, _) in enumerate(files)}
        self.ordinals = [[place[rel] for rel, _ in p] for p in self.parts]
        self.bytes = sum(size for _, size in files)  # on disk

    def read(self, kind: int, schema: StructType, post: Post = None,
             order: bool = False, columns: Optional[Sequence[str]] = None,
             rows: int = _native.ROWS_ALL) -> DataFrame:
        """The rows of every file (through @post), @columns and @rows of
        them only (the C reader builds nothing else); with @order, each
        batch gets `_order` (read_files) before @post sees it."""
        return part_ids(self.spark, len(self.parts)).mapInArrow(
            read_files(kind, self.path, self.display_root, self.parts, post,
                       self.ordinals if order else None, columns, rows),
            schema)

    def read_split(self, side_dir: str) -> DataFrame:
        """The play blobs (transforms.PLAY_BLOBS) of event files, each file
        parsed once; its users and rejects go to @side_dir
        (read_split_files)."""
        return part_ids(self.spark, len(self.parts)).mapInArrow(
            read_split_files(self.path, self.display_root, self.parts,
                             self.ordinals, side_dir),
            transforms.PLAY_BLOBS)


# Split reads (SideRows) of large local logs when the tasks write the lake;
# False: two readers (tests run both).
SPLIT_READ = True
SIDE_DIR = "_side"  # in the run's staging folder
SIDE_POLL_S = 0.05


class SideRows:
    """One parse of large local logs for all their tables, when the tasks
    write the lake (its staging is on a disk the driver and the tasks
    share). The plays job's readers (LocalInputs.read_split, made in its
    thread once the staging exists) write each partition's users' latest
    records and rejects (SMALL_COLS) into a side file of the staging; the
    users and quarantine jobs wait in their threads until every partition's
    file is there (rows()), then read them in one task. Before, a second
    reader parsed the logs again for those rows: on L1 its stage was 3 s of
    the executors' ~15 s."""

    def __init__(self, spark: SparkSession, logs: LocalInputs) -> None:
        self.spark, self.logs = spark, logs
        # the rows' schema, for the tables' plans before the rows exist
        self.placeholder = spark.createDataFrame([], transforms.SMALL_ROWS)
        # set when the plays job has ended, however (TableJob.finished)
        self.plays_ended = threading.Event()
        self._lock = threading.Lock()
        self._rows: Optional[DataFrame] = None

    def close(self) -> None:
        """Drop the cached side rows."""
        if self._rows is not None:
            self._rows.unpersist()

    def plays(self, stage_dir: str) -> DataFrame:
        d = os.path.join(stage_dir, SIDE_DIR)
        os.makedirs(d, exist_ok=True)
        return self.logs.read_split(d)

    def rows(self, stage_dir: str, cancel: threading.Event) -> DataFrame:
        """The side rows (transforms.SMALL_ROWS), once every partition's
        file is written; taskwrite.Cancelled when @cancel is set first (a
        table's job failed, or the run was interrupted), RuntimeError when
        the plays job ended without writing them all."""
        with self._lock:
            if self._rows is None:
                d = os.path.join(stage_dir, SIDE_DIR)
                n = len(self.logs.parts)
                missing = set(range(n))
                while True:
                    ended = self.plays_ended.is_set()  # before the look
                    missing = {i for i in missing if not os.path.exists(
                        os.path.join(d, taskside.side_name(i)))}
                    if not missing:
                        break
                    if ended:
                        # A failed plays job sets cancel a moment later
                        # (taskwrite._run_all): then it is not this error.
                        if cancel.wait(1.0):
                            raise taskwrite.Cancelled("users and rejects")
                        raise RuntimeError(
                            f"sparkify: the plays job ended without the "
                            f"users and rejects of {len(missing)} of {n} "
                            f"input partitions in {d}")
                    if cancel.wait(SIDE_POLL_S):
                        raise taskwrite.Cancelled("users and rejects")

                def run(batches: Iterator[pa.RecordBatch]
                        ) -> Iterator[pa.RecordBatch]:
                    from sparkify_spark import taskside as ts
                    for _ in batches:  # the one row of the one partition
                        yield from ts.users_and_rejects(
                            ts.read_side(d, range(n)))
                # One task: a few rows per user and partition, and the
                # rejects; it keeps the latest record of each user.
                # Cached: the users and the quarantine job read them.
                self._rows = part_ids(self.spark, 1).mapInArrow(
                    run, transforms.SMALL_ROWS).persist(
                        StorageLevel.MEMORY_AND_DISK)
            return self._rows


def part_ids(spark: SparkSession, n: int) -> DataFrame:
    """Rows 0 .. @n-1, row i alone in partition i (no row when @n is 0).
    Not a DataFrame of file rows: one made from a Python
    list (createDataFrame over parallelize) adds a PythonRDD stage that
    cost ~1.4 s in a fresh JVM, as much as the listing saves on 1,000
    files (docs/SPARK.md, "native listing")."""
    return spark.range(0, n, 1, max(n, 1))


def read_parsed(spark: SparkSession, root: str, kind: int
                ) -> Tuple[DataFrame, Optional[LocalInputs], Optional[int]]:
    """Parsed rows (records and rejects) of every input file below
    @root, by the C reader inside the executors, and the bytes of the
    files listed (None when not known). Local roots
    (local_inputs) are listed by liblake and read by path (LocalInputs,
    also returned, for more readers of the same files): Hadoop's local
    listing is serial (~5 s for 15,000 files) and binaryFile copies every
    file JVM -> Python. Remote stores (s3a://, HDFS) and local paths the
    executors may not see go through binaryFile, which lists and reads
    with Hadoop's file systems; the '.'/'_' rule is then applied to its
    paths (_hidden)."""
    schema = transforms.SONG_ROWS if kind == _native.SONGS \
        else transforms.EVENT_ROWS
    local = local_inputs(spark, root)
    if local is not None:
        inputs = LocalInputs(spark, local, root)
        return inputs.read(kind, schema), inputs, inputs.bytes
    listing = (spark.read.format("binaryFile")
               .option("recursiveFileLookup", "true")
               .option("pathGlobFilter", INPUT_GLOB)
               .load(root))
    files = listing.select("path", "content")
    fn = parse_files(kind, qualified(spark, root), root)
    return files.mapInArrow(fn, schema), None, listed_bytes(listing)


def listed_bytes(files: DataFrame) -> Optional[int]:
    """The size of the files a file source (binaryFile, as loaded: a
    projection would scale the estimate by its columns' widths) listed:
    its plan's statistics, from the driver's listing (no job, no read);
    None when the plan has none."""
    try:
        n = files._jdf.queryExecution().optimizedPlan().stats() \
            .sizeInBytes()
        return int(str(n))
    except Exception:  # py4j or an unexpected plan: not known
        return None


def write_table(df: DataFrame, uri: str, partitions: Sequence[str]) -> None:
    """Overwrite one table. Rows of a partition are gathered into one task
    so that each partition folder gets one file, over as many tasks as the
    cluster has cores (a file costs Spark ~15 ms: the songs table has one
    folder per (year, artist_id), and AQE would coalesce it to one task)."""
    if partitions:
        n = df.sparkSession.sparkContext.defaultParallelism
        df = df.repartition(max(n, 1), *partitions)
    w = df.write.mode("overwrite")
    if partitions:
        w = w.partitionBy(*partitions)
    w.parquet(uri)


TASK_WRITE_CONF = "spark.sparkify.taskWrite"


def task_write_path(uri: str, master: str, opt_in: bool,
                    speculation: bool) -> Optional[str]:
    """The local path of the lake @uri (qualified: file:/..., s3a://...)
    when the tasks write its files themselves (taskwrite.py), else None
    (Spark's writer). Only a file: lake on a local[...] master, where
    driver and tasks share the disk, or with @opt_in (spark.sparkify.
    taskWrite=true: a folder every executor and the driver see at the
    same path, e.g. a shared mount or workers on the driver's host).
    Never with speculation: a losing attempt could still write after the
    driver checked the staging."""
    path = taskwrite.local_path(uri)
    if path is None or speculation:
        return None
    return path if _tasks_see_driver_disk(master, opt_in) else None


def task_writes(spark: SparkSession, lake: str) -> Optional[str]:
    """task_write_path for @lake in @spark's settings. A plain path is
    qualified first: on YARN/EMR it means HDFS, not the local disk."""
    if _remote(lake):
        return None  # s3a://, hdfs://: no need to ask Hadoop
    return task_write_path(
        qualified(spark, lake), spark.sparkContext.master,
        _conf_true(spark, TASK_WRITE_CONF),
        _conf_true(spark, "spark.speculation"))


# Logs per partition of the plays' shuffle (blobs of one hour, ~20 MB of
# LZ4 Arrow per 128 MB of logs). A receiving task gets its partition's
# blobs in Arrow batches of up to maxRecordsPerBatch rows (no byte bound:
# BASE_CONF) and holds one of them with its chunk: this bounds both, far
# below a binary column's 2 GB, unless one day has ~14 GB of logs (all
# of a day's plays are in one partition; docs/SPARK.md).
PLAY_PARTITION_LOG_BYTES = 128 << 20


def play_partitions(cores: int, log_bytes: Optional[int]) -> int:
    """Partitions of the plays' shuffle: one per core, more when the logs
    are large (one per PLAY_PARTITION_LOG_BYTES of @log_bytes: liblake's
    listing of local logs, Spark's of remote ones). A task writes one
    file per month folder it has plays of."""
    n = max(cores, 1)
    if log_bytes:
        n = max(n, -(-log_bytes // PLAY_PARTITION_LOG_BYTES))
    return n


def plays_rows(dim: Any) -> MapFn:
    """The mapInArrow function of the plays (transforms.plays_by_day)
    when Spark writes the tables: taskside.hour_plays, then
    taskside.songplays against @dim (a
    Broadcast of taskside.songs_dim), transforms.SONGPLAY_ROWS out."""
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from sparkify_spark import taskside as ts  # on the executor
        for t in ts.songplays(ts.hour_plays(batches), dim.value):
            yield from t.to_batches()
    return run


def songs_dim(spark: SparkSession, last_songs: DataFrame) -> Any:
    """The songs the plays are matched against, collected on the driver
    and broadcast to the executors (what a broadcast join does): a
    Broadcast of taskside.songs_dim."""
    t = last_songs.select(*taskside.DIM_COLS).toArrow()
    return spark.sparkContext.broadcast(taskside.songs_dim(t))


def run(spark: SparkSession, song_root: str, log_root: str,
        lake: str, how: Optional[Dict[str, str]] = None) -> Dict[str, float]:
    """The whole ETL; returns seconds per step (with task-side writes the
    tables are written concurrently: each figure is when that table's
    files were all written, counted from the start of the writes). @how,
    when given, gets "logs": how the logs were read ("cached", "split" or
    "two readers")."""
    timings: Dict[str, float] = {}
    t0 = time.perf_counter()
    for k in RUNTIME_CONF:
        spark.conf.set(k, BASE_CONF[k])
    ship_code(spark)
    t = time.perf_counter()
    persisted: List[DataFrame] = []
    song_rows = read_parsed(spark, song_root, _native.SONGS)[0] \
        .persist(StorageLevel.MEMORY_AND_DISK)
    persisted.append(song_rows)
    event_rows, logs, log_bytes = read_parsed(spark, log_root,
                                              _native.EVENTS)
    lake = lake.rstrip("/") or "/"
    local = task_writes(spark, lake)
    side: Optional[SideRows] = None
    plays: Optional[DataFrame] = None
    reparse_min = int(spark.conf.get(REPARSE_CONF, str(REPARSE_MIN_BYTES)))
    if logs is None or logs.bytes < reparse_min:
        event_rows = event_rows.persist(StorageLevel.MEMORY_AND_DISK)
        persisted.append(event_rows)
        plays = transforms.plays(event_rows)
        users_from = transforms.records(event_rows)
        event_rejects = transforms.rejects(event_rows)
        logs_read = "cached"
    elif local is not None and SPLIT_READ:
        # One parse (SideRows): the plays job's readers are made in its
        # thread, the users and quarantine wait for their side rows.
        side = SideRows(spark, logs)
        users_from = transforms.records(side.placeholder)
        event_rejects = transforms.rejects(side.placeholder)
        logs_read = "split"
    else:
        # Two readers of the same files, each keeping in the task what
        # its tables need (taskside.py): the plays, and the few rows of
        # the users table and the quarantine (cached for both).
        plays = logs.read(_native.EVENTS, transforms.PLAY_BLOBS,
                          taskside.ordered_play_blobs, order=True,
                          columns=taskside.PLAY_READ,
                          rows=_native.ROWS_PLAYS)
        small = logs.read(_native.EVENTS, transforms.SMALL_ROWS,
                          taskside.users_and_rejects,
                          columns=taskside.SMALL_COLS,
                          rows=_native.ROWS_USERS) \
            .persist(StorageLevel.MEMORY_AND_DISK)
        persisted.append(small)
        users_from = transforms.records(small)
        event_rejects = transforms.rejects(small)
        logs_read = "two readers"
    if how is not None:
        how["logs"] = logs_read
    timings["list"] = time.perf_counter() - t  # both roots, on the driver
    tables = transforms.star_schema(song_rows, users_from, event_rejects)
    n_plays = play_partitions(spark.sparkContext.defaultParallelism,
                              log_bytes)
    dims: List[Any] = []  # the broadcast songs, once made

    def dim() -> Any:
        dims.append(songs_dim(spark, tables["_last_songs"]))
        return dims[-1]

    try:
        if local is not None:
            def prepare(stage_dir: str, run_id: str
                        ) -> Tuple[DataFrame, MapFn]:
                # In the job's thread: the other tables start meanwhile.
                blobs = side.plays(stage_dir) if side is not None else plays
                return (transforms.plays_by_day(blobs, n_plays),
                        taskwrite.plays_writer(stage_dir, run_id, dim()))

            def later(name: str) -> Optional[taskwrite.Later]:
                if side is None:
                    return None
                rows = side.rows  # bound before `side` could change
                if name == "users":
                    return lambda d, cancel: transforms.users_table(
                        transforms.records(rows(d, cancel)))
                if name == "_quarantine":
                    return lambda d, cancel: transforms.quarantine(
                        transforms.rejects(song_rows),
                        transforms.rejects(rows(d, cancel)))
                return None
            # Biggest first: FIFO gives the first job the free cores.
            jobs = [taskwrite.TableJob(
                n, tables[n], transforms.PARTITIONS.get(n, []),
                json=n == "_quarantine", later=later(n))
                for n in ("songs", "artists", "users", "_quarantine")]
            jobs.insert(1, taskwrite.TableJob(
                "songplays", song_rows, prepare=prepare,
                outputs=("songplays", "time"),
                finished=side.plays_ended if side is not None else None))
            taskwrite.write_tables(local, jobs, timings)
        else:
            assert plays is not None  # no side rows without task writes
            by_day = transforms.plays_by_day(plays, n_plays)
            rows = by_day.mapInArrow(plays_rows(dim()),
                                       transforms.SONGPLAY_ROWS) \
                .persist(StorageLevel.MEMORY_AND_DISK)
            persisted.append(rows)
            tables["songplays"] = transforms.songplays_columns(rows)
            tables["time"] = transforms.time_table(rows)
            spark_writes(tables, lake, timings)
    finally:
        if side is not None:
            side.close()
        for df in persisted:
            df.unpersist()
        for bc in dims:
            bc.destroy()
    timings["total"] = time.perf_counter() - t0
    return timings


def spark_writes(tables: Dict[str, DataFrame], lake: str,
                 timings: Dict[str, float]) -> None:
    """Every table with Spark's writer, one after the other (s3a://: the
    magic committer writes _SUCCESS per table)."""
    for name in ("songs", "artists", "users", "songplays", "time"):
        t = time.perf_counter()
        write_table(tables[name], f"{lake}/{name}", transforms.PARTITIONS[name])
        timings[name] = time.perf_counter() - t
    t = time.perf_counter()
    (tables["_quarantine"].write.mode("overwrite")
     .option("ignoreNullFields", "false").json(f"{lake}/_quarantine"))
    timings["_quarantine"] = time.perf_counter() - t


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="sparkify_spark.job",
        description="sparkify ETL on Spark with liblake in the executors")
    p.add_argument("paths", nargs="+", metavar="INPUT LAKE | LAKE")
    p.add_argument("--songs", help="folder (or s3a:// prefix) of song files")
    p.add_argument("--logs", help="folder (or s3a:// prefix) of log files")
    p.add_argument("--master", help="Spark master (default: spark-submit's "
                   "or local[*])")
    p.add_argument("--s3-endpoint", help="S3 endpoint for s3a:// (a local "
                   "test server); credentials from AWS_ACCESS_KEY_ID/"
                   "AWS_SECRET_ACCESS_KEY")
    p.add_argument("--conf", action="append", default=[], metavar="K=V",
                   help="extra Spark setting (repeatable)")
    a = p.parse_args(argv)
    if (a.songs is None) != (a.logs is None):
        p.error("--songs and --logs go together")
    if a.songs is not None:
        if len(a.paths) != 1:
            p.error("with --songs/--logs give only LAKE")
        a.lake = a.paths[0]
    else:
        if len(a.paths) != 2:
            p.error("give INPUT and LAKE")
        base = a.paths[0].rstrip("/") or "/"
        a.songs, a.logs, a.lake = base + "/song_data", base + "/log_data", \
            a.paths[1]
    return a


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    extra: Dict[str, str] = {}
    if any(str(x).startswith("s3a://") for x in (a.songs, a.logs, a.lake)):
        extra.update(s3a_conf(a.s3_endpoint))
    for kv in a.conf:
        k, _, v = kv.partition("=")
        extra[k] = v
    spark = build_session(a.master, extra=extra)
    try:
        how: Dict[str, str] = {}
        timings = run(spark, a.songs, a.logs, a.lake, how)
    finally:
        spark.stop()
    print(f"sparkify_spark: logs read {how.get('logs')}; " + ", ".join(
        f"{k} {v:.2f}s" for k, v in timings.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

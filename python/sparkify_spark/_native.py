# SPDX-License-Identifier: Apache-2.0
"""The only ctypes module over liblake (taskwrite.py calls libc's
renameat2 and syncfs): loads liblake once per process, lists a local
root's input files, turns one input file into Arrow record batches through
the Arrow C Stream Interface and names partition folders, all as the
native engine does.

The library is found, in order, at $LAKE_LIB, as "liblake.so*" shipped
with `--files` / SparkContext.addFile (SparkFiles), or in $SPARKIFY_BUILD /
the repository's build/ folder."""
from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import pyarrow as pa

SONGS = 0
EVENTS = 1
ROWS_ALL = 0    # LAKE_ARROW_ROWS_ALL: every record and reject
ROWS_PLAYS = 1  # LAKE_ARROW_ROWS_PLAYS: the NextSong records only
ROWS_USERS = 2  # LAKE_ARROW_ROWS_USERS: rejects, each user's latest record
LIB_NAME = "liblake.so"
NAME_CAP = 256  # LAKE_HIVE_PARTITION_NAME_MAX + 1: every name and its NUL

Bytes = Union[bytes, bytearray, memoryview, pa.Buffer]


class LakeError(Exception):
    """A failing lake_status with the library's message."""

    def __init__(self, code: int, offset: int, message: str) -> None:
        super().__init__(f"{message} (status {code}, offset {offset})")
        self.code = code
        self.offset = offset


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("offset", ctypes.c_int64),
                ("message", ctypes.c_char * 256)]


class _Opts(ctypes.Structure):
    _fields_ = [("alloc", ctypes.c_void_p), ("batch_rows", ctypes.c_int64),
                ("max_bytes", ctypes.c_size_t), ("gzip", ctypes.c_int),
                ("columns", ctypes.c_uint64), ("rows", ctypes.c_int)]


class _Stream(ctypes.Structure):
    """struct ArrowArrayStream: five pointers; pyarrow takes it over."""

    _fields_ = [("get_schema", ctypes.c_void_p),
                ("get_next", ctypes.c_void_p),
                ("get_last_error", ctypes.c_void_p),
                ("release", ctypes.c_void_p),
                ("private_data", ctypes.c_void_p)]


# lake_list_fn: (ctx, rel_path, size_bytes, err) -> lake_status
_LIST_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                            ctypes.c_int64, ctypes.POINTER(_Error))


def library_path() -> str:
    """Where liblake.so is for this process."""
    env = os.environ.get("LAKE_LIB")
    if env:
        return env
    try:
        from pyspark import SparkFiles
        # --files of a symlink ships the target's name (liblake.so.0.4.0).
        root = Path(SparkFiles.getRootDirectory())
        for shipped in sorted(root.glob(LIB_NAME + "*")):
            return str(shipped.resolve())
    except Exception:  # no SparkContext / not on an executor
        pass
    build = os.environ.get("SPARKIFY_BUILD")
    root = Path(build) if build else Path(__file__).resolve().parents[2] / "build"
    return str(root / LIB_NAME)


@functools.lru_cache(maxsize=None)
def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(library_path())
    for name in ("lake_arrow_read_records",):
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                       ctypes.c_char_p, ctypes.POINTER(_Opts),
                       ctypes.POINTER(_Stream), ctypes.POINTER(_Error)]
        fn.restype = ctypes.c_int
    lib.lake_arrow_read_file.argtypes = [
        ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
        ctypes.POINTER(_Opts), ctypes.POINTER(_Stream),
        ctypes.POINTER(_Error)]
    lib.lake_arrow_read_file.restype = ctypes.c_int
    lib.lake_arrow_read_file_split.argtypes = [
        ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_Opts),
        ctypes.c_uint64, ctypes.POINTER(_Stream), ctypes.POINTER(_Stream),
        ctypes.POINTER(_Error)]
    lib.lake_arrow_read_file_split.restype = ctypes.c_int
    lib.lake_list_input_files.argtypes = [
        ctypes.c_char_p, ctypes.c_void_p, _LIST_FN, ctypes.c_void_p,
        ctypes.POINTER(_Error)]
    lib.lake_list_input_files.restype = ctypes.c_int
    lib.lake_version.argtypes = []
    lib.lake_version.restype = ctypes.c_char_p
    lib.lake_hive_partition_name.argtypes = [
        ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int,
        ctypes.POINTER(ctypes.c_char), ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(_Error)]
    lib.lake_hive_partition_name.restype = ctypes.c_int
    return lib


def version() -> str:
    return str(_lib().lake_version().decode())


def _import(stream: _Stream) -> pa.RecordBatchReader:
    return pa.RecordBatchReader._import_from_c(ctypes.addressof(stream))


@functools.lru_cache(maxsize=None)
def column_names(kind: int) -> Tuple[str, ...]:
    """Every column of @kind's batches, in the C reader's order."""
    return tuple(read_records(kind, b"", "x.json").schema.names)


def _mask(kind: int, columns: Optional[Sequence[str]]) -> int:
    """lake_arrow_opts.columns for @columns (None: all)."""
    if columns is None:
        return 0
    names = column_names(kind)
    unknown = set(columns) - set(names)
    if unknown:
        raise ValueError(f"no such column: {sorted(unknown)}")
    return sum(1 << names.index(c) for c in set(columns))


def _opts(kind: int, batch_rows: int, columns: Optional[Sequence[str]],
          rows: int) -> _Opts:
    return _Opts(None, batch_rows, 0, 0, _mask(kind, columns), rows)


def read_records(kind: int, data: Bytes, source: str,
                 batch_rows: int = 0,
                 columns: Optional[Sequence[str]] = None,
                 rows: int = ROWS_ALL) -> pa.RecordBatchReader:
    """Parse one file's bytes (gunzipped when `source` ends in .gz) into a
    reader of record batches; see lake_arrow_read_records in lake.h.
    @columns keeps those columns only (in the C reader's order, whatever
    the order given); @rows = ROWS_PLAYS gives the plays only, ROWS_USERS
    the rejects and each user's latest record of the file."""
    if isinstance(data, pa.Buffer):
        addr, size, keep = data.address, data.size, data
    else:
        keep = bytes(data) if not isinstance(data, bytes) else data
        addr = ctypes.cast(ctypes.c_char_p(keep), ctypes.c_void_p).value
        size = len(keep)
    stream, err = _Stream(), _Error()
    opts = _opts(kind, batch_rows, columns, rows)
    rc = _lib().lake_arrow_read_records(
        kind, addr, size, os.fsencode(source), ctypes.byref(opts),
        ctypes.byref(stream), ctypes.byref(err))
    del keep  # the C side copied the bytes
    if rc != 0:
        raise LakeError(err.code, err.offset, err.message.decode(errors="replace"))
    return _import(stream)


def read_file(kind: int, path: Union[str, bytes],
              source: Union[str, bytes, None] = None,
              batch_rows: int = 0,
              columns: Optional[Sequence[str]] = None,
              rows: int = ROWS_ALL) -> pa.RecordBatchReader:
    """Read a local file as the native engine does (gzip by name), as
    read_records does. Paths and `source` may be bytes (os.fsencode's),
    for names that are not UTF-8."""
    stream, err = _Stream(), _Error()
    opts = _opts(kind, batch_rows, columns, rows)
    rc = _lib().lake_arrow_read_file(
        kind, os.fsencode(path),
        os.fsencode(source) if source is not None else None,
        ctypes.byref(opts), ctypes.byref(stream), ctypes.byref(err))
    if rc != 0:
        raise LakeError(err.code, err.offset, err.message.decode(errors="replace"))
    return _import(stream)


def read_file_split(path: Union[str, bytes],
                    source: Union[str, bytes, None] = None,
                    batch_rows: int = 0,
                    columns: Optional[Sequence[str]] = None,
                    user_columns: Optional[Sequence[str]] = None
                    ) -> Tuple[pa.RecordBatchReader, pa.RecordBatchReader]:
    """One parse of a local event file for two readers (see
    lake_arrow_read_file_split in lake.h): the plays (read_file with
    rows=ROWS_PLAYS and @columns), then, once those are read to the end,
    the ROWS_USERS rows with @user_columns (reading them earlier raises
    pyarrow.ArrowInvalid)."""
    plays, users, err = _Stream(), _Stream(), _Error()
    opts = _opts(EVENTS, batch_rows, columns, ROWS_PLAYS)
    rc = _lib().lake_arrow_read_file_split(
        os.fsencode(path),
        os.fsencode(source) if source is not None else None,
        ctypes.byref(opts), _mask(EVENTS, user_columns), ctypes.byref(plays),
        ctypes.byref(users), ctypes.byref(err))
    if rc != 0:
        raise LakeError(err.code, err.offset, err.message.decode(errors="replace"))
    try:
        p = _import(plays)
    except BaseException:
        with contextlib.suppress(Exception):
            _import(users)  # released at once: the state is freed
        raise
    return p, _import(users)


def list_files(root: Union[str, bytes]) -> List[Tuple[bytes, int]]:
    """The input files below the local folder @root as the native engine
    finds them (lake_list_input_files: SPEC's names, '.'/'_' names
    skipped, symlinks followed, sorted in byte order): (path relative to
    @root, size on disk) pairs. Paths are the file system's bytes, so a
    name that is not UTF-8 still opens. A missing root, or one that is not
    a folder, is a LakeError naming it."""
    files: List[Tuple[bytes, int]] = []
    failed: List[BaseException] = []

    def add(_ctx: object, rel: bytes, size: int, _err: object) -> int:
        try:
            files.append((rel, size))
        except BaseException as e:  # never unwind through C: stop instead
            failed.append(e)
            return 1  # LAKE_EINVAL
        return 0

    err = _Error()
    rc = _lib().lake_list_input_files(os.fsencode(root), None, _LIST_FN(add),
                                      None, ctypes.byref(err))
    if failed:
        raise failed[0]
    if rc != 0:
        raise LakeError(err.code, err.offset, err.message.decode(errors="replace"))
    return files


# A name costs ~10 us through ctypes, a cached one ~0.3 us: the year and
# month folders repeat in every task, an artist's in each of its years.
@functools.lru_cache(maxsize=4096, typed=True)  # typed: 1, True, "1" differ
def partition_name(column: str, value: object) -> str:
    """The folder `column=value` as the native engine names it
    (lake_hive_partition_name in lake.h), which is Spark's name for str
    and int values: None and "" are __HIVE_DEFAULT_PARTITION__; any other
    value is named by str(value) (a bool gives "True" where Spark writes
    "true"; the tables' partition columns are ints and strings); text is
    UTF-8, surrogateescape both ways."""
    col = column.encode("utf-8", "surrogateescape")
    if b"\0" in col:  # C would stop there
        raise ValueError(f"partition column with NUL: {column!r}")
    data = (None if value is None
            else str(value).encode("utf-8", "surrogateescape"))
    out = ctypes.create_string_buffer(NAME_CAP)
    n, err = ctypes.c_size_t(), _Error()
    rc = _lib().lake_hive_partition_name(
        col, data, len(data or b""), int(data is not None), out, NAME_CAP,
        ctypes.byref(n), ctypes.byref(err))
    if rc != 0:
        raise LakeError(err.code, err.offset, err.message.decode(errors="replace"))
    return out.raw[:n.value].decode("utf-8", "surrogateescape")

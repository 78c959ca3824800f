# SPDX-License-Identifier: Apache-2.0
"""Arrow work inside the tasks, on the C reader's record batches, so that
the JVM converts, caches and shuffles only the rows a table needs
(docs/SPARK.md, "Arrow in the tasks").

Why: on a gigabyte of logs (L1) the executors spent most of their time
turning 2.3 million 27-column rows into Spark rows, caching them and
sorting them for `min(struct(...))` aggregations; the C parse was a small
part. pyarrow's kernels do the same work on whole columns.

- ordered_plays: the plays the C reader gives (only the NextSong records
  and the columns songplays needs: lake_arrow_opts.columns and .rows)
  with their input order in one int64 (with_order).
- play_blobs: a task's plays for the shuffle, as LZ4 Arrow IPC streams of
  one hour each in binary rows (year, month, day, hour, blob): Spark moves
  and sorts those rows, never the plays themselves.
- users_and_rejects: the rejects (the quarantine), and the task's latest
  event per user in the users table's order (ts, session_id,
  item_in_session, source, rec). The order is total ((source, rec) names
  one record), so the latest of the tasks' latest events is the latest
  event: Spark's aggregation across tasks then sees a few rows per user
  and task instead of every event. LatestUsers is the same as a sink.
- SideFile, read_side: a split read's users and rejects of one input
  partition, as an Arrow IPC file in the run's staging (job.SideRows).
- hour_plays, songplays: after Spark has partitioned the blobs by day and
  sorted each partition by hour, hour_plays reads them back as tables of
  whole hours (~CHUNK_ROWS plays), and one pass over each keeps the first
  event of each identity (user_id, session_id, item_in_session, ts) in
  input order (`_order`, or source and rec), matches it against the songs
  (a broadcast Arrow table: equal title and artist_name bytes,
  |duration - length| <= 0.001, the smallest difference then the
  smallest song_id) and marks the first row of each start_time (the time
  table). An identity includes ts, so its events are in one hour; the
  pass holds one chunk, the task also the Arrow batch of blobs Spark gave
  it.

Every function here but the side files' is a pure function of Arrow
data; transforms.py has the Spark side, job.py puts them together."""
from __future__ import annotations

from typing import (Any, Iterable, Iterator, List, Optional, Sequence,
                    Tuple)

import pyarrow as pa
import pyarrow.compute as pc

MATCH_TOLERANCE = 0.001

# The columns each consumer reads from the C reader's event rows. The
# plays' input order is (source, rec), or `_order` (with_order) where the
# reader knows each file's place in the listing: 8 bytes instead of a path
# in every row that Spark shuffles and sorts.
PLAY_BODY = ("ts", "start_time", "session_id", "item_in_session", "user_id",
             "level", "location", "user_agent", "song", "artist", "length",
             "songplay_id", "hour", "day", "week", "month", "year", "weekday")
PLAY_COLS = ("source", "rec") + PLAY_BODY
ORDERED_PLAY_COLS = ("_order",) + PLAY_BODY
PLAY_READ = ("rec",) + PLAY_BODY  # asked of the C reader, with ROWS_PLAYS
REC_LIMIT = 1 << 32  # records of one file that `_order` can tell apart
USER_ORDER = ("user_id", "ts", "session_id", "item_in_session", "source",
              "rec")
USER_COLS = USER_ORDER + ("first_name", "last_name", "gender", "level")
REJECT_COLS = ("source", "line", "reason", "raw", "rec")
# users_and_rejects: both kinds of rows in one set of columns (a reject
# has `reason`, a user's latest record has not).
SMALL_COLS = USER_COLS + ("line", "reason", "raw")

IDENTITY = ("ts", "user_id", "session_id", "item_in_session")
SONGPLAY_COLS = ("songplay_id", "start_time", "user_id", "level", "song_id",
                 "artist_id", "session_id", "location", "user_agent", "year",
                 "month")
TIME_COLS = ("start_time", "hour", "day", "week", "month", "year", "weekday")
# The songs a play is matched against (one row per song_id).
DIM_COLS = ("song_id", "title", "artist_id", "artist_name", "duration")

# The plays' shuffle (play_blobs): partitioned by day, a blob holds
# plays of one hour (the unit the tasks gather into chunks).
DAY_KEY = ("year", "month", "day")
BLOB_KEY = DAY_KEY + ("hour",)
BLOB_COLS = BLOB_KEY + ("blob",)
BLOB_ROWS = 1 << 16  # plays a task holds before it makes blobs of them
BLOB_BYTES_LIMIT = 1 << 31  # a binary column's int32 offsets

CHUNK_ROWS = 1 << 18  # plays gathered before a pass (plus one hour)
USER_STATE_ROWS = 1 << 18  # events gathered before they are reduced


def with_order(batches: Iterable[pa.RecordBatch],
               ordinal: int) -> Iterator[pa.RecordBatch]:
    """@batches of one file, the @ordinal-th of the sorted listing, with
    `_order` = ordinal * 2^32 + rec appended: their input order."""
    base = pa.scalar(ordinal * REC_LIMIT, pa.int64())
    for b in batches:
        rec = b.column("rec")
        if b.num_rows and pc.max(rec).as_py() >= REC_LIMIT:
            raise ValueError(f"more than {REC_LIMIT} records in one file")
        yield b.append_column("_order", pc.add(rec, base))


def ordered_plays(batches: Iterable[pa.RecordBatch]
                  ) -> Iterator[pa.RecordBatch]:
    """The plays the C reader gives for PLAY_READ (its ROWS_PLAYS rows)
    with `_order` (with_order): ORDERED_PLAY_COLS."""
    for b in batches:
        if b.num_rows:
            yield b.select(list(ORDERED_PLAY_COLS))


def ordered_play_blobs(batches: Iterable[pa.RecordBatch]
                       ) -> Iterator[pa.RecordBatch]:
    """ordered_plays, then play_blobs: the readers of large logs."""
    return play_blobs(ordered_plays(batches))


def play_blobs(batches: Iterable[pa.RecordBatch]
               ) -> Iterator[pa.RecordBatch]:
    """A task's plays (PLAY_COLS or ORDERED_PLAY_COLS) as BLOB_COLS rows,
    what the plays' shuffle moves: (year, month, day, hour, blob), each
    blob an Arrow IPC stream of plays of that hour. About BLOB_ROWS plays
    are held at a time, so an hour may have several blobs per task.
    Spark then moves and sorts a few thousand binary rows instead of
    every play as a row of its own (converted from Arrow, serialized,
    sorted, converted back to Arrow for the task that writes it)."""
    held: List[pa.RecordBatch] = []
    n = 0
    for b in batches:
        if not b.num_rows:
            continue
        held.append(b)
        n += b.num_rows
        if n >= BLOB_ROWS:
            yield _blobs(pa.Table.from_batches(held))
            held, n = [], 0
    if held:
        yield _blobs(pa.Table.from_batches(held))


# LZ4 blobs: a third of the bytes the JVM copies (into its row, its
# shuffle files, its sorter, the Arrow batch for the receiving task). On
# L1 the receiving stage's task time went from 5.7 to 3.2 s and the
# job's from 12.7 to 11.5 s; compressing costs ~0.35 s of CPU there.
_IPC = pa.ipc.IpcWriteOptions(compression="lz4")


def _blobs(t: pa.Table) -> pa.RecordBatch:
    """@t's rows as BLOB_COLS, one blob per run of one hour (BLOB_KEY) in
    the order they come: a log file holds about one day in time order,
    and a sort would copy every play once more. Plays out of time order
    (more than twice as many runs as hours, plus a few) are sorted by
    hour first: a blob a play would cost a stream header each. The
    streams are written one after the other into one buffer, the blob
    column's data, with their offsets."""
    import numpy as np
    starts = run_starts(t, BLOB_KEY)
    firsts = t.select(list(BLOB_KEY)).take(starts)  # each blob's key
    if len(starts) > 8:
        hours = len(set(zip(*[firsts.column(k).to_pylist()
                              for k in BLOB_KEY])))
        if len(starts) > 2 * hours + 8:
            t = t.sort_by([(k, "ascending") for k in BLOB_KEY])
            starts = run_starts(t, BLOB_KEY)
            firsts = t.select(list(BLOB_KEY)).take(starts)
    bounds = starts.to_pylist() + [t.num_rows]
    sink = pa.BufferOutputStream()
    offsets = [0]
    for s, e in zip(bounds, bounds[1:]):
        with pa.ipc.new_stream(sink, t.schema, options=_IPC) as w:
            w.write_table(t.slice(s, e - s))
        offsets.append(sink.tell())
    if offsets[-1] >= BLOB_BYTES_LIMIT:
        raise ValueError("sparkify: plays of one batch over 2 GB as Arrow")
    blob = pa.Array.from_buffers(
        pa.binary(), len(offsets) - 1,
        [None, pa.py_buffer(np.array(offsets, dtype=np.int32)),
         sink.getvalue()])
    cols = [firsts.column(k).cast(pa.int32()).combine_chunks()
            for k in BLOB_KEY]
    return pa.record_batch(cols + [blob], names=list(BLOB_COLS))


def hour_plays(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Table]:
    """BLOB_COLS rows sorted by BLOB_KEY (transforms.plays_by_day) back to
    plays: tables of whole hours, the hours gathered up to about
    CHUNK_ROWS plays (one hour may make a table bigger). What songplays
    reads: every play of a ts is in one table, and the tables come in ts
    order. At most one table and one hour are held."""
    held: List[pa.Table] = []
    n = 0
    key: Optional[Tuple[Any, ...]] = None
    for b in batches:
        cols = [b.column(k).to_pylist() for k in BLOB_KEY]
        blob = b.column("blob")
        for i in range(b.num_rows):
            k = tuple(c[i] for c in cols)
            if k != key and n >= CHUNK_ROWS:  # between two hours
                yield pa.concat_tables(held)
                held, n = [], 0
            key = k
            t = pa.ipc.open_stream(blob[i].as_buffer()).read_all()
            held.append(t)
            n += t.num_rows
    if held:
        yield pa.concat_tables(held)


def _change(t: pa.Table, keys: Sequence[str]) -> pa.Array:
    """Row i of the result: whether rows i and i + 1 of @t differ in any
    of @keys, NULL equal to NULL (never NULL itself)."""
    n = t.num_rows
    out: Optional[pa.Array] = None
    for k in keys:
        col = t.column(k)
        a, b = col.slice(1, n - 1), col.slice(0, n - 1)
        d = pc.not_equal(a, b)
        if col.null_count:  # the plays' keys never are: the cheap path
            d = pc.if_else(pc.or_(pc.is_null(a), pc.is_null(b)),
                           pc.not_equal(pc.is_null(a), pc.is_null(b)), d)
        out = d if out is None else pc.or_(out, d)
    assert out is not None
    return out


def _nonzero(change: pa.Array) -> pa.Array:
    """Indexes of the true rows of @change, one array (uint64)."""
    idx = pc.indices_nonzero(change)
    return idx.combine_chunks() if isinstance(idx, pa.ChunkedArray) else idx


def run_starts(t: pa.Table, keys: Sequence[str]) -> pa.Array:
    """Indexes of the first row of each run of equal @keys in @t (sorted
    by them; NULL equal to NULL)."""
    if t.num_rows == 0:
        return pa.array([], pa.uint64())
    nxt = pc.add(_nonzero(_change(t, keys)), pa.scalar(1, pa.uint64()))
    return pa.concat_arrays([pa.array([0], pa.uint64()), nxt])


def run_ends(t: pa.Table, keys: Sequence[str]) -> pa.Array:
    """Indexes of the last row of each run of equal @keys in @t."""
    n = t.num_rows
    if n == 0:
        return pa.array([], pa.uint64())
    return pa.concat_arrays([_nonzero(_change(t, keys)),
                             pa.array([n - 1], pa.uint64())])


def runs(t: pa.Table, keys: Sequence[str]) -> List[Tuple[int, int]]:
    """(offset, length) of each run of equal @keys in @t."""
    starts = run_starts(t, keys).to_pylist()
    return [(s, e - s) for s, e in zip(starts, starts[1:] + [t.num_rows])]


def _latest(t: pa.Table) -> pa.Table:
    """The latest row per user_id of @t (USER_COLS)."""
    t = t.sort_by([(k, "ascending") for k in USER_ORDER])
    return t.take(run_ends(t, ("user_id",)))


def users_and_rejects(batches: Iterable[pa.RecordBatch]
                      ) -> Iterator[pa.RecordBatch]:
    """The rows of the C reader's event rows that the users table and the
    quarantine need, SMALL_COLS: every reject, and the latest record per
    user (at most about USER_STATE_ROWS records held besides one per
    user). Few rows: the job caches them for both tables. The job's
    reader gives only rejects and each file's latest record per user
    (_native.ROWS_USERS: the same result from ~1/12 of L1's rows, none of
    the others built); any event rows will do."""
    users = LatestUsers()
    for b in batches:
        bad = users.add(b)
        if bad.num_rows:
            yield bad
    yield from users.rows()


class LatestUsers:
    """users_and_rejects as a sink: add() takes event rows (any columns
    with SMALL_COLS), keeps their records and gives back their rejects;
    rows() gives the latest record per user of all rows added. At most
    about USER_STATE_ROWS records are held besides one per user."""

    def __init__(self) -> None:
        self._state: List[pa.RecordBatch] = []
        self._n = 0
        self._kept = 0  # rows the last reduction kept

    def add(self, b: pa.RecordBatch) -> pa.RecordBatch:
        b = b.select(list(SMALL_COLS))
        reason = b.column("reason")
        r = b.filter(pc.is_null(reason))
        if r.num_rows:
            self._state.append(r)
            self._n += r.num_rows
            # Reduce when the rows held double what the last reduction
            # kept (at least USER_STATE_ROWS): with many users a reduction
            # keeps many rows, and reducing after every batch would be
            # quadratic.
            if self._n >= max(USER_STATE_ROWS, 2 * self._kept):
                reduced = _latest(
                    pa.Table.from_batches(self._state)).to_batches()
                self._state = list(reduced)
                self._n = self._kept = sum(x.num_rows for x in reduced)
        return b.filter(pc.is_valid(reason))

    def rows(self) -> Iterator[pa.RecordBatch]:
        if self._state:
            yield from _latest(pa.Table.from_batches(self._state)).to_batches()


def side_name(part: int) -> str:
    """The file of input partition @part's users and rejects in a split
    read's side folder (job.SideRows)."""
    return f"part-{part:05d}.arrow"


class SideFile:
    """The Arrow IPC file of input partition @part's users and rejects
    (SMALL_COLS, @schema) in a split read's side folder @folder: written
    under a hidden temporary name and renamed by commit(), so that the
    driver sees a whole file or none (another attempt of the task writes
    the same rows); abort() removes the temporary."""

    def __init__(self, folder: str, part: int, schema: pa.Schema) -> None:
        import os
        import uuid
        self.final = os.path.join(folder, side_name(part))
        self.tmp = os.path.join(folder,
                                f".{side_name(part)}.{uuid.uuid4().hex}")
        self.schema = pa.schema([schema.field(c) for c in SMALL_COLS])
        self._file = pa.OSFile(self.tmp, "wb")
        try:
            self._writer = pa.ipc.new_file(self._file, self.schema)
        except BaseException:
            self._file.close()
            os.unlink(self.tmp)
            raise

    def write(self, batches: Iterable[pa.RecordBatch]) -> None:
        for b in batches:
            if b.num_rows:
                self._writer.write_batch(b.select(list(SMALL_COLS)))

    def commit(self) -> None:
        import os
        self._writer.close()
        self._file.close()
        os.replace(self.tmp, self.final)

    def abort(self) -> None:
        """Remove the temporary; errors of closing it (after a failed
        write or commit) are not the cause and are dropped."""
        import contextlib
        import os
        for close in (self._writer.close, self._file.close):
            with contextlib.suppress(Exception):
                close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


def write_side(folder: str, part: int, schema: pa.Schema,
               batches: Iterable[pa.RecordBatch]) -> None:
    """@batches as the whole side file of @part (SideFile)."""
    f = SideFile(folder, part, schema)
    try:
        f.write(batches)
        f.commit()
    except BaseException:
        f.abort()
        raise


def read_side(folder: str, parts: Iterable[int]) -> Iterator[pa.RecordBatch]:
    """The batches of write_side's files of @parts in @folder."""
    import os
    for i in parts:
        with pa.OSFile(os.path.join(folder, side_name(i))) as f:
            t = pa.ipc.open_file(f).read_all()
        yield from t.to_batches()


def songs_dim(songs: pa.Table) -> pa.Table:
    """The match side of the songs table (DIM_COLS), rows whose duration
    could match (a NULL duration never does)."""
    t = songs.select(list(DIM_COLS))
    return t.filter(pc.is_valid(t.column("duration")))


def match(plays: pa.Table, dim: pa.Table) -> Tuple[pa.Array, pa.Array]:
    """(song_id, artist_id) of each row of @plays (song, artist, length)
    against @dim (songs_dim): NULLs where no song matches."""
    import numpy as np
    n = plays.num_rows
    # The join wants equal key types (string vs large_string fails).
    dim = dim.cast(pa.schema([
        pa.field(f.name, plays.schema.field("song").type)
        if f.name in ("title", "artist_name") else f for f in dim.schema]))
    left = pa.table({"_i": pa.array(np.arange(n, dtype=np.int64)),
                     "song": plays.column("song"),
                     "artist": plays.column("artist"),
                     "length": plays.column("length")})
    cand = left.join(dim, keys=["song", "artist"],
                     right_keys=["title", "artist_name"], join_type="inner",
                     use_threads=False)
    diff = pc.abs(pc.subtract(cand.column("duration"), cand.column("length")))
    cand = cand.append_column("_diff", diff)
    cand = cand.filter(pc.less_equal(diff, MATCH_TOLERANCE))
    cand = cand.sort_by([("_i", "ascending"), ("_diff", "ascending"),
                         ("song_id", "ascending")])
    best = cand.take(run_starts(cand, ("_i",)))
    pos = pc.index_in(left.column("_i"), value_set=best.column("_i"))
    return (best.column("song_id").take(pos),
            best.column("artist_id").take(pos))


def _pass(chunk: pa.Table, dim: pa.Table) -> pa.Table:
    """One chunk of plays (every row of each ts it holds): the first of
    each identity in input order, matched, in (ts, identity) order:
    SONGPLAY_COLS, the time parts and `_new_ts`, true on the first row of
    each start_time. The sort is of the key columns; every column is
    copied once, for the rows kept."""
    import numpy as np
    order = ("_order",) if "_order" in chunk.schema.names \
        else ("source", "rec")
    keys = IDENTITY + order
    idx = pc.sort_indices(chunk.select(list(keys)),
                          [(k, "ascending") for k in keys])
    ids = chunk.select(list(IDENTITY)).take(idx)
    t = chunk.take(idx.take(run_starts(ids, IDENTITY)))
    song_id, artist_id = match(t, dim)
    first = np.zeros(t.num_rows, dtype=bool)
    first[run_starts(t, ("ts",)).to_numpy()] = True
    matched = {"song_id": song_id, "artist_id": artist_id}
    out = {c: matched[c] if c in matched else t.column(c)
           for c in SONGPLAY_COLS}
    for c in ("hour", "day", "week", "weekday"):
        out[c] = t.column(c)
    out["_new_ts"] = pa.array(first)
    return pa.table(out)


def songplays(tables: Iterable[pa.Table], dim: pa.Table
              ) -> Iterator[pa.Table]:
    """_pass over each of @tables, plays (PLAY_COLS or ORDERED_PLAY_COLS)
    of one partition as hour_plays gives them: every play of a ts in one
    table, the tables in ts order. The output is in ts order. A ts seen
    in two tables (the input was not in that order) is an error, not a
    wrong table."""
    seen: Optional[int] = None  # the largest ts passed
    for t in tables:
        if not t.num_rows:
            continue
        mm = pc.min_max(t.column("ts")).as_py()
        if seen is not None and mm["min"] <= seen:
            raise RuntimeError("sparkify: plays not sorted by ts in their "
                               "partition")
        seen = mm["max"]
        yield _pass(t, dim)

# SPDX-License-Identifier: Apache-2.0
"""taskside.py's Arrow functions (no Spark) against plain-Python readings
of SPEC's rules: the first play of each identity in input order, the
song match and its tie-breaks, the time table's start times, each user's
latest record and every reject, whatever the chunk sizes."""
from __future__ import annotations

import json
import random
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pytest

import spark_session  # noqa: F401  (puts python/ on sys.path)
from sparkify_spark import taskside as ts

STR_COLS = {"source", "level", "location", "user_agent", "song", "artist",
            "first_name", "last_name", "gender", "page", "reason", "raw"}

# (song_id, title, artist_id, artist_name, duration)
Song = Tuple[str, str, str, str, Optional[float]]


def col_type(c: str) -> pa.DataType:
    if c in STR_COLS:
        return pa.string()
    if c == "length":
        return pa.float64()
    return pa.int64()


def table(rows: List[Dict[str, Any]], cols: Tuple[str, ...]) -> pa.Table:
    schema = pa.schema([(c, col_type(c)) for c in cols])
    return pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows],
                                schema)


def dim_of(songs: List[Song]) -> pa.Table:
    return ts.songs_dim(pa.table(
        {c: [s[j] for s in songs] for j, c in enumerate(ts.DIM_COLS)},
        schema=pa.schema([(c, pa.float64() if c == "duration"
                           else pa.string()) for c in ts.DIM_COLS])))


def expected(rows: List[Dict[str, Any]], songs: List[Song]
             ) -> List[Tuple[int, Optional[str], Optional[str]]]:
    """(songplay_id, song_id, artist_id) as SPEC says, sorted."""
    first: Dict[Tuple[int, ...], Dict[str, Any]] = {}
    for r in rows:
        k = (r["ts"], r["user_id"], r["session_id"], r["item_in_session"])
        if k not in first or (r["source"], r["rec"]) < \
                (first[k]["source"], first[k]["rec"]):
            first[k] = r
    out = []
    for r in first.values():
        cands = sorted((abs(d - r["length"]), sid, aid)
                       for sid, title, aid, name, d in songs
                       if d is not None and r["length"] is not None and
                       title == r["song"] and name == r["artist"] and
                       abs(d - r["length"]) <= ts.MATCH_TOLERANCE)
        out.append((r["songplay_id"], cands[0][1] if cands else None,
                    cands[0][2] if cands else None))
    return sorted(out, key=repr)


def random_plays(seed: int, n: int, songs: List[Song]
                 ) -> List[Dict[str, Any]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        t = rnd.randint(0, 400)
        s = rnd.choice(songs)
        length = rnd.choice([None, (s[4] or 2.0) + rnd.choice(
            [0.0, 0.0005, -0.001, 0.0011, 0.5])])
        rows.append(dict(
            source=f"f{rnd.randint(0, 3)}.json", rec=rnd.randint(0, 50),
            ts=t, start_time=t * 1000, session_id=rnd.randint(0, 2),
            item_in_session=rnd.randint(0, 2), user_id=rnd.randint(1, 3),
            level=rnd.choice(["free", "paid", None]), location="x",
            user_agent="y", song=s[1] if rnd.random() < 0.9 else "none",
            artist=s[3], length=length, songplay_id=i, hour=t // 20, day=1,
            week=1, month=1, year=2018, weekday=1))
    # (source, rec) names one record
    seen = set()
    return [r for r in rows if (r["source"], r["rec"]) not in seen and
            not seen.add((r["source"], r["rec"]))]  # type: ignore


SONGS: List[Song] = [
    (f"S{i:02d}", f"t{i % 7}", f"A{i}", f"a{i % 3}",
     None if i % 11 == 0 else 1.0 + (i % 5) * 0.0004) for i in range(60)]


def got(outs: List[pa.Table]) -> List[Tuple[int, Optional[str], Optional[str]]]:
    rows = []
    for o in outs:
        rows += zip(o["songplay_id"].to_pylist(), o["song_id"].to_pylist(),
                    o["artist_id"].to_pylist())
    return sorted(rows, key=repr)


def blob_rows(t: pa.Table, max_rows: int = 1 << 20) -> List[pa.RecordBatch]:
    """@t's plays through the shuffle as Spark makes it (play_blobs, then
    plays_by_day's sort by BLOB_KEY), in batches of @max_rows blobs."""
    blobs = pa.Table.from_batches(list(ts.play_blobs(t.to_batches(
        max_chunksize=50))))
    # Spark's sort is not stable: blobs of one hour in any order.
    rnd = random.Random(blobs.num_rows)
    blobs = blobs.append_column("_r", pa.array(
        [rnd.random() for _ in range(blobs.num_rows)]))
    return blobs.sort_by([(k, "ascending") for k in ts.BLOB_KEY + ("_r",)]) \
        .drop_columns(["_r"]).to_batches(max_chunksize=max_rows)


def from_blobs(t: pa.Table, dim: pa.Table) -> List[pa.Table]:
    return list(ts.songplays(ts.hour_plays(blob_rows(t, 3)), dim))


@pytest.mark.parametrize("blob", [1, 7, 1 << 16])
@pytest.mark.parametrize("chunk", [1, 100, 1 << 18])
@pytest.mark.parametrize("ordered", [False, True])
def test_songplays_equal_spec(monkeypatch: pytest.MonkeyPatch, blob: int,
                              chunk: int, ordered: bool) -> None:
    monkeypatch.setattr(ts, "BLOB_ROWS", blob)
    monkeypatch.setattr(ts, "CHUNK_ROWS", chunk)
    rows = random_plays(1, 3000, SONGS)  # in no order, as files give them
    if ordered:  # `_order` from each file's place in the sorted listing
        names = sorted({r["source"] for r in rows})
        for r in rows:
            r["_order"] = names.index(r["source"]) * ts.REC_LIMIT + r["rec"]
    t = table(rows, ts.ORDERED_PLAY_COLS if ordered else ts.PLAY_COLS)
    outs = from_blobs(t, dim_of(SONGS))
    want = expected(rows, SONGS)
    assert got(outs) == want
    assert any(w[1] for w in want) and any(w[1] is None for w in want)
    assert sum(sum(o["_new_ts"].to_pylist()) for o in outs) == \
        len({r["ts"] for r in rows})
    # output in ts order, identities once
    all_ts = [x for o in outs for x in o["start_time"].to_pylist()]
    assert all_ts == sorted(all_ts)
    assert outs[0].schema.names == list(ts.SONGPLAY_COLS) + [
        "hour", "day", "week", "weekday", "_new_ts"]


def decoded(blobs: pa.Table, schema: pa.Schema) -> List[Dict[str, Any]]:
    """Every blob's plays, checking that each holds plays of its hour."""
    out: List[Dict[str, Any]] = []
    for r in blobs.to_pylist():
        part = pa.ipc.open_stream(r["blob"]).read_all()
        assert part.schema == schema
        assert set(zip(*[part[k].to_pylist() for k in ts.BLOB_KEY])) == \
            {tuple(r[k] for k in ts.BLOB_KEY)}
        out += part.to_pylist()
    return out


@pytest.mark.parametrize("blob", [1, 5, 1 << 16])
def test_play_blobs_and_hour_plays(monkeypatch: pytest.MonkeyPatch,
                                   blob: int) -> None:
    """A blob holds plays of one hour; plays in time order keep their
    order (one blob a run), plays in no order are sorted by hour first
    (not a blob a play); a table of hour_plays holds whole hours,
    gathered up to CHUNK_ROWS plays."""
    monkeypatch.setattr(ts, "BLOB_ROWS", blob)
    rows = random_plays(4, 400, SONGS)  # ts in no order
    t = table(rows, ts.PLAY_COLS)
    in_order = t.sort_by("ts")
    blobs = pa.Table.from_batches(list(ts.play_blobs(
        in_order.to_batches(max_chunksize=3))))
    assert blobs.schema.names == list(ts.BLOB_COLS)
    assert decoded(blobs, t.schema) == in_order.to_pylist()
    hours = len({r["hour"] for r in rows})
    if blob > 1:  # a blob per run of one hour
        assert blobs.num_rows < t.num_rows
    if blob == 1 << 16:
        assert blobs.num_rows == hours
    shuffled = pa.Table.from_batches(list(ts.play_blobs(
        t.to_batches(max_chunksize=3))))
    key = repr
    assert sorted(decoded(shuffled, t.schema), key=key) == \
        sorted(t.to_pylist(), key=key)  # every play once
    if blob == 1 << 16:  # one batch held: sorted, one blob an hour
        assert shuffled.num_rows == hours
    for chunk, most in ((1, 1), (60, None)):
        monkeypatch.setattr(ts, "CHUNK_ROWS", chunk)
        sorted_blobs = shuffled.sort_by(
            [(k, "ascending") for k in ts.BLOB_KEY])
        tables = list(ts.hour_plays(sorted_blobs.to_batches(max_chunksize=2)))
        assert sum(x.num_rows for x in tables) == t.num_rows
        per = [sorted(set(x["hour"].to_pylist())) for x in tables]
        flat = [h for hs in per for h in hs]
        assert flat == sorted(set(flat))  # whole hours, in order
        if most is not None:
            assert all(len(hs) == most for hs in per)
        else:  # gathered: only the last table may be under CHUNK_ROWS
            assert all(x.num_rows >= chunk for x in tables[:-1])
            assert len(tables) < len(flat)


def test_blobs_over_the_offset_limit_are_an_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Blobs of one batch beyond a binary column's int32 offsets are
    refused, not wrapped (the limit lowered to show it)."""
    t = table(random_plays(6, 300, SONGS), ts.PLAY_COLS)
    assert list(ts.play_blobs(t.to_batches()))
    monkeypatch.setattr(ts, "BLOB_BYTES_LIMIT", 1000)
    with pytest.raises(ValueError, match="over 2 GB"):
        list(ts.play_blobs(t.to_batches()))


def test_match_tie_breaks() -> None:
    songs: List[Song] = [
        ("S9", "T", "A9", "N", 100.0005),   # diff 0.0005
        ("S3", "T", "A3", "N", 99.9995),    # diff 0.0005: smaller id wins
        ("S1", "T", "A1", "N", 100.0008),   # diff 0.0008
        ("S0", "T", "A0", "n", 100.0),      # other artist bytes
        ("S2", "T", "A2", "N", None),       # no duration: never matches
    ]
    plays = [
        dict(source="a", rec=0, ts=1, user_id=1, session_id=1,
             item_in_session=0, song="T", artist="N", length=100.0,
             songplay_id=1),
        dict(source="a", rec=1, ts=2, user_id=1, session_id=1,
             item_in_session=1, song="T", artist="N", length=100.0021,
             songplay_id=2),   # 0.0013 from S1, 0.0016 from S9: none
        dict(source="a", rec=2, ts=3, user_id=1, session_id=1,
             item_in_session=2, song="T", artist="N", length=None,
             songplay_id=3),
        dict(source="a", rec=3, ts=4, user_id=1, session_id=1,
             item_in_session=3, song="T", artist="N", length=100.0017,
             songplay_id=4),   # 0.0009 from S1, 0.0012 from S9
    ]
    out = from_blobs(table(plays, ts.PLAY_COLS), dim_of(songs))
    assert got(out) == expected(plays, songs) == [
        (1, "S3", "A3"), (2, None, None), (3, None, None), (4, "S1", "A1")]


def test_first_in_input_order_wins() -> None:
    base = dict(ts=5, user_id=1, session_id=2, item_in_session=3, song="x",
                artist="y", length=1.0)
    plays = [dict(base, source="b.json", rec=0, level="late", songplay_id=1),
             dict(base, source="a.json", rec=9, level="first", songplay_id=2),
             dict(base, source="a.json", rec=10, level="mid", songplay_id=3)]
    (out,) = from_blobs(table(plays, ts.PLAY_COLS), dim_of(SONGS))
    assert out["level"].to_pylist() == ["first"]


def test_unsorted_plays_are_an_error() -> None:
    """A ts in two tables of hour_plays (blobs not sorted by hour) is
    refused, not passed twice."""
    t = table(random_plays(2, 500, SONGS), ts.PLAY_COLS)
    t = t.sort_by("ts")
    cut = pa.compute.index(t["ts"], t["ts"][t.num_rows // 2]).as_py()
    halves = [t.slice(0, cut), t.slice(cut)]
    assert halves[0].num_rows and halves[1].num_rows
    list(ts.songplays(halves, dim_of(SONGS)))  # in order: fine
    with pytest.raises(RuntimeError, match="not sorted by ts"):
        list(ts.songplays(halves[::-1], dim_of(SONGS)))
    with pytest.raises(RuntimeError, match="not sorted by ts"):
        list(ts.songplays([t.slice(0, cut + 1), t.slice(cut)],
                          dim_of(SONGS)))


def test_with_order_and_its_limit() -> None:
    b = pa.record_batch([pa.array([0, 5], pa.int64())], names=["rec"])
    (o,) = ts.with_order([b], 3)
    assert o.column("_order").to_pylist() == [3 << 32, (3 << 32) + 5]
    big = pa.record_batch([pa.array([ts.REC_LIMIT], pa.int64())],
                          names=["rec"])
    with pytest.raises(ValueError):
        list(ts.with_order([big], 0))


@pytest.mark.parametrize("state_rows", [1, 10, 1 << 18])
def test_users_and_rejects(monkeypatch: pytest.MonkeyPatch,
                           state_rows: int) -> None:
    monkeypatch.setattr(ts, "USER_STATE_ROWS", state_rows)
    rnd = random.Random(3)
    rows = []
    for i in range(2000):
        if i % 13 == 0:
            rows.append(dict(source=f"f{i % 3}", rec=i, line=i + 1,
                             reason="invalid_json", raw="{x"))
            continue
        rows.append(dict(source=f"f{i % 3}", rec=i, ts=rnd.randint(0, 30),
                         session_id=rnd.randint(0, 2),
                         item_in_session=rnd.randint(0, 2),
                         user_id=rnd.randint(1, 20), first_name=f"n{i}",
                         page="Home"))
    rnd.shuffle(rows)
    cols = ts.SMALL_COLS + ("page",)
    out = pa.Table.from_batches(list(ts.users_and_rejects(
        table(rows, cols).to_batches(max_chunksize=64))))
    assert out.schema.names == list(ts.SMALL_COLS)
    bad = out.filter(out["reason"].is_valid()).to_pylist()
    assert sorted(r["rec"] for r in bad) == \
        sorted(r["rec"] for r in rows if r.get("reason"))
    users = {r["user_id"]: r["first_name"]
             for r in out.filter(out["reason"].is_null()).to_pylist()}
    latest: Dict[int, Tuple[Any, ...]] = {}
    for r in rows:
        if r.get("reason"):
            continue
        k = (r["ts"], r["session_id"], r["item_in_session"], r["source"],
             r["rec"], r["first_name"])
        latest[r["user_id"]] = max(latest.get(r["user_id"], k), k)
    assert users == {u: k[-1] for u, k in latest.items()}


def test_native_columns_and_plays_rows() -> None:
    """The C reader's projection (lake_arrow_opts.columns, .rows) as the
    plays reader asks for it: the same values as the full rows, filtered
    and selected in pyarrow."""
    from sparkify_spark import _native
    text = b"\n".join([
        b'{"ts":1542837407796,"page":"NextSong","sessionId":1,'
        b'"itemInSession":0,"userId":"5","song":"a","artist":"b",'
        b'"length":1.5,"userAgent":"ua","location":"here"}',
        b'{"ts":1542837407797,"page":"Home","sessionId":1,'
        b'"itemInSession":1,"userId":"5"}',
        b'{bad',
        b'{"ts":1542837407798,"page":"NextSong","sessionId":1,'
        b'"itemInSession":2,"userId":"5","song":"c","artist":"d"}'])
    full = pa.Table.from_batches(list(_native.read_records(
        _native.EVENTS, text, "e.json")))
    want = full.filter(pa.compute.and_(
        full["reason"].is_null(),
        pa.compute.equal(full["page"], "NextSong"))).select(
            list(ts.PLAY_READ))
    got = pa.Table.from_batches(list(_native.read_records(
        _native.EVENTS, text, "e.json", columns=ts.PLAY_READ,
        rows=_native.ROWS_PLAYS)))
    assert got.schema.names == [c for c in _native.column_names(
        _native.EVENTS) if c in ts.PLAY_READ]
    assert got.select(list(ts.PLAY_READ)).equals(want)
    assert got["rec"].to_pylist() == [0, 3]
    with pytest.raises(ValueError, match="no such column"):
        _native.read_records(_native.EVENTS, text, "e.json",
                             columns=["nope"])
    with pytest.raises(_native.LakeError):  # no plays among songs
        _native.read_records(_native.SONGS, b"", "s.json",
                             rows=_native.ROWS_PLAYS)


def test_native_users_rows() -> None:
    """The C reader's ROWS_USERS (what the job's small reader asks for):
    every reject, then each user's latest record by (ts, session_id,
    item_in_session, rec) in `rec` order, each row its ROWS_ALL row; and
    users_and_rejects over them gives what it gives over every row."""
    import json
    from sparkify_spark import _native
    rnd = random.Random(11)
    lines = []
    for i in range(3000):
        if i % 97 == 0:
            lines.append(b"{bad")
            continue
        ev = {"ts": 1542837400000 + rnd.randint(0, 50),
              "sessionId": rnd.randint(0, 2),
              "itemInSession": rnd.randint(0, 2),
              "userId": str(rnd.randint(1, 40)) if i % 31 else "",
              "page": rnd.choice(["NextSong", "Home"]),
              "firstName": rnd.choice(["Ann", "Bo\u00e9", "C\"d"]) + str(i),
              "level": rnd.choice(["free", "paid", ""]), "song": "s",
              "artist": "a", "length": 1.5}
        lines.append(json.dumps(ev).encode())  # \u00e9, \" escaped
    text = b"\n".join(lines)
    full = pa.Table.from_batches(list(_native.read_records(
        _native.EVENTS, text, "u.json")))
    rows = full.to_pylist()
    best: Dict[int, Tuple[Tuple[int, ...], Dict[str, Any]]] = {}
    for r in rows:
        if r["reason"] is None:
            k = (r["ts"], r["session_id"], r["item_in_session"], r["rec"])
            if r["user_id"] not in best or k >= best[r["user_id"]][0]:
                best[r["user_id"]] = (k, r)
    want = [r for r in rows if r["reason"] is not None] + \
        sorted((v[1] for v in best.values()), key=lambda r: r["rec"])
    for batch_rows in (0, 7):
        got = pa.Table.from_batches(list(_native.read_records(
            _native.EVENTS, text, "u.json", batch_rows=batch_rows,
            rows=_native.ROWS_USERS)))
        assert got.to_pylist() == want
    assert len(want) < len(rows) / 10

    def small(rows_mode: int) -> List[Dict[str, Any]]:
        return pa.Table.from_batches(list(ts.users_and_rejects(
            _native.read_records(_native.EVENTS, text, "u.json",
                                 columns=ts.SMALL_COLS, rows=rows_mode))
                                          )).sort_by("rec").to_pylist()
    assert small(_native.ROWS_USERS) == small(_native.ROWS_ALL)


def test_native_split_read(tmp_path: Any) -> None:
    """_native.read_file_split: the plays and then the users of one parse,
    each equal to its own read; the users before the plays' end refused."""
    from sparkify_spark import _native
    f = tmp_path / "e.json"
    f.write_bytes(b"\n".join([
        b'{"ts":1542837407796,"page":"NextSong","sessionId":1,'
        b'"itemInSession":0,"userId":"5","song":"a","artist":"b",'
        b'"firstName":"A"}',
        b'{bad',
        b'{"ts":1542837407797,"page":"Home","sessionId":1,'
        b'"itemInSession":1,"userId":"5","firstName":"B"}']))
    plays, users = _native.read_file_split(f, "shown", columns=ts.PLAY_READ,
                                           user_columns=ts.SMALL_COLS)
    with pytest.raises(pa.ArrowInvalid, match="before the end of its plays"):
        users.read_next_batch()
    got_plays, got_users = plays.read_all(), users.read_all()
    assert got_plays.equals(pa.Table.from_batches(list(_native.read_file(
        _native.EVENTS, f, "shown", columns=ts.PLAY_READ,
        rows=_native.ROWS_PLAYS))))
    assert got_users.equals(pa.Table.from_batches(list(_native.read_file(
        _native.EVENTS, f, "shown", columns=ts.SMALL_COLS,
        rows=_native.ROWS_USERS))))
    assert got_users.column("first_name").to_pylist() == [None, "B"]
    assert got_users.column("reason").to_pylist() == ["invalid_json", None]
    with pytest.raises(_native.LakeError, match="nope"):
        _native.read_file_split(tmp_path / "nope.json")


def test_side_files(tmp_path: Any) -> None:
    """A split read's side file (taskside.SideFile): read back as written
    (SMALL_COLS, whatever the column order given; none for a partition
    not written), and a write that fails leaves neither the file nor its
    temporary."""
    rows = [dict(user_id=1, ts=5, source="f", rec=0, first_name="A"),
            dict(source="f", rec=1, line=2, reason="invalid_json", raw="{")]
    t = table(rows, tuple(reversed(ts.SMALL_COLS)))
    b = t.to_batches()[0]
    ts.write_side(str(tmp_path), 3, t.schema, [b, b])
    ts.write_side(str(tmp_path), 0, t.schema, [])
    got = pa.Table.from_batches(list(ts.read_side(str(tmp_path), [3, 0])))
    assert got.schema.names == list(ts.SMALL_COLS)
    assert got.to_pylist() == t.select(list(ts.SMALL_COLS)).to_pylist() * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        [ts.side_name(0), ts.side_name(3)]

    def failing() -> Iterator[pa.RecordBatch]:
        yield b
        raise RuntimeError("task killed")
    with pytest.raises(RuntimeError):
        ts.write_side(str(tmp_path), 5, t.schema, failing())
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        [ts.side_name(0), ts.side_name(3)]
    with pytest.raises(FileNotFoundError):
        list(ts.read_side(str(tmp_path), [5]))


def test_split_reader_task(tmp_path: Any) -> None:
    """job.read_split_files's task function outside Spark: the blobs of
    the plays reader (read_files with ROWS_PLAYS and _order) and, per
    partition, a side file holding what users_and_rejects gives over the
    ROWS_USERS rows; a file failing midway leaves no side file behind."""
    from sparkify_spark import _native, job
    logs = tmp_path / "logs"
    logs.mkdir()
    rnd = random.Random(4)
    for d in range(3):
        lines = []
        for i in range(400):
            if i % 50 == 7:
                lines.append(b"{broken")
                continue
            lines.append(json.dumps({
                "ts": 1542837400000 + d * 86400000 + i * 1000,
                "page": rnd.choice(["NextSong", "Home"]), "sessionId": 1,
                "itemInSession": i, "userId": str(rnd.randint(1, 30)),
                "firstName": f"n{d}-{i}", "song": "s", "artist": "a",
                "length": 1.0}).encode())
        (logs / f"day{d}.json").write_bytes(b"\n".join(lines))
    files = _native.list_files(str(logs))
    parts = [files[:2], files[2:]]
    ordinals = [[0, 1], [2]]
    side = tmp_path / "side"
    side.mkdir()
    ids = pa.record_batch([pa.array([0, 1], pa.int64())], names=["id"])

    def blobs(fn: Any) -> List[Dict[str, Any]]:
        out = pa.Table.from_batches(list(fn(iter([ids]))))
        return [{k: v for k, v in r.items() if k != "blob"} |
                {"plays": pa.ipc.open_stream(r["blob"]).read_all()
                 .to_pylist()} for r in out.to_pylist()]
    got = blobs(job.read_split_files(str(logs), "shown", parts, ordinals,
                                     str(side)))
    want = blobs(job.read_files(_native.EVENTS, str(logs), "shown", parts,
                                ts.ordered_play_blobs, ordinals,
                                ts.PLAY_READ, _native.ROWS_PLAYS))
    assert got == want and got
    for i, p in enumerate(parts):
        rows = pa.Table.from_batches(list(ts.read_side(str(side), [i])))
        ref = pa.Table.from_batches(list(ts.users_and_rejects(
            b for rel, _ in p for b in _native.read_file(
                _native.EVENTS, logs / rel.decode(), "shown/" + rel.decode(),
                columns=ts.SMALL_COLS, rows=_native.ROWS_USERS))))
        assert rows.sort_by("rec").to_pylist() == \
            ref.sort_by("rec").to_pylist()
        assert rows.filter(rows["reason"].is_valid()).num_rows == 8 * len(p)

    # a partition whose second file is gone: the task fails, no side file
    gone = tmp_path / "side2"
    gone.mkdir()
    bad = [files[:1] + [(b"nope.json", 1)]]
    fn = job.read_split_files(str(logs), "shown", bad, [[0, 1]], str(gone))
    with pytest.raises(_native.LakeError, match="nope.json"):
        list(fn(iter([pa.record_batch([pa.array([0], pa.int64())],
                                      names=["id"])])))
    assert list(gone.iterdir()) == []


class _Bc:
    """A stand-in for a Broadcast."""

    def __init__(self, value: pa.Table) -> None:
        self.value = value


def test_plays_writer_files_and_manifest(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """taskwrite.plays_writer outside Spark: one file per table and
    (year, month) folder, the manifest's counts those of the files, and
    a month met twice in one task (input not in ts order) refused."""
    import pyarrow.parquet as pq
    from sparkify_spark import taskwrite
    rows = []
    for i, (ts_, month) in enumerate([(10, 11), (10, 11), (20, 11),
                                      (30, 12), (40, 12)]):
        rows.append(dict(source="f.json", rec=i, ts=ts_, start_time=ts_,
                         session_id=1, item_in_session=int(i > 1),
                         user_id=7, song="x", artist="y", length=1.0,
                         songplay_id=i, hour=1, day=1, week=1, month=month,
                         year=2018, weekday=1))
    t = table(rows, ts.PLAY_COLS)
    t = t.set_column(t.schema.get_field_index("month"), "month",
                     t["month"].cast(pa.int32()))
    t = t.set_column(t.schema.get_field_index("year"), "year",
                     t["year"].cast(pa.int32()))
    for name in ("songplays", "time"):
        (tmp_path / name).mkdir()
    fn = taskwrite.plays_writer(str(tmp_path), "r", _Bc(dim_of(SONGS)))
    m = pa.Table.from_batches(list(fn(iter(blob_rows(t, 2)))))
    got = {(r["table"], r["path"]): r["rows"] for r in m.to_pylist()}
    assert got[("songplays", None)] == 4  # rows 0 and 1 are one identity
    assert got[("time", None)] == 4
    for (table_, path), n in got.items():
        if path is not None:
            assert pq.read_metadata(tmp_path / table_ / path).num_rows == n
    assert sorted(p for (tb, p) in got if tb == "songplays" and p) == [
        "year=2018/month=11/part-00000-r-0.snappy.parquet",
        "year=2018/month=12/part-00000-r-0.snappy.parquet"]
    # December, then November again: the pass refuses it first (ts order)
    months = blob_rows(t, 1)
    bad = months[1:] + months[:1]
    monkeypatch.setattr(ts, "CHUNK_ROWS", 1)
    fn = taskwrite.plays_writer(str(tmp_path), "s", _Bc(dim_of(SONGS)))
    with pytest.raises(RuntimeError, match="not sorted by ts"):
        list(fn(iter(bad)))

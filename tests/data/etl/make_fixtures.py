#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the ETL fixtures (tests/data/etl/basic, tests/data/etl/small).

Run once; the files are committed. Every SPEC rule the engine applies has a
record here; the expected values are asserted by tests/unit/test_etl_*.c
(counts, layout, quarantine) and python/tests/test_etl_e2e.py (values)."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent


def song(sid: str, title: str, aid: str, name: object, dur: float, year: int,
         loc: object = "", lat: object = None, lon: object = None) -> dict:
    return {"song_id": sid, "title": title, "artist_id": aid, "artist_name": name,
            "duration": dur, "year": year, "artist_location": loc,
            "artist_latitude": lat, "artist_longitude": lon, "num_songs": 1}


def ev(ts: int, user: object, sid: int, item: int, page: str = "NextSong",
       song: object = None, artist: object = None, length: object = None,
       level: str = "free", first: str = "Ann", last: str = "Lee", gender: str = "F",
       location: str = "Paris", agent: str = "Mozilla") -> dict:
    return {"artist": artist, "auth": "Logged In", "firstName": first, "gender": gender,
            "itemInSession": item, "lastName": last, "length": length, "level": level,
            "location": location, "method": "PUT", "page": page,
            "registration": 1540919166796.0, "sessionId": sid, "song": song,
            "status": 200, "ts": ts, "userAgent": agent, "userId": user}


def line(d: dict) -> bytes:
    return json.dumps(d, separators=(",", ":")).encode()


def basic(root: Path) -> None:
    s = root / "song_data"
    l = root / "log_data"
    (s / "A").mkdir(parents=True)
    (s / "B").mkdir(parents=True)
    (s / "C").mkdir(parents=True)
    (s / ".ipynb_checkpoints").mkdir(parents=True)
    (l / "2018" / "11").mkdir(parents=True)
    (l / "2018" / "12").mkdir(parents=True)
    (l / "1969").mkdir(parents=True)
    # S1 twice: the later file wins (title T1b, year 2001); artist AR1 takes
    # its name from the last record with AR1 (A/2 has "Art One B").
    (s / "A" / "1.json").write_bytes(line(song("S1", "T1", "AR1", "Art One", 200.0, 2000)))
    (s / "A" / "2.json").write_bytes(
        json.dumps(song("S1", "T1b", "AR1", "Art One B", 201.0, 2001,
                        "Lyon", 45.75, 4.85), indent=2).encode())
    # match candidates: title "Two", artist name "112" (a number)
    b = [song("S2", "Two", "AR2", 112, 100.5, 0, "Berlin", 52.5, 13.4),
         song("S0", "Two", "AR2", 112, 100.5004, 1999),
         song("S9", "Tie", "AR3", "Tie Band", 50.0, 1999),
         song("S8", "Tie", "AR3", "Tie Band", 50.0, 1999),
         song("S7", "Tie", "AR3", "Tie Band", 50.0016, 1999)]
    # several objects in one file, on one line and pretty
    (s / "B" / "multi.json").write_bytes(
        line(b[0]) + line(b[1]) + b"\n" + json.dumps(b[2], indent=1).encode() + b"\n" + line(b[3]) + b" " + line(b[4]))
    # BOM + gzip
    (s / "B" / "bom.json").write_bytes(b"\xef\xbb\xbf" + line(song("S3", "Bom", "AR4", "Bom", 1.0, 2010)))
    (s / "B" / "z.json.gz").write_bytes(gzip.compress(line(song("S4", "Gz", "AR4", "Bom", 2.0, 2010)) + b"\n"))
    # hostile partition values
    hostile = ["../x", "a/b", ".", "..", "x\u0000y", "%2E", "k=v", "L" * 300, "\u00e9t\u00e9"]
    for i, h in enumerate(hostile):
        (s / "C" / f"h{i}.json").write_bytes(line(song(f"SH{i}", f"H{i}", h, f"Hostile {i}", 10.0, 1990)))
    # rejects: invalid JSON (with invalid UTF-8), not an object, missing,
    # wrong type
    (s / "C" / "bad.jsonl").write_bytes(
        b'{"song_id": "X1", "title": "\xff\xfe broken\n'
        b'[1, 2]\n'
        + line(song("", "No id", "AR9", "N", 1.0, 0)) + b"\n"
        + b'{"song_id":"X2","title":"t","artist_id":"A","artist_name":"n","duration":"long","year":1}\n')
    # skipped: hidden, underscore, checkpoints, other extension
    for p in [s / ".hidden.json", s / "_skip.json", s / ".ipynb_checkpoints" / "x.json", s / "A" / "notes.txt"]:
        p.write_bytes(line(song("SKIP", "skip", "ARSKIP", "skip", 1.0, 1)))
    T = 1541105830796  # 2018-11-01T20:57:10.796Z
    a = [
        # 1. a play that matches S0 (|100.5004-100.5003| < |100.5-100.5003|)
        ev(T, "10", 1, 0, song="Two", artist="112", length=100.5003),
        # 2. logged-out Home event: valid, no user
        ev(T + 1000, "", 1, 1, page="Home", first="", last="", gender="", level=""),
        # 3. user 10 later event (not NextSong): users take first_name Bob
        ev(T + 5000, "10", 1, 2, page="Home", first="Bob"),
        # 4. user 11 two events with the same (ts, sessionId, item): the
        #    later in input order wins (gender M)
        ev(T + 100, 11, 2, 0, page="Home", gender="F"),
        ev(T + 100, 11, 2, 0, page="Home", gender="M", level=""),
        # 5. empty strings become NULL; S8 and S9 are equally close (S7 is
        #    0.0011 away): the smaller song_id S8 wins
        ev(T + 2000, "12", 3, 0, song="Tie", artist="Tie Band", length=50.0005,
           location="", agent="", level=""),
        # 6. NextSong without a user: quarantined
        ev(T + 3000, "", 4, 0, song="Two", artist="112", length=1.0),
        # 7. NextSong without length: no match, kept
        ev(T + 4000, "12", 3, 1, song="Two", artist="112", length=None),
        # 8. ts out of range
        ev(-3000000000000, "12", 3, 2, song="x", artist="y", length=1.0),
    ]
    (l / "2018" / "11" / "a.json").write_bytes(b"\n".join(line(e) for e in a))
    # 9. duplicate of play 1 in a later file, different level: first wins
    dup = ev(T, "10", 1, 0, song="Two", artist="112", length=100.5003, level="paid")
    dec = ev(1543622400000, "13", 9, 0, song="Nope", artist="None", length=3.0)  # 2018-12-01
    (l / "2018" / "11" / "b.json.gz").write_bytes(gzip.compress(line(dup) + b"\n" + line(dec) + b"\n"))
    # 10. a play in 1969 (before the epoch) and a second play at the same
    #     ts by another user (one time row, two songplays)
    old = -2592000000  # 1969-12-02T00:00:00Z
    (l / "1969" / "old.jsonl").write_bytes(
        line(ev(old, "14", 5, 0, song="Old", artist="Old", length=1.0)) + b"\n" +
        line(ev(old, "15", 6, 0, song="Old", artist="Old", length=1.0)) + b"\n")
    (l / "_SUCCESS").write_bytes(b"")


def small(root: Path) -> None:
    """A second, smaller input: a rerun over it must replace the lake."""
    s = root / "song_data"
    l = root / "log_data"
    s.mkdir(parents=True)
    l.mkdir(parents=True)
    (s / "only.json").write_bytes(line(song("SX", "X", "ARX", "X", 1.0, 2020)))
    (l / "only.json").write_bytes(line(ev(1541105830796, "20", 1, 0, song="X", artist="X", length=1.0)))


def tiny(root: Path) -> None:
    """The OOM sweep's input: one of each path (reject, dedupe, match)."""
    s = root / "song_data"
    l = root / "log_data"
    s.mkdir(parents=True)
    l.mkdir(parents=True)
    (s / "a.json").write_bytes(line(song("SA", "A", "ARA", "A", 1.0, 2020)) + b"\n[]\n"
                               + line(song("SA", "A", "ARA", "A", 1.0, 0)))
    T = 1541105830796
    (l / "a.json").write_bytes(b"\n".join([
        line(ev(T, "1", 1, 0, song="A", artist="A", length=1.0)),
        line(ev(T, "1", 1, 0, song="A", artist="A", length=1.0)),
        line(ev(T + 1, "2", 2, 0, page="Home")),
        b"{bad"]))


def main() -> None:
    for name, fn in (("basic", basic), ("small", small), ("tiny", tiny)):
        root = HERE / name
        if root.exists():
            shutil.rmtree(root)
        fn(root)


if __name__ == "__main__":
    main()

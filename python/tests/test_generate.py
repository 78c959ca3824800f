# SPDX-License-Identifier: Apache-2.0
"""`sparkify generate`: determinism, the real data's shape and statistics,
faults that match the manifest, and the ETL run end to end on the output."""
from __future__ import annotations

import collections
import datetime as dt
import gzip
import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DATA

SAMPLE = SHARED_DATA / "sparkify-sample"

EVENT_KEYS = ["artist", "auth", "firstName", "gender", "itemInSession",
              "lastName", "length", "level", "location", "method", "page",
              "registration", "sessionId", "song", "status", "ts",
              "userAgent", "userId"]
SONG_KEYS = ["num_songs", "artist_id", "artist_latitude", "artist_longitude",
             "artist_location", "artist_name", "song_id", "title", "duration",
             "year"]
# (method, status) per page of the course logs; eventsim for the others.
PAGE_HTTP = {
    "NextSong": ("PUT", 200), "Home": ("GET", 200), "Login": ("PUT", 307),
    "Logout": ("PUT", 307), "Downgrade": ("GET", 200),
    "Settings": ("GET", 200), "Help": ("GET", 200), "About": ("GET", 200),
    "Upgrade": ("GET", 200), "Save Settings": ("PUT", 307),
    "Error": ("GET", 404), "Submit Upgrade": ("PUT", 307),
    "Submit Downgrade": ("PUT", 307), "Thumbs Up": ("PUT", 307),
    "Thumbs Down": ("PUT", 307), "Add to Playlist": ("PUT", 200),
    "Add Friend": ("PUT", 307), "Roll Advert": ("GET", 200)}


def generate(exe: Path, out: Path, *args: str) -> dict[str, Any]:
    r = subprocess.run([str(exe), "generate", str(out), "--quiet", *args],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    manifest: dict[str, Any] = json.loads((out / "_manifest.json").read_text())
    return manifest


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)):
            hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def read_events(root: Path) -> list[dict[str, Any]]:
    events = []
    for f in sorted((root / "log_data").rglob("*.json")):
        text = f.read_bytes()
        assert not text.endswith(b"\n")
        for line in text.split(b"\n"):
            events.append(json.loads(line))
    return events


@pytest.fixture(scope="module")
def month(sparkify: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A month at the defaults: 100 users from 2018-11-01, like the course."""
    out = tmp_path_factory.mktemp("gen") / "month"
    generate(sparkify, out)
    return out


def test_threads_give_identical_bytes(sparkify: Path, tmp_path: Path) -> None:
    for extra in ([], ["--gzip"]):
        digests = []
        for threads in ("1", "2"):
            out = tmp_path / f"t{threads}{len(extra)}"
            generate(sparkify, out, "--users", "200", "--days", "3",
                     "--catalog", "2000",
                     "--dirty", "0.02", "--threads", threads, *extra)
            digests.append(tree_digest(out))
        assert digests[0] == digests[1]
        assert len(digests[0]) > 10


def test_gzip_holds_the_same_text(sparkify: Path, tmp_path: Path) -> None:
    plain = tree_digest_text(sparkify, tmp_path / "plain", [])
    packed = tree_digest_text(sparkify, tmp_path / "gz", ["--gzip"])
    assert plain == packed


def tree_digest_text(exe: Path, out: Path, extra: list[str]) -> dict[str, str]:
    generate(exe, out, "--users", "50", "--days", "3", "--threads", "2",
             "--catalog", "2000", "--dirty", "0.01", *extra)
    result = {}
    for p in sorted(out.rglob("*.json*")):
        if p.name.startswith("_"):
            continue
        data = p.read_bytes()
        if p.suffix == ".gz":
            data = gzip.decompress(data)
        result[str(p.relative_to(out)).removesuffix(".gz")] = \
            hashlib.sha256(data).hexdigest()
    return result


def test_event_lines_have_the_real_shape(month: Path) -> None:
    events = read_events(month)
    assert events
    for e in events:
        assert list(e) == EVENT_KEYS
        assert isinstance(e["ts"], int) and isinstance(e["sessionId"], int)
        assert isinstance(e["itemInSession"], int)
        assert isinstance(e["status"], int)
        assert isinstance(e["userId"], str)
        assert (e["method"], e["status"]) == PAGE_HTTP[e["page"]]
        if e["page"] == "NextSong":
            assert isinstance(e["song"], str) and isinstance(e["artist"], str)
            assert isinstance(e["length"], float)
        else:
            assert e["song"] is None and e["artist"] is None
            assert e["length"] is None
        if e["userId"] == "":
            assert e["auth"] == "Logged Out" and e["registration"] is None
            assert e["page"] in ("Home", "Login", "About", "Help")
        else:
            assert e["auth"] == "Logged In"
            assert isinstance(e["registration"], float)
            assert e["userId"].isdigit()
    # eventsim offsets every instant from one start: one millisecond part
    millis = {e["ts"] % 1000 for e in events}
    millis |= {int(e["registration"]) % 1000 for e in events
               if e["registration"] is not None}
    assert len(millis) == 1
    raw = b"".join(p.read_bytes()
                   for p in (month / "log_data").rglob("*.json"))
    assert raw.isascii()
    assert re.search(rb'"registration":1[0-9]{12}\.0,', raw)
    assert b'"userAgent":"\\"Mozilla\\/5.0 (' in raw
    # non-ASCII text is double-encoded like the course logs (Bjork-style)
    assert re.search(rb"\\u00c3\\u0083\\u00c2\\u00[0-9a-f]{2}", raw)


def test_sessions_follow_eventsim_rules(month: Path) -> None:
    events = read_events(month)
    sessions: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
    for e in events:
        sessions[e["sessionId"]].append(e)
    seen = set()
    for sid, evs in sessions.items():
        evs.sort(key=lambda e: e["itemInSession"])
        assert [e["itemInSession"] for e in evs] == list(range(len(evs)))
        for a, b in zip(evs, evs[1:]):
            if a["page"] == "NextSong":
                assert b["ts"] == a["ts"] + int(a["length"]) * 1000
        for e in evs:
            key = (e["sessionId"], e["itemInSession"])
            assert key not in seen
            seen.add(key)
    by_user: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for e in events:
        if e["userId"]:
            by_user[e["userId"]].append(e)
    upgrades = 0
    for evs in by_user.values():
        evs.sort(key=lambda e: (e["ts"], e["sessionId"], e["itemInSession"]))
        for a, b in zip(evs, evs[1:]):
            if a["level"] != b["level"]:
                assert a["page"] == ("Submit Upgrade" if b["level"] == "paid"
                                     else "Submit Downgrade")
                upgrades += 1
            if a["page"] == "Roll Advert":
                assert a["level"] == "free"
    assert upgrades > 0


def statistics_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    pages = collections.Counter(e["page"] for e in events)
    hours = collections.Counter(
        dt.datetime.fromtimestamp(e["ts"] / 1000, dt.timezone.utc).hour
        for e in events)
    weekday = collections.Counter(
        dt.datetime.fromtimestamp(e["ts"] / 1000, dt.timezone.utc).weekday()
        for e in events)
    plays: collections.Counter[int] = collections.Counter()
    for e in events:
        plays[e["sessionId"]] += e["page"] == "NextSong"
    n = len(events)
    return {
        "nextsong_share": pages["NextSong"] / n,
        "home_share": pages["Home"] / n,
        "plays_per_session": sum(plays.values()) / len(plays),
        "hours": [hours[h] / n for h in range(24)],
        "weekend_ratio": (weekday[5] + weekday[6]) / 2
        / (sum(weekday[d] for d in range(5)) / 5),
        "logged_out_share": sum(e["userId"] == "" for e in events) / n,
    }


# The course sample's figures, used when shared/data is absent.
REAL = {"nextsong_share": 0.847, "plays_per_session": 7.25,
        "weekend_ratio": 0.43, "logged_out_share": 0.036}


def test_a_month_resembles_the_course_logs(month: Path) -> None:
    gen = statistics_of(read_events(month))
    real: dict[str, Any] = dict(REAL)
    if SAMPLE.exists():
        real = statistics_of(read_events(SAMPLE))
    # NextSong dominates: about 80 % (eventsim), 85 % in the sample
    assert 0.74 <= gen["nextsong_share"] <= 0.88
    assert abs(gen["nextsong_share"] - real["nextsong_share"]) < 0.08
    assert abs(gen["plays_per_session"] - real["plays_per_session"]) < 3.5
    assert 0.25 <= gen["weekend_ratio"] <= 0.75
    assert abs(gen["weekend_ratio"] - real["weekend_ratio"]) < 0.25
    assert 0.005 <= gen["logged_out_share"] <= 0.06
    hours = gen["hours"]
    trough = min(range(24), key=lambda h: hours[h])
    assert 1 <= trough <= 5, hours
    assert 13 <= max(range(24), key=lambda h: hours[h]) <= 20
    assert hours[3] < 0.5 * max(hours)
    if "hours" in real:
        # the daily curves correlate strongly
        g, r = hours, real["hours"]
        mg, mr = sum(g) / 24, sum(r) / 24
        cov = sum((a - mg) * (b - mr) for a, b in zip(g, r))
        var = (sum((a - mg) ** 2 for a in g) * sum((b - mr) ** 2 for b in r))
        assert cov / var ** 0.5 > 0.85


def test_song_files_have_the_real_shape(month: Path) -> None:
    files = sorted((month / "song_data").rglob("*.json"))
    assert 300 <= len(files) <= 900
    years = lats = empty_loc = 0
    for f in files:
        text = f.read_bytes()
        assert text.isascii() and not text.endswith(b"\n")
        assert text.startswith(b'{"num_songs": 1, "artist_id": "AR')
        song = json.loads(text)
        assert list(song) == SONG_KEYS
        track = f.stem
        assert re.fullmatch(r"TR[A-Z0-9]{16}", track)
        assert f.parent.relative_to(month / "song_data").parts == \
            (track[2], track[3], track[4])
        assert re.fullmatch(r"SO[A-Z0-9]{16}", song["song_id"])
        assert re.fullmatch(r"AR[A-Z0-9]{16}", song["artist_id"])
        assert isinstance(song["duration"], float)
        assert isinstance(song["year"], int)
        years += song["year"] == 0
        lats += song["artist_latitude"] is None
        empty_loc += song["artist_location"] == ""
    n = len(files)
    assert 0.3 <= years / n <= 0.6
    assert 0.45 <= lats / n <= 0.85
    assert 0.3 <= empty_loc / n <= 0.6
    if SAMPLE.exists():
        real = next((SAMPLE / "song_data").rglob("*.json")).read_text()
        assert list(json.loads(real)) == SONG_KEYS


def test_matched_plays_are_about_the_asked_rate(month: Path,
                                                sparkify: Path,
                                                tmp_path: Path) -> None:
    m = json.loads((month / "_manifest.json").read_text())
    share = m["expected_matched_songplays"] / m["expected_songplays"]
    assert 0.03 <= share <= 0.07
    m2 = generate(sparkify, tmp_path / "hi", "--users", "50", "--days", "5",
                  "--catalog", "1000", "--match-rate", "0.5")
    share2 = m2["expected_matched_songplays"] / m2["expected_songplays"]
    assert 0.4 <= share2 <= 0.6
    # an exact match: a play's text equals its song file's fields
    songs: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    for f in (tmp_path / "hi" / "song_data").rglob("*.json"):
        s = json.loads(f.read_text())
        songs[(s["title"], s["artist_name"])].append(s["duration"])
    hits = sum(1 for e in read_events(tmp_path / "hi")
               if e["page"] == "NextSong"
               and any(abs(d - e["length"]) <= 0.001
                       for d in songs.get((e["song"], e["artist"]), [])))
    assert hits == m2["expected_matched_songplays"]


def classify(line: bytes) -> str | None:
    """The SPEC quarantine reason of one event line, or None if valid."""
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "invalid_json"
    if not isinstance(obj, dict):
        return "not_an_object"

    def integer(name: str) -> str | None:
        v = obj.get(name)
        if v is None:
            return f"missing_field:{name}"
        if not isinstance(v, int) or isinstance(v, bool):
            return f"wrong_type:{name}"
        return None

    for check in (integer("ts"),):
        if check:
            return check
    if not -2208988800000 <= obj["ts"] < 32503680000000:
        return "out_of_range:ts"
    if obj.get("page") is None:
        return "missing_field:page"
    if not isinstance(obj["page"], (str, int, float)) or \
            isinstance(obj["page"], bool):
        return "wrong_type:page"
    for name in ("sessionId", "itemInSession"):
        bad = integer(name)
        if bad:
            return bad
    if obj["page"] == "NextSong":
        if obj.get("song") is None:
            return "missing_field:song"
        if obj.get("length") is not None and \
                not isinstance(obj["length"], (int, float)):
            return "wrong_type:length"
        if not obj.get("userId"):
            return "missing_field:userId"
    return None


def classify_song_file(text: str) -> list[str | None]:
    """The SPEC reason of each record of a song file (None if valid)."""
    out: list[str | None] = []
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i == len(text):
            return out
        try:
            obj, i = dec.raw_decode(text, i)
        except ValueError:
            return out + ["invalid_json"]
        if not isinstance(obj, dict):
            out.append("not_an_object")
        elif not obj.get("song_id"):
            out.append("missing_field:song_id")
        elif not isinstance(obj.get("duration"), (int, float)):
            out.append("wrong_type:duration")
        elif not isinstance(obj.get("year"), int):
            out.append("wrong_type:year")
        else:
            out.append(None)


def test_dirty_faults_match_the_manifest(sparkify: Path,
                                         tmp_path: Path) -> None:
    out = tmp_path / "dirty"
    m = generate(sparkify, out, "--users", "150", "--days", "5",
                 "--catalog", "3000", "--dirty", "0.05")
    reasons: collections.Counter[str] = collections.Counter()
    identities: collections.Counter[tuple[Any, ...]] = collections.Counter()
    lines = 0
    for f in sorted((out / "log_data").rglob("*.json")):
        for line in f.read_bytes().split(b"\n"):
            lines += 1
            reason = classify(line)
            if reason:
                reasons[reason] += 1
                continue
            e = json.loads(line)
            if e["page"] == "NextSong":
                identities[(e["userId"], e["sessionId"], e["itemInSession"],
                            e["ts"])] += 1
    for f in sorted((out / "song_data").rglob("*.json")):
        for reason in classify_song_file(f.read_text()):
            if reason:
                reasons[reason] += 1
    assert dict(reasons) == m["quarantine"]
    assert sum(reasons.values()) == m["quarantined"]
    assert len(reasons) >= 12
    assert lines == m["events"]
    assert sum(identities.values()) == m["nextsong_events"]
    assert len(identities) == m["expected_songplays"]
    assert sum(identities.values()) - len(identities) == m["duplicate_events"]
    assert m["duplicate_events"] > 0
    # a pretty-printed file with two songs, as in the real larger set
    pretty = [f for f in (out / "song_data").rglob("*.json")
              if f.read_bytes().startswith(b"{\n")]
    assert len(pretty) >= 1
    assert pretty[0].read_text().count('"num_songs"') == 2


def etl_available(exe: Path) -> bool:
    r = subprocess.run([str(exe), "etl", "--help"], capture_output=True,
                       text=True, check=False)
    return r.returncode == 0


@pytest.mark.parametrize("dirty", ["0", "0.03"])
def test_etl_end_to_end(sparkify: Path, tmp_path: Path, dirty: str) -> None:
    if not etl_available(sparkify):
        pytest.skip("`sparkify etl` is not built yet")
    pa = pytest.importorskip("pyarrow.dataset")
    out, lake = tmp_path / "in", tmp_path / "lake"
    m = generate(sparkify, out, "--users", "100", "--days", "7",
                 "--catalog", "3000",
                 "--dirty", dirty, "--gzip" if dirty != "0" else "--quiet")
    r = subprocess.run([str(sparkify), "etl", "--quiet", str(out), str(lake)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    quarantine: collections.Counter[str] = collections.Counter()
    for f in (lake / "_quarantine").rglob("*.jsonl"):
        for line in f.read_text().splitlines():
            quarantine[json.loads(line)["reason"]] += 1
    assert dict(quarantine) == m["quarantine"]
    plays = pa.dataset(lake / "songplays", format="parquet",
                       partitioning="hive").to_table()
    assert plays.num_rows == m["expected_songplays"]
    assert plays.num_rows == m["nextsong_events"] - m["duplicate_events"]
    matched = plays.num_rows - plays.column("song_id").null_count
    assert matched == m["expected_matched_songplays"]
    users = pa.dataset(lake / "users", format="parquet").to_table()
    assert users.num_rows == m["active_users"]
    songs = pa.dataset(lake / "songs", format="parquet",
                       partitioning="hive").to_table()
    assert songs.num_rows == m["songs"]


def inferred_schema(root: Path) -> dict[str, list[tuple[str, str]]]:
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    out = {}
    for part, glob in (("log_data", "*/*/*.json"),
                       ("song_data", "*/*/*/*.json")):
        rows = con.execute("DESCRIBE SELECT * FROM read_json_auto(?)",
                           [str(root / part / glob)]).fetchall()
        out[part] = [(r[0], r[1]) for r in rows]
    return out


def test_readers_infer_the_real_schema(month: Path) -> None:
    """DuckDB infers the same column names, order and types as for the
    course data (registration DOUBLE, userId VARCHAR, ts BIGINT, ...)."""
    gen = inferred_schema(month)
    assert [c for c, _ in gen["log_data"]] == EVENT_KEYS
    assert [c for c, _ in gen["song_data"]] == SONG_KEYS
    assert dict(gen["log_data"])["registration"] == "DOUBLE"
    assert dict(gen["log_data"])["userId"] == "VARCHAR"
    if SAMPLE.exists():
        assert gen == inferred_schema(SAMPLE)


def test_cli_help_and_usage_errors(sparkify: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(sparkify), "generate", *args],
                              capture_output=True, text=True, check=False)

    r = run("--help")
    assert r.returncode == 0 and "--match-rate" in r.stdout
    for bad in (["--users", "0", str(tmp_path / "a")],
                ["--dirty", "1.5", str(tmp_path / "b")],
                ["--start", "2018-13-01", str(tmp_path / "c")],
                ["--frobnicate", str(tmp_path / "d")],
                []):
        r = run(*bad)
        assert r.returncode == 2, bad
        assert r.stderr.startswith("sparkify generate:"), r.stderr
    generate(sparkify, tmp_path / "e", "--users", "2", "--days", "1")
    r = run(str(tmp_path / "e"))  # an existing tree is never overwritten
    assert r.returncode == 2 and "already holds" in r.stderr


def test_artists_option_concentrates_the_catalogue(sparkify: Path,
                                                   tmp_path: Path) -> None:
    """--artists N: every song file names one of N artists, so the songs
    table has few (year, artist_id) folders, as in the MSD (~22 songs an
    artist), and the ETL's figures still match the manifest."""
    if not etl_available(sparkify):
        pytest.skip("`sparkify etl` is not built yet")
    pa = pytest.importorskip("pyarrow.dataset")
    out, lake = tmp_path / "in", tmp_path / "lake"
    m = generate(sparkify, out, "--users", "20", "--days", "2",
                 "--catalog", "4000", "--song-files", "2000",
                 "--artists", "60", "--quiet")
    r = subprocess.run([str(sparkify), "etl", "--quiet", str(out), str(lake)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    songs = pa.dataset(lake / "songs", format="parquet",
                       partitioning="hive").to_table()
    assert songs.num_rows == m["songs"] == 2000
    artists = pa.dataset(lake / "artists", format="parquet").to_table()
    assert 40 <= artists.num_rows <= 60
    folders = {(y, a) for y, a in zip(songs.column("year").to_pylist(),
                                      songs.column("artist_id").to_pylist())}
    # Years near each artist's career: ~540 folders here, where years drawn
    # for each song alone would give ~730.
    assert len(folders) < 650
    plays = pa.dataset(lake / "songplays", format="parquet",
                       partitioning="hive").to_table()
    assert plays.num_rows == m["expected_songplays"]
    assert (plays.num_rows - plays.column("song_id").null_count
            == m["expected_matched_songplays"])
    assert m["artists"] == 60
    bad = subprocess.run([str(sparkify), "generate", str(tmp_path / "x"),
                          "--artists", "0"], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2 and "--artists" in bad.stderr
    big = subprocess.run([str(sparkify), "generate", str(tmp_path / "y"),
                          "--catalog", "10", "--song-files", "5",
                          "--artists", "16"], capture_output=True, text=True,
                         check=False)
    assert big.returncode != 0 and "artists must be 0 to 15" in big.stderr
    assert not (tmp_path / "y" / "song_data").exists()

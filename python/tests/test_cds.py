# SPDX-License-Identifier: Apache-2.0
"""cds.py: the driver JVM's class archive: where it lives (one per JVM
binary and class path), the option build_session adds and when it does
not, making it atomically, and the running test session mapping it."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, List

import pytest

import spark_session as ss
from sparkify_spark import cds, job

KEY = "spark.driver.extraJavaOptions"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPARKIFY_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(cds.ENV_SWITCH, raising=False)
    monkeypatch.delenv(cds._DUMP_ENV, raising=False)
    return tmp_path / "cache"


def fake_java(base: Path, body: str = "x") -> Path:
    java = base / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(body)
    java.chmod(0o755)
    return base


def test_archive_path_is_per_jvm(cache: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(fake_java(tmp_path / "jdk1")))
    a = cds.archive_path()
    assert a is not None and a.parent == cache
    assert a.name.startswith("spark-driver-") and a.suffix == ".jsa"
    assert cds.archive_path() == a  # stable
    monkeypatch.setenv("JAVA_HOME", str(fake_java(tmp_path / "jdk2", "yy")))
    b = cds.archive_path()
    assert b is not None and b != a  # another JVM, another archive
    other = tmp_path / "spark2"
    (other / "jars").mkdir(parents=True)
    monkeypatch.setenv("SPARK_HOME", str(other))
    assert cds.spark_jars() == other / "jars"
    c = cds.archive_path()
    assert c is not None and c not in (a, b)  # another Spark's jars


def test_no_java_no_archive(cache: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    assert cds.archive_path() is None
    assert cds.java_option() == ""
    assert cds.make() is None


def plant(path: Path, mode: int = 0o444) -> None:
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_bytes(b"archive")
    path.chmod(mode)


def test_java_option(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cds.archive_path()
    if path is None:
        pytest.skip("no java here")
    assert cds.java_option() == ""  # not made yet
    plant(path)
    assert cds.java_option() == f"-XX:SharedArchiveFile={path}"
    monkeypatch.setenv(cds.ENV_SWITCH, "0")
    assert cds.java_option() == ""
    assert cds.make() is None  # switched off: not made either


def test_only_an_archive_nobody_else_can_write(cache: Path) -> None:
    """The JVM runs what the archive holds: one that another user could
    have written (group/other-writable file or folder, a symlink) is
    not given to it."""
    path = cds.archive_path()
    if path is None:
        pytest.skip("no java here")
    plant(path, 0o664)
    assert not cds.usable(path) and cds.java_option() == ""
    path.chmod(0o444)
    assert cds.usable(path)
    cache.chmod(0o777)
    assert not cds.usable(path) and cds.java_option() == ""
    assert cds.make(quiet=True) is None  # nor made in such a folder
    cache.chmod(0o700)
    real = cache / "elsewhere.jsa"
    path.rename(real)
    path.symlink_to(real)
    assert not cds.usable(path)


def test_session_defaults_add_it_to_ours_only(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cds.archive_path()
    if path is None:
        pytest.skip("no java here")
    assert job.session_defaults({})[KEY] == job.BASE_CONF[KEY]
    plant(path)
    assert job.session_defaults({})[KEY] == \
        job.BASE_CONF[KEY] + f" -XX:SharedArchiveFile={path}"
    # the user's JVM options win, ours (and the archive) are left out
    assert KEY not in job.session_defaults({KEY: "-Xss4m"})


class FakeRuns:
    """subprocess.run for make(): the training child (writes a dump and
    its class path, exits @train_rc) and the check that the dump maps
    (exits @java_rc)."""

    def __init__(self, train_rc: int = 0, java_rc: int = 0,
                 class_path: bool = True) -> None:
        self.train_rc, self.java_rc = train_rc, java_rc
        self.class_path = class_path
        self.dumps: List[Path] = []

    def __call__(self, cmd: List[str], env: Any = None, **_: Any
                 ) -> subprocess.CompletedProcess:
        if "--train" in cmd:
            dump = Path(env[cds._DUMP_ENV])
            self.dumps.append(dump)
            dump.write_bytes(b"archive")
            if self.class_path:
                Path(str(dump) + ".cp").write_text("/x.jar")
            return subprocess.CompletedProcess(cmd, self.train_rc, "", "boom")
        assert "-Xshare:on" in cmd and "/x.jar" in cmd
        return subprocess.CompletedProcess(cmd, self.java_rc, b"", b"")


def test_make_is_atomic(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cds.archive_path()
    if path is None:
        pytest.skip("no java here")
    runs = FakeRuns()
    monkeypatch.setattr(cds.subprocess, "run", runs)
    cache.mkdir(mode=0o700)
    stale = path.with_name(path.name + ".999999.tmp")  # a killed maker's
    stale.write_bytes(b"half")
    assert cds.make(quiet=True) == path
    (dump,) = runs.dumps
    assert dump.parent == path.parent and dump != path
    assert path.read_bytes() == b"archive" and cds.usable(path)
    assert cds.make(quiet=True) == path and len(runs.dumps) == 1  # once
    assert not list(cache.glob("*.tmp*"))
    assert cds.make(force=True, quiet=True) == path and len(runs.dumps) == 2


def test_make_prunes_old_archives(cache: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Making an archive leaves the KEEP most recent ones (the new one
    among them) and their locks; older ones go, except one whose maker is
    at work (its lock held) and files not named as archives."""
    import fcntl
    import os
    path = cds.archive_path()
    if path is None:
        pytest.skip("no java here")
    monkeypatch.setattr(cds.subprocess, "run", FakeRuns())
    cache.mkdir(mode=0o700)
    old = [cache / f"spark-driver-{i:016x}.jsa" for i in range(5)]
    for age, f in enumerate(old):  # old[0] the newest
        f.write_bytes(b"old")
        f.with_name(f.name + ".lock").write_bytes(b"")
        os.utime(f, (1e9 - age, 1e9 - age))
    other = cache / "s3proxy.jar"
    other.write_bytes(b"jar")
    os.utime(other, (1.0, 1.0))
    with open(old[3].with_name(old[3].name + ".lock"), "a") as busy:
        fcntl.flock(busy, fcntl.LOCK_EX)
        assert cds.make(quiet=True) == path
    left = sorted(p.name for p in cache.iterdir())
    want = [path, *old[:cds.KEEP - 1], old[3]]
    assert left == sorted([p.name for p in want] +
                          [p.name + ".lock" for p in want] + [other.name])


@pytest.mark.parametrize("train_rc,java_rc,class_path,msg", [
    (1, 0, True, "boom"), (0, 1, True, "does not map"),
    (0, 0, False, "failed")])
def test_make_fails_cleanly(cache: Path, monkeypatch: pytest.MonkeyPatch,
                            train_rc: int, java_rc: int, class_path: bool,
                            msg: str) -> None:
    path = cds.archive_path()
    if path is None:
        pytest.skip("no java here")
    monkeypatch.setattr(cds.subprocess, "run",
                        FakeRuns(train_rc, java_rc, class_path))
    with pytest.raises(RuntimeError, match=msg):
        cds.make(quiet=True)
    assert not path.exists() and not list(cache.glob("*.tmp*"))


def test_the_test_session_maps_the_archive() -> None:
    """scripts/run-tests.sh makes the archive before pytest: the tests'
    session (build_session) started with it."""
    path = cds.archive_path()
    if path is None or not cds.usable(path) or not cds.enabled():
        pytest.skip("no class archive made here")
    spark = ss.session()
    sc = spark.sparkContext  # type: ignore[attr-defined]
    if job.BASE_CONF[KEY] not in sc.getConf().get(KEY, ""):  # ours?
        pytest.skip("the user's driver JVM options: ours are left out")
    jvm = sc._jvm
    args = list(jvm.java.lang.management.ManagementFactory
                .getRuntimeMXBean().getInputArguments())
    assert f"-XX:SharedArchiveFile={path}" in args, args
    # ... and it maps: a JVM with this class path that must share (or
    # fail) starts. The same jars in another order are refused, so the
    # check checks.
    cp = str(jvm.java.lang.System.getProperty("java.class.path"))
    java = cds.java_binary()
    assert java is not None

    def starts(classpath: str) -> bool:
        r = subprocess.run([java, "-Xshare:on",
                            f"-XX:SharedArchiveFile={path}", "-cp",
                            classpath, "-version"], capture_output=True,
                           text=True, check=False)
        return r.returncode == 0
    assert starts(cp)
    assert not starts(":".join(cp.split(":")[::-1]))

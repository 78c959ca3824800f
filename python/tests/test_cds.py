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
    import pyspark
    monkeypatch.setattr(pyspark, "__file__",
                        str(tmp_path / "venv2" / "pyspark" / "__init__.py"))
    c = cds.archive_path()
    assert c is not None and c not in (a, b)  # another venv's jars


def test_no_java_no_archive(cache: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    assert cds.archive_path() is None
    assert cds.java_option() == ""
    assert cds.make() is None


def test_java_option(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cds.archive_path()
    if path is None:
        pytest.skip("no java here")
    assert cds.java_option() == ""  # not made yet
    cache.mkdir()
    path.write_bytes(b"archive")
    assert cds.java_option() == f"-XX:SharedArchiveFile={path}"
    monkeypatch.setenv(cds.ENV_SWITCH, "0")
    assert cds.java_option() == ""
    assert cds.make() is None  # switched off: not made either
    monkeypatch.setenv(cds._DUMP_ENV, "/x/y.jsa")  # the training child
    assert cds.java_option() == "-XX:ArchiveClassesAtExit=/x/y.jsa"


def test_session_defaults_add_it_to_ours_only(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cds.archive_path()
    if path is None:
        pytest.skip("no java here")
    assert job.session_defaults({})[KEY] == job.BASE_CONF[KEY]
    cache.mkdir()
    path.write_bytes(b"archive")
    assert job.session_defaults({})[KEY] == \
        job.BASE_CONF[KEY] + f" -XX:SharedArchiveFile={path}"
    # the user's JVM options win, ours (and the archive) are left out
    assert KEY not in job.session_defaults({KEY: "-Xss4m"})


def test_make_is_atomic(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cds.archive_path()
    if path is None:
        pytest.skip("no java here")
    seen: List[Any] = []

    def trained(cmd: List[str], env: dict, **_: Any
                ) -> subprocess.CompletedProcess:
        dump = Path(env[cds._DUMP_ENV])
        seen.append(dump)
        assert dump.parent == path.parent and dump != path
        assert not path.exists()  # nothing at the final name meanwhile
        dump.write_bytes(b"archive")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(cds.subprocess, "run", trained)
    assert cds.make(quiet=True) == path
    assert path.read_bytes() == b"archive"
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700)
    assert cds.make(quiet=True) == path and len(seen) == 1  # made once
    assert not list(cache.glob("*.tmp"))


def test_make_fails_cleanly(cache: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = cds.archive_path()
    if path is None:
        pytest.skip("no java here")

    def failed(cmd: List[str], env: dict, **_: Any
               ) -> subprocess.CompletedProcess:
        Path(env[cds._DUMP_ENV]).write_bytes(b"half")  # a partial dump
        return subprocess.CompletedProcess(cmd, 1, "", "boom")

    monkeypatch.setattr(cds.subprocess, "run", failed)
    with pytest.raises(RuntimeError, match="boom"):
        cds.make(quiet=True)
    assert not path.exists() and not list(cache.glob("*.tmp"))


def test_the_test_session_maps_the_archive() -> None:
    """scripts/run-tests.sh makes the archive before pytest: the tests'
    session (build_session) started with it."""
    path = cds.archive_path()
    if path is None or not path.is_file() or not cds.enabled():
        pytest.skip("no class archive made here")
    if KEY in job.preset_conf():
        pytest.skip("the user's driver JVM options: ours are left out")
    spark = ss.session()
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
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

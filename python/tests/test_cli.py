# SPDX-License-Identifier: Apache-2.0
"""The command line's contract: version, help, usage errors."""
from __future__ import annotations

import subprocess
from pathlib import Path


def run(exe: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *args], capture_output=True, text=True,
                          check=False)


def test_version(sparkify: Path) -> None:
    r = run(sparkify, "--version")
    assert r.returncode == 0
    assert r.stdout.startswith("sparkify 0.")


def test_unknown_command_is_usage_error(sparkify: Path) -> None:
    r = run(sparkify, "frobnicate")
    assert r.returncode == 2
    assert "unknown command" in r.stderr


def test_no_arguments_prints_usage(sparkify: Path) -> None:
    r = run(sparkify)
    assert r.returncode == 2
    assert "usage:" in r.stderr

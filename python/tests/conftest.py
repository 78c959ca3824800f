# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: where the built CLI and library are."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def build_dir() -> Path:
    return Path(os.environ.get("SPARKIFY_BUILD", ROOT / "build"))


@pytest.fixture(scope="session")
def sparkify(build_dir: Path) -> Path:
    exe = build_dir / "sparkify"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run `make` first")
    return exe

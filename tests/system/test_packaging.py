"""The wheel holds every file the gateway reads at run time, not only its Python.

An editable install (the suite's) reads the checkout, so a data file left out of
`[tool.setuptools.package-data]` shows only when someone installs the wheel: the
gateway then fails at start-up (the /usage page reads its index.html, the demo its
data file, migrations their scripts). Built with the project's own uv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".tools" / "bin" / "uv"
RUN_TIME_FILES = (
    "gateway/*.html",
    "gateway/*.toml",
    "gateway/static",
    "store/migrations",
)
"""What the gateway opens by path (besides its modules), as git tracks it."""


def _uv() -> str:
    found = str(UV) if UV.exists() else shutil.which("uv")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("uv is needed to build the wheel (make sync installs it)")
        pytest.skip("uv is not installed here (make sync installs it)")
    return found


def _files(*patterns: str) -> list[str]:
    """The files git tracks or would (untracked, not ignored), as in the tree."""
    return subprocess.run(
        [
            "git",
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            *patterns,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()


def test_the_wheel_holds_every_file_the_gateway_reads(tmp_path: Path) -> None:
    # Built from a copy of what a clone holds: a checkout's build/ or *.egg-info
    # (SOURCES.txt) would hand the wheel files the package data no longer names.
    source = tmp_path / "source"
    for name in _files():
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [_uv(), "build", "--wheel", "--out-dir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    [wheel] = tmp_path.glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    needed = _files(*RUN_TIME_FILES)
    assert needed, "git lists none of the run-time files"
    assert sorted(set(needed) - packed) == []

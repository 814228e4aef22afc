"""The wheel carries the suite (settings, schemas, catalogue, tests), and its command runs them from any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conformance.__main__ import pytest_args
from conformance.options import OPTIONS

REPO = Path(__file__).resolve().parent.parent
SHIPPED = {"schemas": ("*.json", "*.yaml"), "tests": ("*.py",)}


def pyproject() -> dict[str, Any]:
    """The repository's pyproject.toml."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    parsed: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return parsed


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    on_disk = {
        ".".join(path.parent.relative_to(REPO).parts) for path in (REPO / "conformance").rglob("__init__.py")
    }
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    assert listed == {*on_disk, "conformance.suite"}


def test_the_command_pins_the_suites_settings_and_tests() -> None:
    args = pytest_args(["--target=http://127.0.0.1:9", "-k", "404"])
    assert args[:2] == ["-c", str(REPO / "pyproject.toml")] and args[2] == f"--rootdir={REPO}"
    assert args[3:] == ["--target=http://127.0.0.1:9", "-k", "404", str(REPO / "tests")]


def test_the_command_ignores_the_pytest_configuration_of_the_folder_it_runs_from(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text("raise RuntimeError('a project conftest was loaded')\n", encoding="utf-8")
    (tmp_path / "out").mkdir()  # a bare existing path after --report-dir: the suite's settings are pinned regardless
    ours = {name for option in OPTIONS for name in option.env}  # a target in the environment would select a family
    completed = subprocess.run(
        [sys.executable, "-m", "conformance", "--report-dir", "out", "--collect-only", "-q"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={name: value for name, value in os.environ.items() if name not in ours},
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr
    ids = [line for line in completed.stdout.splitlines() if "::" in line]
    assert ids and all(line.startswith("tests/") for line in ids)  # test ids as in a clone
    assert {line.split("/")[1] for line in ids} == {"cri", "glance"}
    assert not (tmp_path / ".pytest_cache").exists()  # the suite's `-p no:cacheprovider` applies


def test_the_wheel_holds_the_settings_schemas_catalogue_and_tests(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    source = tmp_path / "source"  # built from a copy: building leaves build/ and *.egg-info behind
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("conformance", *SHIPPED):
        shutil.copytree(REPO / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "conftest.py"):
        shutil.copy(REPO / name, source / name)
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=source, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, completed.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {"conformance/suite/pyproject.toml", "conformance/__main__.py", "conformance/plugin.py"}
    for folder, patterns in SHIPPED.items():
        for pattern in patterns:
            wanted |= {f"conformance/suite/{p.relative_to(REPO).as_posix()}" for p in (REPO / folder).rglob(pattern)}
    assert wanted - names == set()
    assert any(name.startswith("conformance/suite/schemas/requirements/") for name in names)
    assert any(name.startswith("conformance/suite/schemas/profiles/") for name in names)
    assert not any(name.startswith(("tests/", "schemas/", "selftests/")) for name in names)  # nothing top-level
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "image-api-conformance = conformance.__main__:main" in zipfile.ZipFile(wheel).read(entry_points).decode()

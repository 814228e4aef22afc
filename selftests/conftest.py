"""Shared helpers of the suite's own tests: run the conformance suite in a subprocess and read its results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.options import OPTIONS
from conformance.run.selection import register_markers

REPO = Path(__file__).resolve().parent.parent
# The v1 HEAD and v1.1 detail test modules: a run of them alone certifies the deprecated v1 APIs only.
V1_TESTS = (
    "tests/glance/test_v1_head.py", "tests/glance/test_v1_1_detail.py", "tests/glance/test_v1_1_detail_filters.py",
)
pytest_plugins = ["pytester"]


@dataclass
class SuiteRun:
    """What one run of the conformance suite produced."""

    returncode: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def results(self) -> dict[str, Any]:
        """results.json of the run."""
        return json.loads((self.report_dir / "results.json").read_text(encoding="utf-8"))

    def outcome(self, requirement_id: str) -> str:
        """The outcome results.json records for one requirement."""
        for entry in self.results["requirements"]:
            if entry["id"] == requirement_id:
                return str(entry["outcome"])
        raise KeyError(requirement_id)

    def outcomes(self) -> dict[str, str]:
        """Every requirement id with its outcome."""
        return {entry["id"]: entry["outcome"] for entry in self.results["requirements"]}


def suite_command(report_dir: Path, args: tuple[str, ...], env: dict[str, str] | None = None
                  ) -> tuple[list[str], dict[str, str]]:
    """The command that runs `pytest ARGS` on the conformance tests, and its environment."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--report-dir={report_dir}", *args]
    ours = {name for option in OPTIONS for name in option.env}  # the run sees only the variables a test sets
    # OpenStack credentials (OS_AUTH_URL, OS_PASSWORD...) of the shell would turn the run into a Keystone one.
    clean_env = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith("OS_")}
    return command, {**clean_env, **(env or {})}


def run_suite(report_dir: Path, *args: str, timeout: float = 600, env: dict[str, str] | None = None) -> SuiteRun:
    """Run `pytest ARGS` on the conformance tests in a fresh process and return what it produced."""
    command, run_env = suite_command(report_dir, args, env)
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=run_env,
                               stdin=subprocess.DEVNULL)
    return SuiteRun(completed.returncode, completed.stdout, completed.stderr, report_dir)


def outside_short_summary(output: str) -> list[str]:
    """The lines of `output` but pytest's short summary ones, which repeat each message in full when CI is set."""
    return [line for line in output.splitlines() if not line.startswith(("ERROR ", "FAILED "))]


MEMORY_BOUND_KIB = 300 * 1024  # peak resident memory of one run, whatever the target sends
# the child runs the suite and says its peak memory: RUSAGE_CHILDREN of this process would mix in other runs
MEASURE = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL).returncode;"
           " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)")


@dataclass
class Measured:
    """A run of the suite with its wall time and the peak resident memory of its process."""

    run: SuiteRun
    elapsed: float
    peak_kib: int


def measured_run(report_dir: Path, *args: str, timeout: float = 300) -> Measured:
    """Run `pytest ARGS` in a fresh process; its wall time and peak RSS (KiB) with it."""
    command, env = suite_command(report_dir, args)
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=REPO, capture_output=True, text=True,
                               timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    *_, peak = completed.stderr.strip().splitlines() or ["0"]
    return Measured(SuiteRun(completed.returncode, completed.stdout, completed.stderr, report_dir), elapsed, int(peak))


@pytest.fixture(scope="module")
def socket_dir() -> Iterator[str]:
    """A folder for unix sockets, removed after the module: pytest's tmp_path can exceed their 107-byte limit."""
    path = tempfile.mkdtemp(prefix="cri-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def suite(tmp_path: Path):
    """Call with pytest arguments to run the conformance suite; reports go to a temporary folder."""

    def run(*args: str, **kwargs: Any) -> SuiteRun:
        return run_suite(tmp_path / "reports", *args, **kwargs)

    return run


def pytest_configure(config: pytest.Config) -> None:
    """Declare the suite's markers: self-tests import the conformance tests and read their marks."""
    register_markers(config)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    """Print the mutation score when the sensitivity test ran."""
    from selftests.test_sensitivity import SCORE_KEY

    line = config.stash.get(SCORE_KEY, None)
    if line:
        terminalreporter.write_sep("=", line, bold=True)

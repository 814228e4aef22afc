"""The command explains itself: its version, its usage, its requirements and options as README lists them, listings
that stop quietly when their reader does, and cache options refused in one line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conformance import __version__
from conformance.options import OPTIONS
from conformance.report import catalogue
from selftests.conftest import REPO, suite_command

# options README's table documents that pytest plugins own, not the suite
OTHERS = {"--hypothesis-profile"}


def command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m conformance ARGS` in the clone."""
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_version_names_the_suite_and_pytest() -> None:
    done = command("--version")
    assert done.returncode == 0
    assert done.stdout == f"image-api-conformance {__version__} (pytest {pytest.__version__})\n"


def test_help_starts_with_the_suites_usage_then_pytests() -> None:
    done = command("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: image-api-conformance ")
    for option in OPTIONS:
        assert f"\n  {option.flag}" in done.stdout, option.flag
    assert done.stdout.index("--list-requirements") < done.stdout.index("-k EXPRESSION")  # pytest's follow


def test_readme_lists_every_requirement_as_the_command_does() -> None:
    listed = command("--list-requirements")
    assert listed.returncode == 0 and listed.stdout.splitlines() == catalogue.table()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert catalogue.readme_table(readme) == catalogue.table(), (
        "README's requirements table is out of date: paste `python -m conformance --list-requirements` into it")
    assert len(catalogue.table()) > 2


def test_readme_option_table_is_the_suites_option_table() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set()
    for line in readme.splitlines():
        if line.startswith("| `--"):
            first = re.split(r"(?<!\\)\|", line)[1]  # the first cell (a `\|` is part of it)
            documented |= {re.split(r"[ =]", flag)[0] for flag in re.findall(r"`(--[^`]+)`", first)}
    assert documented - OTHERS == {option.flag for option in OPTIONS}


@pytest.mark.parametrize("args", [("-m", "conformance", "--list-requirements"),
                                  ("-m", "conformance.reference", "--list-faults"),
                                  ("-m", "conformance", "--help")], ids=["requirements", "faults", "help"])
def test_a_listing_stops_quietly_when_its_reader_does(args: tuple[str, ...]) -> None:
    process = subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the listing is written: its first write finds the pipe closed
    errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0 and errors == "", errors


@pytest.mark.parametrize("flag", ["--lf", "--ff", "--sw"])
@pytest.mark.parametrize("runner", ["pytest", "conformance"])
def test_cache_options_are_refused_in_one_line(runner: str, flag: str, tmp_path) -> None:
    _, env = suite_command(tmp_path / "reports", ())  # the environment only: its command turns the cache off itself
    done = subprocess.run([sys.executable, "-m", runner, f"--report-dir={tmp_path / 'reports'}", flag], cwd=REPO,
                          capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 4 and len(lines) == 1, lines
    assert lines[0].startswith(f"ERROR: {flag} needs pytest's cache"), lines

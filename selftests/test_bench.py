"""tools/bench.py's floor: it counts a run's tests and examples from pytest's output and runs as many doing nothing."""

from __future__ import annotations

import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent / "tools"
sys.path.insert(0, str(TOOLS))  # as the real-target self-tests import the tools

import bench  # noqa: E402

STATISTICS = """\
tests/a.py::test_x[v1]:

  - during generate phase (0.08 seconds):
    - 25 passing, 0 failing, and 0 invalid test cases

tests/b.py::test_y:

    - 23 passing, 2 failing, and 4 invalid test cases
"""


def test_the_runs_tests_and_examples_are_counted_from_its_output() -> None:
    summary = "125 passed, 14 skipped, 7 deselected in 3.61s"
    assert bench.counted(summary, STATISTICS) == (139, 48)
    assert bench.counted("1 failed, 2 passed, 1 error in 1.0s", "") == (4, 0)


def test_the_floor_runs_as_many_tests_doing_nothing() -> None:
    measured = bench.floor(tests=3, examples=5, repeat=1)  # raises unless that run passed
    assert measured.cpu > 0
    assert measured.startup > 0  # written by its first test, so that test ran

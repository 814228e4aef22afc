"""tools/bench.py's floor: it counts a run's tests and examples from pytest's output and runs as many doing nothing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "tools" / "bench.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["bench"]
    return module


STATISTICS = """\
tests/a.py::test_x[v1]:

  - during generate phase (0.08 seconds):
    - 25 passing, 0 failing, and 0 invalid test cases

tests/b.py::test_y:

    - 23 passing, 2 failing, and 4 invalid test cases
"""


def test_the_runs_tests_and_examples_are_counted_from_its_output(bench: ModuleType) -> None:
    summary = "125 passed, 14 skipped, 7 deselected in 3.61s"
    assert bench.counted(summary, STATISTICS) == (139, 48)
    assert bench.counted("1 failed, 2 passed, 1 error in 1.0s", "") == (4, 0)


def test_the_floor_runs_as_many_tests_doing_nothing(bench: ModuleType) -> None:
    measured = bench.floor(tests=3, examples=5, repeat=1)  # raises unless that run passed
    assert measured.cpu > 0
    assert measured.startup > 0  # written by its first test, so that test ran

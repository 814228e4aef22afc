"""Installed but not asked: an unrelated project's pytest run is exactly as it is without the suite."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

UNRELATED = '''
import sys

from hypothesis import given, settings, strategies as st


def test_hypothesis_settings_are_its_own():
    name = settings.get_current_profile_name()
    assert name in ("default", "ci")  # hypothesis' own choice: "ci" when the environment says CI
    assert repr(settings()) == repr(settings.get_profile(name))
    assert settings().max_examples == 100


@given(st.integers())
def test_a_property(n):
    assert n == n


def test_nothing_heavy_was_imported():
    heavy = [name for name in ("grpc", "conformance.cri.fixtures", "conformance.glance.fixtures",
                               "conformance.run.verdict") if name in sys.modules]
    assert heavy == []
'''


def _lines(output: list[str]) -> list[str]:
    """The output without timings and the lists of installed plugins (which name the suite either way)."""
    timing = re.compile(r" in [0-9.]+s")
    return [timing.sub("", line) for line in output if not line.startswith(("plugins:", "rootdir:", "metadata:"))]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_unrelated=UNRELATED)
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\n")
    return pytester


def test_an_unrelated_project_runs_as_without_the_suite(project: pytest.Pytester) -> None:
    with_suite = project.runpytest_subprocess("-v")
    with_suite.assert_outcomes(passed=3)
    assert not (project.path / "reports").exists()
    assert not list(project.path.rglob("results.json")) and not list(project.path.rglob("*.html"))
    without = project.runpytest_subprocess("-v", "-p", "no:image_conformance")
    without.assert_outcomes(passed=3)
    assert _lines(with_suite.outlines) == _lines(without.outlines)
    assert not any("conformance" in line for line in _lines(with_suite.outlines))


def test_an_unrelated_project_sees_none_of_the_suite_markers(project: pytest.Pytester) -> None:
    markers = project.runpytest_subprocess("--markers").stdout.str()
    assert "@pytest.mark.requirement" not in markers and "@pytest.mark.cri:" not in markers


def test_an_unrelated_marker_is_still_unknown(project: pytest.Pytester) -> None:
    project.makepyfile(test_marked="import pytest\n\n@pytest.mark.cri\ndef test_x():\n    pass\n")
    result = project.runpytest_subprocess("test_marked.py")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # --strict-markers: `cri` is not this project's marker
    result.stdout.fnmatch_lines(["*'cri' not found in `markers` configuration option*"])

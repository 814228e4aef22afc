"""A failing property test reads well: short, its drawn value and seed named, no fixture dumped, no secret shown."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis.vendor.pretty import pretty

from conformance.evidence import Censor, ExchangeLog
from conformance.hypothesis_profiles import HypothesisInfo
from conformance.options import build_config
from conformance.run.state import RunState
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpTarget
from conformance.targets.limits import RunLimits
from selftests.conftest import REPO, SuiteRun, run_suite

SEED = "20240601"
TOKEN = "failure-output-selftest-token-0123456789"
# Each property test of the suite, the fault that makes it fail, and how its failure names the drawn value.
PROPERTY_FAULTS = {
    "tests/glance/test_v2_show.py::test_malformed_id_answers_4xx_never_5xx": ("v2-show-malformed-id-500", "image_ids="),
    "tests/glance/test_v1_head.py::test_malformed_id_answers_4xx_never_5xx": ("v1-head-malformed-id-500", "image_ids="),
    "tests/glance/test_v1_1_detail.py::test_invalid_parameter_answers_400_never_5xx[size_min]": (
        "v1-1-detail-size-min-500", "Draw 1 (size_min): "),
    "tests/glance/test_v1_1_detail_filters.py::test_every_returned_image_matches_every_filter": (
        "v1-1-detail-only-first-filter", "Draw 1 (queries): "),
    "tests/glance/test_v1_1_detail_filters.py::test_every_matching_image_is_returned": (
        "v1-1-detail-combined-drops-one", "Draw 1 (queries): "),
    "tests/glance/test_v1_1_detail_filters.py::test_adding_a_filter_never_adds_an_image": (
        "v1-1-detail-filters-any", "Draw 1 (queries and added filters): "),
    "tests/glance/test_v2_list.py::test_invalid_parameter_answers_400_never_5xx[visibility]": (
        "v2-list-bad-visibility-200", "Draw 1 (visibility): "),
    "tests/glance/test_v2_list_filters.py::test_every_returned_image_matches_every_filter": (
        "v2-list-only-first-filter", "Draw 1 (queries): "),
    "tests/glance/test_v2_list_filters.py::test_every_matching_image_is_returned": (
        "v2-list-combined-drops-one", "Draw 1 (queries): "),
    "tests/glance/test_v2_list_filters.py::test_adding_a_filter_never_adds_an_image": (
        "v2-list-filters-any", "Draw 1 (queries and added filters): "),
    "tests/glance/test_v2_list_filters.py::test_an_in_list_keeps_quoted_commas": (
        "v2-list-in-splits-quotes", "Draw 1 (name lists): "),
    "tests/cri/test_image_status.py::test_any_reference_answers_ok_or_a_client_error": (
        "status-malformed-ref-internal", "reference="),
}
MAX_LINES = 120  # of one failure's block, from its header to the next (before: 4,900 lines, 360 kB)
MAX_CHARS = 15_000  # the check's own message lists up to 20 problems of a few hundred characters
DUMPS = ("object at 0x", "Generating overly large repr", "'properties': {", "entries=[", "description=")


def property_tests() -> set[str]:
    """Every test of tests/ that hypothesis drives (decorated with @given), as a node id without parameters."""
    found = set()
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "id", None) == "given" for d in node.decorator_list
            ):
                found.add(f"{path.relative_to(REPO).as_posix()}::{node.name}")
    return found


def failure_blocks(stdout: str) -> list[tuple[str, str]]:
    """(header, block) of each failed test in the FAILURES section."""
    section = stdout.split("= FAILURES =", 1)[-1]
    section = re.split(r"\n=+ (?:conformance verdict|short test summary)", section, maxsplit=1)[0]
    parts = re.split(r"\n_{3,} ([^\n]+?) _{3,}\n", section)
    return list(zip(parts[1::2], parts[2::2], strict=True))


@pytest.fixture(scope="module")
def failing_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SuiteRun]:
    """A thorough run of each property test with its fault (one at a time: faults together can hide each other)."""
    return {
        node: run_suite(tmp_path_factory.mktemp("reports"), node, "--reference-fault", fault,
                        "--hypothesis-profile=thorough", f"--hypothesis-seed={SEED}", f"--token={TOKEN}")
        for node, (fault, _) in PROPERTY_FAULTS.items()
    }


def test_every_property_test_has_a_fault_that_shows_its_failure() -> None:
    assert property_tests() == {node.split("[")[0] for node in PROPERTY_FAULTS}


@pytest.mark.parametrize("node_id", sorted(PROPERTY_FAULTS), ids=lambda node_id: node_id.split("::")[-1][:40])
def test_property_failure_is_short_and_names_the_drawn_value_and_seed(node_id: str,
                                                                      failing_runs: dict[str, SuiteRun]) -> None:
    run, (path, name), drawn = failing_runs[node_id], node_id.split("::"), PROPERTY_FAULTS[node_id][1]
    blocks = [block for header, block in failure_blocks(run.stdout)
              if header.startswith(name) and f"\n{path}:" in block]
    # the fault's requirement fails (an advisory one does not fail the run's exit status)
    assert "failed" in {r["outcome"] for r in run.results["requirements"]} and blocks, run.stdout[-3000:]
    for block in blocks:
        lines = block.splitlines()
        assert len(lines) <= MAX_LINES and len(block) <= MAX_CHARS, f"{len(lines)} lines, {len(block)} chars:\n{block}"
        assert drawn in block, block
        assert f"--hypothesis-seed={SEED}" in block, block
        assert "Reproduce: " in block, block  # the exchange that shows the failure
        for dump in DUMPS:
            assert dump not in block, f"{dump!r} in:\n{block}"
    assert TOKEN not in run.stdout + run.stderr
    assert TOKEN not in (run.report_dir / "results.json").read_text(encoding="utf-8")


def test_fixture_values_show_a_short_summary_and_no_secret(tmp_path: Path) -> None:
    config = build_config({"target": "http://user:hunter2@127.0.0.1:9/glance?key=abc", "token": TOKEN}, {}, {},
                          tmp_path)
    log = ExchangeLog(Censor(config.secrets()))
    state = RunState(config=config, log=log, hypothesis=HypothesisInfo("thorough", False, SEED))
    client = GlanceClient(HttpTarget(str(config.glance_url), limits=RunLimits.of(config), log=log, token=config.token))
    for value in (config, state, log, client):
        shown = {repr(value), pretty(value)}  # pytest shows the one, hypothesis' failing test case the other
        assert len(shown) == 1, shown
        text = shown.pop()
        assert len(text) < 200 and "\n" not in text, text
        assert all(secret not in text for secret in (TOKEN, "hunter2", "key=abc")), text
    assert repr(config) == "TargetConfig(http://127.0.0.1:9/glance; glance: ims; token set)"

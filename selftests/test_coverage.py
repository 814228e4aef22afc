"""Coverage is part of the record: what each requirement judged, what it could not, and never a vacuous pass."""

from __future__ import annotations

import pytest

from conformance.catalog import requirements
from conformance.checks import Coverage, Problems, recording
from conformance.run.outcomes import Outcome
from conformance.run.outcomes import TestOutcome as OutcomeOfTest
from conformance.run.verdict import aggregate

V1_1 = "tests/glance/test_v1_1_detail.py"
COMPLETE = "GLANCE-V1-1-DETAIL-FILTER-COMPLETE"
FILTER_STATUS = "GLANCE-V1-1-DETAIL-FILTER-STATUS"


def test_a_check_that_judged_nothing_skips_with_the_reason() -> None:
    with recording(Coverage()):
        problems = Problems("anything")
        problems.not_judged("walks cut at 1 pages")
        with pytest.raises(pytest.skip.Exception, match="nothing judged: walks cut at 1 pages"):
            problems.check()


def test_a_check_that_judged_something_passes() -> None:
    with recording(Coverage()) as cov:
        problems = Problems("anything")
        problems.judged("images", 3)
        problems.check()
    assert cov.judged == {"images": 3}


def test_a_requirement_that_judged_nothing_is_skipped_never_passed() -> None:
    req = requirements()[COMPLETE]
    test = OutcomeOfTest("t::a", (req.id,), Outcome.PASSED)
    test.coverage.leave("completeness not judged for walks cut at 10 pages (raise --max-pages)", 66)
    (result,) = aggregate([req], [test])
    assert result.outcome == Outcome.SKIPPED
    assert "walks cut at 10 pages (raise --max-pages) (66 cases)" in result.message


def test_a_partial_pass_lists_what_it_did_not_judge() -> None:
    req = requirements()[COMPLETE]
    judged = OutcomeOfTest("t::a", (req.id,), Outcome.PASSED)
    judged.coverage.judge("queries", 40)
    judged.coverage.leave("completeness not judged for walks cut at 10 pages (raise --max-pages)", 2)
    skipped = OutcomeOfTest("t::b", (req.id,), Outcome.SKIPPED, "no listed image offers a value")
    (result,) = aggregate([req], [judged, skipped], {"queries": "images after the first 100 not judged"})
    assert result.outcome == Outcome.PASSED and result.partial
    assert result.coverage.judged == {"queries": 40}
    assert set(result.coverage.not_judged) == {
        "completeness not judged for walks cut at 10 pages (raise --max-pages)", "no listed image offers a value",
        "images after the first 100 not judged",
    }


def _entry(results: dict, requirement_id: str) -> dict:
    return next(entry for entry in results["requirements"] if entry["id"] == requirement_id)


def test_a_walk_cut_at_the_page_cap_is_listed_and_a_raised_cap_judges_it(suite, tmp_path) -> None:
    cut = suite(V1_1, "-p", "selftests.small_pages", "--max-pages=1", "-k", "filter and status")
    entry = _entry(cut.results, FILTER_STATUS)
    assert entry["outcome"] == "passed", cut.stdout[-2000:]
    assert entry["judged"]["queries"] >= 1
    reasons = [n["reason"] for n in entry["not_judged"]]
    assert "completeness not judged for walks cut at 1 page (raise --max-pages)" in reasons
    assert FILTER_STATUS in cut.results["passed_with_parts_not_judged"]
    assert "passed with parts not judged" in cut.stdout
    assert cut.results["options"]["max_pages"] == 1

    from selftests.conftest import run_suite

    raised = run_suite(tmp_path / "raised", V1_1, "-p", "selftests.small_pages", "--max-pages=50", "-k",
                       "filter and status")
    entry = _entry(raised.results, FILTER_STATUS)
    assert entry["outcome"] == "passed"
    assert not any("--max-pages" in n["reason"] for n in entry["not_judged"])
    assert entry["judged"]["queries"] >= 1

"""Self-tests of the v2 list in write mode: every filter and sort judged against the images the run created, each
check failing on a reference that breaks it, and the hidden fixture image written and swept like the others."""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree

import pytest

from conformance.glance.v2_list_filters import LIST
from conformance.glance.write_mode import HIDDEN, RUN_ID_PROPERTY, fixtures_for, new_run_id
from conformance.reference.http_server import start_http_server
from conformance.targets.glance import GlanceClient
from selftests.conftest import SuiteRun
from selftests.test_write_mode import writer_for

WRITTEN = "tests/glance/test_v2_list_written.py"
FILTER_TEST = "test_each_v2_filter_selects_the_images_the_run_created"
SORT_TEST = "test_every_sort_orders_the_images_the_run_created"
TAGS_TEST = "test_repeated_tags_select_the_images_the_run_created"
# A fault of the reference, and the write-mode tests it must fail (and no other).
CAUGHT = {
    "v2-list-filter-size-min-exclusive": {f"{FILTER_TEST}[size_min]"},
    "v2-list-tags-any": {TAGS_TEST},
    "v2-list-filter-created-at-any-as-gte": {f"{FILTER_TEST}[created_at]"},
    "v2-list-filter-os-hidden-true-lists-all": {f"{FILTER_TEST}[os_hidden]"},
    "v2-list-filter-owner-ignored": {f"{FILTER_TEST}[owner]"},
}


def outcomes(run: SuiteRun) -> dict[str, str]:
    """The outcome of each test of the run by its name (junit.xml)."""
    found = {}
    for case in ElementTree.parse(run.report_dir / "junit.xml").iter("testcase"):
        verdict = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed")
        found[case.get("name", "")] = verdict
    return found


def test_fixture_images_carry_every_filter_value_the_list_judges() -> None:
    live = [fixture for fixture in fixtures_for(True) if not fixture.deleted]
    assert HIDDEN in live and HIDDEN not in fixtures_for(False)  # os_hidden: upstream only
    assert {fixture.visibility for fixture in live} == {"private", "shared"} and any(f.protected for f in live)
    assert any(len(fixture.tags) > 1 for fixture in live) and any(fixture.size is None for fixture in live)
    assert len({fixture.size for fixture in live}) < len(live)  # a tie, which pages must not move


def test_clean_reference_passes_every_write_mode_list_test(suite: Callable[..., SuiteRun]) -> None:
    run = suite(WRITTEN, "--allow-writes", "--profile", "glance")
    assert run.returncode == 0, run.stdout[-3000:]
    found = outcomes(run)
    assert len(found) == len(LIST.filters) + 1 + 7 and set(found.values()) == {"passed"}, found
    judged = {r["id"]: r["judged"] for r in run.results["requirements"] if r["outcome"] == "passed"}
    assert all(judged[row.requirement] for row in LIST.filters), judged  # every filter judged some query


def test_read_only_run_skips_them_naming_allow_writes(suite: Callable[..., SuiteRun]) -> None:
    run = suite(WRITTEN, "--profile", "glance", "-k", "sort")
    assert set(outcomes(run).values()) == {"skipped"} and "--allow-writes" in run.stdout + str(run.results)


@pytest.mark.parametrize(("fault", "failing"), CAUGHT.items(), ids=list(CAUGHT))
def test_a_broken_filter_fails_its_write_mode_test(fault: str, failing: set[str],
                                                  suite: Callable[..., SuiteRun]) -> None:
    run = suite(WRITTEN, "--allow-writes", "--profile", "glance", "--reference-fault", fault)
    found = outcomes(run)
    assert {name for name, outcome in found.items() if outcome == "failure"} == failing, found


def test_a_hidden_leftover_is_swept_by_the_next_run() -> None:
    with start_http_server() as server:
        earlier, _ = writer_for(server.url)
        left = earlier.create(HIDDEN, new_run_id())
        glance = GlanceClient(earlier.http)
        default = glance.list_v2_page({}).json()["images"]
        assert left.id not in {entry["id"] for entry in default}  # the default listing never shows it
        later, _ = writer_for(server.url)
        assert later.sweep(new_run_id()) == [left.id]
        assert glance.show(left.id).status == 404
        hidden = glance.list_v2_page({"os_hidden": "true"}).json()["images"]
        assert not any(RUN_ID_PROPERTY in entry for entry in hidden)

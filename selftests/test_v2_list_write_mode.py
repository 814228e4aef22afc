"""Self-tests of the v2 list in write mode: every filter and sort judged against the images the run created, each
check failing on a reference that breaks it, the hidden fixture image written and swept like the others, and
member_status judged on images the run shares with a second project (--other-token)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from xml.etree import ElementTree

import pytest

from conformance.glance.members import QUERIES, SHARED, belongs, caller_project, listed_under_two_statuses
from conformance.glance.v2_list_filters import LIST
from conformance.glance.write_mode import HIDDEN, RUN_ID_PROPERTY, fixtures_for, new_run_id
from conformance.reference.glance.app import WSGIApp
from conformance.reference.http_server import start_http_server
from conformance.targets.glance import GlanceClient
from selftests.conftest import SuiteRun
from selftests.test_write_mode import TOKEN, run_images, writer_for

WRITTEN = "tests/glance/test_v2_list_written.py"
FILTER_TEST = "test_each_v2_filter_selects_the_images_the_run_created"
SORT_TEST = "test_every_sort_orders_the_images_the_run_created"
TAGS_TEST = "test_repeated_tags_select_the_images_the_run_created"
MEMBER_TEST = "test_member_status_lists_the_images_the_run_shared_by_their_status"
MEMBER_STATUS = "GLANCE-V2-LIST-MEMBER-STATUS"
MEMBER_TESTS = "member_status_partitions or member_status_lists"  # the read-only test and the write-mode one
OTHER = "member-project-token-fedcba9876543210"
# A fault of the reference, and the write-mode tests it must fail (and no other).
CAUGHT = {
    "v2-list-filter-size-min-exclusive": {f"{FILTER_TEST}[size_min]"},
    "v2-list-tags-any": {TAGS_TEST},
    "v2-list-filter-created-at-any-as-gte": {f"{FILTER_TEST}[created_at]"},
    "v2-list-filter-os-hidden-true-lists-all": {f"{FILTER_TEST}[os_hidden]"},
    "v2-list-filter-owner-ignored": {f"{FILTER_TEST}[owner]"},
    "v2-list-member-status-ignored": {MEMBER_TEST},
    "v2-list-member-update-ignored": {MEMBER_TEST},
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
    assert len(found) == len(LIST.filters) + 1 + 7 + 1 and set(found.values()) == {"passed"}, found
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


def answering(status: int, method: str) -> Callable[[WSGIApp], WSGIApp]:
    """A wrapper answering `status` to every `method` on an image's members, as a deployment that forbids sharing
    (403) or a broken one (500) does."""

    def wrap(app: WSGIApp) -> WSGIApp:
        def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ["REQUEST_METHOD"] == method and "/members" in environ["PATH_INFO"]:
                start_response(f"{status} Refused", [("Content-Type", "application/json")])
                return [b'{"code": %d, "message": "not here"}' % status]
            return app(environ, start_response)

        return wrapped

    return wrap


def member_run(suite: Callable[..., SuiteRun], *options: str, wrap: Callable[[WSGIApp], WSGIApp] | None = None
               ) -> tuple[SuiteRun, list[tuple[str, str]], list[dict[str, Any]]]:
    """Both member_status tests against a reference with a second project: the run, the requests the reference
    saw, and the run's images it still lists afterwards (none, when the run cleaned up)."""
    with start_http_server(token=TOKEN, other_token=OTHER, wrap=wrap) as server:
        run = suite("tests/glance/test_v2_list.py", WRITTEN, "--target", server.url, "--token", TOKEN,
                    "--allow-writes", "--profile", "glance", "-k", MEMBER_TESTS, *options)
        return run, list(server.request_log), run_images(server.url)


def requirement(run: SuiteRun) -> dict[str, Any]:
    """results.json's entry of GLANCE-V2-LIST-MEMBER-STATUS."""
    return next(entry for entry in run.results["requirements"] if entry["id"] == MEMBER_STATUS)


def test_only_accepted_shared_images_belong_without_a_member_status() -> None:
    assert [belongs(status, query) for query in QUERIES for status in ("accepted", "pending", "rejected")] == [
        True, False, False,  # visibility=shared: member_status accepted by default
        True, False, False, False, True, False, False, False, True, True, True, True,
        True, False, False,  # no visibility: shared images only when accepted
    ]
    assert [status for _, status in SHARED] == ["accepted", "pending", "rejected"]


def test_run_with_other_token_shares_images_and_judges_member_status(suite: Callable[..., SuiteRun]) -> None:
    run, requests, left = member_run(suite, "--other-token", OTHER)
    assert outcomes(run) == {MEMBER_TEST: "passed", "test_member_status_partitions_the_shared_images": "passed"}
    assert requirement(run)["judged"]["listings of the second project"] == len(QUERIES), requirement(run)
    members = [method for method, target in requests if "/members" in target]
    assert members == ["POST", "PUT", "POST", "POST", "PUT"]  # added, accepted; added; added, rejected
    shared = run.results["target"]["endpoints"]["glance"]["write_mode"]["shared_with_other_project"]
    assert [entry["member_status"] for entry in shared] == ["accepted", "pending", "rejected"]
    assert left == [] and run.results["target"]["endpoints"]["glance"]["write_mode"]["left_behind"] == []
    outputs = [run.stdout, run.stderr, *(path.read_text(errors="replace") for path in run.report_dir.iterdir())]
    assert not any(OTHER in text for text in outputs)


def test_run_without_other_token_leaves_it_not_judged_and_can_pass(suite: Callable[..., SuiteRun]) -> None:
    run, requests, _ = member_run(suite)
    assert run.returncode == 0 and outcomes(run)[MEMBER_TEST] == "skipped", run.stdout[-3000:]
    assert not any("/members" in target for _, target in requests)
    entry = requirement(run)
    assert entry["outcome"] == "passed" and MEMBER_STATUS in run.results["passed_with_parts_not_judged"]
    assert any("--other-token" in reason["reason"] for reason in entry["not_judged"]), entry
    assert not any(MEMBER_STATUS in reason for reason in run.results["verdict_reasons"])


@pytest.mark.parametrize(("status", "method", "outcome"), [(403, "POST", "passed"), (401, "PUT", "passed"),
                                                           (500, "PUT", "failed")], ids=["403", "401", "500"])
def test_a_refused_member_call_is_not_judged_and_a_5xx_fails(status: int, method: str, outcome: str,
                                                              suite: Callable[..., SuiteRun]) -> None:
    run, _, left = member_run(suite, "--other-token", OTHER, wrap=answering(status, method))
    entry = requirement(run)
    assert entry["outcome"] == outcome and left == [], entry
    answered = f"{method} /v2/images/"
    if outcome == "passed":  # judged by the read-only test; the write-mode one says why it judged nothing
        assert outcomes(run)[MEMBER_TEST] == "skipped"
        assert any(answered in reason["reason"] and f"answered {status}" in reason["reason"]
                   for reason in entry["not_judged"]), entry
    else:
        assert outcomes(run)[MEMBER_TEST] == "failure" and f"answered {status}, documented 200" in run.stdout


def test_the_callers_own_shared_images_may_be_listed_under_every_member_status() -> None:
    # upstream's _select_images_query: a regular user's listing holds its own shared images whatever member_status
    # asks; its visibility=all listing shows private images of its own project only
    mine, theirs = "project-mine", "project-theirs"
    listing = [{"id": "p1", "visibility": "private", "owner": mine},
               {"id": "s1", "visibility": "shared", "owner": mine},
               {"id": "s2", "visibility": "shared", "owner": theirs}]
    assert caller_project(listing) == mine
    assert caller_project([*listing, {"id": "p2", "visibility": "private", "owner": theirs}]) is None  # an admin's
    assert caller_project([entry for entry in listing if entry["visibility"] != "private"]) is None
    owners = {entry["id"]: entry["owner"] for entry in listing}
    everywhere = {"accepted": {"s1", "s2"}, "pending": {"s1"}, "rejected": {"s1", "s2"}}
    assert listed_under_two_statuses(everywhere, owners, mine) == [("s2", "accepted", "rejected")]
    assert listed_under_two_statuses(everywhere, owners, None) == [
        ("s1", "accepted", "pending"), ("s1", "accepted", "rejected"), ("s2", "accepted", "rejected"),
        ("s1", "pending", "rejected")]

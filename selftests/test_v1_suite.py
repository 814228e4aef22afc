"""The deprecated Glance v1 tests: pass on the clean reference, catch each v1 fault, and say "not offered" cleanly."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from conformance import catalog
from conformance.glance.v1_1_filters import DETAIL
from conformance.reference.glance import faults as F
from conformance.reference.glance.faults import V1_1_DETAIL, V1_HEAD
from conformance.reference.glance.v1_1_filters import CASE_NAMES_ONLY
from conformance.reference.http_server import start_http_server
from selftests.conftest import V1_TESTS, SuiteRun

V1_OPERATIONS = (V1_HEAD, V1_1_DETAIL)
# (those needing what the owner opts into, writes or a second project, are judged by the write-mode self-tests)
V1_REQUIREMENTS = sorted(rid for rid, req in catalog.requirements().items()
                         if req.operation in V1_OPERATIONS and not req.opt_in)
# A run against --target without --token cannot judge these; it lists them as not judged instead.
NEEDS_CREDENTIALS = {rid for rid in V1_REQUIREMENTS if catalog.requirements()[rid].requires}


def judged_without_token(run: SuiteRun, requirement_ids: list[str]) -> list[str]:
    """`requirement_ids` less those the run lists as not judged for want of credentials (checked to be listed)."""
    listed = {entry["id"] for entry in run.results.get("not_judged", [])}
    assert NEEDS_CREDENTIALS & set(requirement_ids) <= listed, listed
    return [rid for rid in requirement_ids if rid not in NEEDS_CREDENTIALS]


def gone(app: Callable[..., Iterable[bytes]], status: str, paths: tuple[str, ...]) -> Callable[..., Iterable[bytes]]:
    """`app` answering `status` (with a versions document) for every path that starts with one of `paths`."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(paths):
            return app(environ, start_response)
        href = f"http://{environ.get('HTTP_HOST', 'localhost')}/v2/"
        body = json.dumps({"versions": [{"id": "v2.9", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}]})
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body.encode()]

    return serve


def test_the_catalogue_has_the_v1_requirements() -> None:
    assert len([r for r in V1_REQUIREMENTS if r.startswith("GLANCE-V1-HEAD-")]) >= 10
    assert len([r for r in V1_REQUIREMENTS if r.startswith("GLANCE-V1-1-DETAIL-")]) >= 12
    assert {catalog.requirements()[rid].tier for rid in V1_REQUIREMENTS} == {"deprecated"}


def test_clean_reference_passes_every_v1_requirement(suite: Callable[..., SuiteRun]) -> None:
    run = suite(*V1_TESTS, "tests/glance/test_v2_show.py")
    outcomes = run.outcomes()
    not_passed = {rid: outcomes.get(rid, "absent") for rid in V1_REQUIREMENTS if outcomes.get(rid) != "passed"}
    assert not not_passed, f"{not_passed}\n{run.stdout[-3000:]}"


@pytest.mark.parametrize("status", ["300 Multiple Choices", "404 Not Found"])
def test_a_target_without_v1_is_not_offered_and_not_failed(status: str, suite: Callable[..., SuiteRun]) -> None:
    # real Glance answers 300 Multiple Choices for every v1 path once v1 is gone; others answer 404
    with start_http_server(wrap=lambda app: gone(app, status, ("/v1",))) as server:
        run = suite("tests/glance", "--target", server.url)  # the whole family: no subset, so the verdict is its own
    outcomes = run.outcomes()
    judged = judged_without_token(run, V1_REQUIREMENTS)
    v1 = {rid: outcomes[rid] for rid in judged}
    assert v1 == dict.fromkeys(judged, "not-offered"), run.stdout[-3000:]
    v2 = {rid: outcome for rid, outcome in outcomes.items() if rid.startswith("GLANCE-V2-")}
    assert v2 and set(v2.values()) == {"passed"}, v2
    # without a token the 401 requirements are not judged: incomplete for that alone (exit 1), never failed
    assert run.results["verdict"] == "incomplete" and not run.results["not_met"], run.stdout[-3000:]
    reasons = run.results["verdict_reasons"]
    assert all(reason.endswith("no credentials configured (--token)") for reason in reasons), reasons
    assert run.returncode == 1
    messages = {entry["id"]: entry.get("message", "") for entry in run.results["requirements"]}
    assert f"HEAD /v1/images answers {status}: this target does not serve the v1 API" in messages["GLANCE-V1-HEAD-404"]
    assert f"GET /v1.1/images/detail answers {status}" in messages["GLANCE-V1-1-DETAIL-LIMIT"]


def test_a_target_whose_v1_root_answers_but_whose_images_are_gone_fails(suite: Callable[..., SuiteRun]) -> None:
    # /v1/ and /v1.1/ answer 200, so v1 is offered; 404 for every image is then a failure, not "not offered"
    with start_http_server(wrap=lambda app: gone(app, "404 Not Found", ("/v1/images", "/v1.1/images"))) as server:
        run = suite(*V1_TESTS, "--target", server.url)
    outcomes = {rid: run.outcome(rid) for rid in judged_without_token(run, V1_REQUIREMENTS)}
    assert "not-offered" not in outcomes.values(), outcomes
    assert outcomes["GLANCE-V1-HEAD-200-EMPTY-BODY"] == "failed"
    assert outcomes["GLANCE-V1-1-DETAIL-VALID-JSON"] == "failed"
    assert run.results["verdict"] == "incomplete" and run.returncode != 0  # one operation of the family


# -- how filter text compares: one reading per run ------------------------------------------------------------------

DETAIL_TESTS = ("tests/glance/test_v1_1_detail.py", "tests/glance/test_v1_1_detail_filters.py")
DETAIL_REQUIREMENTS = [rid for rid in V1_REQUIREMENTS if rid.startswith("GLANCE-V1-1-DETAIL-")]


def test_a_case_insensitive_reference_passes_and_the_reading_is_reported(suite: Callable[..., SuiteRun]) -> None:
    # upstream Glance on MySQL/MariaDB compares filter text ignoring case; the documents do not settle case
    with start_http_server(case_insensitive=True) as server:
        run = suite(*DETAIL_TESTS, "--target", server.url)
    outcomes = run.outcomes()
    judged = judged_without_token(run, DETAIL_REQUIREMENTS)
    not_passed = {rid: outcomes.get(rid, "absent") for rid in judged if outcomes.get(rid) != "passed"}
    assert not not_passed and run.results["verdict"] == "incomplete", f"{not_passed}\n{run.stdout[-3000:]}"
    assert not run.results["not_met"] and run.returncode == 0
    reading = run.results["target"]["endpoints"]["glance"]["v1_1_filter_case"]
    assert reading["reading"] == "case-insensitive" and " returned " in reading["evidence"], reading
    page = (run.report_dir / "report.html").read_text(encoding="utf-8")
    assert "v1.1 filter matching" in page and "case-insensitive (seen: GET /v1.1/images/detail?" in page


def test_the_clean_reference_is_read_as_case_sensitive(suite: Callable[..., SuiteRun]) -> None:
    run = suite("tests/glance/test_v1_1_detail.py", "-k", "each_filter")
    reading = run.results["target"]["endpoints"]["glance"]["v1_1_filter_case"]
    assert reading["reading"] == "case-sensitive" and " did not return " in reading["evidence"], reading
    filters = {rid: outcome for rid, outcome in run.outcomes().items() if "-FILTER-" in rid and outcome != "skipped"}
    assert len(filters) == len(DETAIL.filters) and set(filters.values()) == {"passed"}, filters


def test_a_target_case_insensitive_for_names_only_fails(suite: Callable[..., SuiteRun]) -> None:
    run = suite("tests/glance/test_v1_1_detail.py", "-k", "each_filter",
                "--reference-fault", CASE_NAMES_ONLY.name)
    assert run.results["target"]["endpoints"]["glance"]["v1_1_filter_case"]["reading"] == "case-insensitive"
    outcomes = run.outcomes()
    assert outcomes["GLANCE-V1-1-DETAIL-FILTER-NAME"] == "passed", run.stdout[-3000:]
    for rid in ("PROPERTY", "DISK-FORMAT", "CONTAINER-FORMAT", "STATUS"):
        assert outcomes[f"GLANCE-V1-1-DETAIL-FILTER-{rid}"] == "failed", (rid, run.stdout[-3000:])
    assert run.results["verdict"] == "incomplete" and run.returncode == 1  # -k: a subset


# -- under glance, the format lists are the ones the target publishes at /v2/schemas/image ---------------------------

FORMAT_CHECKS = ("tests/glance/test_v1_head.py::test_status_and_formats_are_documented_values",
                 "tests/glance/test_v1_1_detail.py::test_entries_validate_against_profile_schema")
FORMAT_REQUIREMENTS = ("GLANCE-V1-HEAD-ENUMS", "GLANCE-V1-1-DETAIL-SCHEMA")


def format_messages(run: SuiteRun) -> dict[str, tuple[str, str]]:
    """(outcome, message) of the two v1 requirements that judge formats."""
    entries = {entry["id"]: entry for entry in run.results["requirements"]}
    return {rid: (entries[rid]["outcome"], entries[rid].get("message", "")) for rid in FORMAT_REQUIREMENTS}


def test_glance_judges_v1_formats_by_the_targets_own_schema(suite: Callable[..., SuiteRun]) -> None:
    # the reference publishes (and its images use) the vendor's zvhd and zvhd2 besides upstream's defaults
    clean = format_messages(suite(*FORMAT_CHECKS, "--profile", "glance"))
    assert {outcome for outcome, _ in clean.values()} == {"passed"}, clean
    # qcow2 left out of the published list, though images use it: failed, and the message says which lists judged
    run = suite(*FORMAT_CHECKS, "--profile", "glance", "--reference-fault", F.V2_SCHEMA_LACKS_DISK_FORMAT.name)
    for rid, (outcome, message) in format_messages(run).items():
        assert outcome == "failed" and "formats from the target's /v2/schemas/image (disk_format: " in message, rid
    assert "X-Image-Meta-Disk_format 'qcow2' is not one of" in run.stdout
    assert re.search(r"[0-9a-f-]{36}\.disk_format: 'qcow2' is not one of", run.stdout), run.stdout[-3000:]


def test_without_a_usable_published_schema_v1_formats_are_upstreams_defaults(suite: Callable[..., SuiteRun]) -> None:
    with start_http_server(wrap=lambda app: gone(app, "404 Not Found", ("/v2/schemas/image",))) as server:
        run = suite(*FORMAT_CHECKS, "--profile", "glance", "--target", server.url)
    for rid, (outcome, message) in format_messages(run).items():
        assert outcome == "failed", (rid, outcome)  # zvhd2 is no upstream default
        assert "upstream's default formats (GET /v2/schemas/image answered 404)" in message, (rid, message)
    assert "X-Image-Meta-Disk_format 'zvhd2' is not one of" in run.stdout
    assert re.search(r"[0-9a-f-]{36}\.disk_format: 'zvhd2' is not one of", run.stdout), run.stdout[-3000:]


# -- the vendor profile certifies what seed 004 documents ------------------------------------------------------------

# what the seed-only target breaks but SOUND, which ims judges over the documented filters only
UPSTREAM_ONLY = tuple(rid for rid in (F.V1_1_DETAIL_DOCUMENTED_FILTERS_ONLY.breaks,
                                      *F.V1_1_DETAIL_DOCUMENTED_FILTERS_ONLY.also_breaks)
                      if rid != "GLANCE-V1-1-DETAIL-FILTER-SOUND")


@pytest.mark.parametrize("profile", ["ims", "glance"])
def test_a_target_with_only_the_documented_filters(profile: str, suite: Callable[..., SuiteRun]) -> None:
    # seven filters, no limit/marker/sort/property-*, 200 for invalid values: what seed 004 documents and no more
    run = suite(*DETAIL_TESTS, "--reference-fault", F.V1_1_DETAIL_DOCUMENTED_FILTERS_ONLY.name, "--profile", profile)
    entries = {entry["id"]: entry for entry in run.results["requirements"]}
    for rid in UPSTREAM_ONLY:
        assert entries[rid]["outcome"] == "failed", (rid, run.stdout[-3000:])
    if profile == "ims":
        assert run.results["verdict"] == "incomplete" and run.returncode == 0, run.results["not_met"]
        assert {w["id"] for w in run.results["warnings"]} == set(UPSTREAM_ONLY)
        assert {entries[rid]["tier"] for rid in UPSTREAM_ONLY} == {"advisory"}
        assert {entries[rid]["catalogue_tier"] for rid in UPSTREAM_ONLY} == {"deprecated"}
        assert entries["GLANCE-V1-1-DETAIL-FILTER-SOUND"]["outcome"] == "passed"
    else:
        assert run.results["verdict"] == "incomplete" and run.returncode == 1
        assert {*UPSTREAM_ONLY, "GLANCE-V1-1-DETAIL-FILTER-SOUND"} <= set(run.results["not_met"])
        assert {entries[rid]["tier"] for rid in UPSTREAM_ONLY} == {"deprecated"}
        assert not any("catalogue_tier" in entry for entry in entries.values())

"""The answer at first look: a failing run says which requirement failed, on what and why, in the console, in every
report and in the page a browser renders; one wrong field is one problem per image; a record agrees with the verdict."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from selftests.conftest import SuiteRun, run_suite

FAULT = "v2-show-min-ram-string"  # min_ram shown as a string: one wrong field in every shown image
FIRST = "min_ram: '"  # the start of the problem each image has
WRONG_TYPE = "is not of type 'integer'"
MAX_PAGE_BYTES = 1_000_000


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """The whole suite on the embedded reference with the fault, junit.xml written where --junitxml says."""
    folder = tmp_path_factory.mktemp("failing")
    return run_suite(folder / "reports", f"--reference-fault={FAULT}", f"--junitxml={folder / 'ci' / 'tests.xml'}")


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """The default run: the whole suite on the embedded reference."""
    return run_suite(tmp_path_factory.mktemp("passing") / "reports")


def entry(run: SuiteRun, requirement: str) -> dict:
    """results.json's entry of one requirement."""
    return next(e for e in run.results["requirements"] if e["id"] == requirement)


def test_one_wrong_field_is_one_problem_per_image(failing: SuiteRun) -> None:
    shown = len(failing.results["target"]["endpoints"]["glance"]["sample"]["ids"])
    for rid in ("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V2-SHOW-OWN-SCHEMA"):
        found = entry(failing, rid)
        assert found["outcome"] == "failed" and found["problems"] == shown, found
        assert FIRST in found["first_problem"] and WRONG_TYPE in found["first_problem"], found
    # no sibling property is blamed for the subschema min_ram made fail
    for text in (failing.stdout, (failing.report_dir / "results.json").read_text(encoding="utf-8"),
                 (failing.report_dir / "report.html").read_text(encoding="utf-8")):
        assert "Unevaluated properties" not in text


def test_counts_count_what_they_say(failing: SuiteRun, passing: SuiteRun) -> None:
    for run in (failing, passing):
        endpoints = run.results["target"]["endpoints"]
        shown = len(endpoints["glance"]["sample"]["ids"])
        for found in run.results["requirements"]:
            if found["operation"] == "glance.v2.show":
                assert found["judged"].get("images", 0) <= shown, found  # never an image counted twice
        fields = entry(run, "GLANCE-V2-SHOW-FIELD-VALUES")["judged"]
        assert set(fields) == {"field values"} and fields["field values"] > shown, fields
        # hypothesis' examples: one drawn query each (the default profile draws 25 per property)
        assert entry(run, "GLANCE-V1-1-DETAIL-FILTER-MONOTONIC")["judged"] == {"queries": 25}


def test_console_names_each_failed_requirement_with_its_first_problem(failing: SuiteRun) -> None:
    lines = failing.stdout.splitlines()
    verdict = next(n for n, line in enumerate(lines) if "conformance verdict: FAIL" in line)
    failed = [line for line in lines[verdict + 1:] if line.startswith("FAILED GLANCE-")]
    # the v2 list shows the same images, so its schema fails too (on the listed images)
    assert [line.split()[1] for line in failed] == [
        "GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V2-SHOW-OWN-SCHEMA", "GLANCE-V2-LIST-SCHEMA"]
    shown = len(failing.results["target"]["endpoints"]["glance"]["sample"]["ids"])
    for line in failed[:3]:
        assert FIRST in line and WRONG_TYPE in line and line.endswith(f"(and {shown - 1} more)"), line
    assert FIRST in failed[3] and WRONG_TYPE in failed[3], failed[3]
    assert "(advisory, a warning)" in failed[2]


def test_verdict_line_names_the_reports_written(failing: SuiteRun) -> None:
    line = next(line for line in failing.stdout.splitlines() if "conformance verdict:" in line)
    junit = failing.report_dir.parent / "ci" / "tests.xml"
    assert junit.is_file() and not (failing.report_dir / "junit.xml").exists()
    assert f"reports: {failing.report_dir / 'report.html'}, {junit}, {failing.report_dir / 'results.json'}" in line


def test_junit_fails_what_the_verdict_fails_and_shows_advisory_failures(failing: SuiteRun) -> None:
    cases = ET.parse(failing.report_dir.parent / "ci" / "tests.xml").getroot().iter("testcase")
    failures: dict[str, str] = {}
    advisory: dict[str, str] = {}
    for case in cases:
        for child in case:
            if child.tag == "failure":
                failures[case.get("name", "")] = child.get("message", "")
            if child.tag == "skipped" and child.get("type") == "pytest.xfail":
                advisory[case.get("name", "")] = child.get("message", "")
    assert sorted(failures) == ["test_body_validates_against_profile_schema",
                                "test_field_has_documented_type_and_values[min_ram]",
                                "test_pages_and_images_validate_against_profile_schema"]
    assert failures["test_body_validates_against_profile_schema"].startswith("GLANCE-V2-SHOW-SCHEMA: ")
    assert list(advisory) == ["test_body_validates_against_the_targets_own_schema"]
    assert advisory["test_body_validates_against_the_targets_own_schema"].startswith(
        "advisory, a warning the verdict does not count: GLANCE-V2-SHOW-OWN-SCHEMA: ")
    for message in (*failures.values(), *advisory.values()):
        assert FIRST in message and WRONG_TYPE in message, message


class Problems(HTMLParser):
    """The problem lists of a page in document order, the exchange each links to, and every element id."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.order: list[str] = []  # "problems" and "exchanges" blocks as they come

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if found.get("class") in ("problems", "exchanges"):
            self.order.append(str(found["class"]))
        if tag == "a" and (found.get("href") or "").startswith("#"):
            self.links.append(str(found["href"])[1:])


def test_report_page_is_light_and_puts_problems_before_exchanges(failing: SuiteRun, passing: SuiteRun) -> None:
    assert (passing.report_dir / "report.html").stat().st_size < MAX_PAGE_BYTES
    assert (failing.report_dir / "report.html").stat().st_size < MAX_PAGE_BYTES
    page = (failing.report_dir / "report.html").read_text(encoding="utf-8")
    blob = re.search(r'data-jsonblob="([^"]*)"', page)
    assert blob is not None
    tests = json.loads(html.unescape(blob.group(1)))["tests"]
    logs = {test_id: rows[0]["log"] for test_id, rows in tests.items()}
    failed = logs["tests/glance/test_v2_show.py::test_body_validates_against_profile_schema"]
    parsed = Problems()
    parsed.feed(failed)
    assert parsed.order[:2] == ["problems", "exchanges"] and parsed.links
    assert all(link in parsed.ids for link in parsed.links)  # each problem links to an exchange shown
    skipped = [log for test_id, log in logs.items() if tests[test_id][0]["result"] == "Skipped"]
    assert skipped and not any(log.startswith("(") or "Skipped: " in log for log in skipped)


def rendered(page: Path) -> str:
    """The DOM of `page` after its scripts ran, as Debian's chromium renders it headless."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        completed = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
def test_a_browser_shows_verdict_not_met_ids_and_first_problem(failing: SuiteRun, passing: SuiteRun) -> None:
    shown = rendered(passing.report_dir / "report.html")
    assert re.search(r'<h2 id="verdict"[^>]*>Verdict: PASS</h2>', shown)
    assert 'class="problems"' not in shown
    shown = rendered(failing.report_dir / "report.html")
    assert re.search(r'<h2 id="verdict"[^>]*>Verdict: FAIL</h2>', shown)
    not_met = re.search(r'<p id="not-met">(.*?)</p>', shown)
    assert not_met and "GLANCE-V2-SHOW-SCHEMA, GLANCE-V2-SHOW-FIELD-VALUES" in not_met.group(1)
    # the scripts drew the failed tests' rows: their problem lists are elements of the page, not data in the blob
    problems = re.findall(r'<div class="problems">(.*?)</div>', shown)
    assert len(problems) == 4 and all(FIRST in block and WRONG_TYPE in block for block in problems)
    assert re.search(r'class="first-problem"><b>First problem:</b> [^<]*' + re.escape(FIRST), shown)

"""The three reports: what a certifier reads, what CI parses, and what must never appear in them."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance import catalog, schemas
from conformance.reference.glance import faults as F

V2 = "tests/glance/test_v2_show.py"
PLANTED = "planted-token-5f0c1e7a9d"


class ReportPage(HTMLParser):
    """Collects what a reader of report.html sees first: the verdict and the requirement table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.verdict = ""
        self.requirement_rows: list[str] = []
        self.external: list[str] = []
        self._in_verdict = False
        self._row_depth = 0
        self._row_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id") == "verdict":
            self._in_verdict = True
        if tag == "tr" and found.get("class") == "requirement":
            self._row_depth, self._row_text = 1, []
        for key in ("src", "href"):
            value = found.get(key) or ""
            if tag in ("script", "link", "img", "iframe") and value.startswith(("http:", "https:", "//")):
                self.external.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_verdict = False
        if tag == "tr" and self._row_depth:
            self.requirement_rows.append(" ".join(self._row_text))
            self._row_depth = 0

    def handle_data(self, data: str) -> None:
        if self._in_verdict:
            self.verdict += data
        if self._row_depth:
            self._row_text.append(data.strip())


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory):
    from selftests.conftest import run_suite

    return run_suite(tmp_path_factory.mktemp("clean") / "reports", V2, "--token", PLANTED)


def test_clean_reference_passes_and_exits_zero(clean_run) -> None:
    # one operation's tests are a subset of the suite: nothing fails, but the run is no certification
    assert clean_run.returncode == 0, clean_run.stdout[-3000:]
    assert clean_run.results["verdict"] == "incomplete" and not clean_run.results["not_met"]
    assert "conformance verdict: INCOMPLETE" in clean_run.stdout


def test_planted_token_never_reaches_any_report_or_output(clean_run) -> None:
    for name in ("report.html", "junit.xml", "results.json"):
        assert PLANTED not in (clean_run.report_dir / name).read_text(encoding="utf-8"), name
    assert PLANTED not in clean_run.stdout + clean_run.stderr
    # the token was sent, and is shown censored (report.html shows headers of failed tests only)
    assert '"X-Auth-Token": "***"' in (clean_run.report_dir / "results.json").read_text(encoding="utf-8")


def test_results_json_validates_against_its_schema(clean_run) -> None:
    assert schemas.error_lines("report/results.json", clean_run.results) == []
    record = clean_run.results
    assert record["catalogue_files"]["requirements/glance.v2.show.yaml"]
    assert record["target"]["endpoints"]["glance"]["fingerprint"]["server"]
    assert record["hypothesis"] == {"profile": "conformance", "derandomized": True, "seed": None}


def test_report_html_opens_with_verdict_and_requirement_table(clean_run) -> None:
    page = ReportPage()
    page.feed((clean_run.report_dir / "report.html").read_text(encoding="utf-8"))
    assert page.verdict.strip() == "Verdict: INCOMPLETE"
    ims = catalog.profiles()["ims"]  # the clean run's profile: requirements of other profiles are not listed
    shown = [req for req in catalog.requirements_for(ims) if req.operation == "glance.v2.show"]
    ids = [req.id for req in shown if not req.opt_in]  # a read-only run lists those it cannot judge apart
    assert {entry["id"] for entry in clean_run.results["not_judged"]} >= {req.id for req in shown if req.opt_in}
    assert len(page.requirement_rows) == len(ids)
    for rid in ids:
        assert any(row.startswith(rid) for row in page.requirement_rows), rid
    assert page.external == [], "report.html must open offline"


def test_junit_testcases_carry_requirement_and_operation(clean_run) -> None:
    tree = ET.parse(clean_run.report_dir / "junit.xml")
    cases = tree.getroot().findall(".//testcase")
    assert cases
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.findall("properties/property")}
        assert props.get("operation") == "glance.v2.show", case.get("name")
        assert (props.get("requirement") or "").startswith("GLANCE-V2-SHOW-"), case.get("name")


def test_failure_shows_requirement_evidence_and_reproduction(suite) -> None:
    run = suite(V2, "--reference-fault", F.V2_SHOW_UNKNOWN_ID_200.name)
    assert run.returncode == 1
    assert run.outcome("GLANCE-V2-SHOW-404") == "failed"
    entry = next(e for e in run.results["requirements"] if e["id"] == "GLANCE-V2-SHOW-404")
    assert "must answer 404" in entry["message"]
    html = (run.report_dir / "report.html").read_text(encoding="utf-8")
    assert "Reproduce" in html and "curl -sS -i" in html
    assert "Verdict: INCOMPLETE" in html and 'id="not-met"' in html


def waiver_file(tmp_path: Path, requirement: str, expires: datetime.date, name: str = "waivers.yaml") -> Path:
    """Write a one-entry waiver file."""
    path = tmp_path / name
    path.write_text(
        f"waivers:\n  - requirement: {requirement}\n    reason: known deviation\n    expires: {expires.isoformat()}\n"
    )
    return path


def test_waived_failure_is_waived_not_passed(suite, tmp_path: Path) -> None:
    future = datetime.date.today() + datetime.timedelta(days=30)
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        f"  - requirement: GLANCE-V2-SHOW-LINKS\n    reason: self links are absolute here\n    expires: {future}\n"
        f"  - requirement: GLANCE-V2-SHOW-404\n    reason: nothing to waive\n    expires: {future}\n"
    )
    run = suite(V2, "--reference-fault", F.V2_SHOW_BAD_SELF_LINK.name, "--waivers", str(waivers))
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.outcome("GLANCE-V2-SHOW-LINKS") == "waived"
    record = run.results
    assert record["verdict"] == "incomplete" and not record["not_met"]
    assert [w["requirement"] for w in record["waivers"]["applied"]] == ["GLANCE-V2-SHOW-LINKS"]
    assert [w["requirement"] for w in record["waivers"]["unused"]] == ["GLANCE-V2-SHOW-404"]
    assert "xfailed" in run.stdout or "waived" in run.stdout
    html = (run.report_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="waivers-applied"' in html and 'id="waivers-unused"' in html


def test_expired_waiver_fails_the_run(suite, tmp_path: Path) -> None:
    past = datetime.date.today() - datetime.timedelta(days=1)
    run = suite(V2, "--waivers", str(waiver_file(tmp_path, "GLANCE-V2-SHOW-LINKS", past)))
    assert run.returncode == 1
    assert run.results["verdict"] == "incomplete"
    assert run.results["waivers"]["expired"][0]["requirement"] == "GLANCE-V2-SHOW-LINKS"
    assert "expired waiver" in run.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("waivers: 3\n", "top-level 'waivers:' list"),
        ("waivers:\n  - requirement: NOPE-X-Y\n    reason: r\n    expires: 2030-01-01\n",
         "line 2, column 5: entry 1 names unknown requirement"),
        ("waivers:\n  - requirement: GLANCE-V2-SHOW-404\n    reason: r\n    expires: soon\n", "YYYY-MM-DD"),
        (
            "waivers:\n  - requirement: GLANCE-V2-SHOW-404\n    expires: 2030-01-01\n",
            "exactly requirement, reason and expires",
        ),
        ("waivers: [unclosed\n", "line 2, column 1: not YAML"),
    ],
)
def test_malformed_waiver_file_is_one_line(suite, tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(content)
    run = suite(V2, "--waivers", str(path), timeout=60)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == 4 and len(lines) == 1 and expected in lines[0], lines


def test_advisory_failure_is_a_warning_not_a_failed_verdict(suite) -> None:
    run = suite(V2, "--reference-fault", F.V2_SHOW_ERROR_BODY_HTML.name)
    assert run.returncode == 0
    assert run.results["verdict"] == "incomplete" and not run.results["not_met"]
    assert [w["id"] for w in run.results["warnings"]] == ["GLANCE-V2-SHOW-ERROR-BODY"]


def test_drift_against_baseline(suite, clean_run) -> None:
    baseline = str(clean_run.report_dir / "results.json")
    run = suite(V2, "--reference-fault", F.V2_SHOW_BAD_SELF_LINK.name, "--baseline", baseline)
    drift = run.results["changes_since_baseline"]
    assert [c["id"] for c in drift["newly_failing"]] == ["GLANCE-V2-SHOW-LINKS"]
    assert drift["newly_passing"] == [] and drift["removed"] == []
    assert 'id="changes-since-baseline"' in (run.report_dir / "report.html").read_text(encoding="utf-8")


def test_thorough_profile_records_its_seed(suite) -> None:
    run = suite(V2, "--hypothesis-profile", "thorough", "--hypothesis-seed", "424242", "-k", "malformed")
    assert run.results["hypothesis"] == {"profile": "thorough", "derandomized": False, "seed": "424242"}
    assert "hypothesis seed 424242" in run.stdout


@pytest.mark.parametrize(("profile", "tier", "catalogue_tier"), [("ims", "advisory", "deprecated"),
                                                                  ("glance", "deprecated", None)])
def test_reports_show_the_tier_the_run_used(suite, profile: str, tier: str, catalogue_tier: str | None) -> None:
    # LIMIT is upstream-only behaviour: advisory under the vendor profile, its catalogue tier under glance
    rid = "GLANCE-V1-1-DETAIL-LIMIT"
    run = suite("tests/glance/test_v1_1_detail.py", "-k", "limit_entries", "--profile", profile)
    entry = next(e for e in run.results["requirements"] if e["id"] == rid)
    assert entry["tier"] == tier and entry.get("catalogue_tier") == catalogue_tier, entry
    assert schemas.error_lines("report/results.json", run.results) == []
    page = ReportPage()
    page.feed((run.report_dir / "report.html").read_text(encoding="utf-8"))
    row = next(row for row in page.requirement_rows if row.startswith(rid))
    assert row.split()[1] == tier, row
    assert (f"{catalogue_tier} in the catalogue" in row) == bool(catalogue_tier), row
    cases = ET.parse(run.report_dir / "junit.xml").getroot().findall(".//testcase")
    props = [(p.get("name"), p.get("value")) for case in cases for p in case.findall("properties/property")]
    assert ("tier", f"{rid}={tier}") in props, props


def test_results_and_report_carry_what_each_requirement_judged(clean_run) -> None:
    record = clean_run.results
    for entry in record["requirements"]:
        if entry["outcome"] == "passed":
            assert sum(entry["judged"].values()) > 0, entry["id"]  # never a vacuous pass
        if entry["outcome"] == "skipped":
            assert entry["not_judged"] and entry["message"], entry["id"]  # a skip says why
    partial = [e["id"] for e in record["requirements"] if e["outcome"] == "passed" and e["not_judged"]]
    assert record["passed_with_parts_not_judged"] == partial
    page = (clean_run.report_dir / "report.html").read_text(encoding="utf-8")
    assert page.count('class="judged"') == len(record["requirements"])
    assert page.count('<small class="not-judged">') == sum(1 for e in record["requirements"] if e["not_judged"])
    if partial:
        assert f"{len(partial)} passed with parts not judged" in page
        assert f"{len(partial)} passed with parts not judged" in clean_run.stdout


def test_failed_requirement_records_its_first_failure_message(suite) -> None:
    run = suite(V2, "--reference-fault", F.V2_SHOW_UNKNOWN_ID_200.name)
    entry = next(e for e in run.results["requirements"] if e["id"] == "GLANCE-V2-SHOW-404")
    assert entry["outcome"] == "failed" and "must answer 404" in entry["message"]
    assert schemas.error_lines("report/results.json", run.results) == []
    assert "must answer 404" in (run.report_dir / "report.html").read_text(encoding="utf-8")

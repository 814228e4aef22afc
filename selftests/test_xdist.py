"""`pytest -n 2` writes the same record as a serial run: outcomes, verdict, exit code and the three reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance import schemas
from conformance.reference.cri import faults as cri_faults
from selftests.conftest import SuiteRun, run_suite

pytest.importorskip("xdist")

# What may differ between two runs of the same suite: when they ran, and the embedded targets' addresses.
# Each xdist worker discovers the target itself, so the record of the exchanges fixtures made is longer (not judged).
VARYING = ("started_at", "finished_at", "discovery")


def _record(run: SuiteRun) -> dict[str, Any]:
    """results.json less what varies from run to run, with each endpoint's address dropped."""
    record = {key: value for key, value in run.results.items() if key not in VARYING}
    record["target"] = dict(record["target"])
    record["target"]["endpoints"] = {
        family: {key: value for key, value in endpoint.items() if key not in ("url", "fingerprint")}
        for family, endpoint in record["target"]["endpoints"].items()
    }
    return record


def _junit(run: SuiteRun) -> dict[str, str]:
    """junit.xml as test case -> outcome."""
    outcomes = {}
    for case in ET.parse(run.report_dir / "junit.xml").getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = kinds[0] if kinds else "passed"
    return outcomes


def _verdict_line(run: SuiteRun) -> str:
    line = next(line for line in run.stdout.splitlines() if "conformance verdict:" in line)
    return line.split(" · reports: ")[0]


@pytest.fixture(scope="module", params=[None, cri_faults.STATUS_ZERO_SIZE.name], ids=["clean", "fault"])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[SuiteRun, SuiteRun]:
    """A serial run and a two-worker run of the whole suite, with the same arguments."""
    args = ["--reference-fault", request.param] if request.param else []
    serial = run_suite(tmp_path_factory.mktemp("serial") / "reports", *args)
    parallel = run_suite(tmp_path_factory.mktemp("parallel") / "reports", "-n", "2", *args)
    return serial, parallel


def test_same_outcome_for_every_requirement(pair: tuple[SuiteRun, SuiteRun]) -> None:
    serial, parallel = pair
    assert parallel.outcomes() == serial.outcomes()
    assert parallel.results["verdict"] == serial.results["verdict"]
    assert parallel.returncode == serial.returncode, parallel.stdout[-3000:]


def test_same_record(pair: tuple[SuiteRun, SuiteRun]) -> None:
    serial, parallel = pair
    assert _record(parallel) == _record(serial)
    assert schemas.error_lines("report/results.json", parallel.results) == []


def test_same_junit_and_verdict_line(pair: tuple[SuiteRun, SuiteRun]) -> None:
    serial, parallel = pair
    assert _junit(parallel) == _junit(serial)
    assert _verdict_line(parallel) == _verdict_line(serial)


def test_report_html_has_the_verdict_and_requirement_table(pair: tuple[SuiteRun, SuiteRun]) -> None:
    serial, parallel = pair
    page = (parallel.report_dir / "report.html").read_text(encoding="utf-8")
    verdict = str(serial.results["verdict"]).upper()
    assert f"Verdict: {verdict}</h2>" in page
    assert page.count('<tr class="requirement"') == len(serial.results["requirements"])


def test_the_fault_fails_under_both(pair: tuple[SuiteRun, SuiteRun]) -> None:
    serial, parallel = pair
    if serial.results["options"]["reference_faults"]:
        assert serial.outcome(cri_faults.STATUS_ZERO_SIZE.breaks) == "failed"
        assert parallel.results["verdict"] == "fail" and parallel.returncode == 1
    else:
        assert parallel.results["verdict"] == "pass" and parallel.returncode == 0


def test_reports_are_written_by_the_controller_only(pair: tuple[SuiteRun, SuiteRun]) -> None:
    _, parallel = pair
    written = sorted(path.name for path in Path(parallel.report_dir).iterdir())
    assert written == ["junit.xml", "report.html", "results.json"]


def test_write_mode_is_refused_under_xdist(tmp_path: Path) -> None:
    run = run_suite(tmp_path / "reports", "-n", "2", "--allow-writes", timeout=120)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == 4 and len(lines) == 1 and "--allow-writes cannot be combined" in lines[0], lines

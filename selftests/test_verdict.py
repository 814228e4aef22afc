"""The verdict follows README's definitions, and every report says the same one.

A run cut short (-x, --maxfail, a signal) is incomplete for what it did not reach; a run the target or the budget
stopped is `error`, never `fail`; a required requirement the run could not judge keeps it from passing.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from conformance import schemas
from selftests.conftest import SuiteRun

V2_401 = "GLANCE-V2-SHOW-401"
ADVISORY_FAULT = "v2-show-error-body-html"  # breaks GLANCE-V2-SHOW-ERROR-BODY, advisory; SHOW-401 runs after it
REQUIRED_FAULT = "v2-show-missing-id"  # breaks GLANCE-V2-SHOW-SCHEMA, required
TOKEN = "standalone-reference-token"


def said_verdicts(run: SuiteRun) -> dict[str, str]:
    """The verdict as results.json, report.html, junit.xml and the console line say it."""
    page = (run.report_dir / "report.html").read_text(encoding="utf-8")
    properties = ET.parse(run.report_dir / "junit.xml").getroot().iter("property")
    junit = [p.get("value") for p in properties if p.get("name") == "conformance-verdict"]
    console = re.findall(r"conformance verdict: ([A-Z]+)", run.stdout)
    html = re.findall(r'<h2 id="verdict"[^>]*>Verdict: ([A-Z]+)</h2>', page)
    return {"results.json": run.results["verdict"], "report.html": html[0].lower() if html else "",
            "junit.xml": junit[0] if junit else "", "console": console[0].lower() if console else ""}


def assert_said(run: SuiteRun, verdict: str) -> None:
    """Every report says `verdict`, and results.json is valid against the results schema."""
    said = said_verdicts(run)
    assert set(said.values()) == {verdict}, f"{said}\n{run.stdout[-3000:]}"
    assert schemas.error_lines("report/results.json", run.results) == []


@pytest.mark.parametrize("stop", [["-x"], ["--maxfail=1"]], ids=["x", "maxfail"])
def test_a_run_cut_short_is_incomplete_for_what_it_did_not_reach(suite, stop: list[str]) -> None:
    run = suite(*stop, f"--reference-fault={ADVISORY_FAULT}")
    assert_said(run, "incomplete")
    record = run.results
    not_run = {entry["id"] for entry in record["not_run"]}
    assert V2_401 in not_run and V2_401 not in {entry["id"] for entry in record["requirements"]}
    assert not record["not_met"] and run.returncode == 0, run.stdout[-3000:]  # the failure found is advisory
    assert "stopping after 1 failures" in record["stopped_early"] and "cut short" in record["verdict_reasons"][0]
    assert record["counts"].get("error", 0) == 0  # nothing it did not reach is `error`


def test_a_run_cut_short_after_a_required_failure_exits_1(suite) -> None:
    run = suite("-x", f"--reference-fault={REQUIRED_FAULT}")
    assert_said(run, "incomplete")
    assert run.results["not_met"] == ["GLANCE-V2-SHOW-SCHEMA"] and run.returncode == 1, run.stdout[-3000:]
    assert run.results["not_run"]


def test_a_run_cut_short_with_workers_says_what_a_serial_one_says(suite) -> None:
    pytest.importorskip("xdist")
    run = suite("-n", "2", "-x", f"--reference-fault={ADVISORY_FAULT}")
    assert_said(run, "incomplete")
    assert run.returncode == 0 and not run.results["not_met"], run.stdout[-3000:]
    assert V2_401 in {entry["id"] for entry in run.results["not_run"]}


def test_an_unreachable_target_is_an_error_never_a_failure(suite) -> None:
    run = suite("tests/glance_v2", "tests/glance_v1", "--target", "http://127.0.0.1:9", "--timeout", "2",
                timeout=120)
    assert_said(run, "error")
    assert run.returncode == 2 and "does not answer" in run.results["verdict_reasons"][0]
    assert set(run.outcomes().values()) == {"error"}


@contextmanager
def standalone_reference(*args: str) -> Iterator[str]:
    """`python -m conformance.reference --http-port 0 ARGS`, its URL while it serves."""
    process = subprocess.Popen([sys.executable, "-m", "conformance.reference", "--http-port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://"), process.stderr.read() if process.stderr else url
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_a_run_without_credentials_is_incomplete_naming_the_option(suite) -> None:
    with standalone_reference() as url:
        run = suite("tests/glance_v2", "tests/glance_v1", "--target", url)
    assert_said(run, "incomplete")
    assert run.returncode == 1 and not run.results["not_met"], run.stdout[-3000:]
    assert f"{V2_401} (required) not judged: no credentials configured (--token)" in run.results["verdict_reasons"]
    assert "not judged (no credentials configured (--token))" in run.stdout


def test_the_standalone_reference_requiring_a_token_lets_a_run_judge_the_401_requirements(suite) -> None:
    with standalone_reference("--require-token", TOKEN) as url:
        run = suite("tests/glance_v2", "tests/glance_v1", "--target", url, "--token", TOKEN)
    assert_said(run, "pass")
    assert run.returncode == 0 and run.results["not_judged"] == []
    assert run.outcome(V2_401) == "passed"
    shown = run.stdout + "".join(path.read_text(encoding="utf-8") for path in run.report_dir.iterdir())
    assert TOKEN not in shown


def test_the_standalone_reference_refuses_a_request_without_its_token() -> None:
    import urllib.error
    import urllib.request

    with standalone_reference("--require-token", TOKEN) as url:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/v2/images", timeout=10)
        request = urllib.request.Request(f"{url}/v2/images", headers={"X-Auth-Token": TOKEN})
        with urllib.request.urlopen(request, timeout=10) as answer:
            status = answer.status
    assert refused.value.code == 401 and status == 200

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

from conformance import catalog, schemas
from conformance.catalog import Tier
from conformance.evidence import Censor, ExchangeLog
from conformance.hypothesis_profiles import HypothesisInfo
from conformance.options import build_config
from conformance.record.results import Entry, RunResults, recomputed_verdict
from conformance.reference.glance import v2_show_faults as F
from conformance.run import verdict
from conformance.run.outcomes import Outcome, Verdict
from conformance.run.outcomes import TestOutcome as OutcomeOfTest
from conformance.run.selection import Selection
from conformance.run.state import RunState
from selftests.conftest import SuiteRun

V2_401 = "GLANCE-V2-SHOW-401"
ADVISORY_FAULT = "v2-show-error-body-html"  # breaks GLANCE-V2-SHOW-ERROR-BODY, advisory; SHOW-401 runs after it
REQUIRED_FAULT = "v2-show-missing-id"  # breaks GLANCE-V2-SHOW-SCHEMA, required (and what reads the shown id)
REQUIRED_BREAKS = {"GLANCE-V2-SHOW-SCHEMA", *F.V2_SHOW_MISSING_ID.also_breaks}
TOKEN = "standalone-reference-token"


def decided(tmp_path, *, outcomes: dict[str, Outcome], unfinished: tuple[str, ...] = (), token: bool = True,
            collected: bool = True, target: str = "http://127.0.0.1:9", **state: object) -> RunState:
    """A run of a Glance-style target (or `target`) whose one test per requirement ended as `outcomes` says (passed
    otherwise)."""
    options = {"target": [target], **({"token": "t0ken"} if token else {})}
    config = build_config(options, {}, {}, tmp_path)
    run = RunState(config=config, log=ExchangeLog(Censor(())), hypothesis=HypothesisInfo("default", True, None))
    for name, value in state.items():
        setattr(run, name, value)
    run.requirements, run.not_judged = verdict.certified(config)
    planned = {req.id: [f"t::{req.id}"] for req in run.requirements}
    if collected:  # else the run ended before its collection was done: no selection, no test
        run.selection = Selection(set(planned), [], [n for nodes in planned.values() for n in nodes], planned)
    for rid, (nodeid,) in planned.items() if collected else ():
        test = OutcomeOfTest(nodeid, (rid,), finished=nodeid not in unfinished)
        test.update(outcomes.get(rid, Outcome.PASSED), "")
        test.coverage.judge("images")
        run.tests[nodeid] = test
    verdict.decide(run)
    return run


def test_verdict_rules_in_order(tmp_path) -> None:
    schema, advisory = "GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-ERROR-BODY"
    assert decided(tmp_path, outcomes={}).verdict == Verdict.PASS
    failed = decided(tmp_path, outcomes={schema: Outcome.FAILED})
    assert failed.verdict == Verdict.FAIL and failed.verdict_reasons == [f"{schema} not met"] and verdict.fails(failed)
    assert decided(tmp_path, outcomes={advisory: Outcome.FAILED}).verdict == Verdict.PASS
    stopped = decided(tmp_path, outcomes={schema: Outcome.FAILED}, stopped="the target does not answer")
    assert stopped.verdict == Verdict.ERROR and verdict.exit_status(stopped, 1) == 2
    cut = decided(tmp_path, outcomes={advisory: Outcome.FAILED}, unfinished=(f"t::{V2_401}",))
    assert cut.verdict == Verdict.INCOMPLETE and [req.id for req in cut.not_reached] == [V2_401]
    assert verdict.exit_status(cut, 1) == 0 and V2_401 not in {r.requirement.id for r in cut.results}
    cut_failing = decided(tmp_path, outcomes={schema: Outcome.FAILED}, unfinished=(f"t::{V2_401}",))
    assert cut_failing.verdict == Verdict.INCOMPLETE and verdict.exit_status(cut_failing, 1) == 1
    unjudged = decided(tmp_path, outcomes={}, token=False)
    assert unjudged.verdict == Verdict.INCOMPLETE and verdict.exit_status(unjudged, 0) == 1
    assert f"{V2_401} (required) not judged: no credentials configured (--token)" in unjudged.verdict_reasons
    assert decided(tmp_path, outcomes={schema: Outcome.FAILED}, token=False).verdict == Verdict.FAIL


def test_write_requirements_left_out_by_a_read_only_run_keep_no_verdict_from_pass(tmp_path) -> None:
    read_only = decided(tmp_path, outcomes={}, target="unix:///run/x.sock")
    writes = {rid for rid, req in catalog.requirements().items()
              if catalog.Need.WRITES in req.requires and req.family == "cri"}  # the run certifies CRI alone
    assert writes and {req.id for req, _ in read_only.not_judged} == writes
    assert read_only.verdict == Verdict.PASS and verdict.exit_status(read_only, 0) == 0
    # the record's verify recomputes the same verdict from results.json; a lacking credential still blocks
    rows = [{"id": rid, "tier": "required", "reason": "write mode is off (--allow-writes)"} for rid in sorted(writes)]
    document = {"requirements": [], "not_judged": rows, "finished_at": "2026-01-01T00:00:00Z"}
    assert recomputed_verdict(RunResults(document, ()))[0] == Verdict.FAIL  # nothing judged at all
    entry = Entry("CRI-LISTIMAGES-SCHEMA", "cri.ListImages", Tier.REQUIRED, Outcome.PASSED, None)
    assert recomputed_verdict(RunResults(document, (entry,)))[0] == Verdict.PASS
    blocked = {**document, "not_judged": [*rows, {"id": V2_401, "tier": "required", "reason": "no credentials"}]}
    assert recomputed_verdict(RunResults(blocked, (entry,)))[0] == Verdict.INCOMPLETE


def test_a_signal_before_the_first_test_is_incomplete_never_a_failure(tmp_path) -> None:
    signalled = decided(tmp_path, outcomes={}, interrupted="the run was ended by SIGTERM after 1s", collected=False)
    assert signalled.verdict == Verdict.INCOMPLETE and not signalled.results and signalled.not_reached
    assert verdict.exit_status(signalled, 2) == 2 and "SIGTERM" in signalled.verdict_reasons[0]


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
def test_an_advisory_failure_does_not_cut_a_run_short(suite, stop: list[str]) -> None:
    # an advisory failure is an expected failure to pytest (a warning): -x and --maxfail do not stop at it
    run = suite(*stop, f"--reference-fault={ADVISORY_FAULT}")
    assert_said(run, "pass")
    record = run.results
    assert run.returncode == 0 and not record["not_met"] and not record["stopped_early"], run.stdout[-3000:]
    assert [w["id"] for w in record["warnings"]] == ["GLANCE-V2-SHOW-ERROR-BODY"]


@pytest.mark.parametrize("stop", [["-x"], ["--maxfail=1"]], ids=["x", "maxfail"])
def test_a_run_cut_short_is_incomplete_for_what_it_did_not_reach(suite, stop: list[str]) -> None:
    run = suite(*stop, f"--reference-fault={REQUIRED_FAULT}")
    assert_said(run, "incomplete")
    record = run.results
    not_run = {entry["id"] for entry in record["not_run"]}
    assert V2_401 in not_run and V2_401 not in {entry["id"] for entry in record["requirements"]}
    # the first test that reads what the fault breaks stops the run (the v2 list's tests run before show's)
    assert len(record["not_met"]) == 1 and record["not_met"][0] in REQUIRED_BREAKS and run.returncode == 1, \
        run.stdout[-3000:]
    assert "stopping after 1 failures" in record["stopped_early"] and "cut short" in record["verdict_reasons"][0]
    assert record["counts"].get("error", 0) == 0  # nothing it did not reach is `error`


def test_a_run_cut_short_after_a_required_failure_exits_1(suite) -> None:
    run = suite("-x", f"--reference-fault={REQUIRED_FAULT}")
    assert_said(run, "incomplete")
    not_met = run.results["not_met"]
    assert len(not_met) == 1 and not_met[0] in REQUIRED_BREAKS and run.returncode == 1, run.stdout[-3000:]
    assert run.results["not_run"]


def test_a_run_cut_short_with_workers_says_what_a_serial_one_says(suite) -> None:
    pytest.importorskip("xdist")
    run = suite("-n", "2", "-x", f"--reference-fault={ADVISORY_FAULT}")
    # the other worker may finish what it had begun: incomplete when anything was not reached, else a pass
    assert_said(run, "incomplete" if run.results.get("not_run") else "pass")
    assert run.returncode == 0 and not run.results["not_met"], run.stdout[-3000:]


def test_an_unreachable_target_is_an_error_never_a_failure(suite) -> None:
    run = suite("tests/glance", "--target", "http://127.0.0.1:9", "--timeout", "2",
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
        run = suite("tests/glance", "--target", url)
    assert_said(run, "incomplete")
    assert run.returncode == 1 and not run.results["not_met"], run.stdout[-3000:]
    assert f"{V2_401} (required) not judged: no credentials configured (--token)" in run.results["verdict_reasons"]
    # the reasons in catalogue order: the 401 requirements' first, then write mode's (which keeps no pass away)
    assert "not judged (no credentials configured (--token); write mode is off (--allow-writes))" in run.stdout


def test_the_standalone_reference_requiring_a_token_lets_a_run_judge_the_401_requirements(suite) -> None:
    with standalone_reference("--require-token", TOKEN) as url:
        run = suite("tests/glance", "--target", url, "--token", TOKEN)
    assert_said(run, "pass")
    assert run.returncode == 0 and run.outcome(V2_401) == "passed"
    # what is left needs what the run's owner opts into (--allow-writes, --other-token)
    assert all(catalog.requirements()[entry["id"]].opt_in for entry in run.results["not_judged"])
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

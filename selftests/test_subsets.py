"""A run of part of the suite is `incomplete`: it names what it did not run, reports failures, never passes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conformance import OPERATIONS, catalog, schemas
from conformance.options import DEFAULT_PROFILES
from conformance.reference.cri import faults as cri_faults
from conformance.reference.cri_server import start_cri_server
from conformance.run.selection import operation_marker
from selftests.conftest import REPO, SuiteRun, suite_command

# What the default run certifies: every requirement of the default profiles of both families.
PROFILES = {family: catalog.profiles()[name] for family, name in DEFAULT_PROFILES.items()}
ALL = {rid for rid, req in catalog.requirements().items() if req.applies_to(PROFILES[req.family])}


def _check_incomplete(run: SuiteRun) -> dict:
    record = run.results
    assert record["verdict"] == "incomplete", run.stdout[-3000:]
    assert schemas.error_lines("report/results.json", record) == []
    run_ids = {entry["id"] for entry in record["requirements"]}
    not_run = {entry["id"] for entry in record["not_run"]}
    judged_elsewhere = {entry["id"] for entry in record["not_judged"]}
    assert not run_ids & not_run and run_ids | not_run | judged_elsewhere == ALL
    assert "conformance verdict: INCOMPLETE" in run.stdout and f"{len(not_run)} not run" in run.stdout
    page = (run.report_dir / "report.html").read_text(encoding="utf-8")
    assert "Verdict: INCOMPLETE</h2>" in page and 'id="not-run"' in page
    return record


def test_a_keyword_subset_is_incomplete_not_failed(suite) -> None:
    run = suite("-k", "404")
    record = _check_incomplete(run)
    assert run.returncode == 0 and not record["not_met"]
    assert {entry["outcome"] for entry in record["requirements"]} <= {"passed"}
    assert "deselected" in record["subset"]["reasons"][0]


def test_a_marker_subset_selects_family_and_tier(suite) -> None:
    run = suite("-m", "cri and required")
    record = _check_incomplete(run)
    assert record["requirements"] and run.returncode == 0
    assert all(e["operation"].startswith("cri.") and e["tier"] == "required" for e in record["requirements"])
    assert all(not e["operation"].startswith("cri.") or e["tier"] != "required" for e in record["not_run"])


def test_a_failure_in_a_subset_is_reported_and_exits_one(suite) -> None:
    fault = cri_faults.STATUS_ZERO_SIZE
    run = suite("-m", "cri_image_status", "--reference-fault", fault.name)
    record = _check_incomplete(run)
    assert run.returncode == 1
    assert run.outcome(fault.breaks) == "failed" and fault.breaks in record["not_met"]


def test_a_path_subset_is_incomplete(suite) -> None:
    run = suite("tests/cri")  # the embedded targets certify both families: one of them is a subset
    record = _check_incomplete(run)
    assert run.returncode == 0
    assert {e["operation"] for e in record["requirements"]} <= {op for op in OPERATIONS if op.startswith("cri.")}
    assert "tests/cri" in record["subset"]["reasons"][0]


def test_deselect_is_a_subset(suite) -> None:
    run = suite("--deselect", "tests/glance/test_v2_show.py", "-m", "glance_v2_show or cri_list_images")
    _check_incomplete(run)


def test_markers_are_listed() -> None:
    listed = subprocess.run([sys.executable, "-m", "pytest", "--markers"], cwd=REPO, capture_output=True, text=True,
                            timeout=120, check=True).stdout
    for name in ("requirement", "glance", "cri", "required", "advisory", "deprecated",
                 *(operation_marker(op) for op in OPERATIONS)):
        assert f"@pytest.mark.{name}:" in listed or f"@pytest.mark.{name}(" in listed, name


@pytest.mark.parametrize(("operation", "marker"), [("glance.v2.show", "glance_v2_show"),
                                                   ("glance.v1_1.detail", "glance_v1_1_detail"),
                                                   ("cri.ImageStatus", "cri_image_status")])
def test_operation_marker_names(operation: str, marker: str) -> None:
    assert operation_marker(operation) == marker


def test_a_run_of_one_family_leaves_the_other_familys_tests_unimported(tmp_path, socket_dir: str) -> None:
    cri = start_cri_server(socket_path=os.path.join(socket_dir, "cri.sock"))
    try:
        command, env = suite_command(tmp_path / "reports", ("--target", f"unix://{socket_dir}/cri.sock"))
        code = ("import sys, pytest; status = int(pytest.main(sys.argv[1:])); "
                "print('imported:', sorted(m for m in sys.modules if m.startswith(('conformance.glance', 'requests'))),"
                " 'exit', status)")
        done = subprocess.run([sys.executable, "-c", code, *command[3:]], cwd=REPO, capture_output=True, text=True,
                              env=env, timeout=300, stdin=subprocess.DEVNULL)
    finally:
        cri.stop()
    assert done.stdout.splitlines()[-1] == "imported: [] exit 0", done.stdout[-3000:]
    record = SuiteRun(0, done.stdout, done.stderr, tmp_path / "reports").results
    assert record["verdict"] == "pass" and {e["operation"].split(".")[0] for e in record["requirements"]} == {"cri"}

"""A fleet end to end on loopback: four embedded reference targets in two shards, merged into one report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.fleet import report
from conformance.fleet.merge import EndpointReport, Fleet
from selftests.conftest import REPO

FAULT, BROKEN = "v2-show-bad-self-link", "GLANCE-V2-SHOW-LINKS"
MANIFEST = f"""
sign_key: fleet-key.pem
endpoints:
  - {{name: ref-a, target: embedded}}
  - {{name: ref-faulty, target: embedded, fault: {FAULT}}}
  - {{name: ref-glance, target: embedded, profile: glance}}
  - {{name: ref-d, target: embedded}}
"""


def fleet_command(*args: str, env: dict[str, str] | None = None, timeout: float = 400
                  ) -> subprocess.CompletedProcess[str]:
    """`python -m conformance.fleet ARGS` in its own process."""
    return subprocess.run([sys.executable, "-m", "conformance.fleet", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The manifest run as two shards: one by --shard, one as an Indexed Job's pod would run it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    folder = tmp_path_factory.mktemp("fleet")
    key = ed25519.Ed25519PrivateKey.generate()
    (folder / "fleet-key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    (folder / "allowed_signers").write_text(f"fleet@example.org {public.decode()}\n", encoding="utf-8")
    (folder / "fleet.yaml").write_text(MANIFEST, encoding="utf-8")
    first = fleet_command("run", str(folder / "fleet.yaml"), "--out", str(folder / "s0"), "--shard", "0/2",
                          "--jobs", "2")
    assert first.returncode == 0, first.stdout + first.stderr  # ref-a and ref-glance pass
    second = fleet_command("run", str(folder / "fleet.yaml"), "--out", str(folder / "s1"), "--jobs", "2",
                           env={"JOB_COMPLETION_INDEX": "1", "FLEET_SHARD_COUNT": "2"})
    assert second.returncode == 1, second.stdout + second.stderr  # ref-faulty fails
    assert "ref-faulty: exit 1" in second.stdout and "ref-d: exit 0" in second.stdout
    return {"root": folder, "s0": folder / "s0", "s1": folder / "s1", "allowed": folder / "allowed_signers"}


def merged(shards: dict[str, Path], *dirs: Path, name: str = "merged") -> tuple[int, str, dict[str, Any], Path]:
    """Merge `dirs`: exit status, console, fleet.json and the output folder."""
    out = shards["root"] / name
    completed = fleet_command("merge", *map(str, dirs), "--out", str(out), "--allowed-signers",
                              str(shards["allowed"]))
    assert "Traceback" not in completed.stderr, completed.stderr
    document = json.loads((out / "fleet.json").read_text(encoding="utf-8"))
    return completed.returncode, completed.stdout, document, out


def test_the_faulty_endpoint_and_its_requirement_stand_out_in_the_merged_report(shards: dict[str, Path]) -> None:
    status, console, document, out = merged(shards, shards["s0"], shards["s1"])
    assert status == 1, console
    endpoints = {e["name"]: e for e in document["endpoints"]}
    assert list(endpoints) == ["ref-a", "ref-faulty", "ref-glance", "ref-d"]  # manifest order
    assert all(e["verified"] for e in endpoints.values()), console
    assert {n: e["verdict"] for n, e in endpoints.items()} == {
        "ref-a": "pass", "ref-faulty": "fail", "ref-glance": "pass", "ref-d": "pass"}
    assert endpoints["ref-faulty"]["not_met"] == [BROKEN] and endpoints["ref-faulty"]["result"] == "FAILED"
    assert endpoints["ref-glance"]["profiles"]["glance"] == "glance"
    assert endpoints["ref-a"]["profiles"]["glance"] == "ims"
    assert document["disagreeing"] == [BROKEN] and document["missing"] == []
    first = document["requirements"][0]
    assert first["id"] == BROKEN and first["disagree"]
    assert first["outcomes"] == {"ref-a": "passed", "ref-faulty": "failed", "ref-glance": "passed", "ref-d": "passed"}
    assert not any(r["disagree"] for r in document["requirements"][1:])
    assert f"ref-faulty: FAIL, required not met: {BROKEN}" in console and f"endpoints disagree on: {BROKEN}" in console

    page = (out / "fleet.html").read_text(encoding="utf-8")
    matrix = page[page.index('id="matrix"'):]
    assert matrix.index(f"<th>{BROKEN} ⚠</th>") < matrix.index("GLANCE-V2-SHOW-200-JSON")
    assert '<tr class="disagree">' in matrix and '<td class="failed">failed</td>' in matrix

    suites = {s.get("name"): s for s in ET.parse(out / "junit.xml").getroot()}
    assert suites["ref-faulty"].get("failures") == "1"
    failed = [c.get("name") for c in suites["ref-faulty"] if c.find("failure") is not None]
    assert failed == [BROKEN]
    assert all(suites[name].get("failures") == "0" for name in ("ref-a", "ref-glance", "ref-d"))


def test_a_shard_that_never_reported_makes_its_endpoints_missing(shards: dict[str, Path]) -> None:
    status, console, document, out = merged(shards, shards["s0"], name="half")
    assert status == 1
    assert document["missing"] == ["ref-faulty", "ref-d"]
    assert "ref-d: MISSING (its shard never reported)" in console
    page = (out / "fleet.html").read_text(encoding="utf-8")
    assert 'id="missing"' in page and "missing: its shard never reported" in page
    suites = {s.get("name"): s for s in ET.parse(out / "junit.xml").getroot()}
    assert suites["ref-d"].get("errors") == "1"


def test_an_altered_report_leaves_its_endpoint_unverified(shards: dict[str, Path]) -> None:
    altered = Path(shutil.copytree(shards["s1"], shards["root"] / "s1-altered"))
    (altered / "ref-d" / "junit.xml").write_text("<testsuites/>", encoding="utf-8")
    status, console, document, _ = merged(shards, shards["s0"], altered, name="altered")
    assert status == 1
    endpoint = next(e for e in document["endpoints"] if e["name"] == "ref-d")
    assert not endpoint["verified"] and "ref-d: PASS, record NOT verified" in console
    assert any("junit.xml was altered" in line for line in endpoint["checks"])


def test_everything_a_run_reports_is_inert_in_the_fleet_html() -> None:
    hostile = "<script>alert(1)</script>\x1b[31m"
    fleet = Fleet("0" * 64, [EndpointReport("e1", verdict="pass", verified=False, target=hostile,
                                            profiles={"glance": hostile}, checks=[hostile])],
                  {"GLANCE-V2-SHOW-LINKS": {"e1": "passed"}}, {"GLANCE-V2-SHOW-LINKS": {"e1": "required"}},
                  {"GLANCE-V2-SHOW-LINKS": "glance.v2.show"})
    page = report.html(report.document(fleet))
    assert "<script>" not in page and "\x1b" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

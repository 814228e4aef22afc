"""The signed record: written after the three reports, and every kind of tampering caught by its own check."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.record import envelope
from conformance.record.__main__ import main
from conformance.record.hooks import write
from selftests.conftest import REPO, SuiteRun, run_suite

TOKEN = "record-selftest-token-5f2a9c"  # made up; must appear in no record


def _ssh_key(folder: Path, name: str) -> Path:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True,
                   timeout=30, stdin=subprocess.DEVNULL)
    return key


def _ed25519_key(folder: Path, name: str) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = folder / name
    key.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return key


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An SSH key and an Ed25519 PEM key named in an allowed-signers file, and a stranger's key that is not."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    folder = tmp_path_factory.mktemp("keys")
    found = {"ssh": _ssh_key(folder, "ssh"), "ed25519": _ed25519_key(folder, "ed25519.pem"),
             "stranger": _ssh_key(folder, "stranger")}
    lines = []
    for principal, kind in (("certifier@example.org", "ssh"), ("ci@example.org", "ed25519")):
        public = subprocess.run([sys.executable, "-m", "conformance.record", "public-key", str(found[kind])],
                                capture_output=True, text=True, check=True, timeout=30, cwd=REPO).stdout.strip()
        lines.append(f"{principal} {public}\n")
    found["allowed"] = folder / "allowed_signers"
    found["allowed"].write_text("# who may sign records\n" + "".join(lines), encoding="utf-8")
    return found


@pytest.fixture(scope="module")
def signed_run(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> SuiteRun:
    """A whole run against the embedded reference, its record signed with the SSH key."""
    run = run_suite(tmp_path_factory.mktemp("signed") / "reports", f"--sign-key={keys['ssh']}", f"--token={TOKEN}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    return run


@pytest.fixture
def copy(signed_run: SuiteRun, tmp_path: Path) -> Path:
    """A copy of the signed run's report folder, to tamper with."""
    return Path(shutil.copytree(signed_run.report_dir, tmp_path / "reports"))


def verify(folder: Path, allowed: Path | None, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit status and output of `python -m conformance.record verify`."""
    args = ["verify", str(folder)] + ([f"--allowed-signers={allowed}"] if allowed else [])
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def line(output: str, check: str) -> str:
    """The line of one check (with the problems printed under it)."""
    lines = output.splitlines()
    start = next(i for i, text in enumerate(lines) if text.startswith(f"{check}: "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), len(lines))
    return "\n".join(lines[start:end])


def statement_of(folder: Path) -> dict[str, Any]:
    """The Statement record.intoto.json holds."""
    return envelope.statement(envelope.read(folder / "record.intoto.json")[0])


def edit_results(folder: Path, change: Any) -> None:
    """Rewrite results.json with `change(document)` applied."""
    path = folder / "results.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def resign(folder: Path, key: Path) -> None:
    """What a signer who holds the key and edited the reports would do: record and sign them again."""
    write(folder, key, {})


def required_entry(document: dict[str, Any], outcome: str = "passed") -> dict[str, Any]:
    """The first required requirement with `outcome` in a results.json document."""
    return next(e for e in document["requirements"] if e["tier"] == "required" and e["outcome"] == outcome)


def test_a_signed_run_writes_its_record_after_the_three_reports_and_verifies(
    signed_run: SuiteRun, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert "record: " in signed_run.stdout and "signed by SHA256:" in signed_run.stdout
    status, output = verify(signed_run.report_dir, keys["allowed"], capsys)
    assert status == 0, output
    assert "signature: ok — signed by certifier@example.org" in output
    assert "integrity: ok" in output and "consistency: ok — verdict pass" in output and "coverage: ok" in output
    made = statement_of(signed_run.report_dir)
    assert made["_type"] == "https://in-toto.io/Statement/v1"
    assert made["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    assert [s["name"] for s in made["subject"]] == ["report.html", "junit.xml", "results.json"]
    predicate = made["predicate"]
    assert predicate["result"] == "PASSED" and predicate["verdict"] == "pass"
    assert set(predicate["passedTests"]) == {e["id"] for e in signed_run.results["requirements"]}
    described = {d["name"]: d for d in predicate["configuration"]}
    assert described["image-api-conformance"]["digest"]["gitCommit"] == signed_run.results["suite"]["commit"]
    assert isinstance(described["image-api-conformance"]["annotations"]["dirty"], bool)
    assert "schemas/profiles/ims.yaml" in described and described["hypothesis"]["annotations"]["profile"]
    assert set(described["runtime"]["annotations"]) >= {"python", "pytest", "hypothesis"}
    assert TOKEN not in (signed_run.report_dir / "record.intoto.json").read_text(encoding="utf-8")
    assert TOKEN not in json.dumps(made)


def test_an_ed25519_key_signs_and_verifies(copy: Path, keys: dict[str, Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    resign(copy, keys["ed25519"])
    status, output = verify(copy, keys["allowed"], capsys)
    assert status == 0, output
    assert "signature: ok — signed by ci@example.org" in output


@pytest.mark.parametrize("report", ["report.html", "junit.xml", "results.json"])
def test_one_flipped_byte_of_a_report_is_caught(copy: Path, keys: dict[str, Path], report: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = copy / report
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    status, output = verify(copy, keys["allowed"], capsys)
    assert status == 1
    assert line(output, "integrity").startswith("integrity: FAILED")
    assert f"{report} was altered: its sha256 is not the one the record states" in line(output, "integrity")
    assert line(output, "signature").startswith("signature: ok")  # the record itself is intact


def test_one_outcome_changed_in_results_json_is_caught(copy: Path, keys: dict[str, Path],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    edit_results(copy, lambda doc: required_entry(doc).update(outcome="failed"))
    status, output = verify(copy, keys["allowed"], capsys)
    assert status == 1 and "results.json was altered" in line(output, "integrity")
    resign(copy, keys["ssh"])  # even signed again, the stated verdict no longer follows from the outcomes
    status, output = verify(copy, keys["allowed"], capsys)
    assert status == 1, output
    assert line(output, "signature").startswith("signature: ok") and line(output, "integrity").startswith(
        "integrity: ok")
    assert "results.json states verdict pass, but its outcomes give fail" in line(output, "consistency")
    assert line(output, "coverage").startswith("coverage: ok")


def test_a_dropped_required_requirement_is_caught(copy: Path, keys: dict[str, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    dropped: list[str] = []

    def drop(document: dict[str, Any]) -> None:
        entry = required_entry(document)
        dropped.append(entry["id"])
        document["requirements"].remove(entry)

    edit_results(copy, drop)
    resign(copy, keys["ssh"])
    status, output = verify(copy, keys["allowed"], capsys)
    assert status == 1, output
    assert line(output, "consistency").startswith("consistency: ok")
    assert f"{dropped[0]} (required) missing from results.json" in line(output, "coverage")


def test_a_waiver_expired_before_the_run_is_caught(copy: Path, keys: dict[str, Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    waived: list[str] = []

    def waive_with_an_old_waiver(document: dict[str, Any]) -> None:
        entry = required_entry(document)
        waiver = {"requirement": entry["id"], "reason": "known deviation", "expires": "2020-01-31"}
        entry.update(outcome="waived", waiver=waiver)
        document["waivers"]["applied"].append(waiver)
        waived.append(entry["id"])

    edit_results(copy, waive_with_an_old_waiver)
    resign(copy, keys["ssh"])
    status, output = verify(copy, keys["allowed"], capsys)
    assert status == 1, output
    consistency = line(output, "consistency")
    assert f"{waived[0]} is waived under a waiver that expired on 2020-01-31, before the run" in consistency
    assert "results.json states verdict pass, but its outcomes give fail" in consistency


def test_a_waived_pass_is_warned_never_passed(copy: Path, keys: dict[str, Path],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    def waive(document: dict[str, Any]) -> None:
        entry = required_entry(document)
        waiver = {"requirement": entry["id"], "reason": "known deviation", "expires": "2999-12-31"}
        entry.update(outcome="waived", waiver=waiver)
        document["waivers"]["applied"].append(waiver)

    edit_results(copy, waive)
    resign(copy, keys["ssh"])
    status, output = verify(copy, keys["allowed"], capsys)
    assert status == 0, output
    predicate = statement_of(copy)["predicate"]
    assert predicate["result"] == "WARNED" and predicate["verdict"] == "pass"
    assert len(predicate["warnedTests"]) == 1 and predicate["warnedTests"][0] not in predicate["passedTests"]


def test_a_wrong_key_or_an_edited_statement_fails_the_signature(copy: Path, keys: dict[str, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    resign(copy, keys["stranger"])
    status, output = verify(copy, keys["allowed"], capsys)
    assert status == 1
    assert "signature: FAILED — no signature by an allowed signer" in output
    assert line(output, "integrity").startswith("integrity: ok")  # only who signed is wrong

    resign(copy, keys["ssh"])
    record = copy / "record.intoto.json"
    document = json.loads(record.read_text(encoding="utf-8"))
    made = json.loads(base64.b64decode(document["payload"]))
    made["predicate"]["result"] = "FAILED"
    document["payload"] = base64.b64encode(json.dumps(made).encode()).decode()
    record.write_text(json.dumps(document), encoding="utf-8")
    status, output = verify(copy, keys["allowed"], capsys)
    assert status == 1 and "signature: FAILED — no signature by an allowed signer" in output
    assert "the record's result is FAILED, the outcomes give PASSED" in line(output, "consistency")


def test_an_unsigned_record_fails_only_when_signers_are_asked_for(copy: Path, keys: dict[str, Path],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    write(copy, None, {})
    status, output = verify(copy, None, capsys)
    assert status == 0, output
    assert line(output, "signature") == "signature: not checked (no --allowed-signers; signatures by: none)"
    status, output = verify(copy, keys["allowed"], capsys)
    assert status == 1 and "signature: FAILED — the record is not signed" in output


@pytest.mark.parametrize("damage", ["no record", "not json", "not an envelope", "bad signers", "no folder"])
def test_bad_input_is_one_line_and_exit_2(copy: Path, keys: dict[str, Path], damage: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    record, allowed = copy / "record.intoto.json", keys["allowed"]
    folder = copy
    if damage == "no record":
        record.unlink()
    elif damage == "not json":
        record.write_bytes(b"\xff{")
    elif damage == "not an envelope":
        record.write_text('{"payloadType": "text/plain", "payload": "", "signatures": []}', encoding="utf-8")
    elif damage == "bad signers":
        allowed = copy / "signers"
        allowed.write_text("someone not-a-key\n", encoding="utf-8")
    else:
        folder = copy / "missing"
    status, output = verify(folder, allowed, capsys)
    assert status == 2
    assert output.startswith("error: ") and output.count("\n") == 1 and "Traceback" not in output


def test_a_key_that_cannot_sign_stops_the_run_before_any_test(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("not a key\n", encoding="utf-8")
    run = run_suite(tmp_path / "reports", f"--sign-key={key}", timeout=120)
    assert run.returncode == 4
    assert "--sign-key" in run.stderr and "not an OpenSSH private key" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout and not (tmp_path / "reports" / "results.json").exists()


def test_a_real_waived_failure_is_recorded_as_warned_and_verifies(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - requirement: GLANCE-V2-SHOW-LINKS\n    reason: known\n    expires: 2999-12-31\n",
                       encoding="utf-8")
    run = run_suite(tmp_path / "reports", "--record", "--reference-fault=v2-show-bad-self-link",
                    f"--waivers={waivers}")
    assert run.returncode == 0 and run.outcome("GLANCE-V2-SHOW-LINKS") == "waived", run.stdout[-3000:]
    status, output = verify(run.report_dir, None, capsys)
    assert status == 0, output
    predicate = statement_of(run.report_dir)["predicate"]
    assert predicate["result"] == "WARNED" and predicate["warnedTests"] == ["GLANCE-V2-SHOW-LINKS"]
    described = {d["name"]: d for d in predicate["configuration"]}
    assert described["waivers"]["digest"]["sha256"] == hashlib.sha256(waivers.read_bytes()).hexdigest()

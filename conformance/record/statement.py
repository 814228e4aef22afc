"""The in-toto Statement of a run: the three reports as subjects, a test-result predicate over them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.record.errors import RecordError
from conformance.record.provenance import file_sha256, runtime, suite_source
from conformance.record.results import RunResults, result_of, tests_by_result
from conformance.run.outcomes import Verdict

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://in-toto.io/attestation/test-result/v0.1"
REPORTS = ("report.html", "junit.xml", "results.json")
RECORD_NAME = "record.intoto.json"


def subjects(folder: Path) -> list[dict[str, Any]]:
    """The three reports of `folder`, each with its sha256."""
    found = []
    for name in REPORTS:
        path = folder / name
        if not path.is_file():
            raise RecordError(f"{name} is not in {folder}: a record covers report.html, junit.xml and results.json")
        found.append({"name": name, "digest": {"sha256": file_sha256(path)}})
    return found


def build(folder: Path, results: RunResults, inputs: dict[str, Path | None]) -> dict[str, Any]:
    """The Statement of the run whose reports are in `folder`; `inputs` names the waiver and baseline files read."""
    stated = Verdict(results.verdict)
    document = results.document
    predicate: dict[str, Any] = {
        "result": result_of(results, stated),
        "configuration": configuration(results, inputs),
        **tests_by_result(results),
        # beyond test-result v0.1 (consumers ignore fields they do not know): the suite's own words
        "verdict": str(stated),
        "outcomes": results.outcomes(),
        "profiles": results.profiles,
        "not_judged": sorted(results.not_judged),
        "started_at": document.get("started_at"),
        "finished_at": document.get("finished_at"),
    }
    return {"_type": STATEMENT_TYPE, "subject": subjects(folder), "predicateType": PREDICATE_TYPE,
            "predicate": predicate}


def configuration(results: RunResults, inputs: dict[str, Path | None]) -> list[dict[str, Any]]:
    """Resource descriptors of what decided the run: suite, catalogue files, waivers, baseline, hypothesis,
    target (as results.json shows it: without secrets), options and runtime."""
    document = results.document
    target = document.get("target") or {}
    described: list[dict[str, Any]] = [suite_source()]
    described += [{"name": f"schemas/{name}", "digest": {"sha256": digest}}
                  for name, digest in results.catalogue_files.items()]
    for role, path in inputs.items():
        if path is not None:
            described.append({"name": role, "digest": {"sha256": file_sha256(path)},
                              "annotations": {"file": path.name}})
    described += [
        {"name": "hypothesis", "annotations": dict(document.get("hypothesis") or {})},
        {"name": "target", "annotations": {
            "url": target.get("url"), "embedded": target.get("embedded"), "family": target.get("family"),
            "targets": document.get("targets"), "profiles": results.profiles,
        }},
        {"name": "options", "annotations": dict(document.get("options") or {})},
        {"name": "runtime", "annotations": runtime()},
    ]
    return described

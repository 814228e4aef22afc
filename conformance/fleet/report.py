"""The fleet report: fleet.json, fleet.html (from the template beside this module) and a fleet junit.xml."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jinja2

from conformance.evidence import inert
from conformance.fleet.merge import Fleet
from conformance.report.results import write_json

TEMPLATE = "report.html.j2"
FLEET_FORMAT = 1


def document(fleet: Fleet) -> dict[str, Any]:
    """fleet.json as a dict."""
    disagreeing = set(fleet.disagreeing())
    return {
        "format": FLEET_FORMAT,
        "manifest_sha256": fleet.manifest_sha256,
        "fails": fleet.fails,
        "endpoints": [
            {"name": e.name, "verdict": e.verdict, "result": e.result, "verified": e.verified, "missing": e.missing,
             "target": e.target, "profiles": e.profiles, "not_met": e.not_met, "checks": e.checks}
            for e in fleet.endpoints
        ],
        "missing": [e.name for e in fleet.endpoints if e.missing is not None],
        "disagreeing": [rid for rid in fleet.rows() if rid in disagreeing],
        "requirements": [
            {"id": rid, "operation": fleet.operations[rid], "disagree": rid in disagreeing,
             "outcomes": fleet.outcomes[rid], "tiers": fleet.tiers[rid]}
            for rid in fleet.rows()
        ],
    }


def write(fleet: Fleet, out: Path) -> list[Path]:
    """Write fleet.json, fleet.html and junit.xml into `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    data = document(fleet)
    written = [out / "fleet.json", out / "fleet.html", out / "junit.xml"]
    write_json(written[0], data)
    written[1].write_text(html(data), encoding="utf-8")
    ET.ElementTree(junit(fleet)).write(written[2], encoding="utf-8", xml_declaration=True)
    return written


def html(data: dict[str, Any]) -> str:
    """fleet.html: everything from the runs is escaped by the template engine (autoescape on)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.get_template(TEMPLATE).render(fleet=data, inert=inert)


def junit(fleet: Fleet) -> ET.Element:
    """One testsuite per endpoint, one testcase per requirement: a required requirement not met is a failure,
    an advisory one a skip with its outcome (a CI job reading it fails only where the verdict does)."""
    suites = ET.Element("testsuites", name="image-api-conformance fleet")
    for endpoint in fleet.endpoints:
        suite = ET.SubElement(suites, "testsuite", name=inert(endpoint.name))
        if endpoint.missing is not None or not endpoint.verified:
            case = ET.SubElement(suite, "testcase", classname=inert(endpoint.name), name="record")
            why = endpoint.missing or "the record did not verify"
            ET.SubElement(case, "error", message=inert(why)).text = inert("\n".join(endpoint.checks))
        counts = {"tests": 0, "failures": 0, "errors": int(endpoint.missing is not None or not endpoint.verified),
                  "skipped": 0}
        for rid, by in fleet.outcomes.items():
            if endpoint.name not in by:
                continue
            outcome, tier = by[endpoint.name], fleet.tiers[rid][endpoint.name]
            case = ET.SubElement(suite, "testcase", classname=inert(endpoint.name), name=rid)
            counts["tests"] += 1
            if rid in endpoint.not_met:
                ET.SubElement(case, "failure", message=f"{rid} ({tier}) {outcome}")
                counts["failures"] += 1
            elif outcome != "passed":
                ET.SubElement(case, "skipped", message=f"{rid} ({tier}) {outcome}")
                counts["skipped"] += 1
        counts["tests"] += counts["errors"]
        suite.attrib.update({key: str(value) for key, value in counts.items()})
    return suites


def dumps(data: dict[str, Any]) -> str:
    """fleet.json's text (for the console's --json)."""
    return json.dumps(data, indent=2, ensure_ascii=False)

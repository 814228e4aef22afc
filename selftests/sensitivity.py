"""Proof of sensitivity: each named fault is really on (its probe sees it), and the suite catches it."""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import catalog
from conformance.reference.cri.probe import PROTO_MODULES, CriProbe
from conformance.reference.cri_server import start_cri_server
from conformance.reference.fault import Fault
from conformance.reference.faults import ALL_FAULTS, GLANCE_FAULTS
from conformance.reference.glance.probe import HttpProbe
from conformance.reference.http_server import start_http_server
from conformance.targets.auth import generated_token

TESTS_OF_FAMILY = {"glance": ("tests/glance",), "cri": ("tests/cri",)}
COUNTED_TIERS = ("required", "deprecated")


def probe_sees(fault: Fault[Any], *, active: bool) -> dict[str, bool]:
    """Start the fault's reference (with the fault when `active`) and run its probe: the result per API served."""
    faults = [fault.name] if active else []
    if fault.name in GLANCE_FAULTS:
        # Credentials are checked, as in the embedded run, so the 401 faults have something to break.
        token = generated_token()
        with start_http_server(faults=faults, token=token) as server:
            return {"glance": fault.probe(HttpProbe(server.url, token=token))}
    # pytest's temporary folders can exceed the 107-byte limit of unix socket paths.
    socket_dir = tempfile.mkdtemp(prefix="probe-", dir="/tmp")
    try:
        path = os.path.join(socket_dir, "cri.sock")
        with start_cri_server(socket_path=path, faults=faults, embedded=fault.needs_embedded) as server:
            seen = {}
            for version in PROTO_MODULES:
                with CriProbe(server.url, version) as cri:
                    seen[version] = fault.probe(cri)
            return seen
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


@dataclass
class FaultVerdict:
    """What one faulty run showed."""

    fault: Fault[Any]
    target_outcome: str  # outcome of the requirement the fault breaks
    flipped: list[str]  # other required/deprecated requirements that failed without being declared
    detail: str = ""
    failed: frozenset[str] = frozenset()  # every requirement the faulty run recorded as failed

    @property
    def caught(self) -> bool:
        """Whether the intended requirement failed and nothing unrelated did."""
        return self.target_outcome == "failed" and not self.flipped


def run_fault(fault: Fault[Any], run_suite) -> FaultVerdict:  # type: ignore[no-untyped-def]
    """Run the family's tests against the reference with `fault` and judge the outcomes."""
    family = "cri" if fault.operation.startswith("cri.") else "glance"
    args = [*TESTS_OF_FAMILY[family], "--reference-fault", fault.name]
    if fault.needs_embedded:
        args += ["--profile", "isulad"]
    elif fault.profile:
        # the whole family, as for any fault: the clean reference passes it under every profile of the family
        args += ["--profile", fault.profile]
    if fault.needs_writes:
        args.append("--allow-writes")
    with tempfile.TemporaryDirectory(prefix="sensitivity-") as tmp:
        run = run_suite(Path(tmp) / "reports", *args)
        try:
            outcomes = run.outcomes()
        except (OSError, ValueError, KeyError):
            return FaultVerdict(fault, "no results.json", [], (run.stdout + run.stderr)[-2000:])
    requirements = catalog.requirements()
    allowed = {fault.breaks, *fault.also_breaks}
    flipped = sorted(
        rid for rid, outcome in outcomes.items()
        if outcome in ("failed", "error") and rid not in allowed and requirements[rid].tier in COUNTED_TIERS
    )
    failed = frozenset(rid for rid, outcome in outcomes.items() if outcome == "failed")
    return FaultVerdict(fault, outcomes.get(fault.breaks, "absent"), flipped, failed=failed)


def proven_sensitive(verdicts: list[FaultVerdict]) -> set[str]:
    """Requirements that a fault naming them (as `breaks` or `also_breaks`) really made fail."""
    return {
        rid for v in verdicts for rid in (v.fault.breaks, *v.fault.also_breaks) if rid in v.failed
    }


def run_all(  # type: ignore[no-untyped-def]
    run_suite, faults: list[Fault[Any]] | None = None, workers: int = 2
) -> list[FaultVerdict]:
    """Run every fault (two at a time: the machine has two cores) and return the verdicts in fault order."""
    chosen = faults if faults is not None else list(ALL_FAULTS.values())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda fault: run_fault(fault, run_suite), chosen))


def score_line(verdicts: list[FaultVerdict]) -> str:
    """`mutation score: 64/64 faults caught (100.0%)`."""
    caught = sum(v.caught for v in verdicts)
    percent = 100.0 * caught / len(verdicts) if verdicts else 0.0
    return f"mutation score: {caught}/{len(verdicts)} faults caught ({percent:.1f}%)"

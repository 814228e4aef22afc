"""Proof of sensitivity: run the suite against the reference with each named fault and score what it catches."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from conformance import catalog
from conformance.reference.fault import Fault
from conformance.reference.faults import ALL_FAULTS

TESTS_OF_FAMILY = {"glance": ("tests/glance_v2", "tests/glance_v1"), "cri": ("tests/cri",)}
COUNTED_TIERS = ("required", "deprecated")


@dataclass
class FaultVerdict:
    """What one faulty run showed."""

    fault: Fault
    target_outcome: str  # outcome of the requirement the fault breaks
    flipped: list[str]  # other required/deprecated requirements that failed without being declared
    detail: str = ""
    failed: frozenset[str] = frozenset()  # every requirement the faulty run recorded as failed

    @property
    def caught(self) -> bool:
        """Whether the intended requirement failed and nothing unrelated did."""
        return self.target_outcome == "failed" and not self.flipped


def run_fault(fault: Fault, run_suite) -> FaultVerdict:  # type: ignore[no-untyped-def]
    """Run the family's tests against the reference with `fault` and judge the outcomes."""
    family = "cri" if fault.operation.startswith("cri.") else "glance"
    args = [*TESTS_OF_FAMILY[family], "--reference-fault", fault.name]
    if fault.needs_embedded:
        args += ["--profile", "isulad"]
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


def run_all(run_suite, faults: list[Fault] | None = None, workers: int = 2) -> list[FaultVerdict]:  # type: ignore[no-untyped-def]
    """Run every fault (two at a time: the machine has two cores) and return the verdicts in fault order."""
    chosen = faults if faults is not None else list(ALL_FAULTS.values())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda fault: run_fault(fault, run_suite), chosen))


def score_line(verdicts: list[FaultVerdict]) -> str:
    """`mutation score: 64/64 faults caught (100.0%)`."""
    caught = sum(v.caught for v in verdicts)
    percent = 100.0 * caught / len(verdicts) if verdicts else 0.0
    return f"mutation score: {caught}/{len(verdicts)} faults caught ({percent:.1f}%)"

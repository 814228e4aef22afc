"""Every named fault of the reference targets fails its requirement, and nothing unrelated: 100% or bust."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import catalog
from conformance.reference.fault import Fault
from conformance.reference.faults import ALL_FAULTS
from selftests.conftest import run_suite
from selftests.sensitivity import probe_sees, proven_sensitive, run_all, score_line

SCORE_KEY = pytest.StashKey[str]()


def test_every_fault_names_a_catalogue_requirement() -> None:
    known = catalog.requirements()
    for fault in ALL_FAULTS.values():
        assert fault.breaks in known, f"{fault.name} breaks unknown {fault.breaks}"
        assert known[fault.breaks].operation == fault.operation, fault.name
        assert set(fault.also_breaks) <= set(known), fault.name


def test_every_requirement_has_a_fault() -> None:
    named = {rid for fault in ALL_FAULTS.values() for rid in (fault.breaks, *fault.also_breaks)}
    missing = sorted(rid for rid in catalog.requirements() if rid not in named)
    assert not missing, f"requirements no fault names: {missing}"


@pytest.mark.parametrize("fault", ALL_FAULTS.values(), ids=lambda fault: fault.name)
def test_each_fault_is_visible_to_its_own_probe(fault: Fault[Any]) -> None:
    assert all(probe_sees(fault, active=True).values()), f"{fault.name} is switched on, but its probe misses it"
    assert not any(probe_sees(fault, active=False).values()), f"{fault.name}'s probe sees it on a clean reference"


def test_suite_catches_every_fault(request: pytest.FixtureRequest) -> None:
    verdicts = run_all(run_suite)
    line = score_line(verdicts)
    request.config.stash[SCORE_KEY] = line
    misses = [
        f"{v.fault.name} (breaks {v.fault.breaks}): that requirement was {v.target_outcome}"
        + (f"; also failed: {', '.join(v.flipped)}" if v.flipped else "")
        + (f"\n{v.detail}" if v.detail else "")
        for v in verdicts
        if not v.caught
    ]
    assert not misses, line + "\n" + "\n".join(misses)
    unproven = sorted(set(catalog.requirements()) - proven_sensitive(verdicts))
    assert not unproven, f"no fault run made these requirements fail: {unproven}"

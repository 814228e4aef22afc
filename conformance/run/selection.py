"""Which requirements a run selected: markers by family, operation and tier, and what a subset left out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance import OPERATIONS
from conformance.catalog import Requirement, Tier

FAMILY_MARKERS = {"glance": "Glance-style REST tests", "cri": "CRI ImageService (gRPC) tests"}
TIER_MARKERS = {
    Tier.REQUIRED: "tests of requirements required under the run's profile",
    Tier.ADVISORY: "tests of requirements advisory under the run's profile",
    Tier.DEPRECATED: "tests of deprecated requirements under the run's profile",
}


def family_marker(operation: str) -> str:
    """`glance` or `cri`: the marker of an operation's family."""
    return operation.split(".", 1)[0]


def operation_marker(operation: str) -> str:
    """`glance.v2.show` -> `glance_v2_show`, `cri.ImageStatus` -> `cri_image_status`."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", operation).lower()
    return snake.replace(".", "_")


def register_markers(config: pytest.Config) -> None:
    """Declare the requirement, family, operation and tier markers (so that --strict-markers accepts them)."""
    config.addinivalue_line("markers", "requirement(*ids): the catalogue requirement(s) this test checks")
    config.addinivalue_line("markers", "schema_fields(operation): parametrize `schema_field` from the profile's schema")
    for name, text in FAMILY_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text} (added from the requirement catalogue)")
    for operation in OPERATIONS:
        config.addinivalue_line("markers", f"{operation_marker(operation)}: tests of the {operation} operation")
    for tier, text in TIER_MARKERS.items():
        config.addinivalue_line("markers", f"{tier}: {text}")


def label(item: pytest.Item, requirements: list[Requirement]) -> None:
    """Mark a test with the family, operation and tier of the requirements it checks."""
    names: dict[str, None] = {}
    for req in requirements:
        names[family_marker(req.operation)] = None
        names[operation_marker(req.operation)] = None
        names[str(req.tier)] = None
    for name in names:
        item.add_marker(name)


@dataclass
class Selection:
    """What part of the suite a run selected; `reasons` is empty for a whole run."""

    run_ids: set[str] = field(default_factory=set)  # requirements with at least one selected test
    reasons: list[str] = field(default_factory=list)  # why the run is a subset
    order: list[str] = field(default_factory=list)  # the selected tests' node ids in collection order
    planned: dict[str, list[str]] = field(default_factory=dict)  # requirement id -> node ids of its selected tests

    @property
    def subset(self) -> bool:
        """Whether the run left part of the suite out."""
        return bool(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """As it travels from an xdist worker (plain types only)."""
        return {"run_ids": sorted(self.run_ids), "reasons": list(self.reasons), "order": list(self.order),
                "planned": {rid: list(nodeids) for rid, nodeids in self.planned.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Selection:
        """The inverse of `to_dict`."""
        planned = {rid: list(nodeids) for rid, nodeids in data["planned"].items()}
        return cls(set(data["run_ids"]), list(data["reasons"]), list(data["order"]), planned)


def select(requirements: list[Requirement], items: list[pytest.Item], deselected: int,
           narrowed: list[str]) -> Selection:
    """The selection of a run whose collection, after every filter, kept `items`."""
    planned: dict[str, list[str]] = {}
    for item in items:
        for rid in dict.fromkeys(rid for mark in item.iter_markers("requirement") for rid in mark.args):
            planned.setdefault(rid, []).append(item.nodeid)
    run_ids = set(planned)
    reasons = []
    if deselected:
        reasons.append(f"{deselected} test(s) deselected (-k, -m or --deselect)")
    if narrowed:
        reasons.append(f"collected from part of the suite: {' '.join(narrowed)}")
    missing = [req.id for req in requirements if req.id not in run_ids]
    if missing and not reasons:
        reasons.append(f"no test selected for {len(missing)} requirement(s)")
    certified = {req.id for req in requirements}
    return Selection(run_ids & certified, reasons, [item.nodeid for item in items],
                     {rid: nodeids for rid, nodeids in planned.items() if rid in certified})

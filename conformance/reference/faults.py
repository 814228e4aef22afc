"""Every named fault the embedded reference targets can be started with, by name."""

from __future__ import annotations

from typing import Any

from conformance.reference.cri.faults import CRI_FAULTS
from conformance.reference.fault import Fault
from conformance.reference.glance.faults import GLANCE_FAULTS

__all__ = ["ALL_FAULTS", "CRI_FAULTS", "GLANCE_FAULTS"]

ALL_FAULTS: dict[str, Fault[Any]] = {**GLANCE_FAULTS, **CRI_FAULTS}

"""Every named fault the embedded reference targets can be started with."""

from __future__ import annotations

from conformance.reference.cri_faults import CRI_FAULTS
from conformance.reference.glance_faults import GLANCE_FAULTS

ALL_FAULTS = {**GLANCE_FAULTS, **CRI_FAULTS}

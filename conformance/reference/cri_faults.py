"""Former home of the CRI reference's faults, kept so existing imports work; they live in cri/faults.py."""

from conformance.reference.cri.faults import CRI_FAULTS, LIST, STATUS

__all__ = ["CRI_FAULTS", "LIST", "STATUS"]

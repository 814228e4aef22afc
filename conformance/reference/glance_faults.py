"""Former home of the Glance reference's faults, kept so existing imports work; they live in glance/faults.py."""

from conformance.reference.glance.faults import GLANCE_FAULTS, V1_1_DETAIL, V1_HEAD, V2_SHOW

__all__ = ["GLANCE_FAULTS", "V1_1_DETAIL", "V1_HEAD", "V2_SHOW"]

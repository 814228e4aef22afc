"""The Glance images a run judges: a sample covering every status, visibility, format and owner listed."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.sample import MAX_VALUE_TEXT, MAX_VALUES_RECORDED, Entry, Sample, Stratum, strata_of, value_text
from conformance.sample import choose as choose_by

__all__ = ["MAX_VALUES_RECORDED", "MAX_VALUE_TEXT", "Sample", "Stratum", "choose", "strata_of", "value_text"]

STRATA = ("status", "visibility", "disk_format", "container_format", "owner")  # what a sample must cover
DISCOVERY_FACTOR = 10  # listed entries read per image judged, to find the rare kinds deeper in the listing


def choose(entries: Sequence[Entry], size: int, *, complete: bool = True) -> Sample:
    """At most `size` of the listed v2 `entries`, covering every value of STRATA first, then evenly."""
    return choose_by(entries, size, STRATA, complete=complete)

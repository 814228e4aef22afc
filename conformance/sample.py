"""The images a run judges: a deterministic sample that covers every kind of image the listing shows (any family)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.evidence import clip

MAX_VALUE_TEXT = 80  # a stratum value as the record shows it (the target's own text)
MAX_VALUES_RECORDED = 50  # values recorded per stratum; the rest are counted together

Entry = Mapping[str, Any]
Stratum = tuple[str, str]  # (field, value as text)
Kinds = Callable[[Entry], Mapping[str, Any]]  # an entry's value for each field a sample must cover


def value_text(value: Any) -> str:
    """A listed field's value as a stratum names it: bounded text, `null` for a missing value."""
    text = "null" if value is None else value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_VALUE_TEXT else clip(text, MAX_VALUE_TEXT) + "…"


def strata_of(entry: Entry, fields: Sequence[str], kinds: Kinds | None = None) -> set[Stratum]:
    """The strata one listed entry belongs to, one per field (its own fields, or those `kinds` derives)."""
    values = entry if kinds is None else kinds(entry)
    return {(field, value_text(values.get(field))) for field in fields}


@dataclass(frozen=True)
class Sample:
    """The chosen ids (in listing order) and what the listing held, for the record."""

    ids: tuple[str, ...]
    size: int  # the sample size asked for
    read: int  # listed entries read to choose it
    complete: bool  # whether the listing ended within the discovery bound (else rarer kinds may lie beyond)
    listed: dict[Stratum, int]  # stratum -> listed entries in it
    sampled: dict[Stratum, int]  # stratum -> sampled entries in it
    fields: tuple[str, ...] = ()  # the fields whose values are the strata

    @property
    def uncovered(self) -> list[Stratum]:
        """Strata present in the listing that the sample could not hold (more strata than images to judge)."""
        return [stratum for stratum in self.listed if stratum not in self.sampled]

    def to_record(self) -> dict[str, Any]:
        """The sample as results.json `target.endpoints.<family>.sample` holds it."""
        strata: dict[str, dict[str, Any]] = {}
        for field in self.fields:
            values = [(value, count) for (name, value), count in self.listed.items() if name == field]
            shown = {value: {"listed": count, "sampled": self.sampled.get((field, value), 0)}
                     for value, count in values[:MAX_VALUES_RECORDED]}
            strata[field] = {"values": shown, "values_not_shown": max(0, len(values) - MAX_VALUES_RECORDED)}
        return {
            "chosen_by": "strata" if self.read > self.size else "all listed",
            "size": self.size, "read": self.read, "listing_complete": self.complete, "ids": list(self.ids),
            "strata": strata, "uncovered": len(self.uncovered),
        }


def choose(entries: Sequence[Entry], size: int, fields: Sequence[str], *, complete: bool = True,
           kinds: Kinds | None = None) -> Sample:
    """At most `size` of the listed `entries`: every stratum first (fewest images that cover them), then evenly."""
    listed_ids = [entry["id"] for entry in entries]
    chosen: set[int] = set()
    every = [strata_of(entry, fields, kinds) for entry in entries]
    if len(entries) <= size:
        chosen = set(range(len(entries)))
    else:
        kinds_of = every
        missing = set().union(*kinds_of)
        while missing and len(chosen) < size:
            # greedy cover: the entry adding the most missing strata, the earliest listed on a tie
            best = max(range(len(entries)), key=lambda i: (len(kinds_of[i] & missing), -i))
            if not kinds_of[best] & missing:
                break
            chosen.add(best)
            missing -= kinds_of[best]
        chosen |= _evenly(len(entries), size - len(chosen), chosen)
    ordered = sorted(chosen)
    return Sample(
        ids=tuple(listed_ids[i] for i in ordered), size=size, read=len(entries), complete=complete,
        listed=_count(every, fields), sampled=_count([every[i] for i in ordered], fields), fields=tuple(fields),
    )


def _evenly(total: int, wanted: int, taken: set[int]) -> set[int]:
    """`wanted` indexes of `total` not in `taken`, spread evenly over the whole range."""
    free = [i for i in range(total) if i not in taken]
    if wanted <= 0 or not free:
        return set()
    if wanted >= len(free):
        return set(free)
    return {free[(k * len(free)) // wanted] for k in range(wanted)}


def _count(strata: Sequence[set[Stratum]], fields: Sequence[str]) -> dict[Stratum, int]:
    counts: dict[Stratum, int] = {}
    for kinds in strata:
        for stratum in kinds:
            counts[stratum] = counts.get(stratum, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (list(fields).index(item[0][0]), -item[1], item[0][1])))

"""A named, deliberate deviation of a reference target, used to prove the suite notices it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """A deliberate deviation from the documents, and the requirement it must make fail."""

    name: str
    operation: str
    breaks: str  # the catalogue id of the requirement this fault violates
    description: str
    needs_embedded: bool = False  # observable only when the CRI reference also serves the embedded image
    also_breaks: tuple[str, ...] = ()  # requirements that fail with it, by the nature of the fault


def checked_names(names: Iterable[str], known: Mapping[str, Fault]) -> frozenset[str]:
    """`names` as a frozenset (a bare string is one name); ValueError on the first one not in `known`."""
    chosen = frozenset([names] if isinstance(names, str) else names)
    for name in sorted(chosen):
        if name not in known:
            raise ValueError(f"unknown fault {name!r}")
    return chosen

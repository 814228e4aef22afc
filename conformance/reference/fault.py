"""A named, deliberate deviation of a reference target, and the probe that shows it is switched on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Client = TypeVar("Client")


@dataclass(frozen=True)
class Fault(Generic[Client]):
    """A deliberate deviation from the documents, the requirement it must make fail, and how to see it.

    The reference asks `fault in active` with the module-level fault object; the name is written only here.
    """

    name: str
    operation: str
    breaks: str  # the catalogue id of the requirement this fault violates
    description: str
    needs_embedded: bool = False  # observable only when the CRI reference also serves the embedded image
    also_breaks: tuple[str, ...] = ()  # requirements that fail with it, by the nature of the fault
    profile: str | None = None  # the profile whose reading it breaks, when not the family's default
    needs_writes: bool = False  # observable only on images the run writes itself: judged with --allow-writes
    # Given a client of a running reference, whether this deviation is visible: True with the fault, False without.
    probe: Callable[[Client], bool] = field(kw_only=True, compare=False, repr=False)


def table(*faults: Fault[Client]) -> dict[str, Fault[Client]]:
    """The faults keyed by name, in declaration order; ValueError when a name is declared twice."""
    named: dict[str, Fault[Client]] = {}
    for fault in faults:
        if fault.name in named:
            raise ValueError(f"fault {fault.name!r} is declared twice")
        named[fault.name] = fault
    return named


def resolve(names: Iterable[str], known: Mapping[str, Fault[Client]]) -> frozenset[Fault[Client]]:
    """The faults `names` (a bare string is one name) call for; ValueError on the first unknown name."""
    chosen = frozenset([names] if isinstance(names, str) else names)
    for name in sorted(chosen):
        if name not in known:
            raise ValueError(f"unknown fault {name!r}")
    return frozenset(known[name] for name in chosen)

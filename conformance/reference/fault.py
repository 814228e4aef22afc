"""A named, deliberate deviation of a reference target, used to prove the suite notices it."""

from __future__ import annotations

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

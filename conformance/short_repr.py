"""One-line reprs for the values fixtures hand to tests, so that a failing property test prints its drawn values."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit


class ShortRepr:
    """A value that every printer shows by its one-line `__repr__`.

    Hypothesis' "Falsifying example" lists every argument of the test, fixtures included, with its own pretty
    printer, which prints a dataclass field by field whatever its `__repr__` says; `_repr_pretty_` comes first.
    """

    __slots__ = ()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def shown_address(address: str) -> str:
    """`address` without user info, query or fragment: what a repr may show of where a target is."""
    parts = urlsplit(address)
    if not parts.scheme or not parts.netloc:
        return address.split("?", 1)[0]
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))

"""Query parameters v2 list and v1.1 detail share: page size, marker, sort order; 400 on a bad value."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from conformance.reference.glance.images import Image
from conformance.reference.glance.responses import clip

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
_DIGITS = re.compile(r"[0-9]+")  # not \d: int() would also take other scripts' digits


class BadRequest(Exception):
    """A query parameter the API rejects with 400."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def count(args: Mapping[str, str], param: str) -> int | None:
    """The non-negative integer query parameter `param`, or None when absent."""
    raw = args.get(param)
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw):
        raise BadRequest(param, f"{param} must be a non-negative integer, got {clip(raw)!r}")
    return int(raw)


def limit(args: Mapping[str, str]) -> int:
    """The page size: `limit` when given (capped at MAX_LIMIT), else DEFAULT_LIMIT."""
    given = count(args, "limit")
    return DEFAULT_LIMIT if given is None else min(given, MAX_LIMIT)


def sort_value(key: str) -> Callable[[Image], tuple[Any, ...]]:
    """A sort key on `key` with images lacking the value first and ties broken by id."""

    def value(image: Image) -> tuple[Any, ...]:
        field = getattr(image, key)
        return (field is not None, field if field is not None else 0, image.id)

    return value


def start_after(ordered: list[Image], marker: str | None, position: Mapping[str, int] | None = None) -> int:
    """The index of the page start: just after `marker`; BadRequest when the marker is not in `ordered`.

    `position` (id -> index in `ordered`), when given, finds the marker without a scan.
    """
    if marker is None:
        return 0
    if position is not None:
        if marker in position:
            return position[marker] + 1
        raise bad_marker(marker)
    for index, image in enumerate(ordered):
        if image.id == marker:
            return index + 1
    raise bad_marker(marker)


def bad_marker(marker: str) -> BadRequest:
    """The 400 of a marker that is not an image of the listing."""
    return BadRequest("marker", f"marker {clip(marker)!r} is not an image of this listing")

"""The orders of GET /v2/images: every documented form of sorting, and how a listing is judged against one."""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from conformance.timestamps import parse_time

UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
# (query, the keys and directions it orders by): every documented form of sorting
SORTS: tuple[tuple[dict[str, Any], tuple[tuple[str, str], ...]], ...] = (
    ({"sort_key": "size", "sort_dir": "asc"}, (("size", "asc"),)),
    ({"sort_key": ["disk_format", "size"], "sort_dir": ["asc", "desc"]}, (("disk_format", "asc"), ("size", "desc"))),
    ({"sort_key": ["status", "updated_at"], "sort_dir": "asc"}, (("status", "asc"), ("updated_at", "asc"))),
    ({"sort": "container_format:desc,created_at:asc"}, (("container_format", "desc"), ("created_at", "asc"))),
    ({"sort": "size"}, (("size", "desc"),)),
    ({"sort": "id:asc"}, (("id", "asc"),)),
)
SORT_IDS = ["size-asc", "keys-and-dirs", "keys-one-dir", "sort-two-keys", "sort-default-dir", "sort-id"]
_COLLATION_SAFE = re.compile(r"^[a-z0-9-]+$")  # ordered alike by every database collation


def sort_value(entry: Mapping[str, Any], key: str) -> Any:
    """The entry's value of a sort key as compared (timestamps in microseconds); None when unknown or not comparable
    alike by every collation."""
    value = entry.get(key)
    if key.endswith("_at"):
        parsed = parse_time(value)
        return None if parsed is None else (parsed - UNIX_EPOCH) // datetime.timedelta(microseconds=1)
    if key == "size":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return value if isinstance(value, str) and _COLLATION_SAFE.match(value) else None


def order_breaks(entries: Sequence[Mapping[str, Any]], keys: tuple[tuple[str, str], ...]) -> list[str]:
    """One line per neighbouring pair out of the order `keys` ask for (pairs with an incomparable value skipped)."""
    lines = []
    for first, second in itertools.pairwise(entries):
        for key, direction in keys:
            a, b = sort_value(first, key), sort_value(second, key)
            if a is None or b is None:
                break
            if a != b:
                if (a > b) if direction == "asc" else (a < b):
                    lines.append(f"{first.get('id')} ({key} {first.get(key)!r}) comes before {second.get('id')} "
                                 f"({key} {second.get(key)!r}), {key} {direction}")
                break
    return lines

"""The one reader and writer of the timestamps the image APIs send."""

from __future__ import annotations

import datetime
import re
from functools import lru_cache

_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?P<sep>[T ])[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(?P<zone>Z|[+-][0-9]{2}:?[0-9]{2})?"
)
UTC = datetime.timezone.utc
_LONGEST = len("2016-05-22T10:30:00.123456+00:00")


def parse_time(value: object, *, utc_only: bool = False) -> datetime.datetime | None:
    """`value` as an aware UTC datetime (naive means UTC), None if not one; `utc_only`: `T` and a zero offset only."""
    if not isinstance(value, str) or len(value) > _LONGEST:  # too long to be one: never held by the cache
        return None
    return _parse_text(value, utc_only)


@lru_cache(maxsize=4096)  # the listing tests read the same images' times for every query they judge
def _parse_text(value: str, utc_only: bool) -> datetime.datetime | None:
    # Glance v1 writes naive timestamps and tolerates offsets; Glance v2 documents ISO 8601 in UTC.
    match = _TIMESTAMP.fullmatch(value)
    if match is None or (utc_only and (match["sep"] != "T" or match["zone"] is None)):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(match.string.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    elif utc_only and parsed.utcoffset() != datetime.timedelta(0):
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00: a moment before the first one a datetime holds
        return None


def format_time(value: datetime.datetime) -> str:
    """`value` written the way Glance v1 writes timestamps: naive UTC with microseconds."""
    # isoformat, not strftime: strftime writes the year 1 as "1", not "0001"
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")

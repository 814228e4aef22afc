"""Load shedding survived: an idempotent request answered 503 or 429 is sent again after the wait the target asks
for (Retry-After) or a bounded backoff, a bounded number of times, within the run's budget. Past that, what asked
is not judged: a busy endpoint is never failed for being busy. Nothing else is sent again (not a 500, not a write)."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

SHED = frozenset({429, 503})  # the answers of an endpoint shedding load (seed 001: 503 "service unavailable")
IDEMPOTENT = frozenset({"GET", "HEAD"})  # the only requests sent again: a write is never repeated blindly
BACKOFF_FIRST = 0.5  # seconds before the first retry of an answer without Retry-After; doubled each retry
UNAVAILABLE = "not judged: the target was unavailable"


# pytest exports its skip exception only as `pytest.skip.Exception`, which type checkers cannot take as a base.
class TargetUnavailable(pytest.skip.Exception):  # type: ignore[name-defined]
    """The target kept shedding load past the retries: what asked is not judged (skipped), never failed."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often (--retries) and how long at most (--retry-wait) a shed request is sent again."""

    retries: int = 3
    max_wait: float = 30.0

    def applies(self, method: str, status: int) -> bool:
        """Whether an answer `status` to `method` is load shedding that may be sent again."""
        return status in SHED and method.upper() in IDEMPOTENT

    def wait(self, retry_after: str | None, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first): what Retry-After asks (seconds or an HTTP
        date), else BACKOFF_FIRST doubled each retry; never more than the cap (the caller gives up instead)."""
        asked = parse_retry_after(retry_after)
        return BACKOFF_FIRST * 2 ** (retry - 1) if asked is None else asked


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """The seconds a Retry-After value asks for (delay-seconds or an HTTP date; a date past is 0), None when it is
    absent or neither."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT; a date without a zone is read as such
        when = when.replace(tzinfo=timezone.utc)
    seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if seconds == seconds else None  # NaN: no date at all


def give_up(method: str, url: str, status: int | str, retries: int, why: str) -> TargetUnavailable:
    """The skip of a request the target kept shedding: `not judged: the target was unavailable (…)`."""
    tries = "" if not retries else f" after {retries} retr{'y' if retries == 1 else 'ies'}"
    return TargetUnavailable(f"{UNAVAILABLE} ({method} {url} answered {status}{tries}; {why})")


def http_date(seconds_from_now: float) -> str:
    """An HTTP date `seconds_from_now` ahead (for a Retry-After in date form)."""
    moment = datetime.fromtimestamp(time.time() + seconds_from_now, tz=timezone.utc)
    return email.utils.format_datetime(moment, usegmt=True)

"""Asking for an image that does not exist: unknown UUIDs answer 404, malformed ids a client error."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection

import pytest

from conformance.batches import failed, sent_together
from conformance.checks import fail, judged
from conformance.targets.http import HttpResponse

UNKNOWN_UUIDS = (
    "00000000-0000-4000-8000-000000000000",
    "ffffffff-ffff-4fff-bfff-ffffffffffff",
    str(uuid.uuid5(uuid.NAMESPACE_URL, "image-conformance/unknown-image")),
)

# Seeds 001 and 003 §返回值: the client errors they list (their 500 and 503 are server faults, never the answer to a
# request the client got wrong).
DOCUMENTED_CLIENT_ERRORS = (400, 401, 403, 404)


def unknown_uuid(listed: Collection[str]) -> str:
    """An unknown UUID the target does not list."""
    return next(u for u in UNKNOWN_UUIDS if u not in listed)


def judge_unknown_id(ask: Callable[[str], HttpResponse], asking: str, unknown_id: str, listed: Collection[str]) -> None:
    """Fail unless asking (e.g. "Showing") for `unknown_id` answers 404; skip when the target really has it."""
    __tracebackhide__ = True
    if unknown_id in listed:
        pytest.skip(f"the target really has an image {unknown_id}")
    response = ask(unknown_id)
    if response.status != 404:
        fail(f"{asking} the unknown image {unknown_id} must answer 404", str(response.status), "404", response.exchange)


def judge_malformed_ids(ask: Callable[[str], HttpResponse], asking: str, image_ids: list[str], *, vendor: bool,
                        concurrency: int) -> None:
    """Fail unless asking for each malformed id (asked together, up to `concurrency` at once) answers a client
    error, never a server error: one the vendor documents list (`vendor`, profile ims), else any 4xx (upstream
    answers 404). The first id in the batch that is answered otherwise fails."""
    __tracebackhide__ = True
    for image_id, response in sent_together(ask, image_ids, concurrency):
        if vendor and response.status not in DOCUMENTED_CLIENT_ERRORS:
            failed()
            fail(f"{asking} the malformed id {image_id!r} must answer a client error the documents list",
                 str(response.status), ", ".join(map(str, DOCUMENTED_CLIENT_ERRORS)), response.exchange)
        if not 400 <= response.status < 500:
            failed()
            fail(f"{asking} the malformed id {image_id!r} must answer 4xx", str(response.status),
                 "4xx (upstream: 404)", response.exchange)
        judged("malformed ids")

"""Whether a target still serves a deprecated Glance API (v1 HEAD, v1.1 detail)."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from conformance.targets.glance import GlanceClient

# What a target that has dropped a deprecated API answers there; real Glance answers 300 for every v1 path.
NOT_OFFERED_STATUSES = frozenset({300, 404, 405, 410, 501})


@dataclass(frozen=True)
class Offer:
    """Whether the target serves one deprecated API; `reason` says why not."""

    api: str
    reason: str | None = None


def _not_offered(status: int, request: str, api: str) -> Offer:
    try:
        answer = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        answer = str(status)
    return Offer(api, f"{request} answers {answer}: this target does not serve the {api} API")


def head_offer(glance: GlanceClient, probe_id: str | None) -> Offer:
    """Whether the target serves `HEAD /v1/images/{id}`: not when both /v1/ and the HEAD answer a 'gone' status."""
    root = glance.version_root("/v1")
    if root.status not in NOT_OFFERED_STATUSES:
        return Offer("v1")
    if probe_id is None:
        return _not_offered(root.status, "GET /v1/", "v1")
    head = glance.head_v1(probe_id)
    if head.status not in NOT_OFFERED_STATUSES:
        return Offer("v1")
    return _not_offered(head.status, "HEAD /v1/images", "v1")


def detail_offer(glance: GlanceClient) -> Offer:
    """Whether the target serves `GET /v1.1/images/detail`: not when /v1.1/ and the listing answer a 'gone' status."""
    root = glance.version_root("/v1.1")
    if root.status not in NOT_OFFERED_STATUSES:
        return Offer("v1.1")
    detail = glance.detail_v1_1({"limit": "1"})
    if detail.status not in NOT_OFFERED_STATUSES:
        return Offer("v1.1")
    return _not_offered(detail.status, "GET /v1.1/images/detail", "v1.1")

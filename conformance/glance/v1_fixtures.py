"""Fixtures of the deprecated Glance v1 tests: whether v1 is offered, HEAD answers, and the v1.1 detail ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from conformance.evidence import clip
from conformance.glance.offers import detail_offer, head_offer
from conformance.glance.v1_1_filters import DETAIL, EPOCH
from conformance.glance.v1_headers import Headed
from conformance.glance.v2_shown import custom_properties
from conformance.glance.walks import Universe, Walk, ground_truth_pages, walk_detail
from conformance.listing.table import Observed
from conformance.listing.text import Case, swapped
from conformance.run.outcomes import NotOffered, not_offered
from conformance.run.state import RunState
from conformance.targets.errors import TargetError
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpResponse
from conformance.timestamps import format_time, parse_time

__all__ = [
    "raw_head_answers",
    "v1_1_detail_offered",
    "v1_detail_universe",
    "v1_detail_walks",
    "v1_filter_case",
    "v1_head_offered",
    "v1_heads",
    "v1_observed",
]

MAX_HIDDEN_HEADS = 10  # deleted and killed images HEADed besides the sample (changes-since lists them)
RAW_HEAD_SAMPLE = 3  # images whose HEAD answer is read byte for byte
CASE_PROBE_FIELDS = ("name", "disk_format", "container_format", "status")  # tried in this order
MAX_PROBE_TEXT = 80  # the target's own text, as much of it as the record shows


def _first_image_id(run_state: RunState, request: pytest.FixtureRequest) -> str | None:
    """An image id to probe with: a pinned one, else the first v2 lists; None when there is none."""
    if run_state.config.image_ids:
        return run_state.config.image_ids[0]
    try:
        listed: dict[str, Any] = request.getfixturevalue("v2_listed")
    except TargetError:
        return None
    return next(iter(listed), None)


# The offer fixtures are session-scoped: pytest keeps the not-offered exception and raises it again for every test.
@pytest.fixture(scope="session")
def v1_head_offered(glance: GlanceClient, run_state: RunState, request: pytest.FixtureRequest) -> None:
    """Probe v1 once; every test that uses this stops as not offered when the target does not serve v1 HEAD."""
    offer = head_offer(glance, _first_image_id(run_state, request))
    if offer.reason:
        not_offered(offer.reason)


@pytest.fixture(scope="session")
def v1_1_detail_offered(glance: GlanceClient) -> None:
    """Probe v1.1 once; every test that uses this stops as not offered when the target does not serve v1.1 detail."""
    offer = detail_offer(glance)
    if offer.reason:
        not_offered(offer.reason)


@pytest.fixture(scope="session")
def v1_heads(v1_head_offered: None, glance: GlanceClient, v2_image_ids: list[str], run_state: RunState,
             request: pytest.FixtureRequest) -> list[Headed]:
    """`HEAD /v1/images/{id}` of every image to judge, and of a few deleted and killed ones, fetched once per run."""
    heads = [Headed.of(image_id, glance.head_v1(image_id)) for image_id in v2_image_ids]
    hidden, reason = _hidden_images(request, set(v2_image_ids))
    record: dict[str, Any] = {"ids": [image_id for image_id, _ in hidden], "not_judged": []}
    if reason:
        record["reason"] = reason
    for image_id, status in hidden:
        head = Headed.of(image_id, glance.head_v1(image_id), hidden=status)
        if status == "deleted" and head.response.status == 404:
            # upstream answers admin 200 and anyone else 404: both are Glance's behaviour
            record["not_judged"].append({"id": image_id, "reason": "deleted image answered 404 (upstream's answer "
                                                                   "to a non-admin); run as admin to judge it"})
            continue
        heads.append(head)
    run_state.targets.glance_record().v1_head_hidden = record
    return heads


def _hidden_images(request: pytest.FixtureRequest, sampled: set[str]) -> tuple[list[tuple[str, str]], str | None]:
    """(id, status) of at most MAX_HIDDEN_HEADS deleted and killed images changes-since lists, each status in turn,
    and why there are none; HEAD is judged without them when v1.1 is not offered."""
    try:
        _, everything = request.getfixturevalue("v1_detail_walks")
    except (NotOffered, TargetError) as exc:
        return [], f"none known: v1.1 detail is not offered ({clip(str(exc), MAX_PROBE_TEXT)})"
    if everything.problem:
        return [], f"none known: {everything.unreadable}"
    by_status: dict[str, list[str]] = {"deleted": [], "killed": []}
    for entry in everything.entries:
        image_id, status = entry.get("id"), entry.get("status")
        known = isinstance(image_id, str) and image_id not in sampled and status in by_status
        if known and image_id not in by_status[status]:
            by_status[status].append(image_id)
    chosen: list[tuple[str, str]] = []
    while len(chosen) < MAX_HIDDEN_HEADS and any(by_status.values()):
        for status, ids in by_status.items():  # alternate, so both kinds are judged when both are listed
            if ids and len(chosen) < MAX_HIDDEN_HEADS:
                chosen.append((ids.pop(0), status))
    return chosen, None if chosen else "none known: changes-since lists no deleted or killed image"


@pytest.fixture
def raw_head_answers(v1_head_offered: None, glance: GlanceClient,
                     v2_image_ids: list[str]) -> list[tuple[str, HttpResponse]]:
    """(id, answer with every byte after the headers as its body) of a raw HEAD of the first few images."""
    return [(image_id, glance.head_v1_raw(image_id)) for image_id in v2_image_ids[:RAW_HEAD_SAMPLE]]


@pytest.fixture(scope="session")
def v1_detail_walks(v1_1_detail_offered: None, glance: GlanceClient, run_state: RunState) -> tuple[Walk, Walk]:
    """The unfiltered walk and the changes-since=EPOCH walk (deleted and killed images too), made once per run,
    each as far as the sample's discovery reads (ground_truth_pages)."""
    pages, hint = ground_truth_pages(run_state.config.max_images, glance.limits.pages)
    return (walk_detail(glance, {}, max_pages=pages, raise_hint=hint),
            walk_detail(glance, {"changes-since": EPOCH}, max_pages=pages, raise_hint=hint))


@pytest.fixture(scope="session")
def v1_detail_universe(v1_detail_walks: tuple[Walk, Walk], glance: GlanceClient,
                       request: pytest.FixtureRequest) -> Universe:
    """The ground truth of the filter and paging tests. When a walk of it stopped early, what needs it is skipped,
    naming the requirement the page that stopped it breaks (that requirement's own test fails on it)."""
    visible, everything = v1_detail_walks
    for walk in (visible, everything):
        if walk.problem:
            pytest.skip(f"not judged: {walk.unreadable}")
    shown = {e.get("id") for e in [*visible.entries, *everything.entries]}
    return Universe(visible, everything, [e for e in _v2_killed(request) if e["id"] not in shown],
                    page_cap=glance.limits.pages)


def _v2_killed(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """Killed images `GET /v2/images` lists, in v1.1 field names: changes-since must bring them back."""
    try:
        listed: dict[str, dict[str, Any]] = request.getfixturevalue("v2_listed")
    except TargetError:
        return []
    found = []
    for image_id, body in listed.items():
        updated = parse_time(body.get("updated_at"))
        if body.get("status") != "killed" or updated is None:
            continue
        found.append({
            "id": image_id,
            **{key: body.get(key) for key in ("name", "status", "size", "container_format", "disk_format")},
            "deleted": False,
            # v2 writes whole seconds, never later than the v1 value: safe for "updated strictly after"
            "updated_at": format_time(updated),
            "properties": custom_properties(body),
            "seen_in": "GET /v2/images",
        })
    return found


@pytest.fixture(scope="session")
def v1_observed(v1_detail_universe: Universe) -> Observed:
    """The filter values the target's own images offer (deleted and killed ones included)."""
    return DETAIL.observed(v1_detail_universe.all_entries)


@dataclass(frozen=True)
class CaseReading:
    """How the target compares filter text, decided once per run from one query of its own data."""

    case: Case
    evidence: str

    def to_dict(self) -> dict[str, str]:
        """The reading as results.json `target.endpoints.glance.v1_1_filter_case` holds it."""
        return {"reading": str(self.case), "evidence": self.evidence}


def _case_probe(entries: list[dict[str, Any]]) -> tuple[str, str, dict[str, Any]] | None:
    """(field, value, image) to ask with the case swapped: ASCII with letters, no image carrying the swapped value."""
    for field in CASE_PROBE_FIELDS:
        values = {e.get(field) for e in entries}
        for entry in sorted(entries, key=lambda e: str(e.get(field))):
            value = entry.get(field)
            # ASCII without ':' keeps the probe clear of database quirks and of Glance's filter operators
            if (isinstance(value, str) and value.isascii() and ":" not in value and swapped(value) != value
                    and swapped(value) not in values):
                return field, value, entry
    return None


def read_filter_case(glance: GlanceClient, universe: Universe) -> CaseReading:
    """Ask for one listed value with its case swapped: its image returned means the target ignores case."""
    probe = _case_probe(universe.visible.entries)
    if probe is None:
        return CaseReading(Case.SENSITIVE, "no listed value has letters to swap; judged case-sensitive (upstream's "
                                           "\"exact match\" read literally)")
    field, value, entry = probe
    walk = walk_detail(glance, {field: swapped(value)})
    asked = f"GET /v1.1/images/detail?{urlencode({field: _bounded(swapped(value))})}"
    image = f"{_bounded(str(entry.get('id')))} ({field} {_bounded(value)!r})"
    if walk.problem:
        return CaseReading(Case.SENSITIVE, f"{asked}: {walk.problem}; judged case-sensitive")
    if entry.get("id") in walk.ids:
        return CaseReading(Case.INSENSITIVE, f"{asked} returned {image}")
    return CaseReading(Case.SENSITIVE, f"{asked} did not return {image}")


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_PROBE_TEXT else clip(text, MAX_PROBE_TEXT) + "…"


@pytest.fixture(scope="session")
def v1_filter_case(v1_detail_universe: Universe, glance: GlanceClient, run_state: RunState) -> Case:
    """The one reading of filter text every v1.1 filter test judges by, recorded in results.json and report.html."""
    reading = read_filter_case(glance, v1_detail_universe)
    run_state.targets.glance_record().v1_1_filter_case = reading.to_dict()
    return reading.case

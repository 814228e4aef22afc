"""Write-mode judgement: what the target answers about the images this run wrote, against what was written."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from typing import Any

import pytest

from conformance.glance.v1_1_filters import DETAIL
from conformance.glance.v1_headers import Headed
from conformance.glance.walks import Walk
from conformance.glance.write_mode import WrittenImage, WrittenSet, ground_truth_problems
from conformance.listing.domains import TIME
from conformance.listing.judging import describe, matches_filter
from conformance.listing.table import Filter, Query
from conformance.listing.text import Case
from conformance.targets.errors import TargetError
from conformance.targets.glance import JSON, GlanceClient
from conformance.targets.http import BodyNotJSON, BodyTooComplex, HttpResponse
from conformance.timestamps import format_time, parse_time

READ_ONLY = ("write mode is off: run with --allow-writes to judge against images the run created "
             "(known ids, one deleted)")
CORE_FIELDS = frozenset({"id", "name", "disk_format", "container_format", "visibility", "protected", "min_ram",
                         "min_disk", "tags", "status", "size", "checksum", "os_hidden"})
SINCE_MARGIN = datetime.timedelta(seconds=1)  # v2 timestamps may drop the fraction; start a second earlier


def written_set(written_images: WrittenSet | None) -> WrittenSet:
    """The run's written images; the test is skipped (naming --allow-writes) when write mode is off."""
    __tracebackhide__ = True
    if written_images is None:
        pytest.skip(READ_ONLY)
    return written_images


def written_properties(image: WrittenImage) -> dict[str, str]:
    """The custom properties the run wrote on `image` (the run id included)."""
    return {key: value for key, value in image.expected.items() if key not in CORE_FIELDS}


def show_problems(image: WrittenImage, response: HttpResponse, unused: Collection[str] = ()) -> list[str]:
    """How showing a live written image differs from what was written (`unused` fields aside); empty when it agrees."""
    label = f"{image.id} ({image.fixture.name})"
    if response.status != 200:
        return [f"{label}: answered {response.status}, documented 200 for the image this run created"]
    try:
        body = response.json()
    except BodyTooComplex as exc:
        return [f"{label}: {exc}"]
    except BodyNotJSON:
        return [f"{label}: the body is not JSON"]
    if not isinstance(body, dict):
        return [f"{label}: the body is not a JSON object"]
    return ground_truth_problems(image, body, unused)


def deleted_show_problems(image: WrittenImage, response: HttpResponse) -> list[str]:
    """Showing an image the run deleted must answer 404 (v2 shows no deleted image, to admins neither)."""
    if response.status == 404:
        return []
    return [f"{image.id} ({image.fixture.name}, deleted by this run): answered {response.status}, documented 404"]


def _header_value(value: Any) -> str:
    return str(value) if not isinstance(value, bool) else ("True" if value else "False")


def head_problems(image: WrittenImage, head: Headed, fields: tuple[str, ...]) -> list[str]:
    """How the X-Image-Meta-<field> headers of `fields` differ from what was written on a live image."""
    label = f"{image.id} ({image.fixture.name})"
    if head.response.status != 200:
        return [f"{label}: answered {head.response.status}, documented 200 for the image this run created"]
    problems = []
    for name in fields:
        want, sent = image.expected.get(name), head.meta.get(name)
        if want is None:
            continue  # upstream leaves out a null field
        if sent is None or not _same(sent, want):
            problems.append(f"{label}: X-Image-Meta-{name.capitalize()} {sent if sent is not None else '<absent>'!r}, "
                            f"written {_header_value(want)!r}")
    return problems


def head_property_problems(image: WrittenImage, head: Headed) -> list[str]:
    """How the X-Image-Meta-Property-* headers differ from the custom properties written on a live image."""
    if head.response.status != 200:
        return []  # judged by head_problems
    problems = []
    for key, want in written_properties(image).items():
        sent = head.properties.get(key.lower())  # header names are case-insensitive; upstream lower-cases them
        if sent != want:
            problems.append(f"{image.id} ({image.fixture.name}): X-Image-Meta-Property-{key} "
                            f"{sent if sent is not None else '<absent>'!r}, written {want!r}")
    return problems


def _same(header: str, want: Any) -> bool:
    if isinstance(want, bool):
        return header.strip().lower() == str(want).lower()
    if isinstance(want, int):
        return header.strip() == str(want)
    if isinstance(want, str) and len(want) == 32 and want.isalnum():
        return header.lower() == want  # a digest; CHECKSUM-FORMAT judges its case
    return header == want


def deleted_head_problems(image: WrittenImage, head: Headed) -> list[str]:
    """HEAD of an image the run deleted: 404 (non-admin), or 200 marking it deleted (upstream to an admin)."""
    label = f"{image.id} ({image.fixture.name}, deleted by this run)"
    status = head.response.status
    if status == 404:
        return []
    if status != 200:
        return [f"{label}: answered {status}, documented 404 (or 200 with X-Image-Meta-Deleted: True, as to an admin)"]
    deleted, state = head.meta.get("deleted"), head.meta.get("status")
    if (deleted or "").strip().lower() != "true" or state != "deleted":
        return [f"{label}: answered 200 with X-Image-Meta-Deleted {deleted!r} and Status {state!r}; documented 404, "
                "or 200 with Deleted True and Status deleted"]
    return []


def v1_entry(image: WrittenImage, *, deleted: bool) -> dict[str, Any]:
    """What the v1.1 detail listing must say of a written image, as far as the filters of its table look."""
    expected = image.expected
    return {
        **{row.field: expected.get(row.field) for row in DETAIL.filters}, "id": image.id,
        "status": "deleted" if deleted else expected["status"], "deleted": deleted,
        "properties": written_properties(image),
        "updated_at": image.created_at,  # a lower bound: updated no earlier than created
    }


def changes_since(written: WrittenSet) -> str | None:
    """A changes-since just before the run created its first image (the target's clock); None when unknown."""
    created = [parse_time(i.created_at) for i in [*written.images, *written.deleted]]
    known = [moment for moment in created if moment is not None]
    if not known or len(known) != len(created):
        return None
    return format_time(min(known) - SINCE_MARGIN)


def filter_queries(row: Filter, written: WrittenSet) -> list[Query]:
    """One-filter queries of the table row `row`, one per distinct value the run wrote; a moment filter asks from
    just before the first creation (the written timestamps are lower bounds: only "since before them all" is sure)."""
    if row.domain is TIME:
        since = changes_since(written)
        return [{row.name: since}] if since is not None else []
    wrote = [v1_entry(image, deleted=False) for image in [*written.images, *written.deleted]]
    return row.exact_queries(row.observe(wrote))


def selection_problems(walk: Walk, query: Query, written: WrittenSet, case: Case) -> list[str]:
    """How one filtered walk fails the written images: one it should hold is missing, or one it should not is there.

    A deleted image is judged only with changes-since, which must return it marked deleted. Completeness is judged
    only for a walk that ended (a walk cut at its page cap may not have reached the image).
    """
    returned = {str(e.get("id")): e for e in walk.entries}
    lines = []
    for image, deleted in [*((i, False) for i in written.images), *((i, True) for i in written.deleted)]:
        entry = v1_entry(image, deleted=deleted)
        belongs = all(matches_filter(DETAIL, entry, param, value, case) for param, value in query.items())
        if deleted and not DETAIL.reveals(query):
            continue  # the hidden-image rule is HIDES-DELETED's concern
        got = returned.get(image.id)
        if belongs and got is None and not walk.truncated:
            state = "deleted by this run" if deleted else "written by this run"
            lines.append(f"did not return {describe(DETAIL, entry, query)}, {state}")
        elif not belongs and got is not None:
            lines.append(f"returned {describe(DETAIL, entry, query)}, {'deleted' if deleted else 'written'} by this "
                         "run, which does not belong in this answer")
        elif deleted and got is not None and got.get("deleted") is not True and got.get("status") != "deleted":
            lines.append(f"returned {image.id}, deleted by this run, as deleted {got.get('deleted')!r} status "
                         f"{got.get('status')!r}")
    return lines


def hidden_problems(walk: Walk, written: WrittenSet) -> list[str]:
    """One line per image the run deleted that a listing without changes-since returned."""
    returned = set(walk.ids)
    return [f"listed {image.id} ({image.fixture.name}), deleted by this run, without changes-since"
            for image in written.deleted if image.id in returned]


def private_images(written: WrittenSet) -> list[WrittenImage]:
    """The live images the run wrote private: another project must not see them."""
    return [image for image in written.images if image.fixture.visibility == "private"]


def other_project_problems(image: WrittenImage, response: HttpResponse, operation: str, *, vendor: bool) -> list[str]:
    """A second project asking for a private image of the run's project must answer 404 (upstream hides that it
    exists), or under the vendor's reading 403 or 404 (seeds 001 and 003 list both)."""
    allowed = (403, 404) if vendor else (404,)
    if response.status in allowed:
        return []
    documented = " or ".join(str(status) for status in allowed)
    return [f"{image.id} ({image.fixture.name}, private to the run's project): {operation} with the second project's "
            f"token answered {response.status}, documented {documented}"]


def check_other_token(other: GlanceClient, response: HttpResponse) -> None:
    """TargetError when a 401 to the second project's token is the target refusing that token for everything."""
    if response.status != 401:
        return
    listing = other.http.request("GET", "/v2/images", params={"limit": 1}, headers=JSON)
    if listing.status == 401:
        raise TargetError("the target refuses the second project's token (--other-token): GET /v2/images answered "
                          "401 to it too")

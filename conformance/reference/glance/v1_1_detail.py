"""Glance v1.1 GET /v1/images/detail: filters, sort, marker and limit over the catalogue, entries as in the seed.

The filters are the reference's own (v1_1_filters.py), written independently of the suite's filter table on purpose,
so that the two act as each other's oracle.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from werkzeug.wrappers import Request, Response

from conformance.reference.glance import faults as F
from conformance.reference.glance import paging
from conformance.reference.glance import seed_faults as S
from conformance.reference.glance import v1_1_filters as filters
from conformance.reference.glance.images import IMAGES_BY_ID, Image, format_v1_time, image_by_key
from conformance.reference.glance.responses import WSGIApp, error
from conformance.reference.glance.state import INDEXED_FIELDS, AppState

Predicate = Callable[[Image], bool]

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
_SIZE_LOST = image_by_key("coreos").id  # the image F.V1_1_DETAIL_ACTIVE_SIZE_NULL takes the size of


def detail(state: AppState, request: Request) -> WSGIApp:
    """GET /v1/images/detail: one page of entries, or 400 on a parameter the API rejects."""
    try:
        page = _page(state, request.args)
    except paging.BadRequest as exc:
        if exc.param == "size_min" and F.V1_1_DETAIL_SIZE_MIN_500 in state.faults:
            return error(request, 500, "Internal server error.")
        return error(request, 400, str(exc))
    text = json.dumps({"images": [_entry(state, image) for image in page]}, ensure_ascii=False)
    if F.V1_1_DETAIL_NONE_LITERAL in state.faults:
        text = text.replace('"deleted_at": null', '"deleted_at": none')
    return Response(text, status=200, content_type="application/json; charset=UTF-8")


def _page(state: AppState, args: Mapping[str, str]) -> list[Image]:
    """The images of one detail page: filtered, sorted, cut at the marker and limit; BadRequest on bad input."""
    faults = state.faults
    if F.V1_1_DETAIL_DOCUMENTED_FILTERS_ONLY in faults:
        return _documented_only(state, args)
    predicates = filters.predicates(state, args)  # BadRequest first, as upstream validates before it lists
    show_hidden = "changes-since" in args and filters.FILTER_CHANGES_SINCE_HIDES_DELETED not in faults
    show_hidden = show_hidden or F.V1_1_DETAIL_SHOWS_DELETED in faults
    if not faults:
        return _indexed_page(state, args, predicates, show_hidden)
    candidates = [i for i in state.store.all() if show_hidden or not (i.deleted or i.status == "killed")]
    if F.V1_1_DETAIL_CHANGES_SINCE_DROPS_NEW_DELETED in faults:  # deleted through the API, not in the catalogue
        candidates = [i for i in candidates if not (i.deleted and i.id not in IMAGES_BY_ID)]
    if F.V1_1_DETAIL_ACTIVE_SIZE_NULL in faults:  # the record itself loses its size, so filters agree with entries
        candidates = [replace(i, size=None) if i.id == _SIZE_LOST else i for i in candidates]
    if F.V1_1_DETAIL_ONLY_FIRST_FILTER in faults:
        predicates = predicates[:1]
    if F.V1_1_DETAIL_FILTERS_ANY in faults and predicates:
        matching = [image for image in candidates if any(test(image) for test in predicates)]
    else:
        matching = [image for image in candidates if all(test(image) for test in predicates)]
    if F.V1_1_DETAIL_COMBINED_DROPS_ONE in faults and len(predicates) >= 2 and matching:
        matching = matching[:-1]

    sort_key, sort_dir = _sort(args, bad_key_200=F.V1_1_DETAIL_BAD_SORT_KEY_200 in faults)
    ordered = sorted(matching, key=paging.sort_value(sort_key), reverse=sort_dir == "desc")
    if S.V1_1_DETAIL_LAST_IMAGE_LOST in faults and ordered and not filters.filtered(args):
        ordered = ordered[:-1]

    limit = paging.limit(args)
    start = paging.start_after(ordered, args.get("marker"))
    if "marker" in args and F.V1_1_DETAIL_PAGINATION_SKIPS in faults:
        start += 1
    if F.V1_1_DETAIL_LIMIT_IGNORED in faults:
        return ordered[start:]
    return ordered[start : start + limit]


def _indexed_page(state: AppState, args: Mapping[str, str], predicates: list[Predicate],
                  show_hidden: bool) -> list[Image]:
    """`_page` without faults, over the store's kept sort order: a page costs what it scans, not a sort."""
    sort_key, sort_dir = _sort(args, bad_key_200=False)
    limit = paging.limit(args)
    ordered, position = state.store.ordered(sort_key, sort_dir == "desc")

    def listed(image: Image) -> bool:
        return (show_hidden or not (image.deleted or image.status == "killed")) and all(t(image) for t in predicates)

    marker = args.get("marker")
    start = 0
    if marker is not None:
        if marker not in position or not listed(ordered[position[marker]]):
            raise paging.bad_marker(marker)
        start = position[marker] + 1
    narrowed = _narrowed(state, args)
    if narrowed is None:
        indexes: Iterable[int] = range(start, len(ordered))
    else:  # only the images an exact filter allows, in the listing's order
        indexes = sorted(i for i in (position[image_id] for image_id in narrowed) if i >= start)
    page: list[Image] = []
    for index in indexes:
        if len(page) == limit:
            break
        if listed(ordered[index]):
            page.append(ordered[index])
    return page


def _narrowed(state: AppState, args: Mapping[str, str]) -> list[str] | None:
    """The ids the most selective exact filter of `args` allows (every filter is still applied to them), or None
    when no filter narrows through the store's index (or text is compared ignoring case)."""
    if state.case_insensitive:
        return None
    index = state.store.index()
    chosen: list[str] | None = None
    for param, value in args.items():
        if param in INDEXED_FIELDS or param.startswith("property-"):
            ids = index.get((param, value), [])
            if chosen is None or len(ids) < len(chosen):
                chosen = ids
    return chosen


def _sort(args: Mapping[str, str], *, bad_key_200: bool) -> tuple[str, str]:
    """(sort_key, sort_dir) of the query; BadRequest on a value the API rejects (an unknown key: 200 with the fault)."""
    sort_key = args.get("sort_key", "created_at")
    if sort_key not in SORT_KEYS:
        if not bad_key_200:
            raise paging.BadRequest("sort_key", f"sort_key must be one of {', '.join(SORT_KEYS)}, got {sort_key!r}")
        sort_key = "created_at"
    sort_dir = args.get("sort_dir", "desc")
    if sort_dir not in SORT_DIRS:
        raise paging.BadRequest("sort_dir", f"sort_dir must be asc or desc, got {sort_dir!r}")
    return sort_key, sort_dir


def _documented_only(state: AppState, args: Mapping[str, str]) -> list[Image]:
    """Seed 004's seven filters and nothing else: no paging, no sorting, no property-*, invalid values ignored (200)."""
    shown = [i for i in state.store.all() if "changes-since" in args or not (i.deleted or i.status == "killed")]
    tests = filters.documented_predicates(state, args)
    return [image for image in shown if all(test(image) for test in tests)]


def _entry(state: AppState, image: Image) -> dict[str, Any]:
    """The v1.1 detail entry of `image`, fields in the seed's order."""
    properties: Any = dict(image.properties)
    if F.V1_1_DETAIL_PROPERTIES_LIST in state.faults:
        properties = [[key, value] for key, value in sorted(image.properties.items())]
    entry: dict[str, Any] = {
        "status": image.status,
        "virtual_size": image.virtual_size,
        "name": image.name,
        "deleted": image.deleted,
        "container_format": image.container_format,
        "created_at": format_v1_time(image.created_at),
        "disk_format": image.disk_format,
        "updated_at": format_v1_time(image.updated_at),
        "properties": properties,
        "owner": image.owner,
        "protected": image.protected,
        "min_ram": image.min_ram,
        "checksum": None if image.status == "active" and F.V1_1_DETAIL_ACTIVE_CHECKSUM_NULL in state.faults
        else image.checksum,
        "min_disk": image.min_disk,
        "is_public": S.is_public(state.faults, image),
        "deleted_at": None if image.deleted_at is None else format_v1_time(image.deleted_at),
        "id": image.id,
        "size": image.size,
    }
    if F.V1_1_DETAIL_MISSING_FIELD in state.faults:
        del entry["protected"]
    return entry

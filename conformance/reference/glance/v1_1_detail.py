"""Glance v1.1 GET /v1/images/detail: filters, sort, marker and limit over the catalogue, entries as in the seed.

The filter engine here is the reference's own: it re-implements the documented filter rules independently of
the suite's filter model (conformance/glance/filters.py) on purpose, so the two act as each other's oracle.
Text filters compare exactly, or ignoring letter case when the app is started with `case_insensitive` (as upstream
Glance does on MySQL/MariaDB); both readings are correct.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from conformance.reference.fault import Fault
from conformance.reference.glance import faults as F
from conformance.reference.glance import paging
from conformance.reference.glance.images import IMAGES_BY_ID, Image, format_v1_time, image_by_key
from conformance.reference.glance.probe import HttpProbe
from conformance.reference.glance.responses import WSGIApp, clip, error
from conformance.reference.glance.state import INDEXED_FIELDS, AppState

Predicate = Callable[[Image], bool]

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
_ISO_8601 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6})[0-9]*)?)?)?"
    r"(?P<zone>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?",
    re.IGNORECASE,
)
_SIZE_LOST = image_by_key("coreos").id  # the image F.V1_1_DETAIL_ACTIVE_SIZE_NULL takes the size of
# The exact-match filters, each with the fault that switches it off.
_EXACT_FILTERS: dict[str, Fault[HttpProbe]] = {
    "container_format": F.V1_1_DETAIL_FILTER_CONTAINER_FORMAT_IGNORED,
    "disk_format": F.V1_1_DETAIL_FILTER_DISK_FORMAT_IGNORED,
    "status": F.V1_1_DETAIL_FILTER_STATUS_IGNORED,
}


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
    since = _parse_time(args["changes-since"]) if "changes-since" in args else None
    show_hidden = since is not None and F.V1_1_DETAIL_FILTER_CHANGES_SINCE_HIDES_DELETED not in faults
    show_hidden = show_hidden or F.V1_1_DETAIL_SHOWS_DELETED in faults
    if not faults:
        return _indexed_page(state, args, _filters(state, args, since), show_hidden)
    candidates = [i for i in state.store.all() if show_hidden or not (i.deleted or i.status == "killed")]
    if F.V1_1_DETAIL_CHANGES_SINCE_DROPS_NEW_DELETED in faults:  # deleted through the API, not in the catalogue
        candidates = [i for i in candidates if not (i.deleted and i.id not in IMAGES_BY_ID)]
    if F.V1_1_DETAIL_ACTIVE_SIZE_NULL in faults:  # the record itself loses its size, so filters agree with entries
        candidates = [replace(i, size=None) if i.id == _SIZE_LOST else i for i in candidates]
    predicates = _filters(state, args, since)
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


def _filters(state: AppState, args: Mapping[str, str], since: datetime | None) -> list[Predicate]:
    """One predicate per filter in `args`; BadRequest on a value the API rejects."""
    faults = state.faults
    tests: list[Predicate] = []
    same = _text_comparison(state)
    if "name" in args:
        name = args["name"]
        if F.V1_1_DETAIL_FILTER_NAME_SUBSTRING in faults:
            tests.append(lambda i: name in i.name)
        elif F.V1_1_DETAIL_CASE_NAMES_ONLY in faults:
            tests.append(lambda i: i.name.casefold() == name.casefold())
        else:
            tests.append(lambda i: same(i.name, name))
    for field, fault in _EXACT_FILTERS.items():
        if field in args and fault not in faults:
            tests.append(_text_is(field, args[field], same))
    size_min = paging.count(args, "size_min")
    if size_min is not None:
        if F.V1_1_DETAIL_FILTER_SIZE_MIN_EXCLUSIVE in faults:
            tests.append(lambda i: i.size is not None and i.size > size_min)
        else:
            tests.append(lambda i: i.size is not None and i.size >= size_min)
    size_max = paging.count(args, "size_max")
    if size_max is not None:
        if F.V1_1_DETAIL_FILTER_SIZE_MAX_EXCLUSIVE in faults:
            tests.append(lambda i: i.size is not None and i.size < size_max)
        else:
            tests.append(lambda i: i.size is not None and i.size <= size_max)
    if since is not None:
        if F.V1_1_DETAIL_FILTER_CHANGES_SINCE_INCLUSIVE in faults:
            tests.append(lambda i: i.updated_at >= since)
        else:
            tests.append(lambda i: i.updated_at > since)
    for field in ("min_ram", "min_disk"):
        number = paging.count(args, field)
        if number is not None:
            tests.append(_attribute_is(field, number))
    for field in ("is_public", "protected"):
        if field in args:
            tests.append(_attribute_is(field, _boolean(args, field)))
    if F.V1_1_DETAIL_FILTER_PROPERTY_IGNORED not in faults:
        for param, value in args.items():
            if param.startswith("property-"):
                tests.append(_property_is(param.removeprefix("property-"), value, same))
    return tests


def _documented_only(state: AppState, args: Mapping[str, str]) -> list[Image]:
    """Seed 004's seven filters and nothing else: no paging, no sorting, no property-*, invalid values ignored (200)."""
    same = _text_comparison(state)
    try:
        since = _parse_time(args["changes-since"]) if "changes-since" in args else None
    except paging.BadRequest:
        since = None
    shown = [i for i in state.store.all() if "changes-since" in args or not (i.deleted or i.status == "killed")]
    tests: list[Predicate] = [_text_is(field, args[field], same)
                              for field in ("name", "container_format", "disk_format", "status") if field in args]
    bounds: dict[str, int | None] = {}
    for param in ("size_min", "size_max"):
        try:
            bounds[param] = paging.count(args, param)
        except paging.BadRequest:
            bounds[param] = None
    low, high = bounds["size_min"], bounds["size_max"]
    if low is not None:
        tests.append(lambda i: i.size is not None and i.size >= low)
    if high is not None:
        tests.append(lambda i: i.size is not None and i.size <= high)
    if since is not None:
        tests.append(lambda i: i.updated_at > since)
    return [image for image in shown if all(test(image) for test in tests)]


def _text_comparison(state: AppState) -> Callable[[str | None, str], bool]:
    """Exact comparison, or one that ignores letter case when the app was started that way."""
    if state.case_insensitive:
        return lambda text, value: text is not None and _lower_each(text) == _lower_each(value)
    return lambda text, value: text == value


def _lower_each(text: str) -> str:
    """Each character lowered on its own, as a database collation compares (ß is not ss)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


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
        "is_public": image.is_public,
        "deleted_at": None if image.deleted_at is None else format_v1_time(image.deleted_at),
        "id": image.id,
        "size": image.size,
    }
    if F.V1_1_DETAIL_MISSING_FIELD in state.faults:
        del entry["protected"]
    return entry


def _boolean(args: Mapping[str, str], param: str) -> bool:
    raw = args[param].lower()
    if raw not in ("true", "false"):
        raise paging.BadRequest(param, f"{param} must be true or false, got {clip(args[param])!r}")
    return raw == "true"


def _parse_time(raw: str) -> datetime:
    """An ISO 8601 timestamp (zone and fraction optional, UTC when no zone); BadRequest when unparsable."""
    match = _ISO_8601.fullmatch(raw.strip())
    try:
        if match is None:
            raise ValueError(raw)
        parts = match.groupdict()
        year, month, day = (int(p) for p in parts["date"].split("-"))
        zone = timezone.utc
        if parts["zone"] and parts["zone"].upper() != "Z":
            digits = parts["zone"][1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            zone = timezone(offset if parts["zone"][0] == "+" else -offset)
        return datetime(
            year, month, day, int(parts["hour"] or 0), int(parts["minute"] or 0), int(parts["second"] or 0),
            int((parts["fraction"] or "0").ljust(6, "0")), tzinfo=zone,
        ).astimezone(timezone.utc)
    except ValueError:
        raise paging.BadRequest("changes-since", f"changes-since is not an ISO 8601 timestamp: {clip(raw)!r}") from None


def _attribute_is(field: str, value: object) -> Predicate:
    return lambda image: getattr(image, field) == value


def _text_is(field: str, value: str, same: Callable[[str | None, str], bool]) -> Predicate:
    return lambda image: same(getattr(image, field), value)


def _property_is(key: str, value: str, same: Callable[[str | None, str], bool]) -> Predicate:
    return lambda image: any(same(name, key) and same(text, value) for name, text in image.properties.items())

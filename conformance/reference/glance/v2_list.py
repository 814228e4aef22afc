"""Glance v2 GET /v2/images: filters, sorting, marker and limit over the catalogue, pages linked by `next`.

Written from upstream's api-ref "List images" and glance/api/v2/images.py; the filters are v2_list_filters.py.
`next` is given while more images remain, and it and `first` carry the query as sent (every copy of a repeated
parameter).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields, replace
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from conformance.reference.glance import faults as F
from conformance.reference.glance import paging, projects
from conformance.reference.glance import v2_list_faults as L
from conformance.reference.glance import v2_list_filters as filters
from conformance.reference.glance.images import Image, format_v2_time
from conformance.reference.glance.responses import WSGIApp, clip, error, json_answer
from conformance.reference.glance.state import AppState
from conformance.reference.glance.v2_read import image_body, legacy_body
from conformance.timestamps import parse_time

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
Sort = tuple[tuple[str, str], ...]  # (key, direction), the tie-breaks created_at and id included


def listing(state: AppState, request: Request) -> WSGIApp:
    """GET /v2/images: one page of the images the query selects, or 400 on a parameter the API rejects."""
    args = request.args
    if L.MEMBER_STATUS_IGNORED in state.faults or L.BAD_VISIBILITY_200 in state.faults:
        args = _bent_args(state, args)
    try:
        if "changes-since" in args:
            raise paging.BadRequest("changes-since", 'The "changes-since" filter is no longer available on v2.')
        sort = sorting(args, first_key_only=L.FIRST_SORT_KEY_ONLY in state.faults)
        limit = paging.limit(args)
        other = projects.is_other_project(state, request)
        shown = filters.listed(state, args, projects.OTHER_PROJECT if other else None)
        tests = filters.predicates(state, args)
        ordered, position = _ordered(state, sort)
        start = _start(state, args.get("marker"), position)
    except paging.BadRequest as exc:
        return error(request, 400, str(exc))
    if L.LIMIT_IGNORED in state.faults:
        limit = len(ordered)
    if L.SHOWS_HIDDEN in state.faults and "os_hidden" not in args:
        shown = _with_hidden(shown)
    narrowed = _narrowed(state, args)
    candidates = ordered[start:] if narrowed is None else \
        [ordered[i] for i in sorted({position[x] for x in narrowed if x in position}) if i >= start]
    page, more = _page(state, candidates, shown, tests, limit)
    entries = [image_body(state, image) for image in page]
    for entry in entries:
        if L.MIN_RAM_DIFFERS in state.faults:
            entry["min_ram"] += 512
        if F.V2_SHOW_DISAGREES_WITH_LIST in state.faults:
            entry["name"] = f"{entry['name']} (listed)"
    if F.V2_SHOW_ID_NOT_UUID in state.faults and start == 0 and set(args) <= {"limit"}:
        entries.insert(0, legacy_body(state))
    body: dict[str, Any] = {"images": entries, "schema": "/v2/schemas/images", "first": _link(state, args, None)}
    if L.NO_FIRST in state.faults:
        del body["first"]
    if page and (more or L.NEXT_ON_SHORT_PAGE in state.faults):
        body["next"] = _link(state, args, page[-1].id)
    if F.V2_LIST_NEXT_OFF_ORIGIN in state.faults and not args and "next" in body:  # discovery's listing only
        port = int(request.host.rpartition(":")[2] or 80) + 1
        body["next"] = f"@127.0.0.1:{port}{body['next']}"
    mimetype = "text/plain" if L.CONTENT_TYPE_TEXT in state.faults else "application/json"
    return json_answer(body, mimetype=mimetype)


def _narrowed(state: AppState, args: MultiDict[str, str]) -> list[str] | None:
    """The ids the id or name filter allows (every filter is still applied to them), so that such a query on a large
    catalogue scans what it names; None when neither is given, on an app with faults (which change what filters
    see) or one that compares text ignoring case."""
    if state.faults or state.case_insensitive:
        return None
    chosen: list[str] | None = None
    for param in ("id", "name"):
        if param not in args:
            continue
        value = args.getlist(param)[-1]
        wanted = filters.in_values(value[3:]) if value.startswith("in:") else [value]
        index = state.store.index() if param == "name" else {}
        ids = wanted if param == "id" else [image_id for one in wanted for image_id in index.get(("name", one), [])]
        if chosen is None or len(ids) < len(chosen):
            chosen = ids
    return chosen


def _bent_args(state: AppState, args: MultiDict[str, str]) -> MultiDict[str, str]:
    """The query as the faults that ignore member_status, or an unknown visibility, read it."""
    bent = args.copy()
    if L.MEMBER_STATUS_IGNORED in state.faults and bent.get("member_status") in filters.MEMBER_STATUSES:
        bent.poplist("member_status")
    if L.BAD_VISIBILITY_200 in state.faults and bent.get("visibility") not in filters.VISIBILITIES:
        bent.poplist("visibility")
    return bent


def sorting(args: MultiDict[str, str], *, first_key_only: bool = False) -> Sort:
    """The order a query asks for (sort=key:dir,... or sort_key/sort_dir, repeatable); BadRequest when bad."""
    keys = args.getlist("sort_key")
    dirs = args.getlist("sort_dir")
    if "sort" in args:
        if keys or dirs:
            raise paging.BadRequest("sort", "sort cannot be combined with sort_key or sort_dir")
        pairs = []
        for part in args["sort"].split(","):
            key, _, direction = part.strip().partition(":")
            pairs.append((key.strip(), direction.strip() or "desc"))
    else:
        keys = keys or ["created_at"]
        if len(dirs) not in (0, 1, len(keys)):
            raise paging.BadRequest("sort_dir", f"{len(dirs)} sort_dir for {len(keys)} sort_key")
        dirs = dirs * len(keys) if len(dirs) == 1 else dirs or ["desc"] * len(keys)
        pairs = list(zip(keys, dirs, strict=True))
    for key, direction in pairs:
        if key not in SORT_KEYS:
            raise paging.BadRequest("sort_key", f"sort key must be one of {', '.join(SORT_KEYS)}, got {clip(key)!r}")
        if direction not in SORT_DIRS:
            raise paging.BadRequest("sort_dir", f"sort direction must be asc or desc, got {clip(direction)!r}")
    if first_key_only:
        pairs = pairs[:1]
    default = dirs[0] if len(dirs) == 1 else "desc"
    used = {key for key, _ in pairs}
    return (*pairs, *((key, default) for key in ("created_at", "id") if key not in used))


def _ordered(state: AppState, sort: Sort) -> tuple[list[Image], dict[str, int]]:
    """The live images in `sort`'s order and each id's index there (the default order kept by the store)."""
    if L.DEFAULT_ORDER_ASC in state.faults and sort == (("created_at", "desc"), ("id", "desc")):
        sort = (("created_at", "asc"), ("id", "asc"))
    if sort == (("created_at", "desc"), ("id", "desc")):
        return state.store.ordered("created_at", True, live=True)
    return state.store.kept(("v2 list", sort), lambda images: _sorted(images.values(), sort))


def _sorted(images: Iterable[Image], sort: Sort) -> tuple[list[Image], dict[str, int]]:
    """The live images in `sort`'s order, and each id's index there."""
    ordered = [image for image in images if not image.deleted]
    for key, direction in reversed(sort):  # stable sorts, the last key first
        ordered.sort(key=_value(key), reverse=direction == "desc")
    return ordered, {image.id: index for index, image in enumerate(ordered)}


def _value(key: str) -> Callable[[Image], tuple[bool, Any]]:
    """A sort key on `key`, images without the value first (as SQL orders NULL ascending)."""
    def value(image: Image) -> tuple[bool, Any]:
        field = getattr(image, key)
        return field is not None, field if field is not None else 0
    return value


def _start(state: AppState, marker: str | None, position: dict[str, int]) -> int:
    """Where the page starts: just after the marker (a live image), or at the top; BadRequest on another marker."""
    if marker is None:
        return 0
    if marker not in position:
        raise paging.bad_marker(marker)
    return position[marker] + (2 if L.MARKER_SKIPS in state.faults else 1)


def _page(state: AppState, ordered: list[Image], shown: Callable[[Image], bool], tests: list[Callable[[Image], bool]],
          limit: int) -> tuple[list[Image], bool]:
    """Up to `limit` images of `ordered` the query selects, and whether more remain after them."""
    faults = state.faults
    if L.ONLY_FIRST_FILTER in faults:
        tests = tests[:1]
    combine = any if L.FILTERS_ANY in faults and tests else all
    page: list[Image] = []
    for image in ordered:
        if not shown(image):
            continue
        # a faulty body is what the client sees: its filters select on that, so that they agree with the entries
        seen = shown_as(state, image) if faults else image
        if not combine(_holds(test, seen) for test in tests):
            continue
        if len(page) == limit:
            return page, True
        page.append(image)
    if L.COMBINED_DROPS_ONE in faults and len(tests) >= 2 and page:
        page.pop()
    return page, False


def _with_hidden(shown: Callable[[Image], bool]) -> Callable[[Image], bool]:
    """L.SHOWS_HIDDEN: hidden images listed as if they were not."""
    return lambda image: shown(replace(image, os_hidden=False))


def _holds(test: Callable[[Any], bool], image: Any) -> bool:
    try:
        return test(image)
    except (TypeError, AttributeError, ValueError):  # a field a fault mistyped matches nothing
        return False


def shown_as(state: AppState, image: Image) -> Image:
    """`image` as its v2 body shows it (the faults that change bodies applied), for filters to select on."""
    body = image_body(state, image)
    core = {f.name for f in fields(Image)}
    changes = {name: body[name] for name in core & set(body) if name not in ("created_at", "updated_at", "tags")}
    for name in ("created_at", "updated_at"):  # a time no fault changed keeps its microseconds
        moment = parse_time(body.get(name))
        unchanged = body.get(name) == format_v2_time(getattr(image, name))
        changes[name] = moment if moment is not None and not unchanged else getattr(image, name)
    changes["tags"] = tuple(body["tags"]) if isinstance(body.get("tags"), list) else ()
    changes["properties"] = {k: v for k, v in body.items() if k not in core and k not in _LINKS}
    return replace(image, **changes)


_LINKS = ("self", "file", "schema", "os_hidden")


def _link(state: AppState, args: MultiDict[str, str], marker: str | None) -> str:
    """`/v2/images` with the query as sent (the marker replaced by `marker`, or dropped)."""
    pairs = [(key, value) for key, value in args.items(multi=True) if key != "marker"]
    if L.LINKS_DROP_REPEATS in state.faults:
        pairs = list(dict(pairs).items())
    if marker is not None:
        pairs.append(("marker", marker))
    return f"/v2/images?{urlencode(pairs)}" if pairs else "/v2/images"

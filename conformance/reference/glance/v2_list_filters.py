"""The reference's own v2 list filters: one row per parameter served, with the faults that bend its rule.

Written from the documents (upstream api-ref "List images", glance/api/v2/images.py), independently of the suite's
table (conformance/glance/v2_list_filters.py), so that the two act as each other's oracle. A filter fault is
declared beside the rule it bends and names the requirement it breaks.
A value `in:<a>,"<b, c>"` selects any of the listed values (a value holding a comma is quoted); any other value,
`:` included, is matched whole. `created_at` and `updated_at` take `<op>:<ISO 8601>`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from werkzeug.datastructures import MultiDict

from conformance.reference.fault import Fault
from conformance.reference.glance import paging
from conformance.reference.glance.images import Image, image_by_key
from conformance.reference.glance.probe import HttpProbe
from conformance.reference.glance.responses import clip
from conformance.reference.glance.state import AppState
from conformance.reference.glance.v1_1_filters import Same, changes_since, text_comparison

Predicate = Callable[[Image], bool]
Rule = Callable[[str, Sequence[str], Same], Predicate]  # (parameter, its values, text comparison) -> selection

V2_LIST = "glance.v2.list"
_REQ = "GLANCE-V2-LIST-FILTER-"
_Fault = Fault[HttpProbe]
_COREOS = image_by_key("coreos")
_CIRROS = image_by_key("cirros")
_IN_VALUES = re.compile(r'"((?:[^"\\]|\\.)*)",?|([^,]+),?|,')
TIME_OPERATORS = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "eq": lambda a, b: a == b,
                  "neq": lambda a, b: a != b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}
BOOLEANS = {"true": True, "false": False}
VISIBILITIES = ("public", "private", "shared", "community", "all")
MEMBER_STATUSES = ("accepted", "pending", "rejected", "all")
# Parameters that are not filters on a field of the image (the listing reads them itself).
LISTING_PARAMS = ("limit", "marker", "sort", "sort_key", "sort_dir", "visibility", "member_status", "os_hidden")


def _entries(http: HttpProbe, query: str) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = http.get(f"/v2/images?limit=1000&{query}").json()["images"]
    return entries


def _ignored(param: str) -> str:
    return f"The {param} filter of the v2 list is ignored."


def _fault(name: str, requirement: str, description: str, probe: Callable[[HttpProbe], bool],
           also: tuple[str, ...] = (f"{_REQ}SOUND",)) -> _Fault:
    return _Fault(f"v2-list-filter-{name}", V2_LIST, _REQ + requirement, description, also_breaks=also, probe=probe)


def _any_other(field: str, value: object, query: str) -> Callable[[HttpProbe], bool]:
    return lambda http: any(entry.get(field) != value for entry in _entries(http, query))


NAME_PREFIX = _fault("name-prefix", "NAME", "The name filter matches every name that starts with the value.",
                     lambda http: len(_entries(http, "name=cirros")) > 1)
ID_IN_FIRST_ONLY = _fault("id-in-first-only", "ID", "id=in:a,b selects only the first id listed.",
                          lambda http: len(_entries(http, f"id=in:{_CIRROS.id},{_COREOS.id}")) == 1,
                          also=(f"{_REQ}COMPLETE",))
OWNER_IGNORED = _fault("owner-ignored", "OWNER", _ignored("owner"),
                       _any_other("owner", _CIRROS.owner, f"owner={_CIRROS.owner}"))
PROTECTED_INVERTED = _fault("protected-inverted", "PROTECTED", "protected=true selects the unprotected images.",
                            _any_other("protected", True, "protected=true"), also=(f"{_REQ}SOUND", f"{_REQ}COMPLETE"))
STATUS_IGNORED = _fault("status-ignored", "STATUS", _ignored("status"), _any_other("status", "queued", "status=queued"))
CONTAINER_FORMAT_IGNORED = _fault("container-format-ignored", "CONTAINER-FORMAT", _ignored("container_format"),
                                  _any_other("container_format", "ovf", "container_format=ovf"))
DISK_FORMAT_IGNORED = _fault("disk-format-ignored", "DISK-FORMAT", _ignored("disk_format"),
                             _any_other("disk_format", "vhd", "disk_format=vhd"))
TAG_IGNORED = _fault("tag-ignored", "TAG", _ignored("tag"),
                     lambda http: any("lts" not in entry["tags"] for entry in _entries(http, "tag=lts")),  # type: ignore[operator]
                     also=(f"{_REQ}SOUND", "GLANCE-V2-LIST-TAGS-ALL"))
SIZE_MIN_EXCLUSIVE = _fault("size-min-exclusive", "SIZE-MIN", "size_min keeps sizes strictly greater than the value.",
                            lambda http: not _entries(http, f"size_min={_COREOS.size}&name={quote(_COREOS.name)}"),
                            also=(f"{_REQ}COMPLETE",))
SIZE_MAX_EXCLUSIVE = _fault("size-max-exclusive", "SIZE-MAX", "size_max keeps sizes strictly less than the value.",
                            lambda http: not _entries(http, f"size_max={_COREOS.size}&name={quote(_COREOS.name)}"),
                            also=(f"{_REQ}COMPLETE",))
CREATED_AT_ANY_AS_GTE = _fault(
    "created-at-any-as-gte", "CREATED-AT",
    "created_at reads every operator as gte (lt:<t> lists images created after t).",
    lambda http: len(_entries(http, "created_at=lt:2000-01-01T00:00:00Z")) > 0,
    also=(f"{_REQ}SOUND", f"{_REQ}COMPLETE"))
UPDATED_AT_IGNORED = _fault("updated-at-ignored", "UPDATED-AT", _ignored("updated_at"),
                            lambda http: len(_entries(http, "updated_at=lt:2000-01-01T00:00:00Z")) > 0)
PROPERTY_IGNORED = _fault("property-ignored", "PROPERTY",
                          "Filters on extra properties (?__os_type=Windows) are ignored.",
                          _any_other("__os_type", "Windows", "__os_type=Windows"))
VISIBILITY_IGNORED = _fault("visibility-ignored", "VISIBILITY",
                            "visibility=public|private|shared lists every visibility (all and community still work).",
                            _any_other("visibility", "public", "visibility=public"),
                            also=(f"{_REQ}SOUND", "GLANCE-V2-LIST-MEMBER-STATUS"))
OS_HIDDEN_INVERTED = _fault("os-hidden-true-lists-all", "OS-HIDDEN",
                            "os_hidden=true lists the visible images too, not only the hidden ones.",
                            lambda http: any(not entry.get("os_hidden") for entry in _entries(http, "os_hidden=true")))
TAGS_ANY = _Fault("v2-list-tags-any", V2_LIST, "GLANCE-V2-LIST-TAGS-ALL",
                  "With several tag parameters, an image carrying any one of them is listed.",
                  probe=lambda http: any("tiny" not in entry["tags"]  # type: ignore[operator]
                                         for entry in _entries(http, "tag=test&tag=tiny")))
IN_SPLITS_QUOTES = _Fault("v2-list-in-splits-quotes", V2_LIST, "GLANCE-V2-LIST-IN-QUOTING",
                          "in: splits its list at every comma, inside double quotes too.", also_breaks=(f"{_REQ}NAME",),
                          probe=lambda http: not _entries(http, "name=in:" + quote('"release:2024, final"')))


# -- the rules -------------------------------------------------------------------------------------------------------

def in_values(text: str) -> list[str]:
    """The values of an `in:` list: comma-separated, a double-quoted value may hold commas (\\" a quote)."""
    return [quoted.replace('\\"', '"') if quoted or not plain else plain
            for quoted, plain in _IN_VALUES.findall(text)]


def _split_quotes_too(text: str) -> list[str]:
    return [part.strip('"') for part in text.split(",")]


def text_is(field: str, split: Callable[[str], list[str]] = in_values) -> Rule:
    """Images whose `field` is the value, or (`in:a,b`) any of the listed values."""
    def rule(param: str, values: Sequence[str], same: Same) -> Predicate:
        value = values[-1]
        wanted = split(value[3:]) if value.startswith("in:") else [value]
        return lambda image: any(same(getattr(image, field), one) for one in wanted)
    return rule


def _first_of_in(param: str, values: Sequence[str], same: Same) -> Predicate:
    value = values[-1]
    wanted = in_values(value[3:])[:1] if value.startswith("in:") else [value]
    return lambda image: any(same(image.id, one) for one in wanted)


def _name_prefix(param: str, values: Sequence[str], same: Same) -> Predicate:
    if values[-1].startswith("in:"):
        return text_is("name")(param, values, same)
    return lambda image: image.name.startswith(values[-1])


def _flag(param: str, values: Sequence[str], same: Same, invert: bool = False) -> Predicate:
    value = values[-1]
    if value not in BOOLEANS:
        raise paging.BadRequest(param, f"{param} must be true or false, got {clip(value)!r}")
    return lambda image: getattr(image, param) == (BOOLEANS[value] != invert)


def _flag_inverted(param: str, values: Sequence[str], same: Same) -> Predicate:
    return _flag(param, values, same, invert=True)


def _all_tags(param: str, values: Sequence[str], same: Same) -> Predicate:
    return lambda image: all(any(same(tag, value) for tag in image.tags) for value in values)


def _any_tag(param: str, values: Sequence[str], same: Same) -> Predicate:
    return lambda image: any(any(same(tag, value) for tag in image.tags) for value in values)


def _size(holds: Callable[[int, int], bool]) -> Rule:
    def rule(param: str, values: Sequence[str], same: Same) -> Predicate:
        try:
            bound = int(values[-1])
        except ValueError:
            raise paging.BadRequest(param, f"{param} must be an integer, got {clip(values[-1])!r}") from None
        return lambda image: image.size is not None and holds(image.size, bound)
    return rule


def moment(param: str, value: str) -> tuple[str, datetime]:
    """(operator, moment) of a time filter value `<op>:<ISO 8601>` (a bare time: eq); BadRequest when unreadable."""
    try:
        return "eq", changes_since(value)
    except paging.BadRequest:
        pass
    operator, _, text = value.partition(":")
    if operator not in TIME_OPERATORS:
        raise paging.BadRequest(param, f"{param}: unknown operator {clip(operator)!r}")
    try:
        return operator, changes_since(text)
    except paging.BadRequest:
        raise paging.BadRequest(param, f"{param} is not <op>:<ISO 8601>: {clip(value)!r}") from None


def _time(any_as_gte: bool = False) -> Rule:
    def rule(param: str, values: Sequence[str], same: Same) -> Predicate:
        operator, when = moment(param, values[-1])
        if any_as_gte:
            operator = "gte"
        holds = TIME_OPERATORS[operator]
        return lambda image: holds(getattr(image, param), when)
    return rule


def _property_is(param: str, values: Sequence[str], same: Same) -> Predicate:
    return lambda image: any(same(name, param) and same(text, values[-1]) for name, text in image.properties.items())


@dataclass(frozen=True)
class Served:
    """One filter the reference serves: its parameter, its documented rule, and the faults that bend the rule."""

    param: str  # the query parameter; "" for the extra-property filter (any parameter no other row takes)
    rule: Rule
    bent: tuple[tuple[Fault[HttpProbe], Rule | None], ...] = ()  # (fault, its rule; None: the filter is ignored)


SERVED: tuple[Served, ...] = (
    Served("name", text_is("name"),
           ((NAME_PREFIX, _name_prefix), (IN_SPLITS_QUOTES, text_is("name", _split_quotes_too)))),
    Served("id", text_is("id"), ((ID_IN_FIRST_ONLY, _first_of_in),)),
    Served("owner", text_is("owner"), ((OWNER_IGNORED, None),)),
    Served("status", text_is("status"), ((STATUS_IGNORED, None),)),
    Served("container_format", text_is("container_format"), ((CONTAINER_FORMAT_IGNORED, None),)),
    Served("disk_format", text_is("disk_format"), ((DISK_FORMAT_IGNORED, None),)),
    Served("protected", _flag, ((PROTECTED_INVERTED, _flag_inverted),)),
    Served("tag", _all_tags, ((TAG_IGNORED, None), (TAGS_ANY, _any_tag))),
    Served("size_min", _size(lambda size, bound: size >= bound), ((SIZE_MIN_EXCLUSIVE, _size(lambda s, b: s > b)),)),
    Served("size_max", _size(lambda size, bound: size <= bound), ((SIZE_MAX_EXCLUSIVE, _size(lambda s, b: s < b)),)),
    Served("created_at", _time(), ((CREATED_AT_ANY_AS_GTE, _time(any_as_gte=True)),)),
    Served("updated_at", _time(), ((UPDATED_AT_IGNORED, None),)),
    Served("", _property_is, ((PROPERTY_IGNORED, None),)),
)
FILTER_FAULTS: tuple[Fault[HttpProbe], ...] = (
    *dict.fromkeys(fault for served in SERVED for fault, _ in served.bent), VISIBILITY_IGNORED, OS_HIDDEN_INVERTED,
)
_NAMED = frozenset(served.param for served in SERVED if served.param)


def predicates(state: AppState, args: MultiDict[str, str]) -> list[Predicate]:
    """One predicate per filter of `args`, bent by the app's faults; BadRequest on a value the API rejects."""
    same = text_comparison(state)
    tests: list[Predicate] = []
    for served in SERVED:
        rule: Rule | None = served.rule
        for fault, bent in served.bent:
            if fault in state.faults:
                rule = bent
                break
        params = [served.param] if served.param else [p for p in args if p not in _NAMED and p not in LISTING_PARAMS]
        for param in params:
            values = args.getlist(param)
            if values:
                test = served.rule(param, values, same)  # validated even when a fault ignores it
                tests.append(test if rule is served.rule else rule(param, values, same) if rule else _everything)
    return tests


def _everything(image: Image) -> bool:
    return True


def listed(state: AppState, args: MultiDict[str, str], project: str | None = None) -> Predicate:
    """Which images the query's visibility, member_status and os_hidden let the caller see; BadRequest when bad.

    No visibility: public, private and shared ones (community only with visibility=community or all); a shared image
    only with the caller's member status (member_status, default accepted; all: any); hidden images only with
    os_hidden=true, and then only those. The run's project (`project` None) sees every image, a shared one by the
    catalogue's member status; another `project` sees its own images, no other private one, and another's shared
    image only as its member, by the status it gave (glance/db/sqlalchemy/api.py _select_images_query).
    """
    visibility = args.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        raise paging.BadRequest("visibility", f"visibility must be public, private, shared, community or all, got "
                                              f"{clip(visibility)!r}")
    member = args.get("member_status", "accepted")
    if member not in MEMBER_STATUSES:
        raise paging.BadRequest("member_status", f"member_status must be accepted, pending, rejected or all, got "
                                                 f"{clip(member)!r}")
    hidden = args.get("os_hidden", "false")
    if hidden not in BOOLEANS:
        raise paging.BadRequest("os_hidden", f"os_hidden must be true or false, got {clip(hidden)!r}")
    want_hidden = BOOLEANS[hidden] and OS_HIDDEN_INVERTED not in state.faults
    any_hidden = BOOLEANS[hidden] and OS_HIDDEN_INVERTED in state.faults
    if visibility in ("public", "private", "shared") and VISIBILITY_IGNORED in state.faults:
        visibility = None

    def test(image: Image) -> bool:
        if image.deleted or (image.os_hidden != want_hidden and not any_hidden):
            return False
        if visibility is None:
            seen = image.visibility != "community"
        else:
            seen = visibility == "all" or image.visibility == visibility
        if not seen or image.visibility not in ("shared", "private"):
            return seen
        if project is None:
            return image.visibility == "private" or member in ("all", image.member_status)
        if image.owner == project:
            return True
        membership = image.members.get(project)
        return image.visibility == "shared" and membership is not None and member in ("all", membership.status)

    return test

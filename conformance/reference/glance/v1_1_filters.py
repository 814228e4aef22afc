"""The reference's own v1.1 detail filters: one row per parameter served, with the faults that bend its rule.

This is the oracle the suite's filter table (conformance/glance/v1_1_filters.py) is checked against, so it is written
independently of it on purpose: it reads the documents, not the suite. A filter fault is declared beside the rule it
bends and names the requirement it breaks; the self-tests find it through that requirement id.
Text filters compare exactly, or ignoring letter case when the app is started with `case_insensitive` (as upstream
Glance does on MySQL/MariaDB); both readings are correct.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from conformance.reference.fault import Fault
from conformance.reference.glance import paging
from conformance.reference.glance.images import Image, image_by_key
from conformance.reference.glance.probe import HttpProbe
from conformance.reference.glance.responses import clip
from conformance.reference.glance.state import AppState

Predicate = Callable[[Image], bool]
Same = Callable[[str | None, str], bool]  # the app's text comparison: (field, value) -> equal
Rule = Callable[[str, str, Same], Predicate]  # (parameter, value, text comparison) -> which images it selects

V1_1_DETAIL = "glance.v1_1.detail"  # the operation of every fault here
_SHARED_SIZE = image_by_key("cirros").size  # cirros and cirros-052
_SHARED_UPDATE = "2021-03-15T08:30:00.123456"  # updated_at of three images
_ISO_8601 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6})[0-9]*)?)?)?"
    r"(?P<zone>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?",
    re.IGNORECASE,
)
_Fault = Fault[HttpProbe]


def _ignored(param: str) -> str:
    return f"The {param} filter is ignored."


# -- the faults that bend a filter's rule -------------------------------------------------------------------------

FILTER_NAME_SUBSTRING = _Fault(
    "v1-1-detail-filter-name-substring", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-NAME",
    "The name filter matches substrings.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",),
    probe=lambda http: any(entry["name"] != "cirros" for entry in http.detail("name=cirros")))
FILTER_CONTAINER_FORMAT_IGNORED = _Fault(
    "v1-1-detail-filter-container-format-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-CONTAINER-FORMAT",
    _ignored("container_format"),
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",),
    probe=lambda http: any(e["container_format"] != "ovf" for e in http.detail("container_format=ovf")))
FILTER_DISK_FORMAT_IGNORED = _Fault(
    "v1-1-detail-filter-disk-format-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-DISK-FORMAT",
    _ignored("disk_format"),
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",),
    probe=lambda http: any(entry["disk_format"] != "vhd" for entry in http.detail("disk_format=vhd")))
FILTER_STATUS_IGNORED = _Fault(
    "v1-1-detail-filter-status-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-STATUS",
    _ignored("status"),
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",),
    probe=lambda http: any(entry["status"] != "queued" for entry in http.detail("status=queued")))
FILTER_SIZE_MIN_EXCLUSIVE = _Fault(
    "v1-1-detail-filter-size-min-exclusive", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-SIZE-MIN",
    "size_min keeps sizes strictly greater than the value, dropping equal ones.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-COMPLETE",),
    probe=lambda http: _SHARED_SIZE not in {e["size"] for e in http.detail(f"size_min={_SHARED_SIZE}")})
FILTER_SIZE_MAX_EXCLUSIVE = _Fault(
    "v1-1-detail-filter-size-max-exclusive", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-SIZE-MAX",
    "size_max keeps sizes strictly less than the value, dropping equal ones.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-COMPLETE",),
    probe=lambda http: _SHARED_SIZE not in {e["size"] for e in http.detail(f"size_max={_SHARED_SIZE}")})
FILTER_CHANGES_SINCE_INCLUSIVE = _Fault(
    "v1-1-detail-filter-changes-since-inclusive", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE",
    "changes-since keeps updated_at equal to the value too (>= instead of >).",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",),
    probe=lambda http: any(e["updated_at"] == _SHARED_UPDATE for e in http.detail(f"changes-since={_SHARED_UPDATE}")))
FILTER_CHANGES_SINCE_HIDES_DELETED = _Fault(  # bends which images are listed, not the rule: see v1_1_detail._page
    "v1-1-detail-filter-changes-since-hides-deleted", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE",
    "changes-since does not bring back deleted and killed images.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-COMPLETE",),
    probe=lambda http: not any(entry["deleted"] for entry in http.detail("changes-since=2000-01-01")))
FILTER_CHANGES_SINCE_IGNORES_OFFSET = _Fault(
    "v1-1-detail-filter-changes-since-ignores-offset", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE",
    "changes-since drops an explicit time-zone offset and reads the time as UTC (+08:00 lands 8 hours late).",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-COMPLETE",),
    probe=lambda http: not any(e["updated_at"] == _SHARED_UPDATE
                               for e in http.detail("changes-since=2021-03-15T16:30:00%2B08:00")))
FILTER_PROPERTY_IGNORED = _Fault(
    "v1-1-detail-filter-property-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-PROPERTY",
    "property-<key> filters are ignored.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",),
    probe=lambda http: any(e["properties"].get("__os_type") != "Windows"
                           for e in http.detail("property-__os_type=Windows")))
CASE_NAMES_ONLY = _Fault(
    "v1-1-detail-case-names-only", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-PROPERTY",
    "The name filter ignores letter case, the format, status and property filters do not: no one reading holds.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-CONTAINER-FORMAT", "GLANCE-V1-1-DETAIL-FILTER-DISK-FORMAT",
                 "GLANCE-V1-1-DETAIL-FILTER-STATUS", "GLANCE-V1-1-DETAIL-FILTER-COMPLETE"),
    probe=lambda http: bool(http.detail("name=CIRROS")) and not http.detail("disk_format=QCOW2"))


# -- the rules -----------------------------------------------------------------------------------------------------

def text_is(field: str) -> Rule:
    """The images whose text `field` equals the value."""
    return lambda param, value, same: lambda image: same(getattr(image, field), value)


def _name_contains(param: str, value: str, same: Same) -> Predicate:
    return lambda image: value in image.name


def _name_folded(param: str, value: str, same: Same) -> Predicate:
    return lambda image: image.name.casefold() == value.casefold()


def _size(param: str, value: str, holds: Callable[[int, int], bool]) -> Predicate:
    bound = paging.count({param: value}, param)
    return lambda image: image.size is not None and bound is not None and holds(image.size, bound)


def _size_min(param: str, value: str, same: Same) -> Predicate:
    return _size(param, value, lambda size, bound: size >= bound)


def _size_above(param: str, value: str, same: Same) -> Predicate:
    return _size(param, value, lambda size, bound: size > bound)


def _size_max(param: str, value: str, same: Same) -> Predicate:
    return _size(param, value, lambda size, bound: size <= bound)


def _size_below(param: str, value: str, same: Same) -> Predicate:
    return _size(param, value, lambda size, bound: size < bound)


def _updated_after(param: str, value: str, same: Same) -> Predicate:
    since = changes_since(value)
    return lambda image: image.updated_at > since


def _updated_since(param: str, value: str, same: Same) -> Predicate:
    since = changes_since(value)
    return lambda image: image.updated_at >= since


def _updated_after_zone_dropped(param: str, value: str, same: Same) -> Predicate:
    match = _ISO_8601.fullmatch(value.strip())
    zone = match["zone"] if match is not None else None
    since = changes_since(value[: value.rindex(zone)] if zone else value)
    return lambda image: image.updated_at > since


def _number_is(param: str, value: str, same: Same) -> Predicate:
    number = paging.count({param: value}, param)
    return lambda image: getattr(image, param) == number


def _flag_is(param: str, value: str, same: Same) -> Predicate:
    if value.lower() not in ("true", "false"):
        raise paging.BadRequest(param, f"{param} must be true or false, got {clip(value)!r}")
    return lambda image: getattr(image, param) == (value.lower() == "true")


def _property_is(param: str, value: str, same: Same) -> Predicate:
    key = param.removeprefix("property-")
    return lambda image: any(same(name, key) and same(text, value) for name, text in image.properties.items())


@dataclass(frozen=True)
class Served:
    """One filter the reference serves: its parameter, its documented rule, and the faults that bend the rule."""

    param: str  # the query parameter, or its prefix when `keyed`
    rule: Rule
    bent: tuple[tuple[Fault[HttpProbe], Rule | None], ...] = ()  # (fault, its rule; None: the filter is ignored)
    keyed: bool = False  # `param` is a prefix, followed by a key (property-<key>)
    documented: bool = True  # one of the seven filters seed 004 names (the rest are upstream's)

    def takes(self, param: str) -> bool:
        """Whether `param` is this filter's parameter."""
        return param.startswith(self.param) if self.keyed else param == self.param


# In the order the predicates are applied (a fault that applies only the first filter depends on it).
SERVED: tuple[Served, ...] = (
    Served("name", text_is("name"), ((FILTER_NAME_SUBSTRING, _name_contains), (CASE_NAMES_ONLY, _name_folded))),
    Served("container_format", text_is("container_format"), ((FILTER_CONTAINER_FORMAT_IGNORED, None),)),
    Served("disk_format", text_is("disk_format"), ((FILTER_DISK_FORMAT_IGNORED, None),)),
    Served("status", text_is("status"), ((FILTER_STATUS_IGNORED, None),)),
    Served("size_min", _size_min, ((FILTER_SIZE_MIN_EXCLUSIVE, _size_above),)),
    Served("size_max", _size_max, ((FILTER_SIZE_MAX_EXCLUSIVE, _size_below),)),
    Served("changes-since", _updated_after, ((FILTER_CHANGES_SINCE_INCLUSIVE, _updated_since),
                                             (FILTER_CHANGES_SINCE_IGNORES_OFFSET, _updated_after_zone_dropped))),
    Served("min_ram", _number_is, documented=False),  # upstream serves these too; the suite does not certify them
    Served("min_disk", _number_is, documented=False),
    Served("is_public", _flag_is, documented=False),
    Served("protected", _flag_is, documented=False),
    Served("property-", _property_is, ((FILTER_PROPERTY_IGNORED, None),), keyed=True, documented=False),
)
# Every filter fault, for the reference's fault table: those of the rows, then those bending what is listed.
FILTER_FAULTS: tuple[Fault[HttpProbe], ...] = (
    *dict.fromkeys(fault for served in SERVED for fault, _ in served.bent), FILTER_CHANGES_SINCE_HIDES_DELETED,
)
# What a target serving only the documented rows breaks: the requirements of the others' faults.
UNDOCUMENTED_FILTER_REQUIREMENTS: tuple[str, ...] = tuple(dict.fromkeys(
    fault.breaks for served in SERVED if not served.documented for fault, _ in served.bent))


def predicates(state: AppState, args: Mapping[str, str]) -> list[Predicate]:
    """One predicate per filter of `args` the reference serves, bent by the app's faults; BadRequest on a value
    the API rejects."""
    same = text_comparison(state)
    tests: list[Predicate] = []
    for served in SERVED:
        rule: Rule | None = served.rule
        for fault, bent in served.bent:
            if fault in state.faults:
                rule = bent
                break
        if rule is not None:
            tests += [rule(param, value, same) for param, value in args.items() if served.takes(param)]
    return tests


def filtered(args: Mapping[str, str]) -> bool:
    """Whether `args` hold a filter the reference serves (paging and sorting parameters are none)."""
    return any(served.takes(param) for served in SERVED for param in args)


def documented_predicates(state: AppState, args: Mapping[str, str]) -> list[Predicate]:
    """One predicate per filter of `args` among the seven seed 004 names, a value the rule cannot read ignored."""
    same = text_comparison(state)
    tests: list[Predicate] = []
    for served in SERVED:
        for param, value in args.items():
            if served.documented and served.takes(param):
                try:
                    tests.append(served.rule(param, value, same))
                except paging.BadRequest:
                    continue
    return tests


def text_comparison(state: AppState) -> Same:
    """Exact comparison, or one that ignores letter case when the app was started that way."""
    if state.case_insensitive:
        return lambda text, value: text is not None and _lower_each(text) == _lower_each(value)
    return lambda text, value: text == value


def _lower_each(text: str) -> str:
    """Each character lowered on its own, as a database collation compares (ß is not ss)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def changes_since(raw: str) -> datetime:
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

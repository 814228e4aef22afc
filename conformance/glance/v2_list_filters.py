"""The filters of GET /v2/images as one table, the sort orders it takes, and the values it rejects.

A row per filter: its parameter, the field it matches, its operators, its domain and the requirement it certifies.
Upstream's api-ref "List images" is the only source of the parameters (seed 004 points to the call, seed 001 documents
the image), so every row is upstream-only. A value `in:a,"b, c"` selects any listed value; a name with `:` is matched
whole; times take `<op>:<ISO 8601>` and are judged only where the shown second decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import strategies as st

from conformance.listing.domains import COUNT, FLAG, SHOWN_TIME, TEXT, TEXT_VALUES, Domain, Operator
from conformance.listing.table import Entry, Filter, ListApi
from conformance.listing.text import Case

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
VISIBILITIES = ("public", "private", "shared", "community", "all")
MEMBER_STATUSES = ("accepted", "pending", "rejected", "all")
# The call's own parameters: never an extra-property filter.
PARAMS = frozenset({"limit", "marker", "sort", "sort_key", "sort_dir", "member_status", "changes-since", "name", "id",
                    "owner", "status", "container_format", "disk_format", "protected", "tag", "visibility",
                    "os_hidden", "size_min", "size_max", "created_at", "updated_at"})
# The fields of an image that are not extra properties (v2 shows extra properties beside them); `stores` is the
# read-only list of the stores holding the data (api-ref "Show image": stores, since 2.8), made from the locations.
CORE = frozenset({"id", "name", "status", "visibility", "protected", "checksum", "owner", "size", "virtual_size",
                  "container_format", "disk_format", "created_at", "updated_at", "tags", "self", "file", "schema",
                  "min_ram", "min_disk", "os_hidden", "os_hash_algo", "os_hash_value", "locations", "direct_url",
                  "stores"})


@dataclass(frozen=True)
class _AllOrText(Domain):
    """Text where the value `all` selects every field (visibility=all)."""

    def equal(self, field: object, value: str, case: Case) -> bool:
        """Whether `field` is the value, or the value is `all`."""
        return value == "all" or super().equal(field, value, case)


def _visibilities(observed: tuple[Any, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(VISIBILITIES)


def _pick_visibilities(observed: tuple[Any, ...], probes: Any, limit: int) -> list[str]:
    return list(VISIBILITIES)


VISIBILITY = _AllOrText("visibility", False, TEXT.fits, TEXT.read, TEXT.parse, TEXT.observe, _visibilities,
                        _pick_visibilities)
# No draw of text holding a double quote or backslash for `in:` lists (upstream keeps the escapes raw), nor of text
# that starts like an operator (`eq:` too is one upstream): such a value names no image as the documents read it.
_OPERATOR_LIKE = ("in:", "eq:")


def _plain_text(value: str) -> bool:
    return '"' not in value and "\\" not in value and not value.startswith(_OPERATOR_LIKE)


def _draw_plain(observed: tuple[Any, ...]) -> st.SearchStrategy[str]:
    return TEXT.draw(tuple(v for v in observed if _plain_text(v))).filter(_plain_text)


PLAIN_TEXT = Domain("text", False, TEXT.fits, TEXT.read, TEXT.parse, TEXT.observe, _draw_plain, TEXT.pick)


def is_hidden(entry: Entry) -> bool:
    """Whether the image is listed only when asked for: community, or hidden (os_hidden true)."""
    return entry.get("visibility") == "community" or entry.get("os_hidden") is True


def extra_properties(entry: Entry) -> Mapping[str, Any]:
    """The extra properties of a v2 image: its fields beyond the documented ones."""
    return {key: value for key, value in entry.items() if key not in CORE and key not in PARAMS}


_REQ = "GLANCE-V2-LIST-FILTER-"
EQ, IN, GTE, LTE = (Operator.EQ,), (Operator.IN,), (Operator.GTE,), (Operator.LTE,)
TIMES = (Operator.GT, Operator.GTE, Operator.EQ, Operator.NEQ, Operator.LT, Operator.LTE)

LIST = ListApi(
    "GET /v2/images", "glance.v2.list",
    (
        Filter("name", "name", PLAIN_TEXT, IN, _REQ + "NAME", prefixed=True, default=Operator.EQ, documented=False),
        Filter("id", "id", PLAIN_TEXT, IN, _REQ + "ID", prefixed=True, default=Operator.EQ, documented=False),
        Filter("owner", "owner", TEXT, EQ, _REQ + "OWNER", documented=False),
        Filter("status", "status", PLAIN_TEXT, IN, _REQ + "STATUS", prefixed=True, default=Operator.EQ,
               documented=False),
        Filter("container_format", "container_format", PLAIN_TEXT, IN, _REQ + "CONTAINER-FORMAT", prefixed=True,
               default=Operator.EQ, documented=False),
        Filter("disk_format", "disk_format", PLAIN_TEXT, IN, _REQ + "DISK-FORMAT", prefixed=True, default=Operator.EQ,
               documented=False),
        Filter("protected", "protected", FLAG, EQ, _REQ + "PROTECTED", documented=False),
        Filter("visibility", "visibility", VISIBILITY, EQ, _REQ + "VISIBILITY", documented=False, reveals_hidden=True),
        Filter("os_hidden", "os_hidden", FLAG, EQ, _REQ + "OS-HIDDEN", documented=False, reveals_hidden=True),
        Filter("size_min", "size", COUNT, GTE, _REQ + "SIZE-MIN", documented=False),
        Filter("size_max", "size", COUNT, LTE, _REQ + "SIZE-MAX", documented=False),
        Filter("created_at", "created_at", SHOWN_TIME, TIMES, _REQ + "CREATED-AT", prefixed=True, documented=False),
        Filter("updated_at", "updated_at", SHOWN_TIME, TIMES, _REQ + "UPDATED-AT", prefixed=True, documented=False),
        Filter("tag", "tags", TEXT, EQ, _REQ + "TAG", many=True, documented=False),
        Filter("property", "", TEXT, EQ, _REQ + "PROPERTY", mapping=extra_properties, reserved=PARAMS,
               documented=False),
    ),
    hidden=is_hidden, hidden_named="community or hidden", hidden_fields=("visibility", "os_hidden"),
)
# Filters on a field of the image: those combined queries add and intersect (visibility and os_hidden choose which
# images the caller sees at all: judged by their own rows and by the listing rule).
FIELD_FILTERS = tuple(row.name for row in LIST.filters if not row.reveals_hidden)


def eligible(entry: Entry, query: Mapping[str, str]) -> bool:
    """Whether the query's visibility and os_hidden (defaults: no community, not hidden) let the image be listed."""
    hidden = entry.get("os_hidden") is True
    if hidden != (query.get("os_hidden") == "true"):
        return False
    visibility = query.get("visibility")
    if visibility is None:
        return entry.get("visibility") != "community"
    return visibility == "all" or entry.get("visibility") == visibility


def _not_a_count(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return True
    return False


_NOT_A_FLAG = ("true", "false", "1", "0", "t", "f", "yes", "no", "y", "n", "on", "off")  # upstream's strict reading


@cache
def invalid_values(param: str) -> st.SearchStrategy[str]:
    """Values of `param` that upstream rejects with 400 under any reading of the documents."""
    if param == "limit":
        negative = st.integers(max_value=-1).map(str)
        decimal = st.floats(min_value=0, max_value=1e6, allow_nan=False).filter(lambda f: not f.is_integer()).map(repr)
        return negative | decimal | TEXT_VALUES.filter(_not_a_count)
    if param in ("size_min", "size_max"):
        return TEXT_VALUES.filter(_not_a_count)
    if param in ("created_at", "updated_at"):
        bad_operator = st.sampled_from(("gtt", "before", "ge", "equals")).map(lambda op: f"{op}:2020-01-01T00:00:00Z")
        bad_time = st.sampled_from(("2016-13-01T00:00:00", "2016-02-30T00:00:00", "yesterday", "")).map(
            lambda t: f"gte:{t}")
        return bad_operator | bad_time
    if param == "sort_key":
        return TEXT_VALUES.filter(lambda v: v not in SORT_KEYS)
    if param == "sort_dir":
        return TEXT_VALUES.filter(lambda v: v not in SORT_DIRS)
    if param == "visibility":
        return TEXT_VALUES.filter(lambda v: v not in VISIBILITIES and bool(v))
    if param == "member_status":
        return TEXT_VALUES.filter(lambda v: v not in MEMBER_STATUSES and bool(v))
    if param in ("protected", "os_hidden"):
        return TEXT_VALUES.filter(lambda v: v.strip().lower() not in _NOT_A_FLAG and bool(v))
    if param == "marker":  # random UUIDs name no image
        return st.uuids().map(str)
    if param == "changes-since":
        return st.sampled_from(("2020-01-01T00:00:00Z", "1970-01-01T00:00:00"))
    raise ValueError(f"no invalid values known for {param!r}")


INVALID_PARAMS = ("limit", "size_min", "size_max", "created_at", "updated_at", "sort_key", "sort_dir", "visibility",
                  "member_status", "protected", "os_hidden", "marker", "changes-since")
# Queries upstream rejects as a whole: mixed sort syntaxes, more sort_dir than sort_key.
INVALID_QUERIES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("sort", "name:asc"), ("sort_key", "size")),
    (("sort", "name"), ("sort_dir", "asc")),
    (("sort_key", "name"), ("sort_dir", "asc"), ("sort_dir", "desc")),
    (("sort_key", "name"), ("sort_key", "size"), ("sort_key", "id"), ("sort_dir", "asc"), ("sort_dir", "desc")),
    (("sort", "name:up"),),
    (("sort", "colour:asc"),),
)

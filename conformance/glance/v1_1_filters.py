"""The filters of GET /v1.1/images/detail as one table, and the values its parameters reject.

A row per filter: its parameter, the field it matches, its operator, its domain and the requirement it certifies.
Seed 004 §请求消息 names the seven documented filters; property-* (and paging, sorting) are upstream behaviour only.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import strategies as st

from conformance.listing.domains import COUNT, TEXT, TEXT_VALUES, TIME, Operator, spread, with_offset
from conformance.listing.table import Entry, Filter, ListApi

HIDDEN_STATUSES = frozenset({"deleted", "killed"})  # listed only with changes-since
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
EPOCH = "1970-01-01T00:00:00"  # a changes-since every image is updated after


def is_hidden(entry: Entry) -> bool:
    """Whether the image is deleted or killed, so listed only with changes-since."""
    return entry.get("deleted") is True or entry.get("status") in HIDDEN_STATUSES


def name_prefixes(names: tuple[Any, ...]) -> list[str]:
    """Halves of a few names: a prefix catches substring and prefix matching."""
    return [name[: len(name) // 2] for name in spread(names, 5) if len(name) > 1]


def since_epoch(updated: tuple[Any, ...]) -> list[str]:
    """A changes-since every image is updated after, and an observed moment just before one image's update written
    with an explicit +08:00 offset (ISO 8601 allows it; a target that drops the offset reads it 8 hours late)."""
    moments = spread(updated, 1)
    return [EPOCH, *(with_offset(str(moment)) for moment in moments)]


EQ, GTE, LTE, GT = (Operator.EQ,), (Operator.GTE,), (Operator.LTE,), (Operator.GT,)
_REQ = "GLANCE-V1-1-DETAIL-FILTER-"

DETAIL = ListApi(
    "GET /v1.1/images/detail", "glance.v1_1.detail",
    (
        Filter("name", "name", TEXT, EQ, _REQ + "NAME", probes=name_prefixes),
        Filter("container_format", "container_format", TEXT, EQ, _REQ + "CONTAINER-FORMAT"),
        Filter("disk_format", "disk_format", TEXT, EQ, _REQ + "DISK-FORMAT"),
        Filter("status", "status", TEXT, EQ, _REQ + "STATUS"),
        Filter("size_min", "size", COUNT, GTE, _REQ + "SIZE-MIN"),
        Filter("size_max", "size", COUNT, LTE, _REQ + "SIZE-MAX"),
        Filter("changes-since", "updated_at", TIME, GT, _REQ + "CHANGES-SINCE", reveals_hidden=True,
               probes=since_epoch),
        Filter("property", "properties", TEXT, EQ, _REQ + "PROPERTY", keyed="property-", documented=False),
    ),
    hidden=is_hidden, hidden_named="deleted or killed", hidden_fields=("status", "deleted"),
)


def _not_a_count(value: str) -> bool:
    """Whether upstream rejects `value` as a count (it reads counts with Python's int())."""
    try:
        return int(value) < 0
    except ValueError:
        return True


@cache
def invalid_values(param: str) -> st.SearchStrategy[str]:
    """Values of `param` that upstream rejects with 400 under any reading of the documents."""
    if param in ("size_min", "size_max", "limit"):
        negative = st.integers(max_value=-1).map(str)
        decimal = st.floats(min_value=0, max_value=1e12, allow_nan=False).filter(lambda f: not f.is_integer()).map(repr)
        return negative | decimal | TEXT_VALUES.filter(_not_a_count)
    if param == "changes-since":
        no_digits = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Nd")), max_size=12)
        impossible = st.sampled_from(("2016-13-01T00:00:00", "2016-02-30T00:00:00", "2016-05-22T25:00:00", "yesterday"))
        return impossible | no_digits
    if param == "sort_key":
        return TEXT_VALUES.filter(lambda v: v not in SORT_KEYS)
    if param == "sort_dir":
        return TEXT_VALUES.filter(lambda v: v not in SORT_DIRS)
    if param == "marker":  # random UUIDs name no image; text is not even an id
        return st.uuids().map(str) | TEXT_VALUES.filter(bool)
    raise ValueError(f"no invalid values known for {param!r}")

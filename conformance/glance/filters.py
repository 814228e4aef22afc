"""The local model of the v1.1 detail filters, and hypothesis strategies for filter queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance.timestamps import format_time, parse_time

Entry = Mapping[str, Any]  # one image as the detail listing shows it
Query = dict[str, str]  # query parameters as sent

FILTERS = ("name", "container_format", "disk_format", "status", "size_min", "size_max", "changes-since", "property")
EXACT_FIELDS = ("name", "container_format", "disk_format", "status")
PROPERTY_PREFIX = "property-"
HIDDEN_STATUSES = frozenset({"deleted", "killed"})  # listed only with changes-since
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
EPOCH = "1970-01-01T00:00:00"  # a changes-since every image is updated after

# Arbitrary filter text: no surrogates (not encodable in a URL) and no control characters (some databases refuse NUL).
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
_KEY_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.:-", min_size=1, max_size=10)


def filter_of(param: str) -> str:
    """The filter a query parameter belongs to (`property-os` belongs to `property`)."""
    return "property" if param.startswith(PROPERTY_PREFIX) else param


def is_hidden(entry: Entry) -> bool:
    """Whether the image is deleted or killed, so listed only with changes-since."""
    return entry.get("deleted") is True or entry.get("status") in HIDDEN_STATUSES


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # bool is an int in Python, but no size


def _field(entry: Entry, kind: str) -> Any:
    """The entry field a filter kind looks at."""
    if kind == "property":
        return entry.get("properties")
    if kind == "changes-since":
        return entry.get("updated_at")
    if kind in ("size_min", "size_max"):
        return entry.get("size")
    return entry.get(kind)


def matches_filter(entry: Entry, param: str, value: str) -> bool:
    """Whether `entry` satisfies the one filter `param=value` (upstream semantics)."""
    kind = filter_of(param)
    field = _field(entry, kind)
    if kind in EXACT_FIELDS:
        return bool(field == value)
    if kind == "size_min":
        return _is_size(field) and field >= int(value)
    if kind == "size_max":
        return _is_size(field) and field <= int(value)
    if kind == "changes-since":
        since, updated = parse_time(value), parse_time(field)
        return since is not None and updated is not None and updated > since
    if kind == "property":
        return isinstance(field, Mapping) and field.get(param[len(PROPERTY_PREFIX):]) == value
    raise ValueError(f"not a modelled filter: {param!r}")


def decidable(entry: Entry, query: Mapping[str, str]) -> bool:
    """Whether the fields `query` looks at have their documented types (SCHEMA judges them when not)."""
    for param in query:
        kind = filter_of(param)
        field = _field(entry, kind)
        if kind == "property":
            fit = isinstance(field, Mapping)
        elif kind == "changes-since":
            fit = parse_time(field) is not None
        elif kind in ("size_min", "size_max"):
            fit = field is None or _is_size(field)
        else:
            fit = field is None or isinstance(field, str)
        if not fit:
            return False
    return True


def broken_filters(entry: Entry, query: Mapping[str, str], *, listing_rules: bool = True) -> list[str]:
    """The parameters of `query` that `entry` does not satisfy, and with `listing_rules` the hidden-image rule."""
    broken = [param for param, value in query.items() if not matches_filter(entry, param, value)]
    if listing_rules and is_hidden(entry) and "changes-since" not in query:
        broken.append("(deleted or killed, listed without changes-since)")
    return broken


def describe(entry: Entry, query: Mapping[str, str]) -> str:
    """The image's id with the fields the query looks at, for a failure message."""
    fields: list[str] = []
    for param in query:
        kind = filter_of(param)
        if kind in EXACT_FIELDS:
            fields.append(f"{kind}={entry.get(kind)!r}")
        elif kind in ("size_min", "size_max"):
            fields.append(f"size={entry.get('size')!r}")
        elif kind == "changes-since":
            fields.append(f"updated_at={entry.get('updated_at')!r}")
        else:
            key = param[len(PROPERTY_PREFIX):]
            properties = entry.get("properties")
            value = properties.get(key, "<absent>") if isinstance(properties, Mapping) else properties
            fields.append(f"properties[{key!r}]={value!r}")
    if is_hidden(entry):
        fields.append(f"status={entry.get('status')!r} deleted={entry.get('deleted')!r}")
    return f"{entry.get('id')} ({', '.join(dict.fromkeys(fields))})"


def unsound(returned: Iterable[Entry], query: Mapping[str, str], *, listing_rules: bool = True) -> list[str]:
    """One line per returned image that does not belong in the answer to `query`."""
    lines = []
    for entry in returned:
        broken = broken_filters(entry, query, listing_rules=listing_rules) if decidable(entry, query) else []
        if broken:
            lines.append(f"returned {describe(entry, query)}, which breaks {', '.join(broken)}")
    return lines


def missing(universe: Iterable[Entry], returned_ids: set[str], query: Mapping[str, str]) -> list[str]:
    """One line per image of `universe` that matches every filter of `query` but was not returned."""
    return [
        f"did not return {describe(entry, query)}"
        for entry in universe
        if entry.get("id") not in returned_ids and decidable(entry, query)
        and not broken_filters(entry, query, listing_rules=False)
    ]


@dataclass(frozen=True)
class Observed:
    """The filter values a target's own images offer, sorted so that strategies are reproducible."""

    names: tuple[str, ...]
    container_formats: tuple[str, ...]
    disk_formats: tuple[str, ...]
    statuses: tuple[str, ...]
    sizes: tuple[int, ...]
    updated: tuple[str, ...]
    properties: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:
        return (f"Observed({len(self.names)} names, {len(self.sizes)} sizes, {len(self.updated)} timestamps, "
                f"{len(self.properties)} property values)")

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Observed:
        """The distinct values of `entries`."""
        entries = list(entries)

        def strings(field: str) -> tuple[str, ...]:
            return tuple(sorted({e[field] for e in entries if isinstance(e.get(field), str)}))

        sizes = {e["size"] for e in entries if _is_size(e.get("size"))}
        pairs = {
            (key, value)
            for e in entries if isinstance(e.get("properties"), Mapping)
            for key, value in e["properties"].items() if isinstance(key, str) and isinstance(value, str)
        }
        return cls(strings("name"), strings("container_format"), strings("disk_format"), strings("status"),
                   tuple(sorted(sizes)), strings("updated_at"), tuple(sorted(pairs)))

    def values(self, kind: str) -> tuple[str, ...]:
        """The observed values of one exact-match filter."""
        return {"name": self.names, "container_format": self.container_formats,
                "disk_format": self.disk_formats, "status": self.statuses}[kind]


def spread(values: Sequence[Any], limit: int) -> list[Any]:
    """At most `limit` of `values`, evenly spaced and always keeping the first and the last."""
    if len(values) <= limit:
        return list(values)
    if limit == 1:
        return [values[0]]
    step = (len(values) - 1) / (limit - 1)
    return [values[round(i * step)] for i in range(limit)]


def single_filter_queries(kind: str, observed: Observed, *, limit: int) -> list[Query]:
    """Deterministic one-filter queries from the target's own values: every exact size and timestamp included."""
    if kind in EXACT_FIELDS:
        values = list(observed.values(kind))
        if kind == "name":  # a prefix catches substring and prefix matching
            values += [name[: len(name) // 2] for name in spread(observed.names, 5) if len(name) > 1]
        return [{kind: v} for v in spread(sorted(set(values)), limit)]
    if kind in ("size_min", "size_max"):
        return [{kind: str(v)} for v in spread(observed.sizes, limit)]
    if kind == "changes-since":
        return [{kind: v} for v in [EPOCH, *spread(observed.updated, limit - 1)]]
    if kind == "property":
        return [{PROPERTY_PREFIX + key: value} for key, value in _round_robin(observed.properties)[:limit]]
    raise ValueError(f"not a modelled filter: {kind!r}")


def _round_robin(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(key, value) pairs ordered so that every key comes once before any key comes twice."""
    by_key: dict[str, list[str]] = {}
    for key, value in sorted(pairs):
        by_key.setdefault(key, []).append(value)
    rounds = max(map(len, by_key.values()), default=0)
    return [(key, values[i]) for i in range(rounds) for key, values in by_key.items() if i < len(values)]


def _exact(observed: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(observed) | _TEXT if observed else _TEXT


def _sizes(observed: Observed) -> st.SearchStrategy[str]:
    arbitrary = st.integers(min_value=0, max_value=2**53)
    if not observed.sizes:
        return arbitrary.map(str)
    near = st.tuples(st.sampled_from(observed.sizes), st.sampled_from((0, -1, 1))).map(lambda t: max(0, t[0] + t[1]))
    return (st.sampled_from(observed.sizes) | near | arbitrary).map(str)


def _times(observed: Observed) -> st.SearchStrategy[str]:
    moments = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2035, 1, 1))
    arbitrary = moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%f")) | moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if not observed.updated:
        return arbitrary
    exact = st.sampled_from(observed.updated)
    # one microsecond earlier: the image updated at that moment must then be listed
    before = exact.map(lambda v: _shift(v, -1))
    return exact | before | arbitrary


def _shift(value: str, microseconds: int) -> str:
    parsed = parse_time(value)
    return value if parsed is None else format_time(parsed + datetime.timedelta(microseconds=microseconds))


def _properties(observed: Observed) -> st.SearchStrategy[tuple[str, str]]:
    arbitrary = st.tuples(_KEY_TEXT, _TEXT)
    if not observed.properties:
        return arbitrary
    keys = tuple(sorted({key for key, _ in observed.properties}))
    return st.sampled_from(observed.properties) | st.tuples(st.sampled_from(keys), _TEXT) | arbitrary


def _as_param(param: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, str]]:
    return values.map(lambda value: (param, value))


def filter_values(observed: Observed) -> dict[str, st.SearchStrategy[tuple[str, str]]]:
    """For each filter, a strategy of (parameter, value): the target's own values and arbitrary ones."""
    found = {kind: _as_param(kind, _exact(observed.values(kind))) for kind in EXACT_FIELDS}
    found["size_min"] = _as_param("size_min", _sizes(observed))
    found["size_max"] = _as_param("size_max", _sizes(observed))
    found["changes-since"] = _as_param("changes-since", _times(observed))
    found["property"] = _properties(observed).map(lambda kv: (PROPERTY_PREFIX + kv[0], kv[1]))
    return found


def queries(observed: Observed, *, min_filters: int = 1, max_filters: int = 4,
            exclude: Iterable[str] = ()) -> st.SearchStrategy[Query]:
    """Queries combining distinct filters, with values the target's images have and arbitrary ones."""
    values = filter_values(observed)
    kinds = [kind for kind in FILTERS if kind not in set(exclude)]
    chosen = st.lists(st.sampled_from(kinds), min_size=min_filters, max_size=min(max_filters, len(kinds)), unique=True)
    return chosen.flatmap(lambda ks: st.tuples(*(values[k] for k in ks)).map(dict))


def _not_a_count(value: str) -> bool:
    """Whether upstream rejects `value` as a count (it reads counts with Python's int())."""
    try:
        return int(value) < 0
    except ValueError:
        return True


def invalid_values(param: str) -> st.SearchStrategy[str]:
    """Values of `param` that upstream rejects with 400 under any reading of the documents."""
    if param in ("size_min", "size_max", "limit"):
        negative = st.integers(max_value=-1).map(str)
        decimal = st.floats(min_value=0, max_value=1e12, allow_nan=False).filter(lambda f: not f.is_integer()).map(repr)
        return negative | decimal | _TEXT.filter(_not_a_count)
    if param == "changes-since":
        no_digits = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Nd")), max_size=12)
        impossible = st.sampled_from(("2016-13-01T00:00:00", "2016-02-30T00:00:00", "2016-05-22T25:00:00", "yesterday"))
        return impossible | no_digits
    if param == "sort_key":
        return _TEXT.filter(lambda v: v not in SORT_KEYS)
    if param == "sort_dir":
        return _TEXT.filter(lambda v: v not in SORT_DIRS)
    if param == "marker":  # random UUIDs name no image; text is not even an id
        return st.uuids().map(str) | _TEXT.filter(bool)
    raise ValueError(f"no invalid values known for {param!r}")

"""The local model of the v1.1 detail filters, and hypothesis strategies for filter queries."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

Entry = Mapping[str, Any]  # one image as the detail listing shows it
Query = dict[str, str]  # query parameters as sent

FILTERS = ("name", "container_format", "disk_format", "status", "size_min", "size_max", "changes-since", "property")
EXACT_FIELDS = ("name", "container_format", "disk_format", "status")
PROPERTY_PREFIX = "property-"
HIDDEN_STATUSES = frozenset({"deleted", "killed"})  # listed only with changes-since
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
EPOCH = "1970-01-01T00:00:00"  # a changes-since every image is updated after

_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:?[0-9]{2})?")
# Arbitrary filter text: no surrogates (not encodable in a URL) and no control characters (some databases refuse NUL).
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
_KEY_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.:-", min_size=1, max_size=10)


def parse_time(value: object) -> datetime.datetime | None:
    """A v1 timestamp (naive means UTC; Z or an offset allowed) as an aware UTC datetime; None when it is not one."""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def format_time(value: datetime.datetime) -> str:
    """`value` written the way Glance v1 writes timestamps: naive UTC with microseconds."""
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def filter_of(param: str) -> str:
    """The filter a query parameter belongs to (`property-os` belongs to `property`)."""
    return "property" if param.startswith(PROPERTY_PREFIX) else param


def is_hidden(entry: Entry) -> bool:
    """Whether the image is deleted or killed, so listed only with changes-since."""
    return entry.get("deleted") is True or entry.get("status") in HIDDEN_STATUSES


def _size_test(bound: str, entry: Entry, accept: Callable[[int, int], bool]) -> bool:
    size = entry.get("size")
    # bool is an int in Python; a boolean size is no size
    return isinstance(size, int) and not isinstance(size, bool) and accept(size, int(bound))


def matches_filter(entry: Entry, param: str, value: str) -> bool:
    """Whether `entry` satisfies the one filter `param=value` (upstream semantics)."""
    kind = filter_of(param)
    if kind in EXACT_FIELDS:
        return entry.get(kind) == value
    if kind == "size_min":
        return _size_test(value, entry, lambda size, bound: size >= bound)
    if kind == "size_max":
        return _size_test(value, entry, lambda size, bound: size <= bound)
    if kind == "changes-since":
        since, updated = parse_time(value), parse_time(entry.get("updated_at"))
        return since is not None and updated is not None and updated > since
    if kind == "property":
        properties = entry.get("properties")
        return isinstance(properties, Mapping) and properties.get(param[len(PROPERTY_PREFIX):]) == value
    raise ValueError(f"not a modelled filter: {param!r}")


def broken_filters(entry: Entry, query: Mapping[str, str]) -> list[str]:
    """The parameters of `query` that `entry` does not satisfy, listing rules included."""
    broken = [param for param, value in query.items() if not matches_filter(entry, param, value)]
    if is_hidden(entry) and "changes-since" not in query:
        broken.append("(deleted or killed, listed without changes-since)")
    return broken


def matches(entry: Entry, query: Mapping[str, str]) -> bool:
    """Whether `entry` belongs in the answer to `query`."""
    return not broken_filters(entry, query)


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


def unsound(returned: Iterable[Entry], query: Mapping[str, str]) -> list[str]:
    """One line per returned image that does not belong in the answer to `query`."""
    return [f"returned {describe(e, query)}, which breaks {', '.join(broken_filters(e, query))}"
            for e in returned if not matches(e, query)]


def missing(universe: Iterable[Entry], returned_ids: set[str], query: Mapping[str, str]) -> list[str]:
    """One line per image of `universe` that belongs in the answer to `query` but was not returned."""
    return [f"did not return {describe(e, query)}" for e in universe if matches(e, query) and e.get("id") not in returned_ids]


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

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Observed:
        """The distinct values of `entries`."""
        entries = list(entries)

        def strings(field: str) -> tuple[str, ...]:
            return tuple(sorted({e[field] for e in entries if isinstance(e.get(field), str)}))

        sizes = {e["size"] for e in entries if isinstance(e.get("size"), int) and not isinstance(e.get("size"), bool)}
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
        by_key: dict[str, list[str]] = {}
        for key, value in observed.properties:
            by_key.setdefault(key, []).append(value)
        # round-robin over the keys, so that every key is tried before any key gets a second value
        rounds = [[(k, vs[i]) for k, vs in sorted(by_key.items()) if i < len(vs)] for i in range(max(map(len, by_key.values()), default=0))]
        pairs = [pair for round_ in rounds for pair in round_][:limit]
        return [{PROPERTY_PREFIX + key: value} for key, value in pairs]
    raise ValueError(f"not a modelled filter: {kind!r}")


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


def filter_values(observed: Observed) -> dict[str, st.SearchStrategy[tuple[str, str]]]:
    """For each filter, a strategy of (parameter, value): the target's own values and arbitrary ones."""
    found: dict[str, st.SearchStrategy[tuple[str, str]]] = {
        kind: _exact(observed.values(kind)).map(lambda v, k=kind: (k, v)) for kind in EXACT_FIELDS
    }
    found["size_min"] = _sizes(observed).map(lambda v: ("size_min", v))
    found["size_max"] = _sizes(observed).map(lambda v: ("size_max", v))
    found["changes-since"] = _times(observed).map(lambda v: ("changes-since", v))
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

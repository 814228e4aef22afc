"""The local model of the v1.1 detail filters as a table of filter kinds, and hypothesis strategies for queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from hypothesis import strategies as st

from conformance._compat import StrEnum
from conformance.short_repr import ShortRepr
from conformance.timestamps import format_time, parse_time

Entry = Mapping[str, Any]  # one image as the detail listing shows it
Query = dict[str, str]  # query parameters as sent

PROPERTY_PREFIX = "property-"
HIDDEN_STATUSES = frozenset({"deleted", "killed"})  # listed only with changes-since
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
EPOCH = "1970-01-01T00:00:00"  # a changes-since every image is updated after
# Seed 004 §请求消息 names these seven; property-* (and paging, sorting) are upstream behaviour only.
DOCUMENTED_FILTERS = ("name", "container_format", "disk_format", "status", "size_min", "size_max", "changes-since")


class Case(StrEnum):
    """How a target compares the text of the equality filters (name, formats, status, properties).

    The documents say "exact match" and leave case open: upstream Glance compares case-sensitively on SQLite and
    case-insensitively on MySQL/MariaDB (collation utf8_general_ci). Either is accepted, if one holds for the run.
    """

    SENSITIVE = "case-sensitive"
    INSENSITIVE = "case-insensitive"

    def same(self, field: object, value: str) -> bool:
        """Whether the text `field` equals the filter value under this reading."""
        if not isinstance(field, str):
            return False
        return fold(field) == fold(value) if self is Case.INSENSITIVE else field == value


def fold(text: str) -> str:
    """`text` in lower case, letter by letter: no expansions like ß -> ss, which database collations do not make."""
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)

# Arbitrary filter text: no surrogates (not encodable in a URL) and no control characters (some databases refuse NUL).
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
SWAPPED_VALUES = 3  # values per filter also queried with their case swapped
_KEY_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.:-", min_size=1, max_size=10)


def filter_of(param: str) -> str:
    """The filter a query parameter belongs to (`property-os` belongs to `property`)."""
    return "property" if param.startswith(PROPERTY_PREFIX) else param


def is_hidden(entry: Entry) -> bool:
    """Whether the image is deleted or killed, so listed only with changes-since."""
    return entry.get("deleted") is True or entry.get("status") in HIDDEN_STATUSES


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # bool is an int in Python, but no size


def kind_of(param: str) -> FilterKind:
    """The filter kind of a query parameter."""
    try:
        return KINDS[filter_of(param)]
    except KeyError:
        raise ValueError(f"not a modelled filter: {param!r}") from None


def matches_filter(entry: Entry, param: str, value: str, case: Case = Case.SENSITIVE) -> bool:
    """Whether `entry` satisfies the one filter `param=value` (upstream semantics, text compared as `case` says)."""
    kind = kind_of(param)
    return kind.matches(entry.get(kind.field), param, value, case)


def decidable(entry: Entry, query: Mapping[str, str]) -> bool:
    """Whether the fields `query` looks at have their documented types (SCHEMA judges them when not)."""
    return all(kind.fits(entry.get(kind.field)) for kind in map(kind_of, query))


def broken_filters(entry: Entry, query: Mapping[str, str], *, listing_rules: bool = True,
                   case: Case = Case.SENSITIVE) -> list[str]:
    """The parameters of `query` that `entry` does not satisfy, and with `listing_rules` the hidden-image rule."""
    broken = [param for param, value in query.items() if not matches_filter(entry, param, value, case)]
    if listing_rules and is_hidden(entry) and "changes-since" not in query:
        broken.append("(deleted or killed, listed without changes-since)")
    return broken


def describe(entry: Entry, query: Mapping[str, str]) -> str:
    """The image's id with the fields the query looks at, for a failure message."""
    fields = [kind_of(param).describe(entry, param) for param in query]
    if is_hidden(entry):
        fields.append(f"status={entry.get('status')!r} deleted={entry.get('deleted')!r}")
    return f"{entry.get('id')} ({', '.join(dict.fromkeys(fields))})"


def unsound(returned: Iterable[Entry], query: Mapping[str, str], *, listing_rules: bool = True,
            case: Case = Case.SENSITIVE) -> list[str]:
    """One line per returned image that does not belong in the answer to `query`."""
    lines = []
    for entry in returned:
        broken = broken_filters(entry, query, listing_rules=listing_rules, case=case) if decidable(entry, query) else []
        if broken:
            lines.append(f"returned {describe(entry, query)}, which breaks {', '.join(broken)}")
    return lines


def matching(universe: Iterable[Entry], query: Mapping[str, str], case: Case = Case.SENSITIVE) -> list[Entry]:
    """The images of `universe` that `query` must return: those that match every filter of it."""
    return [entry for entry in universe
            if decidable(entry, query) and not broken_filters(entry, query, listing_rules=False, case=case)]


def not_returned(expected: Iterable[Entry], returned_ids: set[str], query: Mapping[str, str]) -> list[str]:
    """One line per image of `expected` (images `query` must return) that was not returned.

    `returned_ids` holds ids as a walk does (as text): an image whose id is not a string is still found there.
    """
    return [f"did not return {describe(entry, query)}" for entry in expected
            if str(entry.get("id")) not in returned_ids]


def missing(universe: Iterable[Entry], returned_ids: set[str], query: Mapping[str, str],
            case: Case = Case.SENSITIVE) -> list[str]:
    """One line per image of `universe` that matches every filter of `query` but was not returned."""
    return not_returned(matching(universe, query, case), returned_ids, query)


@dataclass(frozen=True)
class Observed(ShortRepr):
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

    def texts(self, field: str) -> tuple[str, ...]:
        """The observed values of one text field an exact-match filter looks at."""
        return {"name": self.names, "container_format": self.container_formats,
                "disk_format": self.disk_formats, "status": self.statuses}[field]


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
    if kind not in KINDS:
        raise ValueError(f"not a modelled filter: {kind!r}")
    return KINDS[kind].queries(observed, limit)


def _round_robin(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(key, value) pairs ordered so that every key comes once before any key comes twice."""
    by_key: dict[str, list[str]] = {}
    for key, value in sorted(pairs):
        by_key.setdefault(key, []).append(value)
    rounds = max(map(len, by_key.values()), default=0)
    return [(key, values[i]) for i in range(rounds) for key, values in by_key.items() if i < len(values)]


def swapped(value: str) -> str:
    """`value` with its letters' case swapped one for one (ß stays ß): the same text to a case-insensitive target."""
    return "".join(other if len(other := char.swapcase()) == 1 and other.swapcase() == char else char for char in value)


def _exact(observed: tuple[str, ...]) -> st.SearchStrategy[str]:
    if not observed:
        return _TEXT
    own = st.sampled_from(observed)
    return own | own.map(swapped) | _TEXT


def _sizes(observed: Observed) -> st.SearchStrategy[str]:
    arbitrary = st.integers(min_value=0, max_value=2**53)
    if not observed.sizes:
        return arbitrary.map(str)
    near = st.tuples(st.sampled_from(observed.sizes), st.sampled_from((0, -1, 1))).map(lambda t: max(0, t[0] + t[1]))
    return (st.sampled_from(observed.sizes) | near | arbitrary).map(str)


def _times(observed: Observed) -> st.SearchStrategy[str]:
    moments = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2035, 1, 1))
    arbitrary = (moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%f"))
                 | moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")))
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
    own = st.sampled_from(observed.properties)
    return own | own.map(_swapped_value) | st.tuples(st.sampled_from(keys), _TEXT) | arbitrary


# Drawn values are built by named functions and st.just, not by lambdas over closure variables: hypothesis prints a
# mapped value as the call that built it, and a lambda's free variables would print by name, not value.
def _swapped_value(pair: tuple[str, str]) -> tuple[str, str]:
    return pair[0], swapped(pair[1])


def _property_param(pair: tuple[str, str]) -> tuple[str, str]:
    return PROPERTY_PREFIX + pair[0], pair[1]


def _param(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, str]]:
    return st.tuples(st.just(name), values)


Matcher = Callable[[Any, str, str, Case], bool]  # (entry field, parameter, value, text reading) -> whether it matches


def _describe_field(field: str) -> Callable[[Entry, str], str]:
    return lambda entry, param: f"{field}={entry.get(field)!r}"


@dataclass(frozen=True)
class FilterKind:
    """One v1.1 detail filter: the field it looks at, how it matches, how it is shown, how its values are drawn."""

    name: str
    field: str  # the entry field the filter looks at
    matches: Matcher  # upstream semantics, text compared under the run's Case reading
    fits: Callable[[Any], bool]  # whether the field has its documented type, so that the filter can be judged
    queries: Callable[[Observed, int], list[Query]]  # deterministic one-filter queries, at most `limit`
    values: Callable[[Observed], st.SearchStrategy[tuple[str, str]]]  # (parameter, value): own and arbitrary ones
    describe: Callable[[Entry, str], str]  # the field as a failure message shows it
    documented: bool = True  # in seed 004; an upstream-only filter is drawn only where upstream behaviour is certified


def _text_or_none(field: object) -> bool:
    return field is None or isinstance(field, str)


def _size_or_none(field: object) -> bool:
    return field is None or _is_size(field)


def _equal(field: object, param: str, value: str, case: Case) -> bool:
    return case.same(field, value)


def _at_least(field: object, param: str, value: str, case: Case) -> bool:
    return _is_size(field) and field >= int(value)  # type: ignore[operator]


def _at_most(field: object, param: str, value: str, case: Case) -> bool:
    return _is_size(field) and field <= int(value)  # type: ignore[operator]


def _updated_after(field: object, param: str, value: str, case: Case) -> bool:
    since, updated = parse_time(value), parse_time(field)
    return since is not None and updated is not None and updated > since


def _property_equal(field: object, param: str, value: str, case: Case) -> bool:
    """The property named by `param` equals `value`; a case-insensitive database folds the key as well."""
    if not isinstance(field, Mapping):
        return False
    key = param[len(PROPERTY_PREFIX):]
    return any(case.same(name, key) and case.same(text, value) for name, text in field.items())


def _describe_property(entry: Entry, param: str) -> str:
    key = param[len(PROPERTY_PREFIX):]
    properties = entry.get("properties")
    value = properties.get(key, "<absent>") if isinstance(properties, Mapping) else properties
    return f"properties[{key!r}]={value!r}"


def _property_queries(observed: Observed, limit: int) -> list[Query]:
    """One query per property value, every key before any key twice, then a few with the value's case swapped."""
    pairs = _round_robin(observed.properties)[:limit]
    flipped = [(key, swapped(value)) for key, value in spread(pairs, SWAPPED_VALUES) if swapped(value) != value]
    return [{PROPERTY_PREFIX + key: value} for key, value in dict.fromkeys([*pairs, *flipped])]


def _name_prefixes(observed: Observed) -> list[str]:
    """Halves of a few names: a prefix catches substring and prefix matching."""
    return [name[: len(name) // 2] for name in spread(observed.names, 5) if len(name) > 1]


def _with_swapped(values: Sequence[str], limit: int) -> list[str]:
    """`values` spread to `limit`, then a few of them with their case swapped (judged under the run's reading)."""
    chosen = spread(sorted(set(values)), limit)
    flipped = [swapped(v) for v in spread(chosen, SWAPPED_VALUES) if swapped(v) != v]
    return list(dict.fromkeys([*chosen, *flipped]))


def _exact_kind(name: str, probes: Callable[[Observed], list[str]] = lambda observed: []) -> FilterKind:
    """A filter that selects the images whose text field `name` equals the value."""

    def queries(observed: Observed, limit: int) -> list[Query]:
        values = [*observed.texts(name), *probes(observed)]
        return [{name: v} for v in _with_swapped(values, limit)]

    return FilterKind(name, name, _equal, _text_or_none, queries,
                      lambda observed: _param(name, _exact(observed.texts(name))),
                      _describe_field(name))


def _size_kind(name: str, matches: Matcher) -> FilterKind:
    """A filter that bounds the size."""
    return FilterKind(name, "size", matches, _size_or_none,
                      lambda observed, limit: [{name: str(v)} for v in spread(observed.sizes, limit)],
                      lambda observed: _param(name, _sizes(observed)),
                      _describe_field("size"))


KINDS: dict[str, FilterKind] = {kind.name: kind for kind in (
    _exact_kind("name", _name_prefixes),
    _exact_kind("container_format"),
    _exact_kind("disk_format"),
    _exact_kind("status"),
    _size_kind("size_min", _at_least),
    _size_kind("size_max", _at_most),
    FilterKind("changes-since", "updated_at", _updated_after, lambda field: parse_time(field) is not None,
               lambda observed, limit: [{"changes-since": v} for v in [EPOCH, *spread(observed.updated, limit - 1)]],
               lambda observed: _param("changes-since", _times(observed)),
               _describe_field("updated_at")),
    FilterKind("property", "properties", _property_equal, lambda field: isinstance(field, Mapping),
               _property_queries,
               lambda observed: _properties(observed).map(_property_param),
               _describe_property, documented=False),
)}
FILTERS = tuple(KINDS)


def drawn_filters(*, upstream_only: bool) -> tuple[str, ...]:
    """The filters combined queries draw from: every modelled one, or only seed 004's when upstream is not certified."""
    return FILTERS if upstream_only else DOCUMENTED_FILTERS


def filter_values(observed: Observed) -> dict[str, st.SearchStrategy[tuple[str, str]]]:
    """For each filter, a strategy of (parameter, value): the target's own values and arbitrary ones."""
    return {name: kind.values(observed) for name, kind in KINDS.items()}


def queries(observed: Observed, *, min_filters: int = 1, max_filters: int = 4, exclude: Iterable[str] = (),
            among: Sequence[str] = FILTERS) -> st.SearchStrategy[Query]:
    """Queries combining distinct filters of `among`, with values the target's images have and arbitrary ones."""
    return _queries(observed, min_filters, max_filters, frozenset(exclude), tuple(among))


# Tests draw these inside each example: the same strategy object is handed back, so hypothesis validates it once
# rather than once per example (what is drawn depends on the strategy's structure only, not on its identity).
@lru_cache(maxsize=64)
def _queries(observed: Observed, min_filters: int, max_filters: int, exclude: frozenset[str],
             among: tuple[str, ...]) -> st.SearchStrategy[Query]:
    values = filter_values(observed)
    kinds = [kind for kind in among if kind not in exclude]
    chosen = st.lists(st.sampled_from(kinds), min_size=min_filters, max_size=min(max_filters, len(kinds)), unique=True)
    return chosen.flatmap(lambda ks: st.tuples(*(values[k] for k in ks)).map(dict))


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

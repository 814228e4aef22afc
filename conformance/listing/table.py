"""A list API's filters as one table: each row names its query parameter, operators, the field it matches, how its
values are drawn, and the requirement it certifies. Tests, write-mode ground truth and sentences read the table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from hypothesis import strategies as st

from conformance.listing.domains import KEY_TEXT, SWAPPED_VALUES, TEXT_VALUES, Domain, Operator, in_list, spread
from conformance.listing.text import Case, swapped
from conformance.short_repr import ShortRepr

Entry = Mapping[str, Any]  # one image as the listing shows it
Query = dict[str, str]  # query parameters as sent
Pair = tuple[str, str]  # (query parameter, value)


def no_probes(observed: tuple[Any, ...]) -> list[str]:
    """No values beyond the observed ones."""
    return []


@dataclass(frozen=True)
class Filter:
    """One filter of a list API: the row of its table."""

    name: str  # the query parameter; for a keyed filter, how it is named (`property`)
    field: str  # the entry field it looks at
    domain: Domain  # what its values are: how they are read, compared, observed and drawn
    operators: tuple[Operator, ...]  # how a value selects; one, implied by the parameter, unless `prefixed`
    requirement: str  # the catalogue id of the requirement that this filter selects exactly its images
    keyed: str = ""  # the parameter prefix of a filter on a key of a mapping field (`property-<key>=v`)
    prefixed: bool = False  # the value names its operator (`gte:2020-01-01`)
    documented: bool = True  # in the vendor documents; an upstream-only filter is drawn only where upstream is
    reveals_hidden: bool = False  # brings back the images the listing hides without it
    probes: Callable[[tuple[Any, ...]], list[str]] = no_probes  # deterministic values beyond the observed ones
    default: Operator | None = None  # of a prefixed filter: a value naming none of its operators selects so, whole
    many: bool = False  # the field is a list: an entry matches when one of its items does (tags)
    # of a keyed filter: the mapping its keys name in an entry (default: the entry's `field`)
    mapping: Callable[[Entry], Mapping[str, Any]] | None = None
    reserved: frozenset[str] = frozenset()  # keys never drawn for a keyed filter (the call's own parameters)

    @cached_property  # read for every image and filter a query is judged on
    def is_keyed(self) -> bool:
        """Whether the parameter names a key of a mapping (`property-<key>`, or any parameter no other row takes)."""
        return bool(self.keyed) or self.mapping is not None

    @cached_property
    def _named_operators(self) -> dict[str, Operator]:
        return {str(op): op for op in self.operators}

    def accepts(self, param: str) -> bool:
        """Whether the query parameter `param` is this filter's."""
        return param.startswith(self.keyed) if self.is_keyed else param == self.name

    def _selection(self, value: str) -> tuple[Operator | None, str]:
        """(operator, operand) of a query value; no operator when a prefixed value names none of this filter's."""
        if not self.prefixed:
            return self.operators[0], value
        name, _, operand = value.partition(":")
        known = self._named_operators
        if name not in known and self.default is not None:
            return self.default, value
        return known.get(name), operand

    def _mapping(self, entry: Entry) -> object:
        return self.mapping(entry) if self.mapping is not None else entry.get(self.field)

    def _fields(self, entry: Entry, param: str, case: Case) -> list[object]:
        """The values `param` looks at in `entry`: the field (its items when `many`), or the values of its keys that
        `param` names."""
        if not self.is_keyed:
            field = entry.get(self.field)
            return list(field) if self.many and isinstance(field, list) else [] if self.many else [field]
        key = param[len(self.keyed):]
        field = self._mapping(entry)
        if not isinstance(field, Mapping):
            return []
        return [text for name, text in field.items() if case.same(name, key)]  # a folding database folds keys too

    def decides(self, entry: Entry, param: str, value: str) -> bool:
        """Whether `entry` as shown decides `param=value`: its field has the documented type, and (a time shown to
        the second) the value does not fall within the shown second."""
        if not self.fits(entry):
            return False
        operator, operand = self._selection(value)
        if operator is None or operator is Operator.IN:
            return True
        return all(self.domain.decides(field, operand) for field in self._fields(entry, param, Case.SENSITIVE))

    def matches(self, entry: Entry, param: str, value: str, case: Case) -> bool:
        """Whether `entry` satisfies `param=value`, text compared as `case` says."""
        operator, operand = self._selection(value)
        return operator is not None and any(operator.holds(self.domain, field, operand, case)
                                            for field in self._fields(entry, param, case))

    def fits(self, entry: Entry) -> bool:
        """Whether the field this filter looks at has its documented type (the schema requirement judges it if not)."""
        if self.is_keyed:
            return isinstance(self._mapping(entry), Mapping)
        field = entry.get(self.field)
        if self.many:
            return isinstance(field, list) and all(self.domain.fits(item) for item in field)
        return self.domain.fits(field)

    def describe(self, entry: Entry, param: str) -> str:
        """The field as a failure message shows it."""
        if not self.is_keyed:
            return f"{self.field}={entry.get(self.field)!r}"
        key = param[len(self.keyed):]
        field = self._mapping(entry)
        if self.mapping is not None:
            return f"{key}={field.get(key, '<absent>') if isinstance(field, Mapping) else field!r}"
        value = field.get(key, "<absent>") if isinstance(field, Mapping) else field
        return f"{self.field}[{key!r}]={value!r}"

    def observe(self, entries: Iterable[Entry]) -> tuple[Any, ...]:
        """The distinct values `entries` offer this filter, sorted: (key, value) pairs for a keyed filter."""
        if not self.is_keyed:
            if self.many:
                return self.domain.observe(item for entry in entries
                                           if isinstance(entry.get(self.field), list) for item in entry[self.field])
            return self.domain.observe(entry.get(self.field) for entry in entries)
        mappings = [mapping for entry in entries if isinstance(mapping := self._mapping(entry), Mapping)]
        return tuple(sorted({(key, value) for mapping in mappings for key, value in mapping.items()
                             if isinstance(key, str) and isinstance(value, str)}))

    def queries(self, observed: tuple[Any, ...], limit: int) -> list[Query]:
        """Deterministic one-filter queries with the observed values (every one when they are at most `limit`)."""
        if self.is_keyed:
            return [{self.keyed + key: value} for key, value in _keyed_values(observed, limit)]
        values = self.domain.pick(observed, self.probes(observed), limit)
        queries = [{self.name: spelled} for value in values for spelled in self._spellings(value)]
        if Operator.IN in self.operators:  # lists of two values too: `in:` selects either
            queries += [{self.name: f"in:{in_list(pair)}"} for pair in zip(values[::2], values[1::2], strict=False)]
        return queries

    def exact_queries(self, observed: tuple[Any, ...]) -> list[Query]:
        """One query per observed value, as it is (no probes, no case swapped)."""
        if self.is_keyed:
            return [{self.keyed + key: value} for key, value in observed]
        return [{self.name: spelled} for value in observed for spelled in self._spellings(str(value))]

    def _free(self, pair: tuple[str, str]) -> bool:
        return self.keyed + pair[0] not in self.reserved

    def _spellings(self, value: str) -> list[str]:
        if not self.prefixed:
            return [value]
        bare = [value] if self.default is not None else []
        return [*bare, *(f"{op}:{value}" for op in self.operators)]

    def values(self, observed: tuple[Any, ...]) -> st.SearchStrategy[Pair]:
        """(parameter, value) pairs: the observed values, values near them and arbitrary ones."""
        if self.is_keyed:
            pairs = _keyed_pairs(observed)
            if self.reserved:
                pairs = pairs.filter(self._free)
            return st.tuples(st.just(self.keyed), pairs).map(_keyed_param)
        drawn = self.domain.draw(observed)
        if Operator.IN in self.operators:
            listed = st.lists(drawn, min_size=1, max_size=3).map(_in_value)
            drawn = drawn | listed if self.default is not None else listed
        elif self.prefixed and self.default is not None:
            spelled = st.tuples(st.sampled_from([str(op) for op in self.operators]), drawn).map(_operator_value)
            drawn = drawn | spelled
        elif self.prefixed:
            drawn = st.tuples(st.sampled_from([str(op) for op in self.operators]), drawn).map(_operator_value)
        return st.tuples(st.just(self.name), drawn)


# Drawn values are built by named functions and st.just, not by lambdas over closure variables: hypothesis prints a
# mapped value as the call that built it, and a lambda's free variables would print by name, not value.
def _keyed_param(drawn: tuple[str, tuple[str, str]]) -> Pair:
    prefix, (key, value) = drawn
    return prefix + key, value


def _operator_value(drawn: tuple[str, str]) -> str:
    return f"{drawn[0]}:{drawn[1]}"


def _in_value(values: list[str]) -> str:
    return f"in:{in_list(values)}"


def _swapped_value(pair: tuple[str, str]) -> tuple[str, str]:
    return pair[0], swapped(pair[1])


def _keyed_pairs(observed: tuple[Any, ...]) -> st.SearchStrategy[tuple[str, str]]:
    arbitrary = st.tuples(KEY_TEXT, TEXT_VALUES)
    if not observed:
        return arbitrary
    keys = tuple(sorted({key for key, _ in observed}))
    own = st.sampled_from(observed)
    return own | own.map(_swapped_value) | st.tuples(st.sampled_from(keys), TEXT_VALUES) | arbitrary


def _keyed_values(observed: Sequence[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    """One pair per value, every key before any key twice, then a few with the value's case swapped."""
    by_key: dict[str, list[str]] = {}
    for key, value in sorted(observed):
        by_key.setdefault(key, []).append(value)
    rounds = max(map(len, by_key.values()), default=0)
    pairs = [(key, values[i]) for i in range(rounds) for key, values in by_key.items() if i < len(values)][:limit]
    flipped = [(key, swapped(value)) for key, value in spread(pairs, SWAPPED_VALUES) if swapped(value) != value]
    return list(dict.fromkeys([*pairs, *flipped]))


def never(entry: Entry) -> bool:
    """No image is hidden."""
    return False


@dataclass(frozen=True)
class ListApi:
    """A list API: the request it is, its catalogue operation, its filter table, and which images it hides."""

    request: str  # `GET /v1.1/images/detail`
    operation: str  # the catalogue operation its requirements belong to
    filters: tuple[Filter, ...]
    hidden: Callable[[Entry], bool] = never  # listed only with a filter that reveals hidden images
    hidden_named: str = ""  # how a failure names the hidden images (`deleted or killed`)
    hidden_fields: tuple[str, ...] = ()  # the fields a failure shows of a hidden image

    def __post_init__(self) -> None:
        names = [f.name for f in self.filters]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.request}: a filter is declared twice in {names}")

    def filter_of(self, param: str) -> Filter:
        """The filter a query parameter belongs to (`property-os` belongs to `property`); ValueError if none."""
        row = self._rows_by_param.get(param)
        if row is None:
            row = next((row for row in self.filters if row.accepts(param)), None)
            if row is None:
                raise ValueError(f"not a modelled filter of {self.request}: {param!r}")
            self._rows_by_param[param] = row
        return row

    @cached_property  # filter_of is asked for every image and filter a query is judged on
    def _rows_by_param(self) -> dict[str, Filter]:
        return {}

    def named(self, name: str) -> Filter:
        """The filter called `name`; ValueError if none."""
        for row in self.filters:
            if row.name == name:
                return row
        raise ValueError(f"not a modelled filter of {self.request}: {name!r}")

    @property
    def revealing(self) -> tuple[str, ...]:
        """The filters that bring back hidden images."""
        return tuple(f.name for f in self.filters if f.reveals_hidden)

    def reveals(self, query: Mapping[str, str]) -> bool:
        """Whether `query` lists hidden images too."""
        return any(self.filter_of(param).reveals_hidden for param in query)

    def observed(self, entries: Iterable[Entry]) -> Observed:
        """The values `entries` offer each filter."""
        entries = list(entries)
        return Observed(tuple((row.name, row.observe(entries)) for row in self.filters))


@dataclass(frozen=True)
class Observed(ShortRepr):
    """The filter values a target's own images offer, by filter, sorted so that strategies are reproducible."""

    by_filter: tuple[tuple[str, tuple[Any, ...]], ...]

    def __repr__(self) -> str:
        return f"Observed({', '.join(f'{len(values)} {name}' for name, values in self.by_filter)})"

    def of(self, name: str) -> tuple[Any, ...]:
        """The observed values of the filter `name`."""
        return dict(self.by_filter).get(name, ())

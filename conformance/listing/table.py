"""A list API's filters as one table: each row names its query parameter, operators, the field it matches, how its
values are drawn, and the requirement it certifies. Tests, write-mode ground truth and sentences read the table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance.listing.domains import KEY_TEXT, SWAPPED_VALUES, TEXT_VALUES, Domain, Operator, spread
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

    def accepts(self, param: str) -> bool:
        """Whether the query parameter `param` is this filter's."""
        return param.startswith(self.keyed) if self.keyed else param == self.name

    def _selection(self, value: str) -> tuple[Operator | None, str]:
        """(operator, operand) of a query value; no operator when a prefixed value names none of this filter's."""
        if not self.prefixed:
            return self.operators[0], value
        name, _, operand = value.partition(":")
        known = {str(op): op for op in self.operators}
        return known.get(name), operand

    def _fields(self, entry: Entry, param: str, case: Case) -> list[object]:
        """The values `param` looks at in `entry`: the field, or the values of its keys that `param` names."""
        field = entry.get(self.field)
        if not self.keyed:
            return [field]
        key = param[len(self.keyed):]
        if not isinstance(field, Mapping):
            return []
        return [text for name, text in field.items() if case.same(name, key)]  # a folding database folds keys too

    def matches(self, entry: Entry, param: str, value: str, case: Case) -> bool:
        """Whether `entry` satisfies `param=value`, text compared as `case` says."""
        operator, operand = self._selection(value)
        return operator is not None and any(operator.holds(self.domain, field, operand, case)
                                            for field in self._fields(entry, param, case))

    def fits(self, entry: Entry) -> bool:
        """Whether the field this filter looks at has its documented type (the schema requirement judges it if not)."""
        field = entry.get(self.field)
        return isinstance(field, Mapping) if self.keyed else self.domain.fits(field)

    def describe(self, entry: Entry, param: str) -> str:
        """The field as a failure message shows it."""
        if not self.keyed:
            return f"{self.field}={entry.get(self.field)!r}"
        key = param[len(self.keyed):]
        field = entry.get(self.field)
        value = field.get(key, "<absent>") if isinstance(field, Mapping) else field
        return f"{self.field}[{key!r}]={value!r}"

    def observe(self, entries: Iterable[Entry]) -> tuple[Any, ...]:
        """The distinct values `entries` offer this filter, sorted: (key, value) pairs for a keyed filter."""
        if not self.keyed:
            return self.domain.observe(entry.get(self.field) for entry in entries)
        return tuple(sorted({
            (key, value)
            for entry in entries if isinstance(entry.get(self.field), Mapping)
            for key, value in entry[self.field].items() if isinstance(key, str) and isinstance(value, str)
        }))

    def queries(self, observed: tuple[Any, ...], limit: int) -> list[Query]:
        """Deterministic one-filter queries with the observed values (every one when they are at most `limit`)."""
        if self.keyed:
            return [{self.keyed + key: value} for key, value in _keyed_values(observed, limit)]
        values = self.domain.pick(observed, self.probes(observed), limit)
        return [{self.name: spelled} for value in values for spelled in self._spellings(value)]

    def exact_queries(self, observed: tuple[Any, ...]) -> list[Query]:
        """One query per observed value, as it is (no probes, no case swapped)."""
        if self.keyed:
            return [{self.keyed + key: value} for key, value in observed]
        return [{self.name: spelled} for value in observed for spelled in self._spellings(str(value))]

    def _spellings(self, value: str) -> list[str]:
        return [f"{op}:{value}" for op in self.operators] if self.prefixed else [value]

    def values(self, observed: tuple[Any, ...]) -> st.SearchStrategy[Pair]:
        """(parameter, value) pairs: the observed values, values near them and arbitrary ones."""
        if self.keyed:
            return st.tuples(st.just(self.keyed), _keyed_pairs(observed)).map(_keyed_param)
        drawn = self.domain.draw(observed)
        if self.prefixed:
            drawn = st.tuples(st.sampled_from([str(op) for op in self.operators]), drawn).map(_operator_value)
        return st.tuples(st.just(self.name), drawn)


# Drawn values are built by named functions and st.just, not by lambdas over closure variables: hypothesis prints a
# mapped value as the call that built it, and a lambda's free variables would print by name, not value.
def _keyed_param(drawn: tuple[str, tuple[str, str]]) -> Pair:
    prefix, (key, value) = drawn
    return prefix + key, value


def _operator_value(drawn: tuple[str, str]) -> str:
    return f"{drawn[0]}:{drawn[1]}"


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
        for row in self.filters:
            if row.accepts(param):
                return row
        raise ValueError(f"not a modelled filter of {self.request}: {param!r}")

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

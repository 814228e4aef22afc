"""How a listing is judged against a list API's filter table: sound (every returned image matches), complete (every
matching image is returned), and the hypothesis queries that combine the table's filters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import pytest
from hypothesis import strategies as st

from conformance import catalog
from conformance.listing.table import Entry, ListApi, Observed, Pair, Query
from conformance.listing.text import Case


def sentence(requirement: str) -> str:
    """The requirement's catalogue sentence, without its closing period, to title a test's problems with."""
    return catalog.requirements()[requirement].text.rstrip().removesuffix(".")


def requirement_params(api: ListApi) -> list[object]:
    """One pytest parameter per filter of `api`, named after it and marked with the requirement it certifies."""
    return [pytest.param(row, marks=pytest.mark.requirement(row.requirement), id=row.name) for row in api.filters]


def matches_filter(api: ListApi, entry: Entry, param: str, value: str, case: Case = Case.SENSITIVE) -> bool:
    """Whether `entry` satisfies the one filter `param=value`, text compared as `case` says."""
    return api.filter_of(param).matches(entry, param, value, case)


def decidable(api: ListApi, entry: Entry, query: Mapping[str, str]) -> bool:
    """Whether the fields `query` looks at have their documented types (the schema requirement judges them if not),
    and show enough to decide each filter."""
    return all(api.filter_of(param).decides(entry, param, value) for param, value in query.items())


def broken_filters(api: ListApi, entry: Entry, query: Mapping[str, str], *, listing_rules: bool = True,
                   case: Case = Case.SENSITIVE) -> list[str]:
    """The parameters of `query` that `entry` does not satisfy, and with `listing_rules` the hidden-image rule."""
    broken = [param for param, value in query.items() if not matches_filter(api, entry, param, value, case)]
    if listing_rules and api.hidden(entry) and not api.reveals(query):
        revealed_by = f", listed without {' or '.join(api.revealing)}" if api.revealing else ""
        broken.append(f"({api.hidden_named}{revealed_by})")
    return broken


def describe(api: ListApi, entry: Entry, query: Mapping[str, str]) -> str:
    """The image's id with the fields the query looks at, for a failure message."""
    fields = [api.filter_of(param).describe(entry, param) for param in query]
    if api.hidden(entry):
        fields.append(" ".join(f"{name}={entry.get(name)!r}" for name in api.hidden_fields))
    return f"{entry.get('id')} ({', '.join(dict.fromkeys(fields))})"


def unsound(api: ListApi, returned: Iterable[Entry], query: Mapping[str, str], *, listing_rules: bool = True,
            case: Case = Case.SENSITIVE) -> list[str]:
    """One line per returned image that does not belong in the answer to `query`."""
    lines = []
    for entry in returned:
        broken = (broken_filters(api, entry, query, listing_rules=listing_rules, case=case)
                  if decidable(api, entry, query) else [])
        if broken:
            lines.append(f"returned {describe(api, entry, query)}, which breaks {', '.join(broken)}")
    return lines


def matching(api: ListApi, universe: Iterable[Entry], query: Mapping[str, str],
             case: Case = Case.SENSITIVE) -> list[Entry]:
    """The images of `universe` that `query` must return: those that match every filter of it."""
    return [entry for entry in universe
            if decidable(api, entry, query) and not broken_filters(api, entry, query, listing_rules=False, case=case)]


def not_returned(api: ListApi, expected: Iterable[Entry], returned_ids: set[str],
                 query: Mapping[str, str]) -> list[str]:
    """One line per image of `expected` (images `query` must return) that was not returned.

    `returned_ids` holds ids as a walk does (as text): an image whose id is not a string is still found there.
    """
    return [f"did not return {describe(api, entry, query)}" for entry in expected
            if str(entry.get("id")) not in returned_ids]


def missing(api: ListApi, universe: Iterable[Entry], returned_ids: set[str], query: Mapping[str, str],
            case: Case = Case.SENSITIVE) -> list[str]:
    """One line per image of `universe` that matches every filter of `query` but was not returned."""
    return not_returned(api, matching(api, universe, query, case), returned_ids, query)


def drawn_filters(api: ListApi, *, upstream_only: bool) -> tuple[str, ...]:
    """The filters combined queries draw from: every one of the table, or only the documented ones when behaviour
    only upstream documents is not certified."""
    return tuple(row.name for row in api.filters if upstream_only or row.documented)


def queries(api: ListApi, observed: Observed, *, min_filters: int = 1, max_filters: int = 4,
            exclude: Iterable[str] = (), among: Sequence[str] | None = None) -> st.SearchStrategy[Query]:
    """Queries combining distinct filters of `among` (default: all of the table), with values the target's images
    have and arbitrary ones."""
    chosen = tuple(row.name for row in api.filters) if among is None else tuple(among)
    return _queries(api, observed, min_filters, max_filters, frozenset(exclude), chosen)


# Tests draw these inside each example: the same strategy object is handed back, so hypothesis validates it once
# rather than once per example (what is drawn depends on the strategy's structure only, not on its identity).
@lru_cache(maxsize=64)
def _queries(api: ListApi, observed: Observed, min_filters: int, max_filters: int, exclude: frozenset[str],
             among: tuple[str, ...]) -> st.SearchStrategy[Query]:
    values: dict[str, st.SearchStrategy[Pair]] = {row.name: row.values(observed.of(row.name)) for row in api.filters}
    names = [name for name in among if name not in exclude]
    chosen = st.lists(st.sampled_from(names), min_size=min_filters, max_size=min(max_filters, len(names)), unique=True)
    return _combined(chosen, values)


@st.composite
def _combined(draw: st.DrawFn, chosen: st.SearchStrategy[list[str]],
              values: dict[str, st.SearchStrategy[Pair]]) -> Query:
    # Each filter's values drawn from its own strategy, built once: a strategy built per example (a flatmap to the
    # tuple of the chosen filters) would be validated by hypothesis again at each example.
    return dict(draw(values[name]) for name in draw(chosen))

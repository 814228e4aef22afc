"""GET /v2/images?filters — upstream api-ref "List images": each filter alone, in any combination, tags together and
`in:` lists with quoting, judged against the unfiltered listings (default, every visibility, hidden images).

Hypothesis draws filter values from the target's own images and arbitrary ones (names with ':', commas, non-ASCII,
case twins) and shrinks a failure to a minimal query. Text is compared the one way the run read from the target.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator
from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.batches import batch_of, batched, judged_in_order
from conformance.checks import Problems
from conformance.evidence import Exchange
from conformance.glance.v2_list_filters import FIELD_FILTERS, LIST
from conformance.glance.v2_list_walks import WALK_LIMIT, Universe, Walk, first_pages, request_text, walk_list
from conformance.listing.domains import in_list
from conformance.listing.judging import describe, matching, not_returned, queries, requirement_params, sentence, unsound
from conformance.listing.table import Filter, Observed, Query
from conformance.listing.text import Case
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpResponse

MAX_FILTERS = 3
MAX_FILTER_VALUES = 30  # values tried per filter
SOUND_SAMPLE = 100  # images of a query judged sound when the ground truth cannot judge it complete
OPERATORS = ("in:", "eq:")  # a value starting so is read as an operator upstream


def walked(glance: GlanceClient, query: dict[str, Any], universe: Universe, problems: Problems, *,
           sound_only: bool = False, **options: Any) -> Walk | None:
    """The pages of `query` (as many as the ground truth read); None (and a problem noted) when it is not answered.

    `sound_only`: the caller judges completeness only against a whole ground truth; when the ground truth was cut (a
    catalogue larger than the run reads), one page of SOUND_SAMPLE images is read, so that the work stays flat.
    """
    pages, hint = universe.pages()
    if sound_only and universe.truncated:
        options["limit"], pages = SOUND_SAMPLE, 1
    walk = walk_list(glance, query, max_pages=pages, raise_hint=hint, **options)
    if walk.problem:
        problems.add(f"{request_text(query)}: {walk.problem}", walk.problem_exchange)
        return None
    return walk


def asked_ahead(glance: GlanceClient, queries: list[Query], universe: Universe) -> Generator[HttpResponse, None, None]:
    """The first pages `judge` walks for `queries`, up to --concurrency of them asked at once ahead of their turn."""
    return first_pages(glance, queries, limit=SOUND_SAMPLE if universe.truncated else WALK_LIMIT)


def judge(glance: GlanceClient, query: Query, universe: Universe, case: Case, problems: Problems, *,
          sound: bool = True, first: HttpResponse | None = None) -> None:
    """Walk `query`: note each returned image that breaks it, and each image of the ground truth it must return but
    did not (a walk cut at its page cap judged sound only). `first`: its first page, asked ahead (asked_ahead)."""
    found: list[tuple[str, Exchange]] = []

    def on_page(entries: list[dict[str, Any]], exchange: Exchange) -> None:
        lines = unsound(LIST, entries, query, listing_rules=False, case=case) if sound else []  # HIDES: the rules
        found.extend((f"{request_text(query)}: {line}", exchange) for line in lines)

    walk = walked(glance, query, universe, problems, sound_only=True, keep=False, on_page=on_page, first=first)
    if walk is None:
        return
    problems.judged("queries")
    for line, exchange in found:
        problems.add(line, exchange)
    if walk.truncated or universe.truncated:
        problems.not_judged(walk.cut_reason)
        return
    expected = matching(LIST, universe.entries_for(query), query, case)
    for line in not_returned(LIST, expected, set(walk.ids), query):
        problems.add(f"{request_text(query)}: {line}", walk.exchange)


@pytest.mark.parametrize("row", requirement_params(LIST))
def test_each_filter_returns_exactly_the_images_it_selects(row: Filter, glance: GlanceClient,
                                                           v2_list_universe: Universe, v2_list_case: Case) -> None:
    query_list = row.queries(row.observe(v2_list_universe.all_entries), MAX_FILTER_VALUES)
    if not query_list:
        pytest.skip(f"no listed image offers a value for the {row.name} filter")
    problems = Problems(f"{sentence(row.requirement)} ({v2_list_case}, as this target compares)")
    for query, first in zip(query_list, asked_ahead(glance, query_list, v2_list_universe), strict=True):
        judge(glance, query, v2_list_universe, v2_list_case, problems, first=first)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-LIST-FILTER-SOUND")
@batched(walks=True)
@given(data=st.data())
def test_every_returned_image_matches_every_filter(data: st.DataObject, glance: GlanceClient,
                                                   v2_list_universe: Universe, v2_list_observed: Observed,
                                                   v2_list_case: Case) -> None:
    drawn = data.draw(batch_of(queries(LIST, v2_list_observed, max_filters=MAX_FILTERS)), label="queries")

    def judge_sound(query: Query, firsts: list[HttpResponse | None]) -> None:
        problems = Problems(f"{request_text(query)} must return only images that match every filter "
                            f"({v2_list_case})")
        found: list[tuple[str, Exchange]] = []

        def on_page(entries: list[dict[str, Any]], exchange: Exchange) -> None:
            found.extend((line, exchange) for line in unsound(LIST, entries, query, case=v2_list_case))

        walk = walked(glance, query, v2_list_universe, problems, sound_only=True, keep=False, on_page=on_page,
                      first=firsts[0])
        problems.judged("queries")
        if walk is not None and walk.truncated:
            problems.not_judged(f"returned images past the first {walk.max_pages} page(s) of {walk.limit} "
                                f"(raise {walk.raise_hint})")
        for line, exchange in found:
            problems.add(line, exchange)
        problems.check()

    judged_in_order(drawn, judge_sound, lambda asked: asked_ahead(glance, asked, v2_list_universe))


@pytest.mark.requirement("GLANCE-V2-LIST-FILTER-COMPLETE")
@batched(walks=True)
@given(data=st.data())
def test_every_matching_image_is_returned(data: st.DataObject, glance: GlanceClient, v2_list_universe: Universe,
                                          v2_list_observed: Observed, v2_list_case: Case) -> None:
    drawn = data.draw(batch_of(queries(LIST, v2_list_observed, max_filters=MAX_FILTERS)), label="queries")

    def judge_complete(query: Query, firsts: list[HttpResponse | None]) -> None:
        problems = Problems(f"{request_text(query)} must return every image of the unfiltered listings that matches "
                            f"every filter ({v2_list_case})")
        expected = matching(LIST, v2_list_universe.entries_for(query), query, v2_list_case)
        wanted = {str(entry.get("id")) for entry in expected}
        walk = walked(glance, query, v2_list_universe, problems, keep=False, until=lambda w: wanted.issubset(w.ids),
                      first=firsts[0])
        if walk is not None and (walk.truncated or v2_list_universe.truncated) and not wanted.issubset(walk.ids):
            problems.not_judged(walk.cut_reason)
        elif walk is not None:
            problems.judged("queries")
            for line in not_returned(LIST, expected, set(walk.ids), query):
                problems.add(line, walk.exchange)
        problems.check()

    judged_in_order(drawn, judge_complete, lambda asked: first_pages(glance, asked))


@pytest.mark.requirement("GLANCE-V2-LIST-FILTER-COMPLETE")
def test_each_image_is_returned_by_its_own_name_and_formats(glance: GlanceClient, v2_list_universe: Universe,
                                                           v2_list_case: Case) -> None:
    # Drawn queries may all miss the target's images; a query built from a listed image matches at least that one.
    own: dict[tuple[tuple[str, str], ...], None] = {}
    for entry in v2_list_universe.default.entries:
        pairs = tuple((name, entry[name]) for name in ("name", "disk_format", "container_format")
                      if isinstance(entry.get(name), str) and entry[name] and not entry[name].startswith(OPERATORS))
        own.setdefault(pairs)
    problems = Problems("A query combining an image's own name and formats must return every image that matches "
                        f"them ({v2_list_case})")
    asked: list[Query] = [dict(pairs) for pairs in list(own)[:20]]
    for query, first in zip(asked, asked_ahead(glance, asked, v2_list_universe), strict=True):
        judge(glance, query, v2_list_universe, v2_list_case, problems, sound=False, first=first)
    if len(own) > 20:
        problems.not_judged("more distinct combinations of name and formats (the first 20 are queried)", len(own) - 20)
    problems.check()


@cache  # drawn inside each example: the same strategy object each time (see batch_of)
def narrowings(observed: Observed) -> st.SearchStrategy[tuple[Query, Query]]:
    """A query and a filter it does not use, to add to it."""

    @st.composite
    def narrowing(draw: st.DrawFn) -> tuple[Query, Query]:
        query = draw(queries(LIST, observed, min_filters=0, max_filters=MAX_FILTERS - 1), label="query")
        used = {LIST.filter_of(param).name for param in query}
        extra = draw(queries(LIST, observed, min_filters=1, max_filters=1, exclude=used, among=FIELD_FILTERS),
                     label="added filter")
        return query, extra

    return narrowing()


@pytest.mark.requirement("GLANCE-V2-LIST-FILTER-MONOTONIC")
@batched(walks=True)
@given(data=st.data())
def test_adding_a_filter_never_adds_an_image(data: st.DataObject, glance: GlanceClient, v2_list_universe: Universe,
                                             v2_list_observed: Observed) -> None:
    drawn = data.draw(batch_of(narrowings(v2_list_observed)), label="queries and added filters")

    def judge_monotonic(case: tuple[Query, Query], firsts: list[HttpResponse | None]) -> None:
        query, extra = case
        narrower = {**query, **extra}
        problems = Problems(f"Adding {request_text(extra)[len('GET /v2/images?'):]} to {request_text(query)} must "
                            "not add images")
        narrow_first, broad_first = firsts
        narrow = walked(glance, narrower, v2_list_universe, problems, first=narrow_first)
        if narrow is not None and narrow.truncated:
            problems.not_judged(narrow.cut_reason)
        elif narrow is not None:
            wanted = set(narrow.ids)
            broad = walked(glance, query, v2_list_universe, problems, keep=False,
                           until=lambda w: wanted.issubset(w.ids), first=broad_first)
            if broad is not None and broad.truncated and not wanted.issubset(broad.ids):
                problems.not_judged(broad.cut_reason)
            elif broad is not None:
                problems.judged("queries")
                for entry in narrow.entries:
                    if str(entry.get("id")) not in set(broad.ids):
                        problems.add(f"{request_text(narrower)} returned {describe(LIST, entry, narrower)}, which "
                                     f"{request_text(query)} did not", narrow.exchange)
        problems.check()

    def both(cases: list[tuple[Query, Query]]) -> Generator[HttpResponse, None, None]:  # the narrower first
        return first_pages(glance, [asked for query, extra in cases for asked in ({**query, **extra}, query)])

    judged_in_order(drawn, judge_monotonic, both, per_value=2)


def _tag_pairs(universe: Universe) -> list[tuple[str, str]]:
    pairs: dict[tuple[str, str], None] = {}
    for entry in universe.default.entries:
        tags = [tag for tag in entry.get("tags") or () if isinstance(tag, str)]
        for a, b in itertools.pairwise(tags):
            pairs.setdefault((a, b))
    return list(pairs)


@pytest.mark.requirement("GLANCE-V2-LIST-TAGS-ALL")
def test_repeated_tags_select_images_carrying_all_of_them(glance: GlanceClient, v2_list_universe: Universe,
                                                          v2_list_case: Case) -> None:
    pairs = _tag_pairs(v2_list_universe)
    if not pairs:
        pytest.skip("no listed image carries two tags")
    problems = Problems(f"{sentence('GLANCE-V2-LIST-TAGS-ALL')} ({v2_list_case})")
    asked: list[dict[str, Any]] = [{"tag": [a, b]} for a, b in pairs[:15]]
    for (a, b), query, first in zip(pairs[:15], asked, first_pages(glance, asked), strict=True):
        walk = walked(glance, query, v2_list_universe, problems, first=first)
        if walk is None:
            continue
        problems.judged("queries")
        tag_row = LIST.named("tag")
        for entry in walk.entries:
            if not all(tag_row.matches(entry, "tag", tag, v2_list_case) for tag in (a, b)):
                problems.add(f"{request_text(query)}: returned {entry.get('id')} (tags {entry.get('tags')!r})",
                             walk.exchange)
        if walk.truncated or v2_list_universe.truncated:
            problems.not_judged(walk.cut_reason)
            continue
        for entry in v2_list_universe.entries_for({}):
            if all(tag_row.matches(entry, "tag", tag, v2_list_case) for tag in (a, b)) and \
                    str(entry.get("id")) not in walk.ids:
                problems.add(f"{request_text(query)}: did not return {entry.get('id')} (tags {entry.get('tags')!r})",
                             walk.exchange)
    problems.check()


@cache  # drawn inside each example: the same strategy object each time (see batch_of)
def quoted_lists(names: tuple[str, ...], with_comma: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    """A name holding a comma and up to two other names, in that order."""
    return st.tuples(st.sampled_from(with_comma), st.lists(st.sampled_from(names), max_size=2)).map(
        lambda drawn: (drawn[0], *drawn[1]))


@pytest.mark.requirement("GLANCE-V2-LIST-IN-QUOTING")
@batched(walks=True)
@given(data=st.data())
def test_an_in_list_keeps_quoted_commas(data: st.DataObject, glance: GlanceClient, v2_list_universe: Universe,
                                        v2_list_case: Case) -> None:
    names = sorted({entry["name"] for entry in v2_list_universe.default.entries
                    if isinstance(entry.get("name"), str) and entry["name"] and '"' not in entry["name"]
                    and "\\" not in entry["name"]})
    with_comma = [name for name in names if "," in name]
    if not with_comma:
        pytest.skip("no listed image has a name holding a comma")
    drawn = data.draw(batch_of(quoted_lists(tuple(names), tuple(with_comma))), label="name lists")
    asked: list[Query] = [{"name": "in:" + in_list(list(chosen))} for chosen in drawn]

    def judge_quoting(query: Query, firsts: list[HttpResponse | None]) -> None:
        problems = Problems(f"{sentence('GLANCE-V2-LIST-IN-QUOTING')} ({v2_list_case})")
        judge(glance, query, v2_list_universe, v2_list_case, problems, first=firsts[0])
        problems.check()

    judged_in_order(asked, judge_quoting, lambda queries: asked_ahead(glance, queries, v2_list_universe))

"""GET /v1.1/images/detail?filters — the filters of seed 004 §请求消息 in any combination, against a local model.

The ground truth is the unfiltered listing (and the changes-since listing that brings deleted and killed images
back); hypothesis draws filter values from the target's own images and arbitrary ones, and shrinks a failure to a
minimal query.
Text is compared the one way the run read from the target (`v1_filter_case`). Under a profile that does not certify
upstream-only behaviour (ims), only the seven filters seed 004 names are combined and the hidden-image rule is left
to HIDES-DELETED.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from functools import cache
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.batches import batch_of, batched, judged_in_order
from conformance.catalog import Profile
from conformance.checks import Problems
from conformance.evidence import Exchange
from conformance.glance.v1_1_filters import DETAIL
from conformance.glance.walks import Universe, Walk, first_pages, pages_text, walk_detail
from conformance.listing.judging import describe, drawn_filters, matching, not_returned, queries, unsound
from conformance.listing.table import Observed, Query
from conformance.listing.text import Case
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpResponse

MAX_FILTERS = 4


def url(query: Query) -> str:
    """The request the query stands for."""
    return f"GET /v1.1/images/detail?{urlencode(query)}"


def walked(glance: GlanceClient, query: Query, universe: Universe, problems: Problems, *, keep: bool = True,
           on_page: Callable[[list[dict[str, Any]], Exchange], None] | None = None,
           until: Callable[[Walk], bool] | None = None, first: HttpResponse | None = None) -> Walk | None:
    """The pages of `query` (as many as the run's ground truth lets follow, or until `until`; `first` the first one
    when it was asked ahead); None (and a problem noted) when the target does not answer the query."""
    pages, hint = universe.follow_pages()
    walk = walk_detail(glance, query, max_pages=pages, raise_hint=hint, keep=keep, on_page=on_page, until=until,
                       first=first)
    if walk.problem:
        problems.add(f"{url(query)}: {walk.problem}", walk.problem_exchange)
        return None
    return walk


def judge_complete(glance: GlanceClient, query: Query, universe: Universe, case: Case, problems: Problems,
                   shown: str = "", first: HttpResponse | None = None) -> None:
    """Walk `query` until every image of the ground truth that matches it is returned; note each one it did not
    return (a walk cut before that is not judged)."""
    expected = matching(DETAIL, universe.entries_for(query), query, case)
    wanted = {str(entry.get("id")) for entry in expected}
    walk = walked(glance, query, universe, problems, keep=False, until=lambda walk: wanted.issubset(walk.ids),
                  first=first)
    if walk is None:
        return
    if walk.truncated:
        problems.not_judged(walk.cut_reason)
        return
    problems.judged("queries")
    for line in not_returned(DETAIL, expected, set(walk.ids), query):
        problems.add(f"{shown}{line}", walk.exchange)


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-FILTER-SOUND")
@batched(walks=True)
@given(data=st.data())
def test_every_returned_image_matches_every_filter(data: st.DataObject, glance: GlanceClient,
                                                   v1_detail_universe: Universe, v1_observed: Observed,
                                                   v1_filter_case: Case, http_profile: Profile) -> None:
    upstream = http_profile.upstream_behaviour
    among = drawn_filters(DETAIL, upstream_only=upstream)
    drawn = data.draw(batch_of(queries(DETAIL, v1_observed, max_filters=MAX_FILTERS, among=among)), label="queries")

    def judge_sound(query: Query, firsts: list[HttpResponse | None]) -> None:
        problems = Problems(f"{url(query)} must return only images that match every filter ({v1_filter_case})")
        found: list[tuple[str, Exchange]] = []

        def judge(entries: list[dict[str, Any]], exchange: Exchange) -> None:  # each page as it comes
            lines = unsound(DETAIL, entries, query, listing_rules=upstream, case=v1_filter_case)
            found.extend((line, exchange) for line in lines)

        walk = walked(glance, query, v1_detail_universe, problems, keep=False, on_page=judge, first=firsts[0])
        problems.judged("queries")
        if walk is not None and walk.truncated:
            problems.not_judged(f"returned images past the first {pages_text(walk.max_pages)} "
                                f"(raise {walk.raise_hint})")
        for line, exchange in found:
            problems.add(line, exchange)
        problems.check()

    judged_in_order(drawn, judge_sound, lambda asked: first_pages(glance, asked))


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-FILTER-COMPLETE")
@batched(walks=True)
@given(data=st.data())
def test_every_matching_image_is_returned(data: st.DataObject, glance: GlanceClient, v1_detail_universe: Universe,
                                          v1_observed: Observed, v1_filter_case: Case, http_profile: Profile) -> None:
    among = drawn_filters(DETAIL, upstream_only=http_profile.upstream_behaviour)
    drawn = data.draw(batch_of(queries(DETAIL, v1_observed, max_filters=MAX_FILTERS, among=among)), label="queries")

    def judge(query: Query, firsts: list[HttpResponse | None]) -> None:
        problems = Problems(f"{url(query)} must return every image of the unfiltered listing that matches every "
                            f"filter ({v1_filter_case})")
        judge_complete(glance, query, v1_detail_universe, v1_filter_case, problems, first=firsts[0])
        problems.check()

    judged_in_order(drawn, judge, lambda asked: first_pages(glance, asked))


OWN_FILTERS = ("name", "disk_format", "container_format")  # documented by seed 004, so judged under every profile
MAX_OWN_QUERIES = 20


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-FILTER-COMPLETE")
def test_each_image_is_returned_by_its_own_filters(glance: GlanceClient, v1_detail_universe: Universe,
                                                   v1_filter_case: Case) -> None:
    # Drawn queries may all miss the target's images; a query built from a listed image matches at least that one.
    own: dict[tuple[tuple[str, str], ...], None] = {}
    for entry in v1_detail_universe.visible.entries:
        pairs = tuple((name, entry[name]) for name in OWN_FILTERS if isinstance(entry.get(name), str) and entry[name])
        if len(pairs) > 1:
            own.setdefault(pairs)
    problems = Problems("A query combining an image's own name and formats must return every image that matches them "
                        f"({v1_filter_case})")
    if len(own) > MAX_OWN_QUERIES:
        problems.not_judged(f"{len(own) - MAX_OWN_QUERIES} more distinct combinations of name and formats")
    asked = [dict(pairs) for pairs in list(own)[:MAX_OWN_QUERIES]]
    for query, first in zip(asked, first_pages(glance, asked), strict=True):  # first pages asked ahead, judged in order
        judge_complete(glance, query, v1_detail_universe, v1_filter_case, problems, shown=f"{url(query)}: ",
                       first=first)
    problems.check()


@cache  # drawn inside each example: the same strategy object each time (see batch_of)
def narrowings(observed: Observed, among: tuple[str, ...]) -> st.SearchStrategy[tuple[Query, Query]]:
    """A query and a filter it does not use, to add to it (never changes-since)."""

    @st.composite
    def narrowing(draw: st.DrawFn) -> tuple[Query, Query]:
        query = draw(queries(DETAIL, observed, min_filters=0, max_filters=MAX_FILTERS - 1, among=among),
                     label="query")
        # changes-since is never the added filter: it also brings deleted and killed images back, by design
        used = {DETAIL.filter_of(param).name for param in query} | set(DETAIL.revealing)
        extra = draw(queries(DETAIL, observed, min_filters=1, max_filters=1, exclude=used, among=among),
                     label="added filter")
        return query, extra

    return narrowing()


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-FILTER-MONOTONIC")
@batched(walks=True)
@given(data=st.data())
def test_adding_a_filter_never_adds_an_image(data: st.DataObject, glance: GlanceClient, v1_detail_universe: Universe,
                                             v1_observed: Observed, http_profile: Profile) -> None:
    among = tuple(drawn_filters(DETAIL, upstream_only=http_profile.upstream_behaviour))
    drawn = data.draw(batch_of(narrowings(v1_observed, among)), label="queries and added filters")

    def judge_monotonic(case: tuple[Query, Query], firsts: list[HttpResponse | None]) -> None:
        query, extra = case
        narrower = {**query, **extra}
        problems = Problems(f"Adding {urlencode(extra)} to ?{urlencode(query)} must not add images")
        narrow_first, broad_first = firsts
        narrow = walked(glance, narrower, v1_detail_universe, problems, first=narrow_first)
        if narrow is not None and narrow.truncated:
            problems.not_judged(narrow.cut_reason)
        elif narrow is not None:
            wanted = set(narrow.ids)  # the broad walk stops once it has returned all of them
            broad = walked(glance, query, v1_detail_universe, problems, keep=False,
                           until=lambda walk: wanted.issubset(walk.ids), first=broad_first)
            if broad is not None and broad.truncated:
                problems.not_judged(broad.cut_reason)
            elif broad is not None:
                problems.judged("queries")
                before = set(broad.ids)
                for entry in narrow.entries:
                    if str(entry.get("id")) not in before:
                        problems.add(f"{url(narrower)} returned {describe(DETAIL, entry, narrower)}, which "
                                     f"{url(query)} did not", narrow.exchange)
        problems.check()

    def both(cases: list[tuple[Query, Query]]) -> Generator[HttpResponse, None, None]:  # the narrower first
        return first_pages(glance, [asked for query, extra in cases for asked in ({**query, **extra}, query)])

    judged_in_order(drawn, judge_monotonic, both, per_value=2)

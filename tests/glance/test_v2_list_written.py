"""GET /v2/images in write mode (--allow-writes): every filter, the repeated tags and every form of sorting, judged
against the images this run created (known names, tags, sizes, formats, visibility, protected and hidden flags; one
deleted), whatever else the catalogue holds; with a second project (--other-token), member_status judged against
images the run shared with it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import pytest

from conformance.checks import Problems
from conformance.glance.members import QUERIES, Membership, member_problems
from conformance.glance.v2_list_filters import LIST
from conformance.glance.v2_list_order import SORT_IDS, SORTS, order_breaks
from conformance.glance.v2_list_walks import Walk, request_text, walk_list
from conformance.glance.v2_list_written import (
    SORT_PAGE,
    entry,
    filter_queries,
    listing_problems,
    order_entries,
    scoped,
    selection_problems,
    tag_queries,
)
from conformance.glance.write_mode import WrittenSet
from conformance.glance.written import written_set
from conformance.listing.judging import requirement_params, sentence
from conformance.listing.table import Filter
from conformance.listing.text import Case
from conformance.targets.glance import GlanceClient

# Each form of sorting, and no sort at all (newest first), under the requirement it certifies.
ORDERS = [pytest.param({}, (("created_at", "desc"),), id="default",
                       marks=pytest.mark.requirement("GLANCE-V2-LIST-DEFAULT-ORDER")),
          *(pytest.param(query, keys, id=name, marks=pytest.mark.requirement("GLANCE-V2-LIST-SORT"))
            for (query, keys), name in zip(SORTS, SORT_IDS, strict=True))]


def judge_scoped(client: GlanceClient, written: WrittenSet, queries: Iterable[dict[str, Any]], problems: Problems,
                 kind: str, lines: Callable[[Walk, dict[str, Any], dict[str, Any]], list[str]]) -> None:
    """Walk each query scoped to the run (as `client` asks it) and note `lines(walk, query, sent)`, how its answer
    fails the run's images; each answered walk counts as one judged case of `kind`."""
    for query in queries:
        sent = scoped(written, query)
        walk = walk_list(client, sent)
        if walk.problem:
            problems.add(f"{request_text(sent)}: {walk.problem}", walk.problem_exchange)
            continue
        problems.judged(kind)
        if walk.truncated:
            problems.not_judged(walk.cut_reason)
        for line in lines(walk, query, sent):
            problems.add(f"{request_text(sent)}: {line}", walk.exchange)


def judge_selection(glance: GlanceClient, written: WrittenSet, queries: list[dict[str, Any]], case: Case,
                    problems: Problems) -> None:
    """Walk each query scoped to the run and note how its answer fails the run's images."""
    judge_scoped(glance, written, queries, problems, "queries on the images the run created",
                 lambda walk, _, sent: selection_problems(walk, sent, written, case))


@pytest.mark.parametrize("row", requirement_params(LIST))
def test_each_v2_filter_selects_the_images_the_run_created(row: Filter, written_images: WrittenSet | None,
                                                           glance: GlanceClient, v2_list_case: Case) -> None:
    written = written_set(written_images)
    queries = filter_queries(row, written)
    if not queries:
        pytest.skip(f"the create answers gave no created_at to start {row.name} from" if row.domain.ordered
                    else f"the run wrote no value for the {row.name} filter")
    problems = Problems(f"{sentence(row.requirement)}, among the images this run created ({v2_list_case}, as this "
                        "target compares)")
    judge_selection(glance, written, queries, v2_list_case, problems)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-LIST-TAGS-ALL")
def test_repeated_tags_select_the_images_the_run_created(written_images: WrittenSet | None, glance: GlanceClient,
                                                         v2_list_case: Case) -> None:
    written = written_set(written_images)
    problems = Problems(f"{sentence('GLANCE-V2-LIST-TAGS-ALL')}, among the images this run created")
    judge_selection(glance, written, tag_queries(written), v2_list_case, problems)
    problems.check()


@pytest.mark.parametrize(("query", "keys"), ORDERS)
def test_every_sort_orders_the_images_the_run_created(query: dict[str, Any], keys: tuple[tuple[str, str], ...],
                                                      written_images: WrittenSet | None,
                                                      glance: GlanceClient) -> None:
    written = written_set(written_images)
    # The documents do not say where an image without a value for a sort key goes (Glance 33's marker paging repeats
    # its pages there): a sort is judged on the run's active images, which have every value, when some have not.
    unset = [image for image in written.images if any(entry(image).get(key) is None for key, _ in keys)]
    if unset:
        query = {**query, "status": "active"}
        written = replace(written, images=[image for image in written.images if image not in unset])
    sent = scoped(written, query)
    # pages asked for as sent, with a marker: what next links carry is GLANCE-V2-LIST-LINKS-KEEP-QUERY's to judge
    walk = walk_list(glance, sent, limit=SORT_PAGE, max_pages=len(written.images) + 2, own_links=True)
    problems = Problems(f"Paging {request_text({**sent, 'limit': SORT_PAGE})} with markers must list each image this "
                        f"run created that the listing shows once, ordered by {', '.join(f'{k} {d}' for k, d in keys)}"
                        " as the run wrote them")
    if walk.problem:
        problems.add(walk.problem, walk.problem_exchange)
    problems.judged("walks")
    if walk.truncated:
        problems.not_judged(walk.cut_reason)
    for line in [*listing_problems(walk, written), *order_breaks(order_entries(walk, written), keys)]:
        problems.add(line, walk.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-LIST-MEMBER-STATUS")
def test_member_status_lists_the_images_the_run_shared_by_their_status(
        shared_with_other_project: Membership, written_images: WrittenSet | None) -> None:
    membership = shared_with_other_project
    written = written_set(written_images)
    problems = Problems(f"{sentence('GLANCE-V2-LIST-MEMBER-STATUS')}, among the images this run shared with the second "
                        "project (--other-token), listed with its token")
    for line, exchange in membership.broken:
        problems.add(line, exchange)
    if membership.refused:
        problems.not_judged(membership.refused)
    judge_scoped(membership.other, written, QUERIES if membership.images else (), problems,
                 "listings of the second project", lambda walk, query, _: member_problems(walk, query, membership))
    problems.check()

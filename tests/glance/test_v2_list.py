"""GET /v2/images — upstream api-ref "List images", the call seed 004 sends its users to: the page, its images, the
listing rules, sorting, paging, links, and the answers to bad input."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import schemas
from conformance.batches import batch_of, batched, failed, sent_together
from conformance.catalog import Profile
from conformance.checks import Problems, fail, judged
from conformance.glance.members import caller_project, listed_under_two_statuses
from conformance.glance.unauthorized import WRONG_CREDENTIAL_IDS, WRONG_CREDENTIALS, judge_401
from conformance.glance.v2_list_filters import INVALID_PARAMS, INVALID_QUERIES, invalid_values, is_hidden
from conformance.glance.v2_list_order import SORT_IDS, SORTS, order_breaks
from conformance.glance.v2_list_walks import WALK_LIMIT, Universe, Walk, first_pages, request_text, walk_list
from conformance.glance.v2_shown import Shown
from conformance.listing.judging import sentence
from conformance.targets.auth import Auth
from conformance.targets.glance import GlanceClient

DEFAULT_LIMIT = 25  # upstream limit_param_default
MAX_LIMIT = 1000  # upstream api_limit_max
PAGED_WALK_PAGES = 20  # pages a paginated walk may take, whatever the catalogue size
MIN_PAGE = 3
_ITEMS_REF = re.compile(r"^(?P<file>[^#]+\.json)$")


def readable(walk: Walk) -> Walk:
    """`walk`, skipped (naming the requirement its problem breaks, whose own test fails on it) when unreadable."""
    if walk.problem and not walk.pages:
        pytest.skip(f"not judged: {request_text(walk.query)} {walk.problem} ({walk.breaks})")
    return walk


@pytest.mark.requirement("GLANCE-V2-LIST-200-JSON")
@pytest.mark.parametrize("query", [{}, {"visibility": "all", "limit": "5"}], ids=["unfiltered", "visibility-all"])
def test_listing_answers_200_with_json(query: dict[str, str], glance: GlanceClient, v2_list_universe: Universe) -> None:
    response = glance.list_v2_page(query)
    title = f"{request_text(query)} must answer 200 with JSON"
    if response.status != 200:
        fail(title, str(response.status), "200", response.exchange)
    if not response.is_json:
        fail(title, f"Content-Type {response.headers.get('Content-Type')!r}", "application/json", response.exchange)
    try:
        response.json()
    except AssertionError as exc:
        fail(title, str(exc), "JSON (RFC 8259)", response.exchange)
    for walk in v2_list_universe.walks:  # every page of the ground-truth walks is judged here too
        if walk.breaks == "GLANCE-V2-LIST-200-JSON":
            fail(f"Every page of {request_text(walk.query)} must answer 200 with JSON", str(walk.problem),
                 "200, JSON", walk.problem_exchange)
    judged("responses")


def item_schema(page_schema: str) -> str:
    """The image schema a page schema names for its images (through its `$ref`)."""
    items = schemas.schema(page_schema).get("properties", {}).get("images", {}).get("items", {})
    match = _ITEMS_REF.match(str(items.get("$ref", "")))
    if match is None:
        raise ValueError(f"{page_schema} names no image schema for its images")
    return str(urlsplit(page_schema).path.rsplit("/", 1)[0] + "/" + match["file"])


@pytest.mark.requirement("GLANCE-V2-LIST-SCHEMA")
def test_pages_and_images_validate_against_profile_schema(v2_list_universe: Universe, http_profile: Profile,
                                                          v2_schema_enums: schemas.Enums) -> None:
    page_schema = http_profile.schemas["glance.v2.list"]
    image_schema = item_schema(page_schema)
    walk = readable(v2_list_universe.default)
    problems = Problems(f"Every page must validate against {page_schema}, each image against {image_schema}")
    envelope = "glance/v2-images-page.core.json"
    checked: set[str] = set()
    for number, page in enumerate(walk.pages, 1):
        body = {**page.body, "images": [{} for _ in page.body["images"]]}
        for line in schemas.error_lines(envelope, body):
            problems.add(f"page {number}: {line}", page.exchange)
        for entry in page.body["images"]:
            key = repr(entry.get("id"))
            if key in checked:
                continue
            checked.add(key)
            for line in schemas.error_lines(image_schema, entry, v2_schema_enums):
                problems.add(f"{entry.get('id')}: {line}", page.exchange)
    if walk.breaks == "GLANCE-V2-LIST-SCHEMA":
        problems.add(str(walk.problem), walk.problem_exchange)
    problems.judged("listed images", len(checked))
    if walk.truncated:
        problems.not_judged(f"images past {walk.max_pages} page(s) of the listing (raise {walk.raise_hint})")
    problems.check()


@pytest.mark.requirement("GLANCE-V2-LIST-AGREES-WITH-SHOW")
def test_listed_images_are_the_documents_show_gives(v2_list_universe: Universe, v2_shown: list[Shown]) -> None:
    listed = {str(entry.get("id")): entry for entry in readable(v2_list_universe.default).entries}
    problems = Problems("Every listed image must be the document GET /v2/images/{id} shows")
    for shown in v2_shown:
        entry = listed.get(shown.image_id)
        if entry is None or shown.response.status != 200:
            continue
        try:
            body = shown.response.json()
        except AssertionError:
            continue  # show's own requirements judge that
        problems.judged("listed images")
        for name in sorted(set(entry) | set(body)):
            if entry.get(name, "<absent>") != body.get(name, "<absent>"):
                problems.add(f"{shown.image_id}: {name} listed {entry.get(name, '<absent>')!r}, shown "
                             f"{body.get(name, '<absent>')!r}", shown.response.exchange)
    if len(listed) > len(v2_shown):
        problems.not_judged("listed images outside the sample shown (raise --max-images)", len(listed) - len(v2_shown))
    problems.check()


@pytest.mark.requirement("GLANCE-V2-LIST-HIDES")
def test_listing_without_visibility_hides_community_and_hidden_images(v2_list_universe: Universe) -> None:
    walk = readable(v2_list_universe.default)
    problems = Problems(sentence("GLANCE-V2-LIST-HIDES"))
    problems.judged("listed images", len(walk.entries))
    for entry in walk.entries:
        if is_hidden(entry):
            problems.add(f"listed {entry.get('id')} (visibility {entry.get('visibility')!r}, os_hidden "
                         f"{entry.get('os_hidden', '<absent>')!r})", walk.exchange)
    problems.check()


# -- order, paging and links ---------------------------------------------------------------------------------------

@pytest.mark.requirement("GLANCE-V2-LIST-DEFAULT-ORDER")
def test_images_are_listed_newest_first_by_default(v2_list_universe: Universe) -> None:
    walk = readable(v2_list_universe.default)
    problems = Problems(sentence("GLANCE-V2-LIST-DEFAULT-ORDER"))
    problems.judged("listed images", len(walk.entries))
    for line in order_breaks(walk.entries, (("created_at", "desc"),)):
        problems.add(line, walk.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-LIST-SORT")
@pytest.mark.parametrize(("query", "keys"), SORTS, ids=SORT_IDS)
def test_every_form_of_sorting_orders_the_same_images(query: dict[str, Any], keys: tuple[tuple[str, str], ...],
                                                      glance: GlanceClient, v2_list_universe: Universe) -> None:
    everyone = readable(v2_list_universe.default)
    pages, hint = v2_list_universe.pages()
    walk = walk_list(glance, query, max_pages=pages, raise_hint=hint)
    problems = Problems(f"{request_text(query)} must list the default listing's images, ordered by "
                        f"{', '.join(f'{k} {d}' for k, d in keys)}")
    if walk.problem:
        problems.add(walk.problem, walk.problem_exchange)
    problems.judged("walks")
    if walk.truncated or everyone.truncated:
        problems.not_judged(walk.cut_reason)
    elif not walk.problem:
        for image_id in sorted(set(everyone.ids) ^ set(walk.ids)):
            where = "only when sorted" if image_id in walk.ids else "only unsorted"
            problems.add(f"{image_id} is listed {where}", walk.exchange)
    for line in order_breaks(walk.entries, keys):
        problems.add(line, walk.exchange)
    problems.check()


def page_size(universe: Universe) -> int:
    """A page size that takes a paginated walk of the default listing through several pages."""
    return max(MIN_PAGE, math.ceil(len(universe.default.entries) / PAGED_WALK_PAGES))


@pytest.mark.requirement("GLANCE-V2-LIST-PAGINATION")
@pytest.mark.parametrize("query", [{}, {"sort_key": "disk_format", "sort_dir": "asc"}, {"visibility": "all"}],
                         ids=["default", "ties-disk-format", "visibility-all"])
def test_following_next_returns_every_image_once(query: dict[str, str], glance: GlanceClient,
                                                 v2_list_universe: Universe) -> None:
    pages, hint = v2_list_universe.pages()
    whole = walk_list(glance, query, max_pages=pages, raise_hint=hint)
    readable(whole)
    limit = page_size(v2_list_universe)
    walk = walk_list(glance, query, limit=limit, max_pages=PAGED_WALK_PAGES + 2)
    problems = Problems(f"Following next from {request_text({**query, 'limit': limit})} must return every image of "
                        "the unpaginated listing once")
    if walk.problem:
        problems.add(walk.problem, walk.problem_exchange)
    for image_id, times in sorted(Counter(walk.ids).items()):
        if times > 1:
            problems.add(f"{image_id} is returned {times} times", walk.exchange)
    problems.judged("walks")
    if walk.truncated or whole.truncated or whole.problem:
        problems.not_judged(f"that every image is returned, for listings longer than the run reads (raise {hint})")
    elif not walk.problem:
        for image_id in sorted(set(whole.ids) - set(walk.ids)):
            problems.add(f"{image_id} is listed on one page of {WALK_LIMIT} but on no page of {limit}", walk.exchange)
        for image_id in sorted(set(walk.ids) - set(whole.ids)):
            problems.add(f"{image_id} appears only when following next", walk.exchange)
    problems.check()


def listed_count(glance: GlanceClient, universe: Universe) -> int | None:
    """How many images the default listing holds, walked in pages of 1000 one page further than the ground truth
    (its last page may link a next to an empty page); None when the run reads only part of it, or it is unreadable."""
    walk = walk_list(glance, {}, max_pages=universe.pages()[0] + 1, keep=False)
    return None if walk.problem or walk.truncated else len(walk.ids)


@pytest.mark.requirement("GLANCE-V2-LIST-LIMIT")
def test_a_page_holds_at_most_limit_images(glance: GlanceClient, v2_list_universe: Universe) -> None:
    count = listed_count(glance, v2_list_universe)
    total = math.inf if count is None else count
    limits: list[int | None] = [None, 0, 1, 5, MAX_LIMIT + 1]
    if isinstance(total, int) and total > 1:
        limits += [total - 1, total]
    problems = Problems(sentence("GLANCE-V2-LIST-LIMIT"))
    for limit in dict.fromkeys(limits):
        response = glance.list_v2_page({} if limit is None else {"limit": str(limit)})
        asked = DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT)
        try:
            images = response.json().get("images") if response.status == 200 else None
        except (AssertionError, AttributeError):
            images = None
        shown = "(none)" if limit is None else limit
        if not isinstance(images, list):
            problems.add(f"limit={shown}: answered {response.status} without an image list", response.exchange)
            continue
        problems.judged("limits")
        if len(images) > asked:
            problems.add(f"limit={shown}: {len(images)} images, at most {asked} allowed", response.exchange)
        elif len(images) < min(asked, total):
            problems.add(f"limit={shown}: {len(images)} images while {total} are listed", response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-LIST-NEXT")
def test_next_is_linked_while_more_images_remain(glance: GlanceClient, v2_list_universe: Universe) -> None:
    problems = Problems(sentence("GLANCE-V2-LIST-NEXT"))
    total = listed_count(glance, v2_list_universe)
    if total is None:
        pytest.skip(f"not judged: the listing is longer than the run reads (raise {v2_list_universe.pages()[1]}), "
                    "or unreadable")
    for limit in dict.fromkeys([page_size(v2_list_universe), total, total + 1]):
        walk = walk_list(glance, {}, limit=limit, max_pages=PAGED_WALK_PAGES + 2)
        if walk.breaks == "GLANCE-V2-LIST-NEXT":
            problems.add(str(walk.problem), walk.problem_exchange)
        problems.judged("walks")
        for number, page in enumerate(walk.pages, 1):
            after = walk.pages[number] if number < len(walk.pages) else None
            if page.next is not None and page.count < limit and after is not None and after.count == 0:
                problems.add(f"limit={limit}: page {number} holds {page.count} images but links a next, to an "
                             "empty page", page.exchange)
            seen = sum(p.count for p in walk.pages[:number])
            if page.next is None and page.count == limit and seen < total and not walk.problem:
                problems.add(f"limit={limit}: page {number} links no next after {seen} of {total} images",
                             page.exchange)
    problems.check()


def pairs_of(link: Any) -> list[tuple[str, str]] | None:
    """The query of a link as (parameter, value) pairs in order; None when it is no link."""
    return parse_qsl(urlsplit(link).query, keep_blank_values=True) if isinstance(link, str) else None


@pytest.mark.requirement("GLANCE-V2-LIST-LINKS-KEEP-QUERY")
@pytest.mark.parametrize("query", [
    {"tag": ["linux", "lts"]}, {"sort_key": ["size", "name"], "sort_dir": ["asc", "desc"]},
    {"visibility": "all", "name": "in:cirros,\"release:2024, final\""},
], ids=["repeated-tag", "repeated-sort", "quoted-in"])
def test_next_and_first_keep_the_query(query: dict[str, Any], glance: GlanceClient) -> None:
    walk = walk_list(glance, query, limit=1, max_pages=2)
    readable(walk)
    sent = sorted(pairs_of("?" + urlencode({**query, "limit": "1"}, doseq=True)) or [])
    problems = Problems(sentence("GLANCE-V2-LIST-LINKS-KEEP-QUERY"))
    for number, page in enumerate(walk.pages, 1):
        for name, link in (("first", page.first), ("next", page.next)):
            pairs = pairs_of(link)
            if pairs is None:
                continue  # absent: SCHEMA and NEXT judge that
            problems.judged("links")
            kept = sorted(pair for pair in pairs if pair[0] != "marker")
            if kept != sent:
                problems.add(f"page {number}: {name} {str(link)[:300]!r} carries {kept}, sent {sent}", page.exchange)
    if not problems.lines and not any(page.next for page in walk.pages):
        problems.not_judged("next links: the query lists at most one image")
    problems.check()


@pytest.mark.requirement("GLANCE-V2-LIST-MEMBER-STATUS")
def test_member_status_partitions_the_shared_images(glance: GlanceClient, v2_list_universe: Universe) -> None:
    pages, hint = v2_list_universe.pages()
    statuses = ("", "accepted", "pending", "rejected", "all")
    asked = [{"visibility": "shared", **({"member_status": status} if status else {})} for status in statuses]
    walks = {status: walk_list(glance, query, max_pages=pages, raise_hint=hint, first=first)
             for status, query, first in zip(statuses, asked, first_pages(glance, asked), strict=True)}
    problems = Problems(sentence("GLANCE-V2-LIST-MEMBER-STATUS"))
    for status, walk in walks.items():
        if walk.problem:
            problems.add(f"member_status={status or '(none)'}: {walk.problem}", walk.problem_exchange)
        elif walk.truncated:
            problems.not_judged(walk.cut_reason)
    if not problems.lines and not any(walk.truncated for walk in walks.values()):
        problems.judged("member statuses", 4)
        parts = {status: set(walks[status].ids) for status in ("accepted", "pending", "rejected")}
        owners = {str(entry.get("id")): entry.get("owner") for walk in walks.values() for entry in walk.entries}
        caller = caller_project(v2_list_universe.visible.entries)
        for image_id, a, b in listed_under_two_statuses(parts, owners, caller):
            problems.add(f"{image_id} is listed with member_status={a} and ={b}", walks[b].exchange)
        union = set().union(*parts.values())
        for image_id in sorted(union ^ set(walks["all"].ids)):
            problems.add(f"{image_id}: member_status=all and the three statuses disagree", walks["all"].exchange)
        for image_id in sorted(set(walks[""].ids) ^ parts["accepted"]):
            problems.add(f"{image_id}: no member_status and member_status=accepted disagree", walks[""].exchange)
    problems.check()


# -- bad input and credentials -------------------------------------------------------------------------------------

@pytest.mark.requirement("GLANCE-V2-LIST-INVALID-400")
@pytest.mark.parametrize("param", INVALID_PARAMS)
@batched()
@given(data=st.data())
def test_invalid_parameter_answers_400_never_5xx(param: str, data: st.DataObject, glance: GlanceClient) -> None:
    values = data.draw(batch_of(invalid_values(param)), label=param)
    answers = sent_together(lambda value: glance.list_v2_page({param: value}), values, glance.limits.concurrency)
    for value, response in answers:
        if response.status != 400:
            failed()
            fail(f"{request_text({param: value})} must answer 400", str(response.status), "400 Bad Request",
                 response.exchange)
        judged("invalid values")


@pytest.mark.requirement("GLANCE-V2-LIST-INVALID-400")
@pytest.mark.parametrize("pairs", INVALID_QUERIES, ids=lambda pairs: urlencode(pairs))
def test_invalid_sorting_answers_400(pairs: tuple[tuple[str, str], ...], glance: GlanceClient) -> None:
    query: dict[str, Any] = {}
    for name, value in pairs:
        query.setdefault(name, []).append(value)
    response = glance.list_v2_page(query)
    if response.status != 400:
        fail(f"{request_text(query)} must answer 400", str(response.status), "400 Bad Request", response.exchange)
    judged("invalid queries")


@pytest.mark.requirement("GLANCE-V2-LIST-401")
@pytest.mark.parametrize("auth", WRONG_CREDENTIALS, ids=WRONG_CREDENTIAL_IDS)
def test_request_without_a_valid_token_answers_401(auth: Auth, glance: GlanceClient) -> None:
    judge_401(glance, auth, "GET /v2/images", lambda client: client.list_v2_page())
    judged("requests")

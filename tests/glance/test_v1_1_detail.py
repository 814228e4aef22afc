"""GET /v1.1/images/detail — seed 004 "查询镜像详情（OpenStack原生 v1.1--已废弃）", read top to bottom like the page."""

from __future__ import annotations

import collections
import datetime
import itertools
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import sample as sampling
from conformance import schemas
from conformance.batches import batch_of, batched, failed, sent_together
from conformance.catalog import Profile
from conformance.checks import Problems, fail, judged, not_judged
from conformance.evidence import Exchange
from conformance.glance.fixtures import discovery_bound
from conformance.glance.published_schema import PublishedSchema
from conformance.glance.unauthorized import WRONG_CREDENTIAL_IDS, WRONG_CREDENTIALS, judge_401
from conformance.glance.v1_1_filters import DETAIL, EPOCH, HIDDEN_STATUSES, invalid_values, is_hidden
from conformance.glance.v1_json import read_json
from conformance.glance.v2_shown import Shown, bodies_by_id
from conformance.glance.walks import (
    PAGINATION,
    VALID_JSON,
    WALK_LIMIT,
    Universe,
    Walk,
    first_pages,
    pages_text,
    walk_detail,
)
from conformance.glance.write_mode import WrittenSet
from conformance.glance.written import filter_queries, hidden_problems, selection_problems, written_set
from conformance.listing.judging import missing, requirement_params, sentence, unsound
from conformance.listing.table import Filter
from conformance.listing.text import Case
from conformance.run.state import RunState
from conformance.targets.auth import Auth
from conformance.targets.decoding import BodyNotJSON, BodyTooComplex
from conformance.targets.fanout import fan_out
from conformance.targets.glance import GlanceClient
from conformance.timestamps import parse_time

DEFAULT_LIMIT = 25  # upstream limit_param_default
MAX_LIMIT = 1000  # upstream api_limit_max
MAX_FILTER_VALUES = 40  # values tried per filter: every exact size and timestamp on small catalogues
FILTER_BUDGET_PAGES = 2  # a single-filter test reads at most this many full walks' worth of pages
PAGED_WALK_PAGES = 20  # pages a paginated walk may take, whatever the catalogue size
MIN_PAGE = 7
LARGE_CATALOGUE_PAGE = 50  # page size of the paginated walks when the listing is larger than the run reads
INVALID_PARAMS = ("size_min", "size_max", "limit", "changes-since", "sort_key", "sort_dir", "marker")
# (query, sort field whose order is checked, direction); names are compared as a set only, since database
# collations order text differently
ORDERS: tuple[tuple[dict[str, str], str | None, str], ...] = (
    ({}, "created_at", "desc"),
    ({"sort_key": "size", "sort_dir": "asc"}, "size", "asc"),
    ({"sort_key": "updated_at", "sort_dir": "asc"}, "updated_at", "asc"),
    ({"sort_key": "name", "sort_dir": "desc"}, None, "desc"),
)
UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_ENTRY_INDEX = re.compile(r"^images\[\d+\]")
_PROPERTIES_PATH = re.compile(r"^images\[\d+\]\.properties(\.|\[|:)")


def query_text(query: dict[str, str]) -> str:
    """The query as it appears in a URL."""
    return "?" + urlencode(query) if query else "(no filter)"


ENTRY_STRATA = ("status", "deleted", "is_public", "disk_format", "container_format", "owner")  # kinds to validate
Found = list[tuple[str, bool, Exchange | None]]  # (line, whether it is about `properties`, exchange)


@dataclass(frozen=True)
class EntryErrors:
    """What validating the entries of the detail walks found, and how many distinct entries it validated of all."""

    found: Found
    validated: int
    listed: int


# ids of the walks -> (the walks, the enums, their validation): SCHEMA and PROPERTIES-OBJECT read one validation.
_entry_errors: dict[tuple[int, ...], tuple[tuple[Walk, ...], schemas.Enums, EntryErrors]] = {}


def entry_errors(schema_name: str, walks: tuple[Walk, ...], enums: schemas.Enums, cap: int) -> EntryErrors:
    """Every schema violation of the walks' entries: each distinct entry validated once and named by its id.

    When the walks hold more than `cap` distinct entries, `cap` of them that cover every kind of ENTRY_STRATA are
    validated; the caller reports the rest as not judged.
    """
    key = tuple(map(id, walks))
    cached = _entry_errors.get(key)
    if cached is not None and all(a is b for a, b in zip(cached[0], walks, strict=True)) and cached[1] == enums:
        result = cached[2]
        judged("listed images", result.validated)
        return result
    found: Found = []
    entries: list[tuple[Any, Exchange | None]] = []
    by_id: dict[str, list[Any]] = {}
    for walk in walks:
        for page in walk.pages:
            body, exchange = page.body, page.exchange
            images = body.get("images") if isinstance(body, dict) else None
            if not isinstance(images, list):
                found += [(line, False, exchange) for line in schemas.error_lines(schema_name, body, enums)]
                continue
            for entry in images:
                same_id = by_id.setdefault(repr(entry.get("id")) if isinstance(entry, dict) else "", [])
                if any(entry == other for other in same_id):  # shown alike by both walks: judged once
                    continue
                same_id.append(entry)
                entries.append((entry, exchange))
    chosen = _validated(entries, cap)
    judged("listed images", len(chosen))
    for entry, shown_by in chosen:
        name = str(entry.get("id")) if isinstance(entry, dict) else "an entry"
        for line in schemas.error_lines(schema_name, {"images": [entry]}, enums):
            found.append((_ENTRY_INDEX.sub(name, line), bool(_PROPERTIES_PATH.match(line)), shown_by))
    result = EntryErrors(found, len(chosen), len(entries))
    _entry_errors.clear()  # one listing per run: only the latest is kept
    _entry_errors[key] = (walks, enums, result)
    return result


def _validated(entries: list[tuple[Any, Exchange | None]], cap: int) -> list[tuple[Any, Exchange | None]]:
    """All of `entries` when they are at most `cap`, else `cap` of them covering every kind of ENTRY_STRATA."""
    if len(entries) <= cap:
        return entries
    objects = [{**entry, "id": i} for i, (entry, _) in enumerate(entries) if isinstance(entry, dict)]
    others = [i for i, (entry, _) in enumerate(entries) if not isinstance(entry, dict)]  # never valid: all kept
    picked = sampling.choose(objects, max(0, cap - len(others)), ENTRY_STRATA)
    return [entries[i] for i in sorted([*others, *map(int, picked.ids)])]


def entry_cap(max_images: int) -> int:
    """Distinct listed entries validated per run: as many as discovery reads of the v2 listing."""
    return discovery_bound(max_images)


def readable(*walks: Walk) -> tuple[Walk, ...]:
    """`walks`, the pages past one that stopped a walk noted as not judged; skipped (naming the requirement that page
    breaks, whose own test fails on it) when no page of them could be read at all."""
    stopped = [walk for walk in walks if walk.problem]
    if not any(walk.pages for walk in walks):
        pytest.skip(f"not judged: {stopped[0].unreadable}")
    for walk in stopped:
        not_judged(f"the listing past the page where {walk.unreadable}")
    return walks


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-VALID-JSON")
@pytest.mark.parametrize("query", [{}, {"changes-since": EPOCH, "limit": str(WALK_LIMIT)}],
                         ids=["unfiltered", "with-deleted"])
def test_listing_answers_200_with_valid_json(query: dict[str, str], v1_1_detail_offered: None,
                                             glance: GlanceClient, v1_detail_walks: tuple[Walk, Walk]) -> None:
    response = glance.detail_v1_1(query)
    exchange = response.exchange
    title = f"GET /v1.1/images/detail{query_text(query) if query else ''} must answer 200 with valid JSON"
    if response.status != 200:
        fail(title, str(response.status), "200", exchange)
    if not response.is_json:
        fail(title, f"Content-Type {response.headers.get('Content-Type')!r}", "application/json", exchange)
    try:
        response.json()
    except BodyTooComplex:
        raise
    except BodyNotJSON as exc:
        at = getattr(exc.error, "pos", 0)
        fail(title, f"{exc.error}: …{response.text[max(0, at - 40):at + 40]!r}…",
             "JSON (RFC 8259; an unset field is null, not none)", exchange)
    judged("responses")
    # every page of the walk the other requirements read (unfiltered, or with deleted images) is judged here too
    walk = v1_detail_walks[1 if query else 0]
    if walk.breaks == VALID_JSON:
        asked = query_text(walk.query) if walk.query else ""
        fail(f"Every page of GET /v1.1/images/detail{asked} must answer 200 with valid JSON", str(walk.problem),
             "200, JSON (RFC 8259)", walk.problem_exchange)
    judged("walks")


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-SCHEMA")
def test_entries_validate_against_profile_schema(v1_detail_walks: tuple[Walk, Walk], http_profile: Profile,
                                                 v1_1_detail_enums: schemas.Enums,
                                                 v2_published_schema: PublishedSchema, run_state: RunState) -> None:
    schema_name = http_profile.schemas["glance.v1_1.detail"]
    basis = f" ({v2_published_schema.basis})" if schemas.target_enum_fields(schema_name) else ""
    problems = Problems(f"Every detail entry must validate against {schema_name}{basis}")
    result = entry_errors(schema_name, readable(*v1_detail_walks), v1_1_detail_enums,
                          entry_cap(run_state.config.max_images))
    not_validated(problems, result)
    for line, about_properties, exchange in result.found:
        if not about_properties:  # PROPERTIES-OBJECT judges those
            problems.add(line, exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-PROPERTIES-OBJECT")
def test_properties_are_an_object_of_strings(v1_detail_walks: tuple[Walk, Walk], http_profile: Profile,
                                             v1_1_detail_enums: schemas.Enums, run_state: RunState) -> None:
    schema_name = http_profile.schemas["glance.v1_1.detail"]
    problems = Problems("properties must be a JSON object whose values are strings")
    # the same enums as SCHEMA's, so both read one validation (a format enum cannot touch `properties`)
    result = entry_errors(schema_name, readable(*v1_detail_walks), v1_1_detail_enums,
                          entry_cap(run_state.config.max_images))
    not_validated(problems, result)
    for line, about_properties, exchange in result.found:
        if about_properties:
            problems.add(line, exchange)
    problems.check()


def not_validated(problems: Problems, result: EntryErrors) -> None:
    """Note the listed entries the validation's cap left out."""
    if result.listed > result.validated:
        problems.not_judged(f"listed entries beyond the {result.validated} validated, which cover every status, "
                            "format and owner listed (raise --max-images)", result.listed - result.validated)


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-HIDES-DELETED")
def test_listing_without_changes_since_hides_deleted_and_killed(v1_detail_walks: tuple[Walk, Walk]) -> None:
    visible, _ = v1_detail_walks
    readable(visible)
    problems = Problems("Without changes-since, no deleted or killed image may be listed")
    problems.judged("listed images", len(visible.entries))
    if visible.truncated:
        problems.not_judged(f"images after the first {pages_text(visible.max_pages)} of the listing "
                            f"(raise {visible.raise_hint})")
    for entry in visible.entries:
        if is_hidden(entry):
            problems.add(f"listed {entry.get('id')} (status {entry.get('status')!r}, deleted "
                         f"{entry.get('deleted')!r})", visible.exchange)
    problems.check()


@pytest.mark.parametrize("field", [
    pytest.param("size", marks=pytest.mark.requirement("GLANCE-V1-1-DETAIL-ACTIVE-SIZE"), id="size"),
    pytest.param("checksum", marks=pytest.mark.requirement("GLANCE-V1-1-DETAIL-ACTIVE-CHECKSUM"), id="checksum"),
])
def test_active_entry_has_size_and_checksum(field: str, v1_detail_walks: tuple[Walk, Walk]) -> None:
    visible, _ = v1_detail_walks
    readable(visible)
    active = [entry for entry in visible.entries if entry.get("status") == "active"]
    if not active:
        pytest.skip("the listing holds no active image")
    problems = Problems(f"Every active image's entry must have a non-null {field} (seed 004: present once uploaded)")
    problems.judged("listed images", len(active))
    for entry in active:
        if entry.get(field) is None:
            problems.add(f"{entry.get('id')}: active, {field} {entry.get(field, '<absent>')!r}", visible.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-AGREES-WITH-V2")
def test_listing_holds_every_image_v2_shows_with_its_visibility(v1_detail_walks: tuple[Walk, Walk],
                                                                v2_shown: list[Shown]) -> None:
    visible, _ = v1_detail_walks
    readable(visible)
    shown = {image_id: body for image_id, body in bodies_by_id(v2_shown).items()
             if body.get("status") not in HIDDEN_STATUSES}
    if not shown:
        pytest.skip("no image to test is shown by GET /v2/images/{id} outside the deleted and killed ones")
    problems = Problems("The listing walked to its last page must hold every public image GET /v2/images/{id} "
                        "shows (but killed ones), each listed image with is_public true exactly when v2 shows "
                        "visibility public")
    problems.judged("images", len(shown))
    listed = {str(entry.get("id")): entry for entry in visible.entries}
    for image_id, body in shown.items():
        entry = listed.get(image_id)
        if entry is None and body.get("visibility") != "public":
            # upstream lists a private image only to its owner and members (glance/registry/api/v1/images.py)
            problems.not_judged("private images v2 shows but the caller's listing leaves out (owner or member only)")
        elif entry is None:
            if visible.truncated:
                problems.not_judged(f"images after the first {pages_text(visible.max_pages)} of the listing "
                                    f"(raise {visible.raise_hint})")
            else:
                problems.add(f"{image_id} (v2 status {body.get('status')!r}, visibility public) is not listed on "
                             f"any of the {visible.page_count} page(s)", visible.exchange)
        elif isinstance(entry.get("is_public"), bool) and entry["is_public"] != (body.get("visibility") == "public"):
            problems.add(f"{image_id}: is_public {entry['is_public']!r}, v2 visibility {body.get('visibility')!r}",
                         visible.exchange)
    problems.check()


# -- filters (§请求消息): each filter alone, with every value the target's own images offer --------------------------


@pytest.mark.parametrize("row", requirement_params(DETAIL))
def test_each_filter_returns_exactly_the_images_it_selects(row: Filter, v1_1_detail_offered: None,
                                                           glance: GlanceClient, v1_detail_universe: Universe,
                                                           v1_filter_case: Case) -> None:
    # a filter that brings deleted and killed images back takes its values from them too
    universe = v1_detail_universe
    queries = row.queries(row.observe(universe.all_entries if row.reveals_hidden else universe.visible.entries),
                          MAX_FILTER_VALUES)
    if not queries:
        pytest.skip(f"no listed image offers a value for the {row.name} filter")
    problems = Problems(f"{sentence(row.requirement)} ({v1_filter_case}, as this target compares)")
    if row.reveals_hidden and not any(entry.get("deleted") for entry in universe.all_entries):
        problems.not_judged("deleted images: none known in read-only mode (run with --allow-writes)")
    most, hint = universe.follow_pages()
    budget = FilterBudget(FILTER_BUDGET_PAGES * most * WALK_LIMIT, hint)
    # asked ahead while the budget has a page left for each: judged as they come. Only the first page of a walk is
    # asked ahead, so a catalogue that spends the budget gets at most --concurrency - 1 first pages past it, dropped
    firsts = first_pages(glance, queries, ready=lambda ahead: budget.left > ahead * WALK_LIMIT)
    for query in queries:
        pages = budget.pages(most)
        if not pages:
            problems.not_judged(f"filter values not queried: the {budget.total} listed entries one filter test "
                                f"reads were spent (raise {budget.raise_hint})")
            continue
        unsound_lines: list[str] = []

        def judge(entries: list[dict[str, Any]], _: Exchange, query: dict[str, str] = query,
                  found: list[str] = unsound_lines) -> None:
            budget.spend(len(entries))
            # HIDES-DELETED judges the listing rules
            found += unsound(DETAIL, entries, query, listing_rules=False, case=v1_filter_case)

        walk = walk_detail(glance, query, max_pages=pages, raise_hint=hint, keep=False, on_page=judge,
                           first=next(firsts))
        if walk.problem:
            problems.add(f"{query_text(query)}: {walk.problem}", walk.problem_exchange)
            continue
        problems.judged("queries")
        if walk.truncated and pages < most:
            problems.not_judged(budget.cut_reason)
        elif walk.truncated:
            problems.not_judged(walk.cut_reason)
        else:
            unsound_lines += missing(DETAIL, universe.entries_for(query), set(walk.ids), query, case=v1_filter_case)
        for line in unsound_lines:
            problems.add(f"{query_text(query)}: {line}", walk.exchange)
    problems.check()


class FilterBudget:
    """The listed entries one single-filter test may read, so that its work does not grow with the catalogue."""

    def __init__(self, total: int, raise_hint: str) -> None:
        self.total = total
        self.left = total
        self.raise_hint = raise_hint  # the option that raises the budget

    def pages(self, most: int) -> int:
        """Pages of WALK_LIMIT the next query may take: `most`, or what the budget has left."""
        return max(0, min(most, math.ceil(self.left / WALK_LIMIT)))

    def spend(self, entries: int) -> None:
        """Count entries read."""
        self.left -= entries

    @property
    def cut_reason(self) -> str:
        """What the budget leaves unjudged (the same words for every query it cuts, so they add up)."""
        return (f"completeness not judged for filter values past the {self.total} listed entries one filter test "
                f"reads (raise {self.raise_hint})")


@pytest.mark.parametrize("row", requirement_params(DETAIL))
def test_each_filter_selects_the_images_the_run_created(row: Filter, written_images: WrittenSet | None,
                                                        v1_1_detail_offered: None, glance: GlanceClient,
                                                        v1_filter_case: Case) -> None:
    # Write mode: the images this run created (one of them deleted) are known whatever the listing says of them.
    written = written_set(written_images)
    queries = filter_queries(row, written)
    if not queries:
        pytest.skip(f"the create answers gave no created_at to start {row.name} from" if row.domain.ordered
                    else f"the run wrote no value for the {row.name} filter")
    problems = Problems(f"{sentence(row.requirement)}, among the images this run created (deleted ones with "
                        f"changes-since; {v1_filter_case}, as this target compares)")
    for query in queries:
        walk = walk_detail(glance, query)
        if walk.problem:
            problems.add(f"{query_text(query)}: {walk.problem}", walk.problem_exchange)
            continue
        problems.judged("queries on the images the run created")
        for line in selection_problems(walk, query, written, v1_filter_case):
            problems.add(f"{query_text(query)}: {line}", walk.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-HIDES-DELETED")
def test_images_the_run_deleted_are_hidden_without_changes_since(written_images: WrittenSet | None,
                                                                 v1_1_detail_offered: None,
                                                                 glance: GlanceClient) -> None:
    written = written_set(written_images)
    problems = Problems("Without changes-since, no image this run deleted may be listed")
    for image in written.deleted:
        walk = walk_detail(glance, {"name": image.fixture.name})
        if walk.problem:
            problems.add(f"name={image.fixture.name}: {walk.problem}", walk.problem_exchange)
        problems.judged("images the run deleted")
        for line in hidden_problems(walk, written):
            problems.add(f"name={image.fixture.name}: {line}", walk.exchange)
    problems.check()


# -- paging (upstream limit, marker, sort_key, sort_dir) ------------------------------------------------------------


def sort_value(entry: dict[str, Any], field: str) -> int | None:
    """The entry's value of a timestamp (in microseconds) or size sort key; None when it has none."""
    value = entry.get(field)
    if field.endswith("_at"):
        parsed = parse_time(value)
        return None if parsed is None else (parsed - UNIX_EPOCH) // datetime.timedelta(microseconds=1)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def order_breaks(entries: list[dict[str, Any]], field: str | None, direction: str) -> list[str]:
    """One line per neighbouring pair (both values known) out of the requested order."""
    if field is None:
        return []
    known = [(entry, value) for entry in entries if (value := sort_value(entry, field)) is not None]
    lines = []
    for (first, a), (second, b) in itertools.pairwise(known):
        if (a > b) if direction == "asc" else (a < b):
            lines.append(f"{first.get('id')} ({field} {first.get(field)}) comes before "
                         f"{second.get('id')} ({field} {second.get(field)})")
    return lines


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-PAGINATION")
@pytest.mark.parametrize("order", ORDERS, ids=["default", "size-asc", "updated_at-asc", "name-desc"])
def test_walking_pages_returns_every_image_once_in_order(order: tuple[dict[str, str], str | None, str],
                                                        v1_1_detail_offered: None, glance: GlanceClient,
                                                        v1_detail_walks: tuple[Walk, Walk]) -> None:
    query, field, direction = order
    everyone = v1_detail_walks[0]
    if everyone.problem and everyone.breaks != PAGINATION:
        pytest.skip(f"not judged: {everyone.unreadable}")
    page = max(MIN_PAGE, math.ceil(len(everyone.entries) / PAGED_WALK_PAGES))
    if everyone.truncated:  # the completeness of a walk cannot be judged: walk as far, with small pages
        page = LARGE_CATALOGUE_PAGE
    walk = walk_detail(glance, query, limit=page, max_pages=PAGED_WALK_PAGES + 2)
    problems = Problems(f"Walking {query_text(query)} {page} at a time with marker must return every image once, "
                        "in order")
    if walk.problem:
        problems.add(walk.problem, walk.problem_exchange)
    for ground in v1_detail_walks:  # the walks the other requirements read: their pages never ended
        if ground.breaks == PAGINATION:
            asked = query_text(ground.query) if ground.query else ""
            problems.add(f"GET /v1.1/images/detail{asked}: {ground.problem}", ground.problem_exchange)
    ids = walk.ids
    for image_id, times in sorted((i, n) for i, n in collections.Counter(ids).items() if n > 1):
        problems.add(f"{image_id} is returned {times} times", walk.exchange)
    problems.judged("walks")
    if walk.truncated or everyone.truncated:
        hints = " or ".join(sorted({"--max-pages", everyone.raise_hint}))
        problems.not_judged(f"that every image is returned, for walks cut at {walk.max_pages} or "
                            f"{pages_text(everyone.max_pages)} (raise {hints})")
    if not (walk.truncated or everyone.truncated or walk.problem or everyone.problem):
        for image_id in sorted(set(everyone.ids) - set(ids)):
            problems.add(f"{image_id} is listed on one page of {WALK_LIMIT} but on no page of {page}", walk.exchange)
        for image_id in sorted(set(ids) - set(everyone.ids)):
            problems.add(f"{image_id} appears only when walking page by page", walk.exchange)
    for line in order_breaks(walk.entries, field, direction):
        problems.add(f"{field} {direction}: {line}", walk.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-LIMIT")
def test_a_page_holds_at_most_limit_entries(v1_1_detail_offered: None, glance: GlanceClient,
                                            v1_detail_universe: Universe) -> None:
    everyone = v1_detail_universe.visible
    total = math.inf if everyone.truncated else len(everyone.entries)
    limits: list[int | None] = [None, 1, 5, MAX_LIMIT + 1]
    if isinstance(total, int) and total > 1:
        limits += [total - 1, total]
    problems = Problems("A page must hold at most limit entries (25 by default, 1000 at most), "
                        "and exactly that many while more remain")
    if everyone.truncated:
        problems.not_judged(f"limits near the catalogue size: the listing was cut at {pages_text(everyone.max_pages)} "
                            f"(raise {everyone.raise_hint})")
    asked_for = list(dict.fromkeys(limits))
    answers = fan_out(lambda limit: glance.detail_v1_1({} if limit is None else {"limit": str(limit)}), asked_for,
                      limit=glance.limits.concurrency)
    for limit, response in zip(asked_for, answers, strict=True):
        exchange = response.exchange
        asked = DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT)
        try:
            images = read_json(response).get("images") if response.status == 200 else None
        except (AssertionError, AttributeError):
            images = None
        if not isinstance(images, list):
            problems.add(f"limit={limit}: answered {response.status} without an image list", exchange)
            continue
        expected = min(asked, total)
        problems.judged("limits")
        if len(images) > asked:
            problems.add(f"limit={'(none)' if limit is None else limit}: {len(images)} entries, at most {asked} "
                         "allowed", exchange)
        elif len(images) < expected:
            problems.add(f"limit={'(none)' if limit is None else limit}: {len(images)} entries while {total} "
                         f"images are listed; documented {expected}", exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-INVALID-400")
@pytest.mark.parametrize("param", INVALID_PARAMS)
@batched()
@given(data=st.data())
def test_invalid_parameter_answers_400_never_5xx(param: str, data: st.DataObject, v1_1_detail_offered: None,
                                                 glance: GlanceClient) -> None:
    values = data.draw(batch_of(invalid_values(param)), label=param)
    answers = sent_together(lambda value: glance.detail_v1_1({param: value}), values, glance.limits.concurrency)
    for value, response in answers:
        if response.status != 400:
            failed()
            fail(f"GET /v1.1/images/detail?{urlencode({param: value})} must answer 400", str(response.status),
                 "400 Bad Request", response.exchange)
        judged("invalid values")


@pytest.mark.requirement("GLANCE-V1-1-DETAIL-401")
@pytest.mark.parametrize("auth", WRONG_CREDENTIALS, ids=WRONG_CREDENTIAL_IDS)
def test_request_without_a_valid_token_answers_401(auth: Auth, v1_1_detail_offered: None,
                                                    glance: GlanceClient) -> None:
    judge_401(glance, auth, "GET /v1.1/images/detail", lambda client: client.detail_v1_1())
    judged("requests")

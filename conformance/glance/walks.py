"""Walking `GET /v1.1/images/detail` page by page with marker, and the ground truth the unfiltered walks make."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from conformance.evidence import Exchange
from conformance.glance.sample import DISCOVERY_FACTOR
from conformance.glance.v1_1_filters import EPOCH
from conformance.glance.v1_json import read_json
from conformance.short_repr import ShortRepr
from conformance.targets.decoding import BodyTooComplex
from conformance.targets.fanout import ahead
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpResponse

WALK_LIMIT = 1000  # upstream api_limit_max: one page holds a whole small catalogue
# The requirement a walk's problem breaks: the page that stopped it is judged there, not by what needs the walk.
VALID_JSON = "GLANCE-V1-1-DETAIL-VALID-JSON"
SCHEMA = "GLANCE-V1-1-DETAIL-SCHEMA"
PAGINATION = "GLANCE-V1-1-DETAIL-PAGINATION"


@dataclass(frozen=True)
class Page:
    """One page of a walk that parsed as JSON, with the (trimmed) exchange that shows it; not its raw bytes."""

    body: Any
    exchange: Exchange


@dataclass
class Walk(ShortRepr):
    """Every page of one detail query, followed with marker; `problem` says why the walk stopped early.

    A walk made with `keep=False` judges its pages as they come (`on_page`) and keeps only the ids and the first
    page's exchange, not the pages nor the entries.
    """

    query: dict[str, str]
    max_pages: int  # the page cap it walks under
    entries: list[dict[str, Any]] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # the ids of the returned entries, in order
    first: Exchange | None = None  # the exchange of the first page, to reproduce the query
    page_count: int = 0
    problem: str | None = None
    stopped_at: HttpResponse | None = None  # the answer that shows the problem
    breaks: str | None = None  # the requirement the problem breaks
    summary: str = ""  # the problem in a few words, for what cannot be judged past it
    truncated: bool = False  # stopped at the page cap with more pages to come, or at the cap on a page's entries
    raise_hint: str = "--max-pages"  # the option that raises that cap
    entry_cap: int | None = None  # a page listed more entries than the run reads of one answer: the cap it was cut at

    def __repr__(self) -> str:
        return f"Walk(?{self.query}: {len(self.ids)} images in {self.page_count} page(s), problem={self.problem!r})"

    @property
    def exchange(self) -> Exchange | None:
        """The exchange of the first page, to reproduce the query."""
        if self.first is not None:
            return self.first
        return self.stopped_at.exchange if self.stopped_at is not None else None

    @property
    def problem_exchange(self) -> Exchange | None:
        """The exchange that shows the problem, if there is one."""
        return self.stopped_at.exchange if self.stopped_at is not None else None

    @property
    def cut_reason(self) -> str:
        """What a walk cut at its page cap leaves unjudged (the same words for every such walk, so they add up)."""
        if self.entry_cap is not None:
            return f"completeness not judged for walks cut at {self.entry_cap} images of a page (raise --max-listed)"
        return f"completeness not judged for walks cut at {pages_text(self.max_pages)} (raise {self.raise_hint})"

    @property
    def unreadable(self) -> str:
        """What stopped the walk and the requirement it breaks, as what needs the walk whole says why it is not
        judged: `the v1.1 listing ?q is not JSON on page 1 (GLANCE-V1-1-DETAIL-VALID-JSON)`."""
        query = f" ?{urlencode(self.query)}" if self.query else ""
        return f"the v1.1 listing{query} {self.summary} ({self.breaks})"

    def stop(self, problem: str, response: HttpResponse, summary: str, breaks: str) -> Walk:
        """The walk, stopped early by `problem` in `response`, which breaks the requirement `breaks`."""
        self.problem, self.stopped_at, self.summary, self.breaks = problem, response, summary, breaks
        return self


@dataclass
class Universe(ShortRepr):
    """The ground truth of the detail tests: every image the unfiltered walks showed."""

    visible: Walk  # no filter at all
    everything: Walk  # changes-since=EPOCH: deleted and killed images too
    known_hidden: list[dict[str, Any]]  # killed images v2 lists but no v1.1 walk showed, in v1.1 field names
    page_cap: int  # the run's --max-pages

    def __repr__(self) -> str:
        return (f"Universe({len(self.visible.entries)} listed, {len(self.all_entries)} with changes-since, "
                f"{len(self.known_hidden)} killed known only from v2)")

    def entries_for(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """The images a query may return: deleted and killed ones only with changes-since."""
        if "changes-since" not in query:
            return self.visible.entries
        seen = {e.get("id") for e in self.visible.entries}
        extra = [e for e in self.everything.entries if e.get("id") not in seen]
        return [*self.visible.entries, *extra, *self.known_hidden]

    @property
    def truncated(self) -> bool:
        """Whether a ground-truth walk was cut at its page cap: the catalogue holds more than the run reads."""
        return self.visible.truncated or self.everything.truncated

    def follow_pages(self) -> tuple[int, str]:
        """Pages a walk judged against this ground truth follows, and the option that raises them: the page cap, or
        as many pages as the ground truth read when it was itself cut (the walk then says what it left unjudged),
        since the catalogue is larger than the run reads and a walk judged against it reads no more than it did."""
        cut = [walk for walk in (self.visible, self.everything) if walk.truncated]
        if cut and cut[0].max_pages < self.page_cap:
            return cut[0].max_pages, cut[0].raise_hint
        return self.page_cap, "--max-pages"

    @property
    def all_entries(self) -> list[dict[str, Any]]:
        """Every image the ground truth knows of."""
        return self.entries_for({"changes-since": EPOCH})


def pages_text(count: int) -> str:
    """`1 page`, `2 pages`."""
    return f"{count} page" if count == 1 else f"{count} pages"


def ground_truth_pages(max_images: int, page_cap: int) -> tuple[int, str]:
    """(pages, the option that raises them) of a ground-truth walk: as many entries as discovery reads of the v2
    listing for `max_images` (so that the work does not grow with the catalogue), within the page cap."""
    wanted = math.ceil(max_images * DISCOVERY_FACTOR / WALK_LIMIT)
    return (wanted, "--max-images") if wanted < page_cap else (page_cap, "--max-pages")


def first_page(glance: GlanceClient, query: Mapping[str, str], limit: int | None = None) -> HttpResponse:
    """The answer to the first page of `query`, asked as walk_detail asks it: to be asked ahead (`first=`)."""
    return glance.detail_v1_1({**query, "limit": str(WALK_LIMIT if limit is None else limit)})


def first_pages(glance: GlanceClient, queries: Iterable[Mapping[str, str]],
                ready: Callable[[int], bool] | None = None) -> Generator[HttpResponse, None, None]:
    """The first pages of independent `queries`, in order, up to --concurrency of them asked at once ahead of their
    walks (`ready`: whether one more may be asked with `n` asked ahead already)."""
    return ahead(lambda query: first_page(glance, query), queries, limit=glance.limits.concurrency, ready=ready)


def walk_detail(glance: GlanceClient, query: Mapping[str, str], *, limit: int | None = None,
                max_pages: int | None = None, raise_hint: str = "--max-pages", keep: bool = True,
                on_page: Callable[[list[dict[str, Any]], Exchange], None] | None = None,
                until: Callable[[Walk], bool] | None = None, first: HttpResponse | None = None) -> Walk:
    """Follow `query` page by page; a page shorter (as glanceclient v1 reads it) or longer than `limit` is the last.

    `on_page` sees each page's entries as they come; without `keep`, the walk holds no page and no entry after that.
    `until` is asked after each page whether the caller has read all it needs; then the walk stops there.
    `first` is the answer to the first page when it was asked ahead (first_pages).
    """
    limit = WALK_LIMIT if limit is None else limit  # read at call time, so a self-test can shrink the pages
    max_pages = glance.limits.pages if max_pages is None else max_pages
    walk = Walk(dict(query), max_pages=max_pages, raise_hint=raise_hint)
    params: dict[str, str] = {**query, "limit": str(limit)}
    seen_markers: set[str] = set()
    for _ in range(max_pages):
        response, first = (first, None) if first is not None else (glance.detail_v1_1(params), None)
        if response.status != 200:
            return walk.stop(f"answered {response.status}, documented 200", response,
                             f"answered {response.status} on page {walk.page_count + 1}", VALID_JSON)
        try:
            body = read_json(response)
        except BodyTooComplex as exc:
            return walk.stop(str(exc), response, f"holds more JSON values than the suite parses on page "
                                                 f"{walk.page_count + 1} (raise --max-json-values)", VALID_JSON)
        except AssertionError as exc:
            return walk.stop(str(exc), response, f"is not JSON on page {walk.page_count + 1}", VALID_JSON)
        walk.page_count += 1
        walk.first = walk.first or response.exchange
        if keep:
            walk.pages.append(Page(body, response.exchange))
        page = body.get("images") if isinstance(body, dict) else None
        if not isinstance(page, list) or not all(isinstance(e, dict) for e in page):
            return walk.stop("the body is not {\"images\": [<object>, ...]}", response,
                             f"is not {{\"images\": [<object>, ...]}} on page {walk.page_count}", SCHEMA)
        if len(page) > glance.limits.listed:  # the rest of the page is not read (--max-listed), nor any next page
            del page[glance.limits.listed:]  # the kept body's list too
            walk.truncated, walk.entry_cap, walk.raise_hint = True, glance.limits.listed, "--max-listed"
            walk.max_pages = walk.page_count  # what the walk read: the images after it are not judged
        walk.ids.extend(str(e.get("id")) for e in page)
        if keep:
            walk.entries.extend(page)
        if on_page is not None:
            on_page(page, response.exchange)
        if walk.entry_cap is not None or (until is not None and until(walk)):
            return walk
        # A page longer than limit: the target ignores limit (seed 004 does not document it), so it is all there is.
        if len(page) != limit:
            return walk
        marker = str(page[-1].get("id"))
        if marker in seen_markers:
            return walk.stop(f"marker {marker} was answered twice: the pages never end", response,
                             "answers one marker twice: its pages never end", PAGINATION)
        seen_markers.add(marker)
        params["marker"] = marker
    walk.truncated = True
    return walk

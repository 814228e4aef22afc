"""Walking `GET /v2/images` by its `next` links, and the ground truth the unfiltered walks make."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from conformance.evidence import Exchange
from conformance.glance.v2_list_filters import eligible
from conformance.short_repr import ShortRepr
from conformance.targets.fanout import ahead
from conformance.targets.glance import GlanceClient
from conformance.targets.http import BodyTooComplex, HttpResponse, OffOrigin

WALK_LIMIT = 1000  # upstream api_limit_max: one page holds a whole small catalogue
Params = dict[str, Any]  # query parameters as sent; a list value is a repeated parameter
# The requirement a walk's problem breaks: the page that stopped it is judged there, not by what needs the walk.
VALID_JSON = "GLANCE-V2-LIST-200-JSON"
SCHEMA = "GLANCE-V2-LIST-SCHEMA"
NEXT = "GLANCE-V2-LIST-NEXT"


@dataclass(frozen=True)
class Page:
    """One page of a walk: its body (kept only by walks that keep pages), links, size, and the exchange."""

    body: Any
    exchange: Exchange
    count: int
    next: Any
    first: Any


@dataclass
class Walk(ShortRepr):
    """Every page of one list query, followed by `next`; `problem` says why the walk stopped early."""

    query: Params
    limit: int | None
    entries: list[dict[str, Any]] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    first: Exchange | None = None
    problem: str | None = None
    stopped_at: HttpResponse | None = None
    breaks: str | None = None
    truncated: bool = False  # stopped at the page cap with a next still to follow
    max_pages: int = 10
    raise_hint: str = "--max-pages"

    def __repr__(self) -> str:
        return f"Walk(?{self.query}: {len(self.ids)} images in {len(self.pages)} page(s), problem={self.problem!r})"

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
        size = f" of {self.limit}" if self.limit is not None else ""
        return f"completeness not judged for walks cut at {self.max_pages} page(s){size} (raise {self.raise_hint})"

    def stop(self, problem: str, response: HttpResponse, breaks: str) -> Walk:
        """The walk, stopped early by `problem` in `response`, which breaks the requirement `breaks`."""
        self.problem, self.stopped_at, self.breaks = problem, response, breaks
        return self


def request_text(query: Mapping[str, Any]) -> str:
    """The request a query stands for."""
    return f"GET /v2/images?{urlencode(query, doseq=True)}" if query else "GET /v2/images"


def first_params(query: Mapping[str, Any], limit: int | None = WALK_LIMIT) -> Params:
    """The parameters of a walk's first page: the query, with `limit` when given."""
    return {**query} if limit is None else {**query, "limit": str(limit)}


def first_pages(glance: GlanceClient, queries: Iterable[Mapping[str, Any]], *,
                limit: int | None = WALK_LIMIT) -> Generator[HttpResponse, None, None]:
    """The first pages of independent `queries`, in order, up to --concurrency of them asked at once ahead of their
    walks (walk_list's `first`)."""
    return ahead(lambda query: glance.list_v2_page(first_params(query, limit)), queries,
                 limit=glance.limits.concurrency)


def walk_list(glance: GlanceClient, query: Mapping[str, Any], *, limit: int | None = WALK_LIMIT,
              max_pages: int | None = None,
              raise_hint: str = "--max-pages", keep: bool = True,
              on_page: Callable[[list[dict[str, Any]], Exchange], None] | None = None,
              until: Callable[[Walk], bool] | None = None, own_links: bool = False,
              first: HttpResponse | None = None) -> Walk:
    """Follow `query` (with `limit` when given) page by page along `next`, at most `max_pages` pages (the target's
    page cap, --max-pages, when not given). With `own_links`, each next page is asked for as the query sent with
    the marker of the page before (while the target links a next), so a test of something else than the links
    (the order of a sort) is not judged on links a target may have broken (GLANCE-V2-LIST-LINKS-KEEP-QUERY's).

    `on_page` sees each page's entries as they come; without `keep`, the walk holds no entry after that (the links and
    sizes of its pages are kept). `until` is asked after each page whether the caller has read all it needs.
    `first` is the answer to the first page when it was asked ahead (first_pages, with the same `limit`).
    """
    max_pages = glance.limits.pages if max_pages is None else max_pages
    walk = Walk(dict(query), limit, max_pages=max_pages, raise_hint=raise_hint)
    params = first_params(query, limit)
    seen: set[str] = set()
    response = glance.list_v2_page(params) if first is None else first
    for _ in range(max_pages):
        if response.status != 200:
            return walk.stop(f"answered {response.status}, documented 200", response, VALID_JSON)
        try:
            body = response.json()
        except BodyTooComplex as exc:
            return walk.stop(f"{exc} (raise --max-json-values)", response, VALID_JSON)
        except AssertionError as exc:
            return walk.stop(str(exc), response, VALID_JSON)
        page = body.get("images") if isinstance(body, dict) else None
        if not isinstance(page, list) or not all(isinstance(entry, dict) for entry in page):
            return walk.stop('the body is not {"images": [<object>, ...], ...}', response, SCHEMA)
        walk.first = walk.first or response.exchange
        link = body.get("next")
        walk.pages.append(Page(body if keep else None, response.exchange, len(page), link, body.get("first")))
        walk.ids.extend(str(entry.get("id")) for entry in page)
        if keep:
            walk.entries.extend(page)
        if on_page is not None:
            on_page(page, response.exchange)
        if until is not None and until(walk):
            return walk
        if link is None:
            return walk
        if not page:
            return walk.stop("an empty page links a next: the pages never end", response, NEXT)
        if own_links:
            marker = str(page[-1].get("id"))
            if marker in seen:
                return walk.stop(f"marker {marker[:200]!r} comes again: the pages never end", response, NEXT)
            seen.add(marker)
            response = glance.list_v2_page({**params, "marker": marker})
            continue
        if not isinstance(link, str) or link in seen:
            return walk.stop(f"next {str(link)[:200]!r} is no new link: the pages never end", response, NEXT)
        seen.add(link)
        try:
            response = glance.follow(link)
        except OffOrigin as exc:
            return walk.stop(f"next not followed: {exc}", response, NEXT)
    walk.truncated = True
    return walk


@dataclass
class Universe(ShortRepr):
    """The ground truth of the list tests: the default listing, every visibility, and the hidden images."""

    default: Walk  # no parameter at all
    visible: Walk  # visibility=all
    hidden: Walk  # visibility=all&os_hidden=true

    def __repr__(self) -> str:
        return f"Universe({len(self.default.entries)} listed, {len(self.all_entries)} with every visibility)"

    @property
    def walks(self) -> tuple[Walk, Walk, Walk]:
        """The three walks."""
        return self.default, self.visible, self.hidden

    @property
    def all_entries(self) -> list[dict[str, Any]]:
        """Every image the ground truth knows of, once."""
        seen: dict[str, dict[str, Any]] = {}
        for walk in self.walks:
            for entry in walk.entries:
                seen.setdefault(str(entry.get("id")), entry)
        return list(seen.values())

    def entries_for(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """The images `query` may return, by its visibility and os_hidden (shared ones: those the caller accepted)."""
        return [entry for entry in self.all_entries if eligible(entry, query)]

    @property
    def truncated(self) -> bool:
        """Whether a ground-truth walk was cut at its page cap."""
        return any(walk.truncated for walk in self.walks)

    def pages(self) -> tuple[int, str]:
        """Pages a walk judged against this ground truth follows, and the option that raises them."""
        return self.default.max_pages, self.default.raise_hint


def judged_walks(walks: Sequence[Walk]) -> list[Walk]:
    """The walks that ended cleanly and whole."""
    return [walk for walk in walks if not walk.problem and not walk.truncated]

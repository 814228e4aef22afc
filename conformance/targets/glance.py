"""The Glance-style operations the suite calls, so tests never build URLs themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from conformance.short_repr import ShortRepr
from conformance.targets.auth import Auth
from conformance.targets.errors import TargetError
from conformance.targets.http import HttpResponse, HttpTarget
from conformance.targets.limits import RunLimits
from conformance.targets.origin import OffOrigin

JSON = {"Accept": "application/json"}


def image_path(prefix: str, image_id: str) -> str:
    """`prefix/images/<id>` with every character of the id percent-encoded as needed."""
    # a listed id holding a lone surrogate is sent as the bytes it stands for: the target is judged on it, not the run
    return f"{prefix}/images/{quote(image_id.encode('utf-8', 'surrogatepass'), safe='')}"


@dataclass
class Listing(ShortRepr):
    """The images `GET /v2/images` listed, and why the listing ended early (with the answer that shows it)."""

    images: list[Any] = field(default_factory=list)
    pages: int = 0
    problem: str | None = None
    stopped_at: HttpResponse | None = None
    truncated: bool = False  # more pages were linked than the run follows (RunLimits.list_pages)

    def __repr__(self) -> str:
        return f"Listing({len(self.images)} images in {self.pages} page(s), problem={self.problem!r})"

    def stop(self, problem: str, response: HttpResponse) -> Listing:
        """The listing, ended early by `problem` (shown by `response`)."""
        self.problem, self.stopped_at = problem, response
        return self


class GlanceClient(ShortRepr):
    """Glance v2 show/list, v1 HEAD and v1.1 detail against one HttpTarget."""

    def __init__(self, http: HttpTarget, auth: Auth = Auth.RUN) -> None:
        self.http = http
        self.auth = auth  # the credentials every operation below sends

    def __repr__(self) -> str:
        return f"GlanceClient({self.http!r}, auth={self.auth.name.lower()})"

    @property
    def limits(self) -> RunLimits:
        """The run's limits its target is held to."""
        return self.http.limits

    def with_auth(self, auth: Auth) -> GlanceClient:
        """The same operations, sent with other credentials (none, or a forged token) for the 401 checks."""
        return GlanceClient(self.http, auth)

    def show(self, image_id: str) -> HttpResponse:
        """`GET /v2/images/{image_id}` (glance.v2.show)."""
        return self.http.request("GET", image_path("/v2", image_id), headers=JSON, auth=self.auth)

    def image_schema(self) -> HttpResponse:
        """`GET /v2/schemas/image`: the image schema the target publishes (its configured formats)."""
        return self.http.request("GET", "/v2/schemas/image", headers=JSON)

    def list_v2(self, *, max_images: int) -> Listing:
        """The first `max_images` images `GET /v2/images` lists, following `next` links on the target's origin.

        TargetError when the first page answers other than 200 (the target cannot be used); a page that is no image
        list (the first one too: bad data is the target's failure, not the run's), or a `next` link that points off
        the origin (never requested), ends the listing with the problem and the exchange that shows it.
        """
        listing = Listing()
        path = "/v2/images"
        for _ in range(self.limits.list_pages):
            if len(listing.images) >= max_images:
                del listing.images[max_images:]
                return listing
            response = self.http.request("GET", path, headers=JSON, auth=self.auth)
            problem = None
            if response.status != 200:
                problem = f"GET {response.url} answered {response.status}, expected 200"
            else:
                try:
                    page = response.json()
                    listing.images.extend(page["images"])
                except (AssertionError, KeyError, TypeError) as exc:
                    problem = f"GET {response.url} did not answer an image list: {exc}"
            if problem is not None:
                if not listing.pages and response.status != 200:
                    raise TargetError(f"image discovery: {problem}")
                return listing.stop(problem, response)
            listing.pages += 1
            next_link = page.get("next")
            if not next_link:
                return listing
            if not isinstance(next_link, str):
                return listing.stop(f"`next` {next_link!r} is not a link", response)
            try:
                path = self.http.path_of(next_link)
            except OffOrigin as exc:
                return listing.stop(f"`next` not followed: {exc}", response)
        listing.truncated = True  # a cap of the suite, not a fault of the target
        return listing

    def list_v2_page(self, params: dict[str, Any] | None = None) -> HttpResponse:
        """`GET /v2/images?params` (glance.v2.list): one page; a list value is sent as repeated parameters."""
        return self.http.request("GET", "/v2/images", params=params, headers=JSON, auth=self.auth)

    def follow(self, link: str) -> HttpResponse:
        """`GET` of a link the target gave (`next`), on the target's origin only; OffOrigin when it points elsewhere."""
        return self.http.request("GET", self.http.path_of(link), headers=JSON, auth=self.auth)

    def head_v1(self, image_id: str, prefix: str = "/v1") -> HttpResponse:
        """`HEAD /v1/images/{image_id}` (glance.v1.head)."""
        return self.http.request("HEAD", image_path(prefix, image_id), auth=self.auth)

    def head_v1_raw(self, image_id: str) -> HttpResponse:
        """`HEAD /v1/images/{image_id}` read byte for byte, so a body sent after the headers shows."""
        return self.http.head_raw(image_path("/v1", image_id), auth=self.auth)

    def detail_v1_1(self, params: dict[str, Any] | None = None, prefix: str = "/v1.1") -> HttpResponse:
        """`GET /v1.1/images/detail?filters` (glance.v1_1.detail)."""
        return self.http.request("GET", f"{prefix}/images/detail", params=params, headers=JSON, auth=self.auth)

    def version_root(self, prefix: str) -> HttpResponse:
        """`GET {prefix}/`: whether a deprecated API version is offered at all."""
        return self.http.request("GET", f"{prefix}/", headers=JSON, auth=self.auth)


"""The Glance-style operations the suite calls, so tests never build URLs themselves."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from conformance.short_repr import ShortRepr
from conformance.targets.auth import Auth
from conformance.targets.errors import TargetError
from conformance.targets.http import HttpResponse, HttpTarget

JSON = {"Accept": "application/json"}
MAX_LIST_PAGES = 200  # a target whose `next` links never end must not keep the run forever


def image_path(prefix: str, image_id: str) -> str:
    """`prefix/images/<id>` with every character of the id percent-encoded as needed."""
    return f"{prefix}/images/{quote(image_id, safe='')}"


class GlanceClient(ShortRepr):
    """Glance v2 show/list, v1 HEAD and v1.1 detail against one HttpTarget."""

    def __init__(self, http: HttpTarget, auth: Auth = Auth.RUN) -> None:
        self.http = http
        self.auth = auth  # the credentials every operation below sends

    def __repr__(self) -> str:
        return f"GlanceClient({self.http!r}, auth={self.auth.name.lower()})"

    def with_auth(self, auth: Auth) -> GlanceClient:
        """The same operations, sent with other credentials (none, or a forged token) for the 401 checks."""
        return GlanceClient(self.http, auth)

    def show(self, image_id: str) -> HttpResponse:
        """`GET /v2/images/{image_id}` (glance.v2.show)."""
        return self.http.request("GET", image_path("/v2", image_id), headers=JSON, auth=self.auth)

    def image_schema(self) -> HttpResponse:
        """`GET /v2/schemas/image`: the image schema the target publishes (its configured formats)."""
        return self.http.request("GET", "/v2/schemas/image", headers=JSON)

    def list_v2(self, *, max_images: int) -> list[dict[str, Any]]:
        """The first `max_images` images `GET /v2/images` lists, following `next` links (discovery)."""
        images: list[dict[str, Any]] = []
        path, params = "/v2/images", None
        for _ in range(MAX_LIST_PAGES):
            if len(images) >= max_images:
                return images[:max_images]
            response = self.http.request("GET", path, params=params, headers=JSON, auth=self.auth)
            if response.status != 200:
                raise TargetError(f"image discovery: GET {response.url} answered {response.status}, expected 200")
            try:
                page = response.json()
                images.extend(page["images"])
            except (AssertionError, KeyError, TypeError) as exc:
                raise TargetError(f"image discovery: GET {response.url} did not answer an image list: {exc}") from None
            next_link = page.get("next")
            if not next_link:
                return images
            split = urlsplit(next_link)
            path, params = split.path, dict(parse_qsl(split.query, keep_blank_values=True))
            path = _strip_base_path(path, self.http.base_url)
        raise TargetError(f"image discovery: more than {MAX_LIST_PAGES} pages of `next` links")

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


def _strip_base_path(path: str, base_url: str) -> str:
    """`next` links may repeat the endpoint's own path prefix; HttpTarget adds it back."""
    base_path = urlsplit(base_url).path.rstrip("/")
    if base_path and path.startswith(base_path + "/"):
        return path[len(base_path):]
    return path

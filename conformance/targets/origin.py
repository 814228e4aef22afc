"""The origin policy: the suite sends requests to the target's own origin (scheme, host, port) and nowhere else."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_plus, urlencode, urlsplit

from conformance.evidence import clip
from conformance.short_repr import shown_address
from conformance.targets.errors import TargetError


class OffOrigin(TargetError):
    """A link the target gave points off its own origin (scheme, host, port) or is not a path: never requested."""


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of an absolute URL, the default port filled in; ValueError-free."""
    split = urlsplit(url)
    scheme = split.scheme.lower()
    try:
        port = split.port
    except ValueError:
        port = -1  # not a port: matches no origin
    default = {"http": 80, "https": 443}.get(scheme)
    return scheme, (split.hostname or "").lower(), port if port is not None else default


def origin_text(base_url: str) -> str:
    """scheme://host:port of `base_url`."""
    scheme, host, port = origin(base_url)
    return f"{scheme}://{host}:{port}"


def is_plain_path(path: str) -> bool:
    """Whether `path` is an absolute path on the same host: `/…`, not `//host…`, no backslash or control character."""
    return path.startswith("/") and not path.startswith("//") and _plain_text(path)


def _plain_text(text: str) -> bool:
    # urllib3 and urlsplit disagree on backslashes and control characters; a link holding one is never followed
    return "\\" not in text and not any(ord(char) < 0x21 or ord(char) == 0x7F for char in text)


def url_on(base_url: str, path: str, params: dict[str, Any] | None, *, signed: bool) -> str:
    """The absolute URL of `path` (percent-encoded) with `params`; OffOrigin when it would leave the origin."""
    if not is_plain_path(path):
        raise OffOrigin(f"{clip(path, 200)!r} is not a path on {origin_text(base_url)}: not requested")
    # a listed id that is not valid Unicode (a lone surrogate) still makes a URL, so the target is judged on it
    # A signed query is percent-encoded (space as %20), the one form every reading of the canonical query shares.
    quote_via = quote if signed else quote_plus
    query = f"?{urlencode(params, doseq=True, quote_via=quote_via, errors='surrogatepass')}" if params else ""
    url = f"{base_url}{path}{query}"
    if origin(url) != origin(base_url):
        raise OffOrigin(f"{shown_address(url)} is not on the origin {origin_text(base_url)}: not requested")
    return url


def path_on(base_url: str, link: str) -> str:
    """The path and query (on `base_url`) a link from the target names; OffOrigin when it names another place.

    A link is a path (`/v2/images?marker=x`) or an absolute URL on the target's own origin; anything else
    (another host or port, `//host/path`, `@host:port/path`, a relative `1/v2/images`) is never requested.
    """
    split = urlsplit(link) if _plain_text(link) else None
    if split is None or not is_plain_path(split.path):
        raise OffOrigin(f"{clip(link, 200)!r} is neither a path nor a URL on the target's origin "
                        f"{origin_text(base_url)}")
    if (split.scheme or split.netloc) and origin(link) != origin(base_url):
        raise OffOrigin(f"{clip(link, 200)!r} points off the target's origin {origin_text(base_url)}")
    path = split.path
    base_path = urlsplit(base_url).path.rstrip("/")
    if base_path and path.startswith(base_path + "/"):
        path = path[len(base_path):]  # links may repeat the endpoint's own path prefix; url() adds it back
    return f"{path}?{split.query}" if split.query else path

"""The Glance-style reference behind a hostile middleware: it rewrites what the reference answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from conformance.reference.glance.app import WSGIApp

# (path as sent, decoded; the reference's status and JSON body, None when not JSON) -> (status, body bytes) or None
Rewrite = Callable[[str, int, Any], "tuple[int, bytes] | None"]


def sent_path(environ: dict[str, Any]) -> str:
    """The request path as the client sent it, percent-decoded as UTF-8 (lone surrogates kept)."""
    return str(environ.get("PATH_INFO", "")).encode("latin-1").decode("utf-8", "surrogatepass")


def rewriting(rewrite: Rewrite) -> Callable[[WSGIApp], WSGIApp]:
    """A `wrap` for start_http_server: every GET answer passes through `rewrite`, which may replace it."""

    def wrap(app: WSGIApp) -> WSGIApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("REQUEST_METHOD") != "GET":
                return app(environ, start_response)  # type: ignore[no-any-return]
            answered: list[Any] = []
            body = b"".join(app(environ, lambda status, headers, *_: answered.append((status, headers))))
            status_line, headers = answered[0]
            status = int(status_line.split()[0])
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            replaced = rewrite(sent_path(environ), status, data)
            if replaced is not None:
                status, body = replaced
                status_line = f"{status} {'OK' if status == 200 else 'Rewritten'}"
                headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            start_response(status_line, headers)
            return [body]

        return middleware

    return wrap


def replacing(path: str, body: bytes) -> Rewrite:
    """A rewrite: every 200 answer to a GET of `path` (whatever its query) becomes `body`."""

    def rewrite(sent: str, status: int, data: Any) -> tuple[int, bytes] | None:
        return (200, body) if sent == path and status == 200 else None

    return rewrite


def json_bytes(data: Any) -> bytes:
    """`data` as JSON text; lone surrogates written as \\u escapes, as a hostile target may send them."""
    return json.dumps(data).encode("ascii")

"""Answers every Glance reference endpoint builds: JSON, errors in the client's media type, raw WSGI answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from html import escape
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def json_answer(data: Any, *, mimetype: str = "application/json") -> Response:
    """A 200 answer with `data` as JSON (labelled `mimetype`)."""
    return Response(json.dumps(data, ensure_ascii=False), status=200, mimetype=mimetype)


def error(request: Request, code: int, message: str, *, html: bool = False,
          headers: Mapping[str, str] | None = None) -> Response:
    """An error answer: JSON when the client asks for JSON, HTML when a fault says so, else plain text."""
    title = HTTP_STATUS_CODES.get(code, "Error")
    if html:
        body = f"<html><head><title>{code} {title}</title></head><body><h1>{code} {title}</h1>" \
               f"<p>{escape(message)}</p></body></html>"
        return Response(body, status=code, mimetype="text/html", headers=headers)
    if request.accept_mimetypes.best_match(["text/plain", "application/json"]) == "application/json":
        body = json.dumps({"code": code, "title": title, "message": message}, ensure_ascii=False)
        return Response(body, status=code, mimetype="application/json", headers=headers)
    return Response(f"{code} {title}\n\n{message}\n", status=code, mimetype="text/plain", headers=headers)


def raw_answer(status: str, headers: list[tuple[str, str]], body: bytes) -> WSGIApp:
    """A WSGI answer written as given, body included even for HEAD (werkzeug's Response would drop it)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, [*headers, ("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def header_text(value: str) -> str:
    """`value` as a WSGI header string: UTF-8 bytes on the wire (as Glance v1 sent them), no line breaks."""
    return value.replace("\r", " ").replace("\n", " ").encode("utf-8").decode("latin-1")


def clip(text: str, limit: int = 80) -> str:
    """`text` cut to `limit` characters (with an ellipsis) for an error message."""
    return text if len(text) <= limit else text[:limit] + "…"

"""The Glance-style reference app: routing, the versions documents and the request log.

Each app holds its own copy of the catalogue; v2 create, upload, update and delete change that copy only.
The endpoints live in one module per API: v2_read, v2_write, v2_members, v1_head, v1_1_detail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request

from conformance.reference.fault import resolve
from conformance.reference.glance import faults as F
from conformance.reference.glance import images as catalogue
from conformance.reference.glance import seed_faults as S
from conformance.reference.glance import v1_1_detail, v1_head, v2_list, v2_members, v2_read, v2_write
from conformance.reference.glance import v2_list_faults as L
from conformance.reference.glance.faults import GLANCE_FAULTS
from conformance.reference.glance.responses import WSGIApp, error, json_answer
from conformance.reference.glance.state import AppState, Store
from conformance.targets.auth import TOKEN_HEADER

__all__ = ["WSGIApp", "make_app"]

V1_PREFIXES = ("/v1", "/v1.0", "/v1.1")
Endpoint = Callable[..., WSGIApp]  # (state, request, **path arguments) -> answer


def make_app(
    *, faults: Iterable[str] = frozenset(), request_log: list[tuple[str, str]] | None = None,
    case_insensitive: bool = False, token: str | None = None, disk_formats: Mapping[str, str] | None = None,
    images: Iterable[catalogue.Image] | None = None, other_token: str | None = None,
) -> WSGIApp:
    """The Glance-style WSGI app with the named faults switched on; requests are appended to `request_log`.

    With `token`, every request but version discovery must carry it as X-Auth-Token (401 otherwise), as a Glance
    behind keystonemiddleware's authtoken does; without, no credentials are checked. `other_token` is accepted too,
    as a second project's, which sees no private image of the run's project (projects.py). `disk_formats` (catalogue
    key -> disk format) configures a deployment whose images use those formats, served as configured formats in
    /v2/schemas/image. `images` replaces the fixed catalogue (the suite's own tests of large catalogues).
    """
    chosen = resolve(faults, GLANCE_FAULTS)
    fixed, extra = catalogue.with_disk_formats(disk_formats or {})
    images = fixed if images is None else tuple(images)
    if S.DISK_FORMAT_UNDOCUMENTED in chosen:
        images = S.misformatted(images)
    state = AppState(faults=chosen, store=Store(images),
                     case_insensitive=case_insensitive, token=token, other_token=other_token,
                     extra_disk_formats=extra)
    return _GlanceApp(state, request_log)


def versions(state: AppState, request: Request) -> WSGIApp:
    """GET / and /versions: every API version with its status."""
    documents = [
        _version("v2.9", "CURRENT", request.host_url + "v2/"),
        *(_version(v, "SUPPORTED", request.host_url + "v2/") for v in ("v2.8", "v2.7", "v2.6", "v2.5")),
        _version("v1.1", "DEPRECATED", request.host_url + "v1/"),
        _version("v1.0", "DEPRECATED", request.host_url + "v1/"),
    ]
    return json_answer({"versions": documents})


def version_root(state: AppState, request: Request) -> WSGIApp:
    """GET /v2/, /v1/ and the other version roots: that version's document."""
    prefix = request.path.strip("/").split("/")[0]
    status = "CURRENT" if prefix == "v2" else "DEPRECATED"
    return json_answer({"version": _version(prefix, status, request.host_url + prefix + "/")})


def _url_map() -> Map:
    rules = [
        Rule("/", endpoint=versions, methods=["GET"]),
        Rule("/versions", endpoint=versions, methods=["GET"]),
        Rule("/v2/", endpoint=version_root, methods=["GET"]),
        Rule("/v2/images", endpoint=v2_list.listing, methods=["GET"]),
        Rule("/v2/images", endpoint=v2_write.create, methods=["POST"]),
        # path: an id may hold anything, even a decoded %2F; every such id is looked up and answers 404
        Rule("/v2/images/<path:image_id>", endpoint=v2_read.show, methods=["GET"]),
        Rule("/v2/images/<path:image_id>", endpoint=v2_write.update, methods=["PATCH"]),
        Rule("/v2/images/<path:image_id>", endpoint=v2_write.delete, methods=["DELETE"]),
        Rule("/v2/images/<image_id>/file", endpoint=v2_write.upload, methods=["PUT"]),
        Rule("/v2/images/<image_id>/members", endpoint=v2_members.add_member, methods=["POST"]),
        Rule("/v2/images/<image_id>/members/<member_id>", endpoint=v2_members.update_member, methods=["PUT"]),
        Rule("/v2/schemas/image", endpoint=v2_read.image_schema_answer, methods=["GET"]),
        Rule("/v2/schemas/images", endpoint=v2_read.images_schema_answer, methods=["GET"]),
    ]
    for prefix in V1_PREFIXES:
        rules += [
            Rule(f"{prefix}/", endpoint=version_root, methods=["GET"]),
            Rule(f"{prefix}/images/detail", endpoint=v1_1_detail.detail, methods=["GET"]),
            Rule(f"{prefix}/images/<path:image_id>", endpoint=v1_head.head, methods=["HEAD"]),
        ]
    # No redirects at all: /v1 and /v1/ both answer, and // is not merged.
    return Map(rules, strict_slashes=False, merge_slashes=False)


class _GlanceApp:
    """The WSGI callable: logs the request, routes it to its endpoint with the app's state."""

    def __init__(self, state: AppState, request_log: list[tuple[str, str]] | None) -> None:
        self.state = state
        self.request_log = request_log
        self.url_map = _url_map()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if self.request_log is not None:
            self.request_log.append((request.method, _request_target(environ)))
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> WSGIApp:
        """The response to `request`."""
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except RequestRedirect as redirect:
            return redirect.get_response(request.environ)
        except MethodNotAllowed as exc:
            return error(request, 405, "Method not allowed.", headers={"Allow": ", ".join(exc.valid_methods or ())})
        except HTTPException as exc:
            return error(request, exc.code or 404, "The resource could not be found.")
        handler: Endpoint = endpoint
        refused = _refusal(self.state, request, handler)
        if refused is not None:
            return refused
        return handler(self.state, request, **args)


def _refusal(state: AppState, request: Request, endpoint: Endpoint) -> WSGIApp | None:
    """The 401 (or a fault's other answer) for a request without the app's token; None when it may go on."""
    if state.token is None or endpoint is versions:  # Glance's version negotiation answers before authtoken
        return None
    sent = request.headers.get(TOKEN_HEADER)
    if sent == state.token or (sent is not None and sent == state.other_token):
        return None
    faults = state.faults
    if endpoint is v2_read.show and sent is None and F.V2_SHOW_MISSING_TOKEN_200 in faults:
        return None
    if endpoint is v2_list.listing and sent is None and L.MISSING_TOKEN_200 in faults:
        return None
    if endpoint is v1_head.head and sent is not None and F.V1_HEAD_ANY_TOKEN_200 in faults:
        return None
    if endpoint is v1_1_detail.detail and F.V1_1_DETAIL_UNAUTHENTICATED_403 in faults:
        return error(request, 403, "You are not authorized to complete this action.")
    return error(request, 401, "The request you have made requires authentication.",
                 headers={"WWW-Authenticate": "Keystone uri='http://127.0.0.1:5000'"})


def _version(version_id: str, status: str, href: str) -> dict[str, Any]:
    return {"id": version_id, "status": status, "links": [{"rel": "self", "href": href}]}


def _request_target(environ: Mapping[str, Any]) -> str:
    """The request target as the client sent it when the server tells, else rebuilt from the WSGI environ."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw:
        if not raw.startswith("/"):  # absolute-form request target
            parts = urlsplit(raw)
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return str(raw)
    path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
    query = environ.get("QUERY_STRING", "")
    return path + (f"?{query}" if query else "")

"""A small Keystone v3 on loopback: password authentication, X-Subject-Token, a catalogue with image endpoints."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from conformance.reference.http_server import _QuietRequestHandler

USER, PASSWORD, PROJECT, DOMAIN = "demo", "fake-keystone-password-5f0c1e", "demo", "Default"
PROJECT_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@dataclass
class FakeKeystone:
    """What the fake issues (`lifetime` seconds per token, `token` fixed or numbered) and what it was asked."""

    endpoints: dict[tuple[str, str], str]  # (interface, region) -> URL of the image service
    lifetime: float = 3600.0
    token: str | None = None  # the same token every time (for a target that knows one token), else numbered
    url: str = ""
    issued: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # the bodies of POST /v3/auth/tokens
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The WSGI app: GET /v3 (discovery) and POST /v3/auth/tokens."""
        request = Request(environ)
        path = request.path.rstrip("/")
        if request.method == "GET" and path == "/v3":
            return self._json({"version": {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                                           "links": [{"rel": "self", "href": f"{self.url}/v3/"}],
                                           "media-types": [{"base": "application/json",
                                                            "type": "application/vnd.openstack.identity-v3+json"}]}},
                              200)(environ, start_response)
        if request.method == "POST" and path == "/v3/auth/tokens":
            return self._issue(request.get_json(force=True, silent=True) or {})(environ, start_response)
        return self._json({"error": {"code": 404, "title": "Not Found"}}, 404)(environ, start_response)

    def _issue(self, body: dict[str, Any]) -> Response:
        self.requests.append(body)
        identity = body.get("auth", {}).get("identity", {})
        user = identity.get("password", {}).get("user", {})
        if user.get("name") != USER or user.get("password") != PASSWORD:
            return self._json({"error": {"code": 401, "title": "Unauthorized",
                                         "message": "The request you have made requires authentication."}}, 401)
        token = self.token or f"fake-token-{next(self._numbers):04d}-{'ab' * 12}"
        self.issued.append(token)
        now = datetime.now(timezone.utc)
        stamp = "%Y-%m-%dT%H:%M:%S.000000Z"
        catalog = [{"type": "image", "name": "glance", "id": "a1" * 16, "endpoints": [
            {"id": f"e{n}", "interface": interface, "region": region, "region_id": region, "url": url}
            for n, ((interface, region), url) in enumerate(self.endpoints.items())]}]
        domain = {"id": "default", "name": DOMAIN}
        document = {"token": {
            "methods": ["password"], "issued_at": now.strftime(stamp),
            "expires_at": (now + timedelta(seconds=self.lifetime)).strftime(stamp),
            "user": {"id": "b2" * 16, "name": USER, "domain": domain, "password_expires_at": None},
            "project": {"id": PROJECT_ID, "name": PROJECT, "domain": domain},
            "roles": [{"id": "c3" * 16, "name": "member"}], "catalog": catalog, "audit_ids": ["x"],
        }}
        response = self._json(document, 201)
        response.headers["X-Subject-Token"] = token
        return response

    @staticmethod
    def _json(document: dict[str, Any], status: int) -> Response:
        return Response(json.dumps(document), status=status, content_type="application/json")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve the WSGI `app` on 127.0.0.1 (an ephemeral port) until the block ends; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=partial(server.serve_forever, poll_interval=0.05), daemon=True,
                              name=f"selftest-server-{server.port}")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def running(keystone: FakeKeystone) -> Iterator[FakeKeystone]:
    """Serve `keystone` on loopback until the block ends."""
    with serving(keystone.app) as url:
        keystone.url = url
        yield keystone


def password_env(keystone: FakeKeystone, **extra: str) -> dict[str, str]:
    """The OS_* variables of an openrc file for the fake's user."""
    return {"OS_AUTH_URL": f"{keystone.url}/v3", "OS_USERNAME": USER, "OS_PASSWORD": PASSWORD,
            "OS_PROJECT_NAME": PROJECT, "OS_USER_DOMAIN_NAME": DOMAIN, "OS_PROJECT_DOMAIN_NAME": DOMAIN,
            "OS_IDENTITY_API_VERSION": "3", **extra}

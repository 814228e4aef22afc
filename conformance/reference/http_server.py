"""Start the Glance-style reference app in-process: a threaded werkzeug server on loopback, in a daemon thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from conformance.reference.glance.app import WSGIApp, make_app
from conformance.reference.glance.images import Image


class _QuietRequestHandler(WSGIRequestHandler):
    """Serves like werkzeug's handler but logs no line per request (errors are still logged)."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass


@dataclass
class RunningServer:
    """A reference server that is serving; `stop()` shuts it down."""

    url: str
    request_log: list[tuple[str, str]]
    _server: BaseWSGIServer = field(repr=False, compare=False)
    _thread: threading.Thread = field(repr=False, compare=False)
    _stopped: bool = field(default=False, repr=False, compare=False)

    def stop(self) -> None:
        """Stop serving and release the port; calling it again does nothing."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_http_server(
    *, faults: Iterable[str] = (), host: str = "127.0.0.1", port: int = 0,
    wrap: Callable[[WSGIApp], WSGIApp] | None = None, case_insensitive: bool = False,
    token: str | None = None, disk_formats: Mapping[str, str] | None = None, images: Iterable[Image] | None = None,
    other_token: str | None = None,
) -> RunningServer:
    """Start the Glance-style reference app on `host`:`port` (0: an ephemeral port) with the named faults.

    With `token`, the app answers 401 to any request that does not carry it (or `other_token`, a second project's)
    as X-Auth-Token.
    """
    # `wrap`, for the suite's own tests, puts a middleware around the app (a target that refuses, slows or drops).
    request_log: list[tuple[str, str]] = []
    app = make_app(faults=faults, request_log=request_log, case_insensitive=case_insensitive, token=token,
                   disk_formats=disk_formats, images=images, other_token=other_token)
    if wrap is not None:
        app = wrap(app)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietRequestHandler)
    # A short poll interval keeps stop() quick; serve_forever only notices shutdown between polls.
    serve = partial(server.serve_forever, poll_interval=0.05)
    thread = threading.Thread(target=serve, name=f"reference-glance-{server.port}", daemon=True)
    thread.start()
    url_host = f"[{host}]" if ":" in host else host
    return RunningServer(url=f"http://{url_host}:{server.port}", request_log=request_log, _server=server,
                         _thread=thread)

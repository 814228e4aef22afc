"""The reference targets for tools/bench.py, recording each request with its arrival time so it can be replayed.

    python tools/_bench_serve.py LOG [--images N] [--cri-socket PATH] [--load NAME]

Prints the HTTP URL (and the CRI URL) and serves until SIGTERM, then writes LOG (JSON): the HTTP requests as
[time, method, target, headers] and the CRI requests as [time, method path, request bytes as hex]; times are
time.monotonic() of this machine, which the benchmark's own clock shares.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grpc

from conformance.reference import cri_server
from conformance.reference.glance.images import generated
from conformance.reference.glance.load import LOADS, wrap_with
from conformance.reference.http_server import start_http_server

HTTP: list[list[Any]] = []
CRI: list[list[Any]] = []


def recording_app(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """`app`, appending each request (time, method, target, headers) to HTTP."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO", "")  # as sent
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_") and key not in ("HTTP_HOST", "HTTP_CONNECTION")}
        HTTP.append([time.monotonic(), environ["REQUEST_METHOD"], target, headers])
        return app(environ, start_response)

    return wrapped


class _Recording(grpc.GenericRpcHandler):
    """A generic handler that records each request's bytes before the wrapped handler reads them."""

    def __init__(self, inner: grpc.GenericRpcHandler) -> None:
        self.inner = inner

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = self.inner.service(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method  # type: ignore[attr-defined]
        read = handler.request_deserializer

        def deserialize(data: bytes) -> Any:
            CRI.append([time.monotonic(), method, data.hex()])
            return read(data) if read else data

        return handler._replace(request_deserializer=deserialize)  # type: ignore[attr-defined,no-any-return]


def main() -> int:
    """Serve until SIGTERM, then write the log."""
    parser = argparse.ArgumentParser()
    parser.add_argument("log")
    parser.add_argument("--images", type=int)
    parser.add_argument("--cri-socket")
    parser.add_argument("--load", choices=sorted(LOADS), help="a load behaviour of the reference (recorded too)")
    parser.add_argument("--require-token", help="answer 401 to a Glance-style request without this X-Auth-Token")
    options = parser.parse_args()
    original = cri_server.service_handler
    cri_server.service_handler = lambda *args: _Recording(original(*args))  # type: ignore[assignment]
    images = None if options.images is None else generated(options.images)
    shed = wrap_with(options.load)
    http = start_http_server(images=images, token=options.require_token,
                             wrap=lambda app: recording_app(shed(app) if shed else app))
    print(http.url, flush=True)
    cri = None
    if options.cri_socket:
        cri = cri_server.start_cri_server(socket_path=options.cri_socket)
        print(cri.url, flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    http.stop()
    if cri is not None:
        cri.stop()
    Path(options.log).write_text(json.dumps({"http": HTTP, "cri": CRI}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

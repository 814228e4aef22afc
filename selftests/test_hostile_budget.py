"""--budget ends the run within max(20%, 30 s) of its end whatever the target does, with all three reports written.

Each shape of target that costs time is run at once, each in its own pytest process with a short budget: a target
that trickles every answer (each byte well within the timeout), one that answers every request just before the
timeout, an endless v1.1 detail walk, a CRI runtime that never answers, and a published image schema just under
the suite's cap that costs work for every image validated against it.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from conformance.glance.published_schema import MAX_SCHEMA_BYTES
from conformance.reference.cri import images as cri_images
from conformance.reference.cri.servicer import PROTO_MODULES, ImageServicer, service_handler
from conformance.reference.glance.app import WSGIApp
from conformance.reference.http_server import start_http_server
from selftests.conftest import REPO, SuiteRun, suite_command
from selftests.hostile_glance import sent_path

BUDGET = 20.0
TIMEOUT = 4.0
BOUND = BUDGET + max(0.2 * BUDGET, 30.0)  # README's promise: the budget, and max(20%, 30 s) to end the run
STARTUP = 60.0  # seconds a loaded machine may take to start pytest, before the budget's clock starts
LIFETIME = STARTUP + BOUND + 30  # seconds a hanging call is held at most
REPORTS = ("report.html", "junit.xml", "results.json")


# ---- the hostile targets -----------------------------------------------------------------------------------------

Middleware = Callable[[WSGIApp, threading.Event], WSGIApp]


def answered(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """What the reference answers to `environ`: its status line, headers and body."""
    seen: list[Any] = []
    body = b"".join(app(environ, lambda status, headers, *_: seen.append((status, headers))))
    return seen[0][0], seen[0][1], body


def trickling(app: WSGIApp, stop: threading.Event) -> WSGIApp:
    """Every answer but the root's comes a byte every 0.2 s: each read well within the timeout, none complete."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, headers, body = answered(app, environ)
        start_response(status, headers)
        if sent_path(environ) == "/":
            return [body]

        def drip() -> Iterator[bytes]:
            for at in range(len(body)):
                if stop.wait(0.2):
                    return
                yield body[at:at + 1]

        return drip()

    return middleware


def just_in_time(app: WSGIApp, stop: threading.Event) -> WSGIApp:
    """Every answer but the root's comes whole, 0.3 s before the timeout."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if sent_path(environ) != "/":
            stop.wait(TIMEOUT - 0.3)
        return app(environ, start_response)  # type: ignore[no-any-return]

    return middleware


def endless_detail(app: WSGIApp, stop: threading.Event) -> WSGIApp:
    """`GET /v1.1/images/detail` answers a full page of new images after any marker: the walk never ends."""
    template = {"name": "endless", "status": "active", "is_public": True, "deleted": False, "protected": False,
                "container_format": "bare", "disk_format": "raw", "size": 1, "min_disk": 0, "min_ram": 0,
                "checksum": None, "owner": None, "created_at": "2020-01-01T00:00:00", "deleted_at": None,
                "updated_at": "2020-01-01T00:00:00", "properties": {}}
    served = [0]

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if sent_path(environ) != "/v1.1/images/detail":
            return app(environ, start_response)  # type: ignore[no-any-return]
        query = dict(part.partition("=")[::2] for part in environ.get("QUERY_STRING", "").split("&") if part)
        limit = min(int(query.get("limit") or 1000), 1000)
        first, served[0] = served[0], served[0] + limit
        page = [{**template, "id": f"00000000-0000-4000-8000-{first + n:012d}"} for n in range(limit)]
        body = json.dumps({"images": page}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return middleware


def costly_schema() -> bytes:
    """An image schema just under the suite's size cap: thousands of clauses, each applied to every tag of an image
    (about half a minute of validation for an image of 100 tags)."""
    clause = {"properties": {"tags": {"items": {"type": "string", "maxLength": 255}}}}
    unit = len(json.dumps(clause)) + 2
    schema: dict[str, Any] = {"type": "object", "properties": {"id": {"type": "string"}}}
    schema["allOf"] = [clause] * ((MAX_SCHEMA_BYTES - 1000) // unit)
    body = json.dumps(schema).encode()
    assert len(body) < MAX_SCHEMA_BYTES
    return body


def huge_schema(app: WSGIApp, stop: threading.Event) -> WSGIApp:
    """`GET /v2/schemas/image` answers `costly_schema()`, and every image shown carries 100 tags."""
    schema = costly_schema()

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = sent_path(environ)
        if path == "/v2/schemas/image":
            body = schema
        elif path.startswith("/v2/images/") and path.count("/") == 3:
            status, headers, body = answered(app, environ)
            if not status.startswith("200"):
                start_response(status, headers)
                return [body]
            body = json.dumps({**json.loads(body), "tags": [f"tag-{n}" for n in range(100)]}).encode()
        else:
            return app(environ, start_response)  # type: ignore[no-any-return]
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return middleware


@contextmanager
def glance_behind(middleware: Middleware) -> Iterator[str]:
    """The Glance-style reference behind `middleware`; yields its URL."""
    stop = threading.Event()
    try:
        with start_http_server(wrap=lambda app: middleware(app, stop)) as server:
            yield server.url
    finally:
        stop.set()


def hang(stop: threading.Event) -> grpc.RpcMethodHandler:
    """A call taken and never answered (until the self-test ends)."""
    return grpc.unary_unary_rpc_method_handler(lambda request, context: stop.wait(LIFETIME) and b"",
                                               request_deserializer=None, response_serializer=None)


class _Hanging(grpc.GenericRpcHandler):
    """Every call hangs."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler:
        return hang(self.stop)


class _HangingImageStatus(grpc.ServerInterceptor):  # type: ignore[misc]
    """Every ImageStatus call hangs; the other calls are the reference's."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        if handler_call_details.method.endswith("/ImageStatus"):
            return hang(self.stop)
        return continuation(handler_call_details)


@contextmanager
def cri_runtime(every_call_hangs: bool) -> Iterator[str]:
    """A unix-socket CRI runtime whose every call hangs, or the reference whose every ImageStatus does."""
    stop = threading.Event()
    folder = tempfile.mkdtemp(prefix="budget-", dir="/tmp")
    if every_call_hangs:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
        server.add_generic_rpc_handlers((_Hanging(stop),))
    else:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), interceptors=(_HangingImageStatus(stop),))
        servicer = ImageServicer(cri_images.catalogue(), frozenset())
        server.add_generic_rpc_handlers(tuple(service_handler(version, servicer, []) for version in PROTO_MODULES))
    server.add_insecure_port(f"unix:{folder}/cri.sock")
    server.start()
    try:
        yield f"unix://{folder}/cri.sock"
    finally:
        stop.set()
        server.stop(0)
        shutil.rmtree(folder, ignore_errors=True)


SHAPES: dict[str, tuple[Callable[[], Any], tuple[str, ...]]] = {
    "trickling-answers": (lambda: glance_behind(trickling), ("tests/glance",)),
    "answers-just-before-the-timeout": (lambda: glance_behind(just_in_time), ("tests/glance",)),
    "endless-v1.1-walk": (lambda: glance_behind(endless_detail), ("tests/glance", "--max-pages=1000000")),
    "huge-published-schema": (lambda: glance_behind(huge_schema), ("tests/glance",)),
    "cri-image-status-hangs": (lambda: cri_runtime(every_call_hangs=False), ("tests/cri",)),
    "cri-every-call-hangs": (lambda: cri_runtime(every_call_hangs=True), ("tests/cri",)),
}


# ---- the runs ------------------------------------------------------------------------------------------------------


@dataclass
class Timed:
    """A run of the suite, how long it took in all, and from the start of its budget to its end."""

    run: SuiteRun
    elapsed: float
    since_budget_start: float


def timed_run(report_dir: Path, args: tuple[str, ...]) -> Timed:
    """Run the suite in its own process group (killed, all of it, if it outlives STARTUP + BOUND)."""
    command, env = suite_command(report_dir, args)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=STARTUP + BOUND)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    ended = datetime.datetime.now(datetime.timezone.utc)
    run = SuiteRun(process.returncode, stdout, stderr, report_dir)
    since = float("inf")
    if (report_dir / "results.json").is_file():
        # started_at is the budget's start, to the second below: the span measured is never shorter than the run's
        since = (ended - datetime.datetime.fromisoformat(run.results["started_at"])).total_seconds()
    return Timed(run, time.monotonic() - started, since)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Timed]:
    """Every shape's run, all at once."""
    with ExitStack() as stack:
        targets = {name: stack.enter_context(make()) for name, (make, _) in SHAPES.items()}
        with futures.ThreadPoolExecutor(len(SHAPES)) as pool:
            started = {
                name: pool.submit(timed_run, tmp_path_factory.mktemp(name) / "reports",
                                  (*args, "--target", targets[name], f"--budget={BUDGET:g}", f"--timeout={TIMEOUT:g}"))
                for name, (_, args) in SHAPES.items()
            }
            return {name: future.result() for name, future in started.items()}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_budget_ends_the_run_with_all_three_reports(runs: dict[str, Timed], shape: str) -> None:
    timed = runs[shape]
    run = timed.run
    output = run.stdout[-3000:] + run.stderr[-3000:]
    assert timed.elapsed <= STARTUP + BOUND, f"killed after {timed.elapsed:.0f}s\n{output}"
    for name in REPORTS:
        assert (run.report_dir / name).is_file(), f"{name} missing\n{output}"
    assert timed.since_budget_start <= BOUND, f"ended {timed.since_budget_start:.0f}s after its start\n{output}"
    assert run.returncode == 2, output
    assert run.results["verdict"] == "error", run.results["verdict_reasons"]
    stopped = run.results["stopped"] or ""
    # a runtime that answers nothing at all is not reached: the run stops at once, before its budget
    assert ("does not answer" if shape == "cri-every-call-hangs" else "budget") in stopped, (stopped, output)
    assert "INTERNALERROR" not in run.stdout + run.stderr, output

"""The suite, not the target, bounds a run: its time (--budget, SIGTERM), its memory and its work.

Each run is a real `pytest` process against a loopback server (a threaded http.server, or an in-process gRPC
CRI servicer). Wall times and peak memory are bound checks with generous slack, not performance figures.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest

from conformance.evidence import Exchange
from conformance.proto import runtime_v1_pb2
from selftests.conftest import MEMORY_BOUND_KIB, REPO, SuiteRun, measured_run, suite_command
from selftests.run_limits import limits

HTTP_TESTS = ("tests/glance",)
SLACK = 25.0  # seconds for pytest to start and write its reports on a loaded machine
REPORTS = ("report.html", "junit.xml", "results.json")

def assert_reports(run: SuiteRun, verdict: str | None = None) -> None:
    """All three reports are there and results.json is whole, with the verdict README defines: `error` when the
    target or the budget stopped the run (never `fail`), `fail` otherwise (or `verdict`, given)."""
    for name in REPORTS:
        assert (run.report_dir / name).is_file(), f"{name} missing\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
    expected = verdict or ("error" if run.results["stopped_early"] else "fail")
    assert run.results["verdict"] == expected, (run.results["verdict"], run.results["verdict_reasons"])


# ---- loopback HTTP targets -------------------------------------------------------------------------------------

Handler = Callable[[BaseHTTPRequestHandler, threading.Event], None]


@contextmanager
def http_target(answer: Handler) -> Iterator[str]:
    """A threaded loopback HTTP server: `GET /` answers at once, every other request is `answer`ed."""
    stop = threading.Event()

    class Handle(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/":
                send(self, 300, b'{"versions": []}')
            else:
                answer(self, stop)

        do_HEAD = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """Answer `body` as JSON."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def endless_pages(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """Every listing is one image and a `next` link to a further page, each answered a second late."""
    if stop.wait(1.0):
        return
    number = int(handler.path.rpartition("marker=")[2] or 0) if "marker=" in handler.path else 0
    image = {"id": f"00000000-0000-4000-8000-{number:012d}", "name": f"page-{number}", "status": "active",
             "visibility": "public", "tags": [], "container_format": "bare", "disk_format": "raw"}
    page = {"images": [image], "next": f"/v2/images?marker={number + 1}", "first": "/v2/images",
            "schema": "/v2/schemas/images"}
    send(handler, 200, json.dumps(page).encode())


def drip_headers(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """Headers that never end, one byte every half second."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.5):
        handler.wfile.write(b"X")
        handler.wfile.flush()


@functools.cache
def bomb(coding: str) -> bytes:
    """512 MiB of JSON whitespace, compressed (about 0.5 MB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS)
    block = b" " * (1024 * 1024)
    return b"".join([compressor.compress(b"[") + b"".join(compressor.compress(block) for _ in range(512)),
                     compressor.compress(b"]") + compressor.flush()])


def bomb_answer(coding: str) -> Handler:
    """Every answer is the compression bomb of `coding`."""
    return lambda handler, stop: send(handler, 200, bomb(coding), {"Content-Encoding": coding})


@functools.cache
def empty_objects() -> bytes:
    """A listing of 8 MB minus a little of empty objects: parsed whole, about 800 MB of dicts."""
    count = (8 * 1024 * 1024 - 100) // 3
    return b'{"images": [' + b",".join([b"{}"] * count) + b"]}"


def many_objects(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """Every answer is a page of empty objects."""
    send(handler, 200, empty_objects())


def huge_chunked(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """A chunked JSON body of 50 MB (no Content-Length to refuse it by)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    if handler.command == "HEAD":
        return
    block = b" " * 65536
    for _ in range(800):
        if stop.is_set():
            return
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
    handler.wfile.write(b"0\r\n\r\n")


# ---- the budget ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "budget", "timeout"), [
    pytest.param(endless_pages, 8, 3, id="endless-next-pages"),
    pytest.param(drip_headers, 8, 3, id="headers-drip"),
])
def test_budget_ends_the_run_within_budget_plus_one_timeout(tmp_path: Path, answer: Handler, budget: float,
                                                            timeout: float) -> None:
    with http_target(answer) as url:
        measured = measured_run(tmp_path / "reports", *HTTP_TESTS, "--target", url, f"--budget={budget}",
                                f"--timeout={timeout}", timeout=budget + timeout + SLACK + 60)
    run = measured.run
    assert measured.elapsed < budget + timeout + SLACK, f"took {measured.elapsed:.0f}s\n{run.stdout[-3000:]}"
    assert_reports(run)
    assert "budget" in (run.results["stopped_early"] or ""), run.results["stopped_early"]
    unjudged = {rid: o for rid, o in run.outcomes().items() if o == "error"}
    assert unjudged, run.outcomes()
    entries = {entry["id"]: entry for entry in run.results["requirements"]}
    assert any("budget" in json.dumps(entries[rid]) for rid in unjudged)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_run_with_all_three_reports(tmp_path: Path, signum: int) -> None:
    report_dir = tmp_path / "reports"
    command, env = suite_command(report_dir, (*HTTP_TESTS, "--timeout=3", "--budget=600"))
    asked: list[str] = []

    def counted(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        asked.append(handler.path)
        endless_pages(handler, stop)

    with http_target(counted) as url:
        process = subprocess.Popen([*command, "--target", url], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # signalled once it is walking the endless listing (a loaded machine may take long to start the run)
            ready = time.monotonic() + 120
            while len(asked) < 2 and process.poll() is None and time.monotonic() < ready:
                time.sleep(0.2)
            assert process.poll() is None and len(asked) >= 2, process.communicate()
            process.send_signal(signum)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    run = SuiteRun(process.returncode, stdout, stderr, report_dir)
    assert run.returncode == 2, stdout[-3000:] + stderr[-3000:]
    assert_reports(run, "incomplete")  # cut short by its user: what it did not reach is not run, not the target's
    name = signal.Signals(signum).name
    assert name in (run.results["stopped_early"] or ""), run.results["stopped_early"]
    assert name in run.results["verdict_reasons"][0] and run.results["not_run"], run.results["verdict_reasons"]
    assert "error" not in set(run.outcomes().values()), run.outcomes()


# ---- memory ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [
    pytest.param(bomb_answer("gzip"), id="gzip-bomb"),
    pytest.param(bomb_answer("deflate"), id="deflate-bomb"),
    pytest.param(huge_chunked, id="huge-chunked-body"),
    pytest.param(many_objects, id="8MB-of-empty-objects", marks=pytest.mark.skipif(
        not hasattr(Exchange, "bound"), reason="needs recorded exchanges that keep a bounded part of each body")),
])
def test_memory_stays_bounded_whatever_the_target_sends(tmp_path: Path, answer: Handler) -> None:
    with http_target(answer) as url:
        measured = measured_run(tmp_path / "reports", *HTTP_TESTS, "--target", url, "--timeout=5", "--budget=60",
                                timeout=60 + 5 + SLACK + 60)
    run = measured.run
    assert measured.peak_kib < MEMORY_BOUND_KIB, f"peak {measured.peak_kib // 1024} MB"
    assert_reports(run)
    text = json.dumps(run.results)
    assert "larger than" in text or "--max-json-values" in text, text[-2000:]


def test_json_value_cap_fails_the_body_with_a_clear_message() -> None:
    from conformance.targets.http import BodyNotJSON, HttpResponse

    def response(body: bytes) -> HttpResponse:
        exchange = Exchange(protocol="http", method="GET", target="http://t/v2/images")
        return HttpResponse(200, {"Content-Type": "application/json"}, body, "http://t/v2/images", exchange,  # type: ignore[arg-type]
                            limits(budget="60", max_json_values="1000"))

    with pytest.raises(BodyNotJSON, match="raise --max-json-values"):
        response(b"[" + b",".join([b"{}"] * 1000) + b"]").json()
    # brackets and commas inside strings are not values
    assert response(json.dumps(["{[,"] * 500).encode()).json() == ["{[,"] * 500


# ---- CRI work --------------------------------------------------------------------------------------------------

TAGS = 10_000
IMAGE_ID = "sha256:" + "ab" * 32


@contextmanager
def cri_runtime(images: list[runtime_v1_pb2.Image], calls: dict[str, int], delay: float = 0.0,
                ignore_filter: bool = False) -> Iterator[str]:
    """An in-process runtime.v1 ImageService on a unix socket that knows `images`; ImageStatus answers `delay`
    seconds late; with `ignore_filter`, ListImages lists every image whatever the filter."""
    by_name = {name: image for image in images for name in (image.id, *image.repo_tags, *image.repo_digests)}
    everything = runtime_v1_pb2.ListImagesResponse(images=images).SerializeToString()

    def list_images(request: runtime_v1_pb2.ListImagesRequest, context: grpc.ServicerContext) -> Any:
        calls["ListImages"] = calls.get("ListImages", 0) + 1
        wanted = request.filter.image.image if request.HasField("filter") else ""
        if not wanted or ignore_filter:
            return everything
        found = by_name.get(wanted)
        return runtime_v1_pb2.ListImagesResponse(images=[found] if found else []).SerializeToString()

    def image_status(request: runtime_v1_pb2.ImageStatusRequest, context: grpc.ServicerContext) -> Any:
        calls["ImageStatus"] = calls.get("ImageStatus", 0) + 1
        time.sleep(delay)
        found = by_name.get(request.image.image)
        return runtime_v1_pb2.ImageStatusResponse(image=found) if found else runtime_v1_pb2.ImageStatusResponse()

    handlers = {
        "ListImages": grpc.unary_unary_rpc_method_handler(
            list_images, request_deserializer=runtime_v1_pb2.ListImagesRequest.FromString,
            response_serializer=lambda serialized: serialized),
        "ImageStatus": grpc.unary_unary_rpc_method_handler(
            image_status, request_deserializer=runtime_v1_pb2.ImageStatusRequest.FromString,
            response_serializer=runtime_v1_pb2.ImageStatusResponse.SerializeToString),
    }
    folder = tempfile.mkdtemp(prefix="bounds-", dir="/tmp")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("runtime.v1.ImageService", handlers),))
    server.add_insecure_port(f"unix:{folder}/cri.sock")
    server.start()
    try:
        yield f"unix://{folder}/cri.sock"
    finally:
        server.stop(0)
        shutil.rmtree(folder, ignore_errors=True)


def test_cri_image_with_ten_thousand_tags_is_capped_and_recorded(tmp_path: Path) -> None:
    image = runtime_v1_pb2.Image(
        id=IMAGE_ID, repo_tags=[f"example.test/many:t{n}" for n in range(TAGS)],
        repo_digests=[f"example.test/many@sha256:{'cd' * 32}"], size=1024, username="",
    )
    calls: dict[str, int] = {}
    with cri_runtime([image], calls) as address:
        measured = measured_run(tmp_path / "reports", "tests/cri", "--target", address, "--timeout=10",
                                "--budget=120", timeout=120 + 10 + SLACK + 60)
    run = measured.run
    assert (run.report_dir / "results.json").is_file(), run.stdout[-3000:] + run.stderr[-3000:]
    assert measured.peak_kib < MEMORY_BOUND_KIB, f"peak {measured.peak_kib // 1024} MB"
    # one ImageStatus by id, five by tag, one by digest, and the probes and short ids: nowhere near one per tag
    assert calls.get("ImageStatus", 0) < 100, calls
    assert calls.get("ListImages", 0) < 30, calls
    reasons = [item["reason"] for entry in run.results["requirements"] for item in entry["not_judged"]]
    capped = [reason for reason in reasons if "raise --max-references" in reason]
    assert capped, reasons
    assert str(TAGS - 5) in capped[0]
    assert "error" not in set(run.outcomes().values()), run.outcomes()


@pytest.mark.parametrize(("coding", "wbits"), [
    pytest.param("gzip", 16 + zlib.MAX_WBITS, id="gzip"),
    pytest.param("deflate", zlib.MAX_WBITS, id="zlib-deflate"),
    pytest.param("deflate", -zlib.MAX_WBITS, id="raw-deflate"),
])
def test_bodies_are_decoded_as_they_stream_and_cut_at_the_cap(coding: str, wbits: int) -> None:
    from conformance.targets.decoding import Decoder, OverCap

    def compressed(data: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
        return compressor.compress(data) + compressor.flush()

    def decoded(sent: bytes, room: int, chunk: int = 1000) -> bytes:
        decoder, out = Decoder(coding), b""
        for at in range(0, len(sent), chunk):
            out += decoder.feed(sent[at:at + chunk], room - len(out))
        return out + decoder.feed(b"", room - len(out), final=True)

    text = json.dumps([{"n": n} for n in range(5000)]).encode()
    assert decoded(compressed(text), len(text)) == text
    with pytest.raises(OverCap):
        decoded(compressed(text), len(text) - 1)
    with pytest.raises(OverCap):  # 64 MiB from a few kB, refused after at most the room
        decoded(compressed(b"\0" * (64 * 1024 * 1024)), 1024 * 1024, chunk=65536)
    if coding == "gzip":  # several gzip members make one body
        assert decoded(compressed(text) + compressed(text), 2 * len(text)) == text + text


def test_a_connection_is_reused_only_after_an_answer_read_to_its_end() -> None:
    from conformance.evidence import Censor, ExchangeLog
    from conformance.targets.errors import TargetError
    from conformance.targets.http import HttpTarget
    from conformance.targets.limits import BODY_CAP

    peers: list[int] = []  # the client port of each request: one per connection

    def answer(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        peers.append(handler.client_address[1])
        # /big is more than the suite reads: the rest of it must never be taken for the next answer
        body = b" " * (2 * BODY_CAP) if handler.path == "/big" else b'{"ok": true}'
        with contextlib.suppress(OSError):  # the suite hangs up in the middle of /big
            send(handler, 200, body)

    with http_target(answer) as url:
        target = HttpTarget(url, limits=limits(timeout="10"), log=ExchangeLog(Censor()))
        for _ in range(3):
            assert target.request("GET", "/small").json() == {"ok": True}
        with pytest.raises(TargetError, match="larger than"):
            target.request("GET", "/big")
        assert target.request("GET", "/small").json() == {"ok": True}
        assert target.request("HEAD", "/small").status == 200
        assert target.request("GET", "/small").json() == {"ok": True}
    assert len(set(peers[:4])) == 1  # kept alive while every answer was read to its end
    assert peers[4] != peers[3] and peers[6] != peers[5]  # a cut body or a HEAD answer: a fresh connection


def test_budget_ends_a_run_of_slow_cri_calls(tmp_path: Path) -> None:
    image = runtime_v1_pb2.Image(id=IMAGE_ID, repo_tags=[f"example.test/slow:t{n}" for n in range(5)], size=1024)
    budget, timeout = 6, 3
    with cri_runtime([image], {}, delay=2.5) as address:
        measured = measured_run(tmp_path / "reports", "tests/cri", "--target", address, f"--timeout={timeout}",
                                f"--budget={budget}", timeout=budget + timeout + SLACK + 60)
    run = measured.run
    assert measured.elapsed < budget + timeout + SLACK, f"took {measured.elapsed:.0f}s\n{run.stdout[-3000:]}"
    assert_reports(run)
    assert "budget" in (run.results["stopped_early"] or ""), run.results["stopped_early"]


def test_cri_runtime_listing_twenty_thousand_images_whatever_the_filter_is_bounded(tmp_path: Path) -> None:
    images = [runtime_v1_pb2.Image(id=f"sha256:{n:064x}", repo_tags=[f"example.test/image{n}:latest"],
                                   repo_digests=[f"example.test/image{n}@sha256:{n:064x}"], size=1024)
              for n in range(20_000)]
    calls: dict[str, int] = {}
    budget = 240
    with cri_runtime(images, calls, ignore_filter=True) as address:
        measured = measured_run(tmp_path / "reports", "tests/cri", "--target", address, "--timeout=10",
                                f"--budget={budget}", timeout=budget + 10 + SLACK + 60)
    run = measured.run
    assert_reports(run)
    assert measured.peak_kib < MEMORY_BOUND_KIB, f"peak {measured.peak_kib // 1024} MB"
    assert run.outcome("CRI-LISTIMAGES-FILTER-BY-TAG") == "failed"
    reasons = [item["reason"] for entry in run.results["requirements"] for item in entry["not_judged"]]
    assert any("raise --max-listed" in reason for reason in reasons), reasons
    assert run.results["stopped_early"] is None, run.results["stopped_early"]

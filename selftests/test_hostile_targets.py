"""A broken or hostile target never hangs the suite, crashes it, or loses the report."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from selftests import hostile
from selftests.conftest import MEMORY_BOUND_KIB, measured_run
from selftests.run_limits import limits

HTTP_TESTS = ("tests/glance",)
TIMEOUT = "2"
BOUND = 90  # seconds any hostile run may take in all (a full run that fails every test, on a loaded machine)
HANDLERS = {
    "never-answers": hostile.never_answer,
    "garbage": hostile.garbage,
    "html-error-pages": hostile.html_error_page,
    "not-json": hostile.not_json,
    "huge-body": hostile.huge_body,
    "reset-mid-body": hostile.reset_mid_body,
    "drip": hostile.drip,
}


def assert_ended_cleanly(run, elapsed: float, *, transport: bool) -> None:
    """Bounded, non-zero, one-line summary, no traceback, all three reports, problems recorded as the right outcome."""
    output = run.stdout + run.stderr
    assert elapsed < BOUND, f"took {elapsed:.0f}s"
    assert run.returncode == (2 if transport else 1), output[-3000:]  # 2: the run stopped early
    assert "Traceback" not in output, output[-3000:]
    verdict = "error" if transport else "fail"  # a run the target stopped is never the target's failure
    assert f"conformance verdict: {verdict.upper()}" in run.stdout
    for name in ("report.html", "junit.xml", "results.json"):
        assert (run.report_dir / name).is_file(), name
    outcomes = set(run.outcomes().values())
    assert run.results["verdict"] == verdict
    if transport:
        assert outcomes == {"error"}, outcomes  # the run broke; the target is not blamed for the documents


@pytest.mark.parametrize("kind", [k for k in HANDLERS if k not in ("html-error-pages", "not-json")] + ["refused"])
def test_transport_failure_is_an_error_within_the_bound(suite, kind: str) -> None:
    started = time.monotonic()
    if kind == "refused":
        run = suite(*HTTP_TESTS, "--target", f"http://127.0.0.1:{hostile.free_port()}", "--timeout", TIMEOUT,
                    timeout=BOUND + 15)
    else:
        with hostile.tcp_server(HANDLERS[kind]) as url:
            run = suite(*HTTP_TESTS, "--target", url, "--timeout", TIMEOUT, timeout=BOUND + 15)
    assert_ended_cleanly(run, time.monotonic() - started, transport=True)
    assert len([line for line in run.stdout.splitlines() if "Error" in line and "Traceback" in line]) == 0


@pytest.mark.parametrize("kind", ["html-error-pages", "not-json"])
def test_answers_that_are_not_the_api_never_pass(suite, kind: str) -> None:
    started = time.monotonic()
    with hostile.tcp_server(HANDLERS[kind]) as url:
        run = suite(*HTTP_TESTS, "--target", url, "--timeout", TIMEOUT, timeout=BOUND + 15)
    assert_ended_cleanly(run, time.monotonic() - started, transport=False)
    assert "passed" not in {o for rid, o in run.outcomes().items() if rid.startswith("GLANCE-V2-")}


def test_huge_body_is_read_with_a_cap(tmp_path: Path) -> None:
    with hostile.tcp_server(hostile.huge_body) as url:
        measured = measured_run(tmp_path / "reports", *HTTP_TESTS, "--target", url, "--timeout", "10",
                                timeout=BOUND + 15)
    run = measured.run
    assert run.returncode == 2
    assert measured.peak_kib < MEMORY_BOUND_KIB  # far below the 400 MB the server offered
    assert "larger than" in run.results["stopped_early"]


@pytest.mark.skipif(shutil.which("openssl") is None,
                    reason="needs the openssl command to make a throw-away certificate")
def test_invalid_tls_certificate_is_refused(suite, tmp_path: Path) -> None:
    started = time.monotonic()
    with hostile.tcp_server(lambda conn: hostile.not_json(conn), wrap=hostile.self_signed_context(tmp_path)) as url:
        run = suite(*HTTP_TESTS, "--target", url, "--timeout", TIMEOUT, timeout=BOUND + 15)
    assert_ended_cleanly(run, time.monotonic() - started, transport=True)
    assert "TLS failed" in run.results["stopped_early"]


@pytest.mark.skipif(shutil.which("openssl") is None,
                    reason="needs the openssl command to make a throw-away certificate")
def test_tls_is_checked_against_the_given_bundle_and_skipped_only_when_asked(tmp_path: Path) -> None:
    from conformance.evidence import Censor, ExchangeLog
    from conformance.targets.errors import TargetError
    from conformance.targets.http import HttpTarget

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    with hostile.tcp_server(lambda conn: conn.sendall(answer), wrap=context) as url:
        def target(verify: bool | str) -> HttpTarget:
            return HttpTarget(url, limits=limits(timeout="5"), log=ExchangeLog(Censor()), verify=verify)

        assert target(str(cert)).request("GET", "/").json() == {}  # --ca-bundle
        with pytest.warns(Warning):  # urllib3 says the request was not verified
            assert target(False).request("GET", "/").json() == {}  # --insecure
        with pytest.raises(TargetError, match="TLS failed"):  # the default bundle does not know this certificate
            target(True).request("GET", "/")


def test_budget_stops_a_slow_run(suite) -> None:
    run = suite("tests/glance/test_v2_show.py", "--budget", "0.2", timeout=60)
    assert run.returncode == 2
    assert "budget" in (run.results["stopped_early"] or "")
    assert "error" in set(run.outcomes().values())


class _Unavailable(grpc.GenericRpcHandler):
    def service(self, handler_call_details):  # type: ignore[no-untyped-def]
        def abort(request, context):  # type: ignore[no-untyped-def]
            context.abort(grpc.StatusCode.UNAVAILABLE, "overloaded")

        return grpc.unary_unary_rpc_method_handler(abort)


def test_cri_endpoint_answering_unavailable_is_an_error(suite) -> None:
    folder = tempfile.mkdtemp(prefix="hostile-", dir="/tmp")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((_Unavailable(),))
    server.add_insecure_port(f"unix:{folder}/cri.sock")
    server.start()
    started = time.monotonic()
    try:
        run = suite("tests/cri", "--target", f"unix://{folder}/cri.sock", "--timeout", TIMEOUT, timeout=BOUND + 15)
    finally:
        server.stop(0)
        shutil.rmtree(folder, ignore_errors=True)
    assert_ended_cleanly(run, time.monotonic() - started, transport=True)


def test_cri_endpoint_that_hangs_is_an_error(suite) -> None:
    folder = tempfile.mkdtemp(prefix="hostile-", dir="/tmp")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(f"{folder}/cri.sock")
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_hold() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_and_hold, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        run = suite("tests/cri", "--target", f"unix://{folder}/cri.sock", "--timeout", TIMEOUT, timeout=BOUND + 15)
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)
    assert_ended_cleanly(run, time.monotonic() - started, transport=True)

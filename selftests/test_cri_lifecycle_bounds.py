"""Self-tests of CRI write mode against hostile registries and a hanging runtime: every run ends within its
--budget, under the 300 MB bound (the peak resident memory of the run's process, the embedded reference runtime
and its pulls included), with its three reports written."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from conformance.cri.tarpit import Tarpit
from selftests.conftest import MEMORY_BOUND_KIB, Measured, measured_run
from selftests.hostile_registry import hostile_registry

BUDGET = 30  # seconds
SLACK = 30  # seconds past the budget for the interpreter to start and the reports to be written
REPORTS = ("results.json", "report.html", "junit.xml")


def assert_bounded(measured: Measured) -> None:
    """The run ended within its budget and the memory bound, with every report and no INTERNALERROR."""
    run = measured.run
    assert measured.elapsed < BUDGET + SLACK, (measured.elapsed, run.stdout[-2000:])
    assert measured.peak_kib < MEMORY_BOUND_KIB, f"peak {measured.peak_kib // 1024} MB"
    assert "INTERNALERROR" not in run.stdout + run.stderr, run.stdout[-3000:]
    for name in REPORTS:
        assert (run.report_dir / name).stat().st_size > 0, name


@contextlib.contextmanager
def registry(mode: str) -> Iterator[str]:
    """The silent registry (`hangs`: accepts and never answers) or a hostile_registry mode."""
    if mode == "hangs":
        with Tarpit() as tarpit:
            yield tarpit.address
    else:
        with hostile_registry(mode) as address:
            yield address


@pytest.mark.parametrize("mode", ["hangs", "garbage"])
def test_a_registry_that_refuses_the_push_leaves_the_writes_not_judged(mode: str, tmp_path: Path) -> None:
    with registry(mode) as address:
        measured = measured_run(tmp_path / "reports", "tests/cri", "--allow-writes", f"--registry={address}",
                                "--timeout=5", f"--budget={BUDGET}")
    assert_bounded(measured)
    results = measured.run.results
    not_judged = {entry["id"]: entry["reason"] for entry in results["not_judged"]}
    assert "CRI-PULLIMAGE-BY-TAG" in not_judged, results["not_judged"]
    assert "registry --registry names failed" in not_judged["CRI-PULLIMAGE-BY-TAG"]
    assert results["verdict"] == "incomplete", results["verdict_reasons"]


@pytest.mark.parametrize("mode", ["pull-hangs", "pull-garbage", "pull-5gb"])
def test_a_registry_that_breaks_the_pulls_is_bounded(mode: str, tmp_path: Path) -> None:
    # The embedded reference runtime pulls in the run's own process: its reads count in the measured peak.
    with registry(mode) as address:
        measured = measured_run(tmp_path / "reports", "tests/cri", "--allow-writes", f"--registry={address}",
                                "--timeout=5", f"--budget={BUDGET}")
    assert_bounded(measured)
    results = measured.run.results
    assert results["target"]["endpoints"]["cri"]["write_mode"]["registry"]["address"] == address
    assert results["verdict"] in ("incomplete", "error"), results["verdict_reasons"]
    assert results["counts"].get("failed") or results["counts"].get("error"), results["counts"]


class _PullHangs(grpc.GenericRpcHandler):
    """A CRI ImageService (v1) that holds every PullImage until it is stopped and answers every other call empty."""

    def __init__(self) -> None:
        self.stopping = threading.Event()

    def service(self, handler_call_details):  # type: ignore[no-untyped-def]
        method = handler_call_details.method
        if not method.startswith("/runtime.v1.ImageService/"):
            return None
        if method.endswith("/PullImage"):
            def hang(request: bytes, context: grpc.ServicerContext) -> bytes:
                self.stopping.wait()
                return b""
            return grpc.unary_unary_rpc_method_handler(hang)
        return grpc.unary_unary_rpc_method_handler(lambda request, context: b"")


def test_a_runtime_whose_pull_hangs_is_bounded(tmp_path: Path) -> None:
    folder = tempfile.mkdtemp(prefix="pull-hangs-", dir="/tmp")
    handler = _PullHangs()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"unix:{folder}/cri.sock")
    server.start()
    try:
        with hostile_registry("honest") as address:
            measured = measured_run(tmp_path / "reports", "tests/cri", "--target", f"unix://{folder}/cri.sock",
                                    "--allow-writes", f"--registry={address}", "--timeout=5", f"--budget={BUDGET}")
    finally:
        handler.stopping.set()
        server.stop(0)
        shutil.rmtree(folder, ignore_errors=True)
    assert_bounded(measured)
    results = measured.run.results
    assert results["verdict"] in ("error", "incomplete"), results["verdict_reasons"]
    assert "PullImage" in measured.run.stdout + os.linesep.join(results["verdict_reasons"]), results


def test_the_honest_registry_serves_the_suite(tmp_path: Path) -> None:
    # The hostile modes above differ from this one by their answers alone.
    with hostile_registry("honest") as address:
        measured = measured_run(tmp_path / "reports", "tests/cri", "--allow-writes", f"--registry={address}",
                                f"--budget={BUDGET * 4}")
    assert measured.run.outcome("CRI-PULLIMAGE-BY-DIGEST") == "passed"
    assert measured.run.outcome("CRI-REMOVEIMAGE-ALL-TAGS") == "passed"
    assert measured.peak_kib < MEMORY_BOUND_KIB

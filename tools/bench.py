"""Benchmark: the conformance run against the standalone reference, beside raw loops replaying its own requests.

    python tools/bench.py [--sizes 30,300,3000] [--with-30000] [--no-scaling] [--repeat 3] [--rtt-ms 50]
                          [-- extra pytest args]

Prints the table of the performance issue; every figure but the scaling rows is the median of --repeat runs
(the suite's runs and the raw loops alike):
- the default HTTP run (`pytest --target URL` on the fixed catalogue) against a raw keep-alive http.client loop that
  replays the same requests (method, target, headers, as the reference recorded them), whole run and tests phase
  (first request to last request);
- suite CPU per HTTP exchange (the pytest process's user + system CPU over the run, divided by its requests), beside
  the floor of the stack for the same run: a pytest run of as many tests and hypothesis examples that do nothing
  (importing what the suite imports), plus the raw loop's own CPU, divided by the same requests;
- the CRI run (`pytest --target unix://…`) tests phase against a raw grpc loop replaying the same RPCs (same bytes);
- startup: from starting pytest to the reference receiving its first request, beside its floor: from starting the
  run of tests that do nothing (importing pytest with its plugins, hypothesis, jsonschema and urllib3) to its first
  test;
- the run on generated catalogues of N images (`python -m conformance.reference --images N`): wall time, requests,
  peak RSS of the pytest process and the size of its reports;
- `pytest -n 2` against one process, both on the embedded reference;
- latency: the default run against the reference behind tools/delay_proxy.py (--rtt-ms of round trip, connections
  kept alive), beside a raw keep-alive http.client loop replaying its requests through the same proxy with as many
  in flight as the suite's --concurrency, and beside requests x RTT (the goal: at most half of it);
- busy: the default run against the reference shedding one request in 20 with 503 (load behaviour periodic-503),
  its retries and verdict, beside the same run against the reference at rest;
- the suite's CPU per HTTP exchange as a ratio to the floor's.
Exits 1 when a run does not pass. No figure is asserted: the machine's load moves them.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
SERVE = Path(__file__).resolve().parent / "_bench_serve.py"
CONCURRENCY = 4  # the suite's default --concurrency
DEFAULT_SIZES = (30, 300, 3000)
LARGE = 30000


@dataclass
class Run:
    """One pytest run against a served reference, with what the reference saw of it."""

    started: float  # time.monotonic() when pytest was started
    wall: float
    cpu: float  # user + system seconds of the pytest process
    peak_rss_mib: float
    verdict: str
    report_bytes: int
    http: list[list[Any]]  # [time, method, target, headers] per request the reference received
    cri: list[list[Any]]  # [time, method path, request hex] per RPC

    def phase(self, requests: list[list[Any]]) -> float:
        """Seconds from the first request of the run to its last (the tests phase)."""
        return requests[-1][0] - requests[0][0] if requests else 0.0

    def startup(self, requests: list[list[Any]]) -> float:
        """Seconds from starting pytest to the first request."""
        return requests[0][0] - self.started if requests else float("nan")


TOKEN = "bench-token"  # the token the served reference requires and the suite's HTTP runs send


class Served:
    """The reference targets in their own process (tools/_bench_serve.py), recording every request."""

    def __init__(self, folder: Path, images: int | None = None, cri: bool = False, load: str | None = None) -> None:
        self.log = folder / f"requests-{images or 'fixed'}.json"
        command = [sys.executable, str(SERVE), str(self.log), "--require-token", TOKEN]
        if images is not None:
            command += ["--images", str(images)]
        if load is not None:
            command += ["--load", load]
        if cri:
            command += ["--cri-socket", str(folder / "cri.sock")]
        self.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True,
                                        stdin=subprocess.DEVNULL)
        assert self.process.stdout is not None
        self.http_url = self.process.stdout.readline().strip()
        self.cri_url = self.process.stdout.readline().strip() if cri else ""

    def stop(self) -> dict[str, list[list[Any]]]:
        """Stop serving; the requests it recorded."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        recorded: dict[str, list[list[Any]]] = json.loads(self.log.read_text(encoding="utf-8"))
        return recorded


def run_suite(target: str, folder: Path, served: Served, extra: list[str]) -> Run:
    """Run the suite against `target` in a fresh process; its figures and the requests the reference recorded."""
    reports = folder / "reports"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--report-dir={reports}",
               "--target", target, *extra]
    if target.startswith("http"):  # the reference requires it, as Glance behind Keystone does: the 401s are judged
        command += ["--token", TOKEN]
    with open(folder / "pytest.out", "w", encoding="utf-8") as out:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)  # reaped here, for its own CPU and peak RSS
        wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    recorded = served.stop()
    results_file = reports / "results.json"
    verdict = json.loads(results_file.read_text(encoding="utf-8"))["verdict"] if results_file.exists() else "none"
    size = sum(path.stat().st_size for path in reports.rglob("*") if path.is_file()) if reports.exists() else 0
    return Run(started, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, verdict, size,
               recorded["http"], recorded["cri"])


def replay_http(url: str, requests: list[list[Any]]) -> tuple[float, float]:
    """Seconds and CPU seconds a raw keep-alive http.client loop takes to send `requests` again and read each answer."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    started, cpu = time.monotonic(), time.process_time()
    for _, method, target, headers in requests:
        connection.request(method, target, headers=headers)
        answer = connection.getresponse()
        answer.read()
        if answer.will_close:
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    connection.close()
    return elapsed, cpu


def replay_http_concurrently(url: str, requests: list[list[Any]], concurrency: int) -> float:
    """Seconds `concurrency` raw keep-alive http.client loops take to send `requests` again between them (each loop
    the next request not yet sent), reading each answer."""
    import threading

    parts = urlsplit(url)
    pending = iter(requests)
    lock = threading.Lock()

    def loop() -> None:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        while True:
            with lock:
                request = next(pending, None)
            if request is None:
                break
            _, method, target, headers = request
            connection.request(method, target, headers=headers)
            answer = connection.getresponse()
            answer.read()
            if answer.will_close:
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        connection.close()

    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def latency_row(extra: list[str], rtt: float) -> tuple[str, bool]:
    """The latency row: the suite and a raw loop of the same concurrency behind the delay proxy, and whether the
    run passed."""
    from delay_proxy import DelayProxy

    with tempfile.TemporaryDirectory(prefix="bench-latency-") as folder:
        served = Served(Path(folder))
        proxy = DelayProxy(served.http_url, rtt, keep_alive=True).start()
        try:
            run = run_suite(proxy.url, Path(folder), served, extra)
        finally:
            proxy.stop()
    with tempfile.TemporaryDirectory(prefix="bench-latency-raw-") as folder:
        served = Served(Path(folder))
        proxy = DelayProxy(served.http_url, rtt, keep_alive=True).start()
        try:
            raw = replay_http_concurrently(proxy.url, run.http, CONCURRENCY)
        finally:
            proxy.stop()
            served.stop()
    product = len(run.http) * rtt
    return (f"| {1000 * rtt:.0f} ms round trip (delay proxy, kept alive), default run vs raw loop of "
            f"{CONCURRENCY} keep-alive connections, same {len(run.http)} requests | whole run {run.wall:.1f} s, tests "
            f"phase {run.phase(run.http):.1f} s vs {raw:.1f} s; requests x RTT {product:.1f} s, half of it "
            f"{product / 2:.1f} s (verdict {run.verdict}) |"), run.verdict == "pass"


def busy_row(extra: list[str], at_rest: float) -> tuple[str, bool]:
    """The busy row: the default run against the reference shedding one request in 20 (503, no Retry-After)."""
    with tempfile.TemporaryDirectory(prefix="bench-busy-") as folder:
        served = Served(Path(folder), load="periodic-503")
        run = run_suite(served.http_url, Path(folder), served, extra)
        results = Path(folder) / "reports" / "results.json"
        document = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {}
    failed = [e["id"] for e in document.get("requirements", []) if e["outcome"] == "failed"]
    return (f"| busy: one request in 20 answered 503 (periodic-503), default run | {run.wall:.1f} s vs "
            f"{at_rest:.1f} s at rest, {len(run.http)} requests of which {document.get('retries', '?')} retries, "
            f"{len(failed)} requirement(s) failed (verdict {run.verdict}) |"), run.verdict == "pass"


def replay_cri(url: str, rpcs: list[list[Any]]) -> float:
    """Seconds a raw grpc loop takes to send the recorded RPCs again (the same bytes) on one channel."""
    import grpc

    with grpc.insecure_channel(url) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        calls = {method: channel.unary_unary(method) for method in {rpc[1] for rpc in rpcs}}
        started = time.monotonic()
        for _, method, data in rpcs:
            with contextlib.suppress(grpc.RpcError):  # the suite's own invalid requests answer errors too
                calls[method](bytes.fromhex(data), timeout=10)
        return time.monotonic() - started


def measure(images: int | None, extra: list[str], *, cri: bool = False) -> Run:
    """One HTTP (or CRI) run of the suite against a fresh reference of `images` generated images (None: fixed)."""
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        served = Served(Path(folder), images, cri=cri)
        return run_suite(served.cri_url if cri else served.http_url, Path(folder), served, extra)


def replayed(images: int | None, cri: bool, requests: list[list[Any]], repeat: int) -> tuple[float, float]:
    """The raw loop's seconds and CPU seconds for `requests`, against a fresh reference like the run's (medians).

    The CPU is the benchmark process's own (the reference serves from another); not measured for grpc, whose
    threads do the work.
    """
    with tempfile.TemporaryDirectory(prefix="bench-raw-") as folder:
        served = Served(Path(folder), images, cri=cri)
        try:
            if cri:
                return statistics.median(replay_cri(served.cri_url, requests) for _ in range(repeat)), float("nan")
            loops = [replay_http(served.http_url, requests) for _ in range(repeat)]
            return statistics.median(wall for wall, _ in loops), statistics.median(cpu for _, cpu in loops)
        finally:
            served.stop()


BARE_TESTS = """\
import time

import jsonschema, urllib3  # imported by every conformance run too
import pytest
from hypothesis import given, settings, strategies as st


@pytest.mark.parametrize("n", range({tests}))
def test_nothing(n):
    if n == 0:  # when the first test starts, on the clock the benchmark shares
        with open("first-test", "w") as out:
            out.write(repr(time.monotonic()))


@settings(max_examples={examples}, derandomize=True, database=None, deadline=None)
@given(value=st.integers())
def test_examples_of_nothing(value):
    pass
"""


def counted(summary: str, statistics_output: str) -> tuple[int, int]:
    """The tests a run ran (passed, skipped, failed) and the hypothesis examples it drew, from pytest's output."""
    tests = sum(int(n) for n, _ in re.findall(r"(\d+) (passed|skipped|failed|error)", summary))
    examples = sum(int(n) for n in re.findall(r"(\d+) passing, \d+ failing", statistics_output))
    return tests, examples


@dataclass
class Floor:
    """What the suite's stack costs doing nothing, for a run of a given shape."""

    cpu: float  # CPU seconds of a pytest run of the run's tests and examples, each doing nothing
    startup: float  # seconds from starting that run to its first test


def floor(tests: int, examples: int, repeat: int) -> Floor:
    """The floor of a run of `tests` tests and `examples` hypothesis examples (medians of `repeat` runs)."""
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as folder:
        (Path(folder) / "test_floor.py").write_text(BARE_TESTS.format(tests=tests, examples=examples),
                                                     encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:image_conformance",
                   "test_floor.py"]
        cpus, startups = [], []
        for _ in range(repeat):
            started = time.monotonic()
            process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(process.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(f"the floor's run of tests doing nothing exited {os.waitstatus_to_exitcode(status)}")
            cpus.append(usage.ru_utime + usage.ru_stime)
            startups.append(float((Path(folder) / "first-test").read_text(encoding="utf-8")) - started)
        return Floor(statistics.median(cpus), statistics.median(startups))


def run_shape(target_extra: list[str]) -> tuple[int, int]:
    """The tests and hypothesis examples of one HTTP run (a run of its own, with hypothesis' statistics)."""
    with tempfile.TemporaryDirectory(prefix="bench-shape-") as folder:
        served = Served(Path(folder))
        run_suite(served.http_url, Path(folder), served, ["--hypothesis-show-statistics", *target_extra])
        output = (Path(folder) / "pytest.out").read_text(encoding="utf-8")
        summary = [line for line in output.splitlines() if re.search(r"\d+ passed", line)]
        return counted(summary[-1] if summary else "", output)


def parallel_ratio(extra: list[str], repeat: int, workers: int = 2) -> str:
    """Wall time of `pytest -n WORKERS` over a serial run's, against the embedded reference, side by side."""
    import importlib.util

    if importlib.util.find_spec("xdist") is None:
        return "not measured (pytest-xdist is not installed; pip install .[parallel])"
    pairs = [(_timed_pytest(extra), _timed_pytest(["-n", str(workers), *extra])) for _ in range(repeat)]
    serial = statistics.median(s for (s, _), _ in pairs)
    parallel = statistics.median(p for _, (p, _) in pairs)
    serial_status = max(status for (_, status), _ in pairs)
    parallel_status = max(status for _, (_, status) in pairs)
    return (f"{parallel:.2f} s vs {serial:.2f} s: {parallel / serial:.2f}x "
            f"(exit {parallel_status} and {serial_status})")


def _timed_pytest(args: list[str]) -> tuple[float, int]:
    """Seconds and exit status of one conformance run against the embedded reference."""
    with tempfile.TemporaryDirectory(prefix="bench-n-") as folder:
        started = time.monotonic()
        status = subprocess.run([sys.executable, "-m", "pytest", "-q", f"--report-dir={folder}", *args], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
        return time.monotonic() - started, status


def main() -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="catalogue sizes of the scaling rows (default 30,300,3000)")
    parser.add_argument("--with-30000", action="store_true", help=f"add the N = {LARGE} row (minutes)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling rows")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs behind each figure but the scaling rows, which show the median (default 3)")
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round trip of the latency row (default 50)")
    parser.add_argument("extra", nargs="*", help="extra pytest arguments, after --")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",") if size] + ([LARGE] if options.with_30000 else [])
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| figure | measured |")
    print("|---|---|")
    failed = False

    repeat = max(1, options.repeat)
    runs = [measure(None, options.extra) for _ in range(repeat)]
    failed |= any(run.verdict != "pass" for run in runs)
    requests = runs[0].http
    raw, raw_cpu = replayed(None, False, requests, repeat)
    wall = statistics.median(run.wall for run in runs)
    phase = statistics.median(run.phase(run.http) for run in runs)
    cpu = statistics.median(run.cpu for run in runs)
    verdicts = ", ".join(sorted({run.verdict for run in runs}))
    print(f"| HTTP run vs raw keep-alive http.client loop, same {len(requests)} requests | whole run {wall:.2f} s "
          f"vs {raw:.2f} s: {wall / raw:.1f}x; tests phase {phase:.2f} s: {phase / raw:.1f}x "
          f"(verdict {verdicts}) |")
    print(f"| suite CPU per HTTP exchange (whole run, startup included) | {1000 * cpu / len(requests):.1f} ms "
          f"({cpu:.2f} s CPU / {len(requests)} requests) |")
    startup = statistics.median(run.startup(run.http) for run in runs)
    tests, examples = run_shape(options.extra)
    if tests and examples:
        bare = floor(tests, examples, repeat)
        print(f"| floor of the stack per HTTP exchange: {tests} tests and {examples} hypothesis examples doing "
              f"nothing, plus the raw loop | {1000 * (bare.cpu + raw_cpu) / len(requests):.1f} ms "
              f"(({bare.cpu:.2f} s + {raw_cpu:.2f} s) CPU / {len(requests)} requests) |")
        print(f"| suite CPU per HTTP exchange over the floor's | {cpu / (bare.cpu + raw_cpu):.2f}x |")
        print(f"| startup before the first request | {startup:.2f} s "
              f"(floor: the same tests doing nothing, to their first test: {bare.startup:.2f} s) |")
    else:
        print("| floor of the stack | not measured: the run's tests and examples could not be counted |")
        print(f"| startup before the first request | {startup:.2f} s |")
        failed = True

    cri_runs = [measure(None, options.extra, cri=True) for _ in range(repeat)]
    failed |= any(run.verdict != "pass" for run in cri_runs)
    raw_cri, _ = replayed(None, True, cri_runs[0].cri, repeat)
    cri_phase = statistics.median(run.phase(run.cri) for run in cri_runs)
    cri_verdicts = ", ".join(sorted({run.verdict for run in cri_runs}))
    print(f"| CRI: {len(cri_runs[0].cri)} RPCs, suite tests phase vs raw grpc loop | {cri_phase:.2f} s vs "
          f"{raw_cri:.2f} s: {cri_phase / raw_cri:.1f}x (verdict {cri_verdicts}) |")

    print(f"| `-n 2` vs one process (embedded reference) | {parallel_ratio(options.extra, repeat)} |")

    row, passed = latency_row(options.extra, options.rtt_ms / 1000)
    print(row)
    failed |= not passed
    row, passed = busy_row(options.extra, wall)
    print(row)
    failed |= not passed

    if not options.no_scaling:
        for size in sizes:
            scaled = measure(size, options.extra)
            failed |= scaled.verdict != "pass"
            print(f"| catalogue of {size:,} images | {scaled.wall:.1f} s, {len(scaled.http):,} requests, peak RSS "
                  f"{scaled.peak_rss_mib:.0f} MiB, reports {scaled.report_bytes / 1024:.0f} KiB "
                  f"(verdict {scaled.verdict}) |")
    if failed:
        print("bench.py: a run did not pass; its figures measure something else", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: wall time and peak memory of the default conformance run against the embedded reference.

    python tools/bench.py [--runs 3] [--goal 60] [-- extra pytest args]

Prints one line per run and a summary; exits 1 when the median exceeds --goal seconds.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def one_run(extra: list[str]) -> tuple[float, int, int]:
    """(seconds, exit status, tests reported) of one `pytest` run in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--report-dir={tmp}", *extra],
            cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        elapsed = time.monotonic() - started
        results = json.loads((Path(tmp) / "results.json").read_text()) if (Path(tmp) / "results.json").exists() else {}
    return elapsed, completed.returncode, len(results.get("requirements", []))


def parallel_ratio(extra: list[str], workers: int = 2) -> str:
    """One line: wall time of `pytest -n WORKERS` over a serial run's, measured side by side (needs pytest-xdist)."""
    import importlib.util

    if importlib.util.find_spec("xdist") is None:
        return "-n ratio: not measured (pytest-xdist is not installed; pip install .[parallel])"
    serial, serial_status, _ = one_run(extra)
    parallel, parallel_status, _ = one_run(["-n", str(workers), *extra])
    return (f"-n {workers} vs serial: {parallel:.2f}s / {serial:.2f}s = {parallel / serial:.2f} "
            f"(exit {parallel_status} and {serial_status})")


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="how many runs (default 3)")
    parser.add_argument("--goal", type=float, default=60.0,
                        help="median seconds above which the benchmark fails (default 60)")
    parser.add_argument("extra", nargs="*", help="extra pytest arguments, after --")
    options = parser.parse_args()
    if options.runs < 1:
        parser.exit(2, "bench.py: error: --runs must be at least 1\n")
    times = []
    for index in range(options.runs):
        elapsed, status, requirements = one_run(options.extra)
        times.append(elapsed)
        print(f"run {index + 1}: {elapsed:.2f}s, exit {status}, {requirements} requirements")
        if status != 0:
            print("bench.py: the run did not pass; fix that before measuring", file=sys.stderr)
            return 1
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    median = statistics.median(times)
    print(f"median {median:.2f}s (min {min(times):.2f}s, max {max(times):.2f}s), "
          f"peak memory {peak_mib:.0f} MiB, goal < {options.goal:g}s")
    print(parallel_ratio(options.extra))
    return 0 if median < options.goal else 1


if __name__ == "__main__":
    sys.exit(main())

"""Running one shard of a fleet: each endpoint in its own suite process and report folder, a bounded pool at once."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.fleet.manifest import CREDENTIALS, EMBEDDED, Endpoint, Manifest, ManifestError
from conformance.options import OPTIONS

SHARD_FILE = "shard.json"
INDEX_ENV, COUNT_ENV = "JOB_COMPLETION_INDEX", "FLEET_SHARD_COUNT"


@dataclass(frozen=True)
class Ran:
    """How one endpoint's run ended."""

    name: str
    exit_status: int | None  # None when it was cut at the time limit
    folder: Path


def parse_shard(given: str | None, env: Mapping[str, str]) -> tuple[int, int]:
    """(index, count) of `--shard i/n` (0-based), else of JOB_COMPLETION_INDEX and FLEET_SHARD_COUNT, else (0, 1)."""
    if given is None and env.get(INDEX_ENV) is not None:
        if not env.get(COUNT_ENV):
            raise ManifestError(f"{INDEX_ENV} is set but {COUNT_ENV} is not: set it to the Job's completions")
        given = f"{env[INDEX_ENV]}/{env[COUNT_ENV]}"
    if given is None:
        return 0, 1
    try:
        index, count = (int(part) for part in given.split("/"))
    except ValueError:
        raise ManifestError(f"--shard {given!r}: use INDEX/COUNT, e.g. 0/2 (INDEX from 0)") from None
    if count < 1 or not 0 <= index < count:
        raise ManifestError(f"--shard {given!r}: INDEX must be from 0 to COUNT-1")
    return index, count


def command(endpoint: Endpoint, folder: Path, sign_key: Path | None) -> list[str]:
    """The suite command that certifies `endpoint` into `folder`."""
    args = [sys.executable, "-m", "conformance", f"--report-dir={folder}", "--record", "-q"]
    if sign_key is not None:
        args.append(f"--sign-key={sign_key}")
    if endpoint.target != EMBEDDED:
        args.append(f"--target={endpoint.target}")
    args += [f"--profile={profile}" for profile in endpoint.profiles]
    if endpoint.fault:
        args.append(f"--reference-fault={endpoint.fault}")
    if endpoint.waivers:
        args.append(f"--waivers={endpoint.waivers}")
    if endpoint.baseline:
        args.append(f"--baseline={endpoint.baseline}")
    return [*args, *endpoint.options]


def environment(endpoint: Endpoint, env: Mapping[str, str]) -> dict[str, str]:
    """The run's environment: none of the suite's variables from this shell, but the endpoint's credentials."""
    ours = {name for option in OPTIONS for name in option.env}
    clean = {k: v for k, v in env.items() if k not in ours and not k.startswith("OS_")}
    for option, variable in endpoint.credentials:
        if variable not in env:
            raise ManifestError(f"endpoint {endpoint.name}: credentials: {variable} is not set in the environment")
        clean[CREDENTIALS[option]] = env[variable]
    return clean


def run_shard(manifest: Manifest, out: Path, index: int, count: int, jobs: int, time_limit: float,
              say: Callable[[str], None] = print) -> list[Ran]:
    """Run the endpoints of one shard into `out`, `jobs` at a time; write shard.json with what ran."""
    chosen = manifest.shard(index, count)
    environments = {e.name: environment(e, os.environ) for e in chosen}  # every variable checked before any run
    out.mkdir(parents=True, exist_ok=True)
    started = _now()

    pool = _Pool(time_limit)

    def one(endpoint: Endpoint) -> Ran:
        folder = out / endpoint.name
        folder.mkdir(exist_ok=True)
        status = pool.run(command(endpoint, folder, manifest.sign_key), environments[endpoint.name],
                          out / f"{endpoint.name}.log")
        shown = "not finished (cut at the time limit, or the shard was stopped)" if status is None else \
            f"exit {status}"
        say(f"{endpoint.name}: {shown} · reports in {folder}")
        return Ran(endpoint.name, status, folder)

    previous = signal.signal(signal.SIGTERM, pool.stop) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        with ThreadPoolExecutor(max_workers=jobs) as threads:
            ran = list(threads.map(one, chosen))
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    shard: dict[str, Any] = {
        "manifest_sha256": manifest.sha256,
        "endpoints": [e.name for e in manifest.endpoints],
        "shard": {"index": index, "count": count},
        "ran": {r.name: r.exit_status for r in ran},
        "started_at": started, "finished_at": _now(),
    }
    (out / SHARD_FILE).write_text(json.dumps(shard, indent=2) + "\n", encoding="utf-8")
    return ran


class _Pool:
    """The suite processes of a shard: each bounded in time; SIGTERM to the shard ends the running ones (they
    still write their reports) and starts no other."""

    def __init__(self, time_limit: float) -> None:
        self.time_limit = time_limit
        self.live: set[subprocess.Popen[bytes]] = set()
        self.stopping = False
        self.lock = threading.Lock()

    def run(self, args: list[str], env: dict[str, str], log: Path) -> int | None:
        """Run one suite process, its output to `log`; None when it did not finish (time limit, or stopped)."""
        with log.open("wb") as output, self.lock:
            if self.stopping:
                return None
            process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=env)
            self.live.add(process)
        try:
            status = process.wait(timeout=self.time_limit)
        except subprocess.TimeoutExpired:
            _end(process)
            status = None
        with self.lock:
            self.live.discard(process)
        return None if self.stopping else status

    def stop(self, signum: int, frame: object) -> None:
        """SIGTERM: end every running suite process (each writes its reports) and start no other."""
        with self.lock:
            self.stopping = True
            for process in self.live:
                process.terminate()


def _end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the suite still writes its reports), then SIGKILL a minute later."""
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")

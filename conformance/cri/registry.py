"""The hermetic registry of CRI write mode: Debian's CNCF distribution registry, started for the run on loopback.

It gets a config of its own (127.0.0.1 and a free port, no auth, storage in a temporary folder, deletes allowed),
never the packaged /etc/docker/registry/config.yml (every interface, password auth), and is stopped with the run.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from conformance.targets.registry import RegistryClient, RegistryError

BINARY = "docker-registry"  # Debian's package docker-registry: /usr/bin/docker-registry
START_TIMEOUT = 10.0  # seconds for it to answer GET /v2/
STOP_TIMEOUT = 5.0
PACKAGE_HINT = "install Debian's docker-registry package (apt-get install docker-registry)"
INSTALL_HINT = f"{PACKAGE_HINT}, or name a registry with --registry HOST:PORT"


class RegistryUnavailable(RuntimeError):
    """The registry could not be started; the message says why and what to do."""


def config_text(root: Path, port: int) -> str:
    """The registry's config: loopback only, no auth, storage under `root`, deletes allowed."""
    return (
        "version: 0.1\n"
        "log: {level: warn, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {root}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningRegistry:
    """A registry process this run started, its folder, and its address `127.0.0.1:<port>`."""

    address: str
    process: subprocess.Popen[bytes]
    folder: Path

    def stop(self) -> None:
        """Stop the process and remove its folder (storage, config, log)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> RunningRegistry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_registry(binary: str = BINARY, *, timeout: float = START_TIMEOUT) -> RunningRegistry:
    """Start the registry on a free loopback port and wait until it answers; RegistryUnavailable when it cannot."""
    path = shutil.which(binary)
    if path is None:
        raise RegistryUnavailable(f"no {binary} on this machine to serve the suite's images: {INSTALL_HINT}")
    folder = Path(tempfile.mkdtemp(prefix="conformance-registry-"))
    port = free_port()
    (folder / "storage").mkdir()
    config = folder / "config.yml"
    config.write_text(config_text(folder / "storage", port), encoding="utf-8")
    log = (folder / "registry.log").open("wb")
    with log:
        process = subprocess.Popen([path, "serve", str(config)], stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    running = RunningRegistry(f"127.0.0.1:{port}", process, folder)
    try:
        _wait_ready(running, timeout)
    except BaseException as exc:
        tail = _log_tail(folder / "registry.log")
        running.stop()
        if not isinstance(exc, Exception):
            raise  # a run stopped while it waited (Ctrl-C) stays stopped, not a registry that did not start
        raise RegistryUnavailable(f"{binary} did not start on 127.0.0.1:{port} within {timeout:g}s: {tail}; name a "
                                  "registry with --registry HOST:PORT") from None
    return running


def _wait_ready(running: RunningRegistry, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    client = RegistryClient(running.address, timeout=1.0)
    try:
        while True:
            if running.process.poll() is not None:
                raise RegistryUnavailable(f"exited with status {running.process.returncode}")
            try:
                if client.request("GET", "/v2/").status == 200:
                    return
            except RegistryError:
                pass
            if time.monotonic() > deadline:
                raise RegistryUnavailable("not ready")
            time.sleep(0.05)
    finally:
        client.close()


def _log_tail(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "no log"
    lines = [line for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-3:]) or "no output"

"""Shared helpers for the scripts that start, seed and stop real targets."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

STATE_FILE = "target.json"
SEEDED_FILE = "seeded.json"  # what `seed` made, for the runner's --image-id options


class TargetError(Exception):
    """A failure to report to the user as one line, without a traceback."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr."""

    def error(self, message: str) -> NoReturn:
        """Print `prog: error: message` and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def port_number(text: str) -> int:
    """Parse a TCP port (0 means pick a free one) for argparse."""
    try:
        port = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0..65535: {port}")
    return port


def cache_dir() -> Path:
    """Return the folder kept between runs (virtualenvs): $CONFORMANCE_CACHE or ~/.cache."""
    env = os.environ.get("CONFORMANCE_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "image-conformance"
    return base.expanduser().resolve()


def default_state_dir(name: str) -> Path:
    """Return ${TMPDIR:-/tmp}/image-conformance/<name>."""
    return Path(os.environ.get("TMPDIR") or "/tmp") / "image-conformance" / name


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def pid_cmdline(pid: int) -> str:
    """Return the command line of a process as one string ('' if unknown)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def read_state(state_dir: Path) -> dict[str, object]:
    """Return the recorded state ({} when there is none or it is unreadable)."""
    try:
        data = json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_state(state_dir: Path, **fields: object) -> None:
    """Record the state of a started target (pid, url, log...)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(fields, indent=2, sort_keys=True) + "\n")
    tmp.replace(state_dir / STATE_FILE)


def clear_state(state_dir: Path) -> None:
    """Forget the recorded state of a target."""
    (state_dir / STATE_FILE).unlink(missing_ok=True)


def running_pid(state_dir: Path, marker: str, key: str = "pid") -> int | None:
    """Return the PID recorded under key if it is alive and its command line has marker."""
    pid = read_state(state_dir).get(key)
    if not isinstance(pid, int) or pid <= 1 or not pid_alive(pid):
        return None
    if marker not in pid_cmdline(pid):
        return None
    return pid


def running_url(state_dir: Path, marker: str) -> str | None:
    """Return the recorded URL of a running target, or None."""
    if running_pid(state_dir, marker) is None:
        return None
    url = read_state(state_dir).get("url")
    return url if isinstance(url, str) else None


def write_ini(path: Path, sections: Mapping[str, Mapping[str, object]]) -> None:
    """Write an INI file (oslo.config, paste deploy) from {section: {option: value}}, in order."""
    lines = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{option} = {value}".rstrip() for option, value in options.items())
        lines.append("")
    path.write_text("\n".join(lines))


def venv_imports(venv: Path, modules: str) -> bool:
    """Tell whether the virtualenv's python exists and imports modules ("glance.version, x")."""
    python = venv / "bin" / "python"
    if not python.exists():
        return False
    done = subprocess.run([str(python), "-c", f"import {modules}"], stdin=subprocess.DEVNULL,
                          capture_output=True, check=False)
    return done.returncode == 0


def require_url(state_dir: Path, marker: str, what: str, hint: str = "") -> str:
    """Return the recorded URL of a running target; TargetError if it is not running."""
    url = running_url(state_dir, marker)
    if url is None:
        raise TargetError(f"{what} is not running (state dir {state_dir}){hint}")
    return url


def cmd_url(state_dir: Path, marker: str, what: str) -> int:
    """Print the URL of the running target (the `url` subcommand)."""
    print(require_url(state_dir, marker, what))
    return 0


def cmd_stop(state_dir: Path, marker: str, what: str, timeout: float) -> int:
    """Stop the recorded process of a target and forget it (the `stop` subcommand)."""
    pid = running_pid(state_dir, marker)
    if pid is not None:
        terminate(pid, timeout)
        info(f"{what} (pid {pid}) stopped")
    else:
        info(f"{what} is not running")
    clear_state(state_dir)
    return 0


def cmd_seed(state_dir: Path, marker: str, what: str, load: Callable[[str], list[dict[str, Any]]],
             describe: Callable[[dict[str, Any]], str]) -> int:
    """Load the running target with load(url) (the `seed` subcommand); record it, print the URL."""
    url = require_url(state_dir, marker, what, "; run start first")
    images = load(url)
    path = state_dir / SEEDED_FILE
    path.write_text(json.dumps(images, indent=2, sort_keys=True) + "\n")
    for image in images:
        info(describe(image))
    info(f"{len(images)} images seeded; listed in {path}")
    print(url)
    return 0


def command_parser(prog: str, what: str, state_name: str, state_help: str,
                   default_port: int | None = None) -> OneLineParser:
    """Return the parser shared by the target scripts: a subcommand, --state-dir and, for a
    target on a TCP port, --port."""
    parser = OneLineParser(prog=prog, description=f"Run a real {what} for the suite.")
    parser.add_argument("command", choices=("start", "seed", "stop", "url"))
    parser.add_argument("--state-dir", type=Path, default=default_state_dir(state_name),
                        help=f"{state_help} (default: %(default)s)")
    if default_port is not None:
        parser.add_argument("--port", type=port_number, default=default_port,
                            help="port on 127.0.0.1 for start; 0 picks a free one "
                                 "(default: %(default)s)")
    return parser


def describe_image(image: dict[str, Any]) -> str:
    """One line about a seeded Glance image: its id, status and name."""
    return f"{image['id']}  {image['status']:<11} {image['name']}"


def apt_install(package: str, present: Callable[[], bool], log: Path) -> None:
    """Install a Debian package with apt-get (as root) unless present() says it is there."""
    if present():
        return
    if os.geteuid() != 0:
        raise TargetError(f"{package} is not installed and installing it needs root")
    info(f"installing {package} with apt-get ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update"], "apt-get update", env=env, log_path=log)
    run(["apt-get", "install", "-y", "--no-install-recommends", package],
        f"apt-get install {package}", env=env, log_path=log)
    if not present():
        raise TargetError(f"{package} still missing after apt-get install; log: {log}")


def spawn(argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a server in its own session, output appended to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        try:
            return subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd=cwd, start_new_session=True, close_fds=True)
        except OSError as exc:
            raise TargetError(f"cannot run {argv[0]}: {exc.strerror}") from None


def wait_ready(proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float,
               what: str, log_path: Path) -> None:
    """Poll ready() until true; raise TargetError if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        code = proc.poll()
        if code is not None:
            raise TargetError(f"{what} exited with status {code} while starting; log: {log_path}")
        try:
            if ready():
                return
        except Exception:  # any failure means "not ready yet"
            pass
        if time.monotonic() >= deadline:
            terminate(proc.pid, 5.0)
            proc.poll()
            raise TargetError(f"{what} not ready after {timeout:.0f}s; log: {log_path}")
        time.sleep(0.2)


def terminate(pid: int, timeout: float) -> None:
    """Send SIGTERM to a process group, wait up to timeout, then SIGKILL it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.1)
    if pid_alive(pid):
        raise TargetError(f"process {pid} still alive after SIGKILL")


def run(argv: Sequence[str], what: str, timeout: float = 900.0, env: dict[str, str] | None = None,
        log_path: Path | None = None) -> str:
    """Run a command to completion and return its stdout; TargetError on failure."""
    try:
        done = subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, env=env, check=False)
    except FileNotFoundError:
        raise TargetError(f"{what}: {argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise TargetError(f"{what}: timed out after {timeout:.0f}s") from None
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a") as log:
            log.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        last = lines[-1] if lines else "no output"
        where = f"; log: {log_path}" if log_path is not None else ""
        raise TargetError(f"{what} failed (status {done.returncode}): {last}{where}")
    return done.stdout


def info(message: str) -> None:
    """Print a progress line on stderr (stdout is kept for the URL)."""
    print(message, file=sys.stderr, flush=True)


def main_guard(body: Callable[[], int], prog: str) -> int:
    """Run body(), turning TargetError and Ctrl-C into a one-line error and exit status."""
    try:
        return body()
    except TargetError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130

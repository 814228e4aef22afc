"""Start, seed, stop a real containerd whose CRI ImageService listens on a unix socket.

Usage: python tools/containerd_target.py start|seed|stop|url [--state-dir DIR]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _targetlib as lib
from _containerd_images import seed_images

PROG = "containerd_target"
MARKER = "containerd"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
SOCKET_MAX = 107  # sun_path holds 108 bytes including the final NUL

CONFIG = """\
version = 2
root = "{root}"
state = "{state}"

[grpc]
  address = "{sock}"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "{hosts}"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "{cni_bin}"
      conf_dir = "{cni_conf}"
  [plugins."io.containerd.internal.v1.opt"]
    path = "{opt}"
"""


def socket_path(state: Path) -> Path:
    """Return the gRPC socket path under the state dir."""
    return state / "containerd.sock"


def ensure_installed(log: Path) -> None:
    """Install Debian's containerd and docker-registry (for the write-mode pass) unless they are there."""
    lib.apt_install("containerd", lambda: bool(shutil.which("containerd") and shutil.which("ctr")),
                    log)
    lib.apt_install("docker-registry", lambda: bool(shutil.which("docker-registry")), log)


def hosts_dir(state: Path) -> Path:
    """The CRI plugin's registry config_path: one `<host:port>/hosts.toml` per registry."""
    return state / "hosts"


def allow_plain_http(state: Path, address: str) -> Path:
    """Let the CRI plugin pull from the registry at `address` (host:port) over plain HTTP; the hosts.toml written."""
    folder = hosts_dir(state) / address
    folder.mkdir(parents=True, exist_ok=True)
    hosts = folder / "hosts.toml"
    hosts.write_text(f'server = "http://{address}"\n\n[host."http://{address}"]\n'
                     '  capabilities = ["pull", "resolve"]\n')
    return hosts


def write_config(state: Path) -> Path:
    """Write the version-2 config under state and create its folders; return its path."""
    dirs = {name: state / name for name in ("root", "state", "opt", "cni_bin", "cni_conf", "hosts")}
    for folder in dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
    config = state / "config.toml"
    config.write_text(CONFIG.format(sock=socket_path(state), **dirs))
    return config


def cri_status(sock: Path) -> str | None:
    """Return the cri plugin's status from `ctr plugins ls` ('ok', 'error'...), None if absent."""
    out = lib.run(["ctr", "--address", str(sock), "plugins", "ls"], "ctr plugins ls",
                  timeout=10)
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "io.containerd.grpc.v1" and parts[1] == "cri":
            return parts[-1]
    return None


def cri_ready(sock: Path, log: Path) -> bool:
    """Tell whether the socket answers and the cri plugin is ok (error if it failed)."""
    if not sock.is_socket():
        return False
    try:
        status = cri_status(sock)
    except lib.TargetError:
        return False
    if status is not None and status != "ok":
        raise lib.TargetError(f"containerd's cri plugin is {status!r}; log: {log}")
    return status == "ok"


def cmd_start(state: Path) -> int:
    """Install if needed, start containerd, wait for its CRI plugin, print the URL."""
    url = lib.running_url(state, MARKER)
    if url is not None:
        print(url)
        return 0
    state = state.resolve()
    sock = socket_path(state)
    if len(str(sock)) > SOCKET_MAX:
        raise lib.TargetError(f"socket path too long for a unix socket: {sock}")
    state.mkdir(parents=True, exist_ok=True)
    log = state / "containerd.log"
    ensure_installed(state / "install.log")
    config = write_config(state)
    if sock.is_socket() and cri_ready(sock, log):
        raise lib.TargetError(f"another containerd already serves {sock}; stop it first")
    sock.unlink(missing_ok=True)
    proc = lib.spawn(["containerd", "--config", str(config)], log, cwd=state)
    url = f"unix://{sock}"
    lib.write_state(state, pid=proc.pid, url=url, log=str(log), socket=str(sock))
    ready_error: list[lib.TargetError] = []

    def ready() -> bool:
        try:
            return cri_ready(sock, log)
        except lib.TargetError as exc:
            ready_error.append(exc)
            return True

    try:
        lib.wait_ready(proc, ready, START_TIMEOUT, "containerd", log)
        if ready_error:
            lib.terminate(proc.pid, STOP_TIMEOUT)
            raise ready_error[0]
    except lib.TargetError:
        lib.clear_state(state)
        raise
    print(url)
    return 0


def load(url: str, state: Path) -> list[dict[str, Any]]:
    """Import the conformance images into the k8s.io namespace of the containerd at url."""
    return seed_images(Path(url.removeprefix("unix://")), state / "seed")


def describe(image: dict[str, Any]) -> str:
    """One line about a seeded image: its id, user and references."""
    return f"{image['config_digest'][:19]}  user={image['user']:<10} {' '.join(image['refs'])}"


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    parser = lib.command_parser(PROG, "containerd", "containerd",
                                "config, root, socket, PID and log")
    args = parser.parse_args(argv)
    state = args.state_dir.expanduser()
    commands = {"start": lambda: cmd_start(state),
                "seed": lambda: lib.cmd_seed(state, MARKER, "containerd",
                                             lambda url: load(url, state), describe),
                "stop": lambda: lib.cmd_stop(state, MARKER, "containerd", STOP_TIMEOUT),
                "url": lambda: lib.cmd_url(state, MARKER, "containerd")}
    return lib.main_guard(commands[args.command], PROG)


if __name__ == "__main__":
    sys.exit(main())

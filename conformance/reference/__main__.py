"""Serve the embedded reference targets standalone: `python -m conformance.reference --http-port 9292`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from conformance.reference.cri_server import RunningCriServer, start_cri_server
from conformance.reference.faults import ALL_FAULTS, CRI_FAULTS, GLANCE_FAULTS
from conformance.reference.glance.images import generated
from conformance.reference.http_server import RunningServer, start_http_server
from conformance.report.pipe import print_lines


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line, without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Exit 2 with `prog: error: message`."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, validated; argparse exits with one line on bad input."""
    parser = OneLineParser(prog="python -m conformance.reference", description=__doc__)
    parser.add_argument("--http-port", type=int, metavar="PORT",
                        help="serve the Glance-style API on 127.0.0.1:PORT (0 picks a free port)")
    parser.add_argument("--cri-socket", metavar="PATH", help="serve the CRI ImageService on this unix socket")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="inject a named fault (repeatable)")
    parser.add_argument("--embedded", action="store_true",
                        help="also serve the vendor 'embedded' image (isulad profile)")
    parser.add_argument("--images", type=int, metavar="N",
                        help="serve a generated catalogue of N images (the fixed one's rows in turn, then copies; "
                             "deterministic) instead of the fixed catalogue")
    parser.add_argument("--require-token", metavar="TOKEN",
                        help="answer 401 to any Glance-style request without this X-Auth-Token, as the embedded "
                             "reference does, so that a run with --token=TOKEN judges the 401 requirements")
    parser.add_argument("--list-faults", action="store_true", help="list the named faults and exit")
    options = parser.parse_args(argv)
    if not options.list_faults and options.http_port is None and options.cri_socket is None:
        parser.error("give --http-port, --cri-socket or both")
    if options.http_port is not None and not 0 <= options.http_port <= 65535:
        parser.error(f"--http-port {options.http_port}: not a port number")
    if options.require_token is not None and (not options.require_token.strip() or options.http_port is None):
        parser.error("--require-token needs a non-empty TOKEN and --http-port")
    if options.images is not None and options.images < 1:
        parser.error(f"--images {options.images}: at least 1")
    unknown = [name for name in options.fault if name not in ALL_FAULTS]
    if unknown:
        parser.error(f"--fault {unknown[0]!r}: unknown fault (see --list-faults)")
    return options


def main(argv: list[str] | None = None) -> int:
    """Start the requested reference targets, print their URLs, serve until interrupted."""
    options = parse_args(argv)
    if options.list_faults:
        return print_lines(f"{fault.name:48} {fault.operation:20} {fault.breaks:40} {fault.description}"
                           for fault in ALL_FAULTS.values())
    running: list[RunningServer | RunningCriServer] = []
    try:
        if options.http_port is not None:
            images = None if options.images is None else generated(options.images)
            http = start_http_server(faults=[f for f in options.fault if f in GLANCE_FAULTS], port=options.http_port,
                                     images=images, token=options.require_token)
            running.append(http)
            print(http.url, flush=True)
        if options.cri_socket is not None:
            cri = start_cri_server(
                socket_path=options.cri_socket,
                faults=[f for f in options.fault if f in CRI_FAULTS],
                embedded=options.embedded,
            )
            running.append(cri)
            print(cri.url, flush=True)
    except (OSError, ValueError, RuntimeError) as exc:
        for server in running:
            server.stop()
        print(f"python -m conformance.reference: error: {exc}", file=sys.stderr)
        return 1
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    for server in running:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

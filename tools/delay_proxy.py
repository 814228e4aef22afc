"""A loopback TCP proxy that puts a remote endpoint's round-trip time in front of a local one.

    python tools/delay_proxy.py http://127.0.0.1:9292 --rtt-ms 50 [--port 0] [--keep-alive]

Prints its own URL and forwards until SIGTERM or SIGINT. A new connection costs one round trip before its first
byte goes through (the TCP handshake of a remote endpoint); every chunk then arrives half a round trip after it was
sent, in order, in both directions, so a request and its answer take one round trip, however they are split.

With --keep-alive it speaks HTTP/1.1 to its clients as an endpoint that keeps connections alive would, sending each
request upstream on a connection of its own (loopback, no delay): the reference's server closes every connection
after one answer, which a remote Glance behind a production server does not. An answer that names its length (or
answers a HEAD) keeps the client's connection; any other, or a request with `Connection: close`, ends it.
tools/bench.py and the self-tests start it in-process (`DelayProxy`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
import time
from urllib.parse import urlsplit

CHUNK = 64 * 1024


class DelayProxy:
    """The proxy, served by an event loop in a daemon thread: `start()`, `url`, `stop()`."""

    def __init__(self, upstream: str, rtt: float, *, host: str = "127.0.0.1", port: int = 0,
                 keep_alive: bool = False) -> None:
        parts = urlsplit(upstream)
        if not parts.hostname or not parts.port:
            raise ValueError(f"{upstream!r}: give the upstream as scheme://host:port")
        self.upstream = (parts.hostname, parts.port)
        self.scheme = parts.scheme or "http"
        self.rtt = rtt
        self.host, self.port = host, port
        self.keep_alive = keep_alive
        self.connections = 0  # connections accepted so far
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="delay-proxy", daemon=True)

    @property
    def url(self) -> str:
        """The proxy's URL, with the upstream's scheme."""
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self) -> DelayProxy:
        """Listen and forward in the background; returns once listening."""
        self._thread.start()
        ready = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        ready.result(timeout=10)
        return self

    def stop(self) -> None:
        """Stop listening and forwarding: every connection still open is ended."""
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _listen(self) -> None:
        serve = self._serve_http if self.keep_alive else self._serve
        self._server = await asyncio.start_server(serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await asyncio.sleep(self.rtt)  # the handshake of a remote endpoint
            upstream_in, upstream_out = await asyncio.open_connection(*self.upstream)
        except (OSError, asyncio.CancelledError):
            client_out.close()
            return
        with contextlib.suppress(asyncio.CancelledError):  # stop(): the connection ends with the proxy
            await asyncio.gather(self._pipe(client_in, upstream_out), self._pipe(upstream_in, client_out),
                                 return_exceptions=True)
        for writer in (upstream_out, client_out):
            writer.close()

    async def _serve_http(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await asyncio.sleep(self.rtt)  # the handshake of a remote endpoint
            while True:
                try:
                    head = await client_in.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                    return
                arrived = time.monotonic()
                request = _Head(head)
                body = await client_in.readexactly(int(request.field(b"content-length") or 0))
                await _until(arrived + self.rtt / 2)
                upstream_in, upstream_out = await asyncio.open_connection(*self.upstream)
                upstream_out.write(request.with_connection(b"close") + body)
                answer = await upstream_in.read()  # the reference ends each answer by closing
                upstream_out.close()
                answered = time.monotonic()
                answer_head, _, answer_body = answer.partition(b"\r\n\r\n")
                reply = _Head(answer_head + b"\r\n\r\n")
                keep = (request.field(b"connection") or b"").lower() != b"close" and (
                    request.method == b"HEAD" or reply.field(b"content-length") is not None)
                await _until(answered + self.rtt / 2)
                client_out.write(reply.with_connection(b"keep-alive" if keep else b"close") + answer_body)
                await client_out.drain()
                if not keep:
                    return
        except asyncio.CancelledError:  # stop(): the connection ends with the proxy
            return
        finally:
            client_out.close()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy `source` to `sink`, each chunk delivered half a round trip after it was read, in order."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    break
                sink.write(data)
                await sink.drain()
            if sink.can_write_eof():  # half-close: the answer may still be on its way back
                sink.write_eof()

        delivering = asyncio.ensure_future(deliver())
        try:
            while data := await source.read(CHUNK):
                queue.put_nowait((time.monotonic() + self.rtt / 2, data))
        except OSError:  # reset: what was read is still delivered, then the end
            pass
        finally:
            queue.put_nowait((time.monotonic() + self.rtt / 2, b""))
            await delivering


class _Head:
    """The head of an HTTP message (start line and fields, up to the blank line)."""

    def __init__(self, raw: bytes) -> None:
        start, *lines = raw.rstrip(b"\r\n").split(b"\r\n")
        self.start = start
        self.method = start.split(b" ", 1)[0]
        self.lines = [line for line in lines if line]

    def field(self, name: bytes) -> bytes | None:
        """The value of field `name` (lower case), None when absent."""
        for line in self.lines:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name:
                return value.strip()
        return None

    def with_connection(self, value: bytes) -> bytes:
        """The head with its Connection field set to `value`."""
        kept = [line for line in self.lines if line.partition(b":")[0].strip().lower() != b"connection"]
        return b"\r\n".join([self.start, *kept, b"Connection: " + value]) + b"\r\n\r\n"


async def _until(moment: float) -> None:
    wait = moment - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)


def main() -> int:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("upstream", help="the endpoint to delay, scheme://host:port")
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round-trip time added, in ms (default 50)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on, 127.0.0.1 (default: a free one)")
    parser.add_argument("--keep-alive", action="store_true",
                        help="keep clients' HTTP connections alive, each request upstream on its own connection")
    options = parser.parse_args()
    try:
        proxy = DelayProxy(options.upstream, options.rtt_ms / 1000, port=options.port,
                           keep_alive=options.keep_alive).start()
    except (ValueError, OSError) as exc:
        print(f"delay_proxy.py: error: {exc}", file=sys.stderr)
        return 2
    print(proxy.url, flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

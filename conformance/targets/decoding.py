"""Bounded body decoding: a body undone from its content coding as it streams in, never more than the body cap, and
JSON parsed only within the run's value cap."""

from __future__ import annotations

import time
import zlib
from typing import Any

import urllib3

from conformance.targets.errors import TargetError

CHUNK = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate"  # the only encodings the suite decodes itself, with the body cap applied as it goes


class BodyNotJSON(AssertionError):
    """The target answered a body that is not valid JSON where JSON is documented."""

    def __init__(self, message: str, *, error: ValueError | None = None) -> None:
        super().__init__(message)
        self.error = error  # what the JSON parser said, when it parsed the body at all


class BodyTooComplex(BodyNotJSON):
    """The body holds more JSON values than the run parses (--max-json-values): it is not parsed."""


def is_json_type(content_type: str) -> bool:
    """Whether a media type is JSON (application/json or a +json suffix)."""
    return content_type == "application/json" or content_type.endswith("+json")


def read_body(raw: urllib3.BaseHTTPResponse, deadline: float, what: str, limit: float, cap: int) -> bytes:
    """The body, decoded as it streams in: TargetError past `cap` decoded bytes (compression bombs included)
    or past the deadline; nothing read is kept alive by the error."""
    decoder = Decoder(raw.headers.get("Content-Encoding", ""))
    body = bytearray()
    over_cap = False
    try:
        for chunk in raw.stream(CHUNK, decode_content=False):
            body += decoder.feed(chunk, cap - len(body))
            if time.monotonic() > deadline:
                raise TargetError(f"{what}: response not complete within {limit:g}s")
        body += decoder.feed(b"", cap - len(body), final=True)
    except OverCap:
        over_cap = True  # raised below, outside this block: the OverCap's frames hold the decoded bytes
    except BaseException:
        body.clear()
        raise
    if over_cap:
        body.clear()
        raise TargetError(f"{what}: response body larger than {cap} bytes, not read further")
    return bytes(body)


class OverCap(Exception):
    """More decoded bytes than the room left under the body cap."""


class Decoder:
    """Undo gzip and deflate content codings chunk by chunk, never producing more than the room left."""

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        # applied in the order listed, so undone from the last; an unknown coding leaves the body as sent
        known = all(c in ("gzip", "x-gzip", "deflate", "identity") for c in codings)
        self.stages: list[_Stage] = [_Stage(c) for c in reversed(codings) if c != "identity"] if known else []

    def feed(self, data: bytes, room: int, *, final: bool = False) -> bytes:
        """The decoded bytes of `data`; OverCap when they would be more than `room`."""
        for stage in self.stages:
            data = stage.feed(data, room, final=final)
        if len(data) > room:
            del data
            raise OverCap
        return data


class _Stage:
    """One content coding being undone."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.pending = b""  # the first bytes of a deflate body, until it shows whether it has a zlib header
        self.inflater: Any = None

    def feed(self, data: bytes, room: int, *, final: bool) -> bytes:
        if self.inflater is None:
            self.pending += data
            if len(self.pending) < 2 and not final:
                return b""
            data, self.pending = self.pending, b""
            self.inflater = zlib.decompressobj(self._wbits(data))
        out = bytearray()
        while data:
            out += self.inflater.decompress(data, room + 1 - len(out))
            if len(out) > room or self.inflater.unconsumed_tail:
                out.clear()
                raise OverCap
            data = self.inflater.unused_data
            if data and self.coding != "deflate":  # a further gzip member
                self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                break
        if final:
            out += self.inflater.flush()
            if len(out) > room:
                out.clear()
                raise OverCap
        return bytes(out)

    def _wbits(self, start: bytes) -> int:
        if self.coding != "deflate":
            return 16 + zlib.MAX_WBITS
        # "deflate" is meant to be zlib-wrapped, but many servers send raw deflate
        zlib_header = len(start) >= 2 and start[0] & 0x0F == 8 and ((start[0] << 8) | start[1]) % 31 == 0
        return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS

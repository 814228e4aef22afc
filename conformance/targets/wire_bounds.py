"""A protobuf answer read within a cap on its repeated entries: the wire bytes are walked before they are parsed, and
entries past the cap are dropped unread and counted, so that 16 MiB of two-byte entries (millions of images, tags or
info entries) never become millions of objects."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError


@dataclass
class Bounded:
    """A parsed answer and what was left out of it: field full name -> entries dropped unread."""

    message: Any
    dropped: Counter[str] = field(default_factory=Counter)


def parse_bounded(message_type: Any, data: bytes, entries: int, caps: dict[str, int] | None = None) -> Bounded:
    """`data` parsed as `message_type`, keeping at most `entries` repeated entries in all (and at most `caps[name]`
    of the field `name`); DecodeError when the bytes are not a message."""
    walk = _Walk(entries, caps or {})
    kept = walk.prune(message_type.DESCRIPTOR, data, 0, len(data))
    return Bounded(message_type.FromString(bytes(kept)), walk.dropped)


class _Walk:
    def __init__(self, entries: int, caps: dict[str, int]) -> None:
        self.left = entries
        self.caps = caps
        self.dropped: Counter[str] = Counter()

    def prune(self, descriptor: Descriptor, data: bytes, pos: int, end: int) -> bytearray:
        """The fields of the message in data[pos:end], its repeated entries past the caps left out."""
        out = bytearray()
        seen: dict[int, int] = {}
        fields = descriptor.fields_by_number
        while pos < end:
            start = pos
            tag, pos = _varint(data, pos)
            wire, tag_end = tag & 7, pos
            value = pos
            if wire == 0:
                _, pos = _varint(data, pos)
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            elif wire == 2:
                length, value = _varint(data, pos)
                pos = value + length
            else:
                raise DecodeError(f"wire type {wire} is not read")
            if pos > end:
                raise DecodeError("truncated message")
            described = fields.get(tag >> 3)
            if described is None:
                continue  # an unknown field: nothing the suite reads, so not kept
            if described.is_repeated:
                count = seen[tag >> 3] = seen.get(tag >> 3, 0) + 1
                if self.left <= 0 or count > self.caps.get(described.full_name, count):
                    skipped, pos = _skip_run(data, pos, end, data[start], tag_end - start == 1 and wire == 2)
                    self.dropped[described.full_name] += 1 + skipped
                    seen[tag >> 3] = count + skipped
                    continue
                self.left -= 1
            if described.type == FieldDescriptor.TYPE_MESSAGE and wire == 2:
                inner = self.prune(described.message_type, data, value, pos)
                out += data[start:tag_end]
                out += _encode_varint(len(inner))
                out += inner
            else:
                out += data[start:pos]
        return out


def _skip_run(data: bytes, pos: int, end: int, tag: int, short: bool) -> tuple[int, int]:
    """How many entries follow at `pos` with the same one-byte tag and a one-byte length, and where they end: the
    common shape of a flood of entries, skipped without decoding each one."""
    count = 0
    if short:
        while pos + 1 < end and data[pos] == tag and data[pos + 1] < 0x80:
            pos += 2 + data[pos + 1]
            count += 1
        if pos > end:
            raise DecodeError("truncated message")
    return count, pos


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise DecodeError("truncated or overlong varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)

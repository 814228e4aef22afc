"""Deterministic image data a target accepts as its declared disk format (standard library only).

Upstream Glance inspects uploads and refuses data that does not look like the declared disk_format,
so qcow2 and vhd data start with a real header declaring a virtual size.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

SECTOR = 512
VIRTUAL_SIZE = 1 << 30  # what the headers declare unless told otherwise


def filler(seed: str, size: int) -> bytes:
    """`size` deterministic pseudo-random bytes derived from `seed`."""
    return hashlib.shake_256(seed.encode()).digest(size)


def qcow2_header(virtual_size: int = VIRTUAL_SIZE) -> bytes:
    """A qcow2 v3 header (no backing file, no features), padded to one sector."""
    head = struct.pack(">4sIQIIQ", b"QFI\xfb", 3, 0, 0, 16, virtual_size)
    return (head.ljust(100, b"\0") + struct.pack(">I", 104)).ljust(SECTOR, b"\0")


def vhd_header(virtual_size: int = VIRTUAL_SIZE) -> bytes:
    """A fixed-disk VHD footer copy (cookie 'conectix', original and current size), padded to one sector."""
    head = struct.pack(">8sIIQI4sI4sQQ", b"conectix", 2, 0x00010000, 0xFFFFFFFFFFFFFFFF, 0, b"cnfm", 0x00010000,
                       b"Wi2k", virtual_size, virtual_size)
    return head.ljust(SECTOR, b"\0")


HEADERS: dict[str, Callable[[int], bytes]] = {"qcow2": qcow2_header, "vhd": vhd_header}


def image_data(disk_format: str, seed: str, size: int) -> bytes:
    """`size` deterministic bytes a target accepts as `disk_format` (qcow2 and vhd start with a real header)."""
    header = HEADERS[disk_format](VIRTUAL_SIZE) if disk_format in HEADERS else b""
    if len(header) > size:
        raise ValueError(f"a {disk_format} upload needs at least {len(header)} bytes, not {size}")
    return header + filler(seed, size - len(header))

"""Deterministic image data a target accepts as its declared disk format (standard library only).

Upstream Glance inspects uploads and refuses data that does not look like the declared disk_format,
so qcow2, vhd, vdi, vmdk and iso data start with a real header (declaring a virtual size where the
format has one), followed by deterministic filler bytes. Write mode and the real-target seeds in
tools/ (which run on the bare interpreter) both use this module: keep it free of third-party imports.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

SECTOR = 512
ISO_BLOCK = 2048
VIRTUAL_SIZE = 1 << 30  # what the headers declare unless told otherwise

VMDK_DESCRIPTOR = """\
# Disk DescriptorFile
version=1
CID=fffffffe
parentCID=ffffffff
createType="monolithicSparse"

# Extent description
RW {sectors} SPARSE "conformance.vmdk"

# The Disk Data Base
#DDB
ddb.virtualHWVersion = "4"
ddb.adapterType = "ide"
"""


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


def vdi_header(virtual_size: int = VIRTUAL_SIZE) -> bytes:
    """A VirtualBox VDI header (signature 0xbeda107f, disk size at 0x170), one sector long."""
    head = bytearray(SECTOR)
    text = b"<<< Oracle VM VirtualBox Disk Image >>>\n"
    head[0:len(text)] = text
    head[0x40:0x48] = struct.pack("<II", 0xBEDA107F, 0x00010001)
    head[0x170:0x178] = struct.pack("<Q", virtual_size)
    return bytes(head)


def vmdk_header(virtual_size: int = VIRTUAL_SIZE) -> bytes:
    """A monolithicSparse VMDK sparse header plus its one-sector descriptor."""
    sectors = virtual_size // SECTOR
    head = struct.pack("<4sIIQQQQIQQ", b"KDMV", 1, 3, sectors, 128, 1, 1, 512, 0, 0)
    descriptor = VMDK_DESCRIPTOR.format(sectors=sectors).encode()
    if len(descriptor) > SECTOR:
        raise ValueError("VMDK descriptor longer than one sector")
    return head.ljust(SECTOR, b"\0") + descriptor.ljust(SECTOR, b"\0")


def iso_header(total_size: int) -> bytes:
    """An empty system area, a primary volume descriptor for `total_size` bytes and a set terminator."""
    blocks = total_size // ISO_BLOCK
    pvd = bytearray(ISO_BLOCK)
    pvd[0:7] = b"\x01CD001\x01"
    pvd[8:40] = b"CONFORMANCE".ljust(32)
    pvd[40:72] = b"CONFORMANCE".ljust(32)
    pvd[80:88] = struct.pack("<I", blocks) + struct.pack(">I", blocks)
    pvd[120:124] = struct.pack("<H", 1) + struct.pack(">H", 1)
    pvd[124:128] = struct.pack("<H", 1) + struct.pack(">H", 1)
    pvd[128:132] = struct.pack("<H", ISO_BLOCK) + struct.pack(">H", ISO_BLOCK)
    terminator = b"\xffCD001\x01".ljust(ISO_BLOCK, b"\0")
    return bytes(16 * ISO_BLOCK) + bytes(pvd) + terminator


# Formats whose header declares a virtual size; iso's header describes the data's own size instead.
HEADERS: dict[str, Callable[[int], bytes]] = {
    "qcow2": qcow2_header, "vhd": vhd_header, "vdi": vdi_header, "vmdk": vmdk_header,
}


def image_data(disk_format: str, seed: str, size: int, virtual_size: int = VIRTUAL_SIZE) -> bytes:
    """`size` deterministic bytes a target accepts as `disk_format` (raw-like formats: filler only)."""
    if disk_format == "iso":
        header = iso_header(size)
    elif disk_format in HEADERS:
        header = HEADERS[disk_format](virtual_size)
    else:
        header = b""
    if len(header) > size:
        raise ValueError(f"a {disk_format} upload needs at least {len(header)} bytes, not {size}")
    return header + filler(seed, size - len(header))

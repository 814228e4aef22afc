"""Deterministic OCI image blobs, built with the standard library: fixed mtimes, owners and gzip headers, so the same
image gives the same digests in every run (the suite's lifecycle images, and the containerd seed in tools/)."""

from __future__ import annotations

import io
import json
import platform
import tarfile

from conformance.targets.registry import OCI_MANIFEST, digest

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
CREATED = "2024-01-01T00:00:00Z"


def go_arch() -> str:
    """This machine's architecture in OCI (Go) spelling."""
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
            "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}.get(machine, machine)


def canonical(obj: object) -> bytes:
    """Compact, key-sorted JSON bytes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    """Add a regular file with fixed owner and mtime to `tar`."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    tar.addfile(info, io.BytesIO(data))


def manifest(config: bytes, layer: bytes) -> bytes:
    """The OCI manifest of an image of one gzip layer."""
    return canonical({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": digest(layer), "size": len(layer)}],
    })

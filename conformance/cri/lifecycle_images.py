"""The suite's own images for the CRI lifecycle (pull, remove): tiny, deterministic, built with the standard library.

Every byte is fixed (mtimes, owners, gzip headers), so each image has the same id (its config digest) in every
run, as the containerd seed of tools/_oci.py has. Each image lives in its own repository and has its own id, so
pulling or removing one never touches another.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass

from conformance.cri.oci import CREATED, add_file, canonical, go_arch, manifest
from conformance.targets.registry import RegistryClient, digest

REPOSITORY_PREFIX = "conformance/lifecycle-"
ABSENT_REPOSITORY = "conformance/lifecycle-never-pushed"  # no run pushes anything there


@dataclass(frozen=True)
class LifecycleImage:
    """One image the suite pushes to the registry: its repository, tags and the bytes of its one layer."""

    slug: str
    tags: tuple[str, ...]  # empty: pushed by digest only
    padding: int = 0  # bytes of incompressible data in the layer (ImageFsInfo must see them arrive)

    @property
    def repository(self) -> str:
        """The repository path on the registry."""
        return REPOSITORY_PREFIX + self.slug

    def blobs(self) -> Blobs:
        """The layer, config and manifest of the image."""
        return _build(self)


@dataclass(frozen=True)
class Blobs:
    """The three blobs of one image."""

    layer: bytes
    config: bytes
    manifest: bytes

    @property
    def id(self) -> str:
        """The image id a runtime reports: the config digest."""
        return digest(self.config)

    @property
    def manifest_digest(self) -> str:
        """The digest of the manifest (what a pull by digest names)."""
        return digest(self.manifest)

    @property
    def size(self) -> int:
        """Bytes of manifest, config and layer together."""
        return len(self.layer) + len(self.config) + len(self.manifest)


BY_TAG = LifecycleImage("by-tag", ("1.0",))
WITHOUT_TAG = LifecycleImage("without-tag", ("latest",))
BY_DIGEST = LifecycleImage("by-digest", ())
DEADLINE = LifecycleImage("deadline", ("1.0",))
TWO_TAGS = LifecycleImage("two-tags", ("one", "two"))
REMOVE_TWICE = LifecycleImage("remove-twice", ("1.0",))
CONCURRENT = LifecycleImage("concurrent", ("1.0",))
# One per API version, each larger than the one before: a runtime may still count (or reuse) the layer of the image
# the previous version removed, and clean it up while the next one is pulled (containerd samples usage every 10 s),
# so the next pull must add more than that removal takes away.
FS_USAGE = {version: LifecycleImage(f"fs-usage-{version}", ("1.0",), padding=mebibytes * 1024 * 1024)
            for version, mebibytes in (("v1", 1), ("v1alpha2", 3))}
IMAGES = (BY_TAG, WITHOUT_TAG, BY_DIGEST, DEADLINE, TWO_TAGS, REMOVE_TWICE, CONCURRENT, *FS_USAGE.values())


def _padding(seed: str, size: int) -> bytes:
    """`size` bytes that do not compress: a sha256 chain from `seed`."""
    out, block = bytearray(), seed.encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


@functools.cache
def _build(image: LifecycleImage) -> Blobs:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add_file(tar, "conformance/image.txt", f"{image.repository}\n".encode())
        if image.padding:
            add_file(tar, "conformance/padding.bin", _padding(image.repository, image.padding))
    layer = gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)
    config = canonical({
        "architecture": go_arch(), "os": "linux", "created": CREATED,
        "config": {"User": "1000", "Cmd": ["/bin/true"], "Labels": {"org.example.conformance": image.slug}},
        "rootfs": {"type": "layers", "diff_ids": [digest(raw.getvalue())]},
    })
    return Blobs(layer, config, manifest(config, layer))


def push(client: RegistryClient, images: tuple[LifecycleImage, ...] = IMAGES) -> None:
    """Push every image (blobs, then the manifest under each tag, or by digest when it has none)."""
    for image in images:
        blobs = image.blobs()
        client.push_blob(image.repository, blobs.layer)
        client.push_blob(image.repository, blobs.config)
        for reference in image.tags or (blobs.manifest_digest,):
            client.push_manifest(image.repository, reference, blobs.manifest)

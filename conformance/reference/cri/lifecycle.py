"""The reference runtime's image lifecycle: PullImage from a registry on this machine, RemoveImage, ImageFsInfo.

A pull reads the manifest, the config and every layer through the distribution API (each under a size cap,
checked against its digest) and stores the image the config describes; layers are counted, not unpacked.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from types import ModuleType
from typing import Any, Protocol

import grpc

from conformance.reference.cri import faults as F
from conformance.reference.cri import images as cri_images
from conformance.reference.cri.images import CatalogueImage
from conformance.reference.cri.probe import CriProbe
from conformance.reference.fault import Fault
from conformance.targets.registry import LOOPBACK_HOSTS, NotFound, RegistryClient, RegistryError, digest, split_address

MAX_CONFIG_BYTES = 1024 * 1024
MAX_LAYER_BYTES = 16 * 1024 * 1024  # one layer (held while hashed); a manifest announcing more is refused unread
MAX_LAYERS = 32
PULL_TIMEOUT = 30.0  # seconds one registry request may take when the caller set no deadline
DEADLINE_MARGIN = 0.3  # seconds past the caller's deadline a pull gives up
MOUNTPOINT = "/var/lib/reference-cri/images"  # what ImageFsInfo names as the image filesystem
BASE_USED_BYTES = 4096  # the store's own bookkeeping
FAULT_REMOVAL_HOLD = 0.2  # seconds F.REMOVE_CONCURRENT_ABORTED keeps a removal "under way"


class ImageStore(Protocol):
    """What the lifecycle reads and changes of the reference's image service (servicer.ImageServicer)."""

    images: tuple[CatalogueImage, ...]
    faults: frozenset[Fault[CriProbe]]


class PullFailed(Exception):
    """A pull that cannot be done; `code` is the gRPC status it answers."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def _user(config: dict[str, Any]) -> tuple[int | None, str]:
    """The uid or user name the image config's `User` names (its part before `:`)."""
    user = str((config.get("config") or {}).get("User") or "").partition(":")[0]
    return (int(user), "") if user.isdigit() else (None, user)


def fetch(reference: str, *, timeout: float) -> CatalogueImage:
    """The image `reference` names, read from its registry; PullFailed when it cannot be."""
    canonical = cri_images.normalise(reference)
    if canonical is None:
        raise PullFailed(grpc.StatusCode.INVALID_ARGUMENT, f"{reference!r} is not a valid image reference")
    name, at, pinned_digest = canonical.partition("@")
    if not at:
        name, _, tag = canonical.rpartition(":")
    domain, _, repository = name.partition("/")
    try:
        host, _ = split_address(domain)
    except ValueError:
        host = domain
    if host not in LOOPBACK_HOSTS:
        raise PullFailed(grpc.StatusCode.FAILED_PRECONDITION,
                         f"{domain}: the reference runtime pulls only from registries on this machine")
    client = RegistryClient(domain, timeout=timeout)
    try:
        manifest, parsed = client.manifest(repository, pinned_digest if at else tag)
        layers = parsed.get("layers")
        config_digest = (parsed.get("config") or {}).get("digest")
        if not isinstance(layers, list) or len(layers) > MAX_LAYERS or not isinstance(config_digest, str):
            raise PullFailed(grpc.StatusCode.FAILED_PRECONDITION, f"{reference}: not an image manifest this runtime "
                             f"pulls (a config and at most {MAX_LAYERS} layers)")
        announced = [layer.get("size") if isinstance(layer, dict) else None for layer in layers]
        if any(not isinstance(size, int) or not 0 <= size <= MAX_LAYER_BYTES for size in announced):
            raise PullFailed(grpc.StatusCode.RESOURCE_EXHAUSTED,
                             f"{reference}: a layer is announced larger than {MAX_LAYER_BYTES} bytes")
        config = client.blob(repository, config_digest, max_bytes=MAX_CONFIG_BYTES)
        size = len(manifest) + len(config)
        for layer in layers:
            size += len(client.blob(repository, str(layer.get("digest")), max_bytes=MAX_LAYER_BYTES))
    except NotFound as exc:
        raise PullFailed(grpc.StatusCode.NOT_FOUND, f"failed to pull {reference}: {exc}") from None
    except RegistryError as exc:
        raise PullFailed(grpc.StatusCode.UNKNOWN, f"failed to pull {reference}: {exc}") from None
    finally:
        client.close()
    try:
        uid, username = _user(json.loads(config))
    except (ValueError, AttributeError):
        raise PullFailed(grpc.StatusCode.FAILED_PRECONDITION, f"{reference}: the image config is not JSON") from None
    return CatalogueImage(
        id=digest(config),
        repo_tags=() if at else (canonical,),
        repo_digests=(f"{name}@{digest(manifest)}",),
        size=size, uid=uid, username=username,
    )


def merged(images: tuple[CatalogueImage, ...], pulled: CatalogueImage) -> tuple[CatalogueImage, ...]:
    """`images` with `pulled` stored: its tags move to it from any other image, its names join an image it equals."""
    kept = []
    existing = None
    for image in images:
        if image.id == pulled.id:
            existing = image
            continue
        tags = tuple(tag for tag in image.repo_tags if tag not in pulled.repo_tags)
        kept.append(image if tags == image.repo_tags else _with(image, repo_tags=tags))
    if existing is not None:
        pulled = _with(existing, repo_tags=tuple(dict.fromkeys((*existing.repo_tags, *pulled.repo_tags))),
                       repo_digests=tuple(dict.fromkeys((*existing.repo_digests, *pulled.repo_digests))),
                       removed=False)
    return tuple(sorted((*kept, pulled), key=lambda image: image.id))


def _with(image: CatalogueImage, **changes: Any) -> CatalogueImage:
    return dataclasses.replace(image, **changes)


class Lifecycle:
    """PullImage, RemoveImage and ImageFsInfo over the images of an ImageServicer (shared by both API versions)."""

    def __init__(self, servicer: ImageStore) -> None:
        self.servicer = servicer
        self.faults = servicer.faults
        self._lock = threading.Lock()
        self._removing: set[str] = set()  # ids a removal is under way for (F.REMOVE_CONCURRENT_ABORTED)

    def pull_image(self, pb: ModuleType, request: Any, context: grpc.ServicerContext) -> Any:
        """Answer PullImage: fetch the image from its registry and store it; image_ref is its id."""
        reference = request.image.image
        if not reference:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "ImageSpec.image must not be empty")
        left = context.time_remaining()
        if left is None or F.PULL_IGNORES_DEADLINE in self.faults:
            left = PULL_TIMEOUT
        try:
            # a moment past the caller's deadline, so that the caller sees DEADLINE_EXCEEDED, not this pull's error
            image = fetch(reference, timeout=min(PULL_TIMEOUT, left + DEADLINE_MARGIN))
        except PullFailed as exc:
            if exc.code is grpc.StatusCode.NOT_FOUND and F.PULL_MISSING_ANSWERS_OK in self.faults:
                return pb.PullImageResponse()
            context.abort(exc.code, str(exc))
        untagged = "@" not in reference and ":" not in reference.rpartition("/")[2]
        if untagged and F.PULL_UNTAGGED_NO_LATEST in self.faults:
            image = _with(image, repo_tags=())
        if image.repo_tags and not untagged and F.PULL_TAG_EXTRA_LATEST in self.faults:
            name = image.repo_tags[0].rpartition(":")[0]
            image = _with(image, repo_tags=(*image.repo_tags, f"{name}:latest"))
        if not image.repo_tags and F.PULL_DIGEST_ADDS_TAG in self.faults and "@" in reference:
            image = _with(image, repo_tags=(f"{image.repo_digests[0].partition('@')[0]}:latest",))
        if not context.is_active():
            return pb.PullImageResponse()  # the caller gave up (its deadline passed): nothing is stored
        with self._lock:
            self.servicer.images = merged(self.servicer.images, image)
        if F.PULL_REF_IS_MANIFEST_DIGEST in self.faults:
            return pb.PullImageResponse(image_ref=image.repo_digests[0].partition("@")[2])
        return pb.PullImageResponse(image_ref=image.id)

    def remove_image(self, pb: ModuleType, request: Any, context: grpc.ServicerContext) -> Any:
        """Answer RemoveImage: remove the image the reference names, with all its tags; OK when there is none."""
        reference = request.image.image
        if not reference:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "ImageSpec.image must not be empty")
        queryable = tuple(image for image in self.servicer.images if not (image.embedded or image.removed))
        try:
            image = cri_images.find(queryable, reference)
        except cri_images.AmbiguousReference as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        if image is None:
            if F.REMOVE_ABSENT_NOT_FOUND in self.faults:
                context.abort(grpc.StatusCode.NOT_FOUND, f"image {reference!r} not found")
            return pb.RemoveImageResponse()
        if F.REMOVE_CONCURRENT_ABORTED in self.faults:
            self._hold_removal(image, context)
        with self._lock:
            current = next((found for found in self.servicer.images if found.id == image.id), None)
            if current is None:
                return pb.RemoveImageResponse()
            rest = tuple(found for found in self.servicer.images if found.id != image.id)
            tag = cri_images.normalise(reference)
            if F.REMOVE_ONLY_NAMED_TAG in self.faults and tag in current.repo_tags and len(current.repo_tags) > 1:
                rest = (*rest, _with(current, repo_tags=tuple(t for t in current.repo_tags if t != tag)))
            elif F.REMOVE_STILL_LISTED in self.faults:
                rest = (*rest, _with(current, removed=True))
            self.servicer.images = tuple(sorted(rest, key=lambda found: found.id))
        return pb.RemoveImageResponse()

    def _hold_removal(self, image: CatalogueImage, context: grpc.ServicerContext) -> None:
        with self._lock:
            busy = image.id in self._removing
            self._removing.add(image.id)
        if busy:
            context.abort(grpc.StatusCode.ABORTED, f"a removal of {image.id} is already under way")
        time.sleep(FAULT_REMOVAL_HOLD)
        with self._lock:
            self._removing.discard(image.id)

    def image_fs_info(self, pb: ModuleType, request: Any, context: grpc.ServicerContext) -> Any:
        """Answer ImageFsInfo: one image filesystem, its usage the size of the stored images."""
        stored = [image for image in self.servicer.images if not image.removed]
        used = BASE_USED_BYTES if F.FSINFO_USAGE_CONSTANT in self.faults else \
            BASE_USED_BYTES + sum(image.size for image in stored)
        usage = pb.FilesystemUsage(
            timestamp=0 if F.FSINFO_ZERO_TIMESTAMP in self.faults else time.time_ns(),
            fs_id=pb.FilesystemIdentifier(mountpoint=MOUNTPOINT),
            used_bytes=pb.UInt64Value(value=used),
            inodes_used=pb.UInt64Value(value=1 + 3 * len(stored)),
        )
        return pb.ImageFsInfoResponse(image_filesystems=[usage])

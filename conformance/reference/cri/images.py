"""The reference CRI image catalogue and the upstream rules for finding an image by reference.

The reference grammar below is the reference runtime's own reading of distribution/reference; the suite does
not import it (its tests judge what the runtime answers), so the two stay independent of each other.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogueImage:
    """One image as the reference runtime stores it."""

    id: str  # the config digest, `sha256:<64 hex>`
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    size: int
    uid: int | None = None  # numeric user of the image config; None when unset
    username: str = ""  # user name of the image config, used only when uid is None
    pinned: bool = False
    embedded: bool = False  # a vendor "embedded" image: listed, but ImageStatus cannot query it
    removed: bool = False  # removed, yet still listed (a fault of the lifecycle): ImageStatus cannot query it

    @property
    def hex(self) -> str:
        """The id without its `sha256:` prefix."""
        return self.id.removeprefix("sha256:")

    @property
    def config_user(self) -> str:
        """The `User` field of the image config this image was built from."""
        return str(self.uid) if self.uid is not None else self.username


TWIN_NONCE = "#28839"  # found by trying nonces until the id began with 977f


def _hex(seed: str) -> str:
    return hashlib.sha256(f"image-conformance reference/{seed}".encode()).hexdigest()


def _image(
    repo: str,
    tags: tuple[str, ...],
    *,
    size: int,
    extra_repos: tuple[str, ...] = (),
    uid: int | None = None,
    username: str = "",
    pinned: bool = False,
    untagged: bool = False,
    embedded: bool = False,
    nonce: str = "",
) -> CatalogueImage:
    config = _hex(f"{repo}/config{nonce}")
    manifest = _hex(f"{repo}/manifest")
    repos = (repo, *extra_repos)
    return CatalogueImage(
        id=f"sha256:{config}",
        repo_tags=() if untagged else tuple(f"{name}:{tag}" for name in repos for tag in tags),
        repo_digests=() if embedded else tuple(f"{name}@sha256:{manifest}" for name in repos),
        size=size,
        uid=uid,
        username=username,
        pinned=pinned,
        embedded=embedded,
    )


_IMAGES = (
    _image("docker.io/library/busybox", ("1.36", "latest"), size=2_155_608, uid=0),
    _image("docker.io/library/redis", ("7.2", "7"), size=41_832_154),
    _image("ghcr.io/example/webapp", ("2.1", "stable"), size=18_326_017, uid=1000),
    _image("quay.io/prometheus/node-exporter", ("v1.7.0",), size=11_427_840, username="nobody"),
    _image("registry.k8s.io/pause", ("3.9",), extra_repos=("k8s.gcr.io/pause",), size=321_520, uid=65535, pinned=True),
    _image("docker.io/library/alpine", (), size=3_408_729, untagged=True),
    # Its id shares its first four hex digits with busybox's (977f...): an id prefix that short is ambiguous.
    _image("docker.io/library/debian", ("12",), size=49_283_372, uid=0, nonce=TWIN_NONCE),
)
_EMBEDDED = _image("localhost/isulad/embedded-rootfs", ("1.0",), size=52_428_800, uid=0, embedded=True)


def catalogue(*, embedded: bool = False) -> tuple[CatalogueImage, ...]:
    """Every image of the reference runtime, sorted by id; the embedded one only when asked."""
    images = _IMAGES + ((_EMBEDDED,) if embedded else ())
    return tuple(sorted(images, key=lambda image: image.id))


# The reference grammar of distribution/reference (docker), without IPv6 domains.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
NAME_MAX = 255


def normalise(reference: str) -> str | None:
    """The fully qualified form of `reference` (`busybox` → `docker.io/library/busybox:latest`); None if malformed."""
    match = _REFERENCE.fullmatch(reference)
    if match is None or len(match["name"]) > NAME_MAX:
        return None
    digest = match["digest"]
    if digest is not None and digest.startswith("sha256:") and not _SHA256.fullmatch(digest):
        return None
    name = match["name"]
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        domain, path = "docker.io", name
    else:
        domain, path = first, rest
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in path:
        path = f"library/{path}"
    # A reference with both a tag and a digest is resolved by its digest, as upstream does.
    if digest is not None:
        return f"{domain}/{path}@{digest}"
    return f"{domain}/{path}:{match['tag'] or 'latest'}"


_ID_PREFIX = re.compile(r"(?:sha256:)?(?P<hex>[0-9a-f]{1,64})", re.ASCII)


class AmbiguousReference(LookupError):
    """A short id that begins more than one image's id (containerd: "ambiguous digest string")."""


def matches(image: CatalogueImage, reference: str) -> bool:
    """Whether `reference` names `image`: its full id, one of its repo tags or repo digests, normalised."""
    if reference == image.id:
        return True
    canonical = normalise(reference)
    return canonical is not None and (canonical in image.repo_tags or canonical in image.repo_digests)


def id_prefix(reference: str) -> str | None:
    """The hex digits `reference` gives when it is an id or a short id (`a1b2c3`, `sha256:a1b2c3`); else None."""
    match = _ID_PREFIX.fullmatch(reference)
    return match["hex"] if match else None


def sharing(images: tuple[CatalogueImage, ...], prefix: str) -> list[CatalogueImage]:
    """The images whose id begins with the hex digits `prefix`."""
    return [image for image in images if image.hex.startswith(prefix)]


def find(images: tuple[CatalogueImage, ...], reference: str) -> CatalogueImage | None:
    """The image `reference` names, resolved as containerd does: by name first, then as an id or id prefix.

    AmbiguousReference when the reference is a prefix of more than one image's id.
    """
    named = next((image for image in images if matches(image, reference)), None)
    if named is not None:
        return named
    prefix = id_prefix(reference)
    if prefix is None:
        return None
    found = sharing(images, prefix)
    if len(found) > 1:
        raise AmbiguousReference(f"can not resolve {reference!r} locally: ambiguous id prefix")
    return found[0] if found else None


def matched_by_tag(image: CatalogueImage, reference: str) -> bool:
    """Whether `reference` names `image` through one of its repo tags."""
    return reference != image.id and normalise(reference) in image.repo_tags


def matched_by_digest(image: CatalogueImage, reference: str) -> bool:
    """Whether `reference` names `image` through one of its repo digests."""
    return reference != image.id and normalise(reference) in image.repo_digests

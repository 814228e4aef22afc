"""The probes of the lifecycle faults: they pull the suite's images from a registry started once per process."""

from __future__ import annotations

import atexit
import functools
from concurrent.futures import ThreadPoolExecutor

from conformance.cri import lifecycle_images as images
from conformance.cri.registry import start_registry
from conformance.cri.tarpit import Tarpit
from conformance.reference.cri.probe import CriProbe
from conformance.targets.registry import RegistryClient

DEADLINE = 0.5  # seconds: the deadline of a pull from the tarpit
DEADLINE_GRACE = 1.5  # seconds after it for the runtime to drop its registry connection


@functools.cache
def registry() -> str:
    """The address of a registry holding the suite's lifecycle images (started on first use, stopped at exit)."""
    running = start_registry()
    atexit.register(running.stop)
    client = RegistryClient(running.address, timeout=10)
    try:
        images.push(client)
    finally:
        client.close()
    return running.address


def tag_reference(image: images.LifecycleImage, tag: str | None = None) -> str:
    """`<registry>/<repository>:<tag>` (the image's first tag unless one is given)."""
    return f"{registry()}/{image.repository}:{tag or image.tags[0]}"


def digest_reference(image: images.LifecycleImage) -> str:
    """`<registry>/<repository>@<manifest digest>`."""
    return f"{registry()}/{image.repository}@{image.blobs().manifest_digest}"


def absent_reference() -> str:
    """A reference to a repository the registry does not hold."""
    return f"{registry()}/{images.ABSENT_REPOSITORY}:absent"


def _pulled_tags(cri: CriProbe, reference: str) -> list[str]:
    if cri.pull(reference).code != "OK":
        raise LookupError(f"PullImage({reference!r}) failed")
    image = cri.status(reference).image
    if image is None:
        raise LookupError(f"ImageStatus({reference!r}) found no image after pulling it")
    return list(image.repo_tags)


def tag_extra_latest(cri: CriProbe) -> bool:
    """Whether a pull by tag tags the image with more than that tag."""
    reference = tag_reference(images.BY_TAG)
    return _pulled_tags(cri, reference) != [reference]


def untagged_no_latest(cri: CriProbe) -> bool:
    """Whether a pull without a tag leaves the image without name:latest."""
    name = f"{registry()}/{images.WITHOUT_TAG.repository}"
    return cri.pull(name).code == "OK" and cri.status(f"{name}:latest").image is None


def digest_adds_tag(cri: CriProbe) -> bool:
    """Whether a pull by digest tags the image."""
    return bool(_pulled_tags(cri, digest_reference(images.BY_DIGEST)))


def ref_is_manifest_digest(cri: CriProbe) -> bool:
    """Whether image_ref differs from the image id."""
    answer = cri.pull(tag_reference(images.BY_TAG))
    return answer.response is not None and answer.response.image_ref != images.BY_TAG.blobs().id


def missing_answers_ok(cri: CriProbe) -> bool:
    """Whether a pull of an image the registry lacks answers OK."""
    return cri.pull(absent_reference()).code == "OK"


def ignores_deadline(cri: CriProbe) -> bool:
    """Whether a pull from a registry that never answers holds its connection well past the pull's deadline."""
    with Tarpit() as tarpit:
        cri.pull(f"{tarpit.address}/{images.DEADLINE.repository}:1.0", timeout=DEADLINE)
        return bool(tarpit.held()) and not tarpit.wait_closed(DEADLINE_GRACE)


def only_named_tag(cri: CriProbe) -> bool:
    """Whether removing one tag of a two-tag image leaves the image under the other."""
    one, two = (tag_reference(images.TWO_TAGS, tag) for tag in images.TWO_TAGS.tags)
    _pulled_tags(cri, one)
    _pulled_tags(cri, two)
    return cri.remove(one).code == "OK" and cri.status(two).image is not None


def still_listed(cri: CriProbe) -> bool:
    """Whether a removed image is still listed."""
    reference = tag_reference(images.REMOVE_TWICE)
    _pulled_tags(cri, reference)
    cri.remove(reference)
    return any(image.id == images.REMOVE_TWICE.blobs().id for image in cri.list().images)


def concurrent_aborted(cri: CriProbe) -> bool:
    """Whether one of five concurrent removals of the same image fails."""
    reference = tag_reference(images.CONCURRENT)
    _pulled_tags(cri, reference)
    with ThreadPoolExecutor(max_workers=5) as pool:
        codes = list(pool.map(lambda _: cri.remove(reference).code, range(5)))
    return any(code != "OK" for code in codes)


def usage_constant(cri: CriProbe) -> bool:
    """Whether used_bytes stays the same across a pull of an image with a 1 MiB layer."""
    def used() -> int:
        return sum(usage.used_bytes.value for usage in cri.fs_info().response.image_filesystems)

    reference = tag_reference(images.FS_USAGE[cri.version])
    cri.remove(reference)  # an earlier probe of the same reference may have pulled it
    before = used()
    _pulled_tags(cri, reference)
    return used() == before

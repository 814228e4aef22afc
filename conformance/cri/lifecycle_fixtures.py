"""CRI write mode (--allow-writes): the registry holding the suite's images, and pulls and removals kept safe.

The suite removes only what it pulled: before each pull it asks ImageStatus by the reference and by the image's id
(ids are fixed, lifecycle_images.py), and refuses to pull an image the runtime already holds, saying so.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.cri import lifecycle_images as images
from conformance.cri.registry import RegistryUnavailable, start_registry
from conformance.run.state import RunState
from conformance.targets.cri import CriResult, CriTarget
from conformance.targets.cri_lifecycle import pull_image, remove_image
from conformance.targets.errors import TargetError
from conformance.targets.registry import RegistryClient

__all__ = ["cri_lifecycle", "cri_registry"]

READ_ONLY = ("write mode is off: run with --allow-writes to pull the suite's own images into the runtime and remove "
             "them again")


class LifecycleWarning(UserWarning):
    """CRI write mode could not remove every image it pulled."""


@dataclass(frozen=True)
class Registry:
    """Where the suite's images are: the address the runtime pulls from, and whether this run started it."""

    address: str
    started: bool


class Refused(Exception):
    """The runtime already holds this image (or its reference) from before the run: the suite leaves it alone."""


@dataclass
class Lifecycle:
    """Pulls and removals of the suite's own images on one API version, with the ids pulled kept for cleanup."""

    cri: CriTarget
    registry: Registry
    record: dict[str, Any]
    pulled: dict[str, str] = field(default_factory=dict)  # image id -> a reference it was pulled by

    def tagged(self, image: images.LifecycleImage, tag: str | None = None) -> str:
        """`<registry>/<repository>:<tag>` (the image's first tag unless one is given)."""
        return f"{self.registry.address}/{image.repository}:{tag or image.tags[0]}"

    def untagged(self, image: images.LifecycleImage) -> str:
        """`<registry>/<repository>`, no tag."""
        return f"{self.registry.address}/{image.repository}"

    def by_digest(self, image: images.LifecycleImage) -> str:
        """`<registry>/<repository>@<manifest digest>`."""
        return f"{self.registry.address}/{image.repository}@{image.blobs().manifest_digest}"

    def absent(self) -> str:
        """A reference to a repository the registry does not hold."""
        return f"{self.registry.address}/{images.ABSENT_REPOSITORY}:absent"

    def pull(self, image: images.LifecycleImage, reference: str, *, timeout: float | None = None,
             deadline_answers: bool = False) -> CriResult:
        """PullImage of `reference` (naming `image`), unless the runtime already holds it: then pytest.skip."""
        try:
            self.check_absent(image, reference)
        except Refused as exc:
            self.record.setdefault("refused", []).append(str(exc))
            pytest.skip(str(exc))
        self.pulled[image.blobs().id] = reference  # before the call: an interrupted pull is cleaned up too
        self.record.setdefault("pulled", []).append(reference)
        return pull_image(self.cri, reference, timeout=timeout, deadline_answers=deadline_answers)

    def check_absent(self, image: images.LifecycleImage, reference: str) -> None:
        """Refused when the runtime holds `reference` or the image's id, other than from a pull of this run."""
        image_id = image.blobs().id
        if image_id in self.pulled:
            return
        for name in (reference, image_id):
            status = self.cri.image_status(name)
            if status.code == "OK" and status.image_set:
                raise Refused(f"not judged: the runtime held {name} before the suite pulled it (image {image_id}); "
                              "the suite never removes an image it did not pull; remove it yourself to judge this")

    def remove(self, reference: str) -> CriResult:
        """RemoveImage of `reference`, which must name an image this run pulled or none at all."""
        return remove_image(self.cri, reference)

    def clean_up(self) -> list[str]:
        """Remove every image this run pulled; the ids whose removal failed."""
        left = []
        for image_id in self.pulled:
            try:
                result = remove_image(self.cri, image_id)
            except TargetError:
                left.append(image_id)
                continue
            if result.code != "OK":
                left.append(image_id)
        self.pulled.clear()
        return left


@pytest.fixture(scope="session")
def cri_registry(run_state: RunState, cri_address: str) -> Iterator[Registry | None]:
    """With --allow-writes: the registry holding the suite's images (started for the run unless --registry names
    one); None in read-only runs, or with the reason recorded when no registry could be had."""
    config = run_state.config
    if not config.allow_writes:
        yield None
        return
    record = run_state.targets.cri_record().write_mode = {}
    running = None
    try:
        if config.registry:
            address = config.registry
        else:
            running = start_registry()
            address = running.address
        client = RegistryClient(address, timeout=config.timeout, limits=run_state.limits)
        try:
            images.push(client)
        finally:
            client.close()
    except (RegistryUnavailable, TargetError) as exc:
        if running is not None:
            running.stop()
        record["unavailable"] = str(exc)
        warnings.warn(LifecycleWarning(f"--allow-writes: no registry for the CRI lifecycle: {exc}"), stacklevel=1)
        yield None
        return
    record["registry"] = {"address": address, "started_by_suite": running is not None}
    try:
        yield Registry(address, started=running is not None)
    finally:
        if running is not None:
            running.stop()


@pytest.fixture(scope="session")
def cri_lifecycle(cri: CriTarget, cri_registry: Registry | None, run_state: RunState) -> Iterator[Lifecycle]:
    """Pulls and removals on one API version; skips (naming --allow-writes) in read-only runs. Every image pulled
    is removed again at the end."""
    if cri_registry is None:
        missing = (run_state.targets.cri_record().write_mode or {}).get("unavailable")
        pytest.skip(f"no registry for the CRI lifecycle: {missing}" if missing else READ_ONLY)
    record = run_state.targets.cri_record().write_mode
    assert record is not None
    lifecycle = Lifecycle(cri, cri_registry, record.setdefault(cri.version, {}))
    try:
        yield lifecycle
    finally:
        left = lifecycle.clean_up()
        lifecycle.record["left_behind"] = left
        if left:
            warnings.warn(LifecycleWarning(f"--allow-writes: {len(left)} pulled image(s) could not be removed: "
                                           f"{', '.join(left)}"), stacklevel=1)

"""rpc PullImage(PullImageRequest) returns (PullImageResponse) — upstream api.proto, judged with --allow-writes.

The suite pulls its own images from the registry it pushed them to (lifecycle_images.py), and removes them again.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import fail, judged
from conformance.cri import lifecycle_images as images
from conformance.cri.lifecycle_fixtures import Lifecycle
from conformance.cri.tarpit import Tarpit
from conformance.targets.cri import CriResult
from conformance.targets.cri_lifecycle import pull_image

DEADLINE = 2.0  # seconds: the deadline of a pull from a registry that never answers
GIVE_UP_GRACE = 3.0  # seconds after it for the runtime to close its connections to that registry


def pulled_ok(lifecycle: Lifecycle, image: images.LifecycleImage, reference: str) -> CriResult:
    """PullImage of `reference`; fails the test unless it answers OK."""
    __tracebackhide__ = True
    result = lifecycle.pull(image, reference)
    if result.code != "OK":
        fail(f"PullImage of {reference}, an image the registry holds, must answer OK",
             f"{result.code}: {result.details}", "OK with image_ref", result.exchange)
    return result


def status_image(lifecycle: Lifecycle, reference: str, why: str) -> dict[str, Any]:
    """The image ImageStatus answers for `reference`; fails the test when it answers none."""
    __tracebackhide__ = True
    status = lifecycle.cri.image_status(reference)
    if status.code != "OK" or not status.image_set or status.response is None:
        fail(f"ImageStatus of {reference} must answer the image {why}",
             f"{status.code}, image {'set' if status.image_set else 'unset'}", "OK with the image", status.exchange)
    image: dict[str, Any] = status.response["image"]
    return image


@pytest.mark.requirement("CRI-PULLIMAGE-BY-TAG")
def test_pull_by_tag_stores_the_image_under_exactly_that_tag(cri_lifecycle: Lifecycle) -> None:
    reference = cri_lifecycle.tagged(images.BY_TAG)
    pulled = pulled_ok(cri_lifecycle, images.BY_TAG, reference)
    image = status_image(cri_lifecycle, reference, "just pulled by that tag")
    if image.get("repo_tags") != [reference]:
        fail(f"The image pulled by {reference} must carry exactly that repo tag", repr(image.get("repo_tags")),
             repr([reference]), pulled.exchange)
    judged("pulls")


@pytest.mark.requirement("CRI-PULLIMAGE-WITHOUT-TAG")
def test_pull_without_tag_stores_the_image_as_latest(cri_lifecycle: Lifecycle) -> None:
    reference = cri_lifecycle.untagged(images.WITHOUT_TAG)
    pulled = pulled_ok(cri_lifecycle, images.WITHOUT_TAG, reference)
    image = status_image(cri_lifecycle, f"{reference}:latest", "just pulled without a tag")
    if image.get("repo_tags") != [f"{reference}:latest"]:
        fail(f"The image pulled by {reference} (no tag) must carry exactly the repo tag {reference}:latest",
             repr(image.get("repo_tags")), repr([f"{reference}:latest"]), pulled.exchange)
    judged("pulls")


@pytest.mark.requirement("CRI-PULLIMAGE-BY-DIGEST")
def test_pull_by_digest_adds_no_tag(cri_lifecycle: Lifecycle) -> None:
    reference = cri_lifecycle.by_digest(images.BY_DIGEST)
    pulled = pulled_ok(cri_lifecycle, images.BY_DIGEST, reference)
    image = status_image(cri_lifecycle, reference, "just pulled by that digest")
    if image.get("repo_tags") or reference not in image.get("repo_digests", []):
        fail(f"The image pulled by {reference} must carry no repo tag and that reference as a repo digest",
             f"repo_tags {image.get('repo_tags')!r}, repo_digests {image.get('repo_digests')!r}",
             f"repo_tags [], repo_digests with {reference!r}", pulled.exchange)
    judged("pulls")


@pytest.mark.requirement("CRI-PULLIMAGE-REF-IS-ID")
def test_image_ref_is_the_image_id(cri_lifecycle: Lifecycle) -> None:
    pulls = ((images.BY_TAG, cri_lifecycle.tagged(images.BY_TAG)),
             (images.WITHOUT_TAG, cri_lifecycle.untagged(images.WITHOUT_TAG)),
             (images.BY_DIGEST, cri_lifecycle.by_digest(images.BY_DIGEST)))
    for image, reference in pulls:
        pulled = pulled_ok(cri_lifecycle, image, reference)
        image_ref = (pulled.response or {}).get("image_ref", "")
        found = status_image(cri_lifecycle, reference, "just pulled")
        if image_ref != found.get("id"):
            fail(f"PullImage of {reference} must answer the image's id as image_ref", repr(image_ref),
                 f"{found.get('id')!r}, the id ImageStatus answers", pulled.exchange)
        by_ref = status_image(cri_lifecycle, image_ref, "whose id PullImage answered as image_ref")
        if by_ref.get("id") != image_ref:
            fail(f"ImageStatus by the image_ref {image_ref} must answer that image", repr(by_ref.get("id")),
                 repr(image_ref), pulled.exchange)
        judged("pulls")


@pytest.mark.requirement("CRI-PULLIMAGE-MISSING-FAILS")
def test_pull_of_a_missing_image_fails_with_a_status_code(cri_lifecycle: Lifecycle) -> None:
    reference = cri_lifecycle.absent()
    result = pull_image(cri_lifecycle.cri, reference, deadline_answers=True)
    if result.code in ("OK", "DEADLINE_EXCEEDED"):
        fail(f"PullImage of {reference}, which the registry does not hold, must fail with a status code in time",
             f"{result.code} {result.response or ''}", "an error status (NOT_FOUND, UNKNOWN, ...) within --timeout",
             result.exchange)
    status = cri_lifecycle.cri.image_status(reference)
    if status.image_set:
        fail(f"A failed pull of {reference} must leave no image under it", "ImageStatus answers an image",
             "OK with image unset", status.exchange)
    judged("pulls")


@pytest.mark.requirement("CRI-PULLIMAGE-DEADLINE")
def test_pull_past_its_deadline_is_given_up(cri_lifecycle: Lifecycle) -> None:
    with Tarpit() as tarpit:
        reference = f"{tarpit.address}/{images.DEADLINE.repository}:{images.DEADLINE.tags[0]}"
        result = cri_lifecycle.pull(images.DEADLINE, reference, timeout=DEADLINE, deadline_answers=True)
        if not tarpit.held():
            pytest.skip(f"not judged: the runtime did not reach the never-answering registry at {tarpit.address} "
                        f"({result.code}); a runtime on another host cannot reach the suite's loopback")
        if result.code == "OK":
            fail(f"PullImage of {reference}, from a registry that never answers, with a {DEADLINE:g}s deadline",
                 f"OK {result.response}", "DEADLINE_EXCEEDED (or another error status)", result.exchange)
        if not tarpit.wait_closed(GIVE_UP_GRACE):
            open_ = sum(held.closed is None for held in tarpit.held())
            fail("A pull past its deadline must be given up: the runtime must close its registry connections",
                 f"{open_} connection(s) still open {GIVE_UP_GRACE:g}s after the deadline",
                 f"closed within {GIVE_UP_GRACE:g}s", result.exchange)
    judged("pulls")

"""rpc RemoveImage(RemoveImageRequest) returns (RemoveImageResponse) — upstream api.proto, judged with --allow-writes.

"This call is idempotent, and must not return an error if the image has already been removed." Only images the
suite pulled itself are removed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from conformance.checks import Problems, fail, judged
from conformance.cri import lifecycle_images as images
from conformance.cri.lifecycle_fixtures import Lifecycle
from conformance.targets.cri import CriResult

CONCURRENT_CALLS = 5


def pull_for_removal(lifecycle: Lifecycle, image: images.LifecycleImage, reference: str) -> str:
    """Pull `reference` and answer the pulled image's id; the test is skipped when the pull does not work (the
    PullImage requirements judge that)."""
    result = lifecycle.pull(image, reference)
    status = lifecycle.cri.image_status(reference)
    if result.code != "OK" or not status.image_set or status.response is None:
        pytest.skip(f"not judged: pulling {reference} to remove it answered {result.code}, ImageStatus "
                    f"{'found' if status.image_set else 'did not find'} it (see the PullImage requirements)")
    image_id: str = status.response["image"]["id"]
    return image_id


def removed_ok(lifecycle: Lifecycle, reference: str, why: str) -> CriResult:
    """RemoveImage of `reference`; fails the test unless it answers OK."""
    __tracebackhide__ = True
    result = lifecycle.remove(reference)
    if result.code != "OK":
        fail(f"RemoveImage of {reference} ({why}) must answer OK", f"{result.code}: {result.details}", "OK",
             result.exchange)
    return result


def judge_gone(problems: Problems, lifecycle: Lifecycle, references: list[str]) -> None:
    """Each of `references` must answer OK with image unset."""
    for reference in references:
        status = lifecycle.cri.image_status(reference)
        problems.judged("references")
        if status.code != "OK" or status.image_set:
            problems.add(f"ImageStatus {reference}: {status.code}, image {'set' if status.image_set else 'unset'}",
                         status.exchange)


@pytest.mark.requirement("CRI-REMOVEIMAGE-ALL-TAGS")
def test_remove_by_one_tag_removes_the_image_with_all_its_tags(cri_lifecycle: Lifecycle) -> None:
    one, two = (cri_lifecycle.tagged(images.TWO_TAGS, tag) for tag in images.TWO_TAGS.tags)
    image_id = pull_for_removal(cri_lifecycle, images.TWO_TAGS, one)
    if pull_for_removal(cri_lifecycle, images.TWO_TAGS, two) != image_id:
        pytest.skip(f"not judged: {one} and {two} name one image but the runtime holds two")
    removed_ok(cri_lifecycle, one, f"one of the two tags of {image_id}")
    problems = Problems(f"After RemoveImage of {one}, the image must be gone under its other tag and its id")
    judge_gone(problems, cri_lifecycle, [two, image_id])
    problems.check()


@pytest.mark.requirement("CRI-REMOVEIMAGE-GONE")
def test_removed_image_is_neither_listed_nor_found(cri_lifecycle: Lifecycle) -> None:
    reference = cri_lifecycle.tagged(images.REMOVE_TWICE)
    image_id = pull_for_removal(cri_lifecycle, images.REMOVE_TWICE, reference)
    removed_ok(cri_lifecycle, reference, "an image just pulled")
    problems = Problems(f"After RemoveImage of {reference}, neither ListImages nor ImageStatus may return it")
    listed = cri_lifecycle.cri.list_images()
    problems.judged("ListImages answers")
    if listed.code != "OK":
        problems.add(f"ListImages: {listed.code} {listed.details}", listed.exchange)
    elif any(entry.get("id") == image_id for entry in (listed.response or {}).get("images", [])):
        problems.add(f"ListImages still lists {image_id}", listed.exchange)
    judge_gone(problems, cri_lifecycle, [reference, image_id])
    problems.check()


@pytest.mark.requirement("CRI-REMOVEIMAGE-IDEMPOTENT")
def test_remove_again_and_remove_of_an_absent_image_answer_ok(cri_lifecycle: Lifecycle) -> None:
    reference = cri_lifecycle.tagged(images.REMOVE_TWICE)
    pull_for_removal(cri_lifecycle, images.REMOVE_TWICE, reference)
    removed_ok(cri_lifecycle, reference, "an image just pulled")
    removed_ok(cri_lifecycle, reference, "an image removed a moment ago: the call is idempotent")
    removed_ok(cri_lifecycle, cri_lifecycle.absent(), "an image that was never there: the call is idempotent")
    judged("removals", 2)


@pytest.mark.requirement("CRI-REMOVEIMAGE-CONCURRENT")
def test_concurrent_removals_of_one_image_all_answer_ok(cri_lifecycle: Lifecycle) -> None:
    reference = cri_lifecycle.tagged(images.CONCURRENT)
    image_id = pull_for_removal(cri_lifecycle, images.CONCURRENT, reference)
    with ThreadPoolExecutor(max_workers=CONCURRENT_CALLS) as pool:
        results = list(pool.map(lambda _: cri_lifecycle.remove(reference), range(CONCURRENT_CALLS)))
    problems = Problems(f"{CONCURRENT_CALLS} RemoveImage calls of {reference} at once must all answer OK")
    for result in results:
        problems.judged("removals")
        if result.code != "OK":
            problems.add(f"RemoveImage {reference}: {result.code} {result.details}", result.exchange)
    judge_gone(problems, cri_lifecycle, [image_id])
    problems.check()

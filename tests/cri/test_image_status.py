"""rpc ImageStatus(ImageStatusRequest) returns (ImageStatusResponse) — seed 000 "ImageStatus".

Read top to bottom like the page.
"""

from __future__ import annotations

import itertools
import os
import re
from typing import Any

import pytest
from hypothesis import example, given

from conformance import catalog, schemas
from conformance.checks import Problems, fail, judged
from conformance.cri import strategies as cri_strategies
from conformance.cri.fixtures import Listed, ListedImage, Status, ask_status, image_differences, reference_pattern
from conformance.evidence import clip
from conformance.targets.cri import CriTarget
from conformance.targets.limits import TooManyValues

ABSENT_REFERENCES = (
    "docker.io/conformance/no-such-image:absent",
    "no-such-image-for-conformance",
    "sha256:" + "0" * 64,
    "docker.io/conformance/no-such-image@sha256:" + "0" * 64,
)
CLIENT_ERRORS = ("INVALID_ARGUMENT", "NOT_FOUND")
DIGEST_ID = re.compile(r"(?:sha256:)?(?P<hex>[0-9a-f]{64})")
SHORT_ID = re.compile(r"(?:sha256:)?(?P<hex>[0-9a-f]{1,64})")
SHORT_ID_DIGITS = 12  # the short id crictl and the kubelet show


def answered(images: list[ListedImage]) -> list[tuple[Status, dict[str, Any]]]:
    """Every ImageStatus answer about the listed images that carries an image."""
    return [(status, status.image) for item in images for status in item.statuses if status.image is not None]


def judge_same_image(images: list[ListedImage], kind: str) -> None:
    """ImageStatus by each well-formed repo tag (or digest) answers what ImageStatus by the id answers."""
    __tracebackhide__ = True
    pattern = reference_pattern("repo_tag" if kind == "tag" else "repo_digest")
    problems = Problems(f"ImageStatus by a repo {kind} must answer the same image as by the id")
    judged = 0
    for item in images:
        by_id = item.by_id.image
        if by_id is None:  # CRI-LISTIMAGES-MATCHES-STATUS (or EMBEDDED) judges an image its id cannot find
            continue
        for status in item.by_tag if kind == "tag" else item.by_digest:
            if not pattern.fullmatch(status.reference):  # CRI-IMAGESTATUS-*-WELLFORMED judges that
                continue
            judged += 1
            problems.judged("references")
            if status.image is None:
                problems.add(f"{status.reference}: {status.result.code}, image unset; by id {item.entry['id']} it is "
                             "found", status.result.exchange)
                continue
            for key in image_differences(status.image, by_id):
                problems.add(f"{status.reference}: {key} {status.image.get(key, '<absent>')!r}, by id "
                             f"{by_id.get(key, '<absent>')!r}", status.result.exchange)
    if not judged:
        pytest.skip(f"no listed image that ImageStatus finds by id has a well-formed repo {kind}")
    problems.check()


def found_hex_ids(images: list[ListedImage]) -> dict[str, ListedImage]:
    """The listed images ImageStatus finds by id whose id is a sha256 digest, by the id's 64 hex digits."""
    found = {}
    for item in images:
        match = DIGEST_ID.fullmatch(item.entry["id"])
        if match and item.by_id.image is not None:
            found[match["hex"]] = item
    return found


def shared_prefix(hex_ids: list[str]) -> str:
    """The longest prefix that two of `hex_ids` share ("" when none share a first digit)."""
    pairs = itertools.pairwise(sorted(hex_ids))
    return max((os.path.commonprefix(pair) for pair in pairs), key=len, default="")  # noqa: RUF071 (hex digits)


def judge_references(images: list[ListedImage], kind: str) -> None:
    """Every repo tag (or digest) of every answered image follows its grammar."""
    __tracebackhide__ = True
    field, shape = ("repo_tags", "name:tag") if kind == "repo_tag" else ("repo_digests", "name@sha256:<64 hex digits>")
    problems = Problems(f"Every entry of {field} must have the form {shape}")
    for status, image in answered(images):
        problems.judged("references", len(image.get(field, [])))
        for value in image.get(field, []):
            if not reference_pattern(kind).fullmatch(value):
                problems.add(f"{status.reference}: {field} has {value!r}", status.result.exchange)
    problems.check()


@pytest.mark.requirement("CRI-IMAGESTATUS-SCHEMA")
def test_response_validates_against_profile_schema(cri: CriTarget, cri_images: list[ListedImage],
                                                   cri_profile: catalog.Profile) -> None:
    schema_name = cri_profile.schemas["cri.ImageStatus"]
    problems = Problems(f"The ImageStatus response must validate against {schema_name}")
    for item in cri_images:
        for status in item.statuses:
            if status.result.response is not None:
                problems.judged("ImageStatus answers")
                for line in schemas.error_lines(schema_name, status.result.response):
                    problems.add(f"{status.reference}: {line}", status.result.exchange)
    problems.check()


# 注意事项 1: an image that is not present answers ImageStatusResponse with Image set to nil.


@pytest.mark.requirement("CRI-IMAGESTATUS-MISSING-OK")
@pytest.mark.parametrize("reference", ABSENT_REFERENCES)
def test_missing_image_answers_ok_with_image_unset(reference: str, cri: CriTarget, cri_listed: Listed) -> None:
    if any(reference in (entry["id"], *entry["repo_tags"], *entry["repo_digests"]) for entry in cri_listed.images):
        pytest.skip(f"the runtime really has an image {reference}")
    status = ask_status(cri, reference)
    result = status.result
    if result.code != "OK":
        fail(f"ImageStatus of the missing image {reference} must answer OK", f"{result.code}: {result.details}",
             "OK with image unset (nil)", status.result.exchange)
    if result.image_set:
        fail(f"ImageStatus of the missing image {reference} must leave image unset",
             f"OK with image {result.response.get('image') if result.response else None!r}",
             "OK with image unset (nil)", status.result.exchange)
    judged("references")


# The same image, whichever name it is asked by (upstream cri-tools validation).


@pytest.mark.requirement("CRI-IMAGESTATUS-SAME-BY-TAG")
def test_status_by_repo_tag_answers_the_same_image_as_by_id(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    judge_same_image(cri_images, "tag")


@pytest.mark.requirement("CRI-IMAGESTATUS-SAME-BY-DIGEST")
def test_status_by_repo_digest_answers_the_same_image_as_by_id(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    judge_same_image(cri_images, "digest")


# 返回值 Image image: the fields of the answered image.


@pytest.mark.requirement("CRI-IMAGESTATUS-ID-NONEMPTY")
def test_answered_image_has_an_id(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    problems = Problems("Every answered image must have a non-empty id")
    problems.judged("ImageStatus answers", len(answered(cri_images)))
    for status, image in answered(cri_images):
        if not image.get("id"):
            problems.add(f"{status.reference}: id {image.get('id')!r}", status.result.exchange)
    problems.check()


@pytest.mark.requirement("CRI-IMAGESTATUS-SIZE-POSITIVE")
def test_answered_image_size_is_positive(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    problems = Problems("Every answered image must have a size greater than 0 bytes")
    problems.judged("ImageStatus answers", len(answered(cri_images)))
    for status, image in answered(cri_images):
        try:
            size = int(image.get("size", 0))  # protobuf JSON writes uint64 as a decimal string
        except (TypeError, ValueError):
            size = 0
        if size <= 0:
            problems.add(f"{status.reference}: size {image.get('size')!r}", status.result.exchange)
    problems.check()


@pytest.mark.requirement("CRI-IMAGESTATUS-UID-XOR-USERNAME")
def test_uid_and_username_are_mutually_exclusive(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    problems = Problems("uid and username are mutually exclusive")
    problems.judged("ImageStatus answers", len(answered(cri_images)))
    for status, image in answered(cri_images):
        if "uid" in image and image.get("username"):
            problems.add(f"{status.reference}: uid {image['uid'].get('value')!r} and username {image['username']!r}",
                         status.result.exchange)
    problems.check()


@pytest.mark.requirement("CRI-IMAGESTATUS-TAGS-WELLFORMED")
def test_repo_tags_have_the_form_name_tag(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    judge_references(cri_images, "repo_tag")


@pytest.mark.requirement("CRI-IMAGESTATUS-DIGESTS-WELLFORMED")
def test_repo_digests_have_the_form_name_at_sha256(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    judge_references(cri_images, "repo_digest")


# bool verbose / map<string, string> info: not supported, no extra information returned.


@pytest.mark.requirement("CRI-IMAGESTATUS-INFO-VERBOSE-ONLY")
def test_info_is_empty_without_verbose(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    problems = Problems("ImageStatus without verbose must answer an empty info")
    for item in cri_images:
        for status in item.statuses:
            info = (status.result.response or {}).get("info") or {}
            problems.judged("ImageStatus answers")
            if info:
                problems.add(f"{status.reference}: info has {sorted(info)}", status.result.exchange)
    problems.check()


def verbose_statuses(cri: CriTarget, cri_images: list[ListedImage]) -> list[Status]:
    """ImageStatus with verbose of every listed image ImageStatus finds by id; a skip when it finds none."""
    found = [item for item in cri_images if item.by_id.image is not None]
    if not found:
        pytest.skip("ImageStatus finds none of the listed images by id")
    return [ask_status(cri, item.entry["id"], verbose=True) for item in found]


@pytest.mark.requirement("CRI-IMAGESTATUS-INFO-JSON")
def test_verbose_info_values_are_json(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    problems = Problems("With verbose, every info value must be JSON text")
    for status in verbose_statuses(cri, cri_images):
        problems.judged("ImageStatus answers")
        for key, value in ((status.result.response or {}).get("info") or {}).items():
            try:
                status.result.loads(value)
            except TooManyValues as exc:
                problems.not_judged(f"an info value of about {exc.values} JSON values not parsed "
                                    "(raise --max-json-values)")
            except ValueError as exc:
                problems.add(f"{status.reference}: info[{key!r}] is not JSON ({exc}): {clip(value, 80)!r}",
                             status.result.exchange)
    problems.check()


@pytest.mark.requirement("CRI-IMAGESTATUS-VERBOSE-SAME-IMAGE")
def test_verbose_answers_the_same_image(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    found = {item.entry["id"]: item.by_id.image for item in cri_images if item.by_id.image is not None}
    problems = Problems("ImageStatus with verbose must answer the same image as without")
    for status in verbose_statuses(cri, cri_images):
        problems.judged("ImageStatus answers")
        by_id = found[status.reference]
        if status.image is None:
            problems.add(f"{status.reference} with verbose: {status.result.code}, image unset; without verbose it is "
                         "found", status.result.exchange)
            continue
        for key in image_differences(status.image, by_id):
            problems.add(f"{status.reference} with verbose: {key} {status.image.get(key, '<absent>')!r}, without "
                         f"{by_id.get(key, '<absent>')!r}", status.result.exchange)
    problems.check()


@pytest.mark.requirement("CRI-IMAGESTATUS-VERBOSE-NO-INFO")
def test_verbose_answers_no_info(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    problems = Problems("ImageStatus with verbose must answer an empty info (verbose is not supported)")
    for status in verbose_statuses(cri, cri_images):
        problems.judged("ImageStatus answers")
        info = (status.result.response or {}).get("info") or {}
        if info:
            problems.add(f"{status.reference}: info has {sorted(info)[:10]}", status.result.exchange)
    problems.check()


# Resolving a reference as containerd and the kubelet do: the id without sha256:, a short id, an ambiguous short id.


@pytest.mark.requirement("CRI-IMAGESTATUS-BY-ID-PREFIX")
def test_status_by_short_id_answers_the_same_image_as_by_id(cri: CriTarget, cri_images: list[ListedImage]) -> None:
    found = found_hex_ids(cri_images)
    if not found:
        pytest.skip("ImageStatus finds no listed image whose id is a sha256 digest")
    listed_hex = [m["hex"] for entry in cri_images if (m := DIGEST_ID.fullmatch(entry.entry["id"]))]
    problems = Problems("ImageStatus by the id without sha256: or by a unique short id must answer the same image")
    for hex_id, item in found.items():
        short = hex_id[:SHORT_ID_DIGITS]
        unique = sum(other.startswith(short) for other in listed_hex) == 1
        references = [hex_id] + ([short, f"sha256:{short}"] if unique else [])
        for reference in dict.fromkeys(references):
            if reference == item.entry["id"]:
                continue
            status = ask_status(cri, reference)
            problems.judged("references")
            if status.image is None:
                problems.add(f"{reference}: {status.result.code}, image unset; by id {item.entry['id']} it is found",
                             status.result.exchange)
                continue
            for key in image_differences(status.image, item.by_id.image or {}):
                problems.add(f"{reference}: {key} {status.image.get(key, '<absent>')!r}, by id "
                             f"{(item.by_id.image or {}).get(key, '<absent>')!r}", status.result.exchange)
    shared = shared_prefix(list(found))
    for reference in (shared, f"sha256:{shared}") if shared else ():
        status = ask_status(cri, reference)
        answered_id = (status.image or {}).get("id", "")
        if answered_id.removeprefix("sha256:").startswith(shared):  # an image tagged with that name may be answered
            problems.add(f"{reference} begins the ids of {sum(h.startswith(shared) for h in found)} images, yet "
                         f"ImageStatus answers {answered_id!r}", status.result.exchange)
    problems.check()


# Any reference a client may send: OK or a client error, never a server error.


@pytest.mark.requirement("CRI-IMAGESTATUS-MALFORMED-REF")
@given(reference=cri_strategies.image_references())
@example(reference="docker.io/library/busybox@sha256:abc")
@example(reference="Upper/Case:1")
@example(reference="busybox@@")
@example(reference="bad\x00ref")
@example(reference="x" * 5000)
def test_any_reference_answers_ok_or_a_client_error(reference: str, cri: CriTarget, cri_listed: Listed) -> None:
    short = SHORT_ID.fullmatch(reference)
    if short and sum(entry["id"].removeprefix("sha256:").startswith(short["hex"]) for entry in cri_listed.images) > 1:
        return  # an ambiguous short id: CRI-IMAGESTATUS-BY-ID-PREFIX judges it (containerd answers UNKNOWN there)
    status = ask_status(cri, reference)
    judged("references")
    if status.result.code not in ("OK", *CLIENT_ERRORS):
        fail(f"ImageStatus of {clip(reference, 80)!r} must answer OK or a client error",
             f"{status.result.code}: {status.result.details}", "OK, INVALID_ARGUMENT or NOT_FOUND",
             status.result.exchange)


@pytest.mark.requirement("CRI-IMAGESTATUS-EMPTY-REF")
def test_empty_reference_answers_ok_or_invalid_argument(cri: CriTarget) -> None:
    status = ask_status(cri, "")
    result = status.result
    judged("references")
    if result.code == "OK" and result.image_set:
        fail("ImageStatus of an empty reference must not answer an image",
             f"OK with image {result.response.get('image') if result.response else None!r}",
             "OK with image unset, or INVALID_ARGUMENT", status.result.exchange)
    if result.code not in ("OK", "INVALID_ARGUMENT"):
        fail("ImageStatus of an empty reference must answer OK or INVALID_ARGUMENT", f"{result.code}: {result.details}",
             "OK with image unset, or INVALID_ARGUMENT", status.result.exchange)

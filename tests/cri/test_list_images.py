"""rpc ListImages(ListImagesRequest) returns (ListImagesResponse) — seed 002 "ListImages".

Read top to bottom like the page.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from conformance import catalog, schemas
from conformance.checks import MAX_LINES, Problems, fail, judged
from conformance.cri.fixtures import (
    EMBEDDED_SCHEMA,
    Listed,
    ListedImage,
    accepts_embedded,
    ask_status,
    embedded_ids,
    image_differences,
    reference_pattern,
)
from conformance.evidence import Exchange
from conformance.run.state import RunState
from conformance.targets.cri import CriTarget

NO_MATCH_FILTERS = ("docker.io/conformance/no-such-image:absent", "no-such-image-for-conformance")
# Images often present on a node; if ImageStatus finds one, ListImages must list it too.
COMMON_REFERENCES = (
    "docker.io/library/busybox:latest",
    "docker.io/library/alpine:latest",
    "docker.io/library/nginx:latest",
    "registry.k8s.io/pause:3.9",
    "registry.k8s.io/pause:3.10",
)
STABLE_CALLS = 2  # further unfiltered calls compared with the first one
CONFIG_DIGEST = re.compile(r"(?:sha256:)?(?P<hex>[0-9a-f]{64})")  # iSulad lists an embedded id without sha256:


def listed_again(cri: CriTarget) -> tuple[list[dict[str, Any]], Exchange]:
    """Call ListImages without a filter and return its images and exchange; fail unless it answers OK."""
    __tracebackhide__ = True
    result = cri.list_images()
    if result.code != "OK" or result.response is None:
        fail("ListImages without a filter must answer OK", f"{result.code}: {result.details}", "OK", result.exchange)
    return (result.response or {}).get("images", []), result.exchange


def probe_references(listed: Listed, pinned: tuple[str, ...]) -> list[str]:
    """References ImageStatus may find besides the listed names.

    The pinned ones, `:latest` of listed repositories and common images.
    """
    known = {ref for entry in listed.images for ref in (entry["id"], *entry["repo_tags"], *entry["repo_digests"])}
    tags = [tag for entry in listed.images for tag in entry["repo_tags"]
            if reference_pattern("repo_tag").fullmatch(tag)]
    repositories = sorted({tag.rpartition(":")[0] for tag in tags})
    probes = [*pinned, *(f"{repo}:latest" for repo in repositories), *COMMON_REFERENCES]
    return [ref for ref in dict.fromkeys(probes) if ref not in known]


@pytest.mark.requirement("CRI-LISTIMAGES-SCHEMA")
def test_response_validates_against_profile_schema(cri: CriTarget, cri_listed: Listed, cri_images: list[ListedImage],
                                                   cri_profile: catalog.Profile) -> None:
    schema_name = cri_profile.schemas["cri.ListImages"]
    embedded = embedded_ids(cri_images, cri_profile)
    # An embedded image is judged against iSulad's wire form instead; a JSON Schema cannot ask ImageStatus.
    skipped = tuple(f"images[{index}]{end}" for index, entry in enumerate(cri_listed.images) if entry["id"] in embedded
                    for end in (".", ":"))
    problems = Problems(f"The ListImages response must validate against {schema_name}"
                        + (f" (embedded images against {EMBEDDED_SCHEMA})" if embedded else ""))
    problems.judged("listed CRI images", len(cri_listed.images))
    for line in schemas.error_lines(schema_name, cri_listed.response):
        if not line.startswith(skipped):
            problems.add(line, cri_listed.result.exchange)
    for index, entry in enumerate(cri_listed.images):
        if entry["id"] in embedded:
            for line in schemas.error_lines(EMBEDDED_SCHEMA, entry):
                problems.add(f"images[{index}] (embedded).{line}", cri_listed.result.exchange)
    problems.check()


# 接口描述: lists the images that exist — each once, all of them, the same way every time.


@pytest.mark.requirement("CRI-LISTIMAGES-IDS-UNIQUE")
def test_each_image_is_listed_once(cri: CriTarget, cri_listed: Listed) -> None:
    problems = Problems("No two listed images may share an id")
    problems.judged("listed CRI images", len(cri_listed.images))
    for image_id, count in Counter(entry["id"] for entry in cri_listed.images).items():
        if count > 1:
            problems.add(f"id {image_id!r} is listed {count} times", cri_listed.result.exchange)
    problems.check()


@pytest.mark.requirement("CRI-LISTIMAGES-MATCHES-STATUS")
def test_listed_image_equals_its_image_status(cri: CriTarget, cri_images: list[ListedImage],
                                              cri_profile: catalog.Profile) -> None:
    problems = Problems("Each listed image must equal what ImageStatus answers for its id")
    for item in cri_images:
        image_id, by_id = item.entry["id"], item.by_id.image
        problems.judged("CRI images")
        if by_id is None:
            if not accepts_embedded(cri_profile):
                problems.add(f"{image_id} is listed, but ImageStatus by its id answers {item.by_id.result.code} with "
                             "image unset", item.by_id.result.exchange)
            continue
        for key in image_differences(item.entry, by_id):
            problems.add(f"{image_id}: {key} listed {item.entry.get(key, '<absent>')!r}, ImageStatus "
                         f"{by_id.get(key, '<absent>')!r}", item.by_id.result.exchange)
    problems.check()


@pytest.mark.requirement("CRI-LISTIMAGES-COMPLETE")
def test_every_image_status_finds_is_listed(cri: CriTarget, cri_listed: Listed, run_state: RunState) -> None:
    listed_ids = {entry["id"] for entry in cri_listed.images}
    problems = Problems("ListImages without a filter must list every image ImageStatus finds")
    probes, cap = probe_references(cri_listed, run_state.config.image_ids), run_state.config.max_images
    if len(probes) > cap:
        problems.not_judged(f"references past the first {cap} not probed (raise --max-images)", len(probes) - cap)
    for reference in probes[:cap]:
        status = ask_status(cri, reference)
        found = status.image
        if found is not None and found.get("id") and found["id"] not in listed_ids and cri_listed.result.left_out:
            problems.not_judged(f"ImageStatus by {reference} finds an image past the --max-listed images read")
            continue
        problems.judged("references")
        if found is not None and found.get("id") and found["id"] not in listed_ids:
            problems.add(f"ImageStatus by {reference} finds {found['id']}, which ListImages does not list",
                         status.result.exchange)
    if problems.lines:
        problems.exchanges.append(cri_listed.result.exchange)
    problems.check()


@pytest.mark.requirement("CRI-LISTIMAGES-STABLE")
def test_repeated_calls_list_the_same_images(cri: CriTarget, cri_listed: Listed) -> None:
    first = {entry["id"] for entry in cri_listed.images}
    problems = Problems("Repeated ListImages calls must list the same images")
    for call in range(2, STABLE_CALLS + 2):
        images, exchange = listed_again(cri)
        if cri_listed.result.left_out or len(images) >= cri.limits.listed:
            problems.not_judged(f"call {call}: answers cut at --max-listed images are not compared")
            continue
        problems.judged("calls")
        ids = {entry["id"] for entry in images}
        for image_id in sorted(first - ids):
            problems.add(f"call {call} leaves out {image_id}", exchange)
        for image_id in sorted(ids - first):
            problems.add(f"call {call} adds {image_id}", exchange)
    problems.check()


# 参数 ImageSpec filter: the image name to filter by.


@pytest.mark.requirement("CRI-LISTIMAGES-FILTER-BY-TAG")
def test_filter_by_tag_lists_exactly_the_images_carrying_it(cri: CriTarget, cri_images: list[ListedImage],
                                                            cri_profile: catalog.Profile) -> None:
    embedded = embedded_ids(cri_images, cri_profile)  # iSulad lists no embedded image when a filter is given
    # the tags and digests ImageStatus was asked for: at most --max-references per image
    tagged = [(item.entry["id"], status.reference, field) for item in cri_images if item.entry["id"] not in embedded
              for statuses, kind, field in ((item.by_tag, "repo_tag", "repo_tags"),
                                            (item.by_digest, "repo_digest", "repo_digests"))
              for status in statuses if reference_pattern(kind).fullmatch(status.reference)]
    if not tagged:
        pytest.skip("no listed image has a well-formed repo tag or digest to filter by")
    problems = Problems("ListImages filtered by a repo tag (or digest) must list the image carrying it and only such "
                        "images")
    for done, (image_id, tag, field) in enumerate(tagged):
        if len(problems.lines) >= MAX_LINES:  # the requirement is failed; more filters would only cost time
            problems.not_judged(f"filters not tried once {MAX_LINES} problems were found", len(tagged) - done)
            break
        result = cri.list_images(tag)
        problems.judged("references")
        exchange = result.exchange
        if result.code != "OK" or result.response is None:
            problems.add(f"filter {tag}: {result.code}: {result.details}", exchange)
            continue
        images = result.response.get("images", [])
        if image_id not in {entry["id"] for entry in images} and not result.left_out:
            problems.add(f"filter {tag}: {image_id}, which carries it, is not listed", exchange)
        for entry in images:
            if tag not in entry[field] and entry["id"] not in embedded:
                problems.add(f"filter {tag}: lists {entry['id']} with {field} {entry[field]}", exchange)
    problems.check()


@pytest.mark.requirement("CRI-LISTIMAGES-FILTER-NO-MATCH")
@pytest.mark.parametrize("reference", NO_MATCH_FILTERS)
def test_filter_matching_nothing_lists_nothing(reference: str, cri: CriTarget, cri_listed: Listed) -> None:
    if any(reference in entry["repo_tags"] for entry in cri_listed.images):
        pytest.skip(f"the runtime really has an image {reference}")
    result = cri.list_images(reference)
    exchange = result.exchange
    if result.code != "OK" or result.response is None:
        fail(f"ListImages filtered by {reference} must answer OK", f"{result.code}: {result.details}",
             "OK with no images", exchange)
    images = (result.response or {}).get("images", [])
    if images:
        listed = ", ".join(entry["id"] for entry in images[:5])
        fail(f"ListImages filtered by {reference}, which names no image, must list nothing",
             f"{len(images)} image(s): {listed}", "an empty list", exchange)
    judged("references")


# 注意事项 (isulad): embedded images are listed with the config digest as id and no digests;
# ImageStatus cannot query them. On the wire (iSulad embedded_image.c) the id is the config digest without sha256:
# and the one digest is the bare config digest; the seed's wording is what crictl displays.


@pytest.mark.requirement("CRI-LISTIMAGES-EMBEDDED")
def test_image_status_cannot_find_only_embedded_images(cri: CriTarget, cri_listed: Listed,
                                                       cri_images: list[ListedImage]) -> None:
    unfound = [item for item in cri_images if item.by_id.image is None]
    if not unfound:
        pytest.skip("ImageStatus finds every listed image: no embedded image to judge")
    problems = Problems("A listed image ImageStatus cannot find must be an embedded image")
    for item in unfound:
        image_id = item.entry["id"]
        problems.judged("CRI images")
        digest = CONFIG_DIGEST.fullmatch(image_id)
        if digest is None:
            problems.add(f"{image_id!r}: id is not a config digest, sha256:<64 hex digits> or the 64 hex digits alone",
                         cri_listed.result.exchange)
        allowed = ([], [f"sha256:{digest['hex']}"]) if digest else ([],)
        if item.entry["repo_digests"] not in allowed:
            problems.add(f"{image_id}: listed with repo digests {item.entry['repo_digests']}; an embedded image has "
                         "none or its bare config digest sha256:<the id's 64 hex digits>", cri_listed.result.exchange)
        for status in (item.by_id, *item.by_tag):
            if status.result.code != "OK" or status.result.image_set:
                problems.add(f"{image_id}: ImageStatus by {status.reference} answers {status.result.code}, image set: "
                             f"{status.result.image_set}", status.result.exchange)
    problems.check()

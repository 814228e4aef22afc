"""Fixtures of the CRI family: the endpoint, its API versions, one client per version, discovered images."""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance import catalog, schemas
from conformance import sample as sampling
from conformance.run.state import CriTargetRecord, RunState
from conformance.short_repr import ShortRepr
from conformance.targets.cri import VERSIONS, CriResult, CriTarget, probe_versions
from conformance.targets.errors import TargetError, TargetUnreachable

# fixtures only
__all__ = ["cri", "cri_address", "cri_images", "cri_listed", "cri_profile", "cri_served", "cri_versions"]

EMBEDDED_REQUIREMENT = "CRI-LISTIMAGES-EMBEDDED"
EMBEDDED_SCHEMA = "cri/embedded-image.json"  # iSulad's wire form of an embedded image (isulad profile)
CRI_STRATA = ("repo_tags", "repo_digests", "user", "pinned")  # what distinguishes CRI images, as listed
EMBEDDED_STRATUM = "embedded_form"  # isulad only: listed in iSulad's embedded wire form (no ImageStatus call needed)


@dataclass
class Listed(ShortRepr):
    """The unfiltered ListImages answer and its images."""

    images: list[dict[str, Any]]
    result: CriResult

    def __repr__(self) -> str:
        return f"Listed({len(self.images)} images, {self.result.code})"

    @property
    def response(self) -> dict[str, Any]:
        """The answer in proto3 JSON form."""
        return self.result.response or {}


@dataclass
class Status:
    """One ImageStatus answer for one reference."""

    reference: str
    result: CriResult

    @property
    def image(self) -> dict[str, Any] | None:
        """The answered image, or None when the answer is not OK or leaves `image` unset."""
        if self.result.code != "OK" or not self.result.image_set or self.result.response is None:
            return None
        image: dict[str, Any] = self.result.response["image"]
        return image


@dataclass
class ListedImage:
    """One listed image and ImageStatus by its id, by each repo tag and by each repo digest."""

    entry: dict[str, Any]
    by_id: Status
    by_tag: list[Status] = field(default_factory=list)
    by_digest: list[Status] = field(default_factory=list)

    @property
    def statuses(self) -> list[Status]:
        """Every ImageStatus answer about this image."""
        return [self.by_id, *self.by_tag, *self.by_digest]


def ask_status(cri: CriTarget, reference: str, *, verbose: bool = False) -> Status:
    """Call ImageStatus for `reference`."""
    return Status(reference, cri.image_status(reference, verbose=verbose))


@functools.cache
def reference_pattern(kind: str) -> re.Pattern[str]:
    """The grammar of a `repo_tag` or `repo_digest`, as schemas/cri/common.json declares it."""
    return re.compile(schemas.schema("cri/common.json")["$defs"][kind]["pattern"])


def image_differences(one: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """The fields in which two images differ, repo tags and digests compared in any order."""

    def value(image: dict[str, Any], key: str) -> Any:
        found = image.get(key, "<absent>")
        return sorted(found) if key in ("repo_tags", "repo_digests") and isinstance(found, list) else found

    return [key for key in sorted(set(one) | set(other)) if value(one, key) != value(other, key)]


def accepts_embedded(profile: catalog.Profile) -> bool:
    """Whether `profile` accepts vendor embedded images (listed, but unknown to ImageStatus)."""
    return catalog.requirements()[EMBEDDED_REQUIREMENT].applies_to(profile)


def embedded_ids(images: list[ListedImage], profile: catalog.Profile) -> set[str]:
    """Ids of the listed images `profile` takes for embedded ones: ImageStatus by the id does not find them."""
    if not accepts_embedded(profile):
        return set()
    return {item.entry["id"] for item in images if item.by_id.image is None}


@pytest.fixture(scope="session")
def cri_profile(run_state: RunState) -> catalog.Profile:
    """The profile the CRI target is certified against."""
    return catalog.profiles()[run_state.config.profiles["cri"]]


@pytest.fixture(scope="session")
def cri_address(run_state: RunState, cri_profile: catalog.Profile) -> Iterator[str]:
    """The CRI endpoint under test, starting the embedded reference runtime when none is given."""
    config = run_state.config
    if config.cri_address:
        run_state.targets.cri = CriTargetRecord(url=config.cri_address, embedded=False)
        yield config.cri_address
        return
    from conformance.reference.cri.faults import CRI_FAULTS
    from conformance.reference.cri_server import start_cri_server

    faults = [name for name in config.reference_faults if name in CRI_FAULTS]
    embedded_images = accepts_embedded(cri_profile) or any(CRI_FAULTS[name].needs_embedded for name in faults)
    # pytest's temporary folders can exceed the 107-byte limit of unix socket paths.
    socket_dir = tempfile.mkdtemp(prefix="cri-", dir="/tmp")
    server = start_cri_server(socket_path=os.path.join(socket_dir, "cri.sock"), faults=faults, embedded=embedded_images)
    run_state.targets.cri = CriTargetRecord(url=server.url, embedded=True, embedded_images=embedded_images,
                                            faults=faults)
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(socket_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def cri_served(cri_address: str, run_state: RunState) -> list[str]:
    """The CRI API versions the endpoint serves; TargetUnreachable when it does not answer."""
    try:
        served = probe_versions(cri_address, limits=run_state.limits)
    except TargetError as exc:
        raise TargetUnreachable(f"the CRI target {cri_address} does not answer: {exc}") from None
    if not served:
        raise TargetUnreachable(
            f"the CRI target {cri_address} serves neither runtime.v1 nor runtime.v1alpha2 ImageService")
    run_state.targets.cri_record().served = served
    return served


@pytest.fixture(scope="session")
def cri_versions(cri_address: str, cri_served: list[str], run_state: RunState) -> list[str]:
    """The CRI API versions to certify: every served one, or the one --cri-version names."""
    wanted = run_state.config.cri_version
    if wanted == "auto":
        chosen = list(cri_served)
    elif wanted in cri_served:
        chosen = [wanted]
    else:
        raise TargetUnreachable(
            f"--cri-version {wanted}: the CRI target {cri_address} does not serve runtime.{wanted}.ImageService "
            f"(it serves {', '.join(f'runtime.{v}' for v in cri_served)})"
        )
    run_state.targets.cri_record().versions = chosen
    return chosen


@pytest.fixture(scope="session", params=VERSIONS)
def cri(request: pytest.FixtureRequest, cri_address: str, cri_served: list[str], cri_versions: list[str],
        run_state: RunState) -> Iterator[CriTarget]:
    """The CRI ImageService client for one API version; every CRI test runs once per certified version."""
    version: str = request.param
    if version not in cri_served:
        pytest.skip(f"runtime.{version} is not served by this runtime")
    if version not in cri_versions:
        pytest.skip(f"runtime.{version} is not selected by --cri-version")
    with CriTarget(cri_address, version, limits=run_state.limits, log=run_state.log) as target:
        yield target


@pytest.fixture(scope="session")
def cri_listed(cri: CriTarget, run_state: RunState) -> Listed:
    """ListImages without a filter, once per version; the suite discovers images through it."""
    result = cri.list_images()
    if result.code != "OK" or result.response is None:
        raise TargetError(
            f"ListImages without a filter answered {result.code} ({result.details}) on runtime.{cri.version}; "
            "the suite discovers the images to test through it"
        )
    images: list[dict[str, Any]] = result.response.get("images", [])
    run_state.targets.cri_record().count_listed(cri.version, len(images) + result.left_out)
    if result.left_out:
        note_cap(run_state, ("listed CRI images", "CRI images", "references"),
                 f"{result.left_out} CRI images listed past the first {cri.limits.listed} not read "
                 "(raise --max-listed)")
    return Listed(images, result)


def note_cap(run_state: RunState, kinds: tuple[str, ...], left_out: str) -> None:
    """Record what a cap left out of these kinds of case (each requirement judging one of them lists it)."""
    for kind in kinds:
        known = run_state.caps.get(kind)
        if known is None or left_out not in known:
            run_state.caps[kind] = f"{known}; {left_out}" if known else left_out


def capped_references(entries: list[dict[str, Any]], cap: int) -> int:
    """How many repo tags and repo digests of `entries` lie past `cap` per image (and per kind)."""
    return sum(max(0, len(entry.get(key) or []) - cap) for entry in entries for key in ("repo_tags", "repo_digests"))


def cri_kinds(entry: Mapping[str, Any]) -> dict[str, str]:
    """What kind of CRI image a listed entry is: tags or not, digests or not, uid, username or neither, pinned."""
    uid, username = entry.get("uid"), entry.get("username")
    digests = entry.get("repo_digests") or []
    return {
        "repo_tags": "some" if entry.get("repo_tags") else "none",
        "repo_digests": "some" if digests else "none",
        "user": "uid" if isinstance(uid, dict) else "username" if username else "neither",
        "pinned": "true" if entry.get("pinned") is True else "false",
        # iSulad lists an embedded image with its config digest as the one repo digest, without a repository name
        EMBEDDED_STRATUM: "yes" if len(digests) == 1 and isinstance(digests[0], str) and "@" not in digests[0]
        else "no",
    }


def choose_cri(images: list[dict[str, Any]], size: int, profile: catalog.Profile) -> sampling.Sample:
    """At most `size` listed images: every kind CRI_STRATA (and under isulad, the embedded form) names, then evenly."""
    fields = (*CRI_STRATA, EMBEDDED_STRATUM) if accepts_embedded(profile) else CRI_STRATA
    entries = [entry for entry in images if isinstance(entry.get("id"), str)]
    return sampling.choose(entries, size, fields, kinds=cri_kinds)


@pytest.fixture(scope="session")
def cri_images(cri: CriTarget, cri_listed: Listed, cri_profile: catalog.Profile,
               run_state: RunState) -> list[ListedImage]:
    """The listed images to judge (those --image-id names, if any, else a sample covering every kind listed), each
    with ImageStatus by id, tag and digest."""
    pinned = set(run_state.config.image_ids)
    record = run_state.targets.cri_record()
    cap = run_state.config.max_images
    if pinned:
        entries = [
            entry for entry in cri_listed.images
            if pinned & {entry["id"], *entry["repo_tags"], *entry["repo_digests"]}
        ][:cap]
        record.record_sample(cri.version, {"chosen_by": "pinned", "ids": [entry["id"] for entry in entries]})
    else:
        chosen = choose_cri(cri_listed.images, cap, cri_profile)
        record.record_sample(cri.version, chosen.to_record())
        wanted = set(chosen.ids)
        entries = [entry for entry in cri_listed.images if entry.get("id") in wanted]
        if len(cri_listed.images) > len(entries):
            left_out = (f"{len(cri_listed.images) - len(entries)} listed CRI images outside the sample of {cap} "
                        "not judged (raise --max-images)")
            note_cap(run_state, ("CRI images", "ImageStatus answers", "references"), left_out)
    if not entries:
        why = ("none of the --image-id references is listed" if pinned
               else "the runtime lists no images (pull some first)")
        pytest.skip(f"no images to test: {why}")
    per_image = run_state.config.max_references
    if past := capped_references(entries, per_image):
        # an image may carry any number of names; one ImageStatus each would let the runtime set the run's length
        note_cap(run_state, ("ImageStatus answers", "references"),
                 f"{past} repo tags and digests past the first {per_image} of an image not asked for "
                 "(raise --max-references)")
    return [
        ListedImage(
            entry=entry,
            by_id=ask_status(cri, entry["id"]),
            by_tag=[ask_status(cri, tag) for tag in entry["repo_tags"][:per_image]],
            by_digest=[ask_status(cri, digest) for digest in entry["repo_digests"][:per_image]],
        )
        for entry in entries
    ]

"""Every fault of the reference CRI runtime, declared once: name, requirement it breaks, and the probe that sees it.

Each probe gets a CriProbe of a running reference (one API version) and answers whether the deviation is
visible: True when the reference runs with that fault, False when it runs clean.
"""

from __future__ import annotations

import json
import re
from typing import Any

from conformance.reference.cri import lifecycle_probes as L
from conformance.reference.cri.images import catalogue
from conformance.reference.cri.probe import CriProbe
from conformance.reference.fault import Fault, table

STATUS = "cri.ImageStatus"
LIST = "cri.ListImages"
PULL = "cri.PullImage"
REMOVE = "cri.RemoveImage"
FSINFO = "cri.ImageFsInfo"

_BUSYBOX_TAG = "docker.io/library/busybox:1.36"
_BUSYBOX = next(image for image in catalogue() if _BUSYBOX_TAG in image.repo_tags)
_WEBAPP_TAG = "ghcr.io/example/webapp:2.1"  # an image with a numeric uid and no username
_ABSENT = "docker.io/library/absent:1.0"
_QUERYABLE = {image.id for image in catalogue()}
_EMBEDDED = next(image for image in catalogue(embedded=True) if image.embedded)
_SHARED_PREFIX = _BUSYBOX.hex[:4]  # debian:12's id begins with the same four hex digits
_Fault = Fault[CriProbe]  # each probe takes a client of the running reference


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _status_image(cri: CriProbe, reference: str) -> Any:
    image = cri.status(reference).image
    if image is None:
        raise LookupError(f"ImageStatus({reference!r}) found no image")
    return image


def _listed_embedded(cri: CriProbe) -> Any:
    return next(image for image in cri.list().images if _EMBEDDED.repo_tags[0] in image.repo_tags)


def _list_repeats_an_id(cri: CriProbe) -> bool:
    ids = [image.id for image in cri.list().images]
    return len(ids) != len(set(ids))


def _list_size_differs(cri: CriProbe) -> bool:
    listed = cri.list(_BUSYBOX_TAG).images[0]
    return bool(listed.size != _status_image(cri, _BUSYBOX.id).size)


def _prefix_unresolved(cri: CriProbe) -> bool:
    return cri.status(_BUSYBOX.hex[:12]).image is None


def _ambiguous_prefix_answers_an_image(cri: CriProbe) -> bool:
    return cri.status(_SHARED_PREFIX).image is not None


def _ordinary_digest_is_bare(cri: CriProbe) -> bool:
    return any(digest.startswith("sha256:") for digest in _status_image(cri, _BUSYBOX.id).repo_digests)


# -- cri.ImageStatus -----------------------------------------------------------------------------------------------

STATUS_MISSING_NOT_FOUND = _Fault(
    "status-missing-not-found", STATUS, "CRI-IMAGESTATUS-MISSING-OK",
    "ImageStatus of a missing image fails with NOT_FOUND instead of OK with image unset.",
    probe=lambda cri: cri.status(_ABSENT).code == "NOT_FOUND")
STATUS_MISSING_EMPTY_IMAGE = _Fault(
    "status-missing-empty-image", STATUS, "CRI-IMAGESTATUS-MISSING-OK",
    "ImageStatus of a missing image answers an empty Image instead of leaving image unset.",
    probe=lambda cri: cri.status(_ABSENT).image is not None)
STATUS_TAG_SIZE_DIFFERS = _Fault(
    "status-tag-size-differs", STATUS, "CRI-IMAGESTATUS-SAME-BY-TAG",
    "ImageStatus by a repo tag reports the image with a different size than by id.",
    probe=lambda cri: _status_image(cri, _BUSYBOX_TAG).size != _BUSYBOX.size)
STATUS_DIGEST_OTHER_IMAGE = _Fault(
    "status-digest-other-image", STATUS, "CRI-IMAGESTATUS-SAME-BY-DIGEST",
    "ImageStatus by a repo digest answers a different image.",
    probe=lambda cri: _status_image(cri, _BUSYBOX.repo_digests[0]).id != _BUSYBOX.id)
STATUS_EMPTY_ID = _Fault(
    "status-empty-id", STATUS, "CRI-IMAGESTATUS-ID-NONEMPTY",
    "ImageStatus answers images with an empty id.",
    also_breaks=("CRI-IMAGESTATUS-SCHEMA", "CRI-LISTIMAGES-MATCHES-STATUS"),
    probe=lambda cri: _status_image(cri, _BUSYBOX.id).id == "")
STATUS_ZERO_SIZE = _Fault(
    "status-zero-size", STATUS, "CRI-IMAGESTATUS-SIZE-POSITIVE",
    "Every image reports size 0 (in ImageStatus and ListImages alike).",
    also_breaks=("CRI-IMAGESTATUS-SCHEMA", "CRI-LISTIMAGES-SCHEMA"),
    probe=lambda cri: _status_image(cri, _BUSYBOX.id).size == 0)
STATUS_UID_AND_USERNAME = _Fault(
    "status-uid-and-username", STATUS, "CRI-IMAGESTATUS-UID-XOR-USERNAME",
    "Images with a numeric uid also report a username.",
    probe=lambda cri: _status_image(cri, _WEBAPP_TAG).username != "")
STATUS_TAG_WITHOUT_TAG = _Fault(
    "status-tag-without-tag", STATUS, "CRI-IMAGESTATUS-TAGS-WELLFORMED",
    "The first repo tag of every image lacks its `:tag` part.",
    also_breaks=("CRI-IMAGESTATUS-SCHEMA", "CRI-LISTIMAGES-SCHEMA"),
    probe=lambda cri: any(":" not in tag.rpartition("/")[2]
                          for tag in _status_image(cri, _BUSYBOX.id).repo_tags))
STATUS_DIGEST_SHORT_HASH = _Fault(
    "status-digest-short-hash", STATUS, "CRI-IMAGESTATUS-DIGESTS-WELLFORMED",
    "Repo digests carry a 12-character hash instead of the full sha256.",
    also_breaks=("CRI-IMAGESTATUS-SCHEMA", "CRI-LISTIMAGES-SCHEMA"),
    probe=lambda cri: any(not re.fullmatch(r"[^@]+@sha256:[0-9a-f]{64}", digest)
                          for digest in _status_image(cri, _BUSYBOX.id).repo_digests))
STATUS_INFO_WITHOUT_VERBOSE = _Fault(
    "status-info-without-verbose", STATUS, "CRI-IMAGESTATUS-INFO-VERBOSE-ONLY",
    "ImageStatus fills info even when verbose is false.",
    probe=lambda cri: bool(cri.status(_BUSYBOX.id).response.info))
STATUS_INFO_NOT_JSON = _Fault(
    "status-info-not-json", STATUS, "CRI-IMAGESTATUS-INFO-JSON",
    "With verbose, info values are Go-style dumps instead of JSON text.",
    probe=lambda cri: not all(map(_is_json, cri.status(_BUSYBOX.id, verbose=True).response.info.values())))
STATUS_EMPTY_REF_UNKNOWN = _Fault(
    "status-empty-ref-unknown", STATUS, "CRI-IMAGESTATUS-EMPTY-REF",
    "ImageStatus with an empty reference fails with UNKNOWN, as containerd 1.6 does.",
    probe=lambda cri: cri.status("").code == "UNKNOWN")
STATUS_VERBOSE_INFO_ISULAD = _Fault(
    "status-verbose-info-isulad", STATUS, "CRI-IMAGESTATUS-VERBOSE-NO-INFO",
    "The reference for the isulad profile fills info when verbose is true, which iSulad never does.",
    needs_embedded=True,
    probe=lambda cri: bool(cri.status(_BUSYBOX.id, verbose=True).response.info))
STATUS_ORDINARY_BARE_DIGEST = _Fault(
    "status-ordinary-bare-digest", STATUS, "CRI-IMAGESTATUS-DIGESTS-WELLFORMED",
    "Ordinary (queryable) images carry bare `sha256:<hex>` repo digests, the form only iSulad's embedded images "
    "may have; run under the isulad profile, which must still refuse it.",
    needs_embedded=True, also_breaks=("CRI-IMAGESTATUS-SCHEMA", "CRI-LISTIMAGES-SCHEMA"),
    probe=_ordinary_digest_is_bare)
STATUS_ID_PREFIX_NOT_RESOLVED = _Fault(
    "status-id-prefix-not-resolved", STATUS, "CRI-IMAGESTATUS-BY-ID-PREFIX",
    "ImageStatus finds an image by its full id only: the id without `sha256:` and unique id prefixes find nothing.",
    probe=_prefix_unresolved)
STATUS_AMBIGUOUS_PREFIX_PICKS_ONE = _Fault(
    "status-ambiguous-prefix-picks-one", STATUS, "CRI-IMAGESTATUS-BY-ID-PREFIX",
    "ImageStatus by an id prefix two images share answers the first of them instead of neither.",
    probe=_ambiguous_prefix_answers_an_image)
STATUS_MALFORMED_REF_INTERNAL = _Fault(
    "status-malformed-ref-internal", STATUS, "CRI-IMAGESTATUS-MALFORMED-REF",
    "A malformed reference containing `@` fails with INTERNAL instead of being treated as not found.",
    probe=lambda cri: cri.status("busybox@sha256:not-hex").code == "INTERNAL")

# -- cri.ListImages ------------------------------------------------------------------------------------------------

LIST_DUPLICATE_IMAGE = _Fault(
    "list-duplicate-image", LIST, "CRI-LISTIMAGES-IDS-UNIQUE",
    "ListImages lists the first image twice.",
    probe=_list_repeats_an_id)
LIST_SIZE_DIFFERS = _Fault(
    "list-size-differs", LIST, "CRI-LISTIMAGES-MATCHES-STATUS",
    "ListImages reports every image one byte larger than ImageStatus does.",
    probe=_list_size_differs)
LIST_IGNORES_FILTER = _Fault(
    "list-ignores-filter", LIST, "CRI-LISTIMAGES-FILTER-BY-TAG",
    "ListImages ignores its filter and lists every image (as containerd 1.6 does).",
    also_breaks=("CRI-LISTIMAGES-FILTER-NO-MATCH",),
    probe=lambda cri: any(image.id != _BUSYBOX.id for image in cri.list(_BUSYBOX_TAG).images))
LIST_DIGEST_FILTER_IGNORED = _Fault(
    "list-digest-filter-ignored", LIST, "CRI-LISTIMAGES-FILTER-BY-TAG",
    "ListImages filtered by a repo digest (name@sha256:...) ignores the filter and lists every image; a tag filter "
    "still works.",
    probe=lambda cri: any(image.id != _BUSYBOX.id for image in cri.list(_BUSYBOX.repo_digests[0]).images))
STATUS_VERBOSE_NO_IMAGE = _Fault(
    "status-verbose-no-image", STATUS, "CRI-IMAGESTATUS-VERBOSE-SAME-IMAGE",
    "ImageStatus with verbose answers OK with `image` unset (and no info), as if it did not know the image.",
    probe=lambda cri: cri.status(_BUSYBOX.id, verbose=True).image is None)
LIST_NO_MATCH_LISTS_ALL = _Fault(
    "list-no-match-lists-all", LIST, "CRI-LISTIMAGES-FILTER-NO-MATCH",
    "ListImages with a filter that matches nothing lists every image.",
    probe=lambda cri: bool(cri.list(_ABSENT).images))
LIST_UNSTABLE = _Fault(
    "list-unstable", LIST, "CRI-LISTIMAGES-STABLE",
    "Every other ListImages call leaves out the first image.",
    also_breaks=("CRI-LISTIMAGES-FILTER-BY-TAG",),
    probe=lambda cri: cri.list().images != cri.list().images)
LIST_OMITS_IMAGE = _Fault(
    "list-omits-image", LIST, "CRI-LISTIMAGES-COMPLETE",
    "ListImages without a filter leaves out one image that ImageStatus and a filtered list still find.",
    probe=lambda cri: not _QUERYABLE.issubset(image.id for image in cri.list().images))
LIST_EMBEDDED_WITH_DIGESTS = _Fault(
    "list-embedded-with-digests", LIST, "CRI-LISTIMAGES-EMBEDDED",
    "The embedded image is listed with `name@sha256:<config digest>` repo digests instead of the bare config digest.",
    needs_embedded=True, also_breaks=("CRI-LISTIMAGES-SCHEMA",),
    probe=lambda cri: any("@" in digest for digest in _listed_embedded(cri).repo_digests))
LIST_EMBEDDED_ID_NOT_CONFIG_DIGEST = _Fault(
    "list-embedded-id-not-config-digest", LIST, "CRI-LISTIMAGES-EMBEDDED",
    "The embedded image is listed with its name as id instead of its config digest.", needs_embedded=True,
    also_breaks=("CRI-LISTIMAGES-SCHEMA",),
    probe=lambda cri: _listed_embedded(cri).id != _EMBEDDED.hex)

# -- cri.PullImage, cri.RemoveImage, cri.ImageFsInfo (pulls from the hermetic registry; see lifecycle_probes.py) ---

PULL_TAG_EXTRA_LATEST = _Fault(
    "pull-tag-extra-latest", PULL, "CRI-PULLIMAGE-BY-TAG",
    "PullImage by name:tag also tags the image name:latest.", needs_writes=True,
    probe=L.tag_extra_latest)
PULL_UNTAGGED_NO_LATEST = _Fault(
    "pull-untagged-no-latest", PULL, "CRI-PULLIMAGE-WITHOUT-TAG",
    "PullImage of a name without a tag stores the image with no tag instead of name:latest.", needs_writes=True,
    also_breaks=("CRI-PULLIMAGE-REF-IS-ID",),  # ImageStatus by the name pulled finds nothing to compare with
    probe=L.untagged_no_latest)
PULL_DIGEST_ADDS_TAG = _Fault(
    "pull-digest-adds-tag", PULL, "CRI-PULLIMAGE-BY-DIGEST",
    "PullImage by name@digest tags the image name:latest.", needs_writes=True,
    probe=L.digest_adds_tag)
PULL_REF_IS_MANIFEST_DIGEST = _Fault(
    "pull-ref-is-manifest-digest", PULL, "CRI-PULLIMAGE-REF-IS-ID",
    "PullImage answers the manifest digest as image_ref instead of the image id.", needs_writes=True,
    probe=L.ref_is_manifest_digest)
PULL_MISSING_ANSWERS_OK = _Fault(
    "pull-missing-answers-ok", PULL, "CRI-PULLIMAGE-MISSING-FAILS",
    "PullImage of an image the registry does not have answers OK with an empty image_ref.", needs_writes=True,
    probe=L.missing_answers_ok)
PULL_IGNORES_DEADLINE = _Fault(
    "pull-ignores-deadline", PULL, "CRI-PULLIMAGE-DEADLINE",
    "PullImage goes on and stores the image after the caller's deadline has passed.", needs_writes=True,
    probe=L.ignores_deadline)
REMOVE_ONLY_NAMED_TAG = _Fault(
    "remove-only-named-tag", REMOVE, "CRI-REMOVEIMAGE-ALL-TAGS",
    "RemoveImage by one tag of an image with several only untags it.", needs_writes=True,
    probe=L.only_named_tag)
REMOVE_STILL_LISTED = _Fault(
    "remove-still-listed", REMOVE, "CRI-REMOVEIMAGE-GONE",
    "A removed image is still listed by ListImages (ImageStatus no longer finds it).", needs_writes=True,
    also_breaks=("CRI-LISTIMAGES-MATCHES-STATUS",),
    probe=L.still_listed)
REMOVE_ABSENT_NOT_FOUND = _Fault(
    "remove-absent-not-found", REMOVE, "CRI-REMOVEIMAGE-IDEMPOTENT",
    "RemoveImage of an image that is not there fails with NOT_FOUND.", needs_writes=True,
    also_breaks=("CRI-REMOVEIMAGE-CONCURRENT",),  # the calls that come after the first removal find nothing
    probe=lambda cri: cri.remove(L.absent_reference()).code == "NOT_FOUND")
REMOVE_CONCURRENT_ABORTED = _Fault(
    "remove-concurrent-aborted", REMOVE, "CRI-REMOVEIMAGE-CONCURRENT",
    "RemoveImage fails with ABORTED while another removal of the same image is under way.", needs_writes=True,
    probe=L.concurrent_aborted)
FSINFO_ZERO_TIMESTAMP = _Fault(
    "fsinfo-zero-timestamp", FSINFO, "CRI-IMAGEFSINFO-SCHEMA",
    "ImageFsInfo answers timestamp 0.",
    probe=lambda cri: cri.fs_info().response.image_filesystems[0].timestamp == 0)
FSINFO_USAGE_CONSTANT = _Fault(
    "fsinfo-usage-constant", FSINFO, "CRI-IMAGEFSINFO-GROWS",
    "ImageFsInfo answers the same used_bytes whatever is pulled.", needs_writes=True,
    probe=L.usage_constant)

CRI_FAULTS: dict[str, Fault[CriProbe]] = table(
    STATUS_MISSING_NOT_FOUND, STATUS_MISSING_EMPTY_IMAGE, STATUS_TAG_SIZE_DIFFERS, STATUS_DIGEST_OTHER_IMAGE,
    STATUS_EMPTY_ID, STATUS_ZERO_SIZE, STATUS_UID_AND_USERNAME, STATUS_TAG_WITHOUT_TAG, STATUS_DIGEST_SHORT_HASH,
    STATUS_INFO_WITHOUT_VERBOSE, STATUS_INFO_NOT_JSON, STATUS_EMPTY_REF_UNKNOWN, STATUS_MALFORMED_REF_INTERNAL,
    STATUS_VERBOSE_INFO_ISULAD, STATUS_ORDINARY_BARE_DIGEST, STATUS_ID_PREFIX_NOT_RESOLVED,
    STATUS_AMBIGUOUS_PREFIX_PICKS_ONE,
    LIST_DUPLICATE_IMAGE, LIST_SIZE_DIFFERS, LIST_IGNORES_FILTER, LIST_NO_MATCH_LISTS_ALL, LIST_UNSTABLE,
    LIST_OMITS_IMAGE, LIST_EMBEDDED_WITH_DIGESTS, LIST_EMBEDDED_ID_NOT_CONFIG_DIGEST,
    PULL_TAG_EXTRA_LATEST, PULL_UNTAGGED_NO_LATEST, PULL_DIGEST_ADDS_TAG, PULL_REF_IS_MANIFEST_DIGEST,
    PULL_MISSING_ANSWERS_OK, PULL_IGNORES_DEADLINE, REMOVE_ONLY_NAMED_TAG, REMOVE_STILL_LISTED,
    REMOVE_ABSENT_NOT_FOUND, REMOVE_CONCURRENT_ABORTED, FSINFO_ZERO_TIMESTAMP, FSINFO_USAGE_CONSTANT,
    LIST_DIGEST_FILTER_IGNORED, STATUS_VERBOSE_NO_IMAGE,
)

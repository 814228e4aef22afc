"""Faults the reference CRI server can inject: each one breaks exactly one documented requirement."""

from __future__ import annotations

from collections.abc import Iterable
from conformance.reference.fault import Fault, checked_names

STATUS = "cri.ImageStatus"
LIST = "cri.ListImages"


_FAULTS = (
    Fault("status-missing-not-found", STATUS, "CRI-IMAGESTATUS-MISSING-OK",
          "ImageStatus of a missing image fails with NOT_FOUND instead of OK with image unset."),
    Fault("status-missing-empty-image", STATUS, "CRI-IMAGESTATUS-MISSING-OK",
          "ImageStatus of a missing image answers an empty Image instead of leaving image unset."),
    Fault("status-tag-size-differs", STATUS, "CRI-IMAGESTATUS-SAME-BY-TAG",
          "ImageStatus by a repo tag reports the image with a different size than by id."),
    Fault("status-digest-other-image", STATUS, "CRI-IMAGESTATUS-SAME-BY-DIGEST",
          "ImageStatus by a repo digest answers a different image."),
    Fault("status-empty-id", STATUS, "CRI-IMAGESTATUS-ID-NONEMPTY",
          "ImageStatus answers images with an empty id.",
          also_breaks=("CRI-IMAGESTATUS-SCHEMA", "CRI-LISTIMAGES-MATCHES-STATUS")),
    Fault("status-zero-size", STATUS, "CRI-IMAGESTATUS-SIZE-POSITIVE",
          "Every image reports size 0 (in ImageStatus and ListImages alike).",
          also_breaks=("CRI-IMAGESTATUS-SCHEMA", "CRI-LISTIMAGES-SCHEMA")),
    Fault("status-uid-and-username", STATUS, "CRI-IMAGESTATUS-UID-XOR-USERNAME",
          "Images with a numeric uid also report a username."),
    Fault("status-tag-without-tag", STATUS, "CRI-IMAGESTATUS-TAGS-WELLFORMED",
          "The first repo tag of every image lacks its `:tag` part.",
          also_breaks=("CRI-IMAGESTATUS-SCHEMA", "CRI-LISTIMAGES-SCHEMA")),
    Fault("status-digest-short-hash", STATUS, "CRI-IMAGESTATUS-DIGESTS-WELLFORMED",
          "Repo digests carry a 12-character hash instead of the full sha256.",
          also_breaks=("CRI-IMAGESTATUS-SCHEMA", "CRI-LISTIMAGES-SCHEMA")),
    Fault("status-info-without-verbose", STATUS, "CRI-IMAGESTATUS-INFO-VERBOSE-ONLY",
          "ImageStatus fills info even when verbose is false."),
    Fault("status-info-not-json", STATUS, "CRI-IMAGESTATUS-INFO-JSON",
          "With verbose, info values are Go-style dumps instead of JSON text."),
    Fault("status-empty-ref-unknown", STATUS, "CRI-IMAGESTATUS-EMPTY-REF",
          "ImageStatus with an empty reference fails with UNKNOWN, as containerd 1.6 does."),
    Fault("status-malformed-ref-internal", STATUS, "CRI-IMAGESTATUS-MALFORMED-REF",
          "A malformed reference containing `@` fails with INTERNAL instead of being treated as not found."),
    Fault("list-duplicate-image", LIST, "CRI-LISTIMAGES-IDS-UNIQUE",
          "ListImages lists the first image twice."),
    Fault("list-size-differs", LIST, "CRI-LISTIMAGES-MATCHES-STATUS",
          "ListImages reports every image one byte larger than ImageStatus does."),
    Fault("list-ignores-filter", LIST, "CRI-LISTIMAGES-FILTER-BY-TAG",
          "ListImages ignores its filter and lists every image (as containerd 1.6 does).",
          also_breaks=("CRI-LISTIMAGES-FILTER-NO-MATCH",)),
    Fault("list-no-match-lists-all", LIST, "CRI-LISTIMAGES-FILTER-NO-MATCH",
          "ListImages with a filter that matches nothing lists every image."),
    Fault("list-unstable", LIST, "CRI-LISTIMAGES-STABLE",
          "Every other ListImages call leaves out the first image.",
          also_breaks=("CRI-LISTIMAGES-FILTER-BY-TAG",)),
    Fault("list-omits-image", LIST, "CRI-LISTIMAGES-COMPLETE",
          "ListImages without a filter leaves out one image that ImageStatus and a filtered list still find."),
    Fault("list-embedded-with-digests", LIST, "CRI-LISTIMAGES-EMBEDDED",
          "The embedded image is listed with repo digests.", needs_embedded=True),
    Fault("list-embedded-id-not-config-digest", LIST, "CRI-LISTIMAGES-EMBEDDED",
          "The embedded image is listed with its name as id instead of its config digest.", needs_embedded=True),
)

CRI_FAULTS: dict[str, Fault] = {fault.name: fault for fault in _FAULTS}


def check_faults(names: Iterable[str]) -> frozenset[str]:
    """`names` as a frozenset; ValueError on the first name that is not one of these faults."""
    return checked_names(names, CRI_FAULTS)

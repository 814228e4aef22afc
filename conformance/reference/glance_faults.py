"""Named faults of the Glance-style reference app: each breaks one requirement on purpose (and names any that fail with it)."""

from __future__ import annotations

from collections.abc import Iterable
from conformance.reference.fault import Fault

V2_SHOW = "glance.v2.show"
V1_HEAD = "glance.v1.head"
V1_1_DETAIL = "glance.v1_1.detail"


_FAULTS: tuple[Fault, ...] = (
    # glance.v2.show. Body changes are made where show and list share the serializer (so show still agrees
    # with list), except the id changes, which would break discovery through the list.
    Fault("v2-show-content-type-text", V2_SHOW, "GLANCE-V2-SHOW-200-JSON",
          "Show answers 200 with the JSON body labelled Content-Type text/plain."),
    Fault("v2-show-status-bogus", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
          "Every image reports status \"available\", which is not a documented status.",
          also_breaks=("GLANCE-V2-SHOW-SCHEMA",)),
    Fault("v2-show-min-ram-string", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
          "min_ram is a string such as \"512\" instead of an integer.",
          also_breaks=("GLANCE-V2-SHOW-SCHEMA",)),
    Fault("v2-show-os-type-bogus", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
          "__os_type is \"Solaris\" on every image that has it.",
          also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES")),
    Fault("v2-show-missing-id", V2_SHOW, "GLANCE-V2-SHOW-SCHEMA",
          "The show body has no id field.",
          also_breaks=("GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V2-SHOW-AGREES-WITH-LIST")),
    Fault("v2-show-wrong-id", V2_SHOW, "GLANCE-V2-SHOW-ID-MATCHES",
          "The show body's id is the id of another image (the rest of the body is the requested image's).",
          also_breaks=("GLANCE-V2-SHOW-AGREES-WITH-LIST",)),
    Fault("v2-show-bad-self-link", V2_SHOW, "GLANCE-V2-SHOW-LINKS",
          "self points to /v2/images/<another image's id>."),
    Fault("v2-show-local-timestamp", V2_SHOW, "GLANCE-V2-SHOW-TIMESTAMPS",
          "created_at is written as local time without T or zone, e.g. \"2018-09-06 14:03:27\".",
          also_breaks=("GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V2-SHOW-SCHEMA")),
    Fault("v2-show-updated-before-created", V2_SHOW, "GLANCE-V2-SHOW-TIMESTAMPS",
          "updated_at is one day earlier than created_at."),
    Fault("v2-show-extra-prop-int", V2_SHOW, "GLANCE-V2-SHOW-EXTRA-PROPS-STRINGS",
          "The undocumented custom property build_number is a JSON integer (added as 0 where absent).",
          also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES")),
    Fault("v2-show-id-not-uuid", V2_SHOW, "GLANCE-V2-SHOW-ID-UUID",
          "An extra image with the id legacy-image-0001 is listed first and shown consistently.",
          also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES")),
    Fault("v2-show-checksum-uppercase", V2_SHOW, "GLANCE-V2-SHOW-CHECKSUM-FORMAT",
          "checksum is written in upper-case hex, in show and list alike.",
          also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES")),
    Fault("v2-show-unknown-id-200", V2_SHOW, "GLANCE-V2-SHOW-404",
          "A well-formed UUID that names no live image answers 200 with another image's body."),
    Fault("v2-show-malformed-id-500", V2_SHOW, "GLANCE-V2-SHOW-MALFORMED-ID",
          "An id with any character other than hex digits and dashes answers 500."),
    Fault("v2-show-disagrees-with-list", V2_SHOW, "GLANCE-V2-SHOW-AGREES-WITH-LIST",
          "List entries carry a different name (suffixed \" (listed)\") than show reports."),
    Fault("v2-show-error-body-html", V2_SHOW, "GLANCE-V2-SHOW-ERROR-BODY",
          "Show's 404 body is HTML even when the client asks for JSON."),
    # glance.v1.head
    Fault("v1-head-body-not-empty", V1_HEAD, "GLANCE-V1-HEAD-200-EMPTY-BODY",
          "HEAD writes a body (with a matching Content-Length) after the headers."),
    Fault("v1-head-missing-status", V1_HEAD, "GLANCE-V1-HEAD-HEADERS-PRESENT",
          "HEAD omits the X-Image-Meta-Status header."),
    Fault("v1-head-size-not-integer", V1_HEAD, "GLANCE-V1-HEAD-INTEGERS",
          "X-Image-Meta-Size is written as a decimal, e.g. \"13167616.0\"."),
    Fault("v1-head-booleans-numeric", V1_HEAD, "GLANCE-V1-HEAD-BOOLEANS",
          "Boolean headers are written 1/0 instead of True/False."),
    Fault("v1-head-timestamp-zulu", V1_HEAD, "GLANCE-V1-HEAD-TIMESTAMPS",
          "Created_at and Updated_at carry a trailing Z, unlike Glance v1's naive timestamps."),
    Fault("v1-head-status-bogus", V1_HEAD, "GLANCE-V1-HEAD-ENUMS",
          "X-Image-Meta-Status is \"available\", which is not a documented status."),
    Fault("v1-head-wrong-id", V1_HEAD, "GLANCE-V1-HEAD-ID-MATCHES",
          "X-Image-Meta-Id is the id of another image."),
    Fault("v1-head-unknown-id-200", V1_HEAD, "GLANCE-V1-HEAD-404",
          "A well-formed UUID that names no live image answers 200 with another image's headers."),
    Fault("v1-head-malformed-id-500", V1_HEAD, "GLANCE-V1-HEAD-MALFORMED-ID",
          "An id with any character other than hex digits and dashes answers 500."),
    Fault("v1-head-etag-mismatch", V1_HEAD, "GLANCE-V1-HEAD-ETAG",
          "ETag is a 32-hex value different from the checksum."),
    Fault("v1-head-name-differs", V1_HEAD, "GLANCE-V1-HEAD-AGREES-WITH-DETAIL",
          "X-Image-Meta-Name is suffixed \" (v1)\", so it differs from the detail entry."),
    Fault("v1-head-min-ram-differs", V1_HEAD, "GLANCE-V1-HEAD-AGREES-WITH-V2",
          "X-Image-Meta-Min_ram is 512 more than v2 reports."),
    Fault("v1-head-property-missing", V1_HEAD, "GLANCE-V1-HEAD-PROPERTIES",
          "The header of the alphabetically first custom property is left out."),
    # glance.v1_1.detail
    Fault("v1-1-detail-missing-field", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-SCHEMA",
          "Detail entries lack the protected field."),
    Fault("v1-1-detail-properties-list", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-PROPERTIES-OBJECT",
          "properties is a list of [key, value] pairs instead of an object."),
    Fault("v1-1-detail-filter-name-substring", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-NAME",
          "The name filter matches case-insensitive substrings.",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",)),
    Fault("v1-1-detail-filter-container-format-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-CONTAINER-FORMAT",
          "The container_format filter is ignored.",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",)),
    Fault("v1-1-detail-filter-disk-format-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-DISK-FORMAT",
          "The disk_format filter is ignored.",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",)),
    Fault("v1-1-detail-filter-status-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-STATUS",
          "The status filter is ignored.",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",)),
    Fault("v1-1-detail-filter-size-min-exclusive", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-SIZE-MIN",
          "size_min keeps sizes strictly greater than the value, dropping equal ones.",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-COMPLETE",)),
    Fault("v1-1-detail-filter-size-max-exclusive", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-SIZE-MAX",
          "size_max keeps sizes strictly less than the value, dropping equal ones.",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-COMPLETE",)),
    Fault("v1-1-detail-filter-changes-since-inclusive", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE",
          "changes-since keeps updated_at equal to the value too (>= instead of >).",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",)),
    Fault("v1-1-detail-filter-changes-since-hides-deleted", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE",
          "changes-since does not bring back deleted and killed images.",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-COMPLETE",)),
    Fault("v1-1-detail-filter-property-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-PROPERTY",
          "property-<key> filters are ignored.",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",)),
    Fault("v1-1-detail-pagination-skips", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-PAGINATION",
          "A page requested with a marker skips the first image after the marker."),
    Fault("v1-1-detail-limit-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-LIMIT",
          "limit (and the default page size) is ignored: every remaining image is returned."),
    Fault("v1-1-detail-size-min-500", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-INVALID-400",
          "A size_min that is not a non-negative integer answers 500 instead of 400."),
    Fault("v1-1-detail-bad-sort-key-200", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-INVALID-400",
          "An unknown sort_key is ignored (200, default order) instead of answering 400."),
    Fault("v1-1-detail-shows-deleted", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-HIDES-DELETED",
          "Deleted and killed images are listed without changes-since.",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",)),
    Fault("v1-1-detail-none-literal", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-VALID-JSON",
          "The body writes \"deleted_at\": none (as the seed sample does), which is not JSON."),
    Fault("v1-head-checksum-uppercase", V1_HEAD, "GLANCE-V1-HEAD-CHECKSUM-FORMAT",
          "X-Image-Meta-Checksum (and the ETag) are written in upper-case hex."),
    Fault("v1-1-detail-only-first-filter", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-SOUND",
          "With several filters, only the first one is applied."),
    Fault("v1-1-detail-combined-drops-one", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-COMPLETE",
          "With two or more filters, the last matching image is left out."),
    Fault("v1-1-detail-filters-any", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-MONOTONIC",
          "An image matching any one of several filters is returned (a union instead of an intersection).",
          also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",)),
)

GLANCE_FAULTS: dict[str, Fault] = {fault.name: fault for fault in _FAULTS}


def check_fault_names(names: Iterable[str]) -> frozenset[str]:
    """`names` as a frozenset; ValueError on the first name that is not a Glance fault."""
    chosen = frozenset([names] if isinstance(names, str) else names)
    for name in sorted(chosen):
        if name not in GLANCE_FAULTS:
            raise ValueError(f"unknown fault {name!r}")
    return chosen

"""The faults of the reference's v1 HEAD: name, requirement it breaks, what else it breaks, and its probe."""

from __future__ import annotations

from conformance.reference.glance.fault_probes import (
    CIRROS,
    DELETED,
    MALFORMED,
    UNKNOWN,
    VIVADO,
    HttpFault,
    active_heads,
    etag_differs_from_checksum,
    forged,
    head,
    show,
)

V1_HEAD = "glance.v1.head"

# -- glance.v1.head ------------------------------------------------------------------------------------------------

V1_HEAD_BODY_NOT_EMPTY = HttpFault(
    "v1-head-body-not-empty", V1_HEAD, "GLANCE-V1-HEAD-200-EMPTY-BODY",
    "HEAD writes a body (with a matching Content-Length) after the headers.",
    probe=lambda http: http.head(f"/v1/images/{CIRROS.id}").body != b"")
V1_HEAD_MISSING_STATUS = HttpFault(
    "v1-head-missing-status", V1_HEAD, "GLANCE-V1-HEAD-HEADERS-PRESENT",
    "HEAD omits the X-Image-Meta-Status header.",
    probe=lambda http: "x-image-meta-status" not in head(http))
V1_HEAD_SIZE_NOT_INTEGER = HttpFault(
    "v1-head-size-not-integer", V1_HEAD, "GLANCE-V1-HEAD-INTEGERS",
    "X-Image-Meta-Size is written as a decimal, e.g. \"13167616.0\".",
    probe=lambda http: not head(http)["x-image-meta-size"].isdigit())
V1_HEAD_BOOLEANS_NUMERIC = HttpFault(
    "v1-head-booleans-numeric", V1_HEAD, "GLANCE-V1-HEAD-BOOLEANS",
    "Boolean headers are written 1/0 instead of True/False.",
    probe=lambda http: head(http)["x-image-meta-is_public"] == "1")
V1_HEAD_TIMESTAMP_ZULU = HttpFault(
    "v1-head-timestamp-zulu", V1_HEAD, "GLANCE-V1-HEAD-TIMESTAMPS",
    "Created_at and Updated_at carry a trailing Z, unlike Glance v1's naive timestamps.",
    probe=lambda http: head(http)["x-image-meta-created_at"].endswith("Z"))
V1_HEAD_STATUS_BOGUS = HttpFault(
    "v1-head-status-bogus", V1_HEAD, "GLANCE-V1-HEAD-ENUMS",
    "X-Image-Meta-Status is \"available\", which is not a documented status.",
    probe=lambda http: head(http)["x-image-meta-status"] == "available")
V1_HEAD_WRONG_ID = HttpFault(
    "v1-head-wrong-id", V1_HEAD, "GLANCE-V1-HEAD-ID-MATCHES",
    "X-Image-Meta-Id is the id of another image.",
    probe=lambda http: head(http)["x-image-meta-id"] != CIRROS.id)
V1_HEAD_UNKNOWN_ID_200 = HttpFault(
    "v1-head-unknown-id-200", V1_HEAD, "GLANCE-V1-HEAD-404",
    "A well-formed UUID that names no live image answers 200 with another image's headers.",
    probe=lambda http: http.head(f"/v1/images/{UNKNOWN}").status == 200)
V1_HEAD_MALFORMED_ID_500 = HttpFault(
    "v1-head-malformed-id-500", V1_HEAD, "GLANCE-V1-HEAD-MALFORMED-ID",
    "An id with any character other than hex digits and dashes answers 500.",
    probe=lambda http: http.head(f"/v1/images/{MALFORMED}").status == 500)
V1_HEAD_ETAG_MISMATCH = HttpFault(
    "v1-head-etag-mismatch", V1_HEAD, "GLANCE-V1-HEAD-ETAG",
    "ETag is a 32-hex value different from the checksum.",
    probe=etag_differs_from_checksum)
V1_HEAD_NAME_DIFFERS = HttpFault(
    "v1-head-name-differs", V1_HEAD, "GLANCE-V1-HEAD-AGREES-WITH-DETAIL",
    "X-Image-Meta-Name is suffixed \" (v1)\", so it differs from the detail entry.",
    probe=lambda http: head(http)["x-image-meta-name"] != http.detail(f"name={CIRROS.name}")[0]["name"])
V1_HEAD_MIN_RAM_DIFFERS = HttpFault(
    "v1-head-min-ram-differs", V1_HEAD, "GLANCE-V1-HEAD-AGREES-WITH-V2",
    "X-Image-Meta-Min_ram is 512 more than v2 reports.",
    probe=lambda http: int(head(http)["x-image-meta-min_ram"]) != show(http, CIRROS.id)["min_ram"])
V1_HEAD_PROPERTY_MISSING = HttpFault(
    "v1-head-property-missing", V1_HEAD, "GLANCE-V1-HEAD-PROPERTIES",
    "The header of the alphabetically first custom property is left out.",
    probe=lambda http: len([name for name in head(http, VIVADO.id) if name.startswith("x-image-meta-property-")])
    < len(VIVADO.properties))
V1_HEAD_CHECKSUM_UPPERCASE = HttpFault(
    "v1-head-checksum-uppercase", V1_HEAD, "GLANCE-V1-HEAD-CHECKSUM-FORMAT",
    "X-Image-Meta-Checksum (and the ETag) are written in upper-case hex.",
    probe=lambda http: head(http)["x-image-meta-checksum"] == str(CIRROS.checksum).upper())
V1_HEAD_ANY_TOKEN_200 = HttpFault(
    "v1-head-any-token-200", V1_HEAD, "GLANCE-V1-HEAD-401",
    "HEAD accepts any X-Auth-Token, even one the target never issued (a missing token still gets 401).",
    probe=lambda http: forged(http).head(f"/v1/images/{CIRROS.id}").status == 200)
V1_HEAD_ACTIVE_NO_SIZE = HttpFault(
    "v1-head-active-no-size", V1_HEAD, "GLANCE-V1-HEAD-ACTIVE-SIZE",
    "HEAD of an active image leaves X-Image-Meta-Size out.",
    probe=lambda http: "x-image-meta-size" not in head(http))
V1_HEAD_ACTIVE_NO_CHECKSUM = HttpFault(
    "v1-head-active-no-checksum", V1_HEAD, "GLANCE-V1-HEAD-ACTIVE-CHECKSUM",
    "HEAD of an active image leaves X-Image-Meta-Checksum (and so the ETag) out.",
    probe=lambda http: any("x-image-meta-checksum" not in meta for meta in active_heads(http)))
V1_HEAD_DELETED_AT_NOT_ISO = HttpFault(
    "v1-head-deleted-at-not-iso", V1_HEAD, "GLANCE-V1-HEAD-TIMESTAMPS",
    "X-Image-Meta-Deleted_at of a deleted image is an HTTP date (\"Tue, 15 Jun 2021 08:00:00 GMT\"), not ISO 8601.",
    probe=lambda http: head(http, DELETED.id).get("x-image-meta-deleted_at", "").endswith("GMT"))

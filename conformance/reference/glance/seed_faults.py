"""The Glance reference's faults that bend what the vendor pages (seeds 001, 003, 004) say, line by line.

Declared as in faults.py (name, requirement broken, probe) and collected into its table; kept apart so that each
module stays small. The reference asks `FAULT in state.faults` with these objects (imported as `S`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from conformance.reference.fault import Fault
from conformance.reference.glance.images import Image, image_by_key
from conformance.reference.glance.probe import HttpProbe

V2_SHOW = "glance.v2.show"
V1_HEAD = "glance.v1.head"
V1_1_DETAIL = "glance.v1_1.detail"

UNDOCUMENTED_DISK_FORMAT = "nonsense"  # a format no page lists
LOCAL_OFFSET = timedelta(hours=8)  # China Standard Time, the vendor's own zone
_MISFORMATTED = image_by_key("opensuse")  # stored in UNDOCUMENTED_DISK_FORMAT by DISK_FORMAT_UNDOCUMENTED
_WEB_SERVER = image_by_key("web-server")  # private, with a parent image and a data origin
_VIVADO = image_by_key("centos-vivado")  # public: the seed 001 sample
_CIRROS = image_by_key("cirros")  # public, the oldest live image: the last of a newest-first listing
_SHARED = image_by_key("shared-agent")
_Fault = Fault[HttpProbe]


def _show(http: HttpProbe, image: Image) -> Any:
    return _show_id(http, image.id)


def _show_id(http: HttpProbe, image_id: str) -> Any:
    return http.get(f"/v2/images/{image_id}").json()


def _head(http: HttpProbe, image: Image) -> dict[str, str]:
    return http.head(f"/v1/images/{image.id}").headers


MALFORMED_ID_422 = _Fault(
    "malformed-id-422", V2_SHOW, "GLANCE-V2-SHOW-MALFORMED-ID",
    "An id with any character other than hex digits and dashes answers 422 in v2 show and v1 HEAD: a client error "
    "seeds 001 and 003 do not list (judged under ims; glance takes any 4xx).",
    also_breaks=("GLANCE-V1-HEAD-MALFORMED-ID",),
    probe=lambda http: http.get("/v2/images/not-a-uuid!").status == 422)
DISK_FORMAT_UNDOCUMENTED = _Fault(
    "disk-format-undocumented", V1_HEAD, "GLANCE-V1-HEAD-ENUMS",
    f"One image (OpenSUSE) is stored with disk_format {UNDOCUMENTED_DISK_FORMAT!r}, which seed 001 does not list: v1 "
    "HEAD, v1.1 detail and v2 all show it.",
    also_breaks=("GLANCE-V1-1-DETAIL-SCHEMA", "GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES",
                 "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: _head(http, _MISFORMATTED)["x-image-meta-disk_format"] == UNDOCUMENTED_DISK_FORMAT)
V1_IS_PUBLIC_FOR_SHARED = _Fault(
    "v1-is-public-for-shared", V1_HEAD, "GLANCE-V1-HEAD-AGREES-WITH-V2",
    "v1 HEAD and v1.1 detail call shared images public (Is_public True), while v2 shows visibility shared.",
    also_breaks=("GLANCE-V1-1-DETAIL-AGREES-WITH-V2",),
    probe=lambda http: _head(http, _SHARED)["x-image-meta-is_public"] == "True")
V2_ORIGINAL_IMAGE_NAMED = _Fault(
    "v2-show-original-image-named", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "__originalimagename holds the parent image's name instead of its id (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: _show(http, _WEB_SERVER)["__originalimagename"] == _VIVADO.name)
V2_PUBLIC_DATA_ORIGIN = _Fault(
    "v2-show-public-data-origin", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "Public images carry a __data_origin (\"instance,<server id>\"), which seed 001 says is empty for them (in v2 "
    "only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: bool(_show(http, _VIVADO).get("__data_origin")))
V1_HEAD_LOCAL_TIME = _Fault(
    "v1-head-local-time", V1_HEAD, "GLANCE-V1-HEAD-TIMESTAMPS",
    "X-Image-Meta-Created_at, Updated_at and Deleted_at are written in China Standard Time (UTC+8) without a zone, "
    "so they read as moments 8 hours after the ones v2 shows.",
    probe=lambda http: _head(http, _CIRROS)["x-image-meta-created_at"].startswith("2016-05-22T14:04:20"))
V1_1_DETAIL_LAST_IMAGE_LOST = _Fault(
    "v1-1-detail-last-image-lost", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-AGREES-WITH-V2",
    "The unfiltered listing leaves the last image of its last page out (CirrOS, the oldest), so a walk to the end "
    "never returns it; a filter that selects it does.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-MONOTONIC", "GLANCE-V1-1-DETAIL-PAGINATION"),
    probe=lambda http: _CIRROS.id not in {entry["id"] for entry in http.detail("")})


def _protected_delete_answer(http: HttpProbe) -> int:
    created = http.request("POST", "/v2/images", payload={"name": "probe-protected", "disk_format": "raw",
                                                            "container_format": "bare", "protected": True}).json()
    return http.request("DELETE", f"/v2/images/{created['id']}").status


PROTECTED_DELETE_ACCEPTED = _Fault(
    "protected-delete-accepted", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "DELETE of a protected image answers 202 Accepted (and keeps the image) instead of 403: seen only on images the "
    "run writes.",
    needs_writes=True, probe=lambda http: _protected_delete_answer(http) == 202)


def _private_image(http: HttpProbe) -> str:
    created = http.request("POST", "/v2/images", payload={"name": "probe-private", "disk_format": "raw",
                                                            "container_format": "bare", "visibility": "private"})
    return str(created.json()["id"])


V2_SHOW_PRIVATE_TO_OTHER_PROJECT = _Fault(
    "v2-show-private-to-other-project", V2_SHOW, "GLANCE-V2-SHOW-OTHER-PROJECT-PRIVATE",
    "v2 show answers 200 with the image when a second project asks for a private image of the run's project.",
    needs_writes=True,
    probe=lambda http: http.as_other_project().get(f"/v2/images/{_private_image(http)}").status == 200)
V1_HEAD_PRIVATE_TO_OTHER_PROJECT = _Fault(
    "v1-head-private-to-other-project", V1_HEAD, "GLANCE-V1-HEAD-OTHER-PROJECT-PRIVATE",
    "v1 HEAD answers 200 with the image's headers when a second project asks for a private image of the run's "
    "project.",
    needs_writes=True,
    probe=lambda http: http.as_other_project().head(f"/v1/images/{_private_image(http)}").status == 200)


DEFAULT_DISK_FORMAT_FAULTY = "raw"


def _default_disk_format(http: HttpProbe) -> Any:
    created = http.request("POST", "/v2/images", payload={"name": "probe-default", "container_format": "bare"})
    return _show_id(http, str(created.json()["id"]))["disk_format"]


DISK_FORMAT_DEFAULT_RAW = _Fault(
    "disk-format-default-raw", V2_SHOW, "GLANCE-V2-SHOW-DISK-FORMAT-DEFAULT",
    f"An image created without disk_format is stored as {DEFAULT_DISK_FORMAT_FAULTY}, not vhd, seed 001's default "
    "(a documented format: only the default is wrong).",
    needs_writes=True, probe=lambda http: _default_disk_format(http) == DEFAULT_DISK_FORMAT_FAULTY)


def is_public(faults: frozenset[Fault[HttpProbe]], image: Image) -> bool:
    """The v1 view of visibility (True for public only), or public and shared with V1_IS_PUBLIC_FOR_SHARED."""
    return image.visibility in (("public", "shared") if V1_IS_PUBLIC_FOR_SHARED in faults else ("public",))


def misformatted(images: Iterable[Image]) -> tuple[Image, ...]:
    """The catalogue with DISK_FORMAT_UNDOCUMENTED's image stored in UNDOCUMENTED_DISK_FORMAT."""
    return tuple(replace(image, disk_format=UNDOCUMENTED_DISK_FORMAT) if image.id == _MISFORMATTED.id else image
                 for image in images)


SEED_FAULTS: tuple[_Fault, ...] = (
    MALFORMED_ID_422, DISK_FORMAT_UNDOCUMENTED, V1_IS_PUBLIC_FOR_SHARED, V2_ORIGINAL_IMAGE_NAMED,
    V2_PUBLIC_DATA_ORIGIN, V1_HEAD_LOCAL_TIME, V1_1_DETAIL_LAST_IMAGE_LOST, PROTECTED_DELETE_ACCEPTED,
    V2_SHOW_PRIVATE_TO_OTHER_PROJECT, V1_HEAD_PRIVATE_TO_OTHER_PROJECT, DISK_FORMAT_DEFAULT_RAW,
)

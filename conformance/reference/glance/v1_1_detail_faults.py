"""The faults of the reference's v1.1 detail beyond its filters (those are beside their rules, in v1_1_filters.py):
name, requirement it breaks, what else it breaks, and its probe."""

from __future__ import annotations

from urllib.parse import quote

from conformance.reference.glance.fault_probes import (
    CIRROS,
    COREOS,
    DETAIL,
    HttpFault,
    marker_page_skips,
    not_json,
)
from conformance.reference.glance.probe import HttpProbe
from conformance.reference.glance.v1_1_filters import UNDOCUMENTED_FILTER_REQUIREMENTS, V1_1_DETAIL

# -- glance.v1_1.detail --------------------------------------------------------------------------------------------

V1_1_DETAIL_MISSING_FIELD = HttpFault(
    "v1-1-detail-missing-field", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-SCHEMA",
    "Detail entries lack the protected field.",
    probe=lambda http: "protected" not in http.detail("name=cirros")[0])
V1_1_DETAIL_PROPERTIES_LIST = HttpFault(
    "v1-1-detail-properties-list", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-PROPERTIES-OBJECT",
    "properties is a list of [key, value] pairs instead of an object.",
    probe=lambda http: isinstance(http.detail("name=cirros")[0]["properties"], list))
def _deleted_now_listed(http: HttpProbe) -> bool:
    """Create and delete an image, then ask changes-since for it: whether it is listed (as it must be)."""
    created = http.request("POST", "/v2/images", payload={"name": "probe-deleted", "disk_format": "raw",
                                                            "container_format": "bare"}).json()
    http.request("DELETE", f"/v2/images/{created['id']}")
    return any(entry["id"] == created["id"] for entry in http.detail("changes-since=2000-01-01"))


V1_1_DETAIL_CHANGES_SINCE_DROPS_NEW_DELETED = HttpFault(
    "v1-1-detail-changes-since-drops-new-deleted", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE",
    "changes-since leaves out images deleted while the target runs (the catalogue's deleted and killed images are "
    "still listed): the listing is then its own ground truth, so only images the run deletes itself show it.",
    needs_writes=True, probe=lambda http: not _deleted_now_listed(http))
V1_1_DETAIL_PAGINATION_SKIPS = HttpFault(
    "v1-1-detail-pagination-skips", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-PAGINATION",
    "A page requested with a marker skips the first image after the marker.",
    probe=marker_page_skips)
V1_1_DETAIL_LIMIT_IGNORED = HttpFault(
    "v1-1-detail-limit-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-LIMIT",
    "limit (and the default page size) is ignored: every remaining image is returned.",
    probe=lambda http: len(http.get(f"{DETAIL}?limit=2").json()["images"]) > 2)
V1_1_DETAIL_SIZE_MIN_500 = HttpFault(
    "v1-1-detail-size-min-500", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-INVALID-400",
    "A size_min that is not a non-negative integer answers 500 instead of 400.",
    probe=lambda http: http.get(f"{DETAIL}?size_min=abc").status == 500)
V1_1_DETAIL_BAD_SORT_KEY_200 = HttpFault(
    "v1-1-detail-bad-sort-key-200", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-INVALID-400",
    "An unknown sort_key is ignored (200, default order) instead of answering 400.",
    probe=lambda http: http.get(f"{DETAIL}?sort_key=bogus").status == 200)
V1_1_DETAIL_SHOWS_DELETED = HttpFault(
    "v1-1-detail-shows-deleted", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-HIDES-DELETED",
    "Deleted and killed images are listed without changes-since.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",),
    probe=lambda http: any(entry["deleted"] or entry["status"] == "killed" for entry in http.detail("")))
V1_1_DETAIL_NONE_LITERAL = HttpFault(
    "v1-1-detail-none-literal", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-VALID-JSON",
    "The body writes \"deleted_at\": none (as the seed sample does), which is not JSON.",
    probe=lambda http: not_json(http.get(f"{DETAIL}?name=cirros")))
V1_1_DETAIL_ONLY_FIRST_FILTER = HttpFault(
    "v1-1-detail-only-first-filter", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-SOUND",
    "With several filters, only the first one is applied.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-MONOTONIC",),
    probe=lambda http: any((e["disk_format"], e["container_format"]) != ("qcow2", "ovf")
                           for e in http.detail("disk_format=qcow2&container_format=ovf")))
V1_1_DETAIL_COMBINED_DROPS_ONE = HttpFault(
    "v1-1-detail-combined-drops-one", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-COMPLETE",
    "With two or more filters, the last matching image is left out.",
    probe=lambda http: CIRROS.id not in {e["id"] for e in http.detail("name=cirros&disk_format=qcow2")})
V1_1_DETAIL_FILTERS_ANY = HttpFault(
    "v1-1-detail-filters-any", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-MONOTONIC",
    "An image matching any one of several filters is returned (a union instead of an intersection).",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",),
    probe=lambda http: any((e["name"], e["disk_format"]) != ("cirros", "vhd")
                           for e in http.detail("name=cirros&disk_format=vhd")))
V1_1_DETAIL_DOCUMENTED_FILTERS_ONLY = HttpFault(
    "v1-1-detail-documented-filters-only", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-LIMIT",
    "Only seed 004's seven filters are served (limit, marker, sort_key, sort_dir and property-* are ignored, invalid "
    "values answer 200): a vendor target that ims passes, its failures being advisory there.",
    also_breaks=("GLANCE-V1-1-DETAIL-PAGINATION", "GLANCE-V1-1-DETAIL-INVALID-400", *UNDOCUMENTED_FILTER_REQUIREMENTS,
                 "GLANCE-V1-1-DETAIL-FILTER-SOUND"),
    probe=lambda http: len(http.detail("limit=1")) > 1 and http.get(f"{DETAIL}?size_min=abc").status == 200)
V1_1_DETAIL_UNAUTHENTICATED_403 = HttpFault(
    "v1-1-detail-unauthenticated-403", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-401",
    "Detail answers 403 instead of 401 to a request without X-Auth-Token or with a forged one.",
    probe=lambda http: http.with_token(None).get(DETAIL).status == 403)
V1_1_DETAIL_ACTIVE_SIZE_NULL = HttpFault(
    "v1-1-detail-active-size-null", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-ACTIVE-SIZE",
    "One active image (CoreOS, of a size no other image has) has size null in detail, and size filters skip it.",
    probe=lambda http: http.detail(f"name={quote(COREOS.name)}")[0]["size"] is None)
V1_1_DETAIL_ACTIVE_CHECKSUM_NULL = HttpFault(
    "v1-1-detail-active-checksum-null", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-ACTIVE-CHECKSUM",
    "Detail entries of active images have checksum null.",
    probe=lambda http: http.detail("name=cirros")[0]["checksum"] is None)

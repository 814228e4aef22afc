"""The faults of the reference's v2 list beyond its filters (those are beside their rules, in v2_list_filters.py)."""

from __future__ import annotations

from typing import Any

from conformance.reference.fault import Fault
from conformance.reference.glance.images import image_by_key
from conformance.reference.glance.probe import HttpProbe
from conformance.reference.glance.projects import OTHER_PROJECT
from conformance.reference.glance.v2_list_filters import FILTER_FAULTS, V2_LIST

_Fault = Fault[HttpProbe]
_REQ = "GLANCE-V2-LIST-"
_CIRROS = image_by_key("cirros")


def _page(http: HttpProbe, query: str) -> Any:
    return http.get(f"/v2/images?{query}").json()


def _ids(http: HttpProbe, query: str) -> list[str]:
    return [entry["id"] for entry in _page(http, f"limit=1000&{query}")["images"]]


def _marker_skips(http: HttpProbe) -> bool:
    every = _ids(http, "")
    after = [entry["id"] for entry in _page(http, f"marker={every[2]}&limit=2")["images"]]
    return after[0] != every[3]


def _min_ram_differs(http: HttpProbe) -> bool:
    entry = _page(http, "limit=1")["images"][0]
    return bool(entry["min_ram"] != http.get(f"/v2/images/{entry['id']}").json()["min_ram"])


def _next_on_short_page(http: HttpProbe) -> bool:
    count = len(_ids(http, ""))
    return "next" in _page(http, f"limit={count + 1}")


def _member_update_ignored(http: HttpProbe) -> bool:
    """Share a new image with the second project, which accepts it: is it missing from its accepted listing?"""
    created = http.request("POST", "/v2/images", payload={"name": "member-probe", "disk_format": "raw",
                                                          "container_format": "bare", "visibility": "shared"})
    image_id = created.json()["id"]
    http.request("POST", f"/v2/images/{image_id}/members", payload={"member": OTHER_PROJECT})
    other = http.as_other_project()
    other.request("PUT", f"/v2/images/{image_id}/members/{OTHER_PROJECT}", payload={"status": "accepted"})
    return image_id not in _ids(other, "visibility=shared&member_status=accepted")


def _links_drop_repeats(http: HttpProbe) -> bool:
    return "tag=test&tag=tiny" not in str(_page(http, "tag=test&tag=tiny&limit=1").get("first"))


CONTENT_TYPE_TEXT = _Fault(
    "v2-list-content-type-text", V2_LIST, _REQ + "200-JSON",
    "The list answers 200 with its JSON body labelled Content-Type text/plain.",
    probe=lambda http: http.get("/v2/images").mimetype == "text/plain")
NO_FIRST = _Fault(
    "v2-list-no-first", V2_LIST, _REQ + "SCHEMA",
    "Pages of the list have no `first` link.",
    probe=lambda http: "first" not in _page(http, ""))
MIN_RAM_DIFFERS = _Fault(
    "v2-list-min-ram-differs", V2_LIST, _REQ + "AGREES-WITH-SHOW",
    "Listed images report min_ram 512 more than show does.",
    also_breaks=("GLANCE-V2-SHOW-AGREES-WITH-LIST",), probe=_min_ram_differs)
SHOWS_HIDDEN = _Fault(
    "v2-list-shows-hidden", V2_LIST, _REQ + "HIDES",
    "Without os_hidden, hidden images are listed too (with os_hidden: true).",
    also_breaks=(_REQ + "FILTER-SOUND",), profile="glance",
    probe=lambda http: any(entry.get("os_hidden") for entry in _page(http, "limit=1000")["images"]))
DEFAULT_ORDER_ASC = _Fault(
    "v2-list-default-order-asc", V2_LIST, _REQ + "DEFAULT-ORDER",
    "Without a sort, images are listed oldest first (created_at asc).",
    probe=lambda http: _ids(http, "") == _ids(http, "sort_key=created_at&sort_dir=asc"))
FIRST_SORT_KEY_ONLY = _Fault(
    "v2-list-first-sort-key-only", V2_LIST, _REQ + "SORT",
    "Only the first sort key (and its direction) is applied; the others are left to the tie-break by id.",
    probe=lambda http: _ids(http, "sort=disk_format:asc,size:asc") == _ids(http, "sort=disk_format:asc,id:desc"))
MARKER_SKIPS = _Fault(
    "v2-list-marker-skips", V2_LIST, _REQ + "PAGINATION",
    "A page asked for with a marker skips the first image after the marker.",
    also_breaks=(_REQ + "NEXT",), probe=_marker_skips)
LIMIT_IGNORED = _Fault(
    "v2-list-limit-ignored", V2_LIST, _REQ + "LIMIT",
    "limit (and the default page size) is ignored: every remaining image is on the page.",
    probe=lambda http: len(_page(http, "limit=2")["images"]) > 2)
NEXT_ON_SHORT_PAGE = _Fault(
    "v2-list-next-on-short-page", V2_LIST, _REQ + "NEXT",
    "Every page links a `next`, the last one too however short it is (leading to an empty page).",
    probe=_next_on_short_page)
LINKS_DROP_REPEATS = _Fault(
    "v2-list-links-drop-repeats", V2_LIST, _REQ + "LINKS-KEEP-QUERY",
    "`next` and `first` keep only the last copy of a repeated parameter (as upstream Glance builds them).",
    probe=_links_drop_repeats)
MEMBER_STATUS_IGNORED = _Fault(
    "v2-list-member-status-ignored", V2_LIST, _REQ + "MEMBER-STATUS",
    "member_status is ignored: shared images are listed when the caller accepted them, whatever is asked.",
    probe=lambda http: _ids(http, "visibility=shared&member_status=pending")
    == _ids(http, "visibility=shared&member_status=accepted"))
MEMBER_UPDATE_IGNORED = _Fault(
    "v2-list-member-update-ignored", V2_LIST, _REQ + "MEMBER-STATUS",
    "PUT /v2/images/{id}/members/{member} answers 200 with the status asked for, but the member stays pending: "
    "its listings go by pending.",
    needs_writes=True, probe=_member_update_ignored)
BAD_VISIBILITY_200 = _Fault(
    "v2-list-bad-visibility-200", V2_LIST, _REQ + "INVALID-400",
    "An unknown visibility is ignored (200, the default listing) instead of answering 400.",
    probe=lambda http: http.get("/v2/images?visibility=everyone").status == 200)
MISSING_TOKEN_200 = _Fault(
    "v2-list-missing-token-200", V2_LIST, _REQ + "401",
    "The list answers 200 to a request without X-Auth-Token (a forged token still gets 401).",
    probe=lambda http: http.with_token(None).get("/v2/images").status == 200)
ONLY_FIRST_FILTER = _Fault(
    "v2-list-only-first-filter", V2_LIST, _REQ + "FILTER-SOUND",
    "With several filters on fields of the image, only the first one is applied.",
    also_breaks=(_REQ + "FILTER-MONOTONIC",),
    probe=lambda http: any(entry["disk_format"] != "vhd" for entry in _page(http, "name=cirros&disk_format=vhd")
                           ["images"]))
COMBINED_DROPS_ONE = _Fault(
    "v2-list-combined-drops-one", V2_LIST, _REQ + "FILTER-COMPLETE",
    "With two or more filters on fields of the image, the last matching image is left out.",
    probe=lambda http: not _page(http, "name=cirros&disk_format=qcow2")["images"])
FILTERS_ANY = _Fault(
    "v2-list-filters-any", V2_LIST, _REQ + "FILTER-MONOTONIC",
    "An image matching any one of several filters on its fields is listed (a union instead of an intersection).",
    also_breaks=(_REQ + "FILTER-SOUND",),
    probe=lambda http: len(_page(http, "name=cirros&disk_format=vhd")["images"]) > 1)

V2_LIST_FAULTS: tuple[_Fault, ...] = (
    CONTENT_TYPE_TEXT, NO_FIRST, MIN_RAM_DIFFERS, SHOWS_HIDDEN, DEFAULT_ORDER_ASC, FIRST_SORT_KEY_ONLY, MARKER_SKIPS,
    LIMIT_IGNORED, NEXT_ON_SHORT_PAGE, LINKS_DROP_REPEATS, MEMBER_STATUS_IGNORED, MEMBER_UPDATE_IGNORED,
    BAD_VISIBILITY_200, MISSING_TOKEN_200, ONLY_FIRST_FILTER, COMBINED_DROPS_ONE, FILTERS_ANY, *FILTER_FAULTS,
)

"""Every fault of the Glance-style reference, declared once: name, requirement it breaks, and the probe that sees it.

Each probe gets an HttpProbe of a running reference and answers whether the deviation is visible: True when
the reference runs with that fault, False when it runs clean. Body changes are made where show and list share
the serializer (so show still agrees with list), except the id changes, which would break discovery.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from conformance.reference.fault import Fault, table
from conformance.reference.glance.images import image_by_key
from conformance.reference.glance.probe import Answer, HttpProbe
from conformance.reference.glance.v1_1_filters import FILTER_FAULTS, UNDOCUMENTED_FILTER_REQUIREMENTS, V1_1_DETAIL
from conformance.reference.glance.v2_list_faults import V2_LIST_FAULTS

V2_SHOW = "glance.v2.show"
V1_HEAD = "glance.v1.head"

_VIVADO = image_by_key("centos-vivado")  # the seed 001 sample: vendor properties, lower-case hex checksum
_CIRROS = image_by_key("cirros")  # the seed 003/004 sample: no properties, size shared with cirros-052
_DELETED = image_by_key("deleted-centos")  # visible to HEAD (as upstream answers admin), with Deleted_at
_COREOS = image_by_key("coreos")  # active, of a size no other image has: off every filter boundary
_UNKNOWN = "00000000-0000-4000-8000-000000000000"
_MALFORMED = "not-a-uuid!"
_DETAIL = "/v1.1/images/detail"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_Fault = Fault[HttpProbe]  # each probe takes a client of the running reference


def _show(http: HttpProbe, image_id: str = _VIVADO.id) -> Any:
    return http.get(f"/v2/images/{image_id}").json()


def _head(http: HttpProbe, image_id: str = _CIRROS.id) -> dict[str, str]:
    return http.head(f"/v1/images/{image_id}").headers


def _updated_before_created(http: HttpProbe) -> bool:
    body = _show(http)
    return bool(body["updated_at"] < body["created_at"])


def _etag_differs_from_checksum(http: HttpProbe) -> bool:
    meta = _head(http)
    return meta["etag"] != meta["x-image-meta-checksum"]


def _list_disagrees_with_show(http: HttpProbe) -> bool:
    entry = http.get("/v2/images?limit=1").json()["images"][0]
    return bool(entry["name"] != _show(http, entry["id"])["name"])


def _marker_page_skips(http: HttpProbe) -> bool:
    every = [entry["id"] for entry in http.detail("sort_dir=asc")]
    page = http.get(f"{_DETAIL}?sort_dir=asc&marker={_CIRROS.id}&limit=3").json()["images"]
    return bool(page[0]["id"] != every[every.index(_CIRROS.id) + 1])


def _forged(http: HttpProbe) -> HttpProbe:
    """The probe sending a token the reference never issued (the probe's own token reversed)."""
    return http.with_token((http.token or "no-token")[::-1])


def _active_heads(http: HttpProbe) -> list[dict[str, str]]:
    ids = [entry["id"] for entry in http.detail("status=active")]
    return [_head(http, image_id) for image_id in ids]


def _not_json(answer: Answer) -> bool:
    try:
        json.loads(answer.body)
    except ValueError:
        return True
    return False


# -- glance.v2.show ------------------------------------------------------------------------------------------------

V2_SHOW_CONTENT_TYPE_TEXT = _Fault(
    "v2-show-content-type-text", V2_SHOW, "GLANCE-V2-SHOW-200-JSON",
    "Show answers 200 with the JSON body labelled Content-Type text/plain.",
    probe=lambda http: http.get(f"/v2/images/{_VIVADO.id}").mimetype == "text/plain")
V2_SHOW_STATUS_BOGUS = _Fault(
    "v2-show-status-bogus", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "Every image reports status \"available\", which is not a documented status.",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA",),
    probe=lambda http: _show(http)["status"] == "available")
V2_SHOW_MIN_RAM_STRING = _Fault(
    "v2-show-min-ram-string", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "min_ram is a string such as \"512\" instead of an integer.",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA",),
    probe=lambda http: isinstance(_show(http)["min_ram"], str))
V2_SHOW_OS_TYPE_BOGUS = _Fault(
    "v2-show-os-type-bogus", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "__os_type is \"Solaris\" on every image that has it.",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES"),
    probe=lambda http: _show(http)["__os_type"] == "Solaris")
V2_SHOW_MISSING_ID = _Fault(
    "v2-show-missing-id", V2_SHOW, "GLANCE-V2-SHOW-SCHEMA",
    "The show body has no id field.",
    also_breaks=("GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V2-SHOW-AGREES-WITH-LIST"),
    probe=lambda http: "id" not in _show(http))
V2_SHOW_WRONG_ID = _Fault(
    "v2-show-wrong-id", V2_SHOW, "GLANCE-V2-SHOW-ID-MATCHES",
    "The show body's id is the id of another image (the rest of the body is the requested image's).",
    also_breaks=("GLANCE-V2-SHOW-AGREES-WITH-LIST",),
    probe=lambda http: _show(http)["id"] != _VIVADO.id)
V2_SHOW_BAD_SELF_LINK = _Fault(
    "v2-show-bad-self-link", V2_SHOW, "GLANCE-V2-SHOW-LINKS",
    "self points to /v2/images/<another image's id>.",
    probe=lambda http: _show(http)["self"] != f"/v2/images/{_VIVADO.id}")
V2_SHOW_LOCAL_TIMESTAMP = _Fault(
    "v2-show-local-timestamp", V2_SHOW, "GLANCE-V2-SHOW-TIMESTAMPS",
    "created_at is written as local time without T or zone, e.g. \"2018-09-06 14:03:27\".",
    also_breaks=("GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V2-SHOW-SCHEMA"),
    probe=lambda http: "T" not in _show(http)["created_at"])
V2_SHOW_UPDATED_BEFORE_CREATED = _Fault(
    "v2-show-updated-before-created", V2_SHOW, "GLANCE-V2-SHOW-TIMESTAMPS",
    "updated_at is one day earlier than created_at.",
    probe=_updated_before_created)
V2_SHOW_EXTRA_PROP_INT = _Fault(
    "v2-show-extra-prop-int", V2_SHOW, "GLANCE-V2-SHOW-EXTRA-PROPS-STRINGS",
    "The undocumented custom property build_number is a JSON integer (added as 0 where absent).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES"),
    probe=lambda http: isinstance(_show(http).get("build_number"), int))
V2_SHOW_ID_NOT_UUID = _Fault(
    "v2-show-id-not-uuid", V2_SHOW, "GLANCE-V2-SHOW-ID-UUID",
    "An extra image with the id legacy-image-0001 is listed first and shown consistently (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V1-HEAD-200-EMPTY-BODY"),
    probe=lambda http: any(not _UUID.fullmatch(entry["id"])
                           for entry in http.get("/v2/images?limit=3").json()["images"]))
V2_SHOW_CHECKSUM_UPPERCASE = _Fault(
    "v2-show-checksum-uppercase", V2_SHOW, "GLANCE-V2-SHOW-CHECKSUM-FORMAT",
    "checksum is written in upper-case hex, in show and list alike (ims accepts any string: judged under glance).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES"), profile="glance",
    probe=lambda http: _show(http)["checksum"] == str(_VIVADO.checksum).upper())
V2_SHOW_UNKNOWN_ID_200 = _Fault(
    "v2-show-unknown-id-200", V2_SHOW, "GLANCE-V2-SHOW-404",
    "A well-formed UUID that names no live image answers 200 with another image's body.",
    probe=lambda http: http.get(f"/v2/images/{_UNKNOWN}").status == 200)
V2_SHOW_MALFORMED_ID_500 = _Fault(
    "v2-show-malformed-id-500", V2_SHOW, "GLANCE-V2-SHOW-MALFORMED-ID",
    "An id with any character other than hex digits and dashes answers 500.",
    probe=lambda http: http.get(f"/v2/images/{_MALFORMED}").status == 500)
V2_SHOW_DISAGREES_WITH_LIST = _Fault(
    "v2-show-disagrees-with-list", V2_SHOW, "GLANCE-V2-SHOW-AGREES-WITH-LIST",
    "List entries carry a different name (suffixed \" (listed)\") than show reports.",
    probe=_list_disagrees_with_show)
V2_LIST_NEXT_OFF_ORIGIN = _Fault(
    "v2-list-next-off-origin", V2_SHOW, "GLANCE-V2-SHOW-AGREES-WITH-LIST",
    "The first page of GET /v2/images links `next` as `@127.0.0.1:<port+1>/v2/images?marker=…`, which glued onto "
    "the endpoint would send the token to another port.",
    probe=lambda http: not str(http.get("/v2/images").json().get("next", "/")).startswith("/"))
V2_SHOW_ERROR_BODY_HTML = _Fault(
    "v2-show-error-body-html", V2_SHOW, "GLANCE-V2-SHOW-ERROR-BODY",
    "Show's 404 body is HTML even when the client asks for JSON.",
    probe=lambda http: http.get(f"/v2/images/{_UNKNOWN}").mimetype == "text/html")
V2_SHOW_MISSING_TOKEN_200 = _Fault(
    "v2-show-missing-token-200", V2_SHOW, "GLANCE-V2-SHOW-401",
    "Show answers 200 to a request without X-Auth-Token (a forged token still gets 401).",
    probe=lambda http: http.with_token(None).get(f"/v2/images/{_VIVADO.id}").status == 200)

# The late v2 additions (seed 001's looser readings and unchecked clauses, the target's own image schema).
EXCLUSIVE_SUPPORT_FLAGS = ("__support_xen_gpu_type", "__support_kvm_gpu_type", "__support_xen_hana",
                           "__support_kvm_infiniband")  # seed 001: none of them coexists with __support_xen
UNLISTED_DISK_FORMAT = "qcow2"  # upstream lists it by default; several catalogue images use it
_SUSE = image_by_key("suse")  # carries __support_xen_hana
_EULEROS = image_by_key("euleros")  # carries __os_feature_list


def _published_disk_formats(http: HttpProbe) -> list[str | None]:
    formats: list[str | None] = http.get("/v2/schemas/image").json()["properties"]["disk_format"]["enum"]
    return formats


def _os_feature_list_not_json(http: HttpProbe) -> bool:
    try:
        json.loads(_show(http, _EULEROS.id)["__os_feature_list"])
    except ValueError:
        return True
    return False


V2_SHOW_CHECKSUM_NUMBER = _Fault(
    "v2-show-checksum-number", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "checksum is a JSON number instead of a string, in show and list alike.",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-OWN-SCHEMA"),
    probe=lambda http: isinstance(_show(http)["checksum"], int))
V2_SHOW_SUPPORT_FLAGS_COEXIST = _Fault(
    "v2-show-support-flags-coexist", V2_SHOW, "GLANCE-V2-SHOW-SUPPORT-NOT-COEXIST",
    "Every image with a GPU, HANA or Infiniband support property also says __support_xen: true (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V1-HEAD-PROPERTIES"),
    probe=lambda http: "__support_xen" in _show(http, _SUSE.id))
V2_SHOW_OS_FEATURE_LIST_NOT_JSON = _Fault(
    "v2-show-os-feature-list-not-json", V2_SHOW, "GLANCE-V2-SHOW-OS-FEATURE-LIST-JSON",
    "__os_feature_list is written as a Python literal ({'key': 'true'}), not JSON (in v2 only).",
    also_breaks=("GLANCE-V1-HEAD-PROPERTIES",),
    probe=_os_feature_list_not_json)
V2_SCHEMA_LACKS_DISK_FORMAT = _Fault(
    "v2-schema-lacks-disk-format", V2_SHOW, "GLANCE-V2-SHOW-OWN-SCHEMA",
    f"/v2/schemas/image leaves {UNLISTED_DISK_FORMAT} out of disk_format although images use it (judged under "
    "glance, whose v2, v1 and v1.1 format lists come from the target's schema).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V1-HEAD-ENUMS",
                 "GLANCE-V1-1-DETAIL-SCHEMA"), profile="glance",
    probe=lambda http: UNLISTED_DISK_FORMAT not in _published_disk_formats(http))

# Seed 001's vendor properties by the rule their documented values follow: one fault per rule breaks them all.
TRUE_FLAGS = ("__support_kvm", "__support_xen", "__support_largememory", "__support_diskintensive",
              "__support_highperformance", "__support_xen_hana", "__support_kvm_infiniband")  # "true" or absent
BOOL_FLAGS = ("__isregistered", "__support_arm", "__support_fc_inject", "__is_offshelved",
              "hw_vif_multiqueue_enabled", "__is_config_init", "__support_amd")  # "true" or "false"
PATTERNED = {"__image_size": "0", "__root_origin": "url", "__support_agent_list": "hss;ces",
             "__support_xen_gpu_type": "", "__support_kvm_gpu_type": "", "__imagetype": "public",
             "__image_source_type": "obs", "virtual_env_type": "KVM", "hw_firmware_type": "legacy",
             "__platform": "Solaris", "__lazyloading": "yes", "enterprise_project_id": "default"}  # -> undocumented
TEXT_PROPS = ("__description", "__system__cmkid", "__originalimagename", "__backup_id", "__data_origin",
              "__sequence_num", "__account_code", "__image_location", "__productcode", "__os_version", "__os_bit",
              "max_ram", "enterprise_project_id", "active_at", "__os_feature_list")  # free strings
_WINDOWS_2019 = image_by_key("windows-2019")  # carries __support_xen and most flags
_WEB_SERVER = image_by_key("web-server")  # carries the provenance properties


V2_SHOW_TRUE_FLAGS_FALSE = _Fault(
    "v2-show-true-flags-false", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "The support flags documented as \"true\" or absent (__support_kvm, __support_xen, ...) are \"false\" where "
    "present (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES"),
    probe=lambda http: _show(http, _WINDOWS_2019.id)["__support_xen"] == "false")
V2_SHOW_BOOL_FLAGS_YES = _Fault(
    "v2-show-bool-flags-yes", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "The flags documented as \"true\" or \"false\" (__isregistered, __support_amd, ...) are \"yes\" where present "
    "(in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES"),
    probe=lambda http: _show(http, _WINDOWS_2019.id)["__is_config_init"] == "yes")
V2_SHOW_PATTERNED_PROPS_BOGUS = _Fault(
    "v2-show-patterned-props-bogus", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "Vendor properties with documented values or forms (__image_size, __root_origin, __support_agent_list, "
    "__platform, ...) carry an undocumented one where present, e.g. __image_size \"0\" (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES"),
    probe=lambda http: _show(http, _WEB_SERVER.id)["__image_size"] == "0")
V2_SHOW_TEXT_PROPS_NUMBERS = _Fault(
    "v2-show-text-props-numbers", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "Free-text vendor properties (__description, __backup_id, __image_location, ...) are JSON numbers (their "
    "length) instead of strings where present (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES", "GLANCE-V2-SHOW-OWN-SCHEMA"),
    probe=lambda http: isinstance(_show(http, _WEB_SERVER.id)["__description"], int))
V2_SHOW_CORE_FIELDS_MISTYPED = _Fault(
    "v2-show-core-fields-mistyped", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "The core fields without a fault of their own have the wrong JSON type: name, owner, container_format and "
    "updated_at are numbers, protected, size, virtual_size and min_disk strings, tags a comma-joined string, "
    "visibility \"everyone\", self, file and schema null (in show and list alike).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-LINKS", "GLANCE-V2-SHOW-TIMESTAMPS",
                 "GLANCE-V2-SHOW-OWN-SCHEMA"),
    probe=lambda http: isinstance(_show(http)["min_disk"], str) and _show(http)["self"] is None)

# -- glance.v1.head ------------------------------------------------------------------------------------------------

V1_HEAD_BODY_NOT_EMPTY = _Fault(
    "v1-head-body-not-empty", V1_HEAD, "GLANCE-V1-HEAD-200-EMPTY-BODY",
    "HEAD writes a body (with a matching Content-Length) after the headers.",
    probe=lambda http: http.head(f"/v1/images/{_CIRROS.id}").body != b"")
V1_HEAD_MISSING_STATUS = _Fault(
    "v1-head-missing-status", V1_HEAD, "GLANCE-V1-HEAD-HEADERS-PRESENT",
    "HEAD omits the X-Image-Meta-Status header.",
    probe=lambda http: "x-image-meta-status" not in _head(http))
V1_HEAD_SIZE_NOT_INTEGER = _Fault(
    "v1-head-size-not-integer", V1_HEAD, "GLANCE-V1-HEAD-INTEGERS",
    "X-Image-Meta-Size is written as a decimal, e.g. \"13167616.0\".",
    probe=lambda http: not _head(http)["x-image-meta-size"].isdigit())
V1_HEAD_BOOLEANS_NUMERIC = _Fault(
    "v1-head-booleans-numeric", V1_HEAD, "GLANCE-V1-HEAD-BOOLEANS",
    "Boolean headers are written 1/0 instead of True/False.",
    probe=lambda http: _head(http)["x-image-meta-is_public"] == "1")
V1_HEAD_TIMESTAMP_ZULU = _Fault(
    "v1-head-timestamp-zulu", V1_HEAD, "GLANCE-V1-HEAD-TIMESTAMPS",
    "Created_at and Updated_at carry a trailing Z, unlike Glance v1's naive timestamps.",
    probe=lambda http: _head(http)["x-image-meta-created_at"].endswith("Z"))
V1_HEAD_STATUS_BOGUS = _Fault(
    "v1-head-status-bogus", V1_HEAD, "GLANCE-V1-HEAD-ENUMS",
    "X-Image-Meta-Status is \"available\", which is not a documented status.",
    probe=lambda http: _head(http)["x-image-meta-status"] == "available")
V1_HEAD_WRONG_ID = _Fault(
    "v1-head-wrong-id", V1_HEAD, "GLANCE-V1-HEAD-ID-MATCHES",
    "X-Image-Meta-Id is the id of another image.",
    probe=lambda http: _head(http)["x-image-meta-id"] != _CIRROS.id)
V1_HEAD_UNKNOWN_ID_200 = _Fault(
    "v1-head-unknown-id-200", V1_HEAD, "GLANCE-V1-HEAD-404",
    "A well-formed UUID that names no live image answers 200 with another image's headers.",
    probe=lambda http: http.head(f"/v1/images/{_UNKNOWN}").status == 200)
V1_HEAD_MALFORMED_ID_500 = _Fault(
    "v1-head-malformed-id-500", V1_HEAD, "GLANCE-V1-HEAD-MALFORMED-ID",
    "An id with any character other than hex digits and dashes answers 500.",
    probe=lambda http: http.head(f"/v1/images/{_MALFORMED}").status == 500)
V1_HEAD_ETAG_MISMATCH = _Fault(
    "v1-head-etag-mismatch", V1_HEAD, "GLANCE-V1-HEAD-ETAG",
    "ETag is a 32-hex value different from the checksum.",
    probe=_etag_differs_from_checksum)
V1_HEAD_NAME_DIFFERS = _Fault(
    "v1-head-name-differs", V1_HEAD, "GLANCE-V1-HEAD-AGREES-WITH-DETAIL",
    "X-Image-Meta-Name is suffixed \" (v1)\", so it differs from the detail entry.",
    probe=lambda http: _head(http)["x-image-meta-name"] != http.detail(f"name={_CIRROS.name}")[0]["name"])
V1_HEAD_MIN_RAM_DIFFERS = _Fault(
    "v1-head-min-ram-differs", V1_HEAD, "GLANCE-V1-HEAD-AGREES-WITH-V2",
    "X-Image-Meta-Min_ram is 512 more than v2 reports.",
    probe=lambda http: int(_head(http)["x-image-meta-min_ram"]) != _show(http, _CIRROS.id)["min_ram"])
V1_HEAD_PROPERTY_MISSING = _Fault(
    "v1-head-property-missing", V1_HEAD, "GLANCE-V1-HEAD-PROPERTIES",
    "The header of the alphabetically first custom property is left out.",
    probe=lambda http: len([name for name in _head(http, _VIVADO.id) if name.startswith("x-image-meta-property-")])
    < len(_VIVADO.properties))
V1_HEAD_CHECKSUM_UPPERCASE = _Fault(
    "v1-head-checksum-uppercase", V1_HEAD, "GLANCE-V1-HEAD-CHECKSUM-FORMAT",
    "X-Image-Meta-Checksum (and the ETag) are written in upper-case hex.",
    probe=lambda http: _head(http)["x-image-meta-checksum"] == str(_CIRROS.checksum).upper())
V1_HEAD_ANY_TOKEN_200 = _Fault(
    "v1-head-any-token-200", V1_HEAD, "GLANCE-V1-HEAD-401",
    "HEAD accepts any X-Auth-Token, even one the target never issued (a missing token still gets 401).",
    probe=lambda http: _forged(http).head(f"/v1/images/{_CIRROS.id}").status == 200)
V1_HEAD_ACTIVE_NO_SIZE = _Fault(
    "v1-head-active-no-size", V1_HEAD, "GLANCE-V1-HEAD-ACTIVE-SIZE",
    "HEAD of an active image leaves X-Image-Meta-Size out.",
    probe=lambda http: "x-image-meta-size" not in _head(http))
V1_HEAD_ACTIVE_NO_CHECKSUM = _Fault(
    "v1-head-active-no-checksum", V1_HEAD, "GLANCE-V1-HEAD-ACTIVE-CHECKSUM",
    "HEAD of an active image leaves X-Image-Meta-Checksum (and so the ETag) out.",
    probe=lambda http: any("x-image-meta-checksum" not in meta for meta in _active_heads(http)))
V1_HEAD_DELETED_AT_NOT_ISO = _Fault(
    "v1-head-deleted-at-not-iso", V1_HEAD, "GLANCE-V1-HEAD-TIMESTAMPS",
    "X-Image-Meta-Deleted_at of a deleted image is an HTTP date (\"Tue, 15 Jun 2021 08:00:00 GMT\"), not ISO 8601.",
    probe=lambda http: _head(http, _DELETED.id).get("x-image-meta-deleted_at", "").endswith("GMT"))

# -- glance.v1_1.detail --------------------------------------------------------------------------------------------

V1_1_DETAIL_MISSING_FIELD = _Fault(
    "v1-1-detail-missing-field", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-SCHEMA",
    "Detail entries lack the protected field.",
    probe=lambda http: "protected" not in http.detail("name=cirros")[0])
V1_1_DETAIL_PROPERTIES_LIST = _Fault(
    "v1-1-detail-properties-list", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-PROPERTIES-OBJECT",
    "properties is a list of [key, value] pairs instead of an object.",
    probe=lambda http: isinstance(http.detail("name=cirros")[0]["properties"], list))
def _deleted_now_listed(http: HttpProbe) -> bool:
    """Create and delete an image, then ask changes-since for it: whether it is listed (as it must be)."""
    created = http.request("POST", "/v2/images", payload={"name": "probe-deleted", "disk_format": "raw",
                                                            "container_format": "bare"}).json()
    http.request("DELETE", f"/v2/images/{created['id']}")
    return any(entry["id"] == created["id"] for entry in http.detail("changes-since=2000-01-01"))


V1_1_DETAIL_CHANGES_SINCE_DROPS_NEW_DELETED = _Fault(
    "v1-1-detail-changes-since-drops-new-deleted", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE",
    "changes-since leaves out images deleted while the target runs (the catalogue's deleted and killed images are "
    "still listed): the listing is then its own ground truth, so only images the run deletes itself show it.",
    needs_writes=True, probe=lambda http: not _deleted_now_listed(http))
V1_1_DETAIL_PAGINATION_SKIPS = _Fault(
    "v1-1-detail-pagination-skips", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-PAGINATION",
    "A page requested with a marker skips the first image after the marker.",
    probe=_marker_page_skips)
V1_1_DETAIL_LIMIT_IGNORED = _Fault(
    "v1-1-detail-limit-ignored", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-LIMIT",
    "limit (and the default page size) is ignored: every remaining image is returned.",
    probe=lambda http: len(http.get(f"{_DETAIL}?limit=2").json()["images"]) > 2)
V1_1_DETAIL_SIZE_MIN_500 = _Fault(
    "v1-1-detail-size-min-500", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-INVALID-400",
    "A size_min that is not a non-negative integer answers 500 instead of 400.",
    probe=lambda http: http.get(f"{_DETAIL}?size_min=abc").status == 500)
V1_1_DETAIL_BAD_SORT_KEY_200 = _Fault(
    "v1-1-detail-bad-sort-key-200", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-INVALID-400",
    "An unknown sort_key is ignored (200, default order) instead of answering 400.",
    probe=lambda http: http.get(f"{_DETAIL}?sort_key=bogus").status == 200)
V1_1_DETAIL_SHOWS_DELETED = _Fault(
    "v1-1-detail-shows-deleted", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-HIDES-DELETED",
    "Deleted and killed images are listed without changes-since.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",),
    probe=lambda http: any(entry["deleted"] or entry["status"] == "killed" for entry in http.detail("")))
V1_1_DETAIL_NONE_LITERAL = _Fault(
    "v1-1-detail-none-literal", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-VALID-JSON",
    "The body writes \"deleted_at\": none (as the seed sample does), which is not JSON.",
    probe=lambda http: _not_json(http.get(f"{_DETAIL}?name=cirros")))
V1_1_DETAIL_ONLY_FIRST_FILTER = _Fault(
    "v1-1-detail-only-first-filter", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-SOUND",
    "With several filters, only the first one is applied.",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-MONOTONIC",),
    probe=lambda http: any((e["disk_format"], e["container_format"]) != ("qcow2", "ovf")
                           for e in http.detail("disk_format=qcow2&container_format=ovf")))
V1_1_DETAIL_COMBINED_DROPS_ONE = _Fault(
    "v1-1-detail-combined-drops-one", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-COMPLETE",
    "With two or more filters, the last matching image is left out.",
    probe=lambda http: _CIRROS.id not in {e["id"] for e in http.detail("name=cirros&disk_format=qcow2")})
V1_1_DETAIL_FILTERS_ANY = _Fault(
    "v1-1-detail-filters-any", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-FILTER-MONOTONIC",
    "An image matching any one of several filters is returned (a union instead of an intersection).",
    also_breaks=("GLANCE-V1-1-DETAIL-FILTER-SOUND",),
    probe=lambda http: any((e["name"], e["disk_format"]) != ("cirros", "vhd")
                           for e in http.detail("name=cirros&disk_format=vhd")))
V1_1_DETAIL_DOCUMENTED_FILTERS_ONLY = _Fault(
    "v1-1-detail-documented-filters-only", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-LIMIT",
    "Only seed 004's seven filters are served (limit, marker, sort_key, sort_dir and property-* are ignored, invalid "
    "values answer 200): a vendor target that ims passes, its failures being advisory there.",
    also_breaks=("GLANCE-V1-1-DETAIL-PAGINATION", "GLANCE-V1-1-DETAIL-INVALID-400", *UNDOCUMENTED_FILTER_REQUIREMENTS,
                 "GLANCE-V1-1-DETAIL-FILTER-SOUND"),
    probe=lambda http: len(http.detail("limit=1")) > 1 and http.get(f"{_DETAIL}?size_min=abc").status == 200)
V1_1_DETAIL_UNAUTHENTICATED_403 = _Fault(
    "v1-1-detail-unauthenticated-403", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-401",
    "Detail answers 403 instead of 401 to a request without X-Auth-Token or with a forged one.",
    probe=lambda http: http.with_token(None).get(_DETAIL).status == 403)
V1_1_DETAIL_ACTIVE_SIZE_NULL = _Fault(
    "v1-1-detail-active-size-null", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-ACTIVE-SIZE",
    "One active image (CoreOS, of a size no other image has) has size null in detail, and size filters skip it.",
    probe=lambda http: http.detail(f"name={quote(_COREOS.name)}")[0]["size"] is None)
V1_1_DETAIL_ACTIVE_CHECKSUM_NULL = _Fault(
    "v1-1-detail-active-checksum-null", V1_1_DETAIL, "GLANCE-V1-1-DETAIL-ACTIVE-CHECKSUM",
    "Detail entries of active images have checksum null.",
    probe=lambda http: http.detail("name=cirros")[0]["checksum"] is None)

# The order of --list-faults: v2 show, v1 HEAD, v1.1 detail (two late additions kept where they were first listed);
# the filter faults are declared with the reference's filters (v1_1_filters.py), beside the rules they bend.
GLANCE_FAULTS: dict[str, Fault[HttpProbe]] = table(
    V2_SHOW_CONTENT_TYPE_TEXT, V2_SHOW_STATUS_BOGUS, V2_SHOW_MIN_RAM_STRING, V2_SHOW_OS_TYPE_BOGUS,
    V2_SHOW_MISSING_ID, V2_SHOW_WRONG_ID, V2_SHOW_BAD_SELF_LINK, V2_SHOW_LOCAL_TIMESTAMP,
    V2_SHOW_UPDATED_BEFORE_CREATED, V2_SHOW_EXTRA_PROP_INT, V2_SHOW_ID_NOT_UUID, V2_SHOW_CHECKSUM_UPPERCASE,
    V2_SHOW_UNKNOWN_ID_200, V2_SHOW_MALFORMED_ID_500, V2_SHOW_DISAGREES_WITH_LIST, V2_LIST_NEXT_OFF_ORIGIN,
    V2_SHOW_ERROR_BODY_HTML,
    V1_HEAD_BODY_NOT_EMPTY, V1_HEAD_MISSING_STATUS, V1_HEAD_SIZE_NOT_INTEGER, V1_HEAD_BOOLEANS_NUMERIC,
    V1_HEAD_TIMESTAMP_ZULU, V1_HEAD_STATUS_BOGUS, V1_HEAD_WRONG_ID, V1_HEAD_UNKNOWN_ID_200,
    V1_HEAD_MALFORMED_ID_500, V1_HEAD_ETAG_MISMATCH, V1_HEAD_NAME_DIFFERS, V1_HEAD_MIN_RAM_DIFFERS,
    V1_HEAD_PROPERTY_MISSING,
    V1_1_DETAIL_MISSING_FIELD, V1_1_DETAIL_PROPERTIES_LIST, *FILTER_FAULTS, V1_1_DETAIL_PAGINATION_SKIPS,
    V1_1_DETAIL_LIMIT_IGNORED,
    V1_1_DETAIL_SIZE_MIN_500, V1_1_DETAIL_BAD_SORT_KEY_200, V1_1_DETAIL_SHOWS_DELETED, V1_1_DETAIL_NONE_LITERAL,
    V1_HEAD_CHECKSUM_UPPERCASE, V1_1_DETAIL_ONLY_FIRST_FILTER, V1_1_DETAIL_COMBINED_DROPS_ONE,
    V1_1_DETAIL_FILTERS_ANY, V1_1_DETAIL_DOCUMENTED_FILTERS_ONLY,
    V2_SHOW_MISSING_TOKEN_200, V1_HEAD_ANY_TOKEN_200, V1_HEAD_ACTIVE_NO_SIZE,
    V1_HEAD_ACTIVE_NO_CHECKSUM, V1_1_DETAIL_UNAUTHENTICATED_403, V1_1_DETAIL_ACTIVE_SIZE_NULL,
    V1_1_DETAIL_ACTIVE_CHECKSUM_NULL, V1_HEAD_DELETED_AT_NOT_ISO,
    V2_SHOW_CHECKSUM_NUMBER, V2_SHOW_SUPPORT_FLAGS_COEXIST, V2_SHOW_OS_FEATURE_LIST_NOT_JSON,
    V2_SCHEMA_LACKS_DISK_FORMAT, V1_1_DETAIL_CHANGES_SINCE_DROPS_NEW_DELETED,
    V2_SHOW_TRUE_FLAGS_FALSE, V2_SHOW_BOOL_FLAGS_YES, V2_SHOW_PATTERNED_PROPS_BOGUS, V2_SHOW_TEXT_PROPS_NUMBERS,
    V2_SHOW_CORE_FIELDS_MISTYPED, *V2_LIST_FAULTS,
)

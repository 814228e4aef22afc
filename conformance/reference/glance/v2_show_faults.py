"""The faults of the reference's v2 show (and of the serializer v2 show and list share): name, requirement it breaks,
what else it breaks by its nature, and the probe that sees it.

Body changes are made where show and list share the serializer (so show still agrees with list), except the id
changes, which would break discovery. A body change is therefore seen by the v2 list too: each such fault names the
v2 list requirements it breaks by that nature (the page schema; the filters, sorting and paging that read the
changed field) in its also_breaks.
"""

from __future__ import annotations

import json

from conformance.reference.glance.fault_probes import (
    MALFORMED,
    UNKNOWN,
    UUID,
    VIVADO,
    HttpFault,
    list_disagrees_with_show,
    show,
    updated_before_created,
)
from conformance.reference.glance.images import image_by_key
from conformance.reference.glance.probe import HttpProbe

V2_SHOW = "glance.v2.show"

# -- glance.v2.show ------------------------------------------------------------------------------------------------

V2_SHOW_CONTENT_TYPE_TEXT = HttpFault(
    "v2-show-content-type-text", V2_SHOW, "GLANCE-V2-SHOW-200-JSON",
    "Show answers 200 with the JSON body labelled Content-Type text/plain.",
    probe=lambda http: http.get(f"/v2/images/{VIVADO.id}").mimetype == "text/plain")
V2_SHOW_STATUS_BOGUS = HttpFault(
    "v2-show-status-bogus", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "Every image reports status \"available\", which is not a documented status.",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-LIST-SCHEMA", "GLANCE-V2-LIST-SORT"),
    probe=lambda http: show(http)["status"] == "available")
V2_SHOW_MIN_RAM_STRING = HttpFault(
    "v2-show-min-ram-string", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "min_ram is a string such as \"512\" instead of an integer.",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: isinstance(show(http)["min_ram"], str))
V2_SHOW_OS_TYPE_BOGUS = HttpFault(
    "v2-show-os-type-bogus", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "__os_type is \"Solaris\" on every image that has it.",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: show(http)["__os_type"] == "Solaris")
V2_SHOW_MISSING_ID = HttpFault(
    "v2-show-missing-id", V2_SHOW, "GLANCE-V2-SHOW-SCHEMA",
    "The show body has no id field.",
    also_breaks=("GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V2-SHOW-AGREES-WITH-LIST", "GLANCE-V2-LIST-AGREES-WITH-SHOW"),
    probe=lambda http: "id" not in show(http))
V2_SHOW_WRONG_ID = HttpFault(
    "v2-show-wrong-id", V2_SHOW, "GLANCE-V2-SHOW-ID-MATCHES",
    "The show body's id is the id of another image (the rest of the body is the requested image's).",
    also_breaks=("GLANCE-V2-SHOW-AGREES-WITH-LIST", "GLANCE-V2-LIST-AGREES-WITH-SHOW"),
    probe=lambda http: show(http)["id"] != VIVADO.id)
V2_SHOW_BAD_SELF_LINK = HttpFault(
    "v2-show-bad-self-link", V2_SHOW, "GLANCE-V2-SHOW-LINKS",
    "self points to /v2/images/<another image's id>.",
    probe=lambda http: show(http)["self"] != f"/v2/images/{VIVADO.id}")
V2_SHOW_LOCAL_TIMESTAMP = HttpFault(
    "v2-show-local-timestamp", V2_SHOW, "GLANCE-V2-SHOW-TIMESTAMPS",
    "created_at is written as local time without T or zone, e.g. \"2018-09-06 14:03:27\".",
    also_breaks=("GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: "T" not in show(http)["created_at"])
V2_SHOW_UPDATED_BEFORE_CREATED = HttpFault(
    "v2-show-updated-before-created", V2_SHOW, "GLANCE-V2-SHOW-TIMESTAMPS",
    "updated_at is one day earlier than created_at.",
    also_breaks=("GLANCE-V2-LIST-SORT", "GLANCE-V1-HEAD-TIMESTAMPS"),
    probe=updated_before_created)
V2_SHOW_EXTRA_PROP_INT = HttpFault(
    "v2-show-extra-prop-int", V2_SHOW, "GLANCE-V2-SHOW-EXTRA-PROPS-STRINGS",
    "The undocumented custom property build_number is a JSON integer (added as 0 where absent).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: isinstance(show(http).get("build_number"), int))
V2_SHOW_ID_NOT_UUID = HttpFault(
    "v2-show-id-not-uuid", V2_SHOW, "GLANCE-V2-SHOW-ID-UUID",
    "An extra image with the id legacy-image-0001 is listed first and shown consistently (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V1-HEAD-200-EMPTY-BODY",
                 "GLANCE-V1-1-DETAIL-AGREES-WITH-V2", "GLANCE-V2-LIST-DEFAULT-ORDER", "GLANCE-V2-LIST-FILTER-COMPLETE",
                 "GLANCE-V2-LIST-FILTER-CONTAINER-FORMAT", "GLANCE-V2-LIST-FILTER-CREATED-AT",
                 "GLANCE-V2-LIST-FILTER-DISK-FORMAT", "GLANCE-V2-LIST-FILTER-ID", "GLANCE-V2-LIST-FILTER-OS-HIDDEN",
                 "GLANCE-V2-LIST-FILTER-OWNER", "GLANCE-V2-LIST-FILTER-PROPERTY", "GLANCE-V2-LIST-FILTER-PROTECTED",
                 "GLANCE-V2-LIST-FILTER-SIZE-MAX", "GLANCE-V2-LIST-FILTER-SIZE-MIN", "GLANCE-V2-LIST-FILTER-STATUS",
                 "GLANCE-V2-LIST-FILTER-UPDATED-AT", "GLANCE-V2-LIST-FILTER-VISIBILITY",
                 "GLANCE-V2-LIST-IN-QUOTING", "GLANCE-V2-LIST-LIMIT", "GLANCE-V2-LIST-SCHEMA",
                 "GLANCE-V2-LIST-SORT"),
    probe=lambda http: any(not UUID.fullmatch(entry["id"])
                           for entry in http.get("/v2/images?limit=3").json()["images"]))
V2_SHOW_CHECKSUM_UPPERCASE = HttpFault(
    "v2-show-checksum-uppercase", V2_SHOW, "GLANCE-V2-SHOW-CHECKSUM-FORMAT",
    "checksum is written in upper-case hex, in show and list alike (ims accepts any string: judged under glance).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V2-LIST-SCHEMA"), profile="glance",
    probe=lambda http: show(http)["checksum"] == str(VIVADO.checksum).upper())
V2_SHOW_UNKNOWN_ID_200 = HttpFault(
    "v2-show-unknown-id-200", V2_SHOW, "GLANCE-V2-SHOW-404",
    "A well-formed UUID that names no live image answers 200 with another image's body.",
    probe=lambda http: http.get(f"/v2/images/{UNKNOWN}").status == 200)
V2_SHOW_MALFORMED_ID_500 = HttpFault(
    "v2-show-malformed-id-500", V2_SHOW, "GLANCE-V2-SHOW-MALFORMED-ID",
    "An id with any character other than hex digits and dashes answers 500.",
    probe=lambda http: http.get(f"/v2/images/{MALFORMED}").status == 500)
V2_SHOW_DISAGREES_WITH_LIST = HttpFault(
    "v2-show-disagrees-with-list", V2_SHOW, "GLANCE-V2-SHOW-AGREES-WITH-LIST",
    "List entries carry a different name (suffixed \" (listed)\") than show reports.",
    also_breaks=("GLANCE-V2-LIST-AGREES-WITH-SHOW", "GLANCE-V2-LIST-FILTER-COMPLETE", "GLANCE-V2-LIST-FILTER-NAME",
                 "GLANCE-V2-LIST-IN-QUOTING"),
    probe=list_disagrees_with_show)
V2_LIST_NEXT_OFF_ORIGIN = HttpFault(
    "v2-list-next-off-origin", V2_SHOW, "GLANCE-V2-SHOW-AGREES-WITH-LIST",
    "The first page of GET /v2/images links `next` as `@127.0.0.1:<port+1>/v2/images?marker=…`, which glued onto "
    "the endpoint would send the token to another port.",
    probe=lambda http: not str(http.get("/v2/images").json().get("next", "/")).startswith("/"))
V2_SHOW_ERROR_BODY_HTML = HttpFault(
    "v2-show-error-body-html", V2_SHOW, "GLANCE-V2-SHOW-ERROR-BODY",
    "Show's 404 body is HTML even when the client asks for JSON.",
    probe=lambda http: http.get(f"/v2/images/{UNKNOWN}").mimetype == "text/html")
V2_SHOW_MISSING_TOKEN_200 = HttpFault(
    "v2-show-missing-token-200", V2_SHOW, "GLANCE-V2-SHOW-401",
    "Show answers 200 to a request without X-Auth-Token (a forged token still gets 401).",
    probe=lambda http: http.with_token(None).get(f"/v2/images/{VIVADO.id}").status == 200)

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
        json.loads(show(http, _EULEROS.id)["__os_feature_list"])
    except ValueError:
        return True
    return False


V2_SHOW_CHECKSUM_NUMBER = HttpFault(
    "v2-show-checksum-number", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "checksum is a JSON number instead of a string, in show and list alike.",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-OWN-SCHEMA", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: isinstance(show(http)["checksum"], int))
V2_SHOW_SUPPORT_FLAGS_COEXIST = HttpFault(
    "v2-show-support-flags-coexist", V2_SHOW, "GLANCE-V2-SHOW-SUPPORT-NOT-COEXIST",
    "Every image with a GPU, HANA or Infiniband support property also says __support_xen: true (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V1-HEAD-PROPERTIES",
                 "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: "__support_xen" in show(http, _SUSE.id))
V2_SHOW_OS_FEATURE_LIST_NOT_JSON = HttpFault(
    "v2-show-os-feature-list-not-json", V2_SHOW, "GLANCE-V2-SHOW-OS-FEATURE-LIST-JSON",
    "__os_feature_list is written as a Python literal ({'key': 'true'}), not JSON (in v2 only).",
    also_breaks=("GLANCE-V1-HEAD-PROPERTIES",),
    probe=_os_feature_list_not_json)
V2_SCHEMA_LACKS_DISK_FORMAT = HttpFault(
    "v2-schema-lacks-disk-format", V2_SHOW, "GLANCE-V2-SHOW-OWN-SCHEMA",
    f"/v2/schemas/image leaves {UNLISTED_DISK_FORMAT} out of disk_format although images use it (judged under "
    "glance, whose v2, v1 and v1.1 format lists come from the target's schema).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V1-HEAD-ENUMS",
                 "GLANCE-V1-1-DETAIL-SCHEMA", "GLANCE-V2-LIST-SCHEMA"), profile="glance",
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


V2_SHOW_TRUE_FLAGS_FALSE = HttpFault(
    "v2-show-true-flags-false", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "The support flags documented as \"true\" or absent (__support_kvm, __support_xen, ...) are \"false\" where "
    "present (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: show(http, _WINDOWS_2019.id)["__support_xen"] == "false")
V2_SHOW_BOOL_FLAGS_YES = HttpFault(
    "v2-show-bool-flags-yes", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "The flags documented as \"true\" or \"false\" (__isregistered, __support_amd, ...) are \"yes\" where present "
    "(in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: show(http, _WINDOWS_2019.id)["__is_config_init"] == "yes")
V2_SHOW_PATTERNED_PROPS_BOGUS = HttpFault(
    "v2-show-patterned-props-bogus", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "Vendor properties with documented values or forms (__image_size, __root_origin, __support_agent_list, "
    "__platform, ...) carry an undocumented one where present, e.g. __image_size \"0\" (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: show(http, _WEB_SERVER.id)["__image_size"] == "0")
V2_SHOW_TEXT_PROPS_NUMBERS = HttpFault(
    "v2-show-text-props-numbers", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "Free-text vendor properties (__description, __backup_id, __image_location, ...) are JSON numbers (their "
    "length) instead of strings where present (in v2 only).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V1-HEAD-PROPERTIES", "GLANCE-V2-SHOW-OWN-SCHEMA",
                 "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: isinstance(show(http, _WEB_SERVER.id)["__description"], int))
V2_SHOW_CORE_FIELDS_MISTYPED = HttpFault(
    "v2-show-core-fields-mistyped", V2_SHOW, "GLANCE-V2-SHOW-FIELD-VALUES",
    "The core fields without a fault of their own have the wrong JSON type: name, owner, container_format and "
    "updated_at are numbers, protected, size, virtual_size and min_disk strings, tags a comma-joined string, "
    "visibility \"everyone\", self, file and schema null (in show and list alike).",
    also_breaks=("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-LINKS", "GLANCE-V2-SHOW-TIMESTAMPS",
                 "GLANCE-V2-SHOW-OWN-SCHEMA", "GLANCE-V1-HEAD-AGREES-WITH-V2", "GLANCE-V1-1-DETAIL-AGREES-WITH-V2",
                 "GLANCE-V2-LIST-FILTER-COMPLETE", "GLANCE-V2-LIST-FILTER-SOUND", "GLANCE-V2-LIST-FILTER-CREATED-AT",
                 "GLANCE-V2-LIST-FILTER-DISK-FORMAT", "GLANCE-V2-LIST-FILTER-ID", "GLANCE-V2-LIST-FILTER-OS-HIDDEN",
                 "GLANCE-V2-LIST-FILTER-PROPERTY", "GLANCE-V2-LIST-FILTER-STATUS",
                 "GLANCE-V2-LIST-FILTER-VISIBILITY", "GLANCE-V2-LIST-SCHEMA"),
    probe=lambda http: isinstance(show(http)["min_disk"], str) and show(http)["self"] is None)

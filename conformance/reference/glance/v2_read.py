"""Glance v2 reads: show one image, list them, and serve the image schemas."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

from werkzeug.wrappers import Request

from conformance.reference.glance import faults as F
from conformance.reference.glance import projects
from conformance.reference.glance import seed_faults as S
from conformance.reference.glance.images import Image, format_v2_time
from conformance.reference.glance.responses import WSGIApp, clip, error, json_answer
from conformance.reference.glance.state import AppState

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
HEX_AND_DASHES = re.compile(r"[0-9a-fA-F-]+")
LEGACY_ID = "legacy-image-0001"  # the extra image of F.V2_SHOW_ID_NOT_UUID


def show(state: AppState, request: Request, image_id: str) -> WSGIApp:
    """GET /v2/images/{id}: the image, or 404 when it is missing or deleted."""
    if F.V2_SHOW_MALFORMED_ID_500 in state.faults and not HEX_AND_DASHES.fullmatch(image_id):
        return error(request, 500, "Internal server error.")
    if S.MALFORMED_ID_422 in state.faults and not HEX_AND_DASHES.fullmatch(image_id):
        return error(request, 422, f"Unprocessable image id {clip(image_id)}.")
    if F.V2_SHOW_ID_NOT_UUID in state.faults and image_id == LEGACY_ID:
        return json_answer(legacy_body(state))
    image = state.store.find(image_id)
    if image is None or image.deleted or projects.hidden(state, request, image, "v2"):
        if not (F.V2_SHOW_UNKNOWN_ID_200 in state.faults and UUID.fullmatch(image_id)):
            html = F.V2_SHOW_ERROR_BODY_HTML in state.faults
            return error(request, 404, f"No image found with ID {clip(image_id)}.", html=html)
        image = state.store.live()[0]
    body = image_body(state, image)
    if F.V2_SHOW_MISSING_ID in state.faults:
        del body["id"]
    if F.V2_SHOW_WRONG_ID in state.faults:
        body["id"] = state.store.other(image).id
    mimetype = "text/plain" if F.V2_SHOW_CONTENT_TYPE_TEXT in state.faults else "application/json"
    return json_answer(body, mimetype=mimetype)


def image_body(state: AppState, image: Image) -> dict[str, Any]:
    """The v2 representation of `image`, shared by show, list and writes (so body faults keep them agreeing)."""
    faults = state.faults
    created_at = format_v2_time(image.created_at)
    if F.V2_SHOW_LOCAL_TIMESTAMP in faults:
        created_at = image.created_at.strftime("%Y-%m-%d %H:%M:%S")
    updated_at = format_v2_time(image.updated_at)
    if F.V2_SHOW_UPDATED_BEFORE_CREATED in faults:
        updated_at = format_v2_time(image.created_at - timedelta(days=1))
    checksum: str | int | None = image.checksum
    if image.checksum and F.V2_SHOW_CHECKSUM_UPPERCASE in faults:
        checksum = image.checksum.upper()
    if image.checksum and F.V2_SHOW_CHECKSUM_NUMBER in faults:
        checksum = int(image.checksum, 16) % 10**9
    self_id = state.store.other(image).id if F.V2_SHOW_BAD_SELF_LINK in faults else image.id
    body: dict[str, Any] = {
        "id": image.id,
        "name": image.name,
        "status": "available" if F.V2_SHOW_STATUS_BOGUS in faults else image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "checksum": checksum,
        "owner": image.owner,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "container_format": image.container_format,
        "disk_format": image.disk_format,
        "created_at": created_at,
        "updated_at": updated_at,
        "min_ram": str(image.min_ram) if F.V2_SHOW_MIN_RAM_STRING in faults else image.min_ram,
        "min_disk": image.min_disk,
        "tags": list(image.tags),
        "self": f"/v2/images/{self_id}",
        "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
    }
    body.update(image.properties)
    if image.os_hidden:  # only where true: upstream shows it always, the vendor documents never
        body["os_hidden"] = True
    if F.V2_SHOW_OS_TYPE_BOGUS in faults and "__os_type" in body:
        body["__os_type"] = "Solaris"
    if F.V2_SHOW_SUPPORT_FLAGS_COEXIST in faults and any(key in body for key in F.EXCLUSIVE_SUPPORT_FLAGS):
        body["__support_xen"] = "true"
    if F.V2_SHOW_OS_FEATURE_LIST_NOT_JSON in faults and "__os_feature_list" in body:
        body["__os_feature_list"] = repr(json.loads(body["__os_feature_list"]))
    if F.V2_SHOW_CORE_FIELDS_MISTYPED in faults:
        _mistype_core_fields(body)
    if S.V2_ORIGINAL_IMAGE_NAMED in faults and body.get("__originalimagename"):
        parent = state.store.find(body["__originalimagename"])
        body["__originalimagename"] = parent.name if parent is not None else "parent image"
    if S.V2_PUBLIC_DATA_ORIGIN in faults and image.visibility == "public":
        body["__data_origin"] = f"instance,{state.store.other(image).id}"
    _break_vendor_properties(faults, body)
    if F.V2_SHOW_EXTRA_PROP_INT in faults:
        body["build_number"] = int(image.properties.get("build_number", "0"))
    return body


def _mistype_core_fields(body: dict[str, Any]) -> None:
    """F.V2_SHOW_CORE_FIELDS_MISTYPED: the core fields no other fault breaks, each of a wrong JSON type."""
    body.update(
        name=len(body["name"]), owner=int(body["owner"][:8], 16), updated_at=int(body["updated_at"][:4]),
        protected=str(body["protected"]), size=str(body["size"]), virtual_size=str(body["virtual_size"]),
        min_disk=str(body["min_disk"]), tags=",".join(body["tags"]), visibility="everyone",
        container_format=len(body["container_format"] or ""), self=None, file=None, schema=None,
    )


def _break_vendor_properties(faults: frozenset[Any], body: dict[str, Any]) -> None:
    """The faults that give seed 001's vendor properties undocumented values, one fault per kind of rule."""
    present = [key for key in body if key.startswith(("__", "hw_", "virtual_", "max_", "enterprise_", "active_"))]
    for key in present:
        if F.V2_SHOW_TRUE_FLAGS_FALSE in faults and key in F.TRUE_FLAGS:
            body[key] = "false"
        if F.V2_SHOW_BOOL_FLAGS_YES in faults and key in F.BOOL_FLAGS:
            body[key] = "yes"
        if F.V2_SHOW_PATTERNED_PROPS_BOGUS in faults and key in F.PATTERNED:
            body[key] = F.PATTERNED[key]
        if F.V2_SHOW_TEXT_PROPS_NUMBERS in faults and key in F.TEXT_PROPS:
            body[key] = len(body[key])


def legacy_body(state: AppState) -> dict[str, Any]:
    """An extra image whose id is not a UUID (F.V2_SHOW_ID_NOT_UUID), consistent in list and show."""
    body = image_body(state, state.store.live()[0])
    body.update(id=LEGACY_ID, self=f"/v2/images/{LEGACY_ID}", file=f"/v2/images/{LEGACY_ID}/file")
    return body


@cache
def _schema_text() -> str:
    return resources.files("conformance.reference.glance").joinpath("image_schema.json").read_text(encoding="utf-8")


def image_schema(state: AppState | None = None) -> dict[str, Any]:
    """A JSON Schema of a v2 image like upstream's /v2/schemas/image, with this deployment's disk formats."""
    schema: dict[str, Any] = json.loads(_schema_text())
    if state is not None:
        disk_formats: list[str | None] = schema["properties"]["disk_format"]["enum"]
        disk_formats.extend(f for f in state.extra_disk_formats if f not in disk_formats)
        if F.V2_SCHEMA_LACKS_DISK_FORMAT in state.faults:
            disk_formats.remove(F.UNLISTED_DISK_FORMAT)
    return schema


def image_schema_answer(state: AppState, request: Request) -> WSGIApp:
    """GET /v2/schemas/image."""
    return json_answer(image_schema(state))


def images_schema_answer(state: AppState, request: Request) -> WSGIApp:
    """GET /v2/schemas/images: a page of the list, its items the image schema."""
    return json_answer({
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image_schema(state)},
            "schema": {"type": "string"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}],
    })

"""Glance v2 writes (write mode): create, upload, update and delete, on the app's own copy of the catalogue."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

from werkzeug.wrappers import Request, Response

from conformance.reference.glance import projects
from conformance.reference.glance import seed_faults as S
from conformance.reference.glance.images import Image
from conformance.reference.glance.responses import WSGIApp, clip, error, json_answer
from conformance.reference.glance.state import AppState, Refused
from conformance.reference.glance.v2_read import UUID, image_body, image_schema

JSON_PATCH_TYPES = ("application/openstack-images-v2.1-json-patch", "application/openstack-images-v2.0-json-patch")
MAX_UPLOAD = 64 * 1024 * 1024  # bytes of image data the reference keeps in memory per upload
# Upstream glance/api/v2/images.py: fields a client may not set, and names reserved for the server.
READ_ONLY = frozenset({"created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url",
                       "self", "file", "schema", "os_hash_algo", "os_hash_value", "stores", "locations"})
RESERVED = frozenset({"location", "deleted", "deleted_at"})
# Writable core fields and their values when a create body leaves them out (visibility: upstream's default).
_CORE_DEFAULTS: dict[str, Any] = {
    "name": "", "visibility": "shared", "protected": False, "min_ram": 0, "min_disk": 0, "tags": (),
    "disk_format": None, "container_format": None, "owner": projects.RUN_PROJECT, "os_hidden": False,
}


def create(state: AppState, request: Request) -> WSGIApp:
    """POST /v2/images: a queued image from the body; 201 with Location."""
    try:
        body = json_body(request, ("application/json",), dict)
        image = _new_image(body, now(), state.faults, owner=projects.caller(state, request))
        state.store.add(image)
    except Refused as exc:
        return error(request, exc.code, str(exc))
    response = json_answer(image_body(state, image))
    response.status_code = 201
    response.headers["Location"] = f"/v2/images/{image.id}"
    return response


def upload(state: AppState, request: Request, image_id: str) -> WSGIApp:
    """PUT /v2/images/{id}/file: the data of a queued image, which becomes active; 204."""
    if request.mimetype != "application/octet-stream":
        return error(request, 415, "Image data must be sent as application/octet-stream.")
    if (request.content_length or 0) > MAX_UPLOAD:
        return error(request, 413, f"Image data larger than {MAX_UPLOAD} bytes.")
    data = request.get_data(cache=False)

    def activate(image: Image) -> Image:
        if image.status != "queued":
            raise Refused(409, f"Image status transition from {image.status} to saving is not allowed")
        return replace(image, status="active", size=len(data), checksum=hashlib.md5(data).hexdigest(),
                       updated_at=now())

    try:
        state.store.update(image_id, activate)
    except Refused as exc:
        return error(request, exc.code, str(exc))
    return Response(status=204)


def update(state: AppState, request: Request, image_id: str) -> WSGIApp:
    """PATCH /v2/images/{id}: JSON-patch operations applied in one step; the changed image."""
    try:
        operations = json_body(request, JSON_PATCH_TYPES, list)
        image = state.store.update(image_id, lambda image: _patched(image, operations, now()))
    except Refused as exc:
        return error(request, exc.code, str(exc))
    return json_answer(image_body(state, image))


def delete(state: AppState, request: Request, image_id: str) -> WSGIApp:
    """DELETE /v2/images/{id}: the image is marked deleted (403 when protected); 204."""

    if S.PROTECTED_DELETE_ACCEPTED in state.faults:
        image = state.store.find(image_id)
        if image is not None and image.protected and not image.deleted:
            return Response(status=202)

    def mark_deleted(image: Image) -> Image:
        if image.protected:
            raise Refused(403, f"Image {image.id} is protected and cannot be deleted.")
        moment = now()
        return replace(image, status="deleted", deleted=True, deleted_at=moment, updated_at=moment)

    try:
        state.store.update(image_id, mark_deleted)
    except Refused as exc:
        return error(request, exc.code, str(exc))
    return Response(status=204)


def now() -> datetime:
    """The moment of a write, in UTC."""
    return datetime.now(timezone.utc)


def json_body(request: Request, media_types: tuple[str, ...], kind: type) -> Any:
    """The request's JSON body of the expected kind (a dict or a list); Refused (415, 400) otherwise."""
    if request.mimetype not in media_types:
        raise Refused(415, f"Content-Type must be {' or '.join(media_types)}, got {request.mimetype or 'none'!r}")
    try:
        body = json.loads(request.get_data())
    except ValueError:
        raise Refused(400, "The request body is not valid JSON.") from None
    if not isinstance(body, kind):
        raise Refused(400, f"The request body must be a JSON {'object' if kind is dict else 'array'}.")
    return body


def _new_image(body: Mapping[str, Any], now: datetime, faults: frozenset[Any] = frozenset(),
               owner: str = projects.RUN_PROJECT) -> Image:
    """The queued image a create body describes, owned by the caller's project unless the body names an owner (the id
    taken from the body when given, like upstream)."""
    for key in body:
        _check_settable(key)
    image_id = body.get("id", str(uuid.uuid4()))
    if not isinstance(image_id, str) or not UUID.fullmatch(image_id):
        raise Refused(400, f"id must be a UUID, got {clip(str(image_id))!r}")
    core = {key: _core_value(key, body[key]) for key in _CORE_DEFAULTS if key in body}
    if "disk_format" not in body:  # seed 001: 默认值是vhd (upstream leaves it null until it is set)
        core["disk_format"] = S.DEFAULT_DISK_FORMAT_FAULTY if S.DISK_FORMAT_DEFAULT_RAW in faults else "vhd"
    # Simplifications of the reference: a missing name is "", and container_format is required up front.
    if core.get("container_format") is None:
        raise Refused(400, "container_format is required by this reference target")
    extra = {key: _property_value(key, value) for key, value in body.items()
             if key not in _CORE_DEFAULTS and key != "id"}
    fields = {**_CORE_DEFAULTS, "owner": owner, **core}
    return Image(
        id=image_id, status="queued", checksum=None, size=None, virtual_size=None, created_at=now,
        updated_at=now, deleted_at=None, deleted=False, properties=MappingProxyType(extra), **fields,
    )


def _check_settable(key: str) -> None:
    if key in READ_ONLY:
        raise Refused(403, f"Attribute '{key}' is read-only.")
    if key in RESERVED:
        raise Refused(403, f"Attribute '{key}' is reserved.")


def _core_value(key: str, value: Any) -> Any:
    """`value` checked against /v2/schemas/image for the writable core field `key`; Refused (400) otherwise."""
    spec: dict[str, Any] = image_schema()["properties"].get(key, {"maxLength": 255})  # owner, os_hidden: not there
    if key in ("min_ram", "min_disk"):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif key in ("protected", "os_hidden"):
        ok = isinstance(value, bool)
    elif key == "tags":
        ok = isinstance(value, list) and all(isinstance(tag, str) and len(tag) <= 255 for tag in value)
        value = tuple(dict.fromkeys(value)) if ok else value
    elif "enum" in spec:
        ok = value in spec["enum"] and value is not None
    else:
        ok = isinstance(value, str) and len(value) <= spec.get("maxLength", 255)
    if not ok:
        raise Refused(400, f"Invalid value for {key}: {clip(json.dumps(value, ensure_ascii=False))}")
    return value


def _property_value(key: str, value: Any) -> str:
    """An extra property: a string of at most 255 characters under a key of at most 255 (upstream schema)."""
    if not isinstance(value, str) or len(value) > 255 or len(key) > 255 or not key:
        raise Refused(400, f"Extra property {clip(key)!r} must be a string of at most 255 characters")
    return value


def _patched(image: Image, operations: list[Any], now: datetime) -> Image:
    """`image` with JSON-patch `operations` applied (add, replace, remove); Refused when one is not allowed."""
    core: dict[str, Any] = {}
    extra = dict(image.properties)
    for operation in operations:
        if not isinstance(operation, dict) or operation.get("op") not in ("add", "replace", "remove"):
            raise Refused(400, "Each operation must be an object with op add, replace or remove.")
        path = operation.get("path")
        if not isinstance(path, str) or not path.startswith("/") or "/" in path[1:]:
            raise Refused(400, f"Invalid JSON pointer for this resource: {clip(str(path))!r}")
        key = path[1:].replace("~1", "/").replace("~0", "~")
        _check_settable(key)
        if key == "id":
            raise Refused(403, "Attribute 'id' is read-only.")
        if operation["op"] != "remove" and "value" not in operation:
            raise Refused(400, f"Operation {operation['op']} needs a value.")
        if key in _CORE_DEFAULTS:
            if operation["op"] == "remove":
                raise Refused(403, f"Cannot remove the base attribute '{key}'.")
            core[key] = _core_value(key, operation["value"])
        elif operation["op"] == "add":
            extra[key] = _property_value(key, operation["value"])
        elif key not in extra:
            raise Refused(409, f"Property {clip(key)!r} does not exist.")
        elif operation["op"] == "remove":
            del extra[key]
        else:
            extra[key] = _property_value(key, operation["value"])
    return replace(image, **core, properties=MappingProxyType(extra), updated_at=now)

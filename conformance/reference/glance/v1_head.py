"""Glance v1 HEAD /v1/images/{id}: the image's metadata as X-Image-Meta-* headers, as Glance v1 wrote them."""

from __future__ import annotations

import hashlib
from datetime import datetime

from werkzeug.wrappers import Request, Response

from conformance.reference.glance import faults as F
from conformance.reference.glance import seed_faults as S
from conformance.reference.glance.images import Image, format_v1_time
from conformance.reference.glance.responses import WSGIApp, clip, error, header_text, raw_answer
from conformance.reference.glance.state import AppState
from conformance.reference.glance.v2_read import HEX_AND_DASHES, UUID


def head(state: AppState, request: Request, image_id: str) -> WSGIApp:
    """HEAD /v1/images/{id}: 200 with the headers and no body (deleted images too, as upstream answers admin), or
    404."""
    if F.V1_HEAD_MALFORMED_ID_500 in state.faults and not HEX_AND_DASHES.fullmatch(image_id):
        return error(request, 500, "Internal server error.")
    if S.MALFORMED_ID_422 in state.faults and not HEX_AND_DASHES.fullmatch(image_id):
        return error(request, 422, f"Unprocessable image id {clip(image_id)}.")
    image = state.store.find(image_id)
    if image is None:
        if not (F.V1_HEAD_UNKNOWN_ID_200 in state.faults and UUID.fullmatch(image_id)):
            return error(request, 404, f"Image {clip(image_id)} not found.")
        image = state.store.live()[0]
    headers = _headers(state, image)
    if F.V1_HEAD_BODY_NOT_EMPTY in state.faults:
        # werkzeug's Response drops HEAD bodies, so the fault writes the raw WSGI answer itself.
        return raw_answer("200 OK", headers, f"{image.id}\n".encode())
    return Response(status=200, headers=headers, content_type="text/html; charset=UTF-8")


def _headers(state: AppState, image: Image) -> list[tuple[str, str]]:
    """The X-Image-Meta-* headers of `image` as Glance v1 wrote them; None values are left out."""
    faults = state.faults

    def boolean(value: bool) -> str:
        if F.V1_HEAD_BOOLEANS_NUMERIC in faults:
            return "1" if value else "0"
        return str(value)

    def stamp(value: datetime) -> str:
        if S.V1_HEAD_LOCAL_TIME in faults:
            value = value + S.LOCAL_OFFSET  # written as if it were UTC: the zone is lost
        return format_v1_time(value) + ("Z" if F.V1_HEAD_TIMESTAMP_ZULU in faults else "")

    def deleted_stamp(value: datetime) -> str:
        if F.V1_HEAD_DELETED_AT_NOT_ISO in faults:
            return value.strftime("%a, %d %b %Y %H:%M:%S GMT")  # an HTTP date, not Glance v1's naive ISO 8601
        return stamp(value)

    active = image.status == "active"
    size = None if image.size is None else str(image.size)
    if size is not None and F.V1_HEAD_SIZE_NOT_INTEGER in faults:
        size += ".0"
    if active and F.V1_HEAD_ACTIVE_NO_SIZE in faults:
        size = None
    checksum = image.checksum
    if checksum and F.V1_HEAD_CHECKSUM_UPPERCASE in faults:
        checksum = checksum.upper()
    if active and F.V1_HEAD_ACTIVE_NO_CHECKSUM in faults:
        checksum = None
    meta: dict[str, str | None] = {
        "Id": state.store.other(image).id if F.V1_HEAD_WRONG_ID in faults else image.id,
        "Name": image.name + (" (v1)" if F.V1_HEAD_NAME_DIFFERS in faults else ""),
        "Status": "available" if F.V1_HEAD_STATUS_BOGUS in faults else image.status,
        "Size": size,
        "Virtual_size": None if image.virtual_size is None else str(image.virtual_size),
        "Disk_format": image.disk_format,
        "Container_format": image.container_format,
        "Min_disk": str(image.min_disk),
        "Min_ram": str(image.min_ram + (512 if F.V1_HEAD_MIN_RAM_DIFFERS in faults else 0)),
        "Is_public": boolean(S.is_public(state.faults, image)),
        "Checksum": checksum,
        "Owner": image.owner,
        "Protected": boolean(image.protected),
        "Created_at": stamp(image.created_at),
        "Updated_at": stamp(image.updated_at),
        "Deleted_at": None if image.deleted_at is None else deleted_stamp(image.deleted_at),
        "Deleted": boolean(image.deleted),
    }
    if F.V1_HEAD_MISSING_STATUS in faults:
        del meta["Status"]
    headers = [(f"X-Image-Meta-{field}", header_text(value)) for field, value in meta.items() if value is not None]
    properties = sorted(image.properties.items())
    if F.V1_HEAD_PROPERTY_MISSING in faults:
        properties = properties[1:]
    headers += [(f"X-Image-Meta-Property-{key}", header_text(value)) for key, value in properties]
    if checksum:
        etag = checksum
        if F.V1_HEAD_ETAG_MISMATCH in faults:
            etag = hashlib.md5(etag.encode()).hexdigest()
        headers.append(("ETag", etag))
    return headers

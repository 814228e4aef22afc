"""Glance v2 image members (write mode with a second project): the owner shares an image, the member answers.

Written from upstream's api-ref "Sharing": "Create image member" (POST /v2/images/{image_id}/members: the image
must exist, be shared and be the caller's; 403 when it is not shared; 409 when the project is a member already; 200
with the member, status pending) and "Update image member" (PUT /v2/images/{image_id}/members/{member_id}: only the
member changes its status, to accepted, pending or rejected; 200 with the member).
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from werkzeug.wrappers import Request

from conformance.reference.glance import projects
from conformance.reference.glance import v2_list_faults as L
from conformance.reference.glance.images import MEMBER_STATUSES, Image, Member, format_v2_time
from conformance.reference.glance.responses import WSGIApp, clip, error, json_answer
from conformance.reference.glance.state import AppState, Refused
from conformance.reference.glance.v2_write import json_body, now

MEMBER_SCHEMA = "/v2/schemas/member"
MAX_MEMBER = 255  # upstream's member column


def add_member(state: AppState, request: Request, image_id: str) -> WSGIApp:
    """POST /v2/images/{id}/members: the project `member` of the body becomes a pending member; 200 with it."""
    caller = projects.caller(state, request)

    def share(image: Image) -> Image:
        _check_visible(state, request, image)
        if image.owner != caller:
            raise Refused(403, "You are not permitted to create image members for the image.")
        if image.visibility != "shared":
            raise Refused(403, "Only shared images have members.")
        if member in image.members:
            raise Refused(409, f"{clip(member)} is already a member of image {image.id}.")
        moment = now()
        return replace(image, members=MappingProxyType({**image.members, member: Member("pending", moment, moment)}))

    try:
        member = json_body(request, ("application/json",), dict).get("member")
        if not isinstance(member, str) or not member or len(member) > MAX_MEMBER:
            raise Refused(400, f"member must be a project id, got {clip(str(member))!r}")
        image = state.store.update(image_id, share)
    except Refused as exc:
        return error(request, exc.code, str(exc))
    return json_answer(member_body(image, member))


def update_member(state: AppState, request: Request, image_id: str, member_id: str) -> WSGIApp:
    """PUT /v2/images/{id}/members/{member_id}: the member sets its own status; 200 with the member."""
    caller = projects.caller(state, request)

    def answer(image: Image) -> Image:
        _check_visible(state, request, image)
        member = image.members.get(member_id)
        if member is None:
            raise Refused(404, f"{clip(member_id)} is not a member of image {image.id}.")
        if member_id != caller:
            raise Refused(403, "You are not permitted to modify 'status' on this image member.")
        kept = member.status if L.MEMBER_UPDATE_IGNORED in state.faults else status
        changed = Member(kept, member.created_at, now())
        return replace(image, members=MappingProxyType({**image.members, member_id: changed}))

    try:
        status = json_body(request, ("application/json",), dict).get("status")
        if status not in MEMBER_STATUSES:
            raise Refused(400, f"status must be accepted, pending or rejected, got {clip(str(status))!r}")
        image = state.store.update(image_id, answer)
    except Refused as exc:
        return error(request, exc.code, str(exc))
    return json_answer({**member_body(image, member_id), "status": status})  # a fault's answer says what was asked


def member_body(image: Image, member_id: str) -> dict[str, Any]:
    """The member document of upstream's api-ref: created_at, image_id, member_id, schema, status, updated_at."""
    member = image.members[member_id]
    return {"created_at": format_v2_time(member.created_at), "image_id": image.id, "member_id": member_id,
            "schema": MEMBER_SCHEMA, "status": member.status, "updated_at": format_v2_time(member.updated_at)}


def _check_visible(state: AppState, request: Request, image: Image) -> None:
    """Refused (404) when the caller may not see `image` (a second project that is no member of it)."""
    if projects.hidden(state, request, image, "v2"):
        raise Refused(404, f"No image found with ID {clip(image.id)}.")

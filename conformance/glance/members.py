"""Write mode with a second project (--allow-writes, --other-token): images the run shares with that project, each
left by it in its own member status, and how the second project's v2 listings must show them.

Upstream's api-ref "Sharing": the owner of a shared image adds a project as a member ("Create image member", POST
/v2/images/{image_id}/members, body {"member": <project id>}: the member starts pending), and only the member sets its
status ("Update image member", PUT /v2/images/{image_id}/members/{member_id}, body {"status": ...}). "List images":
visibility=shared lists the images shared with the caller in member_status (default accepted; all: any), and without
visibility only the accepted ones of them.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.evidence import Exchange, clip
from conformance.glance.v2_list_walks import Walk
from conformance.glance.write_mode import FixtureImage, ImageWriter, WriteModeFailed, WrittenImage
from conformance.targets.errors import TargetError
from conformance.targets.glance import GlanceClient, image_path
from conformance.targets.http import HttpResponse

# Each image the run shares, with the member status the second project leaves it in (pending: it does nothing).
SHARED: tuple[tuple[FixtureImage, str], ...] = tuple(
    (FixtureImage(f"shared-{status}", "raw", visibility="shared", tags=("member",)), status)
    for status in ("accepted", "pending", "rejected"))
# A private image the second project creates and deletes at once: its owner is the project id to add as a member
# (the documents give no other way to learn it from a token).
PROBE = FixtureImage("member-id-probe", "raw")
# The second project's listings judged (scoped to the run): visibility=shared with each member_status, with none, and
# the default listing (no visibility), which shows a shared image only when accepted.
QUERIES: tuple[dict[str, str], ...] = (
    {"visibility": "shared"},
    *({"visibility": "shared", "member_status": status} for status in ("accepted", "pending", "rejected", "all")),
    {},
)


@dataclass(frozen=True)
class SharedImage:
    """An image the run shared with the second project, and the member status that project left it in."""

    image: WrittenImage
    status: str

    @property
    def label(self) -> str:
        """How a problem line names it."""
        return f"{self.image.id} ({self.image.fixture.name}, shared with the second project, member status " \
               f"{self.status})"


@dataclass
class Membership:
    """What sharing with the second project came to: the images and their statuses, or why it stopped."""

    other: GlanceClient  # the second project's client, which lists them
    member_id: str | None = None  # the second project's id, as the owner of its own image showed it
    created: list[WrittenImage] = field(default_factory=list)  # by the run's project, shared or not
    images: list[SharedImage] = field(default_factory=list)
    refused: str | None = None  # a call the target refused: member_status is not judged on these images
    broken: list[tuple[str, Exchange]] = field(default_factory=list)  # a call the target failed (5xx)

    def summary(self) -> list[dict[str, Any]]:
        """The shared images as plain data for results.json."""
        return [{"id": s.image.id, "name": s.image.fixture.name, "member_status": s.status} for s in self.images]


def share_with_other_project(writer: ImageWriter, other_writer: ImageWriter, other: GlanceClient,
                             run_id: str) -> Membership:
    """Create SHARED as the run's project (through `writer`, whose ledger deletes them), add the second project as
    a member of each and let it accept or reject them (through `other_writer`); stops at the first call the target
    does not carry out."""
    membership = Membership(other)
    membership.member_id = _member_id(other_writer, run_id, membership)
    if membership.member_id is None:
        return membership
    for fixture, status in SHARED:
        try:
            image = writer.create(fixture, run_id)
        except WriteModeFailed as exc:
            membership.refused = str(exc).removeprefix("--allow-writes: ")
            return membership
        membership.created.append(image)
        path = f"{image_path('/v2', image.id)}/members"
        added = _carried_out(membership, writer, "POST", path, {"member": membership.member_id}, "the run's")
        if not added:
            return membership
        if status != "pending" and not _carried_out(membership, other_writer, "PUT", f"{path}/{membership.member_id}",
                                                    {"status": status}, "the second project's"):
            return membership
        membership.images.append(SharedImage(image, status))
    return membership


def _member_id(other_writer: ImageWriter, run_id: str, membership: Membership) -> str | None:
    """The second project's id: the owner of a private image it creates (deleted again at once); None, with the
    reason in `membership`, when the target would not tell."""
    try:
        probe = other_writer.create(PROBE, run_id)
    except WriteModeFailed as exc:
        membership.refused = f"the second project could not create an image to learn its project id: " \
                             f"{str(exc).removeprefix('--allow-writes: ')}"
        return None
    finally:
        other_writer.remove_all()
    if probe.owner is None:
        membership.refused = ("the second project's image shows no owner: its project id, the member to add, "
                              "is unknown")
    return probe.owner


def _carried_out(membership: Membership, writer: ImageWriter, method: str, path: str, payload: dict[str, str],
                 whose: str) -> bool:
    """Send one members call; False, noting why in `membership`, when the target refuses it (not judged) or fails
    it (5xx: a problem)."""
    call = f"{method} {path} with {whose} token"
    try:
        response: HttpResponse = writer.send(method, path, payload=payload)
    except TargetError as exc:
        membership.refused = f"{call}: no answer ({exc})"
        return False
    if 200 <= response.status < 300:
        return True
    line = f"{call} answered {response.status}, documented 200; {clip(response.text, 200)!r}"
    if response.status >= 500:
        membership.broken.append((line, response.exchange))
    else:
        membership.refused = line
    return False


def belongs(status: str, query: Mapping[str, Any]) -> bool:
    """Whether an image shared with the caller, in member `status`, belongs in the caller's listing `query`."""
    if "visibility" not in query or "member_status" not in query:
        return status == "accepted"  # the default listing, and visibility=shared's default member status
    return query["member_status"] in ("all", status)


def member_problems(walk: Walk, query: Mapping[str, Any], membership: Membership) -> list[str]:
    """How one listing of the second project fails the images shared with it: one missing under its status (judged
    when the walk ended), one listed where its status does not belong, one listed twice."""
    returned = Counter(walk.ids)
    lines = []
    for shared in membership.images:
        wanted, times = belongs(shared.status, query), returned[shared.image.id]
        if wanted and not times and not walk.truncated:
            lines.append(f"did not return {shared.label}")
        elif not wanted and times:
            lines.append(f"returned {shared.label}, which does not belong in this answer")
        elif times > 1:
            lines.append(f"returned {shared.label} {times} times")
    return lines


def caller_project(entries: list[dict[str, Any]]) -> str | None:
    """The project a `visibility=all` listing was asked by, when every private image it lists has one owner (upstream
    lists a project only its own private images, an admin every project's); None when the listing does not tell."""
    owners = {entry.get("owner") for entry in entries if entry.get("visibility") == "private"}
    owner = owners.pop() if len(owners) == 1 else None
    return owner if isinstance(owner, str) and owner else None


def listed_under_two_statuses(ids: Mapping[str, set[str]], owners: Mapping[str, Any],
                              caller: str | None) -> list[tuple[str, str, str]]:
    """(image id, status, other status) for each shared image listed under two member statuses that is not the
    caller's own: upstream lists the caller's own shared images whatever member_status asks (the owner is no member)."""
    return [(image_id, a, b) for (a, a_ids), (b, b_ids) in itertools.combinations(ids.items(), 2)
            for image_id in sorted(a_ids & b_ids) if caller is None or owners.get(image_id) != caller]

"""Write mode: the fixture images a run creates through the v2 API, their ground truth, and their removal."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from conformance.evidence import Exchange, clip
from conformance.glance.disk_data import image_data
from conformance.targets.errors import TargetError, TargetUnreachable
from conformance.targets.glance import JSON, GlanceClient, image_path
from conformance.targets.http import BodyNotJSON, HttpResponse, HttpTarget

NAME_PREFIX = "conformance-fixture-"
RUN_ID_PROPERTY = "conformance_run_id"
JSON_PATCH = "application/openstack-images-v2.1-json-patch"
UNPROTECT = [{"op": "replace", "path": "/protected", "value": False}]
DOCUMENTED_DISK_FORMAT = "vhd"  # seed 001, disk_format: 默认值是vhd (the default is vhd); upstream has none
SWEEP_MAX_IMAGES = 5000  # images looked at when sweeping leftovers; bounds a sweep of a large public catalogue


class WriteModeFailed(TargetUnreachable):
    """The target would not hold the fixture images: the run stops, since --allow-writes asked for them."""


def new_run_id(now: datetime | None = None) -> str:
    """A fresh run id: conformance-<UTC yyyymmddHHMMSS>-<8 hex digits>."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"conformance-{moment:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class FixtureImage:
    """One image a write-mode run creates: its create body and how many bytes it uploads."""

    slug: str
    disk_format: str
    visibility: str = "private"  # never public or community: fixtures must not show up in other tenants' lists
    size: int | None = None  # bytes uploaded; None leaves the image queued
    min_ram: int = 0
    min_disk: int = 0
    protected: bool = False
    tags: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    container_format: str = "bare"
    deleted: bool = False  # created, then deleted again, so a deleted image with a known id exists
    sends_disk_format: bool = True  # False: created without disk_format, which must then show the documented default
    hidden: bool = False  # os_hidden (upstream since Rocky; the vendor documents do not name it)

    @property
    def name(self) -> str:
        """The image name: the fixture prefix and the slug."""
        return NAME_PREFIX + self.slug

    def data(self) -> bytes:
        """The bytes uploaded (empty when the image stays queued)."""
        return b"" if self.size is None else image_data(self.disk_format, self.name, self.size)

    def create_body(self, run_id: str, image_id: str | None) -> dict[str, Any]:
        """The `POST /v2/images` body; with `image_id` the client chooses the id, as upstream allows."""
        body: dict[str, Any] = {
            "name": self.name, "disk_format": self.disk_format, "container_format": self.container_format,
            "visibility": self.visibility, "min_ram": self.min_ram, "min_disk": self.min_disk,
            "protected": self.protected, "tags": list(self.tags), **self.properties, RUN_ID_PROPERTY: run_id,
        }
        if self.hidden:
            body["os_hidden"] = True
        if image_id is not None:
            body["id"] = image_id
        if not self.sends_disk_format:
            del body["disk_format"]
        return body


def _vendor(os_type: str, platform: str, version: str, bits: str, imagetype: str) -> dict[str, str]:
    return {"__os_type": os_type, "__platform": platform, "__os_version": version, "__os_bit": bits,
            "__imagetype": imagetype, "__isregistered": "true"}


# Varied on purpose: three formats, two visibilities, two equal sizes, a protected, a queued and a deleted image.
FIXTURES: tuple[FixtureImage, ...] = (
    FixtureImage("qcow2-linux", "qcow2", size=1024, min_ram=512, min_disk=1, tags=("linux", "gold"),
                 properties={**_vendor("Linux", "CentOS", "CentOS 7.6 64bit", "64", "private"),
                             "hw_firmware_type": "bios"}),
    FixtureImage("raw-same-size", "raw", visibility="shared", size=1024,
                 properties={"__os_type": "Other", "__os_bit": "32"}),
    FixtureImage("vhd-windows", "vhd", visibility="shared", size=4096, min_ram=2048, min_disk=40,
                 tags=("windows", "desktop"),
                 properties={**_vendor("Windows", "Windows", "Windows Server 2019 Datacenter 64bit", "64", "shared"),
                             "hw_firmware_type": "uefi"}),
    FixtureImage("raw-protected", "raw", size=2048, min_disk=20, protected=True, tags=("protected",),
                 properties={**_vendor("Linux", "Ubuntu", "Ubuntu 22.04 server 64bit", "64", "private"),
                             "build_number": "42"}),
    FixtureImage("raw-odd-size", "raw", size=333, min_ram=128, min_disk=1024, tags=("ünïcødé",),
                 properties={"__description": "café ✓ 镜像", "__os_type": "Linux"}),
    FixtureImage("qcow2-queued", "qcow2", tags=("queued",), properties={"__os_type": "Linux"}),
    FixtureImage("raw-deleted", "raw", size=512, tags=("deleted",), deleted=True),
)
# Created only where the profile reads seed 001's default (its image is no part of `WrittenSet.images`).
UNFORMATTED = FixtureImage("vhd-by-default", DOCUMENTED_DISK_FORMAT, tags=("default-format",), sends_disk_format=False)
# Written only where upstream's behaviour is certified: a hidden image, which the v2 list shows only when asked to.
HIDDEN = FixtureImage("qcow2-hidden", "qcow2", size=777, tags=("hidden", "linux"), hidden=True,
                      properties={"__os_type": "Linux"})


def fixtures_for(upstream: bool) -> tuple[FixtureImage, ...]:
    """The fixture images a run writes: the hidden one too when the profile certifies upstream's behaviour."""
    return (*FIXTURES[:-1], HIDDEN, FIXTURES[-1]) if upstream else FIXTURES


@dataclass(frozen=True)
class WrittenImage:
    """A fixture image as the run wrote it, under the id the target gave it."""

    fixture: FixtureImage
    id: str
    run_id: str
    created_at: str | None = None  # as the create answer gave it, in the target's clock: where changes-since starts
    owner: str | None = None  # as the create answer gave it: the run cannot choose it

    @property
    def expected(self) -> dict[str, Any]:
        """What showing the image must answer for each field the run wrote or the upload decided (tags sorted)."""
        fixture, data = self.fixture, self.fixture.data()
        uploaded = fixture.size is not None
        return {
            "id": self.id, "name": fixture.name, "disk_format": fixture.disk_format,
            "container_format": fixture.container_format, "visibility": fixture.visibility,
            "protected": fixture.protected, "min_ram": fixture.min_ram, "min_disk": fixture.min_disk,
            "tags": sorted(set(fixture.tags)), "status": "active" if uploaded else "queued",
            "size": fixture.size, "checksum": hashlib.md5(data).hexdigest() if uploaded else None,
            **fixture.properties, RUN_ID_PROPERTY: self.run_id, **({"os_hidden": True} if fixture.hidden else {}),
        }


@dataclass
class WrittenSet:
    """The ground truth of one write-mode run."""

    run_id: str
    images: list[WrittenImage] = field(default_factory=list)  # live: they are in the target's list
    deleted: list[WrittenImage] = field(default_factory=list)  # created and deleted again: show answers 404
    swept: list[str] = field(default_factory=list)  # ids of earlier runs' leftovers this run deleted
    # seed 001 (protected: 受保护的镜像不允许删除): each live protected image with the answer to a DELETE of it
    protected_delete: list[tuple[WrittenImage, HttpResponse]] = field(default_factory=list)
    unformatted: WrittenImage | None = None  # created without disk_format (only when the profile has a default)

    def summary(self) -> dict[str, Any]:
        """The set as plain data for results.json."""
        return {
            "run_id": self.run_id,
            "created": [{"id": i.id, "name": i.fixture.name}
                        for i in [*self.images, *([self.unformatted] if self.unformatted else [])]],
            "deleted_in_setup": [i.id for i in self.deleted],
            "swept": list(self.swept),
        }


def ground_truth_problems(written: WrittenImage, shown: Mapping[str, Any], unused: Collection[str] = ()) -> list[str]:
    """How a v2 image body differs from what the run wrote, fields in `unused` aside; empty when it agrees."""
    problems = []
    for key, want in written.expected.items():
        if key in unused:
            continue
        got = shown.get(key, "<absent>")
        if key == "tags" and isinstance(got, list):
            got = sorted(set(got))
        if got != want:
            problems.append(f"{written.id} ({written.fixture.name}): {key} is {got!r}, written {want!r}")
    return problems


def is_leftover(entry: Mapping[str, Any], run_id: str) -> bool:
    """Whether a listed image is a fixture image of another run: name prefix and run id property must both say so."""
    other_run, name = entry.get(RUN_ID_PROPERTY), entry.get("name")
    return (isinstance(other_run, str) and other_run != run_id and isinstance(name, str)
            and name.startswith(NAME_PREFIX) and isinstance(entry.get("id"), str))


class ImageWriter:
    """Creates, uploads and deletes images through the v2 API; every exchange is recorded as evidence."""

    def __init__(self, http: HttpTarget) -> None:
        self.http = http
        self.pending: dict[str, bool] = {}  # ids this run may have created -> whether they are protected
        self.client_ids = True  # whether the target accepts ids chosen by the client
        self.evidence: list[Exchange] = []  # every write exchange, censored, for results.json

    def send(self, method: str, path: str, *, payload: Any = None, data: bytes | None = None,
             content_type: str | None = None) -> HttpResponse:
        """Send one request through the target's transport and keep its exchange; TargetError when no answer."""
        try:
            response = self.http.request(method, path, headers=JSON, payload=payload, data=data,
                                         content_type=content_type)
        except TargetError as exc:
            if exc.exchange is not None:
                self.evidence.append(exc.exchange)
            raise
        self.evidence.append(response.exchange)
        return response

    def create(self, fixture: FixtureImage, run_id: str) -> WrittenImage:
        """Create one fixture image and upload its data; WriteModeFailed when the target refuses."""
        image_id = str(uuid.uuid4()) if self.client_ids else None
        if image_id is not None:
            self.pending[image_id] = fixture.protected  # before sending: an interrupted create is still cleaned up
        response = self.send("POST", "/v2/images", payload=fixture.create_body(run_id, image_id))
        if image_id is not None and response.status in (400, 403):
            # Some targets refuse ids chosen by the client; let the target choose (the ledger then learns it late).
            self.pending.pop(image_id, None)
            self.client_ids = False
            return self.create(fixture, run_id)
        created_id = _created_id(response)
        if response.status not in (200, 201) or created_id is None:
            raise WriteModeFailed(f"--allow-writes: creating {fixture.name}: POST /v2/images answered "
                                  f"{response.status}, expected 201 with the image; {clip(response.text, 200)!r}")
        self.pending[created_id] = fixture.protected
        if fixture.size is not None:
            upload = self.send("PUT", image_path("/v2", created_id) + "/file", data=fixture.data(),
                               content_type="application/octet-stream")
            if upload.status not in (200, 201, 204):
                raise WriteModeFailed(f"--allow-writes: uploading {fixture.name}: PUT .../file answered "
                                      f"{upload.status}, expected 204; {clip(upload.text, 200)!r}")
        return WrittenImage(fixture, created_id, run_id, _created_at(response), _created_field(response, "owner"))

    def delete(self, image_id: str, *, protected: bool) -> bool:
        """Delete one image, lifting its protection first; True when it is gone (404 included)."""
        path = image_path("/v2", image_id)
        if protected:
            self.send("PATCH", path, payload=UNPROTECT, content_type=JSON_PATCH)
        response = self.send("DELETE", path)
        if response.status == 403 and not protected:
            return self.delete(image_id, protected=True)  # protected after all (someone set it since)
        gone = response.status in (200, 202, 204, 404)
        if gone:
            self.pending.pop(image_id, None)
        return gone

    def write_set(self, run_id: str, fixtures: Iterable[FixtureImage] = FIXTURES, *,
                  unformatted: bool = False) -> WrittenSet:
        """Create the fixture images (deleting again those marked deleted) and return their ground truth; with
        `unformatted`, also UNFORMATTED, an image created without disk_format."""
        written = WrittenSet(run_id)
        for fixture in fixtures:
            image = self.create(fixture, run_id)
            if not fixture.deleted:
                written.images.append(image)
            elif self.delete(image.id, protected=fixture.protected):
                written.deleted.append(image)
            else:
                raise WriteModeFailed(f"--allow-writes: deleting {fixture.name} ({image.id}) failed")
        if unformatted:
            written.unformatted = self.create(UNFORMATTED, run_id)
        for image in written.images:
            if image.fixture.protected:  # must be refused; a target that deletes it anyway leaves nothing to clean up
                written.protected_delete.append((image, self.send("DELETE", image_path("/v2", image.id))))
        return written

    def sweep(self, run_id: str) -> list[str]:
        """Delete the fixture images that earlier runs left behind (their hidden image too); the ids deleted."""
        glance = GlanceClient(self.http)
        swept: list[str] = []
        for entry in [*glance.list_v2(max_images=SWEEP_MAX_IMAGES).images, *_hidden_leftovers(glance)]:
            if (isinstance(entry, dict) and is_leftover(entry, run_id) and entry["id"] not in swept
                    and self.delete(entry["id"], protected=entry.get("protected") is True)):
                swept.append(entry["id"])
        return swept

    def remove_all(self) -> list[str]:
        """Delete every image this run may have created, newest first; the ids that could not be deleted."""
        left = []
        for image_id, protected in reversed(list(self.pending.items())):
            try:
                gone = self.delete(image_id, protected=protected)
            except TargetError:
                gone = False
            if not gone:
                left.append(image_id)
        return left


def _hidden_leftovers(glance: GlanceClient) -> list[Any]:
    """The hidden fixture images the default listing leaves out: one page asked for by their name (none where the
    target does not answer it)."""
    response = glance.list_v2_page({"os_hidden": "true", "name": HIDDEN.name, "limit": "1000"})
    try:
        body = response.json() if response.status == 200 else None
    except BodyNotJSON:
        return []
    images = body.get("images") if isinstance(body, dict) else None
    return images if isinstance(images, list) else []


def _created_field(response: HttpResponse, key: str) -> str | None:
    try:
        body = response.json()
    except BodyNotJSON:
        return None
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None


def _created_id(response: HttpResponse) -> str | None:
    return _created_field(response, "id")


def _created_at(response: HttpResponse) -> str | None:
    return _created_field(response, "created_at")

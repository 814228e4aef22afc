"""The image set that seeds a real Glance through the v1 API (POST /v1/images), and its loading.

The set reaches every v1.1 detail filter and its boundaries: two images of equal size, active
images of size 0, names that differ only in case, a name with ':', non-ASCII names and
property values, public and private images, a deleted and a killed image, several disk and
container formats, a property key that several images carry with different values, and two
pairs of images created within one second (equal timestamps where the database keeps whole
seconds, as MariaDB does here).
"""

from __future__ import annotations

import hashlib
import http.client
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from _glance_images import OWNER_A, OWNER_B
from _targetlib import TargetError

# Ids are uuid5 of the name under this namespace: the same on every run, so `seed` can tell
# which images it already made.
NAMESPACE = uuid.UUID("5d0c2b3e-8f1a-4c6d-9e7b-a1b2c3d4e5f6")
WRONG_MD5 = "0" * 32  # a checksum no upload matches: Glance kills the image


@dataclass(frozen=True)
class V1Image:
    """One image of the set: its metadata headers, its data, and the status it must end in.

    data None sends no body (the image stays queued); b"" sends an empty chunked body (active,
    size 0). end "deleted" deletes the image after the upload; end "killed" uploads with a wrong
    x-image-meta-checksum, which Glance answers 400 and kills the image. new_second: wait for
    the next whole second before creating the image, so that it and the next one get the same
    timestamps on a database that keeps whole seconds. (Glance v1 accepts
    x-image-meta-created_at, but on SQLite its registry then fails with 500.)
    """

    name: str
    disk_format: str
    container_format: str
    data: bytes | None
    is_public: bool = True
    owner: str | None = OWNER_A  # as under Keystone; None leaves it unset (no Keystone here)
    protected: bool = False
    min_ram: int = 0
    min_disk: int = 0
    properties: dict[str, str] = field(default_factory=dict)
    end: str = "active"
    new_second: bool = False

    @property
    def id(self) -> str:
        """The image id: uuid5 of the name."""
        return str(uuid.uuid5(NAMESPACE, self.name))

    @property
    def status(self) -> str:
        """The status the image ends in."""
        return "queued" if self.data is None and self.end == "active" else self.end


def blob(name: str, size: int) -> bytes:
    """Return size deterministic bytes for an image."""
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


IMAGES = [
    V1Image("alpha-raw", "raw", "bare", blob("alpha-raw", 4096), min_ram=512, min_disk=1,
            properties={"os_distro": "cirros", "hw_disk_bus": "virtio"}, new_second=True),
    V1Image("beta-qcow2", "qcow2", "bare", blob("beta-qcow2", 4096), min_ram=1024, min_disk=10,
            properties={"os_distro": "ubuntu", "os_version": "18.04"}),
    V1Image("Dup-Name", "raw", "ovf", blob("Dup-Name", 1024), properties={"os_distro": "Ubuntu"}),
    V1Image("dup-name", "vhd", "bare", blob("dup-name", 2048), owner=OWNER_B,
            properties={"os_distro": "ubuntu"}),
    V1Image("ubuntu:18.04", "qcow2", "bare", blob("ubuntu:18.04", 512),
            properties={"os_distro": "ubuntu", "os_version": "18.04"}),
    V1Image("café-镜像", "iso", "bare", blob("café-镜像", 700),
            properties={"os_distro": "débian", "description": "Ünïcödé 镜像 ß"}),
    V1Image("empty-active", "raw", "bare", b"", properties={"hw_disk_bus": "scsi"}),
    V1Image("queued-a", "vmdk", "bare", None, new_second=True),
    V1Image("queued-b", "aki", "aki", None),
    V1Image("private-vdi", "vdi", "bare", blob("private-vdi", 1536), is_public=False, owner=OWNER_B,
            protected=True, min_ram=64, properties={"os_distro": "cirros"}),
    V1Image("private-empty", "raw", "bare", b"", is_public=False),
    V1Image("appliance-ova", "vmdk", "ova", blob("appliance-ova", 3072),
            properties={"hw_disk_bus": "scsi"}),
    V1Image("alpine-docker", "raw", "docker", blob("alpine-docker", 13), owner=None),
    V1Image("kernel-aki", "aki", "aki", blob("kernel-aki", 1024)),
    V1Image("deleted-raw", "raw", "bare", blob("deleted-raw", 5), end="deleted",
            properties={"os_distro": "cirros"}),
    V1Image("killed-qcow2", "qcow2", "bare", blob("killed-qcow2", 22), end="killed"),
]


def _headers(spec: V1Image) -> dict[str, str]:
    """Return the x-image-meta-* headers that create spec (values as text)."""
    meta: dict[str, Any] = {
        "id": spec.id, "name": spec.name, "disk_format": spec.disk_format,
        "container_format": spec.container_format, "is_public": spec.is_public, "owner": spec.owner,
        "protected": spec.protected, "min_ram": spec.min_ram, "min_disk": spec.min_disk,
        "checksum": WRONG_MD5 if spec.end == "killed" else None,
    }
    headers = {f"x-image-meta-{key}": str(value) for key, value in meta.items()
               if value is not None}
    headers.update({f"x-image-meta-property-{key}": value
                    for key, value in spec.properties.items()})
    return headers


class V1Client:
    """Requests to one Glance over http.client (raw UTF-8 header values, chunked bodies)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def call(self, method: str, path: str, headers: dict[str, str] | None = None,
             body: bytes | Iterable[bytes] | None = None) -> tuple[int, dict[str, str], bytes]:
        """Send one request; return (status, headers with lower-case names, body)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value.encode())  # Glance v1 reads raw UTF-8
            if isinstance(body, bytes) or body is None:
                conn.putheader("Content-Length", str(len(body or b"")))
                conn.endheaders(body or None)
            else:
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                for chunk in body:
                    conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        except OSError as exc:
            raise TargetError(f"{method} {path}: {exc}") from None
        finally:
            conn.close()

    def expect(self, wanted: int, method: str, path: str, **kwargs: Any) -> dict[str, str]:
        """Send one request that must answer wanted; return its headers."""
        status, headers, data = self.call(method, path, **kwargs)
        if status != wanted:
            detail = data.decode(errors="replace").replace("\n", " ")[:200]
            raise TargetError(f"{method} {path} answered {status}, expected {wanted}: {detail}")
        return headers


def create(client: V1Client, spec: V1Image) -> None:
    """Create spec through POST /v1/images, then delete it when it must end deleted."""
    if spec.new_second:
        time.sleep(1.02 - time.time() % 1)
    headers = _headers(spec)
    body: bytes | list[bytes] | None = None
    if spec.data is not None:
        headers["Content-Type"] = "application/octet-stream"
        # An empty chunked body makes an active image of size 0 (Content-Length: 0 = queued).
        body = spec.data if spec.data else []
    client.expect(400 if spec.end == "killed" else 201, "POST", "/v1/images", headers=headers,
                  body=body)
    if spec.end == "deleted":
        client.expect(200, "DELETE", f"/v1/images/{spec.id}")


def head(client: V1Client, spec: V1Image) -> dict[str, str] | None:
    """Return the x-image-meta-* headers of spec's image (names without the prefix), or None."""
    status, headers, _ = client.call("HEAD", f"/v1/images/{spec.id}")
    if status == 404:
        return None
    if status != 200:
        raise TargetError(f"HEAD /v1/images/{spec.id} answered {status}")
    prefix = "x-image-meta-"
    return {k[len(prefix):]: v.encode("latin-1").decode("utf-8", errors="replace")
            for k, v in headers.items() if k.startswith(prefix)}


def summary(spec: V1Image, meta: dict[str, str]) -> dict[str, Any]:
    """Return what seeded.json records of one image."""
    return {"id": spec.id, "name": meta.get("name"), "status": meta.get("status"),
            "owner": meta.get("owner"),
            "size": int(meta.get("size", "0")), "is_public": meta.get("is_public"),
            "deleted": meta.get("deleted"), "disk_format": meta.get("disk_format"),
            "container_format": meta.get("container_format"), "checksum": meta.get("checksum"),
            "created_at": meta.get("created_at"), "updated_at": meta.get("updated_at")}


def seed_images(url: str) -> list[dict[str, Any]]:
    """Make every image of the set exist in its final state (idempotent); return them."""
    client = V1Client(url)
    seeded = []
    for spec in IMAGES:
        meta = head(client, spec)
        if meta is None:
            create(client, spec)
        elif meta.get("status") == "active" and spec.end == "deleted":
            client.expect(200, "DELETE", f"/v1/images/{spec.id}")  # an earlier seed stopped here
        meta = head(client, spec)
        wrong = "not found" if meta is None else differences(spec, meta)
        if wrong:
            raise TargetError(f"image {spec.id} ({spec.name}): {wrong}; seed a fresh state dir")
        assert meta is not None
        seeded.append(summary(spec, meta))
    return seeded


def differences(spec: V1Image, meta: dict[str, str]) -> str:
    """Return how an existing image differs from spec ('' when it is what spec makes)."""
    wanted = {"name": spec.name, "status": spec.status, "disk_format": spec.disk_format,
              "container_format": spec.container_format, "is_public": str(spec.is_public),
              "owner": spec.owner}
    wrong = [f"{key} is {meta.get(key)!r}, not {value!r}" for key, value in wanted.items()
             if meta.get(key) != value]
    return ", ".join(wrong)


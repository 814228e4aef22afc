"""The image set that seeds a real Glance, and the v2 calls that load it."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from _targetlib import TargetError

from conformance.glance import disk_data

OWNER_A = "6f3a1c2e9b8d4e7fa0b1c2d3e4f5a6b7"
OWNER_B = "0b9d8c7a6f5e4d3c2b1a09f8e7d6c5b4"
PREFIX = "conformance-"

VENDOR = {
    "__os_type": "Linux", "__os_bit": "64", "__platform": "CentOS", "__imagetype": "gold",
    "__isregistered": "true", "__support_kvm": "true", "__os_version": "CentOS 7.6 64bit",
    "virtual_env_type": "FusionCompute", "hw_firmware_type": "bios",
    "__os_feature_list": '{"onekey_resetpasswd": "true"}',
}

# One dict per image: the create body, plus "_size" (bytes uploaded; None = stay queued),
# "_virtual" (virtual size written in the disk header), "_deactivate" and "_members" for
# what happens after the upload.
IMAGES: list[dict[str, Any]] = [
    {"name": PREFIX + "centos-raw", "disk_format": "raw", "container_format": "bare",
     "visibility": "public", "owner": OWNER_A, "min_ram": 512, "min_disk": 1,
     "tags": ["conformance", "linux", "gold"], **VENDOR, "_size": 4096},
    {"name": PREFIX + "centos-qcow2", "disk_format": "qcow2", "container_format": "bare",
     "visibility": "public", "owner": OWNER_A, "min_ram": 1024, "min_disk": 40,
     "tags": ["conformance", "linux"], **VENDOR, "__os_version": "CentOS 8.2 64bit",
     "_size": 4096, "_virtual": 10 << 30},
    {"name": PREFIX + "windows-vhd", "disk_format": "vhd", "container_format": "ovf",
     "visibility": "private", "owner": OWNER_B, "min_ram": 2048, "min_disk": 100,
     "tags": ["conformance", "windows"], "__os_type": "Windows", "__os_bit": "64",
     "__platform": "Windows", "__imagetype": "private", "__isregistered": "true",
     "__os_version": "Windows Server 2019 Standard 64bit", "hw_firmware_type": "uefi",
     "_size": 65536, "_virtual": 40 << 30},
    {"name": PREFIX + "ubuntu-vmdk", "disk_format": "vmdk", "container_format": "bare",
     "visibility": "shared", "owner": OWNER_B, "min_ram": 1024, "min_disk": 20,
     "tags": ["conformance", "linux", "shared"], "__os_type": "Linux", "__os_bit": "64",
     "__platform": "Ubuntu", "__imagetype": "shared", "__isregistered": "true",
     "__os_version": "Ubuntu 20.04 server 64bit", "_size": 8192, "_virtual": 8 << 30,
     "_members": [OWNER_A]},
    {"name": PREFIX + "debian-iso", "disk_format": "iso", "container_format": "bare",
     "visibility": "public", "owner": OWNER_A, "min_ram": 256, "min_disk": 0,
     "tags": ["conformance", "installer"], "_size": 40960},
    {"name": PREFIX + "community-raw", "disk_format": "raw", "container_format": "bare",
     "visibility": "community", "owner": OWNER_B, "tags": ["conformance", "community"],
     "__os_type": "Other", "__os_bit": "32", "_size": 777},
    {"name": PREFIX + "alpine-docker", "disk_format": "raw", "container_format": "docker",
     "visibility": "public", "owner": OWNER_A, "tags": ["conformance", "container"],
     "_size": 13},
    {"name": PREFIX + "appliance-ova", "disk_format": "vmdk", "container_format": "ova",
     "visibility": "private", "owner": OWNER_A, "min_ram": 128, "min_disk": 2,
     "tags": [], "_size": 2048},
    {"name": PREFIX + "kernel-aki", "disk_format": "aki", "container_format": "aki",
     "visibility": "public", "owner": OWNER_A, "tags": ["conformance"], "_size": 1024},
    {"name": PREFIX + "legacy-vdi", "disk_format": "vdi", "container_format": "bare",
     "visibility": "private", "owner": OWNER_B, "min_ram": 64, "min_disk": 1,
     "tags": ["conformance"], "__os_type": "Linux", "__os_bit": "32", "_size": 1536,
     "_virtual": 512 << 20},
    {"name": PREFIX + "euler-vhd", "disk_format": "vhd", "container_format": "bare",
     "visibility": "private", "owner": OWNER_A, "min_ram": 0, "min_disk": 40,
     "tags": ["conformance", "linux"], **VENDOR, "__platform": "EulerOS",
     "__os_version": "EulerOS 2.5 64bit", "_size": 3072, "_virtual": 40 << 30},
    {"name": PREFIX + "protected-raw", "disk_format": "raw", "container_format": "bare",
     "visibility": "public", "owner": OWNER_A, "protected": True,
     "tags": ["conformance", "protected"], **VENDOR, "_size": 12288},
    {"name": PREFIX + "no-owner-qcow2", "disk_format": "qcow2", "container_format": "bare",
     "visibility": "public", "tags": ["conformance"], "_size": 6144, "_virtual": 1 << 30},
    {"name": PREFIX + "queued", "disk_format": "raw", "container_format": "bare",
     "visibility": "private", "owner": OWNER_A, "tags": ["conformance", "queued"],
     "_size": None},
    {"name": PREFIX + "deactivated", "disk_format": "qcow2", "container_format": "bare",
     "visibility": "public", "owner": OWNER_B, "min_disk": 10,
     "tags": ["conformance", "deactivated"], **VENDOR, "_size": 2048, "_virtual": 20 << 30,
     "_deactivate": True},
    # Names the v2 list filters must take as they are: a comma (quoted in name=in:"...") and a colon.
    {"name": PREFIX + "glass, darkly", "disk_format": "raw", "container_format": "bare",
     "visibility": "public", "owner": OWNER_A, "tags": ["conformance"], "_size": 5120},
    {"name": PREFIX + "ubuntu:22.04", "disk_format": "raw", "container_format": "bare",
     "visibility": "public", "owner": OWNER_B, "tags": ["conformance", "linux"], "_size": 2560},
]


# Fields Glance itself puts in an image; anything else in a seeded image came from its spec.
BASE_FIELDS = {
    "id", "name", "status", "visibility", "protected", "checksum", "owner", "size",
    "virtual_size", "container_format", "disk_format", "created_at", "updated_at", "tags",
    "self", "file", "schema", "min_ram", "min_disk", "os_hidden", "os_hash_algo",
    "os_hash_value", "stores", "locations", "direct_url",
}


def image_data(spec: dict[str, Any]) -> bytes:
    """Return the deterministic bytes uploaded for an image (same name, same checksum)."""
    virtual_size = spec.get("_virtual") or disk_data.VIRTUAL_SIZE
    return disk_data.image_data(spec["disk_format"], spec["name"], spec["_size"], virtual_size)


def create_body(spec: dict[str, Any]) -> dict[str, Any]:
    """Return the POST /v2/images body of spec (its keys without a single leading '_')."""
    return {k: v for k, v in spec.items() if not k.startswith("_") or k.startswith("__")}


def expected_status(spec: dict[str, Any]) -> str:
    """Return the status the image must end in."""
    if spec["_size"] is None:
        return "queued"
    return "deactivated" if spec.get("_deactivate") else "active"


def call(url: str, method: str, path: str, body: Any = None, *,
         content_type: str = "application/json") -> Any:
    """Send one v2 request; return the decoded JSON body (None when empty)."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Accept": "application/json"})
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace").replace("\n", " ")[:200]
        raise TargetError(f"{method} {path} answered {exc.code}: {detail}") from None
    except OSError as exc:
        raise TargetError(f"{method} {path}: {exc}") from None
    return json.loads(raw) if raw.strip() else None


def find_by_name(url: str, name: str) -> list[dict[str, Any]]:
    """Return every image, of any visibility, whose name is exactly name (asked as name=in:"<name>", since Glance reads
    a plain name=<name> holding ':' as an operator and answers 400)."""
    query = urllib.parse.urlencode({"name": f'in:"{name}"', "visibility": "all"})
    return list(call(url, "GET", f"/v2/images?{query}")["images"])


def matches(spec: dict[str, Any], image: dict[str, Any]) -> bool:
    """Tell whether an existing image is exactly what spec would create."""
    wanted = create_body(spec)
    for key, default in (("owner", None), ("protected", False), ("min_ram", 0), ("min_disk", 0)):
        wanted.setdefault(key, default)
    if set(image) - BASE_FIELDS - set(wanted):
        return False
    for key, value in wanted.items():
        got = image.get(key)
        if key == "tags":
            value, got = sorted(value), sorted(got or [])
        if got != value:
            return False
    return (image.get("status") == expected_status(spec)
            and image.get("size") == spec["_size"])


def delete(url: str, image: dict[str, Any]) -> None:
    """Delete an image, lifting its protection first."""
    if image.get("protected"):
        patch = json.dumps([{"op": "replace", "path": "/protected", "value": False}]).encode()
        call(url, "PATCH", f"/v2/images/{image['id']}", patch,
             content_type="application/openstack-images-v2.1-json-patch")
    call(url, "DELETE", f"/v2/images/{image['id']}")


def create(url: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Create one image from spec, upload its data, apply its actions; return the image."""
    image = call(url, "POST", "/v2/images", create_body(spec))
    path = f"/v2/images/{image['id']}"
    if spec["_size"] is not None:
        call(url, "PUT", path + "/file", image_data(spec),
             content_type="application/octet-stream")
    for member in spec.get("_members", []):
        call(url, "POST", path + "/members", {"member": member})
    if spec.get("_deactivate"):
        call(url, "POST", path + "/actions/deactivate")
    return dict(call(url, "GET", path))


def remove_stale(url: str) -> None:
    """Delete images named conformance-* that the image set no longer defines."""
    names = {spec["name"] for spec in IMAGES}
    for image in call(url, "GET", "/v2/images?visibility=all&limit=1000")["images"]:
        name = image.get("name") or ""
        if name.startswith(PREFIX) and name not in names:
            delete(url, image)


def seed_images(url: str) -> list[dict[str, Any]]:
    """Make the target hold exactly one image per spec; return them as Glance shows them."""
    remove_stale(url)
    result = []
    for spec in IMAGES:
        found = find_by_name(url, spec["name"])
        keep = next((image for image in found if matches(spec, image)), None)
        for image in found:
            if image is not keep:
                delete(url, image)
        result.append(keep if keep is not None else create(url, spec))
    listed = {image["id"] for image in call(url, "GET", "/v2/images?visibility=all&limit=1000")
              ["images"]}
    missing = [image["name"] for image in result if image["id"] not in listed]
    if missing:
        raise TargetError(f"GET /v2/images does not list seeded images: {', '.join(missing)}")
    return result

"""Build tiny container images as OCI-layout or docker-save tars, on the suite's deterministic OCI blobs.

Every byte is deterministic (fixed mtimes, owners and gzip headers), so building the same image
twice gives the same digests and importing it again changes nothing.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import itertools
import tarfile
from dataclasses import dataclass, field

from conformance.cri.oci import (  # noqa: F401 -- OCI_CONFIG and OCI_LAYER_GZIP are read through this module too
    CREATED,
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    add_file,
    canonical,
    go_arch,
    manifest,
)
from conformance.targets.registry import OCI_MANIFEST, digest

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
PASSWD = (b"root:x:0:0:root:/root:/bin/sh\n"
          b"www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
          b"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
          b"app:x:1000:1000:app:/home/app:/bin/sh\n")


@dataclass(frozen=True)
class ImageSpec:
    """What one seeded image holds: its references, its config user and a file."""

    repo: str
    tags: tuple[str, ...]
    user: str
    layout: str  # "oci" or "docker"
    digest_ref: bool = False
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def refs(self) -> list[str]:
        """Return the full tag references, e.g. docker.io/conformance/multi:1.0."""
        return [f"{self.repo}:{tag}" for tag in self.tags]


@dataclass(frozen=True)
class Built:
    """The blobs of one built image and the digests that name them."""

    layer: bytes
    diff_id: str
    config: bytes
    manifest: bytes

    @property
    def manifest_digest(self) -> str:
        """Return sha256:<hex> of the manifest."""
        return digest(self.manifest)

    @property
    def config_digest(self) -> str:
        """Return sha256:<hex> of the config (the image id CRI reports)."""
        return digest(self.config)


def add_dir(tar: tarfile.TarFile, name: str) -> None:
    """Add a directory entry with fixed owner and mtime to tar."""
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
    info.uname = info.gname = "root"
    tar.addfile(info)


def layer_tar(spec: ImageSpec) -> bytes:
    """Return the uncompressed layer: /etc/passwd and a small file naming the image."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add_dir(tar, "etc")
        add_file(tar, "etc/passwd", PASSWD)
        add_dir(tar, "conformance")
        add_file(tar, "conformance/image.txt", f"{spec.repo} user={spec.user}\n".encode())
    return buf.getvalue()


def config_blob(spec: ImageSpec, diff_id: str) -> bytes:
    """Return the image config of spec over one layer whose uncompressed digest is diff_id."""
    return canonical({
        "architecture": go_arch(), "os": "linux", "created": CREATED,
        "config": {"User": spec.user, "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"], "WorkingDir": "/", "Labels": dict(spec.labels)},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": CREATED, "created_by": "conformance seed layer"}],
    })


def build(spec: ImageSpec) -> Built:
    """Build the layer, config and manifest blobs of one image."""
    raw = layer_tar(spec)
    layer = gzip.compress(raw, compresslevel=9, mtime=0)
    config = config_blob(spec, digest(raw))
    return Built(layer=layer, diff_id=digest(raw), config=config, manifest=manifest(config, layer))


def with_id_prefix_of(spec: ImageSpec, other: ImageSpec, hex_digits: int, label: str) -> ImageSpec:
    """Return spec with label set to the first of "0", "1", ... that makes its image id (the
    config digest) begin with the same hex_digits hex digits as the id of other."""
    wanted = build(other).config_digest[:len("sha256:") + hex_digits]
    diff_id = digest(layer_tar(spec))
    for counter in itertools.count():
        candidate = dataclasses.replace(spec, labels={**spec.labels, label: str(counter)})
        if digest(config_blob(candidate, diff_id)).startswith(wanted):
            return candidate
    raise AssertionError("unreachable")


def oci_layout_tar(spec: ImageSpec, built: Built) -> bytes:
    """Return an OCI image layout tar whose index names every tag of spec."""
    buf = io.BytesIO()
    manifests = [{
        "mediaType": OCI_MANIFEST, "digest": built.manifest_digest,
        "size": len(built.manifest),
        "platform": {"architecture": go_arch(), "os": "linux"},
        "annotations": {"io.containerd.image.name": ref,
                        "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[1]},
    } for ref in spec.refs]
    index = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add_file(tar, "oci-layout", canonical({"imageLayoutVersion": "1.0.0"}))
        add_dir(tar, "blobs")
        add_dir(tar, "blobs/sha256")
        for blob in (built.layer, built.config, built.manifest):
            add_file(tar, "blobs/sha256/" + digest(blob).split(":", 1)[1], blob)
        add_file(tar, "index.json", index)
    return buf.getvalue()


def docker_save_tar(spec: ImageSpec, built: Built) -> bytes:
    """Return a docker-save tar (manifest.json, config, one gzip layer) naming every tag."""
    buf = io.BytesIO()
    config_name = built.config_digest.split(":", 1)[1] + ".json"
    layer_dir = built.diff_id.split(":", 1)[1]
    manifest = [{"Config": config_name, "RepoTags": spec.refs,
                 "Layers": [layer_dir + "/layer.tar"]}]
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add_file(tar, config_name, built.config)
        add_dir(tar, layer_dir)
        add_file(tar, layer_dir + "/VERSION", b"1.0")
        add_file(tar, layer_dir + "/layer.tar", built.layer)
        add_file(tar, "manifest.json", canonical(manifest))
    return buf.getvalue()


def image_tar(spec: ImageSpec) -> tuple[bytes, Built]:
    """Return the archive to import for spec (OCI layout or docker-save) and its blobs."""
    built = build(spec)
    if spec.layout == "oci":
        return oci_layout_tar(spec, built), built
    if spec.layout == "docker":
        return docker_save_tar(spec, built), built
    raise ValueError(f"unknown layout {spec.layout!r}")

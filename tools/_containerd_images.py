"""The image set that seeds a real containerd (namespace k8s.io, seen by CRI), and its import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _oci import ImageSpec, image_tar, with_id_prefix_of
from _targetlib import TargetError, run

NAMESPACE = "k8s.io"
REPO_PREFIX = "docker.io/conformance/"
LABEL = "org.example.conformance"
# Two images whose ids begin with the same SHARED_ID_HEX hex digits, so that an id prefix of
# that length is ambiguous for real (containerd answers UNKNOWN "ambiguous digest string").
SHARED_ID_HEX = 3
TWIN_A = ImageSpec(repo=REPO_PREFIX + "twin-a", tags=("1.0",), user="2000", layout="docker",
                   labels={LABEL: "twin-a"})
TWIN_B = with_id_prefix_of(
    ImageSpec(repo=REPO_PREFIX + "twin-b", tags=("1.0",), user="2001", layout="docker",
              labels={LABEL: "twin-b"}),
    TWIN_A, SHARED_ID_HEX, LABEL + ".nonce")

IMAGES = [
    ImageSpec(repo=REPO_PREFIX + "uid", tags=("1.0",), user="1000", layout="oci",
              digest_ref=True, labels={"org.example.conformance": "uid"}),
    ImageSpec(repo=REPO_PREFIX + "username", tags=("1.0",), user="nobody", layout="docker",
              labels={"org.example.conformance": "username"}),
    ImageSpec(repo=REPO_PREFIX + "multi", tags=("1.0", "latest", "stable"), user="1001:1001",
              layout="docker", labels={"org.example.conformance": "multi"}),
    TWIN_A,
    TWIN_B,
]


def ctr(sock: Path, *args: str) -> str:
    """Run ctr against the socket in the k8s.io namespace; return its stdout."""
    argv = ["ctr", "--address", str(sock), "--namespace", NAMESPACE, *args]
    return run(argv, "ctr " + " ".join(args[:2]), timeout=120)


def list_refs(sock: Path) -> dict[str, str]:
    """Return {reference: target digest} for every image in the namespace."""
    refs = {}
    for line in ctr(sock, "images", "ls").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3:
            refs[parts[0]] = parts[2]
    return refs


def import_image(sock: Path, spec: ImageSpec, workdir: Path) -> dict[str, Any]:
    """Build one image, import it and add its digest reference; return what was made."""
    data, built = image_tar(spec)
    tar = workdir / f"{spec.repo.rsplit('/', 1)[1]}-{spec.layout}.tar"
    tar.write_bytes(data)
    ctr(sock, "images", "import", str(tar))
    refs = list_refs(sock)
    missing = [ref for ref in spec.refs if ref not in refs]
    if missing:
        raise TargetError(f"import of {tar} did not create {', '.join(missing)}")
    target = refs[spec.refs[0]]
    names = list(spec.refs)
    if spec.digest_ref:
        by_digest = f"{spec.repo}@{target}"
        if by_digest not in refs:
            ctr(sock, "images", "tag", spec.refs[0], by_digest)
        names.append(by_digest)
    return {"refs": names, "target_digest": target, "config_digest": built.config_digest,
            "layer_diff_id": built.diff_id, "user": spec.user, "layout": spec.layout,
            "archive": str(tar)}


def remove_stale(sock: Path, wanted: set[str]) -> None:
    """Remove references under the conformance repositories that the image set no longer has."""
    stale = [ref for ref in list_refs(sock) if ref.startswith(REPO_PREFIX) and ref not in wanted]
    if stale:
        ctr(sock, "images", "rm", *stale)


def seed_images(sock: Path, workdir: Path) -> list[dict[str, Any]]:
    """Import every image of the set (idempotent) and check that all are complete."""
    workdir.mkdir(parents=True, exist_ok=True)
    seeded = [import_image(sock, spec, workdir) for spec in IMAGES]
    remove_stale(sock, {ref for image in seeded for ref in image["refs"]})
    status = {}
    for line in ctr(sock, "images", "check").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 4:
            status[parts[0]] = parts[3]
    for ref in (ref for image in seeded for ref in image["refs"]):
        if status.get(ref) != "complete":
            raise TargetError(f"ctr images check: {ref} is {status.get(ref, 'missing')}")
    return seeded

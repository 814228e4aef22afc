"""A small client of the OCI distribution API over plain HTTP: push and fetch blobs and manifests, bounded.

The suite pushes its own images with it; the reference CRI runtime pulls them with it. Every answer is read
under a byte cap and a deadline, and it never follows the registry to another host.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3

from conformance.targets.errors import TargetError
from conformance.targets.limits import RunLimits

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
MAX_ANSWER_BYTES = 1024 * 1024  # a manifest, a config or an error body
CHUNK = 64 * 1024
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class RegistryError(TargetError):
    """The registry did not answer, or answered what the distribution API does not allow."""


class NotFound(RegistryError):
    """The registry answered 404 for the manifest or blob."""


def digest(data: bytes) -> str:
    """`sha256:<hex>` of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the registry, its body read under a cap."""

    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


class RegistryClient:
    """The distribution API of one registry at `host:port`, spoken over plain HTTP."""

    def __init__(self, address: str, *, timeout: float, loopback_only: bool = False,
                 limits: RunLimits | None = None) -> None:
        """`timeout` bounds each request; a run's `limits` (what is left of its budget) bound them all."""
        host, port = split_address(address)
        self.limits = limits
        if loopback_only and host not in LOOPBACK_HOSTS:
            raise RegistryError(f"registry {address!r} is not on this machine (loopback only)")
        self.address = address
        self.host = host
        self.timeout = timeout
        self.pool = urllib3.HTTPConnectionPool(host, port, timeout=urllib3.Timeout(connect=timeout, read=timeout),
                                               retries=False, maxsize=8, block=False)

    def close(self) -> None:
        """Close the connections."""
        self.pool.close()

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
                max_bytes: int = MAX_ANSWER_BYTES) -> Answer:
        """Send one request; RegistryError when there is no answer in time or the body passes `max_bytes`."""
        limit = self.timeout if self.limits is None else min(self.timeout, self.limits.left())
        if limit <= 0:
            raise RegistryError(f"{method} {path} to registry {self.address} not sent: the run's budget is used up")
        deadline = time.monotonic() + limit
        try:
            response = self.pool.urlopen(method, path, body=body, headers=headers or {}, redirect=False,
                                         preload_content=False, decode_content=False,
                                         timeout=urllib3.Timeout(connect=limit, read=limit))
        except urllib3.exceptions.HTTPError as exc:
            raise RegistryError(f"{method} {path} to registry {self.address}: {exc}") from None
        try:
            declared = response.headers.get("Content-Length")
            # a HEAD answer's Content-Length tells the size of what a GET would send: there is no body to cap
            if method != "HEAD" and declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise RegistryError(f"{method} {path}: the registry announces {declared} bytes, more than the "
                                    f"{max_bytes} allowed")
            chunks, size = [], 0
            for chunk in response.stream(CHUNK, decode_content=False):
                size += len(chunk)
                if size > max_bytes:
                    raise RegistryError(f"{method} {path}: the answer passed {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise RegistryError(f"{method} {path}: the answer took more than {limit:g}s")
                chunks.append(chunk)
        except urllib3.exceptions.HTTPError as exc:
            raise RegistryError(f"{method} {path} to registry {self.address}: {exc}") from None
        finally:
            response.release_conn()
        headers_seen = {name.lower(): value for name, value in response.headers.items()}
        return Answer(response.status, headers_seen, b"".join(chunks))

    # -- pushing ---------------------------------------------------------------------------------------------------

    def push_blob(self, repository: str, data: bytes) -> str:
        """Upload one blob (monolithic, POST then PUT) unless the registry has it; its digest."""
        blob = digest(data)
        if self.request("HEAD", f"/v2/{repository}/blobs/{blob}").status == 200:
            return blob
        started = self.request("POST", f"/v2/{repository}/blobs/uploads/")
        location = started.headers.get("location")
        if started.status != 202 or not location:
            raise RegistryError(f"starting an upload to {repository}: answered {started.status}, documented 202 "
                                "with a Location")
        put = self.request("PUT", self._same_origin(location, {"digest": blob}), body=data,
                           headers={"Content-Type": "application/octet-stream"})
        if put.status != 201:
            raise RegistryError(f"uploading {blob} to {repository}: answered {put.status}, documented 201")
        return blob

    def push_manifest(self, repository: str, reference: str, manifest: bytes, media_type: str = OCI_MANIFEST) -> str:
        """PUT a manifest under a tag or its digest; the manifest's digest."""
        answer = self.request("PUT", f"/v2/{repository}/manifests/{reference}", body=manifest,
                              headers={"Content-Type": media_type})
        if answer.status != 201:
            raise RegistryError(f"pushing the manifest {repository}:{reference}: answered {answer.status}, "
                                f"documented 201; {answer.body[:200]!r}")
        return digest(manifest)

    def _same_origin(self, location: str, query: dict[str, str]) -> str:
        split = urlsplit(location)
        if split.netloc and split.hostname != self.host:
            raise RegistryError(f"the registry sent the upload to another host: {split.netloc!r}")
        joined = "&".join(part for part in (split.query, urlencode(query)) if part)
        return f"{split.path}?{joined}"

    # -- pulling ---------------------------------------------------------------------------------------------------

    def manifest(self, repository: str, reference: str) -> tuple[bytes, dict[str, Any]]:
        """The manifest under a tag or digest, and its parsed JSON; NotFound on 404, RegistryError when bad."""
        answer = self.request("GET", f"/v2/{repository}/manifests/{reference}",
                              headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if answer.status == 404:
            raise NotFound(f"manifest {repository}:{reference} not found")
        if answer.status != 200:
            raise RegistryError(f"manifest {repository}:{reference}: answered {answer.status}")
        if DIGEST.fullmatch(reference) and digest(answer.body) != reference:
            raise RegistryError(f"manifest {repository}@{reference}: the content has digest {digest(answer.body)}")
        try:
            parsed = json.loads(answer.body)
        except ValueError:
            raise RegistryError(f"manifest {repository}:{reference} is not JSON") from None
        if not isinstance(parsed, dict) or parsed.get("mediaType", OCI_MANIFEST) not in MANIFEST_TYPES:
            raise RegistryError(f"manifest {repository}:{reference} is not an image manifest")
        return answer.body, parsed

    def blob(self, repository: str, blob: str, *, max_bytes: int) -> bytes:
        """The blob `blob`, checked against its digest; RegistryError past `max_bytes`."""
        if not DIGEST.fullmatch(blob):
            raise RegistryError(f"{blob!r} is not a sha256 digest")
        answer = self.request("GET", f"/v2/{repository}/blobs/{blob}", max_bytes=max_bytes)
        if answer.status == 307 or answer.status == 302:
            raise RegistryError(f"blob {blob}: the registry redirects to another place, which is not followed")
        if answer.status == 404:
            raise NotFound(f"blob {repository}@{blob} not found")
        if answer.status != 200:
            raise RegistryError(f"blob {repository}@{blob}: answered {answer.status}")
        if digest(answer.body) != blob:
            raise RegistryError(f"blob {repository}@{blob}: the content has digest {digest(answer.body)}")
        return answer.body


def split_address(address: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) as host and port; ValueError when it is not one."""
    split = urlsplit(f"//{address}")
    try:
        port = split.port
    except ValueError:
        port = None
    if not split.hostname or port is None or split.path or address != split.netloc:
        raise ValueError(f"{address!r} is not HOST:PORT")
    return split.hostname, port

"""Start the reference CRI ImageService (runtime.v1 and runtime.v1alpha2) on a unix socket, faults on demand."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent import futures
from dataclasses import dataclass, field

import grpc

from conformance.reference.cri import images as cri_images
from conformance.reference.cri.faults import CRI_FAULTS
from conformance.reference.cri.servicer import PROTO_MODULES, ImageServicer, service_handler
from conformance.reference.fault import resolve

SOCKET_PATH_MAX = 107  # bytes; sun_path holds 108 including the terminating NUL


@dataclass
class RunningCriServer:
    """A reference CRI server listening on a unix socket."""

    url: str  # unix:///abs/path.sock
    socket_path: str
    server: grpc.Server
    request_log: list[str] = field(default_factory=list)  # method paths, in the order served

    def stop(self) -> None:
        """Stop serving and remove the socket file."""
        self.server.stop(grace=None).wait(5)
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    def __enter__(self) -> RunningCriServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_cri_server(
    *,
    socket_path: str,
    faults: Iterable[str] = (),
    embedded: bool = False,
    versions: Iterable[str] = ("v1", "v1alpha2"),
    images: Iterable[cri_images.CatalogueImage] | None = None,
) -> RunningCriServer:
    """Serve the reference catalogue on `socket_path` for the given API versions, with `faults` injected.

    `embedded` starts the reference for the isulad profile: it also serves the vendor's embedded image and answers
    as iSulad does (embedded images in iSulad's wire form, no `info` even with verbose). `images` replaces the
    catalogue (self-tests of large image stores).
    """
    chosen = resolve(faults, CRI_FAULTS)
    served = tuple(dict.fromkeys(versions))
    unknown = [version for version in served if version not in PROTO_MODULES]
    if unknown or not served:
        raise ValueError(f"versions must be a non-empty subset of {tuple(PROTO_MODULES)}, got {tuple(versions)!r}")
    path = os.path.abspath(socket_path)
    if len(path.encode()) > SOCKET_PATH_MAX:
        raise ValueError(f"unix socket path too long ({len(path.encode())} > {SOCKET_PATH_MAX} bytes): {path!r}")
    served_images = cri_images.catalogue(embedded=embedded) if images is None else tuple(images)
    servicer = ImageServicer(served_images, chosen, isulad=embedded)
    request_log: list[str] = []
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(tuple(service_handler(version, servicer, request_log) for version in served))
    server.add_insecure_port(f"unix:{path}")
    server.start()
    return RunningCriServer(url=f"unix://{path}", socket_path=path, server=server, request_log=request_log)

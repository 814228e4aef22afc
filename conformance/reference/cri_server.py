"""The reference CRI ImageService: runtime.v1 and runtime.v1alpha2 over one catalogue, faults on demand."""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import grpc

from conformance.proto import runtime_v1_pb2, runtime_v1alpha2_pb2
from conformance.reference import cri_images
from conformance.reference.cri_faults import check_faults
from conformance.reference.cri_images import CatalogueImage

PROTO_MODULES: dict[str, ModuleType] = {"v1": runtime_v1_pb2, "v1alpha2": runtime_v1alpha2_pb2}
SOCKET_PATH_MAX = 107  # bytes; sun_path holds 108 including the terminating NUL
OMITTED_BY_FAULT = "docker.io/library/busybox:1.36"  # the image `list-omits-image` leaves out


class ImageServicer:
    """The behaviour of the reference runtime, shared by both API versions."""

    def __init__(self, images: tuple[CatalogueImage, ...], faults: frozenset[str]) -> None:
        self.images = images
        self.faults = faults
        self._list_calls = itertools.count()
        self._lock = threading.Lock()

    def image_status(self, pb: ModuleType, request: Any, context: grpc.ServicerContext) -> Any:
        """Answer ImageStatus: the image named by the request, or OK with image unset."""
        reference = request.image.image
        if not reference:
            if "status-empty-ref-unknown" in self.faults:
                context.abort(grpc.StatusCode.UNKNOWN, 'can not resolve "" locally')
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "ImageSpec.image must not be empty")
        queryable = tuple(image for image in self.images if not image.embedded)
        image = cri_images.find(queryable, reference)
        if image is None:
            return self._missing(pb, reference, context)
        if "status-digest-other-image" in self.faults and cri_images.matched_by_digest(image, reference):
            image = queryable[(queryable.index(image) + 1) % len(queryable)]
        message = self._render(pb, image)
        if "status-tag-size-differs" in self.faults and cri_images.matched_by_tag(image, reference):
            message.size += 4096
        if "status-empty-id" in self.faults:
            message.id = ""
        response = pb.ImageStatusResponse(image=message)
        if request.verbose or "status-info-without-verbose" in self.faults:
            response.info["info"] = self._info(image)
        return response

    def list_images(self, pb: ModuleType, request: Any, context: grpc.ServicerContext) -> Any:
        """Answer ListImages: every image, or those the filter names, sorted by id."""
        wanted = request.filter.image.image if request.HasField("filter") else ""
        images = list(self.images)
        if wanted and "list-ignores-filter" not in self.faults:
            images = [image for image in images if cri_images.matches(image, wanted)]
            if not images and "list-no-match-lists-all" in self.faults:
                images = list(self.images)
        elif "list-omits-image" in self.faults:
            images = [image for image in images if OMITTED_BY_FAULT not in image.repo_tags]
        if "list-unstable" in self.faults:
            with self._lock:
                call = next(self._list_calls)
            if call % 2 == 1:
                images = images[1:]
        if "list-duplicate-image" in self.faults and images:
            images.append(images[0])
        return pb.ListImagesResponse(images=[self._render(pb, image, listed=True) for image in images])

    def _missing(self, pb: ModuleType, reference: str, context: grpc.ServicerContext) -> Any:
        malformed_digest_ref = "@" in reference and cri_images.normalise(reference) is None
        if "status-malformed-ref-internal" in self.faults and malformed_digest_ref:
            context.abort(grpc.StatusCode.INTERNAL, f"failed to parse image reference {reference!r}")
        if "status-missing-not-found" in self.faults:
            context.abort(grpc.StatusCode.NOT_FOUND, f"image {reference!r} not found")
        if "status-missing-empty-image" in self.faults:
            return pb.ImageStatusResponse(image=pb.Image())
        return pb.ImageStatusResponse()

    def _render(self, pb: ModuleType, image: CatalogueImage, *, listed: bool = False) -> Any:
        tags = list(image.repo_tags)
        digests = list(image.repo_digests)
        image_id = image.id
        size = image.size
        username = image.username
        if "status-tag-without-tag" in self.faults and tags:
            name, _, _ = tags[0].rpartition(":")
            tags[0] = name
        if "status-digest-short-hash" in self.faults:
            digests = [digest[: digest.index("@sha256:") + len("@sha256:") + 12] for digest in digests]
        if "status-zero-size" in self.faults:
            size = 0
        if "status-uid-and-username" in self.faults and image.uid is not None:
            username = "root" if image.uid == 0 else f"user{image.uid}"
        if listed and "list-size-differs" in self.faults:
            size += 1
        if listed and image.embedded and "list-embedded-with-digests" in self.faults:
            digests = [f"{tag.rpartition(':')[0]}@{image.id}" for tag in tags]
        if listed and image.embedded and "list-embedded-id-not-config-digest" in self.faults:
            image_id = tags[0]
        message = pb.Image(
            id=image_id,
            repo_tags=tags,
            repo_digests=digests,
            size=size,
            username=username,
            spec=pb.ImageSpec(image=image.id),
            pinned=image.pinned,
        )
        if image.uid is not None:
            message.uid.value = image.uid  # setting the value marks uid as present, even for 0
        return message

    def _info(self, image: CatalogueImage) -> str:
        if "status-info-not-json" in self.faults:
            return f"map[chainID:{image.id} size:{image.size} user:{image.config_user}]"
        return json.dumps(
            {
                "chainID": image.id,
                "imageSpec": {"architecture": "amd64", "os": "linux", "config": {"User": image.config_user}},
                "size": image.size,
            },
            sort_keys=True,
        )


def _service_handler(version: str, servicer: ImageServicer, request_log: list[str]) -> grpc.GenericRpcHandler:
    pb = PROTO_MODULES[version]
    service = f"runtime.{version}.ImageService"

    def logged(rpc: str, answer: Callable[[ModuleType, Any, grpc.ServicerContext], Any]) -> Callable[..., Any]:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            request_log.append(f"/{service}/{rpc}")
            return answer(pb, request, context)

        return handle

    return grpc.method_handlers_generic_handler(
        service,
        {
            "ListImages": grpc.unary_unary_rpc_method_handler(
                logged("ListImages", servicer.list_images),
                request_deserializer=pb.ListImagesRequest.FromString,
                response_serializer=pb.ListImagesResponse.SerializeToString,
            ),
            "ImageStatus": grpc.unary_unary_rpc_method_handler(
                logged("ImageStatus", servicer.image_status),
                request_deserializer=pb.ImageStatusRequest.FromString,
                response_serializer=pb.ImageStatusResponse.SerializeToString,
            ),
        },
    )


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
) -> RunningCriServer:
    """Serve the reference catalogue on `socket_path` for the given API versions, with `faults` injected."""
    chosen = check_faults(faults)
    served = tuple(dict.fromkeys(versions))
    unknown = [version for version in served if version not in PROTO_MODULES]
    if unknown or not served:
        raise ValueError(f"versions must be a non-empty subset of {tuple(PROTO_MODULES)}, got {tuple(versions)!r}")
    path = os.path.abspath(socket_path)
    if len(path.encode()) > SOCKET_PATH_MAX:
        raise ValueError(f"unix socket path too long ({len(path.encode())} > {SOCKET_PATH_MAX} bytes): {path!r}")
    servicer = ImageServicer(cri_images.catalogue(embedded=embedded), chosen)
    request_log: list[str] = []
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(tuple(_service_handler(version, servicer, request_log) for version in served))
    server.add_insecure_port(f"unix:{path}")
    server.start()
    return RunningCriServer(url=f"unix://{path}", socket_path=path, server=server, request_log=request_log)

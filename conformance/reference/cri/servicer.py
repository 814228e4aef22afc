"""The behaviour of the reference CRI runtime: ImageStatus and ListImages over its images, faults on demand."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import grpc

from conformance.reference.cri import faults as F
from conformance.reference.cri import images as cri_images
from conformance.reference.cri.images import CatalogueImage
from conformance.reference.cri.lifecycle import Lifecycle
from conformance.reference.cri.probe import PROTO_MODULES, CriProbe
from conformance.reference.fault import Fault

OMITTED_BY_FAULT = "docker.io/library/busybox:1.36"  # the image F.LIST_OMITS_IMAGE leaves out


class ImageServicer:
    """The behaviour of the reference runtime, shared by both API versions; ask `FAULT in self.faults`.

    With `isulad`, it answers as iSulad's code does: embedded images are listed in iSulad's wire form and left
    out of filtered lists, and ImageStatus never fills `info`, verbose or not.
    """

    def __init__(self, images: tuple[CatalogueImage, ...], faults: frozenset[Fault[CriProbe]], *,
                 isulad: bool = False) -> None:
        self.images = images
        self.faults = faults
        self.isulad = isulad
        self._list_calls = itertools.count()
        self._lock = threading.Lock()
        self.lifecycle = Lifecycle(self)  # PullImage, RemoveImage, ImageFsInfo: they change `images`

    def image_status(self, pb: ModuleType, request: Any, context: grpc.ServicerContext) -> Any:
        """Answer ImageStatus: the image named by the request, or OK with image unset."""
        reference = request.image.image
        if not reference:
            if F.STATUS_EMPTY_REF_UNKNOWN in self.faults:
                context.abort(grpc.StatusCode.UNKNOWN, 'can not resolve "" locally')
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "ImageSpec.image must not be empty")
        queryable = tuple(image for image in self.images if not (image.embedded or image.removed))
        try:
            image = cri_images.find(queryable, reference)
        except cri_images.AmbiguousReference as exc:
            if F.STATUS_AMBIGUOUS_PREFIX_PICKS_ONE not in self.faults:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            image = cri_images.sharing(queryable, cri_images.id_prefix(reference) or "")[0]
        by_id_prefix = image is not None and not cri_images.matches(image, reference)
        if image is None or (by_id_prefix and F.STATUS_ID_PREFIX_NOT_RESOLVED in self.faults):
            return self._missing(pb, reference, context)
        if F.STATUS_DIGEST_OTHER_IMAGE in self.faults and cri_images.matched_by_digest(image, reference):
            image = queryable[(queryable.index(image) + 1) % len(queryable)]
        message = self._render(pb, image)
        if F.STATUS_TAG_SIZE_DIFFERS in self.faults and cri_images.matched_by_tag(image, reference):
            message.size += 4096
        if F.STATUS_EMPTY_ID in self.faults:
            message.id = ""
        if request.verbose and F.STATUS_VERBOSE_NO_IMAGE in self.faults:
            return pb.ImageStatusResponse()
        response = pb.ImageStatusResponse(image=message)
        verbose_info = not self.isulad or F.STATUS_VERBOSE_INFO_ISULAD in self.faults
        if (request.verbose and verbose_info) or F.STATUS_INFO_WITHOUT_VERBOSE in self.faults:
            response.info["info"] = self._info(image)
        return response

    def list_images(self, pb: ModuleType, request: Any, context: grpc.ServicerContext) -> Any:
        """Answer ListImages: every image, or those the filter names, sorted by id."""
        wanted = request.filter.image.image if request.HasField("filter") else ""
        images = list(self.images)
        by_digest = "@" in wanted
        ignored = F.LIST_IGNORES_FILTER in self.faults or (F.LIST_DIGEST_FILTER_IGNORED in self.faults and by_digest)
        if wanted and not ignored:
            # iSulad's embedded_list_images answers nothing when a filter is given.
            images = [image for image in images if cri_images.matches(image, wanted) and not image.embedded]
            if not images and F.LIST_NO_MATCH_LISTS_ALL in self.faults:
                images = list(self.images)
        elif F.LIST_OMITS_IMAGE in self.faults:
            images = [image for image in images if OMITTED_BY_FAULT not in image.repo_tags]
        if F.LIST_UNSTABLE in self.faults:
            with self._lock:
                call = next(self._list_calls)
            if call % 2 == 1:
                images = images[1:]
        if F.LIST_DUPLICATE_IMAGE in self.faults and images:
            images.append(images[0])
        return pb.ListImagesResponse(images=[self._render(pb, image, listed=True) for image in images])

    def _missing(self, pb: ModuleType, reference: str, context: grpc.ServicerContext) -> Any:
        malformed_digest_ref = "@" in reference and cri_images.normalise(reference) is None
        if F.STATUS_MALFORMED_REF_INTERNAL in self.faults and malformed_digest_ref:
            context.abort(grpc.StatusCode.INTERNAL, f"failed to parse image reference {reference!r}")
        if F.STATUS_MISSING_NOT_FOUND in self.faults:
            context.abort(grpc.StatusCode.NOT_FOUND, f"image {reference!r} not found")
        if F.STATUS_MISSING_EMPTY_IMAGE in self.faults:
            return pb.ImageStatusResponse(image=pb.Image())
        return pb.ImageStatusResponse()

    def _render(self, pb: ModuleType, image: CatalogueImage, *, listed: bool = False) -> Any:
        tags = list(image.repo_tags)
        digests = list(image.repo_digests)
        image_id = image.id
        size = image.size
        username = image.username
        if F.STATUS_TAG_WITHOUT_TAG in self.faults and tags:
            name, _, _ = tags[0].rpartition(":")
            tags[0] = name
        if F.STATUS_ORDINARY_BARE_DIGEST in self.faults and not image.embedded:
            digests = [digest.partition("@")[2] for digest in digests]
        if F.STATUS_DIGEST_SHORT_HASH in self.faults:
            digests = [digest[: digest.index("@sha256:") + len("@sha256:") + 12] for digest in digests]
        if F.STATUS_ZERO_SIZE in self.faults:
            size = 0
        if F.STATUS_UID_AND_USERNAME in self.faults and image.uid is not None:
            username = "root" if image.uid == 0 else f"user{image.uid}"
        if listed and F.LIST_SIZE_DIFFERS in self.faults:
            size += 1
        if image.embedded:
            # iSulad's embedded_image.c: id is the config digest without `sha256:`, the one repo digest is the
            # config digest as stored (no `name@` part).
            image_id, digests = image.hex, [image.id]
            if F.LIST_EMBEDDED_WITH_DIGESTS in self.faults:
                digests = [f"{tag.rpartition(':')[0]}@{image.id}" for tag in tags]
            if F.LIST_EMBEDDED_ID_NOT_CONFIG_DIGEST in self.faults:
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
        if F.STATUS_INFO_NOT_JSON in self.faults:
            return f"map[chainID:{image.id} size:{image.size} user:{image.config_user}]"
        return json.dumps(
            {
                "chainID": image.id,
                "imageSpec": {"architecture": "amd64", "os": "linux", "config": {"User": image.config_user}},
                "size": image.size,
            },
            sort_keys=True,
        )


def service_handler(version: str, servicer: ImageServicer, request_log: list[str]) -> grpc.GenericRpcHandler:
    """The gRPC handler of runtime.<version>.ImageService, logging each method path to `request_log`."""
    pb = PROTO_MODULES[version]
    service = f"runtime.{version}.ImageService"

    def logged(rpc: str, answer: Callable[[ModuleType, Any, grpc.ServicerContext], Any]) -> Callable[..., Any]:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            request_log.append(f"/{service}/{rpc}")
            return answer(pb, request, context)

        return handle

    lifecycle = servicer.lifecycle
    answers = {  # rpc -> (answer, request message name, response message name)
        "ListImages": (servicer.list_images, "ListImagesRequest", "ListImagesResponse"),
        "ImageStatus": (servicer.image_status, "ImageStatusRequest", "ImageStatusResponse"),
        "PullImage": (lifecycle.pull_image, "PullImageRequest", "PullImageResponse"),
        "RemoveImage": (lifecycle.remove_image, "RemoveImageRequest", "RemoveImageResponse"),
        "ImageFsInfo": (lifecycle.image_fs_info, "ImageFsInfoRequest", "ImageFsInfoResponse"),
    }
    return grpc.method_handlers_generic_handler(
        service,
        {
            rpc: grpc.unary_unary_rpc_method_handler(
                logged(rpc, answer),
                request_deserializer=getattr(pb, request).FromString,
                response_serializer=getattr(pb, response).SerializeToString,
            )
            for rpc, (answer, request, response) in answers.items()
        },
    )

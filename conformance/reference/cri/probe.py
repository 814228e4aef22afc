"""The gRPC client fault probes use: the ImageService calls on a running reference, status codes as names."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any

import grpc

from conformance.proto import runtime_v1_pb2, runtime_v1alpha2_pb2

# The generated module of each CRI API version, shared with the servicer.
PROTO_MODULES: dict[str, ModuleType] = {"v1": runtime_v1_pb2, "v1alpha2": runtime_v1alpha2_pb2}


@dataclass(frozen=True)
class Answer:
    """One RPC's outcome: the status code name, and the response message when the code is OK."""

    code: str
    response: Any  # None unless the code is OK

    @property
    def image(self) -> Any:
        """The Image of an ImageStatus answer; None when the call failed or left image unset."""
        if self.response is None or not self.response.HasField("image"):
            return None
        return self.response.image

    @property
    def images(self) -> list[Any]:
        """The images of a ListImages answer (none when the call failed)."""
        return [] if self.response is None else list(self.response.images)


class CriProbe:
    """A plain gRPC client of one CRI API version (`v1` or `v1alpha2`) at `url` (unix:///path)."""

    def __init__(self, url: str, version: str, *, timeout: float = 5) -> None:
        self.version = version
        self.pb = PROTO_MODULES[version]
        self.service = f"/runtime.{version}.ImageService"
        self.timeout = timeout
        self.channel = grpc.insecure_channel(url)

    def __enter__(self) -> CriProbe:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.channel.close()

    def status(self, reference: str, *, verbose: bool = False) -> Answer:
        """ImageStatus of `reference`."""
        request = self.pb.ImageStatusRequest(image=self.pb.ImageSpec(image=reference), verbose=verbose)
        return self._call("ImageStatus", request, self.pb.ImageStatusResponse)

    def list(self, reference: str | None = None) -> Answer:
        """ListImages, filtered by `reference` when given."""
        request = self.pb.ListImagesRequest()
        if reference is not None:
            request.filter.image.image = reference
        return self._call("ListImages", request, self.pb.ListImagesResponse)

    def pull(self, reference: str, *, timeout: float | None = None) -> Answer:
        """PullImage of `reference`, with this probe's timeout unless `timeout` is given."""
        request = self.pb.PullImageRequest(image=self.pb.ImageSpec(image=reference))
        return self._call("PullImage", request, self.pb.PullImageResponse, timeout=timeout)

    def remove(self, reference: str) -> Answer:
        """RemoveImage of `reference`."""
        request = self.pb.RemoveImageRequest(image=self.pb.ImageSpec(image=reference))
        return self._call("RemoveImage", request, self.pb.RemoveImageResponse)

    def fs_info(self) -> Answer:
        """ImageFsInfo."""
        return self._call("ImageFsInfo", self.pb.ImageFsInfoRequest(), self.pb.ImageFsInfoResponse)

    def _call(self, rpc: str, request: Any, response_type: Any, *, timeout: float | None = None) -> Answer:
        call = self.channel.unary_unary(f"{self.service}/{rpc}", request_serializer=type(request).SerializeToString,
                                        response_deserializer=response_type.FromString)
        try:
            return Answer("OK", call(request, timeout=timeout or self.timeout))
        except grpc.RpcError as exc:
            return Answer(exc.code().name, None)  # type: ignore[attr-defined]

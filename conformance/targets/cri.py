"""CRI ImageService client (runtime.v1 / runtime.v1alpha2 over gRPC): bounded in time, every call recorded."""

from __future__ import annotations

import inspect
import json
import os
import stat
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from conformance.evidence import Exchange, ExchangeLog, json_text
from conformance.proto import runtime_v1_pb2, runtime_v1alpha2_pb2
from conformance.short_repr import ShortRepr, shown_address
from conformance.targets.errors import TargetError
from conformance.targets.limits import RunLimits
from conformance.targets.retry import give_up
from conformance.targets.wire_bounds import parse_bounded

VERSIONS = ("v1", "v1alpha2")
PROTO_MODULES: dict[str, ModuleType] = {"v1": runtime_v1_pb2, "v1alpha2": runtime_v1alpha2_pb2}
RPCS = {  # rpc name -> (request message name, response message name)
    "ImageStatus": ("ImageStatusRequest", "ImageStatusResponse"),
    "ListImages": ("ListImagesRequest", "ListImagesResponse"),
    # write mode (--allow-writes) and ImageFsInfo: conformance/targets/cri_lifecycle.py
    "PullImage": ("PullImageRequest", "PullImageResponse"),
    "RemoveImage": ("RemoveImageRequest", "RemoveImageResponse"),
    "ImageFsInfo": ("ImageFsInfoRequest", "ImageFsInfoResponse"),
}
MAX_RECEIVE_BYTES = 16 * 1024 * 1024  # one answer; 20,000 listed images with a few tags each take about 6 MB
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
    ("grpc.enable_retries", 0),  # one request, one recorded answer
)
# repeated entries (images, tags, digests, info entries) of one answer read: 5,000 listed images with a few tags and
# digests each fit; an answer of millions of two-byte entries is walked, not parsed, past it
ANSWER_ENTRIES = 100_000
TRANSPORT_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
READ_RPCS = frozenset({"ImageStatus", "ListImages", "ImageFsInfo"})  # the only calls ever sent again: never a write
SHED_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})  # a busy runtime's answers
REPLAY_TIMEOUT = 30.0

# protobuf >= 5.26 renamed including_default_value_fields; support whichever this runtime has.
_DEFAULTS_FLAG = (
    "always_print_fields_with_no_presence"
    if "always_print_fields_with_no_presence" in inspect.signature(json_format.MessageToDict).parameters
    else "including_default_value_fields"
)


@dataclass
class CriResult(ShortRepr):
    """The outcome of one CRI call that reached the target, with the censored exchange that shows it."""

    code: str  # gRPC status code name, "OK" on success
    details: str  # status details ("" on OK)
    response: dict[str, Any] | None  # the response in proto3 JSON form (64-bit integers are strings); None unless OK
    image_set: bool  # ImageStatus: whether `image` is set in the response; False otherwise
    exchange: Exchange
    limits: RunLimits = field(repr=False)  # the caps a JSON text it carries is read under
    message: Message | None = None  # the decoded response message; None unless OK
    left_out: int = 0  # ListImages: listed images past --max-listed, dropped unread from `response` and `message`
    dropped: dict[str, int] = field(default_factory=dict)  # field -> entries past ANSWER_ENTRIES, dropped unread

    def __repr__(self) -> str:
        return f"CriResult({self.exchange.method}: {self.code})"

    def loads(self, text: str) -> Any:
        """JSON text the answer carried (a verbose `info` value) parsed within the run's caps: TooManyValues past
        --max-json-values, another ValueError when it is not JSON."""
        return self.limits.loads(text)


def response_dict(message: Message) -> dict[str, Any]:
    """`message` in proto3 JSON form with proto field names, fields without presence always present."""
    options = {"preserving_proto_field_name": True, _DEFAULTS_FLAG: True}
    data: dict[str, Any] = json_format.MessageToDict(message, **options)
    return data


def _request_text(message: Message) -> str:
    return json_text(json_format.MessageToDict(message, preserving_proto_field_name=True))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def method_path(version: str, rpc: str) -> str:
    """The gRPC method path, e.g. `/runtime.v1.ImageService/ImageStatus`."""
    return f"/runtime.{version}.ImageService/{rpc}"


def _proto(version: str) -> ModuleType:
    try:
        return PROTO_MODULES[version]
    except KeyError:
        raise ValueError(f"unknown CRI API version {version!r}; expected one of {VERSIONS}") from None


def _open_channel(address: str) -> grpc.Channel:
    # insecure_channel only parses the target; connecting happens lazily on the first call.
    return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)


@dataclass
class _Answer:
    code: grpc.StatusCode
    details: str
    message: Message | None
    elapsed: float
    dropped: dict[str, int] = field(default_factory=dict)


def _callable(channel: grpc.Channel, version: str, rpc: str, listed: int) -> grpc.UnaryUnaryMultiCallable:
    """The stub of one RPC on `channel` (made once per target: making it costs about as much as a small call); its
    answer is read within ANSWER_ENTRIES repeated entries, and ListImages within `listed` images."""
    response_type = getattr(_proto(version), RPCS[rpc][1])
    caps = {response_type.DESCRIPTOR.fields_by_name["images"].full_name: listed} if rpc == "ListImages" else {}
    return channel.unary_unary(
        method_path(version, rpc),
        request_serializer=lambda message: message.SerializeToString(),
        response_deserializer=lambda data: parse_bounded(response_type, data, ANSWER_ENTRIES, caps),
    )


def _invoke(call: grpc.UnaryUnaryMultiCallable, request: Message, timeout: float) -> _Answer:
    started = time.monotonic()
    try:
        bounded = call(request, timeout=timeout)
    except grpc.RpcError as exc:
        code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
        details = (exc.details() if isinstance(exc, grpc.Call) else None) or str(exc)
        return _Answer(code, details, None, time.monotonic() - started)
    return _Answer(grpc.StatusCode.OK, "", bounded.message, time.monotonic() - started, dict(bounded.dropped))


def _unix_socket_path(address: str) -> str | None:
    if address.startswith("unix://"):
        return address[len("unix://"):]
    if address.startswith("unix:"):
        return address[len("unix:"):]
    return None


def _check_socket(address: str) -> None:
    path = _unix_socket_path(address)
    if path is None:
        return
    if not os.path.exists(path):
        raise TargetError(f"no CRI socket at {path}")
    if not stat.S_ISSOCK(os.stat(path).st_mode):
        raise TargetError(f"{path} exists but is not a unix socket")


class CriTarget(ShortRepr):
    """A CRI ImageService endpoint spoken to in one API version."""

    def __init__(self, address: str, version: str, *, limits: RunLimits, log: ExchangeLog) -> None:
        self.address = address
        self.version = version
        self.pb = _proto(version)
        self.limits = limits
        self.log = log
        self._channel = _open_channel(address)
        self._calls: dict[str, grpc.UnaryUnaryMultiCallable] = {}
        # UNAVAILABLE is load shedding once the runtime has answered, and the runtime is down once it kept answering
        # it past the retries: an unreachable runtime costs no retries, a dead one costs them once
        self._answered = False
        self._down = False

    def __repr__(self) -> str:
        return f"CriTarget({shown_address(self.address)}, {self.version})"

    def image_status(
        self, image: str, *, verbose: bool = False, annotations: dict[str, str] | None = None
    ) -> CriResult:
        """Call ImageStatus for `image`."""
        spec = self.pb.ImageSpec(image=image, annotations=annotations or {})
        return self._call("ImageStatus", self.pb.ImageStatusRequest(image=spec, verbose=verbose))

    def list_images(self, filter_image: str | None = None) -> CriResult:
        """Call ListImages; None sends no filter at all, a string (even "") sends a filter with that image."""
        request = self.pb.ListImagesRequest()
        if filter_image is not None:
            request.filter.image.image = filter_image
            request.filter.image.SetInParent()  # keep the filter present even when the image is ""
        return self._call("ListImages", request)

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def __enter__(self) -> CriTarget:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, rpc: str, request: Message, *, timeout: float | None = None,
              deadline_answers: bool = False) -> CriResult:
        """One call, under `timeout` (default --timeout); `deadline_answers`: DEADLINE_EXCEEDED is a result."""
        path = method_path(self.version, rpc)
        if rpc not in self._calls:
            self._calls[rpc] = _callable(self._channel, self.version, rpc, self.limits.listed)
        answer, limit = self._retrying(rpc, path, request, timeout)
        exchange = self._exchange(path, request, answer)
        deadline_answered = answer.code is grpc.StatusCode.DEADLINE_EXCEEDED and deadline_answers and limit == timeout
        if answer.code in TRANSPORT_CODES and not deadline_answered:
            exchange.error = _one_line(f"{answer.code.name}: {answer.details}")
            error = TargetError(f"CRI call {path} to {self.address} failed: {exchange.error}")
            if answer.code is grpc.StatusCode.DEADLINE_EXCEEDED and self.limits.used_up():
                error = self.limits.exhausted(f"CRI call {path} cut")
            error.exchange = self.log.record(exchange)
            raise error
        # a runtime may list (or ignore a filter and list) any number of images: those past --max-listed are not read
        images = f"{self.pb.DESCRIPTOR.package}.ListImagesResponse.images"
        left_out = answer.dropped.pop(images, 0) if rpc == "ListImages" else 0
        response = response_dict(answer.message) if answer.message is not None else None
        if response is not None:
            exchange.response_body = json_text(response)
        elif answer.details:
            exchange.response_body = json_text({"details": answer.details})
        return CriResult(
            code=answer.code.name,
            details=answer.details,
            response=response,
            image_set=rpc == "ImageStatus" and answer.message is not None and answer.message.HasField("image"),
            exchange=self.log.record(exchange),
            message=answer.message,
            left_out=left_out,
            dropped=answer.dropped,
            limits=self.limits,
        )

    def _retrying(self, rpc: str, path: str, request: Message, timeout: float | None) -> tuple[_Answer, float]:
        """The answer to one call and the time limit it had, sent again while the runtime sheds a read call
        (UNAVAILABLE, RESOURCE_EXHAUSTED), as often and as long as the retry policy allows; each shed attempt is
        recorded and counted. TargetUnavailable when the runtime kept answering RESOURCE_EXHAUSTED; a persistent
        UNAVAILABLE is returned, a transport failure as before."""
        policy, retry = self.limits.retry, 0
        while True:
            limit = self.limits.call_limit(f"CRI call {path}", timeout)
            answer = _invoke(self._calls[rpc], request, limit)
            unavailable = answer.code is grpc.StatusCode.UNAVAILABLE
            if answer.code not in TRANSPORT_CODES:
                self._answered = True
            if rpc not in READ_RPCS or answer.code not in SHED_CODES or (
                    unavailable and (self._down or not self._answered)):
                return answer, limit
            wait = policy.wait(None, retry + 1)
            why = None
            if retry >= policy.retries:
                why = f"no retry left of --retries {policy.retries}"
            elif wait > policy.max_wait:
                why = f"a backoff of {wait:g}s is longer than --retry-wait {policy.max_wait:g}s"
            elif wait >= self.limits.left():
                why = f"a wait of {wait:g}s would outlast the run's --budget"
            if why is not None and unavailable:
                self._down = True
                answer.details = f"{answer.details} (after {retry} retries; {why})"
                return answer, limit
            shed = self._exchange(path, request, answer)
            shed.error = _one_line(f"{answer.code.name}: {answer.details}")
            self.log.record(shed)
            if why is not None:
                raise give_up("CRI call", path, answer.code.name, retry, why)
            time.sleep(wait)
            retry += 1
            self.log.count_retry()

    def _exchange(self, path: str, request: Message, answer: _Answer) -> Exchange:
        """The evidence of one call: what was asked and the status it got."""
        return Exchange(protocol="grpc", method=path, target=self.address, request_body=_request_text(request),
                        status=answer.code.name, elapsed=answer.elapsed)


def probe_versions(address: str, *, limits: RunLimits) -> list[str]:
    """The CRI API versions at `address` that answer ListImages with anything but UNIMPLEMENTED."""
    _check_socket(address)
    channel = _open_channel(address)
    answering = []
    try:
        for version in VERSIONS:
            limit = limits.call_limit(f"CRI call {method_path(version, 'ListImages')}")
            call = _callable(channel, version, "ListImages", limits.listed)
            answer = _invoke(call, _proto(version).ListImagesRequest(), limit)
            if answer.code in TRANSPORT_CODES:
                reason = f"{answer.code.name}: {answer.details}"
                raise TargetError(_one_line(f"cannot reach CRI endpoint {address}: {reason}"))
            if answer.code is not grpc.StatusCode.UNIMPLEMENTED:
                answering.append(version)
    finally:
        channel.close()
    return answering


def _parse_method(method: str) -> tuple[str, str]:
    service, _, rpc = method.strip("/").partition("/")
    prefix, suffix = "runtime.", ".ImageService"
    version = service[len(prefix):-len(suffix)] if service.startswith(prefix) and service.endswith(suffix) else ""
    if version not in PROTO_MODULES or rpc not in RPCS:
        raise ValueError(f"not a CRI ImageService method this suite knows: {method!r}")
    return version, rpc


def replay(address: str, method: str, request_json: str) -> None:
    """Send the request again (as a reproduction command does) and print the status and response JSON."""
    version, rpc = _parse_method(method)
    request = getattr(_proto(version), RPCS[rpc][0])()
    json_format.Parse(request_json, request)
    channel = _open_channel(address)
    try:
        answer = _invoke(_callable(channel, version, rpc, ANSWER_ENTRIES), request, REPLAY_TIMEOUT)
    finally:
        channel.close()
    print(f"status: {answer.code.name}")
    if answer.details:
        print(f"details: {_one_line(answer.details)}")
    if answer.message is not None:
        print(json_text(response_dict(answer.message)))
        if rpc == "ImageStatus":
            print(f"image set: {json.dumps(answer.message.HasField('image'))}")

"""The reference CRI server behaves as documented, each fault changes an answer, and the client reports honestly."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from conformance import OPERATIONS
from conformance.evidence import Censor, ExchangeLog
from conformance.proto import runtime_v1_pb2
from conformance.reference.cri.faults import CRI_FAULTS
from conformance.reference.cri.images import catalogue
from conformance.reference.cri_server import RunningCriServer, start_cri_server
from conformance.targets.cri import CriResult, CriTarget, probe_versions, replay
from conformance.targets.errors import TargetError
from selftests.run_limits import limits

VERSIONS = ("v1", "v1alpha2")
CRI_OPERATIONS = tuple(op for op in OPERATIONS if op.startswith("cri."))
ABSENT = "docker.io/library/absent:1.0"
BUSYBOX_TAG = "docker.io/library/busybox:1.36"
CLEAN = catalogue()
BUSYBOX = next(image for image in CLEAN if BUSYBOX_TAG in image.repo_tags)
DEBIAN = next(image for image in CLEAN if "docker.io/library/debian:12" in image.repo_tags)


def _start(socket_dir: str, name: str, **options: Any) -> RunningCriServer:
    return start_cri_server(socket_path=os.path.join(socket_dir, f"{name}.sock"), **options)


@pytest.fixture(scope="module")
def clean(socket_dir: str) -> Iterator[RunningCriServer]:
    server = _start(socket_dir, "clean")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def with_embedded(socket_dir: str) -> Iterator[RunningCriServer]:
    server = _start(socket_dir, "embedded", embedded=True)
    yield server
    server.stop()


@pytest.fixture
def log() -> ExchangeLog:
    return ExchangeLog(Censor())


@pytest.fixture(params=VERSIONS)
def target(request: pytest.FixtureRequest, clean: RunningCriServer, log: ExchangeLog) -> Iterator[CriTarget]:
    with CriTarget(clean.url, request.param, limits=limits(timeout="5"), log=log) as cri:
        yield cri


def _image(result: CriResult) -> dict[str, Any]:
    assert result.code == "OK" and result.image_set and result.response is not None, result
    image: dict[str, Any] = result.response["image"]
    return image


def _listed(result: CriResult) -> list[dict[str, Any]]:
    assert result.code == "OK" and result.response is not None, result
    images: list[dict[str, Any]] = result.response["images"]
    return images


# ImageStatus


@pytest.mark.parametrize("image", CLEAN, ids=lambda image: (image.repo_tags or image.repo_digests)[0])
def test_status_by_id_tag_and_digest_describe_the_same_image(target: CriTarget, image: Any) -> None:
    by_id = _image(target.image_status(image.id))
    assert by_id["id"] == image.id and int(by_id["size"]) == image.size
    for reference in (*image.repo_tags, *image.repo_digests):
        assert _image(target.image_status(reference)) == by_id, reference


@pytest.mark.parametrize(
    "reference",
    ["busybox:1.36", "docker.io/busybox:1.36", "library/busybox:1.36", "index.docker.io/library/busybox:1.36"],
)
def test_status_by_normalised_name(target: CriTarget, reference: str) -> None:
    assert _image(target.image_status(reference))["id"] == BUSYBOX.id


def test_status_without_tag_means_latest(target: CriTarget) -> None:
    assert _image(target.image_status("busybox"))["id"] == BUSYBOX.id
    assert not target.image_status("redis").image_set  # redis has no :latest


def test_status_of_digest_with_tag_resolves_by_digest(target: CriTarget) -> None:
    digest = BUSYBOX.repo_digests[0].split("@")[1]
    assert _image(target.image_status(f"busybox:no-such-tag@{digest}"))["id"] == BUSYBOX.id


@pytest.mark.parametrize(
    "reference",
    [
        ABSENT,
        "sha256:" + "0" * 64,
        "Upper/Case:1",
        "busybox@sha256:abc",
        "busybox@@",
        "x" * 5000,
        "bad\x00ref",
        "bild:🙂",
        "\u202e",
        "sha256:" + BUSYBOX.hex[:12] + "x",
        BUSYBOX.hex[:12].upper(),  # a short id is lower-case hex, as containerd's digest set compares it
    ],
    ids=lambda reference: repr(reference[:20]),
)
def test_status_of_missing_or_malformed_reference_is_ok_with_image_unset(target: CriTarget, reference: str) -> None:
    result = target.image_status(reference)
    assert (result.code, result.image_set) == ("OK", False)
    assert result.response is not None and "image" not in result.response


@pytest.mark.parametrize("length", [1, 5, 12, 63, 64])
def test_status_by_id_without_sha256_and_by_unique_prefix(target: CriTarget, length: int) -> None:
    by_id = _image(target.image_status(BUSYBOX.id))
    unique = [image.hex[:length] for image in CLEAN if sum(o.hex.startswith(image.hex[:length]) for o in CLEAN) == 1]
    prefix = BUSYBOX.hex[:length] if length > 4 else unique[0]
    for reference in (prefix, f"sha256:{prefix}"):
        assert _image(target.image_status(reference))["id"].removeprefix("sha256:").startswith(prefix), reference
    if length > 4:
        assert _image(target.image_status(prefix)) == by_id


def test_twin_ids_share_a_prefix_that_is_ambiguous(target: CriTarget) -> None:
    assert BUSYBOX.hex[:4] == DEBIAN.hex[:4] and BUSYBOX.hex[4] != DEBIAN.hex[4]
    for reference in (BUSYBOX.hex[:4], "sha256:" + BUSYBOX.hex[:2], BUSYBOX.hex[:1]):
        result = target.image_status(reference)
        assert result.code == "INVALID_ARGUMENT" and "ambiguous" in result.details and not result.image_set


def test_status_of_empty_reference_is_invalid_argument(target: CriTarget) -> None:
    result = target.image_status("")
    assert result.code == "INVALID_ARGUMENT" and result.response is None and result.details


def test_status_user_fields(target: CriTarget) -> None:
    root = _image(target.image_status(BUSYBOX_TAG))
    assert root["uid"] == {"value": "0"} and root["username"] == ""
    named = _image(target.image_status("quay.io/prometheus/node-exporter:v1.7.0"))
    assert "uid" not in named and named["username"] == "nobody"
    numeric = _image(target.image_status("ghcr.io/example/webapp:2.1"))
    assert numeric["uid"] == {"value": "1000"} and numeric["username"] == ""


def test_status_info_only_when_verbose(target: CriTarget) -> None:
    assert target.image_status(BUSYBOX_TAG).response["info"] == {}  # type: ignore[index]
    info = target.image_status(BUSYBOX_TAG, verbose=True).response["info"]  # type: ignore[index]
    assert info and all(isinstance(json.loads(value), dict) for value in info.values())


@pytest.mark.parametrize("version", VERSIONS)
def test_isulad_reference_answers_no_info_even_with_verbose(with_embedded: RunningCriServer, log: ExchangeLog,
                                                             version: str) -> None:
    with CriTarget(with_embedded.url, version, limits=limits(timeout="5"), log=log) as cri:
        result = cri.image_status(BUSYBOX_TAG, verbose=True)
        assert result.image_set and result.response is not None and result.response["info"] == {}


def test_status_annotations_are_accepted(target: CriTarget) -> None:
    assert _image(target.image_status(BUSYBOX_TAG, annotations={"k": "v"}))["id"] == BUSYBOX.id


# ListImages


def test_list_is_sorted_unique_and_matches_status(target: CriTarget) -> None:
    listed = _listed(target.list_images())
    ids = [image["id"] for image in listed]
    assert ids == sorted(image.id for image in CLEAN)
    assert _listed(target.list_images()) == listed
    assert _listed(target.list_images("")) == listed
    for image in listed:
        assert _image(target.image_status(image["id"])) == image


@pytest.mark.parametrize("image", CLEAN, ids=lambda image: (image.repo_tags or image.repo_digests)[0])
def test_list_filter_returns_the_image_it_names(target: CriTarget, image: Any) -> None:
    for reference in (image.id, *image.repo_tags, *image.repo_digests):
        assert [found["id"] for found in _listed(target.list_images(reference))] == [image.id], reference


def test_list_filter_by_short_name_and_no_match(target: CriTarget) -> None:
    assert [image["id"] for image in _listed(target.list_images("busybox"))] == [BUSYBOX.id]
    assert _listed(target.list_images(ABSENT)) == []
    assert _listed(target.list_images("Not A Reference")) == []


def test_catalogue_covers_the_interesting_shapes() -> None:
    assert len(CLEAN) >= 7 and not any(image.embedded for image in CLEAN)
    assert any(one.hex[:4] == other.hex[:4] for one in CLEAN for other in CLEAN if one is not other)
    assert any(not image.repo_tags and image.repo_digests for image in CLEAN)
    assert any(len({tag.rpartition(":")[0] for tag in image.repo_tags}) > 1 for image in CLEAN)
    assert {(image.uid, image.username) for image in CLEAN} >= {(0, ""), (1000, ""), (None, "nobody")}
    for image in CLEAN:
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", image.id) and image.size > 0
        assert all(re.fullmatch(r"[^@]+@sha256:[0-9a-f]{64}", digest) for digest in image.repo_digests)


@pytest.mark.parametrize("version", VERSIONS)
def test_embedded_image_is_listed_but_not_queryable(
    with_embedded: RunningCriServer, log: ExchangeLog, version: str
) -> None:
    with CriTarget(with_embedded.url, version, limits=limits(timeout="5"), log=log) as cri:
        listed = _listed(cri.list_images())
        extra = [image for image in listed if image["id"] not in {known.id for known in CLEAN}]
        assert len(listed) == len(CLEAN) + 1 and len(extra) == 1
        embedded = extra[0]
        # iSulad's embedded_image.c: id = config digest without sha256:, repo_digests = [the config digest as stored]
        assert re.fullmatch(r"[0-9a-f]{64}", embedded["id"])
        assert len(embedded["repo_tags"]) == 1 and embedded["repo_digests"] == ["sha256:" + embedded["id"]]
        for reference in (embedded["id"], "sha256:" + embedded["id"], embedded["id"][:12], *embedded["repo_tags"]):
            result = cri.image_status(reference)
            assert (result.code, result.image_set) == ("OK", False)
        # iSulad's embedded_list_images answers nothing when a filter is given
        assert _listed(cri.list_images(embedded["repo_tags"][0])) == []


# Faults (each fault's own probe is run in selftests/test_sensitivity.py)


def test_every_cri_fault_has_a_catalogue_id() -> None:
    for name, fault in CRI_FAULTS.items():
        assert fault.name == name and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", name)
        assert fault.operation in CRI_OPERATIONS and fault.description
        assert re.fullmatch(r"CRI-(IMAGESTATUS|LISTIMAGES|PULLIMAGE|REMOVEIMAGE|IMAGEFSINFO)-[A-Z0-9-]+", fault.breaks)
        assert fault.breaks.split("-")[1] == fault.operation.split(".")[1].upper()


def test_unknown_fault_and_bad_options_are_refused(socket_dir: str) -> None:
    with pytest.raises(ValueError, match="unknown fault 'no-such-fault'"):
        _start(socket_dir, "x", faults=["no-such-fault"])
    with pytest.raises(ValueError, match="versions"):
        _start(socket_dir, "x", versions=("v2",))
    with pytest.raises(ValueError, match="too long"):
        start_cri_server(socket_path="/tmp/" + "s" * 120 + ".sock")


# The client


def test_probe_versions(socket_dir: str, clean: RunningCriServer, log: ExchangeLog) -> None:
    assert probe_versions(clean.url, limits=limits(timeout="5")) == ["v1", "v1alpha2"]
    with _start(socket_dir, "alpha", versions=("v1alpha2",)) as alpha:
        assert alpha.url.startswith("unix:///")
        assert probe_versions(alpha.url, limits=limits(timeout="5")) == ["v1alpha2"]
        with CriTarget(alpha.url, "v1", limits=limits(timeout="5"), log=log) as cri:
            assert cri.list_images().code == "UNIMPLEMENTED"
        assert alpha.request_log[-1] == "/runtime.v1alpha2.ImageService/ListImages"


def _assert_one_line_target_error(call: Callable[[], object], match: str) -> None:
    with pytest.raises(TargetError, match=match) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_missing_socket_is_a_target_error(socket_dir: str, log: ExchangeLog) -> None:
    path = os.path.join(socket_dir, "absent.sock")
    _assert_one_line_target_error(lambda: probe_versions(f"unix://{path}", limits=limits(timeout="2")),
                                  f"no CRI socket at {path}")
    with CriTarget(f"unix://{path}", "v1", limits=limits(timeout="2"), log=log) as cri:
        _assert_one_line_target_error(cri.list_images, "UNAVAILABLE")
    (exchange,) = log.drain()
    assert exchange.status == "UNAVAILABLE" and exchange.error and exchange.response_body is None


def test_socket_nobody_listens_on_is_a_target_error(socket_dir: str, log: ExchangeLog) -> None:
    path = os.path.join(socket_dir, "deaf.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as deaf:
        deaf.bind(path)  # the file exists, but nobody calls listen()
        _assert_one_line_target_error(lambda: probe_versions(f"unix://{path}", limits=limits(timeout="2")),
                                      "cannot reach")
        with CriTarget(f"unix://{path}", "v1alpha2", limits=limits(timeout="2"), log=log) as cri:
            _assert_one_line_target_error(lambda: cri.image_status(BUSYBOX_TAG), "UNAVAILABLE")
    regular = os.path.join(socket_dir, "regular-file")
    with open(regular, "w"):
        pass
    _assert_one_line_target_error(lambda: probe_versions(f"unix://{regular}", limits=limits(timeout="2")),
                                  "not a unix socket")


def test_deadline_is_a_target_error(socket_dir: str, log: ExchangeLog) -> None:
    release = threading.Event()

    def stall(request: Any, context: grpc.ServicerContext) -> Any:
        release.wait(5)
        return runtime_v1_pb2.ImageStatusResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(
        stall,
        request_deserializer=runtime_v1_pb2.ImageStatusRequest.FromString,
        response_serializer=runtime_v1_pb2.ImageStatusResponse.SerializeToString,
    )
    service = grpc.method_handlers_generic_handler("runtime.v1.ImageService", {"ImageStatus": handler})
    server.add_generic_rpc_handlers((service,))
    path = os.path.join(socket_dir, "slow.sock")
    server.add_insecure_port(f"unix:{path}")
    server.start()
    try:
        with CriTarget(f"unix://{path}", "v1", limits=limits(timeout="0.2"), log=log) as cri:
            _assert_one_line_target_error(lambda: cri.image_status(BUSYBOX_TAG), "DEADLINE_EXCEEDED")
    finally:
        release.set()
        server.stop(None)
    (exchange,) = log.drain()
    assert exchange.status == "DEADLINE_EXCEEDED" and exchange.error


def test_exchanges_are_recorded(clean: RunningCriServer, log: ExchangeLog) -> None:
    with CriTarget(clean.url, "v1", limits=limits(timeout="5"), log=log) as cri:
        cri.image_status(BUSYBOX_TAG, verbose=True)
        cri.image_status("")
        cri.list_images(None)
        cri.list_images("")
    status, invalid, unfiltered, filtered = log.drain()
    assert (status.protocol, status.target) == ("grpc", clean.url)
    assert status.method == "/runtime.v1.ImageService/ImageStatus"
    assert json.loads(status.request_body or "") == {"image": {"image": BUSYBOX_TAG}, "verbose": True}
    assert status.status == "OK" and json.loads(status.response_body or "")["image"]["id"] == BUSYBOX.id
    assert status.error is None and status.elapsed > 0
    assert invalid.status == "INVALID_ARGUMENT" and "empty" in (invalid.response_body or "")
    assert unfiltered.method == "/runtime.v1.ImageService/ListImages"
    assert json.loads(unfiltered.request_body or "") == {}
    assert json.loads(filtered.request_body or "") == {"filter": {"image": {}}}
    assert "ImageStatus" in status.reproduce()


def test_replay_prints_status_and_response(clean: RunningCriServer, capsys: pytest.CaptureFixture[str]) -> None:
    replay(clean.url, "/runtime.v1alpha2.ImageService/ImageStatus", json.dumps({"image": {"image": BUSYBOX_TAG}}))
    out = capsys.readouterr().out
    assert out.startswith("status: OK\n") and BUSYBOX.id in out
    with pytest.raises(ValueError, match="not a CRI ImageService method"):
        replay(clean.url, "/runtime.v9.ImageService/ImageStatus", "{}")

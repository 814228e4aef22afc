"""The v2 image schemas and the reading of a target's own /v2/schemas/image (its formats judge v1 too), on hand-made
bodies."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from urllib3 import HTTPHeaderDict

from conformance import schemas
from conformance.evidence import Exchange
from conformance.glance import published_schema
from conformance.reference.glance.images import image_by_key
from conformance.reference.glance.state import AppState, Store
from conformance.reference.glance.v2_read import image_body, image_schema
from conformance.targets.http import HttpResponse
from selftests.run_limits import limits

IMS = "glance/v2-image.ims.json"
GLANCE = "glance/v2-image.glance.json"
V1_HEAD = "glance/v1-head.glance.json"
V1_1_DETAIL = "glance/v1_1-detail.glance.json"


def _body(key: str = "centos-vivado", **changes: Any) -> dict[str, Any]:
    state = AppState(faults=frozenset(), store=Store([image_by_key(key)]))
    body = image_body(state, image_by_key(key))
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def _answer(body: object, status: int = 200) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    url = "http://target.invalid/v2/schemas/image"
    return HttpResponse(status=status, headers=HTTPHeaderDict({"Content-Type": "application/json"}), body=raw,
                        url=url, exchange=Exchange(protocol="http", method="GET", target=url), limits=limits())


@pytest.mark.parametrize("changes", [
    {"checksum": ""}, {"checksum": "not an md5"}, {"max_ram": ""}, {"max_ram": "unlimited"}, {"__os_bit": "128"},
    {"active_at": "2018-09-06 14:08:27"}, {"virtual_env_type": "IsoImage", "disk_format": "iso"},
])
def test_ims_takes_the_looser_reading_of_seed_001(changes: dict[str, Any]) -> None:
    assert schemas.error_lines(IMS, _body(**changes)) == []


@pytest.mark.parametrize("changes", [
    {"checksum": 5}, {"max_ram": 4096}, {"__os_bit": 64}, {"active_at": None}, {"disk_format": "iso"},
    {"__support_kvm_gpu_type": "V100"}, {"__support_xen": "true", "__support_xen_hana": "true"},
    {"__support_xen": "true", "__support_kvm_infiniband": "true"}, {"__support_xen_gpu_type": "M60"},
])
def test_ims_still_rejects_what_the_seed_rules_out(changes: dict[str, Any]) -> None:
    assert schemas.error_lines(IMS, _body(**changes))


def test_coexistence_violations_name_the_field() -> None:
    body = _body(__support_xen_hana="true")  # the vivado sample carries __support_kvm
    assert schemas.keyword_error_lines(IMS, body, "dependentSchemas")[0].startswith("__support_xen_hana:")
    assert schemas.field_error_lines(IMS, body, "__support_xen_hana")
    assert schemas.keyword_error_lines(IMS, _body(__support_kvm_infiniband="true"), "dependentSchemas") == []


def test_glance_keeps_the_md5_checksum_and_takes_formats_from_the_target() -> None:
    assert schemas.error_lines(GLANCE, _body("cirros", checksum=""))
    assert schemas.error_lines(GLANCE, _body("cirros", disk_format="qed"))
    enums = schemas.enums_for(GLANCE, {"disk_format": (None, "qed"), "status": ("anything",)})
    assert enums == (("disk_format", (None, "qed")),)  # only the format enums are ever taken
    assert schemas.error_lines(GLANCE, _body("cirros", disk_format="qed"), enums) == []
    assert schemas.error_lines(GLANCE, _body("cirros"), enums)  # qcow2 is not in the target's list


def test_published_schema_gives_its_format_enums() -> None:
    read = published_schema.read(_answer(image_schema()))
    assert read.schema is not None and read.reason == ""
    assert "zvhd2" in read.formats["disk_format"] and None in read.formats["container_format"]
    assert published_schema.violations(read, _body()) == []
    assert published_schema.violations(read, _body(disk_format="qed"))


@pytest.mark.parametrize(("answer", "reason"), [
    (_answer({"error": "gone"}, status=404), "answered 404"),
    (_answer(b"<html>"), "not JSON"),
    (_answer([1, 2]), "not an object schema"),
    (_answer({"properties": {"disk_format": {"type": 5}}}), "not a valid JSON Schema"),
    (_answer({"properties": {"x": {"$ref": "http://attacker.invalid/s.json"}}}), "refers outside itself"),
    (_answer({"properties": {"x": {"pattern": "(a+)+" * 100}}}), "pattern longer"),
])
def test_unusable_published_schema_falls_back_with_its_reason(answer: HttpResponse, reason: str) -> None:
    read = published_schema.read(answer)
    assert read.schema is None and reason in read.reason and read.formats == {}
    assert "upstream's default formats" in read.basis


def test_odd_format_enums_are_not_taken() -> None:
    schema = copy.deepcopy(image_schema())
    schema["properties"]["disk_format"]["enum"] = [None, 1, "raw"]
    schema["properties"]["container_format"]["enum"] = ["x" * 1000]
    assert published_schema.read(_answer(schema)).formats == {}


# -- the v1 HEAD and v1.1 detail schemas of the glance profile take the same format lists ----------------------------


def _head_lines(meta: dict[str, str], enums: schemas.Enums = ()) -> list[str]:
    return [line for field in ("status", *published_schema.FORMAT_FIELDS)
            for line in schemas.field_error_lines(V1_HEAD, meta, field, enums)]


def _detail_lines(entry: dict[str, Any], enums: schemas.Enums = ()) -> list[str]:
    lines = schemas.error_lines(V1_1_DETAIL, {"images": [entry]}, enums)
    return [line for line in lines if line.split(":")[0].rsplit(".", 1)[-1] in ("status", "disk_format",
                                                                               "container_format")]


@pytest.mark.parametrize("name", [GLANCE, V1_HEAD, V1_1_DETAIL])
def test_glance_schemas_let_the_target_set_the_format_enums_only(name: str) -> None:
    assert schemas.target_enum_fields(name) == published_schema.FORMAT_FIELDS
    assert schemas.enums_for(name, {"status": ("anything",), "disk_format": ("qed",)}) == (("disk_format", ("qed",)),)


@pytest.mark.parametrize("name", ["glance/v2-image.ims.json", "glance/v1-head.ims.json", "glance/v1_1-detail.ims.json"])
def test_ims_schemas_keep_the_vendor_formats(name: str) -> None:
    assert schemas.target_enum_fields(name) == ()
    assert schemas.enums_for(name, {"disk_format": ("qed",)}) == ()


def test_v1_checks_take_the_formats_the_target_publishes() -> None:
    published = published_schema.read(_answer(image_schema()))  # the reference lists zvhd and zvhd2
    head = {"status": "active", "disk_format": "zvhd2", "container_format": "bare"}
    entry = {"status": "active", "disk_format": "zvhd", "container_format": "bare"}
    assert _head_lines(head) and _detail_lines(entry)  # upstream's defaults do not list them
    head_enums = schemas.enums_for(V1_HEAD, published.formats)
    detail_enums = schemas.enums_for(V1_1_DETAIL, published.formats)
    assert _head_lines(head, head_enums) == [] and _detail_lines(entry, detail_enums) == []
    # status never comes from the target, and a format outside the published lists still fails
    assert _head_lines({**head, "status": "gone"}, head_enums) == ["status: 'gone' is not one of " + repr(
        schemas.schema(GLANCE)["properties"]["status"]["enum"])]
    assert _head_lines({**head, "disk_format": "qed"}, head_enums)
    assert _detail_lines({**entry, "container_format": "tarball"}, detail_enums)


def test_v1_checks_fall_back_to_upstreams_defaults() -> None:
    published = published_schema.read(_answer({"error": "gone"}, status=404))
    enums = schemas.enums_for(V1_HEAD, published.formats)
    assert enums == () and "upstream's default formats" in published.basis
    assert _head_lines({"status": "active", "disk_format": "qcow2", "container_format": "bare"}, enums) == []
    assert _head_lines({"status": "active", "disk_format": "zvhd2", "container_format": "bare"}, enums)

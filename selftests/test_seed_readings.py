"""Under ims the vendor pages are the law: a vendor answering as their samples do passes, one breaking a line fails."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from conformance import schemas
from conformance.reference.glance import seed_faults as S
from conformance.reference.glance.images import image_by_key
from conformance.reference.glance.state import AppState, Store
from conformance.reference.glance.v2_read import image_body
from conformance.reference.http_server import start_http_server
from selftests.conftest import SuiteRun

EMPTY_MD5 = hashlib.md5(b"").hexdigest()  # seed 001's sample checksum on an active image
V2_IMAGE_PATH = re.compile(r"^/v2/images(/[^/]+)?$")
GLANCE_READ_TESTS = ("tests/glance/test_v2_show.py", "tests/glance/test_v1_head.py")
WSGIApp = Callable[..., Iterable[bytes]]


def unused_size_and_checksum(body: dict[str, Any]) -> None:
    """Seed 001's sample: an active image shows size 0 and the MD5 of no data (size and checksum not used)."""
    if body.get("status") == "active":
        body.update(size=0, checksum=EMPTY_MD5)


def as_seed_001_shows(app: WSGIApp) -> WSGIApp:
    """`app` whose v2 image answers (show and list alike) read as seed 001's sample does; v1 keeps the real values, as
    seed 003's sample shows them."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET" or not V2_IMAGE_PATH.match(environ.get("PATH_INFO", "")):
            return app(environ, start_response)
        answered: list[Any] = []
        body = b"".join(app(environ, lambda status, headers, *exc: answered.append((status, headers))))
        status, headers = answered[0]
        if status.startswith("200"):
            document = json.loads(body)
            for image in document.get("images", [document]):
                unused_size_and_checksum(image)
            body = json.dumps(document).encode()
            headers = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers]
        start_response(status, headers)
        return [body]

    return serve


@pytest.mark.parametrize("profile", ["ims", "glance"])
def test_a_vendor_answering_like_seeds_001_and_003_passes_under_ims_only(
        profile: str, suite: Callable[..., SuiteRun]) -> None:
    with start_http_server(wrap=as_seed_001_shows) as server:
        run = suite(*GLANCE_READ_TESTS, "--target", server.url, "--profile", profile)
    outcome = run.outcome("GLANCE-V1-HEAD-AGREES-WITH-V2")
    if profile == "ims":
        assert outcome == "passed" and not run.results["not_met"], run.stdout[-3000:]
    else:
        assert outcome == "failed" and ", v2 size 0" in run.stdout, run.stdout[-3000:]
        assert run.results["not_met"] == ["GLANCE-V1-HEAD-AGREES-WITH-V2"], run.results["not_met"]


@pytest.mark.parametrize("profile", ["ims", "glance"])
def test_write_mode_judges_v2_size_and_checksum_under_glance_only(profile: str,
                                                                  suite: Callable[..., SuiteRun]) -> None:
    with start_http_server(wrap=as_seed_001_shows) as server:
        run = suite("tests/glance/test_v2_show.py", "-k", "the_run_created", "--target", server.url,
                    "--allow-writes", "--profile", profile)
    outcome = run.outcome("GLANCE-V2-SHOW-FIELD-VALUES")
    if profile == "ims":
        assert outcome == "passed", run.stdout[-3000:]
    else:
        assert outcome == "failed" and "size is 0, written 1024" in run.stdout, run.stdout[-3000:]
    assert run.results["target"]["endpoints"]["glance"]["write_mode"]["left_behind"] == []


def test_malformed_ids_take_the_listed_codes_under_ims_and_any_4xx_under_glance(
        suite: Callable[..., SuiteRun]) -> None:
    run = suite(*GLANCE_READ_TESTS, "-k", "malformed", "--reference-fault", S.MALFORMED_ID_422.name,
                "--profile", "glance")
    assert run.outcome("GLANCE-V2-SHOW-MALFORMED-ID") == "passed", run.stdout[-3000:]
    assert run.outcome("GLANCE-V1-HEAD-MALFORMED-ID") == "passed", run.stdout[-3000:]


# -- the schemas: seed 001's sample passes, a line of its table broken fails ------------------------------------------

IMS = "glance/v2-image.ims.json"
SEED_001_SAMPLE: dict[str, Any] = {
    "schema": "/v2/schemas/image", "min_disk": 100, "created_at": "2018-09-06T14:03:27Z",
    "__image_source_type": "uds", "container_format": "bare",
    "file": "/v2/images/bc6bed6e-ba3a-4447-afcc-449174a3eb52/file", "updated_at": "2018-09-06T15:17:33Z",
    "protected": True, "checksum": EMPTY_MD5, "id": "bc6bed6e-ba3a-4447-afcc-449174a3eb52", "__isregistered": "true",
    "min_ram": 2048, "__lazyloading": "true", "owner": "1bed856811654c1cb661a6ca845ebc77", "__os_type": "Linux",
    "__imagetype": "gold", "visibility": "public", "virtual_env_type": "FusionCompute", "tags": [],
    "__platform": "CentOS", "size": 0, "__os_bit": "64", "__os_version": "CentOS 7.3 64bit",
    "name": "CentOS 7.3 64bit vivado", "self": "/v2/images/bc6bed6e-ba3a-4447-afcc-449174a3eb52",
    "disk_format": "zvhd2", "virtual_size": None, "status": "active",
}
SEED_003_SAMPLE = {  # the X-Image-Meta-* headers, as the suite reads them
    "id": "3c3d1d01-b48a-4639-8a88-08be3b9b5d78", "deleted": "False", "container_format": "bare",
    "checksum": "64d7c1cd2b6f60c92c14662941cb7913", "protected": "False", "min_disk": "0",
    "created_at": "2016-05-22T06:04:20.425843", "size": "13167616", "status": "active", "is_public": "True",
    "min_ram": "0", "owner": "23f4cb75768d4febb39542ef6fe169f3", "updated_at": "2016-05-22T06:04:22.719791",
    "disk_format": "qcow2", "name": "cirros",
}


def test_seed_001s_sample_is_valid_under_ims() -> None:
    assert schemas.error_lines(IMS, dict(SEED_001_SAMPLE)) == []


@pytest.mark.parametrize(("changes", "field"), [
    ({"__data_origin": "instance,5d3a0f4e-7c1b-4a8e-9f2d-1e6b8c4a7d30"}, "__data_origin"),  # 公共镜像为空
    ({"__originalimagename": "f0e1d2c3-b4a5-4697-8877-665544332211"}, "__originalimagename"),  # empty when public
    ({"visibility": "private", "__originalimagename": "CentOS 7.3 64bit vivado"}, "__originalimagename"),  # 父镜像ID
    ({"disk_format": "nonsense"}, "disk_format"),
])
def test_breaking_a_line_of_seed_001_fails_under_ims(changes: dict[str, Any], field: str) -> None:
    lines = schemas.field_error_lines(IMS, {**SEED_001_SAMPLE, **changes}, field)
    assert lines and all(line.startswith(field) for line in lines), lines


def test_a_private_image_names_its_parent_by_id() -> None:
    body = {**SEED_001_SAMPLE, "visibility": "private", "__originalimagename": SEED_001_SAMPLE["id"],
            "__data_origin": "instance,5d3a0f4e-7c1b-4a8e-9f2d-1e6b8c4a7d30"}
    assert schemas.error_lines(IMS, body) == []


@pytest.mark.parametrize("schema_name", ["glance/v1-head.ims.json", "glance/v1_1-detail.ims.json"])
@pytest.mark.parametrize(("disk_format", "valid"), [("qcow2", True), ("zvhd2", True), ("vhd", True),
                                                    ("nonsense", False), ("vmdk", False)])
def test_v1_disk_formats_are_seed_001s(schema_name: str, disk_format: str, valid: bool) -> None:
    meta = {**SEED_003_SAMPLE, "disk_format": disk_format}
    if schema_name.startswith("glance/v1_1"):
        entry: dict[str, Any] = dict(SEED_003_SAMPLE)
        entry.update(disk_format=disk_format, deleted=False, protected=False, is_public=True, min_disk=0, min_ram=0,
                     size=13167616, virtual_size=None, deleted_at=None, properties={})
        document: Any = {"images": [entry]}
    else:
        document = meta
    lines = schemas.error_lines(schema_name, document)
    assert (lines == []) is valid, lines


def test_the_reference_follows_seed_001_on_its_provenance_properties() -> None:
    # the catalogue carries both properties on private images only, as ids where the seed says an id
    for key in ("web-server", "db-backup", "centos-vivado"):
        image = image_by_key(key)
        body = image_body(AppState(faults=frozenset(), store=Store([image])), image)
        assert schemas.error_lines(IMS, body) == [], key

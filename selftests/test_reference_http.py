"""Self-tests of the Glance-style reference target: catalogue, app, faults and in-process server."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.test import Client, TestResponse

from conformance import OPERATIONS
from conformance.reference.glance import faults as F
from conformance.reference.glance import images as catalogue
from conformance.reference.glance.app import make_app
from conformance.reference.glance.faults import GLANCE_FAULTS
from conformance.reference.glance.images import Image
from conformance.reference.glance.paging import DEFAULT_LIMIT
from conformance.reference.glance.probe import HttpProbe
from conformance.reference.glance.v1_1_detail import SORT_KEYS
from conformance.reference.http_server import RunningServer, start_http_server

VIVADO = catalogue.image_by_key("centos-vivado")  # the seed 001 sample
CIRROS = catalogue.image_by_key("cirros")  # the seed 003/004 sample
QUEUED = catalogue.image_by_key("queued-qcow2")
CHINESE = catalogue.image_by_key("chinese-name")
DELETED = catalogue.image_by_key("deleted-centos")
KILLED = catalogue.image_by_key("killed-upload")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
JSON_ACCEPT = {"Accept": "application/json"}
DETAIL = "/v1.1/images/detail"

V2_CORE = {"id", "name", "status", "visibility", "protected", "checksum", "owner", "size", "virtual_size",
           "container_format", "disk_format", "created_at", "updated_at", "min_ram", "min_disk", "tags", "self",
           "file", "schema"}
DETAIL_FIELDS = {"status", "virtual_size", "name", "deleted", "container_format", "created_at", "disk_format",
                 "updated_at", "properties", "owner", "protected", "min_ram", "checksum", "min_disk", "is_public",
                 "deleted_at", "id", "size"}
V2_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
V1_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DOCUMENTED_VALUES = {
    "__os_type": {"Linux", "Windows", "Other"},
    "__os_bit": {"32", "64"},
    "__platform": {"Windows", "Ubuntu", "RedHat", "SUSE", "CentOS", "Debian", "OpenSUSE", "Oracle Linux", "Fedora",
                   "Other", "CoreOS", "EulerOS"},
    "__imagetype": {"gold", "private", "shared", "market"},
    "__isregistered": {"true", "false"},
    "__support_kvm": {"true"},
    "__lazyloading": {"true", "false", "True", "False"},
    "__image_source_type": {"uds"},
    "virtual_env_type": {"FusionCompute", "Ironic", "DataImage", "IsoImage"},
    "hw_firmware_type": {"bios", "uefi"},
    "__support_arm": {"true", "false"},
}


@pytest.fixture(scope="module")
def client() -> Client:
    return Client(make_app())


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = start_http_server()
    yield running
    running.stop()


def body_of(response: TestResponse) -> Any:
    return json.loads(response.get_data(as_text=True))


def ok_json(client: Client, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, (path, response.get_data(as_text=True))
    return body_of(response)


def detail_ids(client: Client, query: str = "") -> list[str]:
    return [entry["id"] for entry in ok_json(client, f"{DETAIL}?limit=1000&{query}")["images"]]


def listed(images: list[Image], test: Callable[[Image], bool]) -> set[str]:
    """Ids of detail-visible images (not deleted, not killed) passing `test`."""
    return {i.id for i in images if not i.deleted and i.status != "killed" and test(i)}


def head_meta(response: TestResponse | requests.Response) -> dict[str, str]:
    """The X-Image-Meta-* headers without the prefix, decoded from the UTF-8 bytes Glance v1 puts on the wire."""
    prefix = "x-image-meta-"
    return {k[len(prefix):].lower(): v.encode("latin-1").decode("utf-8")
            for k, v in response.headers.items() if k.lower().startswith(prefix)}


# -- catalogue ---------------------------------------------------------------------------------------------------


def test_catalogue_covers_the_documented_statuses_visibilities_and_formats() -> None:
    images = catalogue.IMAGES
    assert {i.status for i in images} == set(catalogue.STATUSES)
    assert {i.visibility for i in images} == set(catalogue.VISIBILITIES)
    assert {i.disk_format for i in images} == set(catalogue.DISK_FORMATS)
    assert {i.container_format for i in images} <= set(catalogue.CONTAINER_FORMATS)
    assert len(listed(list(images), lambda i: True)) >= 30
    assert len({i.owner for i in images}) >= 3 and all(HEX32.match(i.owner) for i in images)
    assert len({i.id for i in images}) == len(images) and all(UUID.match(i.id) for i in images)


def test_catalogue_values_are_consistent_and_documented() -> None:
    for image in catalogue.IMAGES:
        assert image.created_at <= image.updated_at and image.created_at.tzinfo == timezone.utc
        assert image.deleted == (image.status == "deleted") == (image.deleted_at is not None)
        assert (image.checksum is None) == (image.size is None), image.name
        assert 0 <= image.min_disk <= 1024 and image.min_ram >= 0
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in image.properties.items())
        assert not set(image.properties) & set(catalogue.CORE_FIELDS)
        for key, allowed in DOCUMENTED_VALUES.items():
            assert image.properties.get(key, next(iter(allowed))) in allowed, (image.name, key)
        assert ("active_at" in image.properties) == (image.status == "active" and bool(image.properties))
        assert re.fullmatch(r"0|[0-9a-f-]{36}", image.properties.get("enterprise_project_id", "0"))
        assert image.properties.get("max_ram", "0").isdigit()
    assert any(not i.properties for i in catalogue.IMAGES)
    assert catalogue.image_by_key("cirros").checksum == "64d7c1cd2b6f60c92c14662941cb7913"


def test_catalogue_has_shared_sizes_and_timestamps_on_purpose() -> None:
    sizes = [i.size for i in catalogue.IMAGES if i.size is not None]
    updates = [i.updated_at for i in catalogue.IMAGES]
    assert any(sizes.count(s) > 1 for s in sizes) and sizes.count(SHARED_SIZE) == 2
    assert any(updates.count(u) >= 3 for u in updates)
    names = [i.name for i in catalogue.IMAGES]
    assert any(names.count(n) > 1 for n in names)
    assert any(not n.isascii() for n in names) and any(" " in n for n in names)


# -- versions -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/versions"])
def test_versions_document_lists_current_v2_and_deprecated_v1(client: Client, path: str) -> None:
    versions = {v["id"]: v["status"] for v in ok_json(client, path)["versions"]}
    assert "CURRENT" in {s for v, s in versions.items() if v.startswith("v2")}
    assert versions["v1.0"] == versions["v1.1"] == "DEPRECATED"


@pytest.mark.parametrize("path", ["/v1", "/v1/", "/v1.0/", "/v1.1", "/v1.1/", "/v2/"])
def test_version_roots_answer_200_json(client: Client, path: str) -> None:
    assert ok_json(client, path)["version"]["status"] in {"CURRENT", "DEPRECATED"}


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/nope", 404), ("GET", "/v3/images", 404), ("PUT", "/v2/images", 405),
    ("POST", f"/v2/images/{CIRROS.id}", 405), ("GET", f"/v1/images/{CIRROS.id}", 405),
])
def test_other_requests_are_clean_client_errors(client: Client, method: str, path: str, status: int) -> None:
    response = client.open(path, method=method, headers=JSON_ACCEPT)
    assert response.status_code == status
    assert body_of(response)["code"] == status


# -- v2 show and list ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("image", catalogue.live_images(), ids=lambda i: i.name)
def test_v2_show_has_the_upstream_shape(client: Client, image: Image) -> None:
    response = client.get(f"/v2/images/{image.id}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = body_of(response)
    hidden = {"os_hidden"} if image.os_hidden else set()  # shown only where true
    assert V2_CORE.issubset(body) and set(body) - V2_CORE == set(image.properties) | hidden
    assert body["id"] == image.id and body["self"] == f"/v2/images/{image.id}"
    assert body["file"] == f"/v2/images/{image.id}/file" and body["schema"] == "/v2/schemas/image"
    assert V2_TIME.match(body["created_at"]) and V2_TIME.match(body["updated_at"])
    assert isinstance(body["min_ram"], int) and isinstance(body["protected"], bool)
    assert all(isinstance(body[key], str) for key in image.properties)


def test_v2_show_matches_the_seed_sample(client: Client) -> None:
    body = ok_json(client, f"/v2/images/{VIVADO.id}")
    assert {k: body[k] for k in ("created_at", "updated_at", "checksum", "size", "virtual_size", "disk_format",
                                 "min_disk", "min_ram", "__os_version", "__platform", "tags")} == {
        "created_at": "2018-09-06T14:03:27Z", "updated_at": "2018-09-06T15:17:33Z",
        "checksum": "d41d8cd98f00b204e9800998ecf8427e", "size": 0, "virtual_size": None, "disk_format": "zvhd2",
        "min_disk": 100, "min_ram": 2048, "__os_version": "CentOS 7.3 64bit", "__platform": "CentOS", "tags": [],
    }


def test_v2_show_queued_image_has_null_data_fields(client: Client) -> None:
    body = ok_json(client, f"/v2/images/{QUEUED.id}")
    assert body["status"] == "queued"
    assert body["checksum"] is None and body["size"] is None and body["virtual_size"] is None


@pytest.mark.parametrize("image_id", [DELETED.id, UNKNOWN, "not-a-uuid", CIRROS.id.upper(), "é" * 300])
def test_v2_show_missing_images_are_404_with_a_json_or_text_body(client: Client, image_id: str) -> None:
    as_json = client.get(f"/v2/images/{image_id}", headers=JSON_ACCEPT)
    assert as_json.status_code == 404 and body_of(as_json)["code"] == 404
    as_text = client.get(f"/v2/images/{image_id}")
    assert as_text.status_code == 404 and as_text.mimetype == "text/plain"


ODD_IDS = ["not-a-uuid", "a" * 4000, "%00", "a%2Fb", "%2F", "%E9%95%9C%E5%83%8F", "%ff%fe", "%20%20",
           "..%2F..%2Fetc%2Fpasswd", "%3Cscript%3E", "'%22;--", UNKNOWN.upper(), CIRROS.id + "x", CIRROS.id + "%0A",
           CIRROS.id + "/file"]


@pytest.mark.parametrize("odd", ODD_IDS, ids=lambda s: s[:24])
@pytest.mark.parametrize("method, prefix", [("GET", "/v2/images/"), ("HEAD", "/v1/images/"), ("HEAD", "/v1.1/images/")])
def test_odd_ids_over_the_wire_are_404(server: RunningServer, method: str, prefix: str, odd: str) -> None:
    answer = HttpProbe(server.url).request(method, prefix + odd)
    assert answer.status == 404
    assert method == "GET" or answer.body == b""


def test_an_overlong_request_line_is_refused_without_a_server_error(server: RunningServer) -> None:
    assert 400 <= HttpProbe(server.url).get("/v2/images/" + "a" * 70000).status < 500


def test_v2_list_pages_cover_every_live_image_once_and_match_show(client: Client) -> None:
    seen: list[str] = []
    path: str | None = "/v2/images?limit=7"
    while path:
        page = ok_json(client, path)
        assert page["schema"] == "/v2/schemas/images" and page["first"] == "/v2/images?limit=7"
        assert len(page["images"]) <= 7
        for entry in page["images"]:
            assert entry == ok_json(client, f"/v2/images/{entry['id']}")
            seen.append(entry["id"])
        path = page.get("next")
    assert sorted(seen) == sorted(i.id for i in listed_by_default())


def listed_by_default() -> list[Image]:
    """Live images the v2 list shows without visibility or os_hidden: no community, hidden or unaccepted shared."""
    return [i for i in catalogue.live_images()
            if i.visibility != "community" and not i.os_hidden and i.member_status == "accepted"]


def test_v2_list_defaults_and_rejects_bad_paging(client: Client) -> None:
    page = ok_json(client, "/v2/images")
    assert len(page["images"]) == DEFAULT_LIMIT and page["next"].startswith("/v2/images?marker=")
    assert len(ok_json(client, "/v2/images?limit=5000")["images"]) == len(listed_by_default())
    for query in ("limit=-1", "limit=abc", f"marker={UNKNOWN}", f"marker={DELETED.id}"):
        assert client.get(f"/v2/images?{query}").status_code == 400, query


def test_v2_image_schema_allows_only_string_extra_properties(client: Client) -> None:
    schema = ok_json(client, "/v2/schemas/image")
    assert schema["name"] == "image" and schema["additionalProperties"] == {"type": "string"}
    assert V2_CORE.issubset(schema["properties"])
    assert ok_json(client, "/v2/schemas/images")["name"] == "images"


# -- v1 HEAD -------------------------------------------------------------------------------------------------------


def test_v1_head_matches_the_seed_sample(client: Client) -> None:
    response = client.head(f"/v1/images/{CIRROS.id}")
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["Content-Length"] == "0" and response.headers["ETag"] == CIRROS.checksum
    assert head_meta(response) == {
        "id": CIRROS.id, "deleted": "False", "container_format": "bare", "checksum": CIRROS.checksum,
        "protected": "False", "min_disk": "0", "created_at": "2016-05-22T06:04:20.425843", "size": "13167616",
        "status": "active", "is_public": "True", "min_ram": "0", "owner": "23f4cb75768d4febb39542ef6fe169f3",
        "updated_at": "2016-05-22T06:04:22.719791", "disk_format": "qcow2", "name": "cirros",
    }


@pytest.mark.parametrize("prefix", ["/v1", "/v1.0", "/v1.1"])
def test_v1_head_aliases_answer_alike(client: Client, prefix: str) -> None:
    response = client.head(f"{prefix}/images/{VIVADO.id}")
    assert response.status_code == 200
    assert head_meta(response) == head_meta(client.head(f"/v1/images/{VIVADO.id}"))


def test_v1_head_omits_null_fields(client: Client) -> None:
    response = client.head(f"/v1/images/{QUEUED.id}")
    meta = head_meta(response)
    assert response.status_code == 200 and meta["status"] == "queued"
    assert not {"size", "checksum", "virtual_size", "deleted_at"} & set(meta) and "ETag" not in response.headers


def test_v1_head_sends_properties_and_utf8_names(server: RunningServer) -> None:
    response = requests.head(f"{server.url}/v1/images/{CHINESE.id}", timeout=5)
    meta = head_meta(response)
    assert meta["name"] == CHINESE.name
    assert {k.removeprefix("property-"): v for k, v in meta.items() if k.startswith("property-")} == {
        k.lower(): v for k, v in CHINESE.properties.items()}


@pytest.mark.parametrize("image_id", [UNKNOWN, "zzz"])
def test_v1_head_missing_images_are_404_without_body(client: Client, image_id: str) -> None:
    response = client.head(f"/v1/images/{image_id}")
    assert response.status_code == 404 and response.get_data() == b""


def test_v1_head_shows_a_deleted_image_as_upstream_answers_admin(client: Client) -> None:
    response = client.head(f"/v1/images/{DELETED.id}")
    meta = head_meta(response)
    assert response.status_code == 200 and response.get_data() == b""
    assert meta["deleted"] == "True" and meta["status"] == "deleted" and DELETED.deleted_at is not None
    assert meta["deleted_at"] == catalogue.format_v1_time(DELETED.deleted_at)


def test_v1_head_agrees_with_detail_and_v2(client: Client) -> None:
    entries = {e["id"]: e for e in ok_json(client, f"{DETAIL}?limit=1000")["images"]}
    for image_id, entry in entries.items():
        meta = head_meta(client.head(f"/v1/images/{image_id}"))
        v2 = ok_json(client, f"/v2/images/{image_id}")
        assert meta["name"] == entry["name"] == v2["name"]
        assert int(meta["min_ram"]) == entry["min_ram"] == v2["min_ram"]
        assert meta["created_at"] == entry["created_at"] and V1_TIME.match(meta["updated_at"])
        assert meta["is_public"] == str(entry["is_public"]) and meta.get("checksum") == entry["checksum"]


# -- v1.1 detail -----------------------------------------------------------------------------------------------------


def test_detail_entries_have_the_seed_fields(client: Client) -> None:
    entries = ok_json(client, f"{DETAIL}?limit=1000")["images"]
    for entry in entries:
        assert set(entry) == DETAIL_FIELDS
        assert isinstance(entry["properties"], dict) and entry["deleted"] is False and entry["deleted_at"] is None
        assert V1_TIME.match(entry["created_at"]) and V1_TIME.match(entry["updated_at"])
    cirros = next(e for e in entries if e["id"] == CIRROS.id)
    assert cirros["properties"] == {} and cirros["size"] == 13167616 and cirros["is_public"] is True


@pytest.mark.parametrize("prefix", ["/v1", "/v1.0", "/v1.1"])
def test_detail_aliases_answer_alike(client: Client, prefix: str) -> None:
    assert ok_json(client, f"{prefix}/images/detail?limit=1000") == ok_json(client, f"{DETAIL}?limit=1000")


def test_detail_hides_deleted_and_killed_images(client: Client) -> None:
    ids = set(detail_ids(client))
    assert ids == listed(list(catalogue.IMAGES), lambda i: True)
    assert DELETED.id not in ids and KILLED.id not in ids


SHARED_SIZE = 13167616  # cirros and cirros-052
SHARED_UPDATE = catalogue.image_by_key("web-server").updated_at
FILTERS: list[tuple[str, Callable[[Image], bool]]] = [
    ("name=cirros", lambda i: i.name == "cirros"),
    ("name=duplicate+name", lambda i: i.name == "duplicate name"),
    ("name=%E9%95%9C%E5%83%8F+%E6%B5%8B%E8%AF%95+%E4%B8%AD%E6%96%87%E5%90%8D%E7%A7%B0", lambda i: i is CHINESE),
    ("name=A%26B+%2B+C%3DD+100%25+%231", lambda i: i.name == "A&B + C=D 100% #1"),
    ("container_format=ovf", lambda i: i.container_format == "ovf"),
    ("disk_format=zvhd", lambda i: i.disk_format == "zvhd"),
    ("status=queued", lambda i: i.status == "queued"),
    ("status=killed", lambda i: False),
    (f"size_min={SHARED_SIZE}", lambda i: i.size is not None and i.size >= SHARED_SIZE),
    (f"size_max={SHARED_SIZE}", lambda i: i.size is not None and i.size <= SHARED_SIZE),
    (f"size_min={SHARED_SIZE}&size_max={SHARED_SIZE}", lambda i: i.size == SHARED_SIZE),
    ("size_min=0", lambda i: i.size is not None),
    ("property-__os_type=Windows", lambda i: i.properties.get("__os_type") == "Windows"),
    ("property-__platform=Oracle+Linux", lambda i: i.properties.get("__platform") == "Oracle Linux"),
    ("property-nope=x", lambda i: False),
    ("is_public=true", lambda i: i.visibility == "public"),
    ("is_public=False", lambda i: i.visibility != "public"),
    ("protected=true", lambda i: i.protected),
    ("min_ram=512", lambda i: i.min_ram == 512),
    ("min_disk=1024", lambda i: i.min_disk == 1024),
    ("disk_format=raw&status=active&is_public=false",
     lambda i: i.disk_format == "raw" and i.status == "active" and not i.is_public),
]


@pytest.mark.parametrize("query, test", FILTERS, ids=[q for q, _ in FILTERS])
def test_detail_filters_are_sound_and_complete(client: Client, query: str, test: Callable[[Image], bool]) -> None:
    assert set(detail_ids(client, query)) == listed(list(catalogue.IMAGES), test)


@pytest.mark.parametrize("since", [
    "2021-03-15T08:30:00.123456", "2021-03-15T08:30:00.123456Z", "2021-03-15T09:30:00.123456+01:00",
    "2021-03-15 08:30:00.123456", "2021-03-15T03:30:00.123456-0500",
])
def test_detail_changes_since_is_strict_and_brings_back_deleted(client: Client, since: str) -> None:
    ids = set(detail_ids(client, f"changes-since={since.replace('+', '%2B')}"))
    assert ids == {i.id for i in catalogue.IMAGES if i.updated_at > SHARED_UPDATE}
    assert DELETED.id in ids and KILLED.id in ids
    assert not ids & {i.id for i in catalogue.IMAGES if i.updated_at == SHARED_UPDATE}


def test_detail_changes_since_accepts_dates_and_lists_deleted_entries(client: Client) -> None:
    entries = ok_json(client, f"{DETAIL}?changes-since=2000-01-01&limit=1000")["images"]
    assert len(entries) == len(catalogue.IMAGES)
    deleted = next(e for e in entries if e["id"] == DELETED.id)
    assert deleted["deleted"] is True and deleted["status"] == "deleted" and V1_TIME.match(deleted["deleted_at"])


@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
@pytest.mark.parametrize("sort_key", SORT_KEYS)
def test_detail_pages_walk_every_image_once_in_order(client: Client, sort_key: str, sort_dir: str) -> None:
    seen: list[str] = []
    marker = ""
    while True:
        page = ok_json(client, f"{DETAIL}?sort_key={sort_key}&sort_dir={sort_dir}&limit=4{marker}")
        ids = [entry["id"] for entry in page["images"]]
        assert len(ids) <= 4
        if not ids:
            break
        seen += ids
        marker = f"&marker={ids[-1]}"
    visible = [i for i in catalogue.IMAGES if i.id in listed(list(catalogue.IMAGES), lambda i: True)]
    values = {i.id: ((getattr(i, sort_key) is not None), getattr(i, sort_key) or 0, i.id) for i in visible}
    assert seen == sorted(values, key=values.__getitem__, reverse=sort_dir == "desc")


def test_detail_default_order_and_page_size(client: Client) -> None:
    entries = ok_json(client, DETAIL)["images"]
    assert len(entries) == DEFAULT_LIMIT
    created = [datetime.fromisoformat(e["created_at"]) for e in entries]
    assert created == sorted(created, reverse=True)
    assert len(detail_ids(client, "limit=5000")) == len(listed(list(catalogue.IMAGES), lambda i: True))
    assert ok_json(client, f"{DETAIL}?limit=0")["images"] == []


@pytest.mark.parametrize("query", [
    "size_min=abc", "size_min=-1", "size_min=1.5", "size_max=%EF%BC%91", "limit=-5", "limit=ten", "min_ram=x",
    "min_disk=-2", "changes-since=yesterday", "changes-since=2021-13-01", "changes-since=2021-03-15T25:00:00",
    "sort_key=owner", "sort_dir=up", f"marker={UNKNOWN}", f"marker={DELETED.id}", "marker=%00", "is_public=maybe",
    f"name=cirros&marker={VIVADO.id}",
])
def test_detail_rejects_bad_parameters_with_400(client: Client, query: str) -> None:
    response = client.get(f"{DETAIL}?{query}", headers=JSON_ACCEPT)
    assert response.status_code == 400 and body_of(response)["code"] == 400
    assert client.get(f"{DETAIL}?{query}").mimetype == "text/plain"


# -- faults (each fault's own probe is run in selftests/test_sensitivity.py) ------------------------------------------


def test_every_glance_fault_is_described() -> None:
    for name, fault in GLANCE_FAULTS.items():
        assert fault.name == name and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", name)
        assert fault.operation in OPERATIONS and fault.operation.startswith("glance.")
        assert re.fullmatch(r"GLANCE-[A-Z0-9]+(-[A-Z0-9]+)+", fault.breaks)
        assert fault.description.endswith(".") and not re.search(r"\.\s+[A-Z]", fault.description)


def test_unknown_faults_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault 'no-such-fault'"):
        make_app(faults=frozenset({"no-such-fault"}))
    with pytest.raises(ValueError, match="unknown fault"):
        start_http_server(faults=[F.V2_SHOW_MISSING_ID.name, "nope"])


def test_head_body_fault_puts_bytes_on_the_wire(server: RunningServer) -> None:
    assert HttpProbe(server.url).head(f"/v1/images/{CIRROS.id}").body == b""
    faulty = start_http_server(faults=[F.V1_HEAD_BODY_NOT_EMPTY.name])
    try:
        answer = HttpProbe(faulty.url).head(f"/v1/images/{CIRROS.id}")
    finally:
        faulty.stop()
    assert answer.status == 200 and answer.body and answer.headers["content-length"] == str(len(answer.body))


def test_none_literal_fault_makes_the_detail_body_invalid_json() -> None:
    faulty = Client(make_app(faults={F.V1_1_DETAIL_NONE_LITERAL.name}))
    body = faulty.get(f"{DETAIL}?name=cirros").get_data(as_text=True)
    assert '"deleted_at": none' in body
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def test_faults_combine(client: Client) -> None:
    faulty = Client(make_app(faults={F.V2_SHOW_STATUS_BOGUS.name, F.V2_SHOW_MIN_RAM_STRING.name}))
    body = body_of(faulty.get(f"/v2/images/{VIVADO.id}"))
    assert body["status"] == "available" and body["min_ram"] == "2048"


# -- request log and server ------------------------------------------------------------------------------------------


def test_the_app_logs_every_request_in_order() -> None:
    log: list[tuple[str, str]] = []
    app_client = Client(make_app(request_log=log))
    app_client.get("/versions")
    app_client.head(f"/v1/images/{CIRROS.id}")
    app_client.get(f"{DETAIL}?name=cirros&limit=2")
    app_client.get("/nowhere")
    assert log == [("GET", "/versions"), ("HEAD", f"/v1/images/{CIRROS.id}"),
                   ("GET", f"{DETAIL}?name=cirros&limit=2"), ("GET", "/nowhere")]


def test_the_server_serves_on_loopback_logs_raw_targets_and_stops() -> None:
    running = start_http_server()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", running.url)
    assert requests.get(f"{running.url}/v2/images/{CIRROS.id}", timeout=5).json()["name"] == "cirros"
    assert requests.get(f"{running.url}/v2/images/a%2Fb", timeout=5).status_code == 404
    HttpProbe(running.url).head("/v1.1/images/%E9%95%9C?x=1")
    running.stop()
    running.stop()
    assert running.request_log == [("GET", f"/v2/images/{CIRROS.id}"), ("GET", "/v2/images/a%2Fb"),
                                   ("HEAD", "/v1.1/images/%E9%95%9C?x=1")]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{running.url}/versions", timeout=2)


def test_servers_with_different_faults_run_side_by_side(server: RunningServer) -> None:
    with start_http_server(faults=[F.V2_SHOW_UNKNOWN_ID_200.name]) as faulty:
        assert requests.get(f"{faulty.url}/v2/images/{UNKNOWN}", timeout=5).status_code == 200
        assert requests.get(f"{server.url}/v2/images/{UNKNOWN}", timeout=5).status_code == 404
    conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=5)
    conn.request("GET", "/versions")
    assert conn.getresponse().status == 200
    conn.close()


# -- the deployment's own image schema (GLANCE-V2-SHOW-OWN-SCHEMA, formats under the glance profile) -----------------


def test_a_reference_with_an_extra_disk_format_serves_it_and_passes_the_glance_profile(suite) -> None:
    cirros = catalogue.image_by_key("cirros-062")
    with start_http_server(disk_formats={"cirros-062": "qed"}) as server:
        published = requests.get(f"{server.url}/v2/schemas/image", timeout=10).json()
        assert "qed" in published["properties"]["disk_format"]["enum"]
        assert requests.get(f"{server.url}/v2/images/{cirros.id}", timeout=10).json()["disk_format"] == "qed"
        run = suite("tests/glance/test_v2_show.py", "--target", server.url, "--profile", "glance")
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.outcome("GLANCE-V2-SHOW-SCHEMA") == "passed", run.stdout[-3000:]
    assert run.outcome("GLANCE-V2-SHOW-FIELD-VALUES") == "passed", run.stdout[-3000:]
    assert run.outcome("GLANCE-V2-SHOW-OWN-SCHEMA") == "passed", run.stdout[-3000:]


def test_served_schema_lists_every_format_the_catalogue_uses() -> None:
    client = Client(make_app())
    published = client.get("/v2/schemas/image").json
    assert published is not None
    assert {i.disk_format for i in catalogue.IMAGES} <= set(published["properties"]["disk_format"]["enum"])
    assert {i.container_format for i in catalogue.IMAGES} <= set(published["properties"]["container_format"]["enum"])


def test_catalogue_exercises_the_seed_001_side_constraints() -> None:
    props = [image.properties for image in catalogue.live_images()]
    for flag in F.EXCLUSIVE_SUPPORT_FLAGS:
        assert any(flag in p and "__support_xen" not in p for p in props), flag
    assert any("__support_kvm_infiniband" in p and "__support_kvm" in p for p in props)  # allowed by the seed
    assert any("__os_feature_list" in p for p in props)
    assert any(i.disk_format == "iso" and i.properties.get("virtual_env_type") == "IsoImage"
               for i in catalogue.live_images())

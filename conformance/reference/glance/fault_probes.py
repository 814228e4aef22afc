"""What the probes of the Glance-style reference's faults share: the images they look at and how they look."""

from __future__ import annotations

import json
import re
from typing import Any

from conformance.reference.fault import Fault
from conformance.reference.glance.images import image_by_key
from conformance.reference.glance.probe import Answer, HttpProbe

VIVADO = image_by_key("centos-vivado")  # the seed 001 sample: vendor properties, lower-case hex checksum
CIRROS = image_by_key("cirros")  # the seed 003/004 sample: no properties, size shared with cirros-052
DELETED = image_by_key("deleted-centos")  # visible to HEAD (as upstream answers admin), with Deleted_at
COREOS = image_by_key("coreos")  # active, of a size no other image has: off every filter boundary
UNKNOWN = "00000000-0000-4000-8000-000000000000"
MALFORMED = "not-a-uuid!"
DETAIL = "/v1.1/images/detail"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HttpFault = Fault[HttpProbe]  # each probe takes a client of the running reference


def show(http: HttpProbe, image_id: str = VIVADO.id) -> Any:
    return http.get(f"/v2/images/{image_id}").json()


def head(http: HttpProbe, image_id: str = CIRROS.id) -> dict[str, str]:
    return http.head(f"/v1/images/{image_id}").headers


def updated_before_created(http: HttpProbe) -> bool:
    body = show(http)
    return bool(body["updated_at"] < body["created_at"])


def etag_differs_from_checksum(http: HttpProbe) -> bool:
    meta = head(http)
    return meta["etag"] != meta["x-image-meta-checksum"]


def list_disagrees_with_show(http: HttpProbe) -> bool:
    entry = http.get("/v2/images?limit=1").json()["images"][0]
    return bool(entry["name"] != show(http, entry["id"])["name"])


def marker_page_skips(http: HttpProbe) -> bool:
    every = [entry["id"] for entry in http.detail("sort_dir=asc")]
    page = http.get(f"{DETAIL}?sort_dir=asc&marker={CIRROS.id}&limit=3").json()["images"]
    return bool(page[0]["id"] != every[every.index(CIRROS.id) + 1])


def forged(http: HttpProbe) -> HttpProbe:
    """The probe sending a token the reference never issued (the probe's own token reversed)."""
    return http.with_token((http.token or "no-token")[::-1])


def active_heads(http: HttpProbe) -> list[dict[str, str]]:
    ids = [entry["id"] for entry in http.detail("status=active")]
    return [head(http, image_id) for image_id in ids]


def not_json(answer: Answer) -> bool:
    try:
        json.loads(answer.body)
    except ValueError:
        return True
    return False

"""What `GET /v2/images/{id}` answers, and the parts of a v2 image other operations are compared with."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from conformance import schemas
from conformance.short_repr import ShortRepr
from conformance.targets.fanout import ahead
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpResponse
from conformance.targets.limits import kept_cost

V2_BASE_SCHEMA = "glance/v2-image.glance.json"  # the fields upstream v2 declares; every other key is a custom property
# Seed 001 §响应参数: size and checksum are 目前暂时不使用 (not used for now); its sample shows size 0 and the MD5 of no
# data on an active image. Under the vendor's reading (ims) a v2 image's size and checksum promise nothing.
UNUSED_BY_VENDOR = ("size", "checksum")


def unused_fields(upstream_behaviour: bool) -> tuple[str, ...]:
    """The v2 fields whose values a profile does not judge: none under upstream's reading, UNUSED_BY_VENDOR else."""
    return () if upstream_behaviour else UNUSED_BY_VENDOR


@dataclass
class Shown(ShortRepr):
    """One image as `GET /v2/images/{id}` answered it."""

    image_id: str
    response: HttpResponse
    # the body parsed once (_NOT_PARSED until then): every test reads the same object, so each schema validates it once
    parsed: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.parsed = _NOT_PARSED

    def __repr__(self) -> str:
        return f"Shown({self.image_id!r}: {self.response.status})"


def kept_within(glance: GlanceClient, image_ids: list[str]) -> tuple[list[Shown], int]:
    """`GET /v2/images/{id}` of each of `image_ids` while what the answers hold stays within the run's bound on kept
    answers; the images shown, and how many were left out (the one past the bound, and those after it)."""
    shown: list[Shown] = []
    spent = 0
    # up to --concurrency shows in flight; past the bound at most that many answers more are read, then dropped
    with closing(ahead(glance.show, image_ids, limit=glance.limits.concurrency)) as answers:
        for at, (image_id, response) in enumerate(zip(image_ids, answers, strict=True)):
            spent += kept_cost(response.body)
            if spent > glance.limits.kept_bytes:
                return shown, len(image_ids) - at
            shown.append(Shown(image_id, response))
    return shown, 0


_NOT_PARSED = object()
_NOT_JSON = object()


def bodies(shown: list[Shown]) -> list[tuple[Shown, dict[str, Any]]]:
    """The shown images that answered 200 with a JSON object, with that object."""
    found = []
    for item in shown:
        if item.response.status != 200:
            continue
        if item.parsed is _NOT_PARSED:
            try:
                item.parsed = item.response.json()
            except AssertionError:
                item.parsed = _NOT_JSON
        body = item.parsed
        if isinstance(body, dict):
            found.append((item, body))
    return found


def bodies_by_id(shown: list[Shown]) -> dict[str, dict[str, Any]]:
    """The JSON objects of the shown images that answered 200, by image id."""
    return {item.image_id: body for item, body in bodies(shown)}


def custom_properties(body: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a v2 image outside upstream's declared fields: its custom (and vendor) properties."""
    declared = {spec.name for spec in schemas.field_specs(V2_BASE_SCHEMA)}
    return {key: value for key, value in body.items() if key not in declared}

"""Self-tests that the reference catalogue exercises every documented v2 field, and that a fault breaks each one."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from werkzeug.test import Client

from conformance import catalog, schemas
from conformance.reference.glance.app import make_app
from conformance.reference.glance.faults import GLANCE_FAULTS

FIELD_VALUES = "GLANCE-V2-SHOW-FIELD-VALUES"
IMS_SHOW = catalog.profiles()["ims"].schemas["glance.v2.show"]
IMS_FIELDS = [spec.name for spec in schemas.field_specs(IMS_SHOW)]


@cache
def _listed(fault: str | None) -> tuple[dict[str, Any], ...]:
    """Every live image's v2 body, as the reference lists it with `fault` (or none) switched on."""
    client = Client(make_app(faults=[fault] if fault else []))
    images: list[dict[str, Any]] = client.get("/v2/images?limit=1000").get_json()["images"]
    return tuple(images)


@cache
def _field_errors(fault: str | None, field: str) -> tuple[str, ...]:
    """The lines test_field_has_documented_type_and_values reports for `field` over the listed images."""
    return tuple(line for body in _listed(fault) for line in schemas.field_error_lines(IMS_SHOW, body, field))


def _field_faults() -> list[str]:
    return [name for name, fault in GLANCE_FAULTS.items()
            if FIELD_VALUES in (fault.breaks, *fault.also_breaks) and fault.profile in (None, "ims")]


@pytest.mark.parametrize("field", IMS_FIELDS)
def test_field_appears_with_a_documented_value(field: str) -> None:
    carried = [body for body in _listed(None) if field in body]
    assert carried, f"no image of the reference catalogue carries {field!r}: its field case would be skipped"
    assert not _field_errors(None, field), _field_errors(None, field)[:3]


@pytest.mark.parametrize("field", IMS_FIELDS)
def test_some_fault_breaks_the_field(field: str) -> None:
    breaking = [name for name in _field_faults() if _field_errors(name, field)]
    assert breaking, f"no fault declaring {FIELD_VALUES} gives {field!r} an undocumented value"

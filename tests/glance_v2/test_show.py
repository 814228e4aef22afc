"""GET /v2/images/{image_id} — seed 001 "查询镜像详情（OpenStack原生）", read top to bottom like the page."""

from __future__ import annotations

import datetime
import uuid

import pytest
from hypothesis import given

from conformance import schemas
from conformance.glance import strategies
from conformance.checks import Problems, fail
from conformance.glance.fixtures import Shown
from conformance.run.state import RunState
from conformance.targets.glance import GlanceClient

UNKNOWN_UUIDS = (
    "00000000-0000-4000-8000-000000000000",
    "ffffffff-ffff-4fff-bfff-ffffffffffff",
    str(uuid.uuid5(uuid.NAMESPACE_URL, "image-conformance/unknown-image")),
)


def is_json_type(content_type: str) -> bool:
    """Whether a media type is JSON (application/json or a +json suffix)."""
    return content_type == "application/json" or content_type.endswith("+json")


def parse_utc(value: object) -> datetime.datetime | None:
    """The UTC datetime `value` stands for, or None when it is not an ISO 8601 UTC timestamp."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.utcoffset() != datetime.timedelta(0):
        return None
    return parsed


def bodies(shown: list[Shown]) -> list[tuple[Shown, dict]]:
    """The shown images that answered 200 with a JSON object."""
    found = []
    for item in shown:
        if item.response.status == 200:
            try:
                body = item.response.json()
            except AssertionError:
                continue
            if isinstance(body, dict):
                found.append((item, body))
    return found


@pytest.mark.requirement("GLANCE-V2-SHOW-200-JSON")
def test_existing_image_answers_200_with_json(v2_shown: list[Shown], run_state: RunState) -> None:
    problems = Problems("Showing an existing image must answer 200 with a JSON body", run_state.log)
    for item in v2_shown:
        response = item.response
        if response.status != 200:
            problems.add(f"{item.image_id}: status {response.status}, documented 200", item.exchange)
        elif not is_json_type(response.content_type):
            problems.add(f"{item.image_id}: Content-Type {response.headers.get('Content-Type')!r}, documented application/json", item.exchange)
        else:
            try:
                response.json()
            except AssertionError as exc:
                problems.add(f"{item.image_id}: {exc}", item.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-SCHEMA")
def test_body_validates_against_profile_schema(v2_shown: list[Shown], http_profile, run_state: RunState) -> None:
    schema_name = http_profile.schemas["glance.v2.show"]
    problems = Problems(f"The shown image must validate against {schema_name}", run_state.log)
    for item, body in bodies(v2_shown):
        for line in schemas.error_lines(schema_name, body):
            problems.add(f"{item.image_id}: {line}", item.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-FIELD-VALUES")
@pytest.mark.schema_fields("glance.v2.show")
def test_field_has_documented_type_and_values(schema_field: str, v2_shown: list[Shown], http_profile, run_state: RunState) -> None:
    schema_name = http_profile.schemas["glance.v2.show"]
    spec = {f.name: f for f in schemas.field_specs(schema_name)}[schema_field]
    judged = bodies(v2_shown)
    if not spec.required and not any(schema_field in body for _, body in judged):
        pytest.skip(f"no shown image carries the optional field {schema_field!r}")
    problems = Problems(f"Field {schema_field!r} must have the documented type and values", run_state.log)
    for item, body in judged:
        for line in schemas.field_error_lines(schema_name, body, schema_field):
            problems.add(f"{item.image_id}: {line}", item.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-ID-MATCHES")
def test_id_equals_requested_id(v2_shown: list[Shown], run_state: RunState) -> None:
    problems = Problems("The shown image's id must equal the requested id", run_state.log)
    for item, body in bodies(v2_shown):
        if "id" in body and body["id"] != item.image_id:  # an absent id is GLANCE-V2-SHOW-FIELD-VALUES' concern
            problems.add(f"requested {item.image_id}, received id {body.get('id')!r}", item.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-ID-UUID")
def test_id_is_a_uuid(v2_shown: list[Shown], run_state: RunState) -> None:
    problems = Problems("Image ids must be canonical UUIDs", run_state.log)
    for item, body in bodies(v2_shown):
        if "id" not in body:
            continue
        value = body["id"]
        try:
            canonical = str(uuid.UUID(value)) if isinstance(value, str) else None
        except ValueError:
            canonical = None
        if canonical is None or canonical != value.lower():
            problems.add(f"{item.image_id}: id {value!r} is not a canonical UUID", item.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-LINKS")
def test_links_name_the_image(v2_shown: list[Shown], run_state: RunState) -> None:
    problems = Problems("self, file and schema must point at the image's own resources", run_state.log)
    for item, body in bodies(v2_shown):
        expected = {
            "self": f"/v2/images/{item.image_id}",
            "file": f"/v2/images/{item.image_id}/file",
            "schema": "/v2/schemas/image",
        }
        for key, value in expected.items():
            if body.get(key) != value:
                problems.add(f"{item.image_id}: {key} is {body.get(key)!r}, documented {value!r}", item.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-TIMESTAMPS")
def test_timestamps_are_utc_and_ordered(v2_shown: list[Shown], run_state: RunState) -> None:
    problems = Problems("created_at and updated_at must be ISO 8601 UTC, updated no earlier than created", run_state.log)
    for item, body in bodies(v2_shown):
        stamps = {key: parse_utc(body.get(key)) for key in ("created_at", "updated_at")}
        for key, parsed in stamps.items():
            if parsed is None:
                problems.add(f"{item.image_id}: {key} {body.get(key)!r} is not an ISO 8601 UTC timestamp", item.exchange)
        created, updated = stamps["created_at"], stamps["updated_at"]
        if created and updated and updated < created:
            problems.add(f"{item.image_id}: updated_at {body['updated_at']} is before created_at {body['created_at']}", item.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-EXTRA-PROPS-STRINGS")
def test_extra_properties_are_strings(v2_shown: list[Shown], http_profile, run_state: RunState) -> None:
    declared = {f.name for f in schemas.field_specs(http_profile.schemas["glance.v2.show"])}
    problems = Problems("Properties outside the schema's declared fields must be strings", run_state.log)
    for item, body in bodies(v2_shown):
        for key, value in body.items():
            if key not in declared and not isinstance(value, str):
                problems.add(f"{item.image_id}: {key} = {value!r} ({type(value).__name__})", item.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-CHECKSUM-FORMAT")
def test_checksum_is_md5_hex(v2_shown: list[Shown], run_state: RunState) -> None:
    problems = Problems("checksum must be null or 32 lower-case hex digits", run_state.log)
    judged = bodies(v2_shown)
    if not any(body.get("checksum") is not None for _, body in judged):
        pytest.skip("no shown image has a checksum (no image data uploaded)")
    for item, body in judged:
        value = body.get("checksum")
        if value is not None and not (isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)):
            problems.add(f"{item.image_id}: checksum {value!r}", item.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-404")
@pytest.mark.parametrize("unknown_id", UNKNOWN_UUIDS)
def test_unknown_uuid_answers_404(unknown_id: str, glance: GlanceClient, v2_listed: dict, run_state: RunState) -> None:
    if unknown_id in v2_listed:
        pytest.skip(f"the target really has an image {unknown_id}")
    response = glance.show(unknown_id)
    if response.status != 404:
        fail(f"Showing the unknown image {unknown_id} must answer 404", str(response.status), "404", run_state.log.last())


@pytest.mark.requirement("GLANCE-V2-SHOW-MALFORMED-ID")
@given(image_id=strategies.malformed_image_ids())
def test_malformed_id_answers_4xx_never_5xx(image_id: str, glance: GlanceClient, run_state: RunState) -> None:
    response = glance.show(image_id)
    if not 400 <= response.status < 500:
        fail(f"Showing the malformed id {image_id!r} must answer 4xx", str(response.status), "4xx (upstream: 404)", run_state.log.last())


@pytest.mark.requirement("GLANCE-V2-SHOW-AGREES-WITH-LIST")
def test_show_equals_list_entry(v2_shown: list[Shown], v2_listed: dict, run_state: RunState) -> None:
    problems = Problems("A shown image must equal its entry in GET /v2/images", run_state.log)
    compared = 0
    for item, body in bodies(v2_shown):
        entry = v2_listed.get(item.image_id)
        if entry is None:
            continue
        compared += 1
        differing = sorted(k for k in set(body) | set(entry) if body.get(k, "<absent>") != entry.get(k, "<absent>"))
        for key in differing:
            problems.add(f"{item.image_id}: {key} shown {body.get(key, '<absent>')!r}, listed {entry.get(key, '<absent>')!r}", item.exchange)
    if not compared:
        pytest.skip("none of the images to test appears in the list")
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-ERROR-BODY")
def test_error_answer_is_json_when_json_is_accepted(glance: GlanceClient, v2_listed: dict, run_state: RunState) -> None:
    unknown_id = next(u for u in UNKNOWN_UUIDS if u not in v2_listed)
    response = glance.show(unknown_id)
    exchange = run_state.log.last()
    if not 400 <= response.status < 500:
        pytest.skip(f"the unknown image answered {response.status}; GLANCE-V2-SHOW-404 judges that")
    if not is_json_type(response.content_type):
        fail("An error answer to Accept: application/json must be JSON", f"Content-Type {response.headers.get('Content-Type')!r}", "application/json", exchange)
    response.json()

"""GET /v2/images/{image_id} — seed 001 "查询镜像详情（OpenStack原生）", read top to bottom like the page."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given

from conformance import schemas
from conformance.batches import batch_of, batched
from conformance.catalog import Profile
from conformance.checks import Problems, fail, judged
from conformance.evidence import clip
from conformance.glance import published_schema, strategies
from conformance.glance.absent_ids import UNKNOWN_UUIDS, judge_malformed_ids, judge_unknown_id, unknown_uuid
from conformance.glance.published_schema import PublishedSchema
from conformance.glance.unauthorized import WRONG_CREDENTIAL_IDS, WRONG_CREDENTIALS, judge_401
from conformance.glance.v2_shown import Shown, bodies, unused_fields
from conformance.glance.write_mode import DOCUMENTED_DISK_FORMAT, WrittenSet
from conformance.glance.written import (
    check_other_token,
    deleted_show_problems,
    other_project_problems,
    private_images,
    show_problems,
    written_set,
)
from conformance.targets.auth import Auth
from conformance.targets.glance import GlanceClient, Listing
from conformance.targets.limits import TooManyValues
from conformance.timestamps import parse_time


@pytest.mark.requirement("GLANCE-V2-SHOW-200-JSON")
def test_existing_image_answers_200_with_json(v2_shown: list[Shown]) -> None:
    problems = Problems("Showing an existing image must answer 200 with a JSON body")
    problems.judged("images", len(v2_shown))
    for item in v2_shown:
        response = item.response
        if response.status != 200:
            problems.add(f"{item.image_id}: status {response.status}, documented 200", item.response.exchange)
        elif not response.is_json:
            problems.add(f"{item.image_id}: Content-Type {response.headers.get('Content-Type')!r}, documented "
                         "application/json", item.response.exchange)
        else:
            try:
                response.json()
            except AssertionError as exc:
                problems.add(f"{item.image_id}: {exc}", item.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-SCHEMA")
def test_body_validates_against_profile_schema(
    v2_shown: list[Shown], http_profile, v2_schema_enums: schemas.Enums, v2_published_schema: PublishedSchema
) -> None:
    schema_name = http_profile.schemas["glance.v2.show"]
    basis = f" ({v2_published_schema.basis})" if schemas.target_enum_fields(schema_name) else ""
    problems = Problems(f"The shown image must validate against {schema_name}{basis}")
    problems.judged("images", len(bodies(v2_shown)))
    for item, body in bodies(v2_shown):
        for line in schemas.error_lines(schema_name, body, v2_schema_enums):
            problems.add(f"{item.image_id}: {line}", item.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-FIELD-VALUES")
@pytest.mark.schema_fields("glance.v2.show")
def test_field_has_documented_type_and_values(
    schema_field: str, v2_shown: list[Shown], http_profile, v2_schema_enums: schemas.Enums,
    v2_published_schema: PublishedSchema,
) -> None:
    schema_name = http_profile.schemas["glance.v2.show"]
    spec = {f.name: f for f in schemas.field_specs(schema_name)}[schema_field]
    judged = bodies(v2_shown)
    if not spec.required and not any(schema_field in body for _, body in judged):
        pytest.skip(f"no shown image carries the optional field {schema_field!r}")
    from_target = schema_field in schemas.target_enum_fields(schema_name)
    basis = f" ({v2_published_schema.basis})" if from_target else ""
    problems = Problems(f"Field {schema_field!r} must have the documented type and values{basis}")
    # one field of each image: the requirement's tests, one per field, count field values, not images again
    problems.judged("field values", sum(1 for _, body in judged if spec.required or schema_field in body))
    for item, body in judged:
        for line in schemas.field_error_lines(schema_name, body, schema_field, v2_schema_enums):
            problems.add(f"{item.image_id}: {line}", item.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-ID-MATCHES")
def test_id_equals_requested_id(v2_shown: list[Shown]) -> None:
    problems = Problems("The shown image's id must equal the requested id")
    problems.judged("images", len(bodies(v2_shown)))
    for item, body in bodies(v2_shown):
        if "id" in body and body["id"] != item.image_id:  # an absent id is GLANCE-V2-SHOW-FIELD-VALUES' concern
            problems.add(f"requested {item.image_id}, received id {body.get('id')!r}", item.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-ID-UUID")
def test_id_is_a_uuid(v2_shown: list[Shown]) -> None:
    problems = Problems("Image ids must be canonical UUIDs")
    problems.judged("images", len(bodies(v2_shown)))
    for item, body in bodies(v2_shown):
        if "id" not in body:
            continue
        value = body["id"]
        try:
            canonical = str(uuid.UUID(value)) if isinstance(value, str) else None
        except ValueError:
            canonical = None
        if canonical is None or canonical != value.lower():
            problems.add(f"{item.image_id}: id {value!r} is not a canonical UUID", item.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-LINKS")
def test_links_name_the_image(v2_shown: list[Shown]) -> None:
    problems = Problems("self, file and schema must point at the image's own resources")
    problems.judged("images", len(bodies(v2_shown)))
    for item, body in bodies(v2_shown):
        expected = {
            "self": f"/v2/images/{item.image_id}",
            "file": f"/v2/images/{item.image_id}/file",
            "schema": "/v2/schemas/image",
        }
        for key, value in expected.items():
            if body.get(key) != value:
                problems.add(f"{item.image_id}: {key} is {body.get(key)!r}, documented {value!r}",
                             item.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-TIMESTAMPS")
def test_timestamps_are_utc_and_ordered(v2_shown: list[Shown]) -> None:
    problems = Problems("created_at and updated_at must be ISO 8601 UTC, updated no earlier than created")
    problems.judged("images", len(bodies(v2_shown)))
    for item, body in bodies(v2_shown):
        stamps = {key: parse_time(body.get(key), utc_only=True) for key in ("created_at", "updated_at")}
        for key, parsed in stamps.items():
            if parsed is None:
                problems.add(f"{item.image_id}: {key} {body.get(key)!r} is not an ISO 8601 UTC timestamp",
                             item.response.exchange)
        created, updated = stamps["created_at"], stamps["updated_at"]
        if created and updated and updated < created:
            problems.add(f"{item.image_id}: updated_at {body['updated_at']} is before created_at {body['created_at']}",
                         item.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-EXTRA-PROPS-STRINGS")
def test_extra_properties_are_strings(v2_shown: list[Shown], http_profile) -> None:
    declared = {f.name for f in schemas.field_specs(http_profile.schemas["glance.v2.show"])}
    problems = Problems("Properties outside the schema's declared fields must be strings")
    problems.judged("images", len(bodies(v2_shown)))
    for item, body in bodies(v2_shown):
        for key, value in body.items():
            if key not in declared and not isinstance(value, str):
                problems.add(f"{item.image_id}: {key} = {value!r} ({type(value).__name__})", item.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-CHECKSUM-FORMAT")
def test_checksum_is_md5_hex(v2_shown: list[Shown]) -> None:
    problems = Problems("checksum must be null or 32 lower-case hex digits")
    judged = bodies(v2_shown)
    if not any(body.get("checksum") is not None for _, body in judged):
        pytest.skip("no shown image has a checksum (no image data uploaded)")
    problems.judged("images", sum(1 for _, body in judged if body.get("checksum") is not None))
    for item, body in judged:
        value = body.get("checksum")
        lowercase_md5 = isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)
        if value is not None and not lowercase_md5:
            problems.add(f"{item.image_id}: checksum {value!r}", item.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-OWN-SCHEMA")
def test_body_validates_against_the_targets_own_schema(
    v2_shown: list[Shown], v2_published_schema: PublishedSchema
) -> None:
    published = v2_published_schema
    if published.schema is None:
        pytest.skip(f"the target publishes no usable image schema: {published.reason}")
    problems = Problems("The shown image must validate against the schema the target publishes at /v2/schemas/image")
    schema_exchange = published.response.exchange if published.response else None
    problems.judged("images", len(bodies(v2_shown)))
    for item, body in bodies(v2_shown):
        for line in published_schema.violations(published, body):
            problems.add(f"{item.image_id}: {line}", item.response.exchange)
    if problems.lines and schema_exchange is not None:
        problems.exchanges.append(schema_exchange)  # the schema the images were judged against
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-SUPPORT-NOT-COEXIST")
def test_exclusive_support_properties_do_not_coexist(v2_shown: list[Shown], http_profile,
                                                     v2_schema_enums: schemas.Enums) -> None:
    schema_name = http_profile.schemas["glance.v2.show"]
    problems = Problems("__support_xen_gpu_type, __support_kvm_gpu_type and __support_xen_hana must not coexist with "
                        "__support_xen or __support_kvm, nor __support_kvm_infiniband with __support_xen")
    problems.judged("images", len(bodies(v2_shown)))
    for item, body in bodies(v2_shown):
        # the same validation as SCHEMA's (a format enum from the target cannot touch dependentSchemas)
        for line in schemas.keyword_error_lines(schema_name, body, "dependentSchemas", v2_schema_enums):
            problems.add(f"{item.image_id}: {line}", item.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-OS-FEATURE-LIST-JSON")
def test_json_text_properties_are_json(v2_shown: list[Shown], http_profile) -> None:
    fields = schemas.json_text_fields(http_profile.schemas["glance.v2.show"])
    judged = [(item, body, key) for item, body in bodies(v2_shown) for key in fields if isinstance(body.get(key), str)]
    if not judged:
        pytest.skip(f"no shown image carries {', '.join(fields)} as a string")
    problems = Problems(f"{', '.join(fields)} must be JSON text")
    problems.judged("JSON text properties", len(judged))
    for item, body, key in judged:
        try:
            item.response.loads(body[key], parse_constant=_no_constant)
        except TooManyValues as exc:
            problems.not_judged(f"a {key} of about {exc.values} JSON values not parsed (raise --max-json-values)")
        except ValueError as exc:
            problems.add(f"{item.image_id}: {key} {clip(body[key], 200)!r} is not JSON ({exc})", item.response.exchange)
    problems.check()


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@pytest.mark.requirement("GLANCE-V2-SHOW-404")
@pytest.mark.parametrize("unknown_id", UNKNOWN_UUIDS)
def test_unknown_uuid_answers_404(unknown_id: str, glance: GlanceClient, v2_listed: dict) -> None:
    judge_unknown_id(glance.show, "Showing", unknown_id, v2_listed)
    judged("unknown ids")


@pytest.mark.requirement("GLANCE-V2-SHOW-MALFORMED-ID")
@batched()
@given(image_ids=batch_of(strategies.malformed_image_ids()))
def test_malformed_id_answers_4xx_never_5xx(image_ids: list[str], glance: GlanceClient, http_profile: Profile) -> None:
    judge_malformed_ids(glance.show, "Showing", image_ids, vendor=not http_profile.upstream_behaviour,
                        concurrency=glance.limits.concurrency)


@pytest.mark.requirement("GLANCE-V2-SHOW-AGREES-WITH-LIST")
def test_show_equals_list_entry(v2_listed: dict, v2_listing: Listing, request: pytest.FixtureRequest) -> None:
    problems = Problems("A shown image must equal its entry in GET /v2/images")
    if v2_listing.problem is not None and v2_listing.stopped_at is not None:
        # the list this requirement reads ended early: a `next` link off the origin, or a page that is no list
        problems.judged("image lists")
        problems.add(f"the image list ended after {v2_listing.pages} page(s): {v2_listing.problem}",
                     v2_listing.stopped_at.exchange)
    # a list that broke before listing anything leaves nothing to compare (and no image discovered to show)
    shown: list[Shown] = [] if problems.lines and not v2_listed else request.getfixturevalue("v2_shown")
    compared = 0
    for item, body in bodies(shown):
        entry = v2_listed.get(item.image_id)
        if entry is None:
            continue
        compared += 1
        problems.judged("images")
        differing = sorted(k for k in set(body) | set(entry) if body.get(k, "<absent>") != entry.get(k, "<absent>"))
        for key in differing:
            problems.add(f"{item.image_id}: {key} shown {body.get(key, '<absent>')!r}, listed "
                         f"{entry.get(key, '<absent>')!r}", item.response.exchange)
    if not compared and not problems.lines:
        pytest.skip("none of the images to test appears in the list")
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-ERROR-BODY")
def test_error_answer_is_json_when_json_is_accepted(glance: GlanceClient, v2_listed: dict) -> None:
    response = glance.show(unknown_uuid(v2_listed))
    exchange = response.exchange
    if not 400 <= response.status < 500:
        pytest.skip(f"the unknown image answered {response.status}; GLANCE-V2-SHOW-404 judges that")
    if not response.is_json:
        fail("An error answer to Accept: application/json must be JSON",
             f"Content-Type {response.headers.get('Content-Type')!r}", "application/json", exchange)
    response.json()
    judged("error answers")


@pytest.mark.requirement("GLANCE-V2-SHOW-401")
@pytest.mark.parametrize("auth", WRONG_CREDENTIALS, ids=WRONG_CREDENTIAL_IDS)
def test_request_without_a_valid_token_answers_401(auth: Auth, glance: GlanceClient, v2_image_ids: list[str]) -> None:
    image_id = v2_image_ids[0]
    judge_401(glance, auth, f"GET /v2/images/{image_id}", lambda client: client.show(image_id))
    judged("requests")


# -- write mode (--allow-writes): the images this run created are the ground truth ----------------------------------


@pytest.mark.requirement("GLANCE-V2-SHOW-FIELD-VALUES")
def test_images_the_run_created_show_what_was_written(written_images: WrittenSet | None, glance: GlanceClient,
                                                      http_profile: Profile) -> None:
    written = written_set(written_images)
    unused = unused_fields(http_profile.upstream_behaviour)
    upload = "" if unused else " (and its upload's size and checksum)"
    problems = Problems(f"An image this run created must show the values it was written with{upload}")
    for image in written.images:
        response = glance.show(image.id)
        problems.judged("images the run created")
        for line in show_problems(image, response, unused):
            problems.add(line, response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-FIELD-VALUES")
def test_protected_image_the_run_created_refuses_delete(written_images: WrittenSet | None,
                                                        glance: GlanceClient) -> None:
    written = written_set(written_images)
    problems = Problems("DELETE of a protected image must answer 403 and leave it shown (seed 001: protected, "
                        "受保护的镜像不允许删除)")
    for image, answer in written.protected_delete:
        problems.judged("protected images the run created")
        if answer.status != 403:
            problems.add(f"{image.id} ({image.fixture.name}): DELETE answered {answer.status}, documented 403",
                         answer.exchange)
        shown = glance.show(image.id)
        if shown.status != 200:
            problems.add(f"{image.id} ({image.fixture.name}): after the DELETE it answers {shown.status}, documented "
                         "200: a protected image is not deleted", shown.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-404")
def test_image_the_run_deleted_answers_404(written_images: WrittenSet | None, glance: GlanceClient) -> None:
    written = written_set(written_images)
    problems = Problems("Showing an image this run deleted must answer 404")
    for image in written.deleted:
        response = glance.show(image.id)
        problems.judged("images the run deleted")
        for line in deleted_show_problems(image, response):
            problems.add(line, response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-OTHER-PROJECT-PRIVATE")
def test_private_image_is_not_shown_to_another_project(written_images: WrittenSet | None, glance: GlanceClient,
                                                       other_project: GlanceClient, http_profile: Profile) -> None:
    written = written_set(written_images)
    vendor = not http_profile.upstream_behaviour
    problems = Problems("Another project's private image must not be shown to a second project's token")
    for image in private_images(written):
        response = other_project.show(image.id)
        check_other_token(other_project, response)
        problems.judged("private images the run created")
        for line in other_project_problems(image, response, "GET /v2/images/{id}", vendor=vendor):
            problems.add(line, response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V2-SHOW-DISK-FORMAT-DEFAULT")
def test_image_the_run_created_without_disk_format_shows_the_default(written_images: WrittenSet | None,
                                                                     glance: GlanceClient) -> None:
    written = written_set(written_images)
    image = written.unformatted
    assert image is not None, "write mode creates it wherever this requirement is certified"
    response = glance.show(image.id)
    problems = Problems(f"An image created without disk_format must show the documented default "
                        f"{DOCUMENTED_DISK_FORMAT!r} (seed 001: 默认值是vhd)")
    problems.judged("images the run created without disk_format")
    if response.status != 200:
        problems.add(f"{image.id} ({image.fixture.name}): answered {response.status}, documented 200 for the image "
                     "this run created", response.exchange)
    elif (shown := response.json().get("disk_format", "<absent>")) != DOCUMENTED_DISK_FORMAT:
        problems.add(f"{image.id} ({image.fixture.name}): disk_format {shown!r}, created without one: documented "
                     f"{DOCUMENTED_DISK_FORMAT!r}", response.exchange)
    problems.check()

"""HEAD /v1/images/{image_id} — seed 003 "查询镜像元数据（OpenStack原生v1--已废弃）".

Read top to bottom like the page.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from conformance import schemas
from conformance.batches import batch_of, batched
from conformance.catalog import Profile
from conformance.checks import Problems, judged
from conformance.evidence import clip
from conformance.glance import strategies
from conformance.glance.absent_ids import UNKNOWN_UUIDS, judge_malformed_ids, judge_unknown_id
from conformance.glance.published_schema import PublishedSchema
from conformance.glance.unauthorized import WRONG_CREDENTIAL_IDS, WRONG_CREDENTIALS, judge_401
from conformance.glance.v1_headers import Headed
from conformance.glance.v2_shown import Shown, bodies_by_id, custom_properties, unused_fields
from conformance.glance.walks import Universe
from conformance.glance.write_mode import WrittenSet
from conformance.glance.written import (
    check_other_token,
    deleted_head_problems,
    head_problems,
    head_property_problems,
    other_project_problems,
    private_images,
    written_set,
)
from conformance.targets.auth import Auth
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpResponse
from conformance.timestamps import parse_time

# The types of the seed's response table.
INTEGER_FIELDS = ("size", "virtual_size", "min_disk", "min_ram")
BOOLEAN_FIELDS = ("is_public", "protected", "deleted")
TIMESTAMP_FIELDS = ("created_at", "updated_at", "deleted_at")
ENUM_FIELDS = ("status", "disk_format", "container_format")
# Fields v1 and v2 write alike (v1 as text); the representation is judged by INTEGERS and BOOLEANS, the value here.
V2_FIELDS = ("min_ram", "min_disk", "disk_format", "container_format", "protected", "size", "checksum", "owner")
V2_MOMENTS = ("created_at", "updated_at")  # v1 writes them naive UTC with microseconds, v2 in whole seconds with Z


def compared_fields(profile: Profile) -> tuple[str, ...]:
    """The V2_FIELDS the profile compares: all under upstream's reading, the ones the vendor's v2 uses under ims."""
    unused = unused_fields(profile.upstream_behaviour)  # seed 001: the vendor's v2 does not use size and checksum
    return tuple(name for name in V2_FIELDS if name not in unused)


def answered(heads: list[Headed]) -> list[Headed]:
    """The HEAD answers that are 200."""
    return [head for head in heads if head.response.status == 200]


def live(heads: list[Headed]) -> list[Headed]:
    """The HEAD answers of sampled images, not of the deleted and killed ones (v2 show answers 404 when deleted)."""
    return [head for head in heads if not head.hidden]


def head_schema(http_profile: Profile) -> str:
    """The profile's schema of the X-Image-Meta-* headers."""
    return http_profile.schemas["glance.v1.head"]


def check_fields(fields: tuple[str, ...], title: str, heads: list[Headed], http_profile: Profile,
                 enums: schemas.Enums) -> None:
    """Fail when a sent header of `fields` breaks the profile's schema (formats from `enums`; absence: elsewhere).

    Every caller passes the run's enums, so each HEAD answer is validated once for all of them.
    """
    __tracebackhide__ = True
    schema_name = head_schema(http_profile)
    problems = Problems(title)
    problems.judged("images", len(answered(heads)))
    for head in answered(heads):
        for name in fields:
            if name in head.meta:
                for line in schemas.field_error_lines(schema_name, head.meta, name, enums):
                    problems.add(f"{head.image_id}: X-Image-Meta-{name.capitalize()} {line.split(': ', 1)[-1]}",
                                 head.response.exchange)
    problems.check()


def as_number(text: str) -> float | None:
    """A header's numeric value, however it is written; None when it is not a number."""
    try:
        return float(text)
    except ValueError:
        return None


def as_boolean(text: str) -> bool | None:
    """A header's boolean value, however it is written; None when it is not a boolean."""
    return {"true": True, "1": True, "false": False, "0": False}.get(text.strip().lower())


def same_value(name: str, header: str, v2_value: Any) -> bool | None:
    """Whether a v1 header holds the v2 value; None when the header cannot be read as that type."""
    if name == "checksum" and isinstance(v2_value, str):
        return header.lower() == v2_value.lower()  # one digest either way; CHECKSUM-FORMAT judges the case
    if isinstance(v2_value, bool):
        parsed = as_boolean(header)
        return None if parsed is None else parsed == v2_value
    if isinstance(v2_value, int):
        number = as_number(header)
        return None if number is None else number == v2_value
    return header == v2_value


@pytest.mark.requirement("GLANCE-V1-HEAD-200-EMPTY-BODY")
def test_existing_image_answers_200_without_a_body(v1_heads: list[Headed],
                                                   raw_head_answers: list[tuple[str, HttpResponse]]) -> None:
    problems = Problems("HEAD of an existing image must answer 200 and send no body")
    problems.judged("images", len(v1_heads))
    for head in v1_heads:
        if head.response.status != 200:
            problems.add(f"{head.image_id}: status {head.response.status}, documented 200", head.response.exchange)
    for image_id, raw in raw_head_answers:
        if raw.body:
            problems.add(f"{image_id}: {len(raw.body)} byte(s) after the headers (answer {raw.status}), "
                         f"starting {clip(raw.body.decode('latin-1'), 60)!r}; documented none (Content-Length: 0); "
                         "read from the socket, as curl -I hides a HEAD body", raw.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-HEADERS-PRESENT")
def test_documented_headers_are_sent(v1_heads: list[Headed], http_profile: Profile) -> None:
    schema_name = head_schema(http_profile)
    required = [spec.name for spec in schemas.field_specs(schema_name) if spec.required]
    problems = Problems(f"HEAD must send every X-Image-Meta-* header {schema_name} requires")
    problems.judged("images", len(answered(v1_heads)))
    for head in answered(v1_heads):
        absent = [f"X-Image-Meta-{name.capitalize()}" for name in required if name not in head.meta]
        if absent:
            problems.add(f"{head.image_id}: no {', '.join(absent)}", head.response.exchange)
    problems.check()


def check_sent_when_active(field: str, heads: list[Headed]) -> None:
    """Fail when an active image's HEAD answer lacks X-Image-Meta-<field> (seed 003: present once uploaded)."""
    __tracebackhide__ = True
    active = [head for head in answered(heads) if head.meta.get("status") == "active"]
    if not active:
        pytest.skip("no image to test is active")
    header = f"X-Image-Meta-{field.capitalize()}"
    problems = Problems(f"When X-Image-Meta-Status is active, {header} must be sent")
    problems.judged("images", len(active))
    for head in active:
        if field not in head.meta:
            problems.add(f"{head.image_id}: active, no {header}", head.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-ACTIVE-SIZE")
def test_active_image_sends_its_size(v1_heads: list[Headed]) -> None:
    check_sent_when_active("size", v1_heads)


@pytest.mark.requirement("GLANCE-V1-HEAD-ACTIVE-CHECKSUM")
def test_active_image_sends_its_checksum(v1_heads: list[Headed]) -> None:
    check_sent_when_active("checksum", v1_heads)


@pytest.mark.requirement("GLANCE-V1-HEAD-INTEGERS")
def test_integer_headers_are_decimal_integers(v1_heads: list[Headed], http_profile: Profile,
                                              v1_head_enums: schemas.Enums) -> None:
    check_fields(INTEGER_FIELDS, "Size, Virtual_size, Min_disk and Min_ram must be decimal integers", v1_heads,
                 http_profile, v1_head_enums)


@pytest.mark.requirement("GLANCE-V1-HEAD-BOOLEANS")
def test_boolean_headers_are_True_or_False(v1_heads: list[Headed], http_profile: Profile,
                                           v1_head_enums: schemas.Enums) -> None:
    check_fields(BOOLEAN_FIELDS, "Is_public, Protected and Deleted must be written True or False", v1_heads,
                 http_profile, v1_head_enums)


@pytest.mark.requirement("GLANCE-V1-HEAD-TIMESTAMPS")
def test_timestamps_name_the_moments_v2_shows(v1_heads: list[Headed], v2_shown: list[Shown]) -> None:
    bodies = bodies_by_id(v2_shown)
    problems = Problems("X-Image-Meta-Created_at and Updated_at must be UTC: the moments GET /v2/images/{id} shows, "
                        "to the second")
    for head in live(answered(v1_heads)):
        body = bodies.get(head.image_id)
        if body is None:
            continue
        problems.judged("images")
        for name in V2_MOMENTS:
            v1_moment, v2_moment = parse_time(head.meta.get(name)), parse_time(body.get(name), utc_only=True)
            if v1_moment is None or v2_moment is None:
                continue  # the forms are judged by the test above and by GLANCE-V2-SHOW-TIMESTAMPS
            if abs((v1_moment - v2_moment).total_seconds()) >= 1:
                problems.add(f"{head.image_id}: X-Image-Meta-{name.capitalize()} {head.meta[name]!r}, v2 {name} "
                             f"{body[name]!r}", head.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-TIMESTAMPS")
def test_timestamps_have_the_v1_form_and_order(v1_heads: list[Headed], http_profile: Profile,
                                               v1_head_enums: schemas.Enums) -> None:
    check_fields(TIMESTAMP_FIELDS, "Created_at, Updated_at and Deleted_at must look like 2016-05-22T06:04:20.425843",
                 v1_heads, http_profile, v1_head_enums)
    problems = Problems("An image must not be updated before it was created")  # the images check_fields counted
    for head in answered(v1_heads):
        created, updated = parse_time(head.meta.get("created_at")), parse_time(head.meta.get("updated_at"))
        if created and updated and updated < created:
            problems.add(f"{head.image_id}: Updated_at {head.meta['updated_at']} is before Created_at "
                         f"{head.meta['created_at']}", head.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-ENUMS")
def test_status_and_formats_are_documented_values(v1_heads: list[Headed], http_profile: Profile,
                                                  v1_head_enums: schemas.Enums,
                                                  v2_published_schema: PublishedSchema) -> None:
    basis = f" ({v2_published_schema.basis})" if schemas.target_enum_fields(head_schema(http_profile)) else ""
    check_fields(ENUM_FIELDS, f"Status, Disk_format and Container_format must carry documented values{basis}",
                 v1_heads, http_profile, v1_head_enums)


@pytest.mark.requirement("GLANCE-V1-HEAD-CHECKSUM-FORMAT")
def test_checksum_is_md5_hex(v1_heads: list[Headed], http_profile: Profile,
                             v1_head_enums: schemas.Enums) -> None:
    if not any("checksum" in head.meta for head in answered(v1_heads)):
        pytest.skip("no image has a checksum (no image data uploaded)")
    check_fields(("checksum",), "X-Image-Meta-Checksum must be 32 lower-case hex digits", v1_heads, http_profile,
                 v1_head_enums)


@pytest.mark.requirement("GLANCE-V1-HEAD-ID-MATCHES")
def test_id_header_equals_requested_id(v1_heads: list[Headed]) -> None:
    problems = Problems("X-Image-Meta-Id must equal the requested id")
    problems.judged("images", len(answered(v1_heads)))
    for head in answered(v1_heads):
        if head.meta.get("id") != head.image_id:
            problems.add(f"requested {head.image_id}, received X-Image-Meta-Id {head.meta.get('id', '<absent>')!r}",
                         head.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-404")
@pytest.mark.parametrize("unknown_id", UNKNOWN_UUIDS)
def test_unknown_uuid_answers_404(unknown_id: str, v1_head_offered: None, glance: GlanceClient,
                                  v2_listed: dict) -> None:
    judge_unknown_id(glance.head_v1, "HEAD of", unknown_id, v2_listed)
    judged("unknown ids")


@pytest.mark.requirement("GLANCE-V1-HEAD-MALFORMED-ID")
@batched()
@given(image_ids=batch_of(strategies.malformed_image_ids()))
def test_malformed_id_answers_4xx_never_5xx(image_ids: list[str], v1_head_offered: None, glance: GlanceClient,
                                            http_profile: Profile) -> None:
    judge_malformed_ids(glance.head_v1, "HEAD of", image_ids, vendor=not http_profile.upstream_behaviour,
                        concurrency=glance.limits.concurrency)


@pytest.mark.requirement("GLANCE-V1-HEAD-401")
@pytest.mark.parametrize("auth", WRONG_CREDENTIALS, ids=WRONG_CREDENTIAL_IDS)
def test_request_without_a_valid_token_answers_401(auth: Auth, v1_head_offered: None, glance: GlanceClient,
                                                    v2_image_ids: list[str]) -> None:
    image_id = v2_image_ids[0]
    judge_401(glance, auth, f"HEAD /v1/images/{image_id}", lambda client: client.head_v1(image_id))
    judged("requests")


@pytest.mark.requirement("GLANCE-V1-HEAD-ETAG")
def test_etag_equals_checksum(v1_heads: list[Headed]) -> None:
    with_checksum = [head for head in answered(v1_heads) if "checksum" in head.meta]
    if not with_checksum:
        pytest.skip("no image has a checksum (no image data uploaded)")
    problems = Problems("ETag must equal X-Image-Meta-Checksum")
    problems.judged("images", len(with_checksum))
    for head in with_checksum:
        etag = head.response.headers.get("ETag")
        # upstream sends the bare digest; a quoted entity-tag (RFC 9110) carries the same value
        if etag is None or etag.strip().removeprefix("W/").strip('"') != head.meta["checksum"]:
            problems.add(f"{head.image_id}: ETag {etag!r}, checksum {head.meta['checksum']!r}", head.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-AGREES-WITH-DETAIL")
def test_name_agrees_with_detail_entry(v1_heads: list[Headed], v1_detail_universe: Universe) -> None:
    entries = {e.get("id"): e for e in v1_detail_universe.all_entries if "seen_in" not in e}
    problems = Problems("X-Image-Meta-Name must equal the name GET /v1.1/images/detail lists")
    compared = 0
    for head in answered(v1_heads):
        entry = entries.get(head.image_id)
        if entry is None:
            continue
        compared += 1
        problems.judged("images")
        if head.meta.get("name") != entry.get("name"):
            problems.add(f"{head.image_id}: X-Image-Meta-Name {head.meta.get('name', '<absent>')!r}, detail name "
                         f"{entry.get('name')!r}", head.response.exchange)
    if not compared:
        pytest.skip("none of the images to test appears in the v1.1 detail listing")
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-AGREES-WITH-V2")
def test_fields_agree_with_v2_show(v1_heads: list[Headed], v2_shown: list[Shown], http_profile: Profile) -> None:
    bodies = bodies_by_id(v2_shown)
    fields = compared_fields(http_profile)
    problems = Problems(f"X-Image-Meta-{', '.join(name.capitalize() for name in fields)} and Is_public must hold the "
                        "values GET /v2/images/{id} shows")
    for head in live(answered(v1_heads)):
        body = bodies.get(head.image_id)
        if body is None:
            continue
        problems.judged("images")
        is_public, visibility = as_boolean(head.meta.get("is_public", "")), body.get("visibility")
        if is_public is not None and isinstance(visibility, str) and is_public != (visibility == "public"):
            problems.add(f"{head.image_id}: X-Image-Meta-Is_public {head.meta['is_public']!r}, v2 visibility "
                         f"{visibility!r}", head.response.exchange)
        for name in fields:
            v2_value, header = body.get(name), head.meta.get(name)
            if v2_value is None or header is None:
                continue  # a null field is left out in v1; HEADERS-PRESENT judges what must be there
            if same_value(name, header, v2_value) is False:
                problems.add(f"{head.image_id}: X-Image-Meta-{name.capitalize()} {header!r}, v2 {name} {v2_value!r}",
                             head.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-PROPERTIES")
def test_every_v2_property_is_a_property_header(v1_heads: list[Headed], v2_shown: list[Shown]) -> None:
    bodies = bodies_by_id(v2_shown)
    problems = Problems("Every custom property must be sent as X-Image-Meta-Property-<key> with its v2 value")
    compared = 0
    for head in live(answered(v1_heads)):
        body = bodies.get(head.image_id)
        if body is None:
            continue
        for key, value in custom_properties(body).items():
            compared += 1
            problems.judged("properties")
            sent = head.properties.get(key.lower())  # header names are case-insensitive; upstream lower-cases them
            if sent is None:
                problems.add(f"{head.image_id}: no X-Image-Meta-Property-{key} (v2 {key} = {value!r})",
                             head.response.exchange)
            elif sent != (value if isinstance(value, str) else str(value)):
                problems.add(f"{head.image_id}: X-Image-Meta-Property-{key} {sent!r}, v2 {value!r}",
                             head.response.exchange)
    if not compared:
        pytest.skip("no image to test has a custom property")
    problems.check()


# -- write mode (--allow-writes): the images this run created are the ground truth ----------------------------------


@pytest.mark.requirement("GLANCE-V1-HEAD-AGREES-WITH-V2")
def test_images_the_run_created_head_what_was_written(written_images: WrittenSet | None, v1_head_offered: None,
                                                     glance: GlanceClient) -> None:
    written = written_set(written_images)
    problems = Problems("X-Image-Meta-* of an image this run created must hold the values written through v2")
    for image in written.images:
        head = Headed.of(image.id, glance.head_v1(image.id))
        problems.judged("images the run created")
        for line in head_problems(image, head, V2_FIELDS):
            problems.add(line, head.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-PROPERTIES")
def test_images_the_run_created_head_their_properties(written_images: WrittenSet | None, v1_head_offered: None,
                                                     glance: GlanceClient) -> None:
    written = written_set(written_images)
    problems = Problems("Every custom property this run wrote must be sent as X-Image-Meta-Property-<key>")
    for image in written.images:
        head = Headed.of(image.id, glance.head_v1(image.id))
        problems.judged("images the run created")
        for line in head_property_problems(image, head):
            problems.add(line, head.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-404")
def test_image_the_run_deleted_answers_404_or_is_marked_deleted(written_images: WrittenSet | None,
                                                                v1_head_offered: None, glance: GlanceClient) -> None:
    written = written_set(written_images)
    problems = Problems("HEAD of an image this run deleted must answer 404 (or, as upstream answers an admin, 200 "
                        "with X-Image-Meta-Deleted: True and Status deleted)")
    for image in written.deleted:
        head = Headed.of(image.id, glance.head_v1(image.id))
        problems.judged("images the run deleted")
        for line in deleted_head_problems(image, head):
            problems.add(line, head.response.exchange)
    problems.check()


@pytest.mark.requirement("GLANCE-V1-HEAD-OTHER-PROJECT-PRIVATE")
def test_private_image_is_not_headed_for_another_project(written_images: WrittenSet | None, v1_head_offered: None,
                                                         other_project: GlanceClient, http_profile: Profile) -> None:
    written = written_set(written_images)
    vendor = not http_profile.upstream_behaviour
    problems = Problems("HEAD of another project's private image must not answer its headers to a second project")
    for image in private_images(written):
        response = other_project.head_v1(image.id)
        check_other_token(other_project, response)
        problems.judged("private images the run created")
        for line in other_project_problems(image, response, "HEAD /v1/images/{id}", vendor=vendor):
            problems.add(line, response.exchange)
    problems.check()

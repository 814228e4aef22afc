"""The suite's work is bounded: one validation per document, trimmed evidence, walks that keep only what is judged."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest

from conformance import schemas
from conformance.evidence import BODY_LIMIT, Censor, Exchange, ExchangeLog
from conformance.glance.v1_1_filters import DETAIL
from conformance.glance.walks import Walk, walk_detail
from conformance.listing.judging import describe, not_returned
from conformance.reference.glance import images as catalogue
from conformance.reference.http_server import start_http_server
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpTarget
from selftests.run_limits import limits

IMS = "glance/v2-image.ims.json"
SECRET = "s3cr3t-t0ken"


def test_a_document_is_validated_once_for_every_field(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = schemas.validator(IMS)

    class Counting:
        def iter_errors(self, instance: Any) -> Any:
            calls.append(instance)
            return real.iter_errors(instance)

    monkeypatch.setattr(schemas, "validator", lambda name, enums=(): Counting())
    monkeypatch.setattr(schemas, "_by_object", OrderedDict())  # nothing validated by earlier tests
    monkeypatch.setattr(schemas, "_by_content", OrderedDict())
    body = {"id": 7, "name": None, "__support_xen": "true", "__support_xen_hana": "true"}
    fields = [schemas.field_error_lines(IMS, body, field) for field in ("id", "name", "status", "visibility")]
    whole = schemas.error_lines(IMS, body)
    exclusive = schemas.keyword_error_lines(IMS, body, "dependentSchemas")
    assert len(calls) == 1
    assert fields[0] and all(line.startswith("id") for line in fields[0])  # the field that breaks is named
    assert fields[2] == ["status: required but absent"]
    assert whole and exclusive
    schemas.error_lines(IMS, dict(body))  # an equal document: its content is validated already
    assert len(calls) == 1
    schemas.error_lines(IMS, {**body, "id": 7.0})  # another document (7.0 is not an integer): validated on its own
    assert len(calls) == 2


def test_a_recorded_exchange_keeps_the_start_of_its_body_and_its_size() -> None:
    body = "x" * (BODY_LIMIT - 5) + SECRET + "y" * 10_000  # the secret straddles the cut
    log = ExchangeLog(Censor((SECRET,)))
    shown = log.record(Exchange(protocol="http", method="GET", target="http://t/", response_body=body))
    assert shown.response_body is not None and len(shown.response_body) == BODY_LIMIT
    assert "s3cr" not in shown.response_body
    assert shown.response_size == len(body.replace(SECRET, "***"))
    text = shown.to_dict()["response_body"]
    assert text.endswith(f"… [{shown.response_size - BODY_LIMIT} more characters trimmed]")
    assert "response_size" not in shown.to_dict()


def test_a_walk_that_does_not_keep_judges_each_page_and_holds_only_ids() -> None:
    server = start_http_server(images=catalogue.generated(60))
    try:
        glance = GlanceClient(HttpTarget(server.url, limits=limits(timeout="10"), log=ExchangeLog(Censor())))
        seen: list[int] = []
        walk = walk_detail(glance, {}, limit=7, max_pages=3, keep=False,
                           on_page=lambda entries, exchange: seen.append(len(entries)))
        kept = walk_detail(glance, {}, limit=7, max_pages=3)
    finally:
        server.stop()
    assert seen == [7, 7, 7] and walk.truncated
    assert walk.entries == [] and walk.pages == [] and walk.ids == kept.ids and len(kept.entries) == 21
    assert walk.exchange is not None and walk.exchange.target == kept.exchange.target  # type: ignore[union-attr]


def test_a_walk_stops_once_its_caller_has_read_all_it_needs() -> None:
    server = start_http_server(images=catalogue.generated(60))
    try:
        glance = GlanceClient(HttpTarget(server.url, limits=limits(timeout="10"), log=ExchangeLog(Censor())))
        whole = walk_detail(glance, {}, limit=7, max_pages=20)
        wanted = set(whole.ids[8:10])  # on the second page
        asked: list[int] = []

        def until(walk: Walk) -> bool:
            asked.append(walk.page_count)
            return wanted.issubset(walk.ids)

        walk = walk_detail(glance, {}, limit=7, max_pages=20, keep=False, until=until)
        never = walk_detail(glance, {}, limit=7, max_pages=20, until=lambda walk: False)
    finally:
        server.stop()
    assert not whole.truncated and whole.page_count > 2
    assert asked == [1, 2] and not walk.truncated and walk.ids == whole.ids[:14]  # stopped after the second page
    assert never.ids == whole.ids  # asked after every page, never satisfied: the whole walk


def test_an_image_counts_as_returned_by_its_id_as_the_walk_holds_it() -> None:
    # a walk holds ids as text; an image listed with a number for its id was still returned (its schema fails apart)
    query = {"name": "a"}
    expected: list[dict[str, Any]] = [{"id": 7, "name": "a"}, {"id": "gone", "name": "a"}]
    shown = describe(DETAIL, expected[1], query)
    assert not_returned(DETAIL, expected, {"7", "other"}, query) == [f"did not return {shown}"]

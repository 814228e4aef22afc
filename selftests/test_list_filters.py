"""The filter tables of the list APIs against the catalogue and the reference, and the shared judging machinery."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import catalog
from conformance.glance.v1_1_filters import DETAIL
from conformance.glance.v2_list_filters import LIST as V2_LIST
from conformance.listing.domains import COUNT, TEXT, TIME, Operator
from conformance.listing.judging import (
    broken_filters,
    drawn_filters,
    matching,
    missing,
    queries,
    requirement_params,
    sentence,
    unsound,
)
from conformance.listing.table import Filter, ListApi
from conformance.listing.text import Case
from conformance.reference.glance.faults import GLANCE_FAULTS
from conformance.reference.glance.v1_1_filters import FILTER_FAULTS
from conformance.reference.glance.v2_list_filters import FILTER_FAULTS as V2_FILTER_FAULTS

TABLES = (DETAIL, V2_LIST)  # every list API's filter table
COMBINED = ("SOUND", "COMPLETE", "MONOTONIC")  # requirements on filters in combination, judged by the machinery


@pytest.mark.parametrize("api", TABLES, ids=lambda api: api.operation)
def test_every_filter_certifies_a_catalogue_requirement_of_its_operation(api: ListApi) -> None:
    known = catalog.requirements()
    for row in api.filters:
        assert row.requirement in known, f"{api.request} {row.name}: {row.requirement} is not in the catalogue"
        assert known[row.requirement].operation == api.operation, row.name
    assert len({row.requirement for row in api.filters}) == len(api.filters), "two filters certify one requirement"


@pytest.mark.parametrize("api", TABLES, ids=lambda api: api.operation)
def test_every_filter_requirement_of_the_catalogue_is_a_row(api: ListApi) -> None:
    rows = {row.requirement for row in api.filters}
    per_filter = {rid for rid, req in catalog.requirements().items()
                  if req.operation == api.operation and "-FILTER-" in rid
                  and rid.rsplit("-FILTER-", 1)[1] not in COMBINED}
    assert per_filter == rows, f"in the catalogue, not the table: {per_filter - rows}; the reverse: {rows - per_filter}"


@pytest.mark.parametrize("row", DETAIL.filters, ids=lambda row: row.name)
def test_every_v1_1_filter_has_a_reference_fault_that_breaks_it(row: Filter) -> None:
    # Declared up front rather than found missing by the sensitivity run: a filter needs a fault in the reference.
    breaking = [fault.name for fault in FILTER_FAULTS if fault.breaks == row.requirement]
    assert breaking, f"no fault of conformance/reference/glance/v1_1_filters.py breaks {row.requirement}"
    assert all(name in GLANCE_FAULTS for name in breaking), "a filter fault is missing from the reference's table"


@pytest.mark.parametrize("row", V2_LIST.filters, ids=lambda row: row.name)
def test_every_v2_list_filter_has_a_reference_fault_that_breaks_it(row: Filter) -> None:
    breaking = [fault.name for fault in V2_FILTER_FAULTS if fault.breaks == row.requirement]
    assert breaking, f"no fault of conformance/reference/glance/v2_list_filters.py breaks {row.requirement}"
    assert all(name in GLANCE_FAULTS for name in breaking), "a filter fault is missing from the reference's table"


@pytest.mark.parametrize(("value", "names"), [
    ('in:"release:2024, final",cirros', ["release:2024, final", "cirros"]),
    ("in:cirros,debian", ["cirros"]),
    ("release:2024, final", ["release:2024, final"]),  # ':' read whole: no operator of the row named
    ("in:release:2024, final", []),  # unquoted: the list is "release:2024" and " final"
])
def test_v2_names_read_in_lists_with_quotes_and_colons_whole(value: str, names: list[str]) -> None:
    images = [{"id": n, "name": n} for n in ("release:2024, final", "cirros", "Cirros")]
    assert [entry["name"] for entry in matching(V2_LIST, images, {"name": value})] == names


def test_tests_are_parametrized_and_titled_from_the_table() -> None:
    params = requirement_params(DETAIL)
    assert [p.id for p in params] == [row.name for row in DETAIL.filters]  # type: ignore[attr-defined]
    marks = [[m.args[0] for m in p.marks if m.name == "requirement"] for p in params]  # type: ignore[attr-defined]
    assert marks == [[row.requirement] for row in DETAIL.filters]
    name = DETAIL.named("name")
    assert sentence(name.requirement) == catalog.requirements()[name.requirement].text.rstrip(".")


@pytest.mark.parametrize("api", TABLES, ids=lambda api: api.operation)
def test_a_filter_is_documented_unless_its_requirement_is_upstream_only(api: ListApi) -> None:
    known = catalog.requirements()
    for row in api.filters:
        assert row.documented != known[row.requirement].source.startswith("upstream only"), row.name
    assert drawn_filters(api, upstream_only=False) == tuple(row.name for row in api.filters if row.documented)
    assert drawn_filters(api, upstream_only=True) == tuple(row.name for row in api.filters)
    assert "changes-since" in drawn_filters(DETAIL, upstream_only=False)
    assert "property" not in drawn_filters(DETAIL, upstream_only=False)


# -- the machinery over a second list API: operators in the value, a keyed filter, no hidden images ---------------

LIST = ListApi("GET /list", "glance.v2.show", (
    Filter("name", "name", TEXT, (Operator.EQ,), "X-NAME"),
    Filter("size_min", "size", COUNT, (Operator.GTE,), "X-SIZE-MIN"),
    Filter("created_at", "created_at", TIME, tuple(op for op in Operator if op is not Operator.IN), "X-CREATED-AT",
           prefixed=True),
    Filter("tag", "tags", TEXT, (Operator.EQ,), "X-TAG", keyed="tag-"),
))
IMAGES: list[dict[str, Any]] = [
    {"id": "a", "name": "Alpha", "size": 10, "created_at": "2020-01-01T00:00:00Z", "tags": {"os": "linux"}},
    {"id": "b", "name": "beta", "size": 20, "created_at": "2021-01-01T00:00:00Z", "tags": {"os": "windows"}},
    {"id": "c", "name": "alpha", "size": None, "created_at": "2022-01-01T00:00:00Z", "tags": {}},
]


@pytest.mark.parametrize(("query", "case", "expected"), [
    ({"name": "alpha"}, Case.SENSITIVE, ["c"]),
    ({"name": "alpha"}, Case.INSENSITIVE, ["a", "c"]),
    ({"size_min": "20"}, Case.SENSITIVE, ["b"]),  # the bound included, no size excluded
    ({"created_at": "gte:2021-01-01T00:00:00Z"}, Case.SENSITIVE, ["b", "c"]),
    ({"created_at": "gt:2021-01-01T00:00:00Z"}, Case.SENSITIVE, ["c"]),
    ({"created_at": "neq:2021-01-01T00:00:00Z"}, Case.SENSITIVE, ["a", "c"]),
    ({"created_at": "lte:2021-01-01T00:00:00Z"}, Case.SENSITIVE, ["a", "b"]),
    ({"created_at": "eq:2021-01-01T00:00:00+00:00"}, Case.SENSITIVE, ["b"]),
    ({"created_at": "bogus:2021-01-01T00:00:00Z"}, Case.SENSITIVE, []),  # an operator the filter lacks selects none
    ({"tag-os": "LINUX"}, Case.INSENSITIVE, ["a"]),
    ({"tag-OS": "linux"}, Case.SENSITIVE, []),
    ({"name": "beta", "size_min": "15"}, Case.SENSITIVE, ["b"]),
])
def test_a_second_list_api_is_judged_by_its_own_table(query: dict[str, str], case: Case, expected: list[str]) -> None:
    assert [image["id"] for image in matching(LIST, IMAGES, query, case)] == expected
    returned_ids = set(expected)
    assert missing(LIST, IMAGES, returned_ids, query, case) == []
    assert unsound(LIST, [i for i in IMAGES if i["id"] in returned_ids], query, case=case) == []
    for image in IMAGES:
        if image["id"] not in expected and image["size"] is not None:
            assert broken_filters(LIST, image, query, case=case), (image["id"], query)


def test_judging_names_what_is_wrong() -> None:
    assert missing(LIST, IMAGES, set(), {"size_min": "20"}) == ["did not return b (size=20)"]
    assert unsound(LIST, IMAGES[:1], {"tag-os": "windows"}) == [
        "returned a (tags['os']='linux'), which breaks tag-os"]
    hidden = ListApi("GET /list", "glance.v2.show", LIST.filters[:1], hidden=lambda entry: entry["id"] == "a",
                     hidden_named="hidden", hidden_fields=("id",))
    assert unsound(hidden, IMAGES[:1], {}) == ["returned a (id='a'), which breaks (hidden)"]
    assert unsound(DETAIL, [{"id": "d", "status": "killed", "deleted": False}], {}) == [
        "returned d (status='killed' deleted=False), which breaks (deleted or killed, listed without changes-since)"]


def test_a_table_declares_each_filter_once() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        ListApi("GET /list", "glance.v2.show", (LIST.filters[0], LIST.filters[0]))


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_drawn_queries_combine_distinct_filters_with_readable_values(data: st.DataObject) -> None:
    observed = LIST.observed(IMAGES)
    query = data.draw(queries(LIST, observed, max_filters=3))
    assert 1 <= len(query) <= 3
    rows = [LIST.filter_of(param) for param in query]
    assert len({row.name for row in rows}) == len(rows)
    for param, value in query.items():
        row = LIST.filter_of(param)
        if row.prefixed:
            operator, _, operand = value.partition(":")
            assert operator in set(Operator) and row.domain.parse(operand) is not None, value
        elif row.domain is COUNT:
            assert int(value) >= 0


def test_deterministic_queries_use_the_observed_values() -> None:
    observed = LIST.observed(IMAGES)
    assert LIST.named("size_min").queries(observed.of("size_min"), 5) == [{"size_min": "10"}, {"size_min": "20"}]
    created = LIST.named("created_at").queries(observed.of("created_at"), 1)
    assert created == [{"created_at": f"{op}:2020-01-01T00:00:00Z"} for op in Operator if op is not Operator.IN]
    assert LIST.named("tag").queries(observed.of("tag"), 5) == [{"tag-os": "linux"}, {"tag-os": "windows"},
                                                                {"tag-os": "LINUX"}, {"tag-os": "WINDOWS"}]

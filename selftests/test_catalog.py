"""Catalogue integrity: ids, tiers, sources, schemas, and tests <-> requirements both ways."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from _pytest.mark.structures import Mark, MarkDecorator, ParameterSet
from jsonschema import Draft202012Validator

from conformance import FAMILY_OF_OPERATION, OPERATIONS, SCHEMAS_DIR, catalog, schemas

TESTS_DIR = Path(__file__).resolve().parent.parent / "tests"


def test_ids_are_well_formed_and_unique() -> None:
    ids = list(catalog.requirements())
    assert len(ids) == len(set(ids))
    bad = [rid for rid in ids if not catalog.ID_PATTERN.match(rid)]
    assert not bad, f"malformed ids: {bad}"


def test_every_requirement_is_complete() -> None:
    for req in catalog.requirements().values():
        assert isinstance(req.tier, catalog.Tier), req.id
        assert req.operation in OPERATIONS, req.id
        assert req.source.strip() and req.text.strip(), req.id
        assert req.text.rstrip().endswith("."), f"{req.id}: the requirement is one sentence ending with a period"
        for name in req.profiles:
            assert name in catalog.profiles(), f"{req.id}: unknown profile {name}"
            assert catalog.profiles()[name].family == req.family, f"{req.id}: profile {name} is of another family"


def test_ids_name_their_operation_family() -> None:
    for req in catalog.requirements().values():
        prefix = "GLANCE-" if FAMILY_OF_OPERATION[req.operation] == "glance" else "CRI-"
        assert req.id.startswith(prefix), req.id


@pytest.mark.parametrize(
    "path", sorted(SCHEMAS_DIR.rglob("*.json")), ids=lambda p: p.relative_to(SCHEMAS_DIR).as_posix()
)
def test_every_schema_is_valid(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    assert document.get("$id") == path.relative_to(SCHEMAS_DIR).as_posix(), "a schema's $id is its path under schemas/"


def test_every_profile_names_existing_schemas() -> None:
    for profile in catalog.profiles().values():
        for operation, name in profile.schemas.items():
            assert FAMILY_OF_OPERATION[operation] == profile.family, f"{profile.name}: {operation}"
            assert (SCHEMAS_DIR / name).is_file(), f"{profile.name}: {name} missing"
            schemas.validator(name)  # resolves every $ref


def _requirement_marks(marks: Iterable[Mark | MarkDecorator]) -> set[str]:
    """The requirement ids `marks` name: requirement marks, and those on parametrize's pytest.param values."""
    found: set[str] = set()
    for mark in marks:
        if mark.name == "requirement":
            found.update(str(arg) for arg in mark.args)
        elif mark.name == "parametrize":
            values = mark.args[1] if len(mark.args) > 1 else mark.kwargs.get("argvalues", ())
            for value in values:
                if isinstance(value, ParameterSet):
                    found |= _requirement_marks(value.marks)
    return found


def marked_requirements() -> dict[str, set[str]]:
    """Requirement ids named by each test function under tests/, as pytest collects them: the marks on the function
    and on its parameters, whether written out or built from a list API's filter table."""
    found: dict[str, set[str]] = {}
    for path in sorted(TESTS_DIR.rglob("test_*.py")):
        name = "conformance_suite_" + "_".join(path.relative_to(TESTS_DIR).with_suffix("").parts)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = sys.modules[name] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
        spec.loader.exec_module(module)
        for attr, function in vars(module).items():
            if attr.startswith("test_") and callable(function):
                marks = getattr(function, "pytestmark", [])
                found[f"{path.relative_to(TESTS_DIR)}::{attr}"] = _requirement_marks(marks)
    return found


def test_every_test_names_a_known_requirement() -> None:
    known = set(catalog.requirements())
    tests = marked_requirements()
    assert tests, "no conformance tests found"
    for name, ids in tests.items():
        assert ids, f"{name} names no requirement"
        assert ids <= known, f"{name} names unknown {ids - known}"


def test_every_requirement_has_a_test() -> None:
    named = set().union(*marked_requirements().values())
    missing = sorted(set(catalog.requirements()) - named)
    assert not missing, f"requirements without a test: {missing}"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_operation_has_its_catalogue_file(operation: str) -> None:
    assert (SCHEMAS_DIR / "requirements" / f"{operation}.yaml").is_file()


# -- tiers per profile ---------------------------------------------------------------------------------------------

# the v1.1 requirements whose only source is upstream Glance, as the catalogue's sources say
UPSTREAM_ONLY_V1_1 = tuple(rid for rid, req in catalog.requirements().items()
                           if req.operation == "glance.v1_1.detail" and req.source.startswith("upstream only"))
# Parameters seed 004 names whose rule is upstream's alone: advisory under ims too, their source saying so.
UPSTREAM_RULE_V1_1 = ("GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE",)


def test_upstream_only_v1_1_requirements_are_advisory_under_ims_only() -> None:
    assert {"GLANCE-V1-1-DETAIL-PAGINATION", "GLANCE-V1-1-DETAIL-FILTER-PROPERTY"} <= set(UPSTREAM_ONLY_V1_1)
    ims = {req.id: req for req in catalog.requirements_for(catalog.profiles()["ims"])}
    glance = {req.id: req for req in catalog.requirements_for(catalog.profiles()["glance"])}
    for rid in UPSTREAM_ONLY_V1_1:
        assert ims[rid].tier == catalog.Tier.ADVISORY and ims[rid].base_tier == catalog.Tier.DEPRECATED, rid
        assert glance[rid].tier == catalog.Tier.DEPRECATED and glance[rid].base_tier is None, rid
        assert ims[rid].text == glance[rid].text == catalog.requirements()[rid].text, rid
        assert ims[rid].source.startswith("upstream only"), rid
    for rid in UPSTREAM_RULE_V1_1:
        assert ims[rid].tier == catalog.Tier.ADVISORY and glance[rid].tier == catalog.Tier.DEPRECATED, rid
        assert ims[rid].source.startswith("seed 004") and "upstream only for the rule" in ims[rid].source, rid
    changed = {rid for rid, req in ims.items() if req.base_tier is not None and rid.startswith("GLANCE-V1-1-")}
    assert changed == {*UPSTREAM_ONLY_V1_1, *UPSTREAM_RULE_V1_1}
    assert catalog.profiles()["ims"].upstream_behaviour is False
    assert catalog.profiles()["glance"].upstream_behaviour is True


def catalogue_copy(tmp_path: Path, operation_file: str, old: str, new: str) -> Path:
    """A copy of schemas/ with one text replacement in one requirement file."""
    import shutil

    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, copy)
    path = copy / "requirements" / operation_file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


@pytest.mark.parametrize(("tiers", "expected"), [
    ("{nosuch: advisory}", "unknown profile 'nosuch'"),
    ("{cri: advisory}", "profile 'cri' of family 'cri'"),
    ("{ims: optional}", "use one of required, advisory, deprecated"),
    ("[ims, advisory]", "use {profile: tier}"),
])
def test_catalogue_rejects_bad_tier_overrides(tmp_path: Path, tiers: str, expected: str) -> None:
    copy = catalogue_copy(tmp_path, "glance.v1_1.detail.yaml", "    tiers: {ims: advisory}", f"    tiers: {tiers}")
    with pytest.raises(catalog.CatalogError, match=expected.replace("{", r"\{").replace("}", r"\}")):
        catalog.requirements(copy)


def test_catalogue_rejects_a_bad_upstream_behaviour_flag(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, copy)
    path = copy / "profiles" / "ims.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("upstream_behaviour: false", "upstream_behaviour: no way"))
    with pytest.raises(catalog.CatalogError, match="upstream_behaviour must be true or false"):
        catalog.profiles(copy)

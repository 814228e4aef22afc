"""JSON Schema registry over `schemas/`: schemas refer to each other by relative path."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import re2
from jsonschema import Draft4Validator, Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance import SCHEMAS_DIR

if TYPE_CHECKING:
    from referencing._core import Resolver

Enums = tuple[tuple[str, tuple[str | None, ...]], ...]  # (property, allowed values): enums taken from the target
# In a schema: {property: JSON pointer to its subschema here} for the properties whose enum the target's own schema
# may set; the target's list replaces that whole subschema (a sibling of a `$ref` could only narrow it further).
TARGET_ENUMS_KEY = "x-enums-from-target"


@dataclass(frozen=True)
class FieldSpec:
    """One top-level property of an object schema."""

    name: str
    required: bool


# -- keywords that run in linear time whatever the instance and the schema (a target publishes its own) ---------------

MAX_PATTERNS = 1024  # compiled patterns kept


@lru_cache(maxsize=MAX_PATTERNS)
def linear_pattern(pattern: str) -> Any:
    """`pattern` compiled for RE2, which matches in time linear in the text (no backtracking); re2.error when it
    needs what only a backtracking engine has (backreferences, lookaround)."""
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


def _pattern(validator: Validator, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not linear_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Validator, patterns: dict[str, Any], instance: Any,
                        schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if linear_pattern(pattern).search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Validator, allowed: Any, instance: Any,
                           schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = [linear_pattern(p) for p in schema.get("patternProperties", {})]
    extras = [key for key in instance if key not in properties and not any(p.search(key) for p in patterns)]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif allowed is False and extras:
        shown = ", ".join(repr(extra) for extra in sorted(extras)[:MAX_NAMED_EXTRAS])
        more = f" and {len(extras) - MAX_NAMED_EXTRAS} more" if len(extras) > MAX_NAMED_EXTRAS else ""
        yield ValidationError(f"Additional properties are not allowed ({shown}{more} unexpected)")


MAX_NAMED_EXTRAS = 20


def _unique_items(validator: Validator, unique: bool, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not (unique and validator.is_type(instance, "array")):
        return
    seen: set[Any] = set()
    for index, item in enumerate(instance):
        key = _comparable(item)
        if key in seen:
            yield ValidationError(f"has non-unique elements (item {index} repeats an earlier one)")
            return
        seen.add(key)


def _comparable(item: Any) -> Any:
    """A hashable value equal for items JSON Schema calls equal (1 and 1.0 are; true and 1 are not)."""
    if isinstance(item, bool) or item is None:
        return ("literal", item)
    if isinstance(item, (int, float)):
        return ("number", item)
    if isinstance(item, str):
        return ("string", item)
    if isinstance(item, dict):
        return ("object", frozenset((key, _comparable(value)) for key, value in item.items()))
    if isinstance(item, list):
        return ("array", tuple(_comparable(value) for value in item))
    return ("other", repr(item))


_LINEAR = {"pattern": _pattern, "patternProperties": _pattern_properties,
           "additionalProperties": _additional_properties, "uniqueItems": _unique_items}
LinearDraft4Validator = validators.extend(Draft4Validator, _LINEAR)
LinearDraft202012Validator = validators.extend(Draft202012Validator, _LINEAR)


@cache
def registry(schemas_dir: Path = SCHEMAS_DIR) -> Registry:
    """Every JSON Schema under `schemas_dir`, keyed by its path relative to it."""
    resources = []
    for path in sorted(schemas_dir.rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.relative_to(schemas_dir).as_posix(), Resource.from_contents(contents, DRAFT202012)))
    return Registry().with_resources(resources)


def schema(name: str) -> dict[str, Any]:
    """The schema stored at `schemas/<name>`."""
    contents: dict[str, Any] = registry().contents(name)
    return contents


@cache
def validator(name: str, enums: Enums = ()) -> Validator:
    """A compiled validator for `schemas/<name>` (the subschemas it lets the target set replaced by `enums`)."""
    contents = schema(name)
    if enums:
        contents = copy.deepcopy(contents)
        places = contents[TARGET_ENUMS_KEY]
        for prop, values in enums:
            _replace(contents, places[prop], {"enum": list(values)})
    return LinearDraft202012Validator(contents, registry=registry(),
                                      format_checker=Draft202012Validator.FORMAT_CHECKER)


def target_enum_fields(name: str) -> tuple[str, ...]:
    """The properties of `schemas/<name>` whose enum may be taken from the target's own schema."""
    return tuple(schema(name).get(TARGET_ENUMS_KEY, {}))


def enums_for(name: str, offered: Mapping[str, tuple[str | None, ...]]) -> Enums:
    """The part of `offered` (property -> values the target publishes) that `schemas/<name>` lets the target set."""
    return tuple((prop, offered[prop]) for prop in target_enum_fields(name) if prop in offered)


def error_lines(name: str, instance: Any, enums: Enums = ()) -> list[str]:
    """Every schema violation of `instance` as one readable line each (empty when valid)."""
    return validation(name, instance, enums).lines()


def keyword_error_lines(name: str, instance: Any, keyword: str, enums: Enums = ()) -> list[str]:
    """Violations of `instance` that come from under the schema keyword `keyword` (e.g. dependentSchemas)."""
    return validation(name, instance, enums).keyword_lines(keyword)


def json_text_fields(name: str) -> list[str]:
    """Top-level properties of `schemas/<name>` declared as JSON text (`contentMediaType: application/json`)."""
    properties = schema(name).get("properties", {})
    return [prop for prop, sub in properties.items() if sub.get("contentMediaType") == "application/json"]


def field_specs(name: str) -> list[FieldSpec]:
    """The top-level properties the schema `name` declares, through `$ref` and `allOf`."""
    return list(_field_specs(name))


@cache  # the schemas do not change during a run; tests ask once per field
def _field_specs(name: str) -> tuple[FieldSpec, ...]:
    properties: dict[str, bool] = {}

    def walk(node: dict[str, Any], base: str) -> None:
        if "$ref" in node:
            target = _join(base, node["$ref"])
            walk(registry().contents(target), target)
        for part in node.get("allOf", []):
            walk(part, base)
        for prop in node.get("properties", {}):
            properties.setdefault(prop, False)
        for prop in node.get("required", []):
            properties[prop] = True

    walk(schema(name), name)
    return tuple(FieldSpec(prop, required) for prop, required in properties.items())


def field_error_lines(name: str, instance: Any, field: str, enums: Enums = ()) -> list[str]:
    """Violations of `instance` that concern the top-level property `field` only."""
    return validation(name, instance, enums).field_lines(field)


@dataclass(frozen=True)
class Violation:
    """One schema violation, reduced to what a report line needs (no reference to the instance)."""

    path: tuple[str | int, ...]  # where in the instance
    message: str
    keyword: str  # the schema keyword that failed (e.g. "required")
    schema_path: tuple[str | int, ...]  # where in the schema

    @property
    def line(self) -> str:
        """The violation as one readable line."""
        return f"{_path(self.path)}: {self.message}"


@dataclass(frozen=True)
class Validation:
    """Every violation of one document against one schema, validated once and read by field or keyword."""

    violations: tuple[Violation, ...]  # sorted by instance path

    def lines(self) -> list[str]:
        """Every violation as one readable line (empty when valid)."""
        return [v.line for v in self.violations]

    def field_lines(self, field: str) -> list[str]:
        """The violations that concern the top-level property `field` only (its absence included)."""
        lines = []
        for violation in self.violations:
            if violation.path and violation.path[0] == field:
                lines.append(violation.line)
            elif not violation.path and violation.keyword == "required" and repr(field) in violation.message:
                lines.append(f"{field}: required but absent")
        return lines

    def keyword_lines(self, keyword: str) -> list[str]:
        """The violations that come from under the schema keyword `keyword`."""
        return [v.line for v in self.violations if keyword in v.schema_path]


VALIDATIONS_KEPT = 512  # documents whose validation is remembered (the run's sample is far smaller)
# (schema, enums, id of the document) -> (the document, its validation). The document is held so that its id
# cannot be reused by another object while the entry lives; a fixture's body is validated once for every test.
_by_object: OrderedDict[tuple[str, Enums, int], tuple[Any, Validation]] = OrderedDict()
# (schema, enums, fingerprint of the content) -> its validation: equal answers (one CRI image asked for by id,
# tag and digest) are validated once.
_by_content: OrderedDict[tuple[str, Enums, bytes], Validation] = OrderedDict()


def validation(name: str, instance: Any, enums: Enums = ()) -> Validation:
    """The violations of `instance` against `schemas/<name>`: validated once per distinct document and schema."""
    key = (name, enums, id(instance))
    cached = _by_object.get(key)
    if cached is not None and cached[0] is instance:
        _by_object.move_to_end(key)
        return cached[1]
    content = (name, enums, _fingerprint(instance))
    result = _by_content.get(content)
    if result is None:
        violations = _bounded_violations(_without_echoes(name, validator(name, enums).iter_errors(instance)))
        result = Validation(tuple(sorted(violations,
                                         key=lambda v: [(1, p) if isinstance(p, str) else (0, p) for p in v.path])))
    _remember(_by_content, content, result)
    _remember(_by_object, key, (instance, result))
    return result


def _without_echoes(name: str, errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """The errors, less the `unevaluatedProperties` ones that only echo a sibling's failure: a subschema that fails
    on one property (min_ram a string) leaves all of its properties unevaluated, so the declared ones among them are
    not the target's fault. Such an error is kept, naming them alone, when properties declared nowhere fail too."""
    for error in errors:
        if error.validator == "unevaluatedProperties" and isinstance(error.instance, dict):
            declared = _declared(error.schema, registry().resolver(name))
            check = Draft202012Validator(error.validator_value, registry=registry())
            stray = [key for key in error.instance if key not in declared and not check.is_valid(error.instance[key])]
            if not stray:
                continue
            were = "was" if len(stray) == 1 else "were"
            error.message = (f"Unevaluated properties are not valid under the given schema "
                             f"({', '.join(map(repr, stray))} {were} unevaluated and invalid)")
        yield error


def _declared(node: Any, resolver: Resolver[Any]) -> set[str]:
    """Every property name a schema declares, through $ref and the applicators, whether the instance passes or not."""
    if not isinstance(node, dict):
        return set()
    names = set(node.get("properties", {}))
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        names |= _declared(resolved.contents, resolved.resolver)
    for keyword in ("allOf", "anyOf", "oneOf"):
        for part in node.get(keyword, []):
            names |= _declared(part, resolver)
    for keyword in ("if", "then", "else"):
        names |= _declared(node.get(keyword), resolver)
    for part in node.get("dependentSchemas", {}).values():
        names |= _declared(part, resolver)
    return names


VIOLATIONS_PER_FIELD = 50  # violations kept per top-level property: 20,000 bad tags cost a count, not 20,000 lines


def _bounded_violations(errors: Iterable[ValidationError]) -> Iterator[Violation]:
    """The first VIOLATIONS_PER_FIELD violations of each top-level property (so that one flooded property never
    hides another's), and for each property with more, one violation saying how many more there are."""
    kept: dict[Any, int] = {}
    for error in errors:
        path = tuple(error.absolute_path)
        top = path[0] if path else None
        kept[top] = kept.get(top, 0) + 1
        if kept[top] <= VIOLATIONS_PER_FIELD:
            yield Violation(path, error.message, str(error.validator), tuple(error.absolute_schema_path))
    for top, count in kept.items():
        if count > VIOLATIONS_PER_FIELD and top is not None:
            yield Violation((top,), f"and {count - VIOLATIONS_PER_FIELD} more violations, not listed", "", ())


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    if len(cache) > VALIDATIONS_KEPT:
        cache.popitem(last=False)


def _fingerprint(instance: Any) -> bytes:
    """Equal for documents with equal JSON content (1 and 1.0, true and 1 differ, as they do to a schema)."""
    text = json.dumps(instance, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.blake2b(text.encode("ascii"), digest_size=16).digest()


def _replace(contents: dict[str, Any], pointer: str, subschema: dict[str, Any]) -> None:
    """Put `subschema` at the JSON pointer `pointer` (RFC 6901) of `contents`."""
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
    node: Any = contents
    for part in parents:
        node = node[part]
    node[last] = subschema


def _join(base: str, ref: str) -> str:
    if ref.startswith("#"):
        return base
    return (Path(base).parent / ref.split("#")[0]).as_posix()


def _path(parts: Any) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
    return text.lstrip(".") or "(body)"

"""The image schema a Glance-style target publishes at `GET /v2/schemas/image`, read as hostile input.

Upstream Glance serves its deployment's configured `disk_formats` and `container_formats` there, and glanceclient
validates images against the schema the server serves. The suite takes only those two enums from it for the
`glance` profile's own schema (so a target schema can never switch a check off), and validates shown images against
the whole published schema for GLANCE-V2-SHOW-OWN-SCHEMA.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import SchemaError
from re2 import error as PatternError
from referencing import Registry

from conformance.evidence import clip
from conformance.schemas import LinearDraft4Validator, linear_pattern
from conformance.short_repr import ShortRepr
from conformance.targets.http import HttpResponse

MAX_SCHEMA_BYTES = 1024 * 1024  # upstream's schema is about 10 kB
MAX_ENUM_VALUES = 200
MAX_VALUE_LENGTH = 255  # upstream: disk_format and container_format are String(32) columns
MAX_PATTERN_LENGTH = 256  # patterns run on our side: keep them short (a long one is more likely pathological)
MAX_LINES = 20  # violations reported per image
FORMAT_FIELDS = ("disk_format", "container_format")


@dataclass(frozen=True)
class PublishedSchema(ShortRepr):
    """What `/v2/schemas/image` answered: the schema when usable, else why not, and the format enums it lists."""

    response: HttpResponse | None
    schema: dict[str, Any] | None = None
    reason: str = ""  # why the schema is not used (empty when it is)
    formats: dict[str, tuple[str | None, ...]] = field(default_factory=dict)  # property -> published enum

    def __repr__(self) -> str:
        if self.schema is None:
            return f"PublishedSchema(not used: {self.reason})"
        listed = ", ".join(f"{prop}: {len(values)} values" for prop, values in self.formats.items())
        return f"PublishedSchema({len(self.schema.get('properties') or {})} properties; {listed or 'no format lists'})"

    @property
    def basis(self) -> str:
        """One line for reports: which format lists judged the target."""
        if self.formats:
            listed = "; ".join(f"{prop}: {', '.join(str(v) for v in values)}" for prop, values in self.formats.items())
            return f"formats from the target's /v2/schemas/image ({listed})"
        return f"upstream's default formats ({self.reason or 'the target publishes no format lists'})"


def read(response: HttpResponse | None, failure: str = "") -> PublishedSchema:
    """Judge the answer of `GET /v2/schemas/image`: a bounded, valid JSON Schema object, and its format enums."""
    if response is None:
        return PublishedSchema(None, reason=failure or "not requested")
    if response.status != 200:
        return PublishedSchema(response, reason=f"GET /v2/schemas/image answered {response.status}")
    if len(response.body) > MAX_SCHEMA_BYTES:
        return PublishedSchema(response, reason=f"the schema is larger than {MAX_SCHEMA_BYTES} bytes")
    try:
        schema = response.json()
    except AssertionError as exc:
        return PublishedSchema(response, reason=f"the schema is not JSON: {exc}")
    problem = _unusable(schema)
    if problem:
        return PublishedSchema(response, reason=problem)
    return PublishedSchema(response, schema=schema, formats=_formats(schema))


def violations(published: PublishedSchema, instance: Any) -> list[str]:
    """Where `instance` does not validate against the published schema, one line each (at most MAX_LINES)."""
    assert published.schema is not None
    # patterns run on RE2 (linear time): a target's `^(a+)+$` cannot cost minutes per image
    validator = LinearDraft4Validator(published.schema, registry=Registry())  # an empty registry: no ref is fetched
    lines = []
    try:
        for error in validator.iter_errors(instance):
            where = ".".join(str(part) for part in error.absolute_path) or "(body)"
            lines.append(f"{where}: {clip(error.message, 300)}")
            if len(lines) >= MAX_LINES:
                break
    except Exception as exc:  # a hostile schema must not crash the run; say what happened
        lines.append(f"the published schema could not be applied: {type(exc).__name__}: {clip(str(exc), 200)}")
    return lines


def _unusable(schema: Any) -> str:
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return "the answer is not an object schema with properties"
    try:
        Draft4Validator.check_schema(schema)
        nodes = list(_nodes(schema))
    except SchemaError as exc:
        return f"the answer is not a valid JSON Schema: {clip(exc.message, 200)}"
    except RecursionError:
        return "the schema is nested too deeply"
    for node in nodes:
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return f"the schema refers outside itself ($ref {clip(ref, 100)!r}); nothing is fetched"
        patterns = [node.get("pattern"), *(node.get("patternProperties") or {})]
        if any(isinstance(p, str) and len(p) > MAX_PATTERN_LENGTH for p in patterns):
            return f"the schema has a pattern longer than {MAX_PATTERN_LENGTH} characters"
        for pattern in patterns:
            try:
                linear_pattern(pattern) if isinstance(pattern, str) else None
            except PatternError:
                return (f"the schema has a pattern the suite does not run, {clip(pattern, 100)!r}: only patterns a "
                        "linear-time engine (RE2) runs are applied (no backreference, no lookaround)")
    return ""


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def _formats(schema: dict[str, Any]) -> dict[str, tuple[str | None, ...]]:
    """The enums of disk_format and container_format, when each is a short list of short strings (or null)."""
    found = {}
    for prop in FORMAT_FIELDS:
        sub = schema["properties"].get(prop)
        values = sub.get("enum") if isinstance(sub, dict) else None
        if not isinstance(values, list) or not values or len(values) > MAX_ENUM_VALUES:
            continue
        if all(v is None or (isinstance(v, str) and 0 < len(v) <= MAX_VALUE_LENGTH) for v in values):
            found[prop] = tuple(dict.fromkeys([None, *values]))  # null: not yet set, as upstream's enums allow
    return found

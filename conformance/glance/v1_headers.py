"""What `HEAD /v1/images/{id}` answers: the X-Image-Meta-* headers, decoded."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.targets.http import HttpResponse

META_PREFIX = "x-image-meta-"
PROPERTY_PREFIX = "property-"


@dataclass
class Headed:
    """One image as `HEAD /v1/images/{id}` answered it."""

    image_id: str
    response: HttpResponse
    meta: dict[str, str] = field(default_factory=dict)  # X-Image-Meta-<field>, names lower-cased, values decoded
    properties: dict[str, str] = field(default_factory=dict)  # X-Image-Meta-Property-<key>, keys lower-cased
    hidden: str | None = None  # "deleted" or "killed": HEADed because changes-since lists it, not in the sample

    @classmethod
    def of(cls, image_id: str, response: HttpResponse, hidden: str | None = None) -> Headed:
        """The HEAD answer with its metadata headers read."""
        return cls(image_id, response, *image_meta(response), hidden=hidden)


def decode_header(value: str) -> str:
    """A header value as text: Glance v1 sends raw UTF-8, which HTTP clients read as latin-1."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def image_meta(response: HttpResponse) -> tuple[dict[str, str], dict[str, str]]:
    """The X-Image-Meta-<field> headers and the X-Image-Meta-Property-<key> headers, names lower-cased."""
    meta: dict[str, str] = {}
    properties: dict[str, str] = {}
    for name, value in response.headers.items():
        lower = name.lower()
        if not lower.startswith(META_PREFIX):
            continue
        key = lower[len(META_PREFIX):]
        if key.startswith(PROPERTY_PREFIX):
            properties[key[len(PROPERTY_PREFIX):]] = decode_header(value)
        else:
            meta[key] = decode_header(value)
    return meta, properties

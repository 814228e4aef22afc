"""The reference target's Glance-style WSGI app: v2 show/list, v1 HEAD and v1.1 detail over the catalogue.

Each app holds its own copy of the catalogue; v2 create, upload, update and delete change that copy only.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html import escape
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from conformance.reference import images as catalogue
from conformance.reference.glance_faults import check_fault_names
from conformance.reference.images import Image, format_v1_time, format_v2_time

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Predicate = Callable[[Image], bool]

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
V1_PREFIXES = ("/v1", "/v1.0", "/v1.1")
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
CALLER_PROJECT = catalogue.OWNER_A  # the project an authenticated caller would own new images in
JSON_PATCH_TYPES = ("application/openstack-images-v2.1-json-patch", "application/openstack-images-v2.0-json-patch")
MAX_UPLOAD = 64 * 1024 * 1024  # bytes of image data the reference keeps in memory per upload
# Upstream glance/api/v2/images.py: fields a client may not set, and names reserved for the server.
READ_ONLY = frozenset({"created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url",
                       "self", "file", "schema", "os_hash_algo", "os_hash_value", "stores", "locations"})
RESERVED = frozenset({"location", "deleted", "deleted_at"})

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_HEX_AND_DASHES = re.compile(r"[0-9a-fA-F-]+")
_DIGITS = re.compile(r"[0-9]+")  # not \d: int() would also take other scripts' digits
_ISO_8601 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6})[0-9]*)?)?)?"
    r"(?P<zone>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?",
    re.IGNORECASE,
)
# Which fault switches off which exact-match filter of v1.1 detail.
_IGNORED_FILTER_FAULTS = {
    "container_format": "v1-1-detail-filter-container-format-ignored",
    "disk_format": "v1-1-detail-filter-disk-format-ignored",
    "status": "v1-1-detail-filter-status-ignored",
}


class _Refused(Exception):
    """A write the API refuses, with the status code it answers."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Store:
    """One app's image records: a copy of the fixed catalogue that writes change."""

    def __init__(self, images: Iterable[Image]) -> None:
        self._lock = threading.Lock()
        # Copy-on-write: readers take the current dict and never see it change under them.
        self._images: dict[str, Image] = {image.id: image for image in images}

    def all(self) -> list[Image]:
        """Every record, deleted ones included: catalogue order, then creation order."""
        return list(self._images.values())

    def find(self, image_id: str) -> Image | None:
        """The record with `image_id`, deleted ones included."""
        return self._images.get(image_id)

    def live(self) -> list[Image]:
        """Records that are not deleted."""
        return [image for image in self._images.values() if not image.deleted]

    def other(self, image: Image) -> Image:
        """A different live image, stable for `image` (for faults that answer for the wrong image)."""
        live = self.live()
        index = next((i for i, candidate in enumerate(live) if candidate.id == image.id), -1)
        return live[(index + 1) % len(live)]

    def add(self, image: Image) -> None:
        """Store a new image; _Refused (409) when its id is taken, even by a deleted image."""
        with self._lock:
            if image.id in self._images:
                raise _Refused(409, f"Image with identifier {image.id} already exists!")
            self._images = {**self._images, image.id: image}

    def update(self, image_id: str, change: Callable[[Image], Image]) -> Image:
        """Replace the live image `image_id` by `change(image)` in one step; _Refused (404) when there is none."""
        with self._lock:
            image = self._images.get(image_id)
            if image is None or image.deleted:
                raise _Refused(404, f"No image found with ID {_clip(image_id)}.")
            changed = change(image)
            self._images = {**self._images, image_id: changed}
            return changed


class _BadRequest(Exception):
    """A query parameter the API rejects with 400."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


LEGACY_ID = "legacy-image-0001"  # what fault v2-show-id-not-uuid lists and shows

def make_app(*, faults: Iterable[str] = frozenset(), request_log: list[tuple[str, str]] | None = None) -> WSGIApp:
    """The Glance-style WSGI app with the named faults switched on; requests are appended to `request_log`."""
    return _GlanceApp(check_fault_names(faults), request_log)


def _url_map() -> Map:
    rules = [
        Rule("/", endpoint="versions", methods=["GET"]),
        Rule("/versions", endpoint="versions", methods=["GET"]),
        Rule("/v2/", endpoint="version_root", methods=["GET"]),
        Rule("/v2/images", endpoint="v2_list", methods=["GET"]),
        Rule("/v2/images", endpoint="v2_create", methods=["POST"]),
        # path: an id may hold anything, even a decoded %2F; every such id is looked up and answers 404
        Rule("/v2/images/<path:image_id>", endpoint="v2_show", methods=["GET"]),
        Rule("/v2/images/<path:image_id>", endpoint="v2_update", methods=["PATCH"]),
        Rule("/v2/images/<path:image_id>", endpoint="v2_delete", methods=["DELETE"]),
        Rule("/v2/images/<image_id>/file", endpoint="v2_upload", methods=["PUT"]),
        Rule("/v2/schemas/image", endpoint="v2_image_schema", methods=["GET"]),
        Rule("/v2/schemas/images", endpoint="v2_images_schema", methods=["GET"]),
    ]
    for prefix in V1_PREFIXES:
        rules += [
            Rule(f"{prefix}/", endpoint="version_root", methods=["GET"]),
            Rule(f"{prefix}/images/detail", endpoint="v1_detail", methods=["GET"]),
            Rule(f"{prefix}/images/<path:image_id>", endpoint="v1_head", methods=["HEAD"]),
        ]
    # No redirects at all: /v1 and /v1/ both answer, and // is not merged.
    return Map(rules, strict_slashes=False, merge_slashes=False)


class _GlanceApp:
    def __init__(self, faults: frozenset[str], request_log: list[tuple[str, str]] | None) -> None:
        self.faults = faults
        self.request_log = request_log
        self.url_map = _url_map()
        self.store = _Store(catalogue.IMAGES)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if self.request_log is not None:
            self.request_log.append((request.method, _request_target(environ)))
        return self.dispatch(request)(environ, start_response)

    def on(self, fault: str) -> bool:
        """Whether the named fault is switched on."""
        return fault in self.faults

    def dispatch(self, request: Request) -> WSGIApp:
        """The response to `request`."""
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except RequestRedirect as redirect:
            return redirect.get_response(request.environ)
        except MethodNotAllowed as exc:
            return _error(request, 405, "Method not allowed.", headers={"Allow": ", ".join(exc.valid_methods or ())})
        except HTTPException as exc:
            return _error(request, exc.code or 404, "The resource could not be found.")
        handler: Callable[..., WSGIApp] = getattr(self, f"_{endpoint}")
        return handler(request, **args)

    # -- versions --------------------------------------------------------------------------------------------

    def _versions(self, request: Request) -> WSGIApp:
        versions = [
            _version("v2.9", "CURRENT", request.host_url + "v2/"),
            *(_version(v, "SUPPORTED", request.host_url + "v2/") for v in ("v2.8", "v2.7", "v2.6", "v2.5")),
            _version("v1.1", "DEPRECATED", request.host_url + "v1/"),
            _version("v1.0", "DEPRECATED", request.host_url + "v1/"),
        ]
        return _json({"versions": versions})

    def _version_root(self, request: Request) -> WSGIApp:
        prefix = request.path.strip("/").split("/")[0]
        status = "CURRENT" if prefix == "v2" else "DEPRECATED"
        return _json({"version": _version(prefix, status, request.host_url + prefix + "/")})

    # -- v2 -----------------------------------------------------------------------------------------------------

    def _v2_show(self, request: Request, image_id: str) -> WSGIApp:
        if self.on("v2-show-malformed-id-500") and not _HEX_AND_DASHES.fullmatch(image_id):
            return _error(request, 500, "Internal server error.")
        if self.on("v2-show-id-not-uuid") and image_id == LEGACY_ID:
            return _json(self._legacy_body())
        image = self.store.find(image_id)
        if image is None or image.deleted:
            if not (self.on("v2-show-unknown-id-200") and _UUID.fullmatch(image_id)):
                html = self.on("v2-show-error-body-html")
                return _error(request, 404, f"No image found with ID {_clip(image_id)}.", html=html)
            image = self.store.live()[0]
        body = self._v2_body(image)
        if self.on("v2-show-missing-id"):
            del body["id"]
        if self.on("v2-show-wrong-id"):
            body["id"] = self.store.other(image).id
        mimetype = "text/plain" if self.on("v2-show-content-type-text") else "application/json"
        return _json(body, mimetype=mimetype)

    def _v2_list(self, request: Request) -> WSGIApp:
        ordered = sorted(self.store.live(), key=_sort_value("created_at"), reverse=True)
        try:
            limit = _limit(request.args)
            start = _start_after(ordered, request.args.get("marker"))
        except _BadRequest as exc:
            return _error(request, 400, str(exc))
        page = ordered[start : start + limit]
        entries = [self._v2_body(image) for image in page]
        if self.on("v2-show-id-not-uuid") and start == 0:
            entries.insert(0, self._legacy_body())
        if self.on("v2-show-disagrees-with-list"):
            for entry in entries:
                entry["name"] = f"{entry['name']} (listed)"
        body: dict[str, Any] = {"images": entries, "schema": "/v2/schemas/images", "first": "/v2/images"}
        if page and start + limit < len(ordered):
            body["next"] = f"/v2/images?marker={page[-1].id}&limit={limit}"
        return _json(body)

    def _legacy_body(self) -> dict[str, Any]:
        """An extra image whose id is not a UUID (fault v2-show-id-not-uuid), consistent in list and show."""
        body = self._v2_body(self.store.live()[0])
        body.update(id=LEGACY_ID, self=f"/v2/images/{LEGACY_ID}", file=f"/v2/images/{LEGACY_ID}/file")
        return body

    def _v2_body(self, image: Image) -> dict[str, Any]:
        """The v2 representation of `image`, shared by show and list (so body faults keep them agreeing)."""
        created_at = format_v2_time(image.created_at)
        if self.on("v2-show-local-timestamp"):
            created_at = image.created_at.strftime("%Y-%m-%d %H:%M:%S")
        updated_at = format_v2_time(image.updated_at)
        if self.on("v2-show-updated-before-created"):
            updated_at = format_v2_time(image.created_at - timedelta(days=1))
        self_id = self.store.other(image).id if self.on("v2-show-bad-self-link") else image.id
        body: dict[str, Any] = {
            "id": image.id,
            "name": image.name,
            "status": "available" if self.on("v2-show-status-bogus") else image.status,
            "visibility": image.visibility,
            "protected": image.protected,
            "checksum": image.checksum.upper() if image.checksum and self.on("v2-show-checksum-uppercase") else image.checksum,
            "owner": image.owner,
            "size": image.size,
            "virtual_size": image.virtual_size,
            "container_format": image.container_format,
            "disk_format": image.disk_format,
            "created_at": created_at,
            "updated_at": updated_at,
            "min_ram": str(image.min_ram) if self.on("v2-show-min-ram-string") else image.min_ram,
            "min_disk": image.min_disk,
            "tags": list(image.tags),
            "self": f"/v2/images/{self_id}",
            "file": f"/v2/images/{image.id}/file",
            "schema": "/v2/schemas/image",
        }
        body.update(image.properties)
        if self.on("v2-show-os-type-bogus") and "__os_type" in body:
            body["__os_type"] = "Solaris"
        if self.on("v2-show-extra-prop-int"):
            body["build_number"] = int(image.properties.get("build_number", "0"))
        return body

    def _v2_image_schema(self, request: Request) -> WSGIApp:
        return _json(image_schema())

    def _v2_images_schema(self, request: Request) -> WSGIApp:
        return _json({
            "name": "images",
            "properties": {
                "images": {"type": "array", "items": image_schema()},
                "schema": {"type": "string"},
                "first": {"type": "string"},
                "next": {"type": "string"},
            },
            "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                      {"rel": "describedby", "href": "{schema}"}],
        })

    # -- v2 writes (write mode): create, upload, update, delete --------------------------------------------------

    def _v2_create(self, request: Request) -> WSGIApp:
        try:
            body = _json_body(request, ("application/json",), dict)
            image = _new_image(body, _now())
            self.store.add(image)
        except _Refused as exc:
            return _error(request, exc.code, str(exc))
        response = _json(self._v2_body(image))
        response.status_code = 201
        response.headers["Location"] = f"/v2/images/{image.id}"
        return response

    def _v2_upload(self, request: Request, image_id: str) -> WSGIApp:
        if request.mimetype != "application/octet-stream":
            return _error(request, 415, "Image data must be sent as application/octet-stream.")
        if (request.content_length or 0) > MAX_UPLOAD:
            return _error(request, 413, f"Image data larger than {MAX_UPLOAD} bytes.")
        data = request.get_data(cache=False)

        def upload(image: Image) -> Image:
            if image.status != "queued":
                raise _Refused(409, f"Image status transition from {image.status} to saving is not allowed")
            return replace(image, status="active", size=len(data), checksum=hashlib.md5(data).hexdigest(),
                           updated_at=_now())

        try:
            self.store.update(image_id, upload)
        except _Refused as exc:
            return _error(request, exc.code, str(exc))
        return Response(status=204)

    def _v2_update(self, request: Request, image_id: str) -> WSGIApp:
        try:
            operations = _json_body(request, JSON_PATCH_TYPES, list)
            image = self.store.update(image_id, lambda image: _patched(image, operations, _now()))
        except _Refused as exc:
            return _error(request, exc.code, str(exc))
        return _json(self._v2_body(image))

    def _v2_delete(self, request: Request, image_id: str) -> WSGIApp:
        def delete(image: Image) -> Image:
            if image.protected:
                raise _Refused(403, f"Image {image.id} is protected and cannot be deleted.")
            now = _now()
            return replace(image, status="deleted", deleted=True, deleted_at=now, updated_at=now)

        try:
            self.store.update(image_id, delete)
        except _Refused as exc:
            return _error(request, exc.code, str(exc))
        return Response(status=204)

    # -- v1 HEAD ---------------------------------------------------------------------------------------------

    def _v1_head(self, request: Request, image_id: str) -> WSGIApp:
        if self.on("v1-head-malformed-id-500") and not _HEX_AND_DASHES.fullmatch(image_id):
            return _error(request, 500, "Internal server error.")
        image = self.store.find(image_id)
        if image is None or image.deleted:
            if not (self.on("v1-head-unknown-id-200") and _UUID.fullmatch(image_id)):
                return _error(request, 404, f"Image {_clip(image_id)} not found.")
            image = self.store.live()[0]
        headers = self._v1_headers(image)
        if self.on("v1-head-body-not-empty"):
            # werkzeug's Response drops HEAD bodies, so the fault writes the raw WSGI answer itself.
            return _raw_answer("200 OK", headers, f"{image.id}\n".encode())
        return Response(status=200, headers=headers, content_type="text/html; charset=UTF-8")

    def _v1_headers(self, image: Image) -> list[tuple[str, str]]:
        """The X-Image-Meta-* headers of `image` as Glance v1 wrote them; None values are left out."""

        def boolean(value: bool) -> str:
            if self.on("v1-head-booleans-numeric"):
                return "1" if value else "0"
            return str(value)

        def stamp(value: datetime) -> str:
            return format_v1_time(value) + ("Z" if self.on("v1-head-timestamp-zulu") else "")

        size = None if image.size is None else str(image.size)
        if size is not None and self.on("v1-head-size-not-integer"):
            size += ".0"
        meta: dict[str, str | None] = {
            "Id": self.store.other(image).id if self.on("v1-head-wrong-id") else image.id,
            "Name": image.name + (" (v1)" if self.on("v1-head-name-differs") else ""),
            "Status": "available" if self.on("v1-head-status-bogus") else image.status,
            "Size": size,
            "Virtual_size": None if image.virtual_size is None else str(image.virtual_size),
            "Disk_format": image.disk_format,
            "Container_format": image.container_format,
            "Min_disk": str(image.min_disk),
            "Min_ram": str(image.min_ram + (512 if self.on("v1-head-min-ram-differs") else 0)),
            "Is_public": boolean(image.is_public),
            "Checksum": self._v1_checksum(image),
            "Owner": image.owner,
            "Protected": boolean(image.protected),
            "Created_at": stamp(image.created_at),
            "Updated_at": stamp(image.updated_at),
            "Deleted_at": None if image.deleted_at is None else stamp(image.deleted_at),
            "Deleted": boolean(image.deleted),
        }
        if self.on("v1-head-missing-status"):
            del meta["Status"]
        headers = [(f"X-Image-Meta-{field}", _header_text(value)) for field, value in meta.items() if value is not None]
        properties = sorted(image.properties.items())
        if self.on("v1-head-property-missing"):
            properties = properties[1:]
        headers += [(f"X-Image-Meta-Property-{key}", _header_text(value)) for key, value in properties]
        if image.checksum:
            etag = self._v1_checksum(image) or ""
            if self.on("v1-head-etag-mismatch"):
                etag = hashlib.md5(etag.encode()).hexdigest()
            headers.append(("ETag", etag))
        return headers

    def _v1_checksum(self, image: Image) -> str | None:
        if image.checksum and self.on("v1-head-checksum-uppercase"):
            return image.checksum.upper()
        return image.checksum

    # -- v1.1 detail -----------------------------------------------------------------------------------------

    def _v1_detail(self, request: Request) -> WSGIApp:
        try:
            page = self._detail_page(request.args)
        except _BadRequest as exc:
            if exc.param == "size_min" and self.on("v1-1-detail-size-min-500"):
                return _error(request, 500, "Internal server error.")
            return _error(request, 400, str(exc))
        text = json.dumps({"images": [self._v1_entry(image) for image in page]}, ensure_ascii=False)
        if self.on("v1-1-detail-none-literal"):
            text = text.replace('"deleted_at": null', '"deleted_at": none')
        return Response(text, status=200, content_type="application/json; charset=UTF-8")

    def _detail_page(self, args: Mapping[str, str]) -> list[Image]:
        """The images of one detail page: filtered, sorted, cut at the marker and limit; _BadRequest on bad input."""
        since = _parse_time(args["changes-since"]) if "changes-since" in args else None
        show_hidden = since is not None and not self.on("v1-1-detail-filter-changes-since-hides-deleted")
        show_hidden = show_hidden or self.on("v1-1-detail-shows-deleted")
        candidates = [i for i in self.store.all() if show_hidden or not (i.deleted or i.status == "killed")]
        predicates = self._detail_filters(args, since)
        if self.on("v1-1-detail-only-first-filter"):
            predicates = predicates[:1]
        if self.on("v1-1-detail-filters-any") and predicates:
            matching = [image for image in candidates if any(test(image) for test in predicates)]
        else:
            matching = [image for image in candidates if all(test(image) for test in predicates)]
        if self.on("v1-1-detail-combined-drops-one") and len(predicates) >= 2 and matching:
            matching = matching[:-1]

        sort_key = args.get("sort_key", "created_at")
        if sort_key not in SORT_KEYS:
            if not self.on("v1-1-detail-bad-sort-key-200"):
                raise _BadRequest("sort_key", f"sort_key must be one of {', '.join(SORT_KEYS)}, got {sort_key!r}")
            sort_key = "created_at"
        sort_dir = args.get("sort_dir", "desc")
        if sort_dir not in SORT_DIRS:
            raise _BadRequest("sort_dir", f"sort_dir must be asc or desc, got {sort_dir!r}")
        ordered = sorted(matching, key=_sort_value(sort_key), reverse=sort_dir == "desc")

        limit = _limit(args)
        start = _start_after(ordered, args.get("marker"))
        if "marker" in args and self.on("v1-1-detail-pagination-skips"):
            start += 1
        if self.on("v1-1-detail-limit-ignored"):
            return ordered[start:]
        return ordered[start : start + limit]

    def _detail_filters(self, args: Mapping[str, str], since: datetime | None) -> list[Predicate]:
        """One predicate per filter in `args`; _BadRequest on a value the API rejects."""
        tests: list[Predicate] = []
        if "name" in args:
            name = args["name"]
            if self.on("v1-1-detail-filter-name-substring"):
                tests.append(lambda i: name.casefold() in i.name.casefold())
            else:
                tests.append(lambda i: i.name == name)
        for field, fault in _IGNORED_FILTER_FAULTS.items():
            if field in args and not self.on(fault):
                tests.append(_attribute_is(field, args[field]))
        size_min = _count(args, "size_min")
        if size_min is not None:
            if self.on("v1-1-detail-filter-size-min-exclusive"):
                tests.append(lambda i: i.size is not None and i.size > size_min)
            else:
                tests.append(lambda i: i.size is not None and i.size >= size_min)
        size_max = _count(args, "size_max")
        if size_max is not None:
            if self.on("v1-1-detail-filter-size-max-exclusive"):
                tests.append(lambda i: i.size is not None and i.size < size_max)
            else:
                tests.append(lambda i: i.size is not None and i.size <= size_max)
        if since is not None:
            if self.on("v1-1-detail-filter-changes-since-inclusive"):
                tests.append(lambda i: i.updated_at >= since)
            else:
                tests.append(lambda i: i.updated_at > since)
        for field in ("min_ram", "min_disk"):
            count = _count(args, field)
            if count is not None:
                tests.append(_attribute_is(field, count))
        for field in ("is_public", "protected"):
            if field in args:
                tests.append(_attribute_is(field, _boolean(args, field)))
        if not self.on("v1-1-detail-filter-property-ignored"):
            for param, value in args.items():
                if param.startswith("property-"):
                    tests.append(_property_is(param.removeprefix("property-"), value))
        return tests

    def _v1_entry(self, image: Image) -> dict[str, Any]:
        """The v1.1 detail entry of `image`, fields in the seed's order."""
        properties: Any = dict(image.properties)
        if self.on("v1-1-detail-properties-list"):
            properties = [[key, value] for key, value in sorted(image.properties.items())]
        entry: dict[str, Any] = {
            "status": image.status,
            "virtual_size": image.virtual_size,
            "name": image.name,
            "deleted": image.deleted,
            "container_format": image.container_format,
            "created_at": format_v1_time(image.created_at),
            "disk_format": image.disk_format,
            "updated_at": format_v1_time(image.updated_at),
            "properties": properties,
            "owner": image.owner,
            "protected": image.protected,
            "min_ram": image.min_ram,
            "checksum": image.checksum,
            "min_disk": image.min_disk,
            "is_public": image.is_public,
            "deleted_at": None if image.deleted_at is None else format_v1_time(image.deleted_at),
            "id": image.id,
            "size": image.size,
        }
        if self.on("v1-1-detail-missing-field"):
            del entry["protected"]
        return entry


def image_schema() -> dict[str, Any]:
    """A JSON Schema of a v2 image like upstream's /v2/schemas/image (trimmed to the fields served here)."""
    nullable_string = {"type": ["null", "string"]}
    nullable_integer = {"type": ["null", "integer"], "minimum": 0}
    statuses = ["queued", "saving", "active", "killed", "deleted", "pending_delete", "deactivated", "uploading",
                "importing"]
    return {
        "name": "image",
        "properties": {
            "id": {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
                                                "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"},
            "name": {"type": ["null", "string"], "maxLength": 255},
            "status": {"type": "string", "enum": statuses},
            "visibility": {"type": "string", "enum": ["community", "public", "private", "shared"]},
            "protected": {"type": "boolean"},
            "checksum": {**nullable_string, "maxLength": 32},
            "owner": {**nullable_string, "maxLength": 255},
            "size": nullable_integer,
            "virtual_size": nullable_integer,
            "container_format": {"type": ["null", "string"], "enum": [None, "ami", "ari", "aki", "bare", "ovf",
                                                                      "ova", "docker", "compressed"]},
            "disk_format": {"type": ["null", "string"], "enum": [None, "ami", "ari", "aki", "vhd", "vhdx", "vmdk",
                                                                 "raw", "qcow2", "vdi", "iso", "ploop", "zvhd",
                                                                 "zvhd2"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "min_ram": {"type": "integer", "minimum": 0},
            "min_disk": {"type": "integer", "minimum": 0},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}},
            "self": {"type": "string"},
            "file": {"type": "string"},
            "schema": {"type": "string"},
        },
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


# -- helpers ---------------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _json_body(request: Request, media_types: tuple[str, ...], kind: type) -> Any:
    """The request's JSON body of the expected kind; _Refused (415, 400) otherwise."""
    if request.mimetype not in media_types:
        raise _Refused(415, f"Content-Type must be {' or '.join(media_types)}, got {request.mimetype or 'none'!r}")
    try:
        body = json.loads(request.get_data())
    except ValueError:
        raise _Refused(400, "The request body is not valid JSON.") from None
    if not isinstance(body, kind):
        raise _Refused(400, f"The request body must be a JSON {'object' if kind is dict else 'array'}.")
    return body


# Writable core fields and their values when a create body leaves them out (visibility: upstream's default).
_CORE_DEFAULTS: dict[str, Any] = {
    "name": "", "visibility": "shared", "protected": False, "min_ram": 0, "min_disk": 0, "tags": (),
    "disk_format": None, "container_format": None, "owner": CALLER_PROJECT,
}


def _new_image(body: Mapping[str, Any], now: datetime) -> Image:
    """The queued image a create body describes (the id taken from the body when given, like upstream)."""
    for key in body:
        _check_settable(key)
    image_id = body.get("id", str(uuid.uuid4()))
    if not isinstance(image_id, str) or not _UUID.fullmatch(image_id):
        raise _Refused(400, f"id must be a UUID, got {_clip(str(image_id))!r}")
    core = {key: _core_value(key, body[key]) for key in _CORE_DEFAULTS if key in body}
    # Simplifications of the reference: a missing name is "", and both formats are required up front.
    for key in ("disk_format", "container_format"):
        if core.get(key) is None:
            raise _Refused(400, f"{key} is required by this reference target")
    extra = {key: _property_value(key, value) for key, value in body.items() if key not in _CORE_DEFAULTS and key != "id"}
    fields = {**_CORE_DEFAULTS, **core}
    return Image(
        id=image_id, status="queued", checksum=None, size=None, virtual_size=None, created_at=now,
        updated_at=now, deleted_at=None, deleted=False, properties=MappingProxyType(extra), **fields,
    )


def _check_settable(key: str) -> None:
    if key in READ_ONLY:
        raise _Refused(403, f"Attribute '{key}' is read-only.")
    if key in RESERVED:
        raise _Refused(403, f"Attribute '{key}' is reserved.")


def _core_value(key: str, value: Any) -> Any:
    """`value` checked against /v2/schemas/image for the writable core field `key`; _Refused (400) otherwise."""
    spec: dict[str, Any] = image_schema()["properties"][key] if key != "owner" else {"maxLength": 255}
    if key in ("min_ram", "min_disk"):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif key == "protected":
        ok = isinstance(value, bool)
    elif key == "tags":
        ok = isinstance(value, list) and all(isinstance(tag, str) and len(tag) <= 255 for tag in value)
        value = tuple(dict.fromkeys(value)) if ok else value
    elif "enum" in spec:
        ok = value in spec["enum"] and value is not None
    else:
        ok = isinstance(value, str) and len(value) <= spec.get("maxLength", 255)
    if not ok:
        raise _Refused(400, f"Invalid value for {key}: {_clip(json.dumps(value, ensure_ascii=False))}")
    return value


def _property_value(key: str, value: Any) -> str:
    """An extra property: a string of at most 255 characters under a key of at most 255 (upstream schema)."""
    if not isinstance(value, str) or len(value) > 255 or len(key) > 255 or not key:
        raise _Refused(400, f"Extra property {_clip(key)!r} must be a string of at most 255 characters")
    return value


def _patched(image: Image, operations: list[Any], now: datetime) -> Image:
    """`image` with JSON-patch `operations` applied (add, replace, remove); _Refused when one is not allowed."""
    core: dict[str, Any] = {}
    extra = dict(image.properties)
    for operation in operations:
        if not isinstance(operation, dict) or operation.get("op") not in ("add", "replace", "remove"):
            raise _Refused(400, "Each operation must be an object with op add, replace or remove.")
        path = operation.get("path")
        if not isinstance(path, str) or not path.startswith("/") or "/" in path[1:]:
            raise _Refused(400, f"Invalid JSON pointer for this resource: {_clip(str(path))!r}")
        key = path[1:].replace("~1", "/").replace("~0", "~")
        _check_settable(key)
        if key == "id":
            raise _Refused(403, "Attribute 'id' is read-only.")
        if operation["op"] != "remove" and "value" not in operation:
            raise _Refused(400, f"Operation {operation['op']} needs a value.")
        if key in _CORE_DEFAULTS:
            if operation["op"] == "remove":
                raise _Refused(403, f"Cannot remove the base attribute '{key}'.")
            core[key] = _core_value(key, operation["value"])
        elif operation["op"] == "add":
            extra[key] = _property_value(key, operation["value"])
        elif key not in extra:
            raise _Refused(409, f"Property {_clip(key)!r} does not exist.")
        elif operation["op"] == "remove":
            del extra[key]
        else:
            extra[key] = _property_value(key, operation["value"])
    return replace(image, **core, properties=MappingProxyType(extra), updated_at=now)


def _version(version_id: str, status: str, href: str) -> dict[str, Any]:
    return {"id": version_id, "status": status, "links": [{"rel": "self", "href": href}]}


def _json(data: Any, *, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=200, mimetype=mimetype)


def _error(request: Request, code: int, message: str, *, html: bool = False,
           headers: Mapping[str, str] | None = None) -> Response:
    """An error answer: JSON when the client asks for JSON, HTML when a fault says so, else plain text."""
    title = HTTP_STATUS_CODES.get(code, "Error")
    if html:
        body = f"<html><head><title>{code} {title}</title></head><body><h1>{code} {title}</h1>" \
               f"<p>{escape(message)}</p></body></html>"
        return Response(body, status=code, mimetype="text/html", headers=headers)
    if request.accept_mimetypes.best_match(["text/plain", "application/json"]) == "application/json":
        body = json.dumps({"code": code, "title": title, "message": message}, ensure_ascii=False)
        return Response(body, status=code, mimetype="application/json", headers=headers)
    return Response(f"{code} {title}\n\n{message}\n", status=code, mimetype="text/plain", headers=headers)


def _raw_answer(status: str, headers: list[tuple[str, str]], body: bytes) -> WSGIApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, [*headers, ("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def _request_target(environ: Mapping[str, Any]) -> str:
    """The request target as the client sent it when the server tells, else rebuilt from the WSGI environ."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw:
        if not raw.startswith("/"):  # absolute-form request target
            parts = urlsplit(raw)
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return str(raw)
    path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
    query = environ.get("QUERY_STRING", "")
    return path + (f"?{query}" if query else "")


def _header_text(value: str) -> str:
    """`value` as a WSGI header string: UTF-8 bytes on the wire (as Glance v1 sent them), no line breaks."""
    return value.replace("\r", " ").replace("\n", " ").encode("utf-8").decode("latin-1")


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _count(args: Mapping[str, str], param: str) -> int | None:
    """The non-negative integer query parameter `param`, or None when absent."""
    raw = args.get(param)
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw):
        raise _BadRequest(param, f"{param} must be a non-negative integer, got {_clip(raw)!r}")
    return int(raw)


def _limit(args: Mapping[str, str]) -> int:
    """The page size: `limit` when given (capped at MAX_LIMIT), else DEFAULT_LIMIT."""
    limit = _count(args, "limit")
    return DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT)


def _boolean(args: Mapping[str, str], param: str) -> bool:
    raw = args[param].lower()
    if raw not in ("true", "false"):
        raise _BadRequest(param, f"{param} must be true or false, got {_clip(args[param])!r}")
    return raw == "true"


def _parse_time(raw: str) -> datetime:
    """An ISO 8601 timestamp (zone and fraction optional, UTC when no zone); _BadRequest when unparsable."""
    match = _ISO_8601.fullmatch(raw.strip())
    try:
        if match is None:
            raise ValueError(raw)
        parts = match.groupdict()
        year, month, day = (int(p) for p in parts["date"].split("-"))
        zone = timezone.utc
        if parts["zone"] and parts["zone"].upper() != "Z":
            digits = parts["zone"][1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            zone = timezone(offset if parts["zone"][0] == "+" else -offset)
        return datetime(
            year, month, day, int(parts["hour"] or 0), int(parts["minute"] or 0), int(parts["second"] or 0),
            int((parts["fraction"] or "0").ljust(6, "0")), tzinfo=zone,
        ).astimezone(timezone.utc)
    except ValueError:
        raise _BadRequest("changes-since", f"changes-since is not an ISO 8601 timestamp: {_clip(raw)!r}") from None


def _attribute_is(field: str, value: object) -> Predicate:
    return lambda image: getattr(image, field) == value


def _property_is(key: str, value: str) -> Predicate:
    return lambda image: image.properties.get(key) == value


def _sort_value(key: str) -> Callable[[Image], tuple[Any, ...]]:
    """A sort key on `key` with images lacking the value first and ties broken by id."""

    def value(image: Image) -> tuple[Any, ...]:
        field = getattr(image, key)
        return (field is not None, field if field is not None else 0, image.id)

    return value


def _start_after(ordered: list[Image], marker: str | None) -> int:
    """The index of the page start: just after `marker`; _BadRequest when the marker is not in `ordered`."""
    if marker is None:
        return 0
    for index, image in enumerate(ordered):
        if image.id == marker:
            return index + 1
    raise _BadRequest("marker", f"marker {_clip(marker)!r} is not an image of this listing")

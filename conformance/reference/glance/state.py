"""What one Glance reference app holds: its copy of the catalogue (changed by v2 writes) and its faults."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from conformance.reference.fault import Fault
from conformance.reference.glance.images import Image
from conformance.reference.glance.paging import sort_value
from conformance.reference.glance.probe import HttpProbe
from conformance.reference.glance.responses import clip

T = TypeVar("T")
INDEXED_FIELDS = ("name", "status", "disk_format", "container_format")  # exact-match filters of v1.1 detail


class Refused(Exception):
    """A write the API refuses, with the status code it answers."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class Store:
    """One app's image records: a copy of the fixed catalogue that writes change."""

    def __init__(self, images: Iterable[Image]) -> None:
        self._lock = threading.Lock()
        # Copy-on-write: readers take the current dict and never see it change under them.
        self._images: dict[str, Image] = {image.id: image for image in images}
        # sorted orders of the records in `_sorted_for` (the dict they were made from), by (key, reverse, live)
        self._sorted_for: dict[str, Image] | None = None
        self._sorted: dict[tuple[str, bool, bool], tuple[list[Image], dict[str, int]]] = {}
        self._indexed_for: dict[str, Image] | None = None
        self._index: dict[tuple[str, str], list[str]] = {}
        self._kept_for: dict[str, Image] | None = None
        self._kept: dict[Hashable, Any] = {}

    def ordered(self, key: str, reverse: bool, *, live: bool = False) -> tuple[list[Image], dict[str, int]]:
        """The records sorted on `key` (ties by id; only live ones with `live`) and each id's index in that order.

        Kept until the next write, so that listing and paging a large catalogue do not sort it for every page.
        """
        images = self._images
        cache_key = (key, reverse, live)
        with self._lock:
            if self._sorted_for is not images:
                self._sorted_for, self._sorted = images, {}
            cached = self._sorted.get(cache_key)
        if cached is None:
            chosen = [image for image in images.values() if not image.deleted] if live else list(images.values())
            ordered = sorted(chosen, key=sort_value(key), reverse=reverse)
            cached = (ordered, {image.id: index for index, image in enumerate(ordered)})
            with self._lock:
                if self._sorted_for is images:
                    self._sorted[cache_key] = cached
        return cached

    def kept(self, key: Hashable, make: Callable[[dict[str, Image]], T]) -> T:
        """`make(records)` (an order, an index), made once per `key` and kept until the next write."""
        images = self._images
        with self._lock:
            if self._kept_for is not images:
                self._kept_for, self._kept = images, {}
            if key in self._kept:
                return cast(T, self._kept[key])
        made = make(images)
        with self._lock:
            if self._kept_for is images:
                self._kept[key] = made
        return made

    def index(self) -> dict[tuple[str, str], list[str]]:
        """(field, value) -> ids of the records with that text value, for name, status, the formats and
        ("property-" + key) of each property; kept until the next write, like the sort orders."""
        images = self._images
        with self._lock:
            if self._indexed_for is images:
                return self._index
        index: dict[tuple[str, str], list[str]] = {}
        for image in images.values():
            for field in INDEXED_FIELDS:
                index.setdefault((field, getattr(image, field)), []).append(image.id)
            for key, value in image.properties.items():
                index.setdefault((f"property-{key}", value), []).append(image.id)
        with self._lock:
            self._indexed_for, self._index = images, index
        return index

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
        """Store a new image; Refused (409) when its id is taken, even by a deleted image."""
        with self._lock:
            if image.id in self._images:
                raise Refused(409, f"Image with identifier {image.id} already exists!")
            self._images = {**self._images, image.id: image}

    def update(self, image_id: str, change: Callable[[Image], Image]) -> Image:
        """Replace the live image `image_id` by `change(image)` in one step; Refused (404) when there is none."""
        with self._lock:
            image = self._images.get(image_id)
            if image is None or image.deleted:
                raise Refused(404, f"No image found with ID {clip(image_id)}.")
            changed = change(image)
            self._images = {**self._images, image_id: changed}
            return changed


@dataclass(frozen=True)
class AppState:
    """What every endpoint of one app sees: the faults switched on (ask `FAULT in state.faults`) and the records."""

    faults: frozenset[Fault[HttpProbe]]
    store: Store
    case_insensitive: bool = False  # v1.1 text filters ignore letter case (upstream on MySQL/MariaDB): not a fault
    token: str | None = None  # the one X-Auth-Token accepted; None: no credentials are checked
    other_token: str | None = None  # a second project's X-Auth-Token, also accepted (projects.py)
    extra_disk_formats: tuple[str, ...] = ()  # configured beyond upstream's defaults; served in /v2/schemas/image

"""Write mode for GET /v2/images: what the list must answer about the images this run created.

Every query is scoped to the run by its run-id property, so a walk reads a handful of images whatever the size of the
catalogue. Only the run's own images are judged, so a target that ignores the scope is still judged rightly on them.
An image belongs in an answer when its visibility and os_hidden let it be listed and it matches every filter; an
image the run deleted belongs in none.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Mapping
from typing import Any

from conformance.glance.v2_list_filters import LIST, eligible
from conformance.glance.v2_list_walks import Walk
from conformance.glance.write_mode import RUN_ID_PROPERTY, WrittenImage, WrittenSet
from conformance.listing.domains import SHOWN_TIME
from conformance.listing.judging import decidable, describe, matches_filter
from conformance.listing.table import Filter, Query
from conformance.listing.text import Case
from conformance.timestamps import parse_time

MAX_VALUES = 30  # values tried per filter
SORT_PAGE = 2  # the page size of a sorted walk: the run's images take several pages, so ties must stay put
# The fields of a written image that its sort keys order by and the run decided (timestamps are the target's).
WRITTEN_SORT_FIELDS = ("id", "name", "status", "container_format", "disk_format", "size")
Params = dict[str, Any]  # a query as sent; a list value is a repeated parameter


def entry(image: WrittenImage) -> dict[str, Any]:
    """What the v2 list must say of a written image, as far as the filter table looks (both timestamps are the create
    answer's created_at: a lower bound of each)."""
    return {**image.expected, "owner": image.owner, "os_hidden": image.fixture.hidden,
            "created_at": image.created_at, "updated_at": image.created_at}


def since(written: WrittenSet) -> str | None:
    """The second before the first image the run created, in the target's clock; None when a create answer gave no
    readable created_at."""
    created = [parse_time(image.created_at) for image in [*written.images, *written.deleted]]
    known = [moment for moment in created if moment is not None]
    if not known or len(known) != len(created):
        return None
    moment = min(known).astimezone(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def scoped(written: WrittenSet, query: Mapping[str, Any]) -> Params:
    """`query` limited to the images of this run (a query on the run-id property keeps its own value)."""
    return {RUN_ID_PROPERTY: written.run_id, **query}


def filter_queries(row: Filter, written: WrittenSet) -> list[Query]:
    """One-filter queries of the table row `row` with the values the run wrote (and their `in:` lists and case twins);
    a time filter takes each of its operators at the second before the run's first image (every image the run wrote
    is later)."""
    if row.domain is SHOWN_TIME:
        moment = since(written)
        return row.exact_queries((moment,)) if moment is not None else []
    return row.queries(row.observe([entry(image) for image in written.images]), MAX_VALUES)


def tag_queries(written: WrittenSet) -> list[Params]:
    """Repeated-tag queries: each pair of tags one image carries, and one pair no image carries together."""
    tagged = [sorted(image.fixture.tags) for image in written.images if len(image.fixture.tags) > 1]
    pairs = [tags[:2] for tags in tagged]
    if len(tagged) > 1 and not set(tagged[0]) & set(tagged[1]):
        pairs.append([tagged[0][0], tagged[1][0]])
    return [{"tag": pair} for pair in pairs]


def _items(query: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The query's (parameter, value) pairs, a repeated parameter once per value."""
    return [(name, item) for name, value in query.items() for item in (value if isinstance(value, list) else [value])]


def belongs(image_entry: Mapping[str, Any], query: Mapping[str, Any], case: Case) -> bool | None:
    """Whether the image must be in the answer to `query`; None when the fields the query looks at do not decide it."""
    pairs = _items(query)
    if not all(decidable(LIST, image_entry, {name: value}) for name, value in pairs):
        return None
    return eligible(image_entry, dict(pairs)) and all(matches_filter(LIST, image_entry, name, value, case)
                                                      for name, value in pairs)


def selection_problems(walk: Walk, query: Mapping[str, Any], written: WrittenSet, case: Case) -> list[str]:
    """How one walk fails the run's images: one that belongs is missing (judged when the walk ended), one that does
    not belong is there, or one the run deleted is listed."""
    returned = Counter(walk.ids)
    looked_at = dict(_items(query))  # the parameters the query names, for the message
    lines = []
    for image in written.images:
        image_entry = entry(image)
        wanted = belongs(image_entry, query, case)
        shown = describe(LIST, image_entry, looked_at)
        if wanted and not returned[image.id] and not walk.truncated:
            lines.append(f"did not return {shown}, written by this run")
        elif wanted is False and returned[image.id]:
            lines.append(f"returned {shown}, written by this run, which does not belong in this answer")
    lines += [f"returned {image.id} ({image.fixture.name}), deleted by this run" for image in written.deleted
              if returned[image.id]]
    return lines


def order_entries(walk: Walk, written: WrittenSet) -> list[dict[str, Any]]:
    """The walk's entries in order, each of the run's images with the values the run wrote for the fields it decided
    (a sort judged against what was written, not against what the target says of it)."""
    known = {image.id: {name: entry(image)[name] for name in WRITTEN_SORT_FIELDS} for image in written.images}
    return [{**listed, **known.get(str(listed.get("id")), {})} for listed in walk.entries]


def listing_problems(walk: Walk, written: WrittenSet) -> list[str]:
    """How a walk of the run's images with no filter fails them: an image listed twice, a listable one missing, a
    hidden or deleted one listed."""
    returned = Counter(walk.ids)
    lines = [f"{image_id} is returned {times} times" for image_id, times in sorted(returned.items()) if times > 1]
    for image in written.images:
        listable = eligible(entry(image), {})
        if listable and not returned[image.id] and not walk.truncated:
            lines.append(f"did not return {image.id} ({image.fixture.name}), written by this run")
        elif not listable and returned[image.id]:
            lines.append(f"returned {image.id} ({image.fixture.name}), hidden, written by this run, without os_hidden")
    lines += [f"returned {image.id} ({image.fixture.name}), deleted by this run" for image in written.deleted
              if returned[image.id]]
    return lines

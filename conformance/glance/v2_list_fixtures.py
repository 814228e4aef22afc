"""Fixtures of the v2 list tests: the ground-truth walks, the filter values they offer, and the run's text reading."""

from __future__ import annotations

import pytest

from conformance.glance.v2_list_filters import LIST
from conformance.glance.v2_list_walks import Universe, walk_list
from conformance.glance.walks import ground_truth_pages
from conformance.listing.table import Observed
from conformance.listing.text import Case, swapped
from conformance.run.state import RunState
from conformance.targets.glance import GlanceClient


@pytest.fixture(scope="session")
def v2_list_universe(glance: GlanceClient, run_state: RunState) -> Universe:
    """The unfiltered v2 listings (default, every visibility, hidden images), walked once per run, each as far as
    the sample's discovery reads within the target's page cap (ground_truth_pages)."""
    pages, hint = ground_truth_pages(run_state.config.max_images, glance.limits.pages)

    def walk(query: dict[str, str]):  # type: ignore[no-untyped-def]
        return walk_list(glance, query, max_pages=pages, raise_hint=hint)

    return Universe(walk({}), walk({"visibility": "all"}), walk({"visibility": "all", "os_hidden": "true"}))


@pytest.fixture(scope="session")
def v2_list_observed(v2_list_universe: Universe) -> Observed:
    """The filter values the target's own images offer the v2 list."""
    return LIST.observed(v2_list_universe.all_entries)


@pytest.fixture(scope="session")
def v2_list_case(v2_list_universe: Universe, glance: GlanceClient) -> Case:
    """How the target compares filter text: a listed name asked for with its case swapped returns its image or not."""
    names = {entry.get("name") for entry in v2_list_universe.default.entries}
    for entry in v2_list_universe.default.entries:
        name = entry.get("name")
        if isinstance(name, str) and swapped(name) != name and swapped(name) not in names and ":" not in name:
            pages, hint = v2_list_universe.pages()
            walk = walk_list(glance, {"name": swapped(name)}, max_pages=pages, raise_hint=hint)
            return Case.INSENSITIVE if str(entry.get("id")) in walk.ids else Case.SENSITIVE
    return Case.SENSITIVE

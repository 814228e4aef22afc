"""A pytest plugin for self-tests: v1.1 walks take 5 images a page, so a small catalogue needs several pages."""

from __future__ import annotations

import pytest

from conformance.glance import walks


def pytest_configure(config: pytest.Config) -> None:
    """Shrink the walk page size for this run."""
    walks.WALK_LIMIT = 5

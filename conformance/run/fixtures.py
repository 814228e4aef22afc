"""The fixture every family shares: the state of the run."""

from __future__ import annotations

import pytest

from conformance.run.state import RunState, state_of

__all__ = ["run_state"]


@pytest.fixture(scope="session")
def run_state(request: pytest.FixtureRequest) -> RunState:
    """The state of this conformance run."""
    return state_of(request.config)

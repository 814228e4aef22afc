"""junit.xml: the run's verdict as a property of the test suite, so that a CI system reads the same verdict."""

from __future__ import annotations

import pytest

from conformance.evidence import inert
from conformance.run.state import RunState


def record_verdict(config: pytest.Config, state: RunState) -> None:
    """Add `conformance-verdict` (and one `conformance-verdict-reason` per reason) to junit.xml, when it is written."""
    from _pytest.junitxml import xml_key

    writer = config.stash.get(xml_key, None)
    if writer is None or state.verdict is None:
        return
    writer.add_global_property("conformance-verdict", str(state.verdict))
    for reason in state.verdict_reasons:
        writer.add_global_property("conformance-verdict-reason", inert(reason))

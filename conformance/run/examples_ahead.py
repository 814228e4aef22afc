"""Property tests marked `examples_asked_ahead` are rehearsed before they run, so that the first requests of their
examples are asked ahead of their turn (conformance.targets.asked_ahead): against a remote target, a test that walks
one drawn query per example then waits about one round trip per --concurrency examples instead of one per example.

The rehearsal is the test's own body given the same examples: hypothesis draws them from the seed it will use for
the test (the derandomized digest, or the run's seed), and each example stops at its first request. A marked test
draws every value before it sends anything, and is given `data` (st.data()) alone.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from conformance.targets import asked_ahead

MARKER = "examples_asked_ahead"


def register_marker(config: pytest.Config) -> None:
    """Declare the marker (so that --strict-markers accepts it)."""
    config.addinivalue_line("markers", f"{MARKER}: a property test given `data` alone that draws every value before "
                                       "it sends a request: its examples' first requests are asked ahead")


class ExamplesAskedAhead:
    """The hook that rehearses a marked test and lets it run with its examples' first requests asked ahead."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency

    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
        ahead = None
        if self.concurrency > 1 and pyfuncitem.get_closest_marker(MARKER) is not None:
            ahead = rehearsed(pyfuncitem, self.concurrency)
        if ahead is None:
            return (yield)
        token = asked_ahead.within(ahead)
        try:
            return (yield)
        finally:
            asked_ahead.reset(token)
            ahead.close()


def seed_of(test: Any) -> Any:
    """The seed hypothesis draws `test`'s examples from; None when it picks one at random for each test, or when
    this version of hypothesis keeps it elsewhere (the examples are then asked at their turn)."""
    # the order hypothesis itself follows (core.get_random_for_wrapped_test), read from its internals
    try:
        from hypothesis import core
        from hypothesis.internal.compat import int_from_bytes
        from hypothesis.internal.reflection import function_digest

        if getattr(test, "_hypothesis_internal_use_seed", None) is not None:
            return test._hypothesis_internal_use_seed
        if test._hypothesis_internal_use_settings.derandomize:
            return int_from_bytes(function_digest(test.hypothesis.inner_test))
        return core.global_force_seed
    except (ImportError, AttributeError):
        return None


def rehearsed(item: pytest.Function, concurrency: int) -> asked_ahead.AskedAhead | None:
    """Draw the examples of `item` once, each stopped at its first requests, and start asking those requests; None
    when the examples cannot be known ahead (a seed picked at random) or an example ended otherwise (a skip)."""
    from hypothesis import given, seed, settings
    from hypothesis import strategies as st

    test = item.obj
    chosen = seed_of(test)
    if chosen is None:
        return None
    inner, drawn_as = test.hypothesis.inner_test, test._hypothesis_internal_use_settings
    fixtures = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}
    rehearsal = asked_ahead.Rehearsal()
    spoilt: list[bool] = []  # an example ended otherwise than at a request: the rehearsal cannot be trusted

    def example(data: st.DataObject) -> None:
        if spoilt:
            return
        token = asked_ahead.within(rehearsal)
        try:
            inner(data=data, **fixtures)
        except asked_ahead.Rehearsed:
            pass
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
            from hypothesis.errors import HypothesisException

            if isinstance(exc, HypothesisException):  # hypothesis' own (an assumption not met): it decides
                raise
            spoilt.append(True)
        finally:
            asked_ahead.reset(token)

    settings(drawn_as)(seed(chosen)(given(data=st.data())(example)))()
    if spoilt or not rehearsal.sends:
        return None
    # answers held ahead: twice what is in flight, so that the next ones are on their way while an example takes
    # its own (two, for a test that asks two queries at once)
    return asked_ahead.AskedAhead(rehearsal.sends, concurrency, depth=2 * concurrency)

"""Property tests marked `examples_asked_ahead` are rehearsed, so that the first requests of their examples are
asked ahead of their turn (conformance.targets.asked_ahead): against a remote target, a test that walks one drawn
query per example then waits about one round trip per --concurrency examples instead of one per example.

The rehearsal is hypothesis drawing the test's examples from the seed it would use for the test (the derandomized
digest, or the run's seed), each stopped at its first requests, its draws kept. The test's body then runs on those
examples, in order, taking the answers asked ahead. When every one passes, that is the test's outcome: the examples
are the ones hypothesis draws for it, and hypothesis does not draw them a second time. When one does not, what the
examples judged is dropped and pytest runs the test with hypothesis as any other, which draws the same examples
again, each request at its turn, and shrinks the failure. A marked test is given `data` (st.data()) alone and draws
every value before it sends anything.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.checks import Coverage, coverage, recording
from conformance.targets import asked_ahead

MARKER = "examples_asked_ahead"  # declared with the other markers (selection.register_markers)


class ExamplesAskedAhead:
    """The hook that rehearses a marked test and runs its examples with their first requests asked ahead."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        """Run a marked test's rehearsed examples; None (pytest then runs the test with hypothesis, as unmarked)
        when it was not rehearsed or an example did not pass."""
        if self.concurrency <= 1 or pyfuncitem.get_closest_marker(MARKER) is None:
            return None
        drawn = rehearsed(pyfuncitem)
        if drawn is None:
            return None
        # answers held ahead: twice what is in flight, so that the next ones are on their way while an example
        # takes its own (two, for a test that asks two queries at once)
        ahead = asked_ahead.AskedAhead(drawn.sends, self.concurrency, depth=2 * self.concurrency)
        token = asked_ahead.within(ahead)
        try:
            return True if replayed(pyfuncitem, drawn.examples) else None
        finally:
            asked_ahead.reset(token)
            ahead.close()


@dataclass
class Drawn:
    """What a rehearsal drew: each example's draws (label and value), and the requests they sent first."""

    examples: list[list[tuple[Any, Any]]] = field(default_factory=list)
    sends: list[tuple[Hashable, asked_ahead.Send]] = field(default_factory=list)


class _Drawing:
    """The `data` of a rehearsed example: hypothesis' own, each draw kept (a copy, as the test may change it)."""

    def __init__(self, data: Any) -> None:
        self._data = data
        self.draws: list[tuple[Any, Any]] = []

    def draw(self, strategy: Any, label: Any = None) -> Any:
        """A value of `strategy`, drawn by hypothesis."""
        value = self._data.draw(strategy, label=label)
        self.draws.append((label, copy.deepcopy(value)))
        return value


class _Diverged(Exception):
    """A replayed example drew other than its rehearsal did."""


class _Replaying:
    """The `data` of a replayed example: the values its rehearsal drew, in their order.

    The body is the same code on the same fixtures, so it draws as its rehearsal did; the labels are checked, as
    a strategy built again for a draw is another object."""

    def __init__(self, draws: list[tuple[Any, Any]]) -> None:
        self._draws = iter(draws)

    def draw(self, strategy: Any, label: Any = None) -> Any:
        """The value the rehearsal drew here."""
        drawn_as, value = next(self._draws, (_Diverged, None))
        if drawn_as != label:
            raise _Diverged(f"drew {label!r} where the rehearsal drew {drawn_as!r}")
        return copy.deepcopy(value)


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


def rehearsed(item: pytest.Function) -> Drawn | None:
    """Draw the examples of `item` as hypothesis will, each stopped at its first requests; None when they cannot be
    known ahead (a seed picked at random) or an example ended otherwise (a skip, a health check)."""
    from hypothesis import given, seed, settings
    from hypothesis import strategies as st

    test = item.obj
    chosen = seed_of(test)
    if chosen is None:
        return None
    inner, drawn_as = test.hypothesis.inner_test, test._hypothesis_internal_use_settings
    fixtures = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}
    rehearsal, drawn = asked_ahead.Rehearsal(), Drawn()
    spoilt: list[bool] = []  # an example ended otherwise than at a request: the rehearsal cannot be trusted

    def example(data: st.DataObject) -> None:
        if spoilt:
            return
        drawing = _Drawing(data)
        token = asked_ahead.within(rehearsal)
        try:
            with recording(Coverage()):  # a rehearsal judges nothing
                inner(data=drawing, **fixtures)
        except asked_ahead.Rehearsed:
            pass
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
            from hypothesis.errors import HypothesisException

            if isinstance(exc, HypothesisException):  # hypothesis' own (an assumption not met): it decides
                raise
            spoilt.append(True)
        finally:
            asked_ahead.reset(token)
        drawn.examples.append(drawing.draws)

    try:
        settings(drawn_as)(seed(chosen)(given(data=st.data())(example)))()
    except Exception:  # hypothesis refused the examples (a health check): the test's own run will say why
        return None
    if spoilt:
        return None
    drawn.sends = rehearsal.sends
    return drawn


def replayed(item: pytest.Function, examples: list[list[tuple[Any, Any]]]) -> bool:
    """Run `item`'s body on each rehearsed example, in order; whether every one passed. What the examples judged
    counts into the test's coverage only then: an example that did not pass is left to hypothesis, whose run from the
    start (drawing the same examples) shrinks it and says what failed."""
    inner = item.obj.hypothesis.inner_test
    fixtures = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}
    judged = Coverage()
    try:
        with recording(judged):
            for draws in examples:
                inner(data=_Replaying(draws), **fixtures)
    except (Exception, pytest.skip.Exception, pytest.fail.Exception):
        return False
    coverage().merge(judged)
    return True

"""The first requests of a marked property test's examples are asked ahead of their turn: hypothesis draws the
examples once in a rehearsal that notes each one's first requests, which then go out up to --concurrency at once
while the test's body runs on the same examples and takes their answers. A request not noted is sent at its turn;
when an example does not pass, hypothesis runs the test as usual, each request at its turn, and shrinks it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from conformance.targets import asked_ahead
from conformance.targets.asked_ahead import AskedAhead, Rehearsal, Rehearsed
from conformance.targets.fanout import ahead


def test_outside_a_rehearsal_a_request_is_sent() -> None:
    assert asked_ahead.request(("GET", "/x"), lambda: "sent") == "sent"


def test_a_rehearsal_notes_the_request_and_stops_the_example_past_its_own_handlers() -> None:
    rehearsal = Rehearsal()
    token = asked_ahead.within(rehearsal)
    try:
        with pytest.raises(Rehearsed):
            try:
                asked_ahead.request(("GET", "/x"), lambda: pytest.fail("a rehearsal sends nothing"))
            except Exception:  # what a test's own handler catches
                pytest.fail("the rehearsal's stop is not an Exception")
    finally:
        asked_ahead.reset(token)
    assert [key for key, _ in rehearsal.sends] == [("GET", "/x")]


def test_a_rehearsal_notes_every_call_a_fan_out_started_not_only_the_first() -> None:
    rehearsal = Rehearsal()
    token = asked_ahead.within(rehearsal)
    try:
        with pytest.raises(Rehearsed):
            list(ahead(lambda n: asked_ahead.request(("GET", n), lambda: n), range(2), limit=4))
    finally:
        asked_ahead.reset(token)
    assert {key for key, _ in rehearsal.sends} == {("GET", 0), ("GET", 1)}


class Sends:
    """Sends that wait `delay` and count how many are under way at once."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.sent: list[Any] = []
        self.now = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, key: Any) -> Any:
        def send() -> Any:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            time.sleep(self.delay)
            with self.lock:
                self.now -= 1
                self.sent.append(key)
            if key == "broken":
                raise ValueError("no answer")
            return f"answer {key}"

        return send


def test_answers_asked_ahead_are_taken_in_any_order_and_an_unnoted_request_is_sent_at_its_turn() -> None:
    sends = Sends()
    asked = AskedAhead([(n, sends(n)) for n in range(6)], limit=2, depth=4)
    try:
        assert asked.take(1, lambda: pytest.fail("asked ahead")) == "answer 1"
        assert asked.take(0, lambda: pytest.fail("asked ahead")) == "answer 0"
        assert asked.take("later page", lambda: "at its turn") == "at its turn"
        assert [asked.take(n, lambda: pytest.fail("asked ahead")) for n in range(2, 6)] == [
            f"answer {n}" for n in range(2, 6)]
    finally:
        asked.close()
    assert sorted(sends.sent) == list(range(6)) and asked.taken == 6
    assert sends.most <= 2


def _until(condition: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_no_more_than_depth_answers_are_held_and_an_error_is_raised_at_its_turn() -> None:
    sends = Sends(delay=0.0)
    asked = AskedAhead([(n, sends(n)) for n in range(3)] + [("broken", sends("broken"))]
                       + [(n, sends(n)) for n in range(4, 10)], limit=4, depth=4)
    try:
        _until(lambda: len(sends.sent) >= 4)
        time.sleep(0.2)  # time for a fifth, were it asked
        assert sorted(sends.sent, key=str) == [0, 1, 2, "broken"]  # the first four, and no more until one is taken
        for n in range(3):
            asked.take(n, lambda: None)
        with pytest.raises(ValueError, match="no answer"):
            asked.take("broken", lambda: None)
    finally:
        asked.close()


def test_answers_never_taken_stop_asking_and_are_dropped_at_the_close() -> None:
    sends = Sends(delay=0.2)
    asked = AskedAhead([(n, sends(n)) for n in range(20)], limit=2, depth=3)
    assert asked.take("another example", lambda: "at its turn") == "at its turn"  # the examples went another way
    _until(lambda: sends.now == 2)
    asked.close()
    # the two in flight were waited for; the third, queued behind them, may have been dropped unsent
    assert {0, 1} <= set(sends.sent) <= {0, 1, 2} and asked.taken == 0


# -- the hook, on a property test of its own ---------------------------------------------------------------------------

CONFTEST = """
from conformance.run import examples_ahead
from conformance.run.selection import register_markers


def pytest_configure(config):
    register_markers(config)
    config.pluginmanager.register(examples_ahead.ExamplesAskedAhead({concurrency}), "examples-asked-ahead")
"""

PROPERTY = """
import functools
import threading

import pytest
from hypothesis import given, settings, strategies as st

from conformance.targets import asked_ahead

SENT = []  # (value, thread) of each request sent
RUN = []  # the values the test's examples judged


@pytest.mark.examples_asked_ahead
@settings(max_examples=30, database=None, derandomize={derandomize})
@given(data=st.data())
def test_drawn(data):
    n = data.draw(st.integers(0, 1000), label="n")
    answer = asked_ahead.request(("n", n), lambda: SENT.append((n, threading.current_thread().name)) or n)
    RUN.append(n)
    assert answer == n
    assert n < {bound}


inner = test_drawn.hypothesis.inner_test  # replaced as the suite replaces it (signals.releasing)
test_drawn.hypothesis.inner_test = functools.wraps(inner)(lambda *args, **kwargs: inner(*args, **kwargs))


def test_what_was_sent():
    ahead = [n for n, thread in SENT if thread.startswith("conformance-asked-ahead")]
    at_turn = [n for n, thread in SENT if not thread.startswith("conformance-asked-ahead")]
    print("SENT", len(SENT), "AHEAD", len(ahead), "AT-TURN", len(at_turn), "RUN", len(RUN), "DISTINCT", len(set(RUN)),
          "AHEAD-NOT-RUN", len(set(ahead) - set(RUN)))
"""


def _run(pytester: pytest.Pytester, *args: str, concurrency: int = 4, derandomize: bool = True,
         bound: int = 10**6) -> tuple[pytest.RunResult, dict[str, int]]:
    pytester.makeconftest(CONFTEST.format(concurrency=concurrency))
    pytester.makepyfile(test_property=PROPERTY.format(derandomize=derandomize, bound=bound))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:image_conformance", "-s", *args)
    line = next(line for line in result.outlines if "SENT " in line)  # after the dots of `-s` output
    words = line[line.index("SENT "):].split()
    return result, {words[n]: int(words[n + 1]) for n in range(0, len(words), 2)}


def test_a_passing_test_takes_every_answer_asked_ahead_and_judges_each_example_once(pytester: pytest.Pytester) -> None:
    result, counts = _run(pytester)
    result.assert_outcomes(passed=2)
    assert counts["RUN"] > 1 and counts["SENT"] == counts["AHEAD"] == counts["RUN"] == counts["DISTINCT"]
    assert counts["AT-TURN"] == 0


def test_the_run_seed_of_a_random_profile_is_rehearsed_too(pytester: pytest.Pytester) -> None:
    result, counts = _run(pytester, "--hypothesis-seed=12345", derandomize=False)
    result.assert_outcomes(passed=2)
    assert counts["SENT"] == counts["AHEAD"] == counts["RUN"] > 1


def test_a_seed_picked_per_test_is_not_rehearsed_and_each_request_goes_at_its_turn(pytester: pytest.Pytester) -> None:
    result, counts = _run(pytester, derandomize=False)
    result.assert_outcomes(passed=2)
    assert counts["AHEAD"] == 0 and counts["AT-TURN"] == counts["RUN"] > 1


def test_a_serial_run_asks_nothing_ahead(pytester: pytest.Pytester) -> None:
    result, counts = _run(pytester, concurrency=1)
    result.assert_outcomes(passed=2)
    assert counts["AHEAD"] == 0 and counts["AT-TURN"] == counts["RUN"]


def test_a_failure_is_shrunk_at_its_turn_and_few_answers_are_wasted(pytester: pytest.Pytester) -> None:
    result, counts = _run(pytester, bound=500)
    result.assert_outcomes(passed=1, failed=1)
    # hypothesis ran the test again from its first example, and shrank the failure to the least failing value
    result.stdout.fnmatch_lines(["*Draw 1 (n): 500"])
    assert counts["RUN"] > counts["DISTINCT"]  # the examples before the failure were judged twice
    assert counts["AT-TURN"] > 0  # each request of hypothesis' own run, at its turn
    assert counts["AHEAD-NOT-RUN"] <= 2 * 4  # what was asked ahead when the examples went another way

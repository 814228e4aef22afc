"""An interrupt is shown by pytest wherever the signal that raised it landed."""

from __future__ import annotations

import dis
import sys
import types
from collections.abc import Generator

import pytest

from conformance.run.signals import without_lineless_entries

# Before 3.11 every traceback entry has its line number.
pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="instructions without a line came with 3.11")


def _suspended() -> Generator[int, None, None]:
    try:
        yield 1
    finally:
        pass


def _interrupt_on_a_lineless_instruction() -> KeyboardInterrupt:
    """A KeyboardInterrupt whose innermost traceback entry is an instruction with no line (as a signal can leave)."""
    try:
        raise KeyboardInterrupt("the budget was used up")
    except KeyboardInterrupt as exc:
        interrupt = exc
    generator = _suspended()
    next(generator)
    offset = next(i.offset for i in dis.get_instructions(_suspended) if i.positions.lineno is None)  # type: ignore[attr-defined]
    lineless = types.TracebackType(None, generator.gi_frame, offset, -1)  # type: ignore[attr-defined]
    assert lineless.tb_lineno is None
    assert interrupt.__traceback__ is not None
    interrupt.__traceback__.tb_next = lineless
    return interrupt


def test_pytest_shows_an_interrupt_that_landed_on_a_lineless_instruction() -> None:
    interrupt = _interrupt_on_a_lineless_instruction()
    without_lineless_entries(interrupt)
    shown = str(pytest.ExceptionInfo.from_exception(interrupt).getrepr(funcargs=True))
    assert "the budget was used up" in shown


def test_the_lineless_entry_of_an_exception_raised_from_is_dropped_too() -> None:
    outer = RuntimeError("while ending")
    outer.__context__ = _interrupt_on_a_lineless_instruction()
    without_lineless_entries(outer)
    tb = outer.__context__.__traceback__
    while tb is not None:
        assert tb.tb_lineno is not None
        tb = tb.tb_next

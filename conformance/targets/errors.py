"""Errors that mean the run broke, not that the target broke the documents."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.evidence import Exchange


class TargetError(Exception):
    """The target could not be reached or broke the transport (not a conformance failure)."""

    exchange: Exchange | None = None  # the recorded request that got no answer, when there was one


class TargetUnreachable(TargetError):
    """The target did not answer at all; the run stops at the first test instead of failing each one."""


class BudgetExhausted(TargetUnreachable):
    """The run's --budget is used up: the call was cut or not sent, and the run stops like for an unreachable target."""

"""Errors that mean the run broke, not that the target broke the documents."""


class TargetError(Exception):
    """The target could not be reached or broke the transport (not a conformance failure)."""


class TargetUnreachable(TargetError):
    """The target did not answer at all; the run stops at the first test instead of failing each one."""

"""Reading JSON a target sent: a body that is not JSON, or is nested too deep to judge, is a ValueError."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # nesting levels the suite reads; every documented body nests fewer than 8


class NotJSON(ValueError):
    """The text is not JSON the suite can read (invalid, or nested deeper than MAX_DEPTH)."""


def loads(text: str | bytes | bytearray, **kwargs: Any) -> Any:
    """`json.loads(text)`, but ValueError (never RecursionError) for JSON nested deeper than MAX_DEPTH."""
    __tracebackhide__ = True
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        # a body like [[[[…]]]] 100,000 deep: the parser gives up, but the target broke the document, not the run
        raise NotJSON(f"nested deeper than {MAX_DEPTH} levels (too deep to parse)") from None
    levels = depth(value)
    if levels > MAX_DEPTH:
        raise NotJSON(f"nested {levels} levels deep, more than the {MAX_DEPTH} the suite reads")
    return value


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (0 for a scalar), counted without recursion."""
    level = 0
    containers = [value] if isinstance(value, (dict, list)) else []
    while containers:  # one nesting level at a time
        level += 1
        if level > MAX_DEPTH:
            return level  # deep enough to refuse; no need to walk the rest
        containers = [child for item in containers for child in (item.values() if isinstance(item, dict) else item)
                      if isinstance(child, (dict, list))]
    return level

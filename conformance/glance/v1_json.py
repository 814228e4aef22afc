"""A tolerant reader of v1.1 JSON bodies, so one typo the seed documents does not hide every other judgement."""

from __future__ import annotations

import re
from typing import Any

from conformance.targets.http import HttpResponse

_STRING_OR_NONE = re.compile(r'"(?:[^"\\]|\\.)*"|\bnone\b')  # a `none` inside a JSON string is left alone


def read_json(response: HttpResponse) -> Any:
    """The body as JSON, a bare `none` (as in the seed's sample) read as null; AssertionError when it is not JSON."""
    # GLANCE-V1-1-DETAIL-VALID-JSON fails the typo; every other requirement is judged past it.
    return response.json(repair=_none_as_null)


def _none_as_null(text: str) -> str:
    return _STRING_OR_NONE.sub(lambda m: "null" if m.group() == "none" else m.group(), text)

"""A tolerant reader of v1.1 JSON bodies, so one typo the seed documents does not hide every other judgement."""

from __future__ import annotations

import re
from typing import Any

from conformance import json_text
from conformance.targets.http import HttpResponse

_STRING_OR_NONE = re.compile(r'"(?:[^"\\]|\\.)*"|\bnone\b')  # a `none` inside a JSON string is left alone


def read_json(response: HttpResponse) -> Any:
    """The body as JSON, a bare `none` (as in the seed's sample) read as null; AssertionError when it is not JSON."""
    # GLANCE-V1-1-DETAIL-VALID-JSON fails the typo; every other requirement is judged past it.
    response.check_json_values()
    try:
        return json_text.loads(response.body)
    except ValueError:
        pass
    text = _STRING_OR_NONE.sub(lambda m: "null" if m.group() == "none" else m.group(), response.text)
    try:
        return json_text.loads(text)
    except ValueError:
        return response.json()  # raises, describing the original body

"""What a filter's values are (text, a count, a moment): how one is read, compared, observed and drawn.

A list API's filters differ in the field they look at and the operators they take, not in these: the domains are
shared by every list API's table.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance._compat import StrEnum
from conformance.listing.text import Case, swapped
from conformance.timestamps import format_time, parse_time

# Arbitrary filter text: no surrogates (not encodable in a URL) and no control characters (some databases refuse NUL).
TEXT_VALUES = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
KEY_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.:-", min_size=1, max_size=10)
SWAPPED_VALUES = 3  # values per filter also queried with their case swapped


class Operator(StrEnum):
    """How a filter value selects: the field equals it, differs from it, or lies after or before it."""

    EQ = "eq"
    NEQ = "neq"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    IN = "in"  # any of a comma-separated list, a value holding a comma double-quoted (`in:a,"b, c"`)

    def holds(self, domain: Domain, field: object, value: str, case: Case) -> bool:
        """Whether the entry's `field` satisfies `<operator> value` in `domain`, text compared as `case` says."""
        if self is Operator.IN:
            return any(domain.equal(field, one, case) for one in in_values(value))
        if self is Operator.EQ:
            return domain.equal(field, value, case)
        if self is Operator.NEQ:
            return domain.read(field) is not None and not domain.equal(field, value, case)
        order = domain.order(field, value)
        if order is None:
            return False
        holds = {Operator.GT: order > 0, Operator.GTE: order >= 0, Operator.LT: order < 0, Operator.LTE: order <= 0}
        return holds[self]


_IN_VALUES = re.compile(r'"((?:[^"\\]|\\.)*)",?|([^,]+),?|,')


def in_values(text: str) -> list[str]:
    """The values of an `in:` list: split at commas, a double-quoted value kept whole (\\" in it a quote)."""
    return [quoted.replace('\\"', '"') if quoted or not plain else plain for quoted, plain in _IN_VALUES.findall(text)]


def in_list(values: Sequence[str]) -> str:
    """`values` as an `in:` list: a value holding a comma or a double quote is quoted."""
    return ",".join(f'"{v.replace(chr(34), chr(92) + chr(34))}"' if ("," in v or '"' in v) else v for v in values)


def always(field: object, value: str) -> bool:
    """Every value of the domain is decided by what the entry shows."""
    return True


@dataclass(frozen=True)
class Domain:
    """The kind of value a filter compares: how a field and a query value are read, and how values are chosen."""

    name: str
    ordered: bool  # compared by order (counts, moments), or only matched (text: collations order it differently)
    fits: Callable[[object], bool]  # whether a field has its documented type, so that the filter can be judged
    read: Callable[[object], Any]  # a field as compared (None when it is not of this domain)
    parse: Callable[[str], Any]  # a query value as compared (None when it is not of this domain)
    observe: Callable[[Iterable[object]], tuple[Any, ...]]  # the distinct values of fields, sorted
    draw: Callable[[tuple[Any, ...]], st.SearchStrategy[str]]  # query values: observed ones, near and arbitrary
    pick: Callable[[tuple[Any, ...], Sequence[str], int], list[str]]  # deterministic values: (observed, probes, limit)
    decides: Callable[[object, str], bool] = always  # whether the shown field decides a comparison with the value

    def equal(self, field: object, value: str, case: Case) -> bool:
        """Whether `field` equals the query value (text under `case`)."""
        return self.order(field, value) == 0 if self.ordered else case.same(self.read(field), value)

    def order(self, field: object, value: str) -> int | None:
        """-1, 0 or 1 as `field` lies before, at or after the query value; None when either is unreadable."""
        if not self.ordered:
            return None
        mine, theirs = self.read(field), self.parse(value)
        if mine is None or theirs is None:
            return None
        return (mine > theirs) - (mine < theirs)


def spread(values: Sequence[Any], limit: int) -> list[Any]:
    """At most `limit` of `values`, evenly spaced and always keeping the first and the last."""
    if limit <= 0:
        return []
    if len(values) <= limit:
        return list(values)
    if limit == 1:
        return [values[0]]
    step = (len(values) - 1) / (limit - 1)
    return [values[round(i * step)] for i in range(limit)]


def with_swapped(values: Sequence[str], limit: int) -> list[str]:
    """`values` spread to `limit`, then a few of them with their case swapped (judged under the run's reading)."""
    chosen = spread(sorted(set(values)), limit)
    flipped = [swapped(v) for v in spread(chosen, SWAPPED_VALUES) if swapped(v) != v]
    return list(dict.fromkeys([*chosen, *flipped]))


def is_count(value: object) -> bool:
    """Whether `value` is a JSON integer (bool is an int in Python, but no count)."""
    return isinstance(value, int) and not isinstance(value, bool)


# -- text: exact match, case as the run reads it --------------------------------------------------------------------

def _text_or_none(field: object) -> bool:
    return field is None or isinstance(field, str)


def _text(field: object) -> str | None:
    return field if isinstance(field, str) else None


def _strings(fields: Iterable[object]) -> tuple[str, ...]:
    return tuple(sorted({field for field in fields if isinstance(field, str)}))


def _draw_text(observed: tuple[Any, ...]) -> st.SearchStrategy[str]:
    if not observed:
        return TEXT_VALUES
    own = st.sampled_from(observed)
    return own | own.map(swapped) | TEXT_VALUES


def _pick_text(observed: tuple[Any, ...], probes: Sequence[str], limit: int) -> list[str]:
    return with_swapped([*observed, *probes], limit)


TEXT = Domain("text", False, _text_or_none, _text, _text, _strings, _draw_text, _pick_text)


# -- counts: sizes in bytes ------------------------------------------------------------------------------------------

def _count_or_none(field: object) -> bool:
    return field is None or is_count(field)


def _count(field: object) -> int | None:
    return field if is_count(field) else None  # type: ignore[return-value]


def _parse_count(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


# Counts a query is drawn from: a larger one is no size any image has (and one past 4,300 digits has no text, since
# Python limits int-to-str conversion), so no query is built from it; the requirements that read sizes fail it.
MAX_DRAWN_COUNT = 2**63 - 1


def _counts(fields: Iterable[object]) -> tuple[int, ...]:
    return tuple(sorted({field for field in fields if isinstance(field, int) and is_count(field)
                         and field <= MAX_DRAWN_COUNT}))


def _near(pair: tuple[int, int]) -> int:
    return max(0, pair[0] + pair[1])


def _draw_count(observed: tuple[Any, ...]) -> st.SearchStrategy[str]:
    arbitrary = st.integers(min_value=0, max_value=2**53)
    if not observed:
        return arbitrary.map(str)
    near = st.tuples(st.sampled_from(observed), st.sampled_from((0, -1, 1))).map(_near)
    return (st.sampled_from(observed) | near | arbitrary).map(str)


def _pick_ordered(observed: tuple[Any, ...], probes: Sequence[str], limit: int) -> list[str]:
    return [*probes, *map(str, spread(observed, limit - len(probes)))]


COUNT = Domain("count", True, _count_or_none, _count, _parse_count, _counts, _draw_count, _pick_ordered)


# -- moments: ISO 8601 timestamps ------------------------------------------------------------------------------------

def _is_time(field: object) -> bool:
    return parse_time(field) is not None


def _parse_moment(value: str) -> datetime.datetime | None:
    return parse_time(value)


def _earlier(value: str) -> str:
    """One microsecond earlier: the image updated at that moment must then be selected by "after"."""
    parsed = parse_time(value)
    if parsed is None or parsed == parsed.min.replace(tzinfo=parsed.tzinfo):
        return value  # the smallest moment there is has no earlier one
    return format_time(parsed - datetime.timedelta(microseconds=1))


OFFSET = datetime.timezone(datetime.timedelta(hours=8))  # an explicit zone: the vendor's own (China Standard Time)


def with_offset(value: str) -> str:
    """The moment one microsecond before `value`, written in OFFSET's local time with that offset."""
    parsed = parse_time(value)
    if parsed is None:
        return value
    return (parsed - datetime.timedelta(microseconds=1)).astimezone(OFFSET).isoformat(timespec="microseconds")


def _with_fraction(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _zulu(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _draw_time(observed: tuple[Any, ...]) -> st.SearchStrategy[str]:
    moments = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2035, 1, 1))
    arbitrary = moments.map(_with_fraction) | moments.map(_zulu)
    if not observed:
        return arbitrary
    exact = st.sampled_from(observed)
    return exact | exact.map(_earlier) | exact.map(with_offset) | arbitrary


TIME = Domain("time", True, _is_time, parse_time, _parse_moment, _strings, _draw_time, _pick_ordered)


# -- moments shown to the second: the stored time lies somewhere in that second ---------------------------------------

def _within_shown_second(field: object, value: str) -> bool:
    """Whether a comparison of `field` with `value` is decided by the field as shown: not when the field is shown to
    the second and the value lies in that second (upstream keeps microseconds but shows whole seconds)."""
    shown, asked = parse_time(field), parse_time(value)
    if shown is None or asked is None or not isinstance(field, str) or "." in field:
        return True
    return not shown <= asked < shown + datetime.timedelta(seconds=1)


SHOWN_TIME = Domain("time shown to the second", True, _is_time, parse_time, _parse_moment, _strings, _draw_time,
                    _pick_ordered, _within_shown_second)


# -- flags: JSON booleans, queried as true / false ------------------------------------------------------------------

def _bool_or_none(field: object) -> bool:
    return field is None or isinstance(field, bool)


def _flag(field: object) -> bool | None:
    return field if isinstance(field, bool) else False if field is None else None  # absent: false


def _parse_flag(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value)


def _flags(fields: Iterable[object]) -> tuple[str, ...]:
    return ("false", "true")


def _draw_flag(observed: tuple[Any, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(("false", "true"))


def _pick_flag(observed: tuple[Any, ...], probes: Sequence[str], limit: int) -> list[str]:
    return ["false", "true"]


FLAG = Domain("flag", True, _bool_or_none, _flag, _parse_flag, _flags, _draw_flag, _pick_flag)

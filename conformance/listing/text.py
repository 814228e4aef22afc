"""How a list API compares filter text: case-sensitively or not, read once per run from the target."""

from __future__ import annotations

from conformance._compat import StrEnum


class Case(StrEnum):
    """How a target compares the text of the equality filters.

    The documents say "exact match" and leave case open: upstream Glance compares case-sensitively on SQLite and
    case-insensitively on MySQL/MariaDB (collation utf8_general_ci). Either is accepted, if one holds for the run.
    """

    SENSITIVE = "case-sensitive"
    INSENSITIVE = "case-insensitive"

    def same(self, field: object, value: str) -> bool:
        """Whether the text `field` equals the filter value under this reading."""
        if not isinstance(field, str):
            return False
        return fold(field) == fold(value) if self is Case.INSENSITIVE else field == value


def fold(text: str) -> str:
    """`text` in lower case, letter by letter: no expansions like ß -> ss, which database collations do not make."""
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


def swapped(value: str) -> str:
    """`value` with its letters' case swapped one for one (ß stays ß): the same text to a case-insensitive target."""
    return "".join(other if len(other := char.swapcase()) == 1 and other.swapcase() == char else char for char in value)

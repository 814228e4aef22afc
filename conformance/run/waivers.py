"""Waivers: known deviations a vendor accepts for a while, shown as waived and never as passed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import yaml

from conformance.options import ConfigError


@dataclass(frozen=True)
class Waiver:
    """One waived requirement, with why and until when."""

    requirement: str
    reason: str
    expires: datetime.date

    def expired(self, today: datetime.date) -> bool:
        """Whether the waiver no longer applies on `today`."""
        return today > self.expires

    def to_dict(self) -> dict[str, str]:
        """The waiver as plain data for results.json."""
        return {"requirement": self.requirement, "reason": self.reason, "expires": self.expires.isoformat()}


def load_waivers(path: Path, known_ids: set[str]) -> list[Waiver]:
    """The waivers in a YAML file (`waivers:` list of requirement/reason/expires); ConfigError when malformed."""
    where = f"--waivers {str(path)!r}"
    try:
        text = path.read_text(encoding="utf-8")
        document, node = yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{where}{at}: not YAML: {exc.problem or exc.context}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{where}: cannot read YAML ({type(exc).__name__})") from None
    if not isinstance(document, dict) or not isinstance(document.get("waivers"), list):
        raise ConfigError(f"{where}: needs a top-level 'waivers:' list")
    waivers = []
    for index, entry in enumerate(document["waivers"], start=1):
        where = f"--waivers {str(path)!r}{_place(node, index)}"
        if not isinstance(entry, dict) or set(entry) != {"requirement", "reason", "expires"}:
            raise ConfigError(f"{where}: entry {index} needs exactly requirement, reason and expires")
        requirement, reason, expires = entry["requirement"], entry["reason"], entry["expires"]
        if requirement not in known_ids:
            raise ConfigError(f"{where}: entry {index} names unknown requirement {requirement!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: entry {index} ({requirement}) needs a reason")
        if isinstance(expires, str):
            try:
                expires = datetime.date.fromisoformat(expires)
            except ValueError:
                problem = f"expires {expires!r} is not YYYY-MM-DD"
                raise ConfigError(f"{where}: entry {index} ({requirement}) {problem}") from None
        if not isinstance(expires, datetime.date) or isinstance(expires, datetime.datetime):
            raise ConfigError(f"{where}: entry {index} ({requirement}) expires must be a date YYYY-MM-DD")
        waivers.append(Waiver(requirement, reason.strip(), expires))
    seen: set[str] = set()
    for index, waiver in enumerate(waivers, start=1):
        if waiver.requirement in seen:
            place = f"--waivers {str(path)!r}{_place(node, index)}"
            raise ConfigError(f"{place}: {waiver.requirement} is waived more than once")
        seen.add(waiver.requirement)
    return waivers


def _place(document: yaml.Node | None, index: int) -> str:
    """` line L, column C` of the `index`-th entry of the waivers list (from 1), as a YAML error names a place."""
    entries = next((value for key, value in getattr(document, "value", [])
                    if isinstance(key, yaml.ScalarNode) and key.value == "waivers"), None)
    if not isinstance(entries, yaml.SequenceNode) or index > len(entries.value):
        return ""
    mark = entries.value[index - 1].start_mark
    return f" line {mark.line + 1}, column {mark.column + 1}"

"""results.json as the record reads it: the one place that knows the field names it relies on.

The verdict is recomputed by the suite's own verdict rule (`conformance.run.verdict.rule`), fed with the
outcomes and tiers results.json lists and the waivers as they stood on the day of the run.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.catalog import Requirement, Tier, opted_out, requirements
from conformance.record.errors import RecordError
from conformance.run.outcomes import Outcome, RequirementResult, Verdict
from conformance.run.verdict import blocks_pass, requirement_is_met, rule

MAX_RESULTS_BYTES = 256 * 1024 * 1024  # results.json of a 30,000-image catalogue is a few MiB


@dataclass(frozen=True)
class Entry:
    """One requirement as results.json records it."""

    id: str
    operation: str
    tier: Tier
    outcome: Outcome
    waiver: dict[str, Any] | None


@dataclass(frozen=True)
class RunResults:
    """A parsed results.json."""

    document: dict[str, Any]
    entries: tuple[Entry, ...]

    @property
    def verdict(self) -> str:
        """The verdict the run stated."""
        return str(self.document.get("verdict"))

    @property
    def profiles(self) -> dict[str, str]:
        """Family -> profile name the run certified against."""
        return {str(family): str(name) for family, name in (self.document.get("profiles") or {}).items()}

    @property
    def suite(self) -> dict[str, Any]:
        """Name, version and commit of the suite that ran."""
        return dict(self.document.get("suite") or {})

    @property
    def catalogue_files(self) -> dict[str, str]:
        """Schema, profile and requirement file -> sha256, as the run read them."""
        return {str(name): str(digest) for name, digest in (self.document.get("catalogue_files") or {}).items()}

    @property
    def run_date(self) -> datetime.date:
        """The day (UTC) the run finished: waivers are judged as they stood then."""
        stamp = str(self.document.get("finished_at") or self.document.get("started_at") or "")
        try:
            return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()
        except ValueError:
            raise RecordError(f"results.json: finished_at {stamp!r} is not a timestamp") from None

    @property
    def subset(self) -> bool:
        """Whether the run selected part of the suite."""
        return "subset" in self.document

    @property
    def not_judged(self) -> dict[str, str]:
        """Requirement id -> why the run had no means to judge it."""
        return {str(item.get("id")): str(item.get("reason")) for item in self.document.get("not_judged") or []}

    @property
    def not_run(self) -> set[str]:
        """The requirements a subset of the suite left out."""
        return {str(item.get("id")) for item in self.document.get("not_run") or []}

    @property
    def allow_writes(self) -> bool:
        """Whether the run's owner allowed writes (--allow-writes)."""
        return (self.document.get("options") or {}).get("allow_writes") is True

    def opted_out(self, requirement_id: str) -> bool:
        """Whether the catalogue's requirement needs something the run's owner opts into, and the owner did not
        (verify checks that the record's catalogue is this one)."""
        requirement = requirements().get(requirement_id)
        other_project = (self.document.get("options") or {}).get("other_project") is True
        return requirement is not None and opted_out(requirement, allow_writes=self.allow_writes,
                                                     other_project=other_project)

    def by_id(self) -> dict[str, Entry]:
        """The entries by requirement id."""
        return {entry.id: entry for entry in self.entries}

    def outcomes(self) -> dict[str, list[str]]:
        """Outcome -> the requirement ids that had it, in results.json order."""
        grouped: dict[str, list[str]] = {}
        for entry in self.entries:
            grouped.setdefault(str(entry.outcome), []).append(entry.id)
        return grouped

    def expired_waivers(self) -> list[str]:
        """The waivers results.json lists as expired, and any waiver it lists whose date was past on the run's day."""
        waivers = self.document.get("waivers") or {}
        listed = [w for key in ("applied", "unused", "expired") for w in waivers.get(key) or []]
        return sorted({str(w.get("requirement")) for w in listed
                       if w in (waivers.get("expired") or []) or _expired(w, self.run_date)})


def parse(data: bytes) -> RunResults:
    """RunResults of the bytes of a results.json; RecordError with one line when it is not one."""
    if len(data) > MAX_RESULTS_BYTES:
        raise RecordError(f"results.json holds {len(data)} bytes, more than {MAX_RESULTS_BYTES}")
    try:
        document = json.loads(data.decode("utf-8"))
        entries = tuple(
            Entry(str(item["id"]), str(item["operation"]), Tier(item["tier"]), Outcome(item["outcome"]),
                  item.get("waiver") if isinstance(item.get("waiver"), dict) else None)
            for item in document["requirements"]
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise RecordError(f"results.json is not a results.json of this suite ({type(exc).__name__}: {exc})") from None
    if not isinstance(document, dict):
        raise RecordError("results.json is not a JSON object")
    return RunResults(document, entries)


def load(path: Path) -> RunResults:
    """RunResults of the results.json at `path`."""
    try:
        return parse(path.read_bytes())
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from None


def recomputed_verdict(results: RunResults) -> tuple[Verdict, list[str]]:
    """The verdict the suite's rule gives the recorded outcomes, and what was inconsistent on the way.

    A requirement recorded as waived counts as failed when no waiver is recorded for it or its waiver had
    expired on the day of the run.
    """
    problems: list[str] = []
    judged: list[RequirementResult] = []
    day = results.run_date
    for entry in results.entries:
        outcome = entry.outcome
        if outcome == Outcome.WAIVED:
            if entry.waiver is None:
                problems.append(f"{entry.id} is waived, but no waiver is recorded for it")
                outcome = Outcome.FAILED
            elif _expired(entry.waiver, day):
                problems.append(f"{entry.id} is waived under a waiver that expired on {entry.waiver.get('expires')}, "
                                f"before the run ({day.isoformat()})")
                outcome = Outcome.FAILED
        requirement = Requirement(id=entry.id, operation=entry.operation, tier=entry.tier, source="", text="")
        judged.append(RequirementResult(requirement, outcome=outcome))
    document = results.document
    subset = tuple(str(r) for r in (document.get("subset") or {}).get("reasons") or ()) if results.subset else ()
    found, _ = rule(
        judged, stopped=document.get("stopped"), subset=subset or (("subset",) if results.subset else ()),
        cut_short=document.get("cut_short"), not_reached=int(document.get("not_reached") or 0),
        expired=tuple((rid, "") for rid in results.expired_waivers()),
        unjudged=tuple((str(item.get("id")), str(item.get("tier")), str(item.get("reason")))
                       for item in document.get("not_judged") or []
                       if blocks_pass(str(item.get("tier")), results.opted_out(str(item.get("id"))))),
    )
    return found, problems


def result_of(results: RunResults, stated: Verdict) -> str:
    """The in-toto test-result `result` of a run: PASSED only for a pass with nothing waived and no warning."""
    met = all(requirement_is_met(_as_result(entry)) for entry in results.entries)
    if stated == Verdict.FAIL or (stated != Verdict.PASS and not met):
        return "FAILED"
    if stated == Verdict.PASS and not any(_warned(entry) for entry in results.entries):
        return "PASSED"
    return "WARNED"  # a pass with waivers or advisory warnings, or a subset in which every selected one was met


def tests_by_result(results: RunResults) -> dict[str, list[str]]:
    """passedTests, warnedTests and failedTests of the test-result predicate: requirement ids."""
    grouped: dict[str, list[str]] = {"passedTests": [], "warnedTests": [], "failedTests": []}
    for entry in results.entries:
        if entry.outcome == Outcome.PASSED:
            grouped["passedTests"].append(entry.id)
        elif _warned(entry):
            grouped["warnedTests"].append(entry.id)
        elif entry.outcome in (Outcome.FAILED, Outcome.ERROR):
            grouped["failedTests"].append(entry.id)
    return grouped


def _warned(entry: Entry) -> bool:
    """Waived, or an advisory requirement not met: never a plain pass."""
    bad = (Outcome.FAILED, Outcome.ERROR)
    return entry.outcome == Outcome.WAIVED or (entry.tier == Tier.ADVISORY and entry.outcome in bad)


def _as_result(entry: Entry) -> RequirementResult:
    requirement = Requirement(id=entry.id, operation=entry.operation, tier=entry.tier, source="", text="")
    return RequirementResult(requirement, outcome=entry.outcome)


def _expired(waiver: dict[str, Any], day: datetime.date) -> bool:
    try:
        return datetime.date.fromisoformat(str(waiver.get("expires"))) < day
    except ValueError:
        return True  # a waiver without a readable date holds nothing

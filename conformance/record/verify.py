"""The checks of `python -m conformance.record verify DIR`: signature, integrity, consistency, coverage.

Each check gives one line (and the lines of what it found wrong); a record passes only when every check passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.catalog import Tier, profiles, requirements_for
from conformance.record import envelope, keys
from conformance.record.errors import RecordError
from conformance.record.provenance import file_sha256
from conformance.record.results import RunResults, parse, recomputed_verdict, result_of, tests_by_result
from conformance.record.statement import PREDICATE_TYPE, RECORD_NAME, REPORTS
from conformance.run.outcomes import Outcome, Verdict

SHOWN_PROBLEMS = 10  # per check; the count of the rest follows


@dataclass
class Check:
    """The outcome of one check: passed or not, its line, and what it found wrong."""

    name: str
    ok: bool
    summary: str
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """`signature: ok — ...` and one indented line per problem."""
        shown = [f"  {p}" for p in self.problems[:SHOWN_PROBLEMS]]
        if len(self.problems) > SHOWN_PROBLEMS:
            shown.append(f"  ... and {len(self.problems) - SHOWN_PROBLEMS} more")
        return [f"{self.name}: {'ok' if self.ok else 'FAILED'} — {self.summary}", *shown]


@dataclass(frozen=True)
class Verified:
    """A record read and checked: the checks, its Statement and its results.json."""

    checks: list[Check]
    statement: dict[str, Any]
    results: RunResults | None

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(check.ok for check in self.checks)


def verify(folder: Path, allowed_signers: Path | None) -> Verified:
    """Every check of the record in `folder`; RecordError when there is no record to check at all."""
    payload, signatures = envelope.read(folder / RECORD_NAME)
    statement = envelope.statement(payload)
    checks = [signature(payload, signatures, allowed_signers), integrity(folder, statement)]
    results = None
    try:
        results = parse((folder / "results.json").read_bytes())
    except (OSError, RecordError) as exc:
        reason = str(exc) if isinstance(exc, RecordError) else f"cannot read results.json ({exc.strerror or exc})"
        checks += [Check("consistency", False, reason), Check("coverage", False, reason)]
    if results is not None:
        checks += [consistency(statement, results), coverage(results)]
    return Verified(checks, statement, results)


def signature(payload: bytes, signatures: list[dict[str, str]], allowed: Path | None) -> Check:
    """Signed by an allowed signer over exactly this Statement (not checked without --allowed-signers)."""
    keyids = ", ".join(s.get("keyid") or "no keyid" for s in signatures) or "none"
    if allowed is None:
        return Check("signature", True, f"not checked (no --allowed-signers); signatures by: {keyids}")
    if not signatures:
        return Check("signature", False, "the record is not signed")
    message = envelope.pae(envelope.PAYLOAD_TYPE, payload)
    for sig in signatures:
        principal = keys.verify(message, sig, allowed)
        if principal is not None:
            return Check("signature", True, f"signed by {principal} ({sig.get('keyid')})")
    return Check("signature", False, f"no signature by an allowed signer of {allowed} over this record "
                 f"(signed by: {keyids}): a wrong key, or the record was altered")


def integrity(folder: Path, statement: dict[str, Any]) -> Check:
    """Every report the Statement names is in `folder` with the sha256 it states, and it names all three."""
    problems = []
    named: dict[str, str] = {}
    for subject in statement["subject"]:
        name = str(subject.get("name")) if isinstance(subject, dict) else ""
        digest = (subject.get("digest") or {}).get("sha256") if isinstance(subject, dict) else None
        if name not in REPORTS:
            problems.append(f"subject {name!r} is not one of the reports ({', '.join(REPORTS)})")
            continue
        named[name] = str(digest)
    for name in REPORTS:
        path = folder / name
        if name not in named:
            problems.append(f"{name} is not a subject of the record")
        elif not path.is_file():
            problems.append(f"{name} is missing from {folder}")
        elif file_sha256(path) != named[name]:
            problems.append(f"{name} was altered: its sha256 is not the one the record states")
    summary = f"{len(REPORTS) - len(problems)} of {len(REPORTS)} reports as recorded" if problems else \
        "report.html, junit.xml and results.json are as recorded"
    return Check("integrity", not problems, summary, problems)


def consistency(statement: dict[str, Any], results: RunResults) -> Check:
    """The verdict results.json states is the one its outcomes, tiers and waivers give, and the Statement agrees."""
    problems = []
    if statement.get("predicateType") != PREDICATE_TYPE:
        problems.append(f"predicateType is not {PREDICATE_TYPE}")
    predicate = statement["predicate"]
    recomputed, found = recomputed_verdict(results)
    problems += found
    try:
        stated = Verdict(results.verdict)
    except ValueError:
        problems.append(f"results.json states an unknown verdict {results.verdict!r}")
        stated = recomputed
    if stated != recomputed:
        problems.append(f"results.json states verdict {stated}, but its outcomes give {recomputed}")
    if predicate.get("verdict") != results.verdict:
        problems.append(f"the record states verdict {predicate.get('verdict')}, results.json {results.verdict}")
    expected = result_of(results, recomputed)
    if predicate.get("result") != expected:
        problems.append(f"the record's result is {predicate.get('result')}, the outcomes give {expected}")
    if predicate.get("outcomes") != results.outcomes():
        problems.append("the record's requirement ids by outcome differ from results.json's")
    for key, ids in tests_by_result(results).items():
        if predicate.get(key) != ids:
            problems.append(f"the record's {key} differ from results.json's outcomes")
    summary = f"verdict {recomputed} recomputed from {len(results.entries)} requirements" if not problems else \
        f"the stated verdict is not the one the outcomes give ({recomputed})"
    return Check("consistency", not problems, summary, problems)


def coverage(results: RunResults) -> Check:
    """Every required (and deprecated) requirement of the stated profiles is present and judged or waived."""
    from conformance.report.results import catalogue_hashes

    recorded = {name: digest for name, digest in results.catalogue_files.items()
                if name.startswith(("requirements/", "profiles/"))}
    ours = {name: digest for name, digest in catalogue_hashes().items()
            if name.startswith(("requirements/", "profiles/"))}
    version = results.suite.get("version")
    if recorded != ours:
        return Check("coverage", False, f"cannot check: the record's catalogue (suite {version}) is not this "
                     "verifier's; verify with the suite version that ran")
    known = profiles()
    entries = results.by_id()
    problems = []
    checked = 0
    for family, name in results.profiles.items():
        if name not in known:
            problems.append(f"profile {name!r} ({family}) is not in the catalogue")
            continue
        for req in requirements_for(known[name]):
            if req.tier == Tier.ADVISORY or (req.opt_in and req.id in results.not_judged):
                continue  # not judged by its owner's choice (--allow-writes off): not part of what the run certifies
            checked += 1
            why = results.not_judged.get(req.id) or ("not run in this subset" if req.id in results.not_run else None)
            problems += _covered(req.id, req.tier, entries.get(req.id), why)
    summary = f"{checked} required and deprecated requirements of {', '.join(results.profiles.values())} " \
        f"(suite {version})"
    return Check("coverage", not problems, summary + (" judged or waived" if not problems else ""), problems)


def _covered(rid: str, tier: Tier, entry: Any, not_judged: str | None) -> list[str]:
    if entry is None:
        reason = f"not judged: {not_judged}" if not_judged else "missing from results.json"
        return [f"{rid} ({tier}) {reason}"]
    if entry.tier != tier:
        return [f"{rid} is {entry.tier} in results.json, but {tier} under its profile"]
    allowed = {Outcome.PASSED, Outcome.FAILED, Outcome.WAIVED}
    if tier == Tier.DEPRECATED:
        allowed.add(Outcome.NOT_OFFERED)
    if entry.outcome not in allowed:
        return [f"{rid} ({tier}) is {entry.outcome}: not judged"]
    return []

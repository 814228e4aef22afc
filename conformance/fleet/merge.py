"""Merging the shards of a fleet: each endpoint's record verified, its outcomes read, the endpoints compared."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.fleet.manifest import ManifestError
from conformance.fleet.runner import SHARD_FILE
from conformance.record.errors import RecordError
from conformance.record.results import RunResults
from conformance.record.verify import verify
from conformance.run.outcomes import Outcome

BAD = (Outcome.FAILED, Outcome.ERROR)


@dataclass
class EndpointReport:
    """One endpoint of the fleet as the merge found it."""

    name: str
    verdict: str = "missing"  # the run's verdict, or "missing" when no verified record came back
    result: str | None = None  # the record's test-result: PASSED, WARNED or FAILED
    missing: str | None = None  # why there is no record to read
    checks: list[str] = field(default_factory=list)  # the record's verify lines
    verified: bool = False
    target: str | None = None
    profiles: dict[str, str] = field(default_factory=dict)
    not_met: list[str] = field(default_factory=list)  # required and deprecated requirements not met

    @property
    def fails(self) -> bool:
        """Missing, unverified, or a required requirement not met."""
        return self.missing is not None or not self.verified or bool(self.not_met)


@dataclass
class Fleet:
    """The merged fleet: endpoints in manifest order and the requirement-by-endpoint outcomes."""

    manifest_sha256: str
    endpoints: list[EndpointReport]
    outcomes: dict[str, dict[str, str]]  # requirement id -> endpoint -> outcome
    tiers: dict[str, dict[str, str]]  # requirement id -> endpoint -> tier
    operations: dict[str, str]  # requirement id -> operation

    def disagreeing(self) -> list[str]:
        """Requirements judged with different outcomes by the endpoints that certify them (a requirement that
        another profile leaves out is no disagreement)."""
        return [rid for rid, by in self.outcomes.items() if len(set(by.values())) > 1]

    def rows(self) -> list[str]:
        """Requirement ids, those where endpoints disagree first, each group in catalogue order."""
        first = self.disagreeing()
        return first + [rid for rid in self.outcomes if rid not in first]

    @property
    def fails(self) -> bool:
        """Whether any endpoint is missing, unverified or fails a required requirement."""
        return any(e.fails for e in self.endpoints)


def merge(run_dirs: list[Path], allowed_signers: Path | None) -> Fleet:
    """The fleet the shards in `run_dirs` reported; ManifestError when they are not shards of one manifest."""
    shards = [_shard(folder) for folder in run_dirs]
    digests = {shard["manifest_sha256"] for _, shard in shards}
    if len(digests) != 1:
        raise ManifestError("the run folders are shards of different manifests (manifest_sha256 differs)")
    names = list(shards[0][1]["endpoints"])
    found: dict[str, Path] = {}
    for folder, shard in shards:
        for name in shard.get("ran") or {}:
            if name in names:
                found[name] = folder / name
    fleet = Fleet(digests.pop(), [], {}, {}, {})
    for name in names:
        endpoint = EndpointReport(name)
        fleet.endpoints.append(endpoint)
        if name not in found:
            endpoint.missing = "its shard never reported"
            continue
        _read(endpoint, found[name], allowed_signers, fleet)
    return fleet


def _shard(folder: Path) -> tuple[Path, dict[str, Any]]:
    path = folder / SHARD_FILE
    try:
        shard = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{folder}: not a fleet run folder ({SHARD_FILE}: {exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError):
        raise ManifestError(f"{path}: not JSON") from None
    if not isinstance(shard, dict) or not isinstance(shard.get("endpoints"), list) or not isinstance(
            shard.get("manifest_sha256"), str):
        raise ManifestError(f"{path}: not a shard record of this suite")
    return folder, shard


def _read(endpoint: EndpointReport, folder: Path, allowed_signers: Path | None, fleet: Fleet) -> None:
    """Verify the endpoint's record and fold its outcomes into the fleet."""
    try:
        verified = verify(folder, allowed_signers)
    except RecordError as exc:
        endpoint.missing = f"no record to read: {exc}"
        return
    endpoint.checks = [line for check in verified.checks for line in check.lines()]
    endpoint.verified = verified.ok
    results: RunResults | None = verified.results
    if results is None:
        endpoint.missing = "no readable results.json"
        return
    endpoint.verdict = results.verdict
    endpoint.result = str(verified.statement["predicate"].get("result"))
    endpoint.target = str((results.document.get("target") or {}).get("url"))
    endpoint.profiles = results.profiles
    for entry in results.entries:
        fleet.outcomes.setdefault(entry.id, {})[endpoint.name] = str(entry.outcome)
        fleet.tiers.setdefault(entry.id, {})[endpoint.name] = str(entry.tier)
        fleet.operations[entry.id] = entry.operation
        if entry.tier != "advisory" and entry.outcome in BAD:
            endpoint.not_met.append(entry.id)

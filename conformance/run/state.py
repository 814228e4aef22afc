"""The state of one conformance run, kept in pytest's config stash."""

from __future__ import annotations

import datetime
import functools
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from conformance.catalog import Requirement
from conformance.evidence import ExchangeLog
from conformance.hypothesis_profiles import HypothesisInfo
from conformance.options import TargetConfig
from conformance.run.outcomes import RequirementResult, TestOutcome, Verdict
from conformance.run.selection import Selection
from conformance.run.waivers import Waiver
from conformance.short_repr import ShortRepr
from conformance.targets.limits import RunLimits


@dataclass(frozen=True)
class HttpFingerprint:
    """How the Glance-style target answered `GET /`: enough to tell later which server was certified."""

    server: str | None  # its Server header
    root_status: int
    root_body: str  # the first 500 characters


@dataclass
class GlanceTargetRecord:
    """What the run learnt about the Glance-style endpoint (results.json `target.endpoints.glance`)."""

    url: str
    embedded: bool | None = None  # recorded as true for the embedded reference, absent for a vendor's endpoint
    fingerprint: HttpFingerprint | None = None
    write_mode: dict[str, Any] | None = None  # --allow-writes: run id, images written, swept and left behind
    v1_1_filter_case: dict[str, str] | None = None  # how the v1.1 filters compare text: reading and evidence
    sample: dict[str, Any] | None = None  # the images judged: how chosen, the ids, the strata listed and sampled
    v1_head_hidden: dict[str, Any] | None = None  # deleted and killed images HEADed too (known from changes-since)

    def to_dict(self) -> dict[str, Any]:
        """The record as results.json holds it: fields never set are absent."""
        return _set_fields(self)


@dataclass
class CriTargetRecord:
    """What the run learnt about the CRI endpoint (results.json `target.endpoints.cri`)."""

    url: str
    embedded: bool
    embedded_images: bool | None = None  # embedded reference only: whether it serves vendor embedded images
    faults: list[str] | None = None  # embedded reference only: the faults it was started with
    served: list[str] | None = None  # API versions the endpoint serves
    versions: list[str] | None = None  # API versions certified
    listed_images: dict[str, int] | None = None  # API version -> how many images ListImages returned
    sample: dict[str, dict[str, Any]] | None = None  # API version -> the images judged and the strata they cover
    write_mode: dict[str, Any] | None = None  # --allow-writes: the registry, images pulled, refused, left behind

    def record_sample(self, version: str, sample: dict[str, Any]) -> None:
        """Record the images judged on one API version."""
        self.sample = {**(self.sample or {}), version: sample}

    def count_listed(self, version: str, images: int) -> None:
        """Record how many images ListImages returned on one API version."""
        self.listed_images = {**(self.listed_images or {}), version: images}

    def to_dict(self) -> dict[str, Any]:
        """The record as results.json holds it: fields never set are absent."""
        return _set_fields(self)


class TargetRecords:
    """One record per family under test, written by the family's fixtures as they learn about the endpoint."""

    def __init__(self) -> None:
        self._records: dict[str, GlanceTargetRecord | CriTargetRecord] = {}  # in the order the fixtures wrote them
        self._taken: dict[str, dict[str, Any]] = {}  # what xdist workers recorded, as plain data

    @property
    def glance(self) -> GlanceTargetRecord | None:
        """The Glance-style endpoint's record, once its fixture wrote it."""
        record = self._records.get("glance")
        return record if isinstance(record, GlanceTargetRecord) else None

    @glance.setter
    def glance(self, record: GlanceTargetRecord | None) -> None:
        self._set("glance", record)

    @property
    def cri(self) -> CriTargetRecord | None:
        """The CRI endpoint's record, once its fixture wrote it."""
        record = self._records.get("cri")
        return record if isinstance(record, CriTargetRecord) else None

    @cri.setter
    def cri(self, record: CriTargetRecord | None) -> None:
        self._set("cri", record)

    def glance_record(self) -> GlanceTargetRecord:
        """The Glance-style endpoint's record (the endpoint fixture creates it first)."""
        if self.glance is None:
            raise RuntimeError("the glance endpoint is not recorded yet: use the http_base_url fixture first")
        return self.glance

    def cri_record(self) -> CriTargetRecord:
        """The CRI endpoint's record (the endpoint fixture creates it first)."""
        if self.cri is None:
            raise RuntimeError("the CRI endpoint is not recorded yet: use the cri_address fixture first")
        return self.cri

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """family -> record, as results.json `target.endpoints` holds it."""
        records = {family: record.to_dict() for family, record in self._records.items()}
        for family, taken in self._taken.items():
            records[family] = {**taken, **records.get(family, {})}
        return records

    def take(self, records: dict[str, dict[str, Any]]) -> None:
        """Add what one xdist worker recorded: a field any worker set is kept, the first one's value wins."""
        for family, record in records.items():
            _merge_into(self._taken.setdefault(family, {}), record)

    def _set(self, family: str, record: GlanceTargetRecord | CriTargetRecord | None) -> None:
        if record is None:
            self._records.pop(family, None)
        else:
            self._records[family] = record


def _merge_into(into: dict[str, Any], other: dict[str, Any]) -> None:
    """Keys of `other` missing from `into` are added; mappings (e.g. per API version) are merged key by key."""
    for key, value in other.items():
        if key not in into:
            into[key] = value
        elif isinstance(into[key], dict) and isinstance(value, dict):
            _merge_into(into[key], value)


def _set_fields(record: GlanceTargetRecord | CriTargetRecord) -> dict[str, Any]:
    return {key: value for key, value in asdict(record).items() if value is not None}


@dataclass
class RunState(ShortRepr):
    """Everything the run gathers for its reports."""

    config: TargetConfig
    log: ExchangeLog
    hypothesis: HypothesisInfo
    started_at: str = field(default_factory=lambda: now_utc())
    clock_start: float = field(default_factory=time.monotonic)
    requirements: list[Requirement] = field(default_factory=list)  # certified in this run
    not_judged: list[tuple[Requirement, str]] = field(default_factory=list)  # (requirement, why the run cannot)
    tests: dict[str, TestOutcome] = field(default_factory=dict)
    caps: dict[str, str] = field(default_factory=dict)  # kind of case -> what a cap (--max-images) left out of it
    targets: TargetRecords = field(default_factory=TargetRecords)
    results: list[RequirementResult] = field(default_factory=list)
    discovery: list[dict[str, Any]] = field(default_factory=list)  # exchanges fixtures made, outside any test's call
    unwritten: list[str] = field(default_factory=list)  # one line per report that could not be written
    verdict: Verdict | None = None
    stopped: str | None = None  # why the run stopped early (target unreachable, budget used up): unjudged is `error`
    interrupted: str | None = None  # the signal (SIGTERM, SIGINT) that ended the run: what it did not reach is not run
    cut_short: str | None = None  # why requirements were not reached (a signal, -x, --maxfail), once decided
    cut_by_maxfail: bool = False  # -x or --maxfail cut it short (pytest-xdist then ends the run as interrupted)
    not_reached: list[Requirement] = field(default_factory=list)  # selected, none of their tests finished
    verdict_reasons: list[str] = field(default_factory=list)  # why the verdict is not pass, one line each
    selection: Selection | None = None  # which requirements were run, and why the run is a subset if it is one
    waivers: list[Waiver] = field(default_factory=list)
    baseline: dict[str, str] | None = None  # requirement id -> outcome of the --baseline run
    today: datetime.date = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc).date())
    document: dict[str, Any] | None = None  # results.json as written

    def __repr__(self) -> str:
        return (f"RunState({self.config!r}, {len(self.requirements)} requirements, {len(self.tests)} tests, "
                f"hypothesis {self.hypothesis.profile})")

    @functools.cached_property
    def limits(self) -> RunLimits:
        """What the run lets its targets cost (--timeout, --budget and the caps), the budget counted from its start;
        every target of the run is made with it."""
        return RunLimits.of(self.config, started=self.clock_start)

    def active_waiver(self, requirement_id: str) -> Waiver | None:
        """The unexpired waiver of a requirement, if there is one."""
        for waiver in self.waivers:
            if waiver.requirement == requirement_id and not waiver.expired(self.today):
                return waiver
        return None


STATE_KEY = pytest.StashKey[RunState]()


def state_of(config: pytest.Config) -> RunState:
    """The RunState of this pytest run."""
    return config.stash[STATE_KEY]


def now_utc() -> str:
    """The current time, ISO 8601 UTC, seconds precision."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")

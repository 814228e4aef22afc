"""TargetConfig: the frozen, validated configuration of one run, as the fixtures read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from conformance import catalog
from conformance.short_repr import ShortRepr, shown_address

if TYPE_CHECKING:  # the options never load the Keystone client code; only a run given its credentials does
    from conformance.targets.keystone import KeystoneSettings


@dataclass(frozen=True, kw_only=True)
class TargetConfig(ShortRepr):
    """Everything a run needs to know about where it points and how it behaves.

    Built by `build_config` alone; no field has a default of its own (the option table holds the defaults).
    """

    targets: dict[str, str]  # family -> endpoint as given; empty means the embedded reference targets
    glance_url: str | None  # Glance-style endpoint, when the http family is under test
    cri_address: str | None  # gRPC channel address, when the cri family is under test
    families: tuple[str, ...]  # "glance" and/or "cri"
    profiles: dict[str, str]  # family -> profile name
    report_dir: Path
    timeout: float
    budget: float
    token: str | None
    other_token: str | None  # a second project's X-Auth-Token (another project's private image)
    verify: bool | str  # requests' `verify`: True, False or a CA bundle path
    image_ids: tuple[str, ...]
    cri_version: str
    reference_faults: tuple[str, ...]
    reference_load: str | None  # the embedded reference's load behaviour (busy, not faulty)
    waivers: Path | None
    baseline: Path | None
    allow_writes: bool
    ak: str | None  # with `sk`: every request is signed (SDK-HMAC-SHA256)
    sk: str | None
    security_token: str | None  # of temporary AK/SK credentials
    keystone: KeystoneSettings | None  # OpenStack credentials; without --target, the catalogue names the target
    basic_auth: tuple[str, str] | None  # user and password the --target URL carried (not in `target`)
    max_images: int  # images judged per run (per CRI version)
    max_pages: int  # pages one v1.1 detail walk may follow
    max_references: int  # repo tags, and repo digests, judged per CRI image
    max_listed: int  # images of one listing answer read (a ListImages answer, a v1.1 detail page)
    max_json_values: int  # JSON values one response body may hold and be parsed
    retries: int  # times a shed GET or HEAD (503, 429) is sent again
    retry_wait: float  # the longest wait before one retry
    concurrency: int  # independent requests in flight at once per target
    rate: float  # requests per second at most per target (0: no cap)
    registry: str | None  # CRI write mode: the registry HOST:PORT to push to; None starts one for the run
    record: bool  # write record.intoto.json after the three reports
    sign_key: Path | None  # sign the record with this key (implies `record`)

    def __repr__(self) -> str:
        # never the token, nor user info or a query in the target's address: a repr can end up in any output
        shown = " + ".join(shown_address(target) for target in self.targets.values())
        where = shown or ("keystone catalogue" if self.keystone else "embedded")
        profiles = ", ".join(f"{family}: {name}" for family, name in self.profiles.items())
        faults = f", faults {', '.join(self.reference_faults)}" if self.reference_faults else ""
        token = "set" if self.token else "keystone" if self.keystone else "none"
        return (f"TargetConfig({where}; {profiles}; token {token}"
                f"{', AK/SK-signed' if self.ak else ''}"
                f"{', writes allowed' if self.allow_writes else ''}{faults})")

    @property
    def target(self) -> str | None:
        """The endpoints under test as given, one per family joined by ' + '; None for the embedded reference."""
        return " + ".join(self.targets.values()) or None

    @property
    def embedded(self) -> bool:
        """Whether the run certifies the embedded reference targets."""
        return not self.targets and self.keystone is None

    @property
    def shown_target(self) -> str:
        """What the run certifies, in words for the reports."""
        if self.target:
            return self.target
        if self.keystone:
            return f"the image endpoint in the service catalogue ({self.keystone.source})"
        return "embedded reference targets"

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in any output."""
        keystone = self.keystone.secrets() if self.keystone else ()
        user, password = self.basic_auth or ("", "")
        basic = (password, f"{user}:{password}") if password else ()
        tokens = (self.token, self.other_token, self.ak, self.sk, self.security_token)
        return tuple(s for s in (*tokens, *keystone, *basic) if s)

    def cannot_judge(self, requirement: catalog.Requirement) -> str | None:
        """Why this run cannot judge `requirement` at all, or None when it can."""
        if catalog.Need.CREDENTIALS in requirement.requires and not (self.token or self.ak or self.keystone):
            return "no credentials configured (--token)"
        if catalog.Need.WRITES in requirement.requires and not self.allow_writes:
            return "write mode is off (--allow-writes)"
        if catalog.Need.OTHER_PROJECT in requirement.requires and not self.other_token:
            return "no second project's token configured (--other-token)"
        return None

    def opted_out(self, requirement: catalog.Requirement) -> bool:
        """Whether the run's owner left `requirement` out by not opting into something it needs (--allow-writes,
        --other-token): then not judging it does not keep the verdict from pass. One who opted into all it needs
        and still got it not judged did not."""
        return catalog.opted_out(requirement, allow_writes=self.allow_writes, other_project=bool(self.other_token))

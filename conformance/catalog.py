"""The requirement catalogue: requirements and profiles, loaded from `schemas/`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import yaml

from conformance import FAMILY_OF_OPERATION, OPERATIONS, SCHEMAS_DIR
from conformance._compat import StrEnum
from conformance.short_repr import ShortRepr

ID_PATTERN = re.compile(r"^(GLANCE|CRI)-[A-Z0-9]+(-[A-Z0-9]+)+$")


class Tier(StrEnum):
    """How much a requirement weighs in the verdict."""

    REQUIRED = "required"  # must pass (or be waived) for the verdict to be pass
    ADVISORY = "advisory"  # reported as a warning when not met; never fails the run
    DEPRECATED = "deprecated"  # must pass when the target offers the operation; not offered is fine


class Need(StrEnum):
    """What a run must have for a requirement to be judged at all."""

    CREDENTIALS = "credentials"  # a token the target accepts: only then does a request without one mean anything
    WRITES = "writes"  # --allow-writes: judged only on what the run itself writes to the target (CRI pull, remove)
    OTHER_PROJECT = "other-project"  # --other-token: a second project's token, asking for what the run's project wrote


# Needs a run's owner opts into: a run without one certifies the rest, and lists the requirements that need it as
# not judged without their keeping its verdict from pass (writing to a target is its owner's choice, as the profile
# is; so is holding a second project on it). A need the run merely lacks (credentials) makes a whole run incomplete.
OPT_IN_NEEDS = frozenset({Need.WRITES, Need.OTHER_PROJECT})


def opted_out(requirement: Requirement, *, allow_writes: bool, other_project: bool) -> bool:
    """Whether `requirement` needs something its run's owner did not opt into (writes, a second project)."""
    opted_in = {Need.WRITES: allow_writes, Need.OTHER_PROJECT: other_project}
    return any(not opted_in[need] for need in requirement.requires & OPT_IN_NEEDS)


class CatalogError(Exception):
    """The catalogue files under schemas/ are inconsistent."""


@dataclass(frozen=True)
class Requirement:
    """One documented requirement: what must hold, where it comes from, how much it weighs."""

    id: str
    operation: str
    tier: Tier
    source: str
    text: str
    profiles: tuple[str, ...] = ()  # empty: every profile of the operation's family
    tiers: tuple[tuple[str, Tier], ...] = ()  # (profile, tier) where a profile weighs it differently
    base_tier: Tier | None = None  # set on the copy `under` makes when a profile changed the tier
    requires: frozenset[Need] = frozenset()  # a run that lacks one of these lists the requirement as not judged

    @property
    def family(self) -> str:
        """`glance` or `cri`."""
        return FAMILY_OF_OPERATION[self.operation]

    @property
    def catalogue_tier(self) -> Tier:
        """The tier the catalogue gives before any profile weighs in."""
        return self.base_tier or self.tier

    def tier_under(self, profile: Profile) -> Tier:
        """The tier this requirement has when `profile` certifies the target."""
        return dict(self.tiers).get(profile.name, self.catalogue_tier)

    def under(self, profile: Profile) -> Requirement:
        """This requirement as `profile` weighs it: `tier` is the effective tier, `base_tier` the catalogue's."""
        tier = self.tier_under(profile)
        if tier == self.tier:
            return self
        return replace(self, tier=tier, base_tier=self.catalogue_tier)

    @property
    def opt_in(self) -> bool:
        """Whether judging this requirement needs something the run's owner opts into (--allow-writes)."""
        return bool(self.requires & OPT_IN_NEEDS)

    def applies_to(self, profile: Profile) -> bool:
        """Whether this requirement is certified under `profile`."""
        if profile.family != self.family:
            return False
        return not self.profiles or profile.name in self.profiles


@dataclass(frozen=True)
class Profile(ShortRepr):
    """A reading of the documents: which schemas and requirements certify a target."""

    name: str
    family: str
    description: str
    schemas: dict[str, str] = field(default_factory=dict)  # schema role -> file under schemas/
    # whether behaviour only upstream documents (not the vendor's) is part of what this profile certifies
    upstream_behaviour: bool = True

    def __repr__(self) -> str:
        return f"Profile({self.name!r}, {self.family})"


def _load_yaml(path: Path) -> object:
    try:
        # libyaml's loader, where PyYAML has it, reads the catalogue several times faster at every start
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from exc


@cache
def requirements(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Requirement]:
    """Every requirement of every operation, by id, in catalogue order."""
    found: dict[str, Requirement] = {}
    order = {operation: index for index, operation in enumerate(OPERATIONS)}
    paths = sorted((schemas_dir / "requirements").glob("*.yaml"), key=lambda p: (order.get(p.stem, len(order)), p.name))
    for path in paths:
        doc = _load_yaml(path)
        if not isinstance(doc, dict) or doc.get("operation") not in FAMILY_OF_OPERATION:
            raise CatalogError(f"{path.name}: needs a known top-level 'operation'")
        for entry in doc.get("requirements") or []:
            try:
                req = Requirement(
                    id=entry["id"],
                    operation=doc["operation"],
                    tier=Tier(entry["tier"]),
                    source=entry["source"],
                    text=entry["text"],
                    profiles=tuple(entry.get("profiles") or ()),
                    tiers=_tier_overrides(path.name, entry),
                    requires=_needs(path, entry),
                )
            except (KeyError, TypeError) as exc:
                raise CatalogError(f"{path.name}: requirement {entry!r} lacks {exc}") from exc
            except ValueError:
                raise CatalogError(
                    f"{path.name}: requirement {entry.get('id')!r} has tier {entry.get('tier')!r}; "
                    f"use one of {', '.join(Tier)}"
                ) from None
            if req.id in found:
                raise CatalogError(f"{path.name}: duplicate requirement id {req.id!r}")
            found[req.id] = req
    _check_profile_names(found, profiles(schemas_dir))
    return found


def _tier_overrides(file_name: str, entry: Mapping[str, object]) -> tuple[tuple[str, Tier], ...]:
    """The `tiers: {profile: tier}` mapping of one requirement entry, validated as far as the entry alone allows."""
    raw = entry.get("tiers") or {}
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{file_name}: requirement {entry.get('id')!r} has tiers {raw!r}; use {{profile: tier}}")
    try:
        return tuple(sorted((str(name), Tier(tier)) for name, tier in raw.items()))
    except ValueError:
        raise CatalogError(
            f"{file_name}: requirement {entry.get('id')!r} has tiers {dict(raw)!r}; use one of {', '.join(Tier)}"
        ) from None


def _check_profile_names(found: Mapping[str, Requirement], known: Mapping[str, Profile]) -> None:
    """Every profile a requirement names (in `profiles` or `tiers`) exists and is of the requirement's family."""
    for req in found.values():
        for name in (*req.profiles, *(name for name, _ in req.tiers)):
            profile = known.get(name)
            if profile is None:
                raise CatalogError(f"requirement {req.id!r} names unknown profile {name!r}; known: {', '.join(known)}")
            if profile.family != req.family:
                raise CatalogError(f"requirement {req.id!r} names profile {name!r} of family {profile.family!r}")
            if name in dict(req.tiers) and req.profiles and name not in req.profiles:
                raise CatalogError(f"requirement {req.id!r} sets a tier under {name!r}, which does not certify it")


def _needs(path: Path, entry: dict[str, object]) -> frozenset[Need]:
    """The `requires` list of a catalogue entry; CatalogError on a need the suite does not know."""
    raw = entry.get("requires") or []
    if not isinstance(raw, list) or any(name not in {n.value for n in Need} for name in raw):
        raise CatalogError(f"{path.name}: requirement {entry.get('id')!r} requires {raw!r}; use a list of "
                           f"{', '.join(Need)}")
    return frozenset(Need(name) for name in raw)


@cache
def profiles(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Profile]:
    """Every profile, by name."""
    found: dict[str, Profile] = {}
    for path in sorted((schemas_dir / "profiles").glob("*.yaml")):
        doc = _load_yaml(path)
        if not isinstance(doc, dict):
            raise CatalogError(f"{path.name}: not a mapping")
        upstream = doc.get("upstream_behaviour", True)
        if not isinstance(upstream, bool):
            raise CatalogError(f"{path.name}: upstream_behaviour must be true or false, not {upstream!r}")
        try:
            found[path.stem] = Profile(
                name=path.stem,
                family=doc["family"],
                description=doc["description"],
                schemas=dict(doc.get("schemas") or {}),
                upstream_behaviour=upstream,
            )
        except KeyError as exc:
            raise CatalogError(f"{path.name}: lacks {exc}") from exc
    return found


def requirements_for(profile: Profile) -> list[Requirement]:
    """The requirements certified under `profile`, in catalogue order, each with the tier `profile` gives it."""
    return [req.under(profile) for req in requirements().values() if req.applies_to(profile)]

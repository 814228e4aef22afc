"""Hypothesis profiles: reproducible by default, thorough on demand, seed always recorded."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

import pytest

DEFAULT_PROFILE = "conformance"


@dataclass(frozen=True)
class HypothesisInfo:
    """The hypothesis profile and seed of a run, recorded so that a certifier can repeat it."""

    profile: str
    derandomized: bool
    seed: str | None  # None when derandomized: the examples are the same every run

    def to_dict(self) -> dict[str, Any]:
        """As results.json holds it."""
        return asdict(self)

    def repeat(self) -> str:
        """One line for a failing property test: how to draw the same examples again."""
        if self.derandomized:
            return f"profile {self.profile} is derandomized: every run draws the same examples"
        return (f"profile {self.profile}, seed {self.seed}: repeat with "
                f"--hypothesis-profile={self.profile} --hypothesis-seed={self.seed}")


def register_profiles() -> None:
    """Register the suite's hypothesis profiles (idempotent); only a conformance run imports hypothesis."""
    from hypothesis import HealthCheck, settings

    common: dict[str, Any] = {
        "deadline": None,  # a target's latency is not a property of the code under test
        "database": None,  # a certification run must not depend on examples saved by earlier runs
        "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                  HealthCheck.filter_too_much],
        "print_blob": True,
    }
    settings.register_profile(DEFAULT_PROFILE, derandomize=True, max_examples=25, **common)
    settings.register_profile("thorough", derandomize=False, max_examples=400, **common)


def choose(config: pytest.Config) -> HypothesisInfo:
    """Pick the profile and seed before hypothesis' own plugin reads them; returns what to record."""
    from hypothesis import settings
    from hypothesis.errors import InvalidArgument

    if not getattr(config.option, "hypothesis_profile", None):
        config.option.hypothesis_profile = DEFAULT_PROFILE
    profile = config.option.hypothesis_profile
    try:
        derandomized = bool(settings.get_profile(profile).derandomize)
    except InvalidArgument:
        raise pytest.UsageError(
            f"--hypothesis-profile {profile!r}: unknown profile; use {DEFAULT_PROFILE!r} or 'thorough'"
        ) from None
    seed = getattr(config.option, "hypothesis_seed", None)
    if not derandomized and seed is None:
        seed = str(random.SystemRandom().randrange(2**32))
        config.option.hypothesis_seed = seed
    return HypothesisInfo(profile=profile, derandomized=derandomized, seed=None if derandomized else seed)

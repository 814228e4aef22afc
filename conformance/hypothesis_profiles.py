"""Hypothesis profiles: reproducible by default, thorough on demand, seed always recorded."""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path
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


def storage_folder(environ: dict[str, str] | None = None) -> Path:
    """Where hypothesis keeps what it caches (its unicode tables, the constants it found in the tests): the user's
    cache folder, never the working folder; HYPOTHESIS_STORAGE_DIRECTORY, when set, is hypothesis' own choice."""
    env = os.environ if environ is None else environ
    if env.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return Path(env["HYPOTHESIS_STORAGE_DIRECTORY"])
    cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return cache / "image-api-conformance" / "hypothesis"


def keep_storage_out_of_the_working_folder() -> None:
    """Point hypothesis' storage at `storage_folder()` (it would write .hypothesis/ in the working folder)."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(storage_folder())


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

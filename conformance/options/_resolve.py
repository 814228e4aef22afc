"""Resolving the option table into a TargetConfig: command line, then environment, then ini, then default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from conformance import catalog
from conformance.options import _credentials as credentials
from conformance.options._config import TargetConfig
from conformance.options._table import DEFAULT_PROFILES, OPTIONS
from conformance.options._values import ConfigError, parse_target
from conformance.targets.auth import generated_token, split_userinfo


def from_pytest(config: pytest.Config) -> TargetConfig:
    """The TargetConfig of a pytest run: its options, the process environment and the ini file."""
    options = {option.dest: config.getoption(option.dest) for option in OPTIONS}
    ini = {option.dest: str(config.getini(option.ini_name)) for option in OPTIONS if option.ini}
    return build_config(options, ini, os.environ, Path(config.invocation_params.dir))


def build_config(
    options: Mapping[str, Any], ini: Mapping[str, str], env: Mapping[str, str], rootdir: Path
) -> TargetConfig:
    """Validate options > environment > ini into a TargetConfig, or raise ConfigError with one line."""
    values = {option.dest: option.value(options, ini, env, rootdir) for option in OPTIONS}
    # user:password@ in an http(s) URL: sent as basic auth to that origin only, never shown (`targets` drops it)
    targets, basic_auth = _by_family(values["target"])
    keystone = credentials.keystone_settings(values, env)
    addresses = {family: parse_target(target)[1] for family, target in targets.items()}
    families = tuple(family for family in DEFAULT_PROFILES if family in targets)
    if not families:  # with Keystone credentials the catalogue names the image endpoint; else the embedded ones
        families = ("glance",) if keystone else tuple(DEFAULT_PROFILES)
    if values["reference_fault"] and (targets or keystone):
        raise ConfigError("--reference-fault only applies to the embedded reference target; drop --target")
    credentials.check_signing(values["ak"], values["sk"], values["security_token"])
    verify: bool | str = values["ca_bundle"] or True
    if values["insecure"]:
        verify = False
    return TargetConfig(
        targets=targets,
        glance_url=addresses.get("glance"),
        cri_address=addresses.get("cri"),
        families=families,
        profiles=_profiles(values["profile"], families),
        report_dir=values["report_dir"],
        timeout=values["timeout"],
        budget=values["budget"],
        # The embedded reference checks credentials too, so that the 401 requirements are judged by default.
        token=values["token"] or (None if targets or keystone else generated_token()),
        verify=verify,
        image_ids=values["image_id"],
        cri_version=values["cri_version"],
        reference_faults=values["reference_fault"],
        waivers=values["waivers"],
        baseline=values["baseline"],
        allow_writes=values["allow_writes"],
        ak=values["ak"],
        sk=values["sk"],
        security_token=values["security_token"],
        max_images=values["max_images"],
        max_pages=values["max_pages"],
        keystone=keystone,
        basic_auth=basic_auth,
        max_references=values["max_references"],
        max_listed=values["max_listed"],
        max_json_values=values["max_json_values"],
        registry=values["registry"],
        record=values["record"] or values["sign_key"] is not None,
        sign_key=values["sign_key"],
    )


def _by_family(given: tuple[str, ...]) -> tuple[dict[str, str], tuple[str, str] | None]:
    """family -> target as given without user info, in the order of DEFAULT_PROFILES, and the basic auth it carried.

    ConfigError when a family is given twice.
    """
    chosen: dict[str, str] = {}
    basic_auth = None
    for raw in given:
        target, userinfo = split_userinfo(raw)
        family, _ = parse_target(target)
        if family in chosen:
            raise ConfigError(
                f"--target {target!r}: a {family} target is already given ({chosen[family]!r}); give one per family"
            )
        chosen[family] = target
        basic_auth = basic_auth or userinfo
    return {family: chosen[family] for family in DEFAULT_PROFILES if family in chosen}, basic_auth


def _profiles(names: tuple[str, ...], families: tuple[str, ...]) -> dict[str, str]:
    """family -> profile: each of `names` (already known to exist) for its family, else the family's default."""
    given: dict[str, str] = {}
    for name in names:
        family = catalog.profiles()[name].family
        if family not in families:
            raise ConfigError(f"--profile {name!r} is for {family} targets, but the target is {families[0]}")
        if family in given:
            raise ConfigError(f"--profile {name!r}: a {family} profile is already given ({given[family]!r}); "
                              "give one per family")
        given[family] = name
    return {family: given.get(family, DEFAULT_PROFILES[family]) for family in families}

"""TargetConfig: command-line options, environment and ini turned into one validated object."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance import catalog

DEFAULT_PROFILES = {"http": "ims", "cri": "cri"}
CRI_VERSIONS = ("auto", "v1", "v1alpha2")


class ConfigError(Exception):
    """A bad option value; its message is the one line the user sees."""


@dataclass(frozen=True)
class TargetConfig:
    """Everything a run needs to know about where it points and how it behaves."""

    target: str | None  # as given; None means the embedded reference targets
    http_url: str | None  # Glance-style endpoint, when the http family is under test
    cri_address: str | None  # gRPC channel address, when the cri family is under test
    families: tuple[str, ...]  # "http" and/or "cri"
    profiles: dict[str, str]  # family -> profile name
    report_dir: Path
    timeout: float
    budget: float
    token: str | None
    verify: bool | str  # requests' `verify`: True, False or a CA bundle path
    image_ids: tuple[str, ...]
    cri_version: str
    reference_faults: tuple[str, ...]
    waivers: Path | None
    baseline: Path | None
    allow_writes: bool = False

    @property
    def embedded(self) -> bool:
        """Whether the run certifies the embedded reference targets."""
        return self.target is None

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in any output."""
        return tuple(s for s in (self.token,) if s)


def parse_target(target: str) -> tuple[str, str]:
    """(family, address) for a --target value; ConfigError when the scheme is not one we speak."""
    split = urlsplit(target)
    scheme = split.scheme.lower()
    if scheme in ("http", "https"):
        if not split.hostname:
            raise ConfigError(f"--target {target!r}: an http(s) URL needs a host, e.g. http://127.0.0.1:9292")
        try:
            split.port
        except ValueError:
            raise ConfigError(f"--target {target!r}: the port is not a number from 0 to 65535") from None
        return "http", target.rstrip("/")
    if scheme == "unix":
        path = split.path if split.netloc == "" else None
        if not path or not path.startswith("/"):
            raise ConfigError(f"--target {target!r}: a unix socket needs an absolute path, e.g. unix:///run/containerd/containerd.sock")
        return "cri", f"unix://{path}"
    if scheme == "grpc":
        if not split.hostname or split.port is None:
            raise ConfigError(f"--target {target!r}: a gRPC target needs host and port, e.g. grpc://127.0.0.1:10010")
        return "cri", f"{split.hostname}:{split.port}"
    raise ConfigError(
        f"--target {target!r}: unknown scheme; use http(s)://HOST:PORT for Glance-style APIs, "
        "unix:///PATH or grpc://HOST:PORT for CRI"
    )


def build_config(options: dict[str, Any], ini: dict[str, str], env: os._Environ[str] | dict[str, str], rootdir: Path) -> TargetConfig:
    """Validate options > environment > ini into a TargetConfig, or raise ConfigError with one line."""
    target = options.get("target") or env.get("CONFORMANCE_TARGET") or env.get("CONTAINER_RUNTIME_ENDPOINT") or ini.get("target") or None
    if target:
        family, address = parse_target(target)
        families: tuple[str, ...] = (family,)
        http_url = address if family == "http" else None
        cri_address = address if family == "cri" else None
    else:
        families, http_url, cri_address = ("http", "cri"), None, None

    profiles = _profiles(options.get("profile") or env.get("CONFORMANCE_PROFILE") or ini.get("profile") or None, families)
    timeout = _positive_number("--timeout", options.get("timeout") or ini.get("timeout") or "10")
    budget = _positive_number("--budget", options.get("budget") or ini.get("budget") or "900")

    ca_bundle = options.get("ca_bundle")
    verify: bool | str = True
    if ca_bundle:
        if not Path(ca_bundle).is_file():
            raise ConfigError(f"--ca-bundle {ca_bundle!r}: no such file")
        verify = str(Path(ca_bundle).resolve())
    if options.get("insecure"):
        verify = False

    cri_version = options.get("cri_version") or "auto"
    if cri_version not in CRI_VERSIONS:
        raise ConfigError(f"--cri-version {cri_version!r}: choose one of {', '.join(CRI_VERSIONS)}")

    faults = tuple(options.get("reference_fault") or ())
    if faults and target:
        raise ConfigError("--reference-fault only applies to the embedded reference target; drop --target")

    return TargetConfig(
        target=target,
        http_url=http_url,
        cri_address=cri_address,
        families=families,
        profiles=profiles,
        report_dir=_report_dir(options.get("report_dir") or ini.get("report_dir") or "reports", rootdir),
        timeout=timeout,
        budget=budget,
        token=options.get("token") or env.get("OS_AUTH_TOKEN") or None,
        verify=verify,
        image_ids=tuple(options.get("image_id") or ()),
        cri_version=cri_version,
        reference_faults=faults,
        waivers=_existing_file("--waivers", options.get("waivers")),
        baseline=_existing_file("--baseline", options.get("baseline")),
        allow_writes=bool(options.get("allow_writes")),
    )


def _profiles(name: str | None, families: tuple[str, ...]) -> dict[str, str]:
    chosen = dict(DEFAULT_PROFILES)
    if name is None:
        return {family: chosen[family] for family in families}
    known = catalog.profiles()
    if name not in known:
        raise ConfigError(f"--profile {name!r}: unknown profile; choose one of {', '.join(sorted(known))}")
    family = known[name].family
    if family not in families:
        raise ConfigError(f"--profile {name!r} is for {family} targets, but the target is {families[0]}")
    chosen[family] = name
    return {family: chosen[family] for family in families}


def _positive_number(flag: str, raw: object) -> float:
    try:
        value = float(str(raw))
    except ValueError:
        raise ConfigError(f"{flag} {raw!r}: not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{flag} {raw!r}: must be a positive number of seconds")
    return value


def _report_dir(raw: str, rootdir: Path) -> Path:
    path = Path(raw)
    path = path if path.is_absolute() else rootdir / path
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--report-dir {raw!r}: exists and is not a folder")
    return path


def _existing_file(flag: str, raw: str | None) -> Path | None:
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"{flag} {raw!r}: no such file")
    return path

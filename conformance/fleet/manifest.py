"""The fleet manifest (YAML): endpoints with their profile, credentials by environment variable, waivers, baseline.

```yaml
sign_key: keys/fleet-signing        # optional: every record is signed with it
endpoints:
  - name: region-a                   # the endpoint's report folder is OUT/region-a
    target: https://ims.region-a.example.com
    profile: ims                     # or a list, one per family
    credentials: {token: OS_AUTH_TOKEN_REGION_A}   # option -> the environment variable holding it, never the secret
    waivers: waivers/region-a.yaml   # paths are relative to the manifest
    baseline: baselines/region-a.json
    options: ["--budget=600"]        # other options of the suite, never a credential
  - name: reference
    target: embedded                 # the embedded reference targets
    fault: v2-show-min-ram-string    # optional, embedded only: start them with this fault
```
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance.options import OPTIONS

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
EMBEDDED = "embedded"
# The credentials an endpoint may name, each passed to its run in the environment variable the suite reads.
CREDENTIALS = {option.dest: option.env[0] for option in OPTIONS
               if option.dest in ("token", "ak", "sk", "security_token", "os_cloud")}
SECRET_FLAGS = tuple(option.flag for option in OPTIONS if option.dest in CREDENTIALS)
KEYS = {"name", "target", "profile", "fault", "credentials", "waivers", "baseline", "options"}


class ManifestError(Exception):
    """A manifest that cannot be used; its message is the one line shown."""


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the fleet and how to certify it."""

    name: str
    target: str  # a --target value, or "embedded"
    profiles: tuple[str, ...] = ()
    fault: str | None = None
    credentials: tuple[tuple[str, str], ...] = ()  # (option, environment variable holding its value)
    waivers: Path | None = None
    baseline: Path | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    """The endpoints of a fleet, in manifest order, and the digest of the manifest's bytes."""

    endpoints: tuple[Endpoint, ...]
    sha256: str
    sign_key: Path | None = None

    def shard(self, index: int, count: int) -> tuple[Endpoint, ...]:
        """The endpoints of shard `index` of `count` (0-based): every count-th one, starting at index."""
        return self.endpoints[index::count]


def load(path: Path) -> Manifest:
    """The manifest at `path`; ManifestError with one line (file, and line where YAML knows it) when bad."""
    try:
        data = path.read_bytes()
        document = yaml.safe_load(data.decode("utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ManifestError(f"{path}{where}: not YAML ({getattr(exc, 'problem', None) or type(exc).__name__})") \
            from None
    if not isinstance(document, dict) or not isinstance(document.get("endpoints"), list) or not document["endpoints"]:
        raise ManifestError(f"{path}: needs a top-level 'endpoints:' list with at least one endpoint")
    unknown = set(document) - {"endpoints", "sign_key"}
    if unknown:
        raise ManifestError(f"{path}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}")
    base = path.parent
    endpoints = tuple(_endpoint(f"{path}: endpoint {n}", entry, base)
                      for n, entry in enumerate(document["endpoints"], start=1))
    names = [e.name for e in endpoints]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ManifestError(f"{path}: endpoint name {repeated[0]!r} is used more than once")
    sign_key = _file(f"{path}: sign_key", document.get("sign_key"), base)
    return Manifest(endpoints, hashlib.sha256(data).hexdigest(), sign_key)


def _endpoint(where: str, entry: Any, base: Path) -> Endpoint:
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}: must be a mapping with at least name and target")
    unknown = set(entry) - KEYS
    if unknown:
        raise ManifestError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                            f"use {', '.join(sorted(KEYS))}")
    name, target = entry.get("name"), entry.get("target")
    if not isinstance(name, str) or not NAME.match(name):
        raise ManifestError(f"{where}: name {name!r} must be letters, digits, '.', '_' or '-' (it names a folder)")
    where = f"{where} ({name})"
    if not isinstance(target, str) or not target:
        raise ManifestError(f"{where}: needs a target (a --target value, or '{EMBEDDED}')")
    fault = entry.get("fault")
    if fault is not None and (target != EMBEDDED or not isinstance(fault, str)):
        raise ManifestError(f"{where}: a fault (one name) applies only to target '{EMBEDDED}'")
    profiles = entry.get("profile") or ()
    profiles = (profiles,) if isinstance(profiles, str) else profiles
    if not isinstance(profiles, (list, tuple)) or not all(isinstance(p, str) for p in profiles):
        raise ManifestError(f"{where}: profile must be a name or a list of names")
    return Endpoint(name=name, target=target, profiles=tuple(profiles), fault=fault,
                    credentials=_credentials(where, entry.get("credentials")),
                    waivers=_file(f"{where}: waivers", entry.get("waivers"), base),
                    baseline=_file(f"{where}: baseline", entry.get("baseline"), base),
                    options=_options(where, entry.get("options")))


def _credentials(where: str, given: Any) -> tuple[tuple[str, str], ...]:
    if given is None:
        return ()
    if not isinstance(given, dict):
        raise ManifestError(f"{where}: credentials must map {', '.join(CREDENTIALS)} to environment variable names")
    for option, variable in given.items():
        if option not in CREDENTIALS:
            raise ManifestError(f"{where}: credentials: unknown {option!r}; use {', '.join(CREDENTIALS)}")
        if not isinstance(variable, str) or not ENV_NAME.match(variable):
            # a value that is no variable name may be the secret itself: it is not repeated here
            raise ManifestError(f"{where}: credentials: {option} must name an environment variable (e.g. "
                                f"{CREDENTIALS[option]}), never hold the secret")
    return tuple((str(option), str(variable)) for option, variable in given.items())


def _options(where: str, given: Any) -> tuple[str, ...]:
    if given is None:
        return ()
    if not isinstance(given, list) or not all(isinstance(o, str) for o in given):
        raise ManifestError(f"{where}: options must be a list of strings such as '--budget=600'")
    for option in given:
        flag = option.split("=", 1)[0]
        if flag in SECRET_FLAGS:
            raise ManifestError(f"{where}: options: {flag} would put a secret in the manifest; use credentials")
        if flag in ("--target", "--profile", "--report-dir", "--reference-fault", "--waivers", "--baseline",
                    "--record", "--sign-key"):
            raise ManifestError(f"{where}: options: {flag} is set by the manifest's own keys")
    return tuple(given)


def _file(where: str, given: Any, base: Path) -> Path | None:
    if given is None:
        return None
    path = base / str(given)
    if not path.is_file():
        raise ManifestError(f"{where}: no such file {str(path)!r}")
    return path.resolve()

"""What an option's value may be: the parsers that turn a raw string into a value, ConfigError when it is bad."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance import catalog
from conformance.targets.auth import split_userinfo


class ConfigError(Exception):
    """A bad option value; its message is the one line the user sees."""


# (flag, raw value as given, folder pytest was invoked from) -> the option's value; ConfigError when bad.
Parser = Callable[[str, str, Path], Any]


def parse_target(target: str) -> tuple[str, str]:
    """(family, address) for a --target value; ConfigError when the scheme is not one we speak."""
    split = urlsplit(target)
    scheme = split.scheme.lower()
    target = split_userinfo(target)[0]  # messages never show a password the URL carries
    if scheme in ("http", "https"):
        if not split.hostname:
            raise ConfigError(f"--target {target!r}: an http(s) URL needs a host, e.g. http://127.0.0.1:9292")
        try:
            split.port  # noqa: B018 -- reading the port validates it
        except ValueError:
            raise ConfigError(f"--target {target!r}: the port is not a number from 0 to 65535") from None
        return "glance", target.rstrip("/")
    if scheme == "unix":
        path = split.path if split.netloc == "" else None
        if not path or not path.startswith("/"):
            raise ConfigError(
                f"--target {target!r}: a unix socket needs an absolute path, e.g. unix:///run/containerd/containerd.sock"
            )
        return "cri", f"unix://{path}"
    if scheme == "grpc":
        if not split.hostname or split.port is None:
            raise ConfigError(f"--target {target!r}: a gRPC target needs host and port, e.g. grpc://127.0.0.1:10010")
        return "cri", f"{split.hostname}:{split.port}"
    raise ConfigError(
        f"--target {target!r}: unknown scheme; use http(s)://HOST:PORT for Glance-style APIs, "
        "unix:///PATH or grpc://HOST:PORT for CRI"
    )


def target(flag: str, raw: str, rootdir: Path) -> str:
    """A --target value as given, once its scheme and address are known to be ones we speak."""
    parse_target(raw)
    return raw


def known_profile(flag: str, raw: str, rootdir: Path) -> str:
    """The name of a profile of the catalogue."""
    known = catalog.profiles()
    if raw not in known:
        raise ConfigError(f"{flag} {raw!r}: unknown profile; choose one of {', '.join(sorted(known))}")
    return raw


def positive_number(flag: str, raw: str, rootdir: Path) -> float:
    """A finite number of seconds above zero."""
    try:
        value = float(str(raw))
    except ValueError:
        raise ConfigError(f"{flag} {raw!r}: not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{flag} {raw!r}: must be a positive number of seconds")
    return value


def positive_count(flag: str, raw: str, rootdir: Path) -> int:
    """A whole number of at least 1."""
    try:
        value = int(str(raw))
    except ValueError:
        raise ConfigError(f"{flag} {raw!r}: not a whole number") from None
    if value <= 0:
        raise ConfigError(f"{flag} {raw!r}: must be at least 1")
    return value


def folder(flag: str, raw: str, rootdir: Path) -> Path:
    """A folder, relative to where pytest was invoked; it need not exist yet, but must not be a file."""
    path = Path(raw)
    path = path if path.is_absolute() else rootdir / path
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {raw!r}: exists and is not a folder")
    return path


def existing_file(flag: str, raw: str, rootdir: Path) -> Path:
    """A file that exists."""
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"{flag} {raw!r}: no such file")
    return path


def ca_bundle(flag: str, raw: str, rootdir: Path) -> str:
    """The absolute path of an existing CA bundle file."""
    return str(existing_file(flag, raw, rootdir).resolve())


def reference_fault(flag: str, raw: str, rootdir: Path) -> str:
    """The name of a fault the embedded reference target can be started with."""
    from conformance.reference.faults import ALL_FAULTS

    if raw not in ALL_FAULTS:
        raise ConfigError(f"{flag} {raw!r}: unknown fault; `python -m conformance.reference --list-faults` lists them")
    return raw


def registry(flag: str, raw: str, rootdir: Path) -> str:
    """A registry as HOST:PORT (CRI write mode)."""
    from conformance.targets.registry import split_address

    try:
        split_address(raw)
    except ValueError:
        raise ConfigError(f"{flag} {raw!r}: give the registry as HOST:PORT, e.g. 127.0.0.1:5000") from None
    return raw

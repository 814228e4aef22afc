"""Where the suite that ran came from, and what it ran on: the configuration a record carries besides results.json."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from conformance import REPO_ROOT

DISTRIBUTION = "image-api-conformance"


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def suite_source() -> dict[str, Any]:
    """A resource descriptor of the suite's code: its git commit and whether the checkout had changes,
    or, installed from a wheel, the wheel's sha256 (else the sha256 of the installed files' RECORD)."""
    descriptor: dict[str, Any] = {"name": DISTRIBUTION, "annotations": {"version": _version()}}
    if (REPO_ROOT / ".git").exists():
        commit = _git("rev-parse", "HEAD")
        if commit:
            changes = _git("status", "--porcelain", "--untracked-files=no")
            descriptor["digest"] = {"gitCommit": commit}
            descriptor["annotations"]["dirty"] = changes is None or bool(changes)
            return descriptor
    digest = _installed_digest()
    if digest:
        descriptor["digest"] = {"sha256": digest[1]}
        descriptor["annotations"]["digest_of"] = digest[0]
    return descriptor


def runtime() -> dict[str, str]:
    """Versions of Python, pytest and hypothesis the run used."""
    versions = {"python": platform.python_version(), "implementation": platform.python_implementation()}
    for name in ("pytest", "hypothesis"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _version() -> str:
    from conformance import __version__

    return __version__


def _git(*args: str) -> str | None:
    try:
        completed = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=10,
                                   check=True, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip()


def _installed_digest() -> tuple[str, str] | None:
    """('wheel', sha256) when the installer recorded the wheel's hash, else ('installed files', sha256 of RECORD)."""
    try:
        distribution = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    direct_url = distribution.read_text("direct_url.json")
    if direct_url:
        try:
            hashes = json.loads(direct_url).get("archive_info", {}).get("hashes", {})
        except (ValueError, AttributeError):
            hashes = {}
        if isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str):
            return "wheel", hashes["sha256"]
    installed = distribution.read_text("RECORD")
    return ("installed files", hashlib.sha256(installed.encode("utf-8")).hexdigest()) if installed else None

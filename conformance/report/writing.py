"""Where the reports go: a folder checked before the run, and a report that cannot be written said in one line."""

from __future__ import annotations

import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from conformance.options import ConfigError
from conformance.run.state import STATE_KEY, state_of


def check_folder(folder: Path) -> None:
    """ConfigError when `folder` cannot be created or written to: the run would end without its reports."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".conformance-write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"--report-dir={folder}: reports cannot be written there ({exc.strerror or exc})") from None


def failure_line(report: str, error: OSError) -> str:
    """One line saying which report could not be written, and why."""
    return f"{report} could not be written: {error.strerror or error}"


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    """report.html and junit.xml are written here by their plugins: a failure is one line and exit 2, not a crash."""
    try:
        return (yield)
    except OSError as exc:
        line = failure_line(f"a report ({exc.filename or 'report.html or junit.xml'})", exc)
        if STATE_KEY in session.config.stash:
            state_of(session.config).unwritten.append(line)
        else:  # pragma: no cover - the plugin registers this module only with a run state
            session.config.get_terminal_writer().line(f"ERROR: {line}", red=True)
        session.exitstatus = pytest.ExitCode.INTERRUPTED
        return None

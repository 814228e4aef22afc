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


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, None, object]:
    """Before the reports are written: a report path that cannot be written is said now, and its writer dropped,
    so that it cannot keep the other reports from being written."""
    try:
        return (yield)
    finally:
        _drop_unwritable_writers(session.config)


def _drop_unwritable_writers(config: pytest.Config) -> None:
    writers = {
        "report.html": (config.getoption("htmlpath", None), _html_writer(config)),
        "junit.xml": (config.getoption("xmlpath", None), _junit_writer(config)),
    }
    for name, (path, writer) in writers.items():
        if not path or writer is None:
            continue
        problem = _unwritable(Path(path))
        if problem is not None:
            config.pluginmanager.unregister(writer)
            if name == "junit.xml":
                _forget_junit_writer(config)
            if STATE_KEY in config.stash:
                state_of(config).unwritten.append(failure_line(f"{name} ({path})", problem))


def _unwritable(path: Path) -> OSError | None:
    """Why `path` cannot be written, or None (an existing file is left as it is)."""
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # as the writers do: a new folder is no reason to drop one
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        return exc
    if not existed:
        path.unlink(missing_ok=True)
    return None


def _html_writer(config: pytest.Config) -> object | None:
    try:
        from pytest_html.basereport import BaseReport
    except ImportError:  # pragma: no cover - pytest-html is a dependency
        return None
    return next((plugin for plugin in config.pluginmanager.get_plugins() if isinstance(plugin, BaseReport)), None)


def _junit_writer(config: pytest.Config) -> object | None:
    from _pytest.junitxml import xml_key

    return config.stash.get(xml_key, None)


def _forget_junit_writer(config: pytest.Config) -> None:
    """pytest's junitxml unregisters its writer at the end only while it is stashed."""
    from _pytest.junitxml import xml_key

    del config.stash[xml_key]


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    """report.html and junit.xml are written here by their plugins: a failure is one line and exit 2, not a crash."""
    try:
        yield
        _censor_written(session.config)
        return None
    except OSError as exc:
        line = failure_line(f"a report ({exc.filename or 'report.html or junit.xml'})", exc)
        if STATE_KEY in session.config.stash:
            state_of(session.config).unwritten.append(line)
        else:  # pragma: no cover - the plugin registers this module only with a run state
            session.config.get_terminal_writer().line(f"ERROR: {line}", red=True)
        session.exitstatus = pytest.ExitCode.INTERRUPTED
        return None


def _censor_written(config: pytest.Config) -> None:
    """report.html and junit.xml as written, censored whole: whatever path a text took into them, no secret stays."""
    if STATE_KEY not in config.stash:
        return
    censor = state_of(config).log.censor
    for option in ("htmlpath", "xmlpath"):
        path = config.getoption(option, None)
        if not path or not Path(path).is_file():
            continue
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        if censor.leaks(text):
            Path(path).write_text(censor.text(text), encoding="utf-8")

"""The pytest side of the record: written once report.html, junit.xml and results.json are on disk."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from pathlib import Path

import pytest

from conformance.options import ConfigError, TargetConfig
from conformance.record import envelope, keys, statement
from conformance.record.errors import RecordError
from conformance.record.results import load
from conformance.report.results import write_json
from conformance.run.state import STATE_KEY, state_of


def prepare(config: pytest.Config, target: TargetConfig) -> None:
    """Check the key and that the reports land in the report folder, then register the record's writer."""
    for flag, path in (("--html", config.option.htmlpath), ("--junitxml", config.option.xmlpath)):
        if path and Path(path).resolve().parent != target.report_dir.resolve():
            raise ConfigError(f"--record covers the reports of --report-dir; {flag}={path} is elsewhere")
    if target.sign_key is not None:
        try:
            keys.check_key(target.sign_key)
        except RecordError as exc:
            raise ConfigError(str(exc)) from None
    config.pluginmanager.register(_Writer(target), "image_conformance_record")


class _Writer:
    """Writes record.intoto.json after every report writer ran (an inner wrapper of pytest_sessionfinish)."""

    def __init__(self, target: TargetConfig) -> None:
        self.target = target
        self.written: str | None = None

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        """After pytest-html and junitxml wrote their reports (before the terminal summary)."""
        result = yield
        config = session.config
        if STATE_KEY not in config.stash or state_of(config).document is None:
            return result  # nothing was judged: no reports, no record
        state = state_of(config)
        if state.unwritten:
            state.unwritten.append(f"{statement.RECORD_NAME} not written: a report it covers is missing")
        else:
            try:
                target = self.target
                inputs = {"waivers": target.waivers, "baseline": target.baseline}
                self.written = write(target.report_dir, target.sign_key, inputs, state.log.censor.text)
            except (OSError, RecordError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                state.unwritten.append(f"{statement.RECORD_NAME} could not be written: {reason}")
        if state.unwritten:
            session.exitstatus = pytest.ExitCode.INTERRUPTED
        return result

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Say where the record is and who signed it."""
        if self.written:
            terminalreporter.write_line(self.written)


def write(folder: Path, sign_key: Path | None, inputs: dict[str, Path | None],
          censor: Callable[[str], str] = str) -> str:
    """Write record.intoto.json for the reports in `folder` (signed with `sign_key` when given); the line to show.

    `inputs` names the waiver and baseline files the run read; `censor` removes the run's secrets from the text.
    """
    results = load(folder / "results.json")
    made = statement.build(folder, results, inputs)
    # results.json is censored already; this keeps any other path from carrying a secret into the record
    payload = censor(json.dumps(made, indent=2, ensure_ascii=False)).encode("utf-8")
    signatures = []
    if sign_key is not None:
        signatures.append(keys.sign(envelope.pae(envelope.PAYLOAD_TYPE, payload), sign_key))
    write_json(folder / statement.RECORD_NAME, envelope.envelope(payload, signatures))
    signed = f", signed by {signatures[0]['keyid']}" if signatures else ", unsigned"
    return f"record: {folder / statement.RECORD_NAME} ({made['predicate']['result']}{signed})"

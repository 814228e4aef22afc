"""pytest-html hooks: verdict and requirement table on top, requirement ids and exchanges per test."""

from __future__ import annotations

import hashlib
import html
from collections import defaultdict
from collections.abc import Collection
from typing import Any

import pytest

from conformance.checks import not_judged_text
from conformance.run.outcomes import Outcome, Verdict
from conformance.run.state import STATE_KEY, state_of

OUTCOME_COLOURS = {
    Outcome.PASSED: "#2e7d32",
    Outcome.FAILED: "#c62828",
    Outcome.WAIVED: "#ef6c00",
    Outcome.SKIPPED: "#757575",
    Outcome.NOT_OFFERED: "#1565c0",
    Outcome.ERROR: "#6a1b9a",
}
VERDICT_COLOURS = {
    Verdict.PASS: "#2e7d32", Verdict.FAIL: "#c62828", Verdict.INCOMPLETE: "#ef6c00", Verdict.ERROR: "#6a1b9a",
}
WAIVER_SECTIONS = (
    ("applied", "Waivers applied"),
    ("unused", "Waivers that matched nothing"),
    ("expired", "Expired waivers (they fail the run)"),
)
DRIFT_SECTIONS = (
    ("newly_failing", "Newly failing"),
    ("newly_passing", "Newly passing"),
    ("other_changes", "Other changes"),
    ("new", "New requirements"),
    ("removed", "Removed requirements"),
)


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report: Any) -> None:
    """Name the report after what it certifies."""
    report.title = "Image API conformance report"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(
    prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
) -> None:
    """Verdict, target, profile and suite version first, then the requirement table by operation."""
    if STATE_KEY not in session.config.stash:
        return
    state = state_of(session.config)
    document = state.document
    if document is None:
        return
    prefix.extend(_verdict_block(document))
    prefix.extend(_findings_block(document))
    prefix.extend(_requirement_tables(document))
    prefix.extend(_discovery_block(document))


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells: list[str]) -> None:
    """Add a Requirement column."""
    cells.insert(2, '<th class="sortable" data-column-type="requirement">Requirement</th>')


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    """Show the requirement ids a test checks."""
    ids = getattr(report, "conformance_requirements", ())
    cells.insert(2, f'<td class="col-requirement">{html.escape(", ".join(ids))}</td>')


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_html(report: pytest.TestReport, data: list[str]) -> None:
    """A test's expanded view: its problems first, each linked to the exchange it was read from, then its exchanges
    (in full for a failure, one line each and folded for a test that passed or was skipped), then pytest's log."""
    if report.skipped and isinstance(report.longrepr, tuple) and data:
        data[0] = html.escape(str(report.longrepr[2]).removeprefix("Skipped: "))  # the reason, not pytest's tuple
    exchanges = getattr(report, "conformance_exchanges", [])
    problems = getattr(report, "conformance_problems", [])
    anchor = "x" + hashlib.blake2b(f"{report.nodeid}::{report.when}".encode(), digest_size=6).hexdigest()
    parts = []
    if problems:
        count = getattr(report, "conformance_problem_count", len(problems))
        parts.append(problems_html(getattr(report, "conformance_problems_title", ""), problems, count, anchor))
    if exchanges:
        linked = {p["exchange"] for p in problems if p.get("exchange") is not None}
        in_full = bool(problems) or report.failed
        parts.append(exchanges_html(exchanges, anchor=anchor, linked=linked, in_full=in_full))
    data[:0] = parts


def problems_html(title: str, problems: list[dict[str, Any]], count: int, anchor: str) -> str:
    """The problems a failed test found, each linked to its exchange, and how many there were."""
    esc = html.escape
    items = "".join(
        f"<li>{esc(p['text'])}"
        + (f' <a href="#{anchor}-{p["exchange"]}">exchange {p["exchange"] + 1}</a>' if p.get("exchange") is not None
           else "")
        + "</li>"
        for p in problems
    )
    shown = f"{count} problem(s)" + (f", the first {len(problems)} listed" if count > len(problems) else "")
    return f'<div class="problems"><b>{esc(title or "Problems")}</b> ({shown})<ol>{items}</ol></div>'


def exchanges_html(exchanges: list[dict[str, Any]], limit: int = 30, *, anchor: str = "x",
                   linked: Collection[int] = (), in_full: bool = True) -> str:
    """The exchanges of one test phase as HTML: the first `limit` and those a problem links to, each with an anchor;
    in full (headers and bodies) or one line each, folded behind a click."""
    shown = [(n, exchange) for n, exchange in enumerate(exchanges) if n < limit or n in linked]
    render = _exchange_html if in_full else _exchange_line
    parts = [render(exchange, f"{anchor}-{n}", n) for n, exchange in shown]
    if len(exchanges) > len(shown):
        parts.append(f"<p>… {len(exchanges) - len(shown)} more exchanges not shown</p>")
    body = "".join(parts)
    if in_full:
        return f'<div class="exchanges"><p><b>Exchanges ({len(exchanges)})</b></p>{body}</div>'
    return f'<details class="exchanges"><summary>Exchanges ({len(exchanges)})</summary><ol>{body}</ol></details>'


def _answer(ex: dict[str, Any]) -> str:
    return f"error: {html.escape(ex['error'])}" if ex.get("error") else f"status {html.escape(str(ex['status']))}"


def _exchange_line(ex: dict[str, Any], anchor: str, n: int) -> str:
    esc = html.escape
    return (f'<li id="{anchor}"><code>{esc(ex["method"])} {esc(ex["target"])}</code> → {_answer(ex)} '
            f'({ex["elapsed"]:.3f}s)</li>')


def _exchange_html(ex: dict[str, Any], anchor: str, n: int) -> str:
    esc = html.escape
    request_headers = "".join(f"{esc(k)}: {esc(str(v))}\n" for k, v in ex["request_headers"].items())
    response_headers = "".join(f"{esc(k)}: {esc(str(v))}\n" for k, v in ex["response_headers"].items())
    answer = _answer(ex)
    body = f"\n{esc(ex['request_body'])}" if ex.get("request_body") else ""
    response_body = f"\n{esc(ex['response_body'])}" if ex.get("response_body") else ""
    return (
        f'<details id="{anchor}"><summary>'
        f"{n + 1}. <code>{esc(ex['method'])} {esc(ex['target'])}</code> → {answer} ({ex['elapsed']:.3f}s)</summary>"
        f"<pre>{esc(ex['method'])} {esc(ex['target'])}\n{request_headers}{body}</pre>"
        f"<pre>{answer}\n{response_headers}{response_body}</pre>"
        f"<p>Reproduce:</p><pre>{esc(ex['reproduce'])}</pre></details>"
    )


def _verdict_block(document: dict[str, Any]) -> list[str]:
    esc = html.escape
    verdict = str(document["verdict"]).upper()
    colour = VERDICT_COLOURS.get(document["verdict"], "#c62828")
    counts = ", ".join(f"{n} {esc(k)}" for k, n in sorted(document["counts"].items()))
    rows = [
        ("Target", document["target"]["url"]),
        ("Family", document["target"]["family"]),
        ("Profile", document["profile"]),
        ("Suite", f"{document['suite']['name']} {document['suite']['version']}"),
        ("Hypothesis", _hypothesis_text(document.get("hypothesis", {}))),
        *_filter_case_rows(document),
        ("Started / finished (UTC)", f"{document['started_at']} / {document['finished_at']}"),
    ]
    table = "".join(f"<tr><th style='text-align:left'>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in rows)
    partial = document.get("passed_with_parts_not_judged") or []
    if partial:
        counts += f"; {len(partial)} passed with parts not judged"
    reasons = "".join(f"<li>{esc(reason)}</li>" for reason in document.get("verdict_reasons") or [])
    return [
        f'<h2 id="verdict" style="color:{colour}">Verdict: {verdict}</h2>',
        *([f'<ul id="verdict-reasons">{reasons}</ul>'] if reasons else []),
        f'<p id="counts">{counts}</p>',
        f'<table id="run-facts">{table}</table>',
    ]


def _findings_block(document: dict[str, Any]) -> list[str]:
    """Warnings, waivers and drift: what a certifier reads right after the verdict."""
    esc = html.escape
    parts: list[str] = []
    if document.get("stopped_early"):
        parts.append(f'<p id="stopped-early"><b>The run stopped early:</b> {esc(document["stopped_early"])}</p>')
    if document.get("subset"):
        reasons = "; ".join(document["subset"]["reasons"])
        parts.append(f'<p id="subset"><b>A subset of the suite ran, so there is no verdict:</b> {esc(reasons)}</p>')
    if document.get("not_run"):
        items = "".join(f"<li><code>{esc(n['id'])}</code> ({esc(n['tier'])}): {esc(n.get('text', ''))}</li>"
                        for n in document["not_run"])
        title = "Not run in this subset" if document.get("subset") else "Not reached before the run stopped"
        parts.append(f'<h3 id="not-run">{title} (not certified)</h3><ul>{items}</ul>')
    if document.get("not_met"):
        parts.append(f'<p id="not-met"><b>Not met:</b> {esc(", ".join(document["not_met"]))}</p>')
    if document.get("warnings"):
        items = "".join(
            f"<li><code>{esc(w['id'])}</code> {esc(w['outcome'])}: {esc(w.get('message', ''))}</li>"
            for w in document["warnings"]
        )
        parts.append(f'<h3 id="warnings">Warnings (advisory requirements not met)</h3><ul>{items}</ul>')
    if document.get("not_judged"):
        items = "".join(f"<li><code>{esc(n['id'])}</code> ({esc(n['tier'])}): {esc(n['reason'])}</li>"
                        for n in document["not_judged"])
        parts.append(f'<h3 id="not-judged">Not judged in this run (not certified)</h3><ul>{items}</ul>')
    waivers = document.get("waivers", {})
    for key, title in WAIVER_SECTIONS:
        if waivers.get(key):
            items = "".join(
                f"<li><code>{esc(w['requirement'])}</code> until {esc(w['expires'])}: {esc(w['reason'])}</li>"
                for w in waivers[key]
            )
            parts.append(f'<h3 id="waivers-{key}">{title}</h3><ul>{items}</ul>')
    drift = document.get("changes_since_baseline")
    if drift is not None:
        source = esc(drift["baseline"])
        parts.append(f'<h3 id="changes-since-baseline">Changes since baseline <small>({source})</small></h3>')
        for key, title in DRIFT_SECTIONS:
            entries = drift[key]
            items = "".join(
                f"<li><code>{esc(e['id'])}</code> {esc(e.get('before', '-'))} → {esc(e.get('now', '-'))}</li>"
                for e in entries
            ) or "<li>none</li>"
            parts.append(f'<p><b>{title}</b></p><ul data-drift="{key}">{items}</ul>')
    return parts


def _discovery_block(document: dict[str, Any]) -> list[str]:
    """Every exchange fixtures made (discovery, setup, cleanup), one line each, folded: a failed test shows in full
    the exchanges its problems were read from."""
    exchanges = document.get("discovery") or []
    if not exchanges:
        return []
    return ['<details id="discovery"><summary><b>Discovery and setup exchanges</b> '
            f"({len(exchanges)}: requests the run's fixtures made before and after the tests: image discovery, "
            "fetched images, walks, cleanup)</summary>",
            exchanges_html(exchanges, limit=len(exchanges), anchor="discovery", in_full=False),
            "</details>"]


def _hypothesis_text(info: dict[str, Any]) -> str:
    if not info:
        return "-"
    seed = "derandomized (same examples every run)" if info.get("derandomized") else f"seed {info.get('seed')}"
    return f"profile {info.get('profile')}, {seed}"


def _requirement_tables(document: dict[str, Any]) -> list[str]:
    esc = html.escape
    by_operation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in document["requirements"]:
        by_operation[entry["operation"]].append(entry)
    parts = ['<h2>Requirements</h2>']
    for operation, entries in by_operation.items():
        counts: dict[str, int] = defaultdict(int)
        for entry in entries:
            counts[entry["outcome"]] += 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        rows = []
        for entry in entries:
            colour = OUTCOME_COLOURS.get(entry["outcome"], "#000")
            note = f"<br><small>{esc(entry['message'])}</small>" if entry.get("message") else ""
            if entry.get("first_problem"):
                rest = f" (and {entry['problems'] - 1} more)" if entry["problems"] > 1 else ""
                note = (f'<br><span class="first-problem"><b>First problem:</b> {esc(entry["first_problem"])}'
                        f"{esc(rest)}</span>")
            note += _coverage_html(entry)
            rows.append(
                f'<tr class="requirement" data-outcome="{esc(entry["outcome"])}">'
                f'<td><code>{esc(entry["id"])}</code></td>'
                f"<td>{_tier_text(entry)}</td>"
                f"<td style='color:{colour};font-weight:bold'>{esc(entry['outcome'])}</td>"
                f"<td>{esc(entry['text'])}{note}</td><td><small>{esc(entry['source'])}</small></td></tr>"
            )
        parts.append(
            f'<h3>{esc(operation)} <small>({summary})</small></h3>'
            f'<table class="requirements" data-operation="{esc(operation)}" border="1" cellpadding="4"'
            ' style="border-collapse:collapse">'
            "<tr><th>Id</th><th>Tier</th><th>Outcome</th><th>Requirement</th><th>Source</th></tr>"
            + "".join(rows)
            + "</table>"
        )
    return parts


def _coverage_html(entry: dict[str, Any]) -> str:
    """How many cases a requirement judged, by kind, and what it could not judge, with the reason."""
    esc = html.escape
    judged = ", ".join(f"{n} {esc(kind)}" for kind, n in entry.get("judged", {}).items()) or "nothing"
    parts = [f'<br><small class="judged">Judged: {judged}</small>']
    unjudged = entry.get("not_judged") or []
    if unjudged:
        items = "".join(f"<li>{esc(not_judged_text(n['reason'], n['count']))}</li>" for n in unjudged)
        parts.append(f'<br><small class="not-judged">Not judged:</small><ul class="not-judged">{items}</ul>')
    return "".join(parts)


def _tier_text(entry: dict[str, Any]) -> str:
    """The tier the run used, and the catalogue's when the profile changed it."""
    tier = html.escape(entry["tier"])
    base = entry.get("catalogue_tier")
    if not base:
        return tier
    return f'{tier}<br><small data-catalogue-tier="{html.escape(base)}">{html.escape(base)} in the catalogue</small>'


def _filter_case_rows(document: dict[str, Any]) -> list[tuple[str, str]]:
    """The v1.1 filter text reading the run judged by, when it read one."""
    reading = document["target"].get("endpoints", {}).get("glance", {}).get("v1_1_filter_case")
    if not reading:
        return []
    return [("v1.1 filter matching", f"{reading['reading']} (seen: {reading['evidence']})")]

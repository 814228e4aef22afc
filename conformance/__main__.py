"""Certify an endpoint with the installed suite, from any folder: `image-api-conformance --target=URL`.

It is `pytest` on the suite's own conformance tests with the suite's own settings (strict markers, no cache,
strict xfail), whatever folder it is run from and whatever pytest configuration that folder has; every other
argument is pytest's or the suite's (`--target`, `--report-dir`, `-k`, `-m`, ...). The reports go to ./reports.
"""

from __future__ import annotations

import sys

import pytest

from conformance import REPO_ROOT, SETTINGS_FILE, TESTS_DIR, __version__

PROG = "image-api-conformance"
USAGE = f"""usage: {PROG} [--target=URL ...] [--profile=NAME ...] [--report-dir=DIR] [OPTION ...] [pytest option ...]
       {PROG} --list-requirements | --version | --help

Certify an image-query API (Glance-style REST, or a CRI ImageService) against its documents: each requirement
passed, failed (with its first problem and the exchanges that show it), waived, skipped or not offered, and one
verdict (pass, fail, incomplete, error) that sets the exit status. Without --target it certifies the embedded
reference targets. Reports: DIR/report.html, DIR/junit.xml, DIR/results.json (default DIR: ./reports).

  --list-requirements    list every requirement: id, operation, tier per profile, sentence, clause

The suite's options:
"""


def pytest_args(argv: list[str]) -> list[str]:
    """The pytest command line that runs the conformance tests with the suite's settings and `argv`."""
    # -c pins the settings file (else pytest would search upward from the tests and could find a project's own);
    # --rootdir keeps test ids as in a clone (tests/glance/test_v2_show.py::...).
    return ["-c", str(SETTINGS_FILE), f"--rootdir={REPO_ROOT}", *argv, str(TESTS_DIR)]


def usage() -> list[str]:
    """The suite's usage and its options, one line each (pytest's own options follow in --help)."""
    from conformance.options import OPTIONS

    lines = USAGE.splitlines()
    for option in OPTIONS:
        flag = f"{option.flag}={option.metavar}" if option.metavar else option.flag
        lines.append(f"  {flag:<22} {option.help_text()}")
    return [*lines, "", "pytest's options (every one applies; choose tests with -k, -m or --deselect):", ""]


def main(argv: list[str] | None = None) -> int:
    """Run the conformance suite; the exit status is pytest's, which follows the verdict."""
    from conformance.report import catalogue
    from conformance.report.pipe import ends_quietly, print_lines

    args = sys.argv[1:] if argv is None else argv
    before = args[: args.index("--")] if "--" in args else args
    if "--version" in before or "-V" in before:
        return print_lines([f"{PROG} {__version__} (pytest {pytest.__version__})"])
    if "--list-requirements" in before:
        return print_lines(catalogue.table())
    if "--help" in before or "-h" in before:
        with ends_quietly():  # the suite's usage, then pytest's
            print_lines(usage())
            pytest.main(pytest_args(args))
        return 0
    return int(pytest.main(pytest_args(args)))


if __name__ == "__main__":
    sys.exit(main())

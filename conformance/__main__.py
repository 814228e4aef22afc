"""Certify an endpoint with the installed suite, from any folder: `image-api-conformance --target=URL`.

It is `pytest` on the suite's own conformance tests with the suite's own settings (strict markers, no cache,
strict xfail), whatever folder it is run from and whatever pytest configuration that folder has; every other
argument is pytest's or the suite's (`--target`, `--report-dir`, `-k`, `-m`, ...). The reports go to ./reports.
"""

from __future__ import annotations

import sys

import pytest

from conformance import REPO_ROOT, SETTINGS_FILE, TESTS_DIR


def pytest_args(argv: list[str]) -> list[str]:
    """The pytest command line that runs the conformance tests with the suite's settings and `argv`."""
    # -c pins the settings file (else pytest would search upward from the tests and could find a project's own);
    # --rootdir keeps test ids as in a clone (tests/glance/test_v2_show.py::...).
    return ["-c", str(SETTINGS_FILE), f"--rootdir={REPO_ROOT}", *argv, str(TESTS_DIR)]


def main(argv: list[str] | None = None) -> int:
    """Run the conformance suite; the exit status is pytest's, which follows the verdict."""
    return int(pytest.main(pytest_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    sys.exit(main())

"""Check an installed wheel's run (tox -e wheel): the suite ships in the package, and the run wrote a PASS.

`python tools/check_wheel_run.py REPORT_DIR`, run with the virtualenv's python from a folder outside the clone.
Stdlib only; it imports nothing from the clone (the script's own folder is tools/, not the clone's root).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

CLONE = Path(__file__).resolve().parent.parent
SHIPPED = {"schemas": ("*.json", "*.yaml"), "tests": ("*.py",)}  # the clone's folders the wheel must carry
REPORTS = ("report.html", "junit.xml", "results.json")


def installed_suite() -> Path:
    """The `conformance/suite/` folder of the installed package; exits when the package comes from the clone."""
    spec = importlib.util.find_spec("conformance")
    if spec is None or spec.origin is None:
        sys.exit("the conformance package is not installed")
    package = Path(spec.origin).resolve().parent
    if package == CLONE / "conformance":  # an editable install, or the clone's root on sys.path
        sys.exit(f"conformance is imported from the clone ({package}), not from the installed wheel")
    return package / "suite"


def missing_files(suite: Path) -> list[str]:
    """The clone's settings, schemas, catalogue, profiles and conformance tests that the installed suite lacks."""
    wanted = ["pyproject.toml"]
    for folder, patterns in SHIPPED.items():
        for pattern in patterns:
            wanted += [path.relative_to(CLONE).as_posix() for path in (CLONE / folder).rglob(pattern)]
    return sorted(name for name in wanted if not (suite / name).is_file())


def main(argv: list[str]) -> int:
    """Exit 0 when the installed suite is complete and REPORT_DIR holds the three reports of a PASS."""
    if len(argv) != 1:
        sys.exit("usage: check_wheel_run.py REPORT_DIR")
    report_dir = Path(argv[0])
    suite = installed_suite()
    missing = missing_files(suite)
    if missing:
        sys.exit(f"the installed suite {suite} lacks {len(missing)} file(s): {', '.join(missing[:10])}")
    absent = [name for name in REPORTS if not (report_dir / name).is_file()]
    if absent:
        sys.exit(f"{report_dir} lacks {', '.join(absent)}")
    results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    if results.get("verdict") != "pass":
        sys.exit(f"the installed suite's verdict is {results.get('verdict')!r}, not 'pass'")
    for folder in ("requirements", "profiles"):
        if not any((suite / "schemas" / folder).glob("*.yaml")):
            sys.exit(f"the installed suite has no {folder}")
    print(f"wheel run: {suite} is complete; verdict pass, {len(results['requirements'])} requirements; "
          f"{', '.join(REPORTS)} in {report_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

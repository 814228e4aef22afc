"""Conformance suite for image-query APIs (CRI ImageService and Glance-style REST).

PYTEST_DONT_REWRITE: the `image-api-conformance` command imports this module before pytest starts (it holds no assert).
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# A clone holds the suite's pytest settings (pyproject.toml), schemas/ and tests/ at its root; a wheel carries the
# same files in the same layout as `conformance/suite/` (pyproject.toml [tool.setuptools]).
_INSTALLED_SUITE = PACKAGE_DIR / "suite"
REPO_ROOT = _INSTALLED_SUITE if (_INSTALLED_SUITE / "pyproject.toml").is_file() else PACKAGE_DIR.parent
SCHEMAS_DIR = REPO_ROOT / "schemas"
TESTS_DIR = REPO_ROOT / "tests"
SETTINGS_FILE = REPO_ROOT / "pyproject.toml"  # the suite's [tool.pytest.ini_options]

OPERATIONS = (
    "glance.v2.show",
    "glance.v2.list",
    "glance.v1.head",
    "glance.v1_1.detail",
    "cri.ImageStatus",
    "cri.ListImages",
    "cri.PullImage",
    "cri.RemoveImage",
    "cri.ImageFsInfo",
)
FAMILY_OF_OPERATION = {
    "glance.v2.show": "glance",
    "glance.v2.list": "glance",
    "glance.v1.head": "glance",
    "glance.v1_1.detail": "glance",
    "cri.ImageStatus": "cri",
    "cri.ListImages": "cri",
    "cri.PullImage": "cri",
    "cri.RemoveImage": "cri",
    "cri.ImageFsInfo": "cri",
}


def __getattr__(name: str) -> str:
    """`__version__`, looked up when first asked for: reading the installed metadata costs every start otherwise."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("image-api-conformance")
    except PackageNotFoundError:  # running from a checkout that was not installed
        found = "0.0.0+unknown"
    globals()["__version__"] = found
    return found

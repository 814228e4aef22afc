"""Conformance suite for image-query APIs (CRI ImageService and Glance-style REST)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = REPO_ROOT / "schemas"

OPERATIONS = (
    "glance.v2.show",
    "glance.v1.head",
    "glance.v1_1.detail",
    "cri.ImageStatus",
    "cri.ListImages",
)
FAMILY_OF_OPERATION = {
    "glance.v2.show": "http",
    "glance.v1.head": "http",
    "glance.v1_1.detail": "http",
    "cri.ImageStatus": "cri",
    "cri.ListImages": "cri",
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

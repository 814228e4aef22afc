"""Conformance suite for image-query APIs (CRI ImageService and Glance-style REST)."""

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

try:
    __version__ = version("image-api-conformance")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0.0.0+unknown"

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

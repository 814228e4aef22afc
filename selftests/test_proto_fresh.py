"""The committed CRI modules in conformance/proto/ are exactly what tools/gen_proto.py generates."""

from __future__ import annotations

import importlib.util
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
GEN_PROTO = REPO_ROOT / "tools" / "gen_proto.py"
PROTO_DIR = REPO_ROOT / "conformance" / "proto"
FIX = "run python tools/gen_proto.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_proto", GEN_PROTO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _committed_generator_version() -> str | None:
    for path in sorted(PROTO_DIR.glob("*_pb2_grpc.py")):
        found = re.search(r"^GRPC_GENERATED_VERSION = '([^']+)'", path.read_text(encoding="utf-8"), re.MULTILINE)
        if found:
            return found[1]
    return None


def test_generated_modules_are_fresh(tmp_path: Path) -> None:
    """Regenerating from the .proto files reproduces the committed modules byte for byte."""
    pytest.importorskip("grpc_tools", reason="grpcio-tools is not installed (pip install -e '.[dev]')")
    try:
        installed = version("grpcio-tools")
    except PackageNotFoundError:
        installed = None
    committed = _committed_generator_version()
    if installed and committed and installed != committed:
        pytest.skip(f"grpcio-tools {installed} is installed; the committed modules come from {committed}")
    generator = _load_generator()
    fresh = {path.name: path.read_text(encoding="utf-8") for path in generator.generate(tmp_path)}
    current = {
        path.name: path.read_text(encoding="utf-8") for path in PROTO_DIR.iterdir() if generator.is_generated(path)
    }
    assert fresh, "gen_proto produced no modules"
    missing = sorted(set(fresh) - set(current))
    stale = sorted(set(current) - set(fresh))
    changed = sorted(name for name in set(fresh) & set(current) if fresh[name] != current[name])
    assert not (missing or stale or changed), (
        f"conformance/proto is out of date (missing {missing}, no longer generated {stale}, differ {changed}): {FIX}"
    )


def test_generated_modules_import_as_a_package() -> None:
    """The gRPC modules import their message modules relative to the package, not from sys.path."""
    for path in sorted(PROTO_DIR.glob("*_pb2_grpc.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^import \w+_pb2", text, re.MULTILINE), f"{path.name} has a bare import: {FIX}"
    from conformance.proto import runtime_v1_pb2_grpc, runtime_v1alpha2_pb2_grpc

    for module in (runtime_v1_pb2_grpc, runtime_v1alpha2_pb2_grpc):
        assert callable(module.add_ImageServiceServicer_to_server)

"""Regenerate the CRI modules in conformance/proto/ from the .proto files beside them.

Usage: python tools/gen_proto.py [--out DIR]

Runs grpcio-tools' protoc in-process. The output is deterministic for a given grpcio-tools
version (the one pinned in pyproject.toml's `dev` extra), so the committed modules can be
checked for freshness (selftests/test_proto_fresh.py).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_PACKAGE = "conformance/proto"
PROTO_DIR = REPO_ROOT / PROTO_PACKAGE
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")

# protoc names sibling modules by their import path (`from conformance.proto import x_pb2`);
# a relative import keeps the modules working wherever the package is installed or vendored.
_PACKAGE_IMPORT = re.compile(r"^from conformance\.proto import (\w+_pb2) as ", re.MULTILINE)


class GenerationError(Exception):
    """protoc could not compile the .proto files."""


def proto_files() -> list[Path]:
    """The .proto files to compile, in a stable order."""
    return sorted(PROTO_DIR.glob("*.proto"))


def is_generated(path: Path) -> bool:
    """Whether `path` is a module this script writes."""
    return path.name.endswith(GENERATED_SUFFIXES)


def generate(out_dir: Path) -> list[Path]:
    """Compile every .proto into `out_dir` (flat) and return the written files, sorted."""
    from grpc_tools import protoc  # imported late: only the dev extra installs grpcio-tools

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        args = [
            "protoc",
            f"-I{REPO_ROOT}",
            f"--python_out={scratch}",
            f"--pyi_out={scratch}",
            f"--grpc_python_out={scratch}",
            *(str(path.relative_to(REPO_ROOT)) for path in proto_files()),
        ]
        if protoc.main(args) != 0:
            raise GenerationError(f"protoc failed: {' '.join(args)}")
        written = []
        for produced in sorted((Path(scratch) / PROTO_PACKAGE).iterdir()):
            if not is_generated(produced):
                continue
            text = _PACKAGE_IMPORT.sub(r"from . import \1 as ", produced.read_text(encoding="utf-8"))
            target = out_dir / produced.name
            target.write_text(text, encoding="utf-8", newline="\n")
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROTO_DIR, help="output folder (default: %(default)s)")
    options = parser.parse_args(argv)
    try:
        written = generate(options.out)
    except ImportError:
        print("gen_proto: grpcio-tools is not installed (pip install -e '.[dev]')", file=sys.stderr)
        return 1
    except GenerationError as exc:
        print(f"gen_proto: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Imports inside the package run one way: no module imports, even only for type checking, one that imports it."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"


def module_name(path: Path) -> str:
    """The dotted name of a module file of the package (a package's own name for its __init__.py)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, name: str, *, package: bool, modules: set[str]) -> set[str]:
    """Which of `modules` the module `name` (of `source`) imports anywhere: at the top, in a function, under
    TYPE_CHECKING; `package` when `source` is a package's __init__.py (its relative imports start there)."""
    here = name if package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for dotted in names:
            while dotted and dotted not in modules:  # a name defined in a module: that module
                dotted = dotted.rpartition(".")[0]
            if dotted and dotted != name:
                found.add(dotted)
    return found


def circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` (module -> modules it imports), or None when imports run one way."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def test_every_kind_of_import_is_an_arrow() -> None:
    modules = {"pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d", "pkg.sub", "pkg.sub.e"}
    source = """
from typing import TYPE_CHECKING
import os
from pkg import b
from . import c
from .sub.e import NAME
if TYPE_CHECKING:
    from pkg.d import Shape

def late():
    import pkg.sub
"""
    assert imported(source, "pkg.a", package=False, modules=modules) == {"pkg.b", "pkg.c", "pkg.d", "pkg.sub",
                                                                          "pkg.sub.e"}
    assert imported("from .e import NAME\nfrom .. import a", "pkg.sub", package=True, modules=modules) == {
        "pkg.sub.e", "pkg.a"}


def test_a_circle_made_only_for_type_checking_is_found() -> None:
    graph = {"evidence": {"reproduce"}, "reproduce": {"evidence"}, "checks": {"evidence"}}
    assert sorted(circle(graph) or []) == ["evidence", "evidence", "reproduce"]
    assert circle({"evidence": {"reproduce"}, "reproduce": set()}) is None


def test_no_module_of_the_package_is_part_of_an_import_circle() -> None:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: imported(path.read_text(encoding="utf-8"), name, package=path.name == "__init__.py",
                            modules=set(paths)) for name, path in paths.items()}
    assert len(graph) > 50 and "conformance.reproduce" in graph["conformance.evidence"]
    assert circle(graph) is None, f"import circle: {' -> '.join(circle(graph) or [])}"

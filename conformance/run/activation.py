"""When the plugin acts: the suite's tests are run or a suite option is given; otherwise it stays inert."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import pytest

from conformance import TESTS_DIR
from conformance.options import OPTIONS

WORKER_FLAG = "conformance_active"  # set by the xdist controller in each worker's workerinput


@cache
def suite_test_dirs() -> tuple[Path, ...]:
    """The folders that hold the conformance tests (a checkout's tests/, or the copy shipped in the package)."""
    # a folder is the suite's only if it holds the suite's own test folders (site-packages/tests may be anyone's)
    return (TESTS_DIR,) if (TESTS_DIR / "cri").is_dir() and (TESTS_DIR / "glance").is_dir() else ()


def requested(config: pytest.Config) -> bool:
    """Whether this pytest run is a conformance run (an unrelated project's run is not)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:  # an xdist worker does what its controller decided
        return bool(workerinput.get(WORKER_FLAG))
    if suite_option_given(config):
        return True
    return any(covers_suite_tests(path) for path in argument_paths(config))


def suite_option_given(config: pytest.Config) -> bool:
    """A suite flag on the command line or a `conformance_*` ini key (environment variables alone do not count)."""
    flags = {option.flag for option in OPTIONS}
    for arg in config.invocation_params.args:
        if isinstance(arg, str) and arg.split("=", 1)[0] in flags:
            return True
    return any(option.ini and config.getini(option.ini_name) for option in OPTIONS)


def argument_paths(config: pytest.Config) -> list[Path]:
    """The file system paths the run collects from (`--pyargs` modules resolved), without `::` node parts."""
    base = config.rootpath if config.args_source == pytest.Config.ArgsSource.TESTPATHS else config.invocation_params.dir
    paths = []
    for arg in config.args:
        name = str(arg).split("::", 1)[0]
        path = Path(name) if Path(name).is_absolute() else Path(base) / name
        if not path.exists() and config.option.pyargs:
            path = _module_path(name) or path
        paths.append(path.resolve())
    return paths


def covers_suite_tests(path: Path) -> bool:
    """Whether collecting `path` collects conformance tests (all of them, or some)."""
    return any(path == root or root in path.parents or path in root.parents for root in suite_test_dirs())


def narrowed(config: pytest.Config, families: tuple[str, ...]) -> list[str]:
    """The arguments that leave out conformance tests of the run's families: a node id, or too few folders/modules.

    `pytest tests/cri --target unix://...` is the whole suite for a CRI target; against the embedded targets,
    which certify both families, it is a subset.
    """
    paths = argument_paths(config)
    nodes = [str(arg) for arg in config.args if "::" in str(arg)]
    if nodes:
        return nodes
    wanted = [module for root in suite_test_dirs() for module in sorted(root.rglob("test_*.py"))
              if family_of_module(root, module) in families]
    if all(any(path == module or path in module.parents for path in paths) for module in wanted):
        return []
    return [str(arg) for arg, path in zip(config.args, paths, strict=True)
            if any(root in path.parents for root in suite_test_dirs())]


def family_of_module(root: Path, module: Path) -> str:
    """`cri` for the tests under cri*/, `http` for the Glance-style ones."""
    return "cri" if module.relative_to(root).parts[0].startswith("cri") else "glance"


def family_of_folder(path: Path) -> str | None:
    """The family of a suite test folder (tests/cri, tests/glance); None for any other path."""
    for root in suite_test_dirs():
        if path.parent == root and path.is_dir() and not path.name.startswith(("_", ".")):
            return family_of_module(root, path)
    return None


def _module_path(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin) if spec.origin else None

"""Start, seed, stop a real OpenStack Glance (v2 API, no Keystone) on 127.0.0.1.

Usage: python tools/glance_target.py start|seed|stop|url [--state-dir DIR] [--port N]
"""

from __future__ import annotations

import os
import shutil
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS.parent))  # conformance/ (its stdlib-only modules, e.g. glance/disk_data.py)
sys.path.insert(0, str(TOOLS))

import _targetlib as lib  # noqa: E402
from _glance_images import seed_images  # noqa: E402

PROG = "glance_target"
GLANCE_VERSION = "33.0.0"
MARKER = "glance.wsgi.api:application"
DEFAULT_PORT = 9292
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

def venv_dir() -> Path:
    """Return the cached virtualenv that holds Glance and gunicorn."""
    return lib.cache_dir() / "glance-venv"


def venv_ready(venv: Path) -> bool:
    """Tell whether the virtualenv already imports glance and gunicorn."""
    return ((venv / "bin" / "gunicorn").exists()
            and lib.venv_imports(venv, "glance.version, gunicorn"))


def ensure_venv(log: Path) -> Path:
    """Create the virtualenv and install Glance into it unless it is already there."""
    venv = venv_dir()
    if venv_ready(venv):
        return venv
    lib.info(f"installing glance=={GLANCE_VERSION} and gunicorn into {venv} ...")
    venv.parent.mkdir(parents=True, exist_ok=True)
    lib.run([sys.executable, "-m", "venv", "--clear", str(venv)], "creating the virtualenv",
            log_path=log)
    lib.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
             f"glance=={GLANCE_VERSION}", "gunicorn"], "pip install glance", log_path=log)
    if not venv_ready(venv):
        raise lib.TargetError(f"glance still not importable from {venv}; log: {log}")
    return venv


def write_config(state: Path, paste_src: Path, authtoken: Mapping[str, object] | None = None) -> Path:
    """Write glance-api.conf, the paste ini and the policy under state/etc; return that folder.

    With `authtoken` (keystonemiddleware's options), Glance checks every token with Keystone and applies its
    default policy to the roles Keystone names; without it, every caller is admin.
    """
    # Disk and container formats stay at upstream's defaults: the glance profile certifies
    # upstream behaviour, so no deployment choice (such as enabling zvhd2) belongs here.
    etc = state / "etc"
    dirs = {name: (state / name).resolve() for name in ("images", "staging", "tasks", "locks")}
    for folder in (etc, *dirs.values()):
        folder.mkdir(parents=True, exist_ok=True)
    if not paste_src.exists():
        raise lib.TargetError(f"{paste_src} missing from the Glance install")
    shutil.copyfile(paste_src, etc / "glance-api-paste.ini")
    if authtoken is None:
        (etc / "policy.json").write_text('{"context_is_admin": "@"}\n')
    policy = {"oslo_policy": {"policy_file": etc / "policy.json"}} if authtoken is None else {}
    keystone = {"keystone_authtoken": authtoken} if authtoken is not None else {}
    paste = {"config_file": etc / "glance-api-paste.ini", **({"flavor": "keystone"} if keystone else {})}
    lib.write_ini(etc / "glance-api.conf", {
        "DEFAULT": {"enabled_backends": "fs:file", "debug": "false", "use_stderr": "true"},
        "database": {"connection": f"sqlite:///{(state / 'glance.sqlite').resolve()}"},
        "glance_store": {"default_backend": "fs"},
        "fs": {"filesystem_store_datadir": dirs["images"]},
        "os_glance_staging_store": {"filesystem_store_datadir": dirs["staging"]},
        "os_glance_tasks_store": {"filesystem_store_datadir": dirs["tasks"]},
        "oslo_concurrency": {"lock_path": dirs["locks"]},
        **policy,
        "paste_deploy": paste,
        **keystone,
    })
    return etc


def answers(url: str) -> bool:
    """Tell whether GET <url>/versions answers 200."""
    req = urllib.request.Request(url + "/versions", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=2) as resp:
            return int(resp.status) == 200
    except OSError:  # HTTPError, URLError, timeouts
        return False


def cmd_start(state: Path, port: int) -> int:
    """Install if needed, start gunicorn serving Glance, print the URL."""
    url = lib.running_url(state, MARKER)
    if url is not None:
        print(url)
        return 0
    state = state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    log = state / "glance.log"
    venv = ensure_venv(state / "install.log")
    etc = write_config(state, venv / "etc" / "glance" / "glance-api-paste.ini")
    if not (state / "glance.sqlite").exists():
        lib.run([str(venv / "bin" / "glance-manage"), "--config-file",
                 str(etc / "glance-api.conf"), "db_sync"], "glance-manage db_sync",
                log_path=state / "db_sync.log")
    port = port or lib.free_port()
    url = f"http://127.0.0.1:{port}"
    if answers(url):
        raise lib.TargetError(f"something already answers on {url}; choose another --port")
    env = dict(os.environ, OS_GLANCE_CONFIG_DIR=str(etc))
    argv = [str(venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--threads", "4", "--no-control-socket", "--chdir", str(state), MARKER]
    proc = lib.spawn(argv, log, env=env, cwd=state)
    lib.write_state(state, pid=proc.pid, url=url, log=str(log))
    try:
        lib.wait_ready(proc, lambda: answers(url), START_TIMEOUT, "glance (gunicorn)", log)
    except lib.TargetError:
        lib.clear_state(state)
        raise
    print(url)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    parser = lib.command_parser(PROG, "Glance", "glance",
                                "config, database, image files, PID and log", DEFAULT_PORT)
    args = parser.parse_args(argv)
    state = args.state_dir.expanduser()
    commands = {"start": lambda: cmd_start(state, args.port),
                "seed": lambda: lib.cmd_seed(state, MARKER, "glance", seed_images,
                                             lib.describe_image),
                "stop": lambda: lib.cmd_stop(state, MARKER, "glance", STOP_TIMEOUT),
                "url": lambda: lib.cmd_url(state, MARKER, "glance")}
    return lib.main_guard(commands[args.command], PROG)


if __name__ == "__main__":
    sys.exit(main())

"""Start, seed, stop a real OpenStack Glance (v2 API, no Keystone) on 127.0.0.1.

Usage: python tools/glance_target.py start|seed|stop|url [--state-dir DIR] [--port N]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _targetlib as lib  # noqa: E402
from _glance_images import seed_images  # noqa: E402

PROG = "glance_target"
GLANCE_VERSION = "33.0.0"
MARKER = "glance.wsgi.api:application"
DEFAULT_PORT = 9292
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

API_CONF = """\
[DEFAULT]
enabled_backends = fs:file
debug = false
use_stderr = true

[database]
connection = sqlite:///{db}

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = {images}

[os_glance_staging_store]
filesystem_store_datadir = {staging}

[os_glance_tasks_store]
filesystem_store_datadir = {tasks}

[oslo_concurrency]
lock_path = {locks}

[oslo_policy]
policy_file = {policy}

[paste_deploy]
config_file = {paste}
"""


def venv_dir() -> Path:
    """Return the cached virtualenv that holds Glance and gunicorn."""
    return lib.cache_dir() / "glance-venv"


def venv_ready(venv: Path) -> bool:
    """Tell whether the virtualenv already imports glance and gunicorn."""
    python = venv / "bin" / "python"
    if not python.exists() or not (venv / "bin" / "gunicorn").exists():
        return False
    done = subprocess.run([str(python), "-c", "import glance.version, gunicorn"],
                          stdin=subprocess.DEVNULL, capture_output=True, check=False)
    return done.returncode == 0


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


def write_config(state: Path, paste_src: Path) -> Path:
    """Write glance-api.conf, the paste ini and the policy under state/etc; return that folder."""
    # Disk and container formats stay at upstream's defaults: the glance profile certifies
    # upstream behaviour, so no deployment choice (such as enabling zvhd2) belongs here.
    etc = state / "etc"
    dirs = {name: state / name for name in ("images", "staging", "tasks", "locks")}
    for folder in (etc, *dirs.values()):
        folder.mkdir(parents=True, exist_ok=True)
    if not paste_src.exists():
        raise lib.TargetError(f"{paste_src} missing from the Glance install")
    shutil.copyfile(paste_src, etc / "glance-api-paste.ini")
    (etc / "policy.json").write_text('{"context_is_admin": "@"}\n')
    (etc / "glance-api.conf").write_text(API_CONF.format(
        db=(state / "glance.sqlite").resolve(), policy=etc / "policy.json",
        paste=etc / "glance-api-paste.ini",
        **{name: path.resolve() for name, path in dirs.items()}))
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


def cmd_seed(state: Path) -> int:
    """Load the running Glance with the conformance image set."""
    url = lib.running_url(state, MARKER)
    if url is None:
        raise lib.TargetError(f"glance is not running (state dir {state}); run start first")
    images = seed_images(url)
    (state / "seeded.json").write_text(json.dumps(images, indent=2, sort_keys=True) + "\n")
    for image in images:
        lib.info(f"{image['id']}  {image['status']:<11} {image['name']}")
    lib.info(f"{len(images)} images seeded; listed in {state / 'seeded.json'}")
    print(url)
    return 0


def cmd_stop(state: Path) -> int:
    """Stop the recorded gunicorn process (exit 0 if not running)."""
    pid = lib.running_pid(state, MARKER)
    if pid is not None:
        lib.terminate(pid, STOP_TIMEOUT)
        lib.info(f"glance (pid {pid}) stopped")
    else:
        lib.info("glance is not running")
    lib.clear_state(state)
    return 0


def cmd_url(state: Path) -> int:
    """Print the URL of the running Glance."""
    url = lib.running_url(state, MARKER)
    if url is None:
        raise lib.TargetError(f"glance is not running (state dir {state})")
    print(url)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    parser = lib.OneLineParser(prog=PROG, description="Run a real Glance for the suite.")
    parser.add_argument("command", choices=("start", "seed", "stop", "url"))
    parser.add_argument("--state-dir", type=Path, default=lib.default_state_dir("glance"),
                        help="config, database, image files, PID and log (default: %(default)s)")
    parser.add_argument("--port", type=lib.port_number, default=DEFAULT_PORT,
                        help="port on 127.0.0.1 for start; 0 picks a free one (default: %(default)s)")
    args = parser.parse_args(argv)
    state = args.state_dir.expanduser()
    commands = {"start": lambda: cmd_start(state, args.port), "seed": lambda: cmd_seed(state),
                "stop": lambda: cmd_stop(state), "url": lambda: cmd_url(state)}
    return lib.main_guard(commands[args.command], PROG)


if __name__ == "__main__":
    sys.exit(main())

"""Start, seed, stop a real OpenStack Glance 15.0.2 (Pike) serving the v1 API (and v2), no Keystone.

Usage: python tools/glance_v1_target.py start --backend sqlite|mariadb [--port N] [--state-dir DIR]
       python tools/glance_v1_target.py seed|stop|url [--state-dir DIR]

Pike is the last Glance release that serves v1; it runs on CPython 2.7 (pyenv's 2.7.18) in a
cached virtualenv, with the pins of glance-pike-py27-constraints.txt. glance-api and
glance-registry each serve in the foreground; the database is a SQLite file or a private
mariadbd (Debian's mariadb-server, installed with apt-get when missing) on its own datadir,
socket and port. Every process is stopped by its recorded PID.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS.parent))  # conformance/ (its stdlib-only modules, e.g. glance/disk_data.py)
sys.path.insert(0, str(TOOLS))

import _targetlib as lib  # noqa: E402
from _glance_v1_images import seed_images  # noqa: E402

PROG = "glance_v1_target"
GLANCE = "glance==15.0.2"
PYMYSQL = "PyMySQL==0.7.11"
PY27_VERSION = "2.7.18"
CONSTRAINTS = TOOLS / "glance-pike-py27-constraints.txt"
# virtualenv 20.21 is the last that makes Python 2.7 environments (it seeds pip 20.3.4 offline).
VIRTUALENV = ("virtualenv==20.21.1", "platformdirs==3.11.0", "distlib==0.4.4", "filelock==3.32.7")
BACKENDS = ("sqlite", "mariadb")
DEFAULT_PORT = 9292
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
DB_STOP_TIMEOUT = 60.0
SOCKET_MAX = 107  # sun_path holds 108 bytes including the final NUL
MARIADBD = "mariadbd"
# Recorded processes, stopped in this order: (key in target.json, what, command-line marker).
API = ("pid", "glance-api", "bin/glance-api")
REGISTRY = ("registry_pid", "glance-registry", "bin/glance-registry")
DATABASE = ("db_pid", "mariadbd", MARIADBD)
PROCESSES = (API, REGISTRY, DATABASE)
# pip must see only the default index: this machine's find-links, extra indexes and global
# constraints are for Python 3 and would break the pinned Python 2.7 install.
PIP_DROPPED = ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "PIP_REQUIREMENT",
               "PIP_USER", "PIP_REQUIRE_VIRTUALENV", "PIP_NO_INDEX", "PIP_TARGET", "PIP_PREFIX",
               "PIP_ONLY_BINARY", "PYTHONPATH", "PYTHONHOME")
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

# glance-15.0.2/etc/policy.json with one change: "publicize_image" is "" (upstream: role:admin),
# because the unauthenticated context is admin but has no roles.
OPEN_RULES = (
    "add_image", "delete_image", "get_image", "get_images", "modify_image", "publicize_image",
    "communitize_image", "copy_from", "download_image", "upload_image", "delete_image_location",
    "get_image_location", "set_image_location", "add_member", "delete_member", "get_member", "get_members",
    "modify_member", "get_task", "get_tasks", "add_task", "modify_task", "deactivate", "reactivate",
    "get_metadef_namespace", "get_metadef_namespaces", "modify_metadef_namespace", "add_metadef_namespace",
    "get_metadef_object", "get_metadef_objects", "modify_metadef_object", "add_metadef_object",
    "list_metadef_resource_types", "get_metadef_resource_type", "add_metadef_resource_type_association",
    "get_metadef_property", "get_metadef_properties", "modify_metadef_property", "add_metadef_property",
    "get_metadef_tag", "get_metadef_tags", "modify_metadef_tag", "add_metadef_tag", "add_metadef_tags",
)
POLICY = {"context_is_admin": "role:admin", "default": "role:admin",
          "manage_image_cache": "role:admin", "tasks_api_access": "role:admin",
          **{rule: "" for rule in OPEN_RULES}}

# Filters of glance-15.0.2/etc/glance-{api,registry}-paste.ini, default (no auth) pipelines.
PASTE_FILTERS = {
    "filter:healthcheck": {"paste.filter_factory": "oslo_middleware:Healthcheck.factory",
                           "backends": "disable_by_file",
                           "disable_by_file_path": "/etc/glance/healthcheck_disable"},
    "filter:unauthenticated-context": {
        "paste.filter_factory":
            "glance.api.middleware.context:UnauthenticatedContextMiddleware.factory"},
    "filter:osprofiler": {"paste.filter_factory": "osprofiler.web:WsgiMiddleware.factory",
                          "hmac_keys": "SECRET_KEY", "enabled": "yes"},
}
API_PASTE = {
    "pipeline:glance-api": {"pipeline": "cors healthcheck http_proxy_to_wsgi versionnegotiation "
                                        "osprofiler unauthenticated-context rootapp"},
    "composite:rootapp": {"paste.composite_factory": "glance.api:root_app_factory",
                          "/": "apiversions", "/v1": "apiv1app", "/v2": "apiv2app"},
    "app:apiversions": {"paste.app_factory": "glance.api.versions:create_resource"},
    "app:apiv1app": {"paste.app_factory": "glance.api.v1.router:API.factory"},
    "app:apiv2app": {"paste.app_factory": "glance.api.v2.router:API.factory"},
    "filter:versionnegotiation": {
        "paste.filter_factory":
            "glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory"},
    "filter:cors": {"paste.filter_factory": "oslo_middleware.cors:filter_factory",
                    "oslo_config_project": "glance", "oslo_config_program": "glance-api"},
    "filter:http_proxy_to_wsgi": {
        "paste.filter_factory": "oslo_middleware:HTTPProxyToWSGI.factory"},
    **PASTE_FILTERS,
}
REGISTRY_PASTE = {
    "pipeline:glance-registry": {
        "pipeline": "healthcheck osprofiler unauthenticated-context registryapp"},
    "app:registryapp": {"paste.app_factory": "glance.registry.api:API.factory"},
    **PASTE_FILTERS,
}
MARIADB_INIT = """\
CREATE DATABASE IF NOT EXISTS glance CHARACTER SET utf8 COLLATE utf8_general_ci;
CREATE USER IF NOT EXISTS 'glance'@'127.0.0.1' IDENTIFIED BY 'glance';
GRANT ALL PRIVILEGES ON glance.* TO 'glance'@'127.0.0.1';
"""


def python27() -> Path:
    """Return pyenv's CPython 2.7.18; TargetError (one line) when it is not installed."""
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    if shutil.which("pyenv"):
        with contextlib.suppress(lib.TargetError):
            root = lib.run(["pyenv", "root"], "pyenv root", timeout=30).strip() or root
    python = Path(root) / "versions" / PY27_VERSION / "bin" / "python"
    if not python.exists():
        raise lib.TargetError(f"CPython {PY27_VERSION} is missing ({python}); Glance Pike needs "
                              f"it: pyenv install {PY27_VERSION}")
    return python


def pip_env() -> dict[str, str]:
    """Return the environment for pip: no pip config files and none of this machine's extras."""
    env = {k: v for k, v in os.environ.items() if k not in PIP_DROPPED}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_PYTHON_VERSION_WARNING="1", PIP_PROGRESS_BAR="off")
    if "PIP_CERT" not in env and CA_BUNDLE.exists():
        env["PIP_CERT"] = str(CA_BUNDLE)
    return env


def venv_dir() -> Path:
    """Return the cached Python 2.7 virtualenv that holds Glance Pike."""
    return lib.cache_dir() / "glance-pike-venv"


def install_stamp() -> str:
    """Return what the virtualenv was made from: a changed pin list means a new install."""
    pins = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()
    return f"{GLANCE} {PYMYSQL} {' '.join(VIRTUALENV)} python-{PY27_VERSION} constraints-{pins}\n"


def venv_ready(venv: Path) -> bool:
    """Tell whether the virtualenv matches the stamp and imports glance and pymysql."""
    stamp = venv / "conformance-install.txt"
    if not stamp.exists() or stamp.read_text() != install_stamp():
        return False
    return lib.venv_imports(venv, "glance.version, pymysql")


def ensure_venv(log: Path) -> Path:
    """Create the Python 2.7 virtualenv and install Glance Pike unless it is already there."""
    venv = venv_dir()
    if venv_ready(venv):
        return venv
    py27 = python27()
    lib.info(f"installing {GLANCE} (Pike, Python {PY27_VERSION}) into {venv} ...")
    env = pip_env()
    tool = lib.cache_dir() / "virtualenv-tool"
    if not (tool / "virtualenv").is_dir():
        lib.run([sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "--target",
                 str(tool), *VIRTUALENV], "pip install virtualenv", env=env, log_path=log)
    lib.run([sys.executable, "-m", "virtualenv", "--quiet", "--no-periodic-update", "--clear",
             "--app-data", str(tool / "app-data"), "-p", str(py27), str(venv)],
            "creating the Python 2.7 virtualenv", env=dict(env, PYTHONPATH=str(tool)),
            log_path=log)
    lib.run([str(venv / "bin" / "pip"), "install", "--quiet", "-c", str(CONSTRAINTS), GLANCE,
             PYMYSQL], f"pip install {GLANCE}", env=env, log_path=log)
    (venv / "conformance-install.txt").write_text(install_stamp())
    if not venv_ready(venv):
        raise lib.TargetError(f"glance still not importable from {venv}; log: {log}")
    return venv


def mariadbd_path() -> str | None:
    """Return the mariadbd binary (often outside a non-root PATH), or None."""
    found = shutil.which(MARIADBD)
    return found or next((p for p in ("/usr/sbin/mariadbd",) if os.access(p, os.X_OK)), None)


def ensure_mariadb(log: Path) -> str:
    """Install Debian's mariadb-server unless mariadbd is there; return the mariadbd path."""
    lib.apt_install("mariadb-server", lambda: mariadbd_path() is not None, log)
    found = mariadbd_path()
    assert found is not None
    return found


def mysql_greets(port: int) -> bool:
    """Tell whether a MySQL-protocol server greets on 127.0.0.1:port (protocol version 10)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        data = sock.recv(64)
    return len(data) > 4 and data[4] == 10


def start_mariadb(state: Path, record: Callable[..., None]) -> str:
    """Start a private mariadbd (a new datadir on first use); return the Glance connection URL."""
    binary = ensure_mariadb(state / "install.log")
    db = state / "mysql"
    sock = db / "mysqld.sock"
    if len(str(sock)) > SOCKET_MAX:
        raise lib.TargetError(f"socket path too long for a unix socket: {sock}")
    db.mkdir(parents=True, exist_ok=True)
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    if not (db / "data" / "mysql").is_dir():
        shutil.rmtree(db / "data", ignore_errors=True)
        lib.run(["mariadb-install-db", "--no-defaults", f"--datadir={db / 'data'}", *as_root,
                 "--auth-root-authentication-method=socket", "--skip-test-db"],
                "mariadb-install-db", log_path=db / "install-db.log")
    (db / "init.sql").write_text(MARIADB_INIT)  # run by mariadbd before it accepts clients
    port = lib.free_port()
    log = db / "mariadbd.log"
    proc = lib.spawn([binary, "--no-defaults", f"--datadir={db / 'data'}", f"--socket={sock}",
                      f"--pid-file={db / 'mariadbd.pid'}", f"--port={port}",
                      "--bind-address=127.0.0.1", *as_root, f"--log-error={log}",
                      f"--init-file={db / 'init.sql'}"], db / "mariadbd.out", cwd=db)
    record(db_pid=proc.pid)
    lib.wait_ready(proc, lambda: mysql_greets(port), START_TIMEOUT, "mariadbd", log)
    return f"mysql+pymysql://glance:glance@127.0.0.1:{port}/glance?charset=utf8"


def write_config(state: Path, database: str, api_port: int, registry_port: int) -> Path:
    """Write the API and registry configs, paste files and policy under state/etc."""
    etc, images = state / "etc", state / "images"
    for folder in (etc, images):
        folder.mkdir(parents=True, exist_ok=True)
    (etc / "policy.json").write_text(json.dumps(POLICY, indent=4, sort_keys=True) + "\n")
    lib.write_ini(etc / "glance-api-paste.ini", API_PASTE)
    lib.write_ini(etc / "glance-registry-paste.ini", REGISTRY_PASTE)
    common = {"bind_host": "127.0.0.1", "workers": 0, "debug": "false", "use_stderr": "true"}
    policy = {"policy_file": etc / "policy.json"}
    lib.write_ini(etc / "glance-api.conf", {
        "DEFAULT": {**common, "bind_port": api_port, "enable_v1_api": "True",
                    "enable_v2_api": "True", "enable_v1_registry": "True",
                    "enable_v2_registry": "False", "registry_host": "127.0.0.1",
                    "registry_port": registry_port},
        "database": {"connection": database},
        "glance_store": {"stores": "file,http", "default_store": "file",
                         "filesystem_store_datadir": f"{images}/"},
        "paste_deploy": {"flavor": "", "config_file": etc / "glance-api-paste.ini"},
        "oslo_policy": policy,
    })
    lib.write_ini(etc / "glance-registry.conf", {
        "DEFAULT": {**common, "bind_port": registry_port},
        "database": {"connection": database},
        "paste_deploy": {"flavor": "", "config_file": etc / "glance-registry-paste.ini"},
        "oslo_policy": policy,
    })
    return etc


def healthy(url: str) -> bool:
    """Tell whether GET <url>/healthcheck answers 200."""
    try:
        with urllib.request.urlopen(url + "/healthcheck", timeout=2) as resp:
            return int(resp.status) == 200
    except OSError:  # HTTPError, URLError, timeouts
        return False


def recorded_backend(state: Path) -> str | None:
    """Return the backend whose database this state dir holds, or None for a new state dir."""
    marker = state / "backend"
    return marker.read_text().strip() if marker.exists() else None


def cmd_start(state: Path, port: int, backend: str | None) -> int:
    """Install if needed, start the database, the registry and the API, print the URL."""
    url = lib.running_url(state, API[2])
    if url is not None:
        print(url)
        return 0
    if backend is None:
        raise lib.TargetError("start needs --backend sqlite or --backend mariadb")
    state = state.resolve()
    held = recorded_backend(state)
    if held not in (None, backend):
        raise lib.TargetError(f"{state} holds a {held} database; use another --state-dir "
                              f"or remove it")
    venv = ensure_venv(state / "install.log")
    state.mkdir(parents=True, exist_ok=True)
    (state / "backend").write_text(backend + "\n")
    port = port or lib.free_port()
    url = f"http://127.0.0.1:{port}"
    if healthy(url):
        raise lib.TargetError(f"something already answers on {url}; choose another --port")
    fields: dict[str, object] = {"backend": backend}

    def record(**more: object) -> None:
        fields.update(more)
        lib.write_state(state, **fields)

    try:
        database = (start_mariadb(state, record) if backend == "mariadb"
                    else f"sqlite:///{state / 'glance.sqlite'}")
        registry_port = lib.free_port()
        etc = write_config(state, database, port, registry_port)
        if not (state / "db-synced").exists():
            lib.run([str(venv / "bin" / "glance-manage"), "--config-file",
                     str(etc / "glance-api.conf"), "db_sync"], "glance-manage db_sync",
                    env=pip_env(), log_path=state / "db_sync.log")
            (state / "db-synced").write_text("")
        for (key, what, _), conf, where in (
                (REGISTRY, "glance-registry.conf", f"http://127.0.0.1:{registry_port}"),
                (API, "glance-api.conf", url)):
            log = state / f"{what}.log"
            proc = lib.spawn([str(venv / "bin" / what), "--config-file", str(etc / conf)], log,
                             env=pip_env(), cwd=state)
            record(**{key: proc.pid}, **({"url": url, "log": str(log)} if key == "pid" else {}))
            lib.wait_ready(proc, lambda: healthy(where), START_TIMEOUT, what, log)  # noqa: B023
    except BaseException:
        stop_all(state, quiet=True)
        raise
    print(url)
    return 0


def stop_all(state: Path, quiet: bool = False) -> bool:
    """Stop every recorded process (API, registry, mariadbd) by PID; tell whether any ran."""
    stopped = False
    for key, what, marker in PROCESSES:
        pid = lib.running_pid(state, marker, key)
        if pid is None:
            continue
        lib.terminate(pid, DB_STOP_TIMEOUT if key == DATABASE[0] else STOP_TIMEOUT)
        stopped = True
        if not quiet:
            lib.info(f"{what} (pid {pid}) stopped")
    lib.clear_state(state)
    return stopped


def cmd_stop(state: Path) -> int:
    """Stop whatever start left running (exit 0 if nothing runs)."""
    if not stop_all(state):
        lib.info("glance (v1) is not running")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    parser = lib.command_parser(PROG, "Glance Pike (v1 API)", "glance-v1",
                                "config, database, image files, PIDs and logs", DEFAULT_PORT)
    parser.add_argument("--backend", choices=BACKENDS,
                        help="database for start: a SQLite file or a private mariadbd")
    args = parser.parse_args(argv)
    state = args.state_dir.expanduser()
    commands = {"start": lambda: cmd_start(state, args.port, args.backend),
                "seed": lambda: lib.cmd_seed(state, API[2], "glance (v1)", seed_images,
                                             lib.describe_image),
                "stop": lambda: cmd_stop(state),
                "url": lambda: lib.cmd_url(state, API[2], "glance (v1)")}
    return lib.main_guard(commands[args.command], PROG)


if __name__ == "__main__":
    sys.exit(main())

"""Start, seed, stop a real OpenStack Keystone with a real Glance behind keystonemiddleware, on 127.0.0.1.

Keystone 30.0.0 issues fernet tokens; Glance 33.0.0 (its paste `keystone` flavor) checks every /v2 request
through keystonemiddleware. `start` also writes a clouds.yaml in the state dir with two clouds, `conformance-admin`
(the admin of project admin) and `conformance-member` (a member of project demo), whose catalogue names Glance.

Usage: python tools/keystone_target.py start|seed|stop|url [--state-dir DIR] [--port N]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS.parent))  # conformance/ (its stdlib-only modules, e.g. glance/disk_data.py)
sys.path.insert(0, str(TOOLS))

import _targetlib as lib  # noqa: E402
import glance_target  # noqa: E402
from _glance_images import seed_images  # noqa: E402

PROG = "keystone_target"
KEYSTONE_PIN = ("keystone==30.0.0", "gunicorn==27.0.1")
KEYSTONE_MARKER = "keystone-venv/bin/gunicorn"  # keystone's gunicorn gets no arguments: its venv names it
GLANCE_MARKER = glance_target.MARKER
DEFAULT_PORT = 9292
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
REGION = "RegionOne"
DOMAIN = "Default"
CLOUDS_FILE = "clouds.yaml"
ADMIN_CLOUD, MEMBER_CLOUD = "conformance-admin", "conformance-member"
# Local, throwaway passwords of a server bound to 127.0.0.1 that `start` recreates from nothing every time.
PASSWORDS = {"admin": "conformance-admin-pass", "glance": "conformance-glance-pass",
             "demo": "conformance-demo-pass"}


def venv_dir() -> Path:
    """Return the cached virtualenv that holds Keystone and gunicorn."""
    return lib.cache_dir() / "keystone-venv"


def ensure_venv(log: Path) -> Path:
    """Create the virtualenv and install Keystone into it unless it is already there."""
    venv = venv_dir()
    if sys.version_info < (3, 11):
        raise lib.TargetError(f"keystone {KEYSTONE_PIN[0].partition('==')[2]} needs Python 3.11 or later; "
                              f"this is {sys.version.split()[0]}")
    if (venv / "bin" / "gunicorn").exists() and lib.venv_imports(venv, "keystone.version, gunicorn"):
        return venv
    lib.info(f"installing {' '.join(KEYSTONE_PIN)} into {venv} ...")
    venv.parent.mkdir(parents=True, exist_ok=True)
    lib.run([sys.executable, "-m", "venv", "--clear", str(venv)], "creating the virtualenv", log_path=log)
    lib.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *KEYSTONE_PIN],
            "pip install keystone", log_path=log)
    if not lib.venv_imports(venv, "keystone.version, gunicorn"):
        raise lib.TargetError(f"keystone still not importable from {venv}; log: {log}")
    return venv


def answers(url: str) -> bool:
    """Tell whether GET url answers 200."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/json"}),
                                    timeout=2) as resp:
            return int(resp.status) == 200
    except OSError:
        return False


def start_keystone(state: Path, port: int) -> str:
    """Configure Keystone (sqlite, fernet), bootstrap its admin and catalogue, serve it; return its URL."""
    venv = ensure_venv(state / "install-keystone.log")
    home = state / "keystone"
    etc = home / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    keys = home / "fernet-keys"  # keystone-manage creates the key folders itself, mode 0700
    lib.write_ini(etc / "keystone.conf", {
        "DEFAULT": {"debug": "false", "use_stderr": "true"},
        "database": {"connection": f"sqlite:///{home / 'keystone.sqlite'}"},
        "token": {"provider": "fernet"},
        "fernet_tokens": {"key_repository": keys},
        "fernet_receipts": {"key_repository": keys},  # else fernet_setup writes under /etc/keystone
        "credential": {"key_repository": home / "credential-keys"},
        "cache": {"enabled": "false"},
    })
    url = f"http://127.0.0.1:{port}"
    manage = [str(venv / "bin" / "keystone-manage"), "--config-file", str(etc / "keystone.conf")]
    owner = ["--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid())]
    lib.run([*manage, "db_sync"], "keystone-manage db_sync", log_path=home / "manage.log")
    lib.run([*manage, "fernet_setup", *owner], "keystone-manage fernet_setup", log_path=home / "manage.log")
    lib.run([*manage, "credential_setup", *owner], "keystone-manage credential_setup", log_path=home / "manage.log")
    lib.run([*manage, "bootstrap", "--bootstrap-password", PASSWORDS["admin"],
             *(f"--bootstrap-{kind}-url={url}/v3" for kind in ("admin", "internal", "public")),
             f"--bootstrap-region-id={REGION}"], "keystone-manage bootstrap", log_path=home / "manage.log")
    # Keystone reads oslo.config options from sys.argv: gunicorn gets no arguments, only ./gunicorn.conf.py.
    (home / "gunicorn.conf.py").write_text(
        f'wsgi_app = "keystone.wsgi.api:application"\nbind = "127.0.0.1:{port}"\nworkers = 1\nthreads = 4\n'
        "control_socket_disable = True\n")
    proc = lib.spawn([str(venv / "bin" / "gunicorn")], home / "keystone.log",
                     env=dict(os.environ, OS_KEYSTONE_CONFIG_DIR=str(etc)), cwd=home)
    lib.write_state(state, keystone_pid=proc.pid, keystone_url=url)
    lib.wait_ready(proc, lambda: answers(f"{url}/v3"), START_TIMEOUT, "keystone (gunicorn)", home / "keystone.log")
    return url


def keystone_call(url: str, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[Any, str]:
    """One Keystone v3 request: (decoded JSON body, X-Subject-Token)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json", "Content-Type": "application/json",
               **({"X-Auth-Token": token} if token else {})}
    request = urllib.request.Request(f"{url}/v3{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            raw = resp.read()
            return (json.loads(raw) if raw.strip() else None), resp.headers.get("X-Subject-Token", "")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace").replace("\n", " ")[:200]
        raise lib.TargetError(f"keystone {method} {path} answered {exc.code}: {detail}") from None
    except OSError as exc:
        raise lib.TargetError(f"keystone {method} {path}: {exc}") from None


def issue_token(url: str, user: str, project: str) -> str:
    """A project-scoped token of `user` (password authentication)."""
    domain = {"name": DOMAIN}
    _, token = keystone_call(url, "POST", "/auth/tokens", {"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": user, "domain": domain, "password": PASSWORDS[user]}}},
        "scope": {"project": {"name": project, "domain": domain}}}})
    if not token:
        raise lib.TargetError(f"keystone issued no token to {user}")
    return token


def register(url: str, glance_url: str) -> None:
    """Create what Glance and the suite need: project service, user glance, the image service and its endpoints,
    project demo with a member."""
    admin = issue_token(url, "admin", "admin")

    def create(kind: str, body: dict[str, Any]) -> str:
        created, _ = keystone_call(url, "POST", f"/{kind}s", {kind: body}, admin)
        return str(created[kind]["id"])

    def role(name: str) -> str:
        found, _ = keystone_call(url, "GET", f"/roles?name={name}", token=admin)
        return str(found["roles"][0]["id"]) if found["roles"] else create("role", {"name": name})

    for project, user, role_name in (("service", "glance", "service"), ("demo", "demo", "member")):
        project_id = create("project", {"name": project, "domain_id": "default"})
        user_id = create("user", {"name": user, "domain_id": "default", "password": PASSWORDS[user]})
        keystone_call(url, "PUT", f"/projects/{project_id}/users/{user_id}/roles/{role(role_name)}", token=admin)
    service_id = create("service", {"type": "image", "name": "glance", "description": "OpenStack Image"})
    for interface in ("public", "internal", "admin"):
        create("endpoint", {"service_id": service_id, "interface": interface, "url": glance_url,
                            "region_id": REGION})


def start_glance(state: Path, port: int, keystone_url: str) -> str:
    """Configure Glance behind keystonemiddleware (default policy) and serve it; return its URL."""
    venv = glance_target.ensure_venv(state / "install-glance.log")
    home = state / "glance"
    authtoken = {"www_authenticate_uri": keystone_url, "auth_url": keystone_url, "auth_type": "password",
                 "project_domain_name": DOMAIN, "user_domain_name": DOMAIN, "project_name": "service",
                 "username": "glance", "password": PASSWORDS["glance"]}
    etc = glance_target.write_config(home, venv / "etc" / "glance" / "glance-api-paste.ini", authtoken)
    conf = etc / "glance-api.conf"
    lib.run([str(venv / "bin" / "glance-manage"), "--config-file", str(conf), "db_sync"], "glance-manage db_sync",
            log_path=home / "db_sync.log")
    url = f"http://127.0.0.1:{port}"
    argv = [str(venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
            "--no-control-socket", "--chdir", str(home), GLANCE_MARKER]
    proc = lib.spawn(argv, home / "glance.log", env=dict(os.environ, OS_GLANCE_CONFIG_DIR=str(etc)), cwd=home)
    lib.write_state(state, **lib.read_state(state), pid=proc.pid, url=url, log=str(home / "glance.log"))
    lib.wait_ready(proc, lambda: answers(f"{url}/versions"), START_TIMEOUT, "glance (gunicorn)",
                   home / "glance.log")
    return url


def write_clouds(state: Path, keystone_url: str) -> Path:
    """clouds.yaml with the admin and the member cloud (JSON is YAML: the tools use only the standard library)."""
    def cloud(user: str, project: str) -> dict[str, Any]:
        return {"auth": {"auth_url": f"{keystone_url}/v3", "username": user, "password": PASSWORDS[user],
                         "project_name": project, "user_domain_name": DOMAIN, "project_domain_name": DOMAIN},
                "region_name": REGION, "interface": "public", "identity_api_version": 3}

    path = state / CLOUDS_FILE
    path.write_text(json.dumps({"clouds": {ADMIN_CLOUD: cloud("admin", "admin"),
                                           MEMBER_CLOUD: cloud("demo", "demo")}}, indent=2) + "\n")
    path.chmod(0o600)
    return path


def cmd_start(state: Path, port: int) -> int:
    """Start Keystone and Glance from an empty state dir (unless running), print Glance's URL."""
    url = lib.running_url(state, GLANCE_MARKER)
    if url is not None and lib.running_pid(state, KEYSTONE_MARKER, "keystone_pid") is not None:
        print(url)
        return 0
    cmd_stop(state)
    shutil.rmtree(state, ignore_errors=True)  # the catalogue and users are made once per Keystone database
    state = state.resolve()
    state.mkdir(parents=True)
    try:
        keystone_url = start_keystone(state, lib.free_port())
        port = port or lib.free_port()
        glance_url = f"http://127.0.0.1:{port}"
        if answers(f"{glance_url}/versions"):
            raise lib.TargetError(f"something already answers on {glance_url}; choose another --port")
        register(keystone_url, glance_url)
        start_glance(state, port, keystone_url)
        clouds = write_clouds(state, keystone_url)
    except BaseException:
        cmd_stop(state)
        raise
    lib.info(f"keystone {keystone_url}, glance {glance_url}; clouds {ADMIN_CLOUD} and {MEMBER_CLOUD} in {clouds}")
    print(glance_url)
    return 0


def token_opener(token: str) -> urllib.request.OpenerDirector:
    """An opener that sends `token` as X-Auth-Token with every request (for the shared Glance seeding code)."""
    class WithToken(urllib.request.BaseHandler):
        def http_request(self, request: urllib.request.Request) -> urllib.request.Request:
            request.add_unredirected_header("X-Auth-Token", token)
            return request

    return urllib.request.build_opener(WithToken())


def cmd_seed(state: Path) -> int:
    """Seed Glance with the admin's token (the same image set as the Glance target)."""
    keystone_url = lib.read_state(state).get("keystone_url")
    if not isinstance(keystone_url, str) or lib.running_pid(state, KEYSTONE_MARKER, "keystone_pid") is None:
        raise lib.TargetError(f"keystone is not running (state dir {state}); run start first")
    urllib.request.install_opener(token_opener(issue_token(keystone_url, "admin", "admin")))
    return lib.cmd_seed(state, GLANCE_MARKER, "glance", seed_images, lib.describe_image)


def cmd_stop(state: Path) -> int:
    """Stop Glance, then Keystone, each by its recorded PID."""
    pid = lib.running_pid(state, GLANCE_MARKER)
    if pid is not None:
        lib.terminate(pid, STOP_TIMEOUT)
        lib.info(f"glance (pid {pid}) stopped")
    pid = lib.running_pid(state, KEYSTONE_MARKER, "keystone_pid")
    if pid is not None:
        lib.terminate(pid, STOP_TIMEOUT)
        lib.info(f"keystone (pid {pid}) stopped")
    lib.clear_state(state)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    parser = lib.command_parser(PROG, "Keystone with Glance behind it", "keystone-glance",
                                "configs, databases, keys, clouds.yaml, PIDs and logs", DEFAULT_PORT)
    args = parser.parse_args(argv)
    state = args.state_dir.expanduser()
    commands = {"start": lambda: cmd_start(state, args.port),
                "seed": lambda: cmd_seed(state),
                "stop": lambda: cmd_stop(state),
                "url": lambda: lib.cmd_url(state, GLANCE_MARKER, "glance")}
    return lib.main_guard(commands[args.command], PROG)


if __name__ == "__main__":
    sys.exit(main())

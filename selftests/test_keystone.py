"""OpenStack credentials against a fake Keystone on loopback: token, catalogue, renewal, and secrets kept out."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from conformance import catalog
from conformance.evidence import Censor, ExchangeLog
from conformance.options import ConfigError, build_config
from conformance.reference.http_server import start_http_server
from conformance.targets.auth import Auth
from conformance.targets.http import HttpTarget
from conformance.targets.keystone import KeystoneAuth, KeystoneSettings, settings
from selftests.conftest import run_suite
from selftests.fake_keystone import PASSWORD, FakeKeystone, password_env, running, serving
from selftests.run_limits import limits

GLANCE_ONE, GLANCE_INTERNAL, GLANCE_TWO = "http://192.0.2.1:9292", "http://192.0.2.2:9292", "http://192.0.2.3:9292"
ENDPOINTS = {("public", "RegionOne"): GLANCE_ONE, ("internal", "RegionOne"): GLANCE_INTERNAL,
             ("public", "RegionTwo"): GLANCE_TWO}
CREDENTIAL_REQUIREMENTS = sorted(
    rid for rid, req in catalog.requirements().items() if catalog.Need.CREDENTIALS in req.requires
)


@pytest.fixture
def keystone() -> Iterator[FakeKeystone]:
    with running(FakeKeystone(endpoints=dict(ENDPOINTS))) as fake:
        yield fake


def auth_of(found: KeystoneSettings | None) -> KeystoneAuth:
    assert found is not None
    return KeystoneAuth(found, verify=True, timeout=5)


def test_password_variables_get_a_token(keystone: FakeKeystone) -> None:
    auth = auth_of(settings(None, None, None, password_env(keystone)))
    assert auth.token() == keystone.issued[-1]
    assert auth.headers("GET", GLANCE_ONE) == {"X-Auth-Token": keystone.issued[-1]}
    sent = keystone.requests[-1]["auth"]
    assert sent["identity"]["password"]["user"] == {"name": "demo", "password": PASSWORD, "domain": {"name": "Default"}}
    assert sent["scope"]["project"] == {"name": "demo", "domain": {"name": "Default"}}
    assert auth.token() == keystone.issued[-1] and len(keystone.issued) == 1  # a valid token is kept


def test_wrong_password_is_a_target_error_without_the_password(keystone: FakeKeystone) -> None:
    auth = auth_of(settings(None, None, None, password_env(keystone, OS_PASSWORD="not-the-password-9d1e")))
    with pytest.raises(Exception, match="Keystone at") as raised:
        auth.token()
    assert "not-the-password-9d1e" not in str(raised.value)


@pytest.mark.parametrize(("interface", "region", "expected"), [
    (None, None, GLANCE_ONE), ("internal", "RegionOne", GLANCE_INTERNAL), ("public", "RegionTwo", GLANCE_TWO),
    ("publicURL", "RegionTwo", GLANCE_TWO),
])
def test_endpoint_from_the_catalogue(keystone: FakeKeystone, interface: str | None, region: str | None,
                                     expected: str) -> None:
    env = password_env(keystone)
    if region:
        env["OS_REGION_NAME"] = region
    config = build_config({"os_interface": interface}, {}, env, Path.cwd())
    assert config.families == ("glance",) and config.glance_url is None and not config.embedded
    assert config.keystone is not None and config.token is None
    assert auth_of(config.keystone).endpoint() == expected


def test_no_endpoint_for_an_unknown_region_says_so(keystone: FakeKeystone) -> None:
    auth = auth_of(settings(None, None, "RegionNine", password_env(keystone)))
    with pytest.raises(Exception, match="no public endpoint of type image in region RegionNine"):
        auth.endpoint()


def write_clouds(path: Path, keystone: FakeKeystone, **cloud: Any) -> Path:
    document = {"clouds": {"fake": {
        "auth": {"auth_url": f"{keystone.url}/v3", "username": "demo", "password": PASSWORD, "project_name": "demo",
                 "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": 3, **cloud}}}
    path.write_text(json.dumps(document))  # JSON is YAML
    return path


def test_clouds_yaml_cloud(keystone: FakeKeystone, tmp_path: Path) -> None:
    clouds = write_clouds(tmp_path / "clouds.yaml", keystone, interface="internal")
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "fake"}
    config = build_config({}, {}, env, tmp_path)
    assert config.keystone is not None and config.keystone.interface == "internal"
    assert PASSWORD in config.secrets()
    assert PASSWORD not in repr(config) and PASSWORD not in repr(config.keystone)
    assert auth_of(config.keystone).endpoint() == GLANCE_INTERNAL
    overridden = build_config({"os_interface": "public", "os_region_name": "RegionTwo"}, {}, env, tmp_path)
    assert auth_of(overridden.keystone).endpoint() == GLANCE_TWO
    assert config.cannot_judge(catalog.requirements()[CREDENTIAL_REQUIREMENTS[0]]) is None


def test_clouds_yaml_is_found_where_openstack_looks(keystone: FakeKeystone, tmp_path: Path) -> None:
    (tmp_path / "openstack").mkdir()
    write_clouds(tmp_path / "openstack" / "clouds.yaml", keystone)
    config = build_config({"os_cloud": "fake"}, {}, {"XDG_CONFIG_HOME": str(tmp_path)}, tmp_path)
    assert config.keystone is not None and str(tmp_path / "openstack" / "clouds.yaml") in config.keystone.source


@pytest.mark.parametrize(("options", "env", "message"), [
    ({"os_cloud": "nowhere"}, {"OS_CLIENT_CONFIG_FILE": "/nonexistent/clouds.yaml"}, "no clouds.yaml found"),
    ({"os_cloud": "fake", "token": "t0k"}, {}, "either --token"),
    ({"os_cloud": "other"}, {}, "not in"),
    ({"os_cloud": "fake", "os_interface": "sideways"}, {}, "choose one of public, internal, admin"),
])
def test_bad_keystone_options_are_one_line(keystone: FakeKeystone, tmp_path: Path, options: dict[str, str],
                                           env: dict[str, str], message: str) -> None:
    clouds = write_clouds(tmp_path / "clouds.yaml", keystone)
    with pytest.raises(ConfigError, match=message):
        build_config(options, {}, {"OS_CLIENT_CONFIG_FILE": str(clouds), **env}, tmp_path)


def recording_target(answer: Callable[[str | None], int]) -> tuple[Callable[..., Any], list[str | None]]:
    """A target that records each X-Auth-Token and answers the status `answer` gives for it."""
    seen: list[str | None] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        token = Request(environ).headers.get("X-Auth-Token")
        seen.append(token)
        return Response("{}", status=answer(token), content_type="application/json")(environ, start_response)

    return app, seen


def test_an_expiring_token_is_renewed(tmp_path: Path) -> None:
    # keystoneauth1 fetches a new token when the current one expires within two minutes: one minute is "expiring".
    with running(FakeKeystone(endpoints=dict(ENDPOINTS), lifetime=60)) as keystone:
        app, seen = recording_target(lambda token: 200)
        with serving(app) as url:
            http = HttpTarget(url, limits=limits(timeout="5"), log=ExchangeLog(Censor()),
                              credentials=auth_of(settings(None, None, None, password_env(keystone))))
            assert [http.request("GET", "/v2/images").status for _ in range(3)] == [200, 200, 200]
    assert seen == keystone.issued and len(set(seen)) == 3


def test_a_refused_token_is_renewed_once_then_judged(keystone: FakeKeystone) -> None:
    auth = auth_of(settings(None, None, None, password_env(keystone)))
    first = auth.token()
    app, seen = recording_target(lambda token: 401 if token == first else 200)  # the first token was revoked
    with serving(app) as url:
        http = HttpTarget(url, limits=limits(timeout="5"), log=ExchangeLog(Censor()), credentials=auth)
        assert http.request("GET", "/v2/images").status == 200
        assert seen == [first, keystone.issued[-1]] and keystone.issued[-1] != first
        assert http.head_raw("/v1/images/x").status == 200 and len(seen) == 3  # the new token stays
    app, seen = recording_target(lambda token: 401)  # a target that refuses every token
    with serving(app) as url:
        http = HttpTarget(url, limits=limits(timeout="5"), log=ExchangeLog(Censor()), credentials=auth)
        assert http.request("GET", "/v2/images").status == 401
        assert len(seen) == 2  # one renewal, then the 401 is the answer
        assert http.request("GET", "/v2/images", auth=Auth.NONE).status == 401
        assert http.request("GET", "/v2/images", auth=Auth.FORGED).status == 401
        assert len(seen) == 4 and seen[2] is None and seen[3] not in keystone.issued  # the wrong ones: never renewed


def test_keystoneauth1_is_not_imported_without_keystone_options(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from conformance.options import build_config; "
            "build_config({'target': 'http://127.0.0.1:9', 'token': 't'}, {}, {}, Path('.')); "
            "print('keystoneauth1' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={})
    assert done.stdout.strip() == "False"


def echoing(app: Callable[..., Any]) -> Callable[..., Any]:
    """A target that echoes the token it was sent in a response header no censor knows by name."""
    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            return start_response(status, [*headers, ("X-Debug-Echo", environ.get("HTTP_X_AUTH_TOKEN", ""))], *args)
        return app(environ, start)
    return wrapped


def test_run_through_the_catalogue_judges_401_and_keeps_secrets(tmp_path: Path) -> None:
    token = "gAAAAABfakeKeystoneToken_0123456789-abcdefABCDEF"
    with start_http_server(token=token, wrap=echoing) as glance, running(
        FakeKeystone(endpoints={("public", "RegionOne"): glance.url}, token=token, lifetime=60)
    ) as keystone:
        clouds = write_clouds(tmp_path / "clouds.yaml", keystone)
        run = run_suite(tmp_path / "reports", "-k", "401 or show", "--log-level=DEBUG", "-rA",
                        env={"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "fake"})
    outcomes = run.outcomes()
    assert {rid: outcomes[rid] for rid in CREDENTIAL_REQUIREMENTS} == dict.fromkeys(CREDENTIAL_REQUIREMENTS, "passed")
    assert run.results["target"]["endpoints"]["glance"]["url"] == glance.url
    assert "service catalogue" in run.results["target"]["url"]
    assert len(keystone.issued) > 1  # the one-minute token was renewed during the run
    outputs = [run.stdout, run.stderr, *(p.read_text() for p in run.report_dir.iterdir() if p.is_file())]
    assert any("X-Debug-Echo" in text for text in outputs)  # the echoed token reached the reports, censored
    for secret in (PASSWORD, token):
        assert not [text for text in outputs if secret in text]


@pytest.mark.parametrize(("env", "auth_type", "secret"), [
    ({"OS_APPLICATION_CREDENTIAL_ID": "a1b2", "OS_APPLICATION_CREDENTIAL_SECRET": "app-cred-secret-77"},
     "v3applicationcredential", "app-cred-secret-77"),
    ({"OS_AUTH_TYPE": "v3token", "OS_TOKEN": "pre-issued-token-88", "OS_PROJECT_NAME": "demo"}, "v3token",
     "pre-issued-token-88"),
])
def test_other_auth_types_keep_their_secrets(tmp_path: Path, env: dict[str, str], auth_type: str, secret: str) -> None:
    config = build_config({}, {}, {"OS_AUTH_URL": "http://127.0.0.1:9/v3", **env}, tmp_path)
    assert config.keystone is not None and config.keystone.auth_type == auth_type
    assert secret in config.secrets() and secret not in repr(config)


def test_secure_yaml_adds_the_password(tmp_path: Path) -> None:
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  fake:\n    auth:\n      auth_url: http://127.0.0.1:9/v3\n      username: demo\n"
                      "      project_name: demo\n")
    secure = tmp_path / "secure.yaml"
    secure.write_text("clouds:\n  fake:\n    auth:\n      password: from-secure-yaml-42\n")
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLIENT_SECURE_FILE": str(secure)}
    config = build_config({"os_cloud": "fake"}, {}, env, tmp_path)
    assert config.keystone is not None and config.keystone.auth["password"] == "from-secure-yaml-42"
    assert config.secrets() == ("from-secure-yaml-42",)

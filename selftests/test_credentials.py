"""Credentials: where the transport puts them, the 401 checks, and runs that cannot judge them."""

from __future__ import annotations

import re
from pathlib import Path

from conformance import catalog
from conformance.evidence import Censor, ExchangeLog
from conformance.options import build_config
from conformance.reference.http_server import start_http_server
from conformance.targets.auth import Auth, forged_token
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpTarget
from selftests.conftest import SuiteRun, run_suite
from selftests.run_limits import limits

TOKEN = "credentials-selftest-token-0123456789abcdef"
V2_401 = "GLANCE-V2-SHOW-401"
CREDENTIAL_REQUIREMENTS = {
    rid for rid, req in catalog.requirements().items() if catalog.Need.CREDENTIALS in req.requires
}
CIRROS = "3c3d1d01-b48a-4639-8a88-08be3b9b5d78"


def test_the_401_requirements_need_credentials() -> None:
    assert {"GLANCE-V2-SHOW-401", "GLANCE-V1-HEAD-401", "GLANCE-V1-1-DETAIL-401"} <= CREDENTIAL_REQUIREMENTS


def test_embedded_run_makes_up_a_token_and_keeps_it_secret(tmp_path: Path) -> None:
    first, second = (build_config({}, {}, {}, tmp_path) for _ in range(2))
    assert first.token and second.token and first.token != second.token
    assert first.secrets() == (first.token,)
    assert Censor(first.secrets()).text(f"token {first.token} leaked") == "token *** leaked"
    with_target = build_config({"target": "http://127.0.0.1:9"}, {}, {}, tmp_path)
    assert with_target.token is None
    assert with_target.cannot_judge(catalog.requirements()[V2_401]) == "no credentials configured (--token)"
    assert first.cannot_judge(catalog.requirements()[V2_401]) is None


def test_forged_token_has_the_shape_of_the_real_one() -> None:
    for real in ("0123456789abcdef0123456789abcdef", "gAAAAABk-x_9Zq=", "Bearer.XYZ"):
        forged = forged_token(real)
        assert forged != real and len(forged) == len(real)
        assert [c.isalnum() for c in forged] == [c.isalnum() for c in real]


def test_transport_alone_places_the_credentials() -> None:
    with start_http_server(token=TOKEN) as server:
        log = ExchangeLog(Censor((TOKEN,)))
        glance = GlanceClient(HttpTarget(server.url, limits=limits(timeout="10"), log=log, token=TOKEN))
        assert glance.show(CIRROS).status == 200
        assert glance.with_auth(Auth.NONE).show(CIRROS).status == 401
        assert glance.with_auth(Auth.FORGED).head_v1(CIRROS).status == 401
        assert glance.with_auth(Auth.RUN).detail_v1_1().status == 200
        sent = [exchange.request_headers for exchange in log.drain()]
    assert [headers.get("X-Auth-Token") for headers in sent] == ["***", None, "***", "***"]


def run_without_token(tmp_path: Path) -> SuiteRun:
    with start_http_server() as server:  # a target that checks no credentials, as Glance without Keystone
        return run_suite(tmp_path / "reports", "tests/glance", "--target", server.url)


def test_run_without_token_lists_the_401_requirements_as_not_judged(tmp_path: Path) -> None:
    run = run_without_token(tmp_path)
    results = run.results
    # a required requirement not judged is no pass: incomplete, naming the option that would judge it, exit 1
    assert results["verdict"] == "incomplete" and run.returncode == 1, run.stdout[-2000:]
    assert "GLANCE-V2-SHOW-401 (required) not judged: no credentials configured (--token)" in results["verdict_reasons"]
    listed = {entry["id"]: entry["reason"] for entry in results["not_judged"]}
    assert set(listed) == CREDENTIAL_REQUIREMENTS
    assert set(listed.values()) == {"no credentials configured (--token)"}
    assert not CREDENTIAL_REQUIREMENTS & {entry["id"] for entry in results["requirements"]}
    html = (tmp_path / "reports" / "report.html").read_text(encoding="utf-8")
    assert 'id="not-judged"' in html and "no credentials configured (--token)" in html
    assert re.search(r"\d+ not judged", run.stdout)

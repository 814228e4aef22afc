"""AK/SK signing: the vendor SDK's signer on every request, checked by an independent gateway; AK/SK never shown."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from conformance import catalog
from conformance.evidence import Censor, ExchangeLog
from conformance.options import ConfigError, build_config
from conformance.reference.http_server import start_http_server
from conformance.targets.auth import Auth
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpTarget
from conformance.targets.signing import AK_ENV, SECURITY_TOKEN_ENV, SK_ENV, SigningUnavailable, signer_for
from selftests.aksk_gateway import SigningGateway, verify
from selftests.conftest import run_suite
from selftests.run_limits import limits

# The extra is part of the dev install; without it only the "not installed" behaviour can be checked.
needs_sdk = pytest.mark.skipif(importlib.util.find_spec("huaweicloudsdkcore") is None,
                               reason="AK/SK signing needs the huaweicloud extra")

AK = "SELFTESTAK0123456789"
SK = "selftest-secret-key-0123456789abcdefghij"
WRONG_SK = "selftest-wrong-key-0123456789abcdefghijk"
SECURITY_TOKEN = "selftest-security-token-0123456789"
CIRROS = "3c3d1d01-b48a-4639-8a88-08be3b9b5d78"


def signed_client(url: str, sk: str = SK) -> tuple[GlanceClient, ExchangeLog]:
    log = ExchangeLog(Censor((AK, sk)))
    return GlanceClient(HttpTarget(url, limits=limits(timeout="10"), log=log, signer=signer_for(AK, sk))), log


@needs_sdk
def test_the_sdk_signature_verifies_and_a_changed_request_does_not() -> None:
    signer = signer_for(AK, SK)
    assert signer is not None
    url = "http://127.0.0.1:9292/v2/images?name=a%20b&limit=3&sort_key=name&sort_key=created_at"
    body = b'{"name": "x"}'
    sent = {k.lower(): v for k, v in signer.sign("POST", url, {"Content-Type": "application/json"}, body).items()}
    assert sent["authorization"].startswith(f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=")
    assert "x-sdk-date" in sent and SK not in str(sent)
    target = url.partition("9292")[2]
    assert verify("POST", target, sent, body, {AK: SK}) == ""
    assert verify("POST", target, sent, body, {AK: WRONG_SK}) == "signature does not match"
    assert verify("POST", target, sent, b'{"name": "y"}', {AK: SK}) == "signature does not match"
    assert verify("POST", target.replace("limit=3", "limit=4"), sent, body, {AK: SK}) == "signature does not match"
    assert verify("PUT", target, sent, body, {AK: SK}) == "signature does not match"


@needs_sdk
def test_every_kind_of_request_is_signed_and_verified() -> None:
    gateway = SigningGateway({AK: SK})
    with start_http_server(wrap=gateway.wrap) as server:
        glance, log = signed_client(server.url)
        assert glance.show(CIRROS).status == 200
        assert glance.list_v2(max_images=2)
        assert glance.detail_v1_1({"name": "no such image ~'&=", "limit": 2}).status == 200
        assert glance.head_v1(CIRROS).status == 200
        assert glance.http.head_raw(f"/v1/images/{CIRROS}").status == 200
        assert glance.detail_v1_1().status == 200
        assert glance.with_auth(Auth.NONE).show(CIRROS).status == 401
        assert glance.with_auth(Auth.FORGED).show(CIRROS).status == 401
        shown = log.drain()
    assert all(v.signed and v.verified for v in gateway.verdicts[:-2]), gateway.verdicts
    assert [(v.signed, v.verified) for v in gateway.verdicts[-2:]] == [(False, False)] * 2
    assert all(AK not in str(exchange.to_dict()) for exchange in shown)


@needs_sdk
def test_a_wrong_secret_key_is_rejected() -> None:
    gateway = SigningGateway({AK: SK})
    with start_http_server(wrap=gateway.wrap) as server:
        glance, _ = signed_client(server.url, sk=WRONG_SK)
        assert glance.show(CIRROS).status == 401
    assert [v.reason for v in gateway.verdicts] == ["signature does not match"]


@needs_sdk
def test_options_and_environment_select_signing_and_keep_it_secret(tmp_path: Path) -> None:
    given = build_config({"target": "http://127.0.0.1:9", "ak": AK, "sk": SK}, {}, {}, tmp_path)
    from_env = build_config({"target": "http://127.0.0.1:9"}, {},
                            {AK_ENV: AK, SK_ENV: SK, SECURITY_TOKEN_ENV: SECURITY_TOKEN}, tmp_path)
    assert (given.ak, given.sk) == (from_env.ak, from_env.sk) == (AK, SK)
    assert {AK, SK, SECURITY_TOKEN} <= set(from_env.secrets())
    assert AK not in repr(from_env) and SK not in repr(from_env) and "AK/SK-signed" in repr(from_env)
    assert given.cannot_judge(catalog.requirements()["GLANCE-V2-SHOW-401"]) is None
    with pytest.raises(ConfigError, match="needs both"):
        build_config({"ak": AK}, {}, {}, tmp_path)


def test_without_the_extra_the_options_fail_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "huaweicloudsdkcore", None)  # as if the extra were not installed
    monkeypatch.setitem(sys.modules, "huaweicloudsdkcore.auth.credentials", None)
    with pytest.raises(ConfigError) as raised:
        build_config({"ak": AK, "sk": SK}, {}, {}, tmp_path)
    assert str(raised.value).count("\n") == 0 and "image-api-conformance[huaweicloud]" in str(raised.value)
    assert SK not in str(raised.value)
    with pytest.raises(SigningUnavailable, match=r"pip install"):
        signer_for(AK, SK)


def run_signed(tmp_path: Path, sk: str, *args: str, flags: bool) -> tuple[SigningGateway, str, Path]:
    """Run the Glance tests against the gateway with AK/SK as flags or as the SDK's environment variables."""
    gateway = SigningGateway({AK: SK})
    keys = ["--ak", AK, "--sk", sk] if flags else []
    with start_http_server(wrap=gateway.wrap) as server:
        run = run_suite(tmp_path / "reports", "tests/glance", "--target", server.url,
                        *keys, *args, env={} if flags else {AK_ENV: AK, SK_ENV: sk})
    return gateway, run.stdout + run.stderr, tmp_path / "reports"


def assert_not_shown(reports: Path, output: str, *secrets: str) -> None:
    for path in reports.iterdir():
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not any(secret in text for secret in secrets), path.name
    assert not any(secret in output for secret in secrets)


@needs_sdk
def test_a_signed_run_passes_with_every_signed_request_verified(tmp_path: Path) -> None:
    # with writes, so that uploads (image data, unsigned payload) and deletes are signed too
    gateway, stdout, reports = run_signed(tmp_path, SK, "--allow-writes", flags=False)
    results = json.loads((reports / "results.json").read_text(encoding="utf-8"))
    assert results["verdict"] == "pass", stdout[-2000:]
    signed = [v for v in gateway.verdicts if v.signed]
    assert len(signed) > 20 and all(v.verified for v in signed), [v for v in signed if not v.verified][:3]
    assert {"POST", "PUT", "DELETE", "HEAD", "GET"} <= {v.method for v in signed}
    # the only unsigned requests are the 401 checks' own (no credentials, or a forged token)
    assert all(not v.verified for v in gateway.verdicts if not v.signed)
    judged = {entry["id"] for entry in results["requirements"]}
    assert {"GLANCE-V2-SHOW-401", "GLANCE-V1-HEAD-401"} <= judged
    assert_not_shown(reports, stdout, AK, SK)


@needs_sdk
def test_a_signed_run_with_a_wrong_secret_key_fails(tmp_path: Path) -> None:
    gateway, output, reports = run_signed(tmp_path, WRONG_SK, flags=True)
    results = json.loads((reports / "results.json").read_text(encoding="utf-8"))
    assert results["verdict"] == "fail", output[-2000:]
    assert gateway.verdicts and not any(v.verified for v in gateway.verdicts)
    assert_not_shown(reports, output, AK, WRONG_SK)

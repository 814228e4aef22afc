"""Reproductions: only the headers that matter, the run's TLS options, credentials by reference, hostile text quoted."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.evidence import Censor, Exchange, ExchangeLog
from conformance.reference.http_server import start_http_server
from conformance.reproduce import Replay
from conformance.targets.auth import Auth
from conformance.targets.errors import TargetError
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpTarget
from selftests.run_limits import limits

TOKEN = "reproduce-selftest-token-0123456789abcdef"
CIRROS = "3c3d1d01-b48a-4639-8a88-08be3b9b5d78"
HOSTILE = "x'; touch /tmp/pwned; echo \"$(id)\" `id` $HOME\n\\"
NOISE = {"User-Agent": "python-requests/2.34.2", "Accept-Encoding": "gzip, deflate", "Connection": "keep-alive",
         "Content-Length": "12", "Accept": "*/*"}
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="no curl on this machine")


def exchange(headers: dict[str, str], *, method: str = "GET", body: str | None = None,
             replay: Replay | None = None, target: str = "http://127.0.0.1:9292/v2/images") -> Exchange:
    return Censor((TOKEN,)).exchange(Exchange(protocol="http", method=method, target=target,
                                              request_headers=headers, request_body=body, replay=replay))


def client(url: str, verify: bool | str = True) -> tuple[GlanceClient, ExchangeLog]:
    log = ExchangeLog(Censor((TOKEN,)))
    return GlanceClient(HttpTarget(url, limits=limits(timeout="10"), log=log, token=TOKEN, verify=verify)), log


def test_only_the_headers_that_matter_and_the_token_by_reference() -> None:
    shown = exchange({**NOISE, "Content-Type": "application/json", "X-Auth-Token": TOKEN,
                      "X-Image-Meta-Name": "cirros"}, method="POST", body='{"name": "cirros"}').reproduce()
    for noise in NOISE:
        assert noise not in shown
    assert "-H 'Content-Type: application/json'" in shown and "-H 'X-Image-Meta-Name: cirros'" in shown
    assert '-H "X-Auth-Token: $OS_AUTH_TOKEN"' in shown
    assert TOKEN not in shown and "***" not in shown
    assert shown.startswith("curl -sS -i -X POST ") and shown.endswith(" http://127.0.0.1:9292/v2/images")
    assert "--data-binary '{\"name\": \"cirros\"}'" in shown


def test_hostile_text_stays_one_inert_argument() -> None:
    target = f"http://127.0.0.1:9292/v2/images/{HOSTILE}"
    shown = exchange({"Accept": "application/json", "X-Image-Meta-Name": HOSTILE}, method="PUT", body=HOSTILE,
                     target=target).reproduce()
    assert shlex.split(shown) == ["curl", "-sS", "-i", "-X", "PUT", "-H", "Accept: application/json",
                                  "-H", f"X-Image-Meta-Name: {HOSTILE}", "--data-binary", HOSTILE, target]


def test_a_body_that_starts_with_at_is_data_not_a_file_name() -> None:
    shown = exchange({"Content-Type": "text/plain"}, method="POST", body="@/etc/passwd").reproduce()
    assert shlex.split(shown)[-3:] == ["--data-raw", "@/etc/passwd", "http://127.0.0.1:9292/v2/images"]


def test_the_runs_tls_options_are_part_of_the_command(tmp_path: Path) -> None:
    bundle = tmp_path / "ca bundle's.pem"
    bundle.write_text("")
    for verify, expected in ((False, ["-k"]), (str(bundle), ["--cacert", str(bundle)]), (True, [])):
        log = ExchangeLog(Censor(()))
        target = HttpTarget("https://127.0.0.1:9", limits=limits(timeout="0.5"), log=log, verify=verify)
        with pytest.raises(TargetError):  # nothing listens: only the recorded exchange matters
            target.request("GET", "/v2/images")
        arguments = shlex.split(log.drain()[0].reproduce())
        assert arguments[:3 + len(expected)] == ["curl", "-sS", "-i", *expected]


def test_image_data_is_sent_from_a_file_the_user_names() -> None:
    shown = exchange({"Content-Type": "application/octet-stream"}, method="PUT",
                     body="<3 bytes of image data, md5 abc>", replay=Replay(binary_body=True)).reproduce()
    note, command = shown.split("\n")
    assert note.startswith("# the request body was <3 bytes of image data") and "IMAGE_FILE" in note
    assert "--data-binary @IMAGE_FILE" in command


def test_a_signed_request_is_signed_afresh_by_the_helper() -> None:
    headers = {"Accept": "application/json", "Host": "127.0.0.1:9292", "X-Sdk-Date": "20261201T000000Z",
               "Authorization": "SDK-HMAC-SHA256 Access=AK, SignedHeaders=accept;host;x-sdk-date, Signature=00"}
    shown = exchange(headers, replay=Replay(signed=True, tls=("-k",))).reproduce()
    note, command = shown.split("\n")
    assert "HUAWEICLOUD_SDK_AK" in note
    helper, curl = command.split(" | ")
    assert shlex.split(helper) == ["python", "-m", "conformance.targets.signing", "-H", "Accept: application/json",
                                   "http://127.0.0.1:9292/v2/images"]
    assert shlex.split(curl) == ["curl", "-sS", "-i", "-k", "-K", "-"]


def run_shell(command: str, env: dict[str, str]) -> str:
    """Run a reproduction as a user pastes it into bash; its output."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    completed = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30,
                               env={"PATH": path, **env}, cwd=Path(__file__).parent.parent)
    return completed.stdout + completed.stderr


@needs_curl
def test_pasted_reproductions_send_the_same_request() -> None:
    with start_http_server(token=TOKEN) as server:
        glance, log = client(server.url)
        assert glance.show(CIRROS).status == 200
        assert glance.with_auth(Auth.FORGED).head_v1(CIRROS).status == 401
        assert glance.detail_v1_1({"name": HOSTILE}).status == 200
        valid, forged, hostile = (exchange.reproduce() for exchange in log.drain())
        assert run_shell(valid, {"OS_AUTH_TOKEN": TOKEN}).startswith("HTTP/1.1 200")
        assert run_shell(valid, {"OS_AUTH_TOKEN": "not-the-token"}).startswith("HTTP/1.1 401")
        assert run_shell(forged, {"OS_AUTH_TOKEN": TOKEN}).startswith("HTTP/1.1 401")
        assert run_shell(hostile, {"OS_AUTH_TOKEN": TOKEN}).startswith("HTTP/1.1 200")
        suite_sent, curl_sent = server.request_log[2], server.request_log[-1]
    assert curl_sent == suite_sent and "touch" in curl_sent[1]  # the same request, the hostile text only data


@needs_curl
def test_a_pasted_signed_reproduction_verifies(tmp_path: Path) -> None:
    pytest.importorskip("huaweicloudsdkcore", reason="AK/SK signing needs the huaweicloud extra")
    from conformance.targets.signing import AK_ENV, SK_ENV, signer_for
    from selftests.aksk_gateway import SigningGateway

    ak, sk = "REPRODUCEAK", "reproduce-secret-key-0123456789"
    gateway = SigningGateway({ak: sk})
    with start_http_server(wrap=gateway.wrap) as server:
        log = ExchangeLog(Censor((ak, sk)))
        glance = GlanceClient(HttpTarget(server.url, limits=limits(timeout="10"), log=log, signer=signer_for(ak, sk)))
        assert glance.show(CIRROS).status == 200
        assert glance.detail_v1_1({"name": "a b~'"}).status == 200
        assert glance.head_v1(CIRROS).status == 200
        assert glance.http.head_raw(f"/v1/images/{CIRROS}").status == 200
        assert glance.http.request("POST", "/v2/images", payload={"name": "signed ' \" $x"}).status != 401
        shown = log.drain()
        assert all(v.verified for v in gateway.verdicts) and len(gateway.verdicts) == len(shown)
        for exchange in shown:
            command = exchange.reproduce()
            assert ak not in command and sk not in command
            del gateway.verdicts[:]
            run_shell(command, {AK_ENV: ak, SK_ENV: sk})
            run_shell(command, {AK_ENV: ak, SK_ENV: "wrong"})
            assert [v.verified for v in gateway.verdicts] == [True, False], (command, gateway.verdicts)

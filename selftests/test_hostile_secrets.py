"""No secret leaves the run in any form: every written form is censored, texts are censored before they are cut,
log records are censored as they are made, and every output of a run against a target that echoes the token holds
none of it."""

from __future__ import annotations

import base64
import html
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from conformance import evidence
from conformance.evidence import Censor, clip
from conformance.reference.glance import images as catalogue
from conformance.reference.glance.app import WSGIApp
from conformance.reference.http_server import start_http_server
from conformance.targets.origin import OffOrigin, path_on
from selftests.conftest import run_suite
from selftests.test_hostile_data import outputs

TOKEN = "S3cretTok-91xq7Zb"  # fits in a header name, as a hostile target may put it there
PASSWORD, AK, SK, SECURITY = "Pa55-w0rd-Q", "AKLMNOPQ1234", "skVeryS3cretKey99", "st-TokenZZ-8812"
SECRETS = (TOKEN, PASSWORD, AK, SK, SECURITY, f"alice:{PASSWORD}")


def written_forms(secret: str) -> list[str]:
    """`secret` as a hostile target or a careless encoder may write it."""
    raw = secret.encode()
    forms = [secret, secret.upper(), secret.lower(), secret.swapcase(), repr(secret), json.dumps(secret),
             json.dumps(json.dumps(secret)), "".join(f"\\u{ord(c):04x}" for c in secret),
             "".join(f"\\u{ord(c):04X}" for c in secret), quote(secret, safe=""), quote_plus(secret),
             "".join(f"%{b:02x}" for b in raw), "".join(f"%25{b:02X}" for b in raw), html.escape(secret),
             "".join(f"&#{ord(c)};" for c in secret), "".join(f"&#x{ord(c):x};" for c in secret),
             raw.hex(), raw.hex().upper()]
    for offset in range(3):  # base64 inside a longer base64 text, the secret starting at each alignment
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.append(encode(b"p" * offset + raw + b"tail").decode("ascii"))
    return forms


def leaked(text: str, secret: str) -> bool:
    """Whether any eight characters of `secret` (in any case), or its base64, survive in `text`."""
    lowered = text.lower()
    pieces = {secret[i:i + 8].lower() for i in range(len(secret) - 7)}
    return any(piece in lowered for piece in pieces) or any(form in text for form in evidence.encoded_forms(secret))


@pytest.mark.parametrize("secret", SECRETS)
def test_every_written_form_of_every_secret_is_censored(secret: str) -> None:
    censor = Censor(SECRETS)
    for form in written_forms(secret):
        shown = censor.text(f"before {form} after")
        assert "***" in shown and shown.startswith("before ") and shown.endswith(" after"), (form, shown)
        assert not leaked(shown, secret), (form, shown)
        assert censor.leaks(form), form
    assert censor.text("nothing secret: images, tags, 200 OK") == "nothing secret: images, tags, 200 OK"


def test_header_names_and_data_keys_are_censored() -> None:
    censor = Censor((TOKEN,))
    headers = censor.headers({f"X-Echo-{TOKEN}": "1", "Server": f"glance ({TOKEN.upper()})"})
    assert not any(leaked(f"{name}: {value}", TOKEN) for name, value in headers.items()), headers
    data = censor.data({"fingerprint": {"server": TOKEN}, TOKEN: [1, {"owner": TOKEN.lower()}]})
    assert not leaked(json.dumps(data), TOKEN), data
    untouched = {"a": [1, 2.5, None, True, "text"]}
    assert censor.data(untouched) is untouched


@pytest.fixture
def run_censor() -> Iterator[Censor]:
    """The secrets' censor installed as the run's, as the plugin installs it; the previous one restored after."""
    previous = evidence._RUN_CENSOR
    censor = Censor(SECRETS).install()
    yield censor
    evidence._RUN_CENSOR = previous


def test_a_text_is_censored_before_it_is_cut(run_censor: Censor) -> None:
    text = "x" * 180 + TOKEN + "y" * 100  # the cut at 200 falls inside the token
    assert not leaked(clip(text, 200) + "z" * 20, TOKEN)
    link = f"http://elsewhere.invalid/{'p' * 160}{TOKEN}"
    with pytest.raises(OffOrigin) as raised:
        path_on("http://127.0.0.1:9292", link)
    assert TOKEN[:6] not in str(raised.value), str(raised.value)


def test_log_records_are_censored_as_they_are_made(run_censor: Censor, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        logging.getLogger("urllib3.connectionpool").debug('%s://%s:%s "%s %s %s" %s %s', "http", "127.0.0.1", 9292,
                                                          "GET", f"/v1.1/images/detail?name={quote(TOKEN)}",
                                                          "HTTP/1.1", 200, 17)
    assert caplog.records and "***" in caplog.text
    assert not leaked(caplog.text, TOKEN), caplog.text


def echoing(app: WSGIApp) -> WSGIApp:
    """A `wrap`: the root page and every answer echo the token (a header value, a header name, the root body), and
    the token is every shown image's owner, upper-cased, and base64-encoded at offset one in a property."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answered: list[Any] = []
        body = b"".join(app(environ, lambda status, headers, *_: answered.append((status, headers))))
        status, headers = answered[0]
        path = environ.get("PATH_INFO", "")
        if path == "/":
            body = f'{{"versions": [], "echo": "Authorization: {TOKEN}"}}'.encode()
        elif path.startswith("/v2/images/") and status.startswith("200"):
            shown = json.loads(body)
            encoded = base64.b64encode(b"x" + TOKEN.encode()).decode("ascii")
            body = json.dumps({**shown, "owner": TOKEN.upper(), "x_note": encoded}).encode()
        headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
        headers += [("Server", f"glance/{TOKEN}"), (f"X-Echo-{TOKEN}", "1"), ("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [body]

    return middleware


def test_a_run_against_a_target_that_echoes_the_token_leaks_it_nowhere(tmp_path: Path) -> None:
    with start_http_server(token=TOKEN, wrap=echoing) as server:
        run = run_suite(tmp_path / "reports", "tests/glance/test_v2_show.py", "--target", server.url, "--token", TOKEN,
                        "-o", "log_cli=true", "--log-cli-level=DEBUG", timeout=300)
    texts = outputs(run)
    assert "GET /v2/images" in texts["console"]  # the live log ran, with urllib3's request lines
    assert run.results["target"]["endpoints"]["glance"]["fingerprint"]["server"].endswith("glance/***")
    for name, text in texts.items():
        assert not leaked(text, TOKEN), f"the token leaked into {name}"


def test_queries_drawn_from_names_holding_the_token_leak_it_nowhere(tmp_path: Path) -> None:
    # every image's name holds the token: the v1.1 name filter draws its queries (and its letter-case probe) from them
    images = [replace(image, name=f"{image.name}-{TOKEN}") for image in catalogue.IMAGES]
    with start_http_server(token=TOKEN, images=images) as server:
        run = run_suite(tmp_path / "reports", "tests/glance/test_v1_1_detail_filters.py", "--target", server.url,
                        "--token", TOKEN, "-o", "log_cli=true", "--log-cli-level=DEBUG", timeout=300)
    texts = outputs(run)
    assert "name=" in texts["report.html"]  # the drawn queries were sent and recorded
    for name, text in texts.items():
        assert not leaked(text, TOKEN), f"the token leaked into {name}"

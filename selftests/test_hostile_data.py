"""What a hostile target sends cannot steer the suite, leak a secret, reach the terminal raw, or break the run.

Links and redirects off the target's origin are never followed; secrets are censored in every form they are
written in; control characters are escaped on the console; bad JSON and unencodable ids fail requirements instead
of erroring; a report that cannot be written ends the run with one line.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import grpc
import pytest

from conformance import json_text
from conformance.evidence import Censor, ExchangeLog, inert, secret_forms
from conformance.hypothesis_profiles import HypothesisInfo
from conformance.options import build_config
from conformance.reference.cri import images as cri_images
from conformance.reference.cri.servicer import PROTO_MODULES, ImageServicer, service_handler
from conformance.reference.glance.images import image_by_key
from conformance.reference.http_server import start_http_server
from conformance.run.state import RunState
from conformance.targets.glance import GlanceClient
from conformance.targets.http import BodyNotJSON, HttpTarget, OffOrigin
from selftests import hostile
from selftests.conftest import MEMORY_BOUND_KIB, V1_TESTS, SuiteRun, measured_run, run_suite
from selftests.hostile_glance import json_bytes, replacing, rewriting
from selftests.run_limits import limits

TOKEN = "SEC\\RET123-hostile"  # a backslash: printed escaped (SEC\\RET123) in a repr
USER, PASSWORD = "alice", "S3cretPW"
VIVADO = image_by_key("centos-vivado")
CIRROS = image_by_key("cirros")
ESCAPES = "\x1b[2J\x1b]0;TITLE\x07\u202e\x9b"
DEEP = b"[" * 100_000 + b"]" * 100_000
# 150,000 entries, each `{}` and its comma: about 300,000 JSON values, over the default --max-json-values (200,000)
MANY_ENTRIES = b'{"images": [' + b",".join([b"{}"] * 150_000) + b"]}"
VALID_JSON = "GLANCE-V1-1-DETAIL-VALID-JSON"
AGREES_WITH_LIST = "GLANCE-V2-SHOW-AGREES-WITH-LIST"
V2 = ("tests/glance/test_v2_show.py",)


@contextmanager
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback port that records every connection made to it (it should receive none)."""
    received: list[bytes] = []

    def record(conn: socket.socket) -> None:
        received.append(b"connection")

    with hostile.tcp_server(record) as url:
        yield int(url.rsplit(":", 1)[1]), received


# --- links and redirects stay on the origin -------------------------------------------------------------------


@pytest.mark.parametrize("link", [
    "@127.0.0.1:45001/v2/images?marker=x", "1/v2/images", "//127.0.0.1:45001/v2/images",
    "http://127.0.0.1:45001/v2/images", "https://127.0.0.1:4600/v2/images", "http://evil.invalid:4600/v2/images",
    "file:///etc/passwd", "v2/images", "/\\evil.invalid/v2/images", "/v2/images\r\nX: y", "javascript:alert(1)",
])
def test_links_off_the_origin_or_not_paths_are_refused(link: str) -> None:
    target = HttpTarget("http://127.0.0.1:4600", limits=limits(timeout="1"), log=ExchangeLog(Censor()))
    with pytest.raises(OffOrigin):
        target.path_of(link)


@pytest.mark.parametrize(("base", "link", "path"), [
    ("http://127.0.0.1:4600", "/v2/images?marker=x&limit=2", "/v2/images?marker=x&limit=2"),
    ("http://127.0.0.1:4600", "http://127.0.0.1:4600/v2/images?marker=x", "/v2/images?marker=x"),
    ("http://127.0.0.1:80", "http://127.0.0.1/v2/images", "/v2/images"),
    ("https://glance.example:9292/image", "/image/v2/images?marker=y", "/v2/images?marker=y"),
])
def test_links_on_the_origin_are_followed_as_paths(base: str, link: str, path: str) -> None:
    target = HttpTarget(base, limits=limits(timeout="1"), log=ExchangeLog(Censor()))
    assert target.path_of(link) == path
    assert target.url(path).startswith(target.base_url + "/")


def test_url_refuses_what_is_not_a_path() -> None:
    target = HttpTarget("http://127.0.0.1:4600", limits=limits(timeout="1"), log=ExchangeLog(Censor()))
    for path in ("1/v2/images", "@127.0.0.1:45001/v2", "//evil/x"):
        with pytest.raises(OffOrigin):
            target.url(path)


def test_a_redirect_off_the_origin_is_not_followed_and_credentials_stay() -> None:
    with listener() as (other_port, received):
        def redirect(conn: socket.socket) -> None:
            conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/v2/images\r\n"
                         b"Content-Length: 0\r\nConnection: close\r\n\r\n" % other_port)

        with hostile.tcp_server(redirect) as url:
            host = url.split("://", 1)[1]
            log = ExchangeLog(Censor((TOKEN, PASSWORD)))
            target = HttpTarget(f"http://{USER}:{PASSWORD}@{host}", limits=limits(timeout="2"), log=log, token=TOKEN)
            response = target.request("GET", "/v2/images")
        time.sleep(0.3)
    assert response.status == 302
    assert received == []
    (exchange,) = log.drain()
    assert exchange.request_headers["Authorization"] == "***" and exchange.request_headers["X-Auth-Token"] == "***"
    assert PASSWORD not in exchange.target and USER not in exchange.target


def off_origin_next(link: str) -> Any:
    """A rewrite: the first page of GET /v2/images links `next` to `link`."""

    def rewrite(path: str, status: int, data: Any) -> tuple[int, bytes] | None:
        if path == "/v2/images" and isinstance(data, dict):
            return 200, json_bytes({**data, "next": link})
        return None

    return rewrite


@pytest.mark.parametrize("form", ["@127.0.0.1:{port}/v2/images?marker=x", "http://127.0.0.1:{port}/v2/images"])
def test_off_origin_next_link_is_not_followed_and_fails_the_list_requirement(tmp_path: Path, form: str) -> None:
    with listener() as (other_port, received):
        link = form.format(port=other_port)
        with start_http_server(token=TOKEN, wrap=rewriting(off_origin_next(link))) as server:
            run = run_suite(tmp_path / "reports", *V2, "--target", server.url, "--token", TOKEN, timeout=300)
        time.sleep(0.3)
    assert received == [], "the suite connected to the port a `next` link named"
    outcomes = run.outcomes()
    assert outcomes["GLANCE-V2-SHOW-AGREES-WITH-LIST"] == "failed", run.stdout[-3000:]
    assert "error" not in outcomes.values()
    assert {rid for rid, outcome in outcomes.items() if outcome == "failed"} == {"GLANCE-V2-SHOW-AGREES-WITH-LIST"}
    failure = run.stdout[run.stdout.index("test_show_equals_list_entry"):]
    assert "`next` not followed" in failure and str(other_port) in failure
    assert f"{server.url}/v2/images\n" in failure  # the exchange that carried the link, to reproduce
    # the listing's exchange, which a passing test's setup made, is in the record
    listed = [e for e in run.results["discovery"] if e["target"] == f"{server.url}/v2/images"]
    assert listed and listed[0]["status"] == 200 and listed[0]["phase"] == "setup"
    assert all(str(other_port) not in e["target"] for e in run.results["discovery"])
    html = (run.report_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="discovery"' in html


# --- secrets are censored in every form ------------------------------------------------------------------------


def leaking(path: str, status: int, data: Any) -> tuple[int, bytes] | None:
    """A rewrite: every shown image carries the credentials in several forms, as non-string extra properties."""
    if path.startswith("/v2/images/") and status == 200 and isinstance(data, dict):
        basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        forms = [TOKEN, json.dumps(TOKEN), quote(TOKEN, safe=""), base64.b64encode(TOKEN.encode()).decode(),
                 PASSWORD, quote(PASSWORD), basic, f"Basic {basic}"]
        return 200, json_bytes({**data, "x_leak": forms, "x_leak_text": f"token={TOKEN} password={PASSWORD}"})
    return None


def outputs(run: SuiteRun) -> dict[str, str]:
    """Everything the run wrote: the console and the three reports."""
    texts = {"console": run.stdout + run.stderr}
    for name in ("junit.xml", "report.html", "results.json"):
        texts[name] = (run.report_dir / name).read_text(encoding="utf-8")
    return texts


def test_secrets_never_appear_in_any_form(tmp_path: Path) -> None:
    with start_http_server(token=TOKEN, wrap=rewriting(leaking)) as server:
        host = server.url.split("://", 1)[1]
        run = run_suite(tmp_path / "reports", *V2, "--target", f"http://{USER}:{PASSWORD}@{host}", "--token", TOKEN,
                        timeout=300)
    assert run.outcome("GLANCE-V2-SHOW-EXTRA-PROPS-STRINGS") == "failed", run.stdout[-3000:]
    assert "***" in run.stdout  # the failure shows where the secrets were
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for name, text in outputs(run).items():
        for needle in ("RET123", PASSWORD, base64.b64encode(TOKEN.encode()).decode(), basic,
                       base64.b64encode(PASSWORD.encode()).decode().rstrip("=")):
            assert needle not in text, f"{needle!r} leaked into {name}"
        assert f"{USER}:" not in text, f"the user info of --target leaked into {name}"
    assert run.results["target"]["url"] == server.url


def test_censor_masks_every_written_form() -> None:
    censor = Censor((TOKEN, PASSWORD, f"{USER}:{PASSWORD}"))
    encoded = [base64.b64encode(TOKEN.encode()), base64.urlsafe_b64encode(TOKEN.encode()),
               base64.b64encode(f"{USER}:{PASSWORD}".encode())]
    written = [TOKEN, repr(TOKEN), json.dumps(TOKEN), repr(json.dumps(TOKEN)), json.dumps(repr(TOKEN)),
               quote(TOKEN, safe=""), quote(TOKEN, safe="").replace("%5C", "%5c"), quote(TOKEN), PASSWORD,
               *(form.decode("ascii") for form in encoded)]
    for text in written:
        censored = censor.text(f"before {text} after")
        assert "RET123" not in censored and PASSWORD not in censored and censor.leaks(text), text
    assert censor.text("nothing secret here") == "nothing secret here"
    assert TOKEN in secret_forms(TOKEN)


def test_no_repr_holds_a_secret(tmp_path: Path) -> None:
    config = build_config({"target": f"http://{USER}:{PASSWORD}@127.0.0.1:9292", "token": TOKEN}, {}, {}, tmp_path)
    assert config.target == "http://127.0.0.1:9292" and config.basic_auth == (USER, PASSWORD)
    assert PASSWORD in config.secrets() and TOKEN in config.secrets()
    log = ExchangeLog(Censor(config.secrets()))
    state = RunState(config=config, log=log, hypothesis=HypothesisInfo("ci", True, None))
    http = HttpTarget(f"http://{USER}:{PASSWORD}@127.0.0.1:9292", limits=limits(timeout="1"), log=log, token=TOKEN)
    assert http.base_url == "http://127.0.0.1:9292"
    for value in (config, state, http, GlanceClient(http), log, log.censor):
        shown = repr(value)
        assert "RET123" not in shown and PASSWORD not in shown and USER not in shown, shown


# --- target text is inert on the console -----------------------------------------------------------------------


def test_inert_escapes_control_and_direction_characters() -> None:
    assert inert(f"id {ESCAPES} é 中\tend\n") == "id \\x1b[2J\\x1b]0;TITLE\\x07\\u202e\\x9b é 中\tend\n"
    assert inert("\ud800") == "\\ud800"


# --- bad data fails the requirement it breaks ------------------------------------------------------------------


def test_deep_json_is_not_json() -> None:
    with pytest.raises(ValueError, match="nested"):
        json_text.loads(DEEP)
    with pytest.raises(ValueError, match="nested"):
        json_text.loads("[" * 40 + "]" * 40)
    assert json_text.loads('{"a": [[1]]}') == {"a": [[1]]}


def test_deep_json_body_is_a_target_failure() -> None:
    def deep(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(DEEP), DEEP))

    with hostile.tcp_server(deep) as url:
        response = HttpTarget(url, limits=limits(timeout="5"), log=ExchangeLog(Censor())).request("GET", "/v2/images/x")
    with pytest.raises(BodyNotJSON):
        response.json()


HOSTILE_IDS = (ESCAPES, "\ud800")


def hostile_data(path: str, status: int, data: Any) -> tuple[int, bytes] | None:
    """A rewrite: the listing adds images with a terminal-escape id (shown with that id) and a lone-surrogate id
    (not found); the show of one real image and every v1.1 detail page answer JSON nested 100,000 deep."""
    if path == "/v2/images" and isinstance(data, dict):
        extra = [{**data["images"][0], "id": image_id} for image_id in HOSTILE_IDS]
        return 200, json_bytes({**data, "images": [*extra, *data["images"]]})
    for image_id in HOSTILE_IDS:
        if path == f"/v2/images/{image_id}":
            shown = json.loads(json_bytes(data)) if isinstance(data, dict) else {}
            return 200, json_bytes({**shown, "id": image_id, "name": f"name {image_id}"})
    if path in (f"/v2/images/{CIRROS.id}", "/v1.1/images/detail"):
        return 200, DEEP
    return None


def test_bad_data_fails_requirements_and_never_errors_nor_reaches_the_terminal(tmp_path: Path) -> None:
    with start_http_server(token=TOKEN, wrap=rewriting(hostile_data)) as server:
        run = run_suite(tmp_path / "reports", *V2, *V1_TESTS, "--target", server.url, "--token", TOKEN,
                        timeout=300)
    outcomes = run.outcomes()
    assert run.returncode == 1, run.stdout[-3000:]
    # the images that were fine are judged as on a clean target; nothing errors, v1.1 included: the unreadable
    # listing fails VALID-JSON, and what needs a walk of it is skipped naming that requirement
    assert "error" not in outcomes.values(), outcomes
    messages = {e["id"]: e.get("message", "") for e in run.results["requirements"]}
    assert all(f"({VALID_JSON})" in messages[rid] for rid, o in outcomes.items()
               if o == "skipped" and rid.startswith("GLANCE-V1-1-")), messages
    assert outcomes["GLANCE-V1-1-DETAIL-FILTER-NAME"] == "skipped"
    assert "maximum recursion depth" not in run.stdout
    assert outcomes["GLANCE-V2-SHOW-200-JSON"] == "failed"  # the 100,000-deep body
    assert outcomes["GLANCE-V2-SHOW-ID-UUID"] == "failed"  # the two hostile ids
    assert outcomes["GLANCE-V1-1-DETAIL-VALID-JSON"] == "failed"
    failure = run.stdout[run.stdout.index("test_existing_image_answers_200_with_json"):]
    assert f"{CIRROS.id}: " in failure and "nested deeper than" in failure
    assert "\\ud800: status 404" in failure  # the image whose id cannot be encoded: failed, and shown escaped
    # the other images are judged as on a clean target: the schema of every real image still passes
    assert outcomes["GLANCE-V2-SHOW-SCHEMA"] in ("passed", "failed")
    console = run.stdout + run.stderr
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]", console), \
        "a control character reached the console"
    assert "\\x1b[2J" in console  # shown, escaped
    texts = outputs(run)
    assert "\x1b" not in texts["junit.xml"]


# what needs a walk of the whole v1.1 listing (the ground truth), and so is not judged when it cannot be read
V1_1_WALKED = ("GLANCE-V1-1-DETAIL-SCHEMA", "GLANCE-V1-1-DETAIL-PROPERTIES-OBJECT", "GLANCE-V1-1-DETAIL-HIDES-DELETED",
               "GLANCE-V1-1-DETAIL-FILTER-NAME", "GLANCE-V1-1-DETAIL-FILTER-SOUND",
               "GLANCE-V1-1-DETAIL-FILTER-COMPLETE", "GLANCE-V1-1-DETAIL-FILTER-MONOTONIC",
               "GLANCE-V1-1-DETAIL-PAGINATION", "GLANCE-V1-1-DETAIL-LIMIT", "GLANCE-V1-1-DETAIL-ACTIVE-SIZE",
               "GLANCE-V1-HEAD-AGREES-WITH-DETAIL")


@pytest.mark.parametrize(("body", "summary"), [
    pytest.param(DEEP, "is not JSON on page 1", id="deep-json"),
    pytest.param(b"<html><body>Service Unavailable</body></html>", "is not JSON on page 1", id="not-json"),
    pytest.param(MANY_ENTRIES, "holds more JSON values than the suite parses on page 1 (raise --max-json-values)",
                 id="150000-entries"),
])
def test_an_unreadable_v1_1_listing_fails_valid_json_and_the_rest_is_not_judged(tmp_path: Path, body: bytes,
                                                                                  summary: str) -> None:
    with start_http_server(token=TOKEN, wrap=rewriting(replacing("/v1.1/images/detail", body))) as server:
        measured = measured_run(tmp_path / "reports", *V1_TESTS, "--target", server.url, "--token", TOKEN,
                                "--budget=120", timeout=300)
    run = measured.run
    outcomes = run.outcomes()
    assert "error" not in outcomes.values(), (outcomes, run.stdout[-3000:])
    assert {rid for rid, outcome in outcomes.items() if outcome == "failed"} == {VALID_JSON}, outcomes
    messages = {e["id"]: e.get("message", "") for e in run.results["requirements"]}
    for rid in V1_1_WALKED:
        assert outcomes[rid] == "skipped", (rid, outcomes[rid], messages[rid])
        assert messages[rid] == f"not judged: the v1.1 listing {summary} ({VALID_JSON})", messages[rid]
    # bounded by the suite whatever the page holds, and recorded: the failure says which cap to raise
    assert measured.peak_kib < MEMORY_BOUND_KIB, f"peak {measured.peak_kib // 1024} MB"
    assert measured.elapsed < 120, measured.elapsed
    if body is MANY_ENTRIES:
        assert "raise --max-json-values" in messages[VALID_JSON], messages[VALID_JSON]


def broken_after_the_first_page(app: Any) -> Any:
    """A `wrap`: every v1.1 detail page asked for with a marker answers 200 with a body that is not JSON."""

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/v1.1/images/detail" and "marker=" in environ.get("QUERY_STRING", ""):
            body = b"<html>not json</html>"
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return middleware


def test_a_v1_1_listing_broken_on_its_second_page_fails_valid_json(tmp_path: Path) -> None:
    # five images a page: the ground truth's second page is the broken one, the first pages VALID-JSON asks are fine
    with start_http_server(token=TOKEN, wrap=broken_after_the_first_page) as server:
        run = run_suite(tmp_path / "reports", "tests/glance/test_v1_1_detail.py", "-p", "selftests.small_pages",
                        "--target", server.url, "--token", TOKEN, timeout=300)
    outcomes = run.outcomes()
    assert "error" not in outcomes.values(), (outcomes, run.stdout[-3000:])
    assert outcomes[VALID_JSON] == "failed", run.stdout[-3000:]
    failure = run.stdout[run.stdout.index("test_listing_answers_200_with_valid_json"):]
    assert "Every page of GET /v1.1/images/detail must answer 200 with valid JSON" in failure, failure[:3000]
    assert "marker=" in failure  # the page that broke, to reproduce
    messages = {e["id"]: e.get("message", "") for e in run.results["requirements"]}
    for rid in ("GLANCE-V1-1-DETAIL-FILTER-NAME", "GLANCE-V1-1-DETAIL-PAGINATION", "GLANCE-V1-1-DETAIL-LIMIT"):
        assert outcomes[rid] == "skipped", (rid, outcomes[rid])
        assert messages[rid] == f"not judged: the v1.1 listing is not JSON on page 2 ({VALID_JSON})", messages[rid]
    # the first page is judged, the rest recorded as not judged
    schema = next(e for e in run.results["requirements"] if e["id"] == "GLANCE-V1-1-DETAIL-SCHEMA")
    assert schema["outcome"] == "passed", schema
    assert any("the listing past the page where the v1.1 listing is not JSON on page 2" in item["reason"]
               for item in schema["not_judged"]), schema


def test_an_unreadable_v2_listing_fails_agrees_with_list_and_the_rest_is_not_judged(tmp_path: Path) -> None:
    with start_http_server(token=TOKEN, wrap=rewriting(replacing("/v2/images", MANY_ENTRIES))) as server:
        measured = measured_run(tmp_path / "reports", *V2, "tests/glance/test_v1_head.py", "--target", server.url,
                                "--token", TOKEN, "--budget=120", timeout=300)
    run = measured.run
    outcomes = run.outcomes()
    assert "error" not in outcomes.values(), (outcomes, run.stdout[-3000:])
    assert {rid for rid, outcome in outcomes.items() if outcome == "failed"} == {AGREES_WITH_LIST}, outcomes
    failure = run.stdout[run.stdout.index("test_show_equals_list_entry"):]
    assert "raise --max-json-values" in failure, failure[:3000]
    messages = {e["id"]: e.get("message", "") for e in run.results["requirements"]}
    for rid in ("GLANCE-V2-SHOW-SCHEMA", "GLANCE-V2-SHOW-200-JSON", "GLANCE-V1-HEAD-200-EMPTY-BODY"):
        assert outcomes[rid] == "skipped", (rid, outcomes[rid])
        assert messages[rid] == f"not judged: no image discovered, GET /v2/images is no image list ({AGREES_WITH_LIST})"
    assert measured.peak_kib < MEMORY_BOUND_KIB, f"peak {measured.peak_kib // 1024} MB"


class _DeepInfo(ImageServicer):
    """The reference CRI ImageService, whose verbose info values are JSON nested 100,000 deep."""

    def _info(self, image: cri_images.CatalogueImage) -> str:
        return DEEP.decode("ascii")


def test_deep_cri_info_fails_info_json_and_nothing_errors(tmp_path: Path) -> None:
    folder = tempfile.mkdtemp(prefix="deep-", dir="/tmp")  # unix socket paths are short
    servicer = _DeepInfo(cri_images.catalogue(), frozenset())
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(tuple(service_handler(version, servicer, []) for version in PROTO_MODULES))
    server.add_insecure_port(f"unix:{folder}/cri.sock")
    server.start()
    try:
        run = run_suite(tmp_path / "reports", "tests/cri", "--target", f"unix://{folder}/cri.sock", timeout=300)
    finally:
        server.stop(0)
        shutil.rmtree(folder, ignore_errors=True)
    outcomes = run.outcomes()
    assert outcomes["CRI-IMAGESTATUS-INFO-JSON"] == "failed", run.stdout[-3000:]
    assert "error" not in outcomes.values(), outcomes
    assert "nested deeper than" in run.stdout


# --- a report that cannot be written ---------------------------------------------------------------------------


def test_unusable_report_dir_is_one_line_and_exit_4(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = run_suite(blocker / "reports", "tests/glance/test_v2_show.py", timeout=120)
    assert run.returncode == 4, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr and "INTERNALERROR" not in run.stdout + run.stderr
    errors = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert len(errors) == 1 and "--report-dir" in errors[0], errors


@pytest.mark.parametrize("report", ["results.json", "junit.xml", "report.html"])
def test_a_report_that_cannot_be_written_is_one_line_and_exit_2(tmp_path: Path, report: str) -> None:
    reports = tmp_path / "reports"
    (reports / report).mkdir(parents=True)
    run = run_suite(reports, "tests/glance/test_v2_show.py::test_existing_image_answers_200_with_json", timeout=120)
    output = run.stdout + run.stderr
    assert run.returncode == 2, output
    assert "Traceback" not in output and "INTERNALERROR" not in output
    errors = [line for line in output.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and report in errors[0], output
    for other in {"results.json", "junit.xml", "report.html"} - {report}:
        assert (reports / other).is_file(), other
    assert not list(reports.glob("*.partial"))

"""Self-tests of write mode (--allow-writes): read-only by default, fixture images written, nothing left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import requests

from conformance.evidence import Censor, ExchangeLog
from conformance.glance.v2_list_filters import LIST
from conformance.glance.write_mode import (
    FIXTURES,
    NAME_PREFIX,
    RUN_ID_PROPERTY,
    UNFORMATTED,
    ImageWriter,
    fixtures_for,
    ground_truth_problems,
    is_leftover,
    new_run_id,
)
from conformance.reference.glance import faults as F
from conformance.reference.glance.app import WSGIApp
from conformance.reference.http_server import start_http_server
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpTarget
from selftests.conftest import REPO, SuiteRun
from selftests.run_limits import limits

LIVE = [f for f in FIXTURES if not f.deleted]
UPLOADED = [f for f in FIXTURES if f.size is not None]
CREATED_UNDER_IMS = len(FIXTURES) + 1  # and UNFORMATTED, created where seed 001's default disk_format is judged
TOKEN = "write-mode-secret-token-0123456789"
ENV_KEYS_DROPPED = ("CONFORMANCE_TARGET", "CONTAINER_RUNTIME_ENDPOINT", "OS_AUTH_TOKEN", "CONFORMANCE_PROFILE")


def listed(url: str, query: str = "visibility=all") -> list[dict[str, Any]]:
    """Every image `GET /v2/images?query` lists, following `next` links."""
    images: list[dict[str, Any]] = []
    path: str | None = f"/v2/images?{query}"
    while path:
        headers = {"Accept": "application/json", "X-Auth-Token": TOKEN}
        page = requests.get(url + path, headers=headers, timeout=10).json()
        images.extend(page["images"])
        path = page.get("next")
    return images


def run_images(url: str) -> list[dict[str, Any]]:
    """The listed images that carry a write-mode run id: what write mode must not leave behind."""
    shown = [*listed(url), *listed(url, "visibility=all&os_hidden=true")]  # the hidden fixture image too
    return [image for image in shown if RUN_ID_PROPERTY in image]


def writer_for(url: str) -> tuple[ImageWriter, ExchangeLog]:
    """An ImageWriter on `url` and the log its exchanges go to."""
    log = ExchangeLog(Censor())
    return ImageWriter(HttpTarget(url, limits=limits(timeout="10"), log=log)), log


def write_mode_record(run: SuiteRun) -> dict[str, Any]:
    """What results.json says write mode did."""
    return dict(run.results["target"]["endpoints"]["glance"]["write_mode"])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


@contextmanager
def reference(wrap: Callable[[WSGIApp], WSGIApp]) -> Iterator[str]:
    """A reference target whose app is wrapped by `wrap` (to slow it down or make it refuse), serving on loopback."""
    with start_http_server(wrap=wrap) as server:
        yield server.url


def slowed_shows(slow: threading.Event) -> Callable[[WSGIApp], WSGIApp]:
    """A wrapper that makes every v2 show 0.1 s slower while `slow` is set, so a run is surely mid-way when stopped."""

    def wrap(app: WSGIApp) -> WSGIApp:
        def slowed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if slow.is_set() and environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].startswith("/v2/images/"):
                time.sleep(0.1)
            return app(environ, start_response)

        return slowed

    return wrap


def refusing_writes(app: WSGIApp) -> WSGIApp:
    """`app` answering 403 to every write, as upstream Glance does under its default policy without Keystone."""

    def refusing(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            start_response("403 Forbidden", [("Content-Type", "application/json")])
            return [b'{"code": 403, "title": "Forbidden", "message": "You are not authorized."}']
        return app(environ, start_response)

    return refusing


# -- the fixture set and its ground truth, in process ---------------------------------------------------------------


def test_run_id_names_the_time_and_is_unique() -> None:
    run_id = new_run_id(datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc))
    assert re.fullmatch(r"conformance-20240506070809-[0-9a-f]{8}", run_id)
    assert len({new_run_id() for _ in range(50)}) == 50


def test_fixture_set_is_varied() -> None:
    sizes = [f.size for f in UPLOADED]
    assert all(f.name.startswith(NAME_PREFIX) for f in FIXTURES) and len({f.name for f in FIXTURES}) == len(FIXTURES)
    assert {"qcow2", "raw", "vhd"} <= {f.disk_format for f in FIXTURES}
    assert {f.container_format for f in FIXTURES} == {"bare"}
    assert any(sizes.count(size) == 2 for size in sizes) and len(set(sizes)) >= 4
    assert any(f.size is None for f in FIXTURES) and any(f.protected for f in FIXTURES)
    assert [f.deleted for f in FIXTURES].count(True) == 1
    assert any(f.tags for f in FIXTURES) and any(not f.tags for f in FIXTURES)
    assert len({f.min_ram for f in FIXTURES}) >= 3 and len({f.min_disk for f in FIXTURES}) >= 3
    assert {f.properties.get("__os_type") for f in FIXTURES} >= {"Linux", "Windows", "Other"}
    assert {f.visibility for f in FIXTURES} <= {"private", "shared"}  # never visible to other tenants


def test_written_images_read_back_as_written_and_are_all_removed() -> None:
    with start_http_server() as server:
        writer, log = writer_for(server.url)
        written = writer.write_set(new_run_id())
        assert [image.fixture for image in written.images] == LIVE and len(written.deleted) == 1
        glance = GlanceClient(writer.http)
        for image in written.images:
            response = glance.show(image.id)
            assert response.status == 200 and ground_truth_problems(image, response.json()) == []
        entries = {entry["id"]: entry for entry in listed(server.url)}
        assert all(ground_truth_problems(image, entries[image.id]) == [] for image in written.images)
        assert all(glance.show(image.id).status == 404 for image in written.deleted)

        assert writer.remove_all() == [] and writer.pending == {}
        assert run_images(server.url) == []
        methods = [exchange.method for exchange in log.drain()]
        assert methods.count("POST") == len(FIXTURES) and methods.count("PUT") == len(UPLOADED)
        assert methods.count("PATCH") == 1  # the protected image was un-protected before its deletion
        writes = [(m, t) for m, t in server.request_log if m not in ("GET", "HEAD")]
        assert len(writes) == len([m for m in methods if m not in ("GET", "HEAD")])  # every write was recorded


def test_image_created_without_disk_format_shows_the_documented_default_and_is_removed() -> None:
    with start_http_server() as server:
        writer, log = writer_for(server.url)
        written = writer.write_set(new_run_id(), [LIVE[0]], unformatted=True)
        image = written.unformatted
        assert image is not None and image not in written.images
        sent = [exchange for exchange in log.drain() if exchange.method == "POST"]
        bodies = [exchange.request_body or "" for exchange in sent]
        assert '"disk_format": "qcow2"' in bodies[0] and "disk_format" not in bodies[1]
        assert GlanceClient(writer.http).show(image.id).json()["disk_format"] == UNFORMATTED.disk_format == "vhd"
        assert [entry["id"] for entry in written.summary()["created"]] == [written.images[0].id, image.id]
        assert writer.remove_all() == [] and run_images(server.url) == []


def test_ground_truth_catches_a_target_that_answers_other_values() -> None:
    with start_http_server(faults=[F.V2_SHOW_MIN_RAM_STRING.name]) as server:
        writer, _ = writer_for(server.url)
        written = writer.write_set(new_run_id(), [LIVE[0]])
        image = written.images[0]
        problems = ground_truth_problems(image, GlanceClient(writer.http).show(image.id).json())
        writer.remove_all()
    assert problems == [f"{image.id} ({image.fixture.name}): min_ram is '512', written 512"]


def test_sweep_deletes_only_other_runs_fixture_images() -> None:
    with start_http_server() as server:
        earlier, _ = writer_for(server.url)
        leftovers = earlier.write_set(new_run_id())
        decoys = [
            {"name": "conformance-fixture-not-from-a-run", "disk_format": "raw", "container_format": "bare"},
            {"name": "somebody else's image", "disk_format": "raw", "container_format": "bare",
             RUN_ID_PROPERTY: "conformance-20200101000000-00000000"},
        ]
        decoy_ids = [requests.post(server.url + "/v2/images", json=body, timeout=10).json()["id"] for body in decoys]
        writer, _ = writer_for(server.url)
        run_id = new_run_id()
        swept = writer.sweep(run_id)
        assert sorted(swept) == sorted(image.id for image in leftovers.images)  # the protected one included
        remaining = {entry["id"] for entry in listed(server.url)}
        assert set(decoy_ids) <= remaining and not set(swept) & remaining
        assert not is_leftover({"id": "x", "name": NAME_PREFIX + "a", RUN_ID_PROPERTY: run_id}, run_id)


# -- whole runs of the suite ----------------------------------------------------------------------------------------


def test_default_run_never_writes(suite: Callable[..., SuiteRun]) -> None:
    with start_http_server() as server:
        run = suite("tests/glance/test_v2_show.py", "--target", server.url)
    assert run.returncode == 0, run.stdout[-3000:]
    assert server.request_log and {method for method, _ in server.request_log} <= {"GET", "HEAD"}
    assert "write_mode" not in run.results["target"]["endpoints"]["glance"]


def test_allow_writes_run_judges_its_fixtures_and_leaves_nothing_behind(suite: Callable[..., SuiteRun]) -> None:
    # the target requires the run's token, as a Glance behind authtoken does, so the 401 requirements hold too
    with start_http_server(token=TOKEN) as server:
        before = {entry["id"] for entry in listed(server.url)}
        run = suite("tests/glance/test_v2_show.py", "--target", server.url, "--allow-writes", "--token", TOKEN)
        after = listed(server.url)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    methods = [method for method, _ in server.request_log]
    assert methods.count("POST") == CREATED_UNDER_IMS and methods.count("PUT") == len(UPLOADED)
    record = write_mode_record(run)
    recorded = [(exchange["method"], exchange["status"]) for exchange in record["exchanges"]]
    assert recorded == [(m, s) for m, s in recorded if m not in ("GET", "HEAD")]  # the writes, each one
    assert len(recorded) == len([m for m in methods if m not in ("GET", "HEAD")])
    assert recorded.count(("POST", 201)) == CREATED_UNDER_IMS and recorded.count(("DELETE", 204)) == CREATED_UNDER_IMS
    assert all(exchange["request_headers"]["X-Auth-Token"] == "***" for exchange in record["exchanges"])
    assert TOKEN not in (run.report_dir / "results.json").read_text() + (run.report_dir / "report.html").read_text()
    created = [entry["id"] for entry in record["created"]]
    assert len(created) == len(LIVE) + 1 and record["left_behind"] == [] and record["swept"] == []
    shown = {target for method, target in server.request_log if method == "GET"}
    assert all(f"/v2/images/{image_id}" in shown for image_id in created)  # the read-only checks judged them
    assert not any(RUN_ID_PROPERTY in entry for entry in after) and {entry["id"] for entry in after} == before


def test_allow_writes_against_the_embedded_reference(suite: Callable[..., SuiteRun]) -> None:
    run = suite("tests/glance/test_v2_show.py", "--allow-writes")
    assert run.returncode == 0, run.stdout[-3000:]
    record = write_mode_record(run)
    assert len(record["created"]) == len(LIVE) + 1 and record["left_behind"] == []  # UNFORMATTED under ims


WRITTEN_JUDGED = ("GLANCE-V2-SHOW-FIELD-VALUES", "GLANCE-V2-SHOW-404", "GLANCE-V1-HEAD-AGREES-WITH-V2",
                  "GLANCE-V1-HEAD-PROPERTIES", "GLANCE-V1-HEAD-404", "GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE",
                  "GLANCE-V1-1-DETAIL-HIDES-DELETED", "GLANCE-V2-SHOW-DISK-FORMAT-DEFAULT")


def written_tests(run: SuiteRun) -> dict[str, tuple[str, str]]:
    """(outcome, text) of each test that judges against the images the run created, by test name (junit.xml)."""
    cases = {}
    for case in ElementTree.parse(run.report_dir / "junit.xml").iter("testcase"):
        name = case.get("name", "")
        if "the_run_created" in name or "the_run_deleted" in name:
            verdict = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
            outcome = "passed" if verdict is None else verdict.tag
            cases[name] = (outcome, "" if verdict is None else f"{verdict.get('message')}\n{verdict.text}")
    return cases


def test_allow_writes_judges_the_target_against_the_images_it_created(suite: Callable[..., SuiteRun]) -> None:
    run = suite("tests/glance", "--allow-writes")
    assert run.returncode == 0, run.stdout[-3000:]
    outcomes = written_tests(run)
    v2_list = len(LIST.filters) + 1 + 7  # each filter, the repeated tags, each order
    assert len(outcomes) == 4 + 3 + 8 + 1 + v2_list and {o for o, _ in outcomes.values()} == {"passed"}, outcomes
    tests_of = {entry["id"]: entry["tests"] for entry in run.results["requirements"]}
    for rid in WRITTEN_JUDGED:
        assert any(test.rsplit("::", 1)[1] in outcomes for test in tests_of[rid]), rid
        assert run.outcome(rid) == "passed", rid


def test_read_only_run_says_written_images_were_not_judged(suite: Callable[..., SuiteRun]) -> None:
    run = suite("tests/glance/test_v2_show.py", "-k", "the_run")
    outcomes = written_tests(run)
    assert len(outcomes) == 3 and all(o == "skipped" and "--allow-writes" in text for o, text in outcomes.values())


def test_changes_since_hiding_deleted_images_fails_only_in_write_mode(suite: Callable[..., SuiteRun]) -> None:
    # The fault hides only images deleted while the target runs: read-only, the listing is its own ground truth.
    fault = ("--reference-fault", F.V1_1_DETAIL_CHANGES_SINCE_DROPS_NEW_DELETED.name)
    read_only = suite("tests/glance/test_v1_1_detail.py", *fault)
    assert read_only.outcome("GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE") == "passed", read_only.stdout[-3000:]
    written = suite("tests/glance/test_v1_1_detail.py", "--allow-writes", *fault)
    assert written.outcome("GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE") == "failed"
    # advisory under ims (its rule is upstream's): a warning there, not a failed verdict
    assert "GLANCE-V1-1-DETAIL-FILTER-CHANGES-SINCE" in {w["id"] for w in written.results["warnings"]}
    # an advisory failure is an expected failure in junit.xml: <skipped type="pytest.xfail" message="advisory, ...">
    failing = {name: text for name, (outcome, text) in written_tests(written).items()
               if outcome == "skipped" and text.startswith("advisory")}
    assert list(failing) == ["test_each_filter_selects_the_images_the_run_created[changes-since]"]
    deleted_id = write_mode_record(written)["deleted_in_setup"][0]
    text = failing["test_each_filter_selects_the_images_the_run_created[changes-since]"]
    assert f"did not return {deleted_id}" in text and "deleted by this run" in text
    assert "changes-since=" in text
    page = (written.report_dir / "report.html").read_text(encoding="utf-8")
    assert "curl -sS -i" in page and "changes-since=" in page  # the exchange that shows it, with its command


def test_refused_writes_stop_the_run_with_one_line(suite: Callable[..., SuiteRun]) -> None:
    with reference(refusing_writes) as url:
        run = suite("tests/glance/test_v2_show.py", "--target", url, "--allow-writes")
        assert run_images(url) == []
    assert run.returncode == pytest.ExitCode.INTERRUPTED, run.stdout[-3000:]
    message = f"--allow-writes: creating {FIXTURES[0].name}: POST /v2/images answered 403"
    assert message in run.results["stopped_early"] and message in run.stdout
    assert set(run.outcomes().values()) == {"error"}


def _start_suite(url: str, report_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--report-dir={report_dir}",
               "tests/glance/test_v2_show.py", "--target", url, "--allow-writes"]
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS_DROPPED}
    with log_path.open("wb") as log:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_stopped_run_leaves_nothing_behind_or_the_next_run_sweeps_it(
    signum: signal.Signals, tmp_path: Path, suite: Callable[..., SuiteRun]
) -> None:
    slow = threading.Event()
    slow.set()
    with reference(slowed_shows(slow)) as url:
        process = _start_suite(url, tmp_path / "killed", tmp_path / "killed.log")
        try:
            wait_for(lambda: len(run_images(url)) >= len(LIVE), 60, "the fixture images")
            process.send_signal(signum)
            returncode = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        slow.clear()
        output = (tmp_path / "killed.log").read_text(errors="replace")[-3000:]
        left = run_images(url)
        if signum == signal.SIGKILL:
            # nothing can run after SIGKILL; the fixture to be deleted again may have been created by then
            assert returncode == -signal.SIGKILL and len(LIVE) <= len(left) <= len(FIXTURES), output
        else:
            assert returncode == pytest.ExitCode.INTERRUPTED, output  # stopped mid-way, not after finishing
            assert left == [], output
        run = suite("tests/glance/test_v2_show.py", "--target", url, "--allow-writes")
        assert run.returncode == 0, run.stdout[-3000:]
        assert sorted(write_mode_record(run)["swept"]) == sorted(entry["id"] for entry in left)
        assert run_images(url) == []


def _real_glance_url() -> str | None:
    done = subprocess.run([sys.executable, str(REPO / "tools" / "glance_target.py"), "url"], capture_output=True,
                          text=True, timeout=60, cwd=REPO, stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def test_real_glance_run_leaves_nothing_behind(suite: Callable[..., SuiteRun]) -> None:
    url = _real_glance_url()
    if url is None:
        pytest.skip("no real Glance is running (`python tools/glance_target.py url` failed); "
                    "start one with `python tools/glance_target.py start`")
    run = suite("tests/glance", "--allow-writes", "--profile", "glance", "--target", url)
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-2000:]  # a verdict, not a broken run
    written = written_tests(run)  # judged against the images the run created, Glance holds to what it was given
    assert written and all(outcome in ("passed", "skipped") for outcome, _ in written.values()), written
    for v2_test in ("test_images_the_run_created_show_what_was_written", "test_image_the_run_deleted_answers_404"):
        assert written[v2_test][0] == "passed", written
    record = write_mode_record(run)
    live = [fixture for fixture in fixtures_for(True) if not fixture.deleted]  # the hidden image too
    assert len(record["created"]) == len(live) and record["left_behind"] == [], record
    assert "error" not in run.outcomes().values(), run.outcomes()
    assert run_images(url) == []

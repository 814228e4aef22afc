"""A second project's token (--other-token): another project's private image is judged not shown, the token is a
secret like the run's, and a run without it lists the two requirements as not judged without losing its pass."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance import catalog
from conformance.options import ConfigError, build_config
from conformance.reference.glance.probe import HttpProbe
from conformance.reference.http_server import start_http_server
from selftests.conftest import SuiteRun

TOKEN = "run-project-token-0123456789abcdef"
OTHER = "other-project-token-fedcba9876543210"
REQUIREMENTS = ("GLANCE-V2-SHOW-OTHER-PROJECT-PRIVATE", "GLANCE-V1-HEAD-OTHER-PROJECT-PRIVATE")
TESTS = ("tests/glance/test_v2_show.py", "tests/glance/test_v1_head.py")


def _private_image(probe: HttpProbe, visibility: str = "private") -> str:
    created = probe.request("POST", "/v2/images", payload={"name": "mine", "disk_format": "raw",
                                                             "container_format": "bare", "visibility": visibility})
    assert created.status == 201
    return str(created.json()["id"])


def test_reference_hides_the_run_projects_private_images_from_the_other_project() -> None:
    with start_http_server(token=TOKEN, other_token=OTHER) as server:
        mine = HttpProbe(server.url, token=TOKEN, other_token=OTHER)
        other = mine.as_other_project()
        private, shared = _private_image(mine), _private_image(mine, "shared")
        assert mine.get(f"/v2/images/{private}").status == 200 and mine.head(f"/v1/images/{private}").status == 200
        for image_id in (private, shared):
            assert other.get(f"/v2/images/{image_id}").status == 404
            assert other.head(f"/v1/images/{image_id}").status == 404
        public = next(entry["id"] for entry in mine.get("/v2/images?limit=100").json()["images"]
                      if entry["visibility"] == "public")
        assert other.get(f"/v2/images/{public}").status == 200  # the second token is a valid one
        assert mine.with_token(OTHER[::-1]).get(f"/v2/images/{public}").status == 401


def test_other_token_is_an_option_and_a_secret(tmp_path: Path) -> None:
    given = build_config({"target": ("http://127.0.0.1:9",), "token": TOKEN}, {}, {"CONFORMANCE_OTHER_TOKEN": OTHER},
                         tmp_path)
    assert given.other_token == OTHER and OTHER in given.secrets() and OTHER not in repr(given)
    assert build_config({"target": ("http://127.0.0.1:9",)}, {}, {}, tmp_path).other_token is None
    embedded = build_config({}, {}, {}, tmp_path)  # the embedded reference gets a second project of its own
    assert embedded.other_token and embedded.other_token != embedded.token
    assert embedded.other_token in embedded.secrets()
    with pytest.raises(ConfigError, match="--other-token is the same token as --token"):
        build_config({"token": TOKEN, "other_token": TOKEN}, {}, {}, tmp_path)


def test_needing_a_second_project_is_opt_in_like_writes() -> None:
    requirements = catalog.requirements()
    for rid in REQUIREMENTS:
        assert catalog.Need.OTHER_PROJECT in requirements[rid].requires and requirements[rid].opt_in


def test_run_with_other_token_judges_it_and_never_shows_it(suite: Callable[..., SuiteRun]) -> None:
    with start_http_server(token=TOKEN, other_token=OTHER) as server:
        run = suite(*TESTS, "--target", server.url, "--token", TOKEN, "--other-token", OTHER, "--allow-writes")
        other_requests = [target for method, target in server.request_log if method in ("GET", "HEAD")]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    for rid in REQUIREMENTS:
        assert run.outcome(rid) == "passed", rid
    judged = {entry["id"]: entry.get("judged") for entry in run.results["requirements"]}
    assert all(judged[rid] == {"private images the run created": 4} for rid in REQUIREMENTS), judged
    assert other_requests  # the run did ask
    outputs = [run.stdout, run.stderr, *(path.read_text(errors="replace") for path in run.report_dir.iterdir())]
    assert not any(OTHER in text for text in outputs)


def test_run_without_other_token_lists_it_not_judged_and_can_pass(suite: Callable[..., SuiteRun]) -> None:
    with start_http_server(token=TOKEN, other_token=OTHER) as server:
        run = suite(*TESTS, "--target", server.url, "--token", TOKEN, "--allow-writes")
    assert run.returncode == 0, run.stdout[-3000:]
    reasons = {entry["id"]: entry["reason"] for entry in run.results["not_judged"]}
    for rid in REQUIREMENTS:
        assert reasons[rid] == "no second project's token configured (--other-token)"
    assert not any("OTHER-PROJECT" in reason for reason in run.results["verdict_reasons"])


def test_a_refused_other_token_is_an_error_naming_the_option(suite: Callable[..., SuiteRun]) -> None:
    with start_http_server(token=TOKEN) as server:  # it knows no second project: the token is refused
        run = suite("tests/glance/test_v2_show.py", "--target", server.url, "--token", TOKEN, "--other-token", OTHER,
                    "--allow-writes", "-k", "another_project")
    assert run.outcome(REQUIREMENTS[0]) == "error", run.stdout[-3000:]
    assert "refuses the second project's token (--other-token)" in run.stdout


def test_standalone_reference_takes_a_second_projects_token(suite: Callable[..., SuiteRun]) -> None:
    process = subprocess.Popen([sys.executable, "-m", "conformance.reference", "--http-port", "0", "--require-token",
                                TOKEN, "--other-project-token", OTHER], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        run = suite(*TESTS, "--target", url, "--token", TOKEN, "--other-token", OTHER, "--allow-writes",
                    "-k", "another_project")
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert [run.outcome(rid) for rid in REQUIREMENTS] == ["passed", "passed"], run.stdout[-3000:]

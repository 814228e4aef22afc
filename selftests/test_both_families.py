"""One run, one verdict for a Glance-style endpoint and a CRI socket: `--target` once per family."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import catalog, schemas
from conformance.options import ConfigError, build_config
from conformance.reference.cri_server import RunningCriServer, start_cri_server
from conformance.reference.http_server import RunningServer, start_http_server

TOKEN = "both-families-token"


@pytest.fixture
def references(socket_dir: str) -> Iterator[tuple[RunningServer, RunningCriServer]]:
    """The reference targets started standalone, as a vendor's two endpoints: HTTP requiring a token, a CRI socket."""
    http = start_http_server(token=TOKEN)
    cri = start_cri_server(socket_path=os.path.join(socket_dir, "cri.sock"))
    try:
        yield http, cri
    finally:
        http.stop()
        cri.stop()


def test_one_target_per_family_certifies_both(tmp_path: Path) -> None:
    config = build_config({"target": ["unix:///run/x.sock", "http://127.0.0.1:9292/"]}, {}, {}, tmp_path)
    assert config.families == ("glance", "cri") and not config.embedded
    assert (config.glance_url, config.cri_address) == ("http://127.0.0.1:9292", "unix:///run/x.sock")
    assert config.targets == {"glance": "http://127.0.0.1:9292/", "cri": "unix:///run/x.sock"}
    assert config.target == "http://127.0.0.1:9292/ + unix:///run/x.sock"
    assert config.profiles == {"glance": "ims", "cri": "cri"}


def test_environment_and_ini_list_one_target_per_family(tmp_path: Path) -> None:
    both = "http://env.example:2 grpc://127.0.0.1:10010"
    config = build_config({}, {}, {"CONFORMANCE_TARGET": both}, tmp_path)
    assert (config.glance_url, config.cri_address) == ("http://env.example:2", "127.0.0.1:10010")
    assert build_config({}, {"target": both}, {}, tmp_path).families == ("glance", "cri")
    # the command line replaces the environment as a whole: a crictl variable left set does not add a family
    crictl = {"CONTAINER_RUNTIME_ENDPOINT": "unix:///run/x.sock"}
    assert build_config({"target": ["http://opt.example:3"]}, {}, crictl, tmp_path).families == ("glance",)


def test_one_profile_per_family(tmp_path: Path) -> None:
    both = ["http://127.0.0.1:9292", "unix:///run/x.sock"]
    config = build_config({"target": both, "profile": ["isulad", "glance"]}, {}, {}, tmp_path)
    assert config.profiles == {"glance": "glance", "cri": "isulad"}
    assert build_config({}, {}, {"CONFORMANCE_PROFILE": "glance isulad"}, tmp_path).profiles == {
        "glance": "glance", "cri": "isulad"}
    with pytest.raises(ConfigError, match="a glance profile is already given"):
        build_config({"profile": ["glance", "ims"]}, {}, {}, tmp_path)
    with pytest.raises(ConfigError, match="is for cri targets, but the target is glance"):
        build_config({"target": both[:1], "profile": ["isulad"]}, {}, {}, tmp_path)


def test_a_family_given_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="a glance target is already given"):
        build_config({"target": ["http://a.example:1", "https://b.example"]}, {}, {}, tmp_path)
    with pytest.raises(ConfigError, match="a cri target is already given"):
        build_config({}, {}, {"CONFORMANCE_TARGET": "unix:///a.sock grpc://127.0.0.1:1"}, tmp_path)


def test_a_duplicate_family_is_a_one_line_usage_error(suite) -> None:
    run = suite("--target=http://127.0.0.1:9", "--target=http://127.0.0.1:10")
    assert run.returncode == 4, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert errors == [
        "ERROR: --target 'http://127.0.0.1:10': a glance target is already given ('http://127.0.0.1:9'); "
        "give one per family"
    ]


def test_http_and_cri_endpoints_get_one_verdict(suite, references) -> None:
    http, cri = references
    run = suite(f"--target={http.url}", f"--target={cri.url}", env={"OS_AUTH_TOKEN": TOKEN})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    results = run.results
    assert results["verdict"] == "pass"
    assert schemas.error_lines("report/results.json", results) == []
    assert results["targets"] == {"glance": http.url, "cri": cri.url}
    assert results["target"]["url"] == f"{http.url} + {cri.url}"
    assert results["target"]["family"] == "glance+cri" and results["target"]["embedded"] is False
    assert set(results["target"]["endpoints"]) == {"glance", "cri"}
    assert results["profiles"] == {"glance": "ims", "cri": "cri"}
    judged = {entry["id"] for entry in results["requirements"]}
    families = {catalog.requirements()[rid].family for rid in judged}
    assert families == {"glance", "cri"}
    assert set(run.outcomes().values()) <= {"passed", "not-offered"}, run.outcomes()
    # read-only: only the CRI lifecycle's write requirements are left, with the reason
    writes = {rid for rid, req in catalog.requirements().items() if catalog.Need.WRITES in req.requires}
    assert {entry["id"] for entry in results["not_judged"]} == writes
    assert {entry["reason"] for entry in results["not_judged"]} == {"write mode is off (--allow-writes)"}
    html = (run.report_dir / "report.html").read_text(encoding="utf-8")
    assert f"{http.url} + {cri.url}" in html
    assert "conformance verdict: PASS" in run.stdout

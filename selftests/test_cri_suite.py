"""The CRI conformance tests: the clean reference passes, every reference fault is caught, bad targets stop cleanly."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conformance import catalog, schemas
from conformance.reference.cri.images import catalogue
from conformance.reference.cri_server import RunningCriServer, start_cri_server
from selftests.conftest import outside_short_summary

CRI_TESTS = "tests/cri"
EMBEDDED_IMAGE = next(image for image in catalogue(embedded=True) if image.embedded)


def cri_requirement_ids(profile: str) -> list[str]:
    """The CRI requirements certified under `profile`."""
    return [req.id for req in catalog.requirements_for(catalog.profiles()[profile])]


def cri_outcomes(run: Any, profile: str) -> dict[str, str]:
    """The outcome of every CRI requirement of `profile` in `run` (other families are not judged here), but those
    the run lists as not judged (the lifecycle's, without --allow-writes)."""
    outcomes = run.outcomes()
    not_judged = {entry["id"] for entry in run.results.get("not_judged", [])}
    return {rid: outcomes.get(rid, "<absent>") for rid in cri_requirement_ids(profile) if rid not in not_judged}


@pytest.fixture
def serve(socket_dir: str) -> Iterator[Callable[..., RunningCriServer]]:
    """Start a reference CRI server with the given options; stopped after the test."""
    started: list[RunningCriServer] = []

    def start(name: str, **options: Any) -> RunningCriServer:
        server = start_cri_server(socket_path=os.path.join(socket_dir, f"{name}.sock"), **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.mark.parametrize("profile", ["cri", "isulad"])
def test_clean_reference_passes_every_cri_requirement_in_both_versions(suite, profile: str) -> None:
    run = suite(CRI_TESTS, "--profile", profile, "--allow-writes")  # the lifecycle requirements too
    outcomes = cri_outcomes(run, profile)
    assert set(outcomes.values()) == {"passed"}, (outcomes, run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.results["target"]["endpoints"]["cri"]["versions"] == ["v1", "v1alpha2"]
    for entry in run.results["requirements"]:
        if entry["id"] in outcomes:
            for version in ("v1", "v1alpha2"):
                assert any(re.search(rf"[\[-]{version}[\]-]", test) for test in entry["tests"]), (version, entry)


@pytest.mark.parametrize(("profile", "expected"), [("cri", "failed"), ("isulad", "passed")])
def test_embedded_image_is_accepted_by_the_isulad_profile_only(suite, serve, profile: str, expected: str) -> None:
    server = serve(f"embedded-{profile}", embedded=True)
    run = suite(CRI_TESTS, "--target", server.url, "--profile", profile)
    assert run.outcome("CRI-LISTIMAGES-MATCHES-STATUS") == expected, run.stdout[-3000:]
    if expected == "failed":
        assert f"{EMBEDDED_IMAGE.hex} is listed, but ImageStatus by its id" in run.stdout, run.stdout[-3000:]
    else:
        assert set(cri_outcomes(run, profile).values()) == {"passed"}, cri_outcomes(run, profile)


HEX = "ab" * 32


@pytest.mark.parametrize(
    ("image_id", "digests", "valid"),
    [
        (HEX, [f"sha256:{HEX}"], True),  # iSulad's embedded_image.c
        (f"sha256:{HEX}", [], True),  # what the seed shows
        (f"sha256:{HEX}", [f"sha256:{HEX}"], True),
        (HEX, [f"localhost/embedded@sha256:{HEX}"], False),
        ("localhost/embedded:1.0", [], False),
        (HEX[:12], [], False),
        (HEX, [f"sha256:{HEX}", f"sha256:{HEX}"], False),
    ],
)
def test_embedded_image_schema_takes_isulads_wire_form_only(image_id: str, digests: list[str], valid: bool) -> None:
    image = {"id": image_id, "repo_tags": ["localhost/embedded:1.0"], "repo_digests": digests, "size": "1",
             "username": ""}
    assert (not schemas.error_lines("cri/embedded-image.json", image)) is valid


def test_ordinary_image_schema_refuses_a_bare_digest() -> None:
    image = {"id": f"sha256:{HEX}", "repo_tags": ["busybox:1"], "repo_digests": [f"sha256:{HEX}"], "size": "1",
             "username": ""}
    assert schemas.error_lines("cri/image.json", image)
    assert not schemas.error_lines("cri/image.json", {**image, "repo_digests": [f"busybox@sha256:{HEX}"]})


def test_missing_socket_stops_the_run_with_every_requirement_in_error(suite) -> None:
    run = suite(CRI_TESTS, "--target", "unix:///nonexistent/x.sock", timeout=120)
    output = run.stdout + run.stderr
    assert run.returncode not in (0, 5), output
    assert "Traceback" not in output
    mentions = [line for line in outside_short_summary(output) if "/nonexistent/x.sock" in line]
    assert mentions and len(mentions) <= 3, mentions
    assert "does not answer" in mentions[0] and "no CRI socket" in mentions[0]
    outcomes = cri_outcomes(run, "cri")
    assert set(outcomes.values()) == {"error"}, outcomes
    assert run.results["verdict"] == "error"  # the run broke: never counted as the target's failure


def test_runtime_serving_only_v1alpha2_is_certified_through_v1alpha2(suite, serve) -> None:
    server = serve("v1alpha2-only", versions=("v1alpha2",))
    run = suite(CRI_TESTS, "--target", server.url)
    outcomes = cri_outcomes(run, "cri")
    assert set(outcomes.values()) == {"passed"}, (outcomes, run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-3000:]
    endpoint = run.results["target"]["endpoints"]["cri"]
    assert endpoint["served"] == endpoint["versions"] == ["v1alpha2"]


def test_cri_version_option_selects_one_version_or_stops(suite, serve) -> None:
    server = serve("v1alpha2-for-option", versions=("v1alpha2",))
    refused = suite(CRI_TESTS, "--target", server.url, "--cri-version", "v1", timeout=120)
    assert refused.returncode not in (0, 1, 5), refused.stdout
    assert "does not serve runtime.v1.ImageService" in refused.stdout
    assert set(cri_outcomes(refused, "cri").values()) == {"error"}
    chosen = suite(CRI_TESTS, "--cri-version", "v1alpha2")
    assert chosen.results["target"]["endpoints"]["cri"]["versions"] == ["v1alpha2"]
    assert set(cri_outcomes(chosen, "cri").values()) == {"passed"}, chosen.stdout[-3000:]

"""Self-tests of CRI write mode: the hermetic registry, the distribution client's bounds, the reference's pulls,
and the safety rule (an image the runtime held before the run is never pulled over nor removed)."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from conformance import catalog
from conformance.cri import lifecycle_images as images
from conformance.cri import registry as registry_module
from conformance.cri.lifecycle_fixtures import Lifecycle, Refused, Registry
from conformance.cri.registry import RegistryUnavailable, config_text, start_registry
from conformance.cri.tarpit import Tarpit
from conformance.record import results as record_results
from conformance.record.results import recomputed_verdict
from conformance.reference.cri.lifecycle import MAX_LAYER_BYTES
from conformance.reference.cri.probe import CriProbe
from conformance.reference.cri_server import start_cri_server
from conformance.targets.cri import CriTarget
from conformance.targets.limits import RunLimits
from conformance.targets.registry import OCI_MANIFEST, RegistryClient, RegistryError
from selftests.conftest import SuiteRun

WRITE_REQUIREMENTS = ("CRI-PULLIMAGE-BY-TAG", "CRI-REMOVEIMAGE-GONE", "CRI-IMAGEFSINFO-GROWS")


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    """A registry started as the suite starts one, holding the suite's images."""
    with start_registry() as running:
        client = RegistryClient(running.address, timeout=10)
        images.push(client)
        client.close()
        yield running.address


def test_registry_config_is_loopback_without_auth(tmp_path: Any) -> None:
    text = config_text(tmp_path, 5123)
    assert "addr: 127.0.0.1:5123" in text and "auth" not in text and str(tmp_path) in text


def test_registry_is_started_and_torn_down() -> None:
    running = start_registry()
    folder = running.folder
    assert running.address.startswith("127.0.0.1:")
    client = RegistryClient(running.address, timeout=5)
    assert client.request("GET", "/v2/").status == 200
    running.stop()
    assert running.process.poll() is not None and not folder.exists()
    with pytest.raises(RegistryError):
        client.request("GET", "/v2/")


def test_a_missing_registry_binary_says_what_to_do() -> None:
    hint = r"Debian's docker-registry package \(apt-get install docker-registry\), or name a registry with --registry"
    with pytest.raises(RegistryUnavailable, match=hint):
        start_registry("no-such-registry-binary")


def test_a_run_stopped_while_the_registry_starts_stops_it_and_stays_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(registry_module.subprocess, "Popen", popen)
    monkeypatch.setattr(registry_module, "_wait_ready", interrupted)
    with pytest.raises(KeyboardInterrupt):
        start_registry()
    assert len(started) == 1 and started[0].poll() is not None
    config = Path(str(cast(list[str], started[0].args)[2]))
    assert not config.parent.exists(), "the registry's folder is removed"


def test_pushed_images_are_served_by_tag_and_digest(registry: str) -> None:
    client = RegistryClient(registry, timeout=5)
    _, manifest = client.manifest(images.BY_TAG.repository, "1.0")
    assert manifest["config"]["digest"] == images.BY_TAG.blobs().id
    body, _ = client.manifest(images.BY_DIGEST.repository, images.BY_DIGEST.blobs().manifest_digest)
    assert body == images.BY_DIGEST.blobs().manifest
    assert len({image.blobs().id for image in images.IMAGES}) == len(images.IMAGES)  # one id per image


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Answers every GET with what the test put in `mode`."""

    mode = "huge"

    def do_GET(self) -> None:
        """Answer as `mode` says."""
        if self.mode == "huge":  # announces 5 GB and sends bytes until the client gives up
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                return
        if self.mode == "manifest-5gb-layer":
            body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"digest": "sha256:" + "0" * 64, "size": 10},
                               "layers": [{"digest": "sha256:" + "1" * 64, "size": 5 * 1024 ** 3}]}).encode()
        else:
            body = b"\x00garbage{"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def hostile() -> Iterator[Callable[[str], str]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def answering(mode: str) -> str:
        _Hostile.mode = mode
        return f"127.0.0.1:{server.server_address[1]}"

    yield answering
    server.shutdown()
    server.server_close()


def test_an_endless_blob_is_cut_at_its_cap(hostile: Callable[[str], str]) -> None:
    client = RegistryClient(hostile("huge"), timeout=5)
    started = time.monotonic()
    with pytest.raises(RegistryError, match="passed 1048576 bytes"):
        client.blob("conformance/x", "sha256:" + "0" * 64, max_bytes=1024 * 1024)
    assert time.monotonic() - started < 5


def test_a_garbage_manifest_is_refused(hostile: Callable[[str], str]) -> None:
    client = RegistryClient(hostile("garbage"), timeout=5)
    with pytest.raises(RegistryError, match="not JSON"):
        client.manifest("conformance/x", "1.0")


def test_a_registry_that_never_answers_is_cut_at_the_timeout() -> None:
    with Tarpit() as tarpit:
        client = RegistryClient(tarpit.address, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(RegistryError):
            client.manifest("conformance/x", "1.0")
        assert time.monotonic() - started < 2
        client.close()
        assert tarpit.wait_closed(2)


def test_the_reference_refuses_a_5gb_layer_before_fetching_it(hostile: Callable[[str], str], socket_dir: str) -> None:
    address = hostile("manifest-5gb-layer")
    with start_cri_server(socket_path=os.path.join(socket_dir, "cri.sock")) as server, \
            CriProbe(server.url, "v1") as cri:
        answer = cri.pull(f"{address}/conformance/huge:1.0")
    assert answer.code == "RESOURCE_EXHAUSTED" and MAX_LAYER_BYTES < 5 * 1024 ** 3


def test_the_reference_pulls_only_from_this_machine(socket_dir: str) -> None:
    with start_cri_server(socket_path=os.path.join(socket_dir, "cri.sock")) as server, \
            CriProbe(server.url, "v1") as cri:
        assert cri.pull("registry.example.com/conformance/x:1.0").code == "FAILED_PRECONDITION"


def test_an_image_held_before_the_run_is_neither_pulled_over_nor_removed(
        registry: str, socket_dir: str, suite: Callable[..., SuiteRun]) -> None:
    held = f"{registry}/{images.BY_TAG.repository}:1.0"
    with start_cri_server(socket_path=os.path.join(socket_dir, "cri.sock")) as server:
        with CriProbe(server.url, "v1") as cri:
            assert cri.pull(held).code == "OK"
        run = suite("tests/cri", "--target", server.url, "--allow-writes", "--registry", registry)
        with CriProbe(server.url, "v1") as cri:
            still = cri.status(held).image
    assert still is not None and still.id == images.BY_TAG.blobs().id, "the suite removed an image it did not pull"
    outcomes = run.outcomes()
    assert outcomes["CRI-PULLIMAGE-BY-TAG"] == "skipped", outcomes
    messages = {entry["id"]: entry.get("message", "") for entry in run.results["requirements"]}
    assert "held " + held in messages["CRI-PULLIMAGE-BY-TAG"] and "never removes" in messages["CRI-PULLIMAGE-BY-TAG"]
    assert outcomes["CRI-REMOVEIMAGE-GONE"] == outcomes["CRI-PULLIMAGE-BY-DIGEST"] == "passed"
    write_mode = run.results["target"]["endpoints"]["cri"]["write_mode"]
    assert write_mode["registry"] == {"address": registry, "started_by_suite": False}
    assert write_mode["v1"]["refused"] and write_mode["v1"]["left_behind"] == []


def test_read_only_runs_list_the_write_requirements_as_not_judged(suite: Callable[..., SuiteRun]) -> None:
    run = suite("tests/cri")
    not_judged = {entry["id"]: entry.get("reason", "") for entry in run.results.get("not_judged", [])}
    assert run.returncode == 0
    for requirement in WRITE_REQUIREMENTS:
        assert "--allow-writes" in not_judged.get(requirement, ""), (requirement, not_judged)
    assert run.outcome("CRI-IMAGEFSINFO-SCHEMA") == "passed"


def test_a_bad_registry_value_is_one_line(suite: Callable[..., SuiteRun]) -> None:
    run = suite("tests/cri", "--allow-writes", "--registry", "not a registry")
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 4 and len(lines) == 1 and "--registry 'not a registry'" in lines[0], run.stderr


def limits_with_budget(budget: float) -> RunLimits:
    """A run's limits with `budget` seconds, counted from now."""
    return RunLimits(timeout=10, budget=budget, json_values=1000, pages=1, listed=1)


def test_the_runs_budget_bounds_every_registry_request() -> None:
    with Tarpit() as tarpit:
        spent = RegistryClient(tarpit.address, timeout=10, limits=limits_with_budget(0.0))
        with pytest.raises(RegistryError, match="budget is used up"):
            spent.request("GET", "/v2/")
        started = time.monotonic()
        almost = RegistryClient(tarpit.address, timeout=10, limits=limits_with_budget(0.3))
        with pytest.raises(RegistryError):
            almost.request("GET", "/v2/")
        assert time.monotonic() - started < 2


def test_a_silent_registry_never_takes_the_run_past_its_budget(suite: Callable[..., SuiteRun]) -> None:
    with Tarpit() as tarpit:
        started = time.monotonic()
        run = suite("tests/cri", "--allow-writes", f"--registry={tarpit.address}", "--budget=4")
        took = time.monotonic() - started
    assert run.returncode in (1, 2) and took < 4 + 30, (run.returncode, took, run.stdout[-2000:])
    write_mode = run.results["target"]["endpoints"].get("cri", {}).get("write_mode")
    assert write_mode is None or "unavailable" in write_mode, write_mode  # None: the budget ran out before


def test_write_mode_without_a_registry_is_not_judged_and_incomplete(socket_dir: str,
                                                                      suite: Callable[..., SuiteRun]) -> None:
    # No docker-registry on PATH and no --registry: a whole run of the CRI family, with writes asked for.
    lonely_path = os.path.dirname(sys.executable)
    assert shutil.which("docker-registry", path=lonely_path) is None
    with start_cri_server(socket_path=os.path.join(socket_dir, "cri.sock")) as server:
        run = suite("--target", server.url, "--allow-writes", env={"PATH": lonely_path})
    results = run.results
    not_judged = {entry["id"]: entry["reason"] for entry in results["not_judged"]}
    writes = {req.id for req in catalog.requirements().values()
              if catalog.Need.WRITES in req.requires and req.family == "cri"}
    assert set(not_judged) == writes, not_judged
    for reason in not_judged.values():
        assert "--registry HOST:PORT" in reason and "Debian's docker-registry package" in reason, reason
    assert writes.isdisjoint(run.outcomes()), "a write requirement was judged (skipped) instead of not judged"
    assert run.outcome("CRI-IMAGEFSINFO-SCHEMA") == "passed"
    # README's rule 4: a requirement its owner asked for (--allow-writes) and the run could not judge
    assert results["verdict"] == "incomplete" and run.returncode == 1, (results["verdict"], run.stdout[-2000:])
    assert any(reason.startswith("CRI-PULLIMAGE-BY-TAG (required) not judged: no registry")
               for reason in results["verdict_reasons"]), results["verdict_reasons"]
    assert results["options"]["allow_writes"] is True
    assert recomputed_verdict(record_results.load(run.report_dir / "results.json"))[0] == "incomplete"


class _BareIdRuntime:
    """A runtime that knows an image by its id without `sha256:` only, as iSulad does (image_store.c lookup), and
    answers RemoveImage of anything else UNKNOWN 'No such image'."""

    version = "v1"

    def __init__(self, image_id: str, reference: str) -> None:
        self.held = {image_id.removeprefix("sha256:"), reference}
        self.removed: list[str] = []

    def image_status(self, name: str) -> SimpleNamespace:
        found = name in self.held
        image = {"id": images.BY_TAG.blobs().id.removeprefix("sha256:")} if found else None
        return SimpleNamespace(code="OK", image_set=found, response={"image": image} if found else {})

    def _call(self, rpc: str, request: Any, **_: Any) -> SimpleNamespace:
        name = request.image.image
        self.removed.append(name)
        if name not in self.held:
            return SimpleNamespace(code="UNKNOWN", details=f"No such image:{name}")
        self.held.clear()
        return SimpleNamespace(code="OK", details="")

    @property
    def pb(self) -> Any:
        from conformance.proto import runtime_v1_pb2
        return runtime_v1_pb2


def test_clean_up_removes_a_pulled_image_by_the_id_the_runtime_gives_it() -> None:
    image_id, reference = images.BY_TAG.blobs().id, "127.0.0.1:5000/conformance/lifecycle-by-tag:1.0"
    runtime = _BareIdRuntime(image_id, reference)
    lifecycle = Lifecycle(cast(CriTarget, runtime), Registry("127.0.0.1:5000", started=False), {})
    lifecycle.pulled[image_id] = reference
    assert lifecycle.clean_up() == []
    assert runtime.removed == [image_id.removeprefix("sha256:")] and not runtime.held
    lifecycle.pulled[image_id] = reference  # removed already: nothing is asked to be removed
    assert lifecycle.clean_up() == [] and len(runtime.removed) == 1
    held_before = _BareIdRuntime(image_id, reference)
    with pytest.raises(Refused, match="held " + image_id.removeprefix("sha256:")):
        Lifecycle(cast(CriTarget, held_before), Registry("127.0.0.1:5000", started=False), {}).check_absent(
            images.BY_TAG, "127.0.0.1:5000/conformance/other:1.0")

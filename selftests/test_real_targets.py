"""The real-target tools without the real servers: command lines, image builders, configs, run checks."""

from __future__ import annotations

import configparser
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from conformance import catalog

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tools"
sys.path.insert(0, str(TOOLS))

import _containerd_images  # noqa: E402
import _glance_images  # noqa: E402
import _oci  # noqa: E402
import containerd_target  # noqa: E402
import glance_target  # noqa: E402
import keystone_target  # noqa: E402
import run_real_target  # noqa: E402


def sha256(data: bytes) -> str:
    """sha256:<hex> of data."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def members(data: bytes) -> dict[str, bytes]:
    """The regular files of a tar archive, by name."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


# --- command lines -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("run_real_target.py", [], "missing target"),
        ("run_real_target.py", ["openstack"], "unknown target 'openstack'"),
        ("glance_target.py", [], "the following arguments are required"),
        ("glance_target.py", ["restart"], "invalid choice"),
        ("glance_target.py", ["start", "--port", "70000"], "port out of range"),
        ("glance_target.py", ["start", "--port", "http"], "not a port number"),
        ("containerd_target.py", ["start", "--port", "1"], "unrecognized arguments"),
        ("containerd_target.py", ["pull"], "invalid choice"),
    ],
)
def test_bad_command_line_is_one_line_and_exit_2(script: str, args: list[str], expected: str) -> None:
    done = subprocess.run([sys.executable, str(TOOLS / script), *args], capture_output=True, text=True,
                          timeout=60, cwd=REPO, stdin=subprocess.DEVNULL, check=False)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and expected in lines[0], lines
    assert done.stdout == ""


def test_shell_wrapper_passes_the_exit_status_through() -> None:
    done = subprocess.run(["bash", str(TOOLS / "run_real_target.sh"), "nonesuch"], capture_output=True,
                          text=True, timeout=60, cwd=REPO, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 2
    known = ", ".join(run_real_target.TARGETS)
    assert done.stderr.strip() == f"run_real_target: error: unknown target 'nonesuch'; use {known}"


def test_containerd_run_needs_root(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(run_real_target.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(run_real_target, "run_target", lambda *a: pytest.fail("must not start anything"))
    assert run_real_target.main(["containerd"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "needs root" in lines[0]


# --- the checks the runner makes on its second pass ------------------------------------------

def operation_of(requirement_id: str) -> str:
    """The catalogue operation of a requirement id."""
    return catalog.requirements()[requirement_id].operation


def write_results(folder: Path, outcomes: dict[str, str]) -> str:
    """Write a minimal results.json with these outcomes into folder; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {"requirements": [{"id": rid, "operation": operation_of(rid), "outcome": outcome}
                                 for rid, outcome in outcomes.items()]}
    (folder / "results.json").write_text(json.dumps(document))
    return str(folder)


CRI_WAIVERS = TOOLS / "containerd-waivers.yaml"


@pytest.mark.parametrize("target", ["containerd", "glance", "glance-member", "glance-v1-sqlite", "glance-v1-mariadb"])
def test_waiver_file_names_known_requirements_once(target: str) -> None:
    waived = run_real_target.waived_ids(TOOLS / f"{target}-waivers.yaml")
    known = catalog.requirements()
    family = "cri." if target == "containerd" else "glance."
    assert waived and len(waived) == len(set(waived))
    assert all(rid in known and known[rid].operation.startswith(family) for rid in waived)


@pytest.mark.parametrize(("status", "ok"), [(0, True), (1, True), (2, False), (4, False), (5, False)])
def test_ims_pass_must_have_run(tmp_path: Path, status: int, ok: bool) -> None:
    folder = write_results(tmp_path / "ims", {"GLANCE-V2-SHOW-SCHEMA": "failed"})
    problem = run_real_target.check_informative(run_real_target.Pass("ims", (), folder, must="ran"), status)
    assert (problem is None) == ok


def test_ims_pass_without_results_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(run_real_target.RunError, match=r"results\.json"):
        run_real_target.check_informative(run_real_target.Pass("ims", (), str(tmp_path), must="ran"), 1)


def test_unwaived_pass_must_still_fail_every_waived_requirement(tmp_path: Path) -> None:
    waived = run_real_target.waived_ids(CRI_WAIVERS)

    def unwaived_pass(folder: str) -> run_real_target.Pass:
        return run_real_target.Pass("unwaived", (), folder, must="fail-waived", waivers=CRI_WAIVERS)

    unwaived = unwaived_pass(write_results(tmp_path / "a", dict.fromkeys(waived, "failed")))
    assert run_real_target.check_informative(unwaived, 1) is None
    assert "exited 0" in str(run_real_target.check_informative(unwaived, 0))
    fixed = {**dict.fromkeys(waived, "failed"), waived[0]: "passed"}
    unwaived = unwaived_pass(write_results(tmp_path / "b", fixed))
    assert f"{waived[0]}=passed" in str(run_real_target.check_informative(unwaived, 1))


def test_glance_record_must_say_the_v1_apis_are_not_offered(tmp_path: Path) -> None:
    known = catalog.requirements()
    v1 = [rid for rid, req in known.items() if req.operation in run_real_target.NOT_SERVED["glance"]]
    v2 = [rid for rid, req in known.items() if req.operation == "glance.v2.show"]
    if not v1:
        pytest.skip("the catalogue has no v1 requirements")
    good = {**dict.fromkeys(v2, "passed"), **dict.fromkeys(v1, "not-offered")}
    first = run_real_target.Pass("glance", (), write_results(tmp_path / "good", good))
    assert run_real_target.check_not_offered("glance", first) is None
    bad = {**good, v1[0]: "passed"}
    first = run_real_target.Pass("glance", (), write_results(tmp_path / "bad", bad))
    assert f"{v1[0]}=passed" in str(run_real_target.check_not_offered("glance", first))
    assert run_real_target.check_not_offered("containerd", first) is None


def test_passes_use_separate_report_dirs_and_each_waiver_file_checked_unwaived() -> None:
    for target in run_real_target.TARGETS:
        first, *others = run_real_target.passes(target)
        assert first.must == "certify" and all(one.must != "certify" for one in others)
        assert len({one.report_dir for one in (first, *others)}) == 1 + len(others)
        waiver_options = {o for one in (first, *others) for o in one.options if o.startswith("--waivers=")}
        assert all(Path(o.partition("=")[2]).exists() for o in waiver_options)
        unwaived = [one for one in others if one.must == "fail-waived"]
        assert sorted(f"--waivers={one.waivers}" for one in unwaived) == sorted(waiver_options)
    waived = {target: [any(o.startswith("--waivers=") for o in one.options) for one in run_real_target.passes(target)]
              for target in ("containerd", "glance", "keystone-glance")}
    assert waived == {"containerd": [True, False, False], "glance": [True, False, False],
                      "keystone-glance": [True, True, False, False, False]}
    cri = run_real_target.passes("containerd")
    assert cri[2].registry and "--allow-writes" in cri[2].options and "CRI-PULLIMAGE-BY-TAG" in cri[2].must_pass


# --- container images ------------------------------------------------------------------------

IMAGES = _containerd_images.IMAGES
OCI_IMAGES = [spec for spec in IMAGES if spec.layout == "oci"]
DOCKER_IMAGES = [spec for spec in IMAGES if spec.layout == "docker"]


def spec_id(spec: _oci.ImageSpec) -> str:
    """A readable test id for one image spec."""
    return spec.repo.rsplit("/", 1)[1]


def check_blobs(spec: _oci.ImageSpec, manifest: dict[str, Any], config_raw: bytes, layer: bytes) -> None:
    """The config and layer match the manifest and each other, and carry the spec's user."""
    assert manifest["config"] == {"mediaType": _oci.OCI_CONFIG, "digest": sha256(config_raw), "size": len(config_raw)}
    assert manifest["layers"] == [{"mediaType": _oci.OCI_LAYER_GZIP, "digest": sha256(layer), "size": len(layer)}]
    config = json.loads(config_raw)
    assert config["rootfs"] == {"type": "layers", "diff_ids": [sha256(gzip.decompress(layer))]}
    assert config["config"]["User"] == spec.user
    names = set(members(gzip.decompress(layer)))
    assert {"etc/passwd", "conformance/image.txt"} <= names


@pytest.mark.parametrize("spec", OCI_IMAGES, ids=spec_id)
def test_oci_layout_archive_has_consistent_digests(spec: _oci.ImageSpec) -> None:
    data, blobs = _oci.image_tar(spec)
    files = members(data)
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    for name, content in files.items():
        if name.startswith("blobs/sha256/"):
            assert sha256(content) == "sha256:" + name.rsplit("/", 1)[1]
    index = json.loads(files["index.json"])
    assert [m["annotations"]["io.containerd.image.name"] for m in index["manifests"]] == spec.refs
    for entry in index["manifests"]:
        raw = files["blobs/sha256/" + entry["digest"].split(":")[1]]
        assert entry["digest"] == blobs.manifest_digest == sha256(raw) and entry["size"] == len(raw)
    manifest = json.loads(blobs.manifest)
    check_blobs(spec, manifest, files["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]],
                files["blobs/sha256/" + manifest["layers"][0]["digest"].split(":")[1]])


@pytest.mark.parametrize("spec", DOCKER_IMAGES, ids=spec_id)
def test_docker_save_archive_has_consistent_digests(spec: _oci.ImageSpec) -> None:
    data, blobs = _oci.image_tar(spec)
    files = members(data)
    (entry,) = json.loads(files["manifest.json"])
    assert entry["RepoTags"] == spec.refs
    config_raw = files[entry["Config"]]
    assert entry["Config"] == sha256(config_raw).split(":")[1] + ".json" == blobs.config_digest.split(":")[1] + ".json"
    (layer_name,) = entry["Layers"]
    assert layer_name == blobs.diff_id.split(":")[1] + "/layer.tar"
    check_blobs(spec, json.loads(blobs.manifest), config_raw, files[layer_name])


@pytest.mark.parametrize("spec", IMAGES, ids=spec_id)
def test_images_are_built_byte_for_byte_the_same_twice(spec: _oci.ImageSpec) -> None:
    assert _oci.image_tar(spec) == _oci.image_tar(spec)


def test_containerd_image_set_covers_what_the_cri_tests_need() -> None:
    specs = IMAGES
    users = [spec.user.split(":")[0] for spec in specs]
    assert len(specs) >= 3
    assert any(u.isdigit() for u in users) and any(not u.isdigit() for u in users)
    assert any(len(spec.tags) > 1 for spec in specs) and any(spec.digest_ref for spec in specs)
    assert {spec.layout for spec in specs} == {"oci", "docker"}
    assert len({_oci.build(spec).config_digest for spec in specs}) == len(specs)


# --- configs ---------------------------------------------------------------------------------

def test_containerd_config_renders(tmp_path: Path) -> None:
    tomllib = pytest.importorskip("tomllib")
    state = tmp_path / "state"
    config = tomllib.loads(containerd_target.write_config(state).read_text())
    assert config["version"] == 2
    assert config["grpc"]["address"] == str(containerd_target.socket_path(state))
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["disable_tcp_service"] is True and cri["stream_server_port"] == "0"
    paths = [config["root"], config["state"], cri["cni"]["bin_dir"], cri["cni"]["conf_dir"],
             config["plugins"]["io.containerd.internal.v1.opt"]["path"]]
    assert all(Path(p).is_dir() and Path(p).is_relative_to(state) for p in paths)
    hosts = containerd_target.allow_plain_http(state, "127.0.0.1:5000")
    assert hosts.parent.parent == Path(cri["registry"]["config_path"])
    written = tomllib.loads(hosts.read_text())
    assert written["server"] == "http://127.0.0.1:5000"
    assert written["host"]["http://127.0.0.1:5000"]["capabilities"] == ["pull", "resolve"]


def test_glance_config_renders_with_upstream_formats(tmp_path: Path) -> None:
    paste = tmp_path / "glance-api-paste.ini"
    paste.write_text("[pipeline:glance-api]\npipeline = rootapp\n")
    state = tmp_path / "state"
    etc = glance_target.write_config(state, paste)
    conf = configparser.ConfigParser()
    conf.read(etc / "glance-api.conf")
    assert conf["DEFAULT"]["enabled_backends"] == "fs:file"
    assert conf["glance_store"]["default_backend"] == "fs"
    assert conf["database"]["connection"] == f"sqlite:///{(state / 'glance.sqlite').resolve()}"
    assert not conf.has_section("image_format"), "the glance profile certifies upstream's default formats"
    assert json.loads(Path(conf["oslo_policy"]["policy_file"]).read_text()) == {"context_is_admin": "@"}
    assert Path(conf["paste_deploy"]["config_file"]).read_text() == paste.read_text()
    for section in ("fs", "os_glance_staging_store", "os_glance_tasks_store"):
        assert Path(conf[section]["filesystem_store_datadir"]).is_dir()


def test_glance_behind_keystone_config_renders(tmp_path: Path) -> None:
    paste = tmp_path / "glance-api-paste.ini"
    paste.write_text("[pipeline:glance-api-keystone]\npipeline = authtoken context rootapp\n")
    authtoken = {"auth_url": "http://127.0.0.1:5000", "auth_type": "password", "username": "glance"}
    etc = glance_target.write_config(tmp_path / "state", paste, authtoken)
    conf = configparser.ConfigParser()
    conf.read(etc / "glance-api.conf")
    assert conf["paste_deploy"]["flavor"] == "keystone"
    assert {key: conf["keystone_authtoken"][key] for key in authtoken} == authtoken
    assert not conf.has_section("oslo_policy") and not (etc / "policy.json").exists(), "Glance's default policy"


def test_keystone_passes_log_in_through_clouds_yaml_then_os_variables(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    state = run_real_target.lib.default_state_dir("keystone-glance")
    state.mkdir(parents=True)
    clouds = keystone_target.write_clouds(state, "http://127.0.0.1:5000")
    first, member, unwaived, member_unwaived, shared = run_real_target.passes("keystone-glance")
    assert not first.target and first.pinned and member.target and not member.pinned
    # each waived pass has its twin without waivers, logged in the same way, which must fail what it waives
    for waived, twin in ((first, unwaived), (member, member_unwaived)):
        assert (twin.target, twin.pinned, twin.cloud, twin.cloud_as_variables, twin.must) == (
            waived.target, waived.pinned, waived.cloud, waived.cloud_as_variables, "fail-waived")
        assert f"--waivers={twin.waivers}" in waived.options and not any("--waivers" in o for o in twin.options)
    # the write pass shares images with the member's project: its token comes from the member's cloud, not argv
    assert "--allow-writes" in shared.options and (shared.cloud, shared.other_cloud) == (first.cloud, member.cloud)
    assert shared.must == "pass" and "GLANCE-V2-LIST-MEMBER-STATUS" in shared.must_pass
    assert not any(option.startswith("--other-token") for option in shared.options)
    options, env = run_real_target.cloud_login(str(first.cloud), first.cloud_as_variables)
    assert options == ["--os-cloud=conformance-admin"] and env == {"OS_CLIENT_CONFIG_FILE": str(clouds)}
    options, env = run_real_target.cloud_login(str(member.cloud), member.cloud_as_variables)
    assert options == [] and env["OS_AUTH_URL"] == "http://127.0.0.1:5000/v3" and env["OS_USERNAME"] == "demo"
    assert env["OS_PASSWORD"] == keystone_target.PASSWORDS["demo"] and env["OS_PROJECT_DOMAIN_NAME"] == "Default"
    assert clouds.stat().st_mode & 0o077 == 0


def test_keystone_passes_must_pass_the_401_requirement(tmp_path: Path) -> None:
    rids = run_real_target.MUST_PASS["keystone-glance"]
    assert all(catalog.Need.CREDENTIALS in catalog.requirements()[rid].requires for rid in rids)
    rid = rids[0]
    judged = run_real_target.Pass("k", (), write_results(tmp_path / "a", dict.fromkeys(rids, "passed")))
    assert run_real_target.check_must_pass("keystone-glance", judged) is None
    unjudged = run_real_target.Pass("k", (), write_results(tmp_path / "b", {"GLANCE-V2-SHOW-404": "passed"}))
    assert f"{rid}=absent" in str(run_real_target.check_must_pass("keystone-glance", unjudged))
    assert run_real_target.check_must_pass("glance", unjudged) is None


def test_glance_config_needs_the_paste_file(tmp_path: Path) -> None:
    with pytest.raises(glance_target.lib.TargetError, match=r"glance-api-paste\.ini"):
        glance_target.write_config(tmp_path, tmp_path / "missing" / "glance-api-paste.ini")


# --- the Glance image set --------------------------------------------------------------------

def test_glance_image_set_covers_statuses_and_upstream_formats() -> None:
    schema = json.loads((REPO / "schemas" / "glance" / "v2-image.glance.json").read_text())["properties"]
    images = _glance_images.IMAGES
    statuses = [_glance_images.expected_status(spec) for spec in images]
    assert len(images) >= 10 and "queued" in statuses and "deactivated" in statuses
    assert len({spec["name"] for spec in images}) == len(images)
    assert all(spec["name"].startswith(_glance_images.PREFIX) for spec in images)
    assert {spec["disk_format"] for spec in images} <= set(schema["disk_format"]["enum"])
    assert {spec["container_format"] for spec in images} <= set(schema["container_format"]["enum"])
    extra = {k: v for spec in images for k, v in _glance_images.create_body(spec).items() if k.startswith("__")}
    assert extra and all(isinstance(v, str) for v in extra.values())


@pytest.mark.parametrize("spec", [s for s in _glance_images.IMAGES if s["_size"] is not None], ids=lambda s: s["name"])
def test_glance_payload_has_its_size_and_format_header(spec: dict[str, Any]) -> None:
    data = _glance_images.image_data(spec)
    assert len(data) == spec["_size"] and data == _glance_images.image_data(spec)
    magic = {"qcow2": (0, b"QFI\xfb"), "vhd": (0, b"conectix"), "vmdk": (0, b"KDMV"), "iso": (32769, b"CD001")}
    if spec["disk_format"] in magic:
        offset, expected = magic[spec["disk_format"]]
        assert data[offset:offset + len(expected)] == expected
    assert not any(key.startswith("_") and not key.startswith("__") for key in _glance_images.create_body(spec))


def write_verdict(folder: Path, verdict: str, reasons: list[str], not_met: list[str]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    document = {"verdict": verdict, "verdict_reasons": reasons, "not_met": not_met, "requirements": []}
    (folder / "results.json").write_text(json.dumps(document))
    return str(folder)


NO_TOKEN = "GLANCE-V2-SHOW-401 (required) not judged: no credentials configured (--token)"


@pytest.mark.parametrize(("target", "verdict", "reasons", "not_met", "status"), [
    ("glance", "incomplete", [NO_TOKEN], [], 0),  # only the 401s, which a target without Keystone cannot judge
    ("glance-v1-sqlite", "incomplete", [NO_TOKEN], [], 0),
    ("glance", "incomplete", [NO_TOKEN], ["GLANCE-V2-SHOW-SCHEMA"], 1),
    ("glance", "fail", ["GLANCE-V2-SHOW-SCHEMA not met"], ["GLANCE-V2-SHOW-SCHEMA"], 1),
    ("glance", "incomplete", ["a subset of the suite ran: 3 test(s) deselected (-k, -m or --deselect)"], [], 1),
    ("keystone-glance", "incomplete", [NO_TOKEN], [], 1),  # it has credentials: the 401s must be judged
])
def test_a_target_without_credentials_certifies_with_only_the_401s_not_judged(
        tmp_path: Path, target: str, verdict: str, reasons: list[str], not_met: list[str], status: int) -> None:
    folder = write_verdict(tmp_path / "reports", verdict, reasons, not_met)
    one = run_real_target.Pass("certification", (), folder)
    assert run_real_target.without_credentials_status(target, one, 1) == status
    assert run_real_target.without_credentials_status(target, one, 2) == 2

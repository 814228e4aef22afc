"""Run the conformance suite against a real Glance or containerd: start, seed, test, always stop.

Usage: python tools/run_real_target.py TARGET [extra pytest args]
       TARGET: glance, containerd, glance-v1-sqlite, glance-v1-mariadb or keystone-glance

Glance without Keystone (glance, glance-v1-*) has no credentials: its certifying pass is incomplete with only
the 401 requirements not judged, which exits 1; that alone counts as its status 0.
glance:     pass 1 --profile glance --waivers tools/glance-waivers.yaml (its status is the exit
            status); pass 2 without the waivers must exit 1 with every waived requirement failed;
            pass 3 --profile ims, informative (its failures are expected; it only has to have run:
            status 0 or 1); then an --allow-writes run that must pass and leave no fixture image behind.
containerd: pass 1 --profile cri --waivers tools/containerd-waivers.yaml (its status is the exit
            status); pass 2 without the waivers must exit 1 with every waived requirement failed;
            pass 3, the lifecycle tests only, --allow-writes --registry against a docker-registry this
            runner starts on loopback (containerd pulls from it over plain HTTP through a hosts.toml
            under the CRI plugin's config_path), must pass and judge every PullImage, RemoveImage and
            ImageFsInfo requirement.
glance-v1-sqlite, glance-v1-mariadb (Glance 15.0.2, Pike, with the v1 API, on that database; every pass leaves
            out the v2 list's tests, -m "not glance_v2_list": Pike's list predates what they read):
            pass 1 --profile glance --waivers tools/glance-v1-<db>-waivers.yaml (its status is
            the exit status); pass 2 without the waivers must exit 1 with every waived
            requirement failed; pass 3 --profile ims, informative (status 0 or 1).
keystone-glance (Keystone 30.0.0, Glance 33.0.0 behind keystonemiddleware): pass 1 --profile glance
            --waivers tools/glance-waivers.yaml --os-cloud conformance-admin from the written clouds.yaml, no
            --target (the catalogue names Glance; its status is the exit status); pass 2 the same with --target
            URL as the demo project's member through the OS_* password variables, with the waivers a member meets,
            tools/glance-member-waivers.yaml (must pass); passes 3 and 4 as passes 1 and 2 without the waivers
            must exit 1 with every waived requirement failed; pass 5 the write-mode
            member_status test (and the 401s) only, as the admin with --allow-writes and the demo project's token as
            --other-token (given as CONFORMANCE_OTHER_TOKEN), must pass and judge GLANCE-V2-LIST-MEMBER-STATUS.
            In all, the 401 requirements must be passed (judged with the run's own Keystone token).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))

import _targetlib as lib  # noqa: E402

REPO = TOOLS.parent
PROG = "run_real_target"
TARGETS = ("glance", "containerd", "glance-v1-sqlite", "glance-v1-mariadb", "keystone-glance")
GLANCE_V1 = {"glance-v1-sqlite": "sqlite", "glance-v1-mariadb": "mariadb"}  # target: backend
# Glance 15 (Pike, 2017) is run for the v1 API; its v2 list predates visibility=all (Queens) and os_hidden (Rocky),
# which the v2 list's requirements read, so those tests are left out there (the record says so: a subset).
PIKE_PART = "-m=not glance_v2_list"
GLANCE_WAIVERS = TOOLS / "glance-waivers.yaml"  # Glance 33's known deviations, with and without Keystone
MEMBER_WAIVERS = TOOLS / "glance-member-waivers.yaml"  # those a member of a project meets behind Keystone
# keystone-glance's write pass: member_status on images shared with a second project, and the 401s every pass judges
MEMBER_STATUS_TESTS = ("test_member_status_lists_the_images_the_run_shared_by_their_status or "
                       "test_request_without_a_valid_token_answers_401")
PYTEST_OK, PYTEST_FAILED = 0, 1
# Operations the started target does not serve at all: their record must say `not-offered`
# (Glance 33 answers 300 Multiple Choices on /v1 and /v1.1).
NOT_SERVED = {"glance": ("glance.v1.head", "glance.v1_1.detail"),
              "keystone-glance": ("glance.v1.head", "glance.v1_1.detail")}
# Requirements a pass must have judged and passed: the 401 answers, with credentials configured.
MUST_PASS = {"keystone-glance": ("GLANCE-V2-SHOW-401", "GLANCE-V2-LIST-401")}
# The requirements of CRI write mode containerd must pass (any it cannot would be a waiver with an upstream reason).
CRI_WRITE_REQUIREMENTS = ("CRI-PULLIMAGE-BY-TAG", "CRI-PULLIMAGE-WITHOUT-TAG", "CRI-PULLIMAGE-BY-DIGEST",
                          "CRI-PULLIMAGE-REF-IS-ID", "CRI-PULLIMAGE-MISSING-FAILS", "CRI-PULLIMAGE-DEADLINE",
                          "CRI-REMOVEIMAGE-ALL-TAGS", "CRI-REMOVEIMAGE-GONE", "CRI-REMOVEIMAGE-IDEMPOTENT",
                          "CRI-REMOVEIMAGE-CONCURRENT", "CRI-IMAGEFSINFO-SCHEMA", "CRI-IMAGEFSINFO-GROWS")
# Targets run without credentials (no Keystone): the 401 requirements are not judged, so a run that meets every
# other requirement has the verdict incomplete and exits 1; for these targets that, and only that, is their pass.
WITHOUT_CREDENTIALS = ("glance", "glance-v1-sqlite", "glance-v1-mariadb")
NO_CREDENTIALS = "not judged: no credentials configured (--token)"


class RunError(Exception):
    """A failure of the run itself, reported as one line."""


@dataclass(frozen=True)
class Pass:
    """One pytest run: its name, the options that differ, and what its status must be."""

    name: str
    options: tuple[str, ...]
    report_dir: str
    must: str = "certify"  # its status is the exit status; "ran": status 0 or 1 and a record;
    # "fail-waived": without the waivers in this file, every requirement it names is failed; "pass": status 0
    waivers: Path | None = None
    target: bool = True  # whether --target names the URL (else the service catalogue does)
    pinned: bool = True  # whether the seeded images are named with --image-id (else discovery chooses)
    cloud: str | None = None  # a cloud of keystone_target.py's clouds.yaml: the pass logs in as it
    cloud_as_variables: bool = False  # give that cloud as OS_* password variables instead of --os-cloud
    must_pass: tuple[str, ...] = ()  # requirements this pass must judge and pass (besides MUST_PASS)
    registry: bool = False  # CRI write mode: start a registry for the pass and name it with --registry
    other_cloud: str | None = None  # a second project's cloud: its token is the pass's --other-token


def log(message: str) -> None:
    """Print one progress line on stderr."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> tuple[str, list[str]]:
    """Return (target, extra pytest args); exit 2 with one line on a bad command line."""
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        raise SystemExit(0)
    if not argv:
        usage_error(f"missing target; use {', '.join(TARGETS)}")
    if argv[0] not in TARGETS:
        usage_error(f"unknown target {argv[0]!r}; use {', '.join(TARGETS)}")
    return argv[0], argv[1:]


def usage_error(message: str) -> None:
    """Print `run_real_target: error: message` and exit with status 2."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def target_script(target: str, command: str, *extra: str) -> str:
    """Run the target's start/seed/stop script; return the last line of its stdout (the URL)."""
    if target in GLANCE_V1:  # one script, one state dir per database
        script = "glance_v1_target.py"
        extra = (*extra, f"--state-dir={lib.default_state_dir(target)}")
    elif target == "keystone-glance":
        script = "keystone_target.py"
    else:
        script = f"{target}_target.py"
    argv = [sys.executable, str(TOOLS / script), command, *extra]
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, cwd=REPO, check=False)
    if done.returncode != 0:
        raise RunError(f"{script} {command} failed with status {done.returncode}")
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def start_options(target: str) -> tuple[str, ...]:
    """Return the options of the target script's start command."""
    if target in GLANCE_V1:
        return ("--port=0", f"--backend={GLANCE_V1[target]}")
    return ("--port", "0") if target in ("glance", "keystone-glance") else ()


def seeded_image_ids(target: str) -> list[str]:
    """Return the ids `seed` recorded, so every seeded image is judged (community ones too).

    Deleted images are left out: v2 no longer shows them, so pinning them would judge `GET
    /v2/images/{id}` of an image that is gone.
    """
    try:
        images = json.loads((lib.default_state_dir(target) / lib.SEEDED_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [image["id"] for image in images
            if isinstance(image, dict) and "id" in image and image.get("status") != "deleted"]


def keystone_passes() -> list[Pass]:
    """The passes of keystone-glance: the admin through clouds.yaml (with Glance 33's waivers,
    tools/glance-waivers.yaml), the member through the OS_* variables (with those a member meets,
    tools/glance-member-waivers.yaml), each again without its waivers, which must fail every waived requirement, and
    the admin in write mode sharing images with the member's project (--other-token)."""
    waivers, member_waivers = f"--waivers={GLANCE_WAIVERS}", f"--waivers={MEMBER_WAIVERS}"
    return [Pass("glance via clouds.yaml and the catalogue", ("--profile=glance", waivers), "reports/keystone-glance",
                 target=False, cloud="conformance-admin"),
            Pass("glance as a member via OS_* variables", ("--profile=glance", member_waivers, "--tb=short"),
                 "reports/keystone-glance-member", must="pass", pinned=False, cloud="conformance-member",
                 cloud_as_variables=True),
            Pass("glance without waivers", ("--profile=glance", "--tb=no"), "reports/keystone-glance-unwaived",
                 must="fail-waived", waivers=GLANCE_WAIVERS, target=False, cloud="conformance-admin"),
            Pass("glance as a member without waivers", ("--profile=glance", "--tb=no"),
                 "reports/keystone-glance-member-unwaived", must="fail-waived", waivers=MEMBER_WAIVERS, pinned=False,
                 cloud="conformance-member", cloud_as_variables=True),
            Pass("glance images shared with the member", ("--profile=glance", "--allow-writes", "--tb=short",
                                                          f"-k={MEMBER_STATUS_TESTS}"),
                 "reports/keystone-glance-shared", must="pass", pinned=False, target=False, cloud="conformance-admin",
                 other_cloud="conformance-member", must_pass=("GLANCE-V2-LIST-MEMBER-STATUS",))]


def clouds_file() -> Path:
    """The clouds.yaml keystone_target.py wrote (JSON, which is YAML: the tool uses only the standard library)."""
    return lib.default_state_dir("keystone-glance") / "clouds.yaml"


def cloud_entry(cloud: str) -> dict[str, Any]:
    """`cloud` of clouds_file(): its auth, region and interface."""
    path = clouds_file()
    try:
        found: dict[str, Any] = json.loads(path.read_text())["clouds"][cloud]
    except (OSError, ValueError, KeyError) as exc:
        raise RunError(f"{path}: no cloud {cloud}: {exc}") from None
    return found


def cloud_token(cloud: str) -> str:
    """A token of `cloud`, asked of its Keystone."""
    from keystoneauth1 import session  # only the keystone target's write pass needs it
    from keystoneauth1.identity import v3

    token = session.Session(auth=v3.Password(**cloud_entry(cloud)["auth"])).get_token()
    if not token:
        raise RunError(f"{cloud}: Keystone gave no token")
    return str(token)


def cloud_login(cloud: str, as_variables: bool) -> tuple[list[str], dict[str, str]]:
    """(pytest options, environment) that log in as `cloud` of clouds_file()."""
    if not as_variables:
        return [f"--os-cloud={cloud}"], {"OS_CLIENT_CONFIG_FILE": str(clouds_file())}
    found = cloud_entry(cloud)
    env = {f"OS_{key.upper()}": str(value) for key, value in found["auth"].items()}
    return [], {**env, "OS_REGION_NAME": str(found["region_name"]), "OS_INTERFACE": str(found["interface"])}


def passes(target: str) -> list[Pass]:
    """Return the pytest passes of one target, the certifying one first."""
    if target == "keystone-glance":
        return keystone_passes()
    if target == "glance":
        return [Pass("glance with waivers", ("--profile=glance", f"--waivers={GLANCE_WAIVERS}"), "reports/glance"),
                Pass("glance without waivers", ("--profile=glance", "--tb=no"), "reports/glance-unwaived",
                     must="fail-waived", waivers=GLANCE_WAIVERS),
                Pass("ims (informative)", ("--profile=ims", "--tb=no"), "reports/glance-ims",
                     must="ran")]
    waivers = TOOLS / f"{target}-waivers.yaml"
    profile = "--profile=glance" if target in GLANCE_V1 else "--profile=cri"
    name = profile.removeprefix("--profile=")
    # Pike's v2 list predates what the v2 list's requirements read (visibility=all, os_hidden): not certified there
    part = (PIKE_PART,) if target in GLANCE_V1 else ()
    result = [Pass(f"{name} with waivers", (profile, f"--waivers={waivers}", *part), f"reports/{target}"),
              Pass(f"{name} without waivers", (profile, "--tb=no", *part), f"reports/{target}-unwaived",
                   must="fail-waived", waivers=waivers)]
    if target in GLANCE_V1:
        result.append(Pass("ims (informative)", ("--profile=ims", "--tb=no", *part),
                           f"reports/{target}-ims", must="ran"))
    if target == "containerd":
        lifecycle = "-m=cri_pull_image or cri_remove_image or cri_image_fs_info"  # the read calls: passes 1 and 2
        result.append(Pass("cri write mode", (profile, lifecycle, "--allow-writes"),
                           f"reports/{target}-writes", must="pass", pinned=False, registry=True,
                           must_pass=CRI_WRITE_REQUIREMENTS))
    return result


def run_pytest(url: str, one: Pass, extra: list[str], image_ids: list[str]) -> int:
    """Run one pytest pass against url and return its exit status."""
    # Options are written --name=value: pytest guesses its rootdir from bare path arguments.
    login, credentials = cloud_login(one.cloud, one.cloud_as_variables) if one.cloud else ([], {})
    argv = [sys.executable, "-m", "pytest", *([f"--target={url}"] if one.target else []), *one.options, *login,
            f"--report-dir={one.report_dir}", *(f"--image-id={i}" for i in image_ids), *extra]
    # Only this pass's OpenStack credentials: none from the calling shell.
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OS_")}, **credentials}
    if one.other_cloud:
        env["CONFORMANCE_OTHER_TOKEN"] = cloud_token(one.other_cloud)  # in the environment: never in the log line
    (REPO / one.report_dir / "results.json").unlink(missing_ok=True)  # never judge a stale record
    shown = [a for a in argv[1:] if not a.startswith("--image-id=")]
    ids = f" --image-id=... ({len(image_ids)} seeded images)" if image_ids else ""
    log(f"pass {one.name}: {' '.join(shown)}{ids}")
    started = time.monotonic()
    status = subprocess.run(argv, cwd=REPO, check=False, env=env).returncode
    log(f"pass {one.name}: pytest exit status {status} after {time.monotonic() - started:.1f}s")
    return status


def read_results(report_dir: str) -> dict[str, tuple[str, str]]:
    """Return {requirement id: (operation, outcome)} from report_dir/results.json."""
    path = REPO / report_dir / "results.json"
    try:
        document = json.loads(path.read_text())
        return {r["id"]: (r["operation"], r["outcome"]) for r in document["requirements"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunError(f"{path} is missing or unreadable: {exc}") from None


def without_credentials_status(target: str, one: Pass, status: int) -> int:
    """The pass's status, 0 for exit 1 when the only thing between the run and a pass is the 401 requirements
    a target without credentials cannot have judged (verdict incomplete, nothing judged unmet)."""
    if target not in WITHOUT_CREDENTIALS or status != PYTEST_FAILED:
        return status
    path = REPO / one.report_dir / "results.json"
    try:
        document = json.loads(path.read_text())
        reasons, verdict, not_met = document["verdict_reasons"], document["verdict"], document["not_met"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunError(f"{path} is missing or unreadable: {exc}") from None
    if verdict != "incomplete" or not_met or not reasons or not all(r.endswith(NO_CREDENTIALS) for r in reasons):
        return status
    log(f"pass {one.name}: incomplete only for want of credentials ({len(reasons)} requirement(s) not judged)")
    return PYTEST_OK


def check_not_offered(target: str, one: Pass) -> str | None:
    """Return why the record misjudges the APIs the target does not serve, or None."""
    absent = NOT_SERVED.get(target, ())
    if not absent:
        return None
    wrong = [f"{rid}={outcome}" for rid, (operation, outcome) in read_results(one.report_dir).items()
             if operation in absent and outcome != "not-offered"]
    if wrong:
        more = f" and {len(wrong) - 3} more" if len(wrong) > 3 else ""
        return (f"{target} does not serve {', '.join(absent)}, yet results.json records "
                f"{', '.join(wrong[:3])}{more}")
    return None


def check_must_pass(target: str, one: Pass) -> str | None:
    """Return why the record did not pass a requirement this target must judge (the 401 answers), or None."""
    results = read_results(one.report_dir)
    wrong = [f"{rid}={results.get(rid, ('', 'absent'))[1]}" for rid in (*MUST_PASS.get(target, ()), *one.must_pass)
             if results.get(rid, ("", ""))[1] != "passed"]
    return f"the {one.name} pass must judge and pass {', '.join(wrong)}" if wrong else None


def waived_ids(path: Path) -> list[str]:
    """Return the requirement ids the waiver file names."""
    import yaml  # the suite's own dependency; imported late so --help works without it

    document = yaml.safe_load(path.read_text()) or {}
    return [str(entry["requirement"]) for entry in document.get("waivers") or []]


def check_informative(one: Pass, status: int) -> str | None:
    """Return why a pass after the first is not acceptable, or None when it is."""
    if one.must == "pass":
        return None if status == PYTEST_OK else f"the {one.name} pass exited {status}, expected {PYTEST_OK}"
    if one.must == "ran":
        if status not in (PYTEST_OK, PYTEST_FAILED):
            return f"the {one.name} pass did not run properly (pytest exit status {status})"
        failed = sorted(rid for rid, (_, outcome) in read_results(one.report_dir).items()
                        if outcome == "failed")
        log(f"pass {one.name}: failed as documented (README, Findings against real implementations; "
            f"tools/README.md): {', '.join(failed) or 'none'}")
        return None
    assert one.waivers is not None, "a fail-waived pass names its waiver file"
    expected = waived_ids(one.waivers)
    outcomes = {rid: outcome for rid, (_, outcome) in read_results(one.report_dir).items()}
    wrong = [f"{rid}={outcomes.get(rid, 'absent')}" for rid in expected
             if outcomes.get(rid) != "failed"]
    if wrong:
        return f"without waivers these waived requirements are not failed: {', '.join(wrong)}"
    wanted = PYTEST_FAILED if expected else PYTEST_OK
    if status != wanted:
        return f"the pass without waivers exited {status}, expected {wanted}"
    log(f"pass {one.name}: still detected as failed: {', '.join(expected) or 'nothing waived'}")
    return None


def run_write_mode_check() -> int:
    """While Glance is up: an --allow-writes run must pass and leave no fixture image behind (a self-test)."""
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:image_conformance", "-p", "no:cacheprovider",
            "selftests/test_write_mode.py::test_real_glance_run_leaves_nothing_behind"]
    log("pass write mode: " + " ".join(argv[1:]))
    done = subprocess.run(argv, cwd=REPO, check=False, capture_output=True, text=True)
    log(f"pass write mode: {done.stdout.strip().splitlines()[-1] if done.stdout.strip() else 'no output'}")
    if "1 passed" not in done.stdout:  # a skip here would mean the check never ran
        return PYTEST_FAILED
    return done.returncode


def run_with_registry(target: str, url: str, one: Pass, extra: list[str]) -> int:
    """Run a CRI write-mode pass against a registry started for it, which containerd may pull from over HTTP."""
    from containerd_target import allow_plain_http

    from conformance.cri.registry import RegistryUnavailable, start_registry

    try:
        running = start_registry()
    except RegistryUnavailable as exc:
        raise RunError(str(exc)) from None
    with running:
        hosts = allow_plain_http(lib.default_state_dir(target), running.address)
        log(f"pass {one.name}: registry {running.address}, {hosts}")
        try:
            return run_pytest(url, dataclasses.replace(one, options=(*one.options, f"--registry={running.address}")),
                              extra, [])
        finally:
            shutil.rmtree(hosts.parent, ignore_errors=True)


def run_target(target: str, extra: list[str]) -> int:
    """Start and seed the target, run its passes, and stop it whatever happens."""
    try:
        started = time.monotonic()
        if target in GLANCE_V1:  # a fresh database each run: the seed makes deleted and killed images
            target_script(target, "stop")
            shutil.rmtree(lib.default_state_dir(target), ignore_errors=True)
        url = target_script(target, "start", *start_options(target))
        target_script(target, "seed")
        log(f"{target} started and seeded at {url} in {time.monotonic() - started:.1f}s")
        ids = seeded_image_ids(target) if target != "containerd" else []
        first, *others = passes(target)
        status = without_credentials_status(target, first, run_pytest(url, first, extra, ids))
        if status in (PYTEST_OK, PYTEST_FAILED):
            problem = check_not_offered(target, first) or check_must_pass(target, first)
            if problem is not None:
                log(f"error: {problem}")
                status = 1
        for one in others:
            pass_status = run_with_registry(target, url, one, extra) if one.registry else \
                run_pytest(url, one, extra, ids if one.pinned else [])
            pass_status = without_credentials_status(target, one, pass_status)
            problem = check_informative(one, pass_status)
            if problem is None and pass_status in (PYTEST_OK, PYTEST_FAILED):
                problem = check_must_pass(target, one)
            if problem is not None:
                log(f"error: {problem}")
                status = status or 1
        if target == "glance" and run_write_mode_check() != PYTEST_OK:
            log("error: the --allow-writes run against this Glance left images behind or failed")
            status = status or 1
        return status
    finally:
        target_script(target, "stop")


def on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so the target is still stopped."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the suite against one real target."""
    target, extra = parse_args(sys.argv[1:] if argv is None else argv)
    if target == "containerd" and os.geteuid() != 0:
        print(f"{PROG}: error: containerd needs root (run as root, as CI does)", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, on_sigterm)
    started = time.monotonic()
    try:
        status = run_target(target, extra)
    except RunError as exc:
        log(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    log(f"{target}: exit status {status}, {time.monotonic() - started:.1f}s in total")
    return status


if __name__ == "__main__":
    sys.exit(main())

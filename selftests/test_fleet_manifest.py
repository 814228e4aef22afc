"""The fleet manifest and shards: what a manifest may say, which endpoints a shard runs, and how its runs end."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from conformance.fleet.__main__ import main
from conformance.fleet.manifest import ManifestError, load
from conformance.fleet.runner import _Pool, command, environment, parse_shard


def manifest(tmp_path: Path, text: str) -> Path:
    """A manifest file holding `text`."""
    path = tmp_path / "fleet.yaml"
    path.write_text(text, encoding="utf-8")
    return path


FIVE = "endpoints:\n" + "".join(f"  - {{name: e{n}, target: embedded}}\n" for n in range(5))


def test_shards_split_the_manifest_without_overlap_or_gap(tmp_path: Path) -> None:
    fleet = load(manifest(tmp_path, FIVE))
    shards = [[e.name for e in fleet.shard(i, 2)] for i in range(2)]
    assert shards == [["e0", "e2", "e4"], ["e1", "e3"]]


def test_the_shard_defaults_to_an_indexed_jobs_index_and_a_count() -> None:
    assert parse_shard(None, {}) == (0, 1)
    assert parse_shard("1/3", {"JOB_COMPLETION_INDEX": "0", "FLEET_SHARD_COUNT": "3"}) == (1, 3)
    assert parse_shard(None, {"JOB_COMPLETION_INDEX": "2", "FLEET_SHARD_COUNT": "3"}) == (2, 3)
    with pytest.raises(ManifestError, match="FLEET_SHARD_COUNT is not"):
        parse_shard(None, {"JOB_COMPLETION_INDEX": "2"})
    for bad in ("3/3", "x/2", "1", "-1/2", "0/0"):
        with pytest.raises(ManifestError, match="--shard"):
            parse_shard(bad, {})


def test_an_endpoint_becomes_one_suite_command_with_its_credentials_in_the_environment(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text("waivers: []\n", encoding="utf-8")
    fleet = load(manifest(tmp_path, """
endpoints:
  - name: region-a
    target: https://ims.example.com
    profile: ims
    credentials: {token: TOKEN_REGION_A}
    waivers: w.yaml
    options: ["--budget=600"]
  - {name: reference, target: embedded, fault: v2-show-bad-self-link, profile: [glance, cri]}
"""))
    region, reference = fleet.endpoints
    args = command(region, tmp_path / "out", None)
    assert args[:3] == [sys.executable, "-m", "conformance"] and "--record" in args
    assert "--target=https://ims.example.com" in args and "--profile=ims" in args and args[-1] == "--budget=600"
    assert f"--waivers={tmp_path / 'w.yaml'}" in args
    assert "secret-value" not in " ".join(args)
    env = environment(region, {"TOKEN_REGION_A": "secret-value", "OS_AUTH_TOKEN": "the shell's", "PATH": "/bin"})
    assert env["OS_AUTH_TOKEN"] == "secret-value" and env["PATH"] == "/bin"
    with pytest.raises(ManifestError, match="TOKEN_REGION_A is not set"):
        environment(region, {})
    args = command(reference, tmp_path / "out", tmp_path / "key")
    assert "--reference-fault=v2-show-bad-self-link" in args and not any(a.startswith("--target") for a in args)
    assert "--profile=glance" in args and "--profile=cri" in args and f"--sign-key={tmp_path / 'key'}" in args


@pytest.mark.parametrize(("text", "message"), [
    ("endpoints: []\n", "needs a top-level 'endpoints:' list"),
    ("endpoints:\n  - {name: a, target: embedded}\n  - {name: a, target: embedded}\n", "'a' is used more than once"),
    ("endpoints:\n  - {name: ../up, target: embedded}\n", "names a folder"),
    ("endpoints:\n  - {name: a}\n", "needs a target"),
    ("endpoints:\n  - {name: a, target: 'https://x', fault: v2-show-bad-self-link}\n", "applies only to target"),
    ("endpoints:\n  - {name: a, target: 'https://x', credentials: {token: 'gAAAAB-secret=='}}\n",
     "must name an environment variable"),
    ("endpoints:\n  - {name: a, target: 'https://x', options: ['--token=abc']}\n", "use credentials"),
    ("endpoints:\n  - {name: a, target: embedded, waivers: nowhere.yaml}\n", "no such file"),
    ("endpoints:\n  - {name: a, target: embedded, colour: red}\n", "unknown key(s) colour"),
    ("endpoints: [\n", "line 2, column 1"),
])
def test_a_bad_manifest_is_one_line_and_exit_2(tmp_path: Path, text: str, message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", str(manifest(tmp_path, text)), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err and "gAAAAB-secret" not in err and "Traceback" not in err


def test_merge_refuses_a_folder_that_is_no_shard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["merge", str(tmp_path), "--out", str(tmp_path / "merged")])
    err = capsys.readouterr().err
    assert status == 2 and "not a fleet run folder" in err and err.count("\n") == 1


def test_a_stopped_shard_ends_its_running_suites_and_starts_no_other(tmp_path: Path) -> None:
    pool = _Pool(time_limit=60)
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    timer = threading.Timer(0.5, pool.stop, args=(signal.SIGTERM, None))
    timer.start()
    started = time.monotonic()
    assert pool.run(sleeper, dict(os.environ), tmp_path / "a.log") is None
    assert time.monotonic() - started < 30
    assert pool.run(sleeper, dict(os.environ), tmp_path / "b.log") is None and not pool.live


def test_a_run_past_its_time_limit_is_ended(tmp_path: Path) -> None:
    started = time.monotonic()
    assert _Pool(time_limit=0.5).run([sys.executable, "-c", "import time; time.sleep(60)"], dict(os.environ),
                                     tmp_path / "a.log") is None
    assert time.monotonic() - started < 30

"""The plugin's options: bad values stop the run with one line before any test, good ones take effect."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.options import OPTIONS, ConfigError, TargetConfig, build_config, parse_target
from conformance.reference.faults import ALL_FAULTS
from selftests.conftest import outside_short_summary


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--target", "ftp://example.com"], "unknown scheme"),
        (["--target", "http://"], "needs a host"),
        (["--target", "http://127.0.0.1:99999"], "port"),
        (["--target", "unix://relative.sock"], "absolute path"),
        (["--target", "grpc://127.0.0.1"], "host and port"),
        (["--profile", "nonesuch"], "unknown profile"),
        (["--target", "http://127.0.0.1:9", "--profile", "cri"], "is for cri targets"),
        (["--timeout", "-3"], "positive"),
        (["--timeout", "soon"], "not a number"),
        (["--ca-bundle", "/nonexistent/ca.pem"], "no such file"),
        (["--cri-version", "v2"], "choose one of"),
        (["--waivers", "/nonexistent/waivers.yaml"], "no such file"),
        (["--reference-fault", "no-such-fault"], "unknown fault"),
        (["--hypothesis-profile", "nonesuch"], "unknown profile"),
    ],
)
def test_bad_option_stops_with_one_line(suite, args: list[str], expected: str) -> None:
    run = suite(*args, timeout=60)
    assert run.returncode not in (0, 1, 5), run.stdout + run.stderr
    errors = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert len(errors) == 1, errors
    assert expected in errors[0]
    assert "Traceback" not in run.stderr
    assert not (run.report_dir / "results.json").exists()


@pytest.mark.parametrize(
    ("target", "family", "address"),
    [
        ("http://127.0.0.1:9292", "glance", "http://127.0.0.1:9292"),
        ("https://image.example.com/", "glance", "https://image.example.com"),
        ("unix:///run/containerd/containerd.sock", "cri", "unix:///run/containerd/containerd.sock"),
        ("unix:/run/containerd/containerd.sock", "cri", "unix:///run/containerd/containerd.sock"),
        ("grpc://127.0.0.1:10010", "cri", "127.0.0.1:10010"),
    ],
)
def test_target_scheme_picks_the_family(target: str, family: str, address: str) -> None:
    assert parse_target(target) == (family, address)


def test_option_beats_environment_beats_ini(tmp_path) -> None:
    ini = {"target": "http://ini.example:1"}
    env = {"CONFORMANCE_TARGET": "http://env.example:2"}
    assert build_config({}, ini, {}, tmp_path).glance_url == "http://ini.example:1"
    assert build_config({}, ini, env, tmp_path).glance_url == "http://env.example:2"
    assert build_config({"target": "http://opt.example:3"}, ini, env, tmp_path).glance_url == "http://opt.example:3"


def test_each_option_is_declared_once_and_says_where_else_it_can_be_given() -> None:
    flags = [option.flag for option in OPTIONS]
    dests = [option.dest for option in OPTIONS]
    assert len(set(flags)) == len(flags) and len(set(dests)) == len(dests)
    for option in OPTIONS:
        text = option.help_text()
        assert all(name in text for name in option.env), option.flag
        assert (f"ini {option.ini_name}" in text) == option.ini, option.flag
        assert option.action == "store_true" or option.metavar, option.flag


def test_readme_options_table_agrees_with_the_declarations() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    declared = {option.flag: option for option in OPTIONS}
    rows = [line.split("|")[1:3] for line in readme.splitlines() if line.startswith("| `--")]
    checked = 0
    for flags_cell, fallbacks_cell in rows:
        names = set(re.findall(r"`([A-Za-z_]+)`", fallbacks_cell))
        for flag in re.findall(r"`(--[a-z-]+)", flags_cell):
            if flag in declared:
                option = declared[flag]
                assert names == {*option.env, *([option.ini_name] if option.ini else [])}, flag
                checked += 1
    assert checked >= 8


def test_ini_and_environment_fallbacks_follow_the_table(tmp_path) -> None:
    ini = {"timeout": "7", "budget": "60", "report_dir": "out", "profile": "glance"}
    config = build_config({"timeout": "3"}, ini, {"CONFORMANCE_PROFILE": "ims"}, tmp_path)
    assert (config.timeout, config.budget, config.report_dir) == (3.0, 60.0, tmp_path / "out")
    assert config.profiles["glance"] == "ims"
    assert build_config({}, ini, {}, tmp_path).profiles["glance"] == "glance"


def test_defaults_when_nothing_is_given(tmp_path) -> None:
    config = build_config({}, {}, {}, tmp_path)
    assert isinstance(config, TargetConfig)
    assert (config.timeout, config.budget, config.report_dir) == (10.0, 900.0, tmp_path / "reports")
    assert (config.cri_version, config.verify, config.image_ids) == ("auto", True, ())
    assert config.token and config.token in config.secrets()  # the embedded run makes up its own token
    assert not config.allow_writes and config.waivers is None and config.baseline is None


def test_crictl_endpoint_variable_selects_cri(tmp_path) -> None:
    config = build_config({}, {}, {"CONTAINER_RUNTIME_ENDPOINT": "unix:///run/x.sock"}, tmp_path)
    assert config.families == ("cri",) and config.cri_address == "unix:///run/x.sock"


def test_no_target_certifies_both_embedded_families(tmp_path) -> None:
    config = build_config({}, {}, {}, tmp_path)
    assert config.embedded and config.families == ("glance", "cri")
    assert config.profiles == {"glance": "ims", "cri": "cri"}


def test_token_comes_from_environment_and_is_a_secret(tmp_path) -> None:
    config = build_config({}, {}, {"OS_AUTH_TOKEN": "s3cr3t"}, tmp_path)
    assert config.token == "s3cr3t" and "s3cr3t" in config.secrets()


def test_report_dir_that_is_a_file_is_refused(tmp_path) -> None:
    (tmp_path / "taken").write_text("")
    with pytest.raises(ConfigError, match="not a folder"):
        build_config({"report_dir": "taken"}, {}, {}, tmp_path)


def test_unreachable_target_ends_with_one_line_and_all_reports(suite) -> None:
    run = suite("--target", "http://127.0.0.1:9", "--timeout", "2", timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr  # 2: the run stopped early
    assert "Traceback" not in run.stdout + run.stderr
    assert sum("does not answer" in line for line in outside_short_summary(run.stdout)) <= 3, run.stdout
    for name in ("report.html", "junit.xml", "results.json"):
        assert (run.report_dir / name).is_file(), name
    outcomes = set(run.outcomes().values())
    assert outcomes == {"error"}, outcomes
    assert run.results["verdict"] == "error"  # the run broke: never counted as the target's failure


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--http-port", "99999"], "not a port number"),
        ([], "give --http-port"),
        (["--http-port", "0", "--fault", "nope"], "unknown fault"),
        (["--http-port", "0", "--require-token", " "], "--require-token needs a non-empty TOKEN"),
    ],
)
def test_reference_command_line_errors_are_one_line(args: list[str], expected: str) -> None:
    command = [sys.executable, "-m", "conformance.reference", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines


def test_reference_lists_every_fault() -> None:
    command = [sys.executable, "-m", "conformance.reference", "--list-faults"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert {line.split()[0] for line in done.stdout.splitlines()} == set(ALL_FAULTS)


def test_collect_only_lists_the_tests_and_writes_no_report(suite) -> None:
    run = suite("--collect-only", "-q")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    assert "tests/glance/test_v2_show.py: " in run.stdout and "tests/cri/test_list_images.py: " in run.stdout
    assert not [name for name in ("report.html", "junit.xml", "results.json") if (run.report_dir / name).exists()]

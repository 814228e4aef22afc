"""What a target's values can cost: no crash, no unbounded CPU or memory, no file outside --report-dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from hypothesis import find
from hypothesis.errors import FlakyFailure
from referencing import Registry

from conformance import schemas
from conformance.checks import KEPT, MAX_LINES, ConformanceFailure, Problems
from conformance.glance import published_schema
from conformance.hypothesis_profiles import storage_folder
from conformance.listing.domains import COUNT, TIME
from conformance.run.phase import transport_error
from conformance.targets.errors import TargetError
from conformance.targets.limits import count_json_values
from conformance.timestamps import format_time, parse_time
from selftests.conftest import MEMORY_BOUND_KIB, measured_run

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

QUICK = 10.0  # seconds any of these may take on a loaded machine; the backtracking or quadratic forms take minutes


# --- extreme values fail the requirement that reads them, never crash it ----------------------------------------


def test_a_moment_before_year_one_in_utc_is_no_timestamp() -> None:
    assert parse_time("0001-01-01T00:00:00+01:00") is None  # OverflowError before
    assert parse_time("9999-12-31T23:59:59-01:00") is None
    smallest = parse_time("0001-01-01T00:00:00")
    assert smallest is not None and format_time(smallest) == "0001-01-01T00:00:00.000000"


def test_no_query_is_drawn_from_a_size_without_text_nor_before_the_first_moment() -> None:
    huge = 10**4299 * 9  # 4,300 digits: its text exists, the text of huge + 1 does not
    observed = COUNT.observe([5, huge])
    assert observed == (5,)
    assert COUNT.pick(observed, [], 4)  # drawing from what was observed raises nothing
    moments = TIME.observe(["0001-01-01T00:00:00"])
    # the value one microsecond earlier does not exist: that draw is the value itself
    assert find(TIME.draw(moments), lambda value: value.startswith("0001-")) == "0001-01-01T00:00:00"


def test_a_transport_error_inside_an_exception_group_is_found() -> None:
    error = TargetError("GET http://t/v1.1/images/detail: connection refused")
    group = ExceptionGroup("two failures", [AssertionError("a failure"), ExceptionGroup("inner", [error])])
    assert transport_error(group) is error
    assert transport_error(FlakyFailure("flaky", [error])) is error
    assert transport_error(ExceptionGroup("only failures", [AssertionError("x")])) is None


def test_problems_keep_the_first_ones_and_count_the_rest() -> None:
    problems = Problems("Every tag must be a reference")
    for index in range(20_000):
        problems.add(f"tag {index} is not a reference")
    assert len(problems.lines) == KEPT and problems.count == 20_000
    with pytest.raises(ConformanceFailure) as failed:
        problems.check()
    message = str(failed.value)
    assert "(20000 problem(s))" in message and f"… and {20_000 - MAX_LINES} more" in message


# --- no target value buys unbounded CPU ------------------------------------------------------------------------


def timed(work: object) -> float:
    started = time.monotonic()
    assert callable(work)
    work()
    return time.monotonic() - started


def test_a_target_pattern_runs_in_linear_time() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": "^(a+)+$"}},
              "patternProperties": {"^(x+)+$": {"type": "string"}}, "additionalProperties": False}
    validator = schemas.LinearDraft4Validator(schema, registry=Registry())
    instance = {"name": "a" * 5000 + "!", "x" * 5000 + "!": 1}
    errors: list[str] = []
    assert timed(lambda: errors.extend(e.message for e in validator.iter_errors(instance))) < QUICK
    assert len(errors) == 2, errors


def test_a_pattern_only_a_backtracking_engine_runs_declines_the_published_schema() -> None:
    reason = published_schema._unusable({"properties": {"name": {"type": "string", "pattern": "^(a)\\1$"}}})
    assert "linear-time engine" in reason


def test_every_pattern_of_the_suite_s_schemas_runs_on_the_linear_engine() -> None:
    found = 0
    for path in sorted(schemas.SCHEMAS_DIR.rglob("*.json")):
        for node in published_schema._nodes(schemas.schema(path.relative_to(schemas.SCHEMAS_DIR).as_posix())):
            for pattern in [node.get("pattern"), *(node.get("patternProperties") or {})]:
                if isinstance(pattern, str):
                    schemas.linear_pattern(pattern)
                    found += 1
    assert found


def test_unique_items_over_twenty_thousand_objects_is_linear() -> None:
    validator = schemas.LinearDraft202012Validator({"uniqueItems": True})
    items = [{"id": index, "tags": [str(index)]} for index in range(20_000)]
    assert timed(lambda: list(validator.iter_errors(items))) < QUICK
    assert not list(validator.iter_errors(items))
    assert list(validator.iter_errors([*items, {"tags": ["7"], "id": 7.0}]))  # 7 and 7.0 are equal
    assert not list(validator.iter_errors([1, True, "1", [1], {"a": 1}]))  # true is not 1


@pytest.mark.parametrize("body", [b'"' + b'\\"' * 1_000_000 + b"," * 300_000, b'"\\",' * 500_000,
                                  b',"\\' * 500_000])
def test_counting_json_values_is_linear_whatever_the_quotes(body: bytes) -> None:
    assert timed(lambda: count_json_values(body, 200_000)) < QUICK


# --- nothing written outside --report-dir ----------------------------------------------------------------------


def test_hypothesis_stores_in_the_user_s_cache_folder() -> None:
    assert storage_folder({"XDG_CACHE_HOME": "/c"}) == Path("/c/image-api-conformance/hypothesis")
    assert storage_folder({"HYPOTHESIS_STORAGE_DIRECTORY": "/h", "XDG_CACHE_HOME": "/c"}) == Path("/h")


def test_a_run_writes_nothing_in_its_working_folder_nor_home(tmp_path: Path) -> None:
    work, home, cache = tmp_path / "work", tmp_path / "home", tmp_path / "cache"
    for folder in (work, home):
        folder.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("OS_", "HYPOTHESIS_", "HUAWEICLOUD_"))},
           "HOME": str(home), "XDG_CACHE_HOME": str(cache)}
    signer = ("from conformance.targets.signing import signer_for; "
              "signer_for('AK123', 'SK456').sign('GET', 'http://t/', {}, None)")
    subprocess.run([sys.executable, "-c", signer], cwd=work, env=env, check=True, timeout=60)
    # as a user runs it: pytest's cache is not turned off on the command line, the suite turns it off itself
    run = subprocess.run([sys.executable, "-m", "conformance", f"--report-dir={tmp_path / 'reports'}", "-q",
                          "-k", "malformed"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    appeared = sorted(str(path.relative_to(tmp_path)) for folder in (work, home) for path in folder.rglob("*"))
    assert appeared == [], appeared  # .hypothesis/, ~/.huaweicloud/ before
    assert (cache / "image-api-conformance" / "hypothesis").is_dir()


# --- a CRI answer is read within a cap on its entries ----------------------------------------------------------


def test_a_flood_of_two_byte_cri_entries_is_walked_not_parsed() -> None:
    from conformance.proto import runtime_v1_pb2 as pb
    from conformance.targets.wire_bounds import parse_bounded

    listed = pb.ListImagesResponse(images=[pb.Image(id=f"sha256:{i:064x}", repo_tags=[f"t:{i}", "u:1"], size=i)
                                           for i in range(40)])
    assert parse_bounded(pb.ListImagesResponse, listed.SerializeToString(), 1000).message == listed
    capped = parse_bounded(pb.ListImagesResponse, listed.SerializeToString(), 1000,
                           {"runtime.v1.ListImagesResponse.images": 10})
    assert len(capped.message.images) == 10 and capped.dropped == {"runtime.v1.ListImagesResponse.images": 30}
    flood = b"\x0a\x00" * 2_000_000  # two million empty images in 4 MB
    bounded = parse_bounded(pb.ListImagesResponse, flood, 1000)
    assert len(bounded.message.images) == 1000
    assert bounded.dropped == {"runtime.v1.ListImagesResponse.images": 1_999_000}
    info = pb.ImageStatusResponse(info={str(i): "{}" for i in range(3000)}).SerializeToString()
    assert len(parse_bounded(pb.ImageStatusResponse, info, 1000).message.info) == 1000


class _Flood(grpc.GenericRpcHandler):
    """A CRI ImageService (v1) whose every answer is `flood` bytes: entries of two bytes each, under the 16 MiB cap."""

    def __init__(self, listed: bytes, status: bytes) -> None:
        self.answers = {"/runtime.v1.ImageService/ListImages": listed, "/runtime.v1.ImageService/ImageStatus": status}

    def service(self, handler_call_details):  # type: ignore[no-untyped-def]
        answer = self.answers.get(handler_call_details.method)
        if answer is None:
            return None
        return grpc.unary_unary_rpc_method_handler(lambda request, context: answer,
                                                   request_deserializer=None, response_serializer=None)


def test_a_cri_target_flooding_every_answer_stays_within_the_memory_bound(tmp_path: Path) -> None:
    entries = FLOOD_BYTES // 2
    images = b"\x0a\x00" * entries  # ListImages: that many empty images
    tags = b"\x12\x00" * (entries - 8)  # ImageStatus: one image with that many empty tags
    status = b"\x0a" + _varint(len(tags)) + tags
    folder = tempfile.mkdtemp(prefix="flood-", dir="/tmp")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2),
                         options=[("grpc.max_send_message_length", 32 * 1024 * 1024)])
    server.add_generic_rpc_handlers((_Flood(images, status),))
    server.add_insecure_port(f"unix:{folder}/cri.sock")
    server.start()
    try:
        measured = measured_run(tmp_path / "reports", "tests/cri", "--target", f"unix://{folder}/cri.sock",
                                "--budget=15", timeout=300)  # the budget, not the flood, ends the run
    finally:
        server.stop(0)
        shutil.rmtree(folder, ignore_errors=True)
    run = measured.run
    assert measured.peak_kib < MEMORY_BOUND_KIB, f"peak {measured.peak_kib // 1024} MB"
    assert "INTERNALERROR" not in run.stdout + run.stderr, run.stdout[-3000:]
    assert run.results["verdict"] in ("fail", "error"), run.results["verdict_reasons"]
    assert measured.elapsed < 15 + 30, measured.elapsed


FLOOD_BYTES = 4 * 1024 * 1024  # two million entries: 2 GB and more before the walk, as the 16 MiB cap allows


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def test_a_flooded_property_keeps_fifty_violations_and_hides_no_other_property() -> None:
    body = {"id": 7, "tags": [1] * 20_000, "name": 5}
    lines = schemas.error_lines("glance/v2-image.ims.json", body)
    tags = [line for line in lines if line.startswith("tags")]
    assert len(tags) == schemas.VIOLATIONS_PER_FIELD + 1
    assert "tags: and 19950 more violations, not listed" in tags
    assert schemas.field_error_lines("glance/v2-image.ims.json", body, "name")  # still found, past the flood

"""Self-tests of the judged sample: it covers every kind of image the listing shows, deterministically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.glance import sample
from conformance.glance.fixtures import discovery_bound, sample_of
from conformance.reference.glance import images as catalogue
from conformance.reference.http_server import start_http_server
from selftests.conftest import run_suite

# The three requirements a sample of queued images cannot judge, by the profile that certifies them.
CHECKSUM_REQUIREMENTS = {"glance": ("GLANCE-V2-SHOW-CHECKSUM-FORMAT", "GLANCE-V1-HEAD-CHECKSUM-FORMAT"),
                         "ims": ("GLANCE-V1-HEAD-CHECKSUM-FORMAT", "GLANCE-V1-HEAD-ACTIVE-CHECKSUM")}
QUEUED_FIRST = 150  # more queued images listed first than a sample of 100 holds


def _entry(n: int, **fields: Any) -> dict[str, Any]:
    base = {"id": f"id-{n:05d}", "status": "active", "visibility": "public", "disk_format": "qcow2",
            "container_format": "bare", "owner": "o1"}
    return {**base, **fields}


def _listing() -> list[dict[str, Any]]:
    entries = [_entry(n, status="queued") for n in range(300)]
    entries += [_entry(300 + n) for n in range(200)]
    entries[420] = _entry(420, status="killed", owner="rare-owner")
    entries[480] = _entry(480, disk_format="iso", visibility="shared", container_format="ovf")
    return entries


def test_small_listing_is_judged_whole() -> None:
    entries = [_entry(n) for n in range(7)]
    chosen = sample.choose(entries, 100)
    assert chosen.ids == tuple(entry["id"] for entry in entries)
    assert chosen.to_record()["chosen_by"] == "all listed"


def test_sample_covers_every_stratum_then_fills_evenly() -> None:
    entries = _listing()
    chosen = sample.choose(entries, 20)
    assert len(chosen.ids) == 20
    assert not chosen.uncovered
    picked = {entry["id"]: entry for entry in entries if entry["id"] in set(chosen.ids)}
    for field, value in (("status", "killed"), ("status", "active"), ("owner", "rare-owner"),
                         ("disk_format", "iso"), ("visibility", "shared"), ("container_format", "ovf")):
        assert any(entry[field] == value for entry in picked.values()), (field, value)
    positions = sorted(int(image_id[3:]) for image_id in chosen.ids)
    assert positions[0] < 50 and positions[-1] >= 450, "the fill spreads over the whole listing"
    assert list(chosen.ids) == sorted(chosen.ids), "listing order"


def test_sample_is_deterministic() -> None:
    assert sample.choose(_listing(), 20) == sample.choose(_listing(), 20)


def test_too_many_strata_are_counted_as_uncovered() -> None:
    entries = [_entry(n, owner=f"owner-{n}") for n in range(50)]
    chosen = sample.choose(entries, 10)
    assert len(chosen.ids) == 10
    assert len(chosen.uncovered) == 40
    assert chosen.to_record()["uncovered"] == 40


def test_record_bounds_the_targets_text() -> None:
    entries = [_entry(n, owner="x" * 5000 if n == 0 else f"owner-{n}") for n in range(200)]
    record = sample.choose(entries, 10).to_record()
    owners = record["strata"]["owner"]
    assert len(owners["values"]) == sample.MAX_VALUES_RECORDED
    assert owners["values_not_shown"] == 200 - sample.MAX_VALUES_RECORDED
    assert all(len(value) <= sample.MAX_VALUE_TEXT + 1 for value in owners["values"])


def test_discovery_read_to_the_bound_is_not_complete() -> None:
    listed = {f"id-{n}": _entry(n) for n in range(discovery_bound(2))}
    assert not sample_of(listed, 2).complete
    assert sample_of(dict(list(listed.items())[:5]), 2).complete


@pytest.mark.parametrize("profile", sorted(CHECKSUM_REQUIREMENTS))
def test_queued_catalogue_front_still_judges_checksums(profile: str, tmp_path: Path) -> None:
    token = "sample-selftest-token"
    server = start_http_server(token=token, images=catalogue.with_queued_uploads(QUEUED_FIRST))
    try:
        run = run_suite(tmp_path / "reports", "tests/glance/test_v2_show.py", "tests/glance/test_v1_head.py",
                        "--target", server.url, "--token", token, "--profile", profile)
    finally:
        server.stop()
    for requirement in CHECKSUM_REQUIREMENTS[profile]:
        assert run.outcome(requirement) == "passed", (requirement, run.stdout[-3000:])
    record = run.results["target"]["endpoints"]["glance"]["sample"]
    assert record["chosen_by"] == "strata"
    assert record["read"] == len(catalogue.listed_by_default()) + QUEUED_FIRST
    statuses = record["strata"]["status"]["values"]
    assert statuses["queued"]["listed"] >= QUEUED_FIRST
    assert all(counts["sampled"] >= 1 for counts in statuses.values()), statuses
    assert record["uncovered"] == 0

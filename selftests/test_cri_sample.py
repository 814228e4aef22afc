"""Self-tests of the CRI sample: on a store larger than the cap, every kind of listed image is judged."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from conformance import catalog
from conformance.cri.fixtures import CRI_STRATA, EMBEDDED_STRATUM, choose_cri, cri_kinds
from conformance.evidence import Censor, ExchangeLog
from conformance.reference.cri.images import CatalogueImage
from conformance.reference.cri_server import RunningCriServer, start_cri_server
from conformance.targets.cri import CriTarget
from selftests.run_limits import limits

CAP = 100  # images judged per version (--max-images)
COMMON = CAP * 2  # ordinary images (tagged, with digests, uid set, not pinned) listed before the rare ones


def _digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def _store() -> list[CatalogueImage]:
    """COMMON ordinary images, then one of each rare kind, whose ids sort last (the cap would drop them)."""
    def image(n: int, *, tagged: bool = True, digests: bool = True, uid: int | None = 0, username: str = "",
              pinned: bool = False, embedded: bool = False) -> CatalogueImage:
        repo = f"example.org/library/image-{n}"
        return CatalogueImage(
            id="sha256:" + (f"{n:064x}" if n < COMMON else "f" * 56 + f"{n:08x}"),
            repo_tags=(f"{repo}:1",) if tagged else (), repo_digests=(f"{repo}@{_digest(repo)}",) if digests else (),
            size=1000 + n, uid=uid, username=username, pinned=pinned, embedded=embedded)

    common = [image(n) for n in range(COMMON)]
    rare = [image(COMMON, tagged=False), image(COMMON + 1, digests=False),
            image(COMMON + 2, uid=None, username="nobody"), image(COMMON + 3, uid=None),
            image(COMMON + 4, pinned=True), image(COMMON + 5, embedded=True)]
    return common + rare


@pytest.fixture(scope="module")
def isulad_server() -> Iterator[RunningCriServer]:
    socket_dir = tempfile.mkdtemp(prefix="cri-", dir="/tmp")
    server = start_cri_server(socket_path=os.path.join(socket_dir, "large.sock"), images=_store(), embedded=True,
                              versions=("v1",))
    yield server
    server.stop()
    shutil.rmtree(socket_dir, ignore_errors=True)


def _listed(server: RunningCriServer) -> list[dict[str, Any]]:
    with CriTarget(server.url, "v1", limits=limits(timeout="5"), log=ExchangeLog(Censor())) as cri:
        result = cri.list_images()
    assert result.code == "OK" and result.response is not None
    images: list[dict[str, Any]] = result.response["images"]
    return images


def test_a_store_larger_than_the_cap_is_sampled_by_every_kind(isulad_server: RunningCriServer) -> None:
    listed = _listed(isulad_server)
    assert len(listed) > CAP
    chosen = choose_cri(listed, CAP, catalog.profiles()["isulad"])
    assert len(chosen.ids) == CAP and not chosen.uncovered
    kinds = [cri_kinds(entry) for entry in listed if entry["id"] in set(chosen.ids)]
    for field in (*CRI_STRATA, EMBEDDED_STRATUM):
        assert {kind[field] for kind in kinds} == {cri_kinds(entry)[field] for entry in listed}, field
    assert {kind["user"] for kind in kinds} == {"uid", "username", "neither"}
    assert {kind[EMBEDDED_STRATUM] for kind in kinds} == {"yes", "no"}
    record = chosen.to_record()
    assert record["chosen_by"] == "strata" and set(record["strata"]) == {*CRI_STRATA, EMBEDDED_STRATUM}


def test_the_sample_is_deterministic_and_spread_over_the_listing(isulad_server: RunningCriServer) -> None:
    listed = _listed(isulad_server)
    profile = catalog.profiles()["isulad"]
    chosen = choose_cri(listed, CAP, profile)
    assert chosen == choose_cri(listed, CAP, profile)
    positions = [i for i, entry in enumerate(listed) if entry["id"] in set(chosen.ids)]
    assert positions[-1] >= len(listed) - 6 and positions[0] < 10  # rare kinds at the end, the rest from the start


def test_without_isulad_the_embedded_form_is_no_stratum() -> None:
    entries = [{"id": f"{n:064x}", "repo_tags": [], "repo_digests": [f"sha256:{n:064x}"]} for n in range(3)]
    chosen = choose_cri(entries, 2, catalog.profiles()["cri"])
    assert EMBEDDED_STRATUM not in chosen.to_record()["strata"] and len(chosen.ids) == 2

"""Peak memory stays under 300 MB whatever the target sends, both families: each answer is read within a cap on its
entries, and the rest is listed as not judged with the option that raises the cap.

Three floods run at once, each in its own pytest process whose peak resident memory is measured (and whose budget
bounds its time): v1.1 detail pages of 100,000 entries (455 MB before the cap on a page's entries), a v2 image
shown with 190,000 tags, and a CRI ListImages answer just under the 16 MiB message cap.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import ExitStack, contextmanager
from typing import Any

import grpc
import pytest

from conformance.evidence import Censor, ExchangeLog
from conformance.glance.v2_shown import kept_within
from conformance.glance.walks import walk_detail
from conformance.proto import runtime_v1_pb2 as pb
from conformance.reference.glance import images as catalogue
from conformance.reference.http_server import start_http_server
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpTarget
from conformance.targets.limits import KEPT_BYTES, kept_cost
from selftests.conftest import MEMORY_BOUND_KIB, V1_TESTS, Measured, measured_run
from selftests.hostile_glance import rewriting
from selftests.run_limits import limits

BUDGET = 90
ENTRIES = 99_999  # entries of one v1.1 page: with the page's own brackets, just within the 200,000 JSON values parsed
TAGS = 190_000
CRI_ANSWER_BYTES = 16 * 1024 * 1024 - 64 * 1024


def v1_1_page() -> bytes:
    """A v1.1 detail page of ENTRIES images (however many the query asks for), each an id alone."""
    page = [{"id": f"00000000-0000-4000-8000-{n:012d}"} for n in range(ENTRIES)]
    return json.dumps({"images": page}).encode()


def flooded_v1_1(path: str, status: int, data: Any) -> tuple[int, bytes] | None:
    """Every v1.1 detail page is `v1_1_page()`."""
    return (200, PAGE) if path == "/v1.1/images/detail" else None


def tagged_v2(path: str, status: int, data: Any) -> tuple[int, bytes] | None:
    """Every image shown carries TAGS tags."""
    if path.startswith("/v2/images/") and path.count("/") == 3 and status == 200 and isinstance(data, dict):
        return 200, json.dumps({**data, "tags": [f"t{n}" for n in range(TAGS)]}).encode()
    return None


PAGE = v1_1_page()


@contextmanager
def glance(rewrite: Callable[[str, int, Any], tuple[int, bytes] | None]) -> Iterator[str]:
    """The Glance-style reference, its answers rewritten; yields its URL."""
    with start_http_server(wrap=rewriting(rewrite)) as server:
        yield server.url


def listed_images() -> bytes:
    """A runtime.v1 ListImagesResponse of images with a tag and a digest each, just under CRI_ANSWER_BYTES."""
    image = pb.Image(id="sha256:" + "ab" * 32, repo_tags=["example.test/flood:latest"],
                     repo_digests=["example.test/flood@sha256:" + "cd" * 32], size=1024)
    entry = pb.ListImagesResponse(images=[image]).SerializeToString()
    return entry * (CRI_ANSWER_BYTES // len(entry))


class _Flooding(grpc.GenericRpcHandler):
    """A runtime.v1 ImageService whose every ListImages answers `listed_images()`; other calls are not served."""

    def __init__(self) -> None:
        self.listed = listed_images()

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler | None:
        if handler_call_details.method != "/runtime.v1.ImageService/ListImages":
            return None
        return grpc.unary_unary_rpc_method_handler(lambda request, context: self.listed,
                                                   request_deserializer=None, response_serializer=None)


@contextmanager
def cri() -> Iterator[str]:
    """The flooding runtime on a unix socket; yields its address."""
    folder = tempfile.mkdtemp(prefix="memory-", dir="/tmp")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_send_message_length", 32 * 1024 * 1024)])
    server.add_generic_rpc_handlers((_Flooding(),))
    server.add_insecure_port(f"unix:{folder}/cri.sock")
    server.start()
    try:
        yield f"unix://{folder}/cri.sock"
    finally:
        server.stop(0)
        shutil.rmtree(folder, ignore_errors=True)


FLOODS: dict[str, tuple[Callable[[], Any], tuple[str, ...]]] = {
    "v1.1-pages-of-100000-entries": (lambda: glance(flooded_v1_1), V1_TESTS[1:]),
    "v2-show-with-190000-tags": (lambda: glance(tagged_v2), ("tests/glance/test_v2_show.py",)),
    "cri-listimages-of-16MiB": (cri, ("tests/cri",)),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Measured]:
    """Every flood's run, all at once."""
    with ExitStack() as stack:
        targets = {name: stack.enter_context(make()) for name, (make, _) in FLOODS.items()}
        with futures.ThreadPoolExecutor(len(FLOODS)) as pool:
            started = {
                name: pool.submit(measured_run, tmp_path_factory.mktemp(name) / "reports", *args, "--target",
                                  targets[name], f"--budget={BUDGET}", timeout=BUDGET + 150)
                for name, (_, args) in FLOODS.items()
            }
            return {name: future.result() for name, future in started.items()}


@pytest.mark.parametrize("flood", FLOODS)
def test_peak_memory_stays_under_the_bound(runs: dict[str, Measured], flood: str) -> None:
    measured = runs[flood]
    run = measured.run
    output = run.stdout[-3000:] + run.stderr[-3000:]
    assert (run.report_dir / "results.json").is_file(), output
    assert measured.peak_kib < MEMORY_BOUND_KIB, f"peak {measured.peak_kib // 1024} MB\n{output}"
    assert "INTERNALERROR" not in run.stdout + run.stderr, output


def test_a_v1_1_page_past_the_cap_is_read_to_the_cap_and_the_rest_not_judged(runs: dict[str, Measured]) -> None:
    run = runs["v1.1-pages-of-100000-entries"].run
    reasons = [item["reason"] for entry in run.results["requirements"] for item in entry["not_judged"]]
    assert any("raise --max-listed" in reason for reason in reasons), reasons


# ---- the caps themselves, in process ---------------------------------------------------------------------------


def test_a_v1_1_page_is_read_to_max_listed_entries_and_its_walk_is_cut_there() -> None:
    server = start_http_server(images=catalogue.generated(60))
    try:
        glance = GlanceClient(HttpTarget(server.url, limits=limits(max_listed="5"), log=ExchangeLog(Censor())))
        walk = walk_detail(glance, {}, limit=7, max_pages=3)
        within = walk_detail(glance, {}, limit=5, max_pages=3)
    finally:
        server.stop()
    assert walk.page_count == 1 and len(walk.ids) == len(walk.entries) == 5  # no next page after a cut one
    assert len(walk.pages[0].body["images"]) == 5  # the kept body holds no more than was read
    assert walk.truncated and "cut at 5 images of a page (raise --max-listed)" in walk.cut_reason
    assert walk.raise_hint == "--max-listed" and walk.max_pages == 1
    assert within.page_count == 3 and within.entry_cap is None and "raise --max-pages" in within.cut_reason


def test_shown_images_are_kept_within_the_run_s_bound() -> None:
    server = start_http_server(images=catalogue.generated(10))
    try:
        def client(kept_bytes: int) -> GlanceClient:
            bounded = dataclasses.replace(limits(), kept_bytes=kept_bytes)
            return GlanceClient(HttpTarget(server.url, limits=bounded, log=ExchangeLog(Censor())))

        ids = [image.id for image in catalogue.generated(10)][:6]
        everything, left = kept_within(client(KEPT_BYTES), ids)
        costs = [kept_cost(item.response.body) for item in everything]
        some, cut = kept_within(client(sum(costs[:3])), ids)  # three fit exactly, the fourth does not
    finally:
        server.stop()
    assert len(everything) == 6 and left == 0
    assert [item.image_id for item in some] == ids[:3] and cut == 3

"""A busy endpoint: load shed (503, 429) is survived by retries and counted, an endpoint that keeps shedding leaves
what asked not judged, a 500 and a write are never sent again; independent requests go out concurrently and the run
judges what a serial run judges; the loopback delay proxy of tools/ adds the round trip it says."""

from __future__ import annotations

import http.client
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest

from conformance.batches import judged_in_order
from conformance.evidence import Censor, ExchangeLog
from conformance.proto import runtime_v1_pb2
from conformance.reference.glance.load import LOADS, UNAVAILABLE_PATH
from conformance.reference.http_server import RunningServer, start_http_server
from conformance.targets.cri import CriTarget
from conformance.targets.cri_lifecycle import image_fs_info
from conformance.targets.errors import TargetError
from conformance.targets.fanout import ahead, fan_out
from conformance.targets.http import HttpTarget
from conformance.targets.retry import UNAVAILABLE, TargetUnavailable, http_date, parse_retry_after
from selftests.conftest import SuiteRun, run_suite
from selftests.run_limits import limits

TOOLS = Path(__file__).resolve().parent.parent / "tools"
sys.path.insert(0, str(TOOLS))  # as the real-target self-tests import the tools

from delay_proxy import DelayProxy  # noqa: E402

V2_SHOW = "tests/glance/test_v2_show.py"
WSGI = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# -- the retry policy -------------------------------------------------------------------------------------------------


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert 40 <= (parse_retry_after(http_date(45)) or 0) <= 45
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date past: at once
    for unreadable in (None, "", "soon", "-3", "1.5", "\u0661"):  # not delay-seconds, not a date
        assert parse_retry_after(unreadable) is None, unreadable


def test_a_missing_retry_after_backs_off_doubling() -> None:
    policy = limits().retry
    assert [policy.wait(None, retry) for retry in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert policy.wait("4", 3) == 4.0
    assert policy.applies("GET", 503) and policy.applies("HEAD", 429)
    assert not policy.applies("GET", 500) and not policy.applies("POST", 503) and not policy.applies("DELETE", 429)


# -- the transport against a scripted endpoint ------------------------------------------------------------------------


def scripted(statuses: list[int], retry_after: str | None = "0") -> tuple[Callable[[WSGI], WSGI], list[str]]:
    """A middleware answering the first requests with `statuses` (then the app), and the methods it saw."""
    seen: list[str] = []

    def wrap(app: WSGI) -> WSGI:
        def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            seen.append(environ["REQUEST_METHOD"])
            if len(seen) > len(statuses):
                return app(environ, start_response)
            headers = [("Content-Length", "0")] + ([("Retry-After", retry_after)] if retry_after is not None else [])
            start_response(f"{statuses[len(seen) - 1]} Scripted", headers)
            return [b""]

        return answer

    return wrap, seen


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[HttpTarget, list[str]]]]:
    servers: list[RunningServer] = []

    def start(statuses: list[int], retry_after: str | None = "0", **options: str) -> tuple[HttpTarget, list[str]]:
        wrap, seen = scripted(statuses, retry_after)
        server = start_http_server(wrap=wrap)
        servers.append(server)
        return HttpTarget(server.url, limits=limits(**options), log=ExchangeLog(Censor())), seen

    yield start
    for server in servers:
        server.stop()


def test_a_shed_get_is_sent_again_and_each_attempt_is_evidence(serve: Callable[..., Any]) -> None:
    target, seen = serve([503, 429])
    response = target.request("GET", "/versions")
    assert response.status == 200
    assert seen == ["GET"] * 3
    assert [exchange.status for exchange in target.log.drain()] == [503, 429, 200]
    assert target.log.drain_retries() == 2


def test_a_head_is_sent_again_over_the_pool_and_raw(serve: Callable[..., Any]) -> None:
    target, seen = serve([503, 503])
    assert target.request("HEAD", "/versions").status == 200
    assert target.head_raw("/versions").status == 200
    assert seen == ["HEAD", "HEAD", "HEAD", "HEAD"]
    assert target.log.drain_retries() == 2


def test_an_endpoint_still_shedding_after_the_retries_leaves_it_not_judged(serve: Callable[..., Any]) -> None:
    target, seen = serve([503] * 10, retries="2")
    with pytest.raises(TargetUnavailable, match=f"{UNAVAILABLE} .*answered 503 after 2 retries"):
        target.request("GET", "/versions")
    assert len(seen) == 3
    assert len(target.log.drain()) == 3


def test_a_wait_longer_than_the_cap_is_not_waited_for(serve: Callable[..., Any]) -> None:
    target, seen = serve([429], retry_after="3600", retry_wait="5")
    started = time.monotonic()
    with pytest.raises(TargetUnavailable, match="a wait of 3600s, longer than --retry-wait 5s"):
        target.request("GET", "/versions")
    assert time.monotonic() - started < 5
    assert seen == ["GET"]


def test_a_wait_past_the_budget_is_not_waited_for(serve: Callable[..., Any]) -> None:
    target, seen = serve([503], retry_after="20", budget="10")
    with pytest.raises(TargetUnavailable, match="would outlast the run's --budget"):
        target.request("GET", "/versions")
    assert seen == ["GET"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_write_is_never_sent_again(serve: Callable[..., Any], method: str) -> None:
    target, seen = serve([503])
    assert target.request(method, "/v2/images", payload={}).status == 503
    assert seen == [method]
    assert target.log.drain_retries() == 0


def test_a_500_is_never_sent_again(serve: Callable[..., Any]) -> None:
    target, seen = serve([500])
    assert target.request("GET", "/versions").status == 500
    assert seen == ["GET"]


# -- a busy CRI runtime -----------------------------------------------------------------------------------------------


class _ScriptedRuntime(grpc.GenericRpcHandler):
    """A CRI ImageService answering the first calls of each RPC with `codes[rpc]`, then OK with an empty answer."""

    def __init__(self, codes: dict[str, list[grpc.StatusCode]]) -> None:
        self.codes = codes
        self.seen: list[str] = []

    def service(self, handler_call_details):  # type: ignore[no-untyped-def]
        rpc = handler_call_details.method.rsplit("/", 1)[-1]
        answer_type = getattr(runtime_v1_pb2, f"{rpc}Response")

        def answer(request, context):  # type: ignore[no-untyped-def]
            script = self.codes.get(rpc, [])
            self.seen.append(rpc)
            calls = self.seen.count(rpc)
            if calls <= len(script):
                context.abort(script[calls - 1], f"busy, call {calls}")
            return answer_type()

        return grpc.unary_unary_rpc_method_handler(answer, request_deserializer=lambda data: data,
                                                   response_serializer=lambda message: message.SerializeToString())


@pytest.fixture
def runtime() -> Iterator[Callable[..., tuple[CriTarget, _ScriptedRuntime]]]:
    folder = tempfile.mkdtemp(prefix="busy-cri-", dir="/tmp")
    servers: list[grpc.Server] = []

    def start(codes: dict[str, list[grpc.StatusCode]], **options: str) -> tuple[CriTarget, _ScriptedRuntime]:
        handler = _ScriptedRuntime(codes)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        server.add_generic_rpc_handlers((handler,))
        socket = f"{folder}/cri-{len(servers)}.sock"
        server.add_insecure_port(f"unix:{socket}")
        server.start()
        servers.append(server)
        return CriTarget(f"unix://{socket}", "v1", limits=limits(**options), log=ExchangeLog(Censor())), handler

    yield start
    for server in servers:
        server.stop(0)
    shutil.rmtree(folder, ignore_errors=True)


BUSY, FULL = grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_shed_read_call_is_sent_again_and_each_attempt_is_evidence(runtime: Callable[..., Any]) -> None:
    cri, handler = runtime({"ImageStatus": [FULL, FULL], "ListImages": [BUSY], "ImageFsInfo": [FULL]})
    assert cri.image_status("busybox").code == "OK"
    assert cri.list_images(filter_image="").code == "OK"  # the runtime has answered: UNAVAILABLE now means busy
    assert image_fs_info(cri).code == "OK"
    assert handler.seen == ["ImageStatus"] * 3 + ["ListImages"] * 2 + ["ImageFsInfo"] * 2
    assert [exchange.status for exchange in cri.log.drain()] == [
        "RESOURCE_EXHAUSTED", "RESOURCE_EXHAUSTED", "OK", "UNAVAILABLE", "OK", "RESOURCE_EXHAUSTED", "OK"]
    assert cri.log.drain_retries() == 4


def test_a_runtime_still_shedding_after_the_retries_leaves_it_not_judged(runtime: Callable[..., Any]) -> None:
    cri, handler = runtime({"ImageStatus": [FULL] * 10}, retries="2")
    with pytest.raises(TargetUnavailable, match=f"{UNAVAILABLE} .*ImageStatus answered RESOURCE_EXHAUSTED after 2 "
                                                "retries; no retry left of --retries 2"):
        cri.image_status("busybox")
    assert handler.seen == ["ImageStatus"] * 3
    assert len(cri.log.drain()) == 3 and cri.log.drain_retries() == 2


def test_a_runtime_answering_unavailable_past_the_retries_is_down_and_not_retried_again(
        runtime: Callable[..., Any]) -> None:
    cri, handler = runtime({"ImageStatus": [BUSY] * 10}, retries="1")
    assert cri.list_images().code == "OK"
    for _ in range(2):  # the first call spends the retries; the runtime is down after that, not busy
        with pytest.raises(TargetError, match="UNAVAILABLE"):
            cri.image_status("busybox")
    assert handler.seen == ["ListImages", "ImageStatus", "ImageStatus", "ImageStatus"]
    assert cri.log.drain_retries() == 1


def test_unavailable_before_any_answer_is_unreachable_not_busy(runtime: Callable[..., Any]) -> None:
    cri, handler = runtime({"ListImages": [BUSY]})
    with pytest.raises(TargetError, match="UNAVAILABLE"):
        cri.list_images()
    assert handler.seen == ["ListImages"] and cri.log.drain_retries() == 0


@pytest.mark.parametrize("rpc", ["PullImage", "RemoveImage"])
def test_a_write_call_is_never_sent_again(runtime: Callable[..., Any], rpc: str) -> None:
    cri, handler = runtime({rpc: [FULL, FULL]})
    assert cri.list_images().code == "OK"
    request = getattr(runtime_v1_pb2, f"{rpc}Request")()
    assert cri._call(rpc, request).code == "RESOURCE_EXHAUSTED"
    assert handler.seen == ["ListImages", rpc] and cri.log.drain_retries() == 0


# -- concurrency and pacing -------------------------------------------------------------------------------------------


def test_fan_out_keeps_the_order_and_raises_the_first_error_in_order() -> None:
    assert fan_out(lambda n: n * n, list(range(20)), limit=4) == [n * n for n in range(20)]

    def fails(n: int) -> int:
        time.sleep(0.01 * (5 - n))  # the later items end first
        if n in (1, 3):
            raise ValueError(n)
        return n

    with pytest.raises(ValueError, match="1"):
        fan_out(fails, list(range(5)), limit=5)


def test_ahead_yields_in_order_starts_within_its_bounds_and_raises_at_the_turn() -> None:
    started: list[int] = []

    def call(n: int) -> int:
        started.append(n)
        time.sleep(0.01 * (5 - n % 5))  # the later items end first
        if n == 3:
            raise ValueError(n)
        return n

    answers = ahead(call, range(8), limit=3)
    assert [next(answers), next(answers), next(answers)] == [0, 1, 2]
    assert max(started) <= 4  # never more than the limit started past what was taken
    with pytest.raises(ValueError, match="3"):
        next(answers)  # item 3's error comes at its turn, after items 0 to 2 were judged

    taken, when = [0], {}

    def noted(n: int) -> int:
        when[n] = taken[0]  # how many answers the caller had taken when the call of item n started
        return n

    for n in ahead(noted, range(10), limit=4, ready=lambda ahead_now: ahead_now < 2):
        assert n == taken[0]
        taken[0] += 1
    assert all(n - at_start <= 1 for n, at_start in when.items()), when  # one ahead of the turn at most: the gate
    assert list(ahead(call, range(3), limit=1)) == [0, 1, 2]


def test_a_batch_is_judged_in_order_with_its_answers_asked_ahead_and_ends_at_its_first_wrong_value() -> None:
    asked: list[list[str]] = []

    def answers(values: list[str]) -> Generator[str, None, None]:
        asked.append(values)
        return ahead(lambda v: f"answer to {v}", [f"{v}{n}" for v in values for n in (1, 2)], limit=4)

    judged: list[tuple[str, list[Any]]] = []

    def judge(value: str, firsts: list[Any]) -> None:
        judged.append((value, firsts))
        assert value != "c", f"{value} is wrong"

    judged_in_order(["a", "b"], judge, answers, per_value=2)
    assert judged == [("a", ["answer to a1", "answer to a2"]), ("b", ["answer to b1", "answer to b2"])]
    judged.clear()
    with pytest.raises(AssertionError, match="c is wrong"):
        judged_in_order(["a", "c", "d"], judge, answers, per_value=2)
    assert [value for value, _ in judged] == ["a", "c"]  # nothing judged past the first wrong value
    assert asked == [["a", "b"], ["a", "c", "d"]]
    judged.clear()
    # the test has found a wrong answer: its later batches (hypothesis shrinking) send each request at its turn
    judged_in_order(["a", "b"], judge, answers, per_value=2)
    assert judged == [("a", [None, None]), ("b", [None, None])]
    assert len(asked) == 2
    judged.clear()
    with pytest.raises(AssertionError, match="c is wrong"):  # a and b were judged right already: only c is walked
        judged_in_order(["b", "a", "c"], judge, answers, per_value=2)
    assert judged == [("c", [None, None])]


def test_requests_in_flight_never_exceed_the_concurrency() -> None:
    in_flight, most = [0], [0]

    def slow(app: WSGI) -> WSGI:
        def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            time.sleep(0.05)
            in_flight[0] -= 1
            return app(environ, start_response)

        return answer

    with start_http_server(wrap=slow) as server:
        target = HttpTarget(server.url, limits=limits(concurrency="3"), log=ExchangeLog(Censor()))
        answers = fan_out(lambda _: target.request("GET", "/versions"), list(range(12)), limit=3)
    assert [answer.status for answer in answers] == [200] * 12
    assert 1 < most[0] <= 3


def test_the_rate_cap_spaces_the_requests() -> None:
    with start_http_server() as server:
        target = HttpTarget(server.url, limits=limits(rate="20"), log=ExchangeLog(Censor()))
        started = time.monotonic()
        for _ in range(5):
            target.request("GET", "/versions")
        assert time.monotonic() - started >= 4 / 20  # a lower bound only: a loaded machine is slower, never faster


def test_a_head_answer_with_its_length_and_nothing_after_keeps_its_connection() -> None:
    with start_http_server() as server:
        proxy = DelayProxy(server.url, 0.0, keep_alive=True).start()
        try:
            target = HttpTarget(proxy.url, limits=limits(), log=ExchangeLog(Censor()))
            for _ in range(3):
                assert target.request("HEAD", "/v1/images/does-not-exist").status in (401, 404)
                assert target.request("GET", "/versions").status == 200
        finally:
            proxy.stop()
    assert proxy.connections == 1


# -- the delay proxy --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("keep_alive", [False, True])
def test_the_delay_proxy_forwards_with_its_round_trip(keep_alive: bool) -> None:
    with start_http_server() as server:
        proxy = DelayProxy(server.url, 0.1, keep_alive=keep_alive).start()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
            started = time.monotonic()
            connection.request("GET", "/versions")
            first = connection.getresponse()
            body = first.read()
            connected_and_answered = time.monotonic() - started
            if first.will_close:
                connection.close()
            started = time.monotonic()
            connection.request("GET", "/versions")
            second = connection.getresponse().read()
            answered = time.monotonic() - started
            connection.close()
        finally:
            proxy.stop()
    assert first.status == 200 and body == second and b"versions" in body
    assert connected_and_answered >= 0.2  # the handshake's round trip, then the request's
    assert answered >= (0.1 if keep_alive else 0.2)
    assert first.will_close is not keep_alive
    assert proxy.connections == (1 if keep_alive else 2)


# -- whole runs against the reference's load behaviours ---------------------------------------------------------------


def test_the_load_behaviours_are_not_faults() -> None:
    from conformance.reference.faults import ALL_FAULTS

    assert not set(LOADS) & set(ALL_FAULTS)


@pytest.mark.parametrize("load", ["periodic-503", "periodic-429"])
def test_a_run_against_an_endpoint_shedding_load_fails_nothing_and_counts_its_retries(tmp_path: Path,
                                                                                      load: str) -> None:
    run = run_suite(tmp_path, V2_SHOW, f"--reference-load={load}")
    results = run.results
    assert "failed" not in run.outcomes().values(), run.stdout[-2000:]
    assert results["retries"] > 0
    assert results["retries"] == sum(entry["retries"] for entry in results["requirements"])
    statuses = [exchange["status"] for exchange in results["discovery"]]
    assert int(load[-3:]) in statuses  # the shed answer is evidence too


def test_a_path_the_endpoint_never_serves_leaves_its_requirements_not_judged(tmp_path: Path) -> None:
    run = run_suite(tmp_path, V2_SHOW, "--reference-load=persistent-503")
    outcomes = run.outcomes()
    assert "failed" not in outcomes.values()
    assert outcomes["GLANCE-V2-SHOW-200-JSON"] == "skipped"
    entry = next(e for e in run.results["requirements"] if e["id"] == "GLANCE-V2-SHOW-200-JSON")
    assert entry["message"].startswith(f"{UNAVAILABLE} (GET ")
    assert UNAVAILABLE_PATH in entry["message"]
    assert outcomes["GLANCE-V2-SHOW-404"] == "passed"  # what does not need that path is judged
    assert run.results["verdict"] == "incomplete"


def test_a_500_fails_the_requirement_that_asked_and_is_not_sent_again(tmp_path: Path) -> None:
    run = run_suite(tmp_path, V2_SHOW, "--reference-load=once-500")
    assert run.outcome("GLANCE-V2-SHOW-200-JSON") == "failed"
    assert run.results["retries"] == 0
    assert [o for o in run.outcomes().values() if o == "failed"] == ["failed"]


def test_a_concurrent_run_judges_what_a_serial_run_judges(tmp_path: Path) -> None:
    runs = [run_suite(tmp_path / f"c{n}", f"--concurrency={n}") for n in (1, 4)]

    def judged(run: SuiteRun) -> dict[str, Any]:
        return {e["id"]: (e["outcome"], e["judged"], sorted((n["reason"], n["count"]) for n in e["not_judged"]))
                for e in run.results["requirements"]}

    assert runs[0].results["verdict"] == "pass"
    assert judged(runs[0]) == judged(runs[1])

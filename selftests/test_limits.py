"""Limits travel with the target: two targets in one process, made with different limits, each keeps its own."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterator

import pytest

from conformance.evidence import Censor, ExchangeLog
from conformance.glance.walks import Universe, walk_detail
from conformance.reference.cri.images import catalogue as cri_catalogue
from conformance.reference.cri_server import RunningCriServer, start_cri_server
from conformance.reference.glance import images as glance_catalogue
from conformance.reference.http_server import RunningServer, start_http_server
from conformance.targets.cri import CriTarget
from conformance.targets.decoding import BodyTooComplex
from conformance.targets.errors import BudgetExhausted
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpTarget
from conformance.targets.limits import RunLimits, TooManyValues, count_json_values
from selftests.run_limits import limits

DETAIL = "/v1.1/images/detail"


@pytest.fixture(scope="module")
def glance_server() -> Iterator[RunningServer]:
    server = start_http_server(images=glance_catalogue.generated(60))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cri_server(socket_dir: str) -> Iterator[RunningCriServer]:
    server = start_cri_server(socket_path=os.path.join(socket_dir, "limits.sock"))
    yield server
    server.stop()


def glance(server: RunningServer, run_limits: RunLimits) -> GlanceClient:
    return GlanceClient(HttpTarget(server.url, limits=run_limits, log=ExchangeLog(Censor())))


def spent(run_limits: RunLimits) -> RunLimits:
    """`run_limits` with its budget used up."""
    return dataclasses.replace(run_limits, started=time.monotonic() - run_limits.budget - 1)


def test_each_http_target_parses_within_its_own_json_value_cap(glance_server: RunningServer) -> None:
    strict = glance(glance_server, limits(max_json_values="50"))
    lenient = glance(glance_server, limits())
    for _ in range(2):  # made in one order, used in both: neither takes the other's cap
        with pytest.raises(BodyTooComplex, match="more than the 50 the suite parses"):
            strict.detail_v1_1({"limit": "100"}).json()
        assert len(lenient.detail_v1_1({"limit": "100"}).json()["images"]) > 50
    carried = lenient.show(lenient.detail_v1_1().json()["images"][0]["id"])
    with pytest.raises(TooManyValues):  # JSON text an answer carries is held to the same cap as its body
        dataclasses.replace(carried, limits=strict.limits).loads(json.dumps(list(range(100))))
    assert carried.loads(json.dumps(list(range(100)))) == list(range(100))


def test_each_walk_follows_its_own_targets_page_cap(glance_server: RunningServer) -> None:
    short, long = glance(glance_server, limits(max_pages="2")), glance(glance_server, limits(max_pages="5"))
    walks = [walk_detail(client, {}, limit=7) for client in (long, short, long)]
    assert [(walk.page_count, walk.truncated, walk.max_pages) for walk in walks] == [
        (5, True, 5), (2, True, 2), (5, True, 5)]


def test_each_universe_follows_the_pages_of_its_own_ground_truth(glance_server: RunningServer) -> None:
    client = glance(glance_server, limits(max_pages="4"))
    cut = walk_detail(client, {}, limit=7, max_pages=2, raise_hint="--max-images")
    whole = walk_detail(client, {}, limit=1000)
    assert cut.truncated and not whole.truncated
    small = Universe(cut, cut, [], page_cap=client.limits.pages)
    large = Universe(whole, whole, [], page_cap=client.limits.pages)  # made last: the cut one keeps its own
    assert small.follow_pages() == (2, "--max-images")
    assert large.follow_pages() == (4, "--max-pages")


def test_each_http_target_spends_its_own_budget(glance_server: RunningServer) -> None:
    done, fresh = glance(glance_server, spent(limits(budget="5"))), glance(glance_server, limits(budget="5"))
    with pytest.raises(BudgetExhausted, match="budget of 5s was used up"):
        done.detail_v1_1()
    with pytest.raises(BudgetExhausted):
        done.head_v1_raw("any")
    assert fresh.detail_v1_1().status == 200
    assert fresh.head_v1_raw(fresh.detail_v1_1().json()["images"][0]["id"]).status == 200


def test_each_cri_target_keeps_its_own_listing_cap_json_cap_and_budget(cri_server: RunningCriServer) -> None:
    log = ExchangeLog(Censor())
    listed = len(cri_catalogue())
    assert listed > 2
    with CriTarget(cri_server.url, "v1", limits=limits(max_listed="2", max_json_values="10"), log=log) as capped, \
            CriTarget(cri_server.url, "v1", limits=limits(), log=log) as whole, \
            CriTarget(cri_server.url, "v1", limits=spent(limits(budget="5")), log=log) as done:
        for _ in range(2):
            few, every = capped.list_images(), whole.list_images()
            assert (len(few.response["images"]), few.left_out) == (2, listed - 2)  # type: ignore[index]
            assert (len(every.response["images"]), every.left_out) == (listed, 0)  # type: ignore[index]
        text = json.dumps(list(range(20)))
        with pytest.raises(TooManyValues):
            few.loads(text)
        assert every.loads(text) == list(range(20))
        with pytest.raises(BudgetExhausted):
            done.list_images()
        assert whole.image_status("absent").code == "OK"


def test_counting_json_values_takes_linear_time() -> None:
    # an unterminated string of escaped quotes and commas: a pattern that searched for each string's end from every
    # quote would take half a minute here
    body = b'["' + b'\\",' * 20_000
    started = time.monotonic()
    assert count_json_values(body, 10) == 2
    assert time.monotonic() - started < 2.0
    # strings still hide their brackets and commas, escaped quotes included
    text = json.dumps(["a,b", {"k": "x\\\"[{,"}, [1, 2]]).encode()
    assert count_json_values(text, 1) == 7  # [, {, [ and three commas, and one

"""The generated catalogue of `python -m conformance.reference --images N`: deterministic, complete, and it passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reference.__main__ import parse_args
from conformance.reference.glance import images as catalogue
from conformance.reference.http_server import start_http_server
from selftests.conftest import run_suite

SMALL = len(catalogue.IMAGES) + 13  # the whole fixed catalogue, then copies of part of it


def test_generated_catalogue_is_deterministic() -> None:
    assert catalogue.generated(SMALL) == catalogue.generated(SMALL)
    assert catalogue.generated(SMALL)[: len(catalogue.IMAGES)] == catalogue.IMAGES


def test_generated_catalogue_has_distinct_ids_and_every_kind_of_image() -> None:
    images = catalogue.generated(3 * len(catalogue.IMAGES))
    assert len({image.id for image in images}) == len(images)
    for field in ("status", "visibility", "disk_format", "container_format", "owner", "deleted", "protected"):
        assert {getattr(i, field) for i in images} == {getattr(i, field) for i in catalogue.IMAGES}, field
    properties = {key for image in catalogue.IMAGES for key in image.properties}
    assert {key for image in images for key in image.properties} == properties


def test_images_option_is_parsed_and_bounded() -> None:
    assert parse_args(["--http-port", "0", "--images", "30"]).images == 30
    assert parse_args(["--http-port", "0"]).images is None  # the fixed catalogue by default
    with pytest.raises(SystemExit):
        parse_args(["--http-port", "0", "--images", "0"])


def test_suite_passes_on_a_small_generated_catalogue(tmp_path: Path) -> None:
    server = start_http_server(images=catalogue.generated(SMALL), token="generated-catalogue-token")
    try:  # with the token it requires, so that the 401 requirements are judged too
        run = run_suite(tmp_path / "reports", "--target", server.url, "--token=generated-catalogue-token")
    finally:
        server.stop()
    assert run.results["verdict"] == "pass", run.stdout[-3000:]
    assert run.results["target"]["endpoints"]["glance"]["sample"]["read"] == len(
        catalogue.listed_by_default(catalogue.generated(SMALL)))

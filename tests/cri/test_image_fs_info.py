"""rpc ImageFsInfo(ImageFsInfoRequest) returns (ImageFsInfoResponse) — upstream api.proto.

The schema is judged in every run (the call only reads); the usage growing after a pull needs --allow-writes.
"""

from __future__ import annotations

import time

import pytest

from conformance import catalog, schemas
from conformance.checks import Problems, fail, judged
from conformance.cri import lifecycle_images as images
from conformance.cri.lifecycle_fixtures import Lifecycle
from conformance.targets.cri import CriTarget
from conformance.targets.cri_lifecycle import image_fs_info, used_bytes

GROWTH_WAIT = 30.0  # seconds: runtimes sample usage periodically (containerd about every 10 s)
POLL = 0.5


@pytest.mark.requirement("CRI-IMAGEFSINFO-SCHEMA")
def test_response_validates_against_profile_schema(cri: CriTarget, cri_profile: catalog.Profile) -> None:
    schema_name = cri_profile.schemas["cri.ImageFsInfo"]
    result = image_fs_info(cri)
    if result.code != "OK" or result.response is None:
        fail("ImageFsInfo must answer OK", f"{result.code}: {result.details}", "OK with the image filesystems",
             result.exchange)
    problems = Problems(f"The ImageFsInfo response must validate against {schema_name}")
    problems.judged("ImageFsInfo answers")
    for line in schemas.error_lines(schema_name, result.response):
        problems.add(line, result.exchange)
    problems.check()


@pytest.mark.requirement("CRI-IMAGEFSINFO-GROWS")
def test_usage_grows_after_a_pull(cri_lifecycle: Lifecycle) -> None:
    image = images.FS_USAGE[cri_lifecycle.cri.version]
    reference = cri_lifecycle.tagged(image)
    before_result = image_fs_info(cri_lifecycle.cri)
    before = used_bytes(before_result)
    if before is None:
        pytest.skip(f"not judged: ImageFsInfo answered {before_result.code} (CRI-IMAGEFSINFO-SCHEMA judges that)")
    pulled = cri_lifecycle.pull(image, reference)
    if pulled.code != "OK":
        pytest.skip(f"not judged: pulling {reference} answered {pulled.code} (see the PullImage requirements)")
    until = time.monotonic() + min(GROWTH_WAIT, max(0.0, cri_lifecycle.cri.limits.left()))
    after_result = image_fs_info(cri_lifecycle.cri)
    while (used_bytes(after_result) or 0) <= before and time.monotonic() < until:
        time.sleep(POLL)
        after_result = image_fs_info(cri_lifecycle.cri)
    cri_lifecycle.remove(reference)
    after = used_bytes(after_result)
    if after is None or after <= before:
        fail(f"used_bytes must grow after pulling {reference} (a {image.padding}-byte layer)",
             f"{before} before the pull, {after} up to {GROWTH_WAIT:g}s after it", "more than before",
             after_result.exchange)
    judged("pulls")

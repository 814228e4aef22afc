"""pytest side of write mode (--allow-writes): fixture images created before the tests, removed after them."""

from __future__ import annotations

import atexit
import contextlib
import signal
import threading
import warnings
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest

from conformance.glance.members import Membership, share_with_other_project
from conformance.glance.write_mode import ImageWriter, WriteModeFailed, WrittenSet, fixtures_for, new_run_id
from conformance.glance.written import written_set
from conformance.run.state import RunState, state_of
from conformance.targets.errors import TargetError
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpTarget

__all__ = ["other_project", "shared_with_other_project", "written_images"]

DISK_FORMAT_DEFAULT = "GLANCE-V2-SHOW-DISK-FORMAT-DEFAULT"
NO_OTHER_PROJECT = ("no second project's token configured (--other-token): the run shares no image with another "
                    "project to judge its member statuses")


class WriteModeWarning(UserWarning):
    """Write mode could not do all of its housekeeping (a sweep failed, or images were left behind)."""


CLEANUP = pytest.StashKey["_Cleanup"]()  # the session's cleanup, whose writer later fixtures create through


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the run like Ctrl-C, so pytest tears the fixtures down and the images get deleted."""
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


class _Cleanup:
    """Deletes the run's images once: from the fixture's finalizer, or at interpreter exit if that never ran."""

    def __init__(self, writer: ImageWriter, record: dict[str, Any]) -> None:
        self.writer = writer
        self.others: list[ImageWriter] = []  # the second project's writers (an image it made to learn its id)
        self.record = record
        self.done = False
        self.previous_sigterm: Any = None

    def install(self) -> None:
        """Register the exit hook and make SIGTERM interrupt the run like Ctrl-C."""
        atexit.register(self.run)
        if threading.current_thread() is threading.main_thread():
            self.previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)

    def run(self) -> None:
        """Delete whatever is left of the run's images; a second call does nothing."""
        if self.done:
            return
        # Not done until remove_all returns: if it is interrupted, the exit hook tries the rest again.
        left = self.writer.remove_all()
        for other in self.others:
            left += other.remove_all()
        self.done = True
        atexit.unregister(self.run)
        if self.previous_sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.previous_sigterm)
        self.record["left_behind"] = left
        self.record["exchanges"] = [exchange.to_dict() for writer in (self.writer, *self.others)
                                    for exchange in writer.evidence]
        if left:
            warnings.warn(WriteModeWarning(
                f"--allow-writes: {len(left)} fixture image(s) could not be deleted: {', '.join(left)}; "
                "the next --allow-writes run against this target deletes them"), stacklevel=1)


@pytest.fixture(scope="session", autouse=True)
def written_images(request: pytest.FixtureRequest) -> WrittenSet | None:
    """With --allow-writes: the fixture images this run created (the ground truth), deleted again at the end."""
    state = state_of(request.config)
    if not state.config.allow_writes:
        return None
    if "glance" not in state.config.families:
        return None  # a CRI target: conformance/cri/lifecycle_fixtures.py writes there
    http: HttpTarget = request.getfixturevalue("http_target")
    run_id = new_run_id()
    record: dict[str, Any] = {"run_id": run_id, "left_behind": []}
    state.targets.glance_record().write_mode = record
    writer = ImageWriter(http)
    cleanup = _Cleanup(writer, record)
    request.config.stash[CLEANUP] = cleanup
    cleanup.install()
    request.addfinalizer(cleanup.run)
    try:
        swept = writer.sweep(run_id)
    except TargetError as exc:
        swept = []
        warnings.warn(WriteModeWarning(f"--allow-writes: leftovers of earlier runs not swept: {exc}"), stacklevel=1)
    record["swept"] = swept
    try:
        # seed 001's default disk_format is judged where the profile certifies it (ims)
        unformatted = any(req.id == DISK_FORMAT_DEFAULT for req in state.requirements)
        fixtures = fixtures_for(request.getfixturevalue("http_profile").upstream_behaviour)
        written = writer.write_set(run_id, fixtures, unformatted=unformatted)
    except BaseException as exc:
        cleanup.run()
        if isinstance(exc, TargetError) and not isinstance(exc, WriteModeFailed):
            raise WriteModeFailed(f"--allow-writes: {exc}") from None
        raise
    written.swept = swept
    record.update(written.summary())
    record["exchanges"] = [exchange.to_dict() for exchange in writer.evidence]
    return written


@pytest.fixture(scope="session")
def other_project(request: pytest.FixtureRequest) -> GlanceClient:
    """The Glance operations as a second project sends them (--other-token): its token alone, no AK/SK signature."""
    state = state_of(request.config)
    assert state.config.other_token, "the catalogue lists the requirements that need --other-token as not judged " \
                                     "without it"
    return GlanceClient(_other_target(state, request.getfixturevalue("http_target")))


@pytest.fixture
def shared_with_other_project(request: pytest.FixtureRequest, written_images: WrittenSet | None
                              ) -> Iterator[Membership]:
    """With --allow-writes and --other-token: images of the run shared with the second project, each in the member
    status it gave them (members.py), deleted again after the test; skipped, naming the option, without either."""
    written = written_set(written_images)
    state = state_of(request.config)
    if not state.config.other_token:
        pytest.skip(NO_OTHER_PROJECT)
    cleanup = request.config.stash[CLEANUP]
    other_target = _other_target(state, request.getfixturevalue("http_target"))
    other_writer = ImageWriter(other_target)
    cleanup.others.append(other_writer)  # what it cannot delete now, the end of the run tries again
    membership = share_with_other_project(cleanup.writer, other_writer, GlanceClient(other_target), written.run_id)
    cleanup.record["shared_with_other_project"] = membership.summary()
    try:
        yield membership
    finally:
        for image in membership.created:
            # one not deleted now stays in the ledger: deleted at the end of the run, or reported left behind
            with contextlib.suppress(TargetError):
                cleanup.writer.delete(image.id, protected=False)


def _other_target(state: RunState, own: HttpTarget) -> HttpTarget:
    """The run's transport with the second project's token instead of the run's credentials."""
    return HttpTarget(own.base_url, limits=own.limits, log=own.log, token=state.config.other_token, verify=own.verify,
                      basic_auth=state.config.basic_auth)

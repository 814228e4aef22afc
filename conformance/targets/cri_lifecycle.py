"""The CRI image lifecycle calls (PullImage, RemoveImage, ImageFsInfo) through a CriTarget's bounded, recorded call."""

from __future__ import annotations

from conformance.targets.cri import CriResult, CriTarget


def pull_image(cri: CriTarget, reference: str, *, timeout: float | None = None,
               deadline_answers: bool = False) -> CriResult:
    """Call PullImage for `reference` (no auth, no sandbox config); a deadline passing is a result when asked."""
    request = cri.pb.PullImageRequest(image=cri.pb.ImageSpec(image=reference))
    return cri._call("PullImage", request, timeout=timeout, deadline_answers=deadline_answers)


def remove_image(cri: CriTarget, reference: str) -> CriResult:
    """Call RemoveImage for `reference`."""
    return cri._call("RemoveImage", cri.pb.RemoveImageRequest(image=cri.pb.ImageSpec(image=reference)))


def image_fs_info(cri: CriTarget) -> CriResult:
    """Call ImageFsInfo."""
    return cri._call("ImageFsInfo", cri.pb.ImageFsInfoRequest())


def used_bytes(result: CriResult) -> int | None:
    """The `used_bytes` of every image filesystem an ImageFsInfo answer holds, added up; None when not OK."""
    if result.message is None:
        return None
    return sum(usage.used_bytes.value for usage in result.message.image_filesystems)

"""Whose request it is: the run's project (the app's token) or a second project (its other token), and what a
second project may see.

The reference knows two projects only. The run's token acts for the project that owns what it creates and sees
every image, as the suite's discovery needs; the other token is another project's, which upstream Glance shows no
private image of someone else's (glance/db/sqlalchemy/api.py is_image_visible; the v2 and v1 APIs answer 404), and
a shared one only when it is a member of it (api-ref "Sharing").
"""

from __future__ import annotations

from werkzeug.wrappers import Request

from conformance.reference.glance import images as catalogue
from conformance.reference.glance import seed_faults as S
from conformance.reference.glance.images import Image
from conformance.reference.glance.state import AppState
from conformance.targets.auth import TOKEN_HEADER

OTHER_PROJECT = "5f3c9d1e0a7b4c2d8e6f1a3b5c7d9e0f"  # the second project, which owns none of the catalogue
RUN_PROJECT = catalogue.OWNER_A  # the project of the run's token: it owns the images it creates
VISIBLE_TO_ALL = ("public", "community")


def is_other_project(state: AppState, request: Request) -> bool:
    """Whether `request` carries the second project's token."""
    return state.other_token is not None and request.headers.get(TOKEN_HEADER) == state.other_token


def caller(state: AppState, request: Request) -> str:
    """The project the request acts for: the second project with its token, else the run's."""
    return OTHER_PROJECT if is_other_project(state, request) else RUN_PROJECT


def hidden(state: AppState, request: Request, image: Image, operation: str) -> bool:
    """Whether `image` is not the caller's to see on `operation` ("v2" or "v1"): a second project asking for a
    private or shared image it does not own and is no member of (unless a fault shows it there)."""
    if not is_other_project(state, request) or image.visibility in VISIBLE_TO_ALL:
        return False
    if image.visibility == "shared" and OTHER_PROJECT in image.members:
        return False
    leaks = S.V2_SHOW_PRIVATE_TO_OTHER_PROJECT if operation == "v2" else S.V1_HEAD_PRIVATE_TO_OTHER_PROJECT
    return image.owner != OTHER_PROJECT and leaks not in state.faults


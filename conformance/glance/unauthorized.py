"""The 401 checks: the same request without the run's token, and with a token the target did not issue."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.checks import fail
from conformance.targets.auth import Auth
from conformance.targets.glance import GlanceClient
from conformance.targets.http import HttpResponse

WRONG_CREDENTIALS = (Auth.NONE, Auth.FORGED)
WRONG_CREDENTIAL_IDS = ("no-token", "forged-token")


def judge_401(glance: GlanceClient, auth: Auth, what: str, send: Callable[[GlanceClient], HttpResponse]) -> None:
    """Fail unless `send`, made with `auth` instead of the run's token, answers 401."""
    __tracebackhide__ = True
    if not glance.http.has_credentials:  # the catalogue lists such runs as not judged; this only guards direct calls
        pytest.skip("no credentials configured (--token)")
    response = send(glance.with_auth(auth))
    if response.status != 401:
        fail(f"{what} with {auth} must answer 401", str(response.status), "401 Unauthorized", response.exchange)

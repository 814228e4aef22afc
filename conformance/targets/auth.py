"""Credentials the documents use, turned into request headers."""

from __future__ import annotations


def token_headers(token: str | None) -> dict[str, str]:
    """Headers that authenticate with a Keystone/IAM token, if one is configured."""
    return {"X-Auth-Token": token} if token else {}

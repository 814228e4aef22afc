"""Credentials the documents use, turned into request headers; and the wrong ones the 401 checks send instead."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from conformance._compat import StrEnum

TOKEN_HEADER = "X-Auth-Token"
_GENERATED_LENGTH = 32  # hex digits of a token the suite makes up: the shape of a Keystone UUID token
# A forged token keeps each character's kind: hex digits stay hex (in their case), letters stay letters.
_KINDS = ("0123456789abcdef", "0123456789ABCDEF", string.ascii_lowercase, string.ascii_uppercase)


class Auth(StrEnum):
    """Which credentials one request carries; the transport alone turns this into headers."""

    RUN = "the run's token"
    NONE = "no X-Auth-Token"
    FORGED = "a token the target did not issue"


class RequestSigner(Protocol):
    """Credentials computed for each request (an AK/SK signature); the transport calls it as the last step."""

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        """The headers to send: `headers` with the credentials of this exact request added."""
        ...


class CredentialSource(Protocol):
    """Credentials that change during a run (a Keystone token that expires); the transport asks for each request."""

    def headers(self, method: str, url: str) -> dict[str, str]:
        """The credential headers of one request to `url`."""
        ...

    def token(self) -> str:
        """The token the headers carry now (what a forged token imitates)."""
        ...

    def renew(self) -> bool:
        """Drop cached credentials after the target refused them; whether a second attempt can differ."""
        ...


def token_headers(token: str | None) -> dict[str, str]:
    """Headers that authenticate with a Keystone/IAM token, if one is configured."""
    return {TOKEN_HEADER: token} if token else {}


def generated_token() -> str:
    """A fresh random token, for an embedded reference target that must check credentials."""
    return secrets.token_hex(_GENERATED_LENGTH // 2)


def forged_token(like: str | None) -> str:
    """A random token of the same shape as `like` (length and kind of each character), never equal to it."""
    if not like or not any(char in alphabet for char in like for alphabet in _KINDS):
        return generated_token()
    while True:
        forged = "".join(_same_kind(char) for char in like)
        if forged != like:
            return forged


def _same_kind(char: str) -> str:
    for alphabet in _KINDS:
        if char in alphabet:
            return secrets.choice(alphabet)
    return char  # separators such as -, _, = and . keep their place


def split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """`url` without `user:password@`, and (user, password) percent-decoded when the URL carried them."""
    split = urlsplit(url)
    if "@" not in split.netloc:
        return url, None
    userinfo, _, host = split.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(split._replace(netloc=host)), (unquote(user), unquote(password))

"""AK/SK request signing (SDK-HMAC-SHA256 with X-Sdk-Date), done by the vendor's own SDK signer.

The signer comes from the optional extra `image-api-conformance[huaweicloud]` (huaweicloudsdkcore); the suite
never computes the signature itself, so what it sends is what the vendor's SDK sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance.short_repr import ShortRepr

# The environment variables huaweicloudsdkcore's EnvCredentialProvider reads.
AK_ENV = "HUAWEICLOUD_SDK_AK"
SK_ENV = "HUAWEICLOUD_SDK_SK"
SECURITY_TOKEN_ENV = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
EXTRA = "image-api-conformance[huaweicloud]"
SIGNED_MARK = "SDK-HMAC-SHA256"  # the scheme the Authorization header of a signed request starts with
DATE_HEADER = "X-Sdk-Date"


class SigningUnavailable(Exception):
    """AK/SK were given but the vendor's SDK signer is not installed; the message is one line."""


class AkSkSigner(ShortRepr):
    """Signs each request with AK/SK through huaweicloudsdkcore's BasicCredentials and Signer."""

    def __init__(self, ak: str, sk: str, security_token: str | None = None) -> None:
        try:
            from huaweicloudsdkcore.auth.credentials import BasicCredentials
            from huaweicloudsdkcore.sdk_request import SdkRequest
        except ImportError:
            raise SigningUnavailable(
                f"--ak/--sk sign requests with the vendor SDK's signer: pip install '{EXTRA}'"
            ) from None
        credentials = BasicCredentials(ak, sk)
        if security_token:
            credentials = credentials.with_security_token(security_token)
        self._credentials = credentials
        self._request_class = SdkRequest

    def __repr__(self) -> str:
        return "AkSkSigner(SDK-HMAC-SHA256)"  # never the AK, SK or security token

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        """The headers to send for (method, url, headers, body): `headers` with the SDK's signature headers added."""
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        query: list[tuple[str, Any]] = parse_qsl(parts.query, keep_blank_values=True)
        request = self._request_class(
            method=method.upper(), schema=parts.scheme, host=host, resource_path=parts.path or "/",
            query_params=query, header_params={"Host": host, **headers}, body=body or "",
        )
        signed = self._credentials.sign_request(request)
        return {str(name): str(value) for name, value in signed.header_params.items()}


def signer_for(ak: str | None, sk: str | None, security_token: str | None = None) -> AkSkSigner | None:
    """The run's signer when AK and SK are configured, else None; SigningUnavailable without the extra."""
    if not (ak and sk):
        return None
    return AkSkSigner(ak, sk, security_token)


def is_signed(headers: Mapping[str, str]) -> bool:
    """Whether a request's headers are those of an AK/SK-signed request."""
    return any(name.lower() == DATE_HEADER.lower() for name in headers)

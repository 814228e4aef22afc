"""AK/SK request signing (SDK-HMAC-SHA256 with X-Sdk-Date), done by the vendor's own SDK signer.

The signer comes from the optional extra `image-api-conformance[huaweicloud]` (huaweicloudsdkcore); the suite
never computes the signature itself, so what it sends is what the vendor's SDK sends.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance.short_repr import ShortRepr

# The environment variables huaweicloudsdkcore's EnvCredentialProvider reads.
AK_ENV = "HUAWEICLOUD_SDK_AK"
SK_ENV = "HUAWEICLOUD_SDK_SK"
SECURITY_TOKEN_ENV = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
EXTRA = "image-api-conformance[huaweicloud]"


class SigningUnavailable(Exception):
    """AK/SK were given but the vendor's SDK signer is not installed; the message is one line."""


class AkSkSigner(ShortRepr):
    """Signs each request with AK/SK through huaweicloudsdkcore's BasicCredentials and Signer."""

    def __init__(self, ak: str, sk: str, security_token: str | None = None) -> None:
        try:
            with _no_home():
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


@contextmanager
def _no_home() -> Iterator[None]:
    """The SDK, as it is imported, writes ~/.huaweicloud/application_id (an id for its User-Agent, which the suite
    never sends) unless it finds no home folder: a run writes nothing outside --report-dir."""
    saved = {name: os.environ.pop(name) for name in ("HOME", "USERPROFILE") if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def signer_for(ak: str | None, sk: str | None, security_token: str | None = None) -> AkSkSigner | None:
    """The run's signer when AK and SK are configured, else None; SigningUnavailable without the extra."""
    if not (ak and sk):
        return None
    return AkSkSigner(ak, sk, security_token)


def curl_config(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """A curl config (for `curl -K -`) that sends the request of curl-style `argv`, signed with the AK/SK in `env`."""
    parser = argparse.ArgumentParser(prog="python -m conformance.targets.signing",
                                     description="Sign a request with AK/SK; pipe the output to `curl -K -`.")
    parser.add_argument("-X", "--request", dest="method", default=None)
    parser.add_argument("-I", "--head", action="store_true")
    parser.add_argument("-H", "--header", dest="headers", action="append", default=[])
    parser.add_argument("--data-binary", dest="data", default=None)
    parser.add_argument("--data-raw", dest="raw", default=None)
    parser.add_argument("url")
    args = parser.parse_args(list(argv))
    if args.raw is not None:  # a body that starts with @, sent as it is
        args.data = args.raw
    if not (env.get(AK_ENV) and env.get(SK_ENV)):
        raise SigningUnavailable(f"set {AK_ENV} and {SK_ENV} (and {SECURITY_TOKEN_ENV} for temporary credentials)")
    method = "HEAD" if args.head else args.method or ("POST" if args.data is not None else "GET")
    headers = dict(_header(line) for line in args.headers)
    body = None
    if args.data is not None:
        from_file = args.raw is None and args.data.startswith("@")
        body = Path(args.data[1:]).read_bytes() if from_file else args.data.encode()
    signed = AkSkSigner(env[AK_ENV], env[SK_ENV], env.get(SECURITY_TOKEN_ENV)).sign(method, args.url, headers, body)
    lines = [f"url = {_quoted(args.url)}", "head" if method == "HEAD" else f"request = {_quoted(method)}"]
    lines += [f"header = {_quoted(f'{name}: {value}')}" for name, value in signed.items()]
    if args.data is not None:
        lines.append(f"{'data-binary' if args.raw is None else 'data-raw'} = {_quoted(args.data)}")
    return "\n".join(lines) + "\n"


def _header(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip(), value.strip()


def _quoted(value: str) -> str:
    """`value` as a double-quoted curl config string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def main(argv: Sequence[str] | None = None) -> int:
    """Print the signed curl config of a request given as curl arguments."""
    try:
        sys.stdout.write(curl_config(sys.argv[1:] if argv is None else argv, os.environ))
    except (SigningUnavailable, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

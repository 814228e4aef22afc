"""Credentials given as options: AK/SK signing and Keystone (--os-cloud or the OS_* variables), checked once."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from conformance.options._values import ConfigError
from conformance.targets.signing import AK_ENV, EXTRA, SECURITY_TOKEN_ENV, SK_ENV

if TYPE_CHECKING:
    from conformance.targets.keystone import KeystoneSettings


def check_signing(ak: str | None, sk: str | None, security_token: str | None) -> None:
    """ConfigError unless AK/SK are given both or neither, and the vendor SDK's signer is installed when given."""
    if bool(ak) != bool(sk):
        given, missing = ("--ak", f"--sk (or {SK_ENV})") if ak else ("--sk", f"--ak (or {AK_ENV})")
        raise ConfigError(f"{given} is given but {missing} is not: AK/SK signing needs both")
    if security_token and not ak:
        raise ConfigError(f"--security-token (or {SECURITY_TOKEN_ENV}) needs --ak and --sk")
    if ak and importlib.util.find_spec("huaweicloudsdkcore") is None:
        raise ConfigError(f"--ak/--sk sign requests with the vendor SDK's signer, which is not installed: "
                          f"pip install '{EXTRA}'")


def keystone_settings(values: Mapping[str, Any], env: Mapping[str, str]) -> KeystoneSettings | None:
    """The Keystone credentials of --os-cloud or the OS_* variables; keystoneauth1 is imported only for them."""
    if not values["os_cloud"] and not env.get("OS_AUTH_URL"):
        return None
    from conformance.targets import keystone

    try:
        found = keystone.settings(values["os_cloud"], values["os_interface"], values["os_region_name"], env)
    except keystone.KeystoneConfigError as exc:
        raise ConfigError(str(exc)) from None
    except ImportError:
        raise ConfigError("Keystone credentials need keystoneauth1: pip install keystoneauth1") from None
    if found and values["token"]:
        raise ConfigError("give either --token (OS_AUTH_TOKEN) or Keystone credentials (--os-cloud, OS_CLOUD, "
                          "OS_AUTH_URL...), not both")
    return found

"""OpenStack credentials: a clouds.yaml cloud or the OS_* variables, a Keystone token renewed before it expires,
and the image endpoint from the service catalogue.

keystoneauth1 is imported only when such credentials are configured: a run with --token or none never loads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.evidence import clip
from conformance.short_repr import ShortRepr, shown_address
from conformance.targets.auth import TOKEN_HEADER
from conformance.targets.errors import TargetError

SERVICE_TYPE = "image"
INTERFACES = ("public", "internal", "admin")
DEFAULT_INTERFACE = "public"
# The files openstacksdk and the openstack CLI read, in their order: the working folder, the user's, the site's.
CLOUDS_NAMES = ("clouds.yaml", "clouds.yml")
SECURE_NAMES = ("secure.yaml", "secure.yml")
# Keys of a cloud's `auth` whose values are secret whatever the plugin says (censoring errs on the safe side).
SECRET_WORDS = ("password", "secret", "token", "passcode", "key")


class KeystoneConfigError(Exception):
    """Keystone credentials that cannot be used; its message is the one line the user sees."""


@dataclass(frozen=True, kw_only=True)
class KeystoneSettings(ShortRepr):
    """Where the credentials come from and what they are; never shown with their secret values."""

    source: str  # "cloud 'NAME' in PATH" or "the OS_* environment variables"
    auth_type: str  # a keystoneauth1 plugin name: password, v3password, v3applicationcredential, token...
    auth: Mapping[str, str]  # the plugin's options (dest names), secrets included
    interface: str
    region_name: str | None
    verify: bool | str | None  # the cloud's TLS choice for Keystone; None: the run's --ca-bundle/--insecure
    secret_values: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:
        region = f", region {self.region_name}" if self.region_name else ""
        return f"KeystoneSettings({self.source}; {self.auth_type} at {self.auth_url_shown}; {self.interface}{region})"

    @property
    def auth_url_shown(self) -> str:
        """The Keystone URL without user info or query."""
        return shown_address(self.auth.get("auth_url", "?"))

    def secrets(self) -> tuple[str, ...]:
        """The secret values among the credentials (password, application credential secret, token)."""
        return self.secret_values


def clouds_files(env: Mapping[str, str], names: tuple[str, ...], override: str) -> list[Path]:
    """The candidate files, in openstacksdk's order: `override` variable, the working folder, user, site."""
    if env.get(override):
        return [Path(env[override]).expanduser()]
    home = Path(env.get("HOME") or Path.home())
    user = Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "openstack"
    return [folder / name for folder in (Path.cwd(), user, Path("/etc/openstack")) for name in names]


def settings(
    cloud: str | None, interface: str | None, region_name: str | None, env: Mapping[str, str]
) -> KeystoneSettings | None:
    """The Keystone credentials of a run (None when neither a cloud nor OS_AUTH_URL is given)."""
    if cloud:
        return _from_cloud(cloud, interface, region_name, env)
    if env.get("OS_AUTH_URL"):
        return _from_env(interface, region_name, env)
    return None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise KeystoneConfigError(f"{path}: cannot read it: {str(exc).splitlines()[0]}") from None
    return document if isinstance(document, dict) else {}


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return merged


def _from_cloud(name: str, interface: str | None, region_name: str | None, env: Mapping[str, str]) -> KeystoneSettings:
    files = clouds_files(env, CLOUDS_NAMES, "OS_CLIENT_CONFIG_FILE")
    found = next((path for path in files if path.is_file()), None)
    if found is None:
        raise KeystoneConfigError(f"--os-cloud {name!r}: no clouds.yaml found (looked at {', '.join(map(str, files))})")
    clouds = _read_yaml(found).get("clouds") or {}
    if name not in clouds or not isinstance(clouds[name], dict):
        known = ", ".join(sorted(map(str, clouds))) or "none"
        raise KeystoneConfigError(f"--os-cloud {name!r}: not in {found} (clouds there: {known})")
    cloud: dict[str, Any] = clouds[name]
    secure = next((p for p in clouds_files(env, SECURE_NAMES, "OS_CLIENT_SECURE_FILE") if p.is_file()), None)
    if secure is not None:
        cloud = _merge(cloud, (_read_yaml(secure).get("clouds") or {}).get(name) or {})
    auth = {str(k).replace("-", "_"): str(v) for k, v in (cloud.get("auth") or {}).items() if v is not None}
    auth_type = str(cloud.get("auth_type") or _default_auth_type(auth))
    verify: bool | str | None = None
    if cloud.get("cacert"):
        verify = str(Path(str(cloud["cacert"])).expanduser())
    if cloud.get("verify") is False or cloud.get("insecure") is True:
        verify = False
    return _settings(f"cloud {name!r} in {found}", auth_type, auth,
                     interface or cloud.get("interface") or cloud.get("endpoint_type"),
                     region_name or cloud.get("region_name"), verify)


def _from_env(interface: str | None, region_name: str | None, env: Mapping[str, str]) -> KeystoneSettings:
    from keystoneauth1 import loading

    hinted = {"application_credential_id": env.get("OS_APPLICATION_CREDENTIAL_ID", ""),
              "application_credential_name": env.get("OS_APPLICATION_CREDENTIAL_NAME", "")}
    auth_type = env.get("OS_AUTH_TYPE") or env.get("OS_AUTH_PLUGIN") or _default_auth_type(hinted)
    auth: dict[str, str] = {}
    for option in _plugin_options(auth_type, loading):
        value = next((env[name] for name in option.argparse_envvars if env.get(name)), None)
        if value is not None:
            auth[option.dest] = value
    verify: bool | str | None = env.get("OS_CACERT") or None
    if env.get("OS_INSECURE", "").lower() in ("1", "true", "yes"):
        verify = False
    return _settings("the OS_* environment variables", auth_type, auth, interface, region_name, verify)


def _default_auth_type(auth: Mapping[str, str]) -> str:
    app = auth.get("application_credential_id") or auth.get("application_credential_name")
    return "v3applicationcredential" if app else "password"


def _plugin_options(auth_type: str, loading: Any) -> list[Any]:
    try:
        return list(loading.get_plugin_loader(auth_type).get_options())
    except Exception as exc:  # keystoneauth1's NoMatchingPlugin and whatever a broken entry point raises
        raise KeystoneConfigError(f"unknown OpenStack auth type {auth_type!r}: {exc}") from None


def _settings(source: str, auth_type: str, auth: dict[str, str], interface: Any, region_name: Any,
              verify: bool | str | None) -> KeystoneSettings:
    from keystoneauth1 import loading

    options = _plugin_options(auth_type, loading)
    known = {option.dest for option in options}
    secret = {option.dest for option in options if option.secret}
    secret |= {key for key in auth if any(word in key for word in SECRET_WORDS)}
    missing = [option.dest for option in options if option.required and not auth.get(option.dest)]
    if missing:
        raise KeystoneConfigError(f"{source}: {auth_type} credentials need {', '.join(missing)}")
    chosen = str(interface or DEFAULT_INTERFACE).removesuffix("URL")  # publicURL, the old endpoint_type spelling
    if chosen not in INTERFACES:
        raise KeystoneConfigError(f"--os-interface {interface!r}: choose one of {', '.join(INTERFACES)}")
    return KeystoneSettings(
        source=source, auth_type=auth_type, auth={k: v for k, v in auth.items() if k in known}, interface=chosen,
        region_name=str(region_name) if region_name else None, verify=verify,
        secret_values=tuple(sorted({v for k, v in auth.items() if k in secret and v}, key=len, reverse=True)),
    )


class KeystoneAuth(ShortRepr):
    """Credentials the transport asks for on each request: a Keystone token, fetched again before it expires."""

    def __init__(self, settings: KeystoneSettings, *, verify: bool | str, timeout: float,
                 reveal: Callable[[str], None] = lambda token: None) -> None:
        from keystoneauth1 import loading, session

        self.settings = settings
        self._reveal = reveal  # told each new token, so that it is censored wherever it shows up
        self._lock = threading.Lock()
        self._tokens: set[str] = set()
        self._plugin: Any = loading.get_plugin_loader(settings.auth_type).load_from_options(**settings.auth)
        chosen = verify if settings.verify is None else settings.verify
        self._session = session.Session(auth=self._plugin, verify=chosen, timeout=timeout)
        self._session.session.trust_env = False  # as the transport: no proxy from the environment

    def __repr__(self) -> str:
        return f"KeystoneAuth({self.settings.source}, {self.settings.auth_url_shown})"

    def token(self) -> str:
        """The current token; keystoneauth1 fetches a new one when it expires within two minutes."""
        with self._lock:
            try:
                token = self._session.get_token()
            except Exception as exc:
                raise TargetError(self._failure("no token", exc)) from None
            if not token:
                raise TargetError(f"Keystone at {self.settings.auth_url_shown} issued no token")
            if token not in self._tokens:
                self._tokens.add(token)
                self._reveal(token)
            return token

    def headers(self, method: str = "", url: str = "") -> dict[str, str]:
        """The credential headers of one request."""
        return {TOKEN_HEADER: self.token()}

    def renew(self) -> bool:
        """Drop the current token so that the next request authenticates again; whether that can help."""
        with self._lock:
            return bool(self._plugin.invalidate())

    def endpoint(self) -> str:
        """The image endpoint of the service catalogue, for the configured interface and region."""
        from keystoneauth1.exceptions import EndpointNotFound

        self.token()
        with self._lock:
            try:
                url = self._session.get_endpoint(service_type=SERVICE_TYPE, interface=self.settings.interface,
                                                  region_name=self.settings.region_name)
            except EndpointNotFound:
                url = None
            except Exception as exc:
                raise TargetError(self._failure("no catalogue", exc)) from None
        if not url:
            region = f" in region {self.settings.region_name}" if self.settings.region_name else ""
            raise TargetError(f"the service catalogue of {self.settings.source} has no {self.settings.interface} "
                              f"endpoint of type {SERVICE_TYPE}{region}")
        return str(url).rstrip("/")

    def _failure(self, what: str, exc: Exception) -> str:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        for secret in self.settings.secrets():
            text = text.replace(secret, "***")
        return f"Keystone at {self.settings.auth_url_shown} ({self.settings.source}): {what}: {clip(text, 300)}"


"""The suite's options, declared once: command line, environment and ini fallbacks, help text and TargetConfig.

`OPTIONS` is the only place an option is declared. `register` turns it into `pytest_addoption` calls,
`build_config` resolves every option (command line, then environment, then ini, then default), validates it
with the option's own parser and composes the frozen `TargetConfig` the fixtures read.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import pytest

from conformance import catalog
from conformance.short_repr import ShortRepr, shown_address
from conformance.targets.auth import generated_token, split_userinfo
from conformance.targets.signing import AK_ENV, EXTRA, SECURITY_TOKEN_ENV, SK_ENV

if TYPE_CHECKING:
    from conformance.targets.keystone import KeystoneSettings

DEFAULT_PROFILES = {"http": "ims", "cri": "cri"}
CRI_VERSIONS = ("auto", "v1", "v1alpha2")
INI_PREFIX = "conformance_"


class ConfigError(Exception):
    """A bad option value; its message is the one line the user sees."""


# (flag, raw value as given, folder pytest was invoked from) -> the option's value; ConfigError when bad.
Parser = Callable[[str, str, Path], Any]
Action = Literal["store", "store_true", "append"]


@dataclass(frozen=True, kw_only=True)
class Option:
    """One option of the suite, in every place it can be given."""

    flag: str  # command line, e.g. "--report-dir"
    dest: str  # attribute name in pytest's options, key of `build_config`'s mappings
    help: str  # what it does; defaults and fallbacks are appended by `help_text`
    metavar: str | None = None  # None for flags that take no value
    action: Action = "store"
    env: tuple[str, ...] = ()  # environment variables consulted, in order, when the flag is not given
    ini: bool = False  # whether `conformance_<dest>` in the ini file is the last fallback
    default: str | None = None  # raw value when given nowhere (parsed like any other)
    choices: tuple[str, ...] = ()  # the only values accepted, when not empty
    parse: Parser | None = None  # turns the raw string into the option's value

    @property
    def ini_name(self) -> str:
        """The ini key of the option (meaningful when `ini` is true)."""
        return f"{INI_PREFIX}{self.dest}"

    def help_text(self, *, ini_key: bool = True) -> str:
        """The help line: what it does, then its default and where else it can be given."""
        notes = []
        if self.choices:
            notes.append(f"one of {', '.join(self.choices)}")
        if self.default is not None:
            notes.append(f"default {self.default}")
        if self.env:
            notes.append(f"environment {', '.join(self.env)}")
        if self.ini and ini_key:
            notes.append(f"ini {self.ini_name}")
        return f"{self.help} ({'; '.join(notes)})" if notes else self.help

    def raw(self, options: Mapping[str, Any], ini: Mapping[str, str], env: Mapping[str, str]) -> Any:
        """The value as given: command line, else environment, else ini, else the default; empty means not given."""
        from_env = (env.get(name) for name in self.env)
        candidates = (options.get(self.dest), *from_env, ini.get(self.dest) if self.ini else None)
        return next((value for value in candidates if value), self.default)

    def value(self, options: Mapping[str, Any], ini: Mapping[str, str], env: Mapping[str, str], rootdir: Path) -> Any:
        """The validated value of the option; ConfigError with one line when the value is bad."""
        raw = self.raw(options, ini, env)
        if self.action == "store_true":
            return bool(raw)
        if self.action == "append":  # repeated flags, or one environment or ini value listing them separated by spaces
            items = raw.split() if isinstance(raw, str) else raw or ()
            return tuple(self._parsed(item, rootdir) for item in items)
        return None if raw is None else self._parsed(raw, rootdir)

    def _parsed(self, raw: Any, rootdir: Path) -> Any:
        if self.choices and raw not in self.choices:
            raise ConfigError(f"{self.flag} {raw!r}: choose one of {', '.join(self.choices)}")
        return raw if self.parse is None else self.parse(self.flag, raw, rootdir)


def parse_target(target: str) -> tuple[str, str]:
    """(family, address) for a --target value; ConfigError when the scheme is not one we speak."""
    split = urlsplit(target)
    scheme = split.scheme.lower()
    target = split_userinfo(target)[0]  # messages never show a password the URL carries
    if scheme in ("http", "https"):
        if not split.hostname:
            raise ConfigError(f"--target {target!r}: an http(s) URL needs a host, e.g. http://127.0.0.1:9292")
        try:
            split.port  # noqa: B018 -- reading the port validates it
        except ValueError:
            raise ConfigError(f"--target {target!r}: the port is not a number from 0 to 65535") from None
        return "http", target.rstrip("/")
    if scheme == "unix":
        path = split.path if split.netloc == "" else None
        if not path or not path.startswith("/"):
            raise ConfigError(
                f"--target {target!r}: a unix socket needs an absolute path, e.g. unix:///run/containerd/containerd.sock"
            )
        return "cri", f"unix://{path}"
    if scheme == "grpc":
        if not split.hostname or split.port is None:
            raise ConfigError(f"--target {target!r}: a gRPC target needs host and port, e.g. grpc://127.0.0.1:10010")
        return "cri", f"{split.hostname}:{split.port}"
    raise ConfigError(
        f"--target {target!r}: unknown scheme; use http(s)://HOST:PORT for Glance-style APIs, "
        "unix:///PATH or grpc://HOST:PORT for CRI"
    )


def _target(flag: str, raw: str, rootdir: Path) -> str:
    parse_target(raw)
    return raw


def _known_profile(flag: str, raw: str, rootdir: Path) -> str:
    known = catalog.profiles()
    if raw not in known:
        raise ConfigError(f"{flag} {raw!r}: unknown profile; choose one of {', '.join(sorted(known))}")
    return raw


def _positive_number(flag: str, raw: str, rootdir: Path) -> float:
    try:
        value = float(str(raw))
    except ValueError:
        raise ConfigError(f"{flag} {raw!r}: not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{flag} {raw!r}: must be a positive number of seconds")
    return value


def _positive_count(flag: str, raw: str, rootdir: Path) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        raise ConfigError(f"{flag} {raw!r}: not a whole number") from None
    if value <= 0:
        raise ConfigError(f"{flag} {raw!r}: must be at least 1")
    return value


def _folder(flag: str, raw: str, rootdir: Path) -> Path:
    path = Path(raw)
    path = path if path.is_absolute() else rootdir / path
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {raw!r}: exists and is not a folder")
    return path


def _existing_file(flag: str, raw: str, rootdir: Path) -> Path:
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"{flag} {raw!r}: no such file")
    return path


def _ca_bundle(flag: str, raw: str, rootdir: Path) -> str:
    return str(_existing_file(flag, raw, rootdir).resolve())


def _reference_fault(flag: str, raw: str, rootdir: Path) -> str:
    from conformance.reference.faults import ALL_FAULTS

    if raw not in ALL_FAULTS:
        raise ConfigError(f"{flag} {raw!r}: unknown fault; `python -m conformance.reference --list-faults` lists them")
    return raw


OPTIONS: tuple[Option, ...] = (
    Option(
        flag="--target", dest="target", metavar="TARGET", env=("CONFORMANCE_TARGET", "CONTAINER_RUNTIME_ENDPOINT"),
        ini=True, action="append", parse=_target,
        help="endpoint under test: http(s)://HOST:PORT (Glance-style), unix:///PATH or grpc://HOST:PORT (CRI); "
        "once per family, both certified in one verdict; default: the embedded reference targets",
    ),
    Option(
        flag="--profile", dest="profile", metavar="PROFILE", env=("CONFORMANCE_PROFILE",), ini=True,
        action="append", parse=_known_profile,
        help="profile to certify against (ims, glance, cri, isulad), once per family; "
        "default ims for HTTP, cri for CRI",
    ),
    Option(
        flag="--report-dir", dest="report_dir", metavar="DIR", ini=True, default="reports", parse=_folder,
        help="folder for report.html, junit.xml and results.json",
    ),
    Option(
        flag="--timeout", dest="timeout", metavar="TIMEOUT", ini=True, default="10", parse=_positive_number,
        help="seconds to wait for any one answer",
    ),
    Option(
        flag="--budget", dest="budget", metavar="BUDGET", ini=True, default="900", parse=_positive_number,
        help="seconds the whole run may take: a call to the target still running when it is used up is cut, "
        "and what was not judged is error",
    ),
    Option(
        flag="--token", dest="token", metavar="TOKEN", env=("OS_AUTH_TOKEN",),
        help="send X-Auth-Token; never shown in any report; the embedded reference then requires it "
        "(without --target and --token, the run makes up a token of its own)",
    ),
    Option(
        flag="--ak", dest="ak", metavar="AK", env=(AK_ENV,),
        help=f"access key: sign every request with AK/SK (SDK-HMAC-SHA256) through the vendor SDK ({EXTRA}); "
        "never shown in any report",
    ),
    Option(flag="--sk", dest="sk", metavar="SK", env=(SK_ENV,), help="secret key of --ak; never shown in any report"),
    Option(
        flag="--security-token", dest="security_token", metavar="TOKEN", env=(SECURITY_TOKEN_ENV,),
        help="X-Security-Token of temporary AK/SK credentials; never shown in any report",
    ),
    Option(
        flag="--os-cloud", dest="os_cloud", metavar="NAME", env=("OS_CLOUD",),
        help="authenticate through Keystone with this cloud of clouds.yaml (the OS_AUTH_URL, OS_USERNAME, "
        "OS_PASSWORD... variables do the same without one); without --target, the image endpoint of its catalogue "
        "is certified",
    ),
    Option(
        flag="--os-interface", dest="os_interface", metavar="INTERFACE", env=("OS_INTERFACE", "OS_ENDPOINT_TYPE"),
        help="catalogue interface of the image endpoint: public, internal or admin (default: the cloud's, else public)",
    ),
    Option(
        flag="--os-region-name", dest="os_region_name", metavar="REGION", env=("OS_REGION_NAME",),
        help="region of the image endpoint in the catalogue (default: the cloud's)",
    ),
    Option(
        flag="--ca-bundle", dest="ca_bundle", metavar="PATH", parse=_ca_bundle,
        help="CA bundle to verify the target's TLS certificate",
    ),
    Option(flag="--insecure", dest="insecure", action="store_true", help="do not verify the target's TLS certificate"),
    Option(
        flag="--image-id", dest="image_id", metavar="ID", action="append",
        help="test this image instead of discovering images (repeatable)",
    ),
    Option(
        flag="--max-images", dest="max_images", metavar="N", ini=True, default="100", parse=_positive_count,
        help="images judged per run (per CRI version); what the cap leaves out is listed as not judged",
    ),
    Option(
        flag="--max-pages", dest="max_pages", metavar="N", ini=True, default="10", parse=_positive_count,
        help="pages one v1.1 detail walk may follow; the completeness of a walk cut there is listed as not judged",
    ),
    Option(
        flag="--max-references", dest="max_references", metavar="N", ini=True, default="5", parse=_positive_count,
        help="repo tags, and repo digests, of one CRI image asked for by ImageStatus and used as ListImages filters; "
        "the rest are listed as not judged",
    ),
    Option(
        flag="--max-listed", dest="max_listed", metavar="N", ini=True, default="10000", parse=_positive_count,
        help="images of one ListImages answer read; the images past it are listed as not judged",
    ),
    Option(
        flag="--max-json-values", dest="max_json_values", metavar="N", ini=True, default="200000",
        parse=_positive_count,
        help="JSON values (objects, arrays and their items) one response body may hold; a body with more is not "
        "parsed and fails the requirement that reads it",
    ),
    Option(
        flag="--cri-version", dest="cri_version", metavar="VERSION", default="auto", choices=CRI_VERSIONS,
        help="CRI API to certify; auto certifies every one the runtime serves",
    ),
    Option(
        flag="--reference-fault", dest="reference_fault", metavar="NAME", action="append", parse=_reference_fault,
        help="start the embedded reference target with this fault (repeatable; for proving the suite's sensitivity)",
    ),
    Option(
        flag="--allow-writes", dest="allow_writes", action="store_true",
        help="Glance-style targets only: create (and always delete) the suite's own fixture images through the v2 API",
    ),
    Option(
        flag="--waivers", dest="waivers", metavar="FILE", parse=_existing_file,
        help="YAML file of waived requirements (requirement, reason, expires)",
    ),
    Option(
        flag="--baseline", dest="baseline", metavar="FILE", parse=_existing_file,
        help="an earlier results.json to compare this run with",
    ),
    Option(
        flag="--record", dest="record", action="store_true",
        help="write record.intoto.json beside the reports: an in-toto Statement of the three reports, the verdict "
        "and the run's configuration (`python -m conformance.record verify DIR` checks it)",
    ),
    Option(
        flag="--sign-key", dest="sign_key", metavar="PATH", parse=_existing_file,
        help="sign record.intoto.json offline with this SSH private key (through ssh-keygen) or Ed25519 key "
        "(PEM or 32 raw bytes); implies --record",
    ),
)


@dataclass(frozen=True, kw_only=True)
class TargetConfig(ShortRepr):
    """Everything a run needs to know about where it points and how it behaves."""

    targets: dict[str, str]  # family -> endpoint as given; empty means the embedded reference targets
    http_url: str | None  # Glance-style endpoint, when the http family is under test
    cri_address: str | None  # gRPC channel address, when the cri family is under test
    families: tuple[str, ...]  # "http" and/or "cri"
    profiles: dict[str, str]  # family -> profile name
    report_dir: Path
    timeout: float
    budget: float
    token: str | None
    verify: bool | str  # requests' `verify`: True, False or a CA bundle path
    image_ids: tuple[str, ...]
    cri_version: str
    reference_faults: tuple[str, ...]
    waivers: Path | None
    baseline: Path | None
    allow_writes: bool = False
    ak: str | None = None  # with `sk`: every request is signed (SDK-HMAC-SHA256)
    sk: str | None = None
    security_token: str | None = None  # of temporary AK/SK credentials
    max_images: int = 100  # images judged per run (per CRI version)
    max_pages: int = 10  # pages one v1.1 detail walk may follow
    keystone: KeystoneSettings | None = None  # OpenStack credentials; without --target, the catalogue names the target
    basic_auth: tuple[str, str] | None = None  # user and password the --target URL carried (not in `target`)
    max_references: int = 5  # repo tags, and repo digests, judged per CRI image
    max_listed: int = 10_000  # images of one ListImages answer read
    max_json_values: int = 200_000  # JSON values one response body may hold and be parsed
    record: bool = False  # write record.intoto.json after the three reports
    sign_key: Path | None = None  # sign the record with this key (implies `record`)

    def __repr__(self) -> str:
        # never the token, nor user info or a query in the target's address: a repr can end up in any output
        shown = " + ".join(shown_address(target) for target in self.targets.values())
        where = shown or ("keystone catalogue" if self.keystone else "embedded")
        profiles = ", ".join(f"{family}: {name}" for family, name in self.profiles.items())
        faults = f", faults {', '.join(self.reference_faults)}" if self.reference_faults else ""
        token = "set" if self.token else "keystone" if self.keystone else "none"
        return (f"TargetConfig({where}; {profiles}; token {token}"
                f"{', AK/SK-signed' if self.ak else ''}"
                f"{', writes allowed' if self.allow_writes else ''}{faults})")

    @property
    def target(self) -> str | None:
        """The endpoints under test as given, one per family joined by ' + '; None for the embedded reference."""
        return " + ".join(self.targets.values()) or None

    @property
    def embedded(self) -> bool:
        """Whether the run certifies the embedded reference targets."""
        return not self.targets and self.keystone is None

    @property
    def shown_target(self) -> str:
        """What the run certifies, in words for the reports."""
        if self.target:
            return self.target
        if self.keystone:
            return f"the image endpoint in the service catalogue ({self.keystone.source})"
        return "embedded reference targets"

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in any output."""
        keystone = self.keystone.secrets() if self.keystone else ()
        user, password = self.basic_auth or ("", "")
        basic = (password, f"{user}:{password}") if password else ()
        return tuple(s for s in (self.token, self.ak, self.sk, self.security_token, *keystone, *basic) if s)

    def cannot_judge(self, requirement: catalog.Requirement) -> str | None:
        """Why this run cannot judge `requirement` at all, or None when it can."""
        if catalog.Need.CREDENTIALS in requirement.requires and not (self.token or self.ak or self.keystone):
            return "no credentials configured (--token)"
        return None


def register(parser: pytest.Parser) -> None:
    """Declare every option to pytest: the command-line flag and, where it has one, the ini key."""
    group = parser.getgroup("conformance", "image-API conformance")
    for option in OPTIONS:
        extra = {"metavar": option.metavar} if option.metavar else {}
        group.addoption(option.flag, dest=option.dest, action=option.action, help=option.help_text(), **extra)
    for option in OPTIONS:
        if option.ini:
            parser.addini(option.ini_name, option.help_text(ini_key=False))


def from_pytest(config: pytest.Config) -> TargetConfig:
    """The TargetConfig of a pytest run: its options, the process environment and the ini file."""
    options = {option.dest: config.getoption(option.dest) for option in OPTIONS}
    ini = {option.dest: str(config.getini(option.ini_name)) for option in OPTIONS if option.ini}
    return build_config(options, ini, os.environ, Path(config.invocation_params.dir))


def build_config(
    options: Mapping[str, Any], ini: Mapping[str, str], env: Mapping[str, str], rootdir: Path
) -> TargetConfig:
    """Validate options > environment > ini into a TargetConfig, or raise ConfigError with one line."""
    values = {option.dest: option.value(options, ini, env, rootdir) for option in OPTIONS}
    # user:password@ in an http(s) URL: sent as basic auth to that origin only, never shown (`targets` drops it)
    targets, basic_auth = _by_family(values["target"])
    keystone = _keystone(values, env)
    addresses = {family: parse_target(target)[1] for family, target in targets.items()}
    families = tuple(family for family in DEFAULT_PROFILES if family in targets)
    if not families:  # with Keystone credentials the catalogue names the image endpoint; else the embedded ones
        families = ("http",) if keystone else tuple(DEFAULT_PROFILES)
    if values["reference_fault"] and (targets or keystone):
        raise ConfigError("--reference-fault only applies to the embedded reference target; drop --target")
    _check_signing(values["ak"], values["sk"], values["security_token"])
    verify: bool | str = values["ca_bundle"] or True
    if values["insecure"]:
        verify = False
    return TargetConfig(
        targets=targets,
        http_url=addresses.get("http"),
        cri_address=addresses.get("cri"),
        families=families,
        profiles=_profiles(values["profile"], families),
        report_dir=values["report_dir"],
        timeout=values["timeout"],
        budget=values["budget"],
        # The embedded reference checks credentials too, so that the 401 requirements are judged by default.
        token=values["token"] or (None if targets or keystone else generated_token()),
        verify=verify,
        image_ids=values["image_id"],
        cri_version=values["cri_version"],
        reference_faults=values["reference_fault"],
        waivers=values["waivers"],
        baseline=values["baseline"],
        allow_writes=values["allow_writes"],
        ak=values["ak"],
        sk=values["sk"],
        security_token=values["security_token"],
        max_images=values["max_images"],
        max_pages=values["max_pages"],
        keystone=keystone,
        basic_auth=basic_auth,
        max_references=values["max_references"],
        max_listed=values["max_listed"],
        max_json_values=values["max_json_values"],
        record=values["record"] or values["sign_key"] is not None,
        sign_key=values["sign_key"],
    )


def _check_signing(ak: str | None, sk: str | None, security_token: str | None) -> None:
    """ConfigError unless AK/SK are given both or neither, and the vendor SDK's signer is installed when given."""
    if bool(ak) != bool(sk):
        given, missing = ("--ak", f"--sk (or {SK_ENV})") if ak else ("--sk", f"--ak (or {AK_ENV})")
        raise ConfigError(f"{given} is given but {missing} is not: AK/SK signing needs both")
    if security_token and not ak:
        raise ConfigError(f"--security-token (or {SECURITY_TOKEN_ENV}) needs --ak and --sk")
    if ak and importlib.util.find_spec("huaweicloudsdkcore") is None:
        raise ConfigError(f"--ak/--sk sign requests with the vendor SDK's signer, which is not installed: "
                          f"pip install '{EXTRA}'")


def _keystone(values: Mapping[str, Any], env: Mapping[str, str]) -> KeystoneSettings | None:
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


def _by_family(given: tuple[str, ...]) -> tuple[dict[str, str], tuple[str, str] | None]:
    """family -> target as given without user info, in the order of DEFAULT_PROFILES, and the basic auth it carried.

    ConfigError when a family is given twice.
    """
    chosen: dict[str, str] = {}
    basic_auth = None
    for raw in given:
        target, userinfo = split_userinfo(raw)
        family, _ = parse_target(target)
        if family in chosen:
            raise ConfigError(
                f"--target {target!r}: a {family} target is already given ({chosen[family]!r}); give one per family"
            )
        chosen[family] = target
        basic_auth = basic_auth or userinfo
    return {family: chosen[family] for family in DEFAULT_PROFILES if family in chosen}, basic_auth


def _profiles(names: tuple[str, ...], families: tuple[str, ...]) -> dict[str, str]:
    """family -> profile: each of `names` (already known to exist) for its family, else the family's default."""
    given: dict[str, str] = {}
    for name in names:
        family = catalog.profiles()[name].family
        if family not in families:
            raise ConfigError(f"--profile {name!r} is for {family} targets, but the target is {families[0]}")
        if family in given:
            raise ConfigError(f"--profile {name!r}: a {family} profile is already given ({given[family]!r}); "
                              "give one per family")
        given[family] = name
    return {family: given.get(family, DEFAULT_PROFILES[family]) for family in families}

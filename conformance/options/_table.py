"""The option table: every option of the suite, declared once, with its flag, fallbacks, default and help.

`OPTIONS` is the only place an option or its default is written; `register` turns it into `pytest_addoption`
calls, and `conformance.options` resolves it into the frozen `TargetConfig`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from conformance.openstack import DEFAULT_INTERFACE, INTERFACES
from conformance.options import _values as values
from conformance.targets.signing import AK_ENV, EXTRA, SECURITY_TOKEN_ENV, SK_ENV

DEFAULT_PROFILES = {"glance": "ims", "cri": "cri"}  # the default --profile of each family, in the families' order
CRI_VERSIONS = ("auto", "v1", "v1alpha2")
INI_PREFIX = "conformance_"

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
    parse: values.Parser | None = None  # turns the raw string into the option's value

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
            raise values.ConfigError(f"{self.flag} {raw!r}: choose one of {', '.join(self.choices)}")
        return raw if self.parse is None else self.parse(self.flag, raw, rootdir)


OPTIONS: tuple[Option, ...] = (
    Option(
        flag="--target", dest="target", metavar="TARGET", env=("CONFORMANCE_TARGET", "CONTAINER_RUNTIME_ENDPOINT"),
        ini=True, action="append", parse=values.target,
        help="endpoint under test: http(s)://HOST:PORT (Glance-style), unix:///PATH or grpc://HOST:PORT (CRI); "
        "once per family, both certified in one verdict; default: the embedded reference targets",
    ),
    Option(
        flag="--profile", dest="profile", metavar="PROFILE", env=("CONFORMANCE_PROFILE",), ini=True,
        action="append", parse=values.known_profile,
        help="profile to certify against (ims, glance, cri, isulad), once per family; "
        f"default {DEFAULT_PROFILES['glance']} for HTTP, {DEFAULT_PROFILES['cri']} for CRI",
    ),
    Option(
        flag="--report-dir", dest="report_dir", metavar="DIR", ini=True, default="reports", parse=values.folder,
        help="folder for report.html, junit.xml and results.json",
    ),
    Option(
        flag="--timeout", dest="timeout", metavar="TIMEOUT", ini=True, default="10", parse=values.positive_number,
        help="seconds to wait for any one answer",
    ),
    Option(
        flag="--budget", dest="budget", metavar="BUDGET", ini=True, default="900", parse=values.positive_number,
        help="seconds the whole run may take: a call to the target still running when it is used up is cut, "
        "and what was not judged is error",
    ),
    Option(
        flag="--token", dest="token", metavar="TOKEN", env=("OS_AUTH_TOKEN",),
        help="send X-Auth-Token; never shown in any report; the embedded reference then requires it "
        "(without --target and --token, the run makes up a token of its own)",
    ),
    Option(
        flag="--other-token", dest="other_token", metavar="TOKEN", env=("CONFORMANCE_OTHER_TOKEN",),
        help="X-Auth-Token of a second project: with --allow-writes, it asks for a private image the run's own "
        "project created, which it must not see; never shown in any report (without --target, the run makes up one "
        "the embedded reference takes as another project's)",
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
        help=f"catalogue interface of the image endpoint: {', '.join(INTERFACES[:-1])} or {INTERFACES[-1]} "
        f"(default: the cloud's, else {DEFAULT_INTERFACE})",
    ),
    Option(
        flag="--os-region-name", dest="os_region_name", metavar="REGION", env=("OS_REGION_NAME",),
        help="region of the image endpoint in the catalogue (default: the cloud's)",
    ),
    Option(
        flag="--ca-bundle", dest="ca_bundle", metavar="PATH", parse=values.ca_bundle,
        help="CA bundle to verify the target's TLS certificate",
    ),
    Option(flag="--insecure", dest="insecure", action="store_true", help="do not verify the target's TLS certificate"),
    Option(
        flag="--image-id", dest="image_id", metavar="ID", action="append",
        help="test this image instead of discovering images (repeatable)",
    ),
    Option(
        flag="--max-images", dest="max_images", metavar="N", ini=True, default="100", parse=values.positive_count,
        help="images judged per run (per CRI version); what the cap leaves out is listed as not judged",
    ),
    Option(
        flag="--max-pages", dest="max_pages", metavar="N", ini=True, default="10", parse=values.positive_count,
        help="pages one v1.1 detail walk may follow; the completeness of a walk cut there is listed as not judged",
    ),
    Option(
        flag="--max-references", dest="max_references", metavar="N", ini=True, default="5", parse=values.positive_count,
        help="repo tags, and repo digests, of one CRI image asked for by ImageStatus and used as ListImages filters; "
        "the rest are listed as not judged",
    ),
    Option(
        flag="--max-listed", dest="max_listed", metavar="N", ini=True, default="5000", parse=values.positive_count,
        help="images of one listing answer read (a ListImages answer, a v1.1 detail page); the images past it are "
        "listed as not judged",
    ),
    Option(
        flag="--max-json-values", dest="max_json_values", metavar="N", ini=True, default="200000",
        parse=values.positive_count,
        help="JSON values (objects, arrays and their items) one response body may hold; a body with more is not "
        "parsed and fails the requirement that reads it",
    ),
    Option(
        flag="--retries", dest="retries", metavar="N", ini=True, default="3", parse=values.count,
        help="times a GET or HEAD answered 503 or 429 is sent again, after its Retry-After or a backoff; past them "
        "what asked is not judged (the target was unavailable); 0 never retries",
    ),
    Option(
        flag="--retry-wait", dest="retry_wait", metavar="SECONDS", ini=True, default="30", parse=values.positive_number,
        help="the longest wait before one retry; a Retry-After asking for more is not waited for (not judged)",
    ),
    Option(
        flag="--concurrency", dest="concurrency", metavar="N", ini=True, default="4", parse=values.positive_count,
        help="independent requests in flight at once per target (shows and HEADs of the sample, the ground-truth "
        "walks); 1 sends every request after the previous one",
    ),
    Option(
        flag="--rate", dest="rate", metavar="N", ini=True, default="0", parse=values.rate,
        help="requests per second at most per target; 0 sets no cap",
    ),
    Option(
        flag="--cri-version", dest="cri_version", metavar="VERSION", default="auto", choices=CRI_VERSIONS,
        help="CRI API to certify; auto certifies every one the runtime serves",
    ),
    Option(
        flag="--reference-fault", dest="reference_fault", metavar="NAME", action="append", parse=values.reference_fault,
        help="start the embedded reference target with this fault (repeatable; for proving the suite's sensitivity)",
    ),
    Option(
        flag="--reference-load", dest="reference_load", metavar="NAME", parse=values.reference_load,
        help="start the embedded reference target with this load behaviour (a busy but correct endpoint: 503 or 429 "
        "now and then, one path unavailable, a 500 once); not a fault, no requirement breaks",
    ),
    Option(
        flag="--allow-writes", dest="allow_writes", action="store_true",
        help="create (and always delete) the suite's own fixture images through the v2 API; on a CRI target, pull "
        "the suite's own images from a registry and remove them again (never an image that was there before)",
    ),
    Option(
        flag="--registry", dest="registry", metavar="HOST:PORT", parse=values.registry,
        help="with --allow-writes on a CRI target: the registry (plain HTTP, no auth) the suite pushes its images to "
        "and the runtime pulls them from; default: a docker-registry the suite starts on 127.0.0.1 for the run",
    ),
    Option(
        flag="--waivers", dest="waivers", metavar="FILE", parse=values.existing_file,
        help="YAML file of waived requirements (requirement, reason, expires)",
    ),
    Option(
        flag="--baseline", dest="baseline", metavar="FILE", parse=values.existing_file,
        help="an earlier results.json to compare this run with",
    ),
    Option(
        flag="--record", dest="record", action="store_true",
        help="write record.intoto.json beside the reports: an in-toto Statement of the three reports, the verdict "
        "and the run's configuration (`python -m conformance.record verify DIR` checks it)",
    ),
    Option(
        flag="--sign-key", dest="sign_key", metavar="PATH", parse=values.existing_file,
        help="sign record.intoto.json offline with this SSH private key (through ssh-keygen) or Ed25519 key "
        "(PEM or 32 raw bytes); implies --record",
    ),
)


def register(parser: pytest.Parser) -> None:
    """Declare every option to pytest: the command-line flag and, where it has one, the ini key."""
    group = parser.getgroup("conformance", "image-API conformance")
    for option in OPTIONS:
        extra = {"metavar": option.metavar} if option.metavar else {}
        group.addoption(option.flag, dest=option.dest, action=option.action, help=option.help_text(), **extra)
    for option in OPTIONS:
        if option.ini:
            parser.addini(option.ini_name, option.help_text(ini_key=False))

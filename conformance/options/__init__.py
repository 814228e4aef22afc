"""The suite's options, declared once: command line, environment and ini fallbacks, help text and TargetConfig.

The option table (`OPTIONS`) is the only place an option and its default are written. `register` turns it into
`pytest_addoption` calls; `build_config` resolves every option (command line, then environment, then ini, then
default), validates it with the option's own parser and composes the frozen `TargetConfig` the fixtures read.
"""

from conformance.options._config import TargetConfig
from conformance.options._resolve import build_config, from_pytest
from conformance.options._table import DEFAULT_PROFILES, OPTIONS, Option, register
from conformance.options._values import ConfigError, parse_target

__all__ = [
    "DEFAULT_PROFILES", "OPTIONS", "ConfigError", "Option", "TargetConfig", "build_config", "from_pytest",
    "parse_target", "register",
]

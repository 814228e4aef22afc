"""The deprecated Glance v1 tests use their own fixtures, brought in here."""

from conformance.v1_fixtures import *  # noqa: F401,F403

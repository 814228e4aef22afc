"""The suite is a pytest plugin (conformance.plugin, registered on install); nothing else lives here."""

"""Former home of the Glance-style reference app, kept so existing imports work; it lives in glance/app.py."""

from conformance.reference.glance.app import WSGIApp, make_app

__all__ = ["WSGIApp", "make_app"]

"""Fixtures of the CRI family (placeholder until the CRI tests land)."""

"""The CRI family: fixtures and strategies."""

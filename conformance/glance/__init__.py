"""The Glance-style family: fixtures, the v1.1 filter model, strategies and write mode."""

"""Clients that talk to a target and record every exchange as evidence."""

"""A signed, self-describing record of a run (record.intoto.json) and the command that verifies it."""

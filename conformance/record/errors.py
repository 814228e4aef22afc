"""The one error of the record's code: bad input said in one line."""


class RecordError(Exception):
    """A record, report, key or allowed-signers file that cannot be used; its message is the one line shown."""

"""The DSSE envelope record.intoto.json is: the Statement as its payload, and the signatures over it."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from conformance.record.errors import RecordError

PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_RECORD_BYTES = 16 * 1024 * 1024


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what a signature signs."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def envelope(payload: bytes, signatures: list[dict[str, str]]) -> dict[str, Any]:
    """The envelope of a serialized Statement and its signatures (none for an unsigned record)."""
    return {"payloadType": PAYLOAD_TYPE, "payload": base64.b64encode(payload).decode("ascii"),
            "signatures": signatures}


def read(path: Path) -> tuple[bytes, list[dict[str, str]]]:
    """(payload, signatures) of the envelope at `path`; RecordError with one line when it is not one."""
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise RecordError(f"{path}: larger than {MAX_RECORD_BYTES} bytes, not a record")
        document = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError):
        raise RecordError(f"{path}: not JSON") from None
    if not isinstance(document, dict) or document.get("payloadType") != PAYLOAD_TYPE:
        raise RecordError(f"{path}: not a DSSE envelope of an in-toto Statement (payloadType {PAYLOAD_TYPE})")
    signatures = document.get("signatures")
    if not isinstance(signatures, list) or not all(
        isinstance(s, dict) and isinstance(s.get("sig"), str) and isinstance(s.get("keyid", ""), str)
        for s in signatures
    ):
        raise RecordError(f"{path}: 'signatures' must be a list of {{keyid, sig}}")
    try:
        payload = base64.b64decode(str(document.get("payload")), validate=True)
    except (binascii.Error, ValueError):
        raise RecordError(f"{path}: the payload is not base64") from None
    return payload, signatures


def statement(payload: bytes) -> dict[str, Any]:
    """The Statement a payload holds; RecordError when it is not an in-toto Statement."""
    try:
        found = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RecordError("the record's payload is not JSON") from None
    if not isinstance(found, dict) or found.get("_type") != "https://in-toto.io/Statement/v1":
        raise RecordError("the record's payload is not an in-toto Statement v1")
    if not isinstance(found.get("subject"), list) or not isinstance(found.get("predicate"), dict):
        raise RecordError("the record's Statement lacks its subject list or predicate")
    return found

"""Signing offline and checking signatures: SSH keys through ssh-keygen, Ed25519 keys through `cryptography`.

Both kinds are named in an OpenSSH allowed-signers file (`PRINCIPAL ssh-ed25519 AAAA...`), and a signature's keyid
is the key's SSH fingerprint (`SHA256:...`). An SSH signature is the armored SSHSIG ssh-keygen writes (namespace
`image-api-conformance`); an Ed25519 one is the raw 64-byte signature of the DSSE pre-authentication encoding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.record.errors import RecordError

NAMESPACE = "image-api-conformance"
SSH_TIMEOUT = 60  # seconds for one ssh-keygen call; it never needs the network
SSHSIG = b"-----BEGIN SSH SIGNATURE-----"
EXTRA = "image-api-conformance[record]"
MAX_KEY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Signer:
    """A principal of an allowed-signers file and its public key line."""

    principals: str
    key_type: str
    key_blob: str  # base64, as the file holds it

    @property
    def fingerprint(self) -> str:
        """The key's SSH fingerprint, SHA256:..."""
        return fingerprint(base64.b64decode(self.key_blob))


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a public key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def check_key(path: Path) -> None:
    """RecordError with one line unless `path` is a private key the record can be signed with."""
    _kind(path)


def sign(message: bytes, key_path: Path) -> dict[str, str]:
    """A DSSE signature {keyid, sig} of `message` with the key at `key_path`."""
    if _kind(key_path) == "ssh":
        return _ssh_sign(message, key_path)
    key = _ed25519_private(key_path)
    blob = _ssh_blob(key.public_key())
    return {"keyid": fingerprint(blob), "sig": base64.b64encode(key.sign(message)).decode("ascii")}


def public_line(key_path: Path) -> str:
    """The `ssh-ed25519 AAAA...` public line of a private key, for an allowed-signers file."""
    if _kind(key_path) == "ssh":
        completed = _ssh_keygen("-y", "-f", str(key_path))
        return completed.stdout.decode("utf-8", "replace").strip()
    from cryptography.hazmat.primitives import serialization

    key = _ed25519_private(key_path).public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode("ascii")


def read_signers(path: Path) -> list[Signer]:
    """The signers an allowed-signers file names; RecordError when it cannot be read or names none."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"--allowed-signers {str(path)!r}: cannot read ({type(exc).__name__})") from None
    signers = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        at = next((i for i, word in enumerate(fields[1:], start=1) if word.startswith(("ssh-", "ecdsa-", "sk-"))),
                  None)
        if at is None or at + 1 >= len(fields):
            raise RecordError(f"--allowed-signers {str(path)!r}: line {number} names no public key")
        try:
            base64.b64decode(fields[at + 1], validate=True)
        except (binascii.Error, ValueError):
            raise RecordError(f"--allowed-signers {str(path)!r}: line {number}: the key is not base64") from None
        signers.append(Signer(fields[0], fields[at], fields[at + 1]))
    if not signers:
        raise RecordError(f"--allowed-signers {str(path)!r}: names no signer")
    return signers


def verify(message: bytes, signature: dict[str, str], allowed: Path) -> str | None:
    """The principal an allowed signer vouches as for `signature` over `message`, or None when none does."""
    try:
        sig = base64.b64decode(signature["sig"], validate=True)
    except (binascii.Error, ValueError, KeyError):
        return None
    if sig.startswith(SSHSIG):
        return _ssh_verify(message, sig, allowed)
    for signer in read_signers(allowed):
        ours = signer.key_type == "ssh-ed25519" and signer.fingerprint == signature.get("keyid")
        if ours and _ed25519_verifies(signer, sig, message):
            return signer.principals
    return None


def _kind(path: Path) -> str:
    """'ssh' for a key ssh-keygen signs with, 'ed25519' for a PEM or raw Ed25519 key."""
    try:
        head = path.read_bytes()[:MAX_KEY_BYTES]
    except OSError as exc:
        raise RecordError(f"--sign-key {str(path)!r}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
        return "ssh"
    if head.startswith(b"-----BEGIN PRIVATE KEY-----") or len(head) == 32:
        _ed25519_private(path)
        return "ed25519"
    raise RecordError(f"--sign-key {str(path)!r}: not an OpenSSH private key, an Ed25519 PEM key or 32 raw bytes")


def _cryptography() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise RecordError(f"Ed25519 keys need the cryptography package: pip install '{EXTRA}'") from None
    return ed25519


def _ed25519_private(path: Path) -> Any:
    ed25519 = _cryptography()
    from cryptography.hazmat.primitives import serialization

    data = path.read_bytes()
    try:
        key = (ed25519.Ed25519PrivateKey.from_private_bytes(data) if len(data) == 32
               else serialization.load_pem_private_key(data, password=None))
    except (ValueError, TypeError) as exc:
        raise RecordError(f"--sign-key {str(path)!r}: cannot load the key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise RecordError(f"--sign-key {str(path)!r}: a PEM key must be Ed25519 (SSH keys of any type are signed "
                          "with through ssh-keygen)")
    return key


def _ssh_blob(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    line = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return base64.b64decode(line.split()[1])


def _ed25519_verifies(signer: Signer, sig: bytes, message: bytes) -> bool:
    _cryptography()
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_ssh_public_key(f"{signer.key_type} {signer.key_blob}".encode("ascii"))
    try:
        key.verify(sig, message)  # type: ignore[union-attr,call-arg,arg-type]
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True


def _ssh_keygen(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["ssh-keygen", *args], input=data, capture_output=True, timeout=SSH_TIMEOUT,
                              check=False, stdin=None if data is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        raise RecordError("SSH keys are signed and checked with ssh-keygen, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise RecordError(f"ssh-keygen did not finish within {SSH_TIMEOUT}s (a key with a passphrase?)") from None


def _ssh_sign(message: bytes, key_path: Path) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="conformance-sign-") as folder:
        data = Path(folder) / "statement"
        data.write_bytes(message)
        completed = _ssh_keygen("-Y", "sign", "-q", "-f", str(key_path), "-n", NAMESPACE, str(data))
        signature = data.with_name("statement.sig")
        if completed.returncode != 0 or not signature.is_file():
            reason = completed.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no signature"]
            raise RecordError(f"--sign-key {str(key_path)!r}: ssh-keygen could not sign: {reason[0]}")
        sig = signature.read_bytes()
    public = public_line(key_path).split()
    return {"keyid": fingerprint(base64.b64decode(public[1])), "sig": base64.b64encode(sig).decode("ascii")}


def _ssh_verify(message: bytes, sig: bytes, allowed: Path) -> str | None:
    read_signers(allowed)  # a bad file is said as such, not as a bad signature
    with tempfile.TemporaryDirectory(prefix="conformance-verify-") as folder:
        signature = Path(folder) / "statement.sig"
        signature.write_bytes(sig)
        found = _ssh_keygen("-Y", "find-principals", "-s", str(signature), "-f", str(allowed))
        for principal in found.stdout.decode("utf-8", "replace").split():
            checked = _ssh_keygen("-Y", "verify", "-f", str(allowed), "-I", principal, "-n", NAMESPACE,
                                  "-s", str(signature), data=message)
            if checked.returncode == 0:
                return principal
    return None

"""The hub's secrets: one master secret, and the keys derived from it.

The session key, the hub's Ed25519 receipt key and the pseudonym secret all come
from `COCOA_HUB_SECRET_KEY` (or a file generated under HOME on first run) through
HKDF, so containers of one deployment sign with the same key without a shared disk.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.keys import DeviceKey

SECRET_FILE = "secret_key"


@dataclass(frozen=True)
class Keyring:
    """Keys of one hub, derived from its master secret."""

    session_key: bytes
    hub_key: DeviceKey
    pseudonym_secret: bytes
    device_secret: bytes

    @classmethod
    def from_secret(cls, secret: str) -> Keyring:
        master = secret.encode()
        return cls(
            session_key=_derive(master, b"cocoa-hub session"),
            hub_key=DeviceKey.from_seed(_derive(master, b"cocoa-hub receipt key")),
            pseudonym_secret=_derive(master, b"cocoa-hub pseudonyms"),
            device_secret=_derive(master, b"cocoa-hub org devices"),
        )

    def pseudonym(self, org: str, code: str) -> str:
        """Stable pseudonymous id of a farmer or plot code; all the ledger sees."""
        msg = f"{org}\x00{code}".encode()
        return hmac.new(self.pseudonym_secret, msg, hashlib.sha256).hexdigest()


def master_secret(configured: str | None, home: Path) -> str:
    """The configured secret, else the one stored under HOME, created on first run."""
    if configured:
        return configured

    path = home / SECRET_FILE
    if path.exists():
        return path.read_text().strip()

    home.mkdir(parents=True, exist_ok=True)
    # Write aside, then link into place: two workers starting at once end up with
    # the same secret, and nobody reads a half-written file.
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()

    return path.read_text().strip()


def _derive(master: bytes, label: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=label).derive(master)

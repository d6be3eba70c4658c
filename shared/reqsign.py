"""Request signatures of docs/sync-protocol.md: `Authorization: CocoaDevice ...`.

Devices sign each sync request; the hub and a gateway check it. No I/O here.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass

from shared.keys import DeviceKey, verify

SCHEME = "CocoaDevice"
# Tablet clocks drift for weeks offline; the records carry their own signatures.
MAX_SKEW_S = 24 * 3600


def signing_string(method: str, path: str, ts: int, body: bytes) -> bytes:
    """`METHOD\\npath?query\\nts\\nhex sha256 of body`, the bytes a device signs."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{ts}\n{digest}".encode()


def authorization(
    key: DeviceKey, method: str, path: str, body: bytes, ts: int | None = None
) -> str:
    """The Authorization header value for one request."""
    ts = int(time.time()) if ts is None else ts
    sig = key.sign(signing_string(method, path, ts, body))
    return (
        f"{SCHEME} device={key.device_id},ts={ts},sig={base64.b64encode(sig).decode()}"
    )


@dataclass(frozen=True)
class SignedRequest:
    """The parts of a parsed Authorization header."""

    device: str
    ts: int
    signature: bytes

    def verifies(self, public_raw: bytes, method: str, path: str, body: bytes) -> bool:
        data = signing_string(method, path, self.ts, body)
        return verify(public_raw, self.signature, data)

    def fresh(self, now: float | None = None, max_skew_s: int = MAX_SKEW_S) -> bool:
        now = time.time() if now is None else now
        return abs(now - self.ts) <= max_skew_s


def parse_authorization(header: str | None) -> SignedRequest | None:
    """Read a CocoaDevice header; None when it is absent or malformed."""
    if not header or not header.startswith(SCHEME + " "):
        return None

    fields = {}
    for part in header[len(SCHEME) + 1 :].split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value
    try:
        return SignedRequest(
            fields["device"],
            int(fields["ts"]),
            base64.b64decode(fields["sig"], validate=True),
        )
    except (KeyError, ValueError):
        return None

"""The `CocoaDevice` request signature of docs/sync-protocol.md."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import (
    DeviceRevoked,
    DeviceUnknown,
    RequestExpired,
    RequestSignatureInvalid,
)
from hub.models import Device
from shared.keys import verify

SCHEME = "CocoaDevice"
_PARAM = re.compile(r"\s*([a-z]+)=([^,]*)\s*(?:,|$)")


def signed_message(method: str, path: str, ts: int, body: bytes) -> bytes:
    """The bytes a device signs for one request."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{ts}\n{digest}".encode()


def authorization(
    key, method: str, path: str, body: bytes, ts: int | None = None
) -> str:
    """The Authorization header value for `key` (a shared.keys.DeviceKey)."""
    ts = int(time.time()) if ts is None else ts
    sig = key.sign(signed_message(method, path, ts, body))
    return (
        f"{SCHEME} device={key.device_id},ts={ts},sig={base64.b64encode(sig).decode()}"
    )


def parse_header(value: str | None) -> tuple[str, int, bytes]:
    if not value or not value.startswith(SCHEME + " "):
        raise RequestSignatureInvalid(f"send an Authorization: {SCHEME} header")

    params = dict(_PARAM.findall(value[len(SCHEME) + 1 :]))
    try:
        return (
            params["device"],
            int(params["ts"]),
            base64.b64decode(params["sig"], validate=True),
        )
    except (KeyError, ValueError, binascii.Error):
        raise RequestSignatureInvalid(
            f"{SCHEME} header needs device=<id>,ts=<unix seconds>,sig=<base64>"
        ) from None


def authenticate(
    session: Session,
    header: str | None,
    request_line: tuple[str, str],
    body: bytes,
    max_skew_s: int,
) -> Device:
    """The enrolled device that signed this request, or the reason it is refused."""
    device_id, ts, sig = parse_header(header)
    device = session.scalar(select(Device).where(Device.id == device_id))
    if device is None:
        raise DeviceUnknown(f"device {device_id} is not enrolled at this hub")
    if device.status == "revoked":
        raise DeviceRevoked(f"device {device_id} is revoked")
    if abs(time.time() - ts) > max_skew_s:
        raise RequestExpired(
            f"request time {ts} is more than {max_skew_s // 3600} h from the hub clock"
        )

    method, path = request_line
    if not verify(device.public_key, sig, signed_message(method, path, ts, body)):
        raise RequestSignatureInvalid(
            "request signature does not verify for this device"
        )
    return device

"""Authenticate a device's request by the `CocoaDevice` signature (shared.reqsign)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import (
    DeviceRevoked,
    DeviceUnknown,
    RequestExpired,
    RequestSignatureInvalid,
)
from hub.models import Device
from shared.reqsign import SCHEME, SignedRequest, authorization, parse_authorization

# `authorization` stays importable from here for the hub's tests and benchmarks.
__all__ = ["authenticate", "authorization", "parse_header"]


def parse_header(value: str | None) -> SignedRequest:
    """The parts of a CocoaDevice header, or the reason it cannot be read."""
    signed = parse_authorization(value)
    if signed is not None:
        return signed

    if not value or not value.startswith(SCHEME + " "):
        raise RequestSignatureInvalid(f"send an Authorization: {SCHEME} header")
    raise RequestSignatureInvalid(
        f"{SCHEME} header needs device=<id>,ts=<unix seconds>,sig=<base64>"
    )


def authenticate(
    session: Session,
    header: str | None,
    request_line: tuple[str, str],
    body: bytes,
    max_skew_s: int,
) -> Device:
    """The enrolled device that signed this request, or the reason it is refused."""
    signed = parse_header(header)
    device = session.scalar(select(Device).where(Device.id == signed.device))
    if device is None:
        raise DeviceUnknown(f"device {signed.device} is not enrolled at this hub")
    if device.status == "revoked":
        raise DeviceRevoked(f"device {signed.device} is revoked")
    if not signed.fresh(max_skew_s=max_skew_s):
        raise RequestExpired(
            f"request time {signed.ts} is more than {max_skew_s // 3600} h "
            "from the hub clock"
        )

    method, path = request_line
    if not signed.verifies(device.public_key, method, path, body):
        raise RequestSignatureInvalid(
            "request signature does not verify for this device"
        )
    return device

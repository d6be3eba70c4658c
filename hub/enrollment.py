"""One-time enrollment tokens and the devices they admit."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.errors import Conflict, EnrollmentTokenInvalid, InvalidInput, NotFound
from hub.models import (
    DEVICE_KINDS,
    ROLES,
    Device,
    EnrollmentToken,
    Organisation,
    utcnow,
)
from shared.keys import device_id_for

log = logging.getLogger("hub.enrollment")


# Long enough to set up a gateway in a remote cooperative, short enough to leak little.
MAX_TTL = timedelta(days=30)

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    org: Organisation,
    role: str,
    ttl: timedelta,
    by: str | None = None,
) -> str:
    """A new one-time token; only its hash is stored, the caller shows it once."""
    if role not in ROLES or role == "admin":
        raise InvalidInput(f"role must be one of {', '.join(ROLES[:-1])}", where="role")
    if not timedelta(0) < ttl <= MAX_TTL:
        raise InvalidInput(
            f"a token lives from a minute to {MAX_TTL.days} days; set it up on the day",
            where="ttl",
        )

    # A prefix keeps a token from starting with "-", which a shell command line
    # would take for an option, and makes a leaked token recognisable.
    token = "enr_" + secrets.token_urlsafe(24)
    session.add(
        EnrollmentToken(
            token_hash=token_hash(token),
            org_id=org.id,
            role=role,
            expires_at=utcnow() + ttl,
            created_by=by,
        )
    )
    log.info("enrollment.token_created", extra={"org": org.slug, "role": role})
    return token


def enroll(
    session: Session, token: str, public_key_b64: str, label: str, kind: str
) -> Device:
    """Admit the device holding `public_key_b64`, spending the token."""
    try:
        public_raw = base64.b64decode(public_key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("public_key must be base64", where="public_key") from None
    if len(public_raw) != 32:
        raise InvalidInput(
            "public_key must be 32 raw Ed25519 bytes", where="public_key"
        )
    if kind not in ("tablet", "gateway"):
        raise InvalidInput("kind must be tablet or gateway", where="kind")

    now = utcnow()
    # Spend the token in one guarded UPDATE so two devices cannot share it.
    spent = session.execute(
        update(EnrollmentToken)
        .where(
            EnrollmentToken.token_hash == token_hash(token),
            EnrollmentToken.used_at.is_(None),
            EnrollmentToken.expires_at > now,
        )
        .values(used_at=now, device_id=device_id_for(public_raw))
        .returning(EnrollmentToken.org_id, EnrollmentToken.role)
    ).first()
    if spent is None:
        raise EnrollmentTokenInvalid("the enrollment token is unknown, used or expired")

    device = register(session, public_raw, spent.org_id, spent.role, kind, label)
    log.info("device.enrolled", extra={"device_id": device.id, "kind": kind})
    return device


def register(
    session: Session,
    public_raw: bytes,
    org_id: int,
    role: str,
    kind: str,
    label: str | None,
) -> Device:
    """Add a device by its key; the id is derived from the key, never chosen."""
    if kind not in DEVICE_KINDS:
        raise InvalidInput(
            f"kind must be one of {', '.join(DEVICE_KINDS)}", where="kind"
        )

    device_id = device_id_for(public_raw)
    if session.get(Device, device_id) is not None:
        raise Conflict(f"device {device_id} is enrolled already", device_id=device_id)

    device = Device(
        id=device_id,
        public_key=public_raw,
        org_id=org_id,
        role=role,
        kind=kind,
        label=label,
        status="enrolled",
        high_seq=0,
    )
    session.add(device)
    session.flush()
    return device


def revoke(session: Session, device_id: str, reason: str) -> Device:
    device = session.scalar(select(Device).where(Device.id == device_id))
    if device is None:
        raise NotFound(f"no device {device_id}", where="device")

    device.status = "revoked"
    device.status_reason = reason
    log.warning("device.revoked", extra={"device_id": device_id})
    return device

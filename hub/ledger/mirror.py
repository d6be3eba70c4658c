"""Mirror the hub's organisations, salts and devices onto the embedded ledger.

The hub's enrollment and `cocoa-hub revoke-device` are the source of truth; the
ledger learns them lazily, just before the records that need them are committed.
A revocation is mirrored only once every record the device stored before it is
committed: the hub accepted those while the device was still trusted.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.ledger.embedded import DeviceGrant, EmbeddedLedger
from hub.ledger.rules import msp_id
from hub.ledger.state import KeyringSalts
from hub.models import Device, Organisation, Record

log = logging.getLogger("hub.ledger")

# Hub device roles as journey roles: the hub's "admin" is the journey's "operator".
ROLES = {"admin": "operator"}


def mirror_identities(
    session: Session, ledger: EmbeddedLedger, device_ids: Iterable[str]
) -> None:
    """Register every organisation, its salt, and the given devices, if missing."""
    state, salts = ledger.state, ledger.state.salts
    orgs = session.execute(select(Organisation.id, Organisation.slug)).all()
    state.prefetch(k for o in orgs for k in (f"org/{o.slug}", f"pvt/{o.slug}/salt"))
    for org in orgs:
        if state.get(f"org/{org.slug}") is None:
            ledger.register_org(org.slug, msp_id(org.slug))

        if state.get(f"pvt/{org.slug}/salt") is None and isinstance(
            salts, KeyringSalts
        ):
            ledger.set_pseudonym_salt(org.slug, salts.salt(org.slug))

    slugs = dict(orgs)
    devices = session.scalars(select(Device).where(Device.id.in_(set(device_ids))))
    devices = list(devices)
    state.prefetch(f"device/{d.id}" for d in devices)
    for device in devices:
        if state.get(f"device/{device.id}") is None:
            ledger.register_device(_grant(device, slugs[device.org_id]))


def mirror_revocations(session: Session, ledger: EmbeddedLedger) -> int:
    """Revoke on the ledger the devices revoked at the hub with nothing pending."""
    revoked = set(
        session.scalars(select(Device.id).where(Device.status == "revoked")).all()
    )
    waiting = session.scalars(
        select(Record.device_id)
        .where(Record.ledger_status == "pending", Record.device_id.in_(revoked))
        .distinct()
    )
    done = 0
    ready = sorted(revoked - set(waiting))
    ledger.state.prefetch(f"device/{d}" for d in ready)
    for device_id in ready:
        device = ledger.state.get(f"device/{device_id}")
        if device is not None and device["status"] == "active":
            ledger.revoke_device(device_id)
            log.warning("ledger.device_revoked", extra={"device_id": device_id})
            done += 1

    return done


def _grant(device: Device, org: str) -> DeviceGrant:
    public = base64.b64encode(device.public_key).decode()
    return DeviceGrant(device.id, public, org, ROLES.get(device.role, device.role))

"""Devices the hub holds for online stakeholders: one per organisation, kind `hub`.

Events posted to the REST API are signed with the organisation's hub device key
and go through the same ingest path and chain checks as a tablet's records.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import enrollment
from hub.ingest import Ingestor, Outcome
from hub.keyring import Keyring
from hub.models import Device, Organisation
from shared.keys import DeviceKey
from shared.record import GENESIS, device_time, sign_record
from shared.wire import Segment


def key_for(keyring: Keyring, org: Organisation) -> DeviceKey:
    """The org's hub-held key, derived so every hub process signs with the same one."""
    seed = hmac.new(keyring.device_secret, org.slug.encode(), hashlib.sha256)
    return DeviceKey.from_seed(seed.digest())


def submit(
    session: Session,
    ingestor: Ingestor,
    org: Organisation,
    event: tuple[str, dict],
    now: datetime | None = None,
) -> Outcome:
    """Sign one event as `org`'s hub device and ingest it, in one transaction."""
    rtype, body = event
    key = key_for(ingestor.keyring, org)
    with session.begin():
        device = _locked_device(session, key, org)
        rec = sign_record(
            key,
            rtype,
            device.high_seq + 1,
            device.high_id or GENESIS,
            body,
            device_time(now),
        )
        seg = Segment(device.id, rec.header().seq, [rec])
        checked = [ingestor.check_segment(seg, {device.id: ingestor.view(device)})]
        return ingestor.store(session, device.id, checked, rec.raw)


def _locked_device(session: Session, key: DeviceKey, org: Organisation) -> Device:
    # The row lock makes concurrent API calls of one org take turns at the chain.
    # OF names the devices row alone: Device.org is joined eagerly by an outer
    # join, and PostgreSQL refuses FOR UPDATE on the nullable side of one.
    query = select(Device).where(Device.id == key.device_id).with_for_update(of=Device)
    device = session.scalar(query)
    if device is None:
        enrollment.register(
            session, key.public_raw, org.id, _role(org), "hub", f"hub for {org.slug}"
        )
        device = session.scalar(query)
    return device


def _role(org: Organisation) -> str:
    return (
        org.kind
        if org.kind in ("cooperative", "manufacturer", "distributor", "retailer")
        else "admin"
    )

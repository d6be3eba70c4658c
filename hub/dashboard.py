"""What the dashboard shows: weekly volumes, device sync health, records to review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import scope
from hub.auth import Caller
from hub.charts import BarChart, weekly_kg
from hub.models import (
    CacaoBatch,
    Device,
    Product,
    Purchase,
    Record,
    Rejection,
    SyncBatch,
)

# A tablet that syncs at the weekly market is "stale" after a missed day past that,
# "silent" after two missed weeks: someone should ring the cooperative.
STALE_AFTER = timedelta(days=8)
SILENT_AFTER = timedelta(days=15)
HEALTH_TEXT = {
    "ok": "in sync",
    "stale": "stale",
    "silent": "silent",
    "never": "never synced",
    "revoked": "revoked",
    "flagged": "flagged",
    "hub": "held by the hub",
}


@dataclass(frozen=True)
class DeviceHealth:
    device: Device
    health: str  # a key of HEALTH_TEXT
    pending: int
    quarantined: int
    rejections: int

    @property
    def text(self) -> str:
        return HEALTH_TEXT[self.health]


@dataclass(frozen=True)
class ReviewCounts:
    quarantined: int
    refused: int
    rejections: int
    pending: int


def volumes(session: Session, caller: Caller) -> BarChart:
    """Kilograms purchased per week, over the purchases the caller may see."""
    # `purchased_at` is the purchase record's device time: when the beans were
    # bought, not when a sync finally brought the record to the hub.
    day = func.substr(Purchase.purchased_at, 1, 10)
    rows = session.execute(
        select(day, func.sum(Purchase.mass_g))
        .where(scope.purchases(caller))
        .group_by(day)
        .order_by(day)
    ).all()
    return weekly_kg([(d, int(g or 0)) for d, g in rows])


def device_health(
    session: Session, caller: Caller, now: datetime
) -> list[DeviceHealth]:
    """Each visible device with its last contact judged, records waiting and refused.

    The hub-held signer of an organisation's API events is listed too: it sends
    batches like any device, and the batch list names it.
    """
    pending = _per_device(session, Record.ledger_status == "pending")
    held = _per_device(session, Record.status == "quarantined")
    rejected = dict(
        session.execute(
            select(Rejection.device_id, func.count()).group_by(Rejection.device_id)
        ).all()
    )
    devices = session.scalars(
        select(Device).where(scope.devices(caller)).order_by(Device.last_seen_at)
    ).all()
    return [
        DeviceHealth(
            d,
            _health(d, now),
            pending.get(d.id, 0),
            held.get(d.id, 0),
            rejected.get(d.id, 0),
        )
        for d in devices
    ]


def review_counts(session: Session, caller: Caller) -> ReviewCounts:
    """Records needing attention, of the devices the caller may see."""

    def count(*where) -> int:
        query = select(func.count()).select_from(Record)
        return session.scalar(query.where(scope.records(caller), *where))

    rejections = select(func.count()).select_from(Rejection)
    if not caller.reads_all:
        # A rejection is counted for the sender: its claimed signer may be forged.
        rejections = rejections.where(
            Rejection.sender_device.in_(scope.device_ids(caller))
        )
    return ReviewCounts(
        quarantined=count(Record.status == "quarantined"),
        refused=count(Record.ledger_status == "refused"),
        rejections=session.scalar(rejections),
        pending=count(Record.ledger_status == "pending"),
    )


def stored_by_type(session: Session, caller: Caller) -> dict[str, int]:
    query = select(Record.type, func.count()).where(scope.records(caller))
    return dict(sorted(session.execute(query.group_by(Record.type)).all()))


def recent_batches(session: Session, caller: Caller) -> list[SyncBatch]:
    """The last sync batches sent by devices the caller may see."""
    query = select(SyncBatch).order_by(SyncBatch.received_at.desc()).limit(10)
    if not caller.reads_all:
        query = query.where(SyncBatch.sender_device.in_(scope.device_ids(caller)))
    return list(session.scalars(query))


def recent_products(session: Session, caller: Caller) -> list[Product]:
    query = select(Product).where(scope.products(caller))
    return list(session.scalars(query.order_by(Product.produced_at.desc()).limit(20)))


def recent_lots(session: Session, caller: Caller) -> list[CacaoBatch]:
    query = select(CacaoBatch).where(scope.lots(caller))
    return list(session.scalars(query.order_by(CacaoBatch.created_at.desc()).limit(20)))


def _per_device(session: Session, where) -> dict[str, int]:
    query = select(Record.device_id, func.count()).where(where)
    return dict(session.execute(query.group_by(Record.device_id)).all())


def _health(device: Device, now: datetime) -> str:
    if device.status != "enrolled":
        return device.status
    if device.kind == "hub":
        # It signs on the hub itself: there is no link whose silence means trouble.
        return "hub"
    if device.last_seen_at is None:
        return "never"
    quiet = now - device.last_seen_at
    if quiet > SILENT_AFTER:
        return "silent"
    return "stale" if quiet > STALE_AFTER else "ok"

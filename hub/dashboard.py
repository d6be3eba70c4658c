"""What the dashboard shows: weekly volumes, device sync health, records to review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.charts import BarChart, weekly_kg
from hub.models import Device, Purchase, Record, Rejection

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


def volumes(session: Session) -> BarChart:
    """Kilograms purchased per week, over every purchase the hub holds."""
    day = func.substr(Purchase.purchased_at, 1, 10)
    rows = session.execute(
        select(day, func.sum(Purchase.mass_g)).group_by(day).order_by(day)
    ).all()
    return weekly_kg([(d, int(g or 0)) for d, g in rows])


def device_health(session: Session, now: datetime) -> list[DeviceHealth]:
    """Each device with its last contact judged, records waiting and refused."""
    pending = _per_device(session, Record.ledger_status == "pending")
    held = _per_device(session, Record.status == "quarantined")
    rejected = dict(
        session.execute(
            select(Rejection.device_id, func.count()).group_by(Rejection.device_id)
        ).all()
    )
    devices = session.scalars(
        select(Device).where(Device.kind != "hub").order_by(Device.last_seen_at)
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


def review_counts(session: Session) -> ReviewCounts:
    def count(*where) -> int:
        return session.scalar(select(func.count()).select_from(Record).where(*where))

    return ReviewCounts(
        quarantined=count(Record.status == "quarantined"),
        refused=count(Record.ledger_status == "refused"),
        rejections=session.scalar(select(func.count()).select_from(Rejection)),
        pending=count(Record.ledger_status == "pending"),
    )


def stored_by_type(session: Session) -> dict[str, int]:
    query = select(Record.type, func.count()).group_by(Record.type)
    return dict(sorted(session.execute(query).all()))


def _per_device(session: Session, where) -> dict[str, int]:
    query = select(Record.device_id, func.count()).where(where)
    return dict(session.execute(query.group_by(Record.device_id)).all())


def _health(device: Device, now: datetime) -> str:
    if device.status != "enrolled":
        return device.status
    if device.last_seen_at is None:
        return "never"
    quiet = now - device.last_seen_at
    if quiet > SILENT_AFTER:
        return "silent"
    return "stale" if quiet > STALE_AFTER else "ok"

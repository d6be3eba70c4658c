"""Typed SQLAlchemy models of the edge's SQLite database."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A datetime stored naive in UTC and read back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}  # noqa: RUF012 - read by SQLAlchemy, never mutated


class RecordState(enum.StrEnum):
    """Where a record is on its way to the hub; a closed vocabulary."""

    PENDING = "pending"
    SENT = "sent"
    RELAYED = "relayed"  # in a gateway's custody; the hub has not answered yet
    ACKNOWLEDGED = "acknowledged"
    QUARANTINED = "quarantined"
    REJECTED = "rejected"


class SyncState(enum.StrEnum):
    """The outcome of the latest sync; a closed vocabulary."""

    IDLE = "idle"
    SYNCING = "syncing"
    SUCCEEDED = "succeeded"
    INTERRUPTED = "interrupted"  # no link or a deadline passed: retry later
    FAILED = "failed"  # the upstream answered with an error
    AUTH_NEEDED = "auth-needed"  # the upstream refuses this device: re-enroll


def _state_enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        values_callable=lambda e: [m.value for m in e],
        length=16,
    )


class JournalRecord(Base):
    """One record this device signed, bytes and signature verbatim."""

    __tablename__ = "journal"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[RecordState] = mapped_column(
        _state_enum(RecordState, "record_state"), default=RecordState.PENDING
    )
    state_code: Mapped[str | None] = mapped_column(String(40))
    state_detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_journal_state", "state"),)


class RelayRecord(Base):
    """A record a tablet handed to this gateway, kept verbatim until the hub has it."""

    __tablename__ = "relay"

    device: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[RecordState] = mapped_column(
        _state_enum(RecordState, "relay_state"), default=RecordState.PENDING
    )
    state_code: Mapped[str | None] = mapped_column(String(40))
    state_detail: Mapped[str | None] = mapped_column(String(500))
    # The hub batch whose signed receipt settled this record, shown to its tablet.
    upstream_batch: Mapped[str | None] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_relay_state", "state"),)


class Enrollment(Base):
    """This device's enrollment with its hub; at most one row."""

    __tablename__ = "enrollment"

    device_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(120))
    org: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(40))
    hub_url: Mapped[str] = mapped_column(String(500))
    hub_key: Mapped[bytes] = mapped_column(LargeBinary)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncStatus(Base):
    """The latest sync's state and progress, shown on the sync page; one row."""

    __tablename__ = "sync_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[SyncState] = mapped_column(
        _state_enum(SyncState, "sync_state"), default=SyncState.IDLE
    )
    phase: Mapped[str | None] = mapped_column(String(40))
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    attempt: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_retry_at: Mapped[datetime | None]
    reference_cursor: Mapped[str | None] = mapped_column(String(200))


class Receipt(Base):
    """A signed receipt from upstream, kept as proof of delivery."""

    __tablename__ = "receipt"

    batch: Mapped[str] = mapped_column(String(80), primary_key=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signer: Mapped[str] = mapped_column(String(40))
    frame_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class PeerDevice(Base):
    """A device of this organisation, learned from the hub's reference data."""

    __tablename__ = "peer_device"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    kind: Mapped[str] = mapped_column(String(16))
    revoked: Mapped[bool] = mapped_column(default=False)
    rev: Mapped[int] = mapped_column(default=0, index=True)


class Organisation(Base):
    """Reference data: an organisation lots can be dispatched or transferred to."""

    __tablename__ = "organisation"

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(40))
    rev: Mapped[int] = mapped_column(default=0, index=True)


class Attachment(Base):
    """A file named by a record's attachments, sent to the hub before the record."""

    __tablename__ = "attachment"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    uploaded_at: Mapped[datetime | None]


class Farmer(Base):
    """Projection: a farmer this device can offer in forms."""

    __tablename__ = "farmer"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    village: Mapped[str | None] = mapped_column(String(120))
    record_id: Mapped[str | None] = mapped_column(String(64))
    local: Mapped[bool] = mapped_column(default=True)
    fields: Mapped[dict] = mapped_column(default=dict)
    rev: Mapped[int] = mapped_column(default=0, index=True)


class Plot(Base):
    """Projection: a farmer's mapped plot."""

    __tablename__ = "plot"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    farmer: Mapped[str] = mapped_column(String(64), index=True)
    geometry: Mapped[dict]
    area_ha: Mapped[float | None]
    declared_area_ha: Mapped[float | None]
    record_id: Mapped[str | None] = mapped_column(String(64))
    local: Mapped[bool] = mapped_column(default=True)
    rev: Mapped[int] = mapped_column(default=0, index=True)


class Purchase(Base):
    """Projection: beans bought from a farmer, with the grams not yet bagged."""

    __tablename__ = "purchase"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    farmer: Mapped[str] = mapped_column(String(64))
    plot: Mapped[str] = mapped_column(String(64))
    mass_g: Mapped[int]
    remaining_g: Mapped[int]
    grade: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lot(Base):
    """Projection: a lot of bagged beans and the grams still held."""

    __tablename__ = "lot"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mass_g: Mapped[int]
    remaining_g: Mapped[int]
    dispatched_to: Mapped[str | None] = mapped_column(String(40))
    local: Mapped[bool] = mapped_column(default=True)
    rev: Mapped[int] = mapped_column(default=0, index=True)


class LotInput(Base):
    """Projection: grams of one purchase that went into a lot."""

    __tablename__ = "lot_input"

    lot: Mapped[str] = mapped_column(ForeignKey("lot.id"), primary_key=True)
    purchase: Mapped[str] = mapped_column(String(64), primary_key=True)
    mass_g: Mapped[int]


class ImportRow(Base):
    """One row of an import report: what happened to a line or feature, and why."""

    __tablename__ = "import_row"

    pk: Mapped[int] = mapped_column(primary_key=True)
    run: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[int]
    code: Mapped[str | None] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(1000))
    record_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Counter(Base):
    """Monotonic change counter behind the reference cursor a gateway serves."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)

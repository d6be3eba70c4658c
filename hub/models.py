"""Tables of the hub: identities, devices, stored records, the ledger, projections."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ORG_KINDS = (
    "cooperative",
    "manufacturer",
    "distributor",
    "retailer",
    "auditor",
    "operator",
)
ROLES = ("cooperative", "manufacturer", "distributor", "retailer", "auditor", "admin")
DEVICE_KINDS = ("tablet", "gateway", "hub")
DEVICE_STATUSES = ("enrolled", "revoked", "flagged")
RECORD_STATUSES = ("stored", "quarantined")
LEDGER_STATUSES = ("pending", "committed", "refused")
EVENTS = (
    "Harvested",
    "Purchased",
    "Dried",
    "Bagged",
    "Shipped",
    "Received",
    "Processed",
    "Transferred",
    "Sold",
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
hex64 = Annotated[str, mapped_column(String(64))]
code = Annotated[str, mapped_column(String(64))]
name = Annotated[str, mapped_column(String(200))]
created = Annotated[datetime, mapped_column(UtcDateTime, default=utcnow)]
grams = Annotated[int, mapped_column(BigInteger)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list: JSON}


# --- identities -------------------------------------------------------------


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[name]
    kind: Mapped[str] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(200))
    contact_person: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[created]


class User(Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created]

    org: Mapped[Organisation | None] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    token_hash: Mapped[hex64] = mapped_column(unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    label: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[created]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Base):
    """Recent failed console logins of one username from one client address."""

    __tablename__ = "login_failures"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    # 45 characters hold the longest textual IPv6 address.
    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[datetime] = mapped_column(index=True)


class EnrollmentToken(Base):
    __tablename__ = "enrollment_tokens"

    id: Mapped[intpk]
    token_hash: Mapped[hex64] = mapped_column(unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    device_id: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[created]

    org: Mapped[Organisation] = relationship(lazy="joined")


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="enrolled")
    status_reason: Mapped[str | None] = mapped_column(Text)
    high_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    high_id: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None]
    enrolled_at: Mapped[created]

    org: Mapped[Organisation] = relationship(lazy="joined")


# --- what devices sent --------------------------------------------------------


class SyncBatch(Base):
    __tablename__ = "sync_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sender_device: Mapped[str] = mapped_column(String(40), index=True)
    frame_sha256: Mapped[hex64]
    records: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    quarantined: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    receipt: Mapped[dict[str, Any] | None]
    received_at: Mapped[created]


class Record(Base):
    """A signed record exactly as its device produced it; never edited once stored."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("device_id", "seq", name="uq_records_device_seq"),
        Index("ix_records_ledger_status_pos", "ledger_status", "pos"),
    )

    # Arrival order across devices; the ledger and projections replay in this order.
    pos: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    id: Mapped[hex64] = mapped_column(unique=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(20))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    device_time: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime]
    batch_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    reason_detail: Mapped[str | None] = mapped_column(Text)
    ledger_status: Mapped[str] = mapped_column(String(20), default="pending")
    ledger_code: Mapped[str | None] = mapped_column(String(40))
    ledger_detail: Mapped[str | None] = mapped_column(Text)
    ledger_tx: Mapped[str | None] = mapped_column(String(64))
    ledger_block: Mapped[int | None] = mapped_column(BigInteger)
    projected: Mapped[bool] = mapped_column(default=False)


class Rejection(Base):
    """Evidence of a record the hub would not attribute to a device's chain."""

    __tablename__ = "rejections"

    id: Mapped[intpk]
    batch_id: Mapped[str] = mapped_column(String(32), index=True)
    sender_device: Mapped[str] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(40), index=True)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    record_id: Mapped[str] = mapped_column(String(64))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    code: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]


class Attachment(Base):
    __tablename__ = "attachments"

    sha256: Mapped[hex64] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    blob_key: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[str | None] = mapped_column(String(40))
    uploaded_at: Mapped[created]


# --- embedded ledger -----------------------------------------------------------


class LedgerBlock(Base):
    """One block: header fields are hashed into `header_hash`, the next block's prev."""

    __tablename__ = "ledger_blocks"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    prev_hash: Mapped[hex64]
    merkle_root: Mapped[hex64]
    entries_hash: Mapped[hex64]
    header_hash: Mapped[hex64]
    tx_count: Mapped[int]
    time: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]


class LedgerEntry(Base):
    """An event in a block, in the pseudonymous form the ledger may hold."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_block_position", "block", "position"),)

    record_id: Mapped[hex64] = mapped_column(primary_key=True)
    block: Mapped[int] = mapped_column(ForeignKey("ledger_blocks.number"))
    position: Mapped[int]
    tx_id: Mapped[hex64]
    status: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)
    event: Mapped[dict[str, Any]]


class LedgerState(Base):
    """World state of the embedded ledger: JSON values by key, as on a Fabric peer."""

    __tablename__ = "ledger_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[dict[str, Any]]


class LedgerStateHistory(Base):
    """Every write to a world-state key, in commit order; rows are never updated."""

    __tablename__ = "ledger_state_history"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), index=True)
    tx_id: Mapped[str] = mapped_column(String(64))
    time: Mapped[str] = mapped_column(String(20))
    deleted: Mapped[bool] = mapped_column(default=False)
    value: Mapped[dict[str, Any]]


class LedgerHistory(Base):
    __tablename__ = "ledger_history"

    id: Mapped[intpk]
    asset: Mapped[str] = mapped_column(String(200), index=True)
    record_id: Mapped[hex64]
    block: Mapped[int] = mapped_column(BigInteger)
    entry: Mapped[dict[str, Any]]


# --- projections: rebuilt from records by hub/projections.py -------------------


class Supplier(Base):
    """A cooperative selling cacao, as stakeholders see it."""

    __tablename__ = "suppliers"

    id: Mapped[intpk]
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    name: Mapped[name]
    location: Mapped[str | None] = mapped_column(String(200))
    contact_person: Mapped[str | None] = mapped_column(String(200))


class Manufacturer(Base):
    __tablename__ = "manufacturers"

    id: Mapped[intpk]
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    name: Mapped[name]
    location: Mapped[str | None] = mapped_column(String(200))


class Farmer(Base):
    """Personal data: kept in the hub database only, never on the ledger."""

    __tablename__ = "farmers"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    id: Mapped[intpk]
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    code: Mapped[code]
    name: Mapped[name]
    gender: Mapped[str | None] = mapped_column(String(1))
    birth_year: Mapped[int | None]
    village: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))
    certifications: Mapped[list] = mapped_column(default=list)
    registered_on: Mapped[str | None] = mapped_column(String(10))
    record_id: Mapped[hex64]
    updated_pos: Mapped[int] = mapped_column(BigInteger)


class Plot(Base):
    __tablename__ = "plots"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    id: Mapped[intpk]
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    code: Mapped[code]
    farmer_code: Mapped[code]
    geometry: Mapped[dict[str, Any]]
    gps_accuracy_m: Mapped[float]
    declared_area_ha: Mapped[float | None]
    planted_year: Mapped[int | None]
    record_id: Mapped[hex64]
    updated_pos: Mapped[int] = mapped_column(BigInteger)


class Harvest(Base):
    __tablename__ = "harvests"

    id: Mapped[code] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    farmer_code: Mapped[code]
    plot_code: Mapped[code]
    mass_g: Mapped[grams]
    harvested_on: Mapped[date]
    record_id: Mapped[hex64]


class Purchase(Base):
    __tablename__ = "purchases"

    id: Mapped[code] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    farmer_code: Mapped[code]
    plot_code: Mapped[code]
    harvest_id: Mapped[str | None] = mapped_column(String(64))
    mass_g: Mapped[grams]
    remaining_g: Mapped[grams]
    grade: Mapped[str] = mapped_column(String(20))
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    purchased_at: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[hex64]


class CacaoBatch(Base):
    """A cooperative lot: purchased beans bagged together."""

    __tablename__ = "cacao_batches"

    id: Mapped[code] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    harvest_date: Mapped[date | None]
    quantity_g: Mapped[grams]
    remaining_g: Mapped[grams]
    certification: Mapped[str | None] = mapped_column(String(200))
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    holder_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    in_transit_to: Mapped[str | None] = mapped_column(String(40))
    bags: Mapped[int | None]
    created_at: Mapped[datetime]
    record_id: Mapped[hex64]
    updated_pos: Mapped[int] = mapped_column(BigInteger)

    supplier: Mapped[Supplier] = relationship(lazy="joined")


class CacaoBatchInput(Base):
    __tablename__ = "cacao_batch_inputs"

    cacao_batch_id: Mapped[code] = mapped_column(
        ForeignKey("cacao_batches.id"), primary_key=True
    )
    purchase_id: Mapped[code] = mapped_column(
        ForeignKey("purchases.id"), primary_key=True
    )
    mass_g: Mapped[grams]


class Product(Base):
    """A product batch made from cacao batches; `batch_number` is printed on packs."""

    __tablename__ = "products"

    id: Mapped[code] = mapped_column(primary_key=True)
    name: Mapped[name]
    description: Mapped[str | None] = mapped_column(Text)
    manufacturer_id: Mapped[int] = mapped_column(ForeignKey("manufacturers.id"))
    batch_number: Mapped[code]
    units: Mapped[int]
    units_sold: Mapped[int] = mapped_column(default=0)
    output_mass_g: Mapped[int | None] = mapped_column(BigInteger)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    holder_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    produced_at: Mapped[datetime]
    record_id: Mapped[hex64]

    manufacturer: Mapped[Manufacturer] = relationship(lazy="joined")


class ProductCacaoBatch(Base):
    __tablename__ = "product_cacao_batches"

    product_id: Mapped[code] = mapped_column(
        ForeignKey("products.id"), primary_key=True
    )
    cacao_batch_id: Mapped[code] = mapped_column(
        ForeignKey("cacao_batches.id"), primary_key=True
    )
    quantity_g: Mapped[grams]


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[code] = mapped_column(primary_key=True)
    from_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    to_org: Mapped[str] = mapped_column(String(40))
    lots: Mapped[list]
    received: Mapped[bool] = mapped_column(default=False)
    record_id: Mapped[hex64]


class TraceEvent(Base):
    """One step of the journey of a product or a cacao batch."""

    __tablename__ = "trace_events"

    id: Mapped[intpk]
    product_id: Mapped[str | None] = mapped_column(String(64), index=True)
    cacao_batch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    purchase_id: Mapped[str | None] = mapped_column(String(64), index=True)
    timestamp: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    details: Mapped[dict[str, Any]]
    record_id: Mapped[hex64] = mapped_column(index=True)

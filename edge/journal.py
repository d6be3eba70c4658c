"""The record journal: append signed records to this device's chain and check it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edge import projections
from edge.models import JournalRecord, RecordState
from shared.keys import DeviceKey, verify
from shared.record import GENESIS, parse, record_id, sign_record
from shared.validation import validate_body

log = logging.getLogger(__name__)

ID_PREFIXES = {
    "harvest": "H",
    "purchase": "PUR",
    "drying": "DRY",
    "lot": "LOT",
    "dispatch": "SHP",
    "processing": "BATCH",
    "sale": "SALE",
}


def head(session: Session) -> JournalRecord | None:
    """The last record of the chain, or None before the first."""
    query = select(JournalRecord).order_by(JournalRecord.seq.desc()).limit(1)
    return session.scalars(query).first()


def object_id(key: DeviceKey, rtype: str, seq: int) -> str:
    """`<PREFIX>-<device hex>-<seq>`: unique without coordination, short on a label."""
    return f"{ID_PREFIXES[rtype]}-{key.device_id[2:]}-{seq}"


@dataclass(frozen=True, slots=True)
class Appended:
    """A record just signed and stored in the journal."""

    seq: int
    id: str
    type: str
    raw: bytes
    signature: bytes
    body: dict


# The append path is the one every form submit waits on, so it speaks Core to the
# journal table: no ORM unit of work, identity map or attribute events per record.
_JOURNAL = JournalRecord.__table__
_HEAD_LINK = (
    select(_JOURNAL.c.seq, _JOURNAL.c.id).order_by(_JOURNAL.c.seq.desc()).limit(1)
)
_INSERT = _JOURNAL.insert()


def append(
    session: Session, key: DeviceKey, rtype: str, body: dict, *, check: bool = True
) -> Appended:
    """Validate, check, sign and store one record inside the caller's transaction.

    The session's transaction is BEGIN IMMEDIATE (see edge.db), so the head read
    here cannot move before the commit: two appenders never take the same seq.
    A body without `id` gets one built from the seq when its type creates objects.
    `check=False` skips the projection checks for a caller that made its own
    (the importer accepts a plot whose farmer's registry row still needs fixing).
    """
    connection = session.connection()
    last = connection.execute(_HEAD_LINK).first()
    seq, prev = (last.seq + 1, last.id) if last else (1, GENESIS)
    body = dict(body)
    if "id" not in body and rtype in ID_PREFIXES:
        body["id"] = object_id(key, rtype, seq)

    validate_body(rtype, body)
    if check:
        projections.check(session, rtype, body)
    signed = sign_record(key, rtype, seq, prev, body)
    record = Appended(
        seq, record_id(signed.raw), rtype, signed.raw, signed.signature, body
    )
    connection.execute(
        _INSERT,
        {
            "seq": seq,
            "id": record.id,
            "type": rtype,
            "raw": signed.raw,
            "signature": signed.signature,
            "state": RecordState.PENDING,
        },
    )
    projections.apply(session, rtype, body, record.id)
    # Projection rows go through the ORM; flush them so a caller's next Core read
    # in this transaction sees them (nearly free when the record type has none).
    session.flush()
    log.info("record.appended", extra={"seq": seq, "type": rtype, "record": record.id})
    return record


@dataclass(frozen=True)
class ChainFault:
    """The first place where the stored chain does not hold."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.problem}"


def verify_chain(
    session: Session, public_raw: bytes, device_id: str
) -> ChainFault | None:
    """Re-check every stored record: bytes, id, signature, seq and prev links."""
    prev, expected = GENESIS, 1
    query = select(JournalRecord).order_by(JournalRecord.seq)
    for row in session.scalars(query).yield_per(500):
        fault = _check_row(row, expected, prev, public_raw, device_id)
        if fault:
            return ChainFault(row.seq, fault)
        prev, expected = row.id, row.seq + 1

    return None


def _check_row(
    row: JournalRecord, expected: int, prev: str, public_raw: bytes, device_id: str
) -> str | None:
    if row.seq != expected:
        return f"expected seq {expected}: records {expected}..{row.seq - 1} are missing"
    if record_id(row.raw) != row.id:
        return "stored id is not the SHA-256 of the stored bytes"
    if not verify(public_raw, row.signature, row.raw):
        return "signature does not verify against this device's key"
    try:
        header = parse(row.raw)
    except Exception as exc:  # noqa: BLE001 - any parse fault is the finding itself
        return f"bytes do not parse: {exc}"
    if header.device != device_id:
        return f"record names device {header.device}, not {device_id}"
    if header.seq != row.seq:
        return f"record says seq {header.seq} but is stored at {row.seq}"
    if header.prev != prev:
        return f"prev {header.prev[:12]}… is not the id of seq {row.seq - 1}"
    return None


# What each state means to the person holding the device, for the sync page and
# `cocoa-edge status`.
STATE_MEANING = {
    RecordState.PENDING: "signed here, not sent yet",
    RecordState.SENT: "sent, the answer has not come back",
    RecordState.RELAYED: "held by the gateway, the hub has not answered yet",
    RecordState.ACKNOWLEDGED: "stored by the hub",
    RecordState.QUARANTINED: "stored by the hub, held for review",
    RecordState.REJECTED: "refused, with the reason; not stored",
}


def count_by_state(session: Session) -> dict[RecordState, int]:
    query = select(JournalRecord.state, func.count()).group_by(JournalRecord.state)
    counts = {state: 0 for state in RecordState}
    counts.update(dict(session.execute(query).all()))
    return counts

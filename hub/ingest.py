"""Ingest of a CTB1 sync batch: verify, chain-check, store, answer per record.

This module holds the rules of docs/sync-protocol.md and no web code. Signatures
and schemas are checked before the database transaction opens, so the write lock
is held only for the chain checks and the bulk writes.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from hub.bulk import bind_values, insert_rows
from hub.keyring import Keyring
from hub.models import Device, Record, Rejection, SyncBatch, utcnow
from shared.errors import CocoaError, MalformedRecord, SchemaInvalid
from shared.record import GENESIS, Header, SignedRecord, canonical, parse
from shared.validation import validate_body
from shared.wire import Segment, decode_batch

log = logging.getLogger("hub.ingest")

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
QUARANTINED = "quarantined"
REJECTED = "rejected"

# Columns of a stored record, in the order _Store builds its rows.
RECORD_COLUMNS = (
    "id",
    "device_id",
    "seq",
    "type",
    "raw",
    "signature",
    "device_time",
    "status",
    "reason",
    "reason_detail",
    "received_at",
    "batch_id",
    "ledger_status",
    "projected",
)


@dataclass(frozen=True, slots=True)
class Result:
    """What happened to one record of a batch."""

    device: str
    seq: int | None
    id: str
    status: str
    code: str | None = None
    detail: str | None = None

    def to_json(self) -> dict:
        doc = {"device": self.device, "seq": self.seq, "id": self.id}
        doc["status"] = self.status
        if self.code:
            doc["code"] = self.code
            doc["detail"] = self.detail
        return doc


@dataclass(slots=True)
class Candidate:
    """A record of the batch that passed the checks needing no database."""

    raw: bytes
    signature: bytes
    id: str
    head: Header
    problem: CocoaError | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A record refused before the transaction, with its bytes kept as evidence."""

    result: Result
    raw: bytes
    signature: bytes


@dataclass
class Outcome:
    """The answer to one batch, before it is rendered."""

    batch_id: str
    frame_sha256: str
    results: list[Result]
    high_water: dict[str, dict]
    receipt: dict = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((ACCEPTED, DUPLICATE, QUARANTINED, REJECTED), 0)
        for result in self.results:
            counts[result.status] += 1
        return counts

    def to_json(self) -> dict:
        return {
            "batch": self.batch_id,
            "results": [r.to_json() for r in self.results],
            "high_water": self.high_water,
            "receipt": self.receipt,
        }


@dataclass(frozen=True, slots=True)
class DeviceView:
    id: str
    status: str
    verifier: Ed25519PublicKey


def insert_records(
    session: Session, rows: list[tuple], batch_id: str, now: datetime
) -> None:
    """Bulk-insert record rows (the first ten RECORD_COLUMNS) of one batch."""
    shared = bind_values(
        session,
        Record.__table__,
        {
            "received_at": now,
            "batch_id": batch_id,
            "ledger_status": "pending",
            "projected": False,
        },
    )
    tail = tuple(shared[name] for name in RECORD_COLUMNS[-4:])
    full = [row + tail for row in rows]
    insert_rows(session, Record.__table__, RECORD_COLUMNS, full)


@contextmanager
def _writer_turn(session: Session) -> Iterator[None]:
    """On a SQLite file, queue for the write lock in the kernel, not by polling.

    SQLite's busy handler retries after sleeps growing to 100 ms, so a worker waiting
    for another's commit oversleeps and leaves its core idle (about 8 ms per wait
    with 15 ms commits); a file lock wakes the next writer the moment it is free.
    PostgreSQL queues its row locks itself.
    """
    url = session.get_bind().url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        yield
        return

    with open(url.database + ".ingest-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Ingestor:
    """Checks and stores the records of sync batches for one hub."""

    def __init__(self, keyring: Keyring):
        self.keyring = keyring
        self._verifiers: dict[bytes, Ed25519PublicKey] = {}

    def ingest(self, session: Session, sender: str, frame: bytes) -> Outcome:
        """Decode `frame`, store what is good, and answer for every record."""
        segments = decode_batch(frame)
        devices = self._devices(session, segments)
        checked = [self.check_segment(seg, devices) for seg in segments]
        with _writer_turn(session), session.begin():
            outcome = self.store(session, sender, checked, frame)

        extra = {"batch_id": outcome.batch_id, "sender": sender, **outcome.counts()}
        log.info("batch.ingested", extra=extra)
        return outcome

    def store(
        self,
        session: Session,
        sender: str,
        checked: list[list[Candidate | Refusal]],
        frame: bytes,
    ) -> Outcome:
        """Chain-check and write checked records inside the caller's transaction."""
        store = _Store(session, secrets.token_hex(16), sender, utcnow())
        results = store.apply(checked)
        frame_sha = hashlib.sha256(frame).hexdigest()
        outcome = Outcome(store.batch_id, frame_sha, results, store.high_water())
        outcome.receipt = self.receipt(outcome, store.now)
        store.finish(outcome)
        return outcome

    def view(self, device: Device) -> DeviceView:
        return DeviceView(device.id, device.status, self._verifier(device.public_key))

    def receipt(self, outcome: Outcome, now: datetime) -> dict:
        """The hub's signed proof of what it holds after this batch, and why not."""
        payload = canonical(
            {
                "batch": outcome.batch_id,
                "frame_sha256": outcome.frame_sha256,
                "high_water": outcome.high_water,
                "hub": self.keyring.hub_key.device_id,
                "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "verdicts": signed_verdicts(outcome.results),
            }
        )
        return {
            "payload": _b64(payload),
            "signature": _b64(self.keyring.hub_key.sign(payload)),
        }

    def _devices(
        self, session: Session, segments: list[Segment]
    ) -> dict[str, DeviceView]:
        ids = {seg.device for seg in segments}
        rows = session.execute(
            select(Device.id, Device.status, Device.public_key).where(
                Device.id.in_(ids)
            )
        )
        session.rollback()  # end the read so no lock is held while verifying
        return {
            row.id: DeviceView(row.id, row.status, self._verifier(row.public_key))
            for row in rows
        }

    def _verifier(self, public_raw: bytes) -> Ed25519PublicKey:
        verifier = self._verifiers.get(public_raw)
        if verifier is None:
            verifier = Ed25519PublicKey.from_public_bytes(public_raw)
            self._verifiers[public_raw] = verifier
        return verifier

    def check_segment(
        self, seg: Segment, devices: dict[str, DeviceView]
    ) -> list[Candidate | Refusal]:
        device = devices.get(seg.device)
        checked = []
        for n, rec in enumerate(seg.records):
            rid = rec.id
            outcome = _check_record(seg, seg.first_seq + n, rid, rec, device)
            if isinstance(outcome, Candidate):
                checked.append(outcome)
            else:
                code, detail, dev, seq = outcome
                result = _reject(dev, seq, rid, code, detail)
                checked.append(Refusal(result, rec.raw, rec.signature))

        return checked


def signed_verdicts(results: list[Result]) -> list[dict]:
    """The rejected and quarantined results, as the receipt signs them.

    The human `detail` stays out: the stable `code` is the verdict, while a
    detail can run long (a schema message per record of a batch that broke its
    chain) and echo payload values into a receipt that gateways store and pass on.
    """
    return [
        {
            "code": r.code,
            "device": r.device,
            "id": r.id,
            "seq": r.seq,
            "status": r.status,
        }
        for r in results
        if r.status in (REJECTED, QUARANTINED)
    ]


def _check_record(
    seg: Segment, position: int, rid: str, rec: SignedRecord, device: DeviceView | None
) -> Candidate | tuple[str, str, str, int]:
    """A candidate for the chain check, or why the record cannot be one."""
    raw, signature = rec.raw, rec.signature
    try:
        head = parse(raw)
    except MalformedRecord as exc:
        return "malformed-record", exc.detail, seg.device, position

    dev, seq = head.device, head.seq
    if dev != seg.device:
        return (
            "device-mismatch",
            f"segment is for {seg.device}, record is {dev}'s",
            dev,
            seq,
        )
    if seq != position:
        return (
            "malformed-record",
            f"seq {seq} sits at seq {position} of its segment",
            dev,
            seq,
        )
    if device is None:
        return "device-unknown", f"device {dev} is not enrolled at this hub", dev, seq
    # Checked here too so a revoked device's records cost no signature check.
    if device.status == "revoked":
        return "device-revoked", f"device {dev} is revoked", dev, seq

    try:
        device.verifier.verify(signature, raw)
    except InvalidSignature:
        detail = "signature does not verify against the enrolled key"
        return "bad-signature", detail, dev, seq

    problem = None
    try:
        validate_body(head.type, head.body)
    except SchemaInvalid as exc:
        problem = exc

    return Candidate(raw, signature, rid, head, problem)


class _Store:
    """The part of an ingest that runs inside the transaction."""

    def __init__(self, session: Session, batch_id: str, sender: str, now: datetime):
        self.session = session
        self.batch_id = batch_id
        self.sender = sender
        self.now = now
        self.records: list[tuple] = []
        self.rejections: list[dict] = []
        self.heads: dict[str, _Head] = {}

    def apply(self, checked: list[list[Candidate | Refusal]]) -> list[Result]:
        items = [item for seg in checked for item in seg]
        candidates = [c for c in items if isinstance(c, Candidate)]
        self._lock_devices({c.head.device for c in candidates})
        existing = self._existing(candidates)
        results = []
        for item in items:
            if isinstance(item, Candidate):
                result = self._chain(item, existing)
            else:
                result = item.result
            if result.status == REJECTED:
                self._keep_rejection(result, item.raw, item.signature)
            results.append(result)

        return results

    def high_water(self) -> dict[str, dict]:
        return {d: {"seq": h.seq, "id": h.id} for d, h in sorted(self.heads.items())}

    def finish(self, outcome: Outcome) -> None:
        """Write everything in a few statements."""
        insert_records(self.session, self.records, self.batch_id, self.now)
        if self.rejections:
            self.session.execute(insert(Rejection), self.rejections)
        for dev, head in sorted(self.heads.items()):
            if head.changed:
                self.session.execute(
                    update(Device)
                    .where(Device.id == dev)
                    .values(**head.values(self.now))
                )
        self.session.execute(
            update(Device).where(Device.id == self.sender).values(last_seen_at=self.now)
        )
        counts = outcome.counts()
        self.session.add(
            SyncBatch(
                id=self.batch_id,
                sender_device=self.sender,
                frame_sha256=outcome.frame_sha256,
                records=len(outcome.results),
                accepted=counts[ACCEPTED],
                duplicates=counts[DUPLICATE],
                quarantined=counts[QUARANTINED],
                rejected=counts[REJECTED],
                receipt=outcome.receipt,
                received_at=self.now,
            )
        )

    def _lock_devices(self, ids: set[str]) -> None:
        # Row locks in a fixed order: two requests carrying the same device wait
        # for each other instead of both passing the chain check (PostgreSQL).
        rows = self.session.execute(
            select(Device.id, Device.high_seq, Device.high_id, Device.status)
            .where(Device.id.in_(ids))
            .order_by(Device.id)
            .with_for_update()
        )
        self.heads = {r.id: _Head(r.high_seq, r.high_id, r.status) for r in rows}

    def _existing(self, candidates: list[Candidate]) -> dict[tuple[str, int], str]:
        """Ids already stored for the (device, seq) ranges the batch touches."""
        ranges: dict[str, tuple[int, int]] = {}
        for c in candidates:
            lo, hi = ranges.get(c.head.device, (c.head.seq, c.head.seq))
            ranges[c.head.device] = (min(lo, c.head.seq), max(hi, c.head.seq))
        if not ranges:
            return {}

        where = or_(
            *(
                and_(Record.device_id == dev, Record.seq.between(lo, hi))
                for dev, (lo, hi) in ranges.items()
            )
        )
        query = select(Record.device_id, Record.seq, Record.id).where(where)
        return {(r.device_id, r.seq): r.id for r in self.session.execute(query)}

    def _chain(self, cand: Candidate, existing: dict[tuple[str, int], str]) -> Result:
        dev, seq = cand.head.device, cand.head.seq
        head = self.heads[dev]
        # Checked again under the lock: a revocation may have landed meanwhile.
        if head.status == "revoked":
            return _reject(
                dev, seq, cand.id, "device-revoked", f"device {dev} is revoked"
            )

        if seq <= head.seq:
            if existing.get((dev, seq)) == cand.id:
                return Result(dev, seq, cand.id, DUPLICATE)
            self._flag(dev, seq)
            detail = f"seq {seq} of {dev} is stored with other bytes; device flagged"
            return _reject(dev, seq, cand.id, "chain-fork", detail)

        if seq > head.seq + 1:
            detail = (
                f"seq {seq} follows high water {head.seq}; send from {head.seq + 1}"
            )
            return _reject(dev, seq, cand.id, "chain-gap", detail)

        if cand.head.prev != (head.id or GENESIS):
            detail = f"prev of seq {seq} is not the id of stored seq {head.seq}"
            return _reject(dev, seq, cand.id, "chain-broken", detail)

        result = _classify(cand, head.status)
        head.advance(seq, cand.id)
        existing[(dev, seq)] = cand.id
        self.records.append(self._row(cand, result))
        return result

    def _row(self, cand: Candidate, result: Result) -> tuple:
        """The per-record columns; finish() appends those shared by the batch."""
        head = cand.head
        status = "quarantined" if result.status == QUARANTINED else "stored"
        return (
            cand.id,
            head.device,
            head.seq,
            head.type,
            cand.raw,
            cand.signature,
            head.time,
            status,
            result.code,
            result.detail,
        )

    def _flag(self, dev: str, seq: int) -> None:
        head = self.heads[dev]
        head.status, head.changed = "flagged", True
        head.reason = f"chain fork at seq {seq} seen in batch {self.batch_id}"
        extra = {"device_id": dev, "seq": seq, "batch_id": self.batch_id}
        log.warning("device.flagged", extra=extra)

    def _keep_rejection(self, result: Result, raw: bytes, signature: bytes) -> None:
        self.rejections.append(
            {
                "batch_id": self.batch_id,
                "sender_device": self.sender,
                "device_id": result.device,
                "seq": result.seq,
                "record_id": result.id,
                "raw": raw,
                "signature": signature,
                "code": result.code,
                "detail": result.detail,
                "received_at": self.now,
            }
        )


@dataclass(slots=True)
class _Head:
    """A device's chain head while a batch is applied."""

    seq: int
    id: str | None
    status: str
    changed: bool = False
    reason: str | None = None

    def advance(self, seq: int, rid: str) -> None:
        self.seq, self.id, self.changed = seq, rid, True

    def values(self, now: datetime) -> dict:
        values = {"high_seq": self.seq, "high_id": self.id, "last_seen_at": now}
        values["status"] = self.status
        if self.reason:
            values["status_reason"] = self.reason
        return values


def _classify(cand: Candidate, device_status: str) -> Result:
    head = cand.head
    if cand.problem is not None:
        problem = cand.problem
        return Result(
            head.device, head.seq, cand.id, QUARANTINED, problem.code, problem.detail
        )

    if device_status == "flagged":
        detail = "the device forked its chain before; held for review"
        return Result(
            head.device, head.seq, cand.id, QUARANTINED, "device-flagged", detail
        )

    return Result(head.device, head.seq, cand.id, ACCEPTED)


def _reject(device: str, seq: int | None, rid: str, code: str, detail: str) -> Result:
    return Result(device, seq, rid, REJECTED, code, detail)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()

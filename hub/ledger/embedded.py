"""A ledger inside the hub database: append-only, hash-chained blocks.

Each block header holds the previous header's hash, the Merkle root of its record
ids and the hash of its entries, so changing any stored entry or block shows up in
`verify_chain`, and `proof` lets anyone check one record against a trusted head.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import astuple, dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.ledger import merkle
from hub.ledger.base import (
    ALREADY,
    APPLIED,
    REFUSED,
    LedgerEvent,
    Proof,
    SubmitResult,
)
from hub.ledger.rules import Hold, HubJourney, keys_of
from hub.ledger.state import DbState, SaltVault
from hub.models import LedgerBlock, LedgerEntry, LedgerHistory, utcnow
from shared.errors import CocoaError
from shared.journey import ALREADY_RECORDED as JOURNEY_ALREADY
from shared.journey import APPLIED as JOURNEY_APPLIED
from shared.journey import Caller, Outcome
from shared.record import SignedRecord, canonical

log = logging.getLogger("hub.ledger")
GENESIS = "0" * 64


class ProofInvalid(CocoaError):
    status = 422
    code = "proof-invalid"
    title = "Ledger proof does not verify"


def header_hash(header: dict) -> str:
    return hashlib.sha256(canonical(header)).hexdigest()


def entries_hash(entries: list[dict]) -> str:
    return hashlib.sha256(canonical(entries)).hexdigest()


class EmbeddedLedger:
    """The `Ledger` port on the hub's own database, inside the caller's transaction.

    Every event goes through the journey rules (shared/journey.py, the twin of the
    chaincode). An event the rules settle, applied or refused, takes a place in the
    next block; one refused at admission (unknown device, bad signature, a chain
    gap) advances nothing and is answered without a block, as the chaincode does.
    Administrative transactions (organisations, salts, devices) change the world
    state and its history but are not written into blocks, so `verify_chain` does
    not cover them. A hub whose blocks were written before migration 0002 has no
    world state for them, and nothing replays those blocks into it yet: its
    devices' next records would be refused as chain-gap.
    """

    def __init__(self, session: Session, salts: SaltVault | None = None):
        self.session = session
        self.state = DbState(session, salts)
        self.journey = HubJourney(self.state)

    def submit(self, events: list[LedgerEvent]) -> list[SubmitResult]:
        """Apply the rules to each event in order, then append one block."""
        time = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        self.state.prefetch(k for e in events for k in keys_of(e))
        self.journey.held = {e.record_id: Hold(*e.refused) for e in events if e.refused}
        self.journey.settled = set()
        rulings = [self._rule(e, time) for e in events]
        self.state.flush()
        entries = [_entry(e, r) for e, r in zip(events, rulings) if r.settled]
        number = self._append(entries) if entries else None
        known = self._known([r.id for r in rulings if r.status == JOURNEY_ALREADY])
        return [self._result(r, number, known) for r in rulings]

    # -- administration, in the chaincode's vocabulary -------------------------

    # Each takes the keyword arguments tx_id and tx_time of shared.journey, else
    # a random transaction id and the current time.

    def register_org(self, slug: str, msp: str, caller: Caller | None = None, **tx):
        self._admin("register_org", (slug, msp, caller), tx)

    def set_pseudonym_salt(
        self, org: str, salt: bytes, caller: Caller | None = None, **tx
    ):
        self._admin("set_pseudonym_salt", (org, salt, caller), tx)

    def register_device(self, grant: DeviceGrant, caller: Caller | None = None, **tx):
        self._admin("register_device", (*astuple(grant), caller), tx)

    def revoke_device(self, device_id: str, caller: Caller | None = None, **tx):
        self._admin("revoke_device", (device_id, caller), tx)

    def proof(self, record_id: str) -> Proof:
        entry = self.session.get(LedgerEntry, record_id)
        if entry is None:
            raise NotFound(f"record {record_id} is not on the ledger")

        ids = self.session.scalars(
            select(LedgerEntry.record_id)
            .where(LedgerEntry.block == entry.block)
            .order_by(LedgerEntry.position)
        ).all()
        blocks = self.session.scalars(
            select(LedgerBlock)
            .where(LedgerBlock.number >= entry.block)
            .order_by(LedgerBlock.number)
        )
        headers = [_header(b) for b in blocks]
        path = merkle.path(list(ids), entry.position)
        return Proof(record_id, entry.block, entry.position, path, headers)

    def history(self, asset: str) -> list[dict]:
        rows = self.session.scalars(
            select(LedgerHistory)
            .where(LedgerHistory.asset == asset)
            .order_by(LedgerHistory.id)
        )
        return [dict(r.entry, block=r.block, record_id=r.record_id) for r in rows]

    def head(self) -> LedgerBlock | None:
        return self.session.scalars(
            select(LedgerBlock).order_by(LedgerBlock.number.desc()).limit(1)
        ).first()

    def _rule(self, event: LedgerEvent, time: str) -> _Ruling:
        tx_id = _tx_id(event.record_id)
        rec = SignedRecord(event.raw, event.signature)
        settled = len(self.journey.settled)
        outcome = self.journey.submit([rec], time, event.org, tx_id=tx_id)[0]
        fresh = len(self.journey.settled) > settled
        return _Ruling(event.record_id, outcome.status, tx_id, fresh, outcome)

    def _result(
        self, ruling: _Ruling, block: int | None, known: dict[str, LedgerEntry]
    ) -> SubmitResult:
        code, detail = ruling.outcome.code or None, ruling.outcome.detail or None
        if ruling.status == JOURNEY_APPLIED:
            return SubmitResult(ruling.id, APPLIED, ruling.tx_id, block)

        if ruling.status == REFUSED:
            where = block if ruling.settled else None
            return SubmitResult(ruling.id, REFUSED, ruling.tx_id, where, code, detail)

        entry = known.get(ruling.id)
        if entry is None:
            # The rules hold the record but no block does: a state written by an
            # older hub, or a ledger whose blocks were removed by hand.
            return SubmitResult(ruling.id, ALREADY, ruling.tx_id, None, code, detail)

        return SubmitResult(
            ruling.id, ALREADY, entry.tx_id, entry.block, entry.code, entry.detail
        )

    def _admin(self, op: str, args: tuple, tx: dict[str, str]) -> None:
        tx.setdefault("tx_id", secrets.token_hex(32))
        tx.setdefault("tx_time", utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"))
        getattr(self.journey, op)(*args, **tx)
        self.state.flush()
        log.info("ledger.admin", extra={"op": op, "tx_id": tx["tx_id"]})

    def _known(self, ids: list[str]) -> dict[str, LedgerEntry]:
        if not ids:
            return {}

        rows = self.session.scalars(
            select(LedgerEntry).where(LedgerEntry.record_id.in_(ids))
        )
        return {r.record_id: r for r in rows}

    def _append(self, entries: list[dict]) -> int:
        last = self.head()
        number = last.number + 1 if last else 0
        header = {
            "number": number,
            "prev_hash": last.header_hash if last else GENESIS,
            "merkle_root": merkle.root([e["record_id"] for e in entries]),
            "entries_hash": entries_hash(entries),
            "tx_count": len(entries),
            "time": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.session.add(
            LedgerBlock(
                number=number,
                prev_hash=header["prev_hash"],
                merkle_root=header["merkle_root"],
                entries_hash=header["entries_hash"],
                header_hash=header_hash(header),
                tx_count=len(entries),
                time=header["time"],
                created_at=utcnow(),
            )
        )
        self.session.flush()
        # Core inserts of the Table: one executemany however the None columns vary.
        self.session.execute(
            insert(LedgerEntry.__table__),
            [dict(e, block=number, position=n) for n, e in enumerate(entries)],
        )
        history = [
            {
                "asset": asset,
                "record_id": e["record_id"],
                "block": number,
                "entry": _summary(e),
            }
            for e in entries
            for asset in _assets(e["event"])
        ]
        if history:
            self.session.execute(insert(LedgerHistory.__table__), history)
        applied = sum(e["status"] == APPLIED for e in entries)
        log.info(
            "ledger.block",
            extra={"block": number, "txs": len(entries), "applied": applied},
        )
        return number


def verify_chain(session: Session) -> list[str]:
    """Every fault in the stored chain, by block; an empty list means it holds."""
    faults = []
    prev = GENESIS
    for block in session.scalars(select(LedgerBlock).order_by(LedgerBlock.number)):
        entries = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.block == block.number)
            .order_by(LedgerEntry.position)
        ).all()
        stored = [_entry_doc(e) for e in entries]
        if block.prev_hash != prev:
            faults.append(
                f"block {block.number}: prev_hash does not match the block before"
            )
        if merkle.root([e.record_id for e in entries]) != block.merkle_root:
            faults.append(
                f"block {block.number}: record ids do not match the Merkle root"
            )
        if entries_hash(stored) != block.entries_hash:
            faults.append(
                f"block {block.number}: entries do not match the entries hash"
            )
        if header_hash(_header(block)) != block.header_hash:
            faults.append(
                f"block {block.number}: header hash does not match the header"
            )
        prev = block.header_hash

    return faults


def verify_proof(proof: dict, trusted_head: str | None = None) -> str:
    """Check a proof with no database; answer the head hash it leads to."""
    headers = proof["headers"]
    if not headers or headers[0]["number"] != proof["block"]:
        raise ProofInvalid("the proof does not start at the record's block")

    computed = merkle.root_from_path(proof["record_id"], proof["path"])
    if computed != headers[0]["merkle_root"]:
        raise ProofInvalid("the Merkle path does not lead to the block's root")

    prev = None
    for header in headers:
        if prev is not None and header["prev_hash"] != prev:
            raise ProofInvalid(
                f"block {header['number']} does not link to the one before"
            )
        prev = header_hash(header)

    if trusted_head is not None and prev != trusted_head:
        raise ProofInvalid("the header chain does not end at the trusted head")
    return prev


def _header(block: LedgerBlock) -> dict:
    return {
        "number": block.number,
        "prev_hash": block.prev_hash,
        "merkle_root": block.merkle_root,
        "entries_hash": block.entries_hash,
        "tx_count": block.tx_count,
        "time": block.time,
    }


@dataclass(frozen=True, slots=True)
class _Ruling:
    """What the rules made of one event, before it has a block."""

    id: str
    status: str
    tx_id: str
    settled: bool
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class DeviceGrant:
    """A device as the ledger registers it."""

    device_id: str
    public_key_b64: str
    org: str
    role: str


def _tx_id(record_id: str) -> str:
    return hashlib.sha256(b"tx:" + bytes.fromhex(record_id)).hexdigest()


def _entry(event: LedgerEvent, ruling: _Ruling) -> dict:
    refused = ruling.status == REFUSED
    return {
        "record_id": event.record_id,
        "tx_id": ruling.tx_id,
        "status": REFUSED if refused else APPLIED,
        "code": ruling.outcome.code if refused else None,
        "detail": ruling.outcome.detail if refused else None,
        "event": {
            "device": event.device,
            "seq": event.seq,
            "prev": event.prev,
            "type": event.type,
            "org": event.org,
            **event.payload,
        },
    }


def _entry_doc(entry: LedgerEntry) -> dict:
    return {
        "record_id": entry.record_id,
        "tx_id": entry.tx_id,
        "status": entry.status,
        "code": entry.code,
        "detail": entry.detail,
        "event": entry.event,
    }


def _summary(entry: dict) -> dict:
    event = entry["event"]
    return {"type": event["type"], "org": event["org"], "status": entry["status"]}


def _assets(event: dict) -> set[str]:
    """Object ids an event touches, for `history`."""
    assets = {event[k] for k in ("id", "asset", "batch", "shipment") if k in event}
    for item in event.get("inputs", []) + event.get("lots", []):
        if isinstance(item, dict):
            assets.add(item.get("lot") or item.get("purchase"))
        else:
            assets.add(item)
    assets.update(event.get("purchases", []))
    return {a for a in assets if isinstance(a, str)}

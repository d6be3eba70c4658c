"""A ledger inside the hub database: append-only, hash-chained blocks.

Each block header holds the previous header's hash, the Merkle root of its record
ids and the hash of its entries, so changing any stored entry or block shows up in
`verify_chain`, and `proof` lets anyone check one record against a trusted head.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

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
from hub.models import LedgerBlock, LedgerEntry, LedgerHistory, utcnow
from shared.errors import CocoaError
from shared.record import canonical

log = logging.getLogger("hub.ledger")
GENESIS = "0" * 64


class ProofInvalid(CocoaError):
    status = 422
    code = "proof-invalid"
    title = "Ledger proof does not verify"


class Rules(Protocol):
    """Business rules applied before an event is committed."""

    def check(self, events: list[LedgerEvent]) -> list[tuple[str, str] | None]: ...


class NoRules:
    """Commit every signed, chained event as it comes.

    The journey rules engine (shared/journey.py: ownership, mass balance, sale
    once) is written separately; until it is wired in here, the embedded ledger
    enforces no business rule, so an over-drawn lot or a double sale is committed
    and only the Fabric chaincode would refuse it.
    """

    def check(self, events: list[LedgerEvent]) -> list[tuple[str, str] | None]:
        return [None] * len(events)


def header_hash(header: dict) -> str:
    return hashlib.sha256(canonical(header)).hexdigest()


def entries_hash(entries: list[dict]) -> str:
    return hashlib.sha256(canonical(entries)).hexdigest()


class EmbeddedLedger:
    """The `Ledger` port on the hub's own database, inside the caller's transaction."""

    def __init__(self, session: Session, rules: Rules | None = None):
        self.session = session
        self.rules = rules or NoRules()

    def submit(self, events: list[LedgerEvent]) -> list[SubmitResult]:
        known = self._known([e.record_id for e in events])
        fresh = [e for e in events if e.record_id not in known]
        verdicts = self.rules.check([e for e in fresh if e.refused is None])
        verdict = iter(verdicts)
        entries = []
        for event in fresh:
            refusal = event.refused if event.refused is not None else next(verdict)
            entries.append(_entry(event, refusal))

        number = self._append(entries) if entries else None
        results = {
            e["record_id"]: SubmitResult(
                e["record_id"], e["status"], e["tx_id"], number, e["code"], e["detail"]
            )
            for e in entries
        }
        for rid, entry in known.items():
            results[rid] = SubmitResult(
                rid, ALREADY, entry.tx_id, entry.block, entry.code, entry.detail
            )

        return [results[e.record_id] for e in events]

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

    def _known(self, ids: list[str]) -> dict[str, LedgerEntry]:
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
        # Core bulk inserts: a block can hold thousands of entries.
        self.session.execute(
            insert(LedgerEntry),
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
            self.session.execute(insert(LedgerHistory), history)
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


def _entry(event: LedgerEvent, refusal: tuple[str, str] | None) -> dict:
    code, detail = refusal if refusal else (None, None)
    return {
        "record_id": event.record_id,
        "tx_id": hashlib.sha256(b"tx:" + bytes.fromhex(event.record_id)).hexdigest(),
        "status": REFUSED if refusal else APPLIED,
        "code": code,
        "detail": detail,
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

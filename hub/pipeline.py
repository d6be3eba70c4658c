"""After ingest: commit stored records to the ledger, then project them.

Runs as a background job (APScheduler) woken by each ingest, or from
`cocoa-hub ledger commit`; the ingest response never waits for it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from hub.bulk import update_rows
from hub.db import Database
from hub.keyring import Keyring
from hub.ledger.base import ALREADY, REFUSED, Ledger
from hub.ledger.embedded import EmbeddedLedger
from hub.ledger.events import ledger_event
from hub.ledger.mirror import mirror_identities, mirror_revocations
from hub.ledger.state import KeyringSalts
from hub.models import Device, Organisation, Record
from hub.projections import Fact, project
from shared.record import Header, SignedRecord

log = logging.getLogger("hub.pipeline")
CHUNK = 500  # records per ledger block; keeps the write lock short next to ingest
KICK_DELAY_S = 1.0  # ingests within this window share one commit run
_LOCK_ID = 0x636F636F61  # one committer at a time across hub processes ("cocoa")


def commit_pending(
    session: Session, keyring: Keyring, ledger: Ledger | None = None
) -> int:
    """Commit up to CHUNK pending records, then project; answer how many were done."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    salts = KeyringSalts(keyring)
    ledger = ledger or EmbeddedLedger(session, salts)
    rows = session.execute(
        select(
            Record.pos,
            Record.id,
            Record.raw,
            Record.signature,
            Record.device_id,
            Record.status,
            Record.reason,
            Record.reason_detail,
            Device.org_id,
        )
        .join(Device, Device.id == Record.device_id)
        .where(Record.ledger_status == "pending")
        .order_by(Record.pos)
        .limit(CHUNK)
    ).all()
    embedded = isinstance(ledger, EmbeddedLedger)
    if rows:
        slugs = dict(session.execute(select(Organisation.id, Organisation.slug)).all())
        if embedded:
            mirror_identities(session, ledger, {r.device_id for r in rows})
        events = [
            ledger_event(
                SignedRecord(r.raw, r.signature), slugs[r.org_id], salts, _quarantine(r)
            )
            for r in rows
        ]
        results = ledger.submit(events)
        values = [_ledger_values(r, res) for r, res in zip(rows, results, strict=True)]
        update_rows(session, Record, values, "pos")

    if embedded:
        mirror_revocations(session, ledger)
    projected = project_pending(session)
    log.info("pipeline.committed", extra={"records": len(rows), "projected": projected})
    return len(rows)


def project_pending(session: Session) -> int:
    """Project records the ledger has ruled on, in arrival order."""
    rows = session.execute(
        select(
            Record.pos,
            Record.id,
            Record.raw,
            Record.status,
            Record.ledger_status,
            Device.org_id,
        )
        .join(Device, Device.id == Record.device_id)
        .where(Record.projected.is_(False), Record.ledger_status != "pending")
        .order_by(Record.pos)
        .limit(CHUNK)
    ).all()
    if not rows:
        return 0

    orgs = {o.id: o for o in session.scalars(select(Organisation))}
    facts = [
        Fact(r.pos, r.id, orgs[r.org_id], _header(r.raw))
        for r in rows
        if r.status == "stored" and r.ledger_status == "committed"
    ]
    project(session, facts)
    positions = [r.pos for r in rows]
    session.execute(
        update(Record).where(Record.pos.in_(positions)).values(projected=True)
    )
    return len(facts)


def run_until_done(database: Database, keyring: Keyring) -> int:
    """Commit and project until nothing is pending; answer how many were committed."""
    total = 0
    while True:
        with database.session() as session:
            done = commit_pending(session, keyring)
            left = session.scalar(
                select(func.count()).where(Record.projected.is_(False))
            )
        total += done
        if done == 0 and not left:
            return total


class Pipeline:
    """Wakes the commit job after an ingest; inline when no scheduler runs."""

    def __init__(
        self, database: Database, keyring: Keyring, interval_s: float, kick: bool = True
    ):
        self.database = database
        self.keyring = keyring
        self.interval_s = interval_s
        self.kicks = kick
        self.scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        self.scheduler = BackgroundScheduler(daemon=True)
        self.scheduler.add_job(
            self._job,
            "interval",
            seconds=self.interval_s,
            id="ledger-commit",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)

    def kick(self) -> None:
        """Run the commit job soon; inline when there is no scheduler (tests)."""
        if self.scheduler is None:
            run_until_done(self.database, self.keyring)
            return

        if not self.kicks:
            return
        soon = datetime.now(UTC) + timedelta(seconds=KICK_DELAY_S)
        job = self.scheduler.get_job("ledger-commit")
        if job is not None and job.next_run_time > soon:
            job.modify(next_run_time=soon)

    def _job(self) -> None:
        try:
            run_until_done(self.database, self.keyring)
        except Exception:
            # The job runs again at the next interval; the records stay pending.
            log.exception("pipeline.failed")


def _header(raw: bytes) -> Header:
    doc = json.loads(raw)
    return Header(
        doc["type"], doc["device"], doc["seq"], doc["prev"], doc["time"], doc["body"]
    )


def _quarantine(row) -> tuple[str, str] | None:
    if row.status != "quarantined":
        return None
    return (
        row.reason or "quarantined",
        row.reason_detail or "held for review at the hub",
    )


def _ledger_values(row, result) -> dict:
    # An event recorded before keeps its first verdict; a refusal carries a code.
    refused = result.status == REFUSED or (result.status == ALREADY and result.code)
    return {
        "pos": row.pos,
        "ledger_status": "refused" if refused else "committed",
        "ledger_code": result.code,
        "ledger_detail": result.detail,
        "ledger_tx": result.tx_id,
        "ledger_block": result.block,
    }

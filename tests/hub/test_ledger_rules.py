"""The embedded ledger applies the journey rules to what the hub stored."""

from __future__ import annotations

import base64

from sqlalchemy import select

from hub import enrollment
from hub.db import Database
from hub.ledger.state import KeyringSalts
from hub.models import (
    CacaoBatch,
    LedgerEntry,
    LedgerState,
    LedgerStateHistory,
    Record,
)
from hub.pipeline import commit_pending, run_until_done
from hub.projections import rebuild
from tests.hub.helpers import coop_journey, frame, harvest
from tests.hub.test_http import app, client, enrolled, login, sync  # noqa: F401

OVERDRAWN = {"id": "LOT-2", "inputs": [{"purchase": "P-1", "mass_g": 40_000}]}


def ingest_and_commit(sessions, ingestor, keyring, chain) -> None:
    with sessions() as session:
        ingestor.ingest(session, chain.device, frame(chain.segment()))
    with sessions.begin() as session:
        while commit_pending(session, keyring):
            pass


def ledger_of(sessions, rid: str) -> tuple:
    with sessions() as session:
        row = session.scalar(select(Record).where(Record.id == rid))
        entry = session.get(LedgerEntry, rid)
    return row.status, row.ledger_status, row.ledger_code, entry


def test_overdrawn_lot_is_refused_with_its_code_and_kept(
    sessions, ingestor, keyring, tablet
):
    coop_journey(tablet)
    lot = tablet.add("lot", OVERDRAWN)

    ingest_and_commit(sessions, ingestor, keyring, tablet)
    status, ledger, code, entry = ledger_of(sessions, lot.id)
    with sessions() as session:
        projected = session.get(CacaoBatch, "LOT-2")

    assert (status, ledger, code) == ("stored", "refused", "mass-exceeded")
    assert (entry.status, entry.code) == ("refused", "mass-exceeded")
    assert projected is None


def test_quarantined_record_is_refused_and_the_chain_goes_on(
    sessions, ingestor, keyring, tablet
):
    coop_journey(tablet)
    bad = tablet.add("harvest", dict(harvest(9), mass_g=-5))
    good = tablet.add("harvest", dict(harvest(10), farmer="CI-SOU-0001"))

    ingest_and_commit(sessions, ingestor, keyring, tablet)

    assert ledger_of(sessions, bad.id)[:3] == (
        "quarantined",
        "refused",
        "schema-invalid",
    )
    assert ledger_of(sessions, good.id)[:3] == ("stored", "committed", None)


def test_revocation_reaches_the_ledger_after_the_devices_stored_records(
    sessions, ingestor, keyring, tablet
):
    tablet.add("farmer", {"id": "CI-SOU-0001", "name": "Aya"})
    with sessions() as session:
        ingestor.ingest(session, tablet.device, frame(tablet.segment()))
    with sessions.begin() as session:
        enrollment.revoke(session, tablet.device, "lost")

    with sessions.begin() as session:
        commit_pending(session, keyring)
    with sessions() as session:
        device = session.get(LedgerState, f"device/{tablet.device}").value
        first = session.scalar(select(Record.ledger_status))

    assert first == "committed"
    assert (device["status"], device["seq"]) == ("revoked", 1)


def test_salt_is_derived_from_the_hub_secret_not_stored(
    sessions, ingestor, keyring, tablet
):
    coop_journey(tablet)
    salt = base64.b64encode(KeyringSalts(keyring).salt("coop-soubre")).decode()

    ingest_and_commit(sessions, ingestor, keyring, tablet)
    with sessions() as session:
        stored = session.get(LedgerState, "pvt/coop-soubre/salt").value
        values = session.scalars(select(LedgerState.value)).all()
        history = session.scalars(select(LedgerStateHistory.value)).all()

    assert set(stored) == {"sha256"}
    assert salt not in repr(values + history)


def test_rebuilt_projections_match_the_first_ones(
    db_url, sessions, ingestor, keyring, tablet
):
    coop_journey(tablet)
    tablet.add("lot", OVERDRAWN)
    ingest_and_commit(sessions, ingestor, keyring, tablet)
    with sessions() as session:
        before = session.get(CacaoBatch, "LOT-1").remaining_g

    with sessions.begin() as session:
        rebuild(session)
    database = Database(db_url)
    run_until_done(database, keyring)
    database.engine.dispose()
    with sessions() as session:
        after = session.get(CacaoBatch, "LOT-1").remaining_g
        lot2 = session.get(CacaoBatch, "LOT-2")

    assert before == after == 450_000
    assert lot2 is None


def test_review_page_shows_the_refusal_code(app, client):  # noqa: F811
    chain, _, _ = enrolled(app, client)
    coop_journey(chain)
    chain.add("lot", OVERDRAWN)
    sync(client, chain)
    login(client, "admin")

    page = client.get("/review")

    assert page.status_code == 200
    assert "mass-exceeded" in page.text
    assert "P-1" in page.text

"""Ledger commit and projections after ingest: the journey from farm to sale."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from hub.ledger.embedded import EmbeddedLedger, ProofInvalid, verify_chain, verify_proof
from hub.models import CacaoBatch, LedgerEntry, Product, Purchase, Record, TraceEvent
from hub.pipeline import commit_pending
from tests.hub.helpers import coop_journey, factory_journey, frame


@pytest.fixture
def journey(ingestor, sessions, keyring, tablet, factory):
    coop_journey(tablet)
    # The rules let only the owner process a lot: the cooperative hands it over.
    tablet.add("transfer", {"asset": "LOT-1", "to_org": "choco-abidjan"})
    factory_journey(factory)
    with sessions() as session:
        ingestor.ingest(
            session, tablet.device, frame(tablet.segment(), factory.segment())
        )
    with sessions.begin() as session:
        commit_pending(session, keyring)
    return tablet, factory


def test_every_stored_record_is_committed(journey, sessions):
    with sessions() as session:
        states = session.scalars(select(Record.ledger_status)).all()

    assert states == ["committed"] * 11


def test_projections_follow_the_journey(journey, sessions):
    with sessions() as session:
        lot = session.get(CacaoBatch, "LOT-1")
        product = session.get(Product, "BAR-2026-001")
        purchase = session.get(Purchase, "P-1")
        events = session.scalars(select(TraceEvent.event).order_by(TraceEvent.id)).all()

    assert (lot.quantity_g, lot.remaining_g) == (450_000, 49_000)
    assert lot.certification == "Rainforest Alliance"
    assert str(lot.harvest_date) == "2026-10-30"
    assert purchase.remaining_g == 30_000
    assert (product.units, product.units_sold) == (4000, 1200)
    assert events == [
        "Harvested",
        "Purchased",
        "Dried",
        "Bagged",
        "Shipped",
        "Transferred",
        "Received",
        "Processed",
        "Sold",
    ]


def test_ledger_holds_no_personal_data_or_price(journey, sessions):
    with sessions() as session:
        events = json.dumps(session.scalars(select(LedgerEntry.event)).all())

    assert "Aya" not in events
    assert "CI-SOU-0001" not in events
    assert "Méagui" not in events and "+225" not in events
    assert '"price"' not in events and "Shop Plateau" not in events
    assert "farmer_pseudonym" in events


def test_proof_verifies_offline_against_the_head(journey, sessions):
    tablet, _ = journey
    with sessions() as session:
        ledger = EmbeddedLedger(session)
        proof = ledger.proof(tablet.records[5].id).to_json()
        head = ledger.head().header_hash

    assert verify_proof(json.loads(json.dumps(proof)), head) == head


def test_proof_of_another_record_fails(journey, sessions):
    tablet, _ = journey
    with sessions() as session:
        proof = EmbeddedLedger(session).proof(tablet.records[5].id).to_json()
    proof["record_id"] = tablet.records[4].id

    with pytest.raises(ProofInvalid, match="Merkle path"):
        verify_proof(proof)


def test_tampered_entry_is_detected(journey, sessions):
    tablet, _ = journey
    with sessions.begin() as session:
        session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.record_id == tablet.records[2].id)
            .values(event={"type": "harvest", "mass_g": 1})
        )

    with sessions() as session:
        faults = verify_chain(session)

    assert faults == ["block 0: entries do not match the entries hash"]


def test_intact_chain_verifies(journey, sessions, ingestor, tablet, keyring):
    tablet.harvests(3)
    with sessions() as session:
        ingestor.ingest(session, tablet.device, frame(tablet.segment(8, 10)))
    with sessions.begin() as session:
        commit_pending(session, keyring)

    with sessions() as session:
        faults = verify_chain(session)
        blocks = EmbeddedLedger(session).head().number

    assert faults == []
    assert blocks == 1


def test_resubmitting_is_already_recorded(journey, sessions, keyring):
    with sessions.begin() as session:
        session.execute(update(Record).values(ledger_status="pending"))
        commit_pending(session, keyring)

    with sessions() as session:
        blocks = EmbeddedLedger(session).head().number
        tx_count = len(session.scalars(select(LedgerEntry)).all())

    assert (blocks, tx_count) == (0, 11)

"""Ingest rules of docs/sync-protocol.md, one behaviour per test."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from hub import enrollment
from hub.models import Device, Record, Rejection
from shared.keys import DeviceKey, verify
from shared.record import SignedRecord, sign_record
from shared.wire import Segment
from tests.hub.helpers import TIME, Chain, frame, harvest


def ingest(ingestor, sessions, sender, *segments):
    with sessions() as session:
        return ingestor.ingest(session, sender.device, frame(*segments))


def statuses(outcome):
    return [(r.seq, r.status, r.code) for r in outcome.results]


def stored(sessions):
    with sessions() as session:
        rows = session.execute(
            select(Record.device_id, Record.seq, Record.raw, Record.status)
        )
        return sorted(tuple(r) for r in rows)


def test_good_batch_is_accepted_and_stored_verbatim(ingestor, sessions, tablet):
    tablet.harvests(5)

    outcome = ingest(ingestor, sessions, tablet, tablet.segment())

    assert [r.status for r in outcome.results] == ["accepted"] * 5
    assert outcome.high_water == {tablet.device: {"seq": 5, "id": tablet.records[4].id}}
    assert [row[2] for row in stored(sessions)] == [r.raw for r in tablet.records]


def test_receipt_is_signed_by_the_hub_over_the_high_water(
    ingestor, sessions, tablet, keyring
):
    tablet.harvests(2)

    outcome = ingest(ingestor, sessions, tablet, tablet.segment())

    payload = base64.b64decode(outcome.receipt["payload"])
    signature = base64.b64decode(outcome.receipt["signature"])
    assert verify(keyring.hub_key.public_raw, signature, payload)
    assert json.loads(payload)["high_water"][tablet.device]["seq"] == 2


def test_receipt_signs_each_rejected_and_quarantined_verdict(
    ingestor, sessions, tablet, keyring
):
    odd = tablet.add("harvest", dict(harvest(1), mass_g=-5))
    good = tablet.harvests(2)
    forged = SignedRecord(good[1].raw, bytes(64))
    seg = Segment(tablet.device, 1, [odd, good[0], forged])

    outcome = ingest(ingestor, sessions, tablet, seg)

    payload = base64.b64decode(outcome.receipt["payload"])
    signature = base64.b64decode(outcome.receipt["signature"])
    assert verify(keyring.hub_key.public_raw, signature, payload)
    signed = json.loads(payload)
    assert signed["verdicts"] == [
        {
            "code": "schema-invalid",
            "device": tablet.device,
            "id": odd.id,
            "seq": 1,
            "status": "quarantined",
        },
        {
            "code": "bad-signature",
            "device": tablet.device,
            "id": forged.id,
            "seq": 3,
            "status": "rejected",
        },
    ]
    assert set(signed) >= {"batch", "frame_sha256", "high_water", "hub", "time"}


def test_resend_after_a_lost_response_is_harmless(ingestor, sessions, tablet):
    tablet.harvests(3)
    ingest(ingestor, sessions, tablet, tablet.segment())
    before = stored(sessions)
    tablet.harvests(2)

    outcome = ingest(ingestor, sessions, tablet, tablet.segment())

    assert [r.status for r in outcome.results] == ["duplicate"] * 3 + ["accepted"] * 2
    assert stored(sessions)[:3] == before
    assert outcome.high_water[tablet.device]["seq"] == 5


def test_altered_payload_is_rejected_and_the_rest_still_lands(
    ingestor, sessions, tablet
):
    tablet.harvests(3)
    good = tablet.records
    forged = SignedRecord(
        good[1].raw.replace(b'"mass_g":1002', b'"mass_g":9002'), good[1].signature
    )
    seg = Segment(tablet.device, 1, [good[0], forged, good[2]])

    outcome = ingest(ingestor, sessions, tablet, seg)

    assert statuses(outcome) == [
        (1, "accepted", None),
        (2, "rejected", "bad-signature"),
        (3, "rejected", "chain-gap"),
    ]
    assert len(stored(sessions)) == 1


def test_altered_signature_is_rejected_as_evidence(ingestor, sessions, tablet):
    rec = tablet.harvests(1)[0]
    bad = SignedRecord(rec.raw, bytes(64))

    outcome = ingest(ingestor, sessions, tablet, Segment(tablet.device, 1, [bad]))

    assert statuses(outcome) == [(1, "rejected", "bad-signature")]
    with sessions() as session:
        evidence = session.scalars(select(Rejection)).one()
    assert (evidence.raw, evidence.signature, evidence.code) == (
        rec.raw,
        bytes(64),
        "bad-signature",
    )


def test_unenrolled_device_is_rejected(ingestor, sessions, tablet):
    stranger = Chain.seeded(9)
    stranger.harvests(1)

    outcome = ingest(ingestor, sessions, tablet, stranger.segment())

    assert statuses(outcome) == [(1, "rejected", "device-unknown")]


def test_revoked_device_is_rejected(ingestor, sessions, tablet):
    tablet.harvests(1)
    with sessions.begin() as session:
        enrollment.revoke(session, tablet.device, "tablet stolen")

    outcome = ingest(ingestor, sessions, tablet, tablet.segment())

    assert statuses(outcome) == [(1, "rejected", "device-revoked")]


def test_gap_is_rejected_until_the_missing_record_arrives(ingestor, sessions, tablet):
    tablet.harvests(4)
    ingest(ingestor, sessions, tablet, tablet.segment(1, 2))

    gap = ingest(ingestor, sessions, tablet, tablet.segment(4, 4))
    filled = ingest(ingestor, sessions, tablet, tablet.segment(3, 4))

    assert statuses(gap) == [(4, "rejected", "chain-gap")]
    assert [r.status for r in filled.results] == ["accepted", "accepted"]


def test_fork_is_rejected_flags_the_device_and_keeps_the_original(
    ingestor, sessions, tablet
):
    tablet.harvests(2)
    ingest(ingestor, sessions, tablet, tablet.segment())
    before = stored(sessions)
    other = sign_record(
        tablet.key, "harvest", 2, tablet.records[0].id, harvest(77), TIME
    )

    outcome = ingest(ingestor, sessions, tablet, Segment(tablet.device, 2, [other]))

    assert statuses(outcome) == [(2, "rejected", "chain-fork")]
    assert stored(sessions) == before
    with sessions() as session:
        assert session.get(Device, tablet.device).status == "flagged"


def test_flagged_device_records_are_quarantined_not_lost(ingestor, sessions, tablet):
    tablet.harvests(2)
    ingest(ingestor, sessions, tablet, tablet.segment(1, 1))
    fork = sign_record(tablet.key, "harvest", 1, "0" * 64, harvest(99), TIME)
    ingest(ingestor, sessions, tablet, Segment(tablet.device, 1, [fork]))

    outcome = ingest(ingestor, sessions, tablet, tablet.segment(2, 2))

    assert statuses(outcome) == [(2, "quarantined", "device-flagged")]


def test_broken_link_is_rejected(ingestor, sessions, tablet):
    tablet.harvests(1)
    ingest(ingestor, sessions, tablet, tablet.segment())
    wrong_prev = sign_record(tablet.key, "harvest", 2, "ab" * 32, harvest(2), TIME)

    outcome = ingest(
        ingestor, sessions, tablet, Segment(tablet.device, 2, [wrong_prev])
    )

    assert statuses(outcome) == [(2, "rejected", "chain-broken")]


def test_schema_failure_is_quarantined_and_the_chain_advances(
    ingestor, sessions, tablet
):
    tablet.add("harvest", dict(harvest(1), mass_g=-5))
    tablet.harvests(1)

    outcome = ingest(ingestor, sessions, tablet, tablet.segment())

    assert statuses(outcome)[0][:2] == (1, "quarantined")
    assert outcome.results[0].code == "schema-invalid"
    assert statuses(outcome)[1] == (2, "accepted", None)
    assert [row[3] for row in stored(sessions)] == ["quarantined", "stored"]


def test_non_canonical_bytes_are_malformed(ingestor, sessions, tablet):
    rec = tablet.harvests(1)[0]
    pretty = json.dumps(json.loads(rec.raw), indent=1).encode()
    resigned = SignedRecord(pretty, tablet.key.sign(pretty))

    outcome = ingest(ingestor, sessions, tablet, Segment(tablet.device, 1, [resigned]))

    assert statuses(outcome) == [(1, "rejected", "malformed-record")]


def test_floats_take_the_full_canonical_check(ingestor, sessions, tablet):
    plot = {
        "id": "CI-SOU-0001-P1",
        "farmer": "CI-SOU-0001",
        "geometry": {"type": "Point", "coordinates": [-6.6, 5.78]},
        "gps_accuracy_m": 4.5,
    }
    tablet.add("plot", plot)
    bad = tablet.records[0].raw.replace(b"4.5", b"4.50")
    doctored = SignedRecord(bad, tablet.key.sign(bad))

    good = ingest(ingestor, sessions, tablet, tablet.segment())
    again = ingest(ingestor, sessions, tablet, Segment(tablet.device, 1, [doctored]))

    assert statuses(good) == [(1, "accepted", None)]
    assert statuses(again) == [(1, "rejected", "malformed-record")]


def test_gateway_editing_a_tablet_record_is_caught(ingestor, sessions, tablet, gateway):
    rec = tablet.harvests(1)[0]
    edited = rec.raw.replace(b'"mass_g":1001', b'"mass_g":5001')
    kept_sig = SignedRecord(edited, rec.signature)
    own_sig = SignedRecord(edited, gateway.key.sign(edited))

    first = ingest(ingestor, sessions, gateway, Segment(tablet.device, 1, [kept_sig]))
    second = ingest(ingestor, sessions, gateway, Segment(tablet.device, 1, [own_sig]))
    third = ingest(ingestor, sessions, gateway, Segment(gateway.device, 1, [rec]))

    assert statuses(first) == [(1, "rejected", "bad-signature")]
    assert statuses(second) == [(1, "rejected", "bad-signature")]
    assert statuses(third) == [(1, "rejected", "device-mismatch")]
    assert stored(sessions) == []


def test_gateway_relays_records_of_several_tablets(ingestor, sessions, tablet, gateway):
    tablet.harvests(3)
    gateway.harvests(2)

    outcome = ingest(ingestor, sessions, gateway, tablet.segment(), gateway.segment())

    assert [r.status for r in outcome.results] == ["accepted"] * 5
    assert set(outcome.high_water) == {tablet.device, gateway.device}


def test_tamper_attempts_change_nothing_accepted(ingestor, sessions, tablet):
    tablet.harvests(3)
    ingest(ingestor, sessions, tablet, tablet.segment())
    before = stored(sessions)
    replay = tablet.segment()
    fork = sign_record(tablet.key, "harvest", 3, tablet.records[1].id, harvest(8), TIME)

    ingest(ingestor, sessions, tablet, replay)
    ingest(ingestor, sessions, tablet, Segment(tablet.device, 3, [fork]))

    assert stored(sessions) == before
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Rejection)) == 1


@pytest.mark.parametrize("count", [1, 250])
def test_batch_sizes_land_whole(ingestor, sessions, tablet, count):
    tablet.harvests(count)

    outcome = ingest(ingestor, sessions, tablet, tablet.segment())

    assert outcome.counts()["accepted"] == count
    assert len(stored(sessions)) == count


def test_new_key_cannot_claim_an_enrolled_device_id(ingestor, sessions, tablet):
    impostor = DeviceKey.from_seed(bytes([7]) * 32)
    doc_seg = Segment(tablet.device, 1, [])
    rec = sign_record(impostor, "harvest", 1, "0" * 64, harvest(1), TIME)
    seg = Segment(impostor.device_id, 1, [rec])

    outcome = ingest(ingestor, sessions, tablet, doc_seg, seg)

    assert statuses(outcome) == [(1, "rejected", "device-unknown")]


def test_unsorted_body_keys_are_malformed(ingestor, sessions, tablet):
    rec = tablet.harvests(1)[0]
    doc = json.loads(rec.raw)
    doc["body"] = dict(reversed(list(doc["body"].items())))
    unsorted = json.dumps(doc, separators=(",", ":")).encode()
    resigned = SignedRecord(unsorted, tablet.key.sign(unsorted))

    outcome = ingest(ingestor, sessions, tablet, Segment(tablet.device, 1, [resigned]))

    assert statuses(outcome) == [(1, "rejected", "malformed-record")]
    assert "canonical" in outcome.results[0].detail


def test_stored_row_holds_every_column_of_the_record(ingestor, sessions, tablet):
    tablet.add("harvest", dict(harvest(1), harvested_on="2026-13-40"))
    tablet.harvests(1)

    outcome = ingest(ingestor, sessions, tablet, tablet.segment())

    with sessions() as session:
        rows = session.scalars(select(Record).order_by(Record.seq)).all()
    quarantined, stored_row = rows
    assert quarantined.reason == "schema-invalid"
    assert quarantined.reason_detail == outcome.results[0].detail
    assert "\\d" in quarantined.reason_detail
    assert (stored_row.id, stored_row.signature) == (
        tablet.records[1].id,
        tablet.records[1].signature,
    )
    assert stored_row.device_time == TIME
    assert stored_row.batch_id == outcome.batch_id
    assert (stored_row.ledger_status, stored_row.projected) == ("pending", False)
    assert stored_row.received_at.utcoffset().total_seconds() == 0
    assert quarantined.pos < stored_row.pos


def test_concurrent_batches_all_land(ingestor, sessions, tablet, gateway):
    tablet.harvests(40)
    gateway.harvests(40)
    batches = [
        (chain, chain.segment(first, first + 9))
        for first in (1, 11, 21, 31)
        for chain in (tablet, gateway)
    ]

    def send(chain):
        mine = [seg for owner, seg in batches if owner is chain]
        return [ingest(ingestor, sessions, chain, seg) for seg in mine]

    with ThreadPoolExecutor(2) as pool:
        outcomes = [o for done in pool.map(send, (tablet, gateway)) for o in done]

    assert {r.status for o in outcomes for r in o.results} == {"accepted"}
    assert len(stored(sessions)) == 80

import hashlib
import socket

import pytest
from sqlalchemy import select

from edge.enroll import EnrollmentFailed, enroll
from edge.models import (
    Farmer,
    JournalRecord,
    PeerDevice,
    Receipt,
    RecordState,
    SyncState,
)
from edge.sync import Item, plan_batches, run_sync
from shared.keys import DeviceKey
from shared.record import GENESIS, sign_record

FARMERS = [{"id": f"F-{n}", "name": f"Farmer {n}"} for n in range(1, 8)]


def states(ctx):
    with ctx.transaction() as session:
        rows = session.scalars(select(JournalRecord).order_by(JournalRecord.seq)).all()
        return [(r.seq, r.state, r.state_code) for r in rows]


def test_enrollment_stores_hub_key_org_and_role(enrolled, hub):
    with enrolled.transaction() as session:
        enrollment = enrolled.enrollment(session)

    assert enrollment.org == "coop-demo"
    assert enrollment.role == "cooperative"
    assert enrollment.hub_key == hub.key.public_raw


def test_used_token_is_refused(enrolled, hub):
    with pytest.raises(EnrollmentFailed, match="enrollment-token-invalid"):
        enroll(enrolled, hub.url, "good-token", "tablet")


def test_sync_delivers_records_verbatim_and_marks_them_acknowledged(enrolled, hub):
    for body in FARMERS:
        enrolled.append("farmer", body)

    report = run_sync(enrolled)

    with enrolled.transaction() as session:
        rows = session.scalars(select(JournalRecord).order_by(JournalRecord.seq)).all()
        receipts = session.scalars(select(Receipt)).all()
        status = enrolled.sync_status(session)
    assert report.ok, report.summary()
    assert [hub.stored[(enrolled.key.device_id, r.seq)][0] for r in rows] == [
        r.raw for r in rows
    ]
    assert {r.state for r in rows} == {RecordState.ACKNOWLEDGED}
    assert receipts[0].signer == "hub"
    assert status.state == SyncState.SUCCEEDED and status.attempt == 0


def test_reference_data_is_merged_for_the_forms(enrolled, hub):
    run_sync(enrolled)

    with enrolled.transaction() as session:
        farmer = session.get(Farmer, "HUB-F-1")
        peer = session.get(PeerDevice, enrolled.key.device_id)
    assert farmer.name == "Kouame Yao" and not farmer.local
    assert peer.public_key == enrolled.key.public_raw


def test_small_batches_still_deliver_everything(ctx, hub):
    ctx.config = ctx.config.but(batch_records=2)
    enroll(ctx, hub.url, "good-token", "tablet")
    for body in FARMERS:
        ctx.append("farmer", body)

    report = run_sync(ctx)

    assert report.batches == 4
    assert {state for _seq, state, _code in states(ctx)} == {RecordState.ACKNOWLEDGED}


def test_rejected_records_keep_the_hubs_reason(enrolled, hub):
    for body in FARMERS[:3]:
        enrolled.append("farmer", body)
    hub.reject_seqs = {3}

    run_sync(enrolled)

    assert states(enrolled) == [
        (1, RecordState.ACKNOWLEDGED, None),
        (2, RecordState.ACKNOWLEDGED, None),
        (3, RecordState.REJECTED, "chain-broken"),
    ]


def test_a_forged_receipt_acknowledges_nothing(enrolled, hub):
    enrolled.append("farmer", FARMERS[0])
    hub.forge_receipt = True

    report = run_sync(enrolled)

    assert report.state == SyncState.FAILED
    assert "receipt" in report.error
    assert states(enrolled) == [(1, RecordState.SENT, None)]


def test_unreachable_hub_interrupts_and_records_stay_outstanding(enrolled):
    enrolled.append("farmer", FARMERS[0])
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    enrolled.config = enrolled.config.but(upstream=f"http://127.0.0.1:{port}")

    report = run_sync(enrolled)

    with enrolled.transaction() as session:
        status = enrolled.sync_status(session)
    assert report.state == SyncState.INTERRUPTED
    assert status.attempt == 1 and "cannot connect" in status.last_error
    assert f"127.0.0.1:{port} (Connection refused)" in status.last_error
    assert "HTTPConnectionPool" not in status.last_error
    assert states(enrolled)[0][1] in (RecordState.PENDING, RecordState.SENT)


def test_resend_after_a_lost_answer_is_a_duplicate_not_a_fork(enrolled, hub):
    enrolled.append("farmer", FARMERS[0])
    run_sync(enrolled)
    with enrolled.transaction() as session:
        session.get(JournalRecord, 1).state = RecordState.SENT

    report = run_sync(enrolled)

    assert report.ok
    assert states(enrolled) == [(1, RecordState.ACKNOWLEDGED, None)]


def test_attachments_go_up_before_the_records(enrolled, hub, tmp_path):
    photo = b"\xff\xd8 a weighbridge ticket"
    sha = hashlib.sha256(photo).hexdigest()
    enrolled.add_attachment("ticket.jpg", "image/jpeg", photo)

    report = run_sync(enrolled)

    assert report.attachments == 1
    assert hub.attachments[sha] == photo


def test_batches_respect_record_and_byte_limits():
    key = DeviceKey.from_seed(b"\x01" * 32)
    items, prev = [], GENESIS
    for seq in range(1, 11):
        rec = sign_record(
            key, "farmer", seq, prev, {"id": f"F-{seq}", "name": "x" * 100}
        )
        items.append(Item(key.device_id, seq, rec))
        prev = rec.id

    by_count = plan_batches(items, max_records=4, max_bytes=10**6)
    by_bytes = plan_batches(items, max_records=100, max_bytes=items[0].size * 3)

    assert [len(b[0].records) for b in by_count] == [4, 4, 2]
    assert [b[0].first_seq for b in by_bytes] == [1, 4, 7, 10]

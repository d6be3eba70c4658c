import pytest
import requests
from sqlalchemy import select

from edge.app import create_app
from edge.config import EdgeConfig
from edge.context import EdgeContext, init_device
from edge.enroll import enroll
from edge.models import (
    Farmer,
    JournalRecord,
    PeerDevice,
    Receipt,
    RecordState,
    RelayRecord,
)
from edge.sync import (
    BATCHES_PATH,
    SyncAuthNeeded,
    Upstream,
    merge_reference,
    run_sync,
)
from shared.record import SignedRecord
from shared.wire import MEDIA_TYPE, Segment, encode_batch
from tests.edge.fakehub import ServerThread


@pytest.fixture
def gateway(tmp_path, hub):
    """A second edge enrolled as the cooperative's gateway, serving on loopback."""
    config = EdgeConfig(home=tmp_path / "gateway", scheduler=False, testing=True)
    init_device(config, None, "coop gateway")
    ctx = EdgeContext.open(config)
    hub.tokens.add("gateway-token")
    enroll(ctx, hub.url, "gateway-token", "gateway")
    app = create_app(config)
    with ServerThread(app) as server:
        yield app.extensions["cocoa_edge"], server.url
    app.extensions["cocoa_edge"].engine.dispose()
    ctx.engine.dispose()


@pytest.fixture
def tablet(enrolled, gateway):
    """The test tablet, known to the gateway and syncing through it."""
    gw, url = gateway
    run_sync(gw)  # the gateway learns the organisation's devices from the hub
    enrolled.config = enrolled.config.but(upstream=url)
    return enrolled


def relayed(ctx):
    with ctx.transaction() as session:
        rows = session.scalars(select(RelayRecord).order_by(RelayRecord.seq)).all()
        return [(r.raw, r.signature, r.state) for r in rows]


def test_gateway_relays_a_tablets_records_byte_for_byte(tablet, gateway, hub):
    gw, _url = gateway
    tablet.append("farmer", {"id": "F-1", "name": "N'Guessan Akissi Éléonore"})
    tablet.append("farmer", {"id": "F-2", "name": '<b>"Yao"</b>'})
    with tablet.transaction() as session:
        signed = [(r.raw, r.signature) for r in session.scalars(select(JournalRecord))]

    to_gateway = run_sync(tablet)
    at_gateway = relayed(gw)
    to_hub = run_sync(gw)

    at_hub = [hub.stored[(tablet.key.device_id, seq)] for seq in (1, 2)]
    assert to_gateway.ok and to_hub.ok, (to_gateway.summary(), to_hub.summary())
    assert [(raw, sig) for raw, sig, _ in at_gateway] == signed
    assert at_hub == signed
    assert {state for *_, state in relayed(gw)} == {RecordState.ACKNOWLEDGED}


def states(ctx):
    with ctx.transaction() as session:
        rows = session.scalars(select(JournalRecord).order_by(JournalRecord.seq))
        return [(r.seq, r.state.value, r.state_code) for r in rows]


def test_the_gateways_receipt_leaves_records_relayed_not_acknowledged(tablet, gateway):
    tablet.append("farmer", {"id": "F-1", "name": "Ama"})

    report = run_sync(tablet)

    assert report.ok, report.summary()
    assert report.relayed == 1 and report.acknowledged == 0
    assert states(tablet) == [(1, "relayed", None)]


def test_the_next_sync_acknowledges_what_the_hub_has_signed_for(tablet, gateway, hub):
    gw, _url = gateway
    for n in (1, 2, 3):
        tablet.append("farmer", {"id": f"F-{n}", "name": "Ama"})
    run_sync(tablet)
    run_sync(gw)

    report = run_sync(tablet)

    assert report.ok, report.summary()
    assert report.sent == 0 and report.acknowledged == 3
    assert states(tablet) == [(n, "acknowledged", None) for n in (1, 2, 3)]


def test_a_record_the_hub_rejects_is_rejected_on_the_tablet_with_the_reason(
    tablet, gateway, hub
):
    gw, _url = gateway
    for n in (1, 2):
        tablet.append("farmer", {"id": f"F-{n}", "name": "Ama"})
    run_sync(tablet)
    hub.reject_seqs.add(2)
    run_sync(gw)

    report = run_sync(tablet)

    assert report.rejected == 1 and report.acknowledged == 1
    assert states(tablet) == [
        (1, "acknowledged", None),
        (2, "rejected", "chain-broken"),
    ]


def test_a_verdict_the_hubs_receipt_contradicts_is_not_believed(tablet, gateway, hub):
    gw, _url = gateway
    tablet.append("farmer", {"id": "F-1", "name": "Ama"})
    run_sync(tablet)
    run_sync(gw)
    with gw.transaction() as session:
        row = session.get(RelayRecord, (tablet.key.device_id, 1))
        row.state, row.state_code = RecordState.REJECTED, "bad-signature"

    run_sync(tablet)

    # The hub's signed high water says it holds seq 1: the gateway's claim is false.
    assert states(tablet) == [(1, "acknowledged", None)]


def test_a_verdict_whose_code_the_gateway_altered_is_ignored(
    tablet, gateway, hub, caplog
):
    gw, _url = gateway
    for n in (1, 2):
        tablet.append("farmer", {"id": f"F-{n}", "name": "Ama"})
    run_sync(tablet)
    hub.reject_seqs.add(2)
    run_sync(gw)
    with gw.transaction() as session:
        ruled = session.get(RelayRecord, (tablet.key.device_id, 2))
        ruled.state_code = "device-revoked"

    run_sync(tablet)

    # The hub signed chain-broken for seq 2; the gateway's other code is not its word.
    assert states(tablet) == [(1, "acknowledged", None), (2, "relayed", None)]
    ignored = [r for r in caplog.records if r.msg == "sync.verdict-contradicts-receipt"]
    assert [(r.seq, r.code) for r in ignored] == [(2, "device-revoked")]


def test_a_rejection_the_gateway_invents_is_ignored(tablet, gateway, hub, caplog):
    gw, _url = gateway
    tablet.append("farmer", {"id": "F-1", "name": "Ama"})
    run_sync(tablet)
    run_sync(gw)
    tablet.append("farmer", {"id": "F-2", "name": "Akissi"})
    run_sync(tablet)  # the gateway holds seq 2 and never forwards it
    with gw.transaction() as session:
        first = session.get(RelayRecord, (tablet.key.device_id, 1))
        held = session.get(RelayRecord, (tablet.key.device_id, 2))
        held.state, held.state_code = RecordState.REJECTED, "bad-signature"
        held.upstream_batch = first.upstream_batch  # a real, hub-signed batch

    run_sync(tablet)

    # Seq 2 lies above that receipt's high water, but the receipt signs no verdict.
    assert states(tablet) == [(1, "acknowledged", None), (2, "relayed", None)]
    ignored = [r for r in caplog.records if r.msg == "sync.verdict-contradicts-receipt"]
    assert [(r.seq, r.receipt_counted) for r in ignored] == [(2, True)]


def test_a_receipt_the_hub_did_not_sign_settles_nothing(tablet, gateway, hub):
    gw, _url = gateway
    tablet.append("farmer", {"id": "F-1", "name": "Ama"})
    run_sync(tablet)
    hub.forge_receipt = True
    run_sync(gw)
    hub.forge_receipt = False
    with gw.transaction() as session:
        for receipt in session.scalars(select(Receipt)):
            receipt.signer = "hub"  # a gateway passing off another key's receipt

    run_sync(tablet)

    assert states(tablet) == [(1, "relayed", None)]


def test_relayed_records_go_to_the_hub_again_when_the_tablet_syncs_there(
    tablet, gateway, hub
):
    tablet.append("farmer", {"id": "F-1", "name": "Ama"})
    run_sync(tablet)  # the gateway holds seq 1 and never forwards it
    tablet.append("farmer", {"id": "F-2", "name": "Akissi"})
    tablet.config = tablet.config.but(upstream=hub.url)

    report = run_sync(tablet)

    assert report.ok, report.summary()
    assert states(tablet) == [(1, "acknowledged", None), (2, "acknowledged", None)]
    assert sorted(hub.stored) == [(tablet.key.device_id, 1), (tablet.key.device_id, 2)]


def test_gateway_refuses_a_batch_from_a_tablet_the_hub_revoked(tablet, gateway, hub):
    gw, url = gateway
    hub.revoked.add(tablet.key.device_id)
    run_sync(gw)  # the hub's reference rows say "status": "revoked"
    row = tablet.append("farmer", {"id": "F-1", "name": "Ama"})
    frame = encode_batch(
        [Segment(tablet.key.device_id, 1, [SignedRecord(row.raw, row.signature)])]
    )
    upstream = Upstream(tablet, url, requests.Session())

    with pytest.raises(SyncAuthNeeded, match="device-revoked"):
        upstream.call("POST", BATCHES_PATH, frame, {"Content-Type": MEDIA_TYPE})

    assert relayed(gw) == []


@pytest.mark.parametrize(
    "row", [{"revoked": True}, {"status": "revoked"}], ids=["revoked", "status"]
)
def test_either_spelling_of_a_revocation_is_understood(ctx, row):
    device = {"id": "d-other", "public_key": "AAAA", "kind": "tablet", **row}

    with ctx.transaction() as session:
        merge_reference(session, {"devices": [device]}, ctx.key.device_id)

    with ctx.transaction() as session:
        assert session.get(PeerDevice, "d-other").revoked is True


def test_other_tablets_see_farmers_through_the_gateway(tablet, gateway):
    gw, _url = gateway
    tablet.append("farmer", {"id": "F-9", "name": "Akissi"})

    run_sync(tablet)

    with gw.transaction() as session:
        farmer = session.get(Farmer, "F-9")
    assert farmer.name == "Akissi" and not farmer.local


def test_gateway_refuses_a_device_it_does_not_know(ctx, gateway, tmp_path):
    _gw, url = gateway
    stranger = EdgeContext.open(ctx.config)
    stranger.config = stranger.config.but(upstream=url)
    from edge.models import Enrollment

    with stranger.transaction() as session:
        session.add(
            Enrollment(
                device_id=ctx.key.device_id,
                kind="tablet",
                org="x",
                role="cooperative",
                hub_url=url,
                hub_key=b"\0" * 32,
            )
        )
    stranger.append("farmer", {"id": "F-1", "name": "Ama"})

    report = run_sync(stranger)

    assert report.state.value == "auth-needed"
    assert "device-unknown" in report.error

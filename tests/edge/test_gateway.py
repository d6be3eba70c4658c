import pytest
from sqlalchemy import select

from edge.app import create_app
from edge.config import EdgeConfig
from edge.context import EdgeContext, init_device
from edge.enroll import enroll
from edge.models import Farmer, JournalRecord, RecordState, RelayRecord
from edge.sync import run_sync
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


def test_tablet_accepts_the_gateways_receipt(tablet, gateway):
    tablet.append("farmer", {"id": "F-1", "name": "Ama"})

    report = run_sync(tablet)

    with tablet.transaction() as session:
        row = session.get(JournalRecord, 1)
    assert report.ok
    assert row.state == RecordState.ACKNOWLEDGED


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

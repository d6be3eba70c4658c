"""Tablet → gateway → hub → manufacturer, every part a real process on loopback.

One module-scoped flow builds the journey (it takes most of a minute); the tests
below each check one promise of it. What the flow sees on the way (the gateway's
failed sync while the hub is down) is kept in `Journey` for the tests to read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.harness import PASSWORD, Edge, Hub, Processes
from tests.support import s3
from tests.support.servers import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.s3]

SAMPLE = REPO_ROOT / "edge" / "sample"
CERTIFICATE = b"%PDF-1.4\n% Fairtrade certificate DEMO-0001, season 2026\n%%EOF\n"
PRODUCT = "BAR-E2E-001"


@dataclass
class Journey:
    """The running hub and edges after the flow, and what the flow observed."""

    hub: Hub
    gateway: Edge
    tablet: Edge
    bucket: str
    s3_server: s3.S3Server
    certificate_sha256: str
    lot_id: str = ""
    shipment_id: str = ""
    offline_sync: object = None
    relay_while_offline: list = field(default_factory=list)
    tablet_after_first_sync: list = field(default_factory=list)
    second_tablet_sync: object = None
    api_answers: dict = field(default_factory=dict)
    token: str = ""


@pytest.fixture(scope="module")
def journey(module_db, s3_server, tmp_path_factory) -> Journey:
    root = tmp_path_factory.mktemp("journey")
    processes = Processes()
    with s3.fresh_bucket(s3_server) as bucket:
        hub = Hub(
            root / "hub",
            module_db,
            extra_env={**s3_server.env(), "COCOA_HUB_BLOBS": f"s3://{bucket}"},
        )
        hub.home.mkdir()
        try:
            yield _run_journey(hub, root, processes, bucket, s3_server)
        finally:
            processes.stop_all()


def _run_journey(hub: Hub, root: Path, processes, bucket, s3_server) -> Journey:
    hub.setup()
    hub.start(processes)
    gateway = Edge(root / "gateway", "Soubré gateway").init()
    gateway.enroll(hub.url, hub.enroll_token(), kind="gateway")
    gateway.serve(processes)
    tablet = Edge(root / "tablet", "Soubré tablet 1").init()
    # Enrolled through the gateway, which passes the token on and names itself.
    tablet.enroll(gateway.url, hub.enroll_token())
    _ok(gateway.sync())  # the gateway learns the tablet's key from the hub

    hub.stop()
    cert = root / "fairtrade-DEMO-0001.pdf"
    cert.write_bytes(CERTIFICATE)
    journey = Journey(
        hub, gateway, tablet, bucket, s3_server, hashlib.sha256(CERTIFICATE).hexdigest()
    )
    _record_season(journey, cert)
    _ok(tablet.sync(gateway.url))
    journey.tablet_after_first_sync = tablet.journal()
    journey.offline_sync = gateway.sync()
    journey.relay_while_offline = gateway.rows(
        "SELECT device, seq, raw, signature, state FROM relay ORDER BY seq"
    )

    hub.start(processes)
    _ok(gateway.sync())
    journey.second_tablet_sync = tablet.sync(gateway.url)
    hub.out("ledger", "commit")
    _manufacturer_posts(journey)
    return journey


def _record_season(journey: Journey, cert: Path) -> None:
    tablet = journey.tablet
    tablet.cli("import-farmers", str(SAMPLE / "farmers.csv"))
    tablet.cli("import-plots", str(SAMPLE / "plots.geojson"))
    harvest = _record(
        tablet,
        "harvest",
        farmer="DEMO-0001",
        plot="DEMO-0001-P1",
        mass_g=310_500,
        harvested_on="2026-11-02",
    )
    purchases = [
        _record(
            tablet,
            "purchase",
            cert,
            farmer="DEMO-0001",
            plot="DEMO-0001-P1",
            harvest=harvest["id"],
            mass_g=300_000,
            grade="grade-1",
            price=450_000,
            currency="XOF",
        ),
        _record(
            tablet,
            "purchase",
            farmer="DEMO-0002",
            plot="DEMO-0002-P1",
            mass_g=200_000,
            grade="grade-1",
            price=300_000,
            currency="XOF",
        ),
    ]
    lot = _record(
        tablet,
        "lot",
        inputs=[{"purchase": p["id"], "mass_g": p["mass_g"]} for p in purchases],
        bags=8,
    )
    shipment = _record(tablet, "dispatch", lots=[lot["id"]], to_org="choco-abidjan")
    # The sale to the manufacturer: ownership moves, so the manufacturer may process.
    _record(tablet, "transfer", asset=lot["id"], to_org="choco-abidjan")
    journey.lot_id, journey.shipment_id = lot["id"], shipment["id"]


def _record(tablet: Edge, rtype: str, attachment: Path | None = None, **body) -> dict:
    extra = ["--attach", str(attachment)] if attachment else []
    printed = tablet.cli("record", rtype, "--json", json.dumps(body), *extra).stdout
    return json.loads(printed)["body"]


def _manufacturer_posts(journey: Journey) -> None:
    hub = journey.hub
    journey.token = hub.out("api-token", "kofi")
    headers = {"Authorization": f"Bearer {journey.token}"}
    events = [
        (
            "receipt",
            {
                "shipment": journey.shipment_id,
                "lots": [{"lot": journey.lot_id, "mass_g": 498_000}],
            },
        ),
        (
            "process",
            {
                "id": PRODUCT,
                "product": "Dark 70 % Soubré",
                "units": 4000,
                "inputs": [{"lot": journey.lot_id, "mass_g": 400_000}],
            },
        ),
        ("sale", {"id": "SALE-E2E-1", "batch": PRODUCT, "units": 1200}),
    ]
    for kind, body in events:
        answer = requests.post(
            f"{hub.url}/api/{kind}", json=body, headers=headers, timeout=60
        )
        journey.api_answers[kind] = (answer.status_code, answer.json())


def _ok(done) -> None:
    assert done.returncode == 0, f"{done.args[2:]}:\n{done.stdout}\n{done.stderr}"


def test_gateway_keeps_the_records_when_the_hub_is_down(journey):
    tablet_ids = [row[2] for row in journey.tablet_after_first_sync]

    failed = journey.offline_sync
    relayed = journey.relay_while_offline

    assert failed.returncode == 2
    assert "sync interrupted" in failed.stdout
    assert "cannot connect" in failed.stdout
    assert [row[2] for row in relayed] == tablet_ids
    assert {row[4] for row in relayed} <= {"pending", "sent"}


def test_every_tablet_record_is_at_the_hub_once_with_its_signature(journey):
    tablet_rows = journey.tablet.journal()
    device = journey.tablet.device_id()

    stored = journey.hub.query(
        "SELECT seq, id, raw, signature, status FROM records "
        "WHERE device_id = :device ORDER BY seq",
        device=device,
    )

    assert len(tablet_rows) >= 15  # 5 farmers, 5 plots, harvest, 2 purchases, ...
    assert [(r.seq, r.id, bytes(r.raw), bytes(r.signature)) for r in stored] == [
        (seq, rid, raw, sig) for seq, rid, raw, sig, _state in tablet_rows
    ]
    assert {r.status for r in stored} == {"stored"}


def test_the_certificate_is_in_the_bucket_under_its_sha256(journey):
    sha = journey.certificate_sha256

    client = journey.s3_server.client()
    listed = client.list_objects_v2(Bucket=journey.bucket).get("Contents", [])
    keys = [item["Key"] for item in listed if item["Key"].endswith(sha)]
    data = client.get_object(Bucket=journey.bucket, Key=keys[0])["Body"].read()
    row = journey.hub.query(
        "SELECT size, blob_key FROM attachments WHERE sha256 = :sha", sha=sha
    )

    assert len(keys) == 1
    assert hashlib.sha256(data).hexdigest() == sha
    assert data == CERTIFICATE
    assert [(r.size, r.blob_key) for r in row] == [(len(CERTIFICATE), keys[0])]


def test_tablet_records_are_relayed_by_the_gateway_then_acknowledged_by_the_hub(
    journey,
):
    gateway_id = journey.gateway.device_id()

    first = {row[4] for row in journey.tablet_after_first_sync}
    later = journey.second_tablet_sync
    now = {row[4] for row in journey.tablet.journal()}
    signers = {r[0] for r in journey.tablet.rows("SELECT signer FROM receipt")}
    relay_states = {r[0] for r in journey.gateway.rows("SELECT state FROM relay")}
    gateway_signers = {r[0] for r in journey.gateway.rows("SELECT signer FROM receipt")}

    # The gateway's signed receipt only takes the tablet's records into custody;
    # the hub's receipt, passed on by the gateway, acknowledges them at the next
    # sync once the hub has them.
    assert first == {"relayed"}
    assert signers == {gateway_id}
    assert later.returncode == 0 and "0 records sent" in later.stdout
    assert now == {"acknowledged"}
    assert relay_states == {"acknowledged"}
    assert gateway_signers == {"hub"}


def test_the_ledger_commits_every_record_and_verifies(journey):
    hub = journey.hub

    verified = hub.cli("ledger", "verify", check=False)
    states = hub.query(
        "SELECT ledger_status, count(*) AS n FROM records GROUP BY ledger_status"
    )

    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["blocks"] >= 1
    assert {r.ledger_status for r in states} == {"committed"}


def test_the_manufacturers_events_are_accepted_and_committed(journey):
    answers = journey.api_answers

    statuses = {kind: status for kind, (status, _doc) in answers.items()}
    ledgers = {
        kind: doc.get("ledger", {}).get("status") for kind, (_s, doc) in answers.items()
    }

    assert statuses == {"receipt": 201, "process": 201, "sale": 201}, answers
    assert set(ledgers.values()) == {"committed"}


def test_the_product_traces_back_to_the_tablets_farmers_and_plots(journey):
    hub = journey.hub
    headers = {"Authorization": f"Bearer {journey.token}"}

    answer = requests.get(
        f"{hub.url}/api/product/{PRODUCT}", headers=headers, timeout=30
    )
    doc = answer.json()

    assert answer.status_code == 200, doc
    assert [lot["id"] for lot in doc["cacao_batches"]] == [journey.lot_id]
    assert sorted(f["id"] for f in doc["farmers"]) == ["DEMO-0001", "DEMO-0002"]
    assert sorted(p["id"] for p in doc["plots"]) == ["DEMO-0001-P1", "DEMO-0002-P1"]
    assert all(p["geometry"]["type"] == "Polygon" for p in doc["plots"])
    assert doc["product"]["units_sold"] == 1200
    events = [e["event"] for e in doc["events"]]
    assert "Processed" in events and "Sold" in events


FARMER_NAMES = ("Adjoua Kouakou", "Yao N'Dri")
FARMER_PHONES = ("+225 07 11 22 33 44", "+225 07 22 33 44 55")


@pytest.mark.browser
def test_console_shows_the_trace_and_the_public_page_hides_people(
    journey, browser_page, tmp_path
):
    hub, page = journey.hub, browser_page
    page.get(hub.url + "/login")
    page.find_element(By.NAME, "username").send_keys("kofi")
    page.find_element(By.NAME, "password").send_keys(PASSWORD)
    page.find_element(By.CSS_SELECTOR, "form button").click()
    WebDriverWait(page, 10).until(lambda p: "/login" not in p.current_url)

    page.get(f"{hub.url}/products/{PRODUCT}")
    page.save_screenshot(str(tmp_path / "product.png"))
    product = page.find_element(By.TAG_NAME, "main").text
    polygons = page.find_elements(By.CSS_SELECTOR, "svg.map polygon")
    page.get(f"{hub.url}/t/{PRODUCT}")
    page.save_screenshot(str(tmp_path / "public.png"))
    public = page.find_element(By.TAG_NAME, "main").text
    public_html = page.page_source

    assert journey.lot_id in product
    assert "Coopérative de Soubré" in product
    assert "DEMO-0001-P1" in product and "DEMO-0002-P1" in product
    assert len(polygons) == 2
    for event in ("Purchased", "Bagged", "Shipped", "Received", "Processed", "Sold"):
        assert event in product
    assert "Coopérative de Soubré" in public and "Made into chocolate" in public
    for secret in FARMER_NAMES + FARMER_PHONES:
        assert secret not in public_html

"""Every chaincode transaction, on the running local network, through the peer CLI."""

from __future__ import annotations

import hashlib

import pytest

from tests.fabric.devices import Device, events_transient, fixed_key, forge
from tests.fabric.peer_cli import ChaincodeError, Client, TransactionInvalid

pytestmark = [pytest.mark.fabric, pytest.mark.slow]

COOP = "coop-soubre"
MAKER = "maker-abidjan"
SLUGS = {"coop": COOP, "maker": MAKER}
BOTH = ("coop", "maker")


@pytest.fixture(scope="module")
def cli(fabric_network):
    """A peer CLI client factory: cli("coop", "Admin"), cli("maker") for User1."""

    def make(org: str, user: str = "User1") -> Client:
        return Client(fabric_network, fabric_network.orgs[org], user)

    return make


@pytest.fixture(scope="module")
def orgs(cli):
    """Both organisations registered on the channel, each with its pseudonym salt."""
    for key, slug in SLUGS.items():
        admin = cli(key, "Admin")
        admin.invoke("RegisterOrg", slug)
        salt = hashlib.sha256(f"salt:{slug}".encode()).digest()
        admin.invoke("SetPseudonymSalt", transient={"salt": salt})

    return SLUGS


@pytest.fixture(scope="module")
def enrol(cli, orgs):
    """Register a fixed-key device for an organisation through its admin."""

    def make(org: str, name: str, role: str = "cooperative") -> Device:
        device = Device(fixed_key(name), orgs[org])
        admin = cli(org, "Admin")
        admin.invoke(
            "RegisterDevice", device.id, device.public_key_b64, device.org, role
        )
        return device

    return make


def submit(client: Client, *records, endorsers=None) -> list[dict]:
    """SubmitEvents with the records in the transient map; the outcomes."""
    return client.invoke(
        "SubmitEvents", transient=events_transient(*records), endorsers=endorsers
    ).json()


def statuses(outcomes: list[dict]) -> list[tuple[str, str | None]]:
    return [(o["status"], o.get("code")) for o in outcomes]


def farm_to_lot(device: Device, tag: str, purchase_g: int, lot_g: int) -> list:
    """Sign farmer, plot, harvest, purchase and lot records of one cooperative."""
    farmer, plot = f"CI-SOU-{tag}", f"CI-SOU-{tag}-P1"
    point = {"type": "Point", "coordinates": [-6.61, 5.78]}
    return [
        device.sign("farmer", {"id": farmer, "name": "Awa Kone"}),
        device.sign(
            "plot",
            {"id": plot, "farmer": farmer, "geometry": point, "gps_accuracy_m": 4},
        ),
        device.sign(
            "harvest",
            {
                "id": f"H-{tag}",
                "farmer": farmer,
                "plot": plot,
                "mass_g": 800_000,
                "harvested_on": "2026-02-20",
            },
        ),
        device.sign(
            "purchase",
            {
                "id": f"P-{tag}",
                "farmer": farmer,
                "plot": plot,
                "harvest": f"H-{tag}",
                "mass_g": purchase_g,
                "grade": "grade-1",
                "price": 750_000,
                "currency": "XOF",
            },
        ),
        device.sign(
            "lot",
            {"id": f"LOT-{tag}", "inputs": [{"purchase": f"P-{tag}", "mass_g": lot_g}]},
        ),
    ]


def test_register_org_binds_slug_to_msp(cli, orgs):
    org = cli("maker").query_json("ReadAsset", f"org/{COOP}")

    assert org == {"slug": COOP, "msp": "CoopMSP"}


def test_register_org_refused_for_non_admin(cli, orgs):
    with pytest.raises(ChaincodeError) as refused:
        cli("coop", "User1").invoke("RegisterOrg", "coop-other")

    assert refused.value.code == "not-admin"


def test_register_org_refused_when_msp_has_one(cli, orgs):
    with pytest.raises(ChaincodeError) as refused:
        cli("coop", "Admin").invoke("RegisterOrg", "coop-other")

    assert refused.value.code == "asset-exists"


def test_pseudonym_salt_is_set_once(cli, orgs):
    admin = cli("coop", "Admin")

    with pytest.raises(ChaincodeError) as refused:
        admin.invoke("SetPseudonymSalt", transient={"salt": b"s" * 32})

    assert refused.value.code == "asset-exists"


@pytest.mark.parametrize("org", BOTH)
def test_admin_registers_device_of_own_org(cli, orgs, org):
    device = Device(fixed_key(f"register-{org}"), orgs[org])
    admin = cli(org, "Admin")

    made = admin.invoke(
        "RegisterDevice", device.id, device.public_key_b64, device.org, "operator"
    ).json()

    other = "maker" if org == "coop" else "coop"
    seen = cli(other).query_json("ReadAsset", f"device/{device.id}")
    assert made["status"] == "active"
    assert seen["org"] == orgs[org]
    assert seen["public_key"] == device.public_key_b64


def test_non_admin_cannot_register_device(cli, orgs):
    device = Device(fixed_key("by-user"), COOP)

    with pytest.raises(ChaincodeError) as refused:
        cli("coop", "User1").invoke(
            "RegisterDevice", device.id, device.public_key_b64, COOP, "cooperative"
        )

    assert refused.value.code == "not-admin"


def test_other_org_admin_cannot_register_device(cli, orgs):
    device = Device(fixed_key("by-other-org"), COOP)

    with pytest.raises(ChaincodeError) as refused:
        cli("maker", "Admin").invoke(
            "RegisterDevice", device.id, device.public_key_b64, COOP, "cooperative"
        )

    assert refused.value.code == "not-admin"


def test_happy_journey_from_farm_to_sale(cli, enrol):
    tablet = enrol("coop", "journey-tablet")
    factory = enrol("maker", "journey-factory", "manufacturer")
    coop, maker = cli("coop"), cli("maker")
    farmer, plot, harvest, purchase, lot = farm_to_lot(tablet, "J", 500_000, 500_000)

    registered = submit(coop, farmer, plot)
    harvested = coop.invoke("RecordHarvest", transient=events_transient(harvest))
    bagged = submit(coop, purchase, lot)
    dispatch = tablet.sign(
        "dispatch", {"id": "SHP-J", "lots": ["LOT-J"], "to_org": MAKER}
    )
    shipped = coop.invoke("RecordShipment", transient=events_transient(dispatch))
    receipt = factory.sign(
        "receipt", {"shipment": "SHP-J", "lots": [{"lot": "LOT-J", "mass_g": 495_000}]}
    )
    received = maker.invoke(
        "RecordShipment", transient=events_transient(receipt), endorsers=BOTH
    )
    transfer = tablet.sign("transfer", {"asset": "LOT-J", "to_org": MAKER})
    transferred = coop.invoke(
        "TransferOwnership", transient=events_transient(transfer), endorsers=BOTH
    )
    processing = factory.sign(
        "processing",
        {
            "id": "BATCH-J",
            "product": "Dark 70% 100 g",
            "inputs": [{"lot": "LOT-J", "mass_g": 495_000}],
            "units": 4000,
        },
    )
    processed = maker.invoke("ProcessBeans", transient=events_transient(processing))
    sale = factory.sign("sale", {"id": "SALE-J", "batch": "BATCH-J", "units": 1000})
    sold = maker.invoke("RecordSale", transient=events_transient(sale))

    one_by_one = [harvested, shipped, received, transferred, processed, sold]
    assert statuses(registered + bagged) == [("applied", None)] * 4
    assert [i.json()["status"] for i in one_by_one] == ["applied"] * 6
    lot_state = coop.query_json("ReadAsset", "lot/LOT-J")
    assert (lot_state["owner"], lot_state["holder"]) == (MAKER, MAKER)
    assert (lot_state["remaining_g"], lot_state["lost_g"]) == (0, 5_000)
    batch = coop.query_json("ReadAsset", "batch/BATCH-J")
    assert (batch["owner"], batch["units"], batch["sold_units"]) == (MAKER, 4000, 1000)
    history = maker.query_json("AssetHistory", "lot/LOT-J")
    assert transferred.tx_id in [entry["tx_id"] for entry in history]
    proof = maker.query_json("RecordProof", sale.id)
    assert (proof["tx_id"], proof["status"]) == (sold.tx_id, "applied")


def test_journey_keeps_names_and_prices_off_the_channel(cli, enrol):
    tablet = enrol("coop", "privacy-tablet")
    records = farm_to_lot(tablet, "PRIV", 300_000, 300_000)

    submit(cli("coop"), *records)

    purchase = cli("maker").query_json("ReadAsset", "purchase/P-PRIV")
    assert "price" not in purchase and purchase["owner"] == COOP
    with pytest.raises(ChaincodeError) as missing:
        cli("maker").query("ReadAsset", "farmer/CI-SOU-PRIV")
    assert missing.value.code == "unknown-asset"


def test_transfer_needs_endorsement_of_both_organisations(cli, enrol):
    tablet = enrol("coop", "transfer-tablet")
    coop = cli("coop")
    submit(coop, *farm_to_lot(tablet, "T", 200_000, 200_000))
    transfer = tablet.sign("transfer", {"asset": "LOT-T", "to_org": MAKER})
    events = events_transient(transfer)

    with pytest.raises(TransactionInvalid) as coop_alone:
        coop.invoke("TransferOwnership", transient=events, endorsers=("coop",))
    both = coop.invoke("TransferOwnership", transient=events, endorsers=BOTH)

    assert coop_alone.value.status == "ENDORSEMENT_POLICY_FAILURE"
    assert both.json()["status"] == "applied"
    assert coop.query_json("ReadAsset", "lot/LOT-T")["owner"] == MAKER


def test_lot_heavier_than_its_purchase_is_refused(cli, enrol):
    tablet = enrol("coop", "mass-tablet")
    coop = cli("coop")
    *before, lot = farm_to_lot(tablet, "M", 100_000, 150_000)
    submit(coop, *before)

    outcomes = submit(coop, lot)

    assert statuses(outcomes) == [("refused", "mass-exceeded")]
    assert coop.query_json("ReadAsset", "purchase/P-M")["remaining_g"] == 100_000
    proof = coop.query_json("RecordProof", lot.id)
    assert (proof["status"], proof["code"]) == ("refused", "mass-exceeded")
    assert coop.query_json("ReadAsset", f"device/{tablet.id}")["seq"] == 5


def test_forged_device_signature_is_refused(cli, enrol):
    tablet = enrol("coop", "forged-tablet")
    genuine = tablet.sign("farmer", {"id": "CI-SOU-FORGED", "name": "Yao Kouassi"})
    forged = forge(genuine, fixed_key("impostor"))

    outcomes = submit(cli("coop"), forged)

    assert statuses(outcomes) == [("refused", "bad-signature")]
    assert cli("coop").query_json("ReadAsset", f"device/{tablet.id}")["seq"] == 0


def test_revoked_device_is_refused(cli, enrol):
    tablet = enrol("coop", "revoked-tablet")
    coop = cli("coop")
    before = tablet.sign("farmer", {"id": "CI-SOU-REV", "name": "Adjoua Yao"})
    submit(coop, before)

    revoked = cli("coop", "Admin").invoke("RevokeDevice", tablet.id).json()
    after = tablet.sign("farmer", {"id": "CI-SOU-REV2", "name": "Koffi Yao"})
    outcomes = submit(coop, after)

    assert revoked["status"] == "revoked"
    assert statuses(outcomes) == [("refused", "device-revoked")]


def test_device_is_revoked_only_by_its_own_org_admin_and_once(cli, enrol):
    tablet = enrol("coop", "revoke-rules-tablet")

    with pytest.raises(ChaincodeError) as other_org:
        cli("maker", "Admin").invoke("RevokeDevice", tablet.id)
    cli("coop", "Admin").invoke("RevokeDevice", tablet.id)
    with pytest.raises(ChaincodeError) as again:
        cli("coop", "Admin").invoke("RevokeDevice", tablet.id)

    assert other_org.value.code == "not-admin"
    assert again.value.code == "device-revoked"


def test_replayed_event_is_already_recorded(cli, enrol):
    tablet = enrol("coop", "replay-tablet")
    coop = cli("coop")
    event = tablet.sign("farmer", {"id": "CI-SOU-REPLAY", "name": "Aya Traore"})
    first = submit(coop, event)

    replayed = submit(coop, event)

    assert statuses(first) == [("applied", None)]
    assert [o["status"] for o in replayed] == ["already-recorded"]
    assert replayed[0]["id"] == event.id
    assert coop.query_json("ReadAsset", f"device/{tablet.id}")["seq"] == 1


def test_event_submitted_by_another_org_is_refused(cli, enrol):
    tablet = enrol("coop", "wrong-org-tablet")
    event = tablet.sign("farmer", {"id": "CI-SOU-WRONG", "name": "Ama Kouame"})

    outcomes = submit(cli("maker"), event)

    assert statuses(outcomes) == [("refused", "wrong-org")]


def test_reading_an_unknown_asset_names_the_code(cli, orgs):
    with pytest.raises(ChaincodeError) as missing:
        cli("coop").query("ReadAsset", "lot/NO-SUCH-LOT")

    assert missing.value.code == "unknown-asset"

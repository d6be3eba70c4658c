"""shared.journey beyond the conformance vectors: the hub's view of it."""

import base64
from datetime import UTC, datetime

import pytest

from shared.journey import (
    Caller,
    Journey,
    JourneyError,
    MemoryState,
    Outcome,
    event_from_json,
)
from shared.keys import DeviceKey
from shared.record import GENESIS, sign_record

COOP = "coop-soubre"
T0 = "2025-04-01T10:00:00Z"


def make_ledger():
    """A journey with one cooperative, its salt and one tablet; the hub calls it."""
    state = MemoryState()
    journey = Journey(state)
    journey.register_org(COOP, "CoopMSP")
    journey.set_pseudonym_salt(COOP, b"s" * 32)
    key = DeviceKey.from_seed(b"\x07" * 32)
    journey.register_device(key.device_id, b64(key.public_raw), COOP, "cooperative")
    return journey, state, key


@pytest.fixture
def ledger():
    return make_ledger()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def farmer(key, seq=1, prev=GENESIS, code="CI-SOU-0001"):
    body = {"id": code, "name": "Awa Kouassi"}
    return sign_record(key, "farmer", seq, prev, body, time=T0)


def test_hub_submits_without_a_caller_org(ledger):
    journey, state, key = ledger
    rec = farmer(key)

    outcomes = journey.submit([rec], datetime(2025, 4, 1, 10, 0, tzinfo=UTC))

    assert outcomes == [Outcome(rec.id, "applied")]
    assert state.get(f"record/{rec.id}")["time"] == T0


def test_each_key_gets_one_history_entry_per_transaction(ledger):
    journey, state, key = ledger
    one = farmer(key)
    two = farmer(key, 2, one.id, "CI-SOU-0002")

    journey.submit([one, two], T0, COOP, tx_id="tx-1")

    history = state.history(f"device/{key.device_id}")
    assert [entry["tx_id"] for entry in history] == ["", "tx-1"]
    assert history[-1]["value"]["seq"] == 2


def test_a_refused_rule_changes_nothing_but_the_chain(ledger):
    journey, state, key = ledger
    one = farmer(key)
    again = farmer(key, 2, one.id)
    journey.submit([one], T0, COOP)
    before = dict(state.values)

    outcomes = journey.submit([again], T0, COOP)

    assert outcomes[0].code == "asset-exists"
    changed = {k for k in state.values if state.values[k] != before.get(k)}
    assert changed == {f"device/{key.device_id}", f"record/{again.id}"}


def test_farmer_codes_stay_out_of_public_keys_and_values(ledger):
    journey, state, key = ledger

    journey.submit([farmer(key)], T0, COOP)

    public = {k: v for k, v in state.values.items() if not k.startswith("pvt/")}
    assert "CI-SOU-0001" not in repr(public)
    assert "Awa" not in repr(public)


def test_private_keys_are_not_readable_as_assets(ledger):
    journey, _, _ = ledger

    with pytest.raises(JourneyError) as err:
        journey.read_asset(f"pvt/{COOP}/salt")

    assert err.value.code == "unknown-asset"
    assert err.value.status == 404


def test_record_proof_names_the_transaction(ledger):
    journey, _, key = ledger
    rec = farmer(key)
    journey.submit([rec], T0, COOP, tx_id="block-7/tx-3")

    proof = journey.record_proof(rec.id)

    assert proof == {
        "record": rec.id,
        "tx_id": "block-7/tx-3",
        "time": T0,
        "status": "applied",
        "code": "",
    }


def test_default_tx_id_is_deterministic():
    first, first_state, key = make_ledger()
    second, second_state, _ = make_ledger()
    later, later_state, _ = make_ledger()
    rec = farmer(key)

    first.submit([rec], T0)
    second.submit([rec], T0)
    later.submit([rec], "2025-04-01T10:00:01Z")

    ids = [
        s.get(f"record/{rec.id}")["tx_id"]
        for s in (first_state, second_state, later_state)
    ]
    assert len(ids[0]) == 64
    assert ids[0] == ids[1]
    assert ids[0] != ids[2]


def test_admin_operations_check_the_caller(ledger):
    journey, _, _ = ledger
    key = DeviceKey.from_seed(b"\x08" * 32)
    args = (key.device_id, b64(key.public_raw), COOP, "cooperative")

    with pytest.raises(JourneyError) as clerk:
        journey.register_device(*args, Caller(COOP, admin=False))
    with pytest.raises(JourneyError) as stranger:
        journey.register_device(*args, Caller("maker-abidjan", admin=True))
    device = journey.register_device(*args, Caller(COOP, admin=True))

    assert clerk.value.code == stranger.value.code == "not-admin"
    assert device["status"] == "active"


def test_unknown_transaction_arguments_are_refused(ledger):
    journey, _, _ = ledger

    with pytest.raises(TypeError):
        journey.revoke_device("d-000000000000", tx_idd="typo")


def test_event_from_json_round_trips(ledger):
    _, _, key = ledger
    rec = farmer(key)

    back = event_from_json({"raw": b64(rec.raw), "sig": b64(rec.signature)})

    assert back == rec

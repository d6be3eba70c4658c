"""The conformance vectors of shared/conformance, replayed on the real Fabric network.

Every scenario starts from an empty ledger and registers the same organisations and
device keys, so each gets a chaincode definition of its own (`network.sh define`):
the peer keeps state per chaincode name, and one set of chaincode servers answers
for all of them.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from shared.conformance import load, run_scenario, scenario_files
from tests.fabric.network import FabricNetwork, Org
from tests.fabric.peer_cli import ChaincodeError, Client, TransactionInvalid

pytestmark = [pytest.mark.fabric, pytest.mark.slow]

SCENARIOS = scenario_files()
NAMESPACE_PREFIX = "cocoa-v-"
# Rules of these record types read the organisation's salt, which only the
# device organisation's peers hold (chaincode/README.md, "Endorsement").
SALT_TYPES = {"farmer", "plot", "harvest", "purchase"}
# Set by the transaction on the real network, by the vector in shared.journey.
TX_FIELDS = ("tx_id", "time")
# The vectors name "OtherMSP" for a caller whose organisation is not registered.
# No such identity can reach the chaincode (see the test at the end), so a
# member's identity with the same admin flag plays it; the chaincode decides
# those steps before it looks at the caller's MSP id.
STAND_IN_ORG = "coop"
# Parallel `peer chaincode query` processes when reading a whole final state.
READERS = 4
OUTSIDER_CRYPTO = """\
PeerOrgs:
  - Name: Other
    Domain: other.cocoa.test
    EnableNodeOUs: true
    Users:
      Count: 1
"""


@pytest.fixture(scope="module")
def namespaces(fabric_network, fabric_define) -> dict[str, FabricNetwork]:
    """One chaincode definition per scenario, all committed in one go."""
    names = {path.stem: NAMESPACE_PREFIX + path.stem for path in SCENARIOS}

    fabric_define(*names.values())

    return {stem: fabric_network.with_chaincode(n) for stem, n in names.items()}


@pytest.fixture(scope="module")
def replay(namespaces):
    """Play a scenario on its namespace once; its per-step answers."""

    @functools.cache
    def play_scenario(stem: str) -> tuple[dict | list, ...]:
        scenario = load(_path(stem))
        network = namespaces[stem]
        return tuple(play(network, step) for step in scenario["steps"])

    return play_scenario


@pytest.mark.parametrize("stem", [p.stem for p in SCENARIOS])
def test_every_event_gets_the_expected_status_and_code(stem, replay):
    scenario = load(_path(stem))

    got = replay(stem)

    wrong = [
        f"step {n} ({step['op']}): got {answer}, want {step['expect']}"
        for n, (step, answer) in enumerate(zip(scenario["steps"], got, strict=True))
        if answer != step["expect"]
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("stem", [p.stem for p in SCENARIOS])
def test_final_state_is_the_one_the_scenario_lists(stem, replay, namespaces):
    scenario = load(_path(stem))
    replay(stem)
    reader = Client(namespaces[stem], namespaces[stem].orgs["coop"], "User1")

    state = {key: read_asset(reader, key) for key in scenario["expect_state"]}

    for key, fields in scenario["expect_state"].items():
        assert state[key] is not None, f"{key} is not in the state"
        assert {f: state[key].get(f) for f in fields} == fields, key


@pytest.mark.parametrize("stem", [p.stem for p in SCENARIOS])
def test_public_state_matches_the_embedded_ledger(stem, replay, namespaces):
    _, embedded = run_scenario(load(_path(stem)))
    replay(stem)
    reader = Client(namespaces[stem], namespaces[stem].orgs["maker"], "User1")
    keys = sorted(k for k in embedded.values if not k.startswith("pvt/"))

    with ThreadPoolExecutor(READERS) as pool:
        on_fabric = dict(zip(keys, pool.map(lambda k: read_asset(reader, k), keys)))

    for key in keys:
        assert without_tx(on_fabric[key]) == without_tx(embedded.values[key]), key


def test_each_definition_keeps_its_own_state(fabric_network, fabric_define):
    first, second = NAMESPACE_PREFIX + "isolation-a", NAMESPACE_PREFIX + "isolation-b"
    fabric_define(first, second)
    one, two = (fabric_network.with_chaincode(n) for n in (first, second))

    Client(one, one.orgs["coop"], "Admin").invoke("RegisterOrg", "coop-soubre")

    reader_one = Client(one, one.orgs["maker"], "User1")
    reader_two = Client(two, two.orgs["maker"], "User1")
    assert read_asset(reader_one, "org/coop-soubre") == {
        "slug": "coop-soubre",
        "msp": "CoopMSP",
    }
    assert read_asset(reader_two, "org/coop-soubre") is None


def test_an_outsider_identity_never_reaches_the_chaincode(fabric_network, tmp_path):
    network = fabric_network
    outsider = outsider_org(network, tmp_path)
    client = Client(network, outsider, "Admin")

    with pytest.raises(RuntimeError) as refused:
        client.invoke("RegisterOrg", "coop-daloa", endorsers=("coop",))

    denied = f"access denied: channel [{network.channel}] creator org unknown"
    assert denied in str(refused.value)


def play(network: FabricNetwork, step: dict) -> dict | list[dict]:
    """Send one vector step as its caller; answer it in the vector's shape."""
    caller = step["caller"]
    user = "Admin" if caller["admin"] else "User1"
    client = Client(network, caller_org(network, caller["msp"]), user)
    try:
        if step["op"] == "submit":
            return submit(client, step["events"])

        return administer(client, step["op"], step["args"])
    except (TransactionInvalid, RuntimeError) as exc:
        # Not an answer the vectors can expect: report it in the step's place.
        return {"error": str(exc)}


def caller_org(network: FabricNetwork, msp_id: str) -> Org:
    """The channel organisation with this MSP id, or the stand-in for an outsider."""
    for org in network.orgs.values():
        if org.msp_id == msp_id:
            return org

    return network.orgs[STAND_IN_ORG]


def administer(client: Client, op: str, args: dict) -> dict:
    """An administrative transaction; {"code": ""} once committed, else its code."""
    function, positional, transient = admin_call(op, args)
    try:
        client.invoke(function, *positional, transient=transient)
    except ChaincodeError as exc:
        return {"code": exc.code}

    return {"code": ""}


def admin_call(op: str, args: dict) -> tuple[str, list[str], dict | None]:
    """The chaincode function, arguments and transient map of a vector step."""
    if op == "register_org":
        return "RegisterOrg", [args["slug"]], None
    if op == "set_salt":
        return "SetPseudonymSalt", [], {"salt": base64.b64decode(args["salt"])}
    if op == "register_device":
        keys = ("device_id", "public_key", "org", "role")
        return "RegisterDevice", [args[k] for k in keys], None
    if op == "revoke_device":
        return "RevokeDevice", [args["device_id"]], None

    raise ValueError(f"unknown step op {op!r}")


def submit(client: Client, events: list[dict]) -> list[dict]:
    """SubmitEvents with the vector's events, endorsed by the peers they need."""
    answer = client.invoke(
        "SubmitEvents",
        transient={"events": json.dumps(events).encode()},
        endorsers=endorsers(client, events),
    )
    return [{"status": o["status"], "code": o.get("code", "")} for o in answer.json()]


def endorsers(client: Client, events: list[dict]) -> tuple[str, ...]:
    """The caller's peer alone when an event reads the salt, else every org's.

    Another organisation's peer holds only the salt's hash and cannot simulate
    salt-reading events; every other event is endorsed by both peers, which
    covers the key-level policies of transfers and of receipts of lots the
    sender still owns.
    """
    if any(record_type(e) in SALT_TYPES for e in events):
        return (client.org.key,)

    return tuple(client.network.orgs)


def record_type(event: dict) -> str | None:
    """The type a signed record claims, or None when its bytes do not decode."""
    try:
        return json.loads(base64.b64decode(event["raw"])).get("type")
    except (binascii.Error, ValueError, AttributeError):
        return None


def read_asset(client: Client, key: str) -> dict | None:
    try:
        return client.query_json("ReadAsset", key)
    except ChaincodeError as exc:
        if exc.code == "unknown-asset":
            return None
        raise


def without_tx(value: dict | None) -> dict | None:
    """A state value without the fields its transaction sets."""
    if value is None:
        return None

    return {k: v for k, v in value.items() if k not in TX_FIELDS}


def outsider_org(network: FabricNetwork, workdir: Path) -> Org:
    """An MSP the channel does not know (OtherMSP), talking to the coop's peer."""
    config = workdir / "crypto-config.yaml"
    config.write_text(OUTSIDER_CRYPTO)
    subprocess.run(
        [str(network.bin_dir / "cryptogen"), "generate"]
        + ["--config", str(config), "--output", str(workdir / "crypto")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    users = workdir / "crypto/peerOrganizations/other.cocoa.test/users"
    return replace(
        network.orgs[STAND_IN_ORG],
        key="other",
        msp_id="OtherMSP",
        admin_msp=users / "Admin@other.cocoa.test/msp",
        user_msp=users / "User1@other.cocoa.test/msp",
    )


def _path(stem: str):
    return next(p for p in SCENARIOS if p.stem == stem)

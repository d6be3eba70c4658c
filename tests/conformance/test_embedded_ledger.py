"""The conformance vectors against the hub's EmbeddedLedger, on SQLite and PostgreSQL.

Each step runs in its own database transaction with a fresh ledger object, so every
value the rules read back was stored and loaded again.
"""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from hub.db import make_engine
from hub.ledger.base import ALREADY, APPLIED, REFUSED
from hub.ledger.embedded import DeviceGrant, EmbeddedLedger, verify_chain
from hub.ledger.events import ledger_event
from hub.ledger.state import MemorySalts
from hub.migrate import upgrade
from hub.models import LedgerState, LedgerStateHistory
from shared.conformance import load, run_scenario, scenario_files
from shared.journey import Caller, JourneyError, event_from_json

SCENARIOS = scenario_files()
# The hub says "committed" where the journey says "applied".
STATUS = {APPLIED: "applied", REFUSED: "refused", ALREADY: "already-recorded"}


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def sessions(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url_fresh")
    engine = make_engine(url)
    upgrade(engine)
    yield sessionmaker(engine.execution_options(writer=True), expire_on_commit=False)
    engine.dispose()


def replay(sessions, scenario: dict) -> list:
    """Play every step through EmbeddedLedger; answer what each step got."""
    salts = MemorySalts()
    got = []
    for step in scenario["steps"]:
        with sessions.begin() as session:
            got.append(_play(EmbeddedLedger(session, salts), salts, step))

    return got


def _play(ledger: EmbeddedLedger, salts: MemorySalts, step: dict):
    who = step["caller"]
    if step["op"] == "submit":
        recs = [event_from_json(e) for e in step["events"]]
        results = ledger.submit([ledger_event(r, who["org"], salts) for r in recs])
        return [_outcome(r) for r in results]

    caller = Caller(who["org"], who["admin"])
    tx = {"tx_id": step["tx_id"], "tx_time": step["tx_time"]}
    args = step["args"]
    try:
        if step["op"] == "register_org":
            ledger.register_org(args["slug"], who["msp"], caller, **tx)
        elif step["op"] == "set_salt":
            salt = base64.b64decode(args["salt"])
            ledger.set_pseudonym_salt(who["org"], salt, caller, **tx)
        elif step["op"] == "register_device":
            grant = DeviceGrant(
                args["device_id"], args["public_key"], args["org"], args["role"]
            )
            ledger.register_device(grant, caller, **tx)
        elif step["op"] == "revoke_device":
            ledger.revoke_device(args["device_id"], caller, **tx)
        else:
            raise ValueError(f"unknown step op {step['op']!r}")
    except JourneyError as exc:
        return {"code": exc.code}

    return {"code": ""}


def _outcome(result) -> dict:
    # A replay keeps the verdict of its first submission; the journey's code for
    # the replay itself is always already-recorded.
    code = "already-recorded" if result.status == ALREADY else result.code or ""
    return {"status": STATUS[result.status], "code": code}


def _public_state(values: dict[str, dict]) -> dict[str, dict]:
    # The time and transaction of a submit are the ledger's own, not the vector's.
    out = {}
    for key, value in values.items():
        if key.startswith("pvt/"):
            continue
        if key.startswith("record/"):
            value = {k: v for k, v in value.items() if k not in ("tx_id", "time")}
        out[key] = value
    return out


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_step_gets_the_expected_status_and_code(path, sessions):
    scenario = load(path)

    got = replay(sessions, scenario)

    for number, (step, result) in enumerate(zip(scenario["steps"], got, strict=True)):
        assert result == step["expect"], f"step {number} ({step['op']})"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_final_state_is_the_journey_twins(path, sessions):
    scenario = load(path)
    _, twin = run_scenario(scenario)

    replay(sessions, scenario)
    with sessions() as session:
        rows = session.execute(select(LedgerState.key, LedgerState.value)).all()
        faults = verify_chain(session)

    ours = _public_state(dict(rows))
    assert sorted(ours) == sorted(_public_state(twin.values))
    assert ours == _public_state(twin.values)
    for key, fields in scenario["expect_state"].items():
        assert {f: ours[key].get(f) for f in fields} == fields, key
    assert faults == []


def test_salt_is_not_stored_in_clear(sessions):
    scenario = load(next(p for p in SCENARIOS if p.stem == "happy-journey"))
    salts = [
        base64.b64decode(s["args"]["salt"])
        for s in scenario["steps"]
        if s["op"] == "set_salt"
    ]

    replay(sessions, scenario)
    with sessions() as session:
        values = session.scalars(select(LedgerState.value)).all()
        history = session.scalars(select(LedgerStateHistory.value)).all()
        stored = repr(values + history)

    assert salts
    for salt in salts:
        assert base64.b64encode(salt).decode() not in stored

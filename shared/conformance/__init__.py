"""Conformance vectors: journey scenarios that the chaincode and shared.journey must
both pass. `python -m shared.conformance.generate` writes them as JSON beside this
file; `run_scenario` plays one against shared.journey."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from shared.journey import Caller, Journey, JourneyError, MemoryState, event_from_json

HERE = Path(__file__).parent


def scenario_files() -> list[Path]:
    return sorted(HERE.glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def run_scenario(scenario: dict) -> tuple[list[dict], MemoryState]:
    """Play a scenario; answer one {step, got} per expectation and the final state."""
    state = MemoryState()
    journey = Journey(state)
    got = []
    for number, step in enumerate(scenario["steps"]):
        got.append({"step": number, "got": _play(journey, step)})

    return got, state


def _play(journey: Journey, step: dict) -> dict | list[dict]:
    who = step["caller"]
    if step["op"] == "submit":
        events = [event_from_json(e) for e in step["events"]]
        outcomes = journey.submit(
            events, step["tx_time"], who["org"], tx_id=step["tx_id"]
        )
        return [{"status": o.status, "code": o.code} for o in outcomes]

    caller = Caller(who["org"], who["admin"])
    tx = {"tx_id": step["tx_id"], "tx_time": step["tx_time"]}
    args = step["args"]
    try:
        if step["op"] == "register_org":
            journey.register_org(args["slug"], who["msp"], caller, **tx)
        elif step["op"] == "set_salt":
            salt = base64.b64decode(args["salt"])
            journey.set_pseudonym_salt(who["org"], salt, caller, **tx)
        elif step["op"] == "register_device":
            journey.register_device(
                args["device_id"],
                args["public_key"],
                args["org"],
                args["role"],
                caller,
                **tx,
            )
        elif step["op"] == "revoke_device":
            journey.revoke_device(args["device_id"], caller, **tx)
        else:
            raise ValueError(f"unknown step op {step['op']!r}")
    except JourneyError as exc:
        return {"code": exc.code}

    return {"code": ""}

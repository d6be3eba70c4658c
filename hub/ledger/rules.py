"""The journey rules as the embedded ledger runs them.

`HubJourney` is `shared.journey.Journey` plus one hub duty: an event the hub holds
for review (quarantine) is settled as refused with the hub's code, so the ledger's
copy of the device chain still advances past it. `keys_of` names the state keys an
event will read, so a chunk's reads take one SELECT.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.ledger.base import LedgerEvent
from shared.journey import ALREADY_RECORDED as JOURNEY_ALREADY
from shared.journey import REFUSED, Journey, JourneyError, Outcome

# The asset key prefix of the object each record type creates.
CREATES = {
    "harvest": "harvest/",
    "purchase": "purchase/",
    "drying": "drying/",
    "lot": "lot/",
    "dispatch": "shipment/",
    "processing": "batch/",
    "sale": "sale/",
}


@dataclass(frozen=True, slots=True)
class Hold:
    """A refusal the hub decided before the ledger saw the event."""

    code: str
    detail: str


class HubJourney(Journey):
    """Journey rules that also settle held events as refused."""

    def __init__(self, state):
        super().__init__(state)
        self.held: dict[str, Hold] = {}
        self.settled: set[str] = set()

    def _one(self, t, rec, caller_org):
        hold = self.held.get(rec.id)
        if hold is None:
            return super()._one(t, rec, caller_org)

        # The same admission checks as any event (they advance nothing), then the
        # record is stored as refused; this leans on Journey's _admit and _settle.
        try:
            event = self._admit(t, rec, caller_org)
        except JourneyError as exc:
            status = JOURNEY_ALREADY if exc.code == "already-recorded" else REFUSED
            return Outcome(rec.id, status, exc.code, exc.detail)

        return self._settle(t, event, "", hold)

    def _settle(self, t, event, asset, error):
        # Settled events, applied or refused, are the ones that take a block place.
        self.settled.add(event.record.id)
        return super()._settle(t, event, asset, error)


def msp_id(slug: str) -> str:
    """The MSP-like id the embedded ledger binds to an organisation slug."""
    return f"{slug}MSP"


def keys_of(event: LedgerEvent) -> set[str]:
    """State keys the rules will read for `event`; a miss only costs a SELECT."""
    p = event.payload
    keys = {f"device/{event.device}", f"record/{event.record_id}"}
    keys |= {f"org/{event.org}", f"pvt/{event.org}/salt"}
    if event.type in CREATES and "id" in p:
        keys.add(CREATES[event.type] + p["id"])
    for name in ("farmer", "plot"):
        if f"{name}_pseudonym" in p:
            keys.add(f"{name}/{p[f'{name}_pseudonym']}")
    keys |= _refs(p)
    return keys


def _refs(p: dict) -> set[str]:
    keys = set()
    if p.get("harvest"):
        keys.add(f"harvest/{p['harvest']}")
    if "to_org" in p:
        keys |= {f"org/{p['to_org']}", f"inbox/{p['to_org']}"}
    if "shipment" in p:
        keys.add(f"shipment/{p['shipment']}")
    if "batch" in p:
        keys.add(f"batch/{p['batch']}")
    if "asset" in p:
        keys |= {f"lot/{p['asset']}", f"batch/{p['asset']}"}
    for item in _list(p.get("inputs")) + _list(p.get("lots")):
        if isinstance(item, str):
            keys.add(f"lot/{item}")
        elif isinstance(item, dict) and "purchase" in item:
            keys.add(f"purchase/{item['purchase']}")
        elif isinstance(item, dict) and "lot" in item:
            keys.add(f"lot/{item['lot']}")
    keys |= {f"purchase/{pid}" for pid in _list(p.get("purchases"))}
    return keys


def _list(value) -> list:
    # A quarantined record may carry any JSON where the schema wants a list.
    return value if isinstance(value, list) else []

"""The ledger's view of a record: no names, phones, places or prices in clear."""

from __future__ import annotations

from hub.keyring import Keyring
from hub.ledger.base import LedgerEvent
from shared.record import Header

# Fields of each body that may go to the ledger as they are; everything else
# stays in the hub database. Farmer and plot codes are replaced by pseudonyms.
PUBLIC_FIELDS = {
    "farmer": ("certifications",),
    "plot": ("declared_area_ha", "planted_year"),
    "harvest": ("id", "mass_g", "harvested_on"),
    "purchase": ("id", "harvest", "mass_g", "grade"),
    "drying": ("id", "stage", "purchases", "started_on", "ended_on"),
    "lot": ("id", "inputs", "bags"),
    "dispatch": ("id", "lots", "to_org"),
    "receipt": ("shipment", "lots"),
    "processing": ("id", "product", "inputs", "units", "output_mass_g"),
    "transfer": ("asset", "to_org"),
    "sale": ("id", "batch", "units"),
}
PSEUDONYMOUS = ("farmer", "plot")


def ledger_event(
    record_id: str,
    head: Header,
    org: str,
    keyring: Keyring,
    refused: tuple[str, str] | None = None,
) -> LedgerEvent:
    """Turn a stored record into the event the ledger may hold."""
    body = head.body
    payload = {k: body[k] for k in PUBLIC_FIELDS.get(head.type, ()) if k in body}
    for name in PSEUDONYMOUS:
        code = body.get("id") if head.type == name else body.get(name)
        if isinstance(code, str):
            payload[f"{name}_pseudonym"] = keyring.pseudonym(org, code)
    return LedgerEvent(
        record_id, head.device, head.seq, head.prev, head.type, org, payload, refused
    )

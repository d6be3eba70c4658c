"""The ledger's view of a record: no names, phones, places or prices in clear."""

from __future__ import annotations

import hashlib
import hmac
import json

from hub.ledger.base import LedgerEvent
from hub.ledger.state import SaltVault
from shared.record import SignedRecord

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
    rec: SignedRecord,
    org: str,
    salts: SaltVault,
    refused: tuple[str, str] | None = None,
) -> LedgerEvent:
    """Turn a stored record into the event the ledger may hold, bytes included."""
    try:
        doc = json.loads(rec.raw)
        head = (doc["device"], int(doc["seq"]), str(doc["prev"]), str(doc["type"]))
        body = doc["body"] if isinstance(doc["body"], dict) else {}
    except (ValueError, KeyError, TypeError):
        # The rules refuse it as malformed; the event still needs an id.
        head, body = ("", 0, "", ""), {}

    payload = {k: body[k] for k in PUBLIC_FIELDS.get(head[3], ()) if k in body}
    salt = salts.salt(org)
    for name in PSEUDONYMOUS:
        code = body.get("id") if head[3] == name else body.get(name)
        if isinstance(code, str) and salt is not None:
            payload[f"{name}_pseudonym"] = pseudonym(salt, code)

    return LedgerEvent(
        rec.id, *head, org, payload, refused, raw=rec.raw, signature=rec.signature
    )


def pseudonym(salt: bytes, code: str) -> str:
    """The journey's pseudonym of a farmer or plot code: HMAC-SHA256 under the salt."""
    return hmac.new(salt, code.encode(), hashlib.sha256).hexdigest()

"""REST API for online stakeholders: post journey events, read traces."""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app, request
from sqlalchemy import select

from hub import db, hub_devices, trace
from hub.auth import WRITERS, Caller, current_caller, require
from hub.errors import Forbidden, InvalidInput, NotFound
from hub.models import Organisation, Record
from hub.pipeline import run_until_done
from shared.errors import CocoaError
from shared.validation import validate_body

bp = Blueprint("api", __name__, url_prefix="/api")

# Route name -> (record type, id prefix when the client sends no id).
EVENTS = {
    "harvest": ("harvest", "HRV"),
    "process": ("processing", "PB"),
    "shipment": ("dispatch", "SHP"),
    "receipt": ("receipt", None),
    "sale": ("sale", "SALE"),
    "transfer": ("transfer", None),
}


class EventQuarantined(CocoaError):
    status = 422
    code = "event-quarantined"
    title = "Event was stored for review, not accepted"


class LedgerRefused(CocoaError):
    status = 409
    code = "ledger-refused"
    title = "The ledger refused the event under the journey rules"


@bp.post("/<kind>")
@require(*WRITERS)
def post_event(kind: str):
    if kind not in EVENTS:
        raise NotFound(f"no event kind {kind}; use one of {', '.join(EVENTS)}")

    rtype, prefix = EVENTS[kind]
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("send the event body as a JSON object")
    org_slug = body.pop("org", None)
    if prefix and "id" not in body:
        body["id"] = f"{prefix}-{secrets.token_hex(6)}"
    validate_body(rtype, body)

    org = _acting_org(current_caller(), org_slug)
    app = current_app
    with db.database().write_sessions() as session:
        outcome = hub_devices.submit(
            session, app.extensions["cocoa_ingestor"], org, (rtype, body)
        )
    result = outcome.results[0]
    if result.status != "accepted":
        raise EventQuarantined(result.detail or result.status, record=result.id)

    run_until_done(db.database(), app.extensions["cocoa_keyring"])
    session = db.session()
    session.rollback()  # a fresh snapshot that sees the commit above
    record = session.scalar(select(Record).where(Record.id == result.id))
    if record.ledger_status == "refused":
        raise LedgerRefused(
            record.ledger_detail or "refused", rule=record.ledger_code, record=record.id
        )

    return {
        "record": record.id,
        "type": rtype,
        "id": body.get("id"),
        "device": record.device_id,
        "seq": record.seq,
        "ledger": {
            "status": record.ledger_status,
            "block": record.ledger_block,
            "tx_id": record.ledger_tx,
        },
    }, 201


@bp.get("/product/<product_id>")
@require()
def get_product(product_id: str):
    return trace.product_trace(db.session(), current_caller(), product_id)


@bp.get("/cacaobatch/<lot_id>")
@require()
def get_cacao_batch(lot_id: str):
    return trace.lot_trace(db.session(), current_caller(), lot_id)


def _acting_org(caller: Caller, org_slug: str | None) -> Organisation:
    """The caller's own organisation; only an admin may act for another."""
    session = db.session()
    if caller.role == "admin" and org_slug:
        org = session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        if org is None:
            raise InvalidInput(f"no organisation {org_slug}", where="org")
        return org

    if caller.org_id is None:
        raise Forbidden("your user belongs to no organisation; an admin passes org")
    if org_slug and org_slug != caller.org_slug:
        raise Forbidden("you can post events for your own organisation only")
    return session.get(Organisation, caller.org_id)

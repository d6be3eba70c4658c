"""The journey of a product or cacao batch back to farms, assembled from projections."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.auth import Caller
from hub.errors import Forbidden, NotFound
from hub.models import (
    CacaoBatch,
    CacaoBatchInput,
    Farmer,
    Harvest,
    Organisation,
    Plot,
    Product,
    ProductCacaoBatch,
    Purchase,
    Record,
    TraceEvent,
)

# Events of a lot that belong on every trace of it, whichever product it went into.
LOT_EVENTS = ("Bagged", "Shipped", "Received", "Transferred")


def product_trace(session: Session, caller: Caller | None, product_id: str) -> dict:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"no product batch {product_id}")

    links = session.scalars(
        select(ProductCacaoBatch).where(ProductCacaoBatch.product_id == product_id)
    ).all()
    lots = [session.get(CacaoBatch, link.cacao_batch_id) for link in links]
    lot_orgs = {lot.supplier.org_id for lot in lots} | {
        lot.owner_org_id for lot in lots
    }
    if caller is not None:
        _check_scope(
            caller,
            {product.owner_org_id, product.holder_org_id, product.manufacturer.org_id}
            | lot_orgs,
        )

    return {
        "product": {
            "id": product.id,
            "name": product.name,
            "description": product.description,
            "batch_number": product.batch_number,
            "manufacturer": product.manufacturer.name,
            "units": product.units,
            "units_sold": product.units_sold,
            "produced_at": product.produced_at.isoformat(),
            "owner": _slug(session, product.owner_org_id),
        },
        "cacao_batches": [
            dict(_lot_summary(session, lot), quantity_g=link.quantity_g)
            for lot, link in zip(lots, links, strict=False)
        ],
        "events": _product_events(session, product.id, [lot.id for lot in lots]),
        # Per lot, with the masses moved: what the journey graph draws.
        "lot_events": _lot_events(session, [lot.id for lot in lots]),
        "sales": _sales(session, product.id),
        **_origins(session, caller, lots),
    }


def lot_trace(session: Session, caller: Caller | None, lot_id: str) -> dict:
    lot = session.get(CacaoBatch, lot_id)
    if lot is None:
        raise NotFound(f"no cacao batch {lot_id}")

    # Everyone who acted on the lot (received, processed, was handed it) may read it.
    actors = session.scalars(
        select(TraceEvent.org_id).where(TraceEvent.cacao_batch_id == lot_id).distinct()
    ).all()
    if caller is not None:
        _check_scope(
            caller, {lot.supplier.org_id, lot.owner_org_id, lot.holder_org_id, *actors}
        )

    uses = session.execute(
        select(ProductCacaoBatch.product_id, ProductCacaoBatch.quantity_g, Product.name)
        .join(Product, Product.id == ProductCacaoBatch.product_id)
        .where(ProductCacaoBatch.cacao_batch_id == lot_id)
    ).all()
    return {
        "cacao_batch": _lot_summary(session, lot),
        "products": [u.product_id for u in uses],
        "uses": [
            {"product": u.product_id, "quantity_g": u.quantity_g, "name": u.name}
            for u in uses
        ],
        "events": _events(session, cacao_batch_id=lot.id),
        "lot_events": _lot_events(session, [lot.id]),
        **_origins(session, caller, [lot]),
    }


def _origins(session: Session, caller: Caller | None, lots: list[CacaoBatch]) -> dict:
    """Purchases, farmers and plots behind `lots`; personal data only for their coop."""
    inputs = session.scalars(
        select(CacaoBatchInput).where(
            CacaoBatchInput.cacao_batch_id.in_([lot.id for lot in lots])
        )
    ).all()
    purchases = session.scalars(
        select(Purchase).where(Purchase.id.in_({i.purchase_id for i in inputs}))
    ).all()
    pairs = {(p.org_id, p.farmer_code) for p in purchases}
    plot_pairs = {(p.org_id, p.plot_code) for p in purchases}
    farmers = _by_pairs(session, Farmer, pairs)
    plots = _by_pairs(session, Plot, plot_pairs)
    certified = {(f.org_id, f.code): f.certifications or [] for f in farmers}
    return {
        "inputs": [
            {"lot": i.cacao_batch_id, "purchase": i.purchase_id, "mass_g": i.mass_g}
            for i in inputs
        ],
        "purchases": [_purchase(p, _personal(caller, p.org_id)) for p in purchases],
        "farmers": [_farmer(f, _personal(caller, f.org_id)) for f in farmers],
        "plots": [
            _plot(p, _slug(session, p.org_id), certified.get((p.org_id, p.farmer_code)))
            for p in plots
        ],
        "harvest_months": _harvest_months(session, purchases),
        "purchase_events": _events(session, purchase_ids=[p.id for p in purchases]),
    }


def _harvest_months(session: Session, purchases) -> list[str]:
    """Months (YYYY-MM) the beans were harvested, or bought when no harvest is known."""
    ids = [p.harvest_id for p in purchases if p.harvest_id]
    dates = session.scalars(
        select(Harvest.harvested_on).where(Harvest.id.in_(ids))
    ).all()
    months = {d.isoformat()[:7] for d in dates}
    months |= {p.purchased_at[:7] for p in purchases if p.harvest_id is None}
    return sorted(months)


def _by_pairs(session: Session, model, pairs: set[tuple[int, str]]):
    if not pairs:
        return []
    return session.scalars(
        select(model).where(
            or_(*((model.org_id == o) & (model.code == c) for o, c in pairs))
        )
    ).all()


def _personal(caller: Caller | None, org_id: int) -> bool:
    return caller is not None and (caller.reads_all or caller.org_id == org_id)


def _check_scope(caller: Caller, org_ids: set[int]) -> None:
    if caller.reads_all or caller.org_id in org_ids:
        return
    raise Forbidden("this object belongs to organisations you do not work with")


def _lot_summary(session: Session, lot: CacaoBatch) -> dict:
    used = session.scalars(
        select(ProductCacaoBatch.quantity_g).where(
            ProductCacaoBatch.cacao_batch_id == lot.id
        )
    ).all()
    return {
        "id": lot.id,
        "supplier": lot.supplier.name,
        "supplier_location": lot.supplier.location,
        "harvest_date": lot.harvest_date.isoformat() if lot.harvest_date else None,
        "quantity_g": lot.quantity_g,
        # Kept apart: a product trace overwrites quantity_g with the mass it used.
        "lot_quantity_g": lot.quantity_g,
        "remaining_g": lot.remaining_g,
        "used_g": sum(used),
        "certification": lot.certification,
        "owner": _slug(session, lot.owner_org_id),
        "holder": _slug(session, lot.holder_org_id),
        "in_transit_to": lot.in_transit_to,
    }


def _purchase(p: Purchase, personal: bool) -> dict:
    doc = {
        "id": p.id,
        "farmer": p.farmer_code,
        "plot": p.plot_code,
        "mass_g": p.mass_g,
        "grade": p.grade,
        "purchased_at": p.purchased_at,
        "harvest": p.harvest_id,
    }
    if personal:
        doc.update(price=p.price, currency=p.currency)
    return doc


def _farmer(f: Farmer, personal: bool) -> dict:
    doc = {"id": f.code, "village": f.village, "certifications": f.certifications}
    if personal:
        doc.update(name=f.name, phone=f.phone, gender=f.gender, birth_year=f.birth_year)
    return doc


def _plot(p: Plot, org: str | None, certifications: list | None) -> dict:
    return {
        "id": p.code,
        "org": org,
        "certifications": certifications or [],
        "farmer": p.farmer_code,
        "geometry": p.geometry,
        "declared_area_ha": p.declared_area_ha,
        "gps_accuracy_m": p.gps_accuracy_m,
    }


def _events(
    session: Session, product_id=None, cacao_batch_id=None, purchase_ids=None
) -> list:
    if product_id is not None:
        return _event_rows(session, TraceEvent.product_id == product_id)
    if cacao_batch_id is not None:
        return _event_rows(session, TraceEvent.cacao_batch_id == cacao_batch_id)
    return _event_rows(session, TraceEvent.purchase_id.in_(purchase_ids or []))


def _product_events(session: Session, product_id: str, lot_ids: list[str]) -> list:
    """The product's own events and its lots' bagging, shipments and receipts."""
    of_lots = TraceEvent.cacao_batch_id.in_(lot_ids) & TraceEvent.event.in_(LOT_EVENTS)
    return _event_rows(session, or_(TraceEvent.product_id == product_id, of_lots))


def _event_rows(session: Session, where) -> list:
    """One event per record and kind, naming every object the record touched."""
    query = select(TraceEvent).where(where)
    rows = session.scalars(query.order_by(TraceEvent.timestamp, TraceEvent.id)).all()
    proofs = _proofs(session, [e.record_id for e in rows])
    # A processing record of two lots, or a shipment of three, projects one trace
    # event per lot; the journey shows the record once.
    merged: dict[tuple[str, str], dict] = {}
    for e in rows:
        obj = e.product_id or e.cacao_batch_id or e.purchase_id
        seen = merged.get((e.record_id, e.event))
        if seen is not None:
            if obj not in seen["objects"]:
                seen["objects"].append(obj)
            continue

        merged[(e.record_id, e.event)] = {
            "event": e.event,
            "timestamp": e.timestamp.isoformat(),
            "org": _slug(session, e.org_id),
            "record": e.record_id,
            "object": obj,
            "objects": [obj],
            "ledger": proofs.get(e.record_id, {"status": "unknown"}),
        }
    return list(merged.values())


def _lot_events(session: Session, lot_ids: list[str]) -> list:
    """Shipments and receipts of `lots`: who moved how much, for the journey graph."""
    query = (
        select(TraceEvent)
        .where(TraceEvent.cacao_batch_id.in_(lot_ids))
        .where(TraceEvent.event.in_(LOT_EVENTS))
        .order_by(TraceEvent.timestamp, TraceEvent.id)
    )
    rows = session.scalars(query).all()
    proofs = _proofs(session, [e.record_id for e in rows])
    return [
        {
            "event": e.event,
            "timestamp": e.timestamp.isoformat(),
            "org": _slug(session, e.org_id),
            "record": e.record_id,
            "object": e.cacao_batch_id,
            "ledger": proofs.get(e.record_id, {"status": "unknown"}),
            **_movement(e),
        }
        for e in rows
    ]


def _movement(e: TraceEvent) -> dict:
    """The shipment id, destination and received mass an event carries, if any."""
    d = e.details or {}
    if e.event == "Shipped":
        return {"shipment": d.get("id"), "to": d.get("to_org")}
    if e.event == "Received":
        masses = {i.get("lot"): i.get("mass_g") for i in d.get("lots", [])}
        return {"shipment": d.get("shipment"), "mass_g": masses.get(e.cacao_batch_id)}
    if e.event == "Transferred":
        return {"to": d.get("to_org")}
    return {}


def _sales(session: Session, product_id: str) -> list:
    query = select(TraceEvent).where(
        TraceEvent.product_id == product_id, TraceEvent.event == "Sold"
    )
    return [
        {
            "id": e.details.get("id"),
            "units": e.details.get("units", 0),
            "buyer": e.details.get("buyer"),
            "at": e.timestamp.isoformat(),
        }
        for e in session.scalars(query.order_by(TraceEvent.timestamp, TraceEvent.id))
    ]


def _proofs(session: Session, record_ids: list[str]) -> dict[str, dict]:
    """Ledger status of each record: committed in a block, pending, or refused."""
    if not record_ids:
        return {}
    rows = session.execute(
        select(
            Record.id,
            Record.ledger_status,
            Record.ledger_block,
            Record.ledger_code,
            Record.ledger_tx,
        ).where(Record.id.in_(set(record_ids)))
    )
    return {
        rid: {"status": status, "block": block, "code": code, "tx": tx}
        for rid, status, block, code, tx in rows
    }


def _slug(session: Session, org_id: int) -> str | None:
    org = session.get(Organisation, org_id)
    return org.slug if org else None

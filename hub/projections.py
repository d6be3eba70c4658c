"""Business tables derived from stored records, so they can always be rebuilt.

Only records that are stored (not quarantined) and not refused by the ledger are
projected, in arrival order. Records that name an object the hub has not seen
(a lot of unknown purchases, a sale of an unknown batch) update what they can.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hub.models import (
    CacaoBatch,
    CacaoBatchInput,
    Farmer,
    Harvest,
    Manufacturer,
    Organisation,
    Plot,
    Product,
    ProductCacaoBatch,
    Purchase,
    Record,
    Shipment,
    Supplier,
    TraceEvent,
)
from shared.record import Header

log = logging.getLogger("hub.projections")


@dataclass(frozen=True, slots=True)
class Fact:
    """A stored record, ready to project."""

    pos: int
    record_id: str
    org: Organisation
    head: Header

    @property
    def body(self) -> dict:
        return self.head.body

    @property
    def at(self) -> datetime:
        stamp = datetime.strptime(self.head.time, "%Y-%m-%dT%H:%M:%SZ")
        return stamp.replace(tzinfo=timezone.utc)


def project(session: Session, facts: list[Fact]) -> None:
    """Apply `facts`, in order, to the business tables."""
    # Autoflush writes earlier facts before a handler reads them back.
    for fact in facts:
        HANDLERS[fact.head.type](session, fact)


def rebuild(session: Session) -> int:
    """Empty every projection and mark all records for projection again."""
    for model in (
        TraceEvent,
        ProductCacaoBatch,
        Product,
        Shipment,
        CacaoBatchInput,
        CacaoBatch,
        Purchase,
        Harvest,
        Plot,
        Farmer,
    ):
        session.execute(delete(model))
    result = session.execute(update(Record).values(projected=False))
    log.info("projections.reset", extra={"records": result.rowcount})
    return result.rowcount


def _event(session: Session, fact: Fact, event: str, **link) -> None:
    details = {k: v for k, v in fact.body.items() if k not in ("attachments",)}
    session.add(
        TraceEvent(
            timestamp=fact.at,
            event=event,
            org_id=fact.org.id,
            details=details,
            record_id=fact.record_id,
            **link,
        )
    )


def _farmer(session: Session, fact: Fact) -> None:
    body = fact.body
    row = session.scalar(
        select(Farmer).where(Farmer.org_id == fact.org.id, Farmer.code == body["id"])
    )
    if row is None:
        row = Farmer(org_id=fact.org.id, code=body["id"])
        session.add(row)
    row.name = body["name"]
    row.gender = body.get("gender")
    row.birth_year = body.get("birth_year")
    row.village = body.get("village")
    row.phone = body.get("phone")
    row.certifications = body.get("certifications", [])
    row.registered_on = body.get("registered_on")
    row.record_id = fact.record_id
    row.updated_pos = fact.pos


def _plot(session: Session, fact: Fact) -> None:
    body = fact.body
    row = session.scalar(
        select(Plot).where(Plot.org_id == fact.org.id, Plot.code == body["id"])
    )
    if row is None:
        row = Plot(org_id=fact.org.id, code=body["id"])
        session.add(row)
    row.farmer_code = body["farmer"]
    row.geometry = body["geometry"]
    row.gps_accuracy_m = body["gps_accuracy_m"]
    row.declared_area_ha = body.get("declared_area_ha")
    row.planted_year = body.get("planted_year")
    row.record_id = fact.record_id
    row.updated_pos = fact.pos


def _harvest(session: Session, fact: Fact) -> None:
    body = fact.body
    session.merge(
        Harvest(
            id=body["id"],
            org_id=fact.org.id,
            farmer_code=body["farmer"],
            plot_code=body["plot"],
            mass_g=body["mass_g"],
            harvested_on=date.fromisoformat(body["harvested_on"]),
            record_id=fact.record_id,
        )
    )
    _event(session, fact, "Harvested")


def _purchase(session: Session, fact: Fact) -> None:
    body = fact.body
    session.merge(
        Purchase(
            id=body["id"],
            org_id=fact.org.id,
            farmer_code=body["farmer"],
            plot_code=body["plot"],
            harvest_id=body.get("harvest"),
            mass_g=body["mass_g"],
            remaining_g=body["mass_g"],
            grade=body["grade"],
            price=body["price"],
            currency=body["currency"],
            purchased_at=fact.head.time,
            record_id=fact.record_id,
        )
    )
    _event(session, fact, "Purchased", purchase_id=body["id"])


def _drying(session: Session, fact: Fact) -> None:
    for purchase in fact.body["purchases"]:
        _event(session, fact, "Dried", purchase_id=purchase)


def _lot(session: Session, fact: Fact) -> None:
    body = fact.body
    purchases = {
        p.id: p
        for p in session.scalars(
            select(Purchase).where(
                Purchase.id.in_([i["purchase"] for i in body["inputs"]])
            )
        )
    }
    lot = CacaoBatch(
        id=body["id"],
        supplier_id=_supplier(session, fact.org).id,
        harvest_date=_harvest_date(session, purchases.values()),
        quantity_g=sum(i["mass_g"] for i in body["inputs"]),
        certification=_certification(session, fact.org.id, purchases.values()),
        owner_org_id=fact.org.id,
        holder_org_id=fact.org.id,
        bags=body.get("bags"),
        created_at=fact.at,
        record_id=fact.record_id,
        updated_pos=fact.pos,
    )
    lot.remaining_g = lot.quantity_g
    session.merge(lot)
    session.flush()
    for item in body["inputs"]:
        purchase = purchases.get(item["purchase"])
        if purchase is None:
            log.warning("projection.unknown_purchase", extra={"lot": lot.id})
            continue
        purchase.remaining_g -= item["mass_g"]
        session.merge(
            CacaoBatchInput(
                cacao_batch_id=lot.id, purchase_id=purchase.id, mass_g=item["mass_g"]
            )
        )
    _event(session, fact, "Bagged", cacao_batch_id=lot.id)


def _dispatch(session: Session, fact: Fact) -> None:
    body = fact.body
    session.merge(
        Shipment(
            id=body["id"],
            from_org_id=fact.org.id,
            to_org=body["to_org"],
            lots=body["lots"],
            record_id=fact.record_id,
        )
    )
    for lot in _lots(session, body["lots"]):
        lot.in_transit_to = body["to_org"]
        lot.updated_pos = fact.pos
    for lot_id in body["lots"]:
        _event(session, fact, "Shipped", cacao_batch_id=lot_id)


def _receipt(session: Session, fact: Fact) -> None:
    body = fact.body
    shipment = session.get(Shipment, body["shipment"])
    if shipment is not None:
        shipment.received = True
    received = {item["lot"]: item["mass_g"] for item in body["lots"]}
    for lot in _lots(session, list(received)):
        lot.holder_org_id = fact.org.id
        lot.in_transit_to = None
        lot.remaining_g = min(lot.remaining_g, received[lot.id])
        lot.updated_pos = fact.pos
    for lot_id in received:
        _event(session, fact, "Received", cacao_batch_id=lot_id)


def _processing(session: Session, fact: Fact) -> None:
    body = fact.body
    product = Product(
        id=body["id"],
        name=body["product"],
        description=body.get("note"),
        manufacturer_id=_manufacturer(session, fact.org).id,
        batch_number=body["id"],
        units=body["units"],
        units_sold=0,
        output_mass_g=body.get("output_mass_g"),
        owner_org_id=fact.org.id,
        holder_org_id=fact.org.id,
        produced_at=fact.at,
        record_id=fact.record_id,
    )
    session.merge(product)
    session.flush()
    used = {item["lot"]: item["mass_g"] for item in body["inputs"]}
    for lot in _lots(session, list(used)):
        lot.remaining_g -= used[lot.id]
        lot.updated_pos = fact.pos
        session.merge(
            ProductCacaoBatch(
                product_id=product.id, cacao_batch_id=lot.id, quantity_g=used[lot.id]
            )
        )
        _event(session, fact, "Processed", cacao_batch_id=lot.id, product_id=product.id)


def _transfer(session: Session, fact: Fact) -> None:
    body = fact.body
    to_org = session.scalar(
        select(Organisation).where(Organisation.slug == body["to_org"])
    )
    asset = session.get(Product, body["asset"]) or session.get(
        CacaoBatch, body["asset"]
    )
    if to_org is not None and asset is not None:
        asset.owner_org_id = to_org.id
        asset.holder_org_id = to_org.id
    link = "product_id" if isinstance(asset, Product) else "cacao_batch_id"
    _event(session, fact, "Transferred", **{link: body["asset"]})


def _sale(session: Session, fact: Fact) -> None:
    body = fact.body
    product = session.get(Product, body["batch"])
    if product is not None:
        product.units_sold += body["units"]
    _event(session, fact, "Sold", product_id=body["batch"])


def _lots(session: Session, ids: list[str]) -> list[CacaoBatch]:
    return list(session.scalars(select(CacaoBatch).where(CacaoBatch.id.in_(ids))))


def _supplier(session: Session, org: Organisation) -> Supplier:
    row = session.scalar(select(Supplier).where(Supplier.org_id == org.id))
    if row is None:
        row = Supplier(
            org_id=org.id,
            name=org.name,
            location=org.location,
            contact_person=org.contact_person,
        )
        session.add(row)
        session.flush()
    return row


def _manufacturer(session: Session, org: Organisation) -> Manufacturer:
    row = session.scalar(select(Manufacturer).where(Manufacturer.org_id == org.id))
    if row is None:
        row = Manufacturer(org_id=org.id, name=org.name, location=org.location)
        session.add(row)
        session.flush()
    return row


def _harvest_date(session: Session, purchases) -> date | None:
    ids = [p.harvest_id for p in purchases if p.harvest_id]
    dates = session.scalars(
        select(Harvest.harvested_on).where(Harvest.id.in_(ids))
    ).all()
    return min(dates) if dates else None


def _certification(session: Session, org_id: int, purchases) -> str | None:
    """Certifications shared by every farmer of the lot, and only those."""
    codes = {p.farmer_code for p in purchases}
    if not codes:
        return None

    farmers = session.scalars(
        select(Farmer).where(Farmer.org_id == org_id, Farmer.code.in_(codes))
    ).all()
    if len(farmers) != len(codes):
        return None
    common = set.intersection(*(set(f.certifications or []) for f in farmers))
    return ", ".join(sorted(common)) or None


HANDLERS = {
    "farmer": _farmer,
    "plot": _plot,
    "harvest": _harvest,
    "purchase": _purchase,
    "drying": _drying,
    "lot": _lot,
    "dispatch": _dispatch,
    "receipt": _receipt,
    "processing": _processing,
    "transfer": _transfer,
    "sale": _sale,
}

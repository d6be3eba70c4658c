"""Business tables derived from stored records, so they can always be rebuilt.

Only records that are stored (not quarantined) and not refused by the ledger are
projected, in arrival order. Records that name an object the hub has not seen
(a lot of unknown purchases, a sale of an unknown batch) update what they can.

A chunk of facts is projected in memory: one SELECT per table loads the rows the
chunk names, the handlers change plain dictionaries in order, and each table is
written back with one multi-row INSERT … ON CONFLICT DO UPDATE.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from hub.bulk import upsert
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
WRITE_CHUNK = 1000  # rows per INSERT statement


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
        return stamp.replace(tzinfo=UTC)


class _Table:
    """Rows of one table by key, loaded once per chunk and written back in bulk."""

    def __init__(self, model, key: tuple[str, ...], skip: tuple[str, ...] = ()):
        self.model = model
        self.key = key
        self.columns = [c.name for c in model.__table__.columns if c.name not in skip]
        self.rows: dict[tuple, dict] = {}
        self.dirty: set[tuple] = set()

    def load(self, session: Session, keys: Iterable[tuple]) -> None:
        wanted = {k for k in keys if k not in self.rows and None not in k}
        # Filter on the last key column, then keep the exact keys asked for.
        last = self.key[-1]
        values = sorted({k[-1] for k in wanted})
        for start in range(0, len(values), 500):
            column = getattr(self.model, last)
            query = select(self.model.__table__).where(
                column.in_(values[start : start + 500])
            )
            for row in session.execute(query).mappings():
                key = tuple(row[c] for c in self.key)
                if key in wanted:
                    self.rows[key] = {c: row[c] for c in self.columns}

    def get(self, key: tuple) -> dict | None:
        return self.rows.get(key)

    def put(self, row: dict) -> dict:
        key = tuple(row[c] for c in self.key)
        old = self.rows.get(key, {})
        self.rows[key] = {c: row.get(c, old.get(c)) for c in self.columns}
        self.dirty.add(key)
        return self.rows[key]

    def touch(self, row: dict) -> None:
        self.dirty.add(tuple(row[c] for c in self.key))

    def write(self, session: Session) -> None:
        rows = [self.rows[k] for k in self.rows if k in self.dirty]
        for start in range(0, len(rows), WRITE_CHUNK):
            upsert(session, self.model, rows[start : start + WRITE_CHUNK], self.key)
        self.dirty.clear()


class _Chunk:
    """The projection tables while one chunk of facts is applied."""

    def __init__(self, session: Session):
        self.session = session
        self.farmers = _Table(Farmer, ("org_id", "code"), skip=("id",))
        self.plots = _Table(Plot, ("org_id", "code"), skip=("id",))
        self.harvests = _Table(Harvest, ("id",))
        self.purchases = _Table(Purchase, ("id",))
        self.lots = _Table(CacaoBatch, ("id",))
        self.lot_inputs = _Table(CacaoBatchInput, ("cacao_batch_id", "purchase_id"))
        self.products = _Table(Product, ("id",))
        self.product_lots = _Table(ProductCacaoBatch, ("product_id", "cacao_batch_id"))
        self.shipments = _Table(Shipment, ("id",))
        self.events: list[dict] = []
        self.slugs: dict[str, int] = {}
        self.makers: dict[tuple, int] = {}

    # Parents before children, for the foreign keys.
    def tables(self) -> list[_Table]:
        return [
            self.farmers,
            self.plots,
            self.harvests,
            self.purchases,
            self.lots,
            self.lot_inputs,
            self.products,
            self.product_lots,
            self.shipments,
        ]

    def load(self, facts: list[Fact]) -> None:
        """Read every row the chunk names, one SELECT per table."""
        refs = _References()
        for fact in facts:
            refs.add(fact)

        s = self.session
        self.slugs = dict(s.execute(select(Organisation.slug, Organisation.id)).all())
        self.purchases.load(s, refs.purchases)
        self.lots.load(s, refs.lots)
        self.products.load(s, refs.products)
        self.shipments.load(s, refs.shipments)
        for row in self.purchases.rows.values():
            refs.harvests.add((row["harvest_id"],))
            refs.farmers.add((row["org_id"], row["farmer_code"]))
        self.harvests.load(s, refs.harvests)
        self.farmers.load(s, refs.farmers)
        self.plots.load(s, refs.plots)

    def write(self) -> None:
        for table in self.tables():
            table.write(self.session)

        for start in range(0, len(self.events), WRITE_CHUNK):
            part = self.events[start : start + WRITE_CHUNK]
            self.session.execute(insert(TraceEvent.__table__), part)

        self.events = []

    def event(self, fact: Fact, event: str, **link) -> None:
        details = {k: v for k, v in fact.body.items() if k not in ("attachments",)}
        self.events.append(
            {
                "timestamp": fact.at,
                "event": event,
                "org_id": fact.org.id,
                "details": details,
                "record_id": fact.record_id,
                "product_id": link.get("product_id"),
                "cacao_batch_id": link.get("cacao_batch_id"),
                "purchase_id": link.get("purchase_id"),
            }
        )


class _References:
    """Keys of the rows a chunk of facts will read or write, per table."""

    def __init__(self) -> None:
        self.farmers: set[tuple] = set()
        self.plots: set[tuple] = set()
        self.harvests: set[tuple] = set()
        self.purchases: set[tuple] = set()
        self.lots: set[tuple] = set()
        self.products: set[tuple] = set()
        self.shipments: set[tuple] = set()

    def add(self, fact: Fact) -> None:
        body, kind, org = fact.body, fact.head.type, fact.org.id
        if kind in ("farmer", "plot"):
            getattr(self, f"{kind}s").add((org, body["id"]))
        elif kind in ("harvest", "purchase"):
            getattr(self, f"{kind}s").add((body["id"],))
            self.farmers.add((org, body["farmer"]))
            self.harvests.add((body.get("harvest"),))
        elif kind == "drying":
            self.purchases.update((p,) for p in body["purchases"])
        elif kind == "lot":
            self.lots.add((body["id"],))
            self.purchases.update((i["purchase"],) for i in body["inputs"])
        elif kind == "dispatch":
            self.shipments.add((body["id"],))
            self.lots.update((lot,) for lot in body["lots"])
        elif kind == "receipt":
            self.shipments.add((body["shipment"],))
            self.lots.update((i["lot"],) for i in body["lots"])
        elif kind == "processing":
            self.products.add((body["id"],))
            self.lots.update((i["lot"],) for i in body["inputs"])
        elif kind in ("transfer", "sale"):
            asset = body["asset"] if kind == "transfer" else body["batch"]
            self.products.add((asset,))
            self.lots.add((asset,))


def project(session: Session, facts: list[Fact]) -> None:
    """Apply `facts`, in order, to the business tables."""
    if not facts:
        return

    chunk = _Chunk(session)
    chunk.load(facts)
    for fact in facts:
        HANDLERS[fact.head.type](chunk, fact)

    chunk.write()


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


def _farmer(c: _Chunk, fact: Fact) -> None:
    body = fact.body
    c.farmers.put(
        {
            "org_id": fact.org.id,
            "code": body["id"],
            "name": body["name"],
            "gender": body.get("gender"),
            "birth_year": body.get("birth_year"),
            "village": body.get("village"),
            "phone": body.get("phone"),
            "certifications": body.get("certifications", []),
            "registered_on": body.get("registered_on"),
            "record_id": fact.record_id,
            "updated_pos": fact.pos,
        }
    )


def _plot(c: _Chunk, fact: Fact) -> None:
    body = fact.body
    c.plots.put(
        {
            "org_id": fact.org.id,
            "code": body["id"],
            "farmer_code": body["farmer"],
            "geometry": body["geometry"],
            "gps_accuracy_m": body["gps_accuracy_m"],
            "declared_area_ha": body.get("declared_area_ha"),
            "planted_year": body.get("planted_year"),
            "record_id": fact.record_id,
            "updated_pos": fact.pos,
        }
    )


def _harvest(c: _Chunk, fact: Fact) -> None:
    body = fact.body
    c.harvests.put(
        {
            "id": body["id"],
            "org_id": fact.org.id,
            "farmer_code": body["farmer"],
            "plot_code": body["plot"],
            "mass_g": body["mass_g"],
            "harvested_on": date.fromisoformat(body["harvested_on"]),
            "record_id": fact.record_id,
        }
    )
    c.event(fact, "Harvested")


def _purchase(c: _Chunk, fact: Fact) -> None:
    body = fact.body
    c.purchases.put(
        {
            "id": body["id"],
            "org_id": fact.org.id,
            "farmer_code": body["farmer"],
            "plot_code": body["plot"],
            "harvest_id": body.get("harvest"),
            "mass_g": body["mass_g"],
            "remaining_g": body["mass_g"],
            "grade": body["grade"],
            "price": body["price"],
            "currency": body["currency"],
            "purchased_at": fact.head.time,
            "record_id": fact.record_id,
        }
    )
    c.event(fact, "Purchased", purchase_id=body["id"])


def _drying(c: _Chunk, fact: Fact) -> None:
    for purchase in fact.body["purchases"]:
        c.event(fact, "Dried", purchase_id=purchase)


def _lot(c: _Chunk, fact: Fact) -> None:
    body = fact.body
    found = [c.purchases.get((i["purchase"],)) for i in body["inputs"]]
    purchases = {p["id"]: p for p in found if p is not None}
    quantity = sum(i["mass_g"] for i in body["inputs"])
    lot = c.lots.put(
        {
            "id": body["id"],
            "supplier_id": _maker(c, Supplier, fact.org),
            "harvest_date": _harvest_date(c, purchases.values()),
            "quantity_g": quantity,
            "remaining_g": quantity,
            "certification": _certification(c, fact.org.id, purchases.values()),
            "owner_org_id": fact.org.id,
            "holder_org_id": fact.org.id,
            "bags": body.get("bags"),
            "created_at": fact.at,
            "record_id": fact.record_id,
            "updated_pos": fact.pos,
        }
    )
    for item in body["inputs"]:
        purchase = purchases.get(item["purchase"])
        if purchase is None:
            log.warning("projection.unknown_purchase", extra={"lot": lot["id"]})
            continue

        purchase["remaining_g"] -= item["mass_g"]
        c.purchases.touch(purchase)
        c.lot_inputs.put(
            {
                "cacao_batch_id": lot["id"],
                "purchase_id": purchase["id"],
                "mass_g": item["mass_g"],
            }
        )

    c.event(fact, "Bagged", cacao_batch_id=lot["id"])


def _dispatch(c: _Chunk, fact: Fact) -> None:
    body = fact.body
    old = c.shipments.get((body["id"],)) or {"received": False}
    c.shipments.put(
        {
            "id": body["id"],
            "from_org_id": fact.org.id,
            "to_org": body["to_org"],
            "lots": body["lots"],
            "received": old["received"],
            "record_id": fact.record_id,
        }
    )
    for lot in _lots(c, body["lots"]):
        lot.update(in_transit_to=body["to_org"], updated_pos=fact.pos)
        c.lots.touch(lot)

    for lot_id in body["lots"]:
        c.event(fact, "Shipped", cacao_batch_id=lot_id)


def _receipt(c: _Chunk, fact: Fact) -> None:
    body = fact.body
    shipment = c.shipments.get((body["shipment"],))
    if shipment is not None:
        shipment["received"] = True
        c.shipments.touch(shipment)

    received = {item["lot"]: item["mass_g"] for item in body["lots"]}
    for lot in _lots(c, list(received)):
        lot.update(holder_org_id=fact.org.id, in_transit_to=None, updated_pos=fact.pos)
        lot["remaining_g"] = min(lot["remaining_g"], received[lot["id"]])
        c.lots.touch(lot)

    for lot_id in received:
        c.event(fact, "Received", cacao_batch_id=lot_id)


def _processing(c: _Chunk, fact: Fact) -> None:
    body = fact.body
    product = c.products.put(
        {
            "id": body["id"],
            "name": body["product"],
            "description": body.get("note"),
            "manufacturer_id": _maker(c, Manufacturer, fact.org),
            "batch_number": body["id"],
            "units": body["units"],
            "units_sold": 0,
            "output_mass_g": body.get("output_mass_g"),
            "owner_org_id": fact.org.id,
            "holder_org_id": fact.org.id,
            "produced_at": fact.at,
            "record_id": fact.record_id,
        }
    )
    used = {item["lot"]: item["mass_g"] for item in body["inputs"]}
    for lot in _lots(c, list(used)):
        lot["remaining_g"] -= used[lot["id"]]
        lot["updated_pos"] = fact.pos
        c.lots.touch(lot)
        c.product_lots.put(
            {
                "product_id": product["id"],
                "cacao_batch_id": lot["id"],
                "quantity_g": used[lot["id"]],
            }
        )
        c.event(fact, "Processed", cacao_batch_id=lot["id"], product_id=product["id"])


def _transfer(c: _Chunk, fact: Fact) -> None:
    body = fact.body
    to_org = c.slugs.get(body["to_org"])
    product = c.products.get((body["asset"],))
    asset, table = (product, c.products) if product else (None, None)
    if asset is None and c.lots.get((body["asset"],)) is not None:
        asset, table = c.lots.get((body["asset"],)), c.lots

    if to_org is not None and asset is not None:
        asset.update(owner_org_id=to_org, holder_org_id=to_org)
        table.touch(asset)

    link = "product_id" if product is not None else "cacao_batch_id"
    c.event(fact, "Transferred", **{link: body["asset"]})


def _sale(c: _Chunk, fact: Fact) -> None:
    body = fact.body
    product = c.products.get((body["batch"],))
    if product is not None:
        product["units_sold"] += body["units"]
        c.products.touch(product)

    c.event(fact, "Sold", product_id=body["batch"])


def _lots(c: _Chunk, ids: list[str]) -> list[dict]:
    found = (c.lots.get((lot_id,)) for lot_id in dict.fromkeys(ids))
    return [lot for lot in found if lot is not None]


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


def _maker(c: _Chunk, model, org: Organisation) -> int:
    """The id of the org's supplier or manufacturer row, made on first use."""
    key = (model, org.id)
    if key not in c.makers:
        make = _supplier if model is Supplier else _manufacturer
        c.makers[key] = make(c.session, org).id

    return c.makers[key]


def _harvest_date(c: _Chunk, purchases: Iterable[dict]) -> date | None:
    found = (c.harvests.get((p["harvest_id"],)) for p in purchases if p["harvest_id"])
    dates = [h["harvested_on"] for h in found if h is not None]
    return min(dates) if dates else None


def _certification(c: _Chunk, org_id: int, purchases: Iterable[dict]) -> str | None:
    """Certifications shared by every farmer of the lot, and only those."""
    codes = {p["farmer_code"] for p in purchases}
    if not codes:
        return None

    farmers = [c.farmers.get((org_id, code)) for code in codes]
    if any(f is None for f in farmers):
        return None

    common = set.intersection(*(set(f["certifications"] or []) for f in farmers))
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

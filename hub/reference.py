"""Reference data an organisation's edges pull down: farmers, plots, lots, devices."""

from __future__ import annotations

import base64

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import CacaoBatch, Device, Farmer, Organisation, Plot, Record


def changes(session: Session, org_id: int, since: int) -> dict:
    """What changed for `org_id` after cursor `since`, and the next cursor."""
    # The cursor is the arrival position of the last projected record, so rows
    # projected later always carry a larger position.
    cursor = session.scalar(select(func.max(Record.pos)).where(Record.projected)) or 0
    farmers = session.scalars(
        select(Farmer).where(Farmer.org_id == org_id, Farmer.updated_pos > since)
    )
    plots = session.scalars(
        select(Plot).where(Plot.org_id == org_id, Plot.updated_pos > since)
    )
    lots = session.scalars(
        select(CacaoBatch).where(
            CacaoBatch.holder_org_id == org_id,
            CacaoBatch.updated_pos > since,
        )
    )
    devices = session.scalars(
        select(Device).where(Device.org_id == org_id).order_by(Device.id)
    )
    return {
        "cursor": str(max(cursor, since)),
        "farmers": [_farmer(f) for f in farmers],
        "plots": [_plot(p) for p in plots],
        "lots": [_lot(lot) for lot in lots],
        "devices": [_device(d) for d in devices],
        # Every registered organisation, so an edge can offer dispatch and transfer
        # destinations from a list; organisations are not personal data.
        "organisations": [
            _organisation(o)
            for o in session.scalars(select(Organisation).order_by(Organisation.slug))
        ],
    }


def _farmer(row: Farmer) -> dict:
    return {
        "id": row.code,
        "name": row.name,
        "village": row.village,
        "certifications": row.certifications,
        "record": row.record_id,
    }


def _plot(row: Plot) -> dict:
    return {
        "id": row.code,
        "farmer": row.farmer_code,
        "geometry": row.geometry,
        "declared_area_ha": row.declared_area_ha,
        "record": row.record_id,
    }


def _lot(row: CacaoBatch) -> dict:
    return {
        "id": row.id,
        "remaining_g": row.remaining_g,
        "in_transit_to": row.in_transit_to,
        "open": row.remaining_g > 0 and row.in_transit_to is None,
    }


def _organisation(row: Organisation) -> dict:
    return {"slug": row.slug, "name": row.name, "kind": row.kind}


def _device(row: Device) -> dict:
    return {
        "id": row.id,
        "public_key": base64.b64encode(row.public_key).decode(),
        "kind": row.kind,
        "status": row.status,
        # Gateways read this flag to stop relaying a revoked device's records.
        "revoked": row.status == "revoked",
    }

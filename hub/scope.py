"""Which objects a console or API caller may see, as SQL conditions.

Admins and auditors see everything. Everyone else sees what their organisation
supplied, owns, holds or acted on, and what was made from it: the same rule the
trace pages apply to one object, here as filters for lists and totals.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true

from hub.auth import Caller
from hub.models import (
    CacaoBatch,
    CacaoBatchInput,
    Device,
    Manufacturer,
    Product,
    ProductCacaoBatch,
    Purchase,
    Record,
    Supplier,
    TraceEvent,
)


def lots(caller: Caller) -> ColumnElement[bool]:
    """Lots the caller's organisation supplied, owns, holds or acted on."""
    if caller.reads_all:
        return true()

    org = caller.org_id
    return or_(
        CacaoBatch.owner_org_id == org,
        CacaoBatch.holder_org_id == org,
        CacaoBatch.supplier_id.in_(select(Supplier.id).where(Supplier.org_id == org)),
        CacaoBatch.id.in_(
            select(TraceEvent.cacao_batch_id).where(TraceEvent.org_id == org)
        ),
    )


def products(caller: Caller) -> ColumnElement[bool]:
    """Products the caller's organisation made, owns or holds, or supplied beans to."""
    if caller.reads_all:
        return true()

    org = caller.org_id
    own_lots = select(CacaoBatch.id).where(
        or_(
            CacaoBatch.owner_org_id == org,
            CacaoBatch.supplier_id.in_(
                select(Supplier.id).where(Supplier.org_id == org)
            ),
        )
    )
    return or_(
        Product.owner_org_id == org,
        Product.holder_org_id == org,
        Product.manufacturer_id.in_(
            select(Manufacturer.id).where(Manufacturer.org_id == org)
        ),
        Product.id.in_(
            select(ProductCacaoBatch.product_id).where(
                ProductCacaoBatch.cacao_batch_id.in_(own_lots)
            )
        ),
    )


def purchases(caller: Caller) -> ColumnElement[bool]:
    """The organisation's own purchases and those bagged into lots it may see."""
    if caller.reads_all:
        return true()

    seen_lots = select(CacaoBatch.id).where(lots(caller))
    return or_(
        Purchase.org_id == caller.org_id,
        Purchase.id.in_(
            select(CacaoBatchInput.purchase_id).where(
                CacaoBatchInput.cacao_batch_id.in_(seen_lots)
            )
        ),
    )


def devices(caller: Caller) -> ColumnElement[bool]:
    """The organisation's own devices: tablets, gateways and its hub-held signer."""
    if caller.reads_all:
        return true()
    return Device.org_id == caller.org_id


def records(caller: Caller) -> ColumnElement[bool]:
    """Records signed by the organisation's devices."""
    if caller.reads_all:
        return true()
    return Record.device_id.in_(select(Device.id).where(devices(caller)))


def device_ids(caller: Caller):
    """A subquery of the ids of the devices the caller may see."""
    return select(Device.id).where(devices(caller))

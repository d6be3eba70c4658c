"""Per-device projections of signed records: what forms offer and check before signing."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from edge.errors import AlreadyExists, MassExceeded, UnknownReference
from edge.models import Counter, Farmer, Lot, LotInput, Organisation, Plot, Purchase

FARMER_FIELDS = ("gender", "birth_year", "village", "phone", "certifications")


def next_rev(session: Session) -> int:
    """The next value of the change counter a gateway's reference cursor follows."""
    counter = session.get(Counter, "reference")
    if counter is None:
        counter = Counter(name="reference", value=0)
        session.add(counter)
    counter.value += 1
    return counter.value


def current_rev(session: Session) -> int:
    counter = session.get(Counter, "reference")
    return counter.value if counter else 0


def check(session: Session, rtype: str, body: dict) -> None:
    """Raise a domain error naming the field when `body` does not fit what we know."""
    checker = _CHECKS.get(rtype)
    if checker:
        checker(session, body)


def apply(session: Session, rtype: str, body: dict, record_id: str) -> None:
    """Fold one signed record into the projections."""
    applier = _APPLY.get(rtype)
    if applier:
        applier(session, body, record_id)


def apply_relayed(session: Session, rtype: str, body: dict, record_id: str) -> None:
    """Fold a tablet's record into a gateway's projections so other tablets see it."""
    if rtype in ("purchase", "lot") and session.get(_MODELS[rtype], body["id"]):
        return
    apply(session, rtype, body, record_id)
    row = session.get(_MODELS[rtype], body["id"]) if rtype in _MODELS else None
    if row is not None and hasattr(row, "local"):
        row.local = False


def _check_farmer(session: Session, body: dict) -> None:
    if "corrects" not in body and session.get(Farmer, body["id"]):
        raise AlreadyExists(
            f"farmer code {body['id']} is registered already", where="body.id"
        )


def _check_plot(session: Session, body: dict) -> None:
    _need_farmer(session, body["farmer"])
    if "corrects" not in body and session.get(Plot, body["id"]):
        raise AlreadyExists(
            f"plot code {body['id']} is registered already", where="body.id"
        )


def _check_harvest(session: Session, body: dict) -> None:
    _need_farmer_and_plot(session, body["farmer"], body["plot"])


def _check_drying(session: Session, body: dict) -> None:
    for index, purchase in enumerate(body["purchases"]):
        if session.get(Purchase, purchase) is None:
            raise UnknownReference(
                f"purchase {purchase} is not known on this device",
                where=f"body.purchases.{index}",
            )


def _check_lot(session: Session, body: dict) -> None:
    seen: set[str] = set()
    for index, item in enumerate(body["inputs"]):
        where = f"body.inputs.{index}"
        purchase = session.get(Purchase, item["purchase"])
        if purchase is None:
            raise UnknownReference(
                f"purchase {item['purchase']} is not known on this device", where=where
            )
        if item["purchase"] in seen:
            raise AlreadyExists(
                f"purchase {item['purchase']} is listed twice", where=where
            )
        seen.add(item["purchase"])
        if item["mass_g"] > purchase.remaining_g:
            raise MassExceeded(
                f"purchase {purchase.id} has {purchase.remaining_g / 1000:g} kg left, "
                f"not {item['mass_g'] / 1000:g} kg",
                where=where,
            )


def _check_dispatch(session: Session, body: dict) -> None:
    _need_organisation(session, body["to_org"])
    for index, lot_id in enumerate(body["lots"]):
        where = f"body.lots.{index}"
        lot = session.get(Lot, lot_id)
        if lot is None:
            raise UnknownReference(
                f"lot {lot_id} is not known on this device", where=where
            )
        if lot.dispatched_to or lot.remaining_g <= 0:
            raise MassExceeded(
                f"lot {lot_id} has already left for {lot.dispatched_to or 'elsewhere'}",
                where=where,
            )


def _check_transfer(session: Session, body: dict) -> None:
    _need_organisation(session, body["to_org"])


def _need_organisation(session: Session, slug: str) -> None:
    """Refuse an organisation the hub's list does not name, once the list is known.

    Before the first sync the list is empty and any well-formed slug passes: the
    hub then judges it, as it did before the edge knew the list.
    """
    if session.get(Organisation, slug) is not None:
        return
    if session.scalar(select(Organisation.slug).limit(1)) is None:
        return
    raise UnknownReference(
        f"no organisation {slug} is known; choose one from the list (a typo here "
        "would send the lots where the hub cannot follow them)",
        where="body.to_org",
    )


def _check_purchase(session: Session, body: dict) -> None:
    _need_farmer_and_plot(session, body["farmer"], body["plot"])


def _need_farmer(session: Session, farmer_id: str) -> None:
    if session.get(Farmer, farmer_id) is None:
        raise _no_farmer(farmer_id)


def _no_farmer(farmer_id: str) -> UnknownReference:
    return UnknownReference(
        f"farmer {farmer_id} is not registered on this device", where="body.farmer"
    )


# Every harvest and purchase form waits on this check, so it is one Core query
# for two columns instead of two ORM loads of whole rows.
_FARMER_AND_PLOT_OWNER = select(
    select(Farmer.id).where(Farmer.id == bindparam("farmer")).scalar_subquery(),
    select(Plot.farmer).where(Plot.id == bindparam("plot")).scalar_subquery(),
)


def _need_farmer_and_plot(session: Session, farmer_id: str, plot_id: str) -> None:
    # Core on the session's connection skips autoflush; flush so a farmer or plot
    # added earlier in this transaction is seen.
    session.flush()
    params = {"farmer": farmer_id, "plot": plot_id}
    known, owner = session.connection().execute(_FARMER_AND_PLOT_OWNER, params).one()
    if known is None:
        raise _no_farmer(farmer_id)
    _need_plot_of(plot_id, owner, farmer_id)


def _need_plot_of(plot_id: str, owner: str | None, farmer_id: str) -> None:
    if owner is None:
        raise UnknownReference(
            f"plot {plot_id} is not registered on this device", where="body.plot"
        )
    if owner != farmer_id:
        raise UnknownReference(
            f"plot {plot_id} belongs to farmer {owner}, not {farmer_id}",
            where="body.plot",
        )


def _apply_farmer(session: Session, body: dict, record_id: str) -> None:
    farmer = session.get(Farmer, body["id"]) or Farmer(id=body["id"])
    farmer.name = body["name"]
    farmer.village = body.get("village")
    farmer.fields = {k: body[k] for k in FARMER_FIELDS if k in body}
    farmer.record_id = record_id
    farmer.local = True
    farmer.rev = next_rev(session)
    session.add(farmer)


def _apply_plot(session: Session, body: dict, record_id: str) -> None:
    # shapely and pyproj cost ~26 MB resident; an idle edge never maps a plot.
    from shared import geo

    plot = session.get(Plot, body["id"]) or Plot(id=body["id"])
    plot.farmer = body["farmer"]
    plot.geometry = body["geometry"]
    plot.area_ha = geo.area_ha(body["geometry"])
    plot.declared_area_ha = body.get("declared_area_ha")
    plot.record_id = record_id
    plot.local = True
    plot.rev = next_rev(session)
    session.add(plot)


def _apply_purchase(session: Session, body: dict, record_id: str) -> None:
    session.add(
        Purchase(
            id=body["id"],
            farmer=body["farmer"],
            plot=body["plot"],
            mass_g=body["mass_g"],
            remaining_g=body["mass_g"],
            grade=body["grade"],
        )
    )


def _apply_lot(session: Session, body: dict, record_id: str) -> None:
    total = sum(item["mass_g"] for item in body["inputs"])
    session.add(
        Lot(id=body["id"], mass_g=total, remaining_g=total, rev=next_rev(session))
    )
    session.flush()
    for item in body["inputs"]:
        purchase = session.get(Purchase, item["purchase"])
        if purchase is not None:  # a relayed lot may name another tablet's purchase
            purchase.remaining_g -= item["mass_g"]
        session.add(
            LotInput(lot=body["id"], purchase=item["purchase"], mass_g=item["mass_g"])
        )


def _apply_dispatch(session: Session, body: dict, record_id: str) -> None:
    rev = next_rev(session)
    for lot_id in body["lots"]:
        lot = session.get(Lot, lot_id)
        if lot is None:  # a relayed dispatch may name a lot this gateway never saw
            continue
        lot.dispatched_to = body["to_org"]
        lot.remaining_g = 0
        lot.rev = rev


def pending_purchase_grams(session: Session) -> int:
    """Grams bought and not yet bagged into a lot."""
    return session.scalar(select(func.coalesce(func.sum(Purchase.remaining_g), 0)))


_MODELS = {"farmer": Farmer, "plot": Plot, "purchase": Purchase, "lot": Lot}
_CHECKS = {
    "farmer": _check_farmer,
    "plot": _check_plot,
    "harvest": _check_harvest,
    "purchase": _check_purchase,
    "drying": _check_drying,
    "lot": _check_lot,
    "dispatch": _check_dispatch,
    "transfer": _check_transfer,
}
_APPLY = {
    "farmer": _apply_farmer,
    "plot": _apply_plot,
    "purchase": _apply_purchase,
    "lot": _apply_lot,
    "dispatch": _apply_dispatch,
}

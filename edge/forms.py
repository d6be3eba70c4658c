"""Read the pages' form fields into record bodies, with one message per bad field.

People type kilograms with a comma or a dot; records carry integer grams.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from werkzeug.datastructures import MultiDict

from shared.units import kg_value as format_kg

EARLIEST_DATE = date(1990, 1, 1)

# One purchase or harvest is a farmer's sacks, not a warehouse: above this the
# unit is almost surely wrong (grams or pounds typed as kilograms).
KG_MAX = 10_000
# Currencies cocoa is bought and sold in, from the producing countries (XOF, XAF,
# GHS, NGN, BRL, IDR) to the buyers' (EUR, USD, GBP, CHF). Ecuador pays in USD.
CURRENCIES = ("XOF", "XAF", "GHS", "NGN", "EUR", "USD", "GBP", "CHF", "BRL", "IDR")


@dataclass
class Parsed:
    """A body ready to sign, or the fields that stop it."""

    body: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def put(self, key: str, value) -> None:
        if value not in (None, "", []):
            self.body[key] = value


def farmer(form: MultiDict) -> Parsed:
    out = Parsed()
    out.put("id", _text(form, "id", out, required=True))
    out.put("name", _text(form, "name", out, required=True))
    out.put("gender", _choice(form, "gender", ("F", "M", "X"), out))
    out.put("birth_year", _integer(form, "birth_year", out))
    out.put("village", _text(form, "village", out))
    out.put("phone", _text(form, "phone", out))
    out.put("registered_on", _date(form, "registered_on", out))
    return out


def plot(form: MultiDict) -> Parsed:
    out = Parsed()
    out.put("id", _text(form, "id", out, required=True))
    out.put("farmer", _text(form, "farmer", out, required=True))
    out.put("gps_accuracy_m", _number(form, "gps_accuracy_m", out, required=True))
    declared = _number(form, "declared_area_ha", out)
    out.put("declared_area_ha", declared)
    geometry = _geometry(form, out)
    if geometry is not None:
        # Loaded on the first plot form, not at start: shapely and pyproj cost
        # ~26 MB resident that an idle edge should not carry.
        from shared import geo

        check = geo.check_plot(geometry, declared)
        for issue in check.issues:
            if issue.severity == geo.REJECT:
                out.errors["geometry"] = issue.message
            else:
                out.warnings.append(issue.message)
        out.put("geometry", geometry)
    return out


def harvest(form: MultiDict) -> Parsed:
    out = Parsed()
    out.put("farmer", _text(form, "farmer", out, required=True))
    out.put("plot", _text(form, "plot", out, required=True))
    out.put("mass_g", _grams(form, "kg", out, limit=KG_MAX))
    out.put("harvested_on", _date(form, "harvested_on", out, required=True))
    return out


def purchase(form: MultiDict) -> Parsed:
    out = Parsed()
    out.put("farmer", _text(form, "farmer", out, required=True))
    out.put("plot", _text(form, "plot", out, required=True))
    out.put("mass_g", _grams(form, "kg", out, limit=KG_MAX))
    out.put("grade", _choice(form, "grade", ("grade-1", "grade-2", "sub-grade"), out))
    out.put("price", _integer(form, "price", out, required=True))
    currency = form.get("currency", "").strip().upper()
    if not currency:
        out.errors["currency"] = "required"
    elif currency not in CURRENCIES:
        out.errors["currency"] = (
            f"{currency} is not a currency cocoa is traded in here; choose one of "
            f"{', '.join(CURRENCIES)}"
        )
    else:
        out.put("currency", currency)
    return out


def drying(form: MultiDict) -> Parsed:
    out = Parsed()
    out.put("stage", _choice(form, "stage", ("fermentation", "drying"), out))
    purchases = form.getlist("purchases")
    if not purchases:
        out.errors["purchases"] = "choose at least one purchase"
    out.put("purchases", purchases)
    out.put("started_on", _date(form, "started_on", out, required=True))
    out.put("ended_on", _date(form, "ended_on", out))
    out.put("moisture_pct", _number(form, "moisture_pct", out))
    return out


def lot(form: MultiDict, purchase_ids: list[str]) -> Parsed:
    out = Parsed()
    inputs = []
    for purchase_id in purchase_ids:
        name = f"kg:{purchase_id}"
        if form.get(name, "").strip():
            grams = _grams(form, name, out)
            if grams:
                inputs.append({"purchase": purchase_id, "mass_g": grams})
    if not inputs and not out.errors:
        out.errors["inputs"] = "give the kilograms taken from at least one purchase"
    out.put("inputs", inputs)
    out.put("bags", _integer(form, "bags", out))
    return out


def dispatch(form: MultiDict) -> Parsed:
    out = Parsed()
    lots = form.getlist("lots")
    if not lots:
        out.errors["lots"] = "choose at least one lot"
    out.put("lots", lots)
    out.put("to_org", _text(form, "to_org", out, required=True))
    out.put("carrier", _text(form, "carrier", out))
    out.put("vehicle", _text(form, "vehicle", out))
    return out


def transfer(form: MultiDict) -> Parsed:
    out = Parsed()
    out.put("asset", _text(form, "asset", out, required=True))
    out.put("to_org", _text(form, "to_org", out, required=True))
    return out


def field_for(where: str | None, body: dict) -> str:
    """The form field a problem's `where` (e.g. body.mass_g) points at."""
    if not where:
        return "_form"

    parts = where.split(".")[1:] or ["_form"]
    if parts[0] == "mass_g":
        return "kg"
    if parts[0] == "inputs" and len(parts) > 1 and parts[1].isdigit():
        inputs = body.get("inputs", [])
        index = int(parts[1])
        return f"kg:{inputs[index]['purchase']}" if index < len(inputs) else "inputs"
    if parts[0] in ("lots", "purchases"):
        return parts[0]
    return parts[0]


def _text(form: MultiDict, name: str, out: Parsed, *, required: bool = False):
    value = form.get(name, "").strip()
    if required and not value:
        out.errors[name] = "required"
    return value or None


def _choice(form: MultiDict, name: str, allowed: tuple[str, ...], out: Parsed):
    value = form.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        out.errors[name] = f"choose one of {', '.join(allowed)}"
        return None
    return value


def _decimal(form: MultiDict, name: str, out: Parsed, required: bool):
    raw = form.get(name, "").strip().replace(",", ".").replace(" ", "")
    if not raw:
        if required:
            out.errors[name] = "required"
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        out.errors[name] = f"{form.get(name)!r} is not a number"
        return None
    if not value.is_finite() or value < 0:
        out.errors[name] = "must be a positive number"
        return None
    # Past a trillion no field here makes sense, and formatting 1e308 would overflow.
    if value.adjusted() >= 12:
        out.errors[name] = f"{form.get(name)!r} is far too large; check the number"
        return None
    return value


def _number(form: MultiDict, name: str, out: Parsed, *, required: bool = False):
    value = _decimal(form, name, out, required)
    return None if value is None else float(value)


def _integer(form: MultiDict, name: str, out: Parsed, *, required: bool = False):
    value = _decimal(form, name, out, required)
    if value is None:
        return None
    if value != value.to_integral_value():
        out.errors[name] = "must be a whole number"
        return None
    return int(value)


def _grams(
    form: MultiDict, name: str, out: Parsed, *, limit: int | None = None
) -> int | None:
    value = _decimal(form, name, out, True)
    if value is None:
        return None
    if limit is not None and value > limit:
        out.errors[name] = (
            f"{format_kg(value * 1000)} kg is more than one delivery of "
            f"{format_kg(limit * 1000)} kg at most; check the unit (kilograms)"
        )
        return None
    grams = value * 1000
    if grams != grams.to_integral_value():
        out.errors[name] = "kilograms take at most three decimals (whole grams)"
        return None
    if grams < 1:
        out.errors[name] = "must be more than 0 kg"
        return None
    return int(grams)


def _date(form: MultiDict, name: str, out: Parsed, *, required: bool = False):
    value = form.get(name, "").strip()
    if not value:
        if required:
            out.errors[name] = "required"
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        out.errors[name] = "use the date picker or YYYY-MM-DD"
        return None
    # The tablet's clock may be a day off, never a year: a date past tomorrow or
    # before cocoa trading was recorded this way is a typing slip.
    if day > date.today() + timedelta(days=1):
        out.errors[name] = f"{day.isoformat()} is in the future; check the year"
        return None
    if day < EARLIEST_DATE:
        out.errors[name] = f"{day.isoformat()} is before {EARLIEST_DATE.year}; check the year"
        return None
    return day.isoformat()


def _geometry(form: MultiDict, out: Parsed) -> dict | None:
    pasted = form.get("geojson", "").strip()
    if pasted:
        return _pasted_geometry(pasted, out)

    lat = _number_signed(form, "lat", out)
    lon = _number_signed(form, "lon", out)
    if lat is None or lon is None:
        if "lat" not in out.errors and "lon" not in out.errors:
            out.errors["geometry"] = (
                "paste the plot's GeoJSON or give latitude and longitude"
            )
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def _pasted_geometry(text: str, out: Parsed) -> dict | None:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        out.errors["geojson"] = f"not JSON: {exc}"
        return None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = doc.get("geometry")
    if not isinstance(doc, dict) or doc.get("type") not in ("Point", "Polygon"):
        out.errors["geojson"] = (
            "paste a GeoJSON Point or Polygon (or a Feature holding one)"
        )
        return None
    return {"type": doc["type"], "coordinates": doc.get("coordinates")}


_SIGNED = re.compile(r"^-?\d+(\.\d+)?$")


def _number_signed(form: MultiDict, name: str, out: Parsed) -> float | None:
    raw = form.get(name, "").strip().replace(",", ".")
    if not raw:
        return None
    if not _SIGNED.match(raw):
        out.errors[name] = f"{form.get(name)!r} is not a decimal number like -6.5812"
        return None
    return float(raw)

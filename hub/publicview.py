"""The consumer's story of a product: what may be shown to anyone, and nothing else.

Fields are copied one by one from the trace, never passed through, so a field added to
the trace later cannot leak onto the public page: no farmer names, phones, prices,
buyers or plot shapes; places at village level and one dot rounded to about 11 km.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from math import cos, radians

from shared.geo import cocoa_zone

COARSE_DEG = 0.1  # about 11 km: shows the region, hides the farm
MAP_W = 320
STEPS = {
    "Purchased": "Bought from the farmers by the cooperative",
    "Dried": "Fermented and dried in the sun",
    "Bagged": "Packed in jute bags at the cooperative",
    "Shipped": "Shipped to the chocolate maker",
    "Received": "Received by the chocolate maker",
    "Processed": "Made into chocolate",
    "Sold": "On its way to the shops",
}


@dataclass(frozen=True)
class Step:
    title: str
    when: str  # "12 Nov 2026" or "2 – 19 Nov 2026"
    committed: int
    total: int


@dataclass
class RegionMap:
    outline: str = ""
    dot: tuple[float, float] | None = None
    width: int = MAP_W
    height: int = 0


@dataclass
class Story:
    name: str
    batch: str
    maker: str
    made_on: str
    cooperatives: list[tuple[str, str]] = field(default_factory=list)
    villages: list[str] = field(default_factory=list)
    farmers: int = 0
    certifications: list[str] = field(default_factory=list)
    harvest_months: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    region: RegionMap = field(default_factory=RegionMap)
    product_id: str = ""
    committed: int = 0  # events sealed in the ledger, as ledger_tally counts them
    recorded: int = 0


def common_certifications(lots: list[dict]) -> list[str]:
    """Certifications held by every lot: all a product made of them may claim."""
    if not lots:
        return []

    held = [
        {c.strip() for c in (lot["certification"] or "").split(",") if c.strip()}
        for lot in lots
    ]
    return sorted(set.intersection(*held))


def ledger_tally(doc: dict) -> tuple[int, int]:
    """(committed, recorded) over every event of a trace, as both pages show it."""
    events = doc["purchase_events"] + doc["events"]
    committed = sum(e["ledger"]["status"] == "committed" for e in events)
    return committed, len(events)


def story(doc: dict) -> Story:
    """The public story of a product trace."""
    product = doc["product"]
    lots = doc["cacao_batches"]
    committed, recorded = ledger_tally(doc)
    return Story(
        name=product["name"],
        batch=product["batch_number"],
        maker=product["manufacturer"],
        made_on=_day(product["produced_at"]),
        cooperatives=sorted(
            {(lot["supplier"], lot["supplier_location"] or "") for lot in lots}
        ),
        villages=sorted({f["village"] for f in doc["farmers"] if f.get("village")}),
        farmers=len(doc["farmers"]),
        certifications=common_certifications(lots),
        harvest_months=[_month(m) for m in doc.get("harvest_months", [])],
        steps=_steps(doc),
        region=_region(doc["plots"]),
        product_id=product["id"],
        committed=committed,
        recorded=recorded,
    )


def _steps(doc: dict) -> list[Step]:
    # The product's events already hold its lots' shipments and receipts.
    events = doc["purchase_events"] + doc["events"]
    steps = []
    for kind, title in STEPS.items():
        found = [e for e in events if e["event"] == kind]
        if not found:
            continue
        days = sorted(e["timestamp"][:10] for e in found)
        committed = sum(e["ledger"]["status"] == "committed" for e in found)
        steps.append(Step(title, _span(days[0], days[-1]), committed, len(found)))
    return steps


def _region(plots: list[dict]) -> RegionMap:
    """The cocoa belt outline and one dot at the rounded centre of the plots."""
    zone = cocoa_zone()
    lon0, lat0, lon1, lat1 = zone.bounds
    squeeze = cos(radians((lat0 + lat1) / 2))
    scale = (MAP_W - 8) / ((lon1 - lon0) * squeeze)
    height = int((lat1 - lat0) * scale) + 8

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return 4 + (lon - lon0) * squeeze * scale, 4 + (lat1 - lat) * scale

    outline = " ".join("{:.1f},{:.1f}".format(*xy(*c)) for c in zone.exterior.coords)
    centres = [_centre(p["geometry"]) for p in plots]
    centres = [c for c in centres if c is not None]
    dot = None
    if centres:
        lon = round(sum(c[0] for c in centres) / len(centres) / COARSE_DEG) * COARSE_DEG
        lat = round(sum(c[1] for c in centres) / len(centres) / COARSE_DEG) * COARSE_DEG
        dot = xy(lon, lat)
    return RegionMap(outline, dot, MAP_W, height)


def _centre(geometry: dict) -> tuple[float, float] | None:
    if geometry.get("type") == "Point":
        return tuple(geometry["coordinates"][:2])
    if geometry.get("type") == "Polygon":
        ring = geometry["coordinates"][0]
        return (
            sum(c[0] for c in ring) / len(ring),
            sum(c[1] for c in ring) / len(ring),
        )
    return None


def _day(text: str) -> str:
    return date.fromisoformat(text[:10]).strftime("%-d %b %Y")


def _span(first: str, last: str) -> str:
    if first == last:
        return _day(first)
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day} – {_day(last)}"
    return f"{_day(first)} – {_day(last)}"


def _month(text: str) -> str:
    return date.fromisoformat(text + "-01").strftime("%B %Y")

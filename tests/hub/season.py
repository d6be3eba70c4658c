"""A small, varied season for console tests and screenshots: two cooperatives, one maker.

Deterministic: farmers and plots around Soubré and Méagui, purchases over seven weeks,
three lots, two shipments, two chocolate batches and their sales.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from math import cos, radians

from shared.keys import DeviceKey
from shared.record import GENESIS, SignedRecord, sign_record

START = datetime(2026, 9, 7, 8, 0, tzinfo=timezone.utc)
COOPS = {
    # slug: (name, location, village, centre lon/lat, certification)
    "coop-soubre": ("Coop Soubré", "Soubré", "Okrouyo", (-6.60, 5.78), "Fairtrade"),
    "coop-meagui": (
        "Coop Méagui",
        "Méagui",
        "Méagui",
        (-6.56, 5.40),
        "Rainforest Alliance",
    ),
}
MAKER = "choco-abidjan"


@dataclass
class Signer:
    """A device signing consecutive records at chosen times."""

    key: DeviceKey
    records: list[SignedRecord] = field(default_factory=list)

    @property
    def device(self) -> str:
        return self.key.device_id

    def add(self, rtype: str, body: dict, at: datetime) -> SignedRecord:
        prev = self.records[-1].id if self.records else GENESIS
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        rec = sign_record(self.key, rtype, len(self.records) + 1, prev, body, stamp)
        self.records.append(rec)
        return rec


@dataclass
class Season:
    tablets: dict[str, Signer]  # by cooperative slug
    factory: Signer


def season(farmers_per_coop: int = 8, seed: int = 11) -> Season:
    rng = random.Random(seed)
    tablets = {
        slug: Signer(DeviceKey.from_seed(bytes([40 + i]) * 32))
        for i, slug in enumerate(COOPS)
    }
    lots: dict[str, list[tuple[str, int]]] = {}
    for slug, tablet in tablets.items():
        lots.update(_coop(rng, slug, tablet, farmers_per_coop))
    factory = Signer(DeviceKey.from_seed(bytes([60]) * 32))
    _factory(factory, lots)
    return Season(tablets, factory)


def _coop(rng: random.Random, slug: str, tablet: Signer, count: int) -> dict:
    _, _, village, (lon, lat), cert = COOPS[slug]
    tag = slug.split("-")[1][:3].upper()
    purchases = []
    for n in range(1, count + 1):
        farmer = f"CI-{tag}-{n:04d}"
        tablet.add("farmer", _farmer(rng, farmer, village, cert, n), START)
        plot = f"{farmer}-P1"
        tablet.add("plot", _plot(rng, farmer, plot, lon, lat, n), START)
        for week in range(rng.randint(1, 3)):
            at = START + timedelta(days=rng.randint(0, 48), hours=week)
            pid = f"P-{tag}-{n:02d}{week}"
            mass = rng.randint(60, 900) * 1000
            body = {
                "id": pid,
                "farmer": farmer,
                "plot": plot,
                "mass_g": mass,
                "grade": rng.choice(["grade-1", "grade-1", "grade-2"]),
                "price": mass * 18 // 10,
                "currency": "XOF",
            }
            tablet.add("purchase", body, at)
            purchases.append((pid, mass))
    return _lots(tablet, tag, purchases)


def _farmer(rng: random.Random, code: str, village: str, cert: str, n: int) -> dict:
    return {
        "id": code,
        "name": f"Farmer {code[-4:]} Kouassi",
        "village": village,
        "phone": f"+225 07{n:08d}",
        "gender": rng.choice("FM"),
        # In Méagui every third farmer is not certified, so neither is its lot.
        "certifications": [cert] if n % 3 or cert == "Fairtrade" else [],
    }


def _plot(rng, farmer: str, plot: str, lon: float, lat: float, n: int) -> dict:
    cx = lon + rng.uniform(-0.03, 0.03)
    cy = lat + rng.uniform(-0.02, 0.02)
    if n % 5 == 0:
        geometry = {"type": "Point", "coordinates": [round(cx, 6), round(cy, 6)]}
        return _plot_body(farmer, plot, geometry, 1.5)
    side = rng.uniform(80, 180)  # metres
    dx, dy = side / (111_320 * cos(radians(cy))), side / 110_574
    ring = [
        [cx, cy],
        [cx + dx, cy + dy * 0.1],
        [cx + dx * 1.1, cy + dy],
        [cx - dx * 0.1, cy + dy * 0.9],
        [cx, cy],
    ]
    geometry = {
        "type": "Polygon",
        "coordinates": [[[round(a, 6), round(b, 6)] for a, b in ring]],
    }
    return _plot_body(farmer, plot, geometry, round(side * side / 10_000, 2))


def _plot_body(farmer: str, plot: str, geometry: dict, area_ha: float) -> dict:
    return {
        "id": plot,
        "farmer": farmer,
        "geometry": geometry,
        "gps_accuracy_m": 4.0,
        "declared_area_ha": area_ha,
    }


def _lots(tablet: Signer, tag: str, purchases: list) -> dict:
    """Two lots from the Soubré purchases, one from Méagui; each ships to the maker."""
    halves = [purchases] if tag == "MEA" else [purchases[::2], purchases[1::2]]
    at = START + timedelta(days=50)
    made = {}
    for i, chosen in enumerate(halves, start=1):
        lot = f"LOT-{tag}-{i}"
        inputs = [{"purchase": p, "mass_g": m * 96 // 100} for p, m in chosen]
        tablet.add("drying", _drying(chosen, at), at)
        tablet.add("lot", {"id": lot, "inputs": inputs, "bags": 10}, at)
        made[lot] = [(item["purchase"], item["mass_g"]) for item in inputs]
    tablet.add(
        "dispatch",
        {"id": f"SHP-{tag}", "lots": sorted(made), "to_org": MAKER},
        at + timedelta(days=1),
    )
    # Sold to the maker: the journey rules let only the owner process a lot.
    for lot in sorted(made):
        tablet.add("transfer", {"asset": lot, "to_org": MAKER}, at + timedelta(days=1))
    return made


def _drying(chosen: list, at: datetime) -> dict:
    return {
        "id": f"D-{chosen[0][0]}",
        "stage": "drying",
        "purchases": [p for p, _ in chosen],
        "started_on": (at - timedelta(days=8)).date().isoformat(),
    }


def _factory(factory: Signer, lots: dict) -> None:
    at = START + timedelta(days=54)
    totals = {lot: sum(m for _, m in inputs) for lot, inputs in lots.items()}
    for tag in ("SOU", "MEA"):
        received = [
            {"lot": lot, "mass_g": g * 99 // 100}
            for lot, g in sorted(totals.items())
            if f"-{tag}-" in lot
        ]
        factory.add("receipt", {"shipment": f"SHP-{tag}", "lots": received}, at)
    first = {"LOT-SOU-1": 0.6, "LOT-MEA-1": 0.5}
    factory.add(
        "processing",
        _processing("BAR-2026-041", "Dark 70 % Soubré & Méagui", first, totals),
        at + timedelta(days=3),
    )
    factory.add(
        "processing",
        _processing("BAR-2026-042", "Milk 40 %", {"LOT-SOU-2": 0.5}, totals),
        at + timedelta(days=4),
    )
    for n, (units, buyer) in enumerate([(1200, "Shop Plateau"), (800, "Shop Cocody")]):
        sale = {
            "id": f"S-{n + 1}",
            "batch": "BAR-2026-041",
            "units": units,
            "buyer": buyer,
        }
        factory.add("sale", sale, at + timedelta(days=6 + n))


def _processing(pid: str, name: str, shares: dict, totals: dict) -> dict:
    inputs = [{"lot": lot, "mass_g": int(totals[lot] * s)} for lot, s in shares.items()]
    return {"id": pid, "product": name, "units": 8000, "inputs": inputs}

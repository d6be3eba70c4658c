"""Builders shared by the hub tests: device chains and batches."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.keys import DeviceKey
from shared.record import GENESIS, SignedRecord, sign_record
from shared.wire import Segment, encode_batch

TIME = "2026-11-02T08:00:00Z"


def harvest(n: int) -> dict:
    return {
        "id": f"H-{n}",
        "farmer": "CI-SOU-0001",
        "plot": "CI-SOU-0001-P1",
        "mass_g": 1000 + n,
        "harvested_on": "2026-11-02",
    }


@dataclass
class Chain:
    """A device that signs consecutive records, as an edge would."""

    key: DeviceKey
    records: list[SignedRecord] = field(default_factory=list)

    @classmethod
    def seeded(cls, n: int) -> Chain:
        return cls(DeviceKey.from_seed(bytes([n]) * 32))

    @property
    def device(self) -> str:
        return self.key.device_id

    def add(self, rtype: str, body: dict) -> SignedRecord:
        prev = self.records[-1].id if self.records else GENESIS
        rec = sign_record(self.key, rtype, len(self.records) + 1, prev, body, TIME)
        self.records.append(rec)
        return rec

    def harvests(self, count: int) -> list[SignedRecord]:
        return [
            self.add("harvest", harvest(len(self.records) + 1)) for _ in range(count)
        ]

    def segment(self, first: int = 1, last: int | None = None) -> Segment:
        last = len(self.records) if last is None else last
        return Segment(self.device, first, self.records[first - 1 : last])


def frame(*segments: Segment) -> bytes:
    return encode_batch(list(segments), level=1)


FARMER = {
    "id": "CI-SOU-0001",
    "name": "Aya Koné",
    "village": "Méagui",
    "phone": "+225 0700000001",
    "certifications": ["Rainforest Alliance"],
}
PLOT = {
    "id": "CI-SOU-0001-P1",
    "farmer": "CI-SOU-0001",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [[-6.60, 5.78], [-6.59, 5.78], [-6.59, 5.79], [-6.60, 5.79], [-6.60, 5.78]]
        ],
    },
    "gps_accuracy_m": 4.5,
    "declared_area_ha": 1.2,
}


def coop_journey(coop: Chain) -> None:
    """A cooperative registers, buys, bags and ships one lot to `choco-abidjan`."""
    coop.add("farmer", FARMER)
    coop.add("plot", PLOT)
    coop.add(
        "harvest",
        {
            "id": "H-1",
            "farmer": FARMER["id"],
            "plot": PLOT["id"],
            "mass_g": 500_000,
            "harvested_on": "2026-10-30",
        },
    )
    coop.add(
        "purchase",
        {
            "id": "P-1",
            "farmer": FARMER["id"],
            "plot": PLOT["id"],
            "harvest": "H-1",
            "mass_g": 480_000,
            "grade": "grade-1",
            "price": 480_000,
            "currency": "XOF",
        },
    )
    coop.add(
        "drying",
        {
            "id": "D-1",
            "stage": "drying",
            "purchases": ["P-1"],
            "started_on": "2026-11-01",
        },
    )
    coop.add(
        "lot",
        {"id": "LOT-1", "inputs": [{"purchase": "P-1", "mass_g": 450_000}], "bags": 7},
    )
    coop.add("dispatch", {"id": "SHP-1", "lots": ["LOT-1"], "to_org": "choco-abidjan"})


def factory_journey(factory: Chain) -> None:
    """The manufacturer receives the lot, makes bars of it and sells some."""
    factory.add(
        "receipt", {"shipment": "SHP-1", "lots": [{"lot": "LOT-1", "mass_g": 449_000}]}
    )
    factory.add(
        "processing",
        {
            "id": "BAR-2026-001",
            "product": "Dark 70 %",
            "units": 4000,
            "inputs": [{"lot": "LOT-1", "mass_g": 400_000}],
        },
    )
    factory.add(
        "sale",
        {"id": "S-1", "batch": "BAR-2026-001", "units": 1200, "buyer": "Shop Plateau"},
    )

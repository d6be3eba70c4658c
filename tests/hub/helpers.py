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

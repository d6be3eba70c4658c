"""A synthetic buying season: realistic signed records from a few tablets."""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.keys import DeviceKey
from shared.record import GENESIS, SignedRecord, sign_record


@dataclass
class DeviceStream:
    key: DeviceKey
    records: list[SignedRecord]


def season(devices: int, per_device: int, seed: int = 7) -> list[DeviceStream]:
    """Purchases and harvests as a cooperative buying clerk records them."""
    rng = random.Random(seed)
    streams = []
    for d in range(devices):
        key = DeviceKey.from_seed(bytes([d + 1]) * 32)
        prev, records = GENESIS, []
        for seq in range(1, per_device + 1):
            rtype, body = _body(rng, key, seq)
            minute = seq % 60
            time = f"2026-11-{1 + seq // 1440 % 28:02d}T{8 + seq // 60 % 10:02d}:{minute:02d}:00Z"
            rec = sign_record(key, rtype, seq, prev, body, time)
            records.append(rec)
            prev = rec.id
        streams.append(DeviceStream(key, records))
    return streams


def _body(rng: random.Random, key: DeviceKey, seq: int) -> tuple[str, dict]:
    farmer = f"CI-SOU-{rng.randint(1, 400):04d}"
    plot = f"{farmer}-P{rng.randint(1, 3)}"
    ident = f"{key.device_id[2:]}-{seq}"
    mass = rng.randint(20, 900) * 100
    if seq % 3:
        return "purchase", {
            "id": f"PUR-{ident}",
            "farmer": farmer,
            "plot": plot,
            "mass_g": mass,
            "grade": rng.choice(["grade-1", "grade-1", "grade-2"]),
            "price": mass * 18 // 10,
            "currency": "XOF",
        }
    return "harvest", {
        "id": f"HAR-{ident}",
        "farmer": farmer,
        "plot": plot,
        "mass_g": mass,
        "harvested_on": f"2026-11-{1 + seq % 28:02d}",
    }

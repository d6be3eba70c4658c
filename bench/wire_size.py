"""Bytes per record on the wire: CTB1 frames beside a naive signed JSON envelope.

The naive baseline is what a sync API would send without our framing: a JSON array
of objects holding every record field and a base64 signature, gzip-compressed.
Each batch size is measured over consecutive slices of one device's stream, so a
size of 1 pays the full `prev` and frame header on every record, as it would live.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from dataclasses import dataclass

from shared.record import SignedRecord
from shared.wire import Segment, encode_batch

SIZES = (1, 10, 50, 200, 1000)


@dataclass(frozen=True)
class WireSize:
    """Average bytes per record for one batch size."""

    batch: int
    frames: int
    ctb1_raw: float
    ctb1_zlib: float
    json_raw: float
    json_gzip: float


def measure(device: str, records: list[SignedRecord], sizes=SIZES) -> list[WireSize]:
    """Bytes per record for each batch size that fits in `records`."""
    out = []
    for size in sizes:
        slices = [
            (i + 1, records[i : i + size])
            for i in range(0, len(records) - size + 1, size)
        ][: max(1, 2000 // size)]
        if not slices:
            continue

        totals = [0, 0, 0, 0]
        for first, chunk in slices:
            frame = encode_batch([Segment(device, first, chunk)])
            naive = naive_envelope(chunk)
            sent = (len(zlib.decompress(frame)), len(frame))
            for n, value in enumerate(sent + (len(naive), len(gzip.compress(naive)))):
                totals[n] += value
        count = len(slices) * size
        out.append(WireSize(size, len(slices), *(t / count for t in totals)))
    return out


def naive_envelope(records: list[SignedRecord]) -> bytes:
    """JSON with every field of each record and its base64 signature."""
    docs = []
    for rec in records:
        doc = json.loads(rec.raw)
        doc["id"] = rec.id
        doc["signature"] = base64.b64encode(rec.signature).decode()
        docs.append(doc)
    return json.dumps({"records": docs}).encode()

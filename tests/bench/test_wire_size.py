"""Bytes-per-record figures: the frames measured are real, decodable batches."""

from __future__ import annotations

import base64
import json

from bench.wire_size import measure, naive_envelope
from shared.keys import verify
from tests.hub.helpers import Chain


def test_naive_envelope_carries_every_field_and_a_checkable_signature():
    chain = Chain.seeded(1)
    records = chain.harvests(3)

    doc = json.loads(naive_envelope(records))

    assert [d["seq"] for d in doc["records"]] == [1, 2, 3]
    first = doc["records"][0]
    assert set(first) == {"v", "type", "device", "seq", "prev", "time", "body"} | {
        "id",
        "signature",
    }
    assert verify(
        chain.key.public_raw, base64.b64decode(first["signature"]), records[0].raw
    )


def test_bigger_batches_cost_fewer_bytes_per_record():
    chain = Chain.seeded(1)
    chain.harvests(200)

    sizes = measure(chain.device, chain.records, sizes=(1, 10, 200))

    assert [s.batch for s in sizes] == [1, 10, 200]
    assert sizes[0].ctb1_zlib > sizes[1].ctb1_zlib > sizes[2].ctb1_zlib
    # Eliding prev makes a raw record after the first 64 bytes shorter.
    assert sizes[2].ctb1_raw < sizes[0].ctb1_raw - 50
    assert all(s.ctb1_zlib < s.json_gzip for s in sizes)

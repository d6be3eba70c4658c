import zlib

import pytest

from shared.errors import MalformedBatch
from shared.keys import DeviceKey, verify
from shared.record import GENESIS, sign_record
from shared.wire import Segment, decode_batch, encode_batch

KEY = DeviceKey.from_seed(b"\x07" * 32)


def chain(n: int):
    prev, out = GENESIS, []
    for seq in range(1, n + 1):
        body = {"id": f"H-{seq}", "farmer": "CI-SOU-0001", "plot": "CI-SOU-0001-P1",
                "mass_g": 1000 + seq, "harvested_on": "2026-11-02"}
        rec = sign_record(KEY, "harvest", seq, prev, body, "2026-11-02T08:00:00Z")
        out.append(rec)
        prev = rec.id
    return out


def test_batch_round_trip_restores_exact_signed_bytes():
    records = chain(60)

    decoded = decode_batch(encode_batch([Segment(KEY.device_id, 1, records)]))

    assert decoded[0].records == records
    assert all(verify(KEY.public_raw, r.signature, r.raw) for r in decoded[0].records)


def test_elision_shrinks_the_wire():
    records = chain(60)
    frame = encode_batch([Segment(KEY.device_id, 1, records)])

    inflated = zlib.decompress(frame)

    assert inflated.count(b'"prev":""') == 59
    assert len(frame) / len(records) < 160


def test_broken_chain_is_sent_in_full_not_elided():
    records = chain(3)
    odd = sign_record(KEY, "harvest", 4, "b" * 64, {"id": "H-x", "farmer": "F", "plot": "P",
                      "mass_g": 1, "harvested_on": "2026-11-02"})

    decoded = decode_batch(encode_batch([Segment(KEY.device_id, 1, records + [odd])]))

    assert decoded[0].records[-1].raw == odd.raw


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not zlib", "not zlib"),
        (zlib.compress(b"XXXX\x00"), "magic"),
        (zlib.compress(b"CTB1\x01\x05ab"), "runs past the end"),
        (zlib.compress(b"CTB1\x00junk"), "stray bytes"),
        (zlib.compress(b"CTB1\x00")[:-3], "truncated"),
    ],
)
def test_bad_frames_say_what_is_wrong(data, message):
    with pytest.raises(MalformedBatch, match=message):
        decode_batch(data)

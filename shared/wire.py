"""The sync batch frame: segments of consecutive records, zlib-compressed.

See docs/record-format.md, "On the wire". The receiver restores an elided `prev`
byte for byte; it never re-serialises a record.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from shared.errors import MalformedBatch
from shared.record import SignedRecord, record_id

MAGIC = b"CTB1"
SIG_LEN = 64
PREV_KEY = b',"prev":"'
ELIDED = PREV_KEY + b'"'
MAX_BATCH_BYTES = 32 * 1024 * 1024  # decompressed; a zip bomb stops here
MEDIA_TYPE = "application/vnd.cocoa-trace.batch"


@dataclass(frozen=True, slots=True)
class Segment:
    """Consecutive records of one device, starting at `first_seq`."""

    device: str
    first_seq: int
    records: list[SignedRecord]


def encode_batch(segments: list[Segment], *, level: int = 9) -> bytes:
    out = bytearray(MAGIC)
    _put_varint(out, len(segments))
    for seg in segments:
        name = seg.device.encode()
        _put_varint(out, len(name))
        out += name
        _put_varint(out, seg.first_seq)
        _put_varint(out, len(seg.records))
        before = None
        for rec in seg.records:
            sent = _elide(rec.raw, before)
            _put_varint(out, len(sent))
            out += sent
            out += rec.signature
            before = rec.id

    return zlib.compress(bytes(out), level)


def decode_batch(data: bytes) -> list[Segment]:
    try:
        raw = _inflate(data)
    except zlib.error as exc:
        raise MalformedBatch(f"batch is not zlib data: {exc}") from None

    if not raw.startswith(MAGIC):
        raise MalformedBatch("batch does not start with the CTB1 magic")

    reader = _Reader(raw, len(MAGIC))
    segments = [_read_segment(reader, i) for i in range(reader.varint())]
    if reader.pos != len(raw):
        raise MalformedBatch(f"{len(raw) - reader.pos} stray bytes after the last segment")

    return segments


def _read_segment(reader: _Reader, index: int) -> Segment:
    where = f"segment {index}"
    device = reader.take(reader.varint(), where).decode("utf-8", "replace")
    first_seq = reader.varint()
    count = reader.varint()
    records = []
    before = None
    for n in range(count):
        sent = reader.take(reader.varint(), f"{where} record {n}")
        sig = reader.take(SIG_LEN, f"{where} record {n} signature")
        rec = SignedRecord(_restore(sent, before), sig)
        records.append(rec)
        before = rec.id

    return Segment(device, first_seq, records)


def _elide(raw: bytes, before: str | None) -> bytes:
    if before is None:
        return raw

    at = raw.rfind(PREV_KEY)
    start = at + len(PREV_KEY)
    if at < 0 or raw[start : start + 64] != before.encode():
        return raw

    return raw[:start] + raw[start + 64 :]


def _restore(sent: bytes, before: str | None) -> bytes:
    at = sent.rfind(ELIDED)
    if at < 0 or before is None:
        return sent

    start = at + len(PREV_KEY)
    return sent[:start] + before.encode() + sent[start:]


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    raw = inflater.decompress(data, MAX_BATCH_BYTES)
    if inflater.unconsumed_tail:
        raise MalformedBatch(f"batch inflates past {MAX_BATCH_BYTES} bytes")
    if not inflater.eof:
        raise MalformedBatch("batch is truncated: the zlib stream does not end")

    return raw


def _put_varint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


class _Reader:
    def __init__(self, data: bytes, pos: int):
        self.data = data
        self.pos = pos

    def varint(self) -> int:
        shift = value = 0
        while True:
            if self.pos >= len(self.data) or shift > 35:
                raise MalformedBatch(f"bad varint at byte {self.pos}")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    def take(self, n: int, where: str) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise MalformedBatch(f"{where} runs past the end of the batch")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk


__all__ = ["Segment", "encode_batch", "decode_batch", "record_id", "MEDIA_TYPE"]
